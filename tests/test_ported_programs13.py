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
  the fitted parameters' derivative in the data against re-solving with SciPy.

Every reference is independent of functrans: a closed form, SciPy, NumPy by hand, central
differences (``check_grads``), or JAX 0.10.2 with x64 (computed once per module, not once per
backend). The code is written for this file.

Written the way the suite's backends need: array-api-strict's operators refuse a tracer on
their right (its issue #188), so a plain array never comes first in an operator beside a
tracer; constants are made in the inputs' library by ``like=``.
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
