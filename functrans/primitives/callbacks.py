"""The host-callback primitives: ``pure_callback``, ``io_callback`` and ``debug_callback``
(what :mod:`functrans.callbacks` and :mod:`functrans.debug` bind).

Their parameters carry the user's function (``callback``); evaluated, it is called on the
concrete arrays and its results checked against ``result_avals`` and converted to the
operands' library. ``io_callback`` and ``debug_callback`` have an effect: a staged graph
keeps their equations even when nothing reads their results (``graph.EFFECTFUL``). None has
a derivative (``debug_callback``'s JVP shows the primals and emits no tangent); under
``vmap``: ``pure_callback`` by its ``vmap_method``, the others once per batch member.
"""

from __future__ import annotations

import numpy as np

from ..core import _SCALAR_DTYPES, ShapedArray, _by_type_get, primitive
from ..graph import EFFECTFUL
from ..tree import tree_unflatten

_VMAP_METHODS = ("sequential", "sequential_unrolled", "expand_dims", "broadcast_all",
                 "legacy_vectorized")


def _name(f):
    return getattr(f, "__name__", type(f).__name__)


pure_callback_p = primitive("pure_callback", multiple_results=True)
io_callback_p = primitive("io_callback", multiple_results=True)
debug_callback_p = primitive("debug_callback", multiple_results=True)
EFFECTFUL.update((io_callback_p, debug_callback_p))


def _check_number(r, dtype, what, i):
    """Refuse a number the declared ``dtype`` would change (JAX refuses any mismatch)."""
    target = np.dtype(dtype.name)
    host = np.asarray(r)
    ok = (np.can_cast(host.dtype, target, casting="same_kind") if isinstance(r, np.generic)
          else {bool: "biufc", int: "iufc", float: "fc", complex: "c"}[type(r)].find(
              target.kind) >= 0)
    if ok and target.kind in "iu" and type(r) is not bool:
        info = np.iinfo(target)
        ok = info.min <= int(r) <= info.max
    if not ok:
        raise RuntimeError(f"{what}: result {i} of the callback is {r!r}, which "
                           f"result_shape_dtypes' {dtype.name} cannot hold as it is; return "
                           f"an array of that dtype.")


def _call(backend, args, callback, result_avals, in_tree, out_tree, what):
    """Run ``callback`` on concrete arrays; its results checked against ``result_avals`` and
    returned as arrays of ``backend``."""
    a, kw = tree_unflatten(in_tree, list(args))
    res = callback(*a, **kw)
    try:
        leaves = out_tree.flatten_up_to(res)
    except (ValueError, TypeError) as e:
        raise TypeError(f"{what}: the callback's result does not have the structure of "
                        f"result_shape_dtypes ({out_tree}): {e}") from None
    out = []
    for i, (r, aval) in enumerate(zip(leaves, result_avals)):
        if type(r) in _SCALAR_DTYPES or isinstance(r, np.generic):
            # a number: takes the declared dtype where that loses nothing (a float is not
            # truncated to an integer dtype, nor an integer wrapped around)
            _check_number(r, aval.dtype, what, i)
            r = backend.asarray(np.asarray(r), dtype=aval.dtype)
        elif _by_type_get(type(r)) is not backend:
            if hasattr(r, "__array__") or isinstance(r, (list, tuple)):
                host = np.asarray(r)
                if host.dtype == object:
                    raise TypeError(f"{what}: result {i} of the callback is not an array.")
                r = backend.asarray(host)
            else:
                raise TypeError(f"{what}: result {i} of the callback is a "
                                f"{type(r).__name__}, not an array.")
        shape, dtype = tuple(r.shape), backend.dtype(r)
        if shape != aval.shape:
            raise RuntimeError(f"{what}: result {i} of the callback has shape {shape}, but "
                               f"result_shape_dtypes declares {aval.shape}.")
        if dtype is not aval.dtype:
            raise RuntimeError(f"{what}: result {i} of the callback has dtype {dtype.name}, "
                               f"but result_shape_dtypes declares {aval.dtype.name}; cast it "
                               f"in the callback.")
        out.append(r)
    return out


def _impl(what):
    def impl(backend, *args, callback, result_avals, in_tree, out_tree, **_):
        return _call(backend, args, callback, result_avals, in_tree, out_tree,
                     f"{what} of {_name(callback)}")
    return impl


def _abstract_eval(*avals, result_avals, **_):
    return list(result_avals)


# -- batching ------------------------------------------------------------------------------------


def _member(x, d, i):
    return x if d is None else x[i, ...]


def _sequential(prim, args, dims, params):
    """One call per batch member, the results stacked."""
    from .. import numpy as fnp
    from ._batching import batch_size
    size = batch_size(args, dims)
    rows = [prim.bind(*[_member(a, d, i) for a, d in zip(args, dims)], **params)
            for i in range(size)]
    n = len(params.get("result_avals", ()))
    if n == 0:
        return [], []
    if size == 0:  # (empty results in the library and on the device of a batched operand)
        dev = fnp.device(next(a for a, d in zip(args, dims) if d is not None))
        outs = [fnp.zeros((0,) + a.shape, dtype=a.dtype, device=dev)
                for a in params["result_avals"]]
    else:
        outs = [fnp.stack([r[k] for r in rows]) for k in range(n)]
    return outs, [0] * n


def _pure_batch(args, dims, *, vmap_method, **params):
    from .. import numpy as fnp
    from ._batching import batch_size
    params = dict(params, vmap_method=vmap_method)
    if vmap_method is None:
        raise NotImplementedError(
            f"vmap of pure_callback ({_name(params['callback'])}) needs vmap_method: one of "
            f"{', '.join(repr(m) for m in _VMAP_METHODS)} (as JAX, None cannot be batched).")
    if vmap_method in ("sequential", "sequential_unrolled"):
        return _sequential(pure_callback_p, args, dims, params)
    size = batch_size(args, dims)
    ins = []
    for a, d in zip(args, dims):
        if d is None and vmap_method == "expand_dims":
            a = fnp.expand_dims(a, axis=0)
        elif d is None and vmap_method == "broadcast_all":
            a = fnp.broadcast_to(fnp.expand_dims(a, axis=0), (size,) + tuple(a.shape))
        ins.append(a)
    params["result_avals"] = tuple(ShapedArray((size,) + a.shape, a.dtype)
                                   for a in params["result_avals"])
    outs = pure_callback_p.bind(*ins, **params)
    return outs, [0] * len(outs)


def _io_batch(args, dims, **params):
    if params["ordered"]:
        raise ValueError(f"vmap of io_callback ({_name(params['callback'])}): an ordered IO "
                         f"callback cannot be batched (as in JAX); pass ordered=False.")
    return _sequential(io_callback_p, args, dims, params)


def _debug_batch(args, dims, **params):
    from ._batching import batch_size
    for i in range(batch_size(args, dims)):
        debug_callback_p.bind(*[_member(a, d, i) for a, d in zip(args, dims)], **params)
    return [], []


# -- derivatives ---------------------------------------------------------------------------------


def _pure_jvp(primals, tangents, **params):
    raise ValueError(f"pure_callback ({_name(params['callback'])}) has no derivative: "
                     f"functrans cannot differentiate host code (as JAX, which raises 'Pure "
                     f"callbacks do not support JVP'). Wrap the call in a functrans.custom_jvp "
                     f"or custom_vjp function with a rule for its derivative.")


def _io_jvp(primals, tangents, **params):
    raise ValueError(f"io_callback ({_name(params['callback'])}) has no derivative (as JAX: "
                     f"'IO callbacks do not support JVP'). Wrap it in a functrans.custom_jvp "
                     f"or custom_vjp function, or apply stop_gradient to its operands.")


def _debug_jvp(primals, tangents, **params):
    # The primal values, once per evaluation of the primal; tangents are not shown.
    debug_callback_p.bind(*primals, **params)
    return [], []


def _debug_transpose(cts, *args, **params):
    raise ValueError("functrans.debug.print/callback on a value of a linear function being "
                     "transposed (linear_transpose, or a tangent inside a custom rule in "
                     "reverse mode) cannot be transposed (as in JAX); print the primal "
                     "values instead.")


def _debug_impl(backend, *args, callback, in_tree):
    a, kw = tree_unflatten(in_tree, list(args))
    callback(*a, **kw)
    return []


pure_callback_p.def_impl(_impl("pure_callback"))
pure_callback_p.def_abstract_eval(_abstract_eval)
pure_callback_p.def_jvp(_pure_jvp)
pure_callback_p.def_batch(_pure_batch)

io_callback_p.def_impl(_impl("io_callback"))
io_callback_p.def_abstract_eval(_abstract_eval)
io_callback_p.def_jvp(_io_jvp)
io_callback_p.def_batch(_io_batch)

debug_callback_p.def_impl(_debug_impl)
debug_callback_p.def_abstract_eval(lambda *avals, **params: [])
debug_callback_p.def_jvp(_debug_jvp)
debug_callback_p.def_batch(_debug_batch)
debug_callback_p.def_transpose(_debug_transpose)


