"""Session 57 (stats57): the incomplete beta function at a large shape below x = 1/2.

- SciPy's betainc and betaincc (the NumPy backend's extras) form ``1 - x`` themselves;
  below x = 1/2 that rounding (up to 2^-54) moves ``(1 - x)^b`` by ``b`` times it, so that
  at a large ``b`` betainc was off by ~b eps (1 - I) / I: special.betainc(3, 1e7,
  3.6156e-7) 2.3e-10 relative (mpmath), stats.beta.cdf(3.6155e-5, 3, 1e5) 1.9e-12 (session
  56's strict xfail), betaincc(10, 1e7, 1.1387e-6) 2.7e-13. At ``x' = 1 - fl(1 - x)``,
  whose complement is exact, both are within ~3e-14 (shapes 0.01 .. 1e7): the extras now
  take SciPy's value there plus the integral of the density over ``[x', x]``
  (numpy_backend._betainc_at_exact_pair). Sweep a in {0.5, 1, 3, 10, 50}, b in {1e3 ..
  1e7}, x at the quantiles 1e-10 .. 1 - 1e-10 (330 points, mpmath): special.betainc worst
  2.31e-10 -> 1.56e-14, betaincc 2.67e-13 -> 2.2e-16 (a up to 1000: beyond, SciPy errs as
  much at x' as at x). Each test below fails before (the values are SciPy's bare ones
  there, errors quoted).
- vmap(grad(t.logcdf, argnums=(0, 1, 2, 3))) with infinities among x / loc: an infinite loc
  beside a finite x gave nan in the scale (0 * inf of z's partial -z / s) and 0 in df, and
  every row warned (RuntimeWarning, the held elements' 0 cotangent times that inf); now
  loc = +-inf is held as x = -+inf (stats._infinite_side) and z's derivatives there come
  from a finite stand-in (stats._z_held): silent, the limits (df / scale and -inf in df at
  z = -inf, 0 at z = +inf). Both tests fail before (nan values / the warning as error).
"""

import numpy as np
import pytest

import functrans as ft
from functrans.backends import get_backend
from functrans.scipy import special, stats


def _rel(got, want):
    return abs(float(got) - want) / abs(want)


# (a, b, x, mpmath's I_x(a, b) to 20 digits; SciPy's bare betainc's error)
_LARGE_B = [
    (3.0, 1e7, 3.615566649945269e-07, 0.69999999986852102797),   # 2.3e-10
    (10.0, 1e7, 1.138726092770925e-06, 0.69999999986378234089),  # 7.6e-11
    (3.0, 1e5, 3.615466151223278e-05, 0.69999999999925647827),   # 1.9e-12
    (10.0, 1e6, 1.138726092770925e-05, 0.700010509157242476),    # 1.9e-11
]


@pytest.mark.parametrize("a, b, x, want", _LARGE_B)
def test_betainc_large_b_values(a, b, x, want):
    assert _rel(special.betainc(a, b, x), want) < 1e-14
    assert _rel(stats.beta.cdf(x, a, b), want) < 1e-14
    assert _rel(special.betaincc(a, b, x), 1.0 - want) < 1e-14
    assert _rel(ft.jit(special.betainc)(a, b, x), want) < 1e-14
    got = ft.vmap(special.betainc)(np.array([a, 2.0]), np.array([b, 3.0]), np.array([x, 0.3]))
    assert _rel(got[0], want) < 1e-14


def test_backend_extras_at_the_exact_pair():
    bk = get_backend("numpy")
    betainc, betaincc = bk.extra("betainc"), bk.extra("betaincc")
    a, b, x, want = (np.array(v) for v in zip(*_LARGE_B))
    np.testing.assert_allclose(betainc(a, b, x), want, rtol=1e-14)
    np.testing.assert_allclose(betaincc(a, b, x), 1.0 - want, rtol=3e-14)
    # (betaincc(10, 1e7, 1.1387e-6) was 2.7e-13 off)
    assert _rel(betaincc(10.0, 1e7, 1.138726092770925e-06), 0.30000000013621765911) < 1e-14
    # the scalar path gives the array path's bits; a NumPy scalar back
    one = [betainc(np.float64(p), np.float64(q), np.float64(v)) for p, q, v in zip(a, b, x)]
    assert all(type(v) is np.float64 for v in one)
    np.testing.assert_array_equal(np.array(one), betainc(a, b, x))
    # x above 1/2 and the x whose 1 - x is exact: SciPy's own bits; the ends and bad input
    # as SciPy's
    import scipy.special as sc
    for args in ((2.0, 3.0, 0.75), (2.0, 3.0, 0.25), (0.5, 1e7, 2e-8), (2.0, 3.0, 0.0),
                 (2.0, 3.0, 1.0), (2.0, 3.0, np.nan), (-1.0, 3.0, 0.3), (2.0, 3.0, 1.5),
                 (np.inf, 3.0, 0.3), (2.0, 1e7, 1e-300)):
        got, ref = betainc(*args), sc.betainc(*args)
        assert got == ref or (np.isnan(got) and np.isnan(ref)), args
    # x below 2^-54 (1 - x rounds to 1, x' = 0): SciPy's value at x
    assert betainc(0.5, 1e7, 1e-20) == sc.betainc(0.5, 1e7, 1e-20)
    # no warning from infinite x (inf - inf in the test of x')
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        bad = np.array([np.inf, -np.inf, np.nan, 2e-5])
        np.testing.assert_array_equal(betainc(3.0, 1e5, bad), sc.betainc(3.0, 1e5, bad)[:3].tolist()
                                      + [betainc(3.0, 1e5, 2e-5)])
        assert np.isnan(betaincc(3.0, 1e5, np.inf))


def test_betainc_large_b_derivatives_unchanged():
    # (the values only: the derivative rules are the primitive's own)
    a, b, x, _ = _LARGE_B[2]
    g = ft.grad(special.betainc, argnums=(0, 2))(a, b, x)
    for i, h in ((0, 1e-6), (2, 1e-12)):
        p, q = [a, b, x], [a, b, x]
        p[i] += h
        q[i] -= h
        fd = (special.betainc(*p) - special.betainc(*q)) / (2 * h)
        assert abs(float(g[0 if i == 0 else 1]) - fd) < 1e-6 * abs(fd)


# -- infinite x or loc under grad (item 4) ----------------------------------------------------
# rows (x, df, loc, scale): z = -inf by x, z = -inf by loc, z = +inf by loc, z = +inf by x
_T_ROWS = np.array([[-np.inf, 3.0, 0.0, 1.0], [0.3, 5.0, np.inf, 2.0],
                    [1.0, 2.5, -np.inf, 1.5], [np.inf, 3.0, 0.5, 2.0]])


def _grads(fn, rows):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        g = ft.vmap(ft.grad(fn, argnums=(0, 1, 2, 3)))(*rows.T)
        one = [ft.grad(fn, argnums=(0, 1, 2, 3))(*r) for r in rows]
    got = np.array([np.asarray(v) for v in g]).T
    np.testing.assert_array_equal(got, np.array([[float(v) for v in r] for r in one]))
    return got


def test_t_log_methods_at_infinite_x_or_loc_silent_limits():
    # logcdf at z = -inf: log F ~ log C(df) - df log|z|: slopes 0 in x and loc, -inf in df,
    # df / scale in the scale; at z = +inf all 0 (logsf mirrored). Before: nan in the
    # scale where loc was infinite (0 * inf of z's partial), 0 in df, and a RuntimeWarning
    # in every row
    want = np.array([[0.0, -np.inf, 0.0, 3.0], [0.0, -np.inf, 0.0, 2.5],
                     [0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]])
    np.testing.assert_array_equal(_grads(stats.t.logcdf, _T_ROWS), want)
    flipped = _T_ROWS * np.array([-1.0, 1.0, -1.0, 1.0])
    np.testing.assert_array_equal(_grads(stats.t.logsf, flipped),
                                  want * np.array([1.0, 1.0, -1.0, 1.0]))
    for fn in (stats.t.cdf, stats.t.sf):
        np.testing.assert_array_equal(_grads(fn, _T_ROWS), np.zeros((4, 4)))


def test_norm_cdf_at_infinite_loc_silent_zero_slopes():
    import warnings
    rows = np.array([[0.3, np.inf, 1.0], [0.3, -np.inf, 2.0], [-np.inf, 0.0, 1.0]])
    for fn in (stats.norm.cdf, stats.norm.sf, stats.logistic.cdf, stats.cauchy.cdf):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            g = ft.vmap(ft.grad(fn, argnums=(0, 1, 2)))(*rows.T)
        np.testing.assert_array_equal(np.array([np.asarray(v) for v in g]), np.zeros((3, 3)))
