"""polyfit(..., full=True) under jit and vmap of a traced x (or w): the rank is then no value,
so NumPy's residuals (there only where the rank is full) would have no known shape; they
are jax.numpy's instead (the squared residual norms whatever the rank), equal to NumPy's for
a full-rank fit. Outside transforms, and where the rank is a value, NumPy's as before.
"""

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp

X = np.linspace(-1.0, 2.0, 7)
Y = np.stack([X ** 2 - 0.5 * X + 0.1 * np.sin(3 * X), np.cos(X)], axis=1)  # (7, 2)


def _check_full(backend, got, ref):
    c, r, rank, s, rcond = got
    rc, rr, rrank, rs, rrcond = ref
    np.testing.assert_allclose(backend.to_numpy(c), rc, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(backend.to_numpy(r), rr, rtol=1e-9, atol=1e-20)
    assert int(backend.to_numpy(rank)) == int(rrank)
    np.testing.assert_allclose(backend.to_numpy(s), rs, rtol=1e-12)
    rcond = rcond if isinstance(rcond, float) else float(backend.to_numpy(rcond))
    np.testing.assert_allclose(rcond, rrcond)


@pytest.mark.parametrize("ycols", [1, 2])
def test_polyfit_full_under_jit_and_vmap(backend, ycols):
    y = Y[:, 0] if ycols == 1 else Y
    ref = np.polyfit(X, y, 2, full=True)
    xb, yb = backend.asarray(X), backend.asarray(y)
    _check_full(backend, fnp.polyfit(xb, yb, 2, full=True), ref)
    _check_full(backend, ft.jit(lambda a, b: fnp.polyfit(a, b, 2, full=True))(xb, yb), ref)
    xs = np.stack([X, 2.0 * X + 1.0])
    outs = ft.vmap(lambda a: fnp.polyfit(a, yb, 2, full=True))(backend.asarray(xs))
    for i in range(2):
        refi = np.polyfit(xs[i], y, 2, full=True)
        c, r, rank, s = (backend.to_numpy(o)[i] for o in outs[:4])
        np.testing.assert_allclose(c, refi[0], rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(r, refi[1], rtol=1e-8, atol=1e-20)
        assert int(rank) == int(refi[2])
        np.testing.assert_allclose(s, refi[3], rtol=1e-12)


def test_polyfit_full_traced_weights(backend):
    w = np.linspace(0.5, 1.5, 7)
    ref = np.polyfit(X, Y[:, 0], 3, full=True, w=w)
    out = ft.jit(lambda ww: fnp.polyfit(backend.asarray(X), backend.asarray(Y[:, 0]), 3,
                                        full=True, w=ww))(backend.asarray(w))
    _check_full(backend, out, ref)


def test_rank_deficient_numpy_outside_jax_inside():
    x = np.array([0.0, 0.0, 1.0, 1.0, 1.0])  # two distinct points: rank 2 of 3
    y = np.array([1.0, 2.0, 0.0, 1.0, 3.0])
    with np.errstate(all="ignore"):
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = np.polyfit(x, y, 2, full=True)
    got = fnp.polyfit(x, y, 2, full=True)
    assert np.asarray(got[1]).shape == ref[1].shape == (0,)
    assert int(got[2]) == int(ref[2]) == 2
    c, r, rank, s, _ = ft.jit(lambda a: fnp.polyfit(a, y, 2, full=True))(x)
    assert int(rank) == 2
    # jax.numpy's residuals: the squared norm of y - p(x) for the minimum-norm fit
    np.testing.assert_allclose(np.asarray(r), [np.sum((y - np.polyval(np.asarray(c), x)) ** 2)],
                               rtol=1e-9)


def test_polyfit_full_derivative_in_x_under_jit():
    def f(a):
        c, r, *_ = fnp.polyfit(a, Y[:, 0], 2, full=True)
        return fnp.sum(r) + fnp.sum(c)
    g_eager = ft.grad(f)(X)
    g_jit = ft.jit(ft.grad(f))(X)
    np.testing.assert_allclose(np.asarray(g_jit), np.asarray(g_eager), rtol=1e-9, atol=1e-12)
