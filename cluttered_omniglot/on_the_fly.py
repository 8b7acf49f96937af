"""Generate Cluttered Omniglot examples in memory, without building a TFDS dataset.

`Renderer` produces the same examples as the TFDS builder, as dictionaries of numpy arrays with
the builder's feature names, shapes and dtypes (the values that `tfds.as_numpy` returns for a
built dataset), or as a `tf.data.Dataset`:

    renderer = Renderer("/path/to/omniglot")  # folder with images_background.zip, images_evaluation.zip
    job = renderer.job("val_train_alphabets", clutter=32, job_index=0)  # 2000 stacked examples
    example = renderer.example("val_train_alphabets", clutter=32, index=9999)
    dataset = renderer.as_dataset("train", clutter=32, examples=20_000)

Cost: every split is cut into jobs of 2000 consecutive examples, and each job draws its examples
from one random stream, in order. Example `index` therefore costs rendering the examples of its
job up to and including it, up to 2000 examples, and reading consecutive examples one by one with
`example` renders each job prefix again. Use `job` or `examples` to read many.

Order: `examples` and `as_dataset` yield examples in `index` order. A built TFDS dataset stores
them in the order of a hash of `index`, so compare the two by `index`.

This module imports neither TFDS nor Apache Beam, and only `as_dataset` imports TensorFlow. The
package's `__init__` still imports TFDS, because importing `cluttered_omniglot` registers the
builder.
"""

import numpy as np

from cluttered_omniglot import example_records
from cluttered_omniglot import omniglot_source
from cluttered_omniglot.core import jobs
from cluttered_omniglot.core import scene
from cluttered_omniglot.core import splits

# Feature name -> (shape, numpy dtype) of one example, as the builder's `FeaturesDict` declares it.
FEATURE_SPECS = {
    "image": ((96, 96, 3), np.uint8),
    "target": ((32, 32, 3), np.uint8),
    "segmentation": ((96, 96, 1), np.uint8),
    "index": ((), np.int64),
    "target_alphabet": ((), np.int64),
    "target_character": ((), np.int64),
    "target_drawer": ((), np.int64),
    "target_bbox": ((4,), np.float32),
}


class Renderer:
    """Renders examples of any split and clutter level from the two Omniglot archives.

    Args:
      manual_dir: folder containing the official `images_background.zip` and `images_evaluation.zip`,
        the same folder as the builder's `--manual_dir`. A local path, or any path that
        `etils.epath` opens (such as `gs://...` with the matching file system installed).

    Each archive is read and checked against the label files the first time a split needs it,
    then kept in memory (under 50 MB per archive).
    """

    def __init__(self, manual_dir):
        paths = omniglot_source.manual_archive_paths(manual_dir)
        if paths is None:
            raise FileNotFoundError(
                f"Neither images_background.zip nor images_evaluation.zip was found in {manual_dir}. "
                "Pass the folder that contains both official Omniglot archives."
            )
        self._archive_paths = {name: str(path) for name, path in paths.items()}

    def job(self, split, clutter, job_index, count=splits.EXAMPLES_PER_JOB):
        """Render the first `count` examples of job `job_index` of `split`.

        Returns:
          {feature name: array} with the examples stacked along a new first axis, so
          `job["image"]` has shape (count, 96, 96, 3). Example k of the job has
          `index` = job_index * 2000 + k.
        """
        if not _is_whole_number(count) or not 1 <= count <= splits.EXAMPLES_PER_JOB:
            raise ValueError(
                f"count must be a whole number from 1 to {splits.EXAMPLES_PER_JOB}, got {count!r}."
            )
        spec = splits.split_spec(split)
        jobs.check_clutter(clutter)
        job_count = splits.paper_examples(spec) // splits.EXAMPLES_PER_JOB
        if not _is_whole_number(job_index) or not 0 <= job_index < job_count:
            raise ValueError(
                f"job_index must be a whole number from 0 to {job_count - 1} for split {split!r}, "
                f"got {job_index!r}."
            )
        omniglot_set = omniglot_source.load_checked_archive(self._archive_paths[spec.pool.archive])
        pool = omniglot_set.pool_slice(spec.pool.first_alphabet, spec.pool.stop_alphabet)
        request = jobs.JobRequest(split, clutter, job_index, count)
        job_arrays = jobs.render_job(request, omniglot_set.packed_strokes[pool])
        character_labels, alphabet_labels = example_records.pool_labels(omniglot_set, spec)
        return _job_features(job_arrays, request, character_labels, alphabet_labels)

    def example(self, split, clutter, index):
        """Render example `index` of `split`: {feature name: array} of a single example.

        This renders the examples of the job from its start up to `index` (see the module notes).
        """
        _check_index(split, index)
        job_index, position = divmod(int(index), splits.EXAMPLES_PER_JOB)
        job = self.job(split, clutter, job_index, count=position + 1)
        return {name: values[position] for name, values in job.items()}

    def examples(self, split, clutter, examples=None):
        """Yield the first `examples` examples of `split` one by one, in `index` order.

        Args:
          examples: a positive multiple of 2000, as in a `ClutteredOmniglotConfig`. None means the
            paper's split size (2,000,000 for `train`, 10,000 otherwise).
        """
        for job_index in range(_job_count(split, examples)):
            job = self.job(split, clutter, job_index)
            for position in range(splits.EXAMPLES_PER_JOB):
                yield {name: values[position] for name, values in job.items()}

    def as_dataset(self, split, clutter, examples=None, as_supervised=False):
        """Return a `tf.data.Dataset` of `examples(split, clutter, examples)`, rendered as it is read.

        With `as_supervised=True`, elements are `({"image": ..., "target": ...}, segmentation)`,
        as `tfds.load(..., as_supervised=True)` returns for a built config.
        """
        import tensorflow as tf  # pylint: disable=import-outside-toplevel

        _job_count(split, examples)  # Raise for an invalid split or size now, not at the first read.
        jobs.check_clutter(clutter)
        signature = {
            name: tf.TensorSpec(shape, tf.as_dtype(dtype), name=name)
            for name, (shape, dtype) in FEATURE_SPECS.items()
        }
        dataset = tf.data.Dataset.from_generator(
            lambda: self.examples(split, clutter, examples), output_signature=signature
        )
        if as_supervised:
            dataset = dataset.map(
                lambda features: ({"image": features["image"], "target": features["target"]},
                                  features["segmentation"])
            )
        return dataset


def _job_features(job_arrays, request, character_labels, alphabet_labels):
    """Convert a rendered job to the feature values the builder writes (see `example_records`)."""
    count = len(job_arrays)
    boxes = job_arrays.bboxes.astype(np.float64)  # (top, left, height, width) in scene pixels
    size = float(scene.SCENE_SIZE)
    # Normalized (ymin, xmin, ymax, xmax), divided in float64 and then rounded to float32 as the
    # builder does, so the values are bit-identical to the written ones.
    normalized_boxes = np.stack(
        [boxes[:, 0] / size, boxes[:, 1] / size,
         (boxes[:, 0] + boxes[:, 2]) / size, (boxes[:, 1] + boxes[:, 3]) / size],
        axis=1,
    ).astype(np.float32)
    characters = job_arrays.characters.astype(np.int64)
    return {
        "image": job_arrays.images.astype(np.uint8, copy=False),
        "target": job_arrays.targets.astype(np.uint8, copy=False),
        "segmentation": job_arrays.segmentations.astype(np.uint8, copy=False),
        "index": request.first_example_index() + np.arange(count, dtype=np.int64),
        "target_alphabet": np.asarray(alphabet_labels, np.int64)[characters],
        "target_character": np.asarray(character_labels, np.int64)[characters],
        "target_drawer": job_arrays.drawers.astype(np.int64),
        "target_bbox": normalized_boxes,
    }


def _job_count(split, examples):
    spec = splits.split_spec(split)
    if examples is None:
        examples = splits.paper_examples(spec)
    splits.check_example_count(examples)
    if examples > splits.paper_examples(spec):
        raise ValueError(
            f"examples must be at most {splits.paper_examples(spec)}, the size of the paper's {split} "
            f"split, got {examples}. Use examples up to {splits.paper_examples(spec)}."
        )
    return examples // splits.EXAMPLES_PER_JOB


def _is_whole_number(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _check_index(split, index):
    limit = splits.paper_examples(splits.split_spec(split))
    if not _is_whole_number(index) or not 0 <= index < limit:
        raise ValueError(
            f"index must be a whole number from 0 to {limit - 1} for split {split!r}, got {index!r}."
        )
