"""NumPy's order of complex numbers, written on the Array API standard alone.

The standard's ordering functions (``sort``, ``argsort``, ``max``, ``argmax``,
``searchsorted``) are for real dtypes only: array-api-strict refuses complex arrays, torch has
no complex kernels for them, and a library made into a backend from its namespace need not
have them. The primitives that order values use these functions where the backend's
``orders_complex`` is false, so that every backend orders complex numbers as NumPy does:
lexicographically (the real part, then the imaginary part), with the values that have a NaN
last when sorted, in NumPy's order ``R + Rj < R + nanj < nan + Rj < nan + nanj`` (each group
ordered by its non-NaN part), and an extreme (``max``, ``argmax``) taking the first value with
a NaN in either part.

Each function takes the namespace ``xp`` and runs on its inputs' device.
"""

from __future__ import annotations

import math


def _keys(xp, x):
    """Real arrays, most significant first, whose lexicographic order is NumPy's order of
    the complex ``x`` (NaNs replaced by 0 in the parts: the first key already sorts them)."""
    re, im = xp.real(x), xp.imag(x)
    nan_re, nan_im = xp.isnan(re), xp.isnan(im)
    group = xp.astype(nan_re, xp.int8) * 2 + xp.astype(nan_im, xp.int8)
    zero = xp.zeros_like(re)
    return group, xp.where(nan_re, zero, re), xp.where(nan_im, zero, im)


def argsort(xp, x, axis, descending=False):
    """The stable sorting permutation of the complex ``x`` along ``axis`` (int64): one
    stable sort per key, the least significant first."""
    order = None
    for key in reversed(_keys(xp, x)):
        if order is not None:
            key = xp.take_along_axis(key, order, axis=axis)
        step = xp.argsort(key, axis=axis, descending=descending, stable=True)
        order = step if order is None else xp.take_along_axis(order, step, axis=axis)
    return xp.astype(order, xp.int64)


def sort(xp, x, axis, descending=False):
    return xp.take_along_axis(x, argsort(xp, x, axis, descending), axis=axis)


def argextreme(xp, x, axis, largest):
    """NumPy's ``argmax`` (``largest``) or ``argmin`` of the complex ``x`` along ``axis``
    (None: of the flattened array): the first position of the extreme, or of the first
    value with a NaN in either part where the slice has one."""
    if axis is None:
        x, axis = xp.reshape(x, (-1,)), 0
    pick = xp.max if largest else xp.min
    worst = -math.inf if largest else math.inf
    nan = xp.isnan(x)
    zero = xp.zeros_like(xp.real(x))
    re = xp.where(nan, zero, xp.real(x))
    on = re == pick(re, axis=axis, keepdims=True)
    im = xp.where(on, xp.imag(x), xp.full_like(zero, worst))
    wins = on & (im == pick(im, axis=axis, keepdims=True))
    hit = xp.where(xp.any(nan, axis=axis, keepdims=True), nan, wins)
    return xp.astype(xp.argmax(xp.astype(hit, xp.int8), axis=axis), xp.int64)


def extreme(xp, x, axes, keepdims, largest):
    """NumPy's ``max`` (``largest``) or ``min`` of the complex ``x`` over ``axes`` (a tuple of
    non-negative ints): the element ``argextreme`` finds, the axes merged into one."""
    shape = tuple(x.shape)
    kept = tuple(i for i in range(len(shape)) if i not in axes)
    n = math.prod(shape[i] for i in axes)
    kept_shape = tuple(shape[i] for i in kept)
    flat = xp.reshape(xp.permute_dims(x, kept + tuple(axes)), kept_shape + (n,))
    at = xp.reshape(argextreme(xp, flat, len(kept), largest), kept_shape + (1,))
    out = xp.reshape(xp.take_along_axis(flat, at, axis=len(kept)), kept_shape)
    if keepdims:
        out = xp.reshape(out, tuple(1 if i in axes else d for i, d in enumerate(shape)))
    return out


def searchsorted(xp, sorted_values, values, side):
    """NumPy's ``searchsorted`` of the complex ``values`` (any shape) in the sorted 1-d
    complex ``sorted_values`` (int64): both sorted together, each value placed before
    (``side='left'``) or after (``'right'``) the sorted values equal to it, its index the
    number of sorted values that precede it."""
    n = sorted_values.shape[0]
    shape = tuple(values.shape)
    flat = xp.reshape(values, (-1,))
    m = flat.shape[0]
    device = sorted_values.device
    if m == 0 or n == 0:
        return xp.zeros(shape, dtype=xp.int64, device=device)
    left = side == "left"
    both = xp.concat([flat, sorted_values] if left else [sorted_values, flat])
    order = argsort(xp, both, 0)
    is_value = (order < m) if left else (order >= n)
    # at each place of the merged order: how many of the sorted values come before it
    before = xp.arange(n + m, dtype=xp.int64, device=device) - (
        xp.cumulative_sum(xp.astype(is_value, xp.int64)) - 1)
    place = xp.argsort(order, stable=True)  # where each of ``both`` went
    mine = place[:m] if left else place[n:]
    return xp.reshape(xp.take(before, mine), shape)
