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


def _residual_shapes(fwd, *args):
    closed = ft.make_jaxpr(lambda *a: fwd(*a)[1])(*args)
    return [tuple(v.aval.shape) for v in closed.jaxpr.outvars]


@pytest.mark.parametrize("jitted", [True, False])
def test_fwd_and_bwd_keeps_no_zeros_for_unread_argument(jitted):
    w, x, b = np.arange(3.0) + 0.5, np.arange(3.0) - 1.0, np.ones(7)
    fwd, bwd = ft.fwd_and_bwd(_loss, argnums=(0, 1), jitted=jitted)
    assert (7,) not in _residual_shapes(fwd, {"w": w, "b": b}, x)
    y, res = ft.jit(fwd)({"w": w, "b": b}, x) if not jitted else fwd({"w": w, "b": b}, x)
    assert all(a.shape != (7,) for a in res.arrays)
    gp, gx = bwd(res, 1.0)
    np.testing.assert_allclose(gp["w"], np.cos(w * x) * x, rtol=1e-12)
    np.testing.assert_allclose(gx, np.cos(w * x) * w, rtol=1e-12)
    assert gp["b"].shape == (7,) and gp["b"].dtype == np.float64 and not gp["b"].any()
    # batched cotangents and a derivative through bwd
    gv = ft.vmap(lambda c: bwd(res, c))(np.array([1.0, 2.0]))
    assert gv[0]["b"].shape == (2, 7) and not gv[0]["b"].any()
    np.testing.assert_allclose(gv[1][1], 2 * np.cos(w * x) * w, rtol=1e-12)
    hw = ft.grad(lambda w: fnp.sum(bwd(fwd({"w": w, "b": b}, x)[1], 1.0)[0]["w"]))(w)
    np.testing.assert_allclose(hw, -np.sin(w * x) * x * x, rtol=1e-12, atol=1e-15)


def test_fwd_and_bwd_zero_cotangent_dtype_and_library():
    torch = pytest.importorskip("torch")
    fwd, bwd = ft.fwd_and_bwd(lambda p, x: fnp.sum(p["w"] * x), argnums=(0, 1))
    p = {"w": torch.ones(3, dtype=torch.float64), "b": torch.ones(2, dtype=torch.float32)}
    _, res = fwd(p, torch.full((3,), 2.0, dtype=torch.float64))
    gp, _ = bwd(res, torch.tensor(1.0, dtype=torch.float64))
    assert type(gp["b"]) is torch.Tensor and gp["b"].dtype == torch.float32
    assert not gp["b"].any()
    torch.testing.assert_close(gp["w"], torch.full((3,), 2.0, dtype=torch.float64))
    # a backward pass reading no residual but the zeros (linear, constant coefficients)
    fc, bc = ft.fwd_and_bwd(lambda a, b: 3.0 * a, argnums=(0, 1))
    _, rc = fc(np.ones(2), np.ones(5, np.float32))
    ga, gb = bc(rc, np.ones(2))
    np.testing.assert_array_equal(ga, np.full(2, 3.0))
    assert gb.dtype == np.float32 and gb.shape == (5,) and not gb.any()


# -- functrans.numpy on 0-d arrays with an axis: NumPy's answers ------------------------------
# (NumPy takes a 0-d array as its one element for argmax/argmin, argsort and the cumulative
# functions, axis 0 or -1; sort and flip have no axis to work along. JAX raises for all of
# them; functrans.numpy follows NumPy.)

ZERO_D = [("sort", 0), ("sort", -1), ("flip", 0), ("flip", (0,)), ("flip", -1),
          ("cumsum", 1), ("argmax", 1), ("argsort", 1)]


@pytest.mark.parametrize("name, axis", ZERO_D)
def test_zero_d_axis_errors(name, axis):
    with pytest.raises(np.exceptions.AxisError):
        getattr(np, name)(np.float64(1.0), axis=axis)
    with pytest.raises(AxisError):
        getattr(fnp, name)(np.float64(1.0), axis=axis)


@pytest.mark.parametrize("name", ["cumsum", "cumprod", "nancumsum", "nancumprod", "argmax",
                                  "argmin", "argsort"])
@pytest.mark.parametrize("axis", [0, -1])
def test_zero_d_axis_values(name, axis):
    for x in (np.float64(2.5), np.array(2.5)):
        want = getattr(np, name)(x, axis=axis)
        got = getattr(fnp, name)(x, axis=axis)
        assert np.shape(got) == np.shape(want)
        np.testing.assert_array_equal(got, want)
        assert np.asarray(got).dtype.kind == np.asarray(want).dtype.kind
    assert np.shape(fnp.argmax(np.float64(1.0), axis=0, keepdims=True)) == ()


def test_zero_d_cumsum_under_transforms():
    np.testing.assert_array_equal(ft.grad(lambda x: fnp.sum(fnp.cumprod(x * x, axis=0)))(3.0),
                                  6.0)
    np.testing.assert_array_equal(ft.jit(lambda x: fnp.cumsum(x, axis=-1))(np.float64(2.0)),
                                  [2.0])
    out = ft.vmap(lambda x: fnp.cumsum(x, axis=0))(np.arange(3.0))
    np.testing.assert_array_equal(out, [[0.0], [1.0], [2.0]])
    np.testing.assert_array_equal(ft.vmap(lambda x: fnp.argmax(x, axis=0))(np.arange(3.0)),
                                  [0, 0, 0])
