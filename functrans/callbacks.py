"""Host callbacks: ``pure_callback``, ``io_callback`` and the primitive behind
``functrans.debug`` (``debug_callback``).

Each is a primitive whose parameters carry the user's Python function. Evaluated, it calls
the function on the concrete arrays; staged (``jit``, ``make_jaxpr``), it is one equation, so
a jitted function calls it at every call, with that call's values. JAX hands callbacks NumPy
arrays on the host; functrans hands them the arrays of the inputs' own library (NumPy,
CuPy, torch...), on their device, and converts what they return to that library.

- ``pure_callback``: the function must be pure. A staged call whose results are unused is
  dropped, and two identical calls may be made one (as JAX may). ``vmap`` follows
  ``vmap_method``; differentiating it is an error (wrap it in ``custom_jvp``).
- ``io_callback``: never dropped or merged; under ``vmap`` (unordered only) it is called once
  per batch member; differentiating it is an error.
- ``debug_callback``: never dropped; no results; under ``jvp``/``grad`` it sees the primal
  values (once per evaluation of the primal), under ``vmap`` one call per batch member.
"""

from __future__ import annotations

from . import dtypes as _dt
from .core import _SCALAR_DTYPES, ShapedArray, Tracer, _current
from .primitives.callbacks import (_VMAP_METHODS, _name, debug_callback_p, io_callback_p,
                                   pure_callback_p)
from .tree import tree_flatten, tree_unflatten

__all__ = ["pure_callback", "io_callback"]


def _result_avals(result_shape_dtypes, what):
    leaves, tree = tree_flatten(result_shape_dtypes)
    avals = []
    for leaf in leaves:
        if not (hasattr(leaf, "shape") and hasattr(leaf, "dtype")):
            raise TypeError(f"{what}: result_shape_dtypes must be a pytree of objects with "
                            f".shape and .dtype (functrans.ShapeDtypeStruct, arrays); got "
                            f"{type(leaf).__name__}.")
        avals.append(ShapedArray(tuple(int(n) for n in leaf.shape), _dt.as_dtype(leaf.dtype)))
    return tuple(avals), tree


def _operands(args, kwargs):
    """The leaves of ``(args, kwargs)`` with Python numbers as 0-d arrays of the library of
    the array operands (of the default backend if there are none), as JAX makes them
    arrays."""
    from .api import _as_input, _scalar_like
    leaves, in_tree = tree_flatten((tuple(args), dict(kwargs)))
    like = next((x for x in leaves if type(x) not in _SCALAR_DTYPES), None)
    out = []
    for x in leaves:
        if type(x) in _SCALAR_DTYPES:
            x = _as_input(x if like is None else _scalar_like(x, like))
        elif not (isinstance(x, Tracer) or hasattr(x, "shape")):
            raise TypeError(f"callback arguments must be arrays or numbers (in any pytree); "
                            f"got {type(x).__name__}. Close over other values instead.")
        out.append(x)
    return out, in_tree


# -- the user's functions ------------------------------------------------------------------------


def pure_callback(callback, result_shape_dtypes, *args, sharding=None, vmap_method=None,
                  **kwargs):
    """Call the Python function ``callback(*args, **kwargs)`` on concrete arrays from inside
    transformed code (``jax.pure_callback``).

    ``callback`` must be pure (its result depends on its arguments only, no side effects
    that matter): a staged call whose results are unused is dropped. Its results must have
    the shapes and dtypes of ``result_shape_dtypes`` (a pytree of
    ``functrans.ShapeDtypeStruct``), which is checked at each call.

    Differences from JAX: ``callback`` receives arrays of the arguments' own library (NumPy,
    CuPy, torch...) on their device, not NumPy arrays on the host; Python numbers among the
    arguments arrive as 0-d arrays of that library; what it returns (NumPy arrays, numbers,
    or arrays of that library) is converted to that library. A number returned takes the
    declared dtype where that changes nothing (``2`` for a float64 result; a float for an
    integer result, or an integer out of the dtype's range, is an error; JAX refuses any
    dtype mismatch). ``sharding`` is accepted and unused.

    Under ``jit`` the call is one equation of the graph, made at every call of the jitted
    function. Under ``vmap``, ``vmap_method`` says how: ``"sequential"`` (one call per batch
    member, results stacked), ``"expand_dims"`` (one call; unbatched arguments get a leading
    axis of size 1), ``"broadcast_all"`` (one call; unbatched arguments broadcast to the
    batch), ``"legacy_vectorized"`` (one call; unbatched arguments as they are); with
    ``None`` (the default) vmap is an error, as in JAX. Differentiating it is an error:
    wrap it in ``functrans.custom_jvp`` / ``custom_vjp``. A call with no traced argument
    runs where it is reached (under ``jit``: once, while staging), since nothing of the
    staged function flows into it and it is pure; an ``io_callback`` or ``debug`` call is
    recorded instead, to run at every call.

    Example:
        >>> import numpy as np
        >>> f = ft.jit(lambda x: ft.pure_callback(np.sin, ft.ShapeDtypeStruct(x.shape,
        ...                                       x.dtype), x))
        >>> f(np.zeros(2))
        array([0., 0.])
    """
    del sharding
    if not callable(callback):
        raise TypeError(f"pure_callback expects a function; got {type(callback).__name__}.")
    if vmap_method is not None and vmap_method not in _VMAP_METHODS:
        raise ValueError(f"pure_callback: vmap_method must be None or one of "
                         f"{', '.join(repr(m) for m in _VMAP_METHODS)}; got {vmap_method!r}.")
    avals, out_tree = _result_avals(result_shape_dtypes, "pure_callback")
    leaves, in_tree = _operands(args, kwargs)
    outs = pure_callback_p.bind(*leaves, callback=callback, result_avals=avals,
                                in_tree=in_tree, out_tree=out_tree, vmap_method=vmap_method)
    return tree_unflatten(out_tree, list(outs))


def io_callback(callback, result_shape_dtypes, *args, sharding=None, ordered=False,
                **kwargs):
    """Call the Python function ``callback(*args, **kwargs)``, which may have side effects,
    from inside transformed code (``jax.experimental.io_callback``).

    As :func:`pure_callback` (same arguments and results, the same differences from JAX:
    the arrays are those of the arguments' library), except that a staged call is never
    dropped or merged with another: under ``jit`` it runs at every call, even if its results
    are unused. Calls run in program order whatever ``ordered`` says (functrans evaluates
    one equation after another); under ``vmap`` an unordered callback is called once per
    batch member and an ordered one is an error, as in JAX. Differentiating it is an
    error."""
    del sharding
    if not callable(callback):
        raise TypeError(f"io_callback expects a function; got {type(callback).__name__}.")
    avals, out_tree = _result_avals(result_shape_dtypes, "io_callback")
    leaves, in_tree = _operands(args, kwargs)
    outs = _bind_effect(io_callback_p, leaves, dict(
        callback=callback, result_avals=avals, in_tree=in_tree, out_tree=out_tree,
        ordered=bool(ordered)))
    return tree_unflatten(out_tree, list(outs))


def debug_call(callback, args, kwargs):
    """Bind ``debug_callback`` on the arrays of ``(args, kwargs)``; ``callback`` receives the
    same pytrees with concrete arrays (other leaves are passed as they are)."""
    leaves, tree = tree_flatten((tuple(args), dict(kwargs)))
    dyn = [i for i, x in enumerate(leaves)
           if isinstance(x, Tracer) or (type(x) not in _SCALAR_DTYPES and hasattr(x, "shape")
                                        and not isinstance(x, type))]
    static = list(leaves)
    for i in dyn:
        static[i] = None

    def flat_callback(*arrays):
        full = list(static)
        for i, x in zip(dyn, arrays):
            full[i] = x
        a, kw = tree_unflatten(tree, full)
        callback(*a, **kw)
    flat_callback.__name__ = _name(callback)
    arrays = [leaves[i] for i in dyn]
    _, flat_tree = tree_flatten((tuple(arrays), {}))
    if not arrays and _jit_staging() is None:  # nothing to wait for: call it now
        flat_callback()
        return
    _bind_effect(debug_callback_p, arrays, dict(callback=flat_callback, in_tree=flat_tree))


def _jit_staging():
    """The innermost staging of ``jit`` (or ``make_graph``/``checkpoint``) around this call,
    or None."""
    from .interpreters import StagingInterpreter, TangentRecorder
    interp = _current.get().interp
    while interp is not None:
        # (not linearize's recorder: the primal computation is eager there)
        if isinstance(interp, StagingInterpreter) and not isinstance(interp, TangentRecorder):
            return interp
        interp = interp.parent
    return None


def _bind_effect(prim, operands, params):
    """``prim.bind`` of a callback run for its effect. Without a traced operand, a primitive
    would reach the evaluation below ``jit``'s staging and run once while staging: here it is
    recorded in the staged graph instead, to run at every call of the compiled function, as
    JAX's effects do."""
    from .interpreters import ConstTracer
    # (a constant held as a tracer is a concrete array: recorded or run as one)
    operands = [x.primal if type(x) is ConstTracer else x for x in operands]
    if any(isinstance(x, Tracer) for x in operands):
        return prim.bind(*operands, **params)
    interp = _jit_staging()
    if interp is None:
        return prim.bind(*operands, **params)
    from .core import get_aval
    from .graph import Var
    from .interpreters import StagingTracer
    avals = prim.abstract_eval(*[get_aval(x) for x in operands], **params)
    outs = [Var(a) for a in avals]
    interp.eqns.append((prim, list(operands), params, outs))
    return [StagingTracer(interp, v) for v in outs]
