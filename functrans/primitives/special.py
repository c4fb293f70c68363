"""Special functions as elementwise primitives: erf, erfc, erfinv, ndtri, lgamma, digamma and
polygamma.

Each evaluates through its backend's *extra* of the same role (``backend.extra("erf")``: SciPy
on NumPy, ``torch.special`` on torch, ``cupyx.scipy.special`` on CuPy, the versions of
:mod:`functrans.backends.generic` elsewhere). Operands are real floating arrays (the namespace
:mod:`functrans.scipy.special` promotes integers and refuses complex numbers); the result has
the operand's shape and dtype. Every rule is written with primitives, so derivatives of any
order exist: erf' = 2/sqrt(pi) exp(-x^2), erfc' = -erf', erfinv' = sqrt(pi)/2 exp(erfinv^2),
ndtri' = sqrt(2 pi) exp(ndtri^2 / 2), lgamma' = digamma, digamma' = polygamma(1, .) and
polygamma(n, .)' = polygamma(n + 1, .).
"""

from __future__ import annotations

import math

from .elementwise import _array_aval, elementwise, exp, mul, neg, unary

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_SQRT_PI_OVER_TWO = math.sqrt(math.pi) / 2.0
_SQRT_2PI = math.sqrt(2.0 * math.pi)


def _via_extra(name):
    def impl(b, x):
        return b.extra(name)(x)
    impl.__name__ = f"{name}_impl"
    return impl


def _erf_slope(x):
    return mul(exp(neg(mul(x, x))), _TWO_OVER_SQRT_PI)


erf_p = unary("erf", _via_extra("erf"), lambda t, x, y: mul(t, _erf_slope(x)))
erfc_p = unary("erfc", _via_extra("erfc"), lambda t, x, y: neg(mul(t, _erf_slope(x))))
# The inverse functions' derivatives come from their results: 1 / erf'(erfinv(x)).
erfinv_p = unary("erfinv", _via_extra("erfinv"),
                 lambda t, x, y: mul(t, mul(exp(mul(y, y)), _SQRT_PI_OVER_TWO)))
# ndtri, the inverse of the standard normal CDF: 1 / phi(ndtri(p)). A primitive of its own
# (not sqrt(2) erfinv(2p - 1)) because 2p - 1 loses the small p of the lower tail.
ndtri_p = unary("ndtri", _via_extra("ndtri"),
                lambda t, x, y: mul(t, mul(exp(mul(mul(y, y), 0.5)), _SQRT_2PI)))


def _lgamma_tangent(t, x, y):
    return mul(t, digamma(x))


def _digamma_tangent(t, x, y):
    return mul(t, polygamma(x, n=1))


lgamma_p = unary("lgamma", _via_extra("lgamma"), _lgamma_tangent)
digamma_p = unary("digamma", _via_extra("digamma"), _digamma_tangent)


def _polygamma_impl(b, x, *, n):
    return b.extra("polygamma")(n, x)


def _polygamma_jvp(primals, tangents, *, n):
    x, = primals
    return polygamma(x, n=n), mul(tangents[0], polygamma(x, n=n + 1))


def _polygamma_aval(x, *, n):
    return _array_aval(x)


# polygamma(x, n=n): the n-th derivative of digamma (n >= 0, a static Python int).
polygamma_p = elementwise("polygamma", _polygamma_impl, _polygamma_jvp,
                          abstract_eval=_polygamma_aval)
polygamma_p.same_aval = True  # the operand's aval, whatever n

erf = erf_p.bind
erfc = erfc_p.bind
erfinv = erfinv_p.bind
ndtri = ndtri_p.bind
lgamma = lgamma_p.bind
digamma = digamma_p.bind
polygamma = polygamma_p.bind
