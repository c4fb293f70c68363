"""Discrete Fourier transforms: ``fft`` (complex to complex, forward or inverse), ``rfft``
(real to the non-negative half of the spectrum) and ``irfft`` (its inverse), each along a
tuple of axes with the Array API's ``norm`` ("backward", "ortho", "forward").

All three are linear, so a tangent goes through the transform itself; the transposes follow
from the DFT matrix being symmetric (the transpose of a complex-to-complex transform is the
same transform) and, for the real transforms, from writing them as complex ones:
``rfft = slice . fft . complex`` and ``irfft = real . ifft . extend``, where ``extend`` fills
the missing half of the spectrum with the conjugates of the given one. Lengths are exact
here: ``functrans.numpy.fft`` pads or truncates its inputs to ``n``/``s`` before binding.
"""

from __future__ import annotations

from .. import dtypes as _dt
from ..core import ShapedArray, get_aval, primitive
from ..errors import ShapeError
from ._batching import axes_rule
from .elementwise import add, conj, real
from .structural import convert_element_type, flip, scatter_slice, slice_


def _complex_dtype(d):
    return _dt.complex64 if d in (_dt.float32, _dt.complex64) + _dt.HALF else _dt.complex128


def _real_dtype(d):
    return _dt.float32 if d in (_dt.float32, _dt.complex64) + _dt.HALF else _dt.float64


def _last_axis_slice(shape, axis, start, stop):
    return tuple((start, stop, 1) if a == axis else (0, d, 1) for a, d in enumerate(shape))


# -- fft: complex to complex -------------------------------------------------------------------


def _no_values(b, x, axes, shape, dtype):
    """The transform of an array with no values (a zero-length axis not transformed, as a
    batch of no members): empty, of ``shape`` and ``dtype`` (torch's MKL FFT refuses it; a
    zero-length transformed axis still goes to the library, which says what is wrong)."""
    if 0 not in tuple(x.shape) or not all(x.shape[a] for a in axes):
        return None
    return b.xp.zeros(shape, dtype=b.native_dtype(dtype), device=b.device(x))


def _fft_impl(b, x, axes, inverse, norm):
    empty = _no_values(b, x, axes, tuple(x.shape), b.dtype(x))
    if empty is not None:
        return empty
    f = b.xp.fft.ifftn if inverse else b.xp.fft.fftn
    return f(x, axes=list(axes), norm=norm)


fft_p = primitive("fft")
fft_p.same_aval = True
fft_p.def_impl(_fft_impl)
fft_p.def_abstract_eval(lambda x, **params: x)
fft_p.def_jvp(lambda primals, tangents, **params: (fft(primals[0], **params),
                                                     fft(tangents[0], **params)))
# The DFT matrix (any normalisation, either direction) is symmetric: its own transpose.
fft_p.def_transpose(lambda ct, x, **params: [fft(ct, **params)])
fft_p.def_batch(axes_rule(fft_p, "axes", True))


def fft(x, axes, inverse, norm):
    return fft_p.bind(x, axes=tuple(axes), inverse=bool(inverse), norm=norm)


# -- rfft: real to the half spectrum -----------------------------------------------------------


def _rfft_aval(x, axes, norm):
    shape = list(x.shape)
    shape[axes[-1]] = shape[axes[-1]] // 2 + 1
    return ShapedArray(tuple(shape), _complex_dtype(x.dtype))


def _rfft_transpose(ct, x, axes, norm):
    # rfft = slice . fft . complex: the transpose is real . fft . (the slice's transpose).
    shape = x.aval.shape
    last = axes[-1]
    m = get_aval(ct).shape[last]
    full = scatter_slice(ct, shape, _last_axis_slice(shape, last, 0, m))
    return [real(fft(full, axes, False, norm))]


def _rfft_impl(b, x, axes, norm):
    aval = _rfft_aval(get_aval(x), axes, norm)
    empty = _no_values(b, x, axes, aval.shape, aval.dtype)
    if empty is not None:
        return empty
    return b.xp.fft.rfftn(x, axes=list(axes), norm=norm)


rfft_p = primitive("rfft")
rfft_p.def_impl(_rfft_impl)
rfft_p.def_abstract_eval(_rfft_aval)
rfft_p.def_jvp(lambda primals, tangents, **params: (rfft(primals[0], **params),
                                                      rfft(tangents[0], **params)))
rfft_p.def_transpose(_rfft_transpose)
rfft_p.def_batch(axes_rule(rfft_p, "axes", True))


def rfft(x, axes, norm):
    return rfft_p.bind(x, axes=tuple(axes), norm=norm)


# -- irfft: the half spectrum back to real -----------------------------------------------------


def _irfft_impl(b, x, axes, n, norm):
    aval = _irfft_aval(get_aval(x), axes, n, norm)
    empty = _no_values(b, x, axes, aval.shape, aval.dtype)
    if empty is not None:
        return empty
    s = [x.shape[a] for a in axes[:-1]] + [n]
    return b.xp.fft.irfftn(x, s=s, axes=list(axes), norm=norm)


def _irfft_aval(x, axes, n, norm):
    if x.shape[axes[-1]] != n // 2 + 1:
        raise ShapeError(f"irfft primitive: an output of length {n} needs {n // 2 + 1} "
                         f"frequencies along axis {axes[-1]}; got shape {x.shape}")
    shape = list(x.shape)
    shape[axes[-1]] = n
    return ShapedArray(tuple(shape), _real_dtype(x.dtype))


def _irfft_transpose(ct, y, axes, n, norm):
    # irfftn = (c2r along the last axis) . (inverse c2c along the others), as the libraries
    # compute it; the c2c part is its own transpose. Along the last axis, c2r = real . ifft .
    # extend with extend(y) = concat(y, conj(flip(y[1 : n - m + 1]))) (m = n // 2 + 1 given
    # entries), whose transpose is extend^T(c) = c[:m] + (c[m:] conjugated, flipped, and put
    # back at 1 .. n - m).
    shape = y.aval.shape
    last = axes[-1]
    m = shape[last]
    c = fft(convert_element_type(ct, y.aval.dtype), (last,), True, norm)
    cshape = tuple(get_aval(c).shape)
    out = slice_(c, _last_axis_slice(cshape, last, 0, m))
    if n - m > 0:
        tail = flip(conj(slice_(c, _last_axis_slice(cshape, last, m, n))), (last,))
        out = add(out, scatter_slice(tail, shape, _last_axis_slice(shape, last, 1, n - m + 1)))
    if len(axes) > 1:
        out = fft(out, axes[:-1], True, norm)
    return [out]


irfft_p = primitive("irfft")
irfft_p.def_impl(_irfft_impl)
irfft_p.def_abstract_eval(_irfft_aval)
irfft_p.def_jvp(lambda primals, tangents, **params: (irfft(primals[0], **params),
                                                       irfft(tangents[0], **params)))
irfft_p.def_transpose(_irfft_transpose)
irfft_p.def_batch(axes_rule(irfft_p, "axes", True))


def irfft(x, axes, n, norm):
    return irfft_p.bind(x, axes=tuple(axes), n=int(n), norm=norm)
