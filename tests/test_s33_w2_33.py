"""Session 33 (w2_33): W2's array work and the Python cost of eager reuse (functrans.buffers).

- buffers.take (each large result of an eager pass asks it for memory) and keep_dead (each
  large array the backward pass retires) run without the helper frames they called
  (_pop, _ask, give_back, _keep): same bookkeeping, a tenth fewer bytecodes of reuse per
  W2 grad. Pinned here: the accounting (asked, kept, bounds) and the frames.
- What the W2 work relies on, checked beside it: the MLP's gradient equals a hand-written
  backprop with and without reuse, ties in max/maximum/relu weigh as JAX's, and writing in
  place never touches a caller's array or a value still needed.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest

import functrans as ft
import functrans.nn as fnn
import functrans.numpy as fnp
from functrans import buffers

# (the float paths' frames as in a process that has not used NumPy's bfloat16: conftest)
pytestmark = pytest.mark.usefixtures("numpy_without_bfloat16")


@pytest.fixture(autouse=True)
def _fresh():
    buffers.release()
    yield
    buffers.release()


# -- buffers' bookkeeping ----------------------------------------------------------------------

def _dtype():
    from functrans.backends import backend_of
    return backend_of(np.zeros(1)).dtype(np.zeros(1))


def test_take_asks_counts_and_returns_the_newest_kept_array():
    shape = (64, 160)  # 80 KiB: above buffers.MIN_BYTES
    key = (np.ndarray, shape, _dtype())
    assert buffers.take(np.ndarray, shape, _dtype()) is None  # nothing kept: a miss, asked
    assert buffers._asked[key] == 1
    a, b = np.empty(shape), np.empty(shape)
    buffers.keep_dead(a)  # kept against the request, which it meets
    assert buffers._asked[key] == 0 and buffers._spare[key] == [a]
    buffers.keep_dead(b)  # (kept without a request too, up to DEAD_PER_KEY)
    assert buffers._spare[key] == [a, b]
    assert buffers._spare_bytes == a.nbytes + b.nbytes
    c = np.empty(shape)
    buffers.keep_dead(c)  # DEAD_PER_KEY (2) of the key kept already: not kept
    assert buffers._spare[key] == [a, b]
    assert buffers.take(np.ndarray, shape, _dtype()) is b  # the newest first
    assert buffers.take(np.ndarray, shape, _dtype()) is a
    assert buffers._spare_bytes == 0
    assert buffers.take(np.ndarray, shape, _dtype()) is None
    assert buffers._asked[key] == 3
    for _ in range(2 * buffers.ASKED_PER_KEY):
        buffers.take(np.ndarray, shape, _dtype())
    assert buffers._asked[key] == buffers.ASKED_PER_KEY  # bounded
    buffers.give_back(c)
    assert buffers._asked[key] == buffers.ASKED_PER_KEY - 1 and buffers._spare[key] == [c]


def test_take_and_give_back_respect_the_byte_limit(monkeypatch):
    shape = (64, 160)
    a = np.empty(shape)
    monkeypatch.setattr(buffers, "SPARE_LIMIT", a.nbytes)
    buffers.give_back(a)
    buffers.give_back(np.empty(shape))  # over the limit: not kept
    assert buffers._spare[(np.ndarray, shape, _dtype())] == [a]
    assert buffers._spare_bytes == a.nbytes
    assert buffers.take(np.ndarray, shape, _dtype()) is a
    assert buffers._spare_bytes == 0


def test_take_gives_a_remembered_result_only_once_its_caller_dropped_it():
    shape = (64, 160)
    held = np.full(shape, 3.0)
    buffers.remember(held)
    assert buffers.take(np.ndarray, shape, _dtype()) is None  # the caller holds it
    assert (held == 3.0).all()
    data = held.__array_interface__["data"][0]
    del held
    got = buffers.take(np.ndarray, shape, _dtype())
    assert got is not None and got.__array_interface__["data"][0] == data
    assert buffers.take(np.ndarray, shape, _dtype()) is None  # taken once


def test_take_is_off_without_reuse():
    enabled = buffers.ENABLED
    buffers.ENABLED = False
    try:
        buffers.give_back(np.empty((64, 160)))
        assert buffers.take(np.ndarray, (64, 160), _dtype()) is None
    finally:
        buffers.ENABLED = enabled


def _python_calls(fn, *args):
    names = []

    def prof(frame, event, arg):
        if event == "call":
            names.append(frame.f_code.co_name)
    sys.setprofile(prof)
    try:
        fn(*args)
    finally:
        sys.setprofile(None)
    return names


def test_take_and_keep_dead_run_in_one_or_two_frames():
    # (the frames were a tenth of reuse's Python cost in W2's grad: take called _pop and
    # _ask, keep_dead give_back and _keep)
    shape = (64, 160)
    a = np.empty(shape)
    assert _python_calls(buffers.take, np.ndarray, shape, _dtype()) == ["take"]
    calls = _python_calls(buffers.keep_dead, a)
    assert calls.count("keep_dead") == 1 and "give_back" not in calls and "_keep" not in calls
    assert _python_calls(buffers.take, np.ndarray, shape, _dtype()) == ["take"]


# -- the W2 gradient: a hand-written backprop, with and without reuse -------------------------

def _mlp(rng, sizes=(96, 256, 256, 10), batch=128):
    params = {}
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        params[f"W{i}"] = rng.standard_normal((a, b)) / np.sqrt(a)
        params[f"b{i}"] = 0.1 * rng.standard_normal(b)
    X = rng.standard_normal((batch, sizes[0]))
    Y = np.eye(sizes[-1])[rng.integers(0, sizes[-1], size=batch)]
    return params, X, Y


def _loss(p, X, Y):  # benchmarks.workloads.mlp_loss on functrans.numpy
    h = fnp.tanh(fnp.matmul(X, p["W1"]) + p["b1"])
    h = fnp.tanh(fnp.matmul(h, p["W2"]) + p["b2"])
    logits = fnp.matmul(h, p["W3"]) + p["b3"]
    m = fnp.max(logits, axis=1, keepdims=True)
    lse = fnp.log(fnp.sum(fnp.exp(logits - m), axis=1, keepdims=True)) + m
    return fnp.mean(lse - fnp.sum(Y * logits, axis=1, keepdims=True))


def _manual(p, X, Y):
    h1 = np.tanh(X @ p["W1"] + p["b1"])
    h2 = np.tanh(h1 @ p["W2"] + p["b2"])
    logits = h2 @ p["W3"] + p["b3"]
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    d3 = (e / e.sum(axis=1, keepdims=True) - Y) / X.shape[0]
    d2 = (d3 @ p["W3"].T) * (1.0 - h2 * h2)
    d1 = (d2 @ p["W2"].T) * (1.0 - h1 * h1)
    return {"W1": X.T @ d1, "b1": d1.sum(0), "W2": h1.T @ d2, "b2": d2.sum(0),
            "W3": h2.T @ d3, "b3": d3.sum(0)}


def _close(got, want):
    for k in want:
        scale = np.max(np.abs(want[k]))
        assert np.max(np.abs(got[k] - want[k])) <= 1e-13 * scale, k


@pytest.mark.parametrize("ties", [False, True])
def test_mlp_grad_equals_the_hand_written_backprop_with_and_without_reuse(ties):
    params, X, Y = _mlp(np.random.default_rng(33))
    if ties:  # every logit of a row equal: the max is attained 10 times in each row
        params["W3"] = np.zeros_like(params["W3"])
        params["b3"] = np.zeros_like(params["b3"])
    inputs = {k: v.copy() for k, v in params.items()}, X.copy(), Y.copy()
    grad = ft.grad(_loss)
    want = _manual(params, X, Y)
    enabled = buffers.ENABLED
    try:
        buffers.ENABLED = False
        plain = grad(params, X, Y)
        buffers.ENABLED = True
        runs = [grad(params, X, Y) for _ in range(3)]
    finally:
        buffers.ENABLED = enabled
    _close(plain, want)
    for g in runs:
        for k in want:
            assert np.array_equal(g[k], plain[k]), k  # reuse changes no bit
    for k, v in inputs[0].items():
        assert np.array_equal(params[k], v)
    assert np.array_equal(X, inputs[1]) and np.array_equal(Y, inputs[2])


# -- ties weigh as JAX's -----------------------------------------------------------------------

def test_tie_weights_of_max_maximum_and_relu_are_jaxs():
    # JAX: a reduction's extreme shares the derivative equally among the k positions that
    # attain it (1/k each); maximum(x, y) at x == y gives each 1/2; relu'(0) = 0.
    x = np.array([[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, 2.0, -1.0], [5.0, 4.0, 4.0, 5.0]])
    w = np.array([1.0, 2.0, 4.0])
    g = ft.grad(lambda x: fnp.sum(fnp.max(x, axis=1) * w))(x)
    assert np.array_equal(g, [[0, .5, .5, 0], [2 / 3, 2 / 3, 2 / 3, 0], [2, 0, 0, 2]])
    g = ft.grad(lambda x: fnp.max(x))(x)
    assert np.array_equal(g, [[0, 0, 0, 0], [0, 0, 0, 0], [.5, 0, 0, .5]])
    g = ft.grad(lambda x: fnp.sum(fnp.min(x, axis=0)))(x)
    assert np.array_equal(g, [[1, 0, 0, 0], [0, 1, 1, 1], [0, 0, 0, 0]])
    g = ft.grad(lambda x: fnp.sum(fnp.maximum(x, 2.0)))(x)
    assert np.array_equal(g, np.where(x > 2, 1.0, np.where(x == 2, 0.5, 0.0)))
    gx, gy = ft.grad(lambda x, y: fnp.sum(fnp.maximum(x, y)), argnums=(0, 1))(x, x[::-1])
    tie = x == x[::-1]
    assert np.array_equal(gx, np.where(tie, 0.5, x > x[::-1]))
    assert np.array_equal(gy, np.where(tie, 0.5, x[::-1] > x))
    g = ft.grad(lambda x: fnp.sum(fnn.relu(x - 2.0)))(x)
    assert np.array_equal(g, (x > 2).astype(float))


# -- writing in place never touches a caller's array or a value still needed ------------------

def test_in_place_products_and_sums_leave_values_still_needed_alone():
    # Large (>= 256 KiB) arrays, so that the backward pass writes products and sums into
    # dead operands: A's product is a residual of two equations and x * x's partner is x
    # itself; the gradient is worked out by hand.
    rng = np.random.default_rng(5)
    x = rng.standard_normal((128, 512))
    A = rng.standard_normal((512, 512)) / 20
    x0, A0 = x.copy(), A.copy()

    def f(x, A):
        z = fnp.matmul(x, A)
        t = fnp.tanh(z)
        return fnp.sum(t * z) + fnp.sum(x * x) + fnp.sum(t * t)

    z = x @ A
    t = np.tanh(z)
    s = 1.0 - t * t
    dz = t + z * s + 2.0 * t * s
    want_x, want_A = dz @ A.T + 2.0 * x, x.T @ dz
    grad = ft.grad(f, argnums=(0, 1))
    first = grad(x, A)
    kept = [g.copy() for g in first]
    for _ in range(2):  # later calls may reuse memory: never the gradients still held
        again = grad(x, A)
    for g, h, want in zip(first, kept, (want_x, want_A)):
        assert np.array_equal(g, h)
        assert np.allclose(g, want, rtol=1e-12, atol=1e-12)
    for g, h in zip(again, first):
        assert np.array_equal(g, h) and g is not h
    assert np.array_equal(x, x0) and np.array_equal(A, A0)


# -- maximum/minimum against a constant: one ordering mask, the same tie weights -----------

@pytest.mark.parametrize("name", ["maximum", "minimum"])
@pytest.mark.parametrize("const_first", [False, True])
def test_extremum_with_a_constant_side_compares_once_and_splits_ties(name, const_first):
    x = np.array([1.0, -2.0, 0.0, np.nan, 0.0, 3.0])
    t = np.array([1.0, 2.0, 4.0, 8.0, -16.0, 32.0])
    op = getattr(fnp, name)
    f = (lambda x: op(0.0, x)) if const_first else (lambda x: op(x, 0.0))
    graph = ft.make_graph(lambda x, t: ft.jvp(f, (x,), (t,)))(x, t)
    names = [eqn[0].name for eqn in graph.eqns]
    # (the side with no tangent needs no mask: one of gt/lt, not both)
    assert names.count("gt") + names.count("lt") == 1, names
    out, tan = ft.jvp(f, (x,), (t,))
    chosen = x > 0 if name == "maximum" else x < 0
    want = np.where(chosen, t, np.where(x == 0, t / 2, 0.0))  # NaN: 0, as JAX
    assert np.array_equal(tan, want)
    assert np.array_equal(ft.grad(lambda x: fnp.sum(f(x) * t))(x), want)


def test_complex_extremum_with_a_constant_side_keeps_its_lexicographic_order():
    x = np.array([1 + 1j, 1 - 1j, 1 + 0j, 2 - 5j, 0 + 3j])
    t = np.array([1.0, 2.0, 4.0, 8.0, 16.0]) + 0j
    c = 1 + 0j
    _, tan = ft.jvp(lambda x: fnp.maximum(x, c), (x,), (t,))
    # NumPy's order: real parts, then imaginary parts; x == c splits the tangent
    want = np.array([t[0], 0, t[2] / 2, t[3], 0])
    assert np.array_equal(tan, want)
    _, tan = ft.jvp(lambda x: fnp.minimum(c, x), (x,), (t,))
    assert np.array_equal(tan, np.array([0, t[1], t[2] / 2, 0, t[4]]))
