"""functrans.numpy.fft: values against numpy.fft on every backend (lengths, axes, norms,
dtypes), transforms (jit, vmap, grad identities), and errors. Derivatives against finite
differences and the transposes' dot-product identity: the "functrans.numpy.fft" section of
TABLE in tests/test_namespace_grads.py."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.errors import ShapeError

FFT = fnp.fft
RNG = np.random.default_rng(0)
X = RNG.normal(size=(4, 6))
Z = X + 1j * RNG.normal(size=(4, 6))

# (name, input, keyword arguments)
CASES = [
    ("fft", Z, {}), ("fft", X, {"n": 4, "axis": 0}), ("fft", Z, {"n": 9, "norm": "ortho"}),
    ("ifft", Z, {"norm": "forward"}), ("ifft", Z, {"n": 3, "axis": -2}),
    ("fftn", Z, {}), ("fftn", Z, {"s": (3, 8)}), ("fftn", X, {"axes": (0,)}),
    ("ifftn", Z, {"s": (5, 5), "axes": (1, 0), "norm": "ortho"}),
    ("fft2", Z, {}), ("ifft2", Z, {"s": (2, 7)}),
    ("rfft", X, {}), ("rfft", X, {"n": 7, "axis": 0, "norm": "ortho"}),
    ("irfft", Z, {}), ("irfft", Z, {"n": 7}), ("irfft", Z, {"n": 12, "axis": 0}),
    ("rfftn", X, {}), ("rfftn", X, {"s": (5, 5)}), ("rfftn", X, {"axes": (1, 0)}),
    ("irfftn", Z, {}), ("irfftn", Z, {"s": (4, 9), "axes": (0, 1), "norm": "forward"}),
    ("irfftn", Z, {"axes": (1, 0)}),
    ("rfft2", X, {}), ("irfft2", Z, {"s": (3, 5)}),
    ("hfft", Z, {}), ("hfft", Z, {"n": 5, "norm": "ortho"}), ("ihfft", X, {}),
    ("ihfft", X, {"n": 8, "norm": "forward"}),
]


def _numpy(name, x, kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return getattr(np.fft, name)(x, **kw)


@pytest.mark.parametrize("name,x,kw", CASES,
                         ids=[f"{n}-{'-'.join(map(str, k.values()))}" for n, _, k in CASES])
def test_values_match_numpy(backend, name, x, kw):
    dtype = "complex128" if x.dtype.kind == "c" else "float64"
    got = getattr(FFT, name)(backend.asarray(x, dtype=dtype), **kw)
    assert backend.is_own(got)
    want = _numpy(name, x, kw)
    got = backend.to_numpy(got)
    assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name,x", [("fft", Z), ("fft", X), ("rfft", X), ("irfft", Z),
                                    ("fftn", Z), ("ihfft", X), ("hfft", Z)])
def test_single_precision_stays_single(backend, name, x):
    dtype = "complex64" if x.dtype.kind == "c" else "float32"
    got = backend.to_numpy(getattr(FFT, name)(backend.asarray(x, dtype=dtype)))
    want = getattr(np.fft, name)(x.astype(dtype))
    assert got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=2e-5, atol=2e-5)


def test_integer_and_python_input():
    np.testing.assert_allclose(FFT.fft(np.arange(5)), np.fft.fft(np.arange(5)))
    np.testing.assert_allclose(FFT.rfft([1, 2, 3, 4]), np.fft.rfft([1, 2, 3, 4]))
    assert FFT.fft(np.arange(5)).dtype == np.complex128


def test_round_trips_and_their_gradients(backend):
    x = backend.asarray(X)
    np.testing.assert_allclose(backend.to_numpy(FFT.irfft(FFT.rfft(x), n=6)), X, atol=1e-13)
    np.testing.assert_allclose(backend.to_numpy(fnp.real(FFT.ifftn(FFT.fftn(x)))), X,
                               atol=1e-13)

    # Parseval: sum |x|^2 = sum |fft x|^2 / n, so both gradients are 2 x
    def power(v):
        return fnp.sum(fnp.abs(FFT.fft(v, axis=1)) ** 2) / 6.0
    g = ft.grad(power)(x)
    assert backend.is_own(g)
    np.testing.assert_allclose(backend.to_numpy(g), 2 * X, rtol=1e-12)
    # the real round trip is the identity, so its gradient is a vector of ones
    g = ft.grad(lambda v: fnp.sum(FFT.irfftn(FFT.rfftn(v), s=(4, 6))))(x)
    np.testing.assert_allclose(backend.to_numpy(g), np.ones((4, 6)), rtol=1e-12)


def test_gradient_of_a_spectral_filter_is_the_filter_transposed():
    """y = irfft(H * rfft(x)) is a circular convolution; its VJP is the correlation."""
    h = np.array([0.5, 0.25, 0.0, 0.25, 0.1, -0.2])
    H = np.fft.rfft(h)
    u = RNG.normal(size=6)
    _, pull = ft.vjp(lambda x: FFT.irfft(fnp.multiply(H, FFT.rfft(x)), n=6), X[0])
    (g,) = pull(u)
    circ = np.array([[h[(i - j) % 6] for j in range(6)] for i in range(6)])
    np.testing.assert_allclose(g, circ.T @ u, rtol=1e-12)


def test_jit_and_vmap_match_eager(backend):
    x = backend.asarray(X)

    def f(v):
        return fnp.abs(FFT.rfft(v)) + fnp.real(FFT.fft(v))[..., :4]
    np.testing.assert_allclose(backend.to_numpy(ft.jit(f)(x)), backend.to_numpy(f(x)),
                               rtol=1e-13)
    batched = backend.to_numpy(ft.vmap(f)(x))
    for i in range(4):
        np.testing.assert_allclose(batched[i], backend.to_numpy(f(x[i, ...])), rtol=1e-13)
    # vmap over a non-leading axis of a multi-axis transform
    z = backend.asarray(np.stack([X, 2 * X], axis=1), dtype="float64")  # (4, 2, 6)
    got = backend.to_numpy(ft.vmap(lambda v: FFT.rfftn(v, axes=(0, 1)), in_axes=1)(z))
    np.testing.assert_allclose(got[1], np.fft.rfftn(2 * X), rtol=1e-12)


@pytest.mark.parametrize("name", ["fftfreq", "rfftfreq"])
@pytest.mark.parametrize("n,d", [(1, 1.0), (5, 0.1), (8, 2.0)])
def test_frequencies(name, n, d):
    got = getattr(FFT, name)(n, d)
    np.testing.assert_allclose(got, getattr(np.fft, name)(n, d), rtol=1e-15)
    assert getattr(FFT, name)(n, d, dtype=fnp.float32).dtype == np.float32


def test_frequencies_follow_the_default_backend(backend):
    with ft.default_backend(backend.name):
        f = FFT.fftfreq(6, 0.5)
    assert isinstance(f, backend.backend.array_types)
    np.testing.assert_allclose(backend.to_numpy(f), np.fft.fftfreq(6, 0.5))


@pytest.mark.parametrize("name", ["fftfreq", "rfftfreq"])
def test_frequencies_of_an_array_spacing(backend, name):
    """A spacing given as an array (or a tracer: vmap over it, its derivative) gives the
    frequencies on its library and device; the counts were made on the default library and
    could not be divided by an array of another."""
    f = getattr(FFT, name)
    d = backend.asarray(0.5)
    got = f(5, d)
    assert backend.is_own(got)
    np.testing.assert_allclose(backend.to_numpy(got), getattr(np.fft, name)(5, 0.5), rtol=1e-15)
    ds = backend.asarray([0.5, 0.25, 2.0])
    batched = ft.vmap(lambda d: f(6, d))(ds)
    assert backend.is_own(batched)
    np.testing.assert_allclose(backend.to_numpy(batched),
                               np.stack([getattr(np.fft, name)(6, v) for v in (0.5, 0.25, 2.0)]),
                               rtol=1e-15)
    g = ft.grad(lambda d: fnp.sum(f(6, d)))(d)  # d/dd of sum(k / (n d)) = -sum(k) / (n d^2)
    want = -np.sum(getattr(np.fft, name)(6, 1.0)) / 0.25
    assert backend.is_own(g)
    np.testing.assert_allclose(backend.to_numpy(g), want, rtol=1e-14, atol=1e-14)


def test_transforms_of_arrays_with_no_values(backend):
    """A zero-length axis that is not transformed (a batch of no members under vmap): an empty
    result of NumPy's shape and dtype on every library (torch's MKL FFT refused it); a
    zero-length transformed axis is still an error."""
    x = backend.asarray(np.zeros((0, 4)))
    for name, kw in (("fft", {}), ("ifft", {}), ("rfft", {}), ("irfft", {"n": 6}),
                     ("fftn", {"axes": (1,)}), ("irfftn", {"axes": (-1,)})):
        got = getattr(FFT, name)(x, **kw)
        want = getattr(np.fft, name)(np.zeros((0, 4)), **kw)
        assert backend.is_own(got) and tuple(got.shape) == want.shape, name
        assert fnp.result_type(got) == fnp.result_type(want), name
    got = ft.vmap(lambda v: FFT.rfft(v, n=6))(backend.asarray(np.zeros((0, 5))))
    assert backend.is_own(got) and tuple(got.shape) == (0, 4)
    with pytest.raises((ValueError, RuntimeError), match="[Ii]nvalid number of"):
        FFT.fft(backend.asarray(np.zeros((2, 0))))


@pytest.mark.parametrize("axes", [None, 0, 1, (1, 0)])
def test_shifts(backend, axes):
    x = backend.asarray(np.arange(15.0).reshape(3, 5))
    np.testing.assert_array_equal(backend.to_numpy(FFT.fftshift(x, axes=axes)),
                                  np.fft.fftshift(np.arange(15.0).reshape(3, 5), axes=axes))
    np.testing.assert_array_equal(backend.to_numpy(FFT.ifftshift(FFT.fftshift(x, axes), axes)),
                                  np.arange(15.0).reshape(3, 5))


def test_errors():
    with pytest.raises(ValueError, match="norm must be one of"):
        FFT.fft(Z, norm="unitary")
    with pytest.raises(ValueError, match="invalid number of data points"):
        FFT.fft(Z, n=0)
    with pytest.raises(ShapeError, match="axis 2 is out of range"):
        FFT.fft(Z, axis=2)
    with pytest.raises(TypeError, match="must be real"):
        FFT.rfft(Z)
    # a repeated axis is transformed once per repetition, as NumPy's (fft41; was refused)
    np.testing.assert_allclose(FFT.fftn(Z, axes=(0, 0)), np.fft.fftn(Z, axes=(0, 0)),
                               atol=1e-12)
    with pytest.raises(ValueError, match="same length"):
        FFT.fftn(Z, s=(2, 3), axes=(0,))
    with pytest.raises(ValueError, match="at least one axis"):
        FFT.rfftn(X, axes=())
    with pytest.raises(TypeError, match="real floating dtype"):
        FFT.fftfreq(4, dtype=fnp.int64)


def test_no_axes_leave_the_input_as_it_is():
    x = np.arange(3.0)
    for f in (FFT.fftn, FFT.ifftn):
        out = f(x, axes=())
        assert out.dtype == np.float64
        np.testing.assert_array_equal(out, np.fft.fftn(x, axes=()))
    with pytest.raises(ValueError, match="norm must be"):
        FFT.fftn(x, axes=(), norm="bad")
