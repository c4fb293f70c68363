"""Derivatives at edge points compared with JAX 0.10.2 (x64) (helper edgegrad33).

Expected values are derived by hand (the formula is in a comment by each) or from NumPy; the
JAX value is quoted in a comment where functrans deliberately differs."""

import math
import warnings

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp


def _quiet(fn, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with np.errstate(all="ignore"):
            return fn(*args)


# -- linalg.cond at a singular matrix ----------------------------------------------------------

@pytest.mark.parametrize("p", [1, -1, np.inf, -np.inf, "fro", "nuc"])
def test_cond_derivative_at_a_singular_matrix_is_nan(backend, p):
    # cond = norm(x) norm(inv(x)) is inf at a singular matrix and finite nearby: no derivative
    # there. It was 0 (the derivative of a constant inf) where p = 2 and JAX give nan; a
    # regular matrix of the same stack keeps its derivative (central differences of NumPy's).
    a = np.stack([[[1.0, 2.0], [2.0, 4.0]], [[2.0, 1.0], [0.5, 3.0]], np.zeros((2, 2))])
    x = backend.asarray(a)
    f = lambda m: fnp.sum(fnp.linalg.cond(m, p))
    g = backend.to_numpy(_quiet(ft.grad(f), x))
    assert np.isnan(g[0]).all() and np.isnan(g[2]).all()
    h = 1e-6
    fd = [(np.linalg.cond(a[1] + h * e, p) - np.linalg.cond(a[1] - h * e, p)) / (2 * h)
          for e in np.eye(4).reshape(4, 2, 2)]
    np.testing.assert_allclose(g[1].ravel(), fd, rtol=1e-6)
    # forward mode and vmap agree; the values stay inf, cond(a[1]), inf
    t = np.ones_like(a)
    val, tan = _quiet(ft.jvp, lambda m: fnp.linalg.cond(m, p), (x,), (backend.asarray(t),))
    val, tan = backend.to_numpy(val), backend.to_numpy(tan)
    np.testing.assert_allclose(val, [np.inf, np.linalg.cond(a[1], p), np.inf])
    assert np.isnan(tan[[0, 2]]).all() and np.isfinite(tan[1])
    gv = backend.to_numpy(_quiet(ft.vmap(ft.grad(lambda m: fnp.linalg.cond(m, p))), x))
    assert np.isnan(gv[[0, 2]]).all()
    np.testing.assert_allclose(gv[1], g[1], rtol=1e-12)



@pytest.mark.parametrize("p", [None, 2, -2])
def test_cond_derivative_at_a_zero_matrix_is_nan_in_both_modes(backend, p):
    # singular values 0 / 0, reported as inf: forward mode gave 0 (the constant inf's slope),
    # reverse mode nan (the SVD's); now nan in both, as JAX's. The regular matrix beside it
    # keeps its derivative (central differences of NumPy's cond).
    a = np.stack([np.zeros((2, 2)), [[2.0, 1.0], [0.5, 3.0]]])
    x = backend.asarray(a)
    f = lambda m: fnp.linalg.cond(m, p)
    for jac in (ft.jacfwd, ft.jacrev):
        j = backend.to_numpy(_quiet(jac(f), x))
        assert np.isnan(j[0, 0]).all()
        h = 1e-6
        fd = [(np.linalg.cond(a[1] + h * e, p) - np.linalg.cond(a[1] - h * e, p)) / (2 * h)
              for e in np.eye(4).reshape(4, 2, 2)]
        np.testing.assert_allclose(j[1, 1].ravel(), fd, rtol=1e-6)
        # (a Jacobian's cross blocks next to the zero matrix are nan in one mode, 0 in the
        # other, exactly as JAX's: 0 times the nan slope)
    np.testing.assert_allclose(backend.to_numpy(f(x)), [np.inf, np.linalg.cond(a[1], p)])

# -- lax.clamp with a Python number as the operand ---------------------------------------------

def test_clamp_python_number_operand(backend):
    # clamp(lo, 0.5, hi) with 0-d array bounds (JAX accepts it) raised AttributeError on
    # x.shape; derivatives are JAX's: the bound that is the result carries it
    lo, hi = backend.asarray(0.0), backend.asarray(1.0)
    assert float(backend.to_numpy(ft.lax.clamp(lo, 0.5, hi))) == 0.5
    assert float(backend.to_numpy(ft.lax.clamp(lo, 2.5, hi))) == 1.0
    g = ft.grad(lambda a, b: ft.lax.clamp(a, 2.5, b), argnums=(0, 1))(lo, hi)
    assert [float(backend.to_numpy(v)) for v in g] == [0.0, 1.0]
    with pytest.raises(TypeError, match="0-d or of the operand's shape"):
        ft.lax.clamp(backend.asarray(np.zeros(3)), 0.5, hi)


# -- pinned: where functrans's derivative is the right one and JAX 0.10.2's is not -------------

def test_hypot_second_derivative_where_the_legs_are_equal():
    # d2/da2 hypot(a, b) = b^2 / r^3, d2/dadb = -ab / r^3: at (1, 1) 2^-1.5 (JAX: 0 for all four,
    # its rule goes through max/min of |a|, |b|, which tie there)
    for a, b in [(1.0, 1.0), (-2.5, -2.5), (0.5, -0.5)]:
        h = ft.hessian(lambda v: fnp.hypot(v[0], v[1]))(np.array([a, b]))
        r3 = math.hypot(a, b) ** 3
        want = np.array([[b * b, -a * b], [-a * b, a * a]]) / r3
        np.testing.assert_allclose(h, want, rtol=1e-14)


def test_hypot_derivatives_at_zero_and_infinity():
    # at (0, 0) the cone's subgradient 0, as abs at 0 (JAX: 0.5 each, max's tie split); with
    # an infinite leg the limit of a/r, b/r: (0, 1) for (1, inf) (JAX: nan, nan)
    assert ft.grad(fnp.hypot, argnums=(0, 1))(0.0, 0.0) == (0.0, 0.0)
    g = ft.grad(fnp.hypot, argnums=(0, 1))(1.0, np.inf)
    assert float(g[0]) == 0.0 and float(g[1]) == 1.0
    g = ft.grad(fnp.hypot, argnums=(0, 1))(-np.inf, 2.0)
    assert float(g[0]) == -1.0 and float(g[1]) == 0.0


def test_sinc_derivatives_at_tiny_arguments():
    # sinc(x) = 1 - (pi x)^2 / 6 + ...: sinc'(x) = -pi^2 x / 3 and sinc''(x) = -pi^2 / 3 near 0
    # (JAX: -inf and nan at x = 1e-300, +inf at -1e-300)
    for x in (1e-300, -1e-300, 1e-170):
        assert math.isclose(float(ft.grad(fnp.sinc)(x)), -math.pi ** 2 * x / 3, rel_tol=1e-14)
        assert math.isclose(float(ft.grad(ft.grad(fnp.sinc))(x)), -math.pi ** 2 / 3,
                            rel_tol=1e-14)


def test_bessel_second_derivatives_at_zero():
    # i0(x) = 1 + x^2/4 + ...: i0''(0) = 1/2 (JAX: 0). i1e(x) = e^-|x| I1(x) = x/2 - x|x|/2 + ...:
    # i1e''(x) = -sign(x) near 0, -1 at 1e-300 and +1 at -1e-300 (JAX: 0 for both)
    assert float(ft.grad(ft.grad(fnp.i0))(0.0)) == 0.5
    assert float(ft.grad(ft.grad(ft.lax.bessel_i1e))(1e-300)) == -1.0
    assert float(ft.grad(ft.grad(ft.lax.bessel_i1e))(-1e-300)) == 1.0


def test_ldexp_derivative_at_zero_and_infinity():
    # ldexp(x, n) = x 2^n: the derivative 2^n everywhere (JAX: 1 at x = 0, +-inf and nan)
    for x in (0.0, -0.0, 1.0, np.inf, -np.inf):
        assert float(ft.grad(lambda v: fnp.ldexp(v, 3))(x)) == 8.0


def test_logaddexp_derivative_beside_an_infinite_operand():
    # logaddexp(a, inf) = inf for every finite a: d/da = exp(a - inf) = 0 (JAX: exp(a), so
    # 2.718... at a = 1); logaddexp(inf, inf) splits 1/2, 1/2 as every tie (JAX: 1, 1, summing
    # to 2 along the diagonal where the function is x + log 2, of slope 1)
    assert float(ft.grad(fnp.logaddexp)(1.0, np.inf)) == 0.0
    assert float(ft.grad(fnp.logaddexp, 1)(np.inf, -2.5)) == 0.0
    assert float(ft.grad(fnp.logaddexp2)(2.0, np.inf)) == 0.0
    g = ft.grad(fnp.logaddexp, argnums=(0, 1))(np.inf, np.inf)
    assert (float(g[0]), float(g[1])) == (0.5, 0.5)


def test_cumlogsumexp_jacobian_after_an_infinity():
    # y = [1, inf, inf]: dy_i/dx_j = exp(x_j - y_i) = 0 beside the inf, 1 for it (JAX: e and
    # e^2 in the rows after it)
    j = ft.jacrev(ft.lax.cumlogsumexp)(np.array([1.0, np.inf, 2.0]))
    np.testing.assert_array_equal(j, [[1, 0, 0], [0, 1, 0], [0, 1, 0]])
    np.testing.assert_array_equal(ft.jacfwd(ft.lax.cumlogsumexp)(np.array([1.0, np.inf, 2.0])), j)


def test_partition_jacobian_at_ties_is_a_permutation():
    # partition([1, 3, 3], 1) = [1, 3, 3]: the identity, as a stable sort gives (JAX: rows 1 and
    # 2 both take x[1], x[2] gets nothing, so its Jacobian is not a permutation)
    j = ft.jacrev(lambda x: fnp.partition(x, 1))(np.array([1.0, 3.0, 3.0]))
    np.testing.assert_array_equal(j, np.eye(3))


# -- cbrt's second derivative at 0 and at tiny arguments ----------------------------------------

def test_cbrt_second_derivative_at_zero_and_tiny(backend):
    # cbrt'' = -2 / (9 cbrt(x)^5): -2/9 / 32 at 8; at +0 the one-sided limit -inf, at -0 +inf;
    # |x| = 1e-300 overflows to -+inf (all of these were nan, through the value's Newton step
    # and scalings; JAX: the same infinities). First derivative 1 / (3 cbrt(x)^2) unchanged.
    xs = [8.0, -8.0, 0.0, -0.0, 1e-300, -1e-300, 1e-180]
    x = backend.asarray(xs)
    d1 = lambda v: fnp.sum(fnp.cbrt(v))
    g1 = backend.to_numpy(ft.grad(d1)(x))
    want1 = [1 / 12, 1 / 12, np.inf, np.inf, 1 / 3e-200, 1 / 3e-200, 1 / 3e-120]
    np.testing.assert_allclose(g1, want1, rtol=1e-14)
    g2 = backend.to_numpy(_quiet(ft.grad(lambda v: fnp.sum(ft.grad(d1)(v))), x))
    want2 = [-1 / 144, 1 / 144, -np.inf, np.inf, -np.inf, np.inf, -2 / 9 * 1e300]
    np.testing.assert_allclose(g2, want2, rtol=1e-14)
    # forward over reverse, and the third derivative 10 / (27 x^(8/3)) at 8: 10 / 6912
    h = backend.to_numpy(_quiet(ft.jacfwd(ft.grad(fnp.cbrt)), backend.asarray(0.0)))
    assert float(h) == -np.inf
    g3 = ft.grad(ft.grad(ft.grad(fnp.cbrt)))(backend.asarray(8.0))
    assert math.isclose(float(backend.to_numpy(g3)), 10 / 6912, rel_tol=1e-14)
