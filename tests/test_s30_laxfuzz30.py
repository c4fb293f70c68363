"""Session 30 (laxfuzz30): functrans.lax with unusual parameters, fuzzed against JAX.

Regressions distilled from the fuzzer, and the differences from JAX it found where JAX is
the one that is wrong (each pinned with the reason)."""

import numpy as np
import pytest

import functrans as ft
from functrans import lax


# -- reduce_precision with no mantissa bits ------------------------------------------------

def test_reduce_precision_no_mantissa_ties_go_to_the_even_exponent(backend):
    # With mantissa_bits=0 a number is rounded to a power of two; XLA rounds the bit
    # pattern to nearest, ties to even, and with no mantissa bits the last bit kept is the
    # exponent's lowest. 1.5 * 2**k is halfway between 2**k and 2**(k+1), and every IEEE
    # bias is odd, so the biased exponent of 2**k is even exactly when k is odd: the tie
    # goes to 2**k for odd k and to 2**(k+1) for even k (JAX: 3 -> 2, 6 -> 8; was 3 -> 4).
    ks = np.arange(-20, 21)
    x = 1.5 * 2.0 ** ks
    want = np.where(ks % 2 == 1, 2.0 ** ks, 2.0 ** (ks + 1))
    for dt, e in (("float64", 11), ("float32", 8), ("float64", 8)):
        got = lax.reduce_precision(backend.asarray(np.concatenate([x, -x]), dt), e, 0)
        np.testing.assert_array_equal(backend.to_numpy(got),
                                      np.concatenate([want, -want]).astype(dt))
    # off the ties it is rounding to the nearer power: 1.25 -> 1, 1.75 -> 2
    got = lax.reduce_precision(backend.asarray([1.25, 1.75, 2.9, 3.1], "float64"), 11, 0)
    np.testing.assert_array_equal(backend.to_numpy(got), [1.0, 2.0, 2.0, 4.0])
    # two exponent bits (bias 1, largest binade [2, 4)): 3 rounds down to 2, not up past
    # the largest binade to inf; 6 rounds to 8, past it: inf
    got = lax.reduce_precision(backend.asarray([3.0, 6.0, -3.0], "float64"), 2, 0)
    np.testing.assert_array_equal(backend.to_numpy(got), [2.0, np.inf, -2.0])


def test_reduce_precision_no_mantissa_under_transforms():
    x = np.array([3.0, 1.5, 6.0, 12.0])
    want = [2.0, 2.0, 8.0, 8.0]
    np.testing.assert_array_equal(ft.jit(lambda v: lax.reduce_precision(v, 8, 0))(x), want)
    np.testing.assert_array_equal(ft.vmap(lambda v: lax.reduce_precision(v, 8, 0))(x), want)
    y, t = ft.jvp(lambda v: lax.reduce_precision(v, 8, 0), (x,), (np.ones(4),))
    np.testing.assert_array_equal(y, want)
    np.testing.assert_array_equal(t, np.ones(4))  # the identity (pinned in test_lax15)
