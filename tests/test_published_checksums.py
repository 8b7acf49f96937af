"""The authors' published checksums: md5 of the scene of the last example of each val/test split.

Michaelis, Bethge and Ecker published, for every clutter level, the md5 of the raw C-order bytes of
the scene (uint8 96x96x3) of example 9999 of the four validation and test splits, that is the last
example of job 4. Levels 4 and 8 run by default; levels 16 to 256 are marked slow.
"""

import hashlib

import pytest

from cluttered_omniglot.core import jobs
from cluttered_omniglot.core import pillow_oracle
from cluttered_omniglot.core import splits

# Published md5 per clutter level, for val-train, test-train, val-one-shot and test-one-shot.
PUBLISHED_MD5 = {
    4: ("8c999e5c4a9a8131672e6542a0b3f266", "3bf805b2766b2321f9adb988d10a0fba",
        "c684f499183c637882ebed2abbca128b", "d38c880d4ddf53704ba7f2660a3f0ead"),
    8: ("0c590ff42387323a32e11252cf957268", "927fa33e400c6caa96d7adba4f6addac",
        "b96dc0bd4e38f20f6b6b8c264e88e2b0", "4df18d0de6f5ba0952e3ccd291f29681"),
    16: ("327d08f3e1b1b1b5ed8905f163ed795e", "8b733e95a86e394e77f04583f87e2bf2",
         "de38a604df713cf0052661004542c942", "bf877579ec90bf209a96789ed977d394"),
    32: ("81338976c8bdc1368d4ec55a9e533d79", "6fd4e0618a800fba325f06ff45edf96e",
         "3a05e203fb858418c5188164d956b95b", "cc96e14490baeda3ff1cd7d7dfe4d041"),
    64: ("1119485a052df341e8e60f9f140acb17", "56500ccfa0ef075f855ba70c4c2a7ca2",
         "280fba2c0c982b85a96ed0611be07003", "57f4c7ed1966c53066b3b3c880f0da90"),
    128: ("8a114f8035b6cff04cafad93bf262fb2", "c8d136fab21668d8a368f58ea7009076",
          "05d2d93454e1bbb633909e58d809fcb9", "656c85dafc77cee0f59cb72076c64a3d"),
    256: ("73ff5a4fc16a877fbf1f6af25dc99f14", "44be0e5a25b2165aea18531d2136d077",
          "fb5ae42406d8384a99fa0b2a92dda3a8", "7aee40640f7de8d3f3adf7e8c95dfb62"),
}
# TFDS split names in the column order of PUBLISHED_MD5.
PUBLISHED_SPLITS = (
    "val_train_alphabets",   # val-train
    "test_train_alphabets",  # test-train
    "val_eval_alphabets",    # val-one-shot
    "test_eval_alphabets",   # test-one-shot
)
DEFAULT_LEVELS = (4, 8)
CHECKED_EXAMPLE = 9999
CHECKED_JOB, CHECKED_POSITION = divmod(CHECKED_EXAMPLE, splits.EXAMPLES_PER_JOB)


def _cases():
    for level, checksums in PUBLISHED_MD5.items():
        marks = () if level in DEFAULT_LEVELS else (pytest.mark.slow,)
        for split, checksum in zip(PUBLISHED_SPLITS, checksums):
            yield pytest.param(split, level, checksum, marks=marks, id=f"{split}-clutter{level}")


def _scene_md5(render, split, level, pool):
    request = jobs.JobRequest(split, level, CHECKED_JOB, count=CHECKED_POSITION + 1)
    scene = render(request, pool).images[CHECKED_POSITION]
    assert scene.shape == (96, 96, 3) and scene.dtype.name == "uint8"
    return hashlib.md5(scene.tobytes(order="C")).hexdigest()


def test_table_is_complete():
    assert sorted(PUBLISHED_MD5) == list(splits.CLUTTER_LEVELS)
    assert all(len(row) == len(PUBLISHED_SPLITS) for row in PUBLISHED_MD5.values())
    assert {spec.name for spec in splits.SPLITS if not spec.is_train} == set(PUBLISHED_SPLITS)
    assert (CHECKED_JOB, CHECKED_POSITION) == (4, 1999)


def test_pool_sizes(pool_strokes):
    sizes = {split: len(pool) for split, pool in pool_strokes.items()}
    assert sizes == {
        "train": 964,
        "val_train_alphabets": 964,
        "test_train_alphabets": 964,
        "val_eval_alphabets": 307,
        "test_eval_alphabets": 352,
    }


@pytest.mark.parametrize("split, level, checksum", list(_cases()))
def test_published_checksum(pool_strokes, split, level, checksum):
    actual = _scene_md5(jobs.render_job, split, level, pool_strokes[split])
    assert actual == checksum, (
        f"split {split}, clutter {level}: md5 of the scene of example {CHECKED_EXAMPLE} (job "
        f"{CHECKED_JOB}, example {CHECKED_POSITION}) is {actual}, published {checksum}"
    )


@pytest.mark.parametrize("split", PUBLISHED_SPLITS)
def test_oracle_published_checksum_level4(pool_strokes, split):
    """The Pillow oracle is anchored to the published data too, not only to the core."""
    checksum = PUBLISHED_MD5[4][PUBLISHED_SPLITS.index(split)]
    actual = _scene_md5(pillow_oracle.render_job_oracle, split, 4, pool_strokes[split])
    assert actual == checksum, (
        f"Pillow oracle, split {split}, clutter 4: md5 of the scene of example {CHECKED_EXAMPLE} "
        f"is {actual}, published {checksum}"
    )
