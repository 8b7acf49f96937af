"""The compiled engine (`fast_render`) against numpy's RandomState and the numpy renderer.

The random-stream tests need nothing but numpy. The rendering tests read the Omniglot archives
through the `pool_strokes` and `omniglot_sets` fixtures (CLUTTERED_OMNIGLOT_MANUAL_DIR) and compare
whole 2000-example jobs with `jobs.render_job_numpy`, field by field and example by example.
"""

import math

import numba
import numpy as np
import pytest

from cluttered_omniglot.core import augment
from cluttered_omniglot.core import fast_render
from cluttered_omniglot.core import jobs
from cluttered_omniglot.core import splits

SEEDS = (0, 1, 2**32 - 1, 2209944264)
JOB_FIELDS = ("images", "targets", "segmentations", "characters", "drawers", "bboxes", "retries")


# --- compiled helpers that drive the engine's random-stream primitives -------------------------------

@numba.njit
def _draw_words(state, count):
    out = np.empty(count, np.int64)
    for i in range(count):
        out[i] = fast_render._next_uint32(state)
    return out


@numba.njit
def _draw_doubles(state, count):
    out = np.empty(count)
    for i in range(count):
        out[i] = fast_render._next_double(state)
    return out


@numba.njit
def _draw_uniforms(state, low, high, count):
    out = np.empty(count)
    for i in range(count):
        out[i] = fast_render._uniform(state, low, high)
    return out


@numba.njit
def _draw_randints(state, low, high, count):
    out = np.empty(count, np.int64)
    for i in range(count):
        out[i] = fast_render._randint(state, low, high)
    return out


@numba.njit
def _run_script(state, kinds, lows, highs):
    # kinds: 0 randint, 1 uniform, 2 random_sample.
    out = np.empty(kinds.shape[0])
    for i in range(kinds.shape[0]):
        if kinds[i] == 0:
            out[i] = fast_render._randint(state, lows[i], highs[i])
        elif kinds[i] == 1:
            out[i] = fast_render._uniform(state, float(lows[i]), float(highs[i]))
        else:
            out[i] = fast_render._next_double(state)
    return out


@numba.njit
def _all_stroke_bounds(strokes):
    out = np.empty((strokes.shape[0], strokes.shape[1], 4), np.int64)
    for character in range(strokes.shape[0]):
        for drawer in range(strokes.shape[1]):
            bounds = fast_render._stroke_bounds(strokes[character, drawer])
            for k in range(4):
                out[character, drawer, k] = bounds[k]
    return out


def _assert_state_equal(state, random_state):
    _, key, position = random_state.get_state()[:3]
    np.testing.assert_array_equal(state[:624], key.astype(np.int64))
    assert state[624] == position


# --- random stream ------------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", SEEDS)
def test_words_match_randomstate(seed):
    state = fast_render.mt19937_state(seed)
    random_state = np.random.RandomState(seed)
    # 2**32 - 1 is the full range, which numpy's legacy code fills with raw 32-bit words.
    expected = random_state.randint(0, 2**32, size=1_000_000, dtype=np.uint32).astype(np.int64)
    np.testing.assert_array_equal(_draw_words(state, 1_000_000), expected)
    _assert_state_equal(state, random_state)


@pytest.mark.parametrize("seed", SEEDS)
def test_doubles_match_random_sample(seed):
    state = fast_render.mt19937_state(seed)
    random_state = np.random.RandomState(seed)
    np.testing.assert_array_equal(_draw_doubles(state, 1_000_000), random_state.random_sample(1_000_000))
    _assert_state_equal(state, random_state)


@pytest.mark.parametrize("low, high", [(-20.0, 20.0), (-10.0, 10.0), (-1.0, 1.0), (0.5, 3.25)])
def test_uniform_matches_randomstate(low, high):
    state = fast_render.mt19937_state(7)
    random_state = np.random.RandomState(7)
    np.testing.assert_array_equal(
        _draw_uniforms(state, low, high, 500_000), random_state.uniform(low, high, size=500_000)
    )
    _assert_state_equal(state, random_state)


# Pool sizes, drawer ranges, every scene position range 96 - w + 1, and the largest supported span.
RANDINT_RANGES = (
    [(0, 307), (0, 352), (0, 964), (0, 10), (10, 20)]
    + [(0, 96 - width + 1) for width in range(0, 96)]
    + [(0, 2**31), (0, 2**31 + 1), (5, 2**32 + 5)]
)


@pytest.mark.parametrize("low, high", RANDINT_RANGES)
def test_randint_matches_randomstate(low, high):
    state = fast_render.mt19937_state(11)
    random_state = np.random.RandomState(11)
    count = 200_000
    expected = random_state.randint(low, high, size=count)
    np.testing.assert_array_equal(_draw_randints(state, low, high, count), expected)
    _assert_state_equal(state, random_state)


def test_randint_single_value_draws_nothing():
    state = fast_render.mt19937_state(3)
    random_state = np.random.RandomState(3)
    assert fast_render._randint(state, 5, 6) == 5
    assert random_state.randint(5, 6) == 5
    _assert_state_equal(state, random_state)


def test_interleaved_scalar_draws_match():
    # Scalar calls in a random order, as the generator makes them, one RandomState call each.
    script_random = np.random.RandomState(2024)
    count = 30_000
    kinds = script_random.randint(0, 3, size=count)
    lows = np.zeros(count, np.int64)
    highs = script_random.choice([1, 2, 10, 20, 77, 96, 307, 352, 964], size=count).astype(np.int64)
    lows[kinds == 1] = -20
    highs[kinds == 1] = 20

    random_state = np.random.RandomState(4020197800)
    expected = np.empty(count)
    for i in range(count):
        if kinds[i] == 0:
            expected[i] = random_state.randint(lows[i], highs[i])
        elif kinds[i] == 1:
            expected[i] = random_state.uniform(lows[i], highs[i])
        else:
            expected[i] = random_state.random_sample()
    state = fast_render.mt19937_state(4020197800)
    np.testing.assert_array_equal(_run_script(state, kinds, lows, highs), expected)
    _assert_state_equal(state, random_state)


# --- augmentation geometry ----------------------------------------------------------------------------

@pytest.mark.parametrize("max_scale", [augment.SCENE_MAX_SCALE, augment.TARGET_MAX_SCALE])
def test_make_warp_matches_augment(max_scale):
    random_state = np.random.RandomState(5)
    workspace = fast_render._new_workspace(1)
    for _ in range(30_000):
        phi, theta, a, b = augment.draw_augmentation(random_state, max_scale)
        expected = augment.make_warp(phi, theta, a, b)
        status, coefficients, sizes = fast_render._make_warp(phi, theta, a, b, workspace)
        assert status == fast_render._OK
        assert coefficients == expected.coefficients, (phi, theta, a, b)
        assert sizes == expected.warped_size + expected.resized_size, (phi, theta, a, b)


def test_make_warp_rejects_axis_aligned():
    workspace = fast_render._new_workspace(1)
    with pytest.raises(augment.UnsupportedWarpError):
        augment.make_warp(0.0, 0.0, 1.0, 1.0)
    assert fast_render._make_warp(0.0, 0.0, 1.0, 1.0, workspace)[0] == fast_render._AXIS_ALIGNED


def test_make_warp_rejects_far_corner():
    workspace = fast_render._new_workspace(1)
    with pytest.raises(augment.UnsupportedWarpError):
        augment.make_warp(0.3, 0.0, 1e-4, 1.0)
    assert fast_render._make_warp(0.3, 0.0, 1e-4, 1.0, workspace)[0] == fast_render._CORNER_OUT_OF_RANGE


def test_make_warp_rejects_oversized_resize():
    workspace = fast_render._new_workspace(1)
    status = fast_render._make_warp(0.2, 0.05, 4.0, 4.0, workspace)[0]
    assert status == fast_render._RESIZED_SIZE_OUT_OF_RANGE


@pytest.mark.parametrize(
    "status, error_type",
    [
        (fast_render._AXIS_ALIGNED, augment.UnsupportedWarpError),
        (fast_render._CORNER_OUT_OF_RANGE, augment.UnsupportedWarpError),
        (fast_render._RESIZED_SIZE_OUT_OF_RANGE, augment.UnsupportedWarpError),
        (fast_render._SINGULAR, np.linalg.LinAlgError),
    ],
)
def test_failure_status_becomes_exception(status, error_type):
    request = jobs.JobRequest("val_train_alphabets", 4, 2)
    error = fast_render._failure_error(status, request, np.array([17.0, 0.25, -0.5]))
    assert isinstance(error, error_type)
    assert "example 4017" in str(error)


# --- drawings and rendering ---------------------------------------------------------------------------

def test_stroke_bounds_match_unpacked(omniglot_sets):
    for omniglot_set in omniglot_sets.values():
        packed = omniglot_set.packed_strokes
        rows = packed.any(axis=-1)
        columns = np.unpackbits(np.bitwise_or.reduce(packed, axis=-2), axis=-1)[..., :105].astype(bool)
        expected = np.stack(
            [
                rows.argmax(axis=-1),
                104 - rows[..., ::-1].argmax(axis=-1),
                columns.argmax(axis=-1),
                104 - columns[..., ::-1].argmax(axis=-1),
            ],
            axis=-1,
        )
        assert rows.any(axis=-1).all(), f"{omniglot_set.name} has a blank drawing"
        np.testing.assert_array_equal(_all_stroke_bounds(packed), expected)


def test_render_strokes_match_augment(omniglot_sets):
    # Wider scales than the generator uses, so the column-range bounds meet extreme coefficients.
    packed = omniglot_sets[splits.BACKGROUND].packed_strokes
    random_state = np.random.RandomState(8)
    workspace = fast_render._new_workspace(1)
    checked = 0
    for _ in range(6000):
        character = random_state.randint(len(packed))
        drawer = random_state.randint(20)
        phi = math.radians(random_state.uniform(-45, 45))
        theta = math.radians(random_state.uniform(-20, 20))
        a, b = 2.0 ** random_state.uniform(-2.5, 1.2, size=2)
        status, coefficients, sizes = fast_render._make_warp(phi, theta, a, b, workspace)
        if status != fast_render._OK:
            continue
        drawing = packed[character, drawer]
        count = fast_render._render_strokes(
            drawing, fast_render._stroke_bounds(drawing), coefficients, sizes, workspace
        )
        actual = np.zeros((sizes[3], sizes[2]), np.uint8)
        codes = workspace.strokes[:count]
        actual[codes >> 7, codes & 127] = 1

        strokes = np.unpackbits(drawing, axis=-1, count=105)
        expected = augment.render_strokes(strokes, augment.make_warp(phi, theta, a, b))
        np.testing.assert_array_equal(actual, expected, err_msg=f"{(phi, theta, a, b)}")
        checked += 1
    assert checked > 5000


# --- whole jobs ---------------------------------------------------------------------------------------

def _job_index(split):
    # Job 4 contains the published example 9999 of the validation and test splits.
    return 0 if splits.split_spec(split).is_train else 4


def _assert_jobs_equal(actual, expected):
    for field in JOB_FIELDS:
        actual_field, expected_field = getattr(actual, field), getattr(expected, field)
        assert actual_field.dtype == expected_field.dtype, field
        assert actual_field.shape == expected_field.shape, field
        differs = (actual_field != expected_field).reshape(len(actual_field), -1).any(axis=1)
        assert not differs.any(), (
            f"{field} differs in {differs.sum()} examples, first at position {differs.argmax()}"
        )


SPLIT_NAMES = [spec.name for spec in splits.SPLITS]


@pytest.mark.parametrize("clutter", [4, 8])
@pytest.mark.parametrize("split", SPLIT_NAMES)
def test_job_matches_numpy(pool_strokes, split, clutter):
    request = jobs.JobRequest(split, clutter, _job_index(split))
    expected = jobs.render_job_numpy(request, pool_strokes[split])
    _assert_jobs_equal(fast_render.render_job_fast(request, pool_strokes[split]), expected)


@pytest.mark.slow
@pytest.mark.parametrize("split", ["train", "val_eval_alphabets"])
def test_job_matches_numpy_clutter_256(pool_strokes, split):
    request = jobs.JobRequest(split, 256, _job_index(split))
    expected = jobs.render_job_numpy(request, pool_strokes[split])
    _assert_jobs_equal(fast_render.render_job_fast(request, pool_strokes[split]), expected)


def test_render_job_uses_fast_engine(pool_strokes):
    request = jobs.JobRequest("test_eval_alphabets", 16, 1, count=300)
    expected = jobs.render_job_numpy(request, pool_strokes["test_eval_alphabets"])
    _assert_jobs_equal(jobs.render_job(request, pool_strokes["test_eval_alphabets"]), expected)


def test_shorter_job_is_prefix(pool_strokes):
    pool = pool_strokes["val_train_alphabets"]
    full = fast_render.render_job_fast(jobs.JobRequest("val_train_alphabets", 8, 3), pool)
    part = fast_render.render_job_fast(jobs.JobRequest("val_train_alphabets", 8, 3, count=250), pool)
    for field in JOB_FIELDS:
        np.testing.assert_array_equal(getattr(part, field), getattr(full, field)[:250], err_msg=field)


# --- input checks -------------------------------------------------------------------------------------

def test_rejects_wrong_pool_shape():
    pool = np.zeros((10, 20, 105, 105), np.uint8)
    with pytest.raises(ValueError, match="pool_strokes has shape"):
        fast_render.render_job_fast(jobs.JobRequest("train", 4, 0, count=1), pool)


def test_rejects_empty_pool():
    pool = np.zeros((0, 20, 105, 14), np.uint8)
    with pytest.raises(ValueError, match="at least one character"):
        fast_render.render_job_fast(jobs.JobRequest("train", 4, 0, count=1), pool)


def test_rejects_negative_count():
    pool = np.zeros((3, 20, 105, 14), np.uint8)
    with pytest.raises(ValueError, match="count must be"):
        fast_render.render_job_fast(jobs.JobRequest("train", 4, 0, count=-1), pool)


def test_rejects_invalid_clutter():
    pool = np.zeros((3, 20, 105, 14), np.uint8)
    with pytest.raises(ValueError, match="clutter"):
        fast_render.render_job_fast(jobs.JobRequest("train", 0, 0, count=1), pool)
