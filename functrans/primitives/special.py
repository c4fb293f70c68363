"""Special functions as elementwise primitives: erf, erfc, erfinv, ndtri, lgamma, digamma,
polygamma, erfcx, i0, i0e, i1, i1e, exp1, expi, expn, dawsn, the Hurwitz and Riemann zeta
functions, spence, si, ci, fresnel_s, fresnel_c, owens_t, wofz (the Faddeeva function, on
complex arrays), hyp1f1 (Kummer's function; in a and b by its series), hyp2f1 (the Gauss
hypergeometric function, in x only), jv (the Bessel function J_v(z), in z only), ive (the
scaled modified Bessel function exp(-|x|) I_v(x), in x only), the Bessel
functions of orders 0 and 1 j0, j1, y0, y1, k0, k0e, k1, k1e, the regularized
incomplete gamma and beta functions gammainc, gammaincc and betainc, and their inverses in
the last operand gammaincinv, gammainccinv and betaincinv; x_log_y and entr_positive, the
cores of xlogy and entr (their slopes formed so that they do not overflow at subnormals).

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
x^(a-1) (1-x)^(b-1) / B(a, b)``, each computed in logarithms). gammainc and gammaincc are
also differentiated in their shape ``a``, through the primitive ``gammainc_da(a, x, n=n)``
(``d^n P / da^n``, n = 1, 2, the backend extra of :mod:`functrans.backends.incomplete_grads`;
n = 3 where x < a + 1 from Kummer's series, NotImplementedError elsewhere and beyond; its
derivative in ``x`` is closed-form), and betainc in its shapes ``a``, ``b`` through the primitive
``betainc_dab(a, b, x, i=i, j=j)`` (``d^(i+j) I / da^i db^j``, i + j = 1, 2, 3, the extra of
the same name; likewise closed-form in ``x``, NotImplementedError at the fourth order in the
shapes). The inverses are differentiated in ``y`` by the inverse function rule (one over the
forward function's derivative at the result, in logarithms), and in their shapes by
``dx/da = -(dF/da) / (dF/dx)`` at the result (F the forward function); gammaincinv and
gammainccinv at ``a >= 50`` near ``x = a`` in Temme's variable instead (the primitives
``temme_series`` and ``gamma_inv_eta``: see there).
"""

from __future__ import annotations

import math
from functools import partial

import numpy as _np

from .elementwise import (_array_aval, _bool_aval, abs_, add, cos, div, elementwise, eq, exp,
                          floor_p, ge, gt, le, log, log1p, logical_and, logical_not, logical_or,
                          lt, maximum, minimum, mul, mul_sz, neg, round_p, select, sign, sin,
                          sqrt, sub, unary)
from .elementwise import _tangent_times_sz
from .structural import full_like
from ._batching import leading_rule
from ..core import primitive, registry
from ..backends.digamma_roots import (FAR_LEFT as _DIGAMMA_FAR_LEFT,
                                       LOWEST as _DIGAMMA_ROOTS_LOWEST,
                                       ROOTS_HI as DIGAMMA_ROOTS_HI,
                                       ROOTS_LO as DIGAMMA_ROOTS_LO,
                                       SINES as _DIGAMMA_SINES, digamma_far_left_near,
                                       digamma_near_positive_root, digamma_near_roots,
                                       reflection_far_left)
from ..backends import bessel_zeros as _bz
from ..backends.generic import polygamma_cot_term as _polygamma_cot_term
from ..backends.exact_square import (ERFCX_MIDDLE, erfcx_middle_numpy, erfcx_middle_scalar,
                                      exp_c_square, exp_c_square_numpy, exp_c_square_scalar)

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_SQRT_PI_OVER_TWO = math.sqrt(math.pi) / 2.0
_SQRT_2PI = math.sqrt(2.0 * math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT1_2 = math.sqrt(0.5)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


def _via_extra(name):
    def impl(b, x):
        return b.extra(name)(x)
    impl.__name__ = f"{name}_impl"
    return impl


def _exp_sq_impl(b, x, *, c, scale=1.0, plain_below=0.0):
    if type(x) is _np.ndarray:   # (NumPy: in place on the temporaries)
        if x.dtype == _np.float64:
            if not x.ndim:   # (0-d: an array of one element)
                return _np.reshape(exp_c_square_numpy(_np.reshape(x, 1), c, scale, plain_below),
                                   ())
            return exp_c_square_numpy(x, c, scale, plain_below)
        if x.dtype == _np.float32 and x.ndim:
            y = x.astype(_np.float64)
            y *= y
            y *= c
            _np.exp(y, out=y)
            y *= scale
            return y.astype(_np.float32)
    elif isinstance(x, _np.generic):   # (a NumPy scalar: as an array of one element)
        return _exp_sq_impl(b, _np.reshape(x, 1), c=c, scale=scale, plain_below=plain_below)[0]
    xp = b.xp
    name = b.dtype(x).name
    if name == "float32":   # (in float64, where eps x^2 is far below float32's ulp: 2 casts)
        x64 = xp.astype(x, xp.float64)
        return xp.astype(xp.exp(x64 * x64 * c) * scale, xp.float32)
    if name != "float64" or (plain_below and _on_host(x)
                             and not _reaches(xp, xp.abs(x), plain_below)):
        # (half precision, and float64 where every |x| is below plain_below: the plain form)
        y = xp.exp(x * x * c)
        return y if scale == 1.0 else y * scale
    return exp_c_square(xp, x, c, scale)


def _exp_sq_jvp(primals, tangents, **params):
    x, = primals
    y = exp_sq_p.bind(x, **params)
    if params["c"] < 0.0:
        # (2 c x y at x = +-inf was inf * 0: nan, 'invalid value' in every second derivative
        # of ndtr, erf, erfc, norm.cdf / logcdf there, whose limit is 0. y is 0 from |x| ~ 40
        # on, so x held at +-_EXP_SQ_X_HELD changes no finite product)
        x = maximum(minimum(x, _EXP_SQ_X_HELD), -_EXP_SQ_X_HELD)
    return y, mul(tangents[0], mul(mul(x, 2.0 * params["c"]), y))


_EXP_SQ_X_HELD = 1e10


# exp_sq(x, c, scale, plain_below): scale exp(c x^2) for c one of 1, -1, 1/2, -1/2, without the
# rounding of x^2, which costs eps |c| x^2 / 2 relative (2.7e-14 at x = 26.5; 2e-6 at 9.1 in
# float32): x^2 = p + err with p the rounded square and err its error, exact from a split (see
# backends/exact_square.py), and exp(c x^2) = exp(c p) (1 + c err); float32 in float64 (2
# casts, fewer passes than a split). plain_below: where every |x| is below it (read on the
# host: NumPy, and arrays on the CPU; on a device the split is always taken), the rounded
# form, |c| plain_below^2 / 2 ulp off at most, at the cost of one maximum (the split costs
# about three times the rounded form).
# The normal density (ndtr's slope) uses it with the split throughout; erf's slope and
# stats.norm.pdf with plain_below=4 (see _erf_slope); erfinv's and ndtri's not (their
# slope primitives).
exp_sq_p = elementwise("exp_sq", _exp_sq_impl, _exp_sq_jvp, abstract_eval=_array_aval)
exp_sq_p.same_aval = True


def exp_sq(x, c, scale=1.0, plain_below=0.0):
    params = {"c": c}
    if scale != 1.0:
        params["scale"] = scale
    if plain_below:
        params["plain_below"] = plain_below
    return exp_sq_p.bind(x, **params)


def _erf_slope(x, scale):
    # scale exp(-x^2). float32: exp_sq, through float64 where x^2 is exact (the plain form's
    # rounded x^2 was 32 ulp off at 8.3, 60 near 8.5). float64: the plain form (its rounded
    # x^2 eps x^2 / 2 relative off: 480 ulp near 24) where every |x| is below 4 (at most 8 ulp
    # there; one maximum read on the host), else the exact square (grad of erf over 1000
    # entries: +18 % where the split is taken, as before session 43 on all inputs)
    return exp_sq(x, -1.0, scale, _ERF_SLOPE_PLAIN)


_ERF_SLOPE_PLAIN = 4.0


erf_p = unary("erf", _via_extra("erf"), lambda t, x, y: mul(t, _erf_slope(x, _TWO_OVER_SQRT_PI)))
erfc_p = unary("erfc", _via_extra("erfc"),
               lambda t, x, y: mul(t, _erf_slope(x, -_TWO_OVER_SQRT_PI)))
# The inverse functions' derivatives come from their results: 1 / erf'(erfinv(x)).
erfinv_p = unary("erfinv", _via_extra("erfinv"),
                 lambda t, x, y: mul(t, erfinv_slope_p.bind(x, y)))


def _erfinv_slope_impl(b, x, y):
    xp = b.xp
    # (within 4 ulp for |y| < 2, the common case: the plain form, after one look on the host)
    if isinstance(y, (_np.ndarray, _np.generic)):
        if y.dtype == _np.float64 and _np.abs(y).max(initial=0.0) < _ERFINV_PLAIN:
            return xp.exp(y * y) * _SQRT_PI_OVER_TWO
    elif (_on_host(y) and b.dtype(y).name == "float64"
          and not _reaches(xp, xp.abs(y), _ERFINV_PLAIN)):
        return xp.exp(y * y) * _SQRT_PI_OVER_TWO
    q = 1.0 - xp.abs(x)   # (exact for |x| >= 1/2; erfc(|y|) = q)
    edge = q == 0.0   # (x = +-1: inf, not erfcx(inf) / 0)
    s = b.extra("erfcx")(xp.abs(y)) * (_SQRT_PI_OVER_TWO / xp.where(edge, xp.ones_like(q), q))
    return xp.where(edge, xp.full_like(s, math.inf), s)


def _erfinv_slope_jvp(primals, tangents):
    # y is erfinv(x) (erfinv's rule binds it so): d/dx sqrt(pi)/2 exp(y^2) = 2 y s^2, along it
    x, y = primals
    s = erfinv_slope_p.bind(x, y)
    return s, mul(tangents[0], mul(mul(y, 2.0), mul(s, s)))


# erfinv_slope(x, erfinv(x)): erfinv's slope sqrt(pi)/2 exp(y^2), y = erfinv(x); as such it
# was eps |2 y| relative off from y's own rounding and eps y^2 / 2 from y^2's: 110 ulp near
# 1 - 2.6e-15. Where some |y| >= 2 (or not read on the host; float32 always) as sqrt(pi)/2
# erfcx(|y|) / (1 - |x|): within a few ulp (as ndtri_slope).
erfinv_slope_p = elementwise("erfinv_slope", _erfinv_slope_impl, _erfinv_slope_jvp)
_ERFINV_PLAIN = 2.0
# ndtri, the inverse of the standard normal CDF: 1 / phi(ndtri(p)). A primitive of its own
# (not sqrt(2) erfinv(2p - 1)) because 2p - 1 loses the small p of the lower tail.
ndtri_p = unary("ndtri", _via_extra("ndtri"), lambda t, x, y: mul(t, ndtri_slope_p.bind(x, y)))


def _ndtri_slope_impl(b, p, y):
    xp = b.xp
    # (within 4 ulp for |y| < 3, the common case: the plain form, after one look on the host)
    if isinstance(y, (_np.ndarray, _np.generic)):
        if y.dtype == _np.float64 and _np.abs(y).max(initial=0.0) < _NDTRI_PLAIN:
            return xp.exp(y * y * 0.5) * _SQRT_2PI
    elif (_on_host(y) and b.dtype(y).name == "float64"
          and not _reaches(xp, xp.abs(y), _NDTRI_PLAIN)):
        return xp.exp(y * y * 0.5) * _SQRT_2PI
    q = xp.minimum(p, 1.0 - p)   # (1 - p exact for p >= 1/2)
    edge = q == 0.0   # (p 0 or 1: inf, not erfcx(inf) / 0)
    s = b.extra("erfcx")(xp.abs(y) * _SQRT1_2) * (
        _SQRT_PI_OVER_2 / xp.where(edge, xp.ones_like(q), q))
    return xp.where(edge, xp.full_like(s, math.inf), s)


def _ndtri_slope_jvp(primals, tangents):
    # y is ndtri(p) (ndtri's rule binds it so): d/dp 1 / phi(y) = y / phi(y)^2, along ndtri
    p, y = primals
    s = ndtri_slope_p.bind(p, y)
    return s, mul(tangents[0], mul(y, mul(s, s)))


# ndtri_slope(p, ndtri(p)): ndtri's slope 1 / phi(y), y = ndtri(p). As sqrt(2 pi) exp(y^2 / 2)
# it was eps |y| relative off from y's own rounding (the slope at the rounded y) and eps y^2 / 2
# from y^2's: 2600 ulp at p = 1e-236, 70 near 1 - 1e-15 (float32: 85 ulp near y = 13). Now
# where some |y| >= 3 (or not read on the host; float32 always) as sqrt(pi / 2) erfcx(|y| /
# sqrt 2) / min(p, 1 - p): Phi(y) = erfcx(-y / sqrt 2) exp(-y^2 / 2) / 2 with p exact, and erfcx
# of the rounded y changes by about |y| ulp / y^2: within 5 ulp everywhere.
ndtri_slope_p = elementwise("ndtri_slope", _ndtri_slope_impl, _ndtri_slope_jvp)
_NDTRI_PLAIN = 3.0
_SQRT_PI_OVER_2 = math.sqrt(math.pi / 2.0)


def _ndtr_impl(b, x):
    if isinstance(x, _np.ndarray) and x.dtype == _np.float64 and x.ndim:   # (AtArray too)
        # (NumPy: the band's and the tail's elements only, by their indices; the rest
        # through SciPy's ndtr, its erfc(-x / sqrt 2) / 2 in one pass)
        lib_ndtr = _ndtr_numpy_library(b)
        xf = _np.asarray(x).ravel()   # (flat in C order, as the indices; never written)
        band = xf <= _NDTR_MIDDLE_X   # (nan elements: SciPy's)
        if not band.any():   # (stops at the first element in the band)
            return lib_ndtr(x)
        idx = _np.flatnonzero(band)
        xb = xf.take(idx)
        if len(idx) * 4 > xf.size:   # (SciPy's ndtr of the others only, where that saves more
            rest = _np.flatnonzero(~band)   # than their indices cost)
            y = _np.empty_like(xf)
            y[rest] = lib_ndtr(xf.take(rest))
        else:   # (SciPy's ndtr of the band's elements set above it: its erf branch, cheaper
            # than its exponential's, and the band's values replace them)
            y = _np.maximum(xf, _ABOVE_NDTR_MIDDLE_X)
            y = lib_ndtr(y, out=y)
        zb = xb * -_SQRT1_2
        if not _np.maximum.reduce(zb) < _NDTR_TAIL_Z:
            tail = _np.flatnonzero(zb >= _NDTR_TAIL_Z)
            t = b.extra("erfcx")(zb.take(tail))
            e = erfcx_middle_numpy(_np.minimum(zb, _NDTR_TAIL_Z, out=zb))
            e[tail] = t
            e *= exp_c_square_numpy(xb, -0.5, 0.5)
        else:   # (|x| below 4.95: no clamp, no maximum)
            e = erfcx_middle_numpy(zb)
            e *= exp_c_square_numpy(xb, -0.5, 0.5, bounded=True)
        y[idx] = e   # (fancy assignment: 2.5 times faster than np.put)
        return y.reshape(x.shape)
    z = x * -_SQRT1_2
    erfc = b.extra("erfc")
    if b.dtype(x).name != "float64":   # (float32: the namespace's ndtr computes in float64)
        return erfc(z) * 0.5
    if isinstance(x, (_np.ndarray, _np.generic)):   # (a NumPy scalar: in Python floats, the
        v = float(x)                                # array form's operations and values)
        if not v <= _NDTR_MIDDLE_X:
            return _ndtr_numpy_library(b)(x)
        zv = v * -_SQRT1_2
        e = (float(b.extra("erfcx")(zv)) if zv >= _NDTR_TAIL_Z
             else erfcx_middle_scalar(zv))
        return _np.float64(e * exp_c_square_scalar(v, -0.5, 0.5))
    xp = b.xp
    # (the extra's erfc without its own tail, where it names one (CuPy's: erfcx and an exact
    # square on every element, read-free): the tail's elements get ndtr's own below)
    erfc = getattr(getattr(erfc, "__wrapped__", erfc), "below_tail", erfc)
    y = erfc(z) * 0.5
    if not _on_host(x):   # (a device's: read-free, the rounding's term throughout)
        y = y + _ndtr_rounding(xp, x)
    else:   # (on the host: where z >= 0.7 only, by a mask)
        top = _top(xp, z)
        if top < _NDTR_MIDDLE_Z:
            return y
        middle = z >= _NDTR_MIDDLE_Z
        if hasattr(x, "index_add_"):   # (torch: by indices, a third of a boolean mask's cost)
            idx = middle.reshape(-1).nonzero().squeeze(1)
            y = y.reshape(-1).index_add_(
                0, idx, _ndtr_rounding(xp, x.reshape(-1).index_select(0, idx))).reshape(x.shape)
        else:
            y[middle] = y[middle] + _ndtr_rounding(xp, x[middle])
        if top < _NDTR_TAIL_Z:
            return y
    tail = z >= _NDTR_TAIL_Z
    xt = xp.where(tail, x, xp.full_like(x, -2.0 * _NDTR_TAIL_Z))
    return xp.where(tail, _ndtr_tail(b, xt, xt * -_SQRT1_2, partial(exp_c_square, xp)), y)


def _ndtr_numpy_library(b):
    """The NumPy backend's ndtr below the band: SciPy's (the erfc extra names it; the same
    values as its erfc(-x / sqrt 2) / 2, in one pass, and an ``out``), else the extra's erfc
    without its tail."""
    erfc = b.extra("erfc")
    erfc = getattr(erfc, "__wrapped__", erfc)
    lib = getattr(erfc, "ndtr", None)
    if lib is not None:
        return lib
    erfc = getattr(erfc, "below_tail", erfc)

    def ndtr_by_erfc(x, out=None):
        y = erfc(x * -_SQRT1_2) * 0.5
        if out is not None:
            out[...] = y
            return out
        return y
    return ndtr_by_erfc


def _put_flat(y, idx, v):
    """np.put(y, idx, v) for a NumPy array y: by fancy assignment to its flat view where it
    is C-contiguous (2.5 times faster)."""
    if y.flags.c_contiguous:
        y.reshape(-1)[idx] = v
    else:
        _np.put(y, idx, v)


def _ndtr_rounding(xp, x):
    """What erfc(z) / 2 at the rounded z = fl(-x / sqrt(2)) lacks, to first order: z is d = -x
    / sqrt(2) - z off (half an ulp), and erfc(z + d) = erfc(z) - 2 / sqrt(pi) exp(-z^2) d (the
    next term eps^2 z^2 relative). d from x = xh + xl (xh x's float32 rounding, xl exact) and
    1 / sqrt(2) in three parts: xh times the first (24 bits) is exact, and its sum with -z
    (within 2^-24 of it) too; the rest's rounding is 2^-77 |z|. |x| clamped at 40, where the
    term is 0 (its value: 0 for huge |x|, nan for nan)."""
    xc = xp.minimum(xp.maximum(x, -40.0), 40.0)
    xh = xp.astype(xp.astype(xc, xp.float32), xp.float64)
    zc = xc * -_SQRT1_2
    minus_d = ((xh * _SQRT1_2_HI + zc) + xh * _SQRT1_2_MID) + ((xc - xh) * _SQRT1_2
                                                                + xc * _SQRT1_2_LO)
    return xp.exp(-(zc * zc)) * (minus_d * _INV_SQRT_PI)


# (1 / sqrt(2) = _SQRT1_2_HI + _SQRT1_2_MID + _SQRT1_2_LO, the first two exact)
_SQRT1_2_HI = 0.7071067690849304
_SQRT1_2_MID = 1.2101617152815436e-08
_SQRT1_2_LO = -4.833646656726457e-17
_INV_SQRT_PI = 1.0 / math.sqrt(math.pi)


def _ndtr_tail(b, x, z, exp_c_square):
    # erfcx of the rounded z (its relative slope about -1/z: the rounding costs under half an
    # ulp) and exp(-x^2 / 2) of x itself, exactly: within about 4 ulp
    return b.extra("erfcx")(z) * exp_c_square(x, -0.5, 0.5)


_NDTR_TAIL_Z = 3.5   # (x below -4.95; erfc's tail in the NumPy backend from the same z)
# (from here, x below -0.99, erfc of the rounded z is more than 3 ulp off: SciPy's erfc, 1 -
# erf up to 1 and the exponential of a rounded square above, is another 4 to 11)
_NDTR_MIDDLE_Z = ERFCX_MIDDLE[0]


def _largest_x_reaching(bound):
    """The largest float64 x whose z = fl(x * -sqrt(1/2)) is >= bound (z falls as x rises:
    the elements x <= it are those with z >= bound, the NumPy path's masks on x itself)."""
    x = bound / -_SQRT1_2
    while not x * -_SQRT1_2 >= bound:
        x = math.nextafter(x, -math.inf)
    while math.nextafter(x, math.inf) * -_SQRT1_2 >= bound:
        x = math.nextafter(x, math.inf)
    return x


_NDTR_MIDDLE_X = _largest_x_reaching(_NDTR_MIDDLE_Z)   # (-0.98995)
_ABOVE_NDTR_MIDDLE_X = math.nextafter(_NDTR_MIDDLE_X, 0.0)
_NDTR_TAIL_X = _largest_x_reaching(_NDTR_TAIL_Z)   # (-4.9497)


def _top(xp, a):
    """The largest element of the array a (nan where one is nan; -inf if empty), read on
    the host."""
    if hasattr(a, "numel"):   # (torch: its max and item, a third of the namespace's max)
        return a.max().item() if a.numel() else -math.inf
    return float(xp.max(a)) if math.prod(a.shape) else -math.inf


def _reaches(xp, a, bound):
    """Whether some element of the array a (read on the host) is >= bound, or nan."""
    if hasattr(a, "numel"):   # (torch: its max and item, a third of the namespace's any)
        return a.numel() > 0 and not a.max().item() < bound
    return bool(xp.any(~(a < bound)))


def _on_host(x):
    """Whether reading the array x waits for no device: NumPy's, and other libraries' arrays
    on the CPU (torch's cpu device, array-api-strict's default device). array-api-strict's
    other devices (``Device("device1")``) count as a GPU's: the suite's
    ``array_api_strict@device1`` runs take the read-free paths a CUDA tensor or a CuPy array
    takes (no GPU has run the suite)."""
    if isinstance(x, (_np.ndarray, _np.generic)):
        return True
    module = type(x).__module__
    if module.startswith("torch"):
        # (torch's backend's test, which benchmarks/host_reads --as-device replaces to count
        # a CUDA run's reads on the CPU)
        from ..backends import torch_backend
        return torch_backend._on_host(x)
    if module.startswith("array_api_strict"):
        return x.device == (_STRICT_CPU or _strict_cpu())
    kind = getattr(getattr(x, "device", None), "type", None)
    return kind is not None and kind == "cpu"


_STRICT_CPU = None   # (array-api-strict's default device, made on first use)


def _strict_cpu():
    global _STRICT_CPU
    import array_api_strict
    _STRICT_CPU = array_api_strict.Device()
    return _STRICT_CPU


# ndtr, the standard normal CDF 0.5 erfc(-x / sqrt(2)), a primitive of its own for its slope:
# the density from x itself (through erfc's, of the rounded x / sqrt(2), it was eps x^2 / 2
# relative off: 134 ulp at 20.3). Its value likewise: erfc of the rounded z = -x / sqrt(2) is
# eps z^2 relative off (87 ulp at -19.3, 1000 near -25, as SciPy's ndtr); from z = 3.5 as
# erfcx(z) exp(-x^2 / 2) / 2 (see _ndtr_tail).
ndtr_p = unary("ndtr", _ndtr_impl,
               lambda t, x, y: mul(t, exp_sq(x, -0.5, _INV_SQRT_2PI)))


def _lgamma_tangent(t, x, y):
    return mul(t, digamma(x))


def _digamma_tangent(t, x, y):
    return mul(t, polygamma(x, n=1))


def _digamma_impl(b, x):
    if type(x) is _np.ndarray and x.dtype == _np.float64 and x.ndim:
        # (NumPy: the elements that digamma_near_roots computes not computed by SciPy first:
        # on (-50, 0) it had SciPy's psi, its reflection near the poles and the roots' form,
        # 3.6 times SciPy's time)
        xa = x.reshape(-1)
        if len(xa) >= 512 and _np.fmin.reduce(xa, initial=0.0) < 0.0:   # (fewer: the calls
            sel = (xa > _DIGAMMA_ROOTS_LOWEST) & (xa < _DIGAMMA_ROOTS_TOP) & (xa != _np.floor(xa))
            idx = _np.flatnonzero(sel)
            if len(idx) * 8 > len(xa):   # cost more; a few negative: the plain way costs less)
                y = _np.empty(len(xa))
                rest = _np.flatnonzero(~sel)
                if len(rest):
                    xr = xa.take(rest)
                    y[rest] = _digamma_far_left_numpy(b, xr, b.extra("digamma")(xr))
                xs = xa.take(idx)
                deep = xs <= -10.0
                if deep.all():
                    y[idx] = digamma_near_roots(_np, xs, DIGAMMA_ROOTS_HI, DIGAMMA_ROOTS_LO, 0,
                                                _DIGAMMA_SINES)
                else:
                    v = _np.empty(len(xs))
                    for part, shift in ((deep, 0), (~deep, 10)):
                        v[part] = digamma_near_roots(_np, xs[part], DIGAMMA_ROOTS_HI,
                                                     DIGAMMA_ROOTS_LO, shift, _DIGAMMA_SINES)
                    y[idx] = v
                return y.reshape(x.shape)
    if not isinstance(x, (_np.ndarray, _np.generic)) and b.dtype(x).name == "float64" \
            and not _on_host(x):
        # A device, read-free: below -100 the reflection with the exact distance to the
        # nearest integer (within 5 ulp away from the roots), its digamma(1 - x) in the one
        # call of the backend's digamma; not the double-double form near the roots, which
        # would run on every element of every call (~600 operations: digamma of 1000
        # generic points on array-api-strict's device1 3.9 -> 15.7 ms). Near a root there
        # the value keeps the reflection's absolute error, ~eps log|x| (SciPy's and
        # torch's too).
        xp = b.xp
        far = (x < _DIGAMMA_FAR_LEFT) & (x != xp.floor(x))
        y = b.extra("digamma")(xp.where(far, 1.0 - x, x))
        value, _ = reflection_far_left(xp, xp.where(far, x, xp.full_like(x, -100.5)), y)
        return _digamma_at_roots(b, x, xp.where(far, value, y))
    return _digamma_at_roots(b, x, b.extra("digamma")(x))


def _digamma_at_roots(b, x, y):
    """y = the backend's digamma(x), with the float64 elements in (-100, 0) (integers, the
    poles, excepted) by digamma_roots.digamma_near_roots: the reflection the libraries use
    there is up to 1e17 ulp off near psi's negative roots (SciPy's psi(-22.75) 1545 ulp,
    psi at the float64 nearest the root in (-6, -5) 1.8e17); now within 5 ulp. NumPy: those
    elements by their indices (negative arguments: none else pays more than a minimum);
    torch on the CPU: by a mask; a device: read-free, throughout."""
    if isinstance(x, (_np.ndarray, _np.generic)):
        if x.dtype != _np.float64:
            return y
        if not x.ndim:   # (a scalar: one comparison)
            if not x < 0.0:
                return y
            return _digamma_at_roots(b, _np.reshape(x, 1), _np.reshape(y, 1))[0]
        low = _np.fmin.reduce(x, axis=None, initial=0.0)
        if not low < 0.0:
            return y   # (fmin: a nan element does not hide a negative one)
        xa = _np.asarray(x)
        idx = _np.flatnonzero((xa > _DIGAMMA_ROOTS_LOWEST) & (xa < _DIGAMMA_ROOTS_TOP)
                              & (xa != _np.floor(xa)))
        if len(idx):
            y = _np.array(y, dtype=_np.float64, copy=True)
            _put_flat(y, idx, digamma_near_roots(_np, xa.take(idx), DIGAMMA_ROOTS_HI,
                                                 DIGAMMA_ROOTS_LO))
        if low < _DIGAMMA_FAR_LEFT:
            y = _digamma_far_left_numpy(b, xa, y)
        return y
    if b.dtype(x).name != "float64":   # (float32: computed in float64 by the backends, and
        return y                       # their errors there far below its ulp)
    # (the other backends: also psi's positive root on [1, 2], where torch's, the generic
    # one and Cephes's are up to 3e16 ulp off: psi(1.4616321449683622) 1e-16 for 1.3e-17)
    xp = b.xp
    sel = (x > _DIGAMMA_ROOTS_LOWEST) & (x < _DIGAMMA_ROOTS_TOP) & (x != xp.floor(x))
    pos = (x >= 1.0) & (x <= 2.0)
    if _on_host(x):
        far = (x < _DIGAMMA_FAR_LEFT) & (x != xp.floor(x))
        y = xp.asarray(y, copy=True)
        if bool(xp.any(sel)):
            y[sel] = _digamma_roots(xp, x[sel])
        if bool(xp.any(pos)):
            y[pos] = digamma_near_positive_root(xp, x[pos])
        if bool(xp.any(far)):
            xs = x[far]
            value, near = reflection_far_left(xp, xs, b.extra("digamma")(1.0 - xs))
            if bool(xp.any(near)):
                value[near] = digamma_far_left_near(xp, xs[near])
            y[far] = value
        return y
    y = xp.where(sel, _digamma_roots(xp, xp.where(sel, x, xp.full_like(x, -0.5))), y)
    y = xp.where(pos, digamma_near_positive_root(xp, xp.where(pos, x, xp.ones_like(x))), y)
    return y   # (a device's: below -100 done by _digamma_impl, with the backend's call)


def _digamma_far_left_numpy(b, x, y):
    """y (the backend's digamma at x, a NumPy float64 array of x's shape) with the
    elements below -100 (integers, the poles, excepted) by digamma_roots' reflection with
    the exact distance to the nearest integer, and near the roots (where it cancels) its
    double-double form: SciPy's psi at the float64 nearest the root in (-151, -150) 6e13 ulp
    off, now within 2 ulp of mpmath below -100 (a copy where any)."""
    xa = x.reshape(-1)
    idx = _np.flatnonzero((xa < _DIGAMMA_FAR_LEFT) & (xa != _np.floor(xa)))
    if not len(idx):
        return y
    xs = xa.take(idx)
    value, near = reflection_far_left(_np, xs, b.extra("digamma")(1.0 - xs))
    at = _np.flatnonzero(near)
    if len(at):
        value[at] = digamma_far_left_near(_np, xs.take(at))
    y = _np.array(y, dtype=_np.float64, copy=True)
    _put_flat(y, idx, value)
    return y


_DIGAMMA_ROOTS_ON_DEVICE = {}
_DIGAMMA_ROOTS_TOP = -1e-300   # (above, a subnormal sin(pi x); psi(x) = -1/x there anyway)


def _digamma_roots(xp, x):
    """digamma_near_roots of an array x of namespace xp (any shape), the root tables kept
    per device."""
    key = (type(x), x.device)
    tables = _DIGAMMA_ROOTS_ON_DEVICE.get(key)
    if tables is None:
        tables = _DIGAMMA_ROOTS_ON_DEVICE[key] = (
            xp.asarray(DIGAMMA_ROOTS_HI, device=x.device),
            xp.asarray(DIGAMMA_ROOTS_LO, device=x.device))
    return xp.reshape(digamma_near_roots(xp, xp.reshape(x, (-1,)), *tables), x.shape)


lgamma_p = unary("lgamma", _via_extra("lgamma"), _lgamma_tangent)
digamma_p = unary("digamma", _digamma_impl, _digamma_tangent)


def _polygamma_impl(b, x, *, n):
    """psi^(n)(x); for n >= 1 below -100 (integers, the poles, excepted) by the reflection
    psi^(n)(x) = (-1)^n psi^(n)(1 - x) - pi^(n+1) P_n(cot(pi x)) with the exact d = x -
    round(x) (generic.polygamma_cot_term), the backend's polygamma at 1 - x > 101: SciPy's
    (and CuPy's, its port) and torch's for n >= 2 shift x up one step at a time, time in
    proportion to |x| (SciPy's trigamma 1.8 s at -1e8, 34 s at -1e9, no end at -1e12; torch's
    psi'' 23 s at -1e9). The generic polygamma reflects below -10 itself (array-api-strict's:
    left to it; torch's trigamma, given 1 - x, does not again). NumPy: those elements by their
    indices (none: one fmin); other libraries: on the CPU where any, on a device read-free."""
    if n == 0:
        return _digamma_impl(b, x)
    fn = b.extra("polygamma")
    if isinstance(x, (_np.ndarray, _np.generic)):
        if x.dtype.kind != "f" or not (float(x) if not x.ndim else _np.fmin.reduce(
                x, axis=None, initial=0.0)) < _DIGAMMA_FAR_LEFT:
            return fn(n, x)   # (fmin: a nan element does not hide a far one)
        xa = _np.reshape(x, -1)
        far = (xa < _DIGAMMA_FAR_LEFT) & (xa != _np.floor(xa))
        idx = _np.flatnonzero(far)
        if not len(idx):
            return fn(n, x)
        y = _np.array(fn(n, _np.where(far, 1.0, xa)), copy=True)   # (1: a placeholder)
        xs = xa.take(idx).astype(_np.float64)   # (float32: in float64, as SciPy's)
        _put_flat(y, idx, _polygamma_reflected(_np, n, xs, fn(n, 1.0 - xs)))
        return y.reshape(x.shape)
    if b.dtype(x).kind != "f" or not _library_polygamma(b):
        return fn(n, x)
    xp = b.xp
    far = (x < _DIGAMMA_FAR_LEFT) & (x != xp.floor(x))
    if _on_host(x) and not bool(xp.any(far)):
        return fn(n, x)
    y = fn(n, xp.where(far, 1.0 - x, x))
    return xp.where(far, _polygamma_reflected(xp, n, xp.where(far, x, xp.full_like(x, -100.5)),
                                              y), y)


_LIBRARY_POLYGAMMA = {}   # backend name -> whether its polygamma is its library's


def _library_polygamma(b):
    """Whether backend b's polygamma is its library's own (torch's, CuPy's: |x| steps far
    left), not the generic one, which reflects below -10 itself (a device's +10 % spared)."""
    own = _LIBRARY_POLYGAMMA.get(b.name)
    if own is None:
        own = _LIBRARY_POLYGAMMA[b.name] = (b.extras.get("polygamma") is not None
                                            or b.load_extra("polygamma") is not None)
    return own


def _polygamma_reflected(xp, n, x, right):
    """psi^(n)(x) by the reflection, ``right`` = psi^(n)(1 - x) (x: below -100, no integer)."""
    right = right if n % 2 == 0 else -right
    return right - _polygamma_cot_term(xp, n, x)


def _polygamma_jvp(primals, tangents, *, n):
    x, = primals
    return polygamma(x, n=n), mul(tangents[0], polygamma(x, n=n + 1))


def _polygamma_aval(x, *, n):
    return _array_aval(x)


# polygamma(x, n=n): the n-th derivative of digamma (n >= 0, a static Python int).
polygamma_p = elementwise("polygamma", _polygamma_impl, _polygamma_jvp,
                          abstract_eval=_polygamma_aval)
polygamma_p.same_aval = True  # the operand's aval, whatever n


# -- x log(y) and -x log(x) (xlogy, entr), with slopes that do not overflow at subnormals ------


def _x_log_y_impl(b, x, y):
    # (mul_sz's: 0 where x == 0 whatever log(y) is)
    return b.xp.where(x == 0, 0.0, b.xp.log(y)) * x


def _x_log_y_jvp(primals, tangents):
    x, y = primals
    tx, ty = tangents
    t = None
    if tx is not None:
        t = mul_sz(log(y), tx)
    if ty is not None:
        # (x / y) t, not the product rule's x (t / y): t / y is inf at a subnormal y where
        # x / y is finite (the JVP of xlogy(x, x) at 5e-324 was +inf, not log(x) + 1); a zero
        # x or a zero tangent gives 0 whatever the other factor holds, as mul_sz's rule
        ty = _tangent_times_sz(ty, div(x, y))
        t = ty if t is None else add(t, ty)
    return x_log_y_p.bind(x, y), t


# x_log_y(x, y) = x log(y), 0 where x == 0 (a strong zero, mul_sz's): the core of xlogy, which
# adds its values and slopes at y = 0 and nan (functrans.scipy.special._x_log_traced)
x_log_y_p = elementwise("x_log_y", _x_log_y_impl, _x_log_y_jvp)


def _entr_positive_impl(b, x):
    return -(x * b.xp.log(x))


# entr_positive(x) = -x log(x) for x > 0 (entr adds 0 and below), slope -(log(x) + 1): the
# product rule's x (t / x) was inf at subnormal x (the JVP at 5e-324 -inf, grad 743.44)
entr_positive_p = unary("entr_positive", _entr_positive_impl,
                        lambda t, x, y: mul(t, neg(add(log(x), 1.0))))


# -- log(Gamma(y + 1/2) / Gamma(y)) - log(y) / 2 and its derivatives (Student's t) ------------
# (session 52) lgamma_half_excess(y, n=n): the n-th derivative of
# E(y) = log(Gamma(y + 1/2) / Gamma(y)) - log(y) / 2 (t's log density's front, y = df / 2).
# Its slope psi(y + 1/2) - psi(y) - 1/(2y) ~ 1/(8 y^2) lost ~8 y^2 psi(y) eps as that
# difference (1e4 eps of t.logpdf's df slope at df = 49.9). Here:
# - y >= 10: the asymptotic series E ~ sum_k c_k y^-(2k+1), c_k = B_(2k+2) (2^-(2k+1) - 2) /
#   ((2k+1)(2k+2)), through y^-19 (within 2e-18 of E, 4e-17 of E', 4e-16 of E'' from y = 10,
#   mpmath), differentiated term by term;
# - 1 <= y < 10: that series at y + 9 and the nine steps down, E(u) - E(u + 1) =
#   log1p(-1/(2u + 1)^2) / 2 (u = y + j), whose derivatives have closed forms without
#   cancellation (_half_excess_steps);
# - below 1 (and nan, y <= 0): the difference of lgamma / polygamma (< ~5 eps there; 25 eps
#   at y = 2).
# One primitive for the whole front: the forms took ~55 operations (each a graph equation
# under jit) where a derivative flowed.

_HALF_EXCESS = (-0.125, 0.005208333333333333, -0.0015625, 0.0011858258928571428,
                -0.001681857638888889, 0.0038341175426136365, -0.012819730318509616,
                0.059100405375162764, -0.359287374159869, 2.784861777958117)
_HALF_EXCESS_SERIES_FROM = 10.0
_HALF_EXCESS_SHIFT = 9
_HALF_EXCESS_SHIFT_FROM = 1.0
_HALF_EXCESS_STEP_TERMS = 24   # (w <= 1/9: 9^-24 ~ 1e-23, 1e-18 of the first term at n = 3)


def _rising(a, n):
    return math.prod(range(a, a + n))


def _half_excess_series(xp, z, n):
    """d^n/dz^n sum_k c_k z^-(2k+1) (z >= 10)."""
    inv = 1.0 / z
    r = inv * inv
    coeffs = [c * (-1.0) ** n * _rising(2 * k + 1, n) for k, c in enumerate(_HALF_EXCESS)]
    out = xp.zeros_like(z) + coeffs[-1]
    for c in reversed(coeffs[:-1]):
        out = out * r + c
    return out * inv ** (n + 1)


def _half_excess_steps(xp, y, n):
    """d^n/dy^n of sum_j log1p(-u^-2) / 2, u = 2 (y + j) + 1, j < 9: in value log1p(-D),
    D = 1 - prod_j (1 - u^-2) accumulated as D + w (1 - D) (positive terms; the product's
    own logarithm was ~30 eps of E); the derivatives, 2^n L^(n)(u) / 2 with
    L' = 2 / g, L'' = -2 g' / g^2, L''' = 2 (12 u^4 - 6 u^2 + 2) / g^3 (g = u^3 - u: no
    cancellation), beyond by the series of one sign -sum_m w^m / m, w = u^-2 <= 1/9."""
    total = None
    for j in range(_HALF_EXCESS_SHIFT):
        u = 2.0 * y + (2 * j + 1)
        if n == 0:
            inv = 1.0 / u
            term = inv * inv
        elif n <= 3:
            g = u * (u * u - 1.0)
            if n == 1:
                term = 2.0 / g
            elif n == 2:
                term = (-2.0 * (3.0 * u * u - 1.0)) / (g * g)
            else:
                u2 = u * u
                term = 2.0 * ((12.0 * u2 - 6.0) * u2 + 2.0) / (g * g * g)
        else:
            # d^n/du^n log1p(-u^-2) = -(-1)^n u^-n sum_m rising(2m, n) / m u^-2m
            coeffs = [_rising(2 * m, n) / m for m in range(1, _HALF_EXCESS_STEP_TERMS + 1)]
            inv = 1.0 / u
            w = inv * inv
            acc = xp.zeros_like(y) + coeffs[-1]
            for c in reversed(coeffs[:-1]):
                acc = acc * w + c
            term = -(-1.0) ** n * acc * w * inv ** n
        if total is None:
            total = term
        else:
            total = total + term * (1.0 - total) if n == 0 else total + term
    if n == 0:
        return 0.5 * xp.log1p(-total)
    return (0.5 * 2.0 ** n) * total


def _lgamma_half_excess_impl(bk, y, *, n):
    xp = bk.xp
    dtype = y.dtype
    y = xp.astype(y, xp.float64)
    series = y >= _HALF_EXCESS_SERIES_FROM
    steps = (y >= _HALF_EXCESS_SHIFT_FROM) & ~series
    direct = ~(series | steps)   # (and nan)
    forms = ((series, _half_excess_series_form), (steps, _half_excess_steps_form),
             (direct, _half_excess_direct_form))
    if type(y) is _np.ndarray and y.ndim:   # (NumPy: each form on its own elements)
        out = _np.empty_like(y)
        with _np.errstate(all="ignore"):   # (nan for y <= 0, as lgamma's difference)
            for where, form in forms:
                if where.any():
                    out[where] = form(bk, y[where], n)
        return out.astype(dtype, copy=False)
    from ..backends.incomplete_grads import _none_needs
    out = xp.zeros_like(y)
    for (where, form), stand_in in zip(forms, (10.0, 2.0, 0.5)):
        if not _none_needs(bk, y, where):
            out = xp.where(where, form(bk, xp.where(where, y, xp.full_like(y, stand_in)), n),
                           out)
    return xp.astype(out, dtype)


def _half_excess_series_form(bk, y, n):
    return _half_excess_series(bk.xp, y, n)


def _half_excess_steps_form(bk, y, n):
    return (_half_excess_series(bk.xp, y + float(_HALF_EXCESS_SHIFT), n)
            + _half_excess_steps(bk.xp, y, n))


def _half_excess_direct_form(bk, y, n):
    if n == 0:
        lg = bk.extra("lgamma")
        return lg(y + 0.5) - lg(y) - 0.5 * bk.xp.log(y)
    return (_polygamma_impl(bk, y + 0.5, n=n - 1) - _polygamma_impl(bk, y, n=n - 1)
            - (0.5 * (-1.0) ** (n - 1) * math.factorial(n - 1)) / y ** n)


def _lgamma_half_excess_jvp(primals, tangents, *, n):
    y, = primals
    return (lgamma_half_excess(y, n=n),
            mul(tangents[0], lgamma_half_excess(y, n=n + 1)))


# lgamma_half_excess(y, n=n): the n-th derivative of log(Gamma(y + 1/2) / Gamma(y)) -
# log(y) / 2 (n >= 0, any order; see above).
lgamma_half_excess_p = elementwise("lgamma_half_excess", _lgamma_half_excess_impl,
                                   _lgamma_half_excess_jvp,
                                   abstract_eval=lambda y, **_: _array_aval(y))
lgamma_half_excess_p.same_aval = True


def lgamma_half_excess(y, *, n=0):
    return lgamma_half_excess_p.bind(y, n=n)


# -- t_log_kernel(d, zz) = (d + 1) / 2 log1p(zz / d): Student t's log density's kernel ------
# (session 52) with its slopes in closed form at evaluation, v = zz / d:
# - in zz: (d + 1) / (2 d (1 + v));
# - in d: K_d = log1p(v) / 2 - (d + 1) v / (2 d (1 + v)), each term ~v / 2 at a large d,
#   their difference ~v^2 / 4 - v / (2 d) (the plain form lost ~2 df eps: 97 eps of
#   t.logpdf's df slope at (1.5, 49.9, 0.3, 0.7); 0 for (2, 1e20), true -5.5e-40). Where
#   v <= 0.6 by the series below (no cancellation but K_d's own zero near z^2 = 2), at any d;
#   within 1.5 eps of the terms' size from d = 0.5 to 1e8 (mpmath);
# - second partials (the slopes' rules, in operations: higher orders through them), with
#   q = d (1 + v) = d + zz: K_dd = v (2 + v - zz) / (2 q^2), K_dz = (zz - 1) / (2 q^2),
#   K_zz = -(d + 1) / (2 q^2).
# One primitive: session 52's first near form, z^2 / 2 + (d / 2) log1pmx(v) + log1p(v) / 2
# in functrans.numpy's operations (log1pmx a primitive) beside the plain form (both computed
# where both hold), cost eager grad in df of t.logpdf at one df over 1e4 points +50 %.

# (session 53: from 1/4, where the plain form's terms cancel up to ~30x: K_d 8.7 eps off at
# (d, v) = (200, 0.3), 13 at (3, 0.6), t.logpdf's df slope 9.2 eps at (2.2, 20, 0.3, 0.7);
# beyond 0.6 they cancel less than ~7x, within ~3.5 eps. A separate longer series to v = 2
# on its own elements had cost eager grad in df of t.logpdf +20 %, the series for every
# element to 2 (25 terms) +5-20 %, to 1 (17 terms) +5-8 %; to 0.6 (12 terms) ~+3 %.)
_T_KERNEL_NEAR = 0.6


def _t_log_kernel_impl(bk, d, zz, *, part):
    xp = bk.xp
    with _np.errstate(all="ignore"):
        v = zz / d
        if part == "value":   # (the bits of (d + 1) / 2 times log1p(v))
            return ((d + 1.0) * 0.5) * xp.log1p(v)
        if part == "zz":
            return ((d + 1.0) * 0.5) / (d * (1.0 + v))
        if type(v) is _np.ndarray and v.ndim:
            return _t_kernel_d_numpy(d, zz, v)
        # (the operations of _t_kernel_d_numpy, in its order: the same bits)
        far = v > _T_KERNEL_NEAR
        vn = xp.where(far, xp.zeros_like(v), v)
        p = vn + 1.0
        inv = 1.0 / (p * (vn + 2.0))
        u = vn * p * inv
        w = u * u
        lead = (((zz - 2.0) - vn) * vn * inv / d) * 0.5
        tail = w * _T_KERNEL_T[-1] + _T_KERNEL_T[-2]
        for c in _T_KERNEL_T[-3::-1]:
            tail = tail * w + c
        return xp.where(far, _t_kernel_d_plain(xp, d, v), lead + tail * w * u)


# (K_d where v <= 0.6, v >= 0: with u = v / (2 + v), log1p(v) = 2 atanh(u) and v / (1 + v) =
# 2u / (1 + u), so K_d = u (u - 1/d) / (1 + u) + u^3 T, T = sum_k u^2k / (2k + 3) (positive
# terms; the first omitted, k = 12, is 5e-18 of u^2, K_d's terms' size, at u = 3/13), and
# u (u - 1/d) / (1 + u) = v (z^2 - 2 - v) / (2 d (1 + v) (2 + v)): K_d's zero near z^2 = 2
# from z^2 - 2 (exact there), not from two rounded values u and 1/d (10 eps of t.logpdf's df
# slope at (1.5, 30, 0.3, 0.7)); u = v (1 + v) / ((1 + v) (2 + v)), one division for both.)
_T_KERNEL_T = tuple(1.0 / (2 * k + 3) for k in range(12))


def _t_kernel_d_plain(xp, d, v):
    """K_d = (log1p(v) - (1 + 1/d) v / (1 + v)) / 2 (for v > 0.6: cancelling less than a
    factor ~7)."""
    return 0.5 * (xp.log1p(v) - ((d + 1.0) / d) * (v / (1.0 + v)))


def _t_kernel_d_numpy(d, zz, v):
    """K_d on NumPy: the near form in place (eager grad in df of t.logpdf at one df over
    1e4 points: in array-API operations it cost +35 %), the plain one on its own elements
    only (nan: the near form's)."""
    vn = v   # (the far elements' values replaced below)
    p = vn + 1.0
    inv = vn + 2.0
    inv *= p
    _np.divide(1.0, inv, out=inv)
    u = vn * p
    u *= inv
    w = u * u
    lead = zz - 2.0
    lead -= vn
    lead *= vn
    lead *= inv
    lead /= d
    lead *= 0.5
    tail = w * _T_KERNEL_T[-1]
    tail += _T_KERNEL_T[-2]
    for c in _T_KERNEL_T[-3::-1]:
        tail *= w
        tail += c
    tail *= w
    tail *= u
    lead += tail
    far = _np.flatnonzero(v > _T_KERNEL_NEAR)   # (flat indices: take and put)
    if far.size:
        _np.put(lead, far, _t_kernel_d_plain(_np, _np.take(d, far), _np.take(v, far)))
    return lead


def _t_log_kernel_jvp(primals, tangents, *, part):
    d, zz = primals
    out = t_log_kernel_p.bind(d, zz, part=part)
    if part == "value":
        slopes = [t_log_kernel_p.bind(d, zz, part=p) if t is not None else None
                  for p, t in zip(("d", "zz"), tangents)]
    else:   # (each over q, then 2q: q^2 overflowed from d ~ 1e154)
        v = div(zz, d)
        q = mul(d, add(v, 1.0))
        two_q = mul(q, 2.0)
        cross = div(div(sub(zz, 1.0), q), two_q)
        if part == "d":
            slopes = [div(div(mul(v, sub(add(v, 2.0), zz)), q), two_q), cross]
        else:
            slopes = [cross, neg(div(div(add(d, 1.0), q), two_q))]
    tan = None
    for t, s in zip(tangents, slopes):
        if t is not None:
            term = mul(t, s)
            tan = term if tan is None else add(tan, term)
    return out, tan


# t_log_kernel(d, zz, part=...): "value" (d + 1) / 2 log1p(zz / d) (d > 0, zz >= 0, each
# finite), "d" and "zz" its slopes in d and zz (see above).
t_log_kernel_p = elementwise("t_log_kernel", _t_log_kernel_impl, _t_log_kernel_jvp,
                             abstract_eval=lambda d, zz, **_: _array_aval(d, zz))
t_log_kernel_p.same_aval = True


def t_log_kernel(d, zz, *, part="value"):
    return t_log_kernel_p.bind(d, zz, part=part)


def _polygamma_order_jvp(primals, tangents):
    raise ValueError("lax.polygamma: the derivative with respect to the order m is not "
                     "defined (as in JAX); stop_gradient m or differentiate with respect to "
                     "x only")


# polygamma_order(m): m unchanged, refusing a derivative with respect to it. lax.polygamma
# with a traced order m computes psi^(m) from zeta and gamma, which are differentiable in m
# or raise about zeta; this marks m so that a derivative in it says what is wrong.
polygamma_order_p = elementwise("polygamma_order", lambda b, m: m, _polygamma_order_jvp)


# -- regularized incomplete gamma and beta functions --------------------------------------------


def _refuse(name, pairs, what, kind="parameter", only="the last argument"):
    """Refuse a tangent in a parameter whose derivative is not implemented: ``pairs`` of
    (tangent, parameter name)."""
    for t, n in pairs:
        if t is not None:
            raise NotImplementedError(
                f"{name}: the derivative with respect to the {kind} {n} is not "
                f"implemented (only the derivative with respect to {what}); stop_gradient {n} "
                f"or differentiate with respect to {only} only")


def _no_shape_tangent(name, tangents, params):
    _refuse(name, zip(tangents, params), "x is", "shape parameter", "x")


def _gamma_log_density(a, x):
    """log(exp(-x) x^(a-1) / Gamma(a)) for x > 0. Directly, except for a > 10 and
    |x/a - 1| < 1/2, where (a-1) log x - x - lgamma(a) would lose about eps a log x
    (2e-5 relative in the density at a = 1e10): there
    -a (mu - log1p(mu)) + log(a / 2 pi) / 2 - log Gamma*(a) - log x, mu = (x - a) / a,
    Gamma*(a) = Gamma(a) / (sqrt(2 pi / a) (a/e)^a) by Stirling's series (error below
    sqrt(a) eps)."""
    direct = sub(sub(mul(sub(a, 1.0), log(x)), x), lgamma(a))
    big = gt(a, 10.0)
    ab = select(big, a, 20.0)
    mu = div(sub(x, ab), ab)
    near = select(big, lt(abs_(mu), 0.5), big)
    mu = select(near, mu, 0.0)
    inv = div(1.0, ab)
    z = mul(inv, inv)
    series = 1.0 / 1188.0
    for c in (1.0 / 1680.0, 1.0 / 1260.0, 1.0 / 360.0, 1.0 / 12.0):
        series = sub(c, mul(z, series))
    log_gstar = mul(inv, series)
    stirling = add(neg(mul(ab, sub(mu, log1p(mu)))),
                   sub(mul(0.5, log(div(ab, 2.0 * math.pi))), add(log_gstar, log(x))))
    return select(near, stirling, direct)


def _gamma_slope(a, x):
    """exp(-x) x^(a-1) / Gamma(a), computed in logarithms (the density of the gamma
    distribution with shape a); at x = 0: inf for a < 1, 1 for a = 1, 0 for a > 1."""
    pos = gt(x, 0.0)
    xs = select(pos, x, 1.0)
    inner = exp(_gamma_log_density(a, xs))
    zero_x = select(lt(a, 1.0), math.inf, select(eq(a, 1.0), 1.0, mul(inner, 0.0)))
    return select(pos, inner, zero_x)


def _log_beta(a, b):
    """log B(a, b) for positive a, b: lgamma(a) + lgamma(b) - lgamma(a + b), or where a shape
    may be 10 or more scipy.special's betaln (Stirling's series for the large gamma
    functions; a few times the operations). Whether one may be is known for concrete values
    (eager transforms, vmap); staged code takes betaln."""
    from ..scipy.special import _betaln, _concrete_behind, _may_hold
    # (read from the arrays behind the tracers, under vmap too, where any() of the batched
    # mask could not be read and betaln was taken; no primitive bound)
    va, vb = _concrete_behind(a), _concrete_behind(b)
    small = (va is not None and vb is not None
             and not (_may_hold(va >= 10.0) or _may_hold(vb >= 10.0)))
    if small:
        return sub(add(lgamma(a), lgamma(b)), lgamma(add(a, b)))
    return _betaln(a, b)


def _beta_slope(a, b, x):
    """x^(a-1) (1-x)^(b-1) / B(a, b) in logarithms, for 0 < x < 1 (0 outside [0, 1]).
    log B(a, b) by scipy.special's betaln, whose large gamma functions cancel exactly (the
    lgamma difference lost eps lgamma(b): 3e-12 relative at b = 2400, where the slope and a
    shape derivative cancel to 1e-4 of their size in f.cdf's derivative in dfn); at large
    shapes the logarithm's value from beta_log_density_fix (below)."""
    pos = gt(x, 0.0)
    below1 = lt(x, 1.0)
    xs = select(pos, select(below1, x, 0.5), 0.5)
    log_b = _log_beta(a, b)
    plain = sub(add(mul(sub(a, 1.0), log(xs)), mul(sub(b, 1.0), log1p(neg(xs)))), log_b)
    inner = exp(beta_log_density_fix(a, b, xs, plain))
    zero = mul(inner, 0.0)
    at0 = select(lt(a, 1.0), math.inf, select(eq(a, 1.0), exp(neg(log_b)), zero))
    at1 = select(lt(b, 1.0), math.inf, select(eq(b, 1.0), exp(neg(log_b)), zero))
    return select(pos, select(below1, inner, select(eq(x, 1.0), at1, zero)),
                  select(eq(x, 0.0), at0, zero))


# -- the beta density's logarithm at large shapes ------------------------------------------------
# (session 53) The plain (a-1) log x + (b-1) log1p(-x) - betaln(a, b) loses eps times its
# terms, a log1p(b/a) + b log1p(a/b) (stats' _PLAIN_MAX_TERMS: within 2.8 eps of it): betainc's
# x slope, and so beta.logcdf's (the density over I), was 2.8e-12 off at (0.49, 1e4, 1e4),
# 5e-11 at (0.499, 1e6, 1e6). Where those terms reach stats' _PLAIN_MAX_TERMS the value is
# the deviance form's (backends.generic._log_beta_front, terms of the result's size), its
# p s = x (a + b) - a exact (Dekker's product: x q - y p rounded lost eps a of it, 2e-13 at
# 1e6), computed at evaluation on those elements only; the derivatives are the plain form's
# (its tangent passed through). Session 52's deviance form in functrans.numpy's operations
# on every element had cost ordinary beta/t cdf grads 12-25 %; here they pay one comparison.


def _beta_log_density_fix_impl(bk, a, b, x, plain):
    xp = bk.xp
    from ..scipy.stats import _PLAIN_MAX_TERMS
    with _np.errstate(invalid="ignore", over="ignore"):
        # (the terms are at most (a + b) log 2: one comparison for ordinary shapes)
        big = (a + b) >= _PLAIN_MAX_TERMS / math.log(2.0)
        if _none_in(bk, big):
            return plain
        from ..backends import generic as _generic
        from ..backends.special_generic import _two_prod, _two_sum
        f64 = xp.float64
        a, b, x = (xp.astype(v, f64) for v in (a, b, x))
        ab = a + b
        big = big & (ab < 1e290) & (a > 0.0) & (b > 0.0) & (x > 0.0) & (x < 1.0)
        one = xp.ones_like(a)
        a_s, b_s = xp.where(big, a, one), xp.where(big, b, one)
        size = a_s * xp.log1p(b_s / a_s) + b_s * xp.log1p(a_s / b_s)
        big = big & (size >= _PLAIN_MAX_TERMS)
        if _none_in(bk, big):
            return plain
        a_s, b_s = xp.where(big, a, one), xp.where(big, b, one)
        x_s = xp.where(big, x, 0.5 * one)
        # p s = x (a + b) - a, (a + b) = hi + lo and x hi = p + e exactly (p - a exact:
        # p within a factor 2 of a where |s| < 1/2, the deviance form's near branch)
        hi, lo = _two_sum(a_s, b_s)
        prod, err = _two_prod(x_s, hi)
        s_num = ((prod - a_s) + err) + x_s * lo
        log_x, log_y = xp.log(x_s), xp.log1p(-x_s)
        const = _generic._beta_front_const(bk, a_s, b_s)
        front = _generic._log_beta_front(xp, a_s, b_s, x_s, 1.0 - x_s, log_x, log_y, const,
                                         s_num)
        dens = front + xp.log(a_s) - (log_x + log_y)
    return xp.where(big, xp.astype(dens, plain.dtype), plain)


def _beta_log_density_fix_jvp(primals, tangents):
    return beta_log_density_fix(*primals), tangents[3]


# beta_log_density_fix(a, b, x, plain): ``plain`` = (a-1) log x + (b-1) log1p(-x) -
# betaln(a, b), its value replaced by the deviance form's where its terms reach stats'
# _PLAIN_MAX_TERMS (see above); the derivatives: plain's tangent.
beta_log_density_fix_p = elementwise("beta_log_density_fix", _beta_log_density_fix_impl,
                                     _beta_log_density_fix_jvp)


def beta_log_density_fix(a, b, x, plain):
    return beta_log_density_fix_p.bind(a, b, x, plain)


def _last_operand_primitive(name, shape_names, slope, negate=False, shape_tangent=None,
                            refine=None):
    """``name(*shape_parameters, z)`` through the backend extra of that name: differentiable
    in ``z`` (tangent ``slope(*operands, result) * t``, negated with ``negate``); a tangent
    reaching a shape parameter goes to ``shape_tangent(operands, result, shape_tangents)``
    (None entries for the shapes without one), or raises NotImplementedError where that is
    None (never a silent zero). ``refine(operands, result, tangents, tangent)``, where
    given, returns the tangent to use (another form's where it is more accurate)."""
    def impl(backend, *operands):
        return backend.extra(name)(*operands)

    def jvp(primals, tangents):
        if shape_tangent is None:
            _no_shape_tangent(name, tangents[:-1], shape_names)
        out = prim.bind(*primals)
        t = tangents[-1]
        d = None
        if t is not None:
            d = mul(t, slope(*primals, out))
            d = neg(d) if negate else d
        if shape_tangent is not None and any(s is not None for s in tangents[:-1]):
            ds = shape_tangent(primals, out, tangents[:-1])
            d = ds if d is None else add(d, ds)
        if refine is not None and d is not None:
            d = refine(primals, out, tangents, d)
        return out, d
    prim = elementwise(name, impl, jvp)
    return prim


# -- derivatives of gammainc in its shape parameter -------------------------------------------
# gammainc_da(a, x, n=n) = d^n P(a, x) / da^n (n = 1, 2) by the backend extra "gammainc_da"
# (functrans.backends.incomplete_grads); n = 3 by _gammainc_da3. Its
# derivative in x is closed-form (the n-th derivative in a of the density
# exp(-x) x^(a-1) / Gamma(a)); in a, each order gives the next, the third's own derivative
# (the fourth) raises NotImplementedError.


def _gamma_slope_da(a, x, n):
    """d^n/da^n of exp(-x) x^(a-1) / Gamma(a) (n = 1, 2, 3): the density times
    w = log x - digamma(a), resp. w^2 - trigamma(a), w^3 - 3 w trigamma(a) - tetragamma(a);
    at x = 0 its limit (0 for a > 1; -inf (n odd), inf (n = 2) for a <= 1)."""
    pos = gt(x, 0.0)
    xs = select(pos, x, 1.0)
    w = sub(log(xs), digamma(a))
    if n == 1:
        factor = w
    elif n == 2:
        factor = sub(mul(w, w), polygamma(a, n=1))
    else:
        factor = sub(sub(mul(mul(w, w), w), mul(mul(w, polygamma(a, n=1)), 3.0)),
                     polygamma(a, n=2))
    inner = mul(_gamma_slope(a, xs), factor)
    at0 = select(gt(a, 1.0), mul(inner, 0.0), math.inf if n == 2 else -math.inf)
    return select(pos, inner, at0)


def _gammainc_da_impl(b, a, x, *, n):
    if n == 3:
        return _gammainc_da3(b, a, x)
    return b.extra("gammainc_da")(n, a, x)


def _gammainc_da3(bk, a, x):
    """The third derivative of P(a, x) in a. Up to x = a + 1 + sqrt(a) / 2, from P's power
    series: P = e^L S with L = a log x - x - lgamma(a + 1) and S = M(1, a + 1, x) (Kummer's
    function, positive terms), so that by Leibniz's rule
    d^3 P = e^L (S3 + 3 L1 S2 + 3 (L2 + L1^2) S1 + (L3 + 3 L1 L2 + L1^3) S), Lk and Sk the
    k-th derivatives in a, S's from hyp1f1_param's series (no cancellation there: each
    one's terms have one sign). Beyond (towards P near 1, where that sum cancels), from
    Q = 1 - P's continued fraction with its log-derivatives carried to the third
    (functrans.backends.incomplete_grads.gammainc_da3_upper). For a >= 50 within 30 % of
    x = a, Temme's expansion differentiated in a (incomplete_grads.gammainc_da_temme). 0 at
    x = 0 and where a or x is infinite; nan for invalid arguments, as the extra's."""
    xp = bk.xp
    dtype = x.dtype
    a, x = xp.astype(a, xp.float64), xp.astype(x, xp.float64)
    bad = ~((a > 0.0) & (x >= 0.0))  # (and nan)
    inner = ~bad & (x > 0.0) & (x < math.inf) & (a < math.inf)
    from ..backends.incomplete_grads import (_none_needs, _prefactor_parts, gammainc_da3_upper,
                                             gammainc_da_temme, temme_da_region)
    # (the fraction's third log-derivative loses digits within about sqrt(a) / 10 of
    # x = a + 1 for a large a, 1e-8 relative at a = 1e5; the series keeps about 1e-14 up to
    # half a standard deviation above it, so it is summed up to there; for a >= 50 within
    # 30 % of x = a, Temme's expansion differentiated in a instead)
    tem = inner & temme_da_region(a, x)
    far = inner & ~tem & (x >= a + 1.0 + 0.5 * xp.sqrt(xp.where(inner, a, xp.zeros_like(a))))
    near = inner & ~far & ~tem
    out = xp.where(bad, xp.full_like(x, math.nan), xp.zeros_like(x))
    if not _none_needs(bk, x, tem):
        at = xp.where(tem, a, xp.full_like(a, 100.0))
        xt = xp.where(tem, x, xp.full_like(x, 100.0))
        out = xp.where(tem, gammainc_da_temme(bk, 3, at, xt), out)
    if not _none_needs(bk, x, near):
        an = xp.where(near, a, xp.ones_like(a))
        xn = xp.where(near, x, xp.full_like(x, 0.5))
        ap1 = an + 1.0
        # (the terms x^k / (a + 1)_k decrease from k = x - a - 1 on)
        peak = float(bk.to_numpy(xp.max(xp.where(near, xn - ap1, xp.zeros_like(xn)))))
        sums = _hyp1f1_series(xp, xp.ones_like(an), ap1, xn, 3, peak=max(peak, 0.0))
        if sums is None:
            raise NotImplementedError(
                f"gammainc: the third derivative with respect to the shape parameter a: its "
                f"power series has not converged in {_HYP1F1_TERMS} terms (not expected: near "
                f"x = a with a >= 50 Temme's expansion is used); please report the arguments")
        s0, s1, s2, s3 = (sums[0, j][0] for j in range(4))
        # (L and L' as the extra computes them: Stirling's forms for a large a, where
        # a log x - lgamma(a + 1) and log x - digamma(a + 1) would cancel)
        log_e, l1, l2 = _prefactor_parts(bk, an, xn, 2)
        l3 = -bk.extra("polygamma")(2, ap1)
        d3 = (s3 + 3.0 * l1 * s2 + 3.0 * (l2 + l1 * l1) * s1
              + (l3 + 3.0 * l1 * l2 + l1 ** 3) * s0)
        out = xp.where(near, xp.exp(log_e) * d3, out)
    if not _none_needs(bk, x, far):
        af = xp.where(far, a, xp.ones_like(a))
        xf = xp.where(far, x, xp.full_like(x, 4.0))
        out = xp.where(far, gammainc_da3_upper(bk, af, xf), out)
    return xp.astype(out, dtype)


def _gammainc_da_jvp(primals, tangents, *, n):
    a, x = primals
    ta, tx = tangents
    out = gammainc_da(a, x, n=n)
    d = None
    if ta is not None:
        if n >= 3:
            raise NotImplementedError(
                "gammainc: the fourth derivative with respect to the shape parameter a is not "
                "implemented (the first three are, and derivatives of any order in x)")
        d = mul(ta, gammainc_da(a, x, n=n + 1))
    if tx is not None:
        dx = mul(tx, _gamma_slope_da(a, x, n))
        d = dx if d is None else add(d, dx)
    return out, d


def _gammainc_da_aval(a, x, *, n):
    return _array_aval(a, x)


gammainc_da_p = elementwise("gammainc_da", _gammainc_da_impl, _gammainc_da_jvp,
                            abstract_eval=_gammainc_da_aval)
gammainc_da_p.same_aval = True


def _gamma_shape_tangent(sign):
    def rule(primals, out, shape_tangents):
        a, x = primals
        d = mul(shape_tangents[0], gammainc_da(a, x, n=1))
        return neg(d) if sign < 0 else d
    return rule


# gammainc(a, x), gammaincc(a, x), betainc(a, b, x): operands of one shape and dtype.
gammainc_p = _last_operand_primitive("gammainc", ("a",), lambda a, x, _: _gamma_slope(a, x),
                                     shape_tangent=_gamma_shape_tangent(1))
gammaincc_p = _last_operand_primitive("gammaincc", ("a",),
                                      lambda a, x, _: _gamma_slope(a, x), negate=True,
                                      shape_tangent=_gamma_shape_tangent(-1))


# -- derivatives of betainc in its shape parameters -------------------------------------------
# betainc_dab(a, b, x, i=i, j=j) = d^(i+j) I_x(a, b) / da^i db^j for i + j = 1, 2, 3 by the
# backend extra "betainc_dab" (functrans.backends.incomplete_grads). Its derivative in x is
# closed-form (the same derivative of the density x^(a-1) (1-x)^(b-1) / B(a, b)); in a and
# b, each order gives the next, up to the third, whose own derivatives in a and b (the
# fourth order) raise NotImplementedError.


def _beta_slope_dab(a, b, x, i, j):
    """d^(i+j)/da^i db^j of the density x^(a-1) (1-x)^(b-1) / B(a, b) (i + j = 1, 2, 3):
    the density times the polynomial in the derivatives of its logarithm l
    (u = l_a = log x - digamma(a) + digamma(a+b), v = l_b = log(1-x) - digamma(b) +
    digamma(a+b), l_aa = trigamma(a+b) - trigamma(a), l_ab = trigamma(a+b), ...): u, v,
    u^2 + l_aa, u v + l_ab, v^2 + l_bb, u^3 + 3 u l_aa + l_aaa, u^2 v + v l_aa + 2 u l_ab
    + l_aab, ...; 0 outside [0, 1], and at the ends their limits (0 where the density's
    exponent there is above 1; else infinite where the logarithm of that end enters, with
    the sign of (-1)^k times the coefficient of its highest power k, the finite or infinite
    limit of the other factor where it does not)."""
    pos, below1 = gt(x, 0.0), lt(x, 1.0)
    xs = select(pos, select(below1, x, 0.5), 0.5)
    ab = add(a, b)
    t_ab = polygamma(ab, n=1)
    d_ab = digamma(ab)
    u_at1 = sub(d_ab, digamma(a))   # u at x = 1 (log x = 0), positive
    v_at0 = sub(d_ab, digamma(b))   # v at x = 0
    l_aa = sub(t_ab, polygamma(a, n=1)) if i >= 2 else None
    l_bb = sub(t_ab, polygamma(b, n=1)) if j >= 2 else None
    s_ab = polygamma(ab, n=2) if i + j == 3 else None

    def factor(u, v):
        if (i, j) == (1, 0):
            return u
        if (i, j) == (0, 1):
            return v
        if (i, j) == (2, 0):
            return add(mul(u, u), l_aa)
        if (i, j) == (1, 1):
            return add(mul(u, v), t_ab)
        if (i, j) == (0, 2):
            return add(mul(v, v), l_bb)
        if (i, j) == (3, 0):
            return add(mul(u, add(mul(u, u), mul(l_aa, 3.0))), sub(s_ab, polygamma(a, n=2)))
        if (i, j) == (2, 1):
            return add(add(mul(v, add(mul(u, u), l_aa)), mul(u, mul(t_ab, 2.0))), s_ab)
        if (i, j) == (1, 2):
            return add(add(mul(u, add(mul(v, v), l_bb)), mul(v, mul(t_ab, 2.0))), s_ab)
        return add(mul(v, add(mul(v, v), mul(l_bb, 3.0))), sub(s_ab, polygamma(b, n=2)))

    def lead(k, other):
        # the coefficient of the highest power k of the end's logarithm in factor (the other
        # factor at its limit ``other`` there) where its sign is not that of 1: u (v^2 + l_bb)
        # at x = 0 and v (u^2 + l_aa) at x = 1 (zero for a = b = 1, say)
        if i + j == 3 and k == 1:
            return add(mul(other, other), l_bb if i == 1 else l_aa)
        return None   # (1, or a positive u_at1, v_at0)

    inner = mul(_beta_slope(a, b, xs), factor(add(log(xs), u_at1), add(log1p(neg(xs)), v_at0)))
    log_b = _log_beta(a, b)
    zero = mul(inner, 0.0)

    def end(e, k, other, rest):
        # the limit at an end whose density exponent is e - 1, whose logarithm enters k
        # times with the coefficient lead(k, other) (``other``: the other factor's limit):
        # infinite with the sign of (-1)^k lead; where k = 0 (or lead is 0), that of the
        # factor's finite limit ``rest`` (times the density's: 1 / B(a, b) for e = 1)
        def finite():
            return select(lt(e, 1.0),
                          select(gt(rest, 0.0), add(zero, math.inf), add(zero, -math.inf)),
                          mul(rest, exp(neg(log_b))))
        if k > 0:
            c = lead(k, other)
            sign = -1.0 if k % 2 else 1.0
            small = (add(zero, sign * math.inf) if c is None else
                     select(gt(c, 0.0), add(zero, sign * math.inf),
                            select(lt(c, 0.0), add(zero, -sign * math.inf), finite())))
        else:
            small = finite()
        return select(gt(e, 1.0), zero, small)

    need0, need1 = i == 0 or (i, j) == (1, 2), j == 0 or (i, j) == (2, 1)
    at0 = end(a, i, v_at0, factor(0.0, v_at0) if need0 else None)
    at1 = end(b, j, u_at1, factor(u_at1, 0.0) if need1 else None)
    return select(pos, select(below1, inner, select(eq(x, 1.0), at1, zero)),
                  select(eq(x, 0.0), at0, zero))


def _betainc_dab_impl(backend, a, b, x, *, i, j):
    return backend.extra("betainc_dab")(i, j, a, b, x)


def _betainc_dab_jvp(primals, tangents, *, i, j):
    a, b, x = primals
    ta, tb, tx = tangents
    out = betainc_dab(a, b, x, i=i, j=j)
    d = None
    if ta is not None or tb is not None:
        if i + j >= 3:
            raise NotImplementedError(
                f"betainc: the fourth derivative with respect to the shape parameters a, b is "
                f"not implemented (asked: one more than order {i} in a and {j} in b). The "
                f"first three are, pure and mixed, and derivatives of any order in x after "
                f"those: the shape derivatives are carried through the continued fraction "
                f"(and the power series where it is used) to the third order only. "
                f"(jax.scipy.special.betainc has none in a, b.)")
        if ta is not None:
            d = mul(ta, betainc_dab(a, b, x, i=i + 1, j=j))
        if tb is not None:
            db = mul(tb, betainc_dab(a, b, x, i=i, j=j + 1))
            d = db if d is None else add(d, db)
    if tx is not None:
        dx = mul(tx, _beta_slope_dab(a, b, x, i, j))
        d = dx if d is None else add(d, dx)
    return out, d


def _betainc_dab_aval(a, b, x, *, i, j):
    return _array_aval(a, b, x)


betainc_dab_p = elementwise("betainc_dab", _betainc_dab_impl, _betainc_dab_jvp,
                            abstract_eval=_betainc_dab_aval)
betainc_dab_p.same_aval = True


def _beta_shape_tangent(primals, out, shape_tangents):
    a, b, x = primals
    ta, tb = shape_tangents
    d = None
    if ta is not None:
        d = mul(ta, betainc_dab(a, b, x, i=1, j=0))
    if tb is not None:
        db = mul(tb, betainc_dab(a, b, x, i=0, j=1))
        d = db if d is None else add(d, db)
    return d


betainc_p = _last_operand_primitive("betainc", ("a", "b"),
                                    lambda a, b, x, _: _beta_slope(a, b, x),
                                    shape_tangent=_beta_shape_tangent)


def _inc_beta_values_fix_impl(backend, out, a, b, x, y, use_sub):
    """functrans.scipy.special._inc_beta's staged result ``out`` given the values of its
    eager run where those differ (the small-b series; the generic backends' series of the
    complement; betaincc's at large shapes): at evaluation the operands are arrays, whose
    selection is read once on the host (NumPy: one test of b, ~2 us, where the staged
    series cost ~100 operations on every call). ``out`` itself where no element takes
    them."""
    from ..scipy import special as _special  # (eager here: the operands are arrays)
    return _special._inc_beta_values_on_arrays(out, a, b, x, y, use_sub)


def _inc_beta_values_fix_jvp(primals, tangents):
    # (the values only: the derivatives are out's, as eagerly)
    return inc_beta_values_fix_p.bind(*primals), tangents[0]


inc_beta_values_fix_p = elementwise("inc_beta_values_fix", _inc_beta_values_fix_impl,
                                    _inc_beta_values_fix_jvp,
                                    abstract_eval=lambda out, *rest: out)



def _f_extreme_fix_impl(backend, out, n, m, x, *, upper, big=None):
    """functrans.scipy.special._f_extreme_fix in staged code: F's cdf (sf with ``upper``)
    ``out`` with the values of the generic methods at extreme degrees of freedom (above
    ``big``, special._F_BIG where None), where the operands are arrays at evaluation (the
    selection read on the host for arrays on the CPU; on a device every element
    computed)."""
    from ..scipy import special as _special  # (eager here: the operands are arrays)
    return _special._f_extreme_fix(out, n, m, x, upper, big)


def _f_extreme_fix_jvp(primals, tangents, *, upper, big=None):
    # (the values only: the derivatives are out's, as eagerly)
    return f_extreme_fix_p.bind(*primals, upper=upper, big=big), tangents[0]


f_extreme_fix_p = elementwise("f_extreme_fix", _f_extreme_fix_impl, _f_extreme_fix_jvp,
                              abstract_eval=lambda out, *rest, **params: out)


def _f_rounding_fix_impl(backend, value, hn, hm, u, w, n, z, m, *, upper):
    """functrans.scipy.stats._f_rounded_u_fixed in staged code: F's cdf (sf with ``upper``)
    ``value`` with the first-order term of its u's rounding where the shapes are large, at
    evaluation on the arrays (the selection read on the host: ~2 us where no element takes
    it, where the staged term cost ~100 operations on every call)."""
    from ..scipy import stats as _stats  # (eager here: the operands are arrays)
    return _stats._f_rounded_u_fixed(value, hn, hm, u, w, n, z, m, upper)


def _f_rounding_fix_jvp(primals, tangents, *, upper):
    # (the values only: the derivatives are value's, as eagerly)
    return f_rounding_fix_p.bind(*primals, upper=upper), tangents[0]


f_rounding_fix_p = elementwise("f_rounding_fix", _f_rounding_fix_impl, _f_rounding_fix_jvp,
                               abstract_eval=lambda value, *rest, **params: value)


def _t_fix_impl(backend, d, u, v, *, part, wrt):
    """functrans.scipy.special._t_fix_on_arrays: Student t's tail or quantile (its value
    ``v``) with the derivatives of the series free of betainc's cancellation at a large
    df, computed at evaluation (see there)."""
    if part in ("tail", "quantile"):  # (the value: v)
        return v
    from ..scipy import special as _special  # (eager here: the operands are arrays)
    return _special._t_fix_on_arrays(backend, part, d, u, v, wrt)


# (each value's slopes: in d and u)
_T_FIX_SLOPES = {"tail": ("tail_d", "tail_t"), "quantile": ("quantile_d", "quantile_q")}


def _t_fix_jvp(primals, tangents, *, part, wrt):
    out = t_fix_p.bind(*primals, part=part, wrt=wrt)
    if part.endswith("_region"):  # (a mask: no derivative)
        return out, None
    names = _T_FIX_SLOPES.get(part)
    tangents = list(tangents)
    if names is None and part.startswith("quantile") and any(
            t is not None for t in tangents[:2]):
        # (a slope of the quantile v = t(q, d): v moves with q and d by the accurate slopes
        # themselves, not by its own tangent, the plain quantile's, whose df slope at a
        # large df cancels (hessian(t.ppf)(1e-10, 1e5): the q-df entry 4.6e-8 off, the
        # df-q one right))
        dv = None
        for i, name in enumerate(_T_FIX_SLOPES["quantile"]):
            if tangents[i] is not None:
                term = mul(tangents[i], t_fix_p.bind(*primals, part=name, wrt=()))
                dv = term if dv is None else add(dv, term)
        tangents[2] = dv
    d = None
    for i, tan in enumerate(tangents if names is None else tangents[:2]):
        if tan is not None:
            if names is None:  # (a slope: the next partial derivative)
                slope = t_fix_p.bind(*primals, part=part, wrt=tuple(sorted(wrt + (i,))))
            else:
                slope = t_fix_p.bind(*primals, part=names[i], wrt=())
            term = mul(tan, slope)
            d = term if d is None else add(d, term)
    # (selected: outside the series' region the slopes are 0, and their partial derivatives
    # times an infinite tangent would be nan; there the value takes v's own tangent)
    plain = None if names is None else tangents[2]
    if plain is None and d is None:
        return out, None
    family = part.split("_")[0]
    region = t_fix_p.bind(*primals, part=family + "_region", wrt=())
    zero = full_like(out, 0.0)
    return out, select(region, zero if d is None else d, zero if plain is None else plain)


def _t_fix_aval(d, u, v, *, part, wrt):
    return _bool_aval(d) if part.endswith("_region") else _array_aval(d, u, v)


# t_fix(d, u, v, part=...): Student t with df = d at large df. part "tail": the tail T =
# P(T_df < -|t|) = v at t = u, "quantile": the quantile t = v at probability q = u, each
# with its derivatives from the slopes "tail_d", "tail_t" (in df and t), "quantile_d",
# "quantile_q" (in df and q) inside the series' region (d >= 100, t != 0 finite, t^2 / (d +
# t^2) <= 0.2: "tail_region", "quantile_region", masks), 0 outside, where v's own tangent
# is taken; with wrt, the slopes' partial derivatives in the operands (0: d, 1: u, 2: v),
# to any order.
t_fix_p = elementwise("t_fix", _t_fix_impl, _t_fix_jvp, abstract_eval=_t_fix_aval)


def t_fix(d, u, v, *, part, wrt=()):
    return t_fix_p.bind(d, u, v, part=part, wrt=wrt)



def _beta_ppf_fix_impl(backend, a, b, q, x, *, slope, wrt):
    """functrans.scipy.special._beta_ppf_fix_on_arrays: beta's quantile x (the root of
    I_x(a, b) = q) with the derivatives of the complement form near 1, computed at
    evaluation (see there)."""
    if slope is None:  # (the value: x)
        return x
    from ..scipy import special as _special  # (eager here: the operands are arrays)
    return _special._beta_ppf_fix_on_arrays(backend, slope, a, b, q, x, wrt)


def _slopes_fix_jvp(p, primals, tangents, slope, wrt, **params):
    """The JVP of a "fix" primitive ``p(a0, a1, a2, plain, slope=, wrt=)`` (beta_ppf_fix,
    f_logpdf_fix, f_temme_fix; ``params`` its others): a staged plain value replaced,
    inside a region, by another form whose partial derivatives in the first three operands
    ``p`` itself gives (``slope=i``, the next ones in ``wrt``), all those the tangents need
    from one fix_slopes (one reverse pass for f_logpdf_fix's three); outside the region the
    plain value's own tangent."""
    if slope == "region":  # (a mask: no derivative)
        return p.bind(*primals, slope=slope, wrt=wrt, **params), None
    # (the slopes do not depend on the plain value)
    moving = tuple(i for i, tan in enumerate(tangents[:3]) if tan is not None)
    if slope is None:  # (the value and its slopes from one fix_slopes)
        if not moving and tangents[3] is None:
            return p.bind(*primals, slope=None, wrt=wrt, **params), None
        got = fix_slopes_p.bind(*primals, fix=p.name, slopes=(None,) + moving, wrt=(),
                                **params)
        return got[0], _value_tangent(p.name, primals, tangents, dict(zip(moving, got[1:])),
                                      got[0], params)
    out = p.bind(*primals, slope=slope, wrt=wrt, **params)
    d = None
    for i in moving:  # (a slope: the next partial derivatives)
        part = p.bind(*primals, slope=slope, wrt=tuple(sorted(wrt + (i,))), **params)
        term = mul_sz(part, tangents[i])
        d = term if d is None else add(d, term)
    if d is None:
        return out, None
    # (selected: outside the region the slopes are 0, and their partial derivatives times an
    # infinite tangent would be nan)
    region = p.bind(*primals, slope="region", wrt=(), **params)
    zero = full_like(out, 0.0)
    return out, select(region, d, zero)


def _value_tangent(fix, primals, tangents, slopes, out, params):
    """The tangent of a "fix" primitive's value ``out``: its ``slopes`` (operand -> slope)
    times the tangents of the first three operands inside the region, the plain value's own
    tangent outside."""
    d = None
    for i, tan in enumerate(tangents[:3]):
        if tan is not None:
            # (a zero tangent adds 0 where the partial is infinite: a Hessian's basis
            # tangents met a partial in z that overflows at a subnormal z, inf * 0 = nan
            # in every entry of jit(hessian(f.logpdf))(1e-310, 1.2, 3.), eagerly finite)
            term = mul_sz(slopes[i], tan)
            d = term if d is None else add(d, term)
    # (selected: outside the region the slopes are 0, and their partial derivatives times an
    # infinite tangent would be nan; there the value takes the plain value's own tangent)
    plain = tangents[3]
    if plain is None and d is None:
        return None
    region = registry[fix].bind(*primals, slope="region", wrt=(), **params)
    zero = full_like(out, 0.0)
    return select(region, zero if d is None else d, zero if plain is None else plain)


def _fix_slopes_impl(backend, *ops, fix, slopes, wrt, **params):
    """The "fix" primitive ``fix``'s slopes ``slopes`` (each then in the operands ``wrt``
    names; None: its value) at once: the slopes by its on-arrays function with a tuple of
    slopes."""
    numbered = tuple(s for s in slopes if s is not None)
    at_once = _SLOPES_AT_ONCE.get(fix) or _each_slope(registry[fix].impl)
    got = iter(at_once(backend, *ops, slope=numbered, wrt=wrt, **params) if numbered else ())
    return [registry[fix].impl(backend, *ops, slope=None, wrt=wrt, **params) if s is None
            else next(got) for s in slopes]


def _fix_slopes_aval(*ops, fix, slopes, wrt, **params):
    return [_array_aval(*ops)] * len(slopes)


def _fix_slopes_jvp(primals, tangents, *, fix, slopes, wrt, **params):
    """The value's tangent (slope None, first): :func:`_value_tangent`, by the slopes among
    the results (the others by one more fix_slopes); slope ``i``'s: its partial derivatives
    in the moving operands (those of every slope in operand ``j``: one fix_slopes, wrt +
    (j,)), inside the region (0 outside, as the slopes)."""
    outs = fix_slopes_p.bind(*primals, fix=fix, slopes=slopes, wrt=wrt, **params)
    numbered = tuple(s for s in slopes if s is not None)
    ds = [None] * len(numbered)
    for j, tan in enumerate(tangents[:3]):
        if tan is None or not numbered:
            continue
        parts = fix_slopes_p.bind(*primals, fix=fix, slopes=numbered,
                                  wrt=tuple(sorted(wrt + (j,))), **params)
        for k, part in enumerate(parts):
            term = mul_sz(part, tan)
            ds[k] = term if ds[k] is None else add(ds[k], term)
    if ds and ds[0] is not None:
        region = registry[fix].bind(*primals, slope="region", wrt=(), **params)
        zero = full_like(outs[-1], 0.0)
        ds = [select(region, d, zero) for d in ds]
    if slopes[0] is not None:
        return outs, ds
    have = dict(zip(numbered, outs[1:]))
    missing = tuple(i for i, t in enumerate(tangents[:3]) if t is not None and i not in have)
    if missing:
        have.update(zip(missing, fix_slopes_p.bind(*primals, fix=fix, slopes=missing, wrt=(),
                                                   **params)))
    return outs, [_value_tangent(fix, primals, tangents, have, outs[0], params)] + ds


# fix_slopes(a0, a1, a2, plain, fix=name, slopes=(i, ...), wrt=(...), ...): the slopes
# ``fix(..., slope=i, wrt=wrt)`` of the "fix" primitive ``fix`` (beta_ppf_fix, f_logpdf_fix,
# f_temme_fix; its other parameters after; slope None first: its value), one result each,
# computed together: f_logpdf_fix's one reverse pass gives all three slopes (its JVP asked
# them one at a time: session 46 kept the pass in a memo keyed by the operands' bytes), and
# the value's tangent takes the slopes computed beside it (nested JVPs asked them twice)
fix_slopes_p = primitive("fix_slopes", multiple_results=True)
fix_slopes_p.def_impl(_fix_slopes_impl)
fix_slopes_p.def_abstract_eval(_fix_slopes_aval)
fix_slopes_p.def_jvp(_fix_slopes_jvp)
fix_slopes_p.def_batch(leading_rule(fix_slopes_p))


def _each_slope(on_arrays):
    """An on-arrays function of one slope as one of a tuple of slopes (one pass each)."""
    def fn(backend, *ops, slope, wrt, **params):
        return [on_arrays(backend, *ops, slope=s, wrt=wrt, **params) for s in slope]
    return fn


def _beta_ppf_fix_jvp(primals, tangents, *, slope, wrt):
    return _slopes_fix_jvp(beta_ppf_fix_p, primals, tangents, slope, wrt)


def _beta_ppf_fix_aval(a, b, q, x, *, slope, wrt):
    return _bool_aval(x) if slope == "region" else _array_aval(a, b, q, x)


# beta_ppf_fix(a, b, q, x, slope=None): the quantile x of beta(a, b) at q (its value), with
# the derivatives of 1 - betaincinv(b, a, 1 - q) where x > 15/16 and q >= 1/4 ("region", a
# mask), x's own elsewhere; slope=i: dx/d(a, b, q)[i] there (0 elsewhere), with wrt its
# partial derivatives in a, b, q (0, 1, 2), to any order.
beta_ppf_fix_p = elementwise("beta_ppf_fix", _beta_ppf_fix_impl, _beta_ppf_fix_jvp,
                             abstract_eval=_beta_ppf_fix_aval)


def beta_ppf_fix(a, b, q, x, *, slope=None, wrt=()):
    return beta_ppf_fix_p.bind(a, b, q, x, slope=slope, wrt=wrt)


def _f_temme_fix_impl(backend, n, m, x, out, *, upper, slope, wrt):
    """functrans.scipy.special._f_temme_fix_on_arrays: F's cdf (sf with ``upper``) ``out``
    with the derivatives of Temme's expansion where both degrees of freedom are huge,
    computed at evaluation (see there)."""
    if slope is None:  # (the value: out)
        return out
    from ..scipy import special as _special  # (eager here: the operands are arrays)
    return _special._f_temme_fix_on_arrays(backend, slope, n, m, x, upper, wrt)


def _f_temme_fix_jvp(primals, tangents, *, upper, slope, wrt):
    return _slopes_fix_jvp(f_temme_fix_p, primals, tangents, slope, wrt, upper=upper)


def _f_temme_fix_aval(n, m, x, out, *, upper, slope, wrt):
    return _bool_aval(x) if slope == "region" else _array_aval(n, m, x, out)


# f_temme_fix(n, m, x, out, upper=, slope=None): F's cdf (sf with upper) at x with n, m
# degrees of freedom, its value out, with the derivatives of Temme's uniform expansion
# (special._f_temme's smooth form) where both are above special._F_TEMME_DF, finite, and
# 0 < x < inf ("region", a mask; the slopes 0 there where |z| >= 38: the density
# underflows), out's own elsewhere; slope=i: the expansion's partial derivative in (n, m,
# x)[i] there (0 elsewhere), with wrt the next ones (0: n, 1: m, 2: x), to any order.
f_temme_fix_p = elementwise("f_temme_fix", _f_temme_fix_impl, _f_temme_fix_jvp,
                            abstract_eval=_f_temme_fix_aval)


def f_temme_fix(n, m, x, out, *, upper, slope=None, wrt=()):
    return f_temme_fix_p.bind(n, m, x, out, upper=upper, slope=slope, wrt=wrt)


def _f_huge_fix_impl(backend, n, m, x, out, *, upper, slope, wrt):
    """functrans.scipy.special._f_huge_fix_on_arrays: F's cdf (sf with ``upper``) ``out``
    with the derivatives of the series form at one huge degree of freedom, computed at
    evaluation (see there)."""
    if slope is None:  # (the value: out)
        return out
    from ..scipy import special as _special  # (eager here: the operands are arrays)
    return _special._f_huge_fix_on_arrays(backend, slope, n, m, x, upper, wrt)


def _f_huge_fix_jvp(primals, tangents, *, upper, slope, wrt):
    return _slopes_fix_jvp(f_huge_fix_p, primals, tangents, slope, wrt, upper=upper)


# f_huge_fix(n, m, x, out, upper=, slope=None): F's cdf (sf with upper) at x with n, m
# degrees of freedom, its value out, with the derivatives of the series in the gamma limit
# (special._f_huge_form) where the larger degree of freedom is at least
# special._F_HUGE_DF, not both above _F_TEMME_DF, 0 < x < inf, lam <= _F_HUGE_LAM and the
# series' dfn terms cancel less than the plain form's ("region", a mask), out's own
# elsewhere; slope=i: the form's partial derivative in (n, m, x)[i] there (0 elsewhere),
# with wrt the next ones (0: n, 1: m, 2: x), to any order.
f_huge_fix_p = elementwise("f_huge_fix", _f_huge_fix_impl, _f_huge_fix_jvp,
                           abstract_eval=_f_temme_fix_aval)


def f_huge_fix(n, m, x, out, *, upper, slope=None, wrt=()):
    return f_huge_fix_p.bind(n, m, x, out, upper=upper, slope=slope, wrt=wrt)

# -- their inverses in the last operand -----------------------------------------------------
# The derivative in y is 1 / (the forward function's derivative at the result), taken in
# logarithms: exp(x - (a-1) log x + lgamma(a)) for gammaincinv (minus it for gammainccinv),
# exp(log B(a, b) - (a-1) log x - (b-1) log(1-x)) for betaincinv. The operands reach the
# primitives inside the domain only (0 < y < 1, finite positive shapes; the namespace gives
# the edges their values), so that x is positive (and below 1) there.


def _inverse_gamma_slope(a, x):
    return exp(neg(_gamma_log_density(a, x)))


def _inverse_beta_slope(a, b, x):
    # (1 / the density: its logarithm's value the deviance form's at large shapes, as
    # _beta_slope's)
    log_b = _log_beta(a, b)
    plain = sub(add(mul(sub(a, 1.0), log(x)), mul(sub(b, 1.0), log1p(neg(x)))), log_b)
    return exp(neg(beta_log_density_fix(a, b, x, plain)))


def _gamma_inverse_shape_tangent(lower):
    def rule(primals, x, shape_tangents):
        """dx/da = -(dP/da) / (dP/dx) at the result x, for both inverses (P(a, x) = y and
        Q(a, x) = y give the same: Q's derivatives are P's negated); where
        gamma_quantile_low_region may hold, through gamma_inverse_da (its derivative in a
        there: d2x/da2 in double-double, see below)."""
        a, y = primals
        slope = _gamma_inverse_plain_da(a, y, x)
        # (only a derivative of the slope needs gamma_inverse_da: none where a and y are
        # plain arrays, as under grad alone)
        if not _all_concrete(a, y) and not _gamma_low_none(a, y):
            slope = gamma_inverse_da(a, y, x, slope, _gamma_low_region(a, y), order=1,
                                     lower=lower)
        return mul(shape_tangents[0], slope)
    return rule


def _gamma_inverse_plain_da(a, y, x):
    """dx/da = -(dP/da) / (dP/dx) at the root x of either inverse (0 inside
    gamma_quantile_region on NumPy arrays, see below)."""
    return neg(mul(_gammainc_da_outside_median(a, y, x), _inverse_gamma_slope(a, x)))


def _gammainc_da_outside_median(a, y, x):
    """dP/da at (a, x); on NumPy arrays (no derivative through them) 0 inside
    incomplete_grads.gamma_quantile_region, computed on the others only: there the
    inverses' refine takes the series' tangent instead (see below; session 54: grad of
    gammaincinv over 1e4 points, a in [1, 50], computed gammainc_da on the ~44 % the series
    covers, ~10 ms of its ~40). Same bits elsewhere."""
    if all(type(v) is _np.ndarray for v in (a, y, x)) and a.ndim and \
            a.shape == y.shape == x.shape:
        from ..backends.incomplete_grads import gamma_quantile_region
        middle = gamma_quantile_region(a, y)
        if middle.any():
            out = _np.zeros(x.shape, x.dtype)
            rest = _np.flatnonzero(~middle)
            if rest.size:
                out.flat[rest] = gammainc_da(a.flat[rest], x.flat[rest], n=1)
            return out
    return gammainc_da(a, x, n=1)


# -- the gamma inverses at a large a: their derivatives in Temme's variable eta -----------------
# (session 52; functrans.backends.incomplete_grads, "the inverses' derivatives in Temme's
# variable"). Where a >= 50 and the root x is within 30 % of a, x = a (1 + mu(eta)) with eta
# = gamma_inv_eta(a, y, x) solved from y, deta/da = N / D and deta/dy = +-sqrt(2 pi a)
# exp(a eta^2 / 2) / D (N, D from temme_series, no cancellation): dx/da = 1 + mu + a mu'
# deta/da and dx/dy = a mu' deta/dy, each differentiable again through eta's rule and
# temme_series's. By -(dP/da) / (dP/dx) at the rounded x the second derivative in a at
# a = 1e6 was 8.6e-6 off (terms ~sqrt(a) times the result cancel), and every derivative
# at a = 1e12 ~1e-10 (x - a from the rounded x); now ~1e-15 (mpmath).


def _none_in(bk, region):
    """Whether the concrete mask ``region`` holds nowhere (read on the host: under jit on
    NumPy the operands are arrays too, and no element of ordinary shapes needs the work)."""
    from ..backends.incomplete_grads import _none_needs
    return _none_needs(bk, region, region)


def _on_region(bk, region, fn, *ops):
    """``fn(*ops)`` (float64 arrays of one shape) inside the mask ``region``, 0 outside: on
    NumPy computed on the region's own elements only (session 53: the gamma inverses' forms
    at a large a each hold on part of a call's elements; on every element they had cost
    grad of gammaincinv over 1e4 shapes in 10^[2, 8] ~4x), elsewhere on every element."""
    xp = bk.xp
    like = ops[-1]
    f64 = xp.float64
    ops = [xp.astype(v, f64) for v in ops]
    if type(like) is _np.ndarray and like.ndim:
        own = _np.flatnonzero(region)
        out = _np.zeros(like.shape)
        _np.put(out, own, fn(*[_np.take(v, own) for v in ops]))
        return out.astype(like.dtype, copy=False)
    return xp.astype(fn(*ops), like.dtype)


def _temme_series_impl(bk, a, eta, region, *, part, i, j):
    xp = bk.xp
    if _none_in(bk, region):
        return xp.zeros_like(eta)
    from ..backends.incomplete_grads import temme_series
    return _on_region(bk, region, lambda a, eta: temme_series(bk, part, i, j, a, eta), a, eta)


def _temme_series_jvp(primals, tangents, *, part, i, j):
    a, eta, region = primals
    ta, te, _ = tangents
    out = temme_series(a, eta, region, part=part, i=i, j=j)
    d = None
    if ta is not None and part == "S":
        d = mul(ta, temme_series(a, eta, region, part=part, i=i + 1, j=j))
    if te is not None:
        de = mul(te, temme_series(a, eta, region, part=part, i=i, j=j + 1))
        d = de if d is None else add(d, de)
    return out, d


# temme_series(a, eta, region, part="S", i=i, j=j): d^(i+j) S / da^i deta^j of Temme's
# S(a, eta) = sum_k C_k(eta) a^-k; part="mu": d^j mu / deta^j of mu(eta) (i = 0; not
# moving with a), x = a (1 + mu). Any order (its derivative: the next one). 0 where the
# mask region holds nowhere (known on the host; else computed everywhere: the operands
# stand-ins outside it).
temme_series_p = elementwise("temme_series", _temme_series_impl, _temme_series_jvp,
                             abstract_eval=lambda a, eta, region, **_: _array_aval(a, eta))


def temme_series(a, eta, region, *, part, i=0, j=0):
    return temme_series_p.bind(a, eta, region, part=part, i=i, j=j)


def _gamma_eta_slopes(a, eta, region, lower):
    """(deta/da, deta/dy) of the root of P(a, .) = y (``lower``) or Q(a, .) = y."""
    s = temme_series(a, eta, region, part="S")
    den = sub(mul(a, add(1.0, mul(eta, s))), temme_series(a, eta, region, part="S", j=1))
    num = sub(sub(temme_series(a, eta, region, part="S", i=1), mul(0.5, eta)),
              mul(add(mul(0.5, mul(eta, eta)), div(0.5, a)), s))
    dy = div(exp(mul(0.5, mul(a, mul(eta, eta)))), den)
    dy = mul(sqrt(mul(2.0 * math.pi, a)), dy)
    return div(num, den), dy if lower else neg(dy)


def _gamma_inv_eta_impl(bk, a, y, x, region, *, lower):
    xp = bk.xp
    if _none_in(bk, region):
        return xp.zeros_like(x)
    from ..backends.incomplete_grads import temme_eta
    return _on_region(bk, region, lambda a, y, x: temme_eta(bk, lower, a, y, x), a, y, x)


def _gamma_inv_eta_jvp(primals, tangents, *, lower):
    a, y, x, region = primals
    ta, ty, _, _ = tangents  # (x: the root of (a, y), a start only)
    out = gamma_inv_eta(a, y, x, region, lower=lower)
    if ta is None and ty is None:
        return out, None
    slope_a, slope_y = _gamma_eta_slopes(a, out, region, lower)
    d = None if ta is None else mul(ta, slope_a)
    if ty is not None:
        dy = mul(ty, slope_y)
        d = dy if d is None else add(d, dy)
    return out, d


# gamma_inv_eta(a, y, x, region, lower=): Temme's eta of the root of P(a, .) = y (lower;
# Q's otherwise) inside temme_eta_region, solved from y with the root x as its start (x's
# own tangent, that of a function of a and y, is not used); derivatives by
# _gamma_eta_slopes. 0 where the mask region holds nowhere (as temme_series).
gamma_inv_eta_p = elementwise("gamma_inv_eta", _gamma_inv_eta_impl, _gamma_inv_eta_jvp,
                              abstract_eval=lambda a, y, x, region, **_: _array_aval(a, y, x))


def gamma_inv_eta(a, y, x, region, *, lower):
    return gamma_inv_eta_p.bind(a, y, x, region, lower=lower)


# -- the gamma inverses near the median: x - a as a series in 1/sqrt(a) -----------------------
# (session 53; incomplete_grads, "the inverses near the median"). Where a >= 50 and
# 1/4 <= y <= 3/4 the eta form's pieces cancel (d2x/da2 = 16/(405 a^3) at the median from
# terms ~1/a^2) and eta's absolute error ~eps/sqrt(a) from y there becomes eps/|z| of every
# derivative that vanishes with z (d2x/da2 3.6e-2 off at a = 1e9, d2x/dy2 3e-10 at 1e12).
# There x = a + D(a, z), z = ndtri(y) (-ndtri(y) for gammainccinv), D = sum_n d_n(z)
# a^(-n/2): dx/da = 1 + D_a, dx/dy = D_z dz/dy, each again differentiable through
# gamma_quantile_series's rule and ndtri's: within 1e-15 of mpmath (a = 50 .. 1e12).
# Session 54: from a = 8, incomplete_grads._QUANTILE_MIN_A (there the implicit-function
# form's terms ~1/a^2 cancel too, and x's rounding left d2x/da2 2e-11 .. 1.4e-9 relative
# off between a = 10 and 50; now within 7e-14 at a = 8, 1e-14 from a = 10). Session 55:
# from a = 7 (the implicit form's d2x/da2 was 8.8e-12 off at (7.99, 1/2); the series'
# within 8.1e-13 from a = 7). Session 56: from a = 7.5 (below, gamma_inverse_da's
# double-double form, see there: ~1e-13 at 7 against the series' 8.1e-13).


def _gamma_quantile_series_impl(bk, a, z, region, *, i, j):
    xp = bk.xp
    if _none_in(bk, region):
        return xp.zeros_like(z)
    from ..backends.incomplete_grads import _quantile_rows_for, gamma_quantile_series

    def series(a, z):
        # (the rows the smallest a needs: elsewhere than on NumPy of all elements, stand-ins
        # 100, one host read as the region's; on NumPy of the region's own elements, in
        # groups of a between _QUANTILE_BINS: the work grows as the rows' square, 40 rows
        # from a = 7.5 to 9.5, 34 at 12, 29 at 20, 23 at 50)
        if type(a) is not _np.ndarray or a.size < 2:
            a_min = float(bk.to_numpy(xp.min(a))) if math.prod(a.shape) else 100.0
            return gamma_quantile_series(bk, i, j, a, z, n_max=_quantile_rows_for(a_min))
        group = _np.searchsorted(_QUANTILE_BINS, a, side="right")
        first, last = int(group.min()), int(group.max())
        if first == last:
            return gamma_quantile_series(bk, i, j, a, z,
                                         n_max=_quantile_rows_for(float(a.min())))
        out = _np.empty(a.shape)
        for g in range(first, last + 1):
            own = _np.flatnonzero(group == g)
            if own.size:
                a_g = a[own]
                out[own] = gamma_quantile_series(bk, i, j, a_g, z[own],
                                                 n_max=_quantile_rows_for(float(a_g.min())))
        return out
    return _on_region(bk, region, series, a, z)


# (the edges of the groups of a above)
_QUANTILE_BINS = (12.0, 20.0, 50.0)


def _gamma_quantile_series_jvp(primals, tangents, *, i, j):
    a, z, region = primals
    ta, tz, _ = tangents
    out = gamma_quantile_series(a, z, region, i=i, j=j)
    d = None if ta is None else mul(ta, gamma_quantile_series(a, z, region, i=i + 1, j=j))
    if tz is not None:
        dz = mul(tz, gamma_quantile_series(a, z, region, i=i, j=j + 1))
        d = dz if d is None else add(d, dz)
    return out, d


# gamma_quantile_series(a, z, region, i=i, j=j): d^(i+j) D / da^i dz^j of D(a, z) = x - a,
# x the gamma quantile at the normal quantile z (see above). Any order (its derivative: the
# next one). 0 where the mask region holds nowhere (as temme_series).
gamma_quantile_series_p = elementwise(
    "gamma_quantile_series", _gamma_quantile_series_impl, _gamma_quantile_series_jvp,
    abstract_eval=lambda a, z, region, **_: _array_aval(a, z))


def gamma_quantile_series(a, z, region, *, i=0, j=0):
    return gamma_quantile_series_p.bind(a, z, region, i=i, j=j)


def _gamma_median_tangent(a, y, ta, ty, middle, lower):
    """The tangent of x = a + D(a, z) (see above), stand-ins outside ``middle``."""
    a_s, y_s = select(middle, a, 100.0), select(middle, y, 0.5)
    z = ndtri(y_s)
    z = z if lower else neg(z)
    d = None
    if ta is not None:
        d = mul(ta, add(1.0, gamma_quantile_series(a_s, z, middle, i=1)))
    if ty is not None:
        # (dz/dy = +-sqrt(2 pi) exp(z^2 / 2): |z| <= 0.675 here)
        slope = mul(gamma_quantile_series(a_s, z, middle, j=1),
                    mul(math.sqrt(2.0 * math.pi), exp(mul(0.5, mul(z, z)))))
        dy = mul(ty, slope if lower else neg(slope))
        d = dy if d is None else add(d, dy)
    return d


def _concrete_none(mask):
    """Whether the mask holds nowhere, known from a concrete array (False for tracers)."""
    from ..backends import _by_type
    bk = _by_type.get(type(mask))
    return bk is not None and _none_in(bk, mask)


def _temme_inverse_none(a, y, x):
    """Whether no element is in temme_eta_region, known from concrete arrays (False for
    tracers: unknown)."""
    from ..backends import _by_type
    from ..backends.incomplete_grads import _any_true, temme_eta_region
    bk = _by_type.get(type(x))
    if bk is None or _by_type.get(type(a)) is not bk or _by_type.get(type(y)) is not bk:
        return False
    return not _any_true(bk, temme_eta_region(a, y, x))


def _gamma_inverse_refine(lower):
    def refine(primals, x, tangents, d):
        """The tangent in eta's form (see above) inside temme_eta_region, ``d`` outside."""
        a, y = primals
        ta, ty = tangents
        # (near the median the series in 1/sqrt(a), see above, from a = 7.5; eta's form
        # elsewhere in temme_eta_region)
        no_middle = _gamma_median_none(a, y)
        no_eta = _temme_inverse_none(a, y, x)
        if no_middle and no_eta:
            return d
        middle = None if no_middle else _gamma_median_region(a, y)
        region = None if no_eta else _temme_eta_region(a, y, x)
        if region is not None and middle is not None and not _concrete_none(middle):
            region = logical_and(region, logical_not(middle))
        if region is not None and not _concrete_none(region):
            # (stand-ins elsewhere: a root of 1/2 at a = 100, finite slopes, unused)
            a_s, y_s, x_s = select(region, a, 100.0), select(region, y, 0.5), select(region, x,
                                                                                      100.0)
            eta = gamma_inv_eta(a_s, y_s, x_s, region, lower=lower)
            slope_a, slope_y = _gamma_eta_slopes(a_s, eta, region, lower)
            deta = None if ta is None else mul(ta, slope_a)
            if ty is not None:
                dy = mul(ty, slope_y)
                deta = dy if deta is None else add(deta, dy)
            de = mul(mul(a_s, temme_series(a_s, eta, region, part="mu", j=1)), deta)
            if ta is not None:
                de = add(de, mul(ta, add(1.0, temme_series(a_s, eta, region, part="mu"))))
            d = select(region, de, d)
        if middle is not None and not _concrete_none(middle):
            d = select(middle, _gamma_median_tangent(a, y, ta, ty, middle, lower), d)
        return d
    return refine


def _gamma_median_region(a, y):
    """incomplete_grads.gamma_quantile_region with primitives."""
    from ..backends.incomplete_grads import _QUANTILE_MIN_A, _QUANTILE_Y
    r = logical_and(ge(y, _QUANTILE_Y[0]), le(y, _QUANTILE_Y[1]))
    return logical_and(r, logical_and(ge(a, _QUANTILE_MIN_A), lt(a, math.inf)))


def _gamma_median_none(a, y):
    """Whether no element is in gamma_quantile_region, known from concrete arrays (False
    for tracers: unknown)."""
    from ..backends import _by_type
    from ..backends.incomplete_grads import _any_true, gamma_quantile_region
    bk = _by_type.get(type(y))
    if bk is None or _by_type.get(type(a)) is not bk:
        return False
    return not _any_true(bk, gamma_quantile_region(a, y))


# -- the gamma inverses near the median below a = 7.5: d2x/da2 in double-double --------------
# (session 56; incomplete_grads, "the inverses near the median below a = 7.5"). Where
# 2.5 <= a < 7.5 and 1/4 <= y <= 3/4 the series above is asymptotic (~3e-12 of d2x/da2 at its
# best at a = 6, 8.1e-13 at 7) and the implicit form's terms ~1/(3a) cancel to
# ~16/(405 a^3): its d2x/da2 was ~eps absolute off (1.2e-12 relative at (6, 1/2), 2.1e-12
# at (6.9, 1/2)). There dx/da
# (the implicit form's value, accurate) is passed through gamma_inverse_da(order=1), whose
# derivative in a is gamma_inverse_da(order=2): incomplete_grads.gamma_quantile_d2, the
# same form evaluated in double-double at the root (within 5e-14 of mpmath's at that x);
# in y d2x/dady = -(w + c dx/da) dx/dy (w = log x - digamma(a), c = (a - 1)/x - 1), and
# the third derivatives by the implicit form's (P_aaa from gammainc_da).


def _gamma_inverse_da_impl(bk, a, y, x, xa, region, *, order, lower):
    if order == 1:  # (dx/da: the implicit form's value, given)
        return xa
    xp = bk.xp
    if _none_in(bk, region):
        return xp.zeros_like(x)
    from ..backends.incomplete_grads import gamma_quantile_d2
    # (stand-ins outside the region: a root of 1/2 at a = 4)
    a = xp.where(region, a, xp.full_like(a, 4.0))
    x = xp.where(region, x, xp.full_like(x, 3.672060748850896))
    return _on_region(bk, region, lambda a, x: gamma_quantile_d2(bk, a, x), a, x)


def _gamma_inverse_da_jvp(primals, tangents, *, order, lower):
    a, y, x, xa, region = primals
    ta, ty, _, t_xa, _ = tangents  # (x and dx/da: functions of a and y, not used)
    out = gamma_inverse_da(a, y, x, xa, region, order=order, lower=lower)
    if ta is None and ty is None:
        return out, (t_xa if order == 1 else None)
    d = None
    if order == 1 and ta is not None:  # (d2x/da2: stand-ins outside the region in its impl)
        d = mul(ta, gamma_inverse_da(a, y, x, xa, region, order=2, lower=lower))
    if order == 1 and ty is None:
        return out, select(region, d, full_like(d, 0.0) if t_xa is None else t_xa)
    # (stand-ins outside the region: a root of 1/2 at a = 4)
    a, x = select(region, a, 4.0), select(region, x, 3.672060748850896)
    xa = select(region, xa, 1.0)
    slope_y = _inverse_gamma_slope(a, x)
    slope_y = slope_y if lower else neg(slope_y)
    w = sub(log(x), digamma(a))
    c = sub(div(sub(a, 1.0), x), 1.0)
    g = add(w, mul(c, xa))
    xay = neg(mul(g, slope_y))  # d2x/dady
    if order == 1:
        d = mul(ty, xay) if d is None else add(d, mul(ty, xay))
        return out, select(region, d, full_like(d, 0.0) if t_xa is None else t_xa)
    # the third derivatives, from d3/da3 P(a, x(a)) = 0 (P_ax / P_x = w, P_xx / P_x = c,
    # P_aax / P_x = w^2 - trigamma(a), P_axx / P_x = c w + 1/x, P_xxx / P_x = c^2 - (a-1)/x^2)
    xaa = select(region, out, 0.0)
    aax = sub(mul(w, w), polygamma(a, n=1))
    axx = add(mul(c, w), div(1.0, x))
    xxx = sub(mul(c, c), div(sub(a, 1.0), mul(x, x)))
    if ta is not None:
        inner = add(add(mul(aax, 3.0), mul(mul(axx, xa), 3.0)), mul(mul(xxx, xa), xa))
        inner = mul(inner, xa)
        third = add(mul(gammainc_da(a, x, n=3), _inverse_gamma_slope(a, x)), inner)
        third = neg(add(third, mul(mul(g, xaa), 3.0)))
        d = mul(ta, third)
    if ty is not None:
        inner = add(add(aax, mul(mul(axx, xa), 2.0)), mul(mul(xxx, xa), xa))
        mixed = neg(add(mul(slope_y, add(inner, mul(c, xaa))), mul(mul(g, xay), 2.0)))
        d = mul(ty, mixed) if d is None else add(d, mul(ty, mixed))
    return out, select(region, d, full_like(d, 0.0))


# gamma_inverse_da(a, y, x, xa, region, order=, lower=): with order=1, dx/da of the root x
# of P(a, .) = y (lower; Q's otherwise), its value xa given, whose derivatives are
# gamma_inverse_da(order=2) in a and -(w + c xa) dx/dy in y inside the mask region (xa's
# own tangent outside); with order=2, d2x/da2 (gamma_quantile_d2) inside, 0 outside, its
# derivatives the implicit form's third. x: the root (a start only, as gamma_inv_eta's).
gamma_inverse_da_p = elementwise("gamma_inverse_da", _gamma_inverse_da_impl,
                                 _gamma_inverse_da_jvp,
                                 abstract_eval=lambda a, y, x, xa, region, **_:
                                 _array_aval(a, y, x, xa))


def gamma_inverse_da(a, y, x, xa, region, *, order, lower):
    return gamma_inverse_da_p.bind(a, y, x, xa, region, order=order, lower=lower)


def _gamma_low_region(a, y):
    """incomplete_grads.gamma_quantile_low_region with primitives."""
    from ..backends.incomplete_grads import _QUANTILE_DD_MIN_A, _QUANTILE_MIN_A, _QUANTILE_Y
    r = logical_and(ge(y, _QUANTILE_Y[0]), le(y, _QUANTILE_Y[1]))
    return logical_and(r, logical_and(ge(a, _QUANTILE_DD_MIN_A), lt(a, _QUANTILE_MIN_A)))


def _all_concrete(*operands):
    """Whether every operand is a plain array of a backend (no transform's tracer: nothing
    differentiates a value computed from them)."""
    from ..backends import _by_type
    return all(type(v) in _by_type for v in operands)


def _gamma_low_none(a, y):
    """Whether no element is in gamma_quantile_low_region, known from concrete arrays
    (False for tracers)."""
    from ..backends import _by_type
    from ..backends.incomplete_grads import _any_true, gamma_quantile_low_region
    bk = _by_type.get(type(y))
    if bk is None or _by_type.get(type(a)) is not bk:
        return False
    return not _any_true(bk, gamma_quantile_low_region(a, y))


def _temme_eta_region(a, y, x):
    """incomplete_grads.temme_eta_region with primitives (a >= 50, |x / a - 1| <= 0.3,
    0 < y < 1)."""
    from ..backends.generic import _TEMME_MAX_MU
    from ..backends.incomplete_grads import _TEMME_DA_MIN_A
    r = ge(a, _TEMME_DA_MIN_A)
    r = logical_and(r, ge(x, mul(1.0 - _TEMME_MAX_MU, a)))
    r = logical_and(r, le(x, mul(1.0 + _TEMME_MAX_MU, a)))
    return logical_and(logical_and(r, gt(y, 0.0)), lt(y, 1.0))


gammaincinv_p = _last_operand_primitive("gammaincinv", ("a",),
                                        lambda a, y, x: _inverse_gamma_slope(a, x),
                                        shape_tangent=_gamma_inverse_shape_tangent(True),
                                        refine=_gamma_inverse_refine(True))
gammainccinv_p = _last_operand_primitive("gammainccinv", ("a",),
                                         lambda a, y, x: _inverse_gamma_slope(a, x),
                                         negate=True,
                                         shape_tangent=_gamma_inverse_shape_tangent(False),
                                         refine=_gamma_inverse_refine(False))


def _beta_inverse_shape_tangent(primals, x, shape_tangents):
    """dx/da = -(dI/da) / (dI/dx) and dx/db = -(dI/db) / (dI/dx) at the result x."""
    a, b = primals[0], primals[1]
    # (each dI/da times the slope first, then the tangent: the slope alone, up to 1e300 in
    # the far tails, overflowed a cotangent in reverse mode where dx/da itself is finite)
    slope = neg(_inverse_beta_slope(a, b, x))
    ta, tb = shape_tangents
    d = None
    if ta is not None:
        d = mul(ta, mul(betainc_dab(a, b, x, i=1, j=0), slope))
    if tb is not None:
        db = mul(tb, mul(betainc_dab(a, b, x, i=0, j=1), slope))
        d = db if d is None else add(d, db)
    return d


betaincinv_p = _last_operand_primitive("betaincinv", ("a", "b"),
                                       lambda a, b, y, x: _inverse_beta_slope(a, b, x),
                                       shape_tangent=_beta_inverse_shape_tangent)

# -- special14: erfcx, Bessel functions i0, i0e, i1, i1e, exponential integrals, dawsn, zeta ----
# Each through the backend extra of its name (SciPy on NumPy, torch.special where it has the
# function, cupyx on CuPy, functrans.backends.special_generic elsewhere); the derivatives are
# closed forms written with these primitives, so that they differentiate again:
# erfcx' = 2 x erfcx - 2/sqrt(pi), i0' = i1, i0e' = i1e - sign(x) i0e, i1' = i0 - i1/x,
# i1e' = i0e - sign(x) i1e - i1e/x, exp1' = -exp(-x)/x, expi' = exp(x)/x,
# expn(n)' = -expn(n - 1) (expn(0) = exp(-x)/x), dawsn' = 1 - 2 x dawsn, and the Hurwitz
# zeta function's derivative in q, -s zeta(s + 1, q); its derivative in s is a series (see
# _zeta_ds); the Riemann zeta function's, that series and the reflection formula (see
# _riemann_zeta_ds).

_TWO_OVER_SQRT_PI_ = 2.0 / math.sqrt(math.pi)
# i1(x)/x = sum_k (x^2/4)^k / (2 k! (k+1)!): its Taylor coefficients in x^2, for |x| < 1e-2
_I1_OVER_X = tuple(0.25 ** k / (2.0 * math.factorial(k) * math.factorial(k + 1))
                   for k in range(6))


def _i1_over_x(x, value, scaled):
    """``i1(x) / x`` (``i1e(x) / x`` with ``scaled``; ``value`` is i1 or i1e at x), by its
    Taylor polynomial near 0, so that it and its derivatives are right at x = 0 too."""
    small = lt(abs_(x), 1e-2)
    xs = select(small, x, 0.0)
    x2 = mul(xs, xs)
    poly = _I1_OVER_X[-1]
    for c in reversed(_I1_OVER_X[:-1]):
        poly = add(mul(poly, x2), c)
    if scaled:
        poly = mul(poly, exp(neg(abs_(xs))))
    xl = select(small, 1.0, x)
    return select(small, poly, div(value, xl))


# erfcx's derivatives: erfcx' = 2 x erfcx - 2/sqrt(pi), erfcx^(k) = 2 x erfcx^(k-1) + 2 (k-1)
# erfcx^(k-2), cancel for x > 0, relative eps 2 x^2 for the first, ~x^(2k) for the k-th (the
# slope's sign wrong from x ~ 1e8, where the true slope is -1 / (sqrt(pi) x^2); 1000 ulp at
# x = 18, the third derivative 1.6e-8 relative). From x = 20 they come from erfcx's asymptotic
# series, on [0.5, 20) from Taylor polynomials about a grid (see _erfcx_band_table), below 0.5
# (within 2 ulp there; no cancellation for x < 0) the recursion.
_ERFCX_FAR = 20.0
_ERFCX_FAR_COEFS = {}


def _erfcx_far_coefs(n):
    """The series of the n-th derivative of erfcx: (-1)^n / sqrt(pi) x^-(n+1) sum_k c_k w^k,
    w = 1 / x^2, with c_k = a_k (2k+1)(2k+2)...(2k+n), erfcx ~ sum_k a_k x^-(2k+1) / sqrt(pi)
    (a_k = (-1)^k (2k-1)!! / 2^k); as many terms as reach 2^-56 of the first at x = 20 (the
    series is enveloping: its error is below the first term left out)."""
    coefs = _ERFCX_FAR_COEFS.get(n)
    if coefs is None:
        coefs, k = [], 0
        while True:
            a = (-1.0) ** k * math.prod(range(1, 2 * k, 2)) / 2.0 ** k
            c = a * math.prod(range(2 * k + 1, 2 * k + 1 + n))
            if coefs and abs(c) * _ERFCX_FAR ** (-2 * k) < abs(coefs[0]) * 2.0 ** -56:
                break
            coefs.append(c)
            k += 1
        coefs = _ERFCX_FAR_COEFS[n] = tuple(coefs)
    return coefs


def _inverse_square_series(coefs, xf, n):
    """``sum_k coefs[k] w**k`` with ``w = 1 / xf**2``, times ``xf**-(n+1)`` (the far-tail
    series of erfcx's and dawsn's n-th derivatives)."""
    w = 1.0 / (xf * xf)
    s = coefs[-1]
    for c in reversed(coefs[:-1]):
        s = s * w + c
    for _ in range((n + 1) // 2):   # x^-(n+1): a power of w, over x where n is even
        s = s * w
    if n % 2 == 0:
        s = s / xf
    return s


def _erfcx_far(xp, x, n):
    xf = xp.maximum(x, _ERFCX_FAR)   # (the other elements: a finite stand-in)
    s = _inverse_square_series(_erfcx_far_coefs(n), xf, n)
    return s * ((-1.0) ** n / math.sqrt(math.pi))


# On [0.5, 20) the n-th derivative is the Taylor polynomial of d_n = erfcx^(n) about the
# nearest x0 of the grid 0.5 + k/8 (|h| <= 1/16): d_n(x0 + h) = sum_j d_(n+j)(x0) h^j / j!, whose
# terms fall by 1/16 or faster (d_(m+1) / d_m is 2 (m+1) / (x0 + sqrt(x0^2 + 2 m + 2)) or less
# in size): 13..16 terms for n = 1..24, within 1 ulp (mpmath). The d_m(x0) come from
# E_m = exp(x0^2) i^m erfc(x0) (the repeated integrals of erfc), d_m = (-2)^m m! E_m, by the
# backward recurrence E_(m-2) = 2 x0 E_(m-1) + 2 m E_m (stable for the decreasing E_m; started
# far enough up for 1e-24, normalised by E_(-1) = 2/sqrt(pi)) in 40-digit decimals, once, at
# the first use (~70 ms). Derivatives beyond the 24th keep the recursion.
_ERFCX_BAND_LO = 0.5
_ERFCX_BAND_STEP = 0.125
_ERFCX_BAND_POINTS = 157          # x0 = 0.5, 0.625, ..., 20
_ERFCX_BAND_ORDERS = 44           # E_m kept for m < 44
_ERFCX_BAND_MAX_N = 24
_PI_50 = "3.14159265358979323846264338327950288419716939937511"
_erfcx_band_e = None
_ERFCX_BAND_TABLES = {}


def _erfcx_band_scaled():
    """E_m(x0) = exp(x0^2) i^m erfc(x0) (decimals) for the grid's x0 and m < 44."""
    global _erfcx_band_e
    if _erfcx_band_e is None:
        import decimal
        dec = decimal.Decimal
        ctx = decimal.Context(prec=40)
        two_over_sqrt_pi = ctx.divide(dec(2), ctx.sqrt(dec(_PI_50)))
        rows = []
        for g in range(_ERFCX_BAND_POINTS):
            x0 = _ERFCX_BAND_LO + g * _ERFCX_BAND_STEP
            two_x = dec(2 * x0)
            # (the minimal solution's share falls like exp(-2 x0 sqrt(2 m)) going down)
            top = int((25.0 / x0) ** 2) + 80 + _ERFCX_BAND_ORDERS
            e_above, e = dec(0), dec(1)     # E_(top+1), E_top, up to a common factor
            kept = [None] * _ERFCX_BAND_ORDERS
            for k in range(top + 1, 0, -1):
                e_above, e = e, ctx.add(ctx.multiply(two_x, e), ctx.multiply(dec(2 * k), e_above))
                if 0 <= k - 2 < _ERFCX_BAND_ORDERS:
                    kept[k - 2] = e
            scale = ctx.divide(two_over_sqrt_pi, e)   # (e is now E_(-1))
            rows.append([ctx.multiply(v, scale) for v in kept])
        _erfcx_band_e = rows
    return _erfcx_band_e


def _erfcx_band_table(n):
    """The Taylor coefficients d_(n+j)(x0) / j! of erfcx^(n) (float64), one column per grid
    point x0, as many rows j as reach 2^-60 of the first at |h| = 1/16."""
    table = _ERFCX_BAND_TABLES.get(n)
    if table is None:
        import decimal
        ctx = decimal.Context(prec=40)
        rows = _erfcx_band_scaled()
        full = _np.array([[float(ctx.multiply(
            decimal.Decimal((-2) ** (n + j) * math.factorial(n + j) // math.factorial(j)),
            row[n + j])) for j in range(_ERFCX_BAND_ORDERS - n)] for row in rows])
        size = abs(full)
        h, k = _ERFCX_BAND_STEP / 2, 1
        while k < full.shape[1] and _np.max(size[:, k] / size[:, 0]) * h ** k > 2.0 ** -60:
            k += 1
        table = _ERFCX_BAND_TABLES[n] = _np.ascontiguousarray(full[:, :k].T)
    return table


def _erfcx_band(xp, x, table, lo=_ERFCX_BAND_LO, step=_ERFCX_BAND_STEP):
    """The Taylor polynomial of the table's row nearest x (x in [0.5, 20), any shape; the
    table transposed: one row per power of h). Also dawsn's (its grid's lo and step)."""
    idx = xp.astype(xp.round((x - lo) * (1.0 / step)), xp.int64)
    # (x0 = 0.5 + idx / 8 and x - x0 exact: x0 / 2 <= x <= 2 x0)
    h = x - (xp.astype(idx, x.dtype) * step + lo)
    shape = x.shape
    h = xp.reshape(h, (-1,))
    c = xp.take(table, xp.reshape(idx, (-1,)), axis=1)
    s = c[-1, ...]
    for j in range(table.shape[0] - 2, -1, -1):
        s = s * h + c[j, ...]
    return xp.reshape(s, shape)


def _erfcx_band_numpy(x, table, lo=_ERFCX_BAND_LO, step=_ERFCX_BAND_STEP):
    # (_erfcx_band in place, for a 1-d NumPy x)
    idx = _np.rint((x - lo) * (1.0 / step)).astype(_np.int64)
    h = x - (idx * step + lo).astype(x.dtype, copy=False)
    c = _np.take(table, idx, axis=1)
    s = c[-1]
    for j in range(table.shape[0] - 2, -1, -1):
        s *= h
        s += c[j]
    return s


def _erfcx_deriv_impl(b, x, y, *, n):
    # the recursion from y = erfcx(x); the series only where some x is that large (one host
    # read: the series costs more than the rest together), the Taylor polynomials likewise
    d = y * (x + x) - _TWO_OVER_SQRT_PI_
    lower = y
    for k in range(2, n + 1):
        lower, d = d, d * (x + x) + lower * (2.0 * (k - 1))
    xp = b.xp
    if _may_reach(b, x, _ERFCX_FAR):
        d = xp.where(x >= _ERFCX_FAR, _erfcx_far(xp, x, n), d)
    if n > _ERFCX_BAND_MAX_N:
        return d
    if isinstance(x, (_np.ndarray, _np.generic)):
        # (NumPy: the polynomials only for the elements in the band)
        band = (x >= _ERFCX_BAND_LO) & (x < _ERFCX_FAR)
        if not band.any():
            return d
        table = _erfcx_band_table(n).astype(x.dtype, copy=False)
        d = _np.array(d, copy=True)
        d[band] = _erfcx_band_numpy(_np.asarray(x)[band], table)
        return d
    band = (x >= _ERFCX_BAND_LO) & (x < _ERFCX_FAR)
    return xp.where(band, erfcx_band(xp, xp.where(band, x, _ERFCX_BAND_LO), n), d)


_ERFCX_BAND_ON_DEVICE = {}


def erfcx_band(xp, x, n=0):
    """The n-th derivative of erfcx (n = 0: erfcx itself, within about an ulp) by the Taylor
    polynomials, for an array x of namespace xp with every element in [0.5, 20); also for
    the generic erfc and erfcx on [0.5, 1.5), where 1 - erf cancels."""
    key = (n, type(x), x.device, x.dtype)
    table = _ERFCX_BAND_ON_DEVICE.get(key)
    if table is None:   # (kept per device and dtype: a copy from the host on each call else)
        table = _ERFCX_BAND_ON_DEVICE[key] = xp.astype(
            xp.asarray(_erfcx_band_table(n), device=x.device), x.dtype)
    return _erfcx_band(xp, x, table)


def _may_reach(b, x, bound):
    """Whether an element of x may be >= bound (nan counts as may). Read only from NumPy arrays:
    elsewhere (a GPU's memory) the read would wait for the device, so the answer is yes."""
    if isinstance(x, (_np.ndarray, _np.generic)):   # (the method: a third of the namespace's)
        return not x.max(initial=-_np.inf) < bound
    return True


def _erfcx_deriv_jvp(primals, tangents, *, n):
    # y is erfcx(x) (erfcx's rule binds it so): the derivative in x along erfcx, the next one
    x, y = primals
    return (erfcx_deriv_p.bind(x, y, n=n),
            mul(tangents[0], erfcx_deriv_p.bind(x, y, n=n + 1)))


# erfcx_deriv(x, erfcx(x), n=n): the n-th derivative of erfcx at x (n >= 1), given its value;
# differentiated (in x, along erfcx: y's own tangent is that of erfcx(x)), the next one.
erfcx_deriv_p = elementwise("erfcx_deriv", _erfcx_deriv_impl, _erfcx_deriv_jvp)
def _erfcx_impl(b, x):
    erfcx = b.extra("erfcx")
    if isinstance(x, _np.ndarray) and x.dtype == _np.float64 and x.ndim:
        # (NumPy: the elements below -1 and those with |x| < 1/2 by their indices; SciPy's
        # erfcx once, of a copy: -x below -1, 1 where the polynomial replaces it (its cheap
        # case: its random cases cost 25 ns an element, the polynomial 10))
        small = _np.abs(x) < _ERFCX_SMALL   # (nan elements: SciPy's)
        below = x < _ERFCX_NEGATIVE
        any_small, any_below = small.any(), below.any()   # (each stops at the first)
        if not (any_small or any_below):
            return erfcx(x)
        w = _np.array(x, dtype=_np.float64, order="C")   # (np.where's random mask: 5x)
        wf = w.reshape(-1)
        if any_small:
            si = _np.flatnonzero(small)
            ys = _erfcx_small_numpy(wf.take(si))
            wf[si] = 1.0
        if any_below:
            bi = _np.flatnonzero(below)
            xb = wf.take(bi)
            wf[bi] = -xb
        y = erfcx(w, out=w) if isinstance(erfcx, _np.ufunc) else erfcx(w)
        yf = y.reshape(-1)
        if any_small:
            yf[si] = ys
        if any_below:
            v = exp_c_square_numpy(xb, 1.0, 2.0)
            v -= yf.take(bi)
            yf[bi] = v
        return y
    if isinstance(x, (_np.ndarray, _np.generic)) and x.dtype == _np.float64:
        v = float(x)   # (0-d, a NumPy scalar: read; in Python floats, the array form's
        if abs(v) < _ERFCX_SMALL:   # operations and value)
            return _np.float64(_erfcx_small(v))
        if not v < _ERFCX_NEGATIVE:   # (nan too)
            return erfcx(x)
        return _np.float64(exp_c_square_scalar(v, 1.0, 2.0) - float(erfcx(-v)))
    if b.dtype(x).name != "float64":   # (float32: x^2's rounding far below an ulp, and the
        return erfcx(x)                # libraries' error near 0)
    xp = b.xp
    if not _on_host(x):   # (a device's: read-free, throughout)
        pos = erfcx(xp.abs(x))
        y = xp.where(x < 0.0, exp_c_square(xp, x, 1.0, 2.0) - pos, pos)
        small = xp.abs(x) < _ERFCX_SMALL
        return xp.where(small, _erfcx_small(xp.where(small, x, xp.zeros_like(x))), y)
    small = xp.abs(x) < _ERFCX_SMALL
    if not _reaches(xp, -x, -_ERFCX_NEGATIVE):
        y = erfcx(x)
    else:
        below = x < _ERFCX_NEGATIVE
        y = erfcx(xp.where(below, -x, x))
        if hasattr(x, "index_copy_"):   # (torch: by indices, a third of a boolean mask's cost)
            idx = below.reshape(-1).nonzero().squeeze(1)
            flat = y.reshape(-1)
            v = exp_c_square(xp, x.reshape(-1).index_select(0, idx), 1.0, 2.0)
            y = flat.index_copy_(0, idx, v - flat.index_select(0, idx)).reshape(x.shape)
        else:
            y[below] = exp_c_square(xp, x[below], 1.0, 2.0) - y[below]
    if not _reaches(xp, xp.astype(small, xp.float64), 1.0):   # (one look: none small)
        return y
    if hasattr(x, "index_copy_"):
        idx = small.reshape(-1).nonzero().squeeze(1)
        return y.reshape(-1).index_copy_(
            0, idx, _erfcx_small(x.reshape(-1).index_select(0, idx))).reshape(x.shape)
    y[small] = _erfcx_small(x[small])
    return y


def _erfcx_small(x):
    """erfcx(x) for |x| < 1/2 (an array or a Python float) as 1 + x R(x), R = (erfcx(x) - 1)
    / x = sum_n (-1)^n x^(n-1) / Gamma(n/2 + 1) by a polynomial of degree 18 (interpolated at
    19 Chebyshev points of [-1/2, 1/2] with mpmath at 60 digits; truncation 1.3e-18): within
    1.3 ulp (mpmath, 7500 points), where SciPy's and torch's erfcx (Faddeeva's Chebyshev
    tables) are up to 8 ulp off on (0, 0.1) and the generic one 3.2 on [0.25, 0.5)."""
    s = x * _ERFCX_SMALL_COEFFS[0] + _ERFCX_SMALL_COEFFS[1]
    for c in _ERFCX_SMALL_COEFFS[2:]:
        s = s * x + c
    return s * x + 1.0


def _erfcx_small_numpy(x):
    """:func:`_erfcx_small` of a float64 NumPy array, in place on its temporaries (the
    same operations, the same values)."""
    s = x * _ERFCX_SMALL_COEFFS[0]
    s += _ERFCX_SMALL_COEFFS[1]
    for c in _ERFCX_SMALL_COEFFS[2:]:
        s *= x
        s += c
    s *= x
    s += 1.0
    return s


_ERFCX_SMALL = 0.5
_ERFCX_SMALL_COEFFS = (   # (highest power first)
    -9.88414339130774e-07, 3.104349852744498e-06, -8.328703172264254e-06,
    2.462368001458084e-05, -7.12683772317426e-05, 0.00019846183277606483,
    -0.0005343984695148826, 0.0013888808582485307, -0.0034736061419183006,
    0.008333334124939118, -0.01910483244486342, 0.0416666666208882, -0.08597174606485491,
    0.16666666666809946, -0.3009011112254638, 0.4999999999999796, -0.7522527780636751, 1.0,
    -1.1283791670955126,
)


# erfcx(x) below -1 as 2 exp(x^2) - erfcx(-x) with x^2 exact (exp_c_square): SciPy's and torch's
# take exp of the rounded x^2, x^2 eps / 2 relative off (30 ulp at -5.765, 1e3 near -26);
# the subtraction cancels by at most 1.2 there (erfcx(1) = 0.43 beside 2 e)
_ERFCX_NEGATIVE = -1.0
erfcx_p = unary("erfcx", _erfcx_impl,
                lambda t, x, y: mul(t, erfcx_deriv_p.bind(x, y, n=1)))


def _log_ndtr_lower_impl(b, x):
    if type(x) is _np.ndarray and x.dtype == _np.float64:
        # (NumPy: in place, the same bits; norm.logcdf's temporaries, session 54)
        erfcx = b.extra("erfcx")
        e = _np.multiply(x, -_SQRT1_2)
        e = erfcx(e, out=e) if isinstance(erfcx, _np.ufunc) else _np.asarray(erfcx(e))
        e *= 0.5
        # (erfcx is 0 only at x = -inf, where -x^2 / 2 gives the -inf: a floor for the log,
        # whose 'divide by zero' warned under jit; every finite x's erfcx / 2 is above it)
        _np.maximum(e, _LOG_NDTR_LOWER_FLOOR, out=e)
        _np.log(e, out=e)
        sq = _np.multiply(x, x)
        sq *= 0.5
        e -= sq
        return e
    xp = b.xp
    return (xp.log(xp.maximum(b.extra("erfcx")(x * -_SQRT1_2) * 0.5, _LOG_NDTR_LOWER_FLOOR))
            - (x * x) * 0.5)


_LOG_NDTR_LOWER_FLOOR = 1e-310   # (erfcx(t) / 2 >= 1 / (2 sqrt(pi) (t + 1)): 2.1e-309 at 1.3e308)


# log_ndtr_lower(x) = log(ndtr(x)) = log(erfcx(-x/sqrt 2) / 2) - x^2 / 2, the lower tail of
# log_ndtr (x < -1: two negative terms, within 2 ulp). Its slope phi(x) / ndtr(x) is
# sqrt(2/pi) / erfcx(-x/sqrt 2): one erfcx and a division, no cancellation (through log(ndtr(x))
# it was the density over an ndtr whose rounded x/sqrt(2) costs x^2/2 ulp: 256 at -19.25; by
# the chain rule through erfcx, -x + (-1/sqrt 2) erfcx'/erfcx, it took erfcx's derivative).
# Below _LOG_NDTR_SLOPE_FAR the slope is -x (-x - 1/x, the 1/x term under half an ulp; its
# derivative -1, the second derivative's limit): at x = -inf the quotient was sqrt(2/pi) / 0,
# the right inf with a 'divide by zero' warning, and its derivative 0 / 0 (nan, 'invalid').
# The quotient's x is held at the bound there, so neither branch sees an infinity.
_LOG_NDTR_SLOPE_FAR = -1e8


def _log_ndtr_lower_tangent(t, x, y):
    far = lt(x, _LOG_NDTR_SLOPE_FAR)
    near = div(_SQRT_2_OVER_PI, erfcx(mul(maximum(x, _LOG_NDTR_SLOPE_FAR), -_SQRT1_2)))
    return mul(t, select(far, neg(x), near))


log_ndtr_lower_p = unary("log_ndtr_lower", _log_ndtr_lower_impl, _log_ndtr_lower_tangent)
# The slopes of the scaled Bessel functions differ two of them that agree to about 1/(2|x|):
# i0e' = i1e - sign(x) i0e, and so k0e' = k0e - k1e, i1e' and k1e' (with the i1e/x, k1e/x
# terms): as such 2|x| eps relative off (i0e'(1e3) 2000 ulp, 0 at 1e22 for -1.7e-34, i1e' at
# 3e38 twice the true -3.9e-59). From |x| = 30 (SciPy's own below: 60 ulp at most) the
# asymptotic series of the difference itself, from DLMF 10.40.1/2's a_k(nu) = prod_{j<=k}
# (4 nu^2 - (2j - 1)^2) / (k! 8^k): I_nu e^-t ~ (2 pi t)^-1/2 sum (-1)^k a_k(nu) t^-k, K_nu e^t
# ~ (pi / (2t))^1/2 sum a_k(nu) t^-k, 24 terms (the last about 1e-19 of the first at 30; the
# series' own limit there e^-60), each slope's coefficients combined exactly (fractions).
_BESSEL_E_FAR = 30.0
_BESSEL_E_TERMS = 24


def _bessel_e_coeffs(kind):
    from fractions import Fraction

    def a(k, nu):
        num = 1
        for j in range(1, k + 1):
            num *= 4 * nu * nu - (2 * j - 1) ** 2
        return Fraction(num, math.factorial(k) * 8 ** k)
    out = []
    for k in range(1, _BESSEL_E_TERMS + 1):
        alt, alt1 = (-1) ** k, (-1) ** (k - 1)
        d = {"i0e": alt * (a(k, 1) - a(k, 0)),
             "i1e": alt * (a(k, 0) - a(k, 1)) - alt1 * a(k - 1, 1),
             "k0e": a(k, 0) - a(k, 1),
             "k1e": (a(k, 1) - a(k, 0)) - a(k - 1, 1)}[kind]
        out.append(float(d))
    return tuple(out)


_BESSEL_E_COEFFS = {kind: _bessel_e_coeffs(kind) for kind in ("i0e", "i1e", "k0e", "k1e")}


def _bessel_e_slope(kind, x, near):
    """The slope of i0e/i1e/k0e/k1e at x: ``near`` (the closed form) below |x| = 30, the
    asymptotic series of the difference from there (see above)."""
    t = abs_(x)
    far = ge(t, _BESSEL_E_FAR)
    tf = select(far, t, _BESSEL_E_FAR)
    u = div(1.0, tf)
    coeffs = _BESSEL_E_COEFFS[kind]
    s = coeffs[-1]
    for c in reversed(coeffs[:-1]):
        s = add(mul(s, u), c)
    s = mul(s, u)
    if kind[0] == "i":
        s = div(s, sqrt(mul(tf, 2.0 * math.pi)))
        if kind == "i0e":   # (odd in x)
            s = mul(s, sign(x))
    else:
        s = mul(s, sqrt(div(0.5 * math.pi, tf)))
    return select(far, s, near)


i0_p = unary("i0", _via_extra("i0"), lambda t, x, y: mul(t, i1(x)))
i0e_p = unary("i0e", _via_extra("i0e"), lambda t, x, y: mul(t, _bessel_e_slope(
    "i0e", x, sub(i1e(x), mul(sign(x), y)))))
i1_p = unary("i1", _via_extra("i1"),
             lambda t, x, y: mul(t, sub(i0(x), _i1_over_x(x, y, False))))
i1e_p = unary("i1e", _via_extra("i1e"),
              lambda t, x, y: mul(t, _bessel_e_slope("i1e", x, sub(
                  sub(i0e(x), mul(sign(x), y)), _i1_over_x(x, y, True)))))
exp1_p = unary("exp1", _via_extra("exp1"), lambda t, x, y: mul(t, neg(div(exp(neg(x)), x))))
def _expi_impl(b, x):
    y = b.extra("expi")(x)
    if isinstance(x, _np.ndarray) and x.dtype == _np.float64 and x.ndim:
        # (NumPy: the elements near the root by their indices)
        xf = _np.asarray(x).reshape(-1)
        idx = _np.flatnonzero((xf >= _EXPI_ROOT_BAND[0]) & (xf <= _EXPI_ROOT_BAND[1]))
        if len(idx):
            y = _np.array(y, dtype=_np.float64, order="C")
            y.reshape(-1)[idx] = _expi_near_root(xf.take(idx))
        return y
    if isinstance(x, (_np.ndarray, _np.generic)) and x.dtype == _np.float64:
        v = float(x)   # (0-d, a NumPy scalar: read; in Python floats, the same value)
        if _EXPI_ROOT_BAND[0] <= v <= _EXPI_ROOT_BAND[1]:
            return _np.float64(_expi_near_root(v))
        return y
    if b.dtype(x).name != "float64":   # (float32: the libraries' absolute error far below
        return y                       # its ulp but near the root itself)
    xp = b.xp
    near = (x >= _EXPI_ROOT_BAND[0]) & (x <= _EXPI_ROOT_BAND[1])
    if _on_host(x):
        if not _reaches(xp, xp.astype(near, xp.float64), 1.0):   # (one look: none near)
            return y
        if hasattr(x, "index_copy_"):   # (torch: by indices)
            idx = near.reshape(-1).nonzero().squeeze(1)
            return y.reshape(-1).index_copy_(
                0, idx, _expi_near_root(x.reshape(-1).index_select(0, idx))).reshape(x.shape)
    # (a device's: read-free, throughout)
    return xp.where(near, _expi_near_root(xp.where(near, x, xp.full_like(x, 0.38))), y)


def _expi_near_root(x):
    """Ei(x) on [0.28, 0.48] (an array or a Python float) as (x - x0) Q(x), x0 = 0.3725...
    Ei's positive root in two parts (x - the first exact there), Q = Ei(x) / (x - x0) a
    polynomial of degree 18 in x - 0.38 (interpolated at 19 Chebyshev points with mpmath at
    60 digits; truncation 2e-18): within 1.8 ulp (mpmath), where the libraries' series
    gamma + log x + sum x^k / (k k!), whose terms are near 1, is about 1e-16 absolute off: 12
    to 20 ulp on (0.3, 0.35) and (0.4, 0.45), 2000 on (0.35, 0.4), 8e15 at the float64
    nearest the root (SciPy's, torch's and the generic one alike)."""
    u = x - 0.38
    s = u * _EXPI_ROOT_COEFFS[0] + _EXPI_ROOT_COEFFS[1]
    for c in _EXPI_ROOT_COEFFS[2:]:
        s = s * u + c
    return ((x - _EXPI_ROOT_HI) - _EXPI_ROOT_LO) * s


_EXPI_ROOT_BAND = (0.28, 0.48)
_EXPI_ROOT_HI = 0.3725074107813666
_EXPI_ROOT_LO = 1.3140183414386028e-17
_EXPI_ROOT_COEFFS = (   # (highest power first)
    7017861.626680456, -2810307.336073117, 795331.6605322623, -321295.79387022514,
    136979.34079746393, -55761.725361896875, 22742.613013502687, -9361.38317650994,
    3880.711971392703, -1621.8913098424164, 684.6719755745786, -292.6321958994774,
    127.05073027644514, -56.305383534789065, 25.66548098341349, -12.16778251506684,
    6.2399835773767345, -3.186007253652824, 3.871988784215587,
)
expi_p = unary("expi", _expi_impl, lambda t, x, y: mul(t, div(exp(x), x)))


# dawsn's derivatives: dawsn' = 1 - 2 x dawsn and dawsn^(k+1) = -2 x dawsn^(k) - 2 k
# dawsn^(k-1), from its value. For large |x|, 2 x dawsn is near 1 and the slope, about
# -1 / (2 x^2), cancels: eps 2 x^2 relative (420 ulp near 8, 1.9e8 at 100, 0 for -5e-17
# from 1e4). From |x| = 8 (larger for the higher orders) they come from dawsn's asymptotic
# series sum_k (2k-1)!! / 2^(k+1) x^-(2k+1) differentiated term by term (within an ulp).
def _dawsn_far_coefs(n):
    """(bound, coefficients): the n-th derivative of dawsn is (-1)^n x^-(n+1) sum_k c_k w^k,
    w = 1 / x^2, c_k = (2k-1)!! / 2^(k+1) (2k+1)(2k+2)...(2k+n), for |x| >= bound: the
    first of 8, 10, 12, ... where the terms fall to 2^-56 of the first before they grow (the
    series is enveloping: its error is below the first term left out)."""
    found = _DAWSN_FAR_COEFS.get(n)
    if found is None:
        bound = 8.0
        while True:
            c = math.factorial(n) / 2.0
            coefs, k, term = [c], 0, 1.0
            while True:
                r = (2 * k + n + 1) * (2 * k + n + 2) / (2.0 * (2 * k + 2))
                if r >= bound * bound:
                    break   # (terms growing before they are small enough: a larger bound)
                c, term, k = c * r, term * r / (bound * bound), k + 1
                if term < 2.0 ** -56:
                    found = _DAWSN_FAR_COEFS[n] = (bound, tuple(coefs))
                    return found
                coefs.append(c)
            bound += 2.0
    return found


_DAWSN_FAR_COEFS = {}


def _dawsn_far(xp, x, n, bound):
    # (the other elements: a finite stand-in; the odd powers keep x's sign)
    xf = xp.where(xp.abs(x) >= bound, x, xp.full_like(x, bound))
    s = _inverse_square_series(_dawsn_far_coefs(n)[1], xf, n)
    return -s if n % 2 else s


# On [1/2, 14) (from 8 to 14 for the orders whose series starts further out) the n-th
# derivative (n <= 24) is the Taylor polynomial about the nearest x0 of the grid 1/2 + k/8 (|h|
# <= 1/16), as erfcx's: through the recursion 1 - 2 x dawsn cancels from x = 0.8 on (2 x dawsn
# near 1, and near 0.92 its root), the higher orders further (each step by about 2 x^2 / n):
# the slope 230 ulp off near 6.5, the second derivative 9800, the third 5.9e5 near 7.7
# (session 43). The grid's dawsn^(m)(x0), m < 44, come from dawsn(x0) = exp(-x0^2) sum_k
# x0^(2k+1) / (k! (2k+1)) (positive terms) and the recursion, in 110-digit decimals (the
# recursion's cancellation costs up to 60 digits at 14), once, at the first use (~60 ms).
_DAWSN_BAND_LO = 0.5
_DAWSN_BAND_STEP = 0.125
_DAWSN_BAND_POINTS = 109          # x0 = 0.5, 0.625, ..., 14
_DAWSN_BAND_HI = _DAWSN_BAND_LO + (_DAWSN_BAND_POINTS - 1) * _DAWSN_BAND_STEP
_DAWSN_BAND_ORDERS = 44
_DAWSN_BAND_MAX_N = 24
# (the recursion is within 2 ulp below 0.7 for the slope, below 1 for the second derivative:
# the polynomials from there, for fewer elements of common inputs)
_DAWSN_BAND_FROM = {1: 0.7, 2: 1.0}
_dawsn_band_d = None
_DAWSN_BAND_TABLES = {}
_DAWSN_BAND_ON_DEVICE = {}


def _dawsn_band_derivs():
    """dawsn^(m)(x0) (decimals) for the grid's x0 and m < 44."""
    global _dawsn_band_d
    if _dawsn_band_d is None:
        import decimal
        dec = decimal.Decimal
        ctx = decimal.Context(prec=110)
        small = dec(10) ** -108
        rows = []
        for g in range(_DAWSN_BAND_POINTS):
            x = dec(_DAWSN_BAND_LO + g * _DAWSN_BAND_STEP)   # (exact: a multiple of 1/8)
            x2 = ctx.multiply(x, x)
            t, total, k = x, x, 0   # t = x^(2k+1) / k!
            while True:
                k += 1
                t = ctx.divide(ctx.multiply(t, x2), dec(k))
                add = ctx.divide(t, dec(2 * k + 1))
                total = ctx.add(total, add)
                if k > x2 and add < ctx.multiply(total, small):
                    break
            d = [ctx.multiply(total, ctx.exp(-x2))]
            d.append(ctx.subtract(dec(1), ctx.multiply(ctx.multiply(dec(2), x), d[0])))
            for m in range(1, _DAWSN_BAND_ORDERS - 1):
                d.append(ctx.subtract(ctx.multiply(ctx.multiply(dec(-2), x), d[m]),
                                      ctx.multiply(dec(2 * m), d[m - 1])))
            rows.append(d)
        _dawsn_band_d = rows
    return _dawsn_band_d


def _dawsn_band_table(n):
    """The Taylor coefficients dawsn^(n+j)(x0) / j! of dawsn^(n) (float64), one column per
    grid point x0, as many rows j as reach 2^-60 of the first at |h| = 1/16 (the first's size
    taken from its neighbours where it is near a root)."""
    table = _DAWSN_BAND_TABLES.get(n)
    if table is None:
        import decimal
        ctx = decimal.Context(prec=40)
        rows = _dawsn_band_derivs()
        full = _np.array([[float(ctx.divide(row[n + j], decimal.Decimal(math.factorial(j))))
                           for j in range(_DAWSN_BAND_ORDERS - n)] for row in rows])
        size = _np.maximum(abs(full[:, 0]), abs(full[:, 1]) * _DAWSN_BAND_STEP)
        h, k = _DAWSN_BAND_STEP / 2, 1
        while k < full.shape[1] and _np.max(abs(full[:, k]) / size) * h ** k > 2.0 ** -60:
            k += 1
        table = _DAWSN_BAND_TABLES[n] = _np.ascontiguousarray(full[:, :k].T)
    return table


def _dawsn_deriv_impl(b, x, y, *, n):
    xp = b.xp
    d = 1.0 - (x + x) * y
    lower = y
    for k in range(1, n):
        lower, d = d, -((x + x) * d) - lower * (2.0 * k)
    bound = _dawsn_far_coefs(n)[0]
    band_lo = _DAWSN_BAND_FROM.get(n, _DAWSN_BAND_LO) if n <= _DAWSN_BAND_MAX_N else bound
    # (the series and the polynomials only where some |x| is that large, read for arrays on
    # the CPU: the series' ~60 passes cost more than the rest together)
    if type(x) is _np.ndarray and x.ndim:   # (NumPy: for those elements only)
        ax = _np.abs(x)
        if ax.max(initial=0.0) < band_lo:   # (a nan maximum: the masks below)
            return d
        if band_lo < bound:
            band = (ax >= band_lo) & (ax < bound)
            if band.any():
                v = _erfcx_band_numpy(ax[band], _dawsn_band_table(n), _DAWSN_BAND_LO,
                                      _DAWSN_BAND_STEP)
                if n % 2 == 0:   # (the even orders are odd functions)
                    _np.negative(v, out=v, where=x[band] < 0)
                d[band] = v
        far = ax >= bound
        if far.any():
            d[far] = _dawsn_far(_np, x[far], n, bound)
        return d
    ax = xp.abs(x)
    if _on_host(x) and not _reaches(xp, ax, band_lo):
        return d
    if band_lo < bound:
        band = (ax >= band_lo) & (ax < bound)
        key = (n, type(x), x.device, x.dtype)
        table = _DAWSN_BAND_ON_DEVICE.get(key)
        if table is None:   # (kept per device and dtype: a copy from the host on each call else)
            table = _DAWSN_BAND_ON_DEVICE[key] = xp.astype(
                xp.asarray(_dawsn_band_table(n), device=x.device), x.dtype)
        v = _erfcx_band(xp, xp.where(band, ax, xp.full_like(ax, band_lo)), table,
                        _DAWSN_BAND_LO, _DAWSN_BAND_STEP)
        if n % 2 == 0:   # (the even orders are odd functions)
            v = xp.where(x < 0, -v, v)
        d = xp.where(band, v, d)
    if _on_host(x) and not _reaches(xp, ax, bound):
        return d
    return xp.where(ax >= bound, _dawsn_far(xp, x, n, bound), d)


def _dawsn_deriv_jvp(primals, tangents, *, n):
    # y is dawsn(x) (dawsn's rule binds it so): the derivative in x along dawsn, the next one
    x, y = primals
    return (dawsn_deriv_p.bind(x, y, n=n),
            mul(tangents[0], dawsn_deriv_p.bind(x, y, n=n + 1)))


# dawsn_deriv(x, dawsn(x), n=n): the n-th derivative of dawsn at x (n >= 1), given its value;
# differentiated (in x, along dawsn), the next one.
dawsn_deriv_p = elementwise("dawsn_deriv", _dawsn_deriv_impl, _dawsn_deriv_jvp)
def _dawsn_impl(b, x):
    dawsn = b.extra("dawsn")
    if isinstance(x, _np.ndarray) and x.dtype == _np.float64 and x.ndim:
        # (NumPy: the elements below 0.2 by their indices, in 10 terms: SciPy's is within 5
        # ulp above; +80 % on standard normal draws from 1/2)
        y = dawsn(x)
        idx = _np.flatnonzero(_np.abs(x) < _DAWSN_SERIES_NUMPY)
        if len(idx):
            _put_flat(y, idx, _dawsn_series(_np, _np.asarray(x).take(idx), 10))
        return y
    if isinstance(x, (_np.ndarray, _np.generic)) and x.dtype == _np.float64:
        v = float(x)
        if not abs(v) < _DAWSN_SERIES_NUMPY:   # (0-d, a NumPy scalar: read; nan too)
            return dawsn(x)
        return _np.float64(_dawsn_series(None, v, 10))   # (Python floats: the same value)
    if b.dtype(x).name != "float64":
        return dawsn(x)
    xp = b.xp   # (elsewhere read-free, throughout: about 30 passes beside dawsn's own)
    small = xp.abs(x) < _DAWSN_SERIES
    return xp.where(small, _dawsn_series(xp, xp.where(small, x, xp.zeros_like(x))), dawsn(x))


def _dawsn_series(xp, x, terms=15):
    coeffs = _DAWSN_COEFFS[-terms:]
    t = x * x
    s = t * coeffs[0] + coeffs[1]
    for c in coeffs[2:]:
        s = s * t + c
    return s * x


# dawsn(x) for |x| < 1/2 by its Maclaurin series x sum_n (-2 x^2)^n / (2n + 1)!! (15 terms:
# the last 1e-19 of the first; ratios below 1/6, within 2 ulp): SciPy's (Cephes's rational
# form, and cupyx's) is up to 84 ulp off on (0.01, 0.05), 12 on (0.05, 0.2), 5 on (0.2, 0.5)
# (the generic one 3 and 4). On NumPy below 0.2 only (10 terms: the last 5e-17 of the first)
_DAWSN_SERIES = 0.5
_DAWSN_SERIES_NUMPY = 0.2
_DAWSN_COEFFS = (   # (-2)^n / (2n + 1)!!, highest n first
    2.6467286009442573e-12,
    -3.8377564713691727e-11,
    5.180971236348383e-10,
    -6.476214045435479e-09,
    7.447646152250801e-08,
    -7.820028459863341e-07,
    7.4290270368701745e-06,
    -6.314672981339648e-05,
    0.0004736004736004736,
    -0.0030784030784030783,
    0.016931216931216932,
    -0.0761904761904762,
    0.26666666666666666,
    -0.6666666666666666,
    1.0,
)
dawsn_p = unary("dawsn", _dawsn_impl,
                lambda t, x, y: mul(t, dawsn_deriv_p.bind(x, y, n=1)))


def _expn_impl(b, x, *, n):
    if n >= 2 ** 31 - 1:
        # (SciPy's and cupyx's order is a C int: 2**40 wrapped to 0, expn(2**40, 1.) was
        # e^-1, true 3.3e-13; 2**31 gave nan)
        from ..backends import special_generic
        return special_generic.expn(b, n, x)
    return b.extra("expn")(n, x)


def _expn_jvp(primals, tangents, *, n):
    x, = primals
    slope = neg(div(exp(neg(x)), x)) if n == 1 else neg(expn(x, n=n - 1))
    return expn(x, n=n), mul(tangents[0], slope)


# expn(x, n=n): the generalized exponential integral E_n(x) for a static Python int n >= 1
# (E_0 = exp(-x)/x is written with exp by the namespace).
expn_p = elementwise("expn", _expn_impl, _expn_jvp, abstract_eval=_array_aval)
expn_p.same_aval = True


def _zeta_jvp(primals, tangents):
    s, q = primals
    ts, tq = tangents
    out = zeta(s, q)
    t = None if tq is None else mul(tq, neg(mul(s, zeta(add(s, 1.0), q))))
    if ts is not None:
        part = mul(ts, _zeta_ds(s, q))
        t = part if t is None else add(t, part)
    return out, t


# d/ds zeta(s, q) = -sum_k log(k + q) (k + q)**-s, by the Euler-Maclaurin formula of zeta
# differentiated in s: with a = q + N,
#   zeta(s, q) = sum_(k<N) (k + q)**-s + a**(1-s) / (s - 1) + a**-s / 2
#                + sum_(j=1..M) B_2j / (2j)! (s)_(2j-1) a**(-s-2j+1)
# ((s)_n the rising factorial), each term differentiated in closed form; N = 10 and M = 10
# leave about 1e-16 relative for s > 1, q > 0. Written with primitives, so that it
# differentiates again (in s and q).
_ZETA_TERMS = 10
_BERNOULLI_OVER_FACTORIAL = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6,
                             -3617 / 510, 43867 / 798, -174611 / 330)
_BERNOULLI_OVER_FACTORIAL = tuple(bn / math.factorial(2 * j + 2)
                                  for j, bn in enumerate(_BERNOULLI_OVER_FACTORIAL))


def _zeta_ds(s, q):
    # outside s > 1, q > 0 (finite) nan (the value is inf or nan there, or, for a negative q
    # with an integer s, real while its derivative in s is not); at q = inf 0; above
    # s = 1000 the value's two terms' derivatives (the value is those two terms there)
    ok = _and(_and(gt(s, 1.0), gt(q, 0.0)), _and(lt(q, math.inf), lt(s, 1e3)))
    huge = _and(_and(gt(q, 0.0), lt(q, math.inf)), _and(gt(s, 1e3), lt(s, math.inf)))
    total = _zeta_ds_series(select(ok, s, 2.0), select(ok, q, 1.0))
    qh, sh = select(huge, q, 1.0), select(huge, s, 2e3)
    l0, l1 = log(qh), log(add(qh, 1.0))
    direct = neg(add(mul(l0, exp(mul(neg(sh), l0))), mul(l1, exp(mul(neg(sh), l1)))))
    nan = add(mul(s, 0.0), math.nan)
    out = select(ok, total, select(huge, direct, nan))
    return select(_and(eq(q, math.inf), gt(s, 1.0)), mul(s, 0.0), out)


def _zeta_ds_series(ss, qs):
    # (the Euler-Maclaurin formula holds for every s != 1: the Riemann function's derivative
    # uses it below s = 1 too, where its first terms' sum does not grow large)
    total = None
    for k in range(_ZETA_TERMS):
        lk = log(add(qs, float(k)))
        term = mul(neg(lk), exp(mul(neg(ss), lk)))
        total = term if total is None else add(total, term)
    a = add(qs, float(_ZETA_TERMS))
    la = log(a)
    a_s = exp(mul(neg(ss), la))  # a**-s
    s1 = sub(ss, 1.0)
    a1s = mul(a, a_s)  # a**(1-s)
    total = add(total, neg(add(div(mul(la, a1s), s1), div(a1s, mul(s1, s1)))))
    total = sub(total, mul(mul(la, a_s), 0.5))
    # (s)_1 and its derivative in s (a product rule, not a log-derivative: s may be 0)
    rising, d_rising, power = ss, add(mul(ss, 0.0), 1.0), div(a_s, a)
    for j, c in enumerate(_BERNOULLI_OVER_FACTORIAL):
        if j:  # (s)_(2j+1) = (s)_(2j-1) (s + 2j - 1)(s + 2j); a**(-s-2j-1)
            for i in (2 * j - 1, 2 * j):
                d_rising = add(mul(d_rising, add(ss, float(i))), rising)
                rising = mul(rising, add(ss, float(i)))
            power = div(power, mul(a, a))
        total = add(total, mul(mul(power, c), sub(d_rising, mul(rising, la))))
    return total


def _and(x, y):
    return select(x, y, x)


# zeta(s, q): the Hurwitz zeta function (s > 1), operands of one shape and dtype.
zeta_p = elementwise("zeta", lambda b, s, q: b.extra("hurwitz_zeta")(s, q), _zeta_jvp)


def _riemann_zeta_jvp(primals, tangents):
    s, = primals
    return riemann_zeta(s), mul(tangents[0], _riemann_zeta_ds(s))


# zeta'(s) of the Riemann function, in three pieces:
# - s > 1: the Hurwitz function's at q = 1;
# - -1/2 < s < 1: the same Euler-Maclaurin series, which holds there too (its first terms'
#   sum, about 20, against values near -0.2 to -1000: about 1e-14 relative);
# - s <= -1/2: the reflection formula zeta(s) = A(s) sin(pi s / 2) zeta(1 - s) with
#   A(s) = 2**s pi**(s-1) Gamma(1 - s), differentiated as a product:
#   zeta'(s) = A [(log(2 pi) - psi(1 - s)) sin(.) zeta(1 - s) + pi/2 cos(.) zeta(1 - s)
#                 - sin(.) zeta'(1 - s)],
#   sin and cos of pi s / 2 taken at s mod 4 (exact), so that they stay accurate for large |s|.
# nan at the pole s = 1 and at -inf and nan (as the value there), 0 at inf. Past s = -170
# A overflows (as the value does about s = -260): inf or nan there.
_LOG_2PI = math.log(2.0 * math.pi)


def _riemann_zeta_ds(s):
    above = gt(s, 1.0)
    middle = _and(gt(s, -0.5), lt(s, 1.0))
    below = le(s, -0.5)
    # each piece on values it holds for (the others' operands replaced: no nan to leak
    # into a derivative through select)
    series = _zeta_ds_series(select(middle, s, 0.5), add(mul(s, 0.0), 1.0))
    sr = select(below, s, -1.0)
    r = sub(sr, mul(floor_p.bind(div(sr, 4.0)), 4.0))  # s mod 4, in [0, 4)
    half_pi_r = mul(r, math.pi / 2.0)
    sin_, cos_ = sin(half_pi_r), cos(half_pi_r)
    one_minus = sub(1.0, sr)
    log_a = add(add(mul(sr, math.log(2.0)), mul(sub(sr, 1.0), math.log(math.pi))),
                lgamma(one_minus))
    z = riemann_zeta(one_minus)
    reflected = mul(exp(log_a), sub(add(mul(mul(sub(_LOG_2PI, digamma(one_minus)), sin_), z),
                                        mul(mul(cos_, z), math.pi / 2.0)),
                                    mul(sin_, _zeta_ds(one_minus, add(mul(s, 0.0), 1.0)))))
    zero = mul(sr, 0.0)  # (sr is finite: s * 0 is nan at s = inf)
    nan = add(zero, math.nan)
    out = select(above, _zeta_ds(s, add(zero, 1.0)),
                 select(middle, series, select(below, reflected, nan)))
    return select(eq(s, math.inf), zero, out)


riemann_zeta_p = elementwise("riemann_zeta", _via_extra("riemann_zeta"), _riemann_zeta_jvp)

# -- special14b: spence, sici, fresnel, owens_t -------------------------------------------------
# Through the backend extras of those names (SciPy on NumPy, cupyx on CuPy where it has them,
# functrans.backends.special_generic elsewhere). sici and fresnel give two results: each is a
# primitive of its own (si, ci, fresnel_s, fresnel_c) taking its part of the extra's pair.
# Derivatives (closed forms in these primitives, so differentiable again):
# spence' = log(z) / (1 - z) (-1 at z = 1), si' = sin(x)/x, ci' = cos(x)/x,
# fresnel_s' = sin(pi x^2/2), fresnel_c' = cos(pi x^2/2), and for Owen's T
# dT/dh = -exp(-h^2/2) erf(h a / sqrt 2) / (2 sqrt(2 pi)),
# dT/da = exp(-h^2 (1 + a^2) / 2) / (2 pi (1 + a^2)).

# -log1p(u)/u = sum_k (-u)^k / (k + 1) (negated): the Taylor coefficients of log(z)/(1 - z) in
# u = z - 1, for |u| < 1/8
_LOG_RATIO = tuple(-((-1.0) ** k) / (k + 1) for k in range(20))
# sin(x)/x = sum_k (-1)^k x^(2k) / (2k+1)!, in x^2, for |x| < 1/4
_SINC = tuple((-1.0) ** k / math.factorial(2 * k + 1) for k in range(9))


def _poly(coefficients, u):
    out = coefficients[-1]
    for c in reversed(coefficients[:-1]):
        out = add(mul(out, u), c)
    return out


def _spence_slope(z):
    u = sub(z, 1.0)
    near = lt(abs_(u), 0.125)
    un = select(near, u, 0.0)
    zf = select(near, 2.0, z)
    return select(near, _poly(_LOG_RATIO, un), div(log(zf), sub(1.0, zf)))


def _sin_over_x(x):
    near = lt(abs_(x), 0.25)
    xn = select(near, x, 0.0)
    xf = select(near, 1.0, x)
    return select(near, _poly(_SINC, mul(xn, xn)), div(sin(xf), xf))


def _half_pi_square(x):
    """pi x^2 / 2 reduced modulo 2 pi (x^2 modulo 4, with the rounding error of x^2 added
    back, carrying no derivative): accurate angles for large x; derivative pi x."""
    from .structural import stop_gradient_p
    h = mul(x, x)
    c = mul(x, 134217729.0)
    hi = sub(c, sub(c, x))
    lo = sub(x, hi)
    low = add(add(sub(mul(hi, hi), h), mul(mul(hi, lo), 2.0)), mul(lo, lo))
    r = sub(h, mul(round_p.bind(mul(h, 0.25)), 4.0))
    return mul(add(r, stop_gradient_p.bind(low)), 0.5 * math.pi)


def _pair_part(name, index):
    def impl(b, x):
        return b.extra(name)(x)[index]
    impl.__name__ = f"{name}_{index}_impl"
    return impl


spence_p = unary("spence", _via_extra("spence"), lambda t, x, y: mul(t, _spence_slope(x)))
si_p = unary("si", _pair_part("sici", 0), lambda t, x, y: mul(t, _sin_over_x(x)))
ci_p = unary("ci", _pair_part("sici", 1), lambda t, x, y: mul(t, div(cos(x), x)))
fresnel_s_p = unary("fresnel_s", _pair_part("fresnel", 0),
                    lambda t, x, y: mul(t, sin(_half_pi_square(x))))
fresnel_c_p = unary("fresnel_c", _pair_part("fresnel", 1),
                    lambda t, x, y: mul(t, cos(_half_pi_square(x))))

_INV_2SQRT_2PI = 1.0 / (2.0 * math.sqrt(2.0 * math.pi))
_SQRT1_2 = math.sqrt(0.5)


def _owens_t_jvp(primals, tangents):
    h, a = primals
    th, ta = tangents
    out = owens_t(h, a)
    d = None
    if th is not None:
        slope = mul(mul(exp(mul(mul(h, h), -0.5)), erf(mul(mul(h, a), _SQRT1_2))),
                    -_INV_2SQRT_2PI)
        d = mul(th, slope)
    if ta is not None:
        one_a2 = add(mul(a, a), 1.0)
        slope = div(exp(mul(mul(mul(h, h), one_a2), -0.5)), mul(one_a2, 2.0 * math.pi))
        da = mul(ta, slope)
        d = da if d is None else add(d, da)
    return out, d


# owens_t(h, a): Owen's T function, operands of one shape and dtype.
owens_t_p = elementwise("owens_t", lambda b, h, a: b.extra("owens_t")(h, a), _owens_t_jvp)

# -- special15: wofz -----------------------------------------------------------------------------
# The Faddeeva function w(z) = exp(-z^2) erfc(-iz) on complex arrays, through the backend extra
# "wofz" (SciPy on NumPy; functrans.backends.special_generic elsewhere). Holomorphic, with
# w'(z) = 2i/sqrt(pi) - 2 z w(z): the tangent is that times the (complex) input tangent, and
# the transposes of mul and add give the VJP in the library's convention for holomorphic
# functions (the cotangent times w'(z), as exp's).

_TWO_I_OVER_SQRT_PI = 2j / math.sqrt(math.pi)

wofz_p = unary("wofz", _via_extra("wofz"),
               lambda t, z, w: mul(t, add(mul(mul(z, w), -2.0), _TWO_I_OVER_SQRT_PI)))


def _hyp1f1_jvp(primals, tangents):
    a, b, x = primals
    ta, tb, tx = tangents
    out = hyp1f1(a, b, x)
    t = None
    if tx is not None:   # (a = 0: 0, also at x = +-inf, where M(1, b + 1, x) is infinite:
        # a strong zero in a/b, which keeps this slope's own derivative in a, M(1, b + 1, x)/b,
        # where a select on a == 0 gave 0)
        t = mul(tx, mul_sz(hyp1f1(add(a, 1.0), add(b, 1.0), x), div(a, b)))
    for tp, wrt in ((ta, "a"), (tb, "b")):
        if tp is not None:
            part = mul(tp, hyp1f1_param_p.bind(a, b, x, wrt=wrt))
            t = part if t is None else add(t, part)
    return out, t


# The derivatives of M(a, b, x) = sum_k u_k, u_k = (a)_k / (b)_k x**k / k!, in a and b, of
# any order: the series of the terms' derivatives T(i, j)_k = d^i/da^i d^j/db^j u_k. From
# u_(k+1) = u_k (a + k) h_k x / (k + 1), h_k = 1 / (b + k), Leibniz's rule gives
#   T(i, j)_(k+1) = x / (k + 1) sum_l C(j, l) h_k^(l) ((a + k) T(i, j - l)_k + i T(i - 1, j - l)_k)
# with h_k^(l) = (-1)**l l! / (b + k)**(l + 1) (no digamma: right at the non-positive integers
# a where the series ends). Summed at x and, through Kummer's transformation
# M(a, b, x) = e**x N(b - a, b, -x), at -x, where d/da = -d/dc and d/db = d/dc + d/db for
# N's parameters (c, b), c = b - a:
#   d^i/da^i d^j/db^j M = e**x (-1)**i sum_m C(j, m) N(i + m, j - m);
# each point takes the one that cancels less. Where both cancel more than _HYP1F1_CANCEL
# allows (about 1e-12 relative left), or have not converged in _HYP1F1_TERMS terms,
# NotImplementedError. The derivatives in x follow from M' = a/b M(a + 1, b + 1, x)
# (_hyp1f1_param_dx), so every derivative is of this primitive or hyp1f1's.
_HYP1F1_TERMS = 4000
_HYP1F1_CANCEL = 1e4


def _hyp1f1_series(xp, a, b, x, n, peak=None):
    """``{(i, j): (sum, sum of magnitudes)}`` of the series of d^i/da^i d^j/db^j u_k for
    i + j <= n at (a, b, x) ((0, 0): M itself), or None where some element has not
    converged. ``peak``: the term after which the terms decrease (by default max |x|)."""
    keys = [(i, t - i) for t in range(n + 1) for i in range(t + 1)]
    zero = xp.zeros_like(x)
    terms = {key: zero for key in keys}
    terms[0, 0] = xp.ones_like(x)
    sums = {key: (zero, zero) for key in keys}
    sums[0, 0] = (terms[0, 0], terms[0, 0])
    if peak is None:  # (the terms grow until k ~ |x|)
        peak = float(xp.max(xp.abs(x))) if math.prod(x.shape) else 0.0
    for k in range(_HYP1F1_TERMS):
        r = x / (k + 1)
        h = [1.0 / (b + k)]
        for l in range(1, n + 1):
            h.append(h[-1] * (-l / (b + k)))
        ak = a + k
        new = {}
        for i, j in keys:
            total = zero
            for l in range(j + 1):
                base = ak * terms[i, j - l]
                if i:
                    base = base + i * terms[i - 1, j - l]
                total = total + (math.comb(j, l) * h[l]) * base
            new[i, j] = total * r
        terms = new
        for key in keys:
            s, m = sums[key]
            sums[key] = (s + terms[key], m + xp.abs(terms[key]))
        if k % 16 == 15 and k > peak:
            still = xp.abs(terms[0, 0]) > 0
            done = xp.ones_like(still)
            for key in keys[1:]:
                t = xp.abs(terms[key])
                still = still | (t > 0)
                done = done & (t <= 1e-17 * xp.abs(sums[key][0]))
            if not bool(xp.any(still & ~done)):
                return sums
    return None


def _cancellation(xp, total_abs, total):
    """``total_abs / |total|``: 0 for a sum of zeros, inf for one that cancels to 0."""
    zero = total == 0
    ratio = total_abs / xp.where(zero, xp.ones_like(total), xp.abs(total))
    return xp.where(zero, xp.where(total_abs == 0, xp.zeros_like(total),
                                   xp.full_like(total, math.inf)), ratio)


def _hyp1f1_orders(wrt):
    return wrt.count("a"), wrt.count("b")


def _hyp1f1_param_impl(bk, a, b, x, *, wrt):
    xp = bk.xp
    far = xp.isinf(x)
    if _hyp1f1_any(bk, far):
        # (at x = +-inf: 0 at -inf for a > 0, where every derivative in a and b is a power of
        # log|x| times |x|^-a (or e^x times one); elsewhere nan: their limits are infinite or
        # have no sign that the series gives)
        rest = _hyp1f1_param_impl(bk, a, b, xp.where(far, xp.zeros_like(x), x), wrt=wrt)
        edge = xp.where((x < 0.0) & (a > 0.0), xp.zeros_like(x), xp.full_like(x, math.nan))
        return xp.where(far, edge, rest)
    i, j = _hyp1f1_orders(wrt)
    n = i + j
    inf = xp.full_like(x, math.inf)
    direct = _hyp1f1_series(xp, a, b, x, n)
    if direct is None:
        d_val, d_cancel = xp.zeros_like(x), inf
    else:
        d_val = direct[i, j][0]
        d_cancel = _cancellation(xp, direct[i, j][1], d_val)
    kummer = _hyp1f1_series(xp, b - a, b, -x, n)
    if kummer is None:
        k_val, k_cancel = xp.zeros_like(x), inf
    else:
        total, size = xp.zeros_like(x), xp.zeros_like(x)
        for m in range(j + 1):
            s, mag = kummer[i + m, j - m]
            total, size = total + math.comb(j, m) * s, size + math.comb(j, m) * mag
        k_cancel = _cancellation(xp, size, total)
        k_val = xp.exp(x) * total if i % 2 == 0 else -xp.exp(x) * total
    use_direct = d_cancel <= k_cancel
    out = xp.where(use_direct, d_val, k_val)
    cancel = xp.where(use_direct, d_cancel, k_cancel)
    bad = (cancel > _HYP1F1_CANCEL) & ~(out == 0)
    if bool(xp.any(bad)):
        import numpy as np
        at = np.argwhere(np.asarray(bk.to_numpy(bad)))[0]
        pick = [float(np.asarray(bk.to_numpy(v))[tuple(at)]) for v in (a, b, x)]
        what = "the parameter " + wrt if n == 1 else \
            f"the parameters (order {i} in a, {j} in b)"
        raise NotImplementedError(
            f"hyp1f1: the derivative with respect to {what} is computed from its power "
            f"series (at x, or at -x through Kummer's transformation), which cancels too much "
            f"(or does not converge in {_HYP1F1_TERMS} terms) at a={pick[0]}, b={pick[1]}, "
            f"x={pick[2]} for an accurate value there; stop_gradient the parameter or use a "
            f"central difference of hyp1f1 there")
    return out


def _hyp1f1_any(bk, mask):
    """Whether some element of the boolean array mask is set (read on the host: the series
    of hyp1f1_param read it anyway)."""
    return bool(bk.xp.any(mask))


def _hyp1f1_param(a, b, x, i, j):
    if i == j == 0:
        return hyp1f1(a, b, x)
    return hyp1f1_param_p.bind(a, b, x, wrt="a" * i + "b" * j)


def _hyp1f1_param_dx(a, b, x, i, j):
    """d/dx of d^i/da^i d^j/db^j M: the same derivatives of a/b M(a + 1, b + 1, x), by
    Leibniz's rule (d/da a = 1, d^q/db^q 1/b = (-1)**q q! / b**(q + 1))."""
    a1, b1 = add(a, 1.0), add(b, 1.0)
    inv_b = div(1.0, b)
    out = None
    for p in range(min(i, 1) + 1):
        for q in range(j + 1):
            coef = mul(inv_b, float(math.comb(i, p) * math.comb(j, q)
                                    * (-1) ** q * math.factorial(q)))
            for _ in range(q):
                coef = mul(coef, inv_b)
            if p == 0:
                coef = mul(coef, a)
            part = mul(coef, _hyp1f1_param(a1, b1, x, i - p, j - q))
            out = part if out is None else add(out, part)
    return out


def _hyp1f1_param_jvp(primals, tangents, *, wrt):
    a, b, x = primals
    ta, tb, tx = tangents
    i, j = _hyp1f1_orders(wrt)
    out = hyp1f1_param_p.bind(a, b, x, wrt=wrt)
    t = None
    for tp, (di, dj) in ((ta, (1, 0)), (tb, (0, 1))):
        if tp is not None:
            part = mul(tp, _hyp1f1_param(a, b, x, i + di, j + dj))
            t = part if t is None else add(t, part)
    if tx is not None:
        part = mul(tx, _hyp1f1_param_dx(a, b, x, i, j))
        t = part if t is None else add(t, part)
    return out, t


# hyp1f1_param(a, b, x, wrt=...): d^i/da^i d^j/db^j of Kummer's function, wrt "a" * i + "b" * j
# (i + j >= 1); differentiable again in a, b and x.
hyp1f1_param_p = elementwise("hyp1f1_param", _hyp1f1_param_impl, _hyp1f1_param_jvp)


def _hyp1f1_impl(bk, a, b, x):
    xp = bk.xp
    far = xp.isinf(x)
    out = bk.extra("hyp1f1")(a, b, xp.where(far, xp.zeros_like(x), x))
    return xp.where(far, _hyp1f1_at_infinity(xp, a, b, x), out)


def _odd(xp, v):
    """Whether the integer-valued float v (>= 0) is odd (past 2^53 every float is even)."""
    return v - 2.0 * xp.floor(v * 0.5) == 1.0


def _gamma_negative(xp, v):
    """Whether Gamma(v) < 0 (v not a pole): v < 0 with floor(-v) even."""
    return (v < 0.0) & ~_odd(xp, xp.floor(-v))


def _hyp1f1_at_infinity(xp, a, b, x):
    """M(a, b, x) at x = +-inf (finite a and b, b not a pole unless a is a negative integer
    >= b): its limit. a = 0: 1. a = -n a negative integer: the polynomial's leading term
    (-1)^n x^n / (b)_n, +-inf. Else at +inf Gamma(b) / Gamma(a) e^x x^(a - b): +-inf by the
    signs of Gamma(a) Gamma(b); at -inf (Kummer's transformation) Gamma(b) / Gamma(b - a)
    |x|^-a: 0 for a > 0 or b - a a non-positive integer (e^x times a polynomial), else +-inf
    by the signs of Gamma(b) Gamma(b - a). (SciPy gives inf for hyp1f1(-1, 0.3, inf), whose
    limit is -inf, and for (-1, 0.3, -inf) too; mpmath 1 for the first.)"""
    n = xp.where(a < 0.0, -a, xp.zeros_like(a))
    poly = (a <= 0.0) & (a == xp.floor(a))
    # (the signs of (b)_n: its negative factors b + j, j < n)
    neg_bn = _odd(xp, xp.minimum(n, xp.maximum(xp.ceil(-b), xp.zeros_like(b))))
    c = b - a
    c_int = (c <= 0.0) & (c == xp.floor(c))
    gb = _gamma_negative(xp, b)
    up_negative = xp.where(poly, _odd(xp, n) ^ neg_bn, _gamma_negative(xp, a) ^ gb)
    down_negative = xp.where(poly, neg_bn, _gamma_negative(xp, c) ^ gb)
    negative = xp.where(x > 0.0, up_negative, down_negative)
    inf = xp.full_like(x, math.inf)
    out = xp.where(negative, -inf, inf)
    zero = (x < 0.0) & ~poly & ((a > 0.0) | c_int)
    out = xp.where(zero, xp.zeros_like(x), out)
    return xp.where(a == 0.0, xp.ones_like(x), out)


# hyp1f1(a, b, x): Kummer's function M(a, b, x), operands of one shape and dtype (a and b
# finite, b not a pole: the namespace gives those edges their values; x = +-inf its limit,
# _hyp1f1_at_infinity, and so the derivative in x there a/b M(a + 1, b + 1, +-inf)); in a and
# b to any order.
hyp1f1_p = elementwise("hyp1f1", _hyp1f1_impl, _hyp1f1_jvp)

# -- special15b: hyp2f1, jv ----------------------------------------------------------------------
# hyp2f1(a, b, c, x): the Gauss hypergeometric function, differentiable in x only
# (d/dx = a b / c 2F1(a + 1, b + 1; c + 1; x)); jv(v, z): the Bessel function of the first
# kind, differentiable in z only (J_v' = (J_{v-1} - J_{v+1}) / 2). Through the backend
# extras of those names (SciPy on NumPy, cupyx on CuPy, special_generic elsewhere).


def _hyp2f1_jvp(primals, tangents):
    a, b, c, x = primals
    ta, tb, tc, tx = tangents
    _refuse("hyp2f1", ((ta, "a"), (tb, "b"), (tc, "c")),
            "x is: a b / c hyp2f1(a + 1, b + 1, c + 1, x)")
    out = hyp2f1(a, b, c, x)
    if tx is None:
        return out, None
    # (a b = 0: the constant 1, slope 0; the shifted function there may be a pole's inf)
    flat = eq(mul(a, b), 0.0)
    shifted = hyp2f1(select(flat, 1.0, add(a, 1.0)), select(flat, 1.0, add(b, 1.0)),
                     select(flat, 1.0, add(c, 1.0)), select(flat, 0.0, x))
    slope = select(flat, 0.0, mul(div(mul(a, b), c), shifted))
    return out, mul(tx, slope)


def _hyp2f1_impl(bk, a, b, c, x):
    xp = bk.xp
    far = xp.isinf(x)
    if _on_host(x) and not bool(xp.any(far)):
        return bk.extra("hyp2f1")(a, b, c, x)
    rest = bk.extra("hyp2f1")(a, b, c, xp.where(far, xp.zeros_like(x), x))
    return xp.where(far, _hyp2f1_poly_at_inf(xp, a, b, c, x), rest)


def _hyp2f1_poly_at_inf(xp, a, b, c, x):
    """A polynomial 2F1's limit at x = +-inf (a or b a non-positive integer, of degree n, the
    nearer one to 0): 1 for n = 0, else inf with the sign of its leading term (a)_n (b)_n /
    (c)_n / n! x**n, each Pochhammer's sign by how many of its n factors are negative. So the
    rule's shifted polynomials give every derivative's limit there too (the n-th a constant)."""
    inf = xp.full_like(x, math.inf)
    zero = xp.zeros_like(x)

    def degree(q):
        return xp.where((q <= 0.0) & (q == xp.floor(q)), -q, inf)

    n = xp.minimum(degree(a), degree(b))
    n = xp.where(n == inf, zero, n)

    def negatives(q):  # of the factors q, q + 1, ..., q + n - 1
        return xp.minimum(xp.maximum(xp.ceil(-q), zero), n)

    count = negatives(a) + negatives(b) + negatives(c) + xp.where(x < 0.0, n, zero)
    odd = (count - 2.0 * xp.floor(0.5 * count)) == 1.0
    return xp.where(n == 0.0, xp.ones_like(x), xp.where(odd, -inf, inf))


# hyp2f1(a, b, c, x): operands of one shape and dtype (finite, x <= 1 or a polynomial, c not
# a pole unless a polynomial ends first; x = +-inf for a polynomial only: the namespace gives
# the other points their values)
hyp2f1_p = elementwise("hyp2f1", _hyp2f1_impl, _hyp2f1_jvp)


def _jv_jvp(primals, tangents):
    v, z = primals
    tv, tz = tangents
    _refuse("jv", ((tv, "v"),), "z is: (jv(v - 1, z) - jv(v + 1, z)) / 2")
    out = jv(v, z)
    if tz is None:
        return out, None
    slope = mul(sub(jv(sub(v, 1.0), z), jv(add(v, 1.0), z)), 0.5)
    return out, mul(tz, slope)


def _jv_impl(b, v, z):
    """The backend's jv, with the float64 elements of order 0 and +-1 by j0's and j1's fix
    near their zeros (_bessel01_near_zeros: J_-1 = -J_1): jv(0, 2.404825557695773) was 0,
    j0 there -6.1e-17 (mpmath's), jv(0, 128.02087700600833) 1.4e-5 relative off."""
    out = b.extra("jv")(v, z)
    if b.dtype(z).name != "float64":
        return out
    if isinstance(z, (_np.ndarray, _np.generic)):
        va, za = _np.asarray(v).reshape(-1), _np.asarray(z).reshape(-1)
        if len(va) > 1 and not any(va.strides):   # (one order, broadcast: jv(0, x))
            o = float(va[0])
            if abs(o) not in (0.0, 1.0):
                return out
            sign = -1.0 if o < 0.0 else 1.0
            y = out * sign if sign < 0.0 else out
            y = _bessel01_near_zeros(b, "j0" if o == 0.0 else "j1", z, y)
            return y * sign if sign < 0.0 else y
        av = _np.abs(va)
        for name, order in (("j0", 0.0), ("j1", 1.0)):
            at = (av == order).nonzero()[0]
            if not len(at):
                continue
            sign = _np.where(va.take(at) < 0.0, -1.0, 1.0) if order else 1.0
            fixed = _bessel01_near_zeros(b, name, za.take(at), out.reshape(-1).take(at) * sign)
            if not (type(out) is _np.ndarray and out.base is None and out.flags.writeable
                    and out.flags.c_contiguous):
                out = _np.array(out, dtype=_np.float64, order="C")
            out.reshape(-1)[at] = fixed * sign
        return out
    xp = b.xp
    av = xp.abs(v)
    for name, order in (("j0", 0.0), ("j1", 1.0)):
        at = av == order
        sign = xp.where(v < 0.0, xp.full_like(v, -1.0), xp.full_like(v, 1.0)) if order else 1.0
        if _on_host(z):
            if not bool(xp.any(at)):
                continue
            sub = sign[at] if order else 1.0
            out = xp.asarray(out, copy=True)
            out[at] = _bessel01_near_zeros(b, name, z[at], out[at] * sub) * sub
        else:
            out = xp.where(at, _bessel01_near_zeros(b, name, z, out * sign) * sign, out)
    return out


# jv(v, z): operands of one shape and dtype (finite; the namespace gives the edges their
# values)
jv_p = elementwise("jv", _jv_impl, _jv_jvp)

# -- ive(v, x) = exp(-|x|) I_v(x), the modified Bessel function of the first kind of
# real order, scaled; differentiable in x only: I_v' = (I_{v-1} + I_{v+1}) / 2, so
# ive' = (ive(v - 1, x) + ive(v + 1, x)) / 2 - sign(x) ive(v, x) (sign(0) = 0: at x = 0 the
# average of the two one-sided derivatives of exp(-|x|)). The two terms agree to about
# 1/(2|x|) of their size, so that form is about 2|x| eps relative off (4e-9 at x = 3e7, 3e-7
# at 3e9; 3e-14 at 30; ive(v + 1) + (v/x - sign) ive, the other recurrence, cancels as much).
# From |x| = 30 where v^2 <= 2|x| (and from 1e4 where v^2 <= 6|x|) the slope is instead
# sign(x) ive(v, x) F'(|x|) / F(|x|), F the asymptotic series of DLMF 10.40.1,
# F(t) = sum_k (-1)^k a_k(v) t^(-k - 1/2) (ive ~ F / sqrt(2 pi), the other exponential e^-2t
# below eps there), whose derivatives are series of the same terms (ive_asymptotic): within
# a few ulp of mpmath; the ratio carries ive's sign (odd orders at x < 0) and nan.
# (Past v^2 = 2|x| the series' alternating terms cancel as e^(v^2/x) (1e-13 at 4|x| near
# x = 1e3); the closed form is kept there, where its cancellation is about 2 x^2 / v^2 eps.)
_IVE_FAR = 30.0
_IVE_FAR_WIDE = 1e4
_IVE_TERMS = 40


def _ive_asymptotic_impl(b, v, t, *, n):
    """The n-th derivative in t of F(v, t) = sum_k (-1)^k a_k(v) t^(-k - 1/2), a_k(v) =
    prod_(j <= k) (4 v^2 - (2j - 1)^2) / (k! 8^k), for t >= 30, v^2 <= 6 t: the terms fall
    at least as (6/2)^k / k! or (j^2 / 2t per step) e^-2t; up to 40 of them, fewer where
    all are below 2^-60 of the sum (read on the host only)."""
    xp = b.xp
    u = 1.0 / t
    w = 4.0 * v * v
    c = xp.ones_like(t)
    s = c * _deriv_factor(0, n)
    host = _on_host(t)
    for k in range(1, _IVE_TERMS):
        c = c * ((w - float((2 * k - 1) ** 2)) * (-1.0 / (8.0 * k))) * u
        term = c * _deriv_factor(k, n)
        s = s + term
        if host and k >= 3 and not bool(xp.any(xp.abs(term) > 2.0 ** -60 * xp.abs(s))):
            break
    s = s * xp.sqrt(u)
    return s * u ** n if n else s


def _deriv_factor(k, n):
    """d^n/dt^n t^(-k - 1/2) = _deriv_factor(k, n) t^(-k - 1/2 - n)."""
    f = 1.0
    for i in range(n):
        f *= -(k + 0.5 + i)
    return f


def _ive_asymptotic_jvp(primals, tangents, *, n):
    v, t = primals
    tv, tt = tangents
    _refuse("ive", ((tv, "v"),), "x is: (ive(v - 1, x) + ive(v + 1, x)) / 2 - sign(x) "
            "ive(v, x)")
    out = ive_asymptotic(v, t, n=n)
    if tt is None:
        return out, None
    return out, mul(tt, ive_asymptotic(v, t, n=n + 1))


# ive_asymptotic(v, t, n=n): the n-th derivative in t of ive's asymptotic series F (above),
# for t >= 30 and v^2 <= 6 t (the namespace's rule selects it only there)
ive_asymptotic_p = elementwise("ive_asymptotic", _ive_asymptotic_impl, _ive_asymptotic_jvp,
                               abstract_eval=_array_aval)
ive_asymptotic_p.same_aval = True


def _ive_jvp(primals, tangents):
    v, x = primals
    tv, tx = tangents
    _refuse("ive", ((tv, "v"),), "x is: (ive(v - 1, x) + ive(v + 1, x)) / 2 - sign(x) ive(v, x)")
    out = ive(v, x)
    if tx is None:
        return out, None
    near = sub(mul(add(ive(sub(v, 1.0), x), ive(add(v, 1.0), x)), 0.5), mul(sign(x), out))
    if not _abs_may_reach(x, _IVE_FAR):   # (a concrete x below 30: the closed form)
        return out, mul(tx, near)
    t = abs_(x)
    v2 = mul(v, v)
    far = logical_and(ge(t, _IVE_FAR), logical_or(
        le(v2, mul(t, 2.0)), logical_and(ge(t, _IVE_FAR_WIDE), le(v2, mul(t, 6.0)))))
    tf = select(far, t, _IVE_FAR)
    vf = select(far, v, 0.0)
    ratio = div(ive_asymptotic(vf, tf, n=1), ive_asymptotic(vf, tf, n=0))
    slope = select(far, mul(mul(sign(x), out), ratio), near)
    debye = logical_and(logical_and(ge(t, _IVE_FAR), logical_not(far)),
                        ge(t, mul(abs_(v), _IVE_DEBYE_Z)))
    terms = _ive_debye_terms(debye, v, t)
    if terms:
        td = select(debye, t, _IVE_FAR)
        vd = select(debye, v, 1.0)
        slope = select(debye, mul(mul(sign(x), out), _ive_debye_log_slope(vd, td, terms)),
                       slope)
    return out, mul(tx, slope)


# (session 55) Past v^2 = 2|x| (6|x| from 1e4) the closed form's cancellation, about
# 2 x^2 / v^2 eps relative (2e-10 at v = 1000, x = 4e5), is left where |x| >= 3|v| (above
# 18 eps) to d/dt log ive(v, t) = I_v'/I_v - 1 by Debye's uniform expansion (DLMF 10.41.3-4)
# differentiated in t: with s = sqrt(v^2 + t^2), w = v^2 / s^2 and
# U_k(p) / v^k = s^-k P_k(w), U_k'(p) / v^k = s^-k Q_k(w) / p,
#   g = v^2 / (t (s + t)) - t / (2 s^2) - (t / s^2) sum_k s^-k Q_k(w) / (1 + sum_k s^-k P_k(w)),
# without cancellation but at g's own zero (near v^2 = t); its terms fall as c_k s^-k (Olver's
# bound), 16 of them within 2e-16 of mpmath at s = 32, 4 from s = 2000. Its derivatives
# (ive's second and higher) by differentiating these operations.
_IVE_DEBYE_Z = 3.0


def _debye_polynomials(terms):
    """P_k, Q_k (k = 1..terms; coefficients of w^j, lowest first) from U_0 = 1, U_(k+1)(p) =
    p^2 (1 - p^2) U_k'(p) / 2 + int_0^p (1 - 5 q^2) U_k(q) dq / 8 in exact fractions
    (U_k(p) = sum_j u_kj p^(k + 2j))."""
    from fractions import Fraction
    u = {0: Fraction(1)}
    ps, qs = [], []
    for k in range(1, terms + 1):
        new = {}
        for e, c in u.items():
            if e:
                new[e + 1] = new.get(e + 1, 0) + c * e / 2
                new[e + 3] = new.get(e + 3, 0) - c * e / 2
            new[e + 1] = new.get(e + 1, 0) + c / (8 * (e + 1))
            new[e + 3] = new.get(e + 3, 0) - 5 * c / (8 * (e + 3))
        u = new
        ps.append(tuple(float(u.get(k + 2 * j, 0)) for j in range(k + 1)))
        qs.append(tuple(float((k + 2 * j) * u.get(k + 2 * j, 0)) for j in range(k + 1)))
    return tuple(ps), tuple(qs)


_IVE_DEBYE_P, _IVE_DEBYE_Q = _debye_polynomials(16)


def _ive_debye_terms(debye, v, t):
    """How many of Debye's terms the elements of the mask need (0: none there), from the
    smallest s = sqrt(v^2 + t^2) among them where concrete; 16 staged (jit)."""
    from ..core import concrete_behind
    m = concrete_behind(debye)
    if isinstance(m, (bool, _np.bool_)) or isinstance(m, (_np.ndarray, _np.generic)):
        if not _np.any(m):
            return 0
        vv, tv = concrete_behind(v), concrete_behind(t)
        if isinstance(vv, (_np.ndarray, _np.generic, float)) and isinstance(
                tv, (_np.ndarray, _np.generic, float)):
            vv, tv, m = _np.broadcast_arrays(_np.asarray(vv, dtype=_np.float64),
                                             _np.asarray(tv, dtype=_np.float64), m)
            s = float(_np.min(_np.hypot(vv[m], tv[m])))
            return 4 if s >= 2000.0 else 8 if s >= 200.0 else 12 if s >= 60.0 else 16
    return 16


def _ive_debye_log_slope(v, t, terms):
    v2 = mul(v, v)
    s2 = add(v2, mul(t, t))
    s = sqrt(s2)
    w = div(v2, s2)
    r = div(1.0, s)
    ps = qs = None
    for k in range(terms - 1, -1, -1):   # (Horner's rule in r, each coefficient in w)
        pk, qk = _IVE_DEBYE_P[k][-1], _IVE_DEBYE_Q[k][-1]
        for a, b in zip(_IVE_DEBYE_P[k][-2::-1], _IVE_DEBYE_Q[k][-2::-1]):
            pk = add(mul(pk, w), a) if not isinstance(pk, float) else add(mul(w, pk), a)
            qk = add(mul(qk, w), b) if not isinstance(qk, float) else add(mul(w, qk), b)
        ps = pk if ps is None else add(mul(ps, r), pk)
        qs = qk if qs is None else add(mul(qs, r), qk)
    ps = add(mul(ps, r), 1.0)
    qs = mul(qs, r)
    return sub(sub(div(v2, mul(t, add(s, t))), div(t, mul(s2, 2.0))),
               mul(div(t, s2), div(qs, ps)))


def _abs_may_reach(x, bound):
    """Whether |x| may reach bound (nan counts): from x's concrete value beneath the
    transforms where it can be read without waiting for a device, else True (staged: jit)."""
    from ..core import concrete_behind
    v = concrete_behind(x)
    if isinstance(v, (_np.ndarray, _np.generic)):
        return not _np.all(_np.abs(v) < bound)
    if isinstance(v, (int, float)):
        return not abs(v) < bound
    if v is None or not _on_host(v):
        return True
    from ..backends import backend_of
    xp = backend_of(v).xp
    return _reaches(xp, xp.abs(v), bound)


# ive(v, x): operands of one shape and dtype (finite; x < 0 only with an integer v: the
# namespace gives the other points their values)
ive_p = elementwise("ive", lambda bk, v, x: bk.extra("ive")(v, x), _ive_jvp)

# -- session 18: Bessel functions j0, j1, y0, y1, k0, k0e, k1, k1e ------------------------------
# Through the backend extras of those names (SciPy on NumPy, torch.special's bessel_j0...,
# cupyx on CuPy, functrans.backends.special_generic elsewhere); the derivatives are closed
# forms written with these primitives: j0' = -j1, j1' = j0 - j1/x (1/2 at 0), y0' = -y1,
# y1' = y0 - y1/x, k0' = -k1, k1' = -k0 - k1/x, k0e' = k0e - k1e, k1e' = k1e (1 - 1/x) - k0e.

# j1(x)/x = sum_k (-x^2/4)^k / (2 k! (k+1)!): its Taylor coefficients in x^2, for |x| < 1e-2
_J1_OVER_X = tuple((-0.25) ** k / (2.0 * math.factorial(k) * math.factorial(k + 1))
                   for k in range(6))


def _j1_over_x(x, value):
    """``j1(x) / x`` (``value`` is j1 at x), by its Taylor polynomial near 0, so that it and
    its derivatives are right at x = 0 too."""
    small = lt(abs_(x), 1e-2)
    xs = select(small, x, 0.0)
    x2 = mul(xs, xs)
    poly = _J1_OVER_X[-1]
    for c in reversed(_J1_OVER_X[:-1]):
        poly = add(mul(poly, x2), c)
    return select(small, poly, div(value, select(small, 1.0, x)))


def _bessel01_impl(name):
    def impl(b, x):
        return _bessel01_near_zeros(b, name, x, b.extra(name)(x))
    impl.__name__ = f"{name}_impl"
    return impl


# the candidates for bessel_zeros' fix: y^2 |x| below (2/pi) (1.2 WINDOW)^2 (near a zero,
# y^2 x ~ (2/pi) sin^2(u); only those in a zero's window are then redone)
_BESSEL01_CANDIDATE = (2.0 / math.pi) * (1.2 * _bz.WINDOW) ** 2
# beyond x = 130 (every tabulated zero's window below 126.5) the phase windows' (WINDOW_FAR:
# y^2 x there (2/pi) sin^2(u) (1 + O(x^-2)))
_BESSEL01_CANDIDATE_FAR = (2.0 / math.pi) * (1.2 * _bz.WINDOW_FAR) ** 2
_BESSEL01_TABLE_END = 130.0
# up to this many candidates one at a time in Python floats (each about 1.5 us; NumPy's
# calls on the few cost ~30 us in all), beyond by NumPy's: the same operations, the same bits
_BESSEL01_FEW = 24
# up to this many, those beyond the table outside the phase windows' bound are left out
# first (so that more are few); beyond, fixed_numpy takes the bound's mask (on 1e5 points in
# (0, 1000), ~3800 candidates: the narrowing's eight passes over them cost ~40 us)
_BESSEL01_NARROW = 200


def _bessel01_near_zeros(b, name, x, y):
    """y = the backend's j0, j1, y0 or y1 at x, with the float64 elements within
    bessel_zeros.WINDOW of a zero (below 1e8) by bessel_zeros' forms: the libraries' are about
    1e-16 absolute off (from x = 25 SciPy's x eps relative to the envelope), so near a zero
    many ulp (SciPy's j0(52.616) 2733, at the float64 nearest j0's first zero every digit);
    now within 2 ulp of mpmath about the first 40 zeros, 2.5 beyond. NumPy: the candidates
    (a small y^2 |x|, three passes) by their indices, a few one at a time; torch on the CPU
    and array-api-strict's default device: by a mask; a device: read-free, throughout."""
    if isinstance(x, (_np.ndarray, _np.generic)):
        if x.dtype != _np.float64:
            return y
        if not x.ndim:
            return _bessel01_near_zeros(b, name, _np.reshape(x, 1), _np.reshape(y, 1))[0]
        xa = _np.asarray(x).reshape(-1)
        if xa.size <= 8:   # (a few: one look in Python floats, a numpy call costs more)
            ya = _np.asarray(y).reshape(-1)
            if not any(v * v * abs(w) < _BESSEL01_CANDIDATE
                       for v, w in zip(ya.tolist(), xa.tolist())):
                return y
        t = _np.multiply(y, y).reshape(-1)
        t *= xa
        even_odd = name[0] == "j"   # (negative x: j0 even, j1 odd)
        if even_odd:
            _np.abs(t, out=t)
        cand = (t < _BESSEL01_CANDIDATE).nonzero()[0]   # (nan: not one)
        if not len(cand):
            return y
        # (beyond the table, the narrower phase windows' candidates: by their indices while
        # few, else a mask for fixed_numpy, in the place of its look at McMahon's phase)
        if len(cand) > 8:
            far_ok = t.take(cand) < _BESSEL01_CANDIDATE_FAR
            if len(cand) <= _BESSEL01_NARROW:
                keep = (far_ok | (_np.abs(xa.take(cand)) <= _BESSEL01_TABLE_END)).nonzero()[0]
                cand, far_ok = cand.take(keep), far_ok.take(keep)
        if len(cand) <= _BESSEL01_FEW:
            fixed = []
            for i, v in zip(cand.tolist(), xa.take(cand).tolist()):
                f = _bz.fixed_float(name, abs(v))
                if f is not None:
                    fixed.append((i, -f if name == "j1" and v < 0.0 else f))
            if not fixed:
                return y
        else:
            xs = xa.take(cand)
            pos, v = _bz.fixed_numpy(name, _np.abs(xs) if even_odd else xs, far_ok)
            if not len(pos):
                return y
            if name == "j1":   # (odd)
                v = _np.where(xs.take(pos) < 0.0, -v, v)
            pos = cand.take(pos)
        if not (type(y) is _np.ndarray and y.base is None and y.flags.writeable
                and y.flags.c_contiguous and y is not x):
            y = _np.array(y, dtype=_np.float64, order="C")
        # (else the backend's fresh result, in place)
        flat = y.reshape(-1)
        if len(cand) <= _BESSEL01_FEW:
            for i, f in fixed:
                flat[i] = f
        else:
            flat[pos] = v
        return y
    if b.dtype(x).name != "float64":   # (float32: computed in float64 by the backends, and
        return y                       # their errors there far below its ulp)
    xp = b.xp
    if _on_host(x):
        ax = xp.abs(x) if name[0] == "j" else x
        cand = (y * y) * ax < _BESSEL01_CANDIDATE
        if not bool(xp.any(cand)):
            return y
        y = xp.asarray(y, copy=True)
        y[cand] = _bessel01_fixed(xp, name, x[cand], y[cand])
        return y
    return _bessel01_fixed(xp, name, x, y)


_BESSEL01_ON_DEVICE = {}


def _bessel01_fixed(xp, name, x, y):
    """y (the backend's value at x, arrays of namespace xp) with the elements in a zero's
    window by bessel_zeros' forms, read-free (the phase form's exact version where its
    phase is very small, as fixed_numpy's)."""
    key = (name, type(x), x.device)
    tables = _BESSEL01_ON_DEVICE.get(key)
    if tables is None:
        hi, lo, win, coef = _bz.COEFFICIENTS[name]
        tables = _BESSEL01_ON_DEVICE[key] = (
            xp.asarray(hi, device=x.device), xp.asarray(lo, device=x.device),
            xp.asarray(win, device=x.device),
            [xp.asarray(row, device=x.device) for row in coef])
    hi, lo, win, cols = tables
    shape = x.shape
    x = xp.reshape(x, (-1,))
    ax = xp.abs(x) if name[0] == "j" else x
    ok = ax < _bz.PHASE_END   # (and not nan)
    ax = xp.where(ok, ax, xp.full_like(ax, 1.0))
    k = xp.round(ax * (1.0 / math.pi) + _bz.OFFSET[name])
    n = float(hi.shape[0])
    idx = xp.astype(xp.clip(k, 1.0, n), xp.int64) - 1
    tab = (k >= 1.0) & (k <= n) & (xp.abs(ax - xp.take(hi, idx)) <= xp.take(win, idx))
    v = _bz.taylor_values(xp, ax, name, idx, (hi, lo, cols))
    far = ok & (k > n)   # (x above 124)
    xf = xp.where(far, ax, xp.full_like(ax, 250.0))
    w, u = _bz.phase_values(xp, xf, name)
    w_exact, _ = _bz.phase_values(xp, xf, name, exact=True)
    w = xp.where(xp.abs(u) < _bz.exact_below(xf), w_exact, w)
    v = xp.where(tab, v, w)
    if name == "j1":
        v = xp.where(x < 0.0, -v, v)
    use = ok & (tab | (far & (xp.abs(u) <= _bz.WINDOW_FAR)))
    return xp.reshape(xp.where(use, v, xp.reshape(y, (-1,))), shape)


j0_p = unary("j0", _bessel01_impl("j0"), lambda t, x, y: neg(mul(t, j1(x))))
j1_p = unary("j1", _bessel01_impl("j1"), lambda t, x, y: mul(t, sub(j0(x), _j1_over_x(x, y))))
y0_p = unary("y0", _bessel01_impl("y0"), lambda t, x, y: neg(mul(t, y1(x))))
y1_p = unary("y1", _bessel01_impl("y1"), lambda t, x, y: mul(t, sub(y0(x), div(y, x))))
k0_p = unary("k0", _via_extra("k0"), lambda t, x, y: neg(mul(t, k1(x))))
k1_p = unary("k1", _via_extra("k1"), lambda t, x, y: neg(mul(t, add(k0(x), div(y, x)))))
# (k0e' and k1e' from |x| = 30 by the asymptotic series of the difference: _bessel_e_slope)
k0e_p = unary("k0e", _via_extra("k0e"),
              lambda t, x, y: mul(t, _bessel_e_slope("k0e", x, sub(y, k1e(x)))))
k1e_p = unary("k1e", _via_extra("k1e"), lambda t, x, y: mul(t, _bessel_e_slope(
    "k1e", x, sub(mul(y, sub(1.0, div(1.0, x))), k0e(x)))))

erf = erf_p.bind
ndtr = ndtr_p.bind
erfc = erfc_p.bind
erfinv = erfinv_p.bind
erfinv_slope = erfinv_slope_p.bind
ndtri = ndtri_p.bind
ndtri_slope = ndtri_slope_p.bind
lgamma = lgamma_p.bind
digamma = digamma_p.bind
polygamma = polygamma_p.bind
polygamma_order = polygamma_order_p.bind
gammainc = gammainc_p.bind
gammaincc = gammaincc_p.bind
betainc = betainc_p.bind
gammaincinv = gammaincinv_p.bind
gammainccinv = gammainccinv_p.bind
betaincinv = betaincinv_p.bind
gammainc_da = gammainc_da_p.bind
betainc_dab = betainc_dab_p.bind
erfcx = erfcx_p.bind
log_ndtr_lower = log_ndtr_lower_p.bind
inc_beta_values_fix = inc_beta_values_fix_p.bind
f_extreme_fix = f_extreme_fix_p.bind
f_rounding_fix = f_rounding_fix_p.bind
i0 = i0_p.bind
i0e = i0e_p.bind
i1 = i1_p.bind
i1e = i1e_p.bind
exp1 = exp1_p.bind
expi = expi_p.bind
expn = expn_p.bind
dawsn = dawsn_p.bind
dawsn_deriv = dawsn_deriv_p.bind
zeta = zeta_p.bind
riemann_zeta = riemann_zeta_p.bind
spence = spence_p.bind
si = si_p.bind
ci = ci_p.bind
fresnel_s = fresnel_s_p.bind
fresnel_c = fresnel_c_p.bind
owens_t = owens_t_p.bind
wofz = wofz_p.bind
hyp1f1 = hyp1f1_p.bind
hyp2f1 = hyp2f1_p.bind
jv = jv_p.bind
ive = ive_p.bind
ive_asymptotic = ive_asymptotic_p.bind
j0 = j0_p.bind
j1 = j1_p.bind
y0 = y0_p.bind
y1 = y1_p.bind
k0 = k0_p.bind
k0e = k0e_p.bind
k1 = k1_p.bind
k1e = k1e_p.bind


def _f_logpdf_fix_impl(backend, z, n, m, out, *, slope, wrt):
    """functrans.scipy.stats._f_logpdf_fix_on_arrays: F's log density ``out`` (the plain
    form, staged) with the values and derivatives of the deviance form where a degree of
    freedom is above 64 or ``n z`` leaves the normal range, computed at evaluation (see
    there)."""
    from ..scipy import stats as _stats  # (eager here: the operands are arrays)
    return _stats._f_logpdf_fix_on_arrays(backend, slope, z, n, m, out, wrt)


def _f_logpdf_fix_jvp(primals, tangents, *, slope, wrt):
    return _slopes_fix_jvp(f_logpdf_fix_p, primals, tangents, slope, wrt)


def _f_logpdf_fix_aval(z, n, m, out, *, slope, wrt):
    return _bool_aval(z) if slope == "region" else _array_aval(z, n, m, out)


# f_logpdf_fix(z, n, m, out, slope=None): F's log density at z with n, m degrees of freedom:
# the staged plain form's value out, replaced by the deviance form's (stats._F's) where a
# degree of freedom is above 64 or n z is not a normal number, 0 < z < inf ("region", a
# mask), with that form's derivatives there (out's own elsewhere); slope=i: its partial
# derivative in (z, n, m)[i] there (0 elsewhere), with wrt the next ones (0: z, 1: n, 2: m),
# to any order.
f_logpdf_fix_p = elementwise("f_logpdf_fix", _f_logpdf_fix_impl, _f_logpdf_fix_jvp,
                             abstract_eval=_f_logpdf_fix_aval)


def f_logpdf_fix(z, n, m, out, *, slope=None, wrt=()):
    return f_logpdf_fix_p.bind(z, n, m, out, slope=slope, wrt=wrt)


# The "fix" primitives whose impl gives a tuple of slopes at once (fix_slopes): name ->
# fn(backend, a0, a1, a2, plain, slope=(i, ...), wrt=, **params), a list of slopes; the
# others' slopes are taken one pass each by their own impl (_each_slope)
_SLOPES_AT_ONCE = {"f_logpdf_fix": _f_logpdf_fix_impl}
