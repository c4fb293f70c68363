"""autograd's ``autograd.misc.optimizers``: gradient descent with momentum (``sgd``),
``rmsprop`` and ``adam``, with autograd's signatures and update rules.

Each takes ``grad(params, iteration)`` (the gradient at ``params``; the iteration number lets
it pick a minibatch), a starting point ``x0`` that may be any pytree of arrays (it is
flattened with :func:`functrans.autograd.misc.flatten`, and so is each gradient), an optional
``callback(params, iteration, gradient)`` called before each step, and returns the final
parameters with ``x0``'s structure. The arithmetic is ``functrans.numpy``'s, so the
optimizers run on any backend and can themselves be differentiated (with respect to
``x0`` or a step size closed over in ``grad``).
"""

import functools

from ... import numpy as fnp
from .flatten import flatten

__all__ = ["sgd", "rmsprop", "adam"]


def _on_pytrees(optimize):
    """An optimizer of flat 1-d arrays as one of pytrees: flattens ``x0`` and every gradient,
    unflattens what the callback sees and the result."""
    @functools.wraps(optimize)
    def tree_optimize(grad, x0, callback=None, *args, **kwargs):
        flat0, unflatten = flatten(x0)

        def flat_grad(x, i):
            return flatten(grad(unflatten(x), i))[0]
        def flat_callback(x, i, g):
            return callback(unflatten(x), i, unflatten(g))
        return unflatten(optimize(flat_grad, flat0, flat_callback if callback else None,
                                  *args, **kwargs))
    return tree_optimize


@_on_pytrees
def sgd(grad, x, callback=None, num_iters=200, step_size=0.1, mass=0.9):
    """Gradient descent with momentum: ``v = mass * v - (1 - mass) * g``, then
    ``x = x + step_size * v`` (``v`` starts at zero)."""
    velocity = fnp.zeros_like(x)
    for i in range(num_iters):
        g = grad(x, i)
        if callback:
            callback(x, i, g)
        velocity = mass * velocity - (1.0 - mass) * g
        x = x + step_size * velocity
    return x


@_on_pytrees
def rmsprop(grad, x, callback=None, num_iters=100, step_size=0.1, gamma=0.9, eps=10**-8):
    """RMSProp: a running average of squared gradients (starting at one) scales each step,
    ``x = x - step_size * g / (sqrt(avg) + eps)``."""
    avg_sq_grad = fnp.ones_like(x)
    for i in range(num_iters):
        g = grad(x, i)
        if callback:
            callback(x, i, g)
        avg_sq_grad = avg_sq_grad * gamma + g ** 2 * (1 - gamma)
        x = x - step_size * g / (fnp.sqrt(avg_sq_grad) + eps)
    return x


@_on_pytrees
def adam(grad, x, callback=None, num_iters=100, step_size=0.001, b1=0.9, b2=0.999, eps=10**-8):
    """Adam (Kingma and Ba, 2014): bias-corrected running averages of the gradient and of its
    square, ``x = x - step_size * mhat / (sqrt(vhat) + eps)``."""
    m = fnp.zeros_like(x)
    v = fnp.zeros_like(x)
    for i in range(num_iters):
        g = grad(x, i)
        if callback:
            callback(x, i, g)
        m = (1 - b1) * g + b1 * m
        v = (1 - b2) * (g ** 2) + b2 * v
        mhat = m / (1 - b1 ** (i + 1))
        vhat = v / (1 - b2 ** (i + 1))
        x = x - step_size * mhat / (fnp.sqrt(vhat) + eps)
    return x
