"""Session 52 (scipy52): fuzzing functrans.scipy's less-travelled modules.

Fixed:
- fftconvolve/oaconvolve's result dtype with mixed or float16 operands: SciPy transforms each
  operand in scipy.fft's working dtype (float64 for integers and booleans, float32 for
  float16) before combining them; functrans promoted first (float32 with an int16 kernel
  gave float32, SciPy float64; float16 stayed float16, 3.5e-3 off SciPy's float32 result).

- sparse.linalg cg/bicgstab/gmres with operands of different dtypes: the iterations carried
  b's dtype whatever A's, so gmres with a complex matrix and a real b returned a float64
  solution (the imaginary part dropped silently: 0.021 off np.linalg.solve, whose largest
  entry is 0.30), gmres with a
  float64 matrix and a float32 b float32, and cg/bicgstab raised while_loop's carry error
  (float32 b, integer b, float32 x0). Now SciPy's dtype: b's and a matrix A's promoted
  (integers as float64), x0 cast to it; a function A whose result's dtype is not its
  argument's raises a TypeError that says so; a matrix preconditioner M is taken in the
  system's dtype (a float64 M with a float32 system made cg/bicgstab raise the carry error),
  a complex one for a real system refused (TypeError).
- spatial.transform.Rotation.mean with a negative weight: a silent non-mean (all weights
  negative gave the rotation farthest from the others); now SciPy's ValueError where the
  weights are concrete.
- signal.welch/csd with a complex window array and one-sided spectra (real input): a silently
  wrong density (the folding onto the non-negative frequencies assumes Hermitian spectra:
  0.2554 at f = 0 where the two-sided density is 0.3192), and with fs <= 0 (negative
  densities, or a ZeroDivisionError): now SciPy's ValueErrors.

Left (SciPy's quirks, not followed; the fuzzer's z_dtypes52 draws no length-1 axes):
- scipy.signal.fftconvolve/oaconvolve keep integer dtypes (in1 * in2) where no axis is left to
  transform (0-d operands, or every axis of length 1 in one operand); functrans gives float64
  throughout: fftconvolve(np.ones((1, 3), 'f4'), np.ones((1, 1), 'u1'), 'valid') is float32
  in SciPy, float64 here.
- Boolean operands: SciPy's 1-d convolve/correlate give booleans (and method='fft' correlate
  differs from method='direct'); functrans refuses them (TypeError), as map_coordinates does.
"""

import numpy as np
import pytest
import scipy.signal

import functrans as ft
import functrans.numpy as fnp
from functrans.scipy import signal as fsig
from functrans.scipy.sparse import linalg as fspl
from functrans.scipy.spatial.transform import Rotation


@pytest.mark.parametrize("name", ["fftconvolve", "oaconvolve"])
@pytest.mark.parametrize("d1,d2", [("float32", "int16"), ("complex64", "bool"),
                                   ("float16", "float16"), ("float16", "int8"),
                                   ("float16", "complex64"), ("int8", "int8"),
                                   ("float32", "float32")])
def test_fft_convolutions_dtype_as_scipy(name, d1, d2):
    a = np.linspace(1.0, 2.0, 7).astype(d1)
    b = np.linspace(-1.0, 3.0, 4).astype(d2)
    got = np.asarray(getattr(fsig, name)(a, b))
    want = getattr(scipy.signal, name)(a, b)
    assert got.dtype == want.dtype
    # ours is exact in its dtype; SciPy's FFT rounds in the operands' working precision
    exact = np.convolve(a.astype(np.complex128), b.astype(np.complex128))
    if got.dtype.kind != "c":
        exact = exact.real
    tol = 50 * np.finfo(got.dtype).eps
    np.testing.assert_allclose(got, exact, rtol=tol, atol=tol)


def _system(n=5):
    rng = np.random.default_rng(7)
    m = rng.standard_normal((n, n))
    return m @ m.T + n * np.eye(n), rng.standard_normal(n), rng.standard_normal((n, n))


@pytest.mark.parametrize("solver", ["bicgstab", "gmres"])
def test_sparse_solvers_complex_matrix_real_b(solver):
    a, b, noise = _system()
    a = a + 0.5j * noise
    x, _ = getattr(fspl, solver)(a, b, tol=1e-12)
    x = np.asarray(x)
    assert x.dtype == np.complex128
    np.testing.assert_allclose(x, np.linalg.solve(a, b), rtol=0, atol=1e-10)


@pytest.mark.parametrize("solver", ["cg", "bicgstab", "gmres"])
@pytest.mark.parametrize("bdt,x0dt", [("float32", None), ("int64", None), ("float64", "float32")])
def test_sparse_solvers_mixed_dtypes_as_scipy(solver, bdt, x0dt):
    a, b, _ = _system()
    b = (3 * b).astype(bdt)
    x0 = None if x0dt is None else np.ones(b.shape, x0dt)
    x, _ = getattr(fspl, solver)(a, b, x0, tol=1e-12)
    x = np.asarray(x)
    assert x.dtype == np.float64  # (scipy.sparse.linalg's; JAX's raise)
    np.testing.assert_allclose(x, np.linalg.solve(a, b.astype(np.float64)), rtol=0, atol=1e-10)


def test_sparse_solvers_float32_b_derivative():
    a, b, _ = _system()
    g = ft.grad(lambda bb: fnp.sum(fspl.cg(a, bb, tol=1e-12)[0]))(b.astype(np.float32))
    assert np.asarray(g).dtype == np.float32
    np.testing.assert_allclose(np.asarray(g), np.linalg.solve(a.T, np.ones(5)), rtol=1e-6)


@pytest.mark.parametrize("solver", ["cg", "bicgstab", "gmres"])
def test_sparse_solvers_function_changing_dtype_raises(solver):
    a, b, noise = _system()
    ac = fnp.asarray(a + 0.5j * noise)
    with pytest.raises(TypeError, match=r"A\(x\) has dtype complex128 for x of dtype float64"):
        getattr(fspl, solver)(lambda v: ac @ v, b)


@pytest.mark.parametrize("solver", ["cg", "bicgstab", "gmres"])
def test_sparse_solvers_preconditioner_dtype(solver):
    a, b, _ = _system()
    m = np.diag(1.0 / np.diag(a))
    x, _ = getattr(fspl, solver)(a.astype(np.float32), b.astype(np.float32), M=m, tol=1e-6)
    x = np.asarray(x)
    assert x.dtype == np.float32
    np.testing.assert_allclose(x, np.linalg.solve(a, b), rtol=0, atol=1e-5)
    with pytest.raises(TypeError, match="preconditioner M is complex"):
        getattr(fspl, solver)(a, b, M=m * (1 + 0.3j))


def test_rotation_mean_negative_weights_refused():
    q = np.random.default_rng(2).standard_normal((4, 4))
    w = np.array([0.2, 0.5, 0.1, 0.7])
    with pytest.raises(ValueError, match="weights must be non-negative"):
        Rotation.from_quat(q).mean(-w)
    # non-negative weights: SciPy's mean, and traced weights are not checked
    import scipy.spatial.transform as sst
    want = sst.Rotation.from_quat(q).mean(w).as_matrix()
    np.testing.assert_allclose(np.asarray(Rotation.from_quat(q).mean(w).as_matrix()), want,
                               atol=1e-12)
    got = ft.jit(lambda ww: Rotation.from_quat(q).mean(ww).as_matrix())(w)
    np.testing.assert_allclose(np.asarray(got), want, atol=1e-12)


@pytest.mark.parametrize("name", ["welch", "csd"])
def test_spectral_density_complex_window_and_fs_refused(name):
    x = np.random.default_rng(4).standard_normal(40)
    w = np.hanning(8) * (1 + 0.5j)

    def call(mod, **kw):
        f = getattr(mod, name)
        return f(x, **kw) if name == "welch" else f(x, x[::-1], **kw)
    with pytest.raises(ValueError, match="complex window"):
        call(fsig, window=w)
    for fs in (-2.0, 0.0):
        with pytest.raises(ValueError, match="fs must be positive"):
            call(fsig, fs=fs, nperseg=8)
    # two-sided, a complex window is SciPy's
    got = call(fsig, window=w, return_onesided=False)[1]
    want = call(scipy.signal, window=w, return_onesided=False)[1]
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-12, atol=1e-14)
