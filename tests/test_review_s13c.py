"""Review of session 13's modules (rev13c): functrans.autograd, functrans.numpy.random,
functrans.tree's jax.tree_util names and functrans.ops, against autograd, NumPy and JAX.

Each test pins a finding of the review (fixed here) or a behaviour checked against the
reference library; references other than NumPy are imported with ``importorskip``.
"""

from __future__ import annotations

import dataclasses
import functools
import warnings

import numpy as onp
import pytest

import functrans as ft
import functrans.numpy as fnp
import functrans.numpy.random as fr
import functrans.ops as fops
import functrans.tree as ftu
import functrans.autograd as fa
from functrans.autograd import extend as fext
from functrans.autograd.misc import flatten as fflatten
from functrans.autograd.misc import optimizers as fopt


# -- functrans.ops ---------------------------------------------------------------------------

IDS = onp.array([0, 0, 2, 2, 2, 4, 1])
DATA = onp.array([1.0, 5.0, -2.0, 3.0, 3.0, 7.0, 0.5])


def _ref_segment(data, ids, n, reduce, fill):
    out = onp.full((n,) + data.shape[1:], fill, dtype=data.dtype)
    for k in range(n):
        sel = data[ids == k]
        if len(sel):
            out[k] = reduce(sel, axis=0)
    return out


@pytest.mark.parametrize("dtype", ["int8", "int32", "uint8", "uint16"])
def test_segment_prod_keeps_integer_dtype(backend, dtype):
    # fnp.prod promotes small integers (NumPy's prod): the products came back int64/uint64
    # (uint8 200 * 3 gave 600, jax.ops wraps to 88 in uint8).
    data = onp.array([200, 3, 7, 2, 5, 1, 9]).astype(dtype)
    if dtype == "int8":
        data = onp.array([100, 3, -7, 2, 5, 1, 9], dtype=dtype)
    try:
        x = backend.asarray(data, dtype=dtype)
    except Exception:
        pytest.skip(f"{dtype} not on this backend")
    out = fops.segment_prod(x, backend.asarray(IDS, dtype="int64"), 6)
    expected = _ref_segment(data, IDS, 6, lambda a, axis: onp.prod(a, axis=axis, dtype=a.dtype), 1)
    assert backend.to_numpy(out).dtype == onp.dtype(dtype)
    onp.testing.assert_array_equal(backend.to_numpy(out), expected)


@pytest.mark.parametrize("op, fill", [("segment_max", -onp.inf), ("segment_min", onp.inf),
                                      ("segment_prod", 1.0), ("segment_sum", 0.0)])
def test_segment_extremum_of_no_entries_is_identity(backend, op, fill):
    # jax.ops.segment_max(zeros((0,)), zeros((0,), int), 3) is [-inf]*3; functrans raised
    # "zero-size array to reduction operation maximum which has no identity".
    f = getattr(fops, op)
    no_ids = backend.asarray(onp.zeros((0,)), dtype="int64")
    out = f(backend.asarray(onp.zeros((0, 2))), no_ids, 3)
    onp.testing.assert_array_equal(backend.to_numpy(out), onp.full((3, 2), fill))
    iout = f(backend.asarray(onp.zeros((0,)), dtype="int32"), no_ids, 2)
    info = onp.iinfo(onp.int32)
    ifill = {-onp.inf: info.min, onp.inf: info.max}.get(fill, fill)
    onp.testing.assert_array_equal(backend.to_numpy(iout), [ifill] * 2)
    assert backend.to_numpy(iout).dtype == onp.int32


def test_segment_extremum_of_no_entries_under_vmap_and_grad():
    g = ft.grad(lambda d: fnp.sum(fops.segment_max(d, onp.zeros((0,), int), 2)[:0]))(
        onp.zeros((0,)))
    assert g.shape == (0,)
    out = ft.vmap(lambda d: fops.segment_min(d, onp.zeros((0,), int), 2))(onp.zeros((3, 0)))
    onp.testing.assert_array_equal(out, onp.full((3, 2), onp.inf))


@pytest.mark.parametrize("op", ["segment_sum", "segment_prod"])
def test_segment_sum_prod_refuse_booleans(op):
    # jax.ops refuses booleans for the sum and the product; functrans gave a logical or
    # (sum) and an int64 array (prod).
    with pytest.raises(TypeError, match="booleans"):
        getattr(fops, op)(DATA > 2, IDS, 5)
    # max/min of booleans are JAX's logical or/and
    onp.testing.assert_array_equal(fops.segment_max(DATA > 2, IDS, 5),
                                   [True, False, True, False, True])


@pytest.mark.parametrize("op, reduce, fill", [
    ("segment_sum", onp.sum, 0.0), ("segment_prod", onp.prod, 1.0),
    ("segment_max", onp.max, -onp.inf), ("segment_min", onp.min, onp.inf)])
def test_segment_values_and_vmap_jit(op, reduce, fill):
    f = getattr(fops, op)
    expected = _ref_segment(DATA, IDS, 6, reduce, fill)
    onp.testing.assert_allclose(f(DATA, IDS, 6), expected)
    onp.testing.assert_allclose(ft.jit(lambda d, i: f(d, i, 6))(DATA, IDS), expected)
    ids2 = onp.stack([IDS, IDS[::-1]])
    out = ft.vmap(lambda i: f(DATA, i, 6))(ids2)
    onp.testing.assert_allclose(out[1], _ref_segment(DATA, IDS[::-1], 6, reduce, fill))
    # out of range ids (negative too) are dropped; mode='clip' clamps them
    bad = onp.array([0, -1, 2, 9, 5, 1, 1])
    onp.testing.assert_allclose(f(DATA, bad, 5), _ref_segment(DATA, bad, 5, reduce, fill))
    onp.testing.assert_allclose(f(DATA, bad, 5, mode="clip"),
                                _ref_segment(DATA, onp.clip(bad, 0, 4), 5, reduce, fill))


def test_segment_max_ties_share_the_gradient_as_jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    w = onp.arange(1.0, 6.0)
    d = onp.array([3.0, 3.0, -2.0, 3.0, 3.0, 3.0, 0.5])
    for op in ("segment_max", "segment_min"):
        ref = jax.grad(lambda x: (getattr(jax.ops, op)(x, IDS, 5) * w).sum())(d)
        got = ft.grad(lambda x: fnp.sum(getattr(fops, op)(x, IDS, 5) * w))(d)
        onp.testing.assert_allclose(got, onp.asarray(ref))


# -- functrans.numpy.random ---------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [onp.int8, onp.uint8, onp.int16, "int32", onp.dtype("uint16")])
def test_randint_dtype_forms(dtype):
    # dtype=np.int8 (a NumPy scalar type: it has .shape and .dtype attributes) was taken for
    # another library's array: UnsupportedBackendError.
    onp.random.seed(4)
    ref = onp.random.randint(0, 9, 5, dtype=dtype)
    fr.seed(4)
    out = fr.randint(0, 9, 5, dtype=dtype)
    assert out.dtype == ref.dtype
    onp.testing.assert_array_equal(out, ref)
    onp.testing.assert_array_equal(fr.RandomState(2).randint(0, 9, 3, dtype=dtype),
                                   onp.random.RandomState(2).randint(0, 9, 3, dtype=dtype))


def test_generator_methods_with_dtype_types():
    g, r = fr.default_rng(5), onp.random.default_rng(5)
    onp.testing.assert_array_equal(g.random(3, dtype=onp.float32), r.random(3, dtype=onp.float32))
    onp.testing.assert_array_equal(g.integers(0, 7, 4, dtype=onp.int16),
                                   r.integers(0, 7, 4, dtype=onp.int16))
    out = g.standard_normal(2, dtype=onp.float32)
    assert out.dtype == onp.float32
    onp.testing.assert_array_equal(out, r.standard_normal(2, dtype=onp.float32))


def test_choice_of_strings_on_torch_default_backend():
    torch = pytest.importorskip("torch")
    with ft.default_backend("torch"):
        fr.seed(1)
        names = fr.choice(["a", "b", "c"], 4)  # torch cannot hold strings: NumPy's array
        x = fr.randn(3)
    onp.random.seed(1)
    onp.testing.assert_array_equal(names, onp.random.choice(["a", "b", "c"], 4))
    assert isinstance(x, torch.Tensor)


A = onp.arange(12.0).reshape(4, 3)


@pytest.mark.parametrize("call", [
    lambda m, a: m.default_rng(3).permutation(a, axis=1),
    lambda m, a: m.default_rng(3).permutation(a, -1),
    lambda m, a: m.default_rng(3).choice(a, (2, 2), axis=1),
    lambda m, a: m.default_rng(3).choice(a, 2, False, None, 1, False),
    lambda m, a: m.default_rng(3).choice(a, axis=1),
    lambda m, a: m.default_rng(3).choice(a, 3),
])
def test_generator_permutation_choice_of_traced_arrays_along_axis(call):
    # Generator.permutation(x, axis=1) / choice(a, ..., axis=1) of a traced n-d array were a
    # TypeError / ValueError ("1-d array"), though NumPy's Generator takes them.
    ref = call(onp.random, A)
    onp.testing.assert_array_equal(ft.jit(lambda a: call(fr, a))(A), ref)
    g = ft.grad(lambda a: fnp.sum(call(fr, a) * 2.0))(A)
    counts = onp.zeros_like(A)
    for v in onp.ravel(ref):
        counts[onp.unravel_index(int(v), A.shape)] += 2.0
    onp.testing.assert_array_equal(g, counts)


def test_randomstate_permutation_of_traced_array_takes_no_axis():
    with pytest.raises(TypeError):
        ft.jit(lambda a: fr.RandomState(3).permutation(a, 1))(A)
    with pytest.raises(ValueError, match="1-d"):
        ft.jit(lambda a: fr.RandomState(3).choice(a, 2))(A)
    with pytest.raises(ValueError, match="out of bounds"):
        ft.jit(lambda a: fr.default_rng(3).permutation(a, axis=2))(A)


def test_permutation_and_choice_of_traced_match_numpy():
    fr.seed(0)
    g = ft.grad(lambda a: fnp.sum(fr.permutation(a) * onp.arange(5.0)))(onp.arange(5.0))
    perm = onp.random.RandomState(0).permutation(5)
    expected = onp.zeros(5)
    expected[perm] = onp.arange(5.0)
    onp.testing.assert_array_equal(g, expected)
    with pytest.raises(TypeError, match="being transformed"):
        ft.grad(lambda m: fnp.sum(fr.normal(m, 1.0, 3)))(0.5)


def test_random_docs_say_draws_are_frozen_under_jit():
    # A draw inside jit is made while staging: every call gives the same numbers.
    f = ft.jit(lambda a: a + fr.randn(3))
    assert onp.array_equal(f(onp.zeros(3)), f(onp.zeros(3)))
    assert "*same*" in fr.__doc__ and "one draw" in fr.__doc__


# -- functrans.tree -----------------------------------------------------------------------------

def test_tree_names_against_jax_tree_util():
    jtu = pytest.importorskip("jax.tree_util")
    tree = {"x": [1, (2, 3)], "y": None, "z": {"q": 5}, "a": ()}
    for m in (jtu, ftu):
        assert m.tree_leaves(tree, is_leaf=lambda n: isinstance(n, tuple)) == \
            jtu.tree_leaves(tree, is_leaf=lambda n: isinstance(n, tuple))
    assert [ftu.keystr(p) for p, _ in ftu.tree_flatten_with_path(tree)[0]] == \
        [jtu.keystr(p) for p, _ in jtu.tree_flatten_with_path(tree)[0]]
    outer, inner = ftu.tree_structure([0, 0]), ftu.tree_structure({"a": 0, "b": 0})
    assert ftu.tree_transpose(outer, inner, [{"a": 1, "b": 2}, {"a": 3, "b": 4}]) == \
        {"a": [1, 3], "b": [2, 4]}
    assert ftu.tree_transpose(outer, None, [{"a": 1, "b": 2}, {"a": 3, "b": 4}]) == \
        {"a": [1, 3], "b": [2, 4]}


def test_register_dataclass_and_partial_through_transforms():
    @functools.partial(ftu.register_dataclass, data_fields=["w"], meta_fields=["act"])
    @dataclasses.dataclass
    class Layer:
        w: object
        act: str = "tanh"

    def apply(layer, x):
        return fnp.tanh(layer.w * x) if layer.act == "tanh" else layer.w * x

    x = onp.arange(3.0)
    g = ft.grad(lambda L: fnp.sum(apply(L, x)))(Layer(onp.array(0.5)))
    assert isinstance(g, Layer) and g.act == "tanh"
    onp.testing.assert_allclose(g.w, onp.sum(x / onp.cosh(0.5 * x) ** 2))
    p = ftu.Partial(apply, Layer(onp.ones(3), "lin"))
    onp.testing.assert_allclose(ft.jit(lambda f, x: f(x))(p, x), x)
    out = ft.vmap(lambda f, x: f(x), in_axes=(None, 0))(p, onp.ones((2, 3)))
    onp.testing.assert_allclose(out, onp.ones((2, 3)))


# -- functrans.autograd ----------------------------------------------------------------------

X = onp.array([0.3, 1.2, 2.0])
Y = onp.array([1.5, 0.5, 0.7])


def test_holomorphic_grad_warning_points_at_the_caller():
    # stacklevel=4 pointed past the caller (the warning's file was 'sys').
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        fa.holomorphic_grad(lambda z: z ** 2)(2.0)
    assert [i.filename for i in w] == [__file__]


def _scale_primitive():
    @fext.primitive
    def scale(a, b, power=2.0):
        return a * b ** power
    fext.defvjp(scale, lambda ans, a, b, power=2.0: lambda g: g * b ** power,
                lambda ans, a, b, power=2.0: lambda g: g * a * power * b ** (power - 1))
    return scale


def test_primitive_traced_keyword_with_traced_positional_is_a_clear_error():
    # It was an UnexpectedTracerError (the rule closed over the keyword's tracer).
    scale = _scale_primitive()
    with pytest.raises(TypeError, match=r"keyword argument\(s\) \['power'\]"):
        fa.grad(lambda p: fnp.sum(scale(X * p, Y, power=p)))(2.0)
    with pytest.raises(TypeError, match="keyword"):
        fa.deriv(lambda p: fnp.sum(scale(X * p, Y, power=p)))(2.0)
    # a traced keyword alone: the body is differentiated, as in autograd
    p = 2.0
    onp.testing.assert_allclose(fa.grad(lambda p: fnp.sum(scale(X, Y, power=p)))(p),
                                onp.sum(X * Y ** p * onp.log(Y)))


def test_numpy_body_primitive_under_vmap_says_why():
    @fext.primitive
    def ex(a):
        return onp.exp(a)
    fext.defvjp(ex, lambda ans, a: lambda g: g * ans)
    for call in (lambda: ft.vmap(ex)(onp.ones((2, 3))),
                 lambda: ft.jit(ft.grad(lambda a: fnp.sum(ex(a))))(onp.ones(3))):
        with pytest.raises(TypeError) as info:
            call()
        assert "primitive ex" in " ".join(getattr(info.value, "__notes__", []))

    @fext.primitive
    def ex2(a):
        return fnp.exp(a)
    fext.defvjp(ex2, lambda ans, a: lambda g: g * ans)
    onp.testing.assert_allclose(ft.vmap(ft.grad(lambda a: fnp.sum(ex2(a))))(onp.zeros((2, 2))),
                                onp.ones((2, 2)))


@pytest.fixture
def ag():
    return pytest.importorskip("autograd")


def test_operators_against_autograd(ag):
    anp = pytest.importorskip("autograd.numpy")
    cases = [
        (lambda np: lambda a, b: np.sum(np.sin(a) * b ** 2), "grad", [(0,), (1,), ((0, 1),),
                                                                        ([1, 0],), (-1,)]),
        (lambda np: lambda a, b: np.sum(np.sin(a) * b ** 2 * a), "hessian", [(0,), (1,)]),
        (lambda np: lambda a, b: np.outer(a, b), "jacobian", [(0,), (1,)]),
        (lambda np: lambda a, b: np.tanh(a) * b, "elementwise_grad", [(0,), (1,)]),
    ]
    for make, op, argss in cases:
        for args in argss:
            ref = getattr(ag, op)(make(anp), *args)(X, Y)
            got = getattr(fa, op)(make(fnp), *args)(X, Y)
            for r, g in zip(ref if isinstance(ref, tuple) else (ref,),
                            got if isinstance(got, tuple) else (got,)):
                onp.testing.assert_allclose(g, r, rtol=1e-12)
    vjp, ans = fa.make_vjp(lambda a, b: fnp.sin(a) * b, 1)(X, Y)
    rvjp, rans = ag.make_vjp(lambda a, b: anp.sin(a) * b, 1)(X, Y)
    onp.testing.assert_allclose(ans, rans)
    for v in (onp.ones(3), X):
        onp.testing.assert_allclose(vjp(v), rvjp(v))
    hvp, g = fa.make_hvp(lambda a: fnp.sum(fnp.sin(a) * a))(X)
    rhvp, rg = ag.make_hvp(lambda a: anp.sum(anp.sin(a) * a))(X)
    onp.testing.assert_allclose(g, rg)
    onp.testing.assert_allclose(hvp(Y), rhvp(Y))


def test_optimizers_against_autograd_with_callbacks(ag):
    aopt = pytest.importorskip("autograd.misc.optimizers")
    anp = pytest.importorskip("autograd.numpy")

    def run(grad, np, opt, name, **kw):
        def loss(p, i):
            return np.sum((p["w"] - np.arange(3.0)) ** 2 * (1 + i % 3)) + \
                np.sum(np.sin(p["b"][0]) ** 2) + p["b"][1] ** 2
        log = []

        def cb(p, i, g):
            log.append((i, onp.array(p["w"]), onp.array(g["b"][0])))
        x0 = {"w": onp.array([0.5, -1.0, 2.0]), "b": [onp.array([[1.0, 2.0]]), 0.3]}
        out = getattr(opt, name)(grad(loss), x0, callback=cb, **kw)
        return out, log

    for name, kw in [("sgd", dict(num_iters=120, mass=0.5)), ("rmsprop", dict(gamma=0.5)),
                     ("adam", dict(num_iters=150, step_size=0.05))]:
        ref, rlog = run(ag.grad, anp, aopt, name, **kw)
        got, glog = run(fa.grad, fnp, fopt, name, **kw)
        onp.testing.assert_allclose(got["w"], ref["w"], rtol=1e-10)
        onp.testing.assert_allclose(got["b"][0], ref["b"][0], rtol=1e-10)
        onp.testing.assert_allclose(got["b"][1], ref["b"][1], rtol=1e-10)
        assert [i for i, _, _ in glog] == [i for i, _, _ in rlog]
        for (_, w1, g1), (_, w2, g2) in zip(glog, rlog):
            onp.testing.assert_allclose(w1, w2, rtol=1e-10)
            onp.testing.assert_allclose(g1, g2, rtol=1e-10)


def test_flatten_order_and_dtypes_against_autograd(ag):
    aflat = pytest.importorskip("autograd.misc.flatten").flatten
    v = {"b": [onp.ones(2, onp.float32), (onp.arange(3.0),)], "a": onp.zeros((1, 2))}
    f1, un1 = aflat(v)
    f2, un2 = fflatten(v)
    onp.testing.assert_array_equal(f2, f1)
    assert f2.dtype == f1.dtype
    back = un2(f2 * 2)
    assert back["b"][0].dtype == onp.float32
    onp.testing.assert_array_equal(back["a"], un1(f1 * 2)["a"])
