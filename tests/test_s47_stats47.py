"""Session 47, helper stats47: F's cdf at one huge degree of freedom.

Pins:
- f.cdf's (f.sf's, fdtr's) slopes where one degree of freedom is huge come from the series in
  the gamma limit (the primitive f_huge_fix): the dfn slope at (0.5, 1e16, 17) was +1.26e-31
  (betainc's shape slope and the quotient's cancelled, ~25 dfn eps), true -8.06e-33
  (mpmath); at dfn 1e300 the slopes were nan after 1.3 s (betainc's shape slopes at their
  step limit).
"""
import time

import numpy as np

import functrans as ft
from functrans.scipy import special as fsp
from functrans.scipy import stats

_G3 = (0, 1, 2)


def test_f_cdf_dfn_slope_huge_dfn():
    """The dfn slope across dfn 1e6..1e16 (mpmath, 2 log10(n) + 60 digits, diff of
    betainc), and the mirrored dfd slope; eager, jit, vmap (a batch gives its members'
    values), sf and fdtr, float32 in -> float32 out."""
    g = ft.grad(stats.f.cdf, argnums=_G3)
    ref = {1e16: -8.0600765885701899e-33, 1e6: -8.0604227058511031e-13}
    for n, want in ref.items():
        v = g(0.5, n, 17.0)
        np.testing.assert_allclose(float(v[1]), want, rtol=4e-13)
    v = g(0.5, 1e16, 17.0)
    np.testing.assert_allclose(float(v[0]), 0.16968582291726751, rtol=1e-13)
    # (the plain form's, as before, between 2^40 and 1e17: 1e-12)
    np.testing.assert_allclose(float(v[2]), -0.001463684991387213, rtol=3e-12)
    j = ft.jit(g)(*(np.float64(t) for t in (0.5, 1e16, 17.0)))
    assert [float(t) for t in j] == [float(t) for t in v]
    b = ft.vmap(g)(np.array([0.5, 1.5]), np.array([1e16, 3.0]), np.array([17.0, 4.0]))
    assert [float(t[0]) for t in b] == [float(t) for t in v]
    assert [float(t[1]) for t in b] == [float(t) for t in g(1.5, 3.0, 4.0)]
    # (dfd huge: the mirror, cdf(2; 17, 1e16) = sf(0.5; 1e16, 17))
    w = g(2.0, 17.0, 1e16)
    np.testing.assert_allclose(float(w[2]), 8.0600765885701899e-33, rtol=1e-13)
    s = ft.grad(stats.f.sf, argnums=1)(0.5, 1e16, 17.0)
    np.testing.assert_allclose(float(s), 8.0600765885701899e-33, rtol=1e-13)
    d = ft.grad(fsp.fdtr, argnums=0)(1e16, 17.0, 0.5)
    np.testing.assert_allclose(float(d), -8.0600765885701899e-33, rtol=1e-13)
    f32 = g(np.float32(0.5), np.float32(1e16), np.float32(17.0))
    assert f32[1].dtype == np.float32
    np.testing.assert_allclose(float(f32[1]), -8.06007659e-33, rtol=1e-6)


def test_f_cdf_hessian_huge_dfn():
    """Second order: d2/ddfn2 ~ -2 C / n^3 (C = -0.806007..., the n^2 slope), symmetric."""
    h = np.array(ft.hessian(stats.f.cdf, argnums=_G3)(0.5, 1e16, 17.0), dtype=float)
    np.testing.assert_allclose(h[1, 1], 1.6120153177140380e-48, rtol=1e-8)
    assert h[0, 1] == h[1, 0] and h[1, 2] == h[2, 1]


def test_f_cdf_slopes_dfn_1e300():
    """At dfn 1e300 the dfn slope underflows (true -1.36e-609, mpmath): 0; the others from
    the gamma limit (mpmath), fast (were (2.3e-10, nan, nan) after 1.3 s at (0.18, 1e300,
    17.07))."""
    g = ft.grad(stats.f.cdf, argnums=_G3)
    t0 = time.process_time()
    v = g(0.18, 1e300, 17.07)
    assert time.process_time() - t0 < 1.0
    assert float(v[1]) == 0.0
    np.testing.assert_allclose(float(v[0]), 1.8930270325770567e-10, rtol=1e-13)
    np.testing.assert_allclose(float(v[2]), -1.231153671069029e-12, rtol=1e-13)
    v = g(0.5, 1e300, 17.0)
    np.testing.assert_allclose(float(v[0]), 0.16968582291726643, rtol=1e-14)
    np.testing.assert_allclose(float(v[2]), -0.0014636849913872073, rtol=1e-13)
