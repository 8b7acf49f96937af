"""Cluttered Omniglot: one-shot segmentation of a target character in a cluttered scene."""

import collections
import dataclasses

from absl import logging
import apache_beam as beam
from etils import epath
import numpy as np
import tensorflow_datasets as tfds

from cluttered_omniglot import beam_generation
from cluttered_omniglot import local_generation
from cluttered_omniglot import omniglot_source
from cluttered_omniglot import shard_writing
from cluttered_omniglot.core import jobs
from cluttered_omniglot.core import splits

_MANUAL_DOWNLOAD_INSTRUCTIONS = """\
Optional. To build without network access, put the two official Omniglot archives
`images_background.zip` and `images_evaluation.zip` (from
https://github.com/brendenlake/omniglot/tree/master/python) in the manual dir, for example
`tfds build ... --manual_dir DIR`. The folders `images_background/` and `images_evaluation/`
extracted from them work too. Without them, the builder downloads both archives.
"""


_DEFAULT_BEAM_RUNNER = "FnApiRunner"


@dataclasses.dataclass(eq=False)
class ClutteredOmniglotConfig(tfds.core.BuilderConfig):
    """A clutter level and split sizes.

    Attributes:
      clutter: characters per scene, the target included.
      train_examples: size of the `train` split; a positive multiple of 2000.
      eval_examples: size of each of the four validation and test splits; a positive multiple of
        2000. Every split is the prefix of the paper's split of the same name.
    """

    clutter: int = 4
    train_examples: int = splits.PAPER_TRAIN_EXAMPLES
    eval_examples: int = splits.PAPER_EVAL_EXAMPLES

    def __post_init__(self):
        jobs.check_clutter(self.clutter)
        splits.check_example_count(self.train_examples, "train_examples")
        splits.check_example_count(self.eval_examples, "eval_examples")
        limits = (
            ("train_examples", self.train_examples, splits.SPLITS[0], "train split"),
            ("eval_examples", self.eval_examples, splits.SPLITS[1], "validation and test splits"),
        )
        for field, size, spec, described_splits in limits:
            limit = splits.paper_examples(spec)
            if size > limit:
                raise ValueError(
                    f"{field} must be at most {limit}, the size of the paper's {described_splits}, "
                    f"got {size}. Use {field} up to {limit}."
                )


def _paper_config(clutter):
    return ClutteredOmniglotConfig(
        name=f"clutter_{clutter}",
        description=f"{clutter} characters per scene, the paper's split sizes.",
        clutter=clutter,
    )


class ClutteredOmniglot(tfds.core.ShardBasedBuilder):
    """Cluttered Omniglot scenes, target exemplars and target segmentation masks."""

    VERSION = tfds.core.Version("1.0.0")
    RELEASE_NOTES = {"1.0.0": "First release, bit-identical to the authors' published splits."}
    BUILDER_CONFIGS = [_paper_config(clutter) for clutter in splits.CLUTTER_LEVELS]
    MANUAL_DOWNLOAD_INSTRUCTIONS = _MANUAL_DOWNLOAD_INSTRUCTIONS

    def download_and_prepare(self, *, download_config=None, **kwargs):
        """Build the dataset, with Apache Beam when a Beam runner or Beam options are given.

        Without them, a local process pool renders and writes the shards. With Beam options but no
        runner, the runner is Beam's local FnApiRunner: the DirectRunner would first try the Prism
        runner, which downloads a binary from GitHub. The FnApiRunner still honours
        `direct_num_workers` and `direct_running_mode`.
        """
        if local_generation.in_spawn_bootstrap():
            # A script without a __main__ guard, run again by one of its own build processes: stop
            # before TFDS creates any folder, so that killing this process leaves nothing behind.
            raise RuntimeError(local_generation.unguarded_script_message())
        download_config = download_config or tfds.download.DownloadConfig()
        options = download_config.beam_options
        self._use_beam = download_config.beam_runner is not None or options is not None
        self._requested_manual_dir = download_config.manual_dir
        runner_chosen = download_config.beam_runner is not None or (
            options is not None and options.view_as(beam.options.pipeline_options.StandardOptions).runner
        )
        if self._use_beam and not runner_chosen:
            download_config = dataclasses.replace(download_config, beam_runner=_DEFAULT_BEAM_RUNNER)
        super().download_and_prepare(download_config=download_config, **kwargs)

    def _info(self):
        features = tfds.features.FeaturesDict({
            "image": tfds.features.Image(shape=(96, 96, 3), doc="Scene of colored characters."),
            "target": tfds.features.Image(shape=(32, 32, 3), doc="Another drawing-augmentation of the target."),
            "segmentation": tfds.features.Image(
                shape=(96, 96, 1), doc="1 on the target's pixels in the scene, 0 elsewhere."
            ),
            "index": tfds.features.Scalar(np.int64, doc="Position of the example in the paper's split."),
            "target_alphabet": tfds.features.ClassLabel(names_file=str(omniglot_source.ALPHABET_NAMES_FILE)),
            "target_character": tfds.features.ClassLabel(names_file=str(omniglot_source.CHARACTER_NAMES_FILE)),
            "target_drawer": tfds.features.Scalar(np.int64, doc="Omniglot drawer of the target, 0-19."),
            "target_bbox": tfds.features.BBoxFeature(doc="Box of the target's crop in the scene."),
        })
        return self.dataset_info_from_configs(
            features=features,
            supervised_keys=({"image": "image", "target": "target"}, "segmentation"),
            homepage="https://github.com/michaelisc/cluttered-omniglot",
            # Stored with the dataset, because a custom config loads back as a plain BuilderConfig.
            metadata=tfds.core.MetadataDict(
                clutter=self.builder_config.clutter,
                train_examples=self.builder_config.train_examples,
                eval_examples=self.builder_config.eval_examples,
            ),
        )

    def _shard_iterators_per_split(self, dl_manager):
        return self._plan_shards(dl_manager, max_examples_per_split=None)

    def _plan_shards(self, dl_manager, max_examples_per_split):
        """Return {split name: its `ShardTask`s}, after checking both archives."""
        archive_paths = self._archive_paths(dl_manager)
        for path in archive_paths.values():
            omniglot_source.load_checked_archive(str(path))

        tasks = {}
        for spec in splits.SPLITS:
            examples = self.builder_config.train_examples if spec.is_train else self.builder_config.eval_examples
            if max_examples_per_split is not None:
                examples = min(examples, max_examples_per_split)
            tasks[spec.name] = shard_writing.plan_split(
                spec.name,
                self.builder_config.clutter,
                examples,
                archive_paths[spec.pool.archive],
                self._get_filename_template(split_name=spec.name),
            )
        return tasks

    def _download_and_prepare(self, dl_manager, download_config=None):
        """Write the shards of all splits in parallel, with Beam or a local process pool.

        TFDS's `ShardBasedBuilder` would write one shard after another. All splits go into one Beam
        stage or one pool instead, so small splits keep every worker busy too.
        """
        download_config = download_config or tfds.download.DownloadConfig()
        if download_config.num_shards is not None:
            raise ValueError(
                f"num_shards={download_config.num_shards} is not supported: cluttered_omniglot writes "
                f"shards of {shard_writing.EXAMPLES_PER_SHARD} examples, so that every runner writes the "
                "same files. Leave --num_shards out."
            )
        if download_config.max_examples_per_split == 0:
            return  # TFDS writes no split then, whatever the builder.
        tasks_by_split = self._plan_shards(dl_manager, download_config.max_examples_per_split)
        tasks = [task for split_tasks in tasks_by_split.values() for task in split_tasks]
        for split, split_tasks in tasks_by_split.items():
            examples = sum(task.examples for task in split_tasks)
            logging.info("Split %s: %d examples in %d shards", split, examples, len(split_tasks))
        if getattr(self, "_use_beam", False):
            self._write_shards_with_beam(tasks, download_config)
        else:
            self._write_shards_locally(tasks)

        split_infos = []
        for split, split_tasks in tasks_by_split.items():
            split_infos.append(
                tfds.core.SplitInfo(
                    name=split,
                    shard_lengths=[task.examples for task in split_tasks],
                    num_bytes=sum(epath.Path(task.path).stat().length for task in split_tasks),
                    filename_template=self._get_filename_template(split_name=split),
                )
            )
        self.info.set_splits(tfds.core.SplitDict(split_infos))

    def _write_shards_with_beam(self, tasks, download_config):
        options = download_config.beam_options or beam.options.pipeline_options.PipelineOptions()
        pipeline = beam.Pipeline(runner=download_config.beam_runner, options=options)
        with pipeline:
            _ = pipeline | "WriteShards" >> beam_generation.WriteShards(  # pylint: disable=no-value-for-parameter
                tasks, self.info.features, self.info.file_format
            )
        self._process_pipeline_result(pipeline.result)

    def _write_shards_locally(self, tasks):
        retries = collections.Counter()
        with local_generation.RenderPool() as render_pool:
            logging.info("Writing %d shards with %d processes", len(tasks), render_pool.processes)
            results = render_pool.write_shards(tasks, self.info.features, self.info.file_format)
            for result in tfds.core.utils.tqdm(results, total=len(tasks), desc="Writing shards", unit=" shards"):
                retries[result.split] += result.retried_characters
        for split, count in retries.items():
            logging.info("Split %s: %d character augmentations were drawn again after a blank crop", split, count)

    def _archive_paths(self, dl_manager):
        requested_dir = getattr(self, "_requested_manual_dir", None)
        if requested_dir is not None and not epath.Path(requested_dir).is_dir():
            # Downloading instead would hide a typo in the path behind a network request.
            raise FileNotFoundError(
                f"The manual dir {requested_dir} does not exist. Fix the --manual_dir path, or leave "
                "it out to download the official Omniglot archives."
            )
        try:
            manual_dir = dl_manager.manual_dir
        except AssertionError:  # TFDS raises it when the manual dir is unset, missing or empty.
            manual_dir = None
        paths = omniglot_source.manual_archive_paths(manual_dir)
        if paths is None:
            logging.info("Downloading the Omniglot archives from %s", ", ".join(omniglot_source.ARCHIVE_URLS.values()))
            paths = dl_manager.download(omniglot_source.ARCHIVE_URLS)
        else:
            logging.info("Reading the Omniglot archives from the manual dir %s", manual_dir)
        return paths

    def _process_pipeline_result(self, pipeline_result):
        """Log the value of each `cluttered_omniglot` Beam counter of the finished pipeline."""
        try:
            query = pipeline_result.metrics().query(
                beam.metrics.MetricsFilter().with_namespace(beam_generation.COUNTER_NAMESPACE)
            )
        except NotImplementedError:
            logging.warning("The Beam runner does not report metrics, so the build counters are not logged.")
            return
        totals = collections.Counter()
        for counter in query["counters"]:
            # Runners that cannot commit metrics report None as committed value.
            value = counter.committed if counter.committed is not None else counter.attempted
            totals[counter.key.metric.name] += value
        for name, value in sorted(totals.items()):
            logging.info("Beam counter %s:%s = %d", beam_generation.COUNTER_NAMESPACE, name, value)
