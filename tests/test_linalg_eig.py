"""functrans.numpy.linalg.eig and eigvals: values against NumPy on every backend that has an
eig, the closed-form gradient of an eigenvalue, transforms, and the errors.

The derivative checks against finite differences are in the TABLE of
tests/test_namespace_grads.py (phase-invariant functions of the eigenvectors)."""

from __future__ import annotations

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.errors import ShapeError, UnsupportedBackendError

LA = fnp.linalg


def _skip_without_eig(backend):
    if backend.name == "array_api_strict":
        pytest.skip("array-api-strict has no eig (its error is tested below)")


def _matrix(shape, seed=0, complex_=False):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=shape)
    if complex_:
        a = a + 1j * rng.normal(size=shape)
    return a


def _sorted(w):
    return np.sort_complex(np.asarray(w).reshape(-1, np.shape(w)[-1])).reshape(np.shape(w))


@pytest.mark.parametrize("shape", [(1, 1), (3, 3), (5, 5), (2, 4, 4), (2, 3, 2, 2)])
@pytest.mark.parametrize("complex_", [False, True])
def test_eig_values_match_numpy(backend, shape, complex_):
    _skip_without_eig(backend)
    a_np = _matrix(shape, complex_=complex_)
    a = backend.asarray(a_np, dtype="complex128" if complex_ else "float64")
    w, v = LA.eig(a)
    assert backend.is_own(w) and backend.is_own(v)
    w, v = backend.to_numpy(w), backend.to_numpy(v)
    assert w.dtype == np.complex128 and v.dtype == np.complex128
    assert w.shape == shape[:-1] and v.shape == shape
    # A v_i = w_i v_i, unit columns, and the spectrum NumPy finds
    np.testing.assert_allclose(a_np @ v, v * w[..., None, :], atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(v, axis=-2), 1.0, rtol=1e-12)
    np.testing.assert_allclose(_sorted(w), _sorted(np.linalg.eigvals(a_np)), atol=1e-12)
    wv = backend.to_numpy(LA.eigvals(a))
    np.testing.assert_allclose(_sorted(wv), _sorted(w), atol=1e-12)


def test_eig_of_real_input_is_complex_even_with_a_real_spectrum(backend):
    """NumPy would give float64 here; the dtype must not depend on values (jit), as in JAX."""
    _skip_without_eig(backend)
    a = backend.asarray(np.diag([1.0, 2.0, 3.0]))
    w, v = LA.eig(a)
    assert backend.to_numpy(w).dtype == np.complex128
    np.testing.assert_allclose(backend.to_numpy(fnp.real(w)), [1.0, 2.0, 3.0])


def test_float32_gives_complex64(backend):
    _skip_without_eig(backend)
    a = backend.asarray(_matrix((3, 3)), dtype="float32")
    w, v = LA.eig(a)
    assert backend.to_numpy(w).dtype == np.complex64
    assert backend.to_numpy(v).dtype == np.complex64
    assert backend.to_numpy(LA.eigvals(a)).dtype == np.complex64
    g = ft.grad(lambda x: fnp.sum(fnp.real(LA.eigvals(x)) ** 2))(a)
    assert backend.to_numpy(g).dtype == np.float32


def test_integer_input_is_promoted():
    w = LA.eigvals(np.array([[2, 0], [0, 3]]))
    assert w.dtype == np.complex128
    np.testing.assert_allclose(np.sort(w.real), [2.0, 3.0])


def test_gradient_of_an_eigenvalue_is_its_left_right_outer_product(backend):
    """dw_k = (V^{-1} dA V)_kk, so dw_k / dA_ij = (V^{-1})_ki V_jk."""
    _skip_without_eig(backend)
    a_np = _matrix((4, 4), seed=3)
    a = backend.asarray(a_np)
    w_np, v_np = np.linalg.eig(a_np)
    vinv = np.linalg.inv(v_np)
    for k in range(4):
        def real_and_imag(x, k=k):
            w = LA.eigvals(x)
            # pick w_k by its value (the library's order is its own)
            d = fnp.abs(w - complex(w_np[k]))
            sel = fnp.astype(d == fnp.min(d), w.dtype)
            wk = fnp.sum(w * sel)
            return fnp.real(wk), fnp.imag(wk)
        g_re = backend.to_numpy(ft.grad(lambda x: real_and_imag(x)[0])(a))
        g_im = backend.to_numpy(ft.grad(lambda x: real_and_imag(x)[1])(a))
        expected = vinv[k][:, None] * v_np[:, k][None, :]  # dw_k/dA_ij = vinv[k,i] v[j,k]
        np.testing.assert_allclose(g_re + 1j * g_im, expected, atol=1e-10)


def test_trace_is_the_sum_of_eigenvalues_for_every_transform(backend):
    _skip_without_eig(backend)
    a = backend.asarray(_matrix((2, 3, 3), seed=1))

    def f(x):
        return fnp.sum(fnp.real(LA.eigvals(x)))

    eye = np.broadcast_to(np.eye(3), (2, 3, 3))
    np.testing.assert_allclose(backend.to_numpy(ft.grad(f)(a)), eye, atol=1e-12)
    np.testing.assert_allclose(backend.to_numpy(ft.jit(ft.grad(f))(a)), eye, atol=1e-12)
    # second order: the trace is linear
    h = backend.to_numpy(ft.hessian(lambda x: f(x[None]))(a[0]))
    np.testing.assert_allclose(h, np.zeros((3, 3, 3, 3)), atol=1e-9)


def test_jit_and_vmap_match_eager(backend):
    _skip_without_eig(backend)
    a_np = _matrix((3, 4, 4), seed=2)
    a = backend.asarray(a_np)

    def f(x):
        w, v = LA.eig(x)
        return fnp.real(w) ** 2 + fnp.imag(w), fnp.sum(fnp.abs(v), axis=0)

    eager = [backend.to_numpy(r) for r in f(a[1])]
    jitted = [backend.to_numpy(r) for r in ft.jit(f)(a[1])]
    for e, j in zip(eager, jitted):
        np.testing.assert_allclose(j, e, rtol=1e-12)
    batched = ft.vmap(f)(a)
    for i in range(3):
        for b, e in zip(batched, f(a[i])):
            np.testing.assert_allclose(backend.to_numpy(b)[i], backend.to_numpy(e), rtol=1e-12)


def test_eigenvector_derivative_keeps_unit_length(backend):
    """The tangent of each column v_i is orthogonal to v_i in the real sense:
    Re(v_i^H dv_i) = 0, so the normalisation NumPy applies is respected."""
    _skip_without_eig(backend)
    a = backend.asarray(_matrix((4, 4), seed=5))
    t = backend.asarray(_matrix((4, 4), seed=6))
    (_, v), (_, dv) = ft.jvp(LA.eig, (a,), (t,))
    v, dv = backend.to_numpy(v), backend.to_numpy(dv)
    np.testing.assert_allclose(np.real(np.sum(np.conj(v) * dv, axis=0)), 0.0, atol=1e-12)


def test_input_is_not_modified():
    a = _matrix((3, 3))
    before = a.copy()
    ft.grad(lambda x: fnp.sum(fnp.abs(LA.eig(x)[1])))(a)
    np.testing.assert_array_equal(a, before)


def test_array_api_strict_names_the_missing_extra():
    xp = pytest.importorskip("array_api_strict")
    a = xp.asarray(_matrix((3, 3)))
    with pytest.raises(UnsupportedBackendError, match="array_api_strict.*'eig'"):
        LA.eig(a)
    with pytest.raises(UnsupportedBackendError, match="register_extra"):
        LA.eigvals(a)


def test_a_registered_eig_extra_is_used():
    """A backend without eig can be given one (here: array-api-strict through NumPy)."""
    xp = pytest.importorskip("array_api_strict")
    import functrans.backends as fb
    strict = fb.get_backend("array_api_strict")

    def eig(x):
        w, v = np.linalg.eig(np.asarray(x))
        return xp.asarray(w.astype(np.complex128)), xp.asarray(v.astype(np.complex128))

    saved = dict(strict.extras), dict(strict._extra_cache)
    try:
        fb.register_extra("array_api_strict", "eig", eig)
        a = xp.asarray(_matrix((3, 3), seed=4))
        g = ft.grad(lambda x: fnp.sum(fnp.real(LA.eigvals(x))))(a)
        np.testing.assert_allclose(np.asarray(g), np.eye(3), atol=1e-12)
    finally:
        strict.extras.clear()
        strict.extras.update(saved[0])
        strict._extra_cache.clear()
        strict._extra_cache.update(saved[1])


@pytest.mark.parametrize("shape", [(3,), (2, 3), (3, 2, 4)])
def test_non_square_input_is_a_shape_error(shape):
    with pytest.raises(ShapeError, match="eig.*square"):
        LA.eig(np.ones(shape))
    with pytest.raises(ShapeError, match="eigvals.*square"):
        LA.eigvals(np.ones(shape))
