"""Generate a split without Apache Beam: jobs render in a pool of processes, in index order.

TFDS writes a generator's examples through its own shuffler, which spills to disk, so memory stays
bounded whatever the split size. Beam's local runner instead keeps every example of the pipeline in
the launching process until the end.
"""

import collections
import multiprocessing
import os

from cluttered_omniglot import example_records

# Jobs rendered ahead of the writer per worker process: enough to keep every process busy, few
# enough that at most a handful of rendered jobs wait in memory.
_JOBS_AHEAD_PER_PROCESS = 2


# Sets the number of rendering processes of builds without Beam options; the default is one per CPU.
PROCESSES_VARIABLE = "CLUTTERED_OMNIGLOT_PROCESSES"


def default_process_count():
    """Return $CLUTTERED_OMNIGLOT_PROCESSES, or else the number of CPUs this process may use."""
    value = os.environ.get(PROCESSES_VARIABLE)
    if value:
        if not value.isdigit() or int(value) < 1:
            raise ValueError(
                f"{PROCESSES_VARIABLE}={value!r} is invalid: set it to a whole number of processes, "
                "at least 1, or unset it to use one process per CPU."
            )
        return int(value)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # Not available on macOS or Windows.
        return os.cpu_count() or 1


class RenderPool:
    """Worker processes that render and PNG-encode jobs, shared by every split of one build.

    The processes start on first use: each one imports the package, loads the compiled engine and
    reads the archives once, which takes seconds, so a build keeps one pool for all its splits.
    Use it as a context manager; leaving the block stops the processes.
    """

    def __init__(self, processes=None):
        self.processes = processes or default_process_count()
        self._pool = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None

    def _started_pool(self):
        if self._pool is None:
            # spawn, because forking a process that has loaded TensorFlow is unsafe.
            self._pool = multiprocessing.get_context("spawn").Pool(self.processes)
        return self._pool

    def generate_examples(self, split, clutter, examples, archive_path):
        """Yield the (index, features) records of the first `examples` examples of `split`, in order.

        With one process, jobs render in this process.
        """
        requests = example_records.job_requests(split, clutter, examples)
        if self.processes == 1:
            for request in requests:
                records, _ = example_records.render_job_records(archive_path, request)
                yield from records
            return

        pool = self._started_pool()
        pending = collections.deque()
        remaining = iter(requests)

        def submit(request):
            pending.append(pool.apply_async(example_records.render_job_records, (str(archive_path), request)))

        for request in remaining:
            submit(request)
            if len(pending) >= self.processes * _JOBS_AHEAD_PER_PROCESS:
                break
        while pending:
            records, _ = pending.popleft().get()
            next_request = next(remaining, None)
            if next_request is not None:
                submit(next_request)
            yield from records


def generate_examples(split, clutter, examples, archive_path, processes=None):
    """Yield the records of one split from a pool of its own; see `RenderPool.generate_examples`."""
    with RenderPool(processes) as pool:
        yield from pool.generate_examples(split, clutter, examples, archive_path)
