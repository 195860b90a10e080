"""The stored covariance history reads as the dense array it replaces, value for value."""

import numpy as np
import pytest

from shieldlab.tracking.records import CovarianceHistory, compact_history


@pytest.fixture(scope="module")
def dense():
    rng = np.random.default_rng(0)
    Pt = rng.normal(size=(7, 3, 4, 6, 6))  # time first, as a tracker fills it
    Pt[rng.random((7, 3, 4)) < 0.5] = np.nan
    Pt[0, 0, 0, 1, 1] = np.nan  # a matrix with one nan is kept, nan and all
    return Pt


def test_every_read_equals_the_dense_arrays(dense):
    h = compact_history(dense)
    D = np.moveaxis(dense, 0, -3)
    assert h.shape == D.shape and h.ndim == 5 and len(h) == 3
    assert h.data.shape[0] == int((~np.isnan(dense).all(axis=(-2, -1))).sum()) < 7 * 3 * 4
    np.testing.assert_array_equal(np.asarray(h), D)
    cs, ns = np.array([0, 2, 1]), np.array([3, 0, 1])
    held = ~np.isnan(D).all(axis=(-2, -1))
    for key in [(cs, ns, 2), (slice(None), slice(None), 3), (1, 2, 4), (0, 0, 0), (cs, ns), (0,), (held,),
                (slice(None), 1, slice(2, 5)), (cs, ns, 2, slice(0, 3), slice(0, 3)), (Ellipsis, 0, 0),
                (1, 2, 4, 0, 0), (D[..., 0, 0] > 0,), (slice(None), slice(None), -1)]:
        np.testing.assert_array_equal(h[key], D[key])
    np.testing.assert_array_equal(2.0 * h, 2.0 * D)
    np.testing.assert_array_equal(np.where(held[..., None, None], h, 0.0), np.where(held[..., None, None], D, 0.0))


def test_a_read_never_writes_the_store(dense):
    h = compact_history(dense)
    before = h.data.copy()
    for key in [(0, 0, 1), (0, 0, 0), (np.array([0, 0]), np.array([0, 1]), 1)]:
        out = h[key]
        out[...] = 7.0  # the caller's copy, not the store
    np.testing.assert_array_equal(h.data, before)


def test_wrapping_a_dense_array_and_building_from_steps():
    rng = np.random.default_rng(1)
    D = rng.normal(size=(2, 3, 5, 6, 6))
    w = CovarianceHistory.of(D)
    assert CovarianceHistory.of(w) is w
    np.testing.assert_array_equal(w[np.array([1, 0]), np.array([2, 1]), 4], D[[1, 0], [2, 1], 4])
    with pytest.raises(ValueError, match="6, 6"):
        CovarianceHistory.of(np.zeros((3, 5, 5)))
    steps = [(np.array([0, 0]), (np.array([0, 1]), np.array([2, 0])), D[[0, 1], [2, 0], 0]),
             (np.array([3]), (np.array([1]), np.array([1])), D[[1], [1], 3])]
    h = CovarianceHistory.from_steps((2, 3, 5), steps)
    assert steps == [None, None]  # emptied as copied
    np.testing.assert_array_equal(h[0, 2, 0], D[0, 2, 0])
    np.testing.assert_array_equal(h[1, 1, 3], D[1, 1, 3])
    assert np.isnan(h[1, 1, 2]).all() and h.data.shape == (3, 6, 6)
    empty = CovarianceHistory.from_steps((2, 0), [])
    assert empty.shape == (2, 0, 6, 6) and np.asarray(empty).shape == (2, 0, 6, 6)
