"""Session 23 (lead): clear errors and gaps closed."""

import warnings

import numpy as np
import pytest

import functrans as ft
import functrans.lax as flax
import functrans.numpy as fnp


def test_stop_gradient_of_a_function_says_to_stop_its_result():
    with pytest.raises(TypeError, match=r"stop_gradient\(f\(x\)\)"):
        flax.stop_gradient(lambda x: x)
    with pytest.raises(TypeError, match="not the function"):
        fnp.stop_gradient({"f": np.sin, "x": np.ones(2)})
    # pytrees of arrays are still stopped leaf by leaf
    g = ft.grad(lambda x: flax.stop_gradient([x, x * 2.0])[1] * x)(3.0)
    assert float(g) == 6.0


def test_vmap_chunks_an_unmapped_axis_size(backend):
    sizes = []

    def f(x):
        sizes.append(1)
        return fnp.sin(x) * 2.0

    x = backend.asarray([0.1, 0.2])
    whole = ft.vmap(f, in_axes=None, axis_size=7)(x)
    sizes.clear()
    chunked = ft.vmap(f, in_axes=None, axis_size=7, chunk_size=3)(x)
    assert len(sizes) == 3  # chunks of 3, 3 and 1, each traced once
    assert tuple(chunked.shape) == (7, 2)
    np.testing.assert_array_equal(backend.to_numpy(chunked), backend.to_numpy(whole))
    assert backend.is_own(chunked)
    moved = ft.vmap(f, in_axes=None, axis_size=7, chunk_size=3, out_axes=1)(x)
    assert tuple(moved.shape) == (2, 7)
    # fewer members than a chunk: one pass
    assert tuple(ft.vmap(f, in_axes=None, axis_size=2, chunk_size=3)(x).shape) == (2, 2)


def test_vmap_chunked_unmapped_randomness_different_matches_unchunked():
    import functrans.numpy.random as fr

    def draw():
        return fr.normal(size=(2,))
    fr.seed(5)
    whole = ft.vmap(draw, axis_size=5, randomness="different")()
    fr.seed(5)
    chunked = ft.vmap(draw, axis_size=5, chunk_size=2, randomness="different")()
    assert chunked.shape == (5, 2)
    assert len({tuple(np.round(r, 12)) for r in np.asarray(chunked)}) == 5
    np.testing.assert_array_equal(chunked, whole)


def test_a_library_whose_take_wraps_gets_clamped_indices_not_other_elements(monkeypatch):
    """CuPy's take wraps an out-of-range index around (no error): a staged gather replayed
    with such an index must not read another element silently. Emulated on NumPy by a take
    that wraps, as CuPy's does, and the backend flag CuPy's backend sets."""
    from functrans.backends import get_backend
    b = get_backend("numpy")
    xp = b.xp
    real_take, real_along = xp.take, xp.take_along_axis

    def wrapping_take(x, i, axis=None):
        return real_take(x, i % x.shape[axis or 0], axis=axis)

    def wrapping_along(x, i, axis):
        return real_along(x, i % x.shape[axis], axis=axis)
    monkeypatch.setattr(xp, "take", wrapping_take)
    monkeypatch.setattr(xp, "take_along_axis", wrapping_along)
    x = np.asarray([10.0, 20.0, 30.0])
    m = np.arange(6.0).reshape(2, 3)
    f = ft.jit(lambda x, i: x[i])
    g = ft.jit(lambda m, i: fnp.take_along_axis(m, i, axis=1))
    f(x, np.asarray([0, 1]))
    g(m, np.asarray([[0], [1]]))
    # the flag off, the wrapping library's answer is silently another element
    assert float(f(x, np.asarray([4]))[0]) == 20.0
    monkeypatch.setattr(type(b), "index_wraps", True)
    f = ft.jit(lambda x, i: x[i])
    # (session 27: a staged gather refuses the index, as it does on a library whose take
    # does not wrap; it was clamped on CuPy alone before)
    with pytest.raises(IndexError, match="out of bounds"):
        f(x, np.asarray([4]))
    g = ft.jit(lambda m, i: fnp.take_along_axis(m, i, axis=1))
    np.testing.assert_array_equal(g(m, np.asarray([[5], [-7]])), [[2.0], [3.0]])
    # clamped where asked for; the derivative goes to the element read
    dg = ft.grad(lambda x: fnp.sum(ft.jit(lambda x, i: fnp.take(x, i, mode="clip"))(
        x, np.asarray([4, 0]))))(x)
    np.testing.assert_array_equal(dg, [1.0, 0.0, 1.0])


@pytest.mark.parametrize("name", ["nanvar", "nanstd"])
def test_nanvar_nanstd_with_a_complex_dtype_give_that_dtype_as_numpy(name):
    x = np.asarray([1.0, 2.0, np.nan, 4.0])
    z = np.asarray([1 + 1j, 2.0, 3j, np.nan])
    for a in (x, z):
        for dtype in (None, np.complex64, np.complex128):
            with warnings.catch_warnings():  # (NumPy's ComplexWarning for complex input)
                warnings.simplefilter("ignore")
                want = getattr(np, name)(a, dtype=dtype)
            got = getattr(fnp, name)(a, dtype=dtype)
            assert np.asarray(got).dtype == np.asarray(want).dtype, (a.dtype, dtype)
            np.testing.assert_allclose(got, want, rtol=1e-6)
    # the derivative is that of the real variance
    g = ft.grad(lambda x: fnp.real(getattr(fnp, name)(x, dtype=np.complex128)))(x)
    want = ft.grad(lambda x: getattr(fnp, name)(x))(x)
    np.testing.assert_allclose(g, want, rtol=1e-12)



def test_fromfunction_like_makes_the_grid_in_like_s_library(backend):
    like = backend.asarray([0.0])
    got = fnp.fromfunction(lambda i, j: i * 10 + j, (2, 3), like=like)
    assert backend.is_own(got)
    np.testing.assert_array_equal(backend.to_numpy(got),
                                  np.fromfunction(lambda i, j: i * 10 + j, (2, 3)))
    eye = fnp.fromfunction(lambda i, j: i == j, (3, 3), dtype=int, like=like)
    np.testing.assert_array_equal(backend.to_numpy(eye), np.eye(3, dtype=bool))
    with pytest.raises(TypeError, match="like= must be an array"):
        fnp.fromfunction(lambda i: i, (3,), like=[1.0])
