"""Session 55 (special55): scipy.special's overflow warnings, hyp1f1 at a huge x, fuzz.

Fixed: ``exp2(1e300)`` and ``exp10(1e300)`` warned (the power primitive's overflow; SciPy
silent): now run with NumPy's errors ignored where the argument may reach the overflow
(a look at a float or a maximum of an array: under the ignored state each NumPy operation
costs more, exp2 of a scalar +35 %); ``ndtr`` of an array holding an
``|x| >= 1.3e154`` warned (exact_square's ``x * x`` overflowed before its clamp): that
product alone now runs silent. The sweep of the namespace at 1e300, -1e300, +-5e-324,
+-inf, nan (each argument beside ordinary values, scalars and arrays) found
``rgamma(-1e300)`` (``Gamma(1 - x)``'s overflow, 0 * inf) warning, now silent, and
``hyp1f1(0.5, 3, x)`` for ``x`` beyond ~1e12 taking seconds to hours (SciPy's takes time
growing as x^1.6; ours called it): from ``x = 1e8`` with ``|a|, |b| <= sqrt(x) / 10`` the
value ``+-inf`` of ``Gamma(b) / Gamma(a) e^x x^(a - b)`` at once (mpmath's overflow too),
its derivatives ``+-inf``. The fuzz harness: a case mixing documented differences
(``betaln(0, -0)`` nan beside ``betaln(0.136, 5e-324) = 744.44``, SciPy inf) failed where
each judge asks every mismatch be its own: each mismatch is now also judged alone; and
``stdtrit(df, +-0)`` ours ``-inf`` (documented), SciPy ``inf``, recorded. ``yn(1e300, x)``
looped 1e300 times (the fuzzer hung on it): the recurrence now stops once every higher
order has overflowed, ``-inf`` at once where it must have (``|n| >= 1200``, ``|n| >= 3x``;
``n = inf``), at most 10000 steps (beyond: nan where not overflowed; ``yn(-inf, x)`` nan,
documented, SciPy -inf). ``jv`` past ``|z| = 2^52`` was SciPy's wrong value (``jv(1,
1e17)`` 1.2 envelopes off, one value for every order at 1e300): the generic one there,
within 3e-16 of the envelope (mpmath). ``ive``'s derivative where ``v^2 > 2|x|`` and
``|x| >= 3|v|`` (the closed form's cancellation ``2 x^2 / v^2 eps``: 1.4e-9 at v = 1000,
x = 1e5, its second derivative 1e-4; 2.2e-10 at (100, 1000)): ``sign(x) ive g`` with ``g``
from Debye's uniform expansion, within a few ulp of mpmath relative to ive, second
derivatives too.

Left: at the derivative's own zero (near ``v^2 = |x|``: v = 1000, x = 1e6, 2.3e-10) the
error is the point's condition (``|x ive''/ive'| eps`` = 7e-10); ive itself at v = 1000 is
SciPy's, ~1e-13 off; j0/j1 at 1e5 points keep their near-zero repair (~0.6 ms of ~7.5,
fixed_numpy's phase form ~0.2 ms on ~1300 elements: not sped up this session);
``jv`` at ``|z| >= 1e15`` with ``|v| > 2000`` is nan (the generic one's order limit;
SciPy's value there was wrong); ``yn`` beyond 10000 steps (``x`` above ~9000) nan;
``stdtrit(0.079, 5e-324)`` is nan (stats.t.ppf; -inf by the tail, SciPy -1.9e153).
"""

import functools
import time
import warnings

import mpmath as mp
import numpy as np
import pytest
import scipy.special as sc

import functrans as ft
import functrans.scipy.special as fsp


@pytest.mark.parametrize("name", ["exp2", "exp10"])
def test_exp2_exp10_silent_at_overflow_values_and_slopes(name):
    f = getattr(fsp, name)
    x = np.array([1e300, -1e300, 1100.0, -1100.0, 2.5, np.inf, -np.inf, np.nan])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = f(x)
        assert f(1e300) == np.inf and f(-1e300) == 0.0
        assert ft.grad(f)(1e300) == np.inf and ft.grad(f)(-1e300) == 0.0
        assert ft.grad(ft.grad(f))(1e300) == np.inf
        np.testing.assert_array_equal(ft.vmap(f)(x[:5]), got[:5])
    np.testing.assert_allclose(got, getattr(sc, name)(x), rtol=1e-15)


def test_ndtr_huge_argument_silent():
    x = np.array([-2e154, 2e154, -1e300, 1e300, -3.0, -40.0, 0.5])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = fsp.ndtr(x)
        slope = ft.grad(lambda t: fsp.ndtr(t).sum())(x)
        assert fsp.ndtr(-2e154) == 0.0 and fsp.ndtr(2e154) == 1.0
    np.testing.assert_array_equal(got[:4], [0.0, 1.0, 0.0, 1.0])
    np.testing.assert_allclose(got, sc.ndtr(x), rtol=1e-14, atol=0)
    np.testing.assert_array_equal(slope[:4], 0.0)


def test_rgamma_minus_huge_silent():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert fsp.rgamma(-1e300) == 0.0
        np.testing.assert_array_equal(fsp.rgamma(np.array([-1e300, 1e300, -np.inf])), 0.0)


def _mp_hyp1f1(a, b, x):
    with mp.workdps(30):
        return float(mp.hyp1f1(mp.mpf(a), mp.mpf(b), mp.mpf(x), maxprec=3000))


@pytest.mark.parametrize("a,b,x", [(0.5, 3.0, 1e15), (-1.5, 3.0, 1e12), (-1.5, -2.5, 1e9),
                                   (3.0, 0.5, 1e9), (0.5, 900.0, 1e8)])
def test_hyp1f1_huge_x_is_its_overflow_at_once(a, b, x):
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = fsp.hyp1f1(a, b, x)
        slopes = ft.grad(fsp.hyp1f1, argnums=(0, 1, 2))(a, b, x)
    assert time.perf_counter() - t < 1.0
    want = _mp_hyp1f1(a, b, x)   # (+-inf: mpmath's value overflows float64)
    assert got == want and np.isinf(got)
    # d/dx and d/da: the value's sign (log x - psi(a) > 0 there), d/db the other
    assert slopes[2] == got and slopes[0] == got and slopes[1] == -got


def test_hyp1f1_huge_x_elsewhere_unchanged():
    # (a polynomial, a = 0, large parameters, below 1e8: SciPy's values; x = inf the limit,
    # where SciPy's hyp1f1(0.5, 3, inf) runs without end)
    a = np.array([-2.0, 0.0, 0.5, 0.5, 2.0, 0.5])
    b = np.array([3.0, 3.0, 1e5, 3.0, 5.0, 3.0])
    x = np.array([1e15, 1e15, 1e9, 5e7, 30.0, np.inf])
    got = fsp.hyp1f1(a, b, x)
    np.testing.assert_allclose(got[:-1], sc.hyp1f1(a[:-1], b[:-1], x[:-1]), rtol=1e-13)
    assert got[-1] == np.inf
    assert ft.jit(fsp.hyp1f1)(0.5, 3.0, 1e15) == np.inf
    np.testing.assert_array_equal(
        ft.vmap(lambda t: fsp.hyp1f1(0.5, 3.0, t))(np.array([1e15, 2.0])),
        [np.inf, sc.hyp1f1(0.5, 3.0, 2.0)])


def _mp_jv(v, z):
    with mp.workdps(40):
        return float(mp.re(mp.besselj(v, mp.mpf(z))))


def test_jv_past_two_to_the_52(backend):
    # (SciPy's jv: jv(1, 1e17) 1.2 envelopes off, the same value for every order at 1e300;
    # before, ours was SciPy's on NumPy)
    v = np.array([0.0, 1.0, 2.5, 3.0, -2.0, 150.0, 3.0, 1.0, 0.5])
    z = np.array([5e15, 1e17, 1e300, 1e300, 1e20, 1e17, -1e17, 2e15, 30.0])
    want = np.array([_mp_jv(a, b) for a, b in zip(v, z)])
    env = np.sqrt(2.0 / (np.pi * np.abs(z)))
    got = backend.to_numpy(fsp.jv(backend.asarray(v), backend.asarray(z)))
    np.testing.assert_array_less(np.abs(got - want), 5e-16 * env)
    np.testing.assert_array_equal(fsp.jv(v[-2:], z[-2:]), sc.jv(v[-2:], z[-2:]))


def test_jv_far_slopes_and_transforms():
    z = np.array([1e17, 3.0, -1e300])
    want = np.array([(_mp_jv(0.0, t) - _mp_jv(2.0, t)) / 2 for t in z])
    env = np.minimum(1.0, np.sqrt(2.0 / (np.pi * np.abs(z))))
    got = ft.grad(lambda t: fsp.jv(1.0, t).sum())(z)
    np.testing.assert_array_less(np.abs(got - want), 1e-15 * env)
    np.testing.assert_array_equal(ft.jit(fsp.jv)(1.0, z), fsp.jv(1.0, z))
    np.testing.assert_array_equal(ft.vmap(lambda t: fsp.jv(1.0, t))(z), fsp.jv(1.0, z))
    assert abs(fsp.jn(3, 1e17) - _mp_jv(3.0, 1e17)) < 5e-16 * env[0]


def test_yn_huge_order_ends():
    # (the recurrence ran 1e300 steps: without end; a million for yn(1e6, 2))
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert fsp.yn(1e300, 2.0) == -np.inf and fsp.yn(-1e300, 2.0) == -np.inf
        assert fsp.yn(10**6, 500.0) == -np.inf and fsp.yn(1000, 2.0) == -np.inf
        got = fsp.yn(np.array([1e300, 1e6, 3.0, -7.0]), np.array([2.0, 500.0, 5.0, 3.0]))
    assert time.perf_counter() - t < 2.0
    np.testing.assert_array_equal(got[:2], -np.inf)
    np.testing.assert_allclose(got[2:], sc.yn([3, -7], [5.0, 3.0]), rtol=1e-14)
    np.testing.assert_allclose(fsp.yn(300, 200.0), sc.yn(300, 200.0), rtol=1e-12)
    # (past the steps allowed, 200000 since session 56 (10000 before): nan until session 57,
    # now Debye's expansion; mpmath's recurrence at 40 digits -0.00047395787230637006)
    assert fsp.yn(10**6, 3e6) == pytest.approx(-0.00047395787230637006, rel=1e-10)


def test_yn_infinite_orders():
    n = np.array([np.inf, -np.inf, 1201.0, -1201.0])
    np.testing.assert_array_equal(fsp.yn(n, np.array([0.9, 0.9, 400.0, 400.0])),
                                  [-np.inf, np.nan, -np.inf, np.inf])


@functools.lru_cache(maxsize=None)
def _mp_ive_log_slopes(v, x):
    """(ive'/ive, ive''/ive) at x by mpmath (40 digits)."""
    with mp.workdps(40):
        x = mp.mpf(x)
        s = mp.sign(x)
        i = {n: mp.re(mp.besseli(v + n, x)) for n in (-2, -1, 0, 1, 2)}
        d1 = (i[-1] + i[1]) / 2 - s * i[0]
        d2 = (i[-2] + 2 * i[0] + i[2]) / 4 - s * (i[-1] + i[1]) + i[0]
        return float(d1 / i[0]), float(d2 / i[0])


# (v^2 > 2|x|, |x| >= 3|v|: before, the closed form 2e-11 and 9e-9 off at (1000, 1e4), 1.4e-9
# and 1e-4 at (1000, 1e5); 7.6e-14 and 2.2e-10 at (100, 1000))
_DEBYE = [(10.0, 45.0), (-10.0, -40.0), (10.5, 35.0), (100.0, 1000.0), (100.0, 4900.0),
          (1000.0, 1e4), (1000.0, 1e5), (20.0, 150.0)]


@pytest.mark.parametrize("v,x", _DEBYE, ids=[f"{v}-{x}" for v, x in _DEBYE])
def test_ive_derivative_where_the_order_is_large(v, x):
    g1, g2 = _mp_ive_log_slopes(v, x)
    f = lambda t: fsp.ive(v, t)  # noqa: E731
    iv = f(x)
    # (over ive itself, which carries SciPy's own error: 1e-13 at v = 1000)
    np.testing.assert_allclose(ft.grad(f)(x) / iv, g1, rtol=2e-15)
    np.testing.assert_allclose(ft.jvp(f, (x,), (1.0,))[1] / iv, g1, rtol=2e-15)
    np.testing.assert_allclose(ft.grad(ft.grad(f))(x) / iv, g2, rtol=4e-15)


def test_ive_debye_slope_transforms_and_backends(backend):
    v = np.array([10.0, 100.0, 2.0, 100.0, 1000.0])
    x = np.array([45.0, 1000.0, 3.0, 20.0, 1e4])   # (the last but two: the closed form)
    want = np.array([_mp_ive_log_slopes(float(a), float(b))[0] for a, b in zip(v, x)]) * sc.ive(
        v, x)
    g = ft.grad(lambda t: fsp.ive(backend.asarray(v), t).sum())
    np.testing.assert_allclose(backend.to_numpy(g(backend.asarray(x))), want, rtol=1e-13)
    np.testing.assert_allclose(ft.jit(ft.vmap(ft.grad(fsp.ive, argnums=1)))(v, x), want,
                               rtol=1e-13)
    np.testing.assert_allclose(ft.vmap(ft.grad(fsp.ive, argnums=1))(v, x), want, rtol=1e-13)


def test_ive_debye_coefficients():
    from functrans.primitives import special as S
    p, q = S._debye_polynomials(2)
    assert p == ((1 / 8, -5 / 24), (9 / 128, -77 / 192, 385 / 1152))
    assert q == ((1 / 8, -15 / 24), (2 * 9 / 128, -4 * 77 / 192, 6 * 385 / 1152))
