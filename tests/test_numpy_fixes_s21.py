"""functrans.numpy against NumPy 2.4, exactly: the integer reciprocal (integer results, not
floats), clip broadcasting ``x`` against its bounds, permute_dims reversing the axes without
``axes``, and i0 (1.0 at 0, a few ulps elsewhere; its second derivative at 0)."""

import math

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp

INT_DTYPES = ["int8", "int16", "int32", "int64", "uint8"]


def _ints(dtype):
    vals = [0, 1, 2, 3, 7, 100] + ([-1, -2, -100] if dtype[0] == "i" else [255 % 256])
    return np.array(vals, dtype=dtype)


def _np_reciprocal(v):
    with np.errstate(all="ignore"):
        return np.reciprocal(v)


@pytest.mark.parametrize("how", ["plain", "jit", "vmap"])
@pytest.mark.parametrize("dtype", INT_DTYPES)
def test_integer_reciprocal_is_numpys(backend, dtype, how):
    v = _ints(dtype)
    expected = _np_reciprocal(v)
    x = backend.asarray(v, dtype=dtype)
    if how == "jit":
        out = ft.jit(fnp.reciprocal)(x)
    elif how == "vmap":
        out = ft.vmap(fnp.reciprocal)(backend.asarray(np.stack([v, v[::-1]]), dtype=dtype))[0, ...]
    else:
        out = fnp.reciprocal(x)
    got = backend.to_numpy(out)
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)


def test_reciprocal_of_python_numbers_and_floats():
    for v in [2, -1, 1, 0, True, 2.0, 0.5]:
        got, expected = np.asarray(fnp.reciprocal(v)), _np_reciprocal(v)
        assert got.dtype == expected.dtype and got.item() == expected.item(), v
    x = np.array([0.5, -4.0, 3.0])
    np.testing.assert_array_equal(fnp.reciprocal(x), 1.0 / x)


def test_integer_reciprocal_has_no_derivative():
    x = np.array([1, 2, -1])
    _, t = ft.jvp(fnp.reciprocal, (x,), (np.zeros(3, ft.float0),))
    assert not np.any(np.asarray(t, dtype=float))
    # a float function of the integer result: its gradient with respect to a float is 0
    g = ft.grad(lambda s: fnp.sum(s * fnp.reciprocal(x)))(1.5)
    assert g == float(np.sum(_np_reciprocal(x)))


CLIP_CASES = [
    (2.0, [0.0, 3.0], [1.0, 4.0]),
    (2, [0.0, 3.0], None),
    (2.5, None, [[1.0], [3.0]]),
    (True, [0, 3], None),
    (3, [1, 2], [[2], [5]]),
    (np.array(2.0), [0.0, 3.0], [1.0, 4.0]),
    (np.array([1.0, 5.0]), [[0.0], [2.0]], 4.0),
]


@pytest.mark.parametrize("how", ["plain", "jit"])
@pytest.mark.parametrize("x,lo,hi", CLIP_CASES, ids=range(len(CLIP_CASES)))
def test_clip_broadcasts_x_with_the_bounds(backend, x, lo, hi, how):
    expected = np.clip(x, None if lo is None else np.array(lo),
                       None if hi is None else np.array(hi))
    if isinstance(x, np.ndarray):
        x = backend.asarray(x)
    lo = None if lo is None else backend.asarray(np.array(lo), dtype=str(np.array(lo).dtype))
    hi = None if hi is None else backend.asarray(np.array(hi), dtype=str(np.array(hi).dtype))
    f = ft.jit(fnp.clip) if how == "jit" else fnp.clip
    got = backend.to_numpy(f(x, lo, hi))
    assert got.shape == expected.shape and got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)


def test_clip_scalar_x_derivative_flows_to_the_chosen_bound():
    lo = np.array([1.0, 3.0, 2.0])
    g = ft.grad(lambda b: fnp.sum(fnp.clip(2.0, b, None) ** 2))(lo)
    np.testing.assert_array_equal(g, [0.0, 6.0, 0.0])  # at the tie 2 == 2, x is chosen
    out = ft.vmap(lambda b: fnp.clip(2.0, b, 2.5))(np.array([[1.0, 3.0], [2.2, 0.0]]))
    np.testing.assert_array_equal(out, [[2.0, 2.5], [2.2, 2.0]])


def test_permute_dims_reverses_without_axes(backend):
    v = np.arange(24.0).reshape(2, 3, 4)
    x = backend.asarray(v)
    for out in (fnp.permute_dims(x), ft.jit(fnp.permute_dims)(x)):
        np.testing.assert_array_equal(backend.to_numpy(out), np.permute_dims(v))
    assert ft.vmap(fnp.permute_dims)(x).shape == (2, 4, 3)
    assert fnp.permute_dims(backend.asarray(1.0)).shape == ()
    np.testing.assert_array_equal(backend.to_numpy(fnp.permute_dims(x, axes=(1, 0, 2))),
                                  np.permute_dims(v, axes=(1, 0, 2)))


def _i0_exact(v):
    mp = pytest.importorskip("mpmath")
    mp.mp.dps = 40
    return float(mp.besseli(0, mp.mpf(float(v))))


def test_i0_is_one_at_zero(backend):
    for v in (0, 0.0, -0.0):
        assert float(fnp.i0(v)) == 1.0
    x = backend.asarray([0.0, -0.0])
    np.testing.assert_array_equal(backend.to_numpy(fnp.i0(x)), [1.0, 1.0])
    assert float(ft.jit(fnp.i0)(0.0)) == 1.0


def test_i0_within_a_few_ulps():
    x = np.concatenate([np.linspace(0.0, 10.0, 1501), np.linspace(10.0, 700.0, 139)])
    x = np.concatenate([x, -x])
    truth = np.array([_i0_exact(v) for v in x])
    ulps = np.abs(np.asarray(fnp.i0(x)) - truth) / np.spacing(truth)
    assert ulps.max() <= 3, (ulps.max(), x[ulps.argmax()])
    small = np.abs(x) <= 3  # the power series
    assert ulps[small].max() <= 2


def test_i0_derivatives_at_and_near_zero():
    scipy_special = pytest.importorskip("scipy.special")
    d2 = ft.grad(ft.grad(fnp.i0))
    d3 = ft.grad(d2)
    for v in (0.0, 1e-8, 0.3, -2.0, 5.0, 9.0, -20.0):
        assert math.isclose(ft.grad(fnp.i0)(v), scipy_special.i1(v), rel_tol=1e-14,
                            abs_tol=1e-300)
        assert math.isclose(d2(v), scipy_special.ivp(0, v, 2), rel_tol=1e-13)
        assert math.isclose(d3(v), scipy_special.ivp(0, v, 3), rel_tol=1e-12, abs_tol=1e-15)
    assert d2(0.0) == 0.5  # I0''(0); the derivative of |x| (0 at 0) gave 0


# -- functrans.scipy.special takes SciPy's array-likes ------------------------------------------

SPECIAL_LISTS = [
    ("expit", ([0.5, -1.0],)),
    ("gammaln", ([0.5, 3.0],)),
    ("erf", ([0.5, -1.0],)),
    ("i0", ([0.0, 2.0],)),
    ("xlogy", ([1.0, 2.0], [0.5, 3.0])),
    ("betaln", ([1.5, 2.0], [0.5, 3.0])),
    ("logsumexp", ([1.0, 2.0, 3.0],)),
    ("softmax", ([1.0, 2.0, 3.0],)),
    ("yn", ([1, 2], [0.5, 3.0])),
]


@pytest.mark.parametrize("name,args", SPECIAL_LISTS, ids=[c[0] for c in SPECIAL_LISTS])
def test_scipy_special_takes_lists(backend, name, args):
    # (they raised AttributeError: 'list' object has no attribute 'dtype')
    import scipy.special as sp
    f = getattr(ft.scipy.special, name)
    expected = getattr(sp, name)(*args)
    np.testing.assert_allclose(np.asarray(f(*args)), expected, rtol=1e-13)
    # a list beside an array of the backend: computed in that library
    *rest, last = args
    out = f(*rest, backend.asarray(last))
    assert backend.is_own(out)
    np.testing.assert_allclose(backend.to_numpy(out), expected, rtol=1e-13)


def test_scipy_special_list_weights_under_grad_and_jit(backend):
    import scipy.special as sp
    x = backend.asarray([1.0, 2.0, 3.0, 4.0])
    b = [1.0, 1.0, 1.0, 0.5]
    lse = ft.scipy.special.logsumexp
    np.testing.assert_allclose(backend.to_numpy(lse(x, b=b)),
                               sp.logsumexp([1.0, 2.0, 3.0, 4.0], b=b), rtol=1e-14)
    g = ft.grad(lambda v: lse(v, b=b))(x)
    e = np.exp([1.0, 2.0, 3.0, 4.0]) * b
    np.testing.assert_allclose(backend.to_numpy(g), e / e.sum(), rtol=1e-13)
    np.testing.assert_allclose(backend.to_numpy(ft.jit(lambda v: lse(v, b=b))(x)),
                               sp.logsumexp([1.0, 2.0, 3.0, 4.0], b=b), rtol=1e-14)
    w = ft.scipy.special.wofz([0.5, 1.0])
    np.testing.assert_allclose(np.asarray(w), sp.wofz([0.5, 1.0]), rtol=1e-13)
