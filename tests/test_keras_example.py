"""The Keras example trains on a built config and prints a mean IoU, run as a user runs it."""

import importlib.util
import re
import subprocess
import sys

import pytest

import workflow_helpers

EXAMPLE = workflow_helpers.REPO_DIR / "examples" / "train_siamese_unet.py"
EXAMPLE_TIMEOUT_SECONDS = 300


@pytest.fixture(scope="module")
def build(tmp_path_factory):
    return workflow_helpers.small_build(tmp_path_factory)


def test_example_trains_and_prints_iou(build):
    command = [
        sys.executable, str(EXAMPLE),
        "--dataset", build.name,
        "--data_dir", str(build.data_dir),
        "--steps", "3",
        "--batch_size", "8",
        "--epochs", "1",
        "--eval_examples", "64",
    ]
    completed = subprocess.run(
        command, env=workflow_helpers.subprocess_env(), capture_output=True, text=True,
        timeout=EXAMPLE_TIMEOUT_SECONDS, check=False,
    )
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, f"the example exited with {completed.returncode}:\n{output[-4000:]}"
    match = re.search(r"^val_train_alphabets mean IoU: (\S+)$", completed.stdout, re.MULTILINE)
    assert match, f"no mean IoU line in the output:\n{completed.stdout[-2000:]}"
    assert 0.0 <= float(match.group(1)) <= 1.0


def test_example_rejects_zero_steps():
    completed = subprocess.run(
        [sys.executable, str(EXAMPLE), "--steps", "0"], env=workflow_helpers.subprocess_env(),
        capture_output=True, text=True, timeout=EXAMPLE_TIMEOUT_SECONDS, check=False,
    )
    assert completed.returncode == 2
    assert "--steps must be at least 1, got 0" in completed.stderr


def _load_example_module():
    spec = importlib.util.spec_from_file_location("train_siamese_unet", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_mean_iou_thresholds_sigmoid():
    import numpy as np  # pylint: disable=import-outside-toplevel
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    example = _load_example_module()
    truth = np.zeros((2, 96, 96, 1), np.uint8)
    truth[0, 10:20, 10:20] = 1  # 100 pixels
    truth[1, 50:60, 50:55] = 1  # 50 pixels
    # Logit +1 (sigmoid 0.73) on rows 10-14 of the first mask: IoU 50/100. Logit -1 elsewhere.
    logits = np.full((2, 96, 96, 1), -1.0, np.float32)
    logits[0, 10:15, 10:20] = 1.0
    # Second example: the whole true mask plus 50 extra pixels: IoU 50/100.
    logits[1, 50:60, 50:60] = 1.0
    inputs = {"image": np.zeros((2, 96, 96, 3), np.uint8), "target": np.zeros((2, 32, 32, 3), np.uint8)}
    dataset = tf.data.Dataset.from_tensors((inputs, truth))

    def model(batch, training):
        del batch, training
        return tf.constant(logits)

    assert example.mean_iou(model, dataset) == pytest.approx(0.5)

    # A logit of exactly 0 is sigmoid 0.5, which is not above the threshold.
    logits[:] = 0.0
    assert example.mean_iou(model, dataset) == pytest.approx(0.0)
