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
