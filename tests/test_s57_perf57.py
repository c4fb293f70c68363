"""Session 57 (perf57): speed, with the values kept.

* incomplete_grads.gamma_quantile_d2 (d2x/da2 of the gamma inverses near the median for
  2.5 <= a < 7.5, session 56) ran its double-double sums as arrays whatever their size:
  ~500 NumPy calls, ~1.1 ms on one element, hessian(gammaincinv) at one point in that
  region +31-40 % over session 55. Up to 8 NumPy elements are now summed one at a time in
  Python floats (the same double-double terms, as a loop): ~0.11 ms an element. Before the
  fix test_gamma_quantile_d2_few_elements_make_no_array_calls failed (hundreds of calls);
  the values are checked against mpmath on both paths.
"""
import numpy as np
import pytest

import functrans as ft
import functrans.scipy.special as fsp

# mpmath (50 digits): the root x of P(a, x) = y (findroot) and its d2x/da2 (mpmath.diff)
_D2_REFERENCE = [  # (a, y, x, d2x/da2)
    (3.0, 0.3, 1.9137757941270625038, 0.031889867470590832603),
    (5.5, 0.5, 5.170499037195912013, 0.00028534617473981970495),
    (7.25, 0.7, 8.386171758167285449, -0.0071485272370495666525),
]


def _numpy_backend():
    from functrans.backends import backend_of
    return backend_of(np.zeros(1))


@pytest.mark.parametrize("n_copies", [1, 3, 5])  # (3 and 15 elements: both paths)
def test_gamma_quantile_d2_against_mpmath(n_copies):
    from functrans.backends.incomplete_grads import gamma_quantile_d2
    a, _, x, ref = (np.array([r[i] for r in _D2_REFERENCE] * n_copies) for i in range(4))
    got = gamma_quantile_d2(_numpy_backend(), a, x)
    np.testing.assert_allclose(got, ref, rtol=2e-14)
    for ai, xi, ri in zip(a[:3], x[:3], ref[:3]):  # (one element)
        np.testing.assert_allclose(gamma_quantile_d2(_numpy_backend(), ai[None], xi[None]),
                                   [ri], rtol=2e-14)


def test_hessian_gammaincinv_in_the_double_double_region():
    h = ft.hessian(fsp.gammaincinv)
    for a, y, _, ref in _D2_REFERENCE:
        np.testing.assert_allclose(float(h(a, y)), ref, rtol=1e-13)
    got = ft.vmap(h)(np.array([r[0] for r in _D2_REFERENCE]),
                     np.array([r[1] for r in _D2_REFERENCE]))
    np.testing.assert_allclose(got, [r[3] for r in _D2_REFERENCE], rtol=1e-13)


def test_gamma_quantile_d2_few_elements_make_no_array_calls():
    from functrans.backends.incomplete_grads import gamma_quantile_d2
    real = _numpy_backend()
    calls = []

    class CountingNamespace:
        def __getattr__(self, name):
            calls.append(name)
            return getattr(real.xp, name)

    class Backend:
        xp = CountingNamespace()
        to_numpy = staticmethod(real.to_numpy)
        device = staticmethod(real.device)

    a, _, x, ref = _D2_REFERENCE[0]
    got = gamma_quantile_d2(Backend(), np.array([a]), np.array([x]))
    np.testing.assert_allclose(got, [ref], rtol=2e-14)
    assert len(calls) <= 4, calls  # (the reshapes; the array form: hundreds)
