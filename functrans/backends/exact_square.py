"""``scale * exp(c x^2)`` in float64 without the rounding of ``x^2``.

The rounded square ``p = fl(x^2)`` is ``eps x^2 / 2`` off, and ``exp(c p)`` is then
``|c| eps x^2 / 2`` relative off: 500 ulp near ``x = 26`` for ``exp(-x^2)``. Here ``x^2 = p +
err`` with ``err`` exact (``x = hi + lo``, ``hi`` the float32 rounding of ``x``: ``hi^2`` is
exact in float64, and ``x^2 - hi^2 = lo (x + hi)`` is ``2^-23 x^2`` at most, its own rounding
far below an ulp of the result), and ``exp(c x^2) = exp(c p) (1 + c err)``. ``|x|`` is clamped
at 64, from where ``exp(c x^2)`` is 0 or inf anyway for ``|c| >= 1/2`` (the float32 rounding
stays finite; nan stays nan). Used by the density ``exp_sq`` and the tails of erfc and ndtr.

Also here: ``erfcx`` on the middle band [0.7, 3.5] by one polynomial (``erfcx_middle``), which
the NumPy ndtr multiplies by ``exp(-x^2 / 2)`` with ``x^2`` exact (SciPy's erfc is up to 11 ulp
off there, and erfc of the rounded ``-x / sqrt(2)`` another ``z^2`` ulp).
"""

from __future__ import annotations

import struct

import numpy as np

from .numpy_errors import IGNORE as _ERR_IGNORE, STATE as _ERR_STATE


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


def exp_c_square_numpy(x, c, scale=1.0, plain_below=0.0, bounded=False):
    """:func:`exp_c_square` for a float64 NumPy array of at least one dimension, in place on
    its temporaries. ``hi`` here is ``x`` with the low 27 bits of its significand cleared (one
    bitwise pass; ``hi^2`` exact, ``x - hi`` exact), and ``|x|`` is clamped at 64 only where
    some element reaches it (or is nan): 13 passes over the array and a maximum, against 4
    for the rounded ``scale * exp(c * x * x)``.

    ``plain_below``: where every ``|x|`` is below it (read on the host: one maximum), the
    rounded form ``scale * exp(c * fl(x^2))``, ``|c| plain_below^2 / 2`` ulp off at most (the
    common inputs of a density or a slope, at the cost of that maximum).

    ``bounded``: the caller knows every ``|x|`` is below 64 and no element nan (no maximum
    taken; ``plain_below`` unused)."""
    if c > 0.0 and not bounded:   # (erfcx below 0, rare: clamped first, x * x of -1e300
        x = np.clip(x, -64.0, 64.0)   # overflowed with NumPy's warning; its value the same)
    if bounded or _ERR_STATE is None:
        p = x * x
    else:   # (x * x overflows from |x| = 1.3e154, silently: inf, clamped below; a clamp
        token = _ERR_STATE.set(_ERR_IGNORE)   # first cost every density a pass)
        p = x * x
        _ERR_STATE.reset(token)
    if not bounded:
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
    edge = None
    if c > 0.0:   # (erfcx below 0: where exp(p), or the product below, may overflow, Python
        edge = (p > _EXP_MAX - 1.0).nonzero()   # floats: inf without NumPy's warning,
        if len(edge[0]):                         # erfcx(-30); the same bits where finite)
            q = p[edge]
            p[edge] = 0.0
        else:
            edge = None
    np.exp(p, out=p)
    err *= c * scale
    err += scale
    if edge is not None:
        f = err[edge]
    err *= p
    if edge is not None:
        err[edge] = [a * (float(np.exp(b)) if not b > _EXP_MAX else np.inf)
                     for a, b in zip(f.tolist(), q.tolist())]
    return err


_DOUBLE = struct.Struct("<d")
_INT64 = struct.Struct("<q")


def exp_c_square_scalar(x, c, scale=1.0):
    """:func:`exp_c_square_numpy` of one Python float ``x`` (not nan), in Python floats with
    the same operations in the same order, and NumPy's exp: the same value as the array
    form's element (a NumPy scalar's ndtr/erfcx without the array path's ~20 calls of a
    microsecond each)."""
    p = x * x
    if not p < 4096.0:
        x = min(max(x, -64.0), 64.0)
        p = x * x
    hi = _DOUBLE.unpack(_INT64.pack(_INT64.unpack(_DOUBLE.pack(x))[0] & _HIGH_BITS_INT))[0]
    err = (hi * hi - p) + (hi + x) * (x - hi)
    q = p * c
    return (err * (c * scale) + scale) * (float(np.exp(q)) if not q > _EXP_MAX else np.inf)


# the largest argument whose exp is finite in float64 (exp of the next float overflows)
_EXP_MAX = 709.782712893384


_HIGH_BITS_INT = -(1 << 27)


# erfcx(z) on [0.7, 3.5] as a polynomial in t = z - 2 (exact from z = 1; below, t's rounding
# moves erfcx by under 0.4 ulp), highest power first: Chebyshev interpolation at 25 points of
# erfcx computed with mpmath at 60 digits (truncation 5e-18 relative), rounded to float64.
# Evaluated by Horner's rule: within 2 ulp on the band (0.1 % of points above 1; erfcx is
# entire, its slope over value between -0.83 and -0.25 there, so the rounding of z costs under
# half an ulp: unlike erfc's, ``z^2`` times).
ERFCX_MIDDLE = (0.7, 3.5)
_ERFCX_MIDDLE_COEFFS = (
    1.0519684182901892e-14,
    -7.559933867203841e-14,
    2.5369766469394833e-13,
    -8.778789776811918e-13,
    4.238734938211685e-12,
    -1.9668598190112785e-11,
    8.371474413724374e-11,
    -3.4985814723771363e-10,
    1.4476437522505832e-09,
    -5.875264029634272e-09,
    2.3340509731115872e-08,
    -9.073990978863576e-08,
    3.4485445935904615e-07,
    -1.279521615983278e-06,
    4.628175798709154e-06,
    -1.6293719258642308e-05,
    5.572831510923287e-05,
    -0.00018477836715961722,
    0.0005924699953578379,
    -0.0018316642757397366,
    0.005440738537469775,
    -0.015460637764290906,
    0.04180275260352664,
    -0.1067964618534896,
    0.25539567631050575,
)


def erfcx_middle(xp, z):
    """erfcx(z) for z in [0.7, 3.5] (an array of namespace ``xp``; elsewhere a polynomial's
    meaningless value), within 2 ulp."""
    t = z - 2.0
    s = t * _ERFCX_MIDDLE_COEFFS[0] + _ERFCX_MIDDLE_COEFFS[1]
    for c in _ERFCX_MIDDLE_COEFFS[2:]:
        s = s * t + c
    return s


def erfcx_middle_numpy(z):
    """:func:`erfcx_middle` for a float64 NumPy array, in place on its temporaries."""
    t = z - 2.0
    s = t * _ERFCX_MIDDLE_COEFFS[0]
    s += _ERFCX_MIDDLE_COEFFS[1]
    for c in _ERFCX_MIDDLE_COEFFS[2:]:
        s *= t
        s += c
    return s


def erfcx_middle_scalar(z):
    """:func:`erfcx_middle_numpy` of one Python float (the same operations, the same
    value)."""
    t = z - 2.0
    s = t * _ERFCX_MIDDLE_COEFFS[0] + _ERFCX_MIDDLE_COEFFS[1]
    for c in _ERFCX_MIDDLE_COEFFS[2:]:
        s = s * t + c
    return s
