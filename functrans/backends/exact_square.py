"""``scale * exp(c x^2)`` in float64 without the rounding of ``x^2``.

The rounded square ``p = fl(x^2)`` is ``eps x^2 / 2`` off, and ``exp(c p)`` is then
``|c| eps x^2 / 2`` relative off: 500 ulp near ``x = 26`` for ``exp(-x^2)``. Here ``x^2 = p +
err`` with ``err`` exact (``x = hi + lo``, ``hi`` the float32 rounding of ``x``: ``hi^2`` is
exact in float64, and ``x^2 - hi^2 = lo (x + hi)`` is ``2^-23 x^2`` at most, its own rounding
far below an ulp of the result), and ``exp(c x^2) = exp(c p) (1 + c err)``. ``|x|`` is clamped
at 64, from where ``exp(c x^2)`` is 0 or inf anyway for ``|c| >= 1/2`` (the float32 rounding
stays finite; nan stays nan). Used by the density ``exp_sq`` and the tails of erfc and ndtr.
"""

from __future__ import annotations

import numpy as np


def exp_c_square(xp, x, c, scale=1.0):
    """``scale * exp(c x^2)`` for a float64 array ``x`` of namespace ``xp``."""
    xs = xp.minimum(xp.abs(x), 64.0)
    p = xs * xs
    hi = xp.astype(xp.astype(xs, xp.float32), xp.float64)
    lo = xs - hi
    err = (hi * hi - p) + lo * (xs + hi)
    return xp.exp(p * c) * (err * (c * scale) + scale)


def exp_c_square_numpy(x, c, scale=1.0):
    """:func:`exp_c_square` for a float64 NumPy array of at least one dimension, in place on
    its temporaries (its 16 passes over 1000 elements cost about three times the rounded
    ``scale * exp(c * x * x)``)."""
    xs = np.abs(x)
    np.minimum(xs, 64.0, out=xs)
    hi = xs.astype(np.float32).astype(np.float64)
    p = xs * xs
    err = hi * hi
    err -= p
    lo = xs - hi
    xs += hi
    xs *= lo
    err += xs
    p *= c
    np.exp(p, out=p)
    err *= c * scale
    err += scale
    err *= p
    return err
