"""Apache Beam transform that renders the jobs of one split into keyed TFDS examples."""

import apache_beam as beam

from cluttered_omniglot import example_records
from cluttered_omniglot import omniglot_source
from cluttered_omniglot.core import jobs
from cluttered_omniglot.core import splits

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
        omniglot_set = omniglot_source.load_checked_archive(self._archive_path)
        spec = splits.split_spec(request.split)
        pool = omniglot_set.pool_slice(spec.pool.first_alphabet, spec.pool.stop_alphabet)
        job_arrays = jobs.render_job(request, omniglot_set.packed_strokes[pool])
        character_labels, alphabet_labels = example_records.pool_labels(omniglot_set, spec)
        self._scenes.inc(len(job_arrays))
        self._retries.inc(int(job_arrays.retries.sum()))
        yield from example_records.job_records(job_arrays, request, character_labels, alphabet_labels)


def job_requests(split, clutter, examples):
    """Return one `JobRequest` per 2000-example job of the first `examples` examples of a split."""
    splits.check_example_count(examples)
    jobs.check_clutter(clutter)
    return [jobs.JobRequest(split, clutter, k) for k in range(examples // splits.EXAMPLES_PER_JOB)]


@beam.ptransform_fn
def RenderSplit(pipeline, split, clutter, examples, archive_path):  # pylint: disable=invalid-name
    """Render the first `examples` examples of `split` as keyed TFDS records."""
    return (
        pipeline
        | "CreateJobs" >> beam.Create(job_requests(split, clutter, examples))
        | "Reshuffle" >> beam.Reshuffle()
        | "RenderJobs" >> beam.ParDo(RenderJob(archive_path))
    )
