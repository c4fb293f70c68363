"""Session 48, helper stats48: F's log density below one degree of freedom, and the
distributions' slopes at x = +-inf.

Pins:
- f.logpdf's slopes where one degree of freedom is below 1 and the other large: the terms
  of the other's slope cancelled (~its size eps relative): ``grad(f.logpdf, 1)(2., 1e5,
  .5)`` was 8.4e-12 off, at (6e-10, 2.9e14, 1e-21) -2.2e-44 for 6.2e-51 (mpmath); now
  ``lgamma(b + a) - lgamma(b) - a log b`` by incomplete_grads._lgamma_diff_log and the sum's
  b-free parts (_F._logpdf_small_far). Its value near 0: ``f.logpdf(1e-200, 2., 1e-20)`` was
  5.7e-14, true -2.0e-180.
- slopes at x = +-inf: where the value is held there (pdf, cdf, sf, ...) 0 in every
  parameter (were nan in the scale for every distribution, in x and loc for norm/t/cauchy
  pdf, in dfd for f.pdf); a power-law log density's limits (t, F, Cauchy: ``c / scale`` in
  the scale; t's df slope -inf), and t.logpdf far out (z * z overflowed: -inf at 1e200).
"""
import numpy as np

import functrans as ft
from functrans.scipy import stats

_G3 = (0, 1, 2)


def test_f_logpdf_large_df_beside_small():
    """The large df's slope beside a df below 1 (mpmath, 80 digits), both sides; eager,
    jit, vmap (its members' single-call bits), second order, torch, float32."""
    g = ft.grad(stats.f.logpdf, argnums=_G3)
    v = g(2.0, 1e5, 0.5)
    np.testing.assert_allclose(float(v[1]), 2.3437552082654614525e-11, rtol=2e-15)
    np.testing.assert_allclose(float(v[2]), 1.3240016208534231, rtol=2e-15)
    w = g(6.036353977631704e-10, 287512967987989.9, 1.019219253164078e-21)
    np.testing.assert_allclose(float(w[1]), 6.1562312554604685649e-51, rtol=1e-13)
    m = ft.grad(stats.f.logpdf, argnums=2)(2.0, 0.5, 1e5)  # (the mirror: dfd large)
    np.testing.assert_allclose(float(m), 1.8750145831380215521e-11, rtol=2e-15)
    j = ft.jit(g)(*(np.float64(t) for t in (2.0, 1e5, 0.5)))
    assert [float(t) for t in j] == [float(t) for t in v]
    b = ft.vmap(g)(np.array([2.0, 3.0]), np.array([1e5, 4.0]), np.array([0.5, 7.0]))
    assert [float(t[0]) for t in b] == [float(t) for t in v]
    h = np.array(ft.hessian(stats.f.logpdf, argnums=_G3)(2.0, 1e5, 0.5), dtype=float)
    np.testing.assert_allclose(h[1, 1], -4.6875156247285116895e-16, rtol=1e-12)
    np.testing.assert_allclose(h[1, 2], 4.3749895831653646706e-11, rtol=1e-12)
    import torch
    tv = g(*(torch.tensor(t, dtype=torch.float64) for t in (2.0, 1e5, 0.5)))
    assert float(tv[1]) == float(v[1])
    f32 = g(np.float32(2.0), np.float32(1e5), np.float32(0.5))
    assert f32[1].dtype == np.float32


def test_f_logpdf_value_near_zero():
    """At dfn = 2 the log density is -(1 + dfd/2) log1p(2 x / dfd): near 0 for a tiny x
    (mpmath, 400 digits: -2.0000000000000001e-180); the slopes as before (mpmath)."""
    assert abs(float(stats.f.logpdf(1e-200, 2.0, 1e-20)) / -2e-180 - 1.0) < 1e-14
    v = ft.grad(stats.f.logpdf, argnums=_G3)(1e-200, 2.0, 1e-20)
    np.testing.assert_allclose([float(t) for t in v], [-2e20, -206.38608477918414, 2e-160],
                               rtol=1e-14)


def test_slopes_at_infinity():
    """Held values: 0 in every parameter; power-law log densities: their limits (mpmath:
    the scale slope at x = 1e300 is dfd / (2 scale), Cauchy's 1 / scale)."""
    f = ft.grad(stats.f.pdf, argnums=_G3)(np.inf, 3.0, 4.0)
    assert [float(t) for t in f] == [0.0, 0.0, 0.0]
    s = ft.grad(lambda x, sc: stats.f.logpdf(x, 3.0, 4.0, scale=sc), argnums=(0, 1))
    assert [float(t) for t in s(np.inf, 2.0)] == [0.0, 1.0]
    assert [float(t) for t in ft.jit(s)(np.float64(np.inf), np.float64(2.0))] == [0.0, 1.0]
    t = ft.grad(lambda x, d, sc: stats.t.logpdf(x, d, scale=sc), argnums=(0, 1, 2))
    assert [float(u) for u in t(-np.inf, 3.0, 2.0)] == [0.0, -np.inf, 1.5]
    c = ft.grad(lambda x, sc: stats.cauchy.logpdf(x, 0.0, sc), argnums=(0, 1))(-np.inf, 2.0)
    assert [float(u) for u in c] == [0.0, 0.5]
    # (expon.logpdf beyond its support, -inf there: -1 / scale from -log(scale), as at a
    # finite x below loc)
    for d, x, ds in ((stats.norm.pdf, np.inf, 0.0), (stats.logistic.cdf, -np.inf, 0.0),
                     (stats.gumbel_r.sf, -np.inf, 0.0), (stats.expon.logpdf, -np.inf, -1 / 1.5)):
        g = ft.grad(d, argnums=_G3)(x, 0.0, 1.5)
        assert [float(u) for u in g] == [0.0, 0.0, ds], d
    # (a batch with ordinary points: theirs unchanged)
    b = ft.vmap(ft.grad(stats.t.cdf, argnums=(0, 1)))(np.array([np.inf, 0.7]),
                                                      np.array([3.0, 3.0]))
    assert float(b[0][0]) == 0.0
    assert float(b[0][1]) == float(ft.grad(stats.t.cdf)(0.7, 3.0))


def test_t_logpdf_far_out():
    """z * z overflowed: t.logpdf(1e200, 3) was -inf (SciPy's too), its scale slope 0 (mpmath:
    -1840.8717386675238, df slope -459.27456527391514, scale slope 1.5 at scale 2)."""
    np.testing.assert_allclose(float(stats.t.logpdf(1e200, 3.0)), -1840.8717386675238,
                               rtol=1e-15)
    v = ft.grad(stats.t.logpdf, argnums=(0, 1))(1e200, 3.0)
    np.testing.assert_allclose(float(v[1]), -459.27456527391514, rtol=1e-14)
    s = ft.grad(lambda sc: stats.t.logpdf(1e200, 3.0, scale=sc))(2.0)
    np.testing.assert_allclose(float(s), 1.5, rtol=1e-15)
