"""Write the class label files of the builder from the two Omniglot archives.

Usage: python scripts/write_label_files.py DIR_WITH_ARCHIVES

Writes cluttered_omniglot/alphabet_names.txt (50 alphabets) and
cluttered_omniglot/character_names.txt (1623 `alphabet/characterNN` names): background alphabets
first, then evaluation alphabets, each in sorted order. The builder checks every archive it reads
against these files.
"""

import pathlib
import sys

from cluttered_omniglot.core import omniglot_archives

PACKAGE_DIR = pathlib.Path(__file__).resolve().parent.parent / "cluttered_omniglot"


def main(archive_dir):
    alphabets, characters = [], []
    for name in ("images_background", "images_evaluation"):
        omniglot_set = omniglot_archives.read_omniglot_archive(pathlib.Path(archive_dir) / f"{name}.zip")
        alphabets.extend(omniglot_set.alphabets)
        characters.extend(omniglot_set.character_names())
    (PACKAGE_DIR / "alphabet_names.txt").write_text("\n".join(alphabets) + "\n")
    (PACKAGE_DIR / "character_names.txt").write_text("\n".join(characters) + "\n")
    print(f"wrote {len(alphabets)} alphabets and {len(characters)} characters to {PACKAGE_DIR}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
