"""checkpoint's plans reused across calls (``checkpointing._intern``, ``_plan``): a call staging
the same operations on the same shapes, dtypes and library as an earlier one reuses the plan
built for it (counted by a spy on ``_build_plan``), anything else builds its own; what the
function closes over is read at every call; and every derivative equals the uncached path's
(``CACHE_SIZE = 0``) and central differences."""

from __future__ import annotations

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans import checkpointing
from functrans.checkpointing import _signature
from functrans.core import ShapedArray, get_aval
from functrans.graph import Graph, Var
from functrans.testing import check_grads

cp = ft.checkpoint_policies


@pytest.fixture
def builds(monkeypatch):
    """The plans built from here on (a list of (policy, diff) per build), with the cache
    emptied first."""
    checkpointing.clear_cache()
    made = []
    real = checkpointing._build_plan

    def spy(fun, policy, diff, out_float):
        made.append((policy, diff))
        return real(fun, policy, diff, out_float)
    monkeypatch.setattr(checkpointing, "_build_plan", spy)
    yield made
    checkpointing.clear_cache()


def layer(W, h):
    return fnp.tanh(fnp.matmul(h, W) + 0.1)


def mlp(lay):
    def f(Ws, x):
        for W in Ws:
            x = lay(W, x)
        return fnp.sum(x * x)
    return f


def _data(width=4, depth=3, batch=2, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    Ws = [(rng.standard_normal((width, width)) / np.sqrt(width)).astype(dtype)
          for _ in range(depth)]
    return Ws, rng.standard_normal((batch, width)).astype(dtype)


# -- hits and misses ---------------------------------------------------------------------------


def test_the_second_call_reuses_the_plan(builds):
    f = mlp(ft.checkpoint(layer, policy=cp.dots_saveable))
    Ws, x = _data()
    g1 = ft.grad(f)(Ws, x)
    # The three layers stage the same graph; one plan for the first, whose input x is not
    # differentiated, one for the other two.
    assert [d for _, d in builds] == [(0,), (0, 1)]
    g2 = ft.grad(f)(Ws, x)
    assert len(builds) == 2
    for a, b in zip(g1, g2):
        np.testing.assert_array_equal(a, b)
    # other values of the same shapes: still the same plan
    Ws2, x2 = _data(seed=1)
    ft.grad(f)(Ws2, x2)
    assert len(builds) == 2
    # another checkpoint of the same function and policy stages the same graph
    ft.grad(mlp(ft.checkpoint(layer, policy=cp.dots_saveable)))(Ws, x)
    assert len(builds) == 2


def test_without_a_policy_nothing_is_planned_or_cached(builds):
    ft.grad(mlp(ft.checkpoint(layer)))(*_data())
    assert builds == [] and len(checkpointing._graphs) == 0


@pytest.mark.parametrize("change", ["shape", "dtype", "policy", "differentiated input",
                                    "structure", "python number", "static flag"])
def test_a_changed_signature_builds_a_new_plan(builds, change):
    def block(W, h, n=1, scale=0.1):
        for _ in range(n):
            h = fnp.tanh(fnp.matmul(h, W) + scale)
        return h
    ck = ft.checkpoint(block, policy=cp.dots_saveable)
    Ws, x = _data()
    W = Ws[0]

    def run(ck=ck, W=W, x=x, argnums=0, **kw):
        return ft.grad(lambda W, x: fnp.sum(ck(W, x, **kw) ** 2), argnums)(W, x)
    run()
    assert len(builds) == 1
    if change == "shape":
        W5, x5 = _data(width=5)
        got, want = run(W=W5[0], x=x5), ft.grad(lambda W: fnp.sum(block(W, x5) ** 2))(W5[0])
    elif change == "dtype":
        W32, x32 = _data(dtype=np.float32)
        got = run(W=W32[0], x=x32)
        assert got.dtype == np.float32
        want = ft.grad(lambda W: fnp.sum(block(W, x32) ** 2))(W32[0])
    elif change == "policy":
        ck2 = ft.checkpoint(block, policy=cp.everything_saveable)
        ck3 = ft.checkpoint(block, policy=cp.save_only_these_names("z"))
        run(ck=ck2)
        got, want = run(ck=ck3), ft.grad(lambda W: fnp.sum(block(W, x) ** 2))(W)
        assert len(builds) == 3
        builds.pop()
    elif change == "differentiated input":
        got, want = run(argnums=1), ft.grad(lambda x: fnp.sum(block(W, x) ** 2))(x)
    elif change == "structure":
        got, want = run(n=2), ft.grad(lambda W: fnp.sum(block(W, x, n=2) ** 2))(W)
    elif change == "python number":
        got, want = run(scale=0.7), ft.grad(lambda W: fnp.sum(block(W, x, scale=0.7) ** 2))(W)
    else:  # a static non-array argument steering control flow
        def gated(W, h, act):
            return fnp.tanh(fnp.matmul(h, W)) if act == "tanh" else fnp.sin(fnp.matmul(h, W))
        ckg = ft.checkpoint(gated, policy=cp.dots_saveable)
        ft.grad(lambda W: fnp.sum(ckg(W, x, "tanh")))(W)
        builds.pop()
        got = ft.grad(lambda W: fnp.sum(ckg(W, x, "sin")))(W)
        want = ft.grad(lambda W: fnp.sum(gated(W, x, "sin")))(W)
    assert len(builds) == 2
    np.testing.assert_allclose(got, want, rtol=1e-6 if change == "dtype" else 1e-13)
    run()  # the first signature's plan is still there
    assert len(builds) == 2


def test_the_signature_tells_weak_types_and_wiring_apart():
    from functrans.primitives.elementwise import add_p
    f64 = get_aval(np.zeros(2)).dtype

    def graph(weak, swap=False, const=1.0):
        a, b = Var(ShapedArray((2,), f64, weak)), Var(ShapedArray((2,), f64))
        o1, o2 = Var(ShapedArray((2,), f64)), Var(ShapedArray((2,), f64))
        return Graph([a, b], [(add_p, [b, a] if swap else [a, b], {}, o1),
                              (add_p, [o1, const], {}, o2)], [o2])
    assert _signature(graph(False)) == _signature(graph(False))
    assert _signature(graph(True)) != _signature(graph(False))
    assert _signature(graph(False, swap=True)) != _signature(graph(False))
    assert _signature(graph(False, const=1)) != _signature(graph(False, const=1.0))
    assert _signature(graph(False, const=-0.0)) != _signature(graph(False, const=0.0))


def test_another_library_builds_its_own_plan(builds):
    torch = pytest.importorskip("torch")
    ck = ft.checkpoint(layer, policy=cp.dots_saveable)
    Ws, x = _data()
    g_np = ft.grad(mlp(ck))(Ws, x)
    g_t = ft.grad(mlp(ck))([torch.asarray(W) for W in Ws], torch.asarray(x))
    assert len(builds) == 4  # (two per library: see test_the_second_call_reuses_the_plan)
    assert type(g_t[0]) is torch.Tensor
    for a, b in zip(g_np, g_t):
        np.testing.assert_allclose(a, b.numpy(), rtol=1e-13)


def test_nested_checkpoints_reuse_their_plans(builds):
    inner = ft.checkpoint(lambda W, h: fnp.sin(fnp.matmul(h, W)), policy=cp.dots_saveable)
    outer = ft.checkpoint(lambda W, h: fnp.tanh(inner(W, h) * 2.0 + h),
                          policy=cp.nothing_saveable)
    plain = lambda W, h: fnp.tanh(fnp.sin(fnp.matmul(h, W)) * 2.0 + h)  # noqa: E731
    Ws, x = _data()
    want = ft.grad(mlp(plain))(Ws, x)
    for _ in range(2):
        for a, b in zip(ft.grad(mlp(outer))(Ws, x), want):
            np.testing.assert_allclose(a, b, rtol=1e-13)
    n = len(builds)
    assert n >= 2
    ft.grad(mlp(outer))(Ws, x)
    assert len(builds) == n


def test_the_caches_are_bounded(builds, monkeypatch):
    monkeypatch.setattr(checkpointing, "CACHE_SIZE", 3)
    ck = ft.checkpoint(layer, policy=cp.dots_saveable)
    for width in range(2, 8):
        ft.grad(mlp(ck))(*_data(width=width))
    assert len(checkpointing._graphs) == 3
    assert len(builds) == 12  # (two plans per graph: see test_the_second_call_reuses_the_plan)
    ft.grad(mlp(ck))(*_data(width=7))
    assert len(builds) == 12
    ft.grad(mlp(ck))(*_data(width=2))  # the oldest was dropped: planned again
    assert len(builds) == 14
    # plans per graph: a fresh policy object each time (each its own plan)
    Ws, x = _data()
    for k in range(checkpointing.PLANS_PER_GRAPH + 4):
        own = ft.checkpoint(layer, policy=lambda prim, *a, **p: prim.name == "matmul")
        ft.grad(mlp(own))(Ws, x)
    graph, = [g for g in checkpointing._graphs.values() if g.in_vars[0].aval.shape == (4, 4)]
    assert len(graph._plans) == checkpointing.PLANS_PER_GRAPH


def test_clear_caches_forgets_the_plans(builds):
    f = mlp(ft.checkpoint(layer, policy=cp.dots_saveable))
    ft.grad(f)(*_data())
    ft.clear_caches()
    assert len(checkpointing._graphs) == 0
    ft.grad(f)(*_data())
    assert len(builds) == 4


# -- the data is never cached ------------------------------------------------------------------


def test_what_the_function_closes_over_is_read_at_every_call(builds):
    rng = np.random.default_rng(3)
    state = {"b": rng.standard_normal(4), "s": 0.5}
    c = rng.standard_normal((4, 4))

    def block(W, h):  # closes over state["b"] (rebound), c (changed in place), state["s"]
        return fnp.tanh(fnp.matmul(h, W) * state["s"] + state["b"]) @ c

    def plain_loss(W, x):
        return fnp.sum(block(W, x) ** 2)
    ck = ft.checkpoint(block, policy=cp.dots_saveable)
    loss = lambda W, x: fnp.sum(ck(W, x) ** 2)  # noqa: E731
    Ws, x = _data()
    W = Ws[0]
    first = ft.grad(loss)(W, x)
    np.testing.assert_allclose(first, ft.grad(plain_loss)(W, x), rtol=1e-13)
    state["b"] = rng.standard_normal(4)  # a new array of the same shape
    c *= -2.0  # in place
    second = ft.grad(loss)(W, x)
    assert len(builds) == 1  # the plan was reused ...
    assert not np.allclose(second, first)  # ... the values were not
    np.testing.assert_allclose(second, ft.grad(plain_loss)(W, x), rtol=1e-13)
    # against central differences too, on the cached path
    h, e = 1e-6, np.zeros_like(W)
    e[1, 2] = 1.0
    fd = (loss(W + h * e, x) - loss(W - h * e, x)) / (2 * h)
    np.testing.assert_allclose(second[1, 2], fd, rtol=1e-6)
    state["s"] = 1.5  # a Python number: part of the staged operations, so a new plan
    third = ft.grad(loss)(W, x)
    assert len(builds) == 2
    np.testing.assert_allclose(third, ft.grad(plain_loss)(W, x), rtol=1e-13)


def test_closed_over_values_of_an_enclosing_transform(builds):
    # the block closes over a tracer of the grad around it: a fresh one at each call
    Ws, x = _data()

    def loss(s, W):
        ck = ft.checkpoint(lambda h: fnp.tanh(fnp.matmul(h, W) * s), policy=cp.dots_saveable)
        return fnp.sum(ck(ck(x)) ** 2)

    def plain(s, W):
        f = lambda h: fnp.tanh(fnp.matmul(h, W) * s)  # noqa: E731
        return fnp.sum(f(f(x)) ** 2)
    for s in (0.5, 1.5, -0.25):
        got = ft.grad(loss, (0, 1))(np.asarray(s), Ws[0])
        want = ft.grad(plain, (0, 1))(np.asarray(s), Ws[0])
        for a, b in zip(got, want):
            np.testing.assert_allclose(a, b, rtol=1e-13)
    assert len(builds) == 2  # (the first call's h, x, is not differentiated: its own plan)


def test_a_function_calling_a_custom_rule_is_planned_at_every_call(builds):
    @ft.custom_jvp
    def soft(x):
        return fnp.log1p(fnp.exp(x))
    soft.defjvp(lambda p, t: (soft(p[0]), t[0] / (1.0 + fnp.exp(-p[0]))))
    ck = ft.checkpoint(lambda W, h: soft(fnp.matmul(h, W)), policy=cp.dots_saveable)
    Ws, x = _data()
    for _ in range(2):
        got = ft.grad(mlp(ck))(Ws, x)
        want = ft.grad(mlp(lambda W, h: fnp.log1p(fnp.exp(fnp.matmul(h, W)))))(Ws, x)
        for a, b in zip(got, want):
            np.testing.assert_allclose(a, b, rtol=1e-13)
    assert len(builds) == 2 * len(Ws)  # (its graph is not cached: the custom rule is opaque)


# -- the same derivatives as the uncached path, and as central differences ---------------------


def _transforms(f, Ws, x, v):
    """Everything checked: value, grad, vjp, jvp, hessian, vmap(grad), jit(grad), grad of
    grad, each a list of arrays."""
    W0 = Ws[0]

    def f0(W):
        return f([W, *Ws[1:]], x)
    out = {"value": [f(Ws, x)], "grad": list(ft.grad(f)(Ws, x))}
    y, pull = ft.vjp(lambda W, x: f([W, *Ws[1:]], x), W0, x)
    out["vjp"] = list(pull(np.asarray(1.5)))
    out["jvp"] = list(ft.jvp(f0, (W0,), (v,)))
    out["hessian"] = [ft.hessian(f0)(W0)]
    xs = np.stack([x, -0.5 * x, x ** 2])
    out["vmap(grad)"] = list(ft.vmap(ft.grad(f), in_axes=(None, 0))(Ws, xs))
    out["jit(grad)"] = list(ft.jit(ft.grad(f))(Ws, x))
    out["grad of grad"] = [ft.grad(lambda W: fnp.sum(ft.grad(f0)(W) * v))(W0)]
    return out


@pytest.mark.parametrize("policy", ["dots_saveable", "save z", "everything_saveable",
                                    "own: tanh"])
def test_every_transform_equals_the_uncached_path(builds, monkeypatch, policy):
    pol = {"dots_saveable": cp.dots_saveable, "save z": cp.save_only_these_names("z"),
           "everything_saveable": cp.everything_saveable,
           "own: tanh": lambda prim, *a, **p: prim.name == "tanh"}[policy]

    def block(W, h):
        z = ft.ad_checkpoint.checkpoint_name(fnp.matmul(h, W), "z")
        return fnp.tanh(fnp.sin(z) + z * 0.5)
    f = mlp(ft.checkpoint(block, policy=pol))
    Ws, x = _data()
    v = np.random.default_rng(5).standard_normal(Ws[0].shape)
    monkeypatch.setattr(checkpointing, "CACHE_SIZE", 0)
    uncached = _transforms(f, Ws, x, v)
    n_uncached = len(builds)
    monkeypatch.setattr(checkpointing, "CACHE_SIZE", 128)
    _transforms(f, Ws, x, v)  # (fills the cache)
    n_first = len(builds) - n_uncached
    cached = _transforms(f, Ws, x, v)
    assert len(builds) == n_uncached + n_first  # (the third round planned nothing)
    assert n_first < n_uncached
    plain = _transforms(mlp(block), Ws, x, v)
    for name in uncached:
        for a, b, c in zip(cached[name], uncached[name], plain[name]):
            np.testing.assert_array_equal(a, b, err_msg=name)
            np.testing.assert_allclose(a, c, rtol=1e-12, atol=1e-14, err_msg=name)


def test_cached_plans_against_central_differences_to_second_order(builds):
    ck = ft.checkpoint(layer, policy=cp.dots_saveable)
    Ws, x = _data(width=3, depth=2)
    f = mlp(ck)
    check_grads(f, (Ws, x), order=2, modes=("fwd", "rev"))
    n = len(builds)
    check_grads(f, (Ws, x), order=2, modes=("fwd", "rev"))  # on the cached plans
    assert len(builds) == n


def test_pullbacks_of_earlier_calls_still_pending(builds):
    # two vjps share the cached plan while both pullbacks wait; each pulls its own values
    f = mlp(ft.checkpoint(layer, policy=cp.dots_saveable))
    (Ws1, x1), (Ws2, x2) = _data(seed=1), _data(seed=2)
    y1, pull1 = ft.vjp(f, Ws1, x1)
    y2, pull2 = ft.vjp(f, Ws2, x2)
    assert len(builds) == 1  # (x differentiated too: every layer has the same plan)
    plain = mlp(layer)
    for pull, Ws, x in ((pull2, Ws2, x2), (pull1, Ws1, x1)):
        got = pull(np.asarray(1.0))[0]
        for a, b in zip(got, ft.grad(plain)(Ws, x)):
            np.testing.assert_allclose(a, b, rtol=1e-13)


def test_control_flow_inside_the_block(builds):
    import functrans.lax as lax
    state = {"c": np.array([0.5, -1.0, 2.0, 0.25])}

    def block(W, h):
        z = fnp.matmul(h, W)
        k = lax.cond(fnp.sum(z) > 0, lambda z: fnp.sin(z) * state["c"], lambda z: fnp.cos(z), z)
        return lax.scan(lambda a, r: (a * fnp.tanh(r), a), fnp.ones(4), k)[1] + h
    ck = ft.checkpoint(block, policy=cp.dots_saveable)
    Ws, x = _data()
    for step in range(3):
        got = ft.grad(mlp(ck))(Ws, x)
        want = ft.grad(mlp(block))(Ws, x)
        for a, b in zip(got, want):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
        if step == 0:
            n = len(builds)
        state["c"] = state["c"] * -3.0  # read afresh by the branch at every call
    assert len(builds) == n  # (the branches and the body are described too: reused)
