"""Generate Cluttered Omniglot examples: scene, target exemplar and segmentation mask.

Every random number comes from numpy's legacy `RandomState` (Mersenne Twister), drawn in the
authors' order, so a job seeded as the authors did reproduces their examples bit for bit.
"""

import dataclasses

import numpy as np

from cluttered_omniglot.core import augment

SCENE_SIZE = 96
TARGET_SIZE = 32


@dataclasses.dataclass
class Example:
    """One generated example.

    Attributes:
      image: uint8 (96, 96, 3) scene.
      target: uint8 (32, 32, 3) exemplar of the target character.
      segmentation: uint8 (96, 96, 1) mask, 1 on the target's stroke pixels in the scene.
      character: index of the target character in its pool.
      drawer: drawer index of the target drawing (0-19).
      bbox: (top, left, height, width) of the target in the scene, in pixels.
      retries: number of augmentations drawn again because their crop was blank or zero-sized.
    """

    image: np.ndarray
    target: np.ndarray
    segmentation: np.ndarray
    character: int
    drawer: int
    bbox: tuple
    retries: int


class Drawings:
    """Stroke bitmaps of a pool of characters, unpacked on first use and cached."""

    def __init__(self, packed_strokes):
        self._packed = packed_strokes
        self._cache = {}

    def __len__(self):
        return len(self._packed)

    def __call__(self, character, drawer):
        key = (character, drawer)
        strokes = self._cache.get(key)
        if strokes is None:
            strokes = np.unpackbits(self._packed[character, drawer], axis=-1, count=105)
            self._cache[key] = strokes
        return strokes


def _augment(random_state, strokes, max_scale):
    """Draw one augmentation and return (crop, rgb); crop is None or 0-sized when it must be redrawn.

    rgb is drawn only when the crop has a stroke pixel, as in the authors' code.
    """
    warp = augment.make_warp(*augment.draw_augmentation(random_state, max_scale))
    crop = augment.crop_strokes(augment.render_strokes(strokes, warp))
    if crop is None:
        return None, None
    rgb = random_state.rand(3)
    return crop, rgb


def _colour(rgb):
    return (255.0 * rgb).astype(np.uint8)


def _paste(canvas, crop, colour, left, top):
    """Overwrite `canvas` with `colour` on the stroke pixels of `crop` placed at (left, top), clipped."""
    height, width = crop.shape
    top_clip, left_clip = max(0, -top), max(0, -left)
    bottom = min(height, canvas.shape[0] - top)
    right = min(width, canvas.shape[1] - left)
    if bottom <= top_clip or right <= left_clip:
        return
    window = canvas[top + top_clip:top + bottom, left + left_clip:left + right]
    window[crop[top_clip:bottom, left_clip:right].astype(bool)] = colour


def _placed_character(random_state, drawings, character, drawer, max_scale):
    """Augment a drawing until its crop is non-empty; return (crop, colour, retries)."""
    retries = 0
    strokes = drawings(character, drawer)
    while True:
        crop, rgb = _augment(random_state, strokes, max_scale)
        if crop is not None and crop.size:
            return crop, _colour(rgb), retries
        retries += 1


def make_example(random_state, drawings, clutter, first_drawer, stop_drawer):
    """Generate the next example of a job from `random_state`.

    Args:
      random_state: the job's `numpy.random.RandomState`, advanced in place.
      drawings: a `Drawings` of the split's character pool.
      clutter: characters per scene, the target included.
      first_drawer, stop_drawer: the drawer range [first, stop) of the split.
    """
    pool_size = len(drawings)
    character = random_state.randint(0, pool_size)
    drawer = random_state.randint(first_drawer, stop_drawer)
    retries = 0

    image = np.zeros((SCENE_SIZE, SCENE_SIZE, 3), np.uint8)
    placed = 0
    while placed < clutter - 1:
        other = random_state.randint(0, pool_size)
        other_drawer = random_state.randint(first_drawer, stop_drawer)
        crop, rgb = _augment(random_state, drawings(other, other_drawer), augment.SCENE_MAX_SCALE)
        if crop is None or crop.size == 0:
            retries += 1
            continue
        height, width = crop.shape
        left = random_state.randint(0, SCENE_SIZE - width + 1)
        top = random_state.randint(0, SCENE_SIZE - height + 1)
        _paste(image, crop, _colour(rgb), left, top)
        placed += 1

    # The authors' empty-scene test draws one number; with probability 0 it never changes anything.
    random_state.random_sample()

    crop, colour, target_retries = _placed_character(
        random_state, drawings, character, drawer, augment.SCENE_MAX_SCALE
    )
    retries += target_retries
    height, width = crop.shape
    left = random_state.randint(0, SCENE_SIZE - width + 1)
    top = random_state.randint(0, SCENE_SIZE - height + 1)
    _paste(image, crop, colour, left, top)
    segmentation = np.zeros((SCENE_SIZE, SCENE_SIZE, 1), np.uint8)
    _paste(segmentation, crop, 1, left, top)

    target = np.zeros((TARGET_SIZE, TARGET_SIZE, 3), np.uint8)
    exemplar, exemplar_colour, target_retries = _placed_character(
        random_state, drawings, character, drawer, augment.TARGET_MAX_SCALE
    )
    retries += target_retries
    exemplar_height, exemplar_width = exemplar.shape
    _paste(
        target,
        exemplar,
        exemplar_colour,
        (TARGET_SIZE - exemplar_width) // 2,
        (TARGET_SIZE - exemplar_height) // 2,
    )
    return Example(image, target, segmentation, character, drawer, (top, left, height, width), retries)


def make_job(seed, drawings, clutter, first_drawer, stop_drawer, count):
    """Yield the first `count` examples of the job seeded with `seed`."""
    random_state = np.random.RandomState(seed)
    for _ in range(count):
        yield make_example(random_state, drawings, clutter, first_drawer, stop_drawer)
