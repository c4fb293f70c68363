"""Session 56, lead: logaddexp's JVP with a Python number beside an array.

Session 56's nn56 kept ``inf - inf`` out of logaddexp's slope (``logaddexp_gap``) by selecting
0 on both sides where the operands are the same infinity; with a Python number on one side
(``logaddexp(x, 0.0)``, the seeds' soft ReLU) that was a ``where`` between two Python numbers,
which the Array API standard refuses (array-api-strict: "Two scalars not allowed"). The number's
side now stays as it is and the array's alone is kept off the infinity. Checked: the same first
and second derivatives, bit for bit, with the number given as a number or as a 0-d array, in
either operand, on NumPy and array-api-strict, silently (no invalid-value warning).
"""

import math
import warnings

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp

xps = [np]
try:
    import array_api_strict as _strict
    xps.append(_strict)
except ImportError:  # pragma: no cover
    pass

INF = math.inf
POINTS = [0.0, 2.0, 3.0, INF, -INF]


@pytest.mark.parametrize("xp", xps, ids=lambda m: m.__name__)
@pytest.mark.parametrize("number", [0.0, 2.0, INF, -INF])
def test_logaddexp_slope_with_a_python_number(xp, number):
    x = xp.asarray(POINTS, dtype=xp.float64)
    as_array = xp.asarray(number, dtype=xp.float64)

    def first(f):
        return np.asarray(ft.vmap(ft.grad(f))(x))

    def second(f):
        return np.asarray(ft.vmap(ft.grad(ft.grad(f)))(x))

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for left in (True, False):
            if left:
                by_number = lambda v: fnp.logaddexp(v, number)  # noqa: E731
                by_array = lambda v: fnp.logaddexp(v, as_array)  # noqa: E731
            else:
                by_number = lambda v: fnp.logaddexp(number, v)  # noqa: E731
                by_array = lambda v: fnp.logaddexp(as_array, v)  # noqa: E731
            g, g_ref = first(by_number), first(by_array)
            h, h_ref = second(by_number), second(by_array)
            np.testing.assert_array_equal(g, g_ref)
            np.testing.assert_array_equal(h, h_ref)
            # the softmax weight of v: 1/2 at the same infinity, else 1 / (1 + exp(number - v))
            with np.errstate(over="ignore", invalid="ignore"):
                pts = np.asarray(POINTS)
                want = np.where((pts == number) & np.isinf(pts), 0.5,
                                1.0 / (1.0 + np.exp(np.float64(number) - pts)))
            np.testing.assert_allclose(g, want, rtol=1e-15)


def test_entr_backward_pass_silent_and_its_derivatives():
    """grad(entr)(1e-3) warned "invalid value in divide": the sqrt that gives entr its
    infinite slopes at 0 took sqrt(0) at every element, and its backward pass divided the
    (zero) cotangent by 0 elsewhere. Now the sqrt of 1 there: silent, the same derivatives."""
    import functrans.scipy.special as fsp

    pts = np.array([1e-3, 0.5, 2.0, 1e300])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        g = np.asarray(ft.vmap(ft.grad(fsp.entr))(pts))
        h = np.asarray(ft.vmap(ft.grad(ft.grad(fsp.entr)))(pts))
        scalar = ft.grad(fsp.entr)(1e-3)
    np.testing.assert_allclose(g, -(np.log(pts) + 1.0), rtol=1e-15)
    np.testing.assert_allclose(h, -1.0 / pts, rtol=1e-15)
    assert scalar == g[0]
    # at 0 the one-sided limits (+inf, then -inf), below 0 a constant (0), nan kept
    edge = np.array([0.0, -1.0, np.nan])
    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ge = np.asarray(ft.vmap(ft.grad(fsp.entr))(edge))
        he = np.asarray(ft.vmap(ft.grad(ft.grad(fsp.entr)))(edge))
    np.testing.assert_array_equal(ge, [np.inf, 0.0, 1.0])
    np.testing.assert_array_equal(he, [-np.inf, 0.0, 0.0])
