"""Bad inputs: each case builds with a broken archive, manual dir, download or config.

Every case checks the error type, that the message names the problem and the fix, and that the failed
build left no dataset behind: no `cluttered_omniglot/<config>/<version>` folder, no record files and
no TFDS temporary folder. The broken archives are rewritten from the real ones with `zipfile`. The
broken extracted folders link to an extracted copy of the real archives and copy only the character
they alter.
"""

import dataclasses
import io
import pathlib
import shutil
import subprocess
import typing
import unittest.mock
import zipfile

import numpy as np
from PIL import Image
import pytest
import tensorflow_datasets as tfds
from tensorflow_datasets.core.download import checksums as tfds_checksums
from tensorflow_datasets.core.download import download_manager as tfds_download_manager
from tensorflow_datasets.core.download import downloader as tfds_downloader

import cluttered_omniglot
from cluttered_omniglot import omniglot_source
from cluttered_omniglot.core import omniglot_archives
from cluttered_omniglot.core import splits
from tests import robustness_helpers as helpers

BACKGROUND = splits.BACKGROUND
EVALUATION = splits.EVALUATION
# The first character of the first background alphabet in sorted order, and its first drawing.
FIRST_ALPHABET = "Alphabet_of_the_Magi"
FIRST_CHARACTER = f"{BACKGROUND}/{FIRST_ALPHABET}/character01"
FIRST_DRAWING = f"{FIRST_CHARACTER}/0709_01.png"
EVIL_NAME = "evil.png"


@pytest.fixture(scope="module")
def archive_entries():
    """Return {archive stem: [(entry name, bytes)]} of the real archives, directories left out."""
    manual_dir = helpers.manual_dir_or_skip()
    entries = {}
    for stem in helpers.ARCHIVE_NAMES:
        with zipfile.ZipFile(manual_dir / f"{stem}.zip") as archive:
            entries[stem] = [
                (info.filename, archive.read(info)) for info in archive.infolist() if not info.is_dir()
            ]
    return entries


@pytest.fixture(scope="module")
def extracted_archives(tmp_path_factory):
    """Return a folder that contains `images_background/` and `images_evaluation/` extracted from the
    real archives. Extracting the official archives is safe because all their names are relative."""
    manual_dir = helpers.manual_dir_or_skip()
    root = tmp_path_factory.mktemp("extracted")
    for stem in helpers.ARCHIVE_NAMES:
        with zipfile.ZipFile(manual_dir / f"{stem}.zip") as archive:
            archive.extractall(root)
    return root


def write_zip(path, entries):
    # Stored (uncompressed) entries keep the rewrite fast, and the reader accepts any compression.
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        for name, data in entries:
            archive.writestr(name, data)


def png_bytes(mode, size):
    image = Image.new(mode, size, 1 if mode == "1" else 255)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def replace_entry(entries, name, data):
    assert any(entry_name == name for entry_name, _ in entries), name
    return [(entry_name, data if entry_name == name else old) for entry_name, old in entries]


def first_alphabets(entries, set_folder, count):
    """Return the entries of the first `count` alphabets, moved under the top folder `set_folder`."""
    alphabets = sorted({name.split("/")[1] for name, _ in entries})[:count]
    alphabet_entries = []
    for name, data in entries:
        parts = name.split("/")
        if parts[1] in alphabets:
            alphabet_entries.append(("/".join([set_folder] + parts[1:]), data))
    return alphabet_entries


def zip_manual_dir(manual_dir, entries, background=None, evaluation=None, raw_background=None):
    """Write both archives into `manual_dir`, replacing one of them with altered entries or bytes."""
    manual_dir.mkdir(parents=True, exist_ok=True)
    if raw_background is not None:
        (manual_dir / f"{BACKGROUND}.zip").write_bytes(raw_background)
    else:
        write_zip(manual_dir / f"{BACKGROUND}.zip", background if background is not None else entries[BACKGROUND])
    write_zip(manual_dir / f"{EVALUATION}.zip", evaluation if evaluation is not None else entries[EVALUATION])


def linked_extracted_dir(manual_dir, extracted_root):
    """Put both archives as extracted folders into `manual_dir`, and return the editable first character.

    Every alphabet and character is a symbolic link into `extracted_root`, except the first character
    of the first background alphabet, which is a real copy that a case may alter.
    """
    manual_dir.mkdir(parents=True, exist_ok=True)
    (manual_dir / EVALUATION).symlink_to(extracted_root / EVALUATION)
    background = manual_dir / BACKGROUND
    background.mkdir()
    for alphabet in sorted((extracted_root / BACKGROUND).iterdir()):
        if alphabet.name != FIRST_ALPHABET:
            (background / alphabet.name).symlink_to(alphabet)
            continue
        (background / alphabet.name).mkdir()
        for character in sorted(alphabet.iterdir()):
            target = background / alphabet.name / character.name
            if character.name == "character01":
                shutil.copytree(character, target)
            else:
                target.symlink_to(character)
    return background / FIRST_ALPHABET / "character01"


# Every preparation takes (manual dir, real archive entries, extracted folder root, test tmp dir).
@dataclasses.dataclass(frozen=True)
class BadInputCase:
    """A bad manual dir: how to make it, and the error and message fragments it must produce."""

    id: str
    prepare: typing.Callable
    error: type
    problem: tuple
    fix: str


def _truncated(manual_dir, entries, extracted, tmp_path):
    real = (helpers.manual_dir_or_skip() / f"{BACKGROUND}.zip").read_bytes()
    zip_manual_dir(manual_dir, entries, raw_background=real[: len(real) // 2])


def _small_archive_own_top_folder(manual_dir, entries, extracted, tmp_path):
    # The official images_background_small1.zip has the top folder images_background_small1.
    small = first_alphabets(entries[BACKGROUND], "images_background_small1", 5)
    zip_manual_dir(manual_dir, entries, background=small)


def _small_archive_full_top_folder(manual_dir, entries, extracted, tmp_path):
    zip_manual_dir(manual_dir, entries, background=first_alphabets(entries[BACKGROUND], BACKGROUND, 5))


def _background_only(manual_dir, entries, extracted, tmp_path):
    manual_dir.mkdir(parents=True)
    write_zip(manual_dir / f"{BACKGROUND}.zip", entries[BACKGROUND])


def _extracted_evaluation_only(manual_dir, entries, extracted, tmp_path):
    manual_dir.mkdir(parents=True)
    (manual_dir / EVALUATION).symlink_to(extracted / EVALUATION)


def _swapped(manual_dir, entries, extracted, tmp_path):
    zip_manual_dir(manual_dir, entries, background=entries[EVALUATION], evaluation=entries[BACKGROUND])


def _zip_character_missing(manual_dir, entries, extracted, tmp_path):
    remaining = [(n, d) for n, d in entries[BACKGROUND] if not n.startswith(FIRST_CHARACTER + "/")]
    zip_manual_dir(manual_dir, entries, background=remaining)


def _zip_drawing_missing(manual_dir, entries, extracted, tmp_path):
    remaining = [(n, d) for n, d in entries[BACKGROUND] if n != FIRST_DRAWING]
    zip_manual_dir(manual_dir, entries, background=remaining)


def _zip_extra_file(manual_dir, entries, extracted, tmp_path):
    extra = entries[BACKGROUND] + [(f"{FIRST_CHARACTER}/notes.txt", b"not a drawing")]
    zip_manual_dir(manual_dir, entries, background=extra)


def _zip_extra_drawing(manual_dir, entries, extracted, tmp_path):
    drawing = dict(entries[BACKGROUND])[FIRST_DRAWING]
    extra = entries[BACKGROUND] + [(f"{FIRST_CHARACTER}/0709_21.png", drawing)]
    zip_manual_dir(manual_dir, entries, background=extra)


def _zip_wrong_size(manual_dir, entries, extracted, tmp_path):
    altered = replace_entry(entries[BACKGROUND], FIRST_DRAWING, png_bytes("1", (104, 105)))
    zip_manual_dir(manual_dir, entries, background=altered)


def _zip_wrong_mode(manual_dir, entries, extracted, tmp_path):
    altered = replace_entry(entries[BACKGROUND], FIRST_DRAWING, png_bytes("L", (105, 105)))
    zip_manual_dir(manual_dir, entries, background=altered)


def _zip_not_an_image(manual_dir, entries, extracted, tmp_path):
    altered = replace_entry(entries[BACKGROUND], FIRST_DRAWING, b"this is not a PNG file")
    zip_manual_dir(manual_dir, entries, background=altered)


def _zip_oversized_drawing(manual_dir, entries, extracted, tmp_path):
    huge = bytes(omniglot_archives.MAX_DRAWING_BYTES + 1)
    zip_manual_dir(manual_dir, entries, background=replace_entry(entries[BACKGROUND], FIRST_DRAWING, huge))


def _folder_character_missing(manual_dir, entries, extracted, tmp_path):
    shutil.rmtree(linked_extracted_dir(manual_dir, extracted))


def _folder_drawing_missing(manual_dir, entries, extracted, tmp_path):
    (linked_extracted_dir(manual_dir, extracted) / "0709_01.png").unlink()


def _folder_extra_file(manual_dir, entries, extracted, tmp_path):
    (linked_extracted_dir(manual_dir, extracted) / "notes.txt").write_text("not a drawing")


def _folder_wrong_size(manual_dir, entries, extracted, tmp_path):
    (linked_extracted_dir(manual_dir, extracted) / "0709_01.png").write_bytes(png_bytes("1", (104, 105)))


def _folder_wrong_mode(manual_dir, entries, extracted, tmp_path):
    (linked_extracted_dir(manual_dir, extracted) / "0709_01.png").write_bytes(png_bytes("L", (105, 105)))


FORMAT_ERROR = omniglot_archives.OmniglotFormatError
USE_UNMODIFIED = "Use the unmodified archive"

BAD_MANUAL_DIRS = (
    BadInputCase("truncated_zip", _truncated, FORMAT_ERROR,
                 (f"{BACKGROUND}.zip is not a readable zip archive",), "delete it and download it again"),
    BadInputCase("small_archive_own_top_folder", _small_archive_own_top_folder, FORMAT_ERROR,
                 ("is a 'small' Omniglot archive (top folder ['images_background_small1'])",),
                 "use the official images_background.zip"),
    BadInputCase("small_archive_full_top_folder", _small_archive_full_top_folder, FORMAT_ERROR,
                 ("found 5 alphabets", "expected 30 and 964", "the 'small' archives are not supported"),
                 "use the official images_background.zip"),
    BadInputCase("one_zip_missing", _background_only, FileNotFoundError,
                 (f"Missing {EVALUATION}.zip",), "Put both Omniglot archives there"),
    BadInputCase("one_folder_missing", _extracted_evaluation_only, FileNotFoundError,
                 (f"Missing {BACKGROUND}.zip (or the extracted folder {BACKGROUND}/)",),
                 "Put both Omniglot archives there"),
    BadInputCase("swapped_archives", _swapped, FORMAT_ERROR,
                 (f"contains the {EVALUATION} set, not {BACKGROUND}",),
                 "name each one after its top folder"),
    BadInputCase("zip_character_missing", _zip_character_missing, FORMAT_ERROR,
                 ("found 30 alphabets and 963 characters", "expected 30 and 964"),
                 "use the official images_background.zip"),
    BadInputCase("zip_drawing_missing", _zip_drawing_missing, FORMAT_ERROR,
                 (f"{FIRST_ALPHABET}/character01 has drawers [2, 3,", "expected 01 to 20 once each"),
                 USE_UNMODIFIED),
    BadInputCase("zip_extra_file", _zip_extra_file, FORMAT_ERROR,
                 (f"unexpected entry '{FIRST_CHARACTER}/notes.txt'",), "Remove the entry"),
    BadInputCase("zip_extra_drawing", _zip_extra_drawing, FORMAT_ERROR,
                 ("19, 20, 21]", "expected 01 to 20 once each"), USE_UNMODIFIED),
    BadInputCase("zip_wrong_size", _zip_wrong_size, FORMAT_ERROR,
                 (f"{FIRST_DRAWING} is a 104x105 image", "expected a 105x105 1-bit image"), USE_UNMODIFIED),
    BadInputCase("zip_wrong_mode", _zip_wrong_mode, FORMAT_ERROR,
                 (f"{FIRST_DRAWING} is a 105x105 image of mode 'L'", "(mode '1')"), USE_UNMODIFIED),
    BadInputCase("zip_not_an_image", _zip_not_an_image, FORMAT_ERROR,
                 (f"cannot decode {FIRST_DRAWING}",), USE_UNMODIFIED),
    BadInputCase("zip_oversized_drawing", _zip_oversized_drawing, FORMAT_ERROR,
                 (f"{FIRST_DRAWING} has {omniglot_archives.MAX_DRAWING_BYTES + 1} bytes",),
                 USE_UNMODIFIED),
    BadInputCase("folder_character_missing", _folder_character_missing, FORMAT_ERROR,
                 ("found 30 alphabets and 963 characters", "expected 30 and 964"),
                 "use the official images_background.zip"),
    BadInputCase("folder_drawing_missing", _folder_drawing_missing, FORMAT_ERROR,
                 (f"{FIRST_ALPHABET}/character01 has drawers [2, 3,", "expected 01 to 20 once each"),
                 USE_UNMODIFIED),
    BadInputCase("folder_extra_file", _folder_extra_file, FORMAT_ERROR,
                 (f"unexpected entry '{FIRST_CHARACTER}/notes.txt'",), "Remove the entry"),
    BadInputCase("folder_wrong_size", _folder_wrong_size, FORMAT_ERROR,
                 (f"{FIRST_DRAWING} is a 104x105 image", "expected a 105x105 1-bit image"), USE_UNMODIFIED),
    BadInputCase("folder_wrong_mode", _folder_wrong_mode, FORMAT_ERROR,
                 (f"{FIRST_DRAWING} is a 105x105 image of mode 'L'", "(mode '1')"), USE_UNMODIFIED),
)


def build_and_capture(tmp_path, manual_dir, error):
    """Build the small config from `manual_dir`; return (raised error, data dir, TFDS temp dirs)."""
    data_dir = tmp_path / "data"
    with helpers.recorded_temp_dirs() as temp_dirs:
        with pytest.raises(error) as raised:
            helpers.build(data_dir, helpers.small_config("bad_input"), manual_dir)
    return raised.value, data_dir, temp_dirs


def assert_message(message, problem, fix):
    for fragment in problem:
        assert fragment in message, f"the message does not name the problem {fragment!r}: {message}"
    assert fix in message, f"the message does not name the fix {fix!r}: {message}"


def assert_build_cleaned_up(data_dir, temp_dirs):
    helpers.assert_no_dataset_left(data_dir, "bad_input")
    assert temp_dirs, "TFDS did not create its temporary dataset folder"
    for temp_dir in temp_dirs:
        assert temp_dir.name.startswith("incomplete."), temp_dir
        assert not temp_dir.exists(), f"TFDS left its temporary folder {temp_dir}"


@pytest.mark.parametrize("case", BAD_MANUAL_DIRS, ids=lambda case: case.id)
def test_bad_manual_dir_rejected(case, archive_entries, extracted_archives, tmp_path):
    manual_dir = tmp_path / "manual"
    case.prepare(manual_dir, archive_entries, extracted_archives, tmp_path)

    error, data_dir, temp_dirs = build_and_capture(tmp_path, manual_dir, case.error)

    assert type(error) is case.error
    assert_message(str(error), case.problem, case.fix)
    assert_build_cleaned_up(data_dir, temp_dirs)


# Entry names that would land outside the extraction folder if an extractor trusted them. `{tmp}` is
# replaced with the test's tmp dir, so the absolute name points at a place the test can check.
ESCAPING_ENTRY_NAMES = (
    f"../{EVIL_NAME}",
    f"{BACKGROUND}/../../{EVIL_NAME}",
    f"{BACKGROUND}/{FIRST_ALPHABET}/../character01/0709_21.png",
    "{tmp}/outside/" + EVIL_NAME,
    "C:/" + EVIL_NAME,
    f"{BACKGROUND}\\..\\..\\{EVIL_NAME}",
)


@pytest.mark.parametrize("entry_name", ESCAPING_ENTRY_NAMES)
def test_escaping_entry_rejected(entry_name, archive_entries, tmp_path):
    entry_name = entry_name.replace("{tmp}", str(tmp_path))
    manual_dir = tmp_path / "manual"
    drawing = dict(archive_entries[BACKGROUND])[FIRST_DRAWING]
    zip_manual_dir(manual_dir, archive_entries, background=archive_entries[BACKGROUND] + [(entry_name, drawing)])

    error, data_dir, temp_dirs = build_and_capture(tmp_path, manual_dir, omniglot_archives.OmniglotFormatError)

    assert_message(str(error), (repr(entry_name), "leaves the archive's top folder"), "Use the unmodified official archive")
    assert_build_cleaned_up(data_dir, temp_dirs)
    # The reader never extracts: nothing may appear where an extractor would have written the entry.
    written = [path for path in tmp_path.rglob("*") if EVIL_NAME in path.name or path.name == "0709_21.png"]
    assert not written, f"files were written for the escaping entry: {written}"
    for base in (manual_dir, data_dir, data_dir / "downloads" / "extracted", pathlib.Path.cwd()):
        target = (base / entry_name.replace("\\", "/")).resolve()
        assert not target.exists(), f"{target} was written"


def _fake_download(url_to_file):
    """Return a replacement for TFDS's `_Downloader._sync_download` that copies local files.

    The copy goes through TFDS's own local-file path (`_sync_file_copy`), which computes the sha256
    and size that the download manager checks against checksums.tsv. Unknown URLs fail, so the test
    can never reach the network.
    """

    def sync_download(self, url, destination_path, verify=True):
        if url not in url_to_file:
            raise AssertionError(f"the test does not serve {url}")
        return self._sync_file_copy(str(url_to_file[url]), destination_path)

    return sync_download


def download_patch(url_to_file):
    downloader_class = tfds_downloader._Downloader  # pylint: disable=protected-access
    return unittest.mock.patch.object(downloader_class, "_sync_download", _fake_download(url_to_file))


def test_download_wrong_checksum_rejected(tmp_path):
    # The repacked archives of the test manual dir have the official pixels but other bytes, so their
    # sha256 differs from checksums.tsv exactly as a corrupt or tampered download would.
    manual_dir = helpers.manual_dir_or_skip()
    url_to_file = {url: manual_dir / f"{stem}.zip" for stem, url in omniglot_source.ARCHIVE_URLS.items()}
    data_dir = tmp_path / "data"

    with download_patch(url_to_file), helpers.recorded_temp_dirs() as temp_dirs:
        with pytest.raises(tfds_download_manager.NonMatchingChecksumError) as raised:
            helpers.build(data_dir, helpers.small_config("bad_input"), manual_dir=None)

    message = str(raised.value)
    assert "has wrong checksum" in message
    assert any(url in message for url in omniglot_source.ARCHIVE_URLS.values())
    assert "fixing_nonmatchingchecksumerror" in message
    assert_build_cleaned_up(data_dir, temp_dirs)


@pytest.mark.slow
def test_download_matching_checksum_builds(tmp_path, tmp_path_factory):
    # Positive control of the fake download: with checksums that match the local files, the download
    # path builds the same examples as the manual dir.
    manual_dir = helpers.manual_dir_or_skip()
    url_to_file = {url: manual_dir / f"{stem}.zip" for stem, url in omniglot_source.ARCHIVE_URLS.items()}
    url_infos = {
        url: tfds_checksums.compute_url_info(path) for url, path in url_to_file.items()
    }
    data_dir = tmp_path / "data"
    config = helpers.small_config("robustness_reference")

    with download_patch(url_to_file), unittest.mock.patch.object(
        cluttered_omniglot.ClutteredOmniglot, "url_infos", url_infos
    ):
        helpers.build(data_dir, config, manual_dir=None)

    assert helpers.all_fingerprints(data_dir, config) == helpers.reference_fingerprints(tmp_path_factory)


CLUTTER_PROBLEM = "clutter must be a whole number of characters per scene, at least 1"
CLUTTER_FIX = "The paper uses 4, 8, 16, 32, 64, 128, 256"
JOB_FIX = "Use a whole number of 2000-example jobs"


@dataclasses.dataclass(frozen=True)
class ConfigCase:
    """Config fields that override a valid small config, and the message fragments they must cause."""

    id: str
    overrides: dict
    problem: tuple
    fix: str


CONFIG_CASES = (
    ConfigCase("clutter_zero", {"clutter": 0}, (CLUTTER_PROBLEM, "got 0"), CLUTTER_FIX),
    ConfigCase("clutter_negative", {"clutter": -4}, (CLUTTER_PROBLEM, "got -4"), CLUTTER_FIX),
    ConfigCase("clutter_string", {"clutter": "4"}, (CLUTTER_PROBLEM, "got '4'"), CLUTTER_FIX),
    ConfigCase("train_zero", {"train_examples": 0},
               ("train_examples must be a positive multiple of 2000", "got 0"), JOB_FIX),
    ConfigCase("train_negative", {"train_examples": -2000},
               ("train_examples must be a positive multiple of 2000", "got -2000"), JOB_FIX),
    ConfigCase("train_partial_job", {"train_examples": 2500},
               ("train_examples must be a positive multiple of 2000", "got 2500"), JOB_FIX),
    ConfigCase("train_float", {"train_examples": 2000.0},
               ("train_examples must be a positive multiple of 2000", "got 2000.0"), JOB_FIX),
    ConfigCase("eval_partial_job", {"eval_examples": 1000},
               ("eval_examples must be a positive multiple of 2000", "got 1000"), JOB_FIX),
    ConfigCase("train_above_paper", {"train_examples": 2_002_000},
               ("train_examples must be at most 2000000, the size of the paper's train split", "got 2002000"),
               "Use train_examples up to 2000000"),
    ConfigCase("eval_above_paper", {"eval_examples": 12_000},
               ("eval_examples must be at most 10000, the size of the paper's validation and test splits",
                "got 12000"),
               "Use eval_examples up to 10000"),
)


@pytest.mark.parametrize("case", CONFIG_CASES, ids=lambda case: case.id)
def test_bad_config_rejected(case, tmp_path):
    fields = {"name": "bad_config", "clutter": 4, "train_examples": 2000, "eval_examples": 2000, **case.overrides}

    with pytest.raises(ValueError) as raised:
        config = cluttered_omniglot.ClutteredOmniglotConfig(**fields)
        # Reached only if the config is accepted; the build then shows what the bad value causes.
        helpers.build(tmp_path / "data", config, helpers.manual_dir_or_skip())

    assert_message(str(raised.value), case.problem, case.fix)
    helpers.assert_no_dataset_left(tmp_path / "data", "bad_config")


def test_bad_config_rejected_by_cli(tmp_path):
    # The tfds command line builds the config from JSON, so the same validation must reach the user.
    data_dir = tmp_path / "data"
    command = [
        helpers.python_executable(), "-m", "tensorflow_datasets.scripts.cli.main", "build",
        "cluttered_omniglot", "--imports", "cluttered_omniglot",
        "--config", '{"name": "bad_config", "clutter": 0, "train_examples": 2000, "eval_examples": 2000}',
        "--data_dir", str(data_dir), "--manual_dir", str(helpers.manual_dir_or_skip()),
    ]

    result = subprocess.run(
        command, env=helpers.worker_environment(), capture_output=True, text=True, timeout=300, check=False
    )

    assert result.returncode != 0
    assert "ValueError: clutter must be a whole number of characters per scene, at least 1" in result.stderr
    assert "The paper uses 4, 8, 16, 32, 64, 128, 256" in result.stderr
    helpers.assert_no_dataset_left(data_dir, "bad_config")


def test_unknown_split_core_api():
    with pytest.raises(ValueError) as raised:
        splits.split_spec("nope")

    assert_message(str(raised.value), ("Unknown split 'nope'",), "Valid splits: " + ", ".join(helpers.SPLIT_NAMES))


def test_unknown_split_tfds_load(tmp_path_factory):
    data_dir, config, _ = helpers.reference_build(tmp_path_factory)

    with pytest.raises(ValueError) as raised:
        tfds.load(f"cluttered_omniglot/{config.name}", split="nope", data_dir=str(data_dir))

    message = str(raised.value)
    assert "Unknown split 'nope'" in message
    assert all(name in message for name in helpers.SPLIT_NAMES)
    assert helpers.load_builder(data_dir, config).is_prepared()


def test_extracted_folder_reads_like_zip(extracted_archives, tmp_path):
    # Positive control for the folder cases: a linked extracted folder, with the hidden files that
    # file managers add, reads to the same drawings as the zip archive.
    manual_dir = tmp_path / "manual"
    editable = linked_extracted_dir(manual_dir, extracted_archives)
    (editable / ".DS_Store").write_bytes(b"file manager metadata")
    (manual_dir / BACKGROUND / ".DS_Store").write_bytes(b"file manager metadata")

    paths = omniglot_source.manual_archive_paths(manual_dir)
    from_folder = omniglot_archives.read_omniglot_folder(paths[BACKGROUND])
    from_zip = omniglot_archives.read_omniglot_archive(helpers.manual_dir_or_skip() / f"{BACKGROUND}.zip")

    assert paths == {BACKGROUND: manual_dir / BACKGROUND, EVALUATION: manual_dir / EVALUATION}
    assert from_folder.name == from_zip.name
    assert from_folder.alphabets == from_zip.alphabets
    assert from_folder.characters == from_zip.characters
    assert np.array_equal(from_folder.packed_strokes, from_zip.packed_strokes)


@pytest.mark.slow
def test_extracted_folders_build_like_zip(extracted_archives, tmp_path, tmp_path_factory):
    # A manual dir with both archives extracted builds the same examples as one with the zip files.
    data_dir = tmp_path / "data"
    config = helpers.small_config("robustness_reference")

    helpers.build(data_dir, config, extracted_archives)

    assert helpers.all_fingerprints(data_dir, config) == helpers.reference_fingerprints(tmp_path_factory)


def test_nonexistent_manual_dir_rejected(tmp_path):
    data_dir = tmp_path / "data"
    missing_dir = tmp_path / "omniglot_typo"
    config = helpers.small_config("missing_manual_dir")

    with pytest.raises(FileNotFoundError) as raised:
        helpers.build(data_dir, config, missing_dir)

    message = str(raised.value)
    assert str(missing_dir) in message
    assert "does not exist" in message
    assert "--manual_dir" in message
    helpers.assert_no_dataset_left(data_dir, config.name)
