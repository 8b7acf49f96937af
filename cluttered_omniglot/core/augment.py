"""Random affine augmentation of one Omniglot drawing, computed exactly as the authors' Pillow 5 code did.

A drawing is rotated by phi, sheared by theta and scaled by (a, b), warped with Pillow's 16.16
fixed-point nearest-neighbour affine sampler, then shrunk by 32/105 with Pillow's nearest-neighbour
resize. Both steps are reproduced here in integer and double arithmetic, so the result does not
depend on the installed Pillow or numpy version. Warp and resize are fused: only the warped pixels
that the resize reads are computed.
"""

import dataclasses
import math

import numpy as np

from cluttered_omniglot.core.omniglot_archives import DRAWING_SIZE

MAX_ROTATION_DEGREES = 20
MAX_SHEAR_DEGREES = 10
SCENE_MAX_SCALE = 2
TARGET_MAX_SCALE = 1
RESIZED_SIZE = 32

# Pillow falls back to float sampling when a warped corner lies beyond this many pixels.
_FIXED_POINT_LIMIT = 32768.0


class UnsupportedWarpError(ArithmeticError):
    """The warp falls on a Pillow code path that this module does not emulate."""


@dataclasses.dataclass(frozen=True)
class Warp:
    """Fixed-point sampling grid of one augmentation.

    `coefficients` are Pillow's 16.16 fixed-point (A0, A1, A2, A3, A4, A5): warped pixel (x, y)
    reads source column `(A2 + y*A1 + x*A0) >> 16` and row `(A5 + y*A4 + x*A3) >> 16`.
    `warped_size` and `resized_size` are (width, height) before and after the 32/105 resize.
    """

    coefficients: tuple
    warped_size: tuple
    resized_size: tuple


def draw_augmentation(random_state, max_scale):
    """Draw (phi, theta, a, b) from a legacy numpy RandomState, in the authors' order.

    Rotation phi and shear theta are in radians, uniform in +-20 and +-10 degrees. The scale factors
    are `max_scale ** uniform(-1, 1)` each, so 1 when `max_scale` is 1 (the four draws still happen).
    """
    phi = math.radians(random_state.uniform(-MAX_ROTATION_DEGREES, MAX_ROTATION_DEGREES))
    theta = math.radians(random_state.uniform(-MAX_SHEAR_DEGREES, MAX_SHEAR_DEGREES))
    a = float(max_scale) ** random_state.uniform(-1, 1)
    b = float(max_scale) ** random_state.uniform(-1, 1)
    return phi, theta, a, b


def invert_affine(matrix):
    """Invert a 3x3 matrix by Gaussian elimination with partial pivoting, in double precision.

    The order of operations is LAPACK's getrf/getrs, but `numpy.linalg.inv` (OpenBLAS) differs from
    it by up to a few ulp in about a quarter of the coefficients. That changes a 16.16 fixed-point
    coefficient only when a value lies within about 1e-9 of a rounding boundary: the tests compare
    the two on 200,000 augmentations, and all fixed-point coefficients agree.
    """
    lu = [list(map(float, row)) for row in matrix]
    order = [0, 1, 2]
    for column in range(3):
        pivot = max(range(column, 3), key=lambda row: abs(lu[row][column]))
        if lu[pivot][column] == 0.0:
            raise np.linalg.LinAlgError("singular augmentation matrix")
        if pivot != column:
            lu[pivot], lu[column] = lu[column], lu[pivot]
            order[pivot], order[column] = order[column], order[pivot]
        reciprocal = 1.0 / lu[column][column]
        for row in range(column + 1, 3):
            lu[row][column] *= reciprocal
            for k in range(column + 1, 3):
                lu[row][k] -= lu[row][column] * lu[column][k]

    inverse = [[0.0] * 3 for _ in range(3)]
    for out_column in range(3):
        rhs = [1.0 if order[row] == out_column else 0.0 for row in range(3)]
        for row in range(3):
            for k in range(row):
                rhs[row] -= lu[row][k] * rhs[k]
        for row in reversed(range(3)):
            for k in range(row + 1, 3):
                rhs[row] -= lu[row][k] * rhs[k]
            rhs[row] /= lu[row][row]
        for row in range(3):
            inverse[row][out_column] = rhs[row]
    return inverse


def affine_geometry(phi, theta, a, b):
    """Return the forward matrix and the warped extent (mnx, mxx, mny, mxy) of an augmentation."""
    width = a * DRAWING_SIZE
    height = b * DRAWING_SIZE
    corners = ((0, 0), (0, height), (width, 0), (width, height))
    cos_sum, sin_diff = math.cos(phi + theta), math.sin(phi - theta)
    sin_sum, cos_diff = math.sin(phi + theta), math.cos(phi - theta)
    us = [cos_sum * p + sin_diff * q for p, q in corners]
    vs = [-sin_sum * p + cos_diff * q for p, q in corners]
    mnx, mxx, mny, mxy = min(us), max(us), min(vs), max(vs)
    forward = [
        [a * cos_sum, b * sin_diff, -mnx],
        [-a * sin_sum, b * cos_diff, -mny],
        [0.0, 0.0, 1.0],
    ]
    return forward, (mnx, mxx, mny, mxy)


def _fixed(value):
    return math.floor(value * 65536.0 + 0.5)


def make_warp(phi, theta, a, b, inverse=invert_affine):
    """Compute the fixed-point sampling grid and sizes of one augmentation.

    Raises:
      UnsupportedWarpError: the warp would use one of Pillow's float samplers (no shear-rotation
        term, or a corner beyond +-32768 pixels). Valid augmentation ranges never reach them.
    """
    forward, (mnx, mxx, mny, mxy) = affine_geometry(phi, theta, a, b)
    inv = inverse(forward)
    a0, a1, a2 = inv[0][0], inv[0][1], inv[0][2]
    a3, a4, a5 = inv[1][0], inv[1][1], inv[1][2]
    warped_size = (int(mxx - mnx), int(mxy - mny))
    resized_size = (
        int(RESIZED_SIZE * (mxx - mnx) / DRAWING_SIZE),
        int(RESIZED_SIZE * (mxy - mny) / DRAWING_SIZE),
    )

    if a1 == 0 and a3 == 0:
        raise UnsupportedWarpError(f"axis-aligned warp (phi={phi!r}, theta={theta!r})")
    width, height = warped_size
    for x, y in ((0, 0), (width, height), (0, height), (width, 0)):
        if abs(a0 * x + a1 * y + a2) >= _FIXED_POINT_LIMIT or abs(a3 * x + a4 * y + a5) >= _FIXED_POINT_LIMIT:
            raise UnsupportedWarpError(f"warp corner beyond fixed-point range (phi={phi!r})")

    coefficients = (
        _fixed(a0),
        _fixed(a1),
        _fixed((a2 + 0.5 * a0) + 0.5 * a1),
        _fixed(a3),
        _fixed(a4),
        _fixed((a5 + 0.5 * a3) + 0.5 * a4),
    )
    return Warp(coefficients, warped_size, resized_size)


def resize_positions(source_size, target_size):
    """Return the source index that each of `target_size` nearest-neighbour samples reads.

    Pillow places sample i at `0.5*r + i*r`, r = source/target, accumulated one step at a time in
    double precision, and truncates it. `np.add.accumulate` sums strictly in order, like Pillow's
    loop. A position at or past `source_size` reads nothing and is returned as -1.
    """
    ratio = source_size / target_size
    steps = np.full(target_size, ratio)
    steps[0] = 0.5 * ratio
    positions = np.add.accumulate(steps).astype(np.int64)
    positions[positions >= source_size] = -1
    return positions


def render_strokes(strokes, warp):
    """Warp and resize a 105x105 stroke bitmap; return the (height, width) uint8 result."""
    a0, a1, a2, a3, a4, a5 = warp.coefficients
    columns = resize_positions(warp.warped_size[0], warp.resized_size[0])
    rows = resize_positions(warp.warped_size[1], warp.resized_size[1])
    x = columns[np.newaxis, :]
    y = rows[:, np.newaxis]
    source_x = (a2 + y * a1 + x * a0) >> 16
    source_y = (a5 + y * a4 + x * a3) >> 16
    inside = (
        (x >= 0) & (y >= 0)
        & (source_x >= 0) & (source_x < DRAWING_SIZE)
        & (source_y >= 0) & (source_y < DRAWING_SIZE)
    )
    out = np.zeros(inside.shape, np.uint8)
    out[inside] = strokes[source_y[inside], source_x[inside]]
    return out


def crop_strokes(bitmap):
    """Crop a bitmap to its strokes the way the authors did, dropping the last stroke row and column.

    Returns None when the bitmap has no stroke pixel. The result can be 0 pixels wide or high.
    """
    stroke_rows = np.flatnonzero(bitmap.any(axis=1))
    if stroke_rows.size == 0:
        return None
    stroke_columns = np.flatnonzero(bitmap.any(axis=0))
    return bitmap[stroke_rows[0]:stroke_rows[-1], stroke_columns[0]:stroke_columns[-1]]
