"""Test oracle: a second, slow, independent implementation of the Cluttered Omniglot generator.

This module exists only to check the fast core. It follows the generation spec (random draw order,
retry rules, geometry, colours, placement) but does the image work with Pillow's own code, the way
the authors' generator did, instead of the integer emulation in `augment` and `scene`:

- each drawing is a mode '1' image (1 = stroke), warped with `Image.transform(..., AFFINE, NEAREST)`
  using the first two rows of `numpy.linalg.inv` of the forward matrix;
- the warp is shrunk with `Image.resize(..., NEAREST)`;
- the stroke box comes from `Image.getbbox()` and is cut with `Image.crop()`, keeping the authors'
  quirk of dropping the last stroke row and column;
- characters are pasted with `Image.paste(colour, box, mask=crop)` into an RGB scene, an RGB exemplar
  and an 'L' segmentation mask, Pillow clipping whatever falls outside.

It deliberately imports nothing from `augment` or `scene`; it uses `splits` and `jobs` only for the
job seeds, the request type and the result type. It is written for clarity, not speed: a Python
loop around several Pillow calls per character, with every warped pixel computed (in practice it
runs at about the speed of `jobs.render_job_numpy`, so whole jobs are affordable in tests, but no
effort goes into making it faster).

It depends on the installed Pillow and LAPACK: its agreement with the 2018 generator rests on
Pillow's nearest-neighbour affine (16.16 fixed point) and nearest-neighbour resize (accumulated
sample positions) code paths for mode '1' images, which still behave as they did in Pillow 5.2, and
on `numpy.linalg.inv` rounding the same way to 16.16 fixed point. If Pillow ever changes those code
paths, the oracle, not necessarily the core, is what moved: the core must keep matching the
published checksums, and the oracle is checked against the level-4 ones too.
"""

import math

import numpy as np
from PIL import Image

from cluttered_omniglot.core import jobs
from cluttered_omniglot.core import splits

_DRAWING = 105
_RESIZED = 32
_SCENE = 96
_EXEMPLAR = 32
_ROTATION = 20
_SHEAR = 10
_SCENE_SCALE = 2
_EXEMPLAR_SCALE = 1


class _PoolImages:
    """Mode '1' Pillow images of the drawings of a pool, built on first use."""

    def __init__(self, pool_strokes):
        self._packed = pool_strokes
        self._images = {}

    def __len__(self):
        return len(self._packed)

    def __call__(self, character, drawer):
        key = (character, drawer)
        image = self._images.get(key)
        if image is None:
            # Raw mode '1' rows are bit-packed, most significant bit first, padded to whole bytes:
            # exactly the layout of `OmniglotSet.packed_strokes` (set bit = stroke = white).
            rows = np.ascontiguousarray(self._packed[character, drawer], dtype=np.uint8)
            image = Image.frombytes("1", (_DRAWING, _DRAWING), rows.tobytes())
            self._images[key] = image
        return image


def _augment_and_crop(random_state, drawing, max_scale):
    """Draw one augmentation of `drawing`; return its cropped mode '1' image, or None if blank.

    The four draws (rotation, shear, two scale exponents) always happen, in this order.
    """
    phi = math.radians(random_state.uniform(-_ROTATION, _ROTATION))
    theta = math.radians(random_state.uniform(-_SHEAR, _SHEAR))
    a = float(max_scale) ** random_state.uniform(-1, 1)
    b = float(max_scale) ** random_state.uniform(-1, 1)

    width, height = _DRAWING * a, _DRAWING * b
    c_sum, s_sum = math.cos(phi + theta), math.sin(phi + theta)
    c_diff, s_diff = math.cos(phi - theta), math.sin(phi - theta)
    corners = [(0.0, 0.0), (0.0, height), (width, 0.0), (width, height)]
    us = [c_sum * p + s_diff * q for p, q in corners]
    vs = [-s_sum * p + c_diff * q for p, q in corners]
    min_u, max_u, min_v, max_v = min(us), max(us), min(vs), max(vs)

    forward = np.array([
        [a * c_sum, b * s_diff, -min_u],
        [-a * s_sum, b * c_diff, -min_v],
        [0.0, 0.0, 1.0],
    ])
    inverse = np.linalg.inv(forward)
    coefficients = tuple(float(value) for value in inverse[:2].ravel())

    warped = drawing.transform(
        (int(max_u - min_u), int(max_v - min_v)),
        Image.Transform.AFFINE,
        data=coefficients,
        resample=Image.Resampling.NEAREST,
    )
    resized = warped.resize(
        (int(_RESIZED * (max_u - min_u) / _DRAWING), int(_RESIZED * (max_v - min_v) / _DRAWING)),
        Image.Resampling.NEAREST,
    )
    box = resized.getbbox()
    if box is None:
        return None
    first_column, first_row, after_last_column, after_last_row = box
    # The authors keep rows k..l-1 and columns m..n-1, where l and n are the LAST stroke row and
    # column: the last stroke row and column are dropped.
    return resized.crop((first_column, first_row, after_last_column - 1, after_last_row - 1))


def _colour(random_state):
    rgb = random_state.rand(3)
    return tuple(int(channel) for channel in (255.0 * rgb).astype(np.uint8))


def _same_drawing_until_usable(random_state, drawing, max_scale):
    """Augment one drawing until it is usable; return (crop, colour, retries).

    A blank crop is retried before the colour draw, a zero-width or zero-height crop after it.
    """
    retries = 0
    while True:
        crop = _augment_and_crop(random_state, drawing, max_scale)
        if crop is None:
            retries += 1
            continue
        colour = _colour(random_state)
        if crop.width == 0 or crop.height == 0:
            retries += 1
            continue
        return crop, colour, retries


def render_example_oracle(random_state, pool_images, clutter, first_drawer, stop_drawer):
    """Generate the next example from `random_state`; return a dict of its fields."""
    pool_size = len(pool_images)
    character = random_state.randint(0, pool_size)
    drawer = random_state.randint(first_drawer, stop_drawer)
    retries = 0

    scene = Image.new("RGB", (_SCENE, _SCENE), (0, 0, 0))
    distractors = 0
    while distractors < clutter - 1:
        # Every retry of a distractor draws a new character and drawer.
        other = random_state.randint(0, pool_size)
        other_drawer = random_state.randint(first_drawer, stop_drawer)
        crop = _augment_and_crop(random_state, pool_images(other, other_drawer), _SCENE_SCALE)
        if crop is None:
            retries += 1
            continue
        colour = _colour(random_state)
        if crop.width == 0 or crop.height == 0:
            retries += 1
            continue
        x = random_state.randint(0, _SCENE - crop.width + 1)
        y = random_state.randint(0, _SCENE - crop.height + 1)
        scene.paste(colour, (x, y), mask=crop)
        distractors += 1

    # The authors' check for an empty scene: one draw, never acted upon.
    random_state.random_sample()

    drawing = pool_images(character, drawer)
    crop, colour, target_retries = _same_drawing_until_usable(random_state, drawing, _SCENE_SCALE)
    retries += target_retries
    x = random_state.randint(0, _SCENE - crop.width + 1)
    y = random_state.randint(0, _SCENE - crop.height + 1)
    scene.paste(colour, (x, y), mask=crop)
    mask = Image.new("L", (_SCENE, _SCENE), 0)
    mask.paste(1, (x, y), mask=crop)
    bbox = (y, x, crop.height, crop.width)

    exemplar_crop, exemplar_colour, target_retries = _same_drawing_until_usable(
        random_state, drawing, _EXEMPLAR_SCALE
    )
    retries += target_retries
    exemplar = Image.new("RGB", (_EXEMPLAR, _EXEMPLAR), (0, 0, 0))
    exemplar.paste(
        exemplar_colour,
        ((_EXEMPLAR - exemplar_crop.width) // 2, (_EXEMPLAR - exemplar_crop.height) // 2),
        mask=exemplar_crop,
    )

    return {
        "image": np.asarray(scene, dtype=np.uint8),
        "target": np.asarray(exemplar, dtype=np.uint8),
        "segmentation": np.asarray(mask, dtype=np.uint8)[:, :, np.newaxis],
        "character": character,
        "drawer": drawer,
        "bbox": bbox,
        "retries": retries,
    }


def render_job_oracle(request, pool_strokes):
    """Render a job like `jobs.render_job_numpy`, with the Pillow oracle; return `jobs.JobArrays`.

    Args:
      request: a `jobs.JobRequest`.
      pool_strokes: packed stroke bitmaps of the split's character pool, shaped
        (characters, 20, 105, 14) as `OmniglotSet.packed_strokes`.
    """
    jobs.check_clutter(request.clutter)
    spec = splits.split_spec(request.split)
    random_state = np.random.RandomState(jobs.job_seed(request.split, request.job_index))
    pool_images = _PoolImages(pool_strokes)
    examples = [
        render_example_oracle(
            random_state, pool_images, request.clutter, spec.pool.first_drawer, spec.pool.stop_drawer
        )
        for _ in range(request.count)
    ]
    return jobs.JobArrays(
        images=np.stack([e["image"] for e in examples]),
        targets=np.stack([e["target"] for e in examples]),
        segmentations=np.stack([e["segmentation"] for e in examples]),
        characters=np.array([e["character"] for e in examples], np.int64),
        drawers=np.array([e["drawer"] for e in examples], np.int64),
        bboxes=np.array([e["bbox"] for e in examples], np.int64).reshape(-1, 4),
        retries=np.array([e["retries"] for e in examples], np.int64),
    )
