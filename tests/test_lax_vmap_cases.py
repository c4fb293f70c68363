"""vmap of every functrans.lax operation equals a loop over the batch.

The topics of JAX's tests/lax_vmap_test.py and tests/lax_vmap_op_test.py, restated for
functrans.lax: each operation (elementwise, integer and bit operations, comparisons and
conversions; shapes, slices, dynamic slices with batched starts, gathers and scatters with
batched indices in every mode; dot_general, conv_general_dilated with grouped features and
batches; reductions, windowed reductions with a general computation, argmin/argmax, sort,
top_k, cumulative operations; fft; lax.linalg; the special functions) is vmapped with the
batch axis first, last and in the middle, with each operand in turn left unbatched
(``in_axes`` None), and compared with a Python loop over the members whose results are
stacked: values, dtype, shape and library. Under ``jit(vmap)``, ``vmap(vmap)`` (the outer
axis elsewhere, an operand unbatched at one level, ``out_axes`` other than 0) and for batches
of one member and of none, too.

numpy runs the whole grid; the other backends one layout per operation (the batch axis last
for the first operand, in the middle or unbatched for the others), which shows that the
batched code stays in their library and on their device. Where JAX is installed, jax.vmap
of jax.lax gives the same values (skipped in CI). Each operation's members are also checked
once against NumPy or SciPy where a closed form is at hand (``ref``).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Callable

import numpy as np
import optree
import pytest
import scipy.special as sps

import functrans as ft
import functrans.lax as flax
import functrans.numpy as fnp

N = 3  # members of the batch (the outer batch of a nested vmap has 2)


@dataclass
class Case:
    """An operation ``op(lax)`` (written against a lax namespace, so that JAX's runs it
    too) of operands ``args``: (shape, dtype) or (shape, dtype, make), ``make(rng)`` giving a
    member's data where random normal (or small integer) data would not do."""
    name: str
    op: Callable
    args: list
    tol: float = 1e-10
    ref: Callable | None = None   # the NumPy/SciPy value of one member, where one is at hand
    jax: bool = True              # whether jax.vmap of jax.lax may be compared
    staged: bool = True           # whether jit(vmap) can stage it


def _spd(n):
    def make(rng):
        a = rng.normal(size=(n, n))
        return a @ a.T + n * np.eye(n)
    return make


def _ints(shape, lo, hi, dtype="int32"):
    return lambda rng: rng.integers(lo, hi, size=shape).astype(dtype)


def _with_nan(shape, p=0.3, ties=False):
    def make(rng):
        v = rng.integers(0, 2, size=shape).astype(float) if ties else rng.normal(size=shape)
        return np.where(rng.random(shape) < p, np.nan, v)
    return make


def _positive(shape, lo=0.5, scale=2.0):
    return lambda rng: lo + scale * rng.random(shape)


def _scalar_int(lo, hi):
    return lambda rng: np.asarray(rng.integers(lo, hi), dtype="int32")


F, I = "float64", "int32"
S23 = (2, 3)
CASES: list[Case] = []


def case(*a, **k):
    CASES.append(Case(*a, **k))


# -- elementwise ------------------------------------------------------------------------------

_UNARY_REFS = {"abs": np.abs, "cos": np.cos, "exp": np.exp, "expm1": np.expm1, "floor": np.floor,
               "neg": np.negative, "sign": np.sign, "sin": np.sin, "tanh": np.tanh,
               "logistic": sps.expit, "erf": sps.erf, "lgamma": sps.gammaln,
               "digamma": sps.digamma, "cbrt": np.cbrt, "atan": np.arctan, "asinh": np.arcsinh,
               "ceil": np.ceil, "square": np.square,
               "is_finite": np.isfinite, "bessel_i0e": sps.i0e, "bessel_i1e": sps.i1e,
               "exp2": np.exp2, "sinh": np.sinh, "cosh": np.cosh, "tan": np.tan}
for _n, _ref in _UNARY_REFS.items():
    case(_n, lambda m, n=_n: getattr(m, n), [(S23, F)], tol=1e-9, ref=_ref)
for _n, _ref in (("log", np.log), ("log1p", np.log1p), ("sqrt", np.sqrt),
                 ("rsqrt", lambda x: 1 / np.sqrt(x)),
                 ("acosh", np.arccosh), ("reciprocal", np.reciprocal)):
    case(_n, lambda m, n=_n: getattr(m, n), [(S23, F, _positive(S23, 1.1))], tol=1e-9, ref=_ref)
for _n, _ref in (("asin", np.arcsin), ("acos", np.arccos), ("atanh", np.arctanh),
                 ("erf_inv", sps.erfinv)):
    case(_n, lambda m, n=_n: getattr(m, n), [(S23, F, lambda r: r.uniform(-.9, .9, S23))],
         tol=1e-9, ref=_ref)
for _n, _ref in (("real", np.real), ("imag", np.imag), ("conj", np.conj), ("abs", np.abs)):
    case(f"{_n}_complex", lambda m, n=_n: getattr(m, n), [(S23, "complex128")], ref=_ref)
for _n, _ref in (("population_count", None), ("clz", None), ("bitwise_not", np.invert),
                 ("neg", np.negative), ("abs", np.abs), ("sign", np.sign)):
    case(f"{_n}_int", lambda m, n=_n: getattr(m, n), [(S23, I)], ref=_ref)
case("population_count_uint8", lambda m: m.population_count, [(S23, "uint8", _ints(S23, 0, 256,
     "uint8"))], ref=lambda x: np.unpackbits(x[..., None], axis=-1).sum(-1).astype("uint8"))
case("clz_uint8", lambda m: m.clz, [(S23, "uint8", _ints(S23, 0, 256, "uint8"))],
     ref=lambda x: (8 - np.ceil(np.log2(x.astype(float) + 1))).astype("uint8"))
case("round_half_even", lambda m: (lambda x: m.round(x, m.RoundingMethod.TO_NEAREST_EVEN)),
     [(S23, F, lambda r: r.integers(-4, 4, S23) + 0.5)], ref=np.round)
case("round_half_away", lambda m: m.round, [(S23, F, lambda r: r.integers(-4, 4, S23) + 0.5)],
     ref=lambda x: np.sign(x) * np.floor(np.abs(x) + 0.5))
case("integer_pow", lambda m: (lambda x: m.integer_pow(x, 3)), [(S23, F)], ref=lambda x: x ** 3)
case("integer_pow_negative", lambda m: (lambda x: m.integer_pow(x, -2)), [(S23, F)],
     ref=lambda x: x ** -2.0)
case("reduce_precision", lambda m: (lambda x: m.reduce_precision(x, 5, 10)), [(S23, F)],
     ref=lambda x: x.astype(np.float16).astype(np.float64))
# a Python number takes the array's dtype (JAX 0.10 with x64 refuses it: docs/coming-from-jax.md)
case("add_python_scalar_f32", lambda m: (lambda x: m.add(x, 2.0)), [(S23, "float32")],
     ref=lambda x: x + np.float32(2), jax=False)
case("mul_python_scalar_left_int8", lambda m: (lambda x: m.mul(3, x)), [(S23, "int8")],
     ref=lambda x: (x * np.int8(3)).astype("int8"), jax=False)

_BINARY_REFS = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide,
                "max": np.maximum, "min": np.minimum, "atan2": np.arctan2,
                "nextafter": np.nextafter, "eq": np.equal, "ne": np.not_equal, "lt": np.less,
                "le": np.less_equal, "gt": np.greater, "ge": np.greater_equal,
                "rem": np.fmod, "complex": lambda a, b: a + 1j * b}
for _n, _ref in _BINARY_REFS.items():
    case(_n, lambda m, n=_n: getattr(m, n), [(S23, F), (S23, F)], ref=_ref)
case("pow", lambda m: m.pow, [(S23, F, _positive(S23)), (S23, F)], ref=np.power)
case("nextafter_f32", lambda m: m.nextafter, [(S23, "float32"), (S23, "float32")],
     ref=np.nextafter)
for _n, _ref in (("igamma", sps.gammainc), ("igammac", sps.gammaincc),
                 ("igamma_grad_a", None), ("random_gamma_grad", None)):
    case(_n, lambda m, n=_n: getattr(m, n), [(S23, F, _positive(S23)), (S23, F, _positive(S23))],
         tol=1e-8, ref=_ref)
case("zeta", lambda m: m.zeta, [(S23, F, _positive(S23, 1.5)), (S23, F, _positive(S23))],
     tol=1e-8, ref=sps.zeta)
case("betainc", lambda m: m.betainc, [(S23, F, _positive(S23))] * 2
     + [(S23, F, lambda r: r.random(S23))], tol=1e-8, ref=sps.betainc)
# the order m batched too: each member's own orders (lax_vmap_op_test maps every operand)
case("polygamma", lambda m: m.polygamma, [(S23, F, lambda r: r.integers(0, 3, S23) * 1.0),
                                          (S23, F, _positive(S23))], tol=1e-8,
     ref=lambda n, x: sps.polygamma(n.astype(int), x))

_INT_REFS = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "max": np.maximum,
             "min": np.minimum, "bitwise_and": np.bitwise_and, "bitwise_or": np.bitwise_or,
             "bitwise_xor": np.bitwise_xor, "lt": np.less,
             "div": lambda a, b: np.trunc(a / b).astype(a.dtype),
             "rem": lambda a, b: np.fmod(a, b)}
_NONZERO = (S23, I, lambda r: (r.integers(1, 5, S23) * r.choice([-1, 1], S23)).astype("int32"))
for _n, _ref in _INT_REFS.items():
    case(f"{_n}_int", lambda m, n=_n: getattr(m, n), [(S23, I), _NONZERO], ref=_ref)
for _n, _dt in (("shift_left", "int8"), ("shift_right_logical", "uint8"),
                ("shift_right_arithmetic", "int32")):
    _bits = np.dtype(_dt).itemsize * 8
    # shifts of the bit width and beyond included: 0 (or the sign) as in JAX
    case(f"{_n}_{_dt}", lambda m, n=_n: getattr(m, n),
         [(S23, _dt, _ints(S23, -100 if _dt[0] == "i" else 0, 100, _dt)),
          (S23, _dt, _ints(S23, 0, _bits + 3, _dt))])
case("mulhi_uint32", lambda m: m.mulhi,
     [(S23, "uint32", _ints(S23, 0, 2 ** 32, "uint32"))] * 2,
     ref=lambda a, b: ((a.astype("uint64") * b.astype("uint64")) >> 32).astype("uint32"))
case("clamp_scalar_bounds", lambda m: m.clamp, [((), F), (S23, F), ((), F)],
     ref=lambda lo, x, hi: np.minimum(np.maximum(x, lo), hi))
case("clamp_array_bounds", lambda m: m.clamp, [(S23, F), (S23, F), (S23, F)],
     ref=lambda lo, x, hi: np.minimum(np.maximum(x, lo), hi))
case("clamp_int", lambda m: m.clamp, [((), I), (S23, I), ((), I)],
     ref=lambda lo, x, hi: np.minimum(np.maximum(x, lo), hi))
case("select_n_bool", lambda m: m.select_n, [(S23, "bool"), (S23, F), (S23, F)],
     ref=lambda p, a, b: np.where(p, b, a))
case("select_n_int_which", lambda m: m.select_n,
     [(S23, I, _ints(S23, 0, 3)), (S23, F), (S23, F), (S23, F)],
     ref=lambda w, *c: np.choose(w, c))
# a scalar predicate per member, choosing whole arrays
case("select_n_scalar_pred", lambda m: m.select_n, [((), "bool"), (S23, I), (S23, I)],
     ref=lambda p, a, b: b if p else a)
case("select", lambda m: m.select, [(S23, "bool"), (S23, F), (S23, F)], ref=np.where)
for _to in ("float32", "int32", "uint8", "bool", "complex64"):
    case(f"convert_float64_to_{_to}",
         lambda m, to=_to: (lambda x: m.convert_element_type(x, to)),
         [(S23, F, lambda r: r.uniform(0, 200, S23))], ref=lambda x, to=_to: x.astype(to))
case("convert_int32_to_float32", lambda m: (lambda x: m.convert_element_type(x, "float32")),
     [(S23, I)], ref=lambda x: x.astype("float32"))

# -- shapes -----------------------------------------------------------------------------------

for _sh, _sizes in (((), (2,)), (S23, (1, 2))):
    case(f"broadcast{_sh}{_sizes}", lambda m, s=_sizes: (lambda x: m.broadcast(x, s)),
         [(_sh, F)], ref=lambda x, s=_sizes: np.broadcast_to(x, s + x.shape))
for _sh, _out, _dims in (((2,), (2, 2), (1,)), ((2,), (2, 3), (0,)), ((), (2, 3), ()),
                         ((1, 3), (2, 4, 3), (1, 2))):
    case(f"broadcast_in_dim{_sh}{_out}{_dims}",
         lambda m, o=_out, d=_dims: (lambda x: m.broadcast_in_dim(x, o, d)), [(_sh, F)])
for _sh, _dims in (((2, 1, 4), (-2,)), ((2, 1, 3, 1), (1, 3)), ((1,), (0,))):
    case(f"squeeze{_sh}{_dims}", lambda m, d=_dims: (lambda x: m.squeeze(x, d)), [(_sh, F)],
         ref=lambda x, d=_dims: np.squeeze(x, d))
case("expand_dims", lambda m: (lambda x: m.expand_dims(x, (0, 3))), [(S23, F)],
     ref=lambda x: np.expand_dims(x, (0, 3)))
for _sh, _new, _dims in (((2, 3, 4), (6, 4), None), ((2, 3, 4), (6, 4), (2, 0, 1)),
                         ((3, 4), (12,), (1, 0)), ((), (1, 1), None)):
    case(f"reshape{_sh}{_new}{_dims}", lambda m, n=_new, d=_dims: (lambda x: m.reshape(x, n, d)),
         [(_sh, F)], ref=lambda x, n=_new, d=_dims:
         np.reshape(x if d is None else np.transpose(x, d), n))
case("transpose", lambda m: (lambda x: m.transpose(x, (2, 0, 1))), [((2, 3, 4), F)],
     ref=lambda x: np.transpose(x, (2, 0, 1)))
case("rev", lambda m: (lambda x: m.rev(x, (0, 2))), [((2, 3, 4), F)],
     ref=lambda x: x[::-1, :, ::-1])
case("pad_interior", lambda m: (lambda x, c: m.pad(x, c, [(1, 2, 1), (0, 1, 0)])),
     [(S23, F), ((), F)])
case("pad_negative", lambda m: (lambda x, c: m.pad(x, c, [(-1, 2, 1), (-2, -1, 1)])),
     [((5, 4), F), ((), F)])
case("concatenate", lambda m: (lambda a, b, c: m.concatenate([a, b, c], 1)),
     [(S23, F), ((2, 1), F), ((2, 2), F)], ref=lambda *a: np.concatenate(a, 1))
case("slice_strided", lambda m: (lambda x: m.slice(x, (0, 1), (7, 6), (2, 3))), [((7, 6), F)],
     ref=lambda x: x[0:7:2, 1:6:3])
case("slice_in_dim", lambda m: (lambda x: m.slice_in_dim(x, 1, 4, 2, axis=1)), [((2, 5), F)],
     ref=lambda x: x[:, 1:4:2])
case("index_in_dim", lambda m: (lambda x: m.index_in_dim(x, -1, axis=1, keepdims=False)),
     [((2, 5), F)], ref=lambda x: x[:, -1])
case("collapse", lambda m: (lambda x: m.collapse(x, 1, 3)), [((2, 3, 4, 2), F)],
     ref=lambda x: x.reshape(2, 12, 2))
case("split", lambda m: (lambda x: m.split(x, (1, 2), axis=1)), [(S23, F)], jax=False,
     ref=lambda x: (x[:, :1], x[:, 1:]))
case("tile", lambda m: (lambda x: m.tile(x, (2, 1))), [(S23, F)], jax=False,
     ref=lambda x: np.tile(x, (2, 1)))
case("full_like_shape", lambda m: (lambda x: m.full_like(x, 2.0, shape=(4,))), [(S23, F)],
     ref=lambda x: np.full((4,), 2.0))

# dynamic slices: the starts batched too, negative and past the end (clamped per member)
_START = _scalar_int(-7, 7)


def _clamped(i, n, size):
    i = i + n if i < 0 else i
    return min(max(i, 0), n - size)


case("dynamic_slice", lambda m: (lambda x, i, j: m.dynamic_slice(x, (i, j), (2, 2))),
     [((4, 5), F), ((), I, _START), ((), I, _START)],
     ref=lambda x, i, j: x[_clamped(i, 4, 2):][:2, _clamped(j, 5, 2):][:, :2])
case("dynamic_update_slice",
     lambda m: (lambda x, u, i, j: m.dynamic_update_slice(x, u, (i, j))),
     [((4, 5), F), ((2, 2), F), ((), I, _START), ((), I, _START)])
case("dynamic_index_in_dim",
     lambda m: (lambda x, i: m.dynamic_index_in_dim(x, i, axis=1, keepdims=False)),
     [((4, 5), F), ((), I, _START)], ref=lambda x, i: x[:, _clamped(i, 5, 1)])
case("dynamic_update_index_in_dim",
     lambda m: (lambda x, u, i: m.dynamic_update_index_in_dim(x, u, i, axis=1)),
     [((4, 5), F), ((4,), F), ((), I, _START)])

# -- gather and scatter: batched operands, indices and updates; every mode -------------------


def _gdn(m, *a, **k):
    return m.GatherDimensionNumbers(*a, **k)


def _sdn(m, *a, **k):
    return m.ScatterDimensionNumbers(*a, **k)


for _mode in (None, "clip", "fill", "promise_in_bounds"):
    case(f"gather_rows_{_mode}", lambda m, mo=_mode: (lambda x, i: m.gather(
        x, i, _gdn(m, (1,), (0,), (0,)), (1, 3), mode=mo)),
         [((10, 5), F), ((3, 1), I, _ints((3, 1), -2, 12))])
    case(f"gather_windows_{_mode}", lambda m, mo=_mode: (lambda x, i: m.gather(
        x, i, _gdn(m, (1, 2), (), (0, 1)), (3, 2), mode=mo)),
         [((10, 5), F), ((2, 2), I, _ints((2, 2), -2, 12))])
case("gather_batching_dims", lambda m: (lambda x, i: m.gather(x, i, _gdn(
    m, offset_dims=(), collapsed_slice_dims=(1,), start_index_map=(1,),
    operand_batching_dims=(0,), start_indices_batching_dims=(0,)), (1, 1))),
     [((3, 5), F), ((3, 1), I, _ints((3, 1), 0, 5))],
     ref=lambda x, i: x[np.arange(3), i[:, 0]])
case("gather_fill_value", lambda m: (lambda x, i: m.gather(
    x, i, _gdn(m, (), (0,), (0,)), (1,), mode="fill", fill_value=-7.0)),
     [((5,), F), ((4, 1), I, _ints((4, 1), -3, 8))],
     ref=lambda x, i: np.where((i[:, 0] >= 0) & (i[:, 0] < 5), x[np.clip(i[:, 0], 0, 4)], -7.0))
for _name in ("scatter", "scatter_add", "scatter_sub", "scatter_mul", "scatter_min",
              "scatter_max"):
    for _mode in (None, "clip", "promise_in_bounds"):
        # distinct rows (some out of range): JAX leaves the order of repeats to scatter open
        case(f"{_name}_rows_{_mode}", lambda m, n=_name, mo=_mode: (lambda x, i, u: getattr(
            m, n)(x, i, u, _sdn(m, (1,), (0,), (0,)), mode=mo)),
             [((6, 4), F), ((3, 1), I, lambda r: r.permutation(9)[:3, None].astype("int32") - 2),
              ((3, 4), F)], jax=_name != "scatter_sub")
# repeated positions: added up; for scatter, the last update wins (per member)
case("scatter_add_repeats", lambda m: (lambda x, i, u: m.scatter_add(
    x, i, u, _sdn(m, (), (0,), (0,)))), [((3,), F), ((6, 1), I, _ints((6, 1), 0, 3)), ((6,), F)],
     ref=lambda x, i, u: x + np.bincount(i[:, 0], u, 3))
case("scatter_repeats_last_wins", lambda m: (lambda x, i, u: m.scatter(
    x, i, u, _sdn(m, (), (0,), (0,)))), [((3,), F), ((6, 1), I, _ints((6, 1), 0, 3)), ((6,), F)],
     jax=False, ref=lambda x, i, u: _last_wins(x, i[:, 0], u))
case("scatter_add_int_windows", lambda m: (lambda x, i, u: m.scatter_add(
    x, i, u, _sdn(m, (1, 2), (), (0, 1)))), [((5, 4), I), ((2, 2), I, _ints((2, 2), -1, 5)),
                                             ((2, 3, 2), I)])
case("scatter_batching_dims", lambda m: (lambda x, i, u: m.scatter_add(x, i, u, _sdn(
    m, update_window_dims=(), inserted_window_dims=(1,), scatter_dims_to_operand_dims=(1,),
    operand_batching_dims=(0,), scatter_indices_batching_dims=(0,)))),
     [((3, 5), F), ((3, 1), I, _ints((3, 1), 0, 5)), ((3,), F)])

# func applied once per visit, the indices batched: each member's repeats counted on its own
for _mode in (None, "clip"):
    case(f"scatter_apply_repeats_{_mode}", lambda m, mo=_mode: (lambda x, i: m.scatter_apply(
        x, i, m.sin, _sdn(m, (), (0,), (0,)), update_shape=(6,), mode=mo)),
         [((5,), F), ((6, 1), I, _ints((6, 1), -1, 6))],
         ref=None if _mode else lambda x, i: _applied(x, i[:, 0], np.sin), staged=False)
case("scatter_apply_windows", lambda m: (lambda x, i: m.scatter_apply(
    x, i, m.exp, _sdn(m, (1,), (0,), (0,)), update_shape=(3, 2))),
     [((4, 2), F), ((3, 1), I, _ints((3, 1), 0, 4))],
     ref=lambda x, i: _applied(x, i[:, 0], np.exp), staged=False)


def _applied(x, idx, func):
    out = x.copy()
    for k in idx:
        if 0 <= k < len(x):
            out[k] = func(out[k])
    return out


def _last_wins(x, idx, u):
    out = x.copy()
    for k, v in zip(idx, u):
        out[k] = v
    return out


# -- contractions -----------------------------------------------------------------------------

for _ls, _rs in (((3,), (3,)), ((4, 3), (3,)), ((4, 3), (3, 6))):
    case(f"dot{_ls}{_rs}", lambda m: m.dot, [(_ls, F), (_rs, F)], ref=np.dot)
for _ls, _rs, _dn in (
        ((3, 5), (2, 5), (([1], [1]), ([], []))),
        ((5, 3, 2), (5, 2, 4), (([0, 2], [0, 1]), ([], []))),
        ((3, 4, 2, 4), (3, 4, 3, 2), (([2], [3]), ([0, 1], [0, 1]))),
        ((2, 3, 4), (4, 3, 2), (([1], [1]), ([2], [0])))):   # batch dims not leading
    case(f"dot_general{_ls}{_rs}{_dn}", lambda m, dn=_dn: (lambda a, b: m.dot_general(a, b, dn)),
         [(_ls, F), (_rs, F)], tol=1e-9)
case("dot_general_preferred_int8_int32", lambda m: (lambda a, b: m.dot_general(
    a, b, (([1], [0]), ([], [])), preferred_element_type=np.int32)),
     [(S23, "int8", _ints(S23, -100, 100, "int8")), ((3, 2), "int8", _ints((3, 2), -100, 100,
                                                                          "int8"))],
     ref=lambda a, b: a.astype("int32") @ b.astype("int32"))
case("dot_general_preferred_f32_f64", lambda m: (lambda a, b: m.dot_general(
    a, b, (([1], [0]), ([], [])), preferred_element_type=np.float64)),
     [(S23, "float32"), ((3, 2), "float32")], tol=1e-6,
     ref=lambda a, b: a.astype("float64") @ b.astype("float64"))
case("dot_general_complex", lambda m: (lambda a, b: m.dot_general(a, b, (([1], [0]), ([], [])))),
     [(S23, "complex128"), ((3, 2), "complex128")], ref=np.matmul)
case("batch_matmul", lambda m: m.batch_matmul, [((2, 3, 4), F), ((2, 4, 5), F)], ref=np.matmul,
     jax=False)
case("ragged_dot", lambda m: m.ragged_dot,
     [((5, 3), F), ((2, 3, 4), F),
      ((2,), I, lambda r: (lambda k: np.array([k, 5 - k], "int32"))(r.integers(0, 6)))],
     jax=False, tol=1e-9,  # (JAX's batching rule maps axis 0 only)
     ref=lambda lhs, rhs, g: np.concatenate([lhs[:g[0]] @ rhs[0], lhs[g[0]:] @ rhs[1]]))

for _bgc, _fgc in ((1, 1), (2, 1), (1, 2)):
    for _dn, (_lp, _rp) in ((("NCHW", "OIHW", "NCHW"), ((0, 1, 2, 3), (0, 1, 2, 3))),
                            (("NHWC", "HWIO", "NHWC"), ((0, 2, 3, 1), (2, 3, 1, 0))),
                            (("NHWC", "OIHW", "NCHW"), ((0, 2, 3, 1), (0, 1, 2, 3)))):
        _lhs = tuple(np.take((2 * _bgc, 2 * _fgc, 6, 5), _lp))
        _rhs = tuple(np.take((2 * _bgc * _fgc, 2, 1, 2), _rp))
        case(f"conv_{''.join(_dn)}_bgc{_bgc}_fgc{_fgc}",
             lambda m, dn=_dn, b=_bgc, f=_fgc: (lambda lhs, rhs: m.conv_general_dilated(
                 lhs, rhs, (1, 2), ((1, 0), (0, -1)), (2, 1), (1, 2), dn,
                 feature_group_count=f, batch_group_count=b)),
             [(_lhs, F), (_rhs, F)], tol=1e-9)
case("conv_1d_same_int", lambda m: (lambda lhs, rhs: m.conv_general_dilated(lhs, rhs, (1,),
                                                                           "SAME")),
     [((1, 2, 5), I), ((2, 2, 3), I)])
case("conv_transpose", lambda m: (lambda lhs, rhs: m.conv_transpose(
    lhs, rhs, (2, 2), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"))),
     [((1, 3, 3, 2), F), ((2, 2, 2, 3), F)], tol=1e-9)
case("conv_general_dilated_patches", lambda m: (lambda x: m.conv_general_dilated_patches(
    x, (2, 2), (1, 1), "VALID")), [((1, 2, 3, 4), F)])

# -- reductions -------------------------------------------------------------------------------

for _n, _ref in (("reduce_sum", np.sum), ("reduce_prod", np.prod), ("reduce_max", np.max),
                 ("reduce_min", np.min)):
    case(_n, lambda m, n=_n: (lambda x: getattr(m, n)(x, (1,))), [(S23, F)],
         ref=lambda x, r=_ref: r(x, axis=1))
    case(f"{_n}_int_all_axes", lambda m, n=_n: (lambda x: getattr(m, n)(x, (0, 1))), [(S23, I)],
         ref=lambda x, r=_ref: r(x).astype("int32"))
case("reduce_max_nan", lambda m: (lambda x: m.reduce_max(x, (1,))), [((3, 5), F, _with_nan(
    (3, 5)))], ref=lambda x: np.max(x, axis=1))
for _n, _ref in (("reduce_and", np.logical_and), ("reduce_or", np.logical_or),
                 ("reduce_xor", np.logical_xor)):
    case(_n, lambda m, n=_n: (lambda x: getattr(m, n)(x, (0,))), [(S23, "bool")],
         ref=lambda x, r=_ref: r.reduce(x, axis=0))
    case(f"{_n}_int", lambda m, n=_n: (lambda x: getattr(m, n)(x, (1,))), [(S23, I)])
case("reduce_general_computation", lambda m: (lambda x: m.reduce(
    x, 0.0, lambda a, b: m.add(m.mul(a, a), b), (1,))), [(S23, F)], jax=False)  # (not assoc.)
case("reduce_batched_init", lambda m: (lambda x, i: m.reduce(x, i, m.add, (0,))),
     [(S23, F), ((), F)], ref=lambda x, i: x.sum(0) + i, jax=False)  # (JAX's refuses it)
case("reduce_variadic", lambda m: (lambda x, y: m.reduce(
    (x, y), (0.0, 1.0), lambda a, b: (m.add(a[0], b[0]), m.mul(a[1], b[1])), (0,))),
     [(S23, F), (S23, F)], ref=lambda x, y: (x.sum(0), y.prod(0)))
for _comp, _init, _ref in (("add", 0.0, np.sum), ("max", -np.inf, np.max),
                           ("min", np.inf, np.min), ("mul", 1.0, np.prod)):
    case(f"reduce_window_{_comp}", lambda m, c=_comp, i=_init: (lambda x: m.reduce_window(
        x, i, getattr(m, c), (2, 2), (1, 2), ((1, 0), (0, 1)), base_dilation=(2, 1),
        window_dilation=(1, 2))), [((4, 5), F)])
case("reduce_window_valid", lambda m: (lambda x: m.reduce_window(
    x, 0.0, m.add, (2, 2), (1, 1), "VALID")), [((4, 5), F)],
     ref=lambda x: x[:-1, :-1] + x[1:, :-1] + x[:-1, 1:] + x[1:, 1:])
case("reduce_window_general_computation", lambda m: (lambda x: m.reduce_window(
    x, -np.inf, lambda a, b: m.max(a, b), (3,), (1,), "SAME")), [((5,), F)],
     ref=lambda x: np.max(np.stack([np.r_[-np.inf, x[:-1]], x, np.r_[x[1:], -np.inf]]), 0))
case("reduce_window_pytree", lambda m: (lambda x, y: m.reduce_window(
    (x, y), (0.0, 1.0), lambda a, b: (m.add(a[0], b[0]), m.mul(a[1], b[1])), (2,), (1,),
    "VALID")), [((5,), F), ((5,), F)], ref=lambda x, y: (x[1:] + x[:-1], y[1:] * y[:-1]))
case("reduce_window_batched_init", lambda m: (lambda x, i: m.reduce_window(
    x, i, m.add, (2,), (1,), "VALID")), [((5,), F), ((), F)], jax=False,
     ref=lambda x, i: x[1:] + x[:-1] + i)
for _n, _np in (("argmax", np.argmax), ("argmin", np.argmin)):
    for _axis, _it in ((0, "int32"), (1, "int64")):
        case(f"{_n}_axis{_axis}_{_it}", lambda m, n=_n, a=_axis, t=_it: (
            lambda x: getattr(m, n)(x, a, np.dtype(t))), [((3, 4), F)],
             ref=lambda x, f=_np, a=_axis, t=_it: f(x, axis=a).astype(t))
    # ties (the first wins) and nan (counts as the extreme, as in JAX)
    case(f"{_n}_ties_nan", lambda m, n=_n: (lambda x: getattr(m, n)(x, 1, np.int32)),
         [((3, 4), F, _with_nan((3, 4), 0.2, ties=True))],
         ref=lambda x, f=_np: f(x, axis=1).astype("int32"))
for _n, _ref in (("cumsum", np.cumsum), ("cumprod", np.cumprod),
                 ("cummax", np.maximum.accumulate), ("cummin", np.minimum.accumulate),
                 ("cumlogsumexp", np.logaddexp.accumulate)):
    for _axis, _rev in ((0, False), (1, True)):
        case(f"{_n}_axis{_axis}_reverse{_rev}",
             lambda m, n=_n, a=_axis, r=_rev: (lambda x: getattr(m, n)(x, axis=a, reverse=r)),
             [((3, 4), F)], tol=1e-9,
             ref=lambda x, f=_ref, a=_axis, r=_rev:
             np.flip(f(np.flip(x, a), axis=a), a) if r else f(x, axis=a))
case("cumsum_int8", lambda m: (lambda x: m.cumsum(x, axis=1)), [((3, 4), "int8")],
     ref=lambda x: np.cumsum(x, axis=1, dtype="int8"))
case("cummax_nan", lambda m: (lambda x: m.cummax(x, axis=1)), [((3, 5), F, _with_nan((3, 5)))],
     ref=lambda x: np.fmax.accumulate(x, axis=1) * np.where(
         np.cumsum(np.isnan(x), 1) > 0, np.nan, 1))
case("associative_scan", lambda m: (lambda x: m.associative_scan(m.add, x, axis=1)),
     [((3, 5), F)], ref=lambda x: np.cumsum(x, 1), jax=False)

# -- sorting ----------------------------------------------------------------------------------

for _dim in (0, 1):
    case(f"sort_dim{_dim}", lambda m, d=_dim: (lambda x: m.sort(x, dimension=d)), [((3, 4), F)],
         ref=lambda x, d=_dim: np.sort(x, axis=d))
case("sort_key_val", lambda m: (lambda k, v: m.sort_key_val(k, v, dimension=0)),
     [((4, 3), F), ((4, 3), I)])
case("sort_nan_negzero", lambda m: (lambda x: m.sort(x)),
     [((5,), F, lambda r: np.array([np.nan, 1.0, -np.inf, -0.0, 0.0])[r.permutation(5)])])
case("sort_two_keys_stable", lambda m: (lambda a, b, c: m.sort((a, b, c), dimension=0,
                                                              num_keys=2)),
     [((6,), I, _ints((6,), 0, 2)), ((6,), I, _ints((6,), 0, 2)), ((6,), F)],
     ref=lambda a, b, c: tuple(v[np.lexsort((b, a))] for v in (a, b, c)))
case("sort_ties_nan_operands", lambda m: (lambda x, y: m.sort((x, y), dimension=1, num_keys=1)),
     [((3, 5), F, _with_nan((3, 5), ties=True)), ((3, 5), I)])
for _k in (1, 3):
    case(f"top_k{_k}", lambda m, k=_k: (lambda x: m.top_k(x, k)), [((3, 5), F)],
         ref=lambda x, k=_k: (-np.sort(-x, axis=1)[:, :k],
                              np.argsort(-x, axis=1, kind="stable")[:, :k].astype("int32")))
case("top_k_ties_nan", lambda m: (lambda x: m.top_k(x, 3)),
     [((3, 5), F, _with_nan((3, 5), ties=True))])
case("top_k_int", lambda m: (lambda x: m.top_k(x, 2)), [((3, 5), I)])
case("approx_max_k", lambda m: (lambda x: m.approx_max_k(x, 2)), [((3, 5), F)],
     ref=lambda x: (-np.sort(-x, axis=1)[:, :2],
                    np.argsort(-x, axis=1, kind="stable")[:, :2].astype("int32")))

# -- negative axes (functrans takes them where JAX refuses; docs/coming-from-jax.md): counted
# from the end of a member's axes, not of the batched array's

_S34 = (3, 4)
case("cumsum_negative_axis", lambda m: (lambda x: m.cumsum(x, axis=-2, reverse=True)),
     [(_S34, F)], jax=False, ref=lambda x: np.cumsum(x[::-1], 0)[::-1])
case("sort_negative_dimension", lambda m: (lambda a, b: m.sort((a, b), dimension=-2,
                                                              num_keys=1)),
     [(_S34, F), (_S34, I)], jax=False, ref=lambda a, b: (
         np.take_along_axis(a, np.argsort(a, 0, kind="stable"), 0),
         np.take_along_axis(b, np.argsort(a, 0, kind="stable"), 0)))
case("top_k_negative_axis", lambda m: (lambda x: m.top_k(x, 2, axis=-2)), [(_S34, F)],
     jax=False, ref=lambda x: (-np.sort(-x, 0)[:2], np.argsort(-x, 0)[:2].astype("int32")))
case("argmin_negative_axis", lambda m: (lambda x: m.argmin(x, -2, np.int32)), [(_S34, F)],
     jax=False, ref=lambda x: np.argmin(x, 0).astype("int32"))
case("reduce_max_negative_axis", lambda m: (lambda x: m.reduce_max(x, (-2,))), [(_S34, F)],
     jax=False, ref=lambda x: x.max(0))
case("rev_negative_dimension", lambda m: (lambda x: m.rev(x, (-2,))), [(_S34, F)], jax=False,
     ref=lambda x: x[::-1])
case("dynamic_update_slice_in_dim_negative_axis",
     lambda m: (lambda x, u, i: m.dynamic_update_slice_in_dim(x, u, i, axis=-1)),
     [(_S34, F), ((3, 2), F), ((), I, _START)])


# -- fft and linalg ---------------------------------------------------------------------------

for _t, _dt, _sh, _lens, _ref in (
        ("FFT", "complex128", (3, 4), (4,), lambda x: np.fft.fft(x)),
        ("IFFT", "complex128", (3, 4), (3, 4), lambda x: np.fft.ifft2(x)),
        ("RFFT", F, (4, 6), (4, 6), lambda x: np.fft.rfft2(x)),
        ("IRFFT", "complex128", (3, 4), (6,), lambda x: np.fft.irfft(x, 6))):
    case(f"fft_{_t}{_lens}", lambda m, t=_t, n=_lens: (lambda x: m.fft(x, t, n)), [(_sh, _dt)],
         tol=1e-9, ref=_ref)
case("cholesky", lambda m: m.linalg.cholesky, [((3, 3), F, _spd(3))], tol=1e-9,
     ref=np.linalg.cholesky)
for _left, _lower, _ta in ((True, True, False), (False, True, True), (True, False, True),
                           (False, False, False)):
    case(f"triangular_solve_left{_left}_lower{_lower}_transpose{_ta}",
         lambda m, le=_left, lo=_lower, t=_ta: (lambda a, b: m.linalg.triangular_solve(
             a, b, left_side=le, lower=lo, transpose_a=t)),
         [((3, 3), F, _spd(3)), ((3, 2) if _left else (2, 3), F)], tol=1e-9,
         ref=lambda a, b, le=_left, lo=_lower, t=_ta: _tri_solve(a, b, le, lo, t))
case("triangular_solve_conj_unit_diagonal", lambda m: (lambda a, b: m.linalg.triangular_solve(
    a, b, left_side=True, lower=True, conjugate_a=True, unit_diagonal=True)),
     [((3, 3), "complex128"), ((3, 2), "complex128")], tol=1e-9)
case("tridiagonal_solve", lambda m: m.linalg.tridiagonal_solve,
     [((4,), F, lambda r: np.r_[0, r.normal(size=3)]), ((4,), F, _positive((4,), 5.0)),
      ((4,), F, lambda r: np.r_[r.normal(size=3), 0]), ((4, 2), F)], tol=1e-9,
     ref=lambda dl, d, du, b: np.linalg.solve(np.diag(d) + np.diag(du[:-1], 1)
                                              + np.diag(dl[1:], -1), b))
case("lu", lambda m: m.linalg.lu, [((3, 3), F)], tol=1e-9)
case("lu_pivots_to_permutation", lambda m: (lambda p: m.linalg.lu_pivots_to_permutation(p, 4)),
     [((3,), I, lambda r: np.array([r.integers(k, 4) for k in range(3)], "int32"))])
case("eigh_eigenvalues", lambda m: (lambda x: m.linalg.eigh(x)[1]), [((3, 3), F, _spd(3))],
     tol=1e-9, ref=np.linalg.eigvalsh)
case("qr_r_magnitudes", lambda m: (lambda x: m.abs(m.linalg.qr(x, full_matrices=False)[1])),
     [((4, 3), F)], tol=1e-9, ref=lambda x: np.abs(np.linalg.qr(x)[1]))
case("svd_values", lambda m: (lambda x: m.linalg.svd(x, compute_uv=False)), [((4, 3), F)],
     tol=1e-9, ref=lambda x: np.linalg.svd(x, compute_uv=False))
case("householder_product", lambda m: m.linalg.householder_product, [((4, 3), F), ((3,), F)],
     tol=1e-9)
case("symmetric_product", lambda m: (lambda a, c: m.linalg.symmetric_product(a, c, alpha=2.0,
                                                                             beta=0.5)),
     [((3, 2), F), ((3, 3), F, lambda r: (lambda a: a + a.T)(r.normal(size=(3, 3))))], tol=1e-9,
     ref=lambda a, c: 2.0 * a @ a.T + 0.5 * c)


def _tri_solve(a, b, left, lower, transpose):
    t = np.tril(a) if lower else np.triu(a)
    t = t.T if transpose else t
    return np.linalg.solve(t, b) if left else np.linalg.solve(t.T, b.T).T


# -- the checks -------------------------------------------------------------------------------


def _rng(name, salt=0):
    return np.random.default_rng(zlib.crc32(name.encode()) + salt)


def _member(spec, rng):
    """One member's operands (NumPy data)."""
    out = []
    for a in spec.args:
        shape, dtype = a[0], a[1]
        if len(a) > 2:
            v = np.asarray(a[2](rng))
        elif np.dtype(dtype).kind == "f":
            v = rng.normal(size=shape)
        elif np.dtype(dtype).kind == "c":
            v = rng.normal(size=shape) + 1j * rng.normal(size=shape)
        elif np.dtype(dtype).kind == "b":
            v = rng.random(shape) < 0.5
        else:
            v = rng.integers(0 if np.dtype(dtype).kind == "u" else -10, 10, size=shape)
        out.append(np.asarray(v).astype(dtype))
    return out


def _layouts(spec):
    """(in_axes, out_axes): every operand batched first, then last (the results' batch axis
    last too); a single operand also in the middle; then each operand in turn unbatched, the
    others batched at rotating positions."""
    ranks = [len(a[0]) for a in spec.args]
    out = [(tuple(0 for _ in ranks), 0), (tuple(ranks), -1)]
    if len(ranks) == 1 and ranks[0] > 1:
        out.append(((ranks[0] // 2,), 0))
    for k in range(len(ranks) if len(ranks) > 1 else 0):
        out.append((tuple(None if i == k else (i + k) % (r + 1) for i, r in enumerate(ranks)),
                    0))
    return out


def _representative(spec):
    """One layout for the backends beside numpy: the first operand batched last, the others
    in the middle, the second unbatched."""
    ranks = [len(a[0]) for a in spec.args]
    return tuple(ranks[0] if i == 0 else (None if i == 1 else r // 2)
                 for i, r in enumerate(ranks))


def _dtypes(spec):
    return [a[1] for a in spec.args]


def _loop(spec, op, members, in_axes, backend):
    """The per-member results (an unbatched operand: member 0's)."""
    return [op(*[backend.asarray(members[k if ax is not None else 0][i], dtype=d)
                 for i, (ax, d) in enumerate(zip(in_axes, _dtypes(spec)))])
            for k in range(len(members))]


def _compare(got, want_leaves_of, spec, backend, what):
    """``got`` (a tree of batched results) against ``want_leaves_of(j)``: (a NumPy array of
    stacked member results, their dtype) for leaf j."""
    got_leaves = optree.tree_leaves(got)
    for j, g in enumerate(got_leaves):
        assert backend.is_own(g), (what, j, type(g))
        want, want_dtype = want_leaves_of(j)
        assert fnp.result_type(g) == want_dtype, (what, j, fnp.result_type(g), want_dtype)
        gn = backend.to_numpy(g)
        assert gn.shape == want.shape, (what, j, gn.shape, want.shape)
        if want.dtype.kind in "fc":
            np.testing.assert_allclose(gn, want, rtol=spec.tol, atol=spec.tol, equal_nan=True,
                                       err_msg=f"{what}, leaf {j}")
        else:
            np.testing.assert_array_equal(gn, want, err_msg=f"{what}, leaf {j}")


def _check_vmap(spec, backend, in_axes, size=N, out_axes=0, how="vmap", salt=0):
    op = spec.op(flax)
    rng = _rng(spec.name, salt)
    members = [_member(spec, rng) for _ in range(max(size, 1))]
    outs = _loop(spec, op, members, in_axes, backend)
    args = []
    for i, (ax, d) in enumerate(zip(in_axes, _dtypes(spec))):
        if ax is None:  # (member 0's, as in the loop)
            args.append(backend.asarray(members[0][i], dtype=d))
        else:  # (with no members: an empty batch of the members' shape)
            batch = (np.stack([m[i] for m in members[:size]]) if size else
                     np.zeros((0,) + spec.args[i][0], dtype=d))
            args.append(backend.asarray(np.moveaxis(batch, 0, ax), dtype=d))
    members = members[:size]
    fn = ft.vmap(op, in_axes=in_axes, out_axes=out_axes)
    fn = ft.jit(fn) if how == "jit" else fn
    got = fn(*args)
    out_leaves = [optree.tree_leaves(o) for o in outs]
    assert optree.tree_structure(got) == optree.tree_structure(outs[0]), spec.name

    def want(j):
        like = out_leaves[0][j]
        if size == 0:
            stacked = np.zeros((0,) + tuple(like.shape), dtype=backend.to_numpy(like).dtype)
        else:
            stacked = np.stack([backend.to_numpy(o[j]) for o in out_leaves[:size]])
        return np.moveaxis(stacked, 0, out_axes), fnp.result_type(like)
    _compare(got, want, spec, backend, f"{spec.name} {how} in_axes={in_axes} size={size}")
    return members, outs


def _check_nested(spec, backend, inner, outer, out_axes=(1, -1)):
    """vmap(vmap(op, inner, out_axes[1]), outer, out_axes[0]) on 2 x N members."""
    op = spec.op(flax)
    rng = _rng(spec.name, 7)
    grid = [[_member(spec, rng) for _ in range(N)] for _ in range(2)]
    args = []
    for i, (b, o, d) in enumerate(zip(inner, outer, _dtypes(spec))):
        if b is None and o is None:
            args.append(backend.asarray(grid[0][0][i], dtype=d))
        elif b is None:
            args.append(backend.asarray(np.stack([grid[p][0][i] for p in range(2)], o), dtype=d))
        else:
            rows = [np.stack([grid[p][q][i] for q in range(N)], b) for p in range(2)]
            args.append(backend.asarray(rows[0] if o is None else np.stack(rows, o), dtype=d))
    got = ft.vmap(ft.vmap(op, in_axes=inner, out_axes=out_axes[1]), in_axes=outer,
                  out_axes=out_axes[0])(*args)
    outs = [[optree.tree_leaves(op(*[
        backend.asarray(grid[p if o is not None else 0][q if b is not None else 0][i], dtype=d)
        for i, (b, o, d) in enumerate(zip(inner, outer, _dtypes(spec)))])) for q in range(N)]
        for p in range(2)]

    def want(j):
        rows = [np.stack([backend.to_numpy(outs[p][q][j]) for q in range(N)], 0)
                for p in range(2)]
        inner_axis = out_axes[1] % (rows[0].ndim)
        rows = [np.moveaxis(r, 0, inner_axis) for r in rows]
        return (np.moveaxis(np.stack(rows, 0), 0, out_axes[0] % (rows[0].ndim + 1)),
                fnp.result_type(outs[0][0][j]))
    _compare(got, want, spec, backend, f"{spec.name} vmap(vmap) inner={inner} outer={outer}")


def _params(cases):
    return [pytest.param(c, id=c.name) for c in cases]


# The backends beside numpy run one case of each kind (CI time); the other functions of a
# family, modes and layouts of dimension numbers run on numpy alone.
EVERYWHERE = {
    "sin", "lgamma", "is_finite", "real_complex", "clz_uint8", "round_half_even",
    "integer_pow_negative", "reduce_precision", "mul_python_scalar_left_int8", "atan2",
    "nextafter_f32", "igamma", "betainc", "polygamma", "div_int", "rem_int",
    "shift_left_int8", "shift_right_logical_uint8", "mulhi_uint32", "clamp_scalar_bounds",
    "select_n_int_which", "select_n_scalar_pred", "convert_float64_to_uint8",
    "convert_float64_to_complex64", "broadcast_in_dim(1, 3)(2, 4, 3)(1, 2)",
    "squeeze(2, 1, 3, 1)(1, 3)", "reshape(2, 3, 4)(6, 4)(2, 0, 1)", "transpose", "rev",
    "pad_negative", "concatenate", "slice_strided", "dynamic_slice", "dynamic_update_slice",
    "dynamic_update_index_in_dim", "gather_windows_fill", "gather_rows_clip",
    "gather_batching_dims", "scatter_rows_clip", "scatter_mul_rows_clip",
    "scatter_repeats_last_wins", "scatter_batching_dims", "scatter_apply_repeats_None",
    "dot_general(2, 3, 4)(4, 3, 2)(([1], [1]), ([2], [0]))", "dot_general_preferred_int8_int32",
    "ragged_dot", "conv_NHWCOIHWNCHW_bgc1_fgc2", "conv_NCHWOIHWNCHW_bgc2_fgc1", "conv_transpose",
    "reduce_sum", "reduce_max_nan", "reduce_xor_int", "reduce_variadic",
    "reduce_general_computation", "reduce_window_add", "reduce_window_pytree",
    "argmax_ties_nan", "cumsum_axis1_reverseTrue", "sort_negative_dimension",
    "top_k_negative_axis", "dynamic_update_slice_in_dim_negative_axis",
    "cumlogsumexp_axis1_reverseTrue",
    "sort_two_keys_stable", "sort_nan_negzero", "top_k_ties_nan", "fft_RFFT(4, 6)",
    "fft_IRFFT(6,)", "cholesky", "triangular_solve_conj_unit_diagonal", "tridiagonal_solve",
    "lu", "eigh_eigenvalues", "svd_values", "householder_product"}


def _on_every_backend(spec):
    return spec.name in EVERYWHERE


@pytest.mark.parametrize("spec", _params(CASES))
def test_vmap_of_lax_op_equals_a_loop(backend, spec):
    """Every layout on numpy (with jit(vmap), out_axes elsewhere, batches of one and none);
    one layout on the other backends."""
    if backend.name != "numpy":
        if not _on_every_backend(spec):
            pytest.skip("numpy runs this variant; the other backends run one of its kind")
        _check_vmap(spec, backend, _representative(spec))
        return
    for k, (in_axes, out_axes) in enumerate(_layouts(spec)):
        members, outs = _check_vmap(spec, backend, in_axes, out_axes=out_axes)
        if k == 0 and spec.ref is not None:  # the members' values themselves, from NumPy/SciPy
            for m, o in zip(members, outs):
                want = spec.ref(*m)
                for g, w in zip(optree.tree_leaves(o), optree.tree_leaves(want)):
                    np.testing.assert_allclose(backend.to_numpy(g), np.asarray(w), rtol=1e-7,
                                               atol=1e-7, equal_nan=True, err_msg=spec.name)
    rep = _representative(spec)
    if spec.staged:
        _check_vmap(spec, backend, rep, how="jit", salt=1)
    _check_vmap(spec, backend, rep, size=1, out_axes=-1, salt=2)
    _check_vmap(spec, backend, rep, size=0, salt=3)


# a selection for vmap(vmap): one per kind of operation
NESTED = ["sin", "atan2", "shift_right_arithmetic_int32", "polygamma", "clamp_scalar_bounds",
          "select_n_int_which", "convert_float64_to_uint8",
          "broadcast_in_dim(1, 3)(2, 4, 3)(1, 2)",
          "reshape(2, 3, 4)(6, 4)(2, 0, 1)", "pad_negative", "concatenate", "dynamic_slice",
          "dynamic_update_slice", "gather_windows_fill", "scatter_add_rows_clip",
          "scatter_repeats_last_wins", "scatter_apply_repeats_clip",
          "dot_general(2, 3, 4)(4, 3, 2)(([1], [1]), ([2], [0]))",
          "conv_NHWCOIHWNCHW_bgc1_fgc2", "reduce_variadic", "reduce_window_max",
          "argmax_ties_nan", "cumlogsumexp_axis1_reverseTrue", "sort_two_keys_stable",
          "top_k3", "top_k_negative_axis", "fft_IRFFT(6,)",
          "triangular_solve_leftFalse_lowerTrue_transposeTrue",
          "tridiagonal_solve"]
_BY_NAME = {c.name: c for c in CASES}


@pytest.mark.parametrize("name", NESTED)
def test_nested_vmap_of_lax_op(backend, name):
    """vmap of vmap: the outer batch axis last for the first operand and first elsewhere, the
    second operand unbatched by the outer vmap, results placed at out_axes (1, -1)."""
    spec = _BY_NAME[name]
    ranks = [len(a[0]) for a in spec.args]
    inner = _representative(spec) if backend.name != "numpy" else tuple(0 for _ in ranks)
    if all(b is None for b in inner[1:]) and len(ranks) > 1:
        inner = inner[:1] + (0,) * (len(ranks) - 1)
    outer = tuple((ranks[0] + (inner[0] is not None)) if i == 0 else (None if i == 1 else 0)
                  for i in range(len(ranks)))
    _check_nested(spec, backend, inner, outer)
    if backend.name == "numpy" and len(ranks) > 1:  # and the other way round
        _check_nested(spec, backend, tuple(None if i == 0 else 0 for i in range(len(ranks))),
                      tuple(0 for _ in ranks), out_axes=(0, 0))


def test_cases_cover_the_lax_operations():
    """The table names an operation of every lax family it restates (a deleted entry fails)."""
    names = {c.name for c in CASES}
    for family in ("gather", "scatter", "conv", "dot_general", "reduce_window", "sort", "top_k",
                   "cumsum", "fft", "triangular_solve", "dynamic_update_slice", "pad",
                   "select_n", "clamp", "polygamma", "convert"):
        assert any(n.startswith(family) for n in names), family
    assert len(CASES) > 200
    assert EVERYWHERE <= names and set(NESTED) <= names  # (a renamed case is not dropped)


# -- refusals (clear errors, as JAX's or documented) -------------------------------------------


def test_scatter_apply_with_indices_traced_by_jit_is_refused_clearly(backend):
    x, i = backend.asarray(np.zeros((2, 3))), backend.asarray([[[0], [0]], [[1], [2]]], "int32")
    f = ft.vmap(lambda x, i: flax.scatter_apply(
        x, i, flax.cos, flax.ScatterDimensionNumbers((), (0,), (0,)), update_shape=(2,)))
    with pytest.raises(NotImplementedError, match="traced by jit or a derivative"):
        ft.jit(f)(x, i)
    # vmap alone: member 0 applies cos twice at 0, member 1 once at 1 and at 2
    np.testing.assert_allclose(backend.to_numpy(f(x, i)),
                               [[np.cos(1.0), 0, 0], [0, 1, 1]], rtol=1e-12)


# (polygamma with an order traced by jit and bitcast_convert_type under vmap and jit:
# tests/test_lax_transform_gaps.py)


# -- side by side with jax.vmap of jax.lax (skipped where JAX is not installed) ----------------


@pytest.mark.parametrize("spec", _params([c for c in CASES if c.jax]))
def test_vmap_of_lax_op_matches_jax(spec):
    """The representative layout, through both libraries on the same data (numpy)."""
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    from jax import lax as jlax
    rng = _rng(spec.name, 11)
    members = [_member(spec, rng) for _ in range(N)]
    in_axes = _representative(spec)
    args = [members[0][i] if ax is None else np.stack([m[i] for m in members], ax)
            for i, ax in enumerate(in_axes)]
    got = ft.vmap(spec.op(flax), in_axes=in_axes)(*args)
    want = jax.vmap(spec.op(jlax), in_axes=in_axes)(*args)
    got_l, want_l = optree.tree_leaves(got), jax.tree_util.tree_leaves(want)
    assert len(got_l) == len(want_l)
    for g, w in zip(got_l, want_l):
        g, w = np.asarray(g), np.asarray(w)
        assert (g.shape, g.dtype) == (w.shape, w.dtype), (spec.name, g.shape, g.dtype,
                                                          w.shape, w.dtype)
        if w.dtype.kind in "fc":
            np.testing.assert_allclose(g, w, rtol=max(spec.tol, 1e-9), atol=max(spec.tol, 1e-9),
                                       equal_nan=True)
        else:
            np.testing.assert_array_equal(g, w)
