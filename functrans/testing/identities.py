"""Identities every correct set of derivatives satisfies, as functions to call inside your own
(property-based) tests. Each computes both sides with functrans at concrete arguments and
raises :class:`IdentityError` (an AssertionError) naming the identity, the leaf and the
size of the disagreement.

Both sides come from automatic differentiation, so the default tolerances are tight (1e-8
for float64, 1e-4 for float32, relative to the largest magnitude compared); pass ``atol`` /
``rtol`` to change them. Random directions are drawn with ``seed`` in the inputs' own
library and device.

Example:
    >>> import functrans.numpy as fnp
    >>> from functrans.testing import check_jacfwd_jacrev
    >>> check_jacfwd_jacrev(lambda x: fnp.sin(x) * x, (fnp.asarray([0.5, 1.0]),))
"""

from __future__ import annotations

import unittest

import numpy as np

from .. import api
from . import _util as U

__all__ = ["IdentityError", "check_jvp_linear", "check_jvp_vjp_adjoint", "check_jacfwd_jacrev",
           "check_hessian_symmetric", "check_grad_jacrev", "check_hessian_consistent",
           "check_linearize_jvp", "check_vmap_loop"]


class IdentityError(AssertionError):
    """Two computations that must agree for correct derivatives did not."""


# -- helpers ---------------------------------------------------------------------------------------


def _args(args, who):
    if not isinstance(args, (tuple, list)):
        raise TypeError(f"{who}(f, args): args must be a tuple of arguments; got "
                        f"{type(args).__name__}. For one argument write (x,).")
    paths, xs, tree = U.flatten_with_paths(tuple(args))
    return paths, xs, tree


def _assert_trees_close(check, a, b, name_a, name_b, atol, rtol, describe=None, extra=()):
    """Raise IdentityError unless pytrees ``a`` and ``b`` agree leaf by leaf."""
    pa, la, ta = U.flatten_with_paths(a)
    pb, lb, tb = U.flatten_with_paths(b)
    if ta != tb:
        raise IdentityError(f"{check}: {name_a} has tree structure {ta} but {name_b} has {tb}.")
    for p, x, y in zip(pa, la, lb):
        where = describe(p) if describe else ("result" + (f" at path {U.format_path(p)}"
                                                           if p else ""))
        sx, sy = tuple(x.shape), tuple(y.shape)
        if sx != sy:
            raise IdentityError(f"{check}: at {where}, {name_a} has shape {sx} but {name_b} "
                                f"has shape {sy}.")
        kx, ky = U.dtype_of(x).kind, U.dtype_of(y).kind
        if not (kx in "fc" and ky in "fc"):
            # integer and boolean results must agree exactly
            if U.size(x) and not bool(U.xp_of(x).all(x == y)):
                raise IdentityError("\n  ".join([
                    f"{check}: {name_a} and {name_b} disagree at {where} "
                    f"({U.describe_shape(x)})", *extra,
                    f"{name_a}: {U.show(x)}", f"{name_b}: {U.show(y)}"]))
            continue
        dname = U.least_precise(U.dtype_of(x), U.dtype_of(y))
        at, rt = U.ad_tolerances(dname, atol, rtol)
        err, rel = U.errors(x, y)
        scale = max(U.max_abs(x), U.max_abs(y))
        if not U.within(err, at, rt, scale):
            lines = [f"{check}: {name_a} and {name_b} disagree at {where} "
                     f"({U.describe_shape(x)})",
                     *extra,
                     f"max abs error {err:.3e}, max rel error {rel:.3e} (allowed: atol {at:g} "
                     f"+ rtol {rt:g} * {scale:.3e})",
                     f"{name_a}: {U.show(x)}",
                     f"{name_b}: {U.show(y)}"]
            raise IdentityError("\n  ".join(lines))


def _inexact(x):
    return U.dtype_of(x).kind in "fc"


def _directions(rng, xs):
    # (integer leaves carry no derivative: zero tangents, as jvp takes them)
    return [U.random_like(rng, x) if _inexact(x) else U.zeros_like(x) for x in xs]


def _arg_desc(path):
    i, rest = path[0], path[1:]
    return f"argument {i}" + (f" at path {U.format_path(rest)}" if rest else "")


def _check_scalar(f, args, who):
    out = U.as_concrete(f(*args))
    if tuple(out.shape) != () or not U.is_real_float(out):
        raise ValueError(f"{who} needs a function with a real scalar output; "
                         f"{U.fun_name(f)} returned {U.describe_shape(out)}.")
    return out

# -- forward mode ----------------------------------------------------------------------------------


def check_jvp_linear(f, args, atol=None, rtol=None, *, seed=0):
    """The JVP is linear in the tangent: ``jvp(a t1 + b t2) == a jvp(t1) + b jvp(t2)``.

    Example:
        >>> check_jvp_linear(lambda x: fnp.exp(x) * x, (fnp.asarray([0.1, 0.2]),))
    """
    paths, xs, tree = _args(args, "check_jvp_linear")
    rng = np.random.default_rng(seed)
    t1, t2 = _directions(rng, xs), _directions(rng, xs)
    a, b = float(rng.uniform(0.5, 2.0)), float(rng.uniform(-2.0, -0.5))
    mix = [a * p + b * q if _inexact(x) else p for x, p, q in zip(xs, t1, t2)]
    primals = tuple(U.unflatten(tree, xs))

    def jv(ts):
        return api.jvp(f, primals, tuple(U.unflatten(tree, ts)))[1]
    j1, j2, j12 = jv(t1), jv(t2), jv(mix)
    l1, otree = U.flatten(j1)
    l2, _ = U.flatten(j2)
    combo = U.unflatten(otree, [a * U.as_concrete(p) + b * U.as_concrete(q)
                                if _inexact(U.as_concrete(p)) else p
                                for p, q in zip(l1, l2)])
    _assert_trees_close("check_jvp_linear (the JVP must be linear in the tangent)",
                        j12, combo, "jvp(f, x, a t1 + b t2)", "a jvp(f, x, t1) + b jvp(f, x, t2)",
                        atol, rtol, extra=[f"a = {a:.6g}, b = {b:.6g}; t1, t2 standard normal "
                                           f"(seed {seed})"])


def check_linearize_jvp(f, args, atol=None, rtol=None, *, seed=0):
    """``linearize`` agrees with ``jvp``: same primal output as ``f``, and its linear function
    gives the JVP's tangent output.

    Example:
        >>> check_linearize_jvp(fnp.sin, (fnp.asarray([0.1, 0.2]),))
    """
    paths, xs, tree = _args(args, "check_linearize_jvp")
    rng = np.random.default_rng(seed)
    primals = tuple(U.unflatten(tree, xs))
    ts = tuple(U.unflatten(tree, _directions(rng, xs)))
    y, f_lin = api.linearize(f, *primals)
    y_jvp, t_jvp = api.jvp(f, primals, ts)
    _assert_trees_close("check_linearize_jvp", y, f(*primals), "linearize's primal output",
                        "f(*args)", atol, rtol)
    _assert_trees_close("check_linearize_jvp", f_lin(*ts), t_jvp,
                        "linearize's f_jvp(*t)", "jvp(f, args, t)[1]", atol, rtol,
                        extra=[f"t standard normal (seed {seed})"])


def check_jvp_vjp_adjoint(f, args, atol=None, rtol=None, *, seed=0):
    """The VJP is the transpose of the JVP: ``<u, J v> == <J^T u, v>`` for random ``u``,
    ``v`` (summed over all input and output leaves). For complex leaves the pairing is
    ``Re(sum(a * b))`` (no conjugate), the one under which JAX's (and functrans's) VJP of a
    complex function is the transpose of its JVP: a conjugated VJP rule is caught.

    Example:
        >>> check_jvp_vjp_adjoint(lambda x, y: x * fnp.exp(y), (1.0, 0.5))
    """
    paths, xs, tree = _args(args, "check_jvp_vjp_adjoint")
    rng = np.random.default_rng(seed)
    primals = tuple(U.unflatten(tree, xs))
    vs = _directions(rng, xs)
    y, jv = api.jvp(f, primals, tuple(U.unflatten(tree, vs)))
    opaths, ys, otree = U.flatten_with_paths(y)
    jvs = [U.as_concrete(t) for t in otree.flatten_up_to(jv)]
    us = [U.random_like(rng, o) if _inexact(o) else U.zeros_like(o) for o in ys]
    _, pull = api.vjp(f, *primals)
    vjps = [U.as_concrete(c) for c in tree.flatten_up_to(tuple(pull(U.unflatten(otree, us))))]
    lhs = rhs = scale = 0.0
    for u, t, o in zip(us, jvs, ys):
        if _inexact(o):
            lhs += U.vdot(u, t)
            scale += U.abs_dot(u, t)
    rscale = 0.0
    for c, v, x in zip(vjps, vs, xs):
        if _inexact(x):
            rhs += U.vdot(c, v)
            rscale += U.abs_dot(c, v)
    scale = max(scale, rscale)
    dname = U.least_precise(*(U.dtype_of(x) for x in list(xs) + list(ys) if _inexact(x)))
    at, rt = U.ad_tolerances(dname, atol, rtol)
    if not U.within(abs(lhs - rhs), at, rt, scale):
        raise IdentityError(
            f"check_jvp_vjp_adjoint: <u, J v> (J v by jvp) = {lhs!r} but <J^T u, v> (J^T u by "
            f"vjp) = {rhs!r}: abs error {abs(lhs - rhs):.3e} (allowed: atol {at:g} + rtol "
            f"{rt:g} * {scale:.3e}); u, v standard normal on every output and input leaf "
            f"(seed {seed}). Use functrans.testing.check_vjp to find the argument and output.")

# -- Jacobians and Hessians -------------------------------------------------------------------------


def check_jacfwd_jacrev(f, args, argnums=0, atol=None, rtol=None):
    """Forward- and reverse-mode Jacobians agree: ``jacfwd(f) == jacrev(f)``.

    Example:
        >>> check_jacfwd_jacrev(lambda x: fnp.tanh(x) * 2.0, (fnp.asarray([0.1, 0.2]),))
    """
    _args(args, "check_jacfwd_jacrev")
    jf = api.jacfwd(f, argnums)(*args)
    jr = api.jacrev(f, argnums)(*args)
    _assert_trees_close(f"check_jacfwd_jacrev (argnums={argnums})", jf, jr, "jacfwd(f)",
                        "jacrev(f)", atol, rtol)


def check_grad_jacrev(f, args, argnums=0, atol=None, rtol=None):
    """For scalar ``f``, the gradient is the (one-row) reverse-mode Jacobian:
    ``grad(f) == jacrev(f)``; also checks it against ``jacfwd(f)`` (real inputs only: jacfwd of
    complex inputs needs a holomorphic function).

    Example:
        >>> check_grad_jacrev(lambda x: fnp.sum(fnp.sin(x)), (fnp.asarray([0.1, 0.2]),))
    """
    _args(args, "check_grad_jacrev")
    _check_scalar(f, args, "check_grad_jacrev")
    g = api.grad(f, argnums)(*args)
    _assert_trees_close(f"check_grad_jacrev (argnums={argnums})", g,
                        api.jacrev(f, argnums)(*args), "grad(f)", "jacrev(f)", atol, rtol)
    # jacfwd of complex inputs needs holomorphic=True (as in JAX), which a real-valued f is
    # not: the forward-mode comparison is for real inputs only.
    from ..core import get_aval
    if all(get_aval(x).dtype.kind != "c" for x in _diff_leaves(args, argnums)[1]):
        _assert_trees_close(f"check_grad_jacrev (argnums={argnums})", g,
                            api.jacfwd(f, argnums)(*args), "grad(f)", "jacfwd(f)", atol, rtol)


def _diff_leaves(args, argnums):
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    paths, xs, _ = U.flatten_with_paths(tuple(args[i] for i in nums))
    return [(nums[p[0]],) + tuple(p[1:]) for p in paths], xs


def check_hessian_symmetric(f, args, argnums=0, atol=None, rtol=None):
    """The Hessian of a scalar function is symmetric: block ``(i, j)`` (second derivative
    with respect to input leaves ``i`` and ``j``) is the transpose of block ``(j, i)``.

    Example:
        >>> check_hessian_symmetric(lambda x: fnp.sum(fnp.exp(x) * x), (fnp.asarray([0.1, 0.2]),))
    """
    _args(args, "check_hessian_symmetric")
    _check_scalar(f, args, "check_hessian_symmetric")
    h = api.hessian(f, argnums)(*args)
    paths, xs = _diff_leaves(args, argnums)
    _, blocks, _ = U.flatten_with_paths(h)
    n = len(xs)
    if len(blocks) != n * n:
        raise IdentityError(f"check_hessian_symmetric: the Hessian has {len(blocks)} blocks; "
                            f"{n} differentiated leaves need {n * n}.")
    for i in range(n):
        for j in range(i, n):
            hij, hji = blocks[i * n + j], blocks[j * n + i]
            ni, nj = len(xs[i].shape), len(xs[j].shape)
            xp = U.xp_of(hji)
            hji_t = xp.permute_dims(hji, tuple(range(nj, nj + ni)) + tuple(range(nj)))
            name_i, name_j = _arg_desc(paths[i]), _arg_desc(paths[j])
            _assert_trees_close(
                "check_hessian_symmetric", hij, hji_t,
                f"d2f/d({name_i})d({name_j})", f"d2f/d({name_j})d({name_i}) transposed",
                atol, rtol, describe=lambda p: f"block ({name_i}, {name_j})")


def check_hessian_consistent(f, args, argnums=0, atol=None, rtol=None):
    """Three ways to the Hessian agree: ``hessian(f) == jacfwd(grad(f)) == jacrev(grad(f))``
    (forward-over-reverse and reverse-over-reverse).

    Example:
        >>> check_hessian_consistent(lambda x: fnp.sum(fnp.sin(x) ** 2), (fnp.asarray([0.1, 0.2]),))
    """
    _args(args, "check_hessian_consistent")
    _check_scalar(f, args, "check_hessian_consistent")
    h = api.hessian(f, argnums)(*args)
    g = api.grad(f, argnums)
    _assert_trees_close("check_hessian_consistent", h, api.jacfwd(g, argnums)(*args),
                        "hessian(f)", "jacfwd(grad(f))", atol, rtol)
    _assert_trees_close("check_hessian_consistent", h, api.jacrev(g, argnums)(*args),
                        "hessian(f)", "jacrev(grad(f))", atol, rtol)

# -- vmap ---------------------------------------------------------------------------------------------


def check_vmap_loop(f, args, in_axes=0, atol=None, rtol=None):
    """``vmap(f, in_axes)(*args)`` agrees with calling ``f`` on each slice and stacking the
    results along axis 0. Skips (``unittest.SkipTest``, which pytest reports as a skip) while
    ``functrans.vmap`` does not exist (older versions).

    ``in_axes`` is an int or None for every argument, or a tuple with one int/None per
    argument (applied to every leaf of that argument).
    """
    import functrans
    vmap = getattr(functrans, "vmap", None)
    if vmap is None:
        raise unittest.SkipTest("check_vmap_loop: functrans.vmap does not exist yet, so there "
                                "is nothing to compare the loop with.")
    args = tuple(args)
    axes = in_axes if isinstance(in_axes, (tuple, list)) else (in_axes,) * len(args)
    if len(axes) != len(args):
        raise ValueError(f"check_vmap_loop: in_axes {in_axes!r} has {len(axes)} entries for "
                         f"{len(args)} arguments.")
    sizes = set()
    for a, ax in zip(args, axes):
        if ax is not None:
            for x in U.flatten(a)[0]:
                sizes.add(tuple(x.shape)[ax])
    if len(sizes) != 1:
        raise ValueError(f"check_vmap_loop: the mapped axes have sizes {sorted(sizes)}; they "
                         f"must all be equal (and at least one argument must be mapped).")
    (n,) = sizes

    def take(x, ax, k):
        x = U.as_concrete(x)
        return x[(slice(None),) * (ax % len(x.shape)) + (k, ...)]
    outs = []
    for k in range(n):
        ak = [a if ax is None else U.unflatten(U.flatten(a)[1], [take(x, ax, k)
                                                                for x in U.flatten(a)[0]])
              for a, ax in zip(args, axes)]
        outs.append(f(*ak))
    leaves0, otree = U.flatten(outs[0])
    stacked = []
    for j in range(len(leaves0)):
        col = [U.as_concrete(U.flatten(o)[0][j]) for o in outs]
        stacked.append(U.xp_of(col[0]).stack(col, axis=0))
    _assert_trees_close(f"check_vmap_loop (in_axes={in_axes!r})",
                        vmap(f, in_axes=in_axes)(*args), U.unflatten(otree, stacked),
                        "vmap(f)", "a loop over f", atol, rtol)
