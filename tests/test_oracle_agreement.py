"""Whole jobs rendered by the default engine and by the independent Pillow oracle must be identical.

The published checksums cover one scene per split and level, and a diverged random stream can fall
back into step, so every field of every example of whole jobs is compared here, for every pool:
the training split (background alphabets, drawers 0-9) and the four val/test splits.
"""

import numpy as np
import pytest

from cluttered_omniglot.core import jobs
from cluttered_omniglot.core import pillow_oracle
from cluttered_omniglot.core import splits

FIELDS = ("images", "targets", "segmentations", "characters", "drawers", "bboxes", "retries")
SHOWN_MISMATCHES = 5

# (split, clutter, job index). Train has 1000 jobs (0-999), each val/test split 5 (0-4).
DEFAULT_CASES = (
    ("train", 4, 0),
    ("train", 4, 999),
    ("val_train_alphabets", 4, 4),
    ("test_train_alphabets", 4, 0),
    ("val_eval_alphabets", 4, 1),
    ("test_eval_alphabets", 4, 3),
    ("train", 8, 1),
    ("test_eval_alphabets", 8, 4),
)
SLOW_CASES = (
    ("train", 32, 500),
    ("val_train_alphabets", 32, 0),
    ("test_train_alphabets", 32, 1),
    ("val_eval_alphabets", 32, 2),
    ("test_eval_alphabets", 32, 4),
    ("train", 256, 998),
    ("val_train_alphabets", 256, 3),
    ("test_train_alphabets", 256, 4),
    ("val_eval_alphabets", 256, 0),
    ("test_eval_alphabets", 256, 1),
)


def _params():
    for case in DEFAULT_CASES:
        yield pytest.param(*case, id="{}-clutter{}-job{}".format(*case))
    for case in SLOW_CASES:
        yield pytest.param(*case, marks=pytest.mark.slow, id="{}-clutter{}-job{}".format(*case))


def _describe(expected, actual):
    if expected.ndim >= 2:
        differing = int(np.count_nonzero(np.any(expected != actual, axis=-1)))
        return f"{differing} pixels differ"
    return f"core {expected.tolist()}, oracle {actual.tolist()}"


def job_mismatches(request, expected, actual):
    """Return one line per field that differs, naming split, job, example indices and field."""
    lines = []
    first = request.first_example_index()
    for field in FIELDS:
        core, oracle = getattr(expected, field), getattr(actual, field)
        where = f"split {request.split}, clutter {request.clutter}, job {request.job_index}"
        if core.shape != oracle.shape or core.dtype != oracle.dtype:
            lines.append(
                f"{where}, field {field}: core {core.dtype}{core.shape}, oracle {oracle.dtype}{oracle.shape}"
            )
            continue
        differing = np.flatnonzero(
            np.any((core != oracle).reshape(len(core), -1), axis=1)
        )
        if differing.size == 0:
            continue
        details = "; ".join(
            f"example {first + i} (job example {i}): {_describe(core[i], oracle[i])}"
            for i in differing[:SHOWN_MISMATCHES]
        )
        more = f" (+{differing.size - SHOWN_MISMATCHES} more)" if differing.size > SHOWN_MISMATCHES else ""
        lines.append(f"{where}, field {field}: {differing.size} examples differ, first: {details}{more}")
    return lines


@pytest.mark.parametrize("split, clutter, job_index", list(_params()))
def test_whole_job_matches_pillow_oracle(pool_strokes, split, clutter, job_index):
    request = jobs.JobRequest(split, clutter, job_index)
    expected = jobs.render_job(request, pool_strokes[split])
    actual = pillow_oracle.render_job_oracle(request, pool_strokes[split])
    assert len(expected) == len(actual) == splits.EXAMPLES_PER_JOB
    mismatches = job_mismatches(request, expected, actual)
    assert not mismatches, "core and Pillow oracle disagree:\n" + "\n".join(mismatches)


def test_mismatch_report_names_split_job_example_and_field():
    """The failure message must point at the exact example and field."""
    request = jobs.JobRequest("val_eval_alphabets", 4, 2, count=3)
    rng = np.random.RandomState(0)

    def arrays():
        return jobs.JobArrays(
            images=rng.randint(0, 256, (3, 96, 96, 3)).astype(np.uint8),
            targets=np.zeros((3, 32, 32, 3), np.uint8),
            segmentations=np.zeros((3, 96, 96, 1), np.uint8),
            characters=np.arange(3, dtype=np.int64),
            drawers=np.full(3, 12, np.int64),
            bboxes=np.zeros((3, 4), np.int64),
            retries=np.zeros(3, np.int64),
        )

    expected = arrays()
    actual = jobs.JobArrays(**{field: getattr(expected, field).copy() for field in FIELDS})
    assert job_mismatches(request, expected, actual) == []
    actual.images[1, 5, 7, 0] ^= 1
    actual.bboxes[2, 3] += 1
    lines = job_mismatches(request, expected, actual)
    assert len(lines) == 2
    assert lines[0].startswith("split val_eval_alphabets, clutter 4, job 2, field images: 1 examples")
    assert "example 4001 (job example 1): 1 pixels differ" in lines[0]
    assert "field bboxes" in lines[1] and "example 4002 (job example 2)" in lines[1]
