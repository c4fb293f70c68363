"""perf40: the forward-mode and staging interpreters take a binary operation's operands by
one branch per case of ownership (their own tracer, a constant held as a tracer, a plain
array or number, another level's tracer, on either side), PairTracer.dtype reads the dtype
table by subscript, and functrans.buffers' keep_dead/remember work out their keys inline.
Checked: every case of ownership on either side against closed forms, forward against
reverse mode (the dot-product identity), nesting without perturbation confusion, staged
graphs holding arrays (never constants' tracers), dtypes on every backend, the bookkeeping
of kept and remembered arrays, and eager grad of an MLP against hand-written backprop with
the caller's arrays and held results untouched."""

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans import buffers
from functrans.core import get_aval
from functrans.interpreters import ConstTracer, JVPTracer, StagingTracer
from tests.test_s33_w2_33 import _manual as _mlp_manual  # (the same backprop)

_RNG = np.random.default_rng(40)
_X = _RNG.uniform(0.5, 1.5, 5)
_T = _RNG.standard_normal(5)
_C = _RNG.uniform(0.5, 1.5, 5)


# -- the cases of a binary operation's operands ------------------------------------------------
# name -> (f(x, c) with x the differentiated value and c a constant array, its value, its
# derivative in x along t); each puts the differentiated value on one side and something
# else (itself, a constant held as a tracer, a plain array, a Python number) on the other.

def _ones(x):
    return fnp.ones_like(x)  # (a constant held as a tracer inside forward mode and stagings)


_CASES = {
    "own*own": (lambda x, c: x * x, lambda x, c: x * x, lambda x, c, t: 2 * x * t),
    "own-const": (lambda x, c: x - 3.0 * _ones(x), lambda x, c: x - 3, lambda x, c, t: t),
    "const-own": (lambda x, c: 3.0 * _ones(x) - x, lambda x, c: 3 - x, lambda x, c, t: -t),
    "own/array": (lambda x, c: x / c, lambda x, c: x / c, lambda x, c, t: t / c),
    # (fnp.divide: array-api-strict's arrays refuse a tracer on their right)
    "array/own": (lambda x, c: fnp.divide(c, x), lambda x, c: c / x,
                  lambda x, c, t: -c * t / x**2),
    "own*number": (lambda x, c: x * 0.75, lambda x, c: x * 0.75, lambda x, c, t: 0.75 * t),
    "number-own": (lambda x, c: 2.0 - x, lambda x, c: 2.0 - x, lambda x, c, t: -t),
    "const*array": (lambda x, c: _ones(x) * c + x, lambda x, c: c + x, lambda x, c, t: t),
    "pow own own": (lambda x, c: fnp.pow(x, x), lambda x, c: x**x,
                    lambda x, c, t: x**x * (np.log(x) + 1) * t),
}


@pytest.mark.parametrize("case", sorted(_CASES))
def test_binary_operand_cases_forward(backend, case):
    f, val, der = _CASES[case]
    x, t, c = (backend.asarray(v) for v in (_X, _T, _C))
    y, ty = ft.jvp(lambda x: f(x, c), (x,), (t,))
    np.testing.assert_allclose(backend.to_numpy(y), val(_X, _C), rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(backend.to_numpy(ty), der(_X, _C, _T), rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("case", sorted(_CASES))
def test_binary_operand_cases_reverse(backend, case):
    # the staging level records each case (linearize): reverse mode by the dot-product
    # identity <u, J t> = <J^T u, t> against the closed form of J t
    f, val, der = _CASES[case]
    x, c = backend.asarray(_X), backend.asarray(_C)
    u = _RNG.standard_normal(5)
    y, pull = ft.vjp(lambda x: f(x, c), x)
    (ct,) = pull(backend.asarray(u))
    np.testing.assert_allclose(backend.to_numpy(y), val(_X, _C), rtol=1e-14, atol=1e-15)
    lhs = float(np.dot(u, der(_X, _C, _T)))
    rhs = float(np.dot(backend.to_numpy(ct), _T))
    assert abs(lhs - rhs) <= 1e-12 * max(1.0, abs(lhs))


@pytest.mark.parametrize("case", sorted(_CASES))
def test_binary_operand_cases_second_order(case):
    # each case met by two levels at once (hessian = jacfwd of jacrev): the diagonal of
    # the elementwise function's Hessian against central differences of its derivative
    f, val, der = _CASES[case]
    h = np.diag(ft.hessian(lambda x: fnp.sum(f(x, _C)))(_X))
    eps = 1e-6
    want = (der(_X + eps, _C, np.ones(5)) - der(_X - eps, _C, np.ones(5))) / (2 * eps)
    np.testing.assert_allclose(h, want, rtol=1e-7, atol=1e-8)


def test_nested_levels_keep_their_tracers_apart():
    # d/dx [x * d/dy (x + y)] = 1 (perturbation confusion), in both operand orders; the
    # inner level's operation on the outer level's tracer alone is forwarded untouched
    def inner(x, left):
        d = ft.jvp(lambda y: (x + y) if left else (y + x), (2.0,), (1.0,))[1]
        return x * d if left else d * x
    for left in (True, False):
        assert ft.grad(lambda x: inner(x, left))(3.0) == 1.0
        assert ft.jvp(lambda x: inner(x, left), (3.0,), (1.0,))[1] == 1.0
    # the outer tracer times the inner one: d/dx d/dy (x y) = 1, either side
    for g in (lambda x: ft.grad(lambda y: x * y)(2.0), lambda x: ft.grad(lambda y: y * x)(2.0)):
        assert ft.grad(g)(3.0) == 1.0
        assert ft.jvp(g, (3.0,), (1.0,)) == (3.0, 1.0)


def test_staged_graphs_hold_the_constants_arrays():
    # a constant held as a tracer, on either side, is recorded as the array it holds
    def f(x):
        k = 2.0 * fnp.ones_like(x)
        return (k * x - x * k) + (k - x) * (x - k)
    graph = ft.make_graph(f)(_X)
    for _, inputs, _, _ in graph.eqns:
        assert not any(isinstance(i, (ConstTracer, JVPTracer, StagingTracer)) for i in inputs)
    np.testing.assert_allclose(ft.jit(f)(_X), f(_X), rtol=0, atol=0)
    # the recorded linear graph of reverse mode too (linearize's TangentRecorder)
    _, pull = ft.vjp(f, _X)
    np.testing.assert_allclose(pull(np.ones(5))[0], -2 * (_X - 2.0), rtol=1e-14)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_forward_tracer_dtype(backend, dtype):
    seen = []
    x = backend.asarray(_X, dtype=dtype)

    def f(x):
        seen.append(x.dtype)
        y = ft.jvp(lambda z: (seen.append(z.dtype), z * x)[1], (x,), (x,))[1]
        return y
    ft.jvp(f, (x,), (x,))
    want = get_aval(x).dtype
    assert seen == [want, want] and want is getattr(fnp, dtype)


def test_forward_tracer_dtype_complex_and_of_a_staged_primal():
    seen = []
    z = (_X + 1j * _T).astype(np.complex128)
    ft.jvp(lambda v: (seen.append(v.dtype), v * v)[1], (z,), (z,))
    assert seen == [fnp.complex128]
    # a JVP tracer whose primal is itself a tracer (forward mode inside jit), float32
    x32 = _X.astype(np.float32)
    out = ft.jit(lambda v: ft.jvp(lambda u: (seen.append(u.dtype), u * u)[1], (v,), (v,))[1])(x32)
    assert seen[1:] == [fnp.float32] and out.dtype == np.float32
    np.testing.assert_allclose(out, 2 * x32 * x32, rtol=1e-6)


# -- functrans.buffers' bookkeeping ------------------------------------------------------------


@pytest.fixture
def clean_buffers():
    buffers.release()
    yield
    buffers.release()


def _big(v=1.0):
    return np.full((256, 64), v)  # 128 KiB: above buffers.MIN_BYTES


def test_keep_dead_keeps_only_what_was_asked_and_counts_bytes(clean_buffers):
    key = (np.ndarray, (256, 64), fnp.float64)
    assert buffers.take(np.ndarray, (256, 64), fnp.float64) is None  # (a miss: asked once)
    assert buffers._asked[key] == 1
    a, b, c = _big(1.0), _big(2.0), _big(3.0)
    buffers.keep_dead(a)
    assert buffers._spare[key] == [a] and buffers._asked[key] == 0
    assert buffers._spare_bytes == a.nbytes
    buffers.keep_dead(b)
    buffers.keep_dead(c)  # (DEAD_PER_KEY = 2 of a shape and dtype at most)
    assert [id(x) for x in buffers._spare[key]] == [id(a), id(b)]
    assert buffers._spare_bytes == 2 * a.nbytes and buffers._asked.get(key, 0) == 0
    # taken newest first, under the key take works out from the shape and dtype
    assert buffers.take(np.ndarray, (256, 64), fnp.float64) is b
    assert buffers._spare_bytes == a.nbytes


def test_keep_dead_respects_the_spare_limit(clean_buffers, monkeypatch):
    monkeypatch.setattr(buffers, "SPARE_LIMIT", _big().nbytes + 10)
    buffers.keep_dead(_big())
    buffers.keep_dead(np.full((128, 128), 1.0))  # (another key: over the limit, not kept)
    assert sum(len(v) for v in buffers._spare.values()) == 1
    assert buffers._spare_bytes == _big().nbytes


def test_float32_kept_under_its_own_key(clean_buffers):
    a = _big().astype(np.float32)
    buffers.keep_dead(a)
    assert buffers.take(np.ndarray, (256, 64), fnp.float64) is None
    assert buffers.take(np.ndarray, (256, 64), fnp.float32) is a


def test_remembered_result_taken_back_only_once_dropped(clean_buffers):
    r = _big(5.0)
    buffers.remember(r)
    buffers.remember(r)  # (once only)
    key = (np.ndarray, (256, 64), fnp.float64)
    assert len(buffers._lent[key]) == 1 and buffers._lent_bytes == r.nbytes
    assert buffers.take(np.ndarray, (256, 64), fnp.float64) is None  # the caller holds it
    addr = r.__array_interface__["data"][0]
    del r
    got = buffers.take(np.ndarray, (256, 64), fnp.float64)
    assert got is not None and got.__array_interface__["data"][0] == addr
    assert buffers._lent_bytes == 0
    # small, view or read-only arrays are never remembered
    small = np.ones(8)
    view = _big()[:, :32]
    ro = _big()
    ro.flags.writeable = False
    for x in (small, view, ro):
        buffers.remember(x)
    assert sum(len(v) for v in buffers._lent.values()) == 0


# -- eager grad of an MLP: values, and nothing of the caller's written ---------------------------


def _mlp_params(rng, sizes=(96, 160, 160, 10)):
    p = {}
    for i, (n, m) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        p[f"W{i}"] = rng.standard_normal((n, m)) / np.sqrt(n)
        p[f"b{i}"] = 0.1 * rng.standard_normal(m)
    return p


def _mlp_loss(xp, p, X, Y):  # (benchmarks.workloads.mlp_loss's function)
    h = xp.tanh(xp.matmul(X, p["W1"]) + p["b1"])
    h = xp.tanh(xp.matmul(h, p["W2"]) + p["b2"])
    logits = xp.matmul(h, p["W3"]) + p["b3"]
    m = xp.max(logits, axis=1, keepdims=True)
    lse = xp.log(xp.sum(xp.exp(logits - m), axis=1, keepdims=True)) + m
    return xp.mean(lse - xp.sum(Y * logits, axis=1, keepdims=True))


def test_mlp_grad_against_backprop_and_nothing_written(clean_buffers):
    rng = np.random.default_rng(4)
    p = _mlp_params(rng)
    X = rng.standard_normal((128, 96))
    Y = np.eye(10)[rng.integers(0, 10, 128)]
    copies = {k: v.copy() for k, v in p.items()}
    X0 = X.copy()
    grad = ft.grad(lambda p, X, Y: _mlp_loss(fnp, p, X, Y))
    want = _mlp_manual(p, X, Y)
    held = grad(p, X, Y)
    held_copy = {k: v.copy() for k, v in held.items()}
    for _ in range(3):  # later calls reuse memory: never the held results', nor the inputs'
        again = grad(p, X, Y)
        for k in want:
            np.testing.assert_array_equal(again[k], held_copy[k])
        del again
    for k in want:
        np.testing.assert_allclose(held[k], want[k], rtol=1e-11, atol=1e-14)
        np.testing.assert_array_equal(held[k], held_copy[k])
        np.testing.assert_array_equal(p[k], copies[k])
    np.testing.assert_array_equal(X, X0)


def test_mlp_grad_against_jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy
    rng = np.random.default_rng(5)
    p = _mlp_params(rng, (20, 16, 16, 4))
    X = rng.standard_normal((8, 20))
    Y = np.eye(4)[rng.integers(0, 4, 8)]
    got = ft.grad(lambda p, X, Y: _mlp_loss(fnp, p, X, Y))(p, X, Y)
    want = jax.grad(lambda p, X, Y: _mlp_loss(jnp, p, X, Y))(p, X, Y)
    for k in got:
        np.testing.assert_allclose(got[k], np.asarray(want[k]), rtol=1e-12, atol=1e-15)
