"""Session 47 (elem47): special functions; what this helper's changes pin.

- the generic digamma and lgamma (array-api-strict's, and the generic paths of other
  backends) give a batch its members' single-call values: their shifts' and Lanczos'
  partial fractions were summed by ``xp.sum`` over a leading axis, pairwise for a scalar
  and in sequence for a batch (an ulp apart; betainc's batch independence on
  array-api-strict broke through them).
- digamma below -100 near its roots: the reflection cancels (6e13 ulp at the float64 nearest
  the root in (-151, -150)): a known limit, a strict xfail until session 51 (double-double
  there, tests/test_s51_special51.py), now a passing test.
"""

import numpy as np
import pytest

import functrans as ft
import functrans.scipy.special as fsp


# -- the generic digamma/lgamma: a batch's members get their single-call values ---------------

def test_generic_digamma_lgamma_batch_is_single():
    xs = pytest.importorskip("array_api_strict")
    xv = np.array([0.97119553, 0.69006781, 0.53149275, 10.99668914, 6.7516874, 10.36014918,
                   -3.3, 2.5])
    for f in (fsp.digamma, fsp.gammaln):
        batch = np.asarray(f(xs.asarray(xv)))
        alone = np.array([float(np.asarray(f(xs.asarray(v)))) for v in xv])
        np.testing.assert_array_equal(batch, alone)


def test_betainc_shape_slopes_batch_is_single_strict():
    xs = pytest.importorskip("array_api_strict")
    a, b, x = (xs.asarray(np.array(v)) for v in ((1.5, 3.0), (2.0, 4.0), (0.6, 0.3)))
    g = ft.vmap(ft.grad(fsp.betainc, argnums=(0, 1)))(a, b, x)
    one = ft.grad(fsp.betainc, argnums=(0, 1))(xs.asarray(1.5), xs.asarray(2.0),
                                              xs.asarray(0.6))
    assert float(g[0][0]) == float(one[0]) and float(g[1][0]) == float(one[1])


# -- digamma below -100 near its roots (a known limit until session 51: digamma_roots'
# double-double form there) ------------------------------------------------------------------

def test_digamma_below_minus_100_near_root():
    # the float64 nearest psi's root in (-151, -150), and 1e-8 relative off it
    # (mpmath, 50 digits: r = -150.8219889964943460...)
    xs = np.array([-150.82198899649435, -150.82199050471422])
    ref = np.array([-3.060493995561227e-13, -5.287480426000705e-05])
    np.testing.assert_allclose(np.asarray(fsp.digamma(xs)), ref, rtol=1e-14)
