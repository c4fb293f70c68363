"""Semantics of ``functrans.lax``'s operations (values, dtypes, shapes and the errors for bad
shapes, dtypes and dimension numbers), following the topics of JAX's tests/lax_test.py
(LaxTest), restated here in our own code. Their derivatives are in
test_lax_autodiff_cases.py.

Each case is written once against a namespace (``m.lax``, ``m.np``; ``m.c`` makes an array of
the library under test from NumPy data) and checked twice:

- without JAX (as in CI): against a NumPy/SciPy value or a closed form, dtype and shape
  included; on NumPy for every case, on array-api-strict and torch for the cases whose code
  depends on the library (integer arithmetic, shifts, conversions, indexing);
- where JAX is installed: the same case run on JAX 0.10 (x64), compared with functrans's.

Error cases check functrans's exception and message, and that JAX refuses the same call.
Where functrans deliberately differs from JAX the case pins functrans's behaviour;
docs/coming-from-jax.md says why.
"""

from __future__ import annotations

import itertools
import types
import warnings

import numpy as np
import optree
import pytest
import scipy.special as sps

import functrans.lax as flax
import functrans.numpy as fnp

from .conftest import BackendCase

try:
    import jax
except ImportError:  # as in CI: the JAX comparisons skip, the reference checks still run
    jax = None

FT = types.SimpleNamespace(name="functrans", lax=flax, np=fnp, c=lambda a: a)


def _jx():
    if jax is None:
        pytest.skip("JAX is not installed (the reference checks of this file run without it)")
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    return types.SimpleNamespace(name="jax", lax=jax.lax, np=jnp, c=jnp.asarray)


def same(got, want, tol=None):
    """Same tree, shapes, dtypes and values (integers and booleans exactly; NaNs equal)."""
    lg, lw = optree.tree_leaves(got), optree.tree_leaves(want)
    assert len(lg) == len(lw), (len(lg), len(lw))
    for x, y in zip(lg, lw):
        x, y = np.asarray(x), np.asarray(y)
        assert x.shape == y.shape, (x.shape, y.shape)
        assert x.dtype == y.dtype, (x.dtype, y.dtype)
        if x.dtype.kind in "biu":
            np.testing.assert_array_equal(x, y)
        else:
            t = tol if tol is not None else (1e-12 if x.dtype.itemsize >= 8 else 1e-6)
            np.testing.assert_allclose(x, y, rtol=t, atol=t, equal_nan=True)


# -- the cases ---------------------------------------------------------------------------------

VALUES = {}   # name -> (case, reference, everywhere, tol, jax_refuses)
ERRORS = {}   # name -> (case, exception, message, jax_refuses)


def value(name, ref, everywhere=False, tol=None, jax_refuses=False, jax_want=None):
    """A case ``f(m)``; ``ref`` its NumPy value (a tree of arrays, or a function giving one);
    ``everywhere``: on every backend (else NumPy only: the code path is the same);
    ``jax_refuses``: JAX raises where functrans is deliberately lenient (pinned);
    ``jax_want``: JAX's value where it deliberately differs (pinned)."""
    def deco(f):
        assert name not in VALUES, name
        VALUES[name] = (f, ref, everywhere, tol, jax_refuses, jax_want)
        return f
    return deco


def error(name, exc, match, jax_refuses=True):
    """A call ``f(m)`` that functrans refuses with ``exc`` matching ``match``;
    ``jax_refuses``: so does JAX (else functrans is deliberately stricter)."""
    def deco(f):
        assert name not in ERRORS, name
        ERRORS[name] = (f, exc, match, jax_refuses)
        return f
    return deco


def a(x, dtype=None):
    return np.asarray(x, dtype=dtype)


I8_A = a([7, -7, 7, -7, 0, 5, -128, 127, 3, -3], np.int8)
I8_B = a([2, 2, -2, -2, 3, 7, -1, -1, 0, 0], np.int8)


def _wrap(values, dtype):
    info = np.iinfo(dtype)
    return a([(v - info.min) % (info.max - info.min + 1) + info.min for v in values], dtype)


def _c_div(x, y, dtype):
    """C's integer division (towards zero) in Python integers; by zero: -1 (all bits set)."""
    out = []
    for p, q in zip(x.tolist(), y.tolist()):
        if q == 0:
            out.append(-1)
            continue
        out.append(abs(p) // abs(q) * (1 if (p < 0) == (q < 0) else -1))
    return _wrap(out, dtype)  # (int8 -128 / -1 wraps to -128)


def _c_rem(x, y, dtype):
    out = []
    for p, q in zip(x.tolist(), y.tolist()):
        out.append(p if q == 0 else int(np.sign(p)) * (abs(p) % abs(q)))
    return a(out, dtype)


# ---- integer division, remainder and shifts (every backend) ----

for _d in (np.int8, np.int32, np.int64, np.uint8):
    _x, _y = I8_A.astype(_d), I8_B.astype(_d)
    _n = np.dtype(_d).name
    value(f"div_{_n}", _c_div(_x, _y, _d), everywhere=True)(
        lambda m, x=_x, y=_y: m.lax.div(m.c(x), m.c(y)))
    value(f"rem_{_n}", _c_rem(_x, _y, _d), everywhere=True)(
        lambda m, x=_x, y=_y: m.lax.rem(m.c(x), m.c(y)))


def _shift_ref(x, s, kind):
    """XLA's shifts: an amount (read as unsigned) of the width or more shifts everything out
    (the sign fills an arithmetic right shift)."""
    bits = x.dtype.itemsize * 8
    out = []
    for v, k in zip(x.tolist(), s.tolist()):
        k %= 1 << bits
        if kind == "left":
            out.append(0 if k >= bits else v << k)
        elif kind == "arith":
            out.append((-1 if v < 0 else 0) if k >= bits else v >> k)
        else:
            out.append(0 if k >= bits else (v % (1 << bits)) >> k)
    return _wrap(out, x.dtype)


def _arith(x, s):
    """XLA shifts an unsigned value arithmetically as if signed (its top bit fills)."""
    if x.dtype.kind == "i":
        return _shift_ref(x, s, "arith")
    signed = x.view(f"int{x.dtype.itemsize * 8}")
    return _shift_ref(signed, s.view(signed.dtype), "arith").view(x.dtype)


_SHIFTS = a([0, 1, 7, 8, 9, 31, 32, 33, 64, -1, 3, 2])
_SHIFTED = a([1, -1, 5, -5, 100, -100, 1, -1, 3, -3, -128, 127])
for _d in (np.int8, np.int32, np.int64, np.uint8, np.uint32):
    _x, _s = _SHIFTED.astype(_d), _SHIFTS.astype(_d)
    _n = np.dtype(_d).name
    for _op, _k in (("shift_left", "left"), ("shift_right_arithmetic", "arith"),
                    ("shift_right_logical", "logical")):
        _everywhere = _d in (np.int8, np.int64, np.uint8)  # (torch lacks uint32's shifts)
        _want = _arith(_x, _s) if _k == "arith" else _shift_ref(_x, _s, _k)
        value(f"{_op}_{_n}", _want, everywhere=_everywhere)(
            lambda m, x=_x, s=_s, op=_op: getattr(m.lax, op)(m.c(x), m.c(s)))


# A Python number beside an array takes its dtype (JAX 0.10's lax refuses it: int32 and int64)
@value("div_rem_python_scalar_divisor", (a([3, -3, 1], np.int32), a([1, -1, 2], np.int32)),
       everywhere=True, jax_refuses=True)
def _(m):
    x = m.c(a([7, -7, 2], np.int32))
    return m.lax.div(x, 2), m.lax.rem(x, 3)


@value("div_rem_float", (a([3.5, -3.5, np.inf, -np.inf]), a([1.0, -1.0, np.nan, np.nan])),
       everywhere=True)
def _(m):
    x, y = m.c(a([7.0, -7.0, 1.0, -1.0])), m.c(a([2.0, 2.0, 0.0, 0.0]))
    return m.lax.div(x, y), m.lax.rem(m.c(a([7.0, -7.0, np.inf, -np.inf])), m.c(a([2.0, 2.0,
                                                                                   1.0, 1.0])))


# ---- integer elementwise: wrapping, bits ----

@value("abs_neg_sign_of_int8", (a([-128, 5, 0], np.int8), a([-128, -5, 0], np.int8),
                                a([-1, 1, 0], np.int8)), everywhere=True)
def _(m):
    x = m.c(a([-128, 5, 0], np.int8))
    return m.lax.abs(x), m.lax.neg(x), m.lax.sign(x)


@value("neg_sign_of_uint8", (a([255, 254, 0], np.uint8), a([1, 1, 0], np.uint8)),
       everywhere=True)
def _(m):
    x = m.c(a([1, 2, 0], np.uint8))
    return m.lax.neg(x), m.lax.sign(x)


def _popcount(x):
    bits = x.dtype.itemsize * 8
    return a([bin(v % (1 << bits)).count("1") for v in x.tolist()], x.dtype)


def _clz(x):
    bits = x.dtype.itemsize * 8
    return a([bits - (v % (1 << bits)).bit_length() for v in x.tolist()], x.dtype)


for _d in (np.int8, np.int32, np.uint8, np.int64):
    _x = a([0, 1, -1, 127, 100, -100, 64, 3], np.int64).astype(_d)
    _n = np.dtype(_d).name
    value(f"population_count_clz_{_n}", (_popcount(_x), _clz(_x)),
          everywhere=_d in (np.int8, np.uint8))(
        lambda m, x=_x: (m.lax.population_count(m.c(x)), m.lax.clz(m.c(x))))


@value("integer_pow_square_wrap", (_wrap([2 ** 7, (-3) ** 7, 5 ** 7], np.int8),
                                   _wrap([200 ** 2, 16 ** 2], np.uint8), a([1, 1], np.int64)),
       everywhere=True)
def _(m):
    return (m.lax.integer_pow(m.c(a([2, -3, 5], np.int8)), 7),
            m.lax.square(m.c(a([200, 16], np.uint8))),
            m.lax.integer_pow(m.c(a([2, 3])), 0))


@value("integer_pow_negative_float", (a([0.25, 1 / 9.0]), a([np.inf, 0.5])))
def _(m):
    return (m.lax.integer_pow(m.c(a([2.0, -3.0])), -2), m.lax.integer_pow(m.c(a([0.0, 2.0])),
                                                                           -1))


@value("bitwise_not_and_bool", (a([False, True]), a([252], np.uint8), a([True, False])),
       everywhere=True)
def _(m):
    t = m.c(a([True, False]))
    return (m.lax.bitwise_not(t), m.lax.bitwise_not(m.c(a([3], np.uint8))),
            m.lax.bitwise_and(t, m.c(a([True, True]))))


def _mulhi(x, y):
    bits = x.dtype.itemsize * 8
    return _wrap([(p * q) >> bits for p, q in zip(x.tolist(), y.tolist())], x.dtype)


_MX, _MY = a([-5, 2 ** 30, -1, 7], np.int32), a([3, 8, -1, -2 ** 31], np.int32)
_UX, _UY = a([2 ** 31, 7, 2 ** 32 - 1], np.uint32), a([4, 2 ** 31, 2 ** 32 - 1], np.uint32)


@value("mulhi_signed_unsigned", (_mulhi(_MX, _MY), _mulhi(_UX, _UY)))
def _(m):
    return m.lax.mulhi(m.c(_MX), m.c(_MY)), m.lax.mulhi(m.c(_UX), m.c(_UY))


# ---- floating elementwise: special values ----

_F = a([0.0, 1.0, -0.0, 1.0])
_T = a([1.0, 0.0, -1.0, 2.0])


@value("nextafter_float64_float32",
       (np.nextafter(_F, _T), np.nextafter(_F.astype(np.float32), _T.astype(np.float32))),
       tol=0)
def _(m):
    return (m.lax.nextafter(m.c(_F), m.c(_T)),
            m.lax.nextafter(m.c(_F.astype(np.float32)), m.c(_T.astype(np.float32))))


_HALVES = a([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.49999999999999994, -3.7])


def _round_away(x):
    return np.sign(x) * np.floor(np.abs(x) + 0.5) if False else np.where(
        np.abs(x - np.trunc(x)) >= 0.5, np.trunc(x) + np.sign(x), np.trunc(x))


@value("round_methods", (_round_away(_HALVES), np.round(_HALVES), _round_away(_HALVES),
                         np.round(_HALVES.astype(np.float32))), everywhere=True, tol=0)
def _(m):
    x = m.c(_HALVES)
    return (m.lax.round(x), m.lax.round(x, m.lax.RoundingMethod.TO_NEAREST_EVEN),
            m.lax.round(x, 0), m.lax.round(m.c(_HALVES.astype(np.float32)), 1))


_SPECIAL = a([np.inf, -np.inf, np.nan, 1.0, -0.0])


@value("is_finite_sign_of_specials", (np.isfinite(_SPECIAL), a([1.0, -1.0, np.nan, 1.0, -0.0])),
       tol=0)
def _(m):
    return m.lax.is_finite(m.c(_SPECIAL)), m.lax.sign(m.c(_SPECIAL))


@value("sign_keeps_negative_zero", a([True, False]))
def _(m):  # (the sign bit of lax.sign(-0.0) and of lax.sign(0.0))
    s = m.lax.sign(m.c(a([-0.0, 0.0])))
    return m.np.signbit(s)


_U = a([-1.0, 1.0, 1.5, 0.5, -0.999, 0.0])


@value("erf_inv_edges", sps.erfinv(_U))
def _(m):
    return m.lax.erf_inv(m.c(_U))


# digamma at 0 is SciPy's -inf (the limit from the right; -0.0 gives +inf): JAX gives NaN
# at every pole. Pinned (docs/coming-from-jax.md); the other values agree.
_DG = a([0.0, -0.0, -1.0, -1.5, 1.0, 1e-8, 30.0])


@value("digamma_lgamma_at_poles", (sps.digamma(_DG), sps.gammaln(_DG)),
       jax_want=lambda: (np.where(_DG == np.round(_DG), np.where(_DG > 0, sps.digamma(_DG),
                                                                  np.nan), sps.digamma(_DG)),
                         sps.gammaln(_DG)))
def _(m):
    return m.lax.digamma(m.c(_DG)), m.lax.lgamma(m.c(_DG))


_IA = a([0.0, -1.0, 1.0, 2.0, 1.0, 0.5, 3.0, 1e-3])
_IX = a([1.0, 1.0, 0.0, -1.0, np.inf, 0.3, 10.0, 2.0])


@value("igamma_igammac_edges", (sps.gammainc(_IA, _IX), sps.gammaincc(_IA, _IX)))
def _(m):
    return m.lax.igamma(m.c(_IA), m.c(_IX)), m.lax.igammac(m.c(_IA), m.c(_IX))


_GA, _GX = a([0.5, 2.0, 5.0]), a([0.3, 1.7, 4.0])


def _da_gammainc(a_, x, h=1e-6):
    return (sps.gammainc(a_ + h, x) - sps.gammainc(a_ - h, x)) / (2 * h)


def _gamma_pdf(a_, x):
    return np.exp((a_ - 1) * np.log(x) - x - sps.gammaln(a_))


# igamma_grad_a is dP(a, x)/da; random_gamma_grad the derivative of a gamma(a) sample x in a
# at fixed quantile: -(dP/da) / (dP/dx) (implicit differentiation)
@value("igamma_grad_a_random_gamma_grad",
       lambda: (_da_gammainc(_GA, _GX), -_da_gammainc(_GA, _GX) / _gamma_pdf(_GA, _GX)),
       tol=1e-7)
def _(m):
    return m.lax.igamma_grad_a(m.c(_GA), m.c(_GX)), m.lax.random_gamma_grad(m.c(_GA), m.c(_GX))


_PN, _PX = a([0.0, 1.0, 3.0, 2.5, -1.0]), a([1.5, 0.7, 2.0, 1.5, 1.5])
_ZX, _ZQ = a([1.0, 2.0, 0.5, 3.0, 4.5]), a([1.0, 1.0, 1.0, 2.5, 0.3])


@value("polygamma_zeta", lambda: (
    np.where((_PN >= 0) & (_PN == np.floor(_PN)), sps.polygamma(np.maximum(_PN, 0).astype(int),
                                                                 _PX), np.nan),
    sps.zeta(_ZX, _ZQ)), tol=1e-11)
def _(m):
    return m.lax.polygamma(m.c(_PN), m.c(_PX)), m.lax.zeta(m.c(_ZX), m.c(_ZQ))


_BX = a([-1.0, 0.0, 0.5, 50.0, -700.0])


@value("bessel_i0e_i1e", (sps.i0e(_BX), sps.i1e(_BX)))
def _(m):
    return m.lax.bessel_i0e(m.c(_BX)), m.lax.bessel_i1e(m.c(_BX))


@value("float_specials", (np.maximum(a([np.nan, 1.0]), a([1.0, np.nan])),
                          np.minimum(a([np.nan, 1.0]), a([1.0, np.nan])),
                          np.fmod(a([5.0, -5.0, np.inf]), a([0.0, 0.0, 1.0])),
                          np.arctan2(a([0.0, -0.0, 0.0]), a([-0.0, -1.0, 0.0])),
                          a([0.0, 1.0]), np.cbrt(a([-8.0, 27.0])),
                          a([np.inf, 4.0, np.nan])), tol=1e-15)
def _(m):
    return (m.lax.max(m.c(a([np.nan, 1.0])), m.c(a([1.0, np.nan]))),
            m.lax.min(m.c(a([np.nan, 1.0])), m.c(a([1.0, np.nan]))),
            m.lax.rem(m.c(a([5.0, -5.0, np.inf])), m.c(a([0.0, 0.0, 1.0]))),
            m.lax.atan2(m.c(a([0.0, -0.0, 0.0])), m.c(a([-0.0, -1.0, 0.0]))),
            m.lax.logistic(m.c(a([-800.0, 800.0]))), m.lax.cbrt(m.c(a([-8.0, 27.0]))),
            m.lax.pow(m.c(a([0.0, -2.0, -8.0])), m.c(a([-1.0, 2.0, 1 / 3]))))


@value("pow_integer_exponent_keeps_base_dtype", a([0.5, 9.0], np.float32), everywhere=True)
def _(m):
    return m.lax.pow(m.c(a([2.0, 3.0], np.float32)), m.c(a([-1, 2], np.int32)))


# complex() of float32 parts is complex64, a Python number among them too (JAX refuses that)
@value("complex_dtype_from_parts", a([1 + 2j], np.complex64), everywhere=True)
def _(m):
    return m.lax.complex(m.c(a([1.0], np.float32)), m.c(a([2.0], np.float32)))


@value("complex_dtype_with_python_part", (a([1 + 0j, 2 + 0j], np.complex64),
                                          a([3 + 1j], np.complex128)), jax_refuses=True)
def _(m):
    return (m.lax.complex(m.c(a([1.0, 2.0], np.float32)), 0.0),
            m.lax.complex(3.0, m.c(a([1.0]))))


# A Python number takes the operands' dtype (JAX 0.10's lax refuses it beside a float32 array)
@value("python_scalar_takes_array_dtype", (a([2.0, 3.0], np.float32), a([0.0, 1.0], np.float32),
                                           a([2, 3], np.uint8)), jax_refuses=True)
def _(m):
    x = m.c(a([1.0, 2.0], np.float32))
    return (m.lax.add(x, 1.0), m.lax.clamp(0.0, m.c(a([-1.0, 2.0], np.float32)), 1.0),
            m.lax.add(m.c(a([1, 2], np.uint8)), 1))


# ---- conversions ----

def _saturate(x, d):
    """XLA's float to integer conversion: truncate, saturate at the type's range, NaN -> 0."""
    info = np.iinfo(d)
    out = [0 if v != v else info.max if v >= info.max else info.min if v <= info.min
           else int(v) for v in x.tolist()]
    return a(out, d)


_BIG = a([1e10, -1e10, np.nan, 2.7, -2.7, np.inf, -np.inf, 300.7, 127.9, -128.9])


@value("convert_float_to_int_saturates", lambda: tuple(
    _saturate(_BIG, d) for d in (np.int32, np.uint8, np.int8, np.int16, np.int64)),
    everywhere=True)
def _(m):
    x = m.c(_BIG)
    return tuple(m.lax.convert_element_type(x, d)
                 for d in (np.int32, np.uint8, np.int8, np.int16, np.int64))


@value("convert_int_wraps_and_to_bool", (
    a([300, -1, 255]).astype(np.uint8), a([255], np.uint8).astype(np.int8),
    a([2 ** 32 + 5, -1]).astype(np.int32), a([0.5, 0.0, np.nan]).astype(bool),
    a([3, -3, 0], np.int32).astype(bool), a([True, False]).astype(np.float32)),
    everywhere=True)
def _(m):
    return (m.lax.convert_element_type(m.c(a([300, -1, 255])), np.uint8),
            m.lax.convert_element_type(m.c(a([255], np.uint8)), np.int8),
            m.lax.convert_element_type(m.c(a([2 ** 32 + 5, -1])), np.int32),
            m.lax.convert_element_type(m.c(a([0.5, 0.0, np.nan])), np.bool_),
            m.lax.convert_element_type(m.c(a([3, -3, 0], np.int32)), np.bool_),
            m.lax.convert_element_type(m.c(a([True, False])), np.float32))


@value("convert_float_narrowing_and_complex", (
    a([1e300, -1e300, 1e-300]).astype(np.float32), a([1.0], np.float32),
    a([5, 3]).astype(np.complex64), a(2 ** 32 % 2 ** 32, np.int32)))
def _(m):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (complex to real drops the imaginary part)
        to_real = m.lax.convert_element_type(m.c(a([1.0 + 2j])), np.float32)
    return (m.lax.convert_element_type(m.c(a([1e300, -1e300, 1e-300])), np.float32), to_real,
            m.lax.convert_element_type(m.c(a([5, 3])), np.complex64),
            m.lax.convert_element_type(2 ** 32, np.int32))


_F32 = a([1.0, -2.0, 0.1], np.float32)
_U8 = np.arange(8, dtype=np.uint8).reshape(2, 4) * 17


@value("bitcast_convert_type", (_F32.view(np.int32), _F32.view(np.uint8).reshape(3, 4),
                                _U8.view(np.float32).reshape(2), a([1.5, -3.0]).view(
                                    np.int32).reshape(2, 2),
                                a([1, -1], np.int32).view(np.uint32)), everywhere=True)
def _(m):
    return (m.lax.bitcast_convert_type(m.c(_F32), np.int32),
            m.lax.bitcast_convert_type(m.c(_F32), np.uint8),
            m.lax.bitcast_convert_type(m.c(_U8), np.float32),
            m.lax.bitcast_convert_type(m.c(a([1.5, -3.0])), np.int32),
            m.lax.bitcast_convert_type(m.c(a([1, -1], np.int32)), np.uint32))


# float <-> complex bit casts (pairs of parts): JAX refuses them
@value("bitcast_float_complex", (a([1.0, 2.0, 3.0, -4.0]).view(np.complex128),
                                 a([1 + 1j]).view(np.float64).reshape(1, 2)), jax_refuses=True)
def _(m):
    return (m.lax.bitcast_convert_type(m.c(a([[1.0, 2.0], [3.0, -4.0]])), np.complex128),
            m.lax.bitcast_convert_type(m.c(a([1 + 1j])), np.float64))


# ---- clamp, select_n, iota ----

@value("clamp_shapes_and_nan", (np.clip(a([-1.0, 0.5, 2.0], np.float32), 0, 1),
                                np.minimum(np.maximum(a([-1.0, 0.5, 2.0]), 0.0),
                                           a([1.0, 0.2, 1.0])),
                                a([0, 5]), a([np.nan, np.nan])), everywhere=True)
def _(m):
    return (m.lax.clamp(m.c(np.float32(0)), m.c(a([-1.0, 0.5, 2.0], np.float32)),
                        m.c(np.float32(1))),
            m.lax.clamp(m.c(a([0.0, 0.0, 0.0])), m.c(a([-1.0, 0.5, 2.0])),
                        m.c(a([1.0, 0.2, 1.0]))),
            m.lax.clamp(m.c(a([2, 5])), m.c(a([1, 3])), m.c(a([0, 9]))),  # (min > max: max)
            m.lax.clamp(m.c(a([np.nan, 0.0])), m.c(a([1.0, np.nan])), m.c(a([2.0, 1.0]))))


@value("select_n_int_and_bool_which", (a([0.0, 1.0, 2.0, 1.0]), a([0.0, 1.0]), a([1.0, 1.0])),
       everywhere=True)
def _(m):
    cs = [m.c(np.full(4, float(k))) for k in range(3)]
    return (m.lax.select_n(m.c(a([0, 1, 2, 1], np.int32)), *cs),
            m.lax.select_n(m.c(a([False, True])), m.c(np.zeros(2)), m.c(np.ones(2))),
            m.lax.select_n(True, m.c(np.zeros(2)), m.c(np.ones(2))))


@value("iota_broadcasted_iota_full", (np.arange(5, dtype=np.int8), np.arange(3, dtype=np.float32),
                                      np.broadcast_to(np.arange(3, dtype=np.int32), (2, 3)),
                                      np.broadcast_to(np.arange(2.0)[:, None], (2, 3)),
                                      np.full(2, 3, np.int32), np.full(2, 3.5, np.float32)))
def _(m):
    return (m.lax.iota(np.int8, 5), m.lax.iota(np.float32, 3),
            m.lax.broadcasted_iota(np.int32, (2, 3), 1),
            m.lax.broadcasted_iota(np.float64, (2, 3), 0),
            m.lax.full((2,), 3, np.int32), m.lax.full((2,), np.float32(3.5)))


# @@CASES@@

# -- running the cases ---------------------------------------------------------------------------

def _ref(name):
    ref = VALUES[name][1]
    return ref() if callable(ref) else ref


def _on(backend):
    return types.SimpleNamespace(**{**vars(FT), "c": lambda x: backend.asarray(
        x, dtype=np.asarray(x).dtype)})


def _run(name, backend):
    f, _, _, tol, _, _ = VALUES[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        got = optree.tree_map(backend.to_numpy, f(_on(backend)))
    same(got, _ref(name), tol)


@pytest.mark.parametrize("name", sorted(n for n, c in VALUES.items() if c[2]))
def test_value(name, backend):
    """The value, dtype and shape against NumPy/SciPy or a closed form."""
    _run(name, backend)


@pytest.mark.parametrize("name", sorted(n for n, c in VALUES.items() if not c[2]))
def test_value_numpy(name):
    _run(name, BackendCase("numpy"))


@pytest.mark.parametrize("name", sorted(VALUES))
def test_value_matches_jax(name):
    JX = _jx()
    f, _, _, tol, refuses, jax_want = VALUES[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if refuses:  # (functrans is deliberately lenient here)
            with pytest.raises((TypeError, ValueError)):
                f(JX)
            return
        got = optree.tree_map(np.asarray, f(JX))
    if jax_want is not None:  # (a pinned difference: JAX's own value)
        same(got, jax_want(), tol)
        return
    same(f(FT), got, tol)


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_error(name):
    f, exc, match, _ = ERRORS[name]
    with pytest.raises(exc, match=match):
        f(FT)


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_error_matches_jax(name):
    JX = _jx()
    f, _, _, refuses = ERRORS[name]
    if refuses:
        with pytest.raises((TypeError, ValueError, IndexError)):
            f(JX)
    else:  # functrans is deliberately stricter: JAX's call goes through
        f(JX)
