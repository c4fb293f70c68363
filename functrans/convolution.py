"""Convolutions and windowed reductions with ``jax.lax``'s names and semantics.

``conv_general_dilated`` (and its short forms ``conv``, ``conv_with_general_padding``,
``conv_transpose``), ``conv_dimension_numbers`` / ``ConvDimensionNumbers`` and
``reduce_window`` (pooling), exported by :mod:`functrans.lax`; :mod:`functrans.scipy.signal`
builds SciPy's ``convolve``/``correlate`` on them.

Everything is written on existing primitives (strided slices, placing into zeros, stacking,
one matrix product), never on the data of a particular library: every backend and every
transform (``grad``, ``jvp``, ``vmap``, ``jit``, ``hessian``) applies with no extra rule.
A convolution is computed im2col-style: for each position of the kernel (a static Python
loop over the kernel's shape, never over output positions) a strided slice of the padded,
dilated input; the slices are stacked and contracted with the kernel in one matrix product.
"""

from __future__ import annotations

import math
import operator
import sys
import typing
from itertools import product
from typing import NamedTuple

from . import dtypes as _dt
from . import numpy as fnp
from .interpreters import with_constant_arguments
from .primitives import structural as _st

__all__ = ["ConvDimensionNumbers", "conv_dimension_numbers", "conv_general_dilated", "conv",
           "conv_with_general_padding", "conv_transpose", "reduce_window", "add", "mul",
           "max", "min", "conv_general_dilated_patches", "conv_general_dilated_local",
           "padtype_to_pads", "conv_shape_tuple", "conv_general_permutations",
           "conv_general_shape_tuple", "conv_transpose_shape_tuple",
           "reduce_window_shape_tuple", "ConvGeneralDilatedDimensionNumbers"]

_builtin_max, _builtin_min = max, min


# -- elementwise computations (the ones reduce_window understands) ---------------------------

def add(x, y):
    """``x + y`` elementwise (``jax.lax.add``); broadcasting as in ``functrans.numpy.add``
    (JAX wants one shape and dtype)."""
    return fnp.add(x, y)


def mul(x, y):
    """``x * y`` elementwise (``jax.lax.mul``); broadcasting as in
    ``functrans.numpy.multiply`` (JAX wants one shape and dtype)."""
    return fnp.multiply(x, y)


def max(x, y):  # noqa: A001 (jax.lax's name)
    """The elementwise maximum of ``x`` and ``y`` (``jax.lax.max``: a nan in either gives
    nan); broadcasting as in ``functrans.numpy.maximum``."""
    return fnp.maximum(x, y)


def min(x, y):  # noqa: A001 (jax.lax's name)
    """The elementwise minimum of ``x`` and ``y`` (``jax.lax.min``: a nan in either gives
    nan); broadcasting as in ``functrans.numpy.minimum``."""
    return fnp.minimum(x, y)


# -- dimension numbers ---------------------------------------------------------------------

class ConvDimensionNumbers(NamedTuple):
    """Where the axes of a convolution's operands and result are (``jax.lax``'s): each a
    tuple of axis positions, ``lhs_spec`` = (batch, feature, spatial...), ``rhs_spec`` =
    (output feature, input feature, spatial...), ``out_spec`` = (batch, feature,
    spatial...); the spatial axes in one order for the three."""
    lhs_spec: tuple
    rhs_spec: tuple
    out_spec: tuple


def _spec_from_string(spec, pair, spatial_order, what):
    for c in pair:
        if spec.count(c) != 1:
            raise TypeError(f"conv_dimension_numbers: the {what} spec {spec!r} must hold "
                            f"{pair[0]!r} and {pair[1]!r} once each.")
    if len(set(spec)) != len(spec):
        raise TypeError(f"conv_dimension_numbers: the {what} spec {spec!r} repeats a "
                        f"letter.")
    return (spec.index(pair[0]), spec.index(pair[1])) + tuple(
        spec.index(c) for c in spatial_order)


def conv_dimension_numbers(lhs_shape, rhs_shape, dimension_numbers):
    """``dimension_numbers`` as a :class:`ConvDimensionNumbers` (``jax.lax``'s function):
    ``None`` is (N, C, spatial...) / (O, I, spatial...) / (N, C, spatial...) in order;
    three strings such as ``('NHWC', 'HWIO', 'NHWC')`` name each axis (N batch, C feature,
    O/I the kernel's output/input features, other letters spatial, their order the kernel
    spec's); a ``ConvDimensionNumbers`` is returned as it is. Also accepted (beyond JAX):
    three sequences of axis positions."""
    lhs_shape, rhs_shape = tuple(lhs_shape), tuple(rhs_shape)
    if isinstance(dimension_numbers, ConvDimensionNumbers):
        return dimension_numbers
    if len(lhs_shape) != len(rhs_shape):
        raise TypeError(f"conv_dimension_numbers: lhs and rhs must have the same number of "
                        f"axes; got shapes {lhs_shape} and {rhs_shape}.")
    nd = len(lhs_shape)
    if dimension_numbers is None:
        iota = tuple(range(nd))
        return ConvDimensionNumbers(iota, iota, iota)
    if not isinstance(dimension_numbers, (list, tuple)) or len(dimension_numbers) != 3:
        raise TypeError(f"conv_dimension_numbers: dimension_numbers must be None, a "
                        f"ConvDimensionNumbers or a triple (lhs, rhs, out); got "
                        f"{dimension_numbers!r}.")
    if all(isinstance(s, str) for s in dimension_numbers):
        lhs, rhs, out = dimension_numbers
        if not len(lhs) == len(rhs) == len(out) == nd:
            raise TypeError(f"conv_dimension_numbers: the specs {dimension_numbers!r} must "
                            f"each have {nd} letters (the operands' number of axes).")
        spatial = [c for c in rhs if c not in "OI"]
        if not (set(lhs) - set("NC") == set(spatial) == set(out) - set("NC")):
            raise TypeError(f"conv_dimension_numbers: the spatial letters of "
                            f"{dimension_numbers!r} differ between the specs.")
        return ConvDimensionNumbers(_spec_from_string(lhs, "NC", spatial, "lhs"),
                                    _spec_from_string(rhs, "OI", spatial, "rhs"),
                                    _spec_from_string(out, "NC", spatial, "out"))
    if any(isinstance(s, str) for s in dimension_numbers):
        raise TypeError("conv_dimension_numbers: dimension_numbers mixes strings and "
                        "permutations.")
    specs = tuple(tuple(operator.index(i) for i in s) for s in dimension_numbers)
    for s in specs:
        if sorted(s) != list(range(nd)):
            raise TypeError(f"conv_dimension_numbers: {s} is not a permutation of the "
                            f"{nd} axes.")
    return ConvDimensionNumbers(*specs)


# -- padding -------------------------------------------------------------------------------

def _same_pads(sizes, windows, strides, lower):
    pads = []
    for n, k, s in zip(sizes, windows, strides):
        out = -(-n // s)
        total = _builtin_max((out - 1) * s + k - n, 0)
        small, big = total // 2, total - total // 2
        pads.append((big, small) if lower else (small, big))
    return pads


def _padding(padding, sizes, windows, strides, what):
    """Explicit ``(low, high)`` pairs from a padding string or sequence."""
    nd = len(sizes)
    if isinstance(padding, str):
        mode = padding.upper()
        if mode == "VALID":
            return [(0, 0)] * nd
        if mode in ("SAME", "SAME_LOWER"):
            return _same_pads(sizes, windows, strides, mode == "SAME_LOWER")
        raise ValueError(f"{what}: padding must be 'VALID', 'SAME', 'SAME_LOWER' or a "
                         f"sequence of (low, high) pairs; got {padding!r}.")
    try:
        pads = [(operator.index(lo), operator.index(hi)) for lo, hi in padding]
    except (TypeError, ValueError):
        raise TypeError(f"{what}: padding must be 'VALID', 'SAME', 'SAME_LOWER' or a "
                        f"sequence of (low, high) integer pairs; got {padding!r}.") from None
    if len(pads) != nd:
        raise ValueError(f"{what}: padding needs {nd} (low, high) pairs (one per spatial "
                         f"axis); got {len(pads)}.")
    return pads


def _ints(values, n, what, name, default=1, positive=True):
    if values is None:
        return (default,) * n
    if isinstance(values, int):
        raise TypeError(f"{what}: {name} must be a sequence of {n} integers; got {values!r}.")
    out = tuple(operator.index(v) for v in values)
    if len(out) != n:
        raise ValueError(f"{what}: {name} needs {n} entries (one per spatial axis); got "
                         f"{len(out)}.")
    if positive and any(v < 1 for v in out):
        raise ValueError(f"{what}: {name} must be positive; got {out}.")
    return out


def _dilate_pad(x, axes, dilation, pads, fill, what):
    """``x`` with ``dilation - 1`` holes between its elements along ``axes`` and ``pads``
    added (a negative pad crops), holes and pads holding ``fill`` (None: zero)."""
    shape = tuple(x.shape)
    new_shape, place, crop, need = list(shape), [(0, d, 1) for d in shape], [], False
    for ax, d, (lo, hi) in zip(axes, dilation, pads):
        n = shape[ax]
        span = (n - 1) * d + 1 if n else 0
        size = span + lo + hi
        if size < 0:
            raise ValueError(f"{what}: the padding {(lo, hi)} leaves a negative size along "
                             f"axis {ax} (of dilated size {span}).")
        plo, phi = _builtin_max(lo, 0), _builtin_max(hi, 0)
        new_shape[ax] = span + plo + phi
        place[ax] = (plo, plo + span, d) if n else (0, 0, 1)
        crop.append((ax, -_builtin_min(lo, 0), new_shape[ax] + _builtin_min(hi, 0)))
        need = need or new_shape[ax] != n
    if need:
        placed = _st.scatter_slice(x, tuple(new_shape), tuple(place))
        if fill is not None:
            ones = fnp.ones(shape, dtype=fnp.bool, device=fnp.device(x))
            mask = _st.scatter_slice(ones, tuple(new_shape), tuple(place))
            placed = fnp.where(mask, placed, fill)
        x = placed
    if any(a != 0 or b != x.shape[ax] for ax, a, b in crop):
        idx = [(0, d, 1) for d in x.shape]
        for ax, a, b in crop:
            idx[ax] = (a, b, 1)
        x = _st.slice_(x, tuple(idx))
    return x


def _window_slices(x, axes, windows, wdil, strides, what):
    """For each position of the window (row-major), the strided slice of ``x`` that it
    sees at every output position; and the output sizes."""
    shape = tuple(x.shape)
    outs = []
    for ax, k, r, s in zip(axes, windows, wdil, strides):
        span = (k - 1) * r + 1 if k else 0  # (an empty kernel: zeros at every position)
        outs.append(_builtin_max((shape[ax] - span) // s + 1, 0))
    slices = []
    for pos in product(*(range(k) for k in windows)):
        idx = [(0, d, 1) for d in shape]
        for ax, p, r, s, n in zip(axes, pos, wdil, strides, outs):
            idx[ax] = (p * r, p * r + (n - 1) * s + 1, s) if n else (0, 0, 1)
        idx = tuple(idx)
        if all(t == (0, d, 1) for t, d in zip(idx, shape)):
            slices.append(x)
        else:
            slices.append(_st.slice_(x, idx))
    return slices, outs


# -- convolution ---------------------------------------------------------------------------

def _not_supported(what, precision, preferred_element_type, batch_group_count=1):
    """Refuses what is not there; ``precision`` is checked and has no effect (every backend
    computes at the operands' own precision, as with ``dot_general``)."""
    if batch_group_count != 1:
        raise NotImplementedError(f"{what}: batch_group_count={batch_group_count} is not "
                                  f"supported (only 1).")
    from .numpy._products import _check_one_precision
    for p in (precision if isinstance(precision, (tuple, list)) else (precision,)):
        _check_one_precision(what, p)


def _preferred(what, lhs, rhs, preferred_element_type):
    """jax.lax's ``preferred_element_type``, as the products take it: the operands cast to
    that dtype where they convert without loss (int8 products accumulate in int32 without
    wrapping), else left as they are with the dtype to convert the result to returned
    (float operands with int32: the convolution truncated, not its operands). Returns the
    operands and that dtype (or None)."""
    if preferred_element_type is None:
        return lhs, rhs, None
    from .numpy._products import _jax_options
    (lhs, rhs), convert_to = _jax_options(what, [lhs, rhs], None, preferred_element_type)
    return lhs, rhs, convert_to


def conv_general_dilated(lhs, rhs, window_strides, padding, lhs_dilation=None,
                         rhs_dilation=None, dimension_numbers=None, feature_group_count=1,
                         batch_group_count=1, precision=None, preferred_element_type=None):
    """A general n-d convolution (``jax.lax.conv_general_dilated``): the cross-correlation
    of ``lhs`` (batch, features, spatial...) with the kernel ``rhs`` (output features,
    input features, spatial...), as in convolutional networks (no flip of the kernel).

    ``window_strides`` the steps of the window; ``padding`` 'VALID', 'SAME' (output size
    ``ceil(n / stride)``, the extra pad at the end), 'SAME_LOWER' (at the start) or one
    ``(low, high)`` pair per spatial axis (negative pairs crop); ``lhs_dilation`` holes
    between the input's elements (a transposed convolution), ``rhs_dilation`` between the
    kernel's (atrous convolution); ``dimension_numbers`` where the axes are (see
    :func:`conv_dimension_numbers`); ``feature_group_count`` G splits the input features
    into G groups, each convolved with its share of the output features (G = features:
    depthwise). Any number of spatial axes.

    ``batch_group_count`` B splits the batch into B consecutive groups, each convolved with
    its share of the output features (the output has ``batch / B`` members; how JAX writes
    the kernel's gradient of a grouped convolution); one of the two group counts must be 1.

    Differences from JAX: ``precision`` is checked and has no effect (the backend's own
    precision); ``preferred_element_type`` is the result's dtype, the convolution computed
    in it where the operands convert to it without loss, else computed in theirs and
    converted (JAX refuses float operands with an integer dtype)."""
    what = "conv_general_dilated"
    _not_supported(what, precision, preferred_element_type)
    lhs, rhs, convert_to = _preferred(what, fnp.asarray(lhs), fnp.asarray(rhs),
                                      preferred_element_type)
    if convert_to is not None:
        from .numpy._products import _to_preferred
        return _to_preferred(conv_general_dilated(
            lhs, rhs, window_strides, padding, lhs_dilation, rhs_dilation, dimension_numbers,
            feature_group_count, batch_group_count, precision), convert_to)
    if fnp.result_type(lhs) is not fnp.result_type(rhs):
        raise TypeError(f"{what}: lhs and rhs must have one dtype (as in jax.lax); got "
                        f"{fnp.result_type(lhs)} and {fnp.result_type(rhs)}.")
    if lhs.ndim < 2:
        raise TypeError(f"{what}: the operands need at least 2 axes (batch and feature); got "
                        f"shape {tuple(lhs.shape)}.")
    if lhs.ndim != rhs.ndim:
        raise TypeError(f"{what}: lhs and rhs must have the same number of axes; got "
                        f"shapes {tuple(lhs.shape)} and {tuple(rhs.shape)}.")
    dn = conv_dimension_numbers(lhs.shape, rhs.shape, dimension_numbers)
    nsp = lhs.ndim - 2
    G = operator.index(feature_group_count)
    strides = _ints(window_strides, nsp, what, "window_strides")
    ldil = _ints(lhs_dilation, nsp, what, "lhs_dilation")
    rdil = _ints(rhs_dilation, nsp, what, "rhs_dilation")
    # the input as (N, spatial..., C), the kernel as (O, I, spatial...)
    x_perm = (dn.lhs_spec[0],) + tuple(dn.lhs_spec[2:]) + (dn.lhs_spec[1],)
    x = fnp.permute_dims(lhs, x_perm)
    w = fnp.permute_dims(rhs, tuple(dn.rhs_spec)) if tuple(dn.rhs_spec) != tuple(
        range(rhs.ndim)) else rhs
    B = operator.index(batch_group_count)
    if B != 1:
        if B < 1 or G != 1:
            raise ValueError(f"{what}: batch_group_count={B} must be positive, and "
                             f"feature_group_count must then be 1 (got {G}).")
        if x.shape[0] % B or w.shape[0] % B:
            raise ValueError(f"{what}: batch_group_count={B} must divide the batch "
                             f"({x.shape[0]}) and the output features ({w.shape[0]}).")
        # batch group g becomes feature group g: (B, N/B, spatial..., C) to
        # (N/B, spatial..., B * C)
        n, rest = x.shape[0] // B, tuple(x.shape[1:-1])
        x = fnp.reshape(x, (B, n) + rest + (x.shape[-1],))
        x = fnp.moveaxis(x, 0, -2)
        x = fnp.reshape(x, (n,) + rest + (B * x.shape[-1],))
        G = B
    N, C = x.shape[0], x.shape[-1]
    O, Ci = w.shape[0], w.shape[1]
    ksize = tuple(w.shape[2:])
    if 0 in ksize:
        raise ValueError(f"{what}: the kernel's spatial sizes must be positive (as in JAX); "
                         f"got {ksize}.")
    if G < 1 or C % G or O % G:
        raise ValueError(f"{what}: feature_group_count={G} must divide the input features "
                         f"({C}) and the output features ({O}).")
    if Ci * G != C:
        raise ValueError(f"{what}: the kernel's input features ({Ci}) times "
                         f"feature_group_count ({G}) must equal the input's features ({C}).")
    if isinstance(padding, str) and any(d != 1 for d in ldil):
        raise ValueError(f"{what}: String padding with lhs_dilation is not supported (as in "
                         f"JAX): give explicit (low, high) pairs or use conv_transpose.")
    sizes = tuple(x.shape[1:-1])
    eff = tuple((k - 1) * r + 1 if k else 0 for k, r in zip(ksize, rdil))
    pads = _padding(padding, sizes, eff, strides, what)
    axes = tuple(range(1, nsp + 1))
    padded = any(lo > 0 or hi > 0 for lo, hi in pads) or any(d != 1 for d in ldil)
    x = _dilate_pad(x, axes, ldil, pads, None, what)
    if not padded and B == 1 and x_perm != tuple(range(lhs.ndim)) and math.prod(ksize) > 1:
        # One copy of the input in row-major order: NumPy's stack keeps the memory order of
        # its inputs, so the slices of a transposed view made patches that the matrix
        # product's reshape copied again (the kernel's size times the input's; a padded or
        # dilated input is a new row-major array already).
        x = fnp.reshape(fnp.reshape(x, (-1,)), tuple(x.shape))
    slices, outs = _window_slices(x, axes, ksize, rdil, strides, what)
    K, P = len(slices), math.prod(outs)
    if K == 0 or N * P * O == 0 or C == 0:
        dt = fnp.result_type(lhs)
        y = fnp.zeros((N,) + tuple(outs) + (O,), dtype=dt, device=fnp.device(lhs))
    else:
        y = _conv_products(slices, w, G)
    if padded and K and N * P * O and C and not _known_finite(w):
        # The padding and the holes of lhs_dilation take no part in the sum (as in XLA): one
        # zero of theirs times an infinite or NaN kernel entry made the output NaN. Only a
        # kernel with such an entry needs the slower sum that leaves them out; the branch
        # that keeps y costs nothing (and nothing to recompute in reverse mode under jit).
        # A kernel known to be finite (eager, vmap) needs no cond: reverse mode then has no
        # cond to transpose, whose zero cotangents for x and w were made and added.
        from .control_flow import cond
        real = _dilate_pad(fnp.ones((1,) + sizes + (1,), dtype=fnp.bool,
                                    device=fnp.device(lhs)), axes, ldil, pads, None, what)
        real = _window_slices(real, axes, ksize, rdil, strides, what)[0]

        def leave_padding_out(y, x, w):
            return _conv_products(_window_slices(x, axes, ksize, rdil, strides, what)[0], w,
                                  G, real)

        y = cond(fnp.all(fnp.isfinite(w)), lambda y, x, w: y, leave_padding_out, y, x, w)
    # to the output's layout: logical axis of each output axis
    perm = [0] * y.ndim
    perm[dn.out_spec[0]] = 0
    perm[dn.out_spec[1]] = nsp + 1
    for i, a in enumerate(dn.out_spec[2:]):
        perm[a] = i + 1
    if perm != list(range(y.ndim)):
        y = fnp.permute_dims(y, tuple(perm))
    return y


def _known_finite(w):
    """Whether the values of ``w`` are known (plain arrays, eager transforms, vmap: the array
    behind the tracers) and all finite; False where staged (jit). No primitive is bound."""
    from .scipy.special import _backend_of, _concrete_behind
    v = _concrete_behind(w)
    if v is None:
        return False
    import numpy as _np  # (NumPy's own arrays read by their methods, the cheapest way)
    if isinstance(v, (_np.ndarray, _np.generic)):
        return bool(_np.isfinite(v).all())
    bk = _backend_of(v)
    return bool(bk.to_numpy(bk.xp.all(bk.xp.isfinite(v))))


def _conv_products(slices, w, G, real=None):
    """The convolution ``(N, out..., O)`` from the input slices (one per kernel position,
    each ``(N, out..., C)``) and the kernel ``(O, C / G, K...)``: one matrix product over
    all the slices; or, with ``real`` (per kernel position, ``(1, out..., 1)``: where the
    slice holds input, not padding), one product per position with the padding's products
    left out."""
    N, outs, C = slices[0].shape[0], tuple(slices[0].shape[1:-1]), slices[0].shape[-1]
    O, Ci = w.shape[0], w.shape[1]
    K, P, Og = len(slices), math.prod(outs), O // G

    def product_(patches, w, k):  # patches (N, out..., C, k), w (O, Ci, k)
        if G == 1:
            a = fnp.reshape(patches, (N * P, C * k))
            b = fnp.matrix_transpose(fnp.reshape(w, (O, Ci * k)))
            y = fnp.matmul(a, b)  # (N*P, O)
        else:
            a = fnp.permute_dims(fnp.reshape(patches, (N * P, G, Ci * k)), (1, 0, 2))
            b = fnp.permute_dims(fnp.reshape(w, (G, Og, Ci * k)), (0, 2, 1))
            y = fnp.permute_dims(fnp.matmul(a, b), (1, 0, 2))  # (N*P, G, Og)
        return fnp.reshape(y, (N,) + outs + (O,))

    if real is None:
        # (N, out..., C, K): every input value each output position's window sees
        patches = fnp.stack(slices, axis=-1) if K > 1 else fnp.expand_dims(slices[0], axis=-1)
        return product_(patches, w, K)
    w = fnp.reshape(w, (O, Ci, K))
    y = None
    for k in range(K):
        yk = product_(fnp.expand_dims(slices[k], axis=-1), w[:, :, k:k + 1], 1)
        yk = fnp.where(real[k], yk, fnp.zeros((), dtype=yk.dtype, device=fnp.device(yk)))
        y = yk if y is None else y + yk
    return y


def conv(lhs, rhs, window_strides, padding, precision=None, preferred_element_type=None):
    """``conv_general_dilated`` with the default layouts, (N, C, spatial...) and (O, I,
    spatial...), no dilation and one feature group (``jax.lax.conv``)."""
    return conv_general_dilated(lhs, rhs, window_strides, padding, precision=precision,
                                preferred_element_type=preferred_element_type)


def conv_with_general_padding(lhs, rhs, window_strides, padding, lhs_dilation,
                              rhs_dilation, precision=None, preferred_element_type=None):
    """``conv_general_dilated`` with the default layouts and one feature group, with
    dilations (``jax.lax.conv_with_general_padding``)."""
    return conv_general_dilated(lhs, rhs, window_strides, padding, lhs_dilation=lhs_dilation,
                                rhs_dilation=rhs_dilation, precision=precision,
                                preferred_element_type=preferred_element_type)


_TRANSPOSE_DEFAULTS = {2: ("NC", "IO", "NC"), 3: ("NHC", "HIO", "NHC"),
                       4: ("NHWC", "HWIO", "NHWC"), 5: ("NHWDC", "HWDIO", "NHWDC")}


def _transpose_pad(k, s, padding):
    if padding == "SAME":
        total = k + s - 2
        lo = k - 1 if s > k - 1 else -(-total // 2)
    else:  # VALID
        total = k + s - 2 + _builtin_max(k - s, 0)
        lo = k - 1
    return lo, total - lo


def conv_transpose(lhs, rhs, strides, padding, rhs_dilation=None, dimension_numbers=None,
                   transpose_kernel=False, precision=None, preferred_element_type=None,
                   use_consistent_padding=False):
    """A transposed ("deconvolution") convolution (``jax.lax.conv_transpose``): the input
    dilated by ``strides`` and convolved with unit strides. With ``transpose_kernel=True``
    the kernel's spatial axes are flipped and its feature axes swapped, so that it is the
    gradient of ``conv_general_dilated`` with the same kernel, strides and padding.

    ``padding`` 'SAME' or 'VALID' (output size ``n * stride``, resp. ``n * stride +
    max(k - stride, 0)``), another string as for ``conv_general_dilated``, or explicit
    pairs for the dilated input; with ``use_consistent_padding=True`` (as in JAX 0.10) pairs are
    the padding of the forward convolution too (``(k - 1 - low, k - 1 - high)`` for the
    dilated input, PyTorch's convention). ``dimension_numbers`` defaults to channels-last layouts
    ('NC', 'IO', 'NC'), ('NHC', 'HIO', 'NHC'), ('NHWC', 'HWIO', 'NHWC'), ('NHWDC',
    'HWDIO', 'NHWDC') for 0 to 3 spatial axes, as in JAX. ``precision`` and
    ``preferred_element_type`` as for ``conv_general_dilated``."""
    what = "conv_transpose"
    _not_supported(what, precision, preferred_element_type)
    lhs, rhs, convert_to = _preferred(what, fnp.asarray(lhs), fnp.asarray(rhs),
                                      preferred_element_type)
    if convert_to is not None:
        from .numpy._products import _to_preferred
        return _to_preferred(conv_transpose(
            lhs, rhs, strides, padding, rhs_dilation, dimension_numbers, transpose_kernel,
            precision, use_consistent_padding=use_consistent_padding), convert_to)
    if lhs.ndim != rhs.ndim or lhs.ndim < 2:
        raise TypeError(f"{what}: lhs and rhs need one number of axes, at least 2; got shapes "
                        f"{tuple(lhs.shape)} and {tuple(rhs.shape)}.")
    if dimension_numbers is None:
        if lhs.ndim not in _TRANSPOSE_DEFAULTS:
            raise ValueError(f"{what}: no default dimension_numbers for {lhs.ndim} axes; "
                             f"pass them.")
        dimension_numbers = _TRANSPOSE_DEFAULTS[lhs.ndim]
    dn = conv_dimension_numbers(lhs.shape, rhs.shape, dimension_numbers)
    nsp = lhs.ndim - 2
    strides = _ints(strides, nsp, what, "strides")
    rdil = _ints(rhs_dilation, nsp, what, "rhs_dilation")
    ks = [(rhs.shape[a] - 1) * r + 1 for a, r in zip(dn.rhs_spec[2:], rdil)]
    if isinstance(padding, str) and padding in ("SAME", "VALID"):
        pads = [_transpose_pad(k, s, padding) for k, s in zip(ks, strides)]
    elif isinstance(padding, str):
        # Any other string is the forward convolution's padding (as in JAX), which takes it
        # with unit strides only; refused here, under this function's name.
        if use_consistent_padding or any(s != 1 for s in strides) or padding.upper() not in (
                "SAME", "VALID", "SAME_LOWER"):
            given = f"strides {strides}" + (" and use_consistent_padding"
                                            if use_consistent_padding else "")
            raise ValueError(f"{what}: String padding {padding!r} is not supported with "
                             f"{given} (as in JAX): padding must be 'SAME' or 'VALID' (upper "
                             f"case) or {nsp} (low, high) pairs.")
        pads = padding
    else:
        try:
            pads = _padding(padding, (0,) * nsp, ks, strides, what)
        except TypeError:
            raise TypeError(f"{what}: padding must be 'SAME', 'VALID' or {nsp} (low, high) "
                            f"integer pairs; got {padding!r}.") from None
        if use_consistent_padding:
            pads = [(k - 1 - lo, k - 1 - hi) for k, (lo, hi) in zip(ks, pads)]
    if transpose_kernel:
        rhs = fnp.flip(rhs, axis=tuple(dn.rhs_spec[2:])) if nsp else rhs
        rhs = fnp.swapaxes(rhs, dn.rhs_spec[0], dn.rhs_spec[1])
    return conv_general_dilated(lhs, rhs, (1,) * nsp, pads, lhs_dilation=strides,
                                rhs_dilation=rdil, dimension_numbers=dn)


# -- reduce_window -------------------------------------------------------------------------

# computation -> (name, reduction over the stacked window axis, its identity)
_COMPUTATIONS = {}
for _f, _name in ((add, "add"), (fnp.add, "add"), (operator.add, "add"),
                  (mul, "mul"), (fnp.multiply, "mul"), (operator.mul, "mul"),
                  (max, "max"), (fnp.maximum, "max"), (min, "min"), (fnp.minimum, "min")):
    _COMPUTATIONS[_f] = _name
_REDUCE = {"add": fnp.sum, "mul": fnp.prod, "max": fnp.max, "min": fnp.min}
_COMBINE = {"add": fnp.add, "mul": fnp.multiply, "max": fnp.maximum, "min": fnp.minimum}


def _is_identity(init, name):
    """Whether a concrete ``init`` is the computation's identity (a traced one never is)."""
    import numpy as _np  # (a Python or NumPy scalar's value: static, not the operand's data)
    if isinstance(init, (_np.ndarray, _np.generic)) and init.shape == ():
        init = init.item()
    if not isinstance(init, (int, float)):
        return False
    return init == {"add": 0, "mul": 1, "max": -math.inf, "min": math.inf}[name]


def _identity(name, dt):
    """The identity of the computation in dtype ``dt`` (None: zero)."""
    if name == "add":
        return None
    if name == "mul":
        return 1
    if fnp.isdtype(dt, "real floating"):
        return -math.inf if name == "max" else math.inf
    if fnp.isdtype(dt, "complex floating"):
        # (complex values are ordered as NumPy orders them, the real part first: infinite
        # parts of the sign make a value below (above) every other, NaNs aside)
        return complex(-math.inf, -math.inf) if name == "max" else complex(math.inf, math.inf)
    if fnp.isdtype(dt, "bool"):
        return name == "min"
    if fnp.isdtype(dt, "integral"):
        info = fnp.iinfo(dt)
        return info.min if name == "max" else info.max
    raise TypeError(f"reduce_window: {name} of {dt} values is not supported.")


def _init_for(init_value, dt, name, what):
    """``init_value`` of the strict path (``name`` the computation), NumPy scalars and 0-d
    arrays as Python numbers. A float for an integer or bool operand must be a whole number;
    or, as JAX takes it, -inf for max (+inf for min): the computation's identity, which
    becomes that of the operand's dtype (its least (greatest) value), the result keeping the
    operand's dtype. Any other float there (-1.5, nan, -inf for min or add) is refused, where
    a cast would change the reduction silently."""
    import numpy as _np  # (a NumPy scalar or 0-d array: a static number, not operand data)
    if isinstance(init_value, (_np.generic, _np.ndarray)):
        init_value = init_value.item()
    if fnp.isdtype(dt, ("real floating", "complex floating")):
        return init_value
    from .core import Tracer
    if (not isinstance(init_value, (int, float, complex)) and hasattr(init_value, "dtype")
            and fnp.isdtype(fnp.result_type(init_value), ("real floating",
                                                           "complex floating"))):
        if isinstance(init_value, Tracer):
            raise TypeError(f"{what}: a traced floating init_value for an operand of dtype "
                            f"{dt} (JAX refuses it too): give an init_value of the operand's "
                            f"dtype.")
        init_value = complex(init_value) if fnp.isdtype(
            fnp.result_type(init_value), "complex floating") else float(init_value)
    if isinstance(init_value, complex):
        raise TypeError(f"{what}: a complex init_value {init_value!r} for an operand of "
                        f"dtype {dt}.")
    if isinstance(init_value, float):
        if init_value == {"max": -math.inf, "min": math.inf}.get(name):
            return _identity(name, dt)
        if not math.isfinite(init_value) or init_value != int(init_value):
            allowed = ("a whole number, or -inf with max and +inf with min (the identity, "
                       "as in JAX)" if name in ("max", "min", "add", "mul") else
                       "a whole number; JAX wants one of the operand's dtype")
            raise TypeError(f"{what}: init_value {init_value!r} does not fit the operand's "
                            f"dtype {dt} (only {allowed}).")
    return init_value


def _cropped_away(shape, bdil, pads, windows, strides):
    """The (empty) output shape where negative padding crops more than an axis holds (JAX's
    reduce_window then gives an empty result); None where every padded size is >= 0."""
    sizes = [((n - 1) * d + 1 if n else 0) + lo + hi
             for n, d, (lo, hi) in zip(shape, bdil, pads)]
    if all(n >= 0 for n in sizes):
        return None
    return tuple(_strided_size(n, k, s) for n, k, s in zip(sizes, windows, strides))


def reduce_window(operand, init_value, computation, window_dimensions, window_strides=None,
                  padding="VALID", base_dilation=None, window_dilation=None):
    """A reduction over sliding windows (``jax.lax.reduce_window``): for each window
    position, ``computation`` folded over ``init_value`` and the operand's values in the
    window. Max pooling is
    ``reduce_window(x, -inf, lax.max, (1, 1, 2, 2), (1, 1, 2, 2), 'VALID')``, sum pooling
    the same with ``0.`` and ``lax.add``.

    ``computation`` is one of ``lax.add``, ``lax.mul``, ``lax.max``, ``lax.min`` (or
    ``functrans.numpy``'s ``add``, ``multiply``, ``maximum``, ``minimum``, or
    ``operator.add``/``mul``); ``window_strides`` defaults to ones; ``padding`` 'VALID',
    'SAME', 'SAME_LOWER' (as in JAX: from the operand's shape without base dilation and
    the dilated window) or ``(low,
    high)`` pairs. As in JAX (XLA), padding and the holes of ``base_dilation`` take no part
    in the reduction (a window of padding only gives ``init_value``). The derivative of a
    max (min) goes to the window's maximum (minimum), ties as ``functrans.numpy.max``
    shares them.

    Any other ``computation`` (of two values, or of two pytrees like ``operand`` for a pytree
    of operands with one ``init_value`` each) is applied as a balanced tree of pairwise calls
    over the window positions, on whole arrays: it must be associative and commutative, as
    XLA assumes, and act elementwise; padding and holes take no part there either, and
    ``init_value`` is folded in once."""
    what = "reduce_window"
    name = _COMPUTATIONS.get(computation) if callable(computation) else None
    if name is None or not hasattr(operand, "shape"):
        return _reduce_window_general(operand, init_value, computation, window_dimensions,
                                      window_strides, padding, base_dilation, window_dilation,
                                      sys._getframe(1))
    x = fnp.asarray(operand)
    nd = x.ndim
    windows = _ints(window_dimensions, nd, what, "window_dimensions")
    strides = _ints(window_strides, nd, what, "window_strides")
    bdil = _ints(base_dilation, nd, what, "base_dilation")
    wdil = _ints(window_dilation, nd, what, "window_dilation")
    if getattr(init_value, "shape", ()) != ():
        raise TypeError(f"{what}: init_value must be a scalar; got shape "
                        f"{tuple(init_value.shape)}.")
    dt = fnp.result_type(x)
    identity = _is_identity(init_value, name)
    init_value = _init_for(init_value, dt, name, what)
    if isinstance(init_value, (int, float, bool)):
        init = fnp.asarray(init_value, dtype=dt, device=fnp.device(x))
    else:
        init = fnp.astype(fnp.asarray(init_value), dt)
    eff = tuple((k - 1) * r + 1 for k, r in zip(windows, wdil))
    pads = _padding(padding, tuple(x.shape), eff, strides, what)
    empty = _cropped_away(tuple(x.shape), bdil, pads, eff, strides)
    if empty is not None:
        return fnp.zeros(empty, dtype=dt, device=fnp.device(x))
    axes = tuple(range(nd))
    # Padding and the holes of the base dilation take no part (as in XLA): they hold the
    # computation's identity, and init_value is folded in once.
    xp = _dilate_pad(x, axes, bdil, pads, _identity(name, dt), what)
    slices, outs = _window_slices(xp, axes, windows, wdil, strides, what)
    if math.prod(outs) == 0:
        return fnp.zeros(tuple(outs), dtype=dt, device=fnp.device(x))
    if name == "add":
        out = slices[0]
        for s in slices[1:]:
            out = fnp.add(out, s)
    elif len(slices) == 1:
        out = slices[0]
    else:
        stacked = fnp.stack(slices, axis=-1)
        # (prod in the operand's own dtype: NumPy's widens small integers, JAX's does not)
        out = (fnp.prod(stacked, axis=-1, dtype=dt) if name == "mul" else
               _REDUCE[name](stacked, axis=-1))
    if not identity:
        out = _COMBINE[name](init, out)
    elif out is x:  # a window of one element: still a new array
        out = fnp.asarray(out, copy=True)
    return out


# -- patches, locally connected convolutions, shape helpers (session 15) --------------------

ConvGeneralDilatedDimensionNumbers = typing.Union[
    typing.Tuple[str, str, str], ConvDimensionNumbers, None]  # (JAX's alias, for annotations)


def _logical_to_layout(y, spec):
    """``y`` with logical axes (first, second, spatial...) placed as ``spec`` says (spec[j]
    is where logical axis j goes)."""
    perm = [0] * y.ndim
    for j, a in enumerate(spec):
        perm[a] = j
    return fnp.permute_dims(y, tuple(perm)) if perm != list(range(y.ndim)) else y


def conv_general_dilated_patches(lhs, filter_shape, window_strides, padding, lhs_dilation=None,
                                 rhs_dilation=None, dimension_numbers=None, precision=None,
                                 preferred_element_type=None):
    """The patches ``conv_general_dilated`` would see (``jax.lax.conv_general_dilated_patches``):
    for each output position, the input's values in the window of ``filter_shape`` (the
    kernel's spatial sizes in the order of the kernel's spatial axes in its layout: the
    letters of a string kernel spec; for a ``ConvDimensionNumbers``, ``rhs_spec[2:]``
    sorted, as JAX places them), flattened into the output's feature axis in the order
    (input feature, then the window's positions row-major in that spatial order), so that
    it has ``C *
    prod(filter_shape)`` features. Strides, padding, dilations and layouts as for
    :func:`conv_general_dilated`.

    Differences from JAX: the values are read, not multiplied by a one-hot kernel (an inf
    or nan in the input stays in its own patch entries; JAX's convolution spreads nan);
    ``precision`` is checked and has no effect; ``preferred_element_type`` casts the input
    first."""
    what = "conv_general_dilated_patches"
    _not_supported(what, precision, preferred_element_type)
    x = fnp.asarray(lhs)
    if preferred_element_type is not None:
        x = fnp.astype(x, _dt.as_dtype(preferred_element_type))
    fs = tuple(operator.index(k) for k in filter_shape)
    if x.ndim < 2 or len(fs) != x.ndim - 2:
        raise TypeError(f"{what}: filter_shape needs one size per spatial axis of lhs "
                        f"({x.ndim - 2}); got {fs}.")
    if any(k < 1 for k in fs):
        raise ValueError(f"{what}: the filter's sizes must be positive; got {fs}.")
    dn = conv_dimension_numbers(x.shape, (1, 1) + fs, dimension_numbers)
    nsp = x.ndim - 2
    strides = _ints(window_strides, nsp, what, "window_strides")
    ldil = _ints(lhs_dilation, nsp, what, "lhs_dilation")
    rdil = _ints(rhs_dilation, nsp, what, "rhs_dilation")
    if isinstance(padding, str) and any(d != 1 for d in ldil):
        raise ValueError(f"{what}: String padding with lhs_dilation is not supported (as in "
                         f"JAX): give explicit (low, high) pairs.")
    # filter_shape holds the kernel's spatial sizes in the order of its axes in the kernel's
    # layout, as JAX's (which places them on those axes of a one-hot kernel): the spatial
    # axis i (in the spec's order) is the rank[i]-th of them. The window's positions are
    # flattened row-major in that order too. (A string or default spec lists them in that
    # order already; a ConvDimensionNumbers need not.)
    by_place = sorted(range(nsp), key=lambda i: dn.rhs_spec[2 + i])
    rank = [by_place.index(i) for i in range(nsp)]
    fs = tuple(fs[rank[i]] for i in range(nsp))
    xs = fnp.permute_dims(x, (dn.lhs_spec[0],) + tuple(dn.lhs_spec[2:]) + (dn.lhs_spec[1],))
    N, C = xs.shape[0], xs.shape[-1]
    sizes = tuple(xs.shape[1:-1])
    eff = tuple((k - 1) * r + 1 for k, r in zip(fs, rdil))
    pads = _padding(padding, sizes, eff, strides, what)
    axes = tuple(range(1, nsp + 1))
    xs = _dilate_pad(xs, axes, ldil, pads, None, what)
    slices, outs_placed = _window_slices(xs, tuple(axes[i] for i in by_place),
                                         tuple(fs[i] for i in by_place),
                                         tuple(rdil[i] for i in by_place),
                                         tuple(strides[i] for i in by_place), what)
    outs = [0] * nsp
    for i, n in zip(by_place, outs_placed):
        outs[i] = n
    K = len(slices)
    if math.prod(outs) == 0 or N * C == 0:
        y = fnp.zeros((N, C * K) + tuple(outs), dtype=fnp.result_type(xs),
                      device=fnp.device(x))
    else:
        p = fnp.stack(slices, axis=-1)  # (N, out..., C, K)
        p = fnp.reshape(p, (N,) + tuple(outs) + (C * K,))
        y = fnp.permute_dims(p, (0, nsp + 1) + tuple(range(1, nsp + 1)))  # (N, CK, out...)
    return _logical_to_layout(y, dn.out_spec)


def conv_general_dilated_local(lhs, rhs, window_strides, padding, filter_shape,
                               lhs_dilation=None, rhs_dilation=None, dimension_numbers=None,
                               precision=None):
    """A locally connected ("unshared") convolution (``jax.lax.conv_general_dilated_local``):
    every output position has its own kernel. ``rhs`` has the kernel spec's layout with
    the output's spatial sizes on its spatial axes and ``C * prod(filter_shape)`` input
    features (ordered as :func:`conv_general_dilated_patches`'s features) on its ``I``
    axis: the output at each position is the patch there contracted with that position's
    kernel. ``precision`` is checked and has no effect."""
    what = "conv_general_dilated_local"
    _not_supported(what, precision, None)
    x, w = fnp.asarray(lhs), fnp.asarray(rhs)
    fs = tuple(operator.index(k) for k in filter_shape)
    patches = conv_general_dilated_patches(x, fs, window_strides, padding, lhs_dilation,
                                           rhs_dilation, dimension_numbers)
    dn = conv_dimension_numbers(x.shape, (1, 1) + fs, dimension_numbers)
    if w.ndim != x.ndim:
        raise TypeError(f"{what}: rhs needs {x.ndim} axes; got shape {tuple(w.shape)}.")
    # both to logical order: patches (N, I, out...), kernel (O, I, out...)
    pl = fnp.permute_dims(patches, tuple(dn.out_spec))
    wl = fnp.permute_dims(w, tuple(dn.rhs_spec))
    if tuple(wl.shape[1:]) != tuple(pl.shape[1:]):
        raise TypeError(f"{what}: rhs must have {pl.shape[1]} input features and the "
                        f"output's spatial sizes {tuple(pl.shape[2:])} (in the kernel "
                        f"spec's order); got {tuple(wl.shape[1:])}.")
    if fnp.result_type(pl) is not fnp.result_type(wl):
        raise TypeError(f"{what}: lhs and rhs must have one dtype (as in jax.lax); got "
                        f"{fnp.result_type(pl)} and {fnp.result_type(wl)}.")
    y = fnp.einsum("ni...,oi...->no...", pl, wl)
    return _logical_to_layout(y, dn.out_spec)


def padtype_to_pads(in_shape, window_shape, window_strides, padding):
    """The ``(low, high)`` pads that the padding ``'VALID'``, ``'SAME'`` or ``'SAME_LOWER'``
    (any case, or an enum member of those names) gives an input of ``in_shape`` under
    windows of ``window_shape`` and ``window_strides`` (``jax.lax.padtype_to_pads``): SAME
    pads to ``ceil(n / stride)`` outputs, the odd pad at the end (SAME_LOWER: at the
    start). A list of pairs of ints; an unknown string is a RuntimeError, as JAX's."""
    name = padding if isinstance(padding, str) else getattr(padding, "name", None)
    if not isinstance(name, str):
        raise TypeError(f"padtype_to_pads: padding must be 'VALID', 'SAME' or 'SAME_LOWER'; "
                        f"got {padding!r}.")
    name = name.upper()
    if name not in ("VALID", "SAME", "SAME_LOWER"):
        raise RuntimeError(f"Unrecognized padding type: expected 'VALID', 'SAME', or "
                           f"'SAME_LOWER', got {padding}.")
    sizes = [operator.index(n) for n in in_shape]
    return _padding(name, sizes, [operator.index(k) for k in window_shape],
                    [operator.index(s) for s in window_strides], "padtype_to_pads")


def _strided_size(n, k, s):
    return _builtin_max((n - k) // s + 1, 0)


def conv_shape_tuple(lhs_shape, rhs_shape, strides, pads, batch_group_count=1):
    """The output shape of a convolution of operands in the default layouts, (N, C,
    spatial...) and (O, I, spatial...) (``jax.lax.conv_shape_tuple``): ``pads`` a padding
    string or ``(low, high)`` pairs. A tuple of ints."""
    lhs_shape, rhs_shape = [operator.index(d) for d in lhs_shape], [operator.index(d) for d
                                                                    in rhs_shape]
    if isinstance(pads, str):
        pads = padtype_to_pads(lhs_shape[2:], rhs_shape[2:], strides, pads)
    pads = [(operator.index(lo), operator.index(hi)) for lo, hi in pads]
    if len(pads) != len(lhs_shape) - 2:
        raise TypeError(f"Wrong number of explicit pads for convolution: expected "
                        f"{len(lhs_shape) - 2}, got {len(pads)}.")
    padded = [n + lo + hi for n, (lo, hi) in zip(lhs_shape[2:], pads)]
    if any(p < 0 for p in padded):
        raise ValueError(f"conv_shape_tuple: negative padding larger than the dimension: "
                         f"padding={pads} for lhs_shape[2:]={tuple(lhs_shape[2:])}.")
    space = [_strided_size(p, k, operator.index(s))
             for p, k, s in zip(padded, rhs_shape[2:], strides)]
    bgc = operator.index(batch_group_count)
    if lhs_shape[0] % bgc:
        raise ValueError(f"conv_shape_tuple: batch_group_count={bgc} must divide the batch "
                         f"size {lhs_shape[0]}.")
    return (lhs_shape[0] // bgc, rhs_shape[0]) + tuple(space)


def conv_general_permutations(dimension_numbers):
    """The axis permutations ``(lhs_perm, rhs_perm, out_perm)`` that bring operands and
    result of the layouts ``dimension_numbers`` (three strings such as ``('NHWC', 'HWIO',
    'NHWC')``) to (N, C, spatial...) / (O, I, spatial...), the spatial axes in the kernel
    spec's order (``jax.lax.conv_general_permutations``)."""
    if not (isinstance(dimension_numbers, (tuple, list)) and len(dimension_numbers) == 3
            and all(isinstance(s, str) for s in dimension_numbers)):
        raise TypeError(f"conv_general_permutations: dimension_numbers must be three strings; "
                        f"got {dimension_numbers!r}.")
    n = len(dimension_numbers[0])
    dn = conv_dimension_numbers((1,) * n, (1,) * n, tuple(dimension_numbers))
    return tuple(dn.lhs_spec), tuple(dn.rhs_spec), tuple(dn.out_spec)


def _permuted(shape, perm):
    return [operator.index(shape[i]) for i in perm]


def _unpermuted(values, perm):
    out = [0] * len(perm)
    for j, a in enumerate(perm):
        out[a] = values[j]
    return tuple(out)


def conv_general_shape_tuple(lhs_shape, rhs_shape, window_strides, padding, dimension_numbers):
    """The output shape of ``conv_general_dilated`` (no dilation) with string
    ``dimension_numbers``, in the output's layout (``jax.lax.conv_general_shape_tuple``)."""
    lp, rp, op = conv_general_permutations(dimension_numbers)
    out = conv_shape_tuple(_permuted(lhs_shape, lp), _permuted(rhs_shape, rp),
                           window_strides, padding)
    return _unpermuted(out, op)


def conv_transpose_shape_tuple(lhs_shape, rhs_shape, window_strides, padding,
                               dimension_numbers):
    """The output shape of ``conv_transpose`` with string ``dimension_numbers``, in the
    output's layout (``jax.lax.conv_transpose_shape_tuple``): padding 'SAME', 'VALID' or
    ``(low, high)`` pairs of the dilated input."""
    lp, rp, op = conv_general_permutations(dimension_numbers)
    ls, rs = _permuted(lhs_shape, lp), _permuted(rhs_shape, rp)
    strides = [operator.index(s) for s in window_strides]
    if isinstance(padding, str):
        if padding not in ("SAME", "VALID"):
            raise ValueError(f"conv_transpose_shape_tuple: padding must be 'SAME', 'VALID' "
                             f"or pairs; got {padding!r}.")
        padding = [_transpose_pad(k, s, padding) for k, s in zip(rs[2:], strides)]
    totals = [operator.index(lo) + operator.index(hi) for lo, hi in padding]
    space = [(i - 1) * s - k + 2 + t for i, k, s, t in zip(ls[2:], rs[2:], strides, totals)]
    return _unpermuted([ls[0], rs[0]] + space, op)


def reduce_window_shape_tuple(operand_shape, window_dimensions, window_strides, padding,
                              base_dilation=None, window_dilation=None):
    """The output shape of ``reduce_window`` with explicit ``(low, high)`` ``padding``
    (``jax.lax.reduce_window_shape_tuple``): per axis, the dilated operand padded, and the
    number of strides of the dilated window that fit in it."""
    shape = [operator.index(d) for d in operand_shape]
    wins = [operator.index(k) for k in window_dimensions]
    if base_dilation is not None:
        shape = [(d - 1) * operator.index(r) + 1 if d else 0
                 for d, r in zip(shape, base_dilation)]
    if window_dilation is not None:
        wins = [(k - 1) * operator.index(r) + 1 if k else 0
                for k, r in zip(wins, window_dilation)]
    return tuple(_strided_size(d + operator.index(lo) + operator.index(hi), k,
                               operator.index(s))
                 for d, k, s, (lo, hi) in zip(shape, wins, window_strides, padding))


def _reduce_window_general(operand, init_value, computation, window_dimensions, window_strides,
                           padding, base_dilation, window_dilation, caller):
    from .tree import tree_flatten, tree_unflatten
    what = "reduce_window"
    if not callable(computation):
        raise TypeError(f"{what}: computation must be a function; got {computation!r}.")
    computation = with_constant_arguments(computation, caller)
    leaves, tree = tree_flatten(operand)
    inits, itree = tree_flatten(init_value)
    if itree != tree or not leaves:
        raise ValueError(f"{what}: operand and init_value must have one tree structure, with "
                         f"at least one array; got {tree} and {itree}.")
    xs = [fnp.asarray(x) for x in leaves]
    shape = tuple(xs[0].shape)
    if any(tuple(x.shape) != shape for x in xs):
        raise TypeError(f"{what}: the operands must have one shape; got "
                        f"{[tuple(x.shape) for x in xs]}.")
    bad = [tuple(getattr(i, "shape", ())) for i in inits if getattr(i, "shape", ()) != ()]
    if bad:
        raise TypeError(f"{what}: init_value must be scalars; got shapes {bad}.")
    nd = len(shape)
    windows = _ints(window_dimensions, nd, what, "window_dimensions")
    strides = _ints(window_strides, nd, what, "window_strides")
    bdil = _ints(base_dilation, nd, what, "base_dilation")
    wdil = _ints(window_dilation, nd, what, "window_dilation")
    # (no identity known for a general computation: an infinite float init_value for an
    # integer operand is refused, as JAX refuses any float there)
    inits = [_init_for(i, fnp.result_type(x), None, what) for i, x in zip(inits, xs)]
    inits = [fnp.astype(fnp.asarray(i, device=fnp.device(x)), fnp.result_type(x))
             for i, x in zip(inits, xs)]
    eff = tuple((k - 1) * r + 1 for k, r in zip(windows, wdil))
    pads = _padding(padding, shape, eff, strides, what)
    empty = _cropped_away(shape, bdil, pads, eff, strides)
    if empty is not None:
        return tree_unflatten(tree, [fnp.zeros(empty, dtype=fnp.result_type(x),
                                               device=fnp.device(x)) for x in xs])
    axes = tuple(range(nd))
    # (padding and holes take no part, as in XLA: a mask of the real elements goes along;
    # they hold init_value, a harmless value for the computation)
    cols = [_window_slices(_dilate_pad(x, axes, bdil, pads, i, what), axes, windows, wdil,
                           strides, what) for x, i in zip(xs, inits)]
    ones = fnp.ones(shape, dtype=fnp.bool, device=fnp.device(xs[0]))
    masks, outs = _window_slices(_dilate_pad(ones, axes, bdil, pads, False, what), axes,
                                 windows, wdil, strides, what)
    if math.prod(outs) == 0:
        return tree_unflatten(tree, [fnp.zeros(tuple(outs), dtype=fnp.result_type(x),
                                               device=fnp.device(x)) for x in xs])

    def call(a, b):
        out = computation(tree_unflatten(tree, a), tree_unflatten(tree, b))
        got, otree = tree_flatten(out)
        if otree != tree:
            raise ValueError(f"{what}: computation must return the tree structure of the "
                             f"operands ({tree}); got {otree}.")
        return got

    def merge(p, q):  # (values, whether real) of two window positions
        (a, ma), (b, mb) = p, q
        both = call(a, b)
        return ([fnp.where(fnp.logical_and(ma, mb), v, fnp.where(ma, x, y))
                 for v, x, y in zip(both, a, b)], fnp.logical_or(ma, mb))

    # the window positions folded by halving
    level = [(list(t), mk) for t, mk in zip(zip(*(c[0] for c in cols)), masks)]
    while len(level) > 1:
        nxt = [merge(level[k], level[k + 1]) for k in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    vals, real = level[0]
    init = [fnp.broadcast_to(i, tuple(outs)) for i in inits]
    out = call(vals, init)
    return tree_unflatten(tree, [fnp.where(real, o, i) for o, i in zip(out, init)])
