"""special33: derivatives of the special functions at extreme arguments.

Reference values from mpmath (60 digits); each with its expression in a comment. For the
derivatives of binom: d/dk binomial(n, k) = binomial(n, k) (digamma(n - k + 1) - digamma(k + 1)),
d/dn binomial(n, k) = binomial(n, k) (digamma(n + 1) - digamma(n - k + 1)).
"""

import pytest

import functrans as ft
from functrans.scipy import special as fsp

# (n, k, d/dk binomial(n, k), d/dn binomial(n, k)), mpmath at mp.dps = 60
_BINOM_HUGE_K = [
    (-0.5, 1e12, -2.8209479177377236e-19, -1.6696926200265772e-5),
    (-2.5, 1e10, 112837.91671660363, -16792308796287467.0),
    (-13.5, 1e9, 2.3108741113473425e+95, -3.3568811693899608e+104),
    (-1.5, 1e15, 1.7841241161527704e-8, -1231127225.3199056),
    (-7.25, 1e12, 2.7190966580006271e+72, -2.2261546000629925e+73),
    (-0.5, 3e7 + 0.25, -0.0002288228075230282, -0.0011681983184415472),
    (0.5, 1e6 + 0.25, 6.2665736786450938e-10, 2.1218597284757801e-9),
]


@pytest.mark.parametrize("n, k, dk, dn", _BINOM_HUGE_K)
def test_binom_derivatives_at_huge_k(n, k, dk, dn):
    # (sin(pi z)'s derivative pi cos(pi z) was pi cos(fl(pi/2)) = 1.9e-16 at the half-integers,
    # not 0: d/dk binom(-0.5, 1e12) was 3.9e-4 off, (-2.5, 1e10) 1.3e-6, (-1.5, 1e15) 38 %)
    assert float(ft.grad(fsp.binom, argnums=1)(n, k)) == pytest.approx(dk, rel=1e-13)
    assert float(ft.grad(fsp.binom, argnums=0)(n, k)) == pytest.approx(dn, rel=1e-13)
