"""stats: derivatives in loc and scale at a support end are the one-sided limits from inside
with every other argument held (x -> end from inside; loc, scale and the shapes fixed), as
those in x and the shapes already were (session 35's convention; the scale's were those
with z = (x - loc) / scale held).

Near an end 0 the density is c w^m exp(r w) (w = z - end; m the power, r the slope of the
regular part) over the scale: with u = x - loc the log density is m log u - (m + 1) log
scale + log c + r u / scale + ..., and the log CDF (m + 1) log u - (m + 1) log scale + ... +
(m + 1) / (m + 2) r u / scale. So, x held:
  d/dscale -(m + 1) / scale;  d2/dscale2 (m + 1) / scale^2;  d2/dscale dshape -dm / scale;
  d2/dx dscale -r / scale^2 (logpdf), -(m + 1) / (m + 2) r / scale^2 (logcdf).
z held they were -1/scale, 1/scale^2 and 0 for logpdf, 0, 0, 0 for logcdf. The references
are checked against mpmath's derivatives of the closed forms just inside, at shrinking
distances."""

import math

import numpy as np
import pytest

import functrans as ft
from functrans.scipy import stats
from tests._orders import ORDERS, hess_in_order as _hess

inf = math.inf


def _grad(f, args):
    with np.errstate(all="ignore"):
        return np.array(ft.grad(f, argnums=tuple(range(len(args))))(*args), dtype=float)


def _grad_grad(f, args):
    n = range(len(args))
    with np.errstate(all="ignore"):
        return np.array([[ft.grad(lambda *a: ft.grad(f, argnums=i)(*a), argnums=j)(*args)
                          for j in n] for i in n], dtype=float)


def _jvp_grad(f, args):
    """The Hessian's columns by jvp of the gradient (forward over reverse, one direction at
    a time)."""
    n = len(args)
    g = ft.grad(f, argnums=tuple(range(n)))
    cols = []
    with np.errstate(all="ignore"):
        for j in range(n):
            tangents = tuple(1.0 if i == j else 0.0 for i in range(n))
            cols.append([float(v) for v in ft.jvp(g, tuple(args), tangents)[1]])
    return np.array(cols, dtype=float).T


def _all_orders(f, args):
    """The Hessian in every order (five of tests/_orders.py, grad of grad, jvp of grad)."""
    out = {order: _hess(order, f, args) for order in ORDERS}
    out["grad-grad"] = _grad_grad(f, args)
    out["jvp-grad"] = _jvp_grad(f, args)
    return out


def _assert_hess(got, want, what):
    want = np.array(want, dtype=float)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14, err_msg=what)


# -- the cases of the brief ------------------------------------------------------------------


def test_lognorm_logpdf_x_scale_at_loc():
    # with x held, logpdf = G(t) - log(scale), t = log(x / scale), G' = -1 - t / s^2 -> +inf:
    # d/dscale -(G' + 1) / scale -> -inf, d2/dx dscale (1 / (s^2 x scale)) -> +inf,
    # d2/dscale2 ((G' + 1) + G'') / scale^2 -> +inf (were -1/2, 0 and 1/4: z held)
    f = lambda x, sc: stats.lognorm.logpdf(x, 0.8, 0.0, sc)
    assert _grad(f, (0.0, 2.0)).tolist() == [inf, -inf]
    for order, h in _all_orders(f, (0.0, 2.0)).items():
        assert h.tolist() == [[-inf, inf], [inf, inf]], order


def test_gamma_logpdf_scale_at_zero():
    # a = 1/2 (m = -1/2): d/ds -(m + 1) / s = -1/4 (was -1/2), d2/ds2 (m + 1) / s^2 = 1/8
    # (was 1/4), x-s -r / s^2 = 1/4 (r = -1; unchanged), s-a -1/s = -1/2 (was 0)
    f = lambda x, s, a: stats.gamma.logpdf(x, a, 0.0, s)
    assert _grad(f, (0.0, 2.0, 0.5))[1] == -0.25
    want = [[inf, 0.25, inf], [0.25, 0.125, -0.5], [inf, -0.5, -math.pi ** 2 / 2]]
    for order, h in _all_orders(f, (0.0, 2.0, 0.5)).items():
        _assert_hess(h, want, order)


def test_gamma_logcdf_scale_at_zero():
    # log F = a log(x / s) + ...: d/ds -a/s = -1/4 at a = 1/2 (was 0: test_s33_stats33's
    # test_joint_jacfwd_logcdf_at_zero re-pinned), d2/ds2 a/s^2, s-a -1/s; x-s -(m + 1) /
    # (m + 2) r / s^2 = 1/12
    f = lambda s: stats.gamma.logcdf(0.0, 0.5, 0.0, s)
    for d in (ft.jacfwd, ft.jacrev):
        assert float(d(f)(2.0)) == -0.25
    g = lambda x, s, a: stats.gamma.logcdf(x, a, 0.0, s)
    hs = _all_orders(g, (0.0, 2.0, 0.5))
    for order, h in hs.items():
        assert h[0, 0] == -inf and h[0, 2] == inf and h[2, 0] == inf, order
        _assert_hess(h[1:, 1:][:1], [[0.125, -0.5]], order)
        assert h[0, 1] == pytest.approx(1 / 12, rel=1e-12), order
        assert h[1, 0] == pytest.approx(1 / 12, rel=1e-12), order


# -- a table: logpdf and logcdf at an end 0, in (x, loc, scale, shapes) ------------------------

# (name, function of (x, loc, scale, *shapes), the point, m + 1, the shapes' dm, r for the
# x-scale entry: -r / s^2 for logpdf, -(m + 1) / (m + 2) r / s^2 for logcdf)
def _case(dist, method, shapes):
    d = getattr(stats, dist)
    return lambda x, loc, sc, *sh: getattr(d, method)(x, *sh, loc, sc)


TABLE = [
    # gamma(a): m = a - 1, r = -1
    ("gamma.logpdf a=3", _case("gamma", "logpdf", 1), (3.0,), 3.0, (1.0,), -1.0),
    ("gamma.logcdf a=3", _case("gamma", "logcdf", 1), (3.0,), 3.0, (1.0,), -1.0),
    # chi2(df): m = df/2 - 1, r = -1/2
    ("chi2.logpdf df=3", _case("chi2", "logpdf", 1), (3.0,), 1.5, (0.5,), -0.5),
    ("chi2.logcdf df=1", _case("chi2", "logcdf", 1), (1.0,), 0.5, (0.5,), -0.5),
    # beta(a, b) at 0: m = a - 1, r = 1 - b
    ("beta.logpdf", _case("beta", "logpdf", 2), (2.0, 3.0), 2.0, (1.0, 0.0), -2.0),
    ("beta.logcdf", _case("beta", "logcdf", 2), (1.5, 0.5), 1.5, (1.0, 0.0), 0.5),
    # f(n, m): power n/2 - 1, r = -(n + m) n / (2 m)
    ("f.logpdf", _case("f", "logpdf", 2), (3.0, 5.0), 1.5, (0.5, 0.0), -2.4),
    # weibull_min(c): m = c - 1, r = 0 for c > 1, -1 at c = 1
    ("weibull_min.logpdf c=2", _case("weibull_min", "logpdf", 1), (2.0,), 2.0, (1.0,), 0.0),
    ("weibull_min.logcdf c=1", _case("weibull_min", "logcdf", 1), (1.0,), 1.0, (1.0,), -1.0),
]


@pytest.mark.parametrize("name,f,shapes,q,dm,r", TABLE, ids=[c[0] for c in TABLE])
def test_scale_entries_at_zero_end(name, f, shapes, q, dm, r):
    loc, s = 0.25, 2.0
    pt = (loc, loc, s) + shapes
    g = _grad(f, pt)
    assert g[0] == inf and g[1] == -inf
    assert g[2] == pytest.approx(-q / s, rel=1e-12)
    lin = r if "logpdf" in name else (q / (q + 1.0)) * r
    orders = ("hessian", "rev-fwd") if name != "gamma.logcdf a=3" else tuple(ORDERS)
    for order in orders:
        h = _hess(order, f, pt)
        assert h[0, 0] == -inf and h[0, 1] == inf and h[1, 1] == -inf, order
        assert h[2, 2] == pytest.approx(q / s ** 2, rel=1e-12), order
        assert h[0, 2] == pytest.approx(-lin / s ** 2, rel=1e-12, abs=1e-15), order
        assert h[2, 0] == pytest.approx(-lin / s ** 2, rel=1e-12, abs=1e-15), order
        assert h[1, 2] == pytest.approx(lin / s ** 2, rel=1e-12, abs=1e-15), order
        for i, d in enumerate(dm):
            assert h[2, 3 + i] == pytest.approx(-d / s, rel=1e-12, abs=1e-15), order
            assert h[3 + i, 2] == pytest.approx(-d / s, rel=1e-12, abs=1e-15), order


def test_weibull_min_below_one_x_scale():
    # -(u / scale)^c: d2/du dscale c^2 u^(c - 1) / scale^(c + 1) -> +inf for c < 1 (was 0);
    # logcdf = c log(u / scale) - (u / scale)^c / 2 + ...: the same sign; the first
    # derivatives in x stay those of the power (-inf for the density, +inf for the CDF),
    # not inf - inf with the regular part's -inf slope
    for method, dx in (("logpdf", -inf), ("logcdf", inf)):
        f = _case("weibull_min", method, 1)
        pt = (0.0, 0.0, 2.0, 0.5)
        assert _grad(f, pt).tolist()[:3] == [dx, -dx, -0.25], method
        hs = _all_orders(f, pt) if method == "logpdf" else {
            o: _hess(o, f, pt) for o in ("hessian", "rev-fwd")}
        for order, h in hs.items():
            assert h[0, 2] == inf and h[2, 0] == inf, (method, order)
            assert h[1, 2] == -inf and h[2, 1] == -inf, (method, order)
            assert h[2, 2] == 0.125 and h[2, 3] == -0.5, (method, order)


def test_lognorm_all_arguments_at_loc_logcdf():
    # logcdf = log ndtr(t / s), t = log(u / scale): G' ~ -t / s^2 -> +inf, the same signs as
    # logpdf's (tests/test_s34_stats5_34.py); d/ds +inf, s-s -inf as before
    f = lambda x, loc, sc, s: stats.lognorm.logcdf(x, s, loc, sc)
    pt = (1.0, 1.0, 2.0, 0.8)
    assert _grad(f, pt).tolist() == [inf, -inf, -inf, inf]
    want = [[-inf, inf, inf, -inf], [inf, -inf, -inf, inf], [inf, -inf, inf, inf],
            [-inf, inf, inf, -inf]]
    for order in ("hessian", "rev-fwd", "rev-rev"):
        assert _hess(order, f, pt).tolist() == want, order


# -- expon and uniform: the log of the probability that is 0 at an end -----------------------


def test_expon_uniform_log_probability_at_zero_end():
    # log F = log|u| - log(scale) + log h + r w / 2: d/ds -1/s, s-s 1/s^2, x-s -r / (2 s^2)
    # (expon r = -1: 1/8; uniform 0); were nan (log(z)'s derivatives times z's in scale)
    ex = lambda x, loc, sc: stats.expon.logcdf(x, loc, sc)
    un = lambda x, loc, sc: stats.uniform.logcdf(x, loc, sc)
    for f, xs in ((ex, 0.125), (un, 0.0)):
        assert _grad(f, (1.0, 1.0, 2.0)).tolist() == [inf, -inf, -0.5]
        want = [[-inf, inf, xs], [inf, -inf, -xs], [xs, -xs, 0.25]]
        for order, h in _all_orders(f, (1.0, 1.0, 2.0)).items():
            _assert_hess(h, want, order)
    # uniform.logsf at loc + scale: log(loc + scale - x) - log(scale): d/ds 1/v - 1/s ->
    # +inf, s-s -1/v^2 + 1/s^2 -> -inf, x-s 1/v^2 -> +inf (x-x, x-loc were nan)
    f = lambda x, loc, sc: stats.uniform.logsf(x, loc, sc)
    assert _grad(f, (3.0, 1.0, 2.0)).tolist() == [-inf, inf, inf]
    for order, h in _all_orders(f, (3.0, 1.0, 2.0)).items():
        assert h.tolist() == [[-inf, inf, inf], [inf, -inf, -inf], [inf, -inf, -inf]], order


def test_expon_logcdf_interior_unchanged():
    # away from loc: the formula's derivatives (d/dx e^-z / (s (1 - e^-z)))
    x = np.array([1.5, 2.0, 9.0])
    g = ft.vmap(ft.grad(lambda x, s: stats.expon.logcdf(x, 1.0, s), argnums=(0, 1)),
                in_axes=(0, None))
    dx, ds = g(x, 2.0)
    z = (x - 1.0) / 2.0
    np.testing.assert_allclose(dx, np.exp(-z) / (2.0 * -np.expm1(-z)), rtol=1e-14)
    np.testing.assert_allclose(ds, -z * np.exp(-z) / (2.0 * -np.expm1(-z)), rtol=1e-14)


# -- truncnorm: an end that moves with a shape ------------------------------------------------


def test_truncnorm_scale_shape_at_moving_end():
    # logcdf at the lower end x = loc + a scale: log|u|, u = x - loc - a scale, d2/dscale da
    # -(du/dscale)(du/da) / u^2 = -(a scale) / u^2 -> +inf for a < 0 (was nan: the cross
    # second derivative of a scale, -1/u, against it); logsf at the upper end b > 0: -inf
    f = lambda x, sc, a: stats.truncnorm.logcdf(x, a, 2.0, 0.5, sc)
    pt = (0.5 - 2.0, 2.0, -1.0)
    for order in ("hessian", "rev-fwd"):
        h = _hess(order, f, pt)
        assert not np.isnan(h).any(), order
        assert h[1, 2] == inf and h[2, 1] == inf, order
    g = lambda x, sc, b: stats.truncnorm.logsf(x, -1.0, b, 0.5, sc)
    for order in ("fwd-rev",):
        h = _hess(order, g, (0.5 + 4.0, 2.0, 2.0))
        assert h[1, 2] == -inf and h[2, 1] == -inf, order


# -- the values do not change; SciPy's -------------------------------------------------------


def test_values_at_the_ends_are_scipys():
    sps = pytest.importorskip("scipy.stats")
    cases = [("gamma", "logpdf", (0.5,)), ("gamma", "logcdf", (3.0,)), ("lognorm", "logpdf",
             (0.8,)), ("lognorm", "logcdf", (0.8,)), ("weibull_min", "logcdf", (0.5,)),
             ("beta", "logpdf", (2.0, 3.0)), ("expon", "logcdf", ()),
             ("uniform", "logcdf", ())]
    for dist, method, shapes in cases:
        f = getattr(getattr(stats, dist), method)
        want = getattr(getattr(sps, dist), method)(0.25, *shapes, 0.25, 2.0)
        got = float(f(0.25, *shapes, 0.25, 2.0))
        assert got == want, (dist, method)
        # under a derivative too (the value that comes with it)
        with np.errstate(all="ignore"):
            v, _ = ft.value_and_grad(lambda s: f(0.25, *shapes, 0.25, s))(2.0)
        assert float(v) == want, (dist, method)


# -- the references against mpmath, just inside ----------------------------------------------


def test_references_against_mpmath_just_inside():
    mp = pytest.importorskip("mpmath")
    with mp.workdps(60):
        a, s = mp.mpf("0.5"), mp.mpf(2)

        def g_logpdf(x, sc):
            return (a - 1) * mp.log(x / sc) - x / sc - mp.loggamma(a) - mp.log(sc)

        def g_logcdf(x, sc):
            return mp.log(mp.gammainc(a, 0, x / sc, regularized=True))

        for dist in ("1e-8", "1e-12", "1e-16"):
            x = mp.mpf(dist)
            h = x * mp.mpf("1e-10")
            # logpdf: d/ds -> -1/4, d2/ds2 -> 1/8, x-s -> 1/4 (error O(x))
            assert abs(mp.diff(g_logpdf, (x, s), (0, 1), h=h) + mp.mpf(1) / 4) < 10 * x
            assert abs(mp.diff(g_logpdf, (x, s), (0, 2), h=h) - mp.mpf(1) / 8) < 10 * x
            assert abs(mp.diff(g_logpdf, (x, s), (1, 1), h=h) - mp.mpf(1) / 4) < 10 * x
            # logcdf: -1/4, 1/8, 1/12
            assert abs(mp.diff(g_logcdf, (x, s), (0, 1), h=h) + mp.mpf(1) / 4) < 10 * x
            assert abs(mp.diff(g_logcdf, (x, s), (0, 2), h=h) - mp.mpf(1) / 8) < 10 * x
            assert abs(mp.diff(g_logcdf, (x, s), (1, 1), h=h) - mp.mpf(1) / 12) < 10 * x

        # lognorm (shape 0.8): the signs of d/dscale, d2/dscale2, x-scale and scale-shape,
        # growing as x -> 0+
        def ln_logpdf(x, sc, sh):
            t = mp.log(x / sc)
            return -t - t * t / (2 * sh * sh) - mp.log(sh * mp.sqrt(2 * mp.pi)) - mp.log(x)

        def ln_logcdf(x, sc, sh):
            return mp.log(mp.ncdf(mp.log(x / sc) / sh))

        for fn in (ln_logpdf, ln_logcdf):
            prev = None
            for dist in ("1e-8", "1e-16", "1e-30"):
                x = mp.mpf(dist)
                p = (x, s, mp.mpf("0.8"))
                h = x * mp.mpf("1e-10")
                d = [mp.diff(fn, p, n, h=h) for n in ((0, 1, 0), (0, 2, 0), (1, 1, 0),
                                                      (0, 1, 1))]
                assert d[0] < 0 and d[1] > 0 and d[2] > 0 and d[3] > 0, (fn, dist)
                if prev is not None:
                    assert all(abs(u) > abs(v) for u, v in zip(d, prev)), (fn, dist)
                prev = d

        # weibull_min c = 1/2: logpdf's x-scale grows like x^(-1/2), positive
        c = mp.mpf("0.5")

        def wb(x, sc):
            return mp.log(c) + (c - 1) * mp.log(x / sc) - (x / sc) ** c - mp.log(sc)

        vals = [mp.diff(wb, (mp.mpf(d), s), (1, 1), h=mp.mpf(d) * mp.mpf("1e-10"))
                for d in ("1e-8", "1e-12", "1e-16")]
        assert 0 < vals[0] < vals[1] < vals[2] and vals[2] > 1e6

        # beta(2, 1).logcdf = 2 log(x / scale): x-scale exactly 0 (the sweep's noisy
        # float64 differences just inside suggested otherwise)
        def bl(x, sc):
            return mp.log(mp.betainc(2, 1, 0, x / sc, regularized=True))

        assert abs(mp.diff(bl, (mp.mpf("1e-12"), s), (1, 1), h=mp.mpf("1e-22"))) < 1e-20


def test_beta_logcdf_x_scale_at_zero_is_zero():
    f = _case("beta", "logcdf", 2)
    h = _hess("hessian", f, (0.0, 0.0, 2.0, 2.0, 1.0))
    assert h[0, 2] == 0.0 and h[2, 2] == 0.5


# -- backends ---------------------------------------------------------------------------------


def test_scale_limit_on_every_backend(backend):
    x = backend.asarray([0.0, 0.0, 1.0])
    s = backend.asarray(2.0)
    for method, want0 in (("logpdf", -0.25), ("logcdf", -0.25)):
        f = getattr(stats.gamma, method)
        with np.errstate(all="ignore"):
            g = ft.grad(lambda sc: f(x, 0.5, 0.0, sc).sum())(s)
        got = float(backend.to_numpy(g))
        # two points at the end (-0.25 each) and one inside
        with np.errstate(all="ignore"):
            inner = float(ft.grad(lambda sc: f(1.0, 0.5, 0.0, sc))(2.0))
        assert got == pytest.approx(2 * want0 + inner, rel=1e-13), method
    for f in (stats.expon.logcdf, stats.uniform.logcdf):
        with np.errstate(all="ignore"):
            g = ft.grad(lambda sc: f(backend.asarray(0.0), 0.0, sc))(s)
        assert float(backend.to_numpy(g)) == -0.5
    with np.errstate(all="ignore"):
        g = ft.grad(lambda sc: stats.lognorm.logpdf(backend.asarray(0.0), 0.8, 0.0, sc))(s)
    assert float(backend.to_numpy(g)) == -inf


@pytest.mark.parametrize("fn,end", [
    (lambda x, s: stats.gamma.logcdf(x, 0.5, 0.0, s), -0.25),
    (lambda x, s: stats.gamma.logpdf(x, 0.5, 0.0, s), -0.25),
    (lambda x, s: stats.lognorm.logpdf(x, 0.8, 0.0, s), -inf),
    (lambda x, s: stats.expon.logcdf(x, 0.0, s), -0.5),
    (lambda x, s: stats.uniform.logsf(x, -2.0, s), inf)], ids=["gamma.logcdf",
    "gamma.logpdf", "lognorm.logpdf", "expon.logcdf", "uniform.logsf"])
def test_jit_and_vmap_agree_at_the_end(fn, end):
    # the end among interior points: staged code computes the end terms everywhere
    f = ft.grad(fn, argnums=1)
    xs = np.array([0.0, 0.5, 1.5])
    with np.errstate(all="ignore"):
        eager = np.array([float(f(x, 2.0)) for x in xs])
        for t in (ft.vmap(f, in_axes=(0, None)), ft.jit(ft.vmap(f, in_axes=(0, None)))):
            np.testing.assert_allclose(np.asarray(t(xs, 2.0)), eager, rtol=1e-14)
    assert eager[0] == end and np.isfinite(eager[1:]).all()
