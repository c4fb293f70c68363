"""Linear algebra primitives."""

from __future__ import annotations

import functools
import itertools
import math

import numpy as np

from ..core import EVAL as _EVAL, ShapedArray, _current_get, concrete_behind, primitive
from ..errors import ShapeError
from ..graph import Var
from .elementwise import add
from ._batching import all_batched, batch_size, leading_rule, with_batch
from .structural import (_IDENTITY_PERMS, _inverse_perm, matrix_transpose, reshape,
                         transpose)


def _matmul_aval(x, y):
    # (one per shapes and dtype: linearize records the same products at every step, two or
    # three per layer; avals are never changed, so one object serves every equation)
    try:
        return _MATMUL_AVALS[x.shape, y.shape, x.dtype]
    except (KeyError, TypeError):  # (TypeError: a shape given as a list)
        pass
    xs, ys = x.shape, y.shape
    if len(xs) < 2 or len(ys) < 2 or xs[:-2] != ys[:-2] or xs[-1] != ys[-2]:
        raise ShapeError(f"matmul primitive needs (..., n, k) @ (..., k, m) with equal batch "
                         f"dimensions; got {xs} and {ys}")
    out = ShapedArray(xs[:-1] + ys[-1:], x.dtype)
    if type(xs) is tuple and type(ys) is tuple and len(_MATMUL_AVALS) < 4096:
        _MATMUL_AVALS[xs, ys, x.dtype] = out
    return out


_MATMUL_AVALS: dict = {}


def _matmul_jvp(primals, tangents):
    x, y = primals
    tx, ty = tangents
    out = matmul(x, y)
    if tx is None:
        return out, matmul(x, ty)
    if ty is None:
        return out, matmul(tx, y)
    return out, add(matmul(tx, y), matmul(x, ty))


def _matmul_transpose(ct, x, y):
    if type(x) is Var:
        a, b = ct, matrix_transpose(y)
    else:
        a, b = matrix_transpose(x), ct
    # At the bottom of the stack (grad's backward pass), operands of one library seen before:
    # its implementation directly, as the evaluator would call it, without bind's and the
    # evaluator's frames (once per weight of a network per pass)
    fn = _matmul_impls_get(type(a))
    if fn is not None and type(b) is type(a) and _current_get().interp is _EVAL:
        out = fn(a, b)
    else:
        out = matmul(a, b)
    return [out, None] if type(x) is Var else [None, out]


# Batched matrix product with equal batch dimensions; functrans.numpy.matmul handles 1-D
# operands and broadcasting of the batch dimensions.
matmul_p = primitive("matmul")
matmul_p.def_impl(lambda b, x, y: b.xp.matmul(x, y))
matmul_p.def_abstract_eval(_matmul_aval)
matmul_p.def_jvp(_matmul_jvp)
matmul_p.def_transpose(_matmul_transpose)


matmul = matmul_p.bind  # (no frame of its own: rules bind it once or twice per product)
_matmul_impls_get = matmul_p._impls.get


def _matmul_batch(args, dims):
    x, y = args
    if dims[1] is None and len(y.shape) == 2:
        # (B, ..., n, k) @ (k, m): one product with the batch folded into the rows.
        lead = tuple(x.shape[:-1])
        rows = reshape(x, (math.prod(lead), x.shape[-1]))
        return reshape(matmul(rows, y), lead + (y.shape[-1],)), 0
    if dims[0] is None and len(x.shape) == 2:
        # (n, k) @ (B, ..., k, m): transposed, (B, ..., m, k) @ (k, n) is one product with the
        # batch folded into the rows. (Folding it into the columns instead leaves the result
        # strided, batch axis in the middle, and every later elementwise operation slower.)
        lead = tuple(y.shape[:-2])
        k, m = y.shape[-2:]
        rows = reshape(matrix_transpose(y), (math.prod(lead) * m, k))
        out = reshape(matmul(rows, matrix_transpose(x)), lead + (m, x.shape[0]))
        return matrix_transpose(out), 0
    return matmul(*all_batched(args, dims)), 0


matmul_p.def_batch(_matmul_batch)


def _strong_product_impl(b, x, y, *gate, matrix, entry=False, tie=None, lazy=False,
                         cols=False):
    # (products through the matmul primitive's impl: NumPy's @ gives bfloat16 operands a
    # float32 product, the backend's matmul a bfloat16 one)
    if lazy:   # (the plain product: see strong_product_p's note)
        return matmul_p.impl_for(b)(x, y) if matrix else x * y
    xp = b.xp
    if cols:
        return _cols_product(b, x, y)
    if b.name == "numpy":
        # (NumPy, in host memory: where the plain product is finite it is the strong one,
        # up to the sign of a zero (the masks' matrices and entries hold x * 0 or 0 @ y
        # with finite factors, 0); one pass over it, where the masks cost ~8 passes)
        with np.errstate(invalid="ignore", over="ignore"):
            out = matmul_p.impl_for(b)(x, y) if matrix else x * y
            if np.isfinite(out.sum()):   # (a sum is finite only where every term is)
                return out
    if entry:   # (as mul_sz: no inf * 0 evaluated)
        x = xp.where(y == 0, 0.0, x)
    with np.errstate(invalid="ignore"):   # (the inf * 0 that the mask below replaces)
        out = matmul_p.impl_for(b)(x, y) if matrix else x * y
    zero = xp.all(x == 0, axis=(-2, -1))
    if tie == "rev":
        # (a pair of columns that the cotangent y leaves both at 0: per matrix too; or a
        # matrix where x, a tangent of the gaps in a second derivative, is 0)
        unread = xp.all(y == 0, axis=-2)
        return xp.where((unread[..., :, None] & unread[..., None, :])
                        | zero[..., None, None], 0.0, out)
    zero = zero | xp.all((gate[0] if gate else y) == 0, axis=(-2, -1))
    return xp.where(zero[..., None, None], 0.0, out)


def _cols_product(b, x, y):
    """x @ y without the terms j where x's column j or y's row j is all 0 (cols=True; see
    strong_product_p)."""
    mm = matmul_p.impl_for(b)
    if b.name == "numpy":   # (host memory: the plain product where it is finite)
        with np.errstate(invalid="ignore", over="ignore"):
            out = mm(x, y)
            if np.isfinite(out.sum()):
                return out
    xp = b.xp
    skip = xp.all(x == 0, axis=-2) | xp.all(y == 0, axis=-1)
    return mm(xp.where(skip[..., None, :], xp.zeros_like(x), x),
              xp.where(skip[..., :, None], xp.zeros_like(y), y))


def _strong_product_aval(x, y, *gate, matrix, entry=False, tie=None, lazy=False, cols=False):
    return _matmul_aval(x, y) if matrix else x


def _strong_product_jvp(primals, tangents, matrix, entry=False, tie=None, lazy=False,
                        cols=False):
    x, y, *gate = primals
    tx, ty = tangents[:2]
    params = dict(matrix=matrix, entry=True) if entry else dict(matrix=matrix)
    if cols:
        params["cols"] = True
    if tie is not None:
        params["tie"] = tie
    t = None if tx is None else strong_product_p.bind(tx, y, *gate, **params)
    if ty is not None:
        ty = strong_product_p.bind(x, ty, **params)
        t = ty if t is None else add(t, ty)
    if lazy:   # (the tangent's products strong, the value plain)
        params["lazy"] = True
    return strong_product_p.bind(x, y, *gate, **params), t


_TIE_T = {"fwd": "rev", "rev": "fwd"}


def _strong_product_transpose(ct, x, y, *gate, matrix, entry=False, tie=None, lazy=False,
                              cols=False):
    # (per matrix, also after a product strong per entry: a zero entry of a cotangent may
    # be a cancellation (two terms' transposes) where the infinite factor stands for a
    # limit: 0 there hid the limit, nan is honest)
    tr = matrix_transpose if matrix else (lambda a: a)
    params = dict(matrix=matrix) if tie is None else dict(matrix=matrix, tie=tie)
    if lazy:
        params["lazy"] = True
    if cols:   # (ct @ y^T without ct's zero columns; x^T @ ct without x's zero rows)
        params["cols"] = True
        if type(x) is Var:
            return [strong_product_p.bind(ct, tr(y), **params), None]
        return [None, strong_product_p.bind(tr(x), ct, **params)]
    if type(x) is Var:
        return [strong_product_p.bind(ct, tr(y), **params), None] + [None] * len(gate)
    if tie is not None:
        params["tie"] = _TIE_T[tie]
    return [None, strong_product_p.bind(tr(x), ct, **params)] + [None] * len(gate)


# strong_product(x, y, [gate], matrix, entry) (session 41): x @ y (matrix=True) or x * y of
# equal shapes, with each matrix of the stack (the last two axes) exactly 0 where x, or y
# (or the gate, when given: y's linear source, 0 wherever y must be) is all zeros there,
# whatever the other factor holds (inf, nan): a product with a strong zero per matrix. With
# entry=True (x * y only), also 0 at each entry where y is 0, as mul_sz (its transpose is
# per matrix). Where both factors are finite it is the plain product. For linear maps with
# infinite coefficients (eigh's eigenvectors' tangent map at a tie): a matrix of a stack
# that the tangent or cotangent does not move gets 0, not inf * 0 = nan, through their
# derivatives and transposes. (Per matrix: a zero entry of a moved matrix may stand for a
# limit at a tie, which an honest nan must not hide.) The gate takes no tangent or
# cotangent.
# With tie="fwd" (x * y, x the reciprocal gaps of a spectral rule, y a tangent): per matrix
# as above, and the transpose is tie="rev": 0 at (i, j) only where the cotangent's columns
# i and j are both all 0 (the function reads neither of a pair of tied vectors; per matrix
# too), nan at a tie beside a read column. (Session 42: per entry, the products hid the
# limits that make a tied pair's vectors jump: a silent 0.) Transposing "rev" gives "fwd".
# With lazy=True (no gate, tie or entry; session 44): the plain product's value, its
# transpose lazy again, its JVP's products strong (non-lazy): for a spectral rule's
# products of its (finite) point with the tangent under jit, where a first derivative needs
# no mask and jit(grad) pays none, while the second derivatives' products, where the point's
# infinite derivatives at a tie meet a matrix that the tangent leaves, are strong.
# With cols=True (x @ y only; session 51): the terms j where x's column j or y's row j is
# all 0 are left out (0 whatever the other factor holds), and so in its derivatives and
# transposes (ct @ y^T, x^T @ ct), strong in the zero columns of a cotangent: for the thin
# factor's t V, whose transpose c V^H, differentiated, meets V's tied columns' nan with the
# unread columns' 0 (per matrix gave nan in every entry).
# NumPy's impl checks the plain product once on the host (its sum finite: it is then the
# strong product up to the sign of a zero) and builds the masks only where it is not:
# ~3x cheaper on 8 x 16 x 16 stacks; the other backends' always build them (read-free).
strong_product_p = primitive("strong_product")
strong_product_p.def_impl(_strong_product_impl)
strong_product_p.def_abstract_eval(_strong_product_aval)
strong_product_p.def_jvp(_strong_product_jvp)
strong_product_p.def_transpose(_strong_product_transpose)
strong_product_p.def_batch(leading_rule(strong_product_p))


def matmul_sz(x, y):
    return strong_product_p.bind(x, y, matrix=True)


def _lazy_matmul(x, y):
    """x @ y, its derivatives' products strong per matrix (see strong_product_p's note)."""
    return strong_product_p.bind(x, y, matrix=True, lazy=True)


def _lazy_mul(x, y):
    """x * y, its derivatives' products strong per matrix (see strong_product_p's note)."""
    return strong_product_p.bind(x, y, matrix=False, lazy=True)


def _point_products(tie):
    """(matrix product, elementwise product) for a spectral rule's products of the point
    with the tangent: strong per matrix where ties are known to be possible (``tie`` True:
    eager values with a tie, vmap), lazy where they may be and the values are not known
    (None: staged, where the point is finite and the first derivatives need no masks, so
    jit(grad) pays nothing for them; the second derivatives' products are strong), plain
    without ties (False)."""
    if tie:
        return matmul_sz, (lambda a, b: strong_product_p.bind(a, b, matrix=False))
    if tie is None:
        return _lazy_matmul, _lazy_mul
    return matmul, mul


def mul_szm(x, y, gate):
    """x * y, 0 on the matrices where x or ``gate`` (of which y is a linear function) is 0."""
    return strong_product_p.bind(x, y, gate, matrix=False)


def tie_product(f, y, gate=None):
    """f * y (square matrices; f the reciprocal gaps of a spectral rule, infinite at ties;
    y a tangent): 0 on the matrices of a stack where y is 0 (``gate``: where the gate, of
    which y is a linear function, is 0), its transpose 0 on the pairs of columns that the
    cotangent leaves at 0; a tied pair's 0 elsewhere gives nan (see strong_product)."""
    if gate is None:
        return strong_product_p.bind(f, y, matrix=False, tie="fwd")
    return strong_product_p.bind(f, y, gate, matrix=False, tie="fwd")


def _gap_mul(f, y):
    """f * y (f the reciprocal gaps) for a tangent y: 0 where y is 0 (as mul_sz), its
    transpose 0 only on the matrices where the cotangent is 0."""
    return strong_product_p.bind(f, y, matrix=False, entry=True)


# -- tensordot: contraction of listed axes ---------------------------------------------------
# tensordot(x, y, a1, a2) sums over axes a1 of x paired with axes a2 of y; the result has the
# free axes of x, then those of y, each in their order (NumPy's and the standard's layout).
# One primitive, so that a contraction costs one library call (NumPy, torch and CuPy fold it
# into one matrix product) and its derivative rules are contractions again, instead of the
# transposes, reshapes and matrix product it decomposes into. The optional ``perm`` (present
# only where it is no identity) permutes the result's axes, as transpose(result, perm) would:
# the transpose rule's contractions need one, and as one operation instead of two they cost
# half as much once differentiated again (a VJP of a VJP records one where it recorded two).


def _free_axes(ndim, axes):
    return tuple([i for i in range(ndim) if i not in axes])


@functools.lru_cache(maxsize=1024)
def _tensordot_layout(xs, ys, a1, a2):
    """For operand shapes ``xs``, ``ys`` and axes: the result's shape, the free axes of each
    operand, and the permutations that put the contraction of the cotangent with the other
    operand back in each operand's axis order (see the transpose rule). Worked out once per
    shapes and axes: staging and every backward pass ask for it."""
    try:
        paired = len(a1) == len(a2) and [xs[i] for i in a1] == [ys[j] for j in a2]
    except IndexError:
        paired = False
    if (not paired or len(set(a1)) < len(a1) or len(set(a2)) < len(a2)
            or (a1 and min(a1) < 0) or (a2 and min(a2) < 0)):
        raise ShapeError(f"tensordot primitive: cannot contract axes {a1} of {xs} with "
                         f"axes {a2} of {ys}")
    f1, f2 = _free_axes(len(xs), a1), _free_axes(len(ys), a2)
    shape = tuple([xs[i] for i in f1] + [ys[j] for j in f2])
    # ct . y over y's free axes holds x's free axes, then x's contracted ones in the order
    # of y's axes a2; x . ct over x's free axes holds y's contracted axes in the order of
    # x's axes a1, then y's free axes
    where = {i: k for k, i in enumerate(f1)}
    rank = {j: len(f1) + k for k, j in enumerate(sorted(a2))}
    for i, j in zip(a1, a2):
        where[i] = rank[j]
    perm_x = tuple([where[i] for i in range(len(xs))])
    where = {j: len(a2) + k for k, j in enumerate(f2)}
    rank = {i: k for k, i in enumerate(sorted(a1))}
    for i, j in zip(a1, a2):
        where[j] = rank[i]
    perm_y = tuple([where[j] for j in range(len(ys))])
    return shape, f1, f2, perm_x, perm_y


def _tensordot_aval(x, y, a1, a2, perm=None):
    if x.dtype is not y.dtype:
        raise TypeError(f"tensordot primitive needs operands of one dtype; got {x.dtype} and "
                        f"{y.dtype}")
    shape = _tensordot_layout(tuple(x.shape), tuple(y.shape), a1, a2)[0]
    if perm is not None:
        if sorted(perm) != list(range(len(shape))):
            raise ShapeError(f"tensordot primitive: perm {perm} is no permutation of the "
                             f"result's {len(shape)} axes")
        shape = tuple([shape[p] for p in perm])
    return ShapedArray(shape, x.dtype)


def _tensordot_jvp(primals, tangents, a1, a2, perm=None):
    x, y = primals
    tx, ty = tangents
    out = tensordot(x, y, a1, a2, perm)
    if tx is None:
        return out, tensordot(x, ty, a1, a2, perm)
    if ty is None:
        return out, tensordot(tx, y, a1, a2, perm)
    return out, add(tensordot(tx, y, a1, a2, perm), tensordot(x, ty, a1, a2, perm))


def _tensordot_transpose(ct, x, y, a1, a2, perm=None):
    if perm is not None:
        # ct in the contraction's own layout first: the operations the transpose that perm
        # stands for would run, so that the results are those of the two primitives
        ct = transpose(ct, _inverse_perm(perm))
    if type(x) is Var:  # the cotangent of x: contract ct's axes of y's free axes with y's
        _, f1, f2, perm_x, _ = _tensordot_layout(x.aval.shape, tuple(y.shape), a1, a2)
        n = len(f1)
        return [tensordot(ct, y, tuple(range(n, n + len(f2))), f2, perm_x), None]
    _, f1, f2, _, perm_y = _tensordot_layout(tuple(x.shape), y.aval.shape, a1, a2)
    return [None, tensordot(x, ct, f1, tuple(range(len(f1))), perm_y)]


def _tensordot_batch(args, dims, a1, a2, perm=None):
    if perm is not None:  # (the contraction batched, then its permutation, as for the pair)
        out, _ = _tensordot_batch(args, dims, a1, a2)
        return transpose(out, (0,) + tuple([p + 1 for p in perm])), 0
    x, y = args
    a1b, a2b = tuple(i + 1 for i in a1), tuple(j + 1 for j in a2)
    if dims[1] is None:  # the batch axis of x is its first free axis: the result's first
        return tensordot(x, y, a1b, a2), 0
    if dims[0] is None:  # y's batch axis lands after x's free axes: moved to the front
        n1 = len(x.shape) - len(a1)
        out = tensordot(x, y, a1, a2b)
        nd = n1 + len(y.shape) - len(a2)
        return transpose(out, (n1,) + tuple(i for i in range(nd) if i != n1)), 0
    # both batched: one batched matrix product, (B, m, k) @ (B, k, n)
    f1 = _free_axes(len(x.shape), (0,) + a1b)
    f2 = _free_axes(len(y.shape), (0,) + a2b)
    bsz = x.shape[0]
    k = math.prod(x.shape[i] for i in a1b)
    m = math.prod(x.shape[i] for i in f1)
    n = math.prod(y.shape[j] for j in f2)
    xm = reshape(transpose(x, (0,) + f1 + a1b), (bsz, m, k))
    ym = reshape(transpose(y, (0,) + a2b + f2), (bsz, k, n))
    shape = (bsz,) + tuple(x.shape[i] for i in f1) + tuple(y.shape[j] for j in f2)
    return reshape(matmul(xm, ym), shape), 0


def _tensordot_impl(b, x, y, a1, a2, perm=None):
    out = b.xp.tensordot(x, y, axes=(a1, a2))
    return out if perm is None else b.xp.permute_dims(out, perm)


tensordot_p = primitive("tensordot")
tensordot_p.def_impl(_tensordot_impl)
tensordot_p.def_abstract_eval(_tensordot_aval)
tensordot_p.def_jvp(_tensordot_jvp)
tensordot_p.def_transpose(_tensordot_transpose)
tensordot_p.def_batch(_tensordot_batch)


def tensordot(x, y, a1, a2, perm=None):
    """Contract axes ``a1`` of ``x`` with axes ``a2`` of ``y`` (tuples of non-negative ints,
    paired in order); operands of one dtype. ``perm``: the result's axes permuted, as
    ``transpose(result, perm)`` (an identity is no parameter)."""
    if perm is None or tuple(perm) in _IDENTITY_PERMS:
        return tensordot_p.bind(x, y, a1=tuple(a1), a2=tuple(a2))
    return tensordot_p.bind(x, y, a1=tuple(a1), a2=tuple(a2), perm=tuple(perm))


# -- diagonal and its transpose ------------------------------------------------------------------
# Both work on the last two axes through a flat strided slice of the matrix: element (i, i+k)
# of an n x m matrix is at i*m + i + k, so a diagonal is a slice with step m + 1.


def _diag_slice(n, m, k):
    length = max(0, min(n, m - k) if k >= 0 else min(n + k, m))
    start = k if k >= 0 else -k * m
    stop = start + (length - 1) * (m + 1) + 1 if length else start
    return length, slice(start, stop, m + 1)


def _diagonal_impl(b, x, offset):
    n, m = x.shape[-2], x.shape[-1]
    _, sl = _diag_slice(n, m, offset)
    flat = b.xp.reshape(x, tuple(x.shape[:-2]) + (n * m,))
    return flat[..., sl]


def _diagonal_aval(x, offset):
    length, _ = _diag_slice(x.shape[-2], x.shape[-1], offset)
    return ShapedArray(tuple(x.shape[:-2]) + (length,), x.dtype)


diagonal_p = primitive("diagonal")
diagonal_p.def_impl(_diagonal_impl)
diagonal_p.def_abstract_eval(_diagonal_aval)
diagonal_p.def_jvp(lambda p, t, offset: (diagonal(p[0], offset), diagonal(t[0], offset)))
diagonal_p.def_transpose(lambda ct, x, offset: [
    diag_embed(ct, offset, x.aval.shape[-2], x.aval.shape[-1])])


def _diag_embed_impl(b, v, offset, n, m):
    _, sl = _diag_slice(n, m, offset)
    batch = tuple(v.shape[:-1])
    out = b.xp.zeros(batch + (n * m,), dtype=v.dtype, device=b.device(v))
    return b.xp.reshape(b.set_items(out, (..., sl), v), batch + (n, m))


diag_embed_p = primitive("diag_embed")
diag_embed_p.def_impl(_diag_embed_impl)
diag_embed_p.def_abstract_eval(
    lambda v, offset, n, m: ShapedArray(tuple(v.shape[:-1]) + (n, m), v.dtype))
diag_embed_p.def_jvp(lambda p, t, offset, n, m: (diag_embed(p[0], offset, n, m),
                                                 diag_embed(t[0], offset, n, m)))
diag_embed_p.def_transpose(lambda ct, v, offset, n, m: [diagonal(ct, offset)])


def diagonal(x, offset=0):
    return diagonal_p.bind(x, offset=offset)


def diag_embed(v, offset=0, n=None, m=None):
    """Matrices (n x m, square by default) with ``v`` on diagonal ``offset``, zeros elsewhere."""
    size = v.shape[-1] + abs(offset)
    return diag_embed_p.bind(v, offset=offset, n=size if n is None else n,
                             m=size if m is None else m)

# -- helpers for the rules ------------------------------------------------------------------------


def _aval(x):
    return get_aval(x)


def _is_complex(x):
    return _aval(x).dtype.kind == "c"


def _h(x):
    """Conjugate transpose of the last two axes."""
    return matrix_transpose(conj(x)) if _is_complex(x) else matrix_transpose(x)


def _sym(t):
    """The Hermitian part of a tangent: the rules below take the input matrix as symmetric
    (Hermitian) and read only that part of the perturbation, as JAX does."""
    return mul(add(t, _h(t)), 0.5)


def _trace(x):
    return reduce_sum(diagonal(x, 0), (len(x.shape) - 2,))


def _as_dtype_of(x):
    """Converts a real array to ``x``'s complex dtype (the identity for real ``x``)."""
    if not _is_complex(x):
        return lambda a: a
    dtype = _aval(x).dtype
    return lambda a: convert_element_type(a, dtype)


def _i_times(v, dtype):
    """``1j * v`` for a real ``v``, as an array of the complex ``dtype``."""
    return mul(convert_element_type(v, dtype), 1j)


def _rows(v, n):
    """``v`` (..., k) as (..., n, k): every row is v (entry [i, j] = v_j)."""
    nd = len(v.shape)
    return broadcast_in_dim(v, tuple(v.shape[:-1]) + (n, v.shape[-1]),
                            tuple(range(nd - 1)) + (nd,))


def _cols(v, m):
    """``v`` (..., k) as (..., k, m): entry [i, j] = v_i."""
    nd = len(v.shape)
    return broadcast_in_dim(v, tuple(v.shape) + (m,), tuple(range(nd)))


# (session 50) Ties at the rounding level. A matrix with an exact repeated eigenvalue
# (singular value), u diag(2, 1, 1) v^T, has computed values apart by a few ulps (~1e-16),
# where 1 / gap ~ 1e15 gave the tied vectors' rotation within the cluster a finite
# derivative built on rounding noise: the cluster's projector U_2 U_2^T got jacfwd 0.12 off
# (its true entries up to 0.42), V diag(g(w)) V^T's divided differences (g_j - g_i) /
# (w_j - w_i) were rounding over rounding (JAX's alike). Now gaps within _TIE_ULPS n eps
# of the matrix's largest |w| (svd: of s, relative to s_max; a backward-stable solver puts
# a tie's computed values a few ulps apart: <= 0.4 n eps seen for n = 16 to 200) count as
# ties wherever F and the tie masks are formed (inverse_gaps_p, the impls'
# _xp_inverse_gaps, _ties_of), and F is nan at a tie (exact ones too; was inf): the
# rotation within a cluster has no derivative (a tied vector jumps, and forward mode cannot
# tell a function that does not see the rotation from one that does), so a derivative that
# reads it is nan, never a finite value built on rounding; the strong products and tie
# forms give 0 where the direction (cotangent) leaves the pair, as before. Distinct values
# further apart keep their exact derivatives (tests/test_s50_linalg50.py: gap 1e-8 s_max
# against mpmath).
_TIE_ULPS = 64


def _xp_inverse_gaps(b, w, by=None):
    """(F, plain) on a backend's arrays: F[i, j] = 1 / (w_j - w_i) off the diagonal, 0 on
    it, nan where by_i and by_j (``by`` default ``w``) are within _TIE_ULPS n eps of the
    matrix's largest |by|; ``plain``: in NumPy's host memory, F finite (no tie)."""
    xp = b.xp
    by = w if by is None else by
    n = w.shape[-1]
    host = b.name == "numpy"
    eye = np.eye(n, dtype=w.dtype) if host else xp.eye(n, dtype=w.dtype, device=b.device(w))
    f = 1.0 / (w[..., None, :] - w[..., :, None] + eye) - eye
    if n < 2:
        return f, host and bool(np.isfinite(f).all())
    tol = _tie_tol(xp, by.dtype, n)
    if host:
        # (a tie's |F_ij| is at least 1 / (2 tol max |w|), eigh's (by = w) and svd's (w =
        # s^2, ties of s) alike: one pass over F rules the masks out, the no-tie path;
        # a nan or inf fails the test too)
        if float(np.abs(f).max()) * 2.0 * tol * float(np.abs(w).max()) < 1.0:
            return f, True
    near = ((xp.abs(by[..., None, :] - by[..., :, None])
             <= xp.max(xp.abs(by), axis=-1)[..., None, None] * tol) & (eye == 0))
    f = xp.where(near, xp.full_like(f, math.nan), f)
    return f, host and bool(np.isfinite(f).all())


_TIE_TOLS = {}


def _tie_tol(xp, dtype, n):
    """_TIE_ULPS n eps of ``dtype`` (cached: the impls' hot path)."""
    key = (type(dtype), dtype, n)   # (the type first: no cross-library dtype ==)
    tol = _TIE_TOLS.get(key)
    if tol is None:
        tol = _TIE_TOLS[key] = _TIE_ULPS * n * float(xp.finfo(dtype).eps)
    return tol


def _inverse_gaps(w):
    """F[i, j] = 1 / (w_j - w_i) off the diagonal, 0 on it (w distinct: no tie, see
    inverse_gaps_p where ties may be)."""
    n = w.shape[-1]
    eye = diag_embed(ones_like(w))
    return sub(div(1.0, add(sub(_rows(w, n), _cols(w, n)), eye)), eye)


def _inverse_gaps_jvp(primals, tangents):
    w, by = primals
    f = inverse_gaps_p.bind(w, by)
    dw = tangents[0]
    if dw is None:
        return f, None
    n = w.shape[-1]
    return f, strong_product_p.bind(neg(mul(f, f)), sub(_rows(dw, n), _cols(dw, n)),
                                    matrix=False)


# inverse_gaps(w, by) (session 50): the reciprocal gaps F (..., n, n) of the spectra w
# (..., n), nan at the pairs that tie (by's values, svd's s for w = s^2, within _TIE_ULPS
# n eps of the largest: see there). Its tangent -F^2 (dw_j - dw_i) is strong per matrix
# (session 43's _strong_inverse_gaps): a matrix of a stack whose values the tangent leaves
# gets 0, not nan * 0 at its ties; by's tangent is not read. One primitive, where the
# composed F, tie mask and custom_jvp cost jit(grad) of svd on a tall 8 x 64 x 8 stack ~9 %
# (one op where the custom_jvp staged ~8). ~(F finite) is the tie mask of the rules'
# cluster forms (_ties_of); the second-order forms take it where ties may be, so their
# own derivatives (third order) are strong too, where the plain F's gave nan * 0.
inverse_gaps_p = primitive("inverse_gaps")
inverse_gaps_p.def_impl(lambda b, w, by: _xp_inverse_gaps(b, w, by)[0])
inverse_gaps_p.def_abstract_eval(
    lambda w, by: ShapedArray(tuple(w.shape) + (w.shape[-1],), w.dtype))
inverse_gaps_p.def_jvp(_inverse_gaps_jvp)
inverse_gaps_p.def_batch(leading_rule(inverse_gaps_p))


def _strong_inverse_gaps(w, by=None):
    """F with nan at ties (of ``by``, default w), strong derivatives: inverse_gaps_p."""
    return inverse_gaps_p.bind(w, w if by is None else by)


def _gaps_at(w):
    """F of w: inverse_gaps_p where ties may be (_may_tie: eager values, vmap, staged),
    plain where they cannot."""
    return _strong_inverse_gaps(w) if _may_tie(w, staged=True) else _inverse_gaps(w)


def _ties_of(f):
    """(..., n, n) bool: the tied pairs of inverse_gaps_p's F (its non-finite entries)."""
    return logical_not(isfinite_p.bind(f))


_strong_reciprocal_fn = []


def _strong_reciprocal(a):
    """1 / a (..., m, k) as a custom_jvp function whose tangent -da / a^2 is strong per
    matrix in da (as _strong_inverse_gaps'): a matrix of a stack that the tangent leaves
    gets 0 there, not 0 / 0 at a zero entry (svd's zero singular values)."""
    if not _strong_reciprocal_fn:
        from ..custom import custom_jvp

        def rule(primals, tangents):
            a, = primals
            f = fn(a)
            return f, strong_product_p.bind(neg(mul(f, f)), tangents[0], matrix=False)
        fn = custom_jvp(lambda a: div(1.0, a))
        fn.defjvp(rule)
        _strong_reciprocal_fn.append(fn)
    return _strong_reciprocal_fn[0](a)


# -- solve, inv, det, slogdet ----------------------------------------------------------------------


def _solve_aval(a, b):
    if (len(a.shape) < 2 or a.shape[-1] != a.shape[-2] or len(b.shape) != len(a.shape)
            or b.shape[:-2] != a.shape[:-2] or b.shape[-2] != a.shape[-1]):
        raise ShapeError(f"solve primitive needs (..., M, M) and (..., M, K) with equal "
                         f"batch dimensions; got {a.shape} and {b.shape}")
    return ShapedArray(tuple(b.shape), b.dtype)


def _rhs_tangent(ta, tb, out):
    """The right-hand side of the tangent of a solve ``out = a^{-1} b``: db - da out."""
    if ta is None:
        return tb
    return neg(matmul(ta, out)) if tb is None else sub(tb, matmul(ta, out))


def _solve_jvp(primals, tangents):
    a, b = primals
    out = solve(a, b)
    return out, solve(a, _rhs_tangent(*tangents, out))


def _solve_transpose(ct, a, b):
    if type(a) is Var:
        raise TypeError("solve is linear only in its right-hand side")
    return [None, solve(matrix_transpose(a), ct)]


# solve(a, b) = a^{-1} b for square a (..., M, M) and b (..., M, K) of equal batch shape.
solve_p = primitive("solve")
solve_p.def_impl(lambda b, a, rhs: b.xp.linalg.solve(a, rhs))
solve_p.def_abstract_eval(_solve_aval)
solve_p.def_jvp(_solve_jvp)
solve_p.def_transpose(_solve_transpose)


def _triangular_solve_impl(b, a, rhs, lower, divide=False, strong=False):
    solve = b.extra("solve_triangular")
    if not divide:
        out = solve(a, rhs, lower)
    else:
        try:
            out = solve(a, rhs, lower)
        except np.linalg.LinAlgError:   # (every backend's singular-matrix error is one)
            with np.errstate(divide="ignore", invalid="ignore"):   # (LAPACK does not warn)
                out = _substitute(b.xp, a, rhs, lower)
    if strong:
        out = _zero_columns_stay_zero(b.xp, rhs, out)
    return out


def _zero_columns_stay_zero(xp, rhs, out):
    """``out`` with 0 in the columns where ``rhs`` is all 0: a^{-1} 0 = 0 also for a singular
    or non-finite a, whose solve gave 0 / 0 = nan there (on the host only where out has such
    values; on a device read-free, the mask always)."""
    if _on_host(out) and bool(xp.all(xp.isfinite(out))):
        return out
    zero = xp.all(rhs == 0, axis=-2, keepdims=True)
    return xp.where(zero, xp.zeros_like(out), out)


def _substitute(xp, a, rhs, lower):
    """a^{-1} rhs by forward (back) substitution one row at a time, dividing by a zero on
    a's diagonal as LAPACK's getrs does (inf, or nan from 0 * inf further on): for
    ``divide``, only where the backend's solve refused a singular ``a``."""
    m = a.shape[-1]
    x = [None] * m
    for i in (range(m) if lower else range(m - 1, -1, -1)):
        r = rhs[..., i, :]
        for j in (range(i) if lower else range(i + 1, m)):
            r = r - a[..., i, j:j + 1] * x[j]
        x[i] = r / a[..., i, i:i + 1]
    return xp.stack(x, axis=-2) if m else rhs


def _triangular_solve_jvp(primals, tangents, lower, divide=False, strong=False):
    # As solve's (a's tangent is triangular too: the namespace masks a before binding).
    a, b = primals
    out = triangular_solve(a, b, lower, divide, strong)
    ta, tb = tangents
    if divide and ta is not None:
        # A singular a (divided by): x has no derivative in a, nan in every mode (in reverse
        # mode -ct x^T was +-inf where forward mode met 0 * inf), as JAX's lu_solve gives;
        # only in directions that move that matrix (a strong zero, as the solve of the
        # tangents below: no nan between the matrices of a stack).
        sing = _singular_matrices(a)
        if _maybe_any(sing):
            out_safe = select(_to_shape(sing, out), zeros_like(out), out)
            rhs = add(_rhs_tangent(ta, tb, out_safe), _nan_if_moved(sing, a, ta, out))
        else:
            rhs = _rhs_tangent(ta, tb, out)
    else:
        rhs = _rhs_tangent(ta, tb, out)
    return out, triangular_solve(a, rhs, lower, divide, strong=divide or strong)


def _singular_matrices(a):
    """Whether each matrix of the triangular stack ``a`` has a zero on its diagonal (shape
    ``a.shape[:-2] + (1, 1)``)."""
    d = diagonal(a)
    nb = len(d.shape) - 1
    zero = convert_element_type(eq(d, 0.0), _dt.float32)
    return gt(reshape(reduce_sum(zero, (nb,)), tuple(d.shape[:-1]) + (1, 1)), 0.0)


def _to_shape(mask, like):
    return broadcast_in_dim(reshape(mask, tuple(mask.shape[:-2])), tuple(like.shape),
                            tuple(range(len(mask.shape) - 2)))


def _maybe_any(mask):
    """Whether the boolean ``mask`` may hold True: its concrete value's where the transforms
    around it have one (eager: the nan slopes and guards below are then skipped, exactly 0
    there), else True (staged: jit keeps them)."""
    from ..core import Tracer
    v = mask
    while isinstance(v, Tracer):
        nxt = getattr(v, "primal", None)
        v = getattr(v, "val", None) if nxt is None else nxt
        if v is None:
            return True
    if isinstance(v, Var):
        return True
    from ..backends import backend_of
    b = backend_of(v)
    return bool(b.to_numpy(b.xp.any(v)))


def _nan_if_moved(bad, x, t, like):
    """The slope to add where a matrix of the stack ``x`` has no derivative (``bad``, shape
    ``(..., 1, 1)``): per entry of ``like`` (the tangent it is added to), nan where the
    tangent ``t`` of ``x`` moves a bad matrix, else 0. Linear in ``t`` with strong zeros on
    both sides (mul_sz), so that a direction moving only other matrices of a stack, or a
    cotangent on only their results, gives 0 there, not 0 * nan (a Jacobian's cross blocks,
    in every mode), and a cotangent whose entries cancel still gives nan; the nans'
    own derivative (matrix_nan_slope) is nan too, so second derivatives keep it."""
    nb = len(t.shape) - 2
    nans = add(select(bad, full_like(bad, math.nan, _aval(t).dtype),
                      full_like(bad, 0.0, _aval(t).dtype)), matrix_nan_slope(x, bad))
    moved = reduce_sum(mul_sz(_bcast(nans, t), t), (nb, nb + 1))
    return mul_sz(_bcast(nans, like), broadcast_in_dim(moved, tuple(like.shape), tuple(range(nb))))


def _bcast(v, like):
    """v (..., 1, 1) broadcast to ``like``'s shape (..., M, N)."""
    nb = len(like.shape) - 2
    return broadcast_in_dim(reshape(v, tuple(v.shape[:-2])), tuple(like.shape), tuple(range(nb)))


def _matrix_nan_slope_jvp(primals, tangents):
    # (nans + out: the value nan where bad, whose own derivative is the next order's slope)
    x, bad = primals
    out = matrix_nan_slope(x, bad)
    t = tangents[0]
    if t is None:
        return out, None
    nb = len(x.shape) - 2
    nans = add(select(bad, full_like(out, math.nan), zeros_like(out)), out)
    moved = reduce_sum(mul_sz(_bcast(nans, t), t), (nb, nb + 1))
    return out, reshape(moved, tuple(out.shape))


# matrix_nan_slope(x, bad): zeros of shape bad.shape (..., 1, 1) and x's dtype, whose
# derivative is nan for each matrix of the stack x (..., M, N) where the boolean ``bad``
# holds and the tangent moves that matrix, and exactly 0 otherwise, at every order (for the
# rules' nan slopes where a matrix has no derivative: _nan_if_moved).
matrix_nan_slope_p = primitive("matrix_nan_slope")
matrix_nan_slope_p.def_impl(lambda b, x, bad: b.xp.zeros(tuple(bad.shape), dtype=x.dtype,
                                                          device=b.device(x)))
matrix_nan_slope_p.def_abstract_eval(lambda x, bad: ShapedArray(tuple(bad.shape), x.dtype))
matrix_nan_slope_p.def_jvp(_matrix_nan_slope_jvp)
matrix_nan_slope_p.def_batch(leading_rule(matrix_nan_slope_p))
matrix_nan_slope = matrix_nan_slope_p.bind


def _triangular_solve_transpose(ct, a, b, lower, divide=False, strong=False):
    if type(a) is Var:
        raise TypeError("triangular_solve is linear only in its right-hand side")
    return [None, triangular_solve(matrix_transpose(a), ct, not lower, divide, strong)]


# triangular_solve(a, b, lower) = a^{-1} b for a triangular a (zero outside its lower, or
# upper, triangle: the caller masks it) through the backend's extra "solve_triangular":
# O(M^2 K) instead of a general solve's O(M^3) (the generic extra is the general solve).
# A zero on a's diagonal raises LinAlgError (as SciPy's solve_triangular), or with
# ``divide`` is divided by (inf/nan, as LAPACK's getrs: scipy.linalg.lu_solve).
triangular_solve_p = primitive("triangular_solve")
triangular_solve_p.def_impl(_triangular_solve_impl)
triangular_solve_p.def_abstract_eval(lambda a, b, lower, divide=False, strong=False:
                                     _solve_aval(a, b))
triangular_solve_p.def_jvp(_triangular_solve_jvp)
triangular_solve_p.def_transpose(_triangular_solve_transpose)


def triangular_solve(a, b, lower, divide=False, strong=False):
    # (``strong``: the solves of derivative rules, where a zero right-hand side column stays
    # 0 whatever a is; a primal solve of 0 by a singular a is nan, as LAPACK's)
    params = {"lower": bool(lower)}
    if divide:
        params["divide"] = True
    if strong:
        params["strong"] = True
    return triangular_solve_p.bind(a, b, **params)


def _inv_jvp(primals, tangents):
    y = inv(primals[0])
    return y, neg(matmul(matmul(y, tangents[0]), y))


inv_p = primitive("inv")
inv_p.same_aval = True
inv_p.def_impl(lambda b, x: b.xp.linalg.inv(x))
inv_p.def_abstract_eval(lambda x: x)
inv_p.def_jvp(_inv_jvp)


def _det_jvp(primals, tangents):
    # d det(x) = tr(adj(x) dx): the adjugate exists at singular x too (rank n-1: rank one;
    # below: zero), where det(x) tr(x^{-1} dx) does not.
    x, = primals
    nb = len(x.shape) - 2
    return det(x), reduce_sum(mul(matrix_transpose(adjugate(x)), tangents[0]), (nb, nb + 1))


det_p = primitive("det")
det_p.def_impl(lambda b, x: b.xp.linalg.det(x))
det_p.def_abstract_eval(lambda x: ShapedArray(tuple(x.shape[:-2]), x.dtype))
det_p.def_jvp(_det_jvp)


def _on_host(x):
    """Whether a look at the array x's values waits for no device (NumPy's, a CPU tensor's;
    see primitives.special._on_host): the impls below look only there, and take their
    read-free paths on a device (eager and under jit alike), with the same values."""
    from .special import _on_host as on_host
    return on_host(x)


def _adjugate_by_svd(b, x):
    """adj(x) = det(U) det(V^H) V adj(S) U^H for x = U S V^H (adj(AB) = adj(B) adj(A), and
    adj(U) = det(U) U^H for a unitary U); adj(S) is diagonal with the products of the other
    singular values: no division, right at every rank."""
    xp = b.xp
    u, s, vh = xp.linalg.svd(x, full_matrices=False)
    eye = xp.eye(x.shape[-1], dtype=s.dtype, device=b.device(x))
    others = xp.prod(s[..., None, :] * (1 - eye) + eye, axis=-1)
    c = xp.linalg.det(u) * xp.linalg.det(vh)
    cplx = xp.isdtype(x.dtype, "complex floating")
    v = xp.conj(xp.matrix_transpose(vh)) if cplx else xp.matrix_transpose(vh)
    uh = xp.conj(xp.matrix_transpose(u)) if cplx else xp.matrix_transpose(u)
    return c[..., None, None] * ((v * xp.astype(others, x.dtype)[..., None, :]) @ uh)


def _adjugate_impl(b, x):
    xp = b.xp
    if 0 in tuple(x.shape):
        return xp.asarray(x, copy=True)
    # NumPy's det and inv factor x by the same LAPACK call (getrf), so det(x) x^{-1} keeps
    # its tiny pivot near a singular x in both, where it cancels; torch's det and inv round
    # apart (errors ~ cond(x) eps), so there both come from one torch LU; elsewhere one QR,
    # adj(x) = adj(R) adj(Q) = det(Q) prod(diag R) R^{-1} Q^H (the solve with the triangular
    # R pivots on R's own diagonal; some 3x the cost). At an exactly singular x (the solve
    # fails, or inf * 0) the SVD, some 7x.
    try:
        if b.name in ("numpy", "array_api_strict"):
            out = xp.linalg.det(x)[..., None, None] * xp.linalg.inv(x)
        elif b.name == "torch":
            out = _torch_det_times_inv(x)
        else:
            q, r = xp.linalg.qr(x)
            cplx = xp.isdtype(x.dtype, "complex floating")
            qh = xp.conj(xp.matrix_transpose(q)) if cplx else xp.matrix_transpose(q)
            scale = xp.linalg.det(q) * xp.prod(xp.linalg.diagonal(r), axis=-1)
            out = scale[..., None, None] * xp.linalg.solve(r, qh)
    except (ValueError, RuntimeError, ArithmeticError):
        out = None
    host = _on_host(x)
    if out is not None and host and bool(b.to_numpy(xp.all(xp.isfinite(out)))):
        return out
    # Matrix by matrix: the SVD where the fast result is not finite, nan where x is not (a
    # nan in one matrix of a stack must not turn the others' adjugates into nan). (On a
    # device, read-free: the SVD's result is computed for every matrix and chosen where the
    # fast one is not finite; the values are the host path's.)
    x_ok = _all_finite(xp, x)
    if host and not bool(b.to_numpy(xp.any(x_ok))):
        nan = xp.asarray(float("nan"), dtype=x.dtype, device=b.device(x))
        return xp.broadcast_to(nan, tuple(x.shape))
    eye = xp.eye(x.shape[-1], dtype=x.dtype, device=b.device(x))
    by_svd = _adjugate_by_svd(b, xp.where(x_ok[..., None, None], x, eye))
    if out is not None:
        by_svd = xp.where(_all_finite(xp, out)[..., None, None], out, by_svd)
    nan = xp.asarray(float("nan"), dtype=x.dtype, device=b.device(x))
    return xp.where(x_ok[..., None, None], by_svd, nan)


def _all_finite(xp, x):
    """Whether each matrix of x has only finite entries (shape x.shape[:-2])."""
    return xp.all(xp.isfinite(x), axis=(-2, -1))


def _torch_det_times_inv(x):
    """det(x) x^{-1} from one LU factorization (torch). (lu_factor_ex: no check of the
    pivots, which lu_factor reads on the host to refuse a singular matrix; a zero pivot's
    inf * 0 gives this matrix's result nan, the SVD's is then taken for it alone.)"""
    import torch
    lu, piv, _ = torch.linalg.lu_factor_ex(x)
    n = x.shape[-1]
    swaps = (piv != torch.arange(1, n + 1, dtype=piv.dtype, device=piv.device)).sum(-1)
    det = torch.prod(torch.diagonal(lu, dim1=-2, dim2=-1), -1) * (1 - 2 * (swaps % 2))
    eye = torch.eye(n, dtype=x.dtype, device=x.device).expand(x.shape)
    return det[..., None, None] * torch.linalg.lu_solve(lu, piv, eye)


def _adjugate_jvp(primals, tangents):
    # d adj(x)[dx] = adjugate_derivative(x, dx), whose own rule appends one direction at a
    # time: every derivative of adj (and so of det) is the multilinear map computed at x
    # itself, never a derivative of a factorization of x (svd's are nan or 1/gap wrong at
    # repeated singular values, such as the zeros of a matrix of rank <= n - 2).
    x, = primals
    return adjugate(x), adjugate_derivative(x, tangents[0])


# adjugate(x): the transposed cofactor matrix of each square matrix (det(x) x^{-1} where x is
# invertible), for det's derivative.
adjugate_p = primitive("adjugate")
adjugate_p.same_aval = True
adjugate_p.def_impl(_adjugate_impl)
adjugate_p.def_abstract_eval(lambda x: x)
adjugate_p.def_jvp(_adjugate_jvp)


# adjugate_derivative(x, t_1, ..., t_k) = D^k adj(x)[t_1, ..., t_k], the k-th derivative of
# the adjugate at x in the directions t_i (k >= 1; zero for k >= n: adj is a polynomial of
# degree n - 1). It is symmetric in the t_i, linear in each; bound with the tangent that
# moves last, it is linear in that operand alone (the others, and x, are coefficients: see
# api._coefficient_operands), so that its transpose is one more adjugate_derivative:
# <C, D^k adj(x)[t_1..t_k]> = D^{k+1} det(x)[t_1..t_k, C^T], hence the cotangent of t_k is
# D^k adj(x)[t_1..t_{k-1}, C^T]^T. Its jvp appends dx as one more direction (and replaces
# a t_i by its tangent, moved last).
#
# The values. Where x is well conditioned (cond_1(x) < _ADJ_D_COND, 1e2 in single precision:
# the division's error is ~ eps cond_1; from x^{-1}): with
# Y_i = x^{-1} t_i and D^{k+1} det(x)[A_1..A_{k+1}] = det(x) sum_sigma sgn(sigma)
# prod_{cycles c of sigma} tr(prod_{i in c} x^{-1} A_i), the cycle through the last slot
# (A = E_ji) gives a matrix: D^k adj(x)[t] = sum over ordered sequences (b_1..b_r) of
# distinct directions (-1)^r e(rest) Y_b1 ... Y_br adj(x), e(R) = D^|R| det(I)[Y_R] (the
# same sum of signed products of traces; e({}) = 1). Elsewhere (singular, ill-conditioned
# x) in the basis of the SVD x = U S V^H, which any fixed U, V with U^H x V = S give:
# adj(x + e) = c V adj(S + U^H e V) U^H (c = det(U) det(V^H)), so D^k adj(x)[t] =
# c V D^k adj(S)[K_1..K_k] U^H with K_i = U^H t_i V, and at the diagonal S, with
# m = k + 1 slots and the last one E_ji,
#   D^k adj(S)[K]_ij = sum_sigma sgn(sigma) sum_{distinct r_1..r_m: r_m = j,
#                      r_sigma(m) = i} prod_{l not in r} s_l prod_{a < m} K_a[r_a, r_sigma(a)]
# (Leibniz's sum: the rows r_a take the directions, the other rows the diagonal): products
# of singular values, no division, right at every rank and at repeated singular values. Its
# cost: (k + 1)! products over an n^(k+1) grid of each matrix (the SVD branch only).
_ADJ_D_COND = 1e4


def adjugate_derivative(x, *ts):
    return adjugate_derivative_p.bind(x, *ts)


def _adj_d_shape(*shapes):
    return tuple(np.broadcast_shapes(*[tuple(s) for s in shapes]))


def _adj_d_aval(x, *ts):
    return ShapedArray(_adj_d_shape(x.shape, *(t.shape for t in ts)), x.dtype)


def _adj_d_jvp(primals, tangents):
    x, *ts = primals
    out = adjugate_derivative(x, *ts)
    terms = []
    if tangents[0] is not None:
        terms.append(adjugate_derivative(x, *ts, tangents[0]))
    for i, dt in enumerate(tangents[1:]):
        if dt is not None:   # (symmetric in the directions: the tangent moved last)
            terms.append(adjugate_derivative(x, *ts[:i], *ts[i + 1:], dt))
    tan = None
    for term in terms:
        tan = term if tan is None else add(tan, term)
    return out, tan


def _adj_d_transpose(ct, x, *ts):
    if type(x) is Var or any(type(t) is Var for t in ts[:-1]):
        raise TypeError("adjugate_derivative is linear only in its last operand")
    ct_t = matrix_transpose(adjugate_derivative(x, *ts[:-1], matrix_transpose(ct)))
    # (the operands broadcast: vmap's rule keeps an unbatched x as it is, so that the
    # directions of one level may carry the batch axes of another; the last direction's
    # cotangent sums over those it was broadcast along)
    shape = tuple(ts[-1].aval.shape)
    extra = len(ct_t.shape) - len(shape)
    axes = tuple(range(extra)) + tuple(
        extra + i for i, d in enumerate(shape) if d == 1 and ct_t.shape[extra + i] != 1)
    if axes:
        ct_t = reshape(reduce_sum(ct_t, axes), shape)
    return [None] * len(ts) + [ct_t]


def _adj_d_impl(b, x, *ts):
    xp = b.xp
    shape = _adj_d_shape(x.shape, *(t.shape for t in ts))
    dev = b.device(x)
    k, n = len(ts), shape[-1]
    if k >= n or 0 in shape:
        return xp.zeros(shape, dtype=x.dtype, device=dev)
    # (x keeps its own shape: under vmap of the directions alone, jacfwd's and hessian's, x
    # is factored once for the whole batch)
    ts = [xp.broadcast_to(t if t.dtype == x.dtype else xp.astype(t, x.dtype), shape)
          for t in ts]
    host = _on_host(x)
    x_ok = _all_finite(xp, x)
    eye = xp.eye(n, dtype=x.dtype, device=dev)
    xs = xp.where(x_ok[..., None, None], x, eye)
    xinv = _unchecked_inv(b, xs)
    well = None
    if xinv is not None:
        def norm1(a):
            return xp.max(xp.sum(xp.abs(a), axis=-2), axis=-1)
        cond = norm1(xs) * norm1(xinv)
        bound = _ADJ_D_COND if xp.finfo(x.dtype).eps < 1e-10 else 1e2
        well = xp.logical_and(_all_finite(xp, xinv), cond < bound)
        xinv = xp.where(well[..., None, None], xinv, eye)
        out = _adj_d_by_inv(xp, xinv, xp.linalg.det(xp.where(well[..., None, None], xs, eye)),
                            ts)
    need_svd = well is None or not host or not bool(b.to_numpy(xp.all(well)))
    if need_svd:
        by_svd = _adj_d_by_svd(b, xp.where(well[..., None, None], eye, xs)
                               if well is not None else xs, ts)
        out = by_svd if well is None else xp.where(well[..., None, None], out, by_svd)
    if host and bool(b.to_numpy(xp.all(x_ok))):
        return out
    nan = xp.asarray(float("nan"), dtype=x.dtype, device=dev)
    return xp.where(x_ok[..., None, None], out, nan)


def _unchecked_inv(b, x):
    """x^{-1} (inf or nan where x is singular), or None where the backend refused it."""
    if b.name == "torch":
        import torch
        return torch.linalg.inv_ex(x)[0]
    try:
        return b.xp.linalg.inv(x)
    except (ValueError, RuntimeError, ArithmeticError):
        return None


def _adj_d_by_inv(xp, xinv, det, ts):
    k = len(ts)
    ys = [xinv @ t for t in ts]
    adj = det[..., None, None] * xinv
    prods = {(): None}

    def prod(seq):   # Y_seq[0] ... Y_seq[-1] (memoized by prefix)
        if seq not in prods:
            head = prod(seq[:-1])
            prods[seq] = ys[seq[-1]] if head is None else head @ ys[seq[-1]]
        return prods[seq]

    traces = {}

    def e(rest):   # D^|rest| det(I)[Y_rest], a scalar per matrix (None: the number 1)
        if not rest:
            return None
        if rest not in traces:
            first, others = rest[0], rest[1:]
            total = None
            for seq in _sequences(others):
                left = tuple(i for i in others if i not in seq)
                term = xp.sum(xp.linalg.diagonal(prod((first,) + seq)), axis=-1)
                if left:
                    term = term * e(left)
                odd = len(seq) % 2
                total = (-term if odd else term) if total is None else (
                    total - term if odd else total + term)
            traces[rest] = total
        return traces[rest]

    out = None
    for seq in _sequences(tuple(range(k))):
        rest = tuple(i for i in range(k) if i not in seq)
        coef = e(rest)
        mat = adj if not seq else prod(seq) @ adj
        term = mat if coef is None else coef[..., None, None] * mat
        if len(seq) % 2:
            out = -term if out is None else out - term
        else:
            out = term if out is None else out + term
    return out


def _sequences(items):
    """Every ordered sequence of distinct elements of the tuple ``items`` (the empty one
    first)."""
    return [seq for r in range(len(items) + 1) for seq in itertools.permutations(items, r)]


def _adj_d_by_svd(b, x, ts):
    xp = b.xp
    u, s, vh = xp.linalg.svd(x, full_matrices=False)
    uh, v = _xp_h(xp, u), _xp_h(xp, vh)
    ks = [uh @ t @ v for t in ts]
    d = _adj_d_diagonal(b, s, ks)
    c = xp.linalg.det(u) * xp.linalg.det(vh)
    return c[..., None, None] * (v @ d @ uh)


_ADJ_D_GRID = 1 << 22   # entries of the n^(k+1) grid computed at once (by leading axis)


def _adj_d_diagonal(b, s, ks):
    """D^k adj(diag(s))[K_1..K_k] (see adjugate_derivative): the sum over permutations of
    the k + 1 slots on the grid of distinct row indices, weighted by the products of the
    other singular values. (A long batch, a jacfwd's directions, in slices along its
    leading axis: the grid is n^(k - 1) times the result's size.)"""
    xp = b.xp
    kb = tuple(ks[0].shape[:-2])
    n = s.shape[-1]
    size = math.prod(kb) * n ** (len(ks) + 1)
    total = math.prod(kb)
    if size > _ADJ_D_GRID and total > 1:   # (flat over the batch, s broadcast along)
        flat_s = xp.reshape(xp.broadcast_to(s, kb + (n,)), (total, n))
        flat_k = [xp.reshape(k, (total, n, n)) for k in ks]
        step = max(1, total * _ADJ_D_GRID // size)
        parts = [_adj_d_diagonal(b, flat_s[i:i + step], [k[i:i + step] for k in flat_k])
                 for i in range(0, total, step)]
        return xp.reshape(xp.concat(parts, axis=0), kb + (n, n))
    dev = b.device(s)
    n, m = s.shape[-1], len(ks) + 1
    sb = tuple(s.shape[:-1])
    grid = sb + (n,) * m
    ar = xp.arange(n, device=dev)
    idx = [xp.reshape(ar, tuple(n if a == c else 1 for c in range(m))) for a in range(m)]
    w = xp.ones(grid, dtype=s.dtype, device=dev)
    for l in range(n):
        taken = idx[0] == l
        for a in range(1, m):
            taken = xp.logical_or(taken, idx[a] == l)
        w = w * xp.where(taken, xp.asarray(1.0, dtype=s.dtype, device=dev),
                         xp.reshape(s[..., l], sb + (1,) * m))
    for a in range(m):
        for c in range(a + 1, m):
            w = xp.where(idx[a] == idx[c], xp.asarray(0.0, dtype=s.dtype, device=dev), w)
    w = xp.astype(w, ks[0].dtype)
    kb = tuple(ks[0].shape[:-2])   # (the directions' batch: s's, or more leading axes)

    def on_axes(kmat, p, q):   # K[r_p, r_q] on the grid (the diagonal where p == q)
        if p == q:
            dg = xp.linalg.diagonal(kmat)
            return xp.reshape(dg, kb + tuple(n if c == p else 1 for c in range(m)))
        if p > q:
            kmat, p, q = xp.matrix_transpose(kmat), q, p
        return xp.reshape(kmat, kb + tuple(n if c in (p, q) else 1 for c in range(m)))

    out = xp.zeros(kb + (n, n), dtype=ks[0].dtype, device=dev)
    for sigma in itertools.permutations(range(m)):
        sign = _perm_sign(sigma)
        term = w
        for a in range(m - 1):
            term = term * on_axes(ks[a], a, sigma[a])
        i_ax, j_ax = sigma[m - 1], m - 1
        others = tuple(c - m for c in range(m) if c not in (i_ax, j_ax))
        red = xp.sum(term, axis=others) if others else term
        if i_ax == j_ax:
            red = xp.reshape(red, kb + (n,))
            red = red[..., :, None] * xp.eye(n, dtype=red.dtype, device=dev)
        elif i_ax > j_ax:
            red = xp.matrix_transpose(red)
        out = out + red if sign > 0 else out - red
    return out


def _perm_sign(p):
    sign, seen = 1, [False] * len(p)
    for i in range(len(p)):
        if not seen[i]:
            j, length = i, 0
            while not seen[j]:
                seen[j], j, length = True, p[j], length + 1
            sign = -sign if length % 2 == 0 else sign
    return sign


adjugate_derivative_p = primitive("adjugate_derivative")
adjugate_derivative_p.def_impl(_adj_d_impl)
adjugate_derivative_p.def_abstract_eval(_adj_d_aval)
adjugate_derivative_p.def_jvp(_adj_d_jvp)
adjugate_derivative_p.def_transpose(_adj_d_transpose)


def _adj_d_batch(args, dims):
    # A batch of directions at one x (jacfwd's, hessian's): x keeps its shape (the impl
    # broadcasts it), factored once rather than once per direction. The operands' own
    # shapes broadcast (right-aligned): each batched one gets the others' rank after its
    # leading batch axis.
    size = batch_size(args, dims)
    nd = max(len(a.shape) - (d is not None) for a, d in zip(args, dims))
    out = []
    for i, (a, d) in enumerate(zip(args, dims)):
        if d is None and i == 0:
            out.append(a)
            continue
        a = with_batch(a, d, size)
        extra = nd + 1 - len(a.shape)
        out.append(reshape(a, (size,) + (1,) * extra + tuple(a.shape[1:])) if extra else a)
    return adjugate_derivative_p.bind(*out), 0


adjugate_derivative_p.def_batch(_adj_d_batch)


def _slogdet_jvp(primals, tangents):
    # d log|det x| = Re tr(x^-1 dx). At a singular x (sign 0, log -inf; NumPy's slogdet finds
    # an exact zero pivot) there is no derivative: log|det| is unbounded below near x. The
    # tangent there is the limit of this one as det(x) -> 0 from above, x^-1 = adj(x) /
    # det(x): tr(adj(x) dx) * inf, so +-inf where the determinant changes to first order and
    # nan where it does not (for every dx where adj(x) = 0: rank n - 2 or less), JAX's
    # values wherever its LU gives them; for a complex x the phase of that limit is
    # undefined: nan, as JAX's. (A real x's sign has no derivative, there as everywhere.)
    # x^-1 is carried as a pair (a, scale) = slogdet_inv(x): x^-1 and 1, or adj(x) and
    # inf (1/det's limit) at a singular x, decided per matrix on the values when it runs, so
    # that jit and vmap give the eager limit too without an adjugate on every call. Since
    # scale^k = scale, a's derivatives by x^-1's rule (-a dx a) times scale are the limits
    # of the higher derivatives as well.
    # A tangent that does not move a singular matrix gives 0 there, not 0 * inf (nan in a
    # stack's cross blocks): the product by scale has a strong zero, and the directions
    # that move only entries where adj(x) is 0 (0 * inf: nan, as before) get a nan slope of
    # their own; a complex singular x gets it for every direction.
    x, = primals
    t = tangents[0]
    sign, logabs = slogdet(x)
    a, scale = slogdet_inv_p.bind(x)
    nb = len(x.shape) - 2
    at = matrix_transpose(a)
    singular = ne(scale, 1.0)
    if not _maybe_any(singular):
        # (known on the values: every matrix invertible, scale 1)
        tr = reduce_sum(mul(at, t), (nb, nb + 1))
    else:
        singular = reshape(singular, tuple(scale.shape) + (1, 1))
        # (mul_sz for a x^-1 that is not infinite too: reverse-over-reverse takes its
        # cotangent as the product of the first pass's, infinite at a singular matrix, by
        # the second's, zero for the other matrices)
        tr = mul_sz(scale, reduce_sum(mul_sz(at, t), (nb, nb + 1)))
        holes = _bcast(singular, x)
        if not _is_complex(x):
            holes = select(holes, eq(at, 0.0), holes)
        nans = add(select(holes, full_like(t, math.nan), zeros_like(t)),
                   _bcast(matrix_nan_slope(x, singular), t))
        tr = add(tr, reduce_sum(mul_sz(nans, t), (nb, nb + 1)))
    if not _is_complex(x):
        return [sign, logabs], [None, tr]
    # d sign = sign * 1j * Im(tr), d log|det| = Re(tr).
    t_sign = mul(sign, mul(convert_element_type(imag(tr), _aval(x).dtype), 1j))
    return [sign, logabs], [t_sign, real(tr)]


def _slogdet_inv_impl(b, x):
    xp = b.xp
    try:  # (NumPy's and torch's inv refuse a singular matrix: the same LU's zero pivot as
        # slogdet's; other libraries (CuPy) may give infinities: their signs are looked at)
        a = xp.linalg.inv(x)
        if b.name in _INV_REFUSES or not bool(b.to_numpy(xp.any(xp.linalg.slogdet(x)[0] == 0))):
            return [a, xp.ones(tuple(x.shape[:-2]), dtype=x.dtype, device=b.device(x))]
    except (ValueError, RuntimeError, ArithmeticError):
        pass
    singular = xp.linalg.slogdet(x)[0] == 0
    m = singular[..., None, None]
    eye = xp.eye(x.shape[-1], dtype=x.dtype, device=b.device(x))
    a = xp.where(m, _adjugate_impl(b, x), xp.linalg.inv(xp.where(m, eye, x)))
    one = xp.ones(tuple(x.shape[:-2]), dtype=x.dtype, device=b.device(x))
    limit = math.nan if xp.isdtype(x.dtype, "complex floating") else math.inf
    return [a, xp.where(singular, xp.asarray(limit, dtype=x.dtype, device=b.device(x)), one)]


_INV_REFUSES = ("numpy", "array_api_strict", "torch")


def _slogdet_inv_jvp(primals, tangents):
    # x^-1's rule at every matrix, scale constant (see _slogdet_jvp)
    a, scale = slogdet_inv_p.bind(*primals)
    return [a, scale], [neg(matmul(matmul(a, tangents[0]), a)), None]


def _slogdet_inv_aval(x):
    return [x, ShapedArray(tuple(x.shape[:-2]), x.dtype)]


# slogdet_inv(x) = (a, scale): for each matrix of the stack x, x^-1 and 1 where it is
# invertible, adj(x) and inf (nan if complex) where slogdet's sign is 0 (scale has x's dtype
# and batch shape); only for slogdet's derivative (x^-1 = a * scale in the limit det -> 0+).
slogdet_inv_p = primitive("slogdet_inv", multiple_results=True)
slogdet_inv_p.def_impl(_slogdet_inv_impl)
slogdet_inv_p.def_abstract_eval(_slogdet_inv_aval)
slogdet_inv_p.def_jvp(_slogdet_inv_jvp)


def _slogdet_aval(x):
    batch = tuple(x.shape[:-2])
    return [ShapedArray(batch, x.dtype), ShapedArray(batch, _dt.real_dtype(x.dtype))]


def _slogdet_impl(b, x):
    r = b.xp.linalg.slogdet(x)
    return [r[0], r[1]]


slogdet_p = primitive("slogdet", multiple_results=True)
slogdet_p.def_impl(_slogdet_impl)
slogdet_p.def_abstract_eval(_slogdet_aval)
slogdet_p.def_jvp(_slogdet_jvp)

# -- factorizations ----------------------------------------------------------------------------------


def _cholesky_jvp(primals, tangents):
    # x = L L^T  =>  dL = L Phi(L^{-1} dx L^{-T}), Phi = lower triangle with half the diagonal.
    x, = primals
    low = cholesky(x)
    t = _sym(tangents[0])
    y = solve(low, t)
    z = _h(solve(low, _h(y)))
    phi = sub(tri(z, 0, True), mul(diag_embed(diagonal(z)), 0.5))
    return low, matmul(low, phi)


cholesky_p = primitive("cholesky")
cholesky_p.same_aval = True
cholesky_p.def_impl(lambda b, x: b.xp.linalg.cholesky(x))
cholesky_p.def_abstract_eval(lambda x: x)
cholesky_p.def_jvp(_cholesky_jvp)


def _eigh_impl(b, x):
    r = b.xp.linalg.eigh(x)
    return [r[0], r[1]]


def _eigh_aval(x):
    return [ShapedArray(tuple(x.shape[:-1]), _dt.real_dtype(x.dtype)), x]


def _eigh_jvp(primals, tangents):
    # With P = V^H dx V: dw = diag(P), dV = V (F * P), F[i, j] = 1 / (w_j - w_i) off the
    # diagonal. Needs distinct eigenvalues (F is infinite at ties).
    x, = primals
    w, v = eigh(x)
    t = tangents[0]
    p = matmul(matmul(_h(v), _sym(t)), v)
    # (Where w may hold a tie (eager: on the values; vmap; staged: jit), diag(P) and
    # V (F * P) as spectral_tangent's "diag" and "vecs" maps: their transposes and second
    # derivatives are eigvalsh's and written out with products strong per matrix
    # (_eigh_vecs_dx), so a function of w alone gets eigvalsh's second derivatives at ties,
    # and a matrix of a stack that the tangent (cotangent) does not move gets 0, not V's
    # infinite derivative at its tie times 0 in the products that make P or V (F * P).
    # P is their operand, its own tangent not read. Staged too since session 44 (jit's
    # second derivatives of V had 1215 to 2187 nan between the matrices of a stack with a
    # tied matrix; jit(hessian) of V on 2 x 6 x 6 no slower, jit(grad) on 8 x 16 x 16
    # unchanged within noise: see strong_product's NumPy form).)
    if _may_tie(w, staged=None) is not False:
        return [w, v], [spectral_tangent(t, x, w, v, p, kind="diag", projected=True),
                        spectral_tangent(t, x, w, v, p, kind="vecs", projected=True)]
    dw = real(diagonal(p)) if _is_complex(x) else diagonal(p)
    f = _inverse_gaps(w)
    if _is_complex(x):
        f = convert_element_type(f, _aval(x).dtype)
    # (F is infinite at ties, and a matrix of a stack that the tangent does not move has
    # P = 0: its dV is 0, not inf * 0 = nan in the Jacobian's entries between matrices;
    # without ties mul_sz gives the same values as the "vecs" map for less)
    return [w, v], [dw, matmul(v, mul_sz(f, p))]


eigh_p = primitive("eigh", multiple_results=True)
eigh_p.def_impl(_eigh_impl)
eigh_p.def_abstract_eval(_eigh_aval)
eigh_p.def_jvp(_eigh_jvp)


def eigh(x):
    return eigh_p.bind(x)


def _eigvalsh_jvp(primals, tangents):
    x, = primals
    w, v = eigh(x)
    return w, spectral_tangent(tangents[0], x, w, v, kind="diag")


eigvalsh_p = primitive("eigvalsh")
eigvalsh_p.def_impl(lambda b, x: b.xp.linalg.eigvalsh(x))
eigvalsh_p.def_abstract_eval(lambda x: _eigh_aval(x)[0])
eigvalsh_p.def_jvp(_eigvalsh_jvp)


def _complex_of(dtype):
    return _dt.complex64 if dtype in (_dt.float32, _dt.complex64) else _dt.complex128


def _eig_impl(b, x):
    # LAPACK refuses non-finite input (NumPy raises): such matrices get NaN eigenvalues and
    # eigenvectors, as JAX; the others of a stack are unaffected
    # (the look at the values on the host only; on a device, read-free: the masked call
    # always, the same values)
    xp = b.xp
    finite = xp.all(xp.isfinite(x), axis=(-2, -1))
    if _on_host(x) and bool(xp.all(finite)):
        w, v = b.extra("eig")(x)
        return [w, v]
    keep = finite[..., None, None]
    w, v = b.extra("eig")(xp.where(keep, x, xp.zeros_like(x)))
    return [xp.where(keep[..., 0], w, xp.full_like(w, math.nan)),
            xp.where(keep, v, xp.full_like(v, math.nan))]


def _eig_aval(x):
    c = _complex_of(x.dtype)
    return [ShapedArray(tuple(x.shape[:-1]), c), ShapedArray(tuple(x.shape), c)]


def _eig_tangent_projection(x, t):
    """(w, v, P, tie) with P = V^{-1} dx V: in the eigenbasis a perturbation's diagonal
    moves the eigenvalues and its off-diagonal part turns the eigenvectors. ``tie`` (see
    _may_tie_unsorted; True: eager values with a tie, vmap): the products with the tangent
    then strong per matrix, V^{-1} an operand of its own (see _eig_jvp)."""
    w, v = eig(x)
    tie = _may_tie_unsorted(w, staged=None)
    t = _dtype_of(t, v)
    if tie is not False:
        mm = _point_products(tie)[0]
        return w, v, mm(inv(v), mm(t, v)), tie
    return w, v, solve(v, matmul(t, v)), tie


def _eig_jvp(primals, tangents):
    # A = V diag(w) V^{-1}: dw = diag(P), dV = V (F * P) with F[i, j] = 1 / (w_j - w_i) off
    # the diagonal (distinct eigenvalues). Each column of V is fixed only up to a complex
    # factor; the library normalises it to unit length, so the derivative removes the
    # component Re(v_i^H dv_i) v_i that would change the length. The remaining phase is the
    # library's choice: only phase-invariant functions of V have derivatives that match
    # finite differences (as for complex svd).
    # Where w may hold a tie (eager: two equal eigenvalues, a tied or defective matrix;
    # vmap; staged) F * P is tie_product, as eigh's: a matrix of a stack that the tangent
    # does not move gets 0, not inf * 0 = nan, and a pair of tied columns that the
    # cotangent does not read 0 in the transpose (session 43: eig's V leaked nan into the
    # other matrices' entries of a first derivative, 54 in jacfwd, 81 in jacrev, and the
    # simple vector's own entries at a tied matrix were nan in jacrev, finite in jacfwd).
    # Eager and under vmap every product of the point with the tangent is strong per
    # matrix too (V^{-1} an operand, not a solve whose derivative in V meets the zero
    # right-hand side): second derivatives have 0 between the matrices, where the tied
    # matrix's infinite dV met a zero tangent (were 729 to 2187 nan). Staged they are lazy
    # (_point_products: plain values, strong derivatives; jit's second derivatives had
    # 1215 to 2187 nan between the matrices until session 44).
    x, = primals
    w, v, p, tie = _eig_tangent_projection(x, tangents[0])
    # (_strong_inverse_gaps where ties may be: F's derivative strong per matrix in the
    # gaps' tangent, as svd's; the plain one's transpose divides a zero cotangent by the
    # tied matrix's zero gap squared)
    f = (_inverse_gaps if tie is False else _strong_inverse_gaps)(w)   # (see _TIE_ULPS)
    n = x.shape[-1]
    if tie is False:
        dv = matmul(v, mul(f, p))
        stretch = real(reduce_sum(mul(conj(v), dv), (len(x.shape) - 2,)))
        dv = sub(dv, mul(v, _rows(convert_element_type(stretch, _aval(v).dtype), n)))
        return [w, v], [diagonal(p), dv]
    mm, ew = _point_products(tie)
    # (the length's correction from a product of its own: in the transpose a cotangent
    # that reads a tied column along that column alone, V[0, 0] at diag(1, 1, 2), reaches
    # the first with the column read (nan: the column jumps within the cluster), where
    # one product would see the two cotangents' sum, 0 on that column, as unread: 0)
    dv = mm(v, tie_product(f, p))
    stretch = real(reduce_sum(ew(conj(v), mm(v, tie_product(f, p))), (len(x.shape) - 2,)))
    dv = sub(dv, ew(v, _rows(convert_element_type(stretch, _aval(v).dtype), n)))
    dw = diagonal(p)
    bad, tied = _defective(w, v)
    if _any_on_host(bad):
        # (a defective matrix: no eigenbasis, LAPACK's V singular. The rule's dV, which
        # assumes one, is wrong there even for a simple eigenvalue's vector (its reduced
        # resolvent has a nilpotent part): dV nan, and dw on the defective cluster, whose
        # eigenvalues move as a root of the perturbation (the rule's value is 1 / eps);
        # a simple eigenvalue keeps its (right) first derivative, its second meets dV's nan)
        t = _dtype_of(tangents[0], v)
        dv = add(dv, _nan_if_moved(bad, x, t, dv))
        dw = add(dw, mul_sz(diagonal(_nan_if_moved(bad, x, t, p)), tied))
    return [w, v], [dw, dv]


def _dtype_of(t, like):
    """``t`` in ``like``'s dtype (eig's complex one)."""
    c = _aval(like).dtype
    return t if _aval(t).dtype == c else convert_element_type(t, c)


def _any_on_host(mask):
    """Whether ``mask`` may hold True: its value where it is a concrete NumPy array behind
    the transforms (a host read that costs nothing), else True (staged, vmap, device
    arrays: the read-free path, which gives the same values)."""
    val, batched = concrete_behind(mask, report_batch=True)
    if val is None or batched or not isinstance(val, (np.ndarray, np.generic)):
        return True
    return bool(val.any())


def _defective(w, v):
    """For eig's (w, v): ``bad`` (..., 1, 1), the matrices of the stack with two equal
    eigenvalues whose unit eigenvectors are numerically parallel (|v_i^H v_j| within
    sqrt(eps) of 1: a defective matrix, LAPACK's vectors of a Jordan block), and ``tied``
    (..., n), 1 on the eigenvalues equal to another (w's dtype), else 0. (The Gram matrix
    of V, one small product: an SVD of V, for its rank, cost jit(grad) of eig +15 %.)"""
    nd = len(w.shape)
    tie = _ties_of(_strong_inverse_gaps(w))   # (see _TIE_ULPS)
    tied = reduce_or_p.bind(tie, axes=(nd,))
    v0 = stop_gradient_p.bind(v)
    g = matmul(_h(v0), v0)
    g2 = real(mul(g, conj(g))) if _is_complex(g) else mul(g, g)
    tol = math.sqrt(float(_dt.finfo(_aval(g2).dtype).eps))
    near = logical_and(tie, gt(g2, (1.0 - tol) ** 2))
    bad = reduce_or_p.bind(near, axes=(nd - 1, nd))
    return (reshape(bad, tuple(bad.shape) + (1, 1)),
            convert_element_type(tied, _aval(w).dtype))


def _may_tie_unsorted(w, staged=False):
    """_may_tie for eig's eigenvalues, in no order: whether two are tied (inverse_gaps_p's
    ties: a tied or defective matrix's, as LAPACK gives them)."""
    val, batched = concrete_behind(w, report_batch=True)
    if val is None:
        return staged
    if batched or not isinstance(val, (np.ndarray, np.generic)):
        return True
    if val.shape[-1] < 2:
        return False
    # (as inverse_gaps_p, eig's F: see _TIE_ULPS)
    n = val.shape[-1]
    tol = _TIE_ULPS * n * float(np.finfo(val.dtype).eps)
    with np.errstate(invalid="ignore"):
        near = (np.abs(val[..., None, :] - val[..., :, None])
                <= tol * np.max(np.abs(val), axis=-1)[..., None, None])
        return bool((near & ~np.eye(n, dtype=bool)).any())


# General (non-symmetric) eigendecomposition through the backend's extra "eig": complex
# eigenvalues and unit-length eigenvectors whatever the input's dtype (NumPy returns real
# arrays when every eigenvalue happens to be real; a dtype that depends on values cannot be
# staged, so this follows JAX).
eig_p = primitive("eig", multiple_results=True)
eig_p.def_impl(_eig_impl)
eig_p.def_abstract_eval(_eig_aval)
eig_p.def_jvp(_eig_jvp)


def eig(x):
    return eig_p.bind(x)


def _eigvals_jvp(primals, tangents):
    x, = primals
    w, v, p, tie = _eig_tangent_projection(x, tangents[0])
    dw = diagonal(p)
    if tie is not False:   # (as eig's: nan on a defective matrix's tied eigenvalues)
        bad, tied = _defective(w, v)
        if _any_on_host(bad):
            t = _dtype_of(tangents[0], v)
            dw = add(dw, mul_sz(diagonal(_nan_if_moved(bad, x, t, p)), tied))
    return w, dw


eigvals_p = primitive("eigvals")
eigvals_p.def_impl(lambda b, x: _eig_impl(b, x)[0])
eigvals_p.def_abstract_eval(lambda x: _eig_aval(x)[0])
eigvals_p.def_jvp(_eigvals_jvp)


def _qr_impl(b, x, mode):
    r = b.xp.linalg.qr(x, mode=mode)
    return [r[0], r[1]]


def _qr_aval(x, mode):
    m, n = x.shape[-2], x.shape[-1]
    k = min(m, n) if mode == "reduced" else m
    batch = tuple(x.shape[:-2])
    return [ShapedArray(batch + (m, k), x.dtype), ShapedArray(batch + (k, n), x.dtype)]


def _block(x, rows=None, cols=None):
    """x[..., rows[0]:rows[1], cols[0]:cols[1]] (None: the whole axis)."""
    shape = tuple(x.shape)
    idx = [(0, d, 1) for d in shape]
    if rows is not None:
        idx[-2] = (rows[0], rows[1], 1)
    if cols is not None:
        idx[-1] = (cols[0], cols[1], 1)
    return slice_(x, idx)


def _nonsingular_r(r):
    """r with each zero on its diagonal replaced by 1 (triangular_solve raises there)."""
    d = diagonal(r)
    return add(r, diag_embed(select(eq(d, 0.0), ones_like(d), mul(d, 0.0))))




def _thin_qr_tangents(x, q, r, t, sing):
    # For x = Q R with R square and invertible: with C = Q^H dx R^{-1} and
    # O = low(C) - low(C)^H (low: strictly lower part), dQ = Q (O - C) + dx R^{-1} and
    # dR = (C - O) R.
    # Where R is singular Q and R have no derivative (JAX's is nan there too; it was a
    # LinAlgError from the solve by R): a nan slope on dQ and dR (on them, not on dx R^-1,
    # whose cotangent R = 0 zeroes) in the directions that move x (those moving only a
    # wide x's other columns keep theirs), 0 for the other matrices of a stack.
    square = q.shape[-2] == q.shape[-1]
    if square:
        qh_dx = matmul(_h(q), t)
        c = _h(triangular_solve(_h(_nonsingular_r(r)), _h(qh_dx), True))
    else:
        dx_rinv = _h(triangular_solve(_h(_nonsingular_r(r)), _h(t), True))
        c = matmul(_h(q), dx_rinv)
    low = tri(c, -1, True)
    o = sub(low, _h(low))
    if _is_complex(x):
        # LAPACK's R has a real diagonal, so Q^H dQ = O also takes the imaginary part of
        # diag(C): then dR = (C - O) R stays upper triangular with a real diagonal.
        o = add(o, diag_embed(_i_times(imag(diagonal(c)), _aval(x).dtype)))
    if square:
        # (a square Q: Q C = dx R^{-1}, so dQ = Q O and dR = Q^H dx - O R, upper triangular.
        # The general forms added dx R^{-1} to Q (O - C), and multiplied C - O by R, terms
        # of size 1 / R_nn that cancel: at a rank-deficient x, R_nn ~ eps |x| from rounding,
        # dQ was 0.5 off, its second derivative 1e15 (JAX's too), dR's 0.5. O reads only
        # C's strictly lower part, which the last column of R^{-1}, the large one, does not
        # reach; dR's lower part is cut (rounding there met R^{-1}'s last column in the
        # second derivative).)
        dq, dr = matmul(q, o), tri(sub(qh_dx, matmul(o, r)), 0, False)
    else:
        dq, dr = add(matmul(q, sub(o, c)), dx_rinv), matmul(sub(c, o), r)
    if not _maybe_any(sing):
        return dq, dr
    x1 = x if tuple(x.shape) == tuple(t.shape) else _block(x, cols=(0, t.shape[-1]))
    return add(dq, _nan_if_moved(sing, x1, t, dq)), add(dr, _nan_if_moved(sing, x1, t, dr))


def _qr_jvp(primals, tangents, mode):
    x, = primals
    q_out, r_out = qr(x, mode)
    m, n = x.shape[-2], x.shape[-1]
    t = tangents[0]
    # Q and R taken as constants below where R is singular: their derivatives are the nan
    # slope there, which would meet the zero tangent of the other matrices of a stack in a
    # second derivative (the nan comes from that slope's own derivative instead).
    k = min(m, n)
    # (a real x with m <= n: a zero R_kk alone, the last, leaves Q and R differentiable:
    # LAPACK's last reflector there is the identity for every x, and R_kk = q_k^H x_k
    # passes through 0; the square rule reads no R^{-1} that it makes infinite. Earlier
    # zeros, a tall x's last one, or a complex x's (whose phase jumps) have no derivative)
    last = max(k - 1, 0) if (m <= n and not _is_complex(x)) else k
    sing = _singular_matrices(_block(r_out, rows=(0, last), cols=(0, last)))
    q, r = q_out, r_out
    if _maybe_any(sing):
        q = select(_to_shape(sing, q_out), stop_gradient_p.bind(q_out), q_out)
        r = select(_to_shape(sing, r_out), stop_gradient_p.bind(r_out), r_out)
    if m <= n:
        # Wide: x = [x1 x2] = Q [R1 R2] with x1 = Q R1 square (its rule), R2 = Q^H x2.
        dq, dr = _thin_qr_tangents(x, q, _block(r, cols=(0, m)), _block(t, cols=(0, m)), sing)
        if m < n:
            x2, t2 = _block(x, cols=(m, n)), _block(t, cols=(m, n))
            dr = concat([dr, add(matmul(_h(dq), x2), matmul(_h(q), t2))], len(x.shape) - 1)
        return [q_out, r_out], [dq, dr]
    if mode == "reduced":
        return [q_out, r_out], list(_thin_qr_tangents(x, q, r, t, sing))
    # Complete, tall: [Q1 Q2] with Q1 R1 the reduced factorization (its rule; R's other rows
    # are zero). Q2 is LAPACK's choice, fixed by the Householder form Q = I - V T V^H
    # (V = [V1; V2], V1 unit lower triangular): with Z = V2 V1^{-1} = Q_pn (Q_nn - I)^{-1}
    # (Q1 = [Q_nn; Q_pn]) the blocks of Q give Q2 = Q1 Z^H + [-Z^H; I], a function of Q1:
    # dQ2 = dQ1 Z^H + (Q1 - [I; 0]) (Q_nn - I)^{-H} (dQ_pn - Z dQ_nn)^H. (Q_nn - I is
    # singular where a Householder step is the identity, tau = 0: there LAPACK's Q and R
    # jump with the sign of a column, and have no derivative.)
    q1, r1 = _block(q, cols=(0, n)), _block(r, rows=(0, n))
    dq1, dr1 = _thin_qr_tangents(x, q1, r1, t, sing)
    q_nn, q_pn = _block(q1, rows=(0, n)), _block(q1, rows=(n, m))
    eye = diag_embed(ones_like(diagonal(q_nn)))
    a = sub(q_nn, eye)
    # (where Q_nn - I is singular, Q2 jumps: a nan derivative, as JAX's, not a LinAlgError
    # from the solves; an identity in its place keeps them finite)
    det_a = det(a)
    singular = eq(det_a, 0.0)
    nb = len(singular.shape)
    a = select(broadcast_in_dim(singular, tuple(a.shape), tuple(range(nb))), eye, a)
    zh = solve(_h(a), _h(q_pn))                                            # Z^H
    w = _h(solve(a, _h(sub(q1, scatter_slice(eye, tuple(q1.shape), _block_idx(q1, n))))))
    dz = sub(_block(dq1, rows=(n, m)), matmul(_h(zh), _block(dq1, rows=(0, n))))
    dq2 = add(matmul(dq1, zh), matmul(w, _h(dz)))
    jumps = reshape(singular, tuple(singular.shape) + (1, 1))
    if _maybe_any(jumps):
        dq2 = add(select(_to_shape(jumps, dq2), zeros_like(dq2), dq2),
                  _nan_if_moved(jumps, x, t, dq2))
    nd = len(x.shape)
    dr = scatter_slice(dr1, tuple(r.shape), _block_idx(r, n))
    return [q_out, r_out], [concat([dq1, dq2], nd - 1), dr]


def _block_idx(x, n):
    """The slice of x's first n rows (for scatter_slice)."""
    return tuple((0, d, 1) for d in tuple(x.shape)[:-2]) + ((0, n, 1), (0, x.shape[-1], 1))


qr_p = primitive("qr", multiple_results=True)
qr_p.def_impl(_qr_impl)
qr_p.def_abstract_eval(_qr_aval)
qr_p.def_jvp(_qr_jvp)


def qr(x, mode="reduced"):
    return qr_p.bind(x, mode=mode)


def _svd_impl(b, x, full_matrices):
    r = b.xp.linalg.svd(x, full_matrices=full_matrices)
    return [r[0], r[1], r[2]]


def _svd_aval(x, full_matrices):
    m, n = x.shape[-2], x.shape[-1]
    k = min(m, n)
    batch = tuple(x.shape[:-2])
    u = (m, m) if full_matrices else (m, k)
    vh = (n, n) if full_matrices else (k, n)
    return [ShapedArray(batch + u, x.dtype),
            ShapedArray(batch + (k,), _dt.real_dtype(x.dtype)),
            ShapedArray(batch + vh, x.dtype)]


def _svd_jvp(primals, tangents, full_matrices):
    x, = primals
    u, s, vh = svd(x, full_matrices)
    return [u, s, vh], list(_svd_tangents(x, u, s, vh, tangents[0], full_matrices))


def _svd_tangents(x, u, s, vh, t, full_matrices):
    # Distinct non-zero singular values. With dP = U^H dx V and
    # F[i, j] = 1 / (s_j^2 - s_i^2): dS = Re diag(dP),
    # dU = U (F * (dP S + S dP^H)) + (dx V - U dP) S^{-1},
    # dV = V (F * (S dP + dP^H S)) + (dx^H U - V dP^H) S^{-1}.
    # Complex: each pair (u_i, v_i) has a free common phase; this rule fixes it by giving
    # U^H dU the diagonal i Im(dP_ii) / s_i and V^H dV a zero one (any split is as valid:
    # phase-invariant functions such as U S V^H, |U|, u_i v_i^H do not see it).
    m, n = x.shape[-2], x.shape[-1]
    k = min(m, n)
    if full_matrices and m != n:
        raise NotImplementedError(
            f"The derivative of svd with full_matrices=True is implemented for square "
            f"matrices only; got shape {x.shape}. Use full_matrices=False.")
    cplx = _is_complex(x)
    as_x = _as_dtype_of(x)
    v = _h(vh)
    tie = _may_tie(s, zero=True, staged=None)
    # (where ties may be (eager values, vmap; staged: lazy, see _point_products), every
    # product of the point (U, S, V) with the tangent is strong per matrix, the singular
    # values' too (ew below): in a second derivative a matrix of a stack that the inner
    # tangent does not move gets 0 there, not U's or V's infinite derivative at its tie
    # times 0, and in a transpose's derivative the tied matrix's own nan cotangent meets
    # the zero tangent of S there in a strong product (session 43: a plain product by S
    # leaked it into the other matrices' entries, 243 to 2187 nan in fwd(rev), rev(fwd),
    # rev(rev); session 44: under jit too, where they were left out for their cost)
    mm, ew = _point_products(tie)
    tv = mm(t, v)
    dp = mm(_h(u), tv)
    # (diag(dP) as spectral_tangent's value: svdvals' transpose and second derivatives for
    # a function of S alone, where S may hold a tie or a zero (1 / s); see eigh's. Staged
    # too since session 44: differentiating diag(U^H t V) through U's and V's rules gave
    # jit(jacrev(jacrev)) of sum((S - S(x0))^2) at diag(1, 1, 2) a silent 1.0 off, where
    # the cluster's coincidentally zero cotangent met the tie products' strong zeros)
    if tie is not False:
        ds = spectral_tangent(t, x, u, s, vh, dp, kind="svd_diag", projected=True)
    else:
        ds = real(diagonal(dp)) if cplx else diagonal(dp)
    def vectors(t, tv, dp, x, s, u, v, vecs_map, tie=tie):
        """(dU, dV) from the tangent t, t V and dP = U^H t V at the point (x, s, u, v)
        (``tie`` as _may_tie's; the point an operand: a lax.cond's branches share it)."""
        mm, ew = _point_products(tie)
        # (where ties may be, nan at those of s: see _TIE_ULPS; formed where a product below
        # takes it, not for the svd_vecs maps, which form their own)
        fs = []

        def f():
            if not fs:
                fs.append(as_x(_inverse_gaps(mul(s, s)) if tie is False
                               else _strong_inverse_gaps(mul(s, s), s)))
            return fs[0]
        s_j, s_i = as_x(_rows(s, k)), as_x(_cols(s, k))
        dpt = _h(dp)
        # (F is infinite at ties, among them zero singular values; a matrix of a stack that
        # the tangent does not move gets 0 there, not inf * 0 = nan; where ties may be
        # (eager values, vmap, staged) strong only where that zero is structural, as eigh's)
        # (gated by t: y may be 0 on a whole matrix that t moves, a tall matrix's tied pair
        # along a direction in its complement, where the pair turns by a finite amount (V
        # jumps from I to (1, +-1) / sqrt 2 at [[1, 0], [0, 1], [0, 0]] along E20 + E21): nan,
        # not the 0 of a matrix that t leaves)
        prod = mul_sz if tie is False else (lambda a, b: tie_product(a, b, t))
        # (session 48: a rectangular x's square factor, U (m x m) of a wide x, V (n x n) of a
        # tall one, is an eigenbasis of x x^T (x^T x) too: the map needs only x^T U = V S
        # (x V = U S) and U^T U = I, so it takes that factor; the thin one from it, see
        # _thin_factor_tangent)
        u_map = vecs_map and m <= n
        v_map = vecs_map and n <= m
        # (session 51: the thin factor, a tall x's U (a wide one's V), from the square one's
        # tangent wherever the maps are taken (eager values with a tie or a zero, vmap, jit),
        # real and complex: its products are m x n, as the rule's; session 48's map of the
        # square [x, 0] (m x m products) cost jit(grad) of a tall 8 x 64 x 8 stack ~5x and was
        # taken at ties seen in eager NumPy values only, jit's products nan there)
        thin_map = vecs_map and m != n
        if thin_map and m > n:
            du = None
        elif u_map:
            # (session 45: a real square x's U and V are the eigenvectors of A = x x^T and
            # B = x^T x, eigenvalues S^2, and the rule's U (F * (dP S + S dP^T)) is eigh's
            # eigenvector map of A along dA = t x^T + x t^T (V's of B): as spectral_tangent's
            # "svd_vecs" map (its value and transpose this rule's products, dP S + S dP^T its
            # projected operand), whose second derivatives are eigh's (_eigh_vecs_dx of A): a
            # simple singular value's vectors at a tie get theirs (_cluster_free) where
            # differentiating these products gave inf - inf, all nan in every nesting
            # (jacfwd(jacfwd) of U[:, 0] at diag(1, 1, 2)); its strong forms are those of the
            # products here (per matrix for t, per pair of unread columns for a cotangent).
            # Complex (session 50): eigh's map of x x^H, dU = U (F * P) with P = dP S + S dP^H;
            # svd's U also turns by its phase term i Im(dP_ii) / s_i below, which eigh's second
            # derivatives do not see: phase=True adds that turn to the map's (0.50 off without).
            # Rectangular (session 48): the thin U (V^H) is no eigenbasis of x x^T (x^T x): see
            # _thin_factor_tangent)
            du = spectral_tangent(t, x, s, u, v, add(ew(s_j, dp), ew(s_i, dpt)),
                                  kind="svd_vecs", projected=True, phase=cplx)
        else:
            du = mm(u, prod(f(), add(ew(s_j, dp), ew(s_i, dpt))))
        if thin_map and n > m:
            dv = None
        elif v_map:
            dv = spectral_tangent(_h(t), _h(x), s, v, u,
                                  add(ew(s_i, dp), ew(s_j, dpt)), kind="svd_vecs",
                                  projected=True)
        else:
            dv = mm(v, prod(f(), add(ew(s_i, dp), ew(s_j, dpt))))
        # (the parts divided by S: where ties may be, products by 1 / S strong per matrix of
        # the tangent t (the gate: a part may be 0 on a whole matrix that t moves, where a zero
        # singular value's vector has no derivative, nan), so that a zero singular value's inf
        # meets the zero tangent (cotangent) of a matrix of a stack that t does not move as 0,
        # not 0 / 0 = nan in the other matrices' entries: first derivatives of a tall (wide)
        # stack with a rank-deficient matrix had 48 nan there)
        if tie is not False:   # (staged too: first derivatives)
            over_s = lambda a, rows: mul_szm(  # noqa: E731
                as_x(_strong_reciprocal(_rows(s, rows))), a, t)
        else:
            over_s = lambda a, rows: div(a, as_x(_rows(s, rows)))             # noqa: E731
        if cplx and not (thin_map and m > n):   # (a thin U's turn is in its form)
            phase = _rows(_i_times(imag(diagonal(dp)), _aval(x).dtype), m)
            # (with the map, strong per entry in the cotangent: its transpose's derivative
            # meets U's infinite one in a tied column that the function does not read)
            du = add(du, (mul_sz if vecs_map else ew)(u, over_s(phase, m)))
        if thin_map:   # (a wide x's V from U's tangent with its phase term)
            if du is None:
                du = _thin_factor_tangent(t, x, s, u, v, dv, tie)
            else:
                dv = _thin_factor_tangent(_h(t), _h(x), s, v, u, du, tie)
        if m > k and not thin_map:
            du = add(du, over_s(sub(tv, mm(u, dp)), m))
        if n > k and not thin_map:
            tu = mm(_h(t), u)
            dv = add(dv, over_s(sub(tu, mm(v, dpt)), n))
        if tie is not False and not (vecs_map and (m == n or thin_map)):
            # (a zero matrix, every singular value 0: its U and V jump in every direction; the
            # products above, strong where S is 0 on the whole matrix, give 0 there (jacfwd's
            # 0 was silent before too): nan where the tangent moves it, 0 for the others.
            # The svd_vecs map gives it itself, read-free (session 46: these masks and their
            # derivatives, staged since session 45, cost jit(hessian) of svd 8 x 16 x 16 ~20 %))
            nb = len(s.shape) - 1
            null = reshape(reduce_and_p.bind(eq(s, 0.0), axes=(nb,)), tuple(s.shape[:-1]) + (1, 1))
            if _any_on_host(null):
                du = add(du, _nan_if_moved(null, x, t, du))
                dv = add(dv, _nan_if_moved(null, x, _h(t), dv))
        return du, dv

    # (where ties are known to be possible, eager values with a tie and vmap, the maps.
    # Staged, the maps only where the singular values hold a tie, a near tie or a zero, as
    # the eager choice (_staged_may_tie, a lax.cond: the predicate read on the host, one
    # branch run), else the plain products of no tie: complex since session 51 (the maps
    # throughout cost jit(hvp) of a complex 8 x 16 x 16 stack +45 %, the rule's lazy
    # products nan at a tie), real since session 52 (the maps' second derivatives cost
    # jit(hvp) of a real 8 x 16 x 16 stack +20 %, 16 x 3 x 4 +40 %, tall 8 x 64 x 8 +60 %;
    # the cond and its predicate cost jit(grad) ~40 us a call, +8 % on 8 x 16 x 16 and
    # 16 x 3 x 4, where the maps' first derivatives cost what the plain products do))
    if tie is None:
        from ..control_flow import _recorded, cond
        if _recorded((t,)):
            # (reverse mode: the branches take t alone and form t V and dP themselves, so that
            # each one's transpose gives t's cotangent only. Given t, t V and dP, the maps'
            # transposes gave t's and the plain products' gave t V's and dP's: each branch
            # returned zeros for what only the other reads, which the backward pass added
            # (session 54). The map is transposed, not run: t V and dP above, read by dS's
            # value only, are not formed in the backward pass, so nothing is computed twice.
            # Forward, they are passed in, formed once.)
            def from_t(vecs_map, tie):
                def branch(t, x, s, u, v):
                    mm = _point_products(tie)[0]
                    tv = mm(t, v)
                    return vectors(t, tv, mm(_h(u), tv), x, s, u, v, vecs_map, tie)
                return branch
            du, dv = cond(_staged_may_tie(s), from_t(True, None), from_t(False, False),
                          t, x, s, u, v)
        else:
            du, dv = cond(_staged_may_tie(s), lambda *a: vectors(*a, True),
                          lambda *a: vectors(*a, False, tie=False), t, tv, dp, x, s, u, v)
    else:
        du, dv = vectors(t, tv, dp, x, s, u, v, tie is True)
    return du, ds, _h(dv)


def _staged_may_tie(s):
    """A boolean scalar, in array operations (staged): whether some matrix's singular values
    ``s`` (sorted, descending) hold neighbours within _may_tie's tolerance of its largest,
    or a zero (_may_tie(s, zero=True) on host values; never tighter than inverse_gaps_p's
    ties, so that the plain products never meet one)."""
    n = s.shape[-1]
    nd = len(s.shape)
    zero = reduce_or_p.bind(eq(s, 0.0), axes=tuple(range(nd)))
    if n < 2:
        return zero
    eps = float(_dt.finfo(_aval(s).dtype).eps)
    rtol = max(math.sqrt(eps), _TIE_ULPS * n * eps)
    gap = sub(_slice_last(s, 0, n - 1, -1), _slice_last(s, 1, n, -1))
    near = broadcast_in_dim(mul(reshape(_slice_last(s, 0, 1, -1), tuple(s.shape[:-1])), rtol),
                            tuple(gap.shape), tuple(range(nd - 1)))   # (s_max: the first)
    close = reduce_or_p.bind(logical_not(gt(gap, near)), axes=tuple(range(nd)))
    return logical_or(zero, close)


def _seen_tie(s, zero=True):
    """Whether the singular values ``s`` are known in host memory (eager NumPy, not
    batched) and hold a tie, a near tie or (``zero``) a zero (as _may_tie; another
    backend's values are not read)."""
    val, batched = concrete_behind(s, report_batch=True)
    return (isinstance(val, (np.ndarray, np.generic)) and not batched
            and _may_tie(s, zero=zero) is True)


def _slice_last(x, start, end, axis):
    nd = len(x.shape)
    axis = axis % nd
    return slice_(x, tuple((start, end, 1) if i == axis else (0, d, 1)
                           for i, d in enumerate(x.shape)))


def _thin_factor_tangent(t, x, s, u, v, dv, tie):
    """The tangent of a tall x's thin U (m x n, m > n; a wide one's V as U of x^H) from
    V's, ``dv`` (the "svd_vecs" map's; session 51): U = x V S^-1, so
        dU = (t V + x dV - U diag(dS)) S^-1,   dS = Re diag(U^H t V),
    the rule's U (F * P) + (I - U U^H) t V S^-1 (with U^H dU's diagonal i Im(dP_jj) / s_j,
    its phase term, as V^H dV's is 0). Column j reads column j of V, dV and U alone, so
    a simple singular value's vector at a tie has the second derivatives of dV's map
    (_cluster_free), where the rule's products met the tied pair's infinite ones (all nan
    in every nesting). The products are strong in the zero columns of their operands
    (strong_product's cols: t V's transpose c V^H, differentiated, meets V's tied columns'
    nan with the cotangent's unread columns' 0) and per entry in the cotangent (mul_sz, the
    cotangent second); 1 / s is 0 at a zero singular value, whose column is nan on the
    matrices that t moves (its vector turns within the complement: no derivative). Costs
    one m x n x n product (x dV) where the rule's complement term took two."""
    m = x.shape[-2]
    nd = len(x.shape)
    cols = dict(matrix=True, cols=True)
    if tie is None:   # (staged: the plain products' values, see _point_products)
        cols["lazy"] = True
    tv = strong_product_p.bind(t, v, **cols)
    ds = reduce_sum(mul_sz(conj(u) if _is_complex(x) else u, tv), (nd - 2,))
    if _is_complex(x):
        ds = real(ds)
    as_x = _as_dtype_of(x)
    a = add(sub(tv, mul_sz(u, as_x(_rows(ds, m)))), strong_product_p.bind(x, dv, **cols))
    zero = eq(s, 0.0)
    rec = select(zero, zeros_like(s), div(1.0, select(zero, ones_like(s), s)))
    out = mul_sz(as_x(_rows(rec, m)), a)
    if not _any_on_host(zero):
        return out

    def nan_cols(out, t):
        bad = reshape(reduce_or_p.bind(zero, axes=(nd - 2,)), tuple(s.shape[:-1]) + (1, 1))
        return add(out, select(_rows(zero, m), _nan_if_moved(bad, x, t, out), zeros_like(out)))
    if tie is None:   # (staged: only where some singular value is 0, a lax.cond; its
        # masks and their derivatives everywhere cost jit(hvp) of a tall 8 x 64 x 8 ~15 %)
        from ..control_flow import cond
        return cond(reduce_or_p.bind(zero, axes=tuple(range(nd - 1))), nan_cols,
                    lambda out, t: out, out, t)
    return nan_cols(out, t)


svd_p = primitive("svd", multiple_results=True)
svd_p.def_impl(_svd_impl)
svd_p.def_abstract_eval(_svd_aval)
svd_p.def_jvp(_svd_jvp)


def svd(x, full_matrices=False):
    return svd_p.bind(x, full_matrices=full_matrices)


def _svdvals_jvp(primals, tangents):
    x, = primals
    u, s, vh = svd(x, False)
    return s, spectral_tangent(tangents[0], x, u, s, vh, kind="svd_diag")


svdvals_p = primitive("svdvals")
svdvals_p.def_impl(lambda b, x: b.xp.linalg.svdvals(x))
svdvals_p.def_abstract_eval(lambda x: _svd_aval(x, False)[1])
svdvals_p.def_jvp(_svdvals_jvp)


# -- (session 39) the tangent maps of eigvalsh and svdvals, and their transposes ------------
#
# spectral_tangent(t, x, w, v, kind) for eigvalsh (w, v = eigh(x)):
#   kind "diag":  t -> Re diag(V^H sym(t) V)     (the eigenvalues' tangent)
#   kind "embed": c -> V diag(c) V^H             (its transpose, a cotangent of x;
#                                                  conjugated for complex x, see the impl)
# spectral_tangent(t, x, u, s, vh, kind) for svdvals (u, s, vh = svd(x), thin):
#   kind "svd_diag":  t -> Re diag(U^H t V)
#   kind "svd_embed": c -> U diag(c) V^H
# Linear in t; x, and its decomposition, are the point. As one primitive, their derivatives in
# x (second order) are written as divided differences of the operand over the spectrum,
# (c_j - c_i) / (w_j - w_i): where w_i = w_j (a repeated eigenvalue) and c_i = c_j with c
# constant (a cotangent seed: no tangent of its own), V diag(c) V^H is c_i times the
# cluster's spectral projector there, smooth, and the term is exactly 0 - the other
# matrices of a stack (c = 0 there) and a sum over a tied cluster (c = 1 on it) - where
# eigh's rule (F = 1 / (w_j - w_i) infinite) met 0: nan in the Jacobian's entries between
# the matrices of a stack. Where c_i != c_j (an eigenvalue of the cluster alone: a kink)
# or c depends on x (its divided difference at a tie needs c's own derivative in w, which
# the rule does not see: sum(w^2)'s Hessian is finite there, the rule's nan), it stays
# inf or nan, as JAX's.
# (session 50: no rule can do better. sum(w^2) and (sum w)^2 / 3 at I give this map's
# rule the same point, c = (2, 2, 2) and, along dx = E_01 + E_10, dc = 0 (diag(P) = 0),
# where their Hessians along dx are 4 and 0; in reverse over forward (and forward over
# forward) the cotangent (the weights after "diag") has no tangent to read, and 2 sum(s)
# and sum(s^2) at an orthogonal matrix meet the rule with the same c. Only a tangent that
# is a symbolic zero (forward over reverse of a constant c) says the pair's term is 0.
# The limit g''(w) needs the function of the spectrum itself: tests/test_s50_spectral50.py.)

_SPECTRAL_KINDS = ("diag", "embed", "svd_diag", "svd_embed", "vecs", "vecs_embed",
                   "svd_vecs", "svd_vecs_embed")
_SPECTRAL_T = {"diag": "embed", "embed": "diag", "svd_diag": "svd_embed",
               "svd_embed": "svd_diag", "vecs": "vecs_embed", "vecs_embed": "vecs",
               "svd_vecs": "svd_vecs_embed", "svd_vecs_embed": "svd_vecs"}

# (session 45) svd's singular vectors' tangent map for a real square x (u, s, vh = svd(x);
# v = vh^T), and its transpose:
#   kind "svd_vecs":        t -> U (F * P), P = dP S + S dP^T, dP = U^T t V,
#                            F[i, j] = 1 / (s_j^2 - s_i^2) off the diagonal (projected=True:
#                            P the operand after the point (x, s, u, v))
#   kind "svd_vecs_embed":  c -> U ((G + G^T) S) V^T, G = F * (U^T c)
# V's map is U's of x^T: (t^T, x^T, s, v, u). It is eigh's "vecs" map of A = x x^T (w = s^2,
# eigenvectors U) along dA = t x^T + x t^T, with eigh's strong forms, and its derivatives in
# x are eigh's (_eigh_vecs_dx of A along dA = dx x^T + x dx^T, whose columns of a simple
# eigenvalue are written without the rotation within a tied cluster: _cluster_free). The
# first derivatives cost no more than the rule's products did (no x x^T at first order).

# (session 41) eigh's eigenvectors' tangent map and its transpose, for (x, w, v) = eigh's:
#   kind "vecs":        t -> V (F * P), P = V^H sym(t) V, F[i, j] = 1 / (w_j - w_i) off the
#                        diagonal (projected=True: P is the operand after the point)
#   kind "vecs_embed":  c -> sym(conj(V) (F * (V^T c)) V^T)   (the library's pairing)
# The products by F are strong in the operand (0 where it is 0, at a tie too), as eigh's rule
# was. Their derivatives in x are written out (_eigh_vecs_dx) with strong products, so that a
# matrix of a stack where the operand (or dx) is 0 gets exactly 0, not V's infinite
# derivative at that matrix's tie (Omega = F * V^H dx V) times 0 in a matrix product.
# (Differentiating eigh's rule's products gave Omega^H sym(t) V with sym(t) = 0 there, and
# their transposes Omega times a zero cotangent: nan between the matrices of a stack.)


# With ``projected=True`` (kinds "diag" and "svd_diag") one more operand follows the point:
# P = V^H sym(t) V (U^H t V), which eigh's (svd's) rule computes anyway for the vectors'
# tangent; the value is then Re diag(P), no product of its own, while the transpose and the
# derivatives are those of the map of t above (P's tangent is not read: P is linear in t
# and takes no cotangent from here, so a function of the values alone never transposes the
# products that make P, whose derivatives in x go through V's infinite ones at ties).


# With ``weighted=True`` (kinds "svd_diag" and "svd_embed") one more operand h (..., k), real,
# follows the point: the map is t -> h * Re diag(U^H t V) and its transpose
# c -> U diag(h c) V^H, for a function of the singular values whose slopes h depend on x
# (cond's ratio): its second derivatives are strong in the cotangent c, a constant, where
# they would see only h c, which depends on x (a zero c, another matrix of a stack, then
# met 1 / (s_j - s_i) at a tie: nan between the matrices).


# With ``ties_by=True`` (kinds "vecs" and "vecs_embed"; session 51) one more operand follows
# the point, whose ties (not w's) are F's: svd's s for eigh's map of x x^T (w = s^2).


# With ``phase=True`` (kinds "svd_vecs" and "svd_vecs_embed", a complex x's U; session 50)
# the map's value is the same, and its derivative in x sees U turn, as svd's rule's does,
# by its phase term too: u_j by i Im((U^H dx V)_jj) / s_j (eigh's map of A = x x^H, whose
# derivatives these are, keeps u_j's phase; the rule adds that turn to U's tangent, and a
# second derivative must see it: the projector u_0 u_0^H's jacfwd(jacrev) at diag(2, 1, 1)
# was 0.5 off without it, nan before session 50).


def spectral_tangent(t, *point, kind, projected=False, weighted=False, phase=False,
                     ties_by=False):
    if ties_by:   # (kinds "vecs", "vecs_embed": the last operand gives the ties)
        return spectral_tangent_p.bind(t, *point, kind=kind, ties_by=True)
    if phase:
        if projected:
            return spectral_tangent_p.bind(t, *point, kind=kind, projected=True, phase=True)
        return spectral_tangent_p.bind(t, *point, kind=kind, phase=True)
    if projected:
        return spectral_tangent_p.bind(t, *point, kind=kind, projected=True)
    if weighted:
        return spectral_tangent_p.bind(t, *point, kind=kind, weighted=True)
    return spectral_tangent_p.bind(t, *point, kind=kind)


def _xp_h(xp, a):
    a = xp.matrix_transpose(a)
    return xp.conj(a) if xp.isdtype(a.dtype, "complex floating") else a


def _xp_real(xp, a):
    return xp.real(a) if xp.isdtype(a.dtype, "complex floating") else a


def _spectral_impl(b, t, *point, kind, projected=False, weighted=False, phase=False,
                   ties_by=False):
    xp = b.xp
    if kind in ("vecs", "vecs_embed"):
        if ties_by:
            return _eigh_vecs_impl(b, t, *point[:-1], kind=kind, by=point[-1])
        return _eigh_vecs_impl(b, t, *point, kind=kind)
    if kind in ("svd_vecs", "svd_vecs_embed"):
        return _svd_vecs_impl(b, t, *point, kind=kind)
    if projected:
        return _xp_real(xp, xp.linalg.diagonal(point[-1]))
    if weighted:
        *point, h = point
        if kind == "svd_diag":
            return h * _spectral_impl(b, t, *point, kind=kind)
        return _spectral_impl(b, t * h, *point, kind=kind)
    if kind in ("diag", "embed"):
        _, _, v = point
        left, right = v, v
    else:
        _, left, _, vh = point
        right = _xp_h(xp, vh)
    if kind in ("diag", "svd_diag"):
        if kind == "diag":
            t = (t + _xp_h(xp, t)) / 2
        lc = xp.conj(left) if xp.isdtype(left.dtype, "complex floating") else left
        return _xp_real(xp, xp.sum(lc * (t @ right), axis=-2))
    c = t[..., None, :]
    if xp.isdtype(left.dtype, "complex floating"):
        # conj(left) diag(c) right^T: the transpose of "diag" in the library's pairing of
        # complex cotangents with tangents (Re sum(ct * t), no conjugate; as matmul's)
        return (xp.conj(left) * xp.astype(c, left.dtype)) @ xp.matrix_transpose(right)
    return (left * c) @ xp.matrix_transpose(right)


def _eigh_vecs_impl(b, t, x, w, v, *p, kind, moved=None, by=None):
    xp = b.xp
    # (as _inverse_gaps: the same bits as eigh's rule's F; nan at the ties of ``by``,
    # svd's s, or of w: see _TIE_ULPS. ``plain``: NumPy, in host memory, F finite, no tie:
    # the masks below change nothing, F * 0 being 0: the plain products, one pass each
    # fewer (session 48))
    f, plain = _xp_inverse_gaps(b, w, by)
    cplx = xp.isdtype(x.dtype, "complex floating")
    if cplx:
        f = xp.astype(f, x.dtype)
    # The products by F are strong only where a zero is structural: per matrix for the
    # tangent (a matrix of a stack that it does not move), per pair of columns for the
    # cotangent (eigenvectors that the function does not read: both of the pair's columns
    # of V^T c are 0). A zero entry of a moved matrix (P_ij at a tie along a direction that
    # splits the cluster without turning the pair) or of a read column (V^T c's entry
    # between two tied vectors of which the function reads one) gives nan, as forward
    # mode's and JAX's: V's tied columns are discontinuous there (a strong 0 was wrong:
    # jacrev(V[0, 0]) at eye(2) gave 0 where V jumps along x_01).
    with np.errstate(invalid="ignore"):
        if kind == "vecs":
            if p:
                q = p[0]
            else:
                q = _xp_h(xp, v) @ (((t + _xp_h(xp, t)) * 0.5) @ v)
            if plain:
                return v @ (f * q)
            still = xp.all(q == 0, axis=(-2, -1)) if moved is None else ~moved()
            still = still[..., None, None]
            return v @ xp.where(still, 0.0, f * q)
        k = xp.matrix_transpose(v) @ t
        if plain:
            g = f * k
        else:
            unread = xp.all(k == 0, axis=-2)
            g = xp.where(unread[..., :, None] & unread[..., None, :], 0.0, f * k)
    e = ((xp.conj(v) if cplx else v) @ g) @ xp.matrix_transpose(v)
    return (e + _xp_h(xp, e)) * 0.5


def _svd_vecs_impl(b, t, x, s, u, v, *p, kind):
    xp = b.xp
    if kind == "svd_vecs":
        if p:
            q = p[0]
        else:
            dp = _xp_h(xp, u) @ (t @ v)
            q = dp * s[..., None, :] + s[..., :, None] * _xp_h(xp, dp)
        # (a rectangular x: per matrix where t moves it, not where P is 0: along a
        # direction in the complement of a tall x's range, P = 0 while x^T x moves at second
        # order, and a tied pair of V turns by a finite amount for every step (V jumps from I
        # to (1, +-1) / sqrt 2 at [[1, 0], [0, 1], [0, 0]] along E20 + E21): nan at the
        # tie, not the 0 of a matrix that t leaves; a square x's P is 0 only where t is or
        # along a rotation within a tie)
        moved = ((lambda: xp.any(t != 0, axis=(-2, -1)))
                 if x.shape[-1] != x.shape[-2] else None)
        out = _eigh_vecs_impl(b, None, x, s * s, u, q, kind="vecs", moved=moved, by=s)
        # (a zero matrix, S = 0: P = 0, the map's 0; U jumps in every direction there, nan
        # where t moves it, as _svd_tangents' _nan_if_moved for the other shapes; the
        # transpose's F * K times S = 0 is nan already)
        null = xp.all(s == 0, axis=-1)
        if b.name == "numpy" and not null.any():   # (host memory: no zero matrix)
            return out
        jump = null & xp.any(t != 0, axis=(-2, -1))
        return xp.where(jump[..., None, None], xp.nan, out)
    # (eigh's vecs_embed of A = x x^T, c -> sym(U G U^T) = C_A, transposed through
    # dA = t x^T + x t^T: 2 C_A x = U ((G + G^T) S) V^T, G with eigh's unread pairs 0;
    # complex, A = x x^H in the library's pairing (Re sum(c * t)): C_A = sym(conj(U) G U^T),
    # Hermitian, through dA = t x^H + x t^H: 2 C_A conj(x) = conj(U) ((G + G^H) S) V^T)
    f, plain = _xp_inverse_gaps(b, s * s, s)
    cplx = xp.isdtype(x.dtype, "complex floating")
    if cplx:
        f = xp.astype(f, x.dtype)
    with np.errstate(invalid="ignore"):
        k = xp.matrix_transpose(u) @ t
        if plain:   # (as _eigh_vecs_impl's)
            g = f * k
        else:
            unread = xp.all(k == 0, axis=-2)
            g = xp.where(unread[..., :, None] & unread[..., None, :], 0.0, f * k)
    if cplx:
        return xp.conj(u) @ (((g + _xp_h(xp, g)) * xp.astype(s, x.dtype)[..., None, :])
                             @ xp.matrix_transpose(v))
    return u @ (((g + xp.matrix_transpose(g)) * s[..., None, :]) @ xp.matrix_transpose(v))


def _nan_cols_if_moved(out, x, dx):
    """For the "svd_vecs" map of a rectangular x (a tall x's V, a wide one's U; session 48):
    nan in the columns where the map's value ``out`` is not finite (a tied pair that t
    turns or jumps) on the matrices that dx moves, else 0; linear in dx, strong per matrix
    (as _nan_if_moved). The derivative forms' zero tests read dA = dx x^T + x dx^T (U^T dx V)
    and the tangent's U^T t V, which are 0 along a direction in the complement of x's range
    (the longer side), where A moves at second order only: a tied vector's derivative
    there, of a first derivative that is nan, gave a silent 0 (jacfwd(jacfwd(V[:, 1])) at
    eye(4, 3) * [2, 1, 1], 54 entries of a complement and a range direction); a simple
    eigenvalue's columns are finite in ``out`` and keep their forms."""
    nb = len(dx.shape) - 2
    bad = logical_not(reduce_and_p.bind(isfinite_p.bind(out), axes=(nb,)))   # (..., n)
    bad_m = reshape(reduce_or_p.bind(bad, axes=(nb,)), tuple(out.shape[:-2]) + (1, 1))
    nans = select(bad_m, full_like(bad_m, math.nan, _aval(dx).dtype),
                  full_like(bad_m, 0.0, _aval(dx).dtype))
    moved = reduce_sum(mul_sz(_bcast(nans, dx), dx), (nb, nb + 1))
    moved = broadcast_in_dim(moved, tuple(out.shape), tuple(range(nb)))
    cols = broadcast_in_dim(bad, tuple(out.shape), tuple(range(nb)) + (nb + 1,))
    return select(cols, moved, zeros_like(moved))


def _phase_turn(x, s, u, v, dx, rows):
    """(..., rows, k), every row i Im((U^H dx V)_jj) / s_j: the turn of u_j's phase in svd's
    rule (complex x; 1 / s strong per matrix of dx, as the rule's)."""
    dtype = _aval(x).dtype
    ph = _i_times(_rows(imag(diagonal(matmul(matmul(_h(u), dx), v))), rows), dtype)
    return mul_szm(convert_element_type(_strong_reciprocal(_rows(s, rows)), dtype), ph, dx)


def _svd_vecs_dx(t, x, s, u, v, dx, embed, proj=None):
    """The derivative in x of the "svd_vecs" ("svd_vecs_embed") map at t: eigh's of
    A = x x^T (w = s^2, eigenvectors u) along dA = dx x^T + x dx^T, for the tangent
    dA(t) = t x^T + x t^T (embed: the cotangent C_A = vecs_embed(c) of A, whose transpose
    to x is 2 C_A x: its derivative 2 (dC_A x + C_A dx); the tangent's, for dA(t)'s own
    derivative t dx^T + dx t^T, eigh's map along it)."""
    # (session 46: in U's basis, without forming dA (nor its projection): with
    # dP = U^T dx V, U^T dA U = dP S + S dP^T (x^T U = V S), and for the cotangent
    # 2 dC_A x = U ((I + I^T) S) V^T, I the inner matrix of dC_A = sym(U I U^T): 5 products
    # of the tangent's size where 9 were, jit(hessian) of svd 8 x 16 x 16 ~-25 %)
    # (complex (session 50): A = x x^H, dA = dx x^H + x dx^H, U^H dA U = dP S + S dP^H with
    # dP = U^H dx V; the cotangent's transpose 2 C_A conj(x), its derivative
    # 2 (dC_A conj(x) + C_A conj(dx)), dC_A = sym(conj(U) I U^T): see _svd_vecs_impl)
    cplx = _is_complex(x)
    as_x = _as_dtype_of(x)
    a = matmul(x, _h(x))
    w = mul(s, s)
    n = s.shape[-1]
    uh = _h(u)
    s_j, s_i = as_x(_rows(s, n)), as_x(_cols(s, n))
    dp = matmul(matmul(uh, dx), v)
    px = add(mul(dp, s_j), mul(s_i, _h(dp)))
    if not embed:   # (and the map's at dA(t)'s own derivative, t dx^H + dx t^H)
        if proj is None:
            dpt = matmul(matmul(uh, t), v)
            k = add(mul(dpt, s_j), mul(s_i, _h(dpt)))
        else:   # (the rule's projected operand P = U^H dA(t) U: two products fewer)
            k = proj
        inner = _eigh_vecs_inner(k, px, w, n, cplx, as_x, False, s)
        dta = add(matmul_sz(t, _h(dx)), matmul_sz(dx, _h(t)))
        # (ties judged on s, not w = s^2 (session 51): distinct singular values below
        # ~2e-7 s_max, (1, 2e-8, 1e-8), have squares within 64 n eps of s_max^2, where
        # u_1's second derivatives were nan in all 81 entries)
        return add(matmul(u, inner), spectral_tangent(dta, a, w, u, s, kind="vecs",
                                                      ties_by=True))
    inner = _eigh_vecs_inner(matmul(matrix_transpose(u), t), px, w, n, cplx, as_x, True, s)
    ca = spectral_tangent(t, a, w, u, s, kind="vecs_embed", ties_by=True)
    # (C_A dx strong per matrix: C_A is nan on a tied matrix whose tied vector the
    # cotangent reads, which a dx on another matrix of the stack leaves; as dA(t)'s above)
    dca_x = matmul(matmul(conj(u) if cplx else u, mul(add(inner, _h(inner)), s_j)),
                   matrix_transpose(v))
    return add(dca_x, mul(matmul_sz(ca, conj(dx) if cplx else dx), 2.0))


def _spectral_aval(t, *point, kind, projected=False, weighted=False, phase=False,
                   ties_by=False):
    x = point[0]
    if kind == "svd_vecs":   # (U's shape: a wide x's V is thin)
        return ShapedArray(tuple(point[2].shape), x.dtype)
    if kind in ("diag", "svd_diag"):
        k = min(x.shape[-2], x.shape[-1])
        return ShapedArray(tuple(x.shape[:-2]) + (k,), _dt.real_dtype(x.dtype))
    return ShapedArray(tuple(x.shape), x.dtype)


def _spectral_transpose(ct, t, *point, kind, projected=False, weighted=False, phase=False,
                        ties_by=False):
    if projected:   # (P, the last operand, takes none: see spectral_tangent)
        point = point[:-1]
    if any(type(p) is Var for p in point):
        raise TypeError("spectral_tangent is linear only in its first operand")
    return [spectral_tangent(ct, *point, kind=_SPECTRAL_T[kind], weighted=weighted,
                             phase=phase, ties_by=ties_by)] + [
        None] * (len(point) + projected)


def _divided(f, diff, strong):
    """``f * diff`` (``f`` the reciprocal gaps, inf at ties): with ``strong`` (the operand is
    constant) exactly 0 where ``diff`` is, at a tie too."""
    return mul_sz(f, diff) if strong else mul(f, diff)


def _spectral_jvp(primals, tangents, kind, projected=False, weighted=False, phase=False,
                  ties_by=False):
    if weighted:
        return _weighted_spectral_jvp(primals, tangents, kind)
    t, *point = primals
    dt, dx = tangents[0], tangents[1]
    out = spectral_tangent(t, *point, kind=kind, projected=projected, phase=phase,
                           ties_by=ties_by)
    proj = None
    if projected:   # (P's tangent is not read: that of the map of t is taken below)
        point, proj = point[:-1], point[-1]
    tan = None if dt is None else spectral_tangent(dt, *point, kind=kind, phase=phase,
                                                   ties_by=ties_by)
    if dx is None:
        return out, tan
    x = point[0]
    strong = dt is None
    if kind in ("vecs", "vecs_embed"):
        by = point[-1] if ties_by else None
        term = _eigh_vecs_dx(t, x, *point[1:3], dx, kind == "vecs_embed", by)
    elif kind in ("svd_vecs", "svd_vecs_embed"):
        term = _svd_vecs_dx(t, x, *point[1:], dx, kind == "svd_vecs_embed", proj)
        if phase:   # (U's turn by its phase term: the map's value times it per column,
            # the transpose's at the cotangent times it)
            turn = _phase_turn(x, *point[1:], dx, t.shape[-2])
            term = add(term, mul_sz(out, turn) if kind == "svd_vecs" else
                       spectral_tangent(mul_sz(turn, t), *point, kind=kind, phase=True))
        if kind == "svd_vecs" and x.shape[-1] != x.shape[-2]:
            term = add(term, _nan_cols_if_moved(out, x, dx))
    elif kind == "diag":
        term = _eigh_diag_dx(t, x, *point[1:], dx, strong)
    elif kind == "embed":
        term = _eigh_embed_dx(t, x, *point[1:], dx, strong)
    elif kind == "svd_diag":
        term = _svd_diag_dx(t, x, *point[1:], dx, strong)
    else:
        term = _svd_embed_dx(t, x, *point[1:], dx, strong)
    return out, term if tan is None else add(tan, term)


def _weighted_spectral_jvp(primals, tangents, kind):
    t, *point = primals
    *point, h = point
    dt, dx, dh = tangents[0], tangents[1], tangents[-1]
    out = spectral_tangent(t, *point, h, kind=kind, weighted=True)
    terms = []
    if dt is not None:
        terms.append(spectral_tangent(dt, *point, h, kind=kind, weighted=True))
    if dh is not None:   # (linear in dh: the plain map's value times dh)
        terms.append(mul(spectral_tangent(t, *point, kind=kind), dh) if kind == "svd_diag"
                     else spectral_tangent(mul(t, dh), *point, kind=kind))
    if dx is not None:
        x = point[0]
        if kind == "svd_diag":
            terms.append(mul(h, _svd_diag_dx(t, x, *point[1:], dx, dt is None)))
        elif dt is None and dh is not None:
            # h c with c constant, h not: strong where c is 0 (see _svd_embed_dx)
            terms.append(_svd_embed_dx(mul(t, h), x, *point[1:], dx, False, weight=t))
        else:
            terms.append(_svd_embed_dx(mul(t, h), x, *point[1:], dx, dt is None))
    tan = None
    for term in terms:
        tan = term if tan is None else add(tan, term)
    return out, tan


def _eigh_embed_dx(c, x, w, v, dx, strong):
    # d(V diag(c) V^H) = V (D * P) V^H, P = V^H sym(dx) V, D_ij = (c_j - c_i) / (w_j - w_i)
    n = x.shape[-1]
    p = matmul(matmul(_h(v), _sym(dx)), v)
    d = _divided(_gaps_at(w), sub(_rows(c, n), _cols(c, n)), strong)
    d = _as_dtype_of(x)(d)
    out = matmul(matmul(v, mul_sz(d, p)), _h(v))
    return conj(out) if _is_complex(x) else out   # (embed's value is conjugated: see its impl)


def _eigh_vecs_dx(t, x, w, v, dx, embed, by=None):
    # With Omega = F * Px (Px = V^H sym(dx) V; dV = V Omega, Omega^H = -Omega) and
    # dF = -F^2 * (dw_j - dw_i), dw = Re diag(Px):
    #   "vecs":  d[V (F * P)] = V [Omega G + dF * P + F * (P Omega - Omega P)], G = F * P;
    #   "vecs_embed", K = V^T c, Oc = conj(Omega), G = F * K:
    #     d[conj(V) G V^T] = conj(V) [Oc G - G Oc + dF * K - F * (Oc K)] V^T, then sym.
    # Every product that meets F (infinite at a tie) is strong in its other factor (mul_sz,
    # matmul_sz): where t (c) or dx is 0 on a matrix of a stack, or on a row or column that
    # a product reads, its terms are 0 there, in the transpose (a zero cotangent) too.
    # Where w may tie (eager values, vmap; staged too), the columns of a simple eigenvalue
    # (vecs: of the result; vecs_embed: of K, the cotangents of those eigenvectors) take
    # _cluster_free's form, without the rotation within a tied cluster (session 45): the
    # forms above give inf - inf there, nan where dx turns a tied pair, though the simple
    # eigenvalue's vector has a second derivative (jacfwd(jacfwd) and jacfwd(jacrev) of
    # V[:, 2] at diag(1, 1, 2): 54 nan; jacrev(jacfwd): 243); the others keep them.
    n = x.shape[-1]
    cplx = _is_complex(x)
    vh = _h(v)
    px = matmul(matmul(vh, _sym(dx)), v)
    k = matmul(matrix_transpose(v), t) if embed else matmul(matmul(vh, _sym(t)), v)
    inner = _eigh_vecs_inner(k, px, w, n, cplx, _as_dtype_of(x), embed, by)
    if embed:
        return _sym(matmul(matmul(conj(v) if cplx else v, inner), matrix_transpose(v)))
    return matmul(v, inner)


def _eigh_vecs_inner(k, px, w, n, cplx, as_x, embed, by=None):
    """_eigh_vecs_dx's inner matrix from K (V^H sym(t) V; embed: V^T c) and the projected
    Px = V^H sym(dx) V (svd's map gives them from U^T t V and U^T dx V, session 46; its
    ties, ``by``, those of s)."""
    dw = real(diagonal(px)) if cplx else diagonal(px)
    may_tie = _may_tie(w, staged=True)
    f0 = _strong_inverse_gaps(w, by) if may_tie else _inverse_gaps(w)
    # dF * K = B * (dw_j - dw_i), B = -F^2 * K: 0 where K is 0 (as eigh's rule's mul_sz), nan
    # at a tie that dx moves without pulling the pair apart; 0 on a matrix that dx does not
    # move (the gate: dw_j - dw_i is 0 on every matrix that a purely off-diagonal dx moves)
    b = neg(mul_sz(as_x(mul(f0, f0)), k))
    dfk = mul_szm(b, as_x(sub(_rows(dw, n), _cols(dw, n))), px)
    f = as_x(f0)
    g = mul_sz(f, k)
    if embed and may_tie:
        return add(_embed_tie_free(f, conj(px) if cplx else px, g, k, n), dfk)
    simple = _simple_columns(_ties_of(f0), n) if may_tie else None
    omega = _gap_mul(f, px)
    if embed:
        oc = conj(omega) if cplx else omega
        return add(sub(matmul_sz(oc, g), matmul_sz(g, oc)),
                   sub(dfk, _gap_mul(f, matmul_sz(oc, k))))
    inner = add(add(matmul_sz(omega, g), dfk),
                _gap_mul(f, sub(matmul_sz(k, omega), matmul_sz(omega, k))))
    if simple is not None:
        inner = select(simple, _cluster_free(f, px, k, dw, n, simple), inner)
    return inner


def _embed_tie_free(f, q, g, k, n):
    """_eigh_vecs_dx's inner matrix for "vecs_embed" less dF * K where w may tie (session 46:
    one form for every column, where session 45 added _cluster_free's for K's simple
    columns to the rule's for its tied ones: +60 % on jit(hessian) of eigh 8 x 16 x 16).
    With Omega = F * Q (Q = conj(Px)), G = F * K, the rule's Omega G - F * (Omega K) is
    sum_k Omega_ik K_kj (F_kj - F_ij), and Omega_ik (F_kj - F_ij) = Q_ik F_kj F_ij for
    k != i, j (finite for a simple w_j; the rotation within a tied cluster cancels in
    pairs, see _cluster_free), the k = j term -F_ij Omega_ij K_jj, the k = i one 0:
        inner = F * (Q_off G - Omega * K_jj) + diag(d) - G Omega,
        d_j = (Omega G)_jj = sum_k Omega_jk G_kj.
    Column j of the first two terms and d_j read K's column j only, and G Omega reads
    Omega's row k against G's column k: F is masked to K's read columns (rows) there, so
    that the cotangent's unread vectors (K's zero columns; a whole matrix of a stack that it
    leaves) meet no infinite gap of a tied pair, forward or in a transpose (a read tied
    vector gives nan, as the rule); with F finite in a simple eigenvalue's column (row),
    every term is, and equals _cluster_free's. Two products of the tangent's size where the
    rule's form has three (and _cluster_free two more)."""
    nd = len(k.shape)
    unread = reduce_and_p.bind(eq(k, 0.0), axes=(nd - 2,))
    zero = zeros_like(f)
    f_c = select(_rows(unread, n), zero, f)   # (K's unread columns j: 0)
    f_r = select(_cols(unread, n), zero, f)   # (rows k)
    om_c, om_r = _gap_mul(f_c, q), _gap_mul(f_r, q)
    off = sub(ones_like(f), diag_embed(ones_like(diagonal(f))))   # (Q_off = Q * off)
    m = sub(matmul_sz(mul(q, off), g),
            strong_product_p.bind(om_c, _rows(diagonal(k), n), matrix=False))
    d = reduce_sum(strong_product_p.bind(matrix_transpose(om_r), g, matrix=False), (nd - 2,))
    return sub(add(_gap_mul(f_c, m), diag_embed(d)), matmul_sz(g, om_r))


def _simple_columns(ties, n):
    """(..., n, n) bool: True in the columns j whose eigenvalue ties with no other (``ties``:
    _ties_of's)."""
    return _rows(logical_not(reduce_or_p.bind(ties, axes=(len(ties.shape) - 1,))), n)


def _cluster_free(f, q, k, dw, n, simple, embed=False):
    """_eigh_vecs_dx's inner matrix in the columns j of a simple eigenvalue (``simple``),
    written without the rotation within a tied cluster (session 45). With Omega = F * Q
    (Q = Px; embed: conj(Px)), Omega_ik = Q_ik / (w_k - w_i) is infinite at a tie
    (w_i = w_k, i != k), and its terms cancel in pairs: (Omega G)_ij - F_ij (Omega K)_ij =
    sum_k Omega_ik K_kj (F_kj - F_ij), where Omega_ik (F_kj - F_ij) = Q_ik F_kj F_ij is
    finite for a simple w_j (its limit at w_i = w_k: the divided difference of the gaps,
    the cluster's eigenvalues split along Q). So, for i != j,
        (Omega G - F * (Omega K))_ij = F_ij (Q_off G)_ij - F_ij^2 Q_ij K_jj,
    and the diagonal (Omega G)_jj = -sum_k F_kj Q_jk G_kj; the other terms, F * (K Omega)
    (vecs), -G Omega (embed: G's columns those of a simple eigenvalue, Omega read in their
    rows) and dF * K, read F in column j (row k) only. F with the other columns (rows) 0 is
    finite throughout: plain products. (``k``: vecs, K whole; embed, its simple columns.)"""
    fs = select(simple, f, zeros_like(f))
    gs = mul(fs, k)
    q_off = sub(q, diag_embed(diagonal(q)))
    nd = len(k.shape)
    fs2 = mul(fs, fs)
    ddw = _as_dtype_of(k)(sub(_rows(dw, n), _cols(dw, n)))
    out = matmul(q_off, gs)
    if not embed:
        out = add(out, matmul(k, mul(fs, q)))
    out = sub(mul(fs, out), add(mul(mul(fs2, q), _rows(diagonal(k), n)),
                                mul(mul(fs2, k), ddw)))
    diag = neg(reduce_sum(mul(mul(fs, matrix_transpose(q)), gs), (nd - 2,)))
    out = add(out, diag_embed(diag))
    if embed:
        fr = select(matrix_transpose(simple), f, zeros_like(f))
        out = sub(out, matmul(gs, mul(fr, q)))
    return out


def _eigh_diag_dx(t, x, w, v, dx, strong):
    # d Re diag(V^H T V)_i = -2 Re sum_j F_ij P_ij conj(Q_ij), F_ij = 1 / (w_j - w_i),
    # P = V^H sym(dx) V, Q = V^H sym(T) V. At a tie the pair's term is the change of
    # eigenvalue i's slope along T while dx turns the cluster's basis: with T constant, 0
    # where Q is a multiple of I on the cluster (every basis of it sees the same slope: the
    # other matrices of a stack, Q = 0 there), else undefined (inf or nan)
    n = x.shape[-1]
    vh = _h(v)
    p = matmul(matmul(vh, _sym(dx)), v)
    q = matmul(matmul(vh, _sym(t)), v)
    may_tie = _may_tie(w, staged=True)
    f = _strong_inverse_gaps(w) if may_tie else _inverse_gaps(w)
    # (staged too: these masks cost jit(jacfwd(jacfwd)) of eigvalsh 6x6 x2 +2 %)
    if strong and may_tie:
        f = select(_scalar_on_clusters(_ties_of(f), q, n), zeros_like(f), f)
    qc = conj(q) if _is_complex(x) else q
    # (the product with P strong per entry, its transpose only per matrix (session 45): in
    # reverse over forward the cotangent here is the outer function's weight of each
    # eigenvalue's slope, 0 on a tied pair either because the function does not read the
    # pair (the true term 0) or by coincidence (sum((w - w(x0))^2): the limit 0 * inf is
    # finite, 1 at diag(1, 1, 2)); the same values, no rule can tell them apart: nan unless
    # the whole matrix's cotangent is 0 (another matrix of a stack), as fwd(rev)'s. Per
    # entry, rev(fwd) gave that sum's Hessian a silent 0 for 1 wherever the matrix's other
    # eigenvalues were read)
    g = reduce_sum(_gap_mul(mul(_as_dtype_of(x)(f), qc), p), (len(x.shape) - 1,))
    return mul(real(g) if _is_complex(x) else g, -2.0)


def _may_tie(w, zero=False, staged=False):
    """Whether the sorted ``w`` holds two equal (or nearly equal: within sqrt(eps) of its
    matrix's largest |w|) neighbours (``zero``: or a 0), on known values (eager transforms; True under vmap, whose batch axis may be anywhere in the
    array). Staged (jit): ``staged``, by default False, the tie masks and strong forms left
    out (the other matrices' entries there are then JAX's nan) where they cost too much
    (cond's spectral map staged cost its jit(grad) +77 %); None for the rules that then take
    their tie forms read-free and lazy (eigh's, svd's: see _point_products)."""
    v, batched = concrete_behind(w, report_batch=True)
    if v is None:
        return staged
    if batched or not isinstance(v, (np.ndarray, np.generic)):
        return True
    if zero and (v == 0).any():
        return True
    if v.shape[-1] < 2:
        return False
    # (session 46: near a tie too, neighbours within sqrt(eps) of the largest |w| of their
    # matrix: there the plain rules' second derivatives cancel terms of size 1 / gap (eigh's
    # simple vector beside eigenvalues 1e-15 apart: jacfwd(jacfwd) 0.03 off), where the tie
    # forms, exact at every input (jit takes them throughout), write the cancellation out)
    with np.errstate(invalid="ignore"):
        gap = np.abs(v[..., 1:] - v[..., :-1])
        # (never tighter than inverse_gaps_p's ties: session 50)
        eps = float(np.finfo(v.dtype).eps)
        rtol = max(math.sqrt(eps), _TIE_ULPS * v.shape[-1] * eps)
        near = rtol * np.max(np.abs(v), axis=-1, keepdims=True)
        return bool((gap <= near).any())


def _scalar_on_clusters(ties, q, n):
    """(..., n, n) bool: True at (i, j), i != j, where w_i, w_j tie (``ties``: _ties_of's)
    and ``q`` is a multiple of the identity on that cluster of equal eigenvalues."""
    tie, eye, seen = _ties_seen(ties, q, n)
    return _scalar_clusters(tie, eye, seen, n)


def _ties_seen(ties, q, n):
    """(tie, eye, seen): w_i, w_j tied (``ties``, _ties_of's); the identity; the pairs that
    another basis of a cluster would see, q_jk != 0 (j != k) or q_jj != q_kk."""
    eye = eq(diag_embed(ones_like(real(diagonal(q)) if _is_complex(q) else diagonal(q))), 1.0)
    tie = logical_or(ties, eye)
    qd = real(diagonal(q)) if _is_complex(q) else diagonal(q)
    seen = logical_or(logical_and(ne(q, 0.0), logical_not(eye)),
                      ne(_cols(qd, n), _rows(qd, n)))
    return tie, eye, seen


def _scalar_clusters(tie, eye, seen, n):
    """The off-diagonal tied pairs whose whole cluster no other basis sees differently."""
    nd = len(tie.shape) - 1
    row_bad = reduce_or_p.bind(logical_and(tie, seen), axes=(nd,))
    cluster_bad = reduce_or_p.bind(logical_and(tie, _rows(row_bad, n)), axes=(nd,))
    return logical_and(logical_and(tie, logical_not(eye)), logical_not(_cols(cluster_bad, n)))


def _inverse_sums(s):
    """F[i, j] = 1 / (s_j + s_i) off the diagonal, 0 on it."""
    k = s.shape[-1]
    eye = eq(diag_embed(ones_like(s)), 1.0)
    sums = add(_rows(s, k), _cols(s, k))
    return select(eye, zeros_like(sums), div(1.0, sums))


def _svd_diag_dx(t, x, u, s, vh, dx, strong):
    # d Re diag(U^H T V) = Re diag(dU^H T V + U^H T dV) with svd's dU, dV: with dP = U^H dx V
    # and Q = U^H T V, H = Q + Q^H, A = Q - Q^H, K = dP + dP^H, N = dP - dP^H,
    # d_i = 1/2 sum_j Re[conj(H_ij) K_ij / (s_i - s_j) + conj(A_ij) N_ij / (s_i + s_j)],
    # plus the rectangular parts and complex phases, each divided by s_i. At a tie s_i = s_j
    # the pair's term is the change of singular value i's slope along T while dx turns the
    # pair's bases: with T constant, 0 where H is a multiple of I on the cluster (on a
    # cluster of zeros: where Q is 0 there), else undefined (inf or nan)
    m, n = x.shape[-2], x.shape[-1]
    k = min(m, n)
    cplx = _is_complex(x)
    as_x = _as_dtype_of(x)
    v, uh = _h(vh), _h(u)
    xv, tv = matmul(dx, v), matmul(t, v)
    dp, q = matmul(uh, xv), matmul(uh, tv)
    h, a = add(q, _h(q)), sub(q, _h(q))
    f = _gaps_at(s)
    gm, gp = neg(f), _inverse_sums(s)
    if strong and _may_tie(s):
        ok = _svd_scalar_on_clusters(s, _ties_of(f), q, h, k)
        gm = select(ok, zeros_like(gm), gm)
        gp = select(logical_and(ok, _cols(eq(s, 0.0), k)), zeros_like(gp), gp)
    if cplx:
        h, a = conj(h), conj(a)
    # (strong: T constant, and 0 on a matrix of a stack that the map's operand leaves, whose
    # term is then 0, not an infinite gap times 0 where the masks above are left out
    # (staged): jit's fwd(fwd) and rev(fwd) of svdvals had 36 and 162 nan between the
    # matrices of a stack with a tied matrix)
    ph = (lambda f_, q_: strong_product_p.bind(f_, q_, matrix=False)) if strong else mul
    # (_gap_mul: its transpose strong per matrix only, as _eigh_diag_dx's)
    g = add(_gap_mul(ph(as_x(gm), h), add(dp, _h(dp))),
            _gap_mul(ph(as_x(gp), a), sub(dp, _h(dp))))
    g = reduce_sum(g, (len(x.shape) - 1,))
    d = mul(real(g) if cplx else g, 0.5)
    if not cplx and m == n:
        return d
    nd = len(x.shape)
    inv_s = div(1.0, s)
    if strong:
        # (1 / s into T's factor, strong per matrix (0 on a matrix that T leaves), its
        # product with dx's strong per entry forward and per matrix in the transpose
        # (session 46; as _eigh_diag_dx's tie term): in reverse over forward the
        # cotangent is the outer function's weight of each singular value's slope, 0 at a
        # zero singular value either because the function does not read it (the true term
        # 0) or by coincidence (sum(s^2): the weight 2 s_k, the limit 2 s_k / s_k finite).
        # mul_sz(1 / s, sum) was per entry in its transpose: jacrev(jacfwd) of
        # sum(svdvals(x)^2) at [[2, 0], [0, 0], [0, 0]] gave a silent 0 for 2 (x_11,
        # x_11); now nan, as fwd(rev)'s)
        def scaled(y, rows):   # (y / s: the columns of a tall part, rows of a wide one)
            r = _rows(inv_s, y.shape[-2]) if rows else _cols(inv_s, y.shape[-1])
            return strong_product_p.bind(_as_dtype_of(y)(r), y, matrix=False)
        prod = _gap_mul
    else:
        scaled, prod = (lambda y, rows: y), mul
    num = None
    if cplx:
        iq = reshape(imag(diagonal(q)), tuple(s.shape[:-1]) + (1, k))
        part = prod(scaled(iq, True), reshape(imag(diagonal(dp)), tuple(iq.shape)))
        num = reshape(part, tuple(s.shape))
    if m > k:   # Re sum_l conj(Z_li) Y_li, Y = (I - U U^H) T V, Z = (I - U U^H) dx V
        y, z = sub(tv, matmul(u, q)), sub(xv, matmul(u, dp))
        part = reduce_sum(prod(scaled(y, True), conj(z) if cplx else z), (nd - 2,))
        part = real(part) if cplx else part
        num = part if num is None else add(num, part)
    if n > k:   # Re sum_l Y_il conj(Z_il), Y = U^H T (I - V V^H), Z = U^H dx (I - V V^H)
        y, z = sub(matmul(uh, t), matmul(q, vh)), sub(matmul(uh, dx), matmul(dp, vh))
        part = reduce_sum(prod(scaled(y, False), conj(z) if cplx else z), (nd - 1,))
        part = real(part) if cplx else part
        num = part if num is None else add(num, part)
    return add(d, num if strong else mul(num, inv_s))


def _svd_scalar_on_clusters(s, ties, q, h, k):
    """(..., k, k) bool: True at (i, j), i != j, where s_i = s_j and every basis of that
    cluster of equal singular values sees the same slopes: H a multiple of I on it (Q zero
    there for a cluster of zeros, whose two bases turn apart)."""
    tie, eye, seen = _ties_seen(ties, h, k)
    qz = logical_or(logical_or(ne(q, 0.0), ne(_h(q), 0.0)),
                    logical_or(_cols(ne(diagonal(q), 0.0), k), _rows(ne(diagonal(q), 0.0), k)))
    seen = logical_or(seen, logical_and(_cols(eq(s, 0.0), k), qz))
    return _scalar_clusters(tie, eye, seen, k)


def _svd_embed_dx(c, x, u, s, vh, dx, strong, weight=None):
    # d(U diag(c) V^H) with svd's dU, dV: in the singular bases, with dP = U^H dx V,
    # entry (i, j) F_ij [dP_ij (s_j c_j - s_i c_i) + conj(dP_ji) (s_i c_j - s_j c_i)],
    # F_ij = 1 / (s_j^2 - s_i^2), i.e. A dP + B dP^H with A, B = (Dm +- Dp) / 2, the divided
    # differences Dm = (c_j - c_i) / (s_j - s_i) and Dp = (c_j + c_i) / (s_j + s_i) (at
    # s_i = s_j > 0 with c_i = c_j, A = c / 2s, not 0: the cluster's polar factor turns);
    # plus the rectangular parts and complex phases, each with c / s
    m, n = x.shape[-2], x.shape[-1]
    k = min(m, n)
    cplx = _is_complex(x)
    as_x = _as_dtype_of(x)
    xv = matmul(dx, _h(vh))
    dp = matmul(_h(u), xv)
    cj, ci = _rows(c, k), _cols(c, k)
    dm = _divided(_gaps_at(s), sub(cj, ci), strong)
    dps = _divided(_inverse_sums(s), add(cj, ci), strong)
    if weight is not None:
        # (c = h weight with the weight constant, h not: a pair's divided differences
        # are exactly 0 where the weight is 0 at both ends, whatever h's gap quotient)
        nz = ne(weight, 0.0)
        keep = convert_element_type(logical_or(_rows(nz, k), _cols(nz, k)), _aval(s).dtype)
        dm, dps = mul_sz(dm, keep), mul_sz(dps, keep)
    a, b_ = mul(add(dm, dps), 0.5), mul(sub(dm, dps), 0.5)
    inner = add(mul_sz(as_x(a), dp), mul_sz(as_x(b_), _h(dp)))
    if cplx or m != n:
        inv_s = div(1.0, s)
        r = mul_sz(inv_s, c) if strong else mul(c, inv_s)
        if weight is not None:
            r = mul_sz(r, convert_element_type(nz, _aval(s).dtype))
        if cplx:
            inner = add(inner, diag_embed(_i_times(mul(imag(diagonal(dp)), r),
                                                   _aval(x).dtype)))
    out = matmul(matmul(u, inner), vh)
    if m > k:
        out = add(out, matmul(mul(sub(xv, matmul(u, dp)), as_x(_rows(r, m))), vh))
    if n > k:
        out = add(out, matmul(mul(u, as_x(_rows(r, m))),
                              sub(matmul(_h(u), dx), matmul(dp, vh))))
    return conj(out) if cplx else out   # (embed's value is conjugated: see its impl)


spectral_tangent_p = primitive("spectral_tangent")
spectral_tangent_p.def_impl(_spectral_impl)
spectral_tangent_p.def_abstract_eval(_spectral_aval)
spectral_tangent_p.def_jvp(_spectral_jvp)
spectral_tangent_p.def_transpose(_spectral_transpose)
spectral_tangent_p.def_batch(leading_rule(spectral_tangent_p))


def _pinv_jvp(primals, tangents, rtol):
    # For constant rank: dP = -P dx P + P P^H dx^H (I - x P) + (I - P x) dx^H P^H P.
    # (a cut-off operand only decides the rank: no derivative)
    x = primals[0]
    p = pinv_p.bind(*primals, rtol=rtol)
    t = tangents[0]
    if t is None:
        return p, None
    th, ph = _h(t), _h(p)
    pph = matmul(p, ph)
    php = matmul(ph, p)
    a = neg(matmul(matmul(p, t), p))
    b_ = sub(matmul(pph, th), matmul(matmul(pph, th), matmul(x, p)))
    c = sub(matmul(th, php), matmul(matmul(p, x), matmul(th, php)))
    return p, add(add(a, b_), c)


def _pinv_aval(x, *cut, rtol):
    if cut and tuple(cut[0].shape) != tuple(x.shape[:-2]):
        raise ShapeError(f"pinv primitive: the cut-off operand must have the batch shape "
                         f"{tuple(x.shape[:-2])} of x {tuple(x.shape)}; got {cut[0].shape}")
    return ShapedArray(tuple(x.shape[:-2]) + (x.shape[-1], x.shape[-2]), x.dtype)


# pinv(x[, cut], rtol): the pseudo-inverse of each matrix of the stack x, singular values at
# most rtol (a number, static; None: the standard's default) times the largest dropped, or,
# given the operand ``cut`` (x's batch shape, real), cut times the largest for each matrix
# (a relative cut-off that may be traced: jit, vmap).
pinv_p = primitive("pinv")
pinv_p.def_impl(lambda b, x, *cut, rtol: b.xp.linalg.pinv(x, rtol=cut[0] if cut else rtol))
pinv_p.def_abstract_eval(_pinv_aval)
pinv_p.def_jvp(_pinv_jvp)


def solve(a, b):
    return solve_p.bind(a, b)


def _solve_batch(args, dims):
    a, rhs = args
    if dims[0] is None and len(a.shape) == 2:
        # One matrix for the whole batch: a single solve with the batch folded into the
        # columns of the right-hand side (B, M, K) -> (M, B*K).
        size, m, k = rhs.shape
        cols = reshape(transpose(rhs, (1, 0, 2)), (m, size * k))
        return transpose(reshape(solve(a, cols), (m, size, k)), (1, 0, 2)), 0
    return solve(*all_batched(args, dims)), 0


solve_p.def_batch(_solve_batch)

# The other primitives act on the trailing axes (stacks of matrices): the batch axis is one
# more leading axis.
for _p in (diagonal_p, diag_embed_p, inv_p, det_p, adjugate_p,
           slogdet_p, cholesky_p, eigh_p, slogdet_inv_p, eigvalsh_p, eig_p, eigvals_p,
           triangular_solve_p, qr_p, svd_p, svdvals_p, pinv_p):
    _p.def_batch(leading_rule(_p))


# Bound methods rather than wrappers: one Python frame less per operation.
inv = inv_p.bind
det = det_p.bind
adjugate = adjugate_p.bind
slogdet = slogdet_p.bind
cholesky = cholesky_p.bind
eigvalsh = eigvalsh_p.bind
eigvals = eigvals_p.bind
svdvals = svdvals_p.bind


def pinv(x, rtol=None):
    return pinv_p.bind(x, rtol=rtol)


from .. import dtypes as _dt  # noqa: E402
from ..core import get_aval  # noqa: E402
from .elementwise import (conj, div, eq, gt, imag, isfinite_p, logical_and,  # noqa: E402
                          logical_not, logical_or, mul, mul_sz, ne, neg,
                          real, select, sub)
from .reductions import reduce_and_p, reduce_or_p, reduce_sum  # noqa: E402
from .structural import (broadcast_in_dim, concat, convert_element_type,  # noqa: E402
                         full_like, ones_like, scatter_slice, slice_, stop_gradient_p, tri,
                         zeros_like)


# -- linalg14: Sylvester equations, the matrix square root, the Schur decomposition -----------
# (for functrans.scipy.linalg's solve_sylvester and the Lyapunov solvers, sqrtm, schur, funm)


def _each_matrix(arrays, nout, fn, out_dtypes):
    """NumPy: ``fn`` applied to the matrices of equal-batch stacks ``arrays`` one at a time,
    its ``nout`` results stacked into arrays of ``out_dtypes`` (the batch shape is that of
    ``arrays[0]``'s leading axes)."""
    import numpy as np
    batch = tuple(arrays[0].shape[:-2])
    outs = None
    for idx in np.ndindex(batch):
        res = fn(*[x[idx] for x in arrays])
        res = res if isinstance(res, tuple) else (res,)
        if outs is None:
            outs = [np.empty(batch + np.shape(r), dtype=d) for r, d in zip(res, out_dtypes)]
        for o, r in zip(outs, res):
            o[idx] = r
    return outs


def _scipy_linalg(b, what):
    if b.name != "numpy":
        raise UnsupportedBackendError(
            f"{what}: the {b.name!r} backend has no {what} (neither the Array API standard nor "
            f"{b.name} provides it); functrans.scipy.linalg.{what} runs on NumPy arrays "
            f"(through SciPy)")
    import scipy.linalg
    return scipy.linalg


def _sylvester_aval(a, b, q):
    if (len(a.shape) < 2 or len(b.shape) != len(a.shape) or len(q.shape) != len(a.shape)
            or a.shape[-1] != a.shape[-2] or b.shape[-1] != b.shape[-2]
            or tuple(q.shape[-2:]) != (a.shape[-1], b.shape[-1])
            or not (tuple(a.shape[:-2]) == tuple(b.shape[:-2]) == tuple(q.shape[:-2]))):
        raise ShapeError(f"sylvester primitive needs (..., M, M), (..., N, N) and (..., M, N) "
                         f"with equal batch dimensions; got {a.shape}, {b.shape}, {q.shape}")
    if not (a.dtype is b.dtype is q.dtype):
        raise TypeError(f"sylvester primitive needs operands of one dtype; got {a.dtype}, "
                        f"{b.dtype}, {q.dtype}")
    return ShapedArray(tuple(q.shape), q.dtype)


def _sylvester_kron(b, a, bm, q):
    """A X + X B = Q as one linear system in the entries of X (row by row): (A (x) I_N +
    I_M (x) B^T) vec(X) = vec(Q), through the standard's solver: O((MN)^3) work."""
    xp = b.xp
    m, n = q.shape[-2], q.shape[-1]
    batch = tuple(q.shape[:-2])
    dev = b.device(q)
    eye_m = xp.reshape(xp.eye(m, dtype=q.dtype, device=dev), (m, 1, m, 1))
    eye_n = xp.reshape(xp.eye(n, dtype=q.dtype, device=dev), (1, n, 1, n))
    left = xp.reshape(a, batch + (m, 1, m, 1)) * eye_n          # [i, k, j, l] = A_ij d_kl
    right = eye_m * xp.reshape(xp.matrix_transpose(bm), batch + (1, n, 1, n))  # d_ij B_lk
    k = xp.reshape(left + right, batch + (m * n, m * n))
    x = xp.linalg.solve(k, xp.reshape(q, batch + (m * n, 1)))
    return xp.reshape(x, tuple(q.shape))


def _sylvester_impl(b, a, bm, q):
    if 0 in tuple(q.shape):
        return b.xp.zeros(tuple(q.shape), dtype=q.dtype, device=b.device(q))
    if b.name == "numpy":
        import scipy.linalg
        return _each_matrix((a, bm, q), 1, scipy.linalg.solve_sylvester, (q.dtype,))[0]
    return _sylvester_kron(b, a, bm, q)


def _sylvester_jvp(primals, tangents):
    # A dX + dX B = dQ - dA X - X dB
    a, bm, q = primals
    ta, tb, tq = tangents
    x = sylvester(a, bm, q)
    rhs = tq
    if ta is not None:
        term = matmul(ta, x)
        rhs = neg(term) if rhs is None else sub(rhs, term)
    if tb is not None:
        term = matmul(x, tb)
        rhs = neg(term) if rhs is None else sub(rhs, term)
    return x, (None if rhs is None else sylvester(a, bm, rhs))


def _sylvester_transpose(ct, a, bm, q):
    # <C, X(Q)> = <Y, Q> for A^T Y + Y B^T = C
    if type(a) is Var or type(bm) is Var:
        raise TypeError("sylvester is linear only in its right-hand side")
    return [None, None, sylvester(matrix_transpose(a), matrix_transpose(bm), ct)]


# sylvester(a, b, q) = the X with a X + X b = q, for stacks (..., M, M), (..., N, N),
# (..., M, N) of equal batch shape and one dtype (unique where a and -b share no eigenvalue).
# NumPy: SciPy's Bartels-Stewart solver, matrix by matrix; other libraries: one dense solve
# of the (MN x MN) Kronecker system through the standard.
sylvester_p = primitive("sylvester")
sylvester_p.def_impl(_sylvester_impl)
sylvester_p.def_abstract_eval(_sylvester_aval)
sylvester_p.def_jvp(_sylvester_jvp)
sylvester_p.def_transpose(_sylvester_transpose)
sylvester_p.def_batch(leading_rule(sylvester_p))


def sylvester(a, bm, q):
    return sylvester_p.bind(a, bm, q)


_SQRTM_MAX_STEPS = 100


def _host_max(b, x):
    import numpy as np
    return float(np.max(b.to_numpy(b.xp.max(x)))) if math.prod(x.shape) else 0.0


def _sqrtm_denman_beavers(b, a):
    """The principal square root by the Denman-Beavers iteration Y <- (Y + Z^-1) / 2,
    Z <- (Z + Y^-1) / 2 from Y = A, Z = I (Y -> A^1/2, Z -> A^-1/2), with determinant scaling
    while far from convergence; every matrix of the stack iterates together."""
    xp = b.xp
    n = a.shape[-1]
    real_dt = xp.real(a[..., :1, :1]).dtype if xp.isdtype(a.dtype, "complex floating") \
        else a.dtype
    eps = float(xp.finfo(real_dt).eps)
    y = a
    z = xp.broadcast_to(xp.eye(n, dtype=a.dtype, device=b.device(a)), tuple(a.shape))
    scale, last = True, math.inf
    for _ in range(_SQRTM_MAX_STEPS):
        if scale:
            mu = xp.exp((xp.linalg.slogdet(y)[1] + xp.linalg.slogdet(z)[1]) / (-2.0 * n))
            mu = xp.astype(mu[..., None, None], a.dtype)
            y, z = y * mu, z * mu
        y_next = (y + xp.linalg.inv(z)) * 0.5
        z = (z + xp.linalg.inv(y)) * 0.5
        size = xp.linalg.matrix_norm(y_next)
        change = xp.linalg.matrix_norm(y_next - y) / xp.where(size > 0, size, xp.ones_like(size))
        y = y_next
        c = _host_max(b, change)
        if c != c:
            break
        scale = c > 1e-2
        if c <= 10 * n * eps or (c < 1e-6 and c >= last):
            return y
        last = c
    raise ValueError(
        "sqrtm: the square root iteration did not converge: the matrix has an eigenvalue on "
        "the closed negative real axis (its principal square root is then not real: pass a "
        "complex matrix) or is singular or not finite")


def _sqrtm_impl(b, a):
    if 0 in tuple(a.shape):
        return b.xp.asarray(a, copy=True)
    if b.name != "numpy":
        return _sqrtm_denman_beavers(b, a)
    import numpy as np
    import scipy.linalg
    out = _each_matrix((a,), 1, scipy.linalg.sqrtm, (np.complex128,))[0]
    if a.dtype.kind != "c":
        # (relative to each matrix's own size: an absolute floor would let the imaginary
        # root of a tiny matrix, diag(-1e-30, 4e-30), pass as real and be dropped)
        imag_part = np.abs(out.imag).max(axis=(-2, -1))
        if np.any(imag_part > 1e3 * np.finfo(a.dtype).eps * np.abs(out).max(axis=(-2, -1))):
            raise ValueError(
                "sqrtm: the matrix has an eigenvalue on the negative real axis: its principal "
                "square root is complex, which a real input cannot give here (its dtype "
                "cannot depend on the values); pass a complex matrix")
        out = out.real
    return np.ascontiguousarray(out.astype(a.dtype))


def _sqrtm_jvp(primals, tangents):
    # S S = A: S dS + dS S = dA, a Sylvester equation (itself differentiable)
    s = sqrtm(primals[0])
    t = tangents[0]
    # A singular a (S with a zero eigenvalue: S dS + dS S = dA has no solution for most dA,
    # sqrt's infinite slope at 0): no derivative, nan. It was the Sylvester solver's
    # perturbed solution, finite and huge (~1e290 at a = 0). The nan only in directions
    # that move that matrix (the identity solved in its place): 0 for the other matrices of
    # a stack, whose tangents met 0 * nan.
    sign = stop_gradient_p.bind(slogdet(s)[0])
    if _is_complex(s):
        sign = real(mul(sign, conj(sign)))
    sing = reshape(eq(sign, 0.0), tuple(sign.shape) + (1, 1))
    if not _maybe_any(sing):
        return s, sylvester(s, s, t)
    safe = select(_to_shape(sing, s), diag_embed(ones_like(diagonal(s))), s)
    ds = sylvester(safe, safe, t)
    ds = select(_to_shape(sing, ds), zeros_like(ds), ds)
    return s, add(ds, _nan_if_moved(sing, primals[0], t, ds))


# sqrtm(a): the principal square root of each square matrix of a stack (eigenvalues off the
# closed negative real axis; a real input must have a real one). NumPy: SciPy's (Schur
# method); other libraries: the Denman-Beavers iteration through the standard's inv.
sqrtm_p = primitive("sqrtm")
sqrtm_p.same_aval = True
sqrtm_p.def_impl(_sqrtm_impl)
sqrtm_p.def_abstract_eval(lambda x: x)
sqrtm_p.def_jvp(_sqrtm_jvp)
sqrtm_p.def_batch(leading_rule(sqrtm_p))
sqrtm = sqrtm_p.bind


def _schur_aval(a, output, sort):
    dt = _complex_of(a.dtype) if output == "complex" else a.dtype
    batch = tuple(a.shape[:-2])
    return [ShapedArray(tuple(a.shape), dt), ShapedArray(tuple(a.shape), dt),
            ShapedArray(batch, _dt.int64)]


def _schur_impl(b, a, output, sort):
    import numpy as np
    sl = _scipy_linalg(b, "schur")
    cdt = a.dtype if output == "real" or a.dtype.kind == "c" else \
        (np.complex64 if a.dtype == np.float32 else np.complex128)
    if a.shape[-1] == 0 or 0 in tuple(a.shape[:-2]):
        return [np.zeros(a.shape, cdt), np.zeros(a.shape, cdt),
                np.zeros(a.shape[:-2], np.int64)]

    def one(m):
        r = sl.schur(m, output=output, sort=sort, check_finite=False)
        return (r[0], r[1], r[2] if sort is not None else 0)
    t, z, sdim = _each_matrix((a,), 3, one, (cdt, cdt, np.int64))
    return [t, z, sdim]


def _schur_jvp(primals, tangents, output, sort):
    raise NotImplementedError(
        "schur has no derivative in functrans: the Schur vectors are not unique (each may "
        "turn by a phase or a sign, and a real 2x2 block by a rotation), so the factors' "
        "derivatives would depend on LAPACK's choices; differentiate a function of the matrix "
        "that does not go through schur (for example expm, sqrtm, solve_sylvester)")


# schur(a, output, sort) = [T, Z, sdim]: a = Z T Z^H with Z unitary and T upper (quasi-)
# triangular; sdim the number of eigenvalues sort selected (0 when sort is None). NumPy only
# (SciPy's LAPACK gees); no derivative.
schur_p = primitive("schur", multiple_results=True)
schur_p.def_impl(_schur_impl)
schur_p.def_abstract_eval(_schur_aval)
schur_p.def_jvp(_schur_jvp)
schur_p.def_batch(leading_rule(schur_p))


def schur(a, output="real", sort=None):
    return schur_p.bind(a, output=output, sort=sort)


from ..errors import UnsupportedBackendError  # noqa: E402


# -- no half precision ---------------------------------------------------------------------------
# LAPACK (and so NumPy, SciPy, torch on the CPU, JAX) has no float16 or bfloat16
# factorizations: these are refused with advice, rather than computed in another precision
# behind the user's back or failing inside the library with its own message.


def _is_half(d):
    return d is _dt.float16 or d is _dt.bfloat16


def _refuse_half(name, d):
    raise TypeError(
        f"{name}: no {d.name} version (linear algebra factorizations have none, as in NumPy "
        f"and JAX). Cast the operands to float32 first (astype(x, float32)), and the result "
        f"back to {d.name} if you want it in {d.name}.")


def _full_precision_only(p):
    impl, aval = p.impl, p.abstract_eval

    def checked_impl(b, *args, **params):
        for a in args:
            d = getattr(a, "dtype", None)
            if d is not None and _is_half(_dt._by_id.get(id(d))):
                _refuse_half(p.name, _dt._by_id[id(d)])
        return impl(b, *args, **params)

    def checked_aval(*avals, **params):
        for a in avals:
            if _is_half(getattr(a, "dtype", None)):
                _refuse_half(p.name, a.dtype)
        return aval(*avals, **params)

    p.def_impl(checked_impl)
    p.def_abstract_eval(checked_aval)


for _p in (solve_p, triangular_solve_p, inv_p, det_p, adjugate_p, adjugate_derivative_p,
           slogdet_p, cholesky_p, eigh_p, slogdet_inv_p, eigvalsh_p, eig_p, eigvals_p, qr_p,
           svd_p, svdvals_p, pinv_p, sylvester_p, sqrtm_p, schur_p):
    _full_precision_only(_p)


# -- the row permutation that LAPACK's pivots make (integers: no derivative) ----------------------


def _pivots_to_permutation_impl(b, pivots, permutation_size):
    # One swap per pivot on the raw arrays: m small operations of the library, where the
    # same loop through functrans.numpy cost a transform-ready call each (lu_solve ran it on
    # every call).
    xp = b.xp
    if b.dtype(pivots).kind not in "iu":
        raise TypeError(f"lu_pivots_to_permutation needs integer pivots; got "
                        f"{b.dtype(pivots)}")
    piv = xp.astype(pivots, xp.int64)  # (torch's take_along_axis wants int64 indices)
    if piv.shape[-1] and bool(xp.any((piv < 0) | (piv >= permutation_size))):
        raise ValueError(f"lu_pivots_to_permutation: pivots must lie in [0, "
                         f"{permutation_size}); got values outside")
    rows = xp.arange(permutation_size, dtype=xp.int64, device=b.device(pivots))
    perm = xp.broadcast_to(rows, tuple(piv.shape[:-1]) + (permutation_size,))
    for k in range(piv.shape[-1]):
        pk = piv[..., k:k + 1]
        at_p = xp.take_along_axis(perm, pk, axis=-1)
        perm = xp.where(rows == k, at_p, xp.where(rows == pk, perm[..., k:k + 1], perm))
    return xp.astype(perm, b.native_dtype("int32"))


def _pivots_to_permutation_aval(pivots, permutation_size):
    if pivots.dtype.kind not in "iu":
        raise TypeError(f"lu_pivots_to_permutation needs integer pivots; got {pivots.dtype}")
    if len(pivots.shape) < 1 or permutation_size < pivots.shape[-1]:
        raise ShapeError(f"lu_pivots_to_permutation needs pivots (..., k) with k <= "
                         f"permutation_size {permutation_size}; got shape {pivots.shape}")
    return ShapedArray(tuple(pivots.shape[:-1]) + (permutation_size,), _dt.int32)


lu_pivots_to_permutation_p = primitive("lu_pivots_to_permutation")
lu_pivots_to_permutation_p.def_impl(_pivots_to_permutation_impl)
lu_pivots_to_permutation_p.def_abstract_eval(_pivots_to_permutation_aval)
lu_pivots_to_permutation_p.def_jvp(lambda primals, tangents, permutation_size: (
    lu_pivots_to_permutation_p.bind(primals[0], permutation_size=permutation_size), None))
lu_pivots_to_permutation_p.def_batch(leading_rule(lu_pivots_to_permutation_p))


def lu_pivots_to_permutation(pivots, permutation_size):
    return lu_pivots_to_permutation_p.bind(pivots, permutation_size=permutation_size)


# -- the scaling of expm (functrans.scipy.linalg.expm) -----------------------------------------

# The [13/13] Pade approximant of exp is accurate to double precision for A / 2^s with
# eta(A / 2^s) <= 4.25 (Al-Mohy and Higham, "A new scaling and squaring algorithm for the
# matrix exponential", 2009), eta = min(max(d6, d8), max(d8, d10)), d_k = ||A^k||_1^(1/k).
_EXPM_THETA13 = 4.25
# log2 of 1 / |c_27| = (26! 27!) / (13!)^2, c_27 the leading coefficient of its backward error
_EXPM_LOG2_C27_RECIP = math.log2(math.factorial(26) * math.factorial(27)
                                 / math.factorial(13) ** 2)
# Single precision (session 38): the [7/7] approximant, accurate to float32's unit roundoff
# 2^-24 for eta(A / 2^s) <= 3.925 (the largest theta with sum_{k >= 15} |c_k| theta^(k-1)
# <= 2^-24, c_k the coefficients of its backward error log(e^-x r_7(x)), by mpmath: 3.92572;
# Higham 2005 gives 3.9257 too). The [13/13] one at float64's 4.25 kept the rounding errors
# of the longer sums and of the cancellation in v + u at A / 2^s ~ -4: float32
# expm([[-19.747396]]) 4e-6 relative off, now 5.6e-7.
_EXPM_THETA7_SINGLE = 3.925
_EXPM_LOG2_C15_RECIP = math.log2(math.factorial(14) * math.factorial(15)
                                 / math.factorial(7) ** 2)


def _expm_squarings_impl(b, a):
    """The number of squarings s (a float of a's real dtype) of each matrix of the stack a,
    shape a.shape[:-2]. The 1-norm of A overstates what the approximant needs for a
    non-normal A, where each needless squaring doubles the rounding error (a nilpotent
    [[0, x], [0, 0]] has eta = 0, where log2(||A||_1 / 5.37) squarings left 3 % of the result
    wrong for x = 1e15, 0.7 % for float32 [[0, 1e6], [0, -1]]). s is raised until the first
    term of the backward error, |c_27| || |2^-s A|^27 ||_1 / ||2^-s A||_1 (single precision,
    the [7/7] approximant: |c_15| and A^15), is below the unit roundoff, and so far that ||2^-s A||_1 <= 2^(max exponent - 64) (the approximant's terms
    reach 6.5e16 ~ 2^56 times A). The powers are of b = 2^-s0 A, s0 the 1-norm's count
    (||b||_1 <= 4.25: no overflow), scaled in logarithms. Non-finite matrices get 0 (their
    nan/inf propagates)."""
    _expm_squarings_aval(a)
    xp = b.xp
    absa = xp.abs(a)
    rdt = absa.dtype
    wide = rdt == xp.float64
    unit = 2.0 ** -53 if wide else 2.0 ** -24
    top = 1024.0 if wide else 128.0
    # the approximant's degree m: 13 in double, 7 in single precision (expm's)
    theta = _EXPM_THETA13 if wide else _EXPM_THETA7_SINGLE
    m = 13 if wide else 7
    zero = xp.zeros(tuple(a.shape[:-2]), dtype=rdt, device=b.device(a))

    def norm1(m):   # (m real and non-negative)
        return xp.max(xp.sum(m, axis=-2), axis=-1)

    def log2_pos(x, ok):   # log2 where ok, else 0
        return xp.where(ok, xp.log2(xp.where(ok, x, zero + 1.0)), zero)
    norm = norm1(absa)
    finite = xp.isfinite(norm)
    big = (norm > theta) & finite
    if b.name == "numpy" and not bool(xp.any(big)):
        # (||A||_1 <= theta gives s = 0: eta <= ||A||_1, and the backward error's first term
        # is at most |c_27| 4.25^26 = 2e-19 (|c_15| 3.925^14 = 4.6e-8 < 2^-24 in single
        # precision); read where a read costs no device sync)
        return zero
    s0 = xp.where(big, xp.ceil(log2_pos(norm / theta, big)), zero)
    scale = xp.astype(xp.pow(zero + 2.0, -s0), a.dtype)
    # (non-finite matrices as zeros: no inf - inf warnings in their powers)
    bm = xp.where(finite[..., None, None], a, xp.zeros_like(a)) * scale[..., None, None]
    b2 = bm @ bm
    b4 = b2 @ b2
    if wide:
        b6 = b4 @ b2
        d6, d8, d10 = (norm1(xp.abs(p)) ** (1.0 / k) for p, k in ((b6, 6), (b4 @ b4, 8),
                                                                   (b4 @ b6, 10)))
        eta = xp.minimum(xp.maximum(d6, d8), xp.maximum(d8, d10))
    else:
        # the backward error of [7/7] starts at A^15: ||A^k||^(1/k) <= max(d_p, d_p+1) for
        # k >= p (p - 1), p = 3 and 4
        d3, d4, d5 = (norm1(xp.abs(p)) ** (1.0 / k) for p, k in ((b2 @ bm, 3), (b4, 4),
                                                                 (b4 @ bm, 5)))
        eta = xp.minimum(xp.maximum(d3, d4), xp.maximum(d4, d5))
    pos = eta > 0
    s = xp.where(pos, xp.maximum(s0 + xp.ceil(log2_pos(eta / theta, pos)), zero), zero)
    # || |b|^(2m+1) ||_1 as the largest column sum: 1^T |b|^(2m+1) through squarings of |b|
    p1 = xp.abs(bm)
    p2 = p1 @ p1
    p4 = p2 @ p2
    p8 = p4 @ p4
    if wide:   # 27 = 16 + 8 + 2 + 1
        row = xp.sum(p8 @ p8, axis=-2, keepdims=True)
        rest = (p8, p2, p1)
    else:      # 15 = 8 + 4 + 2 + 1
        row = xp.sum(p8, axis=-2, keepdims=True)
        rest = (p4, p2, p1)
    for p in rest:
        row = row @ p
    n_top, n1 = xp.max(row[..., 0, :], axis=-1), norm1(p1)
    some = (n_top > 0) & (n1 > 0)
    # log2(|c_2m+1| || |A_s|^(2m+1) ||_1 / ||A_s||_1 / u) for A_s = 2^(s0 - s) b
    excess = (log2_pos(n_top, some) - log2_pos(n1, some) + 2.0 * m * (s0 - s)
              - (_EXPM_LOG2_C27_RECIP if wide else _EXPM_LOG2_C15_RECIP) - math.log2(unit))
    extra = xp.where(some & xp.isfinite(excess), xp.maximum(xp.ceil(excess / (2.0 * m)), zero),
                     zero)
    s = xp.maximum(s + extra, s0 + xp.ceil(xp.log2(xp.maximum(n1, zero + 1.0))) - (top - 64.0))
    return xp.where(finite, s, zero)


def _expm_squarings_aval(a):
    if len(a.shape) < 2 or a.shape[-1] != a.shape[-2]:
        raise ShapeError(f"expm_squarings needs a (stack of) square matrices; got {a.shape}")
    return ShapedArray(tuple(a.shape[:-2]), _dt.real_dtype(a.dtype))


# expm_squarings(a): the number of squarings expm uses for each square matrix of the stack a
# (a whole number, as a's real dtype; no derivative: piecewise constant).
expm_squarings_p = primitive("expm_squarings")
expm_squarings_p.def_impl(_expm_squarings_impl)
expm_squarings_p.def_abstract_eval(_expm_squarings_aval)
expm_squarings_p.def_jvp(lambda primals, tangents: (expm_squarings_p.bind(*primals), None))
expm_squarings_p.def_batch(leading_rule(expm_squarings_p))
expm_squarings = expm_squarings_p.bind


def _expm_nonfinite_fix_impl(b, a, result):
    """``result`` (expm's approximant of the stack a, staged) where a's matrix is finite, and
    for a matrix with an inf or nan entry the eager expm's value (the diagonal matrix's limit
    and the -inf rows' and columns' one; nan otherwise). One host read of a: at evaluation a
    is concrete, where the staged checks cost 13 operations for every matrix."""
    xp = b.xp
    if b.name == "numpy":
        # (a finite sum has no inf or nan summand: one reduction (the ufunc's, not the
        # method's wrapper), a Python float's test; a sum that overflows goes on to the full
        # test)
        if a.dtype.kind == "f" and math.isfinite(np.add.reduce(a, None)) or \
                np.isfinite(a).all():
            return result
    elif bool(b.to_numpy(xp.all(xp.isfinite(a)))):
        return result
    from ..scipy.linalg import expm   # (eager here: a is a concrete array)
    bad = xp.logical_not(xp.all(xp.isfinite(a), axis=(-2, -1), keepdims=True))
    return xp.where(bad, xp.astype(expm(a), result.dtype), result)


def _expm_nonfinite_fix_aval(a, result):
    return ShapedArray(tuple(result.shape), result.dtype)


# expm_nonfinite_fix(a, result): expm's staged result with the non-finite matrices of a given
# their eager values. The derivative is result's tangent (nan at those matrices, from the
# approximant; eagerly the diagonal ones get the Frechet derivative).
expm_nonfinite_fix_p = primitive("expm_nonfinite_fix")
expm_nonfinite_fix_p.def_impl(_expm_nonfinite_fix_impl)
expm_nonfinite_fix_p.def_abstract_eval(_expm_nonfinite_fix_aval)
expm_nonfinite_fix_p.def_jvp(
    lambda primals, tangents: (expm_nonfinite_fix_p.bind(*primals), tangents[1]))
expm_nonfinite_fix_p.def_batch(leading_rule(expm_nonfinite_fix_p))
expm_nonfinite_fix = expm_nonfinite_fix_p.bind
