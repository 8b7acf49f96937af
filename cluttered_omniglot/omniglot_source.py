"""Locate, check and load the Omniglot archives for the builder and its Beam workers."""

import functools
import pathlib

from etils import epath

from cluttered_omniglot.core import omniglot_archives
from cluttered_omniglot.core import splits

ARCHIVE_URLS = {
    splits.BACKGROUND: "https://github.com/brendenlake/omniglot/raw/master/python/images_background.zip",
    splits.EVALUATION: "https://github.com/brendenlake/omniglot/raw/master/python/images_evaluation.zip",
}

_PACKAGE_DIR = pathlib.Path(__file__).parent
ALPHABET_NAMES_FILE = _PACKAGE_DIR / "alphabet_names.txt"
CHARACTER_NAMES_FILE = _PACKAGE_DIR / "character_names.txt"


def _read_names(path):
    return tuple(line for line in path.read_text().splitlines() if line)


ALPHABET_NAMES = _read_names(ALPHABET_NAMES_FILE)
CHARACTER_NAMES = _read_names(CHARACTER_NAMES_FILE)


def manual_archive_paths(manual_dir):
    """Return {archive stem: path} when `manual_dir` contains both archives, None when it contains neither.

    Raises:
      FileNotFoundError: the folder contains one archive but not the other.
    """
    if manual_dir is None:
        return None
    manual_dir = epath.Path(manual_dir)
    paths = {stem: manual_dir / f"{stem}.zip" for stem in ARCHIVE_URLS}
    present = {stem for stem, path in paths.items() if path.exists()}
    if not present:
        return None
    if len(present) < len(paths):
        missing = sorted(f"{stem}.zip" for stem in set(paths) - present)
        raise FileNotFoundError(
            f"Missing {', '.join(missing)} in the manual dir {manual_dir}, which contains "
            f"{', '.join(sorted(f'{stem}.zip' for stem in present))}. Put both Omniglot archives there, or remove the one present "
            "to download both."
        )
    return paths


def label_offsets(archive):
    """Return (first alphabet label, first character label) of an archive in the label files."""
    if archive == splits.BACKGROUND:
        return 0, 0
    return 30, 964


def check_against_labels(omniglot_set, path):
    """Raise OmniglotFormatError unless an archive's alphabets and characters match the label files."""
    first_alphabet, first_character = label_offsets(omniglot_set.name)
    expected_alphabets = ALPHABET_NAMES[first_alphabet:first_alphabet + len(omniglot_set.alphabets)]
    expected_characters = CHARACTER_NAMES[first_character:first_character + len(omniglot_set.characters)]
    if omniglot_set.alphabets != expected_alphabets:
        unexpected = sorted(set(omniglot_set.alphabets) - set(expected_alphabets))
        raise omniglot_archives.OmniglotFormatError(
            f"{path}: alphabets {unexpected} are not Omniglot {omniglot_set.name} alphabets. "
            "Use the unmodified official archive."
        )
    if tuple(omniglot_set.character_names()) != expected_characters:
        raise omniglot_archives.OmniglotFormatError(
            f"{path}: the character folders differ from the official {omniglot_set.name} archive. "
            "Use the unmodified official archive."
        )


@functools.lru_cache(maxsize=2)
def load_checked_archive(path):
    """Read an archive, check it against the label files, and keep it cached in this process.

    Beam workers call this once per archive and process: a bit-packed archive takes under 50 MB.
    """
    omniglot_set = omniglot_archives.read_omniglot_archive(epath.Path(path))
    check_against_labels(omniglot_set, path)
    return omniglot_set
