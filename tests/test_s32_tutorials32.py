"""JAX's own tutorials walked through as a JAX user would (session 32, helper tutorials32).

The Autodiff Cookbook, custom derivative rules, checkpointing, vectorisation, pytrees,
control flow, the sharp bits and pseudorandom numbers were each rewritten against functrans
and compared with JAX 0.10.2 (x64) outside this file. What differed and is fixed is pinned
here, with expected values derived independently (closed forms, central differences,
NumPy), never pasted from a JAX run; this file does not import JAX.
"""

from __future__ import annotations

import doctest
import io
import contextlib
from functools import partial

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans import ad_checkpoint
from functrans.ad_checkpoint import checkpoint_name, print_saved_residuals, saved_residuals


# --- jax.ad_checkpoint.print_saved_residuals / saved_residuals (the checkpointing guide) ---

def _layers(W1, W2, x):
    h = checkpoint_name(fnp.sin(W1 @ x), "hid")
    return fnp.sum(fnp.tanh(W2 @ h)) * x[0]


_W1, _W2, _X = np.ones((4, 3)) * 0.1, np.ones((2, 4)) * 0.2, np.arange(3.0)


def _described(f, *args, **kwargs):
    return [(a.str_short(), d) for a, d in saved_residuals(f, *args, **kwargs)]


def test_saved_residuals_under_policies():
    P = ft.checkpoint_policies
    args = [("f64[4,3]", "from the argument W1"), ("f64[2,4]", "from the argument W2"),
            ("f64[3]", "from the argument x")]
    # checkpoint without a policy (or nothing_saveable): the arguments only
    assert _described(ft.checkpoint(_layers), _W1, _W2, _X) == args
    assert _described(ft.checkpoint(_layers, policy=P.nothing_saveable), _W1, _W2, _X) == args
    # a name-based policy keeps the labelled value as well
    keep = ft.checkpoint(_layers, policy=P.save_only_these_names("hid"))
    assert _described(keep, _W1, _W2, _X) == args + [("f64[4]", "named 'hid'")]
    # dots_saveable keeps the two matrix products, in program order
    dots = _described(ft.checkpoint(_layers, policy=P.dots_saveable), _W1, _W2, _X)
    assert dots == args + [("f64[4,1]", "output of matmul"), ("f64[2,1]", "output of matmul")]


def test_saved_residuals_are_what_the_backward_pass_reads():
    # unchecked: the list is the backward pass's own arrays (distinct ones), which
    # fwd_and_bwd hands over
    fwd, _ = ft.fwd_and_bwd(_layers, argnums=(0, 1, 2), jitted=False)
    outs = ft.make_jaxpr(lambda *a: fwd(*a)[1])(_W1, _W2, _X).jaxpr.outvars
    distinct = list({id(v): v for v in outs}.values())
    listed = saved_residuals(_layers, _W1, _W2, _X)
    assert len(outs) >= len(distinct) == len(listed) == 8
    assert (sorted(v.aval.str_short() for v in distinct)
            == sorted(a.str_short() for a, _ in listed))
    # a linear function keeps nothing; exp keeps its output
    assert saved_residuals(lambda a: a * 2.0, np.ones(2)) == []
    # the zero cotangents of an integer or unused argument are not residuals (JAX's symbolic
    # zeros; they were listed as "output of full_like")
    assert saved_residuals(lambda n: n * 2, np.arange(3)) == []
    assert _described(lambda a, b: fnp.sum(fnp.exp(a)), np.ones(2), np.ones(5)) == [
        ("f64[2]", "output of exp")]
    assert _described(lambda a: fnp.sum(fnp.exp(a)), np.ones(2)) == [("f64[2]",
                                                                       "output of exp")]
    # everything_saveable is the unchecked function's list
    every = ft.checkpoint(_layers, policy=ft.checkpoint_policies.everything_saveable)
    assert _described(every, _W1, _W2, _X) == _described(_layers, _W1, _W2, _X)


def test_saved_residuals_names_pytree_paths_keywords_and_constants():
    def loss(params, x, scale=1.0):
        return fnp.sum(params["w"] * x) * scale

    got = _described(ft.checkpoint(loss), {"w": np.ones(3), "b": np.ones(2)}, np.ones(3),
                     scale=2.0)
    assert {("f64[3]", "from the argument params['w']"),
            ("f64[3]", "from the argument x")} <= set(got)
    assert ("f64[]", "from the argument scale") in got  # a keyword argument, by its name
    c = np.arange(3.0)
    got = _described(ft.checkpoint(lambda a: fnp.sum(fnp.sin(a) * c)), np.ones(3))
    assert ("f64[3]", "from the argument a") in got
    got = _described(lambda *a: fnp.sum(a[0] * a[1]), np.ones(3), np.ones(3))
    assert got == [("f64[3]", "from the argument a[0]"), ("f64[3]", "from the argument a[1]")]


def test_print_saved_residuals_prints_one_line_each():
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        print_saved_residuals(ft.checkpoint(_layers, policy=ft.checkpoint_policies
                                            .save_only_these_names("hid")), _W1, _W2, _X)
    assert buf.getvalue().splitlines() == ["f64[4,3] from the argument W1",
                                           "f64[2,4] from the argument W2",
                                           "f64[3] from the argument x",
                                           "f64[4] named 'hid'"]
    # the gradient is the same whatever is saved (central differences)
    g = ft.grad(ft.checkpoint(_layers, policy=ft.checkpoint_policies.dots_saveable),
                argnums=2)(_W1, _W2, _X)
    eps = 1e-6
    fd = [(_layers(_W1, _W2, _X + eps * e) - _layers(_W1, _W2, _X - eps * e)) / (2 * eps)
          for e in np.eye(3)]
    np.testing.assert_allclose(g, fd, rtol=1e-7, atol=1e-9)


def test_ad_checkpoint_docstring_examples():
    result = doctest.testmod(ad_checkpoint, extraglobs={"ft": ft, "fnp": fnp, "np": np},
                             optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 4 and result.failed == 0


# --- custom_jvp / custom_vjp nondiff_argnames (JAX's keyword) ---

def test_custom_jvp_nondiff_argnames():
    @partial(ft.custom_jvp, nondiff_argnames=("mode",))
    def f(x, mode="sin"):
        return fnp.sin(x) if mode == "sin" else fnp.cos(x)

    @f.defjvp
    def f_jvp(mode, primals, tangents):
        (x,), (t,) = primals, tangents
        # deliberately not the true derivative, to see that the rule is used
        return f(x, mode), (2.0 if mode == "sin" else 3.0) * t

    assert f.nondiff_argnums == (1,)
    assert ft.grad(f)(0.7) == 2.0
    assert ft.grad(lambda x: f(x, mode="cos"))(0.7) == 3.0
    assert ft.grad(lambda x: f(x, "cos"))(0.7) == 3.0
    np.testing.assert_allclose(ft.vmap(ft.grad(f))(np.array([0.1, 0.2])), [2.0, 2.0])
    assert ft.jit(ft.grad(lambda x: f(x, mode="cos")))(np.float64(0.7)) == 3.0


def test_custom_vjp_nondiff_argnames_with_a_function_argument():
    @partial(ft.custom_vjp, nondiff_argnames=("fn",))
    def apply(x, fn):
        return fn(x)

    apply.defvjp(lambda x, fn: (fn(x), x), lambda fn, x, g: (10.0 * g * x,))
    assert apply.nondiff_argnums == (1,)
    assert ft.grad(lambda x: apply(x, fnp.sin))(1.5) == 15.0
    assert ft.grad(lambda x: apply(fn=fnp.sin, x=x))(1.5) == 15.0
    # joined with nondiff_argnums, in order of position
    g = ft.custom_vjp(lambda a, b, c: a, nondiff_argnums=(2,), nondiff_argnames="b")
    assert g.nondiff_argnums == (1, 2)


def test_nondiff_argnames_bad_input():
    with pytest.raises(ValueError, match=r"nondiff_argnames names 'z'.*\['x', 'y'\]"):
        ft.custom_jvp(lambda x, y: x, nondiff_argnames=("z",))
    with pytest.raises(ValueError, match="positional parameters"):
        ft.custom_vjp(lambda x, *, y: x, nondiff_argnames="y")
    with pytest.raises(TypeError, match="must hold strings"):
        ft.custom_jvp(lambda x, y: x, nondiff_argnames=(1,))


# --- jax.effects_barrier (the debugging and callbacks guides call it before reading output) ---

def test_effects_barrier_after_callbacks():
    seen = []
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        out = ft.jit(lambda x: (ft.debug.print("x={}", x),
                                ft.debug.callback(lambda v: seen.append(float(v.sum())), x),
                                x * 2)[2])(np.arange(3.0))
        assert ft.effects_barrier() is None
    # everything ran by the time the barrier returns (functrans runs callbacks in place)
    assert buf.getvalue() == "x=[0. 1. 2.]\n" and seen == [3.0]
    np.testing.assert_array_equal(out, [0.0, 2.0, 4.0])


# --- error classes a JAX program catches ---

@pytest.mark.parametrize("call", [
    lambda: ft.jvp(fnp.sin, (np.ones(2, np.float32),), (np.ones(2),)),   # dtype: JAX TypeError
    lambda: ft.jvp(lambda u: u**2, (3.0,), (1,)),                         # int tangent: TypeError
    lambda: ft.jvp(fnp.sin, (np.ones(2),), (np.ones(3),)),               # shape: JAX ValueError
    lambda: ft.vjp(fnp.sin, np.ones(2, np.float32))[1](np.ones(2)),      # ct dtype: ValueError
], ids=["jvp-dtype", "jvp-int-tangent", "jvp-shape", "vjp-dtype"])
def test_tangent_mismatch_is_both_type_and_value_error(call):
    for builtin in (TypeError, ValueError, ft.errors.TangentMismatchError):
        with pytest.raises(builtin):
            call()


# --- random.geometric: JAX's formula of the same uniforms, so the same key gives JAX's draws ---

@pytest.mark.parametrize("p, dtype", [(0.3, np.float64), (0.02, np.float64), (0.9, np.float64),
                                      (np.float32(0.3), np.float32)])
def test_geometric_is_jaxs_formula_of_uniform(p, dtype):
    key = ft.random.key(5)
    u = np.asarray(ft.random.uniform(key, (4000,), dtype))
    # jax.random.geometric: floor(log(u) / log1p(-p)) + 1, a u of 0 taken as 1 (was
    # log1p(-u) in place of log(u): a valid law, but other draws than JAX's for every key)
    want = np.floor(np.log(np.where(u == 0, dtype(1), u)) / np.log1p(-dtype(p))) + 1
    got = np.asarray(ft.random.geometric(key, p, (4000,)))
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, want.astype(np.int64))


def test_geometric_same_draws_on_torch_and_strict():
    import array_api_strict as xps
    want = np.asarray(ft.random.geometric(ft.random.key(7), np.array([0.1, 0.5, 0.99])))
    for xp in (pytest.importorskip("torch"), xps):
        key = ft.random.wrap_key_data(xp.asarray(np.asarray(ft.random.key_data(
            ft.random.key(7)))))
        got = ft.random.geometric(key, xp.asarray(np.array([0.1, 0.5, 0.99])))
        assert type(got).__module__.split(".")[0] == xp.__name__.split(".")[0]
        np.testing.assert_array_equal(np.from_dlpack(got), want)
