"""Session 37, helper beta37: beta and betaln beside the pole 0 of an argument. The
exp(log|B|) form's second derivatives cancelled there to about eps/|a| of their size (the
pole's 1/a has no mixed slope, but B (L_a L_b + L_ab) formed it from terms of size 1/a), and
betaln's slope in the other argument, psi(x) - psi(x + e), lost eps/e. Now the pole's partial
fraction plus a smooth rest whose integrals are taken by Gauss-Legendre rules.

References: mpmath at 100 digits at the exact binary inputs: B = Gamma(a) Gamma(b) /
Gamma(a + b), L = log|B|, L_a = psi(a) - psi(a + b), L_ab = -psi'(a + b), L_aa = psi'(a) -
psi'(a + b), B_ij = B (L_i L_j + L_ij).
"""
import numpy as np
import pytest

import functrans as ft
import functrans.scipy.special as fsp


def _ours(fn, a, b, dtype=np.float64):
    """[value, d/da, d/db, d2/da2, d2/dadb, d2/db2] of fn at (a, b)."""
    aa, bb = np.asarray(a, dtype), np.asarray(b, dtype)
    g = ft.grad(fn, (0, 1))(aa, bb)
    h = ft.hessian(fn, (0, 1))(aa, bb)
    return [float(fn(aa, bb)), float(g[0]), float(g[1]), float(h[0][0]), float(h[0][1]),
            float(h[1][1])]


def _reference(a, b):
    """([six of beta], [six of betaln]) by mpmath at 100 digits."""
    mpmath = pytest.importorskip("mpmath")
    with mpmath.workdps(100):
        a, b = mpmath.mpf(float(a)), mpmath.mpf(float(b))
        s = a + b
        B = mpmath.gamma(a) * mpmath.gamma(b) / mpmath.gamma(s)
        ps = mpmath.digamma(s)
        la, lb = mpmath.digamma(a) - ps, mpmath.digamma(b) - ps
        ts = mpmath.psi(1, s)
        laa, lbb, lab = mpmath.psi(1, a) - ts, mpmath.psi(1, b) - ts, -ts
        beta = [B, B * la, B * lb, B * (la * la + laa), B * (la * lb + lab), B * (lb * lb + lbb)]
        betaln = [mpmath.log(abs(B)), la, lb, laa, lab, lbb]
        return [float(x) for x in beta], [float(x) for x in betaln]


# the brief's three (d2/da db beta was -8.2e7, 1.6e18, -131072 for 0.988, 2.40, 27.8), one
# argument tiny beside a positive, a negative, a huge one, both small, and within 1/10 of 0
# (largest relative error before: 1.8e8, 4.7e3, 1.3e10, 7.1e9, 0.06, 1.6e-4, ...)
_POINTS = [(-1e-12, 1.5), (-1e-12, 1e-10), (-3.3, 1e-10), (1e-12, 2.5), (2.5, 1e-12),
           (1e-13, -7.6), (1e-8, 1e-9), (-0.03, 0.08), (1e-12, 1e6), (-2.3, 1e-3),
           (0.3, 1e-12), (1e-6, 0.6), (0.05, 3.7), (-0.03, -2.4), (0.1, 0.1), (0.1, -0.1 + 1e-9), (-0.1, -0.1),
           (-6.398995850742673e-13, -0.07736367704666068), (-7.5e-14, 4.7e-4)]


@pytest.mark.parametrize("point", _POINTS, ids=str)
def test_beta_betaln_beside_zero_vs_mpmath(point):
    want_beta, want_betaln = _reference(*point)
    np.testing.assert_allclose(_ours(fsp.beta, *point), want_beta, rtol=2e-14, atol=0)
    np.testing.assert_allclose(_ours(fsp.betaln, *point), want_betaln, rtol=2e-14, atol=0)


def test_beta_brief_mixed_second_derivatives():
    # the three reported calls, against mpmath's values of B (L_a L_b + L_ab)
    h = ft.hessian(fsp.beta, (0, 1))
    assert abs(float(h(-1e-12, 1.5)[0][1]) / _reference(-1e-12, 1.5)[0][4] - 1) < 1e-13
    assert abs(float(h(-1e-12, 1e-10)[0][1]) / _reference(-1e-12, 1e-10)[0][4] - 1) < 1e-13
    assert abs(float(h(-3.3, 1e-10)[0][1]) / _reference(-3.3, 1e-10)[0][4] - 1) < 1e-13


def test_beta_beside_zero_float32():
    # float32 in and out, to float32's precision
    want = _reference(float(np.float32(-1e-6)), 1.5)[0]
    got = _ours(fsp.beta, -1e-6, 1.5, dtype=np.float32)
    assert fsp.beta(np.float32(-1e-6), np.float32(1.5)).dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=2e-6, atol=0)


def test_beta_beside_zero_jit_vmap_hessian():
    # Staged code keeps the plain forms beside 0 (the lead's decision: the near-zero rules
    # cost 10-40x under jit(vmap(grad)) of betaln and beta.logpdf): away from 0 staged
    # equals eager; beside 0 staged is finite but loses about eps/|a| (left to fix)
    a = np.array([-1e-12, -3.3, 2.5, 0.05, -0.03, 1e-8])
    b = np.array([1.5, 1e-10, 7.0, 3.7, 0.08, 1e-9])
    for fn in (fsp.beta, fsp.betaln):
        eager = np.array([np.array(ft.hessian(fn, (0, 1))(x, y), dtype=float)
                          for x, y in zip(a, b)])
        staged = np.moveaxis(np.array(ft.jit(ft.vmap(ft.hessian(fn, (0, 1))))(a, b),
                                      dtype=float), -1, 0)
        assert np.all(np.isfinite(staged))
        np.testing.assert_allclose(staged[2:4], eager[2:4], rtol=1e-13, atol=0)
        # (both at a few hundredths: the plain forms' mixed slope lost 2e-12 there)
        np.testing.assert_allclose(staged[4], eager[4], rtol=1e-11, atol=0)
        batched = np.moveaxis(np.array(ft.vmap(ft.hessian(fn, (0, 1)))(a, b), dtype=float),
                              -1, 0)
        np.testing.assert_allclose(batched, eager, rtol=1e-15, atol=0)


def test_beside_zero_gate_under_nested_vmap_keeps_batch_axes_apart():
    # a batched by the inner vmap, b by the outer: the arrays behind the tracers have shapes
    # (3,) and (4,), which must not be combined elementwise (they were: a broadcast error)
    a = np.array([-1e-12, 2.5, 0.05])
    b = np.array([1.5, 7.0, 3.7, 1e-10])
    for fn in (fsp.beta, fsp.betaln):
        got = np.array(ft.vmap(ft.vmap(ft.grad(fn, (0, 1)), in_axes=(0, None)),
                               in_axes=(None, 0))(a, b), dtype=float)
        want = np.array([[np.array(ft.grad(fn, (0, 1))(x, y), dtype=float) for x in a]
                         for y in b])
        np.testing.assert_allclose(np.moveaxis(got, 0, -1), want, rtol=1e-15, atol=0)


@pytest.mark.parametrize("point", [(-1e-12, 1.5), (1e-8, 1e-9)], ids=str)
def test_beta_beside_zero_backends(backend, point):
    # the new forms use only the standard (array-api-strict), on every backend
    a, b = backend.asarray(point[0]), backend.asarray(point[1])
    v = fsp.beta(a, b)
    assert backend.is_own(v)
    h = ft.hessian(fsp.beta, (0, 1))(a, b)
    got = [float(backend.to_numpy(h[i][j])) for i in range(2) for j in range(2)]
    want = _reference(*point)[0]
    np.testing.assert_allclose(got, [want[3], want[4], want[4], want[5]], rtol=1e-13, atol=0)


def test_beta_edges_unchanged():
    # the poles and infinities keep SciPy's values (a zero B where a + b = 0 exactly)
    assert float(fsp.beta(-1e-12, 1e-12)) == 0.0
    assert float(fsp.betaln(0.05, -0.05)) == -np.inf
    assert float(fsp.beta(0.0, 0.05)) == np.inf
    assert float(fsp.beta(1e-3, np.inf)) == 0.0
    assert float(fsp.beta(-1e-3, np.inf)) == -np.inf
    assert float(fsp.beta(1e-3, -3.0)) == np.inf
    assert np.isnan(float(fsp.beta(np.nan, 1e-3)))
