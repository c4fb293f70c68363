"""Primitives that move data without arithmetic: reshape, broadcast, transpose, concatenate,
flip, slicing, dtype conversion. All are linear; each transpose is one rule."""

from __future__ import annotations

import functools

from .. import dtypes as _dt
from ..core import EVAL as _EVAL, ShapedArray, _current_get, get_aval, primitive
from ..graph import Var
from ._batching import all_batched, axes_rule, leading_rule, shift, unbatched_rule

# -- reshape --------------------------------------------------------------------------------

reshape_p = primitive("reshape")
reshape_p.def_impl(lambda b, x, shape: b.xp.reshape(x, shape))
reshape_p.def_abstract_eval(lambda x, shape: ShapedArray(shape, x.dtype))
# The rules bind directly: their shapes are resolved tuples already (reshape() below resolves
# -1 and skips no-op reshapes before binding), and these run once per reshape differentiated.
reshape_p.def_jvp(lambda p, t, shape: (reshape_p.bind(p[0], shape=shape),
                                       reshape_p.bind(t[0], shape=shape)))
reshape_p.def_transpose(lambda ct, x, shape: [reshape(ct, x.aval.shape)])
reshape_p.def_batch(lambda a, d, shape: (reshape(a[0], (a[0].shape[0],) + shape), 0))


def reshape(x, shape):
    shape = tuple(shape)
    if -1 in shape:
        # Resolved here: the parameter is also the result's aval, and a batched reshape to
        # (0, -1) is ambiguous (an empty batch).
        known = 1
        for d in shape:
            known *= d if d != -1 else 1
        size = 1
        for d in x.shape:
            size *= d
        if known:
            shape = tuple(size // known if d == -1 else d for d in shape)
    return x if x.shape == shape else reshape_p.bind(x, shape=shape)

# -- broadcast_in_dim: operand axis i becomes result axis dims[i] ---------------------------


def _broadcast_impl(b, x, shape, dims):
    expanded = [1] * len(shape)
    for i, d in enumerate(dims):
        expanded[d] = x.shape[i]
    return b.xp.broadcast_to(b.xp.reshape(x, tuple(expanded)), shape)


@functools.lru_cache(maxsize=4096)
def _broadcast_transpose_plan(in_shape, shape, dims):
    """The axes a broadcast's transpose sums and the sum's parameters ({} or keepdims) if it
    has the operand's shape already (then no reshape is bound), else None: worked out once,
    as a bias broadcast is transposed at every step."""
    summed = [a for a in range(len(shape)) if a not in dims]
    summed += [d for i, d in enumerate(dims) if in_shape[i] == 1 and shape[d] != 1]
    summed = tuple(sorted(summed))
    if tuple(d for a, d in enumerate(shape) if a not in summed) == in_shape:
        return summed, {}
    if tuple(1 if a in summed else d for a, d in enumerate(shape)) == in_shape:
        return summed, {"keepdims": True}  # (length-1 axes broadcast: kept by the sum)
    return summed, None


def _broadcast_transpose(ct, x, shape, dims):
    in_shape = x.aval.shape
    summed, keep = _broadcast_transpose_plan(in_shape, shape, dims)
    if keep is not None:
        if not summed:
            return [ct]
        # At the bottom of the stack (a bias's gradient in grad's backward pass), an array of
        # a library seen before: its implementation directly, as the evaluator would call it
        fn = _reduce_sum_impls_get(type(ct))
        if fn is not None and _current_get().interp is _EVAL:
            return [fn(ct, axes=summed, **keep)]
        return [reduce_sum_p.bind(ct, axes=summed, **keep)]
    return [reshape_p.bind(reduce_sum_p.bind(ct, axes=summed), shape=in_shape)]


broadcast_p = primitive("broadcast_in_dim")
broadcast_p.def_impl(_broadcast_impl)
broadcast_p.def_abstract_eval(lambda x, shape, dims: ShapedArray(shape, x.dtype))
broadcast_p.def_jvp(lambda p, t, shape, dims: (broadcast_p.bind(p[0], shape=shape, dims=dims),
                                               broadcast_p.bind(t[0], shape=shape, dims=dims)))
broadcast_p.def_transpose(_broadcast_transpose)
broadcast_p.def_batch(lambda a, d, shape, dims: (
    broadcast_in_dim(a[0], (a[0].shape[0],) + shape, (0,) + shift(dims)), 0))


def broadcast_in_dim(x, shape, dims):
    return broadcast_p.bind(x, shape=tuple(shape), dims=tuple(dims))


def broadcast_to(x, shape):
    """NumPy-style broadcast of ``x`` to ``shape`` (trailing axes aligned)."""
    shape = tuple(shape)
    if x.shape == shape:
        return x
    lead = len(shape) - len(x.shape)
    return broadcast_in_dim(x, shape, range(lead, len(shape)))

# -- permute_dims ------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1024)  # (a transpose's every backward pass asks again)
def _inverse_perm(perm):
    inv = [0] * len(perm)
    for i, p in enumerate(perm):
        inv[p] = i
    return tuple(inv)


transpose_p = primitive("transpose")
transpose_p.def_impl(lambda b, x, perm: b.xp.permute_dims(x, perm))
transpose_p.def_abstract_eval(
    lambda x, perm: ShapedArray(tuple(x.shape[p] for p in perm), x.dtype))
transpose_p.def_jvp(lambda p, t, perm: (transpose(p[0], perm), transpose(t[0], perm)))
transpose_p.def_transpose(lambda ct, x, perm: [transpose(ct, _inverse_perm(perm))])
transpose_p.def_batch(lambda a, d, perm: (transpose(a[0], (0,) + shift(perm)), 0))


# The identity permutations of up to 32 axes (NumPy's most): one set look-up per transpose
# rather than a range and a tuple built to compare with.
_IDENTITY_PERMS = frozenset(tuple(range(n)) for n in range(33))


def transpose(x, perm):
    if type(perm) is not tuple:
        perm = tuple(perm)
    if perm in _IDENTITY_PERMS or (len(perm) > 32 and perm == tuple(range(len(perm)))):
        return x
    return transpose_p.bind(x, perm=perm)


def matrix_transpose(x):
    n = len(x.shape)
    if n == 2:  # (every matmul's transpose rule: bound directly)
        # With no transform active, an array of a backend seen before: what the evaluator
        # would call, without its frames (a view, once per matmul of a reverse pass).
        fn = _transpose_impls_get(type(x))
        if fn is not None and _current_get().interp is _EVAL:
            return fn(x, perm=(1, 0))
        return transpose_p.bind(x, perm=(1, 0))
    return transpose(x, tuple(range(n - 2)) + (n - 1, n - 2))


_transpose_impls_get = transpose_p._impls.get


# -- concat --------------------------------------------------------------------------------


def _concat_aval(*xs, axis):
    shape = list(xs[0].shape)
    shape[axis] = sum(x.shape[axis] for x in xs)
    return ShapedArray(tuple(shape), xs[0].dtype)


def _concat_jvp(primals, tangents, axis):
    out = concat(primals, axis)
    if all(t is None for t in tangents):
        return out, None
    ts = [zeros_like(p) if t is None else t for p, t in zip(primals, tangents)]
    return out, concat(ts, axis)


def _concat_into(b, outs, *xs, axis):
    fn = b.writer_into("concat")
    return None if fn is None else fn(xs, axis=axis, out=outs[0])


def _concat_transpose(ct, *xs, axis):
    cts, start = [], 0
    for x in xs:
        n = (x.aval if type(x) is Var else x).shape[axis]
        if type(x) is Var:
            idx = [(0, d, 1) for d in ct.shape]
            idx[axis] = (start, start + n, 1)
            cts.append(slice_(ct, tuple(idx)))
        else:
            cts.append(None)
        start += n
    return cts


concat_p = primitive("concat")
concat_p.def_impl(lambda b, *xs, axis: b.xp.concat(xs, axis=axis))
concat_p.into = _concat_into
concat_p.def_abstract_eval(_concat_aval)
concat_p.def_jvp(_concat_jvp)
concat_p.def_transpose(_concat_transpose)
concat_p.def_batch(lambda a, d, axis: (concat(all_batched(a, d), axis + 1), 0))


def concat(xs, axis):
    return concat_p.bind(*xs, axis=axis)

# -- flip ----------------------------------------------------------------------------------

flip_p = primitive("flip")
flip_p.same_aval = True
flip_p.def_impl(lambda b, x, axes: b.xp.flip(x, axis=axes))
flip_p.def_abstract_eval(lambda x, axes: x)
flip_p.def_jvp(lambda p, t, axes: (flip(p[0], axes), flip(t[0], axes)))
flip_p.def_transpose(lambda ct, x, axes: [flip(ct, axes)])
flip_p.def_batch(axes_rule(flip_p, "axes", many=True))


def flip(x, axes):
    return flip_p.bind(x, axes=tuple(axes))

# -- roll ----------------------------------------------------------------------------------
# A cyclic shift along one axis (``shift`` in [1, n), ``axis`` non-negative: functrans.numpy's
# roll normalises both and binds one per axis). One equation rather than two slices and a
# concat: linear, its transpose is the opposite shift, and it is evaluated into kept memory.


def _roll_parts(shape, shift, axis):
    tail = [slice(None)] * len(shape)
    head = [slice(None)] * len(shape)
    n = shape[axis]
    tail[axis] = slice(n - shift, n)
    head[axis] = slice(0, n - shift)
    return tuple(tail), tuple(head)


def _roll_into(b, outs, x, shift, axis):
    # (the same pieces, in the same order, as the library's own roll would copy)
    fn = b.writer_into("concat")
    if fn is None:
        return None
    tail, head = _roll_parts(x.shape, shift, axis)
    return fn((x[tail], x[head]), axis=axis, out=outs[0])


roll_p = primitive("roll")
roll_p.same_aval = True
roll_p.def_impl(lambda b, x, shift, axis: b.xp.roll(x, shift, axis=axis))
roll_p.into = _roll_into
roll_p.def_abstract_eval(lambda x, shift, axis: x)
roll_p.def_jvp(lambda p, t, shift, axis: (roll(p[0], shift, axis), roll(t[0], shift, axis)))
roll_p.def_transpose(lambda ct, x, shift, axis: [roll(ct, x.aval.shape[axis] - shift, axis)])
roll_p.def_batch(axes_rule(roll_p, "axis", many=False))


def roll(x, shift, axis):
    return roll_p.bind(x, shift=shift, axis=axis)

# -- basic slicing: one (start, stop, step) per axis, already normalised ----------------------


def _forward_slices(idx):
    """Python slices with positive steps selecting the same elements as ``idx``, and the
    axes to flip afterwards (not every library takes negative steps: torch does not)."""
    slices, flips = [], []
    for axis, (a, b, c) in enumerate(idx):
        if c > 0:
            slices.append(slice(a, b, c))
            continue
        n = len(range(a, b, c))
        last = a + (n - 1) * c if n else a
        slices.append(slice(last, a + 1, -c) if n else slice(0, 0, 1))
        flips.append(axis)
    return tuple(slices), tuple(flips)


def _slice_impl(b, x, idx):
    slices, flips = _forward_slices(idx)
    out = x[slices]
    return b.xp.flip(out, axis=flips) if flips else out


def _slice_shape(idx):
    return tuple(len(range(a, b, c)) for a, b, c in idx)


slice_p = primitive("slice")
slice_p.def_impl(_slice_impl)
slice_p.def_abstract_eval(lambda x, idx: ShapedArray(_slice_shape(idx), x.dtype))
slice_p.def_jvp(lambda p, t, idx: (slice_(p[0], idx), slice_(t[0], idx)))
slice_p.def_transpose(lambda ct, x, idx: [scatter_slice(ct, x.aval.shape, idx)])
slice_p.def_batch(lambda a, d, idx: (slice_(a[0], ((0, a[0].shape[0], 1),) + idx), 0))


def _scatter_slice_impl(b, x, shape, idx):
    slices, flips = _forward_slices(idx)
    out = b.xp.zeros(shape, dtype=x.dtype, device=b.device(x))
    return b.set_items(out, slices, b.xp.flip(x, axis=flips) if flips else x)


# The transpose of slicing: the operand placed into zeros of the sliced array's shape.
scatter_slice_p = primitive("scatter_slice")
scatter_slice_p.def_impl(_scatter_slice_impl)
scatter_slice_p.def_abstract_eval(lambda x, shape, idx: ShapedArray(shape, x.dtype))
scatter_slice_p.def_jvp(lambda p, t, shape, idx: (scatter_slice(p[0], shape, idx),
                                                  scatter_slice(t[0], shape, idx)))
scatter_slice_p.def_transpose(lambda ct, x, shape, idx: [slice_(ct, idx)])
scatter_slice_p.def_batch(lambda a, d, shape, idx: (scatter_slice(
    a[0], (a[0].shape[0],) + shape, ((0, a[0].shape[0], 1),) + idx), 0))


def slice_(x, idx):
    return slice_p.bind(x, idx=tuple(idx))


def scatter_slice(x, shape, idx):
    return scatter_slice_p.bind(x, shape=tuple(shape), idx=tuple(idx))

# -- dtype conversion ----------------------------------------------------------------------


def _convert_jvp(primals, tangents, dtype):
    x, = primals
    out = convert_element_type(x, dtype)
    if not _dt.is_float(dtype):
        return out, None
    return out, convert_element_type(tangents[0], dtype)


def _convert_impl(b, x, dtype):
    if dtype.kind != "c" and b.dtype(x).kind == "c":
        if dtype.kind == "b":
            return x != 0  # true where either part is non-zero, as NumPy's cast
        x = b.xp.real(x)  # complex -> real keeps the real part (the standard forbids astype)
    return b.xp.astype(x, b.native_dtype(dtype))


def _convert_transpose(ct, x, dtype):
    # Transpose of real -> complex is taking the real part (JAX's convention).
    return [convert_element_type(ct, x.aval.dtype)]


convert_p = primitive("convert_element_type")
convert_p.def_impl(_convert_impl)
convert_p.def_abstract_eval(lambda x, dtype: ShapedArray(x.shape, dtype))
convert_p.def_jvp(_convert_jvp)
convert_p.def_transpose(_convert_transpose)
convert_p.def_batch(leading_rule(convert_p))


def convert_element_type(x, dtype):
    return convert_p.bind(x, dtype=dtype)

def bitcast_shape(shape, source, target):
    """The shape of ``source`` bits of ``shape`` read as ``target``: a trailing axis added
    (to a narrower dtype) or removed (to a wider one: its size must be the ratio)."""
    shape = tuple(shape)
    if target.bits < source.bits:
        return shape + (source.bits // target.bits,)
    if target.bits > source.bits:
        ratio = target.bits // source.bits
        if not shape or shape[-1] != ratio:
            raise ValueError(f"lax.bitcast_convert_type: from {source.name} to {target.name} "
                             f"the last axis must have size {ratio}; got shape {shape}.")
        return shape[:-1]
    return shape


def _bitcast_impl(b, x, dtype):
    # Through NumPy on the host (a view of the bytes), then back to x's backend and device,
    # where the library has no view of its own (torch's and CuPy's: their backends' impls).
    import numpy as np
    source = b.dtype(x)
    a = np.asarray(b.to_numpy(x))
    shape = bitcast_shape(a.shape, source, dtype)  # (x's own: ascontiguousarray makes a 0-d 1-d)
    out = np.ascontiguousarray(a).reshape(-1).view(dtype.name).reshape(shape)
    device = b.device(x) if b.name != "numpy" else None
    return b.asarray(np.array(out), dtype=dtype, device=device)


def _bitcast_jvp(primals, tangents, dtype):
    x, = primals
    out = bitcast_p.bind(x, dtype=dtype)
    if not _dt.is_float(dtype):
        return out, None  # integer results carry no tangent
    source = get_aval(x).dtype
    if source is dtype:
        return out, tangents[0]  # the same dtype: the identity
    raise ValueError(
        f"lax.bitcast_convert_type: no derivative from {source.name} to {dtype.name} "
        f"(reading a value's bits as another floating dtype is not differentiable; JAX gives a "
        f"zero derivative). Apply stop_gradient to the operand if a zero is what you want.")


# bitcast_convert_type(x, dtype=t): x's bits read as t (a trailing axis added or removed when
# the widths differ, so a leading batch axis is untouched). No transpose: the derivative is
# the identity or refused.
bitcast_p = primitive("bitcast_convert_type")
bitcast_p.def_impl(_bitcast_impl)
bitcast_p.def_abstract_eval(
    lambda x, dtype: ShapedArray(bitcast_shape(x.shape, x.dtype, dtype), dtype))
bitcast_p.def_jvp(_bitcast_jvp)
bitcast_p.def_batch(leading_rule(bitcast_p))


def bitcast_convert_type(x, dtype):
    return bitcast_p.bind(x, dtype=dtype)

# -- creation from a template: no derivative -------------------------------------------------

def _full_like_impl(b, x, fill_value, dtype=None):
    return b.xp.full_like(x, fill_value, dtype=b.native_dtype(dtype))


full_like_p = primitive("full_like")
full_like_p.def_impl(_full_like_impl)
full_like_p.def_abstract_eval(
    lambda x, fill_value, dtype=None: x if dtype is None else ShapedArray(x.shape, dtype))
full_like_p.def_jvp(lambda p, t, **params: (full_like_p.bind(p[0], **params), None))
full_like_p.def_batch(leading_rule(full_like_p))
full_like_p.value_free = True


def full_like(x, fill_value, dtype=None):
    if dtype is None:
        return full_like_p.bind(x, fill_value=fill_value)
    return full_like_p.bind(x, fill_value=fill_value, dtype=dtype)


def zeros_like(x):
    return full_like_p.bind(x, fill_value=0)


def ones_like(x):
    return full_like_p.bind(x, fill_value=1)

# -- tril / triu: keep the elements on one side of a diagonal (linear) ------------------------


def _tri_impl(b, x, k, lower):
    n, m = x.shape[-2], x.shape[-1]
    rows = b.xp.reshape(b.xp.arange(n, device=b.device(x)), (n, 1))
    cols = b.xp.reshape(b.xp.arange(m, device=b.device(x)), (1, m))
    mask = (cols - rows <= k) if lower else (cols - rows >= k)
    return b.xp.where(mask, x, b.xp.zeros((), dtype=x.dtype, device=b.device(x)))


tri_p = primitive("tri")
tri_p.same_aval = True
tri_p.def_impl(_tri_impl)
tri_p.def_abstract_eval(lambda x, k, lower: x)
tri_p.def_jvp(lambda p, t, k, lower: (tri(p[0], k, lower), tri(t[0], k, lower)))
tri_p.def_transpose(lambda ct, x, k, lower: [tri(ct, k, lower)])
tri_p.def_batch(leading_rule(tri_p))


def tri(x, k, lower):
    """``tril(x, k)`` if ``lower`` else ``triu(x, k)``."""
    return tri_p.bind(x, k=k, lower=lower)

# -- stop_gradient ------------------------------------------------------------------------------

stop_gradient_p = primitive("stop_gradient")
stop_gradient_p.same_aval = True
stop_gradient_p.def_impl(lambda b, x: x)
stop_gradient_p.def_abstract_eval(lambda x: x)
# Rebinding (rather than returning the primal) stops the derivative at every level of nesting.
stop_gradient_p.def_jvp(lambda p, t: (stop_gradient_p.bind(p[0]), None))
stop_gradient_p.def_batch(leading_rule(stop_gradient_p))


from .reductions import reduce_sum_p  # noqa: E402
_reduce_sum_impls_get = reduce_sum_p._impls.get

# -- iota: 0, 1, ..., n-1 on the backend (and device) of a template operand -------------------
# Namespace functions use it to make index arrays next to the data they index.

iota_p = primitive("iota")
iota_p.def_impl(lambda b, like, n, dtype: b.xp.arange(n, dtype=b.native_dtype(dtype),
                                                      device=b.device(like)))
iota_p.def_abstract_eval(lambda like, n, dtype: ShapedArray((n,), dtype))
iota_p.def_jvp(lambda p, t, n, dtype: (iota(p[0], n, dtype), None))
iota_p.def_batch(unbatched_rule(iota_p))


def iota(like, n, dtype=_dt.int64):
    return iota_p.bind(like, n=int(n), dtype=dtype)
