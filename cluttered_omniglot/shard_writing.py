"""Plan the shard files of a split, and write one shard: render its jobs, encode and store them.

A shard contains consecutive examples of one split in index order, and the process that renders a
shard also writes it. Builds with Beam and builds with the local process pool run the same shard
writes, so they produce the same files, and only shard descriptions and counts pass between
processes. Because no example travels through a shuffle, neither the launcher's memory nor a
worker's grows with the split size.
"""

import dataclasses
import struct

from etils import epath
import google_crc32c
import tensorflow_datasets as tfds
from tensorflow_datasets.core import example_serializer
from tensorflow_datasets.core import writer as writer_lib

from cluttered_omniglot import example_records
from cluttered_omniglot.core import jobs
from cluttered_omniglot.core import splits

# Each validation and test split of the paper is one shard, and each train split is 200 shards:
# about 15 MB (clutter 4) to 134 MB (clutter 256) each, at the bytes per example that
# benchmarks/benchmark.py measured.
EXAMPLES_PER_SHARD = 5 * splits.EXAMPLES_PER_JOB


@dataclasses.dataclass(frozen=True)
class ShardTask:
    """One shard file: the examples `first_example` to `first_example + examples - 1` of a split.

    Calling it yields the shard's (index, features) records in index order, which makes it an
    example generator for TFDS's `ShardBasedBuilder`.
    """

    split: str
    clutter: int
    archive_path: str
    shard_index: int
    num_shards: int
    first_example: int
    examples: int
    path: str

    def __call__(self):
        return self.records([])

    def records(self, retries):
        """Yield the shard's (index, features) records, appending each job's retry count to `retries`."""
        stop = self.first_example + self.examples
        first_job = self.first_example // splits.EXAMPLES_PER_JOB
        stop_job = -(-stop // splits.EXAMPLES_PER_JOB)
        for job_index in range(first_job, stop_job):
            request = jobs.JobRequest(self.split, self.clutter, job_index)
            job_records, job_retries = example_records.render_job_records(self.archive_path, request)
            retries.append(job_retries)
            for index, features in job_records:
                if self.first_example <= index < stop:
                    yield index, features


@dataclasses.dataclass(frozen=True)
class ShardResult:
    """Outcome of writing a shard: examples written, and augmentations drawn again after a blank crop."""

    split: str
    shard_index: int
    examples: int
    retried_characters: int


def plan_split(split, clutter, examples, archive_path, filename_template):
    """Return the `ShardTask`s of the first `examples` examples of `split`, in shard order.

    `filename_template` is the split's `tfds.core.ShardedFileTemplate`, which names the files.
    """
    jobs.check_clutter(clutter)
    if examples < 1:
        raise ValueError(f"A split needs at least 1 example, got {examples} for {split}.")
    num_shards = -(-examples // EXAMPLES_PER_SHARD)
    tasks = []
    for shard_index in range(num_shards):
        first_example = shard_index * EXAMPLES_PER_SHARD
        path = filename_template.sharded_filepath(shard_index=shard_index, num_shards=num_shards)
        tasks.append(
            ShardTask(
                split=split,
                clutter=clutter,
                archive_path=str(archive_path),
                shard_index=shard_index,
                num_shards=num_shards,
                first_example=first_example,
                examples=min(EXAMPLES_PER_SHARD, examples - first_example),
                path=str(path),
            )
        )
    return tasks


def write_shard(task, features, file_format):
    """Render the examples of `task` and write them to `task.path`; return a `ShardResult`.

    `features` is the builder's `tfds.features.FeaturesDict`, and `file_format` its
    `tfds.core.FileFormat`. TFDS encodes and serializes the records, as its own writers do, with
    two changes. The file is streamed, so a worker keeps one job of examples in memory at a time, where TFDS's
    `ShardWriter` keeps the whole shard for counting. And map keys are serialized in sorted order,
    so the same shard has the same bytes in every process.
    """
    serializer = example_serializer.ExampleSerializer(features.get_serialized_info())
    retries = []
    indices = []

    def serialized_records():
        for index, example in task.records(retries):
            indices.append(index)
            tf_example = serializer.get_tf_example(features.encode_example(example))
            yield index, tf_example.SerializeToString(deterministic=True)

    if file_format == tfds.core.FileFormat.TFRECORD:
        write_tfrecord_file(task.path, (record for _, record in serialized_records()))
    else:
        writer_lib.ExampleWriter(file_format).write(epath.Path(task.path), serialized_records())
    expected = list(range(task.first_example, task.first_example + task.examples))
    if indices != expected:
        raise RuntimeError(
            f"Shard {task.shard_index} of split {task.split} got {len(indices)} examples, not the "
            f"{task.examples} examples from index {task.first_example} on, so the build stopped. "
            "This is a bug: please report it with the config."
        )
    return ShardResult(task.split, task.shard_index, len(indices), sum(retries))


def write_tfrecord_file(path, records):
    """Write the byte strings `records` to a TFRecord file at `path`, as `tf.io.TFRecordWriter` does.

    TFDS writes TFRecord files through TensorFlow, whose import adds hundreds of MB to each
    worker's resident memory. The format is small: per record, the length as
    little-endian uint64, its masked CRC-32C, the bytes, and their masked CRC-32C, each checksum a
    little-endian uint32 (https://www.tensorflow.org/tutorials/load_data/tfrecord). A test compares
    the bytes with TensorFlow's writer.
    """
    with epath.Path(path).open("wb") as file:
        for record in records:
            length = struct.pack("<Q", len(record))
            file.write(length)
            file.write(struct.pack("<I", _masked_crc32c(length)))
            file.write(record)
            file.write(struct.pack("<I", _masked_crc32c(record)))


def _masked_crc32c(data):
    # TFRecord rotates the CRC right by 15 bits and adds a constant, as its format defines.
    crc = google_crc32c.value(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF
