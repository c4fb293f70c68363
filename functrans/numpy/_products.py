"""NumPy's products beyond the standard: ``einsum``, ``dot``, ``inner``, ``outer``, ``vdot``,
``kron``, ``matvec``, ``vecmat``, ``cross``, ``trace``, ``diagonal``, ``diag`` and
``diagflat``, with NumPy's semantics, built on the namespace's differentiable functions.

Contractions go through the ``matmul`` primitive (operands moved and reshaped into batched
matrices), so they are differentiable to any order, batch under ``vmap`` and stage under
``jit``. Boolean operands are contracted as integers and compared with 0 at the end (NumPy's
logical sum of products). Dtypes follow the namespace's promotion; one difference from NumPy
there: an integer array with a floating array gives the floating dtype (int32 with float32 is
float32, NumPy gives float64).
"""

from __future__ import annotations

import math
import warnings

from .. import dtypes as _dt
from ..errors import ShapeError
from ..primitives import elementwise as _ew
from ..primitives import linalg as _la
from ..primitives import structural as _st
from ._base import (_NOT_ARRAY_OR_NP_SCALAR, _SCALARS, _as_operand, _dtype, _normalize_axis,
                    _numpy_scalars_moved,
                    _promote_arrays, _shape, broadcast_shapes, multiply, reshape)
from ._elementwise import conj
from .linalg import tensordot as _std_tensordot
from ._statistics import _init_like
from ._statistics import sum as _sum

__all__ = ["einsum", "einsum_path", "dot", "inner", "outer", "vdot", "kron", "matvec", "vecmat",
           "cross", "trace", "diagonal", "diag", "diagflat", "tensordot"]


# -- jax.numpy's precision= and preferred_element_type= ---------------------------------------

_PRECISIONS = {"default", "high", "highest", "fastest", "bfloat16", "bfloat16_3x",
               "tensorfloat32", "float32"}


def _check_one_precision(name, p):
    if p is None or (isinstance(p, str) and p.lower() in _PRECISIONS) or (
            getattr(p, "name", None) in ("DEFAULT", "HIGH", "HIGHEST")):
        return
    raise ValueError(f"{name}: precision must be None, a lax.Precision, one of "
                     f"{sorted(_PRECISIONS)} or a pair of them; got {p!r}")


def _jax_options(name, arrays, precision, preferred_element_type):
    """``jax.numpy``'s keywords of the products: ``precision`` is checked and has no effect
    (every backend computes at the operands' own precision). ``preferred_element_type`` is
    the result's dtype: where the operands' common dtype converts to it without loss
    (int8 to int32, float16 to float32, integers to floats) they are cast to it first, so
    the product is computed in it (int8 products summed in int32 do not wrap); otherwise
    (float to int, complex to real, a narrower dtype) casting the operands would change
    the product (1.5 * 1.5 truncated to 1), so it is computed in their own dtype and the
    result converted (:func:`_to_preferred`), as JAX's. Returns the operands and the dtype
    the caller converts its result to (None: nothing to convert)."""
    if isinstance(precision, (tuple, list)) and len(precision) == 2:
        for p in precision:
            _check_one_precision(name, p)
    else:
        _check_one_precision(name, precision)
    if preferred_element_type is None:
        return arrays, None
    d = _dt.as_dtype(preferred_element_type)
    arrays = _uint64_ints([_as_operand(a) if isinstance(a, (list, tuple)) else a
                           for a in arrays])
    dts = [_SCALAR_DTYPE[type(a)] if type(a) in _SCALARS else _dtype(a) for a in arrays]
    common = _dt.result_type(*dts) if dts else d
    if common is d or _safe_cast(common, d) or (common.kind in "biu" and d.kind in "fc"):
        return _cast(arrays, d), None
    return arrays, d


def _to_preferred(x, d):
    """A product computed in its operands' dtype converted to ``preferred_element_type``
    ``d`` (a complex one to a real ``d``: its real part, as JAX's conversion)."""
    if _dtype(x) is d:
        return x
    if _dtype(x).kind == "c" and d.kind != "c":
        x = _ew.real(x)
    return _st.convert_element_type(x, d)


# -- helpers -------------------------------------------------------------------------------------


def _no_out(name, out):
    if out is not None:
        raise NotImplementedError(f"{name}: out= is not supported (functrans arrays are "
                                  f"immutable values); use the returned array")


def _sum_keep_dtype(x, axes):
    """Sum over ``axes`` in ``x``'s own dtype (NumPy's products do not widen integers)."""
    if not axes:
        return x
    return _sum(x, axis=tuple(axes), dtype=_dtype(x))


def _products_summed(a, b, axes):
    """``a * b`` summed over ``axes`` in the operands' (equal) dtype: the contractions that
    are not a matrix product (vdot, einsum's with no free index). Half-precision products
    and their sum in float32, rounded once, as the matrix products and JAX's dot (XLA's CPU
    dot of float16/bfloat16 accumulates in float32): each product rounded to 8 or 11 bits
    first put 40 % of float16 (and bfloat16) dot products of 256 normals an ulp or more off."""
    d = _dtype(a)
    if d is _dt.float16 or d is _dt.bfloat16:  # (identity: DType's == is a Python call)
        return _st.convert_element_type(_sum_keep_dtype(_ew.mul(
            _st.convert_element_type(a, _dt.float32), _st.convert_element_type(b, _dt.float32)),
            axes), d)
    if not axes:
        return _ew.mul(a, b)
    return _sum(_ew.mul(a, b), axis=tuple(axes), dtype=d)


_SCALAR_DTYPE = {bool: _dt.bool_, int: _dt.int64, float: _dt.float64, complex: _dt.complex128}


def _uint64_ints(arrays):
    """``arrays`` with each Python ``int`` beside a ``uint64`` operand made a 0-d ``uint64``
    array on that operand's backend. A Python number otherwise counts as an array of its
    default dtype (:func:`_operands`), but ``int64`` and ``uint64`` have no common dtype in
    functrans (``uint64`` with a signed integer array is a TypeError), so a non-negative
    int takes the unsigned operand's dtype, as it does in ``multiply`` and in ``jax.numpy``
    (NumPy's products give float64 there, rounding values beyond 2**53); a negative one, or
    one of 2**64 or more, is an OverflowError, as for ``multiply``."""
    ref = None
    for a in arrays:
        if type(a) not in _SCALARS and not isinstance(a, (list, tuple)) \
                and _dtype(a) is _dt.uint64:
            ref = a
            break
    if ref is None:
        return arrays
    out = []
    for a in arrays:
        if type(a) is int:
            if not 0 <= a < 2 ** 64:
                raise OverflowError(f"Python integer {a} out of bounds for uint64 (the dtype "
                                    f"of the other operand); cast that operand first")
            a = _init_like(ref, (), a)
        out.append(a)
    return out


def _operands(arrays):
    """The operands as arrays of one dtype on one backend, and whether that dtype is boolean
    (then they are int64 here and the callers compare with 0 at the end: NumPy's logical
    sums of products). As NumPy's products do, a Python number counts as an array of its
    default dtype (a float is float64, also beside float32 arrays; an int beside a uint64
    operand is uint64: :func:`_uint64_ints`) and becomes a 0-d array beside the first
    array; nested lists and tuples are NumPy's array-likes."""
    if len(arrays) == 2:  # two arrays of one dtype: the common case, first
        a, b = arrays
        if type(a) not in _NOT_ARRAY_OR_NP_SCALAR and type(b) not in _NOT_ARRAY_OR_NP_SCALAR:
            da = _dtype(a)
            if da is _dtype(b) and da.kind != "b":
                return arrays, False
    arrays = [_as_operand(a) if isinstance(a, (list, tuple)) else a
              for a in _numpy_scalars_moved(arrays)]
    if int in map(type, arrays):
        arrays = _uint64_ints(arrays)
    if all(type(a) in _SCALARS for a in arrays):
        arrays = [_as_operand(arrays[0])] + list(arrays[1:])
    dts = [_SCALAR_DTYPE[type(a)] if type(a) in _SCALARS else _dtype(a) for a in arrays]
    target = _dt.result_type(*dts)
    was_bool = target.kind == "b"
    if was_bool:
        target = _dt.int64
    arrays = [a if type(a) in _SCALARS or _dtype(a) is target
              else _st.convert_element_type(a, target) for a in arrays]
    ref = next(a for a in arrays if type(a) not in _SCALARS)
    return [_init_like(ref, (), a) if type(a) in _SCALARS else a for a in arrays], was_bool


def _finish(x, was_bool):
    return _ew.ne(x, 0) if was_bool else x


def _move_to_end(x, axes):
    """``x`` with ``axes`` (in that order) moved to the end, the rest kept in order."""
    nd = len(_shape(x))
    perm = tuple(i for i in range(nd) if i not in axes) + tuple(axes)
    return x if perm == tuple(range(nd)) else _st.transpose(x, perm)


def _tensordot(a, b, axa, axb):
    """Contract axes ``axa`` of ``a`` with ``axb`` of ``b``; the free axes of ``a`` then
    those of ``b`` remain, in order."""
    return _la.tensordot(a, b, tuple(axa), tuple(axb))


# -- einsum --------------------------------------------------------------------------------------

_CASTINGS = ("no", "equiv", "safe", "same_kind", "unsafe")
_KIND_ORDER = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


def _safe_cast(f, t):
    """NumPy's 'safe' casting between functrans dtypes."""
    if f is t or f.kind == "b":
        return True
    if t.kind == "b":
        return False
    if f.kind in "iu" and t.kind in "iu":
        if f.kind == t.kind:
            return t.bits >= f.bits
        return f.kind == "u" and t.kind == "i" and t.bits > f.bits
    if f.kind in "iu":
        rb = _dt.real_dtype(t).bits
        return rb == 64 or f.bits <= 16
    if f.kind == "f":
        return t.kind in "fc" and _dt.real_dtype(t).bits >= f.bits
    return t.kind == "c" and t.bits >= f.bits


def _check_cast(f, t, casting):
    ok = {"unsafe": True, "no": f is t, "equiv": f is t, "safe": _safe_cast(f, t),
          "same_kind": _safe_cast(f, t) or _KIND_ORDER[t.kind] >= _KIND_ORDER[f.kind]}
    if not ok[casting]:
        raise TypeError(f"einsum: cannot cast operands from {f.name} to {t.name} according "
                        f"to the rule {casting!r}")


def _sublist_subscripts(args):
    """einsum's second form, ``einsum(op0, sublist0, op1, sublist1, ..., [sublistout])``, as
    a subscripts string (label ``i`` is ``'A' + i`` for ``i < 26``, else ``'a' + i - 26``,
    which keeps the integers' order for the implicit output)."""
    ops = list(args[0::2])
    subs = list(args[1::2])
    out = None
    if len(args) % 2:
        out = ops.pop()

    def letters(sub):
        s = []
        for v in sub:
            if v is Ellipsis:
                s.append("...")
            elif isinstance(v, int) and 0 <= v < 52:
                s.append(chr(ord("A") + v) if v < 26 else chr(ord("a") + v - 26))
            else:
                raise ValueError(f"einsum: subscript list entries must be integers in "
                                 f"[0, 52) or Ellipsis; got {v!r}")
        return "".join(s)
    text = ",".join(letters(s) for s in subs)
    if out is not None:
        text += "->" + letters(out)
    return text, ops


def _parse_term(term, ndim, what):
    """The labels of one term: letters, with the ellipsis as the marker ``None``."""
    labels = []
    i = 0
    while i < len(term):
        c = term[i]
        if c == ".":
            if term[i:i + 3] != "..." or None in labels:
                raise ValueError(f"einsum: {what} {term!r} has an invalid '.' (only one "
                                 f"'...' is allowed)")
            labels.append(None)
            i += 3
            continue
        if not (c.isascii() and c.isalpha()):
            raise ValueError(f"einsum: {what} {term!r} has the invalid character {c!r} "
                             f"(subscripts are letters a-z, A-Z and '...')")
        labels.append(c)
        i += 1
    if ndim is not None:
        n_letters = len(labels) - (None in labels)
        if n_letters > ndim or (None not in labels and n_letters != ndim):
            raise ValueError(f"einsum: {what} {term!r} has {n_letters} subscripts but its "
                             f"operand has {ndim} dimensions")
    return labels


def _parse_einsum(subscripts, shapes):
    """Labels per operand (ellipsis axes as the integers 0..E-1, right-aligned), the output
    labels and the size of every label (broadcast over the operands)."""
    s = subscripts.replace(" ", "")
    if s.count("->") > 1 or ("->" not in s and (">" in s or "-" in s)):
        raise ValueError(f"einsum: subscripts {subscripts!r} have an invalid '->'")
    lhs, arrow, rhs = s.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise ValueError(f"einsum: the subscripts {subscripts!r} name {len(terms)} operands "
                         f"but {len(shapes)} were given")
    parsed = [_parse_term(t, len(sh), f"operand {i}'s subscripts")
              for i, (t, sh) in enumerate(zip(terms, shapes))]
    n_ell = max([len(sh) - (len(p) - 1) for p, sh in zip(parsed, shapes) if None in p],
                default=0)
    labels = []
    sizes = {}
    for i, (p, sh) in enumerate(zip(parsed, shapes)):
        lab = []
        for lbl in p:
            if lbl is None:
                k = len(sh) - (len(p) - 1)
                lab.extend(range(n_ell - k, n_ell))
            else:
                lab.append(lbl)
        own = {}
        for lbl, d in zip(lab, sh):
            if lbl in own and own[lbl] != d:
                raise ValueError(f"einsum: operand {i} repeats subscript {lbl!r} on axes "
                                 f"of different lengths ({own[lbl]} and {d})")
            own[lbl] = d
            prev = sizes.get(lbl, 1)
            if prev != 1 and d != 1 and prev != d:
                what = "an ellipsis axis" if isinstance(lbl, int) else f"subscript {lbl!r}"
                raise ValueError(f"einsum: operands could not be broadcast together: "
                                 f"{what} has lengths {prev} and {d}")
            sizes[lbl] = d if prev == 1 else prev
        labels.append(lab)
    ell_labels = list(range(n_ell))
    if arrow:
        out_terms = _parse_term(rhs, None, "the output")
        out = []
        for lbl in out_terms:
            if lbl is None:
                out.extend(ell_labels)
            elif lbl not in sizes:
                raise ValueError(f"einsum: output subscript {lbl!r} does not appear in the "
                                 f"operands' subscripts")
            elif lbl in out:
                raise ValueError(f"einsum: output subscript {lbl!r} appears more than once")
            else:
                out.append(lbl)
        if n_ell and None not in out_terms:
            raise ValueError("einsum: the operands have ellipsis ('...') axes but the output "
                             "subscripts have no '...' to put them")
    else:
        counts = {}
        for lab in labels:
            for lbl in lab:
                counts[lbl] = counts.get(lbl, 0) + 1
        out = ell_labels + sorted(lbl for lbl, c in counts.items()
                                  if c == 1 and isinstance(lbl, str))
    return labels, out, sizes


def _einsum_prepare(x, labels, sizes, others):
    """One operand reduced alone: its repeated labels to diagonals, its length-1 axes of
    labels that broadcast squeezed out, and its labels no one else needs summed."""
    while True:
        rep = next((lbl for i, lbl in enumerate(labels) if lbl in labels[i + 1:]), None)
        if rep is None:
            break
        p = labels.index(rep)
        q = labels.index(rep, p + 1)
        x = _la.diagonal(_move_to_end(x, (p, q)), 0)
        labels = [lbl for i, lbl in enumerate(labels) if i not in (p, q)] + [rep]
    shape = _shape(x)
    if any(d == 1 and sizes[lbl] != 1 for lbl, d in zip(labels, shape)):
        keep = [i for i, (lbl, d) in enumerate(zip(labels, shape)) if d != 1 or sizes[lbl] == 1]
        x = _st.reshape(x, tuple(shape[i] for i in keep))
        labels = [labels[i] for i in keep]
    alone = [i for i, lbl in enumerate(labels) if lbl not in others]
    if alone:
        x = _sum_keep_dtype(x, alone)
        labels = [lbl for i, lbl in enumerate(labels) if i not in alone]
    return x, labels


def _einsum_pair(a, la, b, lb, keep, sizes):
    """The contraction of two prepared operands, keeping the labels in ``keep``."""
    batch = [lbl for lbl in la if lbl in lb and lbl in keep]
    summed = [lbl for lbl in la if lbl in lb and lbl not in keep]
    fa = [lbl for lbl in la if lbl not in lb]
    fb = [lbl for lbl in lb if lbl not in la]
    out_labels = batch + fa + fb
    sz = [sizes[lbl] for lbl in out_labels]
    nb, na = len(batch), len(fa)
    if not summed:
        # No sum: a broadcast product, laid out as batch + fa + fb.
        a = _move_to_end(a, tuple(la.index(lbl) for lbl in batch + fa))
        b = _move_to_end(b, tuple(lb.index(lbl) for lbl in batch + fb))
        a = _st.broadcast_in_dim(a, tuple(sz), tuple(range(nb + na)))
        b = _st.broadcast_in_dim(b, tuple(sz), tuple(range(nb)) + tuple(range(nb + na, len(sz))))
        return _ew.mul(a, b), out_labels
    if not fa and not fb:
        # Only batch and summed labels: elementwise products summed (no 1x1 matrices).
        order = batch + summed
        a = _move_to_end(a, tuple(la.index(lbl) for lbl in order))
        b = _move_to_end(b, tuple(lb.index(lbl) for lbl in order))
        return _products_summed(a, b, range(nb, len(order))), out_labels
    if not batch:
        return _tensordot(a, b, tuple(la.index(lbl) for lbl in summed),
                          tuple(lb.index(lbl) for lbl in summed)), out_labels
    m = math.prod(sizes[lbl] for lbl in fa)
    n = math.prod(sizes[lbl] for lbl in fb)
    k = math.prod(sizes[lbl] for lbl in summed)
    bsz = math.prod(sizes[lbl] for lbl in batch)
    a = _move_to_end(a, tuple(la.index(lbl) for lbl in batch + fa + summed))
    b = _move_to_end(b, tuple(lb.index(lbl) for lbl in batch + summed + fb))
    out = _la.matmul(_st.reshape(a, (bsz, m, k)), _st.reshape(b, (bsz, k, n)))
    return _st.reshape(out, tuple(sz)), out_labels


def _pair_size(la, lb, keep, sizes):
    return math.prod(sizes[lbl] for lbl in set(la) | set(lb) if lbl in keep)


def einsum_path(subscripts, *operands, optimize="greedy", einsum_call=False):
    """NumPy's ``einsum_path``: the contraction order NumPy's optimizer picks and its
    report, ``(path, string)``, computed from the operands' shapes alone (tracers too), so
    a path found once can be given to :func:`einsum` as ``optimize=path`` (which accepts
    it). ``einsum_call`` (NumPy's internal form) is not supported."""
    import numpy as _np
    if einsum_call:
        raise NotImplementedError("einsum_path: einsum_call=True is NumPy's internal form; "
                                  "not supported")
    if not isinstance(subscripts, str):
        subscripts, operands = _sublist_subscripts((subscripts,) + operands)
    stand_ins = [_np.broadcast_to(_np.zeros((), dtype=_np.float64), _shape(_as_operand(o)))
                 for o in operands]
    if isinstance(optimize, str) and optimize.lower() in _STRATEGIES:
        # (opt_einsum's names, which NumPy does not know: its greedy search)
        optimize = "optimal" if optimize.lower() == "optimal" else "greedy"
    elif _is_jax_path(optimize):
        optimize = ["einsum_path", *optimize]
    return _np.einsum_path(subscripts, *stand_ins, optimize=optimize)


def einsum(subscripts, *operands, out=None, dtype=None, order="K", casting="safe",
           optimize=False, precision=None, preferred_element_type=None):
    """Einstein summation: the sum of products of the operands' elements over the
    subscripts that the output does not name.

    ``subscripts`` is NumPy's string (``"ij,jk->ik"``; implicit output: the subscripts that
    appear once, ``...`` axes first, then in alphabetical order, upper case first; ``...``
    broadcasts; a subscript repeated in one operand takes its diagonal), or the interleaved
    form ``einsum(op0, sublist0, op1, sublist1, ..., [sublistout])``. The operands are
    contracted pairwise, each pair as one (batched) matrix product: left to right with
    ``optimize=False``, else greedily (the pair with the smallest result first; ``True``,
    ``'greedy'``, ``'optimal'`` and the rest of opt_einsum's strategies that jax.numpy
    takes: ``'auto'``, ``'auto-hq'``, ``'eager'``, ``'dp'``, ``'branch-all'``, ``'branch-2'``,
    ``'branch-1'``, ``'random-greedy'``...); ``optimize`` may also be an explicit path,
    NumPy's ``['einsum_path', ...]`` or jax.numpy's list of index tuples, which is followed
    (a step of three or more positions contracts them in turn).
    ``dtype`` with ``casting`` casts the operands first; ``order`` (memory layout) is
    ignored; ``out`` is not supported. ``jax.numpy``'s ``precision`` (accepted, no effect)
    and ``preferred_element_type`` (the result's dtype, computed in it where that loses
    nothing) are accepted.
    """
    _no_out("einsum", out)
    if not isinstance(subscripts, str):
        subscripts, operands = _sublist_subscripts((subscripts,) + operands)
    operands, convert_to = _jax_options("einsum", operands, precision, preferred_element_type)
    if convert_to is not None:
        return _to_preferred(einsum(subscripts, *operands, dtype=dtype, order=order,
                                    casting=casting, optimize=optimize), convert_to)
    if not operands:
        raise ValueError("einsum: at least one operand is needed")
    if order not in ("K", "C", "F", "A"):
        raise ValueError(f"einsum: order must be one of 'K', 'C', 'F', 'A'; got {order!r}")
    if casting not in _CASTINGS:
        raise ValueError(f"einsum: casting must be one of {_CASTINGS}; got {casting!r}")
    greedy, path = _check_optimize(optimize)
    operands = tuple(_as_operand(o) if isinstance(o, (list, tuple)) else o for o in operands)
    shapes = [() if type(o) in _SCALARS else _shape(o) for o in operands]
    labels, out_labels, sizes = _parse_einsum(subscripts, shapes)
    if dtype is not None:
        dtype = _dt.as_dtype(dtype)
        for o in operands:
            if type(o) not in _SCALARS:
                _check_cast(_dtype(o), dtype, casting)
        operands = _cast(operands, dtype)
    arrs, was_bool = _operands(operands)
    ops = [[x, list(lab)] for x, lab in zip(arrs, labels)]

    def needed(skip):
        s = set(out_labels)
        for j, (_, lab) in enumerate(ops):
            if j not in skip:
                s.update(lab)
        return s
    for i in range(len(ops)):
        ops[i] = list(_einsum_prepare(ops[i][0], ops[i][1], sizes, needed({i})))

    def contract(i, j):
        """ops[i] and ops[j] replaced by their product, at the end of ops."""
        nonlocal ops
        keep = needed({i, j})
        (a, la), (b, lb) = ops[i], ops[j]
        # labels only one of the two has and no one else needs (after a diagonal or a
        # squeeze elsewhere) are summed first
        a, la = _einsum_prepare(a, la, sizes, keep | set(lb))
        b, lb = _einsum_prepare(b, lb, sizes, keep | set(la))
        res = list(_einsum_pair(a, la, b, lb, keep, sizes))
        ops = [op for k, op in enumerate(ops) if k not in (i, j)] + [res]

    if path is not None:
        # an explicit path, followed: each step takes the operands at its positions (among
        # those left, each step's result appended last, as opt_einsum counts them)
        for step in path:
            _check_path_step(step, len(ops), path)
            rest = [op for k, op in enumerate(ops) if k not in step]
            ops = rest + [ops[k] for k in step]
            for _ in range(len(step) - 1):
                contract(len(rest), len(rest) + 1)
        if len(ops) != 1:
            raise ValueError(f"einsum: the path {list(path)} leaves {len(ops)} operands; it "
                             f"must contract them all into one")
    while len(ops) > 1:
        if greedy and len(ops) > 2:
            cands = [(_pair_size(ops[i][1], ops[j][1], needed({i, j}), sizes), i, j)
                     for i in range(len(ops)) for j in range(i + 1, len(ops))]
            _, i, j = min(cands)
        else:
            i, j = 0, 1
        contract(i, j)
    x, lab = ops[0]
    x, lab = _einsum_prepare(x, lab, sizes, set(out_labels))
    perm = tuple(lab.index(lbl) for lbl in out_labels)
    if perm != tuple(range(len(perm))):
        x = _st.transpose(x, perm)
    return _finish(x, was_bool)


# NumPy's strategies and opt_einsum's, which jax.numpy takes (any case): each contracts
# greedily here, a choice of order that changes the rounding only
_STRATEGIES = ("greedy", "optimal", "auto", "auto-hq", "eager", "opportunistic", "dp",
               "dynamic-programming", "branch-all", "branch-2", "branch-1", "random-greedy",
               "random-greedy-128")


def _is_jax_path(optimize):
    """A contraction path as ``jax.numpy.einsum_path`` gives it: a list of index tuples,
    without NumPy's leading ``'einsum_path'``."""
    return isinstance(optimize, (list, tuple)) and bool(optimize) and all(
        isinstance(t, tuple) and all(type(i) is int for i in t) for t in optimize)


def _check_optimize(optimize):
    """``(greedy, path)``: whether to contract greedily, and the explicit path (index
    tuples) to follow instead, or None."""
    if isinstance(optimize, bool):
        return optimize, None
    if isinstance(optimize, str) and optimize.lower() in _STRATEGIES:
        return True, None
    if isinstance(optimize, (list, tuple)) and optimize and optimize[0] == "einsum_path":
        return True, tuple(optimize[1:])
    if _is_jax_path(optimize):
        return True, tuple(optimize)
    raise ValueError(f"einsum: optimize must be a bool, one of {_STRATEGIES} (opt_einsum's "
                     f"strategies, in any case), an ['einsum_path', ...] list (NumPy's "
                     f"einsum_path) or a list of index tuples (jax.numpy's); got {optimize!r}")


def _check_path_step(step, n, path):
    import operator
    ok = isinstance(step, (tuple, list)) and len(step) > 0
    try:
        idx = [operator.index(i) for i in step] if ok else []
    except TypeError:
        ok = False
    if not ok or len(set(idx)) != len(idx) or any(not 0 <= i < n for i in idx):
        raise ValueError(f"einsum: the path step {step!r} of {list(path)} must be a tuple of "
                         f"distinct positions among the {n} operands left at that step")


# -- dot products --------------------------------------------------------------------------------


def dot(a, b, out=None, *, precision=None, preferred_element_type=None):
    """NumPy's dot product: a product with a 0-d operand; the inner product of two vectors;
    otherwise the sum over the last axis of ``a`` and the second-to-last of ``b`` (the last
    if ``b`` is 1-d), with the free axes of ``a`` then those of ``b``. Complex operands are
    not conjugated. ``out`` is not supported. ``jax.numpy``'s ``precision`` (accepted, no
    effect) and ``preferred_element_type`` (the result's dtype,
    computed in it where that loses nothing) are accepted."""
    _no_out("dot", out)
    if precision is not None or preferred_element_type is not None:
        (a, b), convert_to = _jax_options("dot", [a, b], precision,
                                          preferred_element_type)
        if convert_to is not None:
            return _to_preferred(dot(a, b), convert_to)
    (a, b), was_bool = _operands([a, b])
    sa, sb = _shape(a), _shape(b)
    if not sa or not sb:
        return _finish(multiply(a, b), was_bool)
    if sa[-1] != sb[max(len(sb) - 2, 0)]:
        raise ShapeError(f"dot: shapes {sa} and {sb} are not aligned: {sa[-1]} (last axis of "
                         f"a) != {sb[max(len(sb) - 2, 0)]}")
    if len(sa) == 2 and len(sb) == 2:
        return _finish(_la.matmul(a, b), was_bool)
    return _finish(_tensordot(a, b, (len(sa) - 1,), (max(len(sb) - 2, 0),)), was_bool)


def tensordot(a, b, axes=2, *, precision=None, preferred_element_type=None):
    """NumPy's tensordot: the sum of products over the last ``axes`` axes of ``a`` and the
    first ``axes`` of ``b``, or over the axes listed in the pair ``axes`` (``axes`` may be
    positional, as in NumPy: ``tensordot(a, b, 0)`` is the outer product); the standard's
    ``tensordot(x1, x2, axes=...)`` is the same function. ``jax.numpy``'s ``precision``
    (accepted, no effect) and ``preferred_element_type`` (the result's dtype, computed in it
    where that loses nothing) are accepted."""
    if precision is not None or preferred_element_type is not None:
        (a, b), convert_to = _jax_options("tensordot", [a, b], precision,
                                          preferred_element_type)
        if convert_to is not None:
            return _to_preferred(tensordot(a, b, axes), convert_to)
    if type(a) is int or type(b) is int:  # (as the other products: see _uint64_ints)
        a, b = _uint64_ints([a, b])
    if type(axes) is not int and isinstance(axes, (list, tuple)) and len(axes) == 2:
        axes = tuple(tuple(x) if isinstance(x, (list, tuple)) else (x,) for x in axes)
    return _std_tensordot(a, b, axes=axes)


def inner(a, b, *, precision=None, preferred_element_type=None):
    """NumPy's inner product: the sum of products over the last axes of ``a`` and ``b``
    (result shape ``a.shape[:-1] + b.shape[:-1]``); a product with a 0-d operand. Complex
    operands are not conjugated. ``jax.numpy``'s ``precision`` (accepted, no effect) and
    ``preferred_element_type`` (the result's dtype, computed in it where that loses
    nothing) are accepted."""
    if precision is not None or preferred_element_type is not None:
        (a, b), convert_to = _jax_options("inner", [a, b], precision,
                                          preferred_element_type)
        if convert_to is not None:
            return _to_preferred(inner(a, b), convert_to)
    (a, b), was_bool = _operands([a, b])
    sa, sb = _shape(a), _shape(b)
    if not sa or not sb:
        return _finish(multiply(a, b), was_bool)
    if sa[-1] != sb[-1]:
        raise ShapeError(f"inner: the last axes of shapes {sa} and {sb} differ")
    return _finish(_tensordot(a, b, (len(sa) - 1,), (len(sb) - 1,)), was_bool)


def outer(a, b, out=None):
    """NumPy's outer product: ``a`` and ``b`` flattened, ``result[i, j] = a[i] * b[j]``
    (``functrans.numpy.linalg.outer`` is the standard's, for 1-d operands only). ``out`` is
    not supported."""
    _no_out("outer", out)
    (a, b), was_bool = _operands([a, b])
    return _finish(multiply(reshape(a, (-1, 1)), reshape(b, (1, -1))), was_bool)


def vdot(a, b, *, precision=None, preferred_element_type=None):
    """NumPy's vdot: the dot product of ``a`` and ``b`` flattened (they need the same size),
    with ``a`` conjugated. A 0-d result. ``jax.numpy``'s ``precision`` (accepted, no
    effect) and ``preferred_element_type`` (the result's dtype,
    computed in it where that loses nothing) are accepted."""
    if precision is not None or preferred_element_type is not None:
        (a, b), convert_to = _jax_options("vdot", [a, b], precision,
                                          preferred_element_type)
        if convert_to is not None:
            return _to_preferred(vdot(a, b), convert_to)
    (a, b), was_bool = _operands([a, b])
    a, b = reshape(a, (-1,)), reshape(b, (-1,))
    if _shape(a) != _shape(b):
        raise ShapeError(f"vdot: the operands have different sizes ({_shape(a)[0]} and "
                         f"{_shape(b)[0]})")
    if _dtype(a).kind == "c":
        a = conj(a)
    return _finish(_products_summed(a, b, (0,)), was_bool)


def kron(a, b):
    """The Kronecker product: blocks ``a[i, j, ...] * b`` (the operand with fewer axes gets
    leading axes of length 1 first)."""
    (a, b), was_bool = _operands([a, b])
    sa, sb = _shape(a), _shape(b)
    nd = max(len(sa), len(sb))
    sa = (1,) * (nd - len(sa)) + sa
    sb = (1,) * (nd - len(sb)) + sb
    big = tuple(v for pair in zip(sa, sb) for v in pair)
    a = _st.broadcast_in_dim(_st.reshape(a, sa), big, tuple(range(0, 2 * nd, 2)))
    b = _st.broadcast_in_dim(_st.reshape(b, sb), big, tuple(range(1, 2 * nd, 2)))
    return _finish(_st.reshape(_ew.mul(a, b), tuple(x * y for x, y in zip(sa, sb))),
                   was_bool)


def _gufunc_args(name, out, kwargs):
    _no_out(name, out)
    if kwargs:
        raise NotImplementedError(f"{name}: the ufunc keywords {sorted(kwargs)} are not "
                                  f"supported (only dtype)")


def _cast(arrays, dtype):
    """The arrays cast to ``dtype`` (if given; Python numbers are left to promotion)."""
    if dtype is None:
        return list(arrays)
    d = _dt.as_dtype(dtype)
    return [a if type(a) in _SCALARS or _dtype(a) is d else _st.convert_element_type(a, d)
            for a in arrays]


def matvec(x1, x2, /, out=None, *, dtype=None, **kwargs):
    """NumPy's matvec: matrices ``x1`` (..., m, n) times vectors ``x2`` (..., n), giving
    (..., m); the stack axes broadcast. No conjugation. Of the ufunc keywords only ``dtype``
    is supported."""
    _gufunc_args("matvec", out, kwargs)
    (x1, x2), was_bool = _operands(_cast([x1, x2], dtype))
    s1, s2 = _shape(x1), _shape(x2)
    if len(s1) < 2 or len(s2) < 1 or s1[-1] != s2[-1]:
        raise ShapeError(f"matvec: needs (..., m, n) and (..., n); got shapes {s1} and {s2}")
    batch = broadcast_shapes(s1[:-2], s2[:-1])
    m1 = _st.broadcast_to(x1, batch + s1[-2:])
    v = _st.broadcast_to(_st.reshape(x2, s2 + (1,)), batch + (s2[-1], 1))
    return _finish(_st.reshape(_la.matmul(m1, v), batch + (s1[-2],)), was_bool)


def vecmat(x1, x2, /, out=None, *, dtype=None, **kwargs):
    """NumPy's vecmat: conjugated vectors ``x1`` (..., n) times matrices ``x2`` (..., n, m),
    giving (..., m); the stack axes broadcast. Of the ufunc keywords only ``dtype`` is
    supported."""
    _gufunc_args("vecmat", out, kwargs)
    (x1, x2), was_bool = _operands(_cast([x1, x2], dtype))
    s1, s2 = _shape(x1), _shape(x2)
    if len(s1) < 1 or len(s2) < 2 or s1[-1] != s2[-2]:
        raise ShapeError(f"vecmat: needs (..., n) and (..., n, m); got shapes {s1} and {s2}")
    if _dtype(x1).kind == "c":
        x1 = conj(x1)
    batch = broadcast_shapes(s1[:-1], s2[:-2])
    v = _st.broadcast_to(_st.reshape(x1, s1[:-1] + (1, s1[-1])), batch + (1, s1[-1]))
    m2 = _st.broadcast_to(x2, batch + s2[-2:])
    return _finish(_st.reshape(_la.matmul(v, m2), batch + (s2[-1],)), was_bool)


def cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """NumPy's cross product of vectors of 3 (or 2) elements along ``axisa`` of ``a`` and
    ``axisb`` of ``b`` (``axis`` sets all three), the other axes broadcasting; the result's
    vectors lie along ``axisc``. A 2-element vector has a zero z-component; two of them give
    the z-component alone (no vector axis), with NumPy's DeprecationWarning."""
    if axis is not None:
        axisa = axisb = axisc = axis
    a, b = _as_operand(a), _as_operand(b)
    (a, b), _ = _promote_arrays([a, b])
    sa, sb = _shape(a), _shape(b)
    if not sa or not sb:
        raise ShapeError("cross: the operands need at least one axis")
    axisa = _normalize_axis(axisa, len(sa))
    axisb = _normalize_axis(axisb, len(sb))
    a, b = _move_to_end(a, (axisa,)), _move_to_end(b, (axisb,))
    na, nb = _shape(a)[-1], _shape(b)[-1]
    if na not in (2, 3) or nb not in (2, 3):
        raise ValueError(f"cross: incompatible vector lengths {na} and {nb} (2 or 3 are "
                         f"supported)")
    if na == 2 or nb == 2:
        warnings.warn("cross: arrays of 2-element vectors are deprecated (as in NumPy 2); "
                      "use 3-element vectors", DeprecationWarning, stacklevel=2)
    shape = broadcast_shapes(_shape(a)[:-1], _shape(b)[:-1])

    def comps(v, n):
        s = _shape(v)
        out = []
        for i in range(n):
            idx = tuple((0, d, 1) for d in s[:-1]) + ((i, i + 1, 1),)
            out.append(_st.broadcast_to(_st.reshape(_st.slice_(v, idx), s[:-1]), shape))
        return out
    ca, cb = comps(a, na), comps(b, nb)
    z = _ew.sub(_ew.mul(ca[0], cb[1]), _ew.mul(ca[1], cb[0]))
    if na == 2 and nb == 2:
        return z
    if na == 3 and nb == 3:
        x = _ew.sub(_ew.mul(ca[1], cb[2]), _ew.mul(ca[2], cb[1]))
        y = _ew.sub(_ew.mul(ca[2], cb[0]), _ew.mul(ca[0], cb[2]))
    elif na == 3:  # b's z is 0
        x = _ew.neg(_ew.mul(ca[2], cb[1]))
        y = _ew.mul(ca[2], cb[0])
    else:  # a's z is 0
        x = _ew.mul(ca[1], cb[2])
        y = _ew.neg(_ew.mul(ca[0], cb[2]))
    nd = len(shape) + 1
    axisc = _normalize_axis(axisc, nd)
    parts = [_st.reshape(c, shape[:axisc] + (1,) + shape[axisc:]) for c in (x, y, z)]
    return _st.concat(parts, axisc)


# -- diagonals and traces ------------------------------------------------------------------------


def diagonal(a, offset=0, axis1=0, axis2=1):
    """NumPy's diagonal: diagonal ``offset`` of the matrices spanned by ``axis1`` and
    ``axis2`` (the FIRST two axes by default, unlike ``linalg.diagonal``), appended as the
    last axis after the remaining ones. A new array, not a read-only view."""
    a = _as_operand(a)
    nd = len(_shape(a))
    if nd < 2:
        raise ValueError(f"diagonal: needs an array of at least 2 dimensions; got shape "
                         f"{_shape(a)}")
    ax1, ax2 = _normalize_axis(axis1, nd), _normalize_axis(axis2, nd)
    if ax1 == ax2:
        raise ValueError(f"diagonal: axis1 and axis2 cannot be the same axis ({axis1}, "
                         f"{axis2})")
    return _la.diagonal(_move_to_end(a, (ax1, ax2)), int(offset))


def trace(a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    """NumPy's trace: the sum along diagonal ``offset`` of the matrices spanned by ``axis1``
    and ``axis2`` (the FIRST two axes by default); integers and booleans sum in int64 (or
    uint64), as NumPy does. ``out`` is not supported."""
    _no_out("trace", out)
    return _sum(diagonal(a, offset, axis1, axis2), axis=-1, dtype=dtype)


def diag(v, k=0):
    """NumPy's diag: for 1-d ``v``, the square matrix with ``v`` on diagonal ``k`` and zeros
    elsewhere; for 2-d ``v``, its diagonal ``k``."""
    v = _as_operand(v)
    nd = len(_shape(v))
    if nd == 1:
        return _la.diag_embed(v, int(k))
    if nd == 2:
        return _la.diagonal(v, int(k))
    raise ValueError(f"diag: the input must be 1-d or 2-d; got shape {_shape(v)}")


def diagflat(v, k=0):
    """NumPy's diagflat: the square matrix with ``v`` flattened on diagonal ``k``."""
    v = _as_operand(v)
    return _la.diag_embed(reshape(v, (-1,)), int(k))
