"""Session 49, helper stats49: the distributions' slopes at x = +-inf, and their cost.

Pins:
- the cost of session 48's holds at x = +-inf under jit: the held mask once per call from
  ``stop_gradient(x)`` (``isinf`` where both ends hold alike), the operands held by one
  select each, the power-law scale term only where the scale carries a derivative:
  jit(vmap(grad)) of t.logpdf 147 -> 129 equations (base48, before the holds: 99),
  cauchy.logpdf 83 -> 66 (52).
- the power-law log density's scale slope at x = +-inf is ``(power - 1) / scale`` given as
  such (t: ``df``, F: ``dfd / 2``): ``df + 1 - 1`` was 0 below eps.
- logcdf at -inf and logsf at +inf, where they are -inf at an infinite end: the limits of
  the slopes from the distribution's tail (were 0 in x and loc, nan in the scale, 0 in the
  shapes; gamma's x slope 0 for -1 / scale). mpmath (60 digits) at x = -+1e300 / 1e30:
  t's scale slope df / scale, df slope -690.2 (-> -inf), gamma's x slope -1 / scale.
"""
import numpy as np

import functrans as ft
from functrans.scipy import stats

_G3, _G4 = (0, 1, 2), (0, 1, 2, 3)


def _slopes(g, *args):
    return [float(t) for t in g(*args)]


def test_held_at_infinity_cost():
    """Equations of jit(vmap(grad)) on ordinary points (the holds cost every traced operand
    two equations and the mask nine in session 48)."""
    x, d = np.linspace(-3.0, 3.0, 8), np.linspace(1.0, 9.0, 8)

    def count(f):
        return len(ft.make_jaxpr(ft.vmap(ft.grad(f, argnums=(0, 1))))(x, d).jaxpr.eqns)

    # (136 from session 50: t's log density with the scale's slope in two terms of its own
    # size, test_s50_stats50; 188 from session 51: its near form's series, the df slope at
    # a large df, test_s51_stats51)
    assert count(lambda x, d: stats.t.logpdf(x, d)) <= 188
    assert count(lambda x, s: stats.cauchy.logpdf(x, 0.0, s)) <= 66


def test_power_tail_scale_slope_at_tiny_df():
    """``df / scale`` (t) and ``dfd / (2 scale)`` (F) at x = inf: were 0 at df = 1e-20."""
    t = ft.grad(lambda s: stats.t.logpdf(np.inf, 1e-20, scale=s))(0.7)
    assert abs(float(t) / (1e-20 / 0.7) - 1.0) < 1e-15
    f = ft.grad(lambda s: stats.f.logpdf(np.inf, 3.0, 1e-20, scale=s))(0.7)
    assert abs(float(f) / (0.5e-20 / 0.7) - 1.0) < 1e-15


def test_log_tails_at_infinity():
    """(x, loc, scale, shape) slopes at the infinite end where the log method is -inf: the
    limits (mpmath at +-1e300: t 4.2857 = 3 / 0.7 in the scale; gamma -1 / 0.7 in x); eager,
    jit, vmap beside an ordinary point (its bits unchanged), torch."""
    inf = np.inf
    s = 0.7
    cases = [
        (lambda x, l, sc, d: stats.t.logcdf(x, d, l, sc), -inf, 3.0, [0, 0, 3.0 / s, -inf]),
        (lambda x, l, sc, d: stats.t.logsf(x, d, l, sc), inf, 3.0, [0, 0, 3.0 / s, -inf]),
        (lambda x, l, sc, d: stats.gamma.logsf(x, d, l, sc), inf, 2.5, [-1 / s, 1 / s, inf, inf]),
        (lambda x, l, sc, d: stats.chi2.logsf(x, d, l, sc), inf, 3.0,
         [-0.5 / s, 0.5 / s, inf, inf]),
        (lambda x, l, sc, d: stats.pareto.logsf(x, d, l, sc), inf, 2.5, [0, 0, 2.5 / s, -inf]),
        (lambda x, l, sc, d: stats.lognorm.logsf(x, d, l, sc), inf, 0.7, [0, 0, inf, inf]),
        (lambda x, l, sc, d: stats.weibull_min.logsf(x, d, l, sc), inf, 0.5, [0, 0, inf, -inf]),
        (lambda x, l, sc, d: stats.weibull_min.logsf(x, d, l, sc), inf, 1.0,
         [-1 / s, 1 / s, inf, -inf]),
        (lambda x, l, sc, d: stats.gennorm.logcdf(x, d, l, sc), -inf, 2.0, [inf, -inf, inf, -inf]),
    ]
    for f, x, d, want in cases:
        g = ft.grad(f, argnums=_G4)
        got = _slopes(g, x, 0.3, s, d)
        np.testing.assert_allclose(got, want, rtol=1e-15, atol=0, err_msg=str(want))
        assert _slopes(ft.jit(g), *(np.float64(a) for a in (x, 0.3, s, d))) == got
    c = ft.grad(lambda x, l, sc: stats.cauchy.logcdf(x, l, sc), argnums=_G3)
    np.testing.assert_allclose(_slopes(c, -inf, 0.3, s), [0, 0, 1 / s], rtol=1e-15)
    c = ft.grad(lambda x, l, sc: stats.cauchy.logsf(x, l, sc), argnums=_G3)
    np.testing.assert_allclose(_slopes(c, inf, 0.3, s), [0, 0, 1 / s], rtol=1e-15)
    # (a batch: each member's single-call bits; torch's as NumPy's)
    g = ft.grad(lambda x, l, sc, d: stats.t.logcdf(x, d, l, sc), argnums=_G4)
    b = ft.jit(ft.vmap(g))(np.array([-inf, -1.7]), np.full(2, 0.3), np.full(2, s),
                           np.full(2, 3.0))
    assert [float(t[0]) for t in b] == _slopes(g, -inf, 0.3, s, 3.0)
    assert [float(t[1]) for t in b] == _slopes(g, -1.7, 0.3, s, 3.0)
    import torch
    tt = _slopes(g, *(torch.tensor(a, dtype=torch.float64) for a in (-inf, 0.3, s, 3.0)))
    assert tt == _slopes(g, -inf, 0.3, s, 3.0)
