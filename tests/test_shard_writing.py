"""Shard planning and writing: file names, example ranges, TFRecord bytes and record contents."""

import dataclasses
import hashlib

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

import cluttered_omniglot
from cluttered_omniglot import example_records
from cluttered_omniglot import shard_writing
from cluttered_omniglot.core import jobs
from tests import robustness_helpers as helpers

SPLIT = "val_eval_alphabets"


def filename_template(data_dir, split=SPLIT):
    return tfds.core.ShardedFileTemplate(
        data_dir=data_dir, dataset_name="cluttered_omniglot", split=split, filetype_suffix="tfrecord"
    )


def test_plan_covers_split_in_order(tmp_path):
    tasks = shard_writing.plan_split(SPLIT, 4, 24_000, "archive.zip", filename_template(tmp_path))

    assert [task.shard_index for task in tasks] == [0, 1, 2]
    assert [task.first_example for task in tasks] == [0, 10_000, 20_000]
    assert [task.examples for task in tasks] == [10_000, 10_000, 4_000]
    assert {task.num_shards for task in tasks} == {3}
    assert tasks[2].path == str(tmp_path / f"cluttered_omniglot-{SPLIT}.tfrecord-00002-of-00003")


def test_plan_of_paper_train_split(tmp_path):
    tasks = shard_writing.plan_split("train", 256, 2_000_000, "archive.zip", filename_template(tmp_path, "train"))

    assert len(tasks) == 200
    assert sum(task.examples for task in tasks) == 2_000_000


@pytest.mark.parametrize("examples", [0, -5])
def test_plan_rejects_empty_split(examples, tmp_path):
    with pytest.raises(ValueError, match=f"at least 1 example, got {examples}"):
        shard_writing.plan_split(SPLIT, 4, examples, "archive.zip", filename_template(tmp_path))


def test_tfrecord_bytes_match_tensorflow(tmp_path):
    records = [b"", b"x", bytes(range(256)) * 40, "scène".encode()]
    ours = tmp_path / "ours.tfrecord"
    theirs = tmp_path / "theirs.tfrecord"

    shard_writing.write_tfrecord_file(ours, records)
    with tf.io.TFRecordWriter(str(theirs)) as writer:
        for record in records:
            writer.write(record)

    assert ours.read_bytes() == theirs.read_bytes()
    assert [r.numpy() for r in tf.data.TFRecordDataset(str(ours))] == records


def shard_across_jobs(tmp_path):
    """Return a task of 4 examples, the last two of job 0 and the first two of job 1."""
    archive = helpers.manual_dir_or_skip() / "images_evaluation.zip"
    return shard_writing.ShardTask(
        split=SPLIT, clutter=4, archive_path=str(archive), shard_index=0, num_shards=1,
        first_example=1998, examples=4, path=str(tmp_path / "shard.tfrecord"),
    )


def test_task_yields_its_index_range(tmp_path):
    task = shard_across_jobs(tmp_path)

    assert [index for index, _ in task()] == [1998, 1999, 2000, 2001]


def test_written_shard_decodes_to_rendered_examples(tmp_path):
    task = shard_across_jobs(tmp_path)
    info = cluttered_omniglot.ClutteredOmniglot(config="clutter_4", data_dir=str(tmp_path / "info")).info

    result = shard_writing.write_shard(task, info.features, tfds.core.FileFormat.TFRECORD)

    assert (result.split, result.shard_index, result.examples) == (SPLIT, 0, 4)
    stored = [info.features.deserialize_example_np(r.numpy()) for r in tf.data.TFRecordDataset(task.path)]
    expected = {}
    for job_index in (0, 1):
        records, _ = example_records.render_job_records(task.archive_path, jobs.JobRequest(SPLIT, 4, job_index))
        expected.update(records)
    assert [int(example["index"]) for example in stored] == [1998, 1999, 2000, 2001]
    for example in stored:
        rendered = expected[int(example["index"])]
        assert example["image"].tobytes() == tf.io.decode_png(rendered["image"]).numpy().tobytes()
        assert example["segmentation"].tobytes() == tf.io.decode_png(rendered["segmentation"]).numpy().tobytes()
        assert int(example["target_character"]) == rendered["target_character"]
        np.testing.assert_array_equal(example["target_bbox"], rendered["target_bbox"])


def test_shard_bytes_repeat(tmp_path):
    task = shard_across_jobs(tmp_path)
    info = cluttered_omniglot.ClutteredOmniglot(config="clutter_4", data_dir=str(tmp_path / "info")).info
    digests = []
    for name in ("first.tfrecord", "second.tfrecord"):
        repeated = dataclasses.replace(task, path=str(tmp_path / name))
        shard_writing.write_shard(repeated, info.features, tfds.core.FileFormat.TFRECORD)
        digests.append(hashlib.md5((tmp_path / name).read_bytes()).hexdigest())

    assert digests[0] == digests[1]


def test_max_examples_per_split_truncates(tmp_path):
    config = helpers.small_config("max_examples")
    builder = tfds.builder(helpers.DATASET_NAME, config=config, data_dir=str(tmp_path))
    download_config = tfds.download.DownloadConfig(
        manual_dir=str(helpers.manual_dir_or_skip()), max_examples_per_split=3
    )

    builder.download_and_prepare(download_config=download_config)

    for split in helpers.SPLIT_NAMES:
        assert builder.info.splits[split].num_examples == 3, split
        examples = tfds.as_numpy(builder.as_dataset(split=split))
        assert [int(example["index"]) for example in examples] == [0, 1, 2], split


def test_num_shards_rejected(tmp_path):
    builder = tfds.builder(helpers.DATASET_NAME, config=helpers.small_config("num_shards"), data_dir=str(tmp_path))
    download_config = tfds.download.DownloadConfig(manual_dir=str(helpers.manual_dir_or_skip()), num_shards=8)

    with pytest.raises(ValueError, match="num_shards=8 is not supported"):
        builder.download_and_prepare(download_config=download_config)
    helpers.assert_no_dataset_left(tmp_path, "num_shards")
