"""Build without Apache Beam: a pool of processes renders and writes the planned shards.

Every process writes whole shards, so only shard descriptions and counts pass between processes,
and the launching process stays idle while the pool works.
"""

from concurrent import futures
import functools
import multiprocessing
import os

from cluttered_omniglot import shard_writing


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


_MAIN_GUARD_ADVICE = (
    "Build processes start with multiprocessing's spawn method and import the main module again, "
    'so a script that builds must do so under `if __name__ == "__main__":`. To build in this '
    f"process instead, set {PROCESSES_VARIABLE}=1."
)


def unguarded_script_message():
    """Return the error message for a build that its own worker process started again."""
    return f"A build was started while a build process imported the main module. {_MAIN_GUARD_ADVICE}"


def in_spawn_bootstrap():
    """Return True while this process is a spawned worker that is still importing the main module.

    multiprocessing makes the same check, through the same private attribute, before it refuses
    to start processes from there.
    """
    return getattr(multiprocessing.current_process(), "_inheriting", False)


class RenderPool:
    """Worker processes that render and write shards; use it as a context manager.

    The processes start on first use: each one imports the package, loads the compiled engine and
    reads the archives once, which takes seconds. Leaving the block stops the processes: after an
    error, shards that are already being written finish in the background, and no new one starts.
    """

    def __init__(self, processes=None):
        self.processes = processes or default_process_count()
        self._executor = None

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        if self._executor is not None:
            self._executor.shutdown(wait=exc_type is None, cancel_futures=True)
            self._executor = None

    def _started_executor(self):
        if self._executor is None:
            # spawn, because forking a process that has loaded TensorFlow is unsafe. Unlike
            # multiprocessing.Pool, the executor raises when a process dies instead of replacing it.
            self._executor = futures.ProcessPoolExecutor(
                self.processes, mp_context=multiprocessing.get_context("spawn")
            )
        return self._executor

    def write_shards(self, tasks, features, file_format):
        """Write every `ShardTask` of `tasks`; yield each `ShardResult` as its shard is written.

        Shards finish in any order. With one process, shards are written in this process.
        """
        write = functools.partial(shard_writing.write_shard, features=features, file_format=file_format)
        if self.processes == 1:
            yield from map(write, tasks)
            return
        executor = self._started_executor()
        pending = [executor.submit(write, task) for task in tasks]
        try:
            for future in futures.as_completed(pending):
                yield future.result()
        except futures.process.BrokenProcessPool as error:
            # A process that fails to start, is killed or runs out of memory breaks the pool.
            raise RuntimeError(
                "A build process exited unexpectedly, so the build stopped. If the build runs from "
                f"a script, check that the script is guarded: {_MAIN_GUARD_ADVICE} Otherwise, look "
                "for a process that was killed or ran out of memory."
            ) from error
