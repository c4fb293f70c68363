"""Adversarial review (session 10b) of functrans.numpy's selection/in-place functions,
histograms, statistics and polynomials: regression tests for the bugs found, and guards on
behaviour checked against NumPy (and JAX for derivatives)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.errors import BackendMismatchError
from functrans.testing import check_grads


def _after(fn, a, *args, **kw):
    """``a`` after NumPy's (or functrans's) in-place ``fn(a, *args)``, on a copy."""
    a = a.copy()
    fn(a, *args, **kw)
    return a


def _same(got, want):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape and got.dtype == want.dtype, (got, want)
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=0, equal_nan=True)

# -- put_along_axis: indices outside the axis ----------------------------------------------------


@pytest.mark.parametrize("idx", [[[3], [0]], [[-4], [0]], [[0], [7]]])
def test_put_along_axis_out_of_range_is_an_index_error(idx):
    # was: written silently to another row (flat position r * ncols + c)
    a = np.zeros((2, 3))
    with pytest.raises(IndexError):
        np.put_along_axis(a.copy(), np.array(idx), 1.0, axis=1)
    with pytest.raises(IndexError, match="out of bounds"):
        fnp.put_along_axis(a, np.array(idx), 1.0, axis=1)
    assert not a.any()
    with pytest.raises(IndexError, match="out of bounds"):
        fnp.put_along_axis(a, np.array(idx), 1.0, axis=1, inplace=False)
    with pytest.raises(IndexError, match="out of bounds"):
        ft.grad(lambda x: fnp.sum(fnp.put_along_axis(x, np.array(idx), 1.0, 1,
                                                     inplace=False)))(a)


@pytest.mark.parametrize("idx", [[[-1], [0]], [[2], [-3]], [[-3, -1], [1, -2]]])
def test_put_along_axis_negative_indices_as_numpy(idx):
    a = np.arange(6.0).reshape(2, 3)
    v = np.array([[10.0], [20.0]])
    want = _after(np.put_along_axis, a, np.array(idx), v, 1)
    _same(_after(fnp.put_along_axis, a, np.array(idx), v, 1), want)

    def f(x):
        y = x + 0.0
        fnp.put_along_axis(y, np.array(idx), x[:, :1] * 0.0 + v, axis=1)
        return y
    _same(ft.jit(f)(a), want)
    _same(ft.vmap(f)(np.stack([a, a]))[1], want)

# -- Python integers outside the array's dtype, and NumPy's 'safe' rule for putmask/place ------


_OVERFLOW_CASES = [
    ("put", lambda a: fnp.put(a, [0], 300)),
    ("put list", lambda a: fnp.put(a, [0, 1], [1, 300])),
    ("place", lambda a: fnp.place(a, [True, False, True], [300])),
    ("putmask", lambda a: fnp.putmask(a, np.array([True, False, True]), 300)),
    ("fill_diagonal", lambda a: fnp.fill_diagonal(a.reshape(1, 3), 300)),
    ("put_along_axis", lambda a: fnp.put_along_axis(a, np.array([1]), 300, axis=0)),
    ("copyto where", lambda a: fnp.copyto(a, 300, where=np.array([True, False, True]))),
]


@pytest.mark.parametrize("name,fn", _OVERFLOW_CASES, ids=[c[0] for c in _OVERFLOW_CASES])
def test_python_int_out_of_range_overflows_as_numpy(name, fn):
    # was: wrapped around silently (300 -> 44 in int8)
    a = np.zeros(3, np.int8)
    with pytest.raises(OverflowError, match="300"):
        fn(a)
    assert not a.any()
    b = np.zeros(3, np.uint8)
    fnp.put(b, [0], 255)  # (in range: fine)
    assert b[0] == 255
    with pytest.raises(OverflowError):
        fnp.put(b, [0], -1)


@pytest.mark.parametrize("name", ["putmask", "place"])
@pytest.mark.parametrize("dst,src", [("int8", "float64"), ("int8", "int16"),
                                     ("float32", "float64"), ("float64", "complex128")])
def test_putmask_place_array_values_cast_safely_as_numpy(name, dst, src):
    # was: cast unsafely (1.7 -> 1 in an int array)
    a = np.zeros(3, dst)
    mask = np.array([True, False, True])
    vals = np.array([1.7, 2.0]).astype(src)
    with pytest.raises(TypeError):
        getattr(np, name)(a.copy(), mask, vals)
    with pytest.raises(TypeError, match="safe"):
        getattr(fnp, name)(a, mask, vals)
    # Python and NumPy scalars and lists are converted to the array's dtype, as in NumPy
    for v in ([1.7, 2.0], np.float64(1.5)):
        _same(_after(getattr(fnp, name), a, mask, v), _after(getattr(np, name), a, mask, v))

# -- copyto into another library's array ----------------------------------------------------------


def test_copyto_refuses_arrays_of_two_libraries():
    torch = pytest.importorskip("torch")
    a = np.zeros(3)
    with pytest.raises(BackendMismatchError):  # was: copied silently through __array__
        fnp.copyto(a, torch.ones(3, dtype=torch.float64))
    assert not a.any()
    t = torch.zeros(3, dtype=torch.float64)
    with pytest.raises(BackendMismatchError):  # was: torch's TypeError
        fnp.copyto(t, np.ones(3))
    fnp.copyto(t, torch.ones(3, dtype=torch.float32))
    fnp.copyto(t, [1.0, 2.0, 3.0], where=torch.tensor([True, False, True]))
    assert t.tolist() == [1.0, 1.0, 3.0]

# -- histograms ---------------------------------------------------------------------------------

_ESTIMATORS = ["auto", "fd", "doane", "scott", "stone", "rice", "sturges", "sqrt"]
_EST_DATA = {
    # small integer dtypes: the range must not wrap around in the dtype (was 200 -> -56)
    "int8": np.array([-100, 100, 3, 4, 5], np.int8),
    "int16": np.array([-30000, 30000, 1, 2, 7], np.int16),
    "uint8": np.array([0, 250, 3, 4, 5], np.uint8),
    # booleans: NumPy makes them uint8 (was a TypeError from a boolean subtraction)
    "bool": np.array([True, False, True, True]),
    # a tiny interquartile range: NumPy >= 2.3 bounds 'auto' (numpy/numpy#28426)
    "narrow_iqr": np.array([0, 1, 1, 1, 1, 1, np.e, np.e, np.e, np.e, np.e, np.e, 2]),
    "spike": np.r_[np.zeros(90), np.arange(10.0)],
}


@pytest.mark.parametrize("method", _ESTIMATORS)
@pytest.mark.parametrize("data", list(_EST_DATA))
def test_bin_estimators_match_numpy(data, method):
    a = _EST_DATA[data]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = np.histogram(a, bins=method)
        got = fnp.histogram(a, bins=method)
    _same(got[1], want[1])
    _same(got[0], want[0])


def test_one_edge_linspace_is_the_first_edge():
    # an estimator giving zero bins (an infinite std): NumPy's linspace(num=1) is [first]
    a = np.array([1e300, 1e308])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _same(fnp.histogram_bin_edges(a, bins="scott"), np.histogram_bin_edges(a, bins="scott"))


@pytest.mark.parametrize("kw", [dict(bins=[1.0]), dict(bins=[1.0], density=True),
                                dict(bins=[]), dict(bins=[2.0], weights=np.ones(3, "float32")),
                                dict(bins=np.array([], "float32"), density=True)])
def test_histogram_with_fewer_than_two_edges_has_no_bins(kw):
    # was: IndexError / ValueError (cannot reshape array of size 0)
    x = np.array([1.0, 2.0, 3.0])
    want = np.histogram(x, **kw)
    got = fnp.histogram(x, **kw)
    _same(got[0], want[0])
    _same(got[1], want[1])

# -- guards: behaviour checked fine in the review -----------------------------------------------


def test_inplace_derivatives_second_order():
    rng = np.random.default_rng(0)

    def put(x):
        y = x + 0.0
        fnp.put(y, [0, 2], x[::-1][:2] ** 2)
        return fnp.sum(y ** 3)

    def place(x):
        y = x + 0.0
        fnp.place(y, y > 0.5, fnp.cos(x[:2]))
        return fnp.sum(y ** 3)

    def putmask(x):
        y = x + 0.0
        fnp.putmask(y, y > 0.5, fnp.cos(x[:2]))
        return fnp.sum(y ** 3)

    def copyto(x):
        y = x + 0.0
        fnp.copyto(y, fnp.cos(x[::-1]), where=np.array([True, False, True, False]))
        return fnp.sum(y ** 3)

    def fill_diagonal(x):
        y = fnp.reshape(x, (2, 2)) + 0.0
        fnp.fill_diagonal(y, x[1] ** 2)
        return fnp.sum(fnp.sin(y))

    x = rng.random(4)
    for f in (put, place, putmask, copyto, fill_diagonal):
        check_grads(f, (x,), order=2)
        np.testing.assert_allclose(ft.jit(f)(x), f(x), rtol=1e-14)
        xs = np.stack([x, x[::-1]])
        np.testing.assert_allclose(ft.vmap(f)(xs), [f(xs[0]), f(xs[1])], rtol=1e-14)


def test_inplace_aliasing_as_numpy():
    a = np.arange(9.0).reshape(3, 3)
    _same(_after(lambda b: fnp.fill_diagonal(b[1:], -1.0), a),
          _after(lambda b: np.fill_diagonal(b[1:], -1.0), a))
    for fn, args in [("copyto", ()), ("put", ([0, 1, 2, 3],))]:
        b, c = np.arange(4.0), np.arange(4.0)
        getattr(fnp, fn)(b, *args, b[::-1]) if args else fnp.copyto(b, b[::-1])
        getattr(np, fn)(c, *args, c[::-1]) if args else np.copyto(c, c[::-1])
        _same(b, c)


def test_cov_corrcoef_parameter_grid_matches_numpy():
    rng = np.random.default_rng(1)
    m = rng.normal(size=(3, 5))
    y = rng.normal(size=(5, 2))
    for rowvar in (True, False):
        for bias in (False, True):
            for ddof in (None, 0, 2):
                for fw in (None, np.array([1, 2, 1, 3, 1])):
                    for aw in (None, rng.random(5)):
                        mm, yy = (m, y.T) if rowvar else (m.T, y)
                        kw = dict(rowvar=rowvar, bias=bias, ddof=ddof)
                        want = np.cov(mm, yy, fweights=None if fw is None else fw.copy(),
                                      aweights=None if aw is None else aw.copy(), **kw)
                        got = fnp.cov(mm, yy, fweights=fw, aweights=aw, **kw)
                        np.testing.assert_allclose(got, want, rtol=1e-12)
        np.testing.assert_allclose(fnp.corrcoef(m if rowvar else m.T, rowvar=rowvar),
                                   np.corrcoef(m), rtol=1e-12)


def test_cov_corrcoef_derivatives_match_jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy
    rng = np.random.default_rng(2)
    m, aw, fw = rng.normal(size=(3, 6)), rng.random(6), np.array([1, 2, 1, 3, 1, 1])
    g1 = ft.grad(lambda m, aw: fnp.sum(fnp.cov(m, aweights=aw, fweights=fw) ** 2),
                 argnums=(0, 1))(m, aw)
    g2 = jax.grad(lambda m, aw: jnp.sum(jnp.cov(m, aweights=aw, fweights=fw) ** 2),
                  argnums=(0, 1))(m, aw)
    for a, b in zip(g1, g2):
        np.testing.assert_allclose(a, np.asarray(b), rtol=1e-10, atol=1e-12)
    g1 = ft.grad(lambda m: fnp.sum(fnp.corrcoef(m) ** 3))(m)
    g2 = jax.grad(lambda m: jnp.sum(jnp.corrcoef(m) ** 3))(m)
    np.testing.assert_allclose(g1, np.asarray(g2), rtol=1e-10, atol=1e-12)
    check_grads(lambda m, aw: fnp.sum(fnp.cov(m, aweights=aw, ddof=2) ** 2), (m, aw), order=2)


_SET_CASES = [np.array([1.0, np.nan, 2.0, np.nan, np.inf, -np.inf]),
              np.array([np.nan, 2.0, np.inf]), np.array([1 + 1j, 2, 1 - 1j]),
              np.array([True, False]), np.array(2.0),
              np.array([0.0, -0.0]), np.array([], np.int32), np.array([-1, 255], np.int16)]


@pytest.mark.parametrize("name", ["intersect1d", "union1d", "setdiff1d", "setxor1d", "isin"])
def test_set_functions_edge_values_match_numpy(name):
    for a in _SET_CASES:
        for b in _SET_CASES:
            want, got = getattr(np, name)(a, b), getattr(fnp, name)(a, b)
            _same(got, want)
    want = np.intersect1d(_SET_CASES[0], _SET_CASES[1], return_indices=True)
    for g, w in zip(fnp.intersect1d(_SET_CASES[0], _SET_CASES[1], return_indices=True), want):
        _same(g, w)


def test_roots_derivative_matches_finite_differences():
    p = np.array([1.0, -6.0, 11.0, -6.0])  # roots 1, 2, 3
    check_grads(lambda p: fnp.sum(fnp.sort(fnp.roots(p)) * np.array([1.0, 2.0, 3.0])), (p,),
                order=2)
    pc = np.array([1.0, 0.0, 4.0])  # roots +-2i
    t = np.array([0.0, 0.0, 1.0])
    _, d = ft.jvp(fnp.roots, (pc,), (t,))
    fd = (np.roots(pc + 1e-6 * t) - np.roots(pc - 1e-6 * t)) / 2e-6
    np.testing.assert_allclose(np.asarray(d), fd, rtol=1e-6)
