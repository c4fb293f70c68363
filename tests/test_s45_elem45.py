"""Session 45 (elem45): digamma near its roots; what this helper's changes pin.

- digamma on (-100, 0): the reflection ``psi(1 - x) - pi cot(pi x)`` of every backend
  cancels near psi's negative roots (SciPy's ``psi(-22.75)`` 1545 ulp, so
  ``grad(gammaln)(-22.75)``; at the float64 nearest the root in (-6, -5) 1.8e17). Now by the
  root tables of backends/digamma_roots.py: within 5 ulp of mpmath at 50 digits.
- digamma near its positive root 1.4616 on torch, array-api-strict (the generic one) and CuPy
  (Cephes's): up to 3e16 ulp (SciPy's handles it). Now by the divided difference there.
"""

import numpy as np
import pytest

import functrans as ft
import functrans.scipy.special as fsp
from tests._reference import mp_values, mpmath_or_skip as _mp, no_torch_host_reads, ulps


_ulps = ulps
_no_host_reads = no_torch_host_reads


def _mp_values(f, xs, dps=50):
    return mp_values(f, xs, dps)


# -- digamma near its roots -----------------------------------------------------------------

def _roots():
    mp = _mp()
    with mp.workdps(40):
        return np.array([float(mp.findroot(mp.digamma, -k - 1.0 + (
            0.496 if k == 0 else float(mp.atan(mp.pi / mp.log(k + 1.5)) / mp.pi))))
            for k in range(30)])


_ROOTS = _roots()
_X0 = 1.4616321449683622   # (psi's positive root, rounded)
_NEGATIVE = np.concatenate([
    np.linspace(-29.97, -0.03, 211), _ROOTS, np.nextafter(_ROOTS, 0.0),
    np.nextafter(_ROOTS, -np.inf), _ROOTS + 1e-9, _ROOTS - 3e-4, [-22.75, -99.5, -97.3]])


def test_digamma_negative_roots(backend):
    want = _mp_values(lambda mp, v: mp.digamma(v), _NEGATIVE)
    got = backend.to_numpy(fsp.digamma(backend.asarray(_NEGATIVE)))
    assert _ulps(got, want).max() <= 5.0   # (was 1.8e17 on NumPy)
    got2 = backend.to_numpy(fsp.polygamma(0, backend.asarray(_NEGATIVE[:210].reshape(3, 70))))
    np.testing.assert_array_equal(got2.ravel(), got[:210])


def test_digamma_negative_roots_transforms():
    want = _mp_values(lambda mp, v: mp.digamma(v), [-22.75])[0]
    assert _ulps(ft.grad(fsp.gammaln)(-22.75), want) <= 2.0   # (was 1545)
    assert _ulps(fsp.digamma(-22.75), want) <= 2.0
    xs = _NEGATIVE[211:241]
    want = _mp_values(lambda mp, v: mp.digamma(v), xs)
    assert _ulps(ft.vmap(ft.grad(fsp.gammaln))(xs), want).max() <= 5.0
    assert _ulps(ft.jit(ft.vmap(ft.grad(fsp.gammaln)))(xs), want).max() <= 5.0
    _, t = ft.jvp(fsp.gammaln, (xs,), (np.ones_like(xs),))
    assert _ulps(t, want).max() <= 5.0
    # float32: computed in float64 and rounded once
    x32 = xs.astype(np.float32)
    got32 = fsp.digamma(x32)
    assert got32.dtype == np.float32
    want32 = _mp_values(lambda mp, v: mp.digamma(v), x32.astype(float)).astype(np.float32)
    assert (np.abs(got32 - want32) <= np.spacing(np.abs(want32))).all()
    # poles, nan, zeros and tiny negative arguments keep the backend's values
    edge = np.array([-3.0, -1.0, np.nan, -0.0, 0.0, -1e-310, -100.0, -100.5])
    got = fsp.digamma(edge)
    assert np.isnan(got[:3]).all() and got[3] == np.inf and got[4] == -np.inf
    assert got[5] == np.inf and np.isnan(got[6])
    assert _ulps(got[7], _mp_values(lambda mp, v: mp.digamma(v), [-100.5])[0]) <= 4.0


def test_digamma_positive_root(backend):
    x0 = _X0
    xs = np.concatenate([np.linspace(1.0, 2.0, 101), x0 + np.linspace(-1e-6, 1e-6, 21),
                         [x0, np.nextafter(x0, 0.0), np.nextafter(x0, 2.0)]])
    want = _mp_values(lambda mp, v: mp.digamma(v), xs)
    got = backend.to_numpy(fsp.digamma(backend.asarray(xs)))
    assert _ulps(got, want).max() <= 5.0   # (torch's and the generic one 3e16)


def test_digamma_device_path_reads_nothing(monkeypatch):
    torch = pytest.importorskip("torch")
    xs = np.concatenate([_NEGATIVE[::4], np.linspace(0.5, 3.0, 26), [-3.0, np.nan, -150.5]])
    host = fsp.digamma(torch.asarray(xs)).numpy()
    _no_host_reads(monkeypatch, torch)
    got = fsp.digamma(torch.asarray(xs))
    monkeypatch.undo()
    np.testing.assert_allclose(got.numpy(), host, rtol=4 * 2.0 ** -52, atol=0)


# -- hyp1f1 at x = +-inf ----------------------------------------------------------------------

_INF = np.inf
# (a, b, x, the limit): a = -n its polynomial's leading term (-1)^n x^n / (b)_n; else at +inf
# Gamma(b) / Gamma(a) e^x x^(a - b), at -inf Gamma(b) / Gamma(b - a) |x|^-a
_AT_INFINITY = [
    (-1.0, 0.3177, _INF, -_INF), (-1.0, 0.3, -_INF, _INF),   # (both nan before)
    (-2.0, 0.5, _INF, _INF), (-2.0, 0.5, -_INF, _INF), (-3.0, 0.5, _INF, -_INF),
    (-3.0, 0.5, -_INF, _INF), (-3.0, -1.5, -_INF, _INF),
    (-2.0, -3.0, _INF, _INF), (-2.0, -3.0, -_INF, _INF), (-1.0, -0.5, _INF, _INF),
    (-0.5, 1.5, -_INF, _INF), (-0.5, 1.5, _INF, -_INF), (-1.5, -0.5, -_INF, -_INF),
    (0.5, -1.5, _INF, _INF), (0.5, -0.5, _INF, -_INF), (-0.5, -1.5, -_INF, 0.0),
    (1.0, 2.0, _INF, _INF), (1.0, 2.0, -_INF, 0.0), (2.0, 1.0, -_INF, 0.0),
    (0.0, 2.0, _INF, 1.0), (0.0, -2.5, -_INF, 1.0), (3.5, 1.25, _INF, _INF)]


def test_hyp1f1_at_infinity(backend):
    a, b, x, want = (np.array(v) for v in zip(*_AT_INFINITY))
    got = backend.to_numpy(fsp.hyp1f1(backend.asarray(a), backend.asarray(b),
                                      backend.asarray(x)))
    np.testing.assert_array_equal(got, want)


def test_hyp1f1_at_infinity_against_mpmath():
    # the limits' signs and sizes: mpmath's at |x| = 1e8 (its own at inf: 1 for (-1, 0.3177))
    mp = _mp()
    for a, b, x, want in _AT_INFINITY:
        v = mp.hyp1f1(a, b, 1e8 if x > 0 else -1e8)
        if want == 0.0:
            assert abs(v) < 1e-6
        elif abs(want) == _INF:
            assert abs(v) > 1e3 and (v > 0) == (want > 0), (a, b, x, v)
        else:
            assert v == want


def test_hyp1f1_at_infinity_derivatives():
    gx = ft.grad(fsp.hyp1f1, argnums=2)
    # d/dx = a/b M(a + 1, b + 1, x): its limit (0 before: the derivative of a constant)
    assert gx(-1.0, 0.3177, _INF) == pytest.approx(-1.0 / 0.3177, rel=1e-15)
    assert gx(-1.0, 0.3, -_INF) == pytest.approx(-1.0 / 0.3, rel=1e-15)
    assert gx(1.0, 2.0, _INF) == _INF and gx(1.0, 2.0, -_INF) == 0.0
    assert gx(-0.5, 1.5, _INF) == -_INF and gx(-2.0, -3.0, -_INF) == -_INF
    assert gx(0.0, 2.0, _INF) == 0.0 and gx(0.0, 2.0, 3.0) == 0.0
    hx = ft.hessian(fsp.hyp1f1, argnums=2)
    assert hx(-2.0, 0.5, _INF) == pytest.approx(2.0 / (0.5 * 1.5), rel=1e-15)
    a = np.array([-1.0, -1.0, 1.0, 2.5])
    b = np.array([0.3, 0.3, 2.0, 1.5])
    x = np.array([_INF, -_INF, _INF, -_INF])
    want = np.array([-1 / 0.3, -1 / 0.3, _INF, 0.0])
    np.testing.assert_allclose(ft.jit(ft.vmap(gx))(a, b, x), want, rtol=1e-15)
    # in a and b: 0 at -inf for a > 0 (their limits), nan elsewhere (0 before)
    ga = ft.grad(fsp.hyp1f1, argnums=0)
    gb = ft.grad(fsp.hyp1f1, argnums=1)
    assert ga(1.0, 2.0, -_INF) == 0.0 and gb(2.5, 1.5, -_INF) == 0.0
    assert np.isnan(ga(1.0, 2.0, _INF)) and np.isnan(gb(-1.0, 0.3, -_INF))
    # finite x unchanged beside them
    assert ga(1.0, 2.0, 1.5) == pytest.approx(float(ft.grad(fsp.hyp1f1)(1.0, 2.0, 1.5)))


# -- ndtr on a device: the extra's erfc without its own tail ----------------------------------

def test_ndtr_device_path_takes_erfc_below_tail(monkeypatch):
    # (CuPy's erfc repairs its own tail read-free, erfcx and an exact square on every
    # element; ndtr replaces the tail's elements itself: the erfc it names below_tail, as
    # the NumPy path does. torch stands in, its erfc given a below_tail.)
    torch = pytest.importorskip("torch")
    from functrans.backends import torch_backend
    xs = np.concatenate([np.linspace(-38.0, 8.0, 93), [-10.44, -4.95, -0.99, np.nan]])
    host = fsp.ndtr(torch.asarray(xs)).numpy()
    bk = torch_backend.backend
    plain = bk.extra("erfc")
    calls = []

    def full(x):
        calls.append("full")
        return plain(x)
    full.below_tail = lambda x: (calls.append("below"), plain(x))[1]
    monkeypatch.setitem(bk._extra_cache, "erfc", full)
    _no_host_reads(monkeypatch, torch)
    got = fsp.ndtr(torch.asarray(xs))
    monkeypatch.undo()
    assert calls == ["below"]
    np.testing.assert_allclose(got.numpy(), host, rtol=4 * 2.0 ** -52, atol=0)
    want = _mp_values(lambda mp, v: mp.ncdf(v), xs[:-1])
    assert _ulps(got.numpy()[:-1], want).max() <= 6.0


# -- the slopes of i0e, i1e, k0e, k1e for large |x| -------------------------------------------

def _scaled_bessel_slopes(mp, kind, x):
    s = 1 if x > 0 else -1
    if kind == "i0e":
        return (mp.besseli(1, x) - s * mp.besseli(0, x)) * mp.exp(-abs(x))
    if kind == "i1e":
        return (mp.besseli(0, x) - mp.besseli(1, x) / x - s * mp.besseli(1, x)) * mp.exp(-abs(x))
    if kind == "k0e":
        return (mp.besselk(0, x) - mp.besselk(1, x)) * mp.exp(x)
    return (mp.besselk(1, x) - mp.besselk(0, x) - mp.besselk(1, x) / x) * mp.exp(x)


# (against mpmath up to 1e6; far out against the series' first term, -1/(2x) times the
# function's own, (2 pi x)^-1/2 or (pi / (2x))^1/2)
@pytest.mark.parametrize("kind", ["i0e", "i1e", "k0e", "k1e"])
def test_scaled_bessel_slopes_far(kind):
    mp = _mp()
    f = getattr(fsp, kind)
    xs = np.concatenate([np.linspace(30.0, 300.0, 28), [1e3, 3.7e4, 1e6]])
    if kind[0] == "i":
        xs = np.concatenate([xs, -xs[::4]])
    with mp.workdps(70):
        want = np.array([float(_scaled_bessel_slopes(mp, kind, mp.mpf(float(v)))) for v in xs])
    _, got = ft.jvp(f, (xs,), (np.ones_like(xs),))
    assert _ulps(got, want).max() <= 3.0   # (was 2|x| ulp: 2000 at 1e3)
    assert _ulps(ft.vmap(ft.grad(f))(xs), want).max() <= 3.0
    # far out: the slope was 0 (i0e'(1e22): -1.99e-34) or twice the true value (i1e'(3e38))
    huge = np.array([1e22, 2.9498381597556015e38, 1e200])
    _, got = ft.jvp(f, (huge,), (np.ones_like(huge),))
    lead = -0.5   # (each slope's first term: -1/(2t) times the function's own first)
    scale = (1 / np.sqrt(2 * np.pi * huge)) if kind[0] == "i" else np.sqrt(np.pi / (2 * huge))
    np.testing.assert_allclose(got, lead * scale / huge, rtol=1e-12)
    # the second derivative, through the series
    with mp.workdps(70):
        want2 = float(mp.diff(lambda t: _scaled_bessel_slopes(mp, kind, t), mp.mpf(1000)))
    assert ft.grad(ft.grad(f))(1000.0) == pytest.approx(want2, rel=1e-13)
