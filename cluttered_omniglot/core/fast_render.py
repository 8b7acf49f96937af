"""Compiled (numba) renderer of whole jobs, byte for byte equal to `jobs.render_job_numpy`.

The readable definition of every step is in `scene` and `augment`. This module repeats the same
arithmetic in the same order inside one compiled call per job:

- numpy's legacy `RandomState` stream, reimplemented from the MT19937 definition and from the way
  numpy's legacy methods turn 32-bit words into doubles and bounded integers;
- the augmentation geometry and its 3x3 inverse with the operation order of `augment`, so every double
  is bit-identical and the 16.16 fixed-point coefficients match;
- the fused warp and nearest-neighbour resize, reading the bit-packed drawings directly and
  sampling only the resized pixels that can fall inside the drawing's stroke bounding box;
- crop, colour, retries and paste as in `scene.make_example`.

Compiled functions are cached on disk (`cache=True`), so only the first process on a machine pays
the compile time.
"""

import collections
import math

import numba
import numpy as np

from cluttered_omniglot.core import augment
from cluttered_omniglot.core import jobs
from cluttered_omniglot.core import scene
from cluttered_omniglot.core import splits
from cluttered_omniglot.core.omniglot_archives import DRAWERS_PER_CHARACTER
from cluttered_omniglot.core.omniglot_archives import DRAWING_SIZE

SCENE_SIZE = scene.SCENE_SIZE
TARGET_SIZE = scene.TARGET_SIZE

# nogil lets threaded workers render jobs in parallel. fastmath stays off: reassociation or fused
# multiply-add would change the last bit of the geometry and with it some fixed-point coefficients.
_jit = numba.njit(cache=True, nogil=True)

# Status codes shared by the compiled functions. BLANK and ZERO_SIZE make the caller draw again;
# the others stop the job and become an exception in `render_job_fast`.
_OK = 0
_BLANK = 1
_ZERO_SIZE = 2
_AXIS_ALIGNED = 3
_CORNER_OUT_OF_RANGE = 4
_SINGULAR = 5
_RESIZED_SIZE_OUT_OF_RANGE = 6

# The resized drawing must fit the scratch arrays. With rotation 20, shear 10 and scale 2 the
# resized drawing is at most 95 pixels wide or high, so its crop always fits the 96-pixel scene.
_MAX_RESIZED_SIZE = SCENE_SIZE

# A stroke pixel of the resized drawing is stored as one integer, (row << 7) | column.
_STROKE_ROW_SHIFT = 7
_STROKE_COLUMN_MASK = (1 << _STROKE_ROW_SHIFT) - 1

# CPython's math.radians multiplies by this double.
_RADIANS_PER_DEGREE = math.pi / 180.0

# Pillow's fixed-point sampler handles only warped corners within this many pixels.
_FIXED_POINT_LIMIT = 32768.0
_FIXED_POINT_ONE = 65536.0

# Bytes per row of a packed drawing.
_ROW_BYTES = (DRAWING_SIZE + 7) // 8


# --- numpy's legacy RandomState stream --------------------------------------------------------------
#
# The generator state is an int64 array of 625 entries: the 624 MT19937 words (each below 2**32)
# followed by the read position, the same numbers as `RandomState.get_state()`. int64 arithmetic
# avoids numba's float64 result for mixed uint64/int64 operands.

_MT_WORDS = 624
_MT_SHIFT = 397
_MT_MATRIX_A = 0x9908B0DF
_MT_UPPER_MASK = 0x80000000
_MT_LOWER_MASK = 0x7FFFFFFF


def mt19937_state(seed):
    """Return the generator state of `numpy.random.RandomState(seed)` as an int64 array of 625."""
    name, key, position = np.random.RandomState(seed).get_state()[:3]
    if name != "MT19937":
        raise ValueError(f"RandomState uses {name!r}, expected 'MT19937'.")
    state = np.empty(_MT_WORDS + 1, np.int64)
    state[:_MT_WORDS] = key
    state[_MT_WORDS] = position
    return state


@_jit
def _mt19937_twist(state):
    # Regenerates all 624 words in place. Words past i + 1 are still old and words before i are
    # already new, as the recurrence x[k + 624] = x[k + 397] ^ twist(x[k], x[k + 1]) requires.
    for i in range(_MT_WORDS):
        y = (state[i] & _MT_UPPER_MASK) | (state[(i + 1) % _MT_WORDS] & _MT_LOWER_MASK)
        word = state[(i + _MT_SHIFT) % _MT_WORDS] ^ (y >> 1)
        if y & 1:
            word ^= _MT_MATRIX_A
        state[i] = word
    state[_MT_WORDS] = 0


@_jit
def _next_uint32(state):
    """Return the next tempered 32-bit word (as int64) and advance the state."""
    if state[_MT_WORDS] >= _MT_WORDS:
        _mt19937_twist(state)
    position = state[_MT_WORDS]
    state[_MT_WORDS] = position + 1
    y = state[position]
    y ^= y >> 11
    y ^= (y << 7) & 0x9D2C5680
    y ^= (y << 15) & 0xEFC60000
    y ^= y >> 18
    return y


@_jit
def _next_double(state):
    """Return the next `random_sample()`: 53 random bits from two words, in [0, 1)."""
    high = _next_uint32(state) >> 5
    low = _next_uint32(state) >> 6
    return (high * 67108864.0 + low) / 9007199254740992.0


@_jit
def _uniform(state, low, high):
    """Return the next `uniform(low, high)`; numpy's legacy code computes low + (high - low) * u."""
    return low + (high - low) * _next_double(state)


@_jit
def _randint(state, low, high):
    """Return the next `randint(low, high)` of the default int64 dtype, for 0 < high - low <= 2**32.

    numpy's legacy code draws nothing when the range contains one value. Otherwise it masks 32-bit
    words with the smallest all-ones mask covering `high - 1 - low` and rejects values above it.
    The caller guarantees the range bounds.
    """
    span = high - 1 - low
    if span == 0:
        return low
    mask = span
    mask |= mask >> 1
    mask |= mask >> 2
    mask |= mask >> 4
    mask |= mask >> 8
    mask |= mask >> 16
    while True:
        value = _next_uint32(state) & mask
        if value <= span:
            return low + value


# --- augmentation geometry ------------------------------------------------------------------------

# Per-job scratch arrays, allocated once so that the per-character code allocates nothing.
# lu, inverse: (3, 3) float64; pivot_order: (3,) int64; columns, rows: (96,) int64 resize positions;
# column_x, column_y: (96,) int64 fixed-point source offsets of each resized column;
# strokes: (96 * 96 + 1,) int64 stroke pixels of the resized drawing in row-major order, with one
#   spare slot for the branch-free append;
# colour: (3,) uint8; mask_value: (1,) uint8 holding 1;
# failure: (2,) float64 receiving phi and theta of a warp that stopped the job;
# stroke_bounds: (characters, 20, 4) int64 `_stroke_bounds` of each drawing, -1 until first use.
Workspace = collections.namedtuple(
    "Workspace",
    "lu inverse pivot_order columns rows column_x column_y strokes colour mask_value failure "
    "stroke_bounds",
)


@_jit
def _new_workspace(pool_size):
    mask_value = np.ones(1, np.uint8)
    return Workspace(
        np.empty((3, 3)),
        np.empty((3, 3)),
        np.empty(3, np.int64),
        np.empty(_MAX_RESIZED_SIZE, np.int64),
        np.empty(_MAX_RESIZED_SIZE, np.int64),
        np.empty(_MAX_RESIZED_SIZE, np.int64),
        np.empty(_MAX_RESIZED_SIZE, np.int64),
        np.empty(_MAX_RESIZED_SIZE * _MAX_RESIZED_SIZE + 1, np.int64),
        np.empty(3, np.uint8),
        mask_value,
        np.zeros(2),
        np.full((pool_size, DRAWERS_PER_CHARACTER, 4), -1, np.int64),
    )


@_jit
def _invert_affine(lu, inverse, pivot_order):
    """Invert the 3x3 matrix in `lu` into `inverse`, as `augment.invert_affine` does; False if singular.

    `lu` is overwritten with its LU factors. Every operation, pivot choice (the first row of largest
    magnitude) and summation order is that of `augment.invert_affine`, so the doubles are identical.
    """
    for row in range(3):
        pivot_order[row] = row
    for column in range(3):
        pivot = column
        for row in range(column + 1, 3):
            if abs(lu[row, column]) > abs(lu[pivot, column]):
                pivot = row
        if lu[pivot, column] == 0.0:
            return False
        if pivot != column:
            for k in range(3):
                lu[pivot, k], lu[column, k] = lu[column, k], lu[pivot, k]
            pivot_order[pivot], pivot_order[column] = pivot_order[column], pivot_order[pivot]
        reciprocal = 1.0 / lu[column, column]
        for row in range(column + 1, 3):
            lu[row, column] *= reciprocal
            for k in range(column + 1, 3):
                lu[row, k] -= lu[row, column] * lu[column, k]

    # Solve for each column of the identity, permuted like the rows, straight into `inverse`.
    for out_column in range(3):
        for row in range(3):
            inverse[row, out_column] = 1.0 if pivot_order[row] == out_column else 0.0
        for row in range(3):
            for k in range(row):
                inverse[row, out_column] -= lu[row, k] * inverse[k, out_column]
        for row in range(2, -1, -1):
            for k in range(row + 1, 3):
                inverse[row, out_column] -= lu[row, k] * inverse[k, out_column]
            inverse[row, out_column] /= lu[row, row]
    return True


@_jit
def _first_min(v0, v1, v2, v3):
    # Python's min() keeps the first of equal values, which matters for 0.0 and -0.0.
    result = v0
    if v1 < result:
        result = v1
    if v2 < result:
        result = v2
    if v3 < result:
        result = v3
    return result


@_jit
def _first_max(v0, v1, v2, v3):
    result = v0
    if v1 > result:
        result = v1
    if v2 > result:
        result = v2
    if v3 > result:
        result = v3
    return result


@_jit
def _fixed(value):
    return np.int64(math.floor(value * _FIXED_POINT_ONE + 0.5))


@_jit
def _make_warp(phi, theta, a, b, workspace):
    """Compute the sampling grid of one augmentation, as `augment.make_warp`.

    Returns (status, (A0, A1, A2, A3, A4, A5), (warped width, warped height, resized width,
    resized height)); the tuples are zeros unless the status is _OK.
    """
    no_coefficients = (np.int64(0), np.int64(0), np.int64(0), np.int64(0), np.int64(0), np.int64(0))
    no_sizes = (np.int64(0), np.int64(0), np.int64(0), np.int64(0))

    # affine_geometry: the corners (0, 0), (0, Y), (X, 0), (X, Y). The products with 0.0 stay
    # because they can be -0.0, and min() and max() keep the first of equal values.
    width = a * DRAWING_SIZE
    height = b * DRAWING_SIZE
    cos_sum = math.cos(phi + theta)
    sin_diff = math.sin(phi - theta)
    sin_sum = math.sin(phi + theta)
    cos_diff = math.cos(phi - theta)
    mnx = _first_min(
        cos_sum * 0.0 + sin_diff * 0.0,
        cos_sum * 0.0 + sin_diff * height,
        cos_sum * width + sin_diff * 0.0,
        cos_sum * width + sin_diff * height,
    )
    mxx = _first_max(
        cos_sum * 0.0 + sin_diff * 0.0,
        cos_sum * 0.0 + sin_diff * height,
        cos_sum * width + sin_diff * 0.0,
        cos_sum * width + sin_diff * height,
    )
    mny = _first_min(
        -sin_sum * 0.0 + cos_diff * 0.0,
        -sin_sum * 0.0 + cos_diff * height,
        -sin_sum * width + cos_diff * 0.0,
        -sin_sum * width + cos_diff * height,
    )
    mxy = _first_max(
        -sin_sum * 0.0 + cos_diff * 0.0,
        -sin_sum * 0.0 + cos_diff * height,
        -sin_sum * width + cos_diff * 0.0,
        -sin_sum * width + cos_diff * height,
    )

    lu = workspace.lu
    lu[0, 0] = a * cos_sum
    lu[0, 1] = b * sin_diff
    lu[0, 2] = -mnx
    lu[1, 0] = -a * sin_sum
    lu[1, 1] = b * cos_diff
    lu[1, 2] = -mny
    lu[2, 0] = 0.0
    lu[2, 1] = 0.0
    lu[2, 2] = 1.0
    inverse = workspace.inverse
    if not _invert_affine(lu, inverse, workspace.pivot_order):
        return _SINGULAR, no_coefficients, no_sizes
    a0, a1, a2 = inverse[0, 0], inverse[0, 1], inverse[0, 2]
    a3, a4, a5 = inverse[1, 0], inverse[1, 1], inverse[1, 2]

    warped_width = np.int64(mxx - mnx)
    warped_height = np.int64(mxy - mny)
    resized_width = np.int64(augment.RESIZED_SIZE * (mxx - mnx) / DRAWING_SIZE)
    resized_height = np.int64(augment.RESIZED_SIZE * (mxy - mny) / DRAWING_SIZE)

    if a1 == 0.0 and a3 == 0.0:
        return _AXIS_ALIGNED, no_coefficients, no_sizes
    for corner in range(4):
        x = float(warped_width) if corner == 1 or corner == 3 else 0.0
        y = float(warped_height) if corner == 1 or corner == 2 else 0.0
        if (abs(a0 * x + a1 * y + a2) >= _FIXED_POINT_LIMIT
                or abs(a3 * x + a4 * y + a5) >= _FIXED_POINT_LIMIT):
            return _CORNER_OUT_OF_RANGE, no_coefficients, no_sizes
    # NOTE: `augment` has no such limit. Sizes outside 1..96 would need larger scratch arrays
    # (or divide by zero), and the fixed augmentation ranges keep them within 13..95.
    if not (1 <= resized_width <= _MAX_RESIZED_SIZE and 1 <= resized_height <= _MAX_RESIZED_SIZE):
        return _RESIZED_SIZE_OUT_OF_RANGE, no_coefficients, no_sizes

    coefficients = (
        _fixed(a0),
        _fixed(a1),
        _fixed((a2 + 0.5 * a0) + 0.5 * a1),
        _fixed(a3),
        _fixed(a4),
        _fixed((a5 + 0.5 * a3) + 0.5 * a4),
    )
    return _OK, coefficients, (warped_width, warped_height, resized_width, resized_height)


# --- warp, resize and crop --------------------------------------------------------------------------

@_jit
def _resize_positions(source_size, target_size, positions):
    """Write the warped index each resized pixel reads into `positions`; return how many are valid.

    Pillow accumulates the sample position one step at a time in double precision (a cumulative sum,
    not (i + 0.5) * ratio) and truncates it. The positions increase, so those at or past
    `source_size`, which read nothing, form a suffix; the return value is where it starts.
    """
    ratio = source_size / target_size
    position = 0.5 * ratio
    for i in range(target_size):
        if i > 0:
            position += ratio
        index = np.int64(position)
        if index >= source_size:
            return i
        positions[i] = index
    return target_size


@_jit
def _stroke_bounds(drawing):
    """Return (first row, last row, first column, last column) of the strokes of a packed drawing.

    A blank drawing gives first > last. Pixels outside these bounds are 0, so the renderer need not
    sample them.
    """
    # Each row is read as two 56-bit words, bytes 0-6 (columns 0-55) and bytes 7-13 (columns
    # 56-111), most significant bit first. OR-ing them over all rows marks the stroke columns.
    first_row = DRAWING_SIZE
    last_row = -1
    left_columns = 0
    right_columns = 0
    for row in range(DRAWING_SIZE):
        left = 0
        right = 0
        for byte_index in range(7):
            left = (left << 8) | drawing[row, byte_index]
            right = (right << 8) | drawing[row, byte_index + 7]
        if left | right:
            first_row = min(first_row, row)
            last_row = row
        left_columns |= left
        right_columns |= right

    first_column = DRAWING_SIZE
    last_column = -1
    for column in range(112):
        if column < 56:
            bit = (left_columns >> (55 - column)) & 1
        else:
            bit = (right_columns >> (111 - column)) & 1
        if bit:
            first_column = min(first_column, column)
            last_column = column
    return first_row, last_row, first_column, last_column


@_jit
def _cached_stroke_bounds(pool, character, drawer, cache):
    """Return `_stroke_bounds` of one drawing of the pool, computed on first use into `cache`."""
    if cache[character, drawer, 0] < 0:
        bounds = _stroke_bounds(pool[character, drawer])
        for k in range(4):
            cache[character, drawer, k] = bounds[k]
    return (cache[character, drawer, 0], cache[character, drawer, 1],
            cache[character, drawer, 2], cache[character, drawer, 3])


@_jit
def _candidate_lines(offset, row_step, coefficient, ratio, low, high):
    """Bound the resized columns j whose 16.16 source position can lie in [low, high].

    The position is offset + y * row_step + coefficient * x_j for resized row position y. x_j is a
    resize position, the truncated cumulative sum, within 1 of (j + 0.5) * ratio, so a slack of
    |coefficient| + 1 covers it. Returns lines (first, first_slope, last, last_slope): every such j
    lies in [first + first_slope * y, last + last_slope * y], up to rounding in the last bits. The
    caller covers that rounding by widening the range by one column on each side. A zero
    coefficient bounds nothing.
    """
    if coefficient == 0:
        return -math.inf, 0.0, math.inf, 0.0
    slack = abs(coefficient) * 1.001 + 1.0
    scale = coefficient * ratio
    slope = -row_step / scale
    from_low = (low - slack - offset) / scale - 0.5
    from_high = (high + slack - offset) / scale - 0.5
    if scale > 0:
        return from_low, slope, from_high, slope
    return from_high, slope, from_low, slope


@_jit
def _render_strokes(drawing, bounds, coefficients, sizes, workspace):
    """Warp and resize one packed drawing; list its stroke pixels in `workspace.strokes`.

    `drawing` is one (105, 14) packed bitmap (big-endian bits, 1 = stroke) and `bounds` its
    `_stroke_bounds`. Only the warped pixels that the resize reads are computed, and of those only
    the ones that can fall inside the stroke bounds. Returns the number of stroke pixels, stored in
    row-major order as (row << 7) | column.
    """
    first_row, last_row, first_column, last_column = bounds
    if first_row > last_row:
        return 0
    a0, a1, a2, a3, a4, a5 = coefficients
    warped_width, warped_height, resized_width, resized_height = sizes
    columns = workspace.columns
    rows = workspace.rows
    column_x = workspace.column_x
    column_y = workspace.column_y
    strokes = workspace.strokes
    flat_drawing = drawing.reshape(-1)
    valid_columns = _resize_positions(warped_width, resized_width, columns)
    valid_rows = _resize_positions(warped_height, resized_height, rows)
    for j in range(valid_columns):
        column_x[j] = columns[j] * a0
        column_y[j] = columns[j] * a3

    # Source column c is read where the 16.16 position lies in [c * 65536, c * 65536 + 65535], so
    # [low_x, high_x] and [low_y, high_y] are the positions that fall inside the stroke bounds.
    low_x = first_column * 65536
    high_x = last_column * 65536 + 65535
    low_y = first_row * 65536
    high_y = last_row * 65536 + 65535
    column_ratio = warped_width / resized_width
    first_x, first_x_slope, last_x, last_x_slope = _candidate_lines(
        a2, a1, a0, column_ratio, low_x, high_x
    )
    first_y, first_y_slope, last_y, last_y_slope = _candidate_lines(
        a5, a4, a3, column_ratio, low_y, high_y
    )
    last_index = valid_columns - 1.0
    # A position relative to low_x is inside when, read as unsigned, it is at most span_x.
    span_x = np.uint64(high_x - low_x)
    span_y = np.uint64(high_y - low_y)

    count = 0
    for i in range(valid_rows):
        y = rows[i]
        first = max(first_x + first_x_slope * y, first_y + first_y_slope * y) - 1.0
        last = min(last_x + last_x_slope * y, last_y + last_y_slope * y) + 1.0
        if first > last_index or last < 0.0 or first > last:
            continue
        # The outer max() lets LLVM prove that the index is non-negative, so it drops numba's
        # negative-index handling from the loop.
        first_j = max(math.ceil(max(first, 0.0)), 0)
        stop_j = math.floor(min(last, last_index)) + 1
        offsets_x = column_x[first_j:stop_j]
        offsets_y = column_y[first_j:stop_j]
        row_x = a2 + y * a1 - low_x
        row_y = a5 + y * a4 - low_y
        row_code = (i << _STROKE_ROW_SHIFT) | first_j
        for k in range(offsets_x.shape[0]):
            position_x = row_x + offsets_x[k]
            position_y = row_y + offsets_y[k]
            if np.uint64(position_x) <= span_x and np.uint64(position_y) <= span_y:
                # low_x and low_y are multiples of 65536, so the arithmetic shift of the relative
                # position plus the first column is the source column (floor division by 65536).
                source_x = (position_x >> 16) + first_column
                source_y = (position_y >> 16) + first_row
                byte = flat_drawing[source_y * _ROW_BYTES + (source_x >> 3)]
                # Branch-free append: the slot is kept only when the pixel is a stroke.
                strokes[count] = row_code + k
                count += (byte >> (7 - (source_x & 7))) & 1
    return count


@_jit
def _augment_and_crop(state, drawing, bounds, max_scale, workspace):
    """Draw one augmentation of `drawing`, render and crop it, and draw its colour.

    Returns (status, crop) with crop = (top, left, height, width, stroke count): the crop keeps
    the listed stroke pixels (`workspace.strokes`) whose row lies in [top, top + height) and column
    in [left, left + width). The colour is in `workspace.colour`. As in the authors' code, the
    colour is drawn only when the drawing left a stroke pixel (status _BLANK otherwise), and a crop
    of zero width or height (status _ZERO_SIZE) is rejected after the colour draw.
    """
    no_crop = (0, 0, 0, 0, 0)
    phi = _uniform(state, -float(augment.MAX_ROTATION_DEGREES), float(augment.MAX_ROTATION_DEGREES))
    phi *= _RADIANS_PER_DEGREE
    theta = _uniform(state, -float(augment.MAX_SHEAR_DEGREES), float(augment.MAX_SHEAR_DEGREES))
    theta *= _RADIANS_PER_DEGREE
    # libm pow, like Python's float power. `max_scale` is a run-time value, so LLVM cannot rewrite
    # pow(2.0, x) as exp2(x), which may differ in the last bit.
    a = math.pow(max_scale, _uniform(state, -1.0, 1.0))
    b = math.pow(max_scale, _uniform(state, -1.0, 1.0))

    status, coefficients, sizes = _make_warp(phi, theta, a, b, workspace)
    if status != _OK:
        workspace.failure[0] = phi
        workspace.failure[1] = theta
        return status, no_crop

    count = _render_strokes(drawing, bounds, coefficients, sizes, workspace)
    if count == 0:
        return _BLANK, no_crop

    # uint8(255 * rgb) truncates; 255 * rgb < 255 because rgb < 1.
    for channel in range(3):
        workspace.colour[channel] = np.uint8(255.0 * _next_double(state))

    # The strokes are in row-major order, so the first and last give the row range. The authors'
    # crop drops the last stroke row and column.
    strokes = workspace.strokes
    first_row = strokes[0] >> _STROKE_ROW_SHIFT
    last_row = strokes[count - 1] >> _STROKE_ROW_SHIFT
    first_column = _MAX_RESIZED_SIZE
    last_column = -1
    for n in range(count):
        column = strokes[n] & _STROKE_COLUMN_MASK
        first_column = min(first_column, column)
        last_column = max(last_column, column)
    height = last_row - first_row
    width = last_column - first_column
    if height == 0 or width == 0:
        return _ZERO_SIZE, no_crop
    return _OK, (first_row, first_column, height, width, count)


@_jit
def _paste(canvas, strokes, crop, colour, left, top):
    """Set `canvas` pixels to `colour` on the crop's stroke pixels placed at (left, top), clipped."""
    crop_top, crop_left, height, width, count = crop
    canvas_height, canvas_width = canvas.shape[0], canvas.shape[1]
    channels = colour.shape[0]
    for n in range(count):
        i = (strokes[n] >> _STROKE_ROW_SHIFT) - crop_top
        j = (strokes[n] & _STROKE_COLUMN_MASK) - crop_left
        if i >= height or j >= width:
            continue
        y = top + i
        x = left + j
        if 0 <= y < canvas_height and 0 <= x < canvas_width:
            for channel in range(channels):
                canvas[y, x, channel] = colour[channel]


# --- examples and jobs ------------------------------------------------------------------------------

@_jit
def _render_example(state, pool, clutter, first_drawer, stop_drawer, scene_scale, target_scale,
                    image, target, segmentation, workspace):
    """Render the next example into the zeroed `image`, `target` and `segmentation`.

    Returns (status, character, drawer, top, left, height, width, retries) with the draws in the
    order of `scene.make_example`.
    """
    pool_size = pool.shape[0]
    character = _randint(state, 0, pool_size)
    drawer = _randint(state, first_drawer, stop_drawer)
    retries = 0

    # Distractors: a blank or zero-sized crop draws a new character and drawer.
    placed = 0
    while placed < clutter - 1:
        other = _randint(state, 0, pool_size)
        other_drawer = _randint(state, first_drawer, stop_drawer)
        bounds = _cached_stroke_bounds(pool, other, other_drawer, workspace.stroke_bounds)
        status, crop = _augment_and_crop(
            state, pool[other, other_drawer], bounds, scene_scale, workspace
        )
        if status == _BLANK or status == _ZERO_SIZE:
            retries += 1
            continue
        if status != _OK:
            return status, character, drawer, 0, 0, 0, 0, retries
        height, width = crop[2], crop[3]
        left = _randint(state, 0, SCENE_SIZE - width + 1)
        top = _randint(state, 0, SCENE_SIZE - height + 1)
        _paste(image, workspace.strokes, crop, workspace.colour, left, top)
        placed += 1

    # The authors' empty-scene test draws one number and, with probability 0, changes nothing.
    _next_double(state)

    # Target in the scene: a blank or zero-sized crop draws again from the same drawing.
    drawing = pool[character, drawer]
    bounds = _cached_stroke_bounds(pool, character, drawer, workspace.stroke_bounds)
    while True:
        status, crop = _augment_and_crop(state, drawing, bounds, scene_scale, workspace)
        if status == _OK:
            break
        if status != _BLANK and status != _ZERO_SIZE:
            return status, character, drawer, 0, 0, 0, 0, retries
        retries += 1
    target_height, target_width = crop[2], crop[3]
    target_left = _randint(state, 0, SCENE_SIZE - target_width + 1)
    target_top = _randint(state, 0, SCENE_SIZE - target_height + 1)
    _paste(image, workspace.strokes, crop, workspace.colour, target_left, target_top)
    _paste(segmentation, workspace.strokes, crop, workspace.mask_value, target_left, target_top)

    # Exemplar: centred with floor division, so a crop wider or taller than 32 is clipped both sides.
    while True:
        status, crop = _augment_and_crop(state, drawing, bounds, target_scale, workspace)
        if status == _OK:
            break
        if status != _BLANK and status != _ZERO_SIZE:
            return status, character, drawer, 0, 0, 0, 0, retries
        retries += 1
    height, width = crop[2], crop[3]
    _paste(target, workspace.strokes, crop, workspace.colour,
           (TARGET_SIZE - width) // 2, (TARGET_SIZE - height) // 2)

    return (_OK, character, drawer, target_top, target_left, target_height, target_width, retries)


@_jit
def _render_job_kernel(state, pool, clutter, first_drawer, stop_drawer, scene_scale, target_scale,
                       images, targets, segmentations, characters, drawers, bboxes, retries,
                       failure):
    """Render len(images) examples from `state` into the zeroed output arrays; return the status.

    On a status other than _OK, `failure` contains the example index, phi and theta of the warp
    that stopped the job.
    """
    workspace = _new_workspace(pool.shape[0])
    for example in range(images.shape[0]):
        (status, character, drawer, top, left, height, width, example_retries) = _render_example(
            state, pool, clutter, first_drawer, stop_drawer, scene_scale, target_scale,
            images[example], targets[example], segmentations[example], workspace,
        )
        if status != _OK:
            failure[0] = example
            failure[1] = workspace.failure[0]
            failure[2] = workspace.failure[1]
            return status
        characters[example] = character
        drawers[example] = drawer
        bboxes[example, 0] = top
        bboxes[example, 1] = left
        bboxes[example, 2] = height
        bboxes[example, 3] = width
        retries[example] = example_retries
    return _OK


def _check_pool(pool_strokes):
    pool = np.ascontiguousarray(pool_strokes, dtype=np.uint8)
    expected_tail = (DRAWERS_PER_CHARACTER, DRAWING_SIZE, (DRAWING_SIZE + 7) // 8)
    if pool.ndim != 4 or pool.shape[1:] != expected_tail or pool.shape[0] == 0:
        raise ValueError(
            f"pool_strokes has shape {np.shape(pool_strokes)}, expected (characters, "
            f"{', '.join(map(str, expected_tail))}) with at least one character. Pass "
            "OmniglotSet.packed_strokes sliced to the split's pool."
        )
    return pool


def _failure_error(status, request, failure):
    example = request.first_example_index() + int(failure[0])
    phi, theta = float(failure[1]), float(failure[2])
    where = f"example {example} of split {request.split!r} at clutter {request.clutter}"
    if status == _AXIS_ALIGNED:
        return augment.UnsupportedWarpError(
            f"axis-aligned warp (phi={phi!r}, theta={theta!r}) in {where}: Pillow samples it in "
            "floating point, which this renderer does not emulate. The published augmentation "
            "ranges never produce it."
        )
    if status == _CORNER_OUT_OF_RANGE:
        return augment.UnsupportedWarpError(
            f"warp corner beyond fixed-point range (phi={phi!r}, theta={theta!r}) in {where}: "
            "Pillow samples it in floating point, which this renderer does not emulate. The "
            "published augmentation ranges never produce it."
        )
    if status == _RESIZED_SIZE_OUT_OF_RANGE:
        return augment.UnsupportedWarpError(
            f"resized drawing outside 1..{_MAX_RESIZED_SIZE} pixels (phi={phi!r}, theta={theta!r}) "
            f"in {where}; use jobs.render_job_numpy for such augmentation ranges."
        )
    if status == _SINGULAR:
        return np.linalg.LinAlgError(f"singular augmentation matrix (phi={phi!r}) in {where}")
    return RuntimeError(f"compiled renderer returned unknown status {status} in {where}")


def render_job_fast(request, pool_strokes):
    """Render a job with the compiled engine; the result equals `jobs.render_job_numpy`.

    Args:
      request: a `jobs.JobRequest`.
      pool_strokes: packed stroke bitmaps of the split's character pool, shaped
        (characters, 20, 105, 14) as `OmniglotSet.packed_strokes`.

    Returns:
      A `jobs.JobArrays` of `request.count` examples.

    Raises:
      augment.UnsupportedWarpError: an augmentation falls on a Pillow path that is not emulated
        (never for the published augmentation ranges).
      ValueError: invalid clutter, split, job index, count or pool shape.
    """
    jobs.check_clutter(request.clutter)
    spec = splits.split_spec(request.split)
    seed = jobs.job_seed(request.split, request.job_index)
    pool = _check_pool(pool_strokes)
    count = request.count
    if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 0:
        raise ValueError(f"count must be a whole number of examples, at least 0, got {count!r}.")

    arrays = jobs.JobArrays(
        images=np.zeros((count, SCENE_SIZE, SCENE_SIZE, 3), np.uint8),
        targets=np.zeros((count, TARGET_SIZE, TARGET_SIZE, 3), np.uint8),
        segmentations=np.zeros((count, SCENE_SIZE, SCENE_SIZE, 1), np.uint8),
        characters=np.zeros(count, np.int64),
        drawers=np.zeros(count, np.int64),
        bboxes=np.zeros((count, 4), np.int64),
        retries=np.zeros(count, np.int64),
    )
    failure = np.zeros(3)
    status = _render_job_kernel(
        mt19937_state(seed),
        pool,
        int(request.clutter),
        spec.pool.first_drawer,
        spec.pool.stop_drawer,
        float(augment.SCENE_MAX_SCALE),
        float(augment.TARGET_MAX_SCALE),
        arrays.images,
        arrays.targets,
        arrays.segmentations,
        arrays.characters,
        arrays.drawers,
        arrays.bboxes,
        arrays.retries,
        failure,
    )
    if status != _OK:
        raise _failure_error(status, request, failure)
    return arrays
