"""Session 53 (cond53): a staged ``lax.cond`` under reverse mode keeps each branch's residuals.

Fixed: the backward pass of a cond on a staged predicate (``jit(grad(f))``, hvp, a staged
linearize) ran the chosen branch again: the linear ``cond_lin`` kept only the cond's inputs,
and its transpose was a cond of the branches' ``vjp``s, which recomputed the branch's forward
work (a 64 x 64 ``tanh(tanh(x @ W) @ W)`` branch, CPU medians: jit(grad) 136 -> 99 us,
jit(hvp) 239 -> 179 us). Now each branch is linearized once, abstractly (JAX's partial
evaluation of cond, ``_cond_partial``): the forward cond also returns the residuals of the
chosen branch's tangent map (in places shared by the branches' residuals of one shape and
dtype, zero-filled in a branch that has none there; a residual that is one of the cond's
outputs is read there; a broadcast or transpose of an operand is recomputed), and
``cond_lin`` runs (transposes) that map on them. A cond on tangents alone (svd's, bound by
``_bind_cond``: no output wanted, so a forward cond would only add a call and copies) and one
batched eagerly (branches staged anew each call) keep the inputs as residuals: their graphs
and costs are as before.

Left: each branch of svd's backward cond returns zeros for the operand only the other branch
reads, which the backward pass then adds (session 52's (b), ~8 us of an 8 x 16 x 16 svd's
jit(grad)): ``test_svd_backward_cond_returns_no_zeros``, a strict xfail until session 54
(test_s54_cond54: the branches take t alone under reverse mode).
"""

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.graph import Graph
from .test_s52_cond52 import _conds

RNG = np.random.default_rng(53)
W = RNG.standard_normal((6, 6)) / 3
X = RNG.standard_normal((4, 6))
V = RNG.standard_normal((4, 6))


# (_conds: the cond equations of a staged graph, nested ones included)


def _count(graph, name):
    n = 0
    for prim, _ins, params, _outs in graph.eqns:
        n += prim.name == name
        for p in params.values():
            for g in (p if isinstance(p, tuple) else (p,)):
                if isinstance(g, Graph):
                    n += _count(g, name)
    return n


def heavy(x, p):
    return fnp.sum(ft.lax.cond(p > 0, lambda x: fnp.tanh(fnp.tanh(x @ W) @ W),
                               lambda x: fnp.sin(fnp.exp(x @ W * 0.1)), x))


def heavy_ref(x, p):
    return fnp.sum(fnp.tanh(fnp.tanh(x @ W) @ W) if p > 0 else fnp.sin(fnp.exp(x @ W * 0.1)))


def _central(f, x, v, h=1e-6):
    return (f(x + h * v) - f(x - h * v)) / (2 * h)


def test_backward_cond_does_not_run_the_branch_again():
    graph = ft.make_graph(ft.grad(heavy))(X, 1.0)
    conds = _conds(graph)
    assert len(conds) == 2
    fwd, bwd = conds[0][0]["branches"], conds[1][0]["branches"]
    # the forward work (tanh, exp, sin, the matmuls by W) once, in the forward cond; base:
    # again in the backward cond's branches (their vjps: 2 more matmuls, tanh_slope, exp...)
    nonlinear = ("tanh", "tanh_slope", "exp", "sin", "cos", "sin_cos")
    assert sum(_count(g, n) for g in fwd for n in nonlinear) == 4
    assert sum(_count(g, n) for g in bwd for n in nonlinear) == 0
    assert [_count(g, "matmul") for g in bwd] == [1, 2]


@pytest.mark.parametrize("p", [1.0, -1.0])
def test_values_first_and_second_order(p):
    p = np.float64(p)
    g = ft.jit(ft.grad(heavy))(X, p)
    np.testing.assert_allclose(g, ft.grad(heavy_ref)(X, float(p)), rtol=1e-13, atol=1e-14)
    # the gradient against central differences (a directional derivative)
    np.testing.assert_allclose(np.sum(g * V), _central(lambda x: heavy_ref(x, p), X, V),
                               rtol=1e-7)
    # hvp (forward over reverse) and grad of grad, staged
    hv = ft.jit(lambda x, v: ft.jvp(lambda a: ft.grad(heavy)(a, p), (x,), (v,))[1])(X, V)
    want = ft.jvp(lambda a: ft.grad(heavy_ref)(a, float(p)), (X,), (V,))[1]
    np.testing.assert_allclose(hv, want, rtol=1e-12, atol=1e-13)
    fd = _central(lambda x: ft.grad(heavy_ref)(x, float(p)), X, V, h=1e-5)
    np.testing.assert_allclose(hv, fd, rtol=1e-5, atol=1e-7)

    def gg(x):
        return ft.grad(lambda y: fnp.sum(ft.grad(heavy)(y, p) ** 2))(x)
    got = ft.jit(gg)(X)
    want = ft.grad(lambda y: fnp.sum(ft.grad(heavy_ref)(y, float(p)) ** 2))(X)
    np.testing.assert_allclose(got, want, rtol=1e-11, atol=1e-12)


def test_residuals_of_different_types_and_none():
    # branch 1's residuals (a (3,) and a (4, 6) array) have no place of their type in branch
    # 0 (a (4, 6) residual, shared; the (3,) zero-filled), the third branch has none
    c = np.array([0.5, -1.0, 2.0])

    def f(x, i):
        return fnp.sum(ft.lax.switch(i, [
            lambda x, c: fnp.exp(x) * 2.0,
            lambda x, c: fnp.sin(x) * fnp.sum(fnp.cos(c * fnp.sum(x))),
            lambda x, c: x * 3.0 + fnp.sum(c)], x, c))

    def ref(x, i, c=c):
        return [lambda: fnp.sum(fnp.exp(x) * 2.0),
                lambda: fnp.sum(fnp.sin(x) * fnp.sum(fnp.cos(c * fnp.sum(x)))),
                lambda: fnp.sum(x * 3.0 + fnp.sum(c))][i]()
    jg = ft.jit(ft.grad(f))
    for i in range(3):
        got = jg(X, np.int32(i))
        np.testing.assert_allclose(got, ft.grad(ref)(X, i), rtol=1e-13, atol=1e-14)
        np.testing.assert_allclose(np.sum(got * V), _central(lambda x: ref(x, i), X, V),
                                   rtol=1e-7, atol=1e-9)


def test_residual_that_is_an_output_is_not_returned_twice():
    # exp's tangent map reads exp(x), the cond's own output: the forward cond returns it
    # once; a broadcast of an operand is recomputed, not stored
    def f(x, p):
        return fnp.sum(ft.lax.cond(p > 0, fnp.exp,
                                   lambda x: x * fnp.broadcast_to(x[0], x.shape), x))
    graph = ft.make_graph(ft.grad(f))(X, 1.0)
    assert [len(o) for _, o in _conds(graph)] == [1, 1]
    for p in (1.0, -1.0):
        got = ft.jit(ft.grad(f))(X, np.float64(p))
        want = ft.grad(lambda x: fnp.sum(fnp.exp(x) if p > 0
                                         else x * fnp.broadcast_to(x[0], x.shape)))(X)
        np.testing.assert_allclose(got, want, rtol=1e-14)


@pytest.mark.parametrize("p", [1.0, -1.0])
def test_linearize_and_linear_transpose_of_the_tangent_map(p):
    p = np.float64(p)
    out, f_jvp = ft.linearize(lambda x: heavy(x, p), X)
    np.testing.assert_allclose(out, heavy_ref(X, float(p)), rtol=1e-14)
    want = ft.jvp(lambda x: heavy_ref(x, float(p)), (X,), (V,))[1]
    np.testing.assert_allclose(f_jvp(V), want, rtol=1e-13)
    t = ft.linear_transpose(f_jvp, X)(np.float64(1.0))[0]
    np.testing.assert_allclose(t, ft.grad(heavy_ref)(X, float(p)), rtol=1e-13, atol=1e-14)
    # staged (the predicate an argument): the tangent map evaluated forward (cond_lin's own
    # rule), and transposed by linear_transpose
    got = ft.jit(lambda x, v, p: ft.linearize(lambda y: heavy(y, p), x)[1](v))(X, V, p)
    np.testing.assert_allclose(got, want, rtol=1e-13)
    t = ft.jit(lambda x, c, p: ft.linear_transpose(
        ft.linearize(lambda y: heavy(y, p), x)[1], x)(c)[0])(X, np.float64(1.0), p)
    np.testing.assert_allclose(t, ft.grad(heavy_ref)(X, float(p)), rtol=1e-13, atol=1e-14)


def test_vmap_of_grad_with_a_batched_predicate():
    ps = np.array([1.0, -1.0, 2.0, -0.5])
    xs = np.stack([X, X * 0.5, -X, X + 1.0])
    for fn in (ft.vmap(ft.grad(heavy)), ft.jit(ft.vmap(ft.grad(heavy)))):
        got = fn(xs, ps)
        for m in range(4):
            np.testing.assert_allclose(got[m], ft.grad(heavy_ref)(xs[m], ps[m]),
                                       rtol=1e-12, atol=1e-13)


def test_cond_inside_scan_while_and_checkpoint():
    def step(c, x):
        c = ft.lax.cond(fnp.sum(c) > 0, lambda c: fnp.tanh(c @ W) + x,
                        lambda c: fnp.sin(c) * x, c)
        return c, fnp.sum(c)

    def f_scan(x):
        c, ys = ft.lax.scan(step, x[0], x)
        return fnp.sum(c) + fnp.sum(ys)

    def f_while(x, n):  # abstract bounds: a while_loop
        return fnp.sum(ft.lax.fori_loop(0, n, lambda i, c: step(c, x[i])[0], x[0]))

    def f_ckpt(x):
        return ft.checkpoint(lambda y: heavy(y, fnp.sum(y)))(x)

    xs = X[:3, :]
    vs = V[:3, :]
    np.testing.assert_allclose(
        np.sum(ft.jit(ft.grad(f_scan))(xs) * vs), _central(f_scan, xs, vs), rtol=1e-7)
    g = ft.jit(ft.grad(f_while))(xs, 3)
    np.testing.assert_allclose(np.sum(g * vs), _central(lambda x: f_while(x, 3), xs, vs),
                               rtol=1e-7)
    for x in (X, -X):
        g = ft.jit(ft.grad(f_ckpt))(x)
        np.testing.assert_allclose(g, ft.grad(heavy_ref)(x, float(np.sum(x))),
                                   rtol=1e-13, atol=1e-14)


def test_custom_jvp_cond_on_tangents_is_as_before():
    # a cond on the tangents alone (a custom rule's, svd's): no forward cond, the residuals
    # recomputed by the backward one
    @ft.custom_jvp
    def f(x):
        return fnp.sin(x)

    @f.defjvp
    def f_jvp(primals, tangents):
        x, = primals
        t, = tangents
        return fnp.sin(x), ft.lax.cond(fnp.sum(x) > 0, lambda t: fnp.cos(x) * t,
                                       lambda t: t * 2.0 * fnp.cos(x) / 2.0, t)
    graph = ft.make_graph(ft.grad(lambda x: fnp.sum(f(x))))(X)
    assert [len(o) for _, o in _conds(graph)] == [1]
    got = ft.jit(ft.grad(lambda x: fnp.sum(f(x))))(X)
    np.testing.assert_allclose(got, np.cos(X), rtol=1e-14)
    hv = ft.jit(lambda x, v: ft.jvp(ft.grad(lambda y: fnp.sum(f(y))), (x,), (v,))[1])(X, V)
    np.testing.assert_allclose(hv, -np.sin(X) * V, rtol=1e-13)


def test_svd_backward_cond_returns_no_zeros():
    x = np.random.default_rng(53).standard_normal((2, 4, 4))

    def loss(x):
        u, s, vh = fnp.linalg.svd(x, full_matrices=False)
        return fnp.sum(fnp.sin(u)) + fnp.sum(s ** 2) + fnp.sum(fnp.cos(vh))
    graph = ft.make_graph(ft.grad(loss))(x)
    (params, _), = _conds(graph)
    for g in params["branches"]:
        made = {o for prim, _i, _p, o in g.eqns if prim.name == "full_like"}
        assert not made & set(g.outputs)


@ft.custom_vjp
def _cv(x):
    return fnp.sin(x) * 2.0


_cv.defvjp(lambda x: (_cv(x), (fnp.cos(x),)), lambda res, g: (g * res[0] * 2.0,))


@ft.custom_jvp
def _cj(x):
    return fnp.exp(x) - 1.0


_cj.defjvp(lambda p, t: (_cj(p[0]), fnp.exp(p[0]) * t[0]))


def _custom(x, p):  # custom functions in the branches (residuals held in parameters)
    return fnp.sum(ft.lax.cond(p > 0, lambda x: _cv(x) * x, lambda x: _cj(x) ** 2, x))


def _nested(x, p):
    def inner(x):
        return ft.lax.cond(fnp.sum(x) > p, lambda y: fnp.tanh(y) * y,
                           lambda y: fnp.exp(-y * y), x)
    return fnp.sum(ft.lax.cond(p > 0, lambda x: inner(x) * fnp.sin(x),
                               lambda x: inner(x * 2.0), x))


def _ints(x, p):  # an integer operand and output, an output that is an operand
    a, k, b = ft.lax.cond(p > 0, lambda x, n: (fnp.sin(x), n + 1, x),
                          lambda x, n: (fnp.cos(x) * x, n * 2, x * 0.5), x, fnp.asarray(3))
    return fnp.sum(a * fnp.astype(k, x.dtype)) + fnp.sum(b * b)


@pytest.mark.parametrize("f", [_custom, _nested, _ints])
@pytest.mark.parametrize("p", [1.0, -1.0])
def test_staged_against_eager_to_second_order(f, p):
    # eager (a concrete predicate: Python's if) is the reference; staged takes the new path
    x, v, pj = X[:3, :4], V[:3, :4], np.float64(p)
    np.testing.assert_allclose(ft.jit(ft.grad(f))(x, pj), ft.grad(f)(x, p), rtol=1e-14,
                               atol=1e-15)
    hv = ft.jit(lambda x, v: ft.jvp(lambda a: ft.grad(f)(a, pj), (x,), (v,))[1])(x, v)
    np.testing.assert_allclose(hv, ft.jvp(lambda a: ft.grad(f)(a, p), (x,), (v,))[1],
                               rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(ft.jit(ft.hessian(f))(x, pj), ft.hessian(f)(x, p),
                               rtol=1e-13, atol=1e-14)
    fd = _central(lambda y: f(y, p), x, v)
    np.testing.assert_allclose(np.sum(ft.grad(f)(x, p) * v), fd, rtol=1e-7)
