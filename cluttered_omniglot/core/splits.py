"""Splits, character pools and seeds of the Cluttered Omniglot benchmark.

The seeds and pool definitions are the ones of the authors' generator (Michaelis, Bethge and Ecker,
"One-Shot Segmentation in Clutter", ICML 2018, repository michaelisc/cluttered-omniglot).
"""

import dataclasses

import numpy as np

EXAMPLES_PER_JOB = 2000
CLUTTER_LEVELS = (4, 8, 16, 32, 64, 128, 256)
PAPER_TRAIN_EXAMPLES = 2_000_000
PAPER_EVAL_EXAMPLES = 10_000

BACKGROUND = "images_background"
EVALUATION = "images_evaluation"


@dataclasses.dataclass(frozen=True)
class Pool:
    """The characters a split draws from: a range of alphabets of one archive, and a drawer range.

    `first_alphabet` and `stop_alphabet` index the sorted alphabet folders of `archive`;
    `first_drawer` and `stop_drawer` index the sorted drawings (drawer 01 is index 0).
    """

    archive: str
    first_alphabet: int
    stop_alphabet: int
    first_drawer: int
    stop_drawer: int


@dataclasses.dataclass(frozen=True)
class SplitSpec:
    """One of the five splits: its TFDS name, the authors' folder name, pool and seed."""

    name: str
    authors_name: str
    pool: Pool
    seed: int
    is_train: bool


SPLITS = (
    SplitSpec("train", "train", Pool(BACKGROUND, 0, 30, 0, 10), 2209944264, True),
    SplitSpec("val_train_alphabets", "val-train", Pool(BACKGROUND, 0, 30, 10, 20), 4020197800, False),
    SplitSpec("test_train_alphabets", "test-train", Pool(BACKGROUND, 0, 30, 10, 20), 1665765955, False),
    SplitSpec("val_eval_alphabets", "val-one-shot", Pool(EVALUATION, 0, 10, 10, 20), 3755213170, False),
    SplitSpec("test_eval_alphabets", "test-one-shot", Pool(EVALUATION, 10, 20, 10, 20), 2301871561, False),
)
SPLITS_BY_NAME = {spec.name: spec for spec in SPLITS}


def split_spec(name):
    """Return the `SplitSpec` called `name`, or raise ValueError naming the valid splits."""
    try:
        return SPLITS_BY_NAME[name]
    except KeyError:
        raise ValueError(
            f"Unknown split {name!r}. Valid splits: {', '.join(SPLITS_BY_NAME)}."
        ) from None


def check_example_count(examples, what="examples"):
    """Raise ValueError unless `examples` is a positive multiple of the 2000-example job size."""
    is_integer = isinstance(examples, (int, np.integer)) and not isinstance(examples, bool)
    if not is_integer or examples <= 0 or examples % EXAMPLES_PER_JOB:
        raise ValueError(
            f"{what} must be a positive multiple of {EXAMPLES_PER_JOB}, got {examples!r}. "
            f"Use a whole number of {EXAMPLES_PER_JOB}-example jobs, such as {EXAMPLES_PER_JOB} "
            f"or {10 * EXAMPLES_PER_JOB}."
        )


def job_seeds(split_seed, paper_examples):
    """Return the seed of every job of a split, as numpy uint64-valued int64 array.

    The authors seed the legacy global RandomState with the split seed, draw twice as many 32-bit
    integers as there are jobs, and keep the sorted unique values. Job k uses element k. The seeds
    depend on the paper's split size, so a shorter split built from them is a prefix of the paper's.
    """
    jobs = paper_examples // EXAMPLES_PER_JOB
    state = np.random.RandomState(split_seed)
    return np.unique(state.randint(2**32, size=2 * jobs, dtype=np.int64))


def paper_examples(spec):
    """Return the number of examples the paper's version of split `spec` has."""
    return PAPER_TRAIN_EXAMPLES if spec.is_train else PAPER_EVAL_EXAMPLES
