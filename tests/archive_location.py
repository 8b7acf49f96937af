"""Locate the real Omniglot archives that the rendering and build tests read."""

import os
import pathlib

import pytest

MANUAL_DIR_VARIABLE = "CLUTTERED_OMNIGLOT_MANUAL_DIR"
ARCHIVE_FILES = ("images_background.zip", "images_evaluation.zip")


def manual_dir_or_skip():
    """Return the folder named by $CLUTTERED_OMNIGLOT_MANUAL_DIR, or skip unless it contains both archives."""
    manual_dir = os.environ.get(MANUAL_DIR_VARIABLE)
    if not manual_dir:
        pytest.skip(
            f"{MANUAL_DIR_VARIABLE} is not set. Set it to the folder that contains "
            f"{' and '.join(ARCHIVE_FILES)} to run the tests that read the real archives."
        )
    folder = pathlib.Path(manual_dir)
    missing = [name for name in ARCHIVE_FILES if not (folder / name).is_file()]
    if missing:
        pytest.skip(f"{MANUAL_DIR_VARIABLE}={manual_dir} does not contain {', '.join(missing)}.")
    return folder
