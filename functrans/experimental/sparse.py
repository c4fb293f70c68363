"""``functrans.experimental.sparse``: sparse arrays in JAX's BCOO format (batched coordinate
format), for sparse products inside differentiated, batched or jitted code.

    from functrans.experimental import sparse
    M = sparse.BCOO.fromdense(dense)     # or BCOO((data, indices), shape=(m, n))
    y = M @ x                            # a dense result; differentiable in M.data and x

A :class:`BCOO` holds ``data`` (the stored values, shape ``batch + (nse,) + dense``) and
``indices`` (integers, shape ``batch + (nse, n_sparse)``: row ``k`` gives the position of
``data[k]``, a block of the trailing ``dense`` dimensions).
Entries at a repeated position add up; an entry whose index is outside the array (the
padding made by ``fromdense`` and ``sum_duplicates`` uses the index ``shape``) stands for
nothing; a negative index counts from the end, as in JAX. Leading batch dimensions
(``n_batch``) are those of ``data`` and ``indices`` before ``nse``; dense ones
(``n_dense``) those of ``data`` after it. :class:`BCSR` is the compressed-row format of a
matrix (or a batch of them), converted to a ``BCOO`` for its operations.

Every operation is written with :mod:`functrans.numpy`'s gathers and
:func:`functrans.ops.segment_sum`, so every transform applies and results stay in the
library and on the device of ``data``. A ``BCOO`` is a pytree whose leaves are ``data`` and
``indices`` (its shape is static): ``jit`` takes and returns it, ``vmap`` maps over a stacked
one (mapping its leading batch dimension) and ``grad`` with respect to one returns a ``BCOO``
with the same indices whose ``data`` is the gradient with respect to ``data``.
"""

from __future__ import annotations

import functools
import math
import operator
import weakref

from .. import dtypes as _dt
from .. import numpy as fnp
from ..api import vmap
from ..core import EVAL, Tracer, reset_current, set_current
from ..errors import ConcretizationError, FunctransError
from ..ops import segment_sum
from ..primitives import indexing as _ix
from ..tree import register_pytree_node

__all__ = ["BCOO", "BCSR", "bcoo_broadcast_in_dim", "bcoo_concatenate", "bcoo_dot_general",
           "bcoo_dynamic_slice", "bcoo_extract", "bcoo_fromdense", "bcoo_multiply_dense",
           "bcoo_multiply_sparse", "bcoo_reduce_sum", "bcoo_reshape", "bcoo_slice",
           "bcoo_sort_indices", "bcoo_squeeze", "bcoo_sum_duplicates", "bcoo_todense",
           "bcoo_transpose", "bcoo_update_layout", "empty", "eye", "sparsify", "todense",
           "SparseEfficiencyError", "SparseEfficiencyWarning"]


class BCOO:
    """A sparse array in batched coordinate format (``jax.experimental.sparse.BCOO``).

    Args:
        args: the pair ``(data, indices)``: ``data`` of shape ``batch + (nse,) + dense``,
            integer ``indices`` of shape ``batch + (nse, n_sparse)``, in one library and
            device.
        shape: the shape of the array: ``batch + sparse + dense``, ``len(sparse) ==
            n_sparse``.
        indices_sorted, unique_indices: accepted for JAX's signature; functrans does not
            rely on them (every operation is correct for any indices).

    Example:
        >>> M = sparse.BCOO((np.array([1.0, 2.0]), np.array([[0, 1], [1, 0]])), shape=(2, 2))
        >>> M.todense()
        array([[0., 1.],
               [2., 0.]])
        >>> M @ np.array([1.0, 10.0])
        array([10.,  2.])
    """

    # NumPy operators defer to this class's reflected ones (``x @ M``, ``x * M``).
    __array_ufunc__ = None
    __array_priority__ = 1000

    def __init__(self, args, *, shape, indices_sorted=False, unique_indices=False):
        try:
            data, indices = args
        except (TypeError, ValueError):
            raise TypeError("BCOO((data, indices), shape=...): the first argument is the pair "
                            f"(data, indices); got {type(args).__name__}.") from None
        data = data if hasattr(data, "shape") else fnp.asarray(data)
        indices = indices if hasattr(indices, "shape") else fnp.asarray(indices)
        shape = tuple(operator.index(n) for n in shape)
        if _dt.dtype_of(indices).kind not in "iu":
            raise TypeError(f"BCOO: indices must be integers; got dtype "
                            f"{_dt.dtype_of(indices).name}. Cast them (astype(indices, "
                            f"'int32')); the values go in data.")
        if indices.ndim < 2:
            raise ValueError(f"BCOO: indices must have shape batch + (nse, n_sparse), at "
                             f"least 2 dimensions; got shape {tuple(indices.shape)}.")
        n_batch = indices.ndim - 2
        n_sparse = indices.shape[-1]
        if len(shape) < n_batch + n_sparse:
            raise ValueError(
                f"BCOO: shape {shape} has {len(shape)} dimensions, but indices of shape "
                f"{tuple(indices.shape)} give {n_batch} batch and {n_sparse} sparse ones "
                f"(then the dense ones, those of data after nse).")
        if tuple(indices.shape[:n_batch]) != shape[:n_batch]:
            raise ValueError(f"BCOO: the batch dimensions of indices, {tuple(indices.shape)}, "
                             f"must be the leading dimensions of shape {shape}.")
        dense = shape[n_batch + n_sparse:]
        if tuple(data.shape) != tuple(indices.shape[:-1]) + dense:
            raise ValueError(f"BCOO: data must have shape {tuple(indices.shape[:-1]) + dense} "
                             f"(batch + (nse,) + dense, from indices of shape "
                             f"{tuple(indices.shape)} and shape {shape}); got "
                             f"{tuple(data.shape)}.")
        self.data, self.indices = data, indices
        self._sparse_shape = shape[n_batch:n_batch + n_sparse]

    # -- the layout ----------------------------------------------------------------------------

    @property
    def shape(self):
        """The array's shape: the batch dimensions (those of ``indices`` before ``nse``), the
        sparse ones, then the dense ones (those of ``data`` after ``nse``)."""
        return tuple(self.indices.shape[:self.n_batch]) + self._sparse_shape + self._dense_shape

    @property
    def _dense_shape(self):
        return tuple(self.data.shape[self.indices.ndim - 1:])

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def size(self):
        return math.prod(self.shape)

    @property
    def dtype(self):
        """The dtype of ``data``."""
        return self.data.dtype

    @property
    def nse(self):
        """The number of stored entries (per batch element)."""
        return self.indices.shape[-2]

    @property
    def n_batch(self):
        n = self.indices.ndim - 2
        if n < 0 or (self.indices.shape[-1] != len(self._sparse_shape)):
            raise ValueError(
                f"this BCOO's indices have shape {tuple(self.indices.shape)}, not batch + "
                f"(nse, {len(self._sparse_shape)}): vmap over a BCOO maps its batch dimensions "
                f"(make one with BCOO.fromdense(x, n_batch=1), or stack the leaves), not its "
                f"stored entries; pass in_axes=None for a BCOO shared by the batch.")
        return n

    @property
    def n_sparse(self):
        return self.indices.shape[-1]

    @property
    def n_dense(self):
        """The number of trailing dense dimensions (stored whole in each entry of ``data``)."""
        return self.data.ndim - self.indices.ndim + 1

    def __repr__(self):
        try:
            extra = f", n_batch={self.n_batch}" if self.n_batch else ""
            extra += f", n_dense={self.n_dense}" if self.n_dense else ""
            dtype = getattr(self.dtype, "name", None) or str(self.dtype).rpartition(".")[2]
            return f"BCOO({dtype}{list(self.shape)}, nse={self.nse}{extra})"
        except (AttributeError, TypeError, IndexError, ValueError):  # (leaves of tree_map)
            return f"BCOO(data={self.data!r}, indices={self.indices!r})"

    # -- conversions ---------------------------------------------------------------------------

    @classmethod
    def fromdense(cls, mat, *, nse=None, index_dtype=_dt.int32, n_dense=0, n_batch=0):
        """The ``BCOO`` holding the nonzero entries of the dense ``mat``: see
        :func:`bcoo_fromdense`."""
        return bcoo_fromdense(mat, nse=nse, index_dtype=index_dtype, n_dense=n_dense,
                              n_batch=n_batch)

    def todense(self):
        """The dense array (entries at one position added up, out-of-range ones dropped)."""
        return bcoo_todense(self)

    @classmethod
    def from_scipy_sparse(cls, mat, *, index_dtype=None, n_dense=0, n_batch=0):
        """The ``BCOO`` of a SciPy sparse matrix or array (its stored entries, duplicates and
        explicit zeros included), NumPy arrays."""
        if n_dense or n_batch:
            raise NotImplementedError("BCOO.from_scipy_sparse: only n_dense=0 and n_batch=0.")
        coo = mat.tocoo()
        indices = fnp.stack([fnp.asarray(coo.row), fnp.asarray(coo.col)], axis=-1)
        return cls((fnp.asarray(coo.data),
                    fnp.astype(indices, _dt.int32 if index_dtype is None else index_dtype)),
                   shape=coo.shape)

    def astype(self, dtype):
        """This array with ``data`` cast to ``dtype`` (the same indices)."""
        return _like(self, fnp.astype(self.data, dtype))

    # -- structure -----------------------------------------------------------------------------

    def transpose(self, axes=None):
        """The transposed array (``axes`` a permutation; reversed by default)."""
        axes = tuple(range(self.ndim))[::-1] if axes is None else tuple(axes)
        return bcoo_transpose(self, permutation=axes)

    @property
    def T(self):
        return self.transpose()

    def sum_duplicates(self, nse=None, remove_zeros=True):
        """The same array with one entry per position, sorted: see
        :func:`bcoo_sum_duplicates`."""
        return bcoo_sum_duplicates(self, nse=nse, remove_zeros=remove_zeros)

    def sort_indices(self):
        """The same array with its entries sorted by position: see :func:`bcoo_sort_indices`."""
        return bcoo_sort_indices(self)

    def sum(self, axis=None):
        """The sum over ``axis`` (an int or a tuple): a ``BCOO`` (``bcoo_reduce_sum``); with
        ``axis=None`` the sum of every entry, a dense 0-d array, as in JAX."""
        if axis is None:
            return fnp.sum(bcoo_reduce_sum(self, axes=tuple(range(self.ndim))).data)
        axes = (axis,) if isinstance(axis, int) else tuple(axis)
        return bcoo_reduce_sum(self, axes=tuple(a % self.ndim for a in axes))

    # -- arithmetic ----------------------------------------------------------------------------

    def __matmul__(self, other):
        if not isinstance(other, BCOO):
            other = _dense_operand(other, self, "@")
        _matmul_ranks(self, other)
        contract = 0
        return bcoo_dot_general(self, other,
                                dimension_numbers=(((self.ndim - 1,), (contract,)), ((), ())))

    def __rmatmul__(self, other):
        other = _dense_operand(other, self, "@")
        _matmul_ranks(other, self)
        return bcoo_dot_general(other, self,
                                dimension_numbers=(((other.ndim - 1,), (0,)), ((), ())))

    def __mul__(self, other):
        if isinstance(other, BCOO):
            return bcoo_multiply_sparse(self, other)
        return _like(self, bcoo_multiply_dense(self, _dense_operand(other, self, "*")))

    __rmul__ = __mul__

    def __truediv__(self, other):
        other = _dense_operand(other, self, "/")
        if _ndim(other):
            raise ValueError(f"BCOO /: only a scalar divisor keeps the array sparse; got shape "
                             f"{tuple(other.shape)}.")
        return _like(self, fnp.divide(self.data, other))

    def __neg__(self):
        return _like(self, -self.data)

    def __pos__(self):
        return self

    def __add__(self, other):
        if isinstance(other, BCOO):  # both sets of entries: a BCOO of nse1 + nse2
            return _concatenated(self, other, "+")
        return self.todense() + other

    __radd__ = __add__

    def __sub__(self, other):
        if isinstance(other, BCOO):
            return _concatenated(self, -other, "-")
        return self.todense() - other

    def __rsub__(self, other):
        return other - self.todense()


def _flatten(m):
    return (m.data, m.indices), m._sparse_shape


def _unflatten(sparse_shape, children):
    # No checks: transforms rebuild a BCOO from leaves that are placeholders or tracers whose
    # batch dimension is mapped away (so only the sparse part of the shape is kept: the batch
    # part is read from the leaves).
    m = object.__new__(BCOO)
    m.data, m.indices = children
    m._sparse_shape = sparse_shape
    return m


register_pytree_node(BCOO, _flatten, _unflatten)


def _register_structural():
    # indices are structure, not values: grad and vjp return them as they are (see api.py)
    from .. import api
    api._STRUCTURAL_LEAVES[BCOO] = (False, True)
    api._STRUCTURAL_MASKS.clear()


_register_structural()


def _like(m, data):
    """A BCOO with ``m``'s indices and shape holding ``data``."""
    return BCOO((data, m.indices), shape=m.shape)


def _matmul_ranks(lhs, rhs):
    """The ranks ``@`` takes: any left operand times a vector or a matrix (NumPy's stacks of
    matrices on the right broadcast differently from a contraction: refused)."""
    if _ndim(lhs) == 0 or _ndim(rhs) == 0:
        raise ValueError("BCOO @: matmul needs operands of at least 1 dimension; got a 0-d "
                         "one (use * for a scalar product).")
    if _ndim(rhs) > 2:
        raise ValueError(
            f"BCOO @: shapes {tuple(lhs.shape)} and {tuple(rhs.shape)}: the right operand of "
            f"a sparse matmul has at most 2 dimensions (NumPy's broadcasting of stacks of "
            f"matrices is not provided); use bcoo_dot_general with explicit dimension "
            f"numbers, or vmap.")


def _concatenated(a, b, op):
    """The sum of two BCOOs of one shape and layout: the entries of both."""
    if a.shape != b.shape or a.n_batch != b.n_batch:
        raise ValueError(f"BCOO {op} BCOO: the arrays must have one shape and n_batch; got "
                         f"{a.shape} (n_batch={a.n_batch}) and {b.shape} "
                         f"(n_batch={b.n_batch}).")
    nb = a.n_batch
    return BCOO((fnp.concatenate([a.data, b.data], axis=nb),
                 fnp.concatenate([a.indices, b.indices], axis=nb)), shape=a.shape)


def _dense_operand(x, m, op):
    if isinstance(x, (bool, int, float, complex)):
        return x
    if not hasattr(x, "shape"):
        raise TypeError(f"BCOO {op}: the other operand must be an array or a number; got "
                        f"{type(x).__name__}.")
    return x


def _ndim(x):
    return getattr(x, "ndim", 0)


def _per_batch(fn, n_batch, in_axes=0):
    """``fn`` mapped over ``n_batch`` leading dimensions (vmap, once per dimension)."""
    for _ in range(n_batch):
        fn = vmap(fn, in_axes=in_axes)
    return fn


# -- positions ---------------------------------------------------------------------------------

def _positions(indices, shape, dims=None):
    """The flat (row-major) position of each entry of ``indices`` (batch + (nse, n_sparse)) in
    the sparse dimensions ``dims`` (all by default) of ``shape``, and whether it is inside
    them (negative indices count from the end)."""
    dims = range(len(shape)) if dims is None else dims
    flat = inside = None
    for d in dims:
        n = shape[d]
        i = indices[..., d]
        if len(dims) > 1 or _dt.dtype_of(i).name not in ("int32", "int64") or n > 2**31 - 1:
            i = fnp.astype(i, _dt.int64)  # (i + n, and a flat position, may pass int32)
        i = fnp.where(i < 0, i + n, i)
        ok = fnp.logical_and(i >= 0, i < n)
        inside = ok if inside is None else fnp.logical_and(inside, ok)
        flat = i if flat is None else flat * n + i
    if flat is None:  # no dimensions: every entry at the one position
        # (made from indices alone, no new constant: the same tracer as indices under vmap)
        flat = fnp.astype(fnp.sum(indices[..., :0], axis=-1), _dt.int64)
        inside = flat == 0
    return flat, inside


def _by_layout(m, gathered, scattered, compute, *operands, strides=None):
    """``compute(g, s, inside, *operands)`` with the flat positions of ``m``'s entries in its
    sparse dimensions ``gathered`` (an entry outside the array at 0, to read) and
    ``scattered`` (an entry outside at the size of those dimensions, one past the end, to
    drop), int64 of shape batch + (nse,), and ``inside``, whether each entry is inside the
    array, or ``None`` where every one is (the common case, which needs no mask).

    Concrete indices: the positions are computed once per indices array and kept (a product
    with a fixed sparsity pattern repeats none of that work), under a transform too. Traced
    ones (under ``jit``): a ``cond`` on whether every index is in ``[0, n)`` reads the
    columns as they are, or else wraps negative ones and masks those outside.

    ``strides``, ``(g, s)``: the positions of the batch members side by side instead, flat:
    member ``b``'s offset by ``b * g`` and ``b * s``, and ``inside`` flat too."""
    shape = m._sparse_shape
    indices = m.indices

    def flat(layout):
        return layout if strides is None else _side_by_side(layout, strides)
    if not isinstance(indices, Tracer):
        key = (shape, gathered, scattered, strides)
        layout = _cached(indices, key, lambda idx: flat(
            _build_layout(idx, shape, gathered, scattered, True)))
        return compute(*layout, *operands)

    def in_range(idx, *operands):
        return compute(*flat(_raw_layout(idx, shape, gathered, scattered)), *operands)

    def masked(idx, *operands):
        return compute(*flat(_build_layout(idx, shape, gathered, scattered, False)), *operands)
    if not math.prod(indices.shape) or not shape:
        return masked(indices, *operands)
    from ..control_flow import cond
    ok = fnp.min(indices) >= 0
    # (whole reductions: NumPy's along the entries axis of (nse, n_sparse) is 200x slower)
    for d, n in ([(Ellipsis, shape[0])] if len(set(shape)) == 1 else enumerate(shape)):
        ok = fnp.logical_and(ok, fnp.max(indices[..., d] if d is not Ellipsis else indices) < n)
    return cond(ok, in_range, masked, indices, *operands)


def _side_by_side(layout, strides):
    """Batched positions (batch + (nse,)) made flat, member ``b``'s offset by ``b *
    stride`` (a stride of 0: the members share what they index)."""
    out = []
    for pos, stride in zip(layout[:2], strides):
        if pos is not None:
            if stride:
                member = fnp.arange(math.prod(pos.shape[:-1]), dtype=_dt.int64, like=pos)
                member = fnp.reshape(member, tuple(pos.shape[:-1]) + (1,))
                pos = fnp.astype(pos, _dt.int64) + member * stride
            pos = fnp.reshape(pos, (-1,))
        out.append(pos)
    inside = layout[2]
    return out[0], out[1], None if inside is None else fnp.reshape(inside, (-1,))


def _raw_layout(indices, shape, gathered, scattered):
    """The positions of indices all in ``[0, n)``: the columns as they are, clamped: a
    ``cond`` batched after staging (``vmap`` of a ``jit``) runs this branch for the members
    whose indices are not all in range too (then selects the other's result), where an
    index out of range must neither raise nor write elsewhere."""
    out = []
    for dims in (gathered, scattered):
        flat = None
        for d in dims or ():
            i = fnp.minimum(fnp.maximum(indices[..., d], 0), shape[d] - 1)
            if len(dims) > 1:
                i = fnp.astype(i, _dt.int64)
            flat = i if flat is None else flat * shape[d] + i
        if dims is not None and flat is None:
            flat = fnp.astype(fnp.sum(indices[..., :0], axis=-1), _dt.int64)
        out.append(flat)
    return out[0], out[1], None


def _build_layout(indices, shape, gathered, scattered, concrete):
    out, inside = [], None
    for dims in (gathered, scattered):
        if dims is None:
            out.append(None)
            continue
        flat, ok = _positions(indices, shape, dims)
        inside = ok if inside is None else fnp.logical_and(inside, ok)
        out.append(flat)
    if concrete:  # (int64: what the gathers index with)
        out = [None if f is None else fnp.astype(f, _dt.int64) for f in out]
        if bool(fnp.all(inside)):
            return out[0], out[1], None
    if gathered is not None:
        out[0] = fnp.where(inside, out[0], 0)
    if scattered is not None:
        out[1] = fnp.where(inside, out[1], math.prod(shape[d] for d in scattered))
    return out[0], out[1], inside


# id(indices) -> (a weak reference to them, what shows they are unchanged, {key: layout})
_LAYOUTS = {}


def _cached(indices, key, build):
    """``build(indices)``, kept with concrete ``indices`` for the next call with that key.
    An array written in place since is seen (its copy, or torch's version counter, differs)
    and its layouts recomputed: a cached layout is never a stale one."""
    if isinstance(indices, Tracer):
        return build(indices)
    token = set_current(EVAL)  # (concrete indices: concrete layouts, whatever runs above)
    try:
        entry = _LAYOUTS.get(id(indices))
        if entry is None or entry[0]() is not indices or not _unchanged(indices, entry[1]):
            try:
                ref = weakref.ref(indices, functools.partial(_forget, id(indices)))
            except TypeError:  # (an array type without weak references: nothing kept)
                return build(indices)
            entry = (ref, _stamp(indices), {})
            _LAYOUTS[id(indices)] = entry
        table = entry[2]
        if key not in table:
            table[key] = build(indices)
        return table[key]
    finally:
        reset_current(token)


def _forget(key, ref):
    entry = _LAYOUTS.get(key)
    if entry is not None and entry[0] is ref:
        del _LAYOUTS[key]


def _stamp(indices):
    version = getattr(indices, "_version", None)  # torch counts the writes into a tensor
    if isinstance(version, int):
        return ("version", version)
    return ("copy", fnp.asarray(indices, copy=True))


def _unchanged(indices, stamp):
    kind, value = stamp
    if kind == "version":
        return indices._version == value
    return tuple(value.shape) == tuple(indices.shape) and bool(fnp.all(value == indices))


def _unravel(flat, shape, dtype):
    """Indices (nse, n_sparse) of ``dtype`` for flat positions; ``prod(shape)`` (or more)
    gives the padding index ``shape``."""
    size = math.prod(shape)
    outside = flat >= size
    cols = []
    for d, n in enumerate(shape):
        # (a dimension of 0: every position is outside; max(.., 1) keeps the arithmetic defined)
        stride = max(math.prod(shape[d + 1:]), 1)
        i = fnp.astype((flat // stride) % max(n, 1), dtype)
        cols.append(fnp.where(outside, fnp.full_like(i, n), i))
    if not cols:
        return fnp.zeros((flat.shape[0], 0), dtype=dtype, like=flat)
    return fnp.stack(cols, axis=-1)


def _concrete_nse(count, what):
    """``int(count())``, or an error asking for ``nse`` where the values are abstract."""
    try:
        return int(count())
    except ConcretizationError:
        raise ConcretizationError(
            f"{what}: the number of stored entries depends on the values, which are not known "
            f"here (under jit, or vmap over the values): pass nse=... (an int, the number of "
            f"entries to keep; extra ones are padding).") from None


# -- todense -----------------------------------------------------------------------------------

def bcoo_todense(mat):
    """The dense array of the ``BCOO`` ``mat``: entries at one position add up, entries
    outside the array are dropped.

    Example:
        >>> sparse.bcoo_todense(sparse.BCOO((np.array([1.0, 2.0]), np.array([[1], [1]])),
        ...                                 shape=(3,)))
        array([0., 3., 0.])
    """
    shape = mat._sparse_shape
    size = math.prod(shape)
    dense = mat._dense_shape

    def compute(_, flat, inside, data):
        return _per_batch(lambda d, f: fnp.reshape(_scatter(d, f, size, inside is not None),
                                                   shape + dense), mat.n_batch)(data, flat)
    return _by_layout(mat, None, tuple(range(len(shape))), compute, mat.data)


def _scatter(values, positions, size, dropped):
    """Zeros of ``(size,) + rest`` with ``values`` (``positions.shape + rest``) added at the
    in-range ``positions``; ``dropped``: those at ``size`` too, which are dropped."""
    rest = tuple(values.shape[positions.ndim:])
    out = _ix.scatter_add(values, (positions,), (size + dropped,) + rest)
    return out[:size] if dropped else out


def _extract(m, dense):
    """The entries of ``dense`` (of ``m``'s shape) at ``m``'s indices (with its dense
    dimensions); 0 outside."""
    rest = m._dense_shape

    def one(flat, dense):
        return _ix.gather(fnp.reshape(dense, (-1,) + rest), (flat,))

    def compute(flat, _, inside, dense):
        picked = _per_batch(one, m.n_batch)(flat, dense)
        if inside is None:
            return picked
        return fnp.where(fnp.reshape(inside, tuple(inside.shape) + (1,) * len(rest)), picked, 0)
    return _by_layout(m, tuple(range(len(m._sparse_shape))), None, compute, dense)


def bcoo_extract(sparr, arr):
    """The ``BCOO`` with the indices of ``sparr`` holding the entries of the dense ``arr``
    (of ``sparr``'s shape) at those indices; an entry outside the array holds 0, and each of
    several entries at one position holds the value there (JAX's ``assume_unique=True``).

    Example:
        >>> M = sparse.BCOO((np.array([1.0, 1.0]), np.array([[0, 1], [1, 1]])), shape=(2, 2))
        >>> sparse.bcoo_extract(M, np.array([[1.0, 2.0], [3.0, 4.0]])).data
        array([2., 4.])
    """
    if not isinstance(sparr, BCOO):
        raise TypeError(f"bcoo_extract: the first argument must be a BCOO; got "
                        f"{type(sparr).__name__}.")
    if tuple(arr.shape) != sparr.shape:
        raise ValueError(f"bcoo_extract: arr of shape {tuple(arr.shape)} must have the sparse "
                         f"array's shape {sparr.shape}.")
    return _like(sparr, _extract(sparr, arr))


def todense(arr):
    """The dense form of ``arr``: ``arr.todense()`` for a ``BCOO``, ``arr`` itself
    otherwise (``jax.experimental.sparse.todense``)."""
    return arr.todense() if isinstance(arr, BCOO) else arr


# -- fromdense ---------------------------------------------------------------------------------

def bcoo_fromdense(mat, *, nse=None, n_batch=0, n_dense=0, index_dtype=_dt.int32):
    """The ``BCOO`` of the nonzero entries of the dense array ``mat``, in row-major order.

    Args:
        mat: a dense array.
        nse: the number of entries to store (per batch element). ``None`` counts the
            nonzeros, which needs concrete values: under ``jit`` (or ``vmap`` over ``mat``)
            pass it. More than needed pads with zeros at the index ``shape``; fewer keeps the
            first ``nse`` nonzeros.
        n_batch: the number of leading dimensions stored as batch dimensions.
        n_dense: the number of trailing dimensions stored densely (a block of them is
            stored where any of its values is nonzero).
        index_dtype: the indices' dtype (int32 by default, as in JAX).

    Example:
        >>> M = sparse.bcoo_fromdense(np.array([[0.0, 2.0], [3.0, 0.0]]))
        >>> M.data, M.indices
        (array([2., 3.]), array([[0, 1],
               [1, 0]], dtype=int32))
    """
    if not hasattr(mat, "shape"):
        mat = fnp.asarray(mat)
    n_batch, n_dense = operator.index(n_batch), operator.index(n_dense)
    if not (0 <= n_batch and 0 <= n_dense and n_batch + n_dense <= mat.ndim):
        raise ValueError(f"bcoo_fromdense: n_batch={n_batch} and n_dense={n_dense} must be "
                         f"non-negative, together at most mat.ndim={mat.ndim}.")
    end = mat.ndim - n_dense
    shape = tuple(mat.shape[n_batch:end])
    dense = tuple(mat.shape[end:])

    def nonzero_of(m):  # (an entry is stored where any value of its dense block is nonzero)
        return _any_nonzero(m, n_dense)
    if nse is None:
        # (the sparse size written out: -1 is undefined beside an empty batch axis)
        counts = fnp.sum(fnp.reshape(nonzero_of(mat), tuple(mat.shape[:n_batch])
                                     + (math.prod(shape),)), axis=-1)
        nse = _concrete_nse(lambda: fnp.max(counts) if counts.size else 0, "BCOO.fromdense")
    nse = operator.index(nse)

    def one(m):
        nonzero = nonzero_of(m)
        if shape:
            cols = fnp.nonzero(nonzero, size=nse, fill_value=shape)
            indices = fnp.astype(fnp.stack(cols, axis=-1), index_dtype)
        else:
            indices = fnp.zeros((nse, 0), dtype=index_dtype, like=m)
        if not math.prod(shape):  # (no position to read: every entry is padding)
            return fnp.zeros((nse,) + dense, dtype=m.dtype, like=m), indices
        flat, inside = _positions(indices, shape)
        # (the positions counted, not -1: a dense block of no elements leaves -1 undefined)
        data = fnp.take(fnp.reshape(m, (math.prod(shape),) + dense), fnp.where(inside, flat, 0),
                        axis=0)
        # A 0-d mat has no padding index: its one position is stored in the first entry,
        # whatever its value (a zero too: its derivative must reach it), the rest are zeros
        kept = fnp.less(fnp.arange(nse, like=m), fnp.sum(nonzero) if shape else 1)
        kept = fnp.reshape(kept, (nse,) + (1,) * n_dense)
        return fnp.where(kept, data, fnp.zeros_like(data)), indices
    data, indices = _per_batch(one, n_batch)(mat)
    return BCOO((data, indices), shape=mat.shape)


# -- transpose ---------------------------------------------------------------------------------

def bcoo_transpose(mat, *, permutation):
    """``mat`` with its axes permuted (the result's axis ``i`` is ``mat``'s axis
    ``permutation[i]``); batch axes stay in front (they may be permuted among themselves).

    Example:
        >>> M = sparse.BCOO((np.array([5.0]), np.array([[0, 2]])), shape=(2, 3))
        >>> sparse.bcoo_transpose(M, permutation=(1, 0)).indices
        array([[2, 0]])
    """
    perm = tuple(operator.index(p) for p in permutation)
    nb, ns, nd = mat.n_batch, mat.n_sparse, mat.n_dense
    if sorted(perm) != list(range(mat.ndim)):
        raise ValueError(f"bcoo_transpose: permutation {perm} is not a permutation of the "
                         f"{mat.ndim} axes of shape {mat.shape}.")
    if (sorted(perm[:nb]) != list(range(nb))
            or sorted(perm[nb:nb + ns]) != list(range(nb, nb + ns))):
        raise NotImplementedError(f"bcoo_transpose: permutation {perm} moves an axis between "
                                  f"the batch (n_batch={nb}), sparse (n_sparse={ns}) and dense "
                                  f"(n_dense={nd}) ones; each kind can only be permuted among "
                                  f"itself.")
    sparse_perm = [p - nb for p in perm[nb:nb + ns]]
    data, indices = mat.data, mat.indices
    dense_perm = tuple(p - ns + 1 for p in perm[nb + ns:])  # (data's axes: batch, nse, dense)
    if perm[:nb] != tuple(range(nb)) or dense_perm != tuple(range(nb + 1, nb + 1 + nd)):
        data = fnp.permute_dims(data, perm[:nb] + (nb,) + dense_perm)
    if perm[:nb] != tuple(range(nb)):
        indices = fnp.permute_dims(indices, perm[:nb] + (nb, nb + 1))
    if sparse_perm != list(range(len(sparse_perm))):
        indices = fnp.stack([indices[..., p] for p in sparse_perm], axis=-1)
    return BCOO((data, indices), shape=tuple(mat.shape[p] for p in perm))


# -- dot_general -------------------------------------------------------------------------------

def bcoo_dot_general(lhs, rhs, *, dimension_numbers, precision=None,
                     preferred_element_type=None):
    """``lax.dot_general`` with a ``BCOO`` operand: with a dense other one the result is
    dense; with two ``BCOO`` s it is a ``BCOO`` (see below).

    ``dimension_numbers`` is ``((lhs_contracting, rhs_contracting), (lhs_batch, rhs_batch))``
    as in :func:`functrans.lax.dot_general`. The sparse operand's batch dimensions
    (``n_batch``) are either all free (kept, in front of the result) or exactly its dot batch
    dimensions; its contracting dimensions are sparse or dense ones (not batch ones).
    ``precision`` is accepted and ignored; ``preferred_element_type`` casts the result.

    Two sparse operands (JAX's ``bcoo_spdot_general``): both have the same ``n_batch``,
    either their dot batch dimensions (in order) or, with no dot batch dimensions, only the
    left one may have batch dimensions (kept in front). The result stores one entry per pair
    of entries, ``nse = lhs.nse * rhs.nse``: the product of the two values where their
    contracted indices agree, a padding entry elsewhere (``sum_duplicates`` compacts it); or,
    where that is more than the result's (sparse) size, one entry per position, as JAX's.

    Example:
        >>> M = sparse.BCOO((np.array([2.0, 3.0]), np.array([[0, 1], [1, 0]])), shape=(2, 2))
        >>> sparse.bcoo_dot_general(M, np.array([[1.0], [10.0]]),
        ...                         dimension_numbers=(((1,), (0,)), ((), ())))
        array([[20.],
               [ 3.]])
    """
    del precision
    if not isinstance(lhs, BCOO) and not isinstance(rhs, BCOO):
        raise TypeError("bcoo_dot_general: one operand must be a BCOO; for two dense ones use "
                        "functrans.lax.dot_general.")
    (lc, rc), (lb, rb) = dimension_numbers
    lc, rc, lb, rb = (tuple(operator.index(d) for d in ds) for ds in (lc, rc, lb, rb))
    if isinstance(lhs, BCOO) and isinstance(rhs, BCOO):
        out = _sparse_sparse_dot(lhs, rhs, lc, rc, lb, rb)
        if preferred_element_type is not None:
            out = out.astype(preferred_element_type)
        return out
    if isinstance(rhs, BCOO):
        # dense @ sparse: the product with the operands swapped, its axes put back in order
        out = bcoo_dot_general(rhs, lhs, dimension_numbers=((rc, lc), (rb, lb)),
                               preferred_element_type=preferred_element_type)
        n_b, n_rhs_free = len(lb), rhs.ndim - len(rc) - len(rb)
        return fnp.permute_dims(out, tuple(range(n_b)) + tuple(range(n_b + n_rhs_free, out.ndim))
                                + tuple(range(n_b, n_b + n_rhs_free)))
    out = _sparse_dense_dot(lhs, rhs, lc, rc, lb, rb)
    if preferred_element_type is not None:
        out = fnp.astype(out, preferred_element_type)
    return out


def _sparse_dense_dot(m, x, lc, rc, lb, rb):
    if not hasattr(x, "shape"):
        x = fnp.asarray(x)
    what = f"bcoo_dot_general of shapes {m.shape} and {tuple(x.shape)}"
    _check_dims(what, m, x, lc, rc, lb, rb)
    nb = m.n_batch
    if lb and lb != tuple(range(nb)):
        raise NotImplementedError(f"{what}: the sparse operand's dot batch dimensions must be "
                                  f"exactly its n_batch={nb} leading batch dimensions; got "
                                  f"{lb}.")
    if any(a < nb for a in lc):
        raise NotImplementedError(f"{what}: contracting a batch dimension of the sparse "
                                  f"operand (n_batch={nb}) is not provided; contract sparse "
                                  f"dimensions.")
    shape = m._sparse_shape
    dense = m._dense_shape
    ns = m.n_sparse
    if lb:  # x's batch dimensions in front, mapped with the sparse operand's
        order = list(rb) + [d for d in range(x.ndim) if d not in rb]
        x = fnp.permute_dims(x, tuple(order))
        rc = tuple(order.index(c) - nb for c in rc)
    x_ndim = x.ndim - (nb if lb else 0)
    # contracted sparse dimensions are read at each entry's position; contracted dense ones
    # are summed within each entry (its dense block against its row of x)
    contract = [a - nb for a in lc if a < nb + ns]
    rc_dense = {a - nb - ns: c for a, c in zip(lc, rc) if a >= nb + ns}
    rc = tuple(c for a, c in zip(lc, rc) if a < nb + ns)
    free = [d for d in range(len(shape)) if d not in contract]
    rest_dims = [d for d in range(x_ndim) if d not in rc]
    dense_free = tuple(n for k, n in enumerate(dense) if k not in rc_dense)

    n_in = math.prod(shape[d] for d in contract)
    n_out = math.prod(shape[d] for d in free)

    # the batch members' entries side by side (no vmap: one gather and one scatter-add over
    # all of them): positions offset by the member, x's members (where it has its own)
    # stacked along the gathered axis, and a spare output slot per member for the entries
    # outside the array
    batch = tuple(m.shape[:nb])
    members = math.prod(batch)
    xb = nb if lb else 0
    xt = fnp.permute_dims(x, tuple(range(xb)) + tuple(xb + d for d in rc)
                          + tuple(xb + d for d in rest_dims))
    rest = tuple(xt.shape[xb + len(rc):])
    rest_free = tuple(n for d, n in zip(rest_dims, rest) if d not in rc_dense.values())
    tail = dense_free + rest_free
    out_shape = batch + tuple(shape[d] for d in free) + tail
    if n_in == 0 or members == 0:  # (nothing to read: every entry is outside)
        return fnp.zeros(out_shape, dtype=fnp.result_type(m.dtype, x.dtype), like=x)
    xt = fnp.reshape(xt, ((members if lb else 1) * n_in,) + rest)
    strides = (n_in if lb else 0, n_out + 1) if nb else None

    def compute(c_flat, f_flat, inside, data, xt):
        data = fnp.reshape(data, (-1,) + dense)
        if inside is not None:
            data = fnp.where(_per_entry(inside, data), data, 0)
        # gather x's contracted dimensions at each entry's position, weight by data, and add
        # each entry's row into the output at its free position
        rows = _ix.gather(xt, (c_flat,))  # (entries,) + rest
        if rc_dense:  # each entry's dense block against its row, the pairs summed
            letters = iter("bcdefghijklmnopqrstuvwxyz")
            d_sub = [next(letters) for _ in dense]
            r_sub = [next((d_sub[k] for k in rc_dense if rc_dense[k] == d), None)
                     for d in rest_dims]
            r_sub = [s if s is not None else next(letters) for s in r_sub]
            out_sub = ([s for k, s in enumerate(d_sub) if k not in rc_dense]
                       + [s for d, s in zip(rest_dims, r_sub) if d not in rc_dense.values()])
            prod = fnp.einsum(f"a{''.join(d_sub)},a{''.join(r_sub)}->a{''.join(out_sub)}",
                              data, rows)
        else:  # (each entry's dense block times its row: (entries,) + dense + rest)
            rows = fnp.reshape(rows, (rows.shape[0],) + (1,) * len(dense) + rest)
            prod = fnp.multiply(fnp.reshape(data, tuple(data.shape) + (1,) * len(rest)), rows)
        if not nb:
            return fnp.reshape(_scatter(prod, f_flat, n_out, inside is not None), out_shape)
        out = _ix.scatter_add(prod, (f_flat,), (members * (n_out + 1),) + tail)
        out = fnp.reshape(out, (members, n_out + 1) + tail)[:, :n_out]
        return fnp.reshape(out, out_shape)
    return _by_layout(m, tuple(contract), tuple(free), compute, m.data, xt, strides=strides)


def _check_dims(what, a, b, lc, rc, lb, rb, kind="dense"):
    if len(lc) != len(rc) or len(lb) != len(rb):
        raise ValueError(f"{what}: the contracting (or batch) dimension lists differ in "
                         f"length: {(lc, rc)} ({(lb, rb)}).")
    for i, j in zip(lc + lb, rc + rb):
        if not (0 <= i < a.ndim and 0 <= j < b.ndim):
            raise ValueError(f"{what}: dimension numbers {((lc, rc), (lb, rb))} are out of "
                             f"range.")
        if a.shape[i] != b.shape[j]:
            raise ValueError(f"{what}: dimension {i} of the sparse operand ({a.shape[i]}) "
                             f"and dimension {j} of the {kind} one ({b.shape[j]}) must be "
                             f"equal to be contracted (or batched) together.")


def _sparse_sparse_dot(a, b, lc, rc, lb, rb):
    what = f"bcoo_dot_general of two BCOOs of shapes {a.shape} and {b.shape}"
    # (dense dimensions become sparse ones: a product of two sparse arrays is sparse in
    # every dimension; JAX refuses them)
    a, b = bcoo_update_layout(a, n_dense=0), bcoo_update_layout(b, n_dense=0)
    _check_dims(what, a, b, lc, rc, lb, rb, kind="other sparse")
    na, nb = a.n_batch, b.n_batch
    if lb or rb:
        if lb != tuple(range(na)) or rb != tuple(range(nb)):
            raise NotImplementedError(
                f"{what}: the dot batch dimensions must be exactly each operand's n_batch "
                f"leading batch dimensions ({na} and {nb}); got {lb} and {rb}.")
    elif nb:
        raise NotImplementedError(f"{what}: with no dot batch dimensions the right operand "
                                  f"must have n_batch=0; got {nb}.")
    if any(d < na for d in lc) or any(d < nb for d in rc):
        raise NotImplementedError(f"{what}: contracting a batch dimension is not provided; "
                                  f"contract sparse dimensions.")
    sa, sb = a._sparse_shape, b._sparse_shape
    ca, cb = tuple(d - na for d in lc), tuple(d - nb for d in rc)
    fa = tuple(d for d in range(len(sa)) if d not in ca)
    fb = tuple(d for d in range(len(sb)) if d not in cb)
    out_sparse = tuple(sa[d] for d in fa) + tuple(sb[d] for d in fb)

    def one(da, ia, db, ib):
        return _pairs(da, ia, sa, ca, fa, db, ib, sb, cb, fb)
    data, indices = _per_batch(one, na, in_axes=(0, 0, 0 if nb else None, 0 if nb else None))(
        a.data, a.indices, b.data, b.indices)
    return _at_most_size(BCOO((data, indices), shape=tuple(a.shape[:na]) + out_sparse))


def _pairs(da, ia, sa, ma, ka, db, ib, sb, mb, kb):
    """The entries of the products of every pair of entries of two unbatched BCOOs (data,
    indices, sparse shape): their indices in the dimensions ``ma`` and ``mb`` must agree (an
    entry outside its array matches nothing); each pair's index is its first entry's in the
    dimensions ``ka`` followed by its second's in ``kb``, or the padding index where the
    pair does not match. ``nse`` of the result: the product of theirs."""
    pa, ina = _positions(ia, sa, ma)
    pb, inb = _positions(ib, sb, mb)
    _, ina = _positions(ia, sa)  # (inside in every dimension: matched ones and kept ones)
    _, inb = _positions(ib, sb)
    match = fnp.logical_and(fnp.logical_and(ina[:, None], inb[None, :]),
                            pa[:, None] == pb[None, :])
    product = da[:, None] * db[None, :]  # (dense blocks: elementwise)
    data = fnp.where(_per_entry(match, product), product, 0)
    cols = []
    for idx, shape, keep, first in ((ia, sa, ka, True), (ib, sb, kb, False)):
        for d in keep:
            n = shape[d]
            i = idx[..., d]
            i = fnp.where(i < 0, i + n, i)
            i = i[:, None] if first else i[None, :]
            cols.append(fnp.where(match, i, n))
    n = data.shape[0] * data.shape[1]
    indices = (fnp.reshape(fnp.stack(cols, axis=-1), (n, len(cols))) if cols
               else fnp.zeros((n, 0), dtype=ia.dtype, like=ia))
    return fnp.reshape(data, (n,) + tuple(data.shape[2:])), indices


def bcoo_multiply_sparse(lhs, rhs):
    """The elementwise product of two ``BCOO`` s of one shape and ``n_batch``: a ``BCOO``
    storing one entry per pair of entries (``nse = lhs.nse * rhs.nse``, as JAX's), the product
    of their values where they are at one position and a padding entry elsewhere;
    ``sum_duplicates`` compacts it. ``lhs * rhs`` is this. Dense dimensions multiply
    blockwise (where the two have different ``n_dense``, the extra dense dimensions of one
    are made sparse first, :func:`bcoo_update_layout`).

    Example:
        >>> A = sparse.BCOO.fromdense(np.array([[1.0, 0.0], [2.0, 3.0]]))
        >>> sparse.bcoo_multiply_sparse(A, A.T).todense()
        array([[1., 0.],
               [0., 9.]])
    """
    if not (isinstance(lhs, BCOO) and isinstance(rhs, BCOO)):
        raise TypeError("bcoo_multiply_sparse: both operands must be BCOOs; for a dense one "
                        "use bcoo_multiply_dense (or *).")
    if lhs.n_dense != rhs.n_dense and lhs.n_batch == rhs.n_batch:
        # (the fewer dense dimensions of the two: the others made sparse)
        n_dense = min(lhs.n_dense, rhs.n_dense)
        lhs = bcoo_update_layout(lhs, n_dense=n_dense)
        rhs = bcoo_update_layout(rhs, n_dense=n_dense)
    if lhs.shape != rhs.shape or lhs.n_batch != rhs.n_batch:
        raise ValueError(f"bcoo_multiply_sparse: the arrays must have one shape and n_batch "
                         f"(no broadcasting); got {lhs.shape} (n_batch={lhs.n_batch}) and "
                         f"{rhs.shape} (n_batch={rhs.n_batch}).")
    sa, sb = lhs._sparse_shape, rhs._sparse_shape
    every = tuple(range(len(sa)))

    def one(da, ia, db, ib):
        return _pairs(da, ia, sa, every, every, db, ib, sb, every, ())
    data, indices = _per_batch(one, lhs.n_batch)(lhs.data, lhs.indices, rhs.data, rhs.indices)
    return BCOO((data, indices), shape=lhs.shape)


def _per_entry(mask, data):
    """``mask`` (batch + (nse,)) shaped to broadcast against ``data`` (batch + (nse,) +
    dense)."""
    return fnp.reshape(mask, tuple(mask.shape) + (1,) * (data.ndim - mask.ndim))


def _any_nonzero(data, n_dense):
    """Whether each entry of ``data`` is nonzero (any of its dense block's values)."""
    nz = data != 0
    return fnp.any(nz, axis=tuple(range(nz.ndim - n_dense, nz.ndim))) if n_dense else nz


def _columns(indices, cols):
    """The columns ``cols`` of indices (batch + (nse, n_sparse)), in that order."""
    if not cols:
        return indices[..., :0]
    return fnp.stack([indices[..., c] for c in cols], axis=-1)


# -- elementwise and reductions ----------------------------------------------------------------

def bcoo_multiply_dense(sp_mat, v):
    """The elementwise product of the ``BCOO`` ``sp_mat`` and the dense ``v`` (a scalar, or
    an array broadcasting to ``sp_mat.shape``), as the data of a ``BCOO`` with
    ``sp_mat``'s indices, as JAX's (``sp_mat * v`` is that ``BCOO``).

    Example:
        >>> M = sparse.BCOO((np.array([2.0]), np.array([[1, 0]])), shape=(2, 2))
        >>> sparse.bcoo_multiply_dense(M, np.array([[1.0, 2.0], [3.0, 4.0]]))
        array([6.])
    """
    if _ndim(v) == 0:
        return fnp.multiply(sp_mat.data, v)
    shape = sp_mat.shape
    try:
        out_shape = fnp.broadcast_shapes(tuple(v.shape), shape)
    except ValueError:
        out_shape = None
    if out_shape != shape:
        raise ValueError(f"BCOO *: the dense operand of shape {tuple(v.shape)} must broadcast "
                         f"to the sparse array's shape {shape} (the result stays sparse, of "
                         f"that shape).")
    picked = bcoo_extract(sp_mat, fnp.broadcast_to(v, shape)).data
    return fnp.multiply(sp_mat.data, picked)


def bcoo_reduce_sum(mat, *, axes):
    """The sum of ``mat`` over ``axes``: a ``BCOO`` of the remaining axes (entries outside
    the array are zeroed; summed batch axes join the stored entries).

    Example:
        >>> M = sparse.BCOO((np.array([1.0, 2.0]), np.array([[0, 1], [1, 1]])), shape=(2, 3))
        >>> sparse.bcoo_reduce_sum(M, axes=(0,)).todense()
        array([0., 3., 0.])
    """
    axes = sorted({operator.index(a) % mat.ndim if mat.ndim else operator.index(a)
                   for a in axes})
    if any(not 0 <= a < mat.ndim for a in axes):
        raise ValueError(f"bcoo_reduce_sum: axes {axes} out of range for shape {mat.shape}.")
    nb, ns, shape = mat.n_batch, mat.n_sparse, mat._sparse_shape
    kept = [d for d in range(len(shape)) if d + nb not in axes]
    summed_dense = tuple(a - ns + 1 for a in axes if a >= nb + ns)  # (data's axes)
    data = fnp.sum(mat.data, axis=summed_dense) if summed_dense else mat.data

    def one(data, indices):
        _, inside = _positions(indices, shape)
        return fnp.where(_per_entry(inside, data), data, 0), _columns(indices, kept)
    data, indices = _per_batch(one, nb)(data, mat.indices)
    summed_batch = [a for a in axes if a < nb]
    if summed_batch:  # those batch axes go next to nse, then merge into it
        kept_batch = [a for a in range(nb) if a not in summed_batch]
        order = kept_batch + summed_batch
        dense_axes = tuple(range(nb + 1, data.ndim))
        data = fnp.permute_dims(data, tuple(order) + (nb,) + dense_axes)
        indices = fnp.permute_dims(indices, tuple(order) + (nb, nb + 1))
        lead = tuple(mat.shape[a] for a in kept_batch)
        n = mat.nse * math.prod(mat.shape[a] for a in summed_batch)  # (not -1: 0 columns)
        data = fnp.reshape(data, lead + (n,) + tuple(data.shape[nb + 1:]))
        indices = fnp.reshape(indices, lead + (n, len(kept)))
    out_shape = tuple(n for a, n in enumerate(mat.shape) if a not in axes)
    return BCOO((data, indices), shape=out_shape)


# -- reordering --------------------------------------------------------------------------------

def bcoo_sort_indices(mat):
    """``mat`` with its entries in row-major order of their indices (a stable sort; entries
    outside the array last). Duplicates are kept: see :func:`bcoo_sum_duplicates`.

    Example:
        >>> M = sparse.BCOO((np.array([1.0, 2.0]), np.array([[1, 0], [0, 1]])), shape=(2, 2))
        >>> sparse.bcoo_sort_indices(M).data
        array([2., 1.])
    """
    shape = mat._sparse_shape

    def one(data, indices):
        flat, inside = _positions(indices, shape)
        order = fnp.argsort(fnp.where(inside, flat, math.prod(shape)), stable=True)
        return fnp.take(data, order, axis=0), fnp.take(indices, order, axis=0)
    data, indices = _per_batch(one, mat.n_batch)(mat.data, mat.indices)
    return BCOO((data, indices), shape=mat.shape)


def bcoo_sum_duplicates(mat, nse=None, remove_zeros=True):
    """``mat`` with one entry per position, in row-major order: entries at one position
    added up, entries outside the array dropped, and (``remove_zeros``) entries whose value
    is 0 dropped too. The result's values are ``mat``'s dense values.

    Args:
        mat: a ``BCOO``.
        nse: the number of entries of the result (per batch element); ``None`` counts them,
            which needs concrete values: under ``jit`` pass it. Extra entries are padding
            (value 0 at the index ``shape``); too few drops the last positions' values.
        remove_zeros: drop stored zeros. Their derivative is then lost (as in JAX): under
            differentiation pass ``remove_zeros=False``.

    Example:
        >>> M = sparse.BCOO((np.array([1.0, 2.0, 5.0]), np.array([[1], [1], [0]])),
        ...                 shape=(3,))
        >>> S = sparse.bcoo_sum_duplicates(M)
        >>> S.data, S.indices
        (array([5., 3.]), array([[0],
               [1]]))
    """
    shape = mat._sparse_shape
    size = math.prod(shape)

    def ids_of(data, indices):
        flat, inside = _positions(indices, shape)
        keep = (fnp.logical_and(inside, _any_nonzero(data, data.ndim - 1)) if remove_zeros
                else inside)
        return fnp.where(keep, flat, size)
    if nse is None:
        def count(data, indices):  # distinct positions inside (sorted: vmap can batch it)
            ids = fnp.sort(ids_of(data, indices))
            if ids.shape[0] == 0:  # (no entries: and ids[:1] of none is refused by the standard)
                return fnp.sum(fnp.zeros((0,), dtype=ids.dtype, like=ids))
            first = fnp.concatenate([ids[:1] == ids[:1], ids[1:] != ids[:-1]])
            return fnp.sum(fnp.logical_and(first, ids < size))

        def most():
            n = _per_batch(count, mat.n_batch)(mat.data, mat.indices)
            return fnp.max(n) if n.size else 0
        nse = _concrete_nse(most, "BCOO.sum_duplicates")
    nse = operator.index(nse)

    def one(data, indices):
        ids = ids_of(data, indices)
        if nse == 0 or ids.shape[0] == 0:
            # (unique with a size needs both non-empty: no entries kept, or only padding)
            positions = fnp.full((nse,), size, dtype=ids.dtype, like=ids)
            out = fnp.zeros((nse,) + tuple(data.shape[1:]), dtype=data.dtype, like=data)
            return out, _unravel(positions, shape, indices.dtype)
        positions, which = fnp.unique(ids, size=nse, fill_value=size, return_inverse=True)
        which = fnp.reshape(which, (-1,))
        kept = fnp.where(_per_entry(ids < size, data), data, 0)
        out = segment_sum(kept, which, num_segments=nse)
        return out, _unravel(positions, shape, indices.dtype)
    data, indices = _per_batch(one, mat.n_batch)(mat.data, mat.indices)
    return BCOO((data, indices), shape=mat.shape)


# -- reshaping, slicing, concatenation ---------------------------------------------------------

def _wrap(i, n):
    """Index column ``i`` with negative entries counted from the end of a dimension of ``n``."""
    return fnp.where(i < 0, i + n, i)


def _replace_columns(indices, cols):
    """``indices`` with the columns ``cols`` (a dict: column -> new values) replaced."""
    n = indices.shape[-1]
    return fnp.stack([cols[d] if d in cols else indices[..., d] for d in range(n)], axis=-1)


def _pad_entries(m, nse):
    """``m`` stored with ``nse`` entries per batch element, its own then padding ones."""
    extra = nse - m.nse
    if not extra:
        return m
    nb = m.n_batch
    batch = tuple(m.shape[:nb])
    pad_data = fnp.zeros(batch + (extra,) + m._dense_shape, dtype=m.dtype, like=m.data)
    pad_idx = fnp.broadcast_to(fnp.asarray(m._sparse_shape, dtype=m.indices.dtype,
                                           like=m.indices),
                               batch + (extra, m.n_sparse))
    return BCOO((fnp.concatenate([m.data, pad_data], axis=nb),
                 fnp.concatenate([m.indices, pad_idx], axis=nb)), shape=m.shape)


def bcoo_concatenate(operands, *, dimension):
    """The ``BCOO`` s ``operands`` joined along ``dimension`` (``lax.concatenate``): they have
    one ``n_batch``, one ``n_dense`` and the same shape but along ``dimension``. Along a
    sparse dimension the result stores the entries of all (``nse`` the sum of theirs); along a
    batch dimension each is padded to the largest ``nse`` first; along a dense dimension each
    one's blocks are padded with zeros to the result's (JAX refuses this: the entries of
    all are stored, as along a sparse dimension).

    Example:
        >>> A = sparse.BCOO.fromdense(np.array([[1.0, 0.0], [0.0, 2.0]]))
        >>> sparse.bcoo_concatenate([A, A], dimension=1).todense()
        array([[1., 0., 1., 0.],
               [0., 2., 0., 2.]])
    """
    operands = list(operands)
    if not operands or not all(isinstance(m, BCOO) for m in operands):
        raise TypeError("bcoo_concatenate: operands must be a non-empty sequence of BCOOs; "
                        "for dense arrays use functrans.numpy.concatenate.")
    first = operands[0]
    ndim, nb, nd = first.ndim, first.n_batch, first.n_dense
    dimension = operator.index(dimension)
    if not 0 <= dimension < ndim:
        raise ValueError(f"bcoo_concatenate: dimension {dimension} is out of range for "
                         f"{ndim}-d operands.")
    for m in operands[1:]:
        same = all(a == b for k, (a, b) in enumerate(zip(m.shape, first.shape))
                   if k != dimension)
        if m.ndim != ndim or m.n_batch != nb or m.n_dense != nd or not same:
            raise ValueError(
                f"bcoo_concatenate: the operands must have one n_batch, one n_dense and the "
                f"same shape but along dimension {dimension}; got {first.shape} (n_batch={nb}, "
                f"n_dense={nd}) and {m.shape} (n_batch={m.n_batch}, n_dense={m.n_dense}); "
                f"bcoo_update_layout changes them.")
    total = sum(m.shape[dimension] for m in operands)
    shape = tuple(total if k == dimension else n for k, n in enumerate(first.shape))
    if dimension < nb:
        nse = max(m.nse for m in operands)
        padded = [_pad_entries(m, nse) for m in operands]
        # (padding at the index shape: outside the result as well, which is as large or more)
        return BCOO((fnp.concatenate([m.data for m in padded], axis=dimension),
                     fnp.concatenate([m.indices for m in padded], axis=dimension)), shape=shape)
    dtype = fnp.result_type(*[m.indices.dtype for m in operands])
    if dimension >= ndim - nd:
        axis = dimension - first.n_sparse + 1  # (data's)
        datas, offset = [], 0
        for m in operands:
            n = m.shape[dimension]
            pads = [(offset, 0), (total - offset - n, 1)]
            parts = [m.data]
            for width, after in pads:
                if width:
                    zshape = list(m.data.shape)
                    zshape[axis] = width
                    z = fnp.zeros(tuple(zshape), dtype=m.dtype, like=m.data)
                    parts = parts + [z] if after else [z] + parts
            datas.append(fnp.concatenate(parts, axis=axis) if len(parts) > 1 else m.data)
            offset += n
        return BCOO((fnp.concatenate(datas, axis=nb),
                     fnp.concatenate([fnp.astype(m.indices, dtype) for m in operands],
                                     axis=nb)), shape=shape)
    d = dimension - nb
    datas, indices, offset = [], [], 0
    for m in operands:
        n = m._sparse_shape[d]
        i = _wrap(m.indices[..., d], n)
        # an entry outside its operand must not land in its neighbour: to the padding index
        i = fnp.where(fnp.logical_and(i >= 0, i < n), i + offset, total)
        indices.append(_replace_columns(m.indices, {d: fnp.astype(i, m.indices.dtype)}))
        datas.append(m.data)
        offset += n
    return BCOO((fnp.concatenate(datas, axis=nb),
                 fnp.concatenate([fnp.astype(i, dtype) for i in indices], axis=nb)),
                shape=shape)


def _sliced(m, starts, sizes, strides):
    """The data, indices and sparse shape of ``m`` restricted to ``starts[k] + strides[k] *
    j`` for ``j < sizes[k]`` along its sparse dimensions ``k``: each entry's index moved,
    entries outside the slice turned into padding (value 0). (The batch dimensions are the
    caller's to slice.)"""
    nb = m.n_batch
    shape = m._sparse_shape
    new_sparse = tuple(sizes[nb:nb + len(shape)])
    cols, keep = {}, None
    for d, n in enumerate(shape):
        s, size, step = starts[nb + d], new_sparse[d], strides[nb + d]
        if isinstance(s, int) and s == 0 and size == n and step == 1:
            continue  # (the whole dimension: indices as they are)
        i = _wrap(fnp.astype(m.indices[..., d], _dt.int64), n)
        j = fnp.floor_divide(i - s, step) if step != 1 else i - s
        ok = fnp.logical_and(fnp.logical_and(i >= 0, i < n),
                             fnp.logical_and(j >= 0, j < size))
        if step != 1:
            ok = fnp.logical_and(ok, fnp.remainder(i - s, step) == 0)
        keep = ok if keep is None else fnp.logical_and(keep, ok)
        cols[d] = j
    data, indices = m.data, m.indices
    if cols:
        padding = {d: fnp.full_like(indices[..., d], new_sparse[d]) for d in range(len(shape))}
        moved = {d: fnp.astype(cols[d], indices.dtype) if d in cols else indices[..., d]
                 for d in range(len(shape))}
        indices = _replace_columns(indices, {d: fnp.where(keep, moved[d], padding[d])
                                             for d in range(len(shape))})
        data = fnp.where(_per_entry(keep, data), data, 0)
    return data, indices, new_sparse


def bcoo_slice(mat, *, start_indices, limit_indices, strides=None):
    """``mat[start:limit:stride]`` along every dimension (``lax.slice``): a ``BCOO`` with the
    same ``nse``, entries outside the slice turned into padding (or, where ``nse`` is more
    than the slice's sparse size, one entry per position, as JAX's).

    Example:
        >>> A = sparse.BCOO.fromdense(np.array([[1.0, 0.0, 3.0], [0.0, 2.0, 0.0]]))
        >>> sparse.bcoo_slice(A, start_indices=(0, 1), limit_indices=(2, 3)).todense()
        array([[0., 3.],
               [2., 0.]])
    """
    ndim = mat.ndim
    starts = [operator.index(s) for s in start_indices]
    limits = [operator.index(s) for s in limit_indices]
    strides = [1] * ndim if strides is None else [operator.index(s) for s in strides]
    if not len(starts) == len(limits) == len(strides) == ndim:
        raise ValueError(f"bcoo_slice: start_indices, limit_indices and strides need "
                         f"{ndim} entries each (the array's shape is {mat.shape}); got "
                         f"{len(starts)}, {len(limits)} and {len(strides)}.")
    for k, (s, e, st, n) in enumerate(zip(starts, limits, strides, mat.shape)):
        if not (0 <= s <= e <= n) or st < 1:
            raise ValueError(f"bcoo_slice: along dimension {k} (of size {n}) the slice "
                             f"{s}:{e}:{st} must have 0 <= start <= limit <= size and a "
                             f"positive stride.")
    sizes = [max(0, -(-(e - s) // st)) for s, e, st in zip(starts, limits, strides)]
    nb, ns = mat.n_batch, mat.n_sparse
    data, indices, new_sparse = _sliced(mat, starts, sizes, strides)
    # batch and dense dimensions: sliced as the arrays' axes
    sl = [slice(s, e, st) for s, e, st in zip(starts, limits, strides)]
    if nb or mat.n_dense:
        data = data[tuple(sl[:nb]) + (slice(None),) + tuple(sl[nb + ns:])]
        indices = indices[tuple(sl[:nb]) + (Ellipsis,)]  # (the standard wants every axis)
    return _at_most_size(BCOO((data, indices), shape=tuple(sizes[:nb]) + new_sparse
                              + tuple(sizes[nb + ns:])))


def bcoo_dynamic_slice(mat, start_indices, slice_sizes):
    """``lax.dynamic_slice`` of ``mat``: ``slice_sizes`` are static, the starts may be traced;
    a negative start counts from the end and each start is clamped so that the slice fits,
    as in ``lax.dynamic_slice``. As :func:`bcoo_slice` otherwise.

    Example:
        >>> A = sparse.BCOO.fromdense(np.array([[1.0, 0.0, 3.0], [0.0, 2.0, 0.0]]))
        >>> sparse.bcoo_dynamic_slice(A, (1, 5), (1, 2)).todense()  # (start 5 clamped to 1)
        array([[2., 0.]])
    """
    from ..lax import _starts, dynamic_slice
    sizes = [operator.index(n) for n in slice_sizes]
    starts = _starts(_ShapeOnly(mat.shape), list(start_indices), sizes, "bcoo_dynamic_slice")
    nb, ns = mat.n_batch, mat.n_sparse
    data, indices, new_sparse = _sliced(mat, starts, sizes, [1] * mat.ndim)
    if nb or mat.n_dense:  # batch and dense dimensions: sliced as the arrays' axes
        data = dynamic_slice(data, starts[:nb] + [0] + starts[nb + ns:],
                             sizes[:nb] + [mat.nse] + sizes[nb + ns:])
    if nb:
        indices = dynamic_slice(indices, starts[:nb] + [0, 0],
                                sizes[:nb] + list(indices.shape[-2:]))
    return _at_most_size(BCOO((data, indices), shape=tuple(sizes[:nb]) + new_sparse
                              + tuple(sizes[nb + ns:])))


def _at_most_size(m):
    """``m``, or where it stores more entries than its (sparse) size, one entry per position
    (as JAX's slices and products of two sparse arrays do)."""
    size = math.prod(m._sparse_shape)
    return bcoo_sum_duplicates(m, nse=size, remove_zeros=False) if m.nse > size else m


class _ShapeOnly:
    def __init__(self, shape):
        self.shape = shape


def bcoo_reshape(mat, *, new_sizes, dimensions=None):
    """``mat`` reshaped (``lax.reshape``; ``dimensions``, a permutation applied first, as
    ``lax.reshape``'s). The batch dimensions reshape among themselves (the leading new sizes
    must multiply to the batch size), the sparse ones among themselves and the dense ones
    among themselves (the trailing new sizes multiply to the dense size; new sizes of 1
    between the sparse and the dense ones are sparse, as JAX's); the same ``nse``.

    Example:
        >>> A = sparse.BCOO.fromdense(np.array([[1.0, 0.0, 3.0], [0.0, 2.0, 0.0]]))
        >>> sparse.bcoo_reshape(A, new_sizes=(3, 2)).todense()
        array([[1., 0.],
               [3., 0.],
               [2., 0.]])
    """
    if dimensions is not None and tuple(dimensions) != tuple(range(mat.ndim)):
        mat = bcoo_transpose(mat, permutation=dimensions)
    new_sizes = tuple(operator.index(n) for n in new_sizes)
    if math.prod(new_sizes) != mat.size or any(n < 0 for n in new_sizes):
        raise ValueError(f"bcoo_reshape: cannot reshape an array of shape {mat.shape} (size "
                         f"{mat.size}) to {new_sizes}.")
    nb = mat.n_batch
    batch = math.prod(mat.shape[:nb])
    k = 0
    if nb:
        k = next((j for j in range(1, len(new_sizes) + 1)
                  if math.prod(new_sizes[:j]) == batch), None)
        if k is None or math.prod(new_sizes[k:]) != math.prod(mat.shape[nb:]):
            raise NotImplementedError(
                f"bcoo_reshape: {mat.shape} to {new_sizes}: the batch dimensions (n_batch="
                f"{nb}, size {batch}) reshape among themselves, so the leading new sizes must "
                f"multiply to {batch}; reshape the dense array, or make the BCOO with "
                f"n_batch=0.")
    new_dense = ()
    if mat.n_dense:
        sparse_size, dense = math.prod(mat._sparse_shape), mat._dense_shape
        j = next((j for j in range(len(new_sizes), k - 1, -1)
                  if math.prod(new_sizes[k:j]) == sparse_size
                  and math.prod(new_sizes[j:]) == math.prod(dense)), None)
        if j is None:
            raise NotImplementedError(
                f"bcoo_reshape: {mat.shape} to {new_sizes}: the dense dimensions (n_dense="
                f"{mat.n_dense}, {dense}) reshape among themselves, so the trailing new sizes "
                f"must multiply to {math.prod(dense)} and those before them (after the batch "
                f"ones) to the sparse size {sparse_size}; bcoo_update_layout(mat, n_dense=0) "
                f"first makes every non-batch dimension sparse.")
        new_sizes, new_dense = new_sizes[:j], new_sizes[j:]
    new_sparse = new_sizes[k:]
    shape = mat._sparse_shape
    data, indices = mat.data, mat.indices
    if new_sparse != shape:
        size = math.prod(shape)
        flat, inside = _positions(indices, shape)
        flat = fnp.where(inside, flat, size)  # (outside: to the new padding index)
        lead = tuple(indices.shape[:-1])
        indices = fnp.reshape(_unravel(fnp.reshape(flat, (-1,)), new_sparse, indices.dtype),
                              lead + (len(new_sparse),))
    # (the batch sizes may change with their number: (3, 4) to (6, 2))
    new_batch = new_sizes[:k] != tuple(mat.shape[:nb])
    if new_batch or new_dense != mat._dense_shape:
        data = fnp.reshape(data, new_sizes[:k] + (mat.nse,) + new_dense)
    if new_batch:
        indices = fnp.reshape(indices, new_sizes[:k] + tuple(indices.shape[-2:]))
    return BCOO((data, indices), shape=new_sizes + new_dense)


def bcoo_squeeze(arr, *, dimensions):
    """``arr`` without its ``dimensions`` of size 1 (``lax.squeeze``). An entry whose index
    along a removed sparse dimension is outside it becomes padding (or, with no sparse
    dimension left, stores 0).

    Example:
        >>> A = sparse.BCOO.fromdense(np.array([[1.0, 0.0, 3.0]]))
        >>> sparse.bcoo_squeeze(A, dimensions=(0,)).todense()
        array([1., 0., 3.])
    """
    dims = sorted({operator.index(d) % arr.ndim if arr.ndim else operator.index(d)
                   for d in dimensions})
    for d in dims:
        if not 0 <= d < arr.ndim or arr.shape[d] != 1:
            raise ValueError(f"bcoo_squeeze: dimensions {tuple(dimensions)} must be "
                             f"dimensions of size 1 of shape {arr.shape}.")
    nb, ns = arr.n_batch, arr.n_sparse
    data, indices = arr.data, arr.indices
    batch_dims = [d for d in dims if d < nb]
    dense_axes = [d - ns + 1 for d in dims if d >= nb + ns]  # (data's axes)
    if batch_dims or dense_axes:
        data = fnp.squeeze(data, axis=tuple(batch_dims + dense_axes))
    if batch_dims:
        indices = fnp.squeeze(indices, axis=tuple(batch_dims))
    gone = [d - nb for d in dims if nb <= d < nb + ns]
    shape = arr._sparse_shape
    kept = [d for d in range(len(shape)) if d not in gone]
    if gone:
        _, inside = _positions(indices, shape, gone)  # (at 0 or -1 along the removed ones)
        if kept:
            indices = fnp.stack([fnp.where(inside, indices[..., d],
                                           fnp.full_like(indices[..., d], shape[d]))
                                 for d in kept], axis=-1)
        else:
            indices = indices[..., :0]
            data = fnp.where(_per_entry(inside, data), data, 0)
    out_shape = tuple(n for k, n in enumerate(arr.shape) if k not in dims)
    return BCOO((data, indices), shape=out_shape)


def bcoo_broadcast_in_dim(mat, *, shape, broadcast_dimensions, sharding=None):
    """``lax.broadcast_in_dim`` of ``mat``: its dimension ``k`` becomes the result's
    ``broadcast_dimensions[k]`` (increasing), a dimension of size 1 may grow, and the
    result's other dimensions are new. New (or grown) dimensions before ``mat``'s first
    sparse (or dense) one are batch dimensions (``data`` and ``indices`` broadcast, the same
    ``nse``); those from its first dense one on are dense (each entry's block broadcast, as
    JAX's); those between are sparse, each entry repeated along them (``nse`` times their
    sizes). ``sharding`` is accepted and ignored.

    Example:
        >>> v = sparse.BCOO.fromdense(np.array([0.0, 2.0]))
        >>> sparse.bcoo_broadcast_in_dim(v, shape=(2, 3), broadcast_dimensions=(0,)).todense()
        array([[0., 0., 0.],
               [2., 2., 2.]])
    """
    del sharding
    shape = tuple(operator.index(n) for n in shape)
    dims = tuple(operator.index(d) for d in broadcast_dimensions)
    nb, ns, nd = mat.n_batch, mat.n_sparse, mat.n_dense
    if (len(dims) != mat.ndim or any(not 0 <= d < len(shape) for d in dims)
            or any(a >= b for a, b in zip(dims, dims[1:]))
            or any(n not in (1, shape[d]) for n, d in zip(mat.shape, dims))):
        raise ValueError(f"bcoo_broadcast_in_dim: operand of shape {mat.shape} to {shape} "
                         f"with broadcast_dimensions {dims}: one increasing dimension of the "
                         f"result per operand dimension, of the same size or growing from 1.")
    first_sparse = dims[nb] if ns + nd else len(shape)
    first_dense = dims[nb + ns] if nd else len(shape)
    data, indices = mat.data, mat.indices
    dense_in = mat._dense_shape
    # batch: the result's dimensions before the first sparse one; broadcast as arrays
    batch_shape = shape[:first_sparse]
    where_in = {d: k for k, d in enumerate(dims)}
    lead = tuple(where_in[d] if d in where_in else None for d in range(first_sparse))
    expand = tuple(1 if k is None else mat.shape[k] for k in lead)
    data = fnp.broadcast_to(fnp.reshape(data, expand + (mat.nse,) + dense_in),
                            batch_shape + (mat.nse,) + dense_in)
    indices = fnp.broadcast_to(fnp.reshape(indices, expand + (mat.nse, ns)),
                               batch_shape + (mat.nse, ns))
    # sparse: up to the first dense one; each new or grown one repeats every entry along it
    cols = [indices[..., k] for k in range(ns)]
    out_sparse = shape[first_sparse:first_dense]
    src = [where_in.get(d) for d in range(first_sparse, first_dense)]  # (operand dims or None)
    nse = mat.nse
    nbo = len(batch_shape)

    def repeated(x, n, trailing):
        """``x`` (batch + (nse,) + trailing) with each entry repeated ``n`` times."""
        x = fnp.expand_dims(x, axis=nbo + 1)
        x = fnp.broadcast_to(x, batch_shape + (nse, n) + trailing)
        return fnp.reshape(x, batch_shape + (nse * n,) + trailing)

    new_cols = []
    for k, n in zip(src, out_sparse):
        col = cols[k - nb] if k is not None else None
        if k is not None and mat.shape[k] == n:
            new_cols.append(col)
            continue
        # repeat every entry n times along a new axis after nse, its index running 0..n-1
        # (an entry outside a grown dimension of size 1 stays outside)
        rep = fnp.arange(n, dtype=indices.dtype, like=indices)
        if col is not None:
            inside = fnp.logical_or(col == 0, col == -1)
        data = repeated(data, n, dense_in)
        new_cols = [repeated(c, n, ()) for c in new_cols]
        cols = [repeated(c, n, ()) for c in cols]
        here = fnp.broadcast_to(rep, batch_shape + (nse, n))
        if col is not None:
            here = fnp.where(inside[..., None], here, n)
        new_cols.append(fnp.reshape(here, batch_shape + (nse * n,)))
        nse *= n
    indices = (fnp.stack(new_cols, axis=-1) if new_cols
               else fnp.zeros(batch_shape + (nse, 0), dtype=indices.dtype, like=indices))
    # dense: from the first dense one on; each entry's block broadcast as an array
    out_dense = shape[first_dense:]
    if out_dense != dense_in:
        expand = [1] * len(out_dense)
        for k in range(nd):
            expand[dims[nb + ns + k] - first_dense] = dense_in[k]
        data = fnp.broadcast_to(fnp.reshape(data, batch_shape + (nse,) + tuple(expand)),
                                batch_shape + (nse,) + out_dense)
    return BCOO((data, indices), shape=shape)


# -- layout: batch, sparse and dense dimensions --------------------------------------------------

class SparseEfficiencyError(FunctransError, ValueError):
    """A layout change that would store many explicit zeros (``bcoo_update_layout`` making a
    sparse dimension of size above 1 batch or dense). Pass ``on_inefficient="warn"`` or
    ``None`` to make it anyway."""


class SparseEfficiencyWarning(UserWarning):
    """The warning of ``bcoo_update_layout(..., on_inefficient="warn")``."""


def _one_hot(col, n):
    """Whether each entry's index ``col`` (batch + (nse,); negative from the end) is ``j``,
    for ``j < n``: batch + (nse, n) booleans (all False for an index outside)."""
    return _wrap(col, n)[..., None] == fnp.arange(n, dtype=col.dtype, like=col)


def _dense_to_sparse(m, n):
    """``m`` with its first ``n`` dense dimensions made its last sparse ones: each entry
    becomes one per position of those (``nse`` times their size)."""
    nb, nse = m.n_batch, m.nse
    batch, moved, rest = m.shape[:nb], m._dense_shape[:n], m._dense_shape[n:]
    p = math.prod(moved)
    data = fnp.reshape(m.data, batch + (nse * p,) + rest)
    grid = _unravel(fnp.arange(p, dtype=_dt.int64, like=m.indices), moved, m.indices.dtype)
    old = fnp.broadcast_to(m.indices[..., None, :], batch + (nse, p, m.n_sparse))
    new = fnp.broadcast_to(grid, batch + (nse, p, n))
    indices = fnp.reshape(fnp.concatenate([old, new], axis=-1),
                          batch + (nse * p, m.n_sparse + n))
    return BCOO((data, indices), shape=m.shape)


def _batch_to_sparse(m, n):
    """``m`` with its last ``n`` batch dimensions made its first sparse ones: the entries of
    those batch members stored together (``nse`` times their size)."""
    nb, nse = m.n_batch, m.nse
    keep, moved = m.shape[:nb - n], m.shape[nb - n:nb]
    q = math.prod(moved)
    data = fnp.reshape(m.data, keep + (q * nse,) + m._dense_shape)
    grid = _unravel(fnp.arange(q, dtype=_dt.int64, like=m.indices), moved, m.indices.dtype)
    new = fnp.broadcast_to(fnp.reshape(grid, (q, 1, n)), keep + (q, nse, n))
    old = fnp.reshape(m.indices, keep + (q, nse, m.n_sparse))
    indices = fnp.reshape(fnp.concatenate([new, fnp.astype(old, new.dtype)], axis=-1),
                          keep + (q * nse, n + m.n_sparse))
    return BCOO((data, indices), shape=m.shape)


def _sparse_to_dense(m, n):
    """``m`` with its last ``n`` sparse dimensions made its first dense ones: each entry's
    block the size of those, zero but at the entry's position."""
    nb, ns, nse = m.n_batch, m.n_sparse, m.nse
    batch, moved, dense = m.shape[:nb], m._sparse_shape[ns - n:], m._dense_shape
    mask = None
    for k, size in enumerate(moved):
        shape = batch + (nse,) + tuple(size if j == k else 1 for j in range(n)) + \
            (1,) * len(dense)
        here = fnp.reshape(_one_hot(m.indices[..., ns - n + k], size), shape)
        mask = here if mask is None else fnp.logical_and(mask, here)
    data = fnp.reshape(m.data, batch + (nse,) + (1,) * n + dense)
    data = fnp.where(mask, data, fnp.zeros((), dtype=m.dtype, like=m.data))
    data = fnp.broadcast_to(data, batch + (nse,) + moved + dense)
    return BCOO((data, m.indices[..., :ns - n]), shape=m.shape)


def _sparse_to_batch(m, n):
    """``m`` with its first ``n`` sparse dimensions made its last batch ones: every new batch
    member stores all the entries, zero but those at its position."""
    nb, ns, nse = m.n_batch, m.n_sparse, m.nse
    batch, moved, dense = m.shape[:nb], m._sparse_shape[:n], m._dense_shape
    mask = None
    for k, size in enumerate(moved):
        here = fnp.moveaxis(_one_hot(m.indices[..., k], size), -1, nb)  # batch + (size, nse)
        shape = batch + tuple(size if j == k else 1 for j in range(n)) + (nse,) + \
            (1,) * len(dense)
        here = fnp.reshape(here, shape)
        mask = here if mask is None else fnp.logical_and(mask, here)
    data = fnp.reshape(m.data, batch + (1,) * n + (nse,) + dense)
    data = fnp.where(mask, data, fnp.zeros((), dtype=m.dtype, like=m.data))
    data = fnp.broadcast_to(data, batch + moved + (nse,) + dense)
    rest = fnp.reshape(m.indices[..., n:], batch + (1,) * n + (nse, ns - n))
    indices = fnp.broadcast_to(rest, batch + moved + (nse, ns - n))
    return BCOO((data, indices), shape=m.shape)


def bcoo_update_layout(mat, *, n_batch=None, n_dense=None, on_inefficient="error"):
    """The same array with ``n_batch`` batch and ``n_dense`` dense dimensions (JAX's
    ``bcoo_update_layout``; ``None`` keeps the current number). Fewer dense or batch
    dimensions make them sparse (each entry becomes one per position of the dense ones;
    the batch members' entries are stored together); more make sparse ones dense or batch,
    which stores zeros: each entry's block, or each batch member, is as large as those
    dimensions. Where such a dimension is larger than 1, ``on_inefficient`` says what
    happens: ``"error"`` (the default) raises :class:`SparseEfficiencyError`, ``"warn"``
    warns (:class:`SparseEfficiencyWarning`), ``None`` does it silently.

    Example:
        >>> A = sparse.BCOO.fromdense(np.array([[1.0, 0.0], [0.0, 2.0]]))
        >>> B = sparse.bcoo_update_layout(A, n_batch=1, on_inefficient=None)
        >>> B.n_batch, B.nse, bool((B.todense() == A.todense()).all())
        (1, 2, True)
    """
    nb = mat.n_batch if n_batch is None else operator.index(n_batch)
    nd = mat.n_dense if n_dense is None else operator.index(n_dense)
    if (nb, nd) == (mat.n_batch, mat.n_dense):
        return mat
    if on_inefficient not in ("error", "warn", None):
        raise ValueError(f"bcoo_update_layout: on_inefficient={on_inefficient!r}; expected "
                         f"'error', 'warn' or None.")
    if nb < 0 or nd < 0 or nb + nd > mat.ndim:
        raise ValueError(f"bcoo_update_layout: n_batch={nb} and n_dense={nd} must be "
                         f"non-negative, and add up to at most the number of dimensions "
                         f"({mat.ndim}, shape {mat.shape}).")
    ndim = mat.ndim
    for grows, dims, what in ((nd > mat.n_dense, mat.shape[ndim - nd:ndim - mat.n_dense],
                               f"n_dense from {mat.n_dense} to {nd}"),
                              (nb > mat.n_batch, mat.shape[mat.n_batch:nb],
                               f"n_batch from {mat.n_batch} to {nb}")):
        if grows and any(d > 1 for d in dims) and on_inefficient is not None:
            msg = (f"bcoo_update_layout: for an array of shape {mat.shape}, increasing "
                   f"{what} stores the dimensions {dims} in full (mostly zeros)")
            if on_inefficient == "error":
                raise SparseEfficiencyError(msg + "; pass on_inefficient='warn' or None to "
                                                  "do it anyway.")
            import warnings
            warnings.warn(msg + "; pass on_inefficient=None to silence this.",
                          SparseEfficiencyWarning, stacklevel=2)
    m = mat
    if nd < m.n_dense:
        m = _dense_to_sparse(m, m.n_dense - nd)
    if nb < m.n_batch:
        m = _batch_to_sparse(m, m.n_batch - nb)
    if nd > m.n_dense:
        m = _sparse_to_dense(m, nd - m.n_dense)
    if nb > m.n_batch:
        m = _sparse_to_batch(m, nb - m.n_batch)
    return m


# -- BCSR --------------------------------------------------------------------------------------

class BCSR:
    """A sparse matrix, or a batch of them, in compressed sparse row format
    (``jax.experimental.sparse.BCSR``): ``data`` (shape ``batch + (nse,) + dense``), the
    column ``indices`` of its entries (``batch + (nse,)``) and ``indptr``
    (``batch + (rows + 1,)``): row ``i`` holds the entries ``indptr[i]:indptr[i + 1]``;
    entries from ``indptr[-1]`` on are padding. The shape is
    ``batch + (rows, columns) + dense``: each entry of the matrix may be a dense block
    (``n_dense`` trailing dimensions, as JAX allows). Operations go through :meth:`to_bcoo`
    (a ``BCOO`` with the same ``n_batch`` and ``n_dense``); a ``BCSR`` is a pytree (leaves ``data``, ``indices``, ``indptr``; the
    static part the matrix shape, so that ``vmap`` maps a stacked one) whose index leaves
    carry no derivative, as a ``BCOO``'s.

    Example:
        >>> M = sparse.BCSR.fromdense(np.array([[0.0, 2.0], [3.0, 4.0]]))
        >>> M.indices, M.indptr
        (array([1, 0, 1], dtype=int32), array([0, 1, 3], dtype=int32))
        >>> M @ np.array([1.0, 10.0])
        array([20., 43.])
    """

    __array_ufunc__ = None
    __array_priority__ = 1000

    def __init__(self, args, *, shape, indices_sorted=False, unique_indices=False):
        try:
            data, indices, indptr = args
        except (TypeError, ValueError):
            raise TypeError("BCSR((data, indices, indptr), shape=...): the first argument is "
                            f"the triple (data, indices, indptr); got {type(args).__name__}."
                            ) from None
        data = data if hasattr(data, "shape") else fnp.asarray(data)
        indices = indices if hasattr(indices, "shape") else fnp.asarray(indices)
        indptr = indptr if hasattr(indptr, "shape") else fnp.asarray(indptr)
        shape = tuple(operator.index(n) for n in shape)
        n_batch = indices.ndim - 1
        n_dense = data.ndim - indices.ndim
        if n_batch < 0 or n_dense < 0 or len(shape) != n_batch + 2 + n_dense:
            raise ValueError(
                f"BCSR: shape {shape} with data of shape {tuple(data.shape)} and indices of "
                f"shape {tuple(indices.shape)}: the shape must be batch + (rows, columns) + "
                f"dense, with {n_batch} batch dimensions (those of indices but the last) and "
                f"{n_dense} dense ones (those of data past the indices').")
        for name, a in (("indices", indices), ("indptr", indptr)):
            if _dt.dtype_of(a).kind not in "iu":
                raise TypeError(f"BCSR: {name} must be integers; got dtype "
                                f"{_dt.dtype_of(a).name}.")
        batch = shape[:n_batch]
        if tuple(indices.shape[:-1]) != batch or \
                tuple(data.shape) != tuple(indices.shape) + shape[n_batch + 2:]:
            raise ValueError(f"BCSR: data must have shape batch + (nse,) + dense and indices "
                             f"batch + (nse,), batch = {batch} and dense = "
                             f"{shape[n_batch + 2:]} from shape {shape}; got "
                             f"{tuple(data.shape)} and {tuple(indices.shape)}.")
        if tuple(indptr.shape) != batch + (shape[n_batch] + 1,):
            raise ValueError(f"BCSR: indptr must have shape batch + (rows + 1,) = "
                             f"{batch + (shape[n_batch] + 1,)} for shape {shape}; got "
                             f"{tuple(indptr.shape)}.")
        self.data, self.indices, self.indptr = data, indices, indptr
        self._matrix_shape = shape[n_batch:]

    n_sparse = 2

    @property
    def shape(self):
        """``batch + (rows, columns) + dense``, the batch dimensions those of ``indptr``."""
        return tuple(self.indptr.shape[:-1]) + self._matrix_shape

    @property
    def n_batch(self):
        return self.indptr.ndim - 1

    @property
    def n_dense(self):
        return len(self._matrix_shape) - 2

    @property
    def ndim(self):
        return self.n_batch + len(self._matrix_shape)

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def nse(self):
        return self.data.shape[self.n_batch]

    def __repr__(self):
        try:
            dtype = getattr(self.dtype, "name", None) or str(self.dtype).rpartition(".")[2]
            extra = f", n_batch={self.n_batch}" if self.n_batch else ""
            extra += f", n_dense={self.n_dense}" if self.n_dense else ""
            return f"BCSR({dtype}{list(self.shape)}, nse={self.nse}{extra})"
        except (AttributeError, TypeError, IndexError):
            return f"BCSR(data={self.data!r}, indices={self.indices!r}, indptr={self.indptr!r})"

    @classmethod
    def fromdense(cls, mat, *, nse=None, index_dtype=_dt.int32, n_dense=0, n_batch=0):
        """The ``BCSR`` of the nonzero entries of the matrix ``mat`` (row-major; ``nse`` as
        for :func:`bcoo_fromdense`), or of each matrix of its ``n_batch`` leading
        dimensions; with ``n_dense``, its last ``n_dense`` dimensions are dense (an entry is
        stored where its block has a nonzero)."""
        n_dense, n_batch = operator.index(n_dense), operator.index(n_batch)
        if n_dense < 0 or n_batch < 0 or \
                getattr(mat, "ndim", None) != n_batch + 2 + n_dense:
            raise ValueError(
                f"BCSR.fromdense: a matrix (2 dimensions) after the n_batch={n_batch} batch "
                f"ones and before the n_dense={n_dense} dense ones; got shape "
                f"{tuple(getattr(mat, 'shape', ()))}.")
        return cls.from_bcoo(bcoo_fromdense(mat, nse=nse, index_dtype=index_dtype,
                                            n_batch=n_batch, n_dense=n_dense))

    @classmethod
    def from_bcoo(cls, arr):
        """The ``BCSR`` of a ``BCOO`` with two sparse dimensions (its batch and dense
        dimensions are the ``BCSR``'s); its entries are sorted by position first, entries
        outside the matrix last (as padding)."""
        if not isinstance(arr, BCOO) or arr.n_sparse != 2:
            raise NotImplementedError(f"BCSR.from_bcoo: a BCOO with two sparse dimensions; "
                                      f"got {arr!r}.")
        arr = bcoo_sort_indices(arr)
        rows, n = arr._sparse_shape

        def one(data, indices):
            flat, inside = _positions(indices, (rows, n))
            row = fnp.where(inside, flat // max(n, 1), rows)  # (sorted: outside last)
            bounds = fnp.arange(rows + 1, dtype=row.dtype, like=row)
            indptr = fnp.astype(fnp.searchsorted(row, bounds, side="left"), indices.dtype)
            col = fnp.where(inside, flat % max(n, 1), n)
            keep = fnp.reshape(inside, tuple(inside.shape) + (1,) * (data.ndim - 1))
            return fnp.where(keep, data, 0), fnp.astype(col, indices.dtype), indptr
        data, col, indptr = _per_batch(one, arr.n_batch)(arr.data, arr.indices)
        return cls((data, col, indptr), shape=arr.shape)

    @classmethod
    def from_scipy_sparse(cls, mat, *, index_dtype=None, n_dense=0, n_batch=0):
        """The ``BCSR`` of a SciPy sparse matrix or array (its stored entries, NumPy
        arrays)."""
        if n_dense or n_batch:
            raise NotImplementedError("BCSR.from_scipy_sparse: only n_dense=0 and n_batch=0.")
        csr = mat.tocsr()
        dtype = _dt.int32 if index_dtype is None else index_dtype
        return cls((fnp.asarray(csr.data), fnp.astype(fnp.asarray(csr.indices), dtype),
                    fnp.astype(fnp.asarray(csr.indptr), dtype)), shape=csr.shape)

    def to_bcoo(self):
        """The same matrix as a ``BCOO`` (the same entries, in the same order)."""
        return BCOO((self.data, self._coordinates()), shape=self.shape)

    def _coordinates(self):
        """The (row, column) indices of the entries. Concrete ``indices`` and ``indptr``:
        computed once and kept with ``indices`` (checked against ``indptr``, which may be
        another array next time or written in place), the same array each time, so that
        the ``BCOO``'s kept layouts serve every product."""
        if isinstance(self.indices, Tracer) or isinstance(self.indptr, Tracer):
            return _coordinates(self.indices, self.indptr, self._matrix_shape[0])
        slot = _cached(self.indices, ("bcsr", self.shape), lambda _: [None])
        held = slot[0]
        if (held is None or held[0]() is not self.indptr
                or not _unchanged(self.indptr, held[1])):
            token = set_current(EVAL)
            try:
                held = (weakref.ref(self.indptr), _stamp(self.indptr),
                        _coordinates(self.indices, self.indptr, self._matrix_shape[0]))
            finally:
                reset_current(token)
            slot[0] = held
        return held[2]

    def todense(self):
        """The dense matrix."""
        return self.to_bcoo().todense()

    def __matmul__(self, other):
        return self.to_bcoo() @ (other.to_bcoo() if isinstance(other, BCSR) else other)

    def __rmatmul__(self, other):
        return other @ self.to_bcoo()

    def __mul__(self, other):
        if isinstance(other, (BCOO, BCSR)):
            return NotImplemented
        other = _dense_operand(other, self, "*")
        if _ndim(other):
            raise ValueError("BCSR *: only a scalar keeps the format; convert with to_bcoo() "
                             "to multiply by an array.")
        return BCSR((fnp.multiply(self.data, other), self.indices, self.indptr),
                    shape=self.shape)

    __rmul__ = __mul__

    def __neg__(self):
        return BCSR((-self.data, self.indices, self.indptr), shape=self.shape)

    @property
    def T(self):
        """The transpose, as a ``BCOO`` (as JAX's ``BCSR.T`` is not provided either way); of
        a batch, each matrix transposed (the batch dimensions stay first, the dense ones
        last)."""
        nb = self.n_batch
        return bcoo_transpose(self.to_bcoo(),
                              permutation=tuple(range(nb)) + (nb + 1, nb)
                              + tuple(range(nb + 2, self.ndim)))


def _coordinates(indices, indptr, rows):
    if indices.ndim > 1:  # (a batch: each matrix's own)
        return vmap(lambda i, p: _coordinates(i, p, rows))(indices, indptr)
    k = fnp.arange(indices.shape[0], dtype=_dt.dtype_of(indptr), like=indptr)
    # entry k is in the last row whose start is at or before it; past indptr[-1]: padding
    row = fnp.searchsorted(indptr, k, side="right") - 1
    # (fnp.less, not <: k is a concrete array beside a traced indptr, and array-api-strict's
    # operator raises on an operand it does not know instead of deferring to the tracer)
    row = fnp.where(fnp.less(k, indptr[-1]), row, rows)
    return fnp.stack([row, fnp.astype(indices, _dt.dtype_of(row))], axis=-1)


def _bcsr_flatten(m):
    return (m.data, m.indices, m.indptr), m._matrix_shape


def _bcsr_unflatten(matrix_shape, children):
    m = object.__new__(BCSR)
    m.data, m.indices, m.indptr = children
    m._matrix_shape = matrix_shape
    return m


register_pytree_node(BCSR, _bcsr_flatten, _bcsr_unflatten)


def _register_bcsr_structural():
    from .. import api
    api._STRUCTURAL_LEAVES[BCSR] = (False, True, True)
    api._STRUCTURAL_MASKS.clear()


_register_bcsr_structural()


def _check_format(sparse_format, what, ndim=2):
    if sparse_format != "bcoo" and (sparse_format != "bcsr" or ndim != 2):
        raise NotImplementedError(f"sparse.{what}: sparse_format={sparse_format!r}; functrans "
                                  f"provides the 'bcoo' format and, for a matrix, 'bcsr' "
                                  f"alone (no CSR or COO).")


def _in_format(m, sparse_format):
    """The ``BCOO`` ``m`` in ``sparse_format`` (checked): as it is, or a ``BCSR``."""
    return BCSR.from_bcoo(m) if sparse_format == "bcsr" else m


# -- constructors ------------------------------------------------------------------------------

def empty(shape, dtype=None, index_dtype=_dt.int32, sparse_format="bcoo", *, nse=0,
          device=None):
    """A ``BCOO`` of ``shape`` with no values: ``nse`` padding entries (value 0, index
    ``shape``), on ``device`` (whose library it picks; NumPy by default). ``sparse_format``
    ``"bcsr"`` gives a ``BCSR`` (a matrix shape).

    Example:
        >>> sparse.empty((2, 3), nse=1).todense()
        array([[0., 0., 0.],
               [0., 0., 0.]])
    """
    shape = tuple(operator.index(n) for n in shape)
    _check_format(sparse_format, "empty", len(shape))
    data = fnp.zeros((nse,), dtype=dtype, device=device)
    cols = [fnp.full((nse,), n, dtype=index_dtype, like=data) for n in shape]
    indices = (fnp.stack(cols, axis=-1) if cols
               else fnp.zeros((nse, 0), dtype=index_dtype, like=data))
    return _in_format(BCOO((data, indices), shape=shape), sparse_format)


def eye(N, M=None, k=0, dtype=None, index_dtype=_dt.int32, sparse_format="bcoo", *,
        device=None):
    """The ``N`` by ``M`` identity (ones on the ``k``-th diagonal) as a ``BCOO`` storing the
    diagonal alone, on ``device`` (whose library it picks; NumPy by default).
    ``sparse_format="bcsr"`` gives a ``BCSR``.

    Example:
        >>> sparse.eye(2, 3, k=1).todense()
        array([[0., 1., 0.],
               [0., 0., 1.]])
    """
    _check_format(sparse_format, "eye")
    M = N if M is None else M
    N, M, k = operator.index(N), operator.index(M), operator.index(k)
    diag = min(N, M - k) if k >= 0 else min(N + k, M)
    if diag <= 0:
        return empty((N, M), dtype=dtype, index_dtype=index_dtype, device=device,
                     sparse_format=sparse_format)
    data = fnp.ones((diag,), dtype=dtype, device=device)
    i = fnp.arange(diag, dtype=index_dtype, like=data)
    indices = fnp.stack([i + max(-k, 0), i + max(k, 0)], axis=-1)
    return _in_format(BCOO((data, indices), shape=(N, M)), sparse_format)


# -- sparsify ----------------------------------------------------------------------------------

def sparsify(f):
    """``f``, written for dense arrays, taking ``BCOO`` arguments (``jax.experimental.sparse.
    sparsify``, a minimal version): ``f`` is staged with dense stand-ins for the sparse
    arguments, then its graph is run with the sparse ones, each operation on a sparse value
    by its sparse rule where there is one (``@``, ``dot``/``tensordot``, ``*`` and ``/`` by
    a scalar or a dense array of the same shape, ``-x``, ``sum`` over axes, transposes,
    ``astype``, the sum and difference of two sparse arrays) and on its dense form
    otherwise (a sparse value plus a dense one is dense, as in JAX). Results that stay
    sparse are ``BCOO``; a sum over every axis is dense. Positional arguments only.

    Example:
        >>> M = sparse.BCOO.fromdense(np.array([[0.0, 2.0], [3.0, 0.0]]))
        >>> f = sparse.sparsify(lambda m, v: (2.0 * m) @ v + fnp.sum(m, axis=0))
        >>> f(M, np.array([1.0, 1.0]))
        array([7., 8.])
    """
    from ..api import make_graph
    from ..graph import Var
    from ..tree import tree_flatten, tree_unflatten

    def is_sparse(x):
        return isinstance(x, BCOO)

    def sparsified(*args):
        leaves, tree = tree_flatten(args, is_leaf=is_sparse)
        standins = [fnp.broadcast_to(fnp.zeros((), dtype=x.dtype, like=x.data), x.shape)
                    if is_sparse(x) else x for x in leaves]
        graph = make_graph(f)(*tree_unflatten(tree, standins))
        env = dict(zip(graph.in_vars, leaves))
        for prim, inputs, params, outputs in graph.eqns:
            ins = [env[x] if type(x) is Var else x for x in inputs]
            out = NotImplemented
            if any(is_sparse(x) for x in ins):
                rule = _SPARSE_RULES.get(prim.name)
                if rule is not None:
                    out = rule(*ins, **params)
                if out is NotImplemented:
                    ins = [x.todense() if is_sparse(x) else x for x in ins]
            if out is NotImplemented:
                out = prim.bind(*ins, **params)
            if prim.multiple_results:
                env.update(zip(outputs, out))
            else:
                env[outputs] = out
        outs = [env[x] if type(x) is Var else x for x in graph.outputs]
        return tree_unflatten(graph.out_tree, outs)
    return sparsified


def _sparse_matmul(a, b):
    if a.ndim != 2 or b.ndim != 2:
        return NotImplemented
    return bcoo_dot_general(a, b, dimension_numbers=(((1,), (0,)), ((), ())))


def _sparse_tensordot(a, b, *, a1, a2, perm=None):
    if any(isinstance(x, BCOO) and x.n_batch for x in (a, b)):
        return NotImplemented
    out = bcoo_dot_general(a, b, dimension_numbers=((tuple(a1), tuple(a2)), ((), ())))
    if perm is None:  # (a reverse pass's contraction may permute its result: see tensordot_p)
        return out
    return bcoo_transpose(out, permutation=perm) if isinstance(out, BCOO) else \
        fnp.permute_dims(out, perm)


def _sparse_mul(a, b):
    if isinstance(a, BCOO) and isinstance(b, BCOO):
        if a.shape != b.shape or a.n_batch != b.n_batch:
            return NotImplemented
        return bcoo_multiply_sparse(a, b)
    sp, other = (a, b) if isinstance(a, BCOO) else (b, a)
    if _ndim(other) and tuple(other.shape) != sp.shape:
        return NotImplemented
    return _like(sp, bcoo_multiply_dense(sp, other))


def _sparse_div(a, b):
    if not isinstance(a, BCOO) or isinstance(b, BCOO) or _ndim(b):
        return NotImplemented
    return a / b


def _sparse_reduce_sum(m, *, axes):
    out = bcoo_reduce_sum(m, axes=axes)
    return fnp.sum(out.data) if out.ndim == 0 else out


def _sparse_add(a, b, sign=1):
    if not (isinstance(a, BCOO) and isinstance(b, BCOO) and a.shape == b.shape
            and a.n_batch == b.n_batch):
        return NotImplemented
    return _concatenated(a, b if sign > 0 else -b, "+")


_SPARSE_RULES = {
    "matmul": _sparse_matmul,
    "tensordot": _sparse_tensordot,
    "mul": _sparse_mul,
    "div": _sparse_div,
    "neg": lambda m: -m,
    "reduce_sum": _sparse_reduce_sum,
    "transpose": lambda m, *, perm: bcoo_transpose(m, permutation=perm),
    "convert_element_type": lambda m, *, dtype: m.astype(dtype),
    "add": _sparse_add,
    "sub": lambda a, b: _sparse_add(a, b, sign=-1),
}
