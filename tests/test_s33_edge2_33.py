"""Session 33, derivatives at the edges of domains (edge2_33): every order of differentiation
agrees on the one-sided limit at the ends of arccosh's and arctanh's domains; fmod's
derivatives where its value is a nan."""

import math

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
import functrans.lax as lax

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def _arr(backend, v):
    return backend.asarray(np.asarray(v, dtype=np.float64), dtype=np.float64)


def _val(backend, got):
    assert backend.is_own(got), type(got)
    return float(backend.to_numpy(got))


_ORDERS = {
    "rev-rev": lambda f: ft.grad(ft.grad(f)),
    "fwd-rev": lambda f: ft.jacfwd(ft.jacrev(f)),
    "rev-fwd": lambda f: ft.jacrev(ft.jacfwd(f)),
    "fwd-fwd": lambda f: ft.jacfwd(ft.jacfwd(f)),
}


# One-sided limits of the second derivatives at the ends of the domains, by hand:
# arccosh'' = -x (x^2 - 1)^(-3/2) -> -inf at 1+; arctanh'' = 2x / (1 - x^2)^2 -> +-inf at +-1;
# arcsin'' = x (1 - x^2)^(-3/2) -> +-inf at +-1; arccos'' = -arcsin''.
# (JAX 0.10.2: jacfwd(jacrev) gives these; its grad(grad) gives nan for arccosh/arctanh.)
@pytest.mark.parametrize("name, x, want", [
    ("arccosh", 1.0, -math.inf), ("arctanh", 1.0, math.inf), ("arctanh", -1.0, -math.inf),
    ("arcsin", 1.0, math.inf), ("arcsin", -1.0, -math.inf), ("arccos", 1.0, -math.inf),
    ("arccos", -1.0, math.inf),
])
@pytest.mark.parametrize("order", sorted(_ORDERS))
def test_second_derivative_at_domain_end_every_order(backend, name, x, want, order):
    f = getattr(fnp, name)
    assert _val(backend, _ORDERS[order](f)(_arr(backend, x))) == want  # rev-rev was nan


def test_acosh_atanh_second_derivatives_inside_and_complex():
    # inside the domain, against the closed forms above
    for x in (1.5, 3.0):
        assert math.isclose(ft.grad(ft.grad(fnp.arccosh))(x), -x * (x * x - 1) ** -1.5,
                            rel_tol=1e-13)
    for x in (-0.7, 0.2):
        assert math.isclose(ft.grad(ft.grad(fnp.arctanh))(x), 2 * x / (1 - x * x) ** 2,
                            rel_tol=1e-13)
    # third order at an interior point against central differences of the second
    h = 1e-5
    d2 = ft.grad(ft.grad(fnp.arccosh))
    assert math.isclose(ft.grad(d2)(2.0), (d2(2.0 + h) - d2(2.0 - h)) / (2 * h), rel_tol=1e-7)
    # complex: the principal branch, against central differences of NumPy's values
    for f, nf in ((fnp.arccosh, np.arccosh), (fnp.arctanh, np.arctanh)):
        for z in (0.3 + 0.4j, -2 + 0.1j, 3 - 1j):
            _, d = ft.jvp(f, (np.complex128(z),), (np.complex128(1),))
            fd = (nf(z + h) - nf(z - h)) / (2 * h)
            assert abs(d - fd) < 1e-8 * abs(fd)


# fmod(x1, x2) = x1 - trunc(x1 / x2) x2: derivative 1 in x1 and -trunc(x1 / x2) in x2, also
# where the value is a nan (x2 = 0 or x1 infinite). Before: d/dx1 = -1 there (the nan's sign
# bit flipped copysign's rule) and d/dx2 = nan at x2 = 0. (JAX 0.10.2's grad: the same values
# as below.)
@pytest.mark.parametrize("x1, x2, d1, d2", [
    (1.0, 0.0, 1.0, -math.inf), (-1.0, 0.0, 1.0, math.inf), (1.0, -0.0, 1.0, math.inf),
    (math.inf, 2.0, 1.0, None), (-math.inf, 2.0, 1.0, None), (0.0, 0.0, 1.0, None),
    (5.0, 3.0, 1.0, -1.0), (-5.0, 3.0, 1.0, 1.0), (5.0, -3.0, 1.0, 1.0), (-0.0, 1.0, 1.0, 0.0),
])
@pytest.mark.parametrize("fn", ["fmod", "rem"])
def test_fmod_derivatives_where_value_is_nan(backend, x1, x2, d1, d2, fn):
    f = fnp.fmod if fn == "fmod" else lax.rem
    a, b = _arr(backend, x1), _arr(backend, x2)
    g1, g2 = ft.grad(f, argnums=(0, 1))(a, b)
    assert _val(backend, g1) == d1
    assert _val(backend, ft.jvp(lambda u: f(u, b), (a,), (_arr(backend, 1.0),))[1]) == d1
    if d2 is not None:
        assert _val(backend, g2) == d2
        assert _val(backend, ft.jvp(lambda v: f(a, v), (b,), (_arr(backend, 1.0),))[1]) == d2


def test_fmod_values_unchanged():
    v = np.array([0.0, -0.0, 1.0, -1.0, 2.5, -2.5, 7.0, np.inf, -np.inf, np.nan, 1e300, -3e-310])
    a, b = np.meshgrid(v, v)
    got, want = np.asarray(fnp.fmod(a, b)), np.fmod(a, b)
    np.testing.assert_array_equal(got, want)
    ok = ~np.isnan(want)
    np.testing.assert_array_equal(np.signbit(got[ok]), np.signbit(want[ok]))


# cumprod's Jacobian J[i, k] = prod_{j <= i, j != k} x_j (k <= i, else 0), by hand; with an
# inf in x a zero tangent (cotangent) entry times an infinite J entry gave nan: jacrev of
# [1, inf, 2] was [[nan 0 nan] [nan 1 nan] [nan 2 inf]]. (JAX 0.10.2: nan in several entries
# in both modes.)
@pytest.mark.parametrize("x, want", [
    ([1.0, math.inf, 2.0], [[1, 0, 0], [math.inf, 1, 0], [math.inf, 2, math.inf]]),
    ([math.inf, 2.0, 3.0], [[1, 0, 0], [2, math.inf, 0], [6, math.inf, math.inf]]),
    ([2.0, 3.0, math.inf], [[1, 0, 0], [3, 2, 0], [math.inf, math.inf, 6]]),
    ([0.0, math.inf, 2.0], [[1, 0, 0], [math.inf, 0, 0], [math.inf, 0, math.nan]]),
    ([3.0, 0.0, 2.0, 5.0], [[1, 0, 0, 0], [0, 3, 0, 0], [0, 6, 0, 0], [0, 30, 0, 0]]),
])
@pytest.mark.parametrize("mode", ["jacrev", "jacfwd"])
def test_cumprod_jacobian_with_inf(backend, x, want, mode):
    got = backend.to_numpy(getattr(ft, mode)(fnp.cumprod)(_arr(backend, x)))
    np.testing.assert_array_equal(got, np.asarray(want, dtype=np.float64))


def test_prod_gradient_with_inf(backend):
    # d prod / dx_k = product of the others: [inf, 2, inf] (jacfwd was [nan, nan, nan])
    x = _arr(backend, [1.0, math.inf, 2.0])
    for mode in (ft.jacrev, ft.jacfwd):
        np.testing.assert_array_equal(backend.to_numpy(mode(fnp.prod)(x)), [math.inf, 2, math.inf])


def test_cumprod_prod_derivatives_finite_unchanged():
    x = np.array([0.7, -1.3, 2.0, 0.4])
    j = ft.jacrev(fnp.cumprod)(x)
    want = np.array([[np.prod([x[m] for m in range(i + 1) if m != k]) if k <= i else 0.0
                      for k in range(4)] for i in range(4)])
    np.testing.assert_allclose(j, want, rtol=1e-14)
    np.testing.assert_allclose(ft.jacfwd(fnp.cumprod)(x), want, rtol=1e-14)
    h = ft.hessian(fnp.prod)(x)
    wh = np.array([[0.0 if a == b else np.prod([x[m] for m in range(4) if m not in (a, b)])
                    for b in range(4)] for a in range(4)])
    np.testing.assert_allclose(h, wh, rtol=1e-14)


# QR where R is singular: no derivative; nan, as JAX 0.10.2, instead of a LinAlgError.
# (Session 40: except where the zero R_kk is the last of a real square matrix: LAPACK's
# last reflector is then the identity for every x, Q and R are smooth, R_kk passes through
# 0; the first zero here is R_11.)
@pytest.mark.parametrize("k", [0, 1])
@pytest.mark.parametrize("mode", ["jacrev", "jacfwd"])
def test_qr_derivative_singular_r_is_nan(backend, k, mode):
    a = _arr(backend, [[0.0, 1.0], [0.0, 2.0]])
    got = backend.to_numpy(getattr(ft, mode)(lambda a: fnp.linalg.qr(a)[k])(a))
    assert got.shape == (2, 2, 2, 2) and np.isnan(got).all()


@pytest.mark.parametrize("k", [0, 1])
def test_qr_derivative_last_zero_r_is_finite(k):
    a = np.array([[1.0, 2.0], [0.0, 0.0]])
    f = lambda a: fnp.linalg.qr(a)[k]                                    # noqa: E731
    assert np.isfinite(ft.jacrev(f)(a)).all()
    # (a direction that keeps a[1, 0] = 0: the first reflector stays the identity there)
    d = np.array([[0.3, -0.7], [0.0, 0.5]])
    h = 1e-6
    fd = (np.linalg.qr(a + h * d)[k] - np.linalg.qr(a - h * d)[k]) / (2 * h)
    np.testing.assert_allclose(ft.jvp(f, (a,), (d,))[1], fd, atol=1e-8)
    np.testing.assert_allclose(np.tensordot(ft.jacrev(f)(a), d, 2), fd, atol=1e-8)


def test_qr_complete_tall_householder_identity():
    # Q = I (each Householder step the identity): Q2 jumps, nan; Q1's derivative exists
    # (forward mode gives it: d Q1 = (I - Q1 Q1^T) dA R^-1 + Q1 (skew part), here for
    # dA = e_{2,0}: d Q1[:, 0] = e_2)
    a = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
    f = lambda a: fnp.linalg.qr(a, mode="complete")[0]
    jf = ft.jacfwd(f)(a)
    assert np.isnan(jf[:, 2]).all() and not np.isnan(jf[:, :2]).any()
    np.testing.assert_array_equal(jf[:, 0, 2, 0], [0.0, 0.0, 1.0])
    # reverse mode as forward mode (session 36: Q2's nan slope reaches only the cotangents
    # on Q2; every entry was nan, as JAX's)
    np.testing.assert_array_equal(ft.jacrev(f)(a), jf)
    # a regular matrix: unchanged, against central differences
    b = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    e = np.zeros_like(b)
    e[1, 0] = 1e-6
    fd = (np.linalg.qr(b + e, mode="complete")[0] - np.linalg.qr(b - e, mode="complete")[0]) / 2e-6
    np.testing.assert_allclose(ft.jacfwd(f)(b)[..., 1, 0], fd, atol=1e-8)
