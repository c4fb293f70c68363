"""Session 31 (numpy31): functrans.numpy against NumPy 2 and jax.numpy.

- linspace/logspace with a float32 endpoint beside a Python float gave float64 (NumPy and
  jax.numpy: float32): the Python number was made a strong float64 array before the dtype
  was chosen. geomspace now follows the same rule (float32 stays float32, as jax.numpy;
  NumPy's geomspace alone widens to float64: pinned).
- asarray of Python ints past int64's range: NumPy's uint64 / float64 (was OverflowError
  "Python int too large to convert to C long"); past uint64 a clear OverflowError.
- tri with a negative size: empty, as NumPy (was ValueError).
- gcd/lcm of two booleans: TypeError as NumPy and jax.numpy (was int8 results).
"""
import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp


@pytest.mark.parametrize("fn", ["linspace", "logspace"])
@pytest.mark.parametrize("start, stop", [(np.float32(1), 8.0), (np.float32(1), 8),
                                         (np.array([1.0, 2.0], np.float32), 8.0),
                                         (1.0, np.float32(8)), (np.float16(1), 3.0),
                                         (np.int32(1), 8.0), (1, 8), (1.0, 8j)])
def test_space_functions_keep_numpys_dtype_beside_python_numbers(fn, start, stop):
    want = getattr(np, fn)(start, stop, 5)
    got = getattr(fnp, fn)(start, stop, 5)
    assert np.asarray(got).dtype == want.dtype
    np.testing.assert_allclose(np.asarray(got), want, rtol=2e-3 if want.dtype == np.float16
                               else 1e-6)


def test_geomspace_keeps_float32_as_jax_numpy():
    # Deliberate difference: NumPy's geomspace gives float64 for any real input (it mixes in
    # a float64 zero), unlike its own linspace/logspace; jax.numpy keeps float32, and so do we
    # (whether the stop is a Python int or float: they are weak).
    for stop in (8, 8.0, np.float32(8)):
        got = fnp.geomspace(np.float32(1), stop, 4)
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, [1, 2, 4, 8], rtol=1e-6)
    assert fnp.geomspace(1, 8, 4).dtype == np.float64
    np.testing.assert_allclose(fnp.geomspace(-1.0, -8, 4), np.geomspace(-1.0, -8, 4),
                               rtol=1e-15)


@pytest.mark.parametrize("obj", [[1, 2**63], [2**63], 2**63, [-1, 2**63], [[1], [2**63]],
                                 [2**63, 2**64 - 1], [True, 2**63], [1.5, 2**63],
                                 [-2**63, 2**63 - 1]])
def test_asarray_of_python_ints_past_int64_as_numpy(obj):
    want = np.asarray(obj)
    for make in (fnp.asarray, fnp.array, lambda o: fnp.full((2,), o)[0] if type(o) is int
                 else fnp.asarray(o)):
        got = make(obj)
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_array_equal(np.asarray(got), want)


@pytest.mark.parametrize("obj", [[2**64], [1, -2**63 - 1], 2**70])
def test_asarray_of_python_ints_no_dtype_holds_is_a_clear_error(obj):
    # (NumPy makes an object array, which no backend has)
    with pytest.raises(OverflowError, match="pass it as a float"):
        fnp.asarray(obj)
    np.testing.assert_array_equal(fnp.asarray(obj, dtype=float), np.asarray(obj, dtype=float))


@pytest.mark.parametrize("args", [(-1,), (2, -3), (-2, 3), (0,), (-1, 2, 1), (3, 2, -5)])
def test_tri_with_negative_sizes_is_empty_as_numpy(args):
    want = np.tri(*args)
    got = fnp.tri(*args)
    assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("name", ["gcd", "lcm"])
def test_gcd_lcm_of_two_booleans_is_refused_as_numpy(name):
    b = np.array([True, False])
    with pytest.raises(TypeError):
        getattr(np, name)(b, b)
    with pytest.raises(TypeError, match=f"{name}: the operands are both booleans"):
        getattr(fnp, name)(b, b)
    with pytest.raises(TypeError, match="both booleans"):
        ft.jit(getattr(fnp, name))(b, True)
    # one boolean beside integers promotes, as NumPy's
    i = np.array([4, 6])
    got = getattr(fnp, name)(b, i)
    want = getattr(np, name)(b, i)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


# -- indexing ------------------------------------------------------------------------------

_X = np.arange(24.0).reshape(2, 3, 4)


@pytest.mark.parametrize("key", [[], (slice(None), []), ([], []), ([[]],), (0, []),
                                 (Ellipsis, [])])
def test_an_empty_list_indexes_as_integer_positions(key):
    # was IndexError "arrays used as indices must be of integer ... got float64"; NumPy (and
    # jax.numpy for x[:, []]) take [] as no positions
    want = _X[key]
    for got in (ft.jit(lambda v: v[key])(_X), ft.jvp(lambda v: v[key], (_X,), (_X,))[1],
                fnp.asarray(_X).at[key].get()):
        assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_array_equal(fnp.asarray(_X).at[key].set(1.0), _X)
    np.testing.assert_array_equal(ft.jit(lambda v: v.at[key].add(1.0))(_X), _X)
    g = ft.grad(lambda v: fnp.sum(v[key]) + fnp.sum(v))(_X)
    np.testing.assert_array_equal(g, np.ones_like(_X))


def test_take_with_an_empty_list():
    for kw in ({}, {"axis": 1}):
        want = np.take(_X, [], **kw)
        got = fnp.take(_X, [], **kw)
        assert got.shape == want.shape and got.dtype == want.dtype


def test_index_arrays_selecting_nothing_are_not_bounds_checked_as_numpy():
    y = np.zeros((0, 3))
    key = ([0], np.zeros((2, 0), int))  # broadcast to (2, 0): no element is read
    assert y[key].shape == (2, 0)
    assert ft.jvp(lambda v: v[key], (y,), (y,))[0].shape == (2, 0)
    x = np.zeros((2, 3))
    assert ft.jvp(lambda v: v[np.array([9]), np.zeros(0, int)], (x,), (x,))[0].shape == (0,)
    with pytest.raises(IndexError, match="index 5 is out of bounds for axis 1"):
        ft.jvp(lambda v: v[np.zeros(0, int), 5], (x,), (x,))  # (an integer: always, as NumPy)
    with pytest.raises(IndexError, match="index 9 is out of bounds for axis 0"):
        ft.jvp(lambda v: v[np.array([0, 9]), np.array([1, 1])], (x,), (x,))


def test_index_arrays_that_do_not_broadcast_are_numpys_index_error():
    with pytest.raises(IndexError):
        _X[[0, 1], [0, 1, 2]]
    with pytest.raises(IndexError, match=r"shape mismatch: indexing arrays could not be "
                                         r"broadcast together with shapes \(2,\) \(3,\)"):
        ft.jvp(lambda v: v[[0, 1], [0, 1, 2]], (_X,), (_X,))
    with pytest.raises(IndexError, match="shape mismatch"):
        fnp.asarray(_X).at[[0, 1], [0, 1, 2]].set(0.0)


def test_fftn_s_entry_none_keeps_the_axis_length_as_numpy():
    x = np.random.default_rng(0).standard_normal((3, 4, 5))
    with np.testing.suppress_warnings() as sup:
        sup.filter(DeprecationWarning)
        want = np.fft.fftn(x, s=(3, None))
        want2 = np.fft.irfftn(x, s=(None, 6), axes=(0, 2))
    np.testing.assert_allclose(fnp.fft.fftn(x, s=(3, None)), want, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(fnp.fft.irfftn(x, s=(None, 6), axes=(0, 2)), want2,
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("idx", [np.array([[1.7]]), np.array([[True]])])
def test_take_along_axis_refuses_non_integer_indices_as_numpy(idx):
    # was: 1.7 silently took position 1 (NumPy IndexError, jax.numpy TypeError)
    x = np.arange(12.0).reshape(3, 4)
    with pytest.raises(IndexError):
        np.take_along_axis(x, idx, axis=1)
    with pytest.raises(IndexError, match="take_along_axis: indices must be an integer array"):
        fnp.take_along_axis(x, idx, axis=1)
    with pytest.raises(IndexError, match="must be an integer array"):
        ft.jit(lambda v: fnp.take_along_axis(v, idx, axis=1))(x)
    np.testing.assert_array_equal(fnp.take_along_axis(x, np.array([[1]], np.uint8), axis=1),
                                  np.take_along_axis(x, np.array([[1]], np.uint8), axis=1))


# -- deliberate differences from NumPy (pinned) ----------------------------------------------

def test_quantiles_of_booleans_are_computed_as_jax_numpy():
    # NumPy raises (boolean subtract inside its interpolation); jax.numpy gives the value of
    # the 0/1 data, as its median (and NumPy's median) does: we follow jax.numpy
    b = np.array([True, False, True])
    with pytest.raises(TypeError):
        np.percentile(b, 50)
    for got in (fnp.percentile(b, 50), fnp.quantile(b, 0.5), fnp.nanpercentile(b, 50),
                fnp.median(b)):
        assert float(got) == 1.0
    np.testing.assert_allclose(fnp.quantile(b, [0.0, 0.25, 1.0]), [0.0, 0.5, 1.0])


def test_histogramdd_with_complex_weights_sums_them_as_jax_numpy():
    # NumPy raises (it casts the weights to float64 'safe'ly); jax.numpy sums them, so do we
    s = np.array([[1.0, 2.0], [3.0, 4.0]])
    w = np.array([1 + 1j, 2.0])
    with pytest.raises(TypeError):
        np.histogramdd(s, bins=2, weights=w)
    h, _ = fnp.histogramdd(s, bins=2, weights=w)
    want_re, _ = np.histogramdd(s, bins=2, weights=w.real)
    want_im, _ = np.histogramdd(s, bins=2, weights=w.imag)
    np.testing.assert_array_equal(h, want_re + 1j * want_im)


# -- linalg: one rtol per matrix -------------------------------------------------------------

def test_matrix_rank_with_an_rtol_per_matrix():
    # was [2, 2, 2, 2]: the (4,) rtol broadcast against the singular values' axis
    a = np.array([np.diag([1.0, 0.1, 0.01, 0.001])] * 4)
    rt = np.array([1e-4, 0.05, 0.5, 2.0])
    want = np.linalg.matrix_rank(a, rtol=rt)
    np.testing.assert_array_equal(want, [4, 2, 1, 0])
    np.testing.assert_array_equal(fnp.linalg.matrix_rank(a, rtol=rt), want)
    np.testing.assert_array_equal(ft.jit(lambda v: fnp.linalg.matrix_rank(v, rtol=rt))(a), want)
    np.testing.assert_array_equal(fnp.linalg.matrix_rank(a, rtol=np.float64(0.05)),
                                  np.linalg.matrix_rank(a, rtol=0.05))


def test_pinv_with_an_rtol_per_matrix():
    # was TypeError ("only 0-dimensional arrays can be converted to Python scalars")
    rng = np.random.default_rng(0)
    b = rng.standard_normal((4, 3, 5)) + 1j * rng.standard_normal((4, 3, 5))
    b[:, 2] = 2 * b[:, 0]
    b[1, 1] *= 1e-3
    rt = np.array([1e-4, 1e-2, 0.5, 2.0])
    want = np.linalg.pinv(b, rtol=rt)
    np.testing.assert_allclose(fnp.linalg.pinv(b, rtol=rt), want, atol=1e-12)
    np.testing.assert_allclose(fnp.linalg.pinv(b, rcond=rt), want, atol=1e-12)
    np.testing.assert_allclose(ft.jit(lambda v: fnp.linalg.pinv(v, rtol=rt))(b), want, atol=1e-12)
    # the derivative is the scalar rtol's where the rank is the same
    c = rng.standard_normal((4, 3, 3))
    t = rng.standard_normal((4, 3, 3))
    _, d1 = ft.jvp(lambda v: fnp.linalg.pinv(v, rtol=np.full(4, 1e-10)), (c,), (t,))
    _, d2 = ft.jvp(lambda v: fnp.linalg.pinv(v, rtol=1e-10), (c,), (t,))
    np.testing.assert_allclose(d1, d2, rtol=1e-9, atol=1e-9)
