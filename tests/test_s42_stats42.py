"""Session 42 (stats42): the F distribution at extreme degrees of freedom.

- cdf/sf: the backend's betainc at the rounded u = n x / (m + n x) gave silent wrong values
  where n x underflows or w = 1 - u rounds to 1 (f.sf(1e-300, 1e-8, 1e30) 1, true 3.5e-6;
  f.sf(1e30, 1e-30, 1e30) 0.39, true 2.8e-31; f.sf(1e3, 0.5, 1e30) 1, true 1.2e-111) and nan
  at huge shapes (f.cdf(0.5, 1e300, 1e-8), f.sf(0.5, 1e30, 1e30)); now the generic methods
  with u, w and their logarithms computed precisely (special._f_extreme_pair), eagerly, under
  vmap and under jit (primitive f_extreme_fix).
- pdf: the plain log form subtracted terms of size m log m (f.pdf(1e30, 1e-30, 1e30) was 1,
  true 3.0e-61); now the deviance form of _log_beta_front (eagerly and under vmap; jit keeps
  the plain form).

References: mpmath (the power series of I_u(a, b) at 80 + digits enough for its cancellation,
pinned below; the density at 700 digits, computed in the test)."""

import math

import numpy as np
import pytest

import functrans as ft
from functrans.primitives import special as prims
from functrans.scipy import special, stats

# (x, dfn, dfd, cdf, sf): mpmath, I_u(a, b) = u^a / (a B(a, b)) (1 + a sum_k (1 - b)_k u^k /
# (k! (a + k))) on the side of the smaller quotient, u and w exact in mpmath
_F_EXTREME = [
    (0.5, 1e300, 1e-8, 8.9217321485950377e-8, 0.99999991078267851),
    (1e300, 1e4, 1e300, 1.0, 0.0),
    (0.5, 1e30, 1e30, 0.0, 1.0),
    (1e-300, 1e-300, 1e-300, 0.5, 0.5),
    (1e-300, 1e-8, 1e30, 0.99999645344558823, 3.5465544117707167e-6),
    (1e30, 1e-30, 1e30, 1.0, 2.798867973880804e-31),
    (0.001, 1e30, 0.5, 1.1674751609445077e-111, 1.0),
    (1000.0, 0.5, 1e30, 1.0, 1.1674751609445016e-111),
    # (dfd = 1e-300: the cdf is b (log w + gamma + psi(a)), b = dfd/2, a = dfn/2)
    (1e-30, 1e300, 1e-300, 3.1090695331202538e-298, 1.0),
    (1e6, 1e300, 1e-300, 3.523534849859182e-298, 1.0),
]

_CASES = [(x, n, m) for x, n, m, _, _ in _F_EXTREME]


def _close(got, want, rtol=1e-13):
    got = np.asarray(got, dtype=np.float64)
    np.testing.assert_allclose(got, want, rtol=rtol, atol=0.0 if want != 0.0 else 1e-300)


@pytest.mark.parametrize("x, n, m, cdf, sf", _F_EXTREME)
def test_f_cdf_sf_extreme_degrees_of_freedom(x, n, m, cdf, sf):
    """Eagerly and under jit (the primitive at evaluation), both tails; fdtr/fdtrc alike."""
    _close(stats.f.cdf(x, n, m), cdf)
    _close(stats.f.sf(x, n, m), sf)
    _close(ft.jit(stats.f.cdf)(x, n, m), cdf)
    _close(ft.jit(stats.f.sf)(x, n, m), sf)
    _close(special.fdtr(n, m, x), cdf)
    _close(ft.jit(special.fdtrc)(n, m, x), sf)


def test_f_extreme_on_every_backend(backend):
    """The same values from torch and array-api-strict arrays (the generic betainc, which
    gave 0.39 at f.sf(1e30, 1e-30, 1e30) there too), and under vmap."""
    xs, ns, ms = (backend.asarray(np.array(col, dtype=np.float64), "float64")
                  for col in zip(*_CASES))
    cdf = np.asarray(backend.to_numpy(stats.f.cdf(xs, ns, ms)))
    sf = np.asarray(backend.to_numpy(ft.vmap(stats.f.sf)(xs, ns, ms)))
    for i, (_, _, _, c, s) in enumerate(_F_EXTREME):
        _close(cdf[i], c)
        _close(sf[i], s)


def test_f_cdf_slope_in_x_is_the_density_at_extreme_shapes():
    """Where the x-derivative is finite, it is the (now right) density: both were computed
    by different formulas (betainc's slope at u; the deviance form)."""
    for x, n, m in [(1e30, 1e-30, 1e30), (0.001, 1e30, 0.5), (1000.0, 0.5, 1e30),
                    (0.5, 1e300, 1e-8)]:
        pdf = float(stats.f.pdf(x, n, m))
        np.testing.assert_allclose(float(ft.grad(stats.f.cdf)(x, n, m)), pdf, rtol=1e-12)
        np.testing.assert_allclose(float(ft.jit(ft.grad(stats.f.sf))(x, n, m)), -pdf,
                                   rtol=1e-12)


def _pdf_ref(mpmath, x, n, m):
    with mpmath.workdps(700):
        x, n, m = mpmath.mpf(x), mpmath.mpf(n), mpmath.mpf(m)
        a, b = n / 2, m / 2
        den = m + n * x
        lp = (a * mpmath.log(n * x / den) + b * mpmath.log(m / den) - mpmath.log(x)
              - (mpmath.loggamma(a) + mpmath.loggamma(b) - mpmath.loggamma(a + b)))
        return mpmath.exp(lp)


_PDF_POINTS = [
    (1e30, 1e-30, 1e30), (1e-8, 1e-300, 1e15), (1.0, 1e30, 1e300), (1.0, 1e300, 1e30),
    (1e-300, 0.5, 1e15), (1e30, 1e300, 1e-8), (0.5, 1e-3, 1e100), (2.0, 1e15, 1e15),
    (1e-300, 1e-300, 1e-300), (0.7, 3.0, 7.0), (12.0, 0.3, 40.0), (1e-5, 2.0, 1e8),
]


@pytest.mark.parametrize("x, n, m", _PDF_POINTS)
def test_f_pdf_extreme(x, n, m):
    mpmath = pytest.importorskip("mpmath")
    want = _pdf_ref(mpmath, x, n, m)
    got = float(stats.f.pdf(x, n, m))
    if want < mpmath.mpf("1e-305"):
        assert got <= 1e-300
    else:
        assert abs(got - float(want)) <= 1e-12 * float(want)
    # (under grad the same values; jit keeps the plain form: not fixed there yet)
    np.testing.assert_allclose(float(ft.jvp(stats.f.pdf, (x, n, m), (1.0, 0.0, 0.0))[0]),
                               got, rtol=1e-14, atol=0.0)


def test_f_pdf_derivatives_at_ordinary_points():
    """The deviance form's derivatives: d/dx log pdf in closed form, (n/2 - 1)/x -
    (n + m)/2 n / (m + n x); the shapes' by central differences."""
    for x, n, m in [(0.7, 3.0, 7.0), (2.5, 12.0, 0.8), (0.05, 0.6, 30.0)]:
        g = ft.grad(stats.f.logpdf, argnums=(0, 1, 2))(x, n, m)
        want_x = (n / 2 - 1) / x - (n + m) / 2 * n / (m + n * x)
        np.testing.assert_allclose(float(g[0]), want_x, rtol=1e-13)
        for i, (arg, h) in enumerate(((n, 1e-5 * n), (m, 1e-5 * m)), start=1):
            args = [x, n, m]
            args[i] = arg + h
            up = float(stats.f.logpdf(*args))
            args[i] = arg - h
            down = float(stats.f.logpdf(*args))
            np.testing.assert_allclose(float(g[i]), (up - down) / (2 * h), rtol=1e-7)
        hj = ft.jacfwd(ft.jacrev(stats.f.logpdf, argnums=(0, 1)), argnums=(0, 1))(x, n, m)
        he = ft.hessian(stats.f.logpdf, argnums=(0, 1))(x, n, m)
        np.testing.assert_allclose(np.asarray(hj, dtype=float), np.asarray(he, dtype=float),
                                   rtol=1e-12)


def test_f_extreme_fix_rules():
    """The primitive's value takes the extreme element only; its tangent is out's."""
    out = np.array([0.5, 0.39, 0.2])
    n = np.full(3, 1e-30)
    m = np.array([1.0, 1e30, 3.0])
    x = np.array([1.0, 1e30, 2.0])
    fixed = np.asarray(prims.f_extreme_fix(out, n, m, x, upper=True))
    assert fixed[0] == 0.5 and fixed[2] == 0.2
    assert abs(fixed[1] - 2.798867973880804e-31) <= 1e-13 * 2.8e-31
    _, t = ft.jvp(lambda o: prims.f_extreme_fix(o, n, m, x, upper=True), (out,),
                  (np.array([1.0, 2.0, 3.0]),))
    np.testing.assert_array_equal(np.asarray(t), [1.0, 2.0, 3.0])
    graph = str(ft.make_graph(ft.jit(stats.f.sf))(1e30, 1e-30, 1e30))
    assert "f_extreme_fix" in graph


def test_f_ordinary_values_unchanged():
    """Away from the extremes the values are the former ones (SciPy's to rounding)."""
    sc = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(42)
    x = rng.lognormal(0.0, 2.0, 40)
    n = rng.lognormal(1.0, 2.0, 40)
    m = rng.lognormal(1.0, 2.0, 40)
    np.testing.assert_allclose(np.asarray(stats.f.cdf(x, n, m)), sc.f.cdf(x, n, m),
                               rtol=1e-11, atol=1e-300)
    np.testing.assert_allclose(np.asarray(stats.f.sf(x, n, m)), sc.f.sf(x, n, m),
                               rtol=1e-11, atol=1e-300)
    np.testing.assert_allclose(np.asarray(stats.f.pdf(x, n, m)), sc.f.pdf(x, n, m),
                               rtol=1e-11, atol=1e-300)
    assert not math.isnan(float(stats.f.cdf(2.0, 3.0, 1e12)))
