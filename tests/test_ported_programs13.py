"""Programs that JAX users write, round 13, exercising the features of session 22 beside the
older ones, most written once as ``program(np_, T, lax, ...)`` so the same text runs on JAX
0.10.2 with x64 as the reference, and run on every backend of the ``backend`` fixture:

- a spectral Poisson solver by ``lax.fft`` (``FFT``/``IFFT`` and ``RFFT``/``IRFFT``): the
  closed-form solution, the solver's Jacobian (a circulant) against NumPy's FFT by hand.
- a von Mises mixture through ``ive``: SciPy's ``vonmises`` density, the gradient in the
  concentrations in closed form (the Bessel ratio I1/I0 weighted by responsibilities).
- per-example gradients by ``vmap(grad, chunk_size=)``: the logistic closed form, the same
  with and without chunks, under ``jit``.
- a bag-of-embeddings with padding ids past the table: ``.at[].get(mode="fill")`` pads with
  zeros, the scatter's default drops the padding, the default gather clamps (JAX's defaults).
- deduplicated sparse gradients by ``unique(size=, return_inverse=)`` under ``jit``, and
  ``unique(axis=0, size=)`` of an edge list.
- Gauss-Newton with pivoted QR: SciPy's ``least_squares`` optimum, the pivoting's properties,
  the fitted parameters' derivative in the data against the implicit function theorem.
- an MC-dropout ensemble by ``vmap(randomness="different")`` over ``functrans.numpy.random``:
  NumPy's draws in member order, ``"same"``, ``"error"``, and in chunks.
- keyframes of a rotation trajectory fitted through ``Slerp``: SciPy's interpolants, gradient
  descent, finite derivatives at the keyframes' own times (where JAX's are nan).
- the Voigt profile by the complex ``erf`` (the Faddeeva function): SciPy's
  ``voigt_profile``, derivatives through w'(z) = -2 z w + 2i/sqrt(pi).
- the Skellam likelihood through ``iv`` and ``ive``: SciPy's ``skellam``, the gradient by the
  Bessel recurrence, the MLE by Newton with ``hessian`` against Nelder-Mead.
- Bayesian optimisation: a GP's expected improvement, its gradient by ``jacfwd`` in closed
  form, gradient ascent to the next query.
- a spring network: pairwise differences by ``lax.sub`` of length-1 axes (lax broadcasts
  them, as JAX 0.10.2), lengths by ``vecdot(axis=-1)``, forces, the stiffness matrix and its
  rigid-motion null space.
- InfoNCE with ``vecdot`` along an axis: the gradient through the normalisation by hand.
- a neural ODE by ``functrans.ode.odeint`` with GELU as a ``lax.composite``: the damped
  rotation in closed form, adjoint gradients against JAX (whose 0.10.2 composite has no JVP
  rule: its reference runs the decomposition) and a central difference.
- Legendre regression: the design matrix from ``zeros(like=)`` filled by ``.at`` in a
  ``fori_loop`` under ``jit``, against ``legvander``/``legfit``; the Jacobian is the
  pseudo-inverse.
- DP-SGD: per-example gradients in chunks, clipped and averaged, under ``jit`` with a static
  chunk size.
- a weighted histogram by ``zeros(like=).at[bins].add``: bins past the range dropped by the
  scatter's default, against ``np.histogram``; the Jacobian in the weights is the bins'
  indicators.

Every reference is independent of functrans: a closed form, SciPy, NumPy by hand, central
differences (``check_grads``), or JAX 0.10.2 with x64 (computed once per module, not once per
backend). The code is written for this file.

Written the way the suite's backends need: array-api-strict's operators refuse a tracer on
their right (its issue #188), so a plain array never comes first in an operator beside a
tracer; constants are made in the inputs' library by ``like=`` from Python lists (``like=``
places Python data; a NumPy array given with it stays NumPy's, as documented). Documented
behaviour met on the way: ``.at`` exists on tracers and on the NumPy arrays
``functrans.numpy`` makes, not on a plain torch or array-api-strict array (those programs
run under ``jit``); ``functrans.numpy.random`` draws arrays of the default backend (the
dropout test sets it).
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
import scipy.optimize
import scipy.special
import scipy.stats

import functrans as ft
import functrans.lax as flax
import functrans.numpy as fnp
import functrans.scipy.linalg as fsl
import functrans.scipy.special as fsp
from functrans.testing import check_grads

from ._ported import _jax, _jnp, _np, _on, close

RNG = np.random.default_rng(13)


def _lse(np_, x, axis):
    m = np_.max(x, axis=axis, keepdims=True)
    return np_.squeeze(m, axis=axis) + np_.log(np_.sum(np_.exp(x - m), axis=axis))


# -- a spectral Poisson solver by lax.fft ---------------------------------------------------------

SP_N = 32
SP_X = 2 * np.pi * np.arange(SP_N) / SP_N
SP_K = np.fft.fftfreq(SP_N, 1 / SP_N)
SP_MULT = np.where(SP_K == 0, 0.0, -1.0 / np.where(SP_K == 0, 1.0, SP_K) ** 2)


def spectral(np_, lax):
    """u'' = f on the periodic interval (f of mean zero), by the complex and the real FFT."""
    def solve_c(f):
        fh = lax.fft(np_.astype(f, np_.complex128), "FFT", (SP_N,))
        uh = fh * np_.asarray(SP_MULT.tolist(), like=f)
        return np_.real(lax.fft(uh, "IFFT", (SP_N,)))

    def solve_r(f):
        fh = lax.fft(f, "RFFT", (SP_N,))
        uh = fh * np_.asarray(SP_MULT[: SP_N // 2 + 1].tolist(), like=f)
        return lax.fft(uh, "IRFFT", (SP_N,))
    return solve_c, solve_r


@functools.cache
def _spectral_jax():
    jax = _jax()
    import jax.numpy as jnp

    def np_like(a, like=None):
        return jnp.asarray(a)

    class J:  # jnp with a like= that JAX has no use for
        def __getattr__(self, n):
            return np_like if n == "asarray" else getattr(jnp, n)
    solve_c, solve_r = spectral(J(), jax.lax)
    f = jnp.asarray(np.sin(3 * SP_X) + np.cos(5 * SP_X))
    return (np.asarray(solve_c(f)), np.asarray(jax.jacrev(solve_c)(f)),
            np.asarray(jax.jacfwd(solve_r)(f)))


def test_spectral_poisson_by_lax_fft(backend):
    solve_c, solve_r = spectral(fnp, flax)
    f = backend.asarray(np.sin(3 * SP_X) + np.cos(5 * SP_X))
    want = -np.sin(3 * SP_X) / 9 - np.cos(5 * SP_X) / 25
    for solve in (solve_c, solve_r, ft.jit(solve_c), ft.jit(solve_r)):
        u = solve(f)
        assert backend.is_own(u)
        np.testing.assert_allclose(backend.to_numpy(u), want, atol=1e-13)
    # the solver is the circulant of the inverse Laplacian's symbol
    eye = np.eye(SP_N)
    circ = np.real(np.fft.ifft(np.fft.fft(eye, axis=0) * SP_MULT[:, None], axis=0))
    for jac in (ft.jacrev(solve_c), ft.jacfwd(solve_c), ft.jacrev(solve_r),
                ft.jit(ft.jacfwd(solve_r))):
        np.testing.assert_allclose(backend.to_numpy(jac(f)), circ, atol=1e-13)
    # batched right-hand sides
    F = backend.asarray(np.stack([np.sin(k * SP_X) for k in (1, 2, 4)]))
    np.testing.assert_allclose(backend.to_numpy(ft.vmap(solve_r)(F)),
                               np.stack([-np.sin(k * SP_X) / k ** 2 for k in (1, 2, 4)]),
                               atol=1e-13)
    u_j, jc_j, jr_j = _spectral_jax()
    close(u_j, backend.to_numpy(solve_c(f)), tol=1e-13)
    close(jc_j, backend.to_numpy(ft.jacrev(solve_c)(f)), tol=1e-13)
    close(jr_j, backend.to_numpy(ft.jacfwd(solve_r)(f)), tol=1e-13)


# -- a von Mises mixture through ive -------------------------------------------------------------

VM_X = np.concatenate([RNG.vonmises(0.5, 4.0, 30), RNG.vonmises(-2.0, 1.5, 20)])
VM_MU = np.array([0.4, -1.9])
VM_LOGW = np.log(np.array([0.6, 0.4]))
VM_KAPPA = np.array([3.5, 1.2])


def vm_loglik(np_, log_i0e):
    """The mixture's log-likelihood; log I0(k) = log(ive(0, k)) + k keeps large k finite."""
    def loglik(kappa, mu, x):
        comp = (kappa * (np_.cos(np_.subtract(x[:, None], mu)) - 1.0) - np_.log(log_i0e(kappa))
                - float(np.log(2 * np.pi)))
        return np_.sum(_lse(np_, comp + np_.asarray(VM_LOGW.tolist(), like=x), axis=1))
    return loglik


@functools.cache
def _vm_jax():
    jax = _jax()
    import jax.numpy as jnp

    class J:
        def __getattr__(self, n):
            return (lambda a, like=None: jnp.asarray(a)) if n == "asarray" else getattr(jnp, n)
    f = vm_loglik(J(), jax.scipy.special.i0e)
    args = _jnp((VM_KAPPA, VM_MU, VM_X))
    return np.asarray(f(*args)), tuple(map(np.asarray, jax.grad(f, argnums=(0, 1))(*args)))


def test_von_mises_mixture_by_ive(backend):
    loglik = vm_loglik(fnp, lambda k: fsp.ive(0, k))
    kappa, mu, x = _on(backend, (VM_KAPPA, VM_MU, VM_X))
    dens = np.exp(VM_LOGW) * scipy.stats.vonmises.pdf(VM_X[:, None], VM_KAPPA, loc=VM_MU)
    np.testing.assert_allclose(backend.to_numpy(loglik(kappa, mu, x)),
                               np.log(dens.sum(1)).sum(), rtol=1e-13)
    # d/dk log I0(k) = I1(k) / I0(k), weighted by each point's responsibility
    resp = dens / dens.sum(1, keepdims=True)
    c = np.cos(VM_X[:, None] - VM_MU)
    ratio = scipy.special.ive(1, VM_KAPPA) / scipy.special.ive(0, VM_KAPPA)
    g_kappa = (resp * (c - ratio)).sum(0)
    g_mu = (resp * VM_KAPPA * np.sin(VM_X[:, None] - VM_MU)).sum(0)
    for gr in (ft.grad(loglik, argnums=(0, 1)), ft.jit(ft.grad(loglik, argnums=(0, 1)))):
        gk, gm = gr(kappa, mu, x)
        np.testing.assert_allclose(backend.to_numpy(gk), g_kappa, rtol=1e-11)
        np.testing.assert_allclose(backend.to_numpy(gm), g_mu, rtol=1e-11)
    check_grads(lambda k, m: loglik(k, m, x), (kappa, mu), order=2)
    v_j, g_j = _vm_jax()
    close(v_j, backend.to_numpy(loglik(kappa, mu, x)), tol=1e-11)
    close(g_j, _np(backend, ft.grad(loglik, argnums=(0, 1))(kappa, mu, x)), tol=1e-10)
    # large concentrations stay finite where exp(k) I0 would overflow
    big = backend.asarray(np.array([800.0, 900.0]))
    assert np.isfinite(backend.to_numpy(ft.grad(loglik)(big, mu, x))).all()


# -- per-example gradients by vmap(grad, chunk_size=) ----------------------------------------------

PE_X = RNG.normal(size=(11, 4))
PE_Y = (RNG.uniform(size=11) < 0.5).astype(np.float64)
PE_W = RNG.normal(size=4)


def logistic_loss(np_, w, x, y):
    z = np_.vecdot(w, x)
    return np_.logaddexp(0.0, z) - z * y


@functools.cache
def _per_example_jax():
    jax = _jax()
    import jax.numpy as jnp
    g = jax.vmap(jax.grad(functools.partial(logistic_loss, jnp)), in_axes=(None, 0, 0))
    return np.asarray(g(*_jnp((PE_W, PE_X, PE_Y))))


def test_per_example_gradients_in_chunks(backend):
    loss = functools.partial(logistic_loss, fnp)
    w, x, y = _on(backend, (PE_W, PE_X, PE_Y))
    want = (scipy.special.expit(PE_X @ PE_W) - PE_Y)[:, None] * PE_X
    whole = ft.vmap(ft.grad(loss), in_axes=(None, 0, 0))(w, x, y)
    np.testing.assert_allclose(backend.to_numpy(whole), want, atol=1e-14)
    for chunk in (1, 3, 4, 11, 50):
        g = ft.vmap(ft.grad(loss), in_axes=(None, 0, 0), chunk_size=chunk)(w, x, y)
        assert backend.is_own(g)
        np.testing.assert_allclose(backend.to_numpy(g), want, atol=1e-14)
    jitted = ft.jit(ft.vmap(ft.grad(loss), in_axes=(None, 0, 0), chunk_size=4))
    np.testing.assert_allclose(backend.to_numpy(jitted(w, x, y)), want, atol=1e-14)
    # the mean of the per-example gradients is the batch gradient
    batch = ft.grad(lambda w: fnp.mean(loss(w, x, y)))(w)
    np.testing.assert_allclose(backend.to_numpy(batch), want.mean(0), atol=1e-14)
    # per-example Hessians in chunks: sigma (1 - sigma) x x^T
    s = scipy.special.expit(PE_X @ PE_W)
    H = ft.vmap(ft.hessian(loss), in_axes=(None, 0, 0), chunk_size=5)(w, x, y)
    np.testing.assert_allclose(backend.to_numpy(H),
                               (s * (1 - s))[:, None, None] * PE_X[:, :, None] * PE_X[:, None],
                               atol=1e-14)
    close(_per_example_jax(), backend.to_numpy(whole), tol=1e-14)
    with pytest.raises((ValueError, TypeError), match="chunk_size"):
        ft.vmap(ft.grad(loss), in_axes=(None, 0, 0), chunk_size=0)(w, x, y)


# -- a bag of embeddings with padding ids past the table: JAX's .at defaults ---------------------

EB_V, EB_D = 6, 3
EB_TABLE = RNG.normal(size=(EB_V, EB_D))
EB_IDS = np.array([[0, 2, 2, 6, 6], [5, -1, 1, 6, 6], [3, 3, 3, 3, 0], [4, 6, 6, 6, 6]])
EB_TARGET = RNG.normal(size=(4, EB_D))
EB_LR = 0.1


def embedding_bag(np_, ids):
    """Mean of each bag's embeddings, padding id EB_V (past the table) read as zeros; the
    SGD step scatters each token's gradient, the padding tokens' dropped by the default."""
    count = np_.sum(ids != EB_V, axis=1)[:, None]

    def loss(table):
        emb = np_.asarray(table).at[ids].get(mode="fill", fill_value=0.0)
        pooled = np_.sum(emb, axis=1) / count
        return np_.sum(pooled * np_.asarray(EB_TARGET.tolist(), like=table))

    def sgd(table):
        # the per-token gradient, as a sparse update would send it
        tok = np_.broadcast_to(np_.asarray(EB_TARGET.tolist(), like=table)[:, None]
                               / count[..., None], ids.shape + (EB_D,))
        return np_.asarray(table).at[np_.reshape(ids, (-1,))].add(
            -EB_LR * np_.reshape(tok, (-1, EB_D)))

    def clamped(table):
        return np_.asarray(table).at[ids].get()  # JAX's default for a gather: clamp into range
    return loss, sgd, clamped


@functools.cache
def _embedding_jax():
    jax = _jax()
    import jax.numpy as jnp

    class J:
        def __getattr__(self, n):
            return (lambda a, like=None: jnp.asarray(a)) if n == "asarray" else getattr(jnp, n)
    loss, sgd, clamped = embedding_bag(J(), jnp.asarray(EB_IDS))
    t = jnp.asarray(EB_TABLE)
    return tuple(np.asarray(v) for v in (loss(t), jax.grad(loss)(t), sgd(t), clamped(t)))


def test_embedding_bag_with_padding_past_the_table(backend):
    ids = backend.asarray(EB_IDS, dtype="int64")
    loss, sgd, clamped = embedding_bag(fnp, ids)
    # (a plain table has .at only where functrans.numpy made it: on every library, under jit)
    eager = backend.name == "numpy" and backend.device is None
    table = backend.asarray(EB_TABLE)
    # by hand: each real token's row gets its bag's target over the bag's size
    count = (EB_IDS != EB_V).sum(1)
    want_g = np.zeros_like(EB_TABLE)
    for b in range(4):
        for i in EB_IDS[b]:
            if i != EB_V:
                want_g[i] += EB_TARGET[b] / count[b]
    want_loss = sum((EB_TABLE[[i for i in EB_IDS[b] if i != EB_V]].sum(0) / count[b]
                     * EB_TARGET[b]).sum() for b in range(4))
    for f in (loss, ft.jit(loss))[1 - eager:]:
        np.testing.assert_allclose(backend.to_numpy(f(table)), want_loss, rtol=1e-13)
    for g in (ft.grad(loss), ft.jit(ft.grad(loss))):
        np.testing.assert_allclose(backend.to_numpy(g(table)), want_g, atol=1e-14)
    # the scatter drops the padding tokens: the sparse step is the dense one
    for step in (sgd, ft.jit(sgd))[1 - eager:]:
        new = step(table)
        assert backend.is_own(new)
        np.testing.assert_allclose(backend.to_numpy(new), EB_TABLE - EB_LR * want_g,
                                   atol=1e-14)
    np.testing.assert_array_equal(backend.to_numpy(table), EB_TABLE)  # not written to
    # the gather's default clamps the padding onto the last row
    np.testing.assert_array_equal(backend.to_numpy(ft.jit(clamped)(table)),
                                  EB_TABLE[np.clip(EB_IDS, -EB_V, EB_V - 1)])
    # mode="clip" on the scatter sends the padding to the last row instead
    ones = backend.asarray(np.ones((EB_IDS.size, EB_D)))
    flat = fnp.reshape(ids, (-1,))
    clip = ft.jit(lambda t, i, u: t.at[i].add(u, mode="clip"))(table, flat, ones)
    want = EB_TABLE.copy()
    np.add.at(want, np.clip(EB_IDS.reshape(-1), -EB_V, EB_V - 1), 1.0)
    np.testing.assert_allclose(backend.to_numpy(clip), want, atol=1e-14)
    # the scatter's gradient in the updates: zero for the dropped tokens
    gu = ft.grad(lambda u: fnp.sum(fnp.asarray(table).at[flat].add(u) ** 2))(ones)
    dropped = EB_IDS.reshape(-1) == EB_V
    assert np.all(backend.to_numpy(gu)[dropped] == 0)
    assert np.all(backend.to_numpy(gu)[~dropped] != 0)
    want_j = _embedding_jax()
    close(want_j, (backend.to_numpy(ft.jit(loss)(table)),
                   backend.to_numpy(ft.grad(loss)(table)), backend.to_numpy(ft.jit(sgd)(table)),
                   backend.to_numpy(ft.jit(clamped)(table))), tol=1e-13)


# -- deduplicated sparse gradients by unique(size=) under jit ------------------------------------

DD_IDS = np.array([4, 1, 4, 0, 1, 4, 2, 0])
DD_K = 6  # room for more unique ids than there are: the rest is fill (past the table)


def dedup_update(np_, table, ids, grads):
    """Sum the gradients of repeated ids first (one row update per unique id), as sparse
    optimisers do; the fill ids are past the table, so their (zero) rows are dropped."""
    uniq, inv = np_.unique(ids, size=DD_K, fill_value=EB_V, return_inverse=True)
    summed = np_.zeros((DD_K, EB_D), like=grads).at[np_.reshape(inv, (-1,))].add(grads)
    return np_.asarray(table).at[uniq].add(-EB_LR * summed), uniq, summed


@functools.cache
def _dedup_jax():
    jax = _jax()
    import jax.numpy as jnp

    class J:
        def __getattr__(self, n):
            return ((lambda s, like=None: jnp.zeros(s)) if n == "zeros" else getattr(jnp, n))
    grads = np.arange(DD_IDS.size * EB_D, dtype=float).reshape(-1, EB_D) / 10
    out = jax.jit(functools.partial(dedup_update, J()))(*_jnp((EB_TABLE, DD_IDS, grads)))
    return tuple(map(np.asarray, out))


def test_dedup_gradients_by_unique_with_size_under_jit(backend):
    grads_np = np.arange(DD_IDS.size * EB_D, dtype=float).reshape(-1, EB_D) / 10
    table, grads = _on(backend, (EB_TABLE, grads_np))
    ids = backend.asarray(DD_IDS, dtype="int64")
    eager = backend.name == "numpy" and backend.device is None
    want_u = np.full(DD_K, EB_V)
    u = np.unique(DD_IDS)
    want_u[: u.size] = u
    want_s = np.zeros((DD_K, EB_D))
    for k, i in enumerate(u):
        want_s[k] = grads_np[DD_IDS == i].sum(0)
    dense = EB_TABLE.copy()
    np.add.at(dense, DD_IDS, -EB_LR * grads_np)
    for f in (functools.partial(dedup_update, fnp),
              ft.jit(functools.partial(dedup_update, fnp)))[1 - eager:]:
        new, uniq, summed = f(table, ids, grads)
        assert backend.is_own(new) and backend.is_own(summed)
        np.testing.assert_array_equal(backend.to_numpy(uniq), want_u)
        np.testing.assert_allclose(backend.to_numpy(summed), want_s, atol=1e-14)
        np.testing.assert_allclose(backend.to_numpy(new), dense, atol=1e-14)
    # differentiable in the gradients: each row of the update its id's count of -lr
    J = ft.jacrev(lambda g: dedup_update(fnp, table, ids, g)[0])(grads)
    np.testing.assert_allclose(backend.to_numpy(J).sum(axis=(1, 3)).sum(1),
                               [-EB_LR * EB_D * np.sum(DD_IDS == v) for v in range(EB_V)],
                               atol=1e-14)
    close(_dedup_jax(), _np(backend, ft.jit(functools.partial(dedup_update, fnp))(
        table, ids, grads)), tol=1e-14)
    # unique rows of an edge list, padded to a static size under jit
    edges = backend.asarray([[0, 1], [2, 3], [0, 1], [1, 0], [2, 3]], dtype="int64")
    rows, inv = ft.jit(lambda e: fnp.unique(e, axis=0, size=5, fill_value=-1,
                                            return_inverse=True))(edges)
    np.testing.assert_array_equal(backend.to_numpy(rows),
                                  [[0, 1], [1, 0], [2, 3], [-1, -1], [-1, -1]])
    np.testing.assert_array_equal(backend.to_numpy(inv).reshape(-1), [0, 2, 0, 1, 2])


# -- Gauss-Newton with pivoted QR ---------------------------------------------------------------

GN_T = np.linspace(0.0, 4.0, 20)
GN_Y = 2.5 * np.exp(-1.3 * GN_T) + 0.4 + 0.01 * RNG.normal(size=GN_T.size)
GN_THETA0 = np.array([1.0, 1.0, 0.0])


def gauss_newton(np_, T, lax, qr, solve_triangular, steps=15):
    """Fit a exp(-b t) + c; each step solves the linearised least squares by QR with column
    pivoting (R's diagonal non-increasing: the rank-revealing factorisation)."""
    def residual(theta, y):
        t = np_.asarray(GN_T.tolist(), like=y)
        return np_.subtract(np_.multiply(theta[0], np_.exp(np_.multiply(-theta[1], t)))
                            + theta[2], y)

    def step(theta, y):
        r = residual(theta, y)
        J = T.jacfwd(residual)(theta, y)
        Q, R, P = qr(J, mode="economic", pivoting=True)
        z = solve_triangular(R, -np_.matmul(np_.matrix_transpose(Q), r))
        # (a plain array of torch or array-api-strict has no .at: undo the pivoting by a
        # gather, not JAX's zeros_like(z).at[P].set(z))
        return np_.add(theta, np_.take(z, np_.argsort(P)))

    def fit(y, theta0):
        return lax.fori_loop(0, steps, lambda i, th: step(th, y), theta0)
    return fit, residual


@functools.cache
def _gn_jax():
    jax = _jax()
    import jax.numpy as jnp

    class J:
        def __getattr__(self, n):
            return (lambda a, like=None: jnp.asarray(a)) if n == "asarray" else getattr(jnp, n)
    fit, _ = gauss_newton(J(), jax, jax.lax, jax.scipy.linalg.qr,
                          jax.scipy.linalg.solve_triangular)
    return np.asarray(jax.jit(fit)(*_jnp((GN_Y, GN_THETA0))))


def test_gauss_newton_with_pivoted_qr(backend):
    fit, residual = gauss_newton(fnp, ft, flax, fsl.qr, fsl.solve_triangular)
    y, theta0 = _on(backend, (GN_Y, GN_THETA0))
    ref = scipy.optimize.least_squares(
        lambda th: th[0] * np.exp(-th[1] * GN_T) + th[2] - GN_Y, GN_THETA0,
        xtol=1e-15, ftol=1e-15, gtol=1e-15).x
    for f in (fit, ft.jit(fit)):
        theta = f(y, theta0)
        assert backend.is_own(theta)
        np.testing.assert_allclose(backend.to_numpy(theta), ref, rtol=1e-9)
    # the factorisation: J[:, P] = Q R with |diag R| non-increasing, Q orthonormal
    J = ft.jacfwd(residual)(backend.asarray(ref), y)
    Q, R, P = fsl.qr(J, mode="economic", pivoting=True)
    Jn, Qn, Rn, Pn = (backend.to_numpy(a) for a in (J, Q, R, P))
    np.testing.assert_allclose(Qn @ Rn, Jn[:, Pn], atol=1e-13)
    np.testing.assert_allclose(Qn.T @ Qn, np.eye(3), atol=1e-13)
    assert np.all(np.diff(np.abs(np.diag(Rn))) <= 0)
    np.testing.assert_array_equal(np.sort(Pn), [0, 1, 2])
    # the fitted parameters' derivative in the data, through the unrolled steps, against the
    # implicit function theorem on J^T r = 0 (with the residuals' second derivatives)
    D = backend.to_numpy(ft.jacrev(fit)(y, backend.asarray(ref)))
    a, b, _ = ref
    e = np.exp(-b * GN_T)
    r = a * e + ref[2] - GN_Y
    Jr = np.stack([e, -a * GN_T * e, np.ones_like(e)], axis=1)
    H = Jr.T @ Jr
    H[0, 1] += np.sum(r * -GN_T * e)
    H[1, 0] += np.sum(r * -GN_T * e)
    H[1, 1] += np.sum(r * a * GN_T ** 2 * e)
    np.testing.assert_allclose(D, np.linalg.solve(H, Jr.T), atol=1e-9)
    close(_gn_jax(), backend.to_numpy(fit(y, theta0)), tol=1e-10)


# -- an MC-dropout ensemble by vmap(randomness="different") ---------------------------------------

DO_H, DO_D, DO_M, DO_KEEP = 5, 3, 6, 0.7
DO_W = RNG.normal(size=(DO_H, DO_D))
DO_V = RNG.normal(size=DO_H)
DO_X = RNG.normal(size=DO_D)


def dropout_net(W, v, x):
    import functrans.numpy.random as npr
    mask = npr.uniform(size=DO_H) < DO_KEEP
    h = fnp.multiply(fnp.tanh(W @ x), fnp.astype(mask, fnp.float64)) / DO_KEEP
    return fnp.vecdot(v, h)


def test_mc_dropout_ensemble_draws_per_member(backend):
    import functrans.numpy.random as npr
    if backend.device is not None:
        pytest.skip("functrans.numpy.random draws on the default device of a library")
    W, v, x = _on(backend, (DO_W, DO_V, DO_X))
    members = fnp.zeros(DO_M, like=x)

    def ensemble(v, randomness):
        return ft.vmap(lambda _: dropout_net(W, v, x), randomness=randomness)(members)
    h = np.tanh(DO_W @ DO_X)
    with ft.default_backend(backend.name):
        npr.seed(7)
        preds = ensemble(v, "different")
        assert backend.is_own(preds)
        np.random.seed(7)  # the numbers of a loop over the members, in member order
        masks = np.random.uniform(size=(DO_M, DO_H)) < DO_KEEP
        np.testing.assert_allclose(backend.to_numpy(preds), masks @ (DO_V * h) / DO_KEEP,
                                   atol=1e-14)
        assert len({tuple(m) for m in masks}) > 1  # the members did differ
        # the ensemble mean's gradient in v: each member's kept units, averaged
        npr.seed(7)
        g = ft.grad(lambda v: fnp.mean(ensemble(v, "different")))(v)
        np.testing.assert_allclose(backend.to_numpy(g), masks.mean(0) * h / DO_KEEP,
                                   atol=1e-14)
        # "same": one draw serves every member
        npr.seed(7)
        same = backend.to_numpy(ensemble(v, "same"))
        np.testing.assert_allclose(same, np.full(DO_M, (masks[0] * DO_V * h).sum() / DO_KEEP),
                                   atol=1e-14)
        with pytest.raises(Exception, match="randomness"):
            ensemble(v, "error")
        # chunks draw in the same member order
        npr.seed(7)
        chunked = ft.vmap(lambda _: dropout_net(W, v, x), randomness="different",
                          chunk_size=4)(members)
        np.testing.assert_allclose(backend.to_numpy(chunked), backend.to_numpy(preds),
                                   atol=1e-14)


# -- fitting keyframes of a rotation trajectory through Slerp ------------------------------------

SL_TIMES = np.array([0.0, 1.0, 3.0])
SL_KEYS = np.array([[0.05, -0.02, 0.01], [0.3, 0.1, -0.2], [1.0, 0.5, 0.2]])
SL_TRUE = SL_KEYS + 0.2 * RNG.normal(size=SL_KEYS.shape)
# (no sample at a keyframe's time: there JAX 0.10.2's gradient is nan, through from_rotvec
# of a zero vector, where functrans's is finite; checked below)
SL_T = np.array([0.1, 0.4, 0.9, 1.5, 2.2, 2.9])


def slerp_fit(np_, Rotation, make_slerp):
    """The keyframes' rotation vectors fitted to target quaternions at sample times, with the
    sign-invariant distance 1 - <q, q_target>^2."""
    def quats(rv):
        s = make_slerp(np_.asarray(SL_TIMES.tolist(), like=rv), Rotation.from_rotvec(rv))
        return s(np_.asarray(SL_T.tolist(), like=rv)).as_quat()

    def loss(rv, target):
        return np_.sum(1.0 - np_.sum(quats(rv) * target, axis=-1) ** 2)
    return quats, loss


@functools.cache
def _slerp_jax():
    jax = _jax()
    import jax.numpy as jnp
    from jax.scipy.spatial.transform import Rotation, Slerp

    class J:
        def __getattr__(self, n):
            return (lambda a, like=None: jnp.asarray(a)) if n == "asarray" else getattr(jnp, n)
    quats, loss = slerp_fit(J(), Rotation, Slerp.init)
    tq = quats(jnp.asarray(SL_TRUE))
    rv = jnp.asarray(SL_KEYS)
    return np.asarray(quats(rv)), np.asarray(loss(rv, tq)), np.asarray(jax.grad(loss)(rv, tq))


def test_rotation_trajectory_fit_through_slerp(backend):
    import scipy.spatial.transform as sst

    from functrans.scipy.spatial.transform import Rotation, Slerp
    quats, loss = slerp_fit(fnp, Rotation, Slerp)
    rv = backend.asarray(SL_KEYS)
    want_q = sst.Slerp(SL_TIMES, sst.Rotation.from_rotvec(SL_KEYS))(SL_T).as_quat()
    want_t = sst.Slerp(SL_TIMES, sst.Rotation.from_rotvec(SL_TRUE))(SL_T).as_quat()
    q = backend.to_numpy(quats(rv))
    # (the sign of a quaternion is free: compare q q^T)
    np.testing.assert_allclose(q[:, :, None] * q[:, None], want_q[:, :, None] * want_q[:, None],
                               atol=1e-13)
    target = backend.asarray(want_t)
    np.testing.assert_allclose(backend.to_numpy(loss(rv, target)),
                               np.sum(1 - np.sum(want_q * want_t, -1) ** 2), atol=1e-13)
    check_grads(lambda r: loss(r, target), (rv,), order=1)
    # gradient descent lowers the loss and reaches the true keyframes' fit
    step = ft.jit(lambda r: r - 0.5 * ft.grad(loss)(r, target))
    losses = []
    for _ in range(60):
        losses.append(float(backend.to_numpy(loss(rv, target))))
        rv = step(rv)
    assert all(b <= a + 1e-15 for a, b in zip(losses, losses[1:]))
    assert losses[-1] < 1e-6 * losses[0]
    q_j, l_j, g_j = _slerp_jax()
    rv0, tq = backend.asarray(SL_KEYS), backend.asarray(np.asarray(
        _slerp_jax_target()))
    close(l_j, backend.to_numpy(loss(rv0, tq)), tol=1e-12)
    close(g_j, backend.to_numpy(ft.grad(loss)(rv0, tq)), tol=1e-11)
    # at the keyframes' own times the derivative is finite (JAX's nan) and is the keyframe's
    at_keys = ft.jacrev(lambda r: Slerp(fnp.asarray(SL_TIMES.tolist(), like=r),
                                        Rotation.from_rotvec(r))(
        fnp.asarray(SL_TIMES.tolist(), like=r)).as_rotvec())(rv0)
    np.testing.assert_allclose(backend.to_numpy(at_keys),
                               np.eye(3)[:, None, :, None] * np.eye(3)[None, :, None, :],
                               atol=1e-12)
    qq = backend.to_numpy(quats(rv0))
    np.testing.assert_allclose(qq[:, :, None] * qq[:, None], q_j[:, :, None] * q_j[:, None],
                               atol=1e-13)


@functools.cache
def _slerp_jax_target():
    _jax()
    import jax.numpy as jnp
    from jax.scipy.spatial.transform import Rotation, Slerp
    return np.asarray(Slerp.init(jnp.asarray(SL_TIMES), Rotation.from_rotvec(
        jnp.asarray(SL_TRUE)))(jnp.asarray(SL_T)).as_quat())


# -- the Voigt profile by the complex erf (the Faddeeva function) ---------------------------------

VG_X = np.linspace(-3.0, 3.0, 13)
VG_SIGMA, VG_GAMMA = 0.8, 0.5


def voigt(x, gamma, sigma=VG_SIGMA):
    """Re w(z) / (sigma sqrt(2 pi)), z = (x + i gamma) / (sigma sqrt 2), where the Faddeeva
    function w(z) = exp(-z^2) erfc(-i z) = exp(-z^2) (1 + erf(i z))."""
    z = fnp.add(x, 1j * gamma) / float(sigma * np.sqrt(2.0))
    w = fnp.exp(-z * z) * (1.0 + fsp.erf(1j * z))
    return fnp.real(w) / (sigma * float(np.sqrt(2 * np.pi)))


def test_voigt_profile_by_complex_erf(backend):
    x, gamma = backend.asarray(VG_X), backend.asarray(VG_GAMMA)
    want = scipy.special.voigt_profile(VG_X, VG_SIGMA, VG_GAMMA)
    for f in (voigt, ft.jit(voigt)):
        out = f(x, gamma)
        assert backend.is_own(out)
        np.testing.assert_allclose(backend.to_numpy(out), want, rtol=1e-12)
    # w'(z) = -2 z w(z) + 2 i / sqrt(pi), through the chain rule into x and gamma
    s2 = VG_SIGMA * np.sqrt(2.0)
    z = (VG_X + 1j * VG_GAMMA) / s2
    w = scipy.special.wofz(z)
    dw = -2 * z * w + 2j / np.sqrt(np.pi)
    norm = VG_SIGMA * np.sqrt(2 * np.pi)
    dx = ft.vmap(ft.grad(voigt), in_axes=(0, None))(x, gamma)
    np.testing.assert_allclose(backend.to_numpy(dx), np.real(dw) / s2 / norm, atol=1e-12)
    dg = ft.jacfwd(voigt, argnums=1)(x, gamma)
    np.testing.assert_allclose(backend.to_numpy(dg), np.real(1j * dw) / s2 / norm, atol=1e-12)
    # as gamma -> 0 the Gaussian
    np.testing.assert_allclose(backend.to_numpy(voigt(x, backend.asarray(1e-12))),
                               scipy.stats.norm.pdf(VG_X, scale=VG_SIGMA), atol=1e-11)
    check_grads(voigt, (x, gamma), order=2)


# -- the Skellam distribution through iv and ive ---------------------------------------------------

SK_K = np.array([-4, -1, 0, 0, 2, 3, 1, -2, 5, 0])
SK_MU = np.array([2.5, 1.7])


def skellam_loglik(mu, k, scaled=True):
    """log pmf(k) = -(mu1 + mu2) + k/2 log(mu1/mu2) + log I_|k|(2 sqrt(mu1 mu2)); by the
    exponentially scaled ive (log I = log ive + s) or by iv itself."""
    s = 2.0 * fnp.sqrt(mu[0] * mu[1])
    kf = fnp.astype(k, fnp.float64)
    logi = fnp.log(fsp.ive(fnp.abs(kf), s)) + s if scaled else fnp.log(fsp.iv(fnp.abs(kf), s))
    return fnp.sum(logi + fnp.multiply(kf, 0.5 * fnp.log(mu[0] / mu[1])) - (mu[0] + mu[1]))


def test_skellam_likelihood_through_iv_and_ive(backend):
    mu, k = backend.asarray(SK_MU), backend.asarray(SK_K, dtype="int64")
    want = scipy.stats.skellam.logpmf(SK_K, SK_MU[0], SK_MU[1]).sum()
    for f in (skellam_loglik, functools.partial(skellam_loglik, scaled=False),
              ft.jit(skellam_loglik)):
        np.testing.assert_allclose(backend.to_numpy(f(mu, k)), want, rtol=1e-12)
    # I_k'(s) = (I_{k-1}(s) + I_{k+1}(s)) / 2
    m1, m2 = SK_MU
    s = 2 * np.sqrt(m1 * m2)
    a = np.abs(SK_K)
    ratio = (scipy.special.iv(a - 1, s) + scipy.special.iv(a + 1, s)) / 2 / scipy.special.iv(a, s)
    want_g = np.array([np.sum(-1 + SK_K / (2 * m1) + ratio * np.sqrt(m2 / m1)),
                       np.sum(-1 - SK_K / (2 * m2) + ratio * np.sqrt(m1 / m2))])
    for scaled in (True, False):
        g = ft.grad(skellam_loglik)(mu, k, scaled)
        np.testing.assert_allclose(backend.to_numpy(g), want_g, rtol=1e-11)
    check_grads(lambda m: skellam_loglik(m, k), (mu,), order=2)
    # the maximum-likelihood rates: mu1 - mu2 is the sample mean, mu1 + mu2 the variance's
    # moment match is not the MLE; Newton from the moments reaches where the gradient is zero
    m = backend.asarray([SK_K.mean() + 2.0, 2.0])
    for _ in range(20):
        m = m - fnp.linalg.solve(ft.hessian(skellam_loglik)(m, k), ft.grad(skellam_loglik)(m, k))
    m_np = backend.to_numpy(m)
    np.testing.assert_allclose(m_np[0] - m_np[1], SK_K.mean(), atol=1e-10)
    ref = scipy.optimize.minimize(lambda p: -scipy.stats.skellam.logpmf(SK_K, *p).sum(),
                                  m_np + 0.1, method="Nelder-Mead",
                                  options=dict(xatol=1e-10, fatol=1e-14, maxiter=4000)).x
    np.testing.assert_allclose(m_np, ref, atol=1e-6)


# -- Bayesian optimisation: a GP's expected improvement and its gradient by jacfwd ----------------

BO_X = np.array([-1.6, -0.9, -0.2, 0.4, 1.1, 1.7])
BO_Y = np.sin(3 * BO_X) + 0.3 * BO_X
BO_ELL, BO_NOISE = 0.6, 1e-6
BO_Q = np.linspace(-1.8, 1.8, 9)


def expected_improvement(np_, ndtr):
    """EI for minimisation under a zero-mean GP with an RBF kernel, at query points."""
    def k(a, b):
        return np_.exp(-0.5 * (a[:, None] - b[None, :]) ** 2 / BO_ELL ** 2)

    def ei(q, X, y):
        K = np_.add(k(X, X), BO_NOISE * np_.eye(X.shape[0], like=X))
        Ks = k(q, X)
        alpha = np_.linalg.solve(K, y)
        mu = Ks @ alpha
        v = np_.linalg.solve(K, np_.matrix_transpose(Ks))
        sd = np_.sqrt(1.0 - np_.sum(Ks * np_.matrix_transpose(v), axis=1))
        d = np_.subtract(np_.min(y), mu)
        u = d / sd
        pdf = np_.exp(-0.5 * u * u) / float(np.sqrt(2 * np.pi))
        return d * ndtr(u) + sd * pdf
    return ei


@functools.cache
def _ei_jax():
    jax = _jax()
    import jax.numpy as jnp
    class J:
        def __getattr__(self, n):
            return (lambda k, like=None: jnp.eye(k)) if n == "eye" else getattr(jnp, n)
    ei = expected_improvement(J(), jax.scipy.special.ndtr)
    args = _jnp((BO_Q, BO_X, BO_Y))
    return np.asarray(ei(*args)), np.asarray(jnp.diagonal(jax.jacfwd(ei)(*args)))


def test_gp_expected_improvement_and_its_gradient(backend):
    ei = expected_improvement(fnp, fsp.ndtr)
    q, X, y = _on(backend, (BO_Q, BO_X, BO_Y))
    # by hand: the posterior, EI = d Phi(u) + sd phi(u), and its derivative through mu, sd
    k = lambda a, b: np.exp(-0.5 * (a[:, None] - b[None]) ** 2 / BO_ELL ** 2)  # noqa: E731
    K = k(BO_X, BO_X) + BO_NOISE * np.eye(BO_X.size)
    Ks = k(BO_Q, BO_X)
    dKs = -Ks * (BO_Q[:, None] - BO_X[None]) / BO_ELL ** 2
    mu = Ks @ np.linalg.solve(K, BO_Y)
    Kinv_Ks = np.linalg.solve(K, Ks.T)
    sd = np.sqrt(1 - np.sum(Ks * Kinv_Ks.T, 1))
    dmu = dKs @ np.linalg.solve(K, BO_Y)
    dsd = -np.sum(dKs * Kinv_Ks.T, 1) / sd
    d = BO_Y.min() - mu
    u = d / sd
    want = d * scipy.stats.norm.cdf(u) + sd * scipy.stats.norm.pdf(u)
    want_g = -scipy.stats.norm.cdf(u) * dmu + scipy.stats.norm.pdf(u) * dsd
    for f in (ei, ft.jit(ei)):
        out = f(q, X, y)
        assert backend.is_own(out)
        np.testing.assert_allclose(backend.to_numpy(out), want, rtol=1e-10)
    J = ft.jacfwd(ei)(q, X, y)  # diagonal: each query's EI depends on itself only
    Jn = backend.to_numpy(J)
    np.testing.assert_allclose(np.diagonal(Jn), want_g, rtol=1e-8, atol=1e-12)
    np.testing.assert_array_equal(Jn - np.diag(np.diagonal(Jn)), 0.0)
    g = ft.vmap(ft.grad(lambda x: ei(x[None], X, y)[0]))(q)
    np.testing.assert_allclose(backend.to_numpy(g), want_g, rtol=1e-8, atol=1e-12)
    # the next query: gradient ascent from the grid's best point reaches a stationary EI
    x0 = backend.asarray([BO_Q[np.argmax(want)]])
    step = ft.jit(lambda x: x + 0.05 * ft.grad(lambda x: ei(x, X, y)[0])(x))
    for _ in range(200):
        x0 = step(x0)
    gx = backend.to_numpy(ft.grad(lambda x: ei(x, X, y)[0])(x0))
    np.testing.assert_allclose(gx, 0.0, atol=1e-7)
    assert backend.to_numpy(ei(x0, X, y))[0] >= want.max()
    v_j, g_j = _ei_jax()
    close(v_j, backend.to_numpy(ei(q, X, y)), tol=1e-10)
    close(g_j, np.diagonal(Jn), tol=1e-9)


# -- a spring network: forces, the stiffness matrix, rigid motions (lax broadcasting) --

SN_P = np.array([[0.0, 0.0], [1.0, 0.1], [0.9, 1.2], [-0.1, 0.9], [0.5, 0.5]])
SN_EDGES = np.array([[0, 1], [1, 2], [2, 3], [3, 0], [0, 4], [1, 4], [2, 4], [3, 4]])
SN_ADJ = np.zeros((5, 5))
SN_ADJ[SN_EDGES[:, 0], SN_EDGES[:, 1]] = SN_ADJ[SN_EDGES[:, 1], SN_EDGES[:, 0]] = 1.0
SN_REST = 1.1 * np.linalg.norm(SN_P[:, None] - SN_P[None], axis=-1) * SN_ADJ
SN_K = 3.0


def spring_energy(np_, lax):
    """Energy of Hookean springs over all pairs masked by the adjacency; the pairwise
    differences by lax.sub of (n, 1, 2) and (1, n, 2), which lax broadcasts (length-1 axes)."""
    def energy(P, rest):
        d = lax.sub(P[:, None, :], P[None, :, :])
        # (the lengths by vecdot along the last axis, with a floor away from the diagonal's 0)
        r = np_.sqrt(np_.vecdot(d, d, axis=-1) + np_.asarray(np.eye(5).tolist(), like=P))
        adj = np_.asarray(SN_ADJ.tolist(), like=P)
        return 0.25 * SN_K * np_.sum(adj * (r - rest) ** 2)
    return energy


@functools.cache
def _spring_jax():
    jax = _jax()
    import jax.numpy as jnp

    class J:
        def __getattr__(self, n):
            return (lambda a, like=None: jnp.asarray(a)) if n == "asarray" else getattr(jnp, n)
    e = spring_energy(J(), jax.lax)
    P, rest = _jnp((SN_P, SN_REST))
    return np.asarray(e(P, rest)), np.asarray(jax.grad(e)(P, rest)), \
        np.asarray(jax.hessian(e)(P, SN_REST / 1.1))


def test_spring_network(backend):
    energy = spring_energy(fnp, flax)
    P, rest = _on(backend, (SN_P, SN_REST))
    # by hand over the edge list
    e_want, f_want = 0.0, np.zeros_like(SN_P)
    for i, j in SN_EDGES:
        d = SN_P[i] - SN_P[j]
        r = np.linalg.norm(d)
        e_want += 0.5 * SN_K * (r - SN_REST[i, j]) ** 2
        f = SN_K * (r - SN_REST[i, j]) * d / r
        f_want[i] -= f
        f_want[j] += f
    np.testing.assert_allclose(backend.to_numpy(energy(P, rest)), e_want, rtol=1e-13)
    for g in (ft.grad(energy), ft.jit(ft.grad(energy))):
        np.testing.assert_allclose(-backend.to_numpy(g(P, rest)), f_want, atol=1e-13)
    # at rest lengths the Hessian is the stiffness matrix sum k u u^T per edge block
    rest0 = backend.asarray(SN_REST / 1.1)
    H = backend.to_numpy(ft.hessian(energy)(P, rest0)).reshape(10, 10)
    Kw = np.zeros((10, 10))
    for i, j in SN_EDGES:
        u = (SN_P[i] - SN_P[j]) / np.linalg.norm(SN_P[i] - SN_P[j])
        B = SN_K * np.outer(u, u)
        for a, b, s in ((i, i, 1), (j, j, 1), (i, j, -1), (j, i, -1)):
            Kw[2 * a:2 * a + 2, 2 * b:2 * b + 2] += s * B
    np.testing.assert_allclose(H, Kw, atol=1e-12)
    # the rigid motions (two translations, a rotation) are its null space; nothing else
    ev = np.linalg.eigvalsh(H)
    assert np.sum(np.abs(ev) < 1e-10) == 3 and ev.min() > -1e-10
    rot = np.stack([-SN_P[:, 1], SN_P[:, 0]], 1).reshape(-1)
    np.testing.assert_allclose(H @ rot, 0.0, atol=1e-12)
    # energies of a batch of configurations
    batch = SN_P + 0.1 * RNG.normal(size=(4, 5, 2))
    eb = ft.jit(ft.vmap(energy, in_axes=(0, None)))(backend.asarray(batch), rest)
    np.testing.assert_allclose(backend.to_numpy(eb),
                               [float(backend.to_numpy(energy(backend.asarray(b), rest)))
                                for b in batch], rtol=1e-13)
    e_j, g_j, h_j = _spring_jax()
    close(e_j, backend.to_numpy(energy(P, rest)), tol=1e-12)
    close(g_j, backend.to_numpy(ft.grad(energy)(P, rest)), tol=1e-12)
    close(h_j.reshape(10, 10), H, tol=1e-11)


# -- InfoNCE (a contrastive loss) with vecdot along an axis -------------------------------------

CL_N, CL_D, CL_TAU = 6, 4, 0.2
CL_Z1 = RNG.normal(size=(CL_N, CL_D))
CL_Z2 = CL_Z1 + 0.5 * RNG.normal(size=(CL_N, CL_D))


def info_nce(np_, z1, z2):
    """Symmetric InfoNCE of normalised embeddings: the positives on the diagonal."""
    z1 = z1 / np_.linalg.norm(z1, axis=1, keepdims=True)
    z2 = z2 / np_.linalg.norm(z2, axis=1, keepdims=True)
    logits = np_.vecdot(z1[:, None, :], z2[None, :, :], axis=-1) / CL_TAU
    diag = np_.vecdot(z1, z2, axis=1) / CL_TAU
    return 0.5 * np_.mean(_lse(np_, logits, 1) - diag) \
        + 0.5 * np_.mean(_lse(np_, logits, 0) - diag)


@functools.cache
def _nce_jax():
    jax = _jax()
    import jax.numpy as jnp
    f = functools.partial(info_nce, jnp)
    args = _jnp((CL_Z1, CL_Z2))
    return np.asarray(f(*args)), tuple(map(np.asarray, jax.grad(f, argnums=(0, 1))(*args)))


def test_info_nce_with_vecdot_along_an_axis(backend):
    f = functools.partial(info_nce, fnp)
    z1, z2 = _on(backend, (CL_Z1, CL_Z2))
    n1 = CL_Z1 / np.linalg.norm(CL_Z1, axis=1, keepdims=True)
    n2 = CL_Z2 / np.linalg.norm(CL_Z2, axis=1, keepdims=True)
    L = n1 @ n2.T / CL_TAU
    want = 0.5 * np.mean(scipy.special.logsumexp(L, 1) - np.diag(L)) \
        + 0.5 * np.mean(scipy.special.logsumexp(L, 0) - np.diag(L))
    np.testing.assert_allclose(backend.to_numpy(f(z1, z2)), want, rtol=1e-13)
    # the gradient in the normalised embeddings, then through the normalisation
    G = 0.5 * (scipy.special.softmax(L, 1) - np.eye(CL_N)) / CL_N \
        + 0.5 * (scipy.special.softmax(L, 0) - np.eye(CL_N)) / CL_N
    g_n1 = G @ n2 / CL_TAU
    nrm = np.linalg.norm(CL_Z1, axis=1, keepdims=True)
    g_z1 = (g_n1 - np.sum(g_n1 * n1, 1, keepdims=True) * n1) / nrm
    for gr in (ft.grad(f), ft.jit(ft.grad(f))):
        np.testing.assert_allclose(backend.to_numpy(gr(z1, z2)), g_z1, atol=1e-13)
    # scale invariance of each row: the gradient is orthogonal to z1's rows
    np.testing.assert_allclose(np.sum(backend.to_numpy(ft.grad(f)(z1, z2)) * CL_Z1, 1), 0.0,
                               atol=1e-13)
    check_grads(f, (z1, z2), order=2)
    v_j, g_j = _nce_jax()
    close(v_j, backend.to_numpy(f(z1, z2)), tol=1e-13)
    close(g_j, _np(backend, ft.grad(f, argnums=(0, 1))(z1, z2)), tol=1e-13)


# -- a neural ODE by odeint (adjoint gradients) with GELU as a lax.composite ----------

NO_T = np.linspace(0.0, 2.0, 5)
NO_Y0 = np.array([1.0, -0.5])
NO_THETA = np.array([0.3, 1.7])  # the linear field: decay and rotation rates
NO_W1 = 0.5 * RNG.normal(size=(8, 2))
NO_W2 = 0.3 * RNG.normal(size=(2, 8))


def neural_ode(np_, lax, odeint):
    """dy/dt = A(theta) y + W2 gelu(W1 y), gelu a named composite of its tanh form."""
    def gelu(x):
        return lax.composite(
            lambda x: 0.5 * x * (1.0 + np_.tanh(0.7978845608028654 * (x + 0.044715 * x ** 3))),
            name="ported.gelu_tanh")(x)

    def field(y, t, theta, W1, W2):
        a, w = theta[0], theta[1]
        lin = np_.stack([-a * y[0] + w * y[1], -w * y[0] - a * y[1]])
        return lin + W2 @ gelu(W1 @ y)

    def solve(y0, theta, W1, W2, t):
        return odeint(field, y0, t, theta, W1, W2, rtol=1e-10, atol=1e-10)
    return solve, gelu


@functools.cache
def _node_jax():
    jax = _jax()
    import jax.numpy as jnp
    from jax.experimental.ode import odeint
    class L:  # (JAX 0.10.2 cannot differentiate a lax.composite: its decomposition itself)
        def __getattr__(self, n):
            return (lambda f, name: f) if n == "composite" else getattr(jax.lax, n)
    solve, _ = neural_ode(jnp, L(), odeint)
    args = _jnp((NO_Y0, NO_THETA, NO_W1, NO_W2, NO_T))

    def end(y0, theta, W1, W2):
        return jnp.sum(solve(y0, theta, W1, W2, args[4])[-1] ** 2)
    return np.asarray(solve(*args)), tuple(
        map(np.asarray, jax.grad(end, argnums=(0, 1, 2))(*args[:4])))


def test_neural_ode_by_odeint_with_a_composite(backend):
    from functrans.ode import odeint
    solve, gelu = neural_ode(fnp, flax, odeint)
    y0, theta, W1, W2, t = _on(backend, (NO_Y0, NO_THETA, NO_W1, NO_W2, NO_T))
    # the composite is its decomposition, derivatives included
    xs = backend.asarray(np.linspace(-3, 3, 7))
    c = 0.7978845608028654
    th = np.tanh(c * (np.linspace(-3, 3, 7) + 0.044715 * np.linspace(-3, 3, 7) ** 3))
    xn = np.linspace(-3, 3, 7)
    np.testing.assert_allclose(backend.to_numpy(gelu(xs)), 0.5 * xn * (1 + th), atol=1e-15)
    np.testing.assert_allclose(
        backend.to_numpy(ft.vmap(ft.grad(gelu))(xs)),
        0.5 * (1 + th) + 0.5 * xn * (1 - th ** 2) * c * (1 + 3 * 0.044715 * xn ** 2),
        atol=1e-14)
    # without the network the flow is the damped rotation in closed form
    zero = backend.asarray(np.zeros_like(NO_W2))
    a, w = NO_THETA
    rot = np.stack([np.stack([np.cos(w * NO_T), np.sin(w * NO_T)], -1),
                    np.stack([-np.sin(w * NO_T), np.cos(w * NO_T)], -1)], 1)
    want = np.exp(-a * NO_T)[:, None] * np.einsum("tij,j->ti", rot, NO_Y0)
    np.testing.assert_allclose(backend.to_numpy(solve(y0, theta, W1, zero, t)), want,
                               atol=1e-9)
    # |y(T)|^2 = e^{-2aT} |y0|^2: its gradient in a and in y0
    def end(y0, theta, W1, W2):
        return fnp.sum(solve(y0, theta, W1, W2, t)[-1, :] ** 2)
    T = NO_T[-1]
    grad_end = ft.jit(ft.grad(end, argnums=(0, 1, 2)))
    g0, gt, _ = grad_end(y0, theta, W1, zero)
    np.testing.assert_allclose(backend.to_numpy(g0), 2 * np.exp(-2 * a * T) * NO_Y0, atol=1e-8)
    np.testing.assert_allclose(backend.to_numpy(gt),
                               [-2 * T * np.exp(-2 * a * T) * NO_Y0 @ NO_Y0, 0.0], atol=1e-8)
    # with the network: against JAX's odeint and central differences
    y_j, g_j = _node_jax()
    close(y_j, backend.to_numpy(solve(y0, theta, W1, W2, t)), tol=1e-8)
    close(g_j, _np(backend, grad_end(y0, theta, W1, W2)), tol=1e-7)
    # and a central difference along a direction in theta
    h, d = 1e-5, np.array([0.6, -0.8])
    fd = (backend.to_numpy(end(y0, backend.asarray(NO_THETA + h * d), W1, W2))
          - backend.to_numpy(end(y0, backend.asarray(NO_THETA - h * d), W1, W2))) / (2 * h)
    np.testing.assert_allclose(backend.to_numpy(grad_end(y0, theta, W1, W2)[1]) @ d, fd,
                               rtol=1e-6)


# -- Legendre regression: the design matrix built in a fori_loop from like= zeros and .at ---------

LG_X = np.linspace(-1.0, 1.0, 15)
LG_Y = np.cos(2.5 * LG_X) + 0.1 * LG_X ** 3
LG_DEG = 5


def legendre_fit(np_, lax):
    """Columns P_0..P_deg by Bonnet's recurrence, each set with .at in a fori_loop over a
    zero matrix made in x's library (like=); the coefficients by least squares."""
    def design(x):
        V = np_.zeros((x.shape[0], LG_DEG + 1), like=x)
        V = V.at[:, 0].set(1.0).at[:, 1].set(x)

        def body(k, V):  # (k+1) P_{k+1} = (2k+1) x P_k - k P_{k-1}
            nxt = (V[:, k] * x * (2 * k + 1) - V[:, k - 1] * k) / (k + 1)
            return V.at[:, k + 1].set(nxt)
        return lax.fori_loop(1, LG_DEG, body, V)

    def fit(x, y):
        return np_.linalg.lstsq(design(x), y)[0]
    return design, fit


@functools.cache
def _legendre_jax():
    jax = _jax()
    import jax.numpy as jnp

    class J:
        def __getattr__(self, n):
            return (lambda s, like=None: jnp.zeros(s)) if n == "zeros" else getattr(jnp, n)
    _, fit = legendre_fit(J(), jax.lax)
    x, y = _jnp((LG_X, LG_Y))
    return np.asarray(jax.jit(fit)(x, y)), np.asarray(jax.jacrev(fit, argnums=1)(x, y))


def test_legendre_regression_from_like_zeros(backend):
    design, fit = legendre_fit(fnp, flax)
    x, y = _on(backend, (LG_X, LG_Y))
    V = ft.jit(design)(x)  # (a plain array has .at where functrans.numpy made it NumPy's)
    assert backend.is_own(V)
    np.testing.assert_allclose(backend.to_numpy(V),
                               np.polynomial.legendre.legvander(LG_X, LG_DEG), atol=1e-14)
    want = np.polynomial.legendre.legfit(LG_X, LG_Y, LG_DEG)
    c = ft.jit(fit)(x, y)
    np.testing.assert_allclose(backend.to_numpy(c), want, atol=1e-12)
    # linear in the data: the Jacobian is the design matrix's pseudo-inverse
    pinv = np.linalg.pinv(np.polynomial.legendre.legvander(LG_X, LG_DEG))
    for jac in (ft.jacrev(fit, argnums=1), ft.jacfwd(fit, argnums=1)):
        np.testing.assert_allclose(backend.to_numpy(jac(x, y)), pinv, atol=1e-12)
    # in the abscissae: against central differences
    check_grads(ft.jit(lambda x: fit(x, y)), (x,), order=1)
    c_j, j_j = _legendre_jax()
    close(c_j, backend.to_numpy(c), tol=1e-12)
    close(j_j, backend.to_numpy(ft.jacrev(fit, argnums=1)(x, y)), tol=1e-12)


# -- DP-SGD: per-example gradients in chunks, clipped, summed ------------------------------------

DP_CLIP = 0.5


def dp_sgd_gradient(w, x, y, chunk_size):
    """Each example's gradient clipped to norm DP_CLIP, then averaged (the noise left out)."""
    loss = functools.partial(logistic_loss, fnp)
    g = ft.vmap(ft.grad(loss), in_axes=(None, 0, 0), chunk_size=chunk_size)(w, x, y)
    norms = fnp.linalg.vector_norm(g, axis=1, keepdims=True)
    return fnp.mean(g * fnp.minimum(1.0, DP_CLIP / norms), axis=0)


def test_dp_sgd_clipped_per_example_gradients(backend):
    w, x, y = _on(backend, (PE_W, PE_X, PE_Y))
    g = (scipy.special.expit(PE_X @ PE_W) - PE_Y)[:, None] * PE_X
    n = np.linalg.norm(g, axis=1, keepdims=True)
    assert (n > DP_CLIP).any() and (n < DP_CLIP).any()  # both sides of the clip
    want = np.mean(g * np.minimum(1.0, DP_CLIP / n), axis=0)
    for chunk in (None, 2, 5):
        for f in (dp_sgd_gradient, ft.jit(dp_sgd_gradient, static_argnums=3)):
            out = f(w, x, y, chunk)
            assert backend.is_own(out)
            np.testing.assert_allclose(backend.to_numpy(out), want, atol=1e-14)
    # a few steps: the weights move by at most DP_CLIP * lr per step
    for _ in range(5):
        new = w - 0.1 * dp_sgd_gradient(w, x, y, 4)
        assert np.linalg.norm(backend.to_numpy(new - w)) <= 0.1 * DP_CLIP + 1e-15
        w = new


# -- a weighted histogram by scatter-add: out-of-range bins dropped, as JAX --

HG_X = np.concatenate([RNG.normal(size=40), [5.0, 7.5, -0.3]])
HG_W = RNG.uniform(0.5, 1.5, size=HG_X.size)
HG_LO, HG_HI, HG_NB = -3.0, 3.0, 12


def weighted_histogram(np_, x, w):
    """Counts of weights per bin; a bin past the top is dropped by the scatter's default (JAX's
    and functrans's), one below the bottom clipped to 0 first (negative positions count from
    the end in a scatter, as in NumPy)."""
    width = (HG_HI - HG_LO) / HG_NB
    b = np_.astype(np_.floor((x - HG_LO) / width), np_.int64)
    b = np_.where(b < 0, HG_NB, b)  # below the range: past the end too, so dropped
    return np_.zeros(HG_NB, like=w).at[b].add(w)


@functools.cache
def _hist_jax():
    jax = _jax()
    import jax.numpy as jnp

    class J:
        def __getattr__(self, n):
            return (lambda s, like=None: jnp.zeros(s)) if n == "zeros" else getattr(jnp, n)
    f = functools.partial(weighted_histogram, J())
    return np.asarray(jax.jit(f)(*_jnp((HG_X, HG_W))))


def test_weighted_histogram_by_scatter_add(backend):
    x, w = _on(backend, (HG_X, HG_W))
    f = ft.jit(functools.partial(weighted_histogram, fnp))
    want, _ = np.histogram(HG_X, bins=HG_NB, range=(HG_LO, HG_HI), weights=HG_W)
    out = f(x, w)
    assert backend.is_own(out)
    np.testing.assert_allclose(backend.to_numpy(out), want, atol=1e-13)
    # linear in the weights: each weight's column is its bin's indicator (zero when dropped)
    J = backend.to_numpy(ft.jacrev(f, argnums=1)(x, w))
    inside = (HG_X >= HG_LO) & (HG_X < HG_HI)
    np.testing.assert_array_equal(J.sum(0), inside.astype(float))
    bins = np.floor((HG_X[inside] - HG_LO) / ((HG_HI - HG_LO) / HG_NB)).astype(int)
    np.testing.assert_array_equal(J[:, inside], np.eye(HG_NB)[:, bins])
    close(_hist_jax(), backend.to_numpy(out), tol=1e-13)
