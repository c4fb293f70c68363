"""``jax.lax``'s operations beyond control flow, re-exported by :mod:`functrans.lax`.

Every function here is written on :mod:`functrans.numpy` (and ``functrans.scipy.special``),
so it runs on every backend and under every transform; none adds a primitive. They keep
``jax.lax``'s strictness: operands of an elementwise operation must have one dtype (a
``TypeError`` names the dtypes, as JAX's does) and one shape, except that a 0-d operand
broadcasts, and so does an axis of length 1 between operands of one rank (as in JAX
0.10). Python numbers are weakly typed: ``lax.add(x_f32, 2.0)`` is float32 (JAX with
``jax_enable_x64`` refuses it), but a number of a wider kind than the array's dtype (a
float beside an integer array) is refused.

Also here: the parallel-prefix ``associative_scan``, ``custom_root`` and
``custom_linear_solve`` with implicit differentiation, JAX's top-level helpers
``block_until_ready``, ``device_put`` and ``disable_jit``; XLA's gather and scatters (on
``take`` and the ``.at`` updates), ``mulhi``, ``reduce_precision``, ``approx_max_k``,
``ragged_dot`` and the special functions of ``jax.lax`` (on ``functrans.scipy.special``);
``linalg``, ``jax.lax.linalg``'s decompositions with JAX's signatures and result orders (on
``functrans.numpy.linalg`` and ``functrans.scipy.linalg``).
"""

from __future__ import annotations

import builtins
import contextlib
import enum
import math
import operator
import sys as _sys
import types as _types
import typing

from . import dtypes as _dt
from . import lax_linalg as _lax_linalg
from . import numpy as fnp
from .core import concrete_behind as _core_concrete_behind
from .interpreters import with_constant_arguments
from .tree import tree_flatten, tree_unflatten

_PY = (bool, int, float, complex)
_KIND_RANK = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}
_KIND_WORDS = {"b": "bool", "i": "signed integer", "u": "unsigned integer",
               "f": "floating", "c": "complex floating"}


def _special():
    from .scipy import special
    return special


def _is_py(x):
    return type(x) in _PY


def _dtype(x):
    if _is_py(x):
        return _dt.as_dtype(type(x))
    return _dt.dtype_of(x)


def _array(x):
    """``x`` as an array (Python numbers and lists to the default backend)."""
    return x if hasattr(x, "shape") and hasattr(x, "dtype") else fnp.asarray(x)


def _fits(scalar, d):
    """Whether the Python number ``scalar`` may take dtype ``d`` (weak typing)."""
    if type(scalar) is bool:
        return True
    k = {int: "i", float: "f", builtins.complex: "c"}[type(scalar)]
    if k == "i" and d.kind in "iu":  # (and in range: NumPy would raise an OverflowError)
        info = fnp.iinfo(d.name)
        return info.min <= scalar <= info.max
    return d.kind != "b" and _KIND_RANK[k] <= _KIND_RANK[d.kind]


def _operands(name, args, kinds, same_shape=True):
    """The operands of an elementwise ``lax.<name>``: one dtype (Python numbers weakly
    typed), one shape or 0-d, a dtype of one of ``kinds``. Returns (operands, dtype)."""
    args = list(args)
    idx = [i for i, a in enumerate(args) if not _is_py(a)]
    if not idx:  # numbers only: the first becomes an array of NumPy's dtype for it
        args[0] = fnp.asarray(args[0])
        idx = [0]
    for i in idx:
        if not hasattr(args[i], "dtype"):
            args[i] = fnp.asarray(args[i])
    d = _dtype(args[idx[0]])
    dts = [_dtype(args[i]) for i in idx]
    if any(t is not d for t in dts):
        raise TypeError(f"lax.{name} requires arguments to have the same dtypes, got "
                        f"{', '.join(t.name for t in dts)} (functrans.numpy's functions "
                        f"promote; convert with lax.convert_element_type).")
    if same_shape:
        _check_shapes(name, [tuple(args[i].shape) for i in idx])
    if d.kind not in kinds:
        words = ", ".join(_KIND_WORDS[k] for k in kinds)
        raise TypeError(f"lax.{name} does not accept dtype {d.name}; accepted: {words}.")
    for i, a in enumerate(args):
        if _is_py(a) and not _fits(a, d):
            raise TypeError(f"lax.{name}: the Python number {a!r} cannot take the operands' "
                            f"dtype {d.name}.")
    return args, d


def _check_shapes(name, shapes):
    # As jax.lax (0.10): a 0-d operand broadcasts, and so do axes of length 1 between
    # operands of one rank; operands of different ranks are refused.
    big = [s for s in shapes if s != ()]
    if not big:
        return
    bad = len({len(s) for s in big}) > 1
    if not bad:
        for sizes in zip(*big):
            if len(set(sizes) - {1}) > 1:
                bad = True
    if bad:
        raise TypeError(f"lax.{name} requires arguments of one shape (a 0-d one broadcasts, "
                        f"and so does an axis of length 1 between arguments of one rank), got "
                        f"{', '.join(map(str, shapes))}; functrans.numpy's functions "
                        f"broadcast across ranks.")


def _unary(name, fn, kinds, doc):
    def op(x):
        (x,), _ = _operands(name, (x,), kinds)
        return fn(x)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


def _binary(name, fn, kinds, doc):
    def op(x, y):
        (x, y), _ = _operands(name, (x, y), kinds)
        return fn(x, y)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


_F, _FC, _NUM, _INT, _BINT = "f", "fc", "iufc", "iu", "biu"

# -- elementwise: arithmetic -------------------------------------------------------------


def _int_div(x, y):
    # C's division (towards zero); x / 0 is -1, as XLA gives it.
    if _is_py(x):
        x = fnp.full_like(y, x)
    if _is_py(y):
        y = fnp.full_like(x, y)
    zero = fnp.equal(y, 0)
    safe = fnp.where(zero, 1, y)
    q = fnp.floor_divide(x, safe)
    # floor and trunc differ where the remainder is nonzero and the signs differ
    fix = fnp.logical_and(fnp.not_equal(fnp.multiply(q, safe), x),
                          fnp.not_equal(fnp.less(x, 0), fnp.less(safe, 0)))
    q = fnp.where(fix, fnp.add(q, 1), q)
    return fnp.where(zero, -1 if _dtype(q).kind == "i" else _dt_max(_dtype(q)), q)


def _dt_max(d):
    return fnp.iinfo(d.name).max


def div(x, y):
    """``x / y`` elementwise (``jax.lax.div``): integers are divided rounding towards zero
    (C's ``/``, not NumPy's ``//``), and an integer divided by zero gives -1 (unsigned: the
    largest value), as XLA does."""
    (x, y), d = _operands("div", (x, y), _NUM)
    if d.kind in "fc":
        return fnp.divide(x, y)
    return _int_div(x, y)


def rem(x, y):
    """The remainder of ``x / y`` with the sign of ``x`` (C's ``%``, NumPy's ``fmod``;
    ``jax.lax.rem``); an integer remainder by zero is ``x``."""
    (x, y), d = _operands("rem", (x, y), "iuf")
    if d.kind == "f":
        return fnp.fmod(x, y)
    if _is_py(x):
        x = fnp.full_like(y, x)
    if _is_py(y):
        y = fnp.full_like(x, y)
    zero = fnp.equal(y, 0)
    # x - trunc(x / y) * y in wrapping integer arithmetic (fmod's |x| overflows at the
    # type's minimum: int8 -128 rem 127 must be -1)
    r = fnp.subtract(x, fnp.multiply(_int_div(x, y), y))
    return fnp.where(zero, x, r)


def pow(x, y):  # noqa: A001 (jax.lax's name)
    """``x ** y`` elementwise (``jax.lax.pow``): ``x`` floating or complex, ``y`` of its dtype
    or of an integer dtype; the result has ``x``'s dtype."""
    x = _array(x) if not _is_py(x) else x
    if not _is_py(y) and hasattr(y, "dtype") and _dtype(y).kind in "iu":
        (x,), d = _operands("pow", (x,), _FC)
        _check_shapes("pow", [tuple(x.shape), tuple(y.shape)])
        return fnp.astype(fnp.power(x, y), d, copy=False)
    (x, y), d = _operands("pow", (x, y), _FC)
    return fnp.power(x, y)


def integer_pow(x, y):
    """``x ** y`` for a Python integer ``y`` (``jax.lax.integer_pow``); integer ``x`` with a
    negative ``y`` is a TypeError."""
    if isinstance(y, float) and y.is_integer():  # (JAX takes 2.0 for 2)
        y = int(y)
    try:
        y = operator.index(y)
    except TypeError:
        raise TypeError(f"lax.integer_pow: the exponent must be a Python integer; got {y!r} "
                        f"(lax.pow takes an array exponent).") from None
    (x,), d = _operands("integer_pow", (x,), _NUM)
    if d.kind in "iu" and y < 0:
        raise TypeError(f"lax.integer_pow: integers cannot be raised to negative powers "
                        f"(got {y}).")
    if y == 0:
        return fnp.ones_like(x)
    if y == 1:
        return fnp.copy(x)
    if y == -1:
        return fnp.divide(1, x)
    return fnp.power(x, y)


def round(x, rounding_method=0):  # noqa: A001 (jax.lax's name)
    """``x`` rounded to an integral value (``jax.lax.round``): halves away from zero by
    default (``RoundingMethod.AWAY_FROM_ZERO``, 0), or to even
    (``RoundingMethod.TO_NEAREST_EVEN``, 1, NumPy's ``round``)."""
    (x,), _ = _operands("round", (x,), _F)
    method = int(rounding_method)
    if method == 1:
        return fnp.round(x)
    if method != 0:
        raise ValueError(f"lax.round: rounding_method must be RoundingMethod.AWAY_FROM_ZERO "
                         f"(0) or TO_NEAREST_EVEN (1); got {rounding_method!r}.")
    t = fnp.trunc(x)
    frac = fnp.abs(fnp.subtract(x, t))  # exact
    return fnp.where(fnp.greater_equal(frac, 0.5), fnp.add(t, fnp.sign(x)), t)


class RoundingMethod(enum.IntEnum):
    """How ``lax.round`` breaks ties (``jax.lax.RoundingMethod``)."""
    AWAY_FROM_ZERO = 0
    TO_NEAREST_EVEN = 1


def _sign(x):
    if _dtype(x).kind == "c":
        a = fnp.abs(x)
        return fnp.where(fnp.equal(a, 0), fnp.zeros_like(x),
                         fnp.divide(x, fnp.where(fnp.equal(a, 0), 1, a)))
    if _dtype(x).kind == "f":  # (the sign of -0.0 is -0.0, as XLA's)
        return fnp.where(fnp.equal(x, 0), fnp.stop_gradient(x), fnp.sign(x))
    return fnp.sign(x)


def _rsqrt(x):
    d = _dtype(x)
    if d is _dt.float16 or d is _dt.bfloat16:
        # one rounding from float32, as XLA's rsqrt of float16/bfloat16 (1 / sqrt in the half
        # type rounded twice: a third of bfloat16 results an ulp off)
        return fnp.astype(fnp.divide(1, fnp.sqrt(fnp.astype(x, _dt.float32))), d)
    return fnp.divide(1, fnp.sqrt(x))


def _logistic(x):
    if _dtype(x).kind == "c":  # (expit is real only)
        return fnp.divide(1, fnp.add(fnp.exp(fnp.negative(x)), 1))
    return _special().expit(x)


def _conj(x):
    if _dtype(x).kind == "f":
        x = fnp.astype(x, "complex128" if _dtype(x).bits == 64 else "complex64")
    return fnp.conj(x)


def _complex(x, y):
    # (a Python number beside an array takes its dtype: float32 parts make complex64)
    if _is_py(x):
        x = fnp.full_like(y, x)
    if _is_py(y):
        y = fnp.full_like(x, y)
    from .numpy._elementwise import _from_parts  # (exact at an infinite or NaN y)
    x, y = fnp.broadcast_arrays(x, y)
    return _from_parts(x, y, _dt.complex128 if _dtype(y).bits == 64 else _dt.complex64)


def clamp(min, x, max):  # noqa: A002 (jax.lax's names)
    """``x`` clipped to ``[min, max]`` elementwise (``jax.lax.clamp``); ``min`` and ``max``
    are 0-d or of ``x``'s shape, all three of one dtype. Derivatives are JAX's: ``x`` has
    one strictly between the bounds, a bound where it is the result, and none of them where
    ``x`` equals a bound. Complex numbers are ordered lexicographically (real part, then
    imaginary part), as in JAX, and, as there, have no derivative (a TypeError)."""
    (lo, x, hi), d = _operands("clamp", (min, x, max), "iufc")
    xshape = () if _is_py(x) else tuple(x.shape)  # (x a Python number: 0-d, as in JAX)
    for bound, what in ((lo, "min"), (hi, "max")):
        # (no broadcasting of length-1 axes here, as in JAX)
        shape = () if _is_py(bound) else tuple(bound.shape)
        if shape not in ((), xshape):
            raise TypeError(f"lax.clamp requires {what} to be 0-d or of the operand's shape "
                            f"{xshape}; got {shape}.")
    if d.kind == "c":
        return _complex_clamp()(*[fnp.full((), v, dtype=d, device=fnp.device(x)) if _is_py(v)
                                  else v for v in (lo, x, hi)])
    value = fnp.minimum(fnp.maximum(x, lo), hi)
    if d.kind != "f":
        return value
    # JAX's derivatives: ``x``'s strictly between the bounds, ``min``'s where it is above
    # ``x`` (and below ``max``), ``max``'s where it is below ``x``; none where ``x`` equals a
    # bound (fnp.maximum would share it)
    inside = fnp.logical_and(fnp.greater(x, lo), fnp.less(x, hi))
    at_lo = fnp.logical_and(fnp.greater(lo, x), fnp.less(lo, hi))
    at_hi = fnp.less(hi, x)
    return fnp.where(inside, x, fnp.where(at_lo, lo, fnp.where(
        at_hi, hi, fnp.stop_gradient(value))))


_complex_clamp_fn = None


def _complex_clamp():
    """clamp of complex numbers (lexicographic), whose derivative raises as JAX's does."""
    global _complex_clamp_fn
    if _complex_clamp_fn is None:
        from .custom import custom_jvp

        def _no_derivative(primals, tangents):
            raise TypeError(
                "lax.clamp of complex numbers has no derivative (as in JAX, where it is a "
                "TypeError too): write lax.min(lax.max(x, min), max), the same values, "
                "differentiable (lax.max and lax.min are, on complex numbers too).")
        _complex_clamp_fn = custom_jvp(lambda lo, x, hi: fnp.minimum(fnp.maximum(x, lo), hi))
        _complex_clamp_fn.defjvp(_no_derivative)
    return _complex_clamp_fn


# -- elementwise: bits ---------------------------------------------------------------------


def _shift_ok(s, bits):
    return fnp.logical_and(fnp.greater_equal(s, 0), fnp.less(s, bits))


def shift_left(x, y):
    """``x << y`` elementwise (``jax.lax.shift_left``); a shift by the bit width or more (or
    a negative one) gives 0."""
    (x, y), d = _operands("shift_left", (x, y), _INT)
    if _is_py(y):
        return fnp.bitwise_left_shift(x, y) if 0 <= y < d.bits else fnp.zeros_like(x)
    out = fnp.bitwise_left_shift(x, fnp.clip(y, 0, d.bits - 1))
    return fnp.where(_shift_ok(y, d.bits), out, 0)


def shift_right_arithmetic(x, y):
    """``x >> y`` filling with the sign bit (``jax.lax.shift_right_arithmetic``); shifts by
    the bit width or more (or negative ones) act as ``bits - 1``."""
    (x, y), d = _operands("shift_right_arithmetic", (x, y), _INT)
    if d.kind == "u":  # the top bit is the sign: shift it in from the left
        s = fnp.clip(y, 0, d.bits - 1) if not _is_py(y) else \
            (y if 0 <= y < d.bits else d.bits - 1)
        if not _is_py(y):
            s = fnp.where(_shift_ok(y, d.bits), y, d.bits - 1)
        ones = fnp.bitwise_invert(fnp.zeros_like(x))
        low = fnp.bitwise_right_shift(x, s)
        high = fnp.bitwise_invert(fnp.bitwise_right_shift(ones, s))
        top = fnp.bitwise_right_shift(x, d.bits - 1)
        return fnp.where(fnp.equal(top, 1), fnp.bitwise_or(low, high), low)
    if _is_py(y):  # (a Python shift: no array of its own, the operand's dtype stays)
        return fnp.bitwise_right_shift(x, y if 0 <= y < d.bits else d.bits - 1)
    s = fnp.where(_shift_ok(y, d.bits), y, d.bits - 1)
    return fnp.bitwise_right_shift(x, s)


def shift_right_logical(x, y):
    """``x >> y`` filling with zeros (``jax.lax.shift_right_logical``), signed operands
    shifted as their bit patterns; shifts by the bit width or more (or negative ones)
    give 0."""
    (x, y), d = _operands("shift_right_logical", (x, y), _INT)
    bits = d.bits
    if _is_py(y):
        if not 0 <= y < bits:
            return fnp.zeros_like(x)
        if y == 0 or d.kind == "u":
            return fnp.bitwise_right_shift(x, y)
        return fnp.bitwise_and(fnp.bitwise_right_shift(x, y), (1 << (bits - y)) - 1)
    sc = fnp.clip(y, 0, bits - 1)
    out = fnp.bitwise_right_shift(x, sc)
    if d.kind == "i":
        s1 = fnp.clip(y, 1, bits - 1)
        mask = fnp.subtract(fnp.bitwise_left_shift(fnp.ones_like(s1), bits - s1), 1)
        out = fnp.where(fnp.equal(y, 0), x, fnp.bitwise_and(out, mask))
    return fnp.where(_shift_ok(y, bits), out, 0)


def population_count(x):
    """The number of set bits of each element, in its dtype (``jax.lax.population_count``);
    a negative signed integer counts its two's-complement bits."""
    (x,), d = _operands("population_count", (x,), _INT)
    c = fnp.astype(fnp.bitwise_count(x), d)
    if d.kind == "i":
        c = fnp.where(fnp.less(x, 0), fnp.subtract(d.bits, fnp.astype(
            fnp.bitwise_count(fnp.bitwise_invert(x)), d)), c)
    return c


def clz(x):
    """The number of leading zero bits of each element, in its dtype (``jax.lax.clz``)."""
    (x,), d = _operands("clz", (x,), _INT)
    y = fnp.where(fnp.less(x, 0), 0, x) if d.kind == "i" else x
    n = fnp.zeros_like(y)
    s = d.bits // 2
    while s >= 1:  # binary search of the highest set bit
        big = fnp.greater_equal(y, 1 << s)
        n = fnp.where(big, fnp.add(n, s), n)
        y = fnp.where(big, fnp.bitwise_right_shift(y, s), y)
        s //= 2
    length = fnp.add(n, fnp.astype(fnp.greater(y, 0), d))
    out = fnp.subtract(d.bits, length)
    return fnp.where(fnp.less(x, 0), 0, out) if d.kind == "i" else out


# -- the elementwise table -----------------------------------------------------------------

def _u(name, fn, kinds, what):
    globals()[name] = _unary(name, fn, kinds, f"{what} elementwise (``jax.lax.{name}``).")


def _b(name, fn, kinds, what):
    globals()[name] = _binary(name, fn, kinds, f"{what} elementwise (``jax.lax.{name}``).")


for _name, _fn, _k, _what in [
        ("neg", fnp.negative, _NUM, "``-x``"),
        ("abs", fnp.abs, "ifc", "``|x|`` (the modulus, real, for complex ``x``)"),
        ("sign", _sign, _NUM, "The sign of ``x`` (``x / |x|`` for complex ``x``)"),
        ("floor", fnp.floor, _F, "``floor(x)``"),
        ("ceil", fnp.ceil, _F, "``ceil(x)``"),
        ("is_finite", fnp.isfinite, _F, "Whether ``x`` is finite"),
        ("exp", fnp.exp, _FC, "``e ** x``"),
        ("exp2", fnp.exp2, _FC, "``2 ** x``"),
        ("expm1", fnp.expm1, _FC, "``e ** x - 1``"),
        ("log", fnp.log, _FC, "The natural logarithm"),
        ("log1p", fnp.log1p, _FC, "``log(1 + x)``"),
        ("sqrt", fnp.sqrt, _FC, "The square root"),
        ("rsqrt", _rsqrt, _FC, "``1 / sqrt(x)``"),
        ("cbrt", fnp.cbrt, _F, "The cube root"),
        ("sin", fnp.sin, _FC, "The sine"),
        ("cos", fnp.cos, _FC, "The cosine"),
        ("tan", fnp.tan, _FC, "The tangent"),
        ("asin", fnp.arcsin, _FC, "The inverse sine"),
        ("acos", fnp.arccos, _FC, "The inverse cosine"),
        ("atan", fnp.arctan, _FC, "The inverse tangent"),
        ("sinh", fnp.sinh, _FC, "The hyperbolic sine"),
        ("cosh", fnp.cosh, _FC, "The hyperbolic cosine"),
        ("tanh", fnp.tanh, _FC, "The hyperbolic tangent"),
        ("asinh", fnp.arcsinh, _FC, "The inverse hyperbolic sine"),
        ("acosh", fnp.arccosh, _FC, "The inverse hyperbolic cosine"),
        ("atanh", fnp.arctanh, _FC, "The inverse hyperbolic tangent"),
        ("logistic", lambda x: _logistic(x), _FC, "The logistic sigmoid"),
        ("erf", lambda x: _special().erf(x), _F, "The error function"),
        ("erfc", lambda x: _special().erfc(x), _F, "The complementary error function"),
        ("erf_inv", lambda x: _special().erfinv(x), _F, "The inverse error function"),
        ("lgamma", lambda x: _special().gammaln(x), _F, "``log |Gamma(x)|``"),
        ("digamma", lambda x: _special().digamma(x), _F, "The digamma function"),
        ("square", fnp.square, _NUM, "``x * x``"),
        ("reciprocal", lambda x: fnp.divide(1, x), _FC, "``1 / x``"),
        ("conj", _conj, _FC, "The complex conjugate (complex, for real ``x`` too)"),
        ("real", fnp.real, "c", "The real part"),
        ("imag", fnp.imag, "c", "The imaginary part"),
        ("bitwise_not", fnp.bitwise_invert, _BINT, "``~x``"),
]:
    _u(_name, _fn, _k, _what)

for _name, _fn, _k, _what in [
        ("add", fnp.add, _NUM, "``x + y``"),
        ("sub", fnp.subtract, _NUM, "``x - y``"),
        ("mul", fnp.multiply, _NUM, "``x * y``"),
        ("max", fnp.maximum, "biufc", "The maximum (a nan in either gives nan; complex numbers "
         "ordered lexicographically, by real then imaginary part, as in JAX)"),
        ("min", fnp.minimum, "biufc", "The minimum (a nan in either gives nan; complex numbers "
         "ordered lexicographically, by real then imaginary part, as in JAX)"),
        ("atan2", fnp.arctan2, _F, "``atan(x / y)`` in the right quadrant"),
        ("nextafter", fnp.nextafter, _F, "The next float after ``x`` towards ``y``"),
        ("igamma", lambda a, x: _special().gammainc(a, x), _F,
         "The regularized lower incomplete gamma function ``P(a, x)``"),
        ("igammac", lambda a, x: _special().gammaincc(a, x), _F,
         "The regularized upper incomplete gamma function ``Q(a, x)``"),
        ("complex", _complex, _F, "``x + 1j * y``"),
        ("bitwise_and", fnp.bitwise_and, _BINT, "``x & y``"),
        ("bitwise_or", fnp.bitwise_or, _BINT, "``x | y``"),
        ("bitwise_xor", fnp.bitwise_xor, _BINT, "``x ^ y``"),
        ("eq", fnp.equal, "biufc", "``x == y``"),
        ("ne", fnp.not_equal, "biufc", "``x != y``"),
        ("lt", fnp.less, "biuf", "``x < y``"),
        ("le", fnp.less_equal, "biuf", "``x <= y``"),
        ("gt", fnp.greater, "biuf", "``x > y``"),
        ("ge", fnp.greater_equal, "biuf", "``x >= y``"),
]:
    _b(_name, _fn, _k, _what)
del _name, _fn, _k, _what
# (named for the code below and for linters: the loops above made them)
add, max, min = (globals()[_n] for _n in ("add", "max", "min"))  # noqa: A001
_mul_same_dtype = globals()["mul"]


def mul(x, y, *, out_dtype=None):
    """``x * y`` elementwise (``jax.lax.mul``). With ``out_dtype`` (as in JAX 0.10) both
    operands are first converted to it (so their dtypes may differ: float32 times float16
    into float64) and multiplied in it; the derivatives flow back through the
    conversions."""
    if out_dtype is not None:
        d = _dt.as_dtype(out_dtype)
        x, y = (a if _is_py(a) else convert_element_type(a, d) for a in (x, y))
    return _mul_same_dtype(x, y)

ELEMENTWISE = ["neg", "abs", "sign", "floor", "ceil", "round", "is_finite", "exp", "exp2",
               "expm1", "log", "log1p", "sqrt", "rsqrt", "cbrt", "sin", "cos", "tan", "asin",
               "acos", "atan", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "logistic",
               "erf", "erfc", "erf_inv", "lgamma", "digamma", "square", "reciprocal", "conj",
               "real", "imag", "bitwise_not", "add", "sub", "mul", "div", "rem", "pow",
               "integer_pow", "max", "min", "clamp", "atan2", "nextafter", "igamma",
               "igammac", "complex", "bitwise_and", "bitwise_or", "bitwise_xor", "shift_left",
               "shift_right_logical", "shift_right_arithmetic", "population_count", "clz",
               "eq", "ne", "lt", "le", "gt", "ge"]


# -- shapes ------------------------------------------------------------------------------


def _axis(a, ndim, what):
    a = operator.index(a)
    if not -ndim <= a < ndim:
        raise ValueError(f"{what}: axis {a} is out of range for {ndim} dimensions.")
    return a % ndim


def broadcast(operand, sizes):
    """``operand`` broadcast with new leading axes of ``sizes`` (``jax.lax.broadcast``)."""
    x = _array(operand)
    return fnp.broadcast_to(x, tuple(sizes) + tuple(x.shape))


def broadcast_in_dim(operand, shape, broadcast_dimensions):
    """``operand`` broadcast to ``shape``, its axis ``i`` becoming axis
    ``broadcast_dimensions[i]`` of the result (``jax.lax.broadcast_in_dim``); each of its
    sizes is 1 or the target's."""
    x = _array(operand)
    shape, dims = tuple(shape), tuple(broadcast_dimensions)
    if len(dims) != x.ndim:
        raise TypeError(f"lax.broadcast_in_dim: broadcast_dimensions must have one entry per "
                        f"operand axis ({x.ndim}); got {dims}.")
    if any(b <= a for a, b in zip(dims, dims[1:])) or any(not 0 <= d < len(shape)
                                                         for d in dims):
        raise TypeError(f"lax.broadcast_in_dim: broadcast_dimensions must be strictly "
                        f"increasing axes of the result (of {len(shape)}); got {dims}.")
    for i, d in enumerate(dims):
        if x.shape[i] not in (1, shape[d]):
            raise TypeError(f"lax.broadcast_in_dim: operand axis {i} has size {x.shape[i]}, "
                            f"which is neither 1 nor {shape[d]} (axis {d} of {shape}).")
    mid = [1] * len(shape)
    for i, d in enumerate(dims):
        mid[d] = x.shape[i]
    return fnp.broadcast_to(fnp.reshape(x, tuple(mid)), shape)


def broadcast_to_rank(x, rank):
    """``x`` with leading axes of size 1 added up to ``rank`` axes
    (``jax.lax.broadcast_to_rank``)."""
    x = _array(x)
    if rank < x.ndim:
        raise ValueError(f"lax.broadcast_to_rank: rank {rank} is below the operand's "
                         f"{x.ndim}.")
    return fnp.reshape(x, (1,) * (rank - x.ndim) + tuple(x.shape))


def reshape(operand, new_sizes, dimensions=None):
    """``operand`` in the shape ``new_sizes`` (``jax.lax.reshape``), its axes first permuted
    by ``dimensions`` when given; row-major order."""
    x = _array(operand)
    if dimensions is not None:
        x = transpose(x, dimensions)
    try:
        new_sizes = tuple(operator.index(n) for n in new_sizes)
    except TypeError:
        raise TypeError(f"lax.reshape: new_sizes must be integers; got {tuple(new_sizes)}.") \
            from None
    if any(n < 0 for n in new_sizes):
        raise TypeError(f"lax.reshape: sizes must be nonnegative; got {new_sizes}.")
    return fnp.reshape(x, new_sizes)


def squeeze(array, dimensions):
    """``array`` without the axes ``dimensions``, each of size 1 (``jax.lax.squeeze``)."""
    x = _array(array)
    dims = tuple(sorted({_axis(d, x.ndim, "lax.squeeze") for d in dimensions}))
    if len(dims) != len(tuple(dimensions)):
        raise ValueError(f"lax.squeeze: dimensions {tuple(dimensions)} name an axis twice.")
    if any(x.shape[d] != 1 for d in dims):
        raise ValueError(f"lax.squeeze: cannot squeeze axes of size other than one: shape "
                         f"{tuple(x.shape)}, dimensions {tuple(dimensions)}.")
    return fnp.squeeze(x, axis=dims) if dims else fnp.copy(x)


def expand_dims(array, dimensions):
    """``array`` with axes of size 1 inserted at the result's axes ``dimensions``
    (``jax.lax.expand_dims``)."""
    x = _array(array)
    n = x.ndim + len(dimensions)
    dims = sorted(_axis(d, n, "lax.expand_dims") for d in dimensions)
    if len(set(dims)) != len(dims):
        raise ValueError(f"lax.expand_dims: dimensions {tuple(dimensions)} name an axis "
                         f"twice.")
    shape = list(x.shape)
    for d in dims:
        shape.insert(d, 1)
    return fnp.reshape(x, tuple(shape))


def rev(operand, dimensions):
    """``operand`` reversed along the axes ``dimensions`` (``jax.lax.rev``)."""
    x = _array(operand)
    dims = tuple(_axis(d, x.ndim, "lax.rev") for d in dimensions)
    return fnp.flip(x, axis=dims) if dims else fnp.copy(x)


def transpose(operand, permutation):
    """``operand`` with its axes permuted: axis ``i`` of the result is axis
    ``permutation[i]`` (``jax.lax.transpose``)."""
    x = _array(operand)
    perm = tuple(operator.index(p) for p in permutation)
    if sorted(perm) != list(range(x.ndim)):
        raise ValueError(f"lax.transpose: permutation {perm} is not a permutation of the "
                         f"operand's {x.ndim} axes.")
    return fnp.permute_dims(x, perm)


def _fill(x, value, shape):
    """An array of ``shape`` filled with ``value`` (a number or a 0-d array, maybe traced),
    of ``x``'s dtype, library and device."""
    if _is_py(value):
        return fnp.full(shape, value, dtype=x.dtype, device=fnp.device(x))
    return fnp.broadcast_to(fnp.astype(value, x.dtype, copy=False), shape)


def pad(operand, padding_value, padding_config):
    """``operand`` padded with ``padding_value`` (``jax.lax.pad``): per axis a triple
    ``(low, high, interior)``, ``interior`` values between neighbours and ``low``/``high``
    at the ends (negative ones remove elements). Differentiable in both operands."""
    x = _array(operand)
    (x, padding_value), _ = _operands("pad", (x, padding_value), "biufc", same_shape=False)
    if hasattr(padding_value, "shape") and padding_value.ndim:
        raise TypeError("lax.pad: padding_value must be a scalar.")
    config = [tuple(operator.index(v) for v in c) for c in padding_config]
    if len(config) != x.ndim or any(len(c) != 3 for c in config):
        raise ValueError(f"lax.pad: padding_config needs one (low, high, interior) triple per "
                         f"axis ({x.ndim}); got {padding_config}.")
    for axis, (lo, hi, interior) in enumerate(config):
        if interior < 0:
            raise ValueError(f"lax.pad: interior padding must be nonnegative; got "
                             f"{interior} for axis {axis}.")
        n = x.shape[axis]
        if interior and n > 1:
            moved = fnp.moveaxis(x, axis, -1)
            gap = _fill(x, padding_value, tuple(moved.shape) + (interior,))
            both = fnp.concat([fnp.expand_dims(moved, axis=-1), gap], axis=-1)
            flat = fnp.reshape(both, tuple(moved.shape[:-1]) + (n * (interior + 1),))
            x = fnp.moveaxis(flat[..., :n + (n - 1) * interior], -1, axis)
            n = x.shape[axis]
        if n + lo + hi < 0:
            raise ValueError(f"lax.pad: axis {axis} of size {n} with padding ({lo}, {hi}) "
                             f"would have a negative size.")
        # the positive padding first, then the negative ends crop the padded axis (a crop
        # may reach into the other end's padding: (2, -4) on 3 elements leaves 1 pad value)
        parts = []
        for k in (lo, None, hi):
            if k is None:
                parts.append(x)
            elif k > 0:
                shape = list(x.shape)
                shape[axis] = k
                parts.append(_fill(x, padding_value, tuple(shape)))
        if len(parts) > 1:
            x = fnp.concat(parts, axis=axis)
        m = x.shape[axis]
        start, stop = builtins.max(-lo, 0), m - builtins.max(-hi, 0)
        if start or stop != m:
            idx = [builtins.slice(None)] * x.ndim
            idx[axis] = builtins.slice(start, stop)
            x = x[tuple(idx)]
    return x if x is not operand else fnp.copy(x)


def concatenate(operands, dimension):
    """The arrays ``operands`` joined along the axis ``dimension``
    (``jax.lax.concatenate``); they must have one dtype."""
    ops = [_array(o) for o in operands]
    if not ops:
        raise ValueError("lax.concatenate needs at least one operand.")
    dts = [_dtype(o) for o in ops]
    if any(d is not dts[0] for d in dts):
        raise TypeError(f"lax.concatenate requires arguments to have the same dtypes, got "
                        f"{', '.join(d.name for d in dts)}.")
    return fnp.concat(ops, axis=_axis(dimension, ops[0].ndim, "lax.concatenate"))


def slice(operand, start_indices, limit_indices, strides=None):  # noqa: A001
    """``operand[start:limit:stride, ...]`` with one static start, limit and stride per
    axis (``jax.lax.slice``); ``0 <= start <= limit <= size``."""
    x = _array(operand)
    n = x.ndim
    strides = (1,) * n if strides is None else tuple(strides)
    if not len(start_indices) == len(limit_indices) == len(strides) == n:
        raise TypeError(f"lax.slice: start_indices, limit_indices and strides need one entry "
                        f"per axis ({n}).")
    idx = []
    for a, (s, e, st) in enumerate(zip(start_indices, limit_indices, strides)):
        if not 0 <= s <= e <= x.shape[a] or st < 1:
            raise ValueError(f"lax.slice: axis {a} of size {x.shape[a]}: start {s}, limit "
                             f"{e} and stride {st} must have 0 <= start <= limit <= size and "
                             f"stride >= 1.")
        idx.append(builtins.slice(s, e, st))
    return fnp.copy(x[tuple(idx)]) if n else fnp.copy(x)


def slice_in_dim(operand, start_index, limit_index, stride=1, axis=0):
    """``lax.slice`` along one axis (``jax.lax.slice_in_dim``); ``None`` and negative
    indices count as in Python."""
    x = _array(operand)
    axis = _axis(axis, x.ndim, "lax.slice_in_dim")
    d = x.shape[axis]
    s = 0 if start_index is None else start_index + (d if start_index < 0 else 0)
    e = d if limit_index is None else limit_index + (d if limit_index < 0 else 0)
    starts, limits, strides = [0] * x.ndim, list(x.shape), [1] * x.ndim
    starts[axis], limits[axis], strides[axis] = s, e, stride
    return slice(x, starts, limits, strides)


def index_in_dim(operand, index, axis=0, keepdims=True):
    """The slice at a static ``index`` along ``axis``, kept with size 1 or dropped
    (``jax.lax.index_in_dim``)."""
    x = _array(operand)
    axis = _axis(axis, x.ndim, "lax.index_in_dim")
    d = x.shape[axis]
    if not -d <= index < d:
        raise IndexError(f"lax.index_in_dim: index {index} is out of bounds for axis {axis} "
                         f"of size {d}.")
    index %= d
    out = slice_in_dim(x, index, index + 1, 1, axis)
    return out if keepdims else fnp.squeeze(out, axis=axis)


def collapse(operand, start_dimension, stop_dimension=None):
    """``operand`` with its axes ``start_dimension:stop_dimension`` merged into one
    (``jax.lax.collapse``), the bounds read as a Python slice's: an empty range inserts an
    axis of size 1 there (the product of no sizes)."""
    x = _array(operand)
    start, stop, step = builtins.slice(operator.index(start_dimension), None if
                                       stop_dimension is None else
                                       operator.index(stop_dimension)).indices(x.ndim)
    if stop < start:
        raise ValueError(f"lax.collapse: stop_dimension {stop_dimension} comes before "
                         f"start_dimension {start_dimension} for shape {tuple(x.shape)}.")
    size = 1
    for n in x.shape[start:stop]:
        size *= n
    return fnp.reshape(x, tuple(x.shape[:start]) + (size,) + tuple(x.shape[stop:]))


# -- creation and conversion -------------------------------------------------------------


def iota(dtype, size):
    """``[0, 1, ..., size - 1]`` of ``dtype`` on the default backend (``jax.lax.iota``)."""
    d, size = _dt.as_dtype(dtype), operator.index(size)
    if d.kind == "b":  # (a count has no boolean values past 1)
        raise TypeError("lax.iota does not accept dtype bool; accepted: integer, floating, "
                        "complex floating.")
    if size < 0:
        raise ValueError(f"lax.iota: size must be nonnegative; got {size}.")
    return fnp.arange(size, dtype=d)


def broadcasted_iota(dtype, shape, dimension):
    """An array of ``shape`` whose values count along axis ``dimension``
    (``jax.lax.broadcasted_iota``)."""
    shape = tuple(shape)
    dim = _axis(dimension, len(shape), "lax.broadcasted_iota")
    return broadcast_in_dim(iota(dtype, shape[dim]), shape, (dim,))


def full(shape, fill_value, dtype=None):
    """An array of ``shape`` filled with ``fill_value`` (``jax.lax.full``), of ``dtype`` or
    the fill value's; a traced 0-d fill value is differentiated."""
    shape = tuple(shape)
    if _is_py(fill_value) or not hasattr(fill_value, "shape"):
        return fnp.full(shape, fill_value, dtype=dtype)
    if fill_value.ndim:
        raise TypeError("lax.full: fill_value must be a scalar.")
    v = fill_value if dtype is None else convert_element_type(fill_value, dtype)
    return fnp.broadcast_to(v, shape) if shape else fnp.copy(v)


def full_like(x, fill_value, dtype=None, shape=None):
    """An array like ``x`` (its shape, dtype, library and device unless given) filled with
    ``fill_value`` (``jax.lax.full_like``)."""
    x = _array(x)
    dtype = x.dtype if dtype is None else dtype
    shape = tuple(x.shape) if shape is None else tuple(shape)
    if _is_py(fill_value) or not hasattr(fill_value, "shape"):
        return fnp.full(shape, fill_value, dtype=dtype, device=fnp.device(x))
    return full(shape, fill_value, dtype)


def zeros_like_array(x):
    """Zeros like ``x`` (``jax.lax.zeros_like_array`` of older JAX versions)."""
    return fnp.zeros_like(_array(x))


def convert_element_type(operand, new_dtype):
    """``operand`` converted to ``new_dtype`` (``jax.lax.convert_element_type``), as XLA
    converts: complex to real keeps the real part; floats to integers round towards zero,
    saturate at the integer type's bounds and give 0 for nan; to bool is ``!= 0``.
    Differentiable between floating dtypes."""
    x = _array(operand)
    d, t = _dtype(x), _dt.as_dtype(new_dtype)
    if d is t:
        return fnp.copy(x)
    if d.kind == "c" and t.kind != "c":
        x, d = fnp.real(x), _dt.real_dtype(d)
        if d is t:
            return x
    if t.kind == "b":
        return fnp.not_equal(x, 0)
    if d.kind == "f" and t.kind in "iu":
        info = fnp.iinfo(t.name)
        top, bottom = 2.0 ** (t.bits - (t.kind == "i")), float(info.min)
        hi_, lo_ = fnp.greater_equal(x, top), fnp.less(x, bottom)
        bad = fnp.logical_or(fnp.logical_or(hi_, lo_), fnp.isnan(x))
        out = fnp.astype(fnp.trunc(fnp.where(bad, 0, x)), t)
        return fnp.where(hi_, info.max, fnp.where(lo_, info.min, out))
    if t.kind in "fc":
        return _cast_overflowing_to_inf(x, d, t)
    return fnp.astype(x, t)


def _cast_overflowing_to_inf(x, d, t):
    # A value that rounds to infinity in a narrower floating dtype: NumPy's cast gives the
    # same +-inf as XLA's but warns "overflow encountered in cast" (tests run with warnings
    # as errors); XLA's is silent. So those values become +-inf by a select instead.
    rt = _dt.real_dtype(t) if t.kind == "c" else t
    fi = fnp.finfo(rt.name)
    if fi.maxexp >= 1024:  # (to float64: no narrower source overflows it)
        return fnp.astype(x, t)
    # max + half an ulp of max, the midpoint from which a value rounds up to infinity
    thr = 2.0 ** fi.maxexp * (1 - 2.0 ** -(fi.nmant + 2))
    top = float(fnp.finfo(_dt.real_dtype(d).name).max if d.kind in "fc"
                else fnp.iinfo(d.name).max if d.kind in "iu" else 1)
    if top < thr:  # (no value of d overflows)
        return fnp.astype(x, t)
    if d.kind == "c":  # (t complex too: the parts one by one, then put together exactly)
        re, im = (_cast_overflowing_to_inf(p, _dt.real_dtype(d), rt)
                  for p in (fnp.real(x), fnp.imag(x)))
        return _nonfinite_parts_to_complex(re, im, t)
    hi_, lo_ = fnp.greater_equal(x, thr), fnp.less_equal(x, -thr)
    out = fnp.astype(fnp.where(fnp.logical_or(hi_, lo_), 0, x), t)
    return fnp.where(hi_, math.inf, fnp.where(lo_, -math.inf, out))


def _nonfinite_parts_to_complex(re, im, d):
    """``re + im j`` of complex dtype ``d``, the parts possibly infinite or NaN, built with
    no ``inf * 0`` evaluated (silent): the finite parts exactly, the others added to 0."""
    from .numpy._elementwise import _from_parts
    re_fin, im_fin = fnp.isfinite(re), fnp.isfinite(im)
    out = _from_parts(fnp.where(re_fin, re, 0), fnp.where(im_fin, im, 0), d)
    c = builtins.complex

    def offset(v, fin, unit):
        # v where it is not finite, else -0 (which leaves a sum's signed zero as it is)
        vals = [c(math.inf, -0.0), c(-math.inf, -0.0), c(math.nan, -0.0)]
        if unit:
            vals = [c(-0.0, z.real) for z in vals]
        o = fnp.where(fin, c(-0.0, -0.0), fnp.where(fnp.isnan(v), vals[2], fnp.where(
            fnp.greater(v, 0), vals[0], vals[1])))
        return fnp.astype(o, d)
    return fnp.add(fnp.add(out, offset(re, re_fin, False)), offset(im, im_fin, True))


def bitcast_convert_type(operand, new_dtype):
    """The bits of ``operand`` read as ``new_dtype`` (``jax.lax.bitcast_convert_type``): to a
    narrower dtype adds a trailing axis, to a wider one removes the trailing axis (whose size
    must be the ratio). On the device for torch and CuPy (a view of the bytes), through NumPy on
    the host for other libraries (the result on the operand's device). Works under
    ``vmap`` and ``jit``; an integer result has no derivative, a floating one from another
    dtype raises ValueError if differentiated (JAX gives zero), from the same dtype it is
    the identity."""
    from .primitives.structural import bitcast_convert_type as bitcast, bitcast_shape
    x = _array(operand)
    d, t = _dtype(x), _dt.as_dtype(new_dtype)
    if d.kind == "b" or t.kind == "b":
        raise TypeError("lax.bitcast_convert_type: bool operands or results are refused.")
    bitcast_shape(x.shape, d, t)  # (the error on a wrong trailing axis, before binding)
    return bitcast(x, t)


# -- reductions, sorting, cumulative ------------------------------------------------------


def _axes(axes, ndim, what):
    out = tuple(_axis(a, ndim, what) for a in axes)
    if len(set(out)) != len(out):
        raise ValueError(f"{what}: repeated axes {tuple(axes)}.")
    return out


def reduce_sum(operand, axes):
    """The sum over ``axes``, in the operand's dtype (``jax.lax.reduce_sum``)."""
    x = _array(operand)
    return fnp.sum(x, axis=_axes(axes, x.ndim, "lax.reduce_sum"), dtype=x.dtype)


def reduce_prod(operand, axes):
    """The product over ``axes``, in the operand's dtype (``jax.lax.reduce_prod``)."""
    x = _array(operand)
    return fnp.prod(x, axis=_axes(axes, x.ndim, "lax.reduce_prod"), dtype=x.dtype)


def _extreme(x, axes, which, name):
    axes = _axes(axes, x.ndim, name)
    if any(x.shape[a] == 0 for a in axes):  # JAX gives the identity (-inf, the lowest int)
        d = _dtype(x)
        if d.kind == "f":
            v = -float("inf") if which == "max" else float("inf")
        elif d.kind == "b":
            v = which == "min"
        else:
            info = fnp.iinfo(d.name)
            v = info.min if which == "max" else info.max
        shape = tuple(n for i, n in enumerate(x.shape) if i not in axes)
        return fnp.full(shape, v, dtype=x.dtype, device=fnp.device(x))
    return (fnp.max if which == "max" else fnp.min)(x, axis=axes)


def reduce_max(operand, axes):
    """The maximum over ``axes`` (``jax.lax.reduce_max``; over no elements, the dtype's
    lowest value)."""
    return _extreme(_array(operand), axes, "max", "lax.reduce_max")


def reduce_min(operand, axes):
    """The minimum over ``axes`` (``jax.lax.reduce_min``; over no elements, the dtype's
    highest value)."""
    return _extreme(_array(operand), axes, "min", "lax.reduce_min")


def _bitwise_reduce(x, axes, op, identity, name):
    x = _array(x)
    axes = _axes(axes, x.ndim, name)
    d = _dtype(x)
    if d.kind not in "biu":
        raise TypeError(f"{name} does not accept dtype {d.name}; accepted: bool, integers.")
    if d.kind == "b" and op is not fnp.bitwise_xor:
        return (fnp.all if op is fnp.bitwise_and else fnp.any)(x, axis=axes)
    if d.kind == "u" and identity == -1:
        identity = fnp.iinfo(d.name).max
    init = fnp.full((), identity if d.kind != "b" else False, dtype=x.dtype,
                    device=fnp.device(x))
    return reduce(x, init, op, axes)


def reduce_and(operand, axes):
    """``&`` over ``axes`` (``jax.lax.reduce_and``): ``all`` for bool, bitwise for
    integers."""
    return _bitwise_reduce(operand, axes, fnp.bitwise_and, -1, "lax.reduce_and")


def reduce_or(operand, axes):
    """``|`` over ``axes`` (``jax.lax.reduce_or``): ``any`` for bool, bitwise for
    integers."""
    return _bitwise_reduce(operand, axes, fnp.bitwise_or, 0, "lax.reduce_or")


def reduce_xor(operand, axes):
    """``^`` over ``axes`` (``jax.lax.reduce_xor``), bool or integers."""
    return _bitwise_reduce(operand, axes, fnp.bitwise_xor, 0, "lax.reduce_xor")


def _known_computation(fn):
    from . import convolution
    table = {add: "add", mul: "mul", max: "max", min: "min", fnp.add: "add",
             fnp.multiply: "mul", fnp.maximum: "max", fnp.minimum: "min",
             operator.add: "add", operator.mul: "mul", convolution.add: "add",
             convolution.mul: "mul", convolution.max: "max", convolution.min: "min"}
    try:
        return table.get(fn)
    except TypeError:  # an unhashable callable
        return None


def _pairwise(fn, leaves, tree, axis):
    """``fn`` folded over axis ``axis`` of the leaves by halving (a tree of applications:
    ``fn`` is taken to be associative, as XLA takes it)."""
    n = leaves[0].shape[axis]
    while n > 1:
        half = n // 2
        lo = [_take(x, 0, half, axis) for x in leaves]
        hi = [_take(x, half, 2 * half, axis) for x in leaves]
        out = tree_flatten(fn(tree_unflatten(tree, lo), tree_unflatten(tree, hi)))[0]
        if n % 2:
            out = [fnp.concat([o, _take(x, 2 * half, n, axis)], axis=axis)
                   for o, x in zip(out, leaves)]
        leaves, n = out, half + n % 2
    return leaves


def _take(x, start, stop, axis, step=1):
    idx = [builtins.slice(None)] * x.ndim
    idx[axis] = builtins.slice(start, stop, step)
    return x[tuple(idx)]


def reduce(operands, init_values, computation, dimensions):
    """``computation`` folded over the axes ``dimensions`` of ``operands`` (an array or a
    pytree of arrays of one shape), starting from ``init_values`` (``jax.lax.reduce``).

    The elementwise ``lax.add``, ``lax.mul``, ``lax.max``, ``lax.min`` (or NumPy's) on one
    array are the library's reductions; any other computation (pytrees included) is applied
    as a balanced tree of pairwise calls on array halves, so it must be associative and
    commutative as XLA assumes, and act elementwise on arrays. ``init_values`` is folded in
    once (it should be the computation's identity, as JAX requires)."""
    leaves, tree = tree_flatten(operands)
    leaves = [_array(x) for x in leaves]
    inits, itree = tree_flatten(init_values)
    if itree != tree:
        raise TypeError(f"lax.reduce: operands and init_values must have one structure; got "
                        f"{tree} and {itree}.")
    if not leaves:
        raise TypeError("lax.reduce needs at least one operand.")
    bad = [tuple(i.shape) for i in inits if not _is_py(i) and tuple(_array(i).shape) != ()]
    if bad:
        raise ValueError(f"lax.reduce: init_values must be scalars; got shapes {bad}.")
    shape = tuple(leaves[0].shape)
    if any(tuple(x.shape) != shape for x in leaves):
        raise TypeError("lax.reduce: the operands must have one shape.")
    dims = _axes(dimensions, len(shape), "lax.reduce")
    kept = [i for i in range(len(shape)) if i not in dims]
    out_shape = tuple(shape[i] for i in kept)
    name = _known_computation(computation) if len(leaves) == 1 else None
    if name is not None:
        x = leaves[0]
        red = {"add": reduce_sum, "mul": reduce_prod, "max": reduce_max,
               "min": reduce_min}[name](x, dims)
        return {"add": add, "mul": mul, "max": max, "min": min}[name](
            _init_like(inits[0], x), red)
    size = 1
    for a in dims:
        size *= shape[a]
    if size == 0:
        return tree_unflatten(tree, [fnp.broadcast_to(_init_like(i, x), out_shape)
                                     for i, x in zip(inits, leaves)])
    computation = with_constant_arguments(computation, _sys._getframe(1))
    flat = [fnp.reshape(fnp.permute_dims(x, tuple(kept) + dims), out_shape + (size,))
            for x in leaves]
    red = _pairwise(computation, flat, tree, len(out_shape))
    red = [fnp.squeeze(r, axis=-1) for r in red]
    init = [fnp.broadcast_to(_init_like(i, x), out_shape) for i, x in zip(inits, leaves)]
    return computation(tree_unflatten(tree, red), tree_unflatten(tree, init))


def _init_like(v, x):
    if _is_py(v):
        return fnp.full((), v, dtype=x.dtype, device=fnp.device(x))
    return _array(v)


def argmax(operand, axis, index_dtype):
    """The index of the maximum along ``axis``, of ``index_dtype`` (``jax.lax.argmax``): the
    first of ties, the first nan if there is one."""
    x = _array(operand)
    axis = _axis(axis, x.ndim, "lax.argmax")
    return fnp.astype(fnp.argmax(x, axis=axis), _index_dtype(index_dtype, "argmax"))


def argmin(operand, axis, index_dtype):
    """The index of the minimum along ``axis``, of ``index_dtype`` (``jax.lax.argmin``)."""
    x = _array(operand)
    axis = _axis(axis, x.ndim, "lax.argmin")
    return fnp.astype(fnp.argmin(x, axis=axis), _index_dtype(index_dtype, "argmin"))


def _index_dtype(d, name):
    d = _dt.as_dtype(d)
    if d.kind not in "iu":
        raise TypeError(f"lax.{name}: index_dtype must be an integer type; got {d.name}.")
    return d


def sort(operand, dimension=-1, is_stable=True, num_keys=1):
    """``operand`` sorted along ``dimension`` (``jax.lax.sort``); a sequence of arrays of one
    shape is sorted together, lexicographically by its first ``num_keys`` arrays, the others
    permuted alike (returned as a tuple). nan sorts last; the sort is always stable; complex
    numbers are ordered by their real parts, then their imaginary parts, as in JAX."""
    if hasattr(operand, "shape"):
        x = operand
        if num_keys != 1:
            raise ValueError(f"lax.sort: num_keys must be 1 for a single operand; got "
                             f"{num_keys}.")
        if _dtype(x).kind == "c":  # (by keys: not every library sorts complex numbers)
            return sort((x,), dimension, is_stable, 1)[0]
        return fnp.sort(x, axis=_axis(dimension, x.ndim, "lax.sort"), stable=True)
    ops = [_array(o) for o in operand]
    if not ops:
        raise TypeError("lax.sort needs at least one operand.")
    shape = tuple(ops[0].shape)
    if any(tuple(o.shape) != shape for o in ops):
        raise TypeError("lax.sort: the operands must have one shape.")
    if not 1 <= num_keys <= len(ops):
        raise ValueError(f"lax.sort: num_keys must be between 1 and the number of operands "
                         f"({len(ops)}); got {num_keys}.")
    axis = _axis(dimension, len(shape), "lax.sort")
    keys = []
    for o in ops[:num_keys]:  # (a complex key: its real part, then its imaginary part)
        keys += [fnp.real(o), fnp.imag(o)] if _dtype(o).kind == "c" else [o]
    idx = None
    for key in reversed(keys):  # least significant key first, stable sorts
        key = key if idx is None else fnp.take_along_axis(key, idx, axis=axis)
        order = fnp.argsort(key, axis=axis, stable=True)
        idx = order if idx is None else fnp.take_along_axis(idx, order, axis=axis)
    return tuple(fnp.take_along_axis(o, idx, axis=axis) for o in ops)


def sort_key_val(keys, values, dimension=-1, is_stable=True):
    """``(keys sorted along dimension, values permuted alike)`` (``jax.lax.sort_key_val``)."""
    return sort((keys, values), dimension, is_stable, 1)


def _jet_beneath():
    """Whether a jet (Taylor mode) is among the transforms now applied."""
    from .core import current_interpreter
    from .taylor import JetInterpreter
    interp = current_interpreter()
    while interp is not None:
        if type(interp) is JetInterpreter:
            return True
        interp = interp.parent
    return False


def top_k(operand, k, *, axis=-1):
    """The ``k`` largest values along ``axis`` (last by default), in decreasing order, and
    their int32 indices (``jax.lax.top_k``); ties keep the lower index first. Floats are
    ordered as JAX's (IEEE total order, unlike ``sort``): ``-0.0`` below ``0.0``, a NaN
    with the sign bit set below ``-inf``, one without above ``inf`` (NaNs of one sign tie;
    JAX orders them by payload)."""
    x = _array(operand)
    axis = _axis(axis, x.ndim, "lax.top_k")
    k = operator.index(k)
    if not 0 <= k <= x.shape[axis]:
        raise ValueError(f"lax.top_k: k={k} must be between 0 and the axis size "
                         f"{x.shape[axis]}.")
    if _dtype(x).kind == "f":
        # two stable sorts: by the value (NaNs as infinities of their sign), ties then
        # broken by a key that puts each NaN beyond its infinity and 0.0 above -0.0. (Under
        # jet x itself, so that the sort by value orders ties as the curves are for small
        # t > 0, values and indices alike; else its stop_gradient, which other transforms
        # need not follow: argsort has no derivative)
        v = x if _jet_beneath() else fnp.stop_gradient(x)
        nan, pos = fnp.isnan(v), fnp.logical_not(fnp.signbit(v))
        tie = fnp.add(fnp.astype(pos, fnp.int8),
                      fnp.astype(fnp.where(nan, fnp.where(pos, 4, -2), 2), fnp.int8))
        v = fnp.where(nan, fnp.where(pos, float("inf"), float("-inf")), v)
        first = fnp.argsort(tie, axis=axis, descending=True, stable=True)
        order = fnp.take_along_axis(first, fnp.argsort(
            fnp.take_along_axis(v, first, axis=axis), axis=axis, descending=True,
            stable=True), axis=axis)
    else:
        order = fnp.argsort(x, axis=axis, descending=True, stable=True)
    idx = _take(order, 0, k, axis)
    return [fnp.take_along_axis(x, idx, axis=axis), fnp.astype(idx, fnp.int32)]


def _cumulative(fn, name, kinds):
    def op(operand, axis=0, reverse=False):
        x = _array(operand)
        (x,), _ = _operands(name, (x,), kinds)
        ax = _axis(axis, x.ndim, f"lax.{name}")
        return fn(x, ax, reverse)
    op.__name__ = op.__qualname__ = name
    return op


def _cumsum(x, axis, reverse):
    if reverse:
        x = fnp.flip(x, axis=axis)
    out = fnp.cumsum(x, axis=axis, dtype=x.dtype)
    return fnp.flip(out, axis=axis) if reverse else out


def _cumprod(x, axis, reverse):
    if reverse:
        x = fnp.flip(x, axis=axis)
    out = fnp.cumprod(x, axis=axis, dtype=x.dtype)
    return fnp.flip(out, axis=axis) if reverse else out


cumsum = _cumulative(_cumsum, "cumsum", _NUM)
cumsum.__doc__ = ("Running sums along ``axis`` (from the end with ``reverse``), in the "
                  "operand's dtype (``jax.lax.cumsum``).")
cumprod = _cumulative(_cumprod, "cumprod", _NUM)
cumprod.__doc__ = ("Running products along ``axis`` (from the end with ``reverse``), in "
                   "the operand's dtype (``jax.lax.cumprod``).")
cummax = _cumulative(lambda x, a, r: associative_scan(fnp.maximum, x, r, a), "cummax",
                     "biufc")
cummax.__doc__ = ("Running maxima along ``axis`` (``jax.lax.cummax``), as an "
                  "``associative_scan`` (complex numbers ordered as ``lax.max`` orders them).")
cummin = _cumulative(lambda x, a, r: associative_scan(fnp.minimum, x, r, a), "cummin",
                     "biufc")
cummin.__doc__ = ("Running minima along ``axis`` (``jax.lax.cummin``), as an "
                  "``associative_scan``.")


def _cumlogsumexp(x, axis, reverse):
    if _dtype(x).kind == "c":
        return associative_scan(_complex_logaddexp, x, reverse, axis)
    v = _core_concrete_behind(x)
    if v is not None and _holds_nan(v):
        # NumPy's logaddexp warns at a nan operand (functrans.numpy's keeps NumPy's warnings),
        # JAX's cumlogsumexp is silent: quiet here, where a nan is known to be there (a host
        # read on concrete values; staged code warns as NumPy, see docs/api/lax.md)
        import numpy as np
        with np.errstate(invalid="ignore"):
            return associative_scan(fnp.logaddexp, x, reverse, axis)
    return associative_scan(fnp.logaddexp, x, reverse, axis)


def _holds_nan(v):
    """Whether the concrete array ``v`` (of any backend) holds a nan: one host read."""
    from .scipy.special import _holds_somewhere
    return _holds_somewhere(v, lambda xp, a: xp.isnan(a))


cumlogsumexp = _cumulative(_cumlogsumexp, "cumlogsumexp", _F + "c")
cumlogsumexp.__doc__ = (
    "Running ``log(sum(exp(x)))`` along ``axis``, computed stably "
    "(``jax.lax.cumlogsumexp``), as an ``associative_scan``. Complex entries give the "
    "principal branch, the imaginary part in ``[-pi, pi]`` as the floats hold it (a sum "
    "landing on ``pi`` keeps it; JAX 0.10.2 turns it into ``-pi``), accurate for large "
    "imaginary parts, and the limits at infinite real parts (``log(exp(inf + bj) + c) = "
    "inf + bj``, ``-inf`` entries add nothing; JAX gives nan there); derivatives are the "
    "holomorphic ones.")


_TWO_PI = 2.0 * math.pi


def _principal_angle(y):
    """The real ``y`` reduced to ``[-pi, pi]``: itself there (``+-pi`` as given), else
    ``atan2(sin y, cos y)``, whose argument reduction is exact (``y mod 2pi`` with the
    float ``2pi`` was off by ``y * 2.4e-16``: 4e-7 at 1e10); nan at an infinite ``y``."""
    far = fnp.abs(y) > math.pi
    z = fnp.where(fnp.logical_and(far, fnp.isfinite(y)), y, 0.0)
    return fnp.where(far, fnp.where(fnp.isinf(y), math.nan, fnp.atan2(fnp.sin(z), fnp.cos(z))),
                     y)


def _difference(a, b, both_inf):
    """``a - b`` where ``both_inf`` is false, 0 where it is true (without inf - inf's
    warning)."""
    return fnp.where(both_inf, 0.0, a - fnp.where(both_inf, 0.0, b))


def _complex_lae_parts(x, y):
    """``(take, hi, e)``: where x is taken as ``hi``, the operand with the larger real
    part (x at a tie), and ``exp(lo - hi)`` for the other one ``lo`` (``|e| <= 1``), the real
    parts' difference taken as 0 where both are the same infinity and the imaginary parts
    agree (the value's limit; ``-inf`` where they differ at ``-inf``: the other one adds
    nothing; nan at ``+inf``: no limit)."""
    xr, yr = fnp.real(x), fnp.real(y)
    take = fnp.logical_or(xr >= yr, fnp.isnan(yr))
    hi, lo = fnp.where(take, x, y), fnp.where(take, y, x)
    hr, lr, hm, lm = fnp.real(hi), fnp.real(lo), fnp.imag(hi), fnp.imag(lo)
    inf_r = fnp.logical_and(hr == lr, fnp.isinf(hr))
    inf_m = fnp.logical_and(hm == lm, fnp.isinf(hm))
    dm = fnp.where(inf_m, math.nan, _difference(lm, hm, inf_m))
    fix = fnp.where(dm == 0.0, 0.0, fnp.where(hr < 0.0, -math.inf, math.nan))
    dr = fnp.where(inf_r, fix, _difference(lr, hr, inf_r))
    # exp(d) is 0 at a real part -inf, whatever the imaginary part (0 there); elsewhere a
    # nan or infinite part makes both nan (exp(nan + 1j) and exp(1 + nan j) warn, nan + nan j
    # does not)
    gone, odd = dr == -math.inf, fnp.logical_not(fnp.isfinite(dm))
    bad = fnp.logical_or(fnp.isnan(dr), fnp.logical_and(odd, fnp.logical_not(gone)))
    dr = fnp.where(bad, math.nan, dr)
    dm = fnp.where(bad, math.nan, fnp.where(fnp.logical_and(odd, gone), 0.0, dm))
    from .numpy._elementwise import _from_parts
    return take, hi, fnp.exp(_from_parts(dr, dm, _dtype(x)))


def _complex_logaddexp_value(x, y):
    _, hi, e = _complex_lae_parts(x, y)
    lg = fnp.log1p(e)   # (1 + e has a real part >= 0: its angle is in [-pi/2, pi/2])
    im = _principal_angle(fnp.imag(hi)) + fnp.imag(lg)
    im = fnp.where(im > math.pi, im - _TWO_PI, fnp.where(im < -math.pi, im + _TWO_PI, im))
    from .numpy._elementwise import _from_parts
    return _from_parts(fnp.real(hi) + fnp.real(lg), im, _dtype(x))


def _complex_logaddexp_jvp(primals, tangents):
    # the holomorphic derivative: weights exp(hi - out) = 1 / (1 + e) and e / (1 + e),
    # those of the value's own limits where both real parts are the same infinity (1/2 each
    # for equal imaginary parts, as the real logaddexp's)
    x, y = primals
    tx, ty = tangents
    take, _, e = _complex_lae_parts(x, y)
    # (nan apart: complex division by nan warns)
    ok = fnp.isfinite(e)
    e = fnp.where(ok, e, 0.0)
    nan = complex(math.nan, math.nan)
    w_hi = fnp.where(ok, 1.0 / (1.0 + e), nan)
    w_lo = fnp.where(ok, e * w_hi, nan)
    t_hi, t_lo = fnp.where(take, tx, ty), fnp.where(take, ty, tx)
    return _complex_logaddexp(x, y), t_hi * w_hi + t_lo * w_lo


_complex_logaddexp_fn = None


def _complex_logaddexp(x, y):
    """``log(exp(x) + exp(y))`` for complex ``x``, ``y`` of one dtype and shape, without
    overflow: shifted by the operand of larger real part, the imaginary part on the principal
    branch (see cumlogsumexp)."""
    global _complex_logaddexp_fn
    if _complex_logaddexp_fn is None:
        from .custom import custom_jvp
        _complex_logaddexp_fn = custom_jvp(_complex_logaddexp_value)
        _complex_logaddexp_fn.defjvp(_complex_logaddexp_jvp)
    return _complex_logaddexp_fn(x, y)


# -- products ------------------------------------------------------------------------------

_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


class Precision(enum.Enum):
    """The precision hint of ``jax.lax``'s products and convolutions (``jax.lax.Precision``):
    ``DEFAULT``, ``HIGH``, ``HIGHEST``, also made from JAX's names (``Precision('highest')``,
    ``'float32'``, ``'tensorfloat32'``, ``'bfloat16'``...). functrans accepts it where JAX
    does and it changes nothing: every backend computes at the operands' own precision
    (JAX's ``HIGHEST``)."""
    DEFAULT = 0
    HIGH = 1
    HIGHEST = 2

    @classmethod
    def _missing_(cls, value):
        names = {"default": 0, "fastest": 0, "bfloat16": 0, "high": 1, "bfloat16_3x": 1,
                 "tensorfloat32": 1, "highest": 2, "float32": 2}
        if isinstance(value, str) and value.lower() in names:
            return cls(names[value.lower()])
        return None

    def __str__(self):
        return self.name


def select_n(which, *cases):
    """``cases[which]``, elementwise (``jax.lax.select_n``): ``which`` is boolean (then at
    most two cases: False picks ``cases[0]``) or an integer array in ``[0, len(cases))``,
    0-d or of the cases' shape; the cases share one shape and dtype. The derivative flows to
    the chosen case only. An index outside the range picks the last case (JAX leaves it
    undefined)."""
    if not cases:
        raise ValueError("select_n: at least one case is needed")
    shapes = {tuple(_shape_of(c)) for c in cases}
    if len(shapes) != 1:
        raise TypeError(f"select_n: the cases must have one shape; got {sorted(shapes)}")
    dts = {_dtype(c) for c in cases}
    if len(dts) != 1:
        raise TypeError(f"select_n: the cases must have one dtype; got "
                        f"{sorted(d.name for d in dts)}")
    shape = shapes.pop()
    ws = tuple(_shape_of(which))
    if ws not in ((), shape):
        raise TypeError(f"select_n: which must be 0-d or of the cases' shape {shape}; got "
                        f"shape {ws}")
    kind = _dtype(which).kind
    if kind == "b":
        if len(cases) > 2:
            raise TypeError(f"select_n: a boolean which selects between at most 2 cases; "
                            f"got {len(cases)}")
        return cases[0] if len(cases) == 1 else fnp.where(which, cases[1], cases[0])
    if kind not in "iu":
        raise TypeError(f"select_n: which must be boolean or integer; got "
                        f"{_dtype(which).name}")
    out = cases[-1]
    for i in range(len(cases) - 2, -1, -1):
        out = fnp.where(fnp.equal(which, i), cases[i], out)
    return out


def _shape_of(x):
    return _array(x).shape


def _check_precision(precision, preferred_element_type):
    del precision  # accepted: every backend computes at the operands' precision
    return None if preferred_element_type is None else _dt.as_dtype(preferred_element_type)


def dot_general(lhs, rhs, dimension_numbers, precision=None, preferred_element_type=None):
    """A general tensor contraction (``jax.lax.dot_general``): ``dimension_numbers`` is
    ``((lhs_contracting, rhs_contracting), (lhs_batch, rhs_batch))``; the result's axes are
    the batch axes, then ``lhs``'s free axes, then ``rhs``'s. Operands of different dtypes
    are promoted (as JAX does); ``preferred_element_type`` is the result's dtype (the
    product computed in it where the operands convert to it without loss, else in their
    own dtype and then converted: float operands with an int32 one are not truncated
    first, as JAX's are when both are floats; JAX 0.10.2 on CPU truncates them first where
    the operands' dtypes differ, 0.6 * 1 + 0.6 * 1 giving 0, not 1); ``precision`` is
    accepted and ignored."""
    pref = _check_precision(precision, preferred_element_type)
    x, y = _array(lhs), _array(rhs)
    try:
        (lc, rc), (lb, rb) = dimension_numbers
    except (TypeError, ValueError):
        raise TypeError(f"lax.dot_general: dimension_numbers must be ((lhs_contracting, "
                        f"rhs_contracting), (lhs_batch, rhs_batch)); got "
                        f"{dimension_numbers!r}.") from None
    lc = [_axis(a, x.ndim, "lax.dot_general") for a in lc]
    rc = [_axis(a, y.ndim, "lax.dot_general") for a in rc]
    lb = [_axis(a, x.ndim, "lax.dot_general") for a in lb]
    rb = [_axis(a, y.ndim, "lax.dot_general") for a in rb]
    if len(lc) != len(rc) or len(lb) != len(rb):
        raise TypeError(f"lax.dot_general: the contracting and batch dimensions of lhs and "
                        f"rhs must pair up; got {dimension_numbers!r}.")
    if len(set(lc + lb)) != len(lc + lb) or len(set(rc + rb)) != len(rc + rb):
        raise TypeError(f"lax.dot_general: an axis is listed twice in {dimension_numbers!r}.")
    for a, b, what in [(a, b, "contracting") for a, b in zip(lc, rc)] + \
            [(a, b, "batch") for a, b in zip(lb, rb)]:
        if x.shape[a] != y.shape[b]:
            raise TypeError(f"lax.dot_general: {what} dimensions must have equal sizes; lhs "
                            f"axis {a} has {x.shape[a]}, rhs axis {b} has {y.shape[b]}.")
    if x.ndim + y.ndim > len(_LETTERS):
        raise ValueError("lax.dot_general: too many axes.")
    letters = iter(_LETTERS)
    ls = [next(letters) for _ in range(x.ndim)]
    rs = [None] * y.ndim
    for a, b in zip(lc + lb, rc + rb):
        rs[b] = ls[a]
    rs = [r if r is not None else next(letters) for r in rs]
    out = [ls[a] for a in lb] + [ls[i] for i in range(x.ndim) if i not in lc and i not in lb] \
        + [rs[i] for i in range(y.ndim) if i not in rc and i not in rb]
    return fnp.einsum(f"{''.join(ls)},{''.join(rs)}->{''.join(out)}", x, y,
                      preferred_element_type=pref)


def dot(lhs, rhs, *, dimension_numbers=None, precision=None, preferred_element_type=None):
    """The vector-vector, matrix-vector or matrix-matrix product (``jax.lax.dot``); with
    ``dimension_numbers``, ``dot_general``."""
    if dimension_numbers is not None:
        return dot_general(lhs, rhs, dimension_numbers, precision, preferred_element_type)
    x, y = _array(lhs), _array(rhs)
    if x.ndim not in (1, 2) or y.ndim not in (1, 2):
        raise ValueError(f"lax.dot: operands of 1 or 2 axes only (give dimension_numbers, or "
                         f"use dot_general); got shapes {tuple(x.shape)} and "
                         f"{tuple(y.shape)}.")
    return dot_general(x, y, (([x.ndim - 1], [0]), ([], [])), precision,
                       preferred_element_type)


def batch_matmul(lhs, rhs, precision=None):
    """Matrix products over leading batch axes of equal sizes (``jax.lax.batch_matmul``)."""
    x, y = _array(lhs), _array(rhs)
    if x.ndim < 2 or x.ndim != y.ndim or tuple(x.shape[:-2]) != tuple(y.shape[:-2]):
        raise ValueError(f"lax.batch_matmul: operands need the same number (>= 2) of axes "
                         f"and equal batch axes; got shapes {tuple(x.shape)} and "
                         f"{tuple(y.shape)}.")
    b = list(range(x.ndim - 2))
    return dot_general(x, y, (([x.ndim - 1], [x.ndim - 2]), (b, b)), precision)


# -- associative_scan ------------------------------------------------------------------------


def associative_scan(fn, elems, reverse=False, axis=0):
    """All prefix combinations ``fn(...fn(fn(e0, e1), e2)..., ek)`` along ``axis`` of the
    pytree ``elems`` (``jax.lax.associative_scan``), by the parallel-prefix algorithm: about
    ``2 log2(n)`` calls of ``fn``, each on whole slices. ``fn`` must be associative and act
    elementwise on slices (pytrees of arrays whose leading shapes match). With ``reverse``,
    the scan runs from the end. Differentiable, and works under ``vmap`` and ``jit``."""
    if not callable(fn):
        raise TypeError(f"lax.associative_scan: fn must be a function of two pytrees of "
                        f"slices; got {type(fn).__name__} {fn!r}.")
    leaves, tree = tree_flatten(elems)
    if not leaves:
        return elems
    leaves = [_array(x) for x in leaves]
    ndim = leaves[0].ndim
    if ndim == 0:
        raise ValueError("lax.associative_scan: elems must have at least one axis.")
    axis = _axis(axis, ndim, "lax.associative_scan")
    n = leaves[0].shape[axis]
    if any(x.ndim <= axis or x.shape[axis] != n for x in leaves):
        raise ValueError(f"lax.associative_scan: every leaf of elems needs axis {axis} of "
                         f"size {n}; got shapes {[tuple(x.shape) for x in leaves]}.")
    if reverse:
        leaves = [fnp.flip(x, axis=axis) for x in leaves]

    def combine(a, b):
        out, otree = tree_flatten(fn(tree_unflatten(tree, a), tree_unflatten(tree, b)))
        if otree != tree:
            raise TypeError(f"lax.associative_scan: fn must return the structure of elems "
                            f"({tree}); got {otree}.")
        return out

    def scan(xs):
        m = xs[0].shape[axis]
        if m < 2:
            return xs
        # combine neighbours, scan the pairs, then fill in the even positions
        reduced = combine([_take(x, 0, m - 1, axis, 2) for x in xs],
                          [_take(x, 1, m, axis, 2) for x in xs])
        odd = scan(reduced)
        if m % 2 == 0:
            even = combine([_take(o, 0, m // 2 - 1, axis) for o in odd],
                           [_take(x, 2, m, axis, 2) for x in xs])
        else:
            even = combine(odd, [_take(x, 2, m, axis, 2) for x in xs])
        even = [fnp.concat([_take(x, 0, 1, axis), e], axis=axis) for x, e in zip(xs, even)]
        return [_interleave(e, o, axis) for e, o in zip(even, odd)]

    out = scan(leaves)
    if reverse:
        out = [fnp.flip(x, axis=axis) for x in out]
    return tree_unflatten(tree, out)


def _interleave(even, odd, axis):
    """``even[0], odd[0], even[1], odd[1], ...`` along ``axis`` (``even`` may be one
    longer)."""
    ne, no = even.shape[axis], odd.shape[axis]
    head = _take(even, 0, no, axis)
    both = fnp.stack([head, odd], axis=axis + 1)
    shape = list(head.shape)
    shape[axis] = 2 * no
    out = fnp.reshape(both, tuple(shape))
    if ne > no:
        out = fnp.concat([out, _take(even, no, ne, axis)], axis=axis)
    return out


# -- implicit differentiation ----------------------------------------------------------------

def _register_why():
    from .checkpointing import _WHY
    for name in ("custom_root", "custom_linear_solve"):
        _WHY.setdefault(name, (
            "its function is staged once to find the values it closes over (as JAX "
            "traces it), so it cannot branch on the values of its arguments", "",
            " Write its control flow with functrans.lax (cond, while_loop) or "
            "functrans.numpy.where."))


def _closure_convert(fun, leaves, what):
    """``fun`` (flat leaves -> flat leaves) as a graph of (leaves, consts) and the values it
    closes over (``consts``: arrays and tracers of enclosing transforms)."""
    from .control_flow import _stage_flat
    _register_why()
    graph, consts = _stage_flat(fun, leaves, getattr(fun, "__name__", what), what,
                                like=leaves[0] if leaves else None)
    return graph, list(consts)


def _float_mask(values):
    return [_dt.is_float(_dtype(v)) for v in values]


def _tree_sub(a, b):
    return [fnp.subtract(u, v) for u, v in zip(a, b)]


def _float_positions(values):
    """The positions of the floating-point arrays among ``values`` (those that carry
    derivatives)."""
    return [k for k, c in enumerate(values) if _dt.is_float(_dtype(c))]


def _call_solver(solve, fn, tree, leaves, has_aux):
    """``solve(fn, start)`` with ``start`` the pytree ``tree`` of ``leaves``: its result's
    leaves (and aux with ``has_aux``). A solver may hand back Python numbers: they become
    arrays of the matching leaf's dtype, so that the rules give them derivatives."""
    out = solve(fn, tree_unflatten(tree, list(leaves)))
    aux = None
    if has_aux:
        out, aux = out
    return [fnp.astype(_array(o), _dtype(v), copy=False)
            for o, v in zip(tree_flatten(out)[0], leaves)], aux


def custom_root(f, initial_guess, solve, tangent_solve, has_aux=False):
    """A root of ``f`` found by ``solve(f, initial_guess)``, differentiated implicitly
    (``jax.lax.custom_root``): derivatives with respect to what ``f`` closes over follow
    from ``f(x*(θ), θ) = 0`` as ``-J⁻¹ ∂f/∂θ``, with ``J⁻¹`` applied by
    ``tangent_solve(g, y)`` (``g`` the linearization of ``f`` at the root), never by
    differentiating ``solve``. The initial guess carries no derivative. With ``has_aux``,
    ``solve`` returns ``(root, aux)`` and ``(root, aux)`` is returned, ``aux`` not
    differentiated.

    As in JAX, ``f`` is staged once to find what it closes over (so it must not branch on
    its argument's values with Python's ``if``). Under a transform ``solve`` and
    ``tangent_solve`` are staged too, and the values they close over get no derivative
    through them (JAX's rule: they may read the parameters being differentiated, such as
    a known Jacobian); one that cannot be staged (a Python loop on values) runs as it is,
    which works with no transform or under ``grad``/``vmap`` when it closes over nothing
    being differentiated, and not under ``jit``. Higher derivatives differentiate the rule
    again."""
    from .api import jvp as _jvp
    from .custom import custom_jvp
    from .numpy import stop_gradient
    x0_leaves, x_tree = tree_flatten(initial_guess)
    x0_leaves = [stop_gradient(_array(x)) for x in x0_leaves]

    def f_flat(*leaves):
        out, otree = tree_flatten(f(tree_unflatten(x_tree, list(leaves))))
        if otree != x_tree:
            raise TypeError(f"lax.custom_root: f must return the structure of initial_guess "
                            f"({x_tree}); got {otree}.")
        return out

    graph, consts = _closure_convert(f_flat, x0_leaves, "custom_root")
    nx = len(x0_leaves)

    def f_at(consts):
        return lambda x: tree_unflatten(
            x_tree, list(graph(*tree_flatten(x)[0], *consts)))

    def solved(x0, consts):
        return _call_solver(solve, f_at(consts), x_tree, x0, has_aux)

    def t_solved(y, sol_cs):  # tangent_solve on the linearization of f at the root
        sol, cs = sol_cs[:nx], sol_cs[nx:]

        def g(v):
            _, t = _jvp(lambda *x: list(graph(*x, *cs)), tuple(sol),
                        tuple(tree_flatten(v)[0]))
            return tree_unflatten(x_tree, list(t))
        dx = tree_flatten(tangent_solve(g, tree_unflatten(x_tree, list(y))))[0]
        return [fnp.astype(_array(d), _dtype(s), copy=False) for d, s in zip(dx, sol)], None

    # As custom_linear_solve's: the solvers staged under a transform, what they close over
    # passed as inputs without derivatives (JAX's rule), or called as they are.
    run, extra = _staged_solver(solved, x0_leaves, consts, has_aux)
    t_run, t_extra = _staged_solver(t_solved, x0_leaves, [*x0_leaves, *consts], False)

    @custom_jvp
    def root(x0, consts, ex, tex):
        return run(x0, consts, ex)

    @root.defjvp
    def root_jvp(primals, tangents):
        x0, cs, ex, tex = primals
        _, dcs, _, _ = tangents
        sol, aux = root(x0, cs, ex, tex)
        floats = _float_positions(cs)
        if floats:
            def of_consts(*fc):
                full = list(cs)
                for k, v in zip(floats, fc):
                    full[k] = v
                return list(graph(*sol, *full))
            _, rhs = _jvp(of_consts, tuple(cs[k] for k in floats),
                          tuple(dcs[k] for k in floats))
            rhs = list(rhs)
        else:
            rhs = [fnp.zeros_like(s) for s in sol]
        dx, _ = t_run(rhs, [*sol, *cs], tex)
        dx = [fnp.negative(d) for d in dx]
        aux_t = None if aux is None else _zero_tangents(aux)
        return (sol, aux), (dx, aux_t)

    sol, aux = root(x0_leaves, consts, extra, t_extra)
    assert len(sol) == nx
    sol = tree_unflatten(x_tree, sol)
    if has_aux:
        return sol, _stop_tree(aux)
    return sol


def _zero_tangents(tree):
    leaves, t = tree_flatten(tree)
    return tree_unflatten(t, [fnp.zeros_like(_array(v)) if not _is_py(v) else type(v)(0)
                              for v in leaves])


def _stop_tree(tree):
    from .numpy import stop_gradient
    leaves, t = tree_flatten(tree)
    return tree_unflatten(t, [v if _is_py(v) else stop_gradient(v) for v in leaves])


def custom_linear_solve(matvec, b, solve, transpose_solve=None, symmetric=False,
                        has_aux=False):
    """The solution ``x`` of ``matvec(x) = b`` computed by ``solve(matvec, b)``, with
    implicit derivatives (``jax.lax.custom_linear_solve``): ``solve`` is never
    differentiated. Forward mode solves again, ``ẋ = solve(matvec, ḃ - (∂A) x)``; reverse
    mode gives ``b`` the cotangent ``transpose_solve(vecmat, x̄)`` (``vecmat`` the transpose
    of ``matvec``; ``solve`` itself when ``symmetric``) and what ``matvec`` closes over
    ``-b̄ᵀ(∂A)x``. The rules are themselves linear solves, so higher derivatives work.
    ``b`` is a pytree; ``has_aux``: ``solve`` returns ``(x, aux)``, ``aux`` not
    differentiated.

    Differences from JAX: without ``transpose_solve`` and not ``symmetric``, reverse mode
    transposes the operations of ``solve`` (JAX refuses; it works where ``solve`` is linear
    operation by operation, such as a dense ``linalg.solve``); ``matvec`` is staged once to
    find what it closes over (no Python ``if`` on its argument's values). As in JAX, the
    values ``solve`` and ``transpose_solve`` close over get no derivative through them (a
    solve may apply a factorisation of the matrix being differentiated): under a transform
    they are staged once to find those values; a solver that cannot be staged (a Python
    loop on values) runs as it is, outside ``jit``, where it must then close over nothing
    being differentiated. Under a transform ``transpose_solve`` is also staged on zeros
    (its value is discarded)."""
    b_leaves, b_tree = tree_flatten(b)
    b_leaves = [_array(v) for v in b_leaves]

    def mv_flat(*leaves):
        out, otree = tree_flatten(matvec(tree_unflatten(b_tree, list(leaves))))
        if otree != b_tree:
            raise TypeError(f"lax.custom_linear_solve: matvec must return the structure of b "
                            f"({b_tree}); got {otree}.")
        return out

    graph, consts = _closure_convert(mv_flat, b_leaves, "custom_linear_solve")
    if symmetric:
        transpose_solve = solve
    x, aux = _linear_solve(graph, consts, b_leaves, b_tree, solve, transpose_solve, has_aux)
    x = tree_unflatten(b_tree, x)
    if has_aux:
        return x, _stop_tree(aux)
    return x


def _linear_solve(graph, consts, b_leaves, b_tree, solve, transpose_solve, has_aux):
    """``solve(A, b)`` for the operator ``A v = graph(v, *consts)``: the solution's leaves and
    the aux value (None without ``has_aux``)."""
    from .api import jvp as _jvp
    from .api import vjp as _vjp
    from .custom import custom_jvp, custom_vjp

    def mv_at(cs):
        return lambda v: tree_unflatten(b_tree, list(graph(*tree_flatten(v)[0], *cs)))

    def solved(bl, cs):
        return _call_solver(solve, mv_at(cs), b_tree, bl, has_aux)

    def t_solved(xl, cs):  # the transposed problem, on vecmat (matvec is linear: at zeros)
        _, pull = _vjp(lambda *v: list(graph(*v, *cs)), *[fnp.zeros_like(v) for v in xl])
        vm = lambda u: tree_unflatten(b_tree, list(pull(tree_flatten(u)[0])))  # noqa: E731
        return _call_solver(transpose_solve, vm, b_tree, xl, has_aux)[0], None

    # Under a transform the solvers are staged, what they close over becoming explicit
    # inputs without derivatives (as JAX does): a solve may then read the values being
    # differentiated (a factorisation of the very matrix matvec multiplies by), and jit,
    # which records the rules below to replay them, may pass a preconditioner as its
    # argument. A solver that cannot be staged (a Python loop on values) is called as it is.
    run, extra = _staged_solver(solved, b_leaves, consts, has_aux)
    t_run, t_extra = (None, []) if transpose_solve is None else _staged_solver(
        t_solved, b_leaves, consts, False)

    def of_consts(x, cs, floats):
        def f(*fc):
            full = list(cs)
            for k, v in zip(floats, fc):
                full[k] = v
            return list(graph(*x, *full))
        return f

    if transpose_solve is None:  # forward mode solves again; reverse mode transposes solve
        @custom_jvp
        def op(bl, cs, ex):
            return run(bl, cs, ex)

        @op.defjvp
        def op_jvp(primals, tangents):
            bl, cs, ex = primals
            dbl, dcs, _ = tangents
            x, aux = op(bl, cs, ex)
            floats = _float_positions(cs)
            rhs = list(dbl)
            if floats:
                _, da = _jvp(of_consts(x, cs, floats), tuple(cs[k] for k in floats),
                             tuple(dcs[k] for k in floats))
                rhs = [fnp.subtract(r, d) for r, d in zip(rhs, da)]
            dx, _ = run(rhs, cs, ex)
            return (x, aux), (dx, None if aux is None else _zero_tangents(aux))
        return op(b_leaves, consts, extra)

    def fun(bl, cs, ex, tex):
        return run(bl, cs, ex)

    def fwd(bl, cs, ex, tex):
        x, aux = run(bl, cs, ex)
        return (x, aux), (x, cs, ex, tex)

    def bwd(res, cts):
        x, cs, ex, tex = res
        xbar = [fnp.zeros_like(v) if c is None else c for c, v in zip(cts[0], x)]
        # vecmat, the transpose of matvec, as a graph of its own: the cotangent of b is the
        # linear solve with the solvers swapped (so that its derivatives are solves too)
        _, pull = _vjp(lambda *v: list(graph(*v, *cs)), *x)
        t_graph, t_consts = _closure_convert(lambda *u: list(pull(list(u))), xbar,
                                             "custom_linear_solve")
        # the solvers of the transposed problem, their aux values dropped: staged ones on
        # their inputs saved here, else the user's
        def t_solve(mv, r):
            if t_run is None:
                return transpose_solve(mv, r)[0] if has_aux else transpose_solve(mv, r)
            return tree_unflatten(b_tree, t_run(tree_flatten(r)[0], cs, tex)[0])

        def b_solve(mv, r):
            return tree_unflatten(b_tree, run(tree_flatten(r)[0], cs, ex)[0])
        bbar, _ = _linear_solve(t_graph, t_consts, xbar, b_tree, t_solve, b_solve, False)
        floats = _float_positions(cs)
        cbar = [None] * len(cs)
        if floats:
            _, pull_c = _vjp(of_consts(x, cs, floats), *[cs[k] for k in floats])
            for k, c in zip(floats, pull_c(bbar)):
                cbar[k] = fnp.negative(c)
        return bbar, cbar, [None] * len(ex), [None] * len(tex)

    op = custom_vjp(fun)
    op.defvjp(fwd, bwd)
    return op(b_leaves, consts, extra, t_extra)


def _staged_solver(solved, b_leaves, consts, has_aux):
    """``(run, extra)``: ``run(bl, cs, extra)`` gives ``solved(bl, cs)``, staged once under a
    transform with ``extra`` what it closes over; unstaged (``extra`` empty) with no
    transform around, or where staging fails outside jit (a solver needing concrete
    values). Under jit a failure is raised: the rules could not be replayed."""
    direct = (lambda bl, cs, ex: solved(bl, cs)), []  # noqa: E731
    from .core import EvalInterpreter, _current
    if type(_current.get().interp) is EvalInterpreter:
        return direct
    try:
        return _solver_with_inputs(solved, b_leaves, consts, has_aux)
    except Exception:
        if _staging_active():
            raise
        return direct


def _staging_active():
    """Whether a transform that records custom rules to replay them (jit, checkpoint) is in
    the interpreter stack."""
    from .checkpointing import _Staging
    from .core import _current
    interp = _current.get().interp
    while interp is not None:
        if isinstance(interp, _Staging):
            return True
        interp = interp.parent
    return False


def _solver_with_inputs(solved, b_leaves, consts, has_aux):
    """``solved(bl, cs)`` staged once: ``(run, extra)`` with ``run(bl, cs, extra)`` giving the
    same ``(x, aux)`` and ``extra`` the values the solver closes over."""
    nb = len(b_leaves)
    aux_tree = []

    def flat(*args):
        x, aux = solved(list(args[:nb]), list(args[nb:]))
        aux_leaves, tree = tree_flatten(aux)
        aux_tree[:] = [tree]
        return [*x, *aux_leaves]

    graph, extra = _closure_convert(flat, [*b_leaves, *consts], "custom_linear_solve")

    def run(bl, cs, ex):
        out = list(graph(*bl, *cs, *ex))
        aux = tree_unflatten(aux_tree[0], out[nb:]) if has_aux else None
        return out[:nb], aux
    return run, extra


# -- JAX's top-level helpers ---------------------------------------------------------------


def block_until_ready(x):
    """``x`` (a pytree) once every array in it is computed (``jax.block_until_ready``):
    waits for the GPU streams of torch and CuPy arrays; NumPy and array-api-strict arrays
    are always ready. Returns ``x`` itself."""
    leaves, _ = tree_flatten(x)
    for leaf in leaves:
        wait = getattr(leaf, "block_until_ready", None)
        if callable(wait):
            wait()
            continue
        mod = type(leaf).__module__ or ""
        if mod.startswith("torch") and getattr(getattr(leaf, "device", None), "type",
                                               None) == "cuda":
            import torch
            torch.cuda.synchronize(leaf.device)
        elif mod.startswith("cupy"):
            leaf.device.synchronize()
    return x


def device_put(x, device=None, *, src=None, donate=False, may_alias=None):
    """The arrays of the pytree ``x`` placed on ``device`` (``jax.device_put``).

    ``device`` is None (NumPy arrays, NumPy scalars and Python numbers become arrays of the
    default backend — ``functrans.default_backend()`` — and other arrays stay where they
    are), a backend's name (``"torch"``, ``"numpy"``, ``"array_api_strict"``: every array
    is copied to that library's default device, through the host if the library differs),
    or a device object of an array library (``torch.device("cuda")``): each array moves
    there within the library owning that device. Values being transformed (tracers) are
    returned as they are (derivatives pass through). ``src``, ``donate`` and ``may_alias``
    are accepted and have no effect. Returns a new pytree; an array already in place may be
    returned itself."""
    from . import backends as fb
    from .core import Tracer
    del src, donate, may_alias
    leaves, tree = tree_flatten(x)
    out = []
    if device is None:
        target, dev = fb.default(), None
    elif isinstance(device, str):
        target, dev = fb.get_backend(device), None
    else:
        target, dev = fb.backend_of_device(device), device
        if target is None:
            raise ValueError(f"device_put: {device!r} is not a device of a known backend.")
    import numpy as np
    for leaf in leaves:
        if isinstance(leaf, Tracer):
            out.append(leaf)
            continue
        if leaf is None or isinstance(leaf, str):
            out.append(leaf)
            continue
        is_host = _is_py(leaf) or isinstance(leaf, (np.ndarray, np.generic))
        if device is None:
            out.append(target.asarray(leaf) if is_host and target.name != "numpy" else
                       (np.asarray(leaf) if is_host else leaf))
            continue
        src_b = None if is_host else fb.backend_of(leaf)
        if src_b is target:
            if dev is None or src_b.device(leaf) == dev:
                out.append(leaf)
            else:
                out.append(src_b.to_device(leaf, dev))
            continue
        data = np.asarray(leaf) if is_host else src_b.to_numpy(leaf)
        out.append(target.asarray(data, device=dev))
    return tree_unflatten(tree, out)


@contextlib.contextmanager
def disable_jit(disable=True):
    """A context manager in which ``functrans.jit``-ed functions are called directly,
    unstaged (``jax.disable_jit``): Python control flow, printing and breakpoints inside them
    see concrete values. ``functrans.lax``'s control flow is then Python's own wherever its
    deciding value is concrete. Nested uses restore the previous setting on exit."""
    from .compiling import _jit_disabled
    token = _jit_disabled.set(bool(disable))
    try:
        yield
    finally:
        _jit_disabled.reset(token)


# -- gather and scatter --------------------------------------------------------------------
# XLA's gather and scatter, built on functrans.numpy's ``take`` and on the updates of
# ``x.at[...]`` (functrans/array_methods.py): every position a gather reads (or a scatter
# writes) becomes one flat index into the operand, computed with functrans.numpy from the
# (possibly traced) start indices, so every transform applies with the rules of ``take`` and
# of the ``.at`` updates.


class GatherScatterMode(enum.Enum):
    """How ``gather`` and the scatters treat start indices whose window leaves the operand
    (``jax.lax.GatherScatterMode``): ``CLIP`` moves the window back inside; ``FILL_OR_DROP``
    fills a gathered window with ``fill_value`` and drops a scattered one, whole, when any
    part of it is out of range; ``PROMISE_IN_BOUNDS`` does what XLA does on CPU (a gather
    clamps, a scatter drops). ``from_any`` reads the strings ``'clip'``, ``'fill'``,
    ``'drop'``, ``'promise_in_bounds'`` (and None: FILL_OR_DROP, which ``gather`` itself
    reads as PROMISE_IN_BOUNDS, as JAX's). ``ONE_HOT`` exists for JAX's sake and is
    refused."""
    CLIP = 1
    FILL_OR_DROP = 2
    PROMISE_IN_BOUNDS = 3
    ONE_HOT = 4

    @staticmethod
    def from_any(s):
        if isinstance(s, GatherScatterMode):
            return s
        if type(s).__name__ == "GatherScatterMode":  # jax.lax's own
            return GatherScatterMode[s.name]
        named = {"clip": "CLIP", None: "FILL_OR_DROP", "fill": "FILL_OR_DROP",
                 "drop": "FILL_OR_DROP", "promise_in_bounds": "PROMISE_IN_BOUNDS",
                 "one_hot": "ONE_HOT"}
        if isinstance(s, str) or s is None:
            if s in named:
                return GatherScatterMode[named[s]]
        raise ValueError(f"Unknown gather mode {s!r}: use 'clip', 'fill', 'drop', "
                         f"'promise_in_bounds' or a GatherScatterMode.")


class _DimensionNumbers(tuple):
    """A named tuple of tuples of axes (JAX's dimension-number classes): each field is made a
    tuple; the last two (the batching axes) default to ()."""
    __slots__ = ()
    _fields = ()

    def __new__(cls, *fields, **named):
        names = cls._fields
        if len(fields) > len(names):
            raise TypeError(f"{cls.__name__} takes at most {len(names)} fields")
        missing = [n for n in names[len(fields):len(names) - 2] if n not in named]
        if missing:
            raise TypeError(f"{cls.__name__}: missing field(s) {missing}")
        values = list(fields) + [named.pop(n, ()) for n in names[len(fields):]]
        if named:
            raise TypeError(f"{cls.__name__}: unknown fields {sorted(named)}")
        return tuple.__new__(cls, tuple(tuple(v) for v in values))

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        for i, n in enumerate(cls._fields):
            setattr(cls, n, property(lambda self, i=i: self[i]))

    def __repr__(self):
        return f"{type(self).__name__}(" + ", ".join(
            f"{n}={v!r}" for n, v in zip(self._fields, self)) + ")"

    def __getnewargs__(self):
        return tuple(self)


class GatherDimensionNumbers(_DimensionNumbers):
    """How the axes of ``gather``'s operand, start indices and result relate
    (``jax.lax.GatherDimensionNumbers``, a named tuple): ``offset_dims`` (the result's axes
    that run within a slice, in increasing order), ``collapsed_slice_dims`` (operand axes of
    slice size 1 left out of the result), ``start_index_map`` (the operand axis each entry of
    an index vector starts), ``operand_batching_dims`` and ``start_indices_batching_dims``
    (operand axes, of slice size 1 and left out, indexed by the position along the paired
    axis of the start indices)."""
    __slots__ = ()
    _fields = ("offset_dims", "collapsed_slice_dims", "start_index_map",
               "operand_batching_dims", "start_indices_batching_dims")


class ScatterDimensionNumbers(_DimensionNumbers):
    """How the axes of a scatter's operand, indices and updates relate
    (``jax.lax.ScatterDimensionNumbers``, a named tuple): ``update_window_dims`` (the axes of
    ``updates`` that run within a window, in increasing order), ``inserted_window_dims``
    (operand axes of window size 1 that ``updates`` lacks), ``scatter_dims_to_operand_dims``
    (the operand axis each entry of an index vector starts), ``operand_batching_dims`` and
    ``scatter_indices_batching_dims`` (operand axes of window size 1 indexed by the position
    along the paired axis of the indices)."""
    __slots__ = ()
    _fields = ("update_window_dims", "inserted_window_dims", "scatter_dims_to_operand_dims",
               "operand_batching_dims", "scatter_indices_batching_dims")


def _batching_pairs(what, x, batch, dn, sib, indices):
    """The operand batching axes paired with the axes ``sib`` of the indices (``batch``:
    the indices' shape without its last axis), checked: distinct axes, equal sizes."""
    if len(sib) != len(dn.operand_batching_dims) or len(set(sib)) != len(sib) or any(
            not 0 <= b < len(batch) for b in sib):
        raise TypeError(f"{what}: {indices}_batching_dims must pair the "
                        f"operand_batching_dims with distinct axes of {indices} other "
                        f"than its last; got {dn}.")
    pairs = dict(zip(dn.operand_batching_dims, sib))
    for d, b in pairs.items():
        if x.shape[d] != batch[b]:
            raise TypeError(f"{what}: operand batching axis {d} (size {x.shape[d]}) and "
                            f"{indices} axis {b} (size {batch[b]}) must have one size.")
    return pairs


def _dnums(dn, cls, what):
    """``dn`` (ours, JAX's, or anything with the fields) as ``cls``."""
    if isinstance(dn, cls):
        return dn
    try:
        return cls(*(tuple(int(a) for a in getattr(dn, f, ())) if f in cls._fields[3:]
                     else tuple(int(a) for a in getattr(dn, f)) for f in cls._fields))
    except (AttributeError, TypeError):
        raise TypeError(f"{what}: dimension_numbers must be a {cls.__name__}; got "
                        f"{dn!r}.") from None


def _sorted_unique(dims, bound, what, field):
    if list(dims) != sorted(set(dims)):
        raise TypeError(f"{what}: {field} must be sorted and without repeats; got {dims}.")
    for d in dims:
        if not 0 <= d < bound:
            raise TypeError(f"{what}: {field} has {d}, outside [0, {bound}).")


def _index_array(indices, what):
    ind = _array(indices)
    if _dtype(ind).kind not in "iu":
        raise TypeError(f"{what}: the indices must have an integer dtype; got "
                        f"{_dtype(ind).name}.")
    if ind.ndim < 1:
        raise TypeError(f"{what}: the indices need at least one axis (the last holds the "
                        f"index vectors); got a 0-d array.")
    return fnp.astype(ind, fnp.int64)


def _placed(v, n, at, size):
    """The 1-d ``v`` (of length ``size``) reshaped to ``n`` axes, along axis ``at``."""
    return fnp.reshape(v, tuple(size if a == at else 1 for a in range(n)))


def _spread(v, n, positions):
    """``v`` (its axes those of a batch) reshaped to ``n`` axes, its axes at ``positions``
    (increasing) and length 1 elsewhere."""
    shape = [1] * n
    for p, s in zip(positions, v.shape):
        shape[p] = s
    return fnp.reshape(v, tuple(shape))


def _windows(what, operand, ind, starts_map, batch_pairs, window, sizes, out_ndim,
             batch_positions, mode):
    """The flat index into ``operand`` of every element of a gather's result or a scatter's
    updates (an int64 array of ``out_ndim`` axes, broadcast), and whether each window lies
    inside the operand (None where every one does by construction).

    ``starts_map[k]`` is the operand axis started by entry ``k`` of an index vector;
    ``batch_pairs`` pairs operand batching axes with axes of the indices' batch;
    ``window[d]`` is the result/update axis running along operand axis ``d`` (None: a
    collapsed axis); ``sizes[d]`` the window's size along ``d``; ``batch_positions`` the
    result/update axes that run over the indices' batch (their order)."""
    shape = tuple(operand.shape)
    dev = fnp.device(operand)
    flat, valid, stride = 0, None, 1
    checkify = _sys.modules.get("functrans.experimental.checkify")  # (imported: may run)
    strides = [0] * len(shape)
    for d in range(len(shape) - 1, -1, -1):
        strides[d] = stride
        stride *= shape[d]
    for d, n in enumerate(shape):
        w = sizes[d]
        # (with no index vectors there is no window to fit, as in XLA: a base case)
        if not 0 <= w <= n and not (w > n and 0 in tuple(ind.shape[:-1])):
            raise TypeError(f"{what}: the window size {w} along operand axis {d} does not "
                            f"fit its size {n}.")
        pos = 0
        if d in starts_map:
            s = ind[..., starts_map.index(d)]
            if checkify is not None:
                checkify.window_starts_check(what, shape, s, d, n - w)
            if mode is GatherScatterMode.FILL_OR_DROP:
                ok = fnp.logical_and(fnp.greater_equal(s, 0), fnp.less_equal(s, n - w))
                valid = ok if valid is None else fnp.logical_and(valid, ok)
            s = fnp.clip(s, 0, n - w)
            pos = _spread(s, out_ndim, batch_positions)
        elif d in batch_pairs:
            b = batch_pairs[d]
            pos = _placed(fnp.arange(ind.shape[b], dtype=fnp.int64, device=dev), out_ndim,
                          batch_positions[b], ind.shape[b])
        if window[d] is not None:
            off = _placed(fnp.arange(w, dtype=fnp.int64, device=dev), out_ndim, window[d], w)
            pos = off if type(pos) is int else fnp.add(pos, off)
        if type(pos) is not int:
            term = pos if strides[d] == 1 else fnp.multiply(pos, strides[d])
            flat = term if type(flat) is int else fnp.add(flat, term)
    if type(flat) is int:  # nothing varies (a 0-d operand, or all of it one element)
        flat = fnp.zeros((1,) * out_ndim, dtype=fnp.int64, device=dev)
    if valid is not None:
        valid = _spread(valid, out_ndim, batch_positions)
    return flat, valid


def _gather_mode(mode, what, default):
    m = GatherScatterMode.from_any(default if mode is None else mode)
    if m is GatherScatterMode.ONE_HOT:
        raise NotImplementedError(f"{what}: mode ONE_HOT is not supported; use 'clip', "
                                  f"'fill'/'drop' or 'promise_in_bounds'.")
    return m


def _default_gather_fill(d):
    if d.kind in "fc":
        return float("nan")
    if d.kind == "b":
        return True
    import numpy
    info = numpy.iinfo(d.name)
    return int(info.min if d.kind == "i" else info.max)


def gather(operand, start_indices, dimension_numbers, slice_sizes, *, unique_indices=False,
           indices_are_sorted=False, mode=None, fill_value=None):
    """XLA's gather (``jax.lax.gather``): slices of ``operand`` of ``slice_sizes``, one per
    index vector (the last axis of ``start_indices``), laid out as ``dimension_numbers``
    says (a :class:`GatherDimensionNumbers`, batching axes included).

    Out-of-range starts follow ``mode``: None (JAX's default here) and
    ``'promise_in_bounds'`` clamp each slice into the operand, as ``'clip'`` does;
    ``'fill'``/``'drop'`` give ``fill_value`` for a whole slice any part of which is out of
    range (default NaN for inexact dtypes, the most negative value for signed integers, the
    largest for unsigned, True for booleans). The derivative in ``operand`` is that of
    ``functrans.numpy.take`` (a scatter-add); ``unique_indices`` and
    ``indices_are_sorted`` are accepted and change nothing."""
    what = "lax.gather"
    dn = _dnums(dimension_numbers, GatherDimensionNumbers, what)
    x = _array(operand)
    m = _gather_mode(mode, what, GatherScatterMode.PROMISE_IN_BOUNDS)
    ind = _index_array(start_indices, what)
    sizes = tuple(operator.index(s) for s in slice_sizes)
    nd = x.ndim
    if len(sizes) != nd:
        raise TypeError(f"{what}: slice_sizes has {len(sizes)} entries for an operand of "
                        f"{nd} axes.")
    if ind.shape[-1] != len(dn.start_index_map):
        raise TypeError(f"{what}: the last axis of start_indices ({ind.shape[-1]}) must have "
                        f"the length of start_index_map ({len(dn.start_index_map)}).")
    batch = tuple(ind.shape[:-1])
    out_ndim = len(batch) + len(dn.offset_dims)
    _sorted_unique(dn.offset_dims, out_ndim, what, "offset_dims")
    _sorted_unique(dn.collapsed_slice_dims, nd, what, "collapsed_slice_dims")
    _sorted_unique(dn.operand_batching_dims, nd, what, "operand_batching_dims")
    if len(set(dn.start_index_map)) != len(dn.start_index_map) or any(
            not 0 <= d < nd for d in dn.start_index_map):
        raise TypeError(f"{what}: start_index_map must name distinct operand axes; got "
                        f"{dn.start_index_map}.")
    dropped = set(dn.collapsed_slice_dims) | set(dn.operand_batching_dims)
    if set(dn.collapsed_slice_dims) & set(dn.operand_batching_dims) or set(
            dn.operand_batching_dims) & set(dn.start_index_map):
        raise TypeError(f"{what}: an operand batching axis cannot also be collapsed or in "
                        f"start_index_map; got {dn}.")
    for d in dropped:
        if sizes[d] != 1:
            raise TypeError(f"{what}: a collapsed or batching operand axis needs slice size "
                            f"1; axis {d} has {sizes[d]}.")
    kept = [d for d in range(nd) if d not in dropped]
    if len(kept) != len(dn.offset_dims):
        raise TypeError(f"{what}: offset_dims has {len(dn.offset_dims)} entries; the operand "
                        f"has {len(kept)} axes neither collapsed nor batching.")
    pairs = _batching_pairs(what, x, batch, dn, dn.start_indices_batching_dims,
                            "start_indices")
    window = [None] * nd
    for d, p in zip(kept, dn.offset_dims):
        window[d] = p
    batch_positions = [p for p in range(out_ndim) if p not in dn.offset_dims]
    flat, valid = _windows(what, x, ind, list(dn.start_index_map), pairs, window, sizes,
                           out_ndim, batch_positions, m)
    out_shape = [0] * out_ndim
    for p, s in zip(batch_positions, batch):
        out_shape[p] = s
    for d in kept:
        out_shape[window[d]] = sizes[d]
    flat = fnp.broadcast_to(flat, tuple(out_shape))
    out = fnp.take(fnp.reshape(x, (-1,)), flat) if x.size else \
        fnp.zeros(tuple(out_shape), dtype=_dtype(x), device=fnp.device(x))
    if valid is not None:
        fill = _default_gather_fill(_dtype(x)) if fill_value is None else fill_value
        out = fnp.where(valid, out, fnp.full_like(out, fill))
    return out


def _scatter(name, op, operand, scatter_indices, updates, dimension_numbers, mode,
             unique_indices, func=None):
    what = f"lax.{name}"
    dn = _dnums(dimension_numbers, ScatterDimensionNumbers, what)
    x = _array(operand)
    m = _gather_mode(mode, what, GatherScatterMode.FILL_OR_DROP)
    ind = _index_array(scatter_indices, what)
    if func is None:
        u = _array(updates)
        if _dtype(u) is not _dtype(x):
            raise TypeError(f"lax.scatter requires arguments to have the same dtypes, got "
                            f"{_dtype(x).name}, {_dtype(u).name} (convert with "
                            f"lax.convert_element_type).")
        ushape = tuple(u.shape)
    else:
        ushape = tuple(operator.index(s) for s in updates)
    nd = x.ndim
    if ind.shape[-1] != len(dn.scatter_dims_to_operand_dims):
        raise TypeError(f"{what}: the last axis of scatter_indices ({ind.shape[-1]}) must "
                        f"have the length of scatter_dims_to_operand_dims "
                        f"({len(dn.scatter_dims_to_operand_dims)}).")
    batch = tuple(ind.shape[:-1])
    un = len(ushape)
    if un != len(batch) + len(dn.update_window_dims):
        raise TypeError(f"{what}: updates must have {len(batch) + len(dn.update_window_dims)}"
                        f" axes (the indices' {len(batch)} batch axes and "
                        f"{len(dn.update_window_dims)} window axes); got shape {ushape}.")
    _sorted_unique(dn.update_window_dims, un, what, "update_window_dims")
    _sorted_unique(dn.inserted_window_dims, nd, what, "inserted_window_dims")
    _sorted_unique(dn.operand_batching_dims, nd, what, "operand_batching_dims")
    sdod = list(dn.scatter_dims_to_operand_dims)
    if len(set(sdod)) != len(sdod) or any(not 0 <= d < nd for d in sdod):
        raise TypeError(f"{what}: scatter_dims_to_operand_dims must name distinct operand "
                        f"axes; got {tuple(sdod)}.")
    if set(dn.inserted_window_dims) & set(dn.operand_batching_dims) or set(
            dn.operand_batching_dims) & set(sdod):
        raise TypeError(f"{what}: an operand batching axis cannot also be inserted or in "
                        f"scatter_dims_to_operand_dims; got {dn}.")
    dropped = set(dn.inserted_window_dims) | set(dn.operand_batching_dims)
    kept = [d for d in range(nd) if d not in dropped]
    if len(kept) != len(dn.update_window_dims):
        raise TypeError(f"{what}: update_window_dims has {len(dn.update_window_dims)} "
                        f"entries; the operand has {len(kept)} axes neither inserted nor "
                        f"batching.")
    pairs = _batching_pairs(what, x, batch, dn, dn.scatter_indices_batching_dims,
                            "scatter_indices")
    batch_positions = [p for p in range(un) if p not in dn.update_window_dims]
    for p, s in zip(batch_positions, batch):
        if ushape[p] != s:
            raise TypeError(f"{what}: updates axis {p} has size {ushape[p]}; the indices' "
                            f"batch axes are {batch}.")
    window, sizes = [None] * nd, [1] * nd
    for d, p in zip(kept, dn.update_window_dims):
        window[d], sizes[d] = p, ushape[p]
    flat, valid = _windows(what, x, ind, sdod, pairs, window, sizes, un, batch_positions, m)
    if m is GatherScatterMode.PROMISE_IN_BOUNDS:  # XLA drops such windows, as FILL_OR_DROP
        flat, valid = _windows(what, x, ind, sdod, pairs, window, sizes, un, batch_positions,
                               GatherScatterMode.FILL_OR_DROP)
    size = 1
    for n in x.shape:
        size *= n
    flat = fnp.broadcast_to(flat, ushape)
    if valid is not None:  # a dropped window writes to one slot past the end, cut off after
        flat = fnp.where(valid, flat, size)
    flat = fnp.reshape(flat, (-1,))
    xf = fnp.reshape(x, (-1,))
    if valid is not None:
        xf = fnp.concat([xf, fnp.zeros((1,), dtype=_dtype(x), device=fnp.device(x))])
    from .core import Tracer
    from .numpy._indexing import _setitem
    if func is not None:
        y = _apply_at(xf, flat, func, unique_indices, size)
    elif op == "set":
        y = _setitem(xf, flat, fnp.reshape(u, (-1,)))
    else:
        if op in ("multiply", "minimum", "maximum") and isinstance(flat, Tracer) and \
                not isinstance(xf, Tracer):
            # (functrans.numpy's multiply/maximum/minimum.at index a plain array with the
            # traced positions, which NumPy refuses: the operand is made a value of the
            # indices' transform first, by a select on a condition that is never true)
            never = fnp.any(fnp.less(flat, 0))
            xf = fnp.where(never, fnp.zeros_like(xf), xf)
        y = getattr(fnp, op).at(xf, flat, fnp.reshape(u, (-1,)), inplace=False)
    if valid is not None:
        y = y[:size]
    return fnp.reshape(y, tuple(x.shape))


def _apply_at(xf, flat, func, unique, size):
    """``func`` applied at the flat positions ``flat`` of ``xf`` as often as each is named
    (the slot ``size``, where dropped windows go, excepted)."""
    from .backends import backend_of
    from .core import Tracer
    from .numpy._base import _to_array
    from .numpy._indexing import _setitem
    from .interpreters import ConstTracer
    import numpy
    if type(flat) is ConstTracer:  # (constant indices made inside a transform: concrete)
        flat = flat.primal
    if isinstance(flat, Tracer):
        if unique:
            return _setitem(xf, flat, func(fnp.take(xf, flat)))
        known = _behind_batches(flat)
        if isinstance(known, Tracer):
            raise NotImplementedError(
                "lax.scatter_apply with indices traced by jit or a derivative: a position "
                "written twice would need func applied twice, which cannot be counted "
                "without the index values. Pass unique_indices=True if no position repeats, "
                "or use concrete indices.")
        return _apply_at_batched(xf, flat, func, size, known)
    ps = numpy.asarray(backend_of(flat).to_numpy(flat)).reshape(-1)
    uniq, counts = numpy.unique(ps[ps < size], return_counts=True)
    for k in range(1, int(counts.max(initial=0)) + 1):  # the k-th visit of each position
        sel = _to_array(uniq[counts >= k].tolist(), dtype=_dt.int64, like=xf)
        xf = _setitem(xf, sel, func(fnp.take(xf, sel)))
    return xf


def _apply_at_batched(xf, flat, func, size, known):
    """``_apply_at`` for positions batched by vmap (``flat``), whose members' values are
    ``known`` (concrete, the batch axes leading): the j-th visit of a position is applied in
    round j, each member's entries of that round being distinct positions (the others, and
    dropped windows, go to a spare slot cut off after)."""
    import numpy
    from .backends import backend_of
    from .numpy._base import _to_array
    from .numpy._indexing import _setitem
    ps = numpy.asarray(backend_of(known).to_numpy(known))
    n = ps.shape[-1]
    rounds = 0
    for row in ps.reshape(-1, n):
        row = row[row < size]
        rounds = builtins.max(rounds, int(numpy.unique(row, return_counts=True)[1].max(
            initial=0)))
    # the visit of each entry: how many earlier entries name the same position
    earlier = _to_array(numpy.tril(numpy.ones((n, n), dtype=bool), -1).tolist(),
                        dtype=_dt.bool_, like=flat)
    same = fnp.equal(fnp.reshape(flat, (n, 1)), fnp.reshape(flat, (1, n)))
    visit = fnp.sum(fnp.logical_and(same, earlier), axis=1)
    spare = xf.shape[0]
    xe = fnp.concat([xf, fnp.zeros((1,), dtype=_dtype(xf), device=fnp.device(xf))])
    for j in range(rounds):
        sel = fnp.where(fnp.logical_and(fnp.equal(visit, j), fnp.less(flat, size)), flat,
                        spare)
        xe = _setitem(xe, sel, func(fnp.take(xe, sel)))
    return xe[:spare]


def _scatter_doc(name, op, words):
    def f(operand, scatter_indices, updates, dimension_numbers, *, indices_are_sorted=False,
          unique_indices=False, mode=None):
        return _scatter(name, op, operand, scatter_indices, updates, dimension_numbers, mode,
                        unique_indices)
    f.__name__ = f.__qualname__ = name
    f.__doc__ = (
        f"XLA's scatter with {words} (``jax.lax.{name}``): ``operand`` with each window of "
        f"``updates`` {'written' if op == 'set' else 'combined'} at the start its index "
        f"vector (the last axis of ``scatter_indices``) gives, the axes laid out as "
        f"``dimension_numbers`` (a :class:`ScatterDimensionNumbers`, batching axes "
        f"included) says; ``updates`` has ``operand``'s dtype.\n\n    Out-of-range windows "
        f"follow ``mode``: None, ``'fill'``/``'drop'`` and ``'promise_in_bounds'`` drop a "
        f"whole window any part of which is out of range (XLA's CPU behaviour); ``'clip'`` "
        f"moves it back inside. Built on ``x.at[...]``'s updates of a flattened operand, so "
        f"every transform applies"
        + ({"set": "; of repeated positions the last update wins (JAX leaves the order "
                   "open)",
            "add": "; repeated positions accumulate",
            "subtract": "; repeated positions accumulate",
            "multiply": "; repeated positions accumulate, and the derivative is defined "
                        "for them too (JAX's needs ``unique_indices``)",
            "minimum": "; repeated positions accumulate (a tie shares the derivative)",
            "maximum": "; repeated positions accumulate (a tie shares the derivative)"}[op])
        + ". ``indices_are_sorted`` and ``unique_indices`` are accepted and change "
          "nothing.")
    return f


scatter = _scatter_doc("scatter", "set", "replacement")
scatter_add = _scatter_doc("scatter_add", "add", "addition")
scatter_sub = _scatter_doc("scatter_sub", "subtract", "subtraction")
scatter_mul = _scatter_doc("scatter_mul", "multiply", "multiplication")
scatter_min = _scatter_doc("scatter_min", "minimum", "the minimum")
scatter_max = _scatter_doc("scatter_max", "maximum", "the maximum")


def scatter_apply(operand, scatter_indices, func, dimension_numbers, *, update_shape=(),
                  indices_are_sorted=False, unique_indices=False, mode=None):
    """``operand`` with ``func`` applied at the positions a scatter with updates of
    ``update_shape`` would write (``jax.lax.scatter_apply``), once per time a position is
    written (as JAX's). ``func`` must be elementwise: it is called on a 1-d array of the
    selected elements (JAX calls it on scalars). Modes as :func:`scatter`'s. Unlike JAX's,
    it is differentiable (as ``x.at[idx].apply(func)``); with indices traced by ``jit`` or
    a derivative it needs ``unique_indices=True`` (under ``vmap`` alone each member's are
    known, and repeats are counted per member)."""
    return _scatter("scatter_apply", None, operand, scatter_indices, update_shape,
                    dimension_numbers, mode, unique_indices, func=func)


# -- shapes, creation, types (session 15) --------------------------------------------------


def split(operand, sizes, axis=0):
    """``operand`` cut along ``axis`` into consecutive pieces of ``sizes`` (which add up to
    the axis' length), as a list (``jax.lax.split``)."""
    x = _array(operand)
    ax = _axis(axis, x.ndim, "lax.split")
    sizes = [operator.index(s) for s in sizes]
    if any(s < 0 for s in sizes) or builtins.sum(sizes) != x.shape[ax]:
        raise ValueError(f"lax.split: sizes must be non-negative and add up to the length "
                         f"{x.shape[ax]} of axis {ax}; got {sizes}.")
    out, start = [], 0
    for s in sizes:
        out.append(slice_in_dim(x, start, start + s, axis=ax))
        start += s
    return out


def tile(operand, reps):
    """``operand`` repeated ``reps[i]`` times along each axis ``i`` (``jax.lax.tile``):
    ``reps`` has one entry per axis (``functrans.numpy.tile`` also pads it)."""
    x = _array(operand)
    reps = tuple(operator.index(r) for r in reps)
    if len(reps) != x.ndim:
        raise TypeError(f"lax.tile: reps needs one entry per axis of the operand: got "
                        f"len(reps)={len(reps)} for {x.ndim} axes.")
    if any(r < 0 for r in reps):
        raise ValueError(f"lax.tile: reps must be non-negative; got {reps}.")
    return fnp.tile(x, reps) if reps else fnp.asarray(x, copy=True)


def broadcast_like(arr, like_arr):
    """``arr`` broadcast (NumPy's rules) to the shape of ``like_arr``
    (``jax.lax.broadcast_like``)."""
    x = _array(arr)
    return fnp.broadcast_to(x, tuple(_shape_of(like_arr)))


def stack(operands, axis=0):
    """The operands (one shape and dtype) stacked along a new axis at ``axis``
    (``jax.lax.stack``)."""
    from .numpy._base import _unstacked
    ops = [_array(o) for o in _unstacked(operands)]
    if not ops:
        raise ValueError("lax.stack: at least one operand is needed.")
    ax = _axis(axis, ops[0].ndim + 1, "lax.stack")
    return concatenate([expand_dims(o, (ax,)) for o in ops], ax)


def unstack(x, axis=0):
    """The slices of ``x`` along ``axis``, as a tuple (``jax.lax.unstack``)."""
    x = _array(x)
    ax = _axis(axis, x.ndim, "lax.unstack")
    return tuple(index_in_dim(x, i, ax, keepdims=False) for i in range(x.shape[ax]))


def broadcast_shapes(*shapes):
    """The shape NumPy's broadcasting gives arrays of ``shapes`` (at least one)
    (``jax.lax.broadcast_shapes``); a ValueError where they do not broadcast."""
    if not shapes:
        raise TypeError("lax.broadcast_shapes: at least one shape is needed.")
    shapes = [tuple(operator.index(d) for d in s) for s in shapes]
    n = builtins.max(len(s) for s in shapes)
    out = []
    for k in range(n):
        sizes = {s[len(s) - n + k] for s in shapes if len(s) - n + k >= 0} - {1}
        if len(sizes) > 1:
            raise ValueError(f"Incompatible shapes for broadcasting: shapes={shapes}")
        out.append(sizes.pop() if sizes else 1)
    return tuple(out)


class RandomAlgorithm(enum.IntEnum):
    """Which generator :func:`rng_bit_generator` should use (``jax.lax.RandomAlgorithm``).
    functrans has one: every member gives the same Threefry-2x32 stream."""

    RNG_DEFAULT = 0
    RNG_THREE_FRY = 1
    RNG_PHILOX = 2

    def __str__(self):
        return self.name


_RNG_BIT_DTYPES = ("uint8", "uint16", "uint32", "uint64")


def _rng_key_words(key):
    """The four uint32 words of an ``rng_bit_generator`` key: a uint32 array of shape (4,),
    or a uint64 array of shape (2,) (its words in memory order, as JAX reads the former)."""
    k = _array(key)
    d = _dtype(k)
    shape = tuple(k.shape)
    if d is _dt.uint32 and shape == (4,):
        return k
    if d is _dt.uint64 and shape == (2,):
        return fnp.reshape(bitcast_convert_type(k, _dt.uint32), (4,))
    batched = (" (for a batch of keys, map over it with functrans.vmap)"
               if len(shape) > 1 and shape[-1:] in ((4,), (2,)) else "")
    if d not in (_dt.uint32, _dt.uint64):
        raise TypeError(f"lax.rng_bit_generator: the key must be a uint32 array of shape (4,) "
                        f"or a uint64 array of shape (2,); got dtype {d.name}{batched}.")
    raise ValueError(f"lax.rng_bit_generator: a {d.name} key must have shape "
                     f"{(4,) if d is _dt.uint32 else (2,)}; got shape {shape}{batched}.")


def rng_bit_generator(key, shape, dtype=_dt.uint32, algorithm=RandomAlgorithm.RNG_DEFAULT, *,
                      out_sharding=None):
    """Uniformly random bits of ``shape`` and the unsigned ``dtype`` (uint8, 16, 32 or 64)
    from ``key`` (a uint32 array of shape (4,) or a uint64 one of shape (2,)), and the next
    key (of the key's shape and dtype): ``(new_key, bits)``, as ``jax.lax.rng_bit_generator``.

    Deterministic on every backend and device: the key's words seed functrans.random's
    Threefry-2x32 generator (two ``fold_in`` of its first two words), one half of a
    ``split`` gives the bits, the other the new key. The bits differ from XLA's, whose
    default algorithm depends on the platform; every ``algorithm`` gives this one stream.
    Works under ``jit`` and ``vmap`` (a batch of keys); no derivative (integers).
    ``out_sharding`` must be None (functrans does not shard)."""
    from . import random as _random
    if out_sharding is not None:
        raise NotImplementedError("lax.rng_bit_generator: out_sharding is not supported "
                                  "(functrans has no sharding); pass None.")
    try:
        algorithm = RandomAlgorithm(algorithm)
    except ValueError:
        raise ValueError(f"lax.rng_bit_generator: algorithm must be a lax.RandomAlgorithm "
                         f"(RNG_DEFAULT, RNG_THREE_FRY or RNG_PHILOX); got "
                         f"{algorithm!r}.") from None
    try:
        shape = ((operator.index(shape),) if not isinstance(shape, (tuple, list)) else
                 tuple(operator.index(n) for n in shape))
    except TypeError:
        raise TypeError(f"lax.rng_bit_generator: shape must be a tuple of ints; got "
                        f"{shape!r}.") from None
    if builtins.any(n < 0 for n in shape):
        raise ValueError(f"lax.rng_bit_generator: shape must not be negative; got {shape}.")
    d = _dt.as_dtype(dtype)
    if d.name not in _RNG_BIT_DTYPES:
        raise TypeError(f"lax.rng_bit_generator: dtype must be uint8, uint16, uint32 or "
                        f"uint64 (JAX: unsupported dtype); got {d.name}.")
    words = _rng_key_words(key)
    seed = _random.fold_in(_random.fold_in(words[0:2], words[2]), words[3])
    pair = _random.split(seed)
    kd = _dtype(_array(key))
    new_key = _random.bits(pair[1, :], (4,) if kd is _dt.uint32 else (2,), kd)
    return new_key, _random.bits(pair[0, :], shape, d)


def empty(shape, dtype, *, out_sharding=None):
    """An array of ``shape`` and ``dtype`` whose values are not to be relied on
    (``jax.lax.empty``): here zeros, on the default backend. ``out_sharding`` must be
    None (functrans does not shard)."""
    if out_sharding is not None:
        raise NotImplementedError("lax.empty: out_sharding is not supported (functrans has no "
                                  "sharding); pass None.")
    shape = (operator.index(shape),) if not isinstance(shape, (tuple, list)) else tuple(
        operator.index(d) for d in shape)
    return fnp.zeros(shape, dtype=_dt.as_dtype(dtype))


def dtype(x):
    """The dtype of ``x`` (``jax.lax.dtype``): of an array or tracer its own, of a Python
    number the 64-bit one of its kind (as JAX with ``jax_enable_x64``), of a dtype-like
    (``'float32'``, ``np.int8``, a dtype) that dtype. A functrans dtype (equal to NumPy's)."""
    if type(x) in _PY:
        return _dt.as_dtype(type(x))
    if not isinstance(x, type) and hasattr(x, "dtype") and hasattr(x, "shape"):
        return _dtype(x)
    return fnp.dtype(x)


def index_take(src, idxs, axes):
    """``src`` indexed by the integer arrays ``idxs`` (one per axis in ``axes``, of one
    length n) along those axes, the result's first axis running over the n index tuples
    and then ``src``'s other axes (``jax.lax.index_take``). Indices wrap around (modulo the
    axis' length), as JAX's."""
    x = _array(src)
    axes = [_axis(a, x.ndim, "lax.index_take") for a in axes]
    idxs = [_index_array(i, "lax.index_take") for i in idxs]
    if len(idxs) != len(axes) or not idxs:
        raise TypeError(f"lax.index_take: one index array per axis: got {len(idxs)} arrays "
                        f"for axes {axes}.")
    cols = [fnp.remainder(i, x.shape[a]) for i, a in zip(idxs, axes)]
    ind = fnp.stack(cols, axis=1)
    sizes = [1 if d in axes else n for d, n in enumerate(x.shape)]
    dn = GatherDimensionNumbers(offset_dims=tuple(range(1, x.ndim - len(axes) + 1)),
                                collapsed_slice_dims=tuple(axes), start_index_map=tuple(axes))
    return gather(x, ind, dn, sizes)


# -- mulhi, reduce_precision ---------------------------------------------------------------


def _limbs(v, n):
    """The ``n // 16`` 16-bit limbs (low first) of the n-bit patterns held in int64 ``v``."""
    return [fnp.bitwise_and(fnp.right_shift(v, 16 * k) if k else v, 0xFFFF)
            for k in range(n // 16)]


def _mulhi_unsigned(a, b, n):
    """The high n bits of the 2n-bit product of the unsigned n-bit patterns in the int64
    ``a``, ``b`` (n = 32 or 64), by 16-bit limbs (every partial sum fits int64)."""
    la, lb = _limbs(a, n), _limbs(b, n)
    m = len(la)
    carry, high = 0, 0
    for s in range(2 * m):
        col = carry
        for i in range(builtins.max(0, s - m + 1), builtins.min(s, m - 1) + 1):
            term = fnp.multiply(la[i], lb[s - i])
            col = term if type(col) is int else fnp.add(col, term)
        if s >= m:
            limb = fnp.bitwise_and(col, 0xFFFF)
            shifted = fnp.left_shift(limb, 16 * (s - m)) if s > m else limb
            high = shifted if type(high) is int else fnp.bitwise_or(high, shifted)
        carry = fnp.right_shift(col, 16)
    return high


def mulhi(x, y, /):
    """The upper n bits of the exact 2n-bit product of n-bit integers ``x`` and ``y`` of
    one dtype (``jax.lax.mulhi``): ``floor(x * y / 2**n)``. Arrays of one number of axes
    (or 0-d ones) that broadcast."""
    (x, y), d = _operands("mulhi", (x, y), _INT)
    x, y = _array(x), _array(y)
    if x.ndim and y.ndim and x.ndim != y.ndim:
        raise TypeError(f"lax.mulhi: arrays must have the same number of dimensions, got "
                        f"{x.ndim} and {y.ndim}.")
    n = d.bits
    a, b = fnp.astype(x, fnp.int64), fnp.astype(y, fnp.int64)
    if n <= 16 or (n == 32 and d.kind == "i"):  # the exact product fits int64
        return fnp.astype(fnp.right_shift(fnp.multiply(a, b), n), d)
    if n == 32:  # unsigned 32-bit: the product may need all 64 bits
        return fnp.astype(_mulhi_unsigned(a, b, 32), d)
    hi = _mulhi_unsigned(a, b, 64)
    if d.kind == "i":  # two's complement: take off b (a) where a (b) is negative, mod 2**64
        zero = fnp.zeros_like(a)
        hi = fnp.subtract(hi, fnp.where(fnp.less(a, 0), b, zero))
        hi = fnp.subtract(hi, fnp.where(fnp.less(b, 0), a, zero))
    return fnp.astype(hi, d)


_FLOAT_LAYOUT = {"float16": (5, 10), "bfloat16": (8, 7), "float32": (8, 23), "float64": (11, 52)}


def _reduce_precision_value(x, exponent_bits, mantissa_bits):
    d = _dtype(x)
    src_e, src_m = _FLOAT_LAYOUT[d.name]
    src_emin = 2 - 2 ** (src_e - 1)
    a = fnp.abs(x)
    finite = fnp.isfinite(x)
    r = a
    if mantissa_bits < src_m:
        # the spacing of numbers with mantissa_bits bits at a's binade (the source's
        # subnormal binade below its smallest normal), and a rounded to it, ties to even
        safe = fnp.where(fnp.logical_and(finite, fnp.greater(a, 0)), a, fnp.ones_like(a))
        _, e = fnp.frexp(safe)
        e = fnp.maximum(fnp.subtract(e, 1), src_emin)
        q = fnp.ldexp(fnp.ones_like(a), fnp.subtract(e, mantissa_bits))
        t = fnp.divide(safe, q)
        r = fnp.multiply(fnp.round(t), q)
        if mantissa_bits == 0:
            # With no mantissa bits the last bit kept is the exponent's lowest, so a tie
            # (t = 1.5) goes to the power of two whose biased exponent is even: every
            # format's bias is odd, so to 2**e for an odd e, else to 2**(e + 1) (XLA rounds
            # the bit pattern; round(1.5) = 2 would always go up: 3 -> 4, XLA's 2).
            odd = fnp.equal(fnp.remainder(e, 2), 1)
            r = fnp.where(fnp.logical_and(fnp.equal(t, 1.5), odd), q, r)
        r = fnp.where(fnp.logical_and(finite, fnp.greater(a, 0)), r, a)
    if exponent_bits < src_e:
        bias = 2 ** (exponent_bits - 1) - 1
        big = fnp.greater_equal(r, 2.0 ** (bias + 1))  # rounded past the largest binade
        r = fnp.where(big, fnp.inf, r)
        r = fnp.where(fnp.less(r, 2.0 ** (1 - bias)), fnp.zeros_like(r), r)  # no subnormals
    out = fnp.copysign(r, x)
    return fnp.where(fnp.isnan(x), x, out)


def _reduce_precision_jvp(exponent_bits, mantissa_bits, primals, tangents):
    (x,), (t,) = primals, tangents
    return _reduce_precision_value(x, exponent_bits, mantissa_bits), t


def _make_reduce_precision():
    from .custom import custom_jvp

    def rp(x, exponent_bits, mantissa_bits):
        return _reduce_precision_value(x, exponent_bits, mantissa_bits)
    f = custom_jvp(rp, nondiff_argnums=(1, 2))
    f.defjvp(lambda e, m, primals, tangents: _reduce_precision_jvp(e, m, primals, tangents))
    return f


_reduce_precision_fn = None


def reduce_precision(operand, exponent_bits, mantissa_bits):
    """``operand`` rounded to a float format of ``exponent_bits`` exponent and
    ``mantissa_bits`` mantissa bits and back (``jax.lax.reduce_precision``), as XLA does
    it: the mantissa rounded to nearest, ties to even (with no mantissa bits, to the power
    of two whose biased exponent is even: 3 -> 2, 6 -> 8); values past the format's largest
    binade become infinite and values below its smallest normal number become zero (of
    their sign); nan stays nan. Formats wider than the operand's change nothing.

    Difference from JAX: the derivative is the identity (JAX rounds the tangent as
    well)."""
    global _reduce_precision_fn
    x = _array(operand)
    (x,), d = _operands("reduce_precision", (x,), _F)
    e, m = operator.index(exponent_bits), operator.index(mantissa_bits)
    if e < 1 or m < 0:
        raise ValueError(f"lax.reduce_precision: exponent_bits must be at least 1 and "
                         f"mantissa_bits at least 0; got {e} and {m}.")
    if _reduce_precision_fn is None:
        _reduce_precision_fn = _make_reduce_precision()
    return _reduce_precision_fn(x, e, m)


def optimization_barrier(operand, /):
    """``operand`` (a pytree of arrays) as it is (``jax.lax.optimization_barrier``): XLA
    keeps computations from moving across it; functrans does not reorder computations, so it
    is the identity (Python numbers become arrays), differentiable and batched as such."""
    leaves, tree = tree_flatten(operand)
    return tree_unflatten(tree, [fnp.asarray(v) for v in leaves])


def _platform_of(args):
    leaves, _ = tree_flatten(args)
    for v in leaves:
        if type(v) in _PY or not hasattr(v, "shape"):
            continue
        try:
            dev = str(fnp.device(v)).lower()
        except Exception:
            continue
        if "cuda" in dev or "gpu" in dev or type(v).__module__.startswith("cupy"):
            return "cuda"
    return "cpu"


def platform_dependent(*args, default=None, **per_platform):
    """``per_platform[p](*args)`` for the platform ``p`` the arguments live on, else
    ``default(*args)`` (``jax.lax.platform_dependent``). The platform is ``'cuda'`` where
    an argument is a CuPy array or a torch tensor on a GPU (also accepted as ``'gpu'``),
    otherwise ``'cpu'``; only the chosen branch runs. A TypeError where neither that
    platform nor a default is given (JAX fails when compiling)."""
    p = _platform_of(args)
    branch = per_platform.get(p)
    if branch is None and p == "cuda":
        branch = per_platform.get("gpu")
    if branch is None:
        branch = default
    if branch is None:
        raise TypeError(f"lax.platform_dependent: no branch for the platform {p!r} and no "
                        f"default; got branches for {sorted(per_platform)}.")
    return branch(*args)


def _approx_k(operand, k, reduction_dimension, aggregate_to_topk, largest, name):
    x = _array(operand)
    if _dtype(x).kind != "f":
        raise TypeError(f"lax.{name}: the operand must have a floating dtype; got "
                        f"{_dtype(x).name}.")
    if not aggregate_to_topk:
        raise NotImplementedError(f"lax.{name}: aggregate_to_topk=False (JAX returns an "
                                  f"implementation-defined number of candidates) is not "
                                  f"supported; the exact top k is returned with True.")
    ax = _axis(reduction_dimension, x.ndim, f"lax.{name}")
    k = operator.index(k)
    if not 0 <= k <= x.shape[ax]:
        raise ValueError(f"lax.{name}: k={k} must be between 0 and the size {x.shape[ax]} "
                         f"of the reduction dimension.")
    # a stable ascending sort of x (nan last), or of -x with the nans then moved first:
    # ties keep the lower index first, and nan counts as the largest value (JAX's CPU
    # results place nan inconsistently)
    order = fnp.argsort(fnp.negative(x) if largest else x, axis=ax, stable=True)
    if largest:
        nan_first = fnp.argsort(fnp.astype(fnp.logical_not(fnp.isnan(fnp.take_along_axis(
            x, order, axis=ax))), fnp.int8), axis=ax, stable=True)
        order = fnp.take_along_axis(order, nan_first, axis=ax)
    idx = _take(order, 0, k, ax)
    return [fnp.take_along_axis(x, idx, axis=ax), fnp.astype(idx, fnp.int32)]


def approx_max_k(operand, k, reduction_dimension=-1, recall_target=0.95,
                 reduction_input_size_override=-1, aggregate_to_topk=True):
    """The ``k`` largest values along ``reduction_dimension`` in decreasing order and their
    int32 indices (``jax.lax.approx_max_k``), computed exactly (a recall of 1, which meets
    any ``recall_target``); ties keep the lower index first, and nan counts as larger than
    every number (JAX leaves the order of ties and nan to the implementation). The operand is
    floating, as in JAX. ``recall_target`` and ``reduction_input_size_override`` are
    accepted and change nothing; ``aggregate_to_topk=False`` raises NotImplementedError."""
    return _approx_k(operand, k, reduction_dimension, aggregate_to_topk, True, "approx_max_k")


def approx_min_k(operand, k, reduction_dimension=-1, recall_target=0.95,
                 reduction_input_size_override=-1, aggregate_to_topk=True):
    """The ``k`` smallest values along ``reduction_dimension`` in increasing order and
    their int32 indices (``jax.lax.approx_min_k``), computed exactly; as
    :func:`approx_max_k`."""
    return _approx_k(operand, k, reduction_dimension, aggregate_to_topk, False,
                     "approx_min_k")


# -- ragged_dot ----------------------------------------------------------------------------


class RaggedDotDimensionNumbers:
    """The axes of ``ragged_dot_general`` (``jax.lax.RaggedDotDimensionNumbers``):
    ``dot_dimension_numbers`` as ``dot_general``'s, ``lhs_ragged_dimensions`` (the lhs
    axis split into groups) and ``rhs_group_dimensions`` (the rhs axis indexing the
    groups)."""

    def __init__(self, dot_dimension_numbers, lhs_ragged_dimensions, rhs_group_dimensions):
        self.dot_dimension_numbers = dot_dimension_numbers
        self.lhs_ragged_dimensions = tuple(lhs_ragged_dimensions)
        self.rhs_group_dimensions = tuple(rhs_group_dimensions)

    def __repr__(self):
        return (f"RaggedDotDimensionNumbers(dot_dimension_numbers="
                f"{self.dot_dimension_numbers!r}, lhs_ragged_dimensions="
                f"{self.lhs_ragged_dimensions!r}, rhs_group_dimensions="
                f"{self.rhs_group_dimensions!r})")


def _group_masks(group_sizes, m, like, what):
    """(g, m) booleans: row i belongs to group j (the groups consecutive from row 0; rows
    past their total belong to none)."""
    gs = _index_array(fnp.reshape(_array(group_sizes), (-1, 1)), what)[:, 0]
    ends = fnp.cumulative_sum(gs)
    starts = fnp.subtract(ends, gs)
    rows = fnp.reshape(fnp.arange(m, dtype=fnp.int64, device=fnp.device(like)), (1, m))
    return fnp.logical_and(fnp.greater_equal(rows, fnp.reshape(starts, (-1, 1))),
                           fnp.less(rows, fnp.reshape(ends, (-1, 1))))


def ragged_dot_general(lhs, rhs, group_sizes, ragged_dot_dimension_numbers, precision=None,
                       preferred_element_type=None, group_offset=None, out_sharding=None):
    """``dot_general`` with one axis of ``lhs`` split into consecutive groups of
    ``group_sizes`` (``jax.lax.ragged_dot_general``). Supported: a ragged non-contracting
    lhs axis with a group axis of ``rhs`` (each group of lhs rows multiplies its own rhs;
    rows past the groups' total give 0), and a ragged contracting axis without one (the
    result gets a leading group axis, each group contracting its own stretch). Other
    layouts, ``group_offset`` and ``out_sharding`` raise NotImplementedError. Computed as
    every group's product masked and summed (g times the work of one product)."""
    what = "lax.ragged_dot_general"
    if group_offset is not None or out_sharding is not None:
        raise NotImplementedError(f"{what}: group_offset and out_sharding are not "
                                  f"supported.")
    dn = ragged_dot_dimension_numbers
    (lc, rc), (lb, rb) = dn.dot_dimension_numbers
    x, y = _array(lhs), _array(rhs)
    pref = _check_precision(precision, preferred_element_type)
    if pref is not None:  # (as dot_general: converted first only where nothing is lost)
        from .numpy._products import _jax_options, _to_preferred
        (x, y), convert_to = _jax_options(what, [x, y], None, pref)
        if convert_to is not None:
            return _to_preferred(ragged_dot_general(x, y, group_sizes,
                                                    ragged_dot_dimension_numbers), convert_to)
    lc, rc = [_axis(a, x.ndim, what) for a in lc], [_axis(a, y.ndim, what) for a in rc]
    lb, rb = [_axis(a, x.ndim, what) for a in lb], [_axis(a, y.ndim, what) for a in rb]
    if len(dn.lhs_ragged_dimensions) != 1:
        raise NotImplementedError(f"{what}: exactly one lhs ragged dimension is supported.")
    ragged = _axis(dn.lhs_ragged_dimensions[0], x.ndim, what)
    groups = [_axis(a, y.ndim, what) for a in dn.rhs_group_dimensions]
    masks = _group_masks(group_sizes, x.shape[ragged], x, what)  # (g, m)
    g = masks.shape[0]
    if ragged not in lc and ragged not in lb and len(groups) == 1:
        gd = groups[0]
        if y.shape[gd] != g:
            raise TypeError(f"{what}: rhs group axis {gd} has {y.shape[gd]} groups; "
                            f"group_sizes has {g}.")
        # (g, ...): every group's rhs against all of lhs, then each row from its group
        rest = [a for a in range(y.ndim) if a != gd]
        yg = fnp.permute_dims(y, tuple([gd] + rest))
        pos = {a: i + 1 for i, a in enumerate(rest)}
        full = dot_general(x, yg, ((lc, [pos[a] for a in rc]), (lb, [pos[a] for a in rb])),
                           precision)
        # full's axes: batch, lhs free, then the group axis, then rhs free
        lfree = [a for a in range(x.ndim) if a not in lc and a not in lb]
        nb, gpos = len(lb), len(lb) + len(lfree)
        rpos = nb + lfree.index(ragged)
        shape = [1] * full.ndim
        shape[rpos], shape[gpos] = x.shape[ragged], g
        sel = fnp.reshape(fnp.permute_dims(masks, (1, 0)) if rpos < gpos else masks, shape)
        # (dtype: NumPy's sum would widen int32/bool products to int64; JAX keeps dot's)
        return fnp.sum(fnp.where(sel, full, fnp.zeros_like(full)), axis=gpos,
                       dtype=_dtype(full))
    if ragged in lc and not groups:
        shape = [1] * (x.ndim + 1)
        shape[0], shape[ragged + 1] = g, x.shape[ragged]
        xm = fnp.where(fnp.reshape(masks, shape), fnp.expand_dims(x, axis=0),
                       fnp.zeros((1,) * (x.ndim + 1), dtype=_dtype(x), device=fnp.device(x)))
        out = dot_general(xm, y, (([a + 1 for a in lc], rc), ([a + 1 for a in lb], rb)),
                          precision)
        # the group axis is lhs's first free axis, after the batch axes: move it first
        return fnp.moveaxis(out, len(lb), 0) if lb else out
    raise NotImplementedError(f"{what}: supported are a ragged non-contracting lhs axis with "
                              f"one rhs group axis, and a ragged contracting axis without; "
                              f"got {dn!r}.")


def ragged_dot(lhs, rhs, group_sizes, precision=None, preferred_element_type=None,
               group_offset=None, out_sharding=None):
    """``lhs`` (m, k) times ``rhs`` (g, k, n) with the rows of ``lhs`` in consecutive groups
    of ``group_sizes`` (g integers), each group multiplied by its own ``rhs[j]``; rows past
    the groups' total give 0 (``jax.lax.ragged_dot``). As :func:`ragged_dot_general`."""
    x, y = _array(lhs), _array(rhs)
    if x.ndim != 2 or y.ndim != 3:
        raise TypeError(f"lax.ragged_dot: lhs must be (m, k) and rhs (g, k, n); got shapes "
                        f"{tuple(x.shape)} and {tuple(y.shape)}.")
    dn = RaggedDotDimensionNumbers((([1], [1]), ([], [])), [0], [0])
    return ragged_dot_general(x, y, group_sizes, dn, precision, preferred_element_type,
                              group_offset, out_sharding)


# -- special functions ---------------------------------------------------------------------


def _special_operands(name, args):
    args, d = _operands(name, args, _F, same_shape=False)
    arrays = [_array(a) if not _is_py(a) else a for a in args]
    shape = broadcast_shapes(*[tuple(a.shape) for a in arrays if not _is_py(a)])
    out = [fnp.broadcast_to(a, shape) if not _is_py(a) else a for a in arrays]
    return out, d


def _back(v, d):
    return v if _dtype(v) is d else fnp.astype(v, d)


def polygamma(m, x):
    """The ``m``-th derivative of digamma at ``x`` (``jax.lax.polygamma``); ``m`` and ``x``
    of one floating dtype, nan where ``m`` is not a non-negative integer. A known ``m`` (a
    number or array, or a batch of them under ``vmap``): each of its orders is computed by
    ``functrans.scipy.special.polygamma``, whose derivative in ``x`` applies. An ``m``
    traced by ``jit``: ``digamma(x)`` where ``m = 0``, else ``(-1)**(m + 1) m! zeta(m + 1,
    x)`` (differentiable in ``x``). Differentiating with respect to ``m`` raises
    ValueError, as JAX."""
    (m, x), d = _special_operands("polygamma", (m, x))
    from .core import Tracer
    from .interpreters import ConstTracer
    if type(m) is ConstTracer:  # (an order made inside a transform: concrete)
        m = m.primal
    # Under vmap the members' orders are concrete, behind the batch tracers: the orders to
    # compute are read from them, and each member picks its own by the select below.
    orders_of = _behind_batches(m)
    if isinstance(orders_of, Tracer):
        return _back(_polygamma_traced_order(m, x), d)
    import numpy
    if _is_py(m):
        orders = numpy.asarray([m], dtype=float)
        m_arr = None
    else:
        from .backends import backend_of
        orders = numpy.unique(numpy.asarray(backend_of(orders_of).to_numpy(orders_of),
                                            dtype=float))
        m_arr = m
    x = _array(x)
    out = fnp.full_like(x, float("nan"))
    for n in orders.tolist():
        if not (n >= 0 and n == int(n)):
            continue
        v = _back(_special().polygamma(int(n), x), d)
        out = v if m_arr is None else fnp.where(fnp.equal(m_arr, n), v, out)
    return out


def _polygamma_traced_order(m, x):
    """polygamma for an order ``m`` known only when run (traced by ``jit``), in float64:
    digamma where ``m = 0``, ``(-1)**(m + 1) m! zeta(m + 1, x)`` where ``m`` is a positive
    integer, nan elsewhere."""
    from .primitives.special import polygamma_order
    sp = _special()
    f64 = _dt.float64
    x = fnp.astype(_array(x), f64)
    m = polygamma_order(fnp.astype(m if not _is_py(m) else fnp.full_like(x, m), f64))
    m = fnp.broadcast_to(m, tuple(x.shape))
    integral = fnp.logical_and(fnp.greater_equal(m, 0.0), fnp.equal(m, fnp.floor(m)))
    positive = fnp.logical_and(integral, fnp.greater(m, 0.0))
    # Each branch on orders where it is finite (m >= 1 for zeta, whose pole is at m = 0),
    # so that the branch not selected adds no nan to the value or the derivative in x.
    k = fnp.where(positive, m, 1.0)
    odd = fnp.equal(fnp.remainder(k, 2.0), 1.0)
    series = fnp.where(odd, 1.0, -1.0) * sp.gamma(k + 1.0) * sp.zeta(k + 1.0, x)
    out = fnp.where(positive, series, sp.digamma(x))
    return fnp.where(integral, out, float("nan"))


def zeta(x, q):
    """The Hurwitz zeta function ``sum_k (k + q)**-x`` (``jax.lax.zeta``); operands of one
    floating dtype. ``functrans.scipy.special.zeta``: differentiable in ``q`` (JAX's is
    not), not in ``x``."""
    (x, q), d = _special_operands("zeta", (x, q))
    return _back(_special().zeta(x, q), d)


def betainc(a, b, x):
    """The regularized incomplete beta function ``I_x(a, b)`` (``jax.lax.betainc``);
    operands of one floating dtype. ``functrans.scipy.special.betainc``, differentiable in
    all three operands (JAX's only in ``x``)."""
    (a, b, x), d = _special_operands("betainc", (a, b, x))
    return _back(_special().betainc(a, b, x), d)


def bessel_i0e(x):
    """``exp(-|x|) I_0(x)`` (``jax.lax.bessel_i0e``), a floating operand;
    ``functrans.scipy.special.i0e``."""
    (x,), d = _special_operands("bessel_i0e", (x,))
    return _back(_special().i0e(x), d)


def bessel_i1e(x):
    """``exp(-|x|) I_1(x)`` (``jax.lax.bessel_i1e``), a floating operand;
    ``functrans.scipy.special.i1e``."""
    (x,), d = _special_operands("bessel_i1e", (x,))
    return _back(_special().i1e(x), d)


def igamma_grad_a(a, x):
    """``d/da P(a, x)``, the derivative of the regularized lower incomplete gamma function
    in its shape (``jax.lax.igamma_grad_a``); operands of one floating dtype. From the
    ``gammainc_da`` primitive that differentiates ``functrans.scipy.special.gammainc``, so
    it is differentiable again (in ``a`` once more, in ``x`` to any order; JAX's is not
    differentiable)."""
    (a, x), d = _special_operands("igamma_grad_a", (a, x))
    from .primitives.special import gammainc_da
    a, x = _array(a), _array(x)
    if _dtype(a) is _dt.float32:  # (computed in float64, as gammainc's float32 values are)
        a, x = fnp.astype(a, fnp.float64), fnp.astype(x, fnp.float64)
    return _back(gammainc_da(a, fnp.astype(x, _dtype(a)), n=1), d)


def random_gamma_grad(a, x):
    """The derivative of a Gamma(a, 1) sample ``x`` with respect to its shape ``a`` at fixed
    uniform (the implicit reparameterization gradient, ``jax.lax.random_gamma_grad``):
    ``-(d/da P(a, x)) / (d/dx P(a, x))``, with ``d/dx P = x^(a-1) exp(-x) / Gamma(a)``
    computed in logarithms. Operands of one floating dtype; differentiable (JAX's is not
    in reverse mode)."""
    (a, x), d = _special_operands("random_gamma_grad", (a, x))
    a, x = _array(a), _array(x)
    if _dtype(a) is _dt.float32:
        a, x = fnp.astype(a, fnp.float64), fnp.astype(x, fnp.float64)
    from .primitives.special import gammainc_da
    sp = _special()
    log_density = fnp.subtract(fnp.subtract(fnp.multiply(fnp.subtract(a, 1.0), fnp.log(x)),
                                            x), sp.gammaln(a))
    return _back(fnp.negative(fnp.divide(gammainc_da(a, x, n=1), fnp.exp(log_density))), d)


# JAX's type aliases, for annotations
DotDimensionNumbers = typing.Tuple[typing.Tuple[typing.Sequence[int], typing.Sequence[int]],
                                   typing.Tuple[typing.Sequence[int], typing.Sequence[int]]]
PrecisionLike = typing.Union[None, str, Precision, typing.Tuple[str, str],
                             typing.Tuple[Precision, Precision]]


# -- jax.lax.linalg: the decompositions with JAX's signatures and result orders ----------------

def _sym(x):
    """``(x + x^H) / 2``, JAX's ``symmetrize_input``."""
    return (x + fnp.conj(fnp.matrix_transpose(x))) / 2


def _linalg_cholesky(x, *, symmetrize_input=True):
    """The lower Cholesky factor ``L`` (``x = L L^H``) of ``(..., n, n)`` matrices
    (``jax.lax.linalg.cholesky``). ``symmetrize_input`` (the default) factors ``(x + x^H)/2``;
    without it, only the lower triangle is read. Difference from JAX: a matrix that is not
    positive definite raises the backend's error (JAX returns NaNs) where the backend checks."""
    from .scipy import linalg as _sla
    x = fnp.asarray(x)
    return _sla.cholesky(_sym(x) if symmetrize_input else x, lower=True)


def _linalg_triangular_solve(a, b, *, left_side=False, lower=False, transpose_a=False,
                             conjugate_a=False, unit_diagonal=False):
    """``x`` with ``op(a) @ x = b`` (``left_side``) or ``x @ op(a) = b`` (the default) for a
    triangular ``a`` (``jax.lax.linalg.triangular_solve``): only the ``lower`` (default:
    upper) triangle is read, not the diagonal if ``unit_diagonal``; ``op`` transposes with
    ``transpose_a`` and conjugates with ``conjugate_a``. ``a`` is ``(..., m, m)``, ``b``
    ``(..., m, n)`` (``(..., n, m)`` on the right side) or one dimension less (a vector)."""
    from .scipy import linalg as _sla
    a, b = fnp.asarray(a), fnp.asarray(b)
    if len(a.shape) < 2 or a.shape[-1] != a.shape[-2]:
        raise ValueError(f"triangular_solve: a must be (..., m, m); got shape {a.shape}")
    vector = len(b.shape) == len(a.shape) - 1
    if vector:
        b = b[..., :, None] if left_side else b[..., None, :]
    tri = _sla._triangle(a, lower, unit_diagonal)   # (zeros off the triangle, ones on a unit diagonal)
    if conjugate_a:
        tri = fnp.conj(tri)
    low = lower
    if transpose_a:
        tri, low = fnp.matrix_transpose(tri), not low
    if left_side:
        x = _sla.solve_triangular(tri, b, lower=low)
    else:   # x @ t = b  <=>  t^T @ x^T = b^T
        x = fnp.matrix_transpose(_sla.solve_triangular(
            fnp.matrix_transpose(tri), fnp.matrix_transpose(b), lower=not low))
    if vector:
        x = x[..., :, 0] if left_side else x[..., 0, :]
    return x


def _linalg_eigh(x, *, lower=True, symmetrize_input=True, sort_eigenvalues=True,
                 subset_by_index=None, implementation=None):
    """``(v, w)``: the eigenvectors (columns) and ascending eigenvalues of Hermitian
    ``(..., n, n)`` matrices (``jax.lax.linalg.eigh``; note the order, vectors first).
    ``symmetrize_input`` (the default) decomposes ``(x + x^H)/2``; without it only the
    ``lower`` (else upper) triangle is read. The eigenvalues come sorted whatever
    ``sort_eigenvalues``; ``subset_by_index=(start, end)`` keeps the eigenvalues of indices
    ``start .. end - 1`` and their vectors (JAX's half-open range, which JAX computes on TPU
    only: here the full decomposition, sliced; differentiable where each kept eigenvalue
    differs from every other); ``implementation`` is ignored."""
    x = fnp.asarray(x)
    w, v = fnp.linalg.eigh(_sym(x) if symmetrize_input else x, UPLO="L" if lower else "U")
    if subset_by_index is not None:
        lo, hi = _subset_range("eigh", subset_by_index, w.shape[-1])
        w, v = w[..., lo:hi], v[..., :, lo:hi]
    return v, w


def _subset_range(name, subset, n):
    """``subset_by_index`` as two ints ``0 <= start <= end <= n``."""
    try:
        lo, hi = (operator.index(k) for k in subset)
    except (TypeError, ValueError):
        raise ValueError(f"lax.linalg.{name}: subset_by_index must be two integers "
                         f"(start, end); got {subset!r}") from None
    if not 0 <= lo <= hi <= n:
        raise ValueError(f"lax.linalg.{name}: subset_by_index {(lo, hi)} must satisfy "
                         f"0 <= start <= end <= {n}")
    return lo, hi


def _linalg_qr(x, *, pivoting=False, full_matrices=True, use_magma=None):
    """``(q, r)`` of ``(..., m, n)`` matrices (``jax.lax.linalg.qr``): ``q`` (m, m) and ``r``
    (m, n) with ``full_matrices`` (the default), else (m, k) and (k, n), k = min(m, n).
    ``pivoting=True`` gives ``(q, r, p)``, the int32 column order ``p`` with
    ``x[..., p] = q @ r``, LAPACK's ``geqp3`` choice (:func:`functrans.scipy.linalg.qr`'s);
    differentiable as without it (``p`` is constant nearby). ``use_magma`` is ignored."""
    if pivoting:
        from .scipy.linalg import qr as _pivoted_qr
        return _pivoted_qr(x, mode="full" if full_matrices else "economic", pivoting=True)
    q, r = fnp.linalg.qr(fnp.asarray(x), mode="complete" if full_matrices else "reduced")
    return q, r


def _linalg_svd(x, *, full_matrices=True, compute_uv=True, subset_by_index=None,
                algorithm=None):
    """``(u, s, vh)`` of ``(..., m, n)`` matrices, singular values descending, or ``s`` alone
    without ``compute_uv`` (``jax.lax.linalg.svd``). ``subset_by_index=(start, end)`` keeps
    the singular values of indices ``start .. end - 1`` (in descending order) and their
    vectors (JAX's half-open range, which JAX computes on TPU only: here the full
    decomposition, sliced; ``full_matrices`` must then be False, as JAX requires);
    ``algorithm`` is ignored."""
    x = fnp.asarray(x)
    k = builtins.min(x.shape[-2:])
    if subset_by_index is not None and _subset_range("svd", subset_by_index, k) != (0, k):
        lo, hi = _subset_range("svd", subset_by_index, k)
        if full_matrices:
            raise ValueError("lax.linalg.svd: full_matrices and subset_by_index cannot both "
                             "be set (pass full_matrices=False)")
        if not compute_uv:
            return fnp.linalg.svdvals(x)[..., lo:hi]
        u, s, vh = fnp.linalg.svd(x, full_matrices=False)
        return u[..., :, lo:hi], s[..., lo:hi], vh[..., lo:hi, :]
    if not compute_uv:
        return fnp.linalg.svdvals(x)
    u, s, vh = fnp.linalg.svd(x, full_matrices=full_matrices)
    return u, s, vh


def _linalg_lu(x):
    """``[lu, pivots, permutation]`` (a list, as JAX's) of ``(..., m, n)`` matrices
    (``jax.lax.linalg.lu``): ``L`` (unit diagonal, not stored) below the diagonal of ``lu``
    and ``U`` on and above it; ``pivots`` (int32, (..., min(m, n))) the row swapped with row ``i`` at step ``i``;
    ``permutation`` (int32, (..., m)) the rows with ``x[permutation] = L @ U``."""
    from .scipy import linalg as _sla
    lu, piv = _sla.lu_factor(x)
    return [lu, piv, _sla._permutation(piv, lu.shape[-2])]


def _linalg_lu_pivots_to_permutation(pivots, permutation_size):
    """The permutation (int32, (..., permutation_size)) that the row swaps ``pivots`` make
    (``jax.lax.linalg.lu_pivots_to_permutation``)."""
    from .scipy import linalg as _sla
    pivots = fnp.asarray(pivots)
    if permutation_size < pivots.shape[-1]:
        raise ValueError(f"lu_pivots_to_permutation: permutation_size {permutation_size} is "
                         f"less than the number of pivots {pivots.shape[-1]}")
    return _sla._permutation(pivots, permutation_size)


def _linalg_tridiagonal_solve(dl, d, du, b, *, perturb_singular=False):
    """``x`` with ``A @ x = b`` for the tridiagonal ``A`` of diagonals ``dl`` (below;
    ``dl[0]`` unused), ``d`` and ``du`` (above; ``du[-1]`` unused), each ``(..., m)``, and
    ``b`` ``(..., m, n)`` (``jax.lax.linalg.tridiagonal_solve``). Solved as a dense system
    (an LU of the m x m matrix). ``perturb_singular`` must be False."""
    if perturb_singular:
        raise NotImplementedError("lax.linalg.tridiagonal_solve: perturb_singular=True is "
                                  "not supported")
    dl, d, du, b = (fnp.asarray(v) for v in (dl, d, du, b))
    m = d.shape[-1]
    eye = fnp.eye(m, dtype=d.dtype, device=fnp.device(d))
    up = fnp.eye(m, k=1, dtype=d.dtype, device=fnp.device(d))     # (i, i+1)
    # (fnp's functions, not operators: under vmap with some diagonals unbatched, a plain
    # array would meet a tracer on its right, which array-api-strict and torch refuse)
    a = fnp.add(fnp.add(fnp.multiply(d[..., :, None], eye), fnp.multiply(du[..., :, None], up)),
                fnp.multiply(dl[..., :, None], fnp.matrix_transpose(up)))  # row i: dl[i] at i-1
    return fnp.linalg.solve(a, b)


linalg = _types.ModuleType("functrans.lax.linalg", """``jax.lax.linalg`` (as
``functrans.lax.linalg``): ``cholesky``, ``triangular_solve``, ``eigh``, ``qr``, ``svd``,
``lu``, ``lu_pivots_to_permutation``, ``tridiagonal_solve``, ``eig``, ``schur``, ``qdwh``,
``hessenberg``, ``tridiagonal``, ``householder_product``, ``ormqr``, ``cholesky_update`` and
``symmetric_product`` with JAX's signatures and result orders (``eigh`` returns ``(v, w)``,
``lu`` ``(lu, pivots, permutation)``), written on
:mod:`functrans.numpy.linalg` and :mod:`functrans.scipy.linalg`, so every transform applies.
""")
for _n, _f in (("cholesky", _linalg_cholesky), ("triangular_solve", _linalg_triangular_solve),
               ("eigh", _linalg_eigh), ("qr", _linalg_qr), ("svd", _linalg_svd),
               ("lu", _linalg_lu), ("lu_pivots_to_permutation", _linalg_lu_pivots_to_permutation),
               ("tridiagonal_solve", _linalg_tridiagonal_solve)):
    _f.__name__ = _f.__qualname__ = _n
    _f.__module__ = "functrans.lax.linalg"
    setattr(linalg, _n, _f)
_LINALG_MORE = ["eig", "schur", "qdwh", "hessenberg", "tridiagonal", "householder_product",
                "ormqr", "cholesky_update", "symmetric_product", "EigImplementation",
                "EighImplementation", "SvdAlgorithm"]
for _n in _LINALG_MORE:
    _f = getattr(_lax_linalg, _n)
    _f.__module__ = "functrans.lax.linalg"
    setattr(linalg, _n, _f)
linalg.__all__ = ["cholesky", "triangular_solve", "eigh", "qr", "svd", "lu",
                  "lu_pivots_to_permutation", "tridiagonal_solve"] + _LINALG_MORE
_sys.modules.setdefault("functrans.lax.linalg", linalg)
del _n, _f


__all__ = ELEMENTWISE + [
    "RoundingMethod", "broadcast", "broadcast_in_dim", "broadcast_to_rank", "reshape",
    "squeeze", "expand_dims", "rev", "transpose", "pad", "concatenate", "slice",
    "slice_in_dim", "index_in_dim", "collapse", "iota", "broadcasted_iota", "full",
    "full_like", "zeros_like_array", "convert_element_type", "bitcast_convert_type",
    "reduce_sum", "reduce_prod", "reduce_max", "reduce_min", "reduce_and", "reduce_or",
    "reduce_xor", "reduce", "argmax", "argmin", "sort", "sort_key_val", "top_k", "cumsum",
    "cumprod", "cummax", "cummin", "cumlogsumexp", "dot", "dot_general", "batch_matmul",
    "associative_scan", "custom_root", "custom_linear_solve", "Precision", "select_n",
    "GatherScatterMode", "GatherDimensionNumbers", "ScatterDimensionNumbers", "gather",
    "scatter", "scatter_add", "scatter_sub", "scatter_mul", "scatter_min", "scatter_max",
    "scatter_apply", "split", "tile", "broadcast_like", "stack", "unstack",
    "broadcast_shapes", "empty", "RandomAlgorithm", "rng_bit_generator", "dtype",
    "index_take", "mulhi", "reduce_precision",
    "optimization_barrier", "platform_dependent", "approx_max_k", "approx_min_k",
    "ragged_dot", "ragged_dot_general", "RaggedDotDimensionNumbers", "polygamma", "zeta",
    "betainc", "bessel_i0e", "bessel_i1e", "igamma_grad_a", "random_gamma_grad",
    "DotDimensionNumbers", "PrecisionLike", "linalg"]
HELPERS = ["block_until_ready", "device_put", "disable_jit"]


def _behind_batches(v):
    """What stands behind vmap's batch tracers (and a constant made inside a transform): the
    members' concrete values, or a tracer of jit or a derivative."""
    from .batching import BatchTracer
    from .interpreters import ConstTracer
    while type(v) is BatchTracer:
        v = v.val
    return v.primal if type(v) is ConstTracer else v
