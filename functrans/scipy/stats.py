"""functrans.scipy.stats: SciPy's distributions, differentiable to any order.

``import functrans.scipy.stats as fst``; ``fst.norm.logpdf(x, loc, scale)`` and so on:

- :data:`norm`: ``logpdf``, ``pdf``, ``cdf``, ``logcdf``, ``sf``, ``logsf``, ``ppf``, ``isf``;
- :data:`expon`, :data:`uniform`, :data:`laplace`, :data:`logistic`, :data:`cauchy`:
  ``logpdf``, ``pdf``, ``cdf``, ``logcdf``, ``sf``, ``logsf``, ``ppf`` (``loc``, ``scale``);
- :data:`t` (``df``), :data:`gamma` (``a``), :data:`beta` (``a``, ``b``), :data:`chi2`
  (``df``), :data:`f` (``dfn``, ``dfd``): ``logpdf``, ``pdf``, ``cdf``, ``sf``, ``ppf`` and
  ``isf`` (with ``loc`` and ``scale``; ``gamma`` also ``logcdf`` and ``logsf``), the CDFs
  through the incomplete gamma and beta functions of :mod:`functrans.scipy.special`, the
  quantiles through their inverses (``gammaincinv``, ``gammainccinv``, ``betaincinv``);
- :data:`multivariate_normal`: ``logpdf`` and ``pdf`` (``mean``, ``cov``);
- discrete: :data:`poisson` (``mu``), :data:`bernoulli` (``p``), :data:`binom` (``n``, ``p``),
  :data:`geom` (``p``): ``logpmf``, ``pmf``, ``cdf`` and ``sf`` (with ``loc``).

Conventions:

- SciPy's arguments (``x``, the shape parameters, ``loc=0``, ``scale=1``; ``q`` for
  ``ppf``/``isf``, ``k`` for the discrete ones): arrays, Python numbers or lists, broadcast
  together; real input only (integers and booleans are promoted, complex input is a
  TypeError). The result is float64 whatever the input's dtype, as SciPy gives it (float32
  input is computed in float64 throughout, where SciPy standardizes ``(x - loc) / scale`` in
  float32 first: the results differ by that float32 rounding). Python numbers alone give
  arrays of the default backend; otherwise the result is an array of the inputs' library,
  on their device.
- As SciPy: ``scale <= 0`` (or nan) and invalid shape parameters give nan; outside the
  support the density is 0 (``logpdf`` -inf), the CDF 0 or 1; ``ppf``/``isf`` outside
  ``[0, 1]`` give nan; the discrete masses are 0 (``logpmf`` -inf) off the integers of the
  support.
- Differentiable in every continuous argument (``x``, the shapes, ``loc``, ``scale``;
  ``mean`` and ``cov``; not the discrete ``k`` and ``n``: a derivative reaching ``binom``'s
  ``n`` in its cdf or sf raises NotImplementedError) under every transform; the CDFs and
  quantiles in the shape parameters to second order (``gamma``'s ``a`` and ``chi2``'s
  ``df`` through the incomplete gamma function's derivative in its shape, ``t``'s ``df``,
  ``beta``'s ``a`` and ``b``, ``f``'s ``dfn`` and ``dfd`` through the incomplete beta
  function's derivatives in its shapes; a third derivative there raises
  NotImplementedError), with zero
  (not nan) derivatives outside the support; the tails are accurate as SciPy's or more
  (``norm.logcdf(-40)`` is about -804.6 and ``norm.sf(37)`` is 5.7e-300, not 0; each method's
  docstring says where it differs from SciPy's formula).
- No frozen distributions (``norm(loc, scale)``) and none of the moments, ``rvs``, ``fit``,
  ``entropy``... methods; no ``ppf`` of the discrete distributions.
"""

from __future__ import annotations

import math

from .. import dtypes as _dt
from .. import numpy as fnp
from ..numpy._base import _dtype
from ..numpy._reshaping import _convs
from ..primitives import structural as _st
from . import linalg as _linalg
from . import special as _special

__all__ = ["norm", "multivariate_normal", "expon", "uniform", "laplace", "logistic",
           "cauchy", "t", "gamma", "beta", "chi2", "f", "poisson", "bernoulli", "binom",
           "geom"]

_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_LOG_2PI = math.log(2.0 * math.pi)
_LOG_PI = math.log(math.pi)
_LOG_2 = math.log(2.0)


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


# -- multivariate normal -------------------------------------------------------------------------


def _squeeze_all(out):
    """``out`` without its length-1 axes (SciPy squeezes the multivariate results)."""
    axes = tuple(i for i, n in enumerate(out.shape) if n == 1)
    return fnp.squeeze(out, axis=axes) if axes else out


class _MultivariateNormal:
    """The multivariate normal distribution with mean vector ``mean`` and covariance matrix
    ``cov``, as ``scipy.stats.multivariate_normal`` (``logpdf`` and ``pdf``)."""

    name = "multivariate_normal"

    def __repr__(self):
        return "functrans.scipy.stats.multivariate_normal"

    def _logpdf(self, x, mean, cov, allow_singular, name):
        if allow_singular:
            raise NotImplementedError(f"{name}: allow_singular=True is not supported (only "
                                      f"positive definite covariances)")
        if cov is None:
            cov = 1.0
        args = (x, cov) if mean is None else (x, cov, mean)
        conv = _float64(args, name)
        x, cov = conv[0], conv[1]
        mean = conv[2] if mean is not None else None
        # the dimension, from the mean or else the covariance (static shapes), as SciPy
        if mean is not None:
            dim = math.prod(mean.shape)
        else:
            dim = 1 if cov.ndim < 2 else cov.shape[0]
        if mean is None:
            mean = fnp.zeros((dim,), dtype=fnp.float64, device=x.device)
        elif dim == 1:
            mean = fnp.reshape(mean, (1,))
        if mean.ndim != 1 or mean.shape[0] != dim:
            raise ValueError(f"{name}: Array 'mean' must be a vector of length {dim}.")
        if dim == 1:
            if math.prod(cov.shape) != 1:
                raise ValueError(f"{name}: cov of shape {tuple(cov.shape)} for a "
                                 f"one-dimensional distribution (it must hold one value)")
            cov = fnp.reshape(cov, ())
        if cov.ndim == 1 and cov.shape[0] != dim:
            raise ValueError(f"{name}: Dimension mismatch: the diagonal 'cov' has length "
                             f"{cov.shape[0]}, but 'mean' is a vector of length {dim}.")
        if cov.ndim == 2 and cov.shape != (dim, dim):
            rows, cols = cov.shape
            if rows != cols:
                raise ValueError(f"{name}: Array 'cov' must be square if it is two "
                                 f"dimensional, but cov.shape = {tuple(cov.shape)}.")
            raise ValueError(f"{name}: Dimension mismatch: array 'cov' is of shape "
                             f"{tuple(cov.shape)}, but 'mean' is a vector of length {dim}.")
        if cov.ndim > 2:
            raise ValueError(f"{name}: Array 'cov' must be at most two-dimensional, but "
                             f"cov.ndim = {cov.ndim}")
        # the points: the last axis holds the components (a 0-d x is one point of a
        # one-dimensional distribution; a 1-d x is one point, or n points if dim is 1)
        if x.ndim == 0:
            x = fnp.reshape(x, (1,))
        elif x.ndim == 1:
            x = fnp.reshape(x, (-1, 1) if dim == 1 else (1, -1))
        dev = fnp.subtract(x, mean)
        dev = fnp.broadcast_to(dev, dev.shape[:-1] + (dim,))
        batch = dev.shape[:-1]
        if cov.ndim < 2:  # a scalar or a diagonal: no factorization
            ok = fnp.all(cov > 0.0)
            c = fnp.where(cov > 0.0, cov, 1.0)
            maha = fnp.sum(fnp.divide(dev * dev, c), axis=-1)
            logdet = fnp.sum(fnp.log(c)) * (dim if cov.ndim == 0 else 1)
        else:
            # (functrans.numpy's cholesky reads the lower triangle and differentiates the
            # symmetric part of a perturbation: a symmetric gradient in cov, as JAX's and
            # autograd's, so that a step along it keeps cov symmetric)
            low = fnp.linalg.cholesky(cov)
            n = math.prod(batch)
            rhs = fnp.matrix_transpose(fnp.reshape(dev, (n, dim)))
            z = _linalg.solve_triangular(low, rhs, lower=True)
            maha = fnp.reshape(fnp.sum(z * z, axis=0), batch)
            logdet = 2.0 * fnp.sum(fnp.log(fnp.linalg.diagonal(low)))
            ok = None
        out = -0.5 * fnp.add(fnp.add(maha, logdet), dim * _LOG_2PI)
        if ok is not None:
            out = _valid(ok, out)
        return _squeeze_all(out)

    def logpdf(self, x, mean=None, cov=1, allow_singular=False):
        """The log of the multivariate normal density at the points ``x`` (the last axis
        holds the ``d`` components): ``-(d log(2 pi) + log det(cov) + m) / 2`` with ``m`` the
        squared Mahalanobis distance, through a Cholesky factor of ``cov`` and a
        triangular solve.

        ``cov`` is a (d, d) symmetric positive definite matrix (only its lower triangle is
        read, as SciPy's; its gradient is symmetric, as JAX's and autograd's), a scalar (times the identity) or a 1-d diagonal. As SciPy, the
        result has the batch shape of ``x`` with its length-1 axes removed. Differences:
        ``allow_singular=True`` is refused (NotImplementedError); a full ``cov`` that is not
        positive definite raises the backend's error from the Cholesky factorization, and a
        scalar or diagonal ``cov`` with an entry <= 0 gives nan (SciPy raises ValueError)."""
        return self._logpdf(x, mean, cov, allow_singular, "multivariate_normal.logpdf")

    def pdf(self, x, mean=None, cov=1, allow_singular=False):
        """The multivariate normal density at ``x``: ``exp(logpdf(x, mean, cov))`` (see
        :meth:`logpdf`)."""
        return fnp.exp(self._logpdf(x, mean, cov, allow_singular, "multivariate_normal.pdf"))


multivariate_normal = _MultivariateNormal()


# -- location-scale families -------------------------------------------------------------------


class _LocScale:
    """A continuous distribution of ``(x - loc) / scale`` with a standard form on the support
    ``[_a, _b]``: the subclasses give the standard functions of ``z`` (called on values of
    the support only, so that no derivative sees a value outside it)."""

    name = ""
    _a, _b = -math.inf, math.inf
    _safe = 0.5  # a point inside the support

    def __repr__(self):
        return "functrans.scipy.stats." + self.name

    def _bounded(self):
        return self._a != -math.inf or self._b != math.inf

    def _apply(self, method, x, loc, scale, below, above):
        z, ok, s = _standardize(x, loc, scale, f"{self.name}.{method}")
        f = getattr(self, "_" + method)
        if not self._bounded():
            return _valid(ok, f(z)), s, ok, z
        lo, hi = z < self._a, z > self._b
        inside = fnp.logical_not(fnp.logical_or(lo, hi))
        out = f(fnp.where(inside, z, self._safe))
        out = fnp.where(lo, below, fnp.where(hi, above, out))
        return _valid(ok, fnp.where(fnp.isnan(z), math.nan, out)), s, ok, z

    def _density(self, x, loc, scale, log):
        method = "logpdf" if log else "pdf"
        out, s, ok, _ = self._apply(method, x, loc, scale,
                                    -math.inf if log else 0.0, -math.inf if log else 0.0)
        return fnp.subtract(out, fnp.log(s)) if log else fnp.divide(out, s)

    def logpdf(self, x, loc=0, scale=1):
        return self._density(x, loc, scale, True)

    def pdf(self, x, loc=0, scale=1):
        return self._density(x, loc, scale, False)

    def cdf(self, x, loc=0, scale=1):
        return self._apply("cdf", x, loc, scale, 0.0, 1.0)[0]

    def logcdf(self, x, loc=0, scale=1):
        return self._apply("logcdf", x, loc, scale, -math.inf, 0.0)[0]

    def sf(self, x, loc=0, scale=1):
        return self._apply("sf", x, loc, scale, 1.0, 0.0)[0]

    def logsf(self, x, loc=0, scale=1):
        return self._apply("logsf", x, loc, scale, 0.0, -math.inf)[0]

    def ppf(self, q, loc=0, scale=1):
        q, loc, scale = _float64((q, loc, scale), f"{self.name}.ppf")
        ok = scale > 0.0
        s = fnp.where(ok, scale, 1.0)
        inq = fnp.logical_and(q >= 0.0, q <= 1.0)
        out = fnp.add(fnp.multiply(self._ppf(fnp.where(inq, q, 0.5)), s), loc)
        return _valid(fnp.logical_and(ok, inq), out)

    # the methods of z without a closed form of their own
    def _pdf(self, z):
        return fnp.exp(self._logpdf(z))

    def _logcdf(self, z):
        return fnp.log(self._cdf(z))

    def _sf(self, z):
        return 1.0 - self._cdf(z)

    def _logsf(self, z):
        return fnp.log(self._sf(z))


def _doc(cls, what, support):
    """The methods' docstrings, naming the distribution."""
    docs = {
        "logpdf": f"The log of the {what} density at ``x``{support}.",
        "pdf": f"The {what} density at ``x``{support}.",
        "cdf": f"The cumulative distribution function of the {what} distribution.",
        "logcdf": f"The log of the CDF of the {what} distribution.",
        "sf": f"The survival function ``1 - cdf`` of the {what} distribution.",
        "logsf": f"The log of the survival function of the {what} distribution.",
        "ppf": f"The quantile function (inverse of ``cdf``) of the {what} distribution; nan "
               f"for ``q`` outside [0, 1].",
    }
    def make(m):
        base = getattr(_LocScale, m)
        if m == "ppf":
            def method(self, q, loc=0, scale=1):
                return base(self, q, loc, scale)
        else:
            def method(self, x, loc=0, scale=1):
                return base(self, x, loc, scale)
        return method

    for m, d in docs.items():
        method = make(m)
        method.__name__ = m
        method.__qualname__ = f"{cls.__name__}.{m}"
        method.__doc__ = d + (" " + cls._notes[m] if m in cls._notes else "")
        setattr(cls, m, method)
    return cls


class _Expon(_LocScale):
    """The exponential distribution on ``[loc, inf)`` with rate ``1 / scale``, as
    ``scipy.stats.expon``."""

    name = "expon"
    _a = 0.0
    _notes = {"logcdf": "``log(-expm1(-z))``, or ``log1p(-exp(-z))`` for ``z > log 2`` (finite "
                        "in the upper tail: ``logcdf(50)`` is -1.9e-22).",
              "ppf": "``loc - scale * log1p(-q)``."}

    def _logpdf(self, z):
        return -z

    def _pdf(self, z):
        return fnp.exp(-z)

    def _cdf(self, z):
        return -fnp.expm1(-z)

    def _logcdf(self, z):
        small = z < _LOG_2
        return fnp.where(small, fnp.log(-fnp.expm1(-fnp.where(small, z, 0.5))),
                         fnp.log1p(-fnp.exp(-fnp.where(small, 1.0, z))))

    def _sf(self, z):
        return fnp.exp(-z)

    def _logsf(self, z):
        return -z

    def _ppf(self, q):
        return -fnp.log1p(-q)


class _Uniform(_LocScale):
    """The uniform distribution on ``[loc, loc + scale]``, as ``scipy.stats.uniform``."""

    name = "uniform"
    _a, _b = 0.0, 1.0
    _notes = {"ppf": "``loc + scale * q``."}

    def _logpdf(self, z):
        return z * 0.0

    def _pdf(self, z):
        return z * 0.0 + 1.0

    def _cdf(self, z):
        return z

    def _logcdf(self, z):
        return fnp.log(z)

    def _sf(self, z):
        return 1.0 - z

    def _logsf(self, z):
        return fnp.log1p(-z)

    def _ppf(self, q):
        return q


class _Laplace(_LocScale):
    """The Laplace (double exponential) distribution, as ``scipy.stats.laplace``."""

    name = "laplace"
    _notes = {"logpdf": "Computed as ``-|z| - log(2 scale)``: finite where SciPy's (the log "
                        "of the density) underflows to -inf, ``|z|`` > 745.",
              "logcdf": "Computed as ``z - log 2`` below ``loc``: finite far in the lower "
                        "tail where SciPy's (the log of the CDF) is -inf.",
              "logsf": "Computed as ``-z - log 2`` above ``loc``: finite far in the upper "
                       "tail where SciPy's is -inf."}

    def _logpdf(self, z):
        return -fnp.abs(z) - _LOG_2

    def _pdf(self, z):
        return 0.5 * fnp.exp(-fnp.abs(z))

    def _cdf(self, z):
        pos = z > 0.0
        return fnp.where(pos, 1.0 - 0.5 * fnp.exp(-fnp.where(pos, z, 0.0)),
                         0.5 * fnp.exp(fnp.where(pos, 0.0, z)))

    def _logcdf(self, z):
        pos = z > 0.0
        return fnp.where(pos, fnp.log1p(-0.5 * fnp.exp(-fnp.where(pos, z, 0.0))),
                         fnp.where(pos, 0.0, z) - _LOG_2)

    def _sf(self, z):
        return self._cdf(-z)

    def _logsf(self, z):
        return self._logcdf(-z)

    def _ppf(self, q):
        hi = q > 0.5
        return fnp.where(hi, -fnp.log(2.0 * (1.0 - fnp.where(hi, q, 0.75))),
                         fnp.log(2.0 * fnp.where(hi, 0.25, q)))


class _Logistic(_LocScale):
    """The logistic distribution, as ``scipy.stats.logistic``."""

    name = "logistic"
    _notes = {"ppf": "``loc + scale * logit(q)``."}

    def _logpdf(self, z):
        y = -fnp.abs(z)
        return y - 2.0 * fnp.log1p(fnp.exp(y))

    def _cdf(self, z):
        return _special.expit(z)

    def _logcdf(self, z):
        return _special.log_expit(z)

    def _sf(self, z):
        return _special.expit(-z)

    def _logsf(self, z):
        return _special.log_expit(-z)

    def _ppf(self, q):
        return _special.logit(q)


class _Cauchy(_LocScale):
    """The Cauchy (Lorentz) distribution, as ``scipy.stats.cauchy``."""

    name = "cauchy"
    _notes = {"cdf": "``atan2(1, -z) / pi`` (relative accuracy in the lower tail).",
              "logcdf": "``log1p(-sf)`` above ``loc`` (a little more accurate than SciPy's "
                        "``log(cdf)`` there).",
              "logsf": "``log1p(-cdf)`` below ``loc``.",
              "sf": "``atan2(1, z) / pi`` (relative accuracy in the upper tail).",
              "ppf": "``-1 / tan(pi q)`` in the lower tail, ``1 / tan(pi (1 - q))`` in the "
                     "upper, ``tan(pi (q - 1/2))`` between (accurate as SciPy's)."}

    def _logpdf(self, z):
        a = fnp.abs(z)
        small = a < 1.0
        a_small = fnp.where(small, a, 0.0)
        a_big = fnp.where(small, 1.0, a)
        return fnp.where(small, -fnp.log1p(a_small * a_small),
                         -(2.0 * fnp.log(a_big) + fnp.log1p(1.0 / (a_big * a_big)))) - _LOG_PI

    def _pdf(self, z):
        return fnp.exp(self._logpdf(z))

    def _cdf(self, z):
        return fnp.atan2(fnp.ones_like(z), -z) / math.pi

    def _sf(self, z):
        return fnp.atan2(fnp.ones_like(z), z) / math.pi

    def _logcdf(self, z):
        pos = z > 0.0
        return fnp.where(pos, fnp.log1p(-self._sf(fnp.where(pos, z, 1.0))),
                         fnp.log(self._cdf(fnp.where(pos, -1.0, z))))

    def _logsf(self, z):
        return self._logcdf(-z)

    def _ppf(self, q):
        lo, hi = q < 0.25, q > 0.75
        mid = fnp.logical_not(fnp.logical_or(lo, hi))
        t_lo = -1.0 / fnp.tan(math.pi * fnp.where(lo, q, 0.1))
        t_hi = 1.0 / fnp.tan(math.pi * (1.0 - fnp.where(hi, q, 0.9)))
        t_mid = fnp.tan(math.pi * (fnp.where(mid, q, 0.5) - 0.5))
        return fnp.where(lo, t_lo, fnp.where(hi, t_hi, t_mid))


expon = _doc(_Expon, "exponential", " (0 below ``loc``, as SciPy)")()
uniform = _doc(_Uniform, "uniform", " (``1 / scale`` on ``[loc, loc + scale]``, 0 outside)")()
laplace = _doc(_Laplace, "Laplace", "")()
logistic = _doc(_Logistic, "logistic", "")()
cauchy = _doc(_Cauchy, "Cauchy", "")()


# -- families with shape parameters: t, gamma, beta, chi2 (logpdf and pdf) --------------------


def _log_gamma_half_ratio(y):
    """``log(gamma(y + 1/2) / gamma(y))`` for ``y > 0``: by the difference of ``gammaln`` up
    to 25, then by its asymptotic series (the difference loses digits there)."""
    big = y >= 25.0
    yb = fnp.where(big, y, 25.0)
    ys = fnp.where(big, 1.0, y)
    r = 1.0 / (yb * yb)
    series = fnp.subtract(0.5 * fnp.log(yb), fnp.divide(
        1.0 / 8.0 - r * (1.0 / 192.0 - r * (1.0 / 640.0 - r * (17.0 / 14336.0))), yb))
    return fnp.where(big, series, _special.gammaln(ys + 0.5) - _special.gammaln(ys))


class _Shaped:
    """A continuous distribution with shape parameters, of ``(x - loc) / scale`` on the
    standard support ``[_a, _b]``: ``logpdf`` and ``pdf``. The subclasses give ``_logpdf(z,
    *shapes)`` (called with ``z`` inside the support and valid shapes only) and
    ``_check(*shapes)``, the validity of the shapes."""

    name = ""
    _a, _b = -math.inf, math.inf
    _safe = 0.5
    _shapes = ()

    def __repr__(self):
        return "functrans.scipy.stats." + self.name

    def _density(self, method, x, shapes, loc, scale, log):
        name = f"{self.name}.{method}"
        x, loc, scale, *sh = _float64((x, loc, scale) + tuple(shapes), name)
        ok = fnp.logical_and(scale > 0.0, self._check(*sh))
        s = fnp.where(scale > 0.0, scale, 1.0)
        good = self._check(*sh)
        sh = [fnp.where(good, p, self._safe_shape) for p in sh]
        z = fnp.divide(fnp.subtract(x, loc), s)
        if self._a == -math.inf and self._b == math.inf:
            out = self._logpdf(z, *sh)
        else:
            inside = fnp.logical_and(z >= self._a, z <= self._b)
            out = fnp.where(inside, self._logpdf(fnp.where(inside, z, self._safe), *sh),
                            -math.inf)
            out = fnp.where(fnp.isnan(z), math.nan, out)
        out = fnp.subtract(out, fnp.log(s))
        return _valid(ok, out if log else fnp.exp(out))

    def _distribution(self, method, x, shapes, loc, scale):
        """cdf, sf, logcdf or logsf: ``_cdf(z, *shapes)`` / ``_sf(z, *shapes)`` inside the
        support (with z strictly inside; the ends and beyond get 0 and 1)."""
        name = f"{self.name}.{method}"
        x, loc, scale, *sh = _float64((x, loc, scale) + tuple(shapes), name)
        good = self._check(*sh)
        ok = fnp.logical_and(scale > 0.0, good)
        s = fnp.where(scale > 0.0, scale, 1.0)
        sh = [fnp.where(good, p, self._safe_shape) for p in sh]
        z = fnp.divide(fnp.subtract(x, loc), s)
        upper = method in ("sf", "logsf")
        inside = fnp.logical_and(z > self._a, z < self._b)
        zs = fnp.where(inside, z, self._safe)
        out = (self._sf if upper else self._cdf)(zs, *sh)
        if method.startswith("log"):
            # log1p of minus the other one where this one is close to 1
            other = (self._cdf if upper else self._sf)(zs, *sh)
            big = out > 0.5
            out = fnp.where(big, fnp.log1p(-fnp.where(big, other, 0.0)),
                            fnp.log(fnp.where(big, 1.0, out)))
            below, above = (0.0, -math.inf) if upper else (-math.inf, 0.0)
            out = fnp.where(inside, out, fnp.where(z <= self._a, below, above))
        else:
            below = 1.0 if upper else 0.0
            out = fnp.where(inside, out, fnp.where(z <= self._a, below, 1.0 - below))
        return _valid(fnp.logical_and(ok, z == z), out)


    def _quantile(self, method, q, shapes, loc, scale):
        """ppf or isf: ``loc + scale * _ppf(q, *shapes)`` (``_isf``) for ``q`` in [0, 1] and
        valid shapes (nan otherwise); the subclasses give the ends' values themselves."""
        name = f"{self.name}.{method}"
        q, loc, scale, *sh = _float64((q, loc, scale) + tuple(shapes), name)
        good = self._check(*sh)
        ok = fnp.logical_and(scale > 0.0, good)
        s = fnp.where(scale > 0.0, scale, 1.0)
        sh = [fnp.where(good, p, self._safe_shape) for p in sh]
        inq = fnp.logical_and(q >= 0.0, q <= 1.0)  # (False for nan)
        out = getattr(self, "_" + method)(fnp.where(inq, q, 0.5), *sh)
        return _valid(fnp.logical_and(ok, inq), fnp.add(fnp.multiply(out, s), loc))


_Q_WORDS = {"ppf": "quantile function (the inverse of ``cdf``)",
            "isf": "inverse survival function (the inverse of ``sf``, accurate for small "
                   "``q``)"}

_CDF_WORDS = {"cdf": "cumulative distribution function",
              "sf": "survival function (``1 - cdf``, computed directly)",
              "logcdf": "log of the cumulative distribution function",
              "logsf": "log of the survival function"}


def _shaped_methods(cls, what, params):
    """``logpdf`` and ``pdf`` (and the CDF methods named by ``cls._cdf_methods``) with
    SciPy's signature ``(x, *params, loc=0, scale=1)``."""
    n = len(params)
    sig = ", ".join(params)

    def make(method):
        log = method == "logpdf"

        def f(self, x, *args, **kw):
            if len(args) > n + 2:
                raise TypeError(f"{self.name}.{method}() takes at most {n + 3} positional "
                                f"arguments ({len(args) + 1} given)")
            for k in kw:
                if k not in params + ("loc", "scale"):
                    raise TypeError(f"{self.name}.{method}() got an unexpected keyword "
                                    f"argument {k!r}")
            full = list(args) + [None] * (n + 2 - len(args))
            for i, k in enumerate(params + ("loc", "scale")):
                if k in kw:
                    if full[i] is not None:
                        raise TypeError(f"{self.name}.{method}() got multiple values for "
                                        f"argument {k!r}")
                    full[i] = kw[k]
            missing = [k for k, v in zip(params, full) if v is None]
            if missing:
                raise TypeError(f"{self.name}.{method}() missing required argument(s): "
                                f"{', '.join(missing)}")
            loc = 0 if full[n] is None else full[n]
            scale = 1 if full[n + 1] is None else full[n + 1]
            if method in _CDF_WORDS:
                return self._distribution(method, x, full[:n], loc, scale)
            if method in _Q_WORDS:
                return self._quantile(method, x, full[:n], loc, scale)
            return self._density(method, x, full[:n], loc, scale, log)
        f.__name__ = method
        f.__qualname__ = f"{cls.__name__}.{method}"
        if method in _Q_WORDS:
            f.__doc__ = (f"The {_Q_WORDS[method]} of the {what} distribution at ``q``, "
                         f"``{method}(q, {sig}, loc=0, scale=1)`` as SciPy's: nan for ``q`` "
                         f"outside [0, 1] or invalid parameters. " + cls._ppf_notes)
        elif method in _CDF_WORDS:
            f.__doc__ = (f"The {_CDF_WORDS[method]} of the {what} distribution at ``x``, "
                         f"``{method}(x, {sig}, loc=0, scale=1)`` as SciPy's. "
                         + cls._cdf_notes)
        else:
            f.__doc__ = (f"The {'log of the ' if log else ''}{what} density at ``x``, "
                         f"``{method}(x, {sig}, loc=0, scale=1)`` as SciPy's. "
                         + cls._notes)
        return f
    for m in ("logpdf", "pdf") + cls._cdf_methods:
        setattr(cls, m, make(m))
    return cls()


class _T(_Shaped):
    """Student's t distribution with ``df`` degrees of freedom, as ``scipy.stats.t``."""

    name = "t"
    _safe_shape = 1.0
    _notes = "``df > 0`` (``df = inf`` is the normal distribution), else nan."
    _cdf_methods = ("cdf", "sf", "ppf", "isf")
    _cdf_notes = ("Through :func:`functrans.scipy.special.betainc` (``ndtr`` for "
                  "``df = inf``): differentiable in ``x``, ``loc``, ``scale`` and ``df`` (to "
                  "second order in ``df``, through betainc's derivatives in its shapes).")

    def _check(self, df):
        return df > 0.0

    def _tail(self, z, df):
        """P(T > |z|): 0.5 betainc(df/2, 1/2, df / (df + z^2)) far out, and
        0.5 - 0.5 betainc(1/2, df/2, z^2 / (df + z^2)) for z^2 < min(df, 1) (where the
        first argument would be close to 1, and the tail is not small)."""
        inf = df == math.inf
        d = fnp.where(inf, 1.0, df)
        z2 = z * z
        near = fnp.less(z2, fnp.minimum(d, 1.0))
        zn = fnp.where(near, z2, d)   # each branch sees its own elements only
        zf = fnp.where(near, d, z2)
        far_t = 0.5 * _special.betainc(0.5 * d, 0.5, fnp.divide(d, fnp.add(d, zf)))
        near_t = 0.5 - 0.5 * _special.betainc(0.5, 0.5 * d, fnp.divide(zn, fnp.add(d, zn)))
        tail = fnp.where(near, near_t, far_t)
        return fnp.where(inf, _special.ndtr(-fnp.abs(z)), tail)

    def _cdf(self, z, df):
        tail = self._tail(z, df)
        return fnp.where(z < 0.0, tail, 1.0 - tail)

    def _sf(self, z, df):
        tail = self._tail(z, df)
        return fnp.where(z > 0.0, tail, 1.0 - tail)

    _ppf_notes = ("Through :func:`functrans.scipy.special.betaincinv` (``ndtri`` for "
                  "``df = inf``): with the tail probability ``p = min(q, 1 - q)``, "
                  "``z = betaincinv(df/2, 1/2, 2p)`` gives ``t^2 = df (1 - z) / z``, or "
                  "where that ``z`` is above 1/2 (and ``2p >= 1e-5``) "
                  "``w = betaincinv(1/2, df/2, 1 - 2p)`` gives ``t^2 = df w / (1 - w)`` "
                  "(each where its subtraction is exact enough), and the tail's power law "
                  "where z underflows (more accurate than SciPy's there: ``ppf(1e-300, 2.5)`` "
                  "is -8.8e119, not -inf); ``-inf`` at 0, ``inf`` at 1. Differentiable in ``q``, "
                  "``loc``, ``scale`` and ``df`` (to second order in ``df``; ``dx/d df`` from "
                  "betaincinv's derivative in its shape).")

    def _ppf(self, q, df):
        inf = df == math.inf
        d = fnp.where(inf, 1.0, df)
        lower = q < 0.5
        tail = 2.0 * fnp.where(lower, q, 1.0 - q)  # (1 - q exact for q >= 1/2)
        z = _special.betaincinv(0.5 * d, 0.5, tail)
        zform = fnp.logical_or(z <= 0.5, tail < 1e-5)
        zs = fnp.where(zform, z, 0.5)   # each form sees its own elements only
        w = _special.betaincinv(0.5, 0.5 * d, 1.0 - fnp.where(zform, 0.5, tail))
        t2 = fnp.where(zform, fnp.divide(fnp.multiply(d, 1.0 - zs), zs),
                       fnp.divide(fnp.multiply(d, w), 1.0 - w))
        # far in the tail z underflows: there z^(df/2) ~ 2p (df/2) B(df/2, 1/2), so
        # log |t| = (log df - (2/df) log(2p (df/2) B(df/2, 1/2))) / 2
        far = fnp.logical_and(z < 1e-30, tail > 0.0)
        tf = fnp.where(far, tail, 1e-40)
        h = 0.5 * d
        log_z = fnp.divide(fnp.add(fnp.log(tf), fnp.log(h) + _special.betaln(h, 0.5)), h)
        t_far = fnp.exp(0.5 * fnp.subtract(fnp.log(d), log_z))
        # (t2 = 0 at the median, handled below: kept away from sqrt's infinite slope there,
        # whose product with a zero tangent of df would be nan)
        mid = q == 0.5
        t_abs = fnp.where(far, t_far, fnp.sqrt(fnp.where(fnp.logical_or(far, mid), 1.0, t2)))
        out = fnp.where(lower, -t_abs, t_abs)
        # at the median exactly |t| has no derivative: there t = (q - 1/2) / pdf(0), the
        # right value (0) with the right first and second derivatives (1 / pdf(0), 0)
        log_pdf0 = _log_gamma_half_ratio(0.5 * d) - 0.5 * (fnp.log(d) + _LOG_PI)
        out = fnp.where(mid, fnp.multiply(q - 0.5, fnp.exp(-log_pdf0)), out)
        return fnp.where(inf, _special.ndtri(q), out)

    def _isf(self, q, df):
        return -self._ppf(q, df)

    def _logpdf(self, z, df):
        inf = df == math.inf
        d = fnp.where(inf, 1.0, df)
        # (fnp's functions between terms of different operands: either may be a plain
        # array of a library whose operators refuse tracers)
        t = fnp.subtract(_log_gamma_half_ratio(0.5 * d) - 0.5 * (fnp.log(d) + _LOG_PI),
                         fnp.multiply((d + 1.0) * 0.5, fnp.log1p(fnp.divide(z * z, d))))
        return fnp.where(inf, -0.5 * (z * z) - _HALF_LOG_2PI, t)


class _Gamma(_Shaped):
    """The gamma distribution with shape ``a``, as ``scipy.stats.gamma``."""

    name = "gamma"
    _a = 0.0
    _safe_shape = 1.0
    _notes = "``a > 0``, else nan; 0 below ``loc``."
    _cdf_methods = ("cdf", "sf", "logcdf", "logsf", "ppf", "isf")
    _cdf_notes = ("Through :func:`functrans.scipy.special.gammainc` / ``gammaincc`` (the "
                  "log methods as their logarithms): differentiable in ``x``, ``loc``, "
                  "``scale`` and ``a`` (to second order in ``a``).")

    _ppf_notes = ("``gammaincinv(a, q)`` (``gammainccinv`` for isf): 0 at ``q = 0`` and "
                  "``inf`` at 1 for ppf (the reverse for isf). Differentiable in ``q``, "
                  "``loc``, ``scale`` and ``a`` (``dx/da = -(dP/da) / (dP/dx)``, to second "
                  "order in ``a``).")

    def _check(self, a):
        return a > 0.0

    def _ppf(self, q, a):
        return _special.gammaincinv(a, q)

    def _isf(self, q, a):
        return _special.gammainccinv(a, q)

    def _cdf(self, z, a):
        return _special.gammainc(a, z)

    def _sf(self, z, a):
        return _special.gammaincc(a, z)

    def _logpdf(self, z, a):
        return fnp.subtract(fnp.subtract(_special.xlogy(a - 1.0, z), z), _special.gammaln(a))


class _Chi2(_Shaped):
    """The chi-squared distribution with ``df`` degrees of freedom, as
    ``scipy.stats.chi2``."""

    name = "chi2"
    _a = 0.0
    _safe_shape = 1.0
    _notes = "``df > 0``, else nan; 0 below ``loc``."
    _cdf_methods = ("cdf", "sf", "ppf", "isf")
    _cdf_notes = ("``gammainc(df / 2, x / 2)`` (``gammaincc`` for sf): differentiable in "
                  "``x``, ``loc``, ``scale`` and ``df`` (to second order in ``df``).")

    def _check(self, df):
        return df > 0.0

    _ppf_notes = ("``2 gammaincinv(df / 2, q)`` (``gammainccinv`` for isf). "
                  "Differentiable in ``q``, ``loc``, ``scale`` and ``df`` (to second order "
                  "in ``df``).")

    def _ppf(self, q, df):
        return 2.0 * _special.gammaincinv(0.5 * df, q)

    def _isf(self, q, df):
        return 2.0 * _special.gammainccinv(0.5 * df, q)

    def _cdf(self, z, df):
        return _special.gammainc(0.5 * df, 0.5 * z)

    def _sf(self, z, df):
        return _special.gammaincc(0.5 * df, 0.5 * z)

    def _logpdf(self, z, df):
        h = 0.5 * df
        return fnp.subtract(fnp.subtract(_special.xlogy(h - 1.0, z), 0.5 * z),
                            _special.gammaln(h) + h * _LOG_2)


class _Beta(_Shaped):
    """The beta distribution with shapes ``a`` and ``b`` on ``[loc, loc + scale]``, as
    ``scipy.stats.beta``."""

    name = "beta"
    _a, _b = 0.0, 1.0
    _safe_shape = 1.0
    _notes = "``a > 0`` and ``b > 0``, else nan; 0 outside ``[loc, loc + scale]``."
    _cdf_methods = ("cdf", "sf", "ppf", "isf")
    _cdf_notes = ("``betainc(a, b, x)`` (``betainc(b, a, 1 - x)`` for sf): differentiable "
                  "in ``x``, ``loc``, ``scale``, ``a`` and ``b`` (to second order in the "
                  "shapes).")

    _ppf_notes = ("``betaincinv(a, b, q)``; isf: ``1 - betaincinv(b, a, q)``, or "
                  "``betaincinv(a, b, 1 - q)`` where ``q > 1/2`` (``1 - q`` is exact) or "
                  "the result is below 0.01 (the subtraction would lose its digits). "
                  "Differentiable in ``q``, ``loc``, ``scale``, ``a`` and ``b`` (``dx/da = "
                  "-(dI/da) / (dI/dx)``, to second order in the shapes).")

    def _check(self, a, b):
        return fnp.logical_and(a > 0.0, b > 0.0)

    def _ppf(self, q, a, b):
        return _special.betaincinv(a, b, q)

    def _isf(self, q, a, b):
        direct = fnp.logical_or(q > 0.5, fnp.greater(q, _special.betainc(b, a, 0.99)))
        out_d = _special.betaincinv(a, b, 1.0 - fnp.where(direct, q, 0.5))
        out_c = 1.0 - _special.betaincinv(b, a, fnp.where(direct, 0.5, q))
        return fnp.where(direct, out_d, out_c)

    def _cdf(self, z, a, b):
        return _special.betainc(a, b, z)

    def _sf(self, z, a, b):
        return _special.betainc(b, a, 1.0 - z)

    def _logpdf(self, z, a, b):
        return fnp.subtract(fnp.add(_special.xlog1py(b - 1.0, -z), _special.xlogy(a - 1.0, z)),
                            _special.betaln(a, b))


def _f_quantile(q, n, m, upper):
    """The x of the F distribution with cdf(x) = q (sf(x) = q where ``upper``), from
    ``u = n x / (n x + m)`` (``I_u(n/2, m/2) = cdf``) or ``w = 1 - u``
    (``I_w(m/2, n/2) = sf``): the one of the two solved for the probability given is used
    where it is at most 1/2 (so that ``1 - u`` or ``1 - w`` is exact), the other elsewhere."""
    hn, hm = 0.5 * n, 0.5 * m
    if upper:
        w = _special.betaincinv(hm, hn, q)
        first = w <= 0.5
        u = _special.betaincinv(hn, hm, 1.0 - fnp.where(first, 0.5, q))
        ws = fnp.where(first, w, 0.5)
        a = fnp.divide(fnp.multiply(m, 1.0 - ws), fnp.multiply(n, ws))
        b = fnp.divide(fnp.multiply(m, u), fnp.multiply(n, 1.0 - u))
    else:
        u = _special.betaincinv(hn, hm, q)
        first = u <= 0.5
        w = _special.betaincinv(hm, hn, 1.0 - fnp.where(first, 0.5, q))
        us = fnp.where(first, u, 0.5)
        a = fnp.divide(fnp.multiply(m, us), fnp.multiply(n, 1.0 - us))
        b = fnp.divide(fnp.multiply(m, 1.0 - w), fnp.multiply(n, w))
    return fnp.where(first, a, b)


class _F(_Shaped):
    """The F distribution (Fisher-Snedecor) with ``dfn`` and ``dfd`` degrees of freedom, as
    ``scipy.stats.f``."""

    name = "f"
    _a = 0.0
    _safe_shape = 1.0
    _notes = ("``dfn > 0`` and ``dfd > 0``, else nan; 0 below ``loc``. As SciPy, infinite "
              "degrees of freedom give nan inside the support (the values of the ends and "
              "beyond are kept).")
    _cdf_methods = ("cdf", "sf", "ppf", "isf")
    _cdf_notes = ("``betainc(dfn/2, dfd/2, dfn x / (dfn x + dfd))`` (sf: "
                  "``betainc(dfd/2, dfn/2, dfd / (dfd + dfn x))``, accurate in the upper "
                  "tail): differentiable in ``x``, ``loc``, ``scale``, ``dfn`` and ``dfd`` (to "
                  "second order in the degrees of freedom).")
    _ppf_notes = ("Through :func:`functrans.scipy.special.betaincinv`: ``x = dfd u / (dfn "
                  "(1 - u))`` with ``u = betaincinv(dfn/2, dfd/2, q)`` (isf: from "
                  "``betaincinv(dfd/2, dfn/2, q)`` = 1 - u), or from the complementary "
                  "problem where that root is above 1/2; 0 and ``inf`` at the ends. isf is "
                  "more accurate than SciPy's for tiny ``q`` (SciPy: ``ppf(1 - q)``, "
                  "``inf`` below 1e-17). "
                  "Differentiable in ``q``, ``loc``, ``scale``, ``dfn`` and ``dfd`` (to second "
                  "order in the degrees of freedom).")

    def _check(self, dfn, dfd):
        return fnp.logical_and(dfn > 0.0, dfd > 0.0)

    @staticmethod
    def _finite(fn):
        """``fn(z, dfn, dfd)`` where both are finite, nan inside the support otherwise (as
        SciPy's formulas give there; the ends and beyond keep their values)."""
        def method(self, z, n, m):
            fin = fnp.logical_and(n < math.inf, m < math.inf)
            out = fn(self, z, fnp.where(fin, n, 1.0), fnp.where(fin, m, 1.0))
            return fnp.where(fin, out, math.nan)
        return method

    @_finite
    def _cdf(self, z, n, m):
        nz = fnp.multiply(n, z)
        return _special.betainc(0.5 * n, 0.5 * m, fnp.divide(nz, fnp.add(nz, m)))

    @_finite
    def _sf(self, z, n, m):
        nz = fnp.multiply(n, z)
        return _special.betainc(0.5 * m, 0.5 * n, fnp.divide(m, fnp.add(nz, m)))

    def _quantile_ends(self, q, n, m, upper):
        fin = fnp.logical_and(n < math.inf, m < math.inf)
        out = _f_quantile(q, fnp.where(fin, n, 1.0), fnp.where(fin, m, 1.0), upper)
        ends = fnp.where(q == 0.0, math.inf if upper else 0.0,
                         fnp.where(q == 1.0, 0.0 if upper else math.inf, math.nan))
        return fnp.where(fin, out, ends)

    def _ppf(self, q, n, m):
        return self._quantile_ends(q, n, m, False)

    def _isf(self, q, n, m):
        return self._quantile_ends(q, n, m, True)

    @_finite
    def _logpdf(self, z, n, m):
        hn, hm = 0.5 * n, 0.5 * m
        const = fnp.subtract(fnp.add(_special.xlogy(hn, n), _special.xlogy(hm, m)),
                             _special.betaln(hn, hm))
        return fnp.subtract(fnp.add(const, _special.xlogy(hn - 1.0, z)),
                            fnp.multiply(hn + hm, fnp.log(fnp.add(m, fnp.multiply(n, z)))))


t = _shaped_methods(_T, "Student's t", ("df",))
f = _shaped_methods(_F, "F", ("dfn", "dfd"))
gamma = _shaped_methods(_Gamma, "gamma", ("a",))
chi2 = _shaped_methods(_Chi2, "chi-squared", ("df",))
beta = _shaped_methods(_Beta, "beta", ("a", "b"))


# -- discrete distributions: poisson, bernoulli, binom, geom (logpmf, pmf) ---------------------


class _Discrete:
    """A distribution on the integers of ``[_a, _upper(*shapes)]`` shifted by ``loc``:
    ``logpmf`` and ``pmf`` (0, -inf for the log, off the integers and outside the support;
    nan for invalid shapes or a nan ``k``). The subclasses give ``_logpmf(k, *shapes)``,
    called with valid shapes (others replaced by ``_safe_shapes``) and ``k`` in the support
    (others replaced by ``_a``), and ``_check(*shapes)``."""

    name = ""
    _a = 0.0
    _params = ()

    def __repr__(self):
        return "functrans.scipy.stats." + self.name

    def _upper(self, *shapes):
        return math.inf

    def _mass(self, method, k, shapes, loc, log):
        name = f"{self.name}.{method}"
        k, loc, *sh = _float64((k, loc) + tuple(shapes), name)
        good = self._check(*sh)
        sh = [fnp.where(good, p, safe) for p, safe in zip(sh, self._safe_shapes)]
        k = fnp.subtract(k, loc)
        # (fnp.less_equal: the bound may be a tracer, k a plain array)
        inside = fnp.logical_and(fnp.logical_and(k >= self._a,
                                                 fnp.less_equal(k, self._upper(*sh))),
                                 fnp.floor(k) == k)
        out = fnp.where(inside, self._logpmf(fnp.where(inside, k, self._a), *sh), -math.inf)
        out = out if log else fnp.exp(out)
        return fnp.where(fnp.logical_or(fnp.logical_not(good), fnp.isnan(k)), math.nan, out)

    def _distribution(self, method, k, shapes, loc):
        """cdf or sf at ``floor(k - loc)``: ``_cdf(j, *shapes)`` / ``_sf(j, *shapes)`` for j
        inside ``[_a, upper)`` (0 / 1 below, 1 / 0 from the upper end on)."""
        name = f"{self.name}.{method}"
        k, loc, *sh = _float64((k, loc) + tuple(shapes), name)
        good = self._check(*sh)
        sh = [fnp.where(good, p, safe) for p, safe in zip(sh, self._safe_shapes)]
        j = fnp.floor(fnp.subtract(k, loc))
        upper = self._upper(*sh)
        inside = fnp.logical_and(j >= self._a, fnp.less(j, upper))
        js = fnp.where(inside, j, self._a)
        sf = method == "sf"
        out = (self._sf if sf else self._cdf)(js, *sh)
        below = 1.0 if sf else 0.0
        out = fnp.where(inside, out, fnp.where(j < self._a, below, 1.0 - below))
        return fnp.where(fnp.logical_or(fnp.logical_not(good), fnp.isnan(k)), math.nan, out)


def _discrete_methods(cls, what):
    """``logpmf``, ``pmf``, ``cdf`` and ``sf`` with SciPy's signature
    ``(k, *params, loc=0)``."""
    params = cls._params
    n = len(params)
    sig = ", ".join(params)

    def make(method):
        log = method == "logpmf"

        def f(self, k, *args, **kw):
            names = params + ("loc",)
            if len(args) > n + 1:
                raise TypeError(f"{self.name}.{method}() takes at most {n + 2} positional "
                                f"arguments ({len(args) + 1} given)")
            full = list(args) + [None] * (n + 1 - len(args))
            for key, v in kw.items():
                if key not in names:
                    raise TypeError(f"{self.name}.{method}() got an unexpected keyword "
                                    f"argument {key!r}")
                i = names.index(key)
                if full[i] is not None:
                    raise TypeError(f"{self.name}.{method}() got multiple values for "
                                    f"argument {key!r}")
                full[i] = v
            missing = [p for p, v in zip(params, full) if v is None]
            if missing:
                raise TypeError(f"{self.name}.{method}() missing required argument(s): "
                                f"{', '.join(missing)}")
            loc = 0 if full[n] is None else full[n]
            if method in ("cdf", "sf"):
                return self._distribution(method, k, full[:n], loc)
            return self._mass(method, k, full[:n], loc, log)
        f.__name__ = method
        f.__qualname__ = f"{cls.__name__}.{method}"
        if method in ("cdf", "sf"):
            f.__doc__ = (f"The {_CDF_WORDS[method]} of the {what} distribution at ``k``, "
                         f"``{method}(k, {sig}, loc=0)`` as SciPy's: ``k`` is rounded down "
                         f"(the CDF is a step function: no derivative in ``k``). "
                         + cls._cdf_notes)
        else:
            f.__doc__ = (f"The {'log of the ' if log else ''}{what} probability mass at "
                         f"``k``, ``{method}(k, {sig}, loc=0)`` as SciPy's: "
                         f"{'-inf' if log else '0'} off the integers of the support. "
                         + cls._notes)
        return f
    for m in ("logpmf", "pmf", "cdf", "sf"):
        setattr(cls, m, make(m))
    return cls()


class _Poisson(_Discrete):
    """The Poisson distribution with mean ``mu``, as ``scipy.stats.poisson``."""

    name = "poisson"
    _params = ("mu",)
    _safe_shapes = (1.0,)
    _notes = ("``k - loc`` in 0, 1, 2, ...; ``mu >= 0`` (``mu = 0``: all the mass at 0), "
              "else nan. Differentiable in ``mu``.")

    _cdf_notes = ("``gammaincc(k + 1, mu)`` (``gammainc`` for sf): differentiable in "
                  "``mu``.")

    def _check(self, mu):
        return mu >= 0.0

    def _cdf(self, j, mu):
        return _special.gammaincc(j + 1.0, mu)

    def _sf(self, j, mu):
        return _special.gammainc(j + 1.0, mu)

    def _logpmf(self, k, mu):
        return fnp.subtract(fnp.subtract(_special.xlogy(k, mu), _special.gammaln(k + 1.0)), mu)


def _count_only(n, name):
    """``n`` itself, where a derivative reaching it raises NotImplementedError: a number of
    trials has none (betainc, differentiable in its shapes, would give the derivative of a
    continuous extension of the distribution in ``n``)."""
    from ..core import Tracer
    if not isinstance(n, Tracer):
        return n
    from ..custom import custom_jvp

    @custom_jvp
    def count(v):
        return v

    @count.defjvp
    def _(primals, tangents):
        raise NotImplementedError(
            f"{name}: the derivative with respect to the number of trials n is not defined "
            f"(n is a count); stop_gradient n, or differentiate with respect to p only")

    return count(n)


class _Binom(_Discrete):
    """The binomial distribution of ``n`` trials of success probability ``p``, as
    ``scipy.stats.binom``."""

    name = "binom"
    _params = ("n", "p")
    _safe_shapes = (1.0, 0.5)
    _notes = ("``k - loc`` in 0, ..., n; ``n`` a non-negative integer and ``0 <= p <= 1``, "
              "else nan. Differentiable in ``p`` (``n`` is a count; its derivative, through "
              "``gammaln``, is not a derivative of the distribution). ``pmf`` is "
              "``exp(logpmf)`` (SciPy's comes from Boost: equal to about 1e-15 relative).")

    def _check(self, n, p):
        return fnp.logical_and(fnp.logical_and(n >= 0.0, fnp.equal(fnp.floor(n), n)),
                               fnp.logical_and(p >= 0.0, p <= 1.0))

    _cdf_notes = ("``betainc(n - k, k + 1, 1 - p)`` (``betainc(k + 1, n - k, p)`` for sf): "
                  "differentiable in ``p``; a derivative reaching ``n`` raises "
                  "NotImplementedError (a count: the incomplete beta function's derivative "
                  "in its shape would be that of a continuous extension).")

    def _upper(self, n, p):
        return n

    def _cdf(self, j, n, p):
        n = _count_only(n, "binom.cdf")
        return _special.betainc(fnp.subtract(n, j), j + 1.0, 1.0 - p)

    def _sf(self, j, n, p):
        n = _count_only(n, "binom.sf")
        return _special.betainc(j + 1.0, fnp.subtract(n, j), p)

    def _logpmf(self, k, n, p):
        comb = fnp.subtract(_special.gammaln(n + 1.0),
                            fnp.add(_special.gammaln(k + 1.0),
                                    _special.gammaln(fnp.subtract(n, k) + 1.0)))
        return fnp.add(fnp.add(comb, _special.xlogy(k, p)),
                       _special.xlog1py(fnp.subtract(n, k), -p))


class _Bernoulli(_Discrete):
    """The Bernoulli distribution with success probability ``p``, as
    ``scipy.stats.bernoulli``."""

    name = "bernoulli"
    _params = ("p",)
    _safe_shapes = (0.5,)
    _notes = "``k - loc`` in {0, 1}; ``0 <= p <= 1``, else nan. Differentiable in ``p``."

    def _check(self, p):
        return fnp.logical_and(p >= 0.0, p <= 1.0)

    _cdf_notes = "``1 - p`` at 0 (sf: ``p``): differentiable in ``p``."

    def _upper(self, p):
        return 1.0

    def _cdf(self, j, p):
        return 1.0 - p

    def _sf(self, j, p):
        return fnp.add(p, fnp.zeros_like(j))

    def _logpmf(self, k, p):
        return fnp.add(_special.xlogy(k, p), _special.xlog1py(1.0 - k, -p))


class _Geom(_Discrete):
    """The geometric distribution (the number of trials up to the first success, success
    probability ``p``), as ``scipy.stats.geom``."""

    name = "geom"
    _a = 1.0
    _params = ("p",)
    _safe_shapes = (0.5,)
    _notes = ("``k - loc`` in 1, 2, ...; ``0 < p <= 1``, else nan. Differentiable in ``p``. "
              "``pmf`` is ``exp(logpmf)``, through ``log1p(-p)``: more accurate than SciPy's "
              "``(1 - p)**(k - 1) * p`` for a small ``p`` and a large ``k``.")

    _cdf_notes = ("``-expm1(k log1p(-p))`` (sf: ``exp(k log1p(-p))``): differentiable in "
                  "``p``.")

    def _check(self, p):
        return fnp.logical_and(p > 0.0, p <= 1.0)

    def _cdf(self, j, p):
        return -fnp.expm1(_special.xlog1py(j, -p))

    def _sf(self, j, p):
        return fnp.exp(_special.xlog1py(j, -p))

    def _logpmf(self, k, p):
        return fnp.add(_special.xlog1py(k - 1.0, -p), fnp.log(p))


poisson = _discrete_methods(_Poisson, "Poisson")
binom = _discrete_methods(_Binom, "binomial")
bernoulli = _discrete_methods(_Bernoulli, "Bernoulli")
geom = _discrete_methods(_Geom, "geometric")
