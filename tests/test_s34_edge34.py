"""Session 34, derivatives at edge points compared with JAX 0.10.2 (x64) (helper edge34):
arccosh's derivatives of every order at 1, remainder/fmod's derivative in the divisor where
the dividend is infinite, and the sweep of scipy.linalg, nn and fft at edge inputs.

Expected values are derived by hand (the formula is in a comment by each) or from NumPy; the
JAX value is quoted in a comment where functrans deliberately differs."""

import itertools
import math

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def _arr(backend, v):
    return backend.asarray(np.asarray(v, dtype=np.float64), dtype=np.float64)


def _val(backend, got):
    assert backend.is_own(got), type(got)
    return float(backend.to_numpy(got))


def _nest(f, modes):
    for m in modes:
        f = ft.grad(f) if m == "r" else ft.jacfwd(f)
    return f


# -- arccosh: derivatives of every order at the end of the domain -----------------------------

# arccosh^(n)(x) = P_n(x) (x^2 - 1)^(-(2n - 1)/2) with P_1 = 1, P_(n+1) = P_n' (x^2 - 1)
# - (2n - 1) x P_n: P_2 = -x, P_3 = 2x^2 + 1, P_4 = -6x^3 - 9x, P_5 = 24x^4 + 72x^2 + 9. At
# x = 1+ the limit is sign(P_n(1)) inf: -inf, +inf, -inf, +inf for n = 2..5. The third
# derivative was nan in every order of differentiation (-g^3 + 3x^2 g^5 = inf - inf, g =
# arccosh'); JAX 0.10.2 gives nan from the third order on.
@pytest.mark.parametrize("n, want", [(2, -math.inf), (3, math.inf), (4, -math.inf),
                                     (5, math.inf)])
def test_arccosh_every_order_at_one(backend, n, want):
    modes = ["r" * n, "f" * n, "f" + "r" * (n - 1), "r" + "f" * (n - 1)]
    if n == 3:
        modes = ["".join(m) for m in itertools.product("rf", repeat=3)]
    x = _arr(backend, 1.0)
    for m in modes:
        assert _val(backend, _nest(fnp.arccosh, m)(x)) == want, m


def test_arccosh_higher_orders_inside_the_domain():
    # against the closed forms above (P_n evaluated by hand), real and complex (principal
    # branch: (x^2 - 1)^(1/2) = sqrt(x - 1) sqrt(x + 1))
    def closed(x, n):
        p = {2: -x, 3: 2 * x * x + 1, 4: -6 * x ** 3 - 9 * x, 5: 24 * x ** 4 + 72 * x * x + 9}[n]
        s = np.sqrt(x - 1) * np.sqrt(x + 1)
        return p / s ** (2 * n - 1)
    for x in (1.5, 3.0, 1 + 1e-9, 40.0):
        for n in (2, 3, 4, 5):
            got = _nest(fnp.arccosh, "r" * n)(x)
            assert math.isclose(got, closed(x, n), rel_tol=1e-12), (x, n)
    for z in (0.3 + 0.4j, -2 + 0.1j, 3 - 1j):
        f = fnp.arccosh
        for n in (1, 2, 3, 4):
            f = (lambda g: lambda z: ft.jvp(g, (z,), (np.complex128(1),))[1])(f)
            if n == 1:
                continue
            got = complex(f(np.complex128(z)))
            want = closed(complex(z), n)
            assert abs(got - want) <= 1e-13 * abs(want), (z, n)
    # a large x: no inf * 0 in (x g)^k g^m (g = arccosh' ~ 1/x)
    assert math.isclose(_nest(fnp.arccosh, "rrr")(1e100), 2e-300, rel_tol=1e-12)  # (2x^2 + 1) / x^5


# -- remainder / fmod: derivative in the divisor at an infinite dividend -----------------------

# d/dy remainder(x, y) = -floor(x / y), d/dy fmod(x, y) = -trunc(x / y): at x = +-inf and a
# finite y that is -+inf sign(y) (JAX 0.10.2 gives these for both); it was nan (NumPy's
# floor_divide(inf, 2) is nan). The second derivative stays 0 (q is piecewise constant).
@pytest.mark.parametrize("x, y, want", [(math.inf, 2.0, -math.inf), (-math.inf, 2.0, math.inf),
                                        (math.inf, -2.0, math.inf), (-math.inf, -0.5, -math.inf)])
@pytest.mark.parametrize("fn", ["fmod", "remainder"])
def test_remainder_divisor_derivative_at_infinite_dividend(backend, x, y, want, fn):
    f = getattr(fnp, fn)
    a, b = _arr(backend, x), _arr(backend, y)
    g1, g2 = ft.grad(f, argnums=(0, 1))(a, b)
    assert (_val(backend, g1), _val(backend, g2)) == (1.0, want)
    assert _val(backend, ft.jvp(lambda v: f(a, v), (b,), (_arr(backend, 1.0),))[1]) == want
    assert _val(backend, ft.grad(ft.grad(lambda v: f(a, v)))(b)) == 0.0


def test_remainder_divisor_derivative_finite_unchanged():
    # -floor_divide(x, y) as before wherever that is not a nan (NumPy's floor_divide)
    v = np.array([0.0, -0.0, 1.0, -1.0, 2.5, -2.5, 7.0, 1e300, -3e-310, np.inf, -np.inf])
    a, b = np.meshgrid(v, v)
    a, b = a.ravel(), b.ravel()
    with np.errstate(all="ignore"):
        want = -np.floor_divide(a, b)
    got = ft.vmap(ft.grad(fnp.remainder, 1))(a, b)
    ok = ~np.isnan(want)
    np.testing.assert_array_equal(got[ok], want[ok])
    inf_x = np.isinf(a) & np.isfinite(b) & (b != 0)
    np.testing.assert_array_equal(got[inf_x], -a[inf_x] * np.sign(b[inf_x]))


# -- scipy.linalg.lu / lu_factor at a zero pivot -----------------------------------------------

# A zero pivot with rows below it: the column there is all 0, and the pivot row and the
# multipliers are chosen by the direction of a change (L[1, 0] of eps E is E[1, 0] / E[0, 0]
# or its inverse, whichever is at most 1): no derivative. It was finite (the zero column's
# multipliers taken as 0, e.g. d L[1, 0] / d A[1, 0] = 1 at A = 0); nan now, as JAX 0.10.2.
@pytest.mark.parametrize("a", [[[0.0, 0.0], [0.0, 0.0]], [[0.0, 1.0], [0.0, 0.0]],
                               [[0.0, 1.0, 2.0], [0.0, 3.0, 1.0], [0.0, 0.0, 5.0]]])
@pytest.mark.parametrize("mode", ["jacfwd", "jacrev"])
def test_lu_derivative_at_a_zero_pivot_is_nan(backend, a, mode):
    import functrans.scipy.linalg as fsl
    x = _arr(backend, a)
    jac = getattr(ft, mode)
    for f in (lambda m: fsl.lu(m)[1], lambda m: fsl.lu(m)[2], lambda m: fsl.lu_factor(m)[0]):
        j = backend.to_numpy(jac(f)(x))
        n = len(a)
        # L's strictly lower part, U's upper part and the packed factors: every entry that
        # is not a constant of the structure (L's unit diagonal and zero upper part)
        j = j.reshape(n, n, -1)
        assert np.isnan(j[np.tril_indices(n, -1)]).all() or np.isnan(j[np.triu_indices(n)]).all()
    # the values are SciPy's: L = I, U = a
    p, l, u = (backend.to_numpy(v) for v in fsl.lu(x))
    np.testing.assert_array_equal(p @ l @ u, np.asarray(a))


def test_lu_derivative_last_pivot_zero_and_regular():
    import functrans.scipy.linalg as fsl
    # a = [[1, 2], [2, 4]] (singular; only the last pivot is 0, which has no rows below:
    # LU is smooth there). Rows swapped: L[1, 0] = a00 / a10, U = [[a10, a11], [0, a01 -
    # a00 a11 / a10]]: d L10 = (0.5, 0, -0.25, 0) in (a00, a01, a10, a11), d U11 = (-2, 1, 1,
    # -0.5). (JAX 0.10.2: nan, its rule divides by U's diagonal.)
    a = np.array([[1.0, 2.0], [2.0, 4.0]])
    for jac in (ft.jacfwd, ft.jacrev):
        jl = jac(lambda m: fsl.lu(m)[1])(a)
        ju = jac(lambda m: fsl.lu(m)[2])(a)
        np.testing.assert_allclose(jl[1, 0].ravel(), [0.5, 0, -0.25, 0], rtol=1e-15)
        np.testing.assert_allclose(ju[1, 1].ravel(), [-2, 1, 1, -0.5], rtol=1e-15)
        np.testing.assert_array_equal(ju[0, 0].ravel(), [0, 0, 1, 0])
    # a stack: the regular matrix beside a zero one keeps its derivative (central
    # differences of NumPy's elimination by hand: L10 = a10 / a00 with |a00| >= |a10|)
    s = np.stack([np.zeros((2, 2)), [[3.0, 1.0], [1.5, 2.0]]])
    for jac in (ft.jacfwd, ft.jacrev):
        j = jac(lambda m: fsl.lu_factor(m)[0])(s)
        assert np.isnan(j[0, :, :, 0]).all()
        np.testing.assert_allclose(j[1, 1, 0, 1], [[-1.5 / 9, 0], [1 / 3, 0]], rtol=1e-15)
    # (forward mode: the zero matrix's tangent stays in its own block; reverse mode gives its
    # inputs nan for every output, 0 times the nan slope, as cond's in session 33)
    np.testing.assert_array_equal(j[0, :, :, 1], 0.0)


# -- hypot / nn.squareplus: second derivatives at +-inf -----------------------------------------

# hypot(x, c)'' in x = c^2 / hypot^3 -> 0 at x = +-inf (in y: x^2 / hypot^3 ~ 1 / |x| -> 0);
# squareplus'' = b / (2 (x^2 + b)^(3/2)) -> 0. Reverse-over-reverse gave nan (the transpose
# of the division in the branch not taken met 0 * inf / inf), forward-over-reverse 0.
# (JAX 0.10.2: nan in every order, its first derivative at inf is nan too.)
@pytest.mark.parametrize("x", [math.inf, -math.inf])
def test_hypot_squareplus_second_derivative_at_infinity(backend, x):
    import functrans.nn as fnn
    a, c = _arr(backend, x), _arr(backend, 2.0)
    for m in ("rr", "fr", "rf", "ff"):
        assert _val(backend, _nest(lambda v: fnp.hypot(v, c), m)(a)) == 0.0, m
        assert _val(backend, _nest(fnn.squareplus, m)(a)) == 0.0, m
    assert _val(backend, _nest(lambda w: fnp.hypot(a, w), "rr")(c)) == 0.0
    assert _val(backend, ft.grad(lambda v: fnp.hypot(v, c))(a)) == math.copysign(1.0, x)


def test_hypot_second_derivatives_finite_unchanged():
    # at (3, 2): d2/dx2 = 4 / 13^1.5, d2/dxdy = -6 / 13^1.5, d2/dy2 = 9 / 13^1.5
    h = ft.hessian(fnp.hypot, argnums=(0, 1))(3.0, 2.0)
    want = np.array([[4.0, -6.0], [-6.0, 9.0]]) / 13 ** 1.5
    np.testing.assert_allclose(np.array(h, dtype=float), want, rtol=1e-14)
    hr = ft.jacrev(ft.grad(fnp.hypot, argnums=(0, 1)), argnums=(0, 1))(3.0, 2.0)
    np.testing.assert_allclose(np.array(hr, dtype=float), want, rtol=1e-14)
