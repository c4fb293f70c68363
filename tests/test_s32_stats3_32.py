"""stats: derivatives at support ends, large-n betabinom masses (helper stats3_32).

Reference values from mpmath (mp.dps = 50), the expression in a comment by each."""

import math

import numpy as np
import pytest

import functrans as ft
from functrans.scipy import stats


# mpmath: log(binomial(n, k)) + log(beta(a + k, b + n - k)) - log(beta(a, b))
@pytest.mark.parametrize("k, n, a, b, want", [
    (0.0, 1e12, 1e3, 1e3, -20337.318092582966),      # was -20337.318113734374
    (4e11, 1e12, 5.0, 9.0, -26.613281913528866),      # was -26.613037109375
    (4e11, 1e12, 0.3, 0.7, -28.193035157837024),
    (7.0, 1e12, 0.5, 3.0, -14.870846203423902),
    (5.0, 10.0, 1e14, 1e14, -1.4020427180880548),
])
def test_betabinom_logpmf_large_n(k, n, a, b, want):
    got = float(stats.betabinom.logpmf(k, n, a, b))
    assert abs(got - want) <= 1e-13 * max(1.0, abs(want))


def test_betabinom_logpmf_large_n_derivatives():
    # mpmath: diff(lambda t: <logpmf above>(4e11, 1e12, t, 9), 5) and the same in b
    ga, gb = ft.grad(lambda a, b: stats.betabinom.logpmf(4e11, 1e12, a, b),
                     argnums=(0, 1))(5.0, 9.0)
    assert np.allclose([ga, gb], [0.18050968992401673, -0.04854901148871174], rtol=1e-12, atol=0)


@pytest.mark.parametrize("method", ["logcdf", "cdf"])
def test_gamma_scale_derivative_at_lower_end(method):
    # at x = loc: the derivative along the scale is the one-sided limit with x held (was
    # nan in both modes): cdf's 0, logcdf's -(m + 1) / scale = -a / scale = -0.5 (log F =
    # a log(x / scale) + ...; session 35's convention, was 0 with z held); along x it stays
    # +inf (pdf(0) = inf at a = .5)
    f = getattr(stats.gamma, method)
    for d in (ft.jacfwd, ft.jacrev):
        assert float(d(lambda s: f(0.0, 0.5, 0.0, s))(1.0)) == (
            -0.5 if method == "logcdf" else 0.0)
        assert float(d(lambda x: f(x, 0.5, 0.0, 1.0))(0.0)) == math.inf
