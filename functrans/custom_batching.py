"""``functrans.custom_batching``: functions with a user-defined ``vmap`` rule
(``jax.custom_batching``).

A :class:`custom_vmap` function is a primitive whose parameters carry the function and its
rule. Evaluated (or staged by ``jit``, where the call stays one equation) it is the function;
under ``vmap`` the rule replaces batching the function's own operations.
"""

from __future__ import annotations

import functools

from .custom import _resolve, _signature
from .primitives.custom_vmap import _name, custom_vmap_call_p
from .tree import tree_flatten, tree_map, tree_unflatten

__all__ = ["custom_vmap", "sequential_vmap"]

class custom_vmap:
    """A function with a user-defined ``vmap`` rule (``jax.custom_batching.custom_vmap``).

    ``@f.def_vmap`` registers ``rule(axis_size, in_batched, *args) -> (out, out_batched)``:
    ``in_batched`` holds one pytree of bools per argument (whether each array carries the
    batch, as its leading axis), ``out_batched`` is a pytree of bools of the outputs'
    structure, and a batched output leads with ``axis_size``. Under ``vmap`` the rule is
    called instead of batching ``f``'s operations; elsewhere ``f`` runs.

    Under ``jvp`` (forward mode) inside ``vmap`` the rule is differentiated, as in JAX. Under
    reverse mode (``grad``, ``vjp``) inside ``vmap`` the function's own operations are
    batched instead (functrans does not linearize the rule); results agree where the rule
    computes the batched function. ``f`` must not close over values being transformed (pass
    them as arguments). Keyword arguments are passed by position.

    Example:
        >>> @ft.custom_batching.custom_vmap
        ... def f(x):
        ...     return fnp.sin(x)
        >>> @f.def_vmap
        ... def f_vmap(axis_size, in_batched, x):
        ...     return fnp.sin(x), in_batched[0]
        >>> ft.vmap(f)(fnp.asarray([0.0, 0.0]))
        array([0., 0.])
    """

    def __init__(self, fun):
        functools.update_wrapper(self, fun)
        self.fun = fun
        self.vmap_rule = None
        self._sig = _signature(fun)

    def def_vmap(self, vmap_rule):
        """Register the vmap rule; returns it."""
        self.vmap_rule = vmap_rule
        return vmap_rule

    def __call__(self, *args, **kwargs):
        if self.vmap_rule is None:
            raise AttributeError(f"custom_vmap function {_name(self.fun)} has no vmap rule; "
                                 f"define one with @{_name(self.fun)}.def_vmap.")
        args = _resolve(self.fun, self._sig, args, kwargs, "custom_vmap function")
        leaves, in_tree = tree_flatten(args)
        out_box = []
        outs = custom_vmap_call_p.bind(*leaves, fun=self.fun, rule=self.vmap_rule,
                                       in_tree=in_tree, out_box=out_box)
        return tree_unflatten(out_box[0], list(outs))


def sequential_vmap(f):
    """``f`` as a :class:`custom_vmap` function whose vmap rule calls ``f`` once per batch
    member and stacks the results (``jax.custom_batching.sequential_vmap``): for functions
    whose operations cannot be batched (host callbacks) or should not be."""
    f = custom_vmap(f)

    @f.def_vmap
    def rule(axis_size, in_batched, *args):
        from . import numpy as fnp
        rows = [f.fun(*tree_map(lambda x, b: x[i, ...] if b else x, list(args), list(in_batched)))
                for i in range(axis_size)]
        out = tree_map(lambda *xs: fnp.stack(xs), *rows)
        return out, tree_map(lambda _: True, rows[0])
    return f
