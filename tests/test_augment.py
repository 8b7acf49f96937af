"""`augment.invert_affine` must give the same fixed-point warp as `numpy.linalg.inv`.

The authors' generator inverted the forward matrix with `numpy.linalg.inv` (LAPACK). The core uses
its own 3x3 elimination so that it does not depend on the installed LAPACK; its doubles may differ
from LAPACK's in the last bits, but the 16.16 fixed-point coefficients that Pillow samples with,
and hence every pixel, must not.
"""

import numpy as np
import pytest

from cluttered_omniglot.core import augment

AUGMENTATIONS_PER_SCALE = 100_000


def _numpy_inverse(matrix):
    return np.linalg.inv(np.array(matrix, dtype=np.float64))


@pytest.mark.parametrize("max_scale", [augment.SCENE_MAX_SCALE, augment.TARGET_MAX_SCALE])
def test_invert_affine_gives_numpy_fixed_point_warp(max_scale):
    random_state = np.random.RandomState(20180710 + max_scale)
    differing_warps = []
    raw_differences = 0
    max_ulps = 0.0
    for index in range(AUGMENTATIONS_PER_SCALE):
        augmentation = augment.draw_augmentation(random_state, max_scale)
        forward, _ = augment.affine_geometry(*augmentation)
        ours = np.array(augment.invert_affine(forward))[:2]
        reference = _numpy_inverse(forward)[:2]
        if not np.array_equal(ours, reference):
            raw_differences += int(np.count_nonzero(ours != reference))
            max_ulps = max(max_ulps, float(np.max(np.abs(ours - reference) / np.spacing(np.abs(reference)))))
        warp = augment.make_warp(*augmentation)
        reference_warp = augment.make_warp(*augmentation, inverse=_numpy_inverse)
        if warp != reference_warp:
            differing_warps.append((index, augmentation, warp.coefficients, reference_warp.coefficients))
    print(
        f"max_scale {max_scale}: {raw_differences} of {6 * AUGMENTATIONS_PER_SCALE} inverse coefficients "
        f"differ from numpy.linalg.inv as doubles (at most {max_ulps:g} ulp); "
        f"{len(differing_warps)} fixed-point warps differ"
    )
    assert not differing_warps, f"fixed-point warps differ (index, augmentation, ours, numpy): {differing_warps[:5]}"
    # Rounding differences only: anything beyond a few ulp would be a real error in the elimination.
    assert max_ulps <= 16


def test_invert_affine_inverts():
    random_state = np.random.RandomState(7)
    for _ in range(1000):
        forward, _ = augment.affine_geometry(*augment.draw_augmentation(random_state, 2))
        product = np.array(augment.invert_affine(forward)) @ np.array(forward)
        np.testing.assert_allclose(product, np.eye(3), atol=1e-12)


def test_invert_affine_rejects_singular_matrix():
    with pytest.raises(np.linalg.LinAlgError):
        augment.invert_affine([[1.0, 2.0, 0.0], [2.0, 4.0, 0.0], [0.0, 0.0, 1.0]])
