"""Programs that JAX users write, not ported in rounds 1 to 11 (test_ported_programs.py to
11), most written once as ``program(np_, T, lax)`` so the same text runs on JAX with x64 as
the reference, and run on every backend of the ``backend`` fixture:

- entropy-regularised (soft) value iteration: the Bellman fixed point by ``custom_root`` around
  a ``while_loop``; dV/dr is the discounted occupancy (closed form), as through 400 unrolled
  sweeps in a ``fori_loop``; the soft-greedy policy's Jacobian by central differences.
- personalised PageRank by ``custom_linear_solve`` with power-iteration solves: derivatives in
  the teleport vector and damping in closed form, ``jit(vmap)`` over personalisations.
- a European call priced by Fourier inversion (Gil-Pelaez) of the characteristic function,
  complex arithmetic under ``vmap``/``jit``: price, delta, vega, gamma and the risk-neutral
  density (second derivative in the strike) against Black-Scholes.
- a masked autoregressive flow (MADE): triangular ``jacfwd`` whose ``slogdet`` is the
  log-determinant, the inverse by sweeps in a ``fori_loop`` (its ``jacrev`` the inverse
  Jacobian), masked weights with exactly zero gradient.
- a mixture density network: the density integrates to one, per-example gradients by
  ``vmap(grad)`` average to the loss's.
- a 2-D physics-informed network: the Laplacian by ``jvp`` of ``grad`` along a ``vmap`` of basis
  vectors (harmonic and eigenfunction closed forms, the trace of ``hessian``), the loss's
  parameter gradient (third order) under ``jit``.
- a Hamiltonian neural network: the field J grad H is divergence-free and symplectic, H is
  conserved along it, a Hessian in the output weights.
- GARCH(1,1) by maximum likelihood: the variance recursion in ``scan``, Newton with ``hessian``
  in a jitted ``fori_loop`` reaching SciPy's optimum.
- an Ornstein-Uhlenbeck process's exact likelihood: Newton lands on the AR(1) least-squares
  closed form.
- Bradley-Terry ratings by Hunter's MM algorithm: the MLE, the Hessian's null space, and the
  ratings' sensitivity to the results through 300 unrolled steps against the implicit
  function theorem.
- rotary position embeddings (RoPE) in causal multi-head attention (heads by ``vmap``):
  invariance to shifting positions, causality of the ``jacrev``.
- split-step Fourier for the Schroedinger equation (complex ``fft`` in ``scan``): the norm is
  conserved, Ehrenfest's theorem, the potential's gradient in both modes.
- a deep equilibrium layer: Anderson acceleration forward, a ``custom_vjp`` solving the adjoint
  fixed point, against the implicit function theorem and unrolled iteration;
  ``jit(vmap(grad))`` through the rule.
- skip-gram with negative sampling: NumPy id arrays mapped by ``vmap`` beside any library's
  tables, the gradient by hand, rows never used with zero gradient.
- matrix completion by ALS: half-steps by ``vmap`` over rows zero the gradient, the loss never
  increases over jitted sweeps, block-diagonal Hessian, the half-step's Jacobian in the data.
- knowledge distillation with a temperature and label smoothing: gradients and Hessian in
  closed form.
- the maximum mean discrepancy and a particle flow that lowers it (jitted ``fori_loop``).
- conjugate gradients unrolled: its derivatives are those of the solve (along symmetric
  directions for the matrix); forward mode through a ``while_loop`` that stops on the residual.
- a kernel density estimate's leave-one-out bandwidth by Newton, against SciPy.
- the shooting method: the launch angle by Newton inside ``custom_root``; without drag the
  closed form, with drag the implicit derivative against re-solving.
- a multivariate Student t's log-density by Cholesky against SciPy's ``multivariate_t``.
- a Gumbel-softmax VAE with keys split per example: JAX's Gumbel draws and gradients, the KL
  term's gradient in closed form.
- random Fourier features: JAX's draws, the RBF kernel and its lengthscale derivative in
  expectation over keys by ``vmap``.
- circular and linear convolution by ``rfft``/``irfft``: circulant and Toeplitz Jacobians.
- NeuralSort's relaxed permutation: the sorting permutation as the temperature falls, and the
  soft top-k's gradient.
- a hierarchical beta-binomial model through ``functrans.scipy.stats`` (``betabinom``,
  ``gamma``, ``binom``, ``beta``): SciPy's values, the digamma closed form of the gradient, the
  marginal against Gauss-Legendre quadrature of binomial times beta, the posterior mode by
  Newton.
- a Gaussian process on a grid, its Kronecker-structured likelihood by ``eigh`` of the factors,
  against SciPy and the trace formula of its gradient.
- minibatch SGD for softmax regression: ``random.permutation`` per epoch in a ``scan`` carrying
  keys, bit for bit with JAX; NumPy labels as positions through ``jit``.
- a monotone calibration map by ``interp``: gradients in the values and the knots; a signed
  ``logsumexp`` (``b=``, ``return_sign=``) against SciPy and its gradient in closed form.
- Allen-Cahn by explicit steps with periodic ``roll``: the energy decreases, the step's Jacobian
  and the energy's gradient in closed form.
- an orthogonal layer by ``qr`` (sign-fixed) and the nuclear norm by ``svd``, whose gradient is
  U V^T.

Every reference is independent of functrans: a closed form, SciPy, NumPy by hand, central
differences (``check_grads``), or JAX 0.10.2 with x64 (computed once per module, not once per
backend). The code is written for this file.

The regressions found while porting (tests/test_review_s21.py): NumPy integer index arrays
passed through ``jit`` or ``vmap`` beside a torch or array-api-strict table raised
BackendMismatchError in the gather (outside a transform they already worked); the index
primitives now place them in the table's library. And NumPy operands of ``scan``, ``cond`` and
``while_loop`` under ``jit`` beside another library's (minibatch positions as the scan's
``xs``, a NumPy predicate) raised it in the control-flow primitive, where the same code runs
outside ``jit``; those primitives now leave the rule to the operations of their bodies. Documented behaviour met on the way, written
around here: a plain NumPy table cannot be indexed at traced positions (``take`` instead); a
creation function in a loop body makes NumPy arrays unless given a device; JAX's tracers have
no ``device`` (the programs take one as an argument); an array gathered *from* (labels
indexed by a permutation) is data, so a NumPy one beside another library's positions is
refused. And one of JAX's own: 0.10.2's ``betaln`` (so ``betabinom``) is accurate to ~1e-8
relative only, as are its gradients, where functrans agrees with SciPy to ~1e-14.

Written the way the suite's backends need: array-api-strict's operators refuse a tracer on
their right (its issue #188), so a plain array never comes first in an operator beside a
tracer (``fnp.multiply``/``matmul``/``subtract`` where either side may be plain, as inside a
loop whose first step runs on the plain initial carry).
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


# -- entropy-regularised value iteration: custom_root, and dV/dr is the occupancy ------------------

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
    r = jnp.asarray(MDP_R)
    return np.asarray(value(r)), np.asarray(jax.jit(jax.jacrev(value))(r))


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


# -- personalised PageRank by custom_linear_solve with power-iteration solves ----------------------

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
    jac = jax.jit(jax.jacrev(f, argnums=(0, 1, 2)))
    return np.asarray(f(*args)), [np.asarray(j) for j in jac(*args)]


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


# -- a European call priced by Fourier inversion (Gil-Pelaez) of the characteristic function -------

GL_X, GL_W = np.polynomial.legendre.leggauss(128)
FOURIER_U, FOURIER_W = 30.0 * (GL_X + 1), 30.0 * GL_W  # nodes and weights on [0, 60]


def fourier_call(np_, S0, K, sigma, r, t, u, w):
    """C = S0 P1 - K exp(-r t) P2, each probability the Gil-Pelaez integral of the log-price's
    characteristic function (Black-Scholes dynamics here), by Gauss-Legendre on complex u."""
    def phi(z):  # (the tracers first: #188)
        return np_.exp((np_.log(S0) + (r - 0.5 * sigma ** 2) * t) * (1j * z)
                       - (0.5 * sigma ** 2 * t) * (z * z))
    e = np_.exp(np_.log(K) * (-1j * u)) / (1j * u)
    p1 = 0.5 + np_.sum(np_.real(e * phi(u - 1j) / (S0 * math.exp(r * t))) * w) / math.pi
    p2 = 0.5 + np_.sum(np_.real(e * phi(u)) * w) / math.pi
    return p1 * S0 - p2 * K * math.exp(-r * t)


def test_fourier_inversion_call_price_and_greeks_against_black_scholes(backend):
    from scipy.stats import norm
    S0, r, t = 100.0, 0.03, 0.75
    Ks, sig = np.array([80.0, 95.0, 100.0, 110.0, 130.0]), 0.25
    u = backend.asarray(FOURIER_U, dtype="complex128")
    w = backend.asarray(FOURIER_W)
    price = lambda S0, K, s: fourier_call(fnp, S0, K, s, r, t, u, w)  # noqa: E731
    d1 = (np.log(S0 / Ks) + (r + sig ** 2 / 2) * t) / (sig * np.sqrt(t))
    d2 = d1 - sig * np.sqrt(t)
    bs = S0 * norm.cdf(d1) - Ks * np.exp(-r * t) * norm.cdf(d2)
    S, K, s = backend.asarray(S0), backend.asarray(Ks), backend.asarray(sig)
    c = ft.jit(ft.vmap(price, in_axes=(None, 0, None)))(S, K, s)
    assert backend.is_own(c)
    np.testing.assert_allclose(backend.to_numpy(c), bs, rtol=1e-11)
    # delta N(d1), vega S0 n(d1) sqrt(t), gamma n(d1) / (S0 sigma sqrt(t)), dC/dK -exp(-rt) N(d2)
    delta, dK, vega = ft.vmap(ft.grad(price, argnums=(0, 1, 2)), in_axes=(None, 0, None))(S, K, s)
    np.testing.assert_allclose(backend.to_numpy(delta), norm.cdf(d1), atol=1e-11)
    np.testing.assert_allclose(backend.to_numpy(dK), -np.exp(-r * t) * norm.cdf(d2), atol=1e-11)
    np.testing.assert_allclose(backend.to_numpy(vega), S0 * norm.pdf(d1) * np.sqrt(t),
                               rtol=1e-10)
    gamma = ft.vmap(ft.hessian(price), in_axes=(None, 0, None))(S, K, s)
    np.testing.assert_allclose(backend.to_numpy(gamma), norm.pdf(d1) / (S0 * sig * np.sqrt(t)),
                               rtol=1e-9)
    # the density: d2C/dK2 = exp(-rt) times the terminal price's lognormal density, forward mode
    dens = ft.jacfwd(ft.grad(price, argnums=1), argnums=1)(S, K[1], s)
    want = np.exp(-r * t) * norm.pdf(d2[1]) / (Ks[1] * sig * np.sqrt(t))
    assert float(backend.to_numpy(dens)) == pytest.approx(want, rel=1e-9)


# -- a masked autoregressive flow layer (MADE, Germain et al. 2015; MAF, Papamakarios et al. 2017) -

MAF_D, MAF_H = 4, 10
_deg_h = np.arange(MAF_H) % (MAF_D - 1) + 1  # hidden unit k sees inputs 1..deg_h[k]
MAF_MASKS = ((_deg_h[:, None] >= np.arange(1, MAF_D + 1)[None]).astype(float),   # (H, D)
             (np.arange(1, MAF_D + 1)[:, None] > _deg_h[None]).astype(float))    # (D, H)
MAF_P = {"W1": RNG.normal(size=(MAF_H, MAF_D)) / 2, "b1": RNG.normal(size=MAF_H) / 4,
         "Wm": RNG.normal(size=(MAF_D, MAF_H)) / 2, "bm": RNG.normal(size=MAF_D) / 4,
         "Wa": RNG.normal(size=(MAF_D, MAF_H)) / 4, "ba": RNG.normal(size=MAF_D) / 4}
MAF_X = RNG.normal(size=(5, MAF_D))


def maf(np_, T, lax, masks):
    M1, M2 = masks

    def made(p, x):  # the shift and log-scale of x_i from x_<i alone
        h = np_.tanh(np_.matmul(p["W1"] * M1, x) + p["b1"])  # (matmul: either may be plain)
        return np_.matmul(p["Wm"] * M2, h) + p["bm"], np_.matmul(p["Wa"] * M2, h) + p["ba"]

    def forward(p, x):  # data to noise, and log |det dz/dx|
        mu, alpha = made(p, x)
        return (x - mu) * np_.exp(-alpha), -np_.sum(alpha)

    def inverse(p, z):  # D sweeps: sweep i fixes x_i (the ones before it are already right)
        return lax.fori_loop(0, M1.shape[1], lambda i, x: z * np_.exp(made(p, x)[1])
                             + made(p, x)[0], np_.zeros_like(z))

    def nll(p, xs):
        def one(x):
            z, logdet = forward(p, x)
            return 0.5 * np_.sum(z * z) + 0.5 * z.shape[0] * math.log(2 * math.pi) - logdet
        return np_.mean(T.vmap(one)(xs))
    return forward, inverse, nll


@functools.cache
def _maf_jax():
    jax = _jax()
    import jax.numpy as jnp
    _, _, nll = maf(jnp, jax, jax.lax, _jnp(MAF_MASKS))
    v, g = jax.jit(jax.value_and_grad(nll))(_jnp(MAF_P), jnp.asarray(MAF_X))
    return float(v), jax.tree.map(np.asarray, g)


def test_masked_autoregressive_flow_triangular_jacobian_inverse_and_likelihood(backend):
    forward, inverse, nll = maf(fnp, ft, flax, _on(backend, MAF_MASKS))
    p, xs = _on(backend, MAF_P), backend.asarray(MAF_X)
    for i in range(2):
        x = xs[i, :]
        J = backend.to_numpy(ft.jacfwd(lambda x: forward(p, x)[0])(x))
        np.testing.assert_array_equal(np.triu(J, 1), 0.0)  # autoregressive
        sign, logdet = np.linalg.slogdet(J)
        assert sign == 1.0
        assert float(backend.to_numpy(forward(p, x)[1])) == pytest.approx(logdet, rel=1e-12)
        # the inverse by sequential sweeps undoes the forward pass; its Jacobian is J's inverse
        z = forward(p, x)[0]
        np.testing.assert_allclose(backend.to_numpy(inverse(p, z)), MAF_X[i], atol=1e-13)
        Ji = backend.to_numpy(ft.jacrev(lambda z: inverse(p, z))(z))
        np.testing.assert_allclose(Ji, np.linalg.inv(J), atol=1e-11)
    want_v, want_g = _maf_jax()
    for fn in (ft.value_and_grad(nll), ft.jit(ft.value_and_grad(nll))):
        v, g = fn(p, xs)
        assert float(backend.to_numpy(v)) == pytest.approx(want_v, rel=1e-13)
        assert backend.is_own(g["W1"])
        close(want_g, _np(backend, g), tol=1e-11)
    # a masked-out weight has no effect, so its gradient is exactly zero
    g = _np(backend, ft.grad(nll)(p, xs))
    assert np.all(g["W1"][MAF_MASKS[0] == 0] == 0) and np.all(g["Wa"][MAF_MASKS[1] == 0] == 0)
    check_grads(lambda Wa: nll({**p, "Wa": Wa}, xs), (p["Wa"],), order=2, modes=("rev",))


# -- a mixture density network (Bishop 1994) -------------------------------------------------------

MDN_K, MDN_H = 3, 6
MDN_P = {"w1": RNG.normal(size=MDN_H), "b1": RNG.normal(size=MDN_H) / 2,
         "W2": RNG.normal(size=(MDN_H, 3 * MDN_K)) / 2, "b2": RNG.normal(size=3 * MDN_K) / 4}
MDN_X = np.linspace(-1.0, 1.0, 7)
MDN_Y = np.sin(2 * MDN_X) + 0.3 * RNG.normal(size=7)


def mdn(np_, T, K=MDN_K):
    def params(p, x):
        h = np_.tanh(np_.multiply(p["w1"], x) + p["b1"])  # (either may be plain: #188)
        out = h @ p["W2"] + p["b2"]
        logits = out[:K]
        return logits - _lse(np_, logits), out[K:2 * K], out[2 * K:]

    def logpdf(p, x, y):
        logpi, mu, logsig = params(p, x)
        z = np_.subtract(mu, y) * np_.exp(-logsig)  # (either may be plain: #188)
        return _lse(np_, logpi - 0.5 * z * z - logsig - 0.5 * math.log(2 * math.pi))

    def nll(p, xs, ys):
        return -np_.mean(T.vmap(logpdf, in_axes=(None, 0, 0))(p, xs, ys))
    return params, logpdf, nll


@functools.cache
def _mdn_jax():
    jax = _jax()
    import jax.numpy as jnp
    _, _, nll = mdn(jnp, jax)
    v, g = jax.jit(jax.value_and_grad(nll))(_jnp(MDN_P), jnp.asarray(MDN_X), jnp.asarray(MDN_Y))
    return float(v), jax.tree.map(np.asarray, g)


def test_mixture_density_network_normalised_and_its_gradients(backend):
    params, logpdf, nll = mdn(fnp, ft)
    p, xs, ys = _on(backend, MDN_P), backend.asarray(MDN_X), backend.asarray(MDN_Y)
    # the conditional density integrates to one and has the mixture's mean (trapezoid rule on
    # a wide grid: spectrally accurate for a Gaussian mixture)
    grid = np.linspace(-25.0, 25.0, 4001)
    dens = backend.to_numpy(fnp.exp(ft.jit(ft.vmap(logpdf, in_axes=(None, None, 0)))(
        p, xs[2], backend.asarray(grid))))
    h = grid[1] - grid[0]
    assert dens.sum() * h == pytest.approx(1.0, abs=1e-11)
    logpi, mu, _ = (backend.to_numpy(a) for a in params(p, xs[2]))
    assert (dens * grid).sum() * h == pytest.approx(np.exp(logpi) @ mu, abs=1e-10)
    # gradients against JAX, and the per-example gradients (vmap of grad) average to them
    want_v, want_g = _mdn_jax()
    v, g = ft.value_and_grad(nll)(p, xs, ys)
    assert float(backend.to_numpy(v)) == pytest.approx(want_v, rel=1e-13)
    close(want_g, _np(backend, g), tol=1e-12)
    per = ft.jit(ft.vmap(ft.grad(lambda p, x, y: -logpdf(p, x, y)), in_axes=(None, 0, 0)))(
        p, xs, ys)
    close(want_g, {k: backend.to_numpy(a).mean(axis=0) for k, a in per.items()}, tol=1e-12)
    check_grads(lambda W2: nll({**p, "W2": W2}, xs, ys), (p["W2"],), order=2)


# -- a 2-D physics-informed network: the Laplacian by jvp of grad (forward over reverse) -----------

PINN2_P = {"W1": RNG.normal(size=(2, 10)), "b1": RNG.normal(size=10) / 2,
           "W2": RNG.normal(size=(10, 10)) / 3, "b2": RNG.normal(size=10) / 2,
           "w3": RNG.normal(size=10) / 3, "b3": np.array(0.1)}
PINN2_XY = RNG.uniform(0.0, 1.0, size=(6, 2))


def pinn2d(np_, T, device=None):
    def u(p, xy):
        h = np_.tanh(xy @ p["W1"] + p["b1"])
        h = np_.tanh(h @ p["W2"] + p["b2"])
        return h @ p["w3"] + p["b3"]

    def laplacian(f, xy):  # the Hessian's rows by jvp of grad along each basis vector, its trace
        eye = np_.eye(xy.shape[0], dtype=xy.dtype, device=device)
        rows = T.vmap(lambda e: T.jvp(T.grad(f), (xy,), (e,))[1])(eye)
        return np_.sum(np_.diagonal(rows))

    def loss(p, pts):  # -lap u = 2 pi^2 sin(pi x) sin(pi y) in the square, u = 0 on its edge
        src = 2 * math.pi ** 2 * np_.sin(math.pi * pts[:, 0]) * np_.sin(math.pi * pts[:, 1])
        res = T.vmap(lambda xy: laplacian(lambda z: u(p, z), xy))(pts) + src
        edge = np_.concat([pts[:, :1] * 0.0, pts[:, 1:]], axis=1)  # the points moved to x = 0
        return np_.mean(res * res) + np_.mean(T.vmap(lambda xy: u(p, xy))(edge) ** 2)
    return u, laplacian, loss


@functools.cache
def _pinn2d_jax():
    jax = _jax()
    _, _, loss = pinn2d(jax.numpy, jax)
    v, g = jax.jit(jax.value_and_grad(loss))(_jnp(PINN2_P), jax.numpy.asarray(PINN2_XY))
    return float(v), jax.tree.map(np.asarray, g)


def test_pinn_laplacian_by_jvp_of_grad_and_the_loss_gradient(backend):
    p, pts = _on(backend, PINN2_P), backend.asarray(PINN2_XY)
    u, laplacian, loss = pinn2d(fnp, ft, device=backend.backend.device(pts))
    # closed forms: a harmonic function, and an eigenfunction of the Laplacian
    harm = lambda xy: fnp.exp(xy[0]) * fnp.sin(xy[1]) + xy[0] ** 2 - xy[1] ** 2  # noqa: E731
    eig = lambda xy: fnp.sin(math.pi * xy[0]) * fnp.sin(math.pi * xy[1])  # noqa: E731
    lh = ft.vmap(lambda xy: laplacian(harm, xy))(pts)
    np.testing.assert_allclose(backend.to_numpy(lh), 0.0, atol=1e-12)
    le = ft.jit(ft.vmap(lambda xy: laplacian(eig, xy)))(pts)
    want = -2 * math.pi ** 2 * np.sin(math.pi * PINN2_XY[:, 0]) * np.sin(math.pi * PINN2_XY[:, 1])
    np.testing.assert_allclose(backend.to_numpy(le), want, atol=1e-11)
    # the network's: the trace of its hessian
    for i in range(2):
        H = backend.to_numpy(ft.hessian(lambda xy: u(p, xy))(pts[i, :]))
        got = laplacian(lambda xy: u(p, xy), pts[i, :])
        assert float(backend.to_numpy(got)) == pytest.approx(np.trace(H), rel=1e-12)
    # the loss's parameter gradient (third order: reverse over forward over reverse) against JAX
    want_v, want_g = _pinn2d_jax()
    v, g = ft.jit(ft.value_and_grad(loss))(p, pts)
    assert float(backend.to_numpy(v)) == pytest.approx(want_v, rel=1e-12)
    assert backend.is_own(g["W2"])
    close(want_g, _np(backend, g), tol=1e-10)
    check_grads(lambda b2: loss({**p, "b2": b2}, pts), (p["b2"],), order=1)


# -- a Hamiltonian neural network (Greydanus et al. 2019): the field is J grad H -------------------

HNN_P = {"W1": RNG.normal(size=(2, 8)), "b1": RNG.normal(size=8) / 2,
         "w2": RNG.normal(size=8) / 2}
HNN_Z = RNG.normal(size=(6, 2))


def hnn(np_, T):
    def H(p, z):
        return np_.sum(np_.tanh(z @ p["W1"] + p["b1"]) * p["w2"]) + 0.5 * np_.sum(z * z)

    def field(p, z):  # dq/dt = dH/dp, dp/dt = -dH/dq
        g = T.grad(H, argnums=1)(p, z)
        return np_.stack([g[1], -g[0]])

    def loss(p, zs):  # fitted to the harmonic oscillator's field (p, -q)
        f = T.vmap(field, in_axes=(None, 0))(p, zs)
        target = np_.stack([zs[:, 1], -zs[:, 0]], axis=1)
        return np_.mean(np_.sum((f - target) ** 2, axis=1))
    return H, field, loss


@functools.cache
def _hnn_jax():
    jax = _jax()
    _, _, loss = hnn(jax.numpy, jax)
    g = jax.jit(jax.grad(loss))(_jnp(HNN_P), jax.numpy.asarray(HNN_Z))
    zs = jax.numpy.asarray(HNN_Z)
    h = jax.jit(jax.hessian(lambda w2: loss({**_jnp(HNN_P), "w2": w2}, zs)))(
        jax.numpy.asarray(HNN_P["w2"]))
    return jax.tree.map(np.asarray, g), np.asarray(h)


def test_hamiltonian_network_field_is_divergence_free_and_conserves_its_energy(backend):
    H, field, loss = hnn(fnp, ft)
    p, zs = _on(backend, HNN_P), backend.asarray(HNN_Z)
    for i in range(3):
        z = zs[i, :]
        J = backend.to_numpy(ft.jacfwd(lambda z: field(p, z))(z))
        assert abs(np.trace(J)) < 1e-12  # Liouville: the flow keeps phase-space volume
        # J = S hess(H) with S the symplectic matrix: J^T S + S J = 0 (the field is Hamiltonian)
        S = np.array([[0.0, 1.0], [-1.0, 0.0]])
        np.testing.assert_allclose(J.T @ S + S @ J, 0.0, atol=1e-12)
        np.testing.assert_allclose(J, S @ backend.to_numpy(ft.hessian(lambda z: H(p, z))(z)),
                                   atol=1e-12)
        # H is constant along the field
        dH = ft.jvp(lambda z: H(p, z), (z,), (field(p, z),))[1]
        assert abs(float(backend.to_numpy(dH))) < 1e-12
    # zero network weights give the oscillator exactly
    zero = {k: fnp.zeros_like(v) for k, v in p.items()}
    assert float(backend.to_numpy(loss(zero, zs))) == 0.0
    want_g, want_h = _hnn_jax()
    close(want_g, _np(backend, ft.jit(ft.grad(loss))(p, zs)), tol=1e-12)
    h = ft.hessian(lambda w2: loss({**p, "w2": w2}, zs))(p["w2"])
    close(want_h, backend.to_numpy(h), tol=1e-11)
    # the loss is quadratic in the output weights: its hessian is constant
    h0 = ft.hessian(lambda w2: loss({**p, "w2": w2}, zs))(zero["w2"])
    close(backend.to_numpy(h), backend.to_numpy(h0), tol=1e-12)


# -- GARCH(1,1) by maximum likelihood: the variance recursion in scan, Newton with hessian ---------

def _simulate_garch(n, omega, alpha, beta, rng):
    eps, s2 = np.empty(n), omega / (1 - alpha - beta)
    for t in range(n):
        eps[t] = math.sqrt(s2) * rng.normal()
        s2 = omega + alpha * eps[t] ** 2 + beta * s2
    return eps


GARCH_EPS = _simulate_garch(120, 0.1, 0.15, 0.75, np.random.default_rng(3))
GARCH_THETA = np.array([0.12, 0.12, 0.72])  # omega, alpha, beta


def garch_nll(np_, lax, theta, eps):
    omega, alpha, beta = theta[0], theta[1], theta[2]

    def step(s2, e):
        ll = -0.5 * (math.log(2 * math.pi) + np_.log(s2) + np_.divide(e * e, s2))
        return omega + alpha * (e * e) + beta * s2, ll
    s2_0 = np_.mean(eps * eps)  # the usual start: the sample variance
    _, lls = lax.scan(step, s2_0, eps)
    return -np_.sum(lls)


def _garch_nll_by_hand(theta, eps):
    omega, alpha, beta = theta
    s2, nll = np.mean(eps ** 2), 0.0
    for e in eps:
        nll += 0.5 * (math.log(2 * math.pi) + math.log(s2) + e * e / s2)
        s2 = omega + alpha * e * e + beta * s2
    return nll


@functools.cache
def _garch_jax():
    jax = _jax()
    f = lambda th: garch_nll(jax.numpy, jax.lax, th, jax.numpy.asarray(GARCH_EPS))  # noqa: E731
    th = jax.numpy.asarray(GARCH_THETA)
    return np.asarray(jax.jit(jax.grad(f))(th)), np.asarray(jax.jit(jax.hessian(f))(th))


def test_garch_likelihood_in_scan_newton_fit_and_standard_errors(backend):
    from scipy.optimize import minimize
    eps = backend.asarray(GARCH_EPS)
    f = lambda th: garch_nll(fnp, flax, th, eps)  # noqa: E731
    th = backend.asarray(GARCH_THETA)
    assert float(backend.to_numpy(f(th))) == pytest.approx(
        _garch_nll_by_hand(GARCH_THETA, GARCH_EPS), rel=1e-13)
    want_g, want_h = _garch_jax()
    close(want_g, backend.to_numpy(ft.grad(f)(th)), tol=1e-10)
    close(want_h, backend.to_numpy(ft.jit(ft.hessian(f))(th)), tol=1e-9)
    check_grads(f, (th,), order=1, modes=("rev",))
    # Newton's method with the exact hessian, jitted in a fori_loop, from SciPy's optimum rounded
    # to two decimals, reaches it (Nelder-Mead on the likelihood by hand), and beyond
    ref = minimize(lambda t: _garch_nll_by_hand(t, GARCH_EPS), GARCH_THETA, method="Nelder-Mead",
                   options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 4000})
    newton = ft.jit(lambda th: flax.fori_loop(
        0, 4, lambda i, th: th - fnp.linalg.solve(ft.hessian(f)(th), ft.grad(f)(th)), th))
    th_hat = newton(backend.asarray(np.round(ref.x, 2)))
    assert backend.is_own(th_hat)
    g_hat = backend.to_numpy(ft.grad(f)(th_hat))
    assert np.max(np.abs(g_hat)) < 1e-9
    np.testing.assert_allclose(backend.to_numpy(th_hat), ref.x, atol=2e-6)
    # standard errors from the observed information: positive definite at the optimum
    H = backend.to_numpy(ft.hessian(f)(th_hat))
    np.testing.assert_allclose(H, H.T, atol=1e-9)
    assert np.all(np.linalg.eigvalsh(H) > 0)


# -- an Ornstein-Uhlenbeck process's exact likelihood: Newton reaches the AR(1) closed form --------

OU_DT = 0.1


def _simulate_ou(n, theta, mu, sigma, rng, dt=OU_DT):
    x = np.empty(n + 1)
    x[0] = mu
    a, sd = math.exp(-theta * dt), sigma * math.sqrt((1 - math.exp(-2 * theta * dt)) / (2 * theta))
    for k in range(n):
        x[k + 1] = mu + (x[k] - mu) * a + sd * rng.normal()
    return x


OU_X = _simulate_ou(120, 1.5, 0.4, 0.6, np.random.default_rng(121))  # (its own stream)


def ou_nll(np_, p, x, dt=OU_DT):
    """-log p(x_1.. | x_0) for dx = theta (mu - x) dt + sigma dW with p = (log theta, mu,
    log sigma): Gaussian transitions with known mean and variance."""
    theta, mu, sigma = np_.exp(p[0]), p[1], np_.exp(p[2])
    a = np_.exp(-theta * dt)
    var = sigma ** 2 * (1 - a * a) / (2 * theta)
    r = np_.subtract(x[1:], np_.multiply(a, np_.subtract(x[:-1], mu)) + mu)  # (#188)
    return 0.5 * np_.sum(r * r) / var + 0.5 * (x.shape[0] - 1) * np_.log(2 * math.pi * var)


def test_ou_likelihood_newton_fit_is_the_ar1_least_squares_fit(backend):
    x = backend.asarray(OU_X)
    f = lambda p: ou_nll(fnp, p, x)  # noqa: E731
    # the closed form: least squares of x_{k+1} on x_k gives phi, c and the residual variance
    X, Y = OU_X[:-1], OU_X[1:]
    phi = np.cov(X, Y, bias=True)[0, 1] / np.var(X)
    c = Y.mean() - phi * X.mean()
    s2 = np.mean((Y - c - phi * X) ** 2)
    theta = -math.log(phi) / OU_DT
    want = np.array([math.log(theta), c / (1 - phi),
                     0.5 * math.log(2 * theta * s2 / (1 - phi ** 2))])
    # the gradient vanishes there
    g = backend.to_numpy(ft.grad(f)(backend.asarray(want)))
    assert np.max(np.abs(g)) < 1e-9
    step = lambda i, p: p - fnp.linalg.solve(ft.hessian(f)(p), ft.grad(f)(p))  # noqa: E731
    p_hat = ft.jit(lambda p: flax.fori_loop(0, 12, step, p))(backend.asarray(want + 0.15))
    np.testing.assert_allclose(backend.to_numpy(p_hat), want, atol=1e-10)
    # the hessian in closed form for mu: (n - 1) (1 - phi)^2 / s2
    H = backend.to_numpy(ft.hessian(f)(backend.asarray(want)))
    assert H[1, 1] == pytest.approx(len(Y) * (1 - phi) ** 2 / s2, rel=1e-10)
    check_grads(f, (backend.asarray(want + 0.15),), order=2)


# -- Bradley-Terry ratings: Hunter's MM algorithm in fori_loop, sensitivities to the results -------

BT_N = 5
BT_W = RNG.integers(1, 7, size=(BT_N, BT_N)) * (1 - np.eye(BT_N))  # W[i, j]: i's wins over j


def bradley_terry(np_, lax, n_iter=300):
    def loglik(beta, W):
        return np_.sum((beta[:, None] - np_.logaddexp(beta[:, None], beta[None, :])) * W)

    def mm(W):  # w_i <- wins_i / sum_j n_ij / (w_i + w_j), in log space, centred
        N = W + W.T
        wins = np_.sum(W, axis=1)

        def body(i, beta):
            w = np_.exp(beta)
            b = np_.log(wins / np_.sum(N / (w[:, None] + w[None, :]), axis=1))
            return b - np_.mean(b)
        return lax.fori_loop(0, n_iter, body, np_.zeros_like(wins))
    return loglik, mm


def test_bradley_terry_mm_reaches_the_mle_and_its_sensitivity_to_the_results(backend):
    loglik, mm = bradley_terry(fnp, flax)
    W = backend.asarray(BT_W)
    beta = mm(W)
    b = backend.to_numpy(beta)
    g = backend.to_numpy(ft.grad(loglik)(beta, W))
    assert np.max(np.abs(g)) < 1e-11
    # the hessian: rows summing to zero (only differences of ratings matter), else negative
    H = backend.to_numpy(ft.hessian(loglik)(beta, W))
    np.testing.assert_allclose(H.sum(axis=1), 0.0, atol=1e-12)
    ev = np.linalg.eigvalsh(H)
    assert abs(ev[-1]) < 1e-12 and np.all(ev[:-1] < -0.1)
    # d beta / dW through the 300 unrolled MM steps against the implicit function theorem:
    # dg_i/dW_kl = s(b_l - b_k)(delta_ik - delta_il), d beta = -pinv(H) dg (centred ratings)
    sig = 1 / (1 + np.exp(-(b[None, :] - b[:, None])))  # sig[k, l] = s(b_l - b_k)
    dg = np.zeros((BT_N, BT_N, BT_N))
    for k in range(BT_N):
        for l in range(BT_N):
            dg[k, k, l] += sig[k, l]
            dg[l, k, l] -= sig[k, l]
    want = -np.einsum("ij,jkl->ikl", np.linalg.pinv(H), dg)
    for jac in (ft.jacrev(mm), ft.jit(ft.jacfwd(mm))):
        J = backend.to_numpy(jac(W))
        np.testing.assert_allclose(J, want, atol=1e-9)


# -- rotary position embeddings (RoPE, Su et al. 2021) in causal multi-head attention --------------

ROPE_L, ROPE_H, ROPE_D = 6, 2, 4
ROPE_P = {"Wq": RNG.normal(size=(ROPE_H * ROPE_D, ROPE_H * ROPE_D)) / 3,
          "Wk": RNG.normal(size=(ROPE_H * ROPE_D, ROPE_H * ROPE_D)) / 3,
          "Wv": RNG.normal(size=(ROPE_H * ROPE_D, ROPE_H * ROPE_D)) / 3}
ROPE_X = RNG.normal(size=(ROPE_L, ROPE_H * ROPE_D))
ROPE_FREQS = 100.0 ** (-np.arange(ROPE_D // 2) / (ROPE_D // 2))


def rope_attention(np_, T):
    def rotate(x, pos, freqs):  # pairs (x_i, x_{i+D/2}) turned by pos * freq_i
        ang = pos[:, None] * freqs[None, :]
        c, s = np_.cos(ang), np_.sin(ang)
        half = x.shape[-1] // 2
        x1, x2 = x[:, :half], x[:, half:]
        return np_.concat([x1 * c - x2 * s, x1 * s + x2 * c], axis=-1)

    def head(q, k, v, pos, freqs, mask):
        # (matmul, not @: either side may be a plain array, #188)
        s = np_.matmul(rotate(q, pos, freqs), rotate(k, pos, freqs).T) / math.sqrt(q.shape[-1])
        s = np_.where(mask, s, -1e30)
        a = np_.exp(s - np_.max(s, axis=-1, keepdims=True))
        return np_.matmul(a / np_.sum(a, axis=-1, keepdims=True), v)

    def attend(p, x, pos, freqs, mask):
        L = x.shape[0]
        q, k, v = (np_.reshape(np_.matmul(x, p[w]), (L, ROPE_H, ROPE_D))
                   for w in ("Wq", "Wk", "Wv"))
        out = T.vmap(head, in_axes=(1, 1, 1, None, None, None))(q, k, v, pos, freqs, mask)
        return np_.reshape(np_.permute_dims(out, (1, 0, 2)), (L, ROPE_H * ROPE_D))
    return rotate, attend


@functools.cache
def _rope_jax():
    jax = _jax()
    import jax.numpy as jnp
    _, attend = rope_attention(jnp, jax)
    mask = jnp.tril(jnp.ones((6, 6), dtype=bool))
    loss = lambda p, x: jnp.sum(jnp.tanh(  # noqa: E731
        attend(p, x, jnp.arange(6.0), jnp.asarray(ROPE_FREQS), mask)))
    g = jax.jit(jax.grad(loss, argnums=(0, 1)))(_jnp(ROPE_P), jnp.asarray(ROPE_X))
    return jax.tree.map(np.asarray, g)


def test_rope_attention_depends_on_relative_positions_and_is_causal(backend):
    rotate, attend = rope_attention(fnp, ft)
    p, x = _on(backend, ROPE_P), backend.asarray(ROPE_X)
    freqs = backend.asarray(ROPE_FREQS)
    mask = backend.asarray(np.tril(np.ones((ROPE_L, ROPE_L))), dtype="bool")
    pos = backend.asarray(np.arange(ROPE_L, dtype=float))
    out = attend(p, x, pos, freqs, mask)
    # shifting every position by the same amount changes nothing (scores see m - n only)
    shifted = attend(p, x, backend.asarray(np.arange(ROPE_L) + 17.25), freqs, mask)
    np.testing.assert_allclose(backend.to_numpy(shifted), backend.to_numpy(out), atol=1e-12)
    # <R(m) q, R(n) k> = <q, R(n - m) k>
    q, k = (backend.asarray(RNG.normal(size=(1, ROPE_D))) for _ in range(2))
    lhs = fnp.sum(rotate(q, backend.asarray([3.0]), freqs)
                  * rotate(k, backend.asarray([7.5]), freqs))
    rhs = fnp.sum(q * rotate(k, backend.asarray([4.5]), freqs))
    assert float(backend.to_numpy(lhs)) == pytest.approx(float(backend.to_numpy(rhs)), rel=1e-12)
    # causal: row i of the output depends on rows j <= i of the input only
    J = backend.to_numpy(ft.jacrev(lambda x: attend(p, x, pos, freqs, mask))(x))
    for i in range(ROPE_L):
        np.testing.assert_array_equal(J[i, :, i + 1:, :], 0.0)
    Jf = backend.to_numpy(ft.jit(ft.jacfwd(lambda x: attend(p, x, pos, freqs, mask)))(x))
    np.testing.assert_allclose(Jf, J, atol=1e-12)
    loss = lambda p, x: fnp.sum(fnp.tanh(attend(p, x, pos, freqs, mask)))  # noqa: E731
    close(_rope_jax(), _np(backend, ft.grad(loss, argnums=(0, 1))(p, x)), tol=1e-11)
    check_grads(lambda Wq: loss({**p, "Wq": Wq}, x), (p["Wq"],), order=1)


# -- split-step Fourier for the Schroedinger equation, differentiated in the potential -------------

SCH_N, SCH_LEN, SCH_DT, SCH_STEPS = 64, 20.0, 0.02, 50
SCH_X = (np.arange(SCH_N) - SCH_N // 2) * (SCH_LEN / SCH_N)
SCH_K = 2 * np.pi * np.fft.fftfreq(SCH_N, SCH_LEN / SCH_N)
SCH_PSI0 = np.exp(-(SCH_X - 1.0) ** 2 / 2 + 0.5j * SCH_X) / np.pi ** 0.25


def split_step(np_, lax, omega, psi0, x, k, dt=SCH_DT, steps=SCH_STEPS, dx=SCH_LEN / SCH_N):
    """i psi_t = -psi_xx / 2 + omega^2 x^2 / 2 psi by Strang splitting; returns the final
    norm and mean position."""
    half_v = np_.exp((omega ** 2 * x * x) * (-0.25j * dt))  # (the tracer first: #188)
    kinetic = np_.exp((k * k) * (-0.5j * dt))

    def step(psi, _):
        psi = half_v * psi
        psi = np_.fft.ifft(np_.fft.fft(psi) * kinetic)
        return half_v * psi, None
    psi, _ = lax.scan(step, psi0, None, length=steps)
    dens = np_.real(psi * np_.conj(psi))
    return np_.sum(dens) * dx, np_.sum(dens * x) * dx


@functools.cache
def _split_step_jax():
    jax = _jax()
    import jax.numpy as jnp
    psi0, x, k = (jnp.asarray(a) for a in (SCH_PSI0, SCH_X, SCH_K))
    f = lambda w: split_step(jnp, jax.lax, w, psi0, x, k)[1]  # noqa: E731
    return float(f(1.3)), float(jax.jit(jax.grad(f))(1.3))


def test_split_step_schroedinger_norm_ehrenfest_and_the_potentials_gradient(backend):
    psi0 = backend.asarray(SCH_PSI0, dtype="complex128")
    x, k = backend.asarray(SCH_X), backend.asarray(SCH_K)
    f = lambda w: split_step(fnp, flax, w, psi0, x, k)  # noqa: E731
    w = backend.asarray(1.3)
    norm, mean = f(w)
    assert float(backend.to_numpy(norm)) == pytest.approx(1.0, abs=1e-12)  # unitary steps
    # Ehrenfest, exact for a quadratic potential: <x>(t) = x0 cos(wt) + p0 sin(wt) / w (the
    # splitting's error is O(dt^2))
    t = SCH_DT * SCH_STEPS
    exact = lambda w: 1.0 * np.cos(w * t) + 0.5 * np.sin(w * t) / w  # noqa: E731
    assert float(backend.to_numpy(mean)) == pytest.approx(exact(1.3), abs=1e-4)
    d_exact = (exact(1.3 + 1e-6) - exact(1.3 - 1e-6)) / 2e-6
    want_v, want_g = _split_step_jax()
    for g in (ft.grad(lambda w: f(w)[1])(w), ft.jit(ft.jacfwd(lambda w: f(w)[1]))(w)):
        assert float(backend.to_numpy(g)) == pytest.approx(want_g, rel=1e-10)
        assert float(backend.to_numpy(g)) == pytest.approx(d_exact, abs=1e-3)
    assert float(backend.to_numpy(mean)) == pytest.approx(want_v, rel=1e-12)
    # the norm's derivative is zero to rounding, in both modes
    assert abs(float(backend.to_numpy(ft.grad(lambda w: f(w)[0])(w)))) < 1e-12
    check_grads(lambda w: f(w)[1], (w,), order=2)


# -- a deep equilibrium layer: Anderson acceleration forward, an adjoint fixed point in custom_vjp -

DEQ_N = 5
_w = RNG.normal(size=(DEQ_N, DEQ_N))
DEQ_W = 0.6 * _w / np.linalg.norm(_w, 2)  # a contraction: tanh(W z + x) has a unique fixed point
DEQ_X = RNG.normal(size=(3, DEQ_N))


def deq(np_, T, lax, m=3, iters=25, lam=1e-10, device=None):
    def cell(W, z, x):
        return np_.tanh(np_.matmul(W, z) + x)  # (matmul: either may be plain, #188)

    def anderson(g, z0):
        """Type-II Anderson mixing over the last m iterates, kept as rolling buffers."""
        zs = [z0]
        for _ in range(m - 1):  # m plain iterations fill the history
            zs.append(g(zs[-1]))
        X = np_.stack(zs)
        G = np_.stack([g(z) for z in zs])

        def body(i, XG):
            X, G = XG
            F = G - X  # residuals
            A = F @ F.T + lam * np_.eye(m, dtype=F.dtype, device=device)
            ones = np_.ones_like(F[:, 0])
            a = np_.linalg.solve(A, ones)
            a = a / np_.sum(a)  # the affine combination of least residual
            z = a @ G
            return (np_.concat([X[1:, :], z[None, :]]), np_.concat([G[1:, :], g(z)[None, :]]))
        X, G = lax.fori_loop(0, iters, body, (X, G))
        return G[-1, :]

    @T.custom_vjp
    def layer(W, x):
        return anderson(lambda z: cell(W, z, x), np_.zeros_like(x))

    def layer_fwd(W, x):
        z = layer(W, x)
        return z, (W, x, z)

    def layer_bwd(res, gz):  # u = gz + (dcell/dz)^T u, then u pulled back to W and x
        W, x, z = res
        _, pull = T.vjp(lambda W, x, z: cell(W, z, x), W, x, z)
        u = lax.fori_loop(0, 80, lambda i, u: pull(u)[2] + gz, gz)
        gW, gx, _ = pull(u)
        return gW, gx
    layer.defvjp(layer_fwd, layer_bwd)

    def unrolled(W, x, n=80):
        return lax.fori_loop(0, n, lambda i, z: cell(W, z, x), np_.zeros_like(x))
    return layer, unrolled


def test_deq_anderson_forward_and_implicit_backward_against_the_closed_form(backend):
    layer, unrolled = deq(fnp, ft, flax, device=backend.backend.device(backend.asarray(0.0)))
    W, xs = backend.asarray(DEQ_W), backend.asarray(DEQ_X)
    x = xs[0, :]
    z = backend.to_numpy(layer(W, x))
    np.testing.assert_allclose(z, np.tanh(DEQ_W @ z + DEQ_X[0]), atol=1e-13)
    # the implicit function theorem: dz = (I - D W)^-1 D (dW z + dx), D = diag(1 - z^2)
    D = np.diag(1 - z ** 2)
    Ainv = np.linalg.inv(np.eye(DEQ_N) - D @ DEQ_W)
    want_x = Ainv @ D
    want_W = np.einsum("ij,k->ijk", Ainv @ D, z)
    JW, Jx = ft.jacrev(layer, argnums=(0, 1))(W, x)
    np.testing.assert_allclose(backend.to_numpy(Jx), want_x, atol=1e-12)
    np.testing.assert_allclose(backend.to_numpy(JW), want_W, atol=1e-12)
    # the unrolled iteration (differentiated step by step) agrees
    close(_np(backend, ft.jacrev(unrolled, argnums=(0, 1))(W, x)), _np(backend, (JW, Jx)),
          tol=1e-12)
    # a loss over a batch, by jit(vmap(grad)) through the custom rule
    loss = lambda W, x: fnp.sum(layer(W, x) ** 2)  # noqa: E731
    per = ft.jit(ft.vmap(ft.grad(loss), in_axes=(None, 0)))(W, xs)
    ref = ft.vmap(ft.grad(lambda W, x: fnp.sum(unrolled(W, x) ** 2)), in_axes=(None, 0))(W, xs)
    assert backend.is_own(per)
    close(backend.to_numpy(ref), backend.to_numpy(per), tol=1e-12)


# -- skip-gram with negative sampling (Mikolov et al. 2013): gathers by NumPy indices --------------

SG_V, SG_D, SG_K = 9, 3, 2
SG_E = {"inp": RNG.normal(size=(SG_V, SG_D)) / 2, "out": RNG.normal(size=(SG_V, SG_D)) / 2}
SG_CENTER = np.array([0, 2, 2, 5, 7])
SG_CONTEXT = np.array([1, 3, 0, 6, 2])
SG_NEG = np.array([[4, 6], [1, 5], [5, 7], [0, 3], [5, 4]])  # word 8 never appears


def sgns_loss(np_, T, E, center, context, neg):
    def one(c, o, n):
        # (take, not E["inp"][c]: a plain NumPy table can't be indexed by a traced position)
        v = np_.take(E["inp"], c, axis=0)
        pos = np_.sum(np_.take(E["out"], o, axis=0) * v)
        negs = np_.take(E["out"], n, axis=0) @ v
        # -log s(pos) - sum log s(-neg), with log s(t) = -log(1 + e^-t)
        return np_.logaddexp(0.0, -pos) + np_.sum(np_.logaddexp(0.0, negs))
    return np_.mean(T.vmap(one)(center, context, neg))


def _sgns_grad_by_hand(E, center, context, neg):
    sig = lambda t: 1 / (1 + np.exp(-t))  # noqa: E731
    gi, go = np.zeros_like(E["inp"]), np.zeros_like(E["out"])
    for c, o, ns in zip(center, context, neg):
        v, u = E["inp"][c], E["out"][o]
        gi[c] += (sig(u @ v) - 1) * u
        go[o] += (sig(u @ v) - 1) * v
        for n in ns:
            gi[c] += sig(E["out"][n] @ v) * E["out"][n]
            go[n] += sig(E["out"][n] @ v) * v
    return {"inp": gi / len(center), "out": go / len(center)}


def test_skip_gram_negative_sampling_gradient_by_hand_and_sparse_rows(backend):
    E = _on(backend, SG_E)
    idx = (SG_CENTER, SG_CONTEXT, SG_NEG)  # NumPy index arrays beside any library's tables
    f = lambda E: sgns_loss(fnp, ft, E, *idx)  # noqa: E731
    want = _sgns_grad_by_hand(SG_E, *idx)
    for fn in (ft.grad(f), ft.jit(ft.grad(f))):
        g = fn(E)
        assert backend.is_own(g["out"])
        close(want, _np(backend, g), tol=1e-13)
    g = _np(backend, ft.grad(f)(E))
    np.testing.assert_array_equal(g["inp"][8], 0.0)  # never a centre, context or negative
    np.testing.assert_array_equal(g["out"][8], 0.0)
    unused_centres = sorted(set(range(SG_V)) - set(SG_CENTER))
    np.testing.assert_array_equal(g["inp"][unused_centres], 0.0)
    # the hessian-vector product in the input table, forward over reverse, by central differences
    check_grads(lambda inp: f({**E, "inp": inp}), (E["inp"],), order=2, modes=("fwd", "rev"))


# -- matrix completion by alternating least squares (ALS): each half-step zeroes a gradient --------

MC_Y = RNG.normal(size=(6, 2)) @ RNG.normal(size=(2, 5)) + 0.05 * RNG.normal(size=(6, 5))
MC_M = (RNG.uniform(size=(6, 5)) < 0.7).astype(float)
MC_U, MC_V, MC_LAM = RNG.normal(size=(6, 2)), RNG.normal(size=(5, 2)), 0.1


def als(np_, T, lax, lam=MC_LAM, device=None):
    def loss(U, V, Y, M):
        R = np_.subtract(Y, np_.matmul(U, V.T)) * M  # (either may be plain: #188)
        return np_.sum(R * R) + lam * (np_.sum(U * U) + np_.sum(V * V))

    def solve_rows(V, Y, M):  # row i: (V^T diag(m_i) V + lam I) u_i = V^T diag(m_i) y_i
        eye = np_.eye(V.shape[1], dtype=V.dtype, device=device)
        return T.vmap(lambda m, y: np_.linalg.solve(
            np_.matmul(np_.multiply(V.T, m), V) + lam * eye,
            np_.matmul(np_.multiply(V.T, m), y)))(M, Y)

    def fit(U, V, Y, M, sweeps):
        def sweep(i, UV):
            U, V = UV
            U = solve_rows(V, Y, M)
            return U, solve_rows(U, Y.T, M.T)
        return lax.fori_loop(0, sweeps, sweep, (U, V))
    return loss, solve_rows, fit


def test_matrix_completion_als_half_steps_zero_the_gradient(backend):
    Y, M = backend.asarray(MC_Y), backend.asarray(MC_M)
    U, V = backend.asarray(MC_U), backend.asarray(MC_V)
    loss, solve_rows, fit = als(fnp, ft, flax, device=backend.backend.device(Y))
    # the gradient in closed form: -2 (M * (Y - U V^T)) V + 2 lam U
    gU = backend.to_numpy(ft.grad(loss)(U, V, Y, M))
    np.testing.assert_allclose(gU, -2 * (MC_M * (MC_Y - MC_U @ MC_V.T)) @ MC_V + 2 * MC_LAM * MC_U,
                               atol=1e-12)
    # an ALS half-step is the exact minimiser in U: the gradient there vanishes
    U1 = solve_rows(V, Y, M)
    assert np.max(np.abs(backend.to_numpy(ft.grad(loss)(U1, V, Y, M)))) < 1e-12
    # the loss never increases over sweeps (a jitted fori_loop)
    fitj = ft.jit(fit, static_argnums=4)
    losses = [float(backend.to_numpy(loss(*fitj(U, V, Y, M, s), Y, M))) for s in range(4)]
    assert all(b <= a + 1e-12 for a, b in zip(losses, losses[1:])) and losses[3] < losses[0] / 2
    # the half-step is linear in Y: row i's Jacobian is A_i^-1 V^T diag(m_i), other rows zero
    J = backend.to_numpy(ft.jacrev(lambda Y: solve_rows(V, Y, M))(Y))
    J2 = backend.to_numpy(ft.jacfwd(lambda Y: solve_rows(V, Y, M))(Y))
    for i in range(6):
        A = MC_V.T @ (MC_M[i][:, None] * MC_V) + MC_LAM * np.eye(2)
        want = np.zeros((2, 6, 5))
        want[:, i, :] = np.linalg.solve(A, MC_V.T * MC_M[i])
        np.testing.assert_allclose(J[i], want, atol=1e-12)
        np.testing.assert_allclose(J2[i], want, atol=1e-12)
    # the Hessian in U is block diagonal by rows, 2 (V^T diag(m_i) V + lam I)
    H = backend.to_numpy(ft.hessian(loss)(U, V, Y, M))
    for i in range(6):
        for j in range(6):
            want = 2 * (MC_V.T @ (MC_M[i][:, None] * MC_V) + MC_LAM * np.eye(2)) if i == j else 0
            np.testing.assert_allclose(H[i, :, j, :], want, atol=1e-12)
    # the objective's sensitivity to the data through one sweep, against central differences
    check_grads(lambda Y: loss(*fit(U, V, Y, M, 1), Y, M), (Y,), order=1)


# -- knowledge distillation with temperature and label smoothing (Hinton et al. 2015) --------------

KD_S = RNG.normal(size=(4, 5))
KD_T = RNG.normal(size=(4, 5)) * 2
KD_Y = np.eye(5)[[1, 0, 4, 2]]


def distillation(np_, T):
    def log_softmax(z):
        return z - _lse(np_, z, axis=-1, keepdims=True)

    def kd(s, t, temp):  # temp^2 KL(softmax(t / temp) || softmax(s / temp))
        lt = log_softmax(t / temp)
        kl = np_.sum(np_.multiply(np_.exp(lt), np_.subtract(lt, log_softmax(s / temp))))
        return kl * temp ** 2  # (#188: temp may be a plain array)

    def smoothed_ce(s, y, eps):
        q = y * (1 - eps) + eps / y.shape[-1]
        return -np_.sum(np_.multiply(q, log_softmax(s)))

    def loss(s, t, y, temp, eps=0.1, w=0.7):
        per = T.vmap(lambda s, t, y: w * kd(s, t, temp) + (1 - w) * smoothed_ce(s, y, eps))(s, t, y)
        return np_.mean(per)
    return kd, smoothed_ce, loss


def test_distillation_and_label_smoothing_gradients_in_closed_form(backend):
    kd, ce, loss = distillation(fnp, ft)
    s, t, y = backend.asarray(KD_S), backend.asarray(KD_T), backend.asarray(KD_Y)
    temp = 2.5
    def sm(z):
        e = np.exp(z - z.max(-1, keepdims=True))
        return e / e.sum(-1, keepdims=True)
    # d kd / ds = temp (softmax(s / temp) - softmax(t / temp)); the hessian is diag(p) - p p^T
    g = ft.vmap(ft.grad(kd), in_axes=(0, 0, None))(s, t, temp)
    np.testing.assert_allclose(backend.to_numpy(g), temp * (sm(KD_S / temp) - sm(KD_T / temp)),
                               atol=1e-13)
    p = sm(KD_S[0] / temp)
    H = backend.to_numpy(ft.hessian(kd)(s[0, :], t[0, :], temp))
    np.testing.assert_allclose(H, np.diag(p) - np.outer(p, p), atol=1e-13)
    # the student equal to the teacher: zero loss, zero gradient
    assert abs(float(backend.to_numpy(kd(t[0, :], t[0, :], temp)))) < 1e-14
    assert np.max(np.abs(backend.to_numpy(ft.grad(kd)(t[0, :], t[0, :], temp)))) < 1e-14
    # label smoothing: softmax(s) - ((1 - eps) y + eps / K)
    gce = ft.jit(ft.vmap(ft.grad(ce), in_axes=(0, 0, None)))(s, y, 0.1)
    np.testing.assert_allclose(backend.to_numpy(gce), sm(KD_S) - (0.9 * KD_Y + 0.02), atol=1e-13)
    # the whole loss's Jacobian in the logits, both modes; the temperature by differences
    J = ft.jacrev(loss)(s, t, y, temp)
    want = (0.7 * temp * (sm(KD_S / temp) - sm(KD_T / temp))
            + 0.3 * (sm(KD_S) - (0.9 * KD_Y + 0.02))) / 4
    np.testing.assert_allclose(backend.to_numpy(J), want, atol=1e-13)
    np.testing.assert_allclose(backend.to_numpy(ft.jacfwd(loss)(s, t, y, temp)), want, atol=1e-13)
    check_grads(lambda tau: loss(s, t, y, tau), (backend.asarray(temp),), order=2)


# -- maximum mean discrepancy with a Gaussian kernel, and a particle flow that decreases it --------

MMD_X = RNG.normal(size=(7, 2))
MMD_Y = RNG.normal(size=(6, 2)) * 0.7 + np.array([1.0, -0.5])


def mmd2(np_, X, Y, ell, unbiased=True):
    def k(A, B):
        d = A[:, None, :] - B[None, :, :]
        return np_.exp(np_.divide(np_.sum(d * d, axis=-1), -2 * ell ** 2))  # (#188)
    m, n = X.shape[0], Y.shape[0]
    if unbiased:  # the kernel's diagonal is one
        xx = (np_.sum(k(X, X)) - m) / (m * (m - 1))
        yy = (np_.sum(k(Y, Y)) - n) / (n * (n - 1))
    else:
        xx, yy = np_.mean(k(X, X)), np_.mean(k(Y, Y))
    return xx + yy - 2 * np_.mean(k(X, Y))


def _mmd2_by_hand(X, Y, ell):
    k = lambda a, b: math.exp(-np.sum((a - b) ** 2) / (2 * ell ** 2))  # noqa: E731
    m, n = len(X), len(Y)
    xx = sum(k(X[i], X[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(k(Y[i], Y[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    return xx + yy - 2 * sum(k(a, b) for a in X for b in Y) / (m * n)


@functools.cache
def _mmd_jax():
    jax = _jax()
    import jax.numpy as jnp
    g = jax.jit(jax.grad(lambda X, ell: mmd2(jnp, X, jnp.asarray(MMD_Y), ell), argnums=(0, 1)))
    return [np.asarray(a) for a in g(jnp.asarray(MMD_X), 0.8)]


def test_mmd_gradients_and_a_particle_flow_toward_the_target(backend):
    X, Y, ell = backend.asarray(MMD_X), backend.asarray(MMD_Y), backend.asarray(0.8)
    f = lambda X, ell: mmd2(fnp, X, Y, ell)  # noqa: E731
    assert float(backend.to_numpy(f(X, ell))) == pytest.approx(_mmd2_by_hand(MMD_X, MMD_Y, 0.8),
                                                              rel=1e-13)
    close(_mmd_jax(), _np(backend, ft.grad(f, argnums=(0, 1))(X, ell)), tol=1e-13)
    check_grads(f, (X, ell), order=2, modes=("rev",))
    # the biased estimate of a sample against itself is zero, with zero gradient
    same = lambda X: mmd2(fnp, X, Y, 0.8, unbiased=False)  # noqa: E731
    assert abs(float(backend.to_numpy(same(Y)))) < 1e-15
    assert np.max(np.abs(backend.to_numpy(ft.grad(same)(Y)))) < 1e-15
    # gradient descent on the particles, jitted in a fori_loop, lowers the discrepancy
    flow = ft.jit(lambda X: flax.fori_loop(0, 30, lambda i, X: X - 2.0 * ft.grad(same)(X), X))
    X1 = flow(X)
    assert backend.is_own(X1)
    before, after = (float(backend.to_numpy(same(Z))) for Z in (X, X1))
    assert after < 0.3 * before


# -- conjugate gradients unrolled: after n steps its derivatives are those of A^-1 b ---------------

CG_N = 5
_q = np.linalg.qr(RNG.normal(size=(CG_N, CG_N)))[0]
CG_A = _q @ np.diag(np.linspace(1.0, 4.0, CG_N)) @ _q.T
CG_B = RNG.normal(size=CG_N)


def conjugate_gradients(np_, lax, A, b, n_iter):
    def body(i, s):
        x, r, p, rr = s
        Ap = np_.matmul(A, p)  # (either may be plain: #188)
        alpha = np_.divide(rr, np_.sum(Ap * p))  # (#188: the first carry is plain)
        x, r = np_.add(x, alpha * p), np_.subtract(r, alpha * Ap)
        rr_new = np_.sum(r * r)
        return x, r, r + (rr_new / rr) * p, rr_new
    x0 = np_.zeros_like(b)
    return lax.fori_loop(0, n_iter, body, (x0, b, b, np_.sum(b * b)))[0]


def cg_while(np_, lax, A, b, tol=1e-24):
    def cond(s):
        return s[3] > tol

    def body(s):
        x, r, p, rr = s
        Ap = np_.matmul(A, p)
        alpha = np_.divide(rr, np_.sum(Ap * p))  # (#188: the first carry is plain)
        x, r = np_.add(x, alpha * p), np_.subtract(r, alpha * Ap)
        rr_new = np_.sum(r * r)
        return x, r, r + (rr_new / rr) * p, rr_new
    return lax.while_loop(cond, body, (np_.zeros_like(b), b, b, np_.sum(b * b)))[0]


def test_unrolled_conjugate_gradients_derivatives_are_those_of_the_solve(backend):
    A, b = backend.asarray(CG_A), backend.asarray(CG_B)
    f = lambda A, b: conjugate_gradients(fnp, flax, A, b, CG_N)  # noqa: E731
    x = np.linalg.solve(CG_A, CG_B)
    Ai = np.linalg.inv(CG_A)
    np.testing.assert_allclose(backend.to_numpy(f(A, b)), x, atol=1e-12)
    JA, Jb = ft.jacrev(f, argnums=(0, 1))(A, b)
    np.testing.assert_allclose(backend.to_numpy(Jb), Ai, atol=1e-10)
    # (CG reads A as symmetric: its derivative is the solve's along symmetric directions only)
    sym = lambda J: (J + np.swapaxes(J, 1, 2)) / 2  # noqa: E731
    np.testing.assert_allclose(sym(backend.to_numpy(JA)), sym(-np.einsum("ki,j->kij", Ai, x)),
                               atol=1e-10)
    E = RNG.normal(size=(CG_N, CG_N))
    E = E + E.T
    dx = ft.jvp(lambda A: f(A, b), (A,), (backend.asarray(E),))[1]
    np.testing.assert_allclose(backend.to_numpy(dx), -Ai @ E @ x, atol=1e-10)
    # forward mode through a while_loop that stops on the residual, and vmap over right sides
    g = lambda b: cg_while(fnp, flax, A, b)  # noqa: E731
    tangent = RNG.normal(size=CG_N)
    _, dx = ft.jvp(g, (b,), (backend.asarray(tangent),))
    np.testing.assert_allclose(backend.to_numpy(dx), Ai @ tangent, atol=1e-10)
    Bs = RNG.normal(size=(3, CG_N))
    xs = ft.jit(ft.vmap(g))(backend.asarray(Bs))
    np.testing.assert_allclose(backend.to_numpy(xs), Bs @ Ai.T, atol=1e-12)


# -- a kernel density estimate's leave-one-out likelihood: the bandwidth by Newton -----------------

KDE_X = np.concatenate([RNG.normal(size=12), RNG.normal(size=8) * 0.5 + 3.0])


def kde_loo(np_, log_h, x, off):
    """The leave-one-out log-likelihood of a Gaussian KDE with bandwidth exp(log_h); ``off``
    the off-diagonal mask."""
    h = np_.exp(log_h)
    d = np_.divide(x[:, None] - x[None, :], h)  # (#188)
    K = np_.exp(-0.5 * d * d) / (math.sqrt(2 * math.pi) * h)
    dens = np_.sum(np_.where(off, K, 0.0), axis=1) / (x.shape[0] - 1)
    return np_.sum(np_.log(dens))


def _kde_loo_by_hand(h, x):
    n, out = len(x), 0.0
    for i in range(n):
        s = sum(math.exp(-0.5 * ((x[i] - x[j]) / h) ** 2) for j in range(n) if j != i)
        out += math.log(s / ((n - 1) * math.sqrt(2 * math.pi) * h))
    return out


def test_kde_leave_one_out_bandwidth_by_newton(backend):
    from scipy.optimize import minimize_scalar
    x = backend.asarray(KDE_X)
    off = backend.asarray(1 - np.eye(len(KDE_X)), dtype="bool")
    f = lambda lh: kde_loo(fnp, lh, x, off)  # noqa: E731
    assert float(backend.to_numpy(f(backend.asarray(math.log(0.7))))) == pytest.approx(
        _kde_loo_by_hand(0.7, KDE_X), rel=1e-13)
    check_grads(f, (backend.asarray(math.log(0.7)),), order=2)
    newton = ft.jit(lambda lh: flax.fori_loop(
        0, 12, lambda i, lh: lh - ft.grad(f)(lh) / ft.hessian(f)(lh), lh))
    lh = newton(backend.asarray(math.log(0.5)))
    ref = minimize_scalar(lambda lh: -_kde_loo_by_hand(math.exp(lh), KDE_X),
                          bracket=(-3.0, 0.0), tol=1e-12)
    assert float(backend.to_numpy(lh)) == pytest.approx(ref.x, abs=1e-6)
    assert abs(float(backend.to_numpy(ft.grad(f)(lh)))) < 1e-10
    assert float(backend.to_numpy(ft.hessian(f)(lh))) < 0  # a maximum


# -- the shooting method: the launch angle that hits a target, by Newton inside custom_root --------

def shooting(np_, T, lax, v0=30.0, g=9.81, steps=12):
    def height_at(theta, D, k):
        """The height at horizontal distance D of a projectile launched at angle theta with
        quadratic drag k |v| v: RK4 in x on (y, vx, vy)."""
        def rhs(s):
            vx, vy = s[1], s[2]
            speed = np_.sqrt(vx * vx + vy * vy)
            drag = speed * k  # (the tracer first: #188)
            return np_.stack([vy / vx, -drag, (-g - drag * vy) / vx])
        h = D / steps

        def step(i, s):
            k1 = rhs(s)  # (h may be a plain array: on the right, #188)
            k2 = rhs(s + k1 * (0.5 * h))
            k3 = rhs(s + k2 * (0.5 * h))
            k4 = rhs(s + k3 * h)
            return s + (k1 + 2 * k2 + 2 * k3 + k4) * (h / 6)
        s0 = np_.stack([0.0 * theta, v0 * np_.cos(theta), v0 * np_.sin(theta)])
        return lax.fori_loop(0, steps, step, s0)[0]

    def angle(D, k, theta0):
        def newton(f, th):
            return lax.fori_loop(0, 5, lambda i, th: th - f(th) / T.grad(f)(th), th)
        # (the tangent problem is scalar and linear: its slope is g(1))
        return lax.custom_root(lambda th: height_at(th, D, k), theta0, newton,
                               lambda g, y: y / g(1.0))
    return height_at, angle


def test_shooting_method_angle_and_its_sensitivity_by_custom_root(backend):
    height_at, angle = shooting(fnp, ft, flax)
    D, th0 = backend.asarray(60.0), backend.asarray(0.4)
    # without drag: RK4 is exact (the height is a polynomial in x), and the angle is
    # asin(g D / v0^2) / 2 with d theta / dD = g / (2 v0^2 cos 2 theta)
    zero = backend.asarray(0.0)
    th = float(backend.to_numpy(angle(D, zero, th0)))
    want = 0.5 * math.asin(9.81 * 60.0 / 900.0)
    assert th == pytest.approx(want, rel=1e-12)
    dth = ft.grad(angle)(D, zero, th0)
    assert float(backend.to_numpy(dth)) == pytest.approx(9.81 / (1800.0 * math.cos(2 * want)),
                                                         rel=1e-10)
    # with drag: the implicit derivatives against differences of re-solved angles
    k = backend.asarray(0.004)
    gD, gk = ft.grad(angle, argnums=(0, 1))(D, k, th0)
    angle_j = ft.jit(angle)
    for arg, g, eps in ((0, gD, 1e-4), (1, gk, 1e-7)):
        args = [60.0, 0.004]
        hi, lo = list(args), list(args)
        hi[arg] += eps
        lo[arg] -= eps
        fd = (float(backend.to_numpy(angle_j(*map(backend.asarray, hi), th0)))
              - float(backend.to_numpy(angle_j(*map(backend.asarray, lo), th0)))) / (2 * eps)
        assert float(backend.to_numpy(g)) == pytest.approx(fd, rel=1e-6)
    # the rule is the implicit function theorem: -dh/dD / dh/dtheta at the solution
    th_k = angle(D, k, th0)
    ht, hd = ft.grad(height_at, argnums=(0, 1))(th_k, D, k)
    assert float(backend.to_numpy(gD)) == pytest.approx(
        -float(backend.to_numpy(hd)) / float(backend.to_numpy(ht)), rel=1e-12)
    # several targets at once, under jit
    Ds = np.array([30.0, 45.0, 60.0])
    ths = ft.jit(ft.vmap(angle, in_axes=(0, None, None)))(backend.asarray(Ds), zero, th0)
    np.testing.assert_allclose(backend.to_numpy(ths), 0.5 * np.arcsin(9.81 * Ds / 900.0),
                               rtol=1e-12)


# -- a multivariate Student t's log-density by Cholesky, against SciPy -----------------------------

MVT_D = 3
MVT_X = RNG.standard_t(5, size=(6, MVT_D))
MVT_THETA = {"loc": RNG.normal(size=MVT_D) / 3, "raw": RNG.normal(size=(MVT_D, MVT_D)) / 3,
             "log_df": np.array(math.log(4.0))}


def mvt_logpdf(np_, T, special, linalg, theta, x):
    """log t_df(x; loc, L L^T) with L lower triangular, exp'd diagonal."""
    d = x.shape[-1]
    raw = theta["raw"]
    L = np_.tril(raw, -1) + np_.diag(np_.exp(np_.diagonal(raw)))
    df = np_.exp(theta["log_df"])

    def one(xi):
        z = linalg.solve_triangular(L, np_.subtract(xi, theta["loc"]), lower=True)
        quad = np_.log1p(np_.sum(z * z) / df) * (0.5 * (df + d))  # (a tracer: first, #188)
        return -quad + (special.gammaln((df + d) / 2) - special.gammaln(df / 2)
                        - 0.5 * d * np_.log(df * math.pi) - np_.sum(np_.diagonal(raw)))
    return T.vmap(one)(x)


@functools.cache
def _mvt_jax():
    jax = _jax()
    import jax.numpy as jnp
    import jax.scipy.linalg as jsl
    import jax.scipy.special as jsp
    f = lambda th: jnp.sum(mvt_logpdf(jnp, jax, jsp, jsl, th, jnp.asarray(MVT_X)))  # noqa: E731
    return jax.tree.map(np.asarray, jax.jit(jax.grad(f))(_jnp(MVT_THETA)))


def test_multivariate_t_logpdf_by_cholesky_as_scipy_and_its_gradients(backend):
    from scipy.stats import multivariate_t
    import functrans.scipy.linalg as fsl
    import functrans.scipy.special as fsp
    theta, x = _on(backend, MVT_THETA), backend.asarray(MVT_X)
    f = lambda th, x: mvt_logpdf(fnp, ft, fsp, fsl, th, x)  # noqa: E731
    raw = MVT_THETA["raw"]
    L = np.tril(raw, -1) + np.diag(np.exp(np.diag(raw)))
    want = multivariate_t(MVT_THETA["loc"], L @ L.T, df=4.0).logpdf(MVT_X)
    np.testing.assert_allclose(backend.to_numpy(f(theta, x)), want, rtol=1e-12)
    loss = lambda th: fnp.sum(f(th, x))  # noqa: E731
    for fn in (ft.grad(loss), ft.jit(ft.grad(loss))):
        g = fn(theta)
        assert backend.is_own(g["raw"])
        close(_mvt_jax(), _np(backend, g), tol=1e-11)
    # the score in the location averages to zero under the model (checked on the density's
    # gradient at its mode: the location itself)
    gx = ft.grad(lambda xi: fnp.sum(f(theta, xi[None, :])))(theta["loc"])
    np.testing.assert_allclose(backend.to_numpy(gx), 0.0, atol=1e-13)
    check_grads(lambda df: loss({**theta, "log_df": df}), (theta["log_df"],), order=2)


# -- a Gumbel-softmax VAE (Jang et al. 2017) with keys split per example ---------------------------

GS_D, GS_L, GS_K = 6, 2, 3
GS_P = {"We": RNG.normal(size=(GS_D, GS_L * GS_K)) / 2, "be": RNG.normal(size=GS_L * GS_K) / 4,
        "Wd": RNG.normal(size=(GS_L * GS_K, GS_D)) / 2, "bd": RNG.normal(size=GS_D) / 4}
GS_X = (RNG.uniform(size=(5, GS_D)) < 0.5).astype(float)


def gumbel_vae(np_, T, random, nn):
    def encode(p, x):
        return np_.reshape(np_.matmul(x, p["We"]) + p["be"], (GS_L, GS_K))

    def kl_uniform(logits):  # KL(q || uniform) per latent, summed
        logq = nn.log_softmax(logits, axis=-1)
        return np_.sum(np_.exp(logq) * logq) + GS_L * math.log(GS_K)

    def neg_elbo(p, x, key, tau):
        logits = encode(p, x)
        g = random.gumbel(key, logits.shape, dtype=logits.dtype)
        y = nn.softmax(np_.add(logits, g) / tau, axis=-1)  # (either may be plain: #188)
        out = np_.matmul(np_.reshape(y, (GS_L * GS_K,)), p["Wd"]) + p["bd"]
        # Bernoulli log-likelihood: x log s(o) + (1 - x) log s(-o)
        rec = np_.sum(np_.multiply(x, nn.log_sigmoid(out))
                      + np_.multiply(1 - x, nn.log_sigmoid(-out)))
        return -rec + kl_uniform(logits)  # (rec depends on every parameter: first, #188)

    def loss(p, xs, key, tau=0.7):
        keys = random.split(key, xs.shape[0])
        return np_.mean(T.vmap(neg_elbo, in_axes=(None, 0, 0, None))(p, xs, keys, tau))
    return kl_uniform, neg_elbo, loss


@functools.cache
def _gumbel_vae_jax():
    jax = _jax()
    _, _, loss = gumbel_vae(jax.numpy, jax, jax.random, jax.nn)
    v, g = jax.jit(jax.value_and_grad(loss))(_jnp(GS_P), jax.numpy.asarray(GS_X), jax.random.key(3))
    return float(v), jax.tree.map(np.asarray, g)


def test_gumbel_softmax_vae_with_jaxs_keys_and_the_kl_gradient(backend):
    import functrans.random as frandom
    kl, neg_elbo, loss = gumbel_vae(fnp, ft, frandom, ft.nn)
    p, xs = _on(backend, GS_P), backend.asarray(GS_X)
    key = frandom.key(3, device=backend.backend.device(xs))
    # the same keys draw JAX's Gumbel noise: the loss and its gradient are JAX's
    want_v, want_g = _gumbel_vae_jax()
    for fn in (ft.value_and_grad(loss), ft.jit(ft.value_and_grad(loss))):
        v, g = fn(p, xs, key)
        assert float(backend.to_numpy(v)) == pytest.approx(want_v, rel=1e-12)
        assert backend.is_own(g["Wd"])
        close(want_g, _np(backend, g), tol=1e-11)
    # the KL term's gradient in the logits: q (log q - sum q log q), per latent
    logits = RNG.normal(size=(GS_L, GS_K))
    q = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    want = q * (np.log(q) - (q * np.log(q)).sum(-1, keepdims=True))
    np.testing.assert_allclose(backend.to_numpy(ft.grad(kl)(backend.asarray(logits))), want,
                               atol=1e-14)
    # for one fixed key the objective is smooth: central differences in the decoder bias
    k1 = frandom.split(key, 2)[1]
    check_grads(lambda bd: neg_elbo({**p, "bd": bd}, xs[0, :], k1, 0.7), (p["bd"],), order=2)


# -- random Fourier features (Rahimi & Recht 2007): JAX's draws, the kernel in expectation ---------

RFF_X = RNG.normal(size=(4, 2))


def rff(np_, random, x, key, ell, m):
    kw, kb = random.split(key)
    W = random.normal(kw, (x.shape[-1], m), dtype=x.dtype)
    b = random.uniform(kb, (m,), dtype=x.dtype, minval=0.0, maxval=2 * math.pi)
    return math.sqrt(2.0 / m) * np_.cos(np_.matmul(x, W) / ell + b)


@functools.cache
def _rff_jax():
    jax = _jax()
    x = jax.numpy.asarray(RFF_X)
    f = lambda ell: rff(jax.numpy, jax.random, x, jax.random.key(5), ell, 64)  # noqa: E731
    return np.asarray(f(0.9)), np.asarray(jax.jit(jax.jacfwd(f))(0.9))


def test_random_fourier_features_match_jax_and_approximate_the_rbf_kernel(backend):
    import functrans.random as frandom
    x = backend.asarray(RFF_X)
    dev = backend.backend.device(x)
    f = lambda ell, key, m=64: rff(fnp, frandom, x, key, ell, m)  # noqa: E731
    ell = backend.asarray(0.9)
    want_v, want_j = _rff_jax()
    close(want_v, backend.to_numpy(f(ell, frandom.key(5, device=dev))), tol=1e-13)
    close(want_j, backend.to_numpy(ft.jacfwd(f)(ell, frandom.key(5, device=dev))), tol=1e-12)
    # the Gram matrix of the features estimates exp(-|x - y|^2 / (2 ell^2)), and so does its
    # derivative in ell, averaged over 200 keys by vmap (each 400 features)
    gram = lambda ell, key: (lambda z: z @ z.T)(f(ell, key, 400))  # noqa: E731
    keys = frandom.split(frandom.key(0, device=dev), 200)
    K = backend.to_numpy(fnp.mean(ft.jit(ft.vmap(gram, in_axes=(None, 0)))(ell, keys), axis=0))
    d2 = ((RFF_X[:, None] - RFF_X[None]) ** 2).sum(-1)
    exact = np.exp(-d2 / (2 * 0.81))
    np.testing.assert_allclose(K, exact, atol=0.01)
    dK = backend.to_numpy(fnp.mean(ft.vmap(ft.jacfwd(gram), in_axes=(None, 0))(ell, keys), axis=0))
    np.testing.assert_allclose(dK, exact * d2 / 0.9 ** 3, atol=0.02)


# -- circular convolution by rfft/irfft: its Jacobians are circulant matrices ----------------------

def test_fft_circular_convolution_jacobians_are_circulant(backend):
    for n in (8, 7):  # (irfft needs n for odd lengths)
        xv, hv = RNG.normal(size=n), RNG.normal(size=n)
        x, h = backend.asarray(xv), backend.asarray(hv)
        # (multiply: either spectrum may be plain, #188)
        def conv(x, h):
            return fnp.fft.irfft(fnp.multiply(fnp.fft.rfft(x), fnp.fft.rfft(h)), n=n)
        direct = np.array([sum(xv[j] * hv[(i - j) % n] for j in range(n)) for i in range(n)])
        np.testing.assert_allclose(backend.to_numpy(conv(x, h)), direct, atol=1e-13)
        C = np.array([[hv[(i - j) % n] for j in range(n)] for i in range(n)])
        for jac in (ft.jacfwd, ft.jacrev):
            np.testing.assert_allclose(backend.to_numpy(jac(conv)(x, h)), C, atol=1e-13)
        # zero-padded to n + k - 1, the same product is NumPy's linear convolution
        k = 3
        lin = lambda x, h: fnp.fft.irfft(fnp.multiply(  # noqa: E731
            fnp.fft.rfft(x, n=n + k - 1), fnp.fft.rfft(h[:k], n=n + k - 1)), n=n + k - 1)
        np.testing.assert_allclose(backend.to_numpy(lin(x, h)), np.convolve(xv, hv[:k]),
                                   atol=1e-13)
        Jh = backend.to_numpy(ft.jacrev(lin, argnums=1)(x, h))
        T = np.zeros((n + k - 1, n))
        for j in range(k):
            T[j:j + n, j] = xv
        np.testing.assert_allclose(Jh, T, atol=1e-13)
        check_grads(lambda h: fnp.sum(fnp.sin(conv(x, h))), (h,), order=2)


# -- NeuralSort (Grover et al. 2019): a relaxed sorting permutation --------------------------------

NS_S = np.array([0.3, -1.2, 2.0, 0.9, -0.1])
NS_SCALE = 5 + 1 - 2 * np.arange(1.0, 6.0)  # n + 1 - 2i


def neural_sort(np_, s, tau, scale):
    """Row i: softmax(((n + 1 - 2i) s - A 1) / tau), A_jk = |s_j - s_k|."""
    A = np_.abs(s[:, None] - s[None, :])
    logits = (np_.multiply(scale[:, None], s[None, :]) - np_.sum(A, axis=1)[None, :]) / tau
    return np_.exp(logits - _lse(np_, logits, axis=1, keepdims=True))


@functools.cache
def _neural_sort_jax():
    jax = _jax()
    import jax.numpy as jnp
    f = lambda s: jnp.sum(neural_sort(jnp, s, 0.5, jnp.asarray(NS_SCALE))[:2] @ s)  # noqa: E731
    return np.asarray(jax.jit(jax.grad(f))(jnp.asarray(NS_S)))


def test_neural_sort_rows_become_the_sorting_permutation(backend):
    s, scale = backend.asarray(NS_S), backend.asarray(NS_SCALE)
    order = np.argsort(-NS_S)
    # a small temperature gives the permutation matrix sorting in decreasing order
    P = backend.to_numpy(neural_sort(fnp, s, 0.01, scale))
    np.testing.assert_allclose(P, np.eye(5)[order], atol=1e-12)
    # any temperature: rows are distributions; the soft top-2 sum's gradient against JAX
    P = backend.to_numpy(neural_sort(fnp, s, 0.5, scale))
    np.testing.assert_allclose(P.sum(axis=1), 1.0, atol=1e-14)
    top2 = lambda s: fnp.sum(neural_sort(fnp, s, 0.5, scale)[:2, :] @ s)  # noqa: E731
    close(_neural_sort_jax(), backend.to_numpy(ft.grad(top2)(s)), tol=1e-12)
    # at a small temperature that gradient is the indicator of the two largest entries
    hard = ft.grad(lambda s: fnp.sum(neural_sort(fnp, s, 0.01, scale)[:2, :] @ s))(s)
    want = np.zeros(5)
    want[order[:2]] = 1.0
    np.testing.assert_allclose(backend.to_numpy(hard), want, atol=1e-10)
    J = ft.jacrev(lambda s: neural_sort(fnp, s, 0.5, scale))(s)
    np.testing.assert_allclose(backend.to_numpy(J), backend.to_numpy(
        ft.jit(ft.jacfwd(lambda s: neural_sort(fnp, s, 0.5, scale)))(s)), atol=1e-13)
    check_grads(top2, (s,), order=2)


# -- a hierarchical beta-binomial model (BDA's rat tumours, small): scipy.stats and Laplace -----------

BB_N = np.array([20.0, 19.0, 17.0, 25.0, 14.0, 22.0])
BB_Y = np.array([1.0, 3.0, 2.0, 6.0, 4.0, 2.0])
GL60_X, GL60_W = np.polynomial.legendre.leggauss(60)


def beta_binomial(np_, stats):
    def log_post(phi, y, n):  # phi = (log a, log b); a gamma(2, 1) prior on each, Jacobian included
        a, b = np_.exp(phi[0]), np_.exp(phi[1])
        lik = np_.sum(stats.betabinom.logpmf(y, n, a, b))
        return lik + stats.gamma.logpdf(a, 2.0) + stats.gamma.logpdf(b, 2.0) + phi[0] + phi[1]

    def marginal_by_quadrature(a, b, y, n, u, w):  # log of the integral over theta on (0, 1)
        th = (u + 1) / 2
        lp = np_.add(stats.binom.logpmf(y, n, th), stats.beta.logpdf(th, a, b))  # (#188)
        return np_.log(np_.sum(np_.exp(lp) * w) / 2)
    return log_post, marginal_by_quadrature


def test_hierarchical_beta_binomial_gradients_quadrature_and_laplace(backend):
    import scipy.stats as sst
    import functrans.scipy.stats as fst
    log_post, marginal = beta_binomial(fnp, fst)
    y, n = backend.asarray(BB_Y), backend.asarray(BB_N)
    f = lambda phi: log_post(phi, y, n)  # noqa: E731
    phi = backend.asarray([0.5, 2.0])
    a, b = math.exp(0.5), math.exp(2.0)
    want = (sst.betabinom.logpmf(BB_Y, BB_N, a, b).sum() + sst.gamma.logpdf(a, 2.0)
            + sst.gamma.logpdf(b, 2.0) + 2.5)
    assert float(backend.to_numpy(f(phi))) == pytest.approx(want, rel=1e-12)
    # the gradient in closed form (digamma), a gamma(2, 1) prior adding 1 - a per log-scale
    from scipy.special import digamma as psi
    da = np.sum(psi(BB_Y + a) - psi(BB_N + a + b) - psi(a) + psi(a + b))
    db = np.sum(psi(BB_N - BB_Y + b) - psi(BB_N + a + b) - psi(b) + psi(a + b))
    want_g = np.array([a * da + 2 - a, b * db + 2 - b])
    close(want_g, backend.to_numpy(ft.grad(f)(phi)), tol=1e-12)
    close(want_g, backend.to_numpy(ft.jit(ft.grad(f))(phi)), tol=1e-12)
    # (not against JAX: 0.10.2's betaln, so its betabinom and their gradients, are good to
    # ~1e-8 relative only, and its staging of them is slow)
    # the beta-binomial pmf is the binomial averaged over the beta: values and derivatives in
    # (a, b) of its log (digamma through betaln) against Gauss-Legendre quadrature of the
    # binomial and beta densities (their derivatives through the integrand)
    # (integer a, b: the integrand is a polynomial, its derivatives a polynomial times logs)
    u, w = backend.asarray(GL60_X), backend.asarray(GL60_W)
    A, B = backend.asarray(2.0), backend.asarray(7.0)
    for j in (0, 3):
        yj, nj = backend.asarray(BB_Y[j]), backend.asarray(BB_N[j])
        direct = lambda a, b: fst.betabinom.logpmf(yj, nj, a, b)  # noqa: E731
        quad = lambda a, b: marginal(a, b, yj, nj, u, w)  # noqa: E731
        assert float(backend.to_numpy(quad(A, B))) == pytest.approx(
            float(backend.to_numpy(direct(A, B))), rel=1e-9)
        # (the derivative's integrand has a log at 0: the rule converges more slowly)
        close(_np(backend, ft.grad(quad, argnums=(0, 1))(A, B)),
              _np(backend, ft.grad(direct, argnums=(0, 1))(A, B)), tol=1e-6)
    # the posterior mode by Newton, and the Laplace approximation's curvature there
    step = lambda i, p: p - fnp.linalg.solve(ft.hessian(f)(p), ft.grad(f)(p))  # noqa: E731
    mode = ft.jit(lambda p: flax.fori_loop(0, 10, step, p))(phi)
    assert np.max(np.abs(backend.to_numpy(ft.grad(f)(mode)))) < 1e-10
    H = backend.to_numpy(ft.hessian(f)(mode))
    assert np.all(np.linalg.eigvalsh(H) < 0)
    check_grads(f, (mode,), order=2)


# -- a Gaussian process on a grid: Kronecker-structured likelihood by eigh of the factors ----------

KG_X1, KG_X2 = np.linspace(0.0, 3.0, 4), np.linspace(-1.0, 1.0, 3)
KG_Y = RNG.normal(size=(4, 3))
KG_THETA = np.array([math.log(1.2), math.log(0.8), math.log(0.3)])  # two lengthscales, noise


def kron_gp(np_, theta, x1, x2, Y):
    """log N(vec Y; 0, K1 kron K2 + s^2 I), by the eigendecompositions of K1 and K2."""
    def rbf(x, log_ell):
        d = np_.divide(x[:, None] - x[None, :], np_.exp(log_ell))  # (#188)
        return np_.exp(-0.5 * d * d)
    l1, Q1 = np_.linalg.eigh(rbf(x1, theta[0]))
    l2, Q2 = np_.linalg.eigh(rbf(x2, theta[1]))
    lam = np_.reshape(l1[:, None] * l2[None, :], (-1,)) + np_.exp(2 * theta[2])
    a = np_.reshape(np_.matmul(np_.matmul(Q1.T, Y), Q2), (-1,))  # (Q1 kron Q2)^T vec Y
    n = lam.shape[0]
    return -0.5 * (np_.sum(a * a / lam) + np_.sum(np_.log(lam)) + n * math.log(2 * math.pi))


@functools.cache
def _kron_gp_jax():
    jax = _jax()
    import jax.numpy as jnp
    x1, x2, Y = (jnp.asarray(a) for a in (KG_X1, KG_X2, KG_Y))
    f = lambda th: kron_gp(jnp, th, x1, x2, Y)  # noqa: E731
    return np.asarray(jax.jit(jax.grad(f))(jnp.asarray(KG_THETA)))


def test_kronecker_gp_likelihood_by_eigh_of_the_factors(backend):
    import scipy.stats as sst
    x1, x2, Y = backend.asarray(KG_X1), backend.asarray(KG_X2), backend.asarray(KG_Y)
    f = lambda th: kron_gp(fnp, th, x1, x2, Y)  # noqa: E731
    th = backend.asarray(KG_THETA)
    rbf = lambda x, ell: np.exp(-0.5 * ((x[:, None] - x[None]) / ell) ** 2)  # noqa: E731
    K = np.kron(rbf(KG_X1, 1.2), rbf(KG_X2, 0.8)) + 0.09 * np.eye(12)
    want = sst.multivariate_normal(np.zeros(12), K).logpdf(KG_Y.reshape(-1))
    assert float(backend.to_numpy(f(th))) == pytest.approx(want, rel=1e-12)
    # the gradient: 0.5 tr((a a^T - K^-1) dK) in closed form per hyperparameter
    Ki = np.linalg.inv(K)
    al = Ki @ KG_Y.reshape(-1)
    D1 = (KG_X1[:, None] - KG_X1[None]) ** 2 / 1.2 ** 2
    D2 = (KG_X2[:, None] - KG_X2[None]) ** 2 / 0.8 ** 2
    dKs = [np.kron(rbf(KG_X1, 1.2) * D1, rbf(KG_X2, 0.8)),
           np.kron(rbf(KG_X1, 1.2), rbf(KG_X2, 0.8) * D2), 2 * 0.09 * np.eye(12)]
    want_g = [0.5 * np.trace((np.outer(al, al) - Ki) @ dK) for dK in dKs]
    for fn in (ft.grad(f), ft.jit(ft.grad(f))):
        np.testing.assert_allclose(backend.to_numpy(fn(th)), want_g, rtol=1e-9)
    close(_kron_gp_jax(), backend.to_numpy(ft.grad(f)(th)), tol=1e-10)
    check_grads(f, (th,), order=2, modes=("rev",))


# -- minibatch SGD for softmax regression: keys and permutations in scan ------------------------------

SR_X = RNG.normal(size=(12, 3))
SR_LABELS = RNG.integers(0, 4, size=12)  # NumPy integers, as a data pipeline gives them


def sgd_softmax_regression(np_, T, lax, random, nn, epochs=3, batch=4, lr=0.5):
    def loss(W, x, labels):
        logp = nn.log_softmax(np_.matmul(x, W), axis=-1)
        picked = np_.take_along_axis(logp, labels[:, None], axis=1)  # labels: NumPy positions
        return -np_.mean(picked)

    def train(W, x, labels, key):
        def epoch(carry, _):
            W, key = carry
            key, sub = random.split(key)
            perm = random.permutation(sub, x.shape[0])

            def step(W, idx):
                xb, yb = np_.take(x, idx, axis=0), np_.take(labels, idx, axis=0)
                return W - lr * T.grad(loss)(W, xb, yb), None
            W, _ = lax.scan(step, W, np_.reshape(perm, (-1, batch)))
            return (W, key), loss(W, x, labels)
        (W, _), losses = lax.scan(epoch, (W, key), None, length=epochs)
        return W, losses
    return loss, train


@functools.cache
def _sgd_softmax_jax():
    jax = _jax()
    import jax.numpy as jnp
    _, train = sgd_softmax_regression(jnp, jax, jax.lax, jax.random, jax.nn)
    f = jax.jit(lambda W0: train(W0, jnp.asarray(SR_X), SR_LABELS, jax.random.key(11)))
    W, losses = f(jnp.zeros((3, 4)))
    return np.asarray(W), np.asarray(losses)


def test_minibatch_sgd_with_permutation_keys_and_numpy_labels_through_jit(backend):
    import functrans.random as frandom
    loss, train = sgd_softmax_regression(fnp, ft, flax, frandom, ft.nn)
    x = backend.asarray(SR_X)
    dev = backend.backend.device(x)
    W0 = backend.asarray(np.zeros((3, 4)))
    # the gradient of the loss in closed form: x^T (softmax - one_hot) / n
    P = np.exp(SR_X @ np.ones((3, 4)) * 0.1)
    P /= P.sum(1, keepdims=True)
    W1 = backend.asarray(np.full((3, 4), 0.1))
    want = SR_X.T @ (P - np.eye(4)[SR_LABELS]) / 12
    np.testing.assert_allclose(backend.to_numpy(ft.jit(ft.grad(loss))(W1, x, SR_LABELS)), want,
                               atol=1e-14)
    # the same keys shuffle as JAX's do: the trained weights and the losses are JAX's
    want_W, want_losses = _sgd_softmax_jax()
    # (labels that are gathered from, not only positions, are data: in x's library)
    labels = backend.asarray(SR_LABELS, dtype="int64")
    trainj = ft.jit(train)
    for _ in range(2):
        W, losses = trainj(W0, x, labels, frandom.key(11, device=dev))
        assert backend.is_own(W)
        close(want_W, backend.to_numpy(W), tol=1e-12)
        close(want_losses, backend.to_numpy(losses), tol=1e-12)
    assert np.all(np.diff(backend.to_numpy(losses)) < 0)


# -- a monotone piecewise-linear calibration map by interp, and a signed logsumexp ---------------------

CAL_S = np.array([-2.3, -1.1, -0.4, 0.2, 0.7, 1.6, 2.4])
CAL_Y = np.array([0.0, 0.0, 1.0, 0.0, 1.0, 1.0, 1.0])
CAL_KNOTS = np.linspace(-3.0, 3.0, 5)


def calibration(np_, raw, s, y, knots):
    """Calibrated probabilities interp(s, knots, fp) with fp increasing from 0 to 1 (a
    normalised cumulative sum of softplus increments); the log-loss."""
    inc = np_.logaddexp(raw, 0.0)
    fp = np_.concat([np_.zeros_like(inc[:1]), np_.cumsum(inc)]) / np_.sum(inc)
    p = np_.clip(np_.interp(s, knots, fp), 1e-6, 1 - 1e-6)
    return -np_.mean(np_.multiply(y, np_.log(p)) + np_.multiply(1 - y, np_.log1p(-p)))


@functools.cache
def _calibration_jax():
    jax = _jax()
    import jax.numpy as jnp
    f = lambda raw, knots: calibration(jnp, raw, jnp.asarray(CAL_S), jnp.asarray(CAL_Y), knots)  # noqa: E731,E501
    return [np.asarray(a) for a in jax.jit(jax.grad(f, argnums=(0, 1)))(
        jnp.asarray([0.3, -0.2, 0.5, 0.1]), jnp.asarray(CAL_KNOTS))]


def test_interp_calibration_gradients_in_values_and_knots(backend):
    s, y = backend.asarray(CAL_S), backend.asarray(CAL_Y)
    raw, knots = backend.asarray([0.3, -0.2, 0.5, 0.1]), backend.asarray(CAL_KNOTS)
    f = lambda raw, knots: calibration(fnp, raw, s, y, knots)  # noqa: E731
    # the calibrated values against NumPy's interp
    inc = np.logaddexp([0.3, -0.2, 0.5, 0.1], 0.0)
    fp = np.concatenate([[0.0], np.cumsum(inc)]) / inc.sum()
    p = np.interp(CAL_S, CAL_KNOTS, fp)
    want = -np.mean(CAL_Y * np.log(p) + (1 - CAL_Y) * np.log1p(-p))
    assert float(backend.to_numpy(f(raw, knots))) == pytest.approx(want, rel=1e-13)
    # the gradients in the increments and in the knot positions, against JAX and differences
    g = ft.grad(f, argnums=(0, 1))(raw, knots)
    close(_calibration_jax(), _np(backend, g), tol=1e-12)
    check_grads(f, (raw, knots), order=1)
    # d p / d s is the slope of the segment holding s
    dp = ft.vmap(ft.grad(lambda si: fnp.interp(si, knots, backend.asarray(fp))))(s)
    seg = np.searchsorted(CAL_KNOTS, CAL_S) - 1
    np.testing.assert_allclose(backend.to_numpy(dp), np.diff(fp)[seg] / np.diff(CAL_KNOTS)[seg],
                               rtol=1e-13)


def test_signed_logsumexp_of_a_density_difference(backend):
    import functrans.scipy.special as fsp
    from scipy.special import logsumexp as sp_lse
    a = backend.asarray([0.5, -1.0, 2.0, 0.1])
    b = backend.asarray([1.0, -2.0, 0.7, -0.3])
    out, sign = fsp.logsumexp(a, b=b, return_sign=True)
    want, want_sign = sp_lse([0.5, -1.0, 2.0, 0.1], b=[1.0, -2.0, 0.7, -0.3], return_sign=True)
    assert float(backend.to_numpy(out)) == pytest.approx(want, rel=1e-14)
    assert float(backend.to_numpy(sign)) == want_sign
    # d/da_i log|sum b e^a| = b_i e^a_i / sum b e^a; d/db_i = e^a_i / sum b e^a
    an, bn = np.array([0.5, -1.0, 2.0, 0.1]), np.array([1.0, -2.0, 0.7, -0.3])
    tot = np.sum(bn * np.exp(an))
    ga, gb = ft.grad(lambda a, b: fsp.logsumexp(a, b=b, return_sign=True)[0], argnums=(0, 1))(a, b)
    np.testing.assert_allclose(backend.to_numpy(ga), bn * np.exp(an) / tot, rtol=1e-13)
    np.testing.assert_allclose(backend.to_numpy(gb), np.exp(an) / tot, rtol=1e-13)
    check_grads(lambda a, b: fsp.logsumexp(a, b=b, return_sign=True)[0], (a, b), order=2)


# -- Allen-Cahn by explicit steps with periodic rolls: the energy decreases, the step's Jacobian -----

AC_N, AC_EPS, AC_DT = 16, 0.08, 0.02
AC_U0 = 0.3 * np.sin(2 * np.pi * np.arange(AC_N) / AC_N) + 0.1 * RNG.normal(size=AC_N)


def allen_cahn(np_, lax, h=1.0 / AC_N, eps=AC_EPS, dt=AC_DT):
    def lap(u):
        return (np_.roll(u, 1) - 2 * u + np_.roll(u, -1)) / (h * h)

    def step(u):
        return u + dt * (eps ** 2 * lap(u) + u - u ** 3)

    def energy(u):
        du = (np_.roll(u, -1) - u) / h
        return h * np_.sum(0.5 * eps ** 2 * du * du + 0.25 * (u * u - 1) ** 2)

    def run(u0, n):
        return lax.fori_loop(0, n, lambda i, u: step(u), u0)
    return lap, step, energy, run


def test_allen_cahn_rolls_energy_decay_and_step_jacobian(backend):
    lap, step, energy, run = allen_cahn(fnp, flax)
    u0 = backend.asarray(AC_U0)
    # the energy never increases along the explicit steps (dt below the stability bound)
    es = [float(backend.to_numpy(energy(run(u0, n)))) for n in (0, 5, 10, 20)]
    assert all(b < a for a, b in zip(es, es[1:]))
    # one step's Jacobian: I + dt (eps^2 L + diag(1 - 3 u^2)) with L the periodic Laplacian
    h = 1.0 / AC_N
    L = (np.roll(np.eye(AC_N), 1, axis=0) - 2 * np.eye(AC_N) + np.roll(np.eye(AC_N), -1, axis=0))
    want = np.eye(AC_N) + AC_DT * (AC_EPS ** 2 * L / h ** 2 + np.diag(1 - 3 * AC_U0 ** 2))
    for jac in (ft.jacfwd, ft.jacrev):
        np.testing.assert_allclose(backend.to_numpy(jac(step)(u0)), want, atol=1e-12)
    # the energy's gradient is h (-eps^2 L u / h^2 + u^3 - u), the negative of the flow
    g = backend.to_numpy(ft.grad(energy)(u0))
    np.testing.assert_allclose(g, h * (-AC_EPS ** 2 * L @ AC_U0 / h ** 2 + AC_U0 ** 3 - AC_U0),
                               atol=1e-12)
    # the final energy's sensitivity to the initial state, through the jitted loop
    final = lambda u0: energy(run(u0, 10))  # noqa: E731
    gj = ft.jit(ft.grad(final))(u0)
    assert backend.is_own(gj)
    check_grads(final, (u0,), order=1)


# -- QR and SVD in a program: an orthogonal layer by QR, the nuclear norm's gradient ------------------

QS_W = RNG.normal(size=(4, 4))
QS_X = RNG.normal(size=(4, 3))


def orthogonal_layer(np_, W):
    Q, R = np_.linalg.qr(W)
    return Q * np_.sign(np_.diagonal(R))[None, :]  # the unique Q with a positive diagonal R


@functools.cache
def _qr_svd_jax():
    jax = _jax()
    import jax.numpy as jnp
    X = jnp.asarray(QS_X)
    f = lambda W: jnp.sum(jnp.tanh(orthogonal_layer(jnp, W) @ X))  # noqa: E731
    nuc = lambda W: jnp.sum(jnp.linalg.svd(W, compute_uv=False))  # noqa: E731
    W = jnp.asarray(QS_W)
    return np.asarray(jax.jit(jax.grad(f))(W)), np.asarray(jax.jit(jax.grad(nuc))(W))


def test_orthogonal_layer_by_qr_and_the_nuclear_norm_gradient(backend):
    W, X = backend.asarray(QS_W), backend.asarray(QS_X)
    Q = backend.to_numpy(orthogonal_layer(fnp, W))
    np.testing.assert_allclose(Q.T @ Q, np.eye(4), atol=1e-13)
    f = lambda W: fnp.sum(fnp.tanh(orthogonal_layer(fnp, W) @ X))  # noqa: E731
    nuc = lambda W: fnp.sum(fnp.linalg.svd(W, compute_uv=False))  # noqa: E731
    want_f, want_nuc = _qr_svd_jax()
    close(want_f, backend.to_numpy(ft.grad(f)(W)), tol=1e-11)
    # the nuclear norm's gradient is U V^T (distinct nonzero singular values)
    U, _, Vt = np.linalg.svd(QS_W)
    np.testing.assert_allclose(backend.to_numpy(ft.grad(nuc)(W)), U @ Vt, atol=1e-12)
    close(want_nuc, backend.to_numpy(ft.jit(ft.grad(nuc))(W)), tol=1e-12)
    # Q depends on W's column space only through Gram-Schmidt: scaling a column by c > 0
    # leaves Q unchanged, so the directional derivative along W e_j e_j^T vanishes
    E = np.zeros((4, 4))
    E[:, 2] = QS_W[:, 2]
    dQ = ft.jvp(lambda W: orthogonal_layer(fnp, W), (W,), (backend.asarray(E),))[1]
    np.testing.assert_allclose(backend.to_numpy(dQ), 0.0, atol=1e-12)
    check_grads(f, (W,), order=2, modes=("rev",))
