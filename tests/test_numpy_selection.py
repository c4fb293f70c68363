"""NumPy's set, partition, selection and put/place names in functrans.numpy, compared with
NumPy itself on every backend: values, shapes, dtypes, the library of the results, NumPy's
in-place semantics (and JAX's ``inplace=False``), errors, derivatives through written and
untouched entries, and jit/vmap against eager evaluation and a Python loop."""

from __future__ import annotations

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.errors import ConcretizationError

RNG = np.random.default_rng(7)


def _check(backend, got, want, rtol=1e-13, atol=1e-14):
    """``got`` (functrans) equals ``want`` (NumPy) in shape, dtype, values and library; a
    tuple element by element."""
    if isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == len(want)
        for g, w in zip(got, want):
            _check(backend, g, w, rtol, atol)
        return
    assert backend.is_own(got), type(got)
    g, w = backend.to_numpy(got), np.asarray(want)
    assert g.shape == w.shape, (g.shape, w.shape)
    assert g.dtype == w.dtype, (g.dtype, w.dtype)
    np.testing.assert_allclose(g, w, rtol=rtol, atol=atol, equal_nan=True)


def _writable(backend, data, dtype="float64"):
    """An array of the backend that may be written to (the fixture's NumPy ones are
    read-only, to catch accidental writes); the tests of NumPy's in-place forms that use it
    skip on a library whose arrays cannot be written (test_namespace_grads checks the error
    there)."""
    if not backend.backend.writable:
        pytest.skip(f"{backend.name} arrays cannot be written in place (NumPy's in-place form)")
    a = backend.asarray(data, dtype=dtype)
    return a.copy() if backend.name == "numpy" else a


def _ints(lo, hi, shape):
    return RNG.integers(lo, hi, shape)


# -- sets --------------------------------------------------------------------------------------

SET_DATA = [
    (np.array([3.0, 1.0, 2.0, 3.0, np.nan, 5.0, np.nan]), np.array([2.0, np.nan, 7.0, 3.0])),
    (_ints(0, 6, (3, 4)).astype("float64"), _ints(2, 9, 5).astype("float64")),
    (_ints(-3, 3, 9), _ints(0, 4, (2, 2))),
    (np.array([1.5, 2.5], dtype="float32"), np.array([2.5, 0.5], dtype="float32")),
    (np.array([], dtype="float64"), np.array([1.0, 2.0])),
    (np.array([4.0]), np.array([4.0])),
]


@pytest.mark.parametrize("i", range(len(SET_DATA)))
@pytest.mark.parametrize("name", ["intersect1d", "union1d", "setdiff1d", "setxor1d"])
def test_set_functions_match_numpy(backend, name, i):
    a, b = SET_DATA[i]
    dt = str(a.dtype)
    A, B = backend.asarray(a, dt), backend.asarray(b, str(b.dtype))
    _check(backend, getattr(fnp, name)(A, B), getattr(np, name)(a, b))
    _check(backend, getattr(fnp, name)(B, A), getattr(np, name)(b, a))


@pytest.mark.parametrize("i", range(len(SET_DATA)))
def test_intersect1d_return_indices(backend, i):
    a, b = SET_DATA[i]
    A, B = backend.asarray(a, str(a.dtype)), backend.asarray(b, str(b.dtype))
    _check(backend, fnp.intersect1d(A, B, return_indices=True),
           np.intersect1d(a, b, return_indices=True))


def test_sets_assume_unique(backend):
    a, b = np.array([5.0, 1.0, 3.0, 2.0]), np.array([3.0, 4.0, 5.0])
    A, B = backend.asarray(a), backend.asarray(b)
    for name in ("intersect1d", "setdiff1d", "setxor1d"):
        _check(backend, getattr(fnp, name)(A, B, assume_unique=True),
               getattr(np, name)(a, b, assume_unique=True))
    _check(backend, fnp.intersect1d(A, B, assume_unique=True, return_indices=True),
           np.intersect1d(a, b, assume_unique=True, return_indices=True))


ISIN_DATA = [
    (np.array([[1.0, np.nan, 3.0], [4.0, 2.0, 0.5]]), np.array([3.0, np.nan, 0.5, 9.0])),
    (_ints(0, 10, (4, 5)), _ints(0, 10, 6)),
    (_ints(0, 10, 7), np.array([2.0, 3.5, 4.0])),  # int against float: promoted
    (np.array([True, False, True]), np.array([False])),
    (np.array([1.0 + 2.0j, 3.0, 1.0]), np.array([1.0 + 0.0j, 1.0 + 2.0j])),
    (np.array([1.0, 2.0]), np.array([], dtype="float64")),
    (np.array([], dtype="float64"), np.array([1.0])),
    (np.array(2.0), np.array([[1.0, 2.0]])),
]


@pytest.mark.parametrize("i", range(len(ISIN_DATA)))
@pytest.mark.parametrize("invert", [False, True])
def test_isin_matches_numpy(backend, i, invert):
    e, t = ISIN_DATA[i]
    E, T = backend.asarray(e, str(e.dtype)), backend.asarray(t, str(t.dtype))
    for kind in (None, "sort"):
        _check(backend, fnp.isin(E, T, invert=invert, kind=kind),
               np.isin(e, t, invert=invert, kind=kind))
    if e.dtype.kind in "iub" and t.dtype.kind in "iub":
        _check(backend, fnp.isin(E, T, invert=invert, kind="table"),
               np.isin(e, t, invert=invert, kind="table"))


def test_isin_python_values():
    np.testing.assert_array_equal(np.asarray(fnp.isin(1, [1, 2])), np.isin(1, [1, 2]))
    np.testing.assert_array_equal(np.asarray(fnp.isin([1.5, 3.0], (3.0,))),
                                  np.isin([1.5, 3.0], (3.0,)))


def test_isin_errors():
    with pytest.raises(ValueError, match="'table' method is only supported"):
        fnp.isin(np.array([1.5]), np.array([1.5]), kind="table")
    with pytest.raises(ValueError, match="invalid kind"):
        fnp.isin(np.array([1.5]), np.array([1.5]), kind="hash")


def test_isin_jit_and_vmap(backend):
    e = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 2.0]])
    t = np.array([2.0, 5.0])
    E, T = backend.asarray(e), backend.asarray(t)
    _check(backend, ft.jit(fnp.isin)(E, T), np.isin(e, t))
    _check(backend, ft.vmap(fnp.isin)(E, backend.asarray(np.stack([t, t + 1.0]))),
           np.stack([np.isin(e[0], t), np.isin(e[1], t + 1.0)]))
    _check(backend, ft.vmap(lambda row: fnp.isin(row, T, invert=True))(E), ~np.isin(e, t))


def test_searchsorted_and_isin_past_nans_in_the_sorted_values(backend):
    # NaNs sort last; torch's binary search misplaced the values before them (3 was not
    # found in [3, nan]: isin, setdiff1d... were wrong there)
    s = np.array([-np.inf, 1.0, 2.0, 3.0, np.inf, np.nan, np.nan])
    v = np.array([0.0, 1.0, 2.5, 3.0, np.inf, np.nan, -np.inf, 5.0])
    S, V = backend.asarray(s), backend.asarray(v)
    for side in ("left", "right"):
        _check(backend, fnp.searchsorted(S, V, side=side), np.searchsorted(s, v, side=side))
    _check(backend, fnp.searchsorted(backend.asarray([np.nan]), V), np.searchsorted([np.nan], v))
    e, t = np.array([1.0, 2.0, 3.0]), np.array([np.nan, 3.0])
    E, T = backend.asarray(e), backend.asarray(t)
    _check(backend, fnp.isin(E, T), np.isin(e, t))
    _check(backend, fnp.setdiff1d(E, T), np.setdiff1d(e, t))
    _check(backend, ft.vmap(fnp.searchsorted, (None, 0))(S, V), np.searchsorted(s, v))


def test_where_takes_a_numeric_condition(backend):
    # a number's truth (nonzero; NaN is true), as NumPy and JAX: torch and array-api-strict
    # refused a condition that is not boolean
    c = np.array([0.0, 2.0, -0.0, np.nan])
    a = np.array([1.0, 2.0, 3.0, 4.0])
    C, A = backend.asarray(c), backend.asarray(a)
    _check(backend, fnp.where(C, A, -A), np.where(c, a, -a))
    _check(backend, fnp.where(backend.asarray([0, 3], "int64"), 1.0, 2.0),
           np.where([0, 3], 1.0, 2.0))
    _check(backend, ft.grad(lambda x: fnp.sum(fnp.where(C, x, 0.0)))(A), np.where(c, 1.0, 0.0))
    _check(backend, ft.vmap(lambda cc, x: fnp.where(cc, x, -x))(C, A), np.where(c, a, -a))


def test_data_dependent_sets_refuse_jit(backend):
    A = backend.asarray([1.0, 2.0])
    for f in (fnp.intersect1d, fnp.union1d, fnp.setdiff1d, fnp.setxor1d):
        with pytest.raises(ConcretizationError):
            ft.jit(f)(A, A)


def test_set_derivatives_reach_first_occurrences(backend):
    a = backend.asarray([3.0, 1.0, 3.0, 2.0])
    b = backend.asarray([2.0, 3.0, 9.0])
    g = ft.grad(lambda x: fnp.sum(fnp.intersect1d(x, b) * backend.asarray([10.0, 100.0])))(a)
    _check(backend, g, np.array([100.0, 0.0, 0.0, 10.0]))  # 2 -> index 3, 3 -> index 0
    g = ft.grad(lambda y: fnp.sum(fnp.union1d(a, y) ** 2))(b)
    _check(backend, g, np.array([0.0, 0.0, 18.0]))  # only 9 comes from b


# -- partition, argpartition, lexsort ----------------------------------------------------------

PART_CASES = [((7,), 3, -1), ((7,), [0, 6], -1), ((4, 6), 2, 1), ((4, 6), [-1, 1], 0),
              ((3, 4, 5), (1, 2, 3), 2), ((3, 4), 5, None), ((5,), -2, 0), ((2, 1), 0, 1)]


def _partition_contract(p, kths, axis, full_sorted):
    """``p`` partitions along ``axis`` at every kth: its kth entries are those of the sorted
    array, everything before is <=, everything after >=."""
    p = np.moveaxis(p, axis, -1)
    s = np.moveaxis(full_sorted, axis, -1)
    n = p.shape[-1]
    for k in kths:
        k %= n
        np.testing.assert_array_equal(p[..., k], s[..., k])
        assert np.all(p[..., :k] <= p[..., k:k + 1])
        assert np.all(p[..., k + 1:] >= p[..., k:k + 1])
    np.testing.assert_array_equal(np.sort(p, axis=-1), s)


@pytest.mark.parametrize("shape,kth,axis", PART_CASES)
def test_partition_contract(backend, shape, kth, axis):
    x = RNG.integers(0, 5, shape).astype("float64")  # ties too
    X = backend.asarray(x)
    p = fnp.partition(X, kth, axis=axis)
    i = fnp.argpartition(X, kth, axis=axis)
    assert backend.is_own(p) and backend.is_own(i)
    p, i = backend.to_numpy(p), backend.to_numpy(i)
    want = np.partition(x, kth, axis=axis)
    assert p.shape == want.shape and p.dtype == want.dtype and i.dtype == np.int64
    kths = np.atleast_1d(kth).tolist()
    ax = -1 if axis is None else axis
    xs = x.ravel() if axis is None else x
    _partition_contract(p, kths, ax, np.sort(xs, axis=ax))
    np.testing.assert_array_equal(np.take_along_axis(xs, i, axis=ax), p)


def test_partition_nan_goes_last(backend):
    x = np.array([3.0, np.nan, 1.0, 2.0])
    p = backend.to_numpy(fnp.partition(backend.asarray(x), 3))
    np.testing.assert_array_equal(p[3], np.partition(x, 3)[3])
    assert np.isnan(p[3])


def test_partition_errors():
    x = np.arange(4.0)
    with pytest.raises(ValueError, match=r"kth\(=5\) out of bounds \(4\)"):
        fnp.partition(x, 5)
    with pytest.raises(ValueError, match=r"kth\(=-5\) out of bounds"):
        fnp.argpartition(x, [0, -5])
    with pytest.raises(ValueError, match="kind must be 'introselect'"):
        fnp.partition(x, 1, kind="quick")
    with pytest.raises(ValueError, match="order= is for structured arrays"):
        fnp.argpartition(x, 1, order="f")
    with pytest.raises(TypeError, match="kth must be integers"):
        fnp.partition(x, 1.5)
    with pytest.raises(TypeError, match="kth must be static"):
        ft.jit(lambda k: fnp.partition(fnp.asarray([1.0, 2.0]), k))(np.array(1))


LEX_CASES = [
    lambda: (_ints(0, 3, 8), _ints(0, 3, 8)),
    lambda: (RNG.normal(size=6), _ints(0, 2, 6), _ints(0, 2, 6)),
    lambda: (_ints(0, 3, (3, 4)), _ints(0, 2, (3, 4))),
    lambda: (np.array([1.0, np.nan, 0.5, np.nan]), np.array([1, 1, 1, 0])),
]


@pytest.mark.parametrize("i", range(len(LEX_CASES)))
def test_lexsort_matches_numpy(backend, i):
    keys = LEX_CASES[i]()
    K = [backend.asarray(k, str(k.dtype)) for k in keys]
    _check(backend, fnp.lexsort(tuple(K)), np.lexsort(keys))
    _check(backend, fnp.lexsort(K, axis=0), np.lexsort(keys, axis=0))
    if all(k.dtype == keys[0].dtype for k in keys):
        stacked = np.stack(keys)
        _check(backend, fnp.lexsort(backend.asarray(stacked, str(stacked.dtype))),
               np.lexsort(stacked))


def test_lexsort_errors():
    with pytest.raises(TypeError, match="need sequence of keys"):
        fnp.lexsort([])
    with pytest.raises(ValueError, match="same shape"):
        fnp.lexsort((np.arange(3), np.arange(4)))


# -- choose, piecewise, extract ----------------------------------------------------------------

CHOICES = [np.arange(4.0), np.arange(4.0) * 10.0 + 1.0, np.full(4, -5.0)]


@pytest.mark.parametrize("mode", ["raise", "wrap", "clip"])
def test_choose_matches_numpy(backend, mode):
    idx = np.array([[0, 1, 2, 1], [2, 0, 0, 1]])
    if mode != "raise":
        idx = idx * 3 - 2
    C = [backend.asarray(c) for c in CHOICES]
    _check(backend, fnp.choose(backend.asarray(idx, "int64"), C, mode=mode),
           np.choose(idx, CHOICES, mode=mode))
    stacked = np.stack(CHOICES)
    _check(backend, fnp.choose(backend.asarray(idx, "int32"), backend.asarray(stacked), mode=mode),
           np.choose(idx, stacked, mode=mode))


def test_choose_broadcasting_and_scalars(backend):
    idx = np.array([[0], [1]])
    c0 = np.array([1.0, 2.0, 3.0], dtype="float32")
    I, C0 = backend.asarray(idx, "int64"), backend.asarray(c0, "float32")
    _check(backend, fnp.choose(I, [C0, 7.5]), np.choose(idx, [c0, 7.5]))
    _check(backend, fnp.choose(backend.asarray([0, 1, 1], "int64"), [0.5, 2]),
           np.choose([0, 1, 1], [0.5, 2]))


def test_choose_errors():
    with pytest.raises(ValueError, match="invalid entry in choice array"):
        fnp.choose(np.array([0, 3]), [np.arange(2.0), np.arange(2.0)])
    with pytest.raises(ValueError, match="invalid entry in choice array"):
        fnp.choose(np.array([-1, 0]), [np.arange(2.0), np.arange(2.0)])
    with pytest.raises(ValueError, match="clipmode"):
        fnp.choose(np.array([0]), [np.arange(1.0)], mode="nearest")
    with pytest.raises(NotImplementedError, match="out="):
        fnp.choose(np.array([0]), [np.arange(1.0)], out=np.zeros(1))


PIECEWISE_CASES = [
    # (x, conditions from x, functions)
    (np.linspace(-2, 2, 9), lambda x: [x < 0, x > 1],
     [lambda v: -v, lambda v: v ** 2, 0.5]),
    (np.linspace(-2, 2, 9), lambda x: [x < 0, x >= 0], [lambda v: -v, lambda v: v]),
    (np.linspace(-2, 2, 9).reshape(3, 3), lambda x: [x > 0], [lambda v: v * 3.0, 1.5]),
    (np.linspace(-2, 2, 5), lambda x: x > 0, [lambda v: v * 3.0, 1.5]),  # one array
    # an int x: the values are cast to it
    (np.arange(6), lambda x: [x > 1, x > 3], [lambda v: fnp.multiply(v, 1.5), 7]),
    (np.array(1.5), lambda x: [x > 0, x <= 0], [lambda v: v * 2.0, -1.0]),  # a 0-d x
    # a function that is not elementwise sees only its entries
    (np.linspace(0, 1, 5), lambda x: [x > 0.5], [lambda v: v - fnp.mean(v), 2.0]),
    (np.linspace(0, 1, 5), lambda x: [x > 9.0], [lambda v: 1.0 / v, lambda v: v]),  # no hits
]


@pytest.mark.parametrize("i", range(len(PIECEWISE_CASES)))
def test_piecewise_matches_numpy(backend, i):
    x, conds, funcs = PIECEWISE_CASES[i]
    X = backend.asarray(x, str(x.dtype))
    _check(backend, fnp.piecewise(X, conds(X), funcs), np.piecewise(x, conds(x), funcs))


def test_piecewise_args_and_jit(backend):
    x = np.linspace(-2, 2, 7)
    X = backend.asarray(x)
    funcs = [lambda v, a, b=0.0: a * v + b, lambda v, a, b=0.0: v ** 2 - b]
    want = np.piecewise(x, [x < 0.3], funcs, 2.0, b=1.0)
    _check(backend, fnp.piecewise(X, [X < 0.3], funcs, 2.0, b=1.0), want)
    # under jit every function runs on the whole x and the pieces are selected
    _check(backend, ft.jit(lambda y: fnp.piecewise(y, [y < 0.3], funcs, 2.0, b=1.0))(X), want)
    # a batched condition: the same
    want = np.stack([np.piecewise(r, [r < 0], [lambda v: -v, 3.0]) for r in x.reshape(7, 1)])
    _check(backend, ft.vmap(lambda r: fnp.piecewise(r, [r < 0], [lambda v: -v, 3.0]))(
        backend.asarray(x.reshape(7, 1))), want)


def test_piecewise_errors():
    x = np.arange(4.0)
    with pytest.raises(ValueError, match=r"with 1 condition\(s\), either 1 or 2 functions"):
        fnp.piecewise(x, [x > 1], [1, 2, 3])
    x2 = np.arange(4.0).reshape(2, 2)  # a 2-d array is a list of conditions, as in NumPy
    with pytest.raises(ValueError, match=r"with 2 condition\(s\)"):
        fnp.piecewise(x2, x2 > 1, [1.0, 2.0, 3.0, 4.0])


def test_piecewise_derivative_does_not_see_other_pieces(backend):
    """Each function sees only its own entries, so sqrt of the negative ones is never taken
    and the gradient stays finite (eagerly, as in NumPy)."""
    x = backend.asarray([-1.0, 4.0, 0.25])
    g = ft.grad(lambda y: fnp.sum(fnp.piecewise(y, [y > 0], [fnp.sqrt, lambda v: v * 0.0])))(x)
    _check(backend, g, np.array([0.0, 0.25, 1.0]))


@pytest.mark.parametrize("cond_from", [lambda x: x > 0, lambda x: (x > 0).astype(int) * 2])
def test_extract_matches_numpy(backend, cond_from):
    x = RNG.normal(size=(3, 4))
    X = backend.asarray(x)
    c = cond_from(x)
    _check(backend, fnp.extract(backend.asarray(c, str(c.dtype)), X), np.extract(c, x))


# -- apply_along_axis, apply_over_axes, ix_, trim_zeros ----------------------------------------

ALONG = [
    (lambda v: v.sum(), lambda v: fnp.sum(v)),
    (lambda v: v[::2] * 2.0, lambda v: v[::2] * 2.0),
    (lambda v: np.outer(v, v[:2]), lambda v: fnp.outer(v, v[:2])),
    (lambda v: 3, lambda v: 3),
    (lambda v: [v[0], v[-1]], lambda v: [v[0], v[-1]]),
]


@pytest.mark.parametrize("j", range(len(ALONG)))
@pytest.mark.parametrize("shape,axis", [((4,), 0), ((3, 4), 1), ((3, 4), 0), ((2, 3, 4), -2)])
def test_apply_along_axis_matches_numpy(backend, j, shape, axis):
    x = RNG.normal(size=shape)
    npf, ftf = ALONG[j]
    _check(backend, fnp.apply_along_axis(ftf, axis, backend.asarray(x)),
           np.apply_along_axis(npf, axis, x))


def test_apply_along_axis_extra_arguments_and_errors(backend):
    x = RNG.normal(size=(2, 3))
    _check(backend, fnp.apply_along_axis(lambda v, a, b=0.0: v * a + b, 1, backend.asarray(x),
                                         2.0, b=1.0),
           np.apply_along_axis(lambda v, a, b=0.0: v * a + b, 1, x, 2.0, b=1.0))
    with pytest.raises(ValueError, match="iteration dimensions are 0"):
        fnp.apply_along_axis(fnp.sum, 1, backend.asarray(np.zeros((0, 3))))
    with pytest.raises(ValueError, match="func1d returned shapes"):
        fnp.apply_along_axis(lambda v: v[: int(v[0] > 0) + 1], 1,
                             backend.asarray([[1.0, 2.0], [-1.0, 2.0]]))


@pytest.mark.parametrize("axes", [0, [0, 2], (-1, 1), []])
def test_apply_over_axes_matches_numpy(backend, axes):
    x = RNG.normal(size=(2, 3, 4))
    X = backend.asarray(x)
    _check(backend, fnp.apply_over_axes(fnp.sum, X, axes), np.apply_over_axes(np.sum, x, axes))
    _check(backend, fnp.apply_over_axes(lambda a, ax: fnp.max(a, axis=ax, keepdims=True), X, axes),
           np.apply_over_axes(np.max, x, axes))
    with pytest.raises(ValueError, match="correct shape"):
        fnp.apply_over_axes(lambda a, ax: fnp.sum(a), X, [0])


def test_ix_matches_numpy(backend):
    r = np.array([0, 2])
    c = np.array([True, False, True, True])
    got = fnp.ix_(backend.asarray(r, "int64"), backend.asarray(c, "bool"))
    _check(backend, got, np.ix_(r, c))
    x = RNG.normal(size=(3, 4))
    if backend.name != "array_api_strict":  # (it has no integer-array indexing)
        _check(backend, backend.asarray(x)[got], x[np.ix_(r, c)])
    _check(backend, fnp.take(fnp.take(backend.asarray(x), fnp.reshape(got[0], (-1,)), axis=0),
                             fnp.reshape(got[1], (-1,)), axis=1), x[np.ix_(r, c)])
    _check(backend, fnp.ix_(backend.asarray([1.5, 2.5])), np.ix_(np.array([1.5, 2.5])))
    py = fnp.ix_([1, 0], [], [2])
    for g, w in zip(py, np.ix_([1, 0], [], [2])):
        assert g.shape == w.shape and np.asarray(g).dtype == w.dtype
    with pytest.raises(ValueError, match="Cross index must be 1 dimensional"):
        fnp.ix_(backend.asarray(np.zeros((2, 2)), "int64"))


TRIM = [np.array([0.0, 0.0, 1.0, 0.0, 2.0, 0.0]),
        np.array([[0, 0, 2, 3, 0, 0], [0, 1, 0, 3, 0, 0], [0, 0, 0, 0, 0, 0]]),
        np.zeros((2, 3)), np.array([3.0, 0.0]), np.zeros((3, 0))]


@pytest.mark.parametrize("i", range(len(TRIM)))
@pytest.mark.parametrize("trim", ["fb", "f", "b", "BF"])
@pytest.mark.parametrize("axis", [None, -1, 0])
def test_trim_zeros_matches_numpy(backend, i, trim, axis):
    x = TRIM[i]
    if axis == -1 and x.ndim == 1:
        axis = 0
    _check(backend, fnp.trim_zeros(backend.asarray(x, str(x.dtype)), trim, axis=axis),
           np.trim_zeros(x, trim, axis=axis))


def test_trim_zeros_errors():
    with pytest.raises(ValueError, match="unexpected character"):
        fnp.trim_zeros(np.arange(3.0), "x")


# -- the in-place functions --------------------------------------------------------------------

FILL = [((3, 3), 5.0, False), ((5, 3), 2.0, True), ((5, 3), [1.0, 2.0], False),
        ((3, 5), [1.0, 2.0, 3.0, 4.0], True), ((2, 2, 2), -1.0, False), ((6, 2), [7.0], True),
        ((3, 3, 3), [1.0, 2.0], False)]


@pytest.mark.parametrize("shape,val,wrap", FILL)
def test_fill_diagonal_matches_numpy(backend, shape, val, wrap):
    base = RNG.normal(size=shape)
    want = base.copy()
    np.fill_diagonal(want, val, wrap=wrap)
    a = _writable(backend, base)
    assert fnp.fill_diagonal(a, val, wrap=wrap) is None
    _check(backend, a, want)
    ro = backend.asarray(base)  # read-only on NumPy: inplace=False must not write
    _check(backend, fnp.fill_diagonal(ro, val, wrap=wrap, inplace=False), want)
    _check(backend, ro, base)


def test_fill_diagonal_int_and_errors(backend):
    a = _writable(backend, np.zeros((3, 3), dtype="int64"), "int64")
    fnp.fill_diagonal(a, 2.7)  # cast to the array's dtype, as NumPy does
    want = np.zeros((3, 3), dtype="int64")
    np.fill_diagonal(want, 2.7)
    _check(backend, a, want)
    with pytest.raises(ValueError, match="at least 2-d"):
        fnp.fill_diagonal(_writable(backend, np.zeros(3)), 1.0)
    with pytest.raises(ValueError, match="equal length"):
        fnp.fill_diagonal(_writable(backend, np.zeros((2, 2, 3))), 1.0)


PUT = [([1, -1, 1], [5.0, 6.0, 7.0], "raise"), ([0, 2, 4], [9.0], "raise"),
       ([12, -13, 3], [1.0, 2.0], "wrap"), ([12, -13, 3], [1.0, 2.0, 3.0, 4.0], "clip"),
       ([], [1.0], "raise"), ([2, 3], [], "raise")]


@pytest.mark.parametrize("ind,v,mode", PUT)
@pytest.mark.parametrize("shape", [(10,), (2, 5)])
def test_put_matches_numpy(backend, ind, v, mode, shape):
    base = RNG.normal(size=shape)
    want = base.copy()
    np.put(want, ind, v, mode=mode)
    a = _writable(backend, base)
    assert fnp.put(a, backend.asarray(ind, "int64"), backend.asarray(v), mode=mode) is None
    _check(backend, a, want)
    a = _writable(backend, base)
    fnp.put(a, ind, v, mode=mode)  # Python lists
    _check(backend, a, want)
    ro = backend.asarray(base)
    _check(backend, fnp.put(ro, ind, v, mode=mode, inplace=False), want)
    _check(backend, ro, base)


def test_put_errors(backend):
    a = _writable(backend, np.zeros(4))
    with pytest.raises(IndexError, match="out of range"):
        fnp.put(a, [4], [1.0])
    with pytest.raises(IndexError, match="out of range"):
        fnp.put(a, [-5], [1.0])
    with pytest.raises(ValueError, match="clipmode"):
        fnp.put(a, [0], [1.0], mode="bad")
    with pytest.raises(TypeError, match="must be an array"):
        fnp.put([0.0, 1.0], [0], [1.0])
    with pytest.raises(TypeError, match="indices must be integers"):
        fnp.put(a, backend.asarray([0.0]), [1.0])


PAA = [((3, 4), lambda: RNG.integers(-4, 4, (3, 2)), lambda: RNG.normal(size=(3, 2)), 1),
       ((3, 4), lambda: RNG.integers(0, 3, (1, 4)), lambda: np.array(5.0), 0),
       ((2, 3, 4), lambda: RNG.integers(0, 3, (2, 1, 4)), lambda: RNG.normal(size=(1, 1, 4)), 1),
       ((3, 4), lambda: np.array([0, 5, 5, 11]), lambda: np.array([1.0, 2.0, 3.0, 4.0]), None),
       ((5,), lambda: np.array([1, 1, 3]), lambda: np.array([1.0, 2.0, 3.0]), 0)]


@pytest.mark.parametrize("i", range(len(PAA)))
def test_put_along_axis_matches_numpy(backend, i):
    shape, ind, vals, axis = PAA[i]
    base, idx, v = RNG.normal(size=shape), ind(), vals()
    want = base.copy()
    np.put_along_axis(want, idx, v, axis)
    a = _writable(backend, base)
    I, V = backend.asarray(idx, "int64"), backend.asarray(v)
    assert fnp.put_along_axis(a, I, V, axis) is None
    _check(backend, a, want)
    ro = backend.asarray(base)
    _check(backend, fnp.put_along_axis(ro, I, V, axis, inplace=False), want)
    _check(backend, ro, base)


def test_put_along_axis_errors(backend):
    a = _writable(backend, np.zeros((2, 3)))
    with pytest.raises(ValueError, match="same number of dimensions"):
        fnp.put_along_axis(a, backend.asarray([0], "int64"), 1.0, 1)
    with pytest.raises(ValueError, match="single dimension"):
        fnp.put_along_axis(a, backend.asarray([[0]], "int64"), 1.0, None)
    with pytest.raises(IndexError, match="integer array"):
        fnp.put_along_axis(a, backend.asarray([[0.0]]), 1.0, 1)


PLACE = [(lambda x: x > 0, [9.0, 8.0]), (lambda x: x > 0, [7.0]), (lambda x: x > 9, []),
         (lambda x: x < 0, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0])]


@pytest.mark.parametrize("i", range(len(PLACE)))
@pytest.mark.parametrize("name", ["place", "putmask"])
def test_place_and_putmask_match_numpy(backend, i, name):
    cond, vals = PLACE[i]
    base = RNG.normal(size=(3, 4))
    want = base.copy()
    getattr(np, name)(want, cond(base), vals)
    a = _writable(backend, base)
    assert getattr(fnp, name)(a, cond(a), backend.asarray(vals)) is None
    _check(backend, a, want)
    if name == "place":
        ro = backend.asarray(base)
        _check(backend, fnp.place(ro, cond(ro), vals, inplace=False), want)
        _check(backend, ro, base)


def test_place_putmask_errors(backend):
    a = _writable(backend, np.arange(3.0))
    with pytest.raises(ValueError, match="Cannot insert from an empty array"):
        fnp.place(a, a > 0, [])
    with pytest.raises(ValueError, match="mask and data must be the same size"):
        fnp.place(a, [True, False], [1.0])
    with pytest.raises(ValueError, match="mask and data must be the same size"):
        fnp.putmask(a, [True, False], [1.0])


COPYTO = [(lambda: RNG.normal(size=(2, 3)), "float64", "same_kind", True),
          (lambda: RNG.normal(size=3), "float64", "same_kind", [True, False, True]),
          (lambda: RNG.normal(size=(2, 1)).astype("float32"), "float32", "safe", True),
          (lambda: RNG.integers(0, 9, (2, 3)), "int64", "same_kind",
           [[True, False, False], [False, True, True]]),
          (lambda: RNG.normal(size=3), "float64", "unsafe", False)]


@pytest.mark.parametrize("i", range(len(COPYTO)))
@pytest.mark.parametrize("dst_dtype", ["float64", "int64"])
def test_copyto_matches_numpy(backend, i, dst_dtype):
    make, sdt, casting, where = COPYTO[i]
    src = make()
    base = RNG.integers(-5, 5, (2, 3)).astype(dst_dtype)
    want = base.copy()
    try:
        np.copyto(want, src, casting=casting, where=where)
    except TypeError:
        with pytest.raises(TypeError, match="Cannot cast array data"):
            fnp.copyto(_writable(backend, base, dst_dtype), backend.asarray(src, sdt),
                       casting=casting, where=where)
        return
    a = _writable(backend, base, dst_dtype)
    w = where if isinstance(where, bool) else backend.asarray(where, "bool")
    assert fnp.copyto(a, backend.asarray(src, sdt), casting=casting, where=w) is None
    _check(backend, a, want)


def test_copyto_scalars_and_errors(backend):
    a = _writable(backend, np.zeros(3, dtype="int64"), "int64")
    fnp.copyto(a, 4)
    _check(backend, a, np.full(3, 4, dtype="int64"))
    with pytest.raises(TypeError, match="Cannot cast scalar"):
        fnp.copyto(a, 1.5)
    fnp.copyto(a, 1.5, casting="unsafe")
    _check(backend, a, np.full(3, 1, dtype="int64"))
    with pytest.raises(ValueError, match="casting must be one of"):
        fnp.copyto(a, 1, casting="maybe")


# -- in place under transforms: derivatives, jit, vmap -----------------------------------------


def test_inplace_derivatives_reach_written_and_untouched_entries(backend):
    x = backend.asarray(RNG.normal(size=(3, 3)))
    v = backend.asarray([2.0, -1.0])
    w = backend.asarray(RNG.normal(size=(3, 3)))

    def f(x, v):
        b = x * 1.0
        fnp.put(b, [0, 4, 8, 1], v)  # v cycled: b[0]=v0, b[4]=v1, b[8]=v0, b[1]=v1
        return fnp.sum(b * w)
    gx, gv = ft.grad(f, argnums=(0, 1))(x, v)
    wn = backend.to_numpy(w)
    want_gx = wn.copy().ravel()
    want_gx[[0, 4, 8, 1]] = 0.0
    _check(backend, gx, want_gx.reshape(3, 3))
    _check(backend, gv, np.array([wn.ravel()[0] + wn.ravel()[8], wn.ravel()[4] + wn.ravel()[1]]))
    # the same under jit, and forward mode agrees with reverse mode
    gjx, gjv = ft.jit(ft.grad(f, argnums=(0, 1)))(x, v)
    _check(backend, gjx, backend.to_numpy(gx))
    _check(backend, gjv, backend.to_numpy(gv))
    _, t = ft.jvp(f, (x, v), (fnp.ones_like(x), fnp.ones_like(v)))
    np.testing.assert_allclose(float(backend.to_numpy(t)),
                               backend.to_numpy(fnp.sum(gx) + fnp.sum(gv)), rtol=1e-12)


def test_inplace_rebinds_every_reference_to_the_tracer(backend):
    def f(x):
        b = x * 1.0
        alias = b
        fnp.fill_diagonal(b, 0.0)
        return alias
    x = RNG.normal(size=(3, 3))
    want = x.copy()
    np.fill_diagonal(want, 0.0)
    _check(backend, ft.jit(f)(backend.asarray(x)), want)
    g = ft.grad(lambda x: fnp.sum(f(x) ** 2))(backend.asarray(x))
    _check(backend, g, 2.0 * want)
    # as with x[...] = v, jit refuses to modify one of its own arguments
    with pytest.raises(TypeError, match="assigns into one of its array arguments"):
        ft.jit(lambda x: fnp.fill_diagonal(x, 0.0))(backend.asarray(x))


def test_inplace_refuses_traced_values_into_a_plain_array(backend):
    a = _writable(backend, np.zeros((2, 2)))
    with pytest.raises(TypeError, match="inplace=False"):
        ft.grad(lambda v: (fnp.fill_diagonal(a, v), fnp.sum(a))[1])(backend.asarray(1.0))
    g = ft.grad(lambda v: fnp.sum(fnp.fill_diagonal(a, v, inplace=False)))(
        backend.asarray(1.0))
    _check(backend, g, np.array(2.0))


def test_inplace_under_vmap_matches_a_loop(backend):
    xs = RNG.normal(size=(4, 3, 3))
    vs = RNG.normal(size=(4, 2))

    def f(x, v):
        b = x * 1.0
        fnp.fill_diagonal(b, v[0])
        fnp.place(b, b > 0.5, v)
        fnp.putmask(b, b < -1.0, -v)
        return b

    def f_np(x, v):
        b = x.copy()
        np.fill_diagonal(b, v[0])
        np.place(b, b > 0.5, v)
        np.putmask(b, b < -1.0, -v)
        return b
    got = ft.vmap(f)(backend.asarray(xs), backend.asarray(vs))
    _check(backend, got, np.stack([f_np(x, v) for x, v in zip(xs, vs)]))
    got = ft.jit(ft.vmap(f))(backend.asarray(xs), backend.asarray(vs))
    _check(backend, got, np.stack([f_np(x, v) for x, v in zip(xs, vs)]))


def test_choose_and_put_along_axis_under_vmap(backend):
    idx = RNG.integers(0, 3, (4, 5))
    cs = RNG.normal(size=(3, 4, 5))
    got = ft.vmap(lambda i, c: fnp.choose(i, c), in_axes=(0, 1))(
        backend.asarray(idx, "int64"), backend.asarray(cs))
    _check(backend, got, np.stack([np.choose(idx[k], cs[:, k]) for k in range(4)]))
    arr = RNG.normal(size=(4, 5))
    pos = RNG.integers(0, 5, (4, 2))

    def put_row(a, p):
        return fnp.put_along_axis(a, p, 7.0, 0, inplace=False)
    want = arr.copy()
    for k in range(4):
        np.put_along_axis(want[k], pos[k], 7.0, 0)
    _check(backend, ft.vmap(put_row)(backend.asarray(arr), backend.asarray(pos, "int64")), want)


def test_ordering_functions_take_booleans_as_numpy(backend):
    # NumPy orders booleans (False < True); torch's argmax/argmin and array-api-strict's
    # max/min/sort/argsort/argmax refuse them, so functrans orders them as uint8
    data = np.array([[False, True, True], [False, False, False]])
    b = backend.asarray(data, dtype="bool")
    for name in ("argmax", "argmin", "nanargmax", "nanargmin"):
        for axis in (None, 0, 1):
            got = backend.to_numpy(getattr(fnp, name)(b, axis=axis))
            np.testing.assert_array_equal(got, getattr(np, name)(data, axis=axis))
    for name in ("max", "min", "sort", "argsort"):
        got = getattr(fnp, name)(b, axis=1)
        want = getattr(np, name)(data, axis=1)
        assert backend.to_numpy(got).dtype == want.dtype, name
        np.testing.assert_array_equal(backend.to_numpy(got), want)
    got = fnp.min(b, axis=0, initial=True, where=backend.asarray([True, False, True], "bool"))
    np.testing.assert_array_equal(backend.to_numpy(got), [False, True, False])
    np.testing.assert_array_equal(backend.to_numpy(fnp.sort(b, axis=None, descending=True)),
                                  [True, True, False, False, False, False])
