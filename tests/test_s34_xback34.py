"""Session 34, special functions at the ends of the float range on every backend (xback34).

The generic implementations (array-api-strict, and torch for the functions torch lacks) gave
nan or 0 where an intermediate overflowed (riemann_zeta(1e20) nan, i0(1.7e308) nan, k0e,
i0e, erfcx and J0/Y0 past ~1e307 0); the NumPy backend took SciPy's values where those are
wrong (expi past 709.8 inf, zeta(s, q) nan at huge s, J0, J1, Y0, Y1 far out with their
phase rounded: j0(1e20) 6.1e-11, true 6.7e-12). Reference values: mpmath at 60 digits."""

import numpy as np
import pytest

import functrans as ft
import functrans.scipy.special as fsp

mpmath = pytest.importorskip("mpmath")
mpmath.mp.dps = 60


def _mp(fn, xs):
    with mpmath.workdps(400):  # (the phase of J0(1e308) needs x's 308 digits and more)
        return np.array([float(fn(mpmath.mpf(float(x)))) for x in xs])


def _extra(backend, name, x):
    return backend.to_numpy(backend.backend.extra(name)(backend.asarray(x, "float64")))


def _check(got, want, rtol):
    ok = (got == want) | (np.abs(got - want) <= rtol * np.abs(want))
    assert ok.all(), (got[~ok], want[~ok])


def test_zeta_at_huge_s(backend):
    """riemann_zeta(1e20) was nan (the Euler-Maclaurin tail's rising factorial overflowed,
    times y^-s = 0); zeta(s, q) likewise: 1 at q = 1, q^-s else (0 or inf)."""
    s = np.array([60.0, 1e15, 1e16, 1e20, 1e300, 1.7e308])
    np.testing.assert_array_equal(_extra(backend, "riemann_zeta", s), np.ones(6))
    z = backend.backend.extra("hurwitz_zeta")
    for q, want in ((1.0, 1.0), (2.0, 0.0), (20.0, 0.0), (0.5, np.inf)):
        got = backend.to_numpy(z(backend.asarray(s[1:], "float64"),
                                 backend.asarray(np.full(5, q), "float64")))
        np.testing.assert_array_equal(got, np.full(5, want))


_FAR = np.array([1e5, 1e10, 1e20, 1e300, 1e307, 1e308, 1.7e308, -1e20])


def _y_far(order, x):
    """Y_n(x), x >= 1e5, by Hankel's expansion (Abramowitz & Stegun 9.2.6, 9.2.9-10) with the
    phase x - (n/2 + 1/4) pi exact in mpmath (mpmath's own bessely takes seconds out here)."""
    mu = 4 * order * order
    a = [mpmath.mpf(1)]
    for k in range(1, 12):
        a.append(a[-1] * (mu - (2 * k - 1) ** 2) / (k * 8))
    p = sum((-1) ** (k // 2) * a[k] / x ** k for k in range(0, 12, 2))
    q = sum((-1) ** (k // 2) * a[k] / x ** k for k in range(1, 12, 2))
    chi = x - (mpmath.mpf(order) / 2 + mpmath.mpf(1) / 4) * mpmath.pi
    return mpmath.sqrt(2 / (mpmath.pi * x)) * (p * mpmath.sin(chi) + q * mpmath.cos(chi))


def test_hankel_reference_is_mpmaths_bessely():
    for order in (0, 1):
        with mpmath.workdps(60):
            assert abs(_y_far(order, mpmath.mpf(1e10)) / mpmath.bessely(order, 1e10) - 1) < 1e-30


@pytest.mark.parametrize("name,order", [("j0", 0), ("j1", 1), ("y0", 0), ("y1", 1)])
def test_bessel_j_y_far_out(backend, name, order):
    """J0, J1, Y0, Y1 at large x: SciPy's (the NumPy backend) lost every digit at 1e20
    (j0(1e20) 6.1e-11, true 6.7e-12); the generic ones were 0 past 5.7e307 (pi x overflowed).
    """
    x = _FAR if name[0] == "j" else _FAR[_FAR > 0]
    mp_fn = (lambda v: mpmath.besselj(order, v)) if name[0] == "j" else (
        lambda v: _y_far(order, v))
    _check(_extra(backend, name, x), _mp(mp_fn, x), 1e-13)
    # (below 1000 the NumPy backend keeps SciPy's values)
    if backend.name == "numpy":
        import scipy.special as sc
        small = np.array([0.5, 3.0, 30.0, 999.0])
        np.testing.assert_array_equal(_extra(backend, name, small), getattr(sc, name)(small))


def test_modified_bessel_and_erfcx_at_the_largest_floats(backend):
    """i0(1.7e308) was nan on the generic implementation, i0e, i1e, k0e, k1e and erfcx there
    0 (2 pi x, 2 x and the continued fraction's x^2 overflowed)."""
    x = np.array([1e307, 1.7e308, 1.7976931348623157e308])
    # (their asymptotic series' leading terms: the next are below 1e-300 relative here)
    cases = {"i0e": lambda v: 1 / mpmath.sqrt(2 * mpmath.pi * v),
             "i1e": lambda v: 1 / mpmath.sqrt(2 * mpmath.pi * v),
             "k0e": lambda v: mpmath.sqrt(mpmath.pi / (2 * v)),
             "k1e": lambda v: mpmath.sqrt(mpmath.pi / (2 * v)),
             "erfcx": lambda v: 1 / (v * mpmath.sqrt(mpmath.pi))}
    for name, fn in cases.items():
        _check(_extra(backend, name, x), _mp(fn, x), 1e-13)
    for name in ("i0", "i1"):
        np.testing.assert_array_equal(_extra(backend, name, x), np.full(3, np.inf))


def test_lgamma_at_subnormal_x(backend):
    """lgamma(x) at subnormal x is -log|x| (C99's lgamma, mpmath): 744.44 at 5e-324 on the
    generic implementation and torch; on the NumPy backend since session 35 (SciPy's gammaln
    is inf below about 5.5e-309, as JAX's: patched there)."""
    x = np.array([5e-324, -5e-324, 1e-310, -1e-310, 5e-309, 2e-308])
    want = np.array([float(mpmath.re(mpmath.loggamma(mpmath.mpf(float(v))))) for v in x])
    _check(_extra(backend, "lgamma", x), want, 1e-15)
    # the poles stay inf
    np.testing.assert_array_equal(_extra(backend, "lgamma", np.array([0.0, -0.0, -1.0])),
                                  np.full(3, np.inf))


def test_expi_before_its_overflow(backend):
    """SciPy's expi (the NumPy backend) was inf from 709.8 (where e^x overflows), Ei(x) is
    finite up to 716.6."""
    x = np.array([709.0, 710.0, 713.5, 716.5])
    _check(_extra(backend, "expi", x), np.array([float(mpmath.ei(v)) for v in x]), 1e-13)
    np.testing.assert_array_equal(_extra(backend, "expi", np.array([717.0, np.inf])),
                                  np.full(2, np.inf))


def test_through_the_namespace_and_derivatives():
    """What a user calls: scalars and 0-d arrays through functrans.scipy.special, and the
    derivative there (d j0 = -j1)."""
    assert fsp.j0(np.array(1e20)) == pytest.approx(float(mpmath.besselj(0, 1e20)), rel=1e-13)
    assert ft.grad(fsp.j0)(1e20) == pytest.approx(-float(mpmath.besselj(1, 1e20)), rel=1e-13)
    out = fsp.j0(np.array([1e20, 1.0], dtype=np.float32))
    assert out.dtype == np.float32
