"""hvp on large inputs is staged, pruned and run (functrans/api.py, functrans/graph.py): the same
values as eager forward-over-reverse, on every backend, under other transforms, and eagerly
where the function's control flow needs values."""

from __future__ import annotations

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans import api, trace_cache
from functrans.core import primitive
from functrans.graph import Var, _last_uses, eval_graph, prune

BIG = api._HVP_STAGE_SIZE  # the smallest input hvp stages


def _roll_loss(x):
    """W5 of the benchmarks: sum(sin(x) roll(x, 1)) + sum(tanh(x)^2)."""
    return fnp.sum(fnp.sin(x) * fnp.roll(x, 1)) + fnp.sum(fnp.tanh(x) ** 2)


def _roll_hvp_by_hand(x, v):
    s, c, t = np.sin(x), np.cos(x), np.tanh(x)
    first = -s * np.roll(x, 1) * v + c * np.roll(v, 1) + np.roll(c * v, -1)
    second = 2 * (1 - t ** 2) * (1 - 3 * t ** 2) * v
    return first + second


def _eager_hvp(f, primals, tangents):
    return ft.jvp(ft.grad(f, argnums=tuple(range(len(primals)))), primals, tangents)[1]


def test_large_hvp_matches_the_hand_formula_and_eager(backend):
    rng = np.random.default_rng(0)
    X, V = rng.standard_normal(BIG), rng.standard_normal(BIG)
    x, v = backend.asarray(X), backend.asarray(V)
    hv = ft.hvp(_roll_loss, (x,), (v,))
    assert type(hv) is type(x)
    np.testing.assert_allclose(backend.to_numpy(hv), _roll_hvp_by_hand(X, V), rtol=1e-10,
                               atol=1e-10)
    np.testing.assert_allclose(backend.to_numpy(hv),
                               backend.to_numpy(_eager_hvp(_roll_loss, (x,), (v,))[0]),
                               rtol=1e-12, atol=1e-12)


def test_large_hvp_stages_and_small_one_does_not(monkeypatch):
    trace_cache.clear()  # a graph cached by an earlier test would be reused, not staged
    calls = []
    real = api.make_graph

    def counting(fun, *a, **k):
        calls.append(fun)
        return real(fun, *a, **k)

    monkeypatch.setattr(api, "make_graph", counting)
    rng = np.random.default_rng(1)
    small, big = rng.standard_normal(8), rng.standard_normal(BIG)
    ft.hvp(_roll_loss, (small,), (small,))
    assert calls == []
    ft.hvp(_roll_loss, (big,), (big,))
    assert len(calls) == 1


def test_several_arguments_and_float32():
    rng = np.random.default_rng(2)
    a, b = rng.standard_normal(BIG // 2), rng.standard_normal(BIG // 2)
    u, w = rng.standard_normal(BIG // 2), rng.standard_normal(BIG // 2)

    def f(x, y):
        return fnp.sum(fnp.exp(x * 0.1) * y ** 2) + fnp.sum(x * y)

    got = ft.hvp(f, (a, b), (u, w))
    want = _eager_hvp(f, (a, b), (u, w))
    for g, r in zip(got, want):
        np.testing.assert_allclose(g, r, rtol=1e-12)
    # By hand: H = [[0.01 e y^2, 0.2 e y + 1], [0.2 e y + 1, 2 e]], e = exp(0.1 x).
    e = np.exp(0.1 * a)
    np.testing.assert_allclose(got[0], 0.01 * e * b ** 2 * u + (0.2 * e * b + 1) * w)
    np.testing.assert_allclose(got[1], (0.2 * e * b + 1) * u + 2 * e * w)
    h32 = ft.hvp(_roll_loss, (a.astype(np.float32),), (u.astype(np.float32),))
    assert h32.dtype == np.float32


def test_control_flow_on_values_falls_back_to_eager():
    x = np.linspace(-1.0, 1.0, BIG)

    def f(y):
        if fnp.max(y) > 0.5:  # needs the value: cannot be staged
            return fnp.sum(y ** 3)
        return fnp.sum(y ** 4)

    np.testing.assert_allclose(ft.hvp(f, (x,), (np.ones_like(x),)), 6 * x)
    np.testing.assert_allclose(ft.hvp(f, (x * 0.1,), (np.ones_like(x),)), 12 * (x * 0.1) ** 2)
    # A boolean mask (a data-dependent shape) too.
    g = lambda y: fnp.sum(y[y > 0] ** 3)  # noqa: E731
    np.testing.assert_allclose(ft.hvp(g, (x,), (np.ones_like(x),)), np.where(x > 0, 6 * x, 0))


def test_staged_hvp_under_other_transforms():
    rng = np.random.default_rng(3)
    xs, vs = rng.standard_normal((3, BIG)), rng.standard_normal((3, BIG))
    # vmap over hvp: each example is large, so each staged pass sees batch tracers.
    out = ft.vmap(lambda x, v: ft.hvp(_roll_loss, (x,), (v,)))(xs, vs)
    np.testing.assert_allclose(out, np.stack([_roll_hvp_by_hand(x, v) for x, v in zip(xs, vs)]),
                               rtol=1e-10, atol=1e-10)
    # A derivative of an hvp (third order): d/dx <w, H(x) v>.
    x, v, w = xs[0], vs[0], vs[1]

    def contracted(y, fn):
        return fnp.sum(fn(y) * w)

    staged = ft.grad(lambda y: contracted(y, lambda z: ft.hvp(_roll_loss, (z,), (v,))))(x)
    eager = ft.grad(lambda y: contracted(y, lambda z: _eager_hvp(_roll_loss, (z,), (v,))[0]))(x)
    np.testing.assert_allclose(staged, eager, rtol=1e-10, atol=1e-10)


def test_custom_rules_inside_a_staged_hvp():
    @ft.custom_jvp
    def softplus(x):
        return fnp.log1p(fnp.exp(x))

    @softplus.defjvp
    def _(primals, tangents):
        (x,), (t,) = primals, tangents
        return softplus(x), t / (1 + fnp.exp(-x))

    x = np.linspace(-3.0, 3.0, BIG)
    v = np.ones_like(x)
    s = 1 / (1 + np.exp(-x))
    np.testing.assert_allclose(ft.hvp(lambda y: fnp.sum(softplus(y)), (x,), (v,)), s * (1 - s),
                               rtol=1e-10)


# -- prune and eval_graph ----------------------------------------------------------------------

def test_prune_drops_dead_equations_and_merges_repeats():
    def f(x):
        a = fnp.sin(x) * 2.0
        b = fnp.sin(x) * 2.0  # the same two equations again
        fnp.exp(x)  # dead
        c = x * -0.0
        d = x * 0.0  # not a repeat of c: the sign of zero differs
        return a + b + c + d

    graph = ft.make_graph(f)(np.ones(3))
    pruned = prune(graph)
    names = [e[0].name for e in pruned.eqns]
    assert "exp" not in names and names.count("sin") == 1
    assert names.count("mul") == 3  # sin*2 once, x*-0.0 and x*0.0
    x = np.asarray([0.3, -1.0, 2.0])
    np.testing.assert_allclose(pruned(x)[0], graph(x)[0])
    np.testing.assert_allclose(pruned(x)[0], 4 * np.sin(x))


def test_prune_keeps_equations_with_unhashable_parameters():
    p = primitive("test_unhashable_param")
    p.def_impl(lambda b, x, table: x * table[0])
    p.def_abstract_eval(lambda x, table: x)
    x = Var(ft.make_graph(lambda y: y)(np.ones(2)).in_vars[0].aval)
    out1, out2 = Var(x.aval), Var(x.aval)
    from functrans.graph import Graph
    graph = Graph([x], [(p, (x,), {"table": [2.0]}, out1), (p, (x,), {"table": [2.0]}, out2)],
                  [out1, out2])
    assert len(prune(graph).eqns) == 2
    np.testing.assert_allclose(eval_graph(prune(graph), [np.ones(2)])[1], [2.0, 2.0])


def test_eval_graph_drops_each_value_after_its_last_use():
    graph = ft.make_graph(lambda x: fnp.exp(fnp.sin(x)) + x)(np.ones(2))
    last = _last_uses(graph)
    # sin's result is last read by exp (equation 1); x by the add (equation 2).
    sin_out, exp_out = graph.eqns[0][3], graph.eqns[1][3]
    assert last[1] == [sin_out]
    assert set(last[2]) == {exp_out, graph.in_vars[0]}
    np.testing.assert_allclose(graph(np.ones(2))[0], np.exp(np.sin(1.0)) + 1.0)


@pytest.mark.parametrize("n", [8, BIG])
def test_hvp_of_a_function_returning_a_constant_gradient(n):
    # The gradient does not depend on x: H v is zero (the staged graph outputs a constant).
    x = np.ones(n)
    np.testing.assert_allclose(ft.hvp(lambda y: fnp.sum(y * 3.0), (x,), (x,)), np.zeros(n))


def test_prune_keeps_equations_with_parameters_equal_only_by_value_apart():
    # full_like(x, 0.0) and full_like(x, -0.0) are == but not the same equation: merged,
    # 1 / -0.0 would read +inf
    x = np.ones(3)
    g = ft.make_graph(lambda a: (fnp.full_like(a, 0.0), 1.0 / fnp.full_like(a, -0.0)))(x)
    with np.errstate(divide="ignore"):
        np.testing.assert_array_equal(eval_graph(prune(g), [x])[1], -np.inf)


def test_prune_folds_negations_and_power_of_two_scalings_into_mul_add():
    # A neg or ``z * c`` (c a power of two) read only by a mul_add becomes that term's
    # coefficient: one pass fewer, the same bits. Read elsewhere too, scaled by 3.0, or an
    # integer product: kept.
    from functrans.primitives.elementwise import mul_add

    def f(a, b, c):
        return mul_add(-a, b, c * 3.0, b, a * 2.0), mul_add(-c, b, a, -(b * 0.5), c)

    def g(a, b, c):
        n = -a
        return mul_add(n, b, c), n

    rng = np.random.default_rng(1)
    args = [rng.standard_normal(40_000) for _ in range(3)]  # (into, block by block)
    for fun, coef in [(f, [(-1.0, 1.0, 2.0), (-1.0, -0.5, 1.0)]), (g, [None])]:
        graph = ft.make_graph(fun)(*args)
        pruned = prune(graph)
        adds = [e for e in pruned.eqns if e[0].name == "mul_add"]
        assert [e[2].get("coef") for e in adds] == coef
        names = [e[0].name for e in pruned.eqns]
        assert names.count("neg") == (1 if fun is g else 0)
        assert names.count("mul") == (1 if fun is f else 0)  # c * 3.0
        for _ in range(2):  # (the second evaluation writes into kept arrays)
            for got, want in zip(pruned(*args), graph(*args)):
                np.testing.assert_array_equal(got, want)
    ints = [np.arange(4), np.arange(4), np.arange(4)]
    graph = prune(ft.make_graph(lambda a, b, c: mul_add(a * 2, b, c))(*ints))
    assert "coef" not in graph.eqns[-1][2]


def test_staged_hvp_folds_the_scalings_to_the_bit(backend):
    # W5's hvp: cos's tangent -sin and tanh(x)**2's 2 tanh(x) (with its tangent) fold into
    # the cotangent's mul_add; the values are those of the unfolded graph, bit for bit.
    rng = np.random.default_rng(2)
    x, v = (backend.asarray(rng.standard_normal(BIG)) for _ in range(2))
    graph = ft.make_graph(lambda y, t: _eager_hvp(_roll_loss, (y,), (t,)))(x, v)
    pruned = prune(graph)
    names = [e[0].name for e in pruned.eqns]
    assert "neg" not in names
    assert not any(e[0].name == "mul" and 2.0 in e[1] for e in pruned.eqns)
    assert [e[2].get("coef") for e in pruned.eqns if e[0].name == "mul_add"] == [
        (2.0, 2.0, 1.0, -1.0, 1.0)]
    for _ in range(2):
        np.testing.assert_array_equal(backend.to_numpy(pruned(x, v)[0]),
                                      backend.to_numpy(graph(x, v)[0]))
