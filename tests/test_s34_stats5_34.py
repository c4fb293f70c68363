"""stats: derivatives at a support end where the density is infinite (helper stats5_34):
pdf's first scale derivative and its second derivatives, lognorm's log density at 0.

The references are the one-sided limits from inside the support, closed forms derived in
the comments; the signs are also checked against mpmath's derivatives of the closed-form
density at a point just inside."""

import math

import mpmath as mp
import numpy as np
import pytest

import functrans as ft
from functrans.scipy import stats
from tests._orders import ORDERS as _ALL_ORDERS, hess_in_order as _hess

inf = math.inf

ORDERS = {k: v for k, v in _ALL_ORDERS.items() if k != 'fwd-fwd'}


def _grad_grad(f, args):
    n = range(len(args))
    with np.errstate(all="ignore"):
        return np.array([[ft.grad(lambda *a: ft.grad(f, argnums=i)(*a), argnums=j)(*args)
                          for j in n] for i in n], dtype=float)


def _grad(f, args):
    with np.errstate(all="ignore"):
        return np.array(ft.grad(f, argnums=tuple(range(len(args))))(*args), dtype=float)


# Near the lower end 0 the density is p = c x^m s^(-m-1) exp(-x/s) (gamma, a = m + 1; the
# others alike, with other c and rate), -1 < m < 0, so p -> inf as x -> 0+:
#   d/dx p = p (m/x - 1/s) -> -inf;  d/ds p = p ((x/s - m - 1)/s) -> -(m + 1)/s p -> -inf
#   d2/dx2 p = p ((m/x - 1/s)^2 - m/x^2) ~ p m (m - 1)/x^2 -> +inf  (m (m - 1) > 0)
#   d2/dx ds p = p (1/s^2 + (m/x - 1/s)(x/s - m - 1)/s) ~ p (-m (m + 1))/(x s) -> +inf
#   d2/ds2 p ~ p (m + 1)(m + 2)/s^2 -> +inf
# (holding z = (x - loc)/s as session 33's convention does at an end 0: p = f(z)/s,
# d/ds -f/s^2, d2/ds2 2f/s^3, d2/dx ds -2 f'(z)/s^3: the same signs)
X_S = [
    ("gamma", lambda x, s: stats.gamma.pdf(x, 0.5, 0.0, s)),
    ("chi2", lambda x, s: stats.chi2.pdf(x, 1.0, 0.0, s)),  # m = df/2 - 1 = -1/2
    ("beta", lambda x, s: stats.beta.pdf(x, 0.5, 3.0, 0.0, s)),  # m = a - 1
    ("weibull_min", lambda x, s: stats.weibull_min.pdf(x, 0.5, 0.0, s)),  # m = c - 1
    ("f", lambda x, s: stats.f.pdf(x, 1.0, 3.0, 0.0, s)),  # m = dfn/2 - 1
]


@pytest.mark.parametrize("name,f", X_S, ids=[n for n, _ in X_S])
def test_pdf_infinite_end_x_scale(name, f):
    # were: d/ds 0, every second derivative 0
    assert _grad(f, (0.0, 2.0)).tolist() == [-inf, -inf]
    want = [[inf, inf], [inf, inf]]
    # (every order for gamma; two for the others, to keep the file fast)
    for order in ORDERS if name == "gamma" else ("fwd-rev", "rev-fwd"):
        assert _hess(order, f, (0.0, 2.0)).tolist() == want, order
    if name == "gamma":
        assert _grad_grad(f, (0.0, 2.0)).tolist() == want


# All of x, loc, scale and the shapes. With w = z - end (side = sign of w: + at the lower
# end) the log density is L = m log|w| + log c + ..., an argument moving it by a_i / w
# (a = dw/d arg: 1/s, -1/s, -end/s for x, loc, scale), by dm_i log|w| (a shape moving the
# power), or by a finite l_i (the scale at an end 0: -(m+1)/s; beta's other shape: d log c
# = psi(a + b) - psi(b) > 0). p_ij = p (L_ij + L_i L_j), p -> inf, its sign that of the
# bracket's leading term: (m^2 - m) a_i a_j / w^2; m a_i dm_j log|w| / w; m a_i l_j / w;
# dm_i dm_j log^2|w|; dm_i l_j log|w|; else l_ij + l_i l_j (scale-scale (m+1)(m+2)/s^2 > 0,
# beta b-b: psi'(a+b) - psi'(b) + (psi(a+b) - psi(b))^2 = -0.0321 at a = .5, b = 3).
# beta.pdf(x, .5, 3, loc, scale) at x = loc = 0, scale 1 (args x, loc, scale, a, b):
#   grad: [-inf, +inf, -inf, -inf, +inf]  (L_b -> psi(3.5) - psi(3) > 0)
BETA_LOWER = [[inf, -inf, inf, inf, -inf],
              [-inf, inf, -inf, -inf, inf],
              [inf, -inf, inf, inf, -inf],
              [inf, -inf, inf, inf, -inf],
              [-inf, inf, -inf, -inf, -inf]]
# beta.pdf(x, 2, .3, .5, 2) at the upper end x = 2.5 (w < 0, a_scale = -1/s, m = b - 1):
# x-scale (m^2 - m) a_x a_s / w^2 < 0; x-b: m a_x dm_b log|w| / w: (-)(+)(+)(-)/(-) < 0 ...
BETA_UPPER = [[inf, -inf, -inf, inf, -inf],
              [-inf, inf, inf, -inf, inf],
              [-inf, inf, inf, -inf, inf],
              [inf, -inf, -inf, -inf, -inf],
              [-inf, inf, inf, -inf, inf]]


def _beta_pdf(x, loc, s, a, b):
    return stats.beta.pdf(x, a, b, loc, s)


def _beta_ref(x, loc, s, a, b):
    z = (x - loc) / s
    return z ** (a - 1) * (1 - z) ** (b - 1) / mp.beta(a, b) / s


@pytest.mark.parametrize("point,side,want", [
    ((0.0, 0.0, 1.0, 0.5, 3.0), 1, BETA_LOWER),
    ((2.5, 0.5, 2.0, 2.0, 0.3), -1, BETA_UPPER),
], ids=["lower", "upper"])
def test_beta_pdf_infinite_end_all_arguments(point, side, want):
    # (two orders at the lower end, one at the upper: the file's time)
    for order in ("hessian", "rev-rev") if side == 1 else ("hessian",):
        assert _hess(order, _beta_pdf, point).tolist() == want, order
    # the signs against mpmath's derivatives just inside (x moved by 1e-20 scale)
    with mp.workdps(50):
        p = [mp.mpf(v) for v in point]
        p[0] += side * mp.mpf("1e-20") * p[2]
        h = mp.mpf("1e-26")
        for i in range(5):
            for j in range(i, 5):
                def g(ti, tj):
                    q = list(p)
                    q[i] += ti
                    q[j] += tj
                    return _beta_ref(*q)
                if i == j:
                    v = mp.diff(lambda t: g(t, 0), 0, 2, h=h)
                else:
                    v = mp.diff(g, (0, 0), (1, 1), h=h)
                assert float(mp.sign(v)) * inf == want[i][j], (i, j, v)


def test_gamma_pdf_infinite_end_shape():
    # gamma.pdf(x, a) at x = 0, a = .5: L_a = log x - psi(a) -> -inf, L_x = (a-1)/x - 1:
    # d2/dx da = p (1/x + L_x L_a) ~ p (a - 1) log(x) / x -> +inf; d2/da2 ~ p log(x)^2 -> inf
    f = lambda x, a: stats.gamma.pdf(x, a)
    assert _grad(f, (0.0, 0.5)).tolist() == [-inf, -inf]
    for order in ("hessian", "fwd-rev"):
        assert _hess(order, f, (0.0, 0.5)).tolist() == [[inf, inf], [inf, inf]], order


# lognorm at x = loc (scale held; t = log(u / scale), u = x - loc -> 0+): logpdf is
# L = -log u - t^2 / (2 s^2) - log s + const:
#   L_u = -(1 + t / s^2) / u -> +inf;  L_s = -1/s + t^2 / s^3 -> +inf
#   L_uu = (1 - (1 - t) / s^2) / u^2 -> -inf;  L_us = 2 t / (s^3 u) -> -inf
#   L_ss = 1/s^2 - 3 t^2 / s^4 -> -inf
# (were all 0: the formula's constant -inf below the support)
def _lognorm_logpdf(x, s):
    return stats.lognorm.logpdf(x, s)


def test_lognorm_logpdf_at_zero():
    with np.errstate(all="ignore"):
        assert float(ft.jacfwd(lambda s: stats.lognorm.logpdf(0.0, s))(0.8)) == inf
    assert _grad(_lognorm_logpdf, (0.0, 0.8)).tolist() == [inf, inf]
    want = [[-inf, -inf], [-inf, -inf]]
    for order in ORDERS:
        assert _hess(order, _lognorm_logpdf, (0.0, 0.8)).tolist() == want, order
    assert _grad_grad(_lognorm_logpdf, (0.0, 0.8)).tolist() == want
    # the signs against mpmath just inside (u = 1e-30)
    with mp.workdps(60):
        def ref(u, s):
            t = mp.log(u)
            return -t - t * t / (2 * s * s) - mp.log(s) - mp.log(2 * mp.pi) / 2
        p = (mp.mpf("1e-30"), mp.mpf("0.8"))
        got = [mp.diff(ref, p, (2, 0)), mp.diff(ref, p, (1, 1)), mp.diff(ref, p, (0, 2))]
        assert all(v < 0 for v in got), got


def test_lognorm_logpdf_at_loc_all_arguments():
    # x, loc (u = x - loc: loc's entries of the other sign), scale, s; the scale with x
    # held (session 35's convention, the one-sided limits from inside; was z held: d/dscale
    # -1/scale, d2/dscale2 1/scale^2, mixed 0): L = G(t) - log(scale), t = log(u) -
    # log(scale), G' = -1 - t / s^2 -> +inf, G'' = -1/s^2: d/dscale -(G' + 1) / scale ->
    # -inf, d2/du dscale -G'' / (u scale) -> +inf, d2/dscale2 (G'' + G' + 1) / scale^2 ->
    # +inf, d2/dscale ds -(dG'/ds) / scale = -2 t / (s^3 scale) -> +inf (tests/
    # test_s35_stats35.py checks these signs against mpmath)
    f = lambda x, loc, sc, s: stats.lognorm.logpdf(x, s, loc, sc)
    pt = (1.0, 1.0, 2.0, 0.8)
    assert _grad(f, pt).tolist() == [inf, -inf, -inf, inf]
    want = [[-inf, inf, inf, -inf],
            [inf, -inf, -inf, inf],
            [inf, -inf, inf, inf],
            [-inf, inf, inf, -inf]]
    for order in ("hessian", "rev-rev"):
        assert _hess(order, f, pt).tolist() == want, order
    # interior points unchanged, the end among them (vmap, jit)
    g = ft.vmap(ft.grad(lambda x, s: stats.lognorm.logpdf(x, s, 0.1, 1.5), argnums=(0, 1)),
                in_axes=(0, None))
    xs = np.array([0.1, 0.5, 2.0])
    with np.errstate(all="ignore"):
        for t in (lambda h: h, ft.jit):
            dx, ds = t(g)(xs, 0.8)
            lz = np.log((xs[1:] - 0.1) / 1.5)
            np.testing.assert_allclose(dx[1:], -(1 + lz / 0.64) / (xs[1:] - 0.1), rtol=1e-13)
            np.testing.assert_allclose(ds[1:], -1 / 0.8 + lz ** 2 / 0.8 ** 3, rtol=1e-13)
            assert dx[0] == inf and ds[0] == inf


def test_lognorm_pdf_at_zero_flat():
    # pdf = exp(L) -> 0 faster than every power of u: every derivative's limit is 0
    # (pinned: already so)
    f = lambda x, s: stats.lognorm.pdf(x, s)
    assert _grad(f, (0.0, 0.8)).tolist() == [0.0, 0.0]
    for order in ("hessian", "rev-fwd"):
        assert _hess(order, f, (0.0, 0.8)).tolist() == [[0.0, 0.0], [0.0, 0.0]], order
