"""NumPy's elementwise names, nan-reductions and statistics beyond the standard (``arccos``,
``power``, ``cumsum``, ``nansum``, ``average``, ``median``, ``isclose`` ...), with NumPy's
semantics, built on the namespace's differentiable functions.

Every function works on plain arrays of each backend (its result is an array of the same
library, on the same device) and on tracers under every transform. Where NumPy's answer
needs the values themselves (``allclose`` returns a Python bool, ``nanargmax`` raises on an
all-NaN slice) the docstring says so.

NaN-ignoring functions replace the NaN entries of the *input* before computing (the
``where`` sits on the operand, not on the result), so their derivatives are finite wherever
the input is, and the derivative with respect to a NaN entry is 0.
"""

from __future__ import annotations

import builtins
import math
import operator

from .. import dtypes as _dt
from ..core import Tracer
from ..errors import BatchingError, ConcretizationError, ShapeError
from ..interpreters import ConstTracer
from ..primitives import structural as _st
from ._base import _no_out, _ufunc_options
from ._base import (_NOT_ARRAY, _NOT_ARRAY_OR_NP_SCALAR, _NUMPY_SCALARS, _SCALARS,
                    _as_operand, _dtype, _initial_value, _normalize_axes, _normalize_axis,
                    _numpy_scalars_beside, _numpy_scalars_moved, _shape,
                    _to_array, _where_mask, add, astype, broadcast_shapes, broadcast_to,
                    concat, divide, equal, flip, greater, greater_equal, less,
                    less_equal, matmul, max, maximum, mean, min, minimum, multiply,
                    negative, pow, reshape, sin, sqrt, square, subtract, where)
from ._dtypes import finfo
from ._base import cos, exp, not_equal
from . import _base, _promotion
from ._elementwise import (abs, acos, acosh, asin, asinh, atan, atan2, atanh, ceil, conj,
                           copysign, floor, floor_divide, imag, isfinite, isinf, isnan,
                           log1p, log2, logical_and, logical_not, logical_or, nextafter, real,
                           remainder, round, signbit, trunc)
from ._indexing import take, take_along_axis
from ._searching import argmax, argmin, argsort, searchsorted, sort
from ._statistics import (_stat_dtype, all, any, cumulative_prod, cumulative_sum, diff, prod,
                          sum, var)

__all__ = [
    # aliases and elementwise functions
    "absolute", "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctan2", "arctanh",
    "power", "true_divide", "conjugate", "mod", "amax", "amin", "around", "fabs", "degrees",
    "radians", "deg2rad", "rad2deg", "exp2", "cbrt", "sinc", "heaviside", "fmax", "fmin",
    "fmod", "logaddexp2", "float_power", "fix", "nan_to_num", "ldexp", "divmod", "modf",
    # cumulative functions, nan-reductions, statistics
    "cumsum", "cumprod", "nancumsum", "nancumprod", "nansum", "nanprod", "nanmean", "nanvar",
    "nanstd", "nanmax", "nanmin", "nanargmax", "nanargmin", "ptp", "average", "median",
    "quantile", "percentile", "nanmedian", "nanquantile", "nanpercentile",
    # comparisons, interpolation, polynomials, integration, convolution
    "isclose", "allclose", "array_equal", "array_equiv", "interp", "polyval", "trapezoid",
    "convolve", "correlate",
    # differences, sets
    "gradient", "ediff1d", "unique", "vander", "polyfit",
    # covariance, phase, windows, Bessel i0, elementwise extras (stats3)
    "cov", "corrcoef", "angle", "unwrap", "bartlett", "blackman", "hamming", "hanning",
    "kaiser", "i0", "rint", "spacing", "frexp", "gcd", "lcm", "isposinf", "isneginf",
    "iscomplex", "isreal", "real_if_close", "sort_complex",
]

_where = where
_mean = mean

# -- helpers ---------------------------------------------------------------------------------


def _unsupported(name, **params):
    for k, v in params.items():
        if v is not None:
            raise NotImplementedError(f"{name}: the parameter {k}= is not supported; leave it "
                                      f"at its default")


def _is_inexact(x):
    return _dtype(x).kind in "fc"


def _no_complex(name, *xs):
    """TypeError for a complex operand (array or Python number), as NumPy's real-only
    ufuncs raise."""
    for x in xs:
        if type(x) is complex or (type(x) not in _SCALARS and not isinstance(x, (list, tuple))
                                  and _dtype(x).kind == "c"):
            raise TypeError(f"{name}: complex input is not supported (NumPy's {name} is "
                            f"defined for real numbers only)")


def _plain_next_to(*vals):
    """``vals`` as arrays: arrays and tracers as they are; Python scalars and (nested)
    lists made next to the first array among them (same library and device), else of the
    default backend. NumPy scalars beside another library's array become 0-d arrays of it."""
    ref = next((v for v in vals if type(v) not in _NOT_ARRAY_OR_NP_SCALAR), None)
    if ref is None:
        ref = next((v for v in vals if type(v) not in _NOT_ARRAY), None)
    vals = _numpy_scalars_moved(vals)
    out = []
    for v in vals:
        if ref is not None and (type(v) in _SCALARS or isinstance(v, (list, tuple))):
            from ._reshaping import _conv
            v = _conv(v, ref)
        out.append(_operand(v))
    return out


def _as_float(x):
    """``x`` as an array of a floating dtype (integers and booleans become float64)."""
    x = _as_operand(x)
    if type(x) is not float and not _is_inexact(x):
        x = _st.convert_element_type(x, _dt.float64)
    return x


def _operand(x):
    """A Python scalar, list or tuple as an array (floats as float64); arrays as they are."""
    if isinstance(x, (list, tuple)):
        from ._creation import asarray
        return asarray(x)
    return _as_operand(x)


def _like(x, value, dtype=None):
    """A 0-d array holding ``value`` on ``x``'s backend and device (no derivative)."""
    one = _st.reshape(_st.iota(x, 1), ())  # (int64: the standard's arange takes no bool)
    return _st.full_like(one, value, dtype=dtype or _dtype(x))


def _at(v, i):
    """``v[i]`` of a 1-d array, as a 0-d array (never a NumPy scalar)."""
    return _st.reshape(_st.slice_(v, ((i, i + 1, 1),)), ())


def _sl(v, start, stop):
    """``v[start:stop]`` of a 1-d array."""
    return _st.slice_(v, ((start, stop, 1),))


def _array_like(v, other):
    """A Python scalar ``v`` as an array of ``other``'s shape, backend and device (with the
    dtype ``other`` and ``v`` promote to); arrays are returned as they are, NumPy scalars
    beside another library's ``other`` as 0-d arrays of it."""
    if type(v) in _NUMPY_SCALARS:
        return _numpy_scalars_beside(v, other)[0]
    if type(v) not in _SCALARS or type(other) in _SCALARS:
        return v
    return _st.full_like(other, v, dtype=_dt.scalar_result(_dtype(other), v))


def _concrete(x):
    """Whether ``x`` holds values Python may look at (a plain array, not a tracer)."""
    return not isinstance(x, Tracer)


def _to_front(x, axis):
    """``x`` with the axes ``axis`` (None: all) merged into one leading axis: returns the
    reshaped array, its length, the shape of the remaining axes and the shape with the
    reduced axes kept as length 1 (for ``keepdims``)."""
    shape = _shape(x)
    nd = len(shape)
    axes = _normalize_axes(axis, nd)
    rest = tuple(i for i in range(nd) if i not in axes)
    perm = axes + rest
    if perm != tuple(range(nd)):
        x = _st.transpose(x, perm)
    n = math.prod(shape[a] for a in axes)
    r_shape = tuple(shape[i] for i in rest)
    x = _st.reshape(x, (n,) + r_shape)
    kept = tuple(1 if i in axes else d for i, d in enumerate(shape))
    return x, n, r_shape, kept

# -- aliases ---------------------------------------------------------------------------------


absolute = abs
arccos = acos
arccosh = acosh
arcsin = asin
arcsinh = asinh
arctan = atan
arctan2 = atan2
arctanh = atanh
power = pow
true_divide = divide
conjugate = conj
mod = remainder
around = round


def amax(a, axis=None, out=None, keepdims=False, initial=None, where=None):
    """Maximum along ``axis`` (NumPy's ``amax``/``max``): ``axis`` may be positional;
    ``initial`` is a lower bound included in every slice; ``where`` (with ``initial``) a
    boolean mask of the elements taking part."""
    _no_out("amax", out)
    return max(a, axis=axis, keepdims=keepdims, initial=initial, where=where)


def amin(a, axis=None, out=None, keepdims=False, initial=None, where=None):
    """Minimum along ``axis`` (NumPy's ``amin``/``min``): ``axis`` may be positional;
    ``initial`` is an upper bound included in every slice; ``where`` as in :func:`amax`."""
    _no_out("amin", out)
    return min(a, axis=axis, keepdims=keepdims, initial=initial, where=where)


# -- elementwise -----------------------------------------------------------------------------


def fabs(x, /, out=None, where=None):
    """Elementwise absolute value as a float (integers give float64); complex input is a
    TypeError, as in NumPy. The derivative at 0 is 0."""
    if out is not None or where is not None:
        _ufunc_options("fabs", out, where)
    x = _as_operand(x)
    if _dtype(x).kind == "c":
        raise TypeError("fabs: complex input is not supported (use absolute)")
    return abs(_as_float(x))


_DEG = 180.0 / math.pi
_RAD = math.pi / 180.0


def degrees(x, /, out=None, where=None):
    """Radians to degrees, elementwise (``x * 180 / pi``)."""
    if out is not None or where is not None:
        _ufunc_options("degrees", out, where)
    _no_complex("degrees", _as_operand(x))
    return multiply(_as_float(x), _DEG)


def radians(x, /, out=None, where=None):
    """Degrees to radians, elementwise (``x * pi / 180``)."""
    if out is not None or where is not None:
        _ufunc_options("radians", out, where)
    _no_complex("radians", _as_operand(x))
    return multiply(_as_float(x), _RAD)


rad2deg = degrees
deg2rad = radians


def exp2(x, /, out=None, where=None):
    """Elementwise ``2 ** x``."""
    if out is not None or where is not None:
        _ufunc_options("exp2", out, where)
    x = _as_operand(x)
    kind = _dtype(x).kind  # (_as_float's test and the complex one: one look-up)
    if kind == "c":
        # (NumPy's: exp of x ln 2 scaled part by part; the complex power 2 ** x gave inf +
        # nan j at inf + 0j, where (inf + 0j) ln 2 makes inf * 0 in the imaginary part)
        from ._elementwise import _from_parts
        return exp(_from_parts(real(x) * _LN2, imag(x) * _LN2, _dtype(x)))
    if kind != "f":
        x = _st.convert_element_type(x, _dt.float64)
    return pow(2.0, x)


_LN2 = math.log(2.0)


def cbrt(x, /, out=None, where=None):
    """Elementwise real cube root (defined for negative ``x`` too: ``cbrt(-8) = -2``). The
    derivative ``1 / (3 cbrt(x)**2)`` is infinite at 0; the second, ``-2 / (9 cbrt(x)**5)``,
    is -inf at +0 and +inf at -0 (the one-sided limits) and overflows to +-inf for tiny
    ``x``, as JAX's."""
    if out is not None or where is not None:
        _ufunc_options("cbrt", out, where)
    global _cbrt_custom
    x = _as_float(x)
    if _dtype(x).kind == "c":
        raise TypeError("cbrt: complex input is not supported")
    if _cbrt_custom is None:
        from ..custom import custom_jvp
        _cbrt_custom = custom_jvp(_cbrt_plain)
        _cbrt_custom.defjvp(_cbrt_rule)
    return _cbrt_custom(x)


def _cbrt_rule(primals, tangents):
    # the slope from the result, y**-2 / 3: differentiated again it gives -2/9 y**-5 (+-inf at
    # +-0, an overflow to +-inf for |x| below ~1e-185); through the Newton step and the
    # scalings of the value's computation those were nan
    (x,), (t,) = primals, tangents
    y = _cbrt_custom(x)
    return y, multiply(t, divide(power(y, -2.0), 3.0))


_cbrt_custom = None


def _cbrt_plain(x):
    # (the derivatives come from _cbrt_rule; |x| by its sign bit as elsewhere)
    half = _dtype(x)
    if half is _dt.float16 or half is _dt.bfloat16:
        # in float32, rounded once, as XLA's cbrt (the Newton step in 8 or 11 bits left 10 %
        # of bfloat16 roots an ulp off)
        return _st.convert_element_type(_cbrt_plain(_st.convert_element_type(x, _dt.float32)),
                                        half)
    mag = _signbit_abs(x)
    # Tiny |x| is scaled up by 2**(3k) first (exactly) and the root back by 2**-k: the
    # residual r**3 - |x| of the Newton step would be subnormal, too coarse (1e-14 off for
    # subnormal x) or flushed to zero (XLA), leaving pow's error (57 ulp on JAX at 1e-300)
    # (float16's range holds 2**15 at most; bfloat16 has float32's)
    lo, k = {_dt.float16: (2.0 ** -14, 5), _dt.bfloat16: (2.0 ** -90, 20),
             _dt.float32: (2.0 ** -90, 20)}.get(_dtype(x), (2.0 ** -900, 100))
    # and huge |x| down by 2**(-3k): the residual's r**3 overflowed past the largest float
    # (float32 cbrt(3.4e38) was inf, true 6.98e12)
    tiny = less(mag, lo)
    huge = greater(mag, 1.0 / lo)
    mag = where(tiny, multiply(mag, 2.0 ** (3 * k)),
                where(huge, multiply(mag, 2.0 ** (-3 * k)), mag))
    r = pow(mag, 1.0 / 3.0)
    # one Newton step on r**3 = |x| rounds perfect cubes to the exact root
    keep = logical_or(equal(r, 0.0), isinf(r))
    safe = where(keep, 1.0, r)
    ax = where(keep, 1.0, mag)
    r = where(keep, r, subtract(safe, divide(subtract(safe * safe * safe, ax),
                                             3.0 * safe * safe)))
    return copysign(where(tiny, multiply(r, 2.0 ** -k), where(huge, multiply(r, 2.0 ** k), r)),
                    x)


def _signbit_abs(x):
    """``|x|`` chosen by the sign bit: the same values as ``abs``, but a derivative of +-1 at
    +-0 (abs takes 0 there), for functions that put the sign back with ``copysign`` and so
    are smooth through 0."""
    return where(signbit(x), negative(x), x)


def sinc(x):
    """The normalised sinc function ``sin(pi x) / (pi x)``, 1 at 0. Where ``|pi x| < 0.01``
    (0 included) the value comes from the Taylor polynomial (within an ulp of the quotient),
    so the derivatives there are accurate and exact at 0 (0 for the first, ``-pi**2 / 3``
    for the second); elsewhere from the quotient, as in NumPy."""
    x = _as_float(x)
    y = multiply(math.pi, x)
    small = less(abs(y), 0.01)
    safe = where(small, 1.0, y)
    y2 = square(where(small, y, 0.0))
    taylor = 1.0 - y2 / 6.0 + y2 * y2 / 120.0 - y2 * y2 * y2 / 5040.0
    return where(small, taylor, divide(sin(safe), safe))


def _float_pair(x1, x2):
    """Both operands promoted to their common floating dtype (an integer array to the other's
    float dtype, or float64); Python scalars stay weak."""
    from ._elementwise import _float_operands
    x1 = x1 if type(x1) in _SCALARS else _as_operand(x1)
    x2 = x2 if type(x2) in _SCALARS else _as_operand(x2)
    if type(x1) not in _SCALARS and type(x2) not in _SCALARS:
        x1, x2 = _float_operands(x1, x2)
    x1 = x1 if type(x1) in _SCALARS else _as_float(x1)
    x2 = x2 if type(x2) in _SCALARS else _as_float(x2)
    if type(x1) in _SCALARS and type(x2) in _SCALARS:
        x1 = _to_array(x1, _dt.float64 if type(x1) is not complex else None)
    elif type(x1) in _SCALARS and type(x1) is not complex:
        x1 = float(x1)
    elif type(x2) in _SCALARS and type(x2) is not complex:
        x2 = float(x2)
    return x1, x2


def heaviside(x1, x2, /, out=None, where=None):
    """The Heaviside step: 0 where ``x1 < 0``, ``x2`` where ``x1 == 0``, 1 where ``x1 > 0``
    (NaN where ``x1`` is NaN). Floating result; the derivative flows to ``x2`` where ``x1``
    is 0 and is 0 in ``x1``."""
    if out is not None or where is not None:
        _ufunc_options("heaviside", out, where)
    _no_complex("heaviside", x1, x2)
    x1, x2 = _float_pair(x1, x2)
    x1 = _array_like(x1, x2)
    x1 = _to_array(x1) if type(x1) in _SCALARS else x1
    step = _where(less(x1, 0.0), _st.full_like(x1, 0.0), _st.full_like(x1, 1.0))
    out = _where(equal(x1, 0.0), x2, step)
    return _where(isnan(x1), x1, out)


def fmax(x1, x2, out=None, where=None):
    """Elementwise maximum ignoring NaNs (NaN only where both are NaN). At ties the derivative
    is shared equally; a NaN operand gets none."""
    if out is not None or where is not None:
        _ufunc_options("fmax", out, where)
    return _fminmax(maximum, x1, x2, "fmax")


def fmin(x1, x2, out=None, where=None):
    """Elementwise minimum ignoring NaNs (NaN only where both are NaN)."""
    if out is not None or where is not None:
        _ufunc_options("fmin", out, where)
    return _fminmax(minimum, x1, x2, "fmin")


def _fminmax(fn, x1, x2, name):
    if type(x1) in _NUMPY_SCALARS or type(x2) in _NUMPY_SCALARS:
        # (beside another library's array: a 0-d array of it, as the binary functions do)
        x1, x2 = _numpy_scalars_beside(x1, x2)
    x1, x2 = _array_like(x1, x2), _array_like(x2, x1)
    x1, x2 = _as_operand(x1), _as_operand(x2)
    if _base._PROMOTION_CHECKS:  # (the wheres below broadcast before maximum sees them)
        _promotion.check_ranks(name, x1, x2)
    if not (_is_inexact(x1) or _is_inexact(x2)):
        return fn(x1, x2)
    nan1 = isnan(x1)
    if _dtype(x1).kind == "c" or _dtype(x2).kind == "c":
        # where both have a NaN, the first (NumPy's; complex NaNs differ in their other part)
        nan1 = logical_and(nan1, logical_not(isnan(x2)))
    a = where(nan1, x2, x1)
    b = where(isnan(x2), a, x2)
    return fn(a, b)


def fmod(x1, x2, /, out=None, where=None):
    """Elementwise remainder of C's ``fmod``: ``x1 - trunc(x1 / x2) * x2``, with the sign of
    ``x1`` (``remainder``/``mod`` take the sign of ``x2``). Derivatives 1 in ``x1`` and
    ``-trunc(x1 / x2)`` in ``x2``."""
    if out is not None or where is not None:
        _ufunc_options("fmod", out, where)
    _no_complex("fmod", x1, x2)
    x1, x2 = _array_like(x1, x2), _array_like(x2, x1)
    x1, x2 = _as_operand(x1), _as_operand(x2)
    r = remainder(x1, x2)  # the sign of x2 (0 where x2 is 0, for integers)
    if _is_inexact(r):
        # |x1| by its sign bit: with abs (derivative 0 at 0) fmod's derivative in x1 was 0
        # at x1 = 0 instead of 1. An integer or boolean operand (with a float other) is cast
        # first: its own |.| wraps at the minimum (int8 -128 fmod 2.5 was -2.0, 2.5 fmod
        # int8 -128 was 125.5) or is refused (booleans)
        x1, x2 = (x if _is_inexact(x) else _st.convert_element_type(x, _dtype(r))
                  for x in (x1, x2))
        # The sign put back by x1's sign bit (not copysign, whose derivative compares the
        # sign bits: where the remainder is a nan with its sign bit set, at x2 = 0 or
        # x1 = +-inf, the derivative in x1 was -1 instead of 1). |x2| by its sign bit too:
        # with abs the derivative in x2 at x2 = 0 was -inf * 0 = nan, not -trunc(x1 / x2).
        m = remainder(_signbit_abs(x1), _signbit_abs(x2))
        return _where(signbit(x1), negative(m), m)
    # integers: r - x2 where r's sign is not x1's; no |x| that overflows at the dtype's
    # minimum (int8 -128 fmod 127 is -1)
    adjust = logical_and(not_equal(r, 0), not_equal(less(r, 0), less(x1, 0)))
    return _where(adjust, subtract(r, x2), r)


_LOG2E = 1.0 / math.log(2.0)


def logaddexp2(x1, x2, /, out=None, where=None):
    """Elementwise ``log2(2**x1 + 2**x2)`` without overflow."""
    if out is not None or where is not None:
        _ufunc_options("logaddexp2", out, where)
    _no_complex("logaddexp2", x1, x2)
    x1, x2 = _float_pair(x1, x2)
    # x1 + log2(1 + 2**-(x1 - x2)) where x1 >= x2, else the same with the roles swapped: each
    # branch is smooth and sees only the differences it is chosen for (so its 2**d never
    # overflows into a nan derivative). The former max(x1, x2) + log2(1 + 2**-|x1 - x2|) had
    # kinks that cancel in value but not in AD: its second derivative at x1 = x2 was 0.
    same_inf = logical_and(equal(x1, x2), isinf(x1))
    d = _where(same_inf, 0.0, subtract(x1, x2))  # equal infinities: 0, not inf - inf
    up = greater_equal(d, 0.0)
    d_up = _where(up, d, 0.0)
    d_down = _where(up, 0.0, d)
    out = _where(up, add(x1, multiply(log1p(pow(2.0, negative(d_up))), _LOG2E)),
                 add(x2, multiply(log1p(pow(2.0, d_down)), _LOG2E)))
    # equal infinities: the infinity, with the derivative split evenly (as logaddexp's)
    return _where(same_inf, multiply(add(x1, x2), 0.5), out)


def float_power(x1, x2, /, out=None, where=None):
    """Elementwise ``x1 ** x2`` computed in float64 (complex128 for complex operands)."""
    if out is not None or where is not None:
        _ufunc_options("float_power", out, where)
    def up(v):
        if type(v) in _SCALARS:
            return complex(v) if type(v) is complex else float(v)
        v = _operand(v)
        d = _dtype(v)
        target = _dt.complex128 if d.kind == "c" else _dt.float64
        return v if d is target else _st.convert_element_type(v, target)
    x1, x2 = up(x1), up(x2)
    if type(x1) in _SCALARS and type(x2) in _SCALARS:
        x1 = _to_array(x1)
    if (type(x1) is complex and type(x2) not in _SCALARS) or (
            type(x2) is complex and type(x1) not in _SCALARS):
        other = x2 if type(x1) is complex else x1
        if _dtype(other).kind != "c":
            other = _st.convert_element_type(other, _dt.complex128)
        x1, x2 = (x1, other) if type(x1) is complex else (other, x2)
    out = pow(x1, x2)
    if type(x2) is float and abs(x2) == 0.5 and type(x1) is not complex and \
            _dtype(x1).kind == "f":
        # NumPy and torch take sqrt (rsqrt) for these exponents: nan at -inf, where C's pow,
        # and NumPy's float_power, give inf (0)
        out = _where(equal(x1, -math.inf), math.inf if x2 > 0 else 0.0, out)
    return out


def fix(x, out=None):
    """Round toward zero elementwise, keeping the dtype (as ``trunc``). Derivative 0."""
    _no_out("fix", out)
    return trunc(x)


def nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
    """``x`` with NaN replaced by ``nan``, +inf by ``posinf`` (default: the largest finite
    value of the dtype) and -inf by ``neginf`` (default: the most negative one); complex
    arrays are treated part by part, integer arrays returned as they are. ``copy`` is
    accepted for NumPy's signature: the result is always a new array (``x`` is never
    modified). The derivative is that of ``x`` at its finite entries and 0 elsewhere."""
    x = _as_operand(x)
    d = _dtype(x)
    if d.kind == "c":
        from ._base import astype as _astype
        re = nan_to_num(real(x), nan=nan, posinf=posinf, neginf=neginf)
        im = nan_to_num(imag(x), nan=nan, posinf=posinf, neginf=neginf)
        return add(_astype(re, d), multiply(_astype(im, d), 1j))
    if d.kind not in "f":
        return x
    fi = finfo(d)
    hi = fi.max if posinf is None else posinf
    lo = fi.min if neginf is None else neginf
    out = where(isnan(x), nan, x)
    out = where(logical_and(isinf(x), greater(x, 0.0)), hi, out)
    return where(logical_and(isinf(x), less(x, 0.0)), lo, out)


def ldexp(x1, x2, /, out=None, where=None):
    """Elementwise ``x1 * 2**x2`` for integer exponents ``x2`` (a float ``x2`` is a
    TypeError, as in NumPy), exact with one rounding, as NumPy's: computed in float64 (for the
    narrower floats too, cast back at the end), as a product with ``2.0**x2`` where that
    power is a float64 (an exponent in [-1074, 1023]: a Python int, or an array of 8-bit
    integers), else by way of ``x1``'s own exponent (``frexp``), so that ``ldexp(1e-300,
    1100)`` and ``ldexp(1e300, -1100)`` are right, and results below float64's normal range
    are rounded once."""
    if out is not None or where is not None:
        _ufunc_options("ldexp", out, where)
    if isinstance(x1, (list, tuple)):  # (NumPy's array-likes)
        x1 = _as_operand(x1)
    if isinstance(x2, (list, tuple)):
        x2 = _as_operand(x2)
    if type(x2) is float or (type(x2) not in _SCALARS and _dtype(x2).kind not in "iub"):
        raise TypeError("ldexp: the exponent x2 must be an integer (scalar or array)")
    _no_complex("ldexp", x1)
    x1 = x1 if type(x1) in _SCALARS else _as_float(x1)
    if type(x1) is int or type(x1) is bool:
        x1 = float(x1)
    narrow = None
    if type(x1) not in _SCALARS and _dtype(x1) is not _dt.float64:
        narrow = _dtype(x1)
        x1 = _st.convert_element_type(x1, _dt.float64)
    if type(x2) in _SCALARS and -1074 <= int(x2) <= 1023:
        out = multiply(_to_array(x1) if type(x1) in _SCALARS else x1, 2.0 ** int(x2))
    elif type(x2) not in _SCALARS and _dtype(x2).bits == 8:
        ref = x1 if type(x1) not in _SCALARS else None
        e = _st.convert_element_type(x2, _dtype(ref) if ref is not None else _dt.float64)
        out = multiply(x1, pow(2.0, e))
    else:
        out = _ldexp_wide(x1 if type(x1) not in _SCALARS else _to_array(x1, like=x2), x2)
    return out if narrow is None else _st.convert_element_type(out, narrow)


def _ldexp_wide(x, n):
    """``ldexp`` of float64 ``x`` for any integer ``n``. The value: with ``x = m 2**k``
    (``frexp``), ``m * 2**(k + n)``, where that power is still a float64 (subnormal ones
    too, so the one product rounds once); above float64's range by ``2 m`` and a power one
    smaller, then doubled (overflowing to inf as it should). The derivative, ``2**n``, is
    applied in two halves, so that a tangent reaching a representable result is not lost
    where ``2**n`` alone (or the value) underflows or overflows."""
    # (beyond +-2200 every float64 result is 0 or inf: clipped, k + n stays exact)
    if type(n) in _SCALARS:
        n = float(builtins.max(-2200, builtins.min(2200, int(n))))
    else:
        n = _clip(_as_float64(n), -2200.0, 2200.0)
    c = _st.stop_gradient_p.bind(x)
    m, k = frexp(c)
    s = add(astype(k, _dt.float64), n)
    low = multiply(m, pow(2.0, _clip(s, -1100.0, 1023.0)))
    high = multiply(multiply(multiply(m, 2.0), pow(2.0, minimum(subtract(s, 1.0), 1023.0))),
                    pow(2.0, _clip(subtract(s, 1024.0), 0.0, 2.0)))
    value = where(greater_equal(s, 1024.0), high, low)
    # value - 0 * 2**n: the value (and the sign of a zero) unchanged, the derivative 2**n
    h = _clip(floor(multiply(n, 0.5)), -1074.0, 1023.0)
    rest = _clip(subtract(n, h), -1074.0, 1023.0)
    slope = multiply(multiply(subtract(c, x), pow(2.0, h)), pow(2.0, rest))
    return where(isfinite(c), subtract(value, slope), x)  # (inf * 2**n: NaN where it underflows)


def _clip(v, lo, hi):
    return minimum(maximum(v, lo), hi)


def divmod(x1, x2, /, out=None, where=None):
    """``(floor_divide(x1, x2), remainder(x1, x2))`` elementwise."""
    if out is not None or where is not None:
        _ufunc_options("divmod", out, where)
    return floor_divide(x1, x2), remainder(x1, x2)


def modf(x, /, out=None, where=None):
    """The fractional and integral parts of ``x`` elementwise, both with ``x``'s sign
    (``modf(-3.5) = (-0.5, -3.0)``; integers give float64). The derivative of the
    fractional part is 1, of the integral part 0. ``out`` must be None (jax.numpy's)."""
    if out is not None or where is not None:
        _ufunc_options("modf", out, where)
    x = _as_float(x)
    whole = trunc(x)
    # x - trunc(x) is exact and has x's sign except where it is 0; written as -(trunc(x) - x)
    # for a negative x, to give -0.0 there (NumPy's) with the derivative still 1 (copysign of
    # a +0.0 flipped it to -1 at negative integers)
    neg = signbit(x)
    frac = _where(neg, negative(subtract(whole, x)), subtract(x, whole))
    return _where(isinf(x), copysign(_st.full_like(x, 0.0), x), frac), whole

# -- cumulative functions --------------------------------------------------------------------


def _flat_or(a, axis):
    a = _as_operand(a)
    if axis is None:
        return reshape(a, (-1,)), 0
    if not _shape(a):  # NumPy's: a 0-d array as its one element (axis 0 or -1)
        return reshape(a, (-1,)), axis
    return a, axis


def cumsum(a, axis=None, dtype=None, out=None):
    """Running sums along ``axis`` (of the flattened array when ``axis`` is None). Booleans
    and small integers accumulate in int64 (uint64 for unsigned)."""
    _no_out("cumsum", out)
    a, axis = _flat_or(a, axis)
    return cumulative_sum(a, axis=axis, dtype=dtype)


def cumprod(a, axis=None, dtype=None, out=None):
    """Running products along ``axis`` (of the flattened array when ``axis`` is None)."""
    _no_out("cumprod", out)
    a, axis = _flat_or(a, axis)
    return cumulative_prod(a, axis=axis, dtype=dtype)


def _fill_nan(a, value):
    a = _as_operand(a)
    if not _is_inexact(a):
        return a
    return where(isnan(a), value, a)


def nancumsum(a, axis=None, dtype=None, out=None):
    """Running sums with NaNs counted as 0 (of the flattened array when ``axis`` is None)."""
    _no_out("nancumsum", out)
    return cumsum(_fill_nan(a, 0.0), axis=axis, dtype=dtype)


def nancumprod(a, axis=None, dtype=None, out=None):
    """Running products with NaNs counted as 1 (flattened when ``axis`` is None)."""
    _no_out("nancumprod", out)
    return cumprod(_fill_nan(a, 1.0), axis=axis, dtype=dtype)

# -- nan-reductions ----------------------------------------------------------------------------


def nansum(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    """Sum along ``axis`` with NaNs counted as 0 (0 for an all-NaN slice). ``initial`` is
    added to every sum; ``where`` masks the elements taking part."""
    _no_out("nansum", out)
    return sum(_fill_nan(a, 0.0), axis=axis, dtype=dtype, keepdims=keepdims,
               initial=initial, where=where)


def nanprod(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    """Product along ``axis`` with NaNs counted as 1. ``initial`` multiplies every product;
    ``where`` masks the elements taking part."""
    _no_out("nanprod", out)
    return prod(_fill_nan(a, 1.0), axis=axis, dtype=dtype, keepdims=keepdims,
                initial=initial, where=where)


def nanmean(a, axis=None, dtype=None, out=None, keepdims=False, *, where=None):
    """Mean along ``axis`` of the non-NaN entries (NaN for an all-NaN slice, without
    NumPy's warning). Integers give float64; ``dtype`` sets the computation's dtype (an
    integer or bool one only for integer input, as NumPy's: mean's); ``where`` masks the
    elements taking part."""
    _no_out("nanmean", out)
    a = _as_operand(a)
    d = _stat_dtype("nanmean", a, dtype, nan=True)
    if d is not None and d.kind not in "fc":  # integer input: mean's (no NaNs)
        return _mean(a, axis=axis, keepdims=keepdims, where=where, dtype=d)
    if d is not None:
        a = astype(a, d)
    if not _is_inexact(a):
        return _mean(a, axis=axis, keepdims=keepdims, where=where)
    if _dtype(a) in _dt.HALF:  # (float16 counts exactly only to 2048): in float32
        return astype(nanmean(astype(a, _dt.float32), axis, keepdims=keepdims, where=where),
                      _dtype(a))
    keep = logical_not(isnan(a))
    if where is not None:
        keep = logical_and(keep, where)
    cnt = sum(astype(keep, _real_dtype(a)), axis=axis, keepdims=keepdims)
    tot = sum(_where(keep, a, 0.0), axis=axis, keepdims=keepdims)
    # an all-NaN slice: NaN, with the derivative 0 in both modes as nanvar's and
    # nanmedian's (tot / 0 made forward mode's NaN, 0 / 0, and reverse mode's 0)
    empty = equal(cnt, 0)
    return _where(empty, math.nan, divide(tot, _where(empty, 1.0, cnt)))


def _real_dtype(a):
    d = _dtype(a)
    if d.kind == "c":
        return _dt.float32 if d is _dt.complex64 else _dt.float64
    return d


def _ddof(name, ddof, correction):
    if ddof is not None and correction is not None:
        raise ValueError(f"{name}: ddof and correction can't be provided simultaneously")
    return ddof if ddof is not None else (correction if correction is not None else 0)


def nanvar(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=None,
           mean=None, correction=None):
    """Variance along ``axis`` of the non-NaN entries, with ``count - ddof`` degrees of
    freedom (NaN where that is not positive, as for an all-NaN slice). ``correction`` is
    another name for ``ddof`` (giving both is an error). ``where=`` (a boolean mask
    broadcast with ``a``) leaves out the entries it marks False, as NaNs are; ``mean=`` (of
    the shape the mean has with ``keepdims=True``) is the mean to take the deviations from,
    as NumPy's."""
    _no_out("nanvar", out)
    ddof = _ddof("nanvar", ddof if ddof != 0 else None, correction)
    a = _as_operand(a)
    d = _stat_dtype("nanvar", a, dtype, nan=True)
    if d is not None and d.kind not in "fc":  # integer input: var's (no NaNs)
        return var(a, axis=axis, correction=ddof, keepdims=keepdims, where=where, dtype=d,
                   mean=mean)
    if d is not None:
        a = astype(a, d)
    if not _is_inexact(a):
        return var(a, axis=axis, correction=ddof, keepdims=keepdims, where=where, mean=mean)
    if _dtype(a) in _dt.HALF:  # in float32, as var
        return astype(nanvar(astype(a, _dt.float32), axis, ddof=ddof, keepdims=keepdims,
                             where=where, mean=mean), _dtype(a))
    nan = isnan(a)
    if where is not None:
        nan = logical_or(nan, logical_not(where))
    rd = _real_dtype(a)
    cnt = sum(astype(logical_not(nan), rd), axis=axis, keepdims=True)
    filled = _where(nan, 0.0, a)
    if mean is None:
        avg = divide(sum(filled, axis=axis, keepdims=True), cnt)
    else:
        from ._statistics import _given_mean
        avg = _given_mean("nanvar", a, mean, _normalize_axes(axis, len(_shape(a))))
    dev = _where(nan, 0.0, subtract(filled, avg))
    sq = real(multiply(dev, conj(dev))) if _dtype(dev).kind == "c" else square(dev)
    s = sum(sq, axis=axis, keepdims=keepdims)
    dof = subtract(cnt if keepdims else reshape(cnt, _shape(s)), float(ddof))
    good = greater(dof, 0.0)
    out = _where(good, divide(s, _where(good, dof, 1.0)), math.nan)
    # (where no degrees of freedom are left, the NaN's derivatives are NaN in the slice's
    # own directions and 0 in the others, as var's: they were 0)
    from ._statistics import _differentiated, _may_hold, _no_dof_slope
    if _differentiated(filled) and _may_hold(logical_not(good)):
        out = add(out, _no_dof_slope(logical_not(good), filled, None,
                                     _normalize_axes(axis, len(_shape(a))), keepdims))
    # a complex dtype= gives the (real) variance in that dtype, as NumPy's
    return astype(out, dtype) if dtype is not None and _dt.as_dtype(dtype).kind == "c" else out


def nanstd(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=None,
           mean=None, correction=None):
    """Standard deviation along ``axis`` of the non-NaN entries (``sqrt(nanvar(...))``; an
    integer or bool ``dtype``, for integer input: truncated into it, as std's)."""
    a = _as_operand(a)
    d = _stat_dtype("nanstd", a, dtype, nan=True)
    if d is not None and d.kind not in "fc":
        v = nanvar(a, axis=axis, dtype=d, out=out, ddof=ddof, keepdims=keepdims, where=where,
                   mean=mean, correction=correction)
        return astype(sqrt(astype(v, _dt.float64)), d)
    if dtype is None and _dtype(a) in _dt.HALF:  # in float32, as std
        return astype(nanstd(astype(a, _dt.float32), axis, out=out, ddof=ddof,
                             keepdims=keepdims, where=where, mean=mean, correction=correction),
                      _dtype(a))
    v = nanvar(a, axis=axis, dtype=dtype, out=out, ddof=ddof, keepdims=keepdims,
               where=where, mean=mean, correction=correction)
    # a slice with one non-NaN entry (no mean given): the variance is identically 0 there,
    # and so is its derivative (as std's over slices of one element), where sqrt's infinite
    # slope at 0 made it NaN; one with no degrees of freedom: NaN, with var's derivatives
    # (NaN in its own directions only), where sqrt's NaN slope reached all
    kept = logical_not(isnan(a))
    mask = _where_mask(a, where, "nanstd")
    if mask is not None:
        kept = logical_and(kept, mask)
    least = builtins.max(_ddof("nanstd", ddof if ddof != 0 else None, correction),
                         0 if mean is not None else 1)
    odd = less_equal(sum(astype(kept, _dt.int64), axis=axis, keepdims=keepdims), least)
    from ._base import where as select  # (the parameter where= hides the function)
    return select(odd, v, sqrt(select(odd, 1.0, v)))


def _nan_extreme(name, red, fill, a, axis, out, keepdims, initial, where_):
    _no_out(name, out)
    a = _as_operand(a)
    mask = _where_mask(a, where_, name)
    if mask is not None and initial is None:
        raise ValueError(f"{name}: where= needs initial= (the {name[3:]}imum of no elements "
                         f"is undefined), as in NumPy")
    if not _is_inexact(a):
        return red(a, axis=axis, keepdims=keepdims, initial=initial, where=mask)
    is_complex = _dtype(a).kind == "c"
    if is_complex:  # (the least complex number is -inf - inf j: a NaN ties with it, no more)
        fill = complex(fill, fill)
    nan = isnan(a)
    if initial is None:
        r = red(where(nan, fill, a), axis=axis, keepdims=keepdims)
        # an all-NaN slice: NaN (complex: the slice's first NaN, as NumPy's fmax.reduce)
        none_left = red(a, axis=axis, keepdims=keepdims) if is_complex else math.nan
        return where(all(nan, axis=axis, keepdims=keepdims), none_left, r)
    # NumPy's fmax/fmin reduction: NaNs (in ``a`` or ``initial``) are skipped like the
    # entries ``where`` leaves out; NaN only when nothing is left
    keep = logical_not(nan) if mask is None else logical_and(logical_not(nan), mask)
    init = _initial_value(a, initial)
    ok = logical_not(isnan(init))
    r = red(a, axis=axis, keepdims=keepdims, initial=where(ok, init, fill), where=keep)
    return where(logical_or(ok, any(keep, axis=axis, keepdims=keepdims)), r,
                 init if is_complex else math.nan)


def nanmax(a, axis=None, out=None, keepdims=False, initial=None, where=None):
    """Maximum along ``axis`` ignoring NaNs (NaN for an all-NaN slice, without NumPy's
    warning). ``initial=`` (a lower bound included in every slice; the result of an empty
    or all-NaN one) and ``where=`` (a boolean mask of the entries taking part; needs
    ``initial``) as in NumPy; NaNs and left-out entries get no derivative."""
    return _nan_extreme("nanmax", max, -math.inf, a, axis, out, keepdims, initial, where)


def nanmin(a, axis=None, out=None, keepdims=False, initial=None, where=None):
    """Minimum along ``axis`` ignoring NaNs (NaN for an all-NaN slice, without NumPy's
    warning). ``initial=`` (an upper bound included in every slice) and ``where=`` (needs
    ``initial``) as in :func:`nanmax`."""
    return _nan_extreme("nanmin", min, math.inf, a, axis, out, keepdims, initial, where)


def _nan_arg(name, fn, fill, a, axis, out, keepdims):
    _no_out(name, out)
    a = _as_operand(a)
    if not _is_inexact(a):
        return fn(a, axis=axis, keepdims=keepdims)
    nan = isnan(a)
    if _dtype(a).kind == "c":
        # NaNs as the least (greatest) complex number, -inf - inf j, which a value may equal:
        # the first non-NaN entry equal to the extreme (NumPy fills -inf + 0j, which beats a
        # value such as -inf - 1j and then gives a NaN's index)
        filled = where(nan, complex(fill, fill), a)
        best = (max if fn is argmax else min)(filled, axis=axis, keepdims=True)
        hit = logical_and(equal(filled, best), logical_not(nan))
        idx = argmax(hit, axis=axis, keepdims=keepdims)
    else:
        idx = fn(where(nan, fill, a), axis=axis, keepdims=keepdims)
    if axis is None:
        bad = all(nan, keepdims=keepdims)
        if keepdims:
            bad = reshape(bad, _shape(idx))
    else:
        bad = all(nan, axis=axis, keepdims=keepdims)
    if _concrete(a) and builtins.bool(any(bad)):
        raise ValueError(f"{name}: All-NaN slice encountered")
    return where(bad, -1, idx)


def nanargmax(a, axis=None, out=None, *, keepdims=False):
    """Index of the maximum along ``axis`` ignoring NaNs (of the flattened array when
    ``axis`` is None). An all-NaN slice is a ValueError for a plain array, as in NumPy;
    under a transform (where values cannot be inspected) its index is -1."""
    return _nan_arg("nanargmax", argmax, -math.inf, a, axis, out, keepdims)


def nanargmin(a, axis=None, out=None, *, keepdims=False):
    """Index of the minimum along ``axis`` ignoring NaNs; all-NaN slices as in
    :func:`nanargmax`."""
    return _nan_arg("nanargmin", argmin, math.inf, a, axis, out, keepdims)

# -- statistics ------------------------------------------------------------------------------


def ptp(a, axis=None, out=None, keepdims=False):
    """Range (maximum minus minimum) along ``axis``."""
    _no_out("ptp", out)
    return subtract(max(a, axis=axis, keepdims=keepdims), min(a, axis=axis, keepdims=keepdims))


def average(a, axis=None, weights=None, returned=False, *, keepdims=False):
    """Weighted average along ``axis`` (the mean without ``weights``), differentiable in
    ``a`` and ``weights``. ``weights`` has ``a``'s shape, or the shape of the axes in
    ``axis``. With ``returned=True`` also the sum of the weights (broadcast to the result's
    shape). Weights summing to 0 raise ZeroDivisionError for plain arrays, as in NumPy; under
    a transform the result there is inf or NaN."""
    a, w = _plain_next_to(a, weights) if weights is not None else (_operand(a), None)
    nd = len(_shape(a))
    if weights is None:
        avg = mean(a, axis=axis, keepdims=keepdims)
        n = math.prod(_shape(a)) // builtins.max(math.prod(_shape(avg)), 1) \
            if math.prod(_shape(avg)) else 0
        scl = _st.full_like(avg, float(n))
        return (avg, scl) if returned else avg
    da, dw = _dtype(a), _dtype(w)
    # integers average as float64; otherwise the namespace's promotion (an integer with a
    # float gives the float's dtype)
    rd = _dt.float64 if da.kind in "biu" and dw.kind in "biu" else _dt.result_type(da, dw)
    a, w = astype(a, rd), astype(w, rd)
    if _shape(a) != _shape(w):
        if axis is None:
            raise TypeError("average: axis must be specified when the shapes of a and "
                            "weights differ")
        axes = _normalize_axes(axis, nd)
        if not isinstance(axis, int):
            axes_in_order = tuple(_normalize_axis(int(x), nd) for x in axis)
        else:
            axes_in_order = axes
        want = tuple(_shape(a)[ax] for ax in axes_in_order)
        if _shape(w) != want:
            raise ValueError(f"average: the shape of weights {_shape(w)} must be a's shape "
                             f"{_shape(a)} or that of the averaged axes {want}")
        order = sorted(range(len(axes_in_order)), key=lambda i: axes_in_order[i])
        if order != list(range(len(order))):
            from ._base import permute_dims
            w = permute_dims(w, tuple(order))
        w = _st.broadcast_in_dim(w, _shape(a), axes)
    scl = sum(w, axis=axis, keepdims=keepdims)
    if _concrete(scl) and builtins.bool(any(equal(scl, 0.0))):
        raise ZeroDivisionError("average: weights sum to zero, can't be normalized")
    avg = divide(sum(multiply(a, w), axis=axis, keepdims=keepdims), scl)
    if returned:
        if _shape(scl) != _shape(avg):
            scl = broadcast_to(scl, _shape(avg))
        return avg, scl
    return avg


def _median_impl(name, a, axis, keepdims, ignore_nan):
    a = _as_operand(a)
    is_complex = _dtype(a).kind == "c"
    if is_complex and ignore_nan:
        return _complex_nanmedian(a, axis, keepdims)
    if not ignore_nan:
        x, n, r_shape, kept = _to_front(a, axis)
        xf = _as_float(x)
        if n == 0:
            out = mean(xf, axis=0)
        else:
            s = sort(x, axis=0)
            lo = _take0(s, (n - 1) // 2)
            if n % 2:
                out = divide(_as_float(lo), 1.0)
            else:
                hi = _take0(s, n // 2)
                out = divide(add(_as_float(lo), _as_float(hi)), 2.0)
            if _is_inexact(x):
                # a slice with a NaN: NaN (complex: the last value sorted, as NumPy's)
                worst = _take0(s, n - 1) if is_complex else math.nan
                out = where(any(isnan(x), axis=0), worst, out)
        return reshape(out, kept) if keepdims else out
    return _quantile_impl(name, a, 0.5, axis, "linear", keepdims, True, 1, median=True)


def _complex_nanmedian(a, axis, keepdims):
    """NumPy's nanmedian of complex numbers: the middle value of each slice's entries without
    a NaN in NumPy's order (those with one sort last), or the mean of the two middle ones;
    ``nan + 0j`` for an all-NaN slice."""
    x, n, r_shape, kept = _to_front(a, axis)
    if n == 0:
        out = mean(x, axis=0)
    else:
        s = sort(x, axis=0)
        k = sum(astype(logical_not(isnan(x)), _dt.int64), axis=0)
        lo_i = maximum(floor_divide(subtract(k, 1), 2), 0)
        at = [take_along_axis(s, reshape(i, (1,) + r_shape), axis=0)
              for i in (lo_i, floor_divide(k, 2))]
        out = reshape(divide(add(*at), 2.0), r_shape)
        out = where(equal(k, 0), complex(math.nan, 0.0), out)
    return reshape(out, kept) if keepdims else out


def _take0(s, i):
    """``s[i]`` along the leading axis."""
    shape = _shape(s)
    idx = ((i, i + 1, 1),) + tuple((0, d, 1) for d in shape[1:])
    return _st.reshape(_st.slice_(s, idx), shape[1:])


def median(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    """Median along ``axis`` (an int, a tuple or None for all): the middle value, or the
    mean of the two middle values. NaN where a slice has a NaN. Differentiable (for distinct
    values the derivative reaches the middle element(s)). ``overwrite_input`` is accepted
    and ignored (the input is never modified)."""
    _no_out("median", out)
    return _median_impl("median", a, axis, keepdims, False)


def nanmedian(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    """Median along ``axis`` of the non-NaN entries (NaN for an all-NaN slice, without
    NumPy's warning): the middle value, or the mean of the two middle values, as NumPy's
    (complex numbers too, in NumPy's order; jax.numpy refuses them)."""
    _no_out("nanmedian", out)
    return _median_impl("nanmedian", a, axis, keepdims, True)


_METHODS = ("linear", "lower", "higher", "nearest", "midpoint", "inverted_cdf",
            "averaged_inverted_cdf", "closest_observation", "interpolated_inverted_cdf",
            "hazen", "weibull", "median_unbiased", "normal_unbiased")
# Hyndman & Fan's continuous methods (NumPy's): the virtual index n q + a + q (1 - a - b) - 1,
# interpolated as 'linear' (a = b = 1) is.
_HF = {"interpolated_inverted_cdf": (0.0, 1.0), "hazen": (0.5, 0.5), "weibull": (0.0, 0.0),
       "median_unbiased": (1 / 3, 1 / 3), "normal_unbiased": (3 / 8, 3 / 8)}


def _q_array(q, like):
    """``q`` as a float array on ``like``'s backend and device, and whether it was a Python
    number (NumPy then keeps the data's float dtype)."""
    weak = type(q) in (int, float)
    if type(q) in _SCALARS:
        if type(q) is complex:
            raise TypeError("quantile: q must be real")
        return _like(like, float(q), _dt.float64), weak
    if isinstance(q, (list, tuple)):
        from ._creation import asarray
        from ._base import device
        q = asarray(q, dtype=_dt.float64, device=device(like))
        return q, False
    if _dtype(q).kind == "c":
        raise TypeError("quantile: q must be real")
    return _as_float(_numpy_scalars_beside(q, like)[0]), False


def _check_q(name, q, scale):
    if isinstance(q, (list, tuple)):
        vals = _flatten_list(q)
    elif type(q) in _SCALARS:
        vals = [q]
    elif _concrete(q):
        lo = builtins.bool(any(less(q, 0.0))) if math.prod(_shape(q)) else False
        hi = builtins.bool(any(greater(q, float(scale)))) if math.prod(_shape(q)) else False
        vals = [-1.0] if lo or hi else []
        if not lo and not hi and _is_inexact(q) and builtins.bool(any(isnan(q))):
            vals = [math.nan]
    else:
        return
    for v in vals:
        if not 0.0 <= v <= scale:
            unit = "[0, 100]" if scale == 100 else "[0, 1]"
            what = "Percentiles" if scale == 100 else "Quantiles"
            raise ValueError(f"{name}: {what} must be in the range {unit}")


def _flatten_list(q):
    out = []
    for v in q:
        out.extend(_flatten_list(v) if isinstance(v, (list, tuple)) else [v])
    return out


def _quantile_impl(name, a, q, axis, method, keepdims, ignore_nan, scale, median=False):
    if method not in _METHODS:  # (every one of NumPy's is here: a bad name, as NumPy's)
        raise ValueError(
            f"{name}: method={method!r} is not one of NumPy's methods; use one of "
            f"{', '.join(_METHODS)}")
    a, q = _numpy_scalars_moved((a, q))
    a = _operand(a)
    if _dtype(a).kind == "c":
        raise TypeError(f"{name}: a must be an array of real numbers")
    _check_q(name, q, scale)
    qa, weak = _q_array(q, a)
    if scale != 1:
        qa = divide(qa, float(scale))
    q_shape = _shape(qa)
    x, n, r_shape, kept = _to_front(a, axis)
    fd = _dtype(_as_float(x))
    nq = math.prod(q_shape)
    out_shape = q_shape + (kept if keepdims else r_shape)
    if n == 0:
        return broadcast_to(_like(x, math.nan, fd), out_shape)
    has_nan = _is_inexact(x)
    s = sort(x, axis=0)
    qf = reshape(qa, (nq,) + (1,) * len(r_shape))
    if ignore_nan and has_nan:
        count = sum(astype(logical_not(isnan(x)), _dt.float64), axis=0, keepdims=True)
        top = subtract(count, 1.0)  # (1, *R): the last valid position of each slice
    else:
        count = None
        top = float(n - 1)
    v = multiply(top, qf)
    if method in _HF or method in ("inverted_cdf", "averaged_inverted_cdf",
                                   "closest_observation"):
        a_, b_ = _HF.get(method, (0.0, 1.0))
        nn = add(top, 1.0)  # the slices' numbers of (valid) values
        if method in _HF:
            # n q + (alpha + q (1 - alpha - beta)) - 1 in NumPy's order: its rounding decides
            # which side of 0.5 the fraction falls on, and with it _lerp's side, which gives
            # nan beside an infinity from the other (weibull at q = 0.3 of [-inf, 1, 2, 3]:
            # nan where NumPy's is -inf)
            v = subtract(add(multiply(nn, qf), add(multiply(qf, 1.0 - a_ - b_), a_ + 0.0)),
                         1.0)
        else:
            v = subtract(add(multiply(nn, qf), a_ + 0.0), 1.0)
            if method == "closest_observation":
                v = subtract(v, 0.5)
    if method in ("linear",) + tuple(_HF) + ("averaged_inverted_cdf",):
        vi = v
    elif method in ("inverted_cdf", "closest_observation"):
        # NumPy's discrete ones: the order statistic above, or at a whole index the one
        # there (closest_observation: there only when it is odd, 0-based)
        prev = floor(v)
        at = equal(v, prev)
        if method == "closest_observation":
            at = logical_and(at, equal(remainder(prev, 2.0), 1.0))
        vi = where(at, prev, add(prev, 1.0))
    elif method == "lower":
        vi = floor(v)
    elif method == "higher":
        vi = ceil(v)
    elif method == "nearest":
        vi = round(v)
    else:  # midpoint
        vi = multiply(0.5, add(floor(v), ceil(v)))
    vi = broadcast_to(vi, (nq,) + r_shape)

    def index(i):  # clipped to the valid range, as integers
        i = maximum(minimum(i, top), 0.0)
        return astype(minimum(i, float(n - 1)), _dt.int64)
    if method in ("lower", "higher", "nearest", "inverted_cdf", "closest_observation"):
        out = take_along_axis(s, index(vi), axis=0)
    else:
        prev = floor(vi)
        above = greater_equal(vi, top)
        if method != "linear":  # (below the first value: the first, as NumPy's)
            prev = maximum(prev, -1.0)
            vi = maximum(vi, -1.0)
        i0 = where(above, top, prev)
        i1 = where(above, top, add(prev, 1.0))
        lo = _as_float(take_along_axis(s, index(i0), axis=0))
        hi = _as_float(take_along_axis(s, index(i1), axis=0))
        if method == "midpoint":
            gamma = where(equal(prev, vi), _st.full_like(vi, 0.0), _st.full_like(vi, 0.5))
        elif method == "averaged_inverted_cdf":
            gamma = where(equal(prev, vi), _st.full_like(vi, 0.5), _st.full_like(vi, 1.0))
        else:
            gamma = subtract(vi, prev)
        if weak:
            gamma = astype(gamma, fd)
        if median:
            # NumPy's nanmedian: the middle value, or the mean of the two middle values (a
            # lerp at 0 gave -inf + inf * 0 = nan for a middle -inf next to a finite value)
            out = where(equal(gamma, 0.0), lo, divide(add(lo, hi), 2.0))
        else:
            out = _lerp(lo, hi, gamma)
        if method == "linear" and not median and (count is not None or n > 1):
            # At q = 1 (above) both ends are the last value: the value is right, but its
            # derivative in q needs the slope to the value below (only the left side exists
            # there). Added as (vi - vi) * slope: +0 in value, whatever the slope.
            below = _as_float(take_along_axis(s, index(subtract(i0, 1.0)), axis=0))
            slope = subtract(hi, below)
            slope = where(logical_and(above, isfinite(slope)), slope, 0.0)
            dv = astype(subtract(_st.stop_gradient_p.bind(vi), vi), _dtype(out))
            out = subtract(out, multiply(dv, astype(slope, _dtype(out))))
    if count is not None:
        out = where(equal(count, 0.0), math.nan, out)
    elif has_nan:
        out = where(any(isnan(x), axis=0, keepdims=True), math.nan, out)
    return reshape(out, out_shape)


def _quantile_weights(name, a, weights, axis, method):
    """NumPy's checks of ``weights=`` (only method 'inverted_cdf' takes them; ``a``'s shape,
    or that of the axes reduced; non-negative where the values are concrete): the weights
    broadcast to ``a``'s shape, in float64."""
    if method != "inverted_cdf":
        raise ValueError(f"{name}: Only method 'inverted_cdf' supports weights. Got: "
                         f"{method}.")
    a, w = _plain_next_to(a, weights)
    shape, nd = _shape(a), len(_shape(a))
    if _shape(w) != shape:
        if axis is None:
            raise TypeError(f"{name}: Axis must be specified when shapes of a and weights "
                            f"differ (a {shape}, weights {_shape(w)}).")
        axes = _normalize_axes(axis, nd)
        if _shape(w) != tuple(shape[i] for i in axes):
            raise ValueError(f"{name}: Shape of weights must be consistent with shape of a "
                             f"along specified axis (weights {_shape(w)}, a {shape}, axis "
                             f"{axis}).")
        order = sorted(range(len(axes)), key=lambda k: axes[k])
        if order != list(range(len(axes))):
            w = _st.transpose(w, tuple(order))
        w = broadcast_to(reshape(w, tuple(d if i in axes else 1 for i, d in enumerate(shape))),
                         shape)
    w = astype(w, _dt.float64)
    if _concrete(w) and math.prod(shape) and builtins.bool(any(less(w, 0.0))):
        raise ValueError(f"{name}: Weights must be non-negative.")
    return w


def _weighted_quantile(name, a, q, w, axis, keepdims, ignore_nan, scale):
    """NumPy's weighted 'inverted_cdf': in each slice, the smallest value whose share of
    the total weight, with the smaller values', reaches q (sorted stably; NaNs, last, count
    with weight 0 for the nan-functions and make the slice NaN for the others)."""
    if _dtype(a).kind == "c":
        raise TypeError(f"{name}: a must be an array of real numbers")
    qa, _ = _q_array(q, a)
    if scale != 1:
        qa = divide(qa, float(scale))
    q_shape = _shape(qa)
    x, n, r_shape, kept = _to_front(a, axis)
    wx = _to_front(w, axis)[0]
    nq = math.prod(q_shape)
    out_shape = q_shape + (kept if keepdims else r_shape)
    if n == 0:
        return broadcast_to(_like(x, math.nan, _dtype(_as_float(x))), out_shape)
    order = argsort(x, axis=0, stable=True)
    xs = take_along_axis(x, order, axis=0)
    ws = take_along_axis(wx, order, axis=0)
    has_nan = _is_inexact(x)
    last = xs[n - 1:n, ...]  # (1, *R): NaN where the slice has one
    if ignore_nan and has_nan:
        ws = where(isnan(xs), 0.0, ws)
    cdf = cumulative_sum(ws, axis=0)
    total = cdf[n - 1:n, ...]
    empty = isnan(xs[0:1, ...]) if ignore_nan and has_nan else None  # all NaN there
    bad = logical_not(greater(total, 0.0)) if empty is None else \
        logical_and(logical_not(greater(total, 0.0)), logical_not(empty))
    bad = logical_or(bad, logical_not(isfinite(total)))
    if _concrete(bad) and builtins.bool(any(bad)):
        raise ValueError(f"{name}: Weights included NaN, inf or were all zero.")
    cdf = divide(cdf, total)
    if _dtype(qa) is not _dt.float64:  # (compared in q's dtype, as NumPy's)
        cdf = astype(cdf, _dtype(qa))
    cdf = where(equal(cdf, 0.0), -1.0, cdf)  # leading zero weights: never chosen
    qf = reshape(qa, (nq, 1) + (1,) * len(r_shape))
    below = astype(less(reshape(cdf, (1, n) + r_shape), qf), _dt.int64)
    idx = minimum(sum(below, axis=1), n - 1)  # (nq, *R): searchsorted(cdf, q, 'left')
    out = take_along_axis(xs, idx, axis=0)
    if has_nan:
        out = where(isnan(last) if empty is None else empty, math.nan, out)
    return reshape(out, out_shape)


def _lerp(a, b, t):
    """NumPy's linear interpolation: ``a + (b - a) t``, from ``b``'s side when
    ``t >= 0.5``."""
    d = subtract(b, a)
    return where(greater_equal(t, 0.5), subtract(b, multiply(d, subtract(1.0, t))),
                 add(a, multiply(d, t)))


def quantile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
             keepdims=False, *, weights=None):
    """The ``q``-th quantiles (``q`` in [0, 1], a number or an array) along ``axis`` (None,
    an int or a tuple); the result has ``q``'s shape in front. ``method`` is any of NumPy's
    thirteen: 'linear' (default), 'lower', 'higher', 'nearest', 'midpoint', the discrete
    'inverted_cdf', 'averaged_inverted_cdf', 'closest_observation' and Hyndman & Fan's
    continuous 'interpolated_inverted_cdf', 'hazen', 'weibull', 'median_unbiased',
    'normal_unbiased'. ``weights`` (NumPy's: of ``a``'s shape or of the axes reduced,
    non-negative) only with 'inverted_cdf', as NumPy's (others: ValueError). NaN where a
    slice has a NaN. Differentiable in ``a`` (and in ``q`` for 'linear'). ``q`` outside
    [0, 1] is a ValueError when ``q`` has concrete values (under a transform it is not checked)."""
    _no_out("quantile", out)
    if weights is not None:
        _check_q("quantile", q, 1)
        w = _quantile_weights("quantile", a, weights, axis, method)
        return _weighted_quantile("quantile", _plain_next_to(a, weights)[0], q, w, axis,
                                  keepdims, False, 1)
    return _quantile_impl("quantile", a, q, axis, method, keepdims, False, 1)


def percentile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
               keepdims=False, *, weights=None):
    """The ``q``-th percentiles (``q`` in [0, 100]) along ``axis``: ``quantile(a, q / 100)``
    with the same methods and limits."""
    _no_out("percentile", out)
    if weights is not None:
        _check_q("percentile", q, 100)
        w = _quantile_weights("percentile", a, weights, axis, method)
        return _weighted_quantile("percentile", _plain_next_to(a, weights)[0], q, w, axis,
                                  keepdims, False, 100)
    return _quantile_impl("percentile", a, q, axis, method, keepdims, False, 100)


def nanquantile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
                keepdims=False, *, weights=None):
    """Quantiles of the non-NaN entries along ``axis`` (NaN for an all-NaN slice, without
    NumPy's warning); otherwise as :func:`quantile`."""
    _no_out("nanquantile", out)
    if weights is not None:
        _check_q("nanquantile", q, 1)
        w = _quantile_weights("nanquantile", a, weights, axis, method)
        return _weighted_quantile("nanquantile", _plain_next_to(a, weights)[0], q, w, axis,
                                  keepdims, True, 1)
    return _quantile_impl("nanquantile", a, q, axis, method, keepdims, True, 1)


def nanpercentile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
                  keepdims=False, *, weights=None):
    """Percentiles of the non-NaN entries along ``axis`` (see :func:`nanquantile`)."""
    _no_out("nanpercentile", out)
    if weights is not None:
        _check_q("nanpercentile", q, 100)
        w = _quantile_weights("nanpercentile", a, weights, axis, method)
        return _weighted_quantile("nanpercentile", _plain_next_to(a, weights)[0], q, w, axis,
                                  keepdims, True, 100)
    return _quantile_impl("nanpercentile", a, q, axis, method, keepdims, True, 100)

# -- comparisons -----------------------------------------------------------------------------


def isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Elementwise ``|a - b| <= atol + rtol * |b|`` (not symmetric in ``a`` and ``b``, as in
    NumPy); infinities are close only to themselves, NaNs only with ``equal_nan``. A boolean
    array (0-d for scalars)."""
    a, b = _array_like(a, b), _array_like(b, a)
    a, b = _plain_next_to(a, b)
    if not _is_inexact(b):
        b = _as_float(b)
    if not _is_inexact(a):
        a = _as_float(a)
    close = logical_and(less_equal(abs(subtract(a, b)), add(atol, multiply(rtol, abs(b)))),
                        isfinite(b))
    out = logical_or(close, equal(a, b))
    if equal_nan:
        out = logical_or(out, logical_and(isnan(a), isnan(b)))
    return out


def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Whether every element of ``a`` is close to ``b`` (see :func:`isclose`), as a Python
    bool (a 0-d boolean array of staged or batched values, as :func:`array_equal`)."""
    return _bool_if_concrete(all(isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)))


def array_equal(a1, a2, equal_nan=False):
    """Whether ``a1`` and ``a2`` have the same shape and elements, as a Python bool; of
    values being staged (``jit``) or batched (``vmap``), a 0-d boolean array, as in
    jax.numpy. ``equal_nan`` counts NaNs in the same places as equal."""
    a1, a2 = _plain_next_to(a1, a2)
    if _shape(a1) != _shape(a2):
        return False
    eq = equal(a1, a2)
    if equal_nan and (_is_inexact(a1) and _is_inexact(a2)):
        eq = logical_or(eq, logical_and(isnan(a1), isnan(a2)))
    return _bool_if_concrete(all(eq))


def _bool_if_concrete(r):
    if isinstance(r, Tracer) and not isinstance(r, ConstTracer):
        try:
            return builtins.bool(r)
        except (ConcretizationError, BatchingError):
            return r
    return builtins.bool(r)


def array_equiv(a1, a2):
    """Whether ``a1`` and ``a2`` broadcast to one shape and are equal there, as a Python
    bool (a 0-d boolean array of staged or batched values, as :func:`array_equal`)."""
    a1, a2 = _plain_next_to(a1, a2)
    try:
        shape = broadcast_shapes(_shape(a1), _shape(a2))
    except ShapeError:
        return False
    # (broadcast here: comparing across ranks is what array_equiv is for, no rank promotion
    # that jax_numpy_rank_promotion would refuse, as in JAX)
    return _bool_if_concrete(all(equal(broadcast_to(a1, shape), broadcast_to(a2, shape))))

# -- interpolation, polynomials, integration, convolution --------------------------------------


def interp(x, xp, fp, left=None, right=None, period=None):
    """One-dimensional piecewise linear interpolation of the points ``(xp, fp)`` (``xp``
    increasing) at ``x``; ``left``/``right`` (default ``fp[0]``/``fp[-1]``) outside. With
    ``period``, the coordinates are taken modulo it. The result is float64 (complex128 for
    complex ``fp``), as in NumPy. Differentiable in ``x``, ``xp`` and ``fp``."""
    x, xp, fp = _plain_next_to(x, xp, fp)
    if len(_shape(xp)) != 1 or len(_shape(fp)) != 1:
        raise ValueError("interp: xp and fp must be one-dimensional")
    if _shape(xp) != _shape(fp):
        raise ValueError("interp: fp and xp are not of the same length")
    if _shape(xp)[0] == 0:
        raise ValueError("interp: array of sample points is empty")
    if _dtype(fp).kind == "c":
        # the parts apart, as NumPy's (each with its own NaN fallback below: a complex
        # slope times x - x0 mixed an infinite part into the other, inf * 0)
        from ._elementwise import _from_parts
        re_, im_ = (interp(x, xp, part(fp), left=None if left is None else part(left),
                           right=None if right is None else part(right), period=period)
                    for part in (real, imag))
        both = _from_parts(re_, im_, _dt.complex128)
        if period is None and _shape(xp)[0] == 1:
            return both  # (a NaN x: fp[0], as NumPy's with one point and its real path's)
        xf = astype(x, _dt.float64)  # (a NaN x: NaN + 0j, as NumPy's)
        return where(isnan(xf), astype(xf, _dt.complex128), both)
    fd = _dt.float64
    x, xp, fp = astype(x, _dt.float64), astype(xp, _dt.float64), astype(fp, fd)
    if period is not None:
        if type(period) in _SCALARS and period == 0:
            raise ValueError("interp: period must be a non-zero value")
        period = builtins.abs(period) if type(period) in _SCALARS else abs(period)
        left = right = None
        x = remainder(x, period)
        xp = remainder(xp, period)
        order = argsort(xp)
        xp, fp = take(xp, order), take(fp, order)
        m = _shape(xp)[0]
        xp = concat([subtract(_sl(xp, m - 1, m), period), xp, add(_sl(xp, 0, 1), period)])
        fp = concat([_sl(fp, m - 1, m), fp, _sl(fp, 0, 1)])
    m = _shape(xp)[0]
    first, last = _at(fp, 0), _at(fp, m - 1)
    lval = first if left is None else left
    rval = last if right is None else right
    x_lo, x_hi = _at(xp, 0), _at(xp, m - 1)
    if m == 1:  # NumPy: a NaN x gives fp[0] here
        out = where(less(x, x_lo), lval, where(greater(x, x_lo), rval, first))
        return astype(out, _dtype(first)) if _dtype(out) is not _dtype(first) else out
    else:
        j = subtract(searchsorted(xp, x, side="right"), 1)
        jc = minimum(maximum(j, 0), m - 2)
        x0, x1 = take(xp, jc), take(xp, add(jc, 1))
        y0, y1 = take(fp, jc), take(fp, add(jc, 1))
        slope = divide(subtract(y1, y0), subtract(x1, x0))
        # At a knot the value is y0 (NumPy's, even where the slope is not finite), but it
        # still goes through the line so that the derivative in x is the slope to the right
        # (as JAX's) rather than 0 (and the knot's derivatives reach x0, x1 and y1 too).
        at_knot = logical_and(equal(x0, x), logical_not(isfinite(slope)))
        line = add(multiply(slope, subtract(x, x0)), y0)
        # NaN from the left end (an infinite slope from an infinite fp: inf - inf) is tried
        # from the right end, and where that is NaN too between equal values, is that value,
        # as NumPy's (interp(1.5, [0, 1, 2], [1, inf, 2]) was nan, NumPy's inf)
        from_right = add(multiply(slope, subtract(x, x1)), y1)
        from_right = where(logical_and(isnan(from_right), equal(y0, y1)), y0, from_right)
        out = where(at_knot, y0, where(isnan(line), from_right, line))
        # at the last knot (exactly ``last``) the line of the last segment, for its slope
        end = where(isfinite(slope), add(last, multiply(slope, subtract(x, x1))), last)
        out = where(equal(j, m - 1), end, out)
    out = where(less(x, x_lo), lval, out)
    out = where(greater(x, x_hi), rval, out)
    return where(isnan(x), astype(x, _dtype(out)), out)


def polyval(p, x, *, unroll=16):
    """The polynomial with coefficients ``p`` (highest power first, NumPy's old
    ``polyval``) at ``x``, by Horner's rule (``p`` may be a NumPy ``poly1d``: its
    coefficients). Differentiable in ``p`` and ``x``. jax.numpy's ``unroll`` (a hint to its
    compiler) is accepted and changes nothing."""
    operator.index(unroll)
    p = _poly1d_coeffs(p)
    if isinstance(p, (list, tuple)):
        coeffs = [c if type(c) in _SCALARS else _as_operand(c) for c in p]
    else:
        p = _as_operand(p)
        if len(_shape(p)) != 1:
            raise ValueError("polyval: p must be one-dimensional")
        coeffs = [_at(p, i) for i in range(_shape(p)[0])]
    x = _plain_next_to(x, *(c for c in coeffs if type(c) not in _SCALARS))[0]
    y = multiply(x, 0)
    for c in coeffs:
        y = add(multiply(y, x), c)
    return y


def _poly1d_coeffs(p):
    """NumPy's ``poly1d`` as its coefficient array (as NumPy's ``asarray`` takes it)."""
    import numpy as _np
    return p.coeffs if isinstance(p, _np.poly1d) else p


def trapezoid(y, x=None, dx=1.0, axis=-1):
    """Integral of ``y`` along ``axis`` by the trapezoidal rule, with sample points ``x``
    (1-d along ``axis``, or ``y``'s shape) or spacing ``dx``. Linear in ``y``;
    differentiable in ``x``."""
    y, x = _plain_next_to(y, x) if x is not None else (_operand(y), None)
    nd = len(_shape(y))
    given_axis = operator.index(axis)
    axis = _normalize_axis(axis, nd)
    if x is None:
        d = dx
    else:
        if len(_shape(x)) == 1:
            d = diff(x)
            shape = [1] * nd
            shape[axis] = _shape(d)[0]
            d = reshape(d, tuple(shape))
        else:
            # (axis as given, for x's own axes, and for the sum below, as NumPy's: an x of
            # more axes than y broadcasts with y's slices; y (3,) beside x (2, 3) was a
            # ShapeError, x differenced along its axis 0)
            d = diff(x, axis=given_axis)
    n = _shape(y)[axis]
    hi = tuple(slice(1, None) if i == axis else slice(None) for i in range(nd))
    lo = tuple(slice(None, -1) if i == axis else slice(None) for i in range(nd))
    if n == 0:
        hi = lo = tuple(slice(0, 0) if i == axis else slice(None) for i in range(nd))
    y = _as_operand(y)
    terms = divide(multiply(d, add(y[hi], y[lo])), 2.0)
    return sum(terms, axis=given_axis if len(_shape(terms)) > nd else axis)


def _correlate_core(x, y, mode):
    """``sum_j xpad[k + j] * y[j]`` for ``len(x) >= len(y)``, with NumPy's mode slicing.

    The rows whose windows lie inside ``x`` are one product of the windows with ``y``; the
    ``m - 1`` rows at either end, which overlap the zero padding, sum only the products that
    exist (as NumPy's do): a padding zero times an infinite ``y[j]`` would be a NaN."""
    n, m = _shape(x)[0], _shape(y)[0]

    def windows(first_row, rows):
        k = reshape(_st.iota(x, rows), (rows, 1))
        j = reshape(_st.iota(x, m), (1, m))
        return add(add(k, j), first_row)  # positions in x padded by m - 1 on either side

    inner = windows(0, n - m + 1)
    valid = matmul(take(x, inner, axis=0), y)
    if mode == "valid" or m == 1:
        return valid
    pad = _st.broadcast_to(_like(x, 0), (m - 1,))
    xpad = concat([pad, x, pad])
    idx = concat([windows(0, m - 1), windows(n, m - 1)], axis=0)  # the first and last rows
    inside = logical_and(greater_equal(idx, m - 1), less(idx, n + m - 1))
    # (in x's dtype: sum's own rule widens small integers, which NumPy's convolve keeps)
    ends = sum(where(inside, multiply(take(xpad, idx, axis=0), y), _like(x, 0)), axis=1,
               dtype=_dtype(valid))
    full = concat([_along(ends, 0, 0, m - 1), valid, _along(ends, 0, m - 1, None)])
    if mode == "full":
        return full
    start = (m - 1) - m // 2
    return _along(full, 0, start, start + n)


def _conv_args(name, a, v, mode):
    if mode not in ("full", "same", "valid"):
        raise ValueError(f"{name}: mode must be 'full', 'same' or 'valid'; got {mode!r}")
    a, v = _plain_next_to(a, v)
    if len(_shape(a)) != 1 or len(_shape(v)) != 1:
        raise ValueError(f"{name}: a and v must be one-dimensional (got shapes "
                         f"{_shape(a)} and {_shape(v)})")
    if _shape(a)[0] == 0:
        raise ValueError(f"{name}: a cannot be empty")
    if _shape(v)[0] == 0:
        raise ValueError(f"{name}: v cannot be empty")
    from ._base import _promote_arrays
    (a, v), _ = _promote_arrays([a, v])
    return a, v


def convolve(a, v, mode="full", *, precision=None, preferred_element_type=None):
    """Discrete linear convolution of two 1-d arrays (``mode`` 'full', 'same' or 'valid',
    as in NumPy). Differentiable in both. jax.numpy's ``precision`` (no effect) and
    ``preferred_element_type`` (the result's dtype, computed in it where that loses
    nothing) are accepted."""
    from ._products import _jax_options, _to_preferred
    (a, v), convert_to = _jax_options("convolve", [a, v], precision, preferred_element_type)
    if convert_to is not None:
        return _to_preferred(convolve(a, v, mode), convert_to)
    a, v = _conv_args("convolve", a, v, mode)
    if _dtype(a).kind == "b":
        return _bool_result(convolve, a, v, mode)
    if _shape(v)[0] > _shape(a)[0]:
        a, v = v, a
    return _correlate_core(a, flip(v), mode)


def _bool_result(fn, a, v, mode):
    """NumPy's boolean convolution (any of the products is True), computed on integers:
    not every library multiplies boolean matrices."""
    a, v = (_st.convert_element_type(t, _dt.int64) for t in (a, v))
    return greater(fn(a, v, mode), 0)


def correlate(a, v, mode="valid", *, precision=None, preferred_element_type=None):
    """Cross-correlation of two 1-d arrays, ``c[k] = sum_n a[n + k] * conj(v[n])`` (``mode``
    'valid' by default, 'same' or 'full', as in NumPy). Differentiable in both. jax.numpy's
    ``precision`` and ``preferred_element_type`` as in :func:`convolve`."""
    from ._products import _jax_options, _to_preferred
    (a, v), convert_to = _jax_options("correlate", [a, v], precision, preferred_element_type)
    if convert_to is not None:
        return _to_preferred(correlate(a, v, mode), convert_to)
    a, v = _conv_args("correlate", a, v, mode)
    if _dtype(a).kind == "b":
        return _bool_result(correlate, a, v, mode)
    if _dtype(v).kind == "c":
        v = conj(v)
    if _shape(v)[0] > _shape(a)[0]:
        return flip(_correlate_core(v, a, mode))
    return _correlate_core(a, v, mode)


# -- differences -------------------------------------------------------------------------------


def _along(x, axis, start, stop):
    """``x[..., start:stop, ...]`` with the slice on ``axis`` (static bounds, ``stop`` may be
    negative or None)."""
    n = _shape(x)[axis]
    start, stop, _ = slice(start, stop).indices(n)
    sl = [(0, d, 1) for d in _shape(x)]
    sl[axis] = (start, builtins.max(start, stop), 1)
    return _st.slice_(x, tuple(sl))


def _on_axis(v, axis, nd):
    """A 1-d array ``v`` shaped to broadcast along ``axis`` of an ``nd``-d array."""
    shape = [1] * nd
    shape[axis] = _shape(v)[0]
    return _st.reshape(v, tuple(shape))


def _spacing_list(name, varargs, f, axes):
    """NumPy's reading of ``gradient``'s spacings: one entry per axis in ``axes``, each a
    scalar (Python number or 0-d array) or a 1-d coordinate array of the axis' length
    (lists are made next to ``f``)."""
    f_shape = _shape(f)
    n = len(varargs)
    if n == 0:
        return [1.0] * len(axes)
    if n == 1 and _ndim_of(varargs[0]) == 0:
        return [varargs[0]] * len(axes)
    if n != len(axes):
        raise TypeError(f"{name}: invalid number of arguments (one spacing for all axes, or "
                        f"one per axis: {len(axes)}; got {n})")
    out = []
    for d, ax in zip(varargs, axes):
        nd = _ndim_of(d)
        if nd == 0:
            out.append(d)
            continue
        if nd != 1:
            raise ValueError(f"{name}: distances must be either scalars or 1d")
        d = _plain_next_to(d, f)[0]
        if _shape(d)[0] != f_shape[ax]:
            raise ValueError(f"{name}: when 1d, distances must match the length of the "
                             f"corresponding dimension (axis {ax}: {f_shape[ax]}, got "
                             f"{_shape(d)[0]})")
        out.append(d)
    return out


def _ndim_of(v):
    if type(v) in _SCALARS:
        return 0
    if isinstance(v, (list, tuple)):
        return 1 + (_ndim_of(v[0]) if len(v) else 0)
    return len(_shape(v))


def gradient(f, *varargs, axis=None, edge_order=1):
    """The gradient of the sampled function ``f`` along each axis in ``axis`` (all by
    default), by second-order central differences inside and one-sided differences of order
    ``edge_order`` (1 or 2) at the ends. ``varargs`` gives the spacing: nothing (1), one
    scalar for every axis, or one entry per axis, each a scalar or the 1-d coordinates along
    that axis. One array for a single axis, else a tuple of arrays (one per axis).
    Differentiable in ``f`` and in the spacings.

    Difference from NumPy: coordinates are always treated as possibly non-uniform (NumPy
    switches to the uniform formulas when it finds them evenly spaced, which needs their
    values); the results agree up to rounding."""
    if edge_order not in (1, 2):
        if edge_order > 2:
            raise ValueError("gradient: 'edge_order' greater than 2 not supported")
        raise ValueError(f"gradient: edge_order must be 1 or 2; got {edge_order!r}")
    f = _operand(f)
    shape = _shape(f)
    nd = len(shape)
    if axis is None:
        axes = tuple(range(nd))
    else:
        raw = (axis,) if hasattr(axis, "__index__") else tuple(axis)
        axes = tuple(_normalize_axis(int(a), nd) for a in raw)
        if len(set(axes)) != len(axes):
            raise ValueError(f"gradient: repeated axis in {axis}")
    spacings = _spacing_list("gradient", varargs, f, axes)
    if _dtype(f).kind == "b":
        raise TypeError("gradient: boolean input is not supported (NumPy's subtraction of "
                        "booleans fails too)")
    if not _is_inexact(f):
        f = _st.convert_element_type(f, _dt.float64)
    dt = _dtype(f)
    outs = []
    for ax, d in zip(axes, spacings):
        if shape[ax] < edge_order + 1:
            raise ValueError(f"gradient: Shape of array too small to calculate a numerical "
                             f"gradient, at least (edge_order + 1) = {edge_order + 1} "
                             f"elements are required (axis {ax} has {shape[ax]})")
        out = _gradient_axis(f, ax, d, edge_order, nd)
        outs.append(out if _dtype(out) is dt else astype(out, dt))
    return outs[0] if len(outs) == 1 else tuple(outs)


def _gradient_axis(f, ax, d, edge_order, nd):
    def sl(a, b):
        return _along(f, ax, a, b)
    uniform = type(d) in _SCALARS or len(_shape(d)) == 0
    if uniform:
        if type(d) not in _SCALARS and not _is_inexact(d):
            d = _as_float(d)

        def over(c):  # c / d: Python arithmetic for a Python spacing
            return c / d if type(d) in _SCALARS else divide(c, d)
        inner = divide(subtract(sl(2, None), sl(None, -2)),
                       2.0 * d if type(d) in _SCALARS else multiply(2.0, d))
        if edge_order == 1:
            first = divide(subtract(sl(1, 2), sl(0, 1)), d)
            last = divide(subtract(sl(-1, None), sl(-2, -1)), d)
        else:
            a, b, c = over(-1.5), over(2.0), over(-0.5)
            first = add(add(multiply(a, sl(0, 1)), multiply(b, sl(1, 2))),
                        multiply(c, sl(2, 3)))
            a, b, c = over(0.5), over(-2.0), over(1.5)
            last = add(add(multiply(a, sl(-3, -2)), multiply(b, sl(-2, -1))),
                       multiply(c, sl(-1, None)))
    else:
        h = diff(_as_float(d))
        h1, h2 = _sl(h, 0, _shape(h)[0] - 1), _sl(h, 1, _shape(h)[0])
        s = add(h1, h2)
        a = _on_axis(divide(negative(h2), multiply(h1, s)), ax, nd)
        b = _on_axis(divide(subtract(h2, h1), multiply(h1, h2)), ax, nd)
        c = _on_axis(divide(h1, multiply(h2, s)), ax, nd)
        inner = add(add(multiply(a, sl(None, -2)), multiply(b, sl(1, -1))),
                    multiply(c, sl(2, None)))
        m = _shape(h)[0]
        if edge_order == 1:
            first = divide(subtract(sl(1, 2), sl(0, 1)), _on_axis(_sl(h, 0, 1), ax, nd))
            last = divide(subtract(sl(-1, None), sl(-2, -1)),
                          _on_axis(_sl(h, m - 1, m), ax, nd))
        else:
            d1, d2 = _at(h, 0), _at(h, 1)
            s = add(d1, d2)
            a = negative(divide(add(multiply(2.0, d1), d2), multiply(d1, s)))
            b = divide(s, multiply(d1, d2))
            c = negative(divide(d1, multiply(d2, s)))
            first = add(add(multiply(a, sl(0, 1)), multiply(b, sl(1, 2))),
                        multiply(c, sl(2, 3)))
            d1, d2 = _at(h, m - 2), _at(h, m - 1)
            s = add(d1, d2)
            a = divide(d2, multiply(d1, s))
            b = negative(divide(s, multiply(d1, d2)))
            c = divide(add(multiply(2.0, d2), d1), multiply(d2, s))
            last = add(add(multiply(a, sl(-3, -2)), multiply(b, sl(-2, -1))),
                       multiply(c, sl(-1, None)))
    return concat([first, inner, last], axis=ax)


def ediff1d(ary, to_end=None, to_begin=None):
    """The differences between consecutive elements of the flattened ``ary``, with
    ``to_begin`` and ``to_end`` (numbers or arrays, flattened) joined before and after. The
    result has ``ary``'s dtype; the extra values must cast to it under NumPy's 'same_kind'
    rule (else TypeError). Differentiable in all three."""
    import numpy as _np
    ary = _operand(ary)
    dt = _dtype(ary)
    if dt.kind == "b":
        raise TypeError("ediff1d: boolean input is not supported (NumPy's subtraction of "
                        "booleans fails too)")
    n = math.prod(_shape(ary))
    flat = _st.reshape(ary, (n,))
    parts = [subtract(_sl(flat, 1, n), _sl(flat, 0, n - 1)) if n > 1 else _sl(flat, 0, 0)]
    for name, extra, front in (("to_begin", to_begin, True), ("to_end", to_end, False)):
        if extra is None:
            continue
        e = _plain_next_to(extra, ary)[0]
        if not _np.can_cast(_np.dtype(_dtype(e).name), _np.dtype(dt.name), "same_kind"):
            raise TypeError(f"ediff1d: dtype of `{name}` must be compatible with input `ary` "
                            f"under the `same_kind` rule.")
        e = _st.reshape(astype(e, dt), (math.prod(_shape(e)),))
        parts.insert(0, e) if front else parts.append(e)
    parts = [p for p in parts if _shape(p)[0]] or parts[:1]
    return parts[0] if len(parts) == 1 else concat(parts)

# -- sets --------------------------------------------------------------------------------------


def unique(ar, return_index=False, return_inverse=False, return_counts=False, axis=None, *,
           equal_nan=True, sorted=True, size=None, fill_value=None):
    """The sorted unique values of the flattened ``ar``, or with ``axis`` its unique slices
    along that axis (sorted lexicographically, as NumPy compares them: element by element,
    NaN after every number); with ``return_index``, ``return_inverse`` or
    ``return_counts`` a tuple that adds, in this order, the index of each value's (slice's)
    first occurrence, for each element (slice) of ``ar`` the index of its value (of
    ``ar``'s shape without ``axis``, 1-d with it) and how often each occurs (all int64).
    With ``equal_nan`` (the default) every NaN counts as one value, as in NumPy; else each
    NaN is its own. As in NumPy, ``equal_nan`` has no effect on slices (``axis`` of an
    array of 2 or more dimensions): a slice holding a NaN is unlike every other, and 0.0
    equals -0.0. ``sorted=False`` is accepted and still returns sorted values (NumPy allows
    either).

    The result's shape depends on the values: it needs concrete values (plain arrays and the
    eager transforms ``grad``, ``jvp``, ``vjp``; under ``jit`` a ConcretizationError, under
    ``vmap`` a BatchingError). The derivative of the values is that of each value's (slice's)
    first occurrence.

    ``size`` (``jax.numpy.unique``'s keyword): exactly ``size`` values, the first ``size``
    unique ones followed by ``fill_value`` (by default the smallest value, with its
    derivative); the index of a filler is that of the smallest value, its count 0. The
    shape is then known beforehand, so it works under ``jit`` and ``vmap``. With ``axis``
    on an array of 2 or more dimensions, the fillers are the smallest slice (or slices of
    ``fill_value``), and ``equal_nan`` makes slices alike where they differ only by NaNs in
    the same places, as in jax.numpy (without ``size`` NumPy's rule holds: never)."""
    from ._searching import unique_all
    ar = _operand(ar)
    shape = _shape(ar)
    if size is not None:
        return _unique_sized(ar, size, fill_value, return_index, return_inverse,
                             return_counts, axis, equal_nan)
    if fill_value is not None:
        raise TypeError("unique: fill_value= needs size=")
    if axis is not None:
        ax = _normalize_axis(operator.index(axis), len(shape))
        if len(shape) > 1:
            return _unique_slices(ar, ax, return_index, return_inverse, return_counts)
    x = _st.reshape(ar, (math.prod(shape),))
    r = unique_all(x)
    values, index, inverse, counts = r.values, r.indices, r.inverse_indices, r.counts
    m = _shape(values)[0]
    if equal_nan and _is_inexact(values) and m:
        k = builtins.int(_count_true(isnan(values)))
        if k > 1:  # NaNs sort last: merged into one, the first of ``ar`` (as NumPy 2.4's
            j = m - k  # unique of the values alone keeps; its index that occurrence's)
            first = reshape(min(_sl(index, j, m)), (1,))
            values = concat([_sl(values, 0, j), take(x, first)])
            index = concat([_sl(index, 0, j), first])
            inverse = minimum(inverse, j)
            counts = concat([_sl(counts, 0, j), reshape(sum(_sl(counts, j, m)), (1,))])
    out = [values]
    if return_index:
        out.append(astype(index, _dt.int64))
    if return_inverse:
        out.append(_st.reshape(astype(inverse, _dt.int64), shape))
    if return_counts:
        out.append(astype(counts, _dt.int64))
    return out[0] if len(out) == 1 else tuple(out)


def _unique_sized(ar, size, fill_value, return_index, return_inverse, return_counts, axis,
                  equal_nan):
    """unique(..., size=size) from a stable sort: a group starts where a sorted value differs
    from the one before it; the first ``size`` starts (``nonzero(size=)``) give the values,
    their first occurrences and, from the next start, the counts."""
    from ._searching import nonzero
    shape = _shape(ar)
    size = operator.index(size)
    if size < 1:
        raise ValueError(f"unique: size must be a positive integer; got {size}")
    if axis is not None and len(shape) > 1:
        ax = _normalize_axis(operator.index(axis), len(shape))
        return _unique_slices_sized(ar, ax, size, fill_value, return_index, return_inverse,
                                    return_counts, equal_nan)
    n = math.prod(shape)
    if n == 0:
        raise ValueError("unique: size= needs a non-empty array (there is no smallest value "
                         "to fill with)")
    x = _st.reshape(ar, (n,))
    perm = argsort(x, stable=True)
    s = take(x, perm)
    starts = _st.full_like(s[:1], True, dtype=_dt.bool_)
    if n > 1:
        new = not_equal(s[1:], s[:-1])
        if equal_nan and _is_inexact(s):
            new = logical_and(new, logical_not(logical_and(isnan(s[1:]), isnan(s[:-1]))))
        starts = concat([starts, new])
    pos = nonzero(starts, size=size + 1, fill_value=n)[0]
    first = pos[:size]
    kept = less(first, n)
    first = where(kept, first, 0)
    index = take(perm, first)
    if equal_nan and _is_inexact(s):
        # the NaNs' group (complex NaNs differ): its first element of ``ar``, as without size
        nan_at = where(isnan(x), _st.iota(x, n, _dt.int64), n)
        index = where(logical_and(kept, isnan(take(x, index))), min(nan_at), index)
    values = take(x, index)
    if fill_value is not None:
        values = where(kept, values, _initial_value(values, fill_value, "fill_value"))
    out = [values]
    if return_index:
        out.append(astype(index, _dt.int64))
    if return_inverse:
        group = cumulative_sum(astype(starts, _dt.int64)) - 1
        inverse = take(group, argsort(perm, stable=True))
        out.append(_st.reshape(astype(inverse, _dt.int64), shape))
    if return_counts:
        out.append(astype(where(kept, pos[1:] - first, 0), _dt.int64))
    return out[0] if len(out) == 1 else tuple(out)


def _unique_slices_sized(ar, axis, size, fill_value, return_index, return_inverse,
                         return_counts, equal_nan):
    """unique(ar, axis=axis, size=size) for an array of 2 or more dimensions, as
    jax.numpy's: the slices sorted lexicographically (stably), a group starting wherever a
    slice differs from the one before it (NaNs alike with ``equal_nan``), the first ``size``
    starts found by ``nonzero(size=)``; fillers are the smallest slice (or ``fill_value``),
    their index the smallest slice's and their count 0. No shape depends on the values."""
    from ._searching import nonzero
    shape = _shape(ar)
    n = shape[axis]
    rest = shape[:axis] + shape[axis + 1:]
    k = math.prod(rest)
    front = _st.transpose(ar, (axis,) + tuple(i for i in range(len(shape)) if i != axis))
    if n == 0:
        if fill_value is None:
            raise ValueError("unique: size= needs a non-empty axis, or fill_value= (there is "
                             "no smallest slice to fill with)")
        fill = _initial_value(ar, fill_value, "fill_value")
        values = _st.broadcast_to(fill, (size,) + rest)
        zeros = _st.full_like(_st.iota(ar, size, _dt.int64), 0)
        first, inverse, counts = zeros, _st.iota(ar, 0, _dt.int64), zeros
    else:
        rows = _st.reshape(front, (n, k))
        plain, order = _slice_order(rows, n, k)
        head = _st.full_like(_st.iota(rows, 1, _dt.int64), True, dtype=_dt.bool_)
        if n > 1 and k:
            srt = take(plain, order, axis=0)
            a = _st.slice_(srt, ((1, n, 1), (0, k, 1)))
            b = _st.slice_(srt, ((0, n - 1, 1), (0, k, 1)))
            differ = not_equal(a, b)
            if equal_nan and _is_inexact(plain):  # (jax.numpy's rule; NumPy's ignores it)
                differ = logical_and(differ, logical_not(logical_and(isnan(a), isnan(b))))
            new = concat([head, any(differ, axis=1)])
        else:  # one slice, or slices without elements (all alike)
            new = concat([head, _st.full_like(_st.iota(rows, n - 1, _dt.int64), False,
                                              dtype=_dt.bool_)])
        pos = nonzero(new, size=size + 1, fill_value=n)[0]
        first = pos[:size]
        kept = less(first, n)
        counts = where(kept, pos[1:] - first, 0)
        first = take(order, where(kept, first, 0))
        group = subtract(cumulative_sum(astype(new, _dt.int64)), 1)
        inverse = take(group, argsort(order, stable=True))
        values = take(front, astype(first, _dt.int64), axis=0)
        if fill_value is not None:
            kept = _st.reshape(kept, (size,) + (1,) * len(rest))
            values = where(kept, values, _initial_value(values, fill_value, "fill_value"))
    return _slices_result(values, axis, first, inverse, counts, return_index,
                          return_inverse, return_counts)


def _unique_slices(ar, axis, return_index, return_inverse, return_counts):
    """unique(ar, axis=axis) for an array of 2 or more dimensions: the slices sorted
    lexicographically (stable, so each group starts at its first occurrence), a new group
    wherever a slice differs from the one before it."""
    from ._searching import nonzero
    shape = _shape(ar)
    n = shape[axis]
    rest = shape[:axis] + shape[axis + 1:]
    k = math.prod(rest)
    front = _st.transpose(ar, (axis,) + tuple(i for i in range(len(shape)) if i != axis))
    rows = _st.reshape(front, (n, k))
    if n == 0 or k == 0:
        # no slices, or slices without elements (all alike: one group)
        u = builtins.min(n, 1)
        first = _st.iota(rows, u, _dt.int64)
        inverse = _st.full_like(_st.iota(rows, n, _dt.int64), 0)
        counts = _st.full_like(first, n)
    else:
        plain, order = _slice_order(rows, n, k)
        srt = take(plain, order, axis=0)
        changed = any(not_equal(_st.slice_(srt, ((1, n, 1), (0, k, 1))),
                                _st.slice_(srt, ((0, n - 1, 1), (0, k, 1)))), axis=1)
        head = _st.full_like(_st.iota(changed, 1, _dt.int64), True, dtype=_dt.bool_)
        new = concat([head, changed])
        starts = nonzero(new)[0]
        first = take(order, starts)
        group = subtract(cumulative_sum(astype(new, _dt.int64)), 1)
        inverse = take(group, argsort(order))
        ends = concat([_sl(starts, 1, _shape(starts)[0]), _st.reshape(_like(starts, n), (1,))])
        counts = subtract(ends, starts)
        u = _shape(first)[0]
    values = take(front, astype(first, _dt.int64), axis=0)
    return _slices_result(values, axis, first, inverse, counts, return_index,
                          return_inverse, return_counts)


def _slice_order(rows, n, k):
    """``(plain, order)`` for the ``n`` slices of ``k`` elements in ``rows``: the slices
    (bools as int8) and their stable lexicographic order, the first element the primary key
    (complex: real part first). (Not through stop_gradient: the grouping carries no
    derivative either way, and under jet the sort and the comparisons must see the curves,
    so that slices tied at t = 0 that part right after it group as they do for t > 0.)"""
    from ._selection import lexsort
    plain = rows
    if _dtype(plain).kind == "b":
        plain = astype(plain, _dt.int8)
    cols = [_st.reshape(_st.slice_(plain, ((0, n, 1), (j, j + 1, 1))), (n,)) for j in range(k)]
    if _dtype(plain).kind == "c":
        cols = [part for c in cols for part in (real(c), imag(c))]
    order = lexsort(cols[::-1]) if cols else _st.iota(rows, n, _dt.int64)
    return plain, order


def _slices_result(values, axis, first, inverse, counts, return_index, return_inverse,
                   return_counts):
    """unique's result along ``axis`` from the unique slices stacked first (``values``) and
    the slices' first positions, inverse and counts, as the flags ask."""
    nd = len(_shape(values))
    values = _st.transpose(values, tuple(range(1, axis + 1)) + (0,) + tuple(range(axis + 1, nd)))
    out = [values]
    if return_index:
        out.append(astype(first, _dt.int64))
    if return_inverse:
        out.append(astype(inverse, _dt.int64))
    if return_counts:
        out.append(astype(counts, _dt.int64))
    return out[0] if len(out) == 1 else tuple(out)


def _count_true(mask):
    from ._searching import count_nonzero
    return count_nonzero(mask)

# -- polynomial fitting ------------------------------------------------------------------------


def vander(x, N=None, increasing=False):
    """The Vandermonde matrix of the 1-d ``x``: columns ``x**(N-1), ..., x, 1`` (``N``
    defaults to ``len(x)``), or the reverse with ``increasing``. The powers are repeated
    products, as in NumPy, in the dtype ``x``'s promotes to with int64 (int64 for integers
    and booleans, float64 for float32, as NumPy gives). Differentiable in ``x``."""
    x = _operand(x)
    if len(_shape(x)) != 1:
        raise ValueError("vander: x must be a one-dimensional array or sequence.")
    n = _shape(x)[0]
    cols = n if N is None else operator.index(N)
    if cols < 0:
        raise ValueError("vander: negative dimensions are not allowed")
    import numpy as _np  # NumPy's promotion rule for the dtype, on dtype names only
    x = astype(x, _dt.as_dtype(_np.promote_types(_np.dtype(_dtype(x).name), _np.int64).name))
    ones = _st.broadcast_to(_like(x, 1), (n, 1))
    if cols == 0:  # an empty slice of x itself (so a traced x gives a traced result)
        out = _st.slice_(_st.reshape(x, (n, 1)), ((0, n, 1), (0, 0, 1)))
    elif cols == 1:
        out = ones
    else:
        powers = cumulative_prod(_st.broadcast_to(_st.reshape(x, (n, 1)), (n, cols - 1)),
                                 axis=1)
        out = concat([ones, powers], axis=1)
    return out if increasing else flip(out, axis=1)


def polyfit(x, y, deg, rcond=None, full=False, w=None, cov=False):
    """The least-squares polynomial of degree ``deg`` through the points ``(x, y)``: its
    coefficients, highest power first (one column per column of a 2-d ``y``). The columns
    of the Vandermonde matrix are scaled to unit norm before :func:`linalg.lstsq`, as in
    NumPy; ``w`` weights the residuals (``w[i] * (y[i] - p(x[i]))``), ``rcond`` defaults to
    ``len(x)`` times the machine precision of ``x``'s float dtype (float32's for float32
    ``x``, as in NumPy). With ``full``, returns ``(coefficients, residuals, rank,
    singular_values, rcond)``. Differentiable in ``x``, ``y`` and ``w``.

    With ``cov`` (and not ``full``), returns ``(coefficients, covariance)``: the
    coefficients' covariance matrix, NumPy's ``inv(A.T A)`` of the (weighted) Vandermonde
    matrix ``A`` times the residual sum of squares over ``len(x) - deg - 1``
    (``cov='unscaled'``: not scaled), with a trailing axis per column of a 2-d ``y`` (of
    length 1 unscaled, as NumPy's).

    Differences from NumPy: no RankWarning is issued for a poorly conditioned fit; the
    covariance of a rank-deficient fit is scaled by the residuals all the same (NumPy's
    has none to scale by and gives an empty array). With ``full``, NumPy's residuals
    are there only where the rank is full (and ``len(x) > deg + 1``), so their shape depends
    on the rank's value: where it is not a value (under ``jit`` or ``vmap`` of a traced
    ``x`` or ``w``) they are ``jax.numpy``'s instead, the squared residual norms whatever the
    rank (shape ``(1,)``, or ``(K,)`` for a 2-d ``y``; NumPy's where the rank is full). The
    rank, singular values and ``rcond`` are arrays and a float under every transform."""
    from .linalg import _lstsq
    order = builtins.int(deg) + 1  # NumPy's int(deg): 2.0 is degree 2
    if order < 1:
        raise ValueError("polyfit: expected deg >= 0")
    x, y = _plain_next_to(x, y)
    x, y = _as_float(x), _as_float(y)
    if len(_shape(x)) != 1:
        raise TypeError("polyfit: expected 1D vector for x")
    if _shape(x)[0] == 0:
        raise TypeError("polyfit: expected non-empty vector for x")
    if len(_shape(y)) not in (1, 2):
        raise TypeError("polyfit: expected 1D or 2D array for y")
    m = _shape(x)[0]
    if _shape(y)[0] != m:
        raise TypeError("polyfit: expected x and y to have same length")
    if rcond is None:
        rcond = m * float(finfo(_dtype(x)).eps)
    lhs = vander(x, order)
    rhs = y
    if w is not None:
        w = _as_float(_plain_next_to(w, x)[0])
        if len(_shape(w)) != 1:
            raise TypeError("polyfit: expected a 1-d array for weights")
        if _shape(w)[0] != m:
            raise TypeError("polyfit: expected w and y to have the same length")
        lhs = multiply(lhs, _st.reshape(w, (m, 1)))
        ydt = _dtype(rhs)  # NumPy weights y in place: the product keeps y's dtype
        rhs = multiply(rhs, w if len(_shape(rhs)) == 1 else _st.reshape(w, (m, 1)))
        rhs = rhs if _dtype(rhs) is ydt else astype(rhs, ydt)
    scale = sqrt(sum(multiply(lhs, lhs), axis=0))
    lhs = divide(lhs, scale)
    c, resids, rank, s = _lstsq(lhs, rhs, rcond, "where known" if full else False)
    scaled_c = c
    c = divide(c, scale if len(_shape(c)) == 1 else _st.reshape(scale, (order, 1)))
    if full:
        return c, resids, rank, s, rcond
    if cov:
        return c, _polyfit_cov(lhs, rhs, scaled_c, scale, cov, m, order)
    return c


def _polyfit_cov(lhs, rhs, scaled_c, scale, cov, m, order):
    """polyfit's covariance of the coefficients (``lhs``: the weighted Vandermonde matrix
    with unit-norm columns, ``scaled_c`` the solution for it)."""
    from .linalg import inv
    base = divide(inv(matmul(_st.transpose(lhs, (1, 0)), lhs)),
                  multiply(_st.reshape(scale, (order, 1)), _st.reshape(scale, (1, order))))
    if builtins.isinstance(cov, str) and cov == "unscaled":  # (2-d y: NumPy's (k, k, 1))
        return base if len(_shape(rhs)) == 1 else _st.reshape(base, (order, order, 1))
    if m <= order:
        raise ValueError("polyfit: the number of data points must exceed deg + 1 to scale "
                         "the covariance matrix (or pass cov='unscaled')")
    fit = matmul(lhs, scaled_c)
    resid = subtract(rhs, fit)
    fac = divide(sum(multiply(resid, conj(resid) if _dtype(resid).kind == "c" else resid),
                     axis=0), m - order)
    if len(_shape(rhs)) == 1:
        return multiply(base, fac)
    return multiply(_st.reshape(base, (order, order, 1)), fac)

# -- covariance, correlation, phase (functrans/numpy/_mathematics.py, stats3) ------------------


def _rows2d(v, rowvar, dtype, which):
    """``v`` as a 2-d array of variables by rows (NumPy's ``ndmin=2`` and ``rowvar``: ``m``
    is transposed unless it is 1-d, ``y`` unless it has one row)."""
    nd = len(_shape(v))
    if nd > 2:
        raise ValueError(f"cov: {which} has more than 2 dimensions")
    if nd < 2:
        v = _st.reshape(v, (1,) * (2 - nd) + _shape(v))
    v = astype(v, dtype)
    if not rowvar and (nd != 1 if which == "m" else _shape(v)[0] != 1):
        v = _st.transpose(v, (1, 0))
    return v


def _check_weights(name, w, n):
    if len(_shape(w)) > 1:
        raise RuntimeError(f"cov: cannot handle multidimensional {name}")
    if len(_shape(w)) == 0 or _shape(w)[0] != n:
        raise RuntimeError(f"cov: incompatible numbers of samples and {name}")
    if _concrete(w) and builtins.bool(any(less(w, 0))):
        raise ValueError(f"cov: {name} cannot be negative")


def cov(m, y=None, rowvar=True, bias=False, ddof=None, fweights=None, aweights=None, *,
        dtype=None):
    """The covariance matrix of the variables in the rows of ``m`` (columns with
    ``rowvar=False``), with those of ``y`` appended; normalised by ``N - 1`` (``N`` with
    ``bias``, ``N - ddof`` with ``ddof``), with integer frequency weights ``fweights`` and
    observation weights ``aweights`` as NumPy defines them. The result is computed in
    ``dtype`` (by default at least float64, as in NumPy); a single variable gives a 0-d
    array. Differentiable in ``m``, ``y`` and ``aweights``.

    The checks on the weights' values (non-negative; ``fweights`` whole numbers) are made
    where they are concrete values, and not under ``jit``. Where the degrees of freedom are
    not positive the result is inf or NaN, as NumPy's (without its warning)."""
    args = [m] + [v for v in (y, fweights, aweights) if v is not None]
    conv = _plain_next_to(*args)
    m = conv[0]
    rest = conv[1:]
    y = rest.pop(0) if y is not None else None
    fw = rest.pop(0) if fweights is not None else None
    aw = rest.pop(0) if aweights is not None else None
    if ddof is not None and ddof != builtins.int(ddof):
        raise ValueError("cov: ddof must be an integer")
    if dtype is None:
        dts = [_dtype(m)] + ([_dtype(y)] if y is not None else [])
        dtype = _dt.result_type(*dts, _dt.float64)
    dtype = _dt.as_dtype(dtype)
    X = _rows2d(m, rowvar, dtype, "m")
    if _shape(X)[0] == 0:
        return astype(_st.reshape(_st.slice_(_st.reshape(X, (-1,)), ((0, 0, 1),)), (0, 0)),
                      _dt.float64)
    if y is not None:
        Y = _rows2d(y, rowvar, dtype, "y")
        if _shape(Y)[1] != _shape(X)[1]:
            raise ValueError(f"cov: all the input array dimensions except for the "
                             f"concatenation axis must match exactly; m has {_shape(X)[1]} "
                             f"observations and y {_shape(Y)[1]}")
        X = concat([X, Y], axis=0)
    if ddof is None:
        ddof = 0 if bias else 1
    n = _shape(X)[1]
    w = None
    if fw is not None:
        fw = _as_float64(fw)
        if _concrete(fw) and not builtins.bool(all(equal(fw, round(fw)))):
            raise TypeError("cov: fweights must be integer")
        _check_weights("fweights", fw, n)
        w = fw
    if aw is not None:
        aw = _as_float64(aw)
        _check_weights("aweights", aw, n)
        w = aw if w is None else multiply(w, aw)
    if w is None:
        fact = float(n - ddof)
        avg = mean(X, axis=1, keepdims=True)
    else:  # the weights are float64 (as NumPy makes them): so is the weighted result
        w_sum = sum(w)
        avg = divide(sum(multiply(X, w), axis=1, keepdims=True), w_sum)
        if ddof == 0:
            fact = w_sum
        elif aw is None:
            fact = subtract(w_sum, float(ddof))
        else:
            fact = subtract(w_sum, divide(multiply(float(ddof), sum(multiply(w, aw))),
                                          w_sum))
    Xc = astype(subtract(X, avg), dtype)
    XT = _st.transpose(Xc if w is None else multiply(Xc, w), (1, 0))
    c = matmul(Xc, conj(XT))
    if type(fact) is float:
        c = multiply(c, 1.0 / fact if fact > 0 else math.inf)
    else:  # no positive degrees of freedom: 1 / 0, as NumPy's (0 * inf is NaN)
        c = multiply(c, divide(1.0, where(less_equal(fact, 0.0), 0.0, fact)))
    return reshape(c, tuple(d for d in _shape(c) if d != 1))


def _as_float64(w):
    w = _as_operand(w)
    return w if _dtype(w) is _dt.float64 else astype(w, _dt.float64)


def corrcoef(x, y=None, rowvar=True, *, dtype=None):
    """Pearson correlation coefficients of the variables in the rows of ``x`` (columns with
    ``rowvar=False``), with those of ``y`` appended: the covariance matrix normalised by the
    standard deviations, its real (and imaginary) parts clipped to ``[-1, 1]``. A single
    variable gives a 0-d array (1, or NaN for a constant). Differentiable in ``x`` and
    ``y`` (the clipping is where the coefficient is exactly +-1, so there the derivative is
    0)."""
    c = cov(x, y, rowvar, dtype=dtype)
    if len(_shape(c)) == 0:
        return divide(c, c)
    from ._products import diagonal
    d = diagonal(c)
    s = sqrt(real(d))
    k = _shape(s)[0]
    s = astype(s, _dtype(c)) if _dtype(c).kind == "c" else s
    c = divide(divide(c, _st.reshape(s, (k, 1))), _st.reshape(s, (1, k)))
    if _dtype(c).kind == "c":
        re = _clip11(real(c))
        im = _clip11(imag(c))
        return add(astype(re, _dtype(c)), multiply(astype(im, _dtype(c)), 1j))
    return _clip11(c)


def _clip11(c):
    return where(greater(c, 1.0), 1.0, where(less(c, -1.0), -1.0, c))


def angle(z, deg=False):
    """The counterclockwise angle of each complex ``z`` from the positive real axis, in
    ``(-pi, pi]`` (degrees with ``deg``): ``arctan2(z.imag, z.real)``. For real input that
    is 0 for ``x >= +0`` and pi for negative ``x`` and ``-0.0``, as NumPy gives; integers
    give float64. Differentiable (zero derivative for real input)."""
    z = _operand(z)
    if _dtype(z).kind == "c":
        zi, zr = imag(z), real(z)
    else:
        zr = _as_float(z)
        zi = _st.zeros_like(zr)
    a = atan2(zi, zr)
    return multiply(a, 180.0 / math.pi) if deg else a


def unwrap(p, discont=None, axis=-1, *, period=2 * math.pi):
    """Unwrap the phase ``p`` along ``axis``: where consecutive values differ by more than
    ``max(discont, period / 2)``, add multiples of ``period`` to make the jump smaller, as
    NumPy does (integer ``p`` with an integer ``period`` stays integer). Differentiable in
    ``p`` (the corrections are piecewise constant); ``discont`` and ``period`` are Python
    numbers."""
    p = _operand(p)
    nd = len(_shape(p))
    axis = _normalize_axis(axis, nd)
    dd = diff(p, axis=axis)
    if discont is None:
        discont = period / 2
    dtype = _dt.scalar_result(_dtype(dd), period) if type(period) in _SCALARS \
        else _dt.result_type(_dtype(dd), _dtype(period))
    if dtype.kind == "b":
        dtype = _dt.int64
    dd = astype(dd, dtype)
    if dtype.kind in "iu":
        high, rem = builtins.divmod(period, 2)
        ambiguous = rem == 0
    else:
        high = period / 2
        ambiguous = True
    low = -high
    ddmod = add(remainder(subtract(dd, low), period), low)
    if ambiguous:
        ddmod = where(logical_and(equal(ddmod, low), greater(dd, 0)), high, ddmod)
    ph = subtract(ddmod, dd)
    ph = where(less(abs(dd), discont), _st.zeros_like(ph), ph)
    up = astype(p, dtype)
    n = _shape(p)[axis]
    if n < 2:
        return up
    idx = [(0, d, 1) for d in _shape(p)]
    idx[axis] = (0, 1, 1)
    first = _st.slice_(up, tuple(idx))
    idx[axis] = (1, n, 1)
    rest = add(_st.slice_(up, tuple(idx)), cumulative_sum(ph, axis=axis))
    return concat([first, astype(rest, dtype)], axis=axis)

# -- window functions and the modified Bessel function i0 --------------------------------------


def _window_m(name, M):
    if isinstance(M, Tracer) or not (isinstance(M, (int, float)) or hasattr(M, "__index__")):
        raise TypeError(f"{name}: M must be a Python integer (the number of points)")
    if isinstance(M, float):
        if M != builtins.round(M):
            raise NotImplementedError(f"{name}: a non-integer M ({M}) is not supported; give "
                                      f"an integer number of points")
        M = builtins.int(M)
    return operator.index(M)


def _window_n(M, start, step, device, like=None):
    """``arange(start, start + step * M, step)`` as float64, on ``like``'s backend and device
    when it is an array, else on the default backend (on ``device``)."""
    if like is not None:
        i = _st.iota(like, M, _dt.float64)
        return add(multiply(i, float(step)), float(start))
    from ._creation import arange
    return arange(float(start), float(start + step * M), float(step), dtype=_dt.float64,
                  device=device)


def _cosine_window(name, M, const, terms, device):
    M = _window_m(name, M)
    if M < 1:
        return _window_n(0, 0, 1, device)
    if M == 1:
        from ._creation import ones
        return ones(1, dtype=_dt.float64, device=device)
    n = _window_n(M, 1 - M, 2, device)
    out = const
    for coef, mult in terms:  # (in NumPy's order of operations, for its exact values)
        out = add(out, multiply(coef, cos(divide(multiply(n, mult), float(M - 1)))))
    return out


def bartlett(M, *, device=None):
    """The Bartlett (triangular) window of ``M`` points, peaking at 1 in the middle and 0 at
    both ends (an empty array for ``M < 1``), float64. ``device`` (not in NumPy) places it on
    a device of the default backend's library."""
    M = _window_m("bartlett", M)
    if M < 1:
        return _window_n(0, 0, 1, device)
    if M == 1:
        from ._creation import ones
        return ones(1, dtype=_dt.float64, device=device)
    n = _window_n(M, 1 - M, 2, device)
    r = divide(n, float(M - 1))
    return where(less_equal(n, 0.0), add(1.0, r), subtract(1.0, r))


def blackman(M, *, device=None):
    """The Blackman window of ``M`` points, ``0.42 + 0.5 cos(pi n / (M-1)) + 0.08 cos(2 pi n
    / (M-1))`` for ``n = 1-M, 3-M, ..., M-1`` (empty for ``M < 1``), float64. ``device`` as in
    :func:`bartlett`."""
    return _cosine_window("blackman", M, 0.42, [(0.5, math.pi), (0.08, 2.0 * math.pi)], device)


def hamming(M, *, device=None):
    """The Hamming window of ``M`` points, ``0.54 + 0.46 cos(pi n / (M-1))`` for ``n = 1-M,
    3-M, ..., M-1`` (empty for ``M < 1``), float64. ``device`` as in :func:`bartlett`."""
    return _cosine_window("hamming", M, 0.54, [(0.46, math.pi)], device)


def hanning(M, *, device=None):
    """The Hann window of ``M`` points, ``0.5 + 0.5 cos(pi n / (M-1))`` for ``n = 1-M, 3-M,
    ..., M-1`` (empty for ``M < 1``), float64. ``device`` as in :func:`bartlett`."""
    return _cosine_window("hanning", M, 0.5, [(0.5, math.pi)], device)


def kaiser(M, beta, *, device=None):
    """The Kaiser window of ``M`` points with shape parameter ``beta``:
    ``i0(beta sqrt(1 - ((n - a) / a)**2)) / i0(beta)`` for ``n = 0..M-1``, ``a = (M-1)/2``
    (empty for ``M < 1``), float64. ``beta`` may be an array or a tracer (a 0-d one):
    the window is then on its library and device, and differentiable in it. ``device`` as in
    :func:`bartlett` (for a Python ``beta``)."""
    M = _window_m("kaiser", M)
    like = None
    if type(beta) not in _SCALARS:
        beta = _as_operand(beta)
        if _shape(beta) != ():
            raise ValueError("kaiser: beta must be a scalar (a 0-d array)")
        beta = astype(beta, _dt.float64)
        like = _st.reshape(beta, (1,))
    else:
        beta = float(beta)
    if M == 1:
        if like is not None:
            return _st.full_like(like, 1.0)
        from ._creation import ones
        return ones(1, dtype=_dt.float64, device=device)
    n = _window_n(builtins.max(M, 0), 0, 1, device, like)
    alpha = (M - 1) / 2.0
    arg = multiply(beta, sqrt(subtract(1.0, square(divide(subtract(n, alpha), alpha)))))
    den = i0(beta) if like is not None else i0(_to_array(beta, like=n))
    return divide(i0(arg), den)


# Chebyshev coefficients (first one halved) of exp(-x) I0(x) and exp(-x) I1(x) / x on
# [0, 8] in t = x / 4 - 1, and of sqrt(x) exp(-x) I0(x) and sqrt(x) exp(-x) I1(x) on
# [8, inf) in t = 16 / x - 1, computed for functrans with mpmath (80 nodes, 50 digits) and
# cut where the terms fall below 1e-19 of the first.
_I0_SMALL = (
    0.33839763720473803, -0.3046826723431984, 0.17162090152220877, -0.09490109704804764,
    0.04930528423967071, -0.02373741480589947, 0.010546460394594998, -0.004324309995050576,
    0.0016394756169413357, -0.0005763755745385824, 0.00018850288509584165,
    -5.754195010082104e-05, 1.6448448070728896e-05, -4.4167383584587505e-06,
    1.1173875391201037e-06, -2.670793853940612e-07, 6.046995022541919e-08,
    -1.300025009986248e-08, 2.6598237246823866e-09, -5.189795601635263e-10,
    9.675809035373237e-11, -1.726826291441556e-11, 2.95505266312964e-12,
    -4.856446783111929e-13, 7.676185498604936e-14, -1.1685332877993451e-14,
    1.715391285555133e-15, -2.431279846547955e-16, 3.3307945188222384e-17,
    -4.4153416464793395e-18, 5.669178006921496e-19, -7.057100692457294e-20,)
_I1_SMALL = (
    0.12629359322181682, -0.17641651835783406, 0.1026436586898471, -0.05294598120809499,
    0.024726449030626516, -0.010564084894626197, 0.004156422944312888, -0.0015135724506312532,
    0.0005122859561685758, -0.00016176081582589674, 4.781565107550054e-05,
    -1.3273163656039436e-05, 3.4702513081376785e-06, -8.568720264695455e-07,
    2.0032947535521353e-07, -4.445059128796328e-08, 9.381537386495773e-09,
    -1.8872497517228294e-09, 3.625590281552117e-10, -6.663489723502027e-11,
    1.1736186298890901e-11, -1.9839743977649436e-12, 3.223793365945575e-13,
    -5.042185504727912e-14, 7.600684294735408e-15, -1.1055969477353862e-15,
    1.5536319577362005e-16, -2.111421214358166e-17, 2.7779141127610464e-18,
    -3.541581772542136e-19, 4.379302756655071e-20,)
_I0_LARGE = (
    0.4022452055070544, 0.0033691164782556943, 6.889758346916825e-05, 2.8913705208347567e-06,
    2.0489185894690638e-07, 2.266668990498178e-08, 3.3962320257083865e-09,
    4.94060238822497e-10, 1.1889147107846439e-11, -3.1499165279632416e-11,
    -1.3215811840447713e-11, -1.7941785315068062e-12, 7.180124451383666e-13,
    3.8527783827421426e-13, 1.54008621752141e-14, -4.150569347287222e-14,
    -9.554846698828307e-15, 3.8116806693526224e-15, 1.7725601330565263e-15,
    -3.425485619677219e-16, -2.8276239805165836e-16, 3.461222867697461e-17,
    4.46562142029676e-17, -4.830504485944182e-18, -7.233180487874754e-18,
    9.921475412173699e-19, 1.193650890845982e-18, -2.4887098371508075e-19,
    -1.938426454160906e-19, 6.444656697373444e-20,)
_I1_LARGE = (
    0.38928811750914005, -0.009761097491361469, -0.00011058893876262371,
    -3.882564808877691e-06, -2.512236237870209e-07, -2.6314688468895196e-08,
    -3.835380385964237e-09, -5.589743462196584e-10, -1.8974958123505413e-11,
    3.2526035830154884e-11, 1.4125807436613782e-11, 2.0356285441470896e-12,
    -7.198551776245908e-13, -4.0835511110921974e-13, -2.1015418427726643e-14,
    4.272440016711951e-14, 1.0420276984128802e-14, -3.8144030724370075e-15,
    -1.8803547755107825e-15, 3.3082023109209285e-16, 2.96262899764595e-16,
    -3.209525921993424e-17, -4.6503053684893586e-17, 4.414348323071708e-18,
    7.517296310842105e-18, -9.314178867326884e-19, -1.242193275194891e-18,
    2.4142767194548486e-19, 2.0269443840532852e-19, -6.394267188269098e-20,)


def _chebyshev(t, coefs):
    """``sum(c_k T_k(t))`` by Clenshaw's recurrence."""
    t2 = multiply(t, 2.0)
    b1 = b2 = None
    for c in coefs[:0:-1]:
        if b1 is None:
            b0 = _st.full_like(t, c)
        elif b2 is None:
            b0 = add(multiply(t2, b1), c)
        else:
            b0 = add(subtract(multiply(t2, b1), b2), c)
        b1, b2 = b0, b1
    return add(subtract(multiply(t, b1), b2), coefs[0])


def _bessel_parts(x, small, large, odd):
    """``I0(x)`` or (``odd``) ``I1(x)`` from Chebyshev fits in ``|x|/4 - 1`` for ``|x| <= 8``
    and ``16/|x| - 1`` beyond."""
    ax = abs(x)
    near = less_equal(ax, 8.0)
    xs = where(near, ax, 0.0)
    xl = where(near, 16.0, ax)
    vs = multiply(exp(xs), _chebyshev(subtract(divide(xs, 4.0), 1.0), small))
    # (past 700 e^|x| as e^(|x|/2) taken twice: I(x) is finite up to 713.98, e^|x| only up
    # to 709.78 (in float32 past 80: 91.9 and 88.72); below, NumPy's formula to the bit)
    big = greater(xl, 700.0 if _dtype(x) is _dt.float64 else 80.0)
    e = exp(where(big, multiply(xl, 0.5), xl))
    vl = divide(multiply(e, _chebyshev(subtract(divide(16.0, xl), 1.0), large)), sqrt(xl))
    vl = where(big, multiply(vl, e), vl)
    if odd:
        # the factor x signed rather than |x| with the sign put back, so that the derivative
        # at 0 is I1'(0) = 1/2 (that of |x| is 0 there): i0's second derivative
        vs = multiply(vs, where(near, x, 0.0))
        vl = where(less(x, 0.0), negative(vl), vl)
    return where(near, vs, vl)


def _i1(x):
    """The modified Bessel function of the first kind of order 1 (private: i0's
    derivative)."""
    return _bessel_parts(x, _I1_SMALL, _I1_LARGE, True)


# 1/(k!)**2, the power series' coefficients in (x/2)**2
_I0_SERIES = tuple(1.0 / math.factorial(k) ** 2 for k in range(17))


def _i0_plain(x):
    # |x| <= 3: the power series (positive terms; within 2 ulps, exactly 1 at 0, where the
    # Chebyshev fit gives 1 - 2**-53), the Chebyshev fits beyond
    ax = abs(x)
    near = less_equal(ax, 3.0)
    h = multiply(where(near, ax, 0.0), 0.5)
    y = multiply(h, h)
    series = _st.full_like(y, _I0_SERIES[-1])
    for c in _I0_SERIES[-2::-1]:
        series = add(multiply(series, y), c)
    return where(near, series, _bessel_parts(x, _I0_SMALL, _I0_LARGE, False))


def _i0_rule(primals, tangents):
    (x,), (t,) = primals, tangents
    return _i0_custom(x), multiply(t, _i1(x))


_i0_custom = None


def i0(x):
    """The modified Bessel function of the first kind of order 0, elementwise (integers
    give float64; complex input is a TypeError, as in NumPy). Relative accuracy about 1e-15
    over the real line; finite up to ``|x|`` = 713.98 (NumPy's overflows to inf from 709.78:
    ``i0(710)`` is 3.345e306) and NaN at +-inf. Differentiable: the derivative is ``i1(x)``."""
    global _i0_custom
    x = _operand(x)
    if _dtype(x).kind == "c":
        raise TypeError("i0: not supported for complex values")
    x = _as_float(x)
    if _i0_custom is None:
        from ..custom import custom_jvp
        _i0_custom = custom_jvp(_i0_plain)
        _i0_custom.defjvp(_i0_rule)
    return _i0_custom(x)

# -- elementwise extras ------------------------------------------------------------------------


def rint(x, /, out=None, where=None):
    """Round to the nearest integer elementwise, halves to even, as floats (integers give
    float64; NumPy gives float16/float32 for 8/16-bit integers). Derivative 0."""
    if out is not None or where is not None:
        _ufunc_options("rint", out, where)
    x = _operand(x)
    return round(x if _dtype(x).kind in "fc" else _as_float(x))


def spacing(x, /, out=None, where=None):
    """The distance from ``x`` to the next float of its dtype away from zero (negative for
    negative ``x``; for ``+-0`` the smallest subnormal; NaN at +-inf and NaN). Integers give
    float64. Derivative 0."""
    if out is not None or where is not None:
        _ufunc_options("spacing", out, where)
    _no_complex("spacing", x)
    x = _as_float(_operand(x))
    up = nextafter(x, _st.full_like(x, math.inf))
    down = nextafter(x, _st.full_like(x, -math.inf))
    return subtract(_where(less(x, 0.0), down, up), x)


def frexp(x, /, out=None, where=None):
    """The mantissa and the exponent of ``x`` elementwise: ``x = m * 2**e`` with ``0.5 <=
    |m| < 1`` (``m = x``, ``e = 0`` at 0, +-inf and NaN). ``e`` is int32, as in NumPy;
    integers give a float64 mantissa. The derivative of ``m`` is ``2**-e``."""
    if out is not None or where is not None:
        _ufunc_options("frexp", out, where)
    _no_complex("frexp", x)
    x = _as_float(_operand(x))
    ax = abs(x)
    ok = logical_and(isfinite(x), greater(ax, 0.0))
    safe = _where(ok, ax, 1.0)
    e = add(floor(log2(safe)), 1.0)
    m = _scale2(safe, negative(e))
    # log2 may round across a power of two: one correction either way
    e = _where(greater_equal(m, 1.0), add(e, 1.0), _where(less(m, 0.5), subtract(e, 1.0), e))
    e = _where(ok, e, 0.0)
    mant = _where(ok, _scale2(x, negative(e)), x)
    return mant, astype(e, _dt.int32)


def _scale2(x, k):
    """``x * 2**k`` exactly for whole float ``k`` (in two halves, so that neither power
    overflows)."""
    h = floor(divide(k, 2.0))
    return multiply(multiply(x, pow(2.0, h)), pow(2.0, subtract(k, h)))


def _int_pair(name, x1, x2):
    for v in (x1, x2):
        if type(v) in _SCALARS and type(v) not in (int, bool):
            raise TypeError(f"{name}: the operands must be integers; got {type(v).__name__}")
    x1, x2 = _array_like(x1, x2), _array_like(x2, x1)
    x1, x2 = _plain_next_to(x1, x2)
    for v in (x1, x2):
        if _dtype(v).kind not in "biu":
            raise TypeError(f"{name}: the operands must be integers; got {_dtype(v).name}")
    from ._base import _promote_arrays
    (x1, x2), dt = _promote_arrays([x1, x2])
    if dt.kind == "b":  # (NumPy has no boolean loop, jax.numpy refuses them too)
        raise TypeError(f"{name}: the operands are both booleans; it is defined for integers "
                        f"(cast one with astype(int) for an integer result)")
    return x1, x2, dt


# the most Euclid steps two n-bit integers can take (consecutive Fibonacci numbers)
_EUCLID_STEPS = {8: 12, 16: 24, 32: 47, 64: 93}


def gcd(x1, x2, out=None, where=None):
    """The greatest common divisor of ``|x1|`` and ``|x2|`` elementwise (``gcd(0, 0) = 0``),
    for integers (two booleans or floats a TypeError, as in NumPy). Euclid's algorithm,
    vectorised: on plain arrays until every element is done, under a transform for the
    worst-case number of steps of the dtype."""
    if out is not None or where is not None:
        _ufunc_options("gcd", out, where)
    a, b, dt = _int_pair("gcd", x1, x2)
    shape = broadcast_shapes(_shape(a), _shape(b))
    a, b = abs(broadcast_to(a, shape)), abs(broadcast_to(b, shape))
    steps = _EUCLID_STEPS.get(dt.bits, 93)
    concrete = _concrete(a) and _concrete(b)
    for _ in range(steps):
        if concrete and not builtins.bool(any(not_equal(b, 0))):
            break
        zero = equal(b, 0)
        r = remainder(a, _where(zero, _st.full_like(b, 1), b))
        a, b = _where(zero, a, b), _where(zero, b, r)
    # |dtype min| wraps to itself, and remainder takes the divisor's sign, so a negative
    # gcd can come out (int8 gcd(-3, -128) was -1): its magnitude, as NumPy's
    return abs(a)


def lcm(x1, x2, out=None, where=None):
    """The least common multiple of ``|x1|`` and ``|x2|`` elementwise (0 where either is 0),
    for integers (as :func:`gcd`)."""
    if out is not None or where is not None:
        _ufunc_options("lcm", out, where)
    a, b, dt = _int_pair("lcm", x1, x2)
    g = gcd(a, b)
    a, b = abs(a), abs(b)
    q = floor_divide(a, _where(equal(g, 0), _st.full_like(g, 1), g))
    return multiply(q, b)  # (wrapping around where it overflows, as NumPy's)


def _inf_test(name, x, out, positive):
    _no_out(name, out)
    x = _operand(x)
    if _dtype(x).kind == "c":
        raise TypeError(f"{name}: this operation is not supported for {_dtype(x).name} "
                        f"values because it would be ambiguous")
    if _dtype(x).kind not in "f":
        return _st.full_like(x, False, dtype=_dt.bool_)
    sb = signbit(x)
    return logical_and(isinf(x), logical_not(sb) if positive else sb)


def isposinf(x, out=None):
    """Elementwise test for +inf (all false for integers; complex input is a TypeError,
    as in NumPy)."""
    return _inf_test("isposinf", x, out, True)


def isneginf(x, out=None):
    """Elementwise test for -inf (all false for integers; complex input is a TypeError,
    as in NumPy)."""
    return _inf_test("isneginf", x, out, False)


def iscomplex(x):
    """Elementwise test for a non-zero imaginary part (all false for a real dtype). A boolean
    array (0-d for a scalar)."""
    x = _operand(x)
    if _dtype(x).kind == "c":
        return not_equal(imag(x), 0.0)
    return _st.full_like(x, False, dtype=_dt.bool_)


def isreal(x):
    """Elementwise test for a zero imaginary part (all true for a real dtype). A boolean
    array (0-d for a scalar)."""
    x = _operand(x)
    if _dtype(x).kind == "c":
        return equal(imag(x), 0.0)
    return _st.full_like(x, True, dtype=_dt.bool_)


def real_if_close(a, tol=100):
    """``a``'s real part if ``a`` is complex and every imaginary part is below ``tol``
    (a multiple of the dtype's machine epsilon where ``tol > 1``), else ``a``. The result's
    dtype depends on the values: it needs concrete values (under ``jit`` a
    ConcretizationError)."""
    a = _operand(a)
    if _dtype(a).kind != "c":
        return a
    if tol > 1:
        tol = tol * finfo(_dtype(a)).eps
    if builtins.bool(all(less(abs(imag(a)), tol))):
        return real(a)
    return a


def sort_complex(a):
    """``a`` sorted along its last axis as complex numbers (by real part, then imaginary
    part; those with a NaN last, as :func:`sort` orders them), as a complex array (complex64
    for 8- and 16-bit integers, else complex128 for real input). Differentiable: each
    element's derivative follows it."""
    a = _operand(a)
    d = _dtype(a)
    if d.kind != "c":
        small = d.kind in "iu" and d.bits <= 16
        a = astype(a, _dt.complex64 if small else _dt.complex128)
    if len(_shape(a)) == 0 or _shape(a)[-1] < 2:
        return a
    return sort(a, axis=-1)


def _attach_ufunc_methods():
    # NumPy's ufunc methods (outer, reduce, accumulate, at) for the binary ufuncs defined here
    from ._elementwise import _ufunc_methods
    for f in (fmax, fmin, fmod, gcd, lcm, heaviside, ldexp, float_power, logaddexp2):
        _ufunc_methods(f)


_attach_ufunc_methods()
