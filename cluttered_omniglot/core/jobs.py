"""Render whole 2000-example jobs of a split into stacked numpy arrays."""

import dataclasses

import numpy as np

from cluttered_omniglot.core import scene
from cluttered_omniglot.core import splits


@dataclasses.dataclass
class JobArrays:
    """The examples of one job (or of its first examples), stacked along the first axis.

    `characters` index the split's pool, `bboxes` are (top, left, height, width) in scene pixels, and
    `retries` counts augmentations drawn again because their crop was blank or zero-sized.
    """

    images: np.ndarray
    targets: np.ndarray
    segmentations: np.ndarray
    characters: np.ndarray
    drawers: np.ndarray
    bboxes: np.ndarray
    retries: np.ndarray

    def __len__(self):
        return len(self.images)


@dataclasses.dataclass(frozen=True)
class JobRequest:
    """A rendering request: the first `count` examples of job `job_index` of a split."""

    split: str
    clutter: int
    job_index: int
    count: int = splits.EXAMPLES_PER_JOB

    def first_example_index(self):
        return self.job_index * splits.EXAMPLES_PER_JOB


def check_clutter(clutter):
    """Raise ValueError unless `clutter` (characters per scene) is a whole number of at least 1."""
    if isinstance(clutter, bool) or not isinstance(clutter, (int, np.integer)) or clutter < 1:
        raise ValueError(
            f"clutter must be a whole number of characters per scene, at least 1 (the target), got "
            f"{clutter!r}. The paper uses {', '.join(map(str, splits.CLUTTER_LEVELS))}."
        )


def job_seed(split, job_index):
    """Return the seed of job `job_index` of the paper's version of `split`."""
    spec = splits.split_spec(split)
    seeds = splits.job_seeds(spec.seed, splits.paper_examples(spec))
    if not 0 <= job_index < len(seeds):
        raise ValueError(
            f"Job {job_index} does not exist in split {split!r}, which has {len(seeds)} jobs of "
            f"{splits.EXAMPLES_PER_JOB} examples."
        )
    return int(seeds[job_index])


def render_job_numpy(request, pool_strokes):
    """Render a job with the readable per-character numpy implementation in `scene`.

    Args:
      request: a `JobRequest`.
      pool_strokes: packed stroke bitmaps of the split's character pool, shaped
        (characters, 20, 105, 14) as `OmniglotSet.packed_strokes`.
    """
    check_clutter(request.clutter)
    spec = splits.split_spec(request.split)
    seed = job_seed(request.split, request.job_index)
    drawings = scene.Drawings(pool_strokes)
    examples = list(
        scene.make_job(
            seed, drawings, request.clutter, spec.pool.first_drawer, spec.pool.stop_drawer, request.count
        )
    )
    return JobArrays(
        images=np.stack([e.image for e in examples]),
        targets=np.stack([e.target for e in examples]),
        segmentations=np.stack([e.segmentation for e in examples]),
        characters=np.array([e.character for e in examples], np.int64),
        drawers=np.array([e.drawer for e in examples], np.int64),
        bboxes=np.array([e.bbox for e in examples], np.int64).reshape(-1, 4),
        retries=np.array([e.retries for e in examples], np.int64),
    )


def render_job(request, pool_strokes):
    """Render a job with the compiled engine, whose output equals `render_job_numpy` byte for byte.

    Takes the same arguments as `render_job_numpy`. The first call in a process loads the compiled
    code from numba's on-disk cache, or compiles it (several seconds) when the cache is missing.
    """
    # Imported here because fast_render imports this module.
    from cluttered_omniglot.core import fast_render

    return fast_render.render_job_fast(request, pool_strokes)
