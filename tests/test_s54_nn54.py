"""Session 54, helper nn54: functrans.nn fuzzed against jax.nn (tests/_fuzz_nn_jax.py,
seeds 44052-44062 and FUZZ_BF16_ON=numpy 44034-44040).

- squareplus with an array ``b`` (differentiated too) took its derivatives from the formula
  through ``hypot(x, sqrt(b))``, whose second derivative in ``b`` cancels for ``x^2 >> b``
  (``x^2 / (4 b h^3) - 1 / (4 b h)``): at x = 1e8, b = 1.36 it was +1.77e-25 (reverse) and
  +2.07e-25 (forward) for -1.25e-25, 4e-7 relative off at x = 1e5, and 1.5e24 times too
  large in forward mode at x = 1e20. Now a custom JVP with the slopes in x and b written
  without cancellation (as for a number b).
- (harness) squareplus's referee for JAX's overflowing slope (|x| > 1.4e154) took only a
  number b: seed 44054 it 10 (x = -1e300, an array b) failed on JAX's 0.5 slope.

References: the closed forms of squareplus's derivatives in mpmath (JAX's formula has the same
cancellation).
"""

import numpy as np
import pytest

import functrans as ft
import functrans.nn as fnn
from tests._reference import mpmath_or_skip as _mp

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def _slopes_mp(x, b, mpmath):
    """squareplus's derivatives at (x, b) from their closed forms (h = sqrt(x^2 + b))."""
    with mpmath.workdps(60):
        x, b = mpmath.mpf(x), mpmath.mpf(b)
        h = mpmath.sqrt(x * x + b)
        d = {"x": (1 + x / h) / 2, "b": 1 / (4 * h), "xx": b / (2 * h ** 3),
             "xb": -x / (4 * h ** 3), "bb": -1 / (8 * h ** 3)}
        return {k: float(v) for k, v in d.items()}


XS = [1e8, 1e5, 3e4, 1e3, 2.0, 0.5, -0.5, -2.0, -1e3, -1e8, 1e20, -1e20, 1e160, -1e160,
      1e300, -1e300]


def test_squareplus_array_b_derivatives_to_second_order_both_modes():
    mpmath = _mp()
    b = 1.36
    bb = np.full(len(XS), b)
    x = np.array(XS)
    one = np.ones(len(XS))

    def f(v, w):
        return fnn.squareplus(v, w)

    def jvp_in(v, w, tx, tb):
        return ft.jvp(f, (v, w), (tx, tb))[1]

    rev = {"x": ft.elementwise_grad(f)(x, bb), "b": ft.elementwise_grad(f, 1)(x, bb),
           "xx": ft.elementwise_grad(ft.elementwise_grad(f))(x, bb),
           "xb": ft.elementwise_grad(ft.elementwise_grad(f, 1))(x, bb),
           "bb": ft.elementwise_grad(ft.elementwise_grad(f, 1), 1)(x, bb)}
    fwd = {"bb": ft.jvp(lambda w: jvp_in(x, w, 0 * one, one), (bb,), (one,))[1],
           "xx": ft.jvp(lambda v: jvp_in(v, bb, one, 0 * one), (x,), (one,))[1],
           "xb": ft.jvp(lambda w: jvp_in(x, w, one, 0 * one), (bb,), (one,))[1]}
    want = [_slopes_mp(v, b, mpmath) for v in XS]
    for name, got in [(k, v) for k, v in rev.items()] + [(k + " fwd", v) for k, v in fwd.items()]:
        ref = np.array([w[name.split()[0]] for w in want])
        err = np.abs(np.asarray(got) - ref) / np.maximum(np.abs(ref), 1e-300)
        assert np.all(err < 1e-13), (name, np.asarray(got), ref)


def test_squareplus_array_b_matches_number_b_and_keeps_broadcasting():
    rng = np.random.default_rng(54)
    x = rng.standard_normal((3, 4)) * 10
    b = rng.uniform(0.3, 2.0, (4,))
    # the value and x's slope equal the number-b path's, column by column
    for j in range(4):
        np.testing.assert_array_equal(fnn.squareplus(x, b)[:, j], fnn.squareplus(x[:, j], b[j]))
        np.testing.assert_allclose(ft.elementwise_grad(fnn.squareplus)(x, b)[:, j],
                                   ft.elementwise_grad(fnn.squareplus)(x[:, j], float(b[j])),
                                   rtol=1e-15)
    # b broadcast larger than x: jacfwd = jacrev, the b slope 1 / (4 h)
    x1, b2 = x[0], rng.uniform(0.3, 2.0, (3, 4))
    jf = ft.jacfwd(fnn.squareplus, argnums=(0, 1))(x1, b2)
    jr = ft.jacrev(fnn.squareplus, argnums=(0, 1))(x1, b2)
    for a, c in zip(jf, jr):
        np.testing.assert_allclose(a, c, rtol=1e-15, atol=0)
    h = np.hypot(x1, np.sqrt(b2))
    np.testing.assert_allclose(np.einsum("ijij->ij", jf[1]), 0.25 / h, rtol=1e-15)
