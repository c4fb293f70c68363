"""Session 48, the lead: Cauchy's log cdf far in the lower tail (and its log sf far in the
upper), whose slopes came from atan2's, 1 / (1 + z^2), which underflows past |z| ~ 1e154."""

import numpy as np
import pytest

import functrans as ft
from functrans.scipy import stats


@pytest.mark.parametrize("x", [-1e300, -1e200, -1e160, -3.0])
def test_cauchy_logcdf_slopes_far_in_the_lower_tail(x):
    # log cdf = log(atan(w) / w) - log(-z) - log(pi), w = -1 / z, z = (x - loc) / s: the slope
    # in s is 1 / s and in x -1 / x up to O(1 / z^2) (mpmath: 2.0, 1.0, 1/3 at s = 0.5, 1, 3
    # and x = -1e300; before, 0 and 0 where |x| > 1e154)
    for s in (0.5, 1.0, 3.0):
        gx, gs = ft.grad(stats.cauchy.logcdf, argnums=(0, 2))(x, 0.0, s)
        z = x / s
        w = -1.0 / z
        # (exact: d/ds log(atan(w) / pi) = w / ((1 + w^2) atan(w)) / s, well conditioned)
        ref_s = w / ((1.0 + w * w) * np.arctan(w)) / s
        ref_x = -ref_s * s / x
        assert gs == pytest.approx(ref_s, rel=1e-14)
        assert gx == pytest.approx(ref_x, rel=1e-14)
        # the mirror: log sf far in the upper tail
        gx2, gs2 = ft.grad(stats.cauchy.logsf, argnums=(0, 2))(-x, 0.0, s)
        assert gs2 == pytest.approx(ref_s, rel=1e-14)
        assert gx2 == pytest.approx(-ref_x, rel=1e-14)


def test_cauchy_logcdf_far_tail_values_under_jit_and_vmap():
    x = np.array([-1e300, -1e160, -5.0, -1.0, -0.5, 0.3, 7.0, -np.inf])
    with np.errstate(divide="ignore"):
        ref = np.log(np.arctan2(1.0, -x / 2.0) / np.pi)
    out = ft.jit(ft.vmap(lambda t: stats.cauchy.logcdf(t, 0.0, 2.0)))(x)
    np.testing.assert_allclose(out, ref, rtol=2e-15)
    g = ft.jit(ft.vmap(ft.grad(lambda t: stats.cauchy.logcdf(t, 0.0, 2.0))))(x[:-1])
    z = x[:-1] / 2.0
    with np.errstate(over="ignore"):
        ref_g = 1.0 / ((1.0 + z * z) * np.arctan2(1.0, -z)) / 2.0
    ref_g[0] = 1e-300   # (1 / |x|: 1 + z^2 overflows in the float64 reference)
    ref_g[1] = 1e-160
    np.testing.assert_allclose(g, ref_g, rtol=1e-14)
    assert stats.cauchy.logcdf(np.float32(-1e30)).dtype == np.float32
