"""Session 35, special functions' values and first derivatives at the ends of the float range on
every backend (xback35).

Silent wrong values fixed: the NumPy backend's gammaln (SciPy: inf at subnormal x, -inf at
-inf), erfc (0 in its subnormal tail), i0 / i1 (inf from 709.78) and digamma near the negative
poles; torch's vectorised sinh / cosh (inf from 709.78), i0 / i1 and
digamma as SciPy's; the generic i1 at subnormal x; on every backend erfcinv at subnormal y
(y / 2 rounded), exprel past 709.78, k0 / k1 at 5e-324 and functrans.numpy.i0 past 709.78.
Reference values: mpmath at 50 digits (or closed forms, said where)."""

import math

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
import functrans.scipy.fft as fft
import functrans.scipy.special as fsp

mpmath = pytest.importorskip("mpmath")

TINY = 5e-324  # the smallest subnormal float64


def _mp(fn, xs, dps=50):
    with mpmath.workdps(dps):
        return np.array([float(fn(mpmath.mpf(float(x)))) for x in xs])


def _values(backend, fn, xs, dtype="float64"):
    return backend.to_numpy(fn(backend.asarray(xs, dtype)))


def _close(got, want, rtol):
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    ok = (got == want) | (np.abs(got - want) <= rtol * np.abs(want)) | (np.isnan(got)
                                                                        & np.isnan(want))
    assert ok.all(), (got[~ok], want[~ok])


def test_gammaln_at_minus_infinity_and_subnormal_x(backend):
    """+inf at -inf (C99's lgamma, torch, JAX; SciPy -inf) and -log|x| at subnormal x
    (SciPy's, the NumPy backend's, was inf below about 5.5e-309: true 744.44 at 5e-324)."""
    x = [-np.inf, TINY, -TINY, 1e-310, -1e-310, 5e-309, 1e-300]
    want = np.concatenate([[np.inf], -np.log(np.abs(x[1:]))])  # (|x| eps below an ulp)
    _close(_values(backend, fsp.gammaln, x), want, 1e-15)
    _close(_values(backend, fsp.gammaln, [-np.inf, 1e-40], "float32"), [np.inf, 92.1034], 1e-6)
    # the extra itself, which loggamma, betaln, gamma... use
    lgamma = backend.backend.extra("lgamma")
    _close(backend.to_numpy(lgamma(backend.asarray(x))), want, 1e-15)
    # the poles stay inf, and d/dx at a subnormal x is -1/x
    np.testing.assert_array_equal(_values(backend, fsp.gammaln, [0.0, -0.0, -1.0]), [np.inf] * 3)
    assert ft.grad(fsp.gammaln)(1e-310) == pytest.approx(-1e310, rel=1e-14)


def test_gammaln_at_minus_infinity_as_jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    import jax.scipy.special as jsp
    assert float(jsp.gammaln(-np.inf)) == float(fsp.gammaln(-np.inf)) == math.lgamma(-math.inf)


def test_erfc_in_its_subnormal_tail(backend):
    """SciPy's erfc (the NumPy backend) was 0 from 26.64, where erfc is subnormal up to
    27.23: erfc(27) = 5.237e-319. Subnormal values: within one unit of the last place."""
    x = np.array([26.0, 26.5, 26.7, 27.0, 27.2, 27.22, 27.3])
    want = _mp(mpmath.erfc, x)
    got = _values(backend, fsp.erfc, x)
    assert (np.abs(got - want) <= np.maximum(1e-14 * want, TINY)).all(), (got, want)
    assert got[3] > 0.0 and got[-1] == 0.0


@pytest.mark.parametrize("name,order", [("i0", 0), ("i1", 1)])
def test_modified_bessel_i_before_its_overflow(backend, name, order):
    """I0 and I1 are finite up to 713.98; SciPy's and torch's were inf from 709.78 (their
    e^x): i0(710) = 3.345e306."""
    x = np.array([709.0, 709.79, 710.0, -710.0, 713.9, 713.98])
    want = _mp(lambda v: mpmath.besseli(order, v), x)
    _close(_values(backend, getattr(fsp, name), x), want, 1e-13)
    beyond = _values(backend, getattr(fsp, name), [714.0, -714.0, 1e300])
    np.testing.assert_array_equal(beyond, [np.inf, np.inf if order == 0 else -np.inf, np.inf])


def test_numpy_namespace_i0_before_its_overflow(backend):
    """functrans.numpy.i0 (NumPy's formula) was inf from 709.78 as NumPy's; its derivative i1
    too. float32: finite up to 91.9 (e^x overflowed at 88.72)."""
    x = np.array([700.5, 710.0, -710.0, 713.9])
    _close(_values(backend, fnp.i0, x), _mp(lambda v: mpmath.besseli(0, v), x), 1e-13)
    x32 = np.array([88.0, 89.0, 91.0], dtype=np.float32)
    want32 = _mp(lambda v: mpmath.besseli(0, v), x32).astype(np.float32)
    _close(_values(backend, fnp.i0, x32, "float32"), want32, 1e-6)
    assert ft.grad(fnp.i0)(710.0) == pytest.approx(float(mpmath.besseli(1, 710)), rel=1e-13)


def test_i1_at_subnormal_x(backend):
    """I1(x) = x/2 (1 + x^2/8 ...) at a subnormal x of odd last bit lies just above the tie
    x/2, I1e(x) = x/2 (1 - x ...) just below it: the generic i1 rounded the tie to even (0 at
    5e-324, as 0.5 x)."""
    x = [TINY, -TINY, 3 * TINY, -3 * TINY, 2 * TINY, 1e-310]
    # (1e-310 is an odd number of units: x/2 a tie, I1 the half above, I1e the one below)
    up, down = max(0.5 * 1e-310, 1e-310 - 0.5 * 1e-310), min(0.5 * 1e-310, 1e-310 - 0.5 * 1e-310)
    assert up - down == TINY
    np.testing.assert_array_equal(_values(backend, fsp.i1, x),
                                  [TINY, -TINY, 2 * TINY, -2 * TINY, TINY, up])
    if backend.name == "array_api_strict":  # (SciPy's and torch's i1e: one unit above)
        np.testing.assert_array_equal(_values(backend, fsp.i1e, x),
                                      [0.0, -0.0, TINY, -TINY, TINY, down])


def test_log1p_at_the_smallest_subnormal(backend):
    """torch's log1p was 0 at 5e-324 (1.4e-45 in float32), where log1p(x) = x; so was
    log_expit(745) there (-log1p(e^-745)). Left on torch: one subnormal unit, and a check of
    the smallest |x| cost half of log1p's own time on every call."""
    if backend.name == "torch":
        pytest.skip("torch's log1p(5e-324) is 0 (one subnormal unit off; not patched for speed)")
    x = [TINY, -TINY, 0.0, -0.0, 1e-310, 0.5]
    got = _values(backend, fnp.log1p, x)
    np.testing.assert_array_equal(got[:4], x[:4])
    assert abs(got[4] - 1e-310) <= TINY  # (torch's: one unit above)
    np.testing.assert_array_equal(np.signbit(got[:4]), [False, True, False, True])
    f32 = np.float32(1.401298464324817e-45)
    np.testing.assert_array_equal(_values(backend, fnp.log1p, [f32, -f32], "float32"),
                                  [f32, -f32])
    assert _values(backend, fsp.log_expit, [745.0])[0] == -TINY


@pytest.mark.parametrize("dtype,xs,edge", [
    ("float64", [709.0, 709.79, 710.0, 710.47, -710.0], 710.48),
    ("float32", [88.0, 88.8, 89.4, 89.41, -89.0], 89.42)])
def test_sinh_cosh_before_their_overflow(backend, dtype, xs, edge):
    """sinh and cosh ~ e^|x| / 2 are finite up to 710.48 (89.42 in float32); torch's
    vectorised kernels (tensors of more than a few elements) were inf from 709.78 (88.72)."""
    x = np.array(xs * 8, dtype=dtype)  # (long enough for torch's vectorised loop)
    for name in ("sinh", "cosh"):
        want = _mp(getattr(mpmath, name), x).astype(dtype)
        got = _values(backend, getattr(fnp, name), x, dtype)
        _close(got, want, 4 * float(np.finfo(dtype).eps))
        far = _values(backend, getattr(fnp, name), [edge, -edge] * 8, dtype)
        assert np.isinf(far).all()


def test_exprel_before_its_overflow(backend):
    """exprel(x) ~ e^x / x is finite up to 716.35; it was inf from 709.78 on every backend
    (expm1(x) / x), and its derivative nan."""
    x = np.array([699.0, 700.5, 709.79, 710.0, 713.9, 716.3])
    want = _mp(lambda v: mpmath.expm1(v) / v, x)
    _close(_values(backend, fsp.exprel, x), want, 1e-14)
    assert np.isinf(_values(backend, fsp.exprel, [716.4, np.inf])).all()
    for v in (710.0, 713.9):
        slope = (v * mpmath.exp(v) - mpmath.expm1(v)) / v ** 2
        assert ft.grad(fsp.exprel)(v) == pytest.approx(float(slope), rel=1e-13)


def _erfcinv_mp(y):
    """erfc(x) = y solved in logarithms (mpmath's erfinv(1 - y) would need y's 300 digits)."""
    with mpmath.workdps(50):
        y = mpmath.mpf(float(y))
        x = mpmath.findroot(lambda t: mpmath.log(mpmath.erfc(t)) - mpmath.log(y), 27)
        return float(x)


def test_erfcinv_at_subnormal_y(backend):
    """erfcinv(y) = -ndtri(y/2)/sqrt(2) rounded y/2 where it is subnormal: erfcinv(5e-324)
    was inf (true 27.2133, SciPy inf too), erfcinv(1.5e-323) 27.18783 (true 27.19311);
    erfcinv(-5e-324) inf (nan); float32 erfcinv(1.4e-45) inf (SciPy 10.0198)."""
    y = [TINY, 2 * TINY, 3 * TINY, 1e-320, 1e-310, 2.2e-308, 4.4e-308, 4.5e-308, 1e-300]
    want = [_erfcinv_mp(v) for v in y]
    _close(_values(backend, fsp.erfcinv, y), want, 4e-16)
    _close(_values(backend, fsp.erfcinv, [-TINY, -1.0, 0.0, 2.0, 2.5]),
           [np.nan, np.nan, np.inf, -np.inf, np.nan], 0.0)
    y32 = np.array([1.401298464324817e-45, 2.8e-45, 0.5], dtype=np.float32)
    got32 = _values(backend, fsp.erfcinv, y32, "float32")
    _close(got32, [np.float32(10.0198345), np.float32(9.985356), np.float32(0.47693628)], 1e-7)


def test_erfcinv_derivatives_at_tiny_y():
    """The slope -sqrt(pi)/2 exp(x^2) of the result (the Newton steps' own was nan where it
    overflows), -inf where it does; second order (pi/2) x exp(2 x^2)."""
    for y in (1e-300, 4.4e-308, 1e-309):
        x = fsp.erfcinv(y)
        slope = -0.5 * math.sqrt(math.pi) * math.exp(float(x) ** 2)
        # (exp(x^2) at x = 26.5 turns x's half ulp into 1e-13 relative)
        assert ft.grad(fsp.erfcinv)(y) == pytest.approx(slope, rel=2e-13)
        assert ft.jvp(fsp.erfcinv, (y,), (1.0,))[1] == pytest.approx(slope, rel=2e-13)
    assert ft.grad(fsp.erfcinv)(TINY) == -np.inf
    assert ft.grad(fsp.erfcinv)(1e-320) == -np.inf
    assert np.isnan(ft.grad(fsp.erfcinv)(-TINY))
    assert ft.jit(ft.grad(fsp.erfcinv))(1e-320) == -np.inf
    x = float(fsp.erfcinv(0.3))
    assert ft.grad(ft.grad(fsp.erfcinv))(0.3) == pytest.approx(
        0.5 * math.pi * x * math.exp(2 * x * x), rel=1e-13)


def test_bessel_k_at_the_smallest_subnormal(backend):
    """K0 and K1 at 5e-324 were inf and nan on every backend (x / 2 is 0 there): K0 =
    log(2/x) - euler_gamma = 744.556 (the next term is below 1e-600 relative), K1 = 1/x
    overflows to inf; the slopes -K1 and -K0 - K1/x are -inf."""
    k0 = math.log(2.0) - math.log(TINY) - 0.5772156649015329
    x = [TINY, 2 * TINY, 1e-310]
    want = [k0, k0 - math.log(2.0), math.log(2.0) - math.log(1e-310) - 0.5772156649015329]
    for name in ("k0", "k0e"):
        _close(_values(backend, getattr(fsp, name), x), want, 2e-16)
    for name in ("k1", "k1e"):
        np.testing.assert_array_equal(_values(backend, getattr(fsp, name), x), [np.inf] * 3)
    for name in ("k0", "k1"):
        assert ft.grad(getattr(fsp, name))(TINY) == -np.inf


def test_digamma_near_the_negative_poles(backend):
    """SciPy's and torch's digamma were about 1.5e-16/d off relative within d of a negative
    integer (digamma(-1 + 2**-52) 31 %, 1.5e-8 at d = 1e-8)."""
    x = np.array([-1 + 2.0 ** -52, -1 - 2.0 ** -52, -1 + 1e-10, -3 + 1e-9, -10 + 1e-7,
                  -100 + 1e-6, -1e6 + 1e-6, -0.999, -2.5, -100.5, 3.0])
    _close(_values(backend, fsp.digamma, x), _mp(mpmath.digamma, x), 1e-15)
    assert np.isnan(_values(backend, fsp.digamma, [-1.0, -3.0])).all()


@pytest.mark.parametrize("name", ["irfft", "hfft"])
def test_fft_c2r_of_half_precision_gives_float32(backend, name):
    """SciPy's irfft and hfft of float16 give float32 (as every other transform); NumPy's,
    which these wrapped, kept float16."""
    try:
        x = backend.asarray(np.arange(6.0), "float16")
    except (TypeError, ValueError, AttributeError):
        pytest.skip("no float16 on this backend")
    out = getattr(fft, name)(x)
    assert backend.backend.dtype(out).name == "float32"
    import scipy.fft as sfft
    want = getattr(sfft, name)(np.arange(6.0, dtype=np.float16))
    assert want.dtype == np.float32
    np.testing.assert_allclose(backend.to_numpy(out), want, rtol=1e-6, atol=1e-5)


def test_degree_functions_at_huge_angles_and_infinity(backend):
    """sindg, cosdg, tandg, cotdg beyond 1e14 degrees were 0 (SciPy's "total loss of
    precision"), but the reduction modulo 360 is exact at any magnitude: sindg(1e15) =
    sin(280 degrees); at +-inf nan (was 0), as sin and cos. Reference: the angle modulo 360
    in exact rational arithmetic, then mpmath."""
    from fractions import Fraction
    x = [1e15, -1e15, 1e20, 1e100, 1.7976931348623157e308, 123456789012345.6]

    def exact(fn, v):
        r = Fraction(v) % 360
        with mpmath.workdps(40):
            return float(fn(mpmath.mpf(r.numerator) / r.denominator * mpmath.pi / 180))

    for name, fn in (("sindg", mpmath.sin), ("cosdg", mpmath.cos), ("tandg", mpmath.tan),
                     ("cotdg", mpmath.cot)):
        _close(_values(backend, getattr(fsp, name), x), [exact(fn, v) for v in x], 1e-15)
        assert np.isnan(_values(backend, getattr(fsp, name), [np.inf, -np.inf, np.nan])).all()
    # exact at a huge multiple of 90 (1e300 = 0 modulo 360)
    np.testing.assert_array_equal(_values(backend, fsp.sindg, [1e300, -1e300]), [0.0, 0.0])
    assert ft.grad(fsp.sindg)(1e15) == pytest.approx(math.pi / 180 * exact(mpmath.cos, 1e15),
                                                     rel=1e-15)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_cbrt_at_the_largest_floats(backend, dtype):
    """functrans.numpy.cbrt's Newton step took r**3, which overflowed near the largest float:
    float32 cbrt(3.4028235e38) was inf (true 6.98e12)."""
    f = np.finfo(dtype)
    x = np.array([f.max, -f.max, f.max / 2, 1e30], dtype=dtype)
    with mpmath.workdps(40):
        want = np.array([float(mpmath.sign(v) * mpmath.cbrt(abs(mpmath.mpf(float(v)))))
                         for v in x]).astype(dtype)
    _close(_values(backend, fnp.cbrt, x, dtype), want, float(f.eps))  # (torch: an ulp)
    assert np.isinf(_values(backend, fnp.cbrt, [np.inf], dtype)).all()
