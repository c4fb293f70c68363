"""NumPy's histograms and binning: ``histogram``, ``histogram_bin_edges``, ``histogram2d``,
``histogramdd``, ``bincount`` and ``digitize``, with NumPy's semantics, built on the
namespace's functions (``searchsorted`` to find the bins, a scatter-add to count).

Counts carry no derivative; weighted histograms and densities are differentiable in the
weights (and densities in array ``bins``). Bin edges made from ``range`` or from the data's
minimum and maximum have a static number, so they work under every transform; the checks
NumPy makes on values (a finite range, increasing bins) are made where the values are
concrete, and not under ``jit``. ``bincount``'s length depends on ``max(x)``, and the
number of bins NumPy's estimators choose (``bins='auto'`` ...) on the data: both need
concrete values.
"""

from __future__ import annotations

import builtins
import math
import operator

from .. import dtypes as _dt
from ..core import Tracer
from ..primitives import indexing as _ix
from ..primitives import structural as _st
from ._base import (_SCALARS, _as_operand, _dtype, _numpy_scalars_moved, _shape, add, astype,
                    concat, divide, equal, greater, greater_equal, less, less_equal, max, min,
                    multiply, not_equal, reshape, subtract, where)
from ._elementwise import isnan, logical_and, logical_not, logical_or
from ._searching import _check_size, searchsorted
from ._statistics import all, any, diff, sum

__all__ = ["histogram", "histogram_bin_edges", "histogram2d", "histogramdd", "bincount",
           "digitize"]


def _concrete(x):
    return not isinstance(x, Tracer)


def _operand(x, like=None):
    """A Python scalar or (nested) list as an array (next to ``like`` when given); arrays
    and tracers as they are."""
    if isinstance(x, (list, tuple)) or type(x) in _SCALARS:
        from ._reshaping import _conv
        return _conv(x, like)
    return _as_operand(x)


def _array_among(*vals):
    """The first array or tracer among ``vals`` (Python data is made next to it)."""
    return next((v for v in vals if v is not None and type(v) not in _SCALARS
                 and not isinstance(v, (list, tuple, str))), None)


def _flat(a):
    return _st.reshape(a, (math.prod(_shape(a)),))


def _at(v, i):
    return _st.reshape(_st.slice_(v, ((i, i + 1, 1),)), ())


def _value(v):
    """A Python number for a scalar given as a number or a concrete 0-d array; a 0-d
    array or tracer otherwise."""
    if type(v) in _SCALARS:
        return v
    v = _as_operand(v)
    if _concrete(v) and not _shape(v):
        return builtins.float(v) if _dtype(v).kind == "f" else v
    return reshape(v, ())


def _float_dtype(*dts):
    d = _dt.result_type(*dts)
    return d if d.kind in "fc" else _dt.float64


def _outer_edges(name, a, range_):
    """The first and last edge: ``range_`` or the data's minimum and maximum (widened by 0.5
    on each side where they are equal), checked to be finite where they are concrete."""
    if range_ is not None:
        if len(range_) != 2:
            raise ValueError(f"{name}: range must be a pair (min, max)")
        first, last = _value(range_[0]), _value(range_[1])
        if type(first) in _SCALARS and type(last) in _SCALARS:
            if first > last:
                raise ValueError(f"{name}: max must be larger than min in range parameter.")
            if not (math.isfinite(first) and math.isfinite(last)):
                raise ValueError(f"{name}: supplied range of [{first}, {last}] is not finite")
    elif math.prod(_shape(a)) == 0:
        first, last = 0.0, 1.0
    else:
        first, last = min(a), max(a)
        if _concrete(first) and _concrete(last):
            f, g = builtins.float(first), builtins.float(last)
            if not (math.isfinite(f) and math.isfinite(g)):
                raise ValueError(f"{name}: autodetected range of [{f}, {g}] is not finite")
    if type(first) in _SCALARS and type(last) in _SCALARS:
        if first == last:
            first, last = first - 0.5, last + 0.5
        return first, last
    same = equal(first, last)
    return (where(same, subtract(first, 0.5), first), where(same, add(last, 0.5), last))


def _linspace_ends(first, last, like):
    """The endpoints of :func:`_linspace` as 0-d arrays of the dtype it computes in."""
    if type(first) in _SCALARS and type(last) in _SCALARS:
        one = _st.reshape(_st.iota(like, 1, _dt.float64), ())
        return (_st.full_like(one, first, dtype=_dt.float64),
                _st.full_like(one, last, dtype=_dt.float64))
    arr = first if type(first) not in _SCALARS else last
    cd = _float_dtype(_dtype(arr))
    first_a = astype(first, cd) if type(first) not in _SCALARS else \
        _st.full_like(astype(last, cd), first)
    last_a = astype(last, cd) if type(last) not in _SCALARS else \
        _st.full_like(first_a, last)
    return first_a, last_a


def _linspace(first, last, num, dtype, like):
    """``num`` evenly spaced values from ``first`` to ``last`` (each a Python number or a 0-d
    array) as NumPy's ``linspace`` computes them (``i * step + first``, the last one
    ``last`` exactly), on ``like``'s backend and device: computed in float64 from Python
    numbers, else in the endpoints' floating dtype, and cast to ``dtype``."""
    div = num - 1
    first_a, last_a = _linspace_ends(first, last, like)
    if div < 1:  # a single value: ``first``, as NumPy's linspace gives
        y = _st.reshape(first_a, (1,))
    else:
        step = divide(subtract(last_a, first_a), float(div))
        i = _st.iota(first_a, num, _dtype(first_a))
        y = add(multiply(i, step), first_a)
        y = concat([_st.slice_(y, ((0, div, 1),)), _st.reshape(last_a, (1,))])
    return y if _dtype(y) is dtype else astype(y, dtype)


def _edges(name, a, bins, range_, like_dtype, weights=None):
    """The bin edges (a 1-d array) for the flattened ``a``, and whether they are uniform."""
    if isinstance(bins, str):
        if weights is not None:
            raise TypeError(f"{name}: Automated estimation of the number of bins is not "
                            f"supported for weighted data")
        bins, first, last = _estimated_bins(name, a, bins, range_)
        dts = [] if like_dtype is None else [like_dtype]
        dts += [_dtype(v) for v in (first, last) if type(v) not in _SCALARS]
        return _checked_edges(name, _linspace(first, last, bins + 1,
                                              _float_dtype(*dts) if dts else _dt.float64, a))
    bins = _scalar_bins(bins, name)
    if type(bins) in _SCALARS:
        if type(bins) is float or type(bins) is bool:
            raise TypeError(f"{name}: bins must be an integer, a string, or an array")
        n = operator.index(bins)
        if n < 1:
            raise ValueError(f"{name}: `bins` must be positive, when an integer")
        first, last = _outer_edges(name, a, range_)
        dts = [] if like_dtype is None else [like_dtype]
        for v in (first, last):
            if type(v) not in _SCALARS:
                dts.append(_dtype(v))
        dtype = _float_dtype(*dts) if dts else _dt.float64
        return _checked_edges(name, _linspace(first, last, n + 1, dtype, a))
    edges = _operand(bins, a)
    if len(_shape(edges)) != 1:
        raise ValueError(f"{name}: `bins` must be 1d, when an array")
    if _concrete(edges) and _shape(edges)[0] > 1 and builtins.bool(
            any(greater(_st.slice_(edges, ((0, _shape(edges)[0] - 1, 1),)),
                        _st.slice_(edges, ((1, _shape(edges)[0], 1),))))):
        raise ValueError(f"{name}: `bins` must increase monotonically, when an array")
    return edges


def _checked_edges(name, edges):
    """``edges``, checked (where concrete) to be strictly increasing: too many bins for a
    narrow range give repeated edges, an error in NumPy."""
    m = _shape(edges)[0]
    if _concrete(edges) and m > 1 and builtins.bool(
            any(greater_equal(_st.slice_(edges, ((0, m - 1, 1),)),
                              _st.slice_(edges, ((1, m, 1),))))):
        raise ValueError(f"{name}: Too many bins for data range. Cannot create {m - 1} "
                         f"finite-sized bins.")
    return edges


def _numpy_at_least(version):
    import numpy as _np
    return tuple(int(v) for v in _np.__version__.split(".")[:2]) >= version


# NumPy 2.3 bounds 'auto''s FD width below by half the 'sqrt' width (numpy/numpy#28426)
_AUTO_LIMITED = _numpy_at_least((2, 3))

_ESTIMATORS = ("auto", "fd", "doane", "scott", "stone", "rice", "sturges", "sqrt")


def _host(v):
    """A concrete 0-d value as a host scalar of its dtype (a NumPy scalar: the estimators'
    scalar arithmetic then rounds as NumPy's does, float32 data in float32)."""
    if type(v) in _SCALARS:
        return v
    import numpy as _np
    d = _dtype(v)
    if d.kind in "iub":
        return builtins.int(v)
    return _np.dtype(d.name).type(builtins.float(v))


def _estimated_bins(name, a, method, range_):
    """NumPy's automatic number of bins for the flattened ``a`` (its estimators of the bin
    width, from the data's values: they must be concrete), and the outer edges."""
    if method not in _ESTIMATORS:
        raise ValueError(f"{name}: {method!r} is not a valid estimator for `bins`")
    if _dtype(a).kind == "b":  # NumPy converts booleans to uint8 ("subtractable")
        a = astype(a, _dt.uint8)
    first, last = _outer_edges(name, a, range_)
    x = a
    if range_ is not None:
        keep = logical_and(greater_equal(x, first), less_equal(x, last))
        if not builtins.bool(all(keep)):
            from ._indexing import take
            from ._searching import nonzero
            x = take(x, nonzero(keep)[0])
    n = _shape(x)[0]
    if n == 0:
        return 1, first, last
    width = _width(method, x, n, (first, last))
    if not width:
        return 1, first, last
    if _dtype(a).kind in "iu" and width < 1:
        width = 1
    return builtins.int(math.ceil((_host(last) - _host(first)) / width)), first, last


def _width(method, x, n, outer):
    """NumPy's bin-width estimators (a Python float; 0 where the data give none)."""
    import numpy as _np  # (host scalars only: NumPy's float64 results of sqrt and log2)
    from ._base import mean
    from ._statistics import std
    sqrt_n, log2_n = _np.float64(math.sqrt(n)), _np.float64(math.log2(n))
    # the range as NumPy's ``_ptp`` takes it: exact for integers (no wrap-around in the
    # data's dtype: int8 values -100 and 100 are 200 apart), in the dtype for floats
    ptp = _host(max(x)) - _host(min(x))
    if method == "sqrt":
        return ptp / sqrt_n
    if method == "sturges":
        return ptp / (log2_n + 1.0)
    if method == "rice":
        return ptp / (2.0 * n ** (1.0 / 3))
    if method == "scott":
        return (24.0 * math.pi ** 0.5 / n) ** (1.0 / 3.0) * _host(std(x))
    if method == "fd" or method == "auto":
        from ._mathematics import percentile
        q = percentile(x, [75, 25])
        fd = 2.0 * _host(subtract(_at(q, 0), _at(q, 1))) * n ** (-1.0 / 3.0)
        if method == "fd":
            return fd
        st = _width("sturges", x, n, outer)
        if _AUTO_LIMITED:  # NumPy >= 2.3 (numpy#28426): at most about 2 * sqrt(n) bins
            return builtins.min(builtins.max(fd, _width("sqrt", x, n, outer) / 2), st)
        return builtins.min(fd, st) if fd else st
    if method == "doane":
        if n > 2:
            sg1 = math.sqrt(6.0 * (n - 2) / ((n + 1.0) * (n + 3)))
            sigma = std(x)
            if _host(sigma) > 0.0:
                t = divide(subtract(x, mean(x)), sigma)
                g1 = _host(mean(multiply(multiply(t, t), t)))
                return ptp / (1.0 + log2_n + _np.log2(1.0 + builtins.abs(g1) / sg1))
        return 0.0
    # stone: the number of bins (up to max(100, sqrt(n))) minimising an estimate of the
    # integrated squared error
    if n <= 1 or ptp == 0:
        return 0
    upper = builtins.max(100, builtins.int(sqrt_n))
    squares = _stone_squares(x, n, upper, outer)
    best, best_j = None, None
    for k in builtins.range(1, upper + 1):
        j = (2 - (n + 1) * squares[k - 1]) / (ptp / k)
        if best_j is None or j < best_j:
            best, best_j = k, j
    if best == upper:
        import warnings
        warnings.warn("The number of bins estimated may be suboptimal.", RuntimeWarning,
                      stacklevel=4)
    return ptp / best


def _stone_squares(x, n, upper, outer):
    """For k = 1..upper, ``sum(p * p)`` where ``p = histogram(x, k, range=outer)[0] / n``
    (a host float64 array): all the histograms at once, from the sorted data and a
    (upper, upper + 1) table of their edges (row k - 1: the k + 1 edges :func:`_linspace`
    gives, then ``last`` repeated), so a few array operations of fixed shapes replace
    ``upper`` histograms of as many shapes (each a new compilation on a library that
    compiles per shape, such as JAX). ``x`` lies within ``outer``."""
    import numpy as _np
    from ..backends import backend_of
    from ._searching import sort
    if isinstance(x, Tracer):  # (the estimators need the values: an eager tracer's)
        x = x._concrete("histogram's bin estimator 'stone'")
    outer = tuple(v._concrete("histogram's range") if isinstance(v, Tracer) else v
                  for v in outer)
    first, last = _outer_edges("histogram", x, outer)
    dts = [_dtype(x)] + [_dtype(v) for v in (first, last) if type(v) not in _SCALARS]
    first_a, last_a = _linspace_ends(first, last, x)
    cd = _dtype(first_a)
    k = reshape(add(_st.iota(first_a, upper, cd), 1.0), (upper, 1))  # bins of each row
    i = reshape(_st.iota(first_a, upper + 1, cd), (1, upper + 1))
    edges = add(multiply(i, divide(subtract(last_a, first_a), k)), first_a)
    tail = greater_equal(i, k)  # the last edge of each row, and the padding after it
    edges = where(tail, last_a, edges)
    edges = astype(edges, _float_dtype(*dts))
    # NumPy refuses repeated edges ("Too many bins"): the first k that has them raises here
    # as its histogram would have
    bad = any(logical_and(greater_equal(edges[:, :-1], edges[:, 1:]),
                          logical_not(tail[:, 1:])), axis=1)
    bad = _np.asarray(backend_of(bad).to_numpy(bad))
    if bad.any():
        raise ValueError(f"histogram: Too many bins for data range. Cannot create "
                         f"{builtins.int(_np.argmax(bad)) + 1} finite-sized bins.")
    # values below each edge; at the last edge (the last bin is closed) the values up to it
    xs = sort(x)
    below = where(tail, searchsorted(xs, edges, side="right"),
                  searchsorted(xs, edges, side="left"))
    p = divide(subtract(below[:, 1:], below[:, :-1]), float(n))
    squares = sum(multiply(p, p), axis=1)
    return _np.asarray(backend_of(squares).to_numpy(squares), dtype=_np.float64)


def _scalar_bins(bins, name="histogram"):
    """A number of bins given as a NumPy integer or a concrete 0-d integer array, as a
    Python int (other values as they are)."""
    if (not isinstance(bins, (list, tuple, str, Tracer)) and type(bins) not in _SCALARS
            and hasattr(bins, "shape") and tuple(bins.shape) == ()):
        if _dtype(_as_operand(bins)).kind not in "iu":
            raise TypeError(f"{name}: bins must be an integer, a string, or an array")
        return builtins.int(bins)
    return bins


def _bin_index(x, edges):
    """For each value of the 1-d ``x``, the index of its bin among ``edges`` (the last bin
    closed on the right) and whether it falls inside them."""
    m = _shape(edges)[0]
    last = _at(edges, m - 1)
    inside = logical_and(greater_equal(x, _at(edges, 0)), less_equal(x, last))
    idx = subtract(searchsorted(edges, x, side="right"), 1)
    idx = where(equal(x, last), m - 2, idx)
    idx = where(inside, idx, 0)
    return idx, inside


def _counts(idx, inside, weights, n, dtype):
    """The sum of ``weights`` (ones where None) of each bin ``0..n-1``, over the values
    ``inside``."""
    if weights is None:
        w = astype(inside, dtype)
    else:
        w = where(inside, weights, _st.zeros_like(weights))
        if _dtype(w).kind == "f" and _dtype(w) is not _dt.float64:
            # summed in float64 and rounded once, as NumPy's bincount does
            out = _ix.scatter_add(astype(w, _dt.float64), (astype(idx, _dt.int64),), (n,))
            return astype(out, _dtype(w))
    return _ix.scatter_add(w, (astype(idx, _dt.int64),), (n,))


def _weights(name, weights, a):
    w = _operand(weights, a)
    if _shape(w) != _shape(a):
        raise ValueError(f"{name}: weights should have the same shape as a.")
    return _flat(w)


def histogram_bin_edges(a, bins=10, range=None, weights=None):
    """The bin edges :func:`histogram` uses: ``bins + 1`` evenly spaced values over
    ``range`` (by default the data's minimum to maximum, widened by 0.5 each way when they
    are equal) for an integer ``bins``, or ``bins`` itself when it is an array (which must
    increase). A string names one of NumPy's estimators of the bin width ('auto', 'fd',
    'doane', 'scott', 'stone', 'rice', 'sturges', 'sqrt'; not with ``weights``): the
    number of bins then depends on the values, which must be concrete (under ``jit`` a
    ConcretizationError). The edges' dtype is the floating dtype of ``a`` and ``range``
    (float64 for integers). Edges made from the data are differentiable in it (through its
    minimum and maximum)."""
    a = _operand(a, _array_among(weights, bins))
    w = _weights("histogram_bin_edges", weights, a) if weights is not None else None
    return _edges("histogram_bin_edges", _flat(a), bins, range, _dtype(a), w)


def histogram(a, bins=10, range=None, density=None, weights=None):
    """The histogram of the flattened ``a``: the number of values in each bin (int64), or
    the sum of their ``weights`` (of the weights' dtype), and the bin edges (see
    :func:`histogram_bin_edges`). Every bin is half-open ``[e_i, e_{i+1})`` except the last,
    which includes its right edge; values outside the edges (and NaN) are not counted. With
    ``density`` the counts are divided by their total and by the bins' widths (float64, or
    the weights' floating dtype). Differentiable in ``weights``."""
    name = "histogram"
    a = _operand(a, _array_among(weights, bins))
    if _dtype(a).kind == "c":
        raise TypeError("histogram: complex data is not supported (NumPy's bins are real)")
    x = _flat(a)
    w = _weights(name, weights, a) if weights is not None else None
    edges = _edges(name, x, bins, range, _dtype(a), w)
    n = _shape(edges)[0] - 1
    dtype = _dt.int64 if w is None else (_dtype(w) if _dtype(w).kind != "b" else _dt.int64)
    if n < 1:  # one edge (or none): no bins, as in NumPy
        counts = _st.slice_(_st.full_like(x, 0, dtype=dtype), ((0, 0, 1),))
        if density and _dtype(counts).kind not in "fc":
            counts = astype(counts, _dt.float64)
        return counts, edges
    idx, inside = _bin_index(x, edges)
    counts = _counts(idx, inside, w, n, dtype)
    if density:
        widths = astype(diff(edges), _dt.float64)  # (NumPy's: float64 widths)
        c = counts if _dtype(counts).kind in "fc" else astype(counts, _dt.float64)
        return divide(divide(c, widths), sum(c)), edges
    return counts, edges


def _sample_columns(sample, like=None):
    """A histogramdd sample as a list of D 1-d arrays (of equal length)."""
    if isinstance(sample, (list, tuple)):
        like = next((s for s in sample if not isinstance(s, (list, tuple))
                     and type(s) not in _SCALARS), like)
        cols = [_flat(_operand(s, like)) for s in sample]
        if cols:  # one array in NumPy: the coordinates' common dtype
            from ._base import _promote_arrays
            cols, _ = _promote_arrays(cols)
        n = _shape(cols[0])[0] if cols else 0
        for c in cols:
            if _shape(c)[0] != n:
                raise ValueError("histogramdd: the sample's coordinates must have the same "
                                 "length")
        return cols
    s = _as_operand(sample)
    if len(_shape(s)) == 1:
        return [s]
    if len(_shape(s)) != 2:
        raise ValueError("histogramdd: sample must be an (N, D) array or a sequence of D "
                         "arrays")
    d = _shape(s)[1]
    return [_st.reshape(_st.slice_(s, ((0, _shape(s)[0], 1), (i, i + 1, 1))), (_shape(s)[0],))
            for i in builtins.range(d)]


def histogramdd(sample, bins=10, range=None, density=None, weights=None):
    """The D-dimensional histogram of ``sample`` (an (N, D) array, or a sequence of D 1-d
    arrays of the N coordinates): an array of float64 counts (weight sums) of shape given by
    the numbers of bins, and the list of the D edge arrays. ``bins`` is a number for every
    dimension, a sequence of numbers or of edge arrays; ``range`` a sequence of D pairs (or
    None's). Bins are half-open except the last of each dimension; ``density`` divides by
    the total and the bins' volumes. Differentiable in ``weights``."""
    name = "histogramdd"
    cols = _sample_columns(sample, _array_among(weights))
    D = len(cols)
    if D == 0:
        raise ValueError("histogramdd: the sample has no dimensions")
    N = _shape(cols[0])[0]
    like = cols[0]
    if isinstance(bins, (list, tuple)):
        if len(bins) != D:
            raise ValueError("histogramdd: The dimension of bins must be equal to the "
                             "dimension of the sample x.")
        bins_list = list(bins)
    elif isinstance(bins, str) or type(_scalar_bins(bins, name)) in _SCALARS:
        bins_list = [_scalar_bins(bins, name)] * D
    else:
        raise ValueError("histogramdd: bins must be an integer or a sequence (one entry per "
                         "dimension)")
    if range is None:
        range = [None] * D
    elif len(range) != D:
        raise ValueError("histogramdd: range must have one entry per dimension")
    edges = []
    for i, (c, b, r) in enumerate(zip(cols, bins_list, range)):
        b = _scalar_bins(b, name)
        if isinstance(b, str):
            raise TypeError(f"histogramdd: `bins[{i}]` must be an integer or an array (bin "
                            f"width estimators are histogram's only)")
        if type(b) in _SCALARS:
            if type(b) is float or operator.index(b) < 1:
                raise ValueError(f"histogramdd: `bins[{i}]` must be positive, when an "
                                 f"integer")
            e = _edges(name, c, b, r, None)  # (NumPy's linspace without a dtype)
        else:
            e = _operand(b, like)
            if len(_shape(e)) != 1:
                raise ValueError(f"histogramdd: `bins[{i}]` must be a scalar or 1d array")
            m = _shape(e)[0]
            if _concrete(e) and m > 1 and builtins.bool(
                    any(greater(_st.slice_(e, ((0, m - 1, 1),)), _st.slice_(e, ((1, m, 1),))))):
                raise ValueError(f"histogramdd: `bins[{i}]` must be monotonically "
                                 f"increasing, when an array")
        edges.append(e)
    nbins = [_shape(e)[0] - 1 for e in edges]
    flat = None
    inside = None
    for c, e, nb in zip(cols, edges, nbins):
        idx, ok = _bin_index(c, e)
        flat = idx if flat is None else add(multiply(flat, nb), idx)
        inside = ok if inside is None else logical_and(inside, ok)
    if weights is not None:
        w = _flat(_operand(weights, like))
        if _shape(w) != (N,):
            raise ValueError(f"histogramdd: weights should have shape ({N},)")
        w = astype(w, _dt.float64) if _dtype(w).kind != "c" else w
    else:
        w = None
    if N == 0:
        flat = astype(flat, _dt.int64) if flat is not None else flat
    hist = _counts(flat, inside, w, math.prod(nbins), _dt.float64)
    hist = _st.reshape(hist, tuple(nbins))
    if density:
        total = sum(hist)
        for i, e in enumerate(edges):
            shape = [1] * D
            shape[i] = nbins[i]
            wd = diff(e)
            wd = wd if _dtype(wd).kind in "fc" else astype(wd, _dt.float64)
            hist = divide(hist, _st.reshape(wd, tuple(shape)))
        hist = divide(hist, total)
    return hist, edges


def histogram2d(x, y, bins=10, range=None, density=None, weights=None):
    """The two-dimensional histogram of the points ``(x, y)``: the float64 counts (weight
    sums) of shape ``(nx, ny)`` and the edges along x and y (see :func:`histogramdd`).
    ``bins`` is a number, a pair of numbers, one edge array for both or a pair of edge
    arrays. Differentiable in ``weights``."""
    x = _operand(x, _array_among(y, weights))
    y = _operand(y, x)
    if len(_shape(x)) != 1 or len(_shape(y)) != 1 or _shape(x) != _shape(y):
        raise ValueError("histogram2d: x and y must be 1-d arrays of the same length.")
    bins = _scalar_bins(bins, "histogram2d")
    if isinstance(bins, (list, tuple)) or (not (type(bins) in _SCALARS)
                                           and hasattr(bins, "shape")):
        nb = len(bins) if isinstance(bins, (list, tuple)) else _shape(bins)[0]
        if nb != 2 and nb != 1:
            e = _operand(bins, x)
            bins = [e, e]
    hist, edges = histogramdd([x, y], bins, range, density, weights)
    return hist, edges[0], edges[1]


def bincount(x, weights=None, minlength=0, *, length=None):
    """The number of occurrences of each value ``0, 1, ..., max(x)`` in the 1-d array of
    non-negative integers ``x`` (int64), or the sum of the ``weights`` at each (float64, as
    in NumPy); at least ``minlength`` long. Differentiable in ``weights``.

    The length depends on ``max(x)``: ``x`` must be concrete (a plain array, or under the
    eager transforms a constant); a traced ``x`` under ``jit`` is a ConcretizationError.
    ``minlength=None`` is a TypeError, as in NumPy 2.

    ``length`` (``jax.numpy``'s extension) fixes the result's length instead, so ``x`` may
    be traced (``jit``, ``vmap``): as in JAX, values ``>= length`` are dropped and negative
    values count in bin 0 (``minlength`` is then ignored). Weighted sums stay float64 (JAX
    keeps the weights' dtype)."""
    if length is not None:
        return _bincount_length(x, weights, length)
    if minlength is None:
        raise TypeError("bincount: use 0 instead of None for minlength")
    if isinstance(minlength, bool):
        raise TypeError("bincount: an integer is required for minlength (not a bool)")
    minlength = operator.index(minlength)
    if minlength < 0:
        raise ValueError("bincount: 'minlength' must not be negative")
    x = _operand(x, weights if weights is not None and not isinstance(weights, (list, tuple))
                 else None)
    if weights is not None and not isinstance(weights, (list, tuple)):
        # (NumPy positions beside another library's weights; a list is made beside x)
        from ._indexing import _host_index
        x = _host_index(x, weights)
    if len(_shape(x)) != 1:
        raise ValueError(f"bincount: x must be 1-dimensional; got shape {_shape(x)} (NumPy: "
                         f"object too deep / of too small depth for desired array)")
    if _dtype(x).kind not in "biu":
        raise TypeError(f"bincount: cannot cast array data from dtype('{_dtype(x).name}') to "
                        f"dtype('int64') according to the rule 'safe'")
    n = _shape(x)[0]
    if n:
        try:
            lo, hi = builtins.int(min(x)), builtins.int(max(x))
        except Exception as e:
            from ..errors import ConcretizationError
            if isinstance(e, ConcretizationError):
                raise ConcretizationError(
                    "bincount: the length of its result is max(x) + 1, a value, so x must "
                    "be concrete (not traced under jit, nor a batch under vmap, whose "
                    "members' lengths would differ); with a fixed number of bins, "
                    "histogram counts under jit and vmap") from e
            raise
        if lo < 0:
            raise ValueError("bincount: 'list' argument must have no negative elements")
        length = builtins.max(hi + 1, minlength)
    else:
        length = minlength
    v = _bincount_weights(weights, x, n)
    return _ix.scatter_add(v, (astype(x, _dt.int64),), (length,))


def _bincount_weights(weights, x, n):
    """What each entry of ``x`` counts: 1 (int64), or its weight in float64 (NumPy's)."""
    if weights is None:
        return _st.full_like(x, 1, dtype=_dt.int64)
    v = _operand(weights, x)
    if _shape(v) != (n,):
        raise ValueError("bincount: the weights and list don't have the same length.")
    if _dtype(v).kind == "c":
        raise TypeError("bincount: complex weights are not supported (as in NumPy: the "
                        "weights are counted in float64); pass the real part (w.real)")
    return astype(v, _dt.float64)


def _bincount_length(x, weights, length):
    from ._base import less, maximum, minimum, where
    length = _check_size("bincount", length, "length", "the static number of bins")
    x = _operand(x, weights if weights is not None and not isinstance(weights, (list, tuple))
                 else None)
    if weights is not None and not isinstance(weights, (list, tuple)):
        # (NumPy positions beside another library's weights; a list is made beside x)
        from ._indexing import _host_index
        x = _host_index(x, weights)
    if len(_shape(x)) != 1:
        raise ValueError(f"bincount: x must be 1-dimensional; got shape {_shape(x)}")
    if _dtype(x).kind not in "biu":
        raise TypeError(f"bincount: x must hold integers; got {_dtype(x).name}")
    n = _shape(x)[0]
    x = astype(x, _dt.int64)
    v = _bincount_weights(weights, x, n)
    if length == 0 or n == 0:
        from ._statistics import _init_like
        return _init_like(v, (length,), 0)
    keep = less(x, length)
    v = where(keep, v, _st.full_like(v, 0))
    idx = minimum(maximum(x, 0), length - 1)
    return _ix.scatter_add(v, (idx,), (length,))


def digitize(x, bins, right=False, *, method="scan"):
    """For each value of ``x``, the index of the bin of the monotonic 1-d ``bins`` it falls
    in: ``i`` with ``bins[i-1] <= x < bins[i]`` for increasing bins (``bins[i-1] < x <=
    bins[i]`` with ``right``), mirrored for decreasing bins; 0 or ``len(bins)`` outside
    (int64, of ``x``'s shape). Built on ``searchsorted``: works under every transform.

    NaN follows NumPy, which orders it after every number: a NaN in ``x`` falls in the last
    bin's far side (``len(bins)`` for increasing bins, 0 for decreasing ones, or the index
    of the first NaN edge with ``right``), and NaN edges are allowed at the end of
    increasing bins or at the start of decreasing ones. The direction is chosen by NumPy's
    rule (the first edge that differs from the first one decides; NaN differs from
    everything). Where NumPy accepts NaN edges elsewhere, its answer comes from a binary
    search of unsorted data; that is refused here with a ValueError.

    The checks (monotonic bins, where their NaNs are) are made where ``bins`` is concrete;
    under a transform that traces ``bins`` (``jit``...) the direction is chosen from its
    values and the result for bins NumPy would refuse is unspecified. jax.numpy's ``method``
    (its search algorithm) is accepted and changes nothing."""
    from ._searching import _check_method
    _check_method("digitize", method)
    x, bins = _numpy_scalars_moved((x, bins))
    x = _operand(x)
    bins = _operand(bins, x)
    if _dtype(x).kind == "c":
        raise TypeError("digitize: x may not be complex")
    if len(_shape(bins)) != 1:
        raise ValueError("digitize: bins must be a 1-d array")
    m = _shape(bins)[0]
    side = "left" if right else "right"
    if _dtype(bins).kind == "c":
        raise TypeError("digitize: bins may not be complex")
    float_bins = _dtype(bins).kind == "f"
    if float_bins:
        bnan = isnan(bins)
        n_nan = sum(astype(bnan, _dt.int64))
        keys = where(bnan, math.inf, bins)  # NaN edges last, as NumPy orders them
    else:
        keys = bins
    up = _nan_search(keys, x, side, m, n_nan if float_bins else None)
    if m < 2:
        return up
    from ._base import flip
    down = subtract(m, _nan_search(flip(keys), x, side, m, n_nan if float_bins else None))
    # NumPy's rule for the direction: the first edge unlike bins[0] decides.
    first = _at(bins, 0)
    rest = _st.slice_(bins, ((1, m, 1),))
    lo, hi = _st.slice_(bins, ((0, m - 1, 1),)), rest
    differ = not_equal(rest, first)
    uniform = logical_not(any(differ))
    from ._indexing import take
    from ._searching import argmax
    at = reshape(argmax(astype(differ, _dt.int8)), (1,))
    rising = less(first, take(rest, at, axis=0))
    rising = reshape(rising, ())
    inc = logical_or(uniform, logical_and(rising, logical_not(any(greater(lo, hi)))))
    dec = logical_and(logical_not(logical_or(uniform, rising)), logical_not(any(less(lo, hi))))
    if _concrete(inc) and _concrete(dec):
        if builtins.bool(inc):
            bad = float_bins and builtins.bool(
                any(logical_and(_st.slice_(bnan, ((0, m - 1, 1),)),
                                logical_not(_st.slice_(bnan, ((1, m, 1),))))))
            if not bad:
                return up
        elif builtins.bool(dec):
            bad = float_bins and builtins.bool(
                any(logical_and(logical_not(_st.slice_(bnan, ((0, m - 1, 1),))),
                                _st.slice_(bnan, ((1, m, 1),)))))
            if not bad:
                return down
        else:
            raise ValueError("digitize: bins must be monotonically increasing or decreasing")
        raise ValueError("digitize: NaN edges are supported at the end of increasing bins "
                         "and at the start of decreasing ones only (elsewhere NumPy's answer "
                         "is that of a binary search of unsorted data)")
    return where(inc, up, down)


def _nan_search(keys, x, side, m, n_nan):
    """``searchsorted(keys, x, side)`` (int64) with NumPy's order for NaN: after every
    number. ``keys`` is sorted with its ``n_nan`` NaN edges (None: an integer array, no
    NaN) written as +inf at its end; a NaN in ``x`` is placed explicitly, the same way on
    every library (their searchsorted differ on NaN)."""
    if _dtype(x).kind != "f":
        return astype(searchsorted(keys, x, side=side), _dt.int64)
    xnan = isnan(x)
    r = astype(searchsorted(keys, where(xnan, 0.0, x), side=side), _dt.int64)
    if n_nan is None:
        return where(xnan, m, r)
    if side == "right":  # +inf is not after a NaN edge, though it equals the +inf written
        r = where(equal(x, math.inf), subtract(m, n_nan), r)
        return where(xnan, m, r)
    return where(xnan, subtract(m, n_nan), r)
