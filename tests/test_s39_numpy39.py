"""Session 39 (numpy39): functrans.numpy fuzzed against NumPy 2.x and jax.numpy
(tests/_fuzz_numpy_jax.py, the tool); each case here is a difference it found, or a
derivative it checked where JAX is not the reference, against NumPy and central differences.

- take from an empty axis: 'clip'/'wrap' give the empty result where NumPy does (an
  IndexError only where the result has elements, as NumPy's); 'fill' fills, as jax.numpy's.
- x.at[i].get() with out-of-range indices (clamped by default): the derivative reaches the
  clamped element, as the values say (jax.numpy's gradient drops it: pinned by central
  differences, not JAX).
"""

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp


def _np(backend, x):
    return backend.to_numpy(x)


def _central(f, x, eps=1e-6):
    """The gradient of the scalar f at x by central differences (float64)."""
    g = np.zeros_like(x)
    for k in range(x.size):
        e = np.zeros_like(x)
        e.flat[k] = eps
        g.flat[k] = (float(f(x + e)) - float(f(x - e))) / (2 * eps)
    return g


# -- take from an empty axis ----------------------------------------------------------------


@pytest.mark.parametrize("mode", ["clip", "wrap"])
def test_take_from_an_empty_axis_with_an_empty_result_as_numpy(backend, mode):
    x = backend.asarray(np.zeros((4, 0, 0)))
    got = fnp.take(x, np.array([1, -3]), axis=1, mode=mode)  # (was IndexError)
    # (NumPy 2.4's mode='wrap' from an empty axis does not return: 'clip' is the reference)
    want = np.take(np.zeros((4, 0, 0)), [1, -3], axis=1, mode="clip")
    assert _np(backend, got).shape == want.shape == (4, 2, 0)
    with pytest.raises(IndexError, match="non-empty take from an empty axis"):
        fnp.take(backend.asarray(np.zeros((2, 0))), np.array([1]), axis=1, mode=mode)
    with pytest.raises(IndexError):  # (NumPy's own refusal, for comparison)
        np.take(np.zeros((2, 0)), [1], axis=1, mode="clip")


def test_take_fill_from_an_empty_axis_fills_every_position(backend):
    x = backend.asarray(np.zeros((2, 0)))
    want = np.full((2, 2), np.nan)
    ind = np.array([1, -3])
    for run in (lambda x: fnp.take(x, ind, axis=1, mode="fill"),
                ft.jit(lambda x: fnp.take(x, ind, axis=1, mode="fill"))):
        np.testing.assert_array_equal(_np(backend, run(x)), want)  # (was IndexError)
    got = fnp.take(backend.asarray(np.zeros(0), dtype="int32"), np.array([0]), mode="fill")
    np.testing.assert_array_equal(_np(backend, got), [np.iinfo(np.int32).min])
    got = fnp.take(x, ind, axis=1, mode="fill", fill_value=2.5)
    np.testing.assert_array_equal(_np(backend, got), np.full((2, 2), 2.5))
    g = ft.grad(lambda x: fnp.sum(fnp.take(x, ind, axis=1, mode="fill", fill_value=0.0)))(x)
    assert _np(backend, g).shape == (2, 0)
    out = ft.vmap(lambda r: fnp.take(r, ind, mode="fill"))(x)
    np.testing.assert_array_equal(_np(backend, out), want)


# -- x.at[i].get() with out-of-range indices: the derivative follows the clamp --------------


@pytest.mark.parametrize("idx", [(np.array([0, 5, -1, -7]),), (1, np.array([3, 4, -5])),
                                 (Ellipsis, np.array([0, 0, 9])),
                                 (np.array([[0], [2]]), np.array([1, -9]))])
def test_at_get_out_of_range_derivative_reaches_the_clamped_element(idx):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4))
    clamped = tuple(np.clip(np.where(k < 0, k + n, k), 0, n - 1)
                    if isinstance(k, np.ndarray) else k
                    for k, n in zip(idx, (3, 4) if idx[0] is not Ellipsis else (None, 4)))
    want_value = x[clamped]
    np.testing.assert_array_equal(fnp.asarray(x).at[idx].get(), want_value)
    u = rng.standard_normal(want_value.shape)

    def f(x):
        return fnp.sum(fnp.asarray(x).at[idx].get() * u)
    want = _central(f, x)
    for g in (ft.grad(f), ft.jit(ft.grad(f))):
        np.testing.assert_allclose(g(x), want, atol=1e-8)
    # (jax.numpy's default-mode gradient drops the out-of-range reads although its values
    # clamp them: not the reference here)


# -- convolve / correlate of small integers keep their dtype ---------------------------------


@pytest.mark.parametrize("dtype", ["int8", "uint8", "int16"])
@pytest.mark.parametrize("mode", ["full", "same", "valid"])
@pytest.mark.parametrize("name", ["convolve", "correlate"])
def test_convolve_of_small_integers_keeps_the_dtype_as_numpy(dtype, mode, name):
    a, v = np.array([100, 100, 3], dtype), np.array([2, 1], dtype)
    want = getattr(np, name)(a, v, mode=mode)
    # (the rows beside the padding were summed in int64: an int64 result holding values
    # wrapped in int8, [-56, 44, 100] for convolve's 'full')
    for run in (getattr(fnp, name), ft.jit(getattr(fnp, name), static_argnums=2)):
        got = run(a, v, mode)
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)
    got = fnp.polymul(np.array([1, 2], dtype), np.array([100, 1], dtype))
    assert got.dtype == np.polymul(np.array([1, 2], dtype), np.array([100, 1], dtype)).dtype


# -- take_along_axis(mode='promise_in_bounds') with negative indices: derivatives -------------


def test_take_along_axis_promise_in_bounds_negative_indices_derivatives():
    # (checked by central differences: jax.numpy's gradient and Hessian here differ from
    # its own values' slopes, by up to 1.4 in the gradient)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 2, 2))
    ind = np.array([[[0, 0, 0]], [[1, 0, 0]], [[-1, -1, -2]]])
    u = rng.standard_normal((3, 2, 3))

    def f(x):
        got = fnp.take_along_axis(x, ind, axis=-1, mode="promise_in_bounds")
        return fnp.sum(fnp.sin(got) * u)
    np.testing.assert_allclose(
        fnp.take_along_axis(x, ind, axis=-1, mode="promise_in_bounds"),
        np.take_along_axis(x, ind, axis=-1))
    g = ft.grad(f)
    np.testing.assert_allclose(g(x), _central(f, x), atol=1e-8)
    h = np.asarray(ft.hessian(f)(x)).reshape(12, 12)
    h_central = np.stack([_central(lambda z: np.asarray(g(z)).flat[k], x).ravel()
                          for k in range(12)])
    np.testing.assert_allclose(h, h_central, atol=1e-7)
