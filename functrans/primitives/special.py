"""Special functions as elementwise primitives: erf, erfc, erfinv, ndtri, lgamma, digamma,
polygamma, the regularized incomplete gamma and beta functions gammainc, gammaincc and
betainc, and their inverses in the last operand gammaincinv, gammainccinv and betaincinv.

Each evaluates through its backend's *extra* of the same role (``backend.extra("erf")``: SciPy
on NumPy, ``torch.special`` on torch, ``cupyx.scipy.special`` on CuPy, the versions of
:mod:`functrans.backends.generic` elsewhere). Operands are real floating arrays (the namespace
:mod:`functrans.scipy.special` promotes integers and refuses complex numbers); the result has
the operand's shape and dtype. Every rule is written with primitives, so derivatives of any
order exist: erf' = 2/sqrt(pi) exp(-x^2), erfc' = -erf', erfinv' = sqrt(pi)/2 exp(erfinv^2),
ndtri' = sqrt(2 pi) exp(ndtri^2 / 2), lgamma' = digamma, digamma' = polygamma(1, .) and
polygamma(n, .)' = polygamma(n + 1, .).

The incomplete functions are differentiated in their last operand ``x`` only, in closed form
(``d/dx gammainc(a, x) = exp(-x) x^(a-1) / Gamma(a)``, ``d/dx betainc(a, b, x) =
x^(a-1) (1-x)^(b-1) / B(a, b)``, each computed in logarithms); a tangent reaching a shape
parameter (``a``, ``b``) raises NotImplementedError rather than giving a silent zero. The
inverses are differentiated in ``y`` by the inverse function rule (one over the forward
function's derivative at the result, in logarithms), likewise not in the shapes.
"""

from __future__ import annotations

import math

from .elementwise import (_array_aval, add, elementwise, eq, exp, gt, log, log1p, lt, mul, neg,
                          select, sub, unary)

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


# -- regularized incomplete gamma and beta functions --------------------------------------------


def _no_shape_tangent(name, tangents, params):
    for t, p in zip(tangents, params):
        if t is not None:
            raise NotImplementedError(
                f"{name}: the derivative with respect to the shape parameter {p} is not "
                f"implemented (only the derivative with respect to x is); stop_gradient {p} "
                f"or differentiate with respect to x only")


def _gamma_slope(a, x):
    """exp(-x) x^(a-1) / Gamma(a), computed in logarithms (the density of the gamma
    distribution with shape a); at x = 0: inf for a < 1, 1 for a = 1, 0 for a > 1."""
    pos = gt(x, 0.0)
    xs = select(pos, x, 1.0)
    inner = exp(sub(sub(mul(sub(a, 1.0), log(xs)), xs), lgamma(a)))
    zero_x = select(lt(a, 1.0), math.inf, select(eq(a, 1.0), 1.0, mul(inner, 0.0)))
    return select(pos, inner, zero_x)


def _beta_slope(a, b, x):
    """x^(a-1) (1-x)^(b-1) / B(a, b) in logarithms, for 0 < x < 1 (0 outside [0, 1])."""
    pos = gt(x, 0.0)
    below1 = lt(x, 1.0)
    xs = select(pos, select(below1, x, 0.5), 0.5)
    log_b = sub(add(lgamma(a), lgamma(b)), lgamma(add(a, b)))
    inner = exp(sub(add(mul(sub(a, 1.0), log(xs)), mul(sub(b, 1.0), log1p(neg(xs)))), log_b))
    zero = mul(inner, 0.0)
    at0 = select(lt(a, 1.0), math.inf, select(eq(a, 1.0), exp(neg(log_b)), zero))
    at1 = select(lt(b, 1.0), math.inf, select(eq(b, 1.0), exp(neg(log_b)), zero))
    return select(pos, select(below1, inner, select(eq(x, 1.0), at1, zero)),
                  select(eq(x, 0.0), at0, zero))


def _gammainc_impl(b, a, x):
    return b.extra("gammainc")(a, x)


def _gammaincc_impl(b, a, x):
    return b.extra("gammaincc")(a, x)


def _betainc_impl(bk, a, b, x):
    return bk.extra("betainc")(a, b, x)


def _gammainc_jvp(primals, tangents):
    a, x = primals
    _no_shape_tangent("gammainc", tangents[:1], ("a",))
    out = gammainc(a, x)
    t = tangents[1]
    return out, None if t is None else mul(t, _gamma_slope(a, x))


def _gammaincc_jvp(primals, tangents):
    a, x = primals
    _no_shape_tangent("gammaincc", tangents[:1], ("a",))
    out = gammaincc(a, x)
    t = tangents[1]
    return out, None if t is None else neg(mul(t, _gamma_slope(a, x)))


def _betainc_jvp(primals, tangents):
    a, b, x = primals
    _no_shape_tangent("betainc", tangents[:2], ("a", "b"))
    out = betainc(a, b, x)
    t = tangents[2]
    return out, None if t is None else mul(t, _beta_slope(a, b, x))


# gammainc(a, x), gammaincc(a, x), betainc(a, b, x): operands of one shape and dtype.
gammainc_p = elementwise("gammainc", _gammainc_impl, _gammainc_jvp)
gammaincc_p = elementwise("gammaincc", _gammaincc_impl, _gammaincc_jvp)
betainc_p = elementwise("betainc", _betainc_impl, _betainc_jvp)


# -- their inverses in the last operand -----------------------------------------------------
# The derivative in y is 1 / (the forward function's derivative at the result), taken in
# logarithms: exp(x - (a-1) log x + lgamma(a)) for gammaincinv (minus it for gammainccinv),
# exp(log B(a, b) - (a-1) log x - (b-1) log(1-x)) for betaincinv. The operands reach the
# primitives inside the domain only (0 < y < 1, finite positive shapes; the namespace gives
# the edges their values), so that x is positive (and below 1) there.


def _inverse_gamma_slope(a, x):
    return exp(sub(add(x, lgamma(a)), mul(sub(a, 1.0), log(x))))


def _inverse_beta_slope(a, b, x):
    log_b = sub(add(lgamma(a), lgamma(b)), lgamma(add(a, b)))
    return exp(sub(sub(log_b, mul(sub(a, 1.0), log(x))), mul(sub(b, 1.0), log1p(neg(x)))))


def _gammaincinv_impl(b, a, y):
    return b.extra("gammaincinv")(a, y)


def _gammainccinv_impl(b, a, y):
    return b.extra("gammainccinv")(a, y)


def _betaincinv_impl(bk, a, b, y):
    return bk.extra("betaincinv")(a, b, y)


def _gammaincinv_jvp(primals, tangents):
    a, y = primals
    _no_shape_tangent("gammaincinv", tangents[:1], ("a",))
    out = gammaincinv(a, y)
    t = tangents[1]
    return out, None if t is None else mul(t, _inverse_gamma_slope(a, out))


def _gammainccinv_jvp(primals, tangents):
    a, y = primals
    _no_shape_tangent("gammainccinv", tangents[:1], ("a",))
    out = gammainccinv(a, y)
    t = tangents[1]
    return out, None if t is None else neg(mul(t, _inverse_gamma_slope(a, out)))


def _betaincinv_jvp(primals, tangents):
    a, b, y = primals
    _no_shape_tangent("betaincinv", tangents[:2], ("a", "b"))
    out = betaincinv(a, b, y)
    t = tangents[2]
    return out, None if t is None else mul(t, _inverse_beta_slope(a, b, out))


gammaincinv_p = elementwise("gammaincinv", _gammaincinv_impl, _gammaincinv_jvp)
gammainccinv_p = elementwise("gammainccinv", _gammainccinv_impl, _gammainccinv_jvp)
betaincinv_p = elementwise("betaincinv", _betaincinv_impl, _betaincinv_jvp)

erf = erf_p.bind
erfc = erfc_p.bind
erfinv = erfinv_p.bind
ndtri = ndtri_p.bind
lgamma = lgamma_p.bind
digamma = digamma_p.bind
polygamma = polygamma_p.bind
gammainc = gammainc_p.bind
gammaincc = gammaincc_p.bind
betainc = betainc_p.bind
gammaincinv = gammaincinv_p.bind
gammainccinv = gammainccinv_p.bind
betaincinv = betaincinv_p.bind
