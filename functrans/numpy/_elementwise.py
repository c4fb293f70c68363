"""Elementwise functions of the Array API beyond the arithmetic core of :mod:`._base`.

Each works on plain arrays (returning arrays of the same library), Python scalars and
tracers, with the standard's broadcasting, promotion and Python-scalar rules. Functions
defined on floating point promote integer inputs to float64 first. Integer and boolean
results carry no derivative.
"""

from __future__ import annotations

import builtins
import operator as _operator

from numpy import iinfo as _np_iinfo


from .. import dtypes as _dt
from ..core import Tracer
from ..primitives import elementwise as _ew
from ..primitives import structural as _st
from ._base import (_SCALARS, _as_operand, _binary, _dtype, _float_function, _key_operand,
                    _SEQUENCES, _promote_arrays,
                    _to_array)
from ._base import divide, maximum, minimum, where  # noqa: F401
from ._base import _no_out, _ufunc_options
from ._base import where as _where  # (for the functions whose where= parameter hides it)

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
for _f in (acos, acosh, asin, asinh, atan, atanh, cosh, sinh, tan, expm1, log1p, log2, log10):
    _f.__module__ = __name__  # made in ._base: where pickle and the API reference look them up


def _rounding(prim, name, doc):
    def fn(x, out=None, where=None):  # (x by keyword too: jax.numpy's trunc takes it)
        if out is not None or where is not None:
            _ufunc_options(name, out, where)
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


def _from_parts(re, im, dtype):
    """The complex array ``re + 1j * im`` of ``dtype`` from two real arrays, exact in every
    part, zero signs included. Built as ``conj(re + 0j) - conj(-im + 0j) * 1j``: the
    product is ``+0 + (-im) j`` (its real part ``(-im) * 0 + 0`` is +0 for a finite
    ``im``), and subtracting it adds ``-0`` to ``re`` and ``im`` to ``-0``, both exact (the
    plain ``re + im * 1j`` added +0 to each part: ``-0`` came out as ``+0``). Where ``im``
    is infinite or NaN the product's real part is ``inf * 0`` (NaN; ``1 + inf j`` came out
    as ``nan + inf j``), so those take the constant ``0 - im j``. Derivative:
    ``t_re + 1j * t_im`` (none at the non-finite ``im``)."""
    p = _binary(_ew.mul_p, _ew.conj_p.bind(_st.convert_element_type(_ew.neg_p.bind(im), dtype)),
                1j)
    odd_value = where(_binary(_ew.gt_p, im, 0), complex(0.0, -float("inf")),
                      where(_binary(_ew.lt_p, im, 0), complex(0.0, float("inf")),
                            complex(0.0, float("nan"))))
    p = where(isfinite(im), p, _st.convert_element_type(odd_value, dtype))
    return _binary(_ew.sub_p, _ew.conj_p.bind(_st.convert_element_type(re, dtype)), p)


def _round_integers(a, f):
    """Integers rounded to multiples of ``f`` (a power of 10), halves to even, exactly. In
    int64 for the narrower dtypes, then cast back as NumPy's (which wraps what does not
    fit: int8 127 to tens is -126): in their own dtype ``r * 2`` and ``q * f`` overflowed
    (int8 70 to hundreds gave 0, -128 gave 56; NumPy 100 and -100)."""
    d = _dtype(a)
    hi = int(_np_iinfo(d.name).max)
    if f // 2 > hi:  # every value rounds to 0
        return _binary(_ew.mul_p, a, 0)
    wide = d.bits < 64
    if f > hi and not wide:
        # int64 to 10**19: beyond +-5e18 the result, +-1e19, does not fit; NumPy's there
        big = _binary(_ew.gt_p, abs(a), f // 2)
        if not isinstance(a, Tracer) and _any_true(big):
            _wraps_warning(d, f)
        return where(big, _binary(_ew.add_p, _binary(_ew.mul_p, a, 0), -hi - 1),
                     _binary(_ew.mul_p, a, 0))
    x = _st.convert_element_type(a, _dt.int64) if wide else a
    q = _binary(_ew.floor_divide_p, x, f)
    r = _binary(_ew.sub_p, x, _binary(_ew.mul_p, q, f))  # 0 <= r < f
    rest = _binary(_ew.sub_p, f, r)  # (r > f - r, not 2 r > f: no overflow)
    odd = _binary(_ew.ne_p, _binary(_ew.remainder_p, q, 2), 0)
    up = _binary(_ew.logical_or_p, _binary(_ew.gt_p, r, rest),
                 _binary(_ew.logical_and_p, _binary(_ew.eq_p, r, rest), odd))
    q = where(up, _binary(_ew.add_p, q, 1), q)
    out = _binary(_ew.mul_p, q, f)
    if not isinstance(a, Tracer):  # (values at hand: say where the result wraps)
        lo = int(_np_iinfo(d.name).min)
        over = (_binary(_ew.logical_or_p, _binary(_ew.gt_p, out, hi), _binary(_ew.lt_p, out, lo))
                if wide else _binary(_ew.logical_or_p, _binary(_ew.gt_p, q, hi // f),
                                     _binary(_ew.lt_p, q, -(-lo // f))))
        if _any_true(over):
            _wraps_warning(d, f)
    return _st.convert_element_type(out, d) if wide else out


def _any_true(mask):
    from ._statistics import any as any_
    return bool(any_(mask))


def _wraps_warning(d, f):
    """NumPy's round is silent where an 8- or 16-bit result wraps around, and warns of an
    invalid cast where a 32- or 64-bit one does not fit (its float64 detour gives the
    smallest integer there): a warning in every case, eagerly."""
    import warnings
    warnings.warn(f"round: a value rounded to a multiple of {f} does not fit {d.name}, so "
                  f"the result there is not that multiple (it wraps around as NumPy's "
                  f"integer arithmetic does). Round in a wider dtype (astype first) to keep "
                  f"it.", RuntimeWarning, stacklevel=4)


def round(a, decimals=0, out=None):
    """Elementwise rounding to ``decimals`` decimal places (NumPy's ``round``; the standard's
    ``round`` is ``decimals=0``), halves to even; derivative 0.

    As in NumPy, floats are scaled by ``10**decimals``, rounded to integers and scaled back
    (so results carry the rounding of that scaling); a negative ``decimals`` rounds to
    tens, hundreds... Integers are returned as they are for ``decimals >= 0`` and rounded
    exactly (halves to even) in integer arithmetic otherwise.
    """
    if out is not None:
        _no_out("round", out)
    decimals = _operator.index(decimals)
    a = _as_operand(a)
    kind = _dtype(a).kind
    if kind == "b":
        if decimals < 0:
            raise TypeError("round: booleans cannot be rounded to a negative number of "
                            "decimals")
        # (NumPy has no boolean loop: it rounds them as float16, its smallest float)
        return _st.convert_element_type(a, _dt.float16)
    if decimals == 0:
        return _round0(a)
    if kind in "iu":
        if decimals > 0:
            return a
        return _round_integers(a, 10 ** -decimals)
    if kind == "c":
        re = round(_ew.real_p.bind(a), decimals)
        im = round(_ew.imag_p.bind(a), decimals)
        return _from_parts(re, im, _dtype(a))
    f = 10.0 ** builtins.abs(decimals)
    if decimals > 0:
        return _binary(_ew.div_p, _ew.round_p.bind(_binary(_ew.mul_p, a, f)), f)
    return _binary(_ew.mul_p, _ew.round_p.bind(_binary(_ew.div_p, a, f)), f)


def abs(x, /, out=None, where=None):
    """Elementwise absolute value (the modulus for complex numbers, a real array).

    The derivative at 0 is taken as 0 (``sign(0) = 0``), as in autograd and PyTorch (JAX
    takes 1). Booleans are returned as they are, as NumPy's.
    """
    if out is not None or where is not None:
        _ufunc_options("abs", out, where)
    x = _as_operand(x)
    return x if _dtype(x).kind == "b" else _ew.abs_p.bind(x)


def sign(x, /, out=None, where=None):
    """Elementwise sign: -1, 0 or 1 (``x / |x|`` for complex, and NumPy's limit where one part
    is infinite: ``sign(inf + 1j)`` is 1). Derivative 0 for real input."""
    if out is not None or where is not None:
        _ufunc_options("sign", out, where)
    x = _as_operand(x)
    if _dtype(x).kind == "c":
        re, im = _ew.real(x), _ew.imag(x)
        a = _ew.hypot_p.bind(re, im)  # (NumPy's |x| here: its abs rounds differently)
        safe = _ew.select(_ew.eq(a, 0.0), 1.0, a)
        # each part divided by |x|, as NumPy's: exact where it is (sign(1e-300j) is 1j; the
        # complex division by |x| + 0j rounded it to 0.9999999999999999j, lost the zero
        # signs, sign(-0. + 1j) was 1j, and overflowed in 1 / |x| at a subnormal |x|)
        out = _from_parts(_ew.div(re, safe), _ew.div(im, safe), _dtype(x))
        out = _ew.select(_ew.eq(a, 0.0), 0j, out)
        # x / |x| is inf / inf where a part is infinite: NumPy's limit there is the sign of
        # the infinite part alone (inf + 1j -> 1, 1 - inf j -> -1j; both infinite: nan)
        re_inf, im_inf = _ew.isinf_p.bind(re), _ew.isinf_p.bind(im)
        one_inf = _ew.logical_xor_p.bind(re_inf, im_inf)
        lim = _binary(_ew.add_p, _ew.select(re_inf, _ew.sign(re), 0.0),
                      _binary(_ew.mul_p, _ew.select(im_inf, _ew.sign(im), 0.0), 1j))
        return _ew.select(one_inf, _st.convert_element_type(lim, _dtype(x)), out)
    if _dtype(x).kind == "b":
        return x
    return _ew.sign_p.bind(x)


def conj(x, /, out=None, where=None):
    """Elementwise complex conjugate (real input is returned as it is; booleans as int8, as
    in NumPy)."""
    if out is not None or where is not None:
        _ufunc_options("conj", out, where)
    x = _as_operand(x)
    k = _dtype(x).kind
    if k == "b":
        return _st.convert_element_type(x, _dt.int8)
    return _ew.conj_p.bind(x) if k == "c" else x


def real(val):
    """Elementwise real part (real input is returned as it is)."""
    val = _as_operand(val)
    return _ew.real_p.bind(val) if _dtype(val).kind == "c" else val


def imag(val):
    """Elementwise imaginary part (zeros for real input)."""
    val = _as_operand(val)
    return _ew.imag_p.bind(val) if _dtype(val).kind == "c" else _st.zeros_like(val)


def reciprocal(x, /, out=None, where=None):
    """Elementwise ``1 / x``. Integers keep their dtype, as NumPy's integer reciprocal: ``1 / x``
    rounded toward zero (1 and -1 themselves, other nonzero values 0) and at 0 NumPy's value
    on this machine (0 for 8- and 16-bit and unsigned integers, the most negative int32 or
    int64 on x86), without NumPy's divide-by-zero warning. Booleans give int8. Integer
    results carry no derivative."""
    if out is not None or where is not None:
        _ufunc_options("reciprocal", out, where)
    if type(x) is float or type(x) is complex:
        return divide(1.0, x)
    x = _as_operand(x)
    d = _dtype(x)
    if d.kind == "b":
        return _st.convert_element_type(x, _dt.int8)
    if d.kind not in "iu":
        return divide(1.0, x)
    out = _where(_binary(_ew.eq_p, x, 1), x, _st.zeros_like(x))
    if d.kind == "i":
        out = _where(_binary(_ew.eq_p, x, -1), x, out)
    at_zero = _integer_reciprocal_of_zero(d.name)
    if at_zero:
        out = _where(_binary(_ew.eq_p, x, 0), _st.full_like(x, at_zero), out)
    return out


def _integer_reciprocal_of_zero(name):
    """What NumPy's reciprocal gives for an integer 0 of dtype ``name`` (C's conversion of
    inf, which depends on the machine)."""
    import numpy as np
    with np.errstate(all="ignore"):
        return int(np.reciprocal(np.zeros((), name)))


def _float_operands(x1, x2, real_only=None):
    """Integer and boolean array operands as floats: of the other operand's floating dtype
    where it is a floating array (the promotion rule: int8 with float16 is float16, int32
    with float32 float32), else float64. Python scalars stay weak, as floats.
    ``real_only``: the function's name, whose complex operands are a TypeError (NumPy's ufunc
    has no complex loop; the backends differ: torch's computes)."""
    d1 = None if type(x1) in _SCALARS else _dtype(x1)
    d2 = None if type(x2) in _SCALARS else _dtype(x2)

    def as_float(x, d, other):
        if d is None:
            if type(x) is not complex:
                return float(x)
            if real_only:
                _complex_refused(real_only)
            return x
        if d.kind in "fc":
            if real_only and d.kind == "c":
                _complex_refused(real_only)
            return x
        target = other if other is not None and other.kind == "f" else _dt.float64
        return _st.convert_element_type(x, target)
    return as_float(x1, d1, d2), as_float(x2, d2, d1)


def _complex_refused(name):
    raise TypeError(f"{name}: complex input is not supported (NumPy's {name} is defined for "
                    f"real numbers only; functrans.scipy.special.logsumexp and "
                    f"functrans.lax.cumlogsumexp take complex numbers)")


def _float_binary(prim, name, doc, real_only=False):
    """A binary function on floating point: integer operands are promoted to the other
    operand's float dtype, or float64 (see _float_operands); ``real_only``: complex operands
    refused."""
    refuse = name if real_only else None

    def fn(x1, x2, /, out=None, where=None):
        if out is not None or where is not None:
            _ufunc_options(name, out, where)
        if isinstance(x1, (list, tuple)):
            x1 = _as_operand(x1)
        if isinstance(x2, (list, tuple)):
            x2 = _as_operand(x2)
        x1, x2 = _float_operands(x1, x2, refuse)
        return _binary(prim, x1, x2)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return fn


atan2 = _float_binary(_ew.atan2_p, "atan2", "Elementwise angle of the point ``(x2, x1)``.")
hypot = _float_binary(_ew.hypot_p, "hypot", "Elementwise ``sqrt(x1**2 + x2**2)`` without "
                      "overflow (derivative 0 at the origin).")
logaddexp = _float_binary(_ew.logaddexp_p, "logaddexp", "Elementwise "
                          "``log(exp(x1) + exp(x2))`` without overflow (real numbers only, "
                          "as NumPy's).", real_only=True)
copysign = _float_binary(_ew.copysign_p, "copysign", "Elementwise ``|x1|`` with the sign of "
                         "``x2`` (no derivative in ``x2``).")
nextafter = _float_binary(_ew.nextafter_p, "nextafter", "The next float after ``x1`` toward "
                          "``x2``; the derivative is taken as 1 in ``x1`` and 0 in ``x2``.")


def _plain_binary(prim, name, doc):
    def fn(x1, x2, /, out=None, where=None):
        if out is not None or where is not None:
            _ufunc_options(name, out, where)
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


def bitwise_invert(x, /, out=None, where=None):
    """Elementwise ``~x`` (bitwise NOT; logical NOT for booleans)."""
    if out is not None or where is not None:
        _ufunc_options("bitwise_invert", out, where)
    return _ew.bitwise_invert_p.bind(_as_operand(x))


def _as_bool(x):
    if type(x) in _SCALARS:
        return _to_array(x, _dt.bool_)  # (x itself: see _base._user_data)
    x = _as_operand(x)
    return x if _dtype(x).kind == "b" else _st.convert_element_type(x, _dt.bool_)


def _logical(prim, name, doc):
    def fn(x1, x2, /, out=None, where=None):
        if out is not None or where is not None:
            _ufunc_options(name, out, where)
        return _binary(prim, _as_bool(x1), _as_bool(x2))
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return fn


logical_and = _logical(_ew.logical_and_p, "logical_and", "Elementwise logical AND.")
logical_or = _logical(_ew.logical_or_p, "logical_or", "Elementwise logical OR.")
logical_xor = _logical(_ew.logical_xor_p, "logical_xor", "Elementwise logical XOR.")


def logical_not(x, /, out=None, where=None):
    """Elementwise logical NOT."""
    if out is not None or where is not None:
        _ufunc_options("logical_not", out, where)
    return _ew.logical_not_p.bind(_as_bool(x))


def _test(prim, name, doc, default):
    def fn(x, /, out=None, where=None):
        if out is not None or where is not None:
            _ufunc_options(name, out, where)
        try:  # (free in Python 3.11+ while nothing is raised)
            a = _as_operand(x)
            if _dtype(a).kind not in "fc":
                return _st.full_like(a, default, dtype=_dt.bool_)
            return prim.bind(a)
        except Exception:
            if not _key_operand(x):
                raise
        # typed keys are never NaN nor infinite, as JAX answers for every non-float dtype
        return fn(x._w0)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = doc
    return fn


isfinite = _test(_ew.isfinite_p, "isfinite", "Elementwise test for finite values.", True)
isinf = _test(_ew.isinf_p, "isinf", "Elementwise test for infinities.", False)
isnan = _test(_ew.isnan_p, "isnan", "Elementwise test for NaN.", False)


def signbit(x, /, out=None, where=None):
    """Elementwise test of the sign bit (true for -0.0 and negative values; integers: ``x <
    0``, booleans: false, as NumPy's, on every library)."""
    if out is not None or where is not None:
        _ufunc_options("signbit", out, where)
    x = _as_operand(x)
    k = _dtype(x).kind
    if k in "iub":
        return _ew.lt(x, _st.full_like(x, 0)) if k == "i" else _st.full_like(x, False,
                                                                              dtype=_dt.bool_)
    return _ew.signbit_p.bind(x)


def clip(a, min=None, max=None, out=None, *, a_min=None, a_max=None):
    """Clamp ``a`` to ``[min, max]``. As NumPy's (a ufunc), ``a`` and the bounds are promoted
    together, Python numbers weakly (NEP 50): ``clip(int_array, 1.5, 2.5)`` is float64,
    ``clip(float32_array, 0, 1)`` float32, ``clip(int8_array, np.int16(1), None)`` int16; the
    shape is ``a``'s broadcast with the bounds, and a NaN bound gives NaN. A Python integer
    bound outside an integer dtype's range is ignored where it clips nothing (``min=-300`` for
    int8) and an OverflowError elsewhere, as in NumPy. ``a_min`` and ``a_max`` are NumPy's
    older names of the bounds (``np.clip(x, a_min=0, a_max=None)``).

    The derivative flows to ``a`` where ``min <= a <= max`` (both ends included), and to the
    bound that is chosen elsewhere.
    """
    if out is not None:
        _no_out("clip", out)
    if a_min is not None:
        if min is not None:
            raise TypeError("clip: give min or a_min, not both")
        min = a_min
    if a_max is not None:
        if max is not None:
            raise TypeError("clip: give max or a_max, not both")
        max = a_max
    a = _as_operand(a)
    if id(getattr(a, "dtype", None)) in _REAL_FLOAT and _plain_bound(min) and _plain_bound(max):
        # A real floating-point array (or tracer) and Python-number bounds (the common case):
        # nothing to promote (the numbers are weak) or broadcast, so the same primitives as
        # below, bound at once (0-d NumPy: 22 -> 7 us).
        out = a
        if min is not None:
            out = _select_bind(_lt_bind(out, min), min, out)
        if max is not None:
            out = _select_bind(_gt_bind(out, max), max, out)
        return out
    given = [_as_operand(v) if type(v) in _SEQUENCES else v for v in (min, max)
             if v is not None]
    if not given:
        return a
    (a, *given), d = _promote_arrays([a, *given])
    lo = given[0] if min is not None else None
    hi = given[-1] if max is not None else None
    if d.kind in "iu":
        lo, hi = _int_bound(lo, hi, d, "min"), _int_bound(hi, lo, d, "max")
    if d.kind == "b":  # (boolean bounds: max is and, min is or; the standard orders no bools)
        out = a
        if lo is not None:
            out = _binary(_ew.logical_or_p, out, lo)
        if hi is not None:
            out = _binary(_ew.logical_and_p, out, hi)
        return out
    out = a
    if lo is not None:
        out = where(_picks(_ew.lt_p, out, lo, d), lo, out)
    if hi is not None:
        out = where(_picks(_ew.gt_p, out, hi, d), hi, out)
    return out if _dtype(out) is d else _st.convert_element_type(out, d)


_REAL_FLOAT = _dt.REAL_FLOAT_IDS
_select_bind, _lt_bind, _gt_bind = _ew.select_p.bind, _ew.lt_p.bind, _ew.gt_p.bind


def _plain_bound(v):
    """Whether clip's bound ``v`` is None or a Python number that a real floating-point
    array takes as it is: a float that is not NaN (a NaN bound makes every element NaN,
    the general path), an int that a float64 holds exactly (not a bool)."""
    t = type(v)
    if t is float:
        return v == v
    return v is None or t is int and -9007199254740992 <= v <= 9007199254740992


def _int_bound(v, other, d, which):
    """A Python integer bound of an integer dtype ``d``: None where it lies beyond the range on
    the side where it clips nothing, NumPy's OverflowError on the other."""
    if type(v) is not int:
        return v
    import numpy as _np
    info = _np.iinfo(d.name)
    if info.min <= v <= info.max:
        return v
    if (v < info.min) == (which == "min"):
        return None
    raise OverflowError(f"clip: {which}={v} is out of bounds for {d.name} (the dtype of x "
                        f"promoted with the bounds), as in NumPy; cast x to a wider dtype "
                        f"first (astype(x, int64))")


def _picks(cmp, out, b, d):
    """Where clip takes the bound ``b``: beyond it, or where it is NaN (NumPy propagates NaN
    bounds)."""
    if d.kind == "c":  # (NumPy's maximum and minimum: a NaN in x, then in b, is the result)
        if type(b) in _SCALARS:
            b = _to_array(b, dtype=d, like=out)
        c = _binary(_ew.logical_or_p, _complex_beyond(cmp, out, b), _ew.isnan_p.bind(b))
        return _binary(_ew.logical_and_p, c, _ew.logical_not_p.bind(_ew.isnan_p.bind(out)))
    c = _binary(cmp, out, b)
    if d.kind != "f":
        return c
    if type(b) in _SCALARS:
        return _st.full_like(c, True, dtype=_dt.bool_) if b != b else c
    return _binary(_ew.logical_or_p, c, _ew.isnan_p.bind(b))


def _complex_beyond(cmp, x, b):
    """``x < b`` (``cmp`` lt) or ``x > b`` (gt) for complex arrays in NumPy's order of the
    numbers without NaNs: the real parts, then the imaginary parts."""
    xr, br = real(x), real(b)
    ties = _binary(_ew.eq_p, xr, br)
    return _binary(_ew.logical_or_p, _binary(cmp, xr, br), _binary(
        _ew.logical_and_p, ties, _binary(cmp, imag(x), imag(b))))


# -- NumPy's ufunc methods: add.reduce, multiply.outer, maximum.accumulate, add.at ... ----------


def _reduceat(name, reduce_segment, a, indices, axis):
    """NumPy's ``reduceat`` of ``a`` along ``axis`` with ``reduce_segment`` folding one
    segment along its axis 0 (the built-in ufuncs and functrans.numpy.ufunc share it)."""
    import numpy as _np
    from ..errors import ConcretizationError
    from ._base import stack
    from ._manipulation import moveaxis
    if axis is None:
        raise ValueError(f"{name}.reduceat: axis must be an int (one axis), as in NumPy; got "
                         f"None")
    try:
        idx = [int(i) for i in _np.asarray(indices).reshape(-1)]
    except Exception:
        raise ConcretizationError(f"{name}.reduceat: indices must be concrete (they decide "
                                  f"the segments' lengths)") from None
    x = moveaxis(a, axis, 0)
    n = x.shape[0]
    if not idx:  # (NumPy's: an empty result along the axis)
        return moveaxis(x[:0, ...], 0, axis)
    parts = []
    for j, i in enumerate(idx):
        if not 0 <= i < n:
            raise IndexError(f"{name}.reduceat: index {i} is out of range for an axis of "
                             f"length {n}")
        stop = idx[j + 1] if j + 1 < len(idx) else n
        parts.append(reduce_segment(x[i:stop, ...]) if stop > i else x[i, ...])
    return moveaxis(stack(parts, axis=0), 0, axis)


def _ufunc_methods(fn, reduction=None, cumulative=None):
    """Give the binary function ``fn`` NumPy's (and ``jax.numpy``'s) ufunc methods
    ``outer``, ``reduce``, ``accumulate`` and ``at``. ``reduction``/``cumulative``: the
    namespace's reduction and cumulative function where there is one (``add.reduce`` is
    ``sum``), else a fold along the axis with ``fn`` itself."""
    name = fn.__name__

    def outer(a, b, /):
        a, b = _as_operand(a), _as_operand(b)
        na, nb = len(tuple(a.shape)), len(tuple(b.shape))
        # (both at the result's rank: the pairing is no rank promotion of the caller's)
        return fn(_st.reshape(a, tuple(a.shape) + (1,) * nb),
                  _st.reshape(b, (1,) * na + tuple(b.shape)))

    def _moved(a, axis):
        from ._base import _normalize_axis
        from ._manipulation import moveaxis
        a = _as_operand(a)
        if axis is None:
            return _st.reshape(a, (-1,)), 0
        axis = _normalize_axis(axis, len(tuple(a.shape)))
        return moveaxis(a, axis, 0), axis

    np_ufunc = getattr(__import__("numpy"), _NUMPY_NAME.get(name, name), None)
    identity = getattr(np_ufunc, "identity", None)
    # NumPy folds over several axes (or all of an n-d array) only where the order does not
    # matter: functions with an identity, and maximum/minimum
    reorderable = identity is not None or name in ("maximum", "minimum", "fmax", "fmin")

    def _fold_dtype(a, what):
        """NumPy's loop for a fold of ``a`` (first operand also the result): integers are
        promoted where the function gives floats (divide, logaddexp...); a comparison of
        non-booleans has no such loop (TypeError, as NumPy)."""
        from ._base import astype
        import numpy as _np
        try:
            d = _np.dtype(_dtype(a).name)
        except TypeError:  # a dtype NumPy does not have: as it is
            return a
        try:
            to = np_ufunc.resolve_dtypes((None, d, None), reduction=True)[0]
        except Exception as e:
            raise TypeError(f"{name}.{what}: no loop of {name} reduces {d.name} (the result "
                            f"has another dtype), as in NumPy") from e
        if to.name not in _dt.BY_NAME or (to.name == "float16" and d.name != "float16"):
            # NumPy's float16 loop for bool and small integers: the function's own dtype
            # (functrans makes integers float64, as jax.numpy with x64)
            to = _np.dtype(_dtype(fn(a, a)).name)
        return a if to == d else astype(a, to.name)

    def reduce_(a, /, axis=0, dtype=None, out=None, keepdims=False, initial=None, where=None):
        if out is not None:
            raise NotImplementedError(f"{name}.reduce: out= is not supported")
        from ._base import _normalize_axis, astype, broadcast_to
        from ._base import where as _select
        a = _as_operand(a)
        if dtype is not None:
            a = astype(a, dtype)
        if where is True:
            where = None
        if reduction is not None:
            red = reduction()
            if name in ("add", "multiply", "maximum", "minimum"):  # sum/prod/max/min
                return red(a, axis=axis, keepdims=keepdims, initial=initial, where=where)
            r = red(a, axis=axis, keepdims=keepdims, where=where)  # all/any
            return r if initial is None else fn(r, initial)
        a = _fold_dtype(a, "reduce")
        shape = tuple(a.shape)
        nd = len(shape)
        if axis is None:
            axes = tuple(range(nd))
        else:
            axes = (axis,) if not isinstance(axis, (tuple, list)) else tuple(axis)
            axes = tuple(_normalize_axis(ax, nd) for ax in axes)
            if len(set(axes)) != len(axes):
                raise ValueError(f"{name}.reduce: duplicate value in 'axis'")
        if len(axes) > 1 and not reorderable:
            raise ValueError(f"reduction operation '{name}' is not reorderable, so at most "
                             f"one axis may be specified")
        kept = tuple(i for i in range(nd) if i not in axes)
        rest = tuple(shape[i] for i in kept)
        n = 1
        for i in axes:
            n *= shape[i]

        def folded(v):  # the reduced axes first, as one
            return _st.reshape(_st.transpose(v, axes + kept) if nd else v, (n,) + rest)
        m = folded(a)
        mask = None if where is None else folded(broadcast_to(_as_operand(where), shape))
        if initial is None and identity is not None and _dtype(m).kind in "fc":
            initial = identity  # NumPy starts a float fold there: hypot.reduce([-3.]) is 3
        if initial is None and (n == 0 or mask is not None):
            if identity is None:
                raise ValueError(
                    f"zero-size array to reduction operation {name} which has no identity"
                    if mask is None else f"reduction operation '{name}' does not have an "
                    f"identity, so to use a where mask one has to specify 'initial'")
            initial = identity
        acc = None
        if initial is not None:
            if initial is identity and identity == -1 and _dtype(m).kind == "u":
                initial = (1 << _dtype(m).bits) - 1  # bitwise_and's all-ones, as NumPy's
            acc = broadcast_to(_cast_to(m, initial), rest)
        for i in range(n):  # ([i, ...]: array-api-strict refuses a partial index)
            nxt = m[i, ...] if acc is None else fn(acc, m[i, ...])
            acc = nxt if mask is None else _select(mask[i, ...], nxt, acc)
        if keepdims:
            acc = _st.reshape(acc, tuple(1 if i in axes else shape[i] for i in range(nd)))
        return acc

    def accumulate(a, /, axis=0, dtype=None, out=None):
        if out is not None:
            raise NotImplementedError(f"{name}.accumulate: out= is not supported")
        from ._base import astype, stack
        from ._manipulation import moveaxis
        a = _as_operand(a)
        if dtype is not None:
            a = astype(a, dtype)
        if cumulative is not None:
            if axis is None and len(tuple(a.shape)) != 1:
                raise ValueError(f"{name}.accumulate: axis=None needs a 1-d array")
            return cumulative()(a, axis=0 if axis is None else axis)
        if axis is None:
            if len(tuple(a.shape)) != 1:
                raise ValueError(f"{name}.accumulate: axis=None needs a 1-d array")
            axis = 0
        a = _fold_dtype(a, "accumulate")
        m, ax = _moved(a, axis)
        n = tuple(m.shape)[0]
        if n == 0:
            return a
        outs = [m[0, ...]]
        for i in range(1, n):
            outs.append(fn(outs[-1], m[i, ...]))
        return moveaxis(stack(outs, axis=0), 0, ax)

    def at(a, indices, b=None, /, *, inplace=True):
        """NumPy's unbuffered in-place ``a[indices] op= b`` (repeated indices each apply):
        on a NumPy array it is NumPy's own; on a tracer the tracer is rebound to the result
        (as ``x[i] = v`` is). ``inplace=False`` (jax.numpy's form) returns the result and
        leaves ``a`` unchanged."""
        from ..core import Tracer
        if b is None:
            raise TypeError(f"{name}.at: b (the values) is needed for a binary function")
        if not isinstance(a, Tracer) and not isinstance(b, Tracer) and inplace \
                and not isinstance(indices, Tracer):
            import numpy as _np
            if isinstance(a, _np.ndarray):
                getattr(_np, _NUMPY_NAME.get(name, name)).at(a, indices, b)
                return None
        from ._base import broadcast_to
        shape, n, pos = _at_positions(name, a, indices)
        p = _st.reshape(pos, (-1,))
        vals = _st.reshape(broadcast_to(_cast_to(a, b), tuple(pos.shape)), tuple(p.shape))
        flat = _st.reshape(a, (n,))
        if name in ("add", "subtract"):  # a - b1 - b2 = a - (b1 + b2)
            from ..primitives import indexing as _ix
            new = fn(flat, _ix.scatter_add(vals, (p,), (n,)))
        else:  # one position at a time, in order (concrete indices; traced: _grouped_at)
            import numpy as _np
            from ._indexing import _setitem
            try:
                ps = _np.arange(n).reshape(shape)[_host_indices(indices)].reshape(-1)
            except Exception:
                ps = None
            if ps is None and name in _GROUPED_AT:
                new = _grouped_at(name, flat, p, vals)
            elif ps is None:  # traced indices: one entry at a time in a loop, in order
                from ..control_flow import fori_loop
                from ._indexing import take

                def step(k, x):  # (each result cast back to a's dtype, as NumPy's at)
                    i = take(p, k, axis=0)
                    v = fn(take(x, i, axis=0), take(vals, k, axis=0))
                    return _setitem(x, i, _st.convert_element_type(v, _dtype(x)))
                new = fori_loop(0, p.shape[0], step, flat)
            elif name in ("maximum", "minimum") and len(ps):
                new = _extremum_at(name, flat, ps, vals, a)
            else:
                new = flat
                for k, i in enumerate(ps.tolist()):
                    new = _setitem(new, i, fn(new[i], vals[k]))
        return _at_result(name, a, _st.reshape(new, shape), inplace)

    def reduceat(a, indices, axis=0, dtype=None, out=None):
        """NumPy's ``reduceat``: ``reduce`` of ``a[indices[i]:indices[i+1]]`` along ``axis``
        for each ``i`` (just ``a[indices[i]]`` where ``indices[i] >= indices[i+1]``); the
        indices must be concrete (they decide the segments)."""
        if out is not None:
            raise NotImplementedError(f"{name}.reduceat: out= is not supported; use the "
                                      f"result")
        return _reduceat(name, lambda seg: reduce_(seg, axis=0, dtype=dtype), _as_operand(a),
                         indices, axis)

    fn.outer = outer
    fn.reduce = reduce_
    fn.accumulate = accumulate
    fn.at = at
    fn.reduceat = reduceat
    fn.identity = identity  # (NumPy's: 0 for add, 1 for multiply, None for maximum...)
    fn.nin, fn.nout = 2, 1
    fn._functrans_ufunc = True  # (isinstance(fn, fnp.ufunc): see numpy._functional)
    return fn


def _unary_ufunc_methods(fn):
    """Give the unary function ``fn`` (``negative``: jax.numpy's one unary ufunc) NumPy's
    ufunc attributes: ``at`` (``a[indices] = fn(a[indices])``, once per time a position is
    named), ``identity`` None, ``nin``/``nout``; the reductions refuse, as NumPy's."""
    name = fn.__name__

    def binary_only(method):
        def refuse(*args, **kwargs):
            raise ValueError(f"{name}.{method}: only supported for binary functions (as "
                             f"NumPy's)")
        refuse.__name__ = method
        return refuse

    def at(a, indices, b=None, /, *, inplace=True):
        """NumPy's unbuffered in-place ``a[indices] = negative(a[indices])``: a position
        named twice is negated twice. On a NumPy array it is NumPy's own; on a tracer the
        tracer is rebound to the result; ``inplace=False`` (jax.numpy's form) returns the
        result and leaves ``a`` unchanged. The indices may be traced."""
        from ..core import Tracer
        from ..primitives import indexing as _ix
        from ._base import where
        if b is not None:
            raise TypeError(f"{name}.at: a unary function takes no values (b)")
        if not isinstance(a, Tracer) and inplace and not isinstance(indices, Tracer):
            import numpy as _np
            if isinstance(a, _np.ndarray):
                getattr(_np, name).at(a, _host_indices(indices))
                return None
        shape, n, pos = _at_positions(name, a, indices)
        p = _st.reshape(pos, (-1,))
        # how many times each position is named: an odd count applies fn once
        ones = _st.full_like(p, 1.0, dtype=_dt.float64)
        named = _ix.scatter_add(ones, (p,), (n,))
        odd = _st.reshape(named - 2.0 * floor(named / 2.0) == 1.0, shape)
        return _at_result(name, a, where(odd, fn(a), a), inplace)

    fn.at = at
    for method in ("outer", "reduce", "accumulate", "reduceat"):
        setattr(fn, method, binary_only(method))
    fn.identity = None
    fn.nin, fn.nout = 1, 1
    fn._functrans_ufunc = True
    return fn


def _at_positions(name, a, indices):
    """``(shape, size, positions)`` for a ufunc's ``at``: the flat positions in ``a`` that
    ``indices`` name (traced indices too), as ``a[indices]`` of ``a``'s flat positions."""
    from ._indexing import _getitem
    if isinstance(a, (list, tuple)) or type(a) in _SCALARS:
        raise TypeError(f"{name}.at: a must be an array")
    shape = tuple(a.shape)
    n = 1
    for d in shape:
        n *= d
    return shape, n, _getitem(_st.reshape(_st.iota(a, n), shape), indices)


def _at_result(name, a, new, inplace):
    """The end of a ufunc's ``at``: ``new`` with ``inplace=False``; else ``a`` (a tracer) is
    rebound to it. A plain array here is not NumPy's written by NumPy (a traced index or
    value, or another library): it cannot take the result in place."""
    from ..core import Tracer
    if not inplace:
        return new
    if not isinstance(a, Tracer):
        raise TypeError(f"{name}.at: the result cannot be written into this "
                        f"{type(a).__name__} in place (only a NumPy array with concrete "
                        f"indices and values is, or a traced array): use inplace=False "
                        f"and the result")
    a[...] = new
    return None


_NUMPY_NAME = {"pow": "power", "atan2": "arctan2"}


def _host_indices(indices):
    """NumPy's form of concrete ``indices`` (arrays of any backend, in tuples too), to work
    out the positions they name on the host; a tracer raises (its values are not known)."""
    from ..backends import backend_of
    from ..core import Tracer
    if isinstance(indices, tuple):
        return tuple(_host_indices(i) for i in indices)
    if isinstance(indices, Tracer):
        raise TypeError("traced indices")
    if hasattr(indices, "shape"):
        return backend_of(indices).to_numpy(indices)
    return indices


_GROUPED_AT = ("multiply", "divide", "maximum", "minimum")


def _grouped_at(name, flat, p, vals):
    """``name.at`` of the flat array at traced positions ``p``: each entry combines every
    value sent to its position (a table of which entries share a position, entries x
    entries), so repeats all apply whatever their order, and the position is written once
    with the result; maximum/minimum reduce the array's value and the sent ones together,
    so that ties share the derivative equally (as with concrete indices)."""
    from ._base import concat, expand_dims, max as max_, min as min_
    from ._statistics import prod
    from ._indexing import _setitem, take
    same = expand_dims(p, axis=1) == expand_dims(p, axis=0)
    here = take(flat, p)  # (flat may be a plain array: flat[p] would convert the tracer p)
    if name in ("multiply", "divide"):
        one = _st.full_like(vals[:1], 1)
        comb = prod(where(same, expand_dims(vals, axis=0), one), axis=1, dtype=_dtype(vals))
        new = here * comb if name == "multiply" else here / comb
    else:
        dtype = _dtype(flat)
        if _dt.is_float(dtype):
            big = float("inf") if name == "minimum" else -float("inf")
        else:
            import numpy as _np
            info = _np.iinfo(_np.dtype(dtype.name)) if dtype.kind in "iu" else None
            big = (int(info.max if name == "minimum" else info.min) if info
                   else name == "minimum")
        cand = where(same, expand_dims(vals, axis=0), _st.full_like(vals[:1], big))
        cand = concat([expand_dims(here, axis=1), cand], axis=1)
        new = (max_ if name == "maximum" else min_)(cand, axis=1)
    return _setitem(flat, p, new)


def _extremum_at(name, flat, ps, vals, like):
    """``maximum.at``/``minimum.at`` of the flat array at the concrete positions ``ps`` with
    ``vals``: each position's value and all the values sent to it in one reduction, so that
    ties share the derivative equally (as jax.numpy's scatter does), whatever their order.
    Index arrays are made in the library and on the device of ``like``."""
    import numpy as _np

    from ._base import concat, max as max_, min as min_
    from ._indexing import _setitem
    uniq, inverse, counts = _np.unique(ps, return_inverse=True, return_counts=True)
    u, c = len(uniq), int(counts.max())
    # candidates: the array's values at the positions, the sent values, one neutral pad
    dtype = _dtype(flat)
    big = _np.inf if _dt.is_float(dtype) else None
    if big is None:
        info = _np.iinfo(_np.dtype(dtype.name)) if dtype.kind in "iu" else None
        big = (info.max if name == "minimum" else info.min) if info else (name == "minimum")
    elif name == "maximum":
        big = -big
    uniq_here = _to_array(uniq.tolist(), dtype=_dt.int64, like=like)
    pad = _st.reshape(_st.full_like(flat[:1], big), (1,))
    cand = concat([flat[uniq_here], vals, pad])
    table = _np.full((u, c + 1), u + len(ps), dtype=_np.int64)
    table[:, 0] = _np.arange(u)
    order = _np.argsort(inverse, kind="stable")
    rank = _np.arange(len(ps)) - _np.repeat(_np.cumsum(counts) - counts, counts)
    table[inverse[order], 1 + rank] = u + order
    table = _to_array(table.tolist(), dtype=_dt.int64, like=like)
    best = (max_ if name == "maximum" else min_)(cand[table], axis=1)
    return _setitem(flat, uniq_here, best)


def _cast_to(a, b):
    if type(b) in _SCALARS:  # made with a's library and device, not the default backend's
        return _to_array(b, dtype=_dtype(a), like=a)
    b = _as_operand(b)
    return b if _dtype(b) is _dtype(a) else _st.convert_element_type(b, _dtype(a))


def _attach_ufunc_methods():
    from . import _base as b

    def lazy(mod, name):
        def get():
            import importlib
            return getattr(importlib.import_module(f"functrans.numpy.{mod}"), name)
        return get
    table = {
        b.add: (lazy("_statistics", "sum"), lazy("_statistics", "cumulative_sum")),
        b.multiply: (lazy("_statistics", "prod"), lazy("_statistics", "cumulative_prod")),
        b.maximum: (lazy("_base", "max"), None), b.minimum: (lazy("_base", "min"), None),
        logical_and: (lazy("_statistics", "all"), None),
        logical_or: (lazy("_statistics", "any"), None),
    }
    for f in (b.subtract, b.divide, b.pow, b.equal, b.not_equal, b.less, b.less_equal,
              b.greater, b.greater_equal, logaddexp, hypot, atan2, copysign, floor_divide,
              remainder, logical_xor, bitwise_and, bitwise_or, bitwise_xor, nextafter,
              bitwise_left_shift, bitwise_right_shift):
        table.setdefault(f, (None, None))
    for f, (red, acc) in table.items():
        _ufunc_methods(f, red, acc)
    _unary_ufunc_methods(b.negative)


_attach_ufunc_methods()
