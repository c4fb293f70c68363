"""Random programs evaluated with memory reuse (functrans/buffers.py) and without: the values
must agree to the bit, the caller's inputs must be untouched, and results the caller holds
must not change when later evaluations run. The targeted tests in test_buffers.py cover each
guard; these look for an interplay of writes, kept arrays, views and remembered results that
no one thought of."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import functrans as ft
import functrans.buffers as buffers
import functrans.numpy as fnp
from functrans.graph import eval_graph

N = 2 * buffers.MIN_BYTES // 8  # float64 elements: large enough to take part

UNARY = {
    "sin": fnp.sin,
    "cos": fnp.cos,
    "tanh": fnp.tanh,
    "scale": lambda a: a * 0.75,
    "shift": lambda a: 0.5 - a,
    "roll": lambda a: fnp.roll(a, 3),
    "swap": lambda a: fnp.concat([a[N // 2:], a[: N // 2]]),
}
BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "mix": lambda a, b: fnp.sin(a) * b + a * fnp.tanh(b),
    "view": lambda a, b: _with_view(fnp.sin(a), b),
}


def _with_view(s, b):
    # s dies at the product while a view of its array is still to be read
    head = s[: N // 2]
    return fnp.concat([head, (s * b)[N // 2:]])


@st.composite
def programs(draw):
    """A list of steps, each reading earlier values by index (0 and 1 are the inputs), and
    the indices of the values returned."""
    steps = []
    for k in range(draw(st.integers(2, 9))):
        n_values = 2 + k
        if draw(st.booleans()):
            steps.append((draw(st.sampled_from(sorted(UNARY))),
                          draw(st.integers(0, n_values - 1))))
        else:
            steps.append((draw(st.sampled_from(sorted(BINARY))),
                          draw(st.integers(0, n_values - 1)), draw(st.integers(0, n_values - 1))))
    n_values = 2 + len(steps)
    outs = draw(st.lists(st.integers(2, n_values - 2), max_size=2)) if n_values > 3 else []
    return steps, outs + [n_values - 1]  # the last value always, so every step can matter


def _run(program, a, b):
    steps, outs = program
    vals = [a, b]
    for op, *args in steps:
        fn = UNARY[op] if len(args) == 1 else BINARY[op]
        vals.append(fn(*[vals[i] for i in args]))
    return [vals[i] for i in outs]


def _no_reuse(fn):
    saved, buffers.MIN_BYTES = buffers.MIN_BYTES, 1 << 62
    try:
        return fn()
    finally:
        buffers.MIN_BYTES = saved


@pytest.fixture(autouse=True)
def empty_spare():
    yield
    buffers.release()


def _inputs(seed):
    rng = np.random.default_rng(seed)
    return rng.uniform(-2, 2, N), rng.uniform(-2, 2, N)


def _agrees_with_no_reuse(compute, inputs):
    """``compute()`` (a list of arrays) with reuse equals it without, call after call; what
    the first call returned (held by the caller meanwhile) and the inputs stay as they were."""
    before = [a.copy() for a in inputs]
    ref = _no_reuse(compute)
    held = compute()
    held_copy = [h.copy() for h in held]
    for _ in range(3):                    # later calls take what earlier ones left
        for got, want in zip(compute(), ref):
            np.testing.assert_array_equal(got, want)
    for h, c, want in zip(held, held_copy, ref):
        np.testing.assert_array_equal(h, c)
        np.testing.assert_array_equal(h, want)
    for a, b in zip(inputs, before):
        np.testing.assert_array_equal(a, b)


@given(programs(), st.integers(0, 3))
def test_graph_evaluation_with_reuse_matches_without(program, seed):
    buffers.release()  # each example starts with nothing kept
    x, y = _inputs(seed)
    g = ft.make_graph(lambda a, b: _run(program, a, b))(x, y)
    _agrees_with_no_reuse(lambda: eval_graph(g, [x, y]), [x, y])


@given(programs(), st.integers(0, 3))
def test_staged_hvp_with_reuse_matches_without(program, seed):
    buffers.release()
    x, v = _inputs(seed)

    def loss(a):
        outs = _run(program, a, fnp.cos(a))
        return sum(fnp.sum(o * o) for o in outs)

    _agrees_with_no_reuse(lambda: [ft.hvp(loss, (x,), (v,))], [x, v])


@given(programs(), st.integers(0, 3))
def test_results_fed_back_as_inputs_match_without_reuse(program, seed):
    # y <- f(y, x) a few times: each call's input is the previous call's remembered result
    buffers.release()
    x, y = _inputs(seed)
    g = ft.make_graph(lambda a, b: _run(program, a, b)[-1] * 0.5)(x, y)
    want, got = y, y
    for _ in range(4):
        want = _no_reuse(lambda: eval_graph(g, [x, want]))[0]
        got = eval_graph(g, [x, got])[0]
        np.testing.assert_array_equal(got, want)
