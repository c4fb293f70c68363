"""Session 32, torch and array-api-strict against NumPy (xback32): custom_vjp's bwd with a
plain cotangent beside a traced residual (or the other way round) on array-api-strict."""

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp


def _check(backend, got, want, rtol=1e-12, atol=0.0):
    assert backend.is_own(got), type(got)
    got = backend.to_numpy(got)
    want = np.asarray(want)
    assert got.dtype == want.dtype and got.shape == want.shape, (got.dtype, got.shape)
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)


# -- custom_vjp: bwd's cotangent and residuals mix plain arrays and tracers ------------------


def _xsin():
    @ft.custom_vjp
    def f(x):
        return x * fnp.sin(x)

    def fwd(x):
        return f(x), x

    def bwd(x, ct):
        return (ct * (fnp.sin(x) + x * fnp.cos(x)),)  # (the plain cotangent on the left)
    f.defvjp(fwd, bwd)
    return f


def test_custom_vjp_bwd_plain_cotangent_beside_traced_residual(backend):
    """Under vmap or jit of a gradient, the cotangent bwd gets does not depend on the batched
    or staged values (a plain array) while the residual does (a tracer): ``ct * r`` raised
    TypeError on array-api-strict, whose operators refuse a tracer on their right."""
    f = _xsin()
    x = np.array([[0.3, 0.5, 0.7], [1.1, 1.3, -0.4]])
    w = np.array([1.0, 2.0, 3.0])
    X, W = backend.asarray(x), backend.asarray(w)

    def g(x):
        return fnp.sum(f(x) * W)
    want = (np.sin(x) + x * np.cos(x)) * w
    for t in (ft.vmap(ft.grad(g)), ft.jit(ft.vmap(ft.grad(g))), ft.vmap(ft.jit(ft.grad(g))),
              ft.grad(lambda x: fnp.sum(ft.vmap(g)(x)))):
        _check(backend, t(X), want)
    _check(backend, ft.jit(ft.grad(g))(X[0, ...]), want[0])
    # (second order: the rule's cotangent times a traced residual's tangent)
    d2 = (2 * np.cos(x) - x * np.sin(x)) * w
    _check(backend, ft.vmap(lambda v: fnp.diagonal(ft.hessian(g)(v)))(X), d2)


def test_custom_vjp_bwd_plain_residual_beside_batched_cotangent(backend):
    """A residual that is a plain array (a constant matrix saved by fwd) beside batched
    cotangents (jacrev, vmap of the vjp function): ``ct @ W.T`` raised TypeError on
    array-api-strict, so jacrev and jacfwd of such a function failed there."""
    m = np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0], [2.0, 1.0, 1.0]])
    M = backend.asarray(m)

    @ft.custom_vjp
    def f(x):
        return fnp.sin(x) @ M

    def fwd(x):
        return f(x), (fnp.cos(x), M)

    def bwd(res, ct):
        c, mr = res
        return (c * (ct @ mr.T),)
    f.defvjp(fwd, bwd)
    x = np.array([0.3, 0.5, 0.7])
    X = backend.asarray(x)
    jac = m.T * np.cos(x)  # d f_i / d x_j = cos(x_j) m[j, i]
    _check(backend, ft.jacrev(f)(X), jac)
    _check(backend, ft.jacfwd(f)(X), jac)
    _check(backend, ft.jit(ft.jacrev(f))(X), jac)
    _check(backend, ft.vmap(ft.vjp(f, X)[1])(backend.asarray(np.eye(3)))[0], jac)
    xb = np.stack([x, -2 * x])
    _check(backend, ft.vmap(ft.jacrev(f))(backend.asarray(xb)),
           np.stack([m.T * np.cos(v) for v in xb]))


def test_custom_jvp_rule_plain_tangent_beside_traced_primal(backend):
    """A custom_jvp rule given a plain tangent beside a batched primal (vmap of jvp with a
    tangent closed over) or a batched tangent beside a plain primal: the product of the two,
    written either way round, raised TypeError on array-api-strict."""
    @ft.custom_jvp
    def f(x):
        return fnp.sin(x)

    @f.defjvp
    def f_jvp(primals, tangents):
        x, = primals
        t, = tangents
        return f(x), t * fnp.cos(x) + fnp.cos(x) * t - t * fnp.cos(x)
    x = np.array([[0.3, 0.5, 0.7], [1.1, 1.3, -0.4]])
    w = np.array([1.0, 2.0, 3.0])
    X, W = backend.asarray(x), backend.asarray(w)
    want = np.cos(x) * w
    _check(backend, ft.vmap(lambda v: ft.jvp(f, (v,), (W,))[1])(X), want)
    _check(backend, ft.jit(ft.vmap(lambda v: ft.jvp(f, (v,), (W,))[1]))(X), want)
    _check(backend, ft.vmap(lambda t: ft.jvp(f, (X[0, ...],), (t,))[1])(X),
           np.cos(x[0]) * x)
    _check(backend, ft.vmap(ft.jacfwd(f))(X), np.stack([np.diag(np.cos(v)) for v in x]))
