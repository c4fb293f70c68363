"""autograd's ``autograd.misc.fixed_points``: :func:`fixed_point`, a fixed-point iteration
differentiated by the implicit function theorem instead of through its iterations."""

from ... import lax as _lax, numpy as fnp
from ...api import jvp as _jvp, vjp as _vjp
from ...core import Tracer
from ...errors import UnexpectedTracerError
from ...interpreters import JVPTracer
from ...tree import tree_flatten, tree_map
from ..extend import defjvp, defvjp, primitive

__all__ = ["fixed_point"]


def _tree_add(x, y):
    return tree_map(fnp.add, x, y)  # not ``+``: a plain array may meet a tracer


def _zeros_like(x):
    return tree_map(fnp.zeros_like, x)


@primitive
def fixed_point(f, a, x0, distance, tol):
    """The fixed point ``x = f(a)(x)``, found by iterating ``x = f(a)(x)`` from ``x0``
    until ``distance(x, x_previous)`` is no longer above ``tol``.

    Only ``a`` is differentiated (``x0``'s derivative is zero, and ``f``, ``distance`` and
    ``tol`` are constants). The derivative comes from the implicit function theorem at the
    fixed point ``x*``: reverse mode solves ``w = g + (df(a)/dx)^T w`` for the cotangent
    ``g`` of ``x*`` by the same kind of iteration (started at zero, stopped by ``distance``
    and ``tol``) and gives ``(df(a)(x*)/da)^T w``; forward mode solves ``t = (df(a)(x*)/da) da
    + (df(a)/dx) t`` likewise. Neither differentiates the iterations, and both are
    themselves fixed points, so higher derivatives work. ``a`` and ``x`` may be pytrees of
    arrays (``distance`` then takes two such pytrees).

    Differences from autograd: forward mode (``make_jvp``, ``deriv``, ``hessian``) is
    supported too (autograd has only a reverse-mode rule). On plain values (also under
    ``grad``, ``jvp`` ...) the loop is Python's; under ``vmap`` and ``jit`` (so in
    ``jacobian`` and ``hessian``, which use ``vmap``) it is a :func:`functrans.lax.while_loop`,
    which needs ``f(a)`` to keep ``x``'s shape and dtype and ``distance`` to give one value
    per member (each member of a batch iterates until its own distance is small enough).
    ``f`` must not close over a value being differentiated: pass such values in ``a`` (a
    tuple is fine), as the rule only gives the derivative with respect to ``a``.
    """
    step = f(a)
    try:
        x = step(x0)
    except UnexpectedTracerError as e:  # a differentiated value f closes over, met here
        raise _closure_error(f) from e
    if any(type(leaf) is JVPTracer for leaf in tree_flatten(x)[0]):
        # The body sees a and x0 without their derivatives: a derivative in the iterate
        # came through what f closes over, which the rules do not know about.
        raise _closure_error(f)
    if not any(isinstance(leaf, Tracer) for leaf in tree_flatten((a, x0, x))[0]):
        x_prev = x0  # plain values: Python's loop, as autograd's
        while distance(x, x_prev) > tol:
            x_prev, x = x, step(x)
        return x
    # Under vmap or jit (the values are their tracers): the same loop as a lax.while_loop,
    # which runs each member of a batch to its own convergence. Its carry keeps one shape
    # and dtype, so x0 is first cast to those of the first iterate.
    x_prev = tree_map(lambda x0_, x_: fnp.add(fnp.zeros_like(x_), x0_), x0, x)

    def not_converged(carry):
        return distance(carry[1], carry[0]) > tol

    def iterate(carry):
        return carry[1], step(carry[1])
    return _lax.while_loop(not_converged, iterate, (x_prev, x))[1]


def _apply(f):
    """``f(a)(x)`` as a function of both: its partial derivatives are taken with ``a`` and
    ``x`` both traced (a plain array of some libraries, array-api-strict's, refuses a tracer
    as its operator's right operand, as in ``x + a / x``)."""
    return lambda a, x: f(a)(x)


def _closure_error(f):
    return TypeError(
        f"fixed_point: f(a)(x) depends on a value being differentiated that is not a: "
        f"{getattr(f, '__name__', 'f')} closes over it. The derivative of the fixed point "
        f"is taken with respect to a only; pass that value inside a (a tuple such as "
        f"(a, c) is fine, f then unpacks it).")


def _adjoint_step(f):
    """For ``params = (a, x*, g)``: the map ``w -> g + (df(a)/dx at x*)^T w``, whose fixed
    point is the cotangent of the iteration."""
    def step(params):
        a, x_star, g = params
        _, pullback = _vjp(_apply(f), a, x_star)
        return lambda w: _tree_add(pullback(w)[1], g)
    return step


def _tangent_step(f):
    """For ``params = (a, x*, u)``: the map ``t -> u + (df(a)/dx at x*) t``, whose fixed
    point is the tangent of the solution (``u``: the tangent of ``f(a)(x*)`` due to ``a``)."""
    def step(params):
        a, x_star, u = params
        return lambda t: _tree_add(
            _jvp(_apply(f), (a, x_star), (_zeros_like(a), t))[1], u)
    return step


def _fixed_point_vjp(ans, f, a, x0, distance, tol):
    _, pullback_a = _vjp(_apply(f), a, ans)

    def vjp(g):
        w = fixed_point(_adjoint_step(f), (a, ans, g), _zeros_like(ans), distance, tol)
        return pullback_a(w)[0]
    return vjp


def _fixed_point_jvp(g, ans, f, a, x0, distance, tol):
    _, u = _jvp(_apply(f), (a, ans), (g, _zeros_like(ans)))
    return fixed_point(_tangent_step(f), (a, ans, u), _zeros_like(ans), distance, tol)


defvjp(fixed_point, None, _fixed_point_vjp, None)
defjvp(fixed_point, None, _fixed_point_jvp, None)
