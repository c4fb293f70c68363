"""Eager grad on NumPy reuses the memory of large arrays that died: residuals and cotangents
the backward pass used last are kept (functrans.buffers), gradients are remembered once
given out, and large matrix products and tanh slopes are computed into kept arrays. Same
bits as without reuse; never an array someone still holds."""

from __future__ import annotations

import gc
import sys

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans import buffers
from functrans.backends import numpy_backend as nb

reverse = sys.modules["functrans.reverse"]


def _mlp(rng, sizes=(96, 256, 256, 8), batch=64):
    params = {}
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        params[f"W{i}"] = rng.standard_normal((a, b)) / np.sqrt(a)
        params[f"b{i}"] = 0.1 * rng.standard_normal(b)
    X = rng.standard_normal((batch, sizes[0]))
    Y = np.eye(sizes[-1])[rng.integers(0, sizes[-1], size=batch)]
    return params, X, Y


def _loss(p, X, Y):
    h = fnp.tanh(fnp.matmul(X, p["W1"]) + p["b1"])
    h = fnp.tanh(fnp.matmul(h, p["W2"]) + p["b2"])
    logits = fnp.matmul(h, p["W3"]) + p["b3"]
    m = fnp.max(logits, axis=1, keepdims=True)
    lse = fnp.log(fnp.sum(fnp.exp(logits - m), axis=1, keepdims=True)) + m
    return fnp.mean(lse - fnp.sum(Y * logits, axis=1, keepdims=True))


@pytest.fixture(autouse=True)
def _fresh():
    buffers.release()
    yield
    buffers.release()


def _without_reuse(f, *args):
    enabled = buffers.ENABLED
    buffers.ENABLED = False
    try:
        return f(*args)
    finally:
        buffers.ENABLED = enabled


def _data(x):
    return x.__array_interface__["data"][0]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_repeated_grads_equal_the_grad_without_reuse_to_the_bit(dtype):
    rng = np.random.default_rng(0)
    params, X, Y = _mlp(rng)
    params = {k: v.astype(dtype) for k, v in params.items()}
    X, Y = X.astype(dtype), Y.astype(dtype)
    g = ft.grad(_loss)
    for step in range(4):
        got = g(params, X, Y)
        want = _without_reuse(g, params, X, Y)
        for k in want:
            assert np.array_equal(got[k], want[k]), (step, k)
        # new parameters each step, as a training loop has
        params = {k: v - 0.1 * got[k] for k, v in params.items()}


def test_a_dropped_gradient_is_taken_by_the_next_call():
    rng = np.random.default_rng(1)
    params, X, Y = _mlp(rng)
    g = ft.grad(_loss)
    # (which arrays are dead when depends on when the cycle collector runs, which depends on
    # what ran before in this process: it failed now and then under pytest -n; collected
    # first and kept out of the calls, every run finds the same)
    gc.collect()
    gc.disable()
    try:
        g(params, X, Y)  # (a first call fills the pool as every later one finds it)
        first = g(params, X, Y)
        at = _data(first["W1"])
        del first
        second = g(params, X, Y)
    finally:
        gc.enable()
    assert _data(second["W1"]) == at


def test_gradients_the_caller_holds_are_never_written():
    rng = np.random.default_rng(2)
    params, X, Y = _mlp(rng)
    g = ft.grad(_loss)
    held = [g(params, X, Y)]
    copies = [{k: v.copy() for k, v in held[0].items()}]
    for step in range(3):
        params = {k: v - 0.05 * held[-1][k] for k, v in params.items()}
        held.append(g(params, X, Y))
        copies.append({k: v.copy() for k, v in held[-1].items()})
    for grads, saved in zip(held, copies):
        for k in grads:
            assert np.array_equal(grads[k], saved[k])
    addresses = [_data(gr[k]) for gr in held for k in gr]
    assert len(set(addresses)) == len(addresses)


def test_intermediates_returned_as_aux_are_never_written():
    # h is a residual of the backward pass (tanh's slope's partner) and the caller's aux.
    rng = np.random.default_rng(3)
    W = rng.standard_normal((128, 256)) / 12
    X = rng.standard_normal((256, 128))

    def f(W):
        h = fnp.tanh(fnp.matmul(X, W))
        return fnp.sum(h * h), h

    g = ft.grad(f, has_aux=True)
    _, h1 = g(W)
    saved = h1.copy()
    for _ in range(3):
        g(W * 1.01)
    assert np.array_equal(h1, saved)


def test_the_callers_inputs_are_never_kept_or_written():
    rng = np.random.default_rng(4)
    W = rng.standard_normal((256, 256)) / 16
    X = rng.standard_normal((256, 256))
    saved_W, saved_X = W.copy(), X.copy()

    def f(W, X):
        return fnp.sum(fnp.tanh(fnp.matmul(X, W)) * X)

    g = ft.grad(f, argnums=(0, 1))
    for _ in range(3):
        gw, gx = g(W, X)
    assert np.array_equal(W, saved_W) and np.array_equal(X, saved_X)
    kept = [a for stack in buffers._spare.values() for a in stack]
    assert all(a is not W and a is not X for a in kept)
    assert all(not np.shares_memory(a, gw) and not np.shares_memory(a, gx) for a in kept)


def test_the_backward_pass_keeps_its_dead_residuals():
    rng = np.random.default_rng(5)
    W = rng.standard_normal((256, 256)) / 16
    X, Y = rng.standard_normal((256, 256)), rng.standard_normal((256, 256))
    ft.grad(lambda W: fnp.sum(fnp.tanh(fnp.matmul(X, W)) * Y))(W)
    assert buffers._spare.get((np.ndarray, (256, 256), ft.numpy.float64))


def test_nothing_is_kept_under_another_transform_or_without_reuse():
    rng = np.random.default_rng(6)
    W = rng.standard_normal((256, 256)) / 16
    X = rng.standard_normal((256, 256))

    def f(W):
        return fnp.sum(fnp.tanh(fnp.matmul(X, W)))

    ft.jvp(ft.grad(f), (W,), (W,))
    ft.vmap(ft.grad(f))(np.stack([W, W]))
    _without_reuse(ft.grad(f), W)
    assert not any(buffers._spare.values())


def test_matmul_into_a_kept_array_equals_numpys_product():
    rng = np.random.default_rng(7)
    for x, y in [(rng.standard_normal((200, 300)), rng.standard_normal((300, 100))),
                 (rng.standard_normal((300, 200)).T, rng.standard_normal((300, 100))),
                 (rng.standard_normal((200, 300)), rng.standard_normal((100, 300)).T)]:
        kept = np.empty((200, 100))
        buffers.give_back(kept)
        out = nb._matmul(x, y)
        assert out is kept
        assert np.array_equal(out, np.matmul(x, y))


def test_tanh_slope_into_kept_arrays_equals_the_plain_one():
    x = np.random.default_rng(8).standard_normal((100, 200))
    want = _without_reuse(nb._tanh_slope, x, True)
    a, b = np.empty_like(x), np.empty_like(x)
    buffers.give_back(a)
    buffers.give_back(b)
    got = nb._tanh_slope(x, True)
    assert {id(got[0]), id(got[1])} == {id(a), id(b)}
    for u, v in zip(got, want):
        assert np.array_equal(u, v)
    # a Fortran-ordered input keeps NumPy's own result (another memory order)
    xf = np.asfortranarray(x)
    buffers.give_back(np.empty_like(x))
    got = nb._tanh_slope(xf, False)
    assert got[0].flags.f_contiguous and np.array_equal(got[0], np.tanh(xf))


def test_a_product_of_two_held_factors_goes_into_a_kept_array():
    a = np.random.default_rng(9).standard_normal((256, 160))
    b = a + 1.0
    kept = np.empty_like(a)
    buffers.give_back(kept)
    out = reverse._product([a, b], ())
    assert out is kept and np.array_equal(out, a * b)


def test_few_dead_arrays_of_one_shape_are_kept():
    # Six layers' residuals of one shape die in the pass; only a few are kept, since eager
    # operations take few of them back (more would only hold memory).
    rng = np.random.default_rng(10)
    Ws = [rng.standard_normal((256, 256)) / 16 for _ in range(6)]
    X = rng.standard_normal((256, 256))

    def f(Ws):
        h = X
        for W in Ws:
            h = fnp.tanh(fnp.matmul(h, W))
        return fnp.sum(h * X)

    ft.grad(f)(Ws)
    kept = buffers._spare.get((np.ndarray, (256, 256), ft.numpy.float64), [])
    assert 1 <= len(kept) <= buffers.DEAD_PER_KEY


def test_keep_dead_and_take_account_for_bytes_and_bounds(monkeypatch):
    # keep_dead and take (each with the bookkeeping inline): at most DEAD_PER_KEY kept per
    # shape and dtype, never past SPARE_LIMIT, the newest taken first, the byte count exact.
    key = (np.ndarray, (128, 512), ft.numpy.float64)
    arrays = [np.full((128, 512), float(i)) for i in range(3)]
    for a in arrays:
        buffers.keep_dead(a)
    kept = buffers._spare[key]
    assert len(kept) == 2 and kept[0] is arrays[0] and kept[1] is arrays[1]
    assert buffers._spare_bytes == 2 * arrays[0].nbytes
    assert buffers.take(*key) is arrays[1] and buffers._spare_bytes == arrays[0].nbytes
    assert buffers.take(*key) is arrays[0] and buffers._spare_bytes == 0
    assert buffers.take(*key) is None
    monkeypatch.setattr(buffers, "SPARE_LIMIT", arrays[0].nbytes - 1)
    buffers.keep_dead(arrays[2])  # (too large to keep under this limit)
    assert not buffers._spare.get(key) and buffers._spare_bytes == 0


def test_reduced_abstract_values_of_listed_shapes_and_axes():
    # The reduced shape is cached per (shape, axes); a shape or axes given as a list (not
    # hashable) is worked out directly, to the same value.
    from functrans.core import ShapedArray
    from functrans.primitives.reductions import _reduced_aval
    f64 = ft.numpy.float64
    for keepdims in (False, True):
        want = _reduced_aval(ShapedArray((2, 3, 4), f64), (0, 2), keepdims)
        got = _reduced_aval(ShapedArray([2, 3, 4], f64), [0, 2], keepdims)
        assert got.shape == want.shape == ((1, 3, 1) if keepdims else (3,))
        assert type(got.shape) is tuple and got.dtype is f64


def test_mlp_gradient_matches_the_hand_written_backprop_call_after_call():
    # W2's loss on a smaller MLP (large enough for every in-place and reuse path): the
    # gradient of each of several calls equals the hand-written backprop's, and no gradient
    # the caller still holds changes when later calls run.
    rng = np.random.default_rng(28)
    params, X, Y = _mlp(rng)

    def manual(p):
        h1 = np.tanh(X @ p["W1"] + p["b1"])
        h2 = np.tanh(h1 @ p["W2"] + p["b2"])
        logits = h2 @ p["W3"] + p["b3"]
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        d_logits = (e / e.sum(axis=1, keepdims=True) - Y) / X.shape[0]
        d_z2 = (d_logits @ p["W3"].T) * (1.0 - h2 * h2)
        d_z1 = (d_z2 @ p["W2"].T) * (1.0 - h1 * h1)
        return {"W1": X.T @ d_z1, "b1": d_z1.sum(axis=0), "W2": h1.T @ d_z2,
                "b2": d_z2.sum(axis=0), "W3": h2.T @ d_logits, "b3": d_logits.sum(axis=0)}

    grad = ft.grad(lambda p: _loss(p, X, Y))
    want = manual(params)
    held = []
    for _ in range(3):
        g = grad(params)
        for k in want:
            np.testing.assert_allclose(g[k], want[k], rtol=1e-11, atol=1e-14)
        held.append((g, {k: v.copy() for k, v in g.items()}))
    for g, copy in held:
        for k in g:
            assert np.array_equal(g[k], copy[k])


def test_gradients_from_the_reuse_size_up_are_remembered():
    # A gradient of 64-256 KiB (at least buffers.MIN_BYTES, from which the NumPy backend
    # computes large products into kept arrays) is remembered as a larger one is: the next
    # call's product takes it back once dropped, whatever malloc would have handed out (it
    # was reused only by malloc's chance before, so this depended on the tests run first).
    rng = np.random.default_rng(2)
    params, X, Y = _mlp(rng)
    assert buffers.MIN_BYTES <= params["W1"].nbytes < reverse._ELIDE_BYTES
    ft.grad(_loss)(params, X, Y)
    assert buffers._lent.get((np.ndarray, params["W1"].shape, ft.numpy.float64))
