"""``functrans.scipy.fft``: SciPy's real-to-real transforms (``dct``, ``idct``, ``dctn``,
``idctn``, ``dst``, ``idst``, ``dstn``, ``idstn``, types 1 to 4) and the discrete Fourier
transforms of :mod:`functrans.numpy.fft` under ``scipy.fft``'s names, differentiable on every
backend.

The cosine and sine transforms are computed from :mod:`functrans.numpy.fft`'s transforms of
a length ``2N`` (or ``2(N - 1)``, ``2(N + 1)`` for type 1) extension of the input, multiplied
by twiddle factors made on the input's device, so their derivatives are the transforms'
own (a DCT's transpose is another DCT) and every transform (``jit``, ``vmap``) applies.

Conventions are SciPy's: ``norm`` is ``None``/``"backward"`` (the forward transform
unscaled), ``"ortho"`` or ``"forward"``; ``orthogonalize`` defaults to ``norm == "ortho"``;
``n``/``s`` truncate or zero-pad along the transformed axes; integer and boolean input
becomes float64, float32 stays float32 (float16 and bfloat16 become float32), and complex
input is transformed in its real and imaginary parts.

Differences from SciPy: no ``overwrite_x``, ``workers`` or ``plan`` arguments (the Fourier
transforms are :mod:`functrans.numpy.fft`'s, with SciPy's parameter names); no ``fht``,
``hfft2``/``hfftn``, or the backend-selection functions.
"""

from __future__ import annotations

import math
import operator

from .. import dtypes as _dt
from .. import numpy as fnp
from ..numpy._mathematics import _operand
from ..numpy import fft as _nfft
from ..numpy.fft import fftfreq, fftshift, ifftshift, rfftfreq
from ..primitives.structural import iota as _iota

__all__ = ["dct", "idct", "dctn", "idctn", "dst", "idst", "dstn", "idstn", "fft", "ifft",
           "fft2", "ifft2", "fftn", "ifftn", "rfft", "irfft", "rfft2", "irfft2", "rfftn",
           "irfftn", "hfft", "ihfft", "fftfreq", "rfftfreq", "fftshift", "ifftshift",
           "next_fast_len"]



# The Fourier transforms are functrans.numpy.fft's under SciPy's parameter names (``x``, where
# NumPy's is ``a``), so that ``scipy.fft.fft(x=...)`` calls run as they are.
def _one_axis(f):
    def transform(x, n=None, axis=-1, norm=None):
        return f(x, n, axis, norm)
    return _named(transform, f)


def _axes(f, default):
    def transform(x, s=None, axes=default, norm=None):
        return f(x, s, axes, norm)
    return _named(transform, f)


def _named(transform, f):
    transform.__name__ = transform.__qualname__ = f.__name__
    transform.__doc__ = f.__doc__
    return transform


def _half_as_single(f):
    # NumPy's irfft and hfft keep float16 (their result is real), SciPy's give float32 as
    # for every other transform of half-precision input
    def transform(x, n=None, axis=-1, norm=None):
        x = _operand(x)
        if _dt.as_dtype(getattr(x, "dtype", None), strict=False) in _dt.HALF:
            x = fnp.astype(x, fnp.float32)
        return f(x, n, axis, norm)
    return _named(transform, f)


fft, ifft, rfft, ihfft = (_one_axis(f) for f in (_nfft.fft, _nfft.ifft, _nfft.rfft,
                                                 _nfft.ihfft))
irfft, hfft = _half_as_single(_nfft.irfft), _half_as_single(_nfft.hfft)
fftn, ifftn, rfftn, irfftn = (_axes(f, None) for f in (
    _nfft.fftn, _nfft.ifftn, _nfft.rfftn, _nfft.irfftn))
fft2, ifft2, rfft2, irfft2 = (_axes(f, (-2, -1)) for f in (
    _nfft.fft2, _nfft.ifft2, _nfft.rfft2, _nfft.irfft2))

_NORMS = ("backward", "ortho", "forward")
_INVERSE_TYPE = {1: 1, 2: 3, 3: 2, 4: 4}


def _check_norm(norm, name):
    norm = "backward" if norm is None else norm
    if norm not in _NORMS:
        raise ValueError(f"functrans.scipy.fft.{name}: norm must be None, 'backward', 'ortho' "
                         f"or 'forward'; got {norm!r}")
    return norm


def _check_type(type, name):
    if isinstance(type, bool) or not isinstance(type, int) or type not in (1, 2, 3, 4):
        raise ValueError(f"functrans.scipy.fft.{name}: type must be 1, 2, 3 or 4; got "
                         f"{type!r}")
    return type


def _float_input(x, name):
    """``x`` as an array of a floating dtype (integers and booleans as float64, half
    precision as float32, as SciPy)."""
    x = _operand(x)
    if not hasattr(x, "shape"):
        x = fnp.asarray(x)
    if _dt.as_dtype(x.dtype, strict=False) in _dt.HALF:
        return fnp.astype(x, fnp.float32)
    if fnp.isdtype(x.dtype, ("real floating", "complex floating")):
        return x
    if fnp.isdtype(x.dtype, ("integral", "bool")):
        return fnp.astype(x, fnp.float64)
    raise TypeError(f"functrans.scipy.fft.{name}: the input must be numeric; got {x.dtype}")


def _length(n, name):
    n = operator.index(n)
    if n < 1:
        raise ValueError(f"functrans.scipy.fft.{name}: invalid number of data points ({n}); "
                         f"it must be >= 1")
    return n


def _fit_last(x, n):
    """``x`` truncated or zero-padded at the end of its last axis to length ``n``."""
    have = x.shape[-1]
    if n == have:
        return x
    if n < have:
        return x[..., :n]
    return fnp.pad(x, [(0, 0)] * (x.ndim - 1) + [(0, n - have)])


def _angles(x, n, scale, offset=0.0):
    """``(k + offset) * scale`` for ``k = 0 .. n - 1``, float64 on ``x``'s device."""
    k = fnp.astype(_iota(x, n), fnp.float64)
    return (k + offset) * scale


def _single(x):
    """Whether ``x`` is single precision (float32 or complex64)."""
    return _dt.as_dtype(x.dtype) in (_dt.float32, _dt.complex64)


def _like(x, v):
    """``v`` (float64) in the precision of ``x``."""
    return v if not _single(x) else fnp.astype(v, x.dtype)


def _cis(x, theta):
    """``exp(-i theta)`` in the complex dtype matching the real ``x``."""
    c = fnp.exp(-1j * theta)
    return c if not _single(x) else fnp.astype(c, fnp.complex64)


def _dct_raw(x, type):
    """The unnormalised DCT (SciPy's ``norm="backward"``) of real ``x`` along its last
    axis."""
    n = x.shape[-1]
    if type == 1:
        ext = fnp.concat([x, fnp.flip(x[..., 1:n - 1], axis=-1)], axis=-1)
        return fnp.real(fnp.fft.rfft(ext))[..., :n]
    if type == 2:
        # y_k = 2 Re(exp(-i pi k / 2n) F_2n(x)_k)
        v = fnp.fft.rfft(x, n=2 * n)[..., :n]
        t = _angles(x, n, math.pi / (2 * n))
        return 2.0 * (fnp.real(v) * _like(x, fnp.cos(t)) + fnp.imag(v) * _like(x, fnp.sin(t)))
    if type == 3:
        # y_k = Re F_2n(w_j x_j exp(-i pi j / 2n))_k with w_0 = 1, w_j = 2
        w = fnp.concat([fnp.ones_like(x[..., :1]), fnp.full_like(x[..., 1:], 2.0)], axis=-1)
        c = fnp.multiply(x, w) * _cis(x, _angles(x, n, math.pi / (2 * n)))
        return fnp.real(fnp.fft.fft(c, n=2 * n))[..., :n]
    # type 4: y_k = 2 Re(exp(-i pi (2k + 1) / 4n) F_2n(x_j exp(-i pi j / 2n))_k)
    c = x * _cis(x, _angles(x, n, math.pi / (2 * n)))
    v = fnp.fft.fft(c, n=2 * n)[..., :n]
    return 2.0 * fnp.real(v * _cis(x, _angles(x, n, math.pi / (2 * n), 0.5)))


def _dst_raw(x, type):
    """The unnormalised DST of real ``x`` along its last axis (from the DCT of the reversed
    or sign-alternated input, or for type 1 an odd extension)."""
    n = x.shape[-1]
    if type == 1:
        z = fnp.zeros_like(x[..., :1])
        ext = fnp.concat([z, x, z, -fnp.flip(x, axis=-1)], axis=-1)
        return -fnp.imag(fnp.fft.rfft(ext))[..., 1:n + 1]
    sign = _like(x, 1.0 - 2.0 * fnp.remainder(_angles(x, n, 1.0), 2.0))  # (-1)^k
    if type == 2:
        return fnp.flip(_dct_raw(x * sign, 2), axis=-1)
    return fnp.multiply(_dct_raw(fnp.flip(x, axis=-1), type), sign)


def _scale_at(x, index, factor):
    """``x`` with its last axis' entry ``index`` multiplied by ``factor``."""
    n = x.shape[-1]
    f = fnp.where(_iota(x, n) == index % n, factor, 1.0)
    return x * _like(x, f)


def _transform_last(x, kind, type, norm, orthogonalize, inverse, name):
    """One real-to-real transform of ``x`` (real or complex) along its last axis."""
    if fnp.isdtype(x.dtype, "complex floating"):
        re = _transform_last(fnp.real(x), kind, type, norm, orthogonalize, inverse, name)
        im = _transform_last(fnp.imag(x), kind, type, norm, orthogonalize, inverse, name)
        return re + 1j * im
    n = x.shape[-1]
    if inverse:  # the inverse of type t is type INVERSE[t] with the reciprocal scaling
        type = _INVERSE_TYPE[type]
        norm = {"backward": "forward", "forward": "backward", "ortho": "ortho"}[norm]
    if type == 1 and kind == "dct" and n < 2 and 0 not in tuple(x.shape):  # (SciPy's too)
        raise ValueError(f"functrans.scipy.fft.{name}: the type 1 DCT needs at least 2 data "
                         f"points; got {n}")
    # SciPy's logical length: the period of the symmetric extension over 2
    m = {1: n - 1 if kind == "dct" else n + 1}.get(type, n)
    first = 0 if kind == "dct" else -1  # the entry orthogonalization rescales
    if orthogonalize:
        r2 = math.sqrt(2.0)
        if type == 1 and kind == "dct":
            x = _scale_at(_scale_at(x, 0, r2), n - 1, r2)
        elif type == 3:
            x = _scale_at(x, first, r2)
    y = (_dct_raw if kind == "dct" else _dst_raw)(x, type)
    if orthogonalize:
        if type == 1 and kind == "dct":
            y = _scale_at(_scale_at(y, 0, 1 / r2), n - 1, 1 / r2)
        elif type == 2:
            y = _scale_at(y, first, 1 / r2)
    if norm == "ortho":
        y = y * (1.0 / math.sqrt(2.0 * m))
    elif norm == "forward":
        y = y * (1.0 / (2.0 * m))
    return y


def _r2r(x, kind, type, s, axes, norm, orthogonalize, inverse, name, one_axis):
    type = _check_type(type, name)
    norm = _check_norm(norm, name)
    x = _float_input(x, name)
    nd = x.ndim
    if one_axis:
        if nd == 0:
            raise ValueError(f"functrans.scipy.fft.{name}: the input must have at least one "
                             f"dimension")
        axes = [axes]
        s = None if s is None else [s]
    if s is not None and not hasattr(s, "__len__"):
        s = [s]  # one length (for the last axis, or the one axis given), as SciPy takes it
    if axes is None:
        if s is not None and len(s) > nd:  # (not wrapped into repeated axes)
            raise ValueError(f"functrans.scipy.fft.{name}: s has {len(s)} entries but the "
                             f"input has {nd} dimensions (without axes, s names the last "
                             f"len(s) axes); give fewer entries or axes")
        axes = list(range(nd)) if s is None else list(range(nd - len(s), nd))
    elif isinstance(axes, int):
        axes = [axes]
    axes = [operator.index(a) for a in axes]
    for a in axes:
        if not -nd <= a < nd:
            raise ValueError(f"functrans.scipy.fft.{name}: axis {a} is out of range for an "
                             f"array of {nd} dimensions")
    axes = [a % nd for a in axes]
    if len(set(axes)) != len(axes):
        raise ValueError(f"functrans.scipy.fft.{name}: repeated axes in {axes}")
    if s is None:
        s = [x.shape[a] for a in axes]
    else:
        s = list(s)
        if len(s) != len(axes):
            raise ValueError(f"functrans.scipy.fft.{name}: s and axes must have the same "
                             f"length; got {len(s)} and {len(axes)}")
        s = [x.shape[a] if operator.index(v) == -1 else v for a, v in zip(axes, s)]
    s = [_length(v, name) for v in s]
    if orthogonalize is None:
        orthogonalize = norm == "ortho"
    # (an empty axis with a length n >= 1 given is zero-padded to it, as SciPy's; without
    # one, its length 0 was refused as n above)
    for a, n in zip(axes, s):
        y = fnp.moveaxis(x, a, -1)
        y = _transform_last(_fit_last(y, n), kind, type, norm, bool(orthogonalize), inverse,
                            name)
        x = fnp.moveaxis(y, -1, a)
    return x


def dct(x, type=2, n=None, axis=-1, norm=None, *, orthogonalize=None):
    """The discrete cosine transform of type 1, 2 (the default), 3 or 4 along ``axis``.

    Type 1 needs at least two points. No ``overwrite_x`` or ``workers`` (JAX's ``dct`` has
    no ``orthogonalize`` and only types 2 and 3)."""
    return _r2r(x, "dct", type, n, axis, norm, orthogonalize, False, "dct", True)


def idct(x, type=2, n=None, axis=-1, norm=None, *, orthogonalize=None):
    """The inverse of :func:`dct` (a DCT of type 1, 3, 2 or 4 for ``type`` 1, 2, 3 or 4,
    scaled by ``1 / (2 N)``, ``1 / (2 (N - 1))`` for type 1, with ``norm="backward"``)."""
    return _r2r(x, "dct", type, n, axis, norm, orthogonalize, True, "idct", True)


def dctn(x, type=2, s=None, axes=None, norm=None, *, orthogonalize=None):
    """The n-dimensional DCT: :func:`dct` along each of ``axes`` (all by default, the last
    ``len(s)`` when only ``s`` is given; an entry -1 of ``s`` keeps that axis' length)."""
    return _r2r(x, "dct", type, s, axes, norm, orthogonalize, False, "dctn", False)


def idctn(x, type=2, s=None, axes=None, norm=None, *, orthogonalize=None):
    """The inverse of :func:`dctn`: :func:`idct` along each of ``axes``."""
    return _r2r(x, "dct", type, s, axes, norm, orthogonalize, True, "idctn", False)


def dst(x, type=2, n=None, axis=-1, norm=None, *, orthogonalize=None):
    """The discrete sine transform of type 1, 2 (the default), 3 or 4 along ``axis``."""
    return _r2r(x, "dst", type, n, axis, norm, orthogonalize, False, "dst", True)


def idst(x, type=2, n=None, axis=-1, norm=None, *, orthogonalize=None):
    """The inverse of :func:`dst`."""
    return _r2r(x, "dst", type, n, axis, norm, orthogonalize, True, "idst", True)


def dstn(x, type=2, s=None, axes=None, norm=None, *, orthogonalize=None):
    """The n-dimensional DST: :func:`dst` along each of ``axes``."""
    return _r2r(x, "dst", type, s, axes, norm, orthogonalize, False, "dstn", False)


def idstn(x, type=2, s=None, axes=None, norm=None, *, orthogonalize=None):
    """The inverse of :func:`dstn`."""
    return _r2r(x, "dst", type, s, axes, norm, orthogonalize, True, "idstn", False)


def _smooth(n, primes):
    for p in primes:
        while n % p == 0:
            n //= p
    return n == 1


def next_fast_len(target, real=False):
    """The smallest length ``>= target`` whose prime factors the FFTs handle fastest: 2, 3
    and 5 for real transforms (``real=True``), also 7 and 11 for complex ones, as SciPy's
    (pocketfft's) choice."""
    target = operator.index(target)
    if target < 0:
        raise ValueError(f"functrans.scipy.fft.next_fast_len: target must be >= 0; got "
                         f"{target}")
    if target <= 1:
        return target
    primes = (2, 3, 5) if real else (2, 3, 5, 7, 11)
    n = target
    while not _smooth(n, primes):
        n += 1
    return n
