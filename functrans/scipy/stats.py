"""functrans.scipy.stats: SciPy's normal distribution, differentiable to any order.

``import functrans.scipy.stats as fst``; ``fst.norm.logpdf(x, loc, scale)`` and so on. So far
only :data:`norm` (the univariate normal distribution), with the methods ``logpdf``, ``pdf``,
``cdf``, ``logcdf``, ``sf``, ``logsf``, ``ppf`` and ``isf``.

Conventions:

- SciPy's arguments ``(x, loc=0, scale=1)`` (``q`` for ``ppf`` and ``isf``): arrays,
  Python numbers or lists, broadcast together; real input only (integers and booleans are
  promoted, complex input is a TypeError). The result is float64 whatever the input's
  dtype, as SciPy gives it (float32 input is computed in float64 throughout, where SciPy
  standardizes ``(x - loc) / scale`` in float32 first: the results differ by that float32
  rounding). Python numbers alone give arrays of the default backend; otherwise the result
  is an array of the inputs' library, on their device.
- As SciPy: ``scale <= 0`` (or nan) gives nan; ``ppf``/``isf`` outside ``[0, 1]`` give nan.
- Differentiable in every argument (``x``, ``loc`` and ``scale``) under every transform;
  the tails are accurate as SciPy's (``logcdf`` through ``log_ndtr``, ``sf`` as
  ``ndtr(-z)``, ``ppf`` through ``ndtri``), so ``norm.logcdf(-40)`` is about -804.6 and
  ``norm.sf(37)`` is 5.7e-300, not 0 (``sf(40)`` = 3.6e-350 underflows float64, as in SciPy;
  ``logsf(40)`` is -804.6).
- No frozen distributions (``norm(loc, scale)``) and none of the moments, ``rvs``, ``fit``,
  ``entropy``... methods.
"""

from __future__ import annotations

import math

from .. import dtypes as _dt
from .. import numpy as fnp
from ..numpy._base import _dtype
from ..numpy._reshaping import _convs
from ..primitives import structural as _st
from . import special as _special

__all__ = ["norm"]

_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def _float64(args, name):
    """The operands as float64 arrays (Python numbers and lists next to the first array
    operand, on its library and device; all of the default backend if there is none), not
    broadcast: the functions of functrans.numpy broadcast them."""
    for a in args:
        if type(a) is complex:
            raise TypeError(f"{name}: complex input is not supported (real only)")
    out = []
    for a in _convs(args):
        d = _dtype(a)
        if d.kind == "c":
            raise TypeError(f"{name}: complex input ({d.name}) is not supported; the "
                            f"distributions are defined for real input only")
        out.append(a if d is _dt.float64 else _st.convert_element_type(a, _dt.float64))
    return out


def _standardize(x, loc, scale, name):
    """``z = (x - loc) / scale`` with the scale replaced by 1 where it is not positive (those
    entries are nan in the end), the validity mask and the (safe) scale."""
    x, loc, scale = _float64((x, loc, scale), name)
    ok = scale > 0.0  # (False for nan)
    s = fnp.where(ok, scale, 1.0)
    # (fnp's functions, not operators, between the operands: one of them may be a plain
    # array of a library whose operators refuse tracers, array-api-strict's)
    z = fnp.divide(fnp.subtract(x, loc), s)
    return z, ok, s


def _valid(ok, out):
    return fnp.where(ok, out, math.nan)


class _Norm:
    """The normal distribution with mean ``loc`` and standard deviation ``scale``, as
    ``scipy.stats.norm`` (its methods below, each with SciPy's arguments)."""

    name = "norm"

    def __repr__(self):
        return "functrans.scipy.stats.norm"

    def logpdf(self, x, loc=0, scale=1):
        """The log of the normal density at ``x``:
        ``-((x - loc) / scale)**2 / 2 - log(scale) - log(2 pi) / 2``."""
        z, ok, s = _standardize(x, loc, scale, "norm.logpdf")
        return _valid(ok, fnp.subtract(-0.5 * (z * z), fnp.log(s)) - _HALF_LOG_2PI)

    def pdf(self, x, loc=0, scale=1):
        """The normal density at ``x``: ``exp(-z**2 / 2) / (sqrt(2 pi) scale)``,
        ``z = (x - loc) / scale``."""
        z, ok, s = _standardize(x, loc, scale, "norm.pdf")
        return _valid(ok, fnp.divide(fnp.exp(-0.5 * (z * z)) * _INV_SQRT_2PI, s))

    def cdf(self, x, loc=0, scale=1):
        """The cumulative distribution function ``ndtr((x - loc) / scale)`` (relative
        accuracy in the lower tail)."""
        z, ok, _ = _standardize(x, loc, scale, "norm.cdf")
        return _valid(ok, _special.ndtr(z))

    def logcdf(self, x, loc=0, scale=1):
        """The log of the CDF, ``log_ndtr((x - loc) / scale)``: finite far in the lower tail
        (``logcdf(-40)`` is about -804.6)."""
        z, ok, _ = _standardize(x, loc, scale, "norm.logcdf")
        return _valid(ok, _special.log_ndtr(z))

    def sf(self, x, loc=0, scale=1):
        """The survival function ``1 - cdf``, computed as ``ndtr(-z)`` (relative accuracy in
        the upper tail: ``sf(30)`` is 4.9e-198, not 0)."""
        z, ok, _ = _standardize(x, loc, scale, "norm.sf")
        return _valid(ok, _special.ndtr(-z))

    def logsf(self, x, loc=0, scale=1):
        """The log of the survival function, ``log_ndtr(-(x - loc) / scale)`` (finite far in
        the upper tail)."""
        z, ok, _ = _standardize(x, loc, scale, "norm.logsf")
        return _valid(ok, _special.log_ndtr(-z))

    def ppf(self, q, loc=0, scale=1):
        """The quantile function (inverse of ``cdf``): ``loc + scale * ndtri(q)`` for ``q``
        in [0, 1] (``-inf`` at 0, ``inf`` at 1, nan outside)."""
        q, loc, scale = _float64((q, loc, scale), "norm.ppf")
        ok = scale > 0.0
        s = fnp.where(ok, scale, 1.0)
        return _valid(ok, fnp.add(fnp.multiply(_special.ndtri(q), s), loc))

    def isf(self, q, loc=0, scale=1):
        """The inverse of the survival function: ``loc - scale * ndtri(q)`` (accurate for
        small ``q``: ``isf(1e-300)`` is 37.05)."""
        q, loc, scale = _float64((q, loc, scale), "norm.isf")
        ok = scale > 0.0
        s = fnp.where(ok, scale, 1.0)
        return _valid(ok, fnp.add(fnp.multiply(-_special.ndtri(q), s), loc))


norm = _Norm()
