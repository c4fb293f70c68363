"""NumPy's ``where=`` and ``initial=`` of the reductions (sum, prod, mean, var, std, max,
min, all, any): values against NumPy on every backend, the derivative kept off the excluded
elements, the errors. Derivatives against finite differences: the "_where" specs of TABLE in
tests/test_namespace_grads.py."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.errors import ShapeError

RNG = np.random.default_rng(0)
X = RNG.normal(size=(3, 4))
MASK = RNG.uniform(size=(3, 4)) > 0.4
MASK[1] = False  # a slice with no element taking part

CASES = [("sum", {}), ("sum", {"initial": 2.0}), ("prod", {}), ("prod", {"initial": -1.5}),
         ("mean", {}), ("var", {}), ("var", {"ddof": 1}), ("std", {}),
         ("max", {"initial": -5.0}), ("min", {"initial": 5.0}), ("all", {}), ("any", {})]


def _numpy(name, x, **kw):
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        return getattr(np, name)(x, **kw)


@pytest.mark.parametrize("name,kw", CASES, ids=[f"{n}-{k}" for n, k in CASES])
@pytest.mark.parametrize("axis", [None, 0, 1, (0, 1)])
@pytest.mark.parametrize("mask", ["full", "row", "python_bool"])
def test_values_match_numpy(backend, name, kw, axis, mask):
    x_np = X > 0 if name in ("all", "any") else X
    m_np = {"full": MASK, "row": MASK[0], "python_bool": False}[mask]
    x = backend.asarray(x_np, dtype="bool" if name in ("all", "any") else "float64")
    m = m_np if mask == "python_bool" else backend.asarray(m_np, dtype="bool")
    for keepdims in (False, True):
        want = _numpy(name, x_np, axis=axis, where=m_np, keepdims=keepdims, **kw)
        with np.errstate(all="ignore"):
            got = getattr(fnp, name)(x, axis=axis, where=m, keepdims=keepdims, **kw)
        assert backend.is_own(got)
        got = backend.to_numpy(got)
        assert got.shape == np.shape(want) and got.dtype == np.asarray(want).dtype
        np.testing.assert_allclose(got, want, rtol=1e-13, equal_nan=True)


@pytest.mark.parametrize("name,initial", [("max", 0.5), ("min", -0.5), ("sum", 3),
                                          ("prod", 2)])
def test_initial_alone_matches_numpy(backend, name, initial):
    for x_np in (X, np.arange(6).reshape(2, 3), np.zeros((0, 3))):
        x = backend.asarray(x_np, dtype=str(x_np.dtype))
        for axis in (None, 0, 1):
            want = _numpy(name, x_np, axis=axis, initial=initial)
            got = backend.to_numpy(getattr(fnp, name)(x, axis=axis, initial=initial))
            assert got.dtype == np.asarray(want).dtype, (name, x_np.dtype)
            np.testing.assert_allclose(got, want, rtol=1e-13)


def test_excluded_elements_get_no_derivative_even_when_not_finite():
    x = np.where(MASK, X, np.nan)
    x[1, 0] = np.inf
    for name, kw in CASES[:10]:
        g = ft.grad(lambda t: fnp.sum(getattr(fnp, name)(t, axis=1, where=MASK, **kw)
                                      [np.array([0, 2])]))(x)
        assert np.all(g[~MASK] == 0), name
        assert np.all(np.isfinite(g[MASK])), name


def test_mean_of_masked_slices_by_hand():
    got = fnp.mean(X, axis=1, where=MASK)
    for i in (0, 2):
        np.testing.assert_allclose(got[i], X[i][MASK[i]].mean(), rtol=1e-14)
    assert np.isnan(got[1])
    g = ft.grad(lambda t: fnp.mean(t, where=MASK))(X)
    np.testing.assert_allclose(g, MASK / MASK.sum(), rtol=1e-14)


def test_transforms_of_masked_reductions():
    f = lambda t: (fnp.var(t, axis=0, where=t > 0) + fnp.max(t, axis=0, initial=0.0)  # noqa
                   + fnp.prod(t, axis=0, initial=2.0) + fnp.sum(t, axis=0, initial=1.0))
    np.testing.assert_allclose(ft.jit(f)(X), f(X), rtol=1e-14)
    np.testing.assert_allclose(ft.vmap(f)(np.stack([X, -X])), np.stack([f(X), f(-X)]),
                               rtol=1e-14)


def test_errors():
    with pytest.raises(ValueError, match="where= needs initial="):
        fnp.max(X, where=MASK)
    with pytest.raises(ValueError, match="where= needs initial="):
        fnp.min(X, where=MASK)
    with pytest.raises(TypeError, match="boolean mask"):
        fnp.sum(X, where=np.ones((3, 4)))
    with pytest.raises(ShapeError, match="does not broadcast"):
        fnp.sum(X, where=np.ones(3, bool))
    with pytest.raises(ShapeError, match="does not broadcast"):
        fnp.sum(X[0], where=np.ones((2, 4), bool))


@pytest.mark.parametrize("name,kw", [("nansum", {}), ("nansum", {"initial": 1.5}),
                                     ("nanprod", {}), ("nanmean", {}),
                                     ("amax", {"initial": -9.0}), ("amin", {"initial": 9.0})])
@pytest.mark.parametrize("axis", [None, 0, 1])
def test_numpy_names_take_where_too(backend, name, kw, axis):
    x_np = X.copy()
    x_np[0, 1] = np.nan
    x_np[2, 3] = np.nan
    x = backend.asarray(x_np)
    m = backend.asarray(MASK, dtype="bool")
    want = _numpy(name, x_np, axis=axis, where=MASK, **kw)
    with np.errstate(all="ignore"):
        got = backend.to_numpy(getattr(fnp, name)(x, axis=axis, where=m, **kw))
    np.testing.assert_allclose(got, want, rtol=1e-13, equal_nan=True)


def test_nanmean_where_of_integers_and_its_gradient():
    ints = np.arange(6).reshape(2, 3)
    keep = np.array([True, False, True])
    np.testing.assert_allclose(fnp.nanmean(ints, axis=1, where=keep),
                               np.nanmean(ints, axis=1, where=keep))
    x = np.where(MASK, X, np.nan)
    g = ft.grad(lambda t: fnp.nanmean(t, where=MASK[0]))(x)
    keep = MASK & MASK[0] & ~np.isnan(x)
    np.testing.assert_allclose(g, keep / keep.sum())


def test_initial_may_be_a_0d_array_or_a_traced_value():
    x = np.arange(4.0)
    assert ft.grad(lambda c: fnp.sum(x, initial=c))(2.0) == 1.0
    assert ft.grad(lambda c: fnp.prod(x + 1, initial=c))(2.0) == 24.0
    assert ft.grad(lambda c: fnp.max(x, initial=c))(5.0) == 1.0
    assert ft.grad(lambda c: fnp.max(x, initial=c, where=x > 1))(1.0) == 0.0
    np.testing.assert_allclose(fnp.min(x, initial=np.asarray(-1.0)), -1.0)
    with pytest.raises(ShapeError, match="initial must be a scalar"):
        fnp.sum(x, initial=np.ones(2))
