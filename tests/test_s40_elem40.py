"""Session 40 (elem40): elementwise slopes at the float range's ends.

- erfcx's derivatives: 2 x erfcx - 2/sqrt(pi) (and the recursion of the higher ones) cancel
  for large x, relative eps 2 x^2: grad(erfcx) was 0 at 6.9e7 (true -1.2e-16) and of the wrong
  sign at 1e8; now from x = 20 the asymptotic series (primitive erfcx_deriv), within 2 ulp.
- exp_sq (the normal density: ndtr's slope) in fewer passes, scale folded in; float32 through
  float64.
- jet(abs) at 0: one-sided, the sign of the curve's first nonzero coefficient (was 0
  throughout; JAX's jet takes +1).
- Reverse mode of 1/cosh(x) far out keeps nan / -0 (as JAX, torch and autograd): the cotangent
  -c / y^2 is out of range; a strong zero in cosh's own rule would turn log(cosh(800))'s nan
  slope (true 1) into a silent 0 (guarded below).
"""

import math

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
import functrans.scipy.special as fsp
from functrans.experimental.jet import jet
from functrans.primitives import special as psp
from tests._reference import max_rel_err as _rel, mpmath_or_skip as _mp


# -- erfcx's derivatives for large x --------------------------------------------------------------

_FAR = [20.0, 25.0, 60.0, 1e3, 7.75e5, 6.9e7, 1e8, 1e12, 1e100]


def _erfcx_series_deriv(x, n):
    """The n-th derivative of erfcx at a large x from its asymptotic series in mpmath (12
    terms: far below an ulp from x = 20)."""
    mp = _mp()
    with mp.workdps(50):
        x = mp.mpf(x)
        total = sum((-1) ** k * mp.fac2(2 * k - 1) / mp.mpf(2) ** k * (-1) ** n
                    * mp.rf(2 * k + 1, n) * x ** (-(2 * k + 1 + n)) for k in range(12))
        return float(total / mp.sqrt(mp.pi))


def _erfcx_deriv_direct(x, n):
    mp = _mp()
    with mp.workdps(60):
        return float(mp.diff(lambda t: mp.exp(t * t) * mp.erfc(t), mp.mpf(x), n))


def test_erfcx_series_reference_agrees_with_mpmath_direct():
    # (the test's own reference, against mpmath's erfc differentiated numerically)
    for x in (20.0, 25.0, 60.0):
        for n in (1, 2, 3):
            assert _rel(_erfcx_series_deriv(x, n), _erfcx_deriv_direct(x, n)) < 1e-15


def test_erfcx_slope_for_large_x(backend):
    x = backend.asarray(_FAR)
    g = ft.grad(lambda v: fnp.sum(fsp.erfcx(v)))(x)
    assert backend.is_own(g)
    want = [_erfcx_series_deriv(v, 1) for v in _FAR]
    got = backend.to_numpy(g)
    assert _rel(got, want) < 5e-16, (got, want)
    assert np.all(got < 0)   # (was 0 at 6.9e7 and +2.2e-16 at 1e8)


@pytest.mark.parametrize("n", [2, 3])
def test_erfcx_higher_derivatives_for_large_x(n):
    f = fsp.erfcx
    for _ in range(n):
        f = ft.grad(f)
    xs = np.array(_FAR)
    got = ft.vmap(f)(xs)
    want = [_erfcx_series_deriv(v, n) for v in _FAR]
    assert _rel(got, want) < 8e-16, (n, got, want)


def test_erfcx_second_derivative_backends(backend):
    pts = [25.0, 1e6, 1e100]
    h = ft.vmap(ft.grad(ft.grad(fsp.erfcx)))(backend.asarray(pts))
    assert _rel(backend.to_numpy(h), [_erfcx_series_deriv(v, 2) for v in pts]) < 8e-16


def test_erfcx_slope_below_the_series_unchanged():
    # below 0.5 the closed form, bit for bit: 2 x erfcx(x) - 2/sqrt(pi) (elem41: on [0.5, 20)
    # Taylor polynomials, within an ulp; tests/test_s41_elem41.py)
    xs = np.array([-26.0, -3.0, -0.5, 0.0, 0.3, 0.49])
    g = ft.grad(lambda v: fnp.sum(fsp.erfcx(v)))(xs)
    y = np.asarray(fsp.erfcx(xs))
    np.testing.assert_array_equal(g, xs * y * 2.0 - 2.0 / math.sqrt(math.pi))
    for x in (-3.0, 0.7, 4.0, 12.5, 19.99):
        got = ft.grad(fsp.erfcx)(x)
        assert _rel(got, _erfcx_deriv_direct(x, 1)) < 2.3e-16, x


def test_erfcx_slope_mixed_array_jit_and_edges():
    # (nan beside the large x: the series still taken for them)
    xs = np.array([3.0, 25.0, 1e8, np.inf, np.nan, -30.0])
    f = ft.grad(lambda v: fnp.sum(fsp.erfcx(v)))
    g, gj = f(xs), ft.jit(f)(xs)
    np.testing.assert_array_equal(g, gj)
    assert _rel(g[:3], [_erfcx_deriv_direct(3.0, 1), _erfcx_series_deriv(25.0, 1),
                        _erfcx_series_deriv(1e8, 1)]) < 5e-16 * 2000
    assert _rel(g[1:3], [_erfcx_series_deriv(25.0, 1), _erfcx_series_deriv(1e8, 1)]) < 5e-16
    assert g[3] == 0.0   # (-1/(sqrt(pi) x^2) -> -0 at +inf)
    assert np.isnan(g[4])
    assert g[5] == -np.inf   # (erfcx overflows below -26.6: its slope -inf)
    h = ft.vmap(ft.grad(ft.grad(fsp.erfcx)))(xs[:4])
    assert np.all(np.isfinite(h)) and h[3] == 0.0


def test_erfcx_float32_slope_for_large_x():
    xs = np.array([30.0, 7.75e5, 1e6], dtype=np.float32)
    g = ft.grad(lambda v: fnp.sum(fsp.erfcx(v)))(xs)
    assert g.dtype == np.float32
    want = [_erfcx_series_deriv(float(v), 1) for v in xs]
    assert _rel(g, want) < 1.2e-7   # (was 2.6e3 float32 ulp at 7.75e5)


def test_erfcx_deriv_primitive_rules():
    x = np.array([5.0, 21.0, 400.0])
    y = psp.erfcx(x)
    # its tangent is the next derivative (along erfcx: y's own tangent is erfcx's slope)
    _, t = ft.jvp(lambda v: psp.erfcx_deriv_p.bind(v, psp.erfcx(v), n=1), (x,), (np.ones(3),))
    np.testing.assert_array_equal(t, psp.erfcx_deriv_p.bind(x, y, n=2))
    assert _rel(t, [_erfcx_deriv_direct(5.0, 2), _erfcx_series_deriv(21.0, 2),
                    _erfcx_series_deriv(400.0, 2)]) < 1e-13
    # vmap of a 2-d batch: elementwise
    xb = np.array([[5.0, 30.0], [1e9, 2.0]])
    got = ft.vmap(lambda r: psp.erfcx_deriv_p.bind(r, psp.erfcx(r), n=1))(xb)
    np.testing.assert_array_equal(got, psp.erfcx_deriv_p.bind(xb, psp.erfcx(xb), n=1))


# -- exp_sq: fewer passes, the scale folded in ---------------------------------------------------

@pytest.mark.parametrize("c, scale", [(-0.5, 1.0 / math.sqrt(2 * math.pi)), (-1.0, -1.25),
                                      (0.5, 2.5), (1.0, 1.0)])
def test_exp_sq_scaled_values_and_slope(c, scale):
    mp = _mp()
    xs = np.array([0.0, -0.3, 1.0000001, -4.3, 9.1, 20.3, -26.53, 37.9])
    got = psp.exp_sq(xs, c, scale)
    g = ft.vmap(ft.grad(lambda v: psp.exp_sq(v, c, scale)))(xs)
    with mp.workdps(50):
        want = [float(scale * mp.exp(c * mp.mpf(float(v)) ** 2)) for v in xs]
        slope = [float(scale * 2 * c * mp.mpf(float(v)) * mp.exp(c * mp.mpf(float(v)) ** 2))
                 for v in xs]
    ok = np.isfinite(want) & (np.abs(want) > 1e-300)
    assert _rel(got[ok], np.array(want)[ok]) < 3.5e-16
    assert _rel(g[ok], np.array(slope)[ok]) < 5e-16
    edge = psp.exp_sq(np.array([np.inf, -np.inf, np.nan, 1e200, -70.0]), c, scale)
    big = math.copysign(np.inf, scale) if c > 0 else 0.0
    np.testing.assert_array_equal(edge[[0, 1, 3, 4]], big)
    assert np.isnan(edge[2])


def test_exp_sq_float32_through_float64(backend):
    mp = _mp()
    xs = [0.5, -3.3, 9.1, 12.7, 13.9]
    x = backend.asarray(xs, dtype="float32")
    got = psp.exp_sq(x, -0.5, 0.25)
    assert backend.is_own(got) and backend.to_numpy(got).dtype == np.float32
    with mp.workdps(30):
        want = [float(mp.exp(-mp.mpf(float(np.float32(v))) ** 2 / 2) / 4) for v in xs]
    assert _rel(backend.to_numpy(got), np.array(want, dtype=np.float32)) == 0.0


def test_ndtr_slope_against_mpmath_on_a_grid(backend):
    mp = _mp()
    xs = np.linspace(-38.5, 38.5, 78)
    g = ft.grad(lambda v: fnp.sum(fsp.ndtr(v)))(backend.asarray(xs))
    with mp.workdps(40):
        want = np.array([float(mp.npdf(mp.mpf(float(v)))) for v in xs])
    ok = want > 1e-300
    assert _rel(backend.to_numpy(g)[ok], want[ok]) < 4.5e-16


def test_ndtr_second_derivative_and_jit():
    xs = np.array([-30.0, -2.5, 0.0, 1.5, 12.0])
    f = ft.grad(ft.grad(lambda v: fsp.ndtr(v)))
    want = -xs * np.exp(-xs * xs / 2) / math.sqrt(2 * math.pi)
    got = ft.vmap(f)(xs)
    assert _rel(got, want) < 1e-15
    np.testing.assert_array_equal(ft.jit(ft.vmap(f))(xs), got)


# -- jet(abs) at 0: one-sided ---------------------------------------------------------------------

@pytest.mark.parametrize("terms, want", [
    ((1.0, 1.0, 1.0), (1.0, 1.0, 1.0)),
    ((-1.0, 1.0, 1.0), (1.0, -1.0, -1.0)),
    ((0.0, -2.0, 1.0), (0.0, 2.0, -1.0)),
    ((0.0, 0.0, 3.0), (0.0, 0.0, 3.0)),
    ((0.0, 0.0, -3.0), (0.0, 0.0, 3.0)),
    ((0.0, 0.0, 0.0), (0.0, 0.0, 0.0)),
])
def test_jet_abs_at_zero_is_one_sided(terms, want):
    y, ys = jet(fnp.abs, (0.0,), (terms,))
    assert float(y) == 0.0
    assert [float(t) for t in ys] == list(want)


def _abs_curve_derivatives(x0, terms, order):
    """d^k/dt^k |x(t)| at t = 0+ for x(t) = x0 + sum_k terms[k-1] t^k / k!, by mpmath."""
    mp = _mp()
    with mp.workdps(40):
        def curve(t):
            return abs(x0 + sum(c * t ** (k + 1) / mp.factorial(k + 1)
                                for k, c in enumerate(terms)))
        # (one-sided: differences taken at t > 0)
        return [float(mp.diff(curve, mp.mpf(1e-12), k, h=mp.mpf(1e-14))) for k in
                range(1, order + 1)]


def test_jet_abs_against_the_right_derivatives():
    for terms in ((-1.0, 0.5, 2.0), (0.0, -2.0, 1.0), (0.0, 0.0, -3.0), (2.0, -1.0, 0.5)):
        _, ys = jet(fnp.abs, (0.0,), (terms,))
        want = _abs_curve_derivatives(0.0, terms, 3)
        assert np.allclose([float(t) for t in ys], want, atol=1e-9), (terms, ys, want)


def test_jet_abs_away_from_zero_and_arrays(backend):
    x0 = backend.asarray([0.0, 0.0, -1.5, 2.0, 0.0])
    s1 = backend.asarray([-1.0, 0.0, 1.0, -3.0, 0.0])
    s2 = backend.asarray([4.0, -2.0, 1.0, 2.0, 0.0])
    y, (t1, t2) = jet(fnp.abs, (x0,), ((s1, s2),))
    assert backend.is_own(t1) and backend.is_own(t2)
    np.testing.assert_array_equal(backend.to_numpy(y), [0.0, 0.0, 1.5, 2.0, 0.0])
    np.testing.assert_array_equal(backend.to_numpy(t1), [1.0, 0.0, -1.0, -3.0, 0.0])
    np.testing.assert_array_equal(backend.to_numpy(t2), [-4.0, 2.0, -1.0, 2.0, 0.0])


def test_jet_abs_in_a_composition_jit_and_vmap():
    # |sin(x)| along x(t) = t: sin t for t > 0, the series of sin
    _, ys = jet(lambda v: fnp.abs(fnp.sin(v)), (0.0,), ((1.0, 0.0, 0.0),))
    assert [float(t) for t in ys] == [1.0, 0.0, -1.0]
    # along x(t) = -t: |sin(-t)| = sin t again
    _, ys = jet(lambda v: fnp.abs(fnp.sin(v)), (0.0,), ((-1.0, 0.0, 0.0),))
    assert [float(t) for t in ys] == [1.0, 0.0, -1.0]
    f = lambda x0, s: jet(fnp.abs, (x0,), ((s, s * 0.5),))[1]  # noqa: E731
    x0, s = np.array([0.0, 0.0, 1.0]), np.array([-2.0, 3.0, -1.0])
    want = [np.array([2.0, 3.0, -1.0]), np.array([1.0, 1.5, -0.5])]
    for got in (f(x0, s), ft.jit(f)(x0, s), ft.vmap(f)(x0, s)):
        for g, w in zip(got, want):
            np.testing.assert_array_equal(np.asarray(g), w)


def test_jet_abs_jax_takes_plus_one():
    jax = pytest.importorskip("jax")
    from jax.experimental.jet import jet as jjet
    jax.config.update("jax_enable_x64", True)
    _, ys = jjet(jax.numpy.abs, (0.0,), ((-1.0, 1.0),))
    # JAX's [-1, 1] is |x| of x(t) = -t + t^2/2 taken as x itself; the one-sided answer:
    assert [float(t) for t in ys] == [-1.0, 1.0]
    _, ours = jet(fnp.abs, (0.0,), ((-1.0, 1.0),))
    assert [float(t) for t in ours] == [1.0, -1.0]


# -- reverse mode through an overflowing cosh: kept, and not made silently 0 ----------------------

def test_log_cosh_slope_far_out_is_not_a_silent_zero():
    # log(cosh(800)): the value inf (true 799.3), the cotangent of cosh 1/inf = 0 exactly, its
    # slope sinh(800) = inf. A strong zero there (what would make grad of 1/cosh(800) -0)
    # would give 0 here, the true slope being 1 (nan now; JAX's too)
    g = ft.grad(lambda v: fnp.log(fnp.cosh(v)))(800.0)
    assert np.isnan(g) or g == 1.0
    g = ft.grad(lambda v: fnp.log(1.0 + fnp.exp(v * 2.0)))(400.0)   # (same: exp(800) = inf)
    assert np.isnan(g) or g == 2.0
