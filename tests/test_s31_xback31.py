"""Session 31, the same program on torch and array-api-strict as on NumPy (xback31):
BCSR under transforms, linalg errors, fft of nothing, special functions at the edges."""

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
import functrans.experimental.sparse as sparse


def _check(backend, got, want, rtol=1e-12, atol=0.0):
    assert backend.is_own(got), type(got)
    got = backend.to_numpy(got)
    want = np.asarray(want)
    assert got.dtype == want.dtype and got.shape == want.shape, (got.dtype, got.shape)
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)


def test_bcsr_matvec_under_grad_and_jit(backend):
    """A BCSR made inside grad or jit: its row coordinates compared a concrete arange with
    the traced indptr through ``<``, which array-api-strict's operator refuses (TypeError)
    instead of handing to the tracer."""
    m = np.array([[1.5, 0.0, 2.0, 0.0], [0.0, 0.0, -3.0, 0.5], [0.0, 4.0, 0.0, 0.0]])
    v = np.array([0.5, -1.0, 2.0, 3.0])
    M, V = backend.asarray(m), backend.asarray(v)

    def f(a, x):
        return fnp.sum(fnp.sin(sparse.BCSR.fromdense(a) @ x))

    ga, gx = ft.grad(f, argnums=(0, 1))(M, V)
    c = np.cos(m @ v)
    _check(backend, ga, np.outer(c, v) * (m != 0))  # (only the stored entries' derivatives)
    _check(backend, gx, m.T @ c)
    _check(backend, ft.jit(lambda a, x: sparse.BCSR.fromdense(a, nse=5) @ x)(M, V), m @ v)
    _check(backend, ft.jit(lambda a: sparse.BCSR.fromdense(a, nse=5, n_batch=1).T.todense())(
        backend.asarray(np.stack([m, 2 * m]))), np.stack([m.T, 2 * m.T]))
