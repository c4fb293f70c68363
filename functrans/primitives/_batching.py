"""Helpers for batching rules (``vmap``).

A batching rule is ``rule(args, dims, **params) -> (out, out_dim)``: ``dims[i]`` is 0 when
operand ``i`` carries the batch (always as its leading axis) and ``None`` when it does not; at
least one operand is batched. The rule binds ordinary primitives on the larger arrays and
returns the result with its batch axis: 0, or ``None`` for a result that does not depend on
the batch (a list of those for primitives with several results). Because the batch axis always
leads, a rule only shifts the primitive's axis parameters by one.
"""

from __future__ import annotations

from ..core import _SCALAR_DTYPES, registry


def batch_size(args, dims):
    for a, d in zip(args, dims):
        if d is not None:
            return a.shape[0]
    raise ValueError("a batching rule was called with no batched operand")


def with_batch(x, d, size):
    """``x`` with a leading batch axis of ``size``: itself if it has one, else a broadcast
    (a view on NumPy). Python scalars stay scalars: they are weak constants."""
    if d is not None or type(x) in _SCALAR_DTYPES:
        return x
    shape = tuple(x.shape)
    # Through the registry: this module is imported by the primitive modules themselves.
    return registry["broadcast_in_dim"].bind(x, shape=(size,) + shape,
                                             dims=tuple(range(1, len(shape) + 1)))


def all_batched(args, dims):
    size = batch_size(args, dims)
    return [with_batch(a, d, size) for a, d in zip(args, dims)]


def leading_rule(prim):
    """For primitives indifferent to extra leading axes (elementwise ones, and those that act
    on the trailing axes, such as linear algebra on stacks of matrices): every operand gets
    the batch axis, and the primitive is bound unchanged."""
    def rule(args, dims, **params):
        if len(args) == 1 or (len(args) == 2 and (
                dims[0] is not None or type(args[0]) in _SCALAR_DTYPES) and (
                dims[1] is not None or type(args[1]) in _SCALAR_DTYPES)):
            # (the commonest: one operand, batched, or two that need no broadcast — batched
            # or Python scalars)
            out = prim.bind(*args, **params)
        else:
            out = prim.bind(*all_batched(args, dims), **params)
        return out, ([0] * len(out) if prim.multiple_results else 0)
    return rule


def shift(axes):
    """Axis parameters of the unbatched operand as axes of the batched one."""
    return tuple(a + 1 for a in axes)


def axes_rule(prim, name, many):
    """For one-operand primitives with an axis parameter ``name`` (a tuple of axes when
    ``many``, else one axis), given as non-negative axes of the operand."""
    def rule(args, dims, **params):
        ax = params[name]
        nd = len(args[0].shape) - 1 if dims[0] is not None else len(args[0].shape)
        params[name] = (tuple(a % nd + 1 for a in ax) if many
                        else (ax if ax is None else ax % max(nd, 1) + 1))
        out = prim.bind(*all_batched(args, dims), **params)
        return out, ([0] * len(out) if prim.multiple_results else 0)
    return rule


def unbatched_rule(prim):
    """For primitives whose result does not depend on the operands' values (iota, which
    reads only the device of its operand): one result, shared by the whole batch."""
    def rule(args, dims, **params):
        out = prim.bind(*args, **params)
        return out, ([None] * len(out) if prim.multiple_results else None)
    return rule


def not_batchable(prim, why, users=None):
    """A rule that refuses: ``users`` names the user-level operations that reach ``prim``
    (the primitive's own name means little to someone who wrote ``x[x > 0]``)."""
    what = f"{prim.name!r} ({users})" if users else repr(prim.name)

    def rule(args, dims, **params):
        from ..errors import BatchingError
        raise BatchingError(f"vmap cannot batch {what}: {why}")
    return rule

