"""``functrans.scipy.signal``: SciPy's direct convolutions and correlations, differentiable,
on every backend.

``convolve``, ``correlate`` (n-d), ``convolve2d`` and ``correlate2d``, with
``scipy.signal``'s signatures, modes and result dtypes, computed with
:func:`functrans.lax.conv_general_dilated` (one stack of shifted slices and one matrix
product; the smaller operand is taken as the kernel).
"""

from __future__ import annotations

import builtins

import math

import numpy as _np  # NumPy's dtype promotion only, never the data

from .. import numpy as fnp
from ..convolution import conv_general_dilated

__all__ = ["convolve", "correlate", "convolve2d", "correlate2d", "fftconvolve", "oaconvolve"]

_MODES = ("full", "valid", "same")


def _check_mode(mode, what):
    if mode not in _MODES:
        raise ValueError(f"{what}: mode must be 'full', 'valid' or 'same'; got {mode!r}.")


def _operands(in1, in2, what):
    in1, in2 = fnp.asarray(in1), fnp.asarray(in2)
    # NumPy's promotion (SciPy's result dtype: float32 with int64 is float64)
    dt = _np.result_type(*(_np.dtype(fnp.result_type(a).name) for a in (in1, in2))).name
    if dt == "bool":
        raise TypeError(f"{what}: boolean inputs are not supported.")
    in1, in2 = (a if fnp.result_type(a).name == dt else fnp.astype(a, dt) for a in (in1, in2))
    return in1, in2


def _valid_swap(s1, s2, what):
    """Whether 'valid' mode takes ``in2`` as the larger operand (SciPy's rule)."""
    if all(a >= b for a, b in zip(s1, s2)):
        return False
    if all(b >= a for a, b in zip(s1, s2)):
        return True
    raise ValueError(f"{what}: for 'valid' mode, one input must be at least as large as the "
                     f"other in every dimension; got shapes {s1} and {s2}.")


def _full_range(mode, s1, s2, what):
    """The part of the full convolution that ``mode`` keeps: ``(start, length)`` per axis."""
    out = []
    for a, b in zip(s1, s2):
        n = a + b - 1
        if mode == "full":
            length = n
        elif mode == "same":
            length = a
        else:
            length = abs(a - b) + 1
        out.append(((n - length) // 2, length))
    return out


def _conv_nd(image, kernel, ranges, flip_kernel=True):
    """``sum_k image[i - k] kernel[k]`` (a convolution, or a correlation when
    ``flip_kernel`` is False) over the full-convolution index ranges ``ranges``."""
    nd = image.ndim
    k = fnp.flip(kernel) if flip_kernel and nd else kernel
    pads = []
    for m, kn, (start, length) in zip(image.shape, kernel.shape, ranges):
        lo = kn - 1 - start
        pads.append((lo, length - m + start))
    shape1 = (1, 1) + tuple(image.shape)
    y = conv_general_dilated(fnp.reshape(image, shape1), fnp.reshape(k, (1, 1) + tuple(
        kernel.shape)), (1,) * nd, pads)
    return fnp.reshape(y, tuple(y.shape[2:]))


def _empty_or_scalar(in1, in2, what):
    if in1.ndim != in2.ndim:
        raise ValueError(f"{what}: in1 and in2 must have the same number of dimensions; got "
                         f"{in1.ndim} and {in2.ndim}.")
    if in1.ndim == 0:
        return fnp.multiply(in1, in2)
    if 0 in tuple(in1.shape) + tuple(in2.shape):
        return fnp.zeros((0,), dtype=fnp.result_type(in1), device=fnp.device(in1))
    return None


def _convolve(in1, in2, mode, what):
    _check_mode(mode, what)
    s1, s2 = tuple(in1.shape), tuple(in2.shape)
    ranges = _full_range(mode, s1, s2, what)
    if mode == "valid":
        _valid_swap(s1, s2, what)
    # convolution commutes: the operand with fewer elements is the kernel
    if math.prod(s2) > math.prod(s1) or (mode == "valid" and any(b > a for a, b in
                                                                zip(s1, s2))):
        in1, in2 = in2, in1
    return _conv_nd(in1, in2, ranges)


def _check_method(method, what):
    if method not in ("auto", "direct", "fft"):
        raise ValueError(f"{what}: method must be 'auto', 'direct' or 'fft'; got "
                         f"{method!r}.")


def convolve(in1, in2, mode="full", method="auto", *, axes=None, dot_axes=None):
    """The n-d convolution of ``in1`` and ``in2`` (``scipy.signal.convolve``), 'full',
    'valid' (one operand at least as large as the other along every axis) or 'same' (the
    size of ``in1``, centred on the full result). The result's dtype is the operands'
    common dtype (integers stay integers).

    ``method`` is accepted ('auto', 'direct', 'fft'); the computation is always direct
    (exact, where SciPy's 'fft' rounds).

    ``axes`` and ``dot_axes`` (keyword only) are ``autograd.scipy.signal.convolve``'s
    extension, for convolutional networks: ``axes=(axes1, axes2)`` pairs the axes of
    ``in1`` and ``in2`` convolved together, ``dot_axes=(d1, d2)`` pairs axes summed over (a
    tensor product, as the input channels of a layer); the result's axes are the other
    axes of ``in1``, then those of ``in2``, then the convolved ones."""
    what = "convolve"
    _check_method(method, what)
    _check_mode(mode, what)
    in1, in2 = _operands(in1, in2, what)
    if axes is not None or dot_axes is not None:
        return _convolve_axes(in1, in2, axes, dot_axes, mode, what)
    special = _empty_or_scalar(in1, in2, what)
    if special is not None:
        return special
    return _convolve(in1, in2, mode, what)


def _axis_list(axs, ndim, what, name):
    out = []
    for a in axs:
        a = int(a)
        if not -ndim <= a < ndim:
            raise ValueError(f"{what}: {name} has axis {a} out of range for {ndim} dimensions.")
        out.append(a % ndim)
    return out


def _convolve_axes(A, B, axes, dot_axes, mode, what):
    """autograd's ``convolve(A, B, axes, dot_axes, mode)``: one batched
    ``conv_general_dilated`` (the rest of A as output features, the rest of B as the batch,
    the dot axes as the input features)."""
    if axes is None:
        if A.ndim != B.ndim:
            raise ValueError(f"{what}: without axes, in1 and in2 must have the same number of "
                             f"dimensions; got {A.ndim} and {B.ndim}.")
        axes = (range(A.ndim), range(B.ndim))
    if dot_axes is None:
        dot_axes = ((), ())
    if len(axes) != 2 or len(dot_axes) != 2:
        raise ValueError(f"{what}: axes and dot_axes are pairs (axes of in1, axes of in2).")
    ca, cb = (_axis_list(a, x.ndim, what, "axes") for a, x in zip(axes, (A, B)))
    da, db = (_axis_list(a, x.ndim, what, "dot_axes") for a, x in zip(dot_axes, (A, B)))
    if len(ca) != len(cb) or len(da) != len(db):
        raise ValueError(f"{what}: axes and dot_axes must pair as many axes of in1 as of in2; "
                         f"got {axes!r} and {dot_axes!r}.")
    if len(set(ca + da)) != len(ca + da) or len(set(cb + db)) != len(cb + db):
        raise ValueError(f"{what}: an axis appears twice in axes and dot_axes.")
    for i, j in zip(da, db):
        if A.shape[i] != B.shape[j]:
            raise ValueError(f"{what}: dot axes {i} of in1 and {j} of in2 differ in length: "
                             f"{A.shape[i]} and {B.shape[j]}.")
    ia = [i for i in range(A.ndim) if i not in ca and i not in da]
    ib = [i for i in range(B.ndim) if i not in cb and i not in db]
    sa, sb = [A.shape[i] for i in ca], [B.shape[i] for i in cb]
    out_ignore = tuple(A.shape[i] for i in ia) + tuple(B.shape[i] for i in ib)
    ranges = _full_range(mode, sa, sb, what)
    if mode == "valid":
        _valid_swap(sa, sb, what)
    nd = len(ca)
    D = math.prod(A.shape[i] for i in da)
    NA, NB = math.prod(A.shape[i] for i in ia), math.prod(B.shape[i] for i in ib)
    if 0 in tuple(A.shape) + tuple(B.shape) or 0 in [r[1] for r in ranges]:
        return fnp.zeros(out_ignore + tuple(r[1] for r in ranges), dtype=fnp.result_type(A),
                         device=fnp.device(A))
    # the operand with the smaller convolved extent as the kernel (output features, input
    # features D, its convolved axes flipped), the other as the image (batch, features D): a
    # cross-correlation with the flipped kernel. The convolution commutes, so the choice only
    # sets the cost (the kernel's extent is the number of window slices), as in autograd's
    # convolutional networks, where in1 is the larger image.
    a_kernel = math.prod(sa) <= math.prod(sb)
    kA, kB = (A, B) if a_kernel else (B, A)
    ik, dk, ck, nk, sk = (ia, da, ca, NA, sa) if a_kernel else (ib, db, cb, NB, sb)
    ix, dx, cx, nx, sx = (ib, db, cb, NB, sb) if a_kernel else (ia, da, ca, NA, sa)
    k = fnp.reshape(fnp.permute_dims(kA, tuple(ik + dk + ck)), (nk, D, *sk))
    if nd:
        k = fnp.flip(k, axis=tuple(range(2, 2 + nd)))
    x = fnp.reshape(fnp.permute_dims(kB, tuple(ix + dx + cx)), (nx, D, *sx))
    pads = [(a - 1 - start, length - b + start) for a, b, (start, length)
            in zip(sk, sx, ranges)]
    y = conv_general_dilated(x, k, (1,) * nd, pads)  # (batch: x's, features: k's, out...)
    if a_kernel:
        y = fnp.permute_dims(y, (1, 0) + tuple(range(2, 2 + nd)))
    return fnp.reshape(y, out_ignore + tuple(y.shape[2:]))


def correlate(in1, in2, mode="full", method="auto"):
    """The n-d cross-correlation of ``in1`` and ``in2`` (``scipy.signal.correlate``):
    ``z[k] = sum_l in1[l] conj(in2[l - k])``, the lag ``k`` over 'full', 'valid' or 'same'
    (as in :func:`convolve`); it is ``convolve(in1, conj(in2) reversed)``. ``method`` as in
    :func:`convolve`."""
    what = "correlate"
    _check_method(method, what)
    _check_mode(mode, what)
    in1, in2 = _operands(in1, in2, what)
    special = _empty_or_scalar(in1, in2, what)
    if special is not None:
        if in1.ndim == 0:
            return fnp.multiply(in1, fnp.conj(in2))
        return special
    k = fnp.flip(fnp.conj(in2) if fnp.isdtype(in2.dtype, "complex floating") else in2)
    return _convolve(in1, k, mode, what)


_BOUNDARIES = {"fill": "constant", "pad": "constant", "wrap": "wrap", "circular": "wrap",
               "symm": "symmetric", "symmetric": "symmetric"}


def _two_d(in1, in2, mode, boundary, fillvalue, what, correlate_):
    _check_mode(mode, what)
    if boundary not in _BOUNDARIES:
        raise ValueError(f"{what}: boundary must be 'fill', 'wrap' or 'symm'; got "
                         f"{boundary!r}.")
    in1, in2 = _operands(in1, in2, what)
    if not in1.ndim == in2.ndim == 2:
        raise ValueError(f"{what}: in1 and in2 must both be 2-d arrays; got {in1.ndim} and "
                         f"{in2.ndim} dimensions.")
    if hasattr(fillvalue, "shape") and tuple(fillvalue.shape) not in ((), (1,)):
        raise ValueError(f"{what}: fillvalue must be a scalar.")
    if (boundary in ("fill", "pad") and isinstance(fillvalue, complex)
            and not fnp.isdtype(in1.dtype, "complex floating")
            and (type(fillvalue) is complex or fillvalue.imag != 0)):
        # (SciPy's error: a complex fill value is not dropped to its real part silently)
        raise ValueError(f"{what}: could not cast the complex fillvalue {fillvalue!r} to the "
                         f"output type {fnp.result_type(in1).name}.")
    s1, s2 = tuple(in1.shape), tuple(in2.shape)
    swapped = mode == "valid" and _valid_swap(s1, s2, what)
    if swapped:
        in1, in2 = in2, in1
        s1, s2 = s2, s1
    if correlate_ and fnp.isdtype(in2.dtype, "complex floating"):
        in2 = fnp.conj(in2)
    if 0 in tuple(in1.shape) + tuple(in2.shape):
        return fnp.zeros((0, 0) if mode == "valid" else s1 if mode == "same" else
                         tuple(a + b - 1 if a and b else 0 for a, b in zip(s1, s2)),
                         dtype=fnp.result_type(in1), device=fnp.device(in1))
    ranges = _full_range(mode, s1, s2, what)
    if correlate_ and mode == "same":  # SciPy centres a 2-d correlation half a step later
        ranges = [(b // 2, a) for a, b in zip(s1, s2)]
    # the image extended by the boundary rule by what the kept range reaches beyond it
    ext = [(max(b - 1 - st, 0), max(st + ln - a, 0)) for a, b, (st, ln) in
           zip(s1, s2, ranges)]
    if any(lo or hi for lo, hi in ext) and not (boundary in ("fill", "pad")
                                                 and _is_zero(fillvalue)):
        kw = {}
        mode_np = _BOUNDARIES[boundary]
        if mode_np == "constant":
            fv = fillvalue
            if not fnp.isdtype(in1.dtype, "complex floating") and isinstance(fv, complex):
                fv = fv.real
            kw["constant_values"] = fv
        in1 = fnp.pad(in1, ext, mode=mode_np, **kw)
        ranges = [(st + lo, ln) for (st, ln), (lo, _) in zip(ranges, ext)]
    out = _conv_nd(in1, in2, ranges, flip_kernel=not correlate_)
    if swapped and correlate_:
        out = fnp.flip(out)
    return out


def _is_zero(v):
    return isinstance(v, (int, float, complex)) and v == 0


def convolve2d(in1, in2, mode="full", boundary="fill", fillvalue=0):
    """The 2-d convolution of ``in1`` and ``in2`` (``scipy.signal.convolve2d``), 'full',
    'valid' or 'same' (the size of ``in1``), ``in1`` extended beyond its edges by
    ``boundary``: 'fill' (with ``fillvalue``), 'wrap' (periodic) or 'symm' (mirrored, the
    edge repeated)."""
    return _two_d(in1, in2, mode, boundary, fillvalue, "convolve2d", False)


def correlate2d(in1, in2, mode="full", boundary="fill", fillvalue=0):
    """The 2-d cross-correlation of ``in1`` and ``in2`` (``scipy.signal.correlate2d``),
    ``in2`` conjugated; modes and boundaries as in :func:`convolve2d`."""
    return _two_d(in1, in2, mode, boundary, fillvalue, "correlate2d", True)


def _fft_like(name):
    def f(in1, in2, mode="full", axes=None):
        what = name
        in1, in2 = _operands(in1, in2, what)
        if axes is not None:
            axs = (axes,) if isinstance(axes, int) else tuple(axes)
            nd = builtins.max(in1.ndim, in2.ndim)
            if sorted(int(a) % nd for a in axs) != list(range(nd)) or in1.ndim != in2.ndim:
                raise NotImplementedError(f"{what}: axes other than all of them are not "
                                          f"supported; use convolve over the full arrays.")
        return convolve(in1, in2, mode=mode)
    f.__name__ = f.__qualname__ = name
    f.__doc__ = (f"``scipy.signal.{name}``: the same values as :func:`convolve` ('full', "
                 f"'valid', 'same'), computed directly (exact, where SciPy's FFT rounds); "
                 f"``axes`` naming all axes is accepted, a subset raises "
                 f"NotImplementedError.")
    return f


fftconvolve = _fft_like("fftconvolve")
oaconvolve = _fft_like("oaconvolve")
