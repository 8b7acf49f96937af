"""Read the two Omniglot archives, zipped or extracted, into bit-packed stroke bitmaps.

Both archives use the layout `<set>/<alphabet>/characterNN/<id>_<drawer>.png`, with 20 drawings of
105x105 1-bit PNG (black strokes on white paper) per character. Alphabets, characters and drawings are
ordered by name (plain code-point order, as Python's `sorted`), because the generator addresses
characters by their position in that order.

Zip archives are read in memory and never extracted, so no entry name can make this module write a
file. Zip archives and extracted folders go through the same checks.
"""

import dataclasses
import io
import re
import typing
import zipfile
import zlib

from etils import epath
import numpy as np
from PIL import Image

DRAWING_SIZE = 105
DRAWERS_PER_CHARACTER = 20

# Names, alphabet counts and character counts of the two official archives.
ARCHIVE_CONTENTS = {
    "images_background": {"alphabets": 30, "characters": 964},
    "images_evaluation": {"alphabets": 20, "characters": 659},
}

# Official drawings are PNG files under 1 KB. The cap rejects a corrupt or hostile entry before it is
# decompressed into memory.
MAX_DRAWING_BYTES = 1 << 20

_CHARACTER_FOLDER = re.compile(r"character\d\d")
# Top folders of the official 'small' archives, such as images_background_small1.zip, which have fewer
# alphabets than the full sets.
_SMALL_SET_FOLDER = re.compile(r"images_(background|evaluation)_small\d+")
_DRAWING_FILE = re.compile(r"\d{4}_(\d\d)\.png")


class OmniglotFormatError(ValueError):
    """An Omniglot archive does not have the official layout or contents."""


@dataclasses.dataclass(frozen=True)
class OmniglotSet:
    """The drawings of one Omniglot archive in generator order.

    Attributes:
      name: archive stem, `images_background` or `images_evaluation`.
      alphabets: alphabet folder names, sorted.
      characters: `(alphabet index, character folder name)` per character, in generator order.
      packed_strokes: uint8 array (characters, 20, 105, 14): each drawing row bit-packed with
        `np.packbits`, big-endian bit order, 1 = stroke.
    """

    name: str
    alphabets: tuple
    characters: tuple
    packed_strokes: np.ndarray

    def character_names(self):
        """Return `alphabet/characterNN` for every character, in generator order."""
        return [f"{self.alphabets[a]}/{c}" for a, c in self.characters]

    def pool_slice(self, first_alphabet, stop_alphabet):
        """Return the slice of characters that belong to alphabets [first_alphabet, stop_alphabet)."""
        indices = [i for i, (alphabet, _) in enumerate(self.characters)
                   if first_alphabet <= alphabet < stop_alphabet]
        return slice(indices[0], indices[-1] + 1)

    def strokes(self, character, drawer):
        """Return the 105x105 uint8 stroke bitmap (1 = stroke) of one drawing."""
        packed = self.packed_strokes[character, drawer]
        return np.unpackbits(packed, axis=-1, count=DRAWING_SIZE)


def read_omniglot_archive(path):
    """Read and check one Omniglot zip archive.

    Args:
      path: a path-like to `images_background.zip` or `images_evaluation.zip`. Anything with an
        `open('rb')` method (such as `epath.Path`, which also reads cloud storage) or a string works.

    Returns:
      An `OmniglotSet`.

    Raises:
      OmniglotFormatError: the file is not a zip archive, or its contents differ from the official
        archive (a missing or extra file, an entry name with `..` or an absolute path, a drawing of
        the wrong size or mode).
    """
    opener = path.open if hasattr(path, "open") else None
    try:
        if opener is not None:
            with opener("rb") as stream:
                data = stream.read()
        else:
            with open(path, "rb") as stream:
                data = stream.read()
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as error:
        raise OmniglotFormatError(
            f"{path} is not a readable zip archive ({error}). The file is truncated or corrupt: "
            "delete it and download it again."
        ) from None
    with archive:
        entries = [
            _Entry(info.filename, info.file_size, lambda info=info: archive.read(info))
            for info in archive.infolist()
            if not info.is_dir()
        ]
        return _read_drawings(entries, str(path))


def read_omniglot_folder(path):
    """Read and check one extracted Omniglot archive, a folder such as `DIR/images_background`.

    The folder must contain what the zip archive contains under its top folder:
    `<alphabet>/characterNN/<id>_<drawer>.png`. Hidden files and folders (names starting with a dot,
    such as `.DS_Store`) are skipped, because file managers create them. Symbolic links are followed.

    Args:
      path: a path-like to the folder; its name must be `images_background` or `images_evaluation`.
        `epath.Path` also reads cloud storage.

    Returns:
      An `OmniglotSet`.

    Raises:
      OmniglotFormatError: the folder's contents differ from the official archive, with the same
        checks as `read_omniglot_archive`.
    """
    folder = epath.Path(path)
    if not folder.is_dir():
        raise OmniglotFormatError(
            f"{folder} is not a folder. Pass the extracted images_background or images_evaluation "
            "folder, or use read_omniglot_archive for the zip archive."
        )
    entries = []
    for alphabet in _visible_children(folder):
        if not alphabet.is_dir():
            entries.append(_file_entry(folder, alphabet))
            continue
        for character in _visible_children(alphabet):
            if not character.is_dir():
                entries.append(_file_entry(folder, character))
                continue
            for drawing in _visible_children(character):
                # A folder at drawing depth becomes an entry that the layout check rejects.
                entries.append(_file_entry(folder, drawing))
    return _read_drawings(entries, str(folder))


@dataclasses.dataclass(frozen=True)
class _Entry:
    """A file of an archive or folder: `/`-separated name that starts with the set folder, size in
    bytes, and a function that returns its contents."""

    name: str
    size: int
    read: typing.Callable[[], bytes]


def _visible_children(folder):
    return sorted(
        (child for child in folder.iterdir() if not child.name.startswith(".")),
        key=lambda child: child.name,
    )


def _file_entry(folder, path):
    name = "/".join((folder.name, *path.relative_to(folder).parts))
    if path.is_dir():
        # Directories are never drawings. A trailing slash keeps the name visible in the error.
        return _Entry(name + "/", 0, bytes)
    return _Entry(name, path.stat().length, path.read_bytes)


def _check_entry_name(name, source):
    parts = name.split("/")
    unsafe = (
        name.startswith("/")
        or "\\" in name
        or re.match(r"[A-Za-z]:", name) is not None
        or any(part in ("", ".", "..") for part in parts[:-1])
        or parts[-1] in (".", "..")
    )
    if unsafe:
        raise OmniglotFormatError(
            f"{source}: entry {name!r} is an absolute path or leaves the archive's top folder (an "
            "empty, '.' or '..' component, a backslash or a drive letter); the official archive "
            "has none. Use the unmodified official archive."
        )


def _read_drawings(entries, source):
    drawing_files = {}
    set_names = set()
    for entry in entries:
        _check_entry_name(entry.name, source)
        parts = entry.name.split("/")
        if len(parts) != 4:
            raise OmniglotFormatError(
                f"{source}: unexpected entry {entry.name!r}; the official archive contains only "
                "<set>/<alphabet>/characterNN/<id>_<drawer>.png files. Remove the entry or use the "
                "unmodified archive."
            )
        set_name, alphabet, character, file_name = parts
        if not _CHARACTER_FOLDER.fullmatch(character) or not _DRAWING_FILE.fullmatch(file_name):
            raise OmniglotFormatError(
                f"{source}: unexpected entry {entry.name!r}; expected "
                "<set>/<alphabet>/characterNN/<id>_<drawer>.png. Remove the entry or use the "
                "unmodified archive."
            )
        set_names.add(set_name)
        drawing_files.setdefault((alphabet, character), []).append(entry)

    set_name = _check_set_name(set_names, source)
    expected = ARCHIVE_CONTENTS[set_name]

    alphabets = tuple(sorted({alphabet for alphabet, _ in drawing_files}))
    keys = sorted(drawing_files)
    if len(alphabets) != expected["alphabets"] or len(keys) != expected["characters"]:
        raise OmniglotFormatError(
            f"{source}: found {len(alphabets)} alphabets and {len(keys)} characters, expected "
            f"{expected['alphabets']} and {expected['characters']} in {set_name}. The archive is "
            "incomplete or is not the full Omniglot set (the 'small' archives are not supported): "
            f"use the official {set_name}.zip."
        )

    alphabet_index = {name: i for i, name in enumerate(alphabets)}
    row_bytes = (DRAWING_SIZE + 7) // 8
    packed = np.zeros((len(keys), DRAWERS_PER_CHARACTER, DRAWING_SIZE, row_bytes), np.uint8)
    for character_index, key in enumerate(keys):
        files = sorted(drawing_files[key], key=lambda entry: entry.name)
        drawers = [int(_DRAWING_FILE.fullmatch(e.name.rsplit("/", 1)[1]).group(1)) for e in files]
        if drawers != list(range(1, DRAWERS_PER_CHARACTER + 1)):
            raise OmniglotFormatError(
                f"{source}: {'/'.join(key)} has drawers {drawers}, expected 01 to 20 once each. "
                "Use the unmodified archive."
            )
        for drawer, entry in enumerate(files):
            packed[character_index, drawer] = np.packbits(_decode_drawing(entry, source), axis=-1)

    characters = tuple((alphabet_index[alphabet], character) for alphabet, character in keys)
    return OmniglotSet(set_name, alphabets, characters, packed)


def _check_set_name(set_names, source):
    if len(set_names) == 1 and next(iter(set_names)) in ARCHIVE_CONTENTS:
        return next(iter(set_names))
    found = sorted(set_names)
    if any(_SMALL_SET_FOLDER.fullmatch(name) for name in found):
        raise OmniglotFormatError(
            f"{source} is a 'small' Omniglot archive (top folder {found}) with fewer alphabets. "
            "Only the full sets are supported: use the official "
            f"{' or '.join(f'{name}.zip' for name in ARCHIVE_CONTENTS)}."
        )
    raise OmniglotFormatError(
        f"{source}: top folder is {found}, expected one of {sorted(ARCHIVE_CONTENTS)}. Use the "
        f"official {' or '.join(f'{name}.zip' for name in ARCHIVE_CONTENTS)}."
    )


def _decode_drawing(entry, source):
    if entry.size > MAX_DRAWING_BYTES:
        raise OmniglotFormatError(
            f"{source}: {entry.name} has {entry.size} bytes, more than the {MAX_DRAWING_BYTES} "
            "bytes of any Omniglot drawing. Use the unmodified archive."
        )
    try:
        with Image.open(io.BytesIO(entry.read())) as image:
            # Check the header before decoding, so a huge image is never decoded.
            mode, size = image.mode, image.size
            if mode != "1" or size != (DRAWING_SIZE, DRAWING_SIZE):
                raise OmniglotFormatError(
                    f"{source}: {entry.name} is a {size[0]}x{size[1]} image of mode {mode!r}, "
                    f"expected a {DRAWING_SIZE}x{DRAWING_SIZE} 1-bit image (mode '1'). Use the "
                    "unmodified archive."
                )
            image.load()
            pixels = np.asarray(image)
    # Pillow raises SyntaxError for some malformed PNG chunks, and zipfile raises zlib.error or
    # BadZipFile for corrupt compressed data.
    except (OSError, EOFError, SyntaxError, zlib.error, zipfile.BadZipFile,
            Image.DecompressionBombError) as error:
        raise OmniglotFormatError(
            f"{source}: cannot decode {entry.name} ({error}). Use the unmodified archive."
        ) from None
    # White paper is True in mode '1', so strokes are the False pixels.
    return (~pixels).astype(np.uint8)
