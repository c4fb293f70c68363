"""Session 42, sweepb42: the nn, random, control-flow, transforms and scipy fuzzers on fresh
seeds, and the transforms fuzzer's ``--extra`` cases (the less-travelled API).

Kept here, each against a reference computed in the test (closed forms, loops, the
dot-product identity): soft_sign's and squareplus's slopes at +-inf are their limits (JAX
0.10.2 gives nan there: x / (1 + |x|) and x / sqrt(x^2 + b) are inf / inf in its
derivative); holomorphic grad / jacfwd / jacrev / hessian; linear_transpose of maps between
pytrees, real and complex; custom_vjp and custom_jvp on pytrees with nondiff_argnums, under
grad, jit, vmap with dict in_axes, jacfwd / jacrev; vmap's dict in_axes with pytree
out_axes; jit's static_argnums / static_argnames (one staging per static value); hvp;
checkpoint with policies and static_argnums."""
import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
import functrans.nn as nn
from functrans.ad_checkpoint import checkpoint_name


def _np(backend, x):
    return np.asarray(backend.to_numpy(x))


# -- soft_sign / squareplus at +-inf ----------------------------------------------------------

# (function, x, first derivative's limit, second's)
_INF_SLOPES = [
    (nn.soft_sign, np.inf, 0.0, 0.0), (nn.soft_sign, -np.inf, 0.0, 0.0),
    (nn.squareplus, np.inf, 1.0, 0.0), (nn.squareplus, -np.inf, 0.0, 0.0),
    (lambda x: nn.squareplus(x, b=0.5), -np.inf, 0.0, 0.0),
    (lambda x: nn.squareplus(x, b=0.5), np.inf, 1.0, 0.0),
]


@pytest.mark.parametrize("fn,x,d1,d2", _INF_SLOPES)
def test_inf_slopes_are_the_limits(backend, fn, x, d1, d2):
    v = backend.asarray(np.array([x, -7.5]))
    g = _np(backend, ft.vmap(ft.grad(fn))(v))
    t = _np(backend, ft.jvp(fn, (v,), (backend.asarray(np.ones(2)),))[1])
    gg = _np(backend, ft.vmap(ft.grad(ft.grad(fn)))(v))
    assert g[0] == d1 and t[0] == d1 and gg[0] == d2
    # the finite element beside it: central differences (its slope is far from the limits)
    h = 1e-5
    fd = (float(fn(np.float64(-7.5 + h))) - float(fn(np.float64(-7.5 - h)))) / (2 * h)
    assert abs(g[1] - fd) < 1e-8 and abs(t[1] - fd) < 1e-8


def test_soft_sign_squareplus_second_derivative_vs_mpmath():
    """Where JAX's are finite too, to rounding; JAX's squareplus'' at x = 1e3 is 4e-11 off
    (relative: its sqrt(x^2 + b) form cancels)."""
    mpmath = pytest.importorskip("mpmath")
    xs = [-1e8, -3.0, -1e-3, 0.25, 7.0, 1e3, 1e8]
    with mpmath.workdps(40):
        def d2_soft_sign(x):
            x = mpmath.mpf(x)
            return -2 * mpmath.sign(x) / (1 + abs(x)) ** 3

        def d2_squareplus(x, b=4):
            x = mpmath.mpf(x)
            return b / (2 * (x * x + b) ** mpmath.mpf(1.5))
        want = {nn.soft_sign: [float(d2_soft_sign(x)) for x in xs],
                nn.squareplus: [float(d2_squareplus(x)) for x in xs]}
    for fn, w in want.items():
        got = np.asarray(ft.vmap(ft.grad(ft.grad(fn)))(np.array(xs)))
        np.testing.assert_allclose(got, w, rtol=2e-15, atol=0)


def test_squareplus_far_left_without_cancellation():
    """(x + sqrt(x^2 + b)) / 2 cancels for x << -sqrt(b) (JAX 0.10.2: 2.2e-8 for 2.5e-8 at
    x = -1e8, b = 10); functrans's value and slope there to rounding (mpmath)."""
    mpmath = pytest.importorskip("mpmath")
    xs = np.array([-1e8, -3e5, -1e3, -40.0])
    for b in (10.0, 4.0):
        with mpmath.workdps(50):
            want = [float((mpmath.mpf(x) + mpmath.sqrt(mpmath.mpf(x) ** 2 + b)) / 2) for x in xs]
            slope = [float((1 + mpmath.mpf(x) / mpmath.sqrt(mpmath.mpf(x) ** 2 + b)) / 2)
                     for x in xs]
        f = (lambda v: nn.squareplus(v, b=b))
        np.testing.assert_allclose(f(xs), want, rtol=4e-16, atol=0)
        np.testing.assert_allclose(ft.vmap(ft.grad(f))(xs), slope, rtol=1e-15, atol=0)


def test_log_softmax_with_a_kept_inf_is_scipys(backend):
    """The finite entries beside a +inf are -inf (their limit; SciPy's), JAX's nan."""
    sp = pytest.importorskip("scipy.special")
    x0 = np.array([[1.0, 2.0, np.inf, 0.5], [3.0, -1.0, 2.0, 0.0]])
    with np.errstate(invalid="ignore"):
        want = sp.log_softmax(x0, axis=-1)
    got = _np(backend, nn.log_softmax(backend.asarray(x0), axis=-1))
    np.testing.assert_array_equal(got, want)
    # with where: the excluded row -inf, the kept row as without where
    w = backend.asarray(np.array([[True], [False]]), dtype="bool")
    got = _np(backend, nn.log_softmax(backend.asarray(x0), axis=-1, where=w))
    np.testing.assert_array_equal(got[0], want[0])
    assert np.all(got[1] == -np.inf)


# -- holomorphic derivatives --------------------------------------------------------------------

_Z = np.array([0.3 - 0.7j, -1.1 + 0.2j, 0.5 + 0.5j])


def test_holomorphic_jacobians(backend):
    z = backend.asarray(_Z, dtype="complex128")

    def f(v):
        return fnp.sin(v) * v + (0.5 - 1.5j) * v

    want = np.diag(np.cos(_Z) * _Z + np.sin(_Z) + (0.5 - 1.5j))
    for jac in (ft.jacfwd, ft.jacrev):
        np.testing.assert_allclose(_np(backend, jac(f, holomorphic=True)(z)), want,
                                   rtol=1e-14, atol=1e-15)
    g = _np(backend, ft.grad(lambda v: fnp.sum(fnp.exp(v) * v), holomorphic=True)(z))
    np.testing.assert_allclose(g, np.exp(_Z) * (1 + _Z), rtol=1e-14)
    h = _np(backend, ft.hessian(lambda v: fnp.sum(v * v * v), holomorphic=True)(z))
    np.testing.assert_allclose(h, np.diag(6 * _Z), rtol=1e-14, atol=1e-15)
    # has_aux: the auxiliary value as the function gave it
    j, aux = ft.jacrev(lambda v: (fnp.tanh(v), fnp.abs(v[0])), holomorphic=True,
                       has_aux=True)(z)
    np.testing.assert_allclose(_np(backend, j), np.diag(1 - np.tanh(_Z) ** 2), rtol=1e-14,
                               atol=1e-15)
    assert float(_np(backend, aux)) == pytest.approx(abs(_Z[0]), rel=1e-15)


def test_holomorphic_refuses_real_input():
    with pytest.raises(TypeError, match="holomorphic"):
        ft.jacfwd(fnp.sin, holomorphic=True)(np.ones(2))


# -- linear_transpose between pytrees -----------------------------------------------------------

@pytest.mark.parametrize("dtype", ["float64", "complex128"])
def test_linear_transpose_pytrees(backend, dtype):
    rng = np.random.default_rng(4201)
    M = rng.uniform(-1, 1, (3, 3))
    a0, b0 = rng.uniform(-1, 1, (2, 3)), rng.uniform(-1, 1, 3)
    if dtype == "complex128":
        a0, b0 = a0 * (1 - 0.5j), b0 * (0.25 + 1j)
    Mx = backend.asarray(M)

    def f(t):
        a, b = t["a"], t["b"]
        return {"s": fnp.sum(a) * 2.0 - b[1], "v": fnp.matmul(Mx, b),
                "c": [fnp.cumsum(b), fnp.sum(b) * 2.0 - a]}

    prim = {"a": backend.asarray(a0, dtype), "b": backend.asarray(b0, dtype)}
    ct_np = {"s": np.asarray(0.7 - 0.2j if dtype == "complex128" else 0.7),
             "v": rng.uniform(-1, 1, 3).astype(dtype),
             "c": [rng.uniform(-1, 1, 3).astype(dtype), rng.uniform(-1, 1, (2, 3)).astype(dtype)]}
    ct = ft.tree.map(lambda v: backend.asarray(v, dtype), ct_np)
    (back,) = ft.linear_transpose(f, prim)(ct)
    # <ct, f(x)> = <f_t(ct), x>, bilinear (no conjugation: the transpose, not the adjoint)
    fx = ft.tree.map(lambda v: _np(backend, v), f(prim))
    lhs = sum(np.sum(c * y) for c, y in zip(ft.tree.leaves(ct_np), ft.tree.leaves(fx)))
    rhs = np.sum(_np(backend, back["a"]) * a0) + np.sum(_np(backend, back["b"]) * b0)
    assert abs(lhs - rhs) < 1e-13 * max(1.0, abs(lhs))
    assert _np(backend, back["a"]).dtype == np.dtype(dtype)


# -- custom_vjp / custom_jvp on pytrees with nondiff_argnums ------------------------------------

def _primal(c, t):
    x, (y0, y1) = t["x"], t["y"]
    return {"u": fnp.sin(x) * y0 + c * y1, "w": (fnp.sum(x * y1), y0 * y0)}


def _custom_vjp(nondiff):
    f = ft.custom_vjp(_primal, nondiff_argnums=(0,) if nondiff else ())

    def fwd(c, t):
        return _primal(c, t), (c, t)

    def bwd(*a):
        if nondiff:  # (c, the residuals, the cotangent)
            c, (_, t), ct = a
        else:
            (c, t), ct = a
        x, (y0, y1) = t["x"], t["y"]
        cu, (cw0, cw1) = ct["u"], ct["w"]
        gt = {"x": 1.5 * cu * fnp.cos(x) * y0 + cw0 * y1,
              "y": (1.5 * fnp.sum(cu * fnp.sin(x)) + 2.0 * cw1 * y0, 1.5 * c * cu + cw0 * x)}
        return (gt,) if nondiff else (1.5 * fnp.sum(cu * y1), gt)
    f.defvjp(fwd, bwd)
    return f


def _custom_jvp(nondiff):
    f = ft.custom_jvp(_primal, nondiff_argnums=(0,) if nondiff else ())

    def rule(*a):
        if nondiff:
            c, (t,), (dt,) = a
            dc = 0.0
        else:
            (c, t), (dc, dt) = a
        x, (y0, y1) = t["x"], t["y"]
        dx, (dy0, dy1) = dt["x"], dt["y"]
        du = 1.5 * (fnp.cos(x) * dx * y0 + fnp.sin(x) * dy0 + c * dy1 + dc * y1)
        return _primal(c, t), {"u": du, "w": (fnp.sum(dx * y1 + x * dy1), 2.0 * y0 * dy0)}
    f.defjvp(rule)
    return f


def _loss_grad_by_hand(c, x, y0, y1):
    """grad of sum(u^2) + w0 * w1 through the rule (u's derivatives scaled by 1.5)."""
    u = np.sin(x) * y0 + c * y1
    w0, w1 = np.sum(x * y1), y0 * y0
    cu = 2 * u
    gx = 1.5 * cu * np.cos(x) * y0 + w1 * y1
    gy0 = 1.5 * np.sum(cu * np.sin(x)) + 2.0 * w0 * y0
    gy1 = 1.5 * c * cu + w1 * x
    return gx, gy0, gy1


@pytest.mark.parametrize("kind", ["vjp", "jvp"])
@pytest.mark.parametrize("nondiff", [False, True])
def test_custom_rules_on_pytrees(backend, kind, nondiff):
    f = (_custom_vjp if kind == "vjp" else _custom_jvp)(nondiff)
    rng = np.random.default_rng(4202)
    x0, y00, y10, c = rng.uniform(-1, 1, 3), 0.6, rng.uniform(-1, 1, 3), -0.8
    t = {"x": backend.asarray(x0), "y": (backend.asarray(np.asarray(y00)),
                                         backend.asarray(y10))}

    def loss(t):
        o = f(c, t)
        return fnp.sum(o["u"] * o["u"]) + o["w"][0] * o["w"][1]
    gx, gy0, gy1 = _loss_grad_by_hand(c, x0, y00, y10)
    for g in (ft.grad(loss)(t), ft.jit(ft.grad(loss))(t)):
        np.testing.assert_allclose(_np(backend, g["x"]), gx, rtol=1e-13)
        np.testing.assert_allclose(_np(backend, g["y"][0]), gy0, rtol=1e-13)
        np.testing.assert_allclose(_np(backend, g["y"][1]), gy1, rtol=1e-13)
    # vmap over x and y1 (y0 shared) with a dict in_axes: a loop of the grads by hand
    xs, y1s = np.stack([x0, 0.5 * x0]), np.stack([y10, -y10])
    tb = {"x": backend.asarray(xs), "y": (backend.asarray(np.asarray(y00)),
                                          backend.asarray(y1s))}
    gb = ft.vmap(ft.grad(loss), in_axes=({"x": 0, "y": (None, 0)},))(tb)
    for k in range(2):
        gx, gy0, gy1 = _loss_grad_by_hand(c, xs[k], y00, y1s[k])
        np.testing.assert_allclose(_np(backend, gb["x"])[k], gx, rtol=1e-13)
        np.testing.assert_allclose(_np(backend, gb["y"][0])[k], gy0, rtol=1e-13)
        np.testing.assert_allclose(_np(backend, gb["y"][1])[k], gy1, rtol=1e-13)
    # the Jacobian of u in x through the rule: 1.5 cos(x) y0 on the diagonal
    jac = ft.jacfwd if kind == "jvp" else ft.jacrev
    j = jac(lambda t: f(c, t)["u"])(t)
    np.testing.assert_allclose(_np(backend, j["x"]), np.diag(1.5 * np.cos(x0) * y00),
                               rtol=1e-13, atol=1e-16)


def test_custom_rules_on_pytrees_vs_jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy

    def primal(c, t):
        x, (y0, y1) = t["x"], t["y"]
        return {"u": jnp.sin(x) * y0 + c * y1, "w": (jnp.sum(x * y1), y0 * y0)}
    fj = jax.custom_jvp(primal, nondiff_argnums=(0,))

    @fj.defjvp
    def rule(c, primals, tangents):
        (t,), (dt,) = primals, tangents
        x, (y0, y1) = t["x"], t["y"]
        dx, (dy0, dy1) = dt["x"], dt["y"]
        du = 1.5 * (jnp.cos(x) * dx * y0 + jnp.sin(x) * dy0 + c * dy1)
        return primal(c, t), {"u": du, "w": (jnp.sum(dx * y1 + x * dy1), 2.0 * y0 * dy0)}
    ff = _custom_jvp(True)
    rng = np.random.default_rng(4203)
    t = {"x": rng.uniform(-1, 1, 3), "y": (np.float64(0.3), rng.uniform(-1, 1, 3))}

    def hess(f, lib):
        def loss(t):
            o = f(0.7, t)
            return lib.sum(o["u"] * o["u"]) + o["w"][0] * o["w"][1]
        return loss
    got = ft.hessian(hess(ff, fnp))(t)
    want = jax.hessian(hess(fj, jnp))(t)
    for a, b in zip(ft.tree.leaves(got), jax.tree_util.tree_leaves(want)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-12, atol=1e-14)


# -- vmap: dict in_axes, pytree out_axes --------------------------------------------------------

@pytest.mark.parametrize("ax_a,ax_b,out_u,out_v", [(1, None, 0, -1), (-1, 0, 0, 1),
                                                   (None, -1, 0, 0), (0, 0, 0, -1)])
def test_vmap_dict_in_axes_pytree_out_axes(backend, ax_a, ax_b, out_u, out_v):
    rng = np.random.default_rng(4204)
    a_unb, b_unb = rng.uniform(-1, 1, (2, 3)), rng.uniform(-1, 1, 3)
    members = [(a_unb * (k + 1) if ax_a is not None else a_unb,
                b_unb - k if ax_b is not None else b_unb) for k in range(3)]
    a = np.moveaxis(np.stack([m[0] for m in members]), 0, ax_a) if ax_a is not None else a_unb
    b = np.moveaxis(np.stack([m[1] for m in members]), 0, ax_b) if ax_b is not None else b_unb

    def f(t):
        return {"u": fnp.sum(t["a"] * t["b"]) + fnp.sin(t["b"][0]),
                "v": fnp.matmul(fnp.tanh(t["a"]), t["b"])}
    out = ft.jit(ft.vmap(f, in_axes=({"a": ax_a, "b": ax_b},),
                         out_axes={"u": out_u, "v": out_v}))(
        {"a": backend.asarray(a), "b": backend.asarray(b)})
    u, v = _np(backend, out["u"]), _np(backend, out["v"])
    for k, (ak, bk) in enumerate(members):
        assert u[k] == pytest.approx(np.sum(ak * bk) + np.sin(bk[0]), rel=1e-14)
        np.testing.assert_allclose(np.take(v, k, axis=out_v), np.tanh(ak) @ bk, rtol=1e-14)


# -- jit: static arguments ----------------------------------------------------------------------

def test_jit_static_argnums_and_argnames(backend):
    x0 = np.random.default_rng(4205).uniform(-1, 1, (2, 3))
    x = backend.asarray(x0)
    traces = []

    def f(v, k, mode="sum"):
        traces.append((k, mode))
        y = fnp.sin(v) * (k + 1)
        return fnp.sum(y, axis=k % 2) if mode == "sum" else fnp.max(y, axis=k % 2)

    def want(k, mode):
        y = np.sin(x0) * (k + 1)
        return np.sum(y, axis=k % 2) if mode == "sum" else np.max(y, axis=k % 2)
    by_nums = ft.jit(f, static_argnums=(1, 2))
    by_names = ft.jit(f, static_argnames=("k", "mode"))
    by_neg = ft.jit(f, static_argnums=(-2, -1))
    for k, mode in [(0, "sum"), (1, "max"), (0, "sum"), (2, "max")]:
        for got in (by_nums(x, k, mode), by_names(x, k=k, mode=mode), by_neg(x, k, mode)):
            np.testing.assert_allclose(_np(backend, got), want(k, mode), rtol=1e-15)
    # one staging per function and static value: (0, "sum") again reuses its graph
    assert len(traces) == 9
    with pytest.raises(TypeError, match="hashable"):
        ft.jit(f, static_argnums=0)(x0, 1)


# -- hvp, checkpoint ----------------------------------------------------------------------------

def test_hvp_one_and_two_primals(backend):
    rng = np.random.default_rng(4206)
    x0, v0, y0, w0 = (rng.uniform(-1, 1, 3) for _ in range(4))
    x, v, y, w = (backend.asarray(a) for a in (x0, v0, y0, w0))
    hv = ft.hvp(lambda x: fnp.sum(x * x * x), (x,), (v,))
    np.testing.assert_allclose(_np(backend, hv), 6 * x0 * v0, rtol=1e-14)
    hx, hy = ft.hvp(lambda x, y: fnp.sum(x * x * y), (x, y), (v, w))
    # d^2/dx^2 = 2 y, d^2/dxdy = 2 x
    np.testing.assert_allclose(_np(backend, hx), 2 * y0 * v0 + 2 * x0 * w0, rtol=1e-14)
    np.testing.assert_allclose(_np(backend, hy), 2 * x0 * v0, rtol=1e-14)


@pytest.mark.parametrize("policy", [None, "nothing_saveable", "everything_saveable",
                                    "dots_saveable", "names"])
def test_checkpoint_policies_static_argnums(policy):
    pols = ft.checkpoint_policies
    pol = None if policy is None else pols.save_only_these_names("h") if policy == "names" \
        else getattr(pols, policy)
    rng = np.random.default_rng(4207)
    W, x0 = rng.uniform(-1, 1, (3, 3)), rng.uniform(-1, 1, 3)

    def block(x, n):
        h = checkpoint_name(fnp.tanh(fnp.matmul(W, x)), "h")
        for _ in range(n):
            h = fnp.sin(h) * x
        return fnp.sum(h * h)
    plain = ft.grad(lambda x: block(x, 2))(x0)
    remat = ft.checkpoint(block, policy=pol, static_argnums=(1,))
    for g in (ft.grad(lambda x: remat(x, 2))(x0), ft.jit(ft.grad(lambda x: remat(x, 2)))(x0)):
        np.testing.assert_allclose(g, plain, rtol=1e-14)
    np.testing.assert_allclose(ft.hessian(lambda x: remat(x, 2))(x0),
                               ft.hessian(lambda x: block(x, 2))(x0), rtol=1e-13)
    # and central differences for the gradient itself
    h = 1e-6
    fd = [(float(block(x0 + h * e, 2)) - float(block(x0 - h * e, 2))) / (2 * h)
          for e in np.eye(3)]
    np.testing.assert_allclose(plain, fd, rtol=1e-7, atol=1e-9)
