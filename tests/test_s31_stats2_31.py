"""Session 31, helper stats2_31: derivatives of the shaped distributions' cdf / sf / logcdf /
logsf at a finite end of the support (the one-sided derivative from inside: the density
there), and truncnorm's normalization for a narrow interval ending at or near 0."""

import math

import numpy as np
import pytest
import scipy.stats as ss

import functrans as ft
import functrans.scipy.stats as fst

# (name, shapes, support end in x, which end); loc 0, scale 1
ENDS = [
    ("gamma", (1.0,), 0.0, "lo"),
    ("gamma", (2.0,), 0.0, "lo"),  # pdf(0) = 0
    ("pareto", (2.0,), 1.0, "lo"),
    ("beta", (1.0, 3.0), 0.0, "lo"),
    ("beta", (3.0, 1.0), 1.0, "hi"),
    ("weibull_min", (1.0,), 0.0, "lo"),
    ("chi2", (2.0,), 0.0, "lo"),
    ("truncnorm", (-1.0, 2.0), -1.0, "lo"),
    ("truncnorm", (-1.0, 2.0), 2.0, "hi"),
]


@pytest.mark.parametrize("name,shapes,end,side", ENDS)
def test_end_derivative_is_the_density(name, shapes, end, side):
    d = getattr(fst, name)
    p = getattr(ss, name).pdf(end, *shapes)  # SciPy's density at the end
    # the one-sided difference quotient from inside agrees with the density
    h = 1e-7
    inner = end + h if side == "lo" else end - h
    fd = (float(d.cdf(inner, *shapes)) - float(d.cdf(end, *shapes))) / (inner - end)
    assert fd == pytest.approx(p, rel=1e-5, abs=1e-6)
    want = {"cdf": p, "sf": -p,
            "logcdf": math.inf if side == "lo" else p,
            "logsf": -p if side == "lo" else -math.inf}
    for m, w in want.items():
        f = getattr(d, m)
        for g in (ft.grad(f)(end, *shapes), ft.jacfwd(f)(end, *shapes),
                  ft.jacrev(f)(end, *shapes)):
            assert float(g) == pytest.approx(w, rel=1e-12, abs=1e-300), (m, g)
        # the values stay SciPy's
        assert float(f(end, *shapes)) == getattr(ss, name).__getattribute__(m)(end, *shapes)


def test_end_derivative_matches_expon_and_density_values():
    # gamma with a = 1 is expon: the same derivatives at 0 (gamma's was 0, expon's 1)
    for m in ("cdf", "sf", "logcdf", "logsf"):
        assert float(ft.grad(getattr(fst.gamma, m))(0.0, 1.0)) == \
            float(ft.grad(getattr(fst.expon, m))(0.0))
    # loc and scale: d/dloc = -pdf, with the density in x units
    g = ft.grad(fst.gamma.cdf, argnums=(0, 2, 3))(2.0, 1.0, 2.0, 4.0)
    assert [float(v) for v in g] == pytest.approx([0.25, -0.25, 0.0])
    # the density at the ends: SciPy's values
    assert float(fst.gamma.pdf(0.0, 1.0)) == 1.0
    assert float(fst.beta.pdf(0.0, 1.0, 3.0)) == pytest.approx(3.0, rel=1e-15)
    assert float(fst.pareto.pdf(1.0, 2.0)) == 2.0


def test_end_derivative_beyond_and_batched():
    x = np.array([-1.0, 0.0, 0.5, 1.0, 2.0])
    a, b = np.full(5, 1.0), np.full(5, 3.0)
    want = np.where((x >= 0) & (x < 1), ss.beta.pdf(x, 1.0, 3.0), 0.0)  # pdf(1) = 0
    got = ft.jit(ft.vmap(ft.grad(fst.beta.cdf)))(x, a, b)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    got = ft.vmap(ft.grad(fst.beta.sf))(x, a, b)
    np.testing.assert_allclose(got, -want, rtol=1e-12)


def test_truncnorm_end_derivative_in_the_bounds():
    # cdf(x = a; a, b) is 0; lowering a brings x inside: d/da = -pdf(a) (one-sided)
    a, b = -1.0, 2.0
    p = ss.truncnorm.pdf(a, a, b)
    h = 1e-7
    fd = float(fst.truncnorm.cdf(a, a - h, b)) / -h
    assert fd == pytest.approx(-p, rel=1e-5)
    for jac in (ft.jacfwd, ft.jacrev):
        g = jac(fst.truncnorm.cdf, argnums=(0, 1, 2))(a, a, b)
        assert [float(v) for v in g] == pytest.approx([p, -p, 0.0], rel=1e-12, abs=0)


# truncnorm near 0. References from mpmath (60 digits) of the formulas
# cdf = (Phi(x) - Phi(a)) / (Phi(b) - Phi(a)), ppf = Phi^-1(Phi(a) + q (Phi(b) - Phi(a))),
# at the float inputs exactly.
def _mp_truncnorm():
    mp = pytest.importorskip("mpmath")
    ctx = mp.mp.clone() if hasattr(mp.mp, "clone") else mp.mp
    ctx.dps = 60

    def cdf(x, a, b):
        x, a, b = ctx.mpf(x), ctx.mpf(a), ctx.mpf(b)
        return (ctx.ncdf(x) - ctx.ncdf(a)) / (ctx.ncdf(b) - ctx.ncdf(a))

    def ppf(q, a, b):
        q, a, b = ctx.mpf(q), ctx.mpf(a), ctx.mpf(b)
        t = ctx.ncdf(a) + q * (ctx.ncdf(b) - ctx.ncdf(a))
        return ctx.sqrt(2) * ctx.erfinv(2 * t - 1)

    return ctx, cdf, ppf


@pytest.mark.parametrize("q,a,b", [
    (1 - 1e-15, -1.0, 0.0),   # was -8.349e-16 (true -8.5494e-16)
    (1e-15, 0.0, 1.0),
    (0.5, -1e-3, 0.0), (0.3, -1.0, 1.0), (1 - 1e-12, -2.0, 1e-9), (0.9, -0.5, 3.0)])
def test_truncnorm_ppf_isf_near_zero(q, a, b):
    ctx, _, ppf = _mp_truncnorm()
    want = float(ppf(q, a, b))
    assert float(fst.truncnorm.ppf(q, a, b)) == pytest.approx(want, rel=1e-13, abs=0)
    # isf(q, a, b) = ppf(1 - q, a, b): -ppf(q, -b, -a) by symmetry
    want_i = -float(ppf(q, -b, -a))
    assert float(fst.truncnorm.isf(q, a, b)) == pytest.approx(want_i, rel=1e-13, abs=0)


@pytest.mark.parametrize("x,a,b", [
    (0.0, -1e-8, 1e-8),              # was 0.4999999965 (true 0.5)
    (-0.99999999999999, -1.0, 0.0),  # was 1% off
    (-0.0005, -1e-3, 0.0), (-5e-13, -1e-12, 0.0), (-1e-9, -1.0, 0.0),
    (9e-9, -1e-8, 1e-8), (0.999999999, 0.0, 1.0), (-3.0, -3.1, -2.9),
    (1.0, 0.9, 1.2), (-1.99999999999998, -2.0, -1e-3)])
def test_truncnorm_cdf_sf_narrow_intervals(x, a, b):
    ctx, cdf, _ = _mp_truncnorm()
    c = cdf(x, a, b)
    assert float(fst.truncnorm.cdf(x, a, b)) == pytest.approx(float(c), rel=1e-12, abs=0)
    assert float(fst.truncnorm.sf(x, a, b)) == pytest.approx(float(1 - c), rel=1e-12, abs=0)


def test_truncnorm_narrow_interval_derivatives():
    # d/da, d/db and d2/da2 of logpdf = -x^2/2 - log sqrt(2 pi) - log(Phi(b) - Phi(a))
    ctx, _, _ = _mp_truncnorm()
    for x, a, b in [(-0.0005, -1e-3, 0.0), (0.0, -1e-8, 1e-8), (-3.0, -3.1, -2.9)]:
        def f(a_, b_):
            return -ctx.log(ctx.ncdf(b_) - ctx.ncdf(a_))
        A, B = ctx.mpf(a), ctx.mpf(b)
        g = ft.grad(fst.truncnorm.logpdf, argnums=(1, 2))(x, a, b)
        assert float(g[0]) == pytest.approx(float(ctx.diff(lambda t: f(t, B), A)), rel=1e-9)
        assert float(g[1]) == pytest.approx(float(ctx.diff(lambda t: f(A, t), B)), rel=1e-9)
        h = ft.hessian(fst.truncnorm.logpdf, argnums=1)(x, a, b)
        assert float(h) == pytest.approx(float(ctx.diff(lambda t: f(t, B), A, 2)), rel=1e-7)
