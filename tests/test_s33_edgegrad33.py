"""Derivatives at edge points compared with JAX 0.10.2 (x64) (helper edgegrad33).

Expected values are derived by hand (the formula is in a comment by each) or from NumPy; the
JAX value is quoted in a comment where functrans deliberately differs."""

import math
import warnings

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp


def _quiet(fn, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with np.errstate(all="ignore"):
            return fn(*args)


# -- linalg.cond at a singular matrix ----------------------------------------------------------

@pytest.mark.parametrize("p", [1, -1, np.inf, -np.inf, "fro", "nuc"])
def test_cond_derivative_at_a_singular_matrix_is_nan(backend, p):
    # cond = norm(x) norm(inv(x)) is inf at a singular matrix and finite nearby: no derivative
    # there. It was 0 (the derivative of a constant inf) where p = 2 and JAX give nan; a
    # regular matrix of the same stack keeps its derivative (central differences of NumPy's).
    a = np.stack([[[1.0, 2.0], [2.0, 4.0]], [[2.0, 1.0], [0.5, 3.0]], np.zeros((2, 2))])
    x = backend.asarray(a)
    f = lambda m: fnp.sum(fnp.linalg.cond(m, p))
    g = backend.to_numpy(_quiet(ft.grad(f), x))
    assert np.isnan(g[0]).all() and np.isnan(g[2]).all()
    h = 1e-6
    fd = [(np.linalg.cond(a[1] + h * e, p) - np.linalg.cond(a[1] - h * e, p)) / (2 * h)
          for e in np.eye(4).reshape(4, 2, 2)]
    np.testing.assert_allclose(g[1].ravel(), fd, rtol=1e-6)
    # forward mode and vmap agree; the values stay inf, cond(a[1]), inf
    t = np.ones_like(a)
    val, tan = _quiet(ft.jvp, lambda m: fnp.linalg.cond(m, p), (x,), (backend.asarray(t),))
    val, tan = backend.to_numpy(val), backend.to_numpy(tan)
    np.testing.assert_allclose(val, [np.inf, np.linalg.cond(a[1], p), np.inf])
    assert np.isnan(tan[[0, 2]]).all() and np.isfinite(tan[1])
    gv = backend.to_numpy(_quiet(ft.vmap(ft.grad(lambda m: fnp.linalg.cond(m, p))), x))
    assert np.isnan(gv[[0, 2]]).all()
    np.testing.assert_allclose(gv[1], g[1], rtol=1e-12)
