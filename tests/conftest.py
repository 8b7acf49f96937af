"""Shared fixtures: the Omniglot archives, read once per test session, and the pool of each split.

The archives are not part of the repository. Point the environment variable
CLUTTERED_OMNIGLOT_MANUAL_DIR at a folder holding `images_background.zip` and
`images_evaluation.zip` (the TFDS manual dir); tests that need them are skipped otherwise.
"""


import pytest

from cluttered_omniglot.core import omniglot_archives
from cluttered_omniglot.core import splits
from tests import archive_location

ARCHIVE_NAMES = (splits.BACKGROUND, splits.EVALUATION)


@pytest.fixture(scope="session")
def omniglot_sets():
    """Return {archive name: `OmniglotSet`} for both archives, or skip if they are not available."""
    folder = archive_location.manual_dir_or_skip()
    paths = {name: folder / f"{name}.zip" for name in ARCHIVE_NAMES}
    return {name: omniglot_archives.read_omniglot_archive(path) for name, path in paths.items()}


@pytest.fixture(scope="session")
def pool_strokes(omniglot_sets):
    """Return {split name: packed strokes (characters, 20, 105, 14) of the split's character pool}."""
    pools = {}
    for spec in splits.SPLITS:
        omniglot_set = omniglot_sets[spec.pool.archive]
        characters = omniglot_set.pool_slice(spec.pool.first_alphabet, spec.pool.stop_alphabet)
        pools[spec.name] = omniglot_set.packed_strokes[characters]
    return pools
