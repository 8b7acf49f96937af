"""Measure rendering and `tfds build` throughput of cluttered_omniglot and print the ratios.

Usage: python benchmarks/benchmark.py [--manual_dir DIR] [--quick] [--repeats N]

Rendering: scenes per second of the compiled engine (`jobs.render_job`) and of the Pillow oracle
(`pillow_oracle.render_job_oracle`, the in-repository stand-in for the authors' per-character Pillow
code) over whole 2000-scene jobs of `val_train_alphabets`, one process, clutter 4, 32 and 256. Each
engine renders the job `--repeats` times and the best rate counts, as `timeit` does.

End to end: builds of custom configs (render, PNG encoding, serialization and writing of all five
splits) at clutter 4 and 256, with Beam's FnApiRunner and one or two worker processes, and without
Beam options, with the builder's process pool of one or two processes. The rate of a build is its
examples over its whole wall time, start-up included, which a second worker does not shorten, so
the ratios understate the steady state. Every build reports the peak resident memory of the
largest worker and of the launching process. At the end the script compares each figure with its
target. Run it on a quiet machine: every figure is wall-clock time.
"""

import argparse
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time

REPO_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_MANUAL_DIR = os.path.join(REPO_DIR, "..", "shared", "omniglot")
SPLIT = "val_train_alphabets"
EXAMPLES_PER_JOB = 2000
# (train, each other split) examples of the builds: large enough that start-up is a small part of
# the wall time. Every split is a whole number of 10,000-example shards, and the
# number of shards is even, so all shards cost the same and two workers get equal shares.
BUILD_SIZES = {4: (260000, 10000), 256: (40000, 10000)}
QUICK_SIZES = (20000, 10000)
# Build modes: Beam's local runner with its workers in separate processes, and the builder's own
# process pool, used when no Beam options are given.
BEAM = "beam"
LOCAL_POOL = "local_pool"
BUILD_MODES = ((BEAM, 1), (BEAM, 2), (LOCAL_POOL, 1), (LOCAL_POOL, 2))
PAPER_EXAMPLES = 2_000_000 + 4 * 10_000
AUTHORS_BYTES_PER_EXAMPLE = 39936
# Targets: rendering speed-up over the oracle per clutter, end to end per worker over the oracle's
# rendering at clutter 256, two Beam workers over one, and the worker memory limit.
RENDERING_TARGETS = {4: 5.0, 32: 20.0, 256: 20.0}
END_TO_END_TARGET = 5.0
TWO_WORKER_TARGET = 1.7
WORKER_MEMORY_LIMIT_MB = 1000

_BUILD_SCRIPT = """
import resource, sys, time
import tensorflow_datasets as tfds
import cluttered_omniglot
clutter, train, evaluation, workers, mode, data_dir, manual_dir = sys.argv[1:]
config = cluttered_omniglot.ClutteredOmniglotConfig(
    name="benchmark", clutter=int(clutter), train_examples=int(train), eval_examples=int(evaluation))
builder = tfds.builder("cluttered_omniglot", config=config, data_dir=data_dir)
# FnApiRunner is what the DirectRunner falls back to; naming it skips the DirectRunner's first
# attempt with the Prism runner, which downloads a binary.
options = ["--runner=FnApiRunner", "--direct_num_workers=" + workers, "--direct_running_mode=multi_processing"]
if mode == "local_pool":
    # No Beam options: the builder renders in a process pool of $CLUTTERED_OMNIGLOT_PROCESSES.
    download_config = tfds.download.DownloadConfig(manual_dir=manual_dir)
else:
    download_config = tfds.download.DownloadConfig(
        manual_dir=manual_dir,
        beam_options=tfds.core.lazy_imports.apache_beam.options.pipeline_options.PipelineOptions(options))
# ru_maxrss of a child counts the launcher's pages that the child shared between fork and exec,
# so worker memory is sampled instead: the largest resident set of any descendant process.
import threading, psutil
worker_peak = [0]
def sample_workers():
    me = psutil.Process()
    while not done.is_set():
        for child in me.children(recursive=True):
            try:
                worker_peak[0] = max(worker_peak[0], child.memory_info().rss)
            except psutil.Error:
                pass
        done.wait(0.1)
done = threading.Event()
sampler = threading.Thread(target=sample_workers, daemon=True)
sampler.start()
start = time.perf_counter()
builder.download_and_prepare(download_config=download_config)
seconds = time.perf_counter() - start
done.set()
sampler.join()
examples = sum(split.num_examples for split in builder.info.splits.values())
size = sum(split.num_bytes for split in builder.info.splits.values())
own_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print("RESULT", seconds, examples, size, own_peak, worker_peak[0] / 1024)
"""


def measure_rendering(omniglot_set, clutter, engine, jobs_module, repeats):
    """Render job 0 of SPLIT `repeats` times; return (best scenes per second, the last output)."""
    from cluttered_omniglot.core import splits

    spec = splits.split_spec(SPLIT)
    pool = omniglot_set.pool_slice(spec.pool.first_alphabet, spec.pool.stop_alphabet)
    request = jobs_module.JobRequest(SPLIT, clutter, 0, EXAMPLES_PER_JOB)
    best_seconds = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        arrays = engine(request, omniglot_set.packed_strokes[pool])
        best_seconds = min(best_seconds, time.perf_counter() - start)
    return len(arrays) / best_seconds, arrays


def rendering_table(manual_dir, clutters, repeats):
    from cluttered_omniglot.core import jobs
    from cluttered_omniglot.core import omniglot_archives
    from cluttered_omniglot.core import pillow_oracle

    omniglot_set = omniglot_archives.read_omniglot_archive(os.path.join(manual_dir, "images_background.zip"))
    # A first whole job loads or compiles the engine and pays the process's one-time costs, which
    # at clutter 4 take longer than the job itself, so it is not counted.
    jobs.render_job(jobs.JobRequest(SPLIT, 4, 0, EXAMPLES_PER_JOB), omniglot_set.packed_strokes[:964])

    print(f"Rendering alone, one process, whole 2000-scene jobs of {SPLIT}, best of {repeats}")
    print("engine: the builder's compiled renderer (core/fast_render.py); oracle: the Pillow reference")
    print("renderer (core/pillow_oracle.py), which transforms each character as the authors' code does")
    print(f"{'clutter':>7} {'engine scenes/s':>16} {'oracle scenes/s':>16} {'ratio':>7} {'identical':>9}")
    rates = {}
    for clutter in clutters:
        fast_rate, fast_arrays = measure_rendering(omniglot_set, clutter, jobs.render_job, jobs, repeats)
        oracle_rate, oracle_arrays = measure_rendering(
            omniglot_set, clutter, pillow_oracle.render_job_oracle, jobs, repeats
        )
        identical = all(
            (getattr(fast_arrays, field) == getattr(oracle_arrays, field)).all()
            for field in ("images", "targets", "segmentations", "characters", "drawers", "bboxes")
        )
        rates[clutter] = (fast_rate, oracle_rate, identical)
        print(f"{clutter:7d} {fast_rate:16.1f} {oracle_rate:16.1f} {fast_rate / oracle_rate:7.1f} {str(identical):>9}")
    return rates


def run_build(clutter, workers, mode, manual_dir, sizes):
    train, evaluation = sizes
    data_dir = tempfile.mkdtemp(prefix="cluttered_omniglot_benchmark_")
    arguments = [str(clutter), str(train), str(evaluation), str(workers), mode, data_dir, manual_dir]
    try:
        environment = dict(os.environ, CLUTTERED_OMNIGLOT_PROCESSES=str(workers))
        completed = subprocess.run(
            [sys.executable, "-c", _BUILD_SCRIPT, *arguments], capture_output=True, text=True, check=False,
            env=environment,
        )
        if completed.returncode != 0:
            raise RuntimeError(
                f"build at clutter {clutter} with {workers} workers ({mode}) failed:\n{completed.stderr[-3000:]}"
            )
        line = next(line for line in completed.stdout.splitlines() if line.startswith("RESULT"))
        seconds, examples, size, own_peak, child_peak = (float(value) for value in line.split()[1:])
        # Both peaks are in KiB. In a pool of one, the launching process renders and writes, so it
        # is the worker. Otherwise the largest sampled descendant is the worker.
        worker_peak = own_peak if (mode == LOCAL_POOL and workers == 1) else child_peak
        return {
            "seconds": seconds,
            "examples": int(examples),
            "bytes_per_example": size / examples,
            "worker_peak_mb": worker_peak * 1024 / 1e6,
            "launcher_peak_mb": own_peak * 1024 / 1e6,
        }
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def build_table(manual_dir, clutters, quick):
    """Print the rate of a whole build in each build mode; return {(clutter, mode, workers): row}."""
    print()
    print("End to end (render, PNG encoding, TFDS encoding and writing of all five splits),")
    print("whole builds, start-up included")
    print(f"{'clutter':>7} {'mode':>10} {'workers':>7} {'examples':>8} {'seconds':>8} {'examples/s':>10} "
          f"{'peak worker MB':>14} {'peak launcher MB':>16} {'bytes/example':>13}")
    rows = {}
    for clutter in clutters:
        sizes = QUICK_SIZES if quick else BUILD_SIZES[clutter]
        for mode, workers in BUILD_MODES:
            result = run_build(clutter, workers, mode, manual_dir, sizes)
            row = dict(result, rate=result["examples"] / result["seconds"])
            rows[clutter, mode, workers] = row
            print(f"{clutter:7d} {mode:>10} {workers:7d} {row['examples']:8d} {row['seconds']:8.1f} "
                  f"{row['rate']:10.1f} {row['worker_peak_mb']:14.0f} {row['launcher_peak_mb']:16.0f} "
                  f"{row['bytes_per_example']:13.0f}")
    return rows


def print_ratios(rendering, builds, clutters, build_clutters, quick):
    """Print each ratio the targets name, with the target and whether the figure meets it.

    A quick run prints the ratios without verdicts: its builds are so small that start-up
    dominates them.
    """
    checks = []

    def check(label, value, target, unit="", at_least=True):
        comparison = ">=" if at_least else "<"
        if quick:
            print(f"{label} = {value:.2f}{unit} (target {comparison} {target}{unit}, checked by a full run only)")
            return
        met = value >= target if at_least else value < target
        checks.append(met)
        print(f"{label} = {value:.2f}{unit} (target {comparison} {target}{unit}: {'met' if met else 'NOT met'})")

    print()
    for clutter in clutters:
        fast_rate, oracle_rate, _ = rendering[clutter]
        target = RENDERING_TARGETS.get(clutter)
        if target is not None:
            check(f"clutter {clutter}: rendering, engine / oracle", fast_rate / oracle_rate, target)
    all_identical = all(same for _, _, same in rendering.values())
    checks.append(all_identical)
    print(f"rendering output identical to the oracle's: {all_identical}")
    for clutter in build_clutters:
        for mode in (BEAM, LOCAL_POOL):
            ratio = builds[clutter, mode, 2]["rate"] / builds[clutter, mode, 1]["rate"]
            if mode == BEAM:
                check(f"clutter {clutter}: Beam, two worker processes / one", ratio, TWO_WORKER_TARGET)
            else:
                print(f"clutter {clutter}: local pool, two processes / one = {ratio:.2f}")
        if clutter in rendering:
            oracle_rate = rendering[clutter][1]
            per_worker = builds[clutter, BEAM, 1]["rate"] / oracle_rate
            if clutter == 256:
                check(f"clutter {clutter}: end to end, one Beam worker / oracle rendering alone", per_worker,
                      END_TO_END_TARGET)
            else:
                print(f"clutter {clutter}: end to end, one Beam worker / oracle rendering alone = {per_worker:.2f}")
    worker_peak = max(row["worker_peak_mb"] for row in builds.values())
    check("peak worker memory of all builds", worker_peak, WORKER_MEMORY_LIMIT_MB, unit=" MB", at_least=False)
    for clutter in build_clutters:
        per_example = builds[clutter, BEAM, 1]["bytes_per_example"]
        print(f"clutter {clutter}: {per_example:.0f} bytes per example, so a paper config takes about "
              f"{per_example * PAPER_EXAMPLES / 1e9:.1f} GB (the authors' raw arrays: "
              f"{AUTHORS_BYTES_PER_EXAMPLE} bytes per example)")
    if quick:
        print("quick run: targets not checked; run without --quick to check them")
    else:
        print(f"targets met: {sum(checks)} of {len(checks)}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--manual_dir", default=DEFAULT_MANUAL_DIR,
                        help="folder with images_background.zip and images_evaluation.zip")
    parser.add_argument("--quick", action="store_true", help="clutter 4 only and smaller builds, for a smoke run")
    parser.add_argument("--repeats", type=int, default=3, help="timings of each rendering job; the best counts")
    args = parser.parse_args()
    if args.repeats < 1:
        parser.error(f"--repeats must be at least 1, got {args.repeats}")
    manual_dir = os.path.abspath(args.manual_dir)

    with open("/proc/cpuinfo") as cpuinfo:
        model = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), "unknown")
    print(f"machine: {os.cpu_count()} cores, {model}, Python {platform.python_version()}")

    clutters = (4,) if args.quick else (4, 32, 256)
    rendering = rendering_table(manual_dir, clutters, args.repeats)
    build_clutters = (4,) if args.quick else (4, 256)
    builds = build_table(manual_dir, build_clutters, args.quick)
    print_ratios(rendering, builds, clutters, build_clutters, args.quick)
    print(f"benchmark process peak memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    sys.path.insert(0, REPO_DIR)
    main()
