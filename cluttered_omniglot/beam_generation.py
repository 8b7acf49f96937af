"""Apache Beam transform that writes the planned shards of a build, one shard per element."""

import apache_beam as beam

from cluttered_omniglot import shard_writing

COUNTER_NAMESPACE = "cluttered_omniglot"


class WriteShard(beam.DoFn):
    """Render and write one shard per input `ShardTask`, and emit its `ShardResult`.

    Each worker reads the Omniglot archive from the task's `archive_path` once per process, so the
    pipeline graph stays small enough for Dataflow.
    """

    def __init__(self, features, file_format):
        self._features = features
        self._file_format = file_format
        self._shards = beam.metrics.Metrics.counter(COUNTER_NAMESPACE, "shards")
        self._scenes = beam.metrics.Metrics.counter(COUNTER_NAMESPACE, "scenes")
        self._retries = beam.metrics.Metrics.counter(COUNTER_NAMESPACE, "retried_characters")

    def process(self, task):
        result = shard_writing.write_shard(task, self._features, self._file_format)
        self._shards.inc()
        self._scenes.inc(result.examples)
        self._retries.inc(result.retried_characters)
        yield result


@beam.ptransform_fn
def WriteShards(pipeline, tasks, features, file_format):  # pylint: disable=invalid-name
    """Write every `ShardTask` of `tasks`, whatever its split, in one stage.

    One stage for all splits lets Beam's local runner spread the shards of small splits over its
    workers too, because it runs the stages of a pipeline one after another. `beam.Create`
    reshuffles its elements, so runners distribute the tasks instead of fusing them into one bundle.
    """
    return (
        pipeline
        | "CreateShardTasks" >> beam.Create(tasks)
        | "WriteShards" >> beam.ParDo(WriteShard(features, file_format))
    )
