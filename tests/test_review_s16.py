"""Review s16: derivatives at special points (kinks, ties, singular points), linear algebra
derivatives, dtype and library propagation through the transforms, and transform composition,
against JAX (x64), finite differences and closed forms. Regressions for the silent wrong answers
found (each fails on the code before its fix), and checks of behaviour confirmed against the
references.

Fixed: logaddexp2's second derivative at ties (0, the kinks of max + log2(1 + 2**-|d|) cancel in
value only); fmod's derivative in x1 at x1 = 0 (0: abs's derivative at 0) and modf's fractional
part at negative integers (-1: copysign of +0.0); cbrt's derivative at 0 (nan, now +inf);
interp's derivative in x at the knots (0); d/dz c**z for a negative real Python number c
(silently nan) or a complex one (TypeError); scipy.linalg.polar's derivatives at repeated
singular values (nan at the identity and at every orthogonal matrix); nanmedian's value with a
middle -inf (nan; NumPy's middle value or mean of the two middle values now).

Conventions kept where JAX differs (each checked here): ``|x|``'s derivative at 0 is 0 (JAX: 1),
so are the vector norms' derivatives at a zero entry; ``clip`` passes the whole derivative at its
bounds (JAX: 1/2); ``fmax``/``fmin`` share it at ties as ``maximum`` does (JAX: all to ``x2``);
``power(x, y)``'s derivative in ``x`` at ``x = y = 0`` is 0 (JAX: nan; ``x ** 0`` is constant).
Where JAX is wrong: the second derivative of ``hypot`` (JAX 0.10 gives 0 away from the origin,
the closed form is ``y**2 / r**3``), ``ldexp(x, n)``'s derivative at ``x = 0`` (JAX: 1, the
closed form is ``2**n``) and the holomorphic derivative of ``arccosh`` for ``Re z < 0`` (JAX
takes the other branch of ``sqrt(z**2 - 1)``).

Found and fixed since (tests kept below, more in tests/test_linalg_s16.py): det's derivative at
a singular matrix (the adjugate now), and fnp.linalg.eigvalsh's (eigh's, cholesky's) derivative
for a non-symmetric input.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.testing import check_grads


def _np(backend, x):
    return backend.to_numpy(x)


# -- derivatives at special points -------------------------------------------------------------


@pytest.mark.parametrize("x", [0.0, 1.0, -1.0, 6.0, -2.5])
def test_logaddexp2_second_derivative_at_ties(backend, x):
    # log2(2**x + 2**y) = y + log2(1 + 2**(x - y)); at x = y its second derivative in x is
    # ln2 / 4. It was 0: the formula max(x, y) + log2(1 + 2**-|x - y|) has kinks that cancel
    # in value but not under AD.
    xa, ya = backend.asarray(x), backend.asarray(x)
    h = ft.hessian(fnp.logaddexp2, argnums=(0, 1))(xa, ya)
    want = math.log(2.0) / 4.0
    np.testing.assert_allclose(_np(backend, h[0][0]), want, rtol=1e-12)
    np.testing.assert_allclose(_np(backend, h[0][1]), -want, rtol=1e-12)
    np.testing.assert_allclose(_np(backend, h[1][1]), want, rtol=1e-12)
    g = ft.grad(fnp.logaddexp2, argnums=(0, 1))(xa, ya)
    np.testing.assert_allclose([_np(backend, g[0]), _np(backend, g[1])], [0.5, 0.5], rtol=1e-15)
    check_grads(fnp.logaddexp2, (xa, ya), order=3)


def test_logaddexp2_values_and_infinities_unchanged():
    rng = np.random.default_rng(0)
    a = np.concatenate([rng.normal(size=40) * 30, [np.inf, -np.inf, np.nan, 0.0, 1e308, 5.0]])
    b = np.concatenate([rng.normal(size=40) * 30, [np.inf, -np.inf, 1.0, 0.0, 1e308, 5.0]])
    A, B = np.meshgrid(a, b)
    with np.errstate(invalid="ignore"):
        want = np.logaddexp2(A, B)
    got = np.asarray(fnp.logaddexp2(A, B))
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_array_equal(got[np.isinf(want)], want[np.isinf(want)])
    np.testing.assert_allclose(got, want, rtol=4e-15, atol=1e-15)
    # derivatives at infinite and far apart operands: the softmax weights, no nan
    g = ft.grad(fnp.logaddexp2, argnums=(0, 1))
    assert [float(v) for v in g(np.inf, 1.0)] == [1.0, 0.0]
    assert [float(v) for v in g(-np.inf, 1.0)] == [0.0, 1.0]
    assert [float(v) for v in g(1e4, -1e4)] == [1.0, 0.0]
    assert [float(v) for v in g(np.inf, np.inf)] == [0.5, 0.5]  # as logaddexp's
    assert [float(v) for v in g(-np.inf, -np.inf)] == [0.5, 0.5]
    assert fnp.logaddexp2(np.array([1.0], np.float32), 2.0).dtype == np.float32
    assert fnp.logaddexp2(np.float32(1.0), 2.0).dtype == np.float32


@pytest.mark.parametrize("y", [2.0, -1.0, 3.5])
def test_fmod_derivative_at_zero_numerator(backend, y):
    # fmod(x, y) = x near x = 0: the derivative is 1. It was 0 there (abs's derivative at 0).
    for x in (0.0, -0.0):
        xa = backend.asarray(x)
        assert float(_np(backend, ft.grad(lambda v: fnp.fmod(v, y))(xa))) == 1.0
        assert float(_np(backend, ft.jacfwd(lambda v: fnp.fmod(v, y))(xa))) == 1.0
    xs = backend.asarray([0.0, 1.25, -1.25, 7.5, -7.5])
    check_grads(lambda v, w: fnp.fmod(v, w), (xs, backend.asarray(y)), order=2)


def test_fmod_values_and_signs_match_numpy():
    x = np.array([-1.0, -0.0, 0.0, 1e-300, 2.0, -2.0, 7.5, -7.5, np.inf, -np.inf])
    for y in (2.0, -2.0, np.inf, 1e-300):
        with np.errstate(invalid="ignore"):
            want = np.fmod(x, y)
        got = np.asarray(fnp.fmod(x, y))
        np.testing.assert_array_equal(got, want)
        ok = ~np.isnan(want)
        np.testing.assert_array_equal(np.signbit(got[ok]), np.signbit(want[ok]))


def test_cbrt_derivative_at_zero_is_infinite(backend):
    # d/dx x**(1/3) -> +inf at 0 from both sides (JAX: inf); it was inf * 0 = nan.
    for x in (0.0, -0.0):
        xa = backend.asarray(x)
        assert float(_np(backend, ft.grad(fnp.cbrt)(xa))) == math.inf
        assert float(_np(backend, ft.jacfwd(fnp.cbrt)(xa))) == math.inf
    x = np.array([-8.0, -0.0, 0.0, 1e-300, 27.0, np.inf, -np.inf, np.nan])
    got = np.asarray(fnp.cbrt(x))
    # (to an ulp: NumPy's own cbrt differs by one between its SIMD and scalar loops on
    # some CPUs, 3.0000000000000004 for 27)
    np.testing.assert_allclose(got, np.cbrt(x), rtol=2.3e-16, atol=0)
    np.testing.assert_array_equal(np.signbit(got), np.signbit(np.cbrt(x)))
    check_grads(fnp.cbrt, (backend.asarray([-8.0, -0.5, 0.3, 27.0]),), order=2)


def test_interp_derivative_in_x_at_the_knots(backend):
    # At a knot the derivative in x is the slope of the segment to its right (JAX's), and at
    # the last knot that of the last segment; it was 0 at every knot.
    xp = np.arange(5.0)
    fp = xp ** 2
    x = np.array([0.0, 1.0, 2.0, 3.0, 4.0, 2.5, -1.0, 5.0])
    d = ft.jacfwd(lambda v: fnp.interp(v, backend.asarray(xp), backend.asarray(fp)))(
        backend.asarray(x))
    np.testing.assert_array_equal(np.diag(_np(backend, d)), [1.0, 3.0, 5.0, 7.0, 7.0, 5.0, 0.0, 0.0])
    r = ft.jacrev(lambda v: fnp.interp(v, backend.asarray(xp), backend.asarray(fp)))(
        backend.asarray(x))
    np.testing.assert_array_equal(_np(backend, r), _np(backend, d))
    # through the knots themselves (xp and fp): the line's derivatives, as JAX's
    jx = ft.jacrev(lambda p: fnp.interp(backend.asarray(x[:5]), p, p ** 2))(backend.asarray(xp))
    # at x = xp[i] < xp[-1] the value is fp[i] + (xp[i] + xp[i+1]) (x - xp[i]): d/dxp[i] is
    # 2 xp[i] - (xp[i] + xp[i+1]) = -1; at the last knot fp[-1] + slope (x - xp[-1]) gives
    # 2 xp[-1] - slope = 8 - 7 = 1
    want = -np.eye(5)
    want[4, 4] = 1.0
    np.testing.assert_allclose(_np(backend, jx), want, atol=1e-12)
    # values at the knots stay NumPy's exactly (also where a slope is infinite)
    xp2 = np.array([0.0, 1, 1, 2, 3, 3])
    fp2 = np.array([1.0, np.inf, 2, -1.0, 5, 6])
    x2 = np.array([0.0, 0.5, 1, 1.5, 2, 2.5, 3, 4, -0.5])
    with np.errstate(invalid="ignore"):
        np.testing.assert_array_equal(np.asarray(fnp.interp(x2, xp2, fp2)), np.interp(x2, xp2, fp2))


@pytest.mark.parametrize("base", [-2.0, 1j, 2.0 + 1.0j, 3.0])
def test_complex_power_of_a_python_number_base(backend, base):
    # d/dz c**z = log(c) c**z with the principal log: for a negative real c the real log
    # (nan) was used, a silently nan derivative; a complex c raised a TypeError.
    z = backend.asarray([0.5 + 0.3j, 2.0 - 1.0j], dtype="complex128")
    want = np.log(complex(base)) * complex(base) ** backend.to_numpy(z)
    for jac in (ft.jacfwd, ft.jacrev):
        d = _np(backend, jac(lambda v: base ** v, holomorphic=True)(z))
        np.testing.assert_allclose(np.diag(d), want, rtol=1e-13)
    g = ft.grad(lambda v: fnp.sum(fnp.abs(fnp.power(base, v)) ** 2))(z)
    # |c**z|**2 = exp(2 Re(z log c)) = f: JAX's gradient df/dx - i df/dy is 2 f log(c)
    lc = np.log(complex(base))
    val = np.exp(2 * (backend.to_numpy(z) * lc).real)
    np.testing.assert_allclose(_np(backend, g), 2 * val * lc, rtol=1e-12)


def test_real_power_of_a_negative_python_number_keeps_nan_derivative_in_the_exponent():
    # (-2.0) ** y for real y is real only at integers; its derivative in y is nan (as JAX),
    # while the derivative in a positive base's exponent is log(c) c**y.
    assert math.isnan(float(ft.grad(lambda y: (-2.0) ** y)(2.0)))
    np.testing.assert_allclose(float(ft.grad(lambda y: 3.0 ** y)(2.0)), 9.0 * math.log(3.0))
    assert float(ft.grad(lambda y: 0.0 ** y)(2.0)) == 0.0


def test_modf_fraction_derivative_at_negative_integers(backend):
    # The fractional part x - trunc(x) has derivative 1 everywhere; at negative integers (and
    # -0.0) it was -1: copysign(+0.0, x) flipped the tangent to put back NumPy's -0.0.
    x = backend.asarray([-3.0, -1.0, -0.0, 0.0, 2.0, -2.5, 1.25])
    for jac in (ft.jacfwd, ft.jacrev):
        d = _np(backend, jac(lambda v: fnp.modf(v)[0])(x))
        np.testing.assert_array_equal(np.diag(d), np.ones(7))
        np.testing.assert_array_equal(_np(backend, jac(lambda v: fnp.modf(v)[1])(x)), np.zeros((7, 7)))
    v = np.array([-3.5, -1.0, -0.0, 0.0, 1.0, np.inf, -np.inf, np.nan, 1e300, -1e-300, -7.0])
    frac, whole = fnp.modf(v)
    nfrac, nwhole = np.modf(v)
    np.testing.assert_array_equal(np.asarray(frac), nfrac)
    np.testing.assert_array_equal(np.asarray(whole), nwhole)
    ok = ~np.isnan(nfrac)
    np.testing.assert_array_equal(np.signbit(np.asarray(frac))[ok], np.signbit(nfrac)[ok])
    assert fnp.modf(np.float32(-2.0))[0].dtype == np.float32


# -- linear algebra ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["identity", "repeated", "rotation", "tall_orthonormal"])
def test_polar_derivatives_at_repeated_singular_values(backend, name):
    # u = a (a^H a)^{-1/2} and p = (a^H a)^{1/2} are smooth wherever a has full rank, but their
    # derivatives went through the SVD's (1 / (s_i^2 - s_j^2)) and were nan at the identity,
    # at any orthogonal matrix, wherever two singular values are equal (JAX's default is
    # finite there).
    import functrans.scipy.linalg as fsl
    rng = np.random.default_rng(3)
    a = {"identity": np.eye(3), "repeated": np.diag([2.0, 2.0, 3.0]),
         "rotation": np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]),
         "tall_orthonormal": np.linalg.qr(rng.normal(size=(5, 3)))[0]}[name]
    sides = ("right",) if a.shape[0] > a.shape[1] else ("right", "left")
    for side in sides:
        for k in (0, 1):
            def f(v, k=k, side=side):
                return fsl.polar(v, side=side)[k]
            x = backend.asarray(a)
            d = _np(backend, ft.jacfwd(f)(x))
            r = _np(backend, ft.jacrev(f)(x))
            assert np.isfinite(d).all() and np.isfinite(r).all()
            np.testing.assert_allclose(d, r, atol=1e-12)
            check_grads(f, (x,), order=1)
    if name == "identity":
        # closed form at I: du = (da - da^T) / 2, dp = (da + da^T) / 2
        da = rng.normal(size=(3, 3))
        (u, p), (du, dp) = ft.jvp(lambda v: fsl.polar(v), (backend.asarray(a),),
                                  (backend.asarray(da),))
        np.testing.assert_allclose(_np(backend, du), (da - da.T) / 2, atol=1e-12)
        np.testing.assert_allclose(_np(backend, dp), (da + da.T) / 2, atol=1e-12)


def test_polar_values_match_scipy_and_complex_derivatives():
    import scipy.linalg
    import functrans.scipy.linalg as fsl
    rng = np.random.default_rng(4)
    for shape in [(3, 3), (5, 3), (3, 5), (2, 3, 3)]:
        a = rng.normal(size=shape)
        for side in ("right", "left"):
            u, p = fsl.polar(a, side=side)
            if a.ndim == 2:
                su, sp = scipy.linalg.polar(a, side=side)
                np.testing.assert_allclose(np.asarray(u), su, atol=1e-12)
                np.testing.assert_allclose(np.asarray(p), sp, atol=1e-12)
            check_grads(lambda v, side=side: fsl.polar(v, side=side), (a,), order=2)
    # complex, through the real and imaginary parts (also the identity)
    for re, im in [(rng.normal(size=(3, 3)), rng.normal(size=(3, 3))),
                   (np.eye(3), np.zeros((3, 3))), (rng.normal(size=(4, 2)), rng.normal(size=(4, 2)))]:
        for side in ("right", "left"):
            def f(x, y, side=side):
                u, p = fsl.polar(x + 1j * y, side=side)
                return fnp.real(u), fnp.imag(u), fnp.real(p), fnp.imag(p)
            check_grads(f, (re, im), order=1)
    assert ft.jacfwd(lambda v: fsl.polar(v)[0])(np.eye(3, dtype=np.float32)).dtype == np.float32


# (fixed: det's derivative through the adjugate primitive, right at every rank)
def test_det_derivative_at_a_singular_matrix_is_the_adjugate():
    a = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 0.0, 1.0]])
    # adj(a)^T: the cofactor matrix
    cof = np.array([[4.0, 4.0, -4.0], [-2.0, -2.0, 2.0], [0.0, 0.0, 0.0]])
    np.testing.assert_allclose(np.asarray(ft.grad(fnp.linalg.det)(a)), cof, atol=1e-12)


# (fixed by choosing JAX's convention: fnp.linalg.eigh/eigvalsh/cholesky decompose (x + x^H)/2
# by default (symmetrize_input=True), so the derivative is that of the values; for a Hermitian
# input the values are NumPy's exactly)
@pytest.mark.parametrize("fn", ["eigvalsh", "cholesky", "eigh"])
def test_hermitian_decompositions_derivatives_match_their_values_for_any_input(fn):
    a = np.array([[4.0, 0.7, -0.3], [0.1, 3.0, 0.4], [0.5, -0.2, 5.0]])
    f = {"eigvalsh": fnp.linalg.eigvalsh, "cholesky": fnp.linalg.cholesky,
         "eigh": lambda v: fnp.abs(fnp.linalg.eigh(v)[1])}[fn]   # (|V|: sign-free)
    check_grads(f, (a,), order=2)
    s = a + a.T
    want = {"eigvalsh": np.linalg.eigvalsh, "cholesky": np.linalg.cholesky,
            "eigh": lambda v: np.abs(np.linalg.eigh(v)[1])}[fn]
    np.testing.assert_array_equal(np.asarray(f(s)), want(s))      # NumPy's, bit for bit
    # gradients stay symmetric for a symmetric input, as JAX's
    weights = np.arange(1.0, 1.0 + np.size(want(s))).reshape(np.shape(want(s)))
    g = np.asarray(ft.grad(lambda v: fnp.sum(f(v) * weights))(s))
    np.testing.assert_allclose(g, g.T, atol=1e-12)
    # NumPy's one-triangle reading stays available
    if fn != "eigh":
        low = getattr(fnp.linalg, fn)(a, symmetrize_input=False)
        np.testing.assert_array_equal(np.asarray(low), getattr(np.linalg, fn)(a))


def test_triangle_reading_linalg_derivatives_are_consistent_in_scipy_linalg():
    # the scipy.linalg versions build the Hermitian matrix of the triangle they read
    import functrans.scipy.linalg as fsl
    a = np.array([[2.0, 0.7, -0.3], [0.1, 1.0, 0.4], [0.5, -0.2, 3.0]])
    check_grads(lambda v: fsl.eigh(v, eigvals_only=True), (a,), order=1)
    check_grads(lambda v: fsl.eigh(v, lower=False, eigvals_only=True), (a,), order=1)
    check_grads(lambda v: fsl.cholesky(v + 3.0 * np.eye(3)), (a,), order=1)
    # for symmetric input, fnp's and scipy's agree along symmetric directions
    s = a + a.T
    t = np.array([[1.0, 0.5, 0.0], [0.5, -1.0, 2.0], [0.0, 2.0, 0.3]])
    _, d1 = ft.jvp(fnp.linalg.eigvalsh, (s,), (t,))
    _, d2 = ft.jvp(lambda v: fsl.eigh(v, eigvals_only=True), (s,), (t,))
    np.testing.assert_allclose(np.asarray(d1), np.asarray(d2), rtol=1e-12)


def test_linalg_derivatives_batched_and_at_special_matrices(backend):
    rng = np.random.default_rng(5)
    a = backend.asarray(rng.normal(size=(2, 1, 3, 3)) + 3.0 * np.eye(3))
    b = backend.asarray(rng.normal(size=(3, 3, 2)))
    check_grads(fnp.linalg.solve, (a, b), order=1)  # batch axes broadcast (2, 1) with (3,)
    m = backend.asarray(rng.normal(size=(2, 3, 3)) + 2.0 * np.eye(3))
    check_grads(lambda v: fnp.linalg.matrix_power(v, -2), (m,), order=1)
    check_grads(lambda v: fnp.linalg.slogdet(v)[1], (m,), order=2)
    check_grads(fnp.linalg.det, (m,), order=2)
    # the eigenvalues' derivative exists at repeated eigenvalues: d sum(w) = tr(dA)
    d = backend.asarray(np.diag([1.0, 1.0, 2.0]))
    g = ft.grad(lambda v: fnp.sum(fnp.linalg.eigvalsh(v) * backend.asarray([1.0, 1.0, 5.0])))(d)
    np.testing.assert_allclose(_np(backend, g), np.diag([1.0, 1.0, 5.0]), atol=1e-12)
    # a zero matrix's 2-norm: a subgradient (nuclear norm 1), not nan
    z = ft.grad(lambda v: fnp.linalg.norm(v, 2))(backend.asarray(np.zeros((2, 3))))
    assert np.isfinite(_np(backend, z)).all()
    assert np.linalg.norm(_np(backend, z), "nuc") <= 1.0 + 1e-12


def test_expm_derivatives_at_zero_identity_and_large_norm():
    import functrans.scipy.linalg as fsl
    rng = np.random.default_rng(6)
    a = rng.normal(size=(3, 3))
    for m in (np.zeros((3, 3)), np.eye(3), a, 20.0 * a):
        check_grads(fsl.expm, (m,), order=1, rtol=1e-5)
    # d expm at 0 is the identity map
    t = rng.normal(size=(3, 3))
    _, d = ft.jvp(fsl.expm, (np.zeros((3, 3)),), (t,))
    np.testing.assert_allclose(np.asarray(d), t, atol=1e-14)


# -- conventions at kinks and singular points (checked against JAX and closed forms) -----------


def _d(f, x, backend):
    """First and second derivatives of a scalar function at x, forward and reverse."""
    xa = backend.asarray(x)
    return [float(_np(backend, t(f)(xa))) for t in (
        ft.grad, ft.jacfwd, lambda g: ft.grad(ft.grad(g)), lambda g: ft.jacfwd(ft.jacfwd(g)))]


def test_derivatives_at_ties_and_kinks(backend):
    x = backend.asarray([1.0, 3.0, 3.0, 2.0, 3.0])
    # maximum/max/sort/median share ties evenly, as JAX
    g = _np(backend, ft.grad(lambda v: fnp.max(v))(x))
    np.testing.assert_allclose(g, [0, 1 / 3, 1 / 3, 0, 1 / 3])
    g = ft.grad(lambda a, b: fnp.maximum(a, b), argnums=(0, 1))(backend.asarray(2.0),
                                                                 backend.asarray(2.0))
    assert [float(_np(backend, v)) for v in g] == [0.5, 0.5]
    g = _np(backend, ft.grad(lambda v: fnp.median(v))(backend.asarray([1.0, 1.0, 0.0, 3.0])))
    np.testing.assert_allclose(g, [0.5, 0.5, 0.0, 0.0])
    # conventions kept where JAX differs: |x|' (0) = 0, clip passes the derivative at its
    # bounds, fmax/fmin share it at ties
    assert _d(fnp.abs, 0.0, backend)[:2] == [0.0, 0.0]
    assert _d(lambda v: fnp.clip(v, -1.0, 1.0), 1.0, backend)[:2] == [1.0, 1.0]
    g = ft.grad(fnp.fmax, argnums=(0, 1))(backend.asarray(1.0), backend.asarray(1.0))
    assert [float(_np(backend, v)) for v in g] == [0.5, 0.5]


def test_derivatives_at_singular_points(backend):
    inf = math.inf
    assert _d(fnp.sqrt, 0.0, backend)[:2] == [inf, inf]
    assert _d(lambda v: v ** 0, 0.0, backend) == [0.0, 0.0, 0.0, 0.0]
    assert _d(lambda v: fnp.power(v, 1.0), 0.0, backend)[2:] == [0.0, 0.0]  # JAX: nan
    assert _d(fnp.log1p, -1.0, backend)[:2] == [inf, inf]
    assert _d(fnp.arcsin, 1.0, backend)[:2] == [inf, inf]
    assert _d(fnp.arccos, -1.0, backend)[:2] == [-inf, -inf]
    d = _d(fnp.sinc, 0.0, backend)
    np.testing.assert_allclose(d, [0.0, 0.0, -math.pi ** 2 / 3, -math.pi ** 2 / 3], rtol=1e-14)
    # the double-where pattern keeps the unselected branch's infinities out
    f = lambda v: fnp.where(v > 0, fnp.sqrt(fnp.where(v > 0, v, 1.0)), 0.0)  # noqa: E731
    assert _d(f, 0.0, backend) == [0.0, 0.0, 0.0, 0.0]
    # d/dy 0**y = 0 (log 0 taken as 0, as JAX)
    assert float(_np(backend, ft.grad(lambda y: fnp.power(0.0, y))(backend.asarray(2.0)))) == 0.0


def test_derivatives_where_jax_is_wrong_follow_the_closed_form(backend):
    # d^2/dx^2 hypot(x, y) = y^2 / r^3 (JAX 0.10: 0)
    h = ft.hessian(fnp.hypot, argnums=(0, 1))(backend.asarray(1.0), backend.asarray(1.0))
    np.testing.assert_allclose(_np(backend, h[0][0]), 2 ** -1.5, rtol=1e-14)
    np.testing.assert_allclose(_np(backend, h[0][1]), -(2 ** -1.5), rtol=1e-14)
    # at the origin hypot's derivative is taken as 0 (a subgradient; JAX: 1/2)
    g = ft.grad(fnp.hypot, argnums=(0, 1))(backend.asarray(0.0), backend.asarray(0.0))
    assert [float(_np(backend, v)) for v in g] == [0.0, 0.0]
    # ldexp(x, 5) = 32 x, also at x = 0 (JAX: 1)
    assert _d(lambda v: fnp.ldexp(v, 5), 0.0, backend)[:2] == [32.0, 32.0]


def test_complex_arccosh_derivative_on_the_principal_branch():
    # d/dz arccosh z = 1 / (sqrt(z - 1) sqrt(z + 1)); JAX uses 1 / sqrt(z^2 - 1), the wrong
    # sign for Re z < 0
    for z in (-0.5 + 0.3j, -2.0 - 0.1j, 0.3 + 2j):
        got = complex(ft.grad(fnp.arccosh, holomorphic=True)(np.array(z)))
        h = 1e-7
        fd = (np.arccosh(z + h) - np.arccosh(z - h)) / (2 * h)
        np.testing.assert_allclose(got, 1 / (np.sqrt(z - 1) * np.sqrt(z + 1)), rtol=1e-13)
        np.testing.assert_allclose(got, fd, rtol=1e-6)


def test_logsumexp_and_softmax_with_minus_infinity(backend):
    import functrans.nn as fnn
    import functrans.scipy.special as fss
    x = backend.asarray([-math.inf, 0.0, 1.0])
    g = _np(backend, ft.grad(fss.logsumexp)(x))
    e = np.exp([0.0, 1.0])
    np.testing.assert_allclose(g, [0.0, *(e / e.sum())], rtol=1e-14)
    j = _np(backend, ft.jacrev(fnn.softmax)(x))
    assert np.isfinite(j).all() and (j[0] == 0).all() and (j[:, 0] == 0).all()
    # all -inf: the value is -inf and the derivative 0 (JAX: nan)
    g = _np(backend, ft.grad(fss.logsumexp)(backend.asarray([-math.inf, -math.inf])))
    np.testing.assert_array_equal(g, [0.0, 0.0])


# -- dtype and library propagation --------------------------------------------------------------


def _f32_cases():
    import functrans.lax as flax
    import functrans.scipy.special as fss
    return {
        "elementwise": lambda x: fnp.sum(fnp.sin(x) * 2.0 + x ** 0.5),
        "fixed": lambda x: fnp.sum(fnp.logaddexp2(x, 1.0) + fnp.fmod(x, 0.7) + fnp.cbrt(x)
                                   + fnp.modf(x)[0]),
        "reductions": lambda x: fss.logsumexp(x) + fnp.var(x) + fnp.median(x),
        "linalg": lambda x: fnp.linalg.det(
            fnp.outer(x, x) + fnp.eye(3, dtype=x.dtype, device=fnp.device(x))),
        "scan": lambda x: flax.scan(lambda c, v: (c * v + 1.0, c), x[0], x)[0],
        "cond": lambda x: flax.cond(fnp.sum(x) > 0, lambda v: fnp.sum(v ** 2),
                                    lambda v: fnp.sum(v), x),
    }


@pytest.mark.parametrize("case", ["elementwise", "fixed", "reductions", "linalg", "scan", "cond"])
def test_float32_stays_float32_in_its_library_through_every_transform(backend, case):
    f = _f32_cases()[case]
    x = backend.asarray([1.2, 0.7, 2.1], dtype="float32")
    t = backend.asarray([1.0, 0.5, 0.2], dtype="float32")
    xs = backend.asarray([[1.2, 0.7, 2.1], [0.3, 1.1, 1.9]], dtype="float32")
    outs = [f(x), ft.grad(f)(x), ft.jit(ft.grad(f))(x), ft.jacfwd(f)(x), ft.jacrev(f)(x),
            ft.hessian(f)(x), *ft.jvp(f, (x,), (t,)), ft.vjp(f, x)[1](backend.asarray(
                1.0, dtype="float32"))[0], ft.linearize(f, x)[1](t), ft.vmap(ft.grad(f))(xs),
            ft.jit(ft.vmap(f))(xs)]
    for o in outs:
        assert backend.is_own(o)
        assert backend.to_numpy(o).dtype == np.float32


def test_integer_and_complex_inputs_as_jax():
    from functrans.errors import ComplexDerivativeError, IntegerInputError
    for tr in (ft.grad, ft.jacfwd, ft.jacrev, ft.hessian):
        with pytest.raises(IntegerInputError):
            tr(lambda v: fnp.sum(v * 2.0))(np.arange(3))
        with pytest.raises(IntegerInputError):
            tr(lambda v: fnp.sum(v * 2.0))(np.array([True, False]))
    np.testing.assert_array_equal(ft.jacrev(lambda v: v * 2.0, allow_int=True)(np.arange(3)),
                                  np.zeros((3, 3)))
    z = np.array([1.0 + 2.0j, -0.5 + 0.3j])
    # real function of complex input: df/dx - i df/dy (JAX's convention)
    np.testing.assert_allclose(ft.grad(lambda v: fnp.sum(fnp.abs(v) ** 2))(z), 2 * np.conj(z))
    np.testing.assert_allclose(ft.grad(lambda v: fnp.sum(fnp.real(v * v)))(z), 2 * z)
    np.testing.assert_allclose(ft.grad(lambda v: fnp.sum(v * v), holomorphic=True)(z), 2 * z)
    np.testing.assert_allclose(np.diag(ft.jacrev(lambda v: v ** 3, holomorphic=True)(z)),
                               3 * z ** 2)
    with pytest.raises(ComplexDerivativeError):
        ft.grad(lambda v: fnp.sum(v * v))(z)
    with pytest.raises(ComplexDerivativeError):
        ft.grad(lambda v: fnp.sum(v * v), holomorphic=True)(np.array([1.0, 2.0]))
    g = ft.grad(lambda v: fnp.sum(fnp.abs(v)))(z.astype(np.complex64))
    assert g.dtype == np.complex64


# -- transform composition ----------------------------------------------------------------------


def test_perturbation_confusion(backend):
    one = backend.asarray(1.0)
    x = backend.asarray(1.7)
    # d/dx (x * d/dy (x + y)) = 1, in every pairing of modes
    for outer in (ft.grad, ft.jacfwd):
        for inner in (ft.grad, ft.jacfwd):
            g = outer(lambda a: a * inner(lambda b: a + b)(one))(x)
            assert float(_np(backend, g)) == 1.0
    # d/dx (x * d/dy (x * y)) at y = x: d/dx x^2 = 2x
    g = ft.grad(lambda a: a * ft.grad(lambda b: a * b)(a))(x)
    np.testing.assert_allclose(float(_np(backend, g)), 2 * 1.7, rtol=1e-15)
    # nested jvp of the same function: second derivative of sin(x) x
    f = lambda v: fnp.sin(v) * v  # noqa: E731
    d2 = ft.jvp(lambda a: ft.jvp(f, (a,), (one,))[1], (x,), (one,))[1]
    np.testing.assert_allclose(float(_np(backend, d2)), 2 * math.cos(1.7) - 1.7 * math.sin(1.7),
                               rtol=1e-14)


def test_hessians_through_control_flow(backend):
    import functrans.lax as flax
    v = backend.asarray([0.3, -1.2, 2.0])

    def loop(u):  # a while loop with a fixed trip count, differentiated in reverse too
        return fnp.sum(flax.while_loop(lambda c: c[1] < 3,
                                       lambda c: (fnp.sin(c[0]) * u + c[0], c[1] + 1), (u, 0))[0])

    def scanned(u):
        # (fnp.multiply: the first carry is a raw array, which array_api_strict's operators
        # refuse to combine with a tracer)
        return flax.scan(lambda c, a: (fnp.multiply(c, fnp.sin(a)) + a ** 2, c),
                         backend.asarray(1.0), u)[0]

    def branched(u):
        return flax.cond(fnp.sum(u) > 0, lambda w: fnp.sum(fnp.sin(w) * w),
                         lambda w: fnp.sum(w ** 3), u)

    for f in (loop, scanned, branched):
        h = _np(backend, ft.hessian(f)(v))
        np.testing.assert_allclose(h, _np(backend, ft.jacfwd(ft.jacfwd(f))(v)), rtol=1e-12)
        np.testing.assert_allclose(h, _np(backend, ft.jacrev(ft.grad(f))(v)), rtol=1e-12)
        check_grads(f, (v,), order=2)
    # a trip count that depends on the input: d/dx x^k, k the first power >= 10
    g = ft.vmap(ft.grad(lambda x: flax.while_loop(lambda c: c < 10.0,
                                                  lambda c: fnp.multiply(c, x),
                                                  backend.asarray(1.0))))(
        backend.asarray([1.5, 2.0, 3.0]))
    np.testing.assert_allclose(_np(backend, g), [6 * 1.5 ** 5, 4 * 2.0 ** 3, 3 * 3.0 ** 2])


def test_linearize_then_transpose_and_custom_rules_under_vmap(backend):
    v = backend.asarray([0.3, -1.2, 2.0])
    m = backend.asarray([[1.0, 2.0, 0.5], [0.3, -1.0, 0.7]])
    _, lin = ft.linearize(lambda u: fnp.sin(u) * u[0], v)
    ct = backend.asarray([2.0, 2.0, 2.0])
    (got,) = ft.linear_transpose(lin, v)(ct)
    want = ft.vjp(lambda u: fnp.sin(u) * u[0], v)[1](ct)[0]
    np.testing.assert_allclose(_np(backend, got), _np(backend, want), rtol=1e-14)

    @ft.custom_jvp
    def f(x):
        return fnp.sin(x)

    @f.defjvp
    def f_jvp(primals, tangents):
        (x,), (t,) = primals, tangents
        return f(x), 3.0 * t * fnp.cos(x)  # deliberately not sin's: the rule must be used

    g = ft.grad(lambda w: fnp.sum(ft.vmap(lambda r: f(r) * r)(w)))(m)
    mn = _np(backend, m)
    np.testing.assert_allclose(_np(backend, g), 3.0 * np.cos(mn) * mn + np.sin(mn), rtol=1e-14)


def test_nanmedian_with_infinities_is_numpys():
    # the middle value (or the mean of the two middle ones): a lerp at 0 between a middle -inf
    # and the next value gave -inf + inf * 0 = nan
    import warnings
    rng = np.random.default_rng(7)
    cases = [np.array([-np.inf, -np.inf, 1.0]), np.array([-np.inf, -np.inf, 1.0, 2.0]),
             np.array([np.inf, 1.0, np.nan, 3.0, 2.0]), np.array([-np.inf, np.inf, 1.0, np.nan]),
             np.where(rng.random((5, 6)) < 0.3, np.nan, rng.normal(size=(5, 6)))]
    for c in cases:
        for axis in ([None] if c.ndim == 1 else [None, 0, 1]):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # NumPy's inf - inf
                want = np.nanmedian(c, axis=axis)
            np.testing.assert_allclose(np.asarray(fnp.nanmedian(c, axis=axis)), want,
                                       rtol=1e-15)
    g = ft.grad(fnp.nanmedian)(np.array([1.0, np.nan, 3.0, 4.0, 0.0]))
    np.testing.assert_array_equal(np.asarray(g), [0.5, 0.0, 0.5, 0.0, 0.0])
