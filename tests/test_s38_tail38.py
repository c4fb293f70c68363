"""t.ppf far in the tail, session 38 (tail38): where betaincinv's root z is below 1e-16 the
derivatives come from the tail's power law (exact there to rounding), the value still from z.
In reverse mode betaincinv's shape slope multiplied t's cotangent by 1/(dI/dz) ~ z/(df p)
before dI/da: grad in df of ppf(1e-300, 30) overflowed to inf. References: mpmath at 60
digits (the implicit derivative -(dF/d df)/(dF/dx) at x = ppf(q, df), F the t CDF). Jitted
functions get 0-d arrays (Python numbers are static under jit)."""

import numpy as np
import pytest

import functrans as ft
from functrans.scipy import special as fsp, stats

# (q, df, ppf, d ppf / d df), mpmath at 60 digits
_TAIL = [
    (1e-300, 3.0, -1.0331108360446529e+100, 7.8992330794031566e+101),
    (1e-300, 30.0, -50178575360.505081, 37558068771.820192),
    (1e-200, 30.0, -23290831.507991147, 11474119.991919151),
    (1e-100, 3.0, -2.225769823822442e+33, 5.6294386225367902e+34),
    (1e-100, 30.0, -10810.645001143976, 2559.989185204676),
    (1e-30, 3.0, -10331108360.446529, 76275624794.205645),
    (1e-30, 30.0, -49.888195533043849, 2.9227878939475621),
    (1e-10, 30.0, -9.3774897804071432, 0.13435255417545379),
]


@pytest.mark.parametrize("q, df, want, want_ddf", _TAIL)
def test_t_ppf_tail_df_derivative_eager_and_jit(q, df, want, want_ddf):
    g = ft.grad(stats.t.ppf, (0, 1))
    for got_q, got_df in (g(q, df), ft.jit(g)(np.array(q), np.array(df))):
        np.testing.assert_allclose(float(got_df), want_ddf, rtol=1e-13)
        # d/dq = 1 / pdf(x): inf where it overflows (q = 1e-300 here), else finite
        pdf = float(stats.t.pdf(want, df))
        if pdf > 1e-300:
            np.testing.assert_allclose(float(got_q), 1.0 / pdf, rtol=1e-12)
        else:
            assert float(got_q) == np.inf
    np.testing.assert_allclose(float(stats.t.ppf(q, df)), want, rtol=1e-13)
    # isf mirrors it
    np.testing.assert_allclose(float(ft.grad(stats.t.isf, 1)(q, df)), -want_ddf, rtol=1e-13)


def test_t_ppf_tail_second_derivative_in_df_by_differences():
    # in the new band (z ~ 3e-20): d2 ppf / d df2 against central differences of the first
    q, df, h = 1e-30, 3.0, 1e-4
    d1 = ft.grad(stats.t.ppf, 1)
    fd = (float(d1(q, df + h)) - float(d1(q, df - h))) / (2 * h)
    got = float(ft.grad(d1, 1)(q, df))
    np.testing.assert_allclose(got, fd, rtol=1e-6)
    got_jit = float(ft.jit(ft.grad(d1, 1))(np.array(q), np.array(df)))
    np.testing.assert_allclose(got_jit, got, rtol=1e-12)


def test_t_ppf_tail_mixed_elements_backends(backend):
    # one array with elements in the band, beyond it (z < 1e-30), the z form and the w form
    q = np.array([1e-300, 1e-300, 1e-3, 0.4, 1 - 1e-12])
    df = np.array([30.0, 3.0, 30.0, 3.0, 3.0])
    jac = ft.jacrev(lambda d: stats.t.ppf(backend.asarray(q), d))(backend.asarray(df))
    got = np.diag(backend.to_numpy(jac))
    each = [float(ft.grad(stats.t.ppf, 1)(qi, di)) for qi, di in zip(q, df)]
    np.testing.assert_allclose(got, each, rtol=1e-13)
    np.testing.assert_allclose(got[0], 37558068771.820192, rtol=1e-13)
    np.testing.assert_allclose(got[1], 7.8992330794031566e+101, rtol=1e-13)



# (x, dfn, dfd, F cdf), mpmath at 40 digits. f.sf's 1 - cdf branch took the plain betainc at
# the rounded u = n x / (n x + m): sf(300, 1e4, 1e-8) was 1.7e-10 off; now 1 - cdf as the cdf
# computes it (u's rounding taken back by w, special._inc_beta)
_F_CDF = [
    (300.0, 1e4, 1e-8, 1.2120246636362455e-07),
    (0.5, 30.0, 1e-8, None), (3.0, 1.0, 1e-8, None), (1e4, 1e4, 1e-8, None),
]


@pytest.mark.parametrize("x, n, m, want", _F_CDF)
def test_f_sf_one_minus_the_corrected_cdf(x, n, m, want):
    mpmath = pytest.importorskip("mpmath")
    if want is None:
        with mpmath.workdps(40):
            X, N, M = map(mpmath.mpf, (x, n, m))
            want = float(mpmath.betainc(N / 2, M / 2, 0, N * X / (N * X + M),
                                        regularized=True))
    np.testing.assert_allclose(float(stats.f.sf(x, n, m)), 1.0 - want, rtol=1e-15)
    sf_jit = ft.jit(stats.f.sf)(np.array(x), np.array(n), np.array(m))
    np.testing.assert_allclose(float(sf_jit), 1.0 - want, rtol=1e-15)


def test_betaincinv_shape_cotangent_does_not_overflow():
    # reverse mode multiplied the cotangent by 1/(dI/dx) (about 1e240 here) before dI/da:
    # grad of 1/betaincinv(5, 0.5, 1e-300) was (-inf, inf) where forward mode is finite
    f = lambda a, b: 1.0 / fsp.betaincinv(a, b, 1e-300)
    rev = [float(v) for v in ft.grad(f, (0, 1))(5.0, 0.5)]
    fwd = [float(v) for v in ft.jacfwd(f, (0, 1))(5.0, 0.5)]
    assert all(np.isfinite(rev))
    np.testing.assert_allclose(rev, fwd, rtol=1e-14, atol=0)
