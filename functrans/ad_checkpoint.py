"""``functrans.ad_checkpoint``: ``jax.ad_checkpoint``'s names — ``checkpoint`` (``remat``),
``checkpoint_name``, ``checkpoint_policies``, and ``saved_residuals`` /
``print_saved_residuals`` to see what a backward pass keeps from its forward pass.

``checkpoint_name(x, name)`` labels a value for the name-based policies
(``save_only_these_names``, ``save_any_names_but_these``...): inside a function given to
``checkpoint(f, policy=...)``, a labelled value the policy saves is kept from the forward
pass instead of being recomputed by the backward pass. The label changes no value or
derivative, and outside ``checkpoint`` it has no effect at all.
"""

from __future__ import annotations

from . import checkpoint_policies  # noqa: F401
from .checkpointing import _static, name_p
from .toplevel import checkpoint
from .tree import tree_map

remat = checkpoint

__all__ = ["checkpoint", "remat", "checkpoint_name", "checkpoint_policies", "saved_residuals",
           "print_saved_residuals"]


def checkpoint_name(x, name):
    """``x`` (any pytree of arrays), labelled ``name`` for the name-based policies of
    :mod:`functrans.checkpoint_policies`; the same values (leaves that are not arrays, such
    as Python numbers, are returned as they are).

    Example:
        >>> from functrans.ad_checkpoint import checkpoint_name
        >>> def f(x):
        ...     h = checkpoint_name(fnp.sin(x), "h")  # kept by the policy below
        ...     return fnp.sum(fnp.exp(h))
        >>> policy = ft.checkpoint_policies.save_only_these_names("h")
        >>> ft.grad(ft.checkpoint(f, policy=policy))(fnp.asarray([0.0, 1.0]))
        array([1.        , 1.25338077])
    """
    if not isinstance(name, str):
        raise TypeError(f"checkpoint_name: name must be a string; got {name!r}")
    return tree_map(lambda leaf: leaf if _static(leaf) else name_p.bind(leaf, name=name), x)


def _argument_names(f, args, kwargs):
    """One name per leaf of ``(args, kwargs)``: the parameter's name (from ``f``'s
    signature where it has one, else ``args[i]``) followed by the leaf's path in it."""
    import inspect
    from .tree import keystr, tree_flatten_with_path
    try:
        params = list(inspect.signature(f).parameters.values())
    except (TypeError, ValueError):
        params = []
    positional = [p.name for p in params
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    star = next((p.name for p in params if p.kind is p.VAR_POSITIONAL), None)
    names = []
    for i, a in enumerate(args):
        if i < len(positional):
            base = positional[i]
        elif star is not None:
            base = f"{star}[{i - len(positional)}]"
        else:
            base = f"args[{i}]"
        names += [base + keystr(path) for path, _ in tree_flatten_with_path(a)[0]]
    for k, v in kwargs.items():
        names += [k + keystr(path) for path, _ in tree_flatten_with_path(v)[0]]
    return names


def saved_residuals(f, *args, **kwargs):
    """What reverse mode keeps from the forward pass of ``f(*args, **kwargs)`` for its
    backward pass (``jax.ad_checkpoint.saved_residuals``): a list of
    ``(ShapedArray, description)``, one per residual array (an array read twice listed
    once; arguments first, then the forward pass's values in program order), the
    description saying where
    it comes from — ``"from the argument W"`` (a path such as ``params['w']`` for a
    pytree argument), ``"from a constant"`` (an array ``f`` closes over), ``"named 'h'"``
    (a value labelled with :func:`checkpoint_name`) or ``"output of exp"`` (an operation
    of the forward pass, ``"output 1 of sin_cos"`` for one of several outputs; functrans
    records no source lines).

    Zeros made for the cotangents of integer arguments, or of arguments the result does not
    depend on, are not listed (JAX's are symbolic zeros).

    Use it to see what a :func:`checkpoint` policy saves: under ``checkpoint(f)`` only
    the arguments are kept, under a policy also what it saves. The residuals are
    functrans's own, so they can differ from JAX's list for the same function (for
    example, the transposed copy of a matrix argument that a ``matmul``'s backward pass
    reads, where JAX keeps the argument itself).

    Example:
        >>> from functrans.ad_checkpoint import saved_residuals
        >>> def f(w, x):
        ...     return fnp.sum(fnp.sin(w * x))
        >>> [d for _, d in saved_residuals(f, fnp.ones(3), fnp.ones(3))]
        ['from the argument w', 'from the argument x', 'output 1 of sin_cos']
        >>> [d for _, d in saved_residuals(ft.checkpoint(f), fnp.ones(3), fnp.ones(3))]
        ['from the argument w', 'from the argument x']
    """
    from .core import ShapedArray
    from .jaxpr import Literal, make_jaxpr
    from .toplevel import fwd_and_bwd
    from .tree import tree_flatten, tree_unflatten

    leaves, tree = tree_flatten((args, kwargs))
    names = _argument_names(f, args, kwargs)
    if len(names) != len(leaves):
        names = [f"at flattened index {i}" for i in range(len(leaves))]

    def flat(*xs):
        a, kw = tree_unflatten(tree, list(xs))
        return f(*a, **kw)

    if not leaves:
        return []
    fwd, _ = fwd_and_bwd(flat, argnums=tuple(range(len(leaves))), jitted=False)
    closed = make_jaxpr(lambda *xs: fwd(*xs)[1])(*leaves)
    jaxpr = closed.jaxpr
    order, named, used, zeros = {}, {}, set(), set()
    for k, eqn in enumerate(jaxpr.eqns):
        used.update(v for v in eqn.invars if type(v) is not Literal)
        if eqn.primitive.name == "full_like" and eqn.params.get("fill_value") == 0:
            zeros.update(eqn.outvars)
        many = len(eqn.outvars) > 1
        for j, v in enumerate(eqn.outvars):
            order[v] = (3, k, f"output {j} of {eqn.primitive.name}" if many
                        else f"output of {eqn.primitive.name}")
        if eqn.primitive.name == "name":  # the labelled value and its label share a name
            named[eqn.invars[0]] = named[eqn.outvars[0]] = eqn.params["name"]
    for i, v in enumerate(jaxpr.constvars):
        order[v] = (1, i, None)
    for i, v in enumerate(jaxpr.invars):
        order[v] = (2, i, None)
    # JAX's order: literals, constants, arguments, then the forward pass's operations in
    # program order; an array read twice by the backward pass is listed once
    literals = [v for v in jaxpr.outvars if type(v) is Literal]
    # zeros made only to be handed to the backward pass (the cotangents of integer arguments
    # and of arguments the result does not depend on) hold nothing of the forward pass: JAX's
    # symbolic zeros, not listed
    seen = {}
    for v in jaxpr.outvars:
        if type(v) is not Literal and not (v in zeros and v not in used):
            seen.setdefault(v, order.get(v, (1, -1, None)))
    results = [(ShapedArray(tuple(v.aval.shape), v.aval.dtype), "from a literal")
               for v in literals]
    for v, (kind, i, prim) in sorted(seen.items(), key=lambda item: item[1][:2]):
        if kind == 2:
            src = f"from the argument {names[i]}"
        elif v in named:
            src = f"named {named[v]!r}"
        elif kind == 1:
            src = "from a constant"
        else:
            src = prim
        results.append((ShapedArray(tuple(v.aval.shape), v.aval.dtype), src))
    return results


def print_saved_residuals(f, *args, **kwargs):
    """Print :func:`saved_residuals` of ``f(*args, **kwargs)``, one residual a line
    (``f64[3] output of cos``), as ``jax.ad_checkpoint.print_saved_residuals``.

    Example:
        >>> from functrans.ad_checkpoint import print_saved_residuals
        >>> print_saved_residuals(lambda x: fnp.sum(fnp.exp(x)), fnp.ones(2))
        f64[2] output of exp
    """
    for aval, src in saved_residuals(f, *args, **kwargs):
        print(f"{aval.str_short()} {src}")
