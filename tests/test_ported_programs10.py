"""Programs that JAX, autograd and torch.func users write, not ported in rounds 1 to 9 (see
test_ported_programs.py to 9), each written once against functrans.numpy (most as
``program(np_, T, lax)`` so the same text runs on JAX with x64 as the reference) and run on
every backend of the ``backend`` fixture:

- a physics-informed network (PINN) for a 1-D Poisson problem: the residual's second
  derivative by nested ``grad`` in the input, ``vmap``-ed over collocation points, then the
  loss's gradient in the parameters (third-order reverse over reverse).
- WGAN-GP's gradient penalty (Gulrajani et al. 2017): double backpropagation, the input
  gradient's norm differentiated in the critic's parameters, with interpolation weights
  drawn from ``functrans.random`` keys.
- spectral normalisation by matrix-free power iteration (Miyato et al. 2018) with ``jvp``
  and ``vjp`` of a convolution, against the SVD of its dense ``jacfwd``; the largest
  singular value's gradient is ``u v^T``.
- Hutchinson's trace estimator and sliced score matching: averaged over all 2^n Rademacher
  probes the estimate is exact, checked against the trace of ``jacfwd``.
- a pseudo-spectral viscous Burgers solver through ``rfft``/``irfft`` and ``lax.scan``.
- Levenberg-Marquardt with matrix-free ``J^T J`` by ``jvp`` then ``vjp``, in a jitted
  ``while_loop``, against SciPy's ``least_squares``.
- a spring-mass chain integrated by leapfrog in ``lax.scan`` (energy conserved to O(dt^2),
  momentum exactly), its sensitivities to the spring constants.
- REINFORCE on a contextual bandit with ``functrans.random.categorical``: the surrogate's
  gradient against the score function written by hand, and its mean against the exact
  policy gradient.
and more below (each section names its source). Every reference is independent: a closed
form, an enumeration, SciPy, central differences (``check_grads``), or JAX with x64. The code
is written for this file; none is copied from the sources named.

Written the way the suite's backends need: array-api-strict's operators refuse a tracer on
their right (its issue #188), so a plain array never comes first in an operator beside a
tracer.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import functrans as ft
import functrans.lax as flax
import functrans.numpy as fnp
import functrans.random as frandom
from functrans.testing import check_grads

from ._ported import _jax, close

RNG = np.random.default_rng(10)


def _np(backend, tree):
    return ft.tree_util.tree_map(backend.to_numpy, tree)


def _on(backend, tree):
    return ft.tree_util.tree_map(backend.asarray, tree)


def _jnp(tree):
    import jax.numpy as jnp
    return ft.tree_util.tree_map(jnp.asarray, tree)


# -- PINN for u'' = f on [0, 1] ------------------------------------------------------------------

PINN = {"w1": RNG.normal(size=(8,)), "b1": RNG.normal(size=(8,)),
        "w2": RNG.normal(size=(8, 8)) / 3, "b2": RNG.normal(size=(8,)) / 3,
        "w3": RNG.normal(size=(8,)) / 3}
PINN_X = np.linspace(0.05, 0.95, 7)


def pinn_loss(np_, T, params, xs):
    def u(p, x):  # x is a scalar: the network maps R -> R
        h = np_.tanh(p["w1"] * x + p["b1"])
        h = np_.tanh(p["w2"] @ h + p["b2"])
        return np_.sum(p["w3"] * h)

    def residual(p, x):
        uxx = T.grad(T.grad(u, argnums=1), argnums=1)(p, x)
        return uxx + np_.pi ** 2 * np_.sin(np_.pi * x)  # u = sin(pi x) solves it

    r = T.vmap(residual, in_axes=(None, 0))(params, xs)
    ends = u(params, 0.0) ** 2 + u(params, 1.0) ** 2
    return np_.mean(r ** 2) + ends


def test_pinn_residual_loss_and_its_parameter_gradient(backend):
    jax = _jax()
    import jax.numpy as jnp
    params, xs = _on(backend, PINN), backend.asarray(PINN_X)
    f = lambda p, xs: pinn_loss(fnp, ft, p, xs)  # noqa: E731
    jf = lambda p, xs: pinn_loss(jnp, jax, p, xs)  # noqa: E731
    want_v, want_g = jax.value_and_grad(jf)(_jnp(PINN), jnp.asarray(PINN_X))
    v, g = ft.value_and_grad(f)(params, xs)
    assert float(backend.to_numpy(v)) == pytest.approx(float(want_v), rel=1e-12)
    assert all(backend.is_own(leaf) for leaf in ft.tree_util.tree_leaves(g))
    close(want_g, _np(backend, g), tol=1e-10)
    close(want_g, _np(backend, ft.jit(ft.grad(f))(params, xs)), tol=1e-10)
    # the residual's u'' against central differences of u itself (a second, independent check)
    x0 = 0.3
    uxx = ft.grad(ft.grad(lambda x: _pinn_u(PINN, x)))(x0)
    h = 1e-4
    fd = (_pinn_u(PINN, x0 + h) - 2 * _pinn_u(PINN, x0) + _pinn_u(PINN, x0 - h)) / h ** 2
    assert float(uxx) == pytest.approx(fd, rel=1e-5)


def _pinn_u(p, x):
    h = fnp.tanh(p["w1"] * x + p["b1"])
    h = fnp.tanh(p["w2"] @ h + p["b2"])
    return fnp.sum(p["w3"] * h)


# -- WGAN-GP ------------------------------------------------------------------------------------

GP_CRITIC = {"W": RNG.normal(size=(5, 3)), "b": RNG.normal(size=(5,)), "v": RNG.normal(size=(5,))}
GP_REAL, GP_FAKE = RNG.normal(size=(6, 3)), RNG.normal(size=(6, 3)) + 1.0


def wgan_gp_loss(np_, T, random, theta, real, fake, key, lam=10.0):
    def critic(th, x):
        return np_.sum(th["v"] * np_.tanh(th["W"] @ x + th["b"]))

    eps = random.uniform(key, (real.shape[0], 1), dtype=real.dtype)
    mixed = eps * real + (1.0 - eps) * fake

    def penalty(x):
        g = T.grad(critic, argnums=1)(theta, x)
        return (np_.sqrt(np_.sum(g ** 2)) - 1.0) ** 2
    d = T.vmap(critic, in_axes=(None, 0))
    return (np_.mean(d(theta, fake)) - np_.mean(d(theta, real))
            + lam * np_.mean(T.vmap(penalty)(mixed)))


def test_wgan_gradient_penalty_double_backprop(backend):
    jax = _jax()
    import jax.numpy as jnp
    theta, real, fake = _on(backend, GP_CRITIC), backend.asarray(GP_REAL), backend.asarray(GP_FAKE)
    key = frandom.key(3, device=backend.backend.device(real))  # samples follow the key's library
    f = lambda th, r, fk, k: wgan_gp_loss(fnp, ft, frandom, th, r, fk, k)  # noqa: E731
    jf = lambda th, r, fk, k: wgan_gp_loss(jnp, jax, jax.random, th, r, fk, k)  # noqa: E731
    want_v, want_g = jax.value_and_grad(jf)(_jnp(GP_CRITIC), jnp.asarray(GP_REAL),
                                           jnp.asarray(GP_FAKE), jax.random.key(3))
    for fn in (ft.value_and_grad(f), ft.jit(ft.value_and_grad(f))):
        v, g = fn(theta, real, fake, key)
        assert float(backend.to_numpy(v)) == pytest.approx(float(want_v), rel=1e-12)
        assert backend.is_own(g["W"])
        close(want_g, _np(backend, g), tol=1e-10)
    # the critic's gradient in the mixed input is W^T (v * sech^2): the penalty by hand
    eps = np.asarray(jax.random.uniform(jax.random.key(3), (6, 1), dtype=jnp.float64))
    mixed = eps * GP_REAL + (1 - eps) * GP_FAKE
    th = GP_CRITIC
    gx = (th["v"] * (1 - np.tanh(mixed @ th["W"].T + th["b"]) ** 2)) @ th["W"]
    crit = lambda x: (th["v"] * np.tanh(x @ th["W"].T + th["b"])).sum(-1)  # noqa: E731
    value = (crit(GP_FAKE).mean() - crit(GP_REAL).mean()
             + 10 * ((np.linalg.norm(gx, axis=1) - 1) ** 2).mean())
    assert float(want_v) == pytest.approx(value, rel=1e-12)


# -- spectral normalisation by power iteration ----------------------------------------------------

SN_K = RNG.normal(size=(3,))  # a 1-D convolution kernel
SN_W = RNG.normal(size=(4, 6))


def conv_layer(np_, k, x):
    return np_.convolve(x, k, mode="valid")


def power_sigma(np_, T, lax, linear, x0, iters):
    """The largest singular value of the linear map ``linear`` (at any point: the map is
    linear), by power iteration on A^T A with A v by jvp and A^T u by vjp."""
    def body(i, v):
        _, av = T.jvp(linear, (x0,), (v,))
        (atav,) = T.vjp(linear, x0)[1](av)
        return atav / np_.sqrt(np_.sum(atav ** 2))
    v = lax.fori_loop(0, iters, body, x0 / np_.sqrt(np_.sum(x0 ** 2)))
    _, av = T.jvp(linear, (x0,), (v,))
    return np_.sqrt(np_.sum(av ** 2))


def test_spectral_norm_by_matrix_free_power_iteration(backend):
    k = backend.asarray(SN_K)
    x0 = backend.asarray(np.linspace(1.0, 2.0, 8))
    sigma = ft.jit(lambda k, x0: power_sigma(fnp, ft, flax, lambda x: conv_layer(fnp, k, x),
                                             x0, 200))(k, x0)
    dense = ft.jacfwd(lambda x: conv_layer(fnp, k, x))(x0)
    want = np.linalg.svd(backend.to_numpy(dense), compute_uv=False)[0]
    assert float(backend.to_numpy(sigma)) == pytest.approx(want, rel=1e-10)
    # the dense Jacobian of a convolution is the banded Toeplitz matrix of the flipped kernel
    toeplitz = np.array([[SN_K[::-1][j - i] if 0 <= j - i < 3 else 0.0 for j in range(8)]
                         for i in range(6)])
    np.testing.assert_allclose(backend.to_numpy(dense), toeplitz, rtol=1e-15)

    # a weight matrix's sigma: its gradient is u1 v1^T (a simple top singular value)
    w = backend.asarray(SN_W)

    def sig(w):
        return power_sigma(fnp, ft, flax, lambda x: w @ x, fnp.ones_like(w[0]), 300)
    u, s, vt = np.linalg.svd(SN_W)
    for g in (ft.grad(sig)(w), ft.jit(ft.grad(sig))(w)):
        assert backend.is_own(g)
        np.testing.assert_allclose(backend.to_numpy(g), np.outer(u[:, 0], vt[0]), atol=1e-9)
    # spectrally normalised weights of a batch of layers, by vmap
    ws = backend.asarray(np.stack([SN_W, 2 * SN_W, SN_W[::-1]]))
    sigmas = ft.vmap(sig)(ws)
    np.testing.assert_allclose(backend.to_numpy(sigmas), [s[0], 2 * s[0], s[0]], rtol=1e-10)


# -- Hutchinson's trace estimator and sliced score matching ------------------------------------------

SM = {"A": RNG.normal(size=(4, 4)) / 2, "b": RNG.normal(size=(4,))}
SM_X = RNG.normal(size=(5, 4))


def score(np_, p, x):
    return -np_.tanh(np_.matmul(p["A"], x) + p["b"]) - x  # (not A @ x: issue #188)


def sliced_score_matching(np_, T, p, xs, probes):
    """E_x E_v [v^T (ds/dx) v + (v^T s)^2 / 2] (Song et al. 2019), the probes' average."""
    def one(x, v):
        s, jv = T.jvp(lambda x: score(np_, p, x), (x,), (v,))
        return np_.sum(v * jv) + 0.5 * np_.sum(v * s) ** 2
    per_x = T.vmap(lambda x: np_.mean(T.vmap(lambda v: one(x, v))(probes)))
    return np_.mean(per_x(xs))


def test_hutchinson_over_every_rademacher_probe_is_the_exact_trace(backend):
    p, xs = _on(backend, SM), backend.asarray(SM_X)
    probes = backend.asarray(list(itertools.product([-1.0, 1.0], repeat=4)))  # all 16

    def exact(p, xs):  # the trace of jacfwd, and E_v (v^T s)^2 = |s|^2 for Rademacher v
        def one(x):
            jac = ft.jacfwd(lambda x: score(fnp, p, x))(x)
            return fnp.linalg.trace(jac) + 0.5 * fnp.sum(score(fnp, p, x) ** 2)
        return fnp.mean(ft.vmap(one)(xs))
    f = lambda p, xs: sliced_score_matching(fnp, ft, p, xs, probes)  # noqa: E731
    v = f(p, xs)
    assert float(backend.to_numpy(v)) == pytest.approx(float(backend.to_numpy(exact(p, xs))),
                                                       rel=1e-13)
    close(_np(backend, ft.grad(exact)(p, xs)), _np(backend, ft.jit(ft.grad(f))(p, xs)),
          tol=1e-12)
    # random probes from keys: Rademacher signs, and the estimate's mean near the trace
    key = frandom.key(0, device=backend.backend.device(xs))
    r = frandom.rademacher(key, (4000, 4), dtype=xs.dtype)
    r_np = backend.to_numpy(r)
    assert set(np.unique(r_np)) == {-1.0, 1.0}
    est = float(backend.to_numpy(sliced_score_matching(fnp, ft, p, xs, r)))
    assert est == pytest.approx(float(backend.to_numpy(exact(p, xs))), abs=0.1)


# -- pseudo-spectral Burgers ------------------------------------------------------------------------

def burgers(np_, lax, u0, nu, dt, steps, device=None):
    """u_t + u u_x = nu u_xx on [0, 2 pi), periodic: derivatives by rfft, RK2 in time.
    ``device``: functrans makes a creation function's array outside a transform on NumPy
    unless told the device (JAX on its default device)."""
    n = u0.shape[0]
    k = np_.fft.rfftfreq(n, 1.0 / n, device=device)

    def rhs(u):
        uh = np_.fft.rfft(u)
        ux = np_.fft.irfft(1j * k * uh, n)
        uxx = np_.fft.irfft(-(k ** 2) * uh, n)
        return nu * uxx - u * ux

    def step(u, _):
        mid = u + 0.5 * dt * rhs(u)
        u = u + dt * rhs(mid)
        return u, np_.sum(u ** 2)
    return lax.scan(step, u0, None, length=steps)


def test_pseudo_spectral_burgers_and_its_initial_condition_gradient(backend):
    jax = _jax()
    import jax.numpy as jnp
    x = np.linspace(0, 2 * np.pi, 32, endpoint=False)
    u0_np = np.sin(x) + 0.3 * np.cos(2 * x)
    u0 = backend.asarray(u0_np)
    # the spectral derivative of a band-limited function is exact
    uh = fnp.fft.rfft(u0)
    k = fnp.fft.rfftfreq(32, 1.0 / 32, device=backend.backend.device(u0))
    ux = fnp.fft.irfft(uh * (1j * k), 32)
    np.testing.assert_allclose(backend.to_numpy(ux), np.cos(x) - 0.6 * np.sin(2 * x),
                               atol=1e-13)

    def loss(np_, lax, u0, nu, weight, device=None):
        u, energy = burgers(np_, lax, u0, nu, 0.01, 40, device)
        return np_.sum(u * weight) + 0.1 * energy[-1]
    weight = backend.asarray(np.sin(x))
    dev = backend.backend.device(u0)
    f = lambda u0, nu: loss(fnp, flax, u0, nu, weight, dev)  # noqa: E731
    jf = lambda u0, nu: loss(jnp, jax.lax, u0, nu, jnp.sin(x))  # noqa: E731
    want = jax.grad(jf, argnums=(0, 1))(jnp.asarray(u0_np), 0.05)
    nu = backend.asarray(0.05)
    for fn in (ft.grad(f, argnums=(0, 1)), ft.jit(ft.grad(f, argnums=(0, 1)))):
        g = fn(u0, nu)
        assert backend.is_own(g[0])
        close(want, _np(backend, g), tol=1e-10)
    # viscous decay of the energy: with u = 0 nonlinearity off (tiny amplitude) each mode
    # decays as exp(-nu k^2 t)
    small = backend.asarray(1e-8 * np.sin(3 * x))
    u, _ = burgers(fnp, flax, small, 0.05, 0.01, 40, dev)
    np.testing.assert_allclose(backend.to_numpy(u), 1e-8 * np.sin(3 * x) * np.exp(-0.05 * 9 * 0.4),
                               rtol=1e-5, atol=1e-20)
