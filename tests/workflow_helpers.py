"""A small Cluttered Omniglot build shared by the workflow tests, made once per pytest session.

The build runs the `tfds build` command line the way a user does, from the real Omniglot archives
in $CLUTTERED_OMNIGLOT_MANUAL_DIR, and keeps its log for the tests of progress and counters.
"""

import dataclasses
import json
import os
import pathlib
import subprocess
import sys


from tests import archive_location

MANUAL_DIR_VARIABLE = archive_location.MANUAL_DIR_VARIABLE
REPO_DIR = pathlib.Path(__file__).resolve().parent.parent
SMALL_CONFIG = {"name": "workflow_clutter_4", "clutter": 4, "train_examples": 2000, "eval_examples": 2000}
DATASET_NAME = f"cluttered_omniglot/{SMALL_CONFIG['name']}"
SPLIT_NAMES = ("train", "val_train_alphabets", "test_train_alphabets", "val_eval_alphabets", "test_eval_alphabets")
# FnApiRunner is the local runner that DirectRunner picks for this pipeline. Naming it skips
# DirectRunner's first attempt, which downloads the Prism runner binary (Beam 2.77) and so needs
# the network.
BEAM_OPTIONS = "runner=FnApiRunner,direct_num_workers=2,direct_running_mode=multi_processing"
BUILD_TIMEOUT_SECONDS = 900


@dataclasses.dataclass(frozen=True)
class SmallBuild:
    """A finished build: TFDS data dir, dataset name for `tfds.load`, and the build's output."""

    data_dir: pathlib.Path
    name: str
    log: str
    manual_dir: pathlib.Path


manual_dir_or_skip = archive_location.manual_dir_or_skip


def subprocess_env():
    """Return the environment for child Python processes: this repository first on PYTHONPATH."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_DIR), env.get("PYTHONPATH")]))
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")
    return env


def small_build(tmp_path_factory):
    """Build the small config with `tfds build` once per session, or return the finished build.

    pytest's base temporary folder is the same for all test modules of a session, so the second
    module to call this finds the build of the first.
    """
    manual_dir = manual_dir_or_skip()
    root = tmp_path_factory.getbasetemp() / "workflow_small_build"
    data_dir = root / "data"
    log_path = root / "build.log"
    info_path = data_dir / DATASET_NAME / "1.0.0" / "dataset_info.json"
    if info_path.is_file() and log_path.is_file():
        return SmallBuild(data_dir, DATASET_NAME, log_path.read_text(), manual_dir)

    root.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable, "-m", "tensorflow_datasets.scripts.cli.main", "build", "cluttered_omniglot",
        "--imports", "cluttered_omniglot",
        "--config", json.dumps(SMALL_CONFIG),
        "--data_dir", str(data_dir),
        "--manual_dir", str(manual_dir),
        f"--beam_pipeline_options={BEAM_OPTIONS}",
    ]
    completed = subprocess.run(
        command, cwd=root, env=subprocess_env(), capture_output=True, text=True,
        timeout=BUILD_TIMEOUT_SECONDS, check=False,
    )
    log = completed.stdout + completed.stderr
    log_path.write_text(log)
    if completed.returncode != 0:
        raise AssertionError(f"tfds build exited with {completed.returncode}. Its output ends with:\n{log[-4000:]}")
    assert info_path.is_file(), f"tfds build finished but wrote no {info_path}. Output:\n{log[-4000:]}"
    return SmallBuild(data_dir, DATASET_NAME, log, manual_dir)
