"""hvp reuses a staged graph when the function's own trace repeats (functrans/trace_cache.py).
A stale graph would be a silent wrong answer, so each way a function can change between calls
has a case here: a captured array replaced or changed in place, a captured scalar, a global
switch, a function whose trace changes between the two runs of one call, custom rules."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import functrans as ft
import functrans.numpy as fnp
from functrans import api, trace_cache
from functrans.core import primitive

from .test_buffers_properties import _run, programs

N = api._HVP_STAGE_SIZE  # the smallest input hvp stages


@pytest.fixture(autouse=True)
def empty_cache():
    trace_cache.clear()
    yield
    trace_cache.clear()


@contextlib.contextmanager
def _counting_lookups():
    """Yields a list with one entry per cache look-up while enabled: whether it found a
    graph."""
    found = []
    real = trace_cache.lookup

    def counting(key):
        graph = real(key)
        if trace_cache.ENABLED:
            found.append(graph is not None)
        return graph

    trace_cache.lookup = counting
    try:
        yield found
    finally:
        trace_cache.lookup = real


@pytest.fixture
def hits():
    with _counting_lookups() as found:
        yield found


def _eager(f, x, v):
    return ft.jvp(ft.grad(f), (x,), (v,))[1]


def _inputs(seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(N), rng.standard_normal(N)


def test_a_repeated_trace_is_staged_once(hits):
    x, v = _inputs()
    f = lambda y: fnp.sum(fnp.sin(y) * fnp.roll(y, 1)) + fnp.sum(fnp.tanh(y) ** 2)  # noqa
    want = _eager(f, x, v)
    for _ in range(3):
        np.testing.assert_allclose(ft.hvp(f, (x,), (v,)), want, rtol=1e-12, atol=1e-12)
    assert hits == [False, True, True]
    # another function with the same trace shares the graph
    g = lambda y: fnp.sum(fnp.sin(y) * fnp.roll(y, 1)) + fnp.sum(fnp.tanh(y) ** 2)  # noqa
    np.testing.assert_allclose(ft.hvp(g, (x,), (v,)), want, rtol=1e-12, atol=1e-12)
    assert hits[-1] is True


def test_captured_arrays_are_read_at_each_call(hits):
    x, v = _inputs()
    A = np.cos(x)
    f = lambda y: fnp.sum(fnp.sin(y) * A * y)  # noqa: E731  (reads the global A when called)
    first = ft.hvp(f, (x,), (v,))
    np.testing.assert_allclose(first, _eager(f, x, v), rtol=1e-12)
    A *= 3.0                                   # changed in place
    np.testing.assert_allclose(ft.hvp(f, (x,), (v,)), 3.0 * first, rtol=1e-12)
    B = np.exp(-x * x)

    def g(y, c=None):
        return fnp.sum(fnp.sin(y) * (B if c is None else c) * y)

    np.testing.assert_allclose(ft.hvp(g, (x,), (v,)), _eager(g, x, v), rtol=1e-12)
    B = np.sin(x)                              # replaced by another array
    np.testing.assert_allclose(ft.hvp(g, (x,), (v,)), _eager(g, x, v), rtol=1e-12)
    assert hits == [False, True, True, True]  # g traces as f does: one graph for all four


def test_values_computed_from_captured_arrays_are_never_baked_in(hits):
    x, v = _inputs()
    C = np.cos(x)
    f = lambda y: fnp.sum(fnp.exp(C) * fnp.sin(y))  # noqa: E731  (exp(C) is no tracer)
    for _ in range(2):
        np.testing.assert_allclose(ft.hvp(f, (x,), (v,)), -np.exp(C) * np.sin(x) * v,
                                   rtol=1e-12, atol=1e-12)
        C += 1.0                               # changed in place between calls


def test_a_captured_scalar_or_a_switch_changes_the_trace(hits):
    x, v = _inputs()
    settings = {"scale": 2.0, "cube": False}

    def f(y):
        out = fnp.sum(fnp.sin(y * settings["scale"]))
        return out + fnp.sum(y ** 3) if settings["cube"] else out

    for scale, cube in [(2.0, False), (3.0, False), (3.0, True), (2.0, False)]:
        settings.update(scale=scale, cube=cube)
        np.testing.assert_allclose(ft.hvp(f, (x,), (v,)), _eager(f, x, v),
                                   rtol=1e-12, atol=1e-12)
    assert hits == [False, False, False, True]  # only the last repeats a trace


def test_parameters_are_part_of_the_trace(hits):
    x, v = _inputs()
    shift = [1]
    f = lambda y: fnp.sum(fnp.sin(y) * fnp.roll(y, shift[0]))  # noqa: E731
    for s in (1, 2, 1):
        shift[0] = s
        np.testing.assert_allclose(ft.hvp(f, (x,), (v,)), _eager(f, x, v),
                                   rtol=1e-12, atol=1e-12)
    assert hits == [False, False, True]


def test_parameters_equal_by_value_but_not_the_same_are_told_apart(hits):
    x, v = _inputs()
    fill = [0.0]
    f = lambda y: fnp.sum(fnp.full_like(y, fill[0]) * y * y)  # noqa: E731
    for c in (0.0, -0.0, 0.0):
        fill[0] = c
        got = ft.hvp(f, (x,), (v,))                     # 2 c v: the sign of zero is c's
        assert np.all(np.signbit(got[v > 0]) == np.signbit(c))
    assert hits == [False, False, True]


def test_a_trace_that_changes_within_a_call_never_gets_another_traces_graph(hits):
    # f is run twice on a call whose trace is new (once alone, once staged): here its first
    # runs compute one function, then it settles on the other. The graph of the staged run
    # must be filed under the staged run's trace, or the settled calls would get it.
    x, v = _inputs()
    plan = iter(["cube", "sin"])

    def f(y):
        kind = next(plan, "cube")
        return fnp.sum(y ** 3) if kind == "cube" else fnp.sum(fnp.sin(y))

    first = ft.hvp(f, (x,), (v,))     # alone: cube (a miss); staged: sin
    np.testing.assert_allclose(first, -np.sin(x) * v, rtol=1e-12, atol=1e-12)
    for _ in range(2):                # cube from now on
        np.testing.assert_allclose(ft.hvp(f, (x,), (v,)), 6 * x * v, rtol=1e-12)


def test_item_assignment_is_part_of_the_trace(hits):
    # y[m] = 0 re-points the tracer y at a new value: a trace that numbered values by tracer
    # object would read the later sin(y) as the sin of the input, as in `unclipped`.
    x, v = _inputs()

    def clipped(y):
        y[y > 0] = 0.0
        return fnp.sum(fnp.sin(y))

    def unclipped(y):
        _ = fnp.where(y > 0, 0.0, y)
        return fnp.sum(fnp.sin(y))

    def copied(y):
        z = fnp.asarray(y, copy=True)      # another tracer object for the same value
        z[z > 0] = 0.0
        return fnp.sum(fnp.sin(y) * z)

    for f in (clipped, unclipped, copied, clipped, unclipped):
        np.testing.assert_allclose(ft.hvp(f, (x,), (v,)), _eager(f, x, v),
                                   rtol=1e-12, atol=1e-12)


def test_a_value_seen_twice_does_not_share_a_number_with_the_next(hits):
    # An equation that hands back its operand itself gives a value the trace has numbered
    # before; numbering it again must not take the number of the value that comes next.
    same_p = primitive("test_trace_cache_same_array")
    same_p.def_impl(lambda backend, a: a)
    same_p.def_abstract_eval(lambda aval: aval)
    x, v = _inputs()
    C = np.cos(x)

    def uses_sin(y):
        same_p.bind(same_p.bind(C))
        s = fnp.sin(y)
        return fnp.sum(s * y)

    def uses_c(y):
        b = same_p.bind(same_p.bind(C))
        fnp.sin(y)
        return fnp.sum(b * y)

    for f in (uses_sin, uses_c):
        np.testing.assert_allclose(ft.hvp(f, (x,), (v,)), _eager(f, x, v),
                                   rtol=1e-12, atol=1e-12)


def test_errors_name_the_function_and_a_switched_off_cache_runs_it_once(hits):
    x, v = _inputs()

    def vector_valued(y):
        return fnp.sin(y) * y

    with pytest.raises(ft.errors.NonScalarOutputError, match="vector_valued"):
        ft.hvp(vector_valued, (x,), (v,))
    runs = []

    def f(y):
        runs.append(1)
        return fnp.sum(fnp.sin(y))

    looked = len(hits)
    trace_cache.ENABLED = False
    try:
        ft.hvp(f, (x,), (v,))
    finally:
        trace_cache.ENABLED = True
    assert len(runs) == 1 and len(hits) == looked   # staged once, nothing looked up


def test_custom_rules_are_never_cached(hits):
    x, v = _inputs()

    @ft.custom_jvp
    def soft(y):
        return fnp.log(1.0 + fnp.exp(y))

    @soft.defjvp
    def soft_jvp(primals, tangents):
        (y,), (t,) = primals, tangents
        return soft(y), t * fnp.tanh(y)        # a deliberately different derivative

    f = lambda y: fnp.sum(soft(y))  # noqa: E731
    want = (1.0 - np.tanh(x) ** 2) * v
    np.testing.assert_allclose(ft.hvp(f, (x,), (v,)), want, rtol=1e-12)

    @soft.defjvp
    def soft_jvp2(primals, tangents):
        (y,), (t,) = primals, tangents
        return soft(y), t * fnp.sin(y)

    np.testing.assert_allclose(ft.hvp(f, (x,), (v,)), np.cos(x) * v, rtol=1e-12)
    assert trace_cache._cache == {}


def test_arrays_made_inside_the_function_are_this_calls(hits):
    x, v = _inputs()
    weights = [np.linspace(0.0, 1.0, N)]

    def f(y):
        w = fnp.asarray(weights[0] * 1.0)      # a new array every run
        return fnp.sum(w * fnp.sin(y))

    for scale in (1.0, 2.0):
        weights[0] = np.linspace(0.0, scale, N)
        np.testing.assert_allclose(ft.hvp(f, (x,), (v,)), -weights[0] * np.sin(x) * v,
                                   rtol=1e-12, atol=1e-12)
    assert hits == [False, True]


def test_under_another_transform_there_is_no_cache(hits):
    x, v = _inputs()
    f = lambda y: fnp.sum(fnp.sin(y) ** 2)  # noqa: E731
    d = ft.jvp(lambda y: ft.hvp(f, (y,), (v,)), (x,), (v,))[1]
    # d/dx of H v along v: the third derivative of sin^2 is -4 sin(2x)
    np.testing.assert_allclose(d, -4 * np.sin(2 * x) * v * v, rtol=1e-10, atol=1e-10)
    assert hits == [] and trace_cache._cache == {}


def test_the_cache_is_bounded_and_holds_no_arrays(monkeypatch):
    monkeypatch.setattr(trace_cache, "CACHE_SIZE", 2)
    x, v = _inputs()
    for p in range(2, 6):
        ft.hvp(lambda y: fnp.sum(y ** p), (x,), (v,))  # noqa: B023
    assert len(trace_cache._cache) == 2
    for graph in trace_cache._cache.values():
        for eqn in graph.eqns:
            assert all(type(a).__name__ == "Var" or type(a) in (bool, int, float, complex)
                       for a in eqn[1])


@given(programs(), st.integers(0, 3))
def test_random_programs_cached_or_not_agree(program, seed):
    # a captured array changed in place between calls, then replaced: every call must give
    # what staging afresh gives
    trace_cache.clear()
    x, v = _inputs(seed)
    C = [np.cos(x)]

    def loss(a):
        outs = _run(program, a, fnp.sin(a) * C[0])
        return sum(fnp.sum(o * o * C[0]) for o in outs)

    with _counting_lookups() as found:
        for step in range(3):
            got = ft.hvp(loss, (x,), (v,))
            trace_cache.ENABLED = False
            try:
                want = ft.hvp(loss, (x,), (v,))
            finally:
                trace_cache.ENABLED = True
            np.testing.assert_array_equal(got, want)
            if step == 0:
                C[0] *= 0.5
            else:
                C[0] = np.exp(-x * x)
    assert found == [False, True, True]
