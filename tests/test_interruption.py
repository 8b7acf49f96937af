"""Interrupted and failed builds: nothing half-written is loadable, and a rebuild gives the same data.

TFDS 4.9 writes a dataset into `<config>/incomplete.XXXXXX_<version>/` and renames the folder to
`<config>/<version>/` only after every split is written. A failed build deletes the temporary folder;
a killed build cannot, so its temporary folder stays until the user removes it. It does not count as
a prepared dataset, and a rebuild writes into a new temporary folder.
"""

import os
import signal
import subprocess
import textwrap
import time

import pytest
import tensorflow_datasets as tfds

from cluttered_omniglot.core import jobs
from tests import robustness_helpers as helpers

# Runs a build of the small config without Beam options, so shards render in a local process pool.
# It touches the marker file (argv[3]) once the first shard is written, then keeps the build open,
# so the kill lands while the build is running. The wrapper only observes and waits, and changes
# no example.
_BUILD_SCRIPT = textwrap.dedent("""
    import pathlib
    import sys
    import time

    from cluttered_omniglot import local_generation
    from tests import robustness_helpers

    data_dir, manual_dir, marker = sys.argv[1:4]
    write_shards = local_generation.RenderPool.write_shards

    def write_shards_and_mark(*args, **kwargs):
        for result in write_shards(*args, **kwargs):
            pathlib.Path(marker).touch()
            yield result
            time.sleep(60)

    local_generation.RenderPool.write_shards = write_shards_and_mark
    robustness_helpers.build(data_dir, robustness_helpers.small_config("robustness_reference"), manual_dir)
""")
MARKER_TIMEOUT_SECONDS = 300
# The build waits 60 s after its first shard, so a kill this long after the marker lands mid-build.
# The returncode assert catches a build that finished first.
KILL_DELAY_SECONDS = 0.3


def start_build(data_dir, manual_dir, marker):
    # A new session makes the build the leader of its own process group, so one killpg reaches the
    # build and any Beam worker it started, and nothing else.
    return subprocess.Popen(
        [helpers.python_executable(), "-c", _BUILD_SCRIPT, str(data_dir), str(manual_dir), str(marker)],
        cwd=helpers.REPO_ROOT,
        env=helpers.worker_environment(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def wait_for_marker(process, marker):
    deadline = time.monotonic() + MARKER_TIMEOUT_SECONDS
    while not marker.exists():
        if process.poll() is not None:
            error_output = process.stderr.read().decode(errors="replace")[-4000:]
            pytest.fail(f"the build exited with {process.returncode} before its first shard:\n{error_output}")
        if time.monotonic() > deadline:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            pytest.fail(f"the build wrote no shard within {MARKER_TIMEOUT_SECONDS} s")
        time.sleep(0.05)


def test_killed_build_not_prepared_then_rebuild_identical(tmp_path, tmp_path_factory):
    manual_dir = helpers.manual_dir_or_skip()
    data_dir = tmp_path / "data"
    marker = tmp_path / "first_shard_written"
    config = helpers.small_config("robustness_reference")

    process = start_build(data_dir, manual_dir, marker)
    wait_for_marker(process, marker)
    time.sleep(KILL_DELAY_SECONDS)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=60)
    process.stderr.close()

    assert process.returncode == -signal.SIGKILL, "the build finished before it was killed"
    assert not helpers.dataset_dir(data_dir, config.name).exists()
    assert not helpers.load_builder(data_dir, config).is_prepared()
    with pytest.raises(AssertionError, match="could not find data"):
        tfds.load("cluttered_omniglot", data_dir=str(data_dir), download=False, builder_kwargs={"config": config})
    stale = sorted(helpers.dataset_dir(data_dir, config.name).parent.glob("incomplete.*"))
    assert len(stale) == 1, f"expected the killed build's temporary folder, found {stale}"

    helpers.build(data_dir, config, manual_dir)

    assert helpers.load_builder(data_dir, config).is_prepared()
    assert helpers.all_fingerprints(data_dir, config) == helpers.reference_fingerprints(tmp_path_factory)


def test_build_renames_temp_dir(tmp_path_factory):
    data_dir, config, temp_dirs = helpers.reference_build(tmp_path_factory)
    final_dir = helpers.dataset_dir(data_dir, config.name)

    assert len(temp_dirs) == 1
    (temp_dir,) = temp_dirs
    assert temp_dir.parent == final_dir.parent
    assert temp_dir.name.startswith("incomplete.")
    assert temp_dir.name.endswith("_" + helpers.VERSION)
    assert not temp_dir.exists()
    assert (final_dir / "dataset_info.json").is_file()
    written = helpers.leftover_dataset_files(data_dir)
    assert [path for path in written if path.name.startswith("incomplete.")] == []
    assert [path for path in written if path.parent != final_dir] == []


def test_failing_job_leaves_no_dataset(tmp_path, tmp_path_factory, monkeypatch):
    # An exception inside the pipeline (a worker bug, a full disk) must fail the build and remove the
    # temporary folder. The reference build first fills this process's archive cache.
    helpers.reference_build(tmp_path_factory)
    manual_dir = helpers.manual_dir_or_skip()
    data_dir = tmp_path / "data"
    render_job = jobs.render_job

    def failing_render_job(request, pool_strokes):
        if request.split == "val_eval_alphabets":
            raise RuntimeError("injected failure while rendering val_eval_alphabets")
        return render_job(request, pool_strokes)

    monkeypatch.setattr(jobs, "render_job", failing_render_job)
    # One process renders in this process, where the patch applies; pool processes would not see it.
    monkeypatch.setenv("CLUTTERED_OMNIGLOT_PROCESSES", "1")

    with helpers.recorded_temp_dirs() as temp_dirs:
        with pytest.raises(Exception, match="injected failure while rendering val_eval_alphabets"):
            helpers.build(data_dir, helpers.small_config("failing_job"), manual_dir)

    helpers.assert_no_dataset_left(data_dir, "failing_job")
    assert len(temp_dirs) == 1
    assert not temp_dirs[0].exists()


# A script that builds at module level, with no `if __name__ == "__main__":` guard. Pool processes
# start with spawn and import the main module again, so each one fails while it bootstraps.
_UNGUARDED_BUILD_SCRIPT = textwrap.dedent("""
    import sys

    from tests import robustness_helpers

    data_dir, manual_dir = sys.argv[1:3]
    robustness_helpers.build(data_dir, robustness_helpers.small_config("unguarded"), manual_dir)
""")


def test_unguarded_script_fails_with_advice(tmp_path):
    manual_dir = helpers.manual_dir_or_skip()
    script = tmp_path / "build_without_guard.py"
    script.write_text(_UNGUARDED_BUILD_SCRIPT)
    environment = dict(helpers.worker_environment(), CLUTTERED_OMNIGLOT_PROCESSES="2")

    completed = subprocess.run(
        [helpers.python_executable(), str(script), str(tmp_path / "data"), str(manual_dir)],
        cwd=helpers.REPO_ROOT, env=environment, capture_output=True, text=True, timeout=300, check=False,
    )

    assert completed.returncode != 0
    assert 'if __name__ == "__main__":' in completed.stderr, completed.stderr[-3000:]
    assert "CLUTTERED_OMNIGLOT_PROCESSES=1" in completed.stderr
    helpers.assert_no_dataset_left(tmp_path / "data", "unguarded")
