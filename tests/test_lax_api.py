"""functrans.lax beyond control flow (functrans/lax_ops.py): jax.lax's elementwise, structural,
reduction, sorting, cumulative and product operations, associative_scan, custom_root,
custom_linear_solve and JAX's top-level helpers.

Values are compared with jax.lax itself (jax_enable_x64) over shapes, dtypes and parameters;
a representative subset runs on every backend (results must be arrays of the input's library);
derivatives with check_grads (JVP vs finite differences, VJP by the dot-product identity,
order 2 where it makes sense) and with jax's; vmap and jit of a few; error cases.
"""

from __future__ import annotations

import numpy as np
import pytest

import functrans as ft
import functrans.lax as lax
import functrans.numpy as fnp
from functrans import lax_ops
from functrans.testing import check_grads

jax = pytest.importorskip("jax")
jax.config.update("jax_enable_x64", True)
jnp = jax.numpy
jlax = jax.lax

RNG = np.random.default_rng(0)
X = RNG.normal(size=(3, 4))
Y = RNG.normal(size=(3, 4))
POS = np.abs(X) + 0.5
UNIT = RNG.uniform(-0.9, 0.9, size=(3, 4))
XI = RNG.integers(-50, 50, size=(3, 4))
YI = RNG.integers(-7, 7, size=(3, 4))
Z = X + 1j * Y


def _same(got, want, tol=1e-10):
    """One array (or a list/tuple of them) equal to jax's: values, shape and dtype."""
    if isinstance(want, (list, tuple)):
        assert isinstance(got, (list, tuple)) and len(got) == len(want)
        for g, w in zip(got, want):
            _same(g, w, tol)
        return
    g, w = np.asarray(got), np.asarray(want)
    assert g.shape == w.shape, (g.shape, w.shape)
    assert g.dtype == w.dtype, (g.dtype, w.dtype)
    if w.dtype.kind in "fc":
        t = tol if w.dtype in (np.float64, np.complex128) else 1e-5
        np.testing.assert_allclose(g, w, rtol=t, atol=t, equal_nan=True)
    else:
        np.testing.assert_array_equal(g, w)


def _vs_jax(name, *args, **kw):
    _same(getattr(lax, name)(*args, **kw), getattr(jlax, name)(*args, **kw))


# -- elementwise ------------------------------------------------------------------------------

UNARY_REAL = ["neg", "abs", "sign", "floor", "ceil", "round", "is_finite", "exp", "exp2",
              "expm1", "sin", "cos", "tan", "atan", "sinh", "cosh", "tanh", "asinh",
              "logistic", "erf", "erfc", "square", "reciprocal", "conj", "cbrt"]
UNARY_POS = ["log", "log1p", "sqrt", "rsqrt", "lgamma", "digamma", "acosh"]
UNARY_UNIT = ["asin", "acos", "atanh", "erf_inv"]
UNARY_COMPLEX = ["real", "imag", "abs", "sign", "conj", "exp", "sqrt", "neg", "log", "sin",
                 "tanh", "square"]
BINARY_FLOAT = ["add", "sub", "mul", "div", "rem", "max", "min", "atan2", "nextafter", "eq",
                "ne", "lt", "le", "gt", "ge", "pow", "complex"]
BINARY_INT = ["add", "sub", "mul", "div", "rem", "max", "min", "eq", "ne", "lt", "ge",
              "bitwise_and", "bitwise_or", "bitwise_xor", "shift_left", "shift_right_logical",
              "shift_right_arithmetic"]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", UNARY_REAL + UNARY_POS + UNARY_UNIT)
def test_unary_float_ops_match_jax(name, dtype):
    x = (POS + 1 if name in UNARY_POS else UNIT if name in UNARY_UNIT else X).astype(dtype)
    _vs_jax(name, x)
    _vs_jax(name, x[0, 0])  # 0-d


@pytest.mark.parametrize("dtype", ["complex128", "complex64"])
@pytest.mark.parametrize("name", UNARY_COMPLEX)
def test_unary_complex_ops_match_jax(name, dtype):
    _vs_jax(name, Z.astype(dtype))


@pytest.mark.parametrize("name", ["neg", "abs", "sign", "square", "bitwise_not",
                                  "population_count", "clz"])
@pytest.mark.parametrize("dtype", ["int64", "int32", "int8", "uint8", "uint16", "uint64"])
def test_unary_integer_ops_match_jax(name, dtype):
    if name in ("neg", "abs", "sign") and dtype.startswith("u"):
        pytest.skip("negation of unsigned integers")
    x = (XI if dtype[0] == "i" else np.abs(XI) * 3).astype(dtype)
    _vs_jax(name, x)
    _vs_jax(name, np.array([0, 1, 2, 127], dtype))  # edges of the bit counts


def test_bit_counts_at_the_extremes():
    for dt in ("int64", "int32", "uint64", "uint32"):
        info = np.iinfo(dt)
        x = np.array([info.min, info.max, 0, 1, info.max // 3], dt)
        _vs_jax("population_count", x)
        _vs_jax("clz", x)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name", BINARY_FLOAT)
def test_binary_float_ops_match_jax(name, dtype):
    x, y = X.astype(dtype), Y.astype(dtype)
    if name == "pow":
        x = POS.astype(dtype)
    _vs_jax(name, x, y)
    _vs_jax(name, x, y[0, 0])  # a 0-d operand broadcasts
    if dtype == "float64":  # a Python float is weakly typed (JAX with x64: float64 too)
        _vs_jax(name, x, 0.75)


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "int8"])
@pytest.mark.parametrize("name", BINARY_INT)
def test_binary_integer_ops_match_jax(name, dtype):
    x, y = XI.astype(dtype), YI.astype(dtype)
    if dtype == "uint8" and name in ("shift_left", "shift_right_logical",
                                     "shift_right_arithmetic"):
        y = np.array([[0, 1, 7, 8], [9, 200, 3, 2], [4, 5, 6, 1]], "uint8")
    _vs_jax(name, x, y)
    if dtype == "int64":
        _vs_jax(name, x, 3)
        _vs_jax(name, x, np.array([[0, 1, 63, 64], [65, -1, -64, 2], [3, 4, 5, 100]]))


def test_integer_division_is_cs_and_by_zero_is_xlas():
    x = np.array([-7, 7, -7, 7, 5, -5, 0, 3])
    y = np.array([2, -2, -2, 2, 0, 0, 3, 1])
    _vs_jax("div", x, y)
    _vs_jax("rem", x, y)
    _vs_jax("div", x.astype("uint32") % 9, np.array([2, 0, 3, 1, 0, 5, 1, 2], "uint32"))


@pytest.mark.parametrize("y", [0, 1, 2, 3, -1, -2, 7])
def test_integer_pow(y):
    _vs_jax("integer_pow", X, y)
    if y >= 0:
        _vs_jax("integer_pow", XI.astype("int32"), y)
    _vs_jax("pow", POS, XI % 4)


def test_round_methods_and_ties():
    x = np.array([0.5, 1.5, 2.5, -0.5, -2.5, 0.49999999999999994, 2.4999999999999996,
                  -1e300, 1e300, np.inf, np.nan, -0.0])
    for method in (0, 1, lax.RoundingMethod.AWAY_FROM_ZERO,
                   lax.RoundingMethod.TO_NEAREST_EVEN):
        _same(lax.round(x, method), jlax.round(x, int(method)))
    with pytest.raises(ValueError, match="rounding_method"):
        lax.round(x, 2)


def test_clamp_igamma_complex():
    _vs_jax("clamp", -0.5, X, 0.5)
    _vs_jax("clamp", np.full((3, 4), -0.5), X, 0.5)
    _vs_jax("clamp", np.int32(-3), XI.astype("int32"), np.int32(9))
    _vs_jax("igamma", POS, POS + 0.3)
    _vs_jax("igammac", POS, POS + 0.3)
    _vs_jax("complex", X.astype("float32"), Y.astype("float32"))


def test_elementwise_on_every_backend(backend):
    x, y = backend.asarray(X), backend.asarray(Y)
    xi = backend.asarray(XI, dtype="int64")
    yi = backend.asarray(np.abs(YI), dtype="int64")
    cases = [
        (lax.add(x, y), X + Y), (lax.div(x, 2.0), X / 2), (lax.rem(x, y), np.fmod(X, Y)),
        (lax.max(x, y), np.maximum(X, Y)), (lax.clamp(-0.5, x, 0.5), np.clip(X, -0.5, 0.5)),
        (lax.round(x), jlax.round(X)), (lax.rsqrt(lax.abs(x)), 1 / np.sqrt(np.abs(X))),
        (lax.logistic(x), 1 / (1 + np.exp(-X))), (lax.erf_inv(lax.mul(x, 0.1)),
                                                    jlax.erf_inv(X * 0.1)),
        (lax.integer_pow(x, 3), X ** 3), (lax.lt(x, y), X < Y),
        (lax.div(xi, yi), jlax.div(XI, np.abs(YI))), (lax.rem(xi, 3), jlax.rem(XI, 3)),
        (lax.shift_right_logical(xi, yi), jlax.shift_right_logical(XI, np.abs(YI))),
        (lax.shift_left(xi, yi), jlax.shift_left(XI, np.abs(YI))),
        (lax.population_count(xi), jlax.population_count(XI)), (lax.clz(xi), jlax.clz(XI)),
    ]
    for got, want in cases:
        assert backend.is_own(got), type(got)
        _same(backend.to_numpy(got), want)


def test_elementwise_refuses_what_jax_refuses():
    f32 = X.astype("float32")
    with pytest.raises(TypeError, match=r"lax.add requires arguments to have the same "
                                        r"dtypes, got float32, float64"):
        lax.add(f32, Y)
    with pytest.raises(TypeError, match="same dtypes"):
        lax.mul(XI, X)
    with pytest.raises(TypeError, match=r"lax.sub requires arguments of one shape"):
        lax.sub(X, X[0])
    with pytest.raises(TypeError, match="lax.sin does not accept dtype int64"):
        lax.sin(XI)
    with pytest.raises(TypeError, match="lax.real does not accept dtype float64"):
        lax.real(X)
    with pytest.raises(TypeError, match="lax.bitwise_and does not accept dtype float64"):
        lax.bitwise_and(X, Y)
    with pytest.raises(TypeError, match="Python number 2.5 cannot take"):
        lax.add(XI, 2.5)
    with pytest.raises(TypeError, match="negative powers"):
        lax.integer_pow(XI, -1)
    with pytest.raises(TypeError, match="same dtypes"):
        lax.select(X > 0, X, f32)
    with pytest.raises(TypeError, match="same dtypes"):
        lax.concatenate([X, f32], 0)


def test_python_numbers_are_weakly_typed():
    f32 = X.astype("float32")
    assert lax.add(f32, 2.0).dtype == np.float32
    assert lax.mul(f32, 2).dtype == np.float32
    assert lax.add(XI.astype("int8"), 3).dtype == np.int8
    assert lax.add(2.0, 3.0) == 5.0 and lax.add(2, 3).dtype == np.int64


# -- shapes --------------------------------------------------------------------------------

A3 = RNG.normal(size=(2, 3, 4))


@pytest.mark.parametrize("name,args", [
    ("broadcast", (X, (2,))), ("broadcast", (X, ())), ("broadcast_in_dim", (X[:, :1],
                                                                           (2, 3, 4), (1, 2))),
    ("broadcast_in_dim", (X[0], (3, 4), (1,))), ("broadcast_to_rank", (X, 4)),
    ("reshape", (X, (4, 3))), ("reshape", (X, (2, 6), (1, 0))), ("reshape", (A3, (6, 4),
                                                                             (2, 0, 1))),
    ("squeeze", (X[None, :, None], (0, 2))), ("squeeze", (X[None], (-3,))),
    ("expand_dims", (X, (0, 3))), ("expand_dims", (X, (-1,))), ("rev", (X, (0, 1))),
    ("rev", (A3, (1,))), ("rev", (X, ())), ("transpose", (A3, (2, 0, 1))),
    ("concatenate", ([X, Y, X], 1)), ("concatenate", ([X, Y], 0)),
    ("slice", (X, (1, 0), (3, 4), (1, 2))), ("slice", (A3, (0, 1, 1), (2, 3, 4))),
    ("slice_in_dim", (X, 1, None, 1, 1)), ("slice_in_dim", (X, -2, -1, 1, 0)),
    ("slice_in_dim", (A3, None, 4, 2, 2)), ("index_in_dim", (X, -1, 1, False)),
    ("index_in_dim", (A3, 1)), ("collapse", (A3, 1)), ("collapse", (A3, 0, 2)),
    ("iota", (np.float32, 5)), ("iota", (np.int64, 0)), ("broadcasted_iota", (np.int32,
                                                                             (2, 3), 1)),
    ("full", ((2, 3), 1.5)), ("full", ((2,), 1.5, np.int32)), ("full_like", (X, 2.0)),
    ("full_like", (X, 2, np.int32, (5,))),
])
def test_structural_ops_match_jax(name, args):
    _vs_jax(name, *args)


PADS = [[(1, 2, 0), (0, 0, 1)], [(-1, 2, 1), (2, -3, 2)], [(0, 0, 3), (-2, -1, 0)],
        [(0, 0, 0), (0, 0, 0)], [(-3, 0, 0), (1, 1, 1)], [(2, -2, 1), (-5, 0, 1)]]


@pytest.mark.parametrize("config", PADS)
@pytest.mark.parametrize("value", [0.0, -1.5])
def test_pad_matches_jax(config, value):
    _vs_jax("pad", X, value, config)
    _vs_jax("pad", XI.astype("int32"), np.int32(7), config)


def test_pad_on_every_backend_and_its_derivatives(backend):
    x = backend.asarray(X)
    for config in PADS[:3]:
        got = lax.pad(x, -1.5, config)
        assert backend.is_own(got)
        _same(backend.to_numpy(got), jlax.pad(X, -1.5, config))
    v = backend.asarray(0.3)
    check_grads(lambda x, v: lax.pad(x, v, PADS[1]), (x, v), order=2)
    check_grads(lambda x: lax.pad(x, 0.0, PADS[5]), (x,), order=1)


def test_structural_errors():
    with pytest.raises(ValueError, match="cannot squeeze"):
        lax.squeeze(X, (1,))
    with pytest.raises(TypeError, match="neither 1 nor"):
        lax.broadcast_in_dim(X, (3, 5), (0, 1))
    with pytest.raises(TypeError, match="strictly increasing"):
        lax.broadcast_in_dim(X, (4, 3), (1, 0))
    with pytest.raises(ValueError, match="not a permutation"):
        lax.transpose(X, (0, 0))
    with pytest.raises(ValueError, match="start <= limit <= size"):
        lax.slice(X, (0, 3), (3, 2))
    with pytest.raises(ValueError, match="interior padding must be nonnegative"):
        lax.pad(X, 0.0, [(0, 0, -1), (0, 0, 0)])
    with pytest.raises(ValueError, match="negative size"):
        lax.pad(X, 0.0, [(-3, -1, 0), (0, 0, 0)])
    with pytest.raises(TypeError, match="pad requires arguments to have the same dtypes"):
        lax.pad(X, np.float32(0), [(0, 0, 0)] * 2)
    with pytest.raises(IndexError, match="out of bounds"):
        lax.index_in_dim(X, 3)


def test_convert_element_type_as_xla():
    f = np.array([np.nan, 1e30, -1e30, -3.7, 2.9, 0.5, -0.5, 2.0 ** 31, -2.0 ** 31 - 1])
    for dt in (np.int32, np.int8, np.uint8, np.int64, np.uint32, np.bool_):
        _vs_jax("convert_element_type", f, dt)
    _vs_jax("convert_element_type", Z, np.float64)
    _vs_jax("convert_element_type", Z, np.complex64)
    _vs_jax("convert_element_type", X, np.float32)
    _vs_jax("convert_element_type", XI, np.float32)
    _vs_jax("convert_element_type", XI, np.bool_)
    check_grads(lambda x: lax.convert_element_type(x, np.float32), (X,), order=1,
                atol=1e-5, rtol=1e-5)


def test_bitcast_convert_type(backend):
    for x, dt in [(X.astype("float32"), np.int32), (X, np.int32),
                  (XI.astype("int32")[:, :2], np.float64), (XI, np.uint64)]:
        got = lax.bitcast_convert_type(backend.asarray(x, dtype=x.dtype.name), dt)
        assert backend.is_own(got)
        _same(backend.to_numpy(got), jlax.bitcast_convert_type(x, dt))
    with pytest.raises(ValueError, match="last axis must have size 2"):
        lax.bitcast_convert_type(XI.astype("int32"), np.float64)
    # an integer result carries no derivative (transforms: tests/test_lax_transform_gaps.py)
    g = ft.grad(lambda x: lax.bitcast_convert_type(x, np.int64).sum() * 0.0 + x.sum())(X)
    np.testing.assert_array_equal(g, np.ones_like(X))


# -- reductions, sorting, cumulative ----------------------------------------------------------

@pytest.mark.parametrize("name", ["reduce_sum", "reduce_prod", "reduce_max", "reduce_min"])
@pytest.mark.parametrize("axes", [(0,), (1,), (0, 1), ()])
def test_reductions_match_jax(name, axes):
    _vs_jax(name, X, axes)
    _vs_jax(name, XI.astype("int32"), axes)
    _vs_jax(name, X.astype("float32"), axes)


def test_negative_axes_are_accepted():
    # (JAX refuses negative axes in these; they count from the end here)
    _same(lax.reduce_sum(X, (-1,)), jlax.reduce_sum(X, (1,)))
    _same(lax.cumsum(A3, -2, True), jlax.cumsum(A3, 1, True))
    _same(lax.concatenate([X, Y], -2), jlax.concatenate([X, Y], 0))


def test_reductions_over_nothing_and_bitwise():
    for name in ("reduce_sum", "reduce_prod", "reduce_max", "reduce_min"):
        _vs_jax(name, np.ones((0, 3)), (0,))
        _vs_jax(name, np.ones((0, 3), "int32"), (0,))
    for name in ("reduce_and", "reduce_or", "reduce_xor"):
        for axes in ((0,), (1,), (0, 1)):
            _vs_jax(name, XI, axes)
            _vs_jax(name, XI.astype("uint8"), axes)
            _vs_jax(name, XI > 0, axes)
    with pytest.raises(TypeError, match="reduce_and does not accept dtype float64"):
        lax.reduce_and(X, (0,))


def test_reduce_with_known_and_general_computations():
    _same(lax.reduce(X, 0.0, lax.add, (1,)), jlax.reduce(X, 0.0, jlax.add, (1,)))
    _same(lax.reduce(X, -np.inf, lax.max, (0,)), jlax.reduce(X, -np.inf, jlax.max, (0,)))
    _same(lax.reduce(X, 1.0, fnp.multiply, (0, 1)), jlax.reduce(X, 1.0, jlax.mul, (0, 1)))
    # a general computation on a pytree of operands (odd sizes on the way)
    big = RNG.normal(size=(3, 7))
    bigi = RNG.integers(-9, 9, size=(3, 7))
    got = lax.reduce((big, bigi), (0.0, -100),
                     lambda a, b: (lax.add(a[0], b[0]), lax.max(a[1], b[1])), (1,))
    want = jlax.reduce((big, bigi), (0.0, -100),
                       lambda a, b: (jlax.add(a[0], b[0]), jlax.max(a[1], b[1])), (1,))
    _same(got, want)
    # the running (value, index) argmax as a reduction
    idx = np.broadcast_to(np.arange(7), (3, 7))

    def pick(a, b):
        take_b = fnp.greater(b[0], a[0])
        return fnp.where(take_b, b[0], a[0]), fnp.where(take_b, b[1], a[1])
    v, i = lax.reduce((big, idx), (-np.inf, 0), pick, (1,))
    _same(i, np.argmax(big, axis=1))
    _same(lax.reduce(np.ones((2, 0)), 5.0, lambda a, b: a * b, (1,)), np.full(2, 5.0))
    check_grads(lambda x: lax.reduce(x, 0.0, lambda a, b: a * b + a + b, (1,)),
                (big * 0.3,), order=2)
    with pytest.raises(TypeError, match="one structure"):
        lax.reduce((X, X), 0.0, lax.add, (0,))


@pytest.mark.parametrize("shape,axis", [((3, 4), 1), ((3, 4), 0), ((7,), 0), ((2, 5, 3), 1)])
def test_argmax_argmin_sort_top_k(shape, axis):
    x = RNG.normal(size=shape)
    x.flat[1] = x.flat[0]  # a tie
    for name in ("argmax", "argmin"):
        for dt in (np.int32, np.int64):
            _vs_jax(name, x, axis, dt)
    _vs_jax("sort", x, axis)
    _vs_jax("top_k", x, 2)
    _vs_jax("top_k", x, 1, axis=axis)
    keys = RNG.integers(0, 3, size=shape)
    keys2 = RNG.integers(0, 2, size=shape)
    _vs_jax("sort", (keys, x), axis, True, 1)
    _vs_jax("sort", (keys, keys2, x), axis, True, 2)
    _vs_jax("sort_key_val", keys, x, axis)


def test_sort_and_top_k_with_nan_and_errors():
    x = np.array([1.0, np.nan, 3.0, -np.inf, 3.0])
    _vs_jax("sort", x)
    _vs_jax("argmax", x, 0, np.int32)
    _vs_jax("top_k", np.array([1.0, 3.0, 3.0, 2.0]), 3)
    with pytest.raises(ValueError, match="num_keys"):
        lax.sort((X, Y), num_keys=3)
    with pytest.raises(ValueError, match="k=5"):
        lax.top_k(X, 5)


@pytest.mark.parametrize("name", ["cumsum", "cumprod", "cummax", "cummin", "cumlogsumexp"])
@pytest.mark.parametrize("shape,axis", [((3, 4), 1), ((3, 4), 0), ((7,), 0), ((1,), 0),
                                        ((2, 5, 3), 1)])
@pytest.mark.parametrize("reverse", [False, True])
def test_cumulative_ops_match_jax(name, shape, axis, reverse):
    x = RNG.normal(size=shape)
    _vs_jax(name, x, axis, reverse)
    if name != "cumlogsumexp":
        _vs_jax(name, RNG.integers(-3, 4, size=shape).astype("int32"), axis, reverse)


@pytest.mark.parametrize("name", ["cumsum", "cumprod", "cummax", "cummin", "cumlogsumexp"])
def test_cumulative_ops_derivatives(name, backend):
    x = backend.asarray(RNG.permutation(12).reshape(3, 4) * 0.25 - 1.0)  # distinct values
    f = getattr(lax, name)
    got = f(x, 1, True)
    assert backend.is_own(got)
    _same(backend.to_numpy(got), getattr(jlax, name)(backend.to_numpy(x), 1, True))
    check_grads(lambda x: f(x, 1, True), (x,), order=2)
    check_grads(lambda x: f(x, 0), (x,), order=1)


# -- products ----------------------------------------------------------------------------------

B1 = RNG.normal(size=(2, 3, 4))
B2 = RNG.normal(size=(2, 4, 5))
DOT_CASES = [
    (B1, B2, (([2], [1]), ([0], [0]))), (B1, B2, (([2], [1]), ([], []))),
    (B1, B2, (([0, 2], [0, 1]), ([], []))), (B1, B1, (([1, 2], [1, 2]), ([0], [0]))),
    (X, Y, (([], []), ([], []))), (B1, np.swapaxes(B2, 1, 2), (([2], [2]), ([0], [0]))),
    (RNG.normal(size=(3, 2, 4)), RNG.normal(size=(4, 2)), (([2], [0]), ([1], [1]))),
]


@pytest.mark.parametrize("k", range(len(DOT_CASES)))
def test_dot_general_matches_jax(k):
    a, b, dn = DOT_CASES[k]
    _vs_jax("dot_general", a, b, dn)
    _vs_jax("dot_general", a.astype("float32"), b, dn)  # promoted, as in JAX
    _vs_jax("dot_general", a, b, dn, preferred_element_type=np.float32)


def test_dot_general_derivatives_and_backends(backend):
    for a, b, dn in DOT_CASES[:4] + DOT_CASES[6:]:
        x, y = backend.asarray(a), backend.asarray(b)
        got = lax.dot_general(x, y, dn)
        assert backend.is_own(got)
        _same(backend.to_numpy(got), jlax.dot_general(a, b, dn))
    a, b, dn = DOT_CASES[0]
    check_grads(lambda x, y: lax.dot_general(x, y, dn), (backend.asarray(a),
                                                          backend.asarray(b)), order=2)


def test_dot_and_batch_matmul():
    _vs_jax("dot", X, Y.T)
    _vs_jax("dot", X[0], Y[0])
    _vs_jax("dot", X, Y[0])
    _vs_jax("dot", X[:, 0], Y)
    _vs_jax("dot", B1, B2, dimension_numbers=(([2], [1]), ([0], [0])))
    _vs_jax("batch_matmul", B1, B2)
    _vs_jax("batch_matmul", X[None], Y.T[None])
    with pytest.raises(ValueError, match="operands of 1 or 2 axes only"):
        lax.dot(B1, B2)
    with pytest.raises(TypeError, match="contracting dimensions must have equal sizes"):
        lax.dot_general(X, Y, (([1], [0]), ([], [])))
    with pytest.raises(ValueError, match="batch_matmul"):
        lax.batch_matmul(B1, X)


# -- associative_scan ----------------------------------------------------------------------------

@pytest.mark.parametrize("n", [1, 2, 3, 5, 8, 13])
@pytest.mark.parametrize("reverse", [False, True])
def test_associative_scan_matches_jax(n, reverse):
    x = RNG.normal(size=(n, 3))
    _same(lax.associative_scan(fnp.add, x, reverse=reverse),
          jlax.associative_scan(jnp.add, x, reverse=reverse))
    m = RNG.normal(size=(n, 2, 2))  # not commutative: the order of operands matters
    _same(lax.associative_scan(fnp.matmul, m, reverse=reverse),
          jlax.associative_scan(jnp.matmul, m, reverse=reverse))
    y = RNG.normal(size=(2, n))

    def affine(a, b):  # composition of x -> a0 x + a1: a linear recurrence, on a pytree
        return (a[0] * b[0], a[1] * b[0] + b[1])
    _same(lax.associative_scan(affine, (y, y + 1), reverse=reverse, axis=1),
          jlax.associative_scan(affine, (y, y + 1), reverse=reverse, axis=1))


def test_associative_scan_transforms(backend):
    x = backend.asarray(RNG.normal(size=(6, 2)))

    def f(x):
        return lax.associative_scan(lambda a, b: a * b + 0.5 * b, x, axis=0)
    got = f(x)
    assert backend.is_own(got)
    check_grads(f, (x,), order=2)
    xs = RNG.normal(size=(3, 6, 2))
    want = np.stack([backend.to_numpy(f(backend.asarray(v))) for v in xs])
    _same(backend.to_numpy(ft.vmap(f)(backend.asarray(xs))), want)
    _same(backend.to_numpy(ft.jit(f)(x)), backend.to_numpy(got))
    _same(backend.to_numpy(ft.jit(ft.grad(lambda x: fnp.sum(f(x))))(x)),
          backend.to_numpy(ft.grad(lambda x: fnp.sum(f(x)))(x)))


def test_associative_scan_errors():
    with pytest.raises(ValueError, match="at least one axis"):
        lax.associative_scan(fnp.add, np.float64(1.0))
    with pytest.raises(ValueError, match="axis 0 of size 3"):
        lax.associative_scan(lambda a, b: a, (np.ones(3), np.ones(4)))
    with pytest.raises(TypeError, match="structure of elems"):
        lax.associative_scan(lambda a, b: a[0], (np.ones(3), np.ones(3)))


# -- custom_root -------------------------------------------------------------------------------


def _newton(f, x0):
    x = x0
    for _ in range(30):
        fx, dfx = ft.jvp(f, (x,), (fnp.ones_like(x),))
        x = x - fx / dfx
    return x


def _newton_jax(f, x0):
    def body(i, x):
        fx, dfx = jax.jvp(f, (x,), (jnp.ones_like(x),))
        return x - fx / dfx
    return jax.lax.fori_loop(0, 30, body, x0)


def _scalar_tangent_solve(g, y):
    return y / g(1.0)


def _cube_root(a):
    return lax.custom_root(lambda x: x ** 3 - a, 1.0, _newton, _scalar_tangent_solve)


def _cube_root_jax(a):
    return jlax.custom_root(lambda x: x ** 3 - a, 1.0, _newton_jax, _scalar_tangent_solve)


def test_custom_root_scalar_newton():
    a = 2.5
    assert abs(_cube_root(a) - a ** (1 / 3)) < 1e-12
    g1, g2, g3 = ft.grad(_cube_root), ft.grad(ft.grad(_cube_root)), \
        ft.grad(ft.grad(ft.grad(_cube_root)))
    j1, j2, j3 = jax.grad(_cube_root_jax), jax.grad(jax.grad(_cube_root_jax)), \
        jax.grad(jax.grad(jax.grad(_cube_root_jax)))
    for g, j, exact in [(g1, j1, a ** (-2 / 3) / 3), (g2, j2, -2 / 9 * a ** (-5 / 3)),
                        (g3, j3, 10 / 27 * a ** (-8 / 3))]:
        np.testing.assert_allclose(g(a), exact, rtol=1e-10)
        np.testing.assert_allclose(g(a), j(a), rtol=1e-10)
    check_grads(_cube_root, (np.asarray(a),), order=2)
    # the solver is never differentiated: it runs on concrete values (a Python loop with
    # float() works) and the derivatives come from the rule
    calls = []

    def solve(f, x0):
        calls.append(type(x0))
        x = float(x0)
        for _ in range(40):
            x = x - float(f(x)) / (3 * x * x)
        return x
    r = ft.grad(lambda a: lax.custom_root(lambda x: x ** 3 - a, 1.0, solve,
                                          _scalar_tangent_solve))(2.5)
    np.testing.assert_allclose(r, a ** (-2 / 3) / 3, rtol=1e-10)


A_SPD = RNG.normal(size=(3, 3))
A_SPD = A_SPD @ A_SPD.T + 3 * np.eye(3)


def _vector_root(b, with_aux=False):
    def f(x):
        return A_SPD @ x + 0.1 * x ** 3 - b

    def solve(f, x0):
        x = x0
        for _ in range(20):
            x = x - fnp.linalg.solve(ft.jacfwd(f)(x), f(x))
        return (x, fnp.sum(x)) if with_aux else x
    return lax.custom_root(f, fnp.zeros(3), solve,
                           lambda g, y: fnp.linalg.solve(ft.jacfwd(g)(y), y),
                           has_aux=with_aux)


def _vector_root_jax(b):
    def f(x):
        return A_SPD @ x + 0.1 * x ** 3 - b

    def solve(f, x0):
        x = x0
        for _ in range(20):
            x = x - jnp.linalg.solve(jax.jacfwd(f)(x), f(x))
        return x
    return jlax.custom_root(f, jnp.zeros(3), solve,
                            lambda g, y: jnp.linalg.solve(jax.jacfwd(g)(y), y))


def test_custom_root_vector_matches_jax():
    b = RNG.normal(size=3)
    _same(_vector_root(b), _vector_root_jax(b))
    _same(ft.jacrev(_vector_root)(b), jax.jacrev(_vector_root_jax)(b))
    _same(ft.jacfwd(_vector_root)(b), jax.jacfwd(_vector_root_jax)(b))
    loss = lambda b: fnp.sum(_vector_root(b) ** 2)  # noqa: E731
    loss_j = lambda b: jnp.sum(_vector_root_jax(b) ** 2)  # noqa: E731
    _same(ft.hessian(loss)(b), jax.hessian(loss_j)(b), tol=1e-8)
    check_grads(_vector_root, (b,), order=2)
    x, aux = _vector_root(b, with_aux=True)
    _same(aux, np.sum(x))
    _same(ft.grad(lambda b: _vector_root(b, True)[1])(b), np.zeros(3))  # aux: no derivative


def test_custom_root_under_vmap_and_jit():
    def solve(f, x0):  # staged-friendly: a fori_loop of Newton steps
        def step(i, x):
            fx, dfx = ft.jvp(f, (x,), (fnp.ones_like(x),))
            return x - fx / dfx
        return lax.fori_loop(0, 30, step, x0)

    def root(a):
        return lax.custom_root(lambda x: x ** 3 - a, fnp.ones_like(a), solve,
                               _scalar_tangent_solve)
    a = np.array([0.5, 2.0, 8.0])
    _same(ft.vmap(root)(a), np.cbrt(a))
    _same(ft.vmap(ft.grad(root))(a), a ** (-2 / 3) / 3)
    _same(ft.jit(ft.grad(root))(np.asarray(2.0)), 2.0 ** (-2 / 3) / 3)
    _same(ft.jit(root)(np.asarray(8.0)), np.asarray(2.0))


def test_custom_root_errors():
    with pytest.raises(TypeError, match="structure of initial_guess"):
        lax.custom_root(lambda x: (x, x), 1.0, _newton, _scalar_tangent_solve)


# -- custom_linear_solve -----------------------------------------------------------------------

M_SPD = RNG.normal(size=(4, 4))
M_SPD = M_SPD @ M_SPD.T + 4 * np.eye(4)
N_GEN = RNG.normal(size=(4, 4)) + 4 * np.eye(4)


def _cg(matvec, b):
    """Conjugate gradients with a fixed number of steps (safe at b = 0)."""
    x = fnp.zeros_like(b)
    r = b - matvec(x)
    p, rs = r, fnp.sum(r * r)
    for _ in range(12):
        ap = matvec(p)
        zero = rs == 0
        alpha = fnp.where(zero, 0.0, rs / fnp.where(zero, 1.0, fnp.sum(p * ap)))
        x, r = x + alpha * p, r - alpha * ap
        rs2 = fnp.sum(r * r)
        p, rs = r + fnp.where(zero, 0.0, rs2 / fnp.where(zero, 1.0, rs)) * p, rs2
    return x


def _dense(matvec, b):
    return fnp.linalg.solve(ft.jacfwd(matvec)(b), b)


SOLVERS = {"cg_symmetric": (_cg, None, True, M_SPD), "dense_transpose": (_dense, _dense, False,
                                                                         N_GEN),
           "dense_no_transpose": (_dense, None, False, N_GEN)}


@pytest.mark.parametrize("which", list(SOLVERS))
def test_custom_linear_solve_derivatives_match_jax(which):
    solve, tsolve, sym, m = SOLVERS[which]
    calls = []

    def counted(matvec, b):
        calls.append(1)
        return solve(matvec, b)

    def ls(theta, b):
        return lax.custom_linear_solve(lambda v: (m + theta * np.eye(4)) @ v * theta, b,
                                       counted, transpose_solve=tsolve, symmetric=sym)

    def ls_j(theta, b):
        return jnp.linalg.solve((m + theta * jnp.eye(4)) * theta, b)
    th, b = 1.3, RNG.normal(size=4)
    _same(ls(th, b), ls_j(th, b))
    assert calls
    for argnums in (0, 1):
        _same(ft.jacrev(ls, argnums=argnums)(th, b), jax.jacrev(ls_j, argnums=argnums)(th, b))
        _same(ft.jacfwd(ls, argnums=argnums)(th, b), jax.jacfwd(ls_j, argnums=argnums)(th, b))
    loss = lambda th, b: fnp.sum(ls(th, b) ** 2)  # noqa: E731
    loss_j = lambda th, b: jnp.sum(ls_j(th, b) ** 2)  # noqa: E731
    _same(ft.hessian(loss)(th, b), jax.hessian(loss_j)(th, b), tol=1e-8)
    _same(ft.hessian(loss, argnums=1)(th, b), jax.hessian(loss_j, argnums=1)(th, b), tol=1e-8)
    _same(ft.jit(ft.grad(loss))(th, b), jax.grad(loss_j)(th, b))
    check_grads(ls, (np.asarray(th), b), order=2)


def test_custom_linear_solve_uses_transpose_solve_in_reverse_mode():
    used = []

    def tsolve(vecmat, b):
        used.append("transpose_solve")
        return _dense(vecmat, b)

    def ls(b):
        return lax.custom_linear_solve(lambda v: N_GEN @ v, b, _dense, transpose_solve=tsolve)
    b = RNG.normal(size=4)
    g = ft.grad(lambda b: fnp.sum(ls(b) * np.arange(4.0)))(b)
    _same(g, np.linalg.solve(N_GEN.T, np.arange(4.0)))
    assert used == ["transpose_solve"]


def test_custom_linear_solve_pytree_aux_and_vmap(backend):
    m = backend.asarray(M_SPD)

    def matvec(v):
        return {"a": fnp.matmul(m, v["a"]), "b": 2.0 * v["b"]}

    def solve(mv, b):
        x = {"a": _dense(lambda u: mv({"a": u, "b": b["b"]})["a"], b["a"]),
             "b": b["b"] / 2.0}
        return x, fnp.sum(x["a"])

    b = {"a": backend.asarray(RNG.normal(size=4)), "b": backend.asarray(RNG.normal(size=2))}
    x, aux = lax.custom_linear_solve(matvec, b, solve, symmetric=True, has_aux=True)
    assert backend.is_own(x["a"])
    _same(backend.to_numpy(x["a"]), np.linalg.solve(M_SPD, backend.to_numpy(b["a"])))
    _same(backend.to_numpy(x["b"]), backend.to_numpy(b["b"]) / 2)
    _same(backend.to_numpy(aux), backend.to_numpy(fnp.sum(x["a"])))
    bs = backend.asarray(RNG.normal(size=(3, 4)))
    got = ft.vmap(lambda v: lax.custom_linear_solve(lambda u: fnp.matmul(m, u), v, _cg,
                                                    symmetric=True))(bs)
    _same(backend.to_numpy(got), np.linalg.solve(M_SPD, backend.to_numpy(bs).T).T)


# -- helpers ---------------------------------------------------------------------------------------


def test_block_until_ready_and_device_put(backend):
    x = backend.asarray(X)
    tree = {"x": x, "n": 2.0}
    assert lax_ops.block_until_ready(tree) is tree
    put = lax_ops.device_put({"np": X, "x": x, "s": 1.5})
    assert put["x"] is x
    from functrans.backends import default
    assert isinstance(put["np"], default().array_types)
    moved = lax_ops.device_put(X, backend.name)
    assert isinstance(moved, backend.backend.array_types)
    _same(backend.to_numpy(moved), X)
    if backend.device is not None:
        on_dev = lax_ops.device_put(X, backend.device)
        assert backend.is_own(on_dev)
    g = ft.grad(lambda x: fnp.sum(lax_ops.device_put(x) ** 2))(x)
    _same(backend.to_numpy(g), 2 * X)
    with pytest.raises(ValueError, match="not a device of a known backend"):
        lax_ops.device_put(X, object())


def test_disable_jit():
    assert ft.disable_jit is lax_ops.disable_jit
    seen = []

    @ft.jit
    def f(x):
        seen.append(type(x))
        return fnp.sin(x) if float(fnp.sum(x)) > 0 else fnp.cos(x)  # needs concrete values
    with lax_ops.disable_jit():
        _same(f(X), np.sin(X) if X.sum() > 0 else np.cos(X))
        with lax_ops.disable_jit(False):
            pass
        _same(f(-X), np.cos(-X) if -X.sum() <= 0 else np.sin(-X))
    assert seen == [np.ndarray, np.ndarray]
    with pytest.raises(Exception, match="concrete|abstract|staged"):
        f(X)


# -- transforms of a few operations ----------------------------------------------------------


def test_vmap_and_jit_of_lax_ops(backend):
    xs = backend.asarray(RNG.normal(size=(3, 4, 5)))
    fns = [lambda x: lax.pad(x, 0.0, [(1, -1, 1), (0, 2, 0)]),
           lambda x: lax.cumlogsumexp(x, 1, True),
           lambda x: lax.dot_general(x, x, (([1], [1]), ([], []))),
           lambda x: lax.top_k(x, 2)[0],
           lambda x: lax.reduce(x, 0.0, lambda a, b: a + b * b, (0,)),
           lambda x: lax.rem(lax.round(x), 2.0),
           lambda x: lax.sort((lax.floor(x), x), 1, num_keys=1)[1]]
    for f in fns:
        want = np.stack([backend.to_numpy(f(xs[i, ...])) for i in range(3)])
        got = ft.vmap(f)(xs)
        assert backend.is_own(got)
        _same(backend.to_numpy(got), want)
        _same(backend.to_numpy(ft.jit(ft.vmap(f))(xs)), want)


@pytest.mark.parametrize("name,f,args", [
    ("clamp", lambda x: lax.clamp(-0.5, x, 0.5), (X,)),
    ("rem", lambda x, y: lax.rem(x, y + 3.0), (X, Y)),
    ("atan2", lax.atan2, (X, Y)), ("pow", lax.pow, (POS, Y)),
    ("integer_pow", lambda x: lax.integer_pow(x, -3), (POS,)),
    ("rsqrt_logistic", lambda x: lax.rsqrt(lax.logistic(x)), (X,)),
    ("complex", lambda x, y: lax.abs(lax.complex(x, y)), (X, Y)),
    ("broadcast_in_dim", lambda x: lax.broadcast_in_dim(x[:, :1], (2, 3, 4), (1, 2)), (X,)),
    ("reshape_dims", lambda x: lax.reshape(x, (2, 6), (1, 0)), (X,)),
    ("slice", lambda x: lax.slice(x, (1, 0), (3, 4), (1, 2)), (X,)),
    ("reduce_max", lambda x: lax.reduce_max(x, (1,)), (X,)),
    ("sort_key_val", lambda x, y: lax.sort_key_val(x, y)[1], (X, Y)),
    ("top_k", lambda x: lax.top_k(x, 3)[0], (X,)),
    ("batch_matmul", lax.batch_matmul, (B1, B2)),
    ("igamma", lambda x: lax.igamma(2.5, x + 1.5), (POS,)),
])
def test_derivatives(name, f, args):
    check_grads(f, args, order=2)
