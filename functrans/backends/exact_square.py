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


# the float64 bits kept by the NumPy split: all but the low 27 of the 52 stored ones, so that
# hi has 26 significant bits (hi^2 exact) and x - hi is exact
_HIGH_BITS = np.int64(-(1 << 27))
_max = np.maximum.reduce   # (ndarray.max's Python wrapper costs a third of it on 1000 entries)


def exp_c_square_numpy(x, c, scale=1.0, plain_below=0.0):
    """:func:`exp_c_square` for a float64 NumPy array of at least one dimension, in place on
    its temporaries. ``hi`` here is ``x`` with the low 27 bits of its significand cleared (one
    bitwise pass; ``hi^2`` exact, ``x - hi`` exact), and ``|x|`` is clamped at 64 only where
    some element reaches it (or is nan): 13 passes over the array and a maximum, against 4
    for the rounded ``scale * exp(c * x * x)``.

    ``plain_below``: where every ``|x|`` is below it (read on the host: one maximum), the
    rounded form ``scale * exp(c * fl(x^2))``, ``|c| plain_below^2 / 2`` ulp off at most (the
    common inputs of a density or a slope, at the cost of that maximum)."""
    p = x * x
    top = _max(p, axis=None) if p.size else 0.0   # (nan where some x is nan)
    if top < plain_below * plain_below:
        p *= c
        np.exp(p, out=p)
        if scale != 1.0:
            p *= scale
        return p
    if not top < 4096.0:   # (|x| >= 64 or nan: the split of a huge x would overflow)
        x = np.clip(x, -64.0, 64.0)
        p = x * x
    hi = (x.view(np.int64) & _HIGH_BITS).view(np.float64)
    err = hi * hi
    err -= p
    lo = x - hi
    hi += x
    hi *= lo
    err += hi
    p *= c
    np.exp(p, out=p)
    err *= c * scale
    err += scale
    err *= p
    return err
