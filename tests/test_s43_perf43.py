"""Session 43, helper perf43: the array work of eager reverse mode on big arrays.

Pins: a matrix product's transpose that reaches a cotangent already summed (a weight used at
every step of a recurrence) is added into that sum by one BLAS call (gemm with beta = 1,
NumPy's own BLAS) with the bits of computing the product and adding it; never into an array
the caller holds; declined (nothing written) wherever those bits are not known to hold.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
import functrans.reverse  # noqa: F401  (the module: functrans.reverse is also a function)
from functrans.backends import numpy_backend as nb

reverse = sys.modules["functrans.reverse"]

FUSED = bool((nb._GEMM if nb._GEMM is not None else nb._load_gemm()))
needs_gemm = pytest.mark.skipif(not FUSED, reason="NumPy's BLAS gemm not found or not exact")


@pytest.fixture
def fused_calls(monkeypatch):
    """A list with an entry per product the backward pass adds into a sum by one gemm."""
    calls = []
    real = reverse._np_matmul_add_into

    def spy(c, a, b):
        done = real(c, a, b)
        calls.append(done)
        return done

    monkeypatch.setattr(reverse, "_np_matmul_add_into", spy)
    return calls


def _unfused(f, *args):
    """``f(*args)`` with the fused sum turned off (each product computed, then added)."""
    saved = reverse._np_matmul_add_into
    reverse._np_matmul_add_into = lambda c, a, b: False
    try:
        return f(*args)
    finally:
        reverse._np_matmul_add_into = saved


def _rnn(dtype, batch=8, width=288, steps=6, seed=0):
    rng = np.random.default_rng(seed)
    x = (0.3 * rng.standard_normal((batch, width))).astype(dtype)
    W = (rng.standard_normal((width, width)) / np.sqrt(width)).astype(dtype)
    b = (0.1 * rng.standard_normal(width)).astype(dtype)
    v = rng.standard_normal((width, 1)).astype(dtype)

    def loss(W, b):
        h = x
        for _ in range(steps):
            h = fnp.tanh(fnp.matmul(h, W) + b)
        return fnp.sum(fnp.matmul(h, v))

    def by_hand(W, b):
        hs = [x]
        for _ in range(steps):
            hs.append(np.tanh(hs[-1] @ W + b))
        d_h = np.broadcast_to(v.T, hs[-1].shape)
        g_W, g_b = None, np.zeros_like(b)
        for t in range(steps, 0, -1):
            d_z = d_h * (1 - hs[t] * hs[t])
            p = hs[t - 1].T @ d_z
            g_W = p if g_W is None else g_W + p
            g_b += d_z.sum(axis=0)
            d_h = d_z @ W.T
        return g_W, g_b

    return loss, by_hand, W, b


@needs_gemm
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_recurrent_weight_gradient_summed_by_gemm_bit_for_bit(dtype, fused_calls):
    loss, by_hand, W, b = _rnn(dtype)
    W0, b0 = W.copy(), b.copy()
    g = ft.grad(loss, argnums=(0, 1))
    gW, gb = g(W, b)
    assert sum(fused_calls) == 5  # six products reach W: the last five added into the sum
    uW, ub = _unfused(g, W, b)
    np.testing.assert_array_equal(gW, uW)
    np.testing.assert_array_equal(gb, ub)
    hW, hb = by_hand(W, b)
    assert gW.dtype == dtype and gb.dtype == dtype
    np.testing.assert_array_equal(gW, hW)  # (the same products, summed in the same order)
    np.testing.assert_allclose(gb, hb, rtol=1e-5 if dtype == np.float32 else 1e-12)
    np.testing.assert_array_equal(W, W0)
    np.testing.assert_array_equal(b, b0)
    # and a second call, whose products may be computed into the first call's memory
    gW2, _ = g(W, b)
    np.testing.assert_array_equal(gW2, uW)
    np.testing.assert_array_equal(gW, uW)  # (the first result, still held, untouched)


@needs_gemm
def test_recurrent_gradient_against_finite_differences():
    loss, _, W, b = _rnn(np.float64, width=192, steps=4, seed=3)
    gW = ft.grad(loss)(W, b)
    rng = np.random.default_rng(5)
    d = rng.standard_normal(W.shape)
    eps = 1e-6
    fd = (float(loss(W + eps * d, b)) - float(loss(W - eps * d, b))) / (2 * eps)
    assert abs(float(np.sum(gW * d)) - fd) <= 1e-7 * max(1.0, abs(fd))


@needs_gemm
def test_shared_input_of_two_products_summed_by_gemm(fused_calls):
    # the transpose with respect to the left operand: x's two cotangents, c1 A^T + c2 B^T
    rng = np.random.default_rng(1)
    x = rng.standard_normal((256, 160))
    A, B = rng.standard_normal((160, 160)), rng.standard_normal((160, 160))

    def f(x):
        return fnp.sum(fnp.sin(x @ A)) + fnp.sum(fnp.cos(x @ B))

    g = ft.grad(f)(x)
    assert sum(fused_calls) == 1
    np.testing.assert_array_equal(g, _unfused(ft.grad(f), x))
    np.testing.assert_allclose(g, np.cos(x @ A) @ A.T - np.sin(x @ B) @ B.T, rtol=1e-10)


@needs_gemm
def test_a_cotangent_the_caller_passed_is_never_summed_into(fused_calls):
    # vjp's output cotangent reaches W as it is (through the sum's first term), then a
    # product's cotangent joins it: that sum must be a new array, not the caller's
    rng = np.random.default_rng(2)
    x = rng.standard_normal((64, 256))
    W = rng.standard_normal((256, 256))
    ct = rng.standard_normal((256, 256))
    ct0 = ct.copy()
    out, f_vjp = ft.vjp(lambda W: W + x.T @ (x @ W) / 64.0, W)
    (gW,) = f_vjp(ct)
    np.testing.assert_array_equal(ct, ct0)
    np.testing.assert_allclose(gW, ct0 + x.T @ (x @ ct0) / 64.0, rtol=1e-12, atol=1e-12)
    assert not any(fused_calls)


def _layouts(rng, m, k, n, dtype):
    a = rng.standard_normal((m, k)).astype(dtype)
    b = rng.standard_normal((k, n)).astype(dtype)
    for x in (a, np.ascontiguousarray(a.T).T):
        for y in (b, np.ascontiguousarray(b.T).T):
            yield x, y


@needs_gemm
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("mkn", [(2, 2, 2), (300, 16, 257), (64, 256, 96), (513, 130, 33)])
def test_matmul_add_into_gives_numpys_bits(dtype, mkn):
    m, k, n = mkn
    rng = np.random.default_rng(m + k + n)
    for a, b in _layouts(rng, m, k, n, dtype):
        c0 = rng.standard_normal((m, n)).astype(dtype)
        c = c0.copy()
        assert nb.matmul_add_into(c, a, b)
        np.testing.assert_array_equal(c, np.add(c0, np.matmul(a, b)))


@pytest.mark.parametrize("case", ["k too large", "k of 1", "a row", "dtypes", "complex",
                                  "c strided", "c read-only", "overlap", "x^T x", "strided a",
                                  "3-d"])
def test_matmul_add_into_declines_and_writes_nothing(case):
    rng = np.random.default_rng(7)
    m, k, n = 40, 24, 30
    a, b = rng.standard_normal((m, k)), rng.standard_normal((k, n))
    c = rng.standard_normal((m, n))
    if case == "k too large":
        a, b = rng.standard_normal((m, 257)), rng.standard_normal((257, n))
    elif case == "k of 1":
        a, b = a[:, :1].copy(), b[:1].copy()
    elif case == "a row":
        a, c = a[:1].copy(), c[:1].copy()
    elif case == "dtypes":
        b = b.astype(np.float32)
    elif case == "complex":
        a, b, c = a + 1j, b + 0j, c + 0j
    elif case == "c strided":
        c = np.asfortranarray(c)
    elif case == "c read-only":
        c.flags.writeable = False
    elif case == "overlap":
        big = rng.standard_normal((m, k + n))
        a, c = big[:, :k], big[:, k:]
    elif case == "x^T x":
        a = rng.standard_normal((k, m)).T
        b = a.T
        c = rng.standard_normal((m, m))
    elif case == "strided a":
        a = rng.standard_normal((m, 2 * k))[:, ::2]
    elif case == "3-d":
        a, b, c = a[None], b[None], c[None]
    c0 = c.copy()
    assert not nb.matmul_add_into(c, a, b)
    np.testing.assert_array_equal(c, c0)


# -- large sums of products block by block (numpy_backend._mul_add) ---------------------------

def _mul_add_operands(rng, shape, dtype, n):
    xs = []
    for i in range(n):
        r = rng.integers(0, 4)
        if r == 0 and i % 2:
            xs.append(float(rng.standard_normal()))  # (a rule's constant: a Python number)
        elif r == 1:  # a broadcast view (a bias, a max)
            xs.append(np.broadcast_to(rng.standard_normal(shape[-1:]).astype(dtype), shape))
        elif r == 2 and len(shape) > 1:
            xs.append(np.asfortranarray(rng.standard_normal(shape).astype(dtype)))
        else:
            xs.append(rng.standard_normal(shape).astype(dtype))
    if type(xs[0]) is float:
        xs[0] = rng.standard_normal(shape).astype(dtype)
    return xs


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex128])
@pytest.mark.parametrize("shape", [(128, 2048), (70001,), (2, 40000), (300, 7, 11)])
def test_large_mul_add_gives_the_operators_bits(dtype, shape):
    from functrans.primitives.elementwise import _mul_add_impl
    rng = np.random.default_rng(sum(shape))
    for n in (3, 4, 5, 7, 9):
        xs = _mul_add_operands(rng, shape, dtype, n)
        kept = [x.copy() if isinstance(x, np.ndarray) else x for x in xs]
        got = nb._mul_add(*xs)
        want = _mul_add_impl(None, *xs)
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_array_equal(got, want)
        for x, k in zip(xs, kept):  # (no operand written)
            np.testing.assert_array_equal(x, k)


def test_large_mul_add_with_inf_and_nan_and_mixed_operands():
    from functrans.primitives.elementwise import _mul_add_impl
    rng = np.random.default_rng(11)
    a, b, c = (rng.standard_normal((256, 512)) for _ in range(3))
    a[0, :3] = [np.inf, -np.inf, np.nan]
    b[0, :3] = [0.0, 2.0, 1.0]
    with np.errstate(invalid="ignore"):
        np.testing.assert_array_equal(nb._mul_add(a, b, c), _mul_add_impl(None, a, b, c))
        # another dtype among the operands, or an integer array: the operators' path
        for xs in ((a, b.astype(np.float32), c), (a.astype(np.int64), b, c, 2.0, a)):
            np.testing.assert_array_equal(nb._mul_add(*xs), _mul_add_impl(None, *xs))


def test_jvp_of_a_product_of_large_arrays_uses_one_result_array():
    # forward mode's product rule on large arrays: tx y + x ty, a mul_add, same bits
    rng = np.random.default_rng(12)
    x, y, tx, ty = (rng.standard_normal((256, 1024)) for _ in range(4))
    out, t = ft.jvp(lambda x, y: x * y, (x, y), (tx, ty))
    np.testing.assert_array_equal(t, tx * y + x * ty)


# -- a subtracted broadcast: summed first, negated on the small sum ---------------------------

def _head(Y):
    def loss(logits):  # W2's loss head (a stable log-sum-exp cross-entropy)
        m = fnp.max(logits, axis=1, keepdims=True)
        lse = fnp.log(fnp.sum(fnp.exp(logits - m), axis=1, keepdims=True)) + m
        return fnp.mean(lse - fnp.sum(Y * logits, axis=1, keepdims=True))
    return loss


def test_large_softmax_head_gradient_costs_no_full_size_negation(monkeypatch):
    from functrans import core
    rng = np.random.default_rng(13)
    n, v = 64, 4096
    logits = rng.standard_normal((n, v))
    Y = np.eye(v)[rng.integers(0, v, size=n)]
    g = ft.grad(_head(Y))
    want = g(logits)
    seen = []
    process = core.EvalInterpreter.process

    def spy(interp, prim, args, params):
        seen.append((prim.name, tuple(getattr(a, "shape", None) for a in args)))
        return process(interp, prim, args, params)

    monkeypatch.setattr(core.EvalInterpreter, "process", spy)
    got = g(logits)
    np.testing.assert_array_equal(got, want)
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    np.testing.assert_allclose(got, (e / e.sum(axis=1, keepdims=True) - Y) / n,
                               rtol=1e-12, atol=1e-18)
    # the max's cotangent: sum(-ce) as -sum(ce), no product of a full-size array by -1
    assert not any(name == "mul" and shapes[0] == (n, v) and shapes[1] is None
                   for name, shapes in seen)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_centering_gradient_against_the_product_by_minus_one(dtype):
    # x - mean(x) over rows (a normalisation layer's centring), then a nonlinear loss
    rng = np.random.default_rng(14)
    x = rng.standard_normal((512, 256)).astype(dtype)

    def f(x):
        c = x - fnp.mean(x, axis=1, keepdims=True)
        return fnp.sum(fnp.tanh(c) * fnp.sin(x))

    got = ft.grad(f)(x)
    saved = reverse._ELIDE_BYTES
    reverse._ELIDE_BYTES = 1 << 62  # (nothing large: every product as before, the -1 too)
    try:
        want = ft.grad(f)(x)
    finally:
        reverse._ELIDE_BYTES = saved
    np.testing.assert_array_equal(got, want)
    assert got.dtype == dtype
    # and against central differences in float64
    if dtype == np.float64:
        d = rng.standard_normal(x.shape)
        eps = 1e-6
        fd = (float(f(x + eps * d)) - float(f(x - eps * d))) / (2 * eps)
        assert abs(float(np.sum(got * d)) - fd) <= 1e-6 * max(1.0, abs(fd))


def test_subtracted_broadcast_of_a_borrowed_residual_is_not_written():
    # the cotangent reaching the subtraction is the caller's own array (vjp): summed, never
    # written, and the result is a new array
    rng = np.random.default_rng(15)
    x = rng.standard_normal((256, 512))
    ct = rng.standard_normal((256, 512))
    ct0 = ct.copy()
    _, f_vjp = ft.vjp(lambda x: x - fnp.mean(x, axis=0, keepdims=True), x)
    (g,) = f_vjp(ct)
    np.testing.assert_array_equal(ct, ct0)
    np.testing.assert_allclose(g, ct0 - ct0.mean(axis=0, keepdims=True), rtol=1e-12,
                               atol=1e-14)
    assert not np.shares_memory(g, ct)
