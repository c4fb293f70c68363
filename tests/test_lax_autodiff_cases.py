"""Derivatives of ``functrans.lax``'s operations, following the topics of JAX's
tests/lax_autodiff_test.py (LaxAutodiffTest), restated here in our own code.

Each case is a function of a namespace (``m.lax``, ``m.np``...) giving the function to
differentiate, with its arguments (NumPy float64 data). Every case is checked twice:

- without JAX (as in CI), on every backend: the value against NumPy/SciPy where a reference
  is at hand, and the first and second derivatives in both modes by
  ``functrans.testing.check_grads`` (JVPs against central differences in float64, VJPs by
  the dot-product identity);
- where JAX is installed: value, JVP, VJP and the two second orders (forward over reverse,
  reverse over reverse) against JAX 0.10 (x64) on the same directions.

Complex operations are checked in CI through their real and imaginary parts (a function of
real arguments), and their raw complex VJPs (JAX's convention: the cotangent times the
derivative, no conjugate) against a closed form and JAX. Where functrans deliberately differs
from JAX the test pins functrans's behaviour; docs/coming-from-jax.md says why.
"""

from __future__ import annotations

import collections
import functools
import math
import types
import warnings
import zlib

import numpy as np
import optree
import pytest
import scipy.special as sps

import functrans as ft
import functrans.lax as flax
import functrans.numpy as fnp
from functrans.testing import check_grads

from ._second_device import check_derivatives
from .conftest import BackendCase

try:
    import jax
except ImportError:  # as in CI: the JAX comparisons skip, the reference checks still run
    jax = None

FT = types.SimpleNamespace(name="functrans", lax=flax, np=fnp, jvp=ft.jvp, vjp=ft.vjp,
                           grad=ft.grad, jacfwd=ft.jacfwd, jacrev=ft.jacrev, jit=ft.jit,
                           vmap=ft.vmap, value_and_grad=ft.value_and_grad,
                           linear_transpose=ft.linear_transpose, c=lambda a: a)


def _jx():
    if jax is None:
        pytest.skip("JAX is not installed (the reference checks of this file run without it)")
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    return types.SimpleNamespace(name="jax", lax=jax.lax, np=jnp, jvp=jax.jvp, vjp=jax.vjp,
                                 grad=jax.grad, jacfwd=jax.jacfwd, jacrev=jax.jacrev,
                                 jit=jax.jit, vmap=jax.vmap,
                                 value_and_grad=jax.value_and_grad,
                                 linear_transpose=jax.linear_transpose, c=jnp.asarray)


def close(a, b, tol=1e-10):
    la, lb = optree.tree_leaves(a), optree.tree_leaves(b)
    assert len(la) == len(lb), (len(la), len(lb))
    for x, y in zip(la, lb):
        x, y = np.asarray(x), np.asarray(y)
        assert x.shape == y.shape, (x.shape, y.shape)
        np.testing.assert_allclose(x, y, rtol=tol, atol=tol)


# -- the cases ---------------------------------------------------------------------------------

Case = collections.namedtuple("Case", "make args order eps tol ref jax_order everywhere")
CASES = {}


def _rng(name):
    return np.random.default_rng(zlib.crc32(name.encode()))


def add_case(name, make, args, order=2, eps=None, tol=None, ref=None, jax_order=2,
             everywhere=True):
    """``make(m)`` is the function of ``args``; ``ref(*args)`` its value by NumPy/SciPy;
    ``jax_order`` how far JAX differentiates it (0: value only; 1: no second order);
    ``everywhere``: on every backend (else on NumPy only, to keep the file's time down)."""
    assert name not in CASES, name
    CASES[name] = Case(make, tuple(args), order, eps, tol, ref, jax_order, everywhere)


def _draw(rng, kind, shape):
    if kind == "default":
        return rng.normal(size=shape) * 1.5
    if kind == "small":
        return rng.normal(size=shape) * 0.5
    if kind == "positive":
        return rng.uniform(0.5, 3.0, size=shape)
    if kind == "unit":  # inside (-1, 1), away from its ends
        return rng.uniform(-0.9, 0.9, size=shape)
    if kind == "tan":
        return rng.uniform(-1.3, 1.3, size=shape)
    if kind == "fraction":  # floor, ceil, round are constant here
        return rng.uniform(0.1, 0.4, size=shape) + rng.integers(-3, 3, size=shape)
    if kind == "not_small":
        return rng.uniform(0.5, 3.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)
    if kind == "above_one":
        return rng.uniform(1.2, 3.0, size=shape)
    raise ValueError(kind)


def _round_away(x):
    return np.sign(x) * np.floor(np.abs(x) + 0.5)


# (name, number of arguments, domain, NumPy/SciPy reference, complex too)
ELEMENTWISE = [
    ("neg", 1, "default", np.negative, True),
    ("floor", 1, "fraction", np.floor, False),
    ("ceil", 1, "fraction", np.ceil, False),
    ("round", 1, "fraction", _round_away, False),
    ("exp", 1, "small", np.exp, True),
    ("exp2", 1, "small", np.exp2, True),
    ("expm1", 1, "default", np.expm1, True),
    ("log", 1, "positive", np.log, True),
    ("log1p", 1, "positive", np.log1p, True),
    ("sinh", 1, "default", np.sinh, True),
    ("cosh", 1, "default", np.cosh, True),
    ("tanh", 1, "default", np.tanh, True),
    ("sin", 1, "default", np.sin, True),
    ("cos", 1, "default", np.cos, True),
    ("tan", 1, "tan", np.tan, True),
    ("asin", 1, "unit", np.arcsin, False),
    ("acos", 1, "unit", np.arccos, False),
    ("atan", 1, "default", np.arctan, False),
    ("asinh", 1, "default", np.arcsinh, False),
    ("acosh", 1, "above_one", np.arccosh, False),
    ("atanh", 1, "unit", np.arctanh, False),
    ("atan2", 2, "default", np.arctan2, False),
    ("erf", 1, "small", sps.erf, False),
    ("erfc", 1, "small", sps.erfc, False),
    ("erf_inv", 1, "unit", sps.erfinv, False),
    ("lgamma", 1, "positive", sps.gammaln, False),
    ("digamma", 1, "positive", sps.digamma, False),
    ("bessel_i0e", 1, "default", sps.i0e, False),
    ("bessel_i1e", 1, "default", sps.i1e, False),
    ("abs", 1, "not_small", np.abs, True),
    ("sqrt", 1, "positive", np.sqrt, True),
    ("rsqrt", 1, "positive", lambda x: 1 / np.sqrt(x), True),
    ("cbrt", 1, "not_small", np.cbrt, False),
    ("logistic", 1, "default", lambda x: 1 / (1 + np.exp(-x)), True),
    ("square", 1, "default", np.square, True),
    ("pow", 2, "positive", np.power, True),
    ("add", 2, "default", np.add, True),
    ("sub", 2, "default", np.subtract, True),
    ("mul", 2, "default", np.multiply, True),
    ("div", 2, "not_small", np.divide, True),
    ("max", 2, "default", np.maximum, False),
    ("min", 2, "default", np.minimum, False),
    ("rem", 2, "not_small", np.fmod, False),
]
COMPLEX_OPS = [name for name, _, _, _, c in ELEMENTWISE if c]


def _lax_op(name):
    return lambda m: getattr(m.lax, name)


for _name, _n, _kind, _ref, _ in ELEMENTWISE:
    _r = _rng(_name)
    add_case(_name, _lax_op(_name), [_draw(_r, _kind, (2, 3)) for _ in range(_n)], ref=_ref)
    if _n == 2:
        # jax.lax broadcasts a 0-d operand, and (since 0.10) axes of length 1 between
        # operands of one rank
        add_case(f"{_name}_broadcast_ones", _lax_op(_name),
                 [_draw(_r, _kind, (2, 1)), _draw(_r, _kind, (1, 3))], ref=_ref)
        add_case(f"{_name}_scalar_first", _lax_op(_name),
                 [_draw(_r, _kind, ()), _draw(_r, _kind, (2, 3))], ref=_ref)


def _complex_split(name):
    """``lax.<name>`` on complex arguments ``re + i im`` as a function of real arguments,
    returning the real and imaginary parts of its value."""
    def make(m):
        op = getattr(m.lax, name)

        def f(*parts):
            zs = [m.lax.complex(parts[2 * k], parts[2 * k + 1]) for k in range(len(parts) // 2)]
            out = op(*zs)  # (abs: real)
            return m.np.real(out), m.np.imag(out)
        return f
    return make


def _complex_ref(ref):
    def r(*parts):
        out = np.asarray(ref(*[parts[2 * k] + 1j * parts[2 * k + 1]
                               for k in range(len(parts) // 2)]), dtype=complex)
        return out.real, out.imag
    return r


for _name, _n, _kind, _ref, _c in ELEMENTWISE:
    if not _c:
        continue
    _r = _rng(_name + "_complex")
    _parts = []
    for _ in range(_n):
        # the imaginary part away from 0: no branch cut of log, sqrt, pow between the points
        # of the finite differences
        _parts += [_draw(_r, _kind, (2, 3)),
                   _r.uniform(0.3, 1.2, (2, 3)) * _r.choice([-1.0, 1.0], (2, 3))]
    add_case(f"{_name}_complex", _complex_split(_name), _parts, ref=_complex_ref(_ref))

add_case("real_imag_conj_of_complex",
         lambda m: lambda a, b: (m.lax.real(m.lax.complex(a, b)), m.lax.imag(m.lax.complex(a, b)),
                                 m.lax.real(m.lax.conj(m.lax.complex(a, b))),
                                 m.lax.imag(m.lax.conj(m.lax.complex(a, b)))),
         [_draw(_rng("rc"), "default", (2, 3)), _draw(_rng("rc2"), "default", (2, 3))],
         ref=lambda a, b: (a, b, a, -b))
add_case("conj_of_real_is_complex",
         lambda m: lambda x: (m.lax.real(m.lax.conj(x)), m.lax.imag(m.lax.conj(x))),
         [_draw(_rng("cr"), "default", (3,))], ref=lambda x: (x, 0 * x))
add_case("integer_pow",
         lambda m: lambda x: (m.lax.integer_pow(x, 3), m.lax.integer_pow(x, -2),
                              m.lax.integer_pow(x, 0), m.lax.integer_pow(x, 1)),
         [_draw(_rng("ip"), "not_small", (2, 3))],
         ref=lambda x: (x ** 3, x ** -2.0, np.ones_like(x), x))
add_case("pow_integer_exponent_array",
         lambda m: lambda x: m.lax.pow(x, m.c(np.array([[0, 1, 3], [-1, 2, -3]]))),
         [_draw(_rng("pia"), "not_small", (2, 3))],
         ref=lambda x: x ** np.array([[0, 1, 3], [-1, 2, -3]], dtype=float))
add_case("igamma_both_arguments", lambda m: m.lax.igamma,
         [_draw(_rng("ig"), "positive", (2, 3)), _draw(_rng("ig2"), "positive", (2, 3))],
         ref=sps.gammainc, tol=1e-5, jax_order=1)  # (JAX: no second derivative in a)
add_case("igammac_both_arguments", lambda m: m.lax.igammac,
         [_draw(_rng("igc"), "positive", (2, 3)), _draw(_rng("igc2"), "positive", (2, 3))],
         ref=sps.gammaincc, tol=1e-5, jax_order=1)
add_case("polygamma_in_x",
         lambda m: lambda x: (m.lax.polygamma(m.c(np.full((2, 3), 1.0)), x),
                              m.lax.polygamma(m.c(np.full((2, 3), 2.0)), x)),
         [_draw(_rng("pg"), "positive", (2, 3))],
         ref=lambda x: (sps.polygamma(1, x), sps.polygamma(2, x)))
add_case("zeta_in_q", lambda m: lambda q: m.lax.zeta(m.c(np.full((2, 3), 3.0)), q),
         [_draw(_rng("z"), "positive", (2, 3))], ref=lambda q: sps.zeta(3.0, q),
         jax_order=0)  # (JAX's zeta has no derivative)

# Special points of LAX_GRAD_SPECIAL_VALUE_TESTS: where the derivative is 0, 1 or tiny.
for _name, _values in [("sinh", [0.0]), ("cosh", [0.0]), ("tanh", [0.0, 20.0, 1000.0]),
                       ("sin", [0.0, np.pi, np.pi / 2, np.pi / 4]),
                       ("cos", [0.0, np.pi, np.pi / 2, np.pi / 4]), ("tan", [0.0]),
                       ("asin", [0.0]), ("acos", [0.0]), ("atan", [0.0, 1000.0]),
                       ("erf", [0.0, 10.0]), ("erfc", [0.0, 10.0])]:
    for _k, _v in enumerate(_values):
        add_case(f"{_name}_special_{_k}", _lax_op(_name), [np.array(_v)])

# -- shapes and structure ------------------------------------------------------------------------

add_case("convert_element_type_to_float32_and_back",
         lambda m: lambda x: m.lax.convert_element_type(
             m.lax.convert_element_type(x, np.float32), np.float64),
         [_draw(_rng("cet"), "default", (2, 3))], eps=1e-2, tol=1e-5,
         ref=lambda x: x.astype(np.float32).astype(np.float64))
add_case("convert_element_type_real_to_complex",
         lambda m: lambda x: m.lax.real(m.lax.convert_element_type(x, np.complex128)),
         [_draw(_rng("cet2"), "default", (2, 3))], ref=lambda x: x)

for _k, _where in enumerate(["operand", "low", "high"]):
    def _clamp_case(m, k=_k):
        # the operand between its bounds (10 away), in each of clamp's three places
        def f(x):
            lo, hi = x - 10.0, x + 10.0
            return m.lax.clamp(*[(x, lo, hi), (lo, x, hi), (lo, hi, x)][k])
        return f
    add_case(f"clamp_grad_{_where}", _clamp_case, [_draw(_rng("cl"), "default", (2, 3))],
             ref=lambda x: x)  # (clamp(x - 10, x + 10, x) is x too)
add_case("clamp_bounds_traced", lambda m: lambda x, lo, hi: m.lax.clamp(lo, x, hi),
         [np.array([-2.0, 0.3, 2.5]), np.array([-1.0, -1.0, -1.0]), np.array([1.0, 1.0, 1.0])],
         eps=1e-3, ref=lambda x, lo, hi: np.clip(x, lo, hi))

for _shape in [(4,), (3, 4), (2, 3, 4)]:
    for _dim in range(len(_shape)):
        _shapes = [_shape[:_dim] + (s,) + _shape[_dim + 1:] for s in (3, 1, 4)]
        _r = _rng(f"cat{_shape}{_dim}")
        add_case(f"concatenate_{len(_shape)}d_dim{_dim}",
                 (lambda d: lambda m: lambda *a: m.lax.concatenate(a, d))(_dim),
                 [_r.normal(size=s) for s in _shapes], eps=1.0,
                 ref=(lambda d: lambda *a: np.concatenate(a, d))(_dim))
        add_case(f"split_{len(_shape)}d_axis{_dim}",
                 (lambda d: lambda m: lambda x: m.lax.split(x, (2, 0, 3), d))(_dim),
                 [_r.normal(size=_shape[:_dim] + (5,) + _shape[_dim + 1:])], eps=1.0,
                 ref=(lambda d: lambda x: tuple(np.split(x, [2, 2], d)))(_dim))


def add_bilinear(name, make, lhs, rhs, ref=None, order=2):
    """A function linear in each argument: each checked alone (a large step is exact; on
    NumPy), and both together (on every backend)."""
    add_case(name + "_lhs", lambda m: (lambda f: lambda a: f(a, m.c(rhs)))(make(m)), [lhs],
             order=order, eps=1.0, ref=None if ref is None else (lambda a: ref(a, rhs)),
             everywhere=False)
    add_case(name + "_rhs", lambda m: (lambda f: lambda b: f(m.c(lhs), b))(make(m)), [rhs],
             order=order, eps=1.0, ref=None if ref is None else (lambda b: ref(lhs, b)),
             everywhere=False)
    add_case(name + "_both", make, [lhs, rhs], order=order, ref=ref)


def _conv_ref(lhs, rhs, strides, padding, lhs_dil=None, rhs_dil=None, fgc=1, bgc=1):
    """XLA's convolution in NCHW/OIHW by loops over the output (small shapes only)."""
    nd = lhs.ndim - 2
    lhs_dil, rhs_dil = lhs_dil or (1,) * nd, rhs_dil or (1,) * nd

    def dilate(x, d):
        for k, dk in enumerate(d):
            n = x.shape[2 + k]
            shape = list(x.shape)
            shape[2 + k] = max((n - 1) * dk + 1, 0)
            y = np.zeros(shape)
            idx = [slice(None)] * x.ndim
            idx[2 + k] = slice(None, None, dk)
            y[tuple(idx)] = x
            x = y
        return x
    x, w = dilate(lhs, lhs_dil), dilate(rhs, rhs_dil)
    for k, (lo, hi) in enumerate(padding):
        pads = [(0, 0)] * x.ndim
        pads[2 + k] = (max(lo, 0), max(hi, 0))
        x = np.pad(x, pads)
        idx = [slice(None)] * x.ndim
        idx[2 + k] = slice(max(-lo, 0), x.shape[2 + k] - max(-hi, 0))
        x = x[tuple(idx)]
    n, c = x.shape[:2]
    o, i = w.shape[:2]
    nb = n // bgc
    spatial = [(x.shape[2 + k] - w.shape[2 + k]) // strides[k] + 1 for k in range(nd)]
    out = np.zeros((nb, o, *[max(s, 0) for s in spatial]))
    for b in range(nb):
        for oc in range(o):
            g = oc // (o // fgc) if fgc > 1 else 0
            bg = oc // (o // bgc) if bgc > 1 else 0
            xs = x[bg * nb + b, g * i:(g + 1) * i]
            for pos in np.ndindex(*out.shape[2:]):
                win = tuple(slice(p * s, p * s + w.shape[2 + k])
                            for k, (p, s) in enumerate(zip(pos, strides)))
                out[(b, oc) + pos] = np.sum(xs[(slice(None),) + win] * w[oc])
    return out


for _b, _i, _j in [(2, 2, 3), (3, 2, 2)]:
    for _strides in [(1, 1), (1, 2), (2, 1)]:
        for _padding in ["VALID", "SAME"]:
            _r = _rng(f"conv{_b}{_i}{_j}{_strides}{_padding}")
            _pads = {"VALID": [(0, 0), (0, 0)], "SAME": [(0, 0), (0, 1)]}[_padding]
            add_bilinear(f"conv_{_b}{_i}{_j}_s{_strides[0]}{_strides[1]}_{_padding}",
                         (lambda s, p: lambda m: functools.partial(
                             m.lax.conv, window_strides=s, padding=p))(_strides, _padding),
                         _r.normal(size=(_b, _i, 3, 4)), _r.normal(size=(_j, _i, 1, 2)),
                         ref=(lambda s, p: lambda a, w: _conv_ref(a, w, s, p))(_strides, _pads))
add_bilinear("conv_1d", lambda m: functools.partial(m.lax.conv, window_strides=(1,),
                                                    padding="VALID"),
             _rng("c1").normal(size=(4, 2, 1)), _rng("c1b").normal(size=(3, 2, 1)),
             ref=lambda a, w: _conv_ref(a, w, (1,), [(0, 0)]))

for _pad in [((0, 0), (0, 0)), ((-1, 0), (0, -1)), ((1, 0), (0, 1))]:
    for _lhs_dil in [(1, 1), (2, 1)]:
        for _strides in [(1, 1), (2, 1)]:
            _r = _rng(f"cgp{_pad}{_lhs_dil}{_strides}")
            add_bilinear(
                f"conv_general_padding_p{_pad}_ld{_lhs_dil}_s{_strides}".replace(" ", ""),
                (lambda s, p, ld: lambda m: functools.partial(
                    m.lax.conv_with_general_padding, window_strides=s, padding=p,
                    lhs_dilation=ld, rhs_dilation=(1, 1)))(_strides, _pad, _lhs_dil),
                _r.normal(size=(2, 3, 3, 4)), _r.normal(size=(2, 3, 1, 2)),
                ref=(lambda s, p, ld: lambda a, w: _conv_ref(a, w, s, p, ld))(
                    _strides, _pad, _lhs_dil))
for _rhs_dil in [(1,), (2,)]:
    for _lhs_dil in [(1,), (2,)]:
        _r = _rng(f"cgp1{_rhs_dil}{_lhs_dil}")
        add_bilinear(
            f"conv_general_padding_1d_ld{_lhs_dil[0]}_rd{_rhs_dil[0]}",
            (lambda ld, rd: lambda m: functools.partial(
                m.lax.conv_with_general_padding, window_strides=(1,), padding=((1, 1),),
                lhs_dilation=ld, rhs_dilation=rd))(_lhs_dil, _rhs_dil),
            _r.normal(size=(4, 2, 3)), _r.normal(size=(3, 2, 2)),
            ref=(lambda ld, rd: lambda a, w: _conv_ref(a, w, (1,), [(1, 1)], ld, rd))(
                _lhs_dil, _rhs_dil))

# conv_general_dilated: groups, dilations and the three layouts of JAX's test
_LAYOUTS = {("NCHW", "OIHW", "NCHW"): ((0, 1, 2, 3), (0, 1, 2, 3), (0, 1, 2, 3)),
            ("NHWC", "HWIO", "NHWC"): ((0, 2, 3, 1), (2, 3, 1, 0), (0, 2, 3, 1)),
            ("NHWC", "OIHW", "NCHW"): ((0, 2, 3, 1), (0, 1, 2, 3), (0, 1, 2, 3))}
for _bgc, _fgc in [(1, 1), (2, 1), (1, 2)]:
    for _k, (_strides, _pad, _lhs_dil, _rhs_dil) in enumerate([
            ((1, 1), ((0, 0), (0, 0)), (1, 1), (1, 1)),
            ((1, 2), ((1, 0), (0, 1)), (2, 1), (1, 1)),
            ((2, 1), ((0, -1), (0, 0)), (1, 1), (2, 2)),
            ((1, 1), ((1, 0), (0, 1)), (2, 1), (2, 2))]):
        for _dn, (_lp, _rp, _op) in _LAYOUTS.items():
            if _k and _dn[0] == "NHWC" and _dn[1] == "OIHW":
                continue  # (the mixed layout once)
            _r = _rng(f"cgd{_bgc}{_fgc}{_k}{_dn}")
            _lhs = _r.normal(size=(2 * _bgc, 2 * _fgc, 6, 7))
            _rhs = _r.normal(size=(2 * _bgc * _fgc, 2, 1, 2))

            def _cgd(m, s=_strides, p=_pad, ld=_lhs_dil, rd=_rhs_dil, dn=_dn, f=_fgc, b=_bgc):
                return functools.partial(m.lax.conv_general_dilated, window_strides=s,
                                         padding=p, lhs_dilation=ld, rhs_dilation=rd,
                                         dimension_numbers=dn, feature_group_count=f,
                                         batch_group_count=b)

            def _cgd_ref(a, w, s=_strides, p=_pad, ld=_lhs_dil, rd=_rhs_dil, lp=_lp, rp=_rp,
                         op=_op, f=_fgc, b=_bgc):
                out = _conv_ref(np.transpose(a, np.argsort(lp)), np.transpose(w, np.argsort(rp)),
                                s, p, ld, rd, f, b)
                return np.transpose(out, op)
            add_bilinear(f"conv_general_dilated_bg{_bgc}_fg{_fgc}_{_k}_{''.join(_dn)}", _cgd,
                         np.transpose(_lhs, _lp), np.transpose(_rhs, _rp), ref=_cgd_ref)
# an empty spatial axis
add_bilinear("conv_general_dilated_empty_spatial",
             lambda m: functools.partial(m.lax.conv_general_dilated, window_strides=(1, 1),
                                         padding=((0, 0), (1, 0))),
             _rng("cge").normal(size=(2, 2, 0, 4)), _rng("cge2").normal(size=(3, 2, 1, 2)),
             ref=lambda a, w: np.zeros((2, 3, 0, 4)))

for _ls, _rs in [((2,), (2,)), ((2,), (2, 4)), ((3, 2), (2,)), ((3, 2), (2, 4))]:
    _r = _rng(f"dot{_ls}{_rs}")
    add_bilinear(f"dot_{len(_ls)}{len(_rs)}", lambda m: m.lax.dot, _r.normal(size=_ls),
                 _r.normal(size=_rs), ref=np.dot)
for _k, (_ls, _rs, _dn) in enumerate([
        ((3, 2), (2, 4), (([1], [0]), ([], []))),
        ((3, 5), (2, 5), (([1], [1]), ([], []))),
        ((5, 3), (5, 2), (([0], [0]), ([], []))),
        ((3, 3, 2), (3, 2, 4), (([2], [1]), ([0], [0]))),
        ((3, 5, 2), (2, 4, 5), (([2], [0]), ([1], [2]))),
        ((7, 3, 5, 2), (2, 2, 4, 5), (([3], [0]), ([2], [3]))),
        ((2, 3), (4, 5), (([], []), ([], [])))]):
    _r = _rng(f"dg{_k}")

    def _dg_ref(a, b, dn=_dn):
        (ca, cb), (ba, bb) = dn
        fa = [d for d in range(a.ndim) if d not in ca and d not in ba]
        fb = [d for d in range(b.ndim) if d not in cb and d not in bb]
        letters = "abcdefghijklmnop"
        sa, sb = [None] * a.ndim, [None] * b.ndim
        out = []
        for k, (x, y) in enumerate(zip(ba, bb)):
            sa[x] = sb[y] = letters[k]
            out.append(letters[k])
        for k, (x, y) in enumerate(zip(ca, cb)):
            sa[x] = sb[y] = letters[4 + k]
        for k, x in enumerate(fa):
            sa[x] = letters[8 + k]
            out.append(sa[x])
        for k, y in enumerate(fb):
            sb[y] = letters[12 + k]
            out.append(sb[y])
        return np.einsum(f"{''.join(sa)},{''.join(sb)}->{''.join(out)}", a, b)
    add_bilinear(f"dot_general_{_k}", (lambda dn: lambda m: functools.partial(
        m.lax.dot_general, dimension_numbers=dn))(_dn), _r.normal(size=_ls),
        _r.normal(size=_rs), ref=_dg_ref)

for _shape in [(), (2, 3)]:
    for _sizes in [(), (2,), (1, 2)]:
        add_case(f"broadcast_{len(_shape)}d_{_sizes}".replace(" ", ""),
                 (lambda s: lambda m: lambda x: m.lax.broadcast(x, s))(_sizes),
                 [_rng(f"b{_shape}{_sizes}").normal(size=_shape)], eps=1.0,
                 ref=(lambda s: lambda x: np.broadcast_to(x, s + x.shape))(_sizes))
for _k, (_in, _out, _dims) in enumerate([((2,), (2, 2), (0,)), ((2,), (2, 2), (1,)),
                                         ((2,), (2, 3), (0,)), ((), (2, 3), ())]):
    add_case(f"broadcast_in_dim_{_k}",
             (lambda o, d: lambda m: lambda x: m.lax.broadcast_in_dim(x, o, d))(_out, _dims),
             [_rng(f"bid{_k}").normal(size=_in)], eps=1.0,
             ref=(lambda o, d: lambda x: np.broadcast_to(
                 np.expand_dims(x, [k for k in range(len(o)) if k not in d]), o))(_out, _dims))
for _k, (_in, _out, _perm) in enumerate([
        ((3, 4), (12,), None), ((2, 1, 4), (8,), None), ((2, 2, 4), (2, 8), None),
        ((3, 4), (12,), (0, 1)), ((3, 4), (12,), (1, 0)), ((2, 1, 4), (8,), (0, 2, 1)),
        ((2, 1, 4), (8,), (2, 0, 1)), ((2, 2, 4), (2, 8), (0, 2, 1)),
        ((2, 2, 4), (2, 8), (2, 0, 1))]):
    add_case(f"reshape_{_k}",
             (lambda o, p: lambda m: lambda x: m.lax.reshape(x, o, p))(_out, _perm),
             [_rng(f"rs{_k}").normal(size=_in)], eps=1.0,
             ref=(lambda o, p: lambda x: np.reshape(
                 x if p is None else np.transpose(x, p), o))(_out, _perm))


def _pad_ref(x, v, config):
    for k, (lo, hi, interior) in enumerate(config):
        n = x.shape[k]
        shape = list(x.shape)
        shape[k] = n + max(n - 1, 0) * interior
        y = np.full(shape, v, dtype=float)
        idx = [slice(None)] * x.ndim
        idx[k] = slice(None, None, interior + 1)
        y[tuple(idx)] = x
        pads = [(0, 0)] * x.ndim
        pads[k] = (max(lo, 0), max(hi, 0))
        y = np.pad(y, pads, constant_values=v)
        idx[k] = slice(max(-lo, 0), y.shape[k] - max(-hi, 0))
        x = y[tuple(idx)]
    return x


for _k, (_shape, _config) in enumerate([((), ()), ((2, 3), ((1, 2, 1), (0, 1, 0))),
                                        ((2, 3), ((-1, 0, 0), (-1, 0, 2)))]):
    _r = _rng(f"pad{_k}")
    add_case(f"pad_{_k}", (lambda c: lambda m: lambda x: m.lax.pad(x, m.c(np.array(0.0)), c))(
        _config), [_r.normal(size=_shape)], eps=1.0,
        ref=(lambda c: lambda x: _pad_ref(x, 0.0, c))(_config))
    add_case(f"pad_{_k}_padding_value", (lambda c: lambda m: lambda x, v: m.lax.pad(x, v, c))(
        _config), [_r.normal(size=_shape), np.array(0.7)], eps=1.0,
        ref=(lambda c: lambda x, v: _pad_ref(x, v, c))(_config))

add_case("rev_1d", lambda m: lambda x: m.lax.rev(x, [0]), [np.array([3.0, 2.0, 1.0])],
         ref=lambda x: x[::-1])
add_case("rev_2d", lambda m: lambda x: m.lax.rev(x, [0, 1]),
         [np.array([[6.0, 5.0, 4.0], [3.0, 2.0, 1.0]])], ref=lambda x: x[::-1, ::-1])
for _k, (_shape, _perm) in enumerate([((3, 4), (1, 0)), ((3, 4), (0, 1)),
                                      ((3, 4, 5), (2, 1, 0)), ((3, 4, 5), (1, 0, 2))]):
    add_case(f"transpose_{_k}", (lambda p: lambda m: lambda x: m.lax.transpose(x, p))(_perm),
             [_rng(f"tr{_k}").normal(size=_shape)], eps=1.0,
             ref=(lambda p: lambda x: np.transpose(x, p))(_perm))
for _k, (_shape, _reps) in enumerate([((3,), (2,)), ((2, 3), (1, 2)), ((1, 1, 4), (1, 3, 1))]):
    add_case(f"tile_{_k}", (lambda r: lambda m: lambda x: m.lax.tile(x, r))(_reps),
             [_rng(f"tile{_k}").normal(size=_shape)], order=3, eps=1.0,
             ref=(lambda r: lambda x: np.tile(x, r))(_reps))

for _arg_shape, _pred_shapes in [((), [()]), ((3,), [(), (3,)]), ((2, 3), [(), (2, 3)])]:
    for _pred_shape in _pred_shapes:
        _r = _rng(f"sel{_arg_shape}{_pred_shape}")
        _pred = _r.random(_pred_shape) < 0.5
        add_case(f"select_{len(_arg_shape)}d_pred{len(_pred_shape)}d",
                 (lambda p: lambda m: lambda a, b: m.lax.select(m.c(p), a, b))(_pred),
                 [_r.normal(size=_arg_shape), _r.normal(size=_arg_shape)], eps=1.0,
                 ref=(lambda p: lambda a, b: np.where(p, a, b))(_pred))
_which = np.array([[0, 2, 1], [1, 0, 2]])
add_case("select_n_three_cases", lambda m: lambda a, b, c: m.lax.select_n(m.c(_which), a, b, c),
         [_rng("sn").normal(size=(2, 3)) for _ in range(3)], eps=1.0,
         ref=lambda a, b, c: np.choose(_which, [a, b, c]))
add_case("select_n_boolean", lambda m: lambda a, b: m.lax.select_n(m.c(_which == 1), a, b),
         [_rng("snb").normal(size=(2, 3)) for _ in range(2)], eps=1.0,
         ref=lambda a, b: np.where(_which == 1, b, a))

for _k, (_shape, _start, _limit, _strides) in enumerate([
        ((3,), (1,), (2,), None), ((7,), (4,), (7,), None), ((5,), (1,), (5,), (2,)),
        ((8,), (1,), (6,), (2,)), ((5, 3), (1, 1), (3, 2), None), ((5, 3), (1, 1), (3, 1), None),
        ((7, 5, 3), (4, 0, 1), (7, 1, 3), None), ((5, 3), (1, 1), (2, 1), (1, 1)),
        ((5, 3), (1, 1), (5, 3), (2, 1)), ((3, 3, 5), (0, 2, 0), (3, 2, 5), (1, 2, 1))]):
    add_case(f"slice_{_k}", (lambda s, lim, st: lambda m: lambda x: m.lax.slice(x, s, lim, st))(
        _start, _limit, _strides), [_rng(f"sl{_k}").normal(size=_shape)], eps=1.0,
        ref=(lambda s, lim, st: lambda x: x[tuple(
            slice(a, b, c) for a, b, c in zip(s, lim, st or (1,) * len(s)))])(
            _start, _limit, _strides))

for _k, (_shape, _start, _size) in enumerate([((3,), (1,), (1,)), ((5, 3), (1, 1), (3, 1)),
                                              ((7, 5, 3), (4, 1, 0), (2, 0, 1)),
                                              ((5, 3), (4, -9), (3, 2))]):
    _r = _rng(f"ds{_k}")
    # (JAX's start clamping: each start moved so that the window fits; negative counts
    # from the end first)
    _fit = tuple(min(max(s + n if s < 0 else s, 0), n - z)
                 for s, n, z in zip(_start, _shape, _size))
    add_case(f"dynamic_slice_{_k}",
             (lambda s, z: lambda m: lambda x: m.lax.dynamic_slice(x, s, z))(_start, _size),
             [_r.normal(size=_shape)], eps=1.0,
             ref=(lambda s, z: lambda x: x[tuple(slice(a, a + b) for a, b in zip(s, z))])(
                 _fit, _size))
    _upd = _r.normal(size=_size)
    _op = _r.normal(size=_shape)

    def _dus_ref(x, y, s=_fit):
        x = x.copy()
        x[tuple(slice(a, a + b) for a, b in zip(s, y.shape))] = y
        return x
    _st = np.array(_start)
    add_case(f"dynamic_update_slice_{_k}",
             (lambda s: lambda m: lambda x, y: m.lax.dynamic_update_slice(x, y, m.c(s)))(_st),
             [_op, _upd], eps=1.0, ref=_dus_ref)
    add_case(f"dynamic_update_slice_{_k}_operand",
             (lambda s, u: lambda m: lambda x: m.lax.dynamic_update_slice(
                 x, m.c(u), m.c(s)))(_st, _upd),
             [_op], eps=1.0, ref=(lambda u, r: lambda x: r(x, u))(_upd, _dus_ref))
    add_case(f"dynamic_update_slice_{_k}_update",
             (lambda s, o: lambda m: lambda y: m.lax.dynamic_update_slice(
                 m.c(o), y, m.c(s)))(_st, _op),
             [_upd], eps=1.0, ref=(lambda o, r: lambda y: r(o, y))(_op, _dus_ref))
add_case("dynamic_index_out_of_range_negative",
         lambda m: lambda x: m.lax.dynamic_index_in_dim(x, -8, 0),
         [_rng("dio").normal(size=(5, 5))], eps=1.0, ref=lambda x: x[:1])
add_case("dynamic_update_index_out_of_range_negative",
         lambda m: lambda x, y: m.lax.dynamic_update_index_in_dim(x, y, -8, 0),
         [_rng("duio").normal(size=(5, 5)), _rng("duio2").normal(size=(1, 5))], eps=1.0,
         ref=lambda x, y: np.concatenate([y, x[1:]]))

# -- reductions ----------------------------------------------------------------------------------

_REDUCE_SHAPES = [((), ()), ((3, 4, 5), ()), ((3, 4, 5), (0,)), ((3, 4, 5), (1, 2)),
                  ((3, 4, 5), (0, 2)), ((3, 4, 5), (0, 1, 2)), ((3, 1), (1,)), ((3, 0, 5), (1,))]


def _unique_values(rng, shape):
    # distinct values, so that max and min have no ties
    return rng.permutation(np.arange(math.prod(shape), dtype=float)).reshape(shape) / 2.0


for _k, (_shape, _dims) in enumerate(_REDUCE_SHAPES):
    _r = _rng(f"red{_k}")
    for _opname, _init, _npf, _eps in [("add", 0.0, np.sum, 1.0), ("max", -np.inf, np.max, 1e-3),
                                       ("min", np.inf, np.min, 1e-3), ("mul", 1.0, np.prod, None)]:
        if _opname in ("max", "min") and 0 in _shape:
            continue  # (the identity in the result: no derivative to check)
        _x = (_unique_values(_r, _shape) if _opname in ("max", "min")
              else _r.uniform(0.5, 1.5, _shape) * _r.choice([-1.0, 1.0], _shape))
        add_case(f"reduce_with_{_opname}_{_k}",
                 (lambda op, init, d: lambda m: lambda x: m.lax.reduce(
                     x, m.c(np.array(init)), getattr(m.lax, op), d))(_opname, _init, _dims),
                 [_x], eps=_eps,
                 ref=(lambda f, d: lambda x: f(x, axis=d) if d else x)(_npf, _dims))
    if 0 not in _shape and _dims:
        for _opname, _npf in [("reduce_sum", np.sum), ("reduce_max", np.max),
                              ("reduce_min", np.min), ("reduce_prod", np.prod)]:
            _x = (_unique_values(_r, _shape) if _opname in ("reduce_max", "reduce_min")
                  else _r.uniform(0.5, 1.5, _shape))
            add_case(f"{_opname}_{_k}",
                     (lambda op, d: lambda m: lambda x: getattr(m.lax, op)(x, d))(_opname, _dims),
                     [_x], eps=1e-3 if "max" in _opname or "min" in _opname else None,
                     ref=(lambda f, d: lambda x: f(x, axis=d))(_npf, _dims))
    # a pair reduced together: sums of the first, products of the second
    add_case(f"reduce_pair_{_k}",
             (lambda d: lambda m: lambda a, b: m.lax.reduce(
                 (a, b), (m.c(np.array(0.0)), m.c(np.array(1.0))),
                 lambda x, y: (x[0] + y[0], x[1] * y[1]), d))(_dims),
             [_r.normal(size=_shape), _r.uniform(0.5, 1.5, _shape)],
             ref=(lambda d: lambda a, b: (np.sum(a, axis=d), np.prod(b, axis=d)) if d
                  else (a, b))(_dims))
for _k, _dims in enumerate([(), (0,), (1, 2), (0, 1, 2)]):
    _r = _rng(f"redc{_k}")
    add_case(f"reduce_add_complex_{_k}",
             (lambda d: lambda m: lambda a, b: (lambda y: (m.np.real(y), m.np.imag(y)))(
                 m.lax.reduce(m.lax.complex(a, b), m.c(np.array(0j)), m.lax.add, d)))(_dims),
             [_r.normal(size=(3, 4, 5)), _r.normal(size=(3, 4, 5))], eps=1.0,
             ref=(lambda d: lambda a, b: (np.sum(a, axis=d), np.sum(b, axis=d)) if d
                  else (a, b))(_dims))
add_case("conv_general_dilated_complex",
         lambda m: lambda a, b, c, d: (lambda y: (m.np.real(y), m.np.imag(y)))(
             m.lax.conv_general_dilated(m.lax.complex(a, b), m.lax.complex(c, d), (1, 2),
                                        ((1, 0), (0, 1)), (2, 1), (1, 2),
                                        feature_group_count=2)),
         [_rng("cgc").normal(size=(2, 4, 4, 5)), _rng("cgc2").normal(size=(2, 4, 4, 5)),
          _rng("cgc3").normal(size=(4, 2, 2, 2)), _rng("cgc4").normal(size=(4, 2, 2, 2))])
add_case("reduce_prod_with_zeros", lambda m: lambda x: m.lax.reduce_prod(x, (1,)),
         [np.array([[1.0, 0.0, 3.0, 0.5], [0.0, 2.0, 0.0, 1.5], [1.0, 2.0, 3.0, 0.0]])],
         eps=1e-5, ref=lambda x: np.prod(x, 1))  # (two zeros: a third-order term)


def _reduce_window_cases():
    combos = []
    import itertools
    for shape, dims_l, strides_l, pads_l, base_l, win_l in [
            ((4, 6), [(2, 1), (1, 2)], [(1, 1), (2, 1), (1, 2)],
             ["VALID", "SAME", [(0, 3), (1, 2)]], [(1, 1), (2, 3)], [(1, 1), (1, 2)]),
            ((3, 2, 4, 6), [(1, 1, 2, 1), (2, 1, 2, 1)], [(1, 2, 2, 1), (1, 1, 1, 1)],
             ["VALID", "SAME", [(0, 1), (1, 0), (2, 3), (0, 2)]], [(1, 1, 1, 1), (2, 1, 3, 2)],
             [(1, 1, 1, 1), (1, 2, 2, 1)])]:
        for c in itertools.product(dims_l, strides_l, pads_l, base_l, win_l):
            combos.append((shape,) + c)
    return combos


for _k, (_shape, _dims, _strides, _padding, _base, _win) in enumerate(_reduce_window_cases()):
    for _opname, _init in [("add", 0.0), ("max", -np.inf), ("min", np.inf)]:
        if _opname != "add" and _win != (1,) * len(_shape):
            continue  # (JAX has no derivative of max/min windows with window dilation)
        # a sample of the combinations, every option in some of them
        if (_k + {"add": 0, "max": 1, "min": 2}[_opname]) % 5:
            continue
        _r = _rng(f"rw{_k}{_opname}")
        _x = _unique_values(_r, _shape) if _opname != "add" else _r.normal(size=_shape)

        def _rw(m, op=_opname, init=_init, d=_dims, s=_strides, p=_padding, b=_base, w=_win):
            def f(x):
                y = m.lax.reduce_window(x, m.c(np.array(init)), getattr(m.lax, op), d, s, p, b, w)
                # a window of padding alone gives the identity (+-inf), whose differences are
                # nan: set to 0 (its derivative is 0 either way)
                return m.np.where(m.np.isinf(y), 0.0, y)
            return f
        add_case(f"reduce_window_{_opname}_{_k}", _rw,
                 [_x], order=3 if (_opname == "add" and _k % 10 == 0) else 2,
                 eps=1.0 if _opname == "add" else 1e-3)

# beyond JAX's test (JAX has no VJP of these: values compared only)
add_case("reduce_window_max_window_dilation",
         lambda m: lambda x: m.lax.reduce_window(x, m.c(np.array(-np.inf)), m.lax.max, (2, 2),
                                                 (1, 1), "VALID", (1, 1), (1, 2)),
         [_unique_values(_rng("rwmd"), (4, 6))], eps=1e-3, jax_order=0)
add_case("reduce_window_mul_padded",
         lambda m: lambda x: m.lax.reduce_window(x, m.c(np.array(1.0)), m.lax.mul, (2, 2),
                                                 (1, 2), "SAME", (2, 1), (1, 2)),
         [_rng("rwm").uniform(0.5, 1.5, (4, 6))], jax_order=0)

# -- cumulative ops, sorting ---------------------------------------------------------------------

_CUMREF = {"cumsum": np.cumsum, "cumprod": np.cumprod, "cummax": np.maximum.accumulate,
           "cummin": np.minimum.accumulate, "cumlogsumexp": np.logaddexp.accumulate}
for _opname, _f in _CUMREF.items():
    for _shape in [(10,), (3, 4, 5)]:
        for _axis in range(len(_shape)):
            for _reverse in (False, True):
                _r = _rng(f"{_opname}{_shape}{_axis}{_reverse}")
                _x = (_unique_values(_r, _shape) if _opname in ("cummax", "cummin")
                      else _r.uniform(0.5, 1.5, _shape) * _r.choice([-1.0, 1.0], _shape)
                      if _opname == "cumprod" else _r.normal(size=_shape) * 0.5)

                def _cref(x, f=_f, a=_axis, rv=_reverse):
                    return np.flip(f(np.flip(x, a), axis=a), a) if rv else f(x, axis=a)
                add_case(f"{_opname}_{len(_shape)}d_axis{_axis}{'_reverse' if _reverse else ''}",
                         (lambda op, a, rv: lambda m: lambda x: getattr(m.lax, op)(
                             x, axis=a, reverse=rv))(_opname, _axis, _reverse),
                         [_x], eps=1e-3 if _opname in ("cummax", "cummin") else None,
                         ref=_cref)

for _shape in [(0,), (5,), (5, 7), (4, 9, 3)]:
    for _stable in (False, True):
        add_case(f"sort_{_shape}_{'stable' if _stable else 'unstable'}".replace(" ", ""),
                 (lambda st: lambda m: lambda x: m.lax.sort(x, dimension=-1, is_stable=st))(
                     _stable), [_unique_values(_rng(f"sort{_shape}"), _shape)], eps=1e-3,
                 ref=lambda x: np.sort(x, -1))
for _shape in [(3,), (5, 3), (4, 9, 3)]:
    _r = _rng(f"skv{_shape}")
    _keys = _unique_values(_r, _shape)
    for _stable in (False, True):
        add_case(f"sort_key_val_{_shape}_{'stable' if _stable else 'unstable'}".replace(" ", ""),
                 (lambda st: lambda m: lambda k, v: m.lax.sort_key_val(k, v, -1, st))(_stable),
                 [_keys, _r.normal(size=_shape)], eps=1e-3,
                 ref=lambda k, v: (np.sort(k, -1),
                                   np.take_along_axis(v, np.argsort(k, -1), -1)))
add_case("sort_two_operands_one_key",
         lambda m: lambda k, v: m.lax.sort((k, v), dimension=0, num_keys=1),
         [_unique_values(_rng("s2"), (6,)), _rng("s2v").normal(size=6)], eps=1e-3,
         ref=lambda k, v: (np.sort(k), v[np.argsort(k)]))
for _shape in [(4,), (5, 5), (3, 1, 4)]:
    for _kk in (1, 3):
        if _kk > _shape[-1]:
            continue
        add_case(f"top_k_{_shape}_{_kk}".replace(" ", ""),
                 (lambda k: lambda m: lambda x: m.lax.top_k(x, k)[0])(_kk),
                 [_unique_values(_rng(f"tk{_shape}{_kk}"), _shape)], eps=1e-3,
                 ref=(lambda k: lambda x: -np.sort(-x, -1)[..., :k])(_kk))

# -- gather and scatters ----------------------------------------------------------------------

# (operand shape, dimension numbers as a dict, slice sizes or update window, index sets with
# some out of bounds, the window's shape in the operand)
_GATHERS = [
    ((5,), dict(offset_dims=(), collapsed_slice_dims=(0,), start_index_map=(0,)), (1,),
     [[[0], [2]], [[-3], [7]]]),
    ((10,), dict(offset_dims=(1,), collapsed_slice_dims=(), start_index_map=(0,)), (2,),
     [[[0], [0], [0]], [[9], [-2], [4]]]),
    ((10, 5), dict(offset_dims=(1,), collapsed_slice_dims=(0,), start_index_map=(0,)), (1, 3),
     [[[0], [2], [1]], [[12], [-1], [9]]]),
]


def _window_start(s, n, size, mode):
    """The start of a window along axis 0 by ``mode``, or None where it is dropped/filled."""
    if mode == "fill" and not 0 <= s <= n - size:
        return None
    return min(max(s, 0), n - size)


def _gather_ref(x, idx, sizes, collapse, mode):
    out = []
    for (s,) in idx:
        s = _window_start(s, x.shape[0], sizes[0], mode)
        w = (np.full(sizes, -1.0) if s is None
             else x[(slice(s, s + sizes[0]),) + tuple(slice(0, z) for z in sizes[1:])])
        out.append(w[0] if collapse else w)
    return np.stack(out)


for _g, (_shape, _dn, _sizes, _idx_sets) in enumerate(_GATHERS):
    for _mode in ("clip", "fill", "promise_in_bounds"):
        for _t, _idx in enumerate(_idx_sets):
            _idx = np.array(_idx)
            if _mode == "promise_in_bounds" and _t:
                continue  # (in bounds only)
            _collapse = bool(_dn["collapsed_slice_dims"])
            add_case(f"gather_{_g}_{_mode}_{_t}",
                     (lambda i, dn, z, md: lambda m: lambda x: m.lax.gather(
                         x, m.c(i), m.lax.GatherDimensionNumbers(**dn), z, mode=md,
                         fill_value=-1))(_idx, _dn, _sizes, _mode),
                     [_rng(f"g{_g}").normal(size=_shape)], eps=1.0,
                     ref=(lambda i, z, c, md: lambda x: _gather_ref(x, i, z, c, md))(
                         _idx, _sizes, _collapse, _mode))

_SCATTERS = [
    ((5,), dict(update_window_dims=(), inserted_window_dims=(0,),
                scatter_dims_to_operand_dims=(0,)), (2,), (1,),
     [[[0], [2]], [[-3], [7]]], [[1], [4]]),
    ((10,), dict(update_window_dims=(1,), inserted_window_dims=(),
                 scatter_dims_to_operand_dims=(0,)), (3, 2), (2,),
     [[[0], [0], [0]], [[9], [-2], [4]]], [[0], [4], [7]]),
    ((10, 5), dict(update_window_dims=(1,), inserted_window_dims=(0,),
                   scatter_dims_to_operand_dims=(0,)), (3, 3), (1, 3),
     [[[0], [2], [1]], [[12], [-1], [2]]], [[8], [2], [5]]),
]
_COMBINE = {"scatter_add": np.add, "scatter_mul": np.multiply, "scatter_max": np.maximum,
            "scatter_min": np.minimum, "scatter": lambda old, new: new}


def _scatter_ref(x, idx, upd, window, mode, combine):
    x = x.copy()
    upd = upd.reshape((len(idx),) + window)
    for (s,), u in zip(idx, upd):
        s = _window_start(s, x.shape[0], window[0], mode)
        if s is None:
            continue
        where = (slice(s, s + window[0]),) + tuple(slice(0, z) for z in window[1:])
        x[where] = combine(x[where], u)
    return x


for _g, (_shape, _dn, _ushape, _window, _idx_sets, _unique) in enumerate(_SCATTERS):
    _r = _rng(f"sc{_g}")
    _x, _u = _r.normal(size=_shape), _r.normal(size=_ushape)
    for _mode in ("clip", "fill", "promise_in_bounds"):
        for _t, _idx in enumerate(_idx_sets):
            if _mode == "promise_in_bounds" and _t:
                continue
            _idx = np.array(_idx)
            add_case(f"scatter_add_{_g}_{_mode}_{_t}",
                     (lambda i, dn, md: lambda m: lambda x, y: m.lax.scatter_add(
                         x, m.c(i), y, m.lax.ScatterDimensionNumbers(**dn), mode=md))(
                         _idx, _dn, _mode), [_x, _u], eps=1.0,
                     ref=(lambda i, w, md: lambda x, y: _scatter_ref(x, i, y, w, md, np.add))(
                         _idx, _window, _mode))
    _uidx = np.array(_unique)
    for _op in ("scatter", "scatter_mul", "scatter_max", "scatter_min"):
        # scatter: windows that do not overlap (the winner of a collision is unspecified)
        _idx = _uidx if _op == "scatter" else np.array(_idx_sets[0])
        add_case(f"{_op}_{_g}",
                 (lambda op, i, dn: lambda m: lambda x, y: getattr(m.lax, op)(
                     x, m.c(i), y, m.lax.ScatterDimensionNumbers(**dn)))(_op, _idx, _dn),
                 [_x, _u], eps=1e-3, tol=1e-5 if _op == "scatter_mul" else None,
                 ref=(lambda i, w, c: lambda x, y: _scatter_ref(x, i, y, w, "clip", c))(
                     _idx, _window, _COMBINE[_op]),
                 # (JAX differentiates scatter_mul only with unique_indices=True)
                 jax_order=0 if _op == "scatter_mul" else 2)
    add_case(f"scatter_mul_{_g}_unique_indices",
             (lambda i, dn: lambda m: lambda x, y: m.lax.scatter_mul(
                 x, m.c(i), y, m.lax.ScatterDimensionNumbers(**dn), unique_indices=True))(
                 _uidx, _dn), [_x, _u], eps=1e-3, tol=1e-5,
             ref=(lambda i, w: lambda x, y: _scatter_ref(x, i, y, w, "clip", np.multiply))(
                 _uidx, _window))
_DIAG = np.stack(np.diag_indices(5), axis=-1)
add_case("scatter_constant_update_on_diagonal",
         lambda m: lambda x: m.lax.scatter(
             x, m.c(_DIAG), m.c(np.arange(5.0)), m.lax.ScatterDimensionNumbers(
                 update_window_dims=(), inserted_window_dims=(0, 1),
                 scatter_dims_to_operand_dims=(0, 1))),
         [_rng("diag").normal(size=(5, 5))], eps=1.0,
         ref=lambda x: np.where(np.eye(5, dtype=bool), np.diag(np.arange(5.0)), x))
for _k, (_idxs, _axes) in enumerate([((np.array([0, 2, 1]),), (0,)),
                                     ((np.array([-1, -2]),), (0,)),
                                     ((np.array([0, 2]), np.array([1, 3])), (0, 1)),
                                     ((np.array([0, 2]), np.array([1, 3])), (0, 2))]):
    def _it_ref(x, idxs=_idxs, axes=_axes):
        sel = [slice(None)] * x.ndim
        for i, a in zip(idxs, axes):
            sel[a] = i
        # (NumPy puts the axis of indices of non-adjacent axes first, as index_take does)
        return x[tuple(sel)]
    add_case(f"index_take_{_k}",
             (lambda i, a: lambda m: lambda x: m.lax.index_take(
                 x, tuple(m.c(k) for k in i), a))(_idxs, _axes),
             [_rng(f"it{_k}").normal(size=(3, 4, 5))], eps=1.0, ref=_it_ref)

add_case("rem_broadcast_rows",
         lambda m: m.lax.rem,
         [_rng("rem1").uniform(-9, 9, (5, 8)),
          _rng("rem2").uniform(0.1, 5, (1, 8)) * _rng("rem3").choice([-1.0, 1.0], (1, 8))],
         ref=np.fmod)
add_case("rem_broadcast_columns",
         lambda m: m.lax.rem,
         [_rng("rem4").uniform(-9, 9, (1, 8)),
          _rng("rem5").uniform(0.1, 5, (5, 8)) * _rng("rem6").choice([-1.0, 1.0], (5, 8))],
         ref=np.fmod)


for _shape, _axis in [((4,), 0), ((5, 5), 0), ((3, 1, 4), 0), ((3, 1, 4), 1)]:
    add_case(f"top_k_{_shape}_axis{_axis}".replace(" ", ""),
             (lambda a: lambda m: lambda x: m.lax.top_k(x, 1, axis=a)[0])(_axis),
             [_unique_values(_rng(f"tka{_shape}{_axis}"), _shape)], eps=1e-3,
             ref=(lambda a: lambda x: np.max(x, axis=a, keepdims=True))(_axis))
# lax.mul(..., out_dtype=): operands of any float dtypes, converted to out_dtype first
for _d1, _d2, _do in [("float32", "float64", "float64"), ("float64", "float32", "float64"),
                      ("float64", "float64", "float64")]:
    add_case(f"mul_out_dtype_{_d1}_{_d2}",
             (lambda d1, d2, do: lambda m: lambda x, y: m.lax.mul(
                 m.lax.convert_element_type(x, d1), m.lax.convert_element_type(y, d2),
                 out_dtype=do))(_d1, _d2, _do),
             [np.array([0.5, -1.25, 2.0]), np.array([1.5, 3.0, -0.75])],
             # (linear in each: a large step, above float32's rounding; values exact in it)
             eps=0.5, tol=1e-6, ref=lambda x, y: x * y)

# -- running the cases ---------------------------------------------------------------------------

def _on(backend, data):
    return tuple(backend.asarray(a, dtype=a.dtype) for a in data)


@pytest.mark.parametrize("name", sorted(n for n, c in CASES.items() if c.everywhere))
def test_value_and_derivatives(name, backend):
    """The value against NumPy/SciPy, and the derivatives up to the case's order in both modes
    against central differences (the dot-product identity for VJPs), in float64."""
    _check_case(name, backend)


@pytest.mark.parametrize("name", sorted(n for n, c in CASES.items() if not c.everywhere))
def test_value_and_derivatives_numpy(name):
    _check_case(name, BackendCase("numpy"))


def _check_case(name, backend):
    c = CASES[name]
    # (constants of a case on the backend too: functrans never copies between libraries)
    m = types.SimpleNamespace(**{**vars(FT), "c": lambda a: backend.asarray(
        a, dtype=np.asarray(a).dtype)})
    f = c.make(m)
    args = _on(backend, c.args)
    if c.ref is not None:
        got = optree.tree_map(backend.to_numpy, f(*args))
        close(got, c.ref(*c.args), c.tol or 1e-12)
    check_derivatives(backend, f, args, order=c.order, modes=("fwd", "rev"), eps=c.eps,
                      atol=c.tol, rtol=c.tol)


def _like(rng, x):
    x = np.asarray(x)
    if np.iscomplexobj(x):
        return rng.normal(size=x.shape) + 1j * rng.normal(size=x.shape)
    return rng.normal(size=x.shape)


def _derivatives(m, f, args, order=2):
    """Value, JVP, VJP and the JVP and VJP of the VJP of ``f`` at ``args`` (each library
    draws the same directions), up to ``order``."""
    rng = np.random.default_rng(0)
    out = f(*args)
    if order == 0:
        return out
    ts = tuple(_like(rng, a) for a in args)
    cts = optree.tree_map(lambda o: _like(rng, o), out)
    _, tan = m.jvp(f, args, ts)
    _, pull = m.vjp(f, *args)
    if order == 1:
        return out, tan, pull(cts)

    def pulled(*a):
        return m.vjp(f, *a)[1](cts)
    _, fwd_rev = m.jvp(pulled, args, ts)
    _, pull2 = m.vjp(pulled, *args)
    return out, tan, pull(cts), fwd_rev, pull2(ts)


# (a one-sided bilinear case is its "_both" case with an argument fixed: not again)
@pytest.mark.parametrize("name", sorted(n for n, c in CASES.items() if c.everywhere))
def test_matches_jax(name):
    JX = _jx()
    c = CASES[name]
    got = _derivatives(FT, c.make(FT), c.args, c.jax_order)
    want = _derivatives(JX, c.make(JX), c.args, c.jax_order)
    close(got, want, 1e-9 if c.tol is None else c.tol)


# -- single tests of lax_autodiff_test ------------------------------------------------------------

def _both(case, jax_check=None):
    """``case(FT)``; where JAX is installed also ``case(JX)``, handed to ``jax_check`` (or
    compared with functrans's)."""
    got = case(FT)
    if jax is not None:
        want = case(_jx())
        if jax_check is None:
            close(got, want)
        else:
            jax_check(want)
    return got


def test_stop_gradient_in_derivatives_of_each_order():
    def case(m):
        f = lambda x: m.lax.sin(x) * m.lax.cos(m.lax.stop_gradient(x))  # noqa: E731
        return (m.grad(f)(3.14), m.grad(m.grad(f))(3.14),
                m.grad(lambda x: m.lax.stop_gradient({"foo": x})["foo"])(3.0))
    g1, g2, g3 = _both(case)
    close(g1, np.cos(3.14) * np.cos(3.14))
    close(g2, -np.sin(3.14) * np.cos(3.14))
    close(g3, 0.0)
    with pytest.raises(TypeError, match=r"not the function .*stop_gradient\(f\(x\)\)"):
        flax.stop_gradient(lambda x: x)


def test_pow_second_derivatives_at_zero_exponent():
    x, y = 4.0, 0.0
    want = ((0.0, 1 / x), (1 / x, np.log(x) ** 2))
    got = _both(lambda m: (m.jacfwd(m.jacfwd(m.lax.pow, (0, 1)), (0, 1))(x, y),
                           m.jacrev(m.jacrev(m.lax.pow, (0, 1)), (0, 1))(x, y)))
    close(got, (want, want))


def test_pow_derivatives_at_zero_to_the_zero():
    # d/dx x**0 is 0 at x = 0 in functrans (x**0 is 1 everywhere); JAX gives nan
    # (docs/coming-from-jax.md, "Conventions at kinks")
    def jax_gives_nan(want):
        assert np.isnan(want[0]) and want[1] == 0.0
    got = _both(lambda m: m.grad(m.lax.pow, (0, 1))(0.0, 0.0), jax_gives_nan)
    close(got, (0.0, 0.0))
    close(_both(lambda m: m.grad(m.jit(lambda x, n: x ** n))(0.0, 0)), 0.0)


def test_pow_with_integer_exponents_and_zero_powers():
    def case(m):
        fs = [lambda z: m.np.sum(z ** m.np.arange(0, 2, dtype=int)),
              lambda z: m.np.sum(z ** m.np.arange(0, 2, dtype=float)),
              lambda z: 1 + z, lambda z: z ** 0 + z, lambda z: z ** 0.0 + z]
        return [m.grad(f)(3.14) for f in fs]
    close(_both(case), [1.0] * 5)


def test_pow_jacobian_with_scalar_exponent_under_jit():
    got = _both(lambda m: m.jacrev(m.jit(m.lax.pow))(m.lax.iota("float64", 4), 2))
    close(got, np.diag(2 * np.arange(4.0)))


def test_sixth_derivative_of_reciprocal():
    def case(m):
        g = lambda x: 1 / x  # noqa: E731
        for _ in range(6):
            g = m.grad(g)
        return g(4.0)
    close(_both(case), 720 / 4.0 ** 7)


def test_linear_transpose_of_real_and_imag():
    got = _both(lambda m: (m.linear_transpose(lambda x: x.real, 1j)(1.0),
                           m.linear_transpose(lambda x: x.imag, 1j)(1.0)))
    close(got, ((1.0 + 0j,), (-1j,)))


def test_scatter_apply_is_differentiated():
    # JAX raises NotImplementedError for derivatives of scatter_apply (x.at[i].apply(f));
    # functrans differentiates it: f's derivative at the updated entries, 1 elsewhere
    x = np.array([1.0, 2.0])
    dn = flax.ScatterDimensionNumbers(update_window_dims=(), inserted_window_dims=(0,),
                                      scatter_dims_to_operand_dims=(0,))
    def f(x):
        return flax.scatter_apply(x, np.array([[1]]), fnp.sin, dn, update_shape=(1,))
    want = np.diag([1.0, np.cos(2.0)])
    close(ft.jacfwd(f)(x), want)
    close(ft.jacrev(f)(x), want)
    check_grads(f, (x,), order=2)
    if jax is not None:
        J = _jx()
        jdn = J.lax.ScatterDimensionNumbers(update_window_dims=(), inserted_window_dims=(0,),
                                            scatter_dims_to_operand_dims=(0,))
        with pytest.raises(NotImplementedError):
            J.jacfwd(lambda x: J.lax.scatter_apply(x, np.array([[1]]), J.np.sin, jdn,
                                                  update_shape=(1,)))(x)


def test_argmax_has_zero_derivative():
    def case(m):
        f = lambda x: m.lax.convert_element_type(m.lax.argmax(x, 0, np.int64), np.float64)  # noqa
        return m.grad(f)(np.array([1.0, 3.0, 2.0]))
    close(_both(case), np.zeros(3))
    # (the tangent of the integer output: an integer zero here, JAX's float0)
    out, tan = ft.jvp(lambda x: flax.argmax(x, 0, np.int64), (np.array([1.0, 3.0, 2.0]),),
                      (np.ones(3),))
    assert out == 1 and tan == 0


def test_dot_general_with_preferred_element_type_has_a_jacobian():
    def case(m):
        f = lambda x: m.lax.dot_general(x, x, (((), ()), ((), ())),  # noqa: E731
                                        preferred_element_type=np.float32)
        return m.jacrev(f)(np.ones((), np.float16))
    got = _both(case)
    assert np.asarray(got).dtype == np.float16
    close(np.asarray(got, dtype=float), 2.0)


def test_jacrev_of_vmapped_out_of_range_dynamic_index():
    def case(m):
        f = lambda x, i: m.lax.dynamic_index_in_dim(x, i, axis=0, keepdims=False)  # noqa
        x, i = np.array([1.0]), np.array([1])  # (out of range: clamped to 0)
        return m.jacrev(f)(x, i[0]), m.jacrev(m.vmap(f, (None, 0)))(x, i)
    got = _both(case)
    close(got, (np.array([1.0]), np.array([[1.0]])))


def test_convert_element_type_complex_to_real_gradient():
    def case(m):
        return m.grad(lambda z: m.lax.convert_element_type(z, np.float64))(
            np.complex128(1 + 2j))
    with warnings.catch_warnings():  # (the imaginary part dropped: NumPy's ComplexWarning)
        warnings.simplefilter("ignore", np.exceptions.ComplexWarning)
        close(_both(case), 1.0 + 0j)


def test_kinks_max_min_clamp_abs():
    # ties of max/min share the derivative equally, as in JAX; abs at 0 has derivative 0
    # (JAX: 1; docs/coming-from-jax.md, "Conventions at kinks")
    got = _both(lambda m: (m.grad(m.lax.max, (0, 1))(1.0, 1.0),
                           m.grad(m.lax.min, (0, 1))(1.0, 1.0)))
    close(got, ((0.5, 0.5), (0.5, 0.5)))
    close(ft.grad(flax.abs)(0.0), 0.0)


_HOLOMORPHIC = {"exp": np.exp, "sin": np.cos, "log": lambda z: 1 / z,
                "sqrt": lambda z: 0.5 / np.sqrt(z), "tanh": lambda z: 1 / np.cosh(z) ** 2}


@pytest.mark.parametrize("name", sorted(_HOLOMORPHIC))
def test_complex_vjp_convention_holomorphic(name, backend):
    # JAX's convention: the pullback of a holomorphic f multiplies by f'(z), no conjugate
    z = np.array([0.7 + 0.4j, -1.1 + 0.9j])
    ct = np.array([1.0 + 0.0j, 0.3 - 2.0j])
    _, pull = ft.vjp(getattr(flax, name), backend.asarray(z, dtype="complex128"))
    (got,) = pull(backend.asarray(ct, dtype="complex128"))
    close(backend.to_numpy(got), ct * _HOLOMORPHIC[name](z))


def test_complex_vjp_convention_of_parts():
    z = np.array([3.0 + 4.0j, -1.0 + 0.5j])
    want_abs = np.conj(z) / np.abs(z)  # (the cotangent 1 of a real output)
    close(ft.vjp(flax.abs, z)[1](np.ones(2))[0], want_abs)
    close(ft.vjp(flax.real, z)[1](np.ones(2))[0], np.ones(2) + 0j)
    close(ft.vjp(flax.imag, z)[1](np.ones(2))[0], -1j * np.ones(2))
    ct = np.array([1.0 + 2.0j, -0.5j])
    close(ft.vjp(flax.conj, z)[1](ct)[0], np.conj(ct))


@pytest.mark.parametrize("name", COMPLEX_OPS)
def test_complex_vjp_matches_jax(name):
    JX = _jx()
    n = next(k for nm, k, _, _, _ in ELEMENTWISE if nm == name)
    r = _rng(name + "_raw")
    args = tuple(r.uniform(0.5, 2.0, (3,)) + 1j * r.uniform(0.3, 1.2, (3,)) for _ in range(n))
    got = _derivatives(FT, getattr(FT.lax, name), args)
    want = _derivatives(JX, getattr(JX.lax, name), args)
    close(got, want, 1e-9)


def test_length_one_axes_broadcast_between_operands_of_one_rank():
    # jax.lax 0.10 broadcasts them (JAX's test pairs shapes (3, 4), (3, 1), (1, 4), ()); other
    # rank mismatches, and clamp's bounds, stay refused as in JAX
    def case(m):
        a, b = np.arange(3.0).reshape(3, 1), np.arange(4.0).reshape(1, 4) + 1
        f = lambda a, b: m.lax.mul(m.lax.atan2(a, b), m.lax.pow(b, a))  # noqa: E731
        return f(a, b), m.grad(lambda a, b: m.np.sum(f(a, b)), (0, 1))(a, b)
    got = _both(case)
    a, b = np.arange(3.0).reshape(3, 1), np.arange(4.0).reshape(1, 4) + 1
    close(got[0], np.arctan2(a, b) * b ** a)
    check_grads(lambda a, b: flax.mul(flax.atan2(a, b), flax.pow(b, a)), (a, b), order=2)
    with pytest.raises(TypeError, match="one shape"):
        flax.add(np.ones((3, 4)), np.ones(4))
    with pytest.raises(TypeError, match="one shape"):
        flax.add(np.ones((3, 4)), np.ones((2, 4)))
    with pytest.raises(TypeError, match="min to be 0-d or of the operand's shape"):
        flax.clamp(np.ones((3, 1)), np.ones((3, 4)), 2.0)
    with pytest.raises(TypeError, match="max to be 0-d or of the operand's shape"):
        flax.clamp(0.0, np.ones((3, 4)), np.ones((1, 4)))
