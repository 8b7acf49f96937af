"""Read the two Omniglot archives into bit-packed stroke bitmaps.

Both archives use the layout `<set>/<alphabet>/characterNN/<id>_<drawer>.png`, with 20 drawings of
105x105 1-bit PNG (black strokes on white paper) per character. Alphabets, characters and drawings are
ordered by name (plain code-point order, as Python's `sorted`), because the generator addresses
characters by their position in that order.
"""

import dataclasses
import io
import re
import zipfile

import numpy as np
from PIL import Image

DRAWING_SIZE = 105
DRAWERS_PER_CHARACTER = 20

# Names, alphabet counts and character counts of the two official archives.
ARCHIVE_CONTENTS = {
    "images_background": {"alphabets": 30, "characters": 964},
    "images_evaluation": {"alphabets": 20, "characters": 659},
}

_CHARACTER_FOLDER = re.compile(r"character\d\d")
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
        archive (a missing or extra file, a drawing of the wrong size or mode).
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
        return _read_drawings(archive, str(path))


def _read_drawings(archive, source):
    drawing_files = {}
    set_names = set()
    for entry in archive.infolist():
        if entry.is_dir():
            continue
        parts = entry.filename.split("/")
        if len(parts) != 4:
            raise OmniglotFormatError(
                f"{source}: unexpected entry {entry.filename!r}; the official archive holds only "
                "<set>/<alphabet>/characterNN/<id>_<drawer>.png files. Use the unmodified archive."
            )
        set_name, alphabet, character, file_name = parts
        if not _CHARACTER_FOLDER.fullmatch(character) or not _DRAWING_FILE.fullmatch(file_name):
            raise OmniglotFormatError(
                f"{source}: unexpected entry {entry.filename!r}; expected "
                "<set>/<alphabet>/characterNN/<id>_<drawer>.png. Use the unmodified archive."
            )
        set_names.add(set_name)
        drawing_files.setdefault((alphabet, character), []).append(entry)

    if len(set_names) != 1 or next(iter(set_names)) not in ARCHIVE_CONTENTS:
        raise OmniglotFormatError(
            f"{source}: top folder is {sorted(set_names)}, expected one of "
            f"{sorted(ARCHIVE_CONTENTS)}. Use images_background.zip or images_evaluation.zip."
        )
    set_name = set_names.pop()
    expected = ARCHIVE_CONTENTS[set_name]

    alphabets = tuple(sorted({alphabet for alphabet, _ in drawing_files}))
    keys = sorted(drawing_files)
    if len(alphabets) != expected["alphabets"] or len(keys) != expected["characters"]:
        raise OmniglotFormatError(
            f"{source}: found {len(alphabets)} alphabets and {len(keys)} characters, expected "
            f"{expected['alphabets']} and {expected['characters']} in {set_name}. The archive is "
            "incomplete or is not the full Omniglot set (the 'small' archives are not supported)."
        )

    alphabet_index = {name: i for i, name in enumerate(alphabets)}
    row_bytes = (DRAWING_SIZE + 7) // 8
    packed = np.zeros((len(keys), DRAWERS_PER_CHARACTER, DRAWING_SIZE, row_bytes), np.uint8)
    for character_index, key in enumerate(keys):
        entries = sorted(drawing_files[key], key=lambda entry: entry.filename)
        drawers = [int(_DRAWING_FILE.fullmatch(e.filename.rsplit("/", 1)[1]).group(1)) for e in entries]
        if drawers != list(range(1, DRAWERS_PER_CHARACTER + 1)):
            raise OmniglotFormatError(
                f"{source}: {'/'.join(key)} has drawers {drawers}, expected 01 to 20 once each. "
                "Use the unmodified archive."
            )
        for drawer, entry in enumerate(entries):
            packed[character_index, drawer] = np.packbits(
                _decode_drawing(archive, entry, source), axis=-1
            )

    characters = tuple((alphabet_index[alphabet], character) for alphabet, character in keys)
    return OmniglotSet(set_name, alphabets, characters, packed)


def _decode_drawing(archive, entry, source):
    try:
        with Image.open(io.BytesIO(archive.read(entry))) as image:
            image.load()
            mode, size = image.mode, image.size
            pixels = np.asarray(image)
    except (OSError, zipfile.BadZipFile) as error:
        raise OmniglotFormatError(
            f"{source}: cannot decode {entry.filename} ({error}). Use the unmodified archive."
        ) from None
    if mode != "1" or size != (DRAWING_SIZE, DRAWING_SIZE):
        raise OmniglotFormatError(
            f"{source}: {entry.filename} is a {size[0]}x{size[1]} image of mode {mode!r}, expected "
            f"a {DRAWING_SIZE}x{DRAWING_SIZE} 1-bit image (mode '1'). Use the unmodified archive."
        )
    # White paper is True in mode '1', so strokes are the False pixels.
    return (~pixels).astype(np.uint8)
