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
    r = m.c(a([7.0, -7.0, np.inf, -np.inf]))
    return m.lax.div(x, y), m.lax.rem(r, m.c(a([2.0, 2.0, 1.0, 1.0])))


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
    return np.where(np.abs(x - np.trunc(x)) >= 0.5, np.trunc(x) + np.sign(x), np.trunc(x))


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


# max, min and clamp of complex numbers: ordered lexicographically (real part, then imaginary
# part), as jax.lax.max and min order them; NumPy's maximum/minimum/clip use that order too.
# Pinned differences: with a NaN in either part functrans gives NaN, as NumPy's maximum (and
# lax.max of floats) do, where JAX's CPU result is the second operand unless the first
# compares greater (its comparisons with NaN are false); and JAX's CPU clamp of complex
# numbers compares real parts only (a tie: the bound), where functrans's is
# min(max(x, lo), hi) in the order of lax.max and lax.min.
_CXA = a([1 + 2j, 1 + 3j, 2 - 1j, -1 + 9j, 1 + 2j, 0.5 + 0.5j, 4 + 0j, 1 - 1j])
_CXB = a([1 + 3j, 1 + 2j, 1 + 5j, -1 + 8j, 1 + 2j, 0.5 + 0.25j, 1e-300 + 0j, 1 - 2j])
_CLO, _CHI = 0.5 + 0.5j, 1.5 + 0j


def _jax_complex_pick(x, y, greater):
    """JAX's (XLA CPU's) lax.max (``greater``) or lax.min of complex numbers: x where it
    compares greater (less) lexicographically, with NaN comparisons false; else y."""
    with np.errstate(invalid="ignore"):
        beats = (x.real > y.real) if greater else (x.real < y.real)
        beats_im = (x.imag > y.imag) if greater else (x.imag < y.imag)
        return np.where(beats | ((x.real == y.real) & beats_im), x, y)


def _jax_complex_clamp(lo, x, hi):
    """JAX's (XLA CPU's) clamp of complex numbers: by real parts alone, a tie giving the
    bound."""
    lo, x, hi = np.broadcast_arrays(lo, x, hi)
    step = np.where(x.real <= lo.real, lo, x)
    return np.where(step.real > hi.real, hi, step)


_CLX = a([1 + 3j, 1 + 1j, 5 + 1j, 5 + 3j, 1 + 2.5j, 2 + 0j, -1 + 5j])
_CLLO = a([1 + 2j, 1 + 2j, 0j, 0j, 1 + 2j, 0j, 0j])
_CLHI = a([5 + 0j, 5 + 0j, 5 + 2j, 5 + 2j, 1 + 3j, 1 + 3j, 1 + 0j])


@value("max_min_clamp_complex_lexicographic",
       (np.maximum(_CXA, _CXB), np.minimum(_CXA, _CXB), np.clip(_CXA, _CLO, _CHI)), everywhere=True)
def _(m):
    x, y = m.c(_CXA), m.c(_CXB)
    return m.lax.max(x, y), m.lax.min(x, y), m.lax.clamp(_CLO, x, _CHI)


@value("clamp_complex_equal_real_parts", np.minimum(np.maximum(_CLX, _CLLO), _CLHI),
       jax_want=lambda: _jax_complex_clamp(_CLLO, _CLX, _CLHI))
def _(m):
    return m.lax.clamp(m.c(_CLLO), m.c(_CLX), m.c(_CLHI))


_CXN = a([complex(np.nan, 0), complex(1, np.nan), complex(np.nan, np.nan), 1 + 1j, 0 + 5j])
_CXM = a([1 + 1j, 0 + 2j, 1 + 1j, complex(np.nan, 3), complex(1, np.nan)])


@value("max_min_complex_nan", (np.maximum(_CXN, _CXM), np.minimum(_CXN, _CXM)),
       jax_want=lambda: (_jax_complex_pick(_CXN, _CXM, True), _jax_complex_pick(_CXN, _CXM, False)))
def _(m):
    return m.lax.max(m.c(_CXN), m.c(_CXM)), m.lax.min(m.c(_CXN), m.c(_CXM))


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


@value("select_pred_shapes", (np.ones(2), a([0.0, 1.0]), np.zeros(2)), everywhere=True)
def _(m):  # (a 0-d predicate chooses whole arrays)
    z, o = m.c(np.zeros(2)), m.c(np.ones(2))
    return (m.lax.select(False, z, o), m.lax.select(m.c(a([True, False])), z, o),
            m.lax.select(m.c(a(True)), z, o))


# ---- dot_general ----

_DOTS = [  # (lhs shape, rhs shape, dimension numbers)
    ((3, 2), (2, 4), (([1], [0]), ([], []))),
    ((5, 3, 2), (3, 5, 2, 4), (([0, 2], [1, 2]), ([], []))),
    ((3, 3, 2), (3, 2, 4), (([2], [1]), ([0], [0]))),
    ((3, 3, 2), (2, 3, 4), (([2], [0]), ([0], [1]))),
    ((3, 4, 2, 4), (3, 4, 3, 2), (([2], [3]), ([0, 1], [0, 1]))),
    ((2, 3, 4), (3, 2, 4), (([2], [2]), ([0, 1], [1, 0]))),
    ((2, 3), (4,), (([], []), ([], []))),  # (an outer product)
]


def _dot_ref(x, y, dn):
    (lc, rc), (lb, rb) = dn
    letters = iter("abcdefghijklmnop")
    ls, rs = [None] * x.ndim, [None] * y.ndim
    for i, j in zip(lb, rb):
        ls[i] = rs[j] = next(letters)
    for i, j in zip(lc, rc):
        ls[i] = rs[j] = next(letters)
    for v in (ls, rs):
        for k, c in enumerate(v):
            v[k] = c or next(letters)
    out = ([ls[i] for i in lb] + [c for i, c in enumerate(ls) if i not in lb + lc]
           + [c for j, c in enumerate(rs) if j not in rb + rc])
    return np.einsum(f"{''.join(ls)},{''.join(rs)}->{''.join(out)}", x, y)


for _k, (_ls, _rs, _dn) in enumerate(_DOTS):
    _r = np.random.default_rng(_k)
    _x, _y = _r.normal(size=_ls), _r.normal(size=_rs)
    value(f"dot_general_{_k}", _dot_ref(_x, _y, _dn), everywhere=_k == 5)(
        lambda m, x=_x, y=_y, dn=_dn: m.lax.dot_general(m.c(x), m.c(y), dn))


_I8 = np.full((3,), 100, np.int8)


@value("dot_preferred_element_type", (a(30000, np.int32), _wrap([30000], np.int8)[0],
                                      a(3.0), a([6.0, 6.0], np.float32)), everywhere=True)
def _(m):
    x = m.c(_I8)
    return (m.lax.dot_general(x, x, (([0], [0]), ([], [])), preferred_element_type=np.int32),
            m.lax.dot_general(x, x, (([0], [0]), ([], []))),  # (int8 accumulation wraps)
            m.lax.dot(m.c(np.ones(3, np.float32)), m.c(np.ones(3, np.float32)),
                      preferred_element_type=np.float64),
            m.lax.dot(m.c(np.full((2, 3), 2.0, np.float32)), m.c(np.ones(3, np.float32))))


_BM = (np.random.default_rng(7).normal(size=(2, 3, 4)), np.random.default_rng(8).normal(
    size=(2, 4, 5)))


@value("batch_matmul", np.matmul(*_BM))
def _(m):
    return m.lax.batch_matmul(m.c(_BM[0]), m.c(_BM[1]))


# ---- convolutions (NumPy loops as the reference) ----

_CR = np.random.default_rng(11)
_CL, _CK = _CR.normal(size=(2, 4, 7, 6)), _CR.normal(size=(3, 4, 3, 2))


def _conv_case(name, lhs, rhs, ref_args, everywhere=False, **kw):
    from .test_lax_autodiff_cases import _conv_ref
    value(name, lambda: _conv_ref(lhs, rhs, *ref_args[:2], *ref_args[2:]),
          everywhere=everywhere)(
        lambda m: m.lax.conv_general_dilated(m.c(lhs), m.c(rhs), **kw))


_conv_case("conv_valid_strided", _CL, _CK, ((2, 1), [(0, 0), (0, 0)]), everywhere=True,
           window_strides=(2, 1), padding="VALID")
_conv_case("conv_same", _CL, _CK, ((1, 1), [(1, 1), (0, 1)]), window_strides=(1, 1),
           padding="SAME")
_conv_case("conv_same_lower", _CL, _CK, ((1, 2), [(1, 1), (0, 0)]), window_strides=(1, 2),
           padding="SAME_LOWER")
_conv_case("conv_pairs_dilations", _CL, _CK, ((1, 2), [(1, 2), (2, 0)], (2, 1), (1, 2)),
           window_strides=(1, 2), padding=[(1, 2), (2, 0)], lhs_dilation=(2, 1),
           rhs_dilation=(1, 2))
_conv_case("conv_negative_padding", _CL, _CK, ((1, 1), [(-1, 2), (0, -1)]),
           window_strides=(1, 1), padding=[(-1, 2), (0, -1)])
_G = np.random.default_rng(12)
_conv_case("conv_feature_groups", _G.normal(size=(2, 4, 5, 5)), _G.normal(size=(6, 2, 3, 3)),
           ((1, 1), [(0, 0), (0, 0)], None, None, 2), window_strides=(1, 1), padding="VALID",
           feature_group_count=2)
_conv_case("conv_batch_groups", _G.normal(size=(4, 3, 5, 4)), _G.normal(size=(6, 3, 2, 3)),
           ((1, 1), [(0, 0), (0, 0)], None, None, 1, 2), window_strides=(1, 1),
           padding="VALID", batch_group_count=2)


@value("conv_dimension_numbers_layouts", lambda: (
    np.transpose(_conv_same(), (0, 2, 3, 1)), np.transpose(_conv_same(), (0, 2, 3, 1))))
def _(m):
    nhwc, hwio = m.c(_CL.transpose(0, 2, 3, 1)), m.c(_CK.transpose(2, 3, 1, 0))
    return (m.lax.conv_general_dilated(nhwc, hwio, (1, 1), "SAME",
                                       dimension_numbers=("NHWC", "HWIO", "NHWC")),
            m.lax.conv_general_dilated(m.c(_CL), hwio, (1, 1), "SAME",
                                       dimension_numbers=("NCHW", "HWIO", "NHWC")))


def _conv_same():
    from .test_lax_autodiff_cases import _conv_ref
    return _conv_ref(_CL, _CK, (1, 1), [(1, 1), (0, 1)])


_G0 = (np.random.default_rng(13).normal(size=(4, 6)), np.random.default_rng(14).normal(
    size=(6, 5)))


@value("conv_0d_is_dot", np.dot(_G0[0], _G0[1]))
def _(m):
    return m.lax.conv_general_dilated(m.c(_G0[0]), m.c(_G0[1]), (), "VALID",
                                      dimension_numbers=("NC", "IO", "NC"))


@value("conv_integer_and_preferred", (
    a([[[np.convolve(np.arange(8), [2, -1, 1], "valid")]]]).reshape(1, 1, 6).astype(np.int32),
    np.full((1, 1, 4), 200, np.int32)), everywhere=True)
def _(m):
    return (m.lax.conv_general_dilated(m.c(np.arange(8, dtype=np.int32).reshape(1, 1, 8)),
                                       m.c(a([[[1, -1, 2]]], np.int32)), (1,), "VALID"),
            m.lax.conv_general_dilated(m.c(np.ones((1, 1, 5), np.int8)),
                                       m.c(np.full((1, 1, 2), 100, np.int8)), (1,), "VALID",
                                       preferred_element_type=np.int32))


_TX, _TK = _CR.normal(size=(2, 5, 4, 3)), _CR.normal(size=(3, 2, 3, 2))  # NHWC, HWIO


def _transpose_ref(x, k, strides, pads, rdil=(1, 1)):
    from .test_lax_autodiff_cases import _conv_ref
    out = _conv_ref(x.transpose(0, 3, 1, 2), k.transpose(3, 2, 0, 1), (1, 1), pads,
                    strides, rdil)
    return out.transpose(0, 2, 3, 1)


def _eff(k, r):
    return (k - 1) * r + 1


@value("conv_transpose_padding_kinds", lambda: (
    # 'SAME': output n * stride; 'VALID': n * stride + max(k - stride, 0); pairs: as given
    _transpose_ref(_TX, _TK, (2, 2), [(2, 1), (1, 1)]),
    _transpose_ref(_TX, _TK, (2, 1), [(2, 2), (1, 1)]),
    _transpose_ref(_TX, _TK, (2, 2), [(1, 0), (0, 2)]),
    # use_consistent_padding: pairs are the forward convolution's (k - 1 - p on each side)
    _transpose_ref(_TX, _TK, (2, 2), [(3 - 1 - 1, 3 - 1 - 0), (_eff(2, 2) - 1 - 0,
                                                                _eff(2, 2) - 1 - 2)],
                   (1, 2))))
def _(m):
    x, k, dn = m.c(_TX), m.c(_TK), ("NHWC", "HWIO", "NHWC")
    return (m.lax.conv_transpose(x, k, (2, 2), "SAME", dimension_numbers=dn),
            m.lax.conv_transpose(x, k, (2, 1), "VALID", dimension_numbers=dn),
            m.lax.conv_transpose(x, k, (2, 2), [(1, 0), (0, 2)], dimension_numbers=dn),
            m.lax.conv_transpose(x, k, (2, 2), [(1, 0), (0, 2)], rhs_dilation=(1, 2),
                                 dimension_numbers=dn, use_consistent_padding=True))


@value("conv_transpose_kernel_is_conv_vjp", lambda: _transpose_vjp())
def _(m):
    x, k = m.c(_TX), m.c(_TK.transpose(0, 1, 3, 2))
    return m.lax.conv_transpose(x, k, (2, 2), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"),
                                transpose_kernel=True)


def _transpose_vjp():
    """The gradient of the forward strided conv (kernel HWIO (3, 2, 2, 3), 'SAME') as a dense
    matrix built column by column from the NumPy reference: its transpose applied to x."""
    from .test_lax_autodiff_cases import _conv_ref
    k = _TK.transpose(0, 1, 3, 2)  # (as conv_transpose receives it)
    n_in = (2, 10, 8, 2)  # NHWC of the forward input: 5 * 2, 4 * 2
    pads = [_same_pads(10, 3, 2), _same_pads(8, 2, 2)]

    def fwd(v):
        return _conv_ref(v.transpose(0, 3, 1, 2), k.transpose(3, 2, 0, 1), (2, 2),
                         pads).transpose(0, 2, 3, 1)
    cols = [fwd(e.reshape(n_in)).ravel() for e in np.eye(int(np.prod(n_in)))]
    return (np.stack(cols).dot(_TX.ravel())).reshape(n_in)


# ---- reductions ----

_X3 = np.arange(24.0).reshape(2, 3, 4) % 7 - 3


@value("reduce_monoids_with_init", (5.0 + _X3.sum(axis=(0, 2)), 2.0 * _X3.prod(axis=1),
                                    np.maximum(_X3.max(axis=(0, 1, 2)), 1.5),
                                    np.minimum(_X3.min(axis=2), -1.0)), everywhere=True)
def _(m):
    x = m.c(_X3)
    return (m.lax.reduce(x, 5.0, m.lax.add, (0, 2)), m.lax.reduce(x, 2.0, m.lax.mul, (1,)),
            m.lax.reduce(x, 1.5, m.lax.max, (0, 1, 2)), m.lax.reduce(x, -1.0, m.lax.min, (2,)))


_B2 = a([[True, False], [True, True]])
_I2 = a([[1, 2, 4], [3, 5, 6]], np.int32)


@value("reduce_custom_bitwise_variadic", (
    _X3.sum(axis=1), _B2.all(axis=1), _B2.any(axis=1), np.bitwise_xor.reduce(_I2, axis=1),
    {"s": _X3.sum(axis=1), "m": np.maximum(_X3.max(axis=1), 0.0)}))
def _(m):
    x = m.c(_X3)
    return (m.lax.reduce(x, 0.0, lambda p, q: p + q, (1,)),
            m.lax.reduce(m.c(_B2), True, m.lax.bitwise_and, (1,)),
            m.lax.reduce(m.c(_B2), False, m.lax.bitwise_or, (1,)),
            m.lax.reduce(m.c(_I2), m.c(np.int32(0)), m.lax.bitwise_xor, (1,)),
            m.lax.reduce({"s": x, "m": x}, {"s": 0.0, "m": 0.0}, lambda p, q: {
                "s": m.lax.add(p["s"], q["s"]), "m": m.lax.max(p["m"], q["m"])}, (1,)))


@value("named_reductions", (np.nanmax(a([[1.0, np.nan], [2.0, 3.0]]), axis=1) * a([np.nan, 1]),
                            _B2.all(axis=1), np.bitwise_xor.reduce(_I2, axis=1),
                            _wrap([24], np.int8), _wrap([200], np.int8),
                            np.full(2, -np.inf), np.full(2, np.iinfo(np.int32).max, np.int32)),
       everywhere=True)
def _(m):
    return (m.lax.reduce_max(m.c(a([[1.0, np.nan], [2.0, 3.0]])), (1,)),
            m.lax.reduce_and(m.c(_B2), (1,)), m.lax.reduce_xor(m.c(_I2), (1,)),
            m.lax.reduce_prod(m.c(a([[2, 3, 4]], np.int8)), (1,)),
            m.lax.reduce_sum(m.c(a([[100, 100]], np.int8)), (1,)),
            m.lax.reduce_max(m.c(np.zeros((0, 2))), (0,)),
            m.lax.reduce_min(m.c(np.zeros((0, 2), np.int32)), (0,)))


def _flip_acc(f, x, axis, reverse):
    return np.flip(f(np.flip(x, axis), axis=axis), axis) if reverse else f(x, axis=axis)


@value("cumulative_reverse", (
    _flip_acc(np.cumsum, a([1, 2, 3, 4], np.int8), 0, True).astype(np.int8),
    _wrap([100, 200], np.int8), _flip_acc(np.cumprod, _X3, 1, True),
    _flip_acc(np.maximum.accumulate, _X3, 2, True), np.minimum.accumulate(a([3, 1, 2, 0],
                                                                           np.uint8)),
    np.maximum.accumulate(a([1.0, np.nan, 2.0])),
    _flip_acc(np.logaddexp.accumulate, a([0.0, 1.0, 2.0]), 0, True),
    _flip_acc(np.cumsum, _X3, 2, False)), everywhere=True)
def _(m):
    x = m.c(_X3)
    return (m.lax.cumsum(m.c(a([1, 2, 3, 4], np.int8)), reverse=True),
            m.lax.cumsum(m.c(a([100, 100], np.int8))),
            m.lax.cumprod(x, axis=1, reverse=True), m.lax.cummax(x, axis=2, reverse=True),
            m.lax.cummin(m.c(a([3, 1, 2, 0], np.uint8))),
            m.lax.cummax(m.c(a([1.0, np.nan, 2.0]))),
            m.lax.cumlogsumexp(m.c(a([0.0, 1.0, 2.0])), reverse=True),
            m.lax.cumsum(x, axis=2))


# a negative axis counts from the end (JAX 0.10 refuses it: "XLA operations do not allow")
@value("cumsum_negative_axis", np.cumsum(_X3, axis=-1), jax_refuses=True)
def _(m):
    return m.lax.cumsum(m.c(_X3), axis=-1)


# ---- reduce_window (NumPy loops as the reference) ----

def _rw_ref(x, init, op, dims, strides, pads, bdil=None, wdil=None):
    """XLA's reduce_window by loops: base-dilate and pad (holes and padding take no part:
    NaN marks them), then fold each window (window-dilated) into init."""
    nd = x.ndim
    bdil, wdil = bdil or (1,) * nd, wdil or (1,) * nd
    shape = [(n - 1) * b + 1 if n else 0 for n, b in zip(x.shape, bdil)]
    y = np.full(shape, np.nan)
    y[tuple(slice(None, None, b) for b in bdil)] = x
    for k, (lo, hi) in enumerate(pads):
        pw = [(0, 0)] * nd
        pw[k] = (max(lo, 0), max(hi, 0))
        y = np.pad(y, pw, constant_values=np.nan)
        idx = [slice(None)] * nd
        idx[k] = slice(max(-lo, 0), y.shape[k] - max(-hi, 0))
        y = y[tuple(idx)]
    eff = [(w - 1) * d + 1 for w, d in zip(dims, wdil)]
    outs = [max((n - e) // s + 1, 0) for n, e, s in zip(y.shape, eff, strides)]
    out = np.full(outs, init, dtype=x.dtype)
    for pos in np.ndindex(*outs):
        win = y[tuple(slice(p * s, p * s + e, d) for p, s, e, d in zip(pos, strides, eff, wdil))]
        acc = init
        for v in win.ravel():
            if not np.isnan(v):
                acc = op(acc, v)
        out[pos] = acc
    return out


def _same_pads(n, w, s, lower=False):
    total = max((-(-n // s) - 1) * s + w - n, 0)
    lo = total - total // 2 if lower else total // 2
    return (lo, total - lo)


_RX = np.random.default_rng(21).normal(size=(3, 2, 4, 6))
_RW = [  # (init, op, dims, strides, padding, pads for the reference, base, window dilation)
    (0.0, "add", (1, 1, 2, 1), (1, 2, 2, 1), "VALID", [(0, 0)] * 4, None, None),
    (-np.inf, "max", (1, 1, 2, 3), (1, 1, 1, 2), "SAME",
     [(0, 0), (0, 0), _same_pads(4, 2, 1), _same_pads(6, 3, 2)], None, None),
    (np.inf, "min", (2, 1, 2, 1), (1, 2, 2, 1), [(0, 1), (1, 0), (2, 3), (0, 2)],
     [(0, 1), (1, 0), (2, 3), (0, 2)], (2, 1, 3, 2), (1, 2, 2, 1)),
    (1.0, "mul", (1, 1, 2, 2), (1, 1, 1, 1), "SAME",
     [(0, 0), (0, 0), _same_pads(4, 2, 1), _same_pads(6, 3, 1)], None, (1, 1, 1, 2)),
    (0.0, "add", (1, 1, 2, 2), (1, 1, 1, 1), "SAME_LOWER",
     [(0, 0), (0, 0), _same_pads(4, 2, 1, True), _same_pads(6, 2, 1, True)], (1, 1, 2, 1),
     None),
]
_NP_OPS = {"add": np.add, "mul": np.multiply, "max": np.maximum, "min": np.minimum}

for _k, (_init, _op, _dims, _st, _pad, _pads, _bd, _wd) in enumerate(_RW):
    value(f"reduce_window_{_k}_{_op}",
          (lambda i=_init, o=_op, d=_dims, s=_st, p=_pads, b=_bd, w=_wd: _rw_ref(
              _RX, i, _NP_OPS[o], d, s, p, b, w)), everywhere=_k == 2, tol=1e-10)(
        lambda m, i=_init, o=_op, d=_dims, s=_st, p=_pad, b=_bd, w=_wd: m.lax.reduce_window(
            m.c(_RX), i, getattr(m.lax, o), d, s, p, b, w))

_RI = np.arange(24, dtype=np.int32).reshape(4, 6)


@value("reduce_window_integers", lambda: (
    _rw_ref(_RI, 0, np.add, (2, 2), (1, 1), [_same_pads(4, 2, 1), _same_pads(6, 2, 1)],
            (2, 3)),
    _rw_ref(_RI, np.iinfo(np.int32).min, np.maximum, (2, 1), (2, 1), [(0, 3), (1, 2)], None,
            (1, 2))), everywhere=True)
def _(m):
    return (m.lax.reduce_window(m.c(_RI), m.c(np.int32(0)), m.lax.add, (2, 2), (1, 1), "SAME",
                                (2, 3)),
            m.lax.reduce_window(m.c(_RI), m.c(np.int32(np.iinfo(np.int32).min)), m.lax.max,
                                (2, 1), (2, 1), [(0, 3), (1, 2)], (1, 1), (1, 2)))


# any computation (applied pairwise over the window) and pytrees of operands, as JAX's
# variadic reduce_window; padding and holes take no part, init_value is folded in once
@value("reduce_window_custom_and_variadic", lambda: (
    _rw_ref(_RX, 1.0, np.add, (1, 1, 2, 2), (1, 1, 2, 1), [(0, 0), (0, 1), (1, 0), (0, 0)],
            None, (1, 1, 2, 1)),
    (_rw_ref(_RX[0, 0], 0.0, np.add, (2, 2), (1, 1), [(0, 1), (0, 1)]),
     _rw_ref(_RX[0, 1], -np.inf, np.maximum, (2, 2), (1, 1), [(0, 1), (0, 1)]))))
def _(m):
    return (m.lax.reduce_window(m.c(_RX), 1.0, lambda p, q: p + q, (1, 1, 2, 2), (1, 1, 2, 1),
                                [(0, 0), (0, 1), (1, 0), (0, 0)], None, (1, 1, 2, 1)),
            m.lax.reduce_window((m.c(_RX[0, 0]), m.c(_RX[0, 1])), (0.0, -np.inf),
                                lambda p, q: (m.lax.add(p[0], q[0]), m.lax.max(p[1], q[1])),
                                (2, 2), (1, 1), "SAME"))


@value("reduce_window_shapes", ((0, 3, 2), (4, 6), ()))
def _(m):
    return (tuple(m.lax.reduce_window(m.c(np.ones((5, 3, 2))), 0.0, m.lax.add, (3, 1, 1),
                                      (1, 1, 1), "VALID", window_dilation=(3, 1, 1)).shape),
            tuple(m.lax.reduce_window(m.c(np.ones((4, 6))), 0.0, m.lax.add, (3, 4), (1, 1),
                                      "SAME").shape),
            tuple(m.lax.reduce_window(m.c(np.float64(3.0)), 0.0, m.lax.add, (), (), ()).shape))


def test_reduce_window_custom_computation_derivatives(backend):
    """The general computation's derivatives (central differences, dot-product identity)."""
    from functrans.testing import check_grads

    def f(x):
        return flax.reduce_window(x, 0.0, lambda p, q: p * q + p + q, (2, 2), (1, 1),
                                  [(0, 1), (1, 0)])
    check_grads(f, (backend.asarray(np.random.default_rng(3).uniform(0.1, 0.5, (3, 4))),),
                order=2, modes=("fwd", "rev"))


# ---- sort, top_k, argmin/argmax ----

_SPECIAL_KEYS = a([-np.inf, 0.0, -0.0, np.inf, np.nan, -np.nan])
_K1, _K2 = a([2, 1, 2, 1, 2]), a([0, 9, 8, 7, 0])
_V = a([1.0, 2.0, 3.0, 4.0, 5.0])


def _lexsort_ref(keys, others):
    order = np.lexsort(keys[::-1])
    return tuple(k[order] for k in keys) + tuple(o[order] for o in others)


# NaN sorts last and -0.0 ties with 0.0 (JAX's total order, stable): the values' order is kept
@value("sort_special_values_and_operands", (
    np.arange(6), _lexsort_ref([_K1, _K2], [_V]), _lexsort_ref([_K1], [_K2, _V]),
    np.sort(a([[3, 1, 2], [0, 5, 4]]), axis=0), np.sort(a([True, False, True]))),
    everywhere=True)
def _(m):
    return (m.lax.sort_key_val(m.c(_SPECIAL_KEYS), m.c(np.arange(6)), is_stable=True)[1],
            m.lax.sort((m.c(_K1), m.c(_K2), m.c(_V)), num_keys=2),
            m.lax.sort((m.c(_K1), m.c(_K2), m.c(_V)), num_keys=1, is_stable=True),
            m.lax.sort(m.c(a([[3, 1, 2], [0, 5, 4]])), dimension=0),
            m.lax.sort(m.c(a([True, False, True]))))


def _top_k_ref(x, k, axis=-1):
    order = np.argsort(-np.moveaxis(x, axis, -1), axis=-1, kind="stable")[..., :k]
    vals = np.take_along_axis(np.moveaxis(x, axis, -1), order, axis=-1)
    return np.moveaxis(vals, -1, axis), np.moveaxis(order.astype(np.int32), -1, axis)


_TK2 = a([[1, 5, 3], [6, 2, 6]], np.int32)


@value("top_k_ties_and_axis", (_top_k_ref(a([1.0, 3.0, 3.0, 2.0, 3.0]), 2),
                               _top_k_ref(_TK2, 2), _top_k_ref(_TK2, 1, axis=0),
                               (a([2.0, 1.0]), a([2, 0], np.int32))), everywhere=True)
def _(m):  # (ties: the lowest index first; the last: NaN is the largest in JAX's order)
    return (m.lax.top_k(m.c(a([1.0, 3.0, 3.0, 2.0, 3.0])), 2), m.lax.top_k(m.c(_TK2), 2),
            m.lax.top_k(m.c(_TK2), 1, axis=0), m.lax.top_k(m.c(a([1.0, 0.5, 2.0])), 2))


@value("argmin_argmax_index_dtype_and_nan", (
    a([1, 0], np.int32), a([1, 1], np.int8), a([1, 0], np.uint16), a(0, np.int32),
    a(0, np.int32)), everywhere=True)
def _(m):  # (the first of ties; the first NaN wins)
    return (m.lax.argmax(m.c(a([[1.0, 3.0, 3.0], [np.nan, 0.0, np.nan]])), 1, np.int32),
            m.lax.argmin(m.c(a([[1.0, 0.0, 0.0], [2.0, np.nan, -1.0]])), 1, np.int8),
            m.lax.argmax(m.c(a([[1, 3], [4, 2]], np.uint8)), 0, np.uint16),
            m.lax.argmax(m.c(a([True, False, True])), 0, np.int32),
            m.lax.argmax(m.c(a([-np.inf, -np.inf])), 0, np.int32))


# complex numbers sort by real, then imaginary part (as in JAX), on every backend
_CX = a([1 + 2j, 1 + 1j, 0 + 5j, -1 - 1j, 1 + 1j])


@value("sort_complex_lexicographic", (_CX[np.lexsort((_CX.imag, _CX.real))],
                                      (_CX[np.lexsort((_CX.imag, _CX.real))],
                                       np.lexsort((_CX.imag, _CX.real)))), everywhere=True)
def _(m):
    return (m.lax.sort(m.c(_CX)), m.lax.sort_key_val(m.c(_CX), m.c(np.arange(5))))


# ---- shapes: pad, slice, concatenate, broadcast, reshape, rev, transpose, squeeze ----

_P23 = np.arange(6.0).reshape(2, 3)
_PADS = [
    ((2, 3), [(1, 2, 1), (0, 1, 0)]), ((2, 3), [(0, 0, 0), (-2, -2, 4)]),
    ((2, 3), [(0, 0, 0), (-2, -3, 1)]), ((5,), [(-1, -2, 2)]), ((0, 2), [(1, 2, 1), (0, 1, 0)]),
    ((4, 2), [(-1, -2, 1), (1, 2, 2)]), ((2,), [(1, 2, 3)]),
]
for _k, (_sh, _cfg) in enumerate(_PADS):
    _x = np.arange(float(np.prod(_sh))).reshape(_sh) + 1
    value(f"pad_{_k}", (lambda x=_x, c=_cfg: _pad_ref(x, -1.0, c)), everywhere=_k == 5)(
        lambda m, x=_x, c=_cfg: m.lax.pad(m.c(x), -1.0, c))


def _pad_ref(x, v, config):
    from .test_lax_autodiff_cases import _pad_ref as ref
    return ref(x, v, config)


@value("pad_integer_and_array_value", (a([7, 0, 7, 1, 7, 2, 7], np.int32),
                                       a([9, 0, 1, 9], np.int32)), everywhere=True)
def _(m):
    x = m.c(np.arange(3, dtype=np.int32))
    return (m.lax.pad(x, m.c(np.int32(7)), [(1, 1, 1)]),
            m.lax.pad(m.c(np.arange(2, dtype=np.int32)), m.c(np.int32(9)), [(1, 1, 0)]))


_S = np.arange(15.0).reshape(5, 3)


@value("slice_strides", (np.arange(8.0)[1:6:2], _S[1:5:2, 1:3], _S[1:2, 1:1],
                         np.arange(105.0).reshape(7, 5, 3)[4:7, 0:1, 1:3]))
def _(m):
    return (m.lax.slice(m.c(np.arange(8.0)), (1,), (6,), (2,)),
            m.lax.slice(m.c(_S), (1, 1), (5, 3), (2, 1)), m.lax.slice(m.c(_S), (1, 1), (2, 1)),
            m.lax.slice(m.c(np.arange(105.0).reshape(7, 5, 3)), (4, 0, 1), (7, 1, 3)))


_D10 = np.arange(10.0)


# starts are clamped so that the slice fits, after a negative one counts from the end
@value("dynamic_slice_clamps", (_D10[6:10], _D10[7:9], _D10[0:2], _D10[7:9], _D10[198 - 190:],
                                np.arange(200.0)[198:200]), everywhere=True)
def _(m):
    x = m.c(_D10)
    return (m.lax.dynamic_slice(x, (8,), (4,)), m.lax.dynamic_slice(x, (-3,), (2,)),
            m.lax.dynamic_slice(x, (-13,), (2,)),
            m.lax.dynamic_slice(x, (m.c(np.int8(-3)),), (2,)),
            m.lax.dynamic_slice_in_dim(x, 8, 2),
            m.lax.dynamic_slice(m.c(np.arange(200.0)), (m.c(np.uint8(250)),), (2,)))


def _dus_ref(x, u, start):
    x = x.copy()
    s = min(max(start + (len(x) if start < 0 else 0), 0), len(x) - len(u))
    x[s:s + len(u)] = u
    return x


_UP = a([-1.0, -2.0, -3.0])


@value("dynamic_update_slice_clamps", (_dus_ref(_D10, _UP, 9), _dus_ref(_D10, _UP, -1),
                                       _dus_ref(_D10, _UP, -20), _dus_ref(_D10, _UP, 2)),
       everywhere=True)
def _(m):
    x, u = m.c(_D10), m.c(_UP)
    return (m.lax.dynamic_update_slice(x, u, (9,)), m.lax.dynamic_update_slice(x, u, (-1,)),
            m.lax.dynamic_update_slice(x, u, (m.c(np.int64(-20)),)),
            m.lax.dynamic_update_slice_in_dim(x, u, 2, 0))


# index arrays of different integer types (JAX requires one type) and an update of another
# dtype (cast to the operand's; JAX requires one dtype) are accepted
@value("dynamic_slices_mixed_index_types", (np.arange(12.0).reshape(3, 4)[1:3, 2:4],
                                            _dus_ref(_D10, a([-1.0, -2.0, -3.0]), 0)),
       jax_refuses=True)
def _(m):
    x = m.c(np.arange(12.0).reshape(3, 4))
    return (m.lax.dynamic_slice(x, (m.c(np.int32(1)), m.c(np.int16(2))), (2, 2)),
            m.lax.dynamic_update_slice(m.c(_D10), m.c(a([-1, -2, -3])), (0,)))


@value("concatenate_broadcast_reshape", (
    np.concatenate([np.ones((2, 3)), np.zeros((1, 3))], 0),
    np.concatenate([np.ones((2, 3)), np.zeros((2, 1))], 1),
    np.broadcast_to(np.arange(2.0)[:, None], (2, 3)),
    np.broadcast_to(np.arange(1.0)[None, :], (2, 3)), np.broadcast_to(_P23, (1, 2, 2, 3)),
    np.reshape(_P23.T, (3, 2)), np.reshape(_P23.T, (6,)), np.ones(4).reshape(2, 1, 2)))
def _(m):
    x = m.c(_P23)
    return (m.lax.concatenate([m.c(np.ones((2, 3))), m.c(np.zeros((1, 3)))], 0),
            m.lax.concatenate([m.c(np.ones((2, 3))), m.c(np.zeros((2, 1)))], 1),
            m.lax.broadcast_in_dim(m.c(np.arange(2.0)), (2, 3), (0,)),
            m.lax.broadcast_in_dim(m.c(np.arange(1.0)), (2, 3), (1,)),
            m.lax.broadcast(x, (1, 2)), m.lax.reshape(x, (3, 2), dimensions=(1, 0)),
            m.lax.reshape(x, (6,), dimensions=(1, 0)),
            m.lax.broadcast_in_dim(m.c(np.ones((2, 1, 2))), (2, 1, 2), (0, 1, 2)))


@value("rev_transpose_squeeze_expand_dims", (
    _P23[:, ::-1], _P23[::-1, ::-1], _P23, _P23.T, np.ones((2,)), np.ones((1, 2)),
    np.ones((1, 2, 3, 1)), np.ones((2, 3, 1)), np.arange(60.0).reshape(3, 4, 5).transpose(
        2, 1, 0)))
def _(m):
    x = m.c(_P23)
    return (m.lax.rev(x, (1,)), m.lax.rev(x, (0, 1)), m.lax.rev(x, ()),
            m.lax.transpose(x, (1, 0)), m.lax.squeeze(m.c(np.ones((1, 2, 1))), (0, 2)),
            m.lax.squeeze(m.c(np.ones((1, 2, 1))), (-1,)),
            m.lax.expand_dims(m.c(np.ones((2, 3))), (0, 3)),
            m.lax.expand_dims(m.c(np.ones((2, 3))), (-1,)),
            m.lax.transpose(m.c(np.arange(60.0).reshape(3, 4, 5)), (2, 1, 0)))


# a negative dimension of rev counts from the end (JAX refuses it)
@value("rev_negative_dimension", _P23[:, ::-1], jax_refuses=True)
def _(m):
    return m.lax.rev(m.c(_P23), (-1,))


@value("split_tile_collapse_index_take", (
    tuple(np.split(np.arange(5.0), [2])), np.tile(np.arange(3.0), 2), (6, 4), (4, 3, 10),
    np.arange(60.0).reshape(3, 4, 5)[[0, 2], :, [1, 3]], np.arange(60.0).reshape(3, 4, 5)[
        [2, 1]]))
def _(m):
    y = m.c(np.arange(60.0).reshape(3, 4, 5))
    return (tuple(m.lax.split(m.c(np.arange(5.0)), [2, 3])),
            m.lax.tile(m.c(np.arange(3.0)), (2,)),
            tuple(m.lax.collapse(m.c(np.zeros((2, 3, 4))), 0, 2).shape),
            tuple(m.lax.collapse(m.c(np.zeros((4, 3, 2, 5))), -2).shape),
            m.lax.index_take(y, (m.c(a([0, 2])), m.c(a([1, 3]))), (0, 2)),
            m.lax.index_take(y, (m.c(a([-1, -2])),), (0,)))


def _reduce_precision_ref(x, d):
    """Rounded to ``d``'s mantissa and range, its subnormals flushed to zero (XLA's)."""
    r = x.astype(d).astype(x.dtype)
    return np.where(np.abs(r) < np.finfo(d).tiny, np.copysign(0.0, x), r)


_RP = a([np.pi, 1e-40, 1e39, 65519.0, 65520.0, np.nan, -np.inf, -0.0, 3e-5, -1e-5])


@value("reduce_precision_to_float16_float32", (_reduce_precision_ref(_RP, np.float16),
                                               _reduce_precision_ref(_RP, np.float32)),
       tol=0)
def _(m):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return (m.lax.reduce_precision(m.c(_RP), 5, 10),
                m.lax.reduce_precision(m.c(_RP), 8, 23))


# ---- gather and scatter (modes, dtypes, general dimension numbers) ----

def _gd(m, **kw):
    return m.lax.GatherDimensionNumbers(**kw)


def _sd(m, **kw):
    return m.lax.ScatterDimensionNumbers(**kw)


_GI = a([[0], [7], [-1], [4]])


# mode='fill': out-of-bounds windows give NaN (inexact), the minimum (signed), the maximum
# (unsigned), True (bool), or fill_value
@value("gather_fill_defaults_by_dtype", (
    a([0.0, np.nan, np.nan, 4.0]), a([0, np.iinfo(np.int32).min, np.iinfo(np.int32).min, 4],
                                     np.int32),
    a([0, 255, 255, 4], np.uint8), a([False, True, True, False]), a([0.0, -9.0, -9.0, 4.0]),
    a([0.0, 4.0, 0.0, 4.0])), everywhere=True)
def _(m):
    dn = _gd(m, offset_dims=(), collapsed_slice_dims=(0,), start_index_map=(0,))
    i = m.c(_GI)

    def g(x, **kw):
        return m.lax.gather(m.c(x), i, dn, (1,), **kw)
    return (g(np.arange(5.0), mode="fill"), g(np.arange(5, dtype=np.int32), mode="fill"),
            g(np.arange(5, dtype=np.uint8), mode="fill"),
            g(a([False, False, False, False, False]), mode="fill"),
            g(np.arange(5.0), mode="fill", fill_value=-9.0), g(np.arange(5.0), mode="clip"))


_OP = np.arange(50.0).reshape(10, 5)


@value("gather_general_dimension_numbers", lambda: (
    np.stack([_OP[0, 2:5], _OP[1, 0:3], _OP[9, 2:5]]),
    np.stack([_OP[0:2, 2], _OP[3:5, 1]]),
    _OP[:, [1, 3]],
    np.arange(10.0).reshape(2, 5)[[[0, 0], [1, 1]], [[0, 2], [1, 4]]],
    _batched_gather_ref()), everywhere=True)
def _(m):
    x = m.c(_OP)
    return (m.lax.gather(x, m.c(a([[0, 2], [1, 0], [9, 4]])), _gd(
                m, offset_dims=(1,), collapsed_slice_dims=(0,), start_index_map=(0, 1)),
                (1, 3)),  # (the last start clamped: 4 -> 2)
            m.lax.gather(x, m.c(a([[2, 0], [1, 3]])), _gd(
                m, offset_dims=(1,), collapsed_slice_dims=(1,), start_index_map=(1, 0)),
                (2, 1)),
            m.lax.gather(x, m.c(a([[1], [3]])), _gd(
                m, offset_dims=(0,), collapsed_slice_dims=(1,), start_index_map=(1,)),
                (10, 1)),
            m.lax.gather(m.c(np.arange(10.0).reshape(2, 5)), m.c(a([[[0], [2]], [[1], [4]]])),
                         _gd(m, offset_dims=(), collapsed_slice_dims=(1,),
                             start_index_map=(1,), operand_batching_dims=(0,),
                             start_indices_batching_dims=(0,)), (1, 1)),
            m.lax.gather(m.c(np.arange(60.0).reshape(2, 3, 10)),
                         m.c(a([[[0], [1]], [[2], [3]], [[4], [8]]])),
                         _gd(m, offset_dims=(2,), collapsed_slice_dims=(),
                             start_index_map=(2,), operand_batching_dims=(0, 1),
                             start_indices_batching_dims=(1, 0)), (1, 1, 3)))


def _batched_gather_ref():
    """Operand (2, 3, 10) batched on axes (0, 1) with the indices' axes (1, 0): result
    [i, j, :] is operand[j, i, s:s + 3] with s clamped to 7."""
    x = np.arange(60.0).reshape(2, 3, 10)
    idx = a([[[0], [1]], [[2], [3]], [[4], [8]]])
    return np.stack([np.stack([x[j, i, min(idx[i, j, 0], 7):min(idx[i, j, 0], 7) + 3]
                               for j in range(2)]) for i in range(3)])


def _scatter_ref(x, starts, upd, combine):
    x = x.copy()
    for s, u in zip(starts, upd):
        if s is not None:
            x[s] = combine(x[s], u)
    return x


_SI = a([[0], [2], [2], [7], [-1]])
_SU = a([1.0, 2.0, 3.0, 4.0, 5.0])


@value("scatter_modes_and_combiners", (
    _scatter_ref(np.zeros(5), [0, 2, 2, 4, 0], _SU, np.add),       # clip (the default too)
    _scatter_ref(np.zeros(5), [0, 2, 2, None, None], _SU, np.add),  # fill: dropped
    _scatter_ref(np.zeros(5), [0, 2, 2], _SU[:3], np.subtract),
    _scatter_ref(np.full(5, 2.0), [0, 2, 2], _SU[:3], np.multiply),
    _scatter_ref(np.full(5, 2.0), [0, 2, 2], a([1.0, 5.0, 3.0]), np.minimum),
    _scatter_ref(np.full(5, 2, np.int32), [0, 2, 2], a([1, 5, 3], np.int32), np.maximum),
    _scatter_ref(np.zeros(5, np.int8), [0, 0], a([100, 100], np.int8),
                 lambda p, q: _wrap([int(p) + int(q)], np.int8)[0])), everywhere=True)
def _(m):
    dn = _sd(m, update_window_dims=(), inserted_window_dims=(0,),
             scatter_dims_to_operand_dims=(0,))
    i3 = m.c(_SI[:3])
    return (m.lax.scatter_add(m.c(np.zeros(5)), m.c(_SI), m.c(_SU), dn, mode="clip"),
            m.lax.scatter_add(m.c(np.zeros(5)), m.c(_SI), m.c(_SU), dn, mode="fill"),
            m.lax.scatter_sub(m.c(np.zeros(5)), i3, m.c(_SU[:3]), dn),
            m.lax.scatter_mul(m.c(np.full(5, 2.0)), i3, m.c(_SU[:3]), dn),
            m.lax.scatter_min(m.c(np.full(5, 2.0)), i3, m.c(a([1.0, 5.0, 3.0])), dn),
            m.lax.scatter_max(m.c(np.full(5, 2, np.int32)), i3, m.c(a([1, 5, 3], np.int32)), dn),
            m.lax.scatter_add(m.c(np.zeros(5, np.int8)), m.c(a([[0], [0]])),
                              m.c(a([100, 100], np.int8)), dn))


@value("scatter_general_dimension_numbers", lambda: (_sg1(), _sg2(), _sg3()))
def _(m):
    return (m.lax.scatter_add(m.c(np.zeros((10, 5))), m.c(a([[0], [2], [1]])),
                              m.c(np.arange(9.0).reshape(3, 3)), _sd(
                                  m, update_window_dims=(1,), inserted_window_dims=(0,),
                                  scatter_dims_to_operand_dims=(0,))),
            m.lax.scatter_add(m.c(np.zeros((2, 5))), m.c(a([[[0], [2]], [[1], [1]]])),
                              m.c(a([[1.0, 2.0], [3.0, 4.0]])), _sd(
                                  m, update_window_dims=(), inserted_window_dims=(1,),
                                  scatter_dims_to_operand_dims=(1,), operand_batching_dims=(0,),
                                  scatter_indices_batching_dims=(0,))),
            m.lax.scatter(m.c(np.zeros((3, 4))), m.c(a([[1, 2], [0, 0]])), m.c(a([5.0, 6.0])),
                          _sd(m, update_window_dims=(), inserted_window_dims=(0, 1),
                              scatter_dims_to_operand_dims=(1, 0))))


def _sg1():
    out = np.zeros((10, 5))
    for r, row in zip([0, 2, 1], np.arange(9.0).reshape(3, 3)):
        out[r, :3] += row
    return out


def _sg2():
    out = np.zeros((2, 5))
    out[0, 0] += 1.0
    out[0, 2] += 2.0
    out[1, 1] += 3.0 + 4.0
    return out


def _sg3():
    out = np.zeros((3, 4))
    out[2, 1], out[0, 0] = 5.0, 6.0  # (index vectors (1, 2) and (0, 0) map to axes (1, 0))
    return out


@value("gather_scatter_without_index_vectors", ((0,), (0,)))
def _(m):  # (no window is taken: any slice size goes, as in XLA)
    empty = m.c(np.zeros((0, 1), np.int32))
    g = m.lax.gather(m.c(np.zeros((0,))), empty, _gd(m, offset_dims=(), collapsed_slice_dims=(0,),
                                                     start_index_map=(0,)), (1,))
    s = m.lax.scatter_add(m.c(np.zeros((0,))), empty, m.c(np.zeros((0,))), _sd(
        m, update_window_dims=(), inserted_window_dims=(0,), scatter_dims_to_operand_dims=(0,)))
    return tuple(g.shape), tuple(s.shape)


# ---- more deliberate leniencies (values pinned; JAX refuses) ----

@value("lenient_python_numbers_and_axes", (a([7, 0, 7, 1, 7, 2, 7], np.int32),
                                           a([1.0, 4.0], np.float32), a([0, 0], np.int32)),
       jax_refuses=True)
def _(m):  # (a Python int padding value; a Python float exponent; a negative argmin axis)
    return (m.lax.pad(m.c(np.arange(3, dtype=np.int32)), 7, [(1, 1, 1)]),
            m.lax.pow(m.c(a([1.0, 2.0], np.float32)), 2.0),
            m.lax.argmin(m.c(np.ones((2, 3))), -1, np.int32))


@value("lenient_reduce_python_init_cummax_bool", (a([2.0, 5.0]), a([True, True, True])),
       jax_refuses=True)
def _(m):  # (a Python int init for a float operand; cummax of booleans)
    return (m.lax.reduce(m.c(np.arange(6.0).reshape(2, 3)), 0, m.lax.max, (1,)),
            m.lax.cummax(m.c(a([True, False, True]))))


# ---- errors (functrans's message; JAX refuses the same call) ----

def _e(name, exc, match, f, jax_refuses=True):
    error(name, exc, match, jax_refuses)(f)


_f32, _i32 = np.ones(3, np.float32), np.ones(3, np.int32)
_ALL = "does not accept dtype"
for _name, _exc, _match, _f in [
    # elementwise dtypes and shapes
    ("add_mixed_dtypes", TypeError, "same dtypes", lambda m: m.lax.add(m.c(_i32), m.c(_f32))),
    ("add_int_and_float_numbers", TypeError, "cannot take",
     lambda m: m.lax.add(1, 2.0)),
    ("add_python_int_out_of_range", TypeError, "cannot take",
     lambda m: m.lax.add(m.c(np.ones(3, np.int8)), 1000)),
    ("add_ranks_differ", TypeError, "one shape",
     lambda m: m.lax.add(m.c(np.ones((2, 3))), m.c(np.ones(3)))),
    ("rem_complex", TypeError, _ALL, lambda m: m.lax.rem(2 + 3j, 4 + 5j)),
    ("lt_complex", TypeError, _ALL, lambda m: m.lax.lt(2 + 3j, 4 + 5j)),
    ("population_count_bool", TypeError, _ALL, lambda m: m.lax.population_count(True)),
    ("is_finite_int", TypeError, _ALL, lambda m: m.lax.is_finite(m.c(a([1, 2])))),
    ("round_int", TypeError, _ALL, lambda m: m.lax.round(m.c(a([1, 2])))),
    ("sqrt_int", TypeError, _ALL, lambda m: m.lax.sqrt(m.c(a([1, 2])))),
    ("exp_int32", TypeError, _ALL, lambda m: m.lax.exp(m.c(_i32))),
    ("abs_uint8", TypeError, _ALL, lambda m: m.lax.abs(m.c(np.ones(2, np.uint8)))),
    ("pow_int_base", TypeError, _ALL, lambda m: m.lax.pow(m.c(a([2, 3])), m.c(a([1, 2])))),
    ("conj_int", TypeError, _ALL, lambda m: m.lax.conj(m.c(a([1, 2])))),
    ("real_of_float", TypeError, _ALL, lambda m: m.lax.real(m.c(a([1.0, 2.0])))),
    ("integer_pow_int_negative", TypeError, "negative powers",
     lambda m: m.lax.integer_pow(m.c(_i32), -1)),
    ("clamp_bound_shape", TypeError, "one shape|0-d or of the operand",
     lambda m: m.lax.clamp(m.c(np.zeros(2)), m.c(np.ones(3)), 1.0)),
    ("clamp_dtypes", TypeError, "same dtypes",
     lambda m: m.lax.clamp(m.c(np.int32(2)), m.c(np.ones(3)), m.c(np.int32(3)))),
    ("iota_negative", ValueError, "nonnegative", lambda m: m.lax.iota(np.int32, -1)),
    ("iota_bool", TypeError, _ALL, lambda m: m.lax.iota(np.bool_, 2)),
    ("broadcasted_iota_dimension", ValueError, "out of range",
     lambda m: m.lax.broadcasted_iota(np.int32, (2, 3), 2)),
    ("bitcast_last_axis", ValueError, "last axis must have size 4",
     lambda m: m.lax.bitcast_convert_type(m.c(np.ones((2, 3), np.uint8)), np.float32)),
    ("bitcast_bool", TypeError, "bool", lambda m: m.lax.bitcast_convert_type(
        m.c(a([True])), np.uint8)),
    ("select_n_dtypes", TypeError, "one dtype", lambda m: m.lax.select_n(
        m.c(a([0, 1], np.int32)), m.c(np.zeros(2)), m.c(np.ones(2, np.float32)))),
    ("select_n_shapes", TypeError, "one shape", lambda m: m.lax.select_n(
        m.c(a([0, 1], np.int32)), m.c(np.zeros(2)), m.c(np.ones(3)))),
    ("select_n_which_shape", TypeError, "0-d or of the cases' shape", lambda m: m.lax.select_n(
        m.c(a([0, 1, 1], np.int32)), m.c(np.zeros(2)), m.c(np.ones(2)))),
    ("select_n_which_float", TypeError, "boolean or integer", lambda m: m.lax.select_n(
        m.c(a([0.0, 1.0])), m.c(np.zeros(2)), m.c(np.ones(2)))),
    ("select_n_no_case", ValueError, "at least one case", lambda m: m.lax.select_n(
        m.c(a([0, 1])))),
    ("select_pred_shape", TypeError, "one shape", lambda m: m.lax.select(
        m.c(a([True, False, True])), m.c(np.zeros(2)), m.c(np.ones(2)))),
    ("select_n_bool_three_cases", TypeError, "at most 2", lambda m: m.lax.select_n(
        m.c(a([True, False])), m.c(np.zeros(2)), m.c(np.ones(2)), m.c(np.ones(2)))),
    # dot_general
    ("dot_general_contracting_sizes", TypeError, "contracting dimensions must have equal",
     lambda m: m.lax.dot_general(m.c(np.ones((2, 3))), m.c(np.ones((4, 3))),
                                 (([1], [0]), ([], [])))),
    ("dot_general_batch_sizes", TypeError, "batch dimensions must have equal",
     lambda m: m.lax.dot_general(m.c(np.ones((2, 3))), m.c(np.ones((3, 3))),
                                 (([1], [1]), ([0], [0])))),
    ("dot_general_repeated_axis", TypeError, "listed twice",
     lambda m: m.lax.dot_general(m.c(np.ones((2, 3))), m.c(np.ones((3, 3))),
                                 (([1, 1], [0, 0]), ([], [])))),
    ("dot_general_axis_out_of_range", ValueError, "out of range",
     lambda m: m.lax.dot_general(m.c(np.ones((2, 3))), m.c(np.ones((3, 3))),
                                 (([2], [0]), ([], [])))),
    ("dot_general_unpaired_batch", TypeError, "pair up",
     lambda m: m.lax.dot_general(m.c(np.ones((2, 3))), m.c(np.ones((3, 3))),
                                 (([1], [0]), ([0], [])))),
    # pad and slices
    ("pad_value_not_scalar", TypeError, "must be a scalar",
     lambda m: m.lax.pad(m.c(np.zeros(2)), m.c(np.zeros(2)), [(0, 0, 0)])),
    ("pad_config_length", ValueError, "one \\(low, high, interior\\) triple per axis",
     lambda m: m.lax.pad(m.c(np.zeros(2)), 0.0, [(0, 1, 0), (0, 1, 0)])),
    ("pad_negative_interior", ValueError, "interior padding must be nonnegative",
     lambda m: m.lax.pad(m.c(np.zeros(2)), 0.0, [(0, 1, -1)])),
    ("pad_negative_size", ValueError, "negative size",
     lambda m: m.lax.pad(m.c(np.zeros(2)), 0.0, [(-3, 0, 0)])),
    ("pad_negative_size_interior", ValueError, "negative size",
     lambda m: m.lax.pad(m.c(np.zeros(2)), 0.0, [(-4, 0, 1)])),
    ("pad_float_value_int_operand", TypeError, "cannot take",
     lambda m: m.lax.pad(m.c(np.zeros(2, np.int32)), 0.0, [(1, 1, 0)])),
    ("slice_zero_stride", ValueError, "stride >= 1",
     lambda m: m.lax.slice(m.c(np.arange(8.0)), (1,), (3,), (0,))),
    ("slice_negative_stride", ValueError, "stride >= 1",
     lambda m: m.lax.slice(m.c(np.arange(8.0)), (1,), (3,), (-1,))),
    ("slice_start_after_limit", ValueError, "start <= limit",
     lambda m: m.lax.slice(m.c(np.arange(8.0)), (5,), (3,))),
    ("slice_too_many_indices", (TypeError, ValueError), "one entry per axis",
     lambda m: m.lax.slice(m.c(np.arange(8.0)), (1, 2), (3, 4))),
    ("dynamic_slice_size_too_big", ValueError, "does not fit",
     lambda m: m.lax.dynamic_slice(m.c(np.arange(10.0)), (2,), (11,))),
    ("dynamic_slice_vector_start", TypeError, "must be a scalar",
     lambda m: m.lax.dynamic_slice_in_dim(m.c(np.arange(10.0)), m.c(a([2, 2])), 3)),
    ("dynamic_update_slice_too_big", ValueError, "does not fit",
     lambda m: m.lax.dynamic_update_slice(m.c(np.arange(10.0)), m.c(np.ones(11)), (0,))),
    # shapes
    ("concatenate_dtypes", TypeError, "same dtypes", lambda m: m.lax.concatenate(
        [m.c(np.ones((2, 3))), m.c(np.zeros((1, 3), np.float32))], 0)),
    ("concatenate_shapes", ValueError, "differ outside axis 0", lambda m: m.lax.concatenate(
        [m.c(np.ones((2, 3))), m.c(np.zeros((1, 2)))], 0)),
    ("concatenate_ranks", ValueError, "differ outside axis 0", lambda m: m.lax.concatenate(
        [m.c(np.ones((2, 3))), m.c(np.zeros(3))], 0)),
    ("concatenate_nothing", ValueError, "at least one operand",
     lambda m: m.lax.concatenate([], 0)),
    ("broadcast_in_dim_dims_length", TypeError, "one entry per operand axis",
     lambda m: m.lax.broadcast_in_dim(m.c(np.ones(2)), (2, 2), (0, 1))),
    ("broadcast_in_dim_lower_rank", TypeError, "strictly increasing axes of the result",
     lambda m: m.lax.broadcast_in_dim(m.c(np.ones((2, 2))), (2,), (0, 1))),
    ("broadcast_in_dim_out_of_range", TypeError, "strictly increasing axes of the result",
     lambda m: m.lax.broadcast_in_dim(m.c(np.ones(2)), (2, 3), (2,))),
    ("broadcast_in_dim_size", TypeError, "neither 1 nor 3",
     lambda m: m.lax.broadcast_in_dim(m.c(np.ones(2)), (3,), (0,))),
    ("reshape_size", ValueError, "cannot reshape",
     lambda m: m.lax.reshape(m.c(np.arange(6.0)), (4, 2))),
    ("reshape_negative", TypeError, "nonnegative",
     lambda m: m.lax.reshape(m.c(np.arange(6.0)), (-1, 2))),
    ("reshape_float_sizes", TypeError, "must be integers",
     lambda m: m.lax.reshape(m.c(np.arange(6.0)), (1.5, 2.0))),
    ("reshape_dimensions_not_permutation", (TypeError, ValueError), "not a permutation",
     lambda m: m.lax.reshape(m.c(_P23), (6,), dimensions=(0, 0))),
    ("rev_out_of_range", ValueError, "out of range", lambda m: m.lax.rev(m.c(_P23), (2,))),
    ("rev_repeated", ValueError, "repeated axis", lambda m: m.lax.rev(m.c(_P23), (0, 0))),
    ("transpose_short", ValueError, "not a permutation",
     lambda m: m.lax.transpose(m.c(_P23), (0,))),
    ("transpose_repeated", ValueError, "not a permutation",
     lambda m: m.lax.transpose(m.c(_P23), (0, 0))),
    ("squeeze_repeated", ValueError, "twice",
     lambda m: m.lax.squeeze(m.c(np.ones((1, 2, 3))), (0, 0))),
    ("squeeze_out_of_range", ValueError, "out of range",
     lambda m: m.lax.squeeze(m.c(np.ones((1, 2, 3))), (-4,))),
    ("squeeze_not_one", ValueError, "size other than one",
     lambda m: m.lax.squeeze(m.c(np.ones((1, 2, 3))), (1,))),
    ("expand_dims_repeated", ValueError, "twice",
     lambda m: m.lax.expand_dims(m.c(np.ones((2, 3))), (0, 0))),
    ("expand_dims_out_of_range", ValueError, "out of range",
     lambda m: m.lax.expand_dims(m.c(np.ones((2, 3))), (5,))),
    ("split_sizes", ValueError, "non-negative and add up",
     lambda m: m.lax.split(m.c(np.arange(5.0)), [-1, 6])),
    ("split_axis", ValueError, "out of range",
     lambda m: m.lax.split(m.c(np.arange(5.0)), (), axis=1)),
    # reductions, sorting
    ("reduce_repeated_axes", ValueError, "repeated axes",
     lambda m: m.lax.reduce(m.c(np.arange(3)), 0, m.lax.add, (0, 0))),
    ("reduce_init_not_scalar", ValueError, "must be scalars",
     lambda m: m.lax.reduce(m.c(np.ones(5)), m.c(np.ones(5)), m.lax.add, (0,))),
    ("cumsum_bool", TypeError, _ALL, lambda m: m.lax.cumsum(m.c(a([True, True])))),
    ("cumsum_axis", ValueError, "out of range", lambda m: m.lax.cumsum(m.c(_X3), axis=3)),
    ("cumlogsumexp_int", TypeError, _ALL,
     lambda m: m.lax.cumlogsumexp(m.c(a([1, 2])))),
    ("sort_num_keys_too_many", ValueError, "num_keys must be between 1",
     lambda m: m.lax.sort((m.c(a([2, 1])), m.c(a([0, 9]))), num_keys=3)),
    ("sort_num_keys_zero", ValueError, "num_keys must be 1",
     lambda m: m.lax.sort(m.c(a([3, 1, 2])), num_keys=0)),
    ("sort_shapes", TypeError, "one shape",
     lambda m: m.lax.sort((m.c(a([2, 1])), m.c(a([0, 9, 3]))))),
    ("sort_dimension", ValueError, "out of range",
     lambda m: m.lax.sort(m.c(a([3, 1, 2])), dimension=1)),
    ("top_k_too_big", ValueError, "must be between 0 and the axis size",
     lambda m: m.lax.top_k(m.c(a([1.0, 2.0])), 3)),
    ("top_k_negative", ValueError, "must be between 0 and the axis size",
     lambda m: m.lax.top_k(m.c(a([1.0, 2.0])), -1)),
    ("top_k_scalar", ValueError, "out of range", lambda m: m.lax.top_k(m.c(np.float64(1.0)), 1)),
    ("argmax_float_index_dtype", TypeError, "index_dtype must be an integer",
     lambda m: m.lax.argmax(m.c(np.ones((2, 2))), 0, np.float32)),
    ("argmin_bool_index_dtype", TypeError, "index_dtype must be an integer",
     lambda m: m.lax.argmin(m.c(np.ones((2, 2))), 0, np.bool_)),
    ("argmin_empty_axis", ValueError, "empty",
     lambda m: m.lax.argmin(m.c(np.ones((0, 2))), 0, np.int32)),
    ("argmin_axis_out_of_range", ValueError, "out of range",
     lambda m: m.lax.argmin(m.c(np.ones((2, 3))), 2, np.int32)),
    ("convert_to_none", (TypeError, ValueError), "not a data type",
     lambda m: m.lax.convert_element_type(m.c(a([1.5])), None)),
]:
    _e(_name, _exc, _match, _f)

# gather and scatter dimension numbers (operand (10, 5) unless said)
_G1 = a([[0], [2]])
for _name, _match, _kw, _idx, _sizes in [
    ("gather_collapse_size", "needs slice size 1", dict(offset_dims=(1,),
     collapsed_slice_dims=(0,), start_index_map=(0,)), _G1, (2, 3)),
    ("gather_window_too_big", "does not fit", dict(offset_dims=(1,), collapsed_slice_dims=(0,),
     start_index_map=(0,)), _G1, (1, 6)),
    ("gather_slice_sizes_length", "slice_sizes has 1 entries", dict(
        offset_dims=(1,), collapsed_slice_dims=(0,), start_index_map=(0,)), _G1, (1,)),
    ("gather_index_vector_length", "must have the length of start_index_map", dict(
        offset_dims=(1,), collapsed_slice_dims=(0,), start_index_map=(0,)),
     a([[0, 1], [2, 1]]), (1, 3)),
    ("gather_start_index_map_range", "start_index_map must name distinct", dict(
        offset_dims=(1,), collapsed_slice_dims=(0,), start_index_map=(3,)), _G1, (1, 3)),
    ("gather_collapsed_repeated", "collapsed_slice_dims must be sorted and without repeats",
     dict(offset_dims=(1,), collapsed_slice_dims=(0, 0), start_index_map=(0,)), _G1, (1, 3)),
    ("gather_offset_dims_unsorted", "offset_dims must be sorted", dict(
        offset_dims=(2, 1), collapsed_slice_dims=(), start_index_map=(0,)), _G1, (1, 3)),
    ("gather_offset_dims_count", "offset_dims has 1 entries", dict(
        offset_dims=(1,), collapsed_slice_dims=(), start_index_map=(0,)), _G1, (1, 3)),
    ("gather_float_indices", "integer dtype", dict(offset_dims=(1,), collapsed_slice_dims=(0,),
     start_index_map=(0,)), a([[0.0], [2.0]]), (1, 3)),
]:
    _e(_name, TypeError, _match,
       lambda m, kw=_kw, i=_idx, z=_sizes: m.lax.gather(m.c(_OP), m.c(i), _gd(m, **kw), z))
_e("gather_unknown_mode", ValueError, "Unknown gather mode", lambda m: m.lax.gather(
    m.c(_OP), m.c(_G1), _gd(m, offset_dims=(1,), collapsed_slice_dims=(0,),
                            start_index_map=(0,)), (1, 3), mode="wrap"))
for _name, _match, _shape, _ishape, _ushape, _kw in [
    ("scatter_update_batch_size", "the indices' batch axes are", (5,), (2, 1), (3,),
     dict(update_window_dims=(), inserted_window_dims=(0,), scatter_dims_to_operand_dims=(0,))),
    ("scatter_window_too_big", "does not fit", (64, 48), (32, 1), (65, 32),
     dict(update_window_dims=(0,), inserted_window_dims=(1,), scatter_dims_to_operand_dims=(1,))),
    ("scatter_inserted_repeated", "without repeats", (6, 5), (4, 1), (4, 5),
     dict(update_window_dims=(1,), inserted_window_dims=(0, 0),
          scatter_dims_to_operand_dims=(0,))),
    ("scatter_dims_map_range", "must name distinct", (6, 5), (4, 1), (4, 5),
     dict(update_window_dims=(1,), inserted_window_dims=(0,), scatter_dims_to_operand_dims=(7,))),
    ("scatter_update_rank", "updates must have 2 axes", (6, 5), (4, 1), (4, 5, 1),
     dict(update_window_dims=(1,), inserted_window_dims=(0,), scatter_dims_to_operand_dims=(0,))),
]:
    _e(_name, TypeError, _match,
       lambda m, s=_shape, i=_ishape, u=_ushape, kw=_kw: m.lax.scatter_add(
           m.c(np.zeros(s)), m.c(np.zeros(i, np.int32)), m.c(np.zeros(u)), _sd(m, **kw)))
_e("scatter_dtypes", TypeError, "same dtypes", lambda m: m.lax.scatter_add(
    m.c(np.zeros(5)), m.c(_G1), m.c(np.ones(2, np.float32)), _sd(
        m, update_window_dims=(), inserted_window_dims=(0,), scatter_dims_to_operand_dims=(0,))))

# convolutions and reduce_window
_Z4 = np.zeros((1, 2, 3, 3))
for _name, _exc, _match, _f in [
    ("conv_features", ValueError, "input features \\(3\\) times feature_group_count",
     lambda m: m.lax.conv(m.c(_Z4), m.c(np.zeros((1, 3, 1, 1))), (1, 1), "SAME")),
    ("conv_strides_length", ValueError, "window_strides needs 2 entries",
     lambda m: m.lax.conv(m.c(_Z4), m.c(np.zeros((1, 2, 1, 1))), [1], "SAME")),
    ("conv_dtypes", TypeError, "one dtype",
     lambda m: m.lax.conv(m.c(_Z4), m.c(np.zeros((1, 2, 1, 1), np.float32)), (1, 1), "SAME")),
    ("conv_padding_string", ValueError, "padding must be",
     lambda m: m.lax.conv(m.c(_Z4), m.c(np.zeros((1, 2, 1, 1))), (1, 1), "FULL")),
    ("conv_zero_stride", ValueError, "must be positive",
     lambda m: m.lax.conv(m.c(_Z4), m.c(np.zeros((1, 2, 1, 1))), (0, 1), "SAME")),
    ("conv_feature_groups", ValueError, "times feature_group_count \\(2\\)",
     lambda m: m.lax.conv_general_dilated(m.c(np.zeros((2, 4, 5, 5))),
                                          m.c(np.zeros((6, 3, 3, 3))), (1, 1), "VALID",
                                          feature_group_count=2)),
    ("conv_batch_groups", ValueError, "must divide the batch",
     lambda m: m.lax.conv_general_dilated(m.c(np.zeros((3, 4, 5, 5))),
                                          m.c(np.zeros((6, 4, 3, 3))), (1, 1), "VALID",
                                          batch_group_count=2)),
    ("conv_both_groups", ValueError, "feature_group_count must then be 1",
     lambda m: m.lax.conv_general_dilated(m.c(np.zeros((4, 4, 5, 5))),
                                          m.c(np.zeros((6, 2, 3, 3))), (1, 1), "VALID",
                                          batch_group_count=2, feature_group_count=2)),
    ("conv_ranks", (TypeError, ValueError), "same number of axes",
     lambda m: m.lax.conv_general_dilated(
         m.c(np.ones((1, 1, 3))), m.c(np.ones((1, 1, 1, 1))), (1,), ((0, 0),), (1,), (1,),
         m.lax.ConvDimensionNumbers((0, 1, 2), (0, 1, 2), (0, 1, 2)))),
    ("conv_patches_padding", (TypeError, ValueError), "padding must be",
     lambda m: m.lax.conv_general_dilated_patches(m.c(np.ones((1, 10, 10, 5))), (5, 5),
                                                  window_strides=(1, 1), padding=(3, 3))),
    ("reduce_window_zero_window", (TypeError, ValueError), "must be positive",
     lambda m: m.lax.reduce_window(m.c(np.ones(1)), 0.0, m.lax.add, (0,), (1,), "VALID")),
    ("reduce_window_zero_stride", (TypeError, ValueError), "must be positive",
     lambda m: m.lax.reduce_window(m.c(np.ones(1)), 0.0, m.lax.add, (1,), (0,), "VALID")),
    ("reduce_window_init_shape", TypeError, "must be a scalar",
     lambda m: m.lax.reduce_window(m.c(np.ones((4, 4), np.int32)),
                                   m.c(np.zeros(1, np.int32)), m.lax.max, (2, 2), (2, 2),
                                   "VALID")),
    ("reduce_window_output_tree", ValueError, "tree structure",
     lambda m: m.lax.reduce_window(m.c(np.ones(1)), 0.0, lambda p, q: [p + q], (1,), (1,),
                                   "VALID")),
    ("reduce_window_dims_length", (TypeError, ValueError), "needs 2 entries",
     lambda m: m.lax.reduce_window(m.c(np.ones((4, 4))), 0.0, m.lax.add, (2,), (1,),
                                   "VALID")),
]:
    _e(_name, _exc, _match, _f)

# functrans refuses where JAX goes through (pinned: JAX clamps or reorders silently)
for _name, _exc, _match, _f in [
    ("slice_limit_past_end", ValueError, "limit <= size",  # (JAX: the last 8 elements)
     lambda m: m.lax.slice(m.c(np.arange(8.0)), (1,), (9,))),
    ("slice_negative_start", ValueError, "0 <= start",  # (JAX: from 0)
     lambda m: m.lax.slice(m.c(np.arange(8.0)), (-1,), (3,))),
    ("concatenate_one_operand_bad_axis", ValueError, "out of range",
     lambda m: m.lax.concatenate([m.c(np.ones((2, 3)))], 2)),
    ("select_integer_pred", TypeError, "pred must be a boolean",  # (JAX: select_n's which)
     lambda m: m.lax.select(m.c(a([1, 0])), m.c(np.zeros(2)), m.c(np.ones(2)))),
]:
    _e(_name, _exc, _match, _f, jax_refuses=False)


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
        # (JAX's own error: RuntimeError for an unknown padding string, ZeroDivisionError
        # for a zero stride, OverflowError for an integer cumlogsumexp)
        with pytest.raises((TypeError, ValueError, IndexError, RuntimeError, ArithmeticError)):
            f(JX)
    else:  # functrans is deliberately stricter: JAX's call goes through
        f(JX)

