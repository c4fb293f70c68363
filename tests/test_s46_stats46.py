"""Session 46, helper stats46: the F and t distributions' derivatives and betainc's shape
slopes in a batch.

Pins:
- betainc's shape slopes (incomplete_grads.betainc_dab): a batch gives its members'
  single-call bits (the series and fractions kept each element's sums from the check at
  which it converged; _shift_sum's shifts added in one order): vmap(grad(betainc)) over
  (1.5, 2, 0.6) with (5e8, 5e11, ~1e-3) gave -0.19395327304503815, alone ...508983.
- f.logpdf below one degree of freedom: -betaln's pole at the smaller df taken with the other
  quotient's logarithm: the dfn slope at (1e200, 1e-20, 2) was -16384, true 2.0e-160.
- f.logpdf at x = inf: the limit -inf (SciPy: nan) and the slopes' limits (were nan).
- jit(hessian(t.cdf)) at df 1e20: the plain form's discarded derivative work at the real
  operands ran betainc's shape slopes to their step limit (4-13 s); now a stand-in there.
- f.cdf's dfn slope at a huge dfn (a strict xfail until session 47: ~dfn eps).
"""
import time

import numpy as np

import functrans as ft
from functrans.scipy import special as fsp
from functrans.scipy import stats

_G3 = (0, 1, 2)


def test_betainc_shape_slopes_batch_is_single():
    """A batch's members get their single-call bits, first and second order (numpy)."""
    a, b = np.array([1.5, 5e8]), np.array([2.0, 5e11])
    x = np.array([0.6, 1e9 / (1e9 + 1e12)])
    g = ft.vmap(ft.grad(fsp.betainc, argnums=(0, 1)))(a, b, x)
    one = ft.grad(fsp.betainc, argnums=(0, 1))(a[0], b[0], x[0])
    assert float(g[0][0]) == float(one[0]) and float(g[1][0]) == float(one[1])
    # (mpmath, 60 digits: -0.19395327304508994)
    np.testing.assert_allclose(float(one[0]), -0.19395327304508994, rtol=1e-13)
    # (second order: _shift_sum's terms in one order; an ordinary batch, 2.9e-17 apart before)
    a, b, x = np.array([1.5, 3.0]), np.array([2.0, 4.0]), np.array([0.6, 0.3])
    h = ft.vmap(ft.hessian(fsp.betainc, argnums=0))(a, b, x)
    assert float(h[0]) == float(ft.hessian(fsp.betainc, argnums=0)(a[0], b[0], x[0]))


def test_f_logpdf_dfn_slope_tiny_dfn_huge_x():
    """The dfn slope at (1e200, 1e-20, 2): -betaln's 1/n and hm log w's -hm u/n cancelled
    to -16384; true 2/(n^2 x) - ... = 2.0000000000000003e-160 (mpmath, 500 digits); its
    second derivative -4.0e-140; eager and jit."""
    pt = (1e200, 1e-20, 2.0)
    for fn in (ft.grad(stats.f.logpdf, argnums=_G3),
               ft.jit(ft.grad(stats.f.logpdf, argnums=_G3))):
        g = fn(*(np.float64(v) for v in pt))
        np.testing.assert_allclose(float(g[1]), 2.0000000000000003e-160, rtol=1e-13)
        np.testing.assert_allclose(float(g[2]), -206.38608477918413, rtol=1e-13)
    h = np.array(ft.hessian(stats.f.logpdf, argnums=_G3)(*pt), dtype=float)
    np.testing.assert_allclose(h[1, 1], -4.000000000000001e-140, rtol=1e-13)
    # (a small dfd: the pole taken with u's logarithm; mpmath, 300 digits)
    g = ft.grad(stats.f.logpdf, argnums=_G3)(7.0, 2.0, 1e-20)
    np.testing.assert_allclose(float(g[1]), 1.612335167120566e-21, rtol=1e-13)
    np.testing.assert_allclose(float(g[2]), 1.0000000000000001e+20, rtol=1e-13)


def test_f_logpdf_at_infinite_x():
    """At x = inf the limits: value -inf (SciPy: nan), slopes 0 in x, -inf in dfd and in dfn
    -m/(2n) - (psi(n/2) - psi((n+m)/2))/2 (mpmath); were nan. A batch with an ordinary
    point keeps its slopes."""
    g = ft.grad(stats.f.logpdf, argnums=_G3)
    assert float(stats.f.logpdf(np.inf, 3.0, 4.0)) == -np.inf
    for fn in (g, ft.jit(g)):
        v = [float(t) for t in fn(np.float64(np.inf), np.float64(3.0), np.float64(4.0))]
        assert v[0] == 0.0 and v[2] == -np.inf
        np.testing.assert_allclose(v[1], -2.0 / 15.0, rtol=1e-14)
    # (a tiny dfd: the digamma difference of its relative precision, eagerly; staged the
    # shared betaln's, -1.7e-21)
    v = g(np.inf, 3.0, 1e-20)
    np.testing.assert_allclose(float(v[1]), 6.7033883469503161e-22, rtol=1e-13)
    x, n, m = np.array([1.5, np.inf]), np.array([3.0, 3.0]), np.array([4.0, 4.0])
    b = ft.vmap(g)(x, n, m)
    one = g(1.5, 3.0, 4.0)
    assert [float(t[0]) for t in b] == [float(t) for t in one]


def test_t_cdf_jit_hessian_huge_df():
    """Under jit at df 1e20 (values unknown when traced), the same entries as eager, without
    betainc's shape slopes at df/2 = 5e19 run to their step limit (4-13 s before)."""
    pt = (np.float64(-8.0), np.float64(1e20))
    t0 = time.process_time()
    hj = np.array(ft.jit(ft.hessian(stats.t.cdf, argnums=(0, 1)))(*pt), dtype=float)
    assert time.process_time() - t0 < 2.5
    he = np.array(ft.hessian(stats.t.cdf, argnums=(0, 1))(-8.0, 1e20), dtype=float)
    np.testing.assert_array_equal(hj, he)
    np.testing.assert_allclose(he[0, 1], -5.01058985e-52, rtol=1e-8)


def test_f_cdf_dfn_slope_huge_dfn():
    """(A strict xfail until session 47: f_huge_fix's series; mpmath -8.0600765885701899e-33.)"""
    g = ft.grad(stats.f.cdf, argnums=1)(0.5, 1e16, 17.0)
    np.testing.assert_allclose(float(g), -8.0600765885701899e-33, rtol=1e-13)
