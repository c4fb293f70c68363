"""A kept value that is an elementwise function's output: where the function's derivative is
written from its result (``tanh``: ``1 - y**2``, ``exp``: ``y``, ``sqrt``, ``tan``,
``nn.relu``; not ``expm1`` since session 36: ``exp(x)``, as ``expm1(x) + 1`` loses it below
-20), a checkpoint keeping it (by name or by primitive) does not recompute its operand in the backward pass, as in JAX: keeping ``h = tanh(x @ W)`` spares ``x @ W``, whose
tangent ``dx @ W + x @ dW`` needs ``x`` and ``W`` only. The derivatives are those of the
function without checkpoint, under every transform and backend, and each rule written from
an output is checked numerically to second order."""

from __future__ import annotations

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.ad_checkpoint import checkpoint_name
from functrans.core import registry
from functrans.testing import check_grads

from .test_checkpoint_policies import _close, _kept, _passes, _same_higher_order

cp = ft.checkpoint_policies

# name -> (the function, the primitive it binds, a scale and shift keeping x @ W in its domain)
FUNCTIONS = {
    "tanh": (fnp.tanh, "tanh", 1.0, 0.0),
    "exp": (fnp.exp, "exp", 0.5, 0.0),
    "sqrt": (fnp.sqrt, "sqrt", 0.1, 2.0),  # (x @ W) * 0.1 + 2 > 0 for the draws below
    "tan": (fnp.tan, "tan", 0.2, 0.0),
    "relu": (ft.nn.relu, "relu", 1.0, 0.0),
}


def _block(fn, scale, shift):
    def blk(W, x):
        # (fnp.matmul: a strict array @ a tracer is array-api-strict issue #188)
        h = checkpoint_name(fn(fnp.matmul(x, W) * scale + shift), "h")
        return fnp.sum(fnp.sin(h) * 0.5)
    return blk


def _data(seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((4, 4)) * 0.7, rng.standard_normal((3, 4))


# -- what the backward pass recomputes --------------------------------------------------------


@pytest.mark.parametrize("name", FUNCTIONS)
def test_keeping_the_output_spares_the_product_that_made_its_operand(name):
    fn, prim, scale, shift = FUNCTIONS[name]
    blk = _block(fn, scale, shift)
    W, x = _data()
    _, plain = _passes(blk, W, x)  # (the transposes of the product: two products)
    by_name = ft.checkpoint(blk, policy=cp.save_only_these_names("h"))
    by_prim = ft.checkpoint(blk, policy=lambda p, *avals, **params: p.name == prim)
    _, nothing = _passes(ft.checkpoint(blk, policy=cp.nothing_saveable), W, x)
    assert nothing["matmul"] == plain["matmul"] + 1  # recomputing everything: one more
    for f in (by_name, by_prim):
        _, bwd = _passes(f, W, x)
        assert bwd["matmul"] == plain["matmul"], (name, bwd)
        assert bwd[prim] == 0, (name, bwd)  # nor the function itself (its value is kept)
        assert [len(k) for k in _kept(f, W, x)] == [1]  # only h is kept
        for a, b in zip(ft.grad(f, (0, 1))(W, x), ft.grad(blk, (0, 1))(W, x)):
            np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)
    # differentiated in one of the two only, the product's tangent needs the other's value
    for argnums in (0, 1):
        _, bwd = _passes(lambda v: by_name(*((v, x) if argnums == 0 else (W, v))),
                         (W, x)[argnums])
        assert bwd["matmul"] == 1, (name, argnums, bwd)  # the one transpose


def test_what_still_recomputes_the_operand():
    # A derivative written from the input (log: 1/x), maximum(z, 0) (at z == 0 it splits
    # the derivative, which the result cannot tell from z < 0), sigmoid (from the input, so
    # that it stays accurate where sigmoid(x) rounds to 1), and an operand something else
    # needs too: x @ W runs again in the backward pass.
    W, x = _data()
    cases = {
        "log": lambda z: fnp.log(z * 0.1 + 2.0),
        "maximum": lambda z: fnp.maximum(z, 0.0),
        "sigmoid": ft.nn.sigmoid,
        "tanh, z read by sin too": None,
    }
    for what, fn in cases.items():
        if fn is None:
            def blk(W, x):
                z = fnp.matmul(x, W)
                return fnp.sum(fnp.sin(checkpoint_name(fnp.tanh(z), "h")) + fnp.sin(z))
        else:
            def blk(W, x, fn=fn):
                return fnp.sum(fnp.sin(checkpoint_name(fn(fnp.matmul(x, W)), "h")))
        _, plain = _passes(blk, W, x)
        f = ft.checkpoint(blk, policy=cp.save_only_these_names("h"))
        _, bwd = _passes(f, W, x)
        assert bwd["matmul"] == plain["matmul"] + 1, (what, bwd)
        for a, b in zip(ft.grad(f, (0, 1))(W, x), ft.grad(blk, (0, 1))(W, x)):
            np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)


def test_a_kept_value_whose_tangent_reads_no_value_spares_its_operands_too():
    # h = reshape(x @ W + b): the sum's and the reshape's tangents are those of their operands
    # (JAX does not recompute x @ W there either).
    rng = np.random.default_rng(1)
    W, x, b = rng.standard_normal((4, 4)), rng.standard_normal((3, 4)), rng.standard_normal(4)

    def blk(W, x, b):
        h = checkpoint_name(fnp.reshape(fnp.matmul(x, W) + b, (4, 3)), "h")
        return fnp.sum(fnp.sin(h))
    f = ft.checkpoint(blk, policy=cp.save_only_these_names("h"))
    _, plain = _passes(blk, W, x, b)
    _, bwd = _passes(f, W, x, b)
    assert bwd["matmul"] == plain["matmul"] and bwd["add"] == 0, bwd
    for a, c in zip(ft.grad(f, (0, 1, 2))(W, x, b), ft.grad(blk, (0, 1, 2))(W, x, b)):
        np.testing.assert_allclose(a, c, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(ft.hessian(f)(W, x, b), ft.hessian(blk)(W, x, b), rtol=1e-12,
                               atol=1e-14)


def test_an_operand_without_the_tangent_the_plan_expected():
    # stop_gradient(x) and floor(x) depend on x but carry no tangent: their products'
    # tangents are then those of W alone (no product of zeros), and still nothing recomputes
    # x @ W.
    W, x = _data(2)

    def blk(W, x):
        z = fnp.matmul(ft.lax.stop_gradient(x), W) + fnp.matmul(fnp.floor(x), W)
        return fnp.sum(fnp.sin(checkpoint_name(fnp.tanh(z), "h")))
    f = ft.checkpoint(blk, policy=cp.save_only_these_names("h"))
    _, plain = _passes(blk, W, x)
    _, bwd = _passes(f, W, x)
    assert bwd["matmul"] == plain["matmul"], bwd
    for argnums in (0, 1, (0, 1)):
        got, want = ft.grad(f, argnums)(W, x), ft.grad(blk, argnums)(W, x)
        for a, b in zip(*((got, want) if argnums == (0, 1) else ((got,), (want,)))):
            np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)
    np.testing.assert_array_equal(ft.grad(f, 1)(W, x), np.zeros_like(x))


def _odd_sum():
    """a + b, with a JVP rule that reads a's value when a has no tangent (a / a): with both
    tangents its tangent reads no value, with b's alone it does."""
    from functrans.core import primitive
    from functrans.primitives.elementwise import _array_aval, add, div, mul
    p = registry.get("test_checkpoint_odd_sum") or primitive("test_checkpoint_odd_sum")
    p.def_impl(lambda b, x, y: x + y)
    p.def_abstract_eval(_array_aval)

    def jvp(primals, tangents):
        a, _ = primals
        ta, tb = tangents
        out = p.bind(*primals)
        if ta is None:
            return out, mul(tb, div(a, a))
        return out, ta if tb is None else add(ta, tb)
    p.def_jvp(jvp)
    return p


def test_a_missing_tangent_is_a_zero_where_fewer_tangents_would_read_more(backend):
    # The rule staged for the tangents planned reads no value; the one for the tangents
    # present would read a value not recomputed: the missing tangent is then a zero (of the
    # backend and device of the values).
    odd = _odd_sum()
    W, x = (backend.asarray(a) for a in _data(11))

    def blk(W, x):
        a = ft.lax.stop_gradient(fnp.matmul(x, W)) + 1.0
        z = odd.bind(a, fnp.matmul(x, W))
        return fnp.sum(fnp.sin(checkpoint_name(fnp.tanh(z), "h")))
    f = ft.checkpoint(blk, policy=cp.save_only_these_names("h"))
    for argnums in (0, 1):
        got = ft.grad(f, argnums)(W, x)
        assert backend.is_own(got)
        _close(got, ft.grad(blk, argnums)(W, x), backend)


def test_grad_of_grad_keeps_the_saving():
    fn, _, scale, shift = FUNCTIONS["tanh"]
    blk = _block(fn, scale, shift)
    W, x = _data(3)

    def outer(b):
        inner = ft.grad(lambda W: b(W, x))
        return lambda W: fnp.sum(inner(W) ** 2)
    named = ft.checkpoint(blk, policy=cp.save_only_these_names("h"))
    nothing = ft.checkpoint(blk, policy=cp.nothing_saveable)
    (_, bwd_named), (_, bwd_nothing) = _passes(outer(named), W), _passes(outer(nothing), W)
    assert bwd_named["matmul"] < bwd_nothing["matmul"], (bwd_named, bwd_nothing)
    np.testing.assert_allclose(ft.grad(outer(named))(W), ft.grad(outer(blk))(W), rtol=1e-12)


# -- the derivatives do not change -------------------------------------------------------------


@pytest.mark.parametrize("name", FUNCTIONS)
def test_derivatives_are_the_plain_functions(backend, name):
    fn, _, scale, shift = FUNCTIONS[name]
    plain = _block(fn, scale, shift)
    ck = ft.checkpoint(plain, policy=cp.save_only_these_names("h"))
    W0, x0 = _data(4)
    W, x = backend.asarray(W0), backend.asarray(x0)
    _close(ck(W, x), plain(W, x), backend)
    for argnums in (0, 1, (0, 1)):
        a, b = ft.grad(ck, argnums)(W, x), ft.grad(plain, argnums)(W, x)
        for u, v in zip(*((a, b) if argnums == (0, 1) else ((a,), (b,)))):
            _close(u, v, backend)
    (ya, pa), (yb, pb) = ft.vjp(ck, W, x), ft.vjp(plain, W, x)
    for u, v in zip(pa(ya), pb(yb)):
        _close(u, v, backend)

    def rows(W):  # several outputs, for jacrev
        return fnp.sin(checkpoint_name(fn(fnp.matmul(x, W) * scale + shift), "h"))
    _close(ft.jacrev(ft.checkpoint(rows, policy=cp.save_only_these_names("h")))(W),
           ft.jacrev(rows)(W), backend)
    _close(ft.hessian(ck)(W, x), ft.hessian(plain)(W, x), backend)
    _close(ft.jvp(ck, (W, x), (W, x))[1], ft.jvp(plain, (W, x), (W, x))[1], backend)
    v = backend.asarray(np.random.default_rng(5).standard_normal((4, 4)))
    xs = _same_higher_order(ck, plain, W, x, v, backend)
    _close(ft.grad(lambda W: fnp.sum(ft.vmap(ck, in_axes=(None, 0))(W, xs) ** 2))(W),
           ft.grad(lambda W: fnp.sum(ft.vmap(plain, in_axes=(None, 0))(W, xs) ** 2))(W),
           backend)


# -- each rule written from an output, checked numerically -------------------------------------

RNG = np.random.default_rng(7)
DOMAINS = {  # primitive -> points inside its domain (away from relu's kink)
    "exp": lambda n: RNG.standard_normal(n),
    "tanh": lambda n: RNG.standard_normal(n) * 1.5,
    "sqrt": lambda n: RNG.uniform(0.3, 3.0, n),
    "tan": lambda n: RNG.uniform(-1.2, 1.2, n),
    "relu": lambda n: RNG.uniform(0.2, 2.0, n) * RNG.choice([-1.0, 1.0], n),
}


def test_every_rule_written_from_an_output_is_checked_here():
    from .test_namespace_grads import _functrans_primitives
    with_rule = {n for n, p in _functrans_primitives().items()
                 if p.jvp_from_output is not None}
    assert with_rule == set(DOMAINS), "add a domain for the new rule to DOMAINS"


@pytest.mark.parametrize("name", sorted(DOMAINS))
def test_the_rule_from_the_output_agrees_with_finite_differences(name):
    prim = registry[name]
    n = 6
    x, t, s = DOMAINS[name](n), RNG.standard_normal(n), RNG.standard_normal(n)
    f = prim.bind

    def from_output(x):  # the tangent along t, written from f(x) alone
        return prim.jvp_from_output([t], f(x))
    # first order: central differences, and the primitive's own rule
    eps = 1e-6
    fd = (f(x + eps * t) - f(x - eps * t)) / (2 * eps)
    np.testing.assert_allclose(from_output(x), fd, rtol=1e-8, atol=1e-8)
    np.testing.assert_allclose(from_output(x), ft.jvp(f, (x,), (t,))[1], rtol=1e-14,
                               atol=1e-15)
    # second order: its derivative along s (through f(x)) against second differences of f
    h = 1e-4
    fd2 = (f(x + h * t + h * s) - f(x + h * t - h * s) - f(x - h * t + h * s)
           + f(x - h * t - h * s)) / (4 * h * h)
    np.testing.assert_allclose(ft.jvp(from_output, (x,), (s,))[1], fd2, rtol=1e-5, atol=1e-6)
    check_grads(from_output, (x,), order=2)
    # and with the tangent itself a variable (the rule is linear in it)
    check_grads(lambda x, t: prim.jvp_from_output([t], f(x)), (x, t), order=2)



def test_a_kept_value_read_for_its_tangent_only_is_not_kept():
    # h1 = x @ W + b and h2 = tanh(h1) both named: h2's tangent needs h1's tangent only, and
    # h1's tangent needs no value, so of the two only h2 is kept (and x @ W not recomputed).
    rng = np.random.default_rng(8)
    W, x, b = rng.standard_normal((4, 4)), rng.standard_normal((3, 4)), rng.standard_normal(4)

    def blk(W, x, b):
        h1 = checkpoint_name(fnp.matmul(x, W) + b, "h1")
        return fnp.sum(fnp.sin(checkpoint_name(fnp.tanh(h1), "h2")))
    both = ft.checkpoint(blk, policy=cp.save_only_these_names("h1", "h2"))
    (kept,) = _kept(both, W, x, b)
    assert len(kept) == 1
    np.testing.assert_allclose(kept[0], np.tanh(x @ W + b), rtol=1e-15)
    _, plain = _passes(blk, W, x, b)
    _, bwd = _passes(both, W, x, b)
    assert bwd["matmul"] == plain["matmul"] and bwd["add"] == 0, bwd
    for a, c in zip(ft.grad(both, (0, 1, 2))(W, x, b), ft.grad(blk, (0, 1, 2))(W, x, b)):
        np.testing.assert_allclose(a, c, rtol=1e-13, atol=1e-15)


# -- many primitives, under policies that keep much ---------------------------------------------


def _many(W, x):
    """Products, slices, concatenation, scans, reductions, sorting, broadcasting and the
    functions with rules written from their outputs: every way of replaying an equation."""
    z = fnp.matmul(x, W)
    a = fnp.concat([z[:, :2], fnp.exp(z[:, 2:])], axis=1)
    b = fnp.cumulative_sum(a, axis=0) + fnp.max(a, axis=1, keepdims=True)
    c = fnp.where(b > 0, fnp.tanh(b), fnp.sqrt(b * b + 1.0))
    d = fnp.sort(c, axis=1)[::-1] * fnp.mean(c)
    e = fnp.matmul(d, fnp.permute_dims(W, (1, 0))) + fnp.broadcast_to(fnp.sum(d, axis=0),
                                                                        (3, 4))
    f = ft.nn.relu(e) + fnp.expm1(checkpoint_name(fnp.tanh(e), "h") * 0.3)
    g = fnp.linalg.vector_norm(f, axis=1) + fnp.prod(fnp.cos(f[:, :2]), axis=1)
    return fnp.sum(g ** 2) + fnp.sum(fnp.log1p(fnp.abs(f)))


KEEPING_MUCH = {
    "all but products": lambda p, *avals, **params: p.name != "matmul",
    "elementwise": lambda p, *avals, **params: p.name in (
        "tanh", "exp", "sqrt", "expm1", "relu", "add", "mul", "select"),
    "structural": lambda p, *avals, **params: p.name in (
        "concat", "reshape", "broadcast_in_dim", "transpose", "slice", "reduce_sum", "cumsum",
        "sort", "flip"),
    "names": cp.save_only_these_names("h"),
    "dots": cp.dots_saveable,
}


@pytest.mark.parametrize("policy", KEEPING_MUCH)
def test_many_primitives_under_policies_that_keep_much(backend, policy):
    W0, x0 = _data(9)
    W, x = backend.asarray(W0), backend.asarray(x0)
    f = ft.checkpoint(_many, policy=KEEPING_MUCH[policy])
    for argnums in (0, 1):
        _close(ft.grad(f, argnums)(W, x), ft.grad(_many, argnums)(W, x), backend, 1e-11)
    _close(ft.hessian(f)(W, x), ft.hessian(_many)(W, x), backend, 1e-10)
    v = backend.asarray(np.random.default_rng(10).standard_normal((4, 4)))

    def grad_grad(g):
        return ft.grad(lambda W: fnp.sum(ft.grad(g)(W, x) * v))(W)
    _close(grad_grad(f), grad_grad(_many), backend, 1e-10)
    _close(ft.jit(ft.grad(f))(W, x), ft.grad(_many)(W, x), backend, 1e-11)
    xs = fnp.stack([x, x * -0.5])
    _close(ft.vmap(ft.grad(f), in_axes=(None, 0))(W, xs),
           ft.vmap(ft.grad(_many), in_axes=(None, 0))(W, xs), backend, 1e-11)
