"""Derivatives of the factorizations on complex matrices (complex128), against finite
differences along the real and the imaginary directions of the input.

check_grads covers real values, so each complex function is checked through its real
parametrisation ``(re, im) -> (Re f, Im f)(re + 1j im)``: a JVP along ``re`` is the
derivative along a real direction, along ``im`` the one along an imaginary direction. The
outputs are phase-invariant where the factorization has a free phase (the singular vectors,
the eigenvectors); Q and R are compared directly (LAPACK's R has a real diagonal, which fixes
their phases, and the QR rule follows that convention).
"""

from __future__ import annotations

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.testing import check_grads

RNG = np.random.default_rng(7)
TALL = RNG.standard_normal((2, 4, 3))  # re, im
SQUARE = RNG.standard_normal((2, 3, 3))
BATCH = RNG.standard_normal((2, 2, 4, 3))


def _hermitian_pd(a):
    return a @ fnp.conj(fnp.matrix_transpose(a)) + 3.0 * fnp.eye(a.shape[-1], device=a.device)


def _svd_invariants(full=False):
    def f(a):
        u, s, vh = fnp.linalg.svd(a, full_matrices=full)
        k = s.shape[-1]
        first = u[..., :, :1] @ vh[..., :1, :]               # u_1 v_1^H: phase-invariant
        return (s, (u[..., :, :k] * s[..., None, :]) @ vh[..., :k, :], fnp.abs(u),
                fnp.abs(vh), first)
    return f


def _eigh_invariants(a):
    w, v = fnp.linalg.eigh(_hermitian_pd(a))
    return w, fnp.abs(v), v[..., :, :1] @ fnp.conj(fnp.matrix_transpose(v[..., :, :1]))


CASES = {
    "cholesky": (lambda a: fnp.linalg.cholesky(_hermitian_pd(a)), SQUARE),
    "qr_tall": (lambda a: fnp.linalg.qr(a), TALL),
    "qr_square": (lambda a: fnp.linalg.qr(a), SQUARE),
    "qr_batched": (lambda a: fnp.linalg.qr(a), BATCH),
    "svd_tall": (_svd_invariants(), TALL),
    "svd_wide": (lambda a: _svd_invariants()(fnp.matrix_transpose(a)), TALL),
    "svd_square_full": (_svd_invariants(full=True), SQUARE),
    "svd_batched": (_svd_invariants(), BATCH),
    "svdvals": (lambda a: fnp.linalg.svdvals(a), TALL),
    "matrix_norm_2": (lambda a: fnp.linalg.matrix_norm(a, ord=2), TALL),
    "matrix_norm_nuc": (lambda a: fnp.linalg.matrix_norm(a, ord="nuc"), TALL),
    "pinv": (lambda a: fnp.linalg.pinv(a), TALL),
    "eigh": (_eigh_invariants, SQUARE),
}


def _real_parametrisation(f):
    def g(re, im):
        out = f(re + im * 1j)
        outs = out if isinstance(out, (tuple, list)) else (out,)
        return [fnp.stack([fnp.real(o), fnp.imag(o)])
                if fnp.isdtype(o.dtype, "complex floating") else o for o in outs]
    return g


@pytest.mark.parametrize("name", sorted(CASES))
def test_complex_factorization_derivatives(backend, name):
    f, data = CASES[name]
    args = (backend.asarray(data[0]), backend.asarray(data[1]))
    check_grads(_real_parametrisation(f), args, order=2)


@pytest.mark.parametrize("name", ["qr_tall", "svd_tall", "cholesky"])
def test_complex_jvp_along_real_and_imaginary_directions(name):
    f, data = CASES[name]
    x = data[0] + 1j * data[1]
    d = RNG.standard_normal(x.shape).astype(complex)
    eps = 1e-6
    for direction in (d, 1j * d):
        _, tangents = ft.jvp(f, (x,), (direction,))
        plus, minus = f(x + eps * direction), f(x - eps * direction)
        outs = zip(tangents if isinstance(tangents, (tuple, list)) else [tangents],
                   plus if isinstance(plus, (tuple, list)) else [plus],
                   minus if isinstance(minus, (tuple, list)) else [minus])
        for t, p, m in outs:
            np.testing.assert_allclose(t, (p - m) / (2 * eps), atol=1e-7, rtol=1e-6)


def test_complex_svd_gauge():
    # The rule's phase convention: V^H dV has a zero diagonal, U^H dU an imaginary one.
    x = TALL[0] + 1j * TALL[1]
    d = RNG.standard_normal(x.shape) + 1j * RNG.standard_normal(x.shape)
    (u, s, vh), (du, ds, dvh) = ft.jvp(lambda a: fnp.linalg.svd(a, full_matrices=False),
                                       (x,), (d,))
    v, dv = vh.conj().T, dvh.conj().T
    np.testing.assert_allclose(np.diag(v.conj().T @ dv), 0.0, atol=1e-12)
    np.testing.assert_allclose(np.diag(u.conj().T @ du).real, 0.0, atol=1e-12)
    np.testing.assert_allclose(ds, np.diag(u.conj().T @ d @ v).real, atol=1e-12)
