"""``lax.fft``: JAX's single entry point to the fast Fourier transforms, on the last
``len(fft_lengths)`` axes, written on :mod:`functrans.numpy.fft` (so every transform applies)."""

from __future__ import annotations

import enum

from . import dtypes as _dt
from .numpy import fft as _fft
from .numpy import asarray as _asarray

__all__ = ["fft", "FftType"]


class FftType(enum.IntEnum):
    """The kind of transform ``lax.fft`` computes (``jax.lax.FftType``): complex to complex
    forward (``FFT``) and inverse (``IFFT``), real to half-spectrum (``RFFT``) and back
    (``IRFFT``)."""

    FFT = 0
    IFFT = 1
    RFFT = 2
    IRFFT = 3


def _fft_type(fft_type):
    if isinstance(fft_type, FftType):
        return fft_type
    if isinstance(fft_type, str):
        try:
            return FftType[fft_type.upper()]
        except KeyError:
            pass
    raise ValueError(f"lax.fft: unknown fft_type {fft_type!r}; use one of 'fft', 'ifft', "
                     f"'rfft', 'irfft' or a lax.FftType")


def fft(x, fft_type, fft_lengths):
    """The ``fft_type`` transform of ``x`` over its last ``len(fft_lengths)`` axes (one to
    three). For ``FFT``, ``IFFT`` and ``RFFT`` those axes must have exactly the lengths
    ``fft_lengths`` (no padding or cropping, as in JAX); for ``IRFFT``, ``fft_lengths`` are
    the output's lengths: the input's axes equal them except the last, which is
    ``fft_lengths[-1] // 2 + 1``. Real input to ``FFT``/``IFFT``/``IRFFT`` is taken as
    complex; ``RFFT`` refuses complex input. Integer inputs are converted to float64 (as
    functrans does for every float function of integers; JAX gives complex64 for int32)."""
    kind = _fft_type(fft_type)
    x = _asarray(x)
    lengths = tuple(int(n) for n in fft_lengths)
    name = kind.name
    if not 1 <= len(lengths) <= 3:
        raise ValueError(f"lax.fft: fft_lengths names 1 to 3 axes; got {lengths}")
    if len(lengths) > x.ndim:
        raise ValueError(f"lax.fft: {name} input of shape {tuple(x.shape)} has fewer axes "
                         f"than fft_lengths {lengths}")
    k = len(lengths)
    minor = tuple(x.shape[x.ndim - k:])
    d = _dt.dtype_of(x)
    if kind is FftType.RFFT and d.kind == "c":
        raise ValueError(f"lax.fft: RFFT takes real input; got {d.name} (use FFT for complex "
                         f"input)")
    if kind is FftType.IRFFT:
        expected = lengths[:-1] + (lengths[-1] // 2 + 1,)
        if minor != expected:
            raise ValueError(f"lax.fft: IRFFT input of shape {tuple(x.shape)}: its last axes "
                             f"must be {expected} for fft_lengths {lengths} (all but the last, "
                             f"then fft_lengths[-1] // 2 + 1)")
    elif minor != lengths:
        raise ValueError(f"lax.fft: {name} input of shape {tuple(x.shape)}: its last "
                         f"{k} axes must equal fft_lengths {lengths}")
    axes = tuple(range(x.ndim - k, x.ndim))
    if kind is FftType.RFFT:
        return _fft.rfftn(x, axes=axes)
    if kind is FftType.FFT:
        return _fft.fftn(x, axes=axes)
    if kind is FftType.IFFT:
        return _fft.ifftn(x, axes=axes)
    return _fft.irfftn(x, s=lengths, axes=axes)

