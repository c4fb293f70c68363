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

The Fourier transforms are :mod:`functrans.numpy.fft`'s with SciPy's parameter names and
SciPy's rules for ``s`` and ``axes`` (an integer for one entry; each axis at most once, where
NumPy transforms a repeated axis once per repetition); ``hfftn``/``hfft2`` and their inverses
are written on ``irfftn`` and ``rfftn``. ``overwrite_x`` and ``workers`` are taken and
ignored; a ``plan`` is refused, as SciPy's own backend refuses it.

Differences from SciPy: no ``fht`` or backend-selection functions.
"""

from __future__ import annotations

import math
import operator

from .. import dtypes as _dt
from .. import numpy as fnp
from ..numpy._mathematics import _operand
from ..numpy import fft as _nfft
from ..numpy.fft import _is_index, fftfreq, fftshift, ifftshift, rfftfreq
from ..primitives.structural import iota as _iota

__all__ = ["dct", "idct", "dctn", "idctn", "dst", "idst", "dstn", "idstn", "fft", "ifft",
           "fft2", "ifft2", "fftn", "ifftn", "rfft", "irfft", "rfft2", "irfft2", "rfftn",
           "irfftn", "hfft", "ihfft", "hfft2", "ihfft2", "hfftn", "ihfftn", "fftfreq",
           "rfftfreq", "fftshift", "ifftshift", "next_fast_len"]



# The Fourier transforms are functrans.numpy.fft's under SciPy's parameter names (``x``, where
# NumPy's is ``a``), so that ``scipy.fft.fft(x=...)`` calls run as they are; ``overwrite_x``
# and ``workers`` are taken and ignored (no transform here writes into its input or starts
# threads of its own), ``plan`` refused as SciPy's own backend refuses it.
def _no_plan(plan, name):
    if plan is not None:
        raise NotImplementedError(f"functrans.scipy.fft.{name}: precomputed plans are not "
                                  f"supported (nor by SciPy's own backend); leave plan None")


def _one_axis(f, half_as_single=False):
    name = f.__name__

    def transform(x, n=None, axis=-1, norm=None, overwrite_x=False, workers=None, *,
                  plan=None):
        _no_plan(plan, name)
        if n is not None and _is_index(n) and operator.index(n) < 1:
            raise ValueError(_bad_length(n, name))
        if half_as_single:
            # NumPy's irfft and hfft keep float16 (their result is real), SciPy's give
            # float32 as for every other transform of half-precision input
            x = _operand(x)
            if _dt.as_dtype(getattr(x, "dtype", None), strict=False) in _dt.HALF:
                x = fnp.astype(x, fnp.float32)
        return f(x, n, axis, norm)
    return _named(transform, f)


def _axes(f, default, half_spectrum_in=False):
    name = f.__name__

    def transform(x, s=None, axes=default, norm=None, overwrite_x=False, workers=None, *,
                  plan=None):
        _no_plan(plan, name)
        if s is None and axes is default and not half_spectrum_in:
            return f(x, s, axes, norm)  # (NumPy's defaults are SciPy's)
        x = _operand(x)
        if half_spectrum_in and _dt.as_dtype(x.dtype, strict=False) in _dt.HALF:
            x = fnp.astype(x, fnp.float32)  # (NumPy's irfftn over one axis keeps float16)
        if s is None and axes is default and x.ndim and x.shape[-1] != 1:
            return f(x, s, axes, norm)  # (a half spectrum of one entry is SciPy's own)
        s, axes = _nd_args(x, s, axes, name, half_spectrum_in)
        return f(x, s, axes, norm)
    return _named(transform, f)


def _named(transform, f):
    transform.__name__ = transform.__qualname__ = f.__name__
    transform.__doc__ = f.__doc__
    return transform


def _unique_axes(axes, nd, name):
    """``axes`` (ints) checked against ``nd`` dimensions and made non-negative; repeated
    axes refused, as SciPy."""
    for a in axes:
        if not -nd <= a < nd:
            raise ValueError(f"functrans.scipy.fft.{name}: axis {a} is out of range for an "
                             f"array of {nd} dimensions")
    axes = [a % nd for a in axes]
    if len(set(axes)) != len(axes):
        raise ValueError(f"functrans.scipy.fft.{name}: repeated axes in {axes}; SciPy "
                         f"transforms each axis once (functrans.numpy.fft transforms a "
                         f"repeated axis once per repetition, as NumPy)")
    return axes


def _integers(v, what, name):
    """``v`` (an integer or a sequence of them, as SciPy takes ``s`` and ``axes``) as a
    list of ints."""
    if type(v) in (tuple, list) and all(type(a) is int for a in v):
        return list(v)
    if not isinstance(v, bool) and hasattr(v, "__index__"):
        v = [v]
    try:
        items = list(v)
    except TypeError:
        items = None
    if items is None or any(isinstance(a, bool) or not hasattr(a, "__index__")
                            for a in items):
        raise ValueError(f"functrans.scipy.fft.{name}: {what} must be an integer or a "
                         f"sequence of integers; got {v!r}")
    return [operator.index(a) for a in items]


def _nd_args(x, s, axes, name, half_spectrum_in=False):
    """SciPy's rules for an n-dimensional transform's ``s`` and ``axes``, as explicit
    lists: each axis named once (NumPy transforms a repeated axis once per repetition,
    SciPy refuses); ``axes`` all by default, the last ``len(s)`` when only ``s`` is given;
    an entry -1 of ``s`` keeps that axis' length. With ``half_spectrum_in`` (irfftn,
    hfftn) the last output length defaults to ``2 (m - 1)`` for ``m`` given entries, and to
    1 for ``m = 1`` (SciPy's pocketfft reads its length 0 as ``2 m - 1``)."""
    shape = tuple(x.shape)
    nd = len(shape)
    given = s
    if axes is not None:
        axes = _integers(axes, "axes", name)
        axes = _unique_axes(axes, nd, name)
    if s is not None:
        s = _integers(s, "s", name)
        if axes is None:
            if len(s) > nd:
                raise ValueError(f"functrans.scipy.fft.{name}: s has {len(s)} entries but "
                                 f"the input has {nd} dimensions (without axes, s names the "
                                 f"last len(s) axes); give fewer entries or axes")
            axes = list(range(nd - len(s), nd))
        elif len(s) != len(axes):
            raise ValueError(f"functrans.scipy.fft.{name}: s and axes must have the same "
                             f"length; got {len(s)} and {len(axes)}")
        s = [shape[a] if v == -1 else v for a, v in zip(axes, s)]
    else:
        axes = list(range(nd)) if axes is None else axes
        s = [shape[a] for a in axes]
    for a, v in zip(axes, s):
        if v < 1:
            raise ValueError(f"functrans.scipy.fft.{name}: invalid number of data points "
                             f"({v}) along axis {a}; it must be >= 1 (or -1 in s for the "
                             f"input's length)")
    if half_spectrum_in and given is None and axes:
        s[-1] = max(2 * (s[-1] - 1), 1)
    return s, axes


fft, ifft, rfft, ihfft = (_one_axis(f) for f in (_nfft.fft, _nfft.ifft, _nfft.rfft,
                                                 _nfft.ihfft))
irfft, hfft = (_one_axis(f, half_as_single=True) for f in (_nfft.irfft, _nfft.hfft))
fftn, ifftn, rfftn = (_axes(f, None) for f in (_nfft.fftn, _nfft.ifftn, _nfft.rfftn))
fft2, ifft2, rfft2 = (_axes(f, (-2, -1)) for f in (_nfft.fft2, _nfft.ifft2, _nfft.rfft2))
irfftn = _axes(_nfft.irfftn, None, half_spectrum_in=True)
irfft2 = _axes(_nfft.irfft2, (-2, -1), half_spectrum_in=True)

_SWAPPED = {"backward": "forward", "ortho": "ortho", "forward": "backward"}


def _hfftn(x, s, axes, norm, plan, name):
    # The forward transform of a Hermitian array given by its half along the last axis:
    # forward c2c over the other axes, then forward c2r along the last, which is irfftn of
    # the conjugate with the reciprocal scaling (the outputs are real). Its derivative is
    # that map's own, so the ignored imaginary parts of the self-conjugate entries (the
    # zero and, for even lengths, the last frequency) get a zero derivative as irfftn's.
    _no_plan(plan, name)
    x = _float_input(x, name)
    norm = _SWAPPED[_check_norm(norm, name)]
    s, axes = _nd_args(x, s, axes, name, half_spectrum_in=True)
    if not axes:
        raise ValueError(f"functrans.scipy.fft.{name}: at least one axis must be "
                         f"transformed")
    return _nfft.irfftn(fnp.conj(x), s, axes, norm)


def _ihfftn(x, s, axes, norm, plan, name):
    # The inverse of hfftn for real input: the conjugate of rfftn with the reciprocal
    # scaling (inverse r2c along the last axis, then inverse c2c over the others).
    _no_plan(plan, name)
    x = _float_input(x, name)
    if fnp.isdtype(x.dtype, "complex floating"):
        raise TypeError(f"functrans.scipy.fft.{name}: x must be real; got {x.dtype} (the "
                        f"input of an inverse Hermitian transform is the real output of "
                        f"hfftn; for complex input use ifftn)")
    norm = _SWAPPED[_check_norm(norm, name)]
    s, axes = _nd_args(x, s, axes, name)
    if not axes:
        raise ValueError(f"functrans.scipy.fft.{name}: at least one axis must be "
                         f"transformed")
    return fnp.conj(_nfft.rfftn(x, s, axes, norm))


def hfftn(x, s=None, axes=None, norm=None, overwrite_x=False, workers=None, *, plan=None):
    """The n-dimensional FFT of a Hermitian-symmetric array given by its first half along
    the last of ``axes``: real output, of length ``s[-1]`` along that axis (by default
    ``2 (m - 1)`` for ``m`` entries). Real input is taken as complex; integer input as
    float64, half precision as float32. ``overwrite_x`` and ``workers`` are ignored."""
    return _hfftn(x, s, axes, norm, plan, "hfftn")


def hfft2(x, s=None, axes=(-2, -1), norm=None, overwrite_x=False, workers=None, *,
          plan=None):
    """:func:`hfftn` over the last two axes."""
    return _hfftn(x, s, axes, norm, plan, "hfft2")


def ihfftn(x, s=None, axes=None, norm=None, overwrite_x=False, workers=None, *, plan=None):
    """The inverse of :func:`hfftn`: the n-dimensional inverse FFT of real input, the
    non-negative frequencies along the last of ``axes`` (``s[-1] // 2 + 1`` of them).
    Complex input is refused, as SciPy's. ``overwrite_x`` and ``workers`` are ignored."""
    return _ihfftn(x, s, axes, norm, plan, "ihfftn")


def ihfft2(x, s=None, axes=(-2, -1), norm=None, overwrite_x=False, workers=None, *,
           plan=None):
    """:func:`ihfftn` over the last two axes."""
    return _ihfftn(x, s, axes, norm, plan, "ihfft2")


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


def _bad_length(n, name):
    # (SciPy's irfft and hfft give one zero for n=0, and the others refuse it: refused here
    # for every transform, in SciPy's words)
    return (f"functrans.scipy.fft.{name}: invalid number of data points ({n}) specified; n "
            f"must be >= 1" + (" (SciPy's irfft and hfft return a single zero for n=0; "
                               "functrans refuses it as SciPy's other transforms do)"
                               if name in ("irfft", "hfft") and n == 0 else ""))


def _length(n, name):
    n = operator.index(n)
    if n < 1:
        raise ValueError(_bad_length(n, name))
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
        s = None if s is None else [_length(s, name)]  # (-1 refused: SciPy's n is no s)
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
    axes = _unique_axes(axes, nd, name)
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


def dct(x, type=2, n=None, axis=-1, norm=None, overwrite_x=False, workers=None,
        orthogonalize=None):
    """The discrete cosine transform of type 1, 2 (the default), 3 or 4 along ``axis``.

    Type 1 needs at least two points. ``overwrite_x`` and ``workers`` are ignored (JAX's
    ``dct`` has no ``orthogonalize`` and only types 2 and 3)."""
    return _r2r(x, "dct", type, n, axis, norm, orthogonalize, False, "dct", True)


def idct(x, type=2, n=None, axis=-1, norm=None, overwrite_x=False, workers=None,
         orthogonalize=None):
    """The inverse of :func:`dct` (a DCT of type 1, 3, 2 or 4 for ``type`` 1, 2, 3 or 4,
    scaled by ``1 / (2 N)``, ``1 / (2 (N - 1))`` for type 1, with ``norm="backward"``)."""
    return _r2r(x, "dct", type, n, axis, norm, orthogonalize, True, "idct", True)


def dctn(x, type=2, s=None, axes=None, norm=None, overwrite_x=False, workers=None, *,
         orthogonalize=None):
    """The n-dimensional DCT: :func:`dct` along each of ``axes`` (all by default, the last
    ``len(s)`` when only ``s`` is given; an entry -1 of ``s`` keeps that axis' length)."""
    return _r2r(x, "dct", type, s, axes, norm, orthogonalize, False, "dctn", False)


def idctn(x, type=2, s=None, axes=None, norm=None, overwrite_x=False, workers=None, *,
          orthogonalize=None):
    """The inverse of :func:`dctn`: :func:`idct` along each of ``axes``."""
    return _r2r(x, "dct", type, s, axes, norm, orthogonalize, True, "idctn", False)


def dst(x, type=2, n=None, axis=-1, norm=None, overwrite_x=False, workers=None,
        orthogonalize=None):
    """The discrete sine transform of type 1, 2 (the default), 3 or 4 along ``axis``."""
    return _r2r(x, "dst", type, n, axis, norm, orthogonalize, False, "dst", True)


def idst(x, type=2, n=None, axis=-1, norm=None, overwrite_x=False, workers=None,
         orthogonalize=None):
    """The inverse of :func:`dst`."""
    return _r2r(x, "dst", type, n, axis, norm, orthogonalize, True, "idst", True)


def dstn(x, type=2, s=None, axes=None, norm=None, overwrite_x=False, workers=None, *,
         orthogonalize=None):
    """The n-dimensional DST: :func:`dst` along each of ``axes``."""
    return _r2r(x, "dst", type, s, axes, norm, orthogonalize, False, "dstn", False)


def idstn(x, type=2, s=None, axes=None, norm=None, overwrite_x=False, workers=None, *,
          orthogonalize=None):
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
