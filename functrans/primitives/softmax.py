"""``softmax_tangent``: the tangent maps of softmax and log_softmax over the slices ``axes``,
as one primitive that is linear in its first operand ``t``.

``softmax_tangent(t, a, b, kind, axes)`` is, per slice (sums over ``axes``, kept dims):

- ``kind="softmax"``: ``a (t - sum(a t))`` with ``a`` the softmax ``y`` (its Jacobian
  ``diag(y) - y y^T`` is symmetric: the transpose is the same map);
- ``kind="log"``: ``t - sum(a t) / b`` with ``a = exp(x - m)`` and ``b = sum(a)``
  (log_softmax's Jacobian ``I - 1 p^T`` with ``p = a / b``, the division done per slice);
- ``kind="log_t"``: ``t - a sum(t) / b``, the transpose of ``"log"``.

A slice without a derivative (kind softmax: ``b``, the denominator's pad, is nan there;
the log kinds: ``b`` is not in (0, inf), from a +inf or nan entry or all -inf) gives nan in
every entry where ``t`` has a nonzero entry in it, and exactly 0 where it has none: only
directions (or cotangents) that move an entry of the slice meet its nan, never those of the
other slices (the formula met exp(inf) times a zero tangent there). Per slice, so that the
common case costs the formula: on NumPy the check for such a slice is on the host, with a
small array, and the rest is skipped without one.

One equation for the whole map, forward and transposed: its NumPy implementation reads
each operand once or twice (a dot product per slice, then one or two elementwise passes,
into memory graph evaluation keeps), where the map as separate equations made five passes
and a select. Its derivative in ``a`` and ``b`` (second order) is written with
``functrans.numpy`` and has the same nan / 0 pattern (see ``_coefficients_tangent``).
"""

from __future__ import annotations

import math

import numpy as np

from ..core import ShapedArray, primitive
from ._batching import all_batched

SOFTMAX, LOG, LOG_T = "softmax", "log", "log_t"
_TRANSPOSED = {SOFTMAX: SOFTMAX, LOG: LOG_T, LOG_T: LOG}
_KINDS = frozenset(_TRANSPOSED)

softmax_tangent_p = primitive("softmax_tangent")


def softmax_tangent(t, a, b, *, kind, axes):
    """The tangent map of kind ``kind`` (see the module's docstring) applied to ``t``."""
    if kind not in _KINDS:
        raise ValueError(f"softmax_tangent: kind must be one of {sorted(_KINDS)}; got "
                         f"{kind!r}")
    return softmax_tangent_p.bind(t, a, b, kind=kind, axes=tuple(axes))


def _bad(xp, b, kind):
    """The slices without a derivative, from ``b`` (kept dims)."""
    if kind == SOFTMAX:
        return xp.isnan(b)
    return ~((b > 0.0) & (b < math.inf))


def _formula(xp, t, a, b, kind, axes):
    if kind == SOFTMAX:
        return (t - xp.sum(a * t, axis=axes, keepdims=True)) * a
    if kind == LOG:
        return t - xp.sum(a * t, axis=axes, keepdims=True) / b
    return t - a * (xp.sum(t, axis=axes, keepdims=True) / b)


def _impl(backend, t, a, b, kind, axes):
    if backend.name == "numpy" and type(t) is np.ndarray:
        return _np_impl(backend, t, a, b, kind, axes)
    xp = backend.xp
    # (no host check here: on a device it would wait for the data)
    bad = _bad(xp, b, kind)
    flag = bad & xp.any(t != 0, axis=axes, keepdims=True)
    return xp.where(bad, xp.where(flag, math.nan, xp.zeros_like(b)),
                    _formula(xp, t, a, b, kind, axes))


# -- NumPy: into given memory, the per-slice sums as dot products -----------------------------

_vecdot = getattr(np, "vecdot", None)   # (NumPy >= 2)


def _slice_dot(a, t, axes):
    """``sum(a t)`` over ``axes`` (kept dims), without the product's array where the slices
    are the last axis."""
    n = a.ndim
    if _vecdot is not None and axes == (n - 1,):
        return _vecdot(a, t)[..., None]
    return _kept_sum(a * t, axes)


def _kept_sum(x, axes):
    """sum over ``axes``, dims kept, as an array (a 0-d ``x``'s sum is a NumPy scalar, which
    cannot be written into with ``out=``)."""
    c = np.sum(x, axis=axes, keepdims=True)
    return c if type(c) is np.ndarray else np.asarray(c)


def _np_fill(buf, t, a, b, kind, axes):
    """The map into ``buf`` (which may be ``t``'s memory for the kinds softmax and log, or
    ``a``'s for the log kinds); None where ``buf`` is an operand it must read after
    writing."""
    if kind == SOFTMAX:
        if buf is a:
            return None
        c = _slice_dot(a, t, axes)
        np.subtract(t, c, out=buf)
        return np.multiply(buf, a, out=buf)
    if kind == LOG:
        c = _slice_dot(a, t, axes)
        return np.subtract(t, np.divide(c, b, out=c), out=buf)
    if buf is t:
        return None
    c = _kept_sum(t, axes)
    np.multiply(a, np.divide(c, b, out=c), out=buf)
    return np.subtract(t, buf, out=buf)


def _np_into(buf, t, a, b, kind, axes):
    bad = np.isnan(b) if kind == SOFTMAX else ~((b > 0.0) & (b < math.inf))
    if not bad.any():
        return _np_fill(buf, t, a, b, kind, axes)
    # (read before buf, which may be t's memory, is written)
    flag = bad & np.any(t != 0, axis=axes, keepdims=True)
    with np.errstate(all="ignore"):   # (inf - inf, 0 / 0 in the slices replaced below)
        out = _np_fill(buf, t, a, b, kind, axes)
    if out is not None:
        np.copyto(out, np.where(flag, math.nan, 0.0).astype(out.dtype, copy=False),
                  where=bad)
    return out


def _np_impl(backend, t, a, b, kind, axes):
    from ..buffers import MIN_BYTES, take
    buf = None
    if t.nbytes >= MIN_BYTES:   # (a kept array: no page faults for a large result)
        buf = take(np.ndarray, t.shape, backend.dtype(t))
    if buf is None:
        buf = np.empty(t.shape, dtype=t.dtype)
    return _np_into(buf, t, a, b, kind, axes)


def _into(backend, outs, t, a, b, kind, axes):
    if (backend.name != "numpy" or type(t) is not np.ndarray or type(a) is not np.ndarray
            or type(b) is not np.ndarray):
        return None
    return _np_into(outs[0], t, a, b, kind, axes)


_into.may_overwrite = True   # (it refuses the operands it would read after writing)


# -- rules ------------------------------------------------------------------------------------


def _abstract_eval(t, a, b, kind, axes):
    return ShapedArray(t.shape, t.dtype)


def _transpose(ct, t, a, b, kind, axes):
    from ..graph import Var
    if type(a) is Var or type(b) is Var:
        raise TypeError("softmax_tangent is linear in its first operand only: its "
                        "coefficients may not depend on the values being transposed")
    return [softmax_tangent_p.bind(ct, a, b, kind=_TRANSPOSED[kind], axes=axes), None, None]


def _jvp(primals, tangents, kind, axes):
    t, a, b = primals
    dt, da, db = tangents
    out = softmax_tangent_p.bind(t, a, b, kind=kind, axes=axes)
    if kind == SOFTMAX:
        db = None   # (the pad says which slices are bad, and nothing else)
    parts = []
    if dt is not None:
        parts.append(softmax_tangent_p.bind(dt, a, b, kind=kind, axes=axes))
    if da is not None or db is not None:
        parts.append(_coefficients_tangent(t, a, b, da, db, kind, axes))
    if not parts:
        return out, None
    from ..numpy import add
    return out, parts[0] if len(parts) == 1 else add(parts[0], parts[1])


def _coefficients_tangent(t, a, b, da, db, kind, axes):
    """The derivative in ``a`` and ``b`` (tangents ``da``, ``db``; either may be None). In a
    slice without a derivative: nan where ``t`` has a nonzero entry in the slice and the
    tangent moves an entry of it, 0 otherwise; elsewhere the formula's, with that slice's
    values out of it (its nans met zero tangents: ``da`` there is nan only for a direction
    that moves the slice)."""
    from .. import numpy as fnp
    from .linear_call import linear_call
    # (functions, not operators: a plain array of array-api-strict refuses a tracer on its
    # right)
    mul, sub, div, add, total = fnp.multiply, fnp.subtract, fnp.divide, fnp.add, fnp.sum
    bad = fnp.stop_gradient(_bad(fnp, b, kind))
    bad_full = fnp.broadcast_to(bad, t.shape)
    a_s = fnp.where(bad_full, 0.0, a)
    moved = fnp.logical_and(bad, fnp.any(fnp.not_equal(fnp.stop_gradient(t), 0.0), axis=axes,
                                         keepdims=True))
    q = nan_part = None
    if da is not None:
        da_s = fnp.where(bad_full, 0.0, da)
        if kind == SOFTMAX:
            q = sub(mul(da_s, sub(t, total(mul(a_s, t), axis=axes, keepdims=True))),
                    mul(a_s, total(mul(da_s, t), axis=axes, keepdims=True)))
        else:
            b_s = fnp.where(bad, 1.0, b)
            q = fnp.negative(
                fnp.broadcast_to(div(total(mul(da_s, t), axis=axes, keepdims=True), b_s),
                                 t.shape) if kind == LOG
                else mul(da_s, div(total(t, axis=axes, keepdims=True), b_s)))
        nan_part = linear_call(_moved_nan, _moved_nan, moved, da)
    if db is not None:
        b_s = fnp.where(bad, 1.0, b)
        ratio = div(fnp.where(bad, 0.0, db), mul(b_s, b_s))
        qb = fnp.broadcast_to(
            mul(total(mul(a_s, t), axis=axes, keepdims=True), ratio) if kind == LOG
            else mul(a_s, mul(total(t, axis=axes, keepdims=True), ratio)), t.shape)
        q = qb if q is None else add(q, qb)
        nb = linear_call(_moved_nan, _moved_nan, moved, fnp.broadcast_to(db, t.shape))
        nan_part = nb if nan_part is None else add(nan_part, nb)
    return fnp.where(bad_full, nan_part, q)


def _moved_nan(moved, u):
    """nan in the slices ``moved`` marks (kept dims) where ``u`` has a nonzero entry, 0
    elsewhere: linear in ``u`` in the sense of the nan / 0 rule, and its own transpose."""
    from .. import numpy as fnp
    axes = tuple(i for i in range(u.ndim) if moved.shape[i] == 1 and u.shape[i] != 1)
    hit = fnp.logical_and(moved, fnp.any(fnp.not_equal(u, 0.0), axis=axes, keepdims=True))
    return fnp.where(hit, math.nan, fnp.zeros_like(u))


def _batch(args, dims, kind, axes):
    t, a, b = all_batched(args, dims)
    return softmax_tangent_p.bind(t, a, b, kind=kind, axes=tuple(i + 1 for i in axes)), 0


softmax_tangent_p.def_impl(_impl)
softmax_tangent_p.into = _into
softmax_tangent_p.def_abstract_eval(_abstract_eval)
softmax_tangent_p.def_jvp(_jvp)
softmax_tangent_p.def_transpose(_transpose)
softmax_tangent_p.def_batch(_batch)
