"""Extras written once on top of the Array API standard.

A backend whose library has no faster version of an extra gets these (``Backend.extra``
binds the backend as the first argument). They use only functions of the standard, so they
run on array-api-strict, on any third-party backend, and on the device of their inputs.

- ``scatter_add``: sort the indices, sum each run of equal indices with a segmented scan
  (``log2(k)`` vectorised rounds of shifted adds, so sums never mix two indices and no large
  prefix sum is subtracted), then place each run's sum with ``searchsorted`` + ``take``.
  O(k log k) work and O(n + k) memory for ``k`` indices into an axis of length ``n``.
- ``erf``, ``erfc``: a positive-term series for ``|x| < 1.5`` and the continued fraction of
  ``erfc`` beyond it; ``lgamma``: Lanczos' approximation (g = 7, 9 terms) with the reflection
  formula below 1/2; ``digamma``: recurrence up to 10 and the asymptotic series, reflection
  below 1/2. In float64 each is accurate to about 1e-14 (relative, or absolute near a zero
  of the function; less close to the poles of lgamma and digamma); the tests compare them
  with SciPy.
"""

from __future__ import annotations

import math


def _norm_axis(axis, ndim):
    if not -ndim <= axis < ndim:
        raise ValueError(f"scatter_add: axis {axis} is out of range for an array of {ndim} "
                         f"dimensions")
    return axis % ndim


def flat_index(xp, shape, index, axis):
    """Reduce a ``scatter_add`` index to one axis: returns ``(axis, flat, merged_shape)``
    where ``flat`` is a 1-D int64 array of non-negative positions along ``axis`` of
    ``x`` reshaped to ``merged_shape`` (the indexed axes merged into one), and the values
    reshape to ``merged_shape[:axis] + (flat.shape[0],) + merged_shape[axis + 1:]``."""
    parts = tuple(index) if isinstance(index, (tuple, list)) else (index,)
    k = len(parts)
    axis = _norm_axis(axis, len(shape))
    if axis + k > len(shape):
        raise ValueError(f"scatter_add: {k} index arrays from axis {axis} for an array of "
                         f"shape {shape}")
    dims = shape[axis:axis + k]
    flat = None
    for i, n in zip(parts, dims):
        i = xp.astype(xp.reshape(i, (-1,)), xp.int64)
        i = xp.where(i < 0, i + n, i)
        flat = i if flat is None else flat * n + i
    merged = shape[:axis] + (math.prod(dims),) + shape[axis + k:]
    return axis, flat, merged


def scatter_add(backend, x, index, values, /, *, axis=0):
    """See :data:`functrans.backends.EXTRAS` for the contract."""
    xp = backend.xp
    shape = tuple(x.shape)
    axis, idx, merged = flat_index(xp, shape, index, axis)
    n = merged[axis]
    pre, post = merged[:axis], merged[axis + 1:]
    k = idx.shape[0]
    m = math.prod(pre) * math.prod(post)
    if k == 0 or m == 0:
        return xp.asarray(x, copy=True)
    dev = backend.device(x)
    # values -> (k, m) with the scattered axis first.
    v = xp.reshape(values, pre + (k,) + post)
    perm = (axis,) + tuple(i for i in range(len(merged)) if i != axis)
    v = xp.reshape(xp.permute_dims(v, perm), (k, m))
    order = xp.argsort(idx, stable=True)
    sidx = xp.take(idx, order)
    v = xp.take(v, order, axis=0)
    # Segmented inclusive scan: afterwards row i holds the sum of the rows of its run of
    # equal indices up to i; the last row of each run holds the run's sum.
    d = 1
    while d < k:
        same = xp.reshape(sidx[d:] == sidx[:-d], (k - d, 1))
        head = v[:-d, ...]
        v = xp.concat([v[:d, ...], v[d:, ...] + xp.where(same, head, xp.zeros_like(head))],
                      axis=0)
        d *= 2
    pos = xp.arange(n, dtype=xp.int64, device=dev)
    lo = xp.searchsorted(sidx, pos, side="left")
    hi = xp.searchsorted(sidx, pos, side="right")
    last = xp.where(hi > 0, hi - 1, xp.zeros_like(hi))
    total = xp.take(v, last, axis=0)  # (n, m)
    total = xp.where(xp.reshape(hi > lo, (n, 1)), total, xp.zeros_like(total))
    total = xp.reshape(total, (n,) + pre + post)
    inv = [0] * len(merged)
    for i, p in enumerate(perm):
        inv[p] = i
    return x + xp.reshape(xp.permute_dims(total, tuple(inv)), shape)


# -- special functions -------------------------------------------------------------------------

_SQRT_PI = math.sqrt(math.pi)
_ERF_SPLIT = 1.5
_ERF_SERIES_TERMS = 40
_ERFC_CF_TERMS = 100


def _erf_series(xp, x):
    """erf(x) = 2/sqrt(pi) exp(-x^2) sum_n 2^n x^(2n+1) / (2n+1)!!  (all terms positive
    for x > 0, so no cancellation); used for |x| < 1.5."""
    x2 = x * x
    term = x
    total = x
    for n in range(_ERF_SERIES_TERMS):
        term = term * (2.0 * x2 / (2 * n + 3))
        total = total + term
    return total * (2.0 / _SQRT_PI) * xp.exp(-x2)


def _erfc_cf(xp, x):
    """erfc(x) for x >= 1.5 by its continued fraction, evaluated from the tail:
    erfc(x) = exp(-x^2) / sqrt(pi) / (x + (1/2) / (x + 1 / (x + (3/2) / (x + ...))))."""
    f = x
    for k in range(_ERFC_CF_TERMS, 0, -1):
        f = x + (k / 2.0) / f
    return xp.exp(-x * x) / (_SQRT_PI * f)


def _erf_parts(backend, x):
    xp = backend.xp
    ax = xp.abs(x)
    small = ax < _ERF_SPLIT
    xs = xp.where(small, x, xp.zeros_like(x))  # keeps each branch finite
    xl = xp.where(small, xp.full_like(x, _ERF_SPLIT), ax)
    return xp, small, _erf_series(xp, xs), _erfc_cf(xp, xl)


def erf(backend, x, /):
    xp, small, series, tail = _erf_parts(backend, x)
    big = 1.0 - tail
    return xp.where(small, series, xp.where(x < 0, -big, big))


def erfc(backend, x, /):
    xp, small, series, tail = _erf_parts(backend, x)
    return xp.where(small, 1.0 - series, xp.where(x < 0, 2.0 - tail, tail))


_LANCZOS_G = 7.0
_LANCZOS = (0.99999999999980993, 676.5203681218851, -1259.1392167224028,
            771.32342877765313, -176.61502916214059, 12.507343278686905,
            -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7)
_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def _lgamma_right(xp, x):
    """log Gamma(x) for x >= 1/2 (Lanczos)."""
    z = x - 1.0
    a = xp.full_like(x, _LANCZOS[0])
    for i, c in enumerate(_LANCZOS[1:], start=1):
        a = a + c / (z + float(i))
    t = z + (_LANCZOS_G + 0.5)
    return _HALF_LOG_2PI + (z + 0.5) * xp.log(t) - t + xp.log(a)


def lgamma(backend, x, /):
    xp = backend.xp
    left = x < 0.5
    xr = xp.where(left, 1.0 - x, x)  # >= 1/2 everywhere
    right = _lgamma_right(xp, xr)
    # Reflection: log|Gamma(x)| = log(pi / |sin(pi x)|) - log Gamma(1 - x).
    s = xp.abs(xp.sin(math.pi * xp.where(left, x, xp.full_like(x, 0.5))))
    return xp.where(left, math.log(math.pi) - xp.log(s) - right, right)


# Bernoulli terms B_2k / (2k) of the asymptotic series of digamma, k = 1..7.
_DIGAMMA_ASYMPTOTIC = (1 / 12, -1 / 120, 1 / 252, -1 / 240, 1 / 132, -691 / 32760, 1 / 12)


def _digamma_right(xp, x):
    """psi(x) for x >= 1/2: shift to y >= 10 with psi(x) = psi(x + 1) - 1/x, then
    psi(y) = log y - 1/(2y) - sum_k B_2k / (2k y^2k)."""
    acc = xp.zeros_like(x)
    y = x
    for _ in range(10):
        low = y < 10.0
        acc = acc + xp.where(low, 1.0 / y, xp.zeros_like(y))
        y = xp.where(low, y + 1.0, y)
    inv2 = 1.0 / (y * y)
    series = xp.zeros_like(y)
    for c in reversed(_DIGAMMA_ASYMPTOTIC):
        series = (series + c) * inv2
    return xp.log(y) - 0.5 / y - series - acc


def digamma(backend, x, /):
    xp = backend.xp
    left = x < 0.5
    right = _digamma_right(xp, xp.where(left, 1.0 - x, x))
    # Reflection: psi(x) = psi(1 - x) - pi / tan(pi x).
    xl = xp.where(left, x, xp.full_like(x, 0.25))
    refl = right - math.pi / xp.tan(math.pi * xl)
    return xp.where(left, refl, right)


GENERIC = {
    "scatter_add": scatter_add,
    "erf": erf,
    "erfc": erfc,
    "lgamma": lgamma,
    "digamma": digamma,
}
