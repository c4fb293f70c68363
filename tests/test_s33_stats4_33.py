"""stats: pdf's second derivatives at a support end where the density is 0 (helper
stats4_33).

The references are the one-sided limits from inside the support, closed forms derived in
the comments (and checked against central differences of SciPy-free closed forms at
points just inside)."""

import math

import numpy as np
import pytest

import functrans as ft
from functrans.scipy import stats

ORDERS = {
    "hessian": ft.hessian,
    "fwd-rev": lambda f: ft.jacfwd(ft.jacrev(f)),
    "rev-fwd": lambda f: ft.jacrev(ft.jacfwd(f)),
}

# (name, pdf as a function of x, the end, the one-sided limit of d^2/dx^2 pdf there)
CASES = [
    # gamma(3): x^2 e^-x / 2; (x^2 e^-x)'' = e^-x (2 - 4x + x^2) -> 2; / 2 -> 1 (was 0)
    ("gamma a=3", lambda x: stats.gamma.pdf(x, 3.0), 0.0, 1.0),
    # gamma(2): x e^-x; (x e^-x)'' = e^-x (x - 2) -> -2 (was 0)
    ("gamma a=2", lambda x: stats.gamma.pdf(x, 2.0), 0.0, -2.0),
    # gamma(1.5): x^.5 e^-x / Gamma(1.5): the -x^-1.5 / 4 term -> -inf
    ("gamma a=1.5", lambda x: stats.gamma.pdf(x, 1.5), 0.0, -math.inf),
    # gamma(2.5): x^1.5 e^-x / Gamma(2.5): the 3 x^-.5 / 4 term -> +inf
    ("gamma a=2.5", lambda x: stats.gamma.pdf(x, 2.5), 0.0, math.inf),
    # beta(3, 1.5) at 1: 1/B (1 - x)^.5 x^2: the -(1 - x)^-1.5 / 4 term -> -inf
    ("beta upper m=.5", lambda x: stats.beta.pdf(x, 3.0, 1.5), 1.0, -math.inf),
    # gamma(4): x^3 e^-x / 6: '' = 6x / 6 + ... -> 0
    ("gamma a=4", lambda x: stats.gamma.pdf(x, 4.0), 0.0, 0.0),
    # beta(2, 3): 12 x (1 - x)^2 = 12 (x - 2x^2 + x^3); '' = 12 (-4 + 6x) -> -48
    ("beta lower", lambda x: stats.beta.pdf(x, 2.0, 3.0), 0.0, -48.0),
    # beta(3, 2): 12 x^2 (1 - x) = 12 (x^2 - x^3); '' = 12 (2 - 6x) -> -48 at 1
    ("beta upper", lambda x: stats.beta.pdf(x, 3.0, 2.0), 1.0, -48.0),
    # beta(2, 3) upper end: 12 x (1 - x)^2, '' = 12 (-4 + 6x) -> 24 at 1
    ("beta upper m=2", lambda x: stats.beta.pdf(x, 2.0, 3.0), 1.0, 24.0),
    # weibull_min(2): 2x e^(-x^2); '' = 2 e^(-x^2) (4x^3 - 6x) -> 0
    ("weibull_min c=2", lambda x: stats.weibull_min.pdf(x, 2.0), 0.0, 0.0),
    # weibull_min(3): 3x^2 e^(-x^3); '' -> 6
    ("weibull_min c=3", lambda x: stats.weibull_min.pdf(x, 3.0), 0.0, 6.0),
    # chi2(4): x e^(-x/2) / 4; (x e^(-x/2))'' = e^(-x/2) (x/4 - 1) -> -1; / 4
    ("chi2 df=4", lambda x: stats.chi2.pdf(x, 4.0), 0.0, -0.25),
    # f(4, 6): c x (1 + 2x/3)^-5, c = (4/6)^2 / B(2, 3) = 16/3; '' -> 2 c (-5 * 2/3) = -320/9
    ("f dfn=4", lambda x: stats.f.pdf(x, 4.0, 6.0), 0.0, -320.0 / 9.0),
    # gamma(2) with loc 1 and scale 2: f((x - 1) / 2) / 2, '' = f''(0) / 2^3 = -1/4
    ("gamma loc scale", lambda x: stats.gamma.pdf(x, 2.0, 1.0, 2.0), 1.0, -0.25),
]


@pytest.mark.parametrize("order", list(ORDERS))
@pytest.mark.parametrize("name,f,x,want", CASES, ids=[c[0] for c in CASES])
def test_pdf_second_derivative_at_a_zero_end(order, name, f, x, want):
    with np.errstate(all="ignore"):
        got = float(ORDERS[order](f)(x))
    assert got == pytest.approx(want, rel=1e-12, abs=1e-12)


def _fd2(f, x, h):
    return (f(x + 2 * h) - 2 * f(x + h) + f(x)) / (h * h)


@pytest.mark.parametrize("name,f,x,want", [c for c in CASES if math.isfinite(c[3])],
                         ids=[c[0] for c in CASES if math.isfinite(c[3])])
def test_references_by_differences(name, f, x, want):
    # the limits above against one-sided second differences from inside (error O(h))
    h = 1e-4 if x == 0.0 or name.endswith("scale") else -1e-4
    g = lambda t: float(f(t))  # noqa: E731
    assert _fd2(g, x, h) == pytest.approx(want, rel=1e-2, abs=1e-2)


def test_pdf_mixed_x_scale_at_a_zero_end():
    # gamma(2) with scale s: (x / s^2) e^(-x/s); d/dx -> 1/s^2 at 0, d/ds d/dx -> -2/s^3
    # (was -1/s^3: the scale in the slope was held fixed); d^2/ds^2 -> 0
    f = lambda x, s: stats.gamma.pdf(x, 2.0, 0.0, s)  # noqa: E731
    want = [[-2.0 / 8.0, -2.0 / 8.0], [-2.0 / 8.0, 0.0]]
    for order in ("hessian", "fwd-rev", "rev-fwd"):
        g = {"hessian": ft.hessian(f, argnums=(0, 1)),
             "fwd-rev": ft.jacfwd(ft.jacrev(f, argnums=(0, 1)), argnums=(0, 1)),
             "rev-fwd": ft.jacrev(ft.jacfwd(f, argnums=(0, 1)), argnums=(0, 1))}[order]
        with np.errstate(all="ignore"):
            got = np.array(g(0.0, 2.0), dtype=float)
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15, err_msg=order)


def test_values_and_first_derivatives_unchanged():
    # gamma(2): pdf 0 at 0, slope 1; beta(2, 3): slope 12
    x = np.array([0.0, 0.5, 1.0])
    with np.errstate(all="ignore"):
        np.testing.assert_allclose(ft.vmap(ft.grad(lambda t: stats.gamma.pdf(t, 2.0)))(x),
                                   np.exp(-x) * (1 - x), rtol=1e-12, atol=1e-15)
        assert float(ft.grad(lambda t: stats.beta.pdf(t, 2.0, 3.0))(0.0)) == 12.0
        assert float(stats.gamma.pdf(0.0, 2.0)) == 0.0


def _phi(t):
    return math.exp(-0.5 * t * t) / math.sqrt(2.0 * math.pi)


def _Phi(t):
    return 0.5 * math.erfc(-t / math.sqrt(2.0))


# derivatives in a shape of logcdf at the lower end / logsf at the upper, where the value is
# -inf, with x held at the end: near it the probability is c |w|^(m + 1) / (m + 1), so the
# one-sided limit is dm log|w| + d log c - dm / (m + 1): -inf * sign(dm), else d log c
_Z = _Phi(2.0) - _Phi(-1.0)
LOG_CASES = [
    # pareto: log(1 - x^-b); d/db = x^-b log x / (1 - x^-b) -> 1/b at x = 1 (was -0.0)
    ("pareto", lambda b: stats.pareto.logcdf(1.0, b), 2.0, 0.5),
    # gamma: log(x^a / Gamma(a + 1)) + o(1); d/da = log x - digamma(a + 1) -> -inf (was 0)
    ("gamma a=2", lambda a: stats.gamma.logcdf(0.0, a), 2.0, -math.inf),
    ("gamma a=1", lambda a: stats.gamma.logcdf(0.0, a), 1.0, -math.inf),
    ("gamma a=.5", lambda a: stats.gamma.logcdf(0.0, a), 0.5, -math.inf),
    # beta(2, b) at 0: log(x^2 / (2 B(2, b))); d/db = digamma(2 + b) - digamma(b)
    # = 1/b + 1/(b + 1) = 7/12 at b = 3 (was 0)
    ("beta logcdf b", lambda b: stats.beta.logcdf(0.0, 2.0, b), 3.0, 7.0 / 12.0),
    # beta(a, 3) logsf at 1: log((1 - x)^3 / (3 B(a, 3))); d/da = digamma(a + 3) -
    # digamma(a) = 1/a + 1/(a + 1) + 1/(a + 2) = 13/12 at a = 2 (was 0)
    ("beta logsf a", lambda a: stats.beta.logsf(1.0, a, 3.0), 2.0, 13.0 / 12.0),
    # beta(a, 3) logcdf at 0 in a: a log x + ...: -inf
    ("beta logcdf a", lambda a: stats.beta.logcdf(0.0, a, 3.0), 2.0, -math.inf),
    # truncnorm(-1, 2) logcdf at x = -1 in b: log(Phi(x) - Phi(a)) - log Z; d/db =
    # -phi(b) / Z (was 0)
    ("truncnorm logcdf b", lambda b: stats.truncnorm.logcdf(-1.0, -1.0, b), 2.0,
     -_phi(2.0) / _Z),
    # truncnorm(-1, 2) logsf at x = 2 in a: log(Phi(b) - Phi(x)) - log Z; d/da = phi(a) / Z
    ("truncnorm logsf a", lambda a: stats.truncnorm.logsf(2.0, a, 2.0), -1.0,
     _phi(-1.0) / _Z),
]


@pytest.mark.parametrize("name,f,p,want", LOG_CASES, ids=[c[0] for c in LOG_CASES])
def test_log_probability_shape_derivative_at_its_minus_inf_end(name, f, p, want):
    # (forward mode: the vectorised test below)
    with np.errstate(all="ignore"):
        got = float(ft.grad(f)(p))
    assert got == pytest.approx(want, rel=1e-12)


def test_log_probability_references_by_differences():
    # the finite limits above against central differences in the shape at x 1e-7 inside
    h = 1e-5
    for f, p, want in [
            (lambda b: stats.pareto.logcdf(1.0 + 1e-7, b), 2.0, 0.5),
            (lambda b: stats.beta.logcdf(1e-7, 2.0, b), 3.0, 7.0 / 12.0),
            (lambda a: stats.beta.logsf(1.0 - 1e-7, a, 3.0), 2.0, 13.0 / 12.0),
            (lambda b: stats.truncnorm.logcdf(-1.0 + 1e-7, -1.0, b), 2.0, -_phi(2.0) / _Z)]:
        d = (float(f(p + h)) - float(f(p - h))) / (2 * h)
        assert d == pytest.approx(want, rel=1e-5)


def test_log_probability_shape_derivative_vectorised_and_jit():
    # an array x with one point at the end: the others keep the formula's derivative
    # (pareto: d/db log(1 - x^-b) = x^-b log x / (1 - x^-b) at x = 2; 1/b at x = 1)
    x = np.array([1.0, 2.0])
    want = [0.5, 2.0 ** -2 * math.log(2.0) / (1.0 - 2.0 ** -2)]
    with np.errstate(all="ignore"):
        for g in (ft.jacfwd, ft.jacrev):
            np.testing.assert_allclose(g(lambda b: stats.pareto.logcdf(x, b))(2.0), want,
                                       rtol=1e-12)
        assert float(ft.jit(ft.grad(lambda b: stats.pareto.logcdf(1.0, b)))(2.0)) == 0.5


@pytest.mark.parametrize("order", ["hessian", "fwd-rev", "rev-fwd"])
def test_pdf_infinite_slope_end_in_x_loc_scale(order):
    # gamma(1.5) with loc 1, scale 2 at x = 1: f(z) / s, f ~ c z^.5 (f' -> inf, f'' -> -inf):
    # d2/dx2 = f''/s^3 -> -inf, d2/dx dloc -> +inf, d2/dloc2 -> -inf, d2/dx ds = -2 f'/s^3
    # -> -inf, d2/dloc ds -> +inf, d2/ds2 -> 0 (z = 0); no nan (0 * inf of the slope's
    # 1/scale)
    f = lambda x, l, s: stats.gamma.pdf(x, 1.5, l, s)  # noqa: E731
    n = (0, 1, 2)
    g = {"hessian": ft.hessian(f, argnums=n),
         "fwd-rev": ft.jacfwd(ft.jacrev(f, argnums=n), argnums=n),
         "rev-fwd": ft.jacrev(ft.jacfwd(f, argnums=n), argnums=n)}[order]
    inf = math.inf
    with np.errstate(all="ignore"):
        got = np.array(g(1.0, 1.0, 2.0), dtype=float)
    np.testing.assert_array_equal(got, [[-inf, inf, -inf], [inf, -inf, inf], [-inf, inf, 0.0]])


def test_pdf_second_derivative_grad_of_grad():
    # the references of CASES above (gamma(2) at 0: -2; beta(3, 2) at 1: -48; gamma(1.5): -inf)
    with np.errstate(all="ignore"):
        got = [float(ft.grad(ft.grad(f))(x)) for name, f, x, _ in CASES
               if name in ("gamma a=2", "beta upper", "gamma a=1.5")]
    assert got == [-2.0, -math.inf, -48.0]
