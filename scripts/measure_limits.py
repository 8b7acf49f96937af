"""Measure time, memory and disk limits of Cluttered Omniglot builds on this machine.

For every requested clutter level the script runs two measurements:
  1. A fresh process does what a Beam worker does for one job: read the archive, render job 0 of
     `train`, then encode and serialize its 2000 examples with the TFDS features. It reports the time
     of each step and its peak resident memory (RSS).
  2. `tfds build` builds a small config with Beam worker processes (multi_processing, tfrecord). The
     script samples the RSS of the build's processes every 0.1 s and measures the bytes of the
     written record files, then extrapolates them to the paper's split sizes. With two or more
     --train_jobs values, it also extrapolates the driver's RSS growth per job to a paper config.

Usage:
  PYTHONPATH=. python scripts/measure_limits.py [--clutter 4 256] [--train_jobs 2 10] [--workers 2]
      [--manual_dir DIR] [--work_dir DIR]

The build measurement needs psutil (`pip install psutil`, part of the `test` extra).

The archives are read from --manual_dir (default: $CLUTTERED_OMNIGLOT_MANUAL_DIR). The printed
tables are Markdown, ready for docs/limits.md.
"""

import argparse
import json
import os
import pathlib
import platform
import resource
import subprocess
import sys
import tempfile
import time

import psutil

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]
MANUAL_DIR_VARIABLE = "CLUTTERED_OMNIGLOT_MANUAL_DIR"
MEASURED_SPLIT = "train"
GB = 1e9
MB = 1e6
RSS_SAMPLE_SECONDS = 0.1


def peak_rss_bytes():
    # Linux reports ru_maxrss in kilobytes.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def measure_worker(clutter, manual_dir):
    """Render and encode one job like a Beam worker, and return timings (s) and peak RSS (bytes)."""
    started = time.perf_counter()
    import tensorflow_datasets as tfds  # pylint: disable=import-outside-toplevel
    from tensorflow_datasets.core import example_serializer  # pylint: disable=import-outside-toplevel

    import cluttered_omniglot  # pylint: disable=import-outside-toplevel
    from cluttered_omniglot import example_records  # pylint: disable=import-outside-toplevel
    from cluttered_omniglot import omniglot_source  # pylint: disable=import-outside-toplevel
    from cluttered_omniglot.core import jobs  # pylint: disable=import-outside-toplevel
    from cluttered_omniglot.core import splits  # pylint: disable=import-outside-toplevel

    result = {"import_s": time.perf_counter() - started, "rss_after_import": peak_rss_bytes()}

    spec = splits.split_spec(MEASURED_SPLIT)
    started = time.perf_counter()
    paths = omniglot_source.manual_archive_paths(manual_dir)
    if paths is None:
        raise FileNotFoundError(
            f"Missing images_background.zip and images_evaluation.zip (or their extracted folders) in "
            f"{manual_dir}. Pass --manual_dir with the folder that contains them."
        )
    omniglot_set = omniglot_source.load_checked_archive(str(paths[spec.pool.archive]))
    pool_strokes = omniglot_set.packed_strokes[
        omniglot_set.pool_slice(spec.pool.first_alphabet, spec.pool.stop_alphabet)
    ]
    result["archive_s"] = time.perf_counter() - started
    result["rss_after_archive"] = peak_rss_bytes()

    # The first call loads or compiles the rendering engine, so it is timed apart from the job.
    started = time.perf_counter()
    jobs.render_job(jobs.JobRequest(MEASURED_SPLIT, clutter, 0, count=1), pool_strokes)
    result["warmup_s"] = time.perf_counter() - started
    result["rss_after_warmup"] = peak_rss_bytes()

    request = jobs.JobRequest(MEASURED_SPLIT, clutter, 0)
    started = time.perf_counter()
    job_arrays = jobs.render_job(request, pool_strokes)
    result["render_s"] = time.perf_counter() - started
    result["rss_after_render"] = peak_rss_bytes()

    config = cluttered_omniglot.ClutteredOmniglotConfig(
        name="measure", clutter=clutter, train_examples=splits.EXAMPLES_PER_JOB,
        eval_examples=splits.EXAMPLES_PER_JOB,
    )
    features = tfds.builder("cluttered_omniglot", config=config, data_dir=tempfile.gettempdir()).info.features
    serializer = example_serializer.ExampleSerializer(features.get_serialized_info())
    character_labels, alphabet_labels = example_records.pool_labels(omniglot_set, spec)
    started = time.perf_counter()
    serialized_bytes = 0
    for _, example in example_records.job_records(job_arrays, request, character_labels, alphabet_labels):
        serialized_bytes += len(serializer.serialize_example(features.encode_example(example)))
    result["encode_s"] = time.perf_counter() - started
    result["serialized_bytes"] = serialized_bytes
    result["examples"] = len(job_arrays)
    result["peak_rss"] = peak_rss_bytes()
    return result


def worker_environment():
    """Return os.environ with this repository on PYTHONPATH, so subprocesses import this package."""
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join(
        [str(REPO_ROOT)] + [p for p in environment.get("PYTHONPATH", "").split(os.pathsep) if p]
    )
    return environment


def run_worker(clutter, manual_dir):
    """Run `measure_worker` in a fresh interpreter, so its peak RSS is that of one worker."""
    completed = subprocess.run(
        [sys.executable, __file__, "--worker", str(clutter), "--manual_dir", str(manual_dir)],
        env=worker_environment(), capture_output=True, text=True, check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"The worker measurement for clutter {clutter} failed:\n{completed.stderr[-4000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def sample_peak_rss(process):
    """Wait for `process` and return the peak sampled RSS (bytes) of its driver and Beam workers.

    Beam's multi_processing workers run `apache_beam.runners.worker.sdk_worker_main`. Sampling
    misses peaks shorter than RSS_SAMPLE_SECONDS.
    """
    driver = psutil.Process(process.pid)
    peaks = {"driver": 0, "worker": 0}
    while process.poll() is None:
        try:
            processes = [driver] + driver.children(recursive=True)
        except psutil.NoSuchProcess:
            break
        for member in processes:
            try:
                rss = member.memory_info().rss
                command = " ".join(member.cmdline())
            except psutil.Error:  # The process ended between listing and reading it.
                continue
            role = "worker" if "sdk_worker_main" in command else "driver"
            peaks[role] = max(peaks[role], rss)
        time.sleep(RSS_SAMPLE_SECONDS)
    return peaks


def measure_build(clutter, train_jobs, workers, manual_dir, work_dir):
    """Build `train_jobs` train jobs and one job per evaluation split with `tfds build`.

    Returns the wall time, the peak sampled RSS of the driver and of the largest Beam worker, and
    the bytes and examples of each split.
    """
    from cluttered_omniglot.core import splits  # pylint: disable=import-outside-toplevel

    config = {
        "name": f"measure_clutter_{clutter}_train_jobs_{train_jobs}",
        "clutter": clutter,
        "train_examples": train_jobs * splits.EXAMPLES_PER_JOB,
        "eval_examples": splits.EXAMPLES_PER_JOB,
    }
    data_dir = pathlib.Path(work_dir) / config["name"]
    command = [
        sys.executable, "-m", "tensorflow_datasets.scripts.cli.main", "build", "cluttered_omniglot",
        "--imports", "cluttered_omniglot", "--config", json.dumps(config),
        "--data_dir", str(data_dir), "--manual_dir", str(manual_dir),
        f"--beam_pipeline_options=direct_num_workers={workers},direct_running_mode=multi_processing",
    ]
    log_path = pathlib.Path(work_dir) / f"{config['name']}.log"
    started = time.perf_counter()
    with open(log_path, "w", encoding="utf-8") as log:
        process = subprocess.Popen(command, env=worker_environment(), stdout=log, stderr=subprocess.STDOUT)
        peaks = sample_peak_rss(process)
    wall_s = time.perf_counter() - started
    if process.returncode != 0:
        raise RuntimeError(f"The build for clutter {clutter} failed. The end of {log_path} follows:\n"
                           f"{log_path.read_text()[-4000:]}")

    dataset_dir = data_dir / "cluttered_omniglot" / config["name"]
    (version_dir,) = [path for path in dataset_dir.iterdir() if not path.name.startswith("incomplete.")]
    split_bytes = {}
    split_examples = {}
    for spec in splits.SPLITS:
        split_examples[spec.name] = config["train_examples"] if spec.is_train else config["eval_examples"]
        split_bytes[spec.name] = sum(
            path.stat().st_size for path in version_dir.glob(f"*-{spec.name}.tfrecord*")
        )
    return {
        "wall_s": wall_s,
        "jobs": sum(split_examples.values()) // splits.EXAMPLES_PER_JOB,
        "driver_rss": peaks["driver"],
        "worker_rss": peaks["worker"],
        "split_bytes": split_bytes,
        "split_examples": split_examples,
    }


def paper_estimate(build):
    """Extrapolate the bytes of a paper-sized config from the measured bytes per example."""
    from cluttered_omniglot.core import splits  # pylint: disable=import-outside-toplevel

    train_rate = build["split_bytes"]["train"] / build["split_examples"]["train"]
    eval_splits = [spec.name for spec in splits.SPLITS if not spec.is_train]
    eval_rate = sum(build["split_bytes"][s] for s in eval_splits) / sum(
        build["split_examples"][s] for s in eval_splits
    )
    paper_bytes = train_rate * splits.PAPER_TRAIN_EXAMPLES + eval_rate * splits.PAPER_EVAL_EXAMPLES * len(eval_splits)
    return train_rate, eval_rate, paper_bytes


def machine_description():
    cpu_model = "unknown"
    with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / GB
    import numba  # pylint: disable=import-outside-toplevel
    import numpy  # pylint: disable=import-outside-toplevel
    import tensorflow_datasets  # pylint: disable=import-outside-toplevel

    return (
        f"nproc {os.cpu_count()}, CPU {cpu_model}, memory {memory_gb:.1f} GB, "
        f"Python {platform.python_version()}, numpy {numpy.__version__}, numba {numba.__version__}, "
        f"tensorflow-datasets {tensorflow_datasets.__version__}"
    )


def paper_jobs():
    from cluttered_omniglot.core import splits  # pylint: disable=import-outside-toplevel

    return sum(splits.paper_examples(spec) for spec in splits.SPLITS) // splits.EXAMPLES_PER_JOB


def driver_growth(builds):
    """Return (clutter, jobs range, driver RSS bytes per job, extrapolated paper-config RSS) rows."""
    rows = []
    for clutter in sorted({clutter for clutter, _ in builds}):
        sizes = sorted(train_jobs for level, train_jobs in builds if level == clutter)
        if len(sizes) < 2:
            continue
        small, large = builds[(clutter, sizes[0])], builds[(clutter, sizes[-1])]
        growth = (large["driver_rss"] - small["driver_rss"]) / (large["jobs"] - small["jobs"])
        paper_rss = small["driver_rss"] + growth * (paper_jobs() - small["jobs"])
        rows.append((clutter, f"{small['jobs']} to {large['jobs']}", growth, paper_rss))
    return rows


def print_tables(workers, builds, worker_count):
    print(f"Machine: {machine_description()}")
    print()

    print(f"One job ({MEASURED_SPLIT} job 0, 2000 examples) in a fresh process. The CPU hours "
          f"extrapolate render + encode to the {paper_jobs()} jobs of a paper-sized config, without "
          "writing the record files (an estimate):")
    print()
    print("| clutter | archive read s | engine warm-up s | render s | encode+serialize s | "
          "RSS after imports MB | after archive MB | after warm-up MB | peak RSS MB | "
          "est. paper config CPU h |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for clutter, worker in workers.items():
        cpu_hours = (worker["render_s"] + worker["encode_s"]) * paper_jobs() / 3600
        print(
            f"| {clutter} | {worker['archive_s']:.1f} | {worker['warmup_s']:.1f} | {worker['render_s']:.2f} | "
            f"{worker['encode_s']:.2f} | {worker['rss_after_import'] / MB:.0f} | "
            f"{worker['rss_after_archive'] / MB:.0f} | {worker['rss_after_warmup'] / MB:.0f} | "
            f"{worker['peak_rss'] / MB:.0f} | {cpu_hours:.1f} |"
        )
    print()

    print(f"`tfds build` of N train jobs and 1 job per evaluation split with {worker_count} "
          "Beam worker processes (multi_processing, tfrecord). The wall time includes starting the "
          "command and reading both archives. RSS is sampled every "
          f"{RSS_SAMPLE_SECONDS} s. The paper-sized config is extrapolated from the bytes per "
          "example (an estimate):")
    print()
    print("| clutter | N | jobs | build wall s | driver peak RSS MB | worker peak RSS MB | "
          "train bytes/example | eval bytes/example | est. paper config GB |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for (clutter, train_jobs), build in builds.items():
        train_rate, eval_rate, paper_bytes = paper_estimate(build)
        print(
            f"| {clutter} | {train_jobs} | {build['jobs']} | {build['wall_s']:.0f} | "
            f"{build['driver_rss'] / MB:.0f} | {build['worker_rss'] / MB:.0f} | {train_rate:.0f} | "
            f"{eval_rate:.0f} | {paper_bytes / GB:.2f} |"
        )

    growth_rows = driver_growth(builds)
    if growth_rows:
        print()
        print("Driver RSS growth between the smallest and largest build of each clutter level, "
              f"extrapolated linearly to the {paper_jobs()} jobs of a paper config (an estimate):")
        print()
        print("| clutter | jobs | driver RSS growth MB per job | est. driver RSS for a paper config GB |")
        print("|---:|---:|---:|---:|")
        for clutter, jobs_range, growth, paper_rss in growth_rows:
            print(f"| {clutter} | {jobs_range} | {growth / MB:.0f} | {paper_rss / GB:.0f} |")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--clutter", type=int, nargs="+", default=[4, 256],
                        help="clutter levels (characters per scene) to measure (default: 4 256)")
    parser.add_argument("--train_jobs", type=int, nargs="+", default=[2],
                        help="numbers of 2000-example train jobs of the measured builds, one build per "
                             "value and clutter level (default: 2)")
    parser.add_argument("--workers", type=int, default=2,
                        help="Beam worker processes of each measured build (default: 2)")
    parser.add_argument("--manual_dir", default=os.environ.get(MANUAL_DIR_VARIABLE),
                        help=f"folder with the Omniglot archives (default: ${MANUAL_DIR_VARIABLE})")
    parser.add_argument("--work_dir", default=None,
                        help="folder for the measured builds (default: a temporary folder, deleted at exit)")
    parser.add_argument("--worker", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not args.manual_dir:
        parser.error(f"set --manual_dir or ${MANUAL_DIR_VARIABLE} to the folder with the Omniglot archives")
    return args


def main():
    args = parse_args()
    if args.worker is not None:
        print(json.dumps(measure_worker(args.worker, args.manual_dir)))
        return
    workers = {clutter: run_worker(clutter, args.manual_dir) for clutter in args.clutter}
    with tempfile.TemporaryDirectory(prefix="measure_limits_") as temporary:
        work_dir = args.work_dir or temporary
        builds = {
            (clutter, train_jobs): measure_build(clutter, train_jobs, args.workers, args.manual_dir, work_dir)
            for clutter in args.clutter
            for train_jobs in args.train_jobs
        }
    print_tables(workers, builds, args.workers)


if __name__ == "__main__":
    sys.path.insert(0, str(REPO_ROOT))
    main()
