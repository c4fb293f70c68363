"""functrans.scipy.signal's detrend, welch, csd, stft and istft against SciPy (1.17): values
to 1e-12, shapes, dtypes, windows, axes, boundaries, errors; the values on NumPy and torch
(the computation is the same functrans.numpy code on every library), the library of the
results on every backend. Derivatives: tests/test_namespace_grads.py's stats15 section."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import functrans as ft
import functrans.scipy.signal as fss

ss = pytest.importorskip("scipy.signal")

RNG = np.random.default_rng(15)
X = RNG.normal(size=(3, 40))
XC = X + 1j * RNG.normal(size=X.shape)
VALUES_ON = ("numpy", "torch")


def _b(backend, a):
    a = np.asarray(a)
    return backend.asarray(a, dtype=a.dtype.name)


def _check(backend, out, ref, rtol=1e-12, scale=None):
    assert backend.is_own(out), type(out)
    out = backend.to_numpy(out)
    ref = np.asarray(ref)
    assert out.shape == ref.shape and out.dtype == ref.dtype, (out.shape, ref.shape,
                                                               out.dtype, ref.dtype)
    if scale is None:
        scale = np.abs(ref).max() if ref.size else 1.0
    np.testing.assert_allclose(out, ref, rtol=rtol, atol=1e-14 * scale)


def _values(backend):
    if backend.name not in VALUES_ON:
        pytest.skip("values on NumPy and torch (one code path on every library)")


WELCH = [{}, dict(nperseg=16, noverlap=5, nfft=20),
         dict(window="hamming", nperseg=13, detrend="linear", fs=3.0),
         dict(window="boxcar", nperseg=10, scaling="spectrum", average="median"),
         dict(window=np.arange(1.0, 9.0)),
         dict(window="blackman_symmetric", nperseg=12, detrend=False, return_onesided=False)]


@pytest.mark.parametrize("kw", WELCH, ids=range(len(WELCH)))
def test_welch_and_csd(backend, kw):
    _values(backend)
    kwb = {k: _b(backend, v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (nperseg 256 > 40: SciPy's warning and ours)
        for x in (X, XC):
            f, p = fss.welch(_b(backend, x), **kwb)
            rf, rp = ss.welch(x, **kw)
            _check(backend, f, rf)
            _check(backend, p, rp)
        _check(backend, fss.welch(_b(backend, X.T), axis=0, **kwb)[1],
               ss.welch(X.T, axis=0, **kw)[1])
        # csd: x padded to y's length; a complex y gives the two-sided spectra
        _check(backend, fss.csd(_b(backend, X[:, :30]), _b(backend, X[::-1]), **kwb)[1],
               ss.csd(X[:, :30], X[::-1], **kw)[1])
        _check(backend, fss.csd(_b(backend, X), _b(backend, XC), **kwb)[1],
               ss.csd(X, XC, **{**kw, "return_onesided": False})[1])


STFT = [dict(nperseg=16), dict(nperseg=16, noverlap=5, nfft=20),
        dict(window="hamming", nperseg=13, detrend="linear"),
        dict(nperseg=10, boundary="even"), dict(nperseg=10, boundary="odd", padded=False),
        dict(nperseg=11, boundary="constant", scaling="psd", fs=2.0),
        dict(nperseg=8, boundary=None), dict(window=np.arange(1.0, 9.0), nperseg=8),
        dict(nperseg=12, return_onesided=False)]


@pytest.mark.parametrize("kw", STFT, ids=range(len(STFT)))
def test_stft_istft(backend, kw):
    _values(backend)
    kwb = {k: _b(backend, v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
    for x, axis in ((X, -1), (X.T, 0), (XC, -1)):
        out, ref = fss.stft(_b(backend, x), axis=axis, **kwb), ss.stft(x, axis=axis, **kw)
        for o, r in zip(out, ref):
            _check(backend, o, r)
    z = ss.stft(X, **kw)[2]
    ikw = {k: v for k, v in kwb.items() if k in ("window", "nperseg", "noverlap", "nfft", "fs",
                                                 "scaling")}
    if kw.get("return_onesided", True) is False:
        ikw["input_onesided"] = False
    iref = {k: np.asarray(backend.to_numpy(v)) if hasattr(v, "shape") else v
            for k, v in ikw.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (NOLA fails without the boundary for some)
        for zz, axes in ((z, {}), (np.moveaxis(z, -1, 0), dict(time_axis=0, freq_axis=-1))):
            out, ref = fss.istft(_b(backend, zz), **axes, **ikw), ss.istft(zz, **axes, **iref)
            _check(backend, out[0], ref[0])
            _check(backend, out[1], ref[1])


def test_float32_and_defaults(backend):
    x32 = X.astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f, p = fss.welch(_b(backend, x32))
        assert backend.to_numpy(p).dtype == np.float32 and backend.to_numpy(f).dtype == np.float64
        np.testing.assert_allclose(backend.to_numpy(p), ss.welch(x32)[1], rtol=2e-5)
        z = fss.stft(_b(backend, x32), nperseg=8)[2]
        assert backend.to_numpy(z).dtype == np.complex64
        assert backend.to_numpy(fss.istft(z)[1]).dtype == np.float32
    with pytest.warns(UserWarning, match="nperseg = 256 is greater than the input length"):
        fss.welch(_b(backend, X))


@pytest.mark.parametrize("kw", [{}, dict(type="constant"), dict(bp=[10, 25]), dict(axis=0),
                                dict(bp=39), dict(bp=40), dict(type="c", axis=0)])
def test_detrend(backend, kw):
    _values(backend)
    ints = np.arange(40)[None] * 2 + RNG.integers(0, 5, (2, 40))
    for d in (X, XC, ints):
        _check(backend, fss.detrend(_b(backend, d), **kw), ss.detrend(d, **kw), rtol=1e-11,
               scale=np.abs(d).max())
    d32 = X.astype(np.float32)
    out = backend.to_numpy(fss.detrend(_b(backend, d32), **kw))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, ss.detrend(d32, **kw), atol=1e-5)


def test_errors(backend):
    x = _b(backend, X)
    with pytest.raises(ValueError, match="'kaiser' needs parameters"):
        fss.welch(x, window="kaiser", nperseg=8)
    with pytest.raises(ValueError, match="unknown window name 'tukei'"):
        fss.stft(x, window=("tukei", 0.25), nperseg=8)
    with pytest.raises(ValueError, match="noverlap .* must be less than nperseg"):
        fss.welch(x, nperseg=8, noverlap=8)
    with pytest.raises(ValueError, match="nfft .* must be greater than or equal to nperseg"):
        fss.csd(x, x, nperseg=8, nfft=4)
    with pytest.raises(ValueError, match="different from the length of the window"):
        fss.stft(x, window=_b(backend, np.ones(6)), nperseg=8)
    with pytest.raises(ValueError, match="scaling must be 'density' or 'spectrum'"):
        fss.welch(x, nperseg=8, scaling="psd")
    with pytest.raises(ValueError, match="Trend type must be 'linear' or 'constant'"):
        fss.detrend(x, type="quadratic")
    with pytest.raises(ValueError, match="Breakpoints must be"):
        fss.detrend(x, bp=50)
    with pytest.raises(ValueError, match="Must specify differing time and frequency axes"):
        fss.istft(_b(backend, XC), time_axis=0, freq_axis=0)
    win = _b(backend, [0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0])
    with pytest.warns(UserWarning, match="NOLA condition failed"):
        fss.istft(_b(backend, np.ones((5, 4), complex)), window=win, nperseg=8, noverlap=1,
                  boundary=False)
    with pytest.warns(UserWarning, match="Input data is complex, switching"):
        fss.stft(_b(backend, XC), nperseg=8)


def test_transforms_and_inputs_unchanged(backend):
    x = _b(backend, X)
    f = ft.jit(lambda v: fss.welch(v, nperseg=8)[1])
    ref = ss.welch(X, nperseg=8)[1]
    for _ in range(2):
        np.testing.assert_allclose(backend.to_numpy(f(x)), ref, rtol=1e-12)
    out = ft.vmap(lambda v: fss.stft(v, nperseg=8)[2])(x)
    np.testing.assert_allclose(backend.to_numpy(out), ss.stft(X, nperseg=8)[2], rtol=1e-12,
                               atol=1e-14)
    np.testing.assert_array_equal(backend.to_numpy(x), X)
