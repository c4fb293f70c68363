"""``functrans.ode``: ``odeint`` with the signature of ``jax.experimental.ode.odeint``.

    from functrans.ode import odeint
    ys = odeint(func, y0, t, *args, rtol=1.4e-8, atol=1.4e-8)

It shares its solver with :func:`functrans.scipy.integrate.odeint` (adaptive Dormand-Prince
5(4), written with ``functrans.lax`` loops; reverse mode by the adjoint method).
"""

from __future__ import annotations

import math

from .scipy.integrate import _odeint

__all__ = ["odeint"]


def odeint(func, y0, t, *args, rtol=1.4e-8, atol=1.4e-8, mxstep=math.inf, hmax=math.inf):
    """Integrate ``dy/dt = func(y, t, *args)`` from the pytree ``y0`` at ``t[0]``; the states at
    the times ``t``, each leaf of ``y0`` with ``len(t)`` first (``jax.experimental.ode.odeint``).

    The adaptive Dormand-Prince 5(4) solver of :func:`functrans.scipy.integrate.odeint` (its
    docstring says more): local error control in the root mean square over every leaf, a
    quartic interpolant at the output times, ``functrans.lax`` loops (``jit`` and ``vmap``
    apply), and reverse mode by the adjoint method, differentiable in ``y0``, ``t`` and the
    floating-point arrays among ``args`` (pytrees allowed). ``mxstep`` bounds the steps
    between two output times; ``hmax`` the step size.

    Differences from JAX: ``t`` may also decrease (JAX requires increasing times), and a time
    behind an earlier one gives nan; times not reached within ``mxstep`` steps (or where the
    step size underflows) and infinite times are nan; ``args`` leaves that are not arrays or numbers (strings,
    functions) reach ``func`` unchanged (JAX refuses them); forward
    mode (``jvp``) works (JAX raises), as the transpose of the adjoint map; each leaf keeps
    its own floating dtype (integers become float64) instead of one promoted dtype.
    """
    if not callable(func):
        raise TypeError("odeint: func must be a function.")
    for v in (mxstep, hmax):
        if not v > 0:
            raise ValueError(f"odeint: mxstep and hmax must be positive; got {v}.")
    return _odeint(func, y0, t, args, "odeint", rtol, atol,
                   None if mxstep == math.inf else int(mxstep),
                   None if hmax == math.inf else float(hmax), None)
