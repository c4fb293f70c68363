"""Review of session 12's linear_transpose through control flow, functrans.numpy's _misc
names, dtype spellings, ufunc methods and NumPy array-likes: regressions for what it found
(each test fails without its fix) and a few checks against NumPy and jax."""

from __future__ import annotations

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
import functrans.scipy.linalg as fsl
from functrans import dtypes as _dt

lax = ft.lax
RNG = np.random.default_rng(12)


def _transpose_matches_jacobian(f, x):
    y = np.asarray(f(x))
    ct = RNG.normal(size=y.shape)
    (got,) = ft.linear_transpose(f, x)(ct)
    jac = np.asarray(ft.jacfwd(f)(x)).reshape(y.size, x.size)
    np.testing.assert_allclose(np.ravel(got), jac.T @ ct.ravel(), rtol=1e-12, atol=1e-12)


# -- linear_transpose ---------------------------------------------------------------------------

_L = np.tril(RNG.normal(size=(3, 3))) + 3 * np.eye(3)


@ft.custom_vjp
def _sq(v):
    return v * v


_sq.defvjp(lambda v: (v * v, (v, {"k": (v,)})), lambda r, g: (2 * r[1]["k"][0] * g,))


NONLINEAR = {
    # triangular_solve's matrix is a coefficient, as solve's is (was silently "transposed")
    "solve_triangular of an input-dependent matrix": lambda v: fsl.solve_triangular(
        np.eye(3) + fnp.tril(fnp.ones((3, 3)) * v[:, None]), v, lower=True),
    "cho_solve of an input-dependent factor": lambda v: fsl.cho_solve(
        (np.eye(3) + fnp.diag(v), True), v),
    "solve_triangular in a scan body": lambda v: lax.scan(
        lambda c, z: (fsl.solve_triangular(np.eye(3) + fnp.diag(c), c, lower=True) + z, c),
        v, v.reshape(1, 3))[0],
    # a custom_vjp function's residuals are held in its tangent map's parameters as tracers
    # (nested in a pytree): they depend on the inputs (was silently transposed at zeros)
    "jvp of a custom_vjp function at the input": lambda v: ft.jvp(_sq, (v,), (v,))[1],
    "the same in a scan body": lambda v: lax.scan(
        lambda c, z: (ft.jvp(_sq, (c,), (z,))[1], c), v, v.reshape(1, 3))[0],
}


@pytest.mark.parametrize("name", list(NONLINEAR))
def test_non_linear_functions_are_refused(name):
    with pytest.raises(TypeError, match=r"\((triangular_solve|custom_vjp_lin)\) uses a value "
                                        r"that depends on the inputs as a coefficient"):
        ft.linear_transpose(NONLINEAR[name], np.array([0.5, 1.0, 2.0]))


LINEAR = {
    "solve_triangular of a constant matrix": lambda v: fsl.solve_triangular(_L, v,
                                                                            lower=True),
    "solve_triangular in a scan": lambda v: lax.scan(
        lambda c, z: (fsl.solve_triangular(_L, c, lower=True) + z, c), v,
        v.reshape(1, 3))[1].ravel(),
    "jvp of a custom_vjp function at a constant": lambda v: ft.jvp(
        _sq, (np.array([0.5, 1.0, 2.0]),), (v,))[1],
    "vjp of a custom_vjp function at a constant, in a scan": lambda v: lax.scan(
        lambda c, z: (ft.vjp(_sq, np.array([0.5, 1.0, 2.0]))[1](c)[0] + z, c), v,
        v.reshape(1, 3))[0],
    "while_loop on a counter, closing over x": lambda v: lax.while_loop(
        lambda d: d[0] < 3, lambda d: (d[0] + 1, d[1] * 2 + v), (0, v))[1],
    "cond closing over x in a scan": lambda v: lax.scan(lambda c, z: (c + 1, lax.cond(
        c % 2 == 0, lambda u: u + v[0], lambda u: u * 3 - v[1], z)), 0, v)[1],
}


@pytest.mark.parametrize("name", list(LINEAR))
def test_linear_functions_still_transpose(name):
    _transpose_matches_jacobian(LINEAR[name], RNG.normal(size=3))


def test_switch_closing_over_x_matches_jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)

    def make(L):
        return lambda x: L.scan(lambda c, z: (c + 1, L.switch(c % 3, [
            lambda u: u + x[0], lambda u: x[1] * 2.0 - u, lambda u: u * 0.5], z)), 0, x)[1]
    x, ct = RNG.normal(size=4), RNG.normal(size=4)
    want = jax.linear_transpose(make(jax.lax), jax.numpy.asarray(x))(jax.numpy.asarray(ct))
    np.testing.assert_allclose(ft.linear_transpose(make(lax), x)(ct)[0], np.asarray(want[0]),
                               rtol=1e-12)


# -- dtypes -----------------------------------------------------------------------------------

@pytest.mark.parametrize("t", [np.longlong, np.ulonglong, np.intc, np.double, np.csingle])
def test_numpy_scalar_types_are_dtypes_everywhere(t):
    # np.longlong's __name__ is "longlong": as_dtype (zeros(dtype=), astype...) refused it
    want = np.dtype(t).name
    assert _dt.as_dtype(t).name == want
    assert fnp.zeros(2, dtype=t).dtype == np.dtype(want)
    assert fnp.dtype(t).name == want


@pytest.mark.parametrize("dtype, text, want", [
    ("float32", "1.5", np.float32(1.5)), ("int32", "12", np.int32(12)),
    ("complex64", "1+2j", np.complex64(1 + 2j)), ("bool_", "", np.False_),
    ("float64", "-inf", -np.inf)])
def test_callable_dtypes_read_strings(dtype, text, want):
    got = getattr(fnp, dtype)(text)
    assert got.dtype == np.asarray(want).dtype and got.shape == ()
    assert got == want


def test_callable_dtype_bad_string_is_numpys_error():
    with pytest.raises(ValueError, match="invalid literal"):
        fnp.int32("1.5")


# -- ufunc methods ----------------------------------------------------------------------------

_A = RNG.uniform(0.5, 2.0, size=(2, 3, 4))
_I = RNG.integers(1, 7, size=(2, 3, 4))


@pytest.mark.parametrize("name, a", [
    ("fmax", _A), ("fmin", _A), ("fmod", _A), ("gcd", _I), ("lcm", _I), ("heaviside", _A),
    ("float_power", _A), ("logaddexp2", _A), ("nextafter", _A), ("left_shift", _I % 3),
    ("right_shift", _I), ("bitwise_left_shift", _I % 3)])
def test_every_binary_ufunc_has_numpys_methods(name, a):
    f, u = getattr(fnp, name), getattr(np, name)
    for got, want in [(f.reduce(a), u.reduce(a)), (f.reduce(a, axis=-1), u.reduce(a, axis=-1)),
                      (f.accumulate(a, axis=1), u.accumulate(a, axis=1)),
                      (f.outer(a[0, 0], a[1, :, 0]), u.outer(a[0, 0], a[1, :, 0]))]:
        assert np.asarray(got).dtype == want.dtype
        np.testing.assert_allclose(np.asarray(got), want, rtol=1e-13)
    b = a.copy()
    u.at(b, np.array([0, 0, 1]), a[0])
    np.testing.assert_allclose(f.at(fnp.asarray(a), np.array([0, 0, 1]), a[0], inplace=False), b)


def test_reorderable_and_not():
    a = _A[0]
    np.testing.assert_allclose(fnp.fmax.reduce(a, axis=None), np.fmax.reduce(a, axis=None))
    np.testing.assert_allclose(fnp.fmin.reduce(a, axis=(0, 1)), np.fmin.reduce(a, axis=(0, 1)))
    with pytest.raises(ValueError, match="not reorderable"):
        fnp.fmod.reduce(a, axis=None)


@pytest.mark.parametrize("kw", [{}, {"axis": ()}, {"axis": -1, "keepdims": True}])
def test_hypot_reduce_starts_at_its_identity(kw):
    a = np.array([[-3.0], [2.0]])  # one element along the axis: NumPy gives hypot(0, a)
    np.testing.assert_array_equal(fnp.hypot.reduce(a, **kw), np.hypot.reduce(a, **kw))


@pytest.mark.parametrize("name", ["logaddexp", "hypot", "arctan2", "copysign", "logaddexp2"])
def test_float_folds_of_bool_arrays(name):
    # NumPy's loop for bool is float16; functrans's function gives float64 for booleans (as
    # jax.numpy with x64), and so does its fold
    b = np.array([[True, False, True], [True, True, False]])
    f = getattr(fnp, name)
    want = getattr(np, name).reduce(b, axis=1).astype(np.float64)
    got = f.reduce(b, axis=1)
    assert got.dtype == f(b, b).dtype == np.float64
    np.testing.assert_allclose(got, want, rtol=2e-3)
    np.testing.assert_allclose(f.accumulate(b, axis=1)[:, -1], want, rtol=2e-3)


def test_ufunc_method_derivatives():
    from functrans.testing import check_grads
    a = RNG.uniform(0.5, 1.5, size=(3, 4))
    for f in (lambda v: fnp.hypot.reduce(v, axis=1), lambda v: fnp.fmax.accumulate(v, axis=0),
              lambda v: fnp.logaddexp2.outer(v[0], v[1]), lambda v: fnp.hypot.reduce(v, axis=()),
              lambda v: fnp.float_power.reduce(v, axis=-1)):
        check_grads(f, (a,), order=1, modes=("fwd", "rev"))
        np.testing.assert_allclose(ft.jit(f)(a), f(a))
        np.testing.assert_allclose(ft.vmap(f)(np.stack([a, 2 * a]))[1], f(2 * a))


# -- divide's dtype with integer and floating arrays -------------------------------------------

@pytest.mark.parametrize("a, b, want", [
    (np.array([7], np.int8), np.array([2.0], np.float32), np.float32),
    (np.array([2.0], np.float32), np.array([7], np.int16), np.float32),
    (np.array([True]), np.array([2.0], np.float32), np.float32),
    (np.array([True]), np.array([2 + 0j], np.complex64), np.complex64),
    (np.array([7], np.int8), np.array([2], np.int16), np.float64),
    (np.array([7], np.int8), 2, np.float64), (3, np.array([2], np.int8), np.float64),
    (np.array([7], np.int8), 2.0, np.float64)])
def test_divide_promotes_an_integer_array_with_a_float_one(a, b, want):
    # an integer array was made float64 before meeting float32 (NumPy, JAX: float32)
    for f in (fnp.divide, fnp.true_divide, lambda x, y: fnp.asarray(x) / y):
        got = f(a, b)
        assert got.dtype == want
        np.testing.assert_allclose(got, np.divide(a, b), rtol=1e-6)


def test_divide_derivative_with_an_integer_numerator():
    x = np.array([1.0, 2.0], np.float32)
    val, g = ft.value_and_grad(lambda v: fnp.sum(fnp.divide(np.array([1, 2], np.int8), v)))(x)
    assert val.dtype == g.dtype == np.float32
    np.testing.assert_allclose(g, -np.array([1.0, 2.0]) / x ** 2)


# -- sort/argsort take NumPy's kind and order ---------------------------------------------------

@pytest.mark.parametrize("kind", [None, "quicksort", "mergesort", "stable", "heapsort"])
def test_sort_and_argsort_accept_kind(kind):
    a = np.array([[3.0, 1.0, 2.0, 1.0], [0.5, -1.0, 0.5, 2.0]])
    np.testing.assert_array_equal(fnp.sort(a, axis=None, kind=kind), np.sort(a, axis=None))
    np.testing.assert_array_equal(fnp.sort(a, -1, kind), np.sort(a, -1, kind))
    np.testing.assert_array_equal(fnp.argsort(a, axis=None, kind=kind),
                                  np.argsort(a, axis=None, kind="stable"))
    np.testing.assert_array_equal(fnp.argsort(a, 0, kind), np.argsort(a, 0, kind="stable"))
    with pytest.raises(NotImplementedError, match="structured"):
        fnp.sort(a, order="x")
    with pytest.raises(NotImplementedError, match="structured"):
        fnp.argsort(a, order=["x"])


# -- checked and fine: a few cross-checks kept --------------------------------------------------

@pytest.mark.parametrize("num, width", [(-5, None), (-5, 8), (5, 8), (0, None), (-128, 8),
                                        (255, None)])
def test_binary_repr(num, width):
    assert fnp.binary_repr(num, width) == np.binary_repr(num, width)


@pytest.mark.parametrize("count, order", [(None, "big"), (-3, "little"), (20, "big")])
def test_unpackbits_count_and_order(count, order):
    a = np.array([[3, 7], [255, 0]], dtype=np.uint8)
    got = fnp.unpackbits(a, axis=1, count=count, bitorder=order)
    np.testing.assert_array_equal(got, np.unpackbits(a, axis=1, count=count, bitorder=order))


def test_index_tricks_with_complex_and_negative_steps():
    np.testing.assert_allclose(fnp.r_[1:0:5j, [0.5] * 2, 3], np.r_[1:0:5j, [0.5] * 2, 3])
    for got, want in zip(fnp.mgrid[3:0:-1, 0:1:3j], np.mgrid[3:0:-1, 0:1:3j]):
        np.testing.assert_allclose(got, want)
    np.testing.assert_array_equal(fnp.c_[np.arange(3), [4, 5, 6]], np.c_[np.arange(3), [4, 5, 6]])


def test_unique_axis_with_all_returns():
    a = RNG.integers(0, 2, size=(4, 2, 3))
    got = fnp.unique(a, axis=1, return_index=True, return_inverse=True, return_counts=True)
    want = np.unique(a, axis=1, return_index=True, return_inverse=True, return_counts=True)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(np.asarray(g), w)
