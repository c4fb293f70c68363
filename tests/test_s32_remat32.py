"""What checkpoint and fwd_and_bwd keep for the backward pass (no residual for an argument the
function never reads), and functrans.numpy's axis checks on 0-d inputs (session 32)."""

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.ad_checkpoint import saved_residuals
from functrans.errors import AxisError


def _loss(p, x):
    return fnp.sum(fnp.sin(p["w"] * x))


def _params():
    rng = np.random.default_rng(0)
    return {"w": rng.normal(size=3), "b": rng.normal(size=2)}, rng.normal(size=3)


def _reference_grad(p, x):
    # d/dw sum(sin(w x)) = cos(w x) x; b is not read: zero
    return {"w": np.cos(p["w"] * x) * x, "b": np.zeros(2)}, np.cos(p["w"] * x) * p["w"]


POLICIES = [None, ft.checkpoint_policies.everything_saveable,
            ft.checkpoint_policies.nothing_saveable]


@pytest.mark.parametrize("policy", POLICIES)
def test_checkpoint_keeps_no_unread_argument(policy):
    p, x = _params()
    f = ft.checkpoint(_loss, policy=policy)
    srcs = [d for _, d in saved_residuals(f, p, x)]
    assert "from the argument p['b']" not in srcs
    assert "from the argument p['w']" in srcs and "from the argument x" in srcs


@pytest.mark.parametrize("policy", POLICIES)
def test_checkpoint_unread_argument_gradients(policy):
    p, x = _params()
    f = ft.checkpoint(_loss, policy=policy)
    (gp, gx), (rp, rx) = ft.grad(f, argnums=(0, 1))(p, x), _reference_grad(p, x)
    np.testing.assert_allclose(gp["w"], rp["w"], rtol=1e-12)
    np.testing.assert_array_equal(gp["b"], rp["b"])
    np.testing.assert_allclose(gx, rx, rtol=1e-12)
    gj = ft.jit(ft.grad(f, argnums=(0, 1)))(p, x)
    np.testing.assert_allclose(gj[0]["w"], rp["w"], rtol=1e-12)
    np.testing.assert_array_equal(gj[0]["b"], np.zeros(2))
    gv = ft.vmap(ft.grad(f), in_axes=(None, 0))(p, np.stack([x, 2 * x]))
    np.testing.assert_allclose(gv["w"][1], np.cos(2 * p["w"] * x) * 2 * x, rtol=1e-12)
    assert gv["b"].shape == (2, 2) and not gv["b"].any()
    # batched along the unread argument only: the output is broadcast
    yb = ft.vmap(f, in_axes=({"w": None, "b": 0}, None))({"w": p["w"], "b": np.ones((4, 2))}, x)
    np.testing.assert_allclose(yb, np.full(4, np.sum(np.sin(p["w"] * x))), rtol=1e-12)
    # second order and nested checkpoint
    h = ft.hessian(f)(p, x)
    assert not h["b"]["b"].any() and not h["b"]["w"].any()
    np.testing.assert_allclose(np.diag(h["w"]["w"]), -np.sin(p["w"] * x) * x * x, rtol=1e-12)
    outer = ft.checkpoint(lambda p, x: 2.0 * f(p, x))
    go = ft.grad(outer)(p, x)
    np.testing.assert_allclose(go["w"], 2 * rp["w"], rtol=1e-12)
    np.testing.assert_array_equal(go["b"], np.zeros(2))


def test_checkpoint_reads_no_argument():
    c = ft.checkpoint(lambda a, b: fnp.asarray(2.0))
    assert float(c(np.ones(2), np.ones(3))) == 2.0
    np.testing.assert_array_equal(ft.grad(lambda a: c(a, a) + fnp.sum(a))(np.ones(2)),
                                  np.ones(2))
    ident = ft.checkpoint(lambda a, b: a)
    ga, gb = ft.grad(lambda a, b: fnp.sum(ident(a, b)), argnums=(0, 1))(np.ones(2), np.ones(3))
    np.testing.assert_array_equal(ga, np.ones(2))
    np.testing.assert_array_equal(gb, np.zeros(3))
