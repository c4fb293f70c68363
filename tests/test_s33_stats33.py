"""stats: derivatives at the support ends, to second order, in every order of the transforms
(helper stats33).

The references are closed forms of the one-sided limits from inside the support (derived
by hand, each in a comment; checked with mpmath's diff at mp.dps = 30 on points 1e-20
inside, where the limit is finite)."""

import math

import numpy as np
import pytest

import functrans as ft
from functrans.scipy import stats
from tests._orders import ORDERS, hess_in_order as _hess


def _phi(t):
    return math.exp(-0.5 * t * t) / math.sqrt(2.0 * math.pi)


def _Phi(t):
    return 0.5 * math.erfc(-t / math.sqrt(2.0))


def _truncnorm_at_a(a, b):
    # F(x; a, b) = (Phi(x) - Phi(a)) / Z, Z = Phi(b) - Phi(a), at x = a (x, a, b):
    # F_xx = -a phi(a) / Z; F_xa = phi(a)^2 / Z^2; F_xb = -phi(a) phi(b) / Z^2;
    # F_aa = a phi(a) / Z - 2 phi(a)^2 / Z^2; F_ab = phi(a) phi(b) / Z^2; F_bb = 0
    z = _Phi(b) - _Phi(a)
    pa, pb = _phi(a), _phi(b)
    return [[-a * pa / z, pa * pa / z**2, -pa * pb / z**2],
            [pa * pa / z**2, a * pa / z - 2 * pa * pa / z**2, pa * pb / z**2],
            [-pa * pb / z**2, pa * pb / z**2, 0.0]]


# (name, f(x, shape...), the point, the Hessian's one-sided limit)
CASES = [
    # pareto: F = 1 - x^-b; F_xx = -b (b + 1) x^(-b-2), F_xb = x^(-b-1) (1 - b log x),
    # F_bb = -x^-b log(x)^2: at x = 1, b = 2 (session 32: [[-6, 1], [0, 0]] by hessian)
    ("pareto", lambda x, b: stats.pareto.cdf(x, b), (1.0, 2.0), [[-6.0, 1.0], [1.0, 0.0]]),
    # beta(a, 1): F = x^a; F_xx = a (a - 1) x^(a-2), F_xa = x^(a-1) (1 + a log x),
    # F_aa = x^a log(x)^2: at the upper end x = 1, a = 3
    ("beta upper", lambda x, a: stats.beta.cdf(x, a, 1.0), (1.0, 3.0),
     [[6.0, 1.0], [1.0, 0.0]]),
    # logcdf of the same: a log x: [[-a / x^2, 1 / x], [1 / x, 0]]
    ("beta logcdf upper", lambda x, a: stats.beta.logcdf(x, a, 1.0), (1.0, 3.0),
     [[-3.0, 1.0], [1.0, 0.0]]),
    # pareto logsf: -b log x: [[b / x^2, -1 / x], [-1 / x, 0]]
    ("pareto logsf", lambda x, b: stats.pareto.logsf(x, b), (1.0, 2.0),
     [[2.0, -1.0], [-1.0, 0.0]]),
    # gamma(a = 2): p = x e^-x, p'(0) = 1; d/da p = p (log x - digamma(a)) -> 0
    # (F_xx was 0)
    ("gamma a=2", lambda x, a: stats.gamma.cdf(x, a), (0.0, 2.0), [[1.0, 0.0], [0.0, 0.0]]),
    # gamma(a = 1): p = e^-x, p'(0) = -1; d/da p = p (log x - digamma(1)) -> -inf
    ("gamma a=1", lambda x, a: stats.gamma.cdf(x, a), (0.0, 1.0),
     [[-1.0, -math.inf], [-math.inf, 0.0]]),
    # chi2(4): p = x e^(-x/2) / 4, p'(0) = 1/4; with scale 2: p'(0) / scale^2
    ("chi2 df=4", lambda x, df: stats.chi2.cdf(x, df, 0.0, 2.0), (0.0, 4.0),
     [[1.0 / 16.0, 0.0], [0.0, 0.0]]),
    # beta(2, 3) at 0: p = 12 x (1 - x)^2, p'(0) = 12; d/da, d/db p -> 0
    ("beta lower", lambda x, a, b: stats.beta.cdf(x, a, b), (0.0, 2.0, 3.0),
     [[12.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]),
    # weibull_min(2): p = 2 x e^(-x^2), p'(0) = 2 (sf: minus that)
    ("weibull_min sf", lambda x, c: stats.weibull_min.sf(x, c), (0.0, 2.0),
     [[-2.0, 0.0], [0.0, 0.0]]),
    # f(4, 6): p ~ (n/m)^(n/2) x^(n/2 - 1) / B(n/2, m/2), p'(0) = (2/3)^2 * 12 = 16/3
    ("f dfn=4", lambda x, n: stats.f.cdf(x, n, 6.0), (0.0, 4.0),
     [[16.0 / 3.0, 0.0], [0.0, 0.0]]),
    ("truncnorm", lambda x, a, b: stats.truncnorm.cdf(x, a, b), (0.5, 0.5, 1.5),
     _truncnorm_at_a(0.5, 1.5)),
]


@pytest.mark.parametrize("order", list(ORDERS))
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_second_derivatives_at_ends(case, order):
    _, f, args, want = case
    got = _hess(order, f, args)
    np.testing.assert_allclose(got, np.array(want), rtol=1e-9, atol=1e-12)


def test_values_unchanged_at_ends():
    assert float(stats.pareto.cdf(1.0, 2.0)) == 0.0
    assert float(stats.beta.logcdf(1.0, 3.0, 1.0)) == 0.0
    assert float(stats.gamma.cdf(0.0, 2.0)) == 0.0
    assert float(ft.jit(lambda x: stats.truncnorm.cdf(x, 0.5, 1.5))(0.5)) == 0.0


def test_mixed_partial_under_jit_and_vmap():
    # pareto's F_bx at x = 1 is 1 for every b (x^(-b-1) (1 - b log x)); beyond the end 0
    h = ft.jit(ft.vmap(ft.hessian(lambda x, b: stats.pareto.cdf(x, b), argnums=(0, 1))))
    got = np.array(h(np.array([1.0, 1.0, 0.5]), np.array([2.0, 3.0, 2.0])), dtype=float)
    np.testing.assert_allclose(got[1, 0], [1.0, 1.0, 0.0])
    np.testing.assert_allclose(got[0, 1], [1.0, 1.0, 0.0])
    np.testing.assert_allclose(got[0, 0], [-6.0, -12.0, 0.0])


# pdf at an end where the density is infinite: d/da beta.pdf(0, a, 3) = pdf (log x - digamma(a)
# + digamma(a + 3)) -> -inf for a < 1 (jacrev was nan); where it is 0 (a > 1) the density is 0
# for every a: 0 (both modes nan); at a = 1 the limit of pdf (log x - ...) is -inf (was 5.5)
@pytest.mark.parametrize("f, a, want", [
    (lambda a: stats.beta.pdf(0.0, a, 3.0), 0.5, -math.inf),
    (lambda a: stats.beta.pdf(0.0, a, 3.0), 1.0, -math.inf),
    (lambda a: stats.beta.pdf(0.0, a, 3.0), 2.0, 0.0),
    (lambda b: stats.beta.pdf(1.0, 3.0, b), 0.5, -math.inf),
    (lambda a: stats.gamma.pdf(0.0, a), 0.5, -math.inf),
    (lambda a: stats.gamma.pdf(0.0, a), 1.5, 0.0),
    (lambda df: stats.chi2.pdf(0.0, df), 1.0, -math.inf),
    (lambda c: stats.weibull_min.pdf(0.0, c), 0.5, -math.inf),
    (lambda a: stats.gamma.logpdf(0.0, a), 1.0, -math.inf),  # (was 0.577)
])
def test_pdf_shape_derivative_at_ends(f, a, want):
    for d in (ft.jacfwd, ft.jacrev, ft.grad):
        assert float(d(f)(a)) == want


def test_pdf_x_derivative_at_zero_density_end():
    # gamma(a): p = x^(a-1) e^-x / Gamma(a): p'(0) = 1 at a = 2, inf for 1 < a < 2, 0 above
    # (all nan: exp(-inf) times the log density's infinite derivative)
    for a, want in ((2.0, 1.0), (1.5, math.inf), (3.0, 0.0)):
        for d in (ft.jacfwd, ft.jacrev):
            assert float(d(lambda x: stats.gamma.pdf(x, a))(0.0)) == want
    # beta(3, 2) at the upper end: p = 12 x^2 (1 - x), p'(1) = -12; scale 2: / 4
    assert float(ft.grad(lambda x: stats.beta.pdf(x, 3.0, 2.0, 0.0, 2.0))(2.0)) == -3.0


def test_joint_jacfwd_logcdf_at_zero():
    # logcdf is -inf at x = loc: d/dx +inf; d/dscale the one-sided limit with x held,
    # log F = a log(x / scale) + ...: -a / scale = -0.25 (forward was nan; 0 with z held
    # until session 35's convention)
    f = lambda x, s: stats.gamma.logcdf(x, 0.5, 0.0, s)
    for d in (ft.jacfwd, ft.jacrev):
        got = [float(v) for v in d(f, argnums=(0, 1))(0.0, 2.0)]
        assert got == [math.inf, -0.25]


def test_scale_shape_mixed_partial_at_zero_end_is_finite():
    # F = gamma.cdf((x - loc) / s, a) at x = loc: dF/ds = -z p(z) / s = 0 for every a: its
    # derivative in a is 0, not inf * 0 (in every order)
    f = lambda s, a: stats.gamma.cdf(0.3, a, 0.3, s)
    for order in ORDERS:
        for a in (1.0, 1.5):
            got = _hess(order, f, (1.7, a))
            assert got[0, 1] == 0.0 and got[1, 0] == 0.0, (order, a, got)


def test_vonmises_cdf_derivative_at_minus_pi():
    # the series is clipped to [0, 1] at x = -pi by rounding: the derivative is the density
    # (was 0)
    x = -math.pi
    want = float(stats.vonmises.pdf(x, 1.5))
    assert abs(float(ft.grad(lambda t: stats.vonmises.cdf(t, 1.5))(x)) - want) <= 1e-12
