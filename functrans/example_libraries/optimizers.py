"""``functrans.example_libraries.optimizers``: ``jax.example_libraries.optimizers`` for
functrans, on every backend.

An optimizer is a triple of functions ``(init_fun, update_fun, get_params)``:

- ``init_fun(params)``: the initial optimizer state (an :class:`OptimizerState`) of a pytree
  of parameters;
- ``update_fun(step, grads, opt_state)``: the state after one step, ``grads`` a pytree of
  the structure of the parameters and ``step`` the step index (a Python int, or an integer
  array, as ``functrans.lax.fori_loop`` and ``scan`` give it);
- ``get_params(opt_state)``: the parameters, so that ``get_params(init_fun(params))`` is
  ``params``.

The state is a pytree, so it goes through :func:`functrans.jit`, is the carry of
:func:`functrans.lax.scan` and ``fori_loop``, and can be differentiated through::

    import functrans as ft
    import functrans.numpy as fnp
    from functrans.example_libraries import optimizers

    opt_init, opt_update, get_params = optimizers.adam(0.1)
    state = opt_init({"w": fnp.ones(3)})
    loss = lambda p: fnp.sum(p["w"] ** 2)

    def step(i, state):
        return opt_update(i, ft.grad(loss)(get_params(state)), state)

    state = ft.lax.fori_loop(0, 100, step, state)

The update rules and their defaults are JAX's (``sgd``, ``momentum``, ``nesterov``,
``adagrad``, ``rmsprop``, ``rmsprop_momentum``, ``adam``, ``adamax``, ``sm3``); the step size
is a number or a schedule ``step -> step size`` (``constant``, ``exponential_decay``,
``inverse_time_decay``, ``polynomial_decay``, ``piecewise_constant``). The parameters' arrays
keep their library, device and dtype: every array an update makes is made from them (a
schedule's float64 value multiplies float32 parameters as float32).

Differences from JAX: ``sm3``'s per-leaf state is ``(x, m, vs)``, without JAX's fourth entry
(the parameter's shape, which JAX keeps as integer leaves to undo the ``atleast_1d`` it
applies to a 0-d parameter; here a 0-d parameter keeps one 0-d accumulator); a schedule
given a Python int step returns a Python number (JAX: an array).
"""

from __future__ import annotations

import functools
import math
import numbers
import warnings
from collections import namedtuple
from collections.abc import Callable
from typing import Any, NamedTuple

from .. import numpy as fnp
from .. import tree as _tree

__all__ = ["OptimizerState", "Optimizer", "optimizer", "sgd", "momentum", "nesterov",
           "adagrad", "rmsprop", "rmsprop_momentum", "adam", "adamax", "sm3", "constant",
           "exponential_decay", "inverse_time_decay", "polynomial_decay",
           "piecewise_constant", "make_schedule", "l2_norm", "clip_grads", "JoinPoint",
           "unpack_optimizer_state", "pack_optimizer_state", "Array", "Params", "State",
           "Updates", "InitFn", "Step", "UpdateFn", "ParamsFn", "Schedule"]

# The state of a pytree of parameters: the flattened per-leaf states (a tuple with one list
# of arrays per parameter leaf; the only children), the parameters' tree structure and the
# tree structure of each leaf's state (static).
OptimizerState = namedtuple("OptimizerState", ["packed_state", "tree_def", "subtree_defs"])
OptimizerState.__doc__ = """An optimizer's state: ``packed_state`` (per parameter leaf, the
leaves of its state), ``tree_def`` (the parameters' structure) and ``subtree_defs`` (each
leaf's state's structure). A pytree whose only leaves are the arrays of ``packed_state``."""
with warnings.catch_warnings():
    # (optree warns that a namedtuple is a pytree already: this registration replaces that
    # one, keeping the two structures static)
    warnings.simplefilter("ignore", UserWarning)
    _tree.register_pytree_node(
        OptimizerState,
        lambda s: ((s.packed_state,), (s.tree_def, s.subtree_defs)),
        lambda aux, children: OptimizerState(children[0], aux[0], aux[1]))

Array = Any
Params = Any  # a pytree of arrays
State = Any  # one parameter leaf's state
Updates = Params  # gradients: the structure of the parameters
InitFn = Callable[[Params], OptimizerState]
Step = int
UpdateFn = Callable[[Step, Updates, OptimizerState], OptimizerState]
ParamsFn = Callable[[OptimizerState], Params]
Schedule = Callable[[Step], float]


class Optimizer(NamedTuple):
    """An optimizer: ``(init_fn, update_fn, params_fn)``, unpacked as
    ``init_fun, update_fun, get_params``."""

    init_fn: InitFn
    update_fn: UpdateFn
    params_fn: ParamsFn


def optimizer(opt_maker):
    """Decorator: ``opt_maker(*args)`` returns ``(init, update, get_params)`` for one array;
    the decorated maker returns an :class:`Optimizer` whose functions take pytrees of
    parameters (and gradients), applying those to each leaf and keeping the leaves' states
    in an :class:`OptimizerState`.

    ``update`` must return a state of the structure ``init`` made (a TypeError otherwise);
    ``update_fun`` takes gradients of the parameters' structure only (a TypeError
    otherwise).
    """

    @functools.wraps(opt_maker)
    def tree_opt_maker(*args, **kwargs):
        init, update, get_params = opt_maker(*args, **kwargs)

        @functools.wraps(init)
        def tree_init(x0_tree):
            x0_flat, tree = _tree.flatten(x0_tree)
            flat = [_tree.flatten(init(x0)) for x0 in x0_flat]
            return OptimizerState(tuple(leaves for leaves, _ in flat), tree,
                                  tuple(sub for _, sub in flat))

        @functools.wraps(update)
        def tree_update(i, grad_tree, opt_state):
            states_flat, tree, subtrees = opt_state
            grad_flat, grad_tree_def = _tree.flatten(grad_tree)
            if grad_tree_def != tree:
                raise TypeError(f"optimizer update_fun: the gradients' tree structure "
                                f"{grad_tree_def} is not that of the parameters the state "
                                f"was initialised with, {tree}")
            new_flat = []
            for g, leaves, sub in zip(grad_flat, states_flat, subtrees):
                new_leaves, new_sub = _tree.flatten(update(i, g, _tree.unflatten(sub,
                                                                                 leaves)))
                if new_sub != sub:
                    raise TypeError(f"optimizer update: returned a state of structure "
                                    f"{new_sub}, not that of the state it was given, {sub}")
                new_flat.append(new_leaves)
            return OptimizerState(tuple(new_flat), tree, subtrees)

        @functools.wraps(get_params)
        def tree_get_params(opt_state):
            states_flat, tree, subtrees = opt_state
            return _tree.unflatten(tree, [get_params(_tree.unflatten(sub, leaves))
                                          for leaves, sub in zip(states_flat, subtrees)])

        return Optimizer(tree_init, tree_update, tree_get_params)

    return tree_opt_maker


# -- helpers --------------------------------------------------------------------------------

# functrans.numpy's functions, not operators, between two arrays: one may be a plain array of
# a library whose operators refuse tracers (array-api-strict's), the other traced
_add, _sub, _mul, _div = fnp.add, fnp.subtract, fnp.multiply, fnp.divide


def _is_number(v):
    return isinstance(v, numbers.Number) and not hasattr(v, "shape")


def _number_or_array(v):
    """A NumPy scalar as the Python number it holds (a weak scalar beside any library's
    arrays, as a Python number is); anything else as it is."""
    return v.item() if isinstance(v, numbers.Number) and hasattr(v, "item") else v


def _param(x0):
    """A parameter leaf as an array: a Python (or NumPy) number becomes a 0-d array of the
    default backend; arrays are kept, whatever their library."""
    return fnp.asarray(x0) if isinstance(x0, numbers.Number) else x0


def _in_dtype_of(v, like):
    """``v`` (a step size, a clipping factor) in ``like``'s floating dtype when it is an
    array, so that a float64 schedule value does not turn float32 parameters into float64;
    Python numbers are left to promote weakly."""
    v = _number_or_array(v)
    if _is_number(v) or not hasattr(like, "dtype"):
        return v
    if fnp.isdtype(like.dtype, ("real floating", "complex floating")) and v.dtype != like.dtype:
        return fnp.astype(v, like.dtype)
    return v


def _step_size(schedule, i, like):
    return _in_dtype_of(schedule(_number_or_array(i)), like)


def _bias_correction(b, i, like):
    """``1 - b ** (i + 1)`` in ``like``'s dtype (``i`` a Python int or an integer array)."""
    b = _number_or_array(b)
    i = _number_or_array(i)
    if _is_number(i):
        return 1 - _in_dtype_of(b, like) ** (i + 1)
    return 1 - fnp.power(_in_dtype_of(b, like), fnp.astype(i + 1, like.dtype))


def _inverse_sqrt_where_positive(a):
    """``1 / sqrt(a)`` where ``a > 0``, else 0 (the unselected branch never sees a 0, so no
    inf reaches a derivative)."""
    positive = a > 0
    return fnp.where(positive, 1.0 / fnp.sqrt(fnp.where(positive, a, 1.0)), 0.0)


# -- optimizers -----------------------------------------------------------------------------


def _first(state):
    return state[0]


@optimizer
def sgd(step_size):
    """Stochastic gradient descent: ``x <- x - step_size(i) * g``.

    Args:
        step_size: a positive number, or a schedule mapping the step index to one.

    Returns:
        An ``(init_fun, update_fun, get_params)`` triple.
    """
    step_size = make_schedule(step_size)

    def init(x0):
        return _param(x0)

    def update(i, g, x):
        return _sub(x, _mul(_step_size(step_size, i, x), g))

    def get_params(x):
        return x

    return Optimizer(init, update, get_params)


@optimizer
def momentum(step_size, mass):
    """Gradient descent with momentum: ``v <- mass * v + g``, ``x <- x - step_size(i) * v``.

    Args:
        step_size: a positive number, or a schedule mapping the step index to one.
        mass: the momentum coefficient.

    Returns:
        An ``(init_fun, update_fun, get_params)`` triple.
    """
    step_size = make_schedule(step_size)

    def init(x0):
        x0 = _param(x0)
        return x0, fnp.zeros_like(x0)

    def update(i, g, state):
        x, velocity = state
        velocity = _add(_mul(mass, velocity), g)
        return _sub(x, _mul(_step_size(step_size, i, x), velocity)), velocity

    return init, update, _first


@optimizer
def nesterov(step_size, mass):
    """Gradient descent with Nesterov momentum: ``v <- mass * v + g``,
    ``x <- x - step_size(i) * (mass * v + g)``.

    Args:
        step_size: a positive number, or a schedule mapping the step index to one.
        mass: the momentum coefficient.

    Returns:
        An ``(init_fun, update_fun, get_params)`` triple.
    """
    step_size = make_schedule(step_size)

    def init(x0):
        x0 = _param(x0)
        return x0, fnp.zeros_like(x0)

    def update(i, g, state):
        x, velocity = state
        velocity = _add(_mul(mass, velocity), g)
        step = _add(_mul(mass, velocity), g)
        return _sub(x, _mul(_step_size(step_size, i, x), step)), velocity

    return init, update, _first


@optimizer
def adagrad(step_size, momentum=0.9):
    """Adagrad (Duchi, Hazan and Singer, 2011) with momentum: ``G <- G + g**2``,
    ``m <- (1 - momentum) * g / sqrt(G) + momentum * m`` (``g / sqrt(G)`` taken as 0 where
    ``G`` is 0), ``x <- x - step_size(i) * m``.

    Args:
        step_size: a positive number, or a schedule mapping the step index to one.
        momentum: the momentum coefficient.

    Returns:
        An ``(init_fun, update_fun, get_params)`` triple.
    """
    step_size = make_schedule(step_size)

    def init(x0):
        x0 = _param(x0)
        return x0, fnp.zeros_like(x0), fnp.zeros_like(x0)

    def update(i, g, state):
        x, g_sq, m = state
        g_sq = _add(g_sq, fnp.square(g))
        m = _add(_mul(1.0 - momentum, _mul(g, _inverse_sqrt_where_positive(g_sq))),
                 _mul(momentum, m))
        return _sub(x, _mul(_step_size(step_size, i, x), m)), g_sq, m

    return init, update, _first


@optimizer
def rmsprop(step_size, gamma=0.9, eps=1e-8):
    """RMSProp: ``a <- gamma * a + (1 - gamma) * g**2``,
    ``x <- x - step_size(i) * g / sqrt(a + eps)``.

    Args:
        step_size: a positive number, or a schedule mapping the step index to one.
        gamma: the decay of the average of the squared gradients.
        eps: added to that average under the square root.

    Returns:
        An ``(init_fun, update_fun, get_params)`` triple.
    """
    step_size = make_schedule(step_size)

    def init(x0):
        x0 = _param(x0)
        return x0, fnp.zeros_like(x0)

    def update(i, g, state):
        x, avg_sq_grad = state
        avg_sq_grad = _add(_mul(avg_sq_grad, gamma), _mul(fnp.square(g), 1.0 - gamma))
        step = _div(_mul(_step_size(step_size, i, x), g), fnp.sqrt(_add(avg_sq_grad, eps)))
        return _sub(x, step), avg_sq_grad

    return init, update, _first


@optimizer
def rmsprop_momentum(step_size, gamma=0.9, eps=1e-8, momentum=0.9):
    """RMSProp with momentum: ``a <- gamma * a + (1 - gamma) * g**2``,
    ``m <- momentum * m + step_size(i) * g / sqrt(a + eps)``, ``x <- x - m``.

    Args:
        step_size: a positive number, or a schedule mapping the step index to one.
        gamma: the decay of the average of the squared gradients.
        eps: added to that average under the square root.
        momentum: the momentum coefficient.

    Returns:
        An ``(init_fun, update_fun, get_params)`` triple.
    """
    step_size = make_schedule(step_size)

    def init(x0):
        x0 = _param(x0)
        return x0, fnp.zeros_like(x0), fnp.zeros_like(x0)

    def update(i, g, state):
        x, avg_sq_grad, mom = state
        avg_sq_grad = _add(_mul(avg_sq_grad, gamma), _mul(fnp.square(g), 1.0 - gamma))
        step = _div(_mul(_step_size(step_size, i, x), g), fnp.sqrt(_add(avg_sq_grad, eps)))
        mom = _add(_mul(momentum, mom), step)
        return _sub(x, mom), avg_sq_grad, mom

    return init, update, _first


@optimizer
def adam(step_size, b1=0.9, b2=0.999, eps=1e-8):
    """Adam (Kingma and Ba, 2015): ``m <- (1 - b1) * g + b1 * m``,
    ``v <- (1 - b2) * g**2 + b2 * v``, ``x <- x - step_size(i) * mhat / (sqrt(vhat) + eps)``
    with the bias corrections ``mhat = m / (1 - b1**(i + 1))``, ``vhat = v / (1 - b2**(i + 1))``.

    Args:
        step_size: a positive number, or a schedule mapping the step index to one.
        b1: the decay of the first moment estimate.
        b2: the decay of the second moment estimate.
        eps: added to ``sqrt(vhat)``.

    Returns:
        An ``(init_fun, update_fun, get_params)`` triple.
    """
    step_size = make_schedule(step_size)

    def init(x0):
        x0 = _param(x0)
        return x0, fnp.zeros_like(x0), fnp.zeros_like(x0)

    def update(i, g, state):
        x, m, v = state
        m = _add(_mul(1 - b1, g), _mul(b1, m))
        v = _add(_mul(1 - b2, fnp.square(g)), _mul(b2, v))
        mhat = _div(m, _bias_correction(b1, i, m))
        vhat = _div(v, _bias_correction(b2, i, m))
        step = _div(_mul(_step_size(step_size, i, x), mhat), _add(fnp.sqrt(vhat), eps))
        return _sub(x, step), m, v

    return init, update, _first


@optimizer
def adamax(step_size, b1=0.9, b2=0.999, eps=1e-8):
    """AdaMax (Adam with the infinity norm): ``m <- (1 - b1) * g + b1 * m``,
    ``u <- max(b2 * u, |g|)``, ``x <- x - step_size(i) / (1 - b1**(i + 1)) * m / (u + eps)``.

    Args:
        step_size: a positive number, or a schedule mapping the step index to one.
        b1: the decay of the first moment estimate.
        b2: the decay of the infinity norm.
        eps: added to ``u``.

    Returns:
        An ``(init_fun, update_fun, get_params)`` triple.
    """
    step_size = make_schedule(step_size)

    def init(x0):
        x0 = _param(x0)
        return x0, fnp.zeros_like(x0), fnp.zeros_like(x0)

    def update(i, g, state):
        x, m, u = state
        m = _add(_mul(1 - b1, g), _mul(b1, m))
        u = fnp.maximum(_mul(b2, u), fnp.abs(g))
        lr, correction = _step_size(step_size, i, x), _bias_correction(b1, i, m)
        # two Python numbers divided as numbers (a weak scalar): fnp.divide made them a
        # float64 array, which turned float32, float16 and bfloat16 parameters into float64
        lr = lr / correction if _is_number(lr) and _is_number(correction) else _div(
            lr, correction)
        return _sub(x, _div(_mul(lr, m), _add(u, eps))), m, u

    return init, update, _first


@optimizer
def sm3(step_size, momentum=0.9):
    """SM3 (Anil, Gupta, Koren and Singer, 2019, "Memory-efficient adaptive optimization"):
    Adagrad whose accumulator of squared gradients is covered by one vector per axis (the
    accumulator of an entry is the least of its axes' vectors plus ``g**2``; each vector
    then keeps the largest accumulator along it), with momentum as :func:`adagrad`'s. A 0-d
    parameter has one 0-d accumulator (Adagrad).

    Args:
        step_size: a positive number, or a schedule mapping the step index to one.
        momentum: the momentum coefficient.

    Returns:
        An ``(init_fun, update_fun, get_params)`` triple.
    """
    step_size = make_schedule(step_size)

    def init(x0):
        x0 = _param(x0)
        ndim = len(x0.shape)
        sizes = tuple(x0.shape) if ndim else ((),)
        vs = [fnp.zeros(n, dtype=x0.dtype, like=x0) for n in sizes]
        return x0, fnp.zeros_like(x0), vs

    def update(i, g, state):
        x, m, vs = state
        ndim = len(x.shape)
        if ndim == 0:
            accum = _add(vs[0], fnp.square(g))
            new_vs = [accum]
        else:
            # each axis's vector, broadcast along the other axes
            covers = [fnp.reshape(v, tuple(-1 if k == j else 1 for k in range(ndim)))
                      for j, v in enumerate(vs)]
            accum = _add(functools.reduce(fnp.minimum, covers), fnp.square(g))
            new_vs = [fnp.max(accum, axis=tuple(k for k in range(ndim) if k != j))
                      for j in range(ndim)]
        m = _add(_mul(1.0 - momentum, _mul(g, _inverse_sqrt_where_positive(accum))),
                 _mul(momentum, m))
        return _sub(x, _mul(_step_size(step_size, i, x), m)), m, new_vs

    return init, update, _first


# -- step-size schedules -----------------------------------------------------------------------


def constant(step_size) -> Schedule:
    """The schedule ``i -> step_size``."""
    def schedule(i):
        return step_size
    return schedule


def exponential_decay(step_size, decay_steps, decay_rate) -> Schedule:
    """The schedule ``i -> step_size * decay_rate ** (i / decay_steps)``."""
    def schedule(i):
        return step_size * decay_rate ** (i / decay_steps)
    return schedule


def inverse_time_decay(step_size, decay_steps, decay_rate, staircase=False) -> Schedule:
    """The schedule ``i -> step_size / (1 + decay_rate * i / decay_steps)``; with
    ``staircase=True``, ``i / decay_steps`` rounded down."""
    def schedule(i):
        t = i / decay_steps
        if staircase:
            t = math.floor(t) if _is_number(t) else fnp.floor(t)
        return step_size / (1 + decay_rate * t)
    return schedule


def polynomial_decay(step_size, decay_steps, final_step_size, power=1.0) -> Schedule:
    """The schedule from ``step_size`` at step 0 to ``final_step_size`` at ``decay_steps``
    and after: ``(step_size - final_step_size) * (1 - i / decay_steps) ** power +
    final_step_size``."""
    def schedule(i):
        i = min(i, decay_steps) if _is_number(i) else fnp.minimum(i, decay_steps)
        return (1 - i / decay_steps) ** power * (step_size - final_step_size) + final_step_size
    return schedule


def _numbers(seq, name):
    """The entries of a 1-d sequence (list, tuple or array of any library) as Python
    numbers."""
    if hasattr(seq, "shape"):
        if len(seq.shape) != 1:
            raise ValueError(f"piecewise_constant: {name} must be a 1-d sequence; got an "
                             f"array of shape {tuple(seq.shape)}")
        from ..backends import backend_of
        seq = backend_of(seq).to_numpy(seq).tolist()
    try:
        out = [_number_or_array(v) for v in seq]
    except TypeError:
        raise ValueError(f"piecewise_constant: {name} must be a sequence of numbers; got "
                         f"{seq!r}") from None
    if not all(_is_number(v) for v in out):
        raise ValueError(f"piecewise_constant: {name} must be a sequence of numbers; got "
                         f"{seq!r}")
    return out


def piecewise_constant(boundaries, values) -> Schedule:
    """The schedule that is ``values[k]`` where ``k`` is the number of ``boundaries`` below
    the step (``values[0]`` up to ``boundaries[0]`` included, ``values[1]`` after it...).
    ``values`` has one entry more than ``boundaries``."""
    boundaries = _numbers(boundaries, "boundaries")
    values = _numbers(values, "values")
    if len(boundaries) != len(values) - 1:
        raise ValueError(f"piecewise_constant: values must have one entry more than "
                         f"boundaries; got {len(values)} values for {len(boundaries)} "
                         f"boundaries")
    dtype = fnp.float64 if any(isinstance(v, float) for v in values) else fnp.int64

    def schedule(i):
        if _is_number(i):
            return values[sum(i > b for b in boundaries)]
        count = sum(fnp.astype(fnp.greater(i, b), fnp.int64) for b in boundaries)
        out = fnp.full_like(i, values[0], dtype=dtype)
        for k, v in enumerate(values[1:], 1):
            out = fnp.where(count == k, fnp.full_like(out, v), out)
        return out
    return schedule


def make_schedule(scalar_or_schedule) -> Schedule:
    """A schedule as it is; a number (or 0-d array) as the :func:`constant` schedule."""
    if callable(scalar_or_schedule):
        return scalar_or_schedule
    if fnp.ndim(scalar_or_schedule) == 0:
        return constant(scalar_or_schedule)
    raise TypeError(f"a step size is a number or a schedule (a function of the step index); "
                    f"got {type(scalar_or_schedule).__name__} of shape "
                    f"{tuple(fnp.shape(scalar_or_schedule))}")


# -- utilities ----------------------------------------------------------------------------------


def l2_norm(tree):
    """The l2 norm of a pytree of arrays: the square root of the sum of the squared moduli
    of all their entries (0.0 for a tree without leaves)."""
    leaves = _tree.leaves(tree)
    if not leaves:
        return fnp.sqrt(fnp.asarray(0.0))
    squares = []
    for x in leaves:
        s = fnp.vdot(x, x)
        squares.append(fnp.real(s) if fnp.iscomplexobj(s) else s)
    return fnp.sqrt(functools.reduce(_add, squares))


def clip_grads(grad_tree, max_norm):
    """The gradients scaled by ``max_norm / l2_norm(grad_tree)`` if their norm is above
    ``max_norm``, as they are otherwise; each leaf keeps its dtype."""
    factor = max_norm / fnp.maximum(l2_norm(grad_tree), max_norm)
    return _tree.map(lambda g: _mul(g, _in_dtype_of(factor, g)), grad_tree)


# -- serialisation ------------------------------------------------------------------------------


class JoinPoint:
    """A leaf of :func:`unpack_optimizer_state`'s tree holding one parameter leaf's state
    (``subtree``)."""

    def __init__(self, subtree):
        self.subtree = subtree

    def __iter__(self):
        yield self.subtree

    def __repr__(self):
        return f"JoinPoint({self.subtree!r})"


def unpack_optimizer_state(opt_state):
    """The state as a pytree of the parameters' structure whose leaves are
    :class:`JoinPoint`\\ s holding each parameter leaf's state (for serialisation;
    :func:`pack_optimizer_state` undoes it)."""
    states_flat, tree_def, subtree_defs = opt_state
    return _tree.unflatten(tree_def, [JoinPoint(_tree.unflatten(sub, leaves))
                                      for leaves, sub in zip(states_flat, subtree_defs)])


def pack_optimizer_state(marked_pytree):
    """The :class:`OptimizerState` of a tree from :func:`unpack_optimizer_state`."""
    joins, tree_def = _tree.flatten(marked_pytree)
    for j in joins:
        if not isinstance(j, JoinPoint):
            raise TypeError(f"pack_optimizer_state takes the tree unpack_optimizer_state "
                            f"returns, whose leaves are JoinPoints; got a leaf "
                            f"{type(j).__name__}")
    flat = [_tree.flatten(j.subtree) for j in joins]
    return OptimizerState(tuple(leaves for leaves, _ in flat), tree_def,
                          tuple(sub for _, sub in flat))
