"""Session 16: the generic hyp1f1 and hyp2f1 (functrans.backends.special_generic, the values
on torch and array-api-strict) sum cancelling series in double-double and accept a value by
its relative error only; the generic incomplete beta's continued fraction is cheaper. The
generic code is run on every backend (on NumPy directly, whose namespace takes SciPy's)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.special as sc

import functrans.backends as fb
import functrans.scipy.special as fsp
from functrans.backends import generic

mp = pytest.importorskip("mpmath")

_SG = generic.SPECIAL_GENERIC


def _generic(backend, name, *args):
    """The generic implementation on ``backend``'s arrays (float64)."""
    be = fb.get_backend(backend.name.partition("@")[0])
    arrays = [backend.asarray(np.asarray(v, dtype=float)) for v in args]
    return backend.to_numpy(getattr(_SG, name)(be, *arrays))


def _exact(fn, points):
    mp.mp.dps = 40
    return np.array([float(fn(*(mp.mpf(float(t)) for t in p))) for p in points])


def _check(out, ref, rtol):
    """Finite results within rtol of the exact value (relative, also for small values);
    returns the mask of the finite ones."""
    fin = np.isfinite(out)
    err = np.abs(out[fin] - ref[fin]) / np.abs(ref[fin])
    assert np.all(err <= rtol), (err.max(), np.flatnonzero(fin)[np.argmax(err)])
    return fin


def test_hyp1f1_cancellation_region_is_covered(backend):
    """a < 0 against x > 0 (terms of alternating sign summing to a value far below their
    size: nan in session 15 for about 13 % of a, b in (-10, 10), |x| < 30): every point now
    has a value, within 1e-12 relative of mpmath's; the asymptotic range too."""
    rng = np.random.default_rng(1601)
    n = 40
    a = np.concatenate([rng.uniform(-10, -1, n), rng.uniform(-10, 10, n)])
    b = np.concatenate([rng.uniform(0.5, 10, n), rng.uniform(0, 10, n)])
    x = np.concatenate([rng.uniform(1, 30, n), rng.uniform(-100, 100, n)])
    ref = _exact(mp.hyp1f1, zip(a, b, x))
    out = _generic(backend, "hyp1f1", a, b, x)
    assert _check(out, ref, 1e-12).all()
    # the public function: the same on the generic backends, SciPy's on NumPy
    got = backend.to_numpy(fsp.hyp1f1(*(backend.asarray(v) for v in (a, b, x))))
    assert np.all(np.isfinite(got))


def test_hyp1f1_small_values_are_relative_or_nan(backend):
    """Points where the session 15 version returned values of 1e-25 .. 1e-13 with relative
    errors of 1e-8 .. 0.3 (accepted by an absolute criterion): now accurate relative to the
    value, or nan; and large parameters beside |x| (accurate or nan, never wrong)."""
    pts = [(39.613840929296316, 10.306575974159948, -48.902518922576846),
           (43.44023061784719, 33.73270061911124, -43.91931898426093),
           (47.68528376604051, 35.53007412516507, -20.79338154780451),
           (-40.5, 30.2, 20.0), (-47.07836948137363, 30.23133052505497, 15.843123583961756),
           (10.29651915331059, -36.30982613088454, -39.027793488055316)]
    rng = np.random.default_rng(1602)
    pts += list(zip(*(rng.uniform(-50, 50, 40) for _ in range(3))))
    a, b, x = (np.array(v) for v in zip(*pts))
    ref = _exact(mp.hyp1f1, pts)
    out = _generic(backend, "hyp1f1", a, b, x)
    fin = _check(out, ref, 1e-12)
    # a value for each of the named points: the second and third by the double-double
    # series, the others by the recurrence in a (a < -1 against x > 0, or b - a < -1
    # against x < 0 through Kummer's transformation)
    assert fin[:6].all()
    # (the share with a value: all of this sample in session 16, 71 % in session 15)
    assert fin.mean() >= 0.9


def test_hyp2f1_cancellation_is_covered_and_small_values_relative(backend):
    """c < 0 with large a, b (the terms grow past c + k = 0 and cancel): summed in
    double-double, within 1e-12 of mpmath; small values relative to themselves (session 15
    accepted -0.0417759810 for -0.0417759885 by an absolute criterion)."""
    rng = np.random.default_rng(1603)
    n = 40
    a, b, c = (rng.uniform(-10, 10, n) for _ in range(3))
    x = rng.uniform(-1, 1, n)
    pts = list(zip(a, b, c, x))
    pts += [(8.696088696585079, -7.4696962841179, -0.9519253238921195, 0.46193777915357215),
            (8.547962762099072, 7.876870846821472, -4.4131508414688, -0.6529714736043839),
            (-19.663714516392957, -20.289125774769424, 24.362523101455317,
             -2.438627382898374),
            (-12.876604409839924, -19.330007820181624, 22.01347252446758, -2.609193432077635)]
    args = [np.array(v) for v in zip(*pts)]
    ref = _exact(mp.hyp2f1, pts)
    out = _generic(backend, "hyp2f1", *args)
    fin = _check(out, ref, 1e-12)
    assert fin[:n + 2].all()
    got = backend.to_numpy(fsp.hyp2f1(*(backend.asarray(v) for v in args)))
    assert np.all(np.isfinite(got[:n + 2]))


def test_beta_continued_fraction_accuracy(backend):
    """The generic betainc and betaincinv (the cheaper continued fraction: coefficients
    computed 16 steps at once, convergence checked after 4, 8, 16 steps) against SciPy,
    over small and large shapes, both sides of the fraction's switch and far tails."""
    rng = np.random.default_rng(1604)
    n = 60
    a = np.exp(rng.uniform(-3, 7, n))
    b = np.exp(rng.uniform(-3, 7, n))
    y = np.concatenate([rng.uniform(0.001, 0.999, n - 10), 10.0 ** -rng.uniform(3, 30, 10)])
    be = fb.get_backend(backend.name.partition("@")[0])
    arr = [backend.asarray(v) for v in (a, b, y)]
    x = backend.to_numpy(generic.betaincinv(be, *arr))
    ref = sc.betaincinv(a, b, y)
    np.testing.assert_allclose(x, ref, rtol=5e-12)
    xs = np.clip(ref, 1e-300, 1.0 - 1e-16)
    i = backend.to_numpy(generic.betainc(be, arr[0], arr[1], backend.asarray(xs)))
    # (1.6e-12 at shapes near 1e3 before and after session 16: the prefactor's
    # exp(lgamma(a + b) - lgamma(a) - lgamma(b) + ...), not the fraction)
    np.testing.assert_allclose(i, sc.betainc(a, b, xs), rtol=5e-12)


def test_jv_orders_of_one_array_do_not_disturb_each_other(backend):
    """Miller's recurrence runs to the lowest order of the whole array: an element carried
    into the negative orders another one needs was rescaled to 0 (session 15: nan or 0 for
    8.9 % of v in (-500, 500), z = e^t, t in (-5, 7), e.g. J_20.95(39.4) = 0.058 -> nan,
    J_153(47) = 9e-62 -> 0, and relative errors of 3e-8 elsewhere). Each element now stops
    at its own order; huge values of large negative orders (1e297) are kept."""
    rng = np.random.default_rng(1605)
    v = np.concatenate([rng.uniform(-500, 500, 40),
                        [20.9501894355609, 152.9547361403105, -219.3422856855737,
                         -1.3951499839947132, 75.39672140945083, -131.5597272813468]])
    z = np.concatenate([np.exp(rng.uniform(-5, 7, 40)),
                        [39.42139328323599, 47.0266619847242, 6.99212839742072,
                         3.9627191543879543, 81.8155339941278, 50.57277406781085]])
    ref = _exact(mp.besselj, zip(v, z))
    out = _generic(backend, "jv", v, z)
    finite = np.abs(ref) < 1e300  # (the others overflow float64)
    assert finite.sum() >= 30
    keep = finite & (np.abs(ref) > 1e-300)  # (subnormal values: their own rounding)
    assert np.all(np.isfinite(out[finite]))
    np.testing.assert_allclose(out[keep], ref[keep], rtol=1e-11)
    np.testing.assert_allclose(out[finite & ~keep], ref[finite & ~keep], atol=1e-310)
    # the public function: the same values on the generic backends
    got = backend.to_numpy(fsp.jv(backend.asarray(v), backend.asarray(z)))
    np.testing.assert_allclose(got[keep], ref[keep], rtol=1e-11)


def test_hyp1f1_recurrence_in_a(backend):
    """Large negative a against x > 0 (or b - a against x < 0): the recurrence in a from a
    start near 0 (session 15: nan for 61 % of a in (-200, 0), b in (0, 50), |x| < 60;
    session 16: 2 %), within 1e-12 of mpmath; a large negative b: the recurrence in b, and
    nan where its amplification is too large. (A point where the recurrence in a amplifies
    the errors of its starting values by 5e12: with those summed to 1e-18 only, its value
    was 1.5e-9 off before that was counted.)"""
    rng = np.random.default_rng(1606)
    n = 40
    a, b, x = rng.uniform(-200, 0, n), rng.uniform(0, 50, n), rng.uniform(-60, 60, n)
    ref = _exact(mp.hyp1f1, zip(a, b, x))
    out = _generic(backend, "hyp1f1", a, b, x)
    fin = _check(out, ref, 1e-12)
    assert fin.mean() >= 0.9
    pts = [(40.17145799515751, -39.78075235734081, -37.55279919151447),
           (43.524683263775515, 0.537421997152407, -43.63236532248826)]
    out = _generic(backend, "hyp1f1", *(np.array(v) for v in zip(*pts)))
    np.testing.assert_allclose(out, _exact(mp.hyp1f1, pts), rtol=1e-12)
    assert np.isnan(_generic(backend, "hyp1f1", [39.89045892274618], [-43.790165915763254],
                             [-47.14125790074968]))[0]


def test_hyp2f1_where_scipy_is_wrong(backend):
    """Points where SciPy's hyp2f1 (1.17) is wrong without a sign of it (relative errors
    1.5e-10 .. 4e-3): every backend now gives mpmath's value to 1e-12; on NumPy the generic
    version's value, SciPy's only where that is nan (session 16; SciPy's before)."""
    pts = [(-20.55596592705976, 1.4696840392494153, 26.70575879049158, -1.595677402452802),
           (15.902249465006008, -17.98105121466546, -29.080568964503485, -2.798203806329065),
           (12.354114318424486, -18.203748250794664, -25.60821412260006, -0.2673594080466404),
           (-3.0983442954949005, -21.895236273478876, 24.37512480118913, -1.6311185286968626),
           (8.848066916159251, -3.72520582450867, -8.66998329401566, 0.4249075202312995),
           (9.900914257021721, 3.600877674236404, -8.99602909651491, -1942.797705880799)]
    args = [np.array(v) for v in zip(*pts)]
    ref = _exact(mp.hyp2f1, pts)
    assert np.all(np.abs(sc.hyp2f1(*args) - ref) > 1e-10 * np.abs(ref))  # (SciPy's errors)
    out = backend.to_numpy(fsp.hyp2f1(*(backend.asarray(v) for v in args)))
    np.testing.assert_allclose(out, ref, rtol=1e-12)


def test_riemann_zeta_near_zero(backend):
    """Below 1/2 the generic zeta reflects to zeta(1 - s), whose pole term took 1 - s - 1
    from the rounded 1 - s: relative error eps / |s| there, 1.4e-8 absolute at s = 1e-9 and
    1e-5 at 1e-12 (session 18). With the exact -s, and the reflection's product taken
    directly rather than in logarithms, ~1e-15 near 0 (zeta(0) = -1/2, slope -log(2 pi)/2)
    and relative accuracy at the trivial zeros' neighbours (sin(pi s / 2) from the reduced
    argument)."""
    t = np.geomspace(1e-12, 0.1, 12)
    s = np.concatenate([t, -t, [0.0, 0.3, 0.49, -1.3, -2.0 + 1e-9, -6.0 - 1e-7, -17.99,
                                -25.5, -40.25]])
    ref = _exact(mp.zeta, [(v,) for v in s])
    out = _generic(backend, "riemann_zeta", s)
    np.testing.assert_allclose(out[:24], ref[:24], rtol=2e-15)
    np.testing.assert_allclose(out[24:], ref[24:], rtol=2e-14)
    # the derivative at 0 from the values either side
    h = 1e-6
    d = (_generic(backend, "riemann_zeta", [h]) - _generic(backend, "riemann_zeta", [-h]))
    np.testing.assert_allclose(d / (2 * h), -0.5 * math.log(2 * math.pi), rtol=1e-9)


def _polynomial_2f1_exact(a, b, c, x):
    """2F1 with a or b a non-positive integer, as the exact rational sum of its terms at the
    floats given (mpmath cannot settle the exact zeros)."""
    from fractions import Fraction
    a, b, c, x = (Fraction(float(v)) for v in (a, b, c, x))
    if b <= 0 and b.denominator == 1 and (a > 0 or a.denominator != 1 or b > a):
        a, b = b, a
    term = total = Fraction(1)
    k = 0
    while a + k != 0:
        term = term * (a + k) * (b + k) / ((c + k) * (k + 1)) * x
        total += term
        k += 1
    return float(total)


def test_hyp2f1_polynomials(backend):
    """a or b a non-positive integer: the terminating series, whose terms cancel by 1e25 and
    more near the polynomial's roots and beyond |x| = 1, by the recurrence in the degree
    (float64 and double-double runs compared). Session 18: nan for 9 % of these (e.g.
    2F1(-5, 6; 1; 1/2) = 0, 2F1(-27, 34; 4; 3/4) = -7.2494278552e-5, both SciPy's values)
    and errors up to 1.6e-13; now each within 5e-14 of the exact sum, at any x (SciPy's
    value beyond |x| = 1 is the polynomial's as well)."""
    named = [(-5.0, 6.0, 1.0, 0.5), (-27.0, 34.0, 4.0, 0.75), (-3.0, 2.0, 1.0, 2.0),
             (-20.0, 5.0, 7.0, 5.0), (6.0, -10.0, 2.5, -3.0), (-1.0, 5.0, 2.0, 0.4),
             (-60.0, 34.0, 1.0, 0.5), (-40.0, -40.0, 0.5, 0.75), (0.0, 3.0, 2.0, 40.0)]
    rng = np.random.default_rng(1807)
    n = 40
    a = -rng.integers(0, 60, n).astype(float)
    b, c = rng.uniform(-50, 50, n), rng.uniform(-30, 30, n)
    x = np.concatenate([rng.uniform(-1, 1, n // 2), rng.uniform(-30, 30, n // 2)])
    swap = rng.random(n) < 0.3
    pts = named + list(zip(np.where(swap, b, a), np.where(swap, a, b), c, x))
    args = [np.array(v) for v in zip(*pts)]
    ref = np.array([_polynomial_2f1_exact(*p) for p in pts])
    out = _generic(backend, "hyp2f1", *args)
    assert out[0] == 0.0
    np.testing.assert_allclose(out[1:], ref[1:], rtol=5e-14, atol=0)
    # SciPy agrees at the named points, but for 1 - 5 (0.4) / 2: 0 there, while the float
    # 0.4 is 0.4 + 2.2e-17 (the exact value at it: -5.55e-17, functrans's)
    keep = np.arange(len(named)) != 5
    np.testing.assert_allclose(sc.hyp2f1(*(v[:len(named)][keep] for v in args)),
                               ref[:len(named)][keep], rtol=1e-13, atol=1e-300)
    got = backend.to_numpy(fsp.hyp2f1(*(backend.asarray(v) for v in args)))
    np.testing.assert_allclose(got[1:], ref[1:], rtol=5e-14, atol=0)


def test_hyp2f1_polynomial_roots(backend):
    """At a root the recurrence's value cancels to its own rounding: 0 where both runs say
    so (2F1(-27, 34; 4; 1/2) = 0, P_3(0) = 2F1(-3, 4; 1; 1/2) = 0, and P_3^2(0) through
    2F1(-3, 4; 3; 1/2): nan before, the generic lpmv's zeros); where only the double-double
    run resolves the value and it is below what that run can vouch for
    (2F1(-60, 6; 4; 0.99) = 1.7e-114 among parts near 1e20; SciPy's 3.4e-26 is noise):
    nan rather than a wrong value."""
    out = _generic(backend, "hyp2f1", [-27.0, -3.0, -3.0, -60.0], [34.0, 4.0, 4.0, 6.0],
                   [4.0, 1.0, 3.0, 4.0], [0.5, 0.5, 0.5, 0.99])
    np.testing.assert_array_equal(out[:3], 0.0)
    assert np.isnan(out[3])
