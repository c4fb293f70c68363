"""Session 30 (gammaincinv30): the generic incomplete gamma function and its inverses
(torch, array-api-strict) at large shapes a, where the power series and the continued
fraction need about 8 sqrt(a) steps near x = a: Temme's uniform expansion there, and nan
(never the bracket's midpoint) from an inverse whose iteration does not converge."""
import math

import numpy as np
import pytest
import scipy.special as ss

import functrans.backends.generic as generic
import functrans.scipy.special as fs

xs = pytest.importorskip("array_api_strict")
torch = pytest.importorskip("torch")

mpmath = pytest.importorskip("mpmath")


def _strict(*values):
    return [xs.asarray(np.asarray(v, dtype=np.float64)) for v in values]


def _torch(*values):
    return [torch.tensor(np.asarray(v, dtype=np.float64)) for v in values]


def _np(v):
    if isinstance(v, torch.Tensor):
        return v.numpy()
    return np.asarray(v)


@pytest.mark.parametrize("make", [_strict, _torch])
def test_chdtri_and_chdtr_at_huge_shape(make):
    # before: chdtri(1e10, 0.5) = 9991016981.708 (9e-4 off), chdtr(1e10, 1e10) = nan
    x = _np(fs.chdtri(*make([1e10], [0.5])))[0]
    assert abs(x / ss.chdtri(1e10, 0.5) - 1.0) < 1e-13
    p = _np(fs.chdtr(*make([1e10], [1e10])))[0]
    q = _np(fs.chdtrc(*make([1e10], [1e10])))[0]
    assert abs(p / ss.chdtr(1e10, 1e10) - 1.0) < 1e-13
    assert abs(q / ss.chdtrc(1e10, 1e10) - 1.0) < 1e-13


def _mp_lower(a, x):
    """P(a, x), x < a, by the power series in 30 digits (independent of the code tested)."""
    with mpmath.workdps(30):
        a, x = mpmath.mpf(a), mpmath.mpf(x)
        term = total = mpmath.mpf(1)
        n = 1
        while term > total * mpmath.mpf(10) ** -25:
            term *= x / (a + n)
            total += term
            n += 1
        return mpmath.exp(a * mpmath.log(x) - x - mpmath.loggamma(a + 1)) * total


def test_forward_in_and_around_temme_region():
    # SciPy agrees with the series to about 1e-13 up to a of about 1e5 (not beyond, in the
    # tails: 4e-6 off at gammainc(1e6, 995000), 3% at a = 1e7); the problem's own
    # condition, d log P / d log x times 1e-16, is about 1e-12 in these tails
    a, x = [], []
    for shape in (30.0, 50.0, 50.5, 200.0, 1e3, 1e5):
        for mu in (-0.5, -0.3001, -0.3, -0.1, -1e-3, -1e-7, 0.0, 1e-7, 1e-3, 0.1, 0.3,
                   0.3001, 0.5):
            for scale in (1.0, 8.0 / math.sqrt(shape)):
                a.append(shape)
                x.append(shape * (1.0 + mu * scale))
    a, x = np.array(a), np.array(x)
    p = _np(fs.gammainc(*_strict(a, x)))
    q = _np(fs.gammaincc(*_strict(a, x)))
    np.testing.assert_allclose(p, ss.gammainc(a, x), rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(q, ss.gammaincc(a, x), rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("make", [_strict, _torch])
def test_forward_large_shape_tails_against_series(make):
    cases = [(1e6, 995000.0), (1e7, 1e7 * (1.0 - 5.0 / math.sqrt(1e7))),
             (1e7, 1e7 * (1.0 - 1e-4))]
    a = np.array([c[0] for c in cases])
    x = np.array([c[1] for c in cases])
    p = _np(fs.gammainc(*make(a, x)))
    q = _np(fs.gammaincc(*make(a, x)))
    for i, (ai, xi) in enumerate(cases):
        ref = _mp_lower(ai, xi)
        assert abs(p[i] / float(ref) - 1.0) < 1e-13
        assert abs(q[i] / float(1 - ref) - 1.0) < 1e-13


def test_inverses_match_scipy_over_shapes_and_levels():
    shapes = np.logspace(-3, 5, 9)
    levels = np.array([1e-300, 1e-100, 1e-20, 1e-5, 0.3, 0.5, 0.9, 1 - 1e-5, 1 - 1e-10,
                       1 - 1e-16])
    a, y = (v.ravel() for v in np.meshgrid(shapes, levels))
    for f, ref in ((fs.gammaincinv, ss.gammaincinv), (fs.gammainccinv, ss.gammainccinv)):
        got = _np(f(*_strict(a, y)))
        want = ref(a, y)
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=0.0)


@pytest.mark.parametrize("make", [_strict, _torch])
def test_inverses_at_huge_shapes(make):
    # near the median SciPy is right at any shape; in the tails (where SciPy is not,
    # beyond a of about 1e6) P at the result is checked by the series
    a = np.array([1e7, 1e9, 1e10, 1e12, 1e12])
    y = np.array([0.5, 0.3, 0.5, 0.7, 1e-3])
    got = _np(fs.gammaincinv(*make(a, y)))
    np.testing.assert_allclose(got, ss.gammaincinv(a, y), rtol=1e-13)
    got = _np(fs.gammainccinv(*make(a, y)))
    np.testing.assert_allclose(got, ss.gammainccinv(a, y), rtol=1e-13)
    x = _np(fs.gammaincinv(*make([1e7, 1e7], [1e-20, 1e-300])))
    for xi, yi in zip(x, (1e-20, 1e-300)):
        # dlog P / dlog x is about 1e5 here: 1e-15 in x is 1e-10 in P
        assert abs(float(_mp_lower(1e7, xi)) / yi - 1.0) < 1e-9
    x = _np(fs.gammainccinv(*make([1e12], [1e-300])))[0]
    # Q = 1e-300 at x = a + 37 sqrt(a) or so
    assert 1e12 + 30e6 < x < 1e12 + 45e6


def test_inverse_gives_nan_where_it_cannot_converge(monkeypatch):
    # before: the bracket's last midpoint (a finite wrong value) where log P was nan
    monkeypatch.setattr(generic, "_GAMMA_MAX_STEPS", 16)
    x = _np(fs.gammaincinv(*_strict([40.0], [0.5])))
    assert np.isnan(x).all()


@pytest.mark.parametrize("make", [_strict, _torch, lambda *v: [np.asarray(u, np.float64) for u in v]])
def test_gamma_density_slope_at_huge_shape(make):
    # d/dx gammainc and d/dy gammaincinv (the density and its inverse, on every backend):
    # before, (a-1) log x - x - lgamma(a) lost eps a log x: 1e-5 off at a = 1e10
    import functrans as ft
    cases = [(1e10, 9999999999.666653), (1e10, 9999363879.065273), (1e8, 99994755.75321455),
             (30.0, 29.0), (11.0, 1e-20), (0.5, 2.0)]
    for a, x in cases:
        with mpmath.workdps(40):
            ref = float(mpmath.exp((a - 1) * mpmath.log(x) - x - mpmath.loggamma(a)))
        av, xv = make(a, x)
        d = float(_np(ft.grad(fs.gammainc, argnums=1)(av, xv)))
        assert abs(d / ref - 1.0) < 1e-10
        dq = float(_np(ft.grad(fs.gammaincc, argnums=1)(av, xv)))
        assert abs(dq / -ref - 1.0) < 1e-10


def test_gammainc_shape_derivative_where_its_loops_do_not_converge():
    # Near x = a the series needs about 8 sqrt(a) steps; past its step limit (a of about 5e6)
    # the derivative in a was exactly 0 (a nan factor taken as zero by the signed exp), a
    # silent wrong value; then nan (session 30); since session 31 Temme's expansion
    # differentiated in a gives it (tests/test_s31_incgrad31.py checks it more widely).
    # Central differences of SciPy's P in a where the loops converge; beyond, quadrature
    # references: mpmath (dps 50) quad of t^(a-1) e^-t / Gamma(a) (log t - digamma(a)) over
    # [a - 60 sqrt(a), x] (/tmp/inc31/ref.py of session 31).
    from functrans.primitives.special import gammainc_da
    a = np.array([1e5, 1e6, 1e7, 1e8])
    x = a - 0.5 * np.sqrt(a)
    d1 = gammainc_da(a, x, n=1)
    d2 = gammainc_da(a, x, n=2)
    np.testing.assert_allclose(d1[2:], [-0.00011134016804437564, -3.5207266195676767e-5],
                               rtol=1e-13)
    np.testing.assert_allclose(d2[2:], [1.7605818349937387e-8, 1.7604073218009069e-9],
                               rtol=1e-12)
    h = 1e-3 * np.sqrt(a[:2])  # (P moves on a scale of sqrt(a) in a)
    fd = (ss.gammainc(a[:2] + h, x[:2]) - ss.gammainc(a[:2] - h, x[:2])) / (2 * h)
    np.testing.assert_allclose(d1[:2], fd, rtol=1e-5)
    import functrans as ft
    g = ft.grad(fs.gammainc, argnums=0)(np.float64(1e8), np.float64(99994755.75))
    assert abs(g / -3.476955951250662e-5 - 1.0) < 1e-13
