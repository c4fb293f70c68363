"""Session 30 (helper gaps30): missing derivative orders and options in special functions and
linear algebra (see the sections below)."""

import numpy as np
import pytest

import functrans as ft
import functrans.scipy.special as fs
from functrans.testing import check_grads

# -- gammainc's third derivative in a where x >= a + 1 -----------------------------------------

# (a, x) from just past a + 1 to far in the tail (P''' far below 1e-200), small and large a;
# x up to a + 1 + sqrt(a)/2 comes from P's series, beyond from Q's continued fraction
_GAMMA_FAR = [(0.01, 1.5), (0.05, 2.0), (0.5, 1.5), (0.5, 30.0), (2.0, 5.0), (2.0, 40.0),
              (7.0, 20.0), (30.0, 31.0), (30.0, 45.0), (100.0, 101.0), (100.0, 130.0),
              (1e3, 1001.0), (1e3, 1100.0), (1e4, 10001.0), (1e4, 10100.0), (1e5, 101000.0),
              (0.3, 500.0), (3.0, 700.0)]


def test_gammainc_third_derivative_past_a_plus_1():
    mpmath = pytest.importorskip("mpmath")
    a, x = (np.array(c) for c in zip(*_GAMMA_FAR))
    with mpmath.workdps(40):  # (-Q''' = P''': Q has no cancellation out here)
        want = [-float(mpmath.diff(lambda t: mpmath.gammainc(t, xi, mpmath.inf,
                                                             regularized=True), ai, 3))
                for ai, xi in _GAMMA_FAR]
    f3 = ft.grad(ft.grad(ft.grad(fs.gammainc)))
    np.testing.assert_allclose(np.asarray(ft.vmap(f3)(a, x)), want, rtol=1e-12)
    # gammaincc's is the negated one; by jvp of the Hessian; and x = a + 1 exactly (where
    # the fraction's third log-derivative alone would lose 1e-10 relative at a = 1e4)
    assert float(ft.grad(ft.grad(ft.grad(fs.gammaincc)))(2.0, 5.0)) == pytest.approx(
        -want[4], rel=1e-13)
    _, t3 = ft.jvp(ft.hessian(lambda s: fs.gammainc(s, 40.0)), (2.0,), (1.0,))
    assert float(t3) == pytest.approx(want[5], rel=1e-13)
    # mixed with x: the JVP in x of the third derivative in a against central differences
    check_grads(lambda v: f3(2.0, v), (np.array(5.0),), order=1, modes=("fwd",))
    # the fourth in a is still refused by name
    with pytest.raises(NotImplementedError, match="gammainc: the fourth derivative"):
        ft.grad(f3)(2.0, 5.0)
