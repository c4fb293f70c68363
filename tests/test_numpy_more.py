"""More of NumPy's names in functrans.numpy (gradient, ediff1d, take's NumPy form, pad's
ramp and statistic modes, unique, linalg.lstsq, vander, polyfit, the index functions),
compared with NumPy on every backend: values, shapes, dtypes, the library of the results,
errors, and vmap against a Python loop."""

from __future__ import annotations

import functools
import warnings

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.errors import ConcretizationError

from .test_numpy_reshaping import _check as _check_like_numpy

RNG = np.random.default_rng(7)
F1 = RNG.normal(size=6)
F2 = RNG.normal(size=(4, 5))
F3 = RNG.normal(size=(3, 4, 2))
X4 = np.cumsum(RNG.uniform(0.3, 1.5, 4))
X5 = np.cumsum(RNG.uniform(0.3, 1.5, 5))
X6 = np.cumsum(RNG.uniform(0.3, 1.5, 6))
I6 = np.array([3, 1, 4, 1, 5, 9])


def _check(backend, got, want, own=True, rtol=1e-12, atol=1e-13):
    """``got`` is NumPy's ``want``: type, library, shape, dtype and values."""
    _check_like_numpy(backend, got, want, own, rtol, atol)


def _conv(backend, v):
    if isinstance(v, np.ndarray):
        return backend.asarray(v, dtype=v.dtype.name)
    if isinstance(v, list) and v and isinstance(v[0], np.ndarray):
        return [_conv(backend, o) for o in v]
    return v

# -- gradient and ediff1d ----------------------------------------------------------------------


GRADIENT_CASES = [
    (F1, (), {}),
    (F1, (0.5,), {}),
    (F1, (X6,), {}),
    (F1, (X6,), {"edge_order": 2}),
    (F1, (2.0,), {"edge_order": 2}),
    (F1[:2], (), {}),
    (F1[:3], (X6[:3],), {"edge_order": 2}),
    (F2, (), {}),
    (F2, (0.3,), {"edge_order": 2}),
    (F2, (X4, X5), {}),
    (F2, (X4, 2.0), {"edge_order": 2}),
    (F2, (X5,), {"axis": 1}),
    (F2, (X5,), {"axis": -1, "edge_order": 2}),
    (F2, (), {"axis": (1, 0)}),
    (F2, (0.7, X4), {"axis": [1, 0]}),
    (F3, (), {"axis": 0, "edge_order": 2}),
    (F3, (1.0, 2.0, 3.0), {}),
    (F3, (np.array(0.5),), {}),
    (I6, (), {}),
    (I6, (X6,), {"edge_order": 2}),
    (I6.astype("int32"), (2,), {}),
    (F2.astype("float32"), (), {}),
    (F2.astype("float32"), (X4, 0.5), {"edge_order": 2}),
    (F1, (np.arange(6),), {}),
]


@pytest.mark.parametrize("f,varargs,kw", GRADIENT_CASES)
def test_gradient(backend, f, varargs, kw):
    want = np.gradient(f, *varargs, **kw)
    got = fnp.gradient(backend.asarray(f, dtype=f.dtype.name),
                       *[_conv(backend, v) for v in varargs], **kw)
    tol = 1e-5 if f.dtype == np.float32 else 1e-12
    _check(backend, got, want, rtol=tol, atol=tol)


def test_gradient_errors(backend):
    f = backend.asarray(F2)
    with pytest.raises(ValueError, match="edge_order"):
        fnp.gradient(f, edge_order=3)
    with pytest.raises(ValueError, match="too small"):
        fnp.gradient(backend.asarray(F1[:2]), edge_order=2)
    with pytest.raises(TypeError, match="invalid number of arguments"):
        fnp.gradient(f, 1.0, 2.0, 3.0)
    with pytest.raises(ValueError, match="match the length"):
        fnp.gradient(f, backend.asarray(X5), backend.asarray(X5))
    with pytest.raises(ValueError, match="scalars or 1d"):
        fnp.gradient(f, backend.asarray(F2), 1.0)
    with pytest.raises(ValueError, match="repeated axis"):
        fnp.gradient(f, axis=(0, -2))


EDIFF_CASES = [
    (F1, {}), (F2, {}), (F2, {"to_begin": -1.0}), (F2, {"to_end": [7.0, 8.0]}),
    (F1, {"to_begin": np.array([[1.0], [2.0]]), "to_end": 3}), (I6, {"to_begin": 0}),
    (I6.astype("int32"), {"to_end": np.array([5, 6])}), (F1[:1], {}), (F1[:0], {"to_end": 1.0}),
    (F2.astype("float32"), {"to_begin": 2.5}),
]


@pytest.mark.parametrize("a,kw", EDIFF_CASES)
def test_ediff1d(backend, a, kw):
    want = np.ediff1d(a, **kw)
    got = fnp.ediff1d(backend.asarray(a, dtype=a.dtype.name),
                      **{k: _conv(backend, v) for k, v in kw.items()})
    _check(backend, got, want)


def test_ediff1d_errors(backend):
    with pytest.raises(TypeError, match="same_kind"):
        fnp.ediff1d(backend.asarray(I6, dtype="int64"), to_begin=1.5)
    with pytest.raises(TypeError, match="boolean"):
        fnp.ediff1d(backend.asarray(I6 > 2, dtype="bool"))

# -- take --------------------------------------------------------------------------------------


TAKE_CASES = [
    (F2, [1, -1], {}), (F2, 5, {}), (F2, [[0, 19], [3, 4]], {}), (F2, [1, -1], {"axis": 1}),
    (F2, [7, -9, 2], {"axis": 1, "mode": "wrap"}), (F2, [7, -9, 2], {"axis": 0, "mode": "clip"}),
    (F2, [25, -30], {"mode": "wrap"}), (F2, [25, -30], {"mode": "clip"}),
    (F3, [[1], [0]], {"axis": -1}), (F3, np.array([], dtype="int64"), {"axis": 1}),
    (np.array(2.5), [0, 0], {}), (I6, np.array([5, 0], dtype="int32"), {"axis": 0}),
]


@pytest.mark.parametrize("a,idx,kw", TAKE_CASES)
def test_take(backend, a, idx, kw):
    want = np.take(a, idx, **kw)
    idx_b = backend.asarray(idx, dtype=idx.dtype.name) if isinstance(idx, np.ndarray) else idx
    got = fnp.take(backend.asarray(a, dtype=a.dtype.name), idx_b, **kw)
    _check(backend, got, want)


def test_take_errors(backend):
    a = backend.asarray(F2)
    with pytest.raises(IndexError, match="index 20 is out of bounds for axis 0 with size 20"):
        fnp.take(a, [0, 20])
    with pytest.raises(IndexError, match="index -6 is out of bounds for axis 1"):
        fnp.take(a, [-6], axis=1)
    with pytest.raises(ValueError, match="mode must be"):
        fnp.take(a, [0], mode="nearest")
    with pytest.raises(NotImplementedError, match="out="):
        fnp.take(a, [0], out=a)
    with pytest.raises(IndexError, match="integers"):
        fnp.take(a, [0.5])
    with pytest.raises(IndexError, match="empty"):
        fnp.take(backend.asarray(F1[:0]), [0], mode="wrap")


def test_take_standard_form_and_unchecked_under_transforms(backend):
    x = backend.asarray(F1)
    idx = backend.asarray(np.array([2, 0]), dtype="int64")
    _check(backend, fnp.take(x, idx, axis=0), F1[[2, 0]])
    # under a transform the indices are not inspected; wrap/clip still hold
    got = ft.vmap(lambda i: fnp.take(x, i, mode="wrap"))(
        backend.asarray(np.array([[7, -1], [0, 13]]), dtype="int64"))
    _check(backend, got, np.take(F1, [[7, -1], [0, 13]], mode="wrap"))

# -- pad: linear_ramp and the statistics ---------------------------------------------------------


PAD_ARRAYS = [np.arange(1.0, 5.0), F2[:2, :3], np.array([3.0]), F3[:2, :1],
              np.array([[1, 2, 4, 7, 11]], dtype="int64"), np.array([5, 2, 8, 1], dtype="int32"),
              (F2 * 10).astype("float32")]
PAD_WIDTHS = [0, 1, (2, 3), [[1], [2]], 7, {-1: (3, 0)}]
PAD_MODES = [("linear_ramp", {}), ("linear_ramp", {"end_values": (5, -4)}),
             ("linear_ramp", {"end_values": 2.5}), ("maximum", {}),
             ("maximum", {"stat_length": 2}), ("minimum", {"stat_length": (1, 3)}),
             ("mean", {}), ("mean", {"stat_length": (2, 1)}), ("mean", {"stat_length": 10}),
             ("median", {}), ("median", {"stat_length": 2}), ("median", {"stat_length": 3})]


def _pad_cases():
    for x in PAD_ARRAYS:
        for pw in PAD_WIDTHS:
            if not isinstance(pw, dict) and np.ndim(pw) == 2 and np.shape(pw)[0] != x.ndim:
                continue
            for mode, kw in PAD_MODES:
                yield x, pw, mode, kw


@pytest.mark.parametrize("x,pw,mode,kw", list(_pad_cases()))
def test_pad_modes(backend, x, pw, mode, kw):
    want = np.pad(x, pw, mode, **kw)
    got = fnp.pad(backend.asarray(x, dtype=x.dtype.name), pw, mode, **kw)
    tol = 1e-6 if x.dtype == np.float32 else 1e-13
    _check(backend, got, want, rtol=tol, atol=tol)


def test_pad_traced_end_values_and_errors(backend):
    x = backend.asarray(F2[:2, :3])
    ev = np.array([[1.0, -2.0], [0.5, 3.0]])
    _check(backend, fnp.pad(x, 2, "linear_ramp", end_values=backend.asarray(ev)),
           np.pad(F2[:2, :3], 2, "linear_ramp", end_values=ev))
    g = ft.grad(lambda e: fnp.sum(fnp.pad(x, 2, "linear_ramp", end_values=e)))(
        backend.asarray(ev))
    assert backend.is_own(g) and np.all(backend.to_numpy(g) > 0)
    with pytest.raises(ValueError, match="stat_length of 0"):
        fnp.pad(x, 1, "maximum", stat_length=0)
    with pytest.raises(ValueError, match="negative"):
        fnp.pad(x, 1, "mean", stat_length=-1)
    with pytest.raises(ValueError, match="empty axis"):
        fnp.pad(backend.asarray(F2[:0]), 1, "median")
    with pytest.raises(ValueError, match="unsupported keyword"):
        fnp.pad(x, 1, "mean", end_values=1)
    with pytest.raises(ValueError, match="NaN"):
        fnp.pad(backend.asarray(I6, dtype="int64"), 1, "mean", stat_length=0)
    # a float array with stat_length 0: NaN padding, as NumPy
    with np.errstate(all="ignore"):
        want = np.pad(F1, 1, "mean", stat_length=0)
    _check(backend, fnp.pad(backend.asarray(F1), 1, "mean", stat_length=0), want)

# -- unique ------------------------------------------------------------------------------------


UNIQUE_ARRAYS = [np.array([3.0, np.nan, 1.0, np.nan, 3.0, 2.0]), np.array([[2, 1], [1, 5]]),
                 np.array([[2, 1], [1, 5]], dtype="int32"), np.array(2.0), np.zeros((0, 2)),
                 np.array([np.nan, np.nan]), RNG.integers(0, 4, (3, 4)).astype("float64")]
FLAGS = [(), (True,), (True, True, True), (False, True), (False, False, True)]


@pytest.mark.parametrize("ar", UNIQUE_ARRAYS, ids=range(len(UNIQUE_ARRAYS)))
@pytest.mark.parametrize("flags", FLAGS)
@pytest.mark.parametrize("equal_nan", [True, False])
def test_unique(backend, ar, flags, equal_nan):
    want = np.unique(ar, *flags, equal_nan=equal_nan)
    got = fnp.unique(backend.asarray(ar, dtype=ar.dtype.name), *flags, equal_nan=equal_nan)
    _check(backend, got, want)


def test_unique_axis_sorted_and_jit(backend):
    v = np.array([2.0, 1.0, 2.0])
    x = backend.asarray(v)
    _check(backend, fnp.unique(x, return_inverse=True, axis=0),
           np.unique(v, return_inverse=True, axis=0))
    _check(backend, fnp.unique(x, sorted=False), np.array([1.0, 2.0]))
    _check(backend, fnp.unique(backend.asarray(F2), axis=0), np.unique(F2, axis=0))
    with pytest.raises(ConcretizationError, match="jit of"):
        ft.jit(fnp.unique)(x)

# -- lstsq, vander, polyfit ----------------------------------------------------------------------


A54 = RNG.normal(size=(5, 3))
B52 = RNG.normal(size=(5, 2))
RANK1 = np.outer(RNG.normal(size=5), RNG.normal(size=3))
LSTSQ_CASES = [(A54, B52[:, 0], {}), (A54, B52, {}), (A54.T, B52[:3], {}),
               (A54[:3], B52[:3, 0], {}),
               (RANK1, B52, {}), (A54, B52, {"rcond": 0.5}), (A54, B52, {"rcond": -1}),
               (A54.astype("float32"), B52.astype("float32"), {}),
               (np.zeros((0, 3)), np.zeros((0, 2)), {}), (np.zeros((4, 0)), B52[:4], {}),
               (I6[:4].reshape(2, 2), np.array([1, 2]), {})]


@pytest.mark.parametrize("a,b,kw", LSTSQ_CASES)
def test_lstsq(backend, a, b, kw):
    want = np.linalg.lstsq(a, b, **kw)
    ab, bb = backend.asarray(a, dtype=a.dtype.name), backend.asarray(b, dtype=b.dtype.name)
    got = fnp.linalg.lstsq(ab, bb, **kw, numpy_resid=True)
    assert isinstance(got, tuple) and len(got) == 4
    tol = 2e-5 if a.dtype == np.float32 else 1e-10
    _check(backend, tuple(got), tuple(np.asarray(w) for w in want), rtol=tol, atol=tol)
    # JAX's residuals (the default): |b - a x|^2 by column whatever the rank and shape
    x, resid, rank, s = fnp.linalg.lstsq(ab, bb, **kw)
    x0 = np.asarray(want[0])
    r = (b if b.ndim == 2 else b[:, None]) - a @ (x0 if x0.ndim == 2 else x0[:, None])
    _check(backend, (x, resid, rank, s), (want[0], (r * r).sum(0).astype(want[3].dtype),
                                          want[2], want[3]), rtol=tol, atol=tol)


def test_lstsq_errors_and_jit(backend):
    with pytest.raises(Exception, match="Incompatible dimensions"):
        fnp.linalg.lstsq(backend.asarray(A54), backend.asarray(B52[:4]))
    with pytest.raises(Exception, match="two-dimensional"):
        fnp.linalg.lstsq(backend.asarray(F3), backend.asarray(B52))
    a, b = backend.asarray(A54), backend.asarray(B52)
    with pytest.raises(ConcretizationError, match="jit of"):  # NumPy's residuals' shape
        ft.jit(functools.partial(fnp.linalg.lstsq, numpy_resid=True))(a, b)  # is the rank's
    _check(backend, ft.jit(fnp.linalg.lstsq)(a, b),
           tuple(backend.to_numpy(v) for v in fnp.linalg.lstsq(a, b)), rtol=1e-13, atol=1e-13)
    got = ft.jit(lambda a, b: fnp.linalg.lstsq(a, b)[0])(backend.asarray(A54.T),
                                                           backend.asarray(B52[:3]))
    _check(backend, got, np.linalg.lstsq(A54.T, B52[:3])[0], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("a,b,kw", LSTSQ_CASES)
def test_lstsq_fixed_residuals(backend, a, b, kw):
    # numpy_resid=False (jax.numpy's): x, rank and s as NumPy's; the residuals are the
    # squared norms of b - a x's columns whatever the rank and shape, (K,) or (1,)
    want = np.linalg.lstsq(a, b, **kw)
    got = fnp.linalg.lstsq(backend.asarray(a, dtype=a.dtype.name),
                           backend.asarray(b, dtype=b.dtype.name), numpy_resid=False, **kw)
    tol = 2e-5 if a.dtype == np.float32 else 1e-10
    bb = (b if b.ndim == 2 else b[:, None]).astype(np.float64)
    r = bb - a.astype(np.float64) @ want[0].reshape(a.shape[1], bb.shape[1]).astype(np.float64)
    resid = np.sum(r * r, axis=0).astype(want[3].dtype)
    _check(backend, (got[0], got[2], got[3]), (want[0], np.asarray(want[2], np.int32),
                                                want[3]), rtol=tol, atol=tol)
    _check(backend, got[1], resid, rtol=tol, atol=tol)


def test_lstsq_fixed_residuals_as_jax_with_jit_vmap_and_grads():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    complex_a = A54 + 1j * RNG.normal(size=A54.shape)
    cases = [(A54, B52[:, 0]), (A54, B52), (A54.T, B52[:3]), (RANK1, B52),
             (np.zeros((4, 0)), B52[:4]), (np.zeros((0, 3)), np.zeros((0, 2))),
             (complex_a, B52 + 0j)]
    for a, b in cases:
        got = fnp.linalg.lstsq(a, b, numpy_resid=False)
        want = jnp.linalg.lstsq(a, b)            # (numpy_resid=False is JAX's default)
        for g, w in zip(got[:2] + got[3:], want[:2] + want[3:]):
            assert g.shape == w.shape and g.dtype == w.dtype, (g.shape, w.shape, a.shape)
            np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-12)
        assert int(got[2]) == int(want[2])

    def ours(a, b):
        return fnp.linalg.lstsq(a, b, numpy_resid=False)

    def theirs(a, b):
        return jnp.linalg.lstsq(a, b)
    a_s, b_s = np.stack([A54, 2.0 * A54, RANK1]), np.stack([B52, B52 + 1.0, B52])
    for g, w in zip(ft.vmap(ours)(a_s, b_s) + ft.jit(ours)(A54, B52),
                    jax.vmap(theirs)(a_s, b_s) + jax.jit(theirs)(A54, B52)):
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=1e-10, atol=1e-12)
    for a, b in [(A54, B52[:, 0]), (A54, B52), (A54.T, B52[:3])]:
        for i in (0, 1):   # the solution's and the residuals' derivatives, in a and b
            g = ft.grad(lambda a, b: fnp.sum(fnp.sin(ours(a, b)[i])), argnums=(0, 1))(a, b)
            w = jax.grad(lambda a, b: jnp.sum(jnp.sin(theirs(a, b)[i])), argnums=(0, 1))(a, b)
            for gg, ww in zip(g, w):
                np.testing.assert_allclose(gg, np.asarray(ww), rtol=1e-8, atol=1e-10)


def test_lstsq_numpys_residuals_under_vmap_name_the_keyword(backend):
    a_s = backend.asarray(np.stack([A54, 2.0 * A54]))
    with pytest.raises(ConcretizationError, match="numpy_resid=False"):
        ft.vmap(lambda a: fnp.linalg.lstsq(a, backend.asarray(B52), numpy_resid=True)[1])(a_s)
    got = ft.vmap(lambda a: fnp.linalg.lstsq(a, backend.asarray(B52))[1])(a_s)
    want = [np.linalg.lstsq(m, B52)[1] for m in (A54, 2.0 * A54)]
    _check(backend, got, np.stack(want), rtol=1e-10, atol=1e-12)


VANDER_CASES = [(F1, ()), (F1, (3,)), (F1, (3, True)), (I6, ()), (np.array([True, False]), ()),
                (F1.astype("float32"), ()), (F1, (0,)), (F1, (1,)), (F1[:0], ())]


@pytest.mark.parametrize("x,args", VANDER_CASES)
def test_vander(backend, x, args):
    want = np.vander(x, *args)
    got = fnp.vander(backend.asarray(x, dtype=x.dtype.name), *args)
    _check(backend, got, want, rtol=1e-6 if x.dtype == np.float32 else 1e-13)


def test_vander_errors(backend):
    with pytest.raises(ValueError, match="one-dimensional"):
        fnp.vander(backend.asarray(F2))
    with pytest.raises(ValueError, match="negative"):
        fnp.vander(backend.asarray(F1), -1)


Y6 = RNG.normal(size=6)
Y62 = RNG.normal(size=(6, 2))
W6 = RNG.uniform(0.5, 2.0, 6)
POLYFIT_CASES = [((X6, Y6, 2), {}), ((X6, Y62, 3), {}), ((X6, Y6, 1), {"w": W6}),
                 ((X6, Y62, 2), {"w": W6, "full": True}), ((X6, Y6, 5), {"full": True}),
                 ((np.arange(6), np.arange(6) ** 2, 2), {}), ((X6, Y6, 0), {}),
                 ((X6, Y6, 7), {"full": True}), ((X6, Y6, 2), {"rcond": 1e-3, "full": True})]


@pytest.mark.parametrize("args,kw", POLYFIT_CASES)
def test_polyfit(backend, args, kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # NumPy's RankWarning for the ill-posed fits
        want = np.polyfit(*args, **kw)
    got = fnp.polyfit(*[backend.asarray(a, dtype=a.dtype.name) for a in args[:2]], args[2],
                      **{k: backend.asarray(v) if isinstance(v, np.ndarray) else v
                         for k, v in kw.items()})
    if kw.get("full"):
        assert isinstance(got, tuple) and len(got) == 5
        _check(backend, tuple(got[:4]), tuple(np.asarray(w) for w in want[:4]), rtol=1e-9,
               atol=1e-10)
        assert got[4] == want[4]
    else:
        _check(backend, got, want, rtol=1e-9, atol=1e-10)


def test_polyfit_errors(backend):
    x, y = backend.asarray(X6), backend.asarray(Y6)
    with pytest.raises(ValueError, match="deg >= 0"):
        fnp.polyfit(x, y, -1)
    with pytest.raises(TypeError, match="1D vector for x"):
        fnp.polyfit(backend.asarray(F2), y, 1)
    with pytest.raises(TypeError, match="same length"):
        fnp.polyfit(x, backend.asarray(Y6[:5]), 1)
    with pytest.raises(TypeError, match="non-empty"):
        fnp.polyfit(backend.asarray(X6[:0]), backend.asarray(Y6[:0]), 1)

# -- index functions ---------------------------------------------------------------------------


INDEX_CASES = [("tril_indices", (4,)), ("tril_indices", (3, 1, 5)), ("triu_indices", (4, -1)),
               ("triu_indices", (3, 2, 2)), ("diag_indices", (3,)), ("diag_indices", (2, 3)),
               ("indices", ((2, 3),)), ("indices", ((2, 3), np.int32, True)),
               ("indices", ((),)), ("indices", ((2, 0, 1),)), ("tril_indices", (0,))]


@pytest.mark.parametrize("name,args", INDEX_CASES)
def test_index_functions(name, args):
    want = getattr(np, name)(*args)
    got = getattr(fnp, name)(*args)
    want = want if isinstance(want, tuple) else (want,)
    got = got if isinstance(got, tuple) else (got,)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        g = np.asarray(fnp.asarray(g))
        assert g.shape == w.shape and g.dtype == w.dtype, (g.shape, w.shape, g.dtype, w.dtype)
        np.testing.assert_array_equal(g, w)


@pytest.mark.parametrize("name,args", [("tril_indices_from", (np.zeros((3, 5)),)),
                                       ("triu_indices_from", (np.zeros((3, 5)), 1)),
                                       ("diag_indices_from", (np.zeros((3, 3, 3)),))])
def test_index_functions_from(backend, name, args):
    want = getattr(np, name)(*args)
    got = getattr(fnp, name)(backend.asarray(args[0]), *args[1:])
    _check(backend, got, want)


def test_index_function_errors(backend):
    with pytest.raises(ValueError, match="2-d"):
        fnp.tril_indices_from(backend.asarray(F1))
    with pytest.raises(ValueError, match="equal length"):
        fnp.diag_indices_from(backend.asarray(F2))

# -- vmap against a loop -------------------------------------------------------------------------


VMAPPED = {
    "gradient": lambda v: fnp.gradient(v, 0.5, edge_order=2),
    "gradient_coords": lambda v: fnp.gradient(v, fnp.asarray(X5)),
    "ediff1d": lambda v: fnp.ediff1d(v, to_begin=v[:1]),
    "take_wrap": lambda v: fnp.take(v, [7, -1, 2], mode="wrap"),
    "pad_ramp": lambda v: fnp.pad(v, (2, 1), "linear_ramp", end_values=(1.0, v[0])),
    "pad_median": lambda v: fnp.pad(v, 2, "median", stat_length=(2, 3)),
    "pad_mean": lambda v: fnp.pad(v, (1, 3), "mean"),
    "lstsq": lambda v: fnp.linalg.lstsq(fnp.asarray(A54), v)[0],
    "polyfit": lambda v: fnp.polyfit(fnp.asarray(X5), v, 2),
    "vander": lambda v: fnp.vander(v, 3),
}


@pytest.mark.parametrize("name", list(VMAPPED))
def test_vmap_matches_a_loop(name):
    f = VMAPPED[name]
    batch = RNG.normal(size=(3, 5))
    got = np.asarray(ft.vmap(f)(batch))
    want = np.stack([np.asarray(f(row)) for row in batch])
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-13)

# -- regressions (review r2) ---------------------------------------------------------------------


def test_lstsq_single_precision_rank_as_numpy(backend):
    # NumPy solves float32 in double precision with float64's rcond: a singular value 1e-8
    # of the largest still counts (float32's eps would drop it and change x, rank, residuals)
    a = np.array([[1, 0], [0, 1e-8], [0, 0]], np.float32)
    b = np.array([1, 1, 1], np.float32)
    got = fnp.linalg.lstsq(backend.asarray(a, "float32"), backend.asarray(b, "float32"))
    want = np.linalg.lstsq(a, b)
    assert int(backend.to_numpy(got[2])) == 2
    _check(backend, list(got[:2]) + [got[3]], [want[0], want[1], want[3]], rtol=1e-6)


def test_polyfit_float32_x_rcond_and_weighted_float32_y(backend):
    # rcond defaults to len(x) * eps of x's float dtype (float32's here): a degree-8 fit of
    # 9 float32 points drops its smallest singular value, as in NumPy
    x = np.linspace(0, 1, 9).astype(np.float32)
    y = np.sin(3 * x)
    c, _, rank, s, rcond = fnp.polyfit(backend.asarray(x, "float32"), backend.asarray(y), 8,
                                       full=True)
    wc, _, wrank, ws, wrcond = np.polyfit(x, y, 8, full=True)
    assert int(backend.to_numpy(rank)) == int(wrank) == 8
    assert np.isclose(rcond, wrcond)
    _check(backend, c, wc, rtol=1e-7, atol=1e-9)
    # NumPy weights a float32 y in place: the weighted y is rounded to float32
    y32 = (np.sin(3 * x) + 0.1).astype(np.float32)
    w = np.linspace(1, 2, 9) ** 0.5
    got = fnp.polyfit(backend.asarray(x, "float32"), backend.asarray(y32, "float32"), 2,
                      w=backend.asarray(w))
    _check(backend, got, np.polyfit(x, y32, 2, w=w), rtol=1e-12, atol=1e-13)


def test_polyfit_float_degree_and_traced_x_under_jit_and_vmap(backend):
    x, y = X6, F1
    _check(backend, fnp.polyfit(backend.asarray(x), backend.asarray(y), 2.0),
           np.polyfit(x, y, 2.0))
    # without full= nothing depends on the rank's value: x may be traced
    f = ft.jit(lambda x, y: fnp.polyfit(x, y, 2))
    _check(backend, f(backend.asarray(x), backend.asarray(y)), np.polyfit(x, y, 2), rtol=1e-9)
    xs, ys = np.stack([x, 2 * x]), np.stack([y, y ** 2])
    got = ft.vmap(lambda x, y: fnp.polyfit(x, y, 2))(backend.asarray(xs), backend.asarray(ys))
    _check(backend, got, np.stack([np.polyfit(a, b, 2) for a, b in zip(xs, ys)]), rtol=1e-9)
    # with full= the residuals are jax.numpy's under jit (NumPy's for this full-rank fit)
    c, r, rank, s, _ = ft.jit(lambda x, y: fnp.polyfit(x, y, 2, full=True))(
        backend.asarray(x), backend.asarray(y))
    wc, wr, wrank, ws, _ = np.polyfit(x, y, 2, full=True)
    _check(backend, c, wc, rtol=1e-9)
    _check(backend, r, wr, rtol=1e-7, atol=1e-20)
    assert int(backend.to_numpy(rank)) == int(wrank)


def test_take_list_input_zero_d_and_float_index_array(backend):
    _check(backend, fnp.take([1.0, 2.0, 3.0], [2, 0]), np.take([1.0, 2.0, 3.0], [2, 0]),
           own=False)
    a0 = backend.asarray(np.array(3.0))
    _check(backend, fnp.take(a0, 0, axis=0), np.take(np.array(3.0), 0, axis=0))
    _check(backend, fnp.take(a0, [0, -1], axis=-1), np.take(np.array(3.0), [0, -1], axis=-1))
    with pytest.raises(IndexError, match="out of bounds"):
        fnp.take(a0, [1], axis=0)
    with pytest.raises(TypeError, match="integers"):
        fnp.take(backend.asarray(F1), backend.asarray(np.array([1.0])))


def test_gradient_list_coordinates_next_to_f(backend):
    f = backend.asarray(F2, "float32")
    got = fnp.gradient(f, X4.tolist(), 2, edge_order=2)
    _check(backend, got, np.gradient(F2.astype(np.float32), X4.tolist(), 2, edge_order=2),
           rtol=1e-5, atol=1e-5)


def test_convolve_correlate_booleans(backend):
    a = np.array([True, False, False, True, False])
    v = np.array([True, True, False])
    for mode in ("full", "same", "valid"):
        _check(backend, fnp.convolve(backend.asarray(a, "bool"), backend.asarray(v, "bool"),
                                     mode), np.convolve(a, v, mode))
        _check(backend, fnp.correlate(backend.asarray(v, "bool"), backend.asarray(a, "bool"),
                                      mode), np.correlate(v, a, mode))


def test_indices_boolean_grid():
    _check(BackendlessNumpy, fnp.indices((2, 2), dtype=bool), np.indices((2, 2), dtype=bool))
    with pytest.raises(TypeError, match="boolean"):
        fnp.indices((2, 3), dtype=bool)


class BackendlessNumpy:
    @staticmethod
    def is_own(x):
        return isinstance(x, np.ndarray)

    @staticmethod
    def to_numpy(x):
        return np.asarray(x)


@pytest.mark.parametrize("reps", [2, 0, (2, 1), (1, 3, 2)])
def test_tile_takes_an_int_or_a_tuple_as_numpy(reps):
    for x in (np.arange(3.0), np.ones((2, 2)), 5.0):
        np.testing.assert_array_equal(fnp.tile(x, reps), np.tile(x, reps))
