"""Session 42 (sweepa42): fixes found by the NumPy, lax, convolution and FFT fuzzers on fresh
seeds (tests/_fuzz_numpy_jax.py, _fuzz_lax_jax.py, _fuzz_conv_jax.py, _fuzz_fft_jax.py),
checked against NumPy/SciPy computed here, central differences and the dot-product identity.
"""

from __future__ import annotations

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp


def _cd(f, x, v, h=1e-6):
    return (np.asarray(f(x + h * v)) - np.asarray(f(x - h * v))) / (2 * h)


# -- an ellipsis between two array indices separates them (NumPy's placement) ---------------

ELLIPSIS_KEYS = [
    (slice(None), [0, -1], Ellipsis, 1),          # the ellipsis stands for no axis here
    (slice(None), [0, 1], Ellipsis, [1, 0]),
    (slice(None), 0, Ellipsis, [0, 1]),
    (slice(None), None, [0, 1], Ellipsis, 1),
    (slice(None), [0, 1], Ellipsis, None, 1),
    (slice(None), [0, 1], 1, Ellipsis),           # adjacent: their place kept
    (Ellipsis, [0, 1], 1),
    (slice(None), True, [0, 1], Ellipsis, 1),
    (slice(None), np.array([True, False, True]), Ellipsis, 1),
]


@pytest.mark.parametrize("key", ELLIPSIS_KEYS, ids=repr)
def test_ellipsis_between_array_indices(key):
    x = np.arange(18.0).reshape(3, 3, 2)
    want = x[key]
    got = ft.jit(lambda a: a[key])(x)
    assert got.shape == want.shape and np.array_equal(got, want)
    y, t = ft.jvp(lambda a: a[key], (x,), (2 * x,))
    assert np.array_equal(y, want) and np.array_equal(t, 2 * want)
    # the update writes where NumPy's does (the value in NumPy's result layout)
    v = 100 + np.arange(want.size, dtype=float).reshape(want.shape)
    w = x.copy()
    w[key] = v
    assert np.array_equal(ft.jit(lambda a: a.at[key].set(v))(x), w)
    u = np.arange(want.size, dtype=float).reshape(want.shape) - 3
    (g,) = ft.vjp(lambda a: a[key], x)[1](u)
    want_g = np.zeros_like(x)
    np.add.at(want_g, key, u)
    assert np.array_equal(g, want_g)


def test_ellipsis_between_square_update_not_transposed(backend):
    # a square selection: the old placement transposed the value silently
    x = np.arange(27.0).reshape(3, 3, 3)
    key = (slice(None), [0, 2, 1], Ellipsis, 1)
    v = np.arange(9.0).reshape(3, 3) * 10
    w = x.copy()
    w[key] = v
    got = backend.to_numpy(ft.jit(lambda a, b: a.at[key].set(b))(backend.asarray(x),
                                                                 backend.asarray(v)))
    assert np.array_equal(got, w)
    assert np.array_equal(backend.to_numpy(ft.jit(lambda a: a[key])(backend.asarray(x))),
                          x[key])


# -- functrans.scipy.fft: n < 1 refused in SciPy's words ----------------------------------------

@pytest.mark.parametrize("name", ["fft", "ifft", "rfft", "ihfft", "irfft", "hfft", "dct", "idct",
                                  "dst", "idst"])
@pytest.mark.parametrize("n", [0, -1, -2])
def test_scipy_fft_bad_n_refused_as_scipy(name, n):
    import scipy.fft as sfft
    import functrans.scipy.fft as fsfft
    x = np.arange(4.0)
    if not (name in ("irfft", "hfft") and n == 0):  # (SciPy's one-zero quirk: below)
        with pytest.raises(ValueError, match="invalid number of data points"):
            getattr(sfft, name)(x, n=n)
    with pytest.raises(ValueError, match=rf"scipy\.fft\.{name}: invalid number of data "
                                         rf"points \({n}\) specified; n must be >= 1"):
        getattr(fsfft, name)(x, n=n)


def test_scipy_fft_c2r_n0_quirk_refused():
    # SciPy's irfft/hfft give a single zero for n=0 (no transform of length 0 has an entry):
    # functrans refuses, naming the quirk
    import scipy.fft as sfft
    import functrans.scipy.fft as fsfft
    for name in ("irfft", "hfft"):
        assert np.array_equal(getattr(sfft, name)(np.arange(3.0), n=0), [0.0])
        with pytest.raises(ValueError, match="single zero for n=0"):
            getattr(fsfft, name)(np.arange(3.0), n=0)
    # the n-dimensional transforms' s=-1 is still the input's length (SciPy's)
    x = np.arange(4.0)
    np.testing.assert_allclose(fsfft.dctn(x, s=-1), sfft.dctn(x, s=-1), atol=1e-13)
    np.testing.assert_allclose(fsfft.dct(x, n=4), sfft.dct(x, n=4), atol=1e-13)


# -- fftshift/ifftshift of a 0-d array: the identity (a shift over no axis) ----------------------

@pytest.mark.parametrize("name", ["fftshift", "ifftshift"])
@pytest.mark.parametrize("axes", [None, (), []])
def test_fftshift_of_0d_is_identity(name, axes):
    # NumPy raises inside np.roll ("not enough values to unpack": a crash, not a refusal);
    # a roll over no axis moves nothing, as jax.numpy returns
    x = np.float64(2.5)
    got = getattr(fnp.fft, name)(x, axes=axes)
    assert np.asarray(got).shape == () and float(got) == 2.5
    assert np.array_equal(getattr(fnp.fft, name)(np.arange(5.0), axes=axes),
                          getattr(np.fft, name)(np.arange(5.0), axes=axes if axes is not None
                                                else None))
    assert float(ft.grad(lambda v: getattr(fnp.fft, name)(v, axes=axes) * 3.0)(x)) == 3.0
    with pytest.raises(ValueError):
        getattr(fnp.fft, name)(np.array(1.0), axes=0)


def test_fftshift_of_0d_as_jax():
    jnp = pytest.importorskip("jax.numpy")
    for name in ("fftshift", "ifftshift"):
        assert float(getattr(jnp.fft, name)(jnp.asarray(2.5), axes=())) == \
            float(getattr(fnp.fft, name)(np.float64(2.5), axes=()))
