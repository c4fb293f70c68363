"""Session 41, scilinalg41: what the first fuzzer of functrans.scipy.linalg found
(tests/_fuzz_scipy_linalg_jax.py).

- hessenberg: a float32 matrix gave float64 H and Q (the tau of an identity reflector came
  from _larfg's float64 nan slope: hessenberg(eye(3, float32)), and under jit every float32
  matrix); booleans and integers of at most 16 bits give float32, as SciPy; a complex 1 x 1 or
  2 x 2 matrix is returned as it is, Q the identity (SciPy's; one more reflector made the
  subdiagonal entry real).
- schur and funm: booleans give float32, as SciPy.
- solve_banded: SciPy's dtype (booleans and integers count as float64: float32 ab with an
  int16 b gives float64, complex64 ab with one complex128).
"""

import numpy as np
import pytest

import functrans as ft
import functrans.scipy.linalg as fsl

sla = pytest.importorskip("scipy.linalg")

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def _np(backend, x):
    assert backend.is_own(x)
    return np.asarray(backend.to_numpy(x))


_A4 = np.array([[4.0, 1.0, -2.0, 0.5], [1.0, 3.0, 0.0, 1.0], [-2.0, 0.5, 2.0, -1.0],
                [0.5, 1.0, -1.0, 1.0]])


# -- hessenberg ------------------------------------------------------------------------------


@pytest.mark.parametrize("staged", [False, True], ids=["eager", "jit"])
@pytest.mark.parametrize("matrix", ["eye", "dense"])
def test_hessenberg_float32_stays_float32(backend, matrix, staged):
    a = np.eye(4) if matrix == "eye" else _A4
    x = backend.asarray(a, dtype="float32")
    fn = (lambda m: fsl.hessenberg(m, calc_q=True))
    h, q = (ft.jit(fn) if staged else fn)(x)
    h, q = _np(backend, h), _np(backend, q)
    assert h.dtype == np.float32 and q.dtype == np.float32
    want_h, want_q = sla.hessenberg(a.astype(np.float32), calc_q=True)
    np.testing.assert_allclose(h, want_h, atol=2e-5)
    np.testing.assert_allclose(q, want_q, atol=2e-5)


@pytest.mark.parametrize("dtype", ["bool", "int8", "uint8", "int16", "uint16", "int32",
                                   "int64"])
def test_hessenberg_integer_dtypes_as_scipy(dtype):
    a = (np.abs(_A4) > 0.9) if dtype == "bool" else (np.abs(_A4) * 2).astype(dtype)
    h, q = fsl.hessenberg(a, calc_q=True)
    want_h, want_q = sla.hessenberg(a, calc_q=True)
    assert np.asarray(h).dtype == want_h.dtype and np.asarray(q).dtype == want_q.dtype
    np.testing.assert_allclose(np.asarray(q) @ np.asarray(h) @ np.asarray(q).T, a, atol=1e-5)
    np.testing.assert_allclose(np.abs(np.diagonal(h, -1)), np.abs(np.diagonal(want_h, -1)),
                               atol=1e-5)


@pytest.mark.parametrize("n", [1, 2])
def test_hessenberg_small_complex_is_its_own_form(backend, n):
    a = np.array([[1.0 + 2.0j, -0.5 + 1.0j], [2.0 - 1.0j, 3.0 + 0.5j]])[:n, :n]
    x = backend.asarray(a, dtype="complex128")
    h, q = fsl.hessenberg(x, calc_q=True)
    # SciPy returns such a matrix as it is (its subdiagonal entry stays complex)
    np.testing.assert_array_equal(_np(backend, h), a)
    np.testing.assert_array_equal(_np(backend, q), np.eye(n))
    want_h, _ = sla.hessenberg(a, calc_q=True)
    np.testing.assert_array_equal(_np(backend, h), want_h)


def test_hessenberg_small_complex_derivative_is_identity():
    a = np.array([[1.0 + 2.0j, -0.5 + 1.0j], [2.0 - 1.0j, 3.0 + 0.5j]])
    t = np.array([[0.3 - 1.0j, 1.0 + 0.2j], [-0.7 + 0.1j, 0.4 + 0.9j]])
    h, dh = ft.jvp(fsl.hessenberg, (a,), (t,))
    np.testing.assert_array_equal(dh, t)


# -- schur, funm -----------------------------------------------------------------------------


@pytest.mark.parametrize("output", ["real", "complex"])
def test_schur_boolean_as_scipy(output):
    a = np.array([[True, False, True], [True, True, False], [False, True, True]])
    t, z = fsl.schur(a, output=output)
    want_t, want_z = sla.schur(a, output=output)
    assert np.asarray(t).dtype == want_t.dtype and np.asarray(z).dtype == want_z.dtype
    # (the factors of one float32 decomposition, each up to rounding)
    np.testing.assert_allclose(np.asarray(z) @ np.asarray(t) @ np.asarray(z).conj().T, a,
                               atol=1e-5)


def test_funm_boolean_as_scipy():
    a = np.array([[True, False], [True, True]])
    got, want = fsl.funm(a, np.exp), sla.funm(a, np.exp)
    assert np.asarray(got).dtype == want.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=1e-5)


# -- solve_banded ----------------------------------------------------------------------------


@pytest.mark.parametrize("ab_dtype,b_dtype,want", [
    ("float32", "bool", "float64"), ("float32", "int16", "float64"),
    ("float32", "float32", "float32"), ("int16", "float32", "float64"),
    ("int16", "complex64", "complex128"), ("complex64", "int16", "complex128"),
    ("complex64", "complex64", "complex64"), ("int64", "int64", "float64"),
])
def test_solve_banded_dtype_as_scipy(backend, ab_dtype, b_dtype, want):
    ab = np.array([[0.0, 1.0, 2.0], [5.0, 6.0, 7.0], [1.0, -1.0, 0.0]])
    b = np.array([1, 0, 1])
    got = fsl.solve_banded((1, 1), backend.asarray(ab, ab_dtype), backend.asarray(b, b_dtype))
    got = _np(backend, got)
    ref = sla.solve_banded((1, 1), ab.astype(ab_dtype), b.astype(b_dtype))
    assert ref.dtype == want and got.dtype == want
    np.testing.assert_allclose(got, ref, rtol=1e-5)
