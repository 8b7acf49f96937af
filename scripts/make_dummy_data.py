"""Write fake Omniglot archives for the builder tests into cluttered_omniglot/dummy_data/.

Usage: python scripts/make_dummy_data.py [--output_dir DIR]

The archives `images_background.zip` and `images_evaluation.zip` have the official layout and
every alphabet and character folder name of the label files, so the builder accepts them. Each
drawing is synthetic: a blocky polyline drawn from a fixed seed (one shape per character, shifted
per drawer), saved as a 105x105 1-bit PNG with black strokes on white. Re-running the script with
the same Pillow and zlib versions writes identical bytes, because the drawings come from a seeded
`random.Random`, and every zip entry has a fixed timestamp and fixed attributes.

Most of each archive is zip bookkeeping: the full layout needs 32,460 drawing entries, and each
costs about 190 bytes of headers (its path is stored twice) on top of a PNG of about 100 bytes.
"""

import argparse
import io
import pathlib
import random
import zipfile

from PIL import Image
from PIL import ImageDraw

REPO_DIR = pathlib.Path(__file__).resolve().parent.parent
PACKAGE_DIR = REPO_DIR / "cluttered_omniglot"
DEFAULT_OUTPUT_DIR = PACKAGE_DIR / "dummy_data"

SEED = 20180710
DRAWING_SIZE = 105
DRAWERS_PER_CHARACTER = 20
# Archive stem and its number of alphabets, in label-file order: background alphabets come first.
ARCHIVES = (("images_background", 30), ("images_evaluation", 20))

# Fixed zip metadata, so the archive bytes do not depend on the clock or the umask.
ZIP_TIMESTAMP = (2018, 7, 10, 0, 0, 0)
UNIX_SYSTEM = 3
FILE_ATTRIBUTES = 0o100644 << 16
DIRECTORY_ATTRIBUTES = (0o040755 << 16) | 0x10  # 0x10 is the MS-DOS directory flag.

# Strokes stay inside [MARGIN, DRAWING_SIZE - MARGIN], so augmentation seldom pushes a drawing out
# of its 105x105 frame.
MARGIN = 30
SEGMENTS = 3
STROKE_WIDTH = 3
DRAWER_JITTER = 4


def read_names(path):
    return [line for line in path.read_text().splitlines() if line]


def character_shape(rng):
    """Return the corner points of a character's polyline: alternating horizontal and vertical segments.

    Axis-aligned segments repeat whole PNG rows, which deflate stores in a few bytes.
    """
    x = rng.randint(MARGIN, DRAWING_SIZE - MARGIN)
    y = rng.randint(MARGIN, DRAWING_SIZE - MARGIN)
    points = [(x, y)]
    for segment in range(SEGMENTS):
        if segment % 2 == 0:
            x = rng.randint(MARGIN, DRAWING_SIZE - MARGIN)
        else:
            y = rng.randint(MARGIN, DRAWING_SIZE - MARGIN)
        points.append((x, y))
    return points


def drawer_png(shape, rng):
    """Encode one drawer's version of a character: the shape shifted by a small random offset."""
    dx = rng.randint(-DRAWER_JITTER, DRAWER_JITTER)
    dy = rng.randint(-DRAWER_JITTER, DRAWER_JITTER)
    image = Image.new("1", (DRAWING_SIZE, DRAWING_SIZE), 1)
    ImageDraw.Draw(image).line([(x + dx, y + dy) for x, y in shape], fill=0, width=STROKE_WIDTH)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def zip_entry(name, is_directory):
    info = zipfile.ZipInfo(name, date_time=ZIP_TIMESTAMP)
    info.create_system = UNIX_SYSTEM
    info.external_attr = DIRECTORY_ATTRIBUTES if is_directory else FILE_ATTRIBUTES
    info.compress_type = zipfile.ZIP_STORED if is_directory else zipfile.ZIP_DEFLATED
    return info


def write_archive(path, stem, alphabets, characters, first_character_id, rng):
    """Write one archive with directory entries and 20 drawings per character, in sorted order.

    `characters` are `alphabet/characterNN` names. The drawing file name is `<id>_<drawer>.png`, as in
    the official archives, with a 4-digit id that numbers the 1,623 characters from 1.
    """
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(zip_entry(f"{stem}/", True), b"")
        for alphabet in alphabets:
            archive.writestr(zip_entry(f"{stem}/{alphabet}/", True), b"")
            for offset, character in enumerate(characters):
                if not character.startswith(f"{alphabet}/"):
                    continue
                folder = f"{stem}/{character}"
                archive.writestr(zip_entry(f"{folder}/", True), b"")
                shape = character_shape(rng)
                character_id = first_character_id + offset
                for drawer in range(1, DRAWERS_PER_CHARACTER + 1):
                    name = f"{folder}/{character_id:04d}_{drawer:02d}.png"
                    archive.writestr(zip_entry(name, False), drawer_png(shape, rng), compresslevel=9)


def check_archive(path):
    """Read an archive back with the builder's reader and label check, and raise if it fails."""
    # Imported here so that writing the archives does not need TensorFlow Datasets installed.
    from cluttered_omniglot import omniglot_source  # pylint: disable=import-outside-toplevel

    omniglot_source.load_checked_archive(str(path))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--output_dir", type=pathlib.Path, default=DEFAULT_OUTPUT_DIR,
        help=f"folder that receives the two archives (default: {DEFAULT_OUTPUT_DIR})",
    )
    parser.add_argument(
        "--skip_check", action="store_true",
        help="do not read the archives back with the builder's reader (which imports TFDS)",
    )
    args = parser.parse_args()

    alphabet_names = read_names(PACKAGE_DIR / "alphabet_names.txt")
    character_names = read_names(PACKAGE_DIR / "character_names.txt")
    args.output_dir.mkdir(parents=True, exist_ok=True)

    rng = random.Random(SEED)
    first_alphabet = 0
    for stem, alphabet_count in ARCHIVES:
        alphabets = alphabet_names[first_alphabet:first_alphabet + alphabet_count]
        first_alphabet += alphabet_count
        first_character = next(
            i for i, name in enumerate(character_names) if name.startswith(f"{alphabets[0]}/")
        )
        characters = [name for name in character_names if name.split("/")[0] in alphabets]
        path = args.output_dir / f"{stem}.zip"
        write_archive(path, stem, alphabets, characters, first_character + 1, rng)
        if not args.skip_check:
            check_archive(path)
        print(f"wrote {path}: {len(alphabets)} alphabets, {len(characters)} characters, "
              f"{path.stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
