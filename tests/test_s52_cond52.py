"""Session 52 (cond52): the cost of a staged ``lax.cond`` under reverse mode.

Fixed: the transpose of a ``cond_lin`` (the backward pass of a cond on an abstract
predicate, ``jit(grad(f))``) gave every differentiated operand a cotangent, the branches
returning zeros for the ones that no branch's outputs read, which the backward pass then
added (svd's cond in jit(grad) of a real 8 x 16 x 16 svd loss: t V's, one full_like and one
add a call). Now such an operand's cotangent is a symbolic zero (``_read_operands``).

Left (measured, not generic overhead of control_flow/compiling): the cond's predicate (svd's
``_staged_may_tie``, ~10 us alone, ~25 us in place after the LAPACK call), the cond's call
(~5 us: the index read, the branch program's call, ``_fresh``), and the zeros a branch
returns for an operand that only the other branch reads (t's or dP's, ~8 us with its add).
"""

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.graph import Graph


def _conds(graph):
    """The cond equations of a staged graph, nested graphs included (in order)."""
    found = []
    for prim, _ins, params, outs in graph.eqns:
        if prim.name == "cond":
            found.append((params, outs))
        for p in params.values():
            for g in (p if isinstance(p, tuple) else (p,)):
                if isinstance(g, Graph):
                    found.extend(_conds(g))
    return found


def f_unread(x, y, p):
    # y is an operand that neither branch reads: its cotangent through the cond is zero
    out = ft.lax.cond(p > 0, lambda x, y: fnp.sin(x) * x, lambda x, y: fnp.cos(x) + x, x, y)
    return fnp.sum(out) + fnp.sum(y * y)


def f_ref(x, y, p):
    out = fnp.sin(x) * x if p > 0 else fnp.cos(x) + x
    return fnp.sum(out) + fnp.sum(y * y)


X = np.linspace(-1.0, 2.0, 6)
Y = np.linspace(0.5, 1.5, 6)


def test_unread_operand_gets_no_cotangent_output():
    graph = ft.make_graph(ft.grad(f_unread, argnums=(0, 1)))(X, Y, 1.0)
    outs = [len(o) for _, o in _conds(graph)]
    # the forward cond (its value, then its residuals: session 53) and the backward one
    # (x's cotangent only; base: x's and a zeros for y)
    assert len(outs) == 2 and outs[1] == 1, outs


@pytest.mark.parametrize("p", [1.0, -1.0])
def test_unread_operand_grad_values(p):
    got = ft.jit(ft.grad(f_unread, argnums=(0, 1)))(X, Y, np.float64(p))
    want = ft.grad(f_ref, argnums=(0, 1))(X, Y, p)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-14, atol=0)
    # second order through the transposed cond (forward over reverse)
    hv = ft.jit(lambda x, y, v: ft.jvp(lambda a: ft.grad(f_unread)(a, y, np.float64(p)),
                                        (x,), (v,))[1])(X, Y, Y)
    hw = ft.jvp(lambda a: ft.grad(f_ref)(a, Y, p), (X,), (Y,))[1]
    np.testing.assert_allclose(hv, hw, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("p", [1.0, -1.0])
def test_closed_over_value_read_by_one_branch(p):
    # c is closed over by the true branch only (a captured operand of its span): its
    # cotangent is x's sin in one branch, zero in the other
    def f(x, c, p):
        return fnp.sum(ft.lax.cond(p > 0, lambda x: fnp.sin(x) * c, lambda x: fnp.cos(x), x))
    gx, gc = ft.jit(ft.grad(f, argnums=(0, 1)))(X, np.float64(1.5), np.float64(p))
    if p > 0:
        np.testing.assert_allclose(gx, np.cos(X) * 1.5, rtol=1e-14)
        np.testing.assert_allclose(gc, np.sum(np.sin(X)), rtol=1e-14)
    else:
        np.testing.assert_allclose(gx, -np.sin(X), rtol=1e-14)
        assert gc == 0.0
    # VJP against the dot-product identity with a central difference along a direction
    d, dc, eps = np.cos(3 * X), 0.7, 1e-6
    fd = (f(X + eps * d, 1.5 + eps * dc, p) - f(X - eps * d, 1.5 - eps * dc, p)) / (2 * eps)
    np.testing.assert_allclose(np.dot(gx, d) + gc * dc, fd, rtol=1e-8)


def test_svd_cond_backward_has_no_unread_output():
    # svd's staged cond (linalg52's _svd_tangents): t V is read by neither branch of a
    # square x, so the backward cond returns the cotangents of t and dP only (base: 3)
    x = np.random.default_rng(52).standard_normal((2, 4, 4))

    def loss(x):
        u, s, vh = fnp.linalg.svd(x, full_matrices=False)
        return fnp.sum(fnp.sin(u)) + fnp.sum(s ** 2) + fnp.sum(fnp.cos(vh))
    graph = ft.make_graph(ft.grad(loss))(x)
    # (session 53: no forward cond either: a cond on tangents alone recomputes its
    # residuals in the backward one; session 54: its branches take t alone, and return
    # t's cotangent only)
    assert [len(o) for _, o in _conds(graph)] == [1]
    got = ft.jit(ft.grad(loss))(x)
    d = np.random.default_rng(1).standard_normal(x.shape)
    eps = 1e-6
    fd = (loss(x + eps * d) - loss(x - eps * d)) / (2 * eps)
    np.testing.assert_allclose(np.sum(got * d), fd, rtol=1e-7)
