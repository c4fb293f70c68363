"""``functrans.nn``: the activation functions and helpers of neural-network code, with
``jax.nn``'s names, signatures and conventions, on every backend and under every transform.

Conventions (as in JAX): derivatives at the kinks are JAX's (``relu'(0) = 0``,
``relu6'(0) = relu6'(6) = 0``, ``leaky_relu'(0) = 1``, ``hard_tanh'(+-1) = 1``); branches
that are not selected never put an ``inf`` or ``nan`` into a derivative (``elu`` of a large
positive ``x`` does not overflow ``expm1``); ``softmax`` and ``log_softmax`` default to
the last axis and take a ``where`` mask (excluded entries give 0 and ``-inf``); ``one_hot``
is all zeros for out-of-range classes. Results have the input's library, device and floating
dtype (integer input becomes float64, except in ``relu``, which keeps it, as JAX).
"""

from __future__ import annotations

import math
import operator

import numpy as _np

from . import dtypes as _dt
from . import numpy as fnp
from .core import Tracer as _Tracer, concrete_behind as _concrete_behind
from .interpreters import ConstTracer as _ConstTracer
from .errors import ShapeError
from .primitives.elementwise import mul_sz as _mul_sz, relu_p as _relu_p
from .primitives.structural import iota as _iota
from .scipy import special as _sp

__all__ = ["relu", "relu6", "sigmoid", "softplus", "soft_sign", "silu", "swish",
           "log_sigmoid", "leaky_relu", "elu", "celu", "selu", "gelu", "glu", "hard_tanh",
           "hard_sigmoid", "hard_silu", "hard_swish", "mish", "squareplus", "sparse_plus",
           "sparse_sigmoid", "softmax", "log_softmax", "logsumexp", "logmeanexp", "log1mexp",
           "identity", "tanh", "one_hot", "standardize", "dot_product_attention"]

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
# SELU's constants (Klambauer et al., 2017).
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _lazy_custom_jvp(value, jvp, nondiff_argnums=(), symbolic_zeros=False):
    """``value`` as a ``custom_jvp`` function whose rule is ``jvp``, made on its first call
    (functrans.custom is imported then, not with functrans.nn) and kept. (A closure, not a
    class: this module's import stays as cheap as with the five globals it replaces.)"""
    made = []

    def call(*args):
        if not made:
            from .custom import custom_jvp
            fn = custom_jvp(value, nondiff_argnums=nondiff_argnums)
            fn.defjvp(jvp, symbolic_zeros=symbolic_zeros)
            made.append(fn)
        return made[0](*args)
    return call


def _full(x, value):
    return fnp.full_like(x, value)


def _float(x):
    x = fnp.asarray(x)
    if fnp.isdtype(x.dtype, "complex floating"):
        raise TypeError("functrans.nn functions take real arrays; got a complex one")
    return x if fnp.isdtype(x.dtype, "real floating") else fnp.astype(x, fnp.float64)


# -- piecewise linear ----------------------------------------------------------------------------


def relu(x):
    """The rectified linear unit ``max(x, 0)``; derivative 0 at 0 (as JAX). Integer input
    stays integer."""
    x = fnp.asarray(x)
    if fnp.isdtype(x.dtype, "real floating"):
        # (a primitive whose derivative is written from its result: a checkpoint keeping
        # relu(x @ W) need not recompute x @ W)
        return _relu_p.bind(x)
    # x <= 0 picks the zero, so that nan stays nan (as JAX's and torch's relu); fnp's
    # less_equal orders complex numbers as NumPy on every backend (torch and
    # array-api-strict refuse their <= of them)
    return fnp.where(fnp.less_equal(x, 0), fnp.zeros_like(x), x)


def relu6(x):
    """``min(max(x, 0), 6)``; derivative 0 at 0 and at 6."""
    x = _float(x)
    # the comparisons pick the constants, so that nan stays nan
    return fnp.where(x <= 0, _full(x, 0.0), fnp.where(x >= 6, _full(x, 6.0), x))


def leaky_relu(x, negative_slope=0.01):
    """``x`` for ``x >= 0``, ``negative_slope * x`` below (derivative 1 at 0)."""
    x = _float(x)
    return fnp.where(x >= 0, x, negative_slope * x)


def hard_tanh(x):
    """``x`` clipped to [-1, 1]; derivative 0 outside (-1, 1)."""
    x = _float(x)
    return fnp.where(x > 1, _full(x, 1.0), fnp.where(x < -1, _full(x, -1.0), x))


def hard_sigmoid(x):
    """``relu6(x + 3) / 6``: a piecewise linear sigmoid."""
    return relu6(_float(x) + 3.0) / 6.0


def hard_silu(x):
    """``x * hard_sigmoid(x)`` (also ``hard_swish``): derivative 1 from 3 on, 0 up to -3
    (JAX's at the kinks too), also at +-inf (the value at -inf nan as JAX's)."""
    x = _float(x)
    if not isinstance(x, _Tracer):
        return _hard_silu_value(x)
    return _hard_silu_fn(x)


def _hard_silu_value(x):
    return _nan_at_minus_inf(x) * hard_sigmoid(x)


def _nan_at_minus_inf(x):
    # (the factor x of hard_silu, gelu's tanh form, mish: nan at -inf, where x * 0 was nan
    # with a warning; a NumPy array without -inf, read in place, as it is: the select cost
    # hard_silu's value 50 %)
    if isinstance(x, _np.ndarray) and x.size and _np.minimum.reduce(x, axis=None) > -math.inf:
        return x
    return fnp.where(x == -math.inf, math.nan, x)


def _hard_silu_jvp(primals, tangents):
    # The slope as one expression (the product rule met inf times hard_sigmoid's zero slope
    # at +-inf: nan in forward mode, where reverse mode gave 1 and 0); nan stays nan. The
    # value and slope share the comparisons.
    x = _unwrapped(primals[0])
    y = x + 3.0
    lo, hi = y <= 0.0, y >= 6.0
    # ((2 x + 3) / 6 as x / 3 + 1/2: x + y overflowed from |x| = 9e307, a warning in the
    # branch not taken)
    slope = fnp.where(lo, 0.0, fnp.where(hi, 1.0, x / 3.0 + 0.5))
    if x is primals[0]:
        out = _hard_silu_fn(x)
    else:   # (relu6(x + 3) / 6 as hard_sigmoid's, from the same comparisons)
        out = _nan_at_minus_inf(x) * (fnp.where(lo, 0.0, fnp.where(hi, 6.0, y)) / 6.0)
    return out, fnp.multiply(tangents[0], slope)


_hard_silu_fn = _lazy_custom_jvp(_hard_silu_value, _hard_silu_jvp)


def _unwrapped(x):
    """A rule's primal as the array it holds where it is a constant of the transform (grad's
    first order): the value and slope computed on it skip the interpreter (the rule's
    value is differentiated by nothing there; elsewhere it is the custom function's)."""
    return x.primal if type(x) is _ConstTracer else x


hard_swish = hard_silu


# -- smooth ------------------------------------------------------------------------------------


def sigmoid(x):
    """The logistic function ``1 / (1 + exp(-x))``, without overflow."""
    return _sp.expit(_float(x))


def log_sigmoid(x):
    """``log(sigmoid(x)) = -softplus(-x)``, accurate for large ``|x|``."""
    return _sp.log_expit(_float(x))


def softplus(x):
    """``log(1 + exp(x))`` without overflow (``logaddexp(x, 0)``)."""
    x = _float(x)
    return fnp.logaddexp(x, fnp.zeros_like(x))


def soft_sign(x):
    """``x / (|x| + 1)`` (``+-1`` at ``+-inf``, not ``inf / inf``). Derivative
    ``1 / (|x| + 1)^2`` as one quotient (the quotient rule's two terms cancelled: relative
    error 4e-9 at ``x = 1e8``, 0 for the second derivative from ``|x| = 1e16``)."""
    x = _float(x)
    if not isinstance(x, _Tracer):
        return _soft_sign_value(x)
    return _soft_sign_fn(x)


def _soft_sign_value(x):
    inf = fnp.isinf(x)
    xs = fnp.where(inf, 0.0, x)
    return fnp.where(inf, fnp.sign(x), xs / (fnp.abs(xs) + 1.0))


def _soft_sign_jvp(primals, tangents):
    x, = primals
    d = fnp.abs(x) + 1.0
    # (t / d) / d: d * d would overflow from |x| = 1.3e154 (the slope is representable to
    # 1e-308); inf at +-inf gives 0, the limit
    return _soft_sign_fn(x), fnp.divide(fnp.divide(tangents[0], d), d)


_soft_sign_fn = _lazy_custom_jvp(_soft_sign_value, _soft_sign_jvp)


def silu(x):
    """The sigmoid linear unit ``x * sigmoid(x)`` (also ``swish``)."""
    # (a custom rule with the slope's limit 1 at +inf, where the product rule gives nan,
    # cost its second derivative 1.5x and jit(grad) 15 %: the plain product is kept)
    x = _float(x)
    return x * sigmoid(x)


def _clipped(x, lo, hi):
    """``x`` clipped to [lo, hi]: the argument of derivative terms that vanish in floating
    point out there, so that no infinite or huge factor meets their zeros (inf * 0, or a
    cotangent scaled past the largest float before it meets them). A nan stays nan, with
    its derivative (selects, not maximum, whose derivative at nan is 0)."""
    return fnp.where(x > hi, hi, fnp.where(x < lo, lo, x))


swish = silu


def _negative_part(x):
    """``x`` where it is not positive, 0 elsewhere: what the exponential branches see, so
    that they stay finite (and their derivatives zero) where the linear branch is taken."""
    return fnp.where(x > 0, 0.0, x)


def elu(x, alpha=1.0):
    """The exponential linear unit: ``x`` for ``x > 0``, ``alpha * (exp(x) - 1)`` below."""
    x = _float(x)
    return fnp.where(x > 0, x, alpha * fnp.expm1(_negative_part(x)))


def celu(x, alpha=1.0):
    """The continuously differentiable ELU: ``x`` for ``x > 0``, ``alpha * (exp(x / alpha)
    - 1)`` below."""
    x = _float(x)
    return fnp.where(x > 0, x, alpha * fnp.expm1(_negative_part(x) / alpha))


def selu(x):
    """The scaled ELU ``scale * elu(x, alpha)`` with the self-normalising constants
    (alpha = 1.6733, scale = 1.0507)."""
    return _SELU_SCALE * elu(x, _SELU_ALPHA)


def gelu(x, approximate=True):
    """The Gaussian error linear unit ``x * Phi(x)``; with ``approximate`` (JAX's default)
    the tanh form ``x / 2 * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 x^3)))``, whose
    derivative is 1 at ``+inf`` and 0 at ``-inf`` (the limits; the value at ``-inf`` is
    ``nan``, ``-inf * 0``, as JAX's), every higher one 0 there."""
    # (the erf form stays the plain product, x * ndtr(x): a custom rule with finite limits
    # at +-inf and 1.8e308 cost its eager grad 25 % and its second derivative 1.75x; ndtr,
    # not erfc(-x / sqrt 2) / 2, whose rounded argument cost 1500 ulp in the far left tail)
    x = _float(x)
    if approximate:
        if not isinstance(x, _Tracer):
            return _gelu_tanh_value(x)
        return _gelu_tanh_fn(x)
    return x * _sp.ndtr(x)


def _gelu_tanh_clip(x):
    # beyond |x| = 30 the sigmoid below is 0 or 1 (its argument is past -+2000): the cube
    # sees a clipped x, so that it cannot overflow (inf * 0 = nan in the derivative)
    return fnp.where(x > 30.0, 30.0, fnp.where(x < -30.0, -30.0, x))


def _gelu_tanh_inner(xc):
    return _SQRT_2_OVER_PI * (xc + 0.044715 * (xc * xc * xc))


def _gelu_tanh_value(x):
    # (1 + tanh(z)) / 2 is sigmoid(2 z): no cancellation for large negative x.
    # (nan at -inf, as JAX's, without the warning of -inf * 0)
    return _nan_at_minus_inf(x) * sigmoid(2.0 * _gelu_tanh_inner(_gelu_tanh_clip(x)))


def _gelu_tanh_jvp(primals, tangents):
    # The slope s + 2 x s (1 - s) z' as one expression, with the clipped x (the product
    # rule met inf times the sigmoid's zero slope at +-inf: nan in forward mode, where
    # reverse mode gave 1 and 0); s (1 - s) as s sigmoid(-2 z), without cancellation.
    x = _unwrapped(primals[0])
    xc = _gelu_tanh_clip(x)
    z2 = 2.0 * _gelu_tanh_inner(xc)
    s = sigmoid(z2)
    dz2 = (2.0 * _SQRT_2_OVER_PI) * (1.0 + (3.0 * 0.044715) * (xc * xc))
    slope = s + xc * (s * sigmoid(-z2)) * dz2
    out = _nan_at_minus_inf(x) * s if x is not primals[0] else _gelu_tanh_fn(x)
    return out, fnp.multiply(tangents[0], slope)


_gelu_tanh_fn = _lazy_custom_jvp(_gelu_tanh_value, _gelu_tanh_jvp)


def glu(x, axis=-1):
    """The gated linear unit: ``x`` split in two halves ``a, b`` along ``axis``, then
    ``a * sigmoid(b)``."""
    x = _float(x)
    n = x.shape[axis]
    if n % 2:
        raise ShapeError(f"glu: axis {axis} must have an even length; got {n}")
    a, b = fnp.split(x, 2, axis=axis)
    s = sigmoid(b)
    # an infinite a times a zero gate: nan (JAX's), without the warning of inf * 0 (a NumPy
    # array without infinities, read in place, skips the selects)
    c = _concrete_behind(a)
    if not (isinstance(c, _np.ndarray) and c.size and _np.isfinite(c).all()):
        a = fnp.where(fnp.logical_and(fnp.isinf(a), s == 0.0), math.nan, a)
    return a * s


def mish(x):
    """``x * tanh(softplus(x))``; derivative 1 at ``+inf`` and 0 at ``-inf`` (the limits;
    the value at ``-inf`` is ``nan``, ``-inf * 0``, as JAX's). The derivatives come from
    ``tanh(s)`` and ``sech(s)^2`` written with ``q = sigmoid(-x)^2 = exp(-2 s)`` (``s =
    softplus(x)``): through ``1 - tanh^2`` the second derivative lost digits from ``x = 10``
    (3e-6 relative at 15; 0 at 20 for -6.5e-16) and was nan at ``x = 1.8e308`` in reverse
    mode."""
    x = _float(x)
    if not isinstance(x, _Tracer):
        return _mish_value(x)
    return _mish_fn(x)


def _mish_value(x):
    return _nan_at_minus_inf(x) * fnp.tanh(softplus(x))   # (nan at -inf, quietly)


def _mish_jvp(primals, tangents):
    # mish' = tanh(s) + x sigmoid(x) sech(s)^2 with s = softplus(x): exp(-s) = sigmoid(-x)
    # = r and q = r^2 = exp(-2 s) give sech(s)^2 = 4 q / (1 + q)^2, and tanh(s) = 1 - 2 q /
    # (1 + q) for x >= 0, sigmoid(x) (1 + r) / (1 + q) below: no cancellation in them or in
    # their derivatives, the second derivative's terms (through 1 - tanh^2 it lost digits
    # from x = 10; written with sigmoid(x) for x >= 0, terms of size exp(-x) cancel to one
    # of exp(-2 x)). The slope is of x clipped to [-800, 400], past which it is 0 and 1 and
    # every derivative 0 in floating point (reverse mode scaled the cotangent by x = 1.8e308
    # to inf before it met q = 0: nan).
    x = _unwrapped(primals[0])
    if not _sp._differentiated(x):
        # (first order, also under jit, where nothing differentiates the value: sigmoid(x)
        # = -expm1(-s), and 1 - tanh^2, which loses digits only where x sigmoid(x) sech^2
        # is below an ulp of 1 (a jitted gradient differentiated again: as the formula's))
        s = softplus(x)
        t = fnp.tanh(s)
        slope = t + _clipped(x, -800.0, 400.0) * (-fnp.expm1(-s) * (1.0 - t * t))
        return _nan_at_minus_inf(x) * t, fnp.multiply(tangents[0], slope)
    xc = _clipped(x, -800.0, 400.0)
    p, r = sigmoid(xc), sigmoid(-xc)
    q = r * r
    d = 1.0 + q
    tanh_s = fnp.where(xc < 0.0, p * (1.0 + r) / d, 1.0 - 2.0 * q / d)
    slope = tanh_s + xc * (p * (4.0 * q / (d * d)))
    out = _mish_fn(x)
    return out, fnp.multiply(tangents[0], slope)


_mish_fn = _lazy_custom_jvp(_mish_value, _mish_jvp)


def squareplus(x, b=4):
    """``(x + sqrt(x^2 + b)) / 2``: a smooth, algebraic relu. Computed with ``hypot`` (no
    overflow of ``x^2``), and as ``b / (2 (sqrt(x^2 + b) - x))`` for negative ``x`` (no
    cancellation: JAX's formula loses every digit from ``x = -1e8`` and gives ``inf`` from
    ``|x| = 1.4e154``), halved before the sum (finite up to the largest float)."""
    x = _float(x)
    if type(b) in (int, float):
        if isinstance(x, _Tracer) and b > 0:
            return _squareplus_fn(x, float(b))
        return _squareplus_value(x, b)
    if isinstance(x, _Tracer) or isinstance(b, _Tracer):
        return _squareplus_xb_fn(x, _float(b))
    return _squareplus_value(x, b)


def _squareplus_value(x, b):
    c = math.sqrt(b) if isinstance(b, (int, float)) else fnp.sqrt(b)
    neg = x < 0
    xp = fnp.where(neg, 0.0, x)   # each branch sees only its own inputs
    xn = fnp.where(neg, x, 0.0)
    # (halves first: x + h and 2 (h - x) overflow from |x| = max / 2, inf for a value
    # that is representable; the power-of-two scalings are exact, the same bits elsewhere)
    pos_part = 0.5 * xp + 0.5 * fnp.hypot(xp, c)
    neg_part = fnp.divide(0.25 * b, 0.5 * fnp.hypot(xn, c) - 0.5 * xn)
    return fnp.where(neg, neg_part, pos_part)


# The derivatives of squareplus for a number b (the formula's, through hypot, cancelled: its
# second derivative at x = 1e8 was 17 % off, 1.65e-24 for 2e-24, and the two modes differed):
# y' = y / h = (1 + x / h) / 2 with h = sqrt(x^2 + b), and y'' = b / (2 h^3) (y (h - x) / h^3
# with y (h - x) = (h^2 - x^2) / 2 = b / 2), each written without cancellation.
def _squareplus_jvp(b, primals, tangents):
    x, = primals
    return _squareplus_fn(x, b), fnp.multiply(tangents[0], _squareplus_slope_fn(x, b))


def _squareplus_slope_value(x, b):
    c = math.sqrt(b) if isinstance(b, float) else fnp.sqrt(b)
    neg = x < 0
    # x >= 0: (1 + 1 / hypot(1, c / x)) / 2 (x / h without inf / inf at +inf: 1; at 0: 1/2);
    # x < 0: y / h = b / (2 (h - x) h), no cancellation (0 at -inf), as two quotients
    # of halves ((h - x) h overflowed from |x| = 1e154, 0 for 5.9e-309 at -1.3e154)
    # (x at least c times the dtype's smallest normal number: c / x overflowed, with a
    # warning, at 0 and below c / 1.8e308, where the slope rounds to 1/2 either way; c 1e-300
    # was 0 in float32 and float16, c / 0 a warning)
    xp = fnp.maximum(fnp.where(neg, 1.0, x), c * fnp.finfo(_dt.dtype_of(x)).tiny)
    xn = fnp.where(neg, x, -1.0)
    hn = fnp.hypot(xn, c)
    pos = (1.0 + 1.0 / fnp.hypot(1.0, c / xp)) / 2.0
    return fnp.where(neg, ((0.25 * b) / (0.5 * hn - 0.5 * xn)) / hn, pos)


def _squareplus_slope_jvp(b, primals, tangents):
    x, = primals
    h = fnp.hypot(x, math.sqrt(b))
    # b / (2 h^3) as three divisions (h^3 overflows from |x| = 5.6e102)
    return (_squareplus_slope_fn(x, b),
            fnp.multiply(tangents[0], (b / 2.0) / h / h / h))


_squareplus_fn = _lazy_custom_jvp(_squareplus_value, _squareplus_jvp, nondiff_argnums=(1,))
_squareplus_slope_fn = _lazy_custom_jvp(_squareplus_slope_value, _squareplus_slope_jvp,
                                        nondiff_argnums=(1,))


# An array b (differentiated too): its formula's second derivative in b, through hypot(x,
# sqrt(b)), cancels for x^2 >> b (x^2 / (4 b h^3) - 1 / (4 b h): at x = 1e8, b = 1.36 it was
# +1.8e-25 for -1.25e-25). The slopes, each written without cancellation or overflow: in x,
# S = y / h (_squareplus_slope_value's); in b, G = 1 / (4 h). Their own: S_x = b / (2 h^3),
# S_b = G_x = -x / (4 h^3), G_b = -1 / (8 h^3).
def _squareplus_xb_jvp(primals, tangents):
    x, b = primals
    return _squareplus_xb_fn(x, b), _tangent_sum(
        tangents, lambda: _squareplus_xb_slope_fn(x, b), lambda: _squareplus_b_slope_fn(x, b))


def _tangent_sum(tangents, *slopes):
    """The sum of each tangent times its slope (a thunk), skipping the symbolic zeros (a
    gradient in x or b alone: the other slope is never computed)."""
    from .custom import SymbolicZero
    terms = [t * s() for t, s in zip(tangents, slopes) if type(t) is not SymbolicZero]
    return terms[0] if len(terms) == 1 else terms[0] + terms[1]


def _cubed_h(x, b):
    """``(1 / h^3)`` as a function of a numerator: ``num / h / h / h`` (h^3 overflows from
    |x| = 5.6e102)."""
    h = fnp.hypot(x, fnp.sqrt(b))
    return lambda num: num / h / h / h


def _squareplus_xb_slope_jvp(primals, tangents):
    x, b = primals
    over = _cubed_h(x, b)
    return _squareplus_xb_slope_fn(x, b), _tangent_sum(
        tangents, lambda: over(0.5 * b), lambda: over(-0.25 * x))


def _squareplus_b_slope_value(x, b):
    return 0.25 / fnp.hypot(x, fnp.sqrt(b))


def _squareplus_b_slope_jvp(primals, tangents):
    x, b = primals
    over = _cubed_h(x, b)
    return _squareplus_b_slope_fn(x, b), _tangent_sum(
        tangents, lambda: over(-0.25 * x), lambda: over(-0.125))


_squareplus_xb_fn = _lazy_custom_jvp(_squareplus_value, _squareplus_xb_jvp,
                                     symbolic_zeros=True)
_squareplus_xb_slope_fn = _lazy_custom_jvp(_squareplus_slope_value, _squareplus_xb_slope_jvp,
                                           symbolic_zeros=True)
_squareplus_b_slope_fn = _lazy_custom_jvp(_squareplus_b_slope_value, _squareplus_b_slope_jvp,
                                          symbolic_zeros=True)


def sparse_plus(x):
    """0 for ``x <= -1``, ``(x + 1)^2 / 4`` on (-1, 1), ``x`` from 1 on."""
    x = _float(x)
    xm = fnp.where(fnp.abs(x) >= 1.0, 0.0, x)  # ((x + 1)^2 would overflow for a huge x)
    mid = (xm + 1.0) ** 2 / 4.0
    return fnp.where(x <= -1, _full(x, 0.0), fnp.where(x >= 1, x, mid))


def sparse_sigmoid(x):
    """The derivative of :func:`sparse_plus`: 0, ``(x + 1) / 2``, 1 (slope 1/4 at -1 and 1,
    where maximum and minimum split a tie, as JAX's)."""
    x = _float(x)
    return 0.5 * fnp.minimum(fnp.maximum(x + 1.0, 0.0), 2.0)


# -- normalisations ----------------------------------------------------------------------------


def softmax(x, axis=-1, where=None):
    """``exp(x) / sum(exp(x))`` along ``axis`` (an int, a tuple or None for all), computed
    with the maximum subtracted. ``where`` (a boolean mask broadcast with ``x``) keeps only
    the marked entries: the others get 0 and no derivative."""
    x = _float(x)
    if where is None:
        return _sp.softmax(x, axis=axis)
    where = fnp.broadcast_to(fnp.asarray(where), x.shape)
    axes = _sp._normalize_axes(axis, x.ndim)
    kept = fnp.where(where, x, -fnp.inf)
    # A slice with nothing kept is 0 (as JAX's), not 0 / 0; one whose kept entries are all
    # -inf, or hold a nan or +inf, is nan as without where.
    return fnp.where(where, _sp._softmax_of_shifted(
        kept, fnp.stop_gradient(_kept_max(kept, axes)), axes,
        fnp.any(where, axis=axes, keepdims=True)), 0.0)


def log_softmax(x, axis=-1, where=None):
    """``x - logsumexp(x)`` along ``axis``; with ``where``, excluded entries give ``-inf``
    (and no derivative). A slice whose (kept) maximum is not finite gives SciPy's values
    (nan, ``-inf`` below a ``+inf``) quietly, also under jit, with derivative nan in the
    directions that move one of its entries (as :func:`functrans.scipy.special.log_softmax`
    eagerly)."""
    x = _float(x)
    if where is None and not _sp._staged(x):
        out = _sp.log_softmax(x, axis=axis)   # (a concrete value: quiet there)
        # (a slice whose maximum is not finite came back float64 from a narrower x)
        return out if out.dtype == x.dtype else fnp.astype(out, x.dtype)
    axes = _sp._normalize_axes(axis, x.ndim)
    if where is not None:
        where = fnp.broadcast_to(fnp.asarray(where), x.shape)
        x = fnp.where(where, x, -fnp.inf)
    if _sp._size(x) == 0:
        return x   # (no slice to normalise: no maximum to read, no log(0) of an empty sum)
    m = fnp.stop_gradient(fnp.max(x, axis=axes, keepdims=True))
    if not _sp._maybe_nonfinite(m):   # (concrete finite maxima: the formula's path)
        out = _sp._log_softmax_of_shifted(fnp.subtract(x, m), axes)
    else:
        out = _log_softmax_selects(x, m, axes)
    return out if where is None else fnp.where(where, out, -fnp.inf)


def _log_softmax_selects(x, m, axes):
    """log_softmax of ``x`` with maxima ``m`` (kept dims, no derivative) that may not be
    finite (staged, or concrete ones that are not) and SciPy's values in the slices whose
    maximum is not: nan, ``-inf`` below a ``+inf``. Those slices are shifted by nan (nan
    throughout, quietly: the formula on them met inf - inf and log(0), warnings under jit and
    eagerly with ``where``), which the rule reads as slices without a derivative: nan in the
    directions that move one of their entries, 0 in the others."""
    t = fnp.subtract(x, fnp.where(fnp.isfinite(m), m, math.nan))
    if not isinstance(t, _Tracer):   # (a concrete value: no rule to carry, the same values)
        out = _sp._log_softmax_quiet(t, axes)   # (its nan / -inf fill is a float64 where)
        return _below_inf_value(fnp.astype(out, x.dtype) if out.dtype != x.dtype else out,
                                x, m)
    return _below_inf_fn(_sp._log_softmax_by_rule(t, axes), x, m)


def _below_inf_value(out, x, m):
    # (x < m where m is +inf, nan elsewhere: one comparison of the full array, the rest per
    # slice)
    return fnp.where(x < fnp.where(m == math.inf, m, math.nan), -math.inf, out)


def _below_inf_jvp(primals, tangents):
    # (out's tangent: nan in those slices already, for the directions that move them)
    return _below_inf_fn(*primals), tangents[0]


# ``out`` with -inf at the entries below a +inf maximum ``m`` of their slice (SciPy's
# log_softmax there), derivative out's
_below_inf_fn = _lazy_custom_jvp(_below_inf_value, _below_inf_jvp)


def _kept_max(kept, axis):
    """The maximum of ``kept`` over ``axis``, kept dimensions; ``-inf`` over an empty axis
    (an empty array's reduction raised where JAX's masked max starts from ``-inf``)."""
    if math.prod(kept.shape) == 0:
        return fnp.max(kept, axis=axis, keepdims=True, initial=-fnp.inf)
    return fnp.max(kept, axis=axis, keepdims=True)


def _where_weights(a, b, where):
    """``b`` (1 when None) with the entries ``where`` leaves out set to 0, broadcast with ``a``
    (``logsumexp`` leaves out the entries whose weight is 0, whatever ``a`` holds there)."""
    where = fnp.asarray(where)
    one = fnp.ones_like(fnp.stop_gradient(a)) if b is None else b
    w = fnp.where(where, one, 0.0)
    return fnp.astype(w, fnp.result_type(a, w)) if not fnp.isdtype(w.dtype, "real floating") else w


def logsumexp(a, axis=None, b=None, keepdims=False, return_sign=False, where=None):
    """``log(sum(b * exp(a)))``: :func:`functrans.scipy.special.logsumexp`, with ``jax.nn``'s
    ``where`` (a boolean mask broadcast with ``a``: only the marked entries are summed, the
    others get no derivative; nothing marked gives ``-inf``). Complex ``a`` or ``b``, as
    JAX's: the principal branch (see there)."""
    if where is not None:
        a = fnp.asarray(a)
        if not fnp.isdtype(a.dtype, ("real floating", "complex floating")):
            a = fnp.astype(a, fnp.float64)
        b = _where_weights(a, b, where)
        # the excluded entries leave a too: their weight 0 times a nan cotangent (a nan kept
        # entry) was a nan derivative for them
        a = fnp.where(where, a, 0.0)
    return _sp.logsumexp(a, axis=axis, b=b, keepdims=keepdims, return_sign=return_sign)


def logmeanexp(x, axis=None, where=None, keepdims=False):
    """``log(mean(exp(x)))`` along ``axis`` (an int, a tuple or None for all) computed
    without overflow: ``logsumexp(x) - log(n)`` with ``n`` the number of entries reduced
    (of the entries ``where`` marks, when given), as ``jax.nn.logmeanexp``; complex ``x`` as
    :func:`logsumexp`'s. Nothing to average (no entry, none marked): nan, as JAX's."""
    x = fnp.asarray(x)
    if not fnp.isdtype(x.dtype, ("real floating", "complex floating")):
        x = fnp.astype(x, fnp.float64)
    lse = logsumexp(x, axis=axis, keepdims=keepdims, where=where)
    if where is None:
        axes = range(x.ndim) if axis is None else (
            (axis,) if isinstance(axis, int) else tuple(axis))
        n = math.prod(x.shape[ax] for ax in axes)
        return lse - math.log(n) if n > 0 else fnp.full_like(lse, math.nan)
    count = fnp.sum(fnp.broadcast_to(fnp.asarray(where), x.shape), axis=axis,
                    keepdims=keepdims)
    # nothing marked: lse - log(nan), nan quietly (-inf - log(0) warned twice: divide by
    # zero, inf - inf)
    n = fnp.where(count == 0, math.nan, count)
    if fnp.isdtype(lse.dtype, "complex floating"):
        return lse - fnp.log(fnp.astype(n, fnp.real(lse).dtype))
    return lse - fnp.log(fnp.astype(n, lse.dtype))


def log1mexp(x):
    """``log(1 - exp(-x))`` accurately for ``x > 0`` (Mächler's rule: ``log(-expm1(-x))``
    below ``log 2``, ``log1p(-exp(-x))`` above), as ``jax.nn.log1mexp``; ``-inf`` at 0 and
    nan for ``x < 0``. The derivative is ``1 / expm1(x)`` (``inf`` at 0): the branch not
    taken is evaluated at a point where it is finite, so it never puts a nan into it; at
    ``-0.0`` it is ``+inf`` too (the derivative from inside the domain, as at 0), and nan
    below 0, where the value is. Each derivative is a polynomial in ``u = 1 / expm1(x)``
    (``u' = -u (1 + u)``), the same in every mode: ``-inf`` at 0 for the second (JAX: nan
    in reverse mode), 0 at ``+inf``."""
    x = _float(x)
    if not isinstance(x, _Tracer):
        return _log1mexp_value(x)
    return _log1mexp_fn(x)


def _log1mexp_value(x):
    c = math.log(2.0)
    pos = x > 0.0
    small = x < c
    # each branch sees points where it is finite: log(-expm1(-x)) was log(0) at 0 and log of
    # a negative below (warnings, also for the derivative's value), a large x would give
    # log of a rounded 1 - 0, and x = 0 log1p(-1)
    lo = fnp.where(fnp.logical_and(pos, small), x, c)
    hi = fnp.where(small, c, x)
    inner = fnp.where(small, fnp.log(-fnp.expm1(-lo)), fnp.log1p(-fnp.exp(-hi)))
    return fnp.where(pos, inner, fnp.where(x == 0.0, _full(x, -math.inf), math.nan))


def _log1mexp_jvp(primals, tangents):
    x = _unwrapped(primals[0])
    if x is primals[0]:
        out, u = _log1mexp_fn(x), _log1mexp_slope_fn(x)
    else:
        out, u = _log1mexp_value(x), _log1mexp_slope_value(x)
    # (a strong zero: a zero tangent gives 0 where the slope is inf, at 0, or nan)
    return out, _mul_sz(u, tangents[0])


def _log1mexp_slope_value(x):
    """``1 / expm1(x)`` for ``x > 0``, ``+inf`` at ``+-0``, nan below 0 and at nan, without
    a warning: from 1 on as ``exp(-x) / -expm1(-x)`` (expm1 overflowed from x = 709.8, for
    the limit 0), below 1 ``inf`` where ``1 / x`` is past the largest float (the quotient
    overflowed; ``x`` of 5.6e-309 in float64)."""
    pos = x > 0.0
    big = x > 1.0
    xb = fnp.where(big, x, 1.0)
    xs = fnp.where(fnp.logical_and(pos, ~big), x, 1.0)
    huge = xs * fnp.finfo(_dt.dtype_of(x)).max < 1.0
    near0 = fnp.where(huge, math.inf, 1.0 / fnp.expm1(fnp.where(huge, 1.0, xs)))
    u = fnp.where(big, fnp.exp(-xb) / -fnp.expm1(-xb), near0)
    return fnp.where(pos, u, fnp.where(x == 0.0, _full(x, math.inf), math.nan))


def _log1mexp_slope_jvp(primals, tangents):
    x, = primals
    u = _log1mexp_slope_fn(x)
    # (u' = -exp(x) / expm1(x)^2 = -u (1 + u): the next derivative through this rule again.
    # Where u (1 + u) may pass the largest float (from half its square root on), whose
    # product warned, it is u times -inf, a strong-zero product whose derivative is u''s
    # times -inf: +inf for the next order, as the polynomial's)
    big = u > 0.5 * math.sqrt(fnp.finfo(_dt.dtype_of(u)).max)
    uc = fnp.where(big, 1.0, u)
    past = _mul_sz(u, fnp.where(big, _full(u, -math.inf), 0.0))
    return u, _mul_sz(fnp.where(big, past, fnp.negative(uc * (1.0 + uc))), tangents[0])


_log1mexp_fn = _lazy_custom_jvp(_log1mexp_value, _log1mexp_jvp)
_log1mexp_slope_fn = _lazy_custom_jvp(_log1mexp_slope_value, _log1mexp_slope_jvp)


def identity(x):
    """``x`` itself, as an array (``jax.nn.identity``, the activation that does nothing)."""
    return fnp.asarray(x)


def tanh(x):
    """The hyperbolic tangent: :func:`functrans.numpy.tanh` (``jax.nn.tanh``)."""
    return fnp.tanh(x)


def standardize(x, axis=-1, mean=None, variance=None, epsilon=1e-5, where=None, *,
                algorithm="stable"):
    """``(x - mean) / sqrt(variance + epsilon)`` along ``axis`` (the mean and variance are
    computed unless given; ``where`` restricts them to the marked entries). ``algorithm``
    (JAX's keyword) says how the variance is computed: ``"stable"`` (the default here; JAX's
    default is ``"fast"``) as ``mean((x - mean)^2)``, ``"fast"`` as JAX's ``mean(x^2) -
    mean^2`` clipped at 0, which loses every digit when the mean is large beside the spread."""
    if algorithm not in ("stable", "fast"):
        raise ValueError(f"standardize: algorithm must be 'stable' or 'fast'; got "
                         f"{algorithm!r}")
    x = _float(x)
    if where is not None:
        # the masked means never read the excluded entries (a nan there stays out)
        where = fnp.broadcast_to(fnp.asarray(where), x.shape)
    # (a NumPy x within half the deviation limit, read once: its mean is finite and its
    # deviations within the limit, so the plain formula, without the checks below)
    plain = mean is None and _within(x, 0.5 * _deviation_limit(x))
    # fnp's functions, not operators: x may be a plain array and mean a tracer
    if mean is None:
        mean = fnp.mean(x, axis=axis, keepdims=True, where=where)
    if not plain and not isinstance(mean, (int, float)):
        # an infinite mean (an infinite entry) shifts by nan: nan throughout, as the
        # formula's inf - inf, without its warning (a NumPy mean known finite: as it is)
        c = _concrete_behind(mean)
        if not (isinstance(c, _np.ndarray) and _np.isfinite(c).all()):
            mean = fnp.where(fnp.isfinite(mean), mean, math.nan)
    d = fnp.subtract(x, mean)
    if variance is None:
        if algorithm == "stable":
            if plain:
                variance = fnp.mean(d * d, axis=axis, keepdims=True, where=where)
                return fnp.divide(d, fnp.sqrt(fnp.add(variance, epsilon)))
            return fnp.divide(d, _stable_deviation(d, axis, epsilon, where))
        else:
            variance = fnp.maximum(
                fnp.subtract(fnp.mean(x * x, axis=axis, keepdims=True, where=where),
                             fnp.multiply(mean, mean)), 0.0)
    if isinstance(variance, (int, float)):
        return d / math.sqrt(variance + epsilon)
    return fnp.divide(d, fnp.sqrt(fnp.add(variance, epsilon)))


_DEVIATION_LIMITS: dict = {}   # dtype -> 2^(maxexp/2 - 16), 1 for float16


def _deviation_limit(x):
    """The largest ``|x - mean|`` squared without scaling (see _stable_deviation)."""
    dt = _dt.dtype_of(x)   # (functrans's: one key per dtype across the libraries)
    limit = _DEVIATION_LIMITS.get(dt)
    if limit is None:
        limit = _DEVIATION_LIMITS[dt] = 2.0 ** max(fnp.finfo(dt).maxexp // 2 - 16, 0)
    return limit


def _within(x, limit):
    """Whether ``x`` is known (a NumPy value, read in place) to lie in [-limit, limit] (nan
    is not)."""
    c = _concrete_behind(x)
    return bool(isinstance(c, _np.ndarray) and c.size and
                _np.maximum.reduce(c, axis=None) <= limit and
                _np.minimum.reduce(c, axis=None) >= -limit)


def _stable_deviation(d, axis, epsilon, where):
    """``sqrt(mean(d^2) + epsilon)`` over ``axis`` (kept), without the overflow of ``d^2``
    (the variance was inf and the result 0, with a warning, from ``|d|`` = 1.3e154 in
    float64, 1.8e19 in float32, 256 in float16, where the standard deviation is
    representable up to the largest float). A slice whose largest ``|d|``, ``s``, passes
    ``2^(maxexp/2 - 16)`` (1 in float16, whose sum of squares overflows from 256 entries of
    16) is divided by ``s`` before squaring (the squares of entries small next to ``s``,
    which may flush to 0, do not count beside its own); the others keep the factor 1, the
    same operations and bits as before. The factor has no derivative (the quotient is the
    same for any constant factor)."""
    limit = _deviation_limit(d)
    if _within(d, limit):
        # (a NumPy value within the limit, read in place: the plain formula, without the
        # factor's five operations; nan fails the test)
        return fnp.sqrt(fnp.add(fnp.mean(d * d, axis=axis, keepdims=True, where=where),
                                epsilon))
    ad = fnp.abs(d)
    # (initial= only where needed: a masked or empty maximum; it is five operations more)
    s = fnp.stop_gradient(
        fnp.max(ad, axis=axis, keepdims=True) if where is None and _sp._size(d) else
        fnp.max(ad, axis=axis, keepdims=True, where=where, initial=0.0))
    big = fnp.logical_and(s > limit, s < math.inf)
    r = fnp.divide(1.0, fnp.where(big, s, 1.0))
    u = d * r
    var_u = fnp.mean(u * u, axis=axis, keepdims=True, where=where)
    return fnp.divide(fnp.sqrt(fnp.add(var_u, epsilon * (r * r))), r)


def one_hot(x, num_classes, *, dtype=None, axis=-1):
    """``x`` (class indices) encoded as rows of ``num_classes`` entries, 1 at the class and 0
    elsewhere, on a new axis ``axis``; classes outside [0, num_classes) give all zeros, and
    so do floating values that are not whole numbers (both as JAX). ``dtype`` defaults to
    float64. No derivative in ``x``."""
    x = fnp.asarray(x)
    if fnp.isdtype(x.dtype, "complex floating") or fnp.isdtype(x.dtype, "bool"):
        raise TypeError(f"one_hot: x must hold class indices (integers or real numbers); "
                        f"got {x.dtype}")
    x = fnp.stop_gradient(x)
    given = num_classes
    try:
        num_classes = operator.index(num_classes)
    except TypeError:
        num_classes = None
    if num_classes is None or num_classes < 0:
        raise TypeError(f"one_hot: num_classes must be an integer >= 0 (a static count, not "
                        f"an array or a float); got {given!r}")
    nd = x.ndim + 1
    ax = axis + nd if axis < 0 else axis
    if not 0 <= ax < nd:
        raise ShapeError(f"one_hot: axis {axis} is out of range for a {nd}-d result")
    classes = _iota(x, num_classes, x.dtype)
    classes = fnp.reshape(classes, (num_classes,) + (1,) * (nd - 1 - ax))
    hit = fnp.expand_dims(x, axis=ax) == classes
    return fnp.astype(hit, fnp.float64 if dtype is None else dtype)


# -- attention ---------------------------------------------------------------------------------


def dot_product_attention(query, key, value, bias=None, mask=None, *, scale=None,
                          is_causal=False, query_seq_lengths=None, key_value_seq_lengths=None,
                          local_window_size=None, implementation=None, return_residual=False):
    """Scaled dot-product attention, as ``jax.nn.dot_product_attention``:
    ``softmax(q k^T * scale + bias, masked) v`` for ``query`` of shape (B, T, N, H) (or
    (T, N, H)), ``key`` and ``value`` (B, S, K, H) with N a multiple of K (grouped-query
    attention repeats each key/value head N / K times). ``scale`` defaults to 1/sqrt(H);
    ``bias`` and ``mask`` broadcast to (B, N, T, S) (``mask`` True keeps an entry);
    ``is_causal`` keeps key positions ``s <= t``; ``local_window_size`` ``(left, right)``
    (an int: both) keeps ``t - left <= s <= t + right``; ``query_seq_lengths`` and
    ``key_value_seq_lengths`` (integer arrays of shape (B,); (1,) unbatched) keep
    ``t < query_len[b]`` and ``s < kv_len[b]``, and the outputs of the padded queries
    (``t >= query_len[b]``) are zero. A query row with every entry masked attends to all
    keys equally (the mean of ``value``, as JAX). ``implementation`` may be None or
    ``"xla"`` (the one computation there is). Returns (B, T, N, H) (or (T, N, H)); with
    ``return_residual``, also the log-sum-exp of each query's kept logits, (B, T, N) (or
    (T, N)), without derivative (as JAX's): ``-inf`` for a query that keeps no key (JAX: its
    fill value's, about -2.4e38)."""
    if implementation not in (None, "xla"):
        raise ValueError(f"dot_product_attention: implementation must be None or 'xla' "
                         f"(functrans has no cuDNN kernel); got {implementation!r}.")
    q, k, v = _float(query), _float(key), _float(value)
    unbatched = q.ndim == 3
    if unbatched:
        q, k, v = (fnp.expand_dims(a, axis=0) for a in (q, k, v))
    if not (q.ndim == k.ndim == v.ndim == 4):
        raise ShapeError(f"dot_product_attention: query, key and value must all be 3-d "
                         f"(T, N, H) or 4-d (B, T, N, H); got shapes {query.shape}, "
                         f"{key.shape}, {value.shape}")
    b, t, n, h = q.shape
    s, kh = k.shape[1], k.shape[2]
    if k.shape != v.shape or k.shape[0] != b or k.shape[3] != h or n % kh:
        raise ShapeError(f"dot_product_attention: key and value must be (B, S, K, H) with "
                         f"query's B and H and K dividing its N; got query {query.shape}, "
                         f"key {key.shape}, value {value.shape}")
    if kh != n:
        k = fnp.repeat(k, n // kh, axis=2)
        v = fnp.repeat(v, n // kh, axis=2)
    scale = 1.0 / math.sqrt(h) if scale is None else scale
    # Half-precision query and key: the logits (with their bias), the masks and the softmax
    # in float32, the weights rounded once to key's dtype for the product with value, as
    # JAX's (logits rounded to 8 bits put bfloat16 outputs 3-6 ulps of their scale off where
    # JAX's are within 1, and a float32 bias made the output float32)
    dq, dk = _dt.dtype_of(q), _dt.dtype_of(k)
    half = dq if dq is dk else _dt.result_type(dq, dk)
    wide = _dt.float32 if half is _dt.float16 or half is _dt.bfloat16 else None
    logits = fnp.einsum("btnh,bsnh->bnts", q, k, preferred_element_type=wide) * scale
    if bias is not None:
        logits = fnp.add(logits, _attention_operand(bias, unbatched))
        if wide is not None:
            logits = fnp.astype(logits, wide)
    # (the masks are combined with functrans.numpy, never with the operators: a user's mask
    # is a plain array, and array-api-strict's refuses a traced operand on its right)
    keep = None
    if mask is not None:
        keep = fnp.broadcast_to(_attention_operand(fnp.asarray(mask), unbatched),
                                logits.shape)
    if is_causal:
        causal = _iota(q, t)[:, None] >= _iota(q, s)[None, :]
        keep = causal if keep is None else fnp.logical_and(keep, causal)
    if local_window_size is not None:
        left, right = _window(local_window_size)
        d = _iota(q, t)[:, None] - _iota(q, s)[None, :]
        window = fnp.logical_and(d <= left, d >= -right)
        keep = window if keep is None else fnp.logical_and(keep, window)
    q_valid = None
    for lengths, size, name in ((query_seq_lengths, t, "query_seq_lengths"),
                                (key_value_seq_lengths, s, "key_value_seq_lengths")):
        if lengths is None:
            continue
        valid = _iota(q, size)[None, :] < _seq_lengths(lengths, b, name)[:, None]   # (B, size)
        if name == "query_seq_lengths":
            q_valid = valid
            pad = valid[:, None, :, None]
        else:
            pad = valid[:, None, None, :]
        keep = pad if keep is None else fnp.logical_and(keep, pad)
    residual = None
    if return_residual:
        kept = None if keep is None else fnp.broadcast_to(keep, logits.shape)
        residual = fnp.permute_dims(logsumexp(fnp.stop_gradient(logits), axis=-1, where=kept),
                                    (0, 2, 1))   # (B, N, T) -> (B, T, N)
        if wide is not None:
            residual = fnp.astype(residual, k.dtype)
    if keep is None:
        weights = _sp.softmax(logits, axis=-1)
    else:
        keep = fnp.broadcast_to(keep, logits.shape)
        # A row with nothing kept attends to every key equally, as JAX's does.
        any_kept = fnp.any(keep, axis=-1, keepdims=True)
        logits = fnp.where(any_kept, logits, 0.0)
        weights = softmax(logits, axis=-1,
                          where=fnp.logical_or(keep, fnp.logical_not(any_kept)))
    if wide is not None:
        weights = fnp.astype(weights, k.dtype)
    out = fnp.einsum("bnts,bsnh->btnh", weights, v)
    if q_valid is not None:
        out = fnp.where(q_valid[:, :, None, None], out, 0.0)
    if unbatched:
        out = out[0, ...]
        residual = None if residual is None else residual[0, ...]
    return out if residual is None else (out, residual)


def _window(size):
    """local_window_size as (left, right): an int for both, or a pair of ints >= 0."""
    pair = (size, size) if isinstance(size, int) else tuple(size)
    if len(pair) != 2 or not all(isinstance(w, int) and w >= 0 for w in pair):
        raise ValueError(f"dot_product_attention: local_window_size must be an int >= 0 or a "
                         f"pair (left, right) of them; got {size!r}.")
    return pair


def _seq_lengths(lengths, b, name):
    """A sequence-lengths argument: an integer array of shape (B,)."""
    lengths = fnp.asarray(lengths)
    if lengths.shape != (b,) or not fnp.isdtype(lengths.dtype, "integral"):
        raise ValueError(f"dot_product_attention: {name} must be an integer array of shape "
                         f"({b},) (one length per batch entry); got {lengths.dtype} of shape "
                         f"{tuple(lengths.shape)}.")
    return lengths


def _attention_operand(a, unbatched):
    """A bias or mask of (N, T, S) (unbatched) or up to (B, N, T, S), broadcast from its
    trailing axes."""
    return fnp.expand_dims(a, axis=0) if unbatched and a.ndim == 3 else a


from . import _initializers as initializers  # noqa: E402,F401  (functrans.nn.initializers)
