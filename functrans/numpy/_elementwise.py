"""Elementwise functions of the Array API beyond the arithmetic core of :mod:`._base`.

Each works on plain arrays (returning arrays of the same library), Python scalars and
tracers, with the standard's broadcasting, promotion and Python-scalar rules. Functions
defined on floating point promote integer inputs to float64 first. Integer and boolean
results carry no derivative.
"""

from __future__ import annotations

import builtins
import operator as _operator

from .. import dtypes as _dt
from ..primitives import elementwise as _ew
from ..primitives import structural as _st
from ._base import (_SCALARS, _as_operand, _binary, _dtype, _float_function, _to_array)
from ._base import divide, maximum, minimum, where  # noqa: F401

_INEXACT = _dt.INEXACT_IDS


acos = _float_function(_ew.acos_p, "acos", "Elementwise inverse cosine (derivative infinite at "
                    "+-1).")
acosh = _float_function(_ew.acosh_p, "acosh", "Elementwise inverse hyperbolic cosine.")
asin = _float_function(_ew.asin_p, "asin", "Elementwise inverse sine (derivative infinite at "
                    "+-1).")
asinh = _float_function(_ew.asinh_p, "asinh", "Elementwise inverse hyperbolic sine.")
atan = _float_function(_ew.atan_p, "atan", "Elementwise inverse tangent.")
atanh = _float_function(_ew.atanh_p, "atanh", "Elementwise inverse hyperbolic tangent.")
cosh = _float_function(_ew.cosh_p, "cosh", "Elementwise hyperbolic cosine.")
sinh = _float_function(_ew.sinh_p, "sinh", "Elementwise hyperbolic sine.")
tan = _float_function(_ew.tan_p, "tan", "Elementwise tangent.")
expm1 = _float_function(_ew.expm1_p, "expm1", "Elementwise ``exp(x) - 1``, accurate near 0.")
log1p = _float_function(_ew.log1p_p, "log1p", "Elementwise ``log(1 + x)``, accurate near 0.")
log2 = _float_function(_ew.log2_p, "log2", "Elementwise base-2 logarithm.")
log10 = _float_function(_ew.log10_p, "log10", "Elementwise base-10 logarithm.")


def _rounding(prim, name, doc):
    def fn(x, /):
        x = _as_operand(x)
        if _dtype(x).kind not in "fc":
            return x  # integers are already whole
        return prim.bind(x)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return fn


floor = _rounding(_ew.floor_p, "floor", "Elementwise floor (derivative 0).")
ceil = _rounding(_ew.ceil_p, "ceil", "Elementwise ceiling (derivative 0).")
trunc = _rounding(_ew.trunc_p, "trunc", "Elementwise rounding toward zero (derivative 0).")
_round0 = _rounding(_ew.round_p, "round", "")


def round(x, /, decimals=0):
    """Elementwise rounding to ``decimals`` decimal places (NumPy's ``round``; the standard's
    ``round`` is ``decimals=0``), halves to even; derivative 0.

    As in NumPy, floats are scaled by ``10**decimals``, rounded to integers and scaled back
    (so results carry the rounding of that scaling); a negative ``decimals`` rounds to
    tens, hundreds... Integers are returned as they are for ``decimals >= 0`` and rounded
    exactly (halves to even) in integer arithmetic otherwise.
    """
    decimals = _operator.index(decimals)
    x = _as_operand(x)
    if decimals == 0:
        return _round0(x)
    kind = _dtype(x).kind
    if kind == "b":
        if decimals > 0:
            return x
        raise TypeError("round: booleans cannot be rounded to a negative number of decimals")
    if kind in "iu":
        if decimals > 0:
            return x
        f = 10 ** -decimals
        q = _binary(_ew.floor_divide_p, x, f)
        r = _binary(_ew.sub_p, x, _binary(_ew.mul_p, q, f))  # 0 <= r < f
        twice = _binary(_ew.mul_p, r, 2)
        odd = _binary(_ew.ne_p, _binary(_ew.remainder_p, q, 2), 0)
        up = _binary(_ew.logical_or_p, _binary(_ew.gt_p, twice, f),
                     _binary(_ew.logical_and_p, _binary(_ew.eq_p, twice, f), odd))
        q = where(up, _binary(_ew.add_p, q, 1), q)
        return _binary(_ew.mul_p, q, f)
    if kind == "c":
        re = round(_ew.real_p.bind(x), decimals)
        im = round(_ew.imag_p.bind(x), decimals)
        return _binary(_ew.add_p, _st.convert_element_type(re, _dtype(x)),
                       _binary(_ew.mul_p, _st.convert_element_type(im, _dtype(x)), 1j))
    f = 10.0 ** builtins.abs(decimals)
    if decimals > 0:
        return _binary(_ew.div_p, _ew.round_p.bind(_binary(_ew.mul_p, x, f)), f)
    return _binary(_ew.mul_p, _ew.round_p.bind(_binary(_ew.div_p, x, f)), f)


def abs(x, /):
    """Elementwise absolute value (the modulus for complex numbers, a real array).

    The derivative at 0 is taken as 0 (``sign(0) = 0``), as in autograd and PyTorch (JAX
    takes 1).
    """
    return _ew.abs_p.bind(_as_operand(x))


def sign(x, /):
    """Elementwise sign: -1, 0 or 1 (``x / |x|`` for complex). Derivative 0 for real input."""
    x = _as_operand(x)
    if _dtype(x).kind == "c":
        a = _ew.abs_p.bind(x)
        safe = _ew.select(_ew.eq(a, 0.0), 1.0, a)
        return _ew.select(_ew.eq(a, 0.0), 0j, _ew.div(x, _st.convert_element_type(
            safe, _dtype(x))))
    if _dtype(x).kind == "b":
        return x
    return _ew.sign_p.bind(x)


def conj(x, /):
    """Elementwise complex conjugate (real input is returned as it is)."""
    x = _as_operand(x)
    return _ew.conj_p.bind(x) if _dtype(x).kind == "c" else x


def real(x, /):
    """Elementwise real part (real input is returned as it is)."""
    x = _as_operand(x)
    return _ew.real_p.bind(x) if _dtype(x).kind == "c" else x


def imag(x, /):
    """Elementwise imaginary part (zeros for real input)."""
    x = _as_operand(x)
    return _ew.imag_p.bind(x) if _dtype(x).kind == "c" else _st.zeros_like(x)


def reciprocal(x, /):
    """Elementwise ``1 / x``."""
    return divide(1.0, x)


def _float_binary(prim, name, doc):
    """A binary function on floating point: integer operands are promoted to float64."""
    def fn(x1, x2, /):
        if type(x1) in _SCALARS:
            x1 = float(x1) if type(x1) is not complex else x1
        elif _dtype(x1).kind not in "fc":
            x1 = _st.convert_element_type(x1, _dt.float64)
        if type(x2) in _SCALARS:
            x2 = float(x2) if type(x2) is not complex else x2
        elif _dtype(x2).kind not in "fc":
            x2 = _st.convert_element_type(x2, _dt.float64)
        return _binary(prim, x1, x2)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return fn


atan2 = _float_binary(_ew.atan2_p, "atan2", "Elementwise angle of the point ``(x2, x1)``.")
hypot = _float_binary(_ew.hypot_p, "hypot", "Elementwise ``sqrt(x1**2 + x2**2)`` without "
                      "overflow (derivative 0 at the origin).")
logaddexp = _float_binary(_ew.logaddexp_p, "logaddexp", "Elementwise "
                          "``log(exp(x1) + exp(x2))`` without overflow.")
copysign = _float_binary(_ew.copysign_p, "copysign", "Elementwise ``|x1|`` with the sign of "
                         "``x2`` (no derivative in ``x2``).")
nextafter = _float_binary(_ew.nextafter_p, "nextafter", "The next float after ``x1`` toward "
                          "``x2``; the derivative is taken as 1 in ``x1`` and 0 in ``x2``.")


def _plain_binary(prim, name, doc):
    def fn(x1, x2, /):
        return _binary(prim, x1, x2)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return fn


floor_divide = _plain_binary(_ew.floor_divide_p, "floor_divide",
                             "Elementwise ``x1 // x2`` (derivative 0).")
remainder = _plain_binary(_ew.remainder_p, "remainder",
                          "Elementwise ``x1 % x2`` with the sign of ``x2`` (derivative 1 in "
                          "``x1`` and ``-floor(x1 / x2)`` in ``x2``).")
bitwise_and = _plain_binary(_ew.bitwise_and_p, "bitwise_and", "Elementwise ``x1 & x2``.")
bitwise_or = _plain_binary(_ew.bitwise_or_p, "bitwise_or", "Elementwise ``x1 | x2``.")
bitwise_xor = _plain_binary(_ew.bitwise_xor_p, "bitwise_xor", "Elementwise ``x1 ^ x2``.")
bitwise_left_shift = _plain_binary(_ew.bitwise_left_shift_p, "bitwise_left_shift",
                                   "Elementwise ``x1 << x2``.")
bitwise_right_shift = _plain_binary(_ew.bitwise_right_shift_p, "bitwise_right_shift",
                                    "Elementwise ``x1 >> x2``.")


def bitwise_invert(x, /):
    """Elementwise ``~x`` (bitwise NOT; logical NOT for booleans)."""
    return _ew.bitwise_invert_p.bind(_as_operand(x))


def _as_bool(x):
    if type(x) in _SCALARS:
        return _to_array(bool(x))
    return x if _dtype(x).kind == "b" else _st.convert_element_type(x, _dt.bool_)


def _logical(prim, name, doc):
    def fn(x1, x2, /):
        return _binary(prim, _as_bool(x1), _as_bool(x2))
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return fn


logical_and = _logical(_ew.logical_and_p, "logical_and", "Elementwise logical AND.")
logical_or = _logical(_ew.logical_or_p, "logical_or", "Elementwise logical OR.")
logical_xor = _logical(_ew.logical_xor_p, "logical_xor", "Elementwise logical XOR.")


def logical_not(x, /):
    """Elementwise logical NOT."""
    return _ew.logical_not_p.bind(_as_bool(x))


def _test(prim, name, doc, default):
    def fn(x, /):
        x = _as_operand(x)
        if _dtype(x).kind not in "fc":
            return _st.full_like(x, default, dtype=_dt.bool_)
        return prim.bind(x)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return fn


isfinite = _test(_ew.isfinite_p, "isfinite", "Elementwise test for finite values.", True)
isinf = _test(_ew.isinf_p, "isinf", "Elementwise test for infinities.", False)
isnan = _test(_ew.isnan_p, "isnan", "Elementwise test for NaN.", False)


def signbit(x, /):
    """Elementwise test of the sign bit (true for -0.0 and negative values)."""
    return _ew.signbit_p.bind(_as_operand(x))


def clip(x, /, min=None, max=None):
    """Clamp ``x`` to ``[min, max]``; the result has ``x``'s dtype and shape.

    The derivative flows to ``x`` where ``min <= x <= max`` (both ends included), and to the
    bound that is chosen elsewhere.
    """
    x = _as_operand(x)
    d = _dtype(x)
    if min is None and max is None:
        return x

    def bound(v):
        if type(v) in _SCALARS:
            return v if d.kind in "fc" or type(v) is not float else int(v)
        return v if _dtype(v) is d else _st.convert_element_type(v, d)
    out = x
    if min is not None:
        lo = bound(min)
        out = where(_binary(_ew.lt_p, out, lo), lo, out)
    if max is not None:
        hi = bound(max)
        out = where(_binary(_ew.gt_p, out, hi), hi, out)
    if tuple(out.shape) != tuple(x.shape):
        raise ValueError(f"clip: the bounds must broadcast to x's shape {tuple(x.shape)}")
    return out if _dtype(out) is d else _st.convert_element_type(out, d)
