"""``linear_call``: a linear function with a transpose of the user's (``jax.custom_derivatives.
linear_call``), and its primitive ``linear_call``.

``linear_call(fun, fun_transpose, residual_args, linear_args)`` is ``fun(residual_args,
linear_args)``, where ``fun`` is linear in ``linear_args``. The primitive's operands are the
residuals' leaves, then the linear arguments' leaves; its parameters carry both functions,
the two trees and a box receiving the results' tree. Its rules:

- impl: calls ``fun``; abstract_eval stages it for the results' shapes (so jit and make_graph
  record one equation, and a transform around the jitted function still meets it);
- jvp: ``fun`` applied to the linear arguments' tangents (a linear function is its own
  derivative), itself a ``linear_call``, so that reverse mode transposes it by
  ``fun_transpose``; the residuals' tangents (JAX refuses them) go through ``fun``'s own code;
- transpose: a ``linear_call`` of ``fun_transpose`` on the cotangents, whose transpose is
  ``fun`` again;
- batch: both functions vmapped as wholes.
"""

from __future__ import annotations

from ..core import _SCALAR_DTYPES, ShapedArray, get_aval, primitive
from ..errors import CustomRuleError, UnexpectedTracerError
from ..graph import PRINTED_PARAMS
from ..tree import tree_flatten, tree_unflatten

linear_call_p = primitive("linear_call", multiple_results=True)


def _name(f):
    return getattr(f, "__name__", type(f).__name__)


def _call(fun, operands, res_tree, lin_tree, out_box):
    n = res_tree.num_leaves
    try:
        out = fun(tree_unflatten(res_tree, list(operands[:n])),
                  tree_unflatten(lin_tree, list(operands[n:])))
    except UnexpectedTracerError as e:
        raise CustomRuleError(
            f"linear_call: {_name(fun)} closes over a value being transformed (differentiated "
            f"or batched), which it cannot reach where it runs (its transpose, or its call "
            f"beneath the transform). Pass that value in residual_args (both functions take "
            f"them first).") from e
    leaves, tree = tree_flatten(out)
    out_box[:] = [tree]
    return leaves


def _impl(backend, *operands, fun, transpose, res_tree, lin_tree, out_box):
    return _call(fun, operands, res_tree, lin_tree, out_box)


def _abstract_eval(*avals, fun, transpose, res_tree, lin_tree, out_box):
    from ..api import eval_shape
    outs = eval_shape(lambda *xs: _call(fun, xs, res_tree, lin_tree, out_box), *avals)
    return [ShapedArray(o.shape, o.dtype) for o in outs]


def _jvp(primals, tangents, fun, transpose, res_tree, lin_tree, out_box):
    from .. import numpy as fnp
    from ..api import jvp
    params = dict(fun=fun, transpose=transpose, res_tree=res_tree, lin_tree=lin_tree,
                  out_box=out_box)
    n = res_tree.num_leaves
    res, lin = list(primals[:n]), list(primals[n:])
    outs = linear_call_p.bind(*res, *lin, **params)
    t_lin = tangents[n:]
    t_outs = [None] * len(outs)
    if any(t is not None for t in t_lin):
        t_lin = [fnp.zeros_like(p) if t is None else t for p, t in zip(lin, t_lin)]
        t_outs = list(linear_call_p.bind(*res, *t_lin, **params))
    t_res = tangents[:n]
    if any(t is not None for t in t_res):
        # fun need not be linear in its residuals: their part of the derivative is fun's
        # own (a product, a division by them), through its code; it is transposed
        # automatically, as anything else is.
        diff = [i for i, t in enumerate(t_res) if t is not None]

        def of_residuals(*rs):
            full = list(res)
            for i, r in zip(diff, rs):
                full[i] = r
            return _call(fun, full + lin, res_tree, lin_tree, [])
        _, parts = jvp(of_residuals, tuple(res[i] for i in diff),
                       tuple(t_res[i] for i in diff))
        t_outs = [p if t is None else t + p for t, p in zip(t_outs, parts)]
    return outs, t_outs


def _transpose(cts, *operands, fun, transpose, res_tree, lin_tree, out_box):
    from ..graph import Var
    n = res_tree.num_leaves
    res, lin = operands[:n], operands[n:]
    if any(type(r) is Var for r in res):
        raise TypeError(
            f"linear_call of {_name(fun)} is transposed with respect to its residual_args, "
            f"in which it is not linear: only linear_args may depend on the values being "
            f"transposed (a value it is linear in belongs in linear_args).")
    if any(c is None for c in cts):
        cts = _zero_cotangents(cts, fun, res, lin, res_tree, lin_tree)
    box = []
    out_tree = out_box[0]
    outs = linear_call_p.bind(*res, *cts, fun=transpose, transpose=fun, res_tree=res_tree,
                              lin_tree=out_tree, out_box=box)
    if box and box[0] != lin_tree:
        raise CustomRuleError(
            f"linear_call: the transpose {_name(transpose)} of {_name(fun)} returned "
            f"cotangents of structure {box[0]}; the linear arguments have {lin_tree}.")
    lin_avals = [a.aval if type(a) is Var else get_aval(a) for a in lin]
    for i, (c, a) in enumerate(zip(outs, lin_avals)):
        shape = () if type(c) in _SCALAR_DTYPES else tuple(get_aval(c).shape)
        if shape != tuple(a.shape):
            raise CustomRuleError(
                f"linear_call: the transpose {_name(transpose)} of {_name(fun)} returned a "
                f"cotangent of shape {shape} for linear argument leaf {i}, which has shape "
                f"{tuple(a.shape)}.")
    return [None] * n + [None if type(a) is not Var else c for a, c in zip(lin, outs)]


def _zero_cotangents(cts, fun, res, lin, res_tree, lin_tree):
    """The output cotangents with zeros for the missing ones (fun_transpose takes arrays),
    on the library and device of a present one."""
    from ..api import _concrete_backend, eval_shape
    from ..graph import Var
    avals = [a.aval if type(a) is Var else a for a in lin]
    shapes = eval_shape(lambda *xs: _call(fun, xs, res_tree, lin_tree, []), *res, *avals)
    like = next(c for c in cts if c is not None)
    b, dev = _concrete_backend(like)
    return [c if c is not None else
            b.xp.zeros(s.shape, dtype=b.native_dtype(s.dtype),
                       **({"device": dev} if dev is not None else {}))
            for c, s in zip(cts, shapes)]


def _batch(args, dims, fun, transpose, res_tree, lin_tree, out_box, batch_interp):
    # Both functions batched as wholes (each a vmap over every operand), so that a transform
    # applied outside this vmap still meets the user's transpose.
    from ..batching import vmap_within
    from ._batching import all_batched
    n = res_tree.num_leaves
    axes = [None if type(a) in _SCALAR_DTYPES else 0 for a in args]
    res_axes = tree_unflatten(res_tree, axes[:n])
    lin_axes = tree_unflatten(lin_tree, axes[n:])
    outs = linear_call_p.bind(
        *all_batched(args, dims),
        fun=vmap_within(batch_interp, fun, in_axes=(res_axes, lin_axes)),
        transpose=vmap_within(batch_interp, transpose, in_axes=(res_axes, 0)),
        res_tree=res_tree, lin_tree=lin_tree, out_box=out_box)
    return outs, [0] * len(outs)


linear_call_p.def_impl(_impl)
linear_call_p.def_abstract_eval(_abstract_eval)
linear_call_p.def_jvp(_jvp)
linear_call_p.def_transpose(_transpose)
linear_call_p.def_batch(_batch)
linear_call_p.batch_sees_interp = True


def _printed_params(params):
    # The two functions (by name) and how many operands are residuals (JAX's num_res); the
    # trees and the results' box are bookkeeping, and the box's repr changes once called.
    return {"fun": params["fun"], "transpose": params["transpose"],
            "num_res": params["res_tree"].num_leaves}


PRINTED_PARAMS[linear_call_p] = _printed_params


def linear_call(fun, fun_transpose, residual_args, linear_args):
    """``fun(residual_args, linear_args)``, a function linear in ``linear_args`` whose
    transpose is ``fun_transpose(residual_args, cotangent)`` (``jax.custom_derivatives.
    linear_call``).

    Reverse mode (``vjp``, ``grad``, ``linear_transpose``) transposes the call by
    ``fun_transpose`` rather than through ``fun``'s code (a solver's transpose may be another
    solve); forward mode applies ``fun`` to the tangents of ``linear_args``. Transposed, the
    call is a ``linear_call`` of ``fun_transpose`` whose transpose is ``fun``. ``fun`` need
    not be linear in ``residual_args``: their derivative comes from ``fun``'s own code (JAX
    refuses to differentiate with respect to them). Both functions must take the values
    being transformed as arguments (close over fixed values only).

    Args:
        fun: ``fun(residual_args, linear_args)``, linear in its second argument.
        fun_transpose: ``fun_transpose(residual_args, cotangent)``, the transpose of ``fun``
            in ``linear_args``: a pytree of the structure and shapes of ``linear_args``.
        residual_args: a pytree of values ``fun`` need not be linear in.
        linear_args: a pytree of floating arrays ``fun`` is linear in.

    Example:
        >>> a = np.array([[1.0, 2.0], [3.0, 4.0]])
        >>> def matvec(a, x):
        ...     return a @ x
        >>> def matvec_t(a, ct):
        ...     return a.T @ ct
        >>> f = lambda x: linear_call(matvec, matvec_t, a, x)
        >>> ft.grad(lambda x: f(x).sum())(np.ones(2))
        array([4., 6.])
    """
    if not callable(fun) or not callable(fun_transpose):
        raise TypeError(f"linear_call expects two functions (fun, fun_transpose); got "
                        f"{type(fun).__name__} and {type(fun_transpose).__name__}.")
    res_leaves, res_tree = tree_flatten(residual_args)
    lin_leaves, lin_tree = tree_flatten(linear_args)
    out_box = []
    outs = linear_call_p.bind(*res_leaves, *lin_leaves, fun=fun, transpose=fun_transpose,
                              res_tree=res_tree, lin_tree=lin_tree, out_box=out_box)
    return tree_unflatten(out_box[0], list(outs))
