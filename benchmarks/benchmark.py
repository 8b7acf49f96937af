"""Measure rendering and `tfds build` throughput of cluttered_omniglot and print the ratios.

Usage: python benchmarks/benchmark.py [--manual_dir DIR] [--quick] [--beam]

Rendering: scenes per second of the compiled engine (`jobs.render_job`) and of the Pillow oracle
(`pillow_oracle.render_job_oracle`, the in-repository stand-in for the authors' per-character Pillow
code) over whole 2000-scene jobs of `val_train_alphabets`, one process, clutter 4, 32 and 256.

End to end: builds of custom configs (render, PNG encoding, serialization and writing of all five
splits) at clutter 4 and 256 without Beam options, with the builder's process pool of one and of two
processes. The sustained rate comes from two builds that differ only in the train split's size.
With --beam, also whole builds with Beam's FnApiRunner (worker in process, one or two worker
processes). Every build reports the peak resident memory of the largest worker and of the launching
process. Run it on a quiet machine: every figure is wall-clock time.
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
# (train, each other split) examples of the Beam builds. Every split has an even number of jobs, so
# two workers can share each split's jobs evenly, and the train split is the largest, as in the
# paper's configs.
BEAM_SIZES = {4: (40000, 4000), 256: (12000, 4000)}
# The small and the large build of the sustained-rate measurement: only the train split differs.
SUSTAINED_SIZES = {4: ((40000, 2000), (120000, 2000)), 256: ((8000, 2000), (24000, 2000))}
# Build modes: Beam's local runner with its worker inside the launching process or in separate worker
# processes, and the builder's own process pool, used when no Beam options are given.
IN_PROCESS = "in_process"
PROCESSES = "multi_processing"
LOCAL_POOL = "local_pool"

_BUILD_SCRIPT = """
import resource, sys, time
import tensorflow_datasets as tfds
import cluttered_omniglot
clutter, train, evaluation, workers, mode, file_format, data_dir, manual_dir = sys.argv[1:]
config = cluttered_omniglot.ClutteredOmniglotConfig(
    name="benchmark", clutter=int(clutter), train_examples=int(train), eval_examples=int(evaluation))
builder = tfds.builder("cluttered_omniglot", config=config, data_dir=data_dir)
# FnApiRunner is what the DirectRunner falls back to; naming it skips the DirectRunner's first
# attempt with the Prism runner, which downloads a binary.
options = ["--runner=FnApiRunner", "--direct_num_workers=" + workers]
if mode == "multi_processing":
    options.append("--direct_running_mode=multi_processing")
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
builder.download_and_prepare(download_config=download_config, file_format=file_format)
seconds = time.perf_counter() - start
done.set()
sampler.join()
examples = sum(split.num_examples for split in builder.info.splits.values())
size = sum(split.num_bytes for split in builder.info.splits.values())
own_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print("RESULT", seconds, examples, size, own_peak, worker_peak[0] / 1024)
"""


def measure_rendering(omniglot_set, clutter, engine, jobs_module):
    from cluttered_omniglot.core import splits

    spec = splits.split_spec(SPLIT)
    pool = omniglot_set.pool_slice(spec.pool.first_alphabet, spec.pool.stop_alphabet)
    request = jobs_module.JobRequest(SPLIT, clutter, 0, EXAMPLES_PER_JOB)
    start = time.perf_counter()
    arrays = engine(request, omniglot_set.packed_strokes[pool])
    seconds = time.perf_counter() - start
    return len(arrays) / seconds, arrays


def rendering_table(manual_dir, clutters):
    from cluttered_omniglot.core import jobs
    from cluttered_omniglot.core import omniglot_archives
    from cluttered_omniglot.core import pillow_oracle

    omniglot_set = omniglot_archives.read_omniglot_archive(os.path.join(manual_dir, "images_background.zip"))
    # A first small job loads or compiles the engine, so it is not counted.
    jobs.render_job(jobs.JobRequest(SPLIT, 4, 0, 10), omniglot_set.packed_strokes[:964])

    print("Rendering alone, one process, whole 2000-scene jobs of val_train_alphabets")
    print(f"{'clutter':>7} {'engine scenes/s':>16} {'oracle scenes/s':>16} {'ratio':>7} {'identical':>9}")
    ratios = {}
    for clutter in clutters:
        fast_rate, fast_arrays = measure_rendering(omniglot_set, clutter, jobs.render_job, jobs)
        oracle_rate, oracle_arrays = measure_rendering(omniglot_set, clutter, pillow_oracle.render_job_oracle, jobs)
        identical = all(
            (getattr(fast_arrays, field) == getattr(oracle_arrays, field)).all()
            for field in ("images", "targets", "segmentations", "characters", "drawers", "bboxes")
        )
        ratios[clutter] = (fast_rate, oracle_rate)
        print(f"{clutter:7d} {fast_rate:16.1f} {oracle_rate:16.1f} {fast_rate / oracle_rate:7.1f} {str(identical):>9}")
    return ratios


def run_build(clutter, workers, mode, file_format, manual_dir, sizes):
    train, evaluation = sizes
    data_dir = tempfile.mkdtemp(prefix="cluttered_omniglot_benchmark_")
    arguments = [str(clutter), str(train), str(evaluation), str(workers), mode, file_format, data_dir, manual_dir]
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
        # Both peaks are in KiB. In process, and in a pool of one, the launching process renders
        # and writes, so it is the worker. Otherwise the largest sampled descendant is the worker.
        in_launcher = mode == IN_PROCESS or (mode == LOCAL_POOL and workers == 1)
        worker_peak = own_peak if in_launcher else child_peak
        return {
            "seconds": seconds,
            "examples": int(examples),
            "bytes_per_example": size / examples,
            "worker_peak_mb": worker_peak * 1024 / 1e6,
            "launcher_peak_mb": own_peak * 1024 / 1e6,
        }
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def sustained_table(manual_dir, clutters, oracle_rates):
    """Print the sustained rate of builds without Beam options, one and two pool processes.

    Two builds differ only in the train split's size, so the difference of their examples over the
    difference of their wall times leaves out every fixed cost: imports, archive reading, process
    start-up and the four evaluation splits.
    """
    print()
    print("End to end without Beam options (process pool; render, PNG encoding, TFDS encoding, shuffling")
    print("and writing), sustained rate = extra train examples / extra wall time between two builds")
    print(f"{'clutter':>7} {'processes':>9} {'small build s':>13} {'large build s':>13} "
          f"{'sustained examples/s':>20} {'peak worker MB':>14} {'peak launcher MB':>16}")
    rates = {}
    for clutter in clutters:
        small, large = SUSTAINED_SIZES[clutter]
        for processes in (1, 2):
            first = run_build(clutter, processes, LOCAL_POOL, "tfrecord", manual_dir, small)
            second = run_build(clutter, processes, LOCAL_POOL, "tfrecord", manual_dir, large)
            rate = (second["examples"] - first["examples"]) / (second["seconds"] - first["seconds"])
            rates[clutter, processes] = rate
            worker_peak = max(first["worker_peak_mb"], second["worker_peak_mb"])
            launcher_peak = max(first["launcher_peak_mb"], second["launcher_peak_mb"])
            print(f"{clutter:7d} {processes:9d} {first['seconds']:13.1f} {second['seconds']:13.1f} "
                  f"{rate:20.1f} {worker_peak:14.0f} {launcher_peak:16.0f}")
    print()
    for clutter in clutters:
        print(f"clutter {clutter}: sustained, two processes / one process = "
              f"{rates[clutter, 2] / rates[clutter, 1]:.2f}")
        if clutter in oracle_rates:
            print(f"clutter {clutter}: sustained, one process / oracle rendering alone = "
                  f"{rates[clutter, 1] / oracle_rates[clutter][1]:.1f}")


BEAM_RUNS = (
    (1, IN_PROCESS, "tfrecord"),
    (1, PROCESSES, "tfrecord"),
    (2, PROCESSES, "tfrecord"),
    (2, PROCESSES, "array_record"),
)


def beam_table(manual_dir, clutters):
    print()
    print("End to end with Beam's FnApiRunner (whole build, wall time)")
    print(f"{'clutter':>7} {'workers':>7} {'mode':>16} {'format':>12} {'examples':>8} {'seconds':>8} "
          f"{'examples/s':>10} {'bytes/example':>13} {'peak worker MB':>14} {'peak launcher MB':>16}")
    results = {}
    for clutter in clutters:
        for workers, mode, file_format in BEAM_RUNS:
            result = run_build(clutter, workers, mode, file_format, manual_dir, BEAM_SIZES[clutter])
            results[clutter, workers, mode, file_format] = result
            rate = result["examples"] / result["seconds"]
            print(f"{clutter:7d} {workers:7d} {mode:>16} {file_format:>12} {result['examples']:8d} "
                  f"{result['seconds']:8.1f} {rate:10.1f} {result['bytes_per_example']:13.0f} "
                  f"{result['worker_peak_mb']:14.0f} {result['launcher_peak_mb']:16.0f}")

    def rate(clutter, workers, mode):
        result = results[clutter, workers, mode, "tfrecord"]
        return result["examples"] / result["seconds"]

    print()
    for clutter in clutters:
        print(f"clutter {clutter}: Beam, two worker processes / one worker process = "
              f"{rate(clutter, 2, PROCESSES) / rate(clutter, 1, PROCESSES):.2f}")
        print(f"clutter {clutter}: Beam, two worker processes / one in-process worker = "
              f"{rate(clutter, 2, PROCESSES) / rate(clutter, 1, IN_PROCESS):.2f}")
    for clutter in clutters:
        per_example = results[clutter, 1, IN_PROCESS, "tfrecord"]["bytes_per_example"]
        paper_examples = 2_000_000 + 4 * 10_000
        print(f"clutter {clutter}: {per_example:.0f} bytes per example, so a paper config takes about "
              f"{per_example * paper_examples / 1e9:.1f} GB (the authors' raw arrays: 39936 bytes per example)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--manual_dir", default=DEFAULT_MANUAL_DIR,
                        help="folder with images_background.zip and images_evaluation.zip")
    parser.add_argument("--quick", action="store_true", help="clutter 4 only, for a smoke run")
    parser.add_argument("--beam", action="store_true",
                        help="also time whole builds with Beam's FnApiRunner (about 5 more minutes)")
    args = parser.parse_args()
    manual_dir = os.path.abspath(args.manual_dir)

    with open("/proc/cpuinfo") as cpuinfo:
        model = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), "unknown")
    print(f"machine: {os.cpu_count()} cores, {model}, Python {platform.python_version()}")

    clutters = (4,) if args.quick else (4, 32, 256)
    oracle_rates = rendering_table(manual_dir, clutters)
    build_clutters = (4,) if args.quick else (4, 256)
    sustained_table(manual_dir, build_clutters, oracle_rates)
    if args.beam:
        beam_table(manual_dir, build_clutters)
    print(f"benchmark process peak memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    sys.path.insert(0, REPO_DIR)
    main()
