"""Builds, fingerprints and leftover checks shared by the bad-input, interruption and determinism tests.

Builds run through TFDS (`download_and_prepare`) exactly as a user runs them, on a small custom config:
clutter 4 and one 2000-example job per split. The Omniglot archives come from the folder named by the
environment variable CLUTTERED_OMNIGLOT_MANUAL_DIR; tests that need them are skipped without it.
"""

import contextlib
import hashlib
import os
import pathlib
import sys
import unittest.mock

import tensorflow_datasets as tfds

import cluttered_omniglot
from cluttered_omniglot.core import splits
from tests import archive_location

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]
MANUAL_DIR_VARIABLE = archive_location.MANUAL_DIR_VARIABLE
ARCHIVE_NAMES = (splits.BACKGROUND, splits.EVALUATION)
DATASET_NAME = "cluttered_omniglot"
VERSION = str(cluttered_omniglot.ClutteredOmniglot.VERSION)
SPLIT_NAMES = tuple(spec.name for spec in splits.SPLITS)

# Every split of the small config is one job, so a build renders 5 jobs of 2000 examples.
SMALL_CLUTTER = 4
SMALL_EXAMPLES = splits.EXAMPLES_PER_JOB


manual_dir_or_skip = archive_location.manual_dir_or_skip


def small_config(name):
    """Return a config named `name` with clutter 4 and 2000 examples in every split."""
    return cluttered_omniglot.ClutteredOmniglotConfig(
        name=name, clutter=SMALL_CLUTTER, train_examples=SMALL_EXAMPLES, eval_examples=SMALL_EXAMPLES
    )


def worker_environment():
    """Return os.environ plus this repository on PYTHONPATH, for subprocesses and Beam workers.

    The package is imported from the repository checkout (pytest.ini puts it on sys.path), and
    subprocesses only see sys.path through PYTHONPATH.
    """
    environment = dict(os.environ)
    entries = [str(REPO_ROOT)] + [p for p in environment.get("PYTHONPATH", "").split(os.pathsep) if p]
    environment["PYTHONPATH"] = os.pathsep.join(entries)
    return environment


@contextlib.contextmanager
def recorded_temp_dirs():
    """Record the temporary folders TFDS writes a dataset into before renaming it.

    Yields the list that receives each temporary folder as a `pathlib.Path`. TFDS 4.9 calls
    `tfds.core.utils.incomplete_dir` once per `download_and_prepare`.
    """
    original = tfds.core.utils.incomplete_dir
    temp_dirs = []

    @contextlib.contextmanager
    def recording(*args, **kwargs):
        with original(*args, **kwargs) as temp_dir:
            temp_dirs.append(pathlib.Path(temp_dir))
            yield temp_dir

    with unittest.mock.patch.object(tfds.core.utils, "incomplete_dir", recording):
        yield temp_dirs


def build(data_dir, config, manual_dir, beam_options=None, file_format=None):
    """Build `config` in this process with TFDS, as `tfds build` does.

    Args:
      data_dir: TFDS data dir.
      config: a `ClutteredOmniglotConfig`.
      manual_dir: folder holding the archives, or None to download them.
      beam_options: list of Beam flags such as `["--direct_num_workers=2"]`; None runs the default
        DirectRunner in this process.
      file_format: a `tfds.core.FileFormat` or its name; None uses the TFDS default (tfrecord).
    """
    download_config = tfds.download.DownloadConfig(
        manual_dir=None if manual_dir is None else str(manual_dir),
        beam_options=None if beam_options is None else _pipeline_options(beam_options),
    )
    builder = tfds.builder(DATASET_NAME, config=config, data_dir=str(data_dir))
    with _worker_pythonpath():
        builder.download_and_prepare(
            download_dir=str(pathlib.Path(data_dir) / "downloads"),
            download_config=download_config,
            file_format=file_format,
        )


def _pipeline_options(flags):
    import apache_beam as beam  # Only builds with explicit options need it here.

    return beam.options.pipeline_options.PipelineOptions(flags)


@contextlib.contextmanager
def _worker_pythonpath():
    # Beam's multi-processing workers are fresh interpreters that must import this package.
    with unittest.mock.patch.dict(os.environ, {"PYTHONPATH": worker_environment()["PYTHONPATH"]}):
        yield


def load_builder(data_dir, config):
    """Return the TFDS builder of `config` in `data_dir`, without building anything."""
    return tfds.builder(DATASET_NAME, config=config, data_dir=str(data_dir))


def example_fingerprints(data_dir, config, split):
    """Return (index order, {index: md5}) of a built split, reading examples in file order.

    The md5 covers the decoded scene, target and mask bytes and every label feature, so two builds
    agree only if every example is identical.
    """
    builder = load_builder(data_dir, config)
    if builder.info.file_format == tfds.core.FileFormat.ARRAY_RECORD:
        # TFDS 4.9 reads array_record only through the random-access data source.
        source = builder.as_data_source(split=split)
        examples = (source[i] for i in range(len(source)))
    else:
        examples = tfds.as_numpy(builder.as_dataset(split=split, shuffle_files=False))
    order = []
    fingerprints = {}
    for example in examples:
        digest = hashlib.md5()
        for key in ("image", "target", "segmentation", "target_bbox"):
            digest.update(example[key].tobytes())
        for key in ("target_alphabet", "target_character", "target_drawer"):
            digest.update(int(example[key]).to_bytes(8, "little", signed=True))
        index = int(example["index"])
        order.append(index)
        fingerprints[index] = digest.hexdigest()
    return order, fingerprints


def all_fingerprints(data_dir, config, split_names=SPLIT_NAMES):
    """Return {split: (index order, {index: md5})} for the named splits of a build."""
    return {split: example_fingerprints(data_dir, config, split) for split in split_names}


def record_file_digests(data_dir, config):
    """Return {file name: md5 of its bytes} for the record files of a finished build."""
    folder = dataset_dir(data_dir, config.name)
    suffix = load_builder(data_dir, config).info.file_format.file_suffix
    return {path.name: hashlib.md5(path.read_bytes()).hexdigest() for path in sorted(folder.glob(f"*.{suffix}-*"))}


def dataset_dir(data_dir, config_name):
    """Return the folder a finished build of `config_name` lives in."""
    return pathlib.Path(data_dir) / DATASET_NAME / config_name / VERSION


def leftover_dataset_files(data_dir):
    """Return the paths under `data_dir/cluttered_omniglot` that a failed build must not leave.

    These are record files (finished or temporary), `dataset_info.json`, and the temporary folders
    and files of TFDS 4.9, whose names start with `incomplete.`. TFDS also writes
    `.config/metadata.json` (the name of the default config) before building, which is not a dataset
    and is allowed.
    """
    root = pathlib.Path(data_dir) / DATASET_NAME
    if not root.exists():
        return []
    leftovers = []
    for path in sorted(root.rglob("*")):
        name = path.name
        is_record_file = ".tfrecord" in name or ".array_record" in name
        if name == "dataset_info.json" or is_record_file or name.startswith("incomplete."):
            leftovers.append(path)
    return leftovers


def assert_no_dataset_left(data_dir, config_name):
    """Fail if a failed build left a dataset folder, record files or temporary folders."""
    finished = dataset_dir(data_dir, config_name)
    assert not finished.exists(), f"a failed build left the dataset folder {finished}"
    leftovers = leftover_dataset_files(data_dir)
    assert not leftovers, f"a failed build left {[str(p) for p in leftovers]}"


_REFERENCE_BUILDS = {}


def reference_build(tmp_path_factory):
    """Return (data_dir, config, temp dirs) of the small config built once per test session.

    The build has no Beam options, so the builder's process pool writes it, as tfrecord. It is shared
    through a module-level cache because pytest would run a session fixture once per test module
    that imports it.
    """
    if "small" not in _REFERENCE_BUILDS:
        manual_dir = manual_dir_or_skip()
        data_dir = tmp_path_factory.mktemp("reference_build")
        config = small_config("robustness_reference")
        with recorded_temp_dirs() as temp_dirs:
            build(data_dir, config, manual_dir)
        _REFERENCE_BUILDS["small"] = (data_dir, config, temp_dirs)
    return _REFERENCE_BUILDS["small"]


_REFERENCE_FINGERPRINTS = {}


def reference_fingerprints(tmp_path_factory):
    """Return `all_fingerprints` of the reference build, computed once per test session."""
    if "small" not in _REFERENCE_FINGERPRINTS:
        data_dir, config, _ = reference_build(tmp_path_factory)
        _REFERENCE_FINGERPRINTS["small"] = all_fingerprints(data_dir, config)
    return _REFERENCE_FINGERPRINTS["small"]


def python_executable():
    """Return the interpreter running the tests, for subprocess builds."""
    return sys.executable
