"""End-to-end build with Apache Beam on two worker processes, from the real Omniglot archives.

The module builds one small custom config once (2000 train examples, 10,000 examples in each other
split as published, clutter 4), loads it back with `tfds.load`, and checks every example. Set
CLUTTERED_OMNIGLOT_MANUAL_DIR to the folder holding `images_background.zip` and
`images_evaluation.zip`; the tests are skipped otherwise.
"""

import hashlib
import time
from unittest import mock

import apache_beam as beam
import numpy as np
import pytest
import tensorflow_datasets as tfds

import cluttered_omniglot
from cluttered_omniglot import beam_generation
from cluttered_omniglot import shard_writing
from cluttered_omniglot import omniglot_source
from cluttered_omniglot.core import splits
from tests import archive_location

MANUAL_DIR_VARIABLE = archive_location.MANUAL_DIR_VARIABLE
CONFIG_NAME = "beam_clutter_4"
DATASET_NAME = f"cluttered_omniglot/{CONFIG_NAME}"
CLUTTER = 4
TRAIN_EXAMPLES = 2000
EVAL_EXAMPLES = 10_000
SPLIT_SIZES = {spec.name: TRAIN_EXAMPLES if spec.is_train else EVAL_EXAMPLES for spec in splits.SPLITS}
SCENE_SIZE = 96

# md5 of the raw C-order bytes of the uint8 (96, 96, 3) scene with index 9999 of the authors'
# published val-one-shot split at clutter 4 (val_eval_alphabets here).
PUBLISHED_SCENE_INDEX = 9999
PUBLISHED_SCENE_MD5 = "c684f499183c637882ebed2abbca128b"

# FnApiRunner is the runner DirectRunner ends up with for this pipeline. Naming it skips
# DirectRunner's first attempt with the Prism runner, which downloads a binary from the network
# (Beam 2.77).
BEAM_OPTIONS = dict(runner="FnApiRunner", direct_num_workers=2, direct_running_mode="multi_processing")

# Examples whose mask or target exemplar has no pixel, counted in this config's deterministic
# output. The authors crop a drawing to its strokes but drop the last stroke row and column, so a
# crop can have a size and still contain no stroke pixel. The generator keeps such crops.
EMPTY_MASKS = {
    "train": 1,
    "val_train_alphabets": 9,
    "test_train_alphabets": 4,
    "val_eval_alphabets": 1,
    "test_eval_alphabets": 1,
}
BLANK_TARGETS = {
    "train": 3,
    "val_train_alphabets": 4,
    "test_train_alphabets": 1,
    "val_eval_alphabets": 0,
    "test_eval_alphabets": 0,
}


manual_dir_or_skip = archive_location.manual_dir_or_skip


class Build:
    """A finished build: its data dir, wall-clock seconds and Beam counter totals by name."""

    def __init__(self, data_dir, seconds, counters):
        self.data_dir = data_dir
        self.seconds = seconds
        self.counters = counters
        self._splits = {}

    def split(self, name):
        """Load split `name` with `tfds.load` as a dict of numpy arrays, once per module."""
        if name not in self._splits:
            features = tfds.load(DATASET_NAME, data_dir=self.data_dir, split=name, batch_size=-1)
            self._splits[name] = tfds.as_numpy(features)
        return self._splits[name]


def counter_totals(pipeline_result):
    """Sum each `cluttered_omniglot` counter over all steps that report it."""
    query = pipeline_result.metrics().query(
        beam.metrics.MetricsFilter().with_namespace(beam_generation.COUNTER_NAMESPACE)
    )
    totals = {}
    for counter in query["counters"]:
        value = counter.committed if counter.committed is not None else counter.attempted
        totals[counter.key.metric.name] = totals.get(counter.key.metric.name, 0) + value
    return totals


@pytest.fixture(scope="module")
def build(tmp_path_factory):
    manual_dir = manual_dir_or_skip()
    data_dir = tmp_path_factory.mktemp("beam_build")
    config = cluttered_omniglot.ClutteredOmniglotConfig(
        name=CONFIG_NAME,
        description="Clutter 4, 2000 train and 10,000 examples in each other split.",
        clutter=CLUTTER,
        train_examples=TRAIN_EXAMPLES,
        eval_examples=EVAL_EXAMPLES,
    )
    builder = cluttered_omniglot.ClutteredOmniglot(data_dir=str(data_dir), config=config)
    download_config = tfds.download.DownloadConfig(
        manual_dir=str(manual_dir),
        try_download_gcs=False,
        beam_options=beam.options.pipeline_options.PipelineOptions.from_dictionary(BEAM_OPTIONS),
    )

    # TFDS hands the finished pipeline's result to `_process_pipeline_result`, its hook for Beam
    # metrics; wrapping it keeps the result for the counter test.
    results = []
    original_hook = cluttered_omniglot.ClutteredOmniglot._process_pipeline_result  # pylint: disable=protected-access

    def keep_result(self, pipeline_result):
        results.append(pipeline_result)
        return original_hook(self, pipeline_result)

    start = time.monotonic()
    with mock.patch.object(cluttered_omniglot.ClutteredOmniglot, "_process_pipeline_result", keep_result):
        builder.download_and_prepare(download_config=download_config)
    seconds = time.monotonic() - start
    print(f"Beam build of {sum(SPLIT_SIZES.values())} examples took {seconds:.1f} s")

    counters = counter_totals(results[0]) if results else None
    return Build(str(data_dir), seconds, counters)


def test_split_sizes_in_info(build):
    builder = tfds.builder(DATASET_NAME, data_dir=build.data_dir)
    sizes = {name: split.num_examples for name, split in builder.info.splits.items()}
    assert sizes == SPLIT_SIZES


def test_beam_counters(build):
    if build.counters is None:
        pytest.skip("TFDS did not pass a Beam pipeline result to _process_pipeline_result.")
    assert build.counters.get("scenes") == sum(SPLIT_SIZES.values())
    expected_shards = sum(-(-size // shard_writing.EXAMPLES_PER_SHARD) for size in SPLIT_SIZES.values())
    assert build.counters.get("shards") == expected_shards
    assert build.counters.get("retried_characters", 0) >= 0


@pytest.mark.parametrize("split", list(SPLIT_SIZES))
def test_shapes_and_dtypes(build, split):
    examples = build.split(split)
    n = SPLIT_SIZES[split]
    expected = {
        "image": ((n, 96, 96, 3), np.uint8),
        "target": ((n, 32, 32, 3), np.uint8),
        "segmentation": ((n, 96, 96, 1), np.uint8),
        "index": ((n,), np.int64),
        "target_alphabet": ((n,), np.int64),
        "target_character": ((n,), np.int64),
        "target_drawer": ((n,), np.int64),
        "target_bbox": ((n, 4), np.float32),
    }
    assert sorted(examples) == sorted(expected)
    for name, (shape, dtype) in expected.items():
        assert examples[name].shape == shape, name
        assert examples[name].dtype == dtype, name


@pytest.mark.parametrize("split", list(SPLIT_SIZES))
def test_index_covers_split_once(build, split):
    index = build.split(split)["index"]
    np.testing.assert_array_equal(np.sort(index), np.arange(SPLIT_SIZES[split]))


def test_published_scene_md5(build):
    examples = build.split("val_eval_alphabets")
    position = np.flatnonzero(examples["index"] == PUBLISHED_SCENE_INDEX)
    assert len(position) == 1
    scene = np.ascontiguousarray(examples["image"][position[0]])
    assert hashlib.md5(scene.tobytes()).hexdigest() == PUBLISHED_SCENE_MD5


@pytest.mark.parametrize("split", list(SPLIT_SIZES))
def test_value_ranges(build, split):
    examples = build.split(split)
    spec = splits.split_spec(split)
    assert set(np.unique(examples["segmentation"])) <= {0, 1}

    drawers = examples["target_drawer"]
    assert drawers.min() >= spec.pool.first_drawer
    assert drawers.max() < spec.pool.stop_drawer

    boxes = examples["target_bbox"]
    assert boxes.min() >= 0.0
    assert boxes.max() <= 1.0
    assert np.all(boxes[:, 0] < boxes[:, 2]), "ymin must be below ymax"
    assert np.all(boxes[:, 1] < boxes[:, 3]), "xmin must be below xmax"

    scene_maxima = examples["image"].reshape(len(drawers), -1).max(axis=1)
    assert scene_maxima.min() > 0, "a scene is blank"


@pytest.mark.parametrize("split", list(SPLIT_SIZES))
def test_blank_targets_are_rare(build, split):
    examples = build.split(split)
    target_maxima = examples["target"].reshape(SPLIT_SIZES[split], -1).max(axis=1)
    blank = examples["index"][target_maxima == 0]
    assert len(blank) == BLANK_TARGETS[split], f"blank targets at indices {sorted(blank.tolist())}"


@pytest.mark.parametrize("split", list(SPLIT_SIZES))
def test_mask_on_target_colour(build, split):
    """The target is pasted last, so every mask pixel shows the target's single colour."""
    examples = build.split(split)
    empty = []
    for image, mask, index in zip(examples["image"], examples["segmentation"], examples["index"]):
        on_target = mask[..., 0].astype(bool)
        if not on_target.any():
            empty.append(int(index))
            continue
        colours = np.unique(image[on_target], axis=0)
        assert len(colours) == 1, f"example {index}: mask covers {len(colours)} colours {colours.tolist()}"
    assert len(empty) == EMPTY_MASKS[split], f"empty masks at indices {empty}"


@pytest.mark.parametrize("split", list(SPLIT_SIZES))
def test_bbox_contains_mask(build, split):
    examples = build.split(split)
    for mask, box, index in zip(examples["segmentation"], examples["target_bbox"], examples["index"]):
        rows, columns = np.nonzero(mask[..., 0])
        if not len(rows):
            continue  # Empty masks are counted in test_mask_on_target_colour.
        # The box is stored as (ymin, xmin, ymax, xmax) / 96, and ymax, xmax are exclusive.
        top, left, bottom, right = np.rint(box * SCENE_SIZE).astype(int)
        assert rows.min() >= top, f"example {index}"
        assert columns.min() >= left, f"example {index}"
        assert rows.max() < bottom, f"example {index}"
        assert columns.max() < right, f"example {index}"


@pytest.mark.parametrize("split", list(SPLIT_SIZES))
def test_labels_consistent(build, split):
    builder = tfds.builder(DATASET_NAME, data_dir=build.data_dir)
    alphabet_feature = builder.info.features["target_alphabet"]
    character_feature = builder.info.features["target_character"]
    examples = build.split(split)
    spec = splits.split_spec(split)
    first_alphabet, _ = omniglot_source.label_offsets(spec.pool.archive)
    pool_alphabets = range(first_alphabet + spec.pool.first_alphabet, first_alphabet + spec.pool.stop_alphabet)

    pairs = set(zip(examples["target_alphabet"].tolist(), examples["target_character"].tolist()))
    for alphabet, character in sorted(pairs):
        alphabet_name = alphabet_feature.int2str(alphabet)
        character_name = character_feature.int2str(character)
        assert alphabet in pool_alphabets, f"{alphabet_name} is not in the pool of {split}"
        assert character_name.split("/")[0] == alphabet_name, (
            f"character {character_name} labelled with alphabet {alphabet_name}"
        )
