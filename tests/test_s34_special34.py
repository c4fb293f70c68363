"""special34: binom's derivatives where k is huge against a negative n or n is far below 0
(the reflected forms; a pole of Gamma(n - k + 1)); Stirling's coefficients rounded once;
betainc's shape-derivative prefactor through generic._log_beta_front.

References are mpmath's, 60 digits (mpmath is not a test dependency here: the expressions are
in the comments). binom: ``mp.diff(f, (n, k), order)`` with ``f(n, k) = G(n + 1) R(k + 1)
R(n - k + 1)``, ``G(x) = pi / (sinpi(x) gamma(1 - x))`` and ``R(x) = sinpi(x) gamma(1 - x) / pi``
below x = 1/2 (``gamma(x)``, ``rgamma(x)`` above): every gamma function of a positive argument,
so the references are right at the poles too."""

import math
from fractions import Fraction

import numpy as np
import pytest

import functrans as ft
import functrans.scipy.special as fsp
from functrans.backends import backend_of, generic, incomplete_grads

_g = ft.grad
_BINOM_FNS = {
    "value": fsp.binom,
    "dn": _g(fsp.binom, 0), "dk": _g(fsp.binom, 1),
    "dnn": _g(_g(fsp.binom, 0), 0), "dkk": _g(_g(fsp.binom, 1), 1),
    "dnk": _g(_g(fsp.binom, 0), 1),
}
# (n, k): binom and its derivatives dn, dk, dnn, dkk, dnk (mpmath, see above)
_BINOM_CASES = {
    # k huge against n = -1/2: dkk did not return (SciPy's trigamma of -1e12 in the branch
    # not taken takes time proportional to its argument)
    (-0.5, 1e12): (5.6418958354768576e-7, -1.6696926200265772e-5, -2.8209479177377236e-19,
                   0.00049135353841019085, -5.5683279968310118e-6, 5.5683279968387961e-6),
    # a pole of Gamma(n - k + 1): the value 0, its derivatives those of sin(pi (n - k + 1))
    # (dkk was nan)
    (-0.5, 1e8 + 0.5): (0.0, 0.00017724538442588141, -0.00017724538442588141,
                        -0.0072260074602414695, 1.7724538309654104e-12,
                        0.0036130037292345078),
    (-2.5, 1e10 + 0.5): (0.0, 2363271801827713.6, -2363271801827713.6, -1.0550918791060546e+17,
                         -708981.5404242423, 52754593955657220.0),
    # n far below 0, k small and not whole: lgamma(n + 1) - lgamma(n - k + 1) cancelled
    (-1e6 - 0.5, 5.25): (-1.2096111404647402592e+29, -3.8000991221425819314e+29,
                         -1.0793928272994931294e+30, 3.9900975732785493623e+24,
                         -7.2232683030697022597e+30, -5.7786834759311608072e+30),
    (-1e12 - 0.5, 5.25): (-3.8250735724681663e+60, -1.2016823034686375e+61,
                          -8.6978252090645102e+61, 1.2617664186400124e+50,
                          -1.9016287974585544e+63, -3.4875416372023609e+62),
}


@pytest.mark.parametrize("point", list(_BINOM_CASES), ids=str)
def test_binom_derivatives_far_from_zero(point):
    for (name, fn), want in zip(_BINOM_FNS.items(), _BINOM_CASES[point]):
        got = float(fn(*point))
        if want == 0.0:
            assert got == 0.0, (name, got)
        else:
            assert got == pytest.approx(want, rel=1e-13), name


def test_binom_overflowing_value_forward_derivatives_signed():
    """binom(-1000.5, 1e6 + 0.3) is 7.6e3430 (mpmath): inf, and its derivatives in forward
    mode the infinities of the true values' signs (dn -2.0e3431, dk -3.3e3431)."""
    point = (-1000.5, 1e6 + 0.3)
    assert float(fsp.binom(*point)) == math.inf
    _, dn = ft.jvp(lambda n: fsp.binom(n, point[1]), (point[0],), (1.0,))
    _, dk = ft.jvp(lambda k: fsp.binom(point[0], k), (point[1],), (1.0,))
    assert float(dn) == -math.inf and float(dk) == -math.inf


_B2K = (Fraction(1, 6), Fraction(-1, 30), Fraction(1, 42), Fraction(-1, 30), Fraction(5, 66),
        Fraction(-691, 2730), Fraction(7, 6), Fraction(-3617, 510))  # B_2 .. B_16


def test_stirling_coefficients_rounded_once():
    """c_k = B_2k / (2k (2k - 1)) and B_2k / (2k), each the double nearest the fraction (five
    of the first were one ulp off, computed in floats); special's correction is the same
    series (one implementation)."""
    assert incomplete_grads._STIRLING == tuple(
        float(b / (2 * k * (2 * k - 1))) for k, b in enumerate(_B2K, start=1))
    assert incomplete_grads._DIGAMMA_TAIL == tuple(
        float(b / (2 * k)) for k, b in enumerate(_B2K, start=1))
    # w(z) = loggamma(z) - ((z - 1/2) log z - z + log(2 pi) / 2) (mpmath, 40 digits)
    z = np.array([10.0, 37.5, 1000.0])
    want = [0.0083305634333628712565, 0.00222216955802160209, 0.000083333330555556349206]
    np.testing.assert_allclose(np.asarray(fsp._stirling_correction(z)), want, rtol=4e-16)


def test_beta_prefactor_is_generic_log_beta_front():
    """incomplete_grads' prefactor of betainc's shape derivatives, M = log(x^p y^q / (p B(p,
    q))), is generic._log_beta_front's (one implementation; its product form of log(x (1 +
    q/p)) where x is far from the mean p / (p + q)). mpmath: ``p log(x) + q log1p(-x) -
    log(p) - (loggamma(p) + loggamma(q) - loggamma(p + q))``, 40 digits."""
    p = np.array([3e5, 2.5, 1e6])
    q = np.array([40.5, 7e5, 1e6])
    x = np.array([0.25, 0.125, 0.5])
    y = 1.0 - x
    want = np.array([-415510.27412757032591, -93444.727322908750135, -8.1732675274667824485])
    b = backend_of(x)
    m = incomplete_grads._beta_prefactor_parts(b, p, q, x, y, (0.0 * x, 0.0 * x), np.log(x),
                                               np.log(y), False)[0]
    front = generic._log_beta_front(np, p, q, x, y, np.log(x), np.log(y),
                                    generic._beta_front_const(b, p, q))
    np.testing.assert_array_equal(m, front)
    np.testing.assert_allclose(m, want, rtol=2e-16 * 4)


def test_binom_zero_at_a_pole_where_the_other_factor_overflows():
    """binom(-1e8 - 0.5, 1e8 + 0.5): n - k + 1 = -1e8 is a pole of Gamma(n - k + 1), so 0
    (mpmath: f above, 0 exactly); poch(1e8 + 0.5, 1e8 + 0.5) / Gamma(1e8 + 1.5) overflows:
    was nan (0 * inf) after the double reflection took this point over."""
    assert float(fsp.binom(-1e8 - 0.5, 1e8 + 0.5)) == 0.0
    assert float(fsp.binom(-1e12 - 0.5, 1e8 + 0.5)) == 0.0
