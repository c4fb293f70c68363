"""checkpoint's policies (``functrans.checkpoint_policies``) and ``checkpoint_name``: the
derivatives are those of the function without checkpoint under every policy, transform and
backend; what the policy marks saveable is kept from the forward pass and not recomputed by
the backward pass (counted primitive by primitive), so the residuals and the peak memory grow
from ``nothing_saveable`` to ``everything_saveable``."""

from __future__ import annotations

import doctest
import tracemalloc
from collections import Counter

import numpy as np
import pytest

import functrans as ft
import functrans.ad_checkpoint
import functrans.numpy as fnp
from functrans import buffers
from functrans.ad_checkpoint import checkpoint_name
from functrans.checkpointing import checkpoint_lin_p
from functrans.core import Interpreter, current_interpreter, reset_current, set_current
from functrans.reverse import linearize_flat

cp = ft.checkpoint_policies

POLICIES = {
    "none": None,
    "nothing_saveable": cp.nothing_saveable,
    "everything_saveable": cp.everything_saveable,
    "dots_saveable": cp.dots_saveable,
    "checkpoint_dots": cp.checkpoint_dots,
    "dots_with_no_batch_dims_saveable": cp.dots_with_no_batch_dims_saveable,
    "save_only_these_names": cp.save_only_these_names("h", "e"),
    "save_any_names_but_these": cp.save_any_names_but_these("h"),
    "save_anything_except_these_names": cp.save_anything_except_these_names("e"),
    "save_from_both_policies": cp.save_from_both_policies(cp.save_only_these_names("e"),
                                                          cp.dots_saveable),
    "offload_dot_with_no_batch_dims": cp.offload_dot_with_no_batch_dims("device",
                                                                        "pinned_host"),
    "save_and_offload_only_these_names": cp.save_and_offload_only_these_names(
        names_which_can_be_saved=["h"], names_which_can_be_offloaded=["e"],
        offload_src="device", offload_dst="pinned_host"),
    "own: elementwise": lambda prim, *avals, **params: prim.name in ("sin", "exp", "tanh"),
}


def block(W, x):
    """Products, named values, elementwise functions and a reduction: something for every
    policy to keep or not."""
    # (fnp.matmul: a strict array @ a tracer is array-api-strict issue #188)
    h = checkpoint_name(fnp.tanh(fnp.matmul(x, W)), "h")
    e = checkpoint_name(fnp.exp(fnp.sin(h) * 0.5), "e")
    return fnp.tensordot(e * h, W, axes=1) + fnp.sum(e, axis=0)


def loss(blk):
    def f(W, x):
        y = blk(W, x)
        y = blk(W * 0.5, y)
        return fnp.sum(y * y)
    return f


def _close(a, b, backend, rtol=1e-12):
    np.testing.assert_allclose(backend.to_numpy(a), backend.to_numpy(b), rtol=rtol,
                               atol=1e-12)


def _same_higher_order(ck, plain, W, x, v, backend):
    """grad of grad (along ``v``), jit of grad and vmap of grad of the checkpointed ``ck``
    equal ``plain``'s; returns the batch of ``x`` used."""
    def grad_grad(f):
        return ft.grad(lambda W: fnp.sum(ft.grad(f)(W, x) * v))(W)
    _close(grad_grad(ck), grad_grad(plain), backend)
    _close(ft.jit(ft.grad(ck))(W, x), ft.grad(plain)(W, x), backend)
    xs = fnp.stack([x, x * -0.5])
    _close(ft.vmap(ft.grad(ck), in_axes=(None, 0))(W, xs),
           ft.vmap(ft.grad(plain), in_axes=(None, 0))(W, xs), backend)
    return xs


def _leaves(a):
    return a if isinstance(a, tuple) else (a,)


class _Count(Interpreter):
    """Counts the primitives that reach evaluation (each is one run of its ``impl``)."""

    __slots__ = ("n",)

    def __init__(self, parent):
        super().__init__(parent)
        self.n = Counter()

    def process(self, prim, args, params):
        self.n[prim.name] += 1
        return self.parent.process(prim, args, params)


def _counted(fn):
    """``(fn(), Counter of the primitives evaluated while it ran)``."""
    c = _Count(current_interpreter())
    token = set_current(c)
    try:
        return fn(), c.n
    finally:
        reset_current(token)


def _passes(f, *args):
    """The primitives evaluated by the forward pass of ``vjp(f, *args)`` and by its backward
    pass, counted apart."""
    (out, f_vjp), fwd = _counted(lambda: ft.vjp(f, *args))
    _, bwd = _counted(lambda: f_vjp(fnp.ones_like(out)))
    return fwd, bwd


def _kept(f, *args):
    """The residuals of the checkpointed calls in ``f``'s linearization beyond their inputs
    (the values the policies kept), in the order of the calls."""
    _, graph = linearize_flat(lambda xs: [f(*xs)], list(args))
    out = []
    for prim, inputs, params, _ in graph.eqns:
        if prim is checkpoint_lin_p:
            out.append(inputs[params["n_tan"] + len(params["fun"].in_vars):])
    return out


# -- the derivatives do not change ------------------------------------------------------------


@pytest.mark.parametrize("policy", POLICIES, ids=str)
def test_derivatives_are_the_plain_functions_under_every_policy(backend, policy):
    rng = np.random.default_rng(0)
    W = backend.asarray(rng.standard_normal((3, 3)) * 0.5)
    x = backend.asarray(rng.standard_normal((2, 3)))
    plain = loss(block)
    ck = loss(ft.checkpoint(block, policy=POLICIES[policy]))
    _close(ck(W, x), plain(W, x), backend)
    for argnums in (0, 1, (0, 1)):
        for a, b in zip(_leaves(ft.grad(ck, argnums)(W, x)),
                        _leaves(ft.grad(plain, argnums)(W, x))):
            _close(a, b, backend)
    (ya, pa), (yb, pb) = ft.vjp(ck, W, x), ft.vjp(plain, W, x)
    for a, b in zip(pa(ya), pb(yb)):
        _close(a, b, backend)
    inner = ft.checkpoint(block, policy=POLICIES[policy])
    _close(ft.jacrev(lambda W: inner(W, x))(W), ft.jacrev(lambda W: block(W, x))(W), backend)
    _close(ft.hessian(ck)(W, x), ft.hessian(plain)(W, x), backend)
    xs = _same_higher_order(ck, plain, W, x, backend.asarray(rng.standard_normal((3, 3))),
                            backend)
    # (the batched block under grad: the policy goes with the staged batched function)
    _close(ft.grad(lambda W: fnp.sum(ft.vmap(inner, in_axes=(None, 0))(W, xs) ** 2))(W),
           ft.grad(lambda W: fnp.sum(ft.vmap(block, in_axes=(None, 0))(W, xs) ** 2))(W),
           backend)


@pytest.mark.parametrize("policy", ["nothing_saveable", "dots_saveable",
                                    "save_only_these_names", "everything_saveable"])
def test_third_derivatives_and_forward_mode(policy):
    def g(x):
        m = fnp.reshape(x, (1, 1)) @ fnp.reshape(fnp.sin(x), (1, 1))
        return fnp.tanh(checkpoint_name(fnp.exp(m[0, 0]), "e") * x) * checkpoint_name(x, "h")
    f = ft.checkpoint(g, policy=POLICIES[policy])
    x = 0.7
    np.testing.assert_allclose(ft.grad(ft.grad(ft.grad(f)))(x), ft.grad(ft.grad(ft.grad(g)))(x),
                               rtol=1e-12)
    np.testing.assert_allclose(ft.jacfwd(ft.jacrev(f))(x), ft.jacfwd(ft.jacrev(g))(x),
                               rtol=1e-12)
    np.testing.assert_allclose(ft.linearize(f, x)[1](2.0), ft.jvp(g, (x,), (2.0,))[1],
                               rtol=1e-13)


def test_static_argnums_prevent_cse_and_non_array_results_with_a_policy():
    def f(x, n, scale):
        for _ in range(n):
            x = fnp.sin(x @ x) * scale
        return x, "tag", 3
    ck = ft.checkpoint(f, policy=cp.dots_saveable, static_argnums=(1,), prevent_cse=False)
    x = np.random.default_rng(1).standard_normal((3, 3)) * 0.3
    assert ck(x, 2, 0.5)[1:] == ("tag", 3)
    np.testing.assert_allclose(ft.grad(lambda x: fnp.sum(ck(x, 2, 0.5)[0]))(x),
                               ft.grad(lambda x: fnp.sum(f(x, 2, 0.5)[0]))(x), rtol=1e-13)


def test_what_the_block_closes_over_custom_rules_control_flow_and_nested_checkpoints():
    import functrans.lax as lax
    c = np.array([0.5, 2.0, -1.0])

    @ft.custom_jvp
    def seven(x):
        return fnp.sin(x)
    seven.defjvp(lambda p, t: (seven(p[0]), 7.0 * t[0]))

    def body(w, x):
        h = checkpoint_name(fnp.exp(x * w) * c, "h")
        k = lax.cond(fnp.sum(x) > 0, lambda h: fnp.sin(h), lambda h: fnp.cos(h), h)
        s = lax.scan(lambda a, xi: (a * fnp.tanh(xi), a), 1.0, h)[0]
        inner = ft.checkpoint(lambda y: fnp.sin(y * w) * y, policy=cp.everything_saveable)
        return {"o": fnp.sum(inner(k) * s + seven(h)), "n": fnp.sum(fnp.astype(h > 0, int))}
    x = np.array([0.3, -0.5, 0.9])
    plain = lambda w, x: body(w, x)["o"]  # noqa: E731
    for name in ("nothing_saveable", "dots_saveable", "save_only_these_names",
                 "everything_saveable", "own: elementwise"):
        ck = lambda w, x: ft.checkpoint(body, policy=POLICIES[name])(w, x)["o"]  # noqa: E731
        for a, b in zip(ft.grad(ck, (0, 1))(0.8, x), ft.grad(plain, (0, 1))(0.8, x)):
            np.testing.assert_allclose(a, b, rtol=1e-13)
        np.testing.assert_allclose(ft.hessian(ck, 1)(0.8, x), ft.hessian(plain, 1)(0.8, x),
                                   rtol=1e-12)
        np.testing.assert_allclose(ft.grad(ft.jit(ck), 1)(0.8, x), ft.grad(plain, 1)(0.8, x),
                                   rtol=1e-13)


# -- what is kept, and what is not recomputed ----------------------------------------------------


def _mlp_block(W, x):
    return fnp.sin(fnp.tanh(x @ W) @ W)


def test_the_policy_decides_whether_the_backward_pass_recomputes_the_products():
    rng = np.random.default_rng(0)
    W, x = rng.standard_normal((4, 4)), rng.standard_normal((3, 4))
    f = lambda blk: lambda W, x: fnp.sum(blk(W, x))  # noqa: E731
    plain_fwd, plain_bwd = _passes(f(_mlp_block), W, x)
    counts = {name: _passes(f(ft.checkpoint(_mlp_block, policy=POLICIES[name])), W, x)
              for name in ("none", "nothing_saveable", "dots_saveable", "everything_saveable",
                           "dots_with_no_batch_dims_saveable")}
    for name, (fwd, bwd) in counts.items():
        assert fwd["matmul"] == plain_fwd["matmul"] == 2, name  # the forward pass runs once
    # Recomputing everything runs both products again; keeping them, only their
    # transposes run (as without checkpoint).
    for name in ("none", "nothing_saveable"):
        assert counts[name][1]["matmul"] == plain_bwd["matmul"] + 2, name
    for name in ("dots_saveable", "dots_with_no_batch_dims_saveable"):
        assert counts[name][1]["matmul"] == plain_bwd["matmul"], name
        assert counts[name][1]["tanh_slope"] == 1  # what is not kept is still recomputed
    # everything_saveable is the plain function's differentiation, primitive for primitive
    assert counts["everything_saveable"] == (plain_fwd, plain_bwd)


def test_a_batched_product_is_not_kept_by_the_no_batch_dims_policy():
    rng = np.random.default_rng(0)
    W, x = rng.standard_normal((2, 4, 4)), rng.standard_normal((2, 3, 4))
    f = lambda p: lambda W, x: fnp.sum(ft.checkpoint(_mlp_block, policy=p)(W, x))  # noqa
    _, bwd_all = _passes(f(cp.dots_saveable), W, x)
    _, bwd_unbatched = _passes(f(cp.dots_with_no_batch_dims_saveable), W, x)
    assert bwd_unbatched["matmul"] == bwd_all["matmul"] + 2
    assert [len(k) for k in _kept(f(cp.dots_saveable), W, x)] == [2]
    assert [len(k) for k in _kept(f(cp.dots_with_no_batch_dims_saveable), W, x)] == [0]


def test_save_only_these_names_keeps_exactly_the_named_values():
    def blk(x):
        e = checkpoint_name(fnp.exp(fnp.sin(x)), "e")
        n = checkpoint_name(fnp.log(e + 2.0), "n")
        return fnp.sum(fnp.log1p(n * n) * e)
    x = np.array([0.3, -1.2, 2.0])
    counts = {p: _passes(ft.checkpoint(blk, policy=cp.save_only_these_names(*p)), x)[1]
              for p in ((), ("e",), ("n",), ("e", "n"))}
    assert counts[()]["exp"] == counts[()]["log"] == 1
    assert counts[("e",)]["exp"] == 0 and counts[("e",)]["log"] == 1
    assert counts[("n",)]["exp"] == 1 and counts[("n",)]["log"] == 0
    assert counts[("e", "n")]["exp"] == counts[("e", "n")]["log"] == 0
    (kept,) = _kept(ft.checkpoint(blk, policy=cp.save_only_these_names("e")), x)
    assert len(kept) == 1
    np.testing.assert_array_equal(kept[0], np.exp(np.sin(x)))
    assert [len(k) for k in _kept(ft.checkpoint(blk, policy=cp.save_only_these_names(
        "e", "n")), x)] == [2]
    # names that are not there, and a policy keeping names only, keep nothing
    assert [len(k) for k in _kept(ft.checkpoint(blk, policy=cp.save_only_these_names("z")),
                                  x)] == [0]
    assert [len(k) for k in _kept(ft.checkpoint(blk, policy=cp.save_any_names_but_these(
        "e")), x)] == [1]


def test_what_only_a_kept_value_needed_is_not_recomputed():
    # m depends on c alone (no tangent): kept by dots_saveable, the exp computing it from c
    # is not run again either; x @ m carries a tangent, so its product's rule still runs.
    c = np.random.default_rng(2).standard_normal((3, 3)) * 0.3

    def blk(x, c):
        k = fnp.exp(c)
        m = k @ k
        return fnp.sum(fnp.sin(x @ m))
    x = np.random.default_rng(3).standard_normal((2, 3))
    for policy, exp_runs, products in ((cp.nothing_saveable, 1, 2), (cp.dots_saveable, 0, 0)):
        f = ft.checkpoint(blk, policy=policy)
        _, bwd = _passes(lambda x: f(x, c), x)
        # (plus the product of the transpose, which every policy runs)
        assert bwd["exp"] == exp_runs and bwd["matmul"] == products + 1, (policy, bwd)
        np.testing.assert_allclose(ft.grad(lambda x: f(x, c))(x),
                                   ft.grad(lambda x: blk(x, c))(x), rtol=1e-13)


def test_residuals_and_peak_memory_grow_with_what_the_policy_keeps():
    rng = np.random.default_rng(0)
    n = 192  # 288 KB per array
    Ws = [rng.standard_normal((n, n)) / np.sqrt(n) for _ in range(6)]
    X = rng.standard_normal((n, n))

    def layer(W, h):  # one product, then elementwise work with many intermediates
        z = h @ W
        return fnp.tanh(fnp.sin(z) * fnp.exp(-z * z) + fnp.cos(z) * 0.5)

    def net(blk):
        def f(X):
            h = X
            for W in Ws:
                h = blk(W, h)
            return fnp.sum(h)
        return f
    names = ("nothing_saveable", "dots_saveable", "everything_saveable")
    kept = {p: [len(k) for k in _kept(net(ft.checkpoint(layer, policy=POLICIES[p])), X)]
            for p in names}
    assert kept["nothing_saveable"] == [0] * 6 and kept["dots_saveable"] == [1] * 6
    assert kept["everything_saveable"] == []  # not checkpointed: no rematerialised call
    grads, peaks = {}, {}
    for p in ("plain",) + names:
        blk = layer if p == "plain" else ft.checkpoint(layer, policy=POLICIES[p])
        # (arrays kept for reuse by an earlier pass would be memory this one did not count)
        buffers.release()
        tracemalloc.start()
        try:
            grads[p] = ft.grad(net(blk))(X)
            peaks[p] = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        np.testing.assert_allclose(grads[p], grads["plain"], rtol=1e-12)
    assert peaks["nothing_saveable"] < peaks["dots_saveable"] < peaks["plain"], peaks
    assert abs(peaks["everything_saveable"] - peaks["plain"]) < 0.1 * peaks["plain"], peaks


def test_grad_of_grad_keeps_what_the_policy_says_at_both_levels():
    rng = np.random.default_rng(0)
    W, x = rng.standard_normal((4, 4)) * 0.5, rng.standard_normal((3, 4))

    def gg(policy):
        blk = ft.checkpoint(_mlp_block, policy=policy)
        inner = ft.grad(lambda W: fnp.sum(blk(W, x)))
        return _passes(lambda W: fnp.sum(inner(W) ** 2), W)
    (_, nothing), (_, dots) = gg(cp.nothing_saveable), gg(cp.dots_saveable)
    assert dots["matmul"] < nothing["matmul"], (dots, nothing)


# -- bad policies, checkpoint_name ---------------------------------------------------------------


def test_a_policy_that_is_not_a_function_is_refused_at_once():
    with pytest.raises(TypeError, match="policy must be None or a function"):
        ft.checkpoint(fnp.sin, policy="dots_saveable")
    with pytest.raises(TypeError, match="policy must be None or a function"):
        functrans.checkpointing.checkpoint(fnp.sin, policy=3)
    with pytest.raises(TypeError, match="save_from_both_policies takes two policies"):
        cp.save_from_both_policies(cp.dots_saveable, None)
    with pytest.raises(TypeError, match="names are strings"):
        cp.save_only_these_names(3)


@pytest.mark.parametrize("answer", [None, 1, "yes", np.array([True, False])], ids=repr)
def test_a_policy_returning_anything_but_a_bool_is_a_clear_error(answer):
    def my_policy(prim, *avals, **params):
        return answer
    f = ft.checkpoint(lambda x: fnp.sum(fnp.sin(x)), policy=my_policy)
    x = np.array([0.5, 1.0])
    assert float(f(x)) == pytest.approx(float(np.sum(np.sin(x))))  # (not asked: no grad)
    with pytest.raises(TypeError, match=r"the policy 'my_policy' returned .* for the "
                                        r"primitive 'sin'; a policy answers True"):
        ft.grad(f)(x)


def test_a_numpy_bool_answer_and_a_policy_seeing_avals_and_params():
    seen = []

    def policy(prim, *avals, **params):
        seen.append((prim.name, tuple(tuple(a.shape) for a in avals), params))
        return np.bool_(prim.name == "tensordot")
    x = np.ones((2, 3))
    f = ft.checkpoint(lambda x: fnp.sum(fnp.tensordot(x, x.T, axes=1)), policy=policy)
    np.testing.assert_allclose(ft.grad(f)(x), ft.grad(lambda x: fnp.sum(
        fnp.tensordot(x, x.T, axes=1)))(x))
    assert ("tensordot", ((2, 3), (3, 2)), {"a1": (1,), "a2": (0,)}) in seen
    assert [len(k) for k in _kept(f, x)] == [1]


def test_checkpoint_name_is_the_identity_everywhere():
    x = np.array([0.5, -1.0])
    tree = {"a": x, "b": (2.0, "label")}
    out = checkpoint_name(tree, "t")
    assert out["a"] is x and out["b"] == (2.0, "label")
    f = lambda x: fnp.sum(fnp.sin(checkpoint_name(x * x, "sq")))  # noqa: E731
    g = lambda x: fnp.sum(fnp.sin(x * x))  # noqa: E731
    for t in (ft.grad, ft.jacfwd, ft.hessian, lambda h: ft.jit(ft.grad(h))):
        np.testing.assert_allclose(t(f)(x), t(g)(x), rtol=1e-14)
    np.testing.assert_allclose(ft.vmap(ft.grad(f))(np.stack([x, x])),
                               ft.vmap(ft.grad(g))(np.stack([x, x])), rtol=1e-14)
    np.testing.assert_allclose(
        ft.linear_transpose(lambda t: checkpoint_name(t * 2.0, "lin"), x)(x)[0], 2.0 * x)
    assert "name" in {e[0].name for e in ft.make_graph(f)(x).eqns}
    with pytest.raises(TypeError, match="name must be a string"):
        checkpoint_name(x, 3)


def test_ad_checkpoint_docstring_examples():
    result = doctest.testmod(functrans.ad_checkpoint, optionflags=doctest.NORMALIZE_WHITESPACE,
                             extraglobs={"ft": ft, "fnp": fnp, "np": np})
    assert result.attempted > 0 and result.failed == 0


def test_nothing_kept_stays_alive_after_the_gradient_returns():
    import gc
    rng = np.random.default_rng(0)
    W, x = rng.standard_normal((256, 256)) / 16, rng.standard_normal((256, 256))
    f = ft.checkpoint(_mlp_block, policy=cp.save_from_both_policies(
        cp.dots_saveable, lambda prim, *a, **k: prim.name == "tanh"))
    loss = lambda W: fnp.sum(f(W, x))  # noqa: E731
    ft.grad(loss)(W)  # (first-call caches out of the measurement)
    gc.collect()
    gc.disable()
    try:
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        g = ft.grad(loss)(W)
        # (the dead arrays functrans.buffers keeps for the next call are no leak: which
        # of them a call leaves kept depends on how many products took one, fewer since
        # session 43 sums a product into the weight's cotangent by one gemm)
        buffers.release()
        left = tracemalloc.get_traced_memory()[0] - before
        tracemalloc.stop()
    finally:
        gc.enable()
    # the gradient itself (512 KB) and small objects; no kept product or activation
    assert left < g.nbytes + 200_000, left


def test_a_kept_result_of_a_primitive_whose_rule_computes_two_at_once():
    # sin's JVP rule computes sin and cos together (sin_cos): with sin kept, only cos runs
    x = np.array([0.3, -1.2, 2.0])
    blk = lambda x: fnp.sum(fnp.sin(x * x) * x)  # noqa: E731
    keep_sin = ft.checkpoint(blk, policy=lambda prim, *avals, **params: prim.name == "sin")
    _, nothing = _passes(ft.checkpoint(blk), x)
    _, kept = _passes(keep_sin, x)
    assert nothing["sin_cos"] == 1 and "cos" not in nothing
    assert kept["cos"] == 1 and "sin_cos" not in kept and "sin" not in kept
    np.testing.assert_allclose(ft.grad(keep_sin)(x), ft.grad(blk)(x), rtol=1e-14)
