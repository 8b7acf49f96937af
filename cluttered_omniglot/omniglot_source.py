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

    Each archive is either the zip file (`images_background.zip`) or the folder it extracts to
    (`images_background/`, containing the alphabet folders). The zip file is used when both are
    present.

    Raises:
      FileNotFoundError: the folder contains one archive but not the other.
    """
    if manual_dir is None:
        return None
    manual_dir = epath.Path(manual_dir)
    paths = {}
    for stem in ARCHIVE_URLS:
        zip_path = manual_dir / f"{stem}.zip"
        folder = manual_dir / stem
        if zip_path.exists():
            paths[stem] = zip_path
        elif folder.is_dir():
            paths[stem] = folder
    if not paths:
        return None
    if len(paths) < len(ARCHIVE_URLS):
        present = ", ".join(path.name for path in paths.values())
        missing = " or ".join(
            f"{stem}.zip (or the extracted folder {stem}/)" for stem in ARCHIVE_URLS if stem not in paths
        )
        raise FileNotFoundError(
            f"Missing {missing} in the manual dir {manual_dir}, which contains {present}. Put both "
            "Omniglot archives there. (A TFDS build with a manual dir that contains neither downloads both.)"
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


def check_archive_name(omniglot_set, path):
    """Raise OmniglotFormatError if a file named like one archive contains the other one.

    Only names equal to an archive stem are checked: TFDS stores downloads under other names, and
    their checksums already identify them.
    """
    name = epath.Path(path).name
    stem = name[:-len(".zip")] if name.endswith(".zip") else name
    if stem in ARCHIVE_URLS and stem != omniglot_set.name:
        raise omniglot_archives.OmniglotFormatError(
            f"{path} contains the {omniglot_set.name} set, not {stem}. The two archives were "
            f"swapped or renamed: name each one after its top folder ({', '.join(ARCHIVE_URLS)})."
        )


@functools.lru_cache(maxsize=2)
def load_checked_archive(path):
    """Read an archive (zip file or extracted folder), check it, and keep it cached in this process.

    Beam workers call this once per archive and process: a bit-packed archive takes under 50 MB.
    """
    archive_path = epath.Path(path)
    if archive_path.is_dir():
        omniglot_set = omniglot_archives.read_omniglot_folder(archive_path)
    else:
        omniglot_set = omniglot_archives.read_omniglot_archive(archive_path)
    check_archive_name(omniglot_set, path)
    check_against_labels(omniglot_set, path)
    return omniglot_set
