"""Session 51 (special51): digamma below -100; what this helper's changes pin.

- digamma (and polygamma(0, .), gammaln's derivative) below -100: the reflection
  ``psi(1 - x) - pi cot(pi x)`` cancels near each root (SciPy's psi at the float64 nearest the
  root in (-151, -150) 6e13 ulp off, up to 9e14 by the roots of k = 100..1e15), and SciPy's own
  reduction is up to 320 ulp off away from them. Now (backends/digamma_roots.py) both terms
  in double-double where |psi| < log|x| / 2, within 1 ulp of mpmath at the nearest floats of
  the roots; elsewhere the reflection with the exact distance to the nearest integer, within
  5 ulp. On NumPy, torch's CPU tensors and array-api-strict's CPU device; a few NumPy
  elements in Python floats with the same bits. A device (the lead's change) takes the exact-d
  reflection alone, read-free: the double-double form on every element of every call cost
  array-api-strict's device1 about 3x the whole call; near the roots there the absolute error
  eps log|x| stays.

Left: nothing known in this area (the value at a float64 within about 1e-20 of a root is
limited by the double-double terms, about 1e-31 absolute).
"""

import math

import numpy as np
import pytest

import functrans as ft
import functrans.scipy.special as fsp
from tests._reference import mp_values, mpmath_or_skip, no_torch_host_reads, ulps


def _digamma_mp(xs):
    return mp_values(lambda mp, v: mp.digamma(v), xs, 50)


def _root(mp, n):
    """psi's root in (-n, -n + 1), from its asymptotic place -n + atan(pi / log n) / pi."""
    with mp.workdps(40):
        return float(mp.findroot(mp.digamma, mp.mpf(-n) + mp.atan(mp.pi / mp.log(n)) / mp.pi))


_KS = (101, 151, 998, 12345, 999999, 10 ** 9 + 7, 10 ** 12 + 3, 2 ** 45 - 5)


def _near_roots():
    """The float64 nearest the root of each interval of _KS and its two neighbours."""
    mp = mpmath_or_skip()
    xs = []
    for n in _KS:
        r = _root(mp, n)
        assert -n < r < -n + 1
        xs += [r, np.nextafter(r, 0.0), np.nextafter(r, -np.inf)]
    return np.array([v for v in xs if v != math.floor(v)])


_NEAR = _near_roots()


def test_digamma_far_left_nearest_floats_of_roots(backend):
    want = _digamma_mp(_NEAR)
    got = backend.to_numpy(fsp.digamma(backend.asarray(_NEAR)))
    if "@" in backend.id:
        # (a device: the reflection with the exact d alone, read-free: its absolute
        # error eps log|x| near the roots, the lead's change)
        np.testing.assert_allclose(got, want, rtol=0,
                                   atol=float(8 * np.finfo(float).eps * np.log(-_NEAR).max()))
        return
    assert ulps(got, want).max() <= 2.0   # (base: up to 9e14)


def test_digamma_far_left_random_points():
    rng = np.random.default_rng(51)
    far = -np.exp(rng.uniform(math.log(100.0), math.log(1e15), 200))
    close = np.repeat(_NEAR[::3], 4) * (1.0 + rng.uniform(-1e-4, 1e-4, 4 * len(_NEAR[::3])))
    xs = np.concatenate([far, close, -rng.uniform(100.0, 300.0, 100)])
    xs = xs[xs != np.floor(xs)]
    want = _digamma_mp(xs)
    assert ulps(fsp.digamma(xs), want).max() <= 5.0   # (base: 320 away from roots, 1e8 near)
    assert ulps(fsp.polygamma(0, xs), want).max() <= 5.0
    # gammaln's derivative; digamma's own, polygamma(1, .), below -100 by its reflection
    # (special51b: SciPy's took |x| steps, 34 s at -1e9), within 2 ulp as SciPy's to -1e6
    g = ft.vmap(ft.grad(fsp.gammaln))(_NEAR)
    assert ulps(g, _digamma_mp(_NEAR)).max() <= 2.0
    trigamma = mp_values(lambda mp, v: -mp.polygamma(1, 1 - v) + (mp.pi / mp.sin(
        mp.pi * (v - mp.nint(v)))) ** 2, _NEAR, 50)
    assert ulps(ft.vmap(ft.grad(fsp.digamma))(_NEAR), trigamma).max() <= 3.0


def test_digamma_far_left_few_and_many_same_bits():
    rng = np.random.default_rng(7)
    xs = np.concatenate([_NEAR, -rng.uniform(100.0, 5000.0, 60)])   # (more than 24 near)
    many = np.asarray(fsp.digamma(xs))
    alone = np.array([float(fsp.digamma(float(v))) for v in xs])
    np.testing.assert_array_equal(many, alone)
    np.testing.assert_array_equal(np.asarray(fsp.digamma(xs[:84].reshape(4, 21))).ravel(),
                                  many[:84])
    np.testing.assert_array_equal(fsp.polygamma(0, xs), many)
    # big arrays mostly in (-100, 0) take their own path on NumPy: the elements below too
    big = np.concatenate([-rng.uniform(0.0, 100.0, 3000), xs])
    np.testing.assert_array_equal(np.asarray(fsp.digamma(big))[3000:], many)


def test_digamma_far_left_edges_unchanged():
    # poles (integers below -100, and every float64 from -2^52 down), -inf and nan keep the
    # backend's values; 0.5 past an integer at -2^52 + 0.5 is still the new form's
    import scipy.special as sc
    edge = np.array([-101.0, -1e6, -2.0 ** 52, -1e300, -np.inf, np.nan])
    np.testing.assert_array_equal(fsp.digamma(edge), sc.psi(edge))
    x = -2.0 ** 52 + 0.5
    assert ulps(fsp.digamma(x), _digamma_mp([x])[0]) <= 2.0


def test_digamma_far_left_torch_device_path(monkeypatch):
    torch = pytest.importorskip("torch")
    xs = np.concatenate([_NEAR, [-150.5, -1e6 + 0.25, -101.0, np.nan, -3.5, 1.5]])
    host = fsp.digamma(torch.asarray(xs)).numpy()
    no_torch_host_reads(monkeypatch, torch)
    got = fsp.digamma(torch.asarray(xs))
    monkeypatch.undo()
    # the device path: the host's values but near the roots (the reflection alone there,
    # read-free: within its absolute error eps log|x|)
    near = np.arange(len(xs)) < len(_NEAR)
    np.testing.assert_array_equal(got.numpy()[~near], host[~near])
    np.testing.assert_allclose(got.numpy()[near], host[near], rtol=0,
                               atol=float(8 * np.finfo(float).eps * np.log(-_NEAR).max()))
    np.testing.assert_array_equal(host[:-6], np.asarray(fsp.digamma(xs[:-6])))
