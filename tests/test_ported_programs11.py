"""Programs that JAX users write, not ported in rounds 1 to 10 (test_ported_programs.py to
10), most written once as ``program(np_, T, lax)`` so the same text runs on JAX with x64 as
the reference, and run on every backend of the ``backend`` fixture; each favours
combinations of transforms:

- Kepler's equation solved by Newton in a ``while_loop`` inside a ``custom_jvp`` (the implicit
  derivative), a radial-velocity fit over a ``NamedTuple`` orbit: ``jit(vmap(grad))`` per
  observation, ``jacrev`` against ``jacfwd``, ``hessian`` through the rule.
- sparse variational GP regression (Titsias's bound): ``cholesky`` and ``solve_triangular``
  gradients in ARD hyperparameters and inducing inputs; with inducing inputs at the data it
  is SciPy's exact marginal likelihood, whose noise gradient has a closed form.
- a rational-quadratic spline coupling flow: bins by ``searchsorted`` and ``take``, the
  log-determinant against ``slogdet`` of ``jacfwd``.
- a bootstrap particle filter with systematic resampling, keys split in a ``scan``: JAX's
  particles bit for bit, filters by ``vmap`` over keys near the Kalman likelihood.
- a variational quantum eigensolver on a complex state tensor by ``einsum``: gradient and
  Hessian against the parameter-shift rules, energy against a dense Hamiltonian.
- the normal modes of a molecule: ``hessian`` of a force field, six zero modes, Hellmann-
  Feynman for ``eigh``'s derivative, the frequencies' gradient (third order).
- an LSTM with a ``NamedTuple`` carry in ``scan``: ``jacrev`` is the chain of step Jacobians.
- a convolutional autoencoder: dilated, depthwise (``feature_group_count``) and transposed
  convolutions and max pooling by ``reduce_window``; ``conv_transpose`` as a conv's VJP.
- a spatial transformer by ``map_coordinates`` over an ``in_axes`` dict, against SciPy.
- Plackett-Luce rankings by a reverse ``cumlogsumexp``: normalised over all permutations,
  the score's gradient in closed form, a convex Hessian.
- a determinantal point process: subset likelihoods by ``slogdet`` sum to one, the expected
  size is tr(L (L + I)^-1).
- portfolio CVaR by ``top_k``, the Rockafellar-Uryasev envelope, quantile derivatives.
- optimisers (Adam, Lion, RMSProp) with ``NamedTuple`` states in a ``fori_loop`` trainer under
  ``jit`` with ``static_argnames``.
- an ensemble as a registered dataclass with a static field: ``jit(vmap(vmap(grad)))`` with
  the dataclass as ``in_axes``.
- a hard-routed mixture of experts: ``lax.switch`` on a batched index.
- an E(n)-equivariant graph network by ``segment_sum`` and ``ufunc.at``: invariance,
  equivariant forces, force matching (second order).
- LOESS by ``vmap`` over ``lstsq``: the hat matrix by ``jacrev``, the bandwidth's gradient.
- deep CCA's canonical correlations by ``eigh`` whitening and ``svd``, against SciPy.
- a matrix product state: ``einsum`` transfer matrices in a ``scan``, gauge invariance, a
  dict of outputs under ``jacrev``/``jacfwd``.
- 2-D pose-graph SLAM by Gauss-Newton: residuals by ``vmap`` over an edge dict, ``jacfwd`` in
  a jitted ``fori_loop``, measurement sensitivities by implicit differentiation.
- causal top-k sparse attention against ``dot_product_attention`` and a hand-built mask.
- Lotka-Volterra with a neural term through ``odeint``: the conserved quantity, gradients by
  ``vmap`` over initial states, Liouville's formula for the flow's determinant.

Every reference is independent of functrans: a closed form, an enumeration, SciPy, NumPy by
hand, central differences (``check_grads``), or JAX 0.10.2 with x64. The code is written for
this file.

The regression found while porting (tests/test_review_s20.py): ``linalg.lstsq`` raised a
ConcretizationError under ``jit`` and ``vmap`` for any ``M > N`` matrix (NumPy's residuals,
whose shape is the rank's); it now returns JAX's residuals (``numpy_resid=True``: NumPy's).
Documented differences met on the way, written around here: creation functions outside a
transform make NumPy arrays unless given a device; ``x.at[]`` exists on tracers and NumPy
arrays only (``ufunc.at(..., inplace=False)`` works everywhere); a NumPy mask beside another
library's arrays is refused; map_coordinates' ``"constant"`` is SciPy's ``"grid-constant"``.
And two of JAX's own: ``sqrt`` at zero has an infinite slope (forward mode gives NaN there, so
LOESS's weights avoid it), and JAX 0.10.2's ``quantile`` has a zero gradient in ``q``.

Written the way the suite's backends need: array-api-strict's operators refuse a tracer on
their right (its issue #188), so a plain array never comes first in an operator beside a
tracer (nor beside a custom rule's tangents or a constant made under ``jit``).
"""

from __future__ import annotations

import collections
import dataclasses
import functools
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

RNG = np.random.default_rng(11)


def _dev(backend, x):
    return backend.backend.device(x)


# -- Kepler's equation by Newton in a while_loop inside a custom_jvp -------------------------------

Orbit = collections.namedtuple("Orbit", "P tp e omega K")
KEPLER_T = np.linspace(0.0, 9.0, 13)
KEPLER_TRUE = Orbit(3.1, 0.4, 0.35, 1.1, 2.0)
KEPLER_FIT = Orbit(3.0, 0.5, 0.3, 1.0, 1.8)


def kepler(np_, T, lax):
    """The eccentric anomaly E(M, e) with E - e sin E = M, and a radial-velocity curve."""
    @T.custom_jvp
    def ecc(M, e):
        def cond(s):
            return (np_.max(s[1]) > 1e-13) & (s[2] < 50)

        def body(s):
            E, _, i = s
            step = (E - e * np_.sin(E) - M) / (1 - e * np_.cos(E))
            return E - step, np_.abs(step), i + 1
        E0 = M + e * np_.sin(M)
        E, _, _ = lax.while_loop(cond, body, (E0, np_.ones_like(E0), 0))
        return E

    @ecc.defjvp
    def ecc_jvp(primals, tangents):  # the implicit function theorem on E - e sin E - M = 0
        M, e = primals
        dM, de = tangents
        E = ecc(M, e)
        return E, (de * np_.sin(E) + dM) / (1 - e * np_.cos(E))  # (#188: see the end)

    def rv(orbit, t):
        M = 2 * np_.pi * (-orbit.tp + t) / orbit.P  # (tracer first: issue #188)
        E = ecc(M, orbit.e)
        nu = 2 * np_.arctan2(np_.sqrt(1 + orbit.e) * np_.sin(E / 2),
                             np_.sqrt(1 - orbit.e) * np_.cos(E / 2))
        return orbit.K * (np_.cos(nu + orbit.omega) + orbit.e * np_.cos(orbit.omega))
    return ecc, rv


def test_kepler_newton_while_loop_inside_custom_jvp_radial_velocity_fit(backend):
    jax = _jax()
    import jax.numpy as jnp
    ecc, rv = kepler(fnp, ft, flax)
    jecc, jrv = kepler(jnp, jax, jax.lax)
    data_np = np.asarray(jrv(Orbit(*_jnp(KEPLER_TRUE)), jnp.asarray(KEPLER_T)))
    t, data = backend.asarray(KEPLER_T), backend.asarray(data_np)
    orbit = Orbit(*(backend.asarray(v) for v in KEPLER_FIT))
    jorbit = Orbit(*_jnp(tuple(KEPLER_FIT)))

    # the solution solves Kepler's equation
    M = backend.asarray(np.linspace(0.0, 2 * np.pi, 9))
    E = backend.to_numpy(ecc(M, backend.asarray(0.7)))
    np.testing.assert_allclose(E - 0.7 * np.sin(E), np.linspace(0.0, 2 * np.pi, 9), atol=1e-13)

    def loss(np_, rv, o, t, y):
        return np_.sum((rv(o, t) - y) ** 2)
    want = jax.grad(lambda o: loss(jnp, jrv, o, jnp.asarray(KEPLER_T), data_np))(jorbit)
    for fn in (ft.grad, lambda f: ft.jit(ft.grad(f))):
        g = fn(lambda o: loss(fnp, rv, o, t, data))(orbit)
        assert isinstance(g, Orbit) and backend.is_own(g.e)
        close(tuple(want), tuple(_np(backend, g)), tol=1e-10)

    # per-observation gradients: jit(vmap(grad)) with the orbit shared
    per = ft.jit(ft.vmap(ft.grad(lambda o, t, y: (rv(o, t) - y) ** 2), in_axes=(None, 0, 0)))
    jper = jax.vmap(jax.grad(lambda o, t, y: (jrv(o, t) - y) ** 2), in_axes=(None, 0, 0))
    close(tuple(jper(jorbit, jnp.asarray(KEPLER_T), data_np)),
          tuple(_np(backend, per(orbit, t, data))), tol=1e-10)
    # reverse mode transposes the rule's (linear) tangent: jacrev is jacfwd
    jr = ft.jacrev(lambda o: rv(o, t))(orbit)
    jf = ft.jacfwd(lambda o: rv(o, t))(orbit)
    close(tuple(_np(backend, jf)), tuple(_np(backend, jr)), tol=1e-12)
    # the rule against central differences, to second order, and a hessian through it
    check_grads(ecc, (backend.asarray(np.linspace(0.1, 6.0, 5)), backend.asarray(np.full(5, 0.6))),
                order=2)
    Ms = np.linspace(0.1, 6.0, 5)
    h = ft.hessian(lambda e: fnp.sum(ecc(backend.asarray(Ms), e)))(backend.asarray(0.6))
    hj = jax.hessian(lambda e: jnp.sum(jecc(jnp.asarray(Ms), e)))(0.6)
    assert float(backend.to_numpy(h)) == pytest.approx(float(hj), rel=1e-10)


# -- sparse variational GP regression (Titsias 2009) ----------------------------------------------

SGP_X = RNG.uniform(-2, 2, size=(12, 2))
SGP_Y = np.sin(SGP_X[:, 0]) * np.cos(SGP_X[:, 1]) + 0.1 * RNG.normal(size=12)
SGP_THETA = {"log_ell": np.log(np.array([0.8, 1.3])), "log_sf": np.log(1.1),
             "log_sn": np.log(0.2), "Z": SGP_X[::3] + 0.05}


def ard_kernel(np_, theta, a, b):
    ell = np_.exp(theta["log_ell"])
    d = np_.divide(a[:, None, :], ell) - np_.divide(b[None, :, :], ell)  # (#188)
    return np_.multiply(np_.exp(2 * theta["log_sf"]), np_.exp(-0.5 * np_.sum(d * d, axis=-1)))


def titsias_bound(np_, linalg, theta, X, y, jitter=1e-10):
    """The collapsed evidence lower bound of SGPR with inducing inputs theta["Z"]."""
    Z = theta["Z"]
    n, m = X.shape[0], Z.shape[0]
    s2 = np_.exp(2 * theta["log_sn"])
    Kmm = ard_kernel(np_, theta, Z, Z) + jitter * np_.eye(m, dtype=X.dtype, device=X.device)
    Kmn = ard_kernel(np_, theta, Z, X)
    L = np_.linalg.cholesky(Kmm)
    A = linalg.solve_triangular(L, Kmn, lower=True) / np_.sqrt(s2)
    B = A @ A.T + np_.eye(m, dtype=X.dtype, device=X.device)
    LB = np_.linalg.cholesky(B)
    c = linalg.solve_triangular(LB, A @ y, lower=True) / np_.sqrt(s2)
    kdiag = n * np_.exp(2 * theta["log_sf"])
    return (-0.5 * n * math.log(2 * math.pi) - np_.sum(np_.log(np_.diagonal(LB)))
            - 0.5 * n * np_.log(s2) - 0.5 / s2 * np_.sum(y * y) + 0.5 * np_.sum(c * c)
            - 0.5 * kdiag / s2 + 0.5 * np_.sum(A * A))


def test_sparse_gp_titsias_bound_gradients_in_hyperparameters_and_inducing_inputs(backend):
    jax = _jax()
    import jax.numpy as jnp
    import jax.scipy.linalg as jsl
    import scipy.stats
    import functrans.scipy.linalg as fsl
    X, y, theta = backend.asarray(SGP_X), backend.asarray(SGP_Y), _on(backend, SGP_THETA)
    f = lambda th, X, y: titsias_bound(fnp, fsl, th, X, y)  # noqa: E731
    jX, jy = jnp.asarray(SGP_X), jnp.asarray(SGP_Y)
    jf = lambda th: titsias_bound(jnp, jsl, th, jX, jy)  # noqa: E731
    want_v, want_g = jax.value_and_grad(jf)(_jnp(SGP_THETA))
    for fn in (ft.value_and_grad(f), ft.jit(ft.value_and_grad(f))):
        v, g = fn(theta, X, y)
        assert float(backend.to_numpy(v)) == pytest.approx(float(want_v), rel=1e-11)
        assert backend.is_own(g["Z"])
        close(want_g, _np(backend, g), tol=1e-9)
    # the bound's Hessian-vector product in the inducing inputs, forward over reverse
    vz = RNG.normal(size=SGP_THETA["Z"].shape)
    gz = lambda Z: ft.grad(lambda Z: f({**theta, "Z": Z}, X, y))(Z)  # noqa: E731
    hv = ft.jvp(gz, (theta["Z"],), (backend.asarray(vz),))[1]
    jgz = lambda Z: jax.grad(lambda Z: jf({**_jnp(SGP_THETA), "Z": Z}))(Z)  # noqa: E731
    close(jax.jvp(jgz, (jnp.asarray(SGP_THETA["Z"]),), (jnp.asarray(vz),))[1],
          backend.to_numpy(hv), tol=1e-8)

    # inducing inputs at the data: the bound is the exact log marginal likelihood, whose
    # gradient in log sigma_n is tr((a a^T - K^-1) sigma_n^2 I) with a = K^-1 y
    full = {**theta, "Z": X}
    th = {**SGP_THETA, "Z": SGP_X}
    K = ard_kernel(np, th, SGP_X, SGP_X) + np.exp(2 * th["log_sn"]) * np.eye(12)
    exact = scipy.stats.multivariate_normal(np.zeros(12), K).logpdf(SGP_Y)
    assert float(backend.to_numpy(f(full, X, y))) == pytest.approx(exact, rel=1e-8)
    Ki = np.linalg.inv(K)
    a = Ki @ SGP_Y
    d_sn = np.exp(2 * th["log_sn"]) * (a @ a - np.trace(Ki))
    g = ft.grad(f)(full, X, y)
    assert float(backend.to_numpy(g["log_sn"])) == pytest.approx(d_sn, rel=1e-6)


# -- a rational-quadratic spline coupling flow (Durkan et al. 2019) -------------------------------

RQS_K, RQS_B = 5, 3.0
RQS_W = {"w": RNG.normal(size=(2, 2, 3 * RQS_K - 1)) / 2,
         "b": RNG.normal(size=(2, 3 * RQS_K - 1)) / 2}
RQS_X = RNG.normal(size=(6, 4))


def rq_spline(np_, x, uw, uh, ud, B):
    """The monotone rational-quadratic spline on [-B, B] (identity outside) and log dy/dx."""
    w = 2 * B * np_.exp(uw - np_.max(uw)) / np_.sum(np_.exp(uw - np_.max(uw)))
    h = 2 * B * np_.exp(uh - np_.max(uh)) / np_.sum(np_.exp(uh - np_.max(uh)))
    one = np_.ones_like(ud[:1])
    d = np_.concat([one, np_.logaddexp(ud, 0.0), one])
    zero = np_.zeros_like(uw[:1])
    cw = np_.concat([zero, np_.cumsum(w)]) - B
    ch = np_.concat([zero, np_.cumsum(h)]) - B
    inside = (x > -B) & (x < B)
    xc = np_.clip(x, -B, B)
    k = np_.clip(np_.searchsorted(cw[1:-1], xc, side="right"), 0, uw.shape[0] - 1)
    # (take, not cw[k]: a plain array-api-strict array indexed by a tracer is refused)
    xk, wk, yk, hk = (np_.take(v, k) for v in (cw, w, ch, h))
    dk, dk1 = np_.take(d, k), np_.take(d, k + 1)
    sk = hk / wk
    xi = (xc - xk) / wk
    t = xi * (1 - xi)
    den = sk + (dk1 + dk - 2 * sk) * t
    y = yk + hk * (sk * xi ** 2 + dk * t) / den
    dy = sk ** 2 * (dk1 * xi ** 2 + 2 * sk * t + dk * (1 - xi) ** 2) / den ** 2
    return np_.where(inside, y, x), np_.where(inside, np_.log(dy), 0.0)


def rq_coupling(np_, T, p, x, B=RQS_B, K=RQS_K):
    """The second half of x through splines whose parameters the first half sets."""
    x1, x2 = x[:2], x[2:]
    raw = np_.einsum("i,ijk->jk", x1, p["w"]) + p["b"]  # one row of spline parameters per x2
    y2, logd = T.vmap(lambda xi, r: rq_spline(np_, xi, r[:K], r[K:2 * K], r[2 * K:], B))(x2, raw)
    return np_.concat([x1, y2]), np_.sum(logd)


def test_rational_quadratic_spline_flow_logdet_and_likelihood_gradient(backend):
    jax = _jax()
    import jax.numpy as jnp
    p, xs = _on(backend, RQS_W), backend.asarray(RQS_X)
    # the log-determinant is the triangular Jacobian's, by jacfwd
    for i in range(xs.shape[0]):
        y, logdet = rq_coupling(fnp, ft, p, xs[i, :])
        jac = backend.to_numpy(ft.jacfwd(lambda x: rq_coupling(fnp, ft, p, x)[0])(xs[i, :]))
        np.testing.assert_allclose(jac[:2, 2:], 0.0, atol=0)
        sign, want = np.linalg.slogdet(jac)
        assert sign == 1.0
        assert float(backend.to_numpy(logdet)) == pytest.approx(want, rel=1e-11, abs=1e-12)
    # the spline passes through its knots and is monotone; a point outside is left alone
    uw = backend.asarray(RNG.normal(size=RQS_K))
    uh, ud = backend.asarray(RNG.normal(size=RQS_K)), backend.asarray(RNG.normal(size=RQS_K - 1))
    grid = backend.asarray(np.linspace(-4, 4, 81))
    yg, ld = rq_spline(fnp, grid, uw, uh, ud, RQS_B)
    yg = backend.to_numpy(yg)
    assert np.all(np.diff(yg) > 0)
    np.testing.assert_allclose(yg[[0, 5, 75, 80]], [-4.0, -3.5, 3.5, 4.0], rtol=1e-15)
    dy = ft.vmap(ft.grad(lambda x: rq_spline(fnp, x, uw, uh, ud, RQS_B)[0]))(grid)
    np.testing.assert_allclose(np.log(backend.to_numpy(dy)), backend.to_numpy(ld), atol=1e-12)

    def nll(np_, T, p, xs):
        def one(x):
            z, logdet = rq_coupling(np_, T, p, x)
            return 0.5 * np_.sum(z * z) - logdet
        return np_.mean(T.vmap(one)(xs))
    want_v, want_g = jax.value_and_grad(lambda p: nll(jnp, jax, p, jnp.asarray(RQS_X)))(_jnp(RQS_W))
    for fn in (ft.value_and_grad, lambda f: ft.jit(ft.value_and_grad(f))):
        v, g = fn(lambda p: nll(fnp, ft, p, xs))(p)
        assert float(backend.to_numpy(v)) == pytest.approx(float(want_v), rel=1e-12)
        close(want_g, _np(backend, g), tol=1e-10)
    check_grads(lambda w: nll(fnp, ft, {**p, "w": w}, xs), (p["w"],), order=1, modes=("rev",))


# -- a bootstrap particle filter with systematic resampling, keys split in the scan ---------------

PF_Y = np.array([0.3, 0.9, 0.4, -0.2, -0.8, -0.1, 0.6, 1.1])


def particle_filter(np_, lax, random, a, q, r, ys, key, n=256, device=None):
    """log p(y_1..T) estimated for x_t = a x_{t-1} + q e_t, y_t = x_t + r u_t, x_0 = 0; the
    resampling indices are constants of the gradient (the estimator's usual choice)."""
    def step(carry, y):
        x, key = carry
        key, k_move, k_res = random.split(key, 3)
        x = a * x + q * random.normal(k_move, (n,), dtype=ys.dtype)
        logw = -0.5 * ((-x + y) / r) ** 2 - np_.log(r) - 0.5 * math.log(2 * math.pi)
        m = lax.stop_gradient(np_.max(logw))
        w = np_.exp(logw - m)
        ll = m + np_.log(np_.mean(w))
        cdf = np_.cumsum(lax.stop_gradient(w)) / lax.stop_gradient(np_.sum(w))
        grid = np_.arange(n, dtype=ys.dtype, device=device)
        u = (random.uniform(k_res, (), dtype=ys.dtype) + grid) / n
        idx = np_.clip(np_.searchsorted(cdf, u), 0, n - 1)
        return (np_.take(x, idx), key), ll
    x0 = np_.zeros((n,), dtype=ys.dtype, device=device)  # (NumPy's without the device)
    _, lls = lax.scan(step, (x0, key), ys)
    return np_.sum(lls)


def kalman_loglik(a, q, r, ys):
    m, P, ll = 0.0, 0.0, 0.0
    for y in ys:
        m, P = a * m, a * a * P + q * q
        S = P + r * r
        ll += -0.5 * (math.log(2 * math.pi * S) + (y - m) ** 2 / S)
        K = P / S
        m, P = m + K * (y - m), (1 - K) * P
    return ll


def test_particle_filter_with_keys_in_scan_against_jax_and_the_kalman_filter(backend):
    jax = _jax()
    import jax.numpy as jnp
    ys = backend.asarray(PF_Y)
    dev = _dev(backend, ys)
    a, q, r = (backend.asarray(v) for v in (0.8, 0.5, 0.4))
    f = lambda a, q, r, key: particle_filter(fnp, flax, frandom, a, q, r, ys, key,  # noqa: E731
                                             device=dev)
    jf = lambda a, q, r, key: particle_filter(jnp, jax.lax, jax.random, a, q, r,  # noqa: E731
                                              jnp.asarray(PF_Y), key)
    # the same keys give JAX's particles: the estimate and its gradient agree
    want_v, want_g = jax.value_and_grad(jf, argnums=(0, 1, 2))(0.8, 0.5, 0.4, jax.random.key(7))
    for fn in (ft.value_and_grad(f, argnums=(0, 1, 2)),
               ft.jit(ft.value_and_grad(f, argnums=(0, 1, 2)))):
        v, g = fn(a, q, r, frandom.key(7, device=dev))
        assert float(backend.to_numpy(v)) == pytest.approx(float(want_v), rel=1e-10)
        close(want_g, _np(backend, g), tol=1e-8)
    # many filters at once by vmap over keys: their mean likelihood is near the exact one
    keys = frandom.split(frandom.key(0, device=dev), 64)
    lls = backend.to_numpy(ft.jit(ft.vmap(f, in_axes=(None, None, None, 0)))(a, q, r, keys))
    exact = kalman_loglik(0.8, 0.5, 0.4, PF_Y)
    assert abs(np.mean(lls) - exact) < 4 * np.std(lls) / 8 + 0.02
    assert lls[0] == pytest.approx(float(backend.to_numpy(f(a, q, r, keys[0]))), rel=1e-13)
    # (the score with the resampling indices held constant is biased, so it is checked
    # against JAX's above only)


# -- a variational quantum eigensolver on a state vector, against the parameter-shift rule --------

VQE_N, VQE_LAYERS, VQE_H = 4, 2, 0.7
VQE_THETA = RNG.uniform(0, 2 * np.pi, size=(VQE_LAYERS, 2, VQE_N))


def vqe_energy(np_, theta, n=VQE_N, h=VQE_H, device=None):
    """<psi(theta)| -sum Z_i Z_i+1 - h sum X_i |psi(theta)>, psi from |0..0> by layers of RY,
    RX on every qubit and a chain of CNOTs; the state a (2,)*n complex tensor."""
    letters = "abcdefgh"[:n]
    c128 = np_.complex128

    def apply1(psi, gate, q):
        out = letters.replace(letters[q], "z")
        return np_.einsum(f"z{letters[q]},{letters}->{out}", gate, psi)

    def ry(t):
        c, s = np_.cos(t / 2), np_.sin(t / 2)
        return np_.astype(np_.stack([np_.stack([c, -s]), np_.stack([s, c])]), c128)

    def rx(t):
        c, s = np_.astype(np_.cos(t / 2), c128), np_.astype(np_.sin(t / 2), c128)
        return np_.stack([np_.stack([c, -1j * s]), np_.stack([-1j * s, c])])
    cnot = np.zeros((2, 2, 2, 2), dtype=complex)
    for i, j in itertools.product(range(2), repeat=2):
        cnot[i, (i + j) % 2, i, j] = 1.0
    cnot = np_.asarray(cnot.tolist(), device=device)  # (a NumPy array is not moved: a list)

    psi = np_.reshape(np_.concat([np_.ones((1,), dtype=c128, device=device),
                                  np_.zeros((2 ** n - 1,), dtype=c128, device=device)]),
                      (2,) * n)
    for layer in range(theta.shape[0]):
        for q in range(n):
            psi = apply1(psi, ry(theta[layer, 0, q]), q)
            psi = apply1(psi, rx(theta[layer, 1, q]), q)
        for q in range(n - 1):
            a, b = letters[q], letters[q + 1]
            out = letters.replace(a, "y").replace(b, "z")
            psi = np_.einsum(f"yz{a}{b},{letters}->{out}", cnot, psi)
    prob = np_.real(psi * np_.conj(psi))
    z = np_.asarray([1.0, -1.0], device=device)
    zz = 0.0
    for q in range(n - 1):
        zq = np_.reshape(z, tuple(2 if k == q else 1 for k in range(n)))
        zq1 = np_.reshape(z, tuple(2 if k == q + 1 else 1 for k in range(n)))
        zz = zz + np_.sum(prob * zq * zq1)
    xs = 0.0
    for q in range(n):
        flipped = np_.flip(psi, axis=q)
        xs = xs + np_.real(np_.sum(np_.conj(psi) * flipped))
    return -zz - h * xs


def test_vqe_energy_gradient_and_hessian_are_the_parameter_shift_rules(backend):
    jax = _jax()
    import jax.numpy as jnp
    theta = backend.asarray(VQE_THETA)
    e = lambda t: vqe_energy(fnp, t, device=_dev(backend, theta))  # noqa: E731
    # the energy against a dense Hamiltonian and circuit in NumPy
    assert float(backend.to_numpy(e(theta))) == pytest.approx(_vqe_dense(VQE_THETA), rel=1e-12)
    want = jax.grad(lambda t: vqe_energy(jnp, t))(jnp.asarray(VQE_THETA))
    g = ft.jit(ft.grad(e))(theta)
    assert backend.is_own(g)
    np.testing.assert_allclose(backend.to_numpy(g), np.asarray(want), atol=1e-12)
    # parameter shift: dE/dt_k = (E(t + pi/2 e_k) - E(t - pi/2 e_k)) / 2, every shift by vmap
    eye = np.eye(VQE_THETA.size).reshape((-1,) + VQE_THETA.shape)
    shifted = backend.asarray(np.concatenate([VQE_THETA + np.pi / 2 * eye,
                                              VQE_THETA - np.pi / 2 * eye]))
    es = backend.to_numpy(ft.vmap(e)(shifted))
    k = VQE_THETA.size
    np.testing.assert_allclose(backend.to_numpy(g).ravel(), (es[:k] - es[k:]) / 2, atol=1e-12)
    # the second-order shift rule for the Hessian (a few entries), and its symmetry
    H = backend.to_numpy(ft.hessian(e)(theta)).reshape(k, k)
    np.testing.assert_allclose(H, H.T, atol=1e-12)
    for i, j in [(0, 0), (0, 5), (3, 11), (7, 15)]:
        pp = _vqe_dense(VQE_THETA + np.pi / 2 * (eye[i] + eye[j]))
        pm = _vqe_dense(VQE_THETA + np.pi / 2 * (eye[i] - eye[j]))
        mp = _vqe_dense(VQE_THETA - np.pi / 2 * (eye[i] - eye[j]))
        mm = _vqe_dense(VQE_THETA - np.pi / 2 * (eye[i] + eye[j]))
        assert H[i, j] == pytest.approx((pp - pm - mp + mm) / 4, abs=1e-11)


def _vqe_dense(theta, n=VQE_N, h=VQE_H):
    X = np.array([[0, 1], [1, 0]], dtype=complex)
    Y = np.array([[0, -1j], [1j, 0]])
    Z = np.diag([1.0, -1.0]).astype(complex)

    def on(ops):  # a Kronecker product, qubit 0 the most significant
        out = np.eye(1)
        for o in ops:
            out = np.kron(out, o)
        return out
    I2 = np.eye(2)
    H = sum(-on([Z if k in (q, q + 1) else I2 for k in range(n)]) for q in range(n - 1))
    H = H + sum(-h * on([X if k == q else I2 for k in range(n)]) for q in range(n))
    import scipy.linalg
    psi = np.zeros(2 ** n, dtype=complex)
    psi[0] = 1
    for layer in theta:
        for q in range(n):
            psi = on([scipy.linalg.expm(-0.5j * layer[0, q] * Y) if k == q else I2
                      for k in range(n)]) @ psi
            psi = on([scipy.linalg.expm(-0.5j * layer[1, q] * X) if k == q else I2
                      for k in range(n)]) @ psi
        for q in range(n - 1):
            P0, P1 = np.diag([1.0, 0]), np.diag([0, 1.0])
            psi = (on([P0 if k == q else I2 for k in range(n)])
                   + on([P1 if k == q else (X if k == q + 1 else I2) for k in range(n)])) @ psi
    return float(np.real(psi.conj() @ H @ psi))


# -- normal modes of a molecule: the Hessian of a force field, eigh and Hellmann-Feynman -----------

NH3_POS = np.array([[0.0, 0.0, 0.12], [0.94, 0.0, -0.27], [-0.47, 0.81, -0.27],
                    [-0.47, -0.81, -0.27]]) + RNG.normal(size=(4, 3)) * 0.02
NH3_MASS = np.array([14.0, 1.0, 1.0, 1.0])
NH3_BONDS = [(0, 1), (0, 2), (0, 3)]
NH3_ANGLES = [(1, 0, 2), (1, 0, 3), (2, 0, 3)]


def force_field(np_, x, k, rest):
    """Harmonic bonds and angles; ``rest`` the rest lengths and angles, ``k`` (kb, ka)."""
    e = 0.0
    for n, (i, j) in enumerate(NH3_BONDS):
        r = np_.sqrt(np_.sum((x[i] - x[j]) ** 2))
        e = e + 0.5 * np_.multiply(k[0], (r - rest[n]) ** 2)  # (not k[0] * ...: #188)
    for n, (i, j, m) in enumerate(NH3_ANGLES):
        u, v = x[i] - x[j], x[m] - x[j]
        c = np_.sum(u * v) / np_.sqrt(np_.sum(u * u) * np_.sum(v * v))
        e = e + 0.5 * np_.multiply(k[1], (np_.arccos(c) - rest[3 + n]) ** 2)
    return e


def test_molecular_normal_modes_hessian_zero_modes_and_hellmann_feynman(backend):
    jax = _jax()
    import jax.numpy as jnp
    x0 = NH3_POS
    rest = [np.linalg.norm(x0[i] - x0[j]) for i, j in NH3_BONDS]
    for i, j, m in NH3_ANGLES:
        u, v = x0[i] - x0[j], x0[m] - x0[j]
        rest.append(np.arccos(u @ v / np.linalg.norm(u) / np.linalg.norm(v)))
    x, k, rest_b = backend.asarray(x0), backend.asarray([5.0, 0.8]), backend.asarray(rest)
    # the geometry is the rest geometry: a stationary point
    g = ft.grad(force_field, argnums=1)(fnp, x, k, rest_b)
    np.testing.assert_allclose(backend.to_numpy(g), 0.0, atol=1e-12)
    flat = lambda xf, k: force_field(fnp, fnp.reshape(xf, (4, 3)), k, rest_b)  # noqa: E731
    H = ft.jit(ft.hessian(flat))(fnp.reshape(x, (12,)), k)
    jflat = lambda xf: force_field(jnp, xf.reshape(4, 3), jnp.asarray([5.0, 0.8]),  # noqa: E731
                                   jnp.asarray(rest))
    Hj = np.asarray(jax.hessian(jflat)(jnp.asarray(x0.ravel())))
    Hn = backend.to_numpy(H)
    np.testing.assert_allclose(Hn, Hj, atol=1e-10)
    np.testing.assert_allclose(Hn, Hn.T, atol=1e-12)
    # translations are null vectors; six zero modes (3 translations, 3 rotations), six positive
    for d in range(3):
        t = np.zeros((4, 3))
        t[:, d] = 1.0
        np.testing.assert_allclose(Hn @ t.ravel(), 0.0, atol=1e-10)
    minv = np.repeat(NH3_MASS, 3) ** -0.5

    def modes(k):
        Hk = ft.hessian(flat)(fnp.reshape(x, (12,)), k)
        mw = backend.asarray(minv)
        return fnp.linalg.eigh(Hk * mw[:, None] * mw[None, :])
    lam = backend.to_numpy(modes(k)[0])
    assert np.all(np.abs(lam[:6]) < 1e-9) and np.all(lam[6:] > 1e-3)
    # Hellmann-Feynman: the energy is linear in (kb, ka), so d lambda / d k = v^T H_k v with
    # H_k the Hessian of that term alone at k = 1
    top = lambda k: modes(k)[0][-1]  # noqa: E731
    dk = backend.to_numpy(ft.grad(top)(k))
    v = backend.to_numpy(modes(k)[1])[:, -1]
    for n, unit in enumerate(([1.0, 0.0], [0.0, 1.0])):
        Hu = backend.to_numpy(ft.hessian(flat)(fnp.reshape(x, (12,)), backend.asarray(unit)))
        assert dk[n] == pytest.approx(v @ (minv[:, None] * Hu * minv[None, :]) @ v, rel=1e-8)
    # the frequencies' gradients in the positions, as JAX's (a third derivative)
    fr = lambda xf: fnp.sum(fnp.sqrt(fnp.linalg.eigvalsh(  # noqa: E731
        ft.hessian(flat)(xf, k) * backend.asarray(minv)[:, None]
        * backend.asarray(minv)[None, :])[6:]))
    jfr = lambda xf: jnp.sum(jnp.sqrt(jnp.linalg.eigvalsh(  # noqa: E731
        minv[:, None] * jax.hessian(jflat)(xf) * minv[None, :])[6:]))
    np.testing.assert_allclose(backend.to_numpy(ft.grad(fr)(fnp.reshape(x, (12,)))),
                               np.asarray(jax.grad(jfr)(jnp.asarray(x0.ravel()))), atol=1e-8)


# -- an LSTM with a NamedTuple carry in scan, its Jacobians by jacrev -----------------------------

LSTMState = collections.namedtuple("LSTMState", "h c")
LSTM_P = {"W": RNG.normal(size=(4 * 3, 2)) / 2, "U": RNG.normal(size=(4 * 3, 3)) / 2,
          "b": RNG.normal(size=(4 * 3,)) / 3}
LSTM_X = RNG.normal(size=(6, 2))
LSTM_S0 = LSTMState(RNG.normal(size=3) / 2, RNG.normal(size=3) / 2)


def lstm_cell(np_, p, s, x):
    z = np_.matmul(p["U"], s.h) + np_.matmul(p["W"], x) + p["b"]  # (the traced term first)
    i, f, g, o = (z[3 * k:3 * k + 3] for k in range(4))
    sig = lambda v: 1 / (1 + np_.exp(-v))  # noqa: E731
    c = sig(f) * s.c + sig(i) * np_.tanh(g)
    return LSTMState(sig(o) * np_.tanh(c), c)


def lstm_run(np_, lax, p, s0, xs):
    def step(s, x):
        s = lstm_cell(np_, p, s, x)
        return s, np_.sum(s.h)
    return lax.scan(step, s0, xs)


def test_lstm_namedtuple_carry_jacrev_is_the_chain_of_step_jacobians(backend):
    jax = _jax()
    import jax.numpy as jnp
    p, xs = _on(backend, LSTM_P), backend.asarray(LSTM_X)
    s0 = LSTMState(*(backend.asarray(v) for v in LSTM_S0))
    final = lambda s0, p: lstm_run(fnp, flax, p, s0, xs)[0]  # noqa: E731
    jac = ft.jit(ft.jacrev(final))(s0, p)
    assert isinstance(jac, LSTMState) and isinstance(jac.h, LSTMState)
    # the Jacobian of the final state in the initial one: the product of each step's, as a
    # (6 x 6) matrix over (h, c)
    def step_matrix(s):
        x_t = s[1]
        j = ft.jacfwd(lambda v: fnp.concat(list(lstm_cell(fnp, p, LSTMState(v[:3], v[3:]), x_t))))(
            fnp.concat([s[0].h, s[0].c]))
        return backend.to_numpy(j)
    s, prod = s0, np.eye(6)
    for t in range(xs.shape[0]):
        prod = step_matrix((s, xs[t, :])) @ prod
        s = lstm_cell(fnp, p, s, xs[t, :])
    dense = np.block([[backend.to_numpy(jac.h.h), backend.to_numpy(jac.h.c)],
                      [backend.to_numpy(jac.c.h), backend.to_numpy(jac.c.c)]])
    np.testing.assert_allclose(dense, prod, atol=1e-12)
    # the Jacobians in the parameters, and jacfwd over a pytree of outputs, as JAX's
    jfinal = lambda s0, p: lstm_run(jnp, jax.lax, p, s0, jnp.asarray(LSTM_X))[0]  # noqa: E731
    want = jax.jacrev(jfinal, argnums=1)(LSTMState(*_jnp(tuple(LSTM_S0))), _jnp(LSTM_P))
    got = ft.jacrev(final, argnums=1)(s0, p)
    close(want, _np(backend, got), tol=1e-11)
    close(want, _np(backend, ft.jit(ft.jacfwd(final, argnums=1))(s0, p)), tol=1e-11)
    # the summed outputs' gradient through both the carry and the stacked outputs
    total = lambda s0, p: fnp.sum(lstm_run(fnp, flax, p, s0, xs)[1])  # noqa: E731
    jxs = jnp.asarray(LSTM_X)
    jtotal = lambda s0, p: jnp.sum(lstm_run(jnp, jax.lax, p, s0, jxs)[1])  # noqa: E731
    close(jax.grad(jtotal, argnums=(0, 1))(LSTMState(*_jnp(tuple(LSTM_S0))), _jnp(LSTM_P)),
          _np(backend, ft.jit(ft.grad(total, argnums=(0, 1)))(s0, p)), tol=1e-11)


# -- a convolutional autoencoder: dilated, depthwise and transposed convolutions, max pooling -----

CAE_DN = ("NCHW", "OIHW", "NCHW")
CAE_P = {"W1": RNG.normal(size=(4, 3, 3, 3)) / 3, "W2": RNG.normal(size=(4, 1, 3, 3)) / 3,
         "W3": RNG.normal(size=(3, 4, 3, 3)) / 3}
CAE_X = RNG.normal(size=(3, 3, 8, 8))


def autoencoder(np_, lax, p, x):
    h = lax.conv_general_dilated(x, p["W1"], (1, 1), "SAME", rhs_dilation=(2, 2),
                                 dimension_numbers=CAE_DN)
    h = np_.tanh(h)
    h = lax.conv_general_dilated(h, p["W2"], (1, 1), "SAME", feature_group_count=4,
                                 dimension_numbers=CAE_DN)  # depthwise
    h = lax.reduce_window(h, -np_.inf, lax.max, (1, 1, 2, 2), (1, 1, 2, 2), "VALID")
    return lax.conv_transpose(h, p["W3"], (2, 2), "SAME", dimension_numbers=CAE_DN)


def test_conv_autoencoder_transposed_depthwise_dilated_and_pooled_as_jax(backend):
    jax = _jax()
    import jax.numpy as jnp
    p, x = _on(backend, CAE_P), backend.asarray(CAE_X)

    def loss(np_, lax, p, x):
        return np_.mean((autoencoder(np_, lax, p, x) - x) ** 2)
    want_v, want_g = jax.value_and_grad(lambda p: loss(jnp, jax.lax, p, jnp.asarray(CAE_X)))(
        _jnp(CAE_P))
    for fn in (ft.value_and_grad, lambda f: ft.jit(ft.value_and_grad(f))):
        v, g = fn(lambda p: loss(fnp, flax, p, x))(p)
        assert float(backend.to_numpy(v)) == pytest.approx(float(want_v), rel=1e-12)
        assert backend.is_own(g["W3"])
        close(want_g, _np(backend, g), tol=1e-12)
    # per-example gradients by vmap (each example a batch of one)
    per = ft.vmap(ft.grad(lambda p, x: loss(fnp, flax, p, x[None])), in_axes=(None, 0))(p, x)
    jper = jax.vmap(jax.grad(lambda p, x: loss(jnp, jax.lax, p, x[None])), in_axes=(None, 0))(
        _jnp(CAE_P), jnp.asarray(CAE_X))
    close(jper, _np(backend, per), tol=1e-12)
    # a transposed convolution with the kernel transposed is the strided convolution's VJP
    K = backend.asarray(RNG.normal(size=(4, 3, 3, 3)))
    conv = lambda v: flax.conv_general_dilated(v, K, (2, 2), "SAME",  # noqa: E731
                                               dimension_numbers=CAE_DN)
    out, vjp = ft.vjp(conv, x)
    y = backend.asarray(RNG.normal(size=tuple(out.shape)))
    ct = flax.conv_transpose(y, K, (2, 2), "SAME", dimension_numbers=CAE_DN,
                             transpose_kernel=True)
    np.testing.assert_allclose(backend.to_numpy(ct), backend.to_numpy(vjp(y)[0]), atol=1e-12)
    # max pooling routes the cotangent to each window's maximum
    def pool(v):
        return flax.reduce_window(v, -fnp.inf, flax.max, (1, 1, 2, 2), (1, 1, 2, 2), "VALID")
    gp = backend.to_numpy(ft.grad(lambda v: fnp.sum(pool(v)))(x))
    win = CAE_X.reshape(3, 3, 4, 2, 4, 2)
    is_max = win == win.max(axis=(3, 5), keepdims=True)
    np.testing.assert_array_equal(gp, is_max.reshape(3, 3, 8, 8).astype(float))


# -- a spatial transformer: an affine grid sampled bilinearly by map_coordinates ------------------

ST_IMG = RNG.normal(size=(3, 10, 10))
ST_THETA = np.array([[[0.9, 0.1, 0.3], [-0.2, 1.1, -0.1]], [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]],
                     [[0.7, -0.3, 0.2], [0.3, 0.8, 0.25]]]) + RNG.normal(size=(3, 2, 3)) * 0.01


def spatial_transform(np_, ndimage, theta, img, out=7, device=None):
    """Sample ``img`` at theta @ (u, v, 1) for a grid (u, v) in [-1, 1]^2 (normalised image
    coordinates), bilinearly with zeros outside."""
    lin = np_.linspace(-1.0, 1.0, out, dtype=img.dtype, device=device)
    u = np_.reshape(np_.broadcast_to(lin[:, None], (out, out)), (-1,))
    v = np_.reshape(np_.broadcast_to(lin[None, :], (out, out)), (-1,))
    src_r = theta[0, 0] * u + theta[0, 1] * v + theta[0, 2]
    src_c = theta[1, 0] * u + theta[1, 1] * v + theta[1, 2]
    h, w = img.shape
    rows, cols = (src_r + 1) * ((h - 1) / 2), (src_c + 1) * ((w - 1) / 2)
    return np_.reshape(ndimage.map_coordinates(img, [rows, cols], order=1, mode="constant"),
                       (out, out))


def test_spatial_transformer_by_map_coordinates_over_an_in_axes_dict(backend):
    jax = _jax()
    import jax.numpy as jnp
    import jax.scipy.ndimage as jnd
    import scipy.ndimage
    import functrans.scipy.ndimage as fnd
    imgs, thetas = backend.asarray(ST_IMG), backend.asarray(ST_THETA)
    dev = _dev(backend, imgs)
    # the identity transform on a grid of the image's size gives the image back
    same = spatial_transform(fnp, fnd, backend.asarray(np.eye(2, 3)), imgs[0, ...], out=10,
                             device=dev)
    np.testing.assert_allclose(backend.to_numpy(same), ST_IMG[0], atol=1e-13)
    # SciPy's bilinear sampling at the same points ("constant" is JAX's, SciPy's "grid-constant")
    lin = np.linspace(-1, 1, 7)
    u, v = np.meshgrid(lin, lin, indexing="ij")
    th = ST_THETA[2]
    pts = [(th[0, 0] * u + th[0, 1] * v + th[0, 2] + 1) * 4.5,
           (th[1, 0] * u + th[1, 1] * v + th[1, 2] + 1) * 4.5]
    want = scipy.ndimage.map_coordinates(ST_IMG[2], pts, order=1, mode="grid-constant")
    got = spatial_transform(fnp, fnd, thetas[2, ...], imgs[2, ...], device=dev)
    np.testing.assert_allclose(backend.to_numpy(got), want, atol=1e-13)

    target = backend.asarray(RNG.normal(size=(7, 7)))
    batch = {"theta": thetas, "img": imgs}

    def loss(np_, nd, b, target, device=None):
        return np_.sum((spatial_transform(np_, nd, b["theta"], b["img"], device=device)
                        - target) ** 2)
    per = ft.jit(ft.vmap(ft.grad(lambda b: loss(fnp, fnd, b, target, dev)),
                         in_axes=({"theta": 0, "img": 0},)))(batch)
    jt = jnp.asarray(backend.to_numpy(target))
    jper = jax.vmap(jax.grad(lambda b: loss(jnp, jnd, b, jt)),
                    in_axes=({"theta": 0, "img": 0},))(_jnp({"theta": ST_THETA, "img": ST_IMG}))
    close(jper, _np(backend, per), tol=1e-11)
    # one image shared by all transforms: in_axes None in the dict
    shared = ft.vmap(lambda b: loss(fnp, fnd, b, target, dev), in_axes=({"theta": 0, "img": None},))
    vals = backend.to_numpy(shared({"theta": thetas, "img": imgs[0, ...]}))
    for i in range(3):
        one = loss(fnp, fnd, {"theta": thetas[i, ...], "img": imgs[0, ...]}, target, dev)
        assert vals[i] == pytest.approx(float(backend.to_numpy(one)), rel=1e-13)
    # the sampling points lie between pixels: central differences hold for theta
    check_grads(lambda t: loss(fnp, fnd, {"theta": t, "img": imgs[2, ...]}, target, dev),
                (thetas[2, ...],), order=1, eps=1e-7)


# -- Plackett-Luce ranking likelihood by a reverse cumulative logsumexp ---------------------------

PL_X = RNG.normal(size=(5, 4, 3))  # 5 queries, 4 items each, 3 features
PL_PERM = np.stack([RNG.permutation(4) for _ in range(5)])
PL_W = RNG.normal(size=3)


def plackett_luce_logp(np_, lax, s, perm):
    """log P(perm | scores s): sum_i s_perm[i] - logsumexp_{j >= i} s_perm[j]."""
    sp = np_.take(s, perm)
    return np_.sum(sp) - np_.sum(lax.cumlogsumexp(sp, reverse=True))


def test_plackett_luce_by_reverse_cumlogsumexp_over_an_in_axes_dict(backend):
    jax = _jax()
    import jax.numpy as jnp
    s = backend.asarray([0.3, -1.2, 0.8, 0.1])
    perms = backend.asarray(list(itertools.permutations(range(4))), dtype="int64")
    logp = ft.vmap(lambda p: plackett_luce_logp(fnp, flax, s, p))(perms)
    # a distribution over the 24 rankings; its total's gradient is zero
    assert float(backend.to_numpy(fnp.sum(fnp.exp(logp)))) == pytest.approx(1.0, rel=1e-13)
    gz = ft.grad(lambda s: fnp.sum(fnp.exp(ft.vmap(lambda p: plackett_luce_logp(fnp, flax, s, p))(
        perms))))(s)
    np.testing.assert_allclose(backend.to_numpy(gz), 0.0, atol=1e-14)
    # the score's gradient in closed form: 1 - the softmax mass of each stage containing k
    s0 = np.array([0.3, -1.2, 0.8, 0.1])
    perm = PL_PERM[0]
    want = np.ones(4)
    for i in range(4):
        rest = perm[i:]
        e = np.exp(s0[rest] - s0[rest].max())
        want[rest] -= e / e.sum()
    g = ft.grad(plackett_luce_logp, argnums=2)(fnp, flax, s, backend.asarray(perm, dtype="int64"))
    np.testing.assert_allclose(backend.to_numpy(g), want, atol=1e-14)

    # a linear scorer fitted to observed rankings: queries by vmap over a dict
    batch = {"X": backend.asarray(PL_X), "perm": backend.asarray(PL_PERM, dtype="int64")}

    def nll(np_, T, lax, w, batch):
        def one(b):
            return -plackett_luce_logp(np_, lax, np_.matmul(b["X"], w), b["perm"])
        return np_.mean(T.vmap(one, in_axes=({"X": 0, "perm": 0},))(batch))
    want_v, want_g = jax.value_and_grad(lambda w: nll(jnp, jax, jax.lax, w, _jnp(
        {"X": PL_X, "perm": PL_PERM})))(jnp.asarray(PL_W))
    w = backend.asarray(PL_W)
    for fn in (ft.value_and_grad, lambda f: ft.jit(ft.value_and_grad(f))):
        v, g = fn(lambda w: nll(fnp, ft, flax, w, batch))(w)
        assert float(backend.to_numpy(v)) == pytest.approx(float(want_v), rel=1e-13)
        np.testing.assert_allclose(backend.to_numpy(g), np.asarray(want_g), atol=1e-13)
    H = ft.hessian(lambda w: nll(fnp, ft, flax, w, batch))(w)
    Hj = jax.hessian(lambda w: nll(jnp, jax, jax.lax, w, _jnp({"X": PL_X, "perm": PL_PERM})))(
        jnp.asarray(PL_W))
    np.testing.assert_allclose(backend.to_numpy(H), np.asarray(Hj), atol=1e-12)
    assert np.all(np.linalg.eigvalsh(backend.to_numpy(H)) > 0)  # convex in w


# -- a determinantal point process: log-likelihood of subsets by slogdet --------------------------

DPP_F = RNG.normal(size=(5, 3))
DPP_SUBSETS = [(0, 2), (1, 3, 4), (2,), (0, 1, 4)]


def dpp_loglik(np_, feats, subsets, device=None):
    """mean over observed subsets Y of log det(L_Y) - log det(L + I), L = F F^T + 0.1 I."""
    n = feats.shape[0]
    eye = np_.eye(n, dtype=feats.dtype, device=device)
    L = np_.matmul(feats, feats.T) + 0.1 * eye
    norm = np_.linalg.slogdet(L + eye)[1]
    total = 0.0
    for Y in subsets:
        idx = np.asarray(Y)
        # (take, not L[np.ix_(idx, idx)]: array-api-strict indexes only by its own arrays)
        total = total + np_.linalg.slogdet(np_.take(np_.take(L, idx, axis=0), idx, axis=1))[1]
    return total / len(subsets) - norm


def test_dpp_subset_likelihood_normalises_and_its_gradient(backend):
    jax = _jax()
    import jax.numpy as jnp
    F = backend.asarray(DPP_F)
    # P(Y) = det(L_Y) / det(L + I) sums to one over all 32 subsets (the empty one det = 1)
    every = [Y for r in range(1, 6) for Y in itertools.combinations(range(5), r)]
    dev = _dev(backend, F)
    probs = [math.exp(float(backend.to_numpy(dpp_loglik(fnp, F, [Y], dev)))) for Y in every]
    L = DPP_F @ DPP_F.T + 0.1 * np.eye(5)
    empty = 1 / np.linalg.det(L + np.eye(5))
    assert sum(probs) + empty == pytest.approx(1.0, rel=1e-12)
    # the expected subset size is tr(L (L + I)^-1), the sum of marginal probabilities
    size = sum(p * len(Y) for p, Y in zip(probs, every))
    assert size == pytest.approx(np.trace(L @ np.linalg.inv(L + np.eye(5))), rel=1e-12)
    want_v, want_g = jax.value_and_grad(lambda F: dpp_loglik(jnp, F, DPP_SUBSETS))(
        jnp.asarray(DPP_F))
    for fn in (ft.value_and_grad, lambda f: ft.jit(ft.value_and_grad(f))):
        v, g = fn(lambda F: dpp_loglik(fnp, F, DPP_SUBSETS, dev))(F)
        assert float(backend.to_numpy(v)) == pytest.approx(float(want_v), rel=1e-13)
        np.testing.assert_allclose(backend.to_numpy(g), np.asarray(want_g), atol=1e-12)
    # d/dL log det(L + I) = (L + I)^-1: the gradient in F of the normaliser alone
    eye = fnp.eye(5, dtype=F.dtype, device=dev)
    gn = ft.grad(lambda F: fnp.linalg.slogdet(fnp.matmul(F, F.T) + 1.1 * eye)[1])(F)
    np.testing.assert_allclose(backend.to_numpy(gn),
                               2 * np.linalg.inv(L + np.eye(5)) @ DPP_F, atol=1e-13)
    check_grads(lambda F: dpp_loglik(fnp, F, DPP_SUBSETS, dev), (F,), order=2)


# -- CVaR of a portfolio by top_k, Rockafellar-Uryasev, and quantiles -----------------------------

CVAR_R = RNG.normal(size=(40, 4)) * np.array([0.02, 0.05, 0.1, 0.03]) + np.array(
    [0.01, 0.02, 0.04, 0.015])
CVAR_LOGITS = np.array([0.2, -0.1, 0.3, 0.0])


def portfolio_cvar(np_, lax, logits, R, k=4):
    """The mean of the k largest scenario losses of softmax(logits) weights (CVaR at 1 - k/N)."""
    w = np_.exp(logits - np_.max(logits))
    w = w / np_.sum(w)
    losses = -np_.matmul(R, w)
    return np_.mean(lax.top_k(losses, k)[0])


def test_portfolio_cvar_by_top_k_rockafellar_uryasev_and_quantiles(backend):
    jax = _jax()
    import jax.numpy as jnp
    R, logits = backend.asarray(CVAR_R), backend.asarray(CVAR_LOGITS)
    f = lambda lg: portfolio_cvar(fnp, flax, lg, R)  # noqa: E731
    want_v, want_g = jax.value_and_grad(lambda lg: portfolio_cvar(jnp, jax.lax, lg, CVAR_R))(
        jnp.asarray(CVAR_LOGITS))
    for fn in (ft.value_and_grad(f), ft.jit(ft.value_and_grad(f))):
        v, g = fn(logits)
        assert float(backend.to_numpy(v)) == pytest.approx(float(want_v), rel=1e-13)
        np.testing.assert_allclose(backend.to_numpy(g), np.asarray(want_g), atol=1e-14)
    # Rockafellar-Uryasev: CVaR = min_t t + E (L - t)_+ / (1 - alpha), attained at the VaR; by
    # the envelope theorem its gradient at that t (held) is the CVaR's
    def ru(lg, t):
        w = fnp.exp(lg) / fnp.sum(fnp.exp(lg))
        losses = -fnp.matmul(R, w)
        return fnp.mean(fnp.maximum(fnp.subtract(losses, t), 0.0)) / 0.1 + t  # (#188)
    w_np = np.exp(CVAR_LOGITS) / np.exp(CVAR_LOGITS).sum()
    t_star = np.sort(-CVAR_R @ w_np)[-5:-3].mean()  # (between the 5th and 4th largest: no tie)
    tb = backend.asarray(t_star)
    assert float(backend.to_numpy(ru(logits, tb))) == pytest.approx(float(want_v), rel=1e-13)
    ts = backend.asarray(t_star + np.array([-0.01, -0.001, 0.001, 0.01]))
    # (flat between the 5th and 4th largest losses, rising outside)
    assert np.all(backend.to_numpy(ft.vmap(ru, in_axes=(None, 0))(logits, ts))
                  >= float(want_v) - 1e-15)
    np.testing.assert_allclose(backend.to_numpy(ft.grad(ru)(logits, tb)), np.asarray(want_g),
                               atol=1e-13)
    # the VaR as a quantile (method "higher": the 37th of 40 sorted losses)
    losses = -fnp.matmul(R, backend.asarray(w_np))
    q = fnp.quantile(losses, 0.9, method="higher")
    assert float(backend.to_numpy(q)) == pytest.approx(np.sort(-CVAR_R @ w_np)[36], rel=1e-15)
    # a linear quantile is piecewise linear in q: its slope the gap of the order statistics
    # times (N - 1) (central differences; JAX 0.10.2's gradient in q is zero here)
    srt = np.sort(-CVAR_R @ w_np)
    dq = ft.grad(lambda q: fnp.quantile(losses, q))(backend.asarray(0.3))
    pos = 0.3 * 39
    assert float(backend.to_numpy(dq)) == pytest.approx(
        39 * (srt[int(pos) + 1] - srt[int(pos)]), rel=1e-12)
    # quantiles of every asset's returns, their Jacobian in the returns as JAX's
    qs = np.array([0.1, 0.5, 0.9])
    jq = ft.jacrev(lambda R: fnp.quantile(R, backend.asarray(qs), axis=0))(R)
    want_jq = jax.jacrev(lambda R: jnp.quantile(R, jnp.asarray(qs), axis=0))(jnp.asarray(CVAR_R))
    np.testing.assert_allclose(backend.to_numpy(jq), np.asarray(want_jq), atol=1e-15)
    np.testing.assert_allclose(backend.to_numpy(ft.vmap(fnp.median, in_axes=1)(R)),
                               np.median(CVAR_R, axis=0), rtol=1e-15)


# -- an optimiser library: NamedTuple states, a fori_loop trainer jitted with static_argnames -----

AdamState = collections.namedtuple("AdamState", "count mu nu")
LionState = collections.namedtuple("LionState", "mu")
RmsState = collections.namedtuple("RmsState", "nu")
OPT_X = RNG.normal(size=(16, 3))
OPT_Y = np.tanh(OPT_X @ np.array([0.5, -1.0, 0.3])) + 0.05 * RNG.normal(size=16)
OPT_P = {"w": RNG.normal(size=(3,)) / 2, "b": np.array(0.1)}


def optimizer(np_, tree_map, name, lr, b1=0.9, b2=0.99, eps=1e-8):
    if name == "adam":
        def init(p):
            z = tree_map(np_.zeros_like, p)
            return AdamState(0, z, z)

        def update(g, s, p):
            mu = tree_map(lambda m, g: b1 * m + (1 - b1) * g, s.mu, g)
            nu = tree_map(lambda v, g: b2 * v + (1 - b2) * g * g, s.nu, g)
            c = s.count + 1
            upd = tree_map(lambda m, v: -lr * (m / (1 - b1 ** c)) / (np_.sqrt(v / (1 - b2 ** c))
                                                                      + eps), mu, nu)
            return upd, AdamState(c, mu, nu)
    elif name == "lion":
        def init(p):
            return LionState(tree_map(np_.zeros_like, p))

        def update(g, s, p):
            upd = tree_map(lambda m, g, p: -lr * (np_.sign(b1 * m + (1 - b1) * g) + 0.01 * p),
                           s.mu, g, p)
            return upd, LionState(tree_map(lambda m, g: b2 * m + (1 - b2) * g, s.mu, g))
    elif name == "rmsprop":
        def init(p):
            return RmsState(tree_map(np_.zeros_like, p))

        def update(g, s, p):
            nu = tree_map(lambda v, g: b2 * v + (1 - b2) * g * g, s.nu, g)
            return tree_map(lambda g, v: -lr * g / (np_.sqrt(v) + eps), g, nu), RmsState(nu)
    else:
        raise ValueError(name)
    return init, update


def train(np_, T, lax, tree_map, params, X, y, *, steps, name, lr=0.05):
    def loss(p):
        return np_.mean((np_.tanh(np_.matmul(X, p["w"]) + p["b"]) - y) ** 2)
    init, update = optimizer(np_, tree_map, name, lr)

    def body(i, carry):
        p, s = carry
        upd, s = update(T.grad(loss)(p), s, p)
        return tree_map(lambda a, b: a + b, p, upd), s
    p, s = lax.fori_loop(0, steps, body, (params, init(params)))
    return p, s, loss(p)


def test_optimizer_states_as_namedtuples_trained_under_jit_with_static_argnames(backend):
    jax = _jax()
    import jax.numpy as jnp
    X, y, p0 = backend.asarray(OPT_X), backend.asarray(OPT_Y), _on(backend, OPT_P)
    run = ft.jit(functools.partial(train, fnp, ft, flax, ft.tree_util.tree_map),
                 static_argnames=("steps", "name"))
    jrun = jax.jit(functools.partial(train, jnp, jax, jax.lax, jax.tree_util.tree_map),
                   static_argnames=("steps", "name"))
    for name, cls in (("adam", AdamState), ("lion", LionState), ("rmsprop", RmsState)):
        p, s, final = run(p0, X, y, steps=60, name=name)
        jp, js, jfinal = jrun(_jnp(OPT_P), jnp.asarray(OPT_X), jnp.asarray(OPT_Y), steps=60,
                              name=name)
        assert isinstance(s, cls) and backend.is_own(p["w"])
        close(jp, _np(backend, p), tol=1e-10)
        close(tuple(js), tuple(_np(backend, s)), tol=1e-10)
        assert float(backend.to_numpy(final)) < 0.5 * float(backend.to_numpy(
            run(p0, X, y, steps=0, name=name)[2]))
    # one Adam step from a zero state moves each parameter by lr * sign(g) (|g| >> eps)
    g = ft.grad(lambda p: train(fnp, ft, flax, ft.tree_util.tree_map, p, X, y, steps=0,
                                name="adam")[2])(p0)
    p1, s1, _ = run(p0, X, y, steps=1, name="adam")
    assert int(backend.to_numpy(s1.count)) == 1
    close(_np(backend, ft.tree_util.tree_map(lambda a, g: a - 0.05 * fnp.sign(g), p0, g)),
          _np(backend, p1), tol=1e-8)
    # a static argument must be hashable; an unknown optimiser's error comes through jit
    with pytest.raises(TypeError, match="hashable"):
        run(p0, X, y, steps=["3"], name="adam")
    with pytest.raises(ValueError, match="sgd"):
        run(p0, X, y, steps=3, name="sgd")


# -- a model as a registered dataclass with a static field: jit(vmap(vmap(grad))) -----------------

def _mlp_class(tree_util):
    @functools.partial(tree_util.register_dataclass, data_fields=["w1", "b1", "w2"],
                       meta_fields=["act"])
    @dataclasses.dataclass
    class MLP:
        w1: object
        b1: object
        w2: object
        act: str = "tanh"
    return MLP


MLP = _mlp_class(ft.tree_util)
DC_W1 = RNG.normal(size=(3, 5, 2))  # three ensemble members' first layers
DC_B1, DC_W2 = RNG.normal(size=(5,)), RNG.normal(size=(5,))
DC_X, DC_Y = RNG.normal(size=(7, 2)), RNG.normal(size=(7,))


def mlp_loss(np_, m, x, y, reduction):
    act = {"tanh": np_.tanh, "softplus": lambda v: np_.logaddexp(v, 0.0)}[m.act]
    r = (np_.sum(m.w2 * act(np_.matmul(m.w1, x) + m.b1)) - y) ** 2
    return r if reduction == "sum" else r / 2


def test_dataclass_ensemble_per_example_gradients_by_jit_vmap_vmap_grad(backend):
    jax = _jax()
    import jax.numpy as jnp
    JMLP = _mlp_class(jax.tree_util)
    X, y = backend.asarray(DC_X), backend.asarray(DC_Y)
    for act in ("tanh", "softplus"):
        m = MLP(backend.asarray(DC_W1), backend.asarray(DC_B1), backend.asarray(DC_W2), act)
        # the ensemble's first layers by in_axes given as the dataclass itself
        f = ft.jit(ft.vmap(ft.vmap(ft.grad(functools.partial(mlp_loss, fnp)),
                                   in_axes=(None, 0, 0, None)),
                           in_axes=(MLP(0, None, None, act), None, None, None)),
                   static_argnums=3)
        jf = jax.vmap(jax.vmap(jax.grad(functools.partial(mlp_loss, jnp)),
                               in_axes=(None, 0, 0, None)),
                      in_axes=(JMLP(0, None, None, act), None, None, None))
        want = jf(JMLP(*_jnp((DC_W1, DC_B1, DC_W2)), act), jnp.asarray(DC_X),
                  jnp.asarray(DC_Y), "half")
        for reduction, scale in (("half", 1.0), ("sum", 2.0)):
            g = f(m, X, y, reduction)
            assert isinstance(g, MLP) and g.act == act and backend.is_own(g.w1)
            assert tuple(g.w1.shape) == (3, 7, 5, 2) and tuple(g.b1.shape) == (3, 7, 5)
            for name in ("w1", "b1", "w2"):
                np.testing.assert_allclose(backend.to_numpy(getattr(g, name)),
                                           scale * np.asarray(getattr(want, name)), atol=1e-13)
        # by hand for one member and one example: tanh' = 1 - tanh^2, softplus' = sigmoid
        z = DC_W1[1] @ DC_X[4] + DC_B1
        a, da = ((np.tanh(z), 1 - np.tanh(z) ** 2) if act == "tanh"
                 else (np.logaddexp(z, 0), 1 / (1 + np.exp(-z))))
        r = DC_W2 @ a - DC_Y[4]
        np.testing.assert_allclose(backend.to_numpy(g.w2)[1, 4], 2 * r * a, rtol=1e-12)
        np.testing.assert_allclose(backend.to_numpy(g.b1)[1, 4], 2 * r * DC_W2 * da, rtol=1e-12)
    # in_axes whose static field differs from the argument's is a structure mismatch
    with pytest.raises(ft.errors.BatchingError, match="structure"):
        ft.vmap(lambda m: mlp_loss(fnp, m, X[0, :], y[0], "sum"),
                in_axes=(MLP(0, None, None, "tanh"),))(m)  # (m.act is "softplus")


# -- hard-routed mixture of experts: lax.switch on a batched index under vmap ---------------------

MOE_P = {"router": RNG.normal(size=(3, 4)), "W": RNG.normal(size=(3, 2, 4)) / 2}
MOE_X = RNG.normal(size=(9, 4))


def moe(np_, lax, p, x):
    logits = np_.matmul(p["router"], x)
    k = np_.argmax(logits)
    gate = np_.max(np_.exp(logits - np_.max(logits)) / np_.sum(np_.exp(logits - np_.max(logits))))
    experts = [lambda x: np_.tanh(np_.matmul(p["W"][0, ...], x)),
               lambda x: np_.maximum(np_.matmul(p["W"][1, ...], x), 0.0),
               lambda x: np_.sin(np_.matmul(p["W"][2, ...], x))]
    return gate * lax.switch(k, experts, x)


def test_mixture_of_experts_switch_on_a_batched_index_as_jax(backend):
    jax = _jax()
    import jax.numpy as jnp
    p, xs = _on(backend, MOE_P), backend.asarray(MOE_X)
    out = backend.to_numpy(ft.vmap(lambda x: moe(fnp, flax, p, x))(xs))
    # by hand: each example through its own expert
    acts = [np.tanh, lambda v: np.maximum(v, 0.0), np.sin]
    for i, x in enumerate(MOE_X):
        lg = MOE_P["router"] @ x
        k = int(np.argmax(lg))
        gate = np.exp(lg[k] - lg.max()) / np.exp(lg - lg.max()).sum()
        np.testing.assert_allclose(out[i], gate * acts[k](MOE_P["W"][k] @ x), rtol=1e-13)
    assert len(set(np.argmax(MOE_X @ MOE_P["router"].T, axis=1))) == 3  # every expert used

    def loss(np_, T, lax, p, xs):
        return np_.sum(T.vmap(lambda x: moe(np_, lax, p, x))(xs) ** 2)
    want_v, want_g = jax.value_and_grad(lambda p: loss(jnp, jax, jax.lax, p, jnp.asarray(MOE_X)))(
        _jnp(MOE_P))
    for fn in (ft.value_and_grad, lambda f: ft.jit(ft.value_and_grad(f))):
        v, g = fn(lambda p: loss(fnp, ft, flax, p, xs))(p)
        assert float(backend.to_numpy(v)) == pytest.approx(float(want_v), rel=1e-13)
        close(want_g, _np(backend, g), tol=1e-12)
    # an expert's weights get gradient only from the examples routed to it
    routed = np.argmax(MOE_X @ MOE_P["router"].T, axis=1)
    for k in range(3):
        sub = backend.asarray(MOE_X[routed == k])
        gk = ft.grad(lambda p: loss(fnp, ft, flax, p, sub))(p)
        np.testing.assert_allclose(backend.to_numpy(gk["W"])[k], backend.to_numpy(g["W"])[k],
                                   atol=1e-13)
    # per-example Jacobians (jacrev under vmap) of the routed output in the input
    jac = ft.vmap(ft.jacrev(lambda x: moe(fnp, flax, p, x)))(xs)
    jjac = jax.vmap(jax.jacrev(lambda x: moe(jnp, jax.lax, _jnp(MOE_P), x)))(jnp.asarray(MOE_X))
    np.testing.assert_allclose(backend.to_numpy(jac), np.asarray(jjac), atol=1e-13)
    # an out-of-range index is clamped, batched or not, as JAX's
    idx = backend.asarray([-2, 0, 1, 2, 7], dtype="int64")
    branches = [lambda v: v + 1.0, lambda v: v * 10.0, lambda v: -v]
    got = ft.vmap(lambda i, v: flax.switch(i, branches, v))(idx, backend.asarray(np.ones(5)))
    np.testing.assert_array_equal(backend.to_numpy(got), [2.0, 2.0, 10.0, -1.0, -1.0])
    assert float(backend.to_numpy(flax.switch(backend.asarray(9, dtype="int64"), branches,
                                              backend.asarray(1.0)))) == -1.0


# -- an E(n)-equivariant graph network (Satorras et al. 2021) by segment_sum and .at[].add --------

EGNN_N, EGNN_F, EGNN_M = 5, 3, 4
EGNN_SRC, EGNN_DST = (np.array(e) for e in zip(*[(i, j) for i in range(EGNN_N)
                                                   for j in range(EGNN_N) if i != j]))
EGNN_P = {"We": RNG.normal(size=(EGNN_M, 2 * EGNN_F + 1)) / 2, "be": RNG.normal(size=EGNN_M) / 2,
          "wx": RNG.normal(size=EGNN_M) / 4, "Wh": RNG.normal(size=(EGNN_F, EGNN_F + EGNN_M)) / 2,
          "v": RNG.normal(size=EGNN_F)}
EGNN_H, EGNN_XYZ = RNG.normal(size=(EGNN_N, EGNN_F)), RNG.normal(size=(EGNN_N, 3))


def egnn_layer(np_, segment_sum, p, h, x, src, dst, scatter="segment"):
    n = h.shape[0]
    hs, hd = np_.take(h, src, axis=0), np_.take(h, dst, axis=0)
    diff = np_.take(x, dst, axis=0) - np_.take(x, src, axis=0)  # x_i - x_j for edge j -> i
    d2 = np_.sum(diff * diff, axis=1, keepdims=True)
    m = np_.tanh(np_.matmul(np_.concat([hd, hs, d2], axis=1), p["We"].T) + p["be"])
    shift = np_.matmul(m, p["wx"])[:, None] * diff / (n - 1)  # (traced factors first: #188)
    if scatter == "segment":
        dx = segment_sum(shift, dst, num_segments=n)
        mi = segment_sum(m, dst, num_segments=n)
    else:  # the same sums by the functional ufunc.at (x.at[] is on tracers and NumPy only)
        dx = np_.add.at(np_.zeros_like(x), dst, shift, inplace=False)
        mi = np_.add.at(np_.zeros_like(m[:n, :]), dst, m, inplace=False)
    h = np_.tanh(np_.matmul(np_.concat([h, mi], axis=1), p["Wh"].T)) + h
    return h, dx + x


def egnn_energy(np_, segment_sum, p, h, x, scatter="segment"):
    h, x = egnn_layer(np_, segment_sum, p, h, x, EGNN_SRC, EGNN_DST, scatter)
    h, x = egnn_layer(np_, segment_sum, p, h, x, EGNN_SRC, EGNN_DST, scatter)
    return np_.sum(np_.matmul(h, p["v"])), x


def test_egnn_is_equivariant_its_forces_rotate_and_gradients_as_jax(backend):
    jax = _jax()
    import jax.numpy as jnp
    from functrans.ops import segment_sum
    p, h, x = _on(backend, EGNN_P), backend.asarray(EGNN_H), backend.asarray(EGNN_XYZ)
    e, y = egnn_energy(fnp, segment_sum, p, h, x)
    e2, y2 = egnn_energy(fnp, segment_sum, p, h, x, scatter="at")
    assert float(backend.to_numpy(e2)) == pytest.approx(float(backend.to_numpy(e)), rel=1e-14)
    np.testing.assert_allclose(backend.to_numpy(y2), backend.to_numpy(y), atol=1e-14)
    # a rotation (with a reflection) and a translation: the energy is invariant, the
    # positions move with them, and so do the forces -dE/dx
    Q = np.linalg.qr(RNG.normal(size=(3, 3)))[0]
    t = RNG.normal(size=3)
    xr = backend.asarray(EGNN_XYZ @ Q.T + t)
    er, yr = egnn_energy(fnp, segment_sum, p, h, xr)
    assert float(backend.to_numpy(er)) == pytest.approx(float(backend.to_numpy(e)), rel=1e-12)
    np.testing.assert_allclose(backend.to_numpy(yr), backend.to_numpy(y) @ Q.T + t, atol=1e-12)
    force = lambda x: ft.grad(lambda x: -egnn_energy(fnp, segment_sum, p, h, x)[0])(x)  # noqa: E731
    np.testing.assert_allclose(backend.to_numpy(force(xr)), backend.to_numpy(force(x)) @ Q.T,
                               atol=1e-12)
    # the forces sum to zero (translation invariance)
    np.testing.assert_allclose(backend.to_numpy(force(x)).sum(0), 0.0, atol=1e-12)

    # a force-matching loss's gradient in the parameters (second order), as JAX's, both scatters
    target = RNG.normal(size=(EGNN_N, 3))

    def loss(np_, T, seg, p, h, x, target, scatter):
        f = T.grad(lambda x: -egnn_energy(np_, seg, p, h, x, scatter)[0])(x)
        return np_.sum((f - target) ** 2)
    want = jax.grad(lambda p: loss(jnp, jax, jax.ops.segment_sum, p, jnp.asarray(EGNN_H),
                                   jnp.asarray(EGNN_XYZ), target, "segment"))(_jnp(EGNN_P))
    tb = backend.asarray(target)
    for scatter in ("segment", "at"):
        g = ft.jit(ft.grad(lambda p: loss(fnp, ft, segment_sum, p, h, x, tb, scatter)))(p)
        close(want, _np(backend, g), tol=1e-11)
    # a batch of conformations by vmap, their energies one by one
    xs = backend.asarray(EGNN_XYZ[None] + 0.1 * RNG.normal(size=(4, EGNN_N, 3)))
    es = ft.jit(ft.vmap(lambda x: egnn_energy(fnp, segment_sum, p, h, x)[0]))(xs)
    for i in range(4):
        one = egnn_energy(fnp, segment_sum, p, h, xs[i, ...])[0]
        assert float(backend.to_numpy(es[i])) == pytest.approx(float(backend.to_numpy(one)),
                                                               rel=1e-13)


# -- LOESS: a weighted local-linear fit at every query point by vmap over lstsq -------------------

LOESS_X = np.sort(RNG.uniform(0, 3, size=25))
LOESS_Y = np.sin(2 * LOESS_X) + 0.1 * RNG.normal(size=25)


def loess(np_, T, x, y, queries, bandwidth, degree=2):
    """Tricube-weighted local polynomial fits (Cleveland 1979), one lstsq per query."""
    def one(q):
        d = -q + x  # (the tracer first: #188)
        u = np_.abs(d) / bandwidth
        # the root of the tricube weight, written without sqrt(0) (whose infinite slope
        # times a zero tangent is NaN in forward mode, in JAX as here)
        sw = np_.where(u < 1, (1 - np_.minimum(u, 1.0) ** 3) ** 1.5, 0.0)
        V = np_.stack([d ** k for k in range(degree + 1)], axis=1)
        coef, resid, rank, _ = np_.linalg.lstsq(V * sw[:, None], sw * y)
        return coef[0], resid[0], rank
    return T.vmap(one)(queries)


def test_loess_by_vmap_over_lstsq_and_its_derivatives(backend):
    jax = _jax()
    import jax.numpy as jnp
    x, y = backend.asarray(LOESS_X), backend.asarray(LOESS_Y)
    qs = backend.asarray(np.linspace(0.2, 2.8, 6))
    for fn in (lambda *a: loess(fnp, ft, *a), ft.jit(lambda *a: loess(fnp, ft, *a))):
        fit, resid, rank = fn(x, y, qs, backend.asarray(0.8))
        want = loess(jnp, jax, jnp.asarray(LOESS_X), jnp.asarray(LOESS_Y),
                     jnp.linspace(0.2, 2.8, 6), 0.8)
        close(tuple(want[:2]), (backend.to_numpy(fit), backend.to_numpy(resid)), tol=1e-11)
        np.testing.assert_array_equal(backend.to_numpy(rank), 3)
    # by hand: the weighted normal equations at each query
    for q, f in zip(np.linspace(0.2, 2.8, 6), backend.to_numpy(fit)):
        u = np.abs(LOESS_X - q) / 0.8
        w = np.where(u < 1, (1 - u ** 3) ** 3, 0.0)
        V = np.vander(LOESS_X - q, 3, increasing=True)
        assert f == pytest.approx(np.linalg.solve(V.T @ (w[:, None] * V), V.T @ (w * LOESS_Y))[0],
                                  rel=1e-10)
    # the smoother is linear in y: its Jacobian is the hat matrix's rows, and reproduces
    # a quadratic exactly
    hat = backend.to_numpy(ft.jacrev(lambda y: loess(fnp, ft, x, y, qs, 0.8)[0])(y))
    np.testing.assert_allclose(hat.sum(1), 1.0, atol=1e-12)
    quad = 1.0 - 2 * LOESS_X + 0.5 * LOESS_X ** 2
    qs_np = np.linspace(0.2, 2.8, 6)
    np.testing.assert_allclose(hat @ quad, 1.0 - 2 * qs_np + 0.5 * qs_np ** 2, atol=1e-11)
    # the bandwidth's gradient of a held-out error, as JAX's and central differences
    yq = backend.asarray(np.sin(2 * qs_np))

    def cv(np_, T, x, y, qs, yq, h):
        return np_.mean((loess(np_, T, x, y, qs, h)[0] - yq) ** 2)
    g = ft.jit(ft.grad(lambda h: cv(fnp, ft, x, y, qs, yq, h)))(backend.asarray(0.8))
    gj = jax.grad(lambda h: cv(jnp, jax, jnp.asarray(LOESS_X), jnp.asarray(LOESS_Y),
                               jnp.asarray(qs_np), jnp.sin(2 * qs_np), h))(0.8)
    assert float(backend.to_numpy(g)) == pytest.approx(float(gj), rel=1e-9)
    check_grads(lambda h: cv(fnp, ft, x, y, qs, yq, h), (backend.asarray(0.8),), order=1)


# -- deep CCA's objective: canonical correlations by eigh (whitening) and svd ---------------------

CCA_X = RNG.normal(size=(40, 3))
CCA_Y = CCA_X @ RNG.normal(size=(3, 3)) * 0.5 + RNG.normal(size=(40, 3))
CCA_P = {"A": RNG.normal(size=(3, 3)), "B": RNG.normal(size=(3, 3))}


def cca_correlations(np_, p, X, Y, reg=1e-3):
    """The canonical correlations of the views tanh(X A) and tanh(Y B) (Andrew et al. 2013):
    the singular values of S_xx^-1/2 S_xy S_yy^-1/2, inverse roots by eigh."""
    H1, H2 = np_.tanh(np_.matmul(X, p["A"])), np_.tanh(np_.matmul(Y, p["B"]))
    H1, H2 = H1 - np_.mean(H1, axis=0), H2 - np_.mean(H2, axis=0)
    n, d = H1.shape
    eye = np_.eye(d, dtype=H1.dtype)

    def inv_sqrt(S):
        w, V = np_.linalg.eigh(S)
        return np_.matmul(V / np_.sqrt(w), V.T)
    # (eye first: under jit it is a constant tracer, which array-api-strict's operators
    # refuse on their right, #188)
    Sxx = reg * eye + np_.matmul(H1.T, H1) / (n - 1)
    Syy = reg * eye + np_.matmul(H2.T, H2) / (n - 1)
    Sxy = np_.matmul(H1.T, H2) / (n - 1)
    T = np_.matmul(np_.matmul(inv_sqrt(Sxx), Sxy), inv_sqrt(Syy))
    return np_.linalg.svd(T, compute_uv=False)


def test_deep_cca_correlations_by_eigh_and_svd_and_their_gradients(backend):
    jax = _jax()
    import jax.numpy as jnp
    import scipy.linalg
    p, X, Y = _on(backend, CCA_P), backend.asarray(CCA_X), backend.asarray(CCA_Y)
    # (eye without a device: under jit it is a constant of the tracers' library)
    f = lambda p: fnp.sum(ft.jit(lambda p: cca_correlations(fnp, p, X, Y))(p))  # noqa: E731
    rho = backend.to_numpy(ft.jit(lambda p: cca_correlations(fnp, p, X, Y))(p))
    # against SciPy: the correlations are the roots of the generalised eigenvalues of
    # S_xy S_yy^-1 S_yx v = rho^2 S_xx v
    H1 = np.tanh(CCA_X @ CCA_P["A"])
    H2 = np.tanh(CCA_Y @ CCA_P["B"])
    H1, H2 = H1 - H1.mean(0), H2 - H2.mean(0)
    Sxx, Syy = H1.T @ H1 / 39 + 1e-3 * np.eye(3), H2.T @ H2 / 39 + 1e-3 * np.eye(3)
    Sxy = H1.T @ H2 / 39
    ev = scipy.linalg.eigh(Sxy @ np.linalg.solve(Syy, Sxy.T), Sxx, eigvals_only=True)
    np.testing.assert_allclose(rho, np.sqrt(ev[::-1]), rtol=1e-10)
    assert np.all(np.diff(rho) < -1e-3)  # distinct: the SVD's derivative is defined
    want_v, want_g = jax.value_and_grad(lambda p: jnp.sum(cca_correlations(
        jnp, p, jnp.asarray(CCA_X), jnp.asarray(CCA_Y))))(_jnp(CCA_P))
    for fn in (ft.value_and_grad(f), ft.jit(ft.value_and_grad(f))):
        v, g = fn(p)
        assert float(backend.to_numpy(v)) == pytest.approx(float(want_v), rel=1e-12)
        close(want_g, _np(backend, g), tol=1e-9)
    # the leading correlation's Hessian in A (forward over reverse through eigh and svd)
    top = lambda A: ft.jit(lambda A: cca_correlations(fnp, {**p, "A": A}, X, Y))(A)[0]  # noqa: E731
    H = backend.to_numpy(ft.hessian(top)(p["A"]))
    Hj = jax.hessian(lambda A: cca_correlations(jnp, {**_jnp(CCA_P), "A": A}, jnp.asarray(CCA_X),
                                                jnp.asarray(CCA_Y))[0])(jnp.asarray(CCA_P["A"]))
    np.testing.assert_allclose(H, np.asarray(Hj), atol=1e-8)
    check_grads(top, (p["A"],), order=1)


# -- a matrix product state: norm and magnetisation by einsum transfer matrices in a scan ---------

MPS_N, MPS_D = 6, 3
MPS_A = RNG.normal(size=(MPS_N, MPS_D, 2, MPS_D)) / 2
MPS_L, MPS_R = RNG.normal(size=MPS_D), RNG.normal(size=MPS_D)


def mps_environments(np_, lax, A, l, r):
    """<psi|psi> and <psi| sum_i Z_i |psi> for psi[s] = l^T A_1[s_1] ... A_n[s_n] r, by a scan
    over sites carrying the plain environment and the one with a Z inserted."""
    one = np_.ones_like(l[:1])  # (Z's diagonal in l's library: no device to name)
    z = np_.concat([one, -one])

    def step(carry, Ai):
        env, envz = carry
        new = np_.einsum("ab,asc,bsd->cd", env, Ai, Ai)
        newz = np_.einsum("ab,asc,bsd->cd", envz, Ai, Ai) + np_.einsum("ab,asc,s,bsd->cd", env,
                                                                         Ai, z, Ai)
        return (new, newz), np_.trace(new)
    rr = np_.einsum("c,d->cd", r, r)
    init = (np_.einsum("a,b->ab", l, l), np_.zeros_like(rr))
    (env, envz), traces = lax.scan(step, init, A)
    return {"norm": np_.sum(env * rr), "z": np_.sum(envz * rr), "traces": traces}


def test_mps_magnetisation_by_scanned_einsums_against_the_dense_state(backend):
    jax = _jax()
    import jax.numpy as jnp
    A, l, r = backend.asarray(MPS_A), backend.asarray(MPS_L), backend.asarray(MPS_R)
    out = _np(backend, mps_environments(fnp, flax, A, l, r))
    # the dense state: every amplitude by matrix products
    psi = np.array([MPS_L @ np.linalg.multi_dot([MPS_A[i, :, s, :] for i, s in enumerate(bits)])
                    @ MPS_R for bits in itertools.product(range(2), repeat=MPS_N)])
    zsum = np.array([sum(1 - 2 * b for b in bits)
                     for bits in itertools.product(range(2), repeat=MPS_N)])
    assert out["norm"] == pytest.approx(psi @ psi, rel=1e-12)
    assert out["z"] == pytest.approx(psi @ (zsum * psi), rel=1e-11)

    def mag(np_, lax, A, l, r):
        e = mps_environments(np_, lax, A, l, r)
        return e["z"] / e["norm"]
    want = jax.grad(lambda A: mag(jnp, jax.lax, A, jnp.asarray(MPS_L), jnp.asarray(MPS_R)))(
        jnp.asarray(MPS_A))
    g = ft.jit(ft.grad(lambda A: mag(fnp, flax, A, l, r)))(A)
    np.testing.assert_allclose(backend.to_numpy(g), np.asarray(want), atol=1e-11)
    # the magnetisation is invariant under a gauge change A_i -> G^-1 A_i G between sites:
    # its gradient is orthogonal to that direction (the generator's derivative is zero)
    G = RNG.normal(size=(MPS_D, MPS_D)) * 0.1
    dA = np.zeros_like(MPS_A)
    dA[2] = -np.einsum("ab,bsc->asc", G, MPS_A[2])
    dA[1] = np.einsum("asb,bc->asc", MPS_A[1], G)
    assert float(np.sum(backend.to_numpy(g) * dA)) == pytest.approx(0.0, abs=1e-11)
    # the Jacobian of a dict of outputs (a carry pytree through the scan), reverse and forward
    jr = ft.jacrev(lambda l: mps_environments(fnp, flax, A, l, r))(l)
    jf = ft.jacfwd(lambda l: mps_environments(fnp, flax, A, l, r))(l)
    jj = jax.jacrev(lambda l: mps_environments(jnp, jax.lax, jnp.asarray(MPS_A), l,
                                               jnp.asarray(MPS_R)))(jnp.asarray(MPS_L))
    close(jj, _np(backend, jr), tol=1e-11)
    close(jj, _np(backend, jf), tol=1e-11)
    # the norm is a quadratic form in l: l^T H l / 2 with H its Hessian
    Hn = backend.to_numpy(ft.hessian(lambda l: mps_environments(fnp, flax, A, l, r)["norm"])(l))
    assert MPS_L @ Hn @ MPS_L / 2 == pytest.approx(out["norm"], rel=1e-12)


# -- 2-D pose-graph SLAM by Gauss-Newton: residuals by vmap over an edge dict, jacfwd, fori_loop ---

def _se2_between(np_, a, b):
    """The pose of b seen from a (x, y, theta each)."""
    c, s = np_.cos(a[2]), np_.sin(a[2])
    dx, dy = b[0] - a[0], b[1] - a[1]
    dth = b[2] - a[2]
    return np_.stack([c * dx + s * dy, -s * dx + c * dy, np_.arctan2(np_.sin(dth), np_.cos(dth))])


POSES_TRUE = np.array([[0.0, 0.0, 0.0], [1.0, 0.1, 0.3], [1.8, 0.9, 1.2], [1.2, 1.8, 2.4],
                       [0.2, 1.3, -2.6]])
POSE_EDGES = {"i": np.array([0, 1, 2, 3, 4, 0, 1]), "j": np.array([1, 2, 3, 4, 0, 2, 3])}
POSE_MEAS = np.stack([_se2_between(np, POSES_TRUE[i], POSES_TRUE[j])
                      for i, j in zip(POSE_EDGES["i"], POSE_EDGES["j"])])
POSES_INIT = POSES_TRUE + RNG.normal(size=POSES_TRUE.shape) * np.array([0.15, 0.15, 0.1])


def pose_graph_residuals(np_, T, flat, edges, meas, anchor):
    poses = np_.reshape(flat, (-1, 3))

    def one(e):
        pred = _se2_between(np_, np_.take(poses, e["i"], axis=0), np_.take(poses, e["j"], axis=0))
        d = pred - e["meas"]
        return np_.concat([d[:2], np_.arctan2(np_.sin(d[2:]), np_.cos(d[2:]))])
    r = T.vmap(one, in_axes=({"i": 0, "j": 0, "meas": 0},))({**edges, "meas": meas})
    # the first pose anchored (gauge freedom)
    return np_.concat([np_.reshape(r, (-1,)), 10.0 * (poses[0, :] - anchor)])


def gauss_newton(np_, T, lax, flat0, edges, meas, iters):
    def body(k, flat):
        r = pose_graph_residuals(np_, T, flat, edges, meas, flat0[:3])
        J = T.jacfwd(pose_graph_residuals, argnums=2)(np_, T, flat, edges, meas, flat0[:3])
        return flat - np_.linalg.solve(np_.matmul(J.T, J), np_.matmul(J.T, r))
    return lax.fori_loop(0, iters, body, flat0)


def test_pose_graph_slam_gauss_newton_recovers_the_loop_as_jax(backend):
    jax = _jax()
    import jax.numpy as jnp
    edges = {k: backend.asarray(v, dtype="int64") for k, v in POSE_EDGES.items()}
    meas, flat0 = backend.asarray(POSE_MEAS), backend.asarray(POSES_INIT.ravel())
    solve = ft.jit(lambda f0, m: gauss_newton(fnp, ft, flax, f0, edges, m, 8))
    flat = backend.to_numpy(solve(flat0, meas))
    # noiseless measurements: the solution is the true loop moved rigidly onto pose 0's start
    anchor = flat0[:3]
    r_final = backend.to_numpy(pose_graph_residuals(fnp, ft, backend.asarray(flat), edges, meas,
                                                    anchor))
    np.testing.assert_allclose(r_final, 0.0, atol=1e-10)
    poses = flat.reshape(-1, 3)
    for i, j in zip(POSE_EDGES["i"], POSE_EDGES["j"]):
        rel = _se2_between(np, poses[i], poses[j])
        np.testing.assert_allclose(rel, _se2_between(np, POSES_TRUE[i], POSES_TRUE[j]),
                                   atol=1e-10)
    jflat = jax.jit(lambda f0, m: gauss_newton(jnp, jax, jax.lax, f0, _jnp(POSE_EDGES), m, 8))(
        jnp.asarray(POSES_INIT.ravel()), jnp.asarray(POSE_MEAS))
    np.testing.assert_allclose(flat, np.asarray(jflat), atol=1e-10)
    # the solution's sensitivity to the measurements by implicit differentiation: at a zero
    # residual d x* / d m = (J^T J)^-1 J^T (d r / d m) ... against jacfwd through the loop
    sens = backend.to_numpy(ft.jacfwd(lambda m: solve(flat0, m))(meas)).reshape(15, -1)
    x_star = backend.asarray(flat)
    J = backend.to_numpy(ft.jacfwd(pose_graph_residuals, argnums=2)(fnp, ft, x_star, edges, meas,
                                                                    anchor))
    Jm = backend.to_numpy(ft.jacfwd(lambda m: pose_graph_residuals(fnp, ft, x_star, edges, m,
                                                                   anchor))(meas))
    Jm = Jm.reshape(J.shape[0], -1)
    np.testing.assert_allclose(sens, -np.linalg.solve(J.T @ J, J.T @ Jm), atol=1e-8)


# -- causal top-k sparse attention: masks by where, the kept keys by lax.top_k --------------------

ATT_X = RNG.normal(size=(7, 8))
ATT_P = {"Wq": RNG.normal(size=(8, 2, 4)) / 3, "Wk": RNG.normal(size=(8, 2, 4)) / 3,
         "Wv": RNG.normal(size=(8, 2, 4)) / 3}


def topk_attention(np_, lax, p, x, k):
    """Two heads; each query attends to its k best-scoring earlier (or same) positions."""
    q = np_.einsum("td,dhe->hte", x, p["Wq"])
    kk = np_.einsum("td,dhe->hte", x, p["Wk"])
    v = np_.einsum("td,dhe->hte", x, p["Wv"])
    s = np_.einsum("hte,hse->hts", q, kk) / math.sqrt(q.shape[-1])
    # (the mask in s's library: a NumPy mask beside another library's arrays is refused)
    causal = np_.tril(np_.ones_like(s, dtype=bool))
    s = np_.where(causal, s, -np_.inf)
    thr = lax.top_k(s, k)[0][..., -1:]
    s = np_.where(s >= thr, s, -np_.inf)
    w = np_.exp(s - np_.max(s, axis=-1, keepdims=True))
    w = w / np_.sum(w, axis=-1, keepdims=True)
    return np_.einsum("hts,hse->the", w, v)


def test_causal_top_k_attention_against_a_dense_mask_and_jax(backend):
    jax = _jax()
    import jax.numpy as jnp
    import functrans.nn as fnn
    p, x = _on(backend, ATT_P), backend.asarray(ATT_X)
    # keeping every key is causal attention
    full = topk_attention(fnp, flax, p, x, 7)
    q, kk, v = (fnp.einsum("td,dhe->the", x, p[n]) for n in ("Wq", "Wk", "Wv"))
    ref = fnn.dot_product_attention(q, kk, v, is_causal=True)
    np.testing.assert_allclose(backend.to_numpy(full), backend.to_numpy(ref), atol=1e-14)
    # top 3: against the softmax over an index mask built by hand
    out = backend.to_numpy(topk_attention(fnp, flax, p, x, 3))
    qn, kn, vn = (np.einsum("td,dhe->hte", ATT_X, ATT_P[n]) for n in ("Wq", "Wk", "Wv"))
    for h in range(2):
        s = qn[h] @ kn[h].T / 2.0
        for t in range(7):
            keep = np.argsort(-s[t, :t + 1])[:3]
            w = np.exp(s[t, keep] - s[t, keep].max())
            np.testing.assert_allclose(out[t, h], (w / w.sum()) @ vn[h][keep], atol=1e-14)

    def loss(np_, lax, p, x):
        return np_.sum(topk_attention(np_, lax, p, x, 3) ** 2)
    want_v, want_g = jax.value_and_grad(lambda p: loss(jnp, jax.lax, p, jnp.asarray(ATT_X)))(
        _jnp(ATT_P))
    for fn in (ft.value_and_grad, lambda f: ft.jit(ft.value_and_grad(f))):
        val, g = fn(lambda p: loss(fnp, flax, p, x))(p)
        assert float(backend.to_numpy(val)) == pytest.approx(float(want_v), rel=1e-13)
        close(want_g, _np(backend, g), tol=1e-12)
    # a batch of sequences by vmap, and the input Jacobian (no gradient to the masked keys:
    # a later position never moves an earlier output)
    xs = backend.asarray(RNG.normal(size=(3, 7, 8)))
    bo = ft.vmap(lambda x: topk_attention(fnp, flax, p, x, 3))(xs)
    for i in range(3):
        np.testing.assert_allclose(backend.to_numpy(bo)[i],
                                   backend.to_numpy(topk_attention(fnp, flax, p, xs[i, ...], 3)),
                                   atol=1e-14)
    jac = backend.to_numpy(ft.jacrev(lambda x: topk_attention(fnp, flax, p, x, 3))(x))
    for t in range(7):
        assert np.all(jac[t, :, :, t + 1:, :] == 0.0)
    assert np.all(np.isfinite(jac))


# -- a Lotka-Volterra model with a neural correction through odeint: vmap over initial states -----

LV_P = {"a": 1.1, "b": 0.4, "c": 0.4, "d": 0.1, "W": np.array([[0.1, -0.2], [0.05, 0.0]])}
LV_T = np.linspace(0.0, 5.0, 6)
LV_Y0 = np.array([[10.0, 5.0], [8.0, 3.0], [4.0, 6.0]])


def lotka_volterra(np_, y, t, p):
    x, z = y[0], y[1]
    base = np_.stack([p["a"] * x - p["b"] * x * z, p["d"] * x * z - p["c"] * z])
    return np_.tanh(np_.matmul(p["W"], y)) * 0.1 + base


def test_lotka_volterra_odeint_invariant_and_gradients_by_vmap_over_initial_states(backend):
    jax = _jax()
    import jax.numpy as jnp
    from jax.experimental.ode import odeint as jodeint
    from functrans.ode import odeint
    p, ts, y0s = _on(backend, LV_P), backend.asarray(LV_T), backend.asarray(LV_Y0)
    tol = dict(rtol=1e-10, atol=1e-10)
    # without the correction, V = d x - c log x + b z - a log z is conserved
    p0 = {**p, "W": backend.asarray(np.zeros((2, 2)))}
    ys = backend.to_numpy(odeint(lambda y, t, p: lotka_volterra(fnp, y, t, p), y0s[0, ...], ts,
                                 p0, **tol))
    V = 0.1 * ys[:, 0] - 0.4 * np.log(ys[:, 0]) + 0.4 * ys[:, 1] - 1.1 * np.log(ys[:, 1])
    np.testing.assert_allclose(V, V[0], rtol=1e-8)

    def loss(np_, ode, p, y0, ts):
        ys = ode(lambda y, t, p: lotka_volterra(np_, y, t, p), y0, ts, p, **tol)
        return np_.sum(ys[-1] ** 2) + np_.sum(ys[:, 0])
    g = ft.jit(ft.vmap(ft.grad(lambda p, y0: loss(fnp, odeint, p, y0, ts)), in_axes=(None, 0)))(
        p, y0s)
    want = jax.vmap(jax.grad(lambda p, y0: loss(jnp, jodeint, p, y0, jnp.asarray(LV_T))),
                    in_axes=(None, 0))(_jnp(LV_P), jnp.asarray(LV_Y0))
    for name in LV_P:
        np.testing.assert_allclose(backend.to_numpy(g[name]), np.asarray(want[name]),
                                   rtol=1e-7, atol=1e-8)
    # the final state's Jacobian in the initial one: forward mode through the solver and the
    # adjoint agree; its determinant is exp of the integrated divergence along the path
    def final(y0):
        return odeint(lambda y, t, p: lotka_volterra(fnp, y, t, p), y0, ts, p0, **tol)[-1]
    Jf = backend.to_numpy(ft.jacfwd(final)(y0s[0, ...]))
    Jr = backend.to_numpy(ft.jacrev(final)(y0s[0, ...]))
    np.testing.assert_allclose(Jf, Jr, rtol=1e-7, atol=1e-9)
    # Liouville: d/dt log det = div f = a - b z + d x - c, integrated by the trapezoid rule on
    # a fine grid of the trajectory
    fine = np.linspace(0.0, 5.0, 2001)
    yf = backend.to_numpy(odeint(lambda y, t, p: lotka_volterra(fnp, y, t, p), y0s[0, ...],
                                 backend.asarray(fine), p0, **tol))
    div = 1.1 - 0.4 * yf[:, 1] + 0.1 * yf[:, 0] - 0.4
    integral = np.sum((div[1:] + div[:-1]) / 2 * np.diff(fine))
    assert np.log(np.linalg.det(Jf)) == pytest.approx(integral, abs=1e-5)
