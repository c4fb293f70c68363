"""Session 37, expm37: linalg37's leftovers. expm in single precision (computed in double and
rounded once: it was up to 1.8e-5 relative off, SciPy 1.2e-5), expm of diagonal matrices with
inf or nan entries (the exponential of the diagonal, as SciPy, with the full Frechet
derivative; was nan throughout), expm and lstsq refusing float16 with their own names, and
lu_factor keeping a -0.0 pivot (lu_solve's infinities then have SciPy's signs)."""

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
import functrans.scipy.linalg as fsl

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

inf, nan = np.inf, np.nan


def _np(backend, x):
    assert backend.is_own(x), type(x)
    return np.asarray(backend.to_numpy(x))


def _expm_reference(a, dps=40):
    mpmath = pytest.importorskip("mpmath")
    a = np.asarray(a)
    with mpmath.workdps(dps):
        e = mpmath.expm(mpmath.matrix(a.astype(complex).tolist()), method="taylor")
        e = np.array(e.tolist(), dtype=complex)
    return e if a.dtype.kind == "c" else e.real


def _max_rel(got, want):
    return np.abs(np.asarray(got, dtype=want.dtype) - want).max() / np.abs(want).max()


# -- single precision ----------------------------------------------------------------------------

def test_expm_float32_scalar_stays_single():
    # (the lead's decision: single precision is computed in single, as SciPy's; in double it
    # was correctly rounded here, 2.1e-8, but 2x slower on the CPU for 200 x 200 float32)
    a = np.float32([[-19.747396]])
    got = fsl.expm(a)
    assert got.dtype == np.float32
    want = _expm_reference(a.astype(np.float64))
    assert _max_rel(got, want) < 1e-5          # 4.0e-6: the approximant's cancellation


def test_expm_single_precision_sweep():
    rng = np.random.default_rng(37)
    worst = 0.0
    for trial in range(24):
        n = 1 + trial % 4
        scale = 10.0 ** rng.uniform(-2, 1.5)
        a = rng.standard_normal((n, n)) * scale
        dt = np.float32
        if trial % 3 == 0:
            a = a + 1j * rng.standard_normal((n, n)) * scale
            dt = np.complex64
        if trial % 4 == 1:
            a = np.triu(a)
        a = a.astype(dt)
        got = fsl.expm(a)
        assert got.dtype == dt
        worst = max(worst, _max_rel(got, _expm_reference(a.astype(np.complex128 if dt ==
                                                                 np.complex64 else np.float64))))
    assert worst < 3e-5, worst                 # 1.8e-5 (SciPy's worst 1.2e-5); in double 4.9e-8


def test_expm_single_precision_backends_jit_vmap(backend):
    a = np.stack([np.float32([[-19.747396, 0.5], [0.0, -3.0]]),
                  np.float32([[1.0, 2.0], [-3.0, 0.25]])])
    want = np.stack([_expm_reference(m.astype(np.float64)) for m in a])
    x = backend.asarray(a, dtype="float32")
    for f in (fsl.expm, ft.jit(fsl.expm), ft.vmap(fsl.expm)):
        got = _np(backend, f(x))
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, want, rtol=3e-7, atol=3e-7 * np.abs(want).max())


def test_expm_single_precision_derivatives():
    a = np.float32([[-3.0, 1.5], [0.25, -1.0]])
    e = np.float32([[0.5, -1.0], [2.0, 0.75]])
    u = np.float32([[1.0, -0.5], [0.25, 2.0]])
    val, tan = ft.jvp(fsl.expm, (a,), (e,))
    assert tan.dtype == np.float32
    # the reference: central differences of the double expm
    a64, e64, h = a.astype(np.float64), e.astype(np.float64), 1e-6
    fd = (np.asarray(fsl.expm(a64 + h * e64)) - np.asarray(fsl.expm(a64 - h * e64))) / (2 * h)
    np.testing.assert_allclose(tan, fd, rtol=1e-6, atol=1e-6 * np.abs(fd).max())
    _, pull = ft.vjp(fsl.expm, a)
    (ct,) = pull(u)
    assert ct.dtype == np.float32
    lhs, rhs = np.sum(u.astype(np.float64) * tan), np.sum(np.asarray(ct, np.float64) * e64)
    assert abs(lhs - rhs) < 1e-5 * abs(lhs)
    # under jit(vmap(jacrev)) as eager
    jac = np.asarray(ft.jacrev(fsl.expm)(a))
    jac2 = np.asarray(ft.jit(ft.vmap(ft.jacrev(fsl.expm)))(a[None]))[0]
    np.testing.assert_allclose(jac2, jac, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(np.einsum("ijkl,kl->ij", jac, e64), fd, rtol=1e-5,
                               atol=1e-6 * np.abs(fd).max())


def test_expm_complex64_derivative():
    a = np.complex64([[-2.0 + 1j, 0.5], [0.25j, -1.0]])
    e = np.complex64([[0.5, -1.0j], [1.0, 0.25 + 0.5j]])
    _, tan = ft.jvp(fsl.expm, (a,), (e,))
    assert tan.dtype == np.complex64
    a64, e64, h = a.astype(np.complex128), e.astype(np.complex128), 1e-6
    fd = (np.asarray(fsl.expm(a64 + h * e64)) - np.asarray(fsl.expm(a64 - h * e64))) / (2 * h)
    np.testing.assert_allclose(tan, fd, rtol=1e-6, atol=1e-6 * np.abs(fd).max())


def test_expm_half_precision_refused_with_its_name():
    with pytest.raises(TypeError, match="expm: no float16"):
        fsl.expm(np.float16([[1.0, 2.0], [3.0, 4.0]]))


# -- non-finite entries --------------------------------------------------------------------------

_NONFINITE = [
    # (a, expm(a)): diagonal matrices: the exponential of the diagonal (SciPy's)
    ([[inf, 0.0], [0.0, 1.0]], [[inf, 0.0], [0.0, np.e]]),
    ([[-inf, 0.0], [0.0, 1.0]], [[0.0, 0.0], [0.0, np.e]]),
    ([[nan, 0.0], [0.0, 1.0]], [[nan, 0.0], [0.0, np.e]]),
    ([[inf, 0.0], [0.0, -inf]], [[inf, 0.0], [0.0, 0.0]]),
    ([[-inf]], [[0.0]]),
    ([[inf]], [[inf]]),
    # any other non-finite matrix: nan throughout (SciPy: nan, 0 below the diagonal)
    ([[inf, 1.0], [0.0, 1.0]], [[nan, nan], [nan, nan]]),
    ([[0.0, inf], [0.0, 0.0]], [[nan, nan], [nan, nan]]),
    # (session 38) -inf on the diagonal, the rest finite: the limit (was nan, SciPy's too)
    ([[-inf, 1.0], [0.0, 1.0]], [[0.0, 0.0], [0.0, np.e]]),
]


@pytest.mark.parametrize("case", range(len(_NONFINITE)))
def test_expm_nonfinite_values(case):
    a, want = (np.array(x, dtype=float) for x in _NONFINITE[case])
    # (to the rounding: the -inf limit's e comes from the approximant)
    np.testing.assert_allclose(np.asarray(fsl.expm(a)), want, rtol=4e-16, atol=0)
    # (staged, the same values, since session 39: expm_nonfinite_fix; before, nan throughout)
    np.testing.assert_array_equal(np.asarray(ft.jit(fsl.expm)(a)), np.asarray(fsl.expm(a)))
    got = np.asarray(ft.vmap(fsl.expm)(np.stack([a, np.zeros_like(a)])))
    np.testing.assert_allclose(got[0], want, rtol=4e-16, atol=0)
    np.testing.assert_array_equal(got[1], np.eye(len(a)))
    # never a finite number where the exponential is not finite
    assert not np.isfinite(np.asarray(fsl.expm(a))).all() or np.isfinite(want).all()


def test_expm_nonfinite_float32_and_complex(backend):
    a = np.array([[[-inf, 0.0], [0.0, 1.0]], [[1.0, 2.0], [3.0, 4.0]]])
    want = np.stack([np.diag([0.0, np.e]), _expm_reference(a[1])])
    got = _np(backend, fsl.expm(backend.asarray(a, dtype="float32")))
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=2e-6)   # (computed in single precision)
    c = np.array([[complex(-inf, 0.0), 0.0], [0.0, 1j]])
    np.testing.assert_allclose(np.asarray(fsl.expm(c)), np.diag([0.0, np.exp(1j)]), atol=1e-15)


def _diagonal_frechet(d, e):
    """d/dt expm(diag(d) + t e) at 0 for finite d: e_ij (e^d_i - e^d_j) / (d_i - d_j)."""
    mpmath = pytest.importorskip("mpmath")
    n = len(d)
    out = np.zeros((n, n))
    with mpmath.workdps(40):
        for i in range(n):
            for j in range(n):
                di, dj = mpmath.mpf(d[i]), mpmath.mpf(d[j])
                q = mpmath.exp(di) if di == dj else (mpmath.exp(di) - mpmath.exp(dj)) / (di - dj)
                out[i, j] = float(e[i, j] * q)
    return out


def test_expm_nonfinite_diagonal_derivatives():
    # d_0 = -inf: e^-inf = 0, and the divided differences with it are (0 - e^x) / -inf = 0;
    # the rest as for the finite diagonal (close entries 1, 1 + 1e-9: no cancellation)
    a = np.diag([-inf, 1.0, 1.0 + 1e-9])
    e = np.arange(1.0, 10.0).reshape(3, 3) * np.array([1, -1, 1])
    want = np.zeros((3, 3))
    want[1:, 1:] = _diagonal_frechet([1.0, 1.0 + 1e-9], e[1:, 1:])
    _, tan = ft.jvp(fsl.expm, (a,), (e,))
    np.testing.assert_allclose(np.asarray(tan), want, rtol=1e-14, atol=0)
    _, tan = ft.jit(ft.jvp, static_argnums=0)(fsl.expm, (a,), (e,))
    assert np.isnan(np.asarray(tan)).all()        # (staged: nan throughout, as the value)
    # reverse mode: the dot-product identity
    u = np.array([[0.5, 1.0, -2.0], [1.5, -1.0, 0.25], [2.0, 0.5, 1.0]])
    _, pull = ft.vjp(fsl.expm, a)
    (ct,) = pull(u)
    assert np.isfinite(np.asarray(ct)).all()
    np.testing.assert_allclose(np.sum(np.asarray(ct) * e), np.sum(u * want), rtol=1e-14)
    # second order: out_11 = e^a_11 while the other entries stay on the diagonal
    h = np.asarray(ft.hessian(lambda m: fsl.expm(m)[1, 1])(np.diag([-inf, 1.0])))
    want_h = np.zeros((2, 2, 2, 2))
    want_h[1, 1, 1, 1] = np.e
    np.testing.assert_allclose(h, want_h, rtol=1e-15, atol=0)


def test_expm_nonfinite_derivatives_stay_in_their_matrix():
    b = np.array([[[inf, 0.0], [0.0, 1.0]], [[1.0, 2.0], [3.0, 4.0]]])
    # (eagerly: staged, the inf matrix is nan throughout, and so are its slopes into the
    # other matrix's result — session 37 left it there, as before)
    for jac in (ft.jacfwd(fsl.expm), ft.jacrev(fsl.expm)):
        j = np.asarray(jac(b))
        # the finite matrix: its own derivative, none from the other matrix
        np.testing.assert_array_equal(j[1, :, :, 0], 0.0)
        np.testing.assert_array_equal(j[0, :, :, 1], 0.0)
        np.testing.assert_allclose(j[1, :, :, 1], np.asarray(ft.jacfwd(fsl.expm)(b[1])),
                                   rtol=1e-13)
        # diag(inf, 1): d out_00 / d a_00 = inf, d out_11 / d a_11 = e, the off-diagonal
        # (e^inf - e) / (inf - 1) undefined: nan, never a finite number
        j0 = j[0, :, :, 0].reshape(4, 4)
        assert j0[0, 0] == inf and j0[3, 3] == np.e
        assert np.isnan(j0[1, 1]) and np.isnan(j0[2, 2])
        np.testing.assert_array_equal(j0[[0, 0, 3, 3], [1, 3, 0, 2]], 0.0)


def test_expm_finite_diagonal_keeps_the_full_derivative():
    # a finite diagonal matrix is not special-cased: its off-diagonal derivative is kept
    a = np.diag([0.5, -2.0])
    e = np.array([[0.0, 1.0], [-3.0, 0.0]])
    _, tan = ft.jvp(fsl.expm, (a,), (e,))
    np.testing.assert_allclose(np.asarray(tan), _diagonal_frechet([0.5, -2.0], e), rtol=1e-14)


# -- lstsq: float16 ------------------------------------------------------------------------------

def test_lstsq_refuses_float16(backend):
    torch = pytest.importorskip("torch")
    for a in (np.float16([[1.0, 2.0], [3.0, 4.0]]),
              torch.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=torch.float16)):
        with pytest.raises(TypeError, match="lstsq: no float16"):
            fnp.linalg.lstsq(a, a)           # was solved in double, rounded to float16
    with pytest.raises(TypeError, match="lstsq: no float16"):
        fnp.linalg.lstsq(np.float16([[1.0, 2.0], [3.0, 4.0]]), np.float32([1.0, 2.0]))
    # float32 still solved (in double, as NumPy), float32 out
    x = fnp.linalg.lstsq(backend.asarray([[1.0, 2.0], [3.0, 4.0]], dtype="float32"),
                         backend.asarray([1.0, 2.0], dtype="float32"))[0]
    got = _np(backend, x)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, [0.0, 0.5], atol=1e-6)


# -- lu_factor / lu_solve: a -0.0 pivot ------------------------------------------------------------

def test_lu_factor_keeps_a_negative_zero_pivot():
    m = np.array([[-0.0, 1.0], [0.0, 2.0]])
    for f in (fsl.lu_factor, ft.jit(fsl.lu_factor)):
        lu, piv = f(m)
        assert np.signbit(np.asarray(lu)[0, 0])          # was +0.0
    # U^T y = b: y_0 = 1 / -0 = -inf, y_1 = (2 - y_0) / 2 = inf (SciPy's [nan, inf])
    b = np.array([1.0, 2.0])
    for f in (lambda m: fsl.lu_solve(fsl.lu_factor(m), b, trans=1),
              ft.jit(lambda m: fsl.lu_solve(fsl.lu_factor(m), b, trans=1))):
        got = np.asarray(f(m))
        assert np.isnan(got[0]) and got[1] == inf        # was -inf
    got = np.asarray(ft.vmap(lambda m: fsl.lu_solve(fsl.lu_factor(m), b, trans=1))(
        np.stack([m, np.array([[2.0, 1.0], [1.0, 3.0]])])))
    assert np.isnan(got[0, 0]) and got[0, 1] == inf
    np.testing.assert_allclose(got[1], np.linalg.solve(np.array([[2.0, 1.0], [1.0, 3.0]]).T, b))
    # the derivative at the singular matrix is still nan (no finite number)
    jac = np.asarray(ft.jacfwd(lambda m: fsl.lu_factor(m)[0])(m))
    assert np.isnan(jac).any()


def test_lu_factor_nonsingular_signs_unchanged():
    m = np.array([[-0.0, 1.0], [3.0, 2.0]])
    lu, piv = fsl.lu_factor(m)
    sp = pytest.importorskip("scipy.linalg")
    lu_s, piv_s = sp.lu_factor(m)
    np.testing.assert_array_equal(np.signbit(np.asarray(lu)), np.signbit(lu_s))
    np.testing.assert_array_equal(np.asarray(lu), lu_s)
    np.testing.assert_array_equal(np.asarray(piv), piv_s)
