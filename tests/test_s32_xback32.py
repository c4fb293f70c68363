"""Session 32, torch and array-api-strict against NumPy (xback32): custom_vjp's bwd with a
plain cotangent beside a traced residual (or the other way round) on array-api-strict."""

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp


def _check(backend, got, want, rtol=1e-12, atol=0.0):
    assert backend.is_own(got), type(got)
    got = backend.to_numpy(got)
    want = np.asarray(want)
    assert got.dtype == want.dtype and got.shape == want.shape, (got.dtype, got.shape)
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)


def _arr(backend, a):
    return backend.asarray(a, dtype=a.dtype)


# -- custom_vjp: bwd's cotangent and residuals mix plain arrays and tracers ------------------


def _xsin():
    @ft.custom_vjp
    def f(x):
        return x * fnp.sin(x)

    def fwd(x):
        return f(x), x

    def bwd(x, ct):
        return (ct * (fnp.sin(x) + x * fnp.cos(x)),)  # (the plain cotangent on the left)
    f.defvjp(fwd, bwd)
    return f


def test_custom_vjp_bwd_plain_cotangent_beside_traced_residual(backend):
    """Under vmap or jit of a gradient, the cotangent bwd gets does not depend on the batched
    or staged values (a plain array) while the residual does (a tracer): ``ct * r`` raised
    TypeError on array-api-strict, whose operators refuse a tracer on their right."""
    f = _xsin()
    x = np.array([[0.3, 0.5, 0.7], [1.1, 1.3, -0.4]])
    w = np.array([1.0, 2.0, 3.0])
    X, W = backend.asarray(x), backend.asarray(w)

    def g(x):
        return fnp.sum(f(x) * W)
    want = (np.sin(x) + x * np.cos(x)) * w
    for t in (ft.vmap(ft.grad(g)), ft.jit(ft.vmap(ft.grad(g))), ft.vmap(ft.jit(ft.grad(g))),
              ft.grad(lambda x: fnp.sum(ft.vmap(g)(x)))):
        _check(backend, t(X), want)
    _check(backend, ft.jit(ft.grad(g))(X[0, ...]), want[0])
    # (second order: the rule's cotangent times a traced residual's tangent)
    d2 = (2 * np.cos(x) - x * np.sin(x)) * w
    _check(backend, ft.vmap(lambda v: fnp.diagonal(ft.hessian(g)(v)))(X), d2)


def test_custom_vjp_bwd_plain_residual_beside_batched_cotangent(backend):
    """A residual that is a plain array (a constant matrix saved by fwd) beside batched
    cotangents (jacrev, vmap of the vjp function): ``ct @ W.T`` raised TypeError on
    array-api-strict, so jacrev and jacfwd of such a function failed there."""
    m = np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0], [2.0, 1.0, 1.0]])
    M = backend.asarray(m)

    @ft.custom_vjp
    def f(x):
        return fnp.sin(x) @ M

    def fwd(x):
        return f(x), (fnp.cos(x), M)

    def bwd(res, ct):
        c, mr = res
        return (c * (ct @ mr.T),)
    f.defvjp(fwd, bwd)
    x = np.array([0.3, 0.5, 0.7])
    X = backend.asarray(x)
    jac = m.T * np.cos(x)  # d f_i / d x_j = cos(x_j) m[j, i]
    _check(backend, ft.jacrev(f)(X), jac)
    _check(backend, ft.jacfwd(f)(X), jac)
    _check(backend, ft.jit(ft.jacrev(f))(X), jac)
    _check(backend, ft.vmap(ft.vjp(f, X)[1])(backend.asarray(np.eye(3)))[0], jac)
    xb = np.stack([x, -2 * x])
    _check(backend, ft.vmap(ft.jacrev(f))(backend.asarray(xb)),
           np.stack([m.T * np.cos(v) for v in xb]))


def test_custom_jvp_rule_plain_tangent_beside_traced_primal(backend):
    """A custom_jvp rule given a plain tangent beside a batched primal (vmap of jvp with a
    tangent closed over) or a batched tangent beside a plain primal: the product of the two,
    written either way round, raised TypeError on array-api-strict."""
    @ft.custom_jvp
    def f(x):
        return fnp.sin(x)

    @f.defjvp
    def f_jvp(primals, tangents):
        x, = primals
        t, = tangents
        return f(x), t * fnp.cos(x) + fnp.cos(x) * t - t * fnp.cos(x)
    x = np.array([[0.3, 0.5, 0.7], [1.1, 1.3, -0.4]])
    w = np.array([1.0, 2.0, 3.0])
    X, W = backend.asarray(x), backend.asarray(w)
    want = np.cos(x) * w
    _check(backend, ft.vmap(lambda v: ft.jvp(f, (v,), (W,))[1])(X), want)
    _check(backend, ft.jit(ft.vmap(lambda v: ft.jvp(f, (v,), (W,))[1]))(X), want)
    _check(backend, ft.vmap(lambda t: ft.jvp(f, (X[0, ...],), (t,))[1])(X),
           np.cos(x[0]) * x)
    _check(backend, ft.vmap(ft.jacfwd(f))(X), np.stack([np.diag(np.cos(v)) for v in x]))


# -- torch against NumPy: cholesky through NaN, boolean subtraction, remainder's zeros ----


def test_cholesky_nan_pivot_goes_on_as_numpy(backend):
    """A NaN pivot does not stop NumPy's (OpenBLAS's, JAX's) Cholesky factorization: NaN
    from there on. torch's stopped and raised LinAlgError. A pivot <= 0 raises on both."""
    nan = np.nan
    rng = np.random.default_rng(3)
    a = rng.normal(size=(4, 4)) + 1j * rng.normal(size=(4, 4))
    herm = a @ a.conj().T + 4 * np.eye(4)
    stack = np.stack([herm.real, herm.real])  # (the first member factors without NaN)
    herm[2, 2] = stack[1, 2, 2] = nan
    for m in (np.array([[nan, 1.0], [1.0, 2.0]]), np.array([[4.0, nan], [nan, 2.0]]),
              herm, stack):
        want = np.linalg.cholesky(m)  # (a partly NaN factor, no error)
        assert np.isnan(want).any() and not np.isnan(want).all()
        _check(backend, fnp.linalg.cholesky(_arr(backend, m)), want, rtol=1e-10,
               atol=1e-12)
        _check(backend, fnp.linalg.cholesky(_arr(backend, m), upper=True),
               np.swapaxes(want.conj(), -1, -2), rtol=1e-10, atol=1e-12)
    for m in ([[-1.0, nan], [nan, 1.0]], [[1.0, 2.0], [2.0, 1.0]]):
        with pytest.raises(np.linalg.LinAlgError):
            np.linalg.cholesky(np.array(m))
        with pytest.raises(np.linalg.LinAlgError):
            fnp.linalg.cholesky(backend.asarray(np.array(m)))


def test_boolean_subtract_and_negative_raise_type_error(backend):
    """NumPy refuses - on booleans with a TypeError naming ^ and ~; torch raised a
    RuntimeError (so ``except TypeError`` missed it), also through ptp."""
    t, f = _arr(backend, np.array([True, False])), _arr(backend, np.array([True, True]))
    for fn in (lambda: fnp.subtract(t, f), lambda: fnp.negative(t), lambda: fnp.ptp(t),
               lambda: ft.jit(fnp.subtract)(t, f)):
        with pytest.raises(TypeError):
            fn()
    _check(backend, fnp.bitwise_xor(t, f), np.array([False, True]))


def test_remainder_zero_takes_the_divisor_sign(backend):
    """NumPy's (and Python's) remainder is 0.0 with the divisor's sign; torch's zeros took the
    dividend's (remainder(-4., 2.) was -0.0, and so 1 / it -inf)."""
    x = np.array([-4.0, 4.0, -0.0, 0.0, -7.25, 7.25, -7.25, 3.0, -3.0, 0.0])
    y = np.array([2.0, -2.0, 3.0, -3.0, 5e-324, -5e-324, 0.25, np.inf, -np.inf, -np.inf])
    for dt in (np.float64, np.float32):
        xd, yd = x.astype(dt), y.astype(dt)
        want = np.remainder(xd, yd)
        for n in (1, 8):  # (torch's kernel for 8 elements and more differs)
            got = backend.to_numpy(fnp.remainder(_arr(backend, np.tile(xd, n)),
                                                 _arr(backend, np.tile(yd, n))))
            np.testing.assert_array_equal(got, np.tile(want, n))
            num = ~np.isnan(got)  # (float32: y = 0 there, a NaN of either sign)
            np.testing.assert_array_equal(np.signbit(got[num]), np.signbit(np.tile(want, n)[num]))


# -- complex numbers on torch -------------------------------------------------------------


def test_complex_negative_keeps_signed_zeros(backend):
    """torch's complex negation of 2 elements or more computed 0 - x: -(4+0j) was -4+0j
    (NumPy -4-0j), so sqrt(-x) on the branch cut was +2j where NumPy's is -2j."""
    z = np.array([4 + 0j, 1j, 0j, complex(-0.0, -0.0), 3 - 2j, complex(-1.0, 0.0)] * 3)
    want = np.negative(z)
    for dt in (np.complex128, np.complex64):
        zd = _arr(backend, z.astype(dt))
        for got in (fnp.negative(zd), ft.jit(lambda v: -v)(zd)):
            got = backend.to_numpy(got)
            np.testing.assert_array_equal(got, want.astype(dt))
            np.testing.assert_array_equal(np.signbit(got.real), np.signbit(want.real))
            np.testing.assert_array_equal(np.signbit(got.imag), np.signbit(want.imag))
        _check(backend, fnp.sqrt(fnp.negative(zd)), np.sqrt(want).astype(dt), rtol=1e-6)
        _check(backend, fnp.log(fnp.negative(zd)), np.log(want).astype(dt), rtol=1e-6)


def test_complex_power_to_zero_is_one(backend):
    """x ** 0 is 1 for complex x (NumPy, Python); torch's complex 0 ** 0 was nan + nan j."""
    x = np.array([0j, complex(-0.0, 0.0), 2 + 1j, 0j, 0j, 1j])
    y = np.array([0j, complex(0.0, -0.0), 0j, 2 + 0j, 0.5 + 1j, 2 + 0j])
    for dt in (np.complex128, np.complex64):
        _check(backend, fnp.power(_arr(backend, x.astype(dt)), _arr(backend, y.astype(dt))),
               np.power(x, y).astype(dt), rtol=1e-6, atol=1e-7)


def test_complex_log1p_accurate_near_zero(backend):
    """NumPy's complex log1p (NumPy's and array-api-strict's backends used it) is
    log(1 + z): log1p(1e-20 + 1e-23j) had real part 0, not 1e-20. Reference: the series
    to z**5/5 (|z| <= 4e-6; the real part of 4e-6j is y**2/2 - y**4/4 + ...)."""
    z = np.array([1e-20 + 1e-23j, -3e-9 + 2e-9j, 1e-300 - 1e-300j, 2e-6 + 0j,
                  complex(-1e-7, -0.0), 4e-6j])
    want = z - z ** 2 / 2 + z ** 3 / 3 - z ** 4 / 4 + z ** 5 / 5
    got = backend.to_numpy(fnp.log1p(_arr(backend, z)))
    np.testing.assert_allclose(got.real, want.real, rtol=1e-14)
    np.testing.assert_allclose(got.imag, want.imag, rtol=1e-14)
    # (the imaginary part, atan2(y, 1 + x), has y's sign: -0.0 for -0.0)
    np.testing.assert_array_equal(np.signbit(got.imag), np.signbit(z.imag))
    # (away from 0 the library's own, as before; and the real-valued one untouched)
    far = np.array([0.75 + 0.5j, -0.4 + 0.6j, 3 - 4j, complex(np.inf, 1.0)])
    _check(backend, fnp.log1p(_arr(backend, far)), np.log(1 + far), rtol=1e-14)
    _check(backend, fnp.log1p(_arr(backend, np.array([1e-20, -0.5]))),
           np.log1p(np.array([1e-20, -0.5])))
    _check(backend, fnp.log1p(_arr(backend, z.astype(np.complex64))),
           want.astype(np.complex64), rtol=1e-6)


def test_complex_arccos_imaginary_sign(backend):
    """acos(conj z) = conj(acos z): the imaginary part has the sign opposite to z's, zeros
    included (NumPy acos(0j) = pi/2 - 0j); torch's vectorised kernel gave +0j."""
    z = np.array([0j, complex(0.5, 0.0), complex(0.5, -0.0), complex(-1.0, 0.0), 2 + 0j,
                  complex(2.0, -0.0), 0.3 + 0.7j, -0.2 - 1.5j] * 2)
    want = np.arccos(z)
    got = backend.to_numpy(fnp.arccos(_arr(backend, z)))
    np.testing.assert_allclose(got, want, rtol=1e-14)
    np.testing.assert_array_equal(np.signbit(got.imag), np.signbit(want.imag))
    np.testing.assert_array_equal(np.signbit(got.imag), ~np.signbit(z.imag))
