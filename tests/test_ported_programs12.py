"""Programs that JAX users write, not ported in rounds 1 to 11 (test_ported_programs.py to
11), most written once as ``program(np_, T, lax)`` so the same text runs on JAX with x64 as
the reference, and run on every backend of the ``backend`` fixture:

- TODO

Every reference is independent of functrans: a closed form, SciPy, NumPy by hand, central
differences (``check_grads``), or JAX 0.10.2 with x64 (computed once per module, not once per
backend). The code is written for this file.

Written the way the suite's backends need: array-api-strict's operators refuse a tracer on
their right (its issue #188), so a plain array never comes first in an operator beside a
tracer.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest

import functrans as ft
import functrans.lax as flax
import functrans.numpy as fnp
from functrans.testing import check_grads

from ._ported import _jax, _jnp, _np, _on, close

RNG = np.random.default_rng(12)


def _lse(np_, x, axis=None, keepdims=False):
    m = np_.max(x, axis=axis, keepdims=True)
    out = m + np_.log(np_.sum(np_.exp(x - m), axis=axis, keepdims=True))
    return out if keepdims else (np_.squeeze(out, axis=axis) if axis is not None
                                 else np_.reshape(out, ()))


# -- entropy-regularised value iteration: custom_root, and dV/dr is the occupancy -----------------

MDP_S, MDP_A, MDP_GAMMA, MDP_TAU = 4, 3, 0.9, 0.5
MDP_P = RNG.dirichlet(np.ones(MDP_S), size=(MDP_S, MDP_A))  # P[s, a, s']
MDP_R = RNG.normal(size=(MDP_S, MDP_A))


def soft_mdp(np_, T, lax, P, gamma=MDP_GAMMA, tau=MDP_TAU):
    """The soft Bellman operator's fixed point V(r) by custom_root (its derivative by the
    implicit function theorem), the same by 400 unrolled sweeps, and the soft-greedy policy."""
    def bellman(V, r):
        Q = gamma * np_.einsum("sat,t->sa", P, V) + r  # (#188: r may be a plain array)
        return tau * _lse(np_, Q / tau, axis=1)

    def fixed_point(f, V0):  # iterating the contraction V <- V - f(V)
        def cond(s):
            return (s[1] > 1e-14) & (s[2] < 1000)

        def body(s):
            V, _, i = s
            Vn = V - f(V)
            return Vn, np_.max(np_.abs(Vn - V)), i + 1
        return lax.while_loop(cond, body, (V0, np_.max(np_.abs(V0)) + 1.0, 0))[0]

    def tangent_solve(g, y):
        return np_.linalg.solve(T.jacfwd(g)(y), y)

    def value(r):
        return lax.custom_root(lambda V: V - bellman(V, r), np_.zeros_like(r[:, 0]),
                               fixed_point, tangent_solve)

    def value_unrolled(r, n=400):
        return lax.fori_loop(0, n, lambda i, V: bellman(V, r), np_.zeros_like(r[:, 0]))

    def policy(r):
        V = value(r)
        Q = gamma * np_.einsum("sat,t->sa", P, V) + r
        return np_.exp((Q - V[:, None]) / tau)
    return value, value_unrolled, policy


@functools.cache
def _soft_mdp_jax():
    jax = _jax()
    import jax.numpy as jnp
    value, _, _ = soft_mdp(jnp, jax, jax.lax, jnp.asarray(MDP_P))
    return np.asarray(value(jnp.asarray(MDP_R))), np.asarray(jax.jacrev(value)(jnp.asarray(MDP_R)))


def test_soft_value_iteration_by_custom_root_its_gradient_is_the_occupancy(backend):
    value, value_unrolled, policy = soft_mdp(fnp, ft, flax, backend.asarray(MDP_P))
    r = backend.asarray(MDP_R)
    V = backend.to_numpy(value(r))
    pi = backend.to_numpy(policy(r))
    # V solves the soft Bellman equation, the policy is a distribution per state
    Q = MDP_R + MDP_GAMMA * MDP_P @ V
    np.testing.assert_allclose(V, MDP_TAU * np.log(np.sum(np.exp(Q / MDP_TAU), axis=1)),
                               atol=1e-12)
    np.testing.assert_allclose(pi.sum(axis=1), 1.0, atol=1e-12)
    # the envelope theorem: dV(s0)/dr(s, a) is the discounted occupancy of (s, a) from s0
    P_pi = np.einsum("sa,sat->st", pi, MDP_P)
    occ = np.linalg.inv(np.eye(MDP_S) - MDP_GAMMA * P_pi)[:, :, None] * pi[None]
    for jac in (ft.jacrev(value), ft.jacfwd(value), ft.jit(ft.jacrev(value)),
                ft.jacrev(value_unrolled)):
        J = jac(r)
        assert backend.is_own(J)
        np.testing.assert_allclose(backend.to_numpy(J), occ, atol=1e-11)
    # the occupancies sum to 1 / (1 - gamma) from every state
    np.testing.assert_allclose(occ.sum(axis=(1, 2)), 1 / (1 - MDP_GAMMA), rtol=1e-12)
    want_v, want_j = _soft_mdp_jax()
    close(want_v, V, tol=1e-12)
    close(want_j, backend.to_numpy(ft.jacrev(value)(r)), tol=1e-11)
    # second order through the rule: the policy's Jacobian against central differences
    check_grads(lambda r: policy(r), (r,), order=1)


# -- personalised PageRank by custom_linear_solve with power-iteration solves -----------------------

PR_N, PR_ALPHA = 6, 0.85
PR_A = (RNG.uniform(size=(PR_N, PR_N)) < 0.5) * RNG.uniform(0.5, 2.0, size=(PR_N, PR_N)) \
    + 0.05 * np.eye(PR_N)
PR_V = RNG.dirichlet(np.ones(PR_N))


def pagerank(np_, lax, A, v, alpha, n=220):
    """p = alpha P^T p + (1 - alpha) v for the row-normalised weights P, solved by the Neumann
    series (power iteration) inside custom_linear_solve, which differentiates it implicitly."""
    P = A / np_.sum(A, axis=1, keepdims=True)

    def matvec(p):
        return p - (p @ P) * alpha  # P^T p, the tracer first (#188)

    def solve(_, b):
        return lax.fori_loop(0, n, lambda i, p: (p @ P) * alpha + b, b)

    def transpose_solve(_, b):
        return lax.fori_loop(0, n, lambda i, p: (p @ P.T) * alpha + b, b)
    return lax.custom_linear_solve(matvec, (1 - alpha) * v, solve, transpose_solve)


@functools.cache
def _pagerank_jax():
    jax = _jax()
    import jax.numpy as jnp
    f = lambda A, v, a: pagerank(jnp, jax.lax, A, v, a)  # noqa: E731
    args = (jnp.asarray(PR_A), jnp.asarray(PR_V), PR_ALPHA)
    return np.asarray(f(*args)), [np.asarray(j) for j in jax.jacrev(f, argnums=(0, 1, 2))(*args)]


def test_pagerank_by_custom_linear_solve_and_its_derivatives_in_closed_form(backend):
    A, v, alpha = backend.asarray(PR_A), backend.asarray(PR_V), backend.asarray(PR_ALPHA)
    f = lambda A, v, a: pagerank(fnp, flax, A, v, a)  # noqa: E731
    p = backend.to_numpy(f(A, v, alpha))
    P = PR_A / PR_A.sum(axis=1, keepdims=True)
    G = np.linalg.inv(np.eye(PR_N) - PR_ALPHA * P.T)
    np.testing.assert_allclose(p, (1 - PR_ALPHA) * G @ PR_V, atol=1e-13)
    assert p.sum() == pytest.approx(1.0, abs=1e-13)
    # dp/dv = (1 - alpha) G and dp/dalpha = G (P^T p - v), by both modes and under jit
    for jac in (ft.jacrev, ft.jacfwd, lambda f, **k: ft.jit(ft.jacrev(f, **k))):
        Jv, Ja = jac(f, argnums=(1, 2))(A, v, alpha)
        np.testing.assert_allclose(backend.to_numpy(Jv), (1 - PR_ALPHA) * G, atol=1e-12)
        np.testing.assert_allclose(backend.to_numpy(Ja), G @ (P.T @ p - PR_V), atol=1e-12)
    want_p, want_j = _pagerank_jax()
    close(want_p, p, tol=1e-13)
    close(want_j, _np(backend, ft.jacrev(f, argnums=(0, 1, 2))(A, v, alpha)), tol=1e-11)
    check_grads(lambda A: f(A, v, alpha), (A,), order=1)
    # many personalisation vectors at once, by jit(vmap)
    Vs = RNG.dirichlet(np.ones(PR_N), size=3)
    ps = ft.jit(ft.vmap(f, in_axes=(None, 0, None)))(A, backend.asarray(Vs), alpha)
    np.testing.assert_allclose(backend.to_numpy(ps), (1 - PR_ALPHA) * Vs @ G.T, atol=1e-13)
