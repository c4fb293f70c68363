"""checkpoint (rematerialisation): the same values and derivatives, to any order and under
every transform, on every backend; fewer residuals kept in reverse mode, at the price of
running the function again during the backward pass."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import functrans as ft
import functrans.numpy as fnp
from functrans.checkpointing import checkpoint_lin_p
from functrans.reverse import linearize_flat
from functrans.testing import check_grads

X = [0.5, -1.0, 2.0]


def block(p, x, n, scale):
    """A pytree in, a pytree with an integer leaf out, an int and a Python float argument."""
    h = fnp.tanh(fnp.multiply(p["w"], x) + p["b"]) * scale
    for _ in range(n):
        h = fnp.sin(h) + 0.5 * x
    return {"h": h, "count": fnp.sum(fnp.astype(h > 0.0, fnp.int64)), "s": fnp.sum(h * h)}


def loss(blk):
    def f(w, x):
        out = blk({"w": w, "b": 0.1}, x, 2, 1.5)
        out = blk({"w": w * 0.5, "b": out["s"]}, out["h"], 1, 0.5)
        return fnp.sum(out["h"] ** 2) + out["s"]
    return f


def _sines(n):
    """A block of ``n`` sines."""
    def blk(x):
        for _ in range(n):
            x = fnp.sin(x)
        return x
    return blk


def _chain(b, n=8):
    """``n`` blocks ``b`` one after another, summed."""
    def f(x):
        for _ in range(n):
            x = b(x)
        return fnp.sum(x)
    return f


def _peak(fn):
    """``(fn(), the peak of memory traced while it ran)``."""
    tracemalloc.start()
    try:
        out = fn()
        return out, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _leaves(a):
    return a if isinstance(a, tuple) else (a,)


def _close(a, b, backend):
    np.testing.assert_allclose(backend.to_numpy(a), backend.to_numpy(b), rtol=1e-12,
                               atol=1e-12)


def test_values_and_derivatives_are_unchanged(backend):
    w, x = backend.asarray([0.3, -0.7, 1.1]), backend.asarray(X)
    plain, ckpt = loss(block), loss(ft.checkpoint(block))
    _close(ckpt(w, x), plain(w, x), backend)
    for transform in (ft.grad, ft.jacfwd, ft.jacrev, ft.hessian):
        for a, b in zip(transform(ckpt, argnums=(0, 1))(w, x),
                        transform(plain, argnums=(0, 1))(w, x)):
            for u, v in zip(_leaves(a), _leaves(b)):
                assert backend.is_own(u)
                _close(u, v, backend)
    _close(ft.hvp(lambda x: ckpt(w, x), (x,), (w,)), ft.hvp(lambda x: plain(w, x), (x,), (w,)),
           backend)
    for a, b in zip(ft.jvp(ckpt, (w, x), (x, w)), ft.jvp(plain, (w, x), (x, w))):
        _close(a, b, backend)
    (_, f_jvp), (_, p_jvp) = ft.linearize(ckpt, w, x), ft.linearize(plain, w, x)
    _close(f_jvp(x, w), p_jvp(x, w), backend)
    (_, f_vjp), (_, p_vjp) = ft.vjp(ckpt, w, x), ft.vjp(plain, w, x)
    one = backend.asarray(1.0)
    for a, b in zip(f_vjp(one), p_vjp(one)):
        _close(a, b, backend)
    check_grads(ckpt, (w, x), order=2)


def test_arrays_created_on_the_inputs_device(backend):
    # Array API code makes arrays with device=x.device: staged, x.device must be the device
    # the graph will run on (the inputs'), not the default backend's.
    def f(x):
        xp = x.__array_namespace__()
        z = xp.ones(x.shape, dtype=x.dtype, device=x.device)
        return fnp.sum(fnp.sin(x) * z)

    x = backend.asarray(X)
    expected = backend.to_numpy(ft.grad(f)(x))
    for g in (ft.grad(ft.checkpoint(f)), ft.grad(ft.checkpoint(ft.checkpoint(f)))):
        got = g(x)
        assert backend.is_own(got)
        np.testing.assert_allclose(backend.to_numpy(got), expected)
    # A custom rule creating arrays on its tangent's device, under grad (whose tangents are
    # staged values).
    @ft.custom_jvp
    def double(x):
        return x * 2.0

    @double.defjvp
    def _(primals, tangents):
        t = tangents[0]
        ns = t.__array_namespace__()
        return double(primals[0]), t * ns.ones(t.shape, dtype=t.dtype, device=t.device) * 2.0
    got = ft.grad(lambda x: fnp.sum(double(x)))(x)
    assert backend.is_own(got)
    np.testing.assert_allclose(backend.to_numpy(got), 2.0)
    big = backend.asarray(np.linspace(0.0, 1.0, 1 << 15))  # large enough for hvp to stage
    got = ft.hvp(f, (big,), (big,))
    assert backend.is_own(got)
    np.testing.assert_allclose(backend.to_numpy(got), -np.sin(backend.to_numpy(big))
                               * backend.to_numpy(big), atol=1e-12)


def test_under_vmap_and_around_it(backend):
    xs = backend.asarray([[0.5, -1.0, 2.0], [0.1, 0.2, -0.3]])
    w = backend.asarray([0.3, -0.7, 1.1])
    inner = ft.checkpoint(lambda x: fnp.sin(fnp.sin(x) * w))
    plain = lambda x: fnp.sin(fnp.sin(x) * w)  # noqa: E731
    pairs = [
        (ft.vmap(ft.grad(lambda x: fnp.sum(inner(x)))),
         ft.vmap(ft.grad(lambda x: fnp.sum(plain(x))))),
        (ft.grad(lambda xs: fnp.sum(ft.vmap(inner)(xs))),
         ft.grad(lambda xs: fnp.sum(ft.vmap(plain)(xs)))),
        (ft.vmap(ft.checkpoint(ft.grad(lambda x: fnp.sum(plain(x))))),
         ft.vmap(ft.grad(lambda x: fnp.sum(plain(x))))),
    ]
    for f, g in pairs:
        _close(f(xs), g(xs), backend)


def test_nested_and_higher_order(backend):
    x = backend.asarray(0.7)
    f = ft.checkpoint(ft.checkpoint(lambda x: fnp.tanh(fnp.sin(x) * x)))
    g = lambda x: fnp.tanh(fnp.sin(x) * x)  # noqa: E731
    d3f, d3g = (ft.grad(ft.grad(ft.grad(h)))(x) for h in (f, g))
    _close(d3f, d3g, backend)
    _close(ft.grad(ft.grad(lambda x: ft.checkpoint(ft.grad(g))(x) * x))(x),
           ft.grad(ft.grad(lambda x: ft.grad(g)(x) * x))(x), backend)


def test_reverse_mode_replays_the_operations_and_keeps_only_the_inputs():
    calls = []

    def f(x, y):
        calls.append(1)
        return fnp.sin(fnp.sin(x) * y)
    ck = ft.checkpoint(f)
    x, y = np.array([0.5, 1.0]), np.array([2.0, 3.0])
    for run in (lambda: ck(x, y), lambda: ft.jvp(ck, (x, y), (x, y)),
                lambda: ft.grad(lambda x, y: fnp.sum(ck(x, y)), argnums=(0, 1))(x, y)):
        calls.clear()
        run()
        assert len(calls) == 1  # staged once per call; the recomputation replays the graph
    g = ft.grad(lambda x, y: fnp.sum(ck(x, y)), argnums=(0, 1))(x, y)
    for a, b in zip(g, ft.grad(lambda x, y: fnp.sum(f(x, y)), argnums=(0, 1))(x, y)):
        np.testing.assert_allclose(a, b, rtol=1e-14)
    # The linear graph: one equation, whose only residuals are the inputs (no sin, cos...).
    (_,), graph = linearize_flat(lambda xs: [ck(*xs)], [x, y])
    assert [e[0] for e in graph.eqns] == [checkpoint_lin_p]
    saved = graph.eqns[0][1][graph.eqns[0][2]["n_tan"]:]
    assert len(saved) == 2 and saved[0] is x and saved[1] is y


def test_what_the_function_closes_over(backend):
    """Captured arrays, and tracers of the transforms around the call (the parameters being
    differentiated), become inputs of the recorded graph: their derivatives flow, and the
    recomputation never meets a tracer whose transform has returned."""
    x, w = backend.asarray(X), backend.asarray(0.7)
    c = backend.asarray([1.0, 2.0, 3.0])

    def loss(blockify):
        def f(w, x):
            h = blockify(lambda x: fnp.sin(fnp.multiply(x, w)) * c)(x)
            h = blockify(lambda h: fnp.tanh(h + w))(h)
            return fnp.sum(h * h)
        return f
    plain, ck = loss(lambda g: g), loss(ft.checkpoint)
    for argnums in (0, 1, (0, 1)):
        a, b = ft.grad(ck, argnums)(w, x), ft.grad(plain, argnums)(w, x)
        for u, v in zip(_leaves(a), _leaves(b)):
            _close(u, v, backend)
    _close(ft.hessian(ck)(w, x), ft.hessian(plain)(w, x), backend)
    for u, v in zip(ft.jvp(ck, (w, x), (w, x)), ft.jvp(plain, (w, x), (w, x))):
        _close(u, v, backend)
    ws = backend.asarray([0.7, -0.2])
    _close(ft.vmap(ft.grad(ck), in_axes=(0, None))(ws, x),
           ft.vmap(ft.grad(plain), in_axes=(0, None))(ws, x), backend)


def test_python_scalars_steer_and_array_values_cannot():
    def f(x, n, flag):
        for _ in range(n):
            x = fnp.sin(x)
        return x * 2.0 if flag else x
    ck = ft.checkpoint(f)
    x = np.array([0.5, 1.0])
    for n, flag in ((1, True), (3, False)):
        np.testing.assert_allclose(ft.grad(lambda x: fnp.sum(ck(x, n, flag)))(x),
                                   ft.grad(lambda x: fnp.sum(f(x, n, flag)))(x), rtol=1e-14)
    branchy = ft.checkpoint(lambda x: fnp.sin(x) if fnp.sum(x) > 0 else x)
    with pytest.raises(ft.errors.ConcretizationError, match="checkpoint of <lambda>: the "
                       "function is staged"):
        branchy(x)


def test_an_argument_without_a_tangent_is_left_alone():
    ck = ft.checkpoint(lambda x, k, c: fnp.sin(x) * k + c)
    x = np.array([0.5, 1.0])
    g = ft.grad(lambda x: fnp.sum(ck(x, np.array([2, 3]), 1.5)))(x)
    np.testing.assert_allclose(g, np.cos(x) * [2, 3], rtol=1e-14)


def test_peak_memory_of_a_long_chain_falls():
    blk, chain = _sines(8), _chain
    x = np.random.default_rng(0).standard_normal(50_000)  # 400 KB per array
    grads, peaks = zip(*[_peak(lambda: ft.grad(chain(b))(x))
                         for b in (blk, ft.checkpoint(blk))])
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-13)
    # Plain: 64 residual arrays; checkpointed: 8 block inputs plus one block's 8.
    assert peaks[1] * 2.5 < peaks[0], peaks


def test_staged_the_function_appears_twice():
    f = ft.checkpoint(lambda x: fnp.sin(fnp.sin(x)))
    plain = ft.make_graph(ft.grad(lambda x: fnp.sum(fnp.sin(fnp.sin(x)))))(np.ones(3))
    ck = ft.make_graph(ft.grad(lambda x: fnp.sum(f(x))))(np.ones(3))
    count = lambda g: sum(e[0].name in ("sin", "sin_cos") for e in g.eqns)  # noqa: E731
    assert count(ck) > count(plain)


def test_not_a_function():
    with pytest.raises(TypeError, match="checkpoint expects a function; got ndarray"):
        ft.checkpoint(np.ones(2))
    assert ft.remat is ft.checkpoint


# -- found in review ----------------------------------------------------------------------------


def test_custom_rules_inside_are_kept(backend):
    """custom_jvp/custom_vjp calls inside a checkpointed function are recorded as calls, so
    their rules still apply when the graph is replayed under a transform."""
    @ft.custom_jvp
    def f(x):
        return fnp.sin(x)

    @f.defjvp
    def f_jvp(p, t):
        return f(p[0]), 7.0 * t[0]

    @ft.custom_vjp
    def g(x):
        return fnp.sin(x)
    g.defvjp(lambda x: (g(x), None), lambda r, ct: (5.0 * ct,))
    x = backend.asarray([0.3, 0.5])
    for h, slope in ((f, 7.0), (g, 5.0)):
        loss = lambda x: fnp.sum(h(x))  # noqa: E731
        _close(ft.grad(ft.checkpoint(loss))(x), backend.asarray([slope, slope]), backend)
        _close(ft.vmap(ft.grad(ft.checkpoint(loss)))(fnp.stack([x, x])),
               backend.asarray([[slope, slope]] * 2), backend)
    _close(ft.jvp(ft.checkpoint(lambda x: fnp.sum(f(x))), (x,), (x,))[1],
           backend.asarray(7.0 * 0.8), backend)


def test_nested_checkpoints_each_save_memory():
    blk = _sines(16)

    def outer(inner):
        def f(x):
            for _ in range(16):
                x = inner(x)
            return x
        return ft.checkpoint(f)

    x = np.random.default_rng(0).standard_normal(20_000)
    def run(o):
        return _peak(lambda: ft.grad(lambda x: fnp.sum(o(o(x))))(x))
    grads, peaks = zip(*[run(outer(inner)) for inner in (blk, ft.checkpoint(blk))])
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-13)
    assert peaks[1] * 4 < peaks[0], peaks  # the inner checkpoints are not flattened away


def test_vmap_keeps_unbatched_arguments_and_outputs_unbatched():
    f = lambda x, w: (fnp.sin(x * w), fnp.sum(w))  # noqa: E731
    X, v = np.ones((2, 3)), np.arange(3.0)
    a = ft.vmap(ft.checkpoint(f), in_axes=(0, None), out_axes=(0, None))(X, v)
    b = ft.vmap(f, in_axes=(0, None), out_axes=(0, None))(X, v)
    for u, w in zip(a, b):
        np.testing.assert_allclose(u, w, rtol=1e-15)
    # The weights are not broadcast over the batch: the gradient's memory stays that of the
    # plain function's, not B times it.
    B, n = 64, 128
    Xb = np.random.default_rng(0).standard_normal((B, n))
    W = np.random.default_rng(1).standard_normal((n, n)) / 16
    blk = lambda x, W: fnp.tanh(x @ W)  # noqa: E731
    def run(b):
        return _peak(lambda: ft.grad(lambda W: fnp.sum(ft.vmap(b, in_axes=(0, None))(Xb, W)))(W))
    grads, peaks = zip(*[run(b) for b in (blk, ft.checkpoint(blk))])
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-12)
    assert peaks[1] < 3 * peaks[0], peaks


def test_grad_of_grad_rematerialises_at_both_levels():
    """Under a transform of the backward pass (grad of grad), the pullback of a checkpointed
    block is checkpointed in turn, so the second level keeps only its inputs too."""
    blk, chain = _sines(8), _chain
    rng = np.random.default_rng(0)
    x, v = rng.standard_normal(20_000), rng.standard_normal(20_000)
    grads, peaks = zip(*[_peak(lambda: ft.grad(lambda x: fnp.sum(ft.grad(chain(b))(x) * v))(x))
                         for b in (blk, ft.checkpoint(blk))])
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-12, atol=1e-14)
    assert peaks[1] * 1.8 < peaks[0], peaks


def test_forward_mode_staged_by_make_graph():
    ck = ft.checkpoint(lambda x: fnp.sin(fnp.sin(x)))
    x = np.array([0.3, 0.5])
    expected = ft.jvp(lambda x: fnp.sin(fnp.sin(x)), (x,), (x,))[1]
    for f in (lambda x: ft.jvp(ck, (x,), (x,))[1], lambda x: ft.linearize(ck, x)[1](x)):
        (out,) = ft.make_graph(f)(x)(x)
        np.testing.assert_allclose(out, expected, rtol=1e-15)


def test_python_scalar_outputs_and_non_array_arguments():
    x = np.array([0.1, 0.2])
    f = lambda x: (fnp.sin(x), 2.0)  # noqa: E731
    for a, b in zip(ft.jacrev(ft.checkpoint(f))(x), ft.jacrev(f)(x)):
        np.testing.assert_allclose(a, b, rtol=1e-15)
    ck = ft.checkpoint(lambda x, mode, *, s=1.0: (fnp.sin(x) if mode == "sin" else x) * s)
    np.testing.assert_allclose(ft.grad(lambda x: fnp.sum(ck(x, "sin", s=2.0)))(x),
                               2.0 * np.cos(x), rtol=1e-15)


def test_assigning_into_an_argument_is_an_error():
    def f(x):
        x[0] = 5.0  # the caller's array would change without checkpoint
        return x * 2.0
    with pytest.raises(TypeError, match="assigns into one of its array arguments"):
        ft.grad(lambda x: fnp.sum(ft.checkpoint(f)(x)))(np.array([1.0, 2.0]))

    def g(x):
        y = fnp.asarray(x, copy=True)
        y[0] = 5.0
        return y * 2.0
    np.testing.assert_allclose(ft.grad(lambda x: fnp.sum(ft.checkpoint(g)(x)))(
        np.array([1.0, 2.0])), [0.0, 2.0])


# -- found in the second review ---------------------------------------------------------------


def test_second_derivatives_through_custom_rules_are_unchanged():
    """The primal outputs computed for reverse mode go through a custom_vjp's fwd (and a
    custom_jvp rule's primal output), as without checkpoint, so an enclosing transform
    differentiates the same operations (jvp of grad, grad of grad)."""
    s = ft.custom_vjp(lambda x: x * 2.0)
    s.defvjp(lambda x: (x * 2.0, None), lambda r, ct: (ct * 3.0,))

    @ft.custom_jvp
    def soft(x):
        return fnp.log(1.0 + fnp.exp(x))
    soft.defjvp(lambda p, t: (fnp.log(1.0 + fnp.exp(p[0])), t[0] * 0.5))
    x = np.array([0.15, 0.2, -0.3])
    for body in (lambda x: fnp.sin(s(x)), lambda x: fnp.sin(soft(x) * 3.0)):
        for blk in (ft.checkpoint(body), ft.checkpoint(ft.checkpoint(body))):
            f, g = (lambda b: lambda x: fnp.sum(b(x) ** 2))(blk), lambda x: fnp.sum(body(x) ** 2)
            np.testing.assert_allclose(ft.jvp(ft.grad(f), (x,), (x,))[1],
                                       ft.jvp(ft.grad(g), (x,), (x,))[1], rtol=1e-12)
            np.testing.assert_allclose(ft.hessian(f)(x), ft.hessian(g)(x), rtol=1e-12)


def test_python_scalar_results_of_inner_calls_stay_python_scalars():
    inner = lambda x: (fnp.sin(x), 2.0, 3)  # noqa: E731

    @ft.custom_jvp
    def cj(x):
        return fnp.sin(x), 2.0, 3
    cj.defjvp(lambda p, t: (cj(p[0]), (fnp.cos(p[0]) * t[0], 0.0, 0)))

    def outer(i):
        def f(x):
            y, s, n = i(x)
            for _ in range(n):  # an int result steers control flow
                y = fnp.sin(y)
            return y * s  # a float result is weakly typed: float32 stays float32
        return f
    x = np.array([0.3, 0.5], dtype=np.float32)
    for i in (ft.checkpoint(inner), cj):
        out = ft.checkpoint(outer(i))(x)
        assert out.dtype == np.float32
        np.testing.assert_allclose(out, outer(inner)(x), rtol=1e-6)


def test_a_custom_function_closing_over_a_traced_value_is_a_clear_error():
    def f(x, y):
        @ft.custom_jvp
        def g(x):
            return fnp.sin(x) * y  # y: an argument of the checkpointed function
        g.defjvp(lambda p, t: (g(p[0]), fnp.cos(p[0]) * y * t[0]))
        return fnp.sum(g(x))
    x = np.array([0.3, 0.5])
    with pytest.raises(ft.errors.CustomRuleError, match="closes over a value"):
        ft.checkpoint(f)(x, x)


def test_dtypes_and_non_array_results_pass_as_they_are():
    x = np.array([0.3, 0.5])
    f = lambda x, dt, s: (fnp.astype(fnp.sin(x), dt), s, None)  # noqa: E731
    for dt in (np.float32, np.dtype("float32"), fnp.float32):
        y, s, n = ft.checkpoint(f)(x, dt, "tag")
        assert y.dtype == np.float32 and s == "tag" and n is None


# -- random programs --------------------------------------------------------------------------

UNARY = {"sin": fnp.sin, "tanh": fnp.tanh, "scale": lambda a: a * 0.75,
         "roll": lambda a: fnp.roll(a, 1), "square": lambda a: a * a,
         "flip": lambda a: a[::-1]}
BINARY = {"add": lambda a, b: a + b, "mul": lambda a, b: a * b,
          "mix": lambda a, b: fnp.sin(a) * b + a * fnp.tanh(b)}


@st.composite
def programs(draw):
    """Steps reading earlier values by index (0 and 1 are the inputs), cut into segments,
    each of which may be checkpointed, and whether one segment nests inside a checkpoint of
    its own."""
    steps = []
    for k in range(draw(st.integers(2, 8))):
        n = 2 + k
        if draw(st.booleans()):
            steps.append((draw(st.sampled_from(sorted(UNARY))), draw(st.integers(0, n - 1))))
        else:
            steps.append((draw(st.sampled_from(sorted(BINARY))), draw(st.integers(0, n - 1)),
                          draw(st.integers(0, n - 1))))
    cuts = sorted(draw(st.sets(st.integers(1, len(steps) - 1), max_size=3)))
    bounds = list(zip([0] + cuts, cuts + [len(steps)]))
    wrap = [draw(st.sampled_from(["plain", "checkpoint", "nested"])) for _ in bounds]
    return steps, bounds, wrap


def _run(program, a, b, checkpointed):
    steps, bounds, wrap = program
    vals = [a, b]
    for (lo, hi), how in zip(bounds, wrap):
        def block(*vs, lo=lo, hi=hi):
            vs = list(vs)
            for op, *idx in steps[lo:hi]:
                vs.append((UNARY if len(idx) == 1 else BINARY)[op](*[vs[i] for i in idx]))
            return vs[2 + lo:]
        if checkpointed and how != "plain":
            block = ft.checkpoint(block)
            if how == "nested":
                block = ft.checkpoint(block)
        vals += list(block(*vals))
    return vals[-1] + 0.5 * vals[2]


@given(programs(), st.integers(0, 3))
def test_random_programs_checkpointed_or_not_agree(program, seed):
    rng = np.random.default_rng(seed)
    a, b, v = (rng.uniform(-1.0, 1.0, 5) for _ in range(3))

    def loss(ck):
        return lambda a, b: fnp.sum(fnp.sin(_run(program, a, b, ck)))

    for transform in (lambda ck: ft.grad(loss(ck), argnums=(0, 1))(a, b),
                      lambda ck: ft.jvp(ft.grad(loss(ck)), (a, b), (v, v))[1],
                      lambda ck: ft.jacrev(lambda a: _run(program, a, b, ck))(a),
                      lambda ck: ft.vmap(ft.grad(loss(ck)), in_axes=(0, None))(
                          np.stack([a, v]), b),
                      lambda ck: ft.grad(lambda a: fnp.sum(ft.grad(loss(ck))(a, b) * v))(a)):
        got, want = transform(True), transform(False)
        for g, w in zip(_leaves(got), _leaves(want)):
            np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-14)
