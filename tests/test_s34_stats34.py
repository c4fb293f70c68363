"""stats: second derivatives at the support ends (helper stats34): the log of the
probability that is 0 at an end (logcdf at the lower end, logsf at the upper), pdf's mixed
x/shape derivatives there.

The references are the one-sided limits from inside the support, closed forms derived in
the comments; the finite ones are checked against differences at points just inside."""

import math

import numpy as np
import pytest

import functrans as ft
from functrans.scipy import stats
from tests._orders import hess_in_order as _hess

inf = math.inf


def _phi(t):
    return math.exp(-0.5 * t * t) / math.sqrt(2.0 * math.pi)


def _Phi(t):
    return 0.5 * math.erfc(-t / math.sqrt(2.0))


def _trigamma_int(n):
    # psi'(n) = pi^2 / 6 - sum_{k < n} 1 / k^2
    return math.pi ** 2 / 6.0 - sum(1.0 / k ** 2 for k in range(1, n))


# Near the end the probability that is 0 there is c |w|^(m + 1) / (m + 1) (1 + (m + 1) /
# (m + 2) r w) (density c |w|^m (1 + r w)), its log (m + 1) log|w| + log c - log(m + 1) +
# (m + 1) / (m + 2) r w: d2/dw2 -> -inf; d2/dw dshape -> dm / w (+-inf) where the shape moves
# the power, else d/dshape ((m + 1) / (m + 2) r); d2/dshape2 that of log c - log(m + 1).
_Z = _Phi(2.0) - _Phi(-1.0)
_T5 = _trigamma_int(5)
LOG_CASES = [
    # pareto: log(1 - x^-b) = log(b L) - b L / 2 + ..., L = log x: d2/dx db -> -1/2,
    # d2/db2 -> -1/b^2 (was all 0)
    ("pareto logcdf", lambda x, b: stats.pareto.logcdf(x, b), (1.0, 2.0),
     [[-inf, -0.5], [-0.5, -0.25]]),
    # gamma: log(x^a / Gamma(a + 1)) + O(x): d2/dx da = 1/x -> inf, d2/da2 = -psi'(a + 1)
    ("gamma logcdf", lambda x, a: stats.gamma.logcdf(x, a), (0.0, 2.0),
     [[-inf, inf], [inf, -_trigamma_int(3)]]),
    # beta(a, b) at 0: a log x - log a - log B(a, b) - a / (a + 1) (b - 1) x: x-b -a/(a+1);
    # a-a: 1/a^2 - psi'(a) + psi'(a+b) = -(1/9 + 1/16) at (2, 3); a-b: psi'(a + b);
    # b-b: psi'(a + b) - psi'(b) = -(1/9 + 1/16)
    ("beta logcdf", lambda x, a, b: stats.beta.logcdf(x, a, b), (0.0, 2.0, 3.0),
     [[-inf, inf, -2.0 / 3.0], [inf, -25.0 / 144.0, _T5], [-2.0 / 3.0, _T5, -25.0 / 144.0]]),
    # beta(a, b) logsf at 1 is beta(b, a) logcdf at y = 1 - x: x-a 3/4, x-b -inf,
    # a-a psi'(5) - psi'(2) = -(1/4 + 1/9 + 1/16), b-b 1/9 - (1/9 + 1/16)
    ("beta logsf", lambda x, a, b: stats.beta.logsf(x, a, b), (1.0, 2.0, 3.0),
     [[-inf, 0.75, -inf], [0.75, -(1 / 4 + 1 / 9 + 1 / 16), _T5], [-inf, _T5, -1.0 / 16.0]]),
    # truncnorm(a, b) at x = a: log(phi(a) w (1 - a w / 2)) - log Z, w = x - a: x-a 1/w^2 ->
    # inf, a-a -1/w^2 -> -inf, x-b 0, a-b -phi(a) phi(b) / Z^2, b-b b phi(b) / Z +
    # phi(b)^2 / Z^2
    ("truncnorm logcdf", lambda x, a, b: stats.truncnorm.logcdf(x, a, b), (-1.0, -1.0, 2.0),
     [[-inf, inf, 0.0], [inf, -inf, -_phi(-1.0) * _phi(2.0) / _Z ** 2],
      [0.0, -_phi(-1.0) * _phi(2.0) / _Z ** 2,
       2.0 * _phi(2.0) / _Z + _phi(2.0) ** 2 / _Z ** 2]]),
    # lognorm: log Phi(log(z) / s) = -log(z)^2 / (2 s^2) - log(-log(z) / s) + O(1): d2/dz ds
    # = 2 log(z) / (z s^3) -> -inf, d2/ds2 -> -3 log(z)^2 / s^4 -> -inf (were 0)
    ("lognorm logcdf", lambda x, s: stats.lognorm.logcdf(x, s), (0.0, 1.5),
     [[-inf, -inf], [-inf, -inf]]),
]


@pytest.mark.parametrize("order", ["hessian", "rev-fwd", "rev-rev"])
@pytest.mark.parametrize("name,f,args,want", LOG_CASES, ids=[c[0] for c in LOG_CASES])
def test_log_zero_end_second_derivatives(order, name, f, args, want):
    np.testing.assert_allclose(_hess(order, f, args), np.array(want), rtol=1e-9, atol=1e-12)


def test_log_zero_end_references_by_differences():
    # the finite x-shape and shape-shape entries above against central differences in the
    # shape of the formula's first derivative at a point 1e-6 inside (error O(1e-6))
    h = 1e-5
    for name, f, args, want in LOG_CASES[:5]:
        inside = (args[0] + (-1e-6 if name.endswith("logsf") else 1e-6),) + args[1:]
        for i in range(len(args)):
            g = ft.grad(f, argnums=i)
            for j in range(1, len(args)):
                if not math.isfinite(want[i][j]) or name.startswith("truncnorm") and j == 1:
                    continue  # (truncnorm's a moves the end: differences in it cross it)
                up, down = list(inside), list(inside)
                up[j] += h
                down[j] -= h
                got = (float(g(*up)) - float(g(*down))) / (2 * h)
                assert got == pytest.approx(want[i][j], rel=1e-3, abs=1e-4), (name, i, j)


def test_log_zero_end_first_derivatives():
    # d/ds lognorm.logcdf(0, s): log(z)^2 / s^3 -> +inf (was 0); others as before
    with np.errstate(all="ignore"):
        for d in (ft.jacfwd, ft.jacrev):
            got = d(lambda x, s: stats.lognorm.logcdf(x, s), argnums=(0, 1))(0.0, 1.5)
            assert [float(v) for v in got] == [inf, inf]
        assert float(ft.grad(lambda b: stats.pareto.logcdf(1.0, b))(2.0)) == 0.5


# pdf at an end where the density is 0, c |w|^m (1 + ...) with m > 0: the slope is
# +-c m |w|^(m - 1) (+ at the lower end), its shape derivative +-c |w|^(m - 1) (dm + m dm
# log|w| + m d log c): -+inf * sign(dm) for m <= 1 where the shape moves the power, c d log c
# at m = 1 otherwise, 0 for m > 1; the shapes' own second derivatives 0 (the density is 0
# at the end for every shape near)
PDF_CASES = [
    # gamma(2): x e^-x / Gamma(a) at a = 2: d2/dx da -> -inf (was 0)
    ("gamma a=2", lambda x, a: stats.gamma.pdf(x, a), (0.0, 2.0), [[-2.0, -inf], [-inf, 0.0]]),
    # gamma(1.5): the slope is inf, x-a -inf (was 0)
    ("gamma a=1.5", lambda x, a: stats.gamma.pdf(x, a), (0.0, 1.5),
     [[-inf, -inf], [-inf, 0.0]]),
    # gamma(3): m = 2, the slope 0 for every a near: 0
    ("gamma a=3", lambda x, a: stats.gamma.pdf(x, a), (0.0, 3.0), [[1.0, 0.0], [0.0, 0.0]]),
    # beta(2, b) at 0: x (1 - x)^(b - 1) / B(2, b), slope 1 / B(2, b) = b (b + 1): d/db
    # 2b + 1 = 7 at b = 3 (was 0); the power a - 1: x-a -inf (was 0); x-x -48 (session 33)
    ("beta lower", lambda x, a, b: stats.beta.pdf(x, a, b), (0.0, 2.0, 3.0),
     [[-48.0, -inf, 7.0], [-inf, 0.0, 0.0], [7.0, 0.0, 0.0]]),
    # beta(a, 2) at 1: slope -1 / B(a, 2) = -a (a + 1): d/da -(2a + 1) = -5 at a = 2; the
    # power b - 1 at the upper end: +inf; 6 x (1 - x)'' = -12
    ("beta upper", lambda x, a, b: stats.beta.pdf(x, a, b), (1.0, 2.0, 2.0),
     [[-12.0, -5.0, inf], [-5.0, 0.0, 0.0], [inf, 0.0, 0.0]]),
]


@pytest.mark.parametrize("order", ["hessian", "rev-rev"])
@pytest.mark.parametrize("name,f,args,want", PDF_CASES, ids=[c[0] for c in PDF_CASES])
def test_pdf_zero_end_mixed_x_shape(order, name, f, args, want):
    np.testing.assert_allclose(_hess(order, f, args), np.array(want), rtol=1e-12, atol=1e-12)


def test_pdf_zero_end_mixed_references_by_differences():
    # the finite x-shape entries against differences in the shape of the formula's slope at
    # a point 1e-7 inside (error O(1e-7))
    h = 1e-5
    for x, f, j, want in [(1e-7, lambda x, a, b: stats.beta.pdf(x, a, b), 2, 7.0),
                          (1.0 - 1e-7, lambda x, a, b: stats.beta.pdf(x, a, 2.0), 1, -5.0)]:
        g = ft.grad(f)
        up, down = [x, 2.0, 3.0], [x, 2.0, 3.0]
        up[j] += h
        down[j] -= h
        assert (float(g(*up)) - float(g(*down))) / (2 * h) == pytest.approx(want, rel=1e-4)


# an end where the density is positive and finite but its power m = 0 moves with a shape
# (gamma a = 1: p = x^(a - 1) e^-x / Gamma(a)): the log density's shape derivative is
# dm log x + ..., so d2/dx da = dm / x -> +inf (pdf and logpdf, p > 0); pdf's d2/da2 =
# p ((log x - psi(a))^2 - psi'(a)) -> +inf; logpdf's -psi'(a) (the formula's). With the scale
# s at the end 0: logpdf's (a - 1) log(x / s) gives d2/ds da = -1/s; pdf's d/ds d/da =
# -(1/s^2) (log(x/s) - psi(a)) + ... -> +inf.
_T1 = _trigamma_int(1)
_F_NM = -1.0 / 12.0 + _trigamma_int(4) / 4.0
FLAT_CASES = [
    # (was [[1, -0.577], [-0.577, -1.31]])
    ("gamma pdf", lambda x, a: stats.gamma.pdf(x, a), (0.0, 1.0), [[1.0, inf], [inf, inf]]),
    # (x-a was 0): (a - 1) log x - x: x-x -(a - 1) / x^2 = 0
    ("gamma logpdf", lambda x, a: stats.gamma.logpdf(x, a), (0.0, 1.0),
     [[0.0, inf], [inf, -_T1]]),
    # (s, a): pdf e^(-x/s) / s: s-s 2/s^3 (s-a was 0)
    ("gamma pdf scale", lambda s, a: stats.gamma.pdf(0.0, a, 0.0, s), (2.0, 1.0),
     [[0.25, inf], [inf, inf]]),
    # (s, a): logpdf -log s - ...: s-s 1/s^2, s-a -1/s (was 0)
    ("gamma logpdf scale", lambda s, a: stats.gamma.logpdf(0.0, a, 0.0, s), (2.0, 1.0),
     [[0.25, -0.5], [-0.5, -_T1]]),
    # beta(1, b) at 0: b (1 - x)^(b - 1): x-x b (b - 1) (b - 2) = 6, x-b -(2b - 1) = -5,
    # b-b 0; a moves the power: x-a, a-a +inf; a-b: p (log x) d/db log c -> -inf (d/db
    # -log B(a, b) = 1/b at a = 1)
    ("beta pdf", lambda x, a, b: stats.beta.pdf(x, a, b), (0.0, 1.0, 3.0),
     [[6.0, inf, -5.0], [inf, inf, -inf], [-5.0, -inf, 0.0]]),
    # f(2, m): c = (2/m)^1 / B(1, m/2) = 1 for every m (d log c / dm 0: rounding left 1e-17,
    # m-n was inf), p = (1 + 2x/m)^-(1 + m/2): slope -(1 + 2/m) (x-m 2/m^2 = 1/18), x-x
    # (1 + m/2)(2 + m/2)(2/m)^2 = 20/9; n-m: p (d/dm d/dn log c) with d/dn log c =
    # log(n/m)/2 + 1/2 - (psi(n/2) - psi(n/2 + m/2))/2: -1/(2m) + psi'(1 + m/2)/4
    ("f pdf", lambda x, n, m: stats.f.pdf(x, n, m), (0.0, 2.0, 6.0),
     [[20.0 / 9.0, inf, 1.0 / 18.0], [inf, inf, _F_NM], [1.0 / 18.0, _F_NM, 0.0]]),
]


@pytest.mark.parametrize("order", ["hessian", "rev-fwd"])
@pytest.mark.parametrize("name,f,args,want", FLAT_CASES, ids=[c[0] for c in FLAT_CASES])
def test_flat_power_end_second_derivatives(order, name, f, args, want):
    np.testing.assert_allclose(_hess(order, f, args), np.array(want), rtol=1e-9, atol=1e-12)


def test_flat_power_end_references_by_differences():
    # the finite entries above by differences of the formula's first derivatives 1e-7
    # inside (error O(1e-7))
    h = 1e-5
    ga = ft.grad(lambda s, a: stats.gamma.logpdf(1e-7, a, 0.0, s), argnums=1)
    assert (float(ga(2.0 + h, 1.0)) - float(ga(2.0 - h, 1.0))) / (2 * h) == \
        pytest.approx(-0.5, rel=1e-5)
    gn = ft.grad(lambda x, n, m: stats.f.pdf(x, n, m), argnums=1)
    assert (float(gn(1e-9, 2.0, 6.0 + h)) - float(gn(1e-9, 2.0, 6.0 - h))) / (2 * h) == \
        pytest.approx(_F_NM, rel=1e-5)
    gx = ft.grad(lambda x, b: stats.beta.pdf(x, 1.0, b))
    assert (float(gx(1e-7, 3.0 + h)) - float(gx(1e-7, 3.0 - h))) / (2 * h) == \
        pytest.approx(-5.0, rel=1e-5)


# logpdf at an end where the density is 0 (c |w|^m exp(r w), m > 0): m log|w| + log c + r w:
# d2/dx2 -inf, d2/dx dshape dm / w (+-inf) or dr/dshape, d2/dshape2 that of log c (was nan in
# three orders of five)
LOGPDF_CASES = [
    # gamma(a): (a - 1) log x - x - log Gamma(a): x-a 1/x -> inf, a-a -psi'(a)
    ("gamma", lambda x, a: stats.gamma.logpdf(x, a), (0.0, 2.0),
     [[-inf, inf], [inf, -_trigamma_int(2)]]),
    # beta at 0: (a - 1) log x + (b - 1) log(1 - x) - log B: x-b -1/(1 - x) = -1;
    # a-a psi'(a + b) - psi'(a), a-b psi'(a + b), b-b psi'(a + b) - psi'(b)
    ("beta lower", lambda x, a, b: stats.beta.logpdf(x, a, b), (0.0, 2.0, 3.0),
     [[-inf, inf, -1.0], [inf, -(1 / 4 + 1 / 9 + 1 / 16), _T5], [-1.0, _T5, -25.0 / 144.0]]),
    # beta at 1: x-a 1/x = 1, x-b -1/(1 - x) -> -inf
    ("beta upper", lambda x, a, b: stats.beta.logpdf(x, a, b), (1.0, 2.0, 3.0),
     [[-inf, 1.0, -inf], [1.0, -(1 / 4 + 1 / 9 + 1 / 16), _T5], [-inf, _T5, -25.0 / 144.0]]),
    # gamma(2) with the scale s: log(x / s) - x / s - log s: d/dx = 1/x - 1/s: x-s 1/s^2;
    # s-s with x held (session 35; z held gave 1/s^2): d2/ds2 (-2 log s) = 2/s^2
    ("gamma x scale", lambda x, s: stats.gamma.logpdf(x, 2.0, 0.0, s), (0.0, 2.0),
     [[-inf, 0.25], [0.25, 0.5]]),
    # logcdf: log F = 2 log(x / s) - log 2 + (2/3) (-x / s) + ...: d/dx = 2/x - 2 / (3 s):
    # x-s 2 / (3 s^2) = 1/6 (was -inf); s-s with x held 2/s^2 (session 35; 0 with z held)
    ("gamma logcdf x scale", lambda x, s: stats.gamma.logcdf(x, 2.0, 0.0, s), (0.0, 2.0),
     [[-inf, 1.0 / 6.0], [1.0 / 6.0, 0.5]]),
    # pareto at x = s: log F = log b + log L - b L / 2, L = log x - log s: x-x -1/(L x)^2,
    # x-s 1/(L^2 x s) -> inf, s-s -> -inf (was [[0, -inf], [-inf, inf]])
    ("pareto logcdf x scale", lambda x, s: stats.pareto.logcdf(x, 2.0, 0.0, s), (2.0, 2.0),
     [[-inf, inf], [inf, -inf]]),
    # the density infinite (a = 1/2): (a - 1) log x: x-x -(a - 1) / x^2 -> +inf; a-a
    # -psi'(1/2) = -pi^2 / 2 (first derivatives of jacfwd were nan)
    ("gamma infinite", lambda x, a: stats.gamma.logpdf(x, a), (0.0, 0.5),
     [[inf, inf], [inf, -math.pi ** 2 / 2.0]]),
    # weibull_min(c = 1/2): log c + (c - 1) log x - x^c: c-c -1/c^2 = -4
    ("weibull_min infinite", lambda x, c: stats.weibull_min.logpdf(x, c), (0.0, 0.5),
     [[inf, inf], [inf, -4.0]]),
]


@pytest.mark.parametrize("order", ["hessian", "rev-fwd"])
@pytest.mark.parametrize("name,f,args,want", LOGPDF_CASES, ids=[c[0] for c in LOGPDF_CASES])
def test_logpdf_zero_end_second_derivatives(order, name, f, args, want):
    np.testing.assert_allclose(_hess(order, f, args), np.array(want), rtol=1e-12, atol=1e-12)


def test_logpdf_zero_end_first_derivatives_and_values():
    # gamma(2) at 0: d/dx 1/x -> inf, d/da log x -> -inf; an array with a point inside keeps
    # the formula's derivative (d/da at x = 1: -psi(2) = gamma - 1)
    with np.errstate(all="ignore"):
        for d in (ft.jacfwd, ft.jacrev):
            got = d(lambda x, a: stats.gamma.logpdf(x, a), argnums=(0, 1))(0.0, 2.0)
            assert [float(v) for v in got] == [inf, -inf]
            got = d(lambda x, a: stats.gamma.logpdf(x, a), argnums=(0, 1))(0.0, 0.5)
            assert [float(v) for v in got] == [-inf, -inf]  # (jacfwd: nan)
            da = d(lambda a: stats.gamma.logpdf(np.array([0.0, 1.0]), a))(2.0)
            np.testing.assert_allclose(da, [-inf, 0.5772156649015329 - 1.0], rtol=1e-12)
        assert float(ft.jit(ft.grad(lambda x: stats.gamma.logpdf(x, 2.0)))(0.0)) == inf
    assert float(stats.gamma.logpdf(0.0, 2.0)) == -inf
