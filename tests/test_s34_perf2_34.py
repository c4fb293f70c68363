"""perf2_34: the shorter paths of grad (one layer of calls), of jacfwd/jacrev's batched map
over the basis (no vmap wrapper per call, flat arguments) and of the NumPy backend's tanh
slope on NumPy scalars give what the longer paths gave."""

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.backends import numpy_backend
from functrans.errors import NonScalarOutputError


def _fd_jacobian(f, x, h=1e-6):
    """Central differences of ``f`` (array -> array) in float64, shape out + in."""
    x = np.asarray(x, dtype=np.float64)
    cols = []
    for i in range(x.size):
        e = np.zeros(x.size)
        e[i] = h
        e = e.reshape(x.shape)
        cols.append((np.asarray(f(x + e)) - np.asarray(f(x - e))) / (2 * h))
    return np.moveaxis(np.stack(cols), 0, -1).reshape(np.shape(f(x)) + x.shape)


def _loss(p):
    return fnp.sum(fnp.tanh(p["w"]) * p["b"]) + fnp.sin(p["s"]) ** 2


_P = {"w": np.array([0.3, -0.7, 1.1]), "b": np.array([0.5, 2.0, -1.0]), "s": np.asarray(0.4)}


def test_grad_is_value_and_grad_without_the_value():
    g = ft.grad(_loss)(_P)
    v, g2 = ft.value_and_grad(_loss)(_P)
    assert set(g) == set(_P)
    for k in _P:
        assert type(g[k]) is type(g2[k]) and g[k].dtype == g2[k].dtype
        np.testing.assert_array_equal(g[k], g2[k])
    # against the derivatives written out
    np.testing.assert_allclose(g["w"], (1 - np.tanh(_P["w"]) ** 2) * _P["b"], rtol=1e-14)
    np.testing.assert_allclose(g["b"], np.tanh(_P["w"]), rtol=1e-14)
    np.testing.assert_allclose(g["s"], 2 * np.sin(0.4) * np.cos(0.4), rtol=1e-14)
    np.testing.assert_allclose(v, _loss(_P), rtol=1e-14)


def test_grad_with_aux_and_argnums():
    def f(x, y):
        return fnp.sum(x * y), {"sq": x * x}
    x, y = np.array([1.0, 2.0]), np.array([3.0, -4.0])
    g, aux = ft.grad(f, argnums=(0, 1), has_aux=True)(x, y)
    (val, aux2), g2 = ft.value_and_grad(f, argnums=(0, 1), has_aux=True)(x, y)
    assert isinstance(g, tuple) and len(g) == 2
    np.testing.assert_array_equal(g[0], y)
    np.testing.assert_array_equal(g[1], x)
    np.testing.assert_array_equal(aux["sq"], x * x)
    np.testing.assert_array_equal(aux2["sq"], aux["sq"])
    assert float(val) == -5.0
    # elementwise_grad shares the path
    eg, eaux = ft.elementwise_grad(lambda x: (fnp.sin(x), x + 1.0), has_aux=True)(x)
    np.testing.assert_allclose(eg, np.cos(x), rtol=1e-15)
    np.testing.assert_array_equal(eaux, x + 1.0)


def test_grad_keeps_the_functions_name_and_errors():
    def my_loss(x):
        return x * 2.0
    gf = ft.grad(my_loss)
    assert gf.__name__ == "my_loss" and gf.__wrapped__ is my_loss
    assert ft.elementwise_grad(my_loss).__name__ == "my_loss"
    with pytest.raises(NonScalarOutputError, match="grad of my_loss"):
        gf(np.array([1.0, 2.0]))
    # grad of a Python scalar input: an array back, as value_and_grad's gradient
    g = ft.grad(lambda x: x ** 3)(2.0)
    assert isinstance(g, np.ndarray) and g.shape == () and float(g) == 12.0
    # the caller's array is not the gradient (an identity's gradient is a fresh array)
    x = np.asarray(1.5)
    gi = ft.grad(lambda x: x)(x)
    assert gi is not x and float(gi) == 1.0


def _two_in_two_out(x, y):
    return {"a": fnp.sin(x) * y[0], "b": fnp.stack([fnp.sum(x * x), y[1] ** 3])}


@pytest.mark.parametrize("jac", [ft.jacfwd, ft.jacrev])
@pytest.mark.parametrize("chunk_size", [None, 1, 2, 4, 100])
def test_jacobians_of_several_inputs_and_outputs(jac, chunk_size):
    x, y = np.array([0.2, -0.5, 0.9]), np.array([1.5, -0.3])
    J = jac(_two_in_two_out, argnums=(0, 1), chunk_size=chunk_size)(x, y)
    for key in ("a", "b"):
        fx = _fd_jacobian(lambda xx: _two_in_two_out(xx, y)[key], x)
        fy = _fd_jacobian(lambda yy: _two_in_two_out(x, yy)[key], y)
        assert J[key][0].shape == fx.shape and J[key][1].shape == fy.shape
        np.testing.assert_allclose(J[key][0], fx, rtol=1e-8, atol=1e-9)
        np.testing.assert_allclose(J[key][1], fy, rtol=1e-8, atol=1e-9)


@pytest.mark.parametrize("jac", [ft.jacfwd, ft.jacrev])
def test_jacobians_with_aux_empty_inputs_and_identity(jac):
    x = np.array([0.1, 0.2])
    J, aux = jac(lambda x: (fnp.exp(x), fnp.sum(x)), has_aux=True, chunk_size=1)(x)
    np.testing.assert_allclose(J, np.diag(np.exp(x)), rtol=1e-15)
    assert float(aux) == pytest.approx(0.3)
    # an empty input: a block of zeros of the right shape
    Je = jac(lambda x, e: fnp.sin(x) + fnp.sum(e), argnums=(0, 1))(x, np.zeros((0,)))
    assert Je[1].shape == (2, 0)
    np.testing.assert_allclose(Je[0], np.diag(np.cos(x)), rtol=1e-15)
    # the Jacobian of an identity is a fresh array, not a view of the basis or the input
    Ji = jac(lambda x: x)(x)
    np.testing.assert_array_equal(Ji, np.eye(2))
    Ji[0, 0] = 7.0
    np.testing.assert_array_equal(jac(lambda x: x)(x), np.eye(2))
    np.testing.assert_array_equal(x, [0.1, 0.2])


def test_hessian_and_second_order_through_the_batched_map():
    x = np.array([0.3, -0.2, 0.5])
    f = lambda x: fnp.sum(fnp.tanh(x) ** 2) + x[0] * x[1] * x[2]  # noqa: E731
    H = ft.hessian(f)(x)
    Hfd = _fd_jacobian(ft.grad(f), x)
    np.testing.assert_allclose(H, Hfd, rtol=1e-7, atol=1e-8)
    np.testing.assert_allclose(H, H.T, rtol=1e-14)
    np.testing.assert_allclose(ft.jacrev(ft.jacfwd(f), chunk_size=2)(x), H, rtol=1e-14)


def test_vmap_still_wraps_the_function_and_jacobians_take_control_flow():
    def g(x):
        return x * 2.0
    v = ft.vmap(g)
    assert v.__name__ == "g" and v.__wrapped__ is g

    def branchy(x):
        if x[0] > 0:  # Python control flow on the (unbatched) primal, as in JAX's jacfwd
            return x * x
        return -x
    x = np.array([1.0, 2.0])
    np.testing.assert_array_equal(ft.jacfwd(branchy)(x), np.diag(2 * x))
    np.testing.assert_array_equal(ft.jacrev(branchy)(x), np.diag(2 * x))


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_tanh_slope_on_numpy_scalars_rounds_as_the_ufunc(dtype):
    for v in (0.3, -1.7, 0.0, 4.0, 25.0, np.nan):
        x = dtype(v)
        y, s, m = numpy_backend._tanh_slope(x, True)
        t = np.tanh(x)
        ref = np.subtract(1.0, np.multiply(t, t))
        assert type(s) is type(ref) and s.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(s, ref)
        np.testing.assert_array_equal(m, t * -2.0)
        # through the transforms, 0-d arrays: grad of tanh is that slope exactly
        g = ft.grad(fnp.tanh)(np.asarray(v, dtype=dtype))
        assert g.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(g, ref)


@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
def test_tanh_slope_on_complex_scalars_keeps_the_ufunc(dtype):
    # complex scalars' own * rounds differently from np.multiply in the last bit, so they
    # keep the ufunc: the slope is the array path's value, bit for bit
    rng = np.random.default_rng(3)
    for z in (rng.standard_normal(20) + 1j * rng.standard_normal(20)).astype(dtype):
        _, s = numpy_backend._tanh_slope(z, False)
        arr = np.asarray([z])
        _, s_arr = numpy_backend._tanh_slope(arr, False)
        assert s.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(s, s_arr[0])


def test_tanh_slope_of_arrays_and_subclasses_elementwise():
    with pytest.warns(PendingDeprecationWarning):
        m = np.matrix([[0.5, -0.25], [1.0, 2.0]])
    y, s = numpy_backend._tanh_slope(m, False)
    t = np.tanh(np.asarray(m))
    np.testing.assert_array_equal(np.asarray(s), 1.0 - t * t)  # elementwise, not a matmul
    x = np.linspace(-2, 2, 7)
    _, s = numpy_backend._tanh_slope(x, False)
    np.testing.assert_array_equal(s, 1.0 - np.tanh(x) * np.tanh(x))
