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
- Christoffel symbols and scalar curvature by ``jacfwd`` of ``jacfwd`` (the sphere's 2/r^2, the
  hyperbolic plane's -2), and geodesics by RK4 in ``lax.scan`` staying on great circles.
- Bayesian linear regression's evidence (Bishop 3.5): its gradient in closed form, Newton's
  method with ``hessian`` reaching MacKay's fixed point, ``vmap`` over hyperparameters.
- implicit MAML (Rajeswaran et al. 2019) by ``custom_root`` with CG on Hessian-vector
  products, tasks by ``vmap``, against the closed form of a quadratic inner problem.
- influence functions (Koh & Liang 2017): CG on hvps and per-example gradients by
  ``vmap(grad)``, against refitting with one example upweighted.
- a graph attention layer (Velickovic et al. 2018) by segment softmax over NumPy edge ids,
  against the dense masked softmax.
- Viterbi by a max-plus ``scan`` and backtracking: the score's gradient is the best path.
- Newton-Schulz orthogonalisation (as in the Muon optimiser) against the polar factor and its
  derivative in closed form.
- straight-through Gumbel-softmax with keys: Gumbel-max frequencies and the relaxed gradient.
- a linear ODE through ``functrans.ode.odeint`` against ``expm`` and ``expm_frechet``.
- MAML (Finn et al. 2017) with tasks by ``vmap``, second and first order.
- a pre-norm transformer block with layer norm and causal attention, trained by Adam written
  with ``tree_map`` over a params dict.
- REINFORCE over episodes rolled out in ``lax.scan`` with keys in the carry, 20000 of them by
  ``vmap``, against the exact policy gradient by enumerating every history.
- HMC with chains by ``vmap`` under ``jit``: the leapfrog map volume-preserving (``det`` of
  ``jacfwd``) and reversible, the samples' moments the target's, every library's chains
  NumPy's.

Every reference is independent: a closed form, an enumeration, SciPy, NumPy by hand, central
differences (``check_grads``), or JAX with x64 (where its compile is quick). The code is
written for this file; none is copied from the sources named.

The regressions found while porting (tests/test_review_s19.py): a staged ``scan`` whose
outputs were both large (written step by step into a buffer) and small (stacked at the end)
returned wrong values for the small ones (functrans/control_flow.py). A plain torch tensor
indexed at traced positions (``table[i]``) took the tracer for a sequence of indices ('too
many indices'); it now indexes as a tracer does. array-api-strict's indexing compared the tracer
with ``...`` through ``functrans.numpy.equal`` (AttributeError); it now reaches the clear
TracerArrayConversionError, as NumPy does. Documented differences met on the way, written
around here: a creation function outside a transform makes NumPy arrays unless given a device
(the default backend); ``fnp.asarray(numpy_array, device=another library's)`` is refused;
keys make samples in their own library (``random.key(seed, device=...)``).

Written the way the suite's backends need: array-api-strict's operators refuse a tracer on
their right (its issue #188), so a plain array never comes first in an operator beside a
tracer.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import functrans as ft
import functrans.lax as flax
import functrans.numpy as fnp
import functrans.random as frandom
from functrans.testing import check_grads

from ._ported import _jax, _jnp, _np, _on, close

RNG = np.random.default_rng(10)


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
    want_v, want_g = jax.jit(jax.value_and_grad(jf))(_jnp(PINN), jnp.asarray(PINN_X))
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
    want_v, want_g = jax.jit(jax.value_and_grad(jf))(_jnp(GP_CRITIC), jnp.asarray(GP_REAL),
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


# -- Hutchinson's trace estimator and sliced score matching ----------------------------------------

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


# -- pseudo-spectral Burgers -----------------------------------------------------------------------

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
    want = jax.jit(jax.grad(jf, argnums=(0, 1)))(jnp.asarray(u0_np), 0.05)
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


# -- Levenberg-Marquardt --------------------------------------------------------------------------

LM_T = np.linspace(0.0, 3.0, 12)
LM_Y = 2.5 * np.exp(-1.3 * LM_T) + 0.4 * np.cos(2.0 * LM_T) + 0.01 * RNG.normal(size=12)


def lm_fit(np_, T, lax, t, y, p0, iters=30):
    """Levenberg-Marquardt with Nielsen's damping update; J^T J v as vjp(jvp(v)), the normal
    equations' matrix built column by column with vmap."""
    def resid(p):
        return p[0] * np_.exp(-p[1] * t) + p[2] * np_.cos(2.0 * t) - y

    def jtj(p):
        lin = lambda v: T.jvp(resid, (p,), (v,))[1]  # noqa: E731
        _, back = T.vjp(resid, p)
        return T.vmap(lambda v: back(lin(v))[0])(np_.eye(3, dtype=p.dtype))

    def cond(s):
        return s[3] < iters

    def body(s):
        p, lam, nu, i = s
        r, back = T.vjp(resid, p)
        g = back(r)[0]
        a = jtj(p)
        step = np_.linalg.solve(a + lam * np_.diag(np_.diag(a)), -g)
        new = p + step
        gain = (np_.sum(r ** 2) - np_.sum(resid(new) ** 2)) / (
            np_.sum(step * (lam * np_.diag(a) * step - g)))
        ok = gain > 0
        lam = np_.where(ok, lam * np_.maximum(1.0 / 3, 1 - (2 * gain - 1) ** 3), lam * nu)
        nu = np_.where(ok, 2.0, 2 * nu)
        return np_.where(ok, new, p), lam, nu, i + 1
    p, *_ = lax.while_loop(cond, body, (p0, 1e-3 * np_.ones_like(p0[0]),
                                        2.0 * np_.ones_like(p0[0]), 0))
    return p


def test_levenberg_marquardt_with_jvp_vjp_against_scipy(backend):
    from scipy.optimize import least_squares
    t, y, p0 = backend.asarray(LM_T), backend.asarray(LM_Y), backend.asarray([1.0, 0.5, 0.0])
    want = least_squares(lambda p: p[0] * np.exp(-p[1] * LM_T) + p[2] * np.cos(2 * LM_T) - LM_Y,
                         [1.0, 0.5, 0.0], method="lm", xtol=1e-15, ftol=1e-15, gtol=1e-15).x
    for _ in range(3):  # SciPy's answer polished by Gauss-Newton (its J^T r is ~1e-9)
        e = np.exp(-want[1] * LM_T)
        jac = np.stack([e, -want[0] * LM_T * e, np.cos(2 * LM_T)], 1)
        r = want[0] * e + want[2] * np.cos(2 * LM_T) - LM_Y
        want = want - np.linalg.solve(jac.T @ jac, jac.T @ r)
    got = ft.jit(lambda t, y, p0: lm_fit(fnp, ft, flax, t, y, p0))(t, y, p0)
    assert backend.is_own(got)
    np.testing.assert_allclose(backend.to_numpy(got), want, rtol=1e-9)
    # J^T J by jvp-then-vjp is jacfwd's J^T J
    resid = lambda p: p[0] * fnp.exp(-p[1] * t) + p[2] * fnp.cos(2.0 * t) - y  # noqa: E731
    j = backend.to_numpy(ft.jacfwd(resid)(got))
    jr = backend.to_numpy(ft.jacrev(resid)(got))
    np.testing.assert_allclose(jr, j, rtol=1e-13)
    _, back = ft.vjp(resid, got)
    cols = ft.vmap(lambda v: back(ft.jvp(resid, (got,), (v,))[1])[0])(
        fnp.eye(3, dtype=got.dtype, device=backend.backend.device(got)))
    np.testing.assert_allclose(backend.to_numpy(cols), j.T @ j, rtol=1e-12)
    # at the optimum the gradient J^T r vanishes
    assert np.abs(backend.to_numpy(back(resid(got))[0])).max() < 1e-10


# -- spring-mass chain by leapfrog ---------------------------------------------------------------

def chain(np_, lax, k, m, q0, p0, dt, steps):
    """Masses on a line joined by springs of stiffness k (walls at both ends)."""
    def potential(q):
        ext = np_.concatenate([q[:1], q[1:] - q[:-1], -q[-1:]])
        return 0.5 * np_.sum(np_.multiply(ext ** 2, k))

    def energy(q, p):  # (divide: p may be plain beside a traced m, issue #188)
        return np_.sum(np_.divide(p ** 2, 2 * m)) + potential(q)
    force = lambda q: -_grad_of(np_)(potential)(q)  # noqa: E731

    def step(c, _):
        q, p = c  # (the traced terms first: q, p start plain, issue #188)
        p = 0.5 * dt * force(q) + p
        q = dt * p / m + q
        p = 0.5 * dt * force(q) + p
        return (q, p), energy(q, p)
    (q, p), e = lax.scan(step, (q0, p0), None, length=steps)
    return q, p, e, energy(q0, p0)


def _grad_of(np_):
    if np_ is fnp:
        return ft.grad
    import jax
    return jax.grad


def test_spring_mass_chain_leapfrog_energy_and_stiffness_sensitivities(backend):
    jax = _jax()
    import jax.numpy as jnp
    k0, m0 = np.array([1.0, 2.0, 1.5, 0.5]), np.array([1.0, 0.5, 2.0])
    q0, p0 = np.array([0.1, -0.2, 0.05]), np.zeros(3)
    k, m, q, p = (backend.asarray(a) for a in (k0, m0, q0, p0))
    qT, pT, e, e0 = ft.jit(lambda *a: chain(fnp, flax, *a, 0.01, 100))(k, m, q, p)
    e_np = backend.to_numpy(e)
    assert np.abs(e_np - float(backend.to_numpy(e0))).max() < 5e-4 * float(backend.to_numpy(e0))
    # against the exact solution by the eigenmodes of M^-1 K
    kmat = np.diag(k0[:-1] + k0[1:]) - np.diag(k0[1:-1], 1) - np.diag(k0[1:-1], -1)
    w2, v = np.linalg.eig(np.diag(1 / m0) @ kmat)
    c = np.linalg.solve(v, q0)
    exact = (v * np.cos(np.sqrt(w2.real) * 1.0)) @ c
    np.testing.assert_allclose(backend.to_numpy(qT), exact.real, atol=2e-4)

    def final(k, m, q0, np_, lax):
        qT, pT, _, _ = chain(np_, lax, k, m, q0, 0.0 * q0, 0.01, 100)
        return np_.sum(qT ** 2)
    want = jax.jit(jax.grad(final, argnums=(0, 1)), static_argnums=(3, 4))(
        jnp.asarray(k0), jnp.asarray(m0), jnp.asarray(q0), jnp, jax.lax)
    fn = lambda k, m, q0: final(k, m, q0, fnp, flax)  # noqa: E731
    close(want, _np(backend, ft.jit(ft.grad(fn, argnums=(0, 1)))(k, m, q)), tol=1e-10)
    # eagerly (scan runs its steps one by one), shorter, against central differences
    short = lambda k, m: fnp.sum(chain(fnp, flax, k, m, q, 0.0 * q, 0.01, 5)[0])  # noqa: E731
    check_grads(short, (k, m), order=1, modes=("rev",))
    # a batch of initial displacements by vmap
    qs = backend.asarray(np.stack([q0, 2 * q0, -q0]))
    got = ft.jit(ft.vmap(lambda q0: fn(k, m, q0)))(qs)
    one = float(backend.to_numpy(ft.jit(fn)(k, m, q)))
    np.testing.assert_allclose(backend.to_numpy(got), [one, 4 * one, one], rtol=1e-12)


# -- REINFORCE on a contextual bandit -------------------------------------------------------------

RF_PHI = RNG.normal(size=(3, 4))  # 3 contexts, 4 features
RF_THETA = RNG.normal(size=(4, 5)) / 2  # 5 actions
RF_REWARD = RNG.normal(size=(3, 5))


def test_reinforce_surrogate_gradient_and_its_expectation(backend):
    phi, theta, reward = (backend.asarray(a) for a in (RF_PHI, RF_THETA, RF_REWARD))
    dev = backend.backend.device(phi)

    def surrogate(theta, phi, reward, key, n):
        ks, ka = frandom.split(key)
        s = frandom.randint(ks, (n,), 0, 3)
        logits = phi[s] @ theta
        a = frandom.categorical(ka, logits)
        logp = ft.nn.log_softmax(logits)[fnp.arange(n), a]
        r = ft.lax.stop_gradient(reward[s, a])
        return -fnp.mean(r * logp), (s, a)

    key = frandom.key(5, device=dev)
    # (phi and reward are jit's arguments, so tracers: a plain NumPy or array-api-strict
    # array indexed at traced positions is an error there, torch's is indexed)
    g, (s, a) = ft.jit(ft.grad(surrogate, has_aux=True), static_argnums=4)(
        theta, phi, reward, key, 8)
    s, a = backend.to_numpy(s), backend.to_numpy(a)
    logits = RF_PHI[s] @ RF_THETA
    pi = np.exp(logits - logits.max(1, keepdims=True))
    pi /= pi.sum(1, keepdims=True)
    want = -np.einsum("n,nf,na->fa", RF_REWARD[s, a], RF_PHI[s], np.eye(5)[a] - pi) / 8
    assert backend.is_own(g)
    np.testing.assert_allclose(backend.to_numpy(g), want, rtol=1e-12)

    # the exact policy gradient of -E[r], by enumerating contexts and actions
    def expected(theta):
        pi = ft.nn.softmax(fnp.matmul(phi, theta))
        return -fnp.mean(fnp.sum(fnp.multiply(pi, reward), axis=1))
    exact = backend.to_numpy(ft.grad(expected)(theta))
    est = backend.to_numpy(ft.jit(ft.grad(lambda *a: surrogate(*a, 40000)[0]))(
        theta, phi, reward, key))
    assert np.abs(est - exact).max() < 0.05 * np.abs(exact).max() + 0.01


# -- Riemannian geometry: Christoffel symbols and curvature by jacfwd ------------------------------

def christoffel(np_, T, metric, x):
    """Gamma^k_ij = g^kl (d_i g_lj + d_j g_li - d_l g_ij) / 2, the derivatives by jacfwd."""
    dg = T.jacfwd(metric)(x)  # dg[l, j, i] = d_i g_lj
    ginv = np_.linalg.inv(metric(x))
    rhs = dg + np_.permute_dims(dg, (0, 2, 1)) - np_.permute_dims(dg, (2, 1, 0))
    return 0.5 * np_.einsum("kl,lji->kij", ginv, rhs)


def scalar_curvature(np_, T, metric, x):
    gam = christoffel(np_, T, metric, x)
    dgam = T.jacfwd(lambda x: christoffel(np_, T, metric, x))(x)  # [k, i, j, m] = d_m G^k_ij
    riemann = (np_.einsum("rnsm->rsmn", dgam) - np_.einsum("rmsn->rsmn", dgam)
               + np_.einsum("rml,lns->rsmn", gam, gam) - np_.einsum("rnl,lms->rsmn", gam, gam))
    ricci = np_.einsum("rsrn->sn", riemann)
    return np_.sum(np_.linalg.inv(metric(x)) * ricci)


def test_christoffel_symbols_and_curvature_of_the_sphere_and_hyperbolic_plane(backend):
    radius = backend.asarray(2.0)

    def sphere(x):  # (theta, phi)
        return fnp.stack([fnp.stack([fnp.ones_like(x[0]), fnp.zeros_like(x[0])]),
                          fnp.stack([fnp.zeros_like(x[0]), fnp.sin(x[0]) ** 2])]) * radius ** 2

    def half_plane(x):  # Poincare half-plane, curvature -1
        return fnp.eye(2, dtype=x.dtype, device=x.device) / x[1] ** 2
    x = backend.asarray([0.7, 1.3])
    gam = backend.to_numpy(christoffel(fnp, ft, sphere, x))
    want = np.zeros((2, 2, 2))
    want[0, 1, 1] = -np.sin(0.7) * np.cos(0.7)
    want[1, 0, 1] = want[1, 1, 0] = 1 / np.tan(0.7)
    np.testing.assert_allclose(gam, want, atol=1e-15)
    pts = backend.asarray([[0.7, 1.3], [1.2, -0.4], [2.5, 3.0]])
    r = ft.vmap(lambda x: scalar_curvature(fnp, ft, sphere, x))(pts)
    np.testing.assert_allclose(backend.to_numpy(r), [2 / 4.0] * 3, rtol=1e-12)
    r = ft.jit(ft.vmap(lambda x: scalar_curvature(fnp, ft, half_plane, x)))(pts + 0.0 * pts + 1)
    np.testing.assert_allclose(backend.to_numpy(r), [-2.0] * 3, rtol=1e-12)
    # the curvature's derivative in the radius: d(2/r^2)/dr = -4/r^3
    dr = ft.grad(lambda rad: scalar_curvature(
        fnp, ft, lambda x: rad ** 2 * fnp.stack([fnp.stack([1.0 + 0.0 * x[0], 0.0 * x[0]]),
                                                 fnp.stack([0.0 * x[0], fnp.sin(x[0]) ** 2])]),
        x))(radius)
    assert float(backend.to_numpy(dr)) == pytest.approx(-4 / 8.0, rel=1e-12)


def geodesic(np_, T, lax, metric, x0, v0, dt, steps):
    """x'' = -Gamma(x)[v, v] by RK4 in lax.scan."""
    def acc(x, v):
        return -np_.einsum("kij,i,j->k", christoffel(np_, T, metric, x), v, v)

    def step(c, _):  # (increments first: x or v may be plain beside traced ones, #188)
        x, v = c
        k1x, k1v = v, acc(x, v)
        k2x, k2v = 0.5 * dt * k1v + v, acc(0.5 * dt * k1x + x, 0.5 * dt * k1v + v)
        k3x, k3v = 0.5 * dt * k2v + v, acc(0.5 * dt * k2x + x, 0.5 * dt * k2v + v)
        k4x, k4v = dt * k3v + v, acc(dt * k3x + x, dt * k3v + v)
        return ((k1x + 2 * k2x + 2 * k3x + k4x) * (dt / 6) + x,
                (k1v + 2 * k2v + 2 * k3v + k4v) * (dt / 6) + v), x
    return lax.scan(step, (x0, v0), None, length=steps)


def test_geodesics_on_the_sphere_are_great_circles(backend):
    def make(np_):
        return lambda x: np_.stack([np_.stack([1.0 + 0.0 * x[0], 0.0 * x[0]]),
                                    np_.stack([0.0 * x[0], np_.sin(x[0]) ** 2])])
    x0, v0 = backend.asarray([1.0, 0.2]), backend.asarray([0.3, 0.8])
    run = ft.jit(lambda x0, v0: geodesic(fnp, ft, flax, make(fnp), x0, v0, 0.05, 40))
    (xT, vT), path = run(x0, v0)
    th, ph = backend.to_numpy(path).T

    def embed(th, ph):
        return np.stack([np.sin(th) * np.cos(ph), np.sin(th) * np.sin(ph), np.cos(th)], -1)
    p0 = embed(1.0, 0.2)
    d0 = np.array([np.cos(1.0) * np.cos(0.2) * 0.3 - np.sin(1.0) * np.sin(0.2) * 0.8,
                   np.cos(1.0) * np.sin(0.2) * 0.3 + np.sin(1.0) * np.cos(0.2) * 0.8,
                   -np.sin(1.0) * 0.3])
    normal = np.cross(p0, d0)
    assert np.abs(embed(th, ph) @ normal).max() < 1e-7  # on the great circle's plane
    speed = 0.3 ** 2 + np.sin(1.0) ** 2 * 0.8 ** 2
    xT_, vT_ = backend.to_numpy(xT), backend.to_numpy(vT)
    assert vT_[0] ** 2 + np.sin(xT_[0]) ** 2 * vT_[1] ** 2 == pytest.approx(speed, rel=1e-8)

    def end(x0, v0):
        (xT, _), _ = geodesic(fnp, ft, flax, make(fnp), x0, v0, 0.05, 40)
        return fnp.sum(xT ** 2)
    check_grads(ft.jit(end), (x0, v0), order=1, modes=("rev",))  # (JAX's compile of
    # this scan takes seconds: central differences are the reference)
    check_grads(lambda v0: fnp.sum(geodesic(fnp, ft, flax, make(fnp), x0, v0, 0.05, 3)[0][0]),
                (v0,), order=1, modes=("rev",))  # eagerly, shorter


# -- Bayesian linear regression: the evidence and its gradient -------------------------------------

BLR_PHI = np.stack([np.ones(15), np.linspace(-1, 1, 15), np.linspace(-1, 1, 15) ** 2], 1)
BLR_Y = BLR_PHI @ np.array([0.5, -1.0, 2.0]) + 0.3 * RNG.normal(size=15)


def log_evidence(np_, log_ab, phi, y):
    """ln p(y | alpha, beta) of y = phi w + noise, w ~ N(0, I/alpha), noise ~ N(0, I/beta)."""
    alpha, beta = np_.exp(log_ab[0]), np_.exp(log_ab[1])
    n, m = phi.shape
    a = alpha * np_.eye(m, dtype=phi.dtype, device=phi.device) + beta * (phi.T @ phi)
    mean = beta * np_.linalg.solve(a, phi.T @ y)
    fit = np_.matmul(phi, mean)  # (not phi @ mean: issue #188)
    e = 0.5 * beta * np_.sum((-fit + y) ** 2) + 0.5 * alpha * np_.sum(mean ** 2)
    return (0.5 * m * np_.log(alpha) + 0.5 * n * np_.log(beta) - e
            - 0.5 * np_.linalg.slogdet(a)[1] - 0.5 * n * math.log(2 * math.pi))
    # (math.log: functrans.numpy's log of a Python float is NumPy's scalar, the default
    # backend's, which array-api-strict's own operators refuse in check_grads's plain runs)


def test_bayesian_linear_regression_evidence_gradient_in_closed_form(backend):
    from scipy.stats import multivariate_normal
    phi, y = backend.asarray(BLR_PHI), backend.asarray(BLR_Y)
    log_ab = np.log([0.5, 8.0])
    f = lambda t: log_evidence(fnp, t, phi, y)  # noqa: E731
    t = backend.asarray(log_ab)
    alpha, beta = np.exp(log_ab)
    cov = np.eye(15) / beta + BLR_PHI @ BLR_PHI.T / alpha
    want = multivariate_normal(np.zeros(15), cov).logpdf(BLR_Y)
    assert float(backend.to_numpy(ft.jit(f)(t))) == pytest.approx(want, rel=1e-12)
    # Bishop (3.86)-(3.92): d/d alpha = M/2a - m^T m/2 - tr(A^-1)/2, d/d beta likewise
    a = alpha * np.eye(3) + beta * BLR_PHI.T @ BLR_PHI
    ainv = np.linalg.inv(a)
    m = beta * ainv @ BLR_PHI.T @ BLR_Y
    d_alpha = 1.5 / alpha - 0.5 * m @ m - 0.5 * np.trace(ainv)
    d_beta = (7.5 / beta - 0.5 * np.sum((BLR_Y - BLR_PHI @ m) ** 2)
              - 0.5 * np.trace(ainv @ BLR_PHI.T @ BLR_PHI))
    for grad in (ft.grad(f), ft.jit(ft.grad(f))):
        g = grad(t)
        assert backend.is_own(g)
        np.testing.assert_allclose(backend.to_numpy(g), [alpha * d_alpha, beta * d_beta],
                                   rtol=1e-10)
    check_grads(f, (t,), order=2, modes=("fwd", "rev"))
    # empirical Bayes by Newton's method with the Hessian: MacKay's fixed point at the end
    def newton(t, _):
        return t - fnp.linalg.solve(ft.hessian(f)(t), ft.grad(f)(t)), None
    t_star, _ = ft.jit(lambda t: flax.scan(newton, t, None, length=12))(t)
    alpha, beta = np.exp(backend.to_numpy(t_star))
    lam = np.linalg.eigvalsh(beta * BLR_PHI.T @ BLR_PHI)
    gamma = np.sum(lam / (alpha + lam))
    m = beta * np.linalg.solve(alpha * np.eye(3) + beta * BLR_PHI.T @ BLR_PHI, BLR_PHI.T @ BLR_Y)
    assert alpha == pytest.approx(gamma / (m @ m), rel=1e-9)
    assert 1 / beta == pytest.approx(np.sum((BLR_Y - BLR_PHI @ m) ** 2) / (15 - gamma), rel=1e-9)
    # the evidence over a grid of hyperparameters by vmap
    grid = np.log([[0.5, 8.0], [1.0, 4.0], [2.0, 16.0]])
    got = ft.vmap(f)(backend.asarray(grid))
    want = [multivariate_normal(np.zeros(15), np.eye(15) / b + BLR_PHI @ BLR_PHI.T / a)
            .logpdf(BLR_Y) for a, b in np.exp(grid)]
    np.testing.assert_allclose(backend.to_numpy(got), want, rtol=1e-12)


# -- implicit MAML: custom_root with CG on Hessian-vector products ---------------------------------

IM_X = RNG.normal(size=(3, 8, 4))  # 3 tasks, 8 examples, 4 features
IM_W = RNG.normal(size=(3, 4))
IM_Y = np.einsum("tnf,tf->tn", IM_X, IM_W) + 0.1 * RNG.normal(size=(3, 8))
IM_XT, IM_YT = IM_X[:, :4] + 0.5, IM_Y[:, :4] + 0.2  # each task's held-out data
IM_LAM = 0.7


def imaml_task_loss(theta, x, y, xt, yt, lam=IM_LAM):
    """Rajeswaran et al. 2019: the held-out loss at the proximally regularised inner optimum,
    differentiated implicitly: d phi*/d theta = lam (H + lam I)^-1, applied by CG on hvps."""
    def inner(phi):
        return 0.5 * fnp.mean((fnp.matmul(x, phi) - y) ** 2) + 0.5 * lam * fnp.sum(
            (phi - theta) ** 2)
    grad_inner = ft.grad(inner)

    def solve(f, phi0):  # gradient descent to convergence, in a while_loop
        def body(c):
            phi, _ = c
            step = f(phi)
            return phi - 0.3 * step, fnp.sqrt(fnp.sum(step ** 2))
        return flax.while_loop(lambda c: c[1] > 1e-13, body, (phi0, fnp.ones_like(phi0[0])))[0]

    def tangent_solve(g, v):
        return ft.scipy.sparse.linalg.cg(g, v, tol=1e-14)[0]
    phi = flax.custom_root(grad_inner, fnp.zeros_like(theta), solve, tangent_solve)
    return 0.5 * fnp.mean((fnp.matmul(xt, phi) - yt) ** 2)


def test_imaml_meta_gradient_by_custom_root_and_cg(backend):
    x, y, xt, yt = (backend.asarray(a) for a in (IM_X, IM_Y, IM_XT, IM_YT))
    theta0 = np.array([0.1, -0.2, 0.3, 0.0])
    theta = backend.asarray(theta0)

    def meta(theta):
        return fnp.mean(ft.vmap(imaml_task_loss, in_axes=(None, 0, 0, 0, 0))(
            theta, x, y, xt, yt))
    # closed form: phi* = (X^T X / n + lam I)^-1 (X^T y / n + lam theta), a linear map of theta
    value, grad = 0.0, np.zeros(4)
    for t in range(3):
        a = IM_X[t].T @ IM_X[t] / 8 + IM_LAM * np.eye(4)
        phi = np.linalg.solve(a, IM_X[t].T @ IM_Y[t] / 8 + IM_LAM * theta0)
        r = IM_XT[t] @ phi - IM_YT[t]
        value += 0.5 * np.mean(r ** 2) / 3
        grad += IM_LAM * np.linalg.solve(a, IM_XT[t].T @ r / 4) / 3
    assert float(backend.to_numpy(meta(theta))) == pytest.approx(value, rel=1e-10)
    for fn in (ft.grad(meta), ft.jit(ft.grad(meta))):
        g = fn(theta)
        assert backend.is_own(g)
        np.testing.assert_allclose(backend.to_numpy(g), grad, rtol=1e-9, atol=1e-12)
    # the meta-gradient's own derivative (the inner map is linear: a constant Hessian)
    h = ft.jacfwd(ft.grad(meta))(theta)
    hess = sum(IM_LAM ** 2 * np.linalg.solve(
        IM_X[t].T @ IM_X[t] / 8 + IM_LAM * np.eye(4),
        IM_XT[t].T @ IM_XT[t] / 4 @ np.linalg.inv(IM_X[t].T @ IM_X[t] / 8 + IM_LAM * np.eye(4)))
        for t in range(3)) / 3
    np.testing.assert_allclose(backend.to_numpy(h), hess, rtol=1e-8, atol=1e-11)


# -- influence functions (Koh & Liang 2017) --------------------------------------------------------

IF_X = np.concatenate([RNG.normal(size=(20, 2)), np.ones((20, 1))], 1)
IF_Y = (IF_X[:, 0] - 0.5 * IF_X[:, 1] + 0.3 * RNG.normal(size=20) > 0).astype(float)
IF_XT, IF_YT = np.array([0.4, -1.0, 1.0]), 1.0
IF_REG = 0.1


def _if_point_loss(theta, x, y):
    z = fnp.sum(theta * x)  # (the traced factor first: issue #188)
    return fnp.logaddexp(0.0, z) - z * y


def _if_fit(x, y, w):
    def risk(theta):
        return fnp.sum(ft.vmap(_if_point_loss, in_axes=(None, 0, 0))(theta, x, y) * w) + \
            0.5 * IF_REG * fnp.sum(theta ** 2)

    def newton(theta, _):
        return theta - fnp.linalg.solve(ft.hessian(risk)(theta), ft.grad(risk)(theta)), None
    return flax.scan(newton, fnp.zeros_like(x[0, :]), None, length=15)[0], risk


def test_influence_functions_by_cg_on_hvps_against_refitting(backend):
    x, y = backend.asarray(IF_X), backend.asarray(IF_Y)
    xt, yt = backend.asarray(IF_XT), backend.asarray(IF_YT)

    @ft.jit
    def influences(x, y, xt, yt):
        theta, risk = _if_fit(x, y, fnp.ones_like(y))
        g_test = ft.grad(_if_point_loss)(theta, xt, yt)

        def hvp(v):
            return ft.jvp(ft.grad(risk), (theta,), (v,))[1]
        s_test = ft.scipy.sparse.linalg.cg(hvp, g_test, tol=1e-14)[0]
        per_example = ft.vmap(ft.grad(_if_point_loss), in_axes=(None, 0, 0))(theta, x, y)
        return -(per_example @ s_test)
    got = backend.to_numpy(influences(x, y, xt, yt))
    # d/d eps of the test loss after refitting with example i weighted 1 + eps
    refit = ft.jit(lambda w: _if_point_loss(_if_fit(x, y, w)[0], xt, yt))
    eps = 1e-5
    for i in (0, 7, 13):
        e = np.zeros(20)
        e[i] = eps
        up = float(backend.to_numpy(refit(backend.asarray(1 + e))))
        down = float(backend.to_numpy(refit(backend.asarray(1 - e))))
        assert got[i] == pytest.approx((up - down) / (2 * eps), rel=1e-6, abs=1e-9)
    # and in closed form by the dense Hessian
    w = np.zeros(3)
    for _ in range(30):
        p = 1 / (1 + np.exp(-IF_X @ w))
        hess = IF_X.T @ (IF_X * (p * (1 - p))[:, None]) + IF_REG * np.eye(3)
        w -= np.linalg.solve(hess, IF_X.T @ (p - IF_Y) + IF_REG * w)
    g_test = (1 / (1 + np.exp(-IF_XT @ w)) - IF_YT) * IF_XT
    want = -((p - IF_Y)[:, None] * IF_X) @ np.linalg.solve(hess, g_test)
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


# -- a graph attention layer by segment softmax ----------------------------------------------------

GAT_SEND = np.array([0, 1, 2, 3, 4, 1, 2, 0, 3, 4, 2, 0])
GAT_RECV = np.array([0, 1, 2, 3, 4, 0, 0, 1, 2, 2, 4, 3])
GAT_P = {"W": RNG.normal(size=(3, 4)), "a_src": RNG.normal(size=(4,)),
         "a_dst": RNG.normal(size=(4,))}
GAT_X = RNG.normal(size=(2, 5, 3))  # a batch of two graphs' node features


def gat_layer(p, x):
    """Velickovic et al. 2018, one head: attention over each node's incoming edges, the
    softmax per receiving node by segment_max and segment_sum (the graph as NumPy ids)."""
    h = fnp.matmul(x, p["W"])
    logits = ft.nn.leaky_relu(fnp.matmul(h, p["a_src"])[GAT_SEND]
                              + fnp.matmul(h, p["a_dst"])[GAT_RECV], 0.2)
    top = ft.ops.segment_max(logits, GAT_RECV, num_segments=5)
    e = fnp.exp(logits - ft.lax.stop_gradient(top)[GAT_RECV])
    att = e / ft.ops.segment_sum(e, GAT_RECV, num_segments=5)[GAT_RECV]
    return ft.ops.segment_sum(att[:, None] * h[GAT_SEND], GAT_RECV, num_segments=5)


GAT_ADJ = np.zeros((5, 5), dtype=bool)
GAT_ADJ[GAT_RECV, GAT_SEND] = True


def gat_dense(p, x, adj):
    """The same layer with a dense adjacency mask (the reference). ``adj`` in x's library:
    functrans.numpy.asarray(a NumPy array, device=another library's) is refused, as is a NumPy
    mask beside another library's arrays (functrans never copies between libraries)."""
    h = fnp.matmul(x, p["W"])
    s = (fnp.matmul(h, p["a_dst"])[:, None] + fnp.matmul(h, p["a_src"])[None, :])
    s = ft.nn.leaky_relu(s, 0.2)
    att = ft.nn.softmax(fnp.where(adj, s, -fnp.inf), axis=1)
    return fnp.matmul(att, h)


def test_graph_attention_by_segment_softmax_against_the_dense_mask(backend):
    p, xs = _on(backend, GAT_P), backend.asarray(GAT_X)
    adj = backend.asarray(GAT_ADJ, dtype=bool)
    dense = lambda p, x: gat_dense(p, x, adj)  # noqa: E731
    if backend.name != "numpy":
        with pytest.raises(ft.errors.BackendMismatchError, match="never copies between libr"):
            fnp.asarray(GAT_ADJ, device=backend.backend.device(xs))
    got = ft.vmap(gat_layer, in_axes=(None, 0))(p, xs)
    want = ft.vmap(dense, in_axes=(None, 0))(p, xs)
    np.testing.assert_allclose(backend.to_numpy(got), backend.to_numpy(want), rtol=1e-12)

    def loss(layer):
        return lambda p, xs: fnp.sum(ft.vmap(layer, in_axes=(None, 0))(p, xs) ** 2)
    g = ft.jit(ft.grad(loss(gat_layer)))(p, xs)
    close(_np(backend, ft.grad(loss(dense))(p, xs)), _np(backend, g), tol=1e-11)
    check_grads(loss(gat_layer), (p, xs), order=1, modes=("rev",))


# -- Viterbi: the best path's score, its gradient the path (Danskin) -------------------------------

VT_E = RNG.normal(size=(2, 5, 3))  # two sequences, 5 steps, 3 states
VT_A = RNG.normal(size=(3, 3))


def viterbi(emit, trans):
    """The best score by a max-plus forward pass in lax.scan, the path by backtracking the
    argmax pointers in a reverse scan."""
    def forward(score, e):
        cand = score[:, None] + trans  # cand[i, j]: from state i to j
        return fnp.max(cand, axis=0) + e, fnp.argmax(cand, axis=0)
    last, back = flax.scan(forward, emit[0], emit[1:])
    end = fnp.argmax(last)

    def backtrack(state, ptr):
        prev = ptr[state]
        return prev, state
    first, path = flax.scan(backtrack, end, back, reverse=True)
    return fnp.max(last), fnp.concat([first[None], path])


def test_viterbi_score_gradient_is_the_best_path_by_enumeration(backend):
    emit, trans = backend.asarray(VT_E), backend.asarray(VT_A)
    for b in range(2):
        scores = {p: VT_E[b, np.arange(5), p].sum() + sum(VT_A[p[t], p[t + 1]] for t in range(4))
                  for p in itertools.product(range(3), repeat=5)}
        best = max(scores, key=scores.get)
        s, path = ft.jit(viterbi)(emit[b, ...], trans)
        assert float(backend.to_numpy(s)) == pytest.approx(scores[best], rel=1e-13)
        np.testing.assert_array_equal(backend.to_numpy(path), best)
        ge, ga = ft.grad(lambda e, a: viterbi(e, a)[0], argnums=(0, 1))(emit[b, ...], trans)
        want_e = np.zeros((5, 3))
        want_e[np.arange(5), best] = 1.0
        want_a = np.zeros((3, 3))
        np.add.at(want_a, (best[:-1], best[1:]), 1.0)
        np.testing.assert_array_equal(backend.to_numpy(ge), want_e)
        np.testing.assert_array_equal(backend.to_numpy(ga), want_a)
    # a batch by vmap, the path gradients through jit
    s, paths = ft.vmap(viterbi, in_axes=(0, None))(emit, trans)
    g = ft.jit(ft.grad(lambda e: fnp.sum(ft.vmap(viterbi, in_axes=(0, None))(e, trans)[0])))(emit)
    onehots = np.eye(3)[backend.to_numpy(paths)]
    np.testing.assert_array_equal(backend.to_numpy(g), onehots)


# -- Newton-Schulz orthogonalisation (Muon's) against the polar factor -----------------------------

NS_G = RNG.normal(size=(3, 4, 4))


def newton_schulz(g, iters=40):
    """The polar factor U V^T of g = U S V^T by X <- (3 X - X X^T X) / 2 from g / |g|_F."""
    x = g / fnp.sqrt(fnp.sum(g ** 2))
    return flax.fori_loop(0, iters, lambda i, x: 1.5 * x - 0.5 * (x @ x.mT @ x), x)


def test_newton_schulz_polar_factor_and_its_derivative_in_closed_form(backend):
    g = backend.asarray(NS_G)
    q = ft.jit(ft.vmap(newton_schulz))(g)
    u, s, vt = np.linalg.svd(NS_G)
    np.testing.assert_allclose(backend.to_numpy(q), u @ vt, atol=1e-12)
    # d(U V^T) = U ((W - W^T) / (s_i + s_j)) V^T with W = U^T dG V
    dg = RNG.normal(size=(3, 4, 4))
    w = np.swapaxes(u, -1, -2) @ dg @ np.swapaxes(vt, -1, -2)
    dq = u @ ((w - np.swapaxes(w, -1, -2)) / (s[:, :, None] + s[:, None, :])) @ vt
    _, t = ft.jvp(ft.vmap(newton_schulz), (g,), (backend.asarray(dg),))
    np.testing.assert_allclose(backend.to_numpy(t), dq, atol=1e-9)
    c = RNG.normal(size=(3, 4, 4))
    cg = ft.jit(ft.grad(lambda g: fnp.sum(ft.vmap(newton_schulz)(g) * backend.asarray(c))))(g)
    assert np.sum(backend.to_numpy(cg) * dg) == pytest.approx(np.sum(c * dq), rel=1e-8)


# -- Gumbel-softmax with the straight-through estimator --------------------------------------------

GS_LOGITS = np.array([0.5, -1.0, 1.5, 0.0])


def st_gumbel_softmax(key, logits, tau=0.5):
    g = frandom.gumbel(key, logits.shape, dtype=logits.dtype)
    soft = ft.nn.softmax((logits + g) / tau)
    hard = ft.nn.one_hot(fnp.argmax(soft), logits.shape[0], dtype=logits.dtype)
    return hard + soft - ft.lax.stop_gradient(soft), soft


def test_straight_through_gumbel_softmax(backend):
    logits = backend.asarray(GS_LOGITS)
    keys = frandom.split(frandom.key(11, device=backend.backend.device(logits)), 20000)
    y, soft = ft.jit(ft.vmap(st_gumbel_softmax, in_axes=(0, None)))(keys, logits)
    y = backend.to_numpy(y)
    hard = np.round(y)  # (hard + soft - soft: one-hot up to rounding, in JAX too)
    np.testing.assert_allclose(y, hard, atol=1e-15)
    assert set(np.unique(hard)) == {0.0, 1.0} and (hard.sum(1) == 1).all()
    p = np.exp(GS_LOGITS) / np.exp(GS_LOGITS).sum()
    np.testing.assert_allclose(hard.mean(0), p, atol=0.015)  # the Gumbel-max trick
    # the forward value is one-hot, the gradient the relaxed sample's
    w = backend.asarray([1.0, -2.0, 0.5, 3.0])
    k = keys[3]
    g_st = ft.grad(lambda l: fnp.sum(st_gumbel_softmax(k, l)[0] * w))(logits)
    g_soft = ft.grad(lambda l: fnp.sum(st_gumbel_softmax(k, l)[1] * w))(logits)
    np.testing.assert_allclose(backend.to_numpy(g_st), backend.to_numpy(g_soft), rtol=1e-14)
    s = backend.to_numpy(soft[3, :])
    want = (s * (backend.to_numpy(w) - s @ backend.to_numpy(w))) / 0.5
    np.testing.assert_allclose(backend.to_numpy(g_st), want, rtol=1e-12)


# -- a linear neural ODE through functrans.ode.odeint, against the matrix exponential -------------

ODE_A = RNG.normal(size=(3, 3)) / 2
ODE_Y0 = RNG.normal(size=(2, 3))
ODE_C = RNG.normal(size=(3,))


def test_odeint_linear_system_gradient_against_expm_frechet(backend):
    from scipy.linalg import expm, expm_frechet
    a, y0s, c = (backend.asarray(v) for v in (ODE_A, ODE_Y0, ODE_C))
    t = backend.asarray([0.0, 0.5, 1.0])

    def loss(a, y0):
        ys = ft.ode.odeint(lambda y, t, a: fnp.matmul(a, y), y0, t, a, rtol=1e-11, atol=1e-11)
        return fnp.sum(ys[-1] * c)
    batch = ft.jit(lambda a, y0s: fnp.sum(ft.vmap(loss, in_axes=(None, 0))(a, y0s)))
    value = sum(ODE_C @ expm(ODE_A) @ y for y in ODE_Y0)
    assert float(backend.to_numpy(batch(a, y0s))) == pytest.approx(value, rel=1e-9)
    ga, gy = ft.grad(batch, argnums=(0, 1))(a, y0s)
    assert backend.is_own(ga)
    e = RNG.normal(size=(3, 3))
    frechet = expm_frechet(ODE_A, e, compute_expm=False)
    want = sum(ODE_C @ frechet @ y for y in ODE_Y0)
    assert np.sum(backend.to_numpy(ga) * e) == pytest.approx(want, rel=1e-8)
    np.testing.assert_allclose(backend.to_numpy(gy), np.tile(expm(ODE_A).T @ ODE_C, (2, 1)),
                               rtol=1e-8)


# -- MAML (Finn et al. 2017): one inner SGD step per task, tasks by vmap ---------------------------

MAML_P = {"w1": RNG.normal(size=(1, 16)), "b1": np.zeros(16),
          "w2": RNG.normal(size=(16, 1)) / 4, "b2": np.zeros(1)}
MAML_PHASE = np.array([0.0, 0.8, 2.0, -1.0])
MAML_X = RNG.uniform(-3, 3, size=(4, 2, 10, 1))  # tasks, (support, query), points, 1


def maml_loss(np_, T, p, x, phase, lr=0.05):
    def net(p, x):
        return np_.tanh(x @ p["w1"] + p["b1"]) @ p["w2"] + p["b2"]

    def mse(p, x, y):
        return np_.mean((net(p, x) - y) ** 2)

    def task(x, phase):
        y = np_.sin(x + phase)
        g = T.grad(mse)(p, x[0], y[0])
        fast = T.tree_util.tree_map(lambda w, d: -lr * d + w, p, g)  # (#188: d first)
        return mse(fast, x[1], y[1])
    return np_.mean(T.vmap(task)(x, phase))


def _maml_numpy(p, x, phase, lr=0.05):
    """The MAML loss and first-order MAML's gradient (each task's query-loss gradient at its
    adapted parameters, averaged), by hand in NumPy."""
    def grads(p, x, y):  # mse of tanh(x w1 + b1) w2 + b2, and its gradient
        h = np.tanh(x @ p["w1"] + p["b1"])
        r = h @ p["w2"] + p["b2"] - y
        d = 2 * r / r.size
        dh = (d @ p["w2"].T) * (1 - h ** 2)
        return np.mean(r ** 2), {"w1": x.T @ dh, "b1": dh.sum(0), "w2": h.T @ d, "b2": d.sum(0)}
    value, first_order = 0.0, {k: 0.0 for k in p}
    for xt, ph in zip(x, phase):
        y = np.sin(xt + ph)
        fast = {k: p[k] - lr * g for k, g in grads(p, xt[0], y[0])[1].items()}
        v, g = grads(fast, xt[1], y[1])
        value += v / len(x)
        first_order = {k: first_order[k] + g[k] / len(x) for k in p}
    return value, first_order


def test_maml_second_order_meta_gradient_over_tasks_by_vmap(backend):
    want_v, want_fo = _maml_numpy(MAML_P, MAML_X, MAML_PHASE)
    p, x, phase = _on(backend, MAML_P), backend.asarray(MAML_X), backend.asarray(MAML_PHASE)
    f = lambda p, x, ph: maml_loss(fnp, ft, p, x, ph)  # noqa: E731
    v, g = ft.value_and_grad(f)(p, x, phase)
    vj, gj = ft.jit(ft.value_and_grad(f))(p, x, phase)
    assert float(backend.to_numpy(v)) == pytest.approx(want_v, rel=1e-12)
    assert float(backend.to_numpy(vj)) == pytest.approx(want_v, rel=1e-12)
    close(_np(backend, g), _np(backend, gj), tol=1e-12)
    # the second-order gradient against central differences (JAX's compile of it takes
    # seconds here; test_ported_programs2 compares a MAML loop with JAX)
    check_grads(lambda p: f(p, x, phase), (p,), order=1, modes=("rev",))

    # first-order MAML (stop_gradient through the inner gradient) differs from the full one
    def fo(p, x, ph):
        def task(x, phase):
            y = fnp.sin(x + phase)
            net = lambda p, x: fnp.tanh(x @ p["w1"] + p["b1"]) @ p["w2"] + p["b2"]  # noqa
            g = ft.grad(lambda p: fnp.mean((net(p, x[0]) - y[0]) ** 2))(p)
            fast = ft.tree_util.tree_map(lambda w, d: -0.05 * ft.lax.stop_gradient(d) + w, p, g)
            return fnp.mean((net(fast, x[1]) - y[1]) ** 2)
        return fnp.mean(ft.vmap(task)(x, ph))
    g_fo = _np(backend, ft.grad(fo)(p, x, phase))
    close(want_fo, g_fo, tol=1e-12)
    assert not np.allclose(g_fo["w1"], backend.to_numpy(g["w1"]), rtol=1e-6)


# -- a pre-norm transformer block trained by a hand-written Adam over a params dict ----------------

TB_D, TB_H = 8, 2
TB_P = {"ln_g": np.ones(TB_D), "ln_b": np.zeros(TB_D),
        "wq": RNG.normal(size=(TB_D, TB_D)) / 3, "wk": RNG.normal(size=(TB_D, TB_D)) / 3,
        "wv": RNG.normal(size=(TB_D, TB_D)) / 3, "wo": RNG.normal(size=(TB_D, TB_D)) / 3,
        "w1": RNG.normal(size=(TB_D, 16)) / 3, "w2": RNG.normal(size=(16, TB_D)) / 4}
TB_X = RNG.normal(size=(3, 5, TB_D))  # batch, tokens, features
TB_Y = RNG.normal(size=(3, 5, TB_D))


def block(np_, nn, p, x):
    """One sequence (tokens, features): causal multi-head attention and an MLP, each after a
    layer norm, with residuals."""
    def ln(x):
        mu = np_.mean(x, axis=-1, keepdims=True)
        var = np_.mean((x - mu) ** 2, axis=-1, keepdims=True)
        return (x - mu) / np_.sqrt(var + 1e-5) * p["ln_g"] + p["ln_b"]
    t = x.shape[0]
    h = ln(x)

    def heads(w):
        return np_.permute_dims(np_.reshape(h @ w, (t, TB_H, TB_D // TB_H)), (1, 0, 2))
    q, k, v = heads(p["wq"]), heads(p["wk"]), heads(p["wv"])
    s = q @ np_.permute_dims(k, (0, 2, 1)) / np_.sqrt(TB_D / TB_H)
    mask = np_.tril(np_.ones((t, t), dtype=bool, device=x.device))
    a = nn.softmax(np_.where(mask, s, -1e30), axis=-1) @ v
    x = x + np_.reshape(np_.permute_dims(a, (1, 0, 2)), (t, TB_D)) @ p["wo"]
    return x + nn.gelu(ln(x) @ p["w1"]) @ p["w2"]


def train(np_, T, nn, p, x, y, steps=3, lr=1e-2, b1=0.9, b2=0.999, eps=1e-8):
    def loss(p):
        return np_.mean((T.vmap(lambda x: block(np_, nn, p, x))(x) - y) ** 2)
    tm = T.tree_util.tree_map
    m, v = tm(np_.zeros_like, p), tm(np_.zeros_like, p)
    losses = []
    for i in range(1, steps + 1):
        value, g = T.value_and_grad(loss)(p)
        m = tm(lambda m, g: b1 * m + (1 - b1) * g, m, g)
        v = tm(lambda v, g: b2 * v + (1 - b2) * g ** 2, v, g)
        p = tm(lambda p, m, v: -lr * (m / (1 - b1 ** i)) / (np_.sqrt(v / (1 - b2 ** i)) + eps)
               + p, p, m, v)
        losses.append(value)
    return p, np_.stack(losses)


def _block_numpy(p, x):
    from scipy.special import softmax

    def ln(x):
        mu = x.mean(-1, keepdims=True)
        sd = np.sqrt(((x - mu) ** 2).mean(-1, keepdims=True) + 1e-5)
        return (x - mu) / sd * p["ln_g"] + p["ln_b"]
    t, h = x.shape[0], ln(x)
    out = np.zeros_like(x)
    for j in range(TB_H):
        cols = slice(j * TB_D // TB_H, (j + 1) * TB_D // TB_H)
        q, k, v = (h @ p[w][:, cols] for w in ("wq", "wk", "wv"))
        s = q @ k.T / np.sqrt(TB_D / TB_H) + np.triu(np.full((t, t), -np.inf), 1)
        out[:, cols] = softmax(s, axis=-1) @ v
    x = x + out @ p["wo"]
    u = ln(x) @ p["w1"]
    gelu = 0.5 * u * (1 + np.tanh(np.sqrt(2 / np.pi) * (u + 0.044715 * u ** 3)))  # (tanh form)
    return x + gelu @ p["w2"]


def test_transformer_block_with_layer_norm_trained_by_adam_over_a_dict(backend):
    p, x, y = _on(backend, TB_P), backend.asarray(TB_X), backend.asarray(TB_Y)
    nn = ft.nn
    got = ft.vmap(lambda x: block(fnp, nn, p, x))(x)  # against NumPy by hand
    want = np.stack([_block_numpy(TB_P, xi) for xi in TB_X])
    np.testing.assert_allclose(backend.to_numpy(got), want, rtol=1e-12, atol=1e-13)

    def loss(p):
        return fnp.mean((ft.vmap(lambda x: block(fnp, nn, p, x))(x) - y) ** 2)
    check_grads(loss, (p,), order=1, modes=("rev",))
    # Adam over the dict under jit against the same updates written leaf by leaf in NumPy
    got_p, got_l = ft.jit(lambda p, x, y: train(fnp, ft, nn, p, x, y, steps=2))(p, x, y)
    assert backend.is_own(got_p["wq"])
    q = dict(TB_P)
    m = {k: 0.0 for k in q}
    v = {k: 0.0 for k in q}
    for i in (1, 2):
        g = _np(backend, ft.grad(loss)(_on(backend, q)))
        for k in q:
            m[k] = 0.9 * m[k] + 0.1 * g[k]
            v[k] = 0.999 * v[k] + 0.001 * g[k] ** 2
            q[k] = q[k] - 1e-2 * (m[k] / (1 - 0.9 ** i)) / (np.sqrt(v[k] / (1 - 0.999 ** i)) + 1e-8)
    close(q, _np(backend, got_p), tol=1e-10)
    assert float(backend.to_numpy(got_l[1])) < float(backend.to_numpy(got_l[0]))
    # the causal mask: the first token's output does not depend on later tokens
    jac = ft.jacrev(lambda x: block(fnp, nn, p, x)[0])(x[0, ...])
    assert np.abs(backend.to_numpy(jac)[:, 1:]).max() == 0.0


# -- REINFORCE over episodes: a rollout in lax.scan with keys in the carry -------------------------

EP_P = RNG.dirichlet(np.ones(4), size=(4, 2))  # P[s, a] -> next-state probabilities
EP_R = RNG.normal(size=(4, 2))
EP_THETA = RNG.normal(size=(4, 2)) / 2


def episode(theta, trans, reward, key, length=3):
    """A rollout from state 0: actions from the softmax policy, next states from ``trans``;
    the REINFORCE surrogate -G * sum log pi(a_t | s_t), with the visited states and actions.
    (The tables are arguments: under jit they are tracers; a plain NumPy or array-api-strict
    table indexed at traced states raises TracerArrayConversionError, a torch one indexes.)"""
    def step(c, _):
        s, key, logp, ret = c
        key, ka, ks = frandom.split(key, 3)
        logits = theta[s]
        a = frandom.categorical(ka, logits)
        nxt = frandom.categorical(ks, fnp.log(trans[s, a]))
        return (nxt, key, logp + ft.nn.log_softmax(logits)[a], ret + reward[s, a]), (s, a)
    zero = fnp.zeros((), dtype=theta.dtype, device=theta.device)
    (_, _, logp, ret), (states, actions) = flax.scan(
        step, (fnp.asarray(0, device=theta.device), key, zero, zero), None, length=length)
    return -ft.lax.stop_gradient(ret) * logp, (states, actions, ret)


def test_reinforce_over_episodes_rolled_out_in_scan(backend):
    theta, trans, reward = (backend.asarray(a) for a in (EP_THETA, EP_P, EP_R))
    key = frandom.key(2, device=backend.backend.device(theta))
    grad = ft.jit(ft.grad(episode, has_aux=True))
    g, (states, actions, ret) = grad(theta, trans, reward, key)
    states, actions = backend.to_numpy(states), backend.to_numpy(actions)
    pi = np.exp(EP_THETA) / np.exp(EP_THETA).sum(1, keepdims=True)
    want = np.zeros((4, 2))
    for s, a in zip(states, actions):
        want[s] += np.eye(2)[a] - pi[s]
    assert float(backend.to_numpy(ret)) == pytest.approx(EP_R[states, actions].sum(), rel=1e-14)
    np.testing.assert_allclose(backend.to_numpy(g), -EP_R[states, actions].sum() * want,
                               rtol=1e-12, atol=1e-15)
    # torch takes its plain tables closed over (indexed at traced states)
    if backend.name == "torch":
        g2, _ = ft.grad(lambda th, k: episode(th, trans, reward, k), has_aux=True)(theta, key)
        np.testing.assert_allclose(backend.to_numpy(g2), backend.to_numpy(g), rtol=1e-15)
    elif backend.name == "numpy":
        with pytest.raises(ft.errors.TracerArrayConversionError, match="take"):
            ft.jit(lambda th, k: episode(th, trans, reward, k))(theta, key)

    # the exact gradient of -E[G] by enumerating every 3-step history
    def exact(th):
        pi = np.exp(th) / np.exp(th).sum(1, keepdims=True)
        total = 0.0
        for hist in itertools.product(range(2), range(4), range(2), range(4), range(2)):
            a0, s1, a1, s2, a2 = hist
            prob = (pi[0, a0] * EP_P[0, a0, s1] * pi[s1, a1] * EP_P[s1, a1, s2] * pi[s2, a2])
            total += prob * (EP_R[0, a0] + EP_R[s1, a1] + EP_R[s2, a2])
        return -total
    h = 1e-6
    fd = np.zeros((4, 2))
    for i in range(4):
        for j in range(2):
            e = np.zeros((4, 2))
            e[i, j] = h
            fd[i, j] = (exact(EP_THETA + e) - exact(EP_THETA - e)) / (2 * h)
    keys = frandom.split(key, 20000)
    many = ft.jit(ft.vmap(lambda k: grad(theta, trans, reward, k)[0]))(keys)
    est = backend.to_numpy(many).mean(0)
    assert np.abs(est - fd).max() < 0.06 * np.abs(fd).max() + 0.02


# -- HMC with chains by vmap: leapfrog volume-preserving and reversible ----------------------------

HMC_PREC = np.array([1.0, 0.25])  # a Gaussian target with variances 1 and 4


def leapfrog(logp, q, p, eps=0.2, steps=5):
    def body(i, c):  # (the increments first: q, p may be plain beside tracers, issue #188)
        q, p = c
        p = 0.5 * eps * ft.grad(logp)(q) + p
        q = eps * p + q
        return q, 0.5 * eps * ft.grad(logp)(q) + p
    return flax.fori_loop(0, steps, body, (q, p))


def hmc_chain(logp, q0, key, n):
    def step(q, key):
        k1, k2 = frandom.split(key)
        p0 = frandom.normal(k1, q.shape, dtype=q.dtype)
        q1, p1 = leapfrog(logp, q, p0)
        dh = logp(q1) - 0.5 * fnp.sum(p1 ** 2) - logp(q) + 0.5 * fnp.sum(p0 ** 2)
        accept = fnp.log(frandom.uniform(k2, dtype=q.dtype)) < dh
        q = flax.cond(accept, lambda: q1, lambda: q)
        return q, (q, accept)
    return flax.scan(step, q0, frandom.split(key, n))[1]


def test_hmc_chains_by_vmap_sample_the_target(backend):
    prec = backend.asarray(HMC_PREC)
    logp = lambda q: -0.5 * fnp.sum(q ** 2 * prec)  # noqa: E731
    # the leapfrog map is volume preserving (|det J| = 1) and reversible (flip p, run again)
    z = backend.asarray([0.3, -1.2, 0.8, 0.5])

    def flow(z):
        q, p = leapfrog(logp, z[:2], z[2:])
        return fnp.concat([q, p])
    jac = ft.jacfwd(flow)(z)
    assert float(backend.to_numpy(fnp.linalg.det(jac))) == pytest.approx(1.0, rel=1e-12)
    out = flow(z)
    back = flow(fnp.concat([out[:2], -out[2:]]))
    zb = backend.to_numpy(back)
    np.testing.assert_allclose(np.concatenate([zb[:2], -zb[2:]]), backend.to_numpy(z),
                               atol=1e-13)
    # 64 chains by vmap, under jit: 12 steps on every library equal NumPy's (the same keys)
    dev = backend.backend.device(prec)
    keys = frandom.split(frandom.key(0, device=dev), 64)
    q0s = fnp.zeros((64, 2), dtype=prec.dtype, device=dev)
    chains = ft.jit(ft.vmap(lambda q0, k, n: hmc_chain(logp, q0, k, n), in_axes=(0, 0, None)),
                    static_argnums=2)
    np_logp = lambda q: -0.5 * fnp.sum(q ** 2 * HMC_PREC)  # noqa: E731
    want = ft.jit(ft.vmap(lambda q0, k: hmc_chain(np_logp, q0, k, 12)))(
        np.zeros((64, 2)), frandom.split(frandom.key(0), 64))[0]
    np.testing.assert_allclose(backend.to_numpy(chains(q0s, keys, 12)[0]), want,
                               rtol=1e-12, atol=1e-14)
    if backend.name == "array_api_strict":
        return  # (its own checks on every operation make 300 steps take ~20 s: NumPy's do)
    qs, accepted = chains(q0s, keys, 300)
    qs = backend.to_numpy(qs)
    assert 0.5 < backend.to_numpy(accepted).mean() < 1.0
    samples = qs[:, 50:].reshape(-1, 2)
    np.testing.assert_allclose(samples.var(0), 1 / HMC_PREC, rtol=0.1)
    np.testing.assert_allclose(samples.mean(0), 0.0, atol=0.1)
    # the same chain on its own is the vmapped chain's row
    one, _ = ft.jit(lambda k: hmc_chain(logp, q0s[0, ...], k, 300))(keys[5])
    np.testing.assert_allclose(backend.to_numpy(one), qs[5], rtol=1e-13, atol=1e-15)
