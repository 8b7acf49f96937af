"""Apache Beam transform that renders the jobs of one split into keyed TFDS examples."""

import apache_beam as beam

from cluttered_omniglot import example_records

COUNTER_NAMESPACE = "cluttered_omniglot"


class RenderJob(beam.DoFn):
    """Render one 2000-example job per input element and emit its (index, features) records.

    The archive is read from `archive_path` once per worker process, so the pipeline graph stays
    small enough for Dataflow.
    """

    def __init__(self, archive_path):
        self._archive_path = str(archive_path)
        self._scenes = beam.metrics.Metrics.counter(COUNTER_NAMESPACE, "scenes")
        self._retries = beam.metrics.Metrics.counter(COUNTER_NAMESPACE, "retried_characters")

    def process(self, request):
        records, retries = example_records.render_job_records(self._archive_path, request)
        self._scenes.inc(len(records))
        self._retries.inc(retries)
        yield from records


@beam.ptransform_fn
def RenderSplit(pipeline, split, clutter, examples, archive_path):  # pylint: disable=invalid-name
    """Render the first `examples` examples of `split` as keyed TFDS records."""
    return (
        pipeline
        | "CreateJobs" >> beam.Create(example_records.job_requests(split, clutter, examples))
        | "Reshuffle" >> beam.Reshuffle()
        | "RenderJobs" >> beam.ParDo(RenderJob(archive_path))
    )
