"""Session 37, linalg37: fuzzing the linear algebra that session 36 did not reach (NumPy's
solve, lstsq, tensorsolve, tensorinv, pinv, matrix_power, multi_dot; SciPy's lu_factor /
lu_solve, cho_factor / cho_solve, solve_triangular, schur, hessenberg, expm, expm_frechet,
funm, the Sylvester and Lyapunov solvers, polar, block_diag). Fixed: expm's scaling
(Al-Mohy and Higham's count: over-scaled non-normal matrices lost up to 3 % of the result),
expm(0) not exactly I, pinv with an array rtol (nan derivative at repeated singular values;
a traced rtol refused under jit/vmap), clear errors for lu_solve's pivots, solve's 0-d b and
funm's real input under jit/vmap."""

import math

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
import functrans.scipy.linalg as fsl
from functrans.errors import ConcretizationError, ShapeError
from functrans.primitives import linalg as L

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

la = fnp.linalg


def _np(backend, x):
    assert backend.is_own(x), type(x)
    return np.asarray(backend.to_numpy(x))


def _expm_reference(a, dps=50):
    mpmath = pytest.importorskip("mpmath")
    with mpmath.workdps(dps):
        e = mpmath.expm(mpmath.matrix(np.asarray(a, dtype=np.float64).tolist()),
                        method="taylor")
        return np.array(e.tolist(), dtype=float)


def _frechet_reference(a, e):
    """d/dt expm(a + t e) at 0: the upper right block of expm([[a, e], [0, a]])."""
    n = a.shape[0]
    return _expm_reference(np.block([[a, e], [np.zeros((n, n)), a]]))[:n, n:]


# -- expm: the number of squarings --------------------------------------------------------------

# non-normal matrices that the 1-norm's count over-scaled (each squaring doubles the rounding
# error): the relative error of the largest entry, before -> after (SciPy's: <= 2e-16)
_NON_NORMAL = {
    "nilpotent 1e15": (np.array([[0.0, 1e15], [0.0, 0.0]]), 1e-15),        # 3e-2 ->  0
    "nilpotent 1e10": (np.array([[0.0, 1e10], [0.0, 0.0]]), 1e-15),        # 2.4e-7 -> 0
    "upper 1e8": (np.array([[-1.0, 1e8], [0.0, -2.0]]), 1e-14),            # 2.2e-9 -> 1.6e-16
    "3x3 upper": (np.array([[-1.0, 1e5, 0.0], [0.0, -2.0, 1e5], [0.0, 0.0, -3.0]]), 1e-14),
}


@pytest.mark.parametrize("name", sorted(_NON_NORMAL))
def test_expm_non_normal_accuracy(name):
    a, tol = _NON_NORMAL[name]
    want = _expm_reference(a)
    got = np.asarray(fsl.expm(a))
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol * np.abs(want).max())
    # the same under jit and vmap (one stack with a well-scaled matrix beside it)
    np.testing.assert_array_equal(np.asarray(ft.jit(fsl.expm)(a)), got)
    other = np.eye(a.shape[0]) * 3.0 + 0.1
    stacked = np.asarray(ft.vmap(fsl.expm)(np.stack([a, other])))
    np.testing.assert_allclose(stacked[0], got, rtol=1e-15, atol=0)


def test_expm_float32_non_normal():
    # [[0, 1e6], [0, -1]] in float32: 18 squarings gave 6.2797e5 and 0.36212 (0.7 % and
    # 1.6 % off); now as SciPy's (float32 rounding)
    a = np.array([[0.0, 1e6], [0.0, -1.0]], dtype=np.float32)
    want = _expm_reference(a)
    got = np.asarray(fsl.expm(a))
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


def test_expm_of_zero_is_exactly_the_identity():
    # 0.9999999999999999 on the diagonal before (the solve of b0 I by b0 I)
    for n in (1, 2, 5):
        for dt in (np.float64, np.float32, np.complex128):
            np.testing.assert_array_equal(np.asarray(fsl.expm(np.zeros((n, n), dt))),
                                          np.eye(n, dtype=dt))


def test_expm_extremes():
    # a nilpotent matrix at the largest floats needs no squaring, and its approximant's
    # terms stay finite (a floor on the count); badly scaled ones stay finite (SciPy: nan)
    np.testing.assert_array_equal(np.asarray(fsl.expm(np.array([[0.0, 1e300], [0.0, 0.0]]))),
                                  [[1.0, 1e300], [0.0, 1.0]])
    got = np.asarray(fsl.expm(np.array([[0.0, 1e300], [1e-300, 0.0]])))
    want = [[math.cosh(1.0), 1e300 * math.sinh(1.0)], [1e-300 * math.sinh(1.0), math.cosh(1.0)]]
    np.testing.assert_allclose(got, want, rtol=1e-7)
    # non-finite input propagates nan; a diagonal matrix's entries are apart (SciPy's:
    # the exponential of the diagonal; tests/test_s37_expm37.py)
    assert np.isnan(np.asarray(fsl.expm(np.array([[np.nan, 1.0], [0.0, 1.0]])))).all()
    np.testing.assert_array_equal(np.asarray(fsl.expm(np.array([[np.nan, 0.0], [0.0, 1.0]]))),
                                  [[np.nan, 0.0], [0.0, math.e]])


def test_expm_max_squarings_counts_the_new_scaling():
    # JAX's max_squarings: nan where more squarings are needed. The nilpotent [[0, 1e6],
    # [0, 0]] needs none now (exact), a rotation by 1e6 radians still needs 18
    nil = np.array([[0.0, 1e6], [0.0, 0.0]])
    np.testing.assert_array_equal(np.asarray(fsl.expm(nil, max_squarings=16)), nil + np.eye(2))
    rot = np.array([[0.0, 1e6], [-1e6, 0.0]])
    assert np.isnan(np.asarray(fsl.expm(rot, max_squarings=16))).all()
    c, s = math.cos(1e6), math.sin(1e6)
    np.testing.assert_allclose(np.asarray(fsl.expm(rot)), [[c, s], [-s, c]], atol=1e-9)


def test_expm_squarings_primitive():
    a = np.stack([np.array([[30.0, 1.0], [2.0, -40.0]]), np.array([[0.0, 1e6], [0.0, 0.0]]),
                  np.array([[1.0, 2.0], [0.5, 1.0]]), np.array([[np.inf, 0.0], [0.0, 1.0]])])
    s = np.asarray(L.expm_squarings(a))
    # a diagonal-dominant normal-ish matrix: log2(||A||_1 / 4.25) rounded up; a nilpotent: 0;
    # a small one: 0; a non-finite one: 0
    assert s.tolist() == [math.ceil(math.log2(42.0 / 4.25)), 0.0, 0.0, 0.0]
    assert s.dtype == np.float64
    assert np.asarray(L.expm_squarings(a.astype(np.complex64))).dtype == np.float32
    # no derivative: a zero tangent
    _, t = ft.jvp(L.expm_squarings, (a[:3],), (np.ones_like(a[:3]),))
    np.testing.assert_array_equal(np.asarray(t), 0.0)
    with pytest.raises(ShapeError):
        L.expm_squarings(np.ones((2, 3)))


def test_expm_squarings_backends(backend):
    a = np.stack([np.array([[30.0, 1.0], [2.0, -40.0]]), np.array([[0.0, 1e6], [0.0, 0.0]]),
                  np.array([[1.0, 2.0], [0.5, 1.0]])])
    got = _np(backend, L.expm_squarings(backend.asarray(a)))
    np.testing.assert_array_equal(got, np.asarray(L.expm_squarings(a)))
    # expm itself, non-normal, on every backend: as NumPy's
    m = np.array([[-1.0, 1e8], [0.0, -2.0]])
    np.testing.assert_allclose(_np(backend, fsl.expm(backend.asarray(m))),
                               np.asarray(fsl.expm(m)), rtol=1e-14)


@pytest.mark.parametrize("a", [
    np.array([[-1.0, 1e4, 0.0], [0.0, -2.0, 1e4], [0.0, 0.0, -3.0]]) * 1e-3,
    np.array([[0.0, 1e3], [0.0, 0.0]]),
    np.array([[0.3, -0.2, 1.5], [0.1, 2.0, -0.7], [-1.2, 0.4, 1.1]]) * 3.0,
], ids=["upper", "nilpotent", "general"])
def test_expm_derivatives_exact(a):
    # first and second directional derivatives against expm of block matrices (mpmath)
    v = np.random.default_rng(0).standard_normal(a.shape)
    n = a.shape[0]
    z = np.zeros((n, n))
    first = _frechet_reference(a, v)
    second = 2.0 * _expm_reference(np.block([[a, v, z], [z, a, v], [z, z, a]]))[:n, 2 * n:]
    _, t = ft.jvp(fsl.expm, (a,), (v,))
    np.testing.assert_allclose(np.asarray(t), first, rtol=1e-12, atol=1e-12 * np.abs(first).max())
    _, t2 = ft.jvp(lambda x: ft.jvp(fsl.expm, (x,), (v,))[1], (a,), (v,))
    np.testing.assert_allclose(np.asarray(t2), second, rtol=1e-11,
                               atol=1e-11 * np.abs(second).max())
    # reverse mode: <u, J v> = <J^T u, v>
    u = np.random.default_rng(1).standard_normal(a.shape)
    (g,) = ft.vjp(fsl.expm, a)[1](u)
    assert np.sum(np.asarray(g) * v) == pytest.approx(np.sum(u * first), rel=1e-11)
    # expm_frechet is that derivative
    np.testing.assert_allclose(np.asarray(fsl.expm_frechet(a, v, compute_expm=False)), first,
                               rtol=1e-12, atol=1e-12 * np.abs(first).max())


# -- pinv with an rtol per matrix ---------------------------------------------------------------


def test_pinv_array_rtol_derivative_at_repeated_singular_values(backend):
    # an orthogonal matrix (all singular values 1): the derivative of pinv at constant rank
    # is finite; through the SVD (the array rtol's path) it was nan in every entry
    q = np.linalg.qr(np.random.default_rng(0).standard_normal((3, 3)))[0]
    x = backend.asarray(q[None])

    def number(a):
        return la.pinv(a, rtol=1e-10)

    def per_matrix(a):
        return la.pinv(a, rtol=backend.asarray([1e-10]))
    for jac in (ft.jacfwd, ft.jacrev):
        want = _np(backend, jac(number)(x))
        got = _np(backend, jac(per_matrix)(x))
        assert np.isfinite(got).all()
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-13)


def test_pinv_array_rtol_values_and_transforms():
    x = np.random.default_rng(1).standard_normal((2, 4, 3))
    r = np.array([1e-10, 0.5])
    want = np.linalg.pinv(x, rtol=r)
    np.testing.assert_allclose(np.asarray(la.pinv(x, rtol=r)), want, rtol=1e-12)
    np.testing.assert_allclose(np.asarray(la.pinv(x, rcond=r)), want, rtol=1e-12)
    # traced rtol: jit (0-d and per matrix), vmap over it (float() refused them before)
    np.testing.assert_allclose(np.asarray(ft.jit(lambda a, t: la.pinv(a, rtol=t))(x, r)), want,
                               rtol=1e-12)
    np.testing.assert_allclose(
        np.asarray(ft.jit(lambda a, t: la.pinv(a, rtol=t))(x, np.array(0.5))),
        np.linalg.pinv(x, rtol=0.5), rtol=1e-12)
    np.testing.assert_allclose(np.asarray(ft.vmap(lambda a, t: la.pinv(a, rtol=t))(x, r)), want,
                               rtol=1e-12)
    # the cut-off carries no derivative
    np.testing.assert_array_equal(
        np.asarray(ft.grad(lambda t: fnp.sum(la.pinv(x, rtol=t)))(np.array([0.1, 0.2]))), 0.0)
    # the derivative in a, as the number rtol's
    g1 = np.asarray(ft.grad(lambda a: fnp.sum(la.pinv(a, rtol=np.array([1e-10, 1e-10]))))(x))
    g2 = np.asarray(ft.grad(lambda a: fnp.sum(la.pinv(a, rtol=1e-10)))(x))
    np.testing.assert_allclose(g1, g2, rtol=1e-12, atol=1e-13)
    with pytest.raises(ShapeError, match="one value per matrix"):
        la.pinv(x, rtol=np.array([0.1, 0.2, 0.3]))
    with pytest.raises(TypeError, match="must be real"):
        la.pinv(x, rtol=np.array([0.1j, 0.2]))


# -- clear errors -------------------------------------------------------------------------------


def test_clear_errors():
    # solve with a 0-d b: IndexError before
    with pytest.raises(ShapeError, match="x2 must be a vector"):
        la.solve(np.eye(2), 1.0)
    # lu_solve with pivots of the wrong length: one pivot was taken as "no more swaps", a
    # silent wrong solution (SciPy raises)
    lu, piv = fsl.lu_factor(np.array([[1.0, 2.0, 0.0], [3.0, 1.0, 1.0], [0.0, 2.0, 5.0]]))
    with pytest.raises(ValueError, match=r"piv must hold one pivot per row"):
        fsl.lu_solve((lu, piv[:2]), np.ones(3))
    with pytest.raises(ValueError, match=r"piv must hold one pivot per row"):
        fsl.lu_solve((lu, np.asarray(0)), np.ones(3))
    np.testing.assert_allclose(np.asarray(fsl.lu_solve((lu, piv), np.ones(3))),
                               np.linalg.solve([[1.0, 2.0, 0.0], [3.0, 1.0, 1.0],
                                                [0.0, 2.0, 5.0]], np.ones(3)), rtol=1e-14)


def test_funm_under_jit_and_vmap():
    a = np.array([[1.0, 2.0], [0.5, 3.0]])
    want = np.asarray(fsl.funm(a, fnp.exp))
    # real input: the dtype is decided on the values, which jit and vmap lack: a message
    # that says to pass complex input (was a generic bool() ConcretizationError)
    for tr in (ft.jit, ft.vmap):
        x = a if tr is ft.jit else a[None]
        with pytest.raises(ConcretizationError, match="Pass a complex A"):
            tr(lambda m: fsl.funm(m, fnp.exp))(x)
    # complex input runs under both, errest a 0-d array there (float() failed under jit)
    c = a.astype(np.complex128)
    f, err = ft.jit(lambda m: fsl.funm(m, fnp.exp, disp=False))(c)
    np.testing.assert_allclose(np.asarray(f), want, rtol=1e-13)
    assert np.asarray(err).shape == () and float(err) < 1e-12
    fv = ft.vmap(lambda m: fsl.funm(m, fnp.exp))(np.stack([c, 2 * c]))
    np.testing.assert_allclose(np.asarray(fv)[1], np.asarray(fsl.funm(2 * a, fnp.exp)),
                               rtol=1e-13)
    assert isinstance(fsl.funm(c, fnp.exp, disp=False)[1], float)
    # a func that is not vectorized: a clear ValueError (a ShapeError from matmul before)
    with pytest.raises(ValueError, match="func must be vectorized"):
        fsl.funm(a, lambda z: z[:1])


# -- the fuzzed functions against NumPy / SciPy (a regression net) ------------------------------

_DTYPES = [np.float32, np.float64, np.complex64, np.complex128]


def _rand(rng, shape, dt):
    x = rng.standard_normal(shape)
    if np.dtype(dt).kind == "c":
        x = x + 1j * rng.standard_normal(shape)
    return x.astype(dt)


def _close(got, want, dt):
    tol = 2e-4 if np.dtype(dt) in (np.float32, np.complex64) else 1e-10
    got = np.asarray(got)
    assert got.shape == np.shape(want) and got.dtype == np.asarray(want).dtype
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


@pytest.mark.parametrize("dt", _DTYPES, ids=lambda d: np.dtype(d).name)
def test_numpy_linalg_values(dt):
    rng = np.random.default_rng(37)
    for sa, sb in [((3, 3), (3,)), ((2, 3, 3), (3, 2)), ((1, 3, 3), (4, 3, 2)), ((0, 3, 3), (3,)),
                   ((0, 0), (0, 2)), ((1, 1), (1,))]:
        a = (_rand(rng, sa, dt) + 3 * np.eye(sa[-1])).astype(dt)
        b = _rand(rng, sb, dt)
        _close(la.solve(a, b), np.linalg.solve(a, b), dt)
        for n in (-2, 0, 3):
            _close(la.matrix_power(a, n), np.linalg.matrix_power(a, n), dt)
    for sa in [(5, 3), (3, 5), (1, 1), (0, 3)]:
        a, b = _rand(rng, sa, dt), _rand(rng, (sa[0], 2), dt)
        for rc in (None, 0.3):
            got, want = la.lstsq(a, b, rcond=rc, numpy_resid=True), np.linalg.lstsq(a, b, rcond=rc)
            for g, w in zip(got, want):
                if np.asarray(w).dtype.kind in "fc":
                    _close(g, w, dt)
                else:  # (the rank)
                    assert int(g) == int(w)
            _close(la.pinv(a, rcond=rc if rc else 1e-15), np.linalg.pinv(a, rcond=rc or 1e-15), dt)
    arrs = [_rand(rng, s, dt) for s in [(3,), (3, 4), (4, 5), (5, 2)]]
    _close(la.multi_dot(arrs), np.linalg.multi_dot(arrs), dt)
    t = (_rand(rng, (6, 6), dt) + 3 * np.eye(6)).astype(dt).reshape(2, 3, 6)
    _close(la.tensorinv(t, 2), np.linalg.tensorinv(t, 2), dt)
    tb = _rand(rng, (2, 3), dt)
    _close(la.tensorsolve(t, tb), np.linalg.tensorsolve(t, tb), dt)


@pytest.mark.parametrize("dt", _DTYPES, ids=lambda d: np.dtype(d).name)
def test_scipy_linalg_values(dt):
    sla = pytest.importorskip("scipy.linalg")
    rng = np.random.default_rng(38)
    for sa in [(3, 3), (2, 3, 3), (1, 1)]:
        a = (_rand(rng, sa, dt) + 3 * np.eye(sa[-1])).astype(dt)
        n = sa[-1]
        spd = (a @ np.conj(np.swapaxes(a, -1, -2)) + np.eye(n)).astype(dt)
        for sb in [(n,), (n, 2)]:
            b = _rand(rng, sb, dt)
            for trans in (0, 1, 2):
                for lower in (False, True):
                    _close(fsl.solve_triangular(a, b, trans=trans, lower=lower,
                                                unit_diagonal=lower),
                           sla.solve_triangular(a, b, trans=trans, lower=lower,
                                                unit_diagonal=lower), dt)
                _close(fsl.lu_solve(fsl.lu_factor(a), b, trans=trans),
                       sla.lu_solve(sla.lu_factor(a), b, trans=trans), dt)
            for lower in (False, True):
                _close(fsl.cho_solve(fsl.cho_factor(spd, lower=lower), b),
                       sla.cho_solve(sla.cho_factor(spd, lower=lower), b), dt)
        _close(fsl.lu_factor(a)[0], sla.lu_factor(a)[0], dt)
        _close(fsl.hessenberg(a), sla.hessenberg(a), dt)
        _close(fsl.expm(a * 0.5), sla.expm(a * 0.5), dt)
    a = _rand(rng, (4, 3), dt)
    for side in ("right", "left"):
        for g, w in zip(fsl.polar(a, side), sla.polar(a, side)):
            _close(g, w, dt)
    q = _rand(rng, (3, 2), dt)
    a3, b2 = (_rand(rng, (3, 3), dt) + 3 * np.eye(3)).astype(dt), \
        (_rand(rng, (2, 2), dt) + 3 * np.eye(2)).astype(dt)
    _close(fsl.solve_sylvester(a3, b2, q), sla.solve_sylvester(a3, b2, q), dt)
    _close(fsl.block_diag(a3, q, b2[0]), sla.block_diag(a3, q, b2[0]), dt)


def test_expm_frechet_of_booleans_is_the_float_one():
    # SciPy computes boolean input wrongly (0.7757 where the float one gives 0.7715); here
    # it is the derivative of the float64 matrices
    sla = pytest.importorskip("scipy.linalg")
    a = np.array([[0, 1, 0], [1, 0, 0], [0, 0, 1]], dtype=bool)
    e = np.array([[0, 0, 0], [1, 1, 1], [1, 1, 1]], dtype=bool)
    want = sla.expm_frechet(a.astype(float), e.astype(float))[1]
    np.testing.assert_allclose(np.asarray(fsl.expm_frechet(a, e)[1]), want, rtol=1e-14)
    np.testing.assert_allclose(want, _frechet_reference(a.astype(float), e.astype(float)),
                               rtol=1e-14)


# -- derivatives of the fuzzed functions: finite differences and the dot-product identity -------

_RNG = np.random.default_rng(370)
_A = _RNG.standard_normal((3, 3)) + 3 * np.eye(3)
_B = _RNG.standard_normal((3, 2))
_SPD = _A @ _A.T + np.eye(3)
_TALL = _RNG.standard_normal((5, 3))
_B5 = _RNG.standard_normal((5, 2))
_DERIVS = {
    "solve": (lambda a: la.solve(a, _B), _A),
    "lstsq x": (lambda a: la.lstsq(a, _B5)[0], _TALL),
    "lstsq residuals": (lambda a: la.lstsq(a, _B5)[1], _TALL),
    "lstsq wide": (lambda a: la.lstsq(a, _B[:, 0])[0], _TALL.T),
    "pinv": (la.pinv, _TALL),
    "matrix_power -3": (lambda a: la.matrix_power(a, -3), _A),
    "multi_dot": (lambda a: la.multi_dot([_B[:, 0], a, a, _B]), _A),
    "tensorinv": (lambda a: la.tensorinv(fnp.reshape(a, (3, 1, 3)), 1), _A),
    "tensorsolve": (lambda a: la.tensorsolve(fnp.reshape(a, (3, 3, 1)), _B[:, 0]), _A),
    "solve_triangular T": (lambda a: fsl.solve_triangular(a, _B, trans=1, lower=True), _A),
    "solve_triangular C unit": (lambda a: fsl.solve_triangular(a, _B, trans=2,
                                                               unit_diagonal=True), _A),
    "lu_factor": (lambda a: fsl.lu_factor(a)[0], _A),
    "lu_solve T": (lambda a: fsl.lu_solve(fsl.lu_factor(a), _B, trans=1), _A),
    "cho_factor": (lambda a: fsl.cho_factor(a)[0], _SPD),
    "cho_solve lower": (lambda a: fsl.cho_solve(fsl.cho_factor(a, lower=True), _B), _SPD),
    "hessenberg Q": (lambda a: fsl.hessenberg(a, calc_q=True)[1], _RNG.standard_normal((4, 4))),
    "expm": (lambda a: fsl.expm(2.0 * a), _A),
    "expm_frechet": (lambda a: fsl.expm_frechet(0.3 * a, _SPD * 0.1)[1], _A),
    "polar u": (lambda a: fsl.polar(a)[0], _TALL),
    "polar left p": (lambda a: fsl.polar(a, "left")[1], _TALL.T),
    "solve_sylvester": (lambda a: fsl.solve_sylvester(a, _A[:2, :2] + np.eye(2), _B), _A),
    "lyapunov": (lambda a: fsl.solve_continuous_lyapunov(a, _SPD), _A),
    "discrete lyapunov bilinear": (lambda a: fsl.solve_discrete_lyapunov(0.2 * a, _SPD,
                                                                         method="bilinear"), _A),
}


@pytest.mark.parametrize("name", sorted(_DERIVS))
def test_derivatives_match_finite_differences(name):
    f, x = _DERIVS[name]
    rng = np.random.default_rng(abs(hash(name)) % 2**32)
    v = rng.standard_normal(x.shape)
    y, t = ft.jvp(f, (x,), (v,))
    h = 1e-6
    fd = (np.asarray(f(x + h * v)) - np.asarray(f(x - h * v))) / (2 * h)
    np.testing.assert_allclose(np.asarray(t), fd, rtol=1e-6, atol=1e-6 * (1 + np.abs(fd).max()))
    u = rng.standard_normal(np.shape(y))
    (g,) = ft.vjp(f, x)[1](u)
    assert np.sum(np.asarray(g) * v) == pytest.approx(np.sum(u * np.asarray(t)), rel=1e-10,
                                                      abs=1e-12)
    # jit(vmap(grad)) as the loop of grads
    loss = lambda a: fnp.sum(fnp.sin(f(a)))   # noqa: E731
    xs = np.stack([x, 1.01 * x])
    want = np.stack([np.asarray(ft.grad(loss)(m)) for m in xs])
    np.testing.assert_allclose(np.asarray(ft.jit(ft.vmap(ft.grad(loss)))(xs)), want,
                               rtol=1e-10, atol=1e-12)


def test_lu_factor_singular_last_pivot_has_a_derivative():
    # a zero pivot on the last step has no rows below it: L and U are smooth there (JAX's
    # is nan in every entry); a zero pivot with rows below has none (nan, as JAX's)
    s = np.array([[1.0, 2.0], [2.0, 4.0]])
    v = np.array([[0.3, -0.1], [0.7, 0.2]])
    _, t = ft.jvp(lambda a: fsl.lu_factor(a)[0], (s,), (v,))
    h = 1e-7
    fd = (np.asarray(fsl.lu_factor(s + h * v)[0]) - np.asarray(fsl.lu_factor(s - h * v)[0])) / (2 * h)
    np.testing.assert_allclose(np.asarray(t), fd, rtol=1e-7, atol=1e-7)
    z = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 1.0], [3.0, 6.0, 5.0]])
    assert np.isnan(np.asarray(ft.jacfwd(lambda a: fsl.lu_factor(a)[0])(z))[1, 1]).all()


def test_against_jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jnp, jsl = jax.numpy, jax.scipy.linalg
    pairs = [
        (lambda a, b: la.solve(a, b), jnp.linalg.solve, (_A, _B)),
        (lambda a, b: la.lstsq(a, b)[0], lambda a, b: jnp.linalg.lstsq(a, b)[0], (_TALL, _B5)),
        (la.pinv, jnp.linalg.pinv, (_TALL,)),
        (lambda a, b: fsl.solve_triangular(a, b, lower=True, trans=1),
         lambda a, b: jsl.solve_triangular(a, b, lower=True, trans=1), (_A, _B)),
    ]   # (and expm, lu_solve, polar, matrix_power alike: left out, JAX compiles them slowly)
    rng = np.random.default_rng(7)
    for f, g, args in pairs:
        dirs = tuple(rng.standard_normal(np.shape(a)) for a in args)
        mine = ft.jvp(f, args, dirs)
        theirs = jax.jvp(g, tuple(jnp.asarray(a) for a in args),
                         tuple(jnp.asarray(d) for d in dirs))
        for m, t in zip(jax.tree_util.tree_leaves(mine), jax.tree_util.tree_leaves(theirs)):
            np.testing.assert_allclose(np.asarray(m), np.asarray(t), rtol=1e-9, atol=1e-10)
