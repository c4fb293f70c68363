"""functrans.scipy.stats: SciPy's distributions, differentiable to any order.

``import functrans.scipy.stats as fst``; ``fst.norm.logpdf(x, loc, scale)`` and so on (as
with JAX's modules, ``import functrans.scipy.stats.norm as norm`` works too):

- :data:`norm`: ``logpdf``, ``pdf``, ``cdf``, ``logcdf``, ``sf``, ``logsf``, ``ppf``, ``isf``;
- :data:`expon`, :data:`uniform`, :data:`laplace`, :data:`logistic`, :data:`cauchy`:
  ``logpdf``, ``pdf``, ``cdf``, ``logcdf``, ``sf``, ``logsf``, ``ppf`` (``loc``, ``scale``;
  ``logistic`` and ``cauchy`` also ``isf``);
- :data:`t` (``df``), :data:`gamma` (``a``), :data:`beta` (``a``, ``b``), :data:`chi2`
  (``df``), :data:`f` (``dfn``, ``dfd``): ``logpdf``, ``pdf``, ``cdf``, ``sf``, ``ppf`` and
  ``isf`` (with ``loc`` and ``scale``; ``gamma``, ``beta`` and ``chi2`` also ``logcdf`` and
  ``logsf``, finite where the probabilities underflow), the CDFs through the incomplete
  gamma and beta functions of :mod:`functrans.scipy.special`, the quantiles through their
  inverses (``gammaincinv``, ``gammainccinv``, ``betaincinv``);
- :data:`multivariate_normal`: ``logpdf`` and ``pdf`` (``mean``, ``cov``);
- discrete: :data:`poisson` (``mu``), :data:`bernoulli` (``p``), :data:`binom` (``n``, ``p``),
  :data:`geom` (``p``), :data:`nbinom` (``n``, ``p``), :data:`betabinom` (``n``, ``a``,
  ``b``): ``logpmf``, ``pmf``, ``cdf`` and ``sf`` (with ``loc``); ``bernoulli.ppf``,
  ``poisson.entropy``;
- :data:`gumbel_r`, :data:`gumbel_l`: as the location-scale families above, and ``isf``;
- :data:`lognorm` (``s``), :data:`weibull_min` (``c``), :data:`pareto` (``b``),
  :data:`gennorm` (``beta``), :data:`truncnorm` (``a``, ``b``): ``logpdf``, ``pdf``, ``cdf``,
  ``sf``, ``logcdf``, ``logsf``, ``ppf``, ``isf``; :data:`wrapcauchy` (``c``): ``logpdf``,
  ``pdf``, ``cdf``, ``sf``, ``ppf``, ``isf``; :data:`vonmises` (``kappa``): ``logpdf``,
  ``pdf``, ``cdf`` and ``sf`` (SciPy's series and normal approximation);
- :data:`multinomial` (``logpmf``, ``pmf``), :data:`dirichlet` (``logpdf``, ``pdf``);
- :func:`rankdata`, :func:`mode`, :func:`sem` and :class:`gaussian_kde` (``evaluate``,
  ``logpdf``, ``pdf``, Scott's, Silverman's or a given bandwidth, weights, the
  ``integrate_*`` methods and JAX's ``resample(key, shape)``).

Conventions:

- SciPy's arguments (``x``, the shape parameters, ``loc=0``, ``scale=1``; ``q`` for
  ``ppf``/``isf``, ``k`` for the discrete ones): arrays, Python numbers or lists, broadcast
  together; real input only (integers and booleans are promoted, complex input is a
  TypeError). The result's dtype is the operands' promoted one, as JAX's (float32 arrays
  give float32; Python numbers are weak, lists NumPy's arrays; integers, booleans and
  Python numbers alone give float64; SciPy's is float64 always): the distributions compute
  in float64 throughout and round the result (and its derivatives) once, within about half
  a float32 ulp of the exact value (SciPy standardizes ``(x - loc) / scale`` in float32
  first; on a GPU float64 arithmetic is the cost). Python numbers alone give
  arrays of the default backend; otherwise the result is an array of the inputs' library,
  on their device.
- As SciPy: ``scale <= 0`` (or nan) and invalid shape parameters give nan; outside the
  support the density is 0 (``logpdf`` -inf), the CDF 0 or 1; ``ppf``/``isf`` outside
  ``[0, 1]`` give nan; the discrete masses are 0 (``logpmf`` -inf) off the integers of the
  support. Where SciPy's formula gives nan for a limit (``gumbel_r.logpdf(-inf)``,
  ``gumbel_l.logpdf(inf)``, ``weibull_min.logpdf(inf)``: inf - inf) the limit is given
  (-inf). At ``x = +-inf`` the slopes are the limits: 0 in every parameter where the value
  is held there (pdf, cdf, sf...: the scale's was nan), a power-law log density's finite
  scale slope (t, f, cauchy), and the tail's limits for logcdf at ``-inf`` and logsf at
  ``+inf`` where they are -inf (``_log_tail``: t, cauchy, gamma, chi2, pareto, lognorm,
  weibull_min, gennorm; reverse mode's: forward mode over several arguments is nan where
  some slope is infinite).
- Differentiable in every continuous argument (``x``, the shapes, ``loc``, ``scale``;
  ``mean`` and ``cov``; ``nbinom``'s ``n``, a real parameter; not the discrete ``k`` nor
  the numbers of trials: a derivative reaching ``binom``'s, ``betabinom``'s or
  ``multinomial``'s ``n`` raises NotImplementedError) under every transform; the CDFs and
  quantiles in the shape parameters to third order (``gamma``'s ``a``, ``chi2``'s ``df``
  and ``gennorm``'s ``beta`` through the incomplete gamma function's derivative in its
  shape, ``t``'s ``df``, ``beta``'s ``a`` and ``b``, ``f``'s ``dfn`` and ``dfd``,
  ``nbinom``'s ``n`` through the incomplete beta function's derivatives in its shapes; a
  fourth derivative there raises
  NotImplementedError), with zero
  (not nan) derivatives outside the support; the tails are accurate as SciPy's or more
  (``norm.logcdf(-40)`` is about -804.6 and ``norm.sf(37)`` is 5.7e-300, not 0; each method's
  docstring says where it differs from SciPy's formula).
- No frozen distributions (``norm(loc, scale)``) and none of the moments, ``rvs``, ``fit``,
  ``entropy`` (but ``poisson.entropy``)... methods; no ``ppf`` of the discrete distributions
  (but ``bernoulli.ppf``).
"""

from __future__ import annotations

import math

import numpy as _np

from ..backends.incomplete_grads import (  # (any namespace)
    _lgamma_corr, _lgamma_diff, _lgamma_diff_log, _log1pmx, _two_prod, _two_sum)
from .. import dtypes as _dt
from .. import numpy as fnp
from ..numpy._base import _dtype
from ..numpy._reshaping import _convs
from ..primitives import special as _special_prims
from ..primitives import structural as _st
from . import linalg as _linalg
from . import special as _special
from .special import _concrete_behind, _lined_up, _may_hold, _Tracer
from ..backends import backend_of as _backend_of

__all__ = ["norm", "multivariate_normal", "expon", "uniform", "laplace", "logistic",
           "cauchy", "t", "gamma", "beta", "chi2", "f", "poisson", "bernoulli", "binom",
           "geom", "gumbel_r", "gumbel_l", "lognorm", "weibull_min", "pareto", "gennorm",
           "truncnorm", "vonmises", "wrapcauchy", "nbinom", "betabinom", "multinomial",
           "dirichlet", "rankdata", "mode", "sem", "gaussian_kde"]

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


def _result_dtype(args):
    """The dtype a method's result takes from its operands ``args``: the promotion of the
    arrays' (and tracers') dtypes, Python numbers weak (``norm.pdf(x)`` of float32 ``x``,
    with ``loc=0`` and ``scale=1``, is float32; lists count as the arrays NumPy makes of
    them: a list of Python floats float64); float32 and the 16-bit floats where that
    promotion gives one of them, float64 otherwise (float64 operands, integers, booleans,
    Python numbers alone)."""
    small = None
    for a in args:
        if a is None or type(a) in (bool, int, float, complex, str):
            continue
        if type(a) is list or type(a) is tuple:
            d = _np.asarray(a).dtype
            if d.kind == "f":
                return _dt.float64
            continue
        try:
            d = _dt.dtype_of(a)
        except Exception:  # (not an array: the method says what is wrong)
            continue
        if d.kind != "f":
            continue
        if d is _dt.float64:
            return d
        small = d if small is None else _dt.result_type(small, d)
    if small is not None and (small is _dt.float32 or small in _dt.HALF):
        return small
    return _dt.float64


def _keeping_dtype(method):
    """``method`` with its result in the dtype of its operands (:func:`_result_dtype`):
    computed in float64 as before, rounded once to float32 (or 16-bit) where the operands
    are, with the derivatives (the cast's own: a float32 operand's cotangent is float32)."""
    import functools

    @functools.wraps(method)
    def wrapped(self, *args, **kw):
        out = method(self, *args, **kw)
        d = _result_dtype(args + tuple(kw.values()))
        if d is _dt.float64:
            return out
        return _st.convert_element_type(out, d)
    wrapped.__wrapped_dtype__ = True
    return wrapped


def _standardize(x, loc, scale, name, support=(-math.inf, math.inf), tail=False,
                 held=False, log_tail=False):
    """``z = (x - loc) / scale`` with the scale replaced by 1 where it is not positive (those
    entries are nan in the end), the validity mask and the (safe) scale. ``z`` without
    derivatives where ``x`` is infinite and the method's value is held there (see
    :func:`_held_at_infinity`); with ``held``, that mask too (None where none may be)."""
    x, loc, scale = _float64((x, loc, scale), name)
    ok = scale > 0.0  # (False for nan)
    s = fnp.where(ok, scale, 1.0)
    # (the mask only: z's own selection holds it, _z_held)
    _, mask = _held_at_infinity(name.rsplit(".", 1)[-1], x, loc, s, support=support,
                                tail=tail, mask=True, log_tail=log_tail, hold=False)
    z = _z_held(x, loc, s, mask)
    return (z, ok, s, mask) if held else (z, ok, s)


def _z_held(x, loc, s, held):
    """``(x - loc) / s``, without derivatives where ``held`` (None: nowhere; the operands
    may be held already), whose derivatives elsewhere come from the quotient at ``x = loc =
    0`` there, so that its partial in ``s``, ``-z / s``, is finite where z is infinite: its
    0 cotangent times inf was a nan (dropped by the selection) and a warning, in every grad
    at an infinite x or loc (t.cdf, norm.cdf...). (fnp's functions, not operators, between
    the operands: one of them may be a plain array of a library whose operators refuse
    tracers, array-api-strict's.)"""
    num = fnp.subtract(x, loc)
    if held is None or not any(isinstance(v, _Tracer) for v in (x, loc, s)):
        return fnp.divide(num, s)
    # (gennorm.logsf's vmap(grad) jaxpr: 305 -> 311 equations)
    live = fnp.divide(fnp.where(held, 0.0, num), s)
    return fnp.where(held, fnp.stop_gradient(fnp.divide(num, s)), live)


def _may_be_infinite(x):
    """False only where ``x``'s values are known (see ``_may_hold``) and all finite or nan;
    no primitive bound."""
    v = _concrete_behind(x)
    if v is None:
        return True
    if isinstance(v, (bool, int, float)):
        return math.isinf(v)
    if isinstance(v, (_np.ndarray, _np.generic)):
        return bool(_np.isinf(v).any())
    if not _special._read_on_host(v):  # (on a device: no read, the selections instead)
        return True
    bk = _backend_of(v)
    return bool(bk.to_numpy(bk.xp.any(bk.xp.isinf(v))))


def _infinite_side(x, loc, xs=None):
    """``x`` without derivatives (``xs``, where the caller has it), with ``-loc`` where
    ``loc`` is infinite and ``x`` finite: the sign of an infinite ``z = (x - loc) / scale``
    (the same holds and limits as at that infinite ``x``: ``grad(t.logcdf, 3)(0.3, 5.,
    inf)`` was nan, 0 * inf of z's scale partial, where its limit is df / scale)."""
    xs = fnp.stop_gradient(x) if xs is None else xs
    if not _may_be_infinite(loc):
        return xs
    ls = fnp.stop_gradient(loc)
    return fnp.where(fnp.logical_and(fnp.isinf(ls), fnp.isfinite(xs)), fnp.negative(ls), xs)


def _both(a, b):
    """``a and b`` for masks or Python bools (no operation where one is a Python bool)."""
    if a is False or b is False:
        return False
    return b if a is True else (a if b is True else fnp.logical_and(a, b))


def _either(a, b):
    """``a or b`` for masks or Python bools (no operation where one is a Python bool)."""
    if a is True or b is True:
        return True
    return b if a is False else (a if b is False else fnp.logical_or(a, b))


def _at_infinite_ends(xs, below, above):
    """Where ``xs`` is ``-inf`` and ``below`` holds or ``+inf`` and ``above`` holds
    (``below``, ``above``: Python bools or masks): a mask, or the Python bool False where no
    element may be; one ``isinf`` where both conditions are the same."""
    if below is False and above is False:
        return False
    if below is above or (type(below) is bool and type(above) is bool and below == above):
        return _both(fnp.isinf(xs), below)
    return _either(_both(xs == -math.inf, below), _both(xs == math.inf, above))


def _infinity_held(method, xs, support=(-math.inf, math.inf), tail=False, log_tail=False):
    """Where (a mask of ``xs``, ``x`` without derivatives, or the Python bool False where no
    element may be) the method's value at an infinite ``x`` is held in every parameter near
    it: pdf, cdf and sf (0 or 1), logcdf at ``+inf`` and logsf at ``-inf`` (0), and every
    log method beyond a finite end of the standard support (-inf); logpdf also at an
    infinite end inside the support where the log density has a power-law tail (``tail``:
    a Python bool or a mask), whose slopes in ``x`` and ``loc`` are 0 there and in the
    scale ``c / scale`` (``_tail_term``); with ``log_tail``, logcdf at ``-inf`` and logsf
    at ``+inf`` too (-inf there: the limits of the slopes from ``_log_tail_term``)."""
    if method in ("pdf", "cdf", "sf"):
        return fnp.isinf(xs)
    lo, hi = support
    below = True if (method == "logsf" or (log_tail and method == "logcdf")) else (
        lo > -math.inf if type(lo) is float else fnp.greater(lo, -math.inf))
    above = True if (method == "logcdf" or (log_tail and method == "logsf")) else (
        hi < math.inf if type(hi) is float else fnp.less(hi, math.inf))
    if method == "logpdf" and tail is not False:
        below, above = _either(below, tail), _either(above, tail)
    return _at_infinite_ends(xs, below, above)


def _held_at_infinity(method, x, *args, support=(-math.inf, math.inf), tail=False,
                      mask=False, log_tail=False, hold=True):
    """``(x, *args)`` without derivatives where the method's value is held at an infinite
    ``x`` (:func:`_infinity_held`), as they are elsewhere: there ``z = (x - loc) / scale``
    is infinite, its partial in the scale ``-z / scale`` too, and that times the method's 0
    slope (or the 0 cotangent of a selection) was nan: ``grad(stats.f.pdf, 2)(inf, 3.,
    4.)``, every distribution's scale slope at ``x = +-inf`` (the limits are 0). With
    ``mask``, also the mask of the held elements (None where none may be)."""
    ops = (x,) + args
    if not any(isinstance(a, _Tracer) for a in ops) or method not in (
            "pdf", "cdf", "sf", "logcdf", "logsf", "logpdf") or not (
            _may_be_infinite(x) or (args and _may_be_infinite(args[0]))):
        return (ops, None) if mask else ops
    xs = fnp.stop_gradient(x)
    # (args[0] is loc: an infinite loc beside a finite x is that infinite x's case)
    held = _infinity_held(method, _infinite_side(x, args[0], xs) if args else xs, support,
                          tail, log_tail)
    out = _held(held, ops, xs) if hold else ops  # (hold False: the mask only)
    return (out, None if held is False else held) if mask else out


def _held(held, ops, xs=None):
    """``ops`` without derivatives where ``held`` (a mask, or the Python bool False: ``ops``
    as they are), the others' as they are: ``where(held, stop_gradient(a), a)`` for each
    tracer ``a`` (``xs``: the first one's stopped already). A mask known on the host to
    hold nowhere (eager) passes them as they are; a device's is not read."""
    if held is False:
        return ops
    known = _concrete_behind(held)
    if known is not None and (not known if type(known) is bool else (
            (isinstance(known, (_np.ndarray, _np.generic)) or _special._read_on_host(known))
            and not _any_true(known))):
        return ops
    return tuple(fnp.where(held, xs if (i == 0 and xs is not None) else fnp.stop_gradient(a),
                           a) if isinstance(a, _Tracer) else a for i, a in enumerate(ops))


def _any_true(v):
    if isinstance(v, (_np.ndarray, _np.generic)):
        return bool(v.any())
    bk = _backend_of(v)
    return bool(bk.to_numpy(bk.xp.any(v)))


def _tail_term(held, c, s, ls=None):
    """0 in value, with the slope ``c / s`` in the scale ``s`` where ``held`` (a mask; or
    None where ``c`` is 0 elsewhere, selected already): the limit of ``-z d/dz log f(z) /
    s`` for a log density with the power-law tail ``-c log|z|`` (Cauchy: 2; beside its
    ``-log(s)``), where ``z`` is held (infinite). None where ``s`` carries no derivative
    (``ls``: ``log(s)`` computed already)."""
    if not isinstance(s, _Tracer):
        return None
    ls = fnp.log(s) if ls is None else ls
    term = fnp.multiply(c, fnp.subtract(ls, fnp.stop_gradient(ls)))
    return term if held is None else fnp.where(held, term, 0.0)


def _log_tail_term(dist, method, x, loc, s, sh):
    """0 in value, with the limits of the slopes of logcdf at ``x = -inf`` (logsf at
    ``+inf``), where it is -inf and ``x``, ``loc``, ``scale`` are held
    (``_held_at_infinity``'s ``log_tail``), from the distribution's ``_log_tail(a, s,
    big, *shapes)``: its tail's leading terms, -inf there, in ``a() = |x - loc|`` (1
    elsewhere) and ``big() = log(a)`` held (inf there, 0 elsewhere; functions, computed
    where the distribution asks; or, with ``_log_tail_held``, its only argument ``-log|z|``
    held there and 0 elsewhere, its result taken as it is); None where no
    element may be there or nothing carries a derivative. t.logcdf(-inf)'s slope in the
    scale was nan (limit ``df / scale``), gamma.logsf(inf)'s in x 0 (``-1 / scale``)."""
    if not _traced(x, loc, s, *sh) or not (_may_be_infinite(x) or _may_be_infinite(loc)):
        return None
    at = _infinite_side(x, loc) == (-math.inf if method == "logcdf" else math.inf)
    known = _concrete_behind(at)  # (a device's mask is not read: the selections instead)
    if known is not None and (not known if type(known) is bool else (
            (isinstance(known, (_np.ndarray, _np.generic)) or _special._read_on_host(known))
            and not _any_true(known))):
        return None
    def a():
        # (|x - loc| selected before abs: its partial sign(nan) at x = nan times the 0 of
        # the selection was nan, where the difference's are +-1)
        return fnp.abs(fnp.where(at, fnp.subtract(x, loc), 1.0))

    def big():
        return fnp.where(at, math.inf, 0.0)
    if sh:
        # (the shapes' stand-ins off the held elements, whose terms the selection drops:
        # t's -df (big - log s) was -inf * 0 at df = inf, a warning from jit(t.logcdf),
        # where eager, knowing no x is -inf, computes no term)
        sh = tuple(fnp.where(at, v, safe) for v, safe in zip(sh, dist._safe_values(len(sh))))
    if getattr(dist, "_log_tail_held", False):
        # (-log|z| there, 0 elsewhere: selected already, no second selection)
        return dist._log_tail(fnp.where(at, fnp.subtract(fnp.log(s), math.inf), 0.0))
    return fnp.where(at, dist._log_tail(a, s, big, *sh), 0.0)


def _power_tail(u, s, big, c):  # (u, big: _log_tail_term's functions)
    """``-z^c`` (``z = u / s``) at ``u = inf`` for ``_log_tail``: -inf, with the slopes'
    limits -c z^(c - 1) / s in ``u`` (-inf, -1 / s or 0 for c above, at, below 1), +inf
    in ``s`` and -inf in ``c``: ``-(u / s)^c`` with ``s`` held (its slope ``c z^c / s``
    was ``c * 0 * inf`` for c < 1) and ``-log(u) s0 / s`` with ``log u`` and ``s0 = s``
    held (+inf in ``s``)."""
    s0 = fnp.stop_gradient(s)
    return fnp.subtract(fnp.negative(fnp.power(fnp.divide(u(), s0), c)),
                        fnp.multiply(big(), fnp.divide(s0, s)))


def _valid(ok, out):
    return fnp.where(ok, out, math.nan)


def _where_taken(branches, default):
    """``where(m1, v1(), where(m2, v2(), ... default()))`` for ``branches`` of (mask, function
    giving that branch's value), computing only the branches that some element takes where
    the masks' values are known (plain arrays, eager transforms, vmap; staged code computes
    them all). A branch no element takes is never selected, so the values and derivatives
    are the full chain's. The masks are read on the host (no primitive bound); each value
    must have the chain's full shape."""
    known, batched = zip(*(_concrete_behind(m, report_batch=True)
                           for m, _ in branches))
    if any(m is None for m in known):  # (staged: jit)
        keep = [True] * (len(branches) + 1)
    else:
        # (a mask of Python numbers is a Python bool; the others of the operands' library)
        known = [bool(m) if isinstance(m, (bool, _np.bool_)) else m for m in known]
        if any(batched):
            # (under vmap each mask's array holds the batch axis first and its own axes
            # aligned as its tracer's: lined up with the others', they combine)
            lined = _lined_up([m for m, _ in branches], constants=False)
            if lined is not None:
                known = [bool(m) if isinstance(m, _np.bool_) else m for m in lined[0]]
                batched = [False]
        arrays = [m for m in known if type(m) is not bool]
        bk = _backend_of(arrays[0]) if arrays else None
        if any(batched):
            # (under vmap each mask's array holds the batch axis where its own tracer puts
            # it, or none: masks cannot be combined elementwise, so a branch is kept where
            # its own mask holds anywhere, whatever the axes, and the default always)
            holds = list(known) + [True]
        else:
            def both(m, n):
                if type(m) is bool or type(n) is bool:
                    return (n if m else False) if type(m) is bool else (m if n else False)
                return bk.xp.logical_and(m, n)

            holds, rest = [], True  # rest: the elements no earlier branch claims
            for m in known:
                holds.append(both(m, rest))
                rest = both(rest, (not m) if type(m) is bool else bk.xp.logical_not(m))
            holds.append(rest)
        keep = _any_each(bk, holds)
        if not any(keep):  # (no element at all)
            keep[-1] = True
    # (evaluated in their order, the default last: the order of the full chain's, so
    # that reverse mode sums the cotangents in the same order)
    taken = [(mask, value()) for (mask, value), k in zip(branches, keep) if k]
    out = default() if keep[-1] else None
    for mask, value in reversed(taken):
        out = value if out is None else fnp.where(mask, value, out)
    return out


def _any_each(bk, masks):
    """Whether each of ``masks`` (Python bools, or arrays of backend ``bk``) holds somewhere,
    the arrays' answers read on the host at once (one device synchronisation, not one per
    mask; ~10 us more than one by one for NumPy's, which are read so)."""
    out = list(masks)
    at = [i for i, m in enumerate(masks) if type(m) is not bool]
    if all(isinstance(masks[i], (_np.ndarray, _np.generic)) for i in at):
        # (NumPy's are on the host already: read one by one, no stacking)
        for i in at:
            out[i] = bool(masks[i].any())
        return out
    if len(at) == 1:
        out[at[0]] = bool(bk.to_numpy(bk.xp.any(masks[at[0]])))
    elif at:
        found = bk.to_numpy(bk.xp.stack([bk.xp.any(masks[i]) for i in at]))
        for i, f in zip(at, found.tolist()):
            out[i] = bool(f)
    return out


def _carries_derivative(args):
    """``(carries, staged)``: whether a tracer carrying a derivative (a JVP tracer's
    tangent: forward mode, linearize, jet) wraps one of ``args`` at some level, and whether
    one of them is staged (jit: no concrete values behind its tracers)."""
    carries = staged = False
    for v in args:
        while isinstance(v, _Tracer):
            if getattr(v, "tangent", None) is not None:
                carries = True
            nxt = getattr(v, "primal", None)
            v = getattr(v, "val", None) if nxt is None else nxt
            if v is None:
                staged = True
    return carries, staged


def _value_first(fn, *args, own=True):
    """``(value, live)``: ``fn(*args)`` without derivatives, to choose branches by, and a
    function ``live(mask)`` giving it with them for the elements of ``mask`` (with ``own``;
    the others without: see :func:`_own`). Where a derivative flows, the value comes from
    the stopped operands, and the derivative work (betaincinv's in its shape costs ~7x its
    value) is done only when a branch taken calls ``live``. Staged code with ``own``
    computes the value twice so (the elements not taken then give no nan derivative);
    without ``own`` (where ``fn``'s derivatives are finite at every element), and where no
    derivative flows, ``fn`` is computed once, for both. Same bits either way: the primal
    computation does not depend on the tangents."""
    carries, staged = _carries_derivative(args)
    if not carries or (staged and not own):
        value = fn(*args)
        return value, lambda mask: value
    return fn(*(fnp.stop_gradient(a) for a in args)), lambda mask: fn(*_own(mask, *args))


def _own(mask, *args, read_device=True):
    """``args`` where ``mask`` holds, elsewhere the same values without derivatives (the
    "double where" of a branch: where the branch's result is not selected its partial
    derivatives may be infinite, an infinite one times the zero cotangent the selection
    gives it is nan in reverse mode, and that nan would reach the shared operand; here it
    stops at this where). Same bits. Plain values and masks known to hold everywhere
    (eager, one branch taken throughout) pass as they are; without ``read_device``, only
    masks known on the host (a device's is not read: the selections instead)."""
    if not any(isinstance(a, _Tracer) for a in args):
        return args
    known = _concrete_behind(mask)
    if known is not None and (known if type(known) is bool else (
            (read_device or isinstance(known, (_np.ndarray, _np.generic))
             or _special._read_on_host(known)) and _all_true(known))):
        return args
    return tuple(fnp.where(mask, a, fnp.stop_gradient(a)) if isinstance(a, _Tracer) else a
                 for a in args)


def _all_true(v):
    if isinstance(v, (_np.ndarray, _np.generic)):
        return bool(v.all())
    bk = _backend_of(v)
    return bool(bk.to_numpy(bk.xp.all(v)))


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
        ``z = (x - loc) / scale``, with ``z**2`` exact where some ``|z| >= 4`` (the rounded
        square is ``z**2 / 4`` ulp off: 491 at 36.9; within 4 ulp below 4, 2 beyond, for
        ``loc = 0``, ``scale = 1``; see the primitive ``exp_sq``)."""
        z, ok, s = _standardize(x, loc, scale, "norm.pdf")
        return _valid(ok, fnp.divide(_special_prims.exp_sq(z, -0.5, _INV_SQRT_2PI, 4.0), s))

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
        if allow_singular:
            return _squeeze_all(_singular_logpdf(dev, cov, dim))
        if cov.ndim < 2:  # a scalar or a diagonal: no factorization
            ok = fnp.all(cov > 0.0)
            c = fnp.where(cov > 0.0, cov, 1.0)
            maha = fnp.sum(fnp.divide(dev * dev, c), axis=-1)
            logdet = fnp.sum(fnp.log(c)) * (dim if cov.ndim == 0 else 1)
        else:
            # (SciPy's values: the lower triangle read; the derivative is along symmetric
            # perturbations, a symmetric gradient in cov as JAX's and autograd's, so that a
            # step along it keeps cov symmetric)
            low = fnp.linalg.cholesky(cov, symmetrize_input=False)
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
        a full ``cov`` that is not positive definite raises the backend's error from the
        Cholesky factorization (or gives nan where the library's factorization does: JAX's),
        and a scalar or diagonal ``cov`` with an entry <= 0 gives nan (SciPy raises
        ValueError).

        ``allow_singular=True`` (JAX refuses it) takes a positive semi-definite ``cov``, as
        SciPy: its eigenvalues up to ``1e6 * eps * max|eigenvalue|`` count as zero, the
        density is that of the normal distribution on the range of ``cov`` (the
        pseudo-determinant, the pseudo-inverse, the rank in place of ``d``), and ``-inf``
        at points off that range (farther than ``1e9 * eps * max|eigenvalue|``); nan where
        an eigenvalue is below minus the cutoff (SciPy raises ValueError). Differentiable
        in ``x`` and ``mean``, and in ``cov`` along the perturbations that keep its rank
        (the derivative is that of ``log det(cov + Q)`` and the Mahalanobis term of
        ``cov + Q`` less the null space's, ``Q`` a constant that moves the eigenvalues of
        the null space to 1);
        across a change of rank the density is not differentiable."""
        return self._logpdf(x, mean, cov, allow_singular, "multivariate_normal.logpdf")

    def pdf(self, x, mean=None, cov=1, allow_singular=False):
        """The multivariate normal density at ``x``: ``exp(logpdf(x, mean, cov))`` (see
        :meth:`logpdf`)."""
        return fnp.exp(self._logpdf(x, mean, cov, allow_singular, "multivariate_normal.pdf"))

    def entropy(self, mean=None, cov=1):
        """The differential entropy ``(d (1 + log(2 pi)) + log det(cov)) / 2`` of the
        ``d``-dimensional distribution, as SciPy's; ``cov`` as in :meth:`logpdf` (positive
        definite). It does not depend on ``mean``, which only gives ``d``."""
        if mean is None:  # (zeros of cov's library and device)
            c = cov if hasattr(cov, "shape") else fnp.asarray(cov, dtype=fnp.float64)
            mean = fnp.zeros_like(fnp.reshape(c if c.ndim < 2 else c[0, ...], (-1,)),
                                  dtype=fnp.float64)
        dim = max(math.prod(fnp.shape(mean)), 1)
        # (the log density at the mean: -(log det(cov) + d log(2 pi)) / 2)
        at_mean = self._logpdf(mean, mean, cov, False, "multivariate_normal.entropy")
        return fnp.subtract(0.5 * dim, at_mean)


def _singular_logpdf(dev, cov, dim):
    """The log density of ``multivariate_normal(allow_singular=True)`` at the deviations
    ``dev`` (batch + (dim,)) from the mean: SciPy's values (its ``_PSD``: one symmetric
    eigendecomposition of ``cov``, lower triangle read), written with the nonsingular
    ``cov + Q`` (``Q`` constant: it moves the eigenvalues of the numerical null space to
    1), so that the derivative comes from a Cholesky factor as for a positive definite
    ``cov``."""
    if cov.ndim < 2:  # (a scalar or a diagonal: the matrix, as SciPy makes it)
        cov = fnp.multiply(fnp.eye(dim, dtype=fnp.float64, device=dev.device),
                           fnp.broadcast_to(cov, (dim,)))
    w, u = fnp.linalg.eigh(fnp.stop_gradient(cov), UPLO="L")
    cutoff = 1e6 * 2.0 ** -52 * fnp.max(fnp.abs(w))
    null = w <= cutoff
    basis = fnp.where(null, u, 0.0)  # (the null space's eigenvectors; zero columns else)
    # (cov + q has eigenvalue 1 on the null space, also where cov's are slightly negative)
    q = fnp.matmul(basis * (1.0 - w), fnp.matrix_transpose(basis))
    # (the lower triangle read, and a symmetric gradient, as for a positive definite cov)
    low = fnp.linalg.cholesky(fnp.add(cov, q), symmetrize_input=False)
    n = math.prod(dev.shape[:-1])
    flat = fnp.reshape(dev, (n, dim))
    z = _linalg.solve_triangular(low, fnp.matrix_transpose(flat), lower=True)
    off = fnp.matmul(flat, basis)  # (the deviation's part in the null space)
    maha = fnp.reshape(fnp.sum(z * z, axis=0) - fnp.sum(off * off, axis=-1), dev.shape[:-1])
    log_pdet = 2.0 * fnp.sum(fnp.log(fnp.linalg.diagonal(low)))
    rank = fnp.astype(fnp.sum(fnp.logical_not(null)), fnp.float64)
    out = -0.5 * fnp.add(fnp.add(maha, log_pdet), rank * _LOG_2PI)
    far = fnp.sum(fnp.square(fnp.stop_gradient(off)), axis=-1)  # (a mask: no derivative)
    inside = fnp.reshape(far, dev.shape[:-1]) < fnp.square(1e3 * cutoff)
    out = fnp.where(inside, out, -math.inf)
    return _valid(fnp.min(w) >= -cutoff, out)


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
        tail = getattr(self, "_tail_power", None) is not None
        # (logcdf at -inf / logsf at +inf: held, with the tail's limits: _log_tail_term)
        log_tail = method in ("logcdf", "logsf") and hasattr(self, "_log_tail")
        z, ok, s, held = _standardize(x, loc, scale, f"{self.name}.{method}",
                                      support=(self._a, self._b), tail=tail, held=True,
                                      log_tail=log_tail)
        f = getattr(self, "_" + method)
        if not self._bounded():
            out = f(z)
            if log_tail and held is not None:
                x, loc = _float64((x, loc), f"{self.name}.{method}")
                term = _log_tail_term(self, method, x, loc, s, ())
                if term is not None:
                    out = fnp.add(out, term)
            return _valid(ok, out), s, ok, z, held
        lo, hi = z < self._a, z > self._b
        inside = fnp.logical_not(fnp.logical_or(lo, hi))
        # the end where logcdf / logsf is -inf, where a derivative may be taken there
        k = {"logcdf": 0, "logsf": 1}.get(method)
        end = None if k is None else (self._a, self._b)[k]
        at = None
        if end is not None and math.isfinite(end) and _traced(x, loc, scale):
            at = fnp.equal(z, end)
            if _may_hold(at):
                inside = fnp.logical_and(inside, fnp.logical_not(at))
            else:
                at = None
        out = f(fnp.where(inside, z, self._safe))
        if at is not None:
            out = fnp.where(at, self._log_zero_end(k, end, at, x, loc, s, method), out)
        out = fnp.where(lo, below, fnp.where(hi, above, out))
        return _valid(ok, fnp.where(fnp.isnan(z), math.nan, out)), s, ok, z, held

    def _log_zero_end(self, k, end, at, x, loc, s, method):
        """-inf, with the one-sided limits of the derivatives of the log of the probability
        that is 0 at the end ``k`` (logcdf at the lower end, logsf at the upper) to second
        order, every argument but the one varied held (as ``_Shaped``'s): near the end it
        is ``h |w| (1 + r w / 2)`` (``w = z - end``, ``h`` the density there, ``r`` the log
        density's slope), its log ``log|u| - log(scale) + log h + r w / 2`` with ``u = x -
        loc - end scale`` (the formula gave nan: ``log(z)``'s derivatives times ``z``'s in
        the scale, 0 at an end 0; ``expon.logcdf`` at ``loc`` in the scale, -1/scale)."""
        from ..api import jvp
        x, loc = _float64((x, loc), f"{self.name}.{method}")
        shape = fnp.broadcast_shapes(fnp.shape(at), fnp.shape(x), fnp.shape(loc), fnp.shape(s))

        def full(v):
            return fnp.broadcast_to(v, shape)

        at = full(at)
        e = fnp.asarray(end, dtype=fnp.float64)
        _, rate = jvp(self._logpdf, (e,), (fnp.ones_like(e),))
        w = full(fnp.where(at, fnp.subtract(_z_at_end(x, loc, s), end), 0.0))
        out = fnp.add(_singular_log(at, full(_u_at_end(x, loc, s, end)), 1.0 if k == 0 else -1.0),
                      _scale_power(at, full(s), 1.0))
        out = fnp.add(out, _edge(w, full(fnp.where(at, fnp.multiply(0.5, rate), 0.0))))
        return fnp.add(out, -math.inf)

    def _density(self, x, loc, scale, log):
        method = "logpdf" if log else "pdf"
        out, s, ok, z, held = self._apply(method, x, loc, scale, -math.inf if log else 0.0,
                                          -math.inf if log else 0.0)
        if not log:
            return fnp.divide(out, s)
        ls = fnp.log(s)
        out = fnp.subtract(out, ls)
        if held is not None and getattr(self, "_tail_power", None) is not None:
            # (at x = +-inf, where z is held, the power law's scale slope; the mask is
            # _standardize's: the log density is held at both infinite ends)
            # (c selected on constants: no cotangent selection)
            term = _tail_term(None, fnp.where(held, self._tail_power, 0.0), s, ls)
            if term is not None:
                out = fnp.add(out, term)
        return out

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
        return self._quantile("ppf", q, loc, scale)

    def _quantile(self, method, q, loc, scale):
        q, loc, scale = _float64((q, loc, scale), f"{self.name}.{method}")
        ok = scale > 0.0
        s = fnp.where(ok, scale, 1.0)
        inq = fnp.logical_and(q >= 0.0, q <= 1.0)
        f = getattr(self, "_" + method)
        out = fnp.add(fnp.multiply(f(fnp.where(inq, q, 0.5)), s), loc)
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
    if hasattr(cls, "_isf"):
        docs["isf"] = (f"The inverse survival function (inverse of ``sf``) of the {what} "
                       f"distribution; nan for ``q`` outside [0, 1].")

    def make(m):
        if m == "isf":
            def method(self, q, loc=0, scale=1):
                return self._quantile("isf", q, loc, scale)
            return method
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
    _notes = {"ppf": "``loc + scale * logit(q)``.",
              "isf": "``loc - scale * logit(q)`` (accurate for small ``q``)."}

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

    def _isf(self, q):
        return -_special.logit(q)


class _Cauchy(_LocScale):
    """The Cauchy (Lorentz) distribution, as ``scipy.stats.cauchy``."""

    name = "cauchy"
    _notes = {"cdf": "``atan2(1, -z) / pi`` (relative accuracy in the lower tail).",
              "logcdf": "``log1p(-sf)`` above ``loc`` (a little more accurate than SciPy's "
                        "``log(cdf)`` there); below ``z = -1``, ``log(atan(w) / w) - "
                        "log(-z) - log(pi)`` with ``w = -1 / z``, whose slopes hold where "
                        "``1 / (1 + z^2)`` underflows (the slope in the scale is ``1 / "
                        "scale`` far out).",
              "logsf": "``log1p(-cdf)`` below ``loc``; the mirror of ``logcdf`` above.",
              "sf": "``atan2(1, z) / pi`` (relative accuracy in the upper tail).",
              "ppf": "``-1 / tan(pi q)`` in the lower tail, ``1 / tan(pi (1 - q))`` in the "
                     "upper, ``tan(pi (q - 1/2))`` between (accurate as SciPy's).",
              "isf": "``-ppf(q)`` (the distribution is symmetric; accurate for small "
                     "``q``: ``isf(1e-300)`` is 3.2e299)."}

    _tail_power = 2.0  # (log density -2 log|z| - log(pi) + ... at large |z|)

    _log_tail_held = True

    def _log_tail(self, neg_log_z):
        # (logcdf at -inf / logsf at +inf: -log|z| - log(pi) + ...; its slopes' limits: 0
        # in x and loc, 1 / scale in the scale)
        return neg_log_z

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
        # (far in the lower tail, z < -1: log(atan(w) / w) - log(-z) - log(pi), w = -1 / z;
        # log(cdf) took its slope from atan2's, 1 / (1 + z^2), which underflows past |z| ~
        # 1e154: grad of cauchy.logcdf(-1e300, 0., s) in s was 0, true 1 / s)
        far = z < -1.0
        zf = fnp.where(far, z, -2.0)
        w = -1.0 / zf   # (0 at z = -inf: log(atan(w) / w) is 0 there)
        some = w > 0.0
        ratio = fnp.where(some, fnp.atan(w) / fnp.where(some, w, 1.0), 1.0)
        lower = fnp.log(ratio) - fnp.log(-zf) - _LOG_PI
        near = fnp.log(self._cdf(fnp.where(fnp.logical_or(pos, far), -1.0, z)))
        return fnp.where(pos, fnp.log1p(-self._sf(fnp.where(pos, z, 1.0))),
                         fnp.where(far, lower, near))

    def _logsf(self, z):
        return self._logcdf(-z)

    def _ppf(self, q):
        lo, hi = q < 0.25, q > 0.75
        mid = fnp.logical_not(fnp.logical_or(lo, hi))
        t_lo = -1.0 / fnp.tan(math.pi * fnp.where(lo, q, 0.1))
        t_hi = 1.0 / fnp.tan(math.pi * (1.0 - fnp.where(hi, q, 0.9)))
        t_mid = fnp.tan(math.pi * (fnp.where(mid, q, 0.5) - 0.5))
        return fnp.where(lo, t_lo, fnp.where(hi, t_hi, t_mid))

    def _isf(self, q):
        return -self._ppf(q)


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


def _log_gamma_half_ratio_excess(y):
    """``log(gamma(y + 1/2) / gamma(y)) - log(y) / 2`` for ``y > 0`` (-1/(8y) + ...): the
    primitive lgamma_half_excess (its derivatives of one sign, any order). (t's log density:
    the difference of _log_gamma_half_ratio, whose ``log(y) / 2`` has the slope 1/(2y), and
    ``log(df) / 2`` cancelled to an O(1/y^2) slope in df; until session 52 below y = 25
    gammaln's difference, whose slope lost ~8 y^2 digamma(y) eps: 1e4 eps of t.logpdf's df
    slope at (0.31, 49.9, 0.3, 0.7), against 1 above df = 50.)"""
    return _special_prims.lgamma_half_excess(y)


# (t's log density's kernel (df + 1) / 2 log1p(z^2 / df) with a derivative in the scale:
# where z^2 / df is at most _T_NEAR and df from _T_NEAR_DF the primitive t_log_kernel in z
# itself, else the plain form with e (_T._log_density))
_T_NEAR = 0.25
_T_NEAR_DF = 8.0


def _t_log_kernel(d, zz):
    """``(d + 1) / 2 log1p(zz / d)`` (``zz``: ``z^2``) by the primitive t_log_kernel: its
    slopes in closed form, the one in ``d`` (``log1p(v) / 2 - (d + 1) v / (2 d (1 + v))``,
    ``v = zz / d``, each term ~``v / 2``) without their cancellation where ``v <= 0.6``
    (``grad`` in df of t.logpdf(2, 1e20, 0.3, 0.7) was 0, true -5.4975e-40; 97 eps off at
    (1.5, 49.9) before session 52). (Session 52's first form, ``z^2 / 2 + (d / 2)
    log1pmx(v) + log1p(v) / 2`` in functrans.numpy's operations beside the plain one, cost
    eager grad in df at one df over 1e4 points +50 %; this one is one equation.)"""
    if d.shape != zz.shape:   # (the primitive is shape-strict)
        shape = fnp.broadcast_shapes(d.shape, zz.shape)
        d, zz = (a if a.shape == shape else fnp.broadcast_to(a, shape) for a in (d, zz))
    return _special_prims.t_log_kernel(d, zz)


# -- the logarithms of the incomplete gamma and beta functions where they underflow ------------

_TINY = 1e-280  # below this the probabilities are taken from their log-space series
_SERIES_TERMS = 32  # (each series is used where its terms shrink by 0.3 at least)
_CF_TERMS = 30


def _log_prob(p, q, log_tail, tail):
    """``log(p)`` for a probability ``p`` with complement ``q`` (each computed directly):
    ``log1p(-q)`` where ``p > 1/2``, ``log(p)`` where it is representable, and
    ``log_tail()`` (a log-space formula) where ``tail`` (where ``p`` underflows or has lost
    its digits; computed only where some element is there, where that is known: the
    series costs ~130 operations)."""
    def direct():
        big = p > 0.5
        return fnp.where(big, fnp.log1p(-fnp.where(big, q, 0.0)),
                         fnp.log(fnp.where(fnp.logical_or(big, tail), 1.0, p)))
    return _where_taken([(tail, log_tail)], direct)


def _log_series(ratio_of, n_terms=_SERIES_TERMS):
    """``log(1 + t1 + t2 + ...)`` with ``t_n = t_{n-1} * ratio_of(n)`` (positive ratios
    at most 0.3, summed from the smallest term)."""
    terms = []
    t = None
    for n in range(1, n_terms + 1):
        r = ratio_of(n)
        t = r if t is None else fnp.multiply(t, r)
        terms.append(t)
    total = terms[-1]
    for t in reversed(terms[:-1]):
        total = fnp.add(total, t)
    return fnp.log1p(total)


def _log_gammainc(a, x):
    """``log P(a, x)`` (the regularized lower incomplete gamma function), accurate where
    ``P`` underflows: ``a log x - x - gammaln(a + 1) + log(sum_n x^n / ((a+1)...(a+n)))``
    where ``x <= 0.3 (a + 1)``, else ``log(P)`` (``log1p(-Q)`` near 1)."""
    p, q = _special.gammainc(a, x), _special.gammaincc(a, x)
    # (not at a = inf, P = 0: the series' lead there was inf - inf, nan where x > 1)
    tail = fnp.logical_and(p < _TINY, fnp.less_equal(x, 0.3 * (a + 1.0)))
    if _may_hold(a == math.inf):
        tail = fnp.logical_and(tail, a < math.inf)

    def log_tail():
        xs = fnp.where(tail, x, fnp.multiply(0.2, a + 1.0))
        lead = fnp.subtract(fnp.subtract(_special._xlogy_weak(a, xs), xs),
                            _special.gammaln(a + 1.0))
        return fnp.add(lead, _log_series(lambda n: fnp.divide(xs, a + float(n))))
    return _log_prob(p, q, log_tail, tail)


def _log_gammaincc(a, x):
    """``log Q(a, x)`` (the regularized upper incomplete gamma function), accurate where
    ``Q`` underflows: ``(a - 1) log x - x - gammaln(a) + log(x / (x + 1 - a - 1 (1 - a) /
    (x + 3 - a - ...)))`` (Legendre's continued fraction, evaluated from its 30th level)
    where ``x >= 2 (a + 1)`` and ``x > 50``, else ``log(Q)`` (``log1p(-P)`` near 1)."""
    p, q = _special.gammainc(a, x), _special.gammaincc(a, x)
    tail = fnp.logical_and(q < _TINY, fnp.logical_and(
        fnp.greater_equal(x, 2.0 * (a + 1.0)), x > 50.0))

    def log_tail():
        xs = fnp.where(tail, x, fnp.maximum(fnp.multiply(2.0, a + 1.0), 100.0))
        t = None
        for n in range(_CF_TERMS, 0, -1):
            den = fnp.subtract(xs, a) + (2.0 * n + 1.0)
            num = fnp.multiply(float(n), float(n) - a)
            t = fnp.divide(num, den if t is None else fnp.subtract(den, t))
        frac = fnp.divide(xs, fnp.subtract(fnp.subtract(xs, a) + 1.0, t))  # x * CF
        lead = fnp.subtract(fnp.subtract(_special._xlogy_weak(a - 1.0, xs), xs),
                            _special.gammaln(a))
        return fnp.add(lead, fnp.log(frac))
    return _log_prob(q, p, log_tail, tail)


def _log_betainc(a, b, x, y, p=None, q=None):
    """``log I_x(a, b)`` (the regularized incomplete beta function) with ``y = 1 - x``,
    accurate where ``I`` underflows: ``a log x + b log y - log a -
    betaln(a, b) + log(1 + sum_n prod_k (a + b + k) x / (a + 1 + k))`` where each ratio
    is at most 0.3, by the continued fraction (:func:`_log_betainc_fraction`) above that
    and below the mean, else ``log(I)`` (``log1p`` of minus the complement near 1). ``p``
    and ``q`` (``I_x(a, b)`` and its complement) may be given where the caller computes them
    more accurately (``y`` rounded: ``1 - x`` for a tiny ``x`` is 1)."""
    p = _special.betainc(a, b, x) if p is None else p
    q = _special.betainc(b, a, y) if q is None else q
    bound = fnp.multiply(x, fnp.maximum(fnp.divide(fnp.add(a, b), a + 1.0), 1.0))
    # (below _BETA_LOG_FORMS_BELOW too, not only where I underflows: log(I)'s x slope is
    # betainc's, the density over I, whose logarithm a log x + b log1p(-x) - betaln(a, b)
    # loses eps times its terms (logcdf(3/7, 1e4, 1e4)'s slope 2.7e-12 off, I = 5.6e-92);
    # the series' and the fraction's (its front's terms of the result's size) within 1e-15)
    tiny = p < _BETA_LOG_FORMS_BELOW
    by_series = fnp.logical_and(tiny, bound <= 0.3)
    # (above it the series' terms shrink too slowly: beta.logcdf(0.65, 1e20, 2, 0.3, 0.7)
    # was -inf, true -6.93e19; the fraction where it converges, x below (a + 1) / (a + b))
    by_fraction = fnp.logical_and(fnp.logical_and(tiny, bound > 0.3), fnp.logical_and(
        bound < 1.0, fnp.logical_and(x < 1.0, y > 0.0)))

    def series():
        # (elsewhere a stand-in inside the series' domain, without a derivative: the
        # tangent of x / bound would overflow where x is tiny)
        xs = fnp.where(by_series, x, fnp.stop_gradient(fnp.divide(
            fnp.multiply(0.2, x), fnp.where(by_series, 1.0, bound))))
        ys = fnp.where(by_series, y, 1.0 - xs)
        lead = fnp.subtract(fnp.add(_special._xlogy_weak(a, xs), _special._xlogy_weak(b, ys)),
                            fnp.add(fnp.log(a), _special.betaln(a, b)))
        terms = _log_series(lambda n: fnp.divide(
            fnp.multiply(fnp.add(a, b) + (n - 1.0), xs), a + float(n)))
        return fnp.add(lead, terms)

    def fraction():
        # (a stand-in elsewhere, without derivatives: x at half the mean, both shapes 1
        # where one is not a positive finite number)
        a_f, b_f, x_f, y_f = _own(by_fraction, a, b, x, y)
        fine = fnp.logical_and(fnp.isfinite(fnp.add(a_f, b_f)),
                               fnp.logical_and(a_f > 0.0, b_f > 0.0))
        a_f, b_f = fnp.where(fine, a_f, 1.0), fnp.where(fine, b_f, 1.0)
        x0 = fnp.stop_gradient(fnp.divide(0.5 * (a_f + 1.0), fnp.add(a_f, b_f) + 2.0))
        x_f = fnp.where(by_fraction, x_f, x0)
        y_f = fnp.where(by_fraction, y_f, 1.0 - x0)
        return _log_betainc_fraction(a_f, b_f, x_f, y_f)
    tail = fnp.logical_or(by_series, by_fraction)
    return _log_prob(p, q, lambda: _where_taken(
        [(by_series, series), (by_fraction, fraction)], lambda: fnp.zeros_like(p)), tail)


# (where I_x underflows above the series' domain the levels beyond the 12th changed no
# value or slope on a grid of a from 600 to 1e20, b to a, x to 0.999 of the mean)
_BETA_CF_TERMS = 16
# (the log forms from here down: the fraction's 16 levels are within 1.5e-15 of log I from
# about 14 standard deviations below the mean, log I ~ -100, for a, b from 200 to 1e5
# (mpmath's 2F1); 1e-12 at 8, log I ~ -35)
_BETA_LOG_FORMS_BELOW = 1e-45


def _log_betainc_fraction(a, b, x, y):
    """``log I_x(a, b)`` for ``0 < x < (a + 1) / (a + b)`` (and ``x (a + b) / (a + 1) >
    0.3``, where the series is not used) where ``I`` underflows: the logarithm of the
    prefactor ``x^a y^b / (a B(a, b))`` (:func:`functrans.scipy.special._log_beta_front`, its
    terms of the result's size at any shapes) plus that of the continued fraction ``1 / (1 +
    d1 / (1 + d2 / ...))``, ``d_(2m+1) = -(a+m)(a+b+m) x / ((a+2m)(a+2m+1))``, ``d_(2m) = m
    (b-m) x / ((a+2m-1)(a+2m))`` (each as a product of quotients: the shapes' products
    overflowed from 1e154), evaluated from its _BETA_CF_TERMS-th level, its first level's
    ``1 + d1`` written ``(1 - b + (a+b) y) / (a+1)`` (for a large ``a`` it cancels to about
    ``y`` of 1; see :func:`_log_t_tail`). There ``I`` underflows only for a large ``a``
    (above ~500), where the odd levels are about ``-x (a + b) / a`` and the even ones
    ``m b x / a^2``: it converges in a few levels, but near the mean. Differentiable (its
    operations)."""
    log_x, log_y = fnp.log(x), fnp.log(y)
    front = _special._log_beta_front(a, b, x, y, log_x, log_y)
    ab = fnp.add(a, b)
    f = None  # 1 + d_k / (1 + ...) from the last level down to k = 3
    for k in range(_BETA_CF_TERMS, 2, -1):
        m = k // 2
        if k % 2:
            d = fnp.negative(fnp.multiply(fnp.multiply(
                fnp.divide(a + float(m), a + 2.0 * m), fnp.divide(ab + float(m),
                                                                a + (2.0 * m + 1.0))), x))
        else:
            d = fnp.multiply(fnp.multiply(fnp.divide(float(m), a + (2.0 * m - 1.0)),
                                          fnp.divide(b - float(m), a + 2.0 * m)), x)
        f = 1.0 + (d if f is None else fnp.divide(d, f))
    # d2 / f, and 1 + d1 / (1 + g) = ((1 + d1) + g) / (1 + g)
    g = fnp.divide(fnp.multiply(fnp.multiply(fnp.divide(1.0, a + 1.0),
                                             fnp.divide(b - 1.0, a + 2.0)), x), f)
    one_d1 = fnp.divide(fnp.add(1.0 - b, fnp.multiply(ab, y)), a + 1.0)
    return fnp.subtract(fnp.add(front, fnp.log1p(g)), fnp.log(fnp.add(one_d1, g)))


def _make_edge():
    import functools
    from ..custom import SymbolicZero, custom_jvp
    from ..primitives.linear_call import linear_call

    @custom_jvp
    def mul0(c, t):
        """``c * t``, 0 where either is (an infinite slope along a direction that does not
        move ``w``: a joint jacfwd's other columns; a 0 partial of ``w`` times an infinite
        cotangent); its derivatives the same products (``dc * t + c * dt``)."""
        zero = fnp.logical_or(t == 0.0, c == 0.0)
        # (both factors 0 there: no inf * 0 in the unselected branch's derivatives)
        return fnp.multiply(fnp.where(zero, 0.0, c), fnp.where(zero, 0.0, t))

    def tangent_sum(out, terms):
        """``out`` and the sum of ``linear_call(f, f, res, d)`` over ``terms`` ``(d, f,
        res)`` whose ``d`` is no symbolic zero (a symbolic zero where every one is)."""
        tan = None
        for d, f, res in terms:
            if type(d) is not SymbolicZero:
                u = linear_call(f, f, res, d)
                tan = u if tan is None else fnp.add(tan, u)
        return out, SymbolicZero.from_primal_value(out) if tan is None else tan

    @functools.partial(mul0.defjvp, symbolic_zeros=True)
    def _(primals, tangents):
        c, t = primals
        dc, dt = tangents
        return tangent_sum(mul0(c, t), ((dc, times, (t,)), (dt, times, (c,))))

    def times(res, t):
        """``mul0(c, t)``, linear in ``t``: its own transpose."""
        return mul0(res[0], t)

    def held(res, t):
        """``w * t``: 0 in value (``w`` is 0), ``t`` as its derivative in ``w`` (whatever
        ``t``, an infinite one too); its own transpose."""
        return edge(res[0], t)

    @custom_jvp
    def edge(w, slope):
        return fnp.multiply(fnp.zeros_like(w), fnp.zeros_like(slope))

    @functools.partial(edge.defjvp, symbolic_zeros=True)
    def _(primals, tangents):
        w, slope = primals
        dw, ds = tangents
        return tangent_sum(edge(w, slope), ((dw, times, (slope,)), (ds, held, (w,))))

    @custom_jvp
    def ratio(num, s):
        return fnp.divide(num, s)

    @functools.partial(ratio.defjvp, symbolic_zeros=True)
    def _(primals, tangents):
        num, s = primals
        dnum, ds = tangents
        out = ratio(num, s)
        t = None
        if type(dnum) is not SymbolicZero:
            t = linear_call(times, times, (fnp.divide(1.0, s),), dnum)
        if type(ds) is not SymbolicZero:
            # (-num / s^2 by ratio too: its own derivative in s, 2 num / s^3, times an
            # infinite cotangent is 0 at num = 0 as well)
            u = linear_call(times, times, (fnp.negative(ratio(out, s)),), ds)
            t = u if t is None else fnp.add(t, u)
        if t is None:
            return out, SymbolicZero.from_primal_value(out)
        return out, t

    @custom_jvp
    def log_ratio(s, s0):
        return fnp.subtract(fnp.log(s), fnp.log(s0))

    @functools.partial(log_ratio.defjvp, symbolic_zeros=True)
    def _(primals, tangents):
        s, s0 = primals
        ds, ds0 = tangents
        # (1/s times the tangent by mul0: its derivative -1/s^2 times an infinite
        # cotangent along a direction that does not move s is 0, not nan)
        return tangent_sum(log_ratio(s, s0), ((ds, times, (fnp.divide(1.0, s),)),
                                              (ds0, times, (fnp.divide(-1.0, s0),))))

    return edge, ratio, mul0, log_ratio


_edge, _ratio_zero, _mul0, _log_ratio = _make_edge()
_edge.__doc__ = """``w * slope`` where ``w`` is 0 (a support end, ``w = z - end``), to every
order, without ``0 * inf``: 0 in value, with the tangent ``slope * dw + w * dslope`` (the
first term 0 where ``dw`` is, the second 0 in value, with ``dslope`` as its derivative in
``w``; each transposed as itself). Both arguments of one shape."""
_log_ratio.__doc__ = """``log(s) - log(s0)`` whose derivatives times a tangent or cotangent
are 0 where the tangent is (an infinite slope times ``1/s``: its derivative in ``s`` along a
direction that does not move ``s`` was ``inf * 0``). Both arguments of one shape."""
_ratio_zero.__doc__ = """``num / s`` whose partials times a tangent or cotangent are 0 where
the partial is (``-num / s^2`` at ``num = 0``), whatever the other factor: ``z = (x - loc) /
scale`` at a support end 0, where the scale does not move ``z`` and the slope (or its
derivative) may be infinite. Both arguments of one shape."""


def _finite_square(p):
    """``p^2`` where ``p`` is finite, else 0."""
    fin = p < math.inf
    return fnp.where(fin, fnp.square(fnp.where(fin, p, 0.0)), 0.0)


def _z_at_end(x, loc, s):
    """``(x - loc) / s`` by ``_ratio_zero`` (for the support ends' terms)."""
    num = fnp.subtract(x, loc)
    shape = fnp.broadcast_shapes(fnp.shape(num), fnp.shape(s))
    return _ratio_zero(fnp.broadcast_to(num, shape), fnp.broadcast_to(s, shape))


def _u_at_end(x, loc, s, e):
    """``x - loc - e s``: ``(z - e) s`` without the division (``e`` a Python number or an
    array, 0 where infinite; ``e s`` by ``_mul0``: an infinite cotangent times ``e = 0`` was
    nan). An array ``e`` (an end that moves with the shapes, truncnorm's) enters linearly,
    ``e0 s + (e - e0) s0`` (``e0``, ``s0`` the values): its cross second derivative in
    the scale and the shape, times ``log|u|``'s infinite slope, was ``inf - inf`` against
    the square of the first derivatives, which outgrows it; kept where ``e0`` is 0 (that
    square is 0 there)."""
    u = fnp.subtract(x, loc)
    if type(e) is float and e == 0.0:
        return u
    if type(e) is float:
        shape = fnp.broadcast_shapes(fnp.shape(u), fnp.shape(s))
        return fnp.subtract(u, _mul0(fnp.broadcast_to(e, shape), fnp.broadcast_to(s, shape)))
    e = fnp.where(fnp.isfinite(e), e, 0.0)
    shape = fnp.broadcast_shapes(fnp.shape(u), fnp.shape(e), fnp.shape(s))
    e, s = fnp.broadcast_to(e, shape), fnp.broadcast_to(s, shape)
    e0, s0 = fnp.stop_gradient(e), fnp.stop_gradient(s)
    de = fnp.subtract(e, e0)
    es = fnp.add(_mul0(e0, s), _mul0(de, s0))
    es = fnp.add(es, fnp.where(e0 == 0.0, _mul0(de, fnp.subtract(s, s0)), 0.0))
    return fnp.subtract(u, es)


def _singular_log(at, u, side, sign=1.0):
    """0 in value: where ``at``, the derivatives of ``sign * log|u|`` at ``u = 0`` from the
    side ``side`` (1: ``u > 0``): ``side * sign * inf`` the first, ``-sign * inf`` the
    second."""
    first = fnp.multiply(side * math.inf, sign)
    second = fnp.multiply(-math.inf, sign)
    return _edge(u, fnp.where(at, fnp.add(first, _edge(u, fnp.where(at, second, 0.0))), 0.0))


def _scale_power(at, s, power):
    """0 in value: where ``at``, the derivatives of ``-power * log(scale)`` (``power`` may
    carry derivatives of its own, and be infinite). A function near a support end that is
    ``c |w|^m`` (``w = (x - loc) / scale - end``) times ``scale^-j`` (``j`` = 1 for a
    density, 0 for a probability) is ``c |u|^m scale^-(m + j)`` with ``u = x - loc - end
    scale``: its log ``m log|u|`` (``_singular_log``, infinite derivatives) and this term
    with ``power = m + j``, which gives the one-sided limits with ``x`` (not ``z``) held:
    ``d/dscale gamma.logpdf(x, .5, 0., s)`` at (0, 2) is ``-(m + 1) / s = -1/4``. Each
    argument of one shape."""
    return _edge(_log_ratio(s, fnp.stop_gradient(s)), fnp.where(at, fnp.negative(power), 0.0))


def _infinite_rate(at, rate, u, s):
    """0 in value: where ``at`` and the rate ``r`` of the log density's (or probability's)
    regular part ``r w`` at an end 0 is infinite (``-(u / scale)^c`` of weibull_min, ``c <
    1``: ``r`` the slope of ``-z^c`` at 0), its one remaining limit that is not outgrown by
    the singular part's: d2/du dscale ``-r / scale^2`` (``+-inf``), with ``u = x - loc``.
    The finite ``r w`` is written by the caller (its first derivatives ``r / scale`` in
    ``x`` would meet the singular part's ``inf`` of the other sign). Each argument of
    one shape."""
    big = fnp.logical_and(at, fnp.logical_not(fnp.isfinite(rate)))
    return _edge(u, _edge(fnp.subtract(s, fnp.stop_gradient(s)),
                          fnp.where(big, fnp.negative(rate), 0.0)))


def _traced(*args):
    """Whether a derivative may be taken of a function of ``args`` (one is a tracer)."""
    from ..core import Tracer
    return any(isinstance(a, Tracer) for a in args)


def _at_ends(z, lo, hi):
    """``[(at, lo), (at, hi)]``: ``at`` where ``z`` sits on that end of the support (the ends
    Python numbers, or arrays where they depend on the shapes; an array end counts where it
    is finite), ``(None, None)`` for an infinite Python-number end."""
    out = []
    for e in (lo, hi):
        if type(e) is float:
            out.append((z == e, e) if math.isfinite(e) else (None, None))
        else:
            out.append((fnp.logical_and(z == e, fnp.isfinite(e)), e))
    return out


def _may_be_at_end(ats):
    """Whether some element of ``z`` may sit at a finite end of the support (``ats`` from
    ``_at_ends``): False only where the values are known (plain arrays, eager transforms)
    and none does. The end slopes cost two more densities over ``z`` (beta.cdf took 8x as
    long with them) and are needed only there; staged code (jit) keeps them."""
    at = None
    for hit, _ in ats:
        if hit is not None:
            at = hit if at is None else fnp.logical_or(at, hit)
    return at is not None and _may_hold(at)


def _infinite_shape(sh):
    """Where some shape parameter is +inf (None where known to be nowhere: no operation)."""
    mask = None
    for p in sh:
        m = p == math.inf
        mask = m if mask is None else fnp.logical_or(mask, m)
    return mask if mask is not None and _may_hold(mask) else None


def _nan_at(mask, out, *ops):
    """``out`` with nan where ``mask``: the value and its derivatives in ``ops`` (nan times
    each operand's tangent there; 0 times 0 elsewhere, also in reverse mode, where a
    selection's zero cotangent times nan would be nan)."""
    carrier = None
    for v in ops:
        w = fnp.where(mask, v, 0.0)
        carrier = w if carrier is None else fnp.add(carrier, w)
    return fnp.add(out, fnp.multiply(fnp.where(mask, math.nan, 0.0), carrier))


class _Shaped:
    """A continuous distribution with shape parameters, of ``(x - loc) / scale`` on the
    standard support ``[_a, _b]``: ``logpdf`` and ``pdf``. The subclasses give ``_logpdf(z,
    *shapes)`` (called with ``z`` inside the support and valid shapes only) and
    ``_check(*shapes)``, the validity of the shapes."""

    name = ""
    _a, _b = -math.inf, math.inf
    _safe = 0.5
    _shapes = ()
    # (an infinite shape with no limiting density (gamma, chi2: the mass escapes to
    # infinity; beta: a point mass): pdf and logpdf nan inside the support, ppf and isf
    # nan for 0 < q < 1, with nan derivatives, as SciPy's (its pdf is nan there but where
    # its log density's terms give -inf, chi2.pdf(0.5, inf) 0 and (2, inf) nan); cdf and
    # sf keep the limits (0, 1) and the log methods their logarithms)
    _nan_at_infinite_shape = False

    def __repr__(self):
        return "functrans.scipy.stats." + self.name

    def _safe_values(self, n):
        """Stand-ins for invalid shape parameters (valid ones: each method runs on them)."""
        safe = getattr(self, "_safe_shapes", None)
        return safe if safe is not None else (self._safe_shape,) * n

    def _support(self, *shapes):
        """The standard support's ends (Python numbers, or arrays where they depend on the
        shapes)."""
        return self._a, self._b

    def _inner(self, *shapes):
        """A point strictly inside the standard support."""
        return self._safe

    def _density(self, method, x, shapes, loc, scale, log):
        name = f"{self.name}.{method}"
        x, loc, scale, *sh = _float64((x, loc, scale) + tuple(shapes), name)
        ok = fnp.logical_and(scale > 0.0, self._check(*sh))
        s = fnp.where(scale > 0.0, scale, 1.0)
        good = self._check(*sh)
        sh = [fnp.where(good, p, safe) for p, safe in zip(sh, self._safe_values(len(sh)))]
        traced = _traced(x, loc, scale, *shapes)
        held_term = None
        if traced and (_may_be_infinite(x) or _may_be_infinite(loc)):
            # (z held where x (or loc) is infinite and the value is held there; the log
            # density's scale slope there: -1 / scale, and a power law's c / scale:
            # _tail_term)
            if not log:
                x, loc, s, *sh = _held_at_infinity(method, x, loc, s, *sh)
            else:  # (the shapes' slopes: the log density's limits there)
                xs = fnp.stop_gradient(x)
                live = isinstance(s, _Tracer)  # (the scale's slope wanted)
                held, c = self._log_held_at_infinity(_infinite_side(x, loc, xs), sh, live)
                if held is not None:
                    held_term = _tail_term(None, c, s) if live else None
                    x, loc, s = _held(held, (x, loc, s), xs)
        if traced and not log and hasattr(self, "_exp_power_shape"):
            # (pdf where the density underflows as a power z^c overflows in exp(-z^c): the
            # operands held there, so that its slopes are 0, as the true ones underflow, not
            # exp(-inf) times the log density's infinite slopes: nan in c for
            # weibull_min.pdf(1e300, 1.5), in every parameter at c = 1e20, x = 1e30)
            x, loc, s, *sh = self._held_where_power_overflows(x, loc, s, sh)
        # (the end terms and limits only where some z may sit on a finite end of the
        # support: each is 0 / the formula elsewhere, and they cost more than the density
        # itself at a scalar)
        ends = traced and self._may_sit_on_end(x, loc, s, sh)
        # (staged, _log_zero_ends recomputes the log density away from the ends, where
        # some end may hold: this one is used at the ends only, _logpdf_at_end's there; f's
        # f_logpdf_fix twice cost jit(f.logpdf) ~7 %)
        at_end = (log and ends and hasattr(self, "_end_power")
                  and any(_concrete_behind(v) is None for v in (x, loc, s, *sh)))
        out = self._log_density(x, loc, s, *sh, at_end=at_end)
        if self._nan_at_infinite_shape:
            wild = _infinite_shape(sh)
            if wild is not None:
                z = fnp.divide(fnp.subtract(x, loc), s)
                lo, hi = self._support(*sh)
                wild = fnp.logical_and(wild, fnp.logical_and(z > lo, z < hi))
                out = _nan_at(wild, out, x, loc, s, *sh)
        terms = self._end_terms(x, loc, s, sh, log) if ends else None
        if log:
            if ends:
                out = self._log_zero_ends(out, x, loc, s, sh)
            if held_term is not None:
                out = fnp.add(out, held_term)
            return _valid(ok, out if terms is None else fnp.add(out, terms))
        if terms is not None:
            # (beside exp, not inside: its infinite derivative times exp's own derivatives
            # in reverse mode was nan)
            return _valid(ok, fnp.add(self._pdf_of_log(out, x, loc, s, sh), terms))
        return _valid(ok, self._pdf_of_log(out, x, loc, s, sh) if traced else fnp.exp(out))

    def _held_where_power_overflows(self, x, loc, s, sh):
        """``(x, loc, s, *sh)`` held where ``|z|^p`` overflows (``_power_overflows``; ``p``
        the shape ``_exp_power_shape`` names: a density ``exp(-|z|^p)``); NumPy's arrays
        behind eager operands (no batch) tried first, on the host: no operation where none
        overflows (eager grad of gennorm.pdf at a scalar +14 % otherwise)."""
        ops = (x, loc, s, *sh)
        k = self._exp_power_shape
        behind = [_concrete_behind(v, True) for v in (x, loc, s, sh[k])]
        if all(isinstance(v, (_np.ndarray, _np.generic)) and not b for v, b in behind):
            (xv, _), (lv, _), (sv, _), (pv, _) = behind
            with _np.errstate(all="ignore"):
                if not (pv * _np.log(_np.abs((xv - lv) / sv)) > 709.0).any():
                    return ops
        z = fnp.divide(fnp.subtract(fnp.stop_gradient(x), fnp.stop_gradient(loc)),
                       fnp.stop_gradient(s))
        return _held(_power_overflows(z, fnp.stop_gradient(sh[k])), ops)

    def _log_held_at_infinity(self, xs, sh, slope=True):
        """``(held, c)`` for the log density at an infinite ``x`` (``xs``, without
        derivatives): where it is held (beyond a finite end of the support, or at an
        infinite end with a power-law tail, ``_tail_finite``), and its slope in the scale
        there times the scale (0 elsewhere; None without ``slope``): -1 beyond an end
        (``-log(scale)``'s), ``_tail_slope`` on a power-law tail (``-c log|z| -
        log(scale)``: ``c - 1``); ``(None, None)`` where no element may be held. Python bools for the support's constant ends take no
        operation (t: ``isinf(x) & (df < inf)``, c = df)."""
        lo, hi = self._support(*sh)
        tail = self._tail_finite(*sh) if hasattr(self, "_tail_finite") else False

        def at(end, sign):  # (held at this end, and on a power-law tail there)
            fin = (end > -math.inf if sign < 0 else end < math.inf) if type(end) is float \
                else (fnp.greater(end, -math.inf) if sign < 0 else fnp.less(end, math.inf))
            if type(fin) is bool:
                return (True, False) if fin else (tail, tail)
            into = _both(fnp.logical_not(fin), tail)
            return _either(fin, into), into

        (held_lo, into_lo), (held_hi, into_hi) = at(lo, -1), at(hi, 1)
        held = _at_infinite_ends(xs, held_lo, held_hi)
        if held is False:
            return None, None
        if not slope:
            return held, None
        # (c selected, 0 elsewhere: an infinite slope, t's at df = inf, beside the 0 of a
        # selection was nan in the scale)
        if into_lo is held_lo and into_hi is held_hi:
            return held, fnp.where(held, self._tail_slope(*sh), 0.0)
        into = _at_infinite_ends(xs, into_lo, into_hi)
        rest = fnp.where(held, -1.0, 0.0)
        if into is False:
            return held, rest
        return held, fnp.where(into, self._tail_slope(*sh), rest)

    def _may_sit_on_end(self, x, loc, s, sh):
        """Whether some ``z = (x - loc) / s`` may sit on a finite end of the support (always
        under staging: ``_may_be_at_end``). False without end terms (t, gennorm...)."""
        if not (hasattr(self, "_end_power") or hasattr(self, "_flat_log_end")):
            return False
        z = fnp.divide(fnp.subtract(fnp.stop_gradient(x), fnp.stop_gradient(loc)),
                       fnp.stop_gradient(s))
        return _may_be_at_end(_at_ends(z, *self._support(*[fnp.stop_gradient(p)
                                                             for p in sh])))

    def _pdf_of_log(self, out, x, loc, s, sh):
        """pdf from the log density ``out`` under a derivative: ``exp``, or
        ``_end_density`` where the density may be 0 or infinite at an end."""
        val = fnp.stop_gradient(out)
        big = val == math.inf
        z = fnp.divide(fnp.subtract(fnp.stop_gradient(x), fnp.stop_gradient(loc)),
                       fnp.stop_gradient(s))
        zeros = [(None if at is None else fnp.logical_and(at, val == -math.inf), e)
                 for at, e in _at_ends(z, *self._support(*sh))]
        if _may_hold(big) or any(at is not None and _may_hold(at) for at, _ in zeros):
            return self._end_density(big, zeros, x, loc, s, sh)
        return fnp.exp(out)

    def _end_terms(self, x, loc, s, sh, log):
        """The sum of ``_end_log_terms`` and ``_end_second_terms`` at the ends ``x`` sits
        on, or None."""
        if not hasattr(self, "_end_power"):
            return None
        z = fnp.divide(fnp.subtract(fnp.stop_gradient(x), fnp.stop_gradient(loc)),
                       fnp.stop_gradient(s))
        out = None
        for k, (at, e) in enumerate(_at_ends(z, *self._support(*sh))):
            if at is not None:
                t = self._end_log_terms(k, at, sh)
                if t is not None:
                    out = t if out is None else fnp.add(out, t)
                    t = self._end_second_terms(k, at, e, x, loc, s, sh, log)
                    if t is not None:
                        out = fnp.add(out, t)
        return out

    def _log_zero_ends(self, out, x, loc, s, sh):
        """logpdf ``out`` under a derivative, with the one-sided limits of its derivatives
        to second order at an end where the density is 0 or infinite (``c |w|^m exp(r w)``,
        ``m`` not 0, ``w = z - end``): ``m log|w| + log c + r w`` (``_end_log_second`` with
        the density's power): d/dw ``+-inf``, d2/dw2 ``-+inf`` (the sign of ``m``); the
        formula there (its ``0 * inf``) gave nan (``hessian(gamma.logpdf, argnums=(0,
        1))(0., 2.)`` in three orders of five, jacfwd of it at (0, .5)). The scale's
        derivatives are the limits with ``x`` held, as every other argument's
        (``_scale_power``: ``-(m + 1) / scale`` at an end 0; they were those with ``z``
        held, ``-1/scale``)."""
        if not hasattr(self, "_end_power"):
            if hasattr(self, "_flat_log_end"):
                return self._log_flat_end(out, x, loc, s, sh)
            return out
        fixed = [fnp.stop_gradient(p) for p in sh]
        val = fnp.stop_gradient(out)
        z = fnp.divide(fnp.subtract(fnp.stop_gradient(x), fnp.stop_gradient(loc)),
                       fnp.stop_gradient(s))
        # (the density 0 there, or infinite: its power negative)
        ends = [(None if at is None else fnp.logical_and(at, fnp.abs(val) == math.inf), e)
                for at, e in _at_ends(z, *self._support(*fixed))]
        if not any(at is not None and _may_hold(at) for at, _ in ends):
            return out
        zero = None
        for at, _ in ends:
            if at is not None:
                zero = at if zero is None else fnp.logical_or(zero, at)
        args = [x, loc, s, *sh]
        shape = fnp.broadcast_shapes(*[fnp.shape(a) for a in args])

        def full(v):
            return fnp.broadcast_to(v, shape)

        res = full(val)
        power_sign = full(fnp.where(val > 0.0, -1.0, 1.0))
        moved = [i for i, par in enumerate(sh) if _traced(par)]
        small = fnp.broadcast_shapes(*[fnp.shape(p) for p in fixed])
        for k, (at, e) in enumerate(ends):
            if at is None or not _may_hold(at):
                continue
            w = full(fnp.where(at, fnp.subtract(_z_at_end(x, loc, s), e), 0.0))
            side = 1.0 if k == 0 else -1.0
            cross, hess, first, lin = self._end_log_second(k, moved, fixed, None, None,
                                                           fnp.zeros(small), density=True)
            u = full(_u_at_end(x, loc, s, e))
            res = fnp.add(res, _singular_log(at, u, side, power_sign))
            # (the scale with x held: the density's power m and its 1/scale)
            res = fnp.add(res, _scale_power(at, full(s), full(
                fnp.add(self._end_power(k, *sh)[0], 1.0))))
            res = fnp.add(res, _infinite_rate(at, full(lin), u, full(s)))
            slope = full(fnp.where(fnp.logical_and(at, fnp.isfinite(lin)), lin, 0.0))
            for i in moved:
                delta = full(fnp.subtract(sh[i], fixed[i]))
                slope = fnp.add(slope, _edge(delta, full(fnp.where(at, cross[i], 0.0))))
                g = full(fnp.where(at, first[i], 0.0))
                for j in moved:
                    g = fnp.add(g, _edge(full(fnp.subtract(sh[j], fixed[j])), full(
                        fnp.where(at, fnp.multiply(0.5, hess[i, j]), 0.0))))
                res = fnp.add(res, _edge(delta, g))
            res = fnp.add(res, _edge(w, full(fnp.where(at, slope, 0.0))))
        keep = self._log_density(x, loc, s, *sh, keep=fnp.logical_not(zero))
        return fnp.where(zero, res, keep)

    def _end_scale_power(self, k, sh, u, full):
        """The power of ``1/scale`` in the log density or log probability that is 0 at the
        end ``k`` (``m + 1``, ``m`` the density's power there, traced in the shapes ``sh``;
        1 without ``_end_power``), for ``_scale_power``. Where the density is flatter than
        every power (``_flat_scale``: lognorm's at 0) it is ``+inf``, as ``z L'(z)``
        grows without bound, with its one-sided derivatives in the shapes and in ``u = x -
        loc`` as values (``_edge``). ``full`` broadcasts to the result's shape."""
        power = getattr(self, "_end_power", None)
        if power is not None:
            return full(fnp.add(power(k, *sh)[0], 1.0))
        flat = getattr(self, "_flat_scale", None)
        if flat is None:
            return 1.0
        q = _edge(full(u), full(flat[0]))
        for i, p in enumerate(sh):
            if _traced(p):
                q = fnp.add(q, _edge(full(fnp.subtract(p, fnp.stop_gradient(p))),
                                     full(flat[1 + i])))
        return fnp.add(q, math.inf)

    def _log_flat_end(self, out, x, loc, s, sh):
        """logpdf ``out`` under a derivative at the lower end 0 where the density is 0,
        flatter than every power there (lognorm's, ``_flat_log_end``): the one-sided limits
        of its first and second derivatives in ``u = x - loc`` and the shapes are those of
        ``log v``, ``v = u + (the shapes' changes)``, at ``v = 0+`` (first ``+inf``, second
        ``-inf``); the scale's with ``x`` held (``_scale_power`` with the power
        ``_end_scale_power``, ``+inf``: d/dscale ``-inf``, d2/dscale2 and d2/dx dscale
        ``+inf``; they were those with z held, ``-1/scale``, ``1/scale^2`` and 0)."""
        val = fnp.stop_gradient(out)
        # (z = 0 where x = loc; the density is 0 there)
        at = fnp.logical_and(fnp.equal(fnp.stop_gradient(x), fnp.stop_gradient(loc)),
                             val == -math.inf)
        if not _may_hold(at):
            return out
        shape = fnp.broadcast_shapes(*[fnp.shape(a) for a in (x, loc, s, *sh)])
        u = _u_at_end(x, loc, s, 0.0)
        v = u
        for p in sh:
            if _traced(p):
                v = fnp.add(v, fnp.subtract(p, fnp.stop_gradient(p)))

        def full(a):
            return fnp.broadcast_to(a, shape)

        res = fnp.add(full(val), _singular_log(at, full(v), 1.0))
        res = fnp.add(res, _scale_power(at, full(s), self._end_scale_power(0, sh, u, full)))
        return fnp.where(at, res, out)

    def _end_second_terms(self, k, at, e, x, loc, s, sh, log):
        """0 in value, or None: where ``z`` sits at the end ``k`` and the density's power
        there is 0 but moves with a shape (gamma's ``a = 1``), the one-sided limits of the
        second derivatives that the formula misses. Near the end the density is ``c |w|^m
        exp(r w)`` (``w = z - end``), the log density's derivative in a shape ``dm
        log|w| + d log c + ...``: d2/dw dshape ``dm / w``, ``+-inf`` times the sign of ``dm``
        (+ at the lower end), for logpdf and pdf (``p > 0``); the pdf's d2/dshape_i
        dshape_j ``p ((dm_i log|w| + d_i log c) (dm_j log|w| + d_j log c) + ...)``: ``inf``
        times the sign of ``dm_i dm_j``, ``-inf`` times that of ``dm_i d_j log c`` where only
        ``dm_i`` is not 0 (``hessian(gamma.pdf, argnums=(0, 1))(0., 1.)`` had x-a -0.577 and
        a-a -1.31, both +inf); at an end 0 (where the scale does not move ``w``) d2/dscale
        dshape ``-dm / scale`` of logpdf (``dm log(x / scale)``; it was 0), ``+inf`` times the
        sign of ``dm`` of pdf."""
        from ..api import jvp
        fixed = [fnp.stop_gradient(p) for p in sh]
        m = self._end_power(k, *fixed)[0]
        flat = fnp.logical_and(at, m == 0.0)
        moved = [i for i, par in enumerate(sh) if _traced(par)]
        if not moved or not _may_hold(flat):
            return None
        shape = fnp.broadcast_shapes(fnp.shape(at), fnp.shape(x), fnp.shape(loc),
                                     fnp.shape(s), *[fnp.shape(p) for p in sh])

        def full(v):
            return fnp.broadcast_to(v, shape)

        def sgn(v):
            return fnp.where(v > 0.0, 1.0, fnp.where(v < 0.0, -1.0, 0.0))

        def infs(v):
            """+-inf where ``v`` is positive / negative and flat, else 0."""
            return full(fnp.where(flat, fnp.where(v > 0.0, math.inf, fnp.where(
                v < 0.0, -math.inf, 0.0)), 0.0))

        dm, dlc, delta = {}, {}, {}
        for i in moved:
            _, (dm[i], dlc[i]) = jvp(
                lambda si: self._end_power(k, *fixed[:i], si, *fixed[i + 1:]), (fixed[i],),
                (fnp.ones_like(fixed[i]),))
            delta[i] = full(fnp.subtract(sh[i], fixed[i]))
            # (0 where rounding left a trace of a derivative that is 0: f's d log c / dm at
            # n = 2 was 1e-17, a sign's inf where the limit is finite)
            dlc[i] = fnp.where(fnp.abs(dlc[i]) < 1e-12, 0.0, dlc[i])
        side = 1.0 if k == 0 else -1.0
        w = full(fnp.where(at, fnp.subtract(_z_at_end(x, loc, s), e), 0.0))
        cross = None
        for i in moved:
            c = _edge(delta[i], infs(fnp.multiply(side, dm[i])))
            cross = c if cross is None else fnp.add(cross, c)
        out = _edge(w, cross)
        if not log:
            for i in moved:
                g = None
                for j in moved:
                    both = fnp.multiply(sgn(dm[i]), sgn(dm[j]))
                    one = fnp.multiply(-1.0, fnp.add(fnp.multiply(sgn(dm[i]), sgn(dlc[j])),
                                                     fnp.multiply(sgn(dm[j]), sgn(dlc[i]))))
                    h = fnp.where(both != 0.0, both, fnp.where(
                        fnp.logical_and(dm[i] == 0.0, dm[j] == 0.0), 0.0, one))
                    u = _edge(delta[j], infs(h))
                    g = u if g is None else fnp.add(g, u)
                out = fnp.add(out, _edge(delta[i], g))
        if k == 0 and e == 0.0 and _traced(s):
            sd = fnp.stop_gradient(s)
            g = None
            for i in moved:
                y = (full(fnp.where(flat, fnp.divide(fnp.negative(dm[i]), sd), 0.0)) if log
                     else infs(dm[i]))
                u = _edge(delta[i], y)
                g = u if g is None else fnp.add(g, u)
            out = fnp.add(out, _edge(full(fnp.subtract(s, sd)), g))
        return out

    def _log_density(self, x, loc, s, *sh, keep=None, at_end=False):
        """The log density of ``x`` (``-inf`` outside the support); ``keep``: a mask, a
        point inside the support elsewhere; ``at_end``: only the kept points at an end of
        the support are used (``_logpdf_at_end`` where the subclass gives it)."""
        z = fnp.divide(fnp.subtract(x, loc), s)
        lo, hi = self._support(*sh)
        if keep is not None:
            z = fnp.where(keep, z, self._inner(*sh))
        logpdf = getattr(self, "_logpdf_at_end", self._logpdf) if at_end else self._logpdf
        if type(lo) is float and type(hi) is float and lo == -math.inf and hi == math.inf:
            out = logpdf(z, *sh)
        else:
            # (fnp's comparisons: the ends may be tracers, z a plain array)
            inside = fnp.logical_and(fnp.greater_equal(z, lo), fnp.less_equal(z, hi))
            out = fnp.where(inside, logpdf(fnp.where(inside, z, self._inner(*sh)), *sh),
                            -math.inf)
            out = fnp.where(fnp.isnan(z), math.nan, out)
        return fnp.subtract(out, fnp.log(s))

    def _end_log_terms(self, k, at, sh):
        """0 in value, or None: where ``z`` sits at the end ``k`` and the density's power
        there is 0 (``_end_power``: gamma's ``a = 1``, a positive finite density from
        ``z^(a - 1)``), the one-sided limit of the log density's derivative in a shape
        that moves the power, ``-inf`` times its sign (``log z`` times ``dm``: the
        ``_xlogy_weak(0, 0)`` of the formula takes 0 for ``log 0``; ``d/da gamma.logpdf(0., a)``
        at 1 was 0.577, JAX's -inf)."""
        from ..api import jvp
        # (the end first: the power costs a betaln for beta, needed only where z sits
        # on the end)
        if not hasattr(self, "_end_power") or not _may_hold(at):
            return None
        fixed = [fnp.stop_gradient(p) for p in sh]
        flat = fnp.logical_and(at, self._end_power(k, *fixed)[0] == 0.0)
        if not _may_hold(flat):
            return None
        shape = fnp.broadcast_shapes(fnp.shape(at), *[fnp.shape(p) for p in sh])
        out = None
        for i, par in enumerate(sh):
            if not _traced(par):
                continue
            _, dm = jvp(lambda si: self._end_power(k, *fixed[:i], si, *fixed[i + 1:])[0],
                        (fixed[i],), (fnp.ones_like(fixed[i]),))
            g = fnp.where(fnp.logical_and(flat, dm != 0.0),
                          fnp.where(dm > 0.0, -math.inf, math.inf), 0.0)
            t = _edge(fnp.broadcast_to(fnp.subtract(par, fixed[i]), shape),
                      fnp.broadcast_to(g, shape))
            out = t if out is None else fnp.add(out, t)
        return out

    def _end_density(self, big, zeros, x, loc, s, sh):
        """pdf under a derivative where the density is infinite or 0 at a support end
        (``big``; ``zeros``: ``(at, end)`` for the lower and the upper end), with the
        one-sided limits of its derivatives from inside; elsewhere ``exp`` of the log
        density as before (the points above moved inside: no derivative of the formula
        meets them).

        Infinite (``beta.pdf(0., .5, 3.)``): the derivatives ``+-inf`` (0 along an
        argument the log density does not move with), each computed by forward mode on
        the log density with the arguments' derivatives stopped and entering as a value
        (``_edge``). Through ``exp`` of the log density, reverse mode sent the infinite
        cotangent into each of its terms, and the partials of opposite signs (``xlogy``'s
        ``log z`` and ``betaln``'s) made ``inf - inf``: jacrev nan where jacfwd gave -inf.

        0 (``beta.pdf(0., 2., 3.)``): 0 along the shapes, and ``_end_dpdf`` (the density's
        one-sided slope) along ``z``; ``exp(-inf)`` times the log density's infinite
        derivative was nan in both modes."""
        from ..api import jvp
        args = [x, loc, s, *sh]
        shape = fnp.broadcast_shapes(*[fnp.shape(a) for a in args])
        fixed = [fnp.stop_gradient(a) for a in args]
        special = big
        for at, _ in zeros:
            if at is not None:
                special = fnp.logical_or(special, at)
        out = fnp.exp(self._log_density(x, loc, s, *sh, keep=fnp.logical_not(special)))
        if _may_hold(big):
            inf = fnp.full(shape, math.inf)
            moved = [i for i, a in enumerate(args) if _traced(a)]
            signs = (self._infinite_end_signs(big, fixed, moved)
                     if hasattr(self, "_end_power") else None)
            for i in moved:
                # (big: at an end, where the density is infinite)
                _, d = jvp(lambda ai: self._log_density(*fixed[:i], ai, *fixed[i + 1:],
                                                        keep=big, at_end=True),
                           (fixed[i],), (fnp.ones_like(fixed[i]),))
                if signs is not None:
                    # (the formula's d/dscale at an end 0 is inf * 0: nan)
                    d = fnp.where(fnp.isnan(d), signs[0][i], d)
                g = fnp.where(big, fnp.where(d > 0.0, math.inf,
                                             fnp.where(d < 0.0, -math.inf, 0.0)), 0.0)
                g = fnp.broadcast_to(g, shape)
                if signs is not None:
                    # the second derivatives: sum_j h_ij delta_i delta_j (h_ij +-inf or 0,
                    # the symmetric h counted twice: inf / 2 is inf)
                    for j in moved:
                        g = fnp.add(g, _edge(
                            fnp.broadcast_to(fnp.subtract(args[j], fixed[j]), shape),
                            fnp.broadcast_to(signs[1][min(i, j), max(i, j)], shape)))
                inf = fnp.add(inf, _edge(fnp.broadcast_to(fnp.subtract(args[i], fixed[i]),
                                                          shape), g))
            out = fnp.where(big, inf, out)
        sd = fixed[2]
        for k, (at, e) in enumerate(zeros):
            if at is None or not _may_hold(at):
                continue
            z = _z_at_end(x, loc, s)
            e = e if type(e) is float else fnp.where(fnp.isfinite(e), e, 0.0)
            w = fnp.broadcast_to(fnp.where(at, fnp.subtract(z, e), 0.0), shape)
            # pdf = f(z) / scale = w f'/scale + w^2 f''/(2 scale) near the end: the first
            # term's 1/scale traced (d2/dx dscale is -2 f' / scale^3; the stopped scale
            # gave half of it), the second's of third order in the scale
            # (by _ratio_zero: the slope is +-inf for a power under 1, and divide's
            # -inf / scale^2 times a 0 tangent of the scale was nan)
            slope = _ratio_zero(
                fnp.broadcast_to(fnp.where(at, self._end_dpdf(k, *fixed[3:]), 0.0), shape),
                fnp.broadcast_to(s, shape))
            curv = fnp.where(at, fnp.divide(self._end_d2pdf(k, *fixed[3:]), sd), 0.0)
            slope = fnp.add(slope, _edge(w, fnp.broadcast_to(fnp.multiply(0.5, curv), shape)))
            for i, par in enumerate(sh):
                # the slope's one-sided derivatives in the shapes (d2/dx dshape)
                if _traced(par):
                    g = fnp.where(at, fnp.divide(self._end_dpdf_shape(k, i, fixed[3:]), sd),
                                  0.0)
                    slope = fnp.add(slope, _edge(
                        fnp.broadcast_to(fnp.subtract(par, fixed[3 + i]), shape),
                        fnp.broadcast_to(g, shape)))
            out = fnp.where(at, _edge(w, slope), out)
        return out

    def _infinite_end_signs(self, big, fixed, moved):
        """The one-sided limits of pdf's first derivatives' signs (1, -1 or 0) and its
        second derivatives (``+-inf``, 0 elsewhere) where the density is infinite at an end
        (``big``, the power ``m`` in (-1, 0)): ``(first, second)``, ``first[i]`` and
        ``second[i, j]`` (``i <= j``) for
        the arguments ``x, loc, scale, *shapes`` (``fixed``, their values; ``moved``: the
        indices of those traced). Near the end the log density is ``L = m log|w| + log c
        + ...`` (``w = z - end``, ``side`` = the sign of ``w``, + at the lower end), the
        argument ``i`` moving it by ``a_i / w`` (``a_i`` = dw/d arg: ``1/s, -1/s, -end/s``
        for x, loc, scale, 0 for a shape), or by ``dm_i log|w|`` (a shape moving the
        power), or by a finite ``l_i`` (the scale at an end 0, ``x`` held: ``-(m + 1)/s``;
        a shape not moving the power: ``d_i log c``). pdf's second derivative is ``pdf (L_ij + L_i L_j)``, ``pdf -> inf``, and the
        leading term of the bracket gives the sign: ``(m^2 - m) a_i a_j / w^2`` (both
        move w), ``m a_i dm_j log|w| / w`` (sign ``a_i dm_j side``), ``m a_i l_j / w``
        (``-a_i l_j side``), ``dm_i dm_j log^2|w|``, ``dm_i l_j log|w|`` (``-dm_i l_j``),
        and where neither grows ``l_ij + l_i l_j``: scale-scale ``(m + 1)(m + 2) / s^2``,
        scale-shape ``-l_shape / s``-signed, shape-shape ``d_ij log c
        + d_i log c d_j log c``."""
        from ..api import jvp
        x, loc, s, *shp = fixed
        z = fnp.divide(fnp.subtract(x, loc), s)
        first = {i: 0.0 for i in moved}
        second = {(i, j): 0.0 for i in moved for j in moved if i <= j}

        def sgn(v):
            return fnp.where(v > 0.0, 1.0, fnp.where(v < 0.0, -1.0, 0.0))

        def along(f, i, base):
            return jvp(lambda si: f(*base[:i], si, *base[i + 1:]), (base[i],),
                       (fnp.ones_like(base[i]),))[1]

        for k, (at, e) in enumerate(_at_ends(z, *self._support(*shp))):
            if at is None:
                continue
            at = fnp.logical_and(at, big)
            if not _may_hold(at):
                continue
            side = 1.0 if k == 0 else -1.0
            e = e if type(e) is float else fnp.where(fnp.isfinite(e), e, 0.0)
            a, b, l, ll = {}, {}, {}, {}
            for i in moved:
                if i < 3:
                    a[i] = fnp.divide((1.0, -1.0, fnp.negative(e))[i], s)
                    b[i] = 0.0
                    l[i] = (fnp.divide(fnp.negative(fnp.add(self._end_power(k, *shp)[0], 1.0)),
                                       s) if i == 2 else 0.0)
                else:
                    a[i] = 0.0
                    b[i] = along(lambda *q: self._end_power(k, *q)[0], i - 3, shp)
                    dlc = along(lambda *q: self._end_power(k, *q)[1], i - 3, shp)
                    # (0 where rounding left a trace of a 0 derivative, as elsewhere)
                    l[i] = fnp.where(fnp.abs(dlc) < 1e-12, 0.0, dlc)
            for i in moved:
                for j in moved:
                    if j < i:
                        continue
                    if i == 2 and j == 2:
                        ll[i, j] = fnp.divide(fnp.add(self._end_power(k, *shp)[0], 1.0),
                                              fnp.square(s))
                    elif i == 2 and j >= 3:
                        ll[i, j] = fnp.divide(fnp.negative(b[j]), s)
                    elif i >= 3:
                        ll[i, j] = along(lambda *q: along(
                            lambda *r: self._end_power(k, *r)[1], i - 3, list(q)), j - 3, shp)
                    else:
                        ll[i, j] = 0.0
            grow = {i: fnp.not_equal(a[i], 0.0) for i in moved}
            logs = {i: fnp.logical_and(fnp.logical_not(grow[i]), fnp.not_equal(b[i], 0.0))
                    for i in moved}
            for i in moved:
                f1 = fnp.where(grow[i], -side * sgn(a[i]),
                               fnp.where(logs[i], -sgn(b[i]), sgn(l[i])))
                first[i] = fnp.where(at, f1, first[i])
            for i in moved:
                for j in moved:
                    if j < i:
                        continue

                    def one_grows(p, q):
                        # p moves w, q does not
                        return fnp.where(logs[q], side * sgn(fnp.multiply(a[p], b[q])),
                                         -side * sgn(fnp.multiply(a[p], l[q])))

                    def one_log(p, q):
                        # p moves the power, q neither
                        return -sgn(fnp.multiply(b[p], l[q]))

                    h = fnp.where(
                        fnp.logical_and(grow[i], grow[j]), sgn(fnp.multiply(a[i], a[j])),
                        fnp.where(grow[i], one_grows(i, j), fnp.where(
                            grow[j], one_grows(j, i), fnp.where(
                                fnp.logical_and(logs[i], logs[j]),
                                sgn(fnp.multiply(b[i], b[j])), fnp.where(
                                    logs[i], one_log(i, j), fnp.where(
                                        logs[j], one_log(j, i),
                                        sgn(fnp.add(ll[i, j], fnp.multiply(l[i], l[j])))))))))
                    # (+-inf on the shapes' and the scale's size before the full one)
                    h = fnp.where(h > 0.0, math.inf, fnp.where(h < 0.0, -math.inf, 0.0))
                    second[i, j] = fnp.where(at, h, second[i, j])
        return first, second

    def _distribution(self, method, x, shapes, loc, scale):
        """cdf, sf, logcdf or logsf: ``_cdf(z, *shapes)`` / ``_sf(z, *shapes)`` inside the
        support (with z strictly inside; the ends and beyond get 0 and 1); the log methods
        through ``_logcdf`` / ``_logsf`` where the subclass gives them."""
        name = f"{self.name}.{method}"
        x, loc, scale, *sh = _float64((x, loc, scale) + tuple(shapes), name)
        good = self._check(*sh)
        ok = fnp.logical_and(scale > 0.0, good)
        s = fnp.where(scale > 0.0, scale, 1.0)
        sh = [fnp.where(good, p, safe) for p, safe in zip(sh, self._safe_values(len(sh)))]
        lo, hi = self._support(*sh)
        # (logcdf at -inf / logsf at +inf, an infinite end: held, with the tail's limits)
        log_tail = method in ("logcdf", "logsf") and hasattr(self, "_log_tail") and (
            lo == -math.inf if method == "logcdf" else hi == math.inf) is True
        live = (x, loc, s)
        (x, loc, s), held_z = _held_at_infinity(method, x, loc, s, support=(lo, hi),
                                                log_tail=log_tail, mask=True)
        z = _z_held(x, loc, s, held_z)
        upper = method in ("sf", "logsf")
        inside = fnp.logical_and(fnp.greater(z, lo), fnp.less(z, hi))
        zs = fnp.where(inside, z, self._inner(*sh))
        at_or_below = fnp.less_equal(z, lo)
        if method.startswith("log") and _traced(*sh) and not (
                type(lo) is float and type(hi) is float and lo == -hi == -math.inf):
            # (the shapes held outside a finite end of the support: the log method at the
            # inner stand-in point may be -inf with infinite slopes there, which times the
            # selection's 0 were nan: d/da beta.logcdf(1e30, 1e20, 2), whose value is held
            # at 0; the infinite ends' stand-ins are ordinary points)
            held = fnp.logical_not(inside)
            sh_in = list(_held(held, sh)) if _may_hold(held) else sh
        else:
            sh_in = sh
        if method.startswith("log") and hasattr(self, "_" + method):
            out = getattr(self, "_" + method)(zs, *sh_in)
        else:
            out = (self._sf if upper else self._cdf)(zs, *sh_in)
            if method.startswith("log"):
                # log1p of minus the other one where this one is close to 1
                other = (self._cdf if upper else self._sf)(zs, *sh_in)
                big = out > 0.5
                out = fnp.where(big, fnp.log1p(-fnp.where(big, other, 0.0)),
                                fnp.log(fnp.where(big, 1.0, out)))
        if method.startswith("log"):
            below, above = (0.0, -math.inf) if upper else (-math.inf, 0.0)
        else:
            below, above = (1.0, 0.0) if upper else (0.0, 1.0)
        ends = fnp.where(at_or_below, below, above)
        # the end slopes (0 in value) where a derivative may be taken and some z may sit
        # at a finite end
        if _traced(x, loc, scale, *shapes):
            ats = _at_ends(z, lo, hi)
            if _may_be_at_end(ats):
                # z whose partial in the scale (-z / scale, 0 at an end 0) times an
                # infinite slope or cotangent is 0: inf * 0 was nan (d/dscale of
                # gamma.logcdf(0., .5, 0., scale); its limit with x held, -a / scale,
                # comes from _scale_power)
                ends = fnp.add(ends, self._end_slopes(method, _z_at_end(x, loc, s), ats, sh,
                                                      (x, loc, s)))
        out = fnp.where(inside, out, ends)
        if log_tail:
            term = _log_tail_term(self, method, *live, sh)
            if term is not None:
                out = fnp.add(out, term)
        return _valid(fnp.logical_and(ok, z == z), out)

    def _end_slopes(self, method, z, ats, sh, xls):
        """0 in value, with the one-sided derivatives from inside the support at a finite
        end ``z = lo`` or ``z = hi`` (0 beyond), to second order: near the end the cdf is
        ``w h + w^2 q / 2`` (``w = z - end``, ``h(shapes)`` the density at the end, ``q``
        its one-sided derivative in z), written ``_edge(w, s)`` (``w * s`` without ``0 *
        inf``) with ``s = h + _edge(w, q / 2)``: cdf ``s``, sf ``-s``, logcdf at the
        upper end ``s - _edge(w, h^2 / 2)`` (``log(1 + w s)`` to second order), logsf at
        the lower end ``-(s + _edge(w, h^2 / 2))``, and ``+-inf`` for the log of the one
        that is 0 there (``pdf / cdf`` grows without bound; in the scale, ``x`` held,
        ``-(m + 1) / scale`` at an end 0 by ``_scale_power``) -- as ``expon`` and
        ``uniform``, and JAX's formulas where they give the derivative. ``z``: from
        ``_z_at_end``; ``ats``: ``(at, end)`` for the lower and the upper end, ``(None,
        None)`` for an infinite one (from ``_at_ends``).

        ``h``'s derivatives in the shapes (their one-sided limits, the mixed second
        derivatives in either order: ``hessian(pareto.cdf)`` at 1 was [[-6, 1], [0, 0]])
        and ``q`` are computed here, by forward mode on the density at the end with the
        shapes' derivatives stopped, and enter as values: the density's own graph never
        meets a derivative at the end, where its partials may be infinite (``log z`` at 0)
        and a cotangent 0 there (reverse mode) would be nan. Where the density is 0 at the
        end its shape derivatives are 0 and ``q`` is the subclass's ``_end_dpdf`` (0 by
        default: a density 0 faster than linearly); where infinite, ``q`` is ``-inf``
        at the lower end, ``+inf`` at the upper."""
        from ..api import jvp
        shape = fnp.broadcast_shapes(fnp.shape(z), *[fnp.shape(p) for p in sh])
        fixed = [fnp.stop_gradient(p) for p in sh]

        def full(v):
            return fnp.broadcast_to(v, shape)

        # (the density at an end depends on the shapes only: computed on their shape, not
        # z's, which may be much larger)
        small = fnp.broadcast_shapes(*[fnp.shape(p) for p in sh])
        everywhere = fnp.ones(small, dtype=bool)

        def end(k, at, e, log_zero=False):
            """(w: z - end where at the end, 0 elsewhere (with the end's tangents where it
            depends on the shapes, truncnorm's); s: the density at the end with the
            derivatives above; p: its value); with ``log_zero`` (the log of the
            probability that is 0 at this end) the shapes' terms of ``_end_log_shape``
            (or None) in place of s."""
            if at is None:
                return 0.0, (None, None) if log_zero else 0.0, 0.0
            w = full(fnp.where(at, fnp.subtract(z, e), 0.0))

            def logp(t, *s):
                ee = self._support(*s)[k]
                if type(ee) is not float:
                    ee = fnp.where(fnp.isfinite(ee), ee, 0.0)
                # (the density at the end itself: _logpdf_at_end where a subclass gives one)
                out = getattr(self, "_logpdf_at_end", self._logpdf)(fnp.add(ee, t), *s)
                terms = self._end_log_terms(k, everywhere, s)
                return out if terms is None else fnp.add(out, terms)

            zero = fnp.zeros(small)
            p = fnp.exp(logp(zero, *fixed))
            positive = p > 0.0
            s = full(p)
            lg = None
            moved = [i for i, par in enumerate(sh) if _traced(par)]
            if log_zero:
                # the second order: d2/dw dshape and d2/dshape2 (_end_log_second)
                cross, hess, _, lin = self._end_log_second(k, moved, fixed, p, logp, zero)
                ws = full(fnp.where(fnp.logical_and(at, fnp.isfinite(lin)), lin, 0.0))
            for i in moved:
                par = sh[i]
                _, d = jvp(lambda si: logp(zero, *fixed[:i], si, *fixed[i + 1:]),
                           (fixed[i],), (fnp.ones_like(fixed[i]),))
                if log_zero:
                    gl = self._end_log_shape(k, i, fixed, p, d)
                    g = full(fnp.where(at, gl, 0.0))
                    for j in moved:
                        g = fnp.add(g, _edge(full(fnp.subtract(sh[j], fixed[j])), full(
                            fnp.where(at, fnp.multiply(0.5, hess[i, j]), 0.0))))
                    t = _edge(full(fnp.subtract(par, fixed[i])), g)
                    lg = t if lg is None else fnp.add(lg, t)
                    u = _edge(full(fnp.subtract(par, fixed[i])),
                              full(fnp.where(at, cross[i], 0.0)))
                    ws = fnp.add(ws, u)
                    continue
                g = fnp.where(positive, fnp.multiply(p, fnp.where(positive, d, 0.0)), 0.0)
                g = fnp.where(fnp.isnan(g), 0.0, g)
                s = fnp.add(s, _edge(full(fnp.subtract(par, fixed[i])), full(g)))
            if log_zero:
                # ws: the slope's terms in the shapes (0 in value); log|w| = log|u| - log
                # scale in u = x - loc - end scale (linear: through w = u / scale, the
                # infinite slope times w's second derivative in x and the scale was inf -
                # inf against the -inf of the square of its first)
                u = _u_at_end(*xls, e)
                sing = _singular_log(at, full(u), 1.0 if k == 0 else -1.0)
                # (the scale with x held: the power of 1/scale, m + 1)
                sing = fnp.add(sing, _scale_power(at, full(xls[2]),
                                                  self._end_scale_power(k, sh, u, full)))
                if type(e) is float and e == 0.0:
                    sing = fnp.add(sing, _infinite_rate(at, full(lin), full(u), full(xls[2])))
                lg = sing if lg is None else fnp.add(lg, sing)
                return w, (lg, ws), full(p)
            if _traced(w):
                _, d = jvp(lambda t: logp(t, *fixed), (zero,), (fnp.ones(small),))
                q = fnp.multiply(p, fnp.where(positive, d, 0.0))
                q = fnp.where(positive, q, self._end_dpdf(k, *fixed))
                q = fnp.where(p == math.inf, -math.inf if k == 0 else math.inf, q)
                s = fnp.add(s, _edge(w, full(fnp.multiply(0.5, q))))
            return w, s, full(p)

        (at_lo, _), (at_hi, _) = ats
        w_lo, s_lo, p_lo = end(0, *ats[0], log_zero=method == "logcdf")
        w_hi, s_hi, p_hi = end(1, *ats[1], log_zero=method == "logsf")
        lg = s_lo if method == "logcdf" else s_hi if method == "logsf" else None
        if lg is not None:
            lg, ws = lg
        if method == "sf":
            s_lo, s_hi = fnp.negative(s_lo), fnp.negative(s_hi)
        elif method == "logcdf":
            # (log(1 + w s) = w (s - w s^2 / 2) to second order at the upper end; the
            # square's derivatives in the shapes are of third order; where the density is
            # infinite q outgrows its square, inf - inf otherwise)
            s_lo = ws
            if at_hi is not None:
                s_hi = fnp.add(s_hi, _edge(w_hi, fnp.multiply(-0.5, _finite_square(p_hi))))
        elif method == "logsf":
            if at_lo is not None:
                s_lo = fnp.negative(fnp.add(s_lo, _edge(w_lo, fnp.multiply(
                    0.5, _finite_square(p_lo)))))
            s_hi = ws
        out = None
        for at, w, slope in ((at_lo, w_lo, s_lo), (at_hi, w_hi, s_hi)):
            if at is None:
                continue
            t = _edge(w, full(fnp.where(at, slope, 0.0)))
            out = t if out is None else fnp.add(out, t)
        return out if lg is None else fnp.add(out, lg)

    def _end_log_shape(self, k, i, fixed, p, d):
        """The one-sided limit of the derivative in the shape ``i`` of the log of the
        probability that is 0 at the end ``k`` (logcdf at the lower end, logsf at the
        upper), the end held: that probability is ``c |w|^(m + 1) / (m + 1)`` to first
        order, its log's derivative ``dm log|w| + d log c - dm / (m + 1)``: ``d`` (the log
        density's derivative at the end, with ``_end_log_terms``) where the density
        ``p`` there is positive and finite; where it is 0 or infinite (``_end_power``),
        ``-inf`` times the sign of ``dm`` where the shape moves the power, else ``d log c``;
        ``_flat_end`` where the density is flatter than every power there (lognorm's).
        ``pareto.logcdf(1., b)`` in b: 1/b, was 0."""
        from ..api import jvp
        fin = fnp.logical_and(p > 0.0, p < math.inf)
        other = 0.0
        if hasattr(self, "_end_power"):
            _, (dm, dlc) = jvp(lambda si: self._end_power(k, *fixed[:i], si, *fixed[i + 1:]),
                               (fixed[i],), (fnp.ones_like(fixed[i]),))
            other = fnp.where(dm > 0.0, -math.inf, fnp.where(dm < 0.0, math.inf, dlc))
        elif hasattr(self, "_flat_end"):
            other = fnp.where(p == 0.0, self._flat_end[i][0], 0.0)
        g = fnp.where(fin, d, other)
        return fnp.where(fnp.isnan(g), 0.0, g)

    def _end_log_second(self, k, moved, fixed, p, logp, zero, density=False):
        """The second derivatives of the log of the probability that is 0 at the end ``k``
        (logcdf at the lower end, logsf at the upper), one-sided limits with ``w = z - end``
        and the shapes as the variables: ``(cross, hess)``, ``cross[i]`` the limit of
        d2/dw dshape_i, ``hess[i, j]`` of d2/dshape_i dshape_j (``moved``: the indices of
        the shapes that are traced; ``fixed``: the shapes' values; ``p``: the density at the
        end; ``logp(t, *shapes)``: the log density at ``end + t``). Near the end that
        probability is ``c |w|^(m + 1) / (m + 1) (1 + (m + 1) / (m + 2) r w)`` (the density
        ``c |w|^m exp(r w + ...)``), its log ``(m + 1) log|w| + L + (m + 1) / (m + 2) r w``
        with ``L = log c - log(m + 1)``: d2/dw dshape is ``dm / w`` (``+-inf`` times the
        sign of ``dm``, + at the lower end) where the shape moves the power, else the
        derivative of ``(m + 1) / (m + 2) r``; d2/dshape2 the Hessian of ``L`` (the powers
        are linear in the shapes). Without ``_end_power``: ``m = 0``, ``L`` the log density
        at the end and ``r`` its derivative there (pareto.logcdf at 1 in ``b``: -1/2 and
        -1/b^2). Where the density is 0 without a power (``_flat_end``), its limits.
        ``density``: the same of the log density where it is 0 at the end (``m log|w| +
        log c + r w``), with ``first``, the first derivatives in the shapes. Returns
        ``(cross, hess, first, lin)``, ``lin`` the finite part of the slope in ``w``
        (``(m + 1) / (m + 2) r``; its product with w's second derivatives in x and the
        scale is finite: d2/dx dscale of gamma.logcdf(x, 2., 0., s) at 0)."""
        from ..api import jvp
        power = getattr(self, "_end_power", None)

        def along(f, i, base):
            """The derivative of ``f(*base)`` in ``base[i]``."""
            def g(si):
                return f(*base[:i], si, *base[i + 1:])
            return jvp(g, (base[i],), (fnp.ones_like(base[i]),))[1]

        if density:
            def big_l(*s):
                return power(k, *s)[1]

            def rate(*s):
                return fnp.multiply(self._end_dlog(k, *s), fnp.ones_like(s[0]))
        elif power is not None:
            def big_l(*s):
                m, log_c = power(k, *s)
                return fnp.subtract(log_c, fnp.log1p(m))

            def rate(*s):
                m, _ = power(k, *s)
                return fnp.multiply(fnp.divide(fnp.add(m, 1.0), fnp.add(m, 2.0)),
                                    self._end_dlog(k, *s))
        else:
            def big_l(*s):
                return logp(zero, *s)

            def rate(*s):
                return fnp.multiply(0.5, jvp(lambda t: logp(t, *s), (zero,),
                                             (fnp.ones_like(zero),))[1])
        sign = 1.0 if k == 0 else -1.0
        cross, hess, first = {}, {}, {}
        for i in moved:
            c = along(rate, i, fixed)
            if power is not None:
                dm = along(lambda *s: power(k, *s)[0], i, fixed)
                c = fnp.where(dm == 0.0, c, fnp.where(dm > 0.0, sign * math.inf,
                                                      -sign * math.inf))
            if density:
                f = along(big_l, i, fixed)
                first[i] = fnp.where(dm == 0.0, f, fnp.where(dm > 0.0, -math.inf, math.inf))
            flat = getattr(self, "_flat_end", None) if power is None else None
            if flat is not None:
                c = fnp.where(p == 0.0, flat[i][1], c)
            cross[i] = fnp.where(fnp.isnan(c), 0.0, c)
            for j in moved:
                if j < i:
                    hess[i, j] = hess[j, i]
                    continue
                h = along(lambda *s: along(big_l, i, list(s)), j, fixed)
                if flat is not None:
                    h = fnp.where(p == 0.0, flat[i][2 + j], h)
                hess[i, j] = fnp.where(fnp.isnan(h), 0.0, h)
        lin = rate(*fixed)
        return cross, hess, first, fnp.where(fnp.isnan(lin), 0.0, lin)

    def _end_dpdf(self, k, *shapes):
        """The one-sided derivative in z of the standard density at the end ``k`` (0: the
        lower, 1: the upper) where the density is 0 there: 0 unless the subclass says
        otherwise (``_end_power(k, *shapes)``: ``(m, log c)``, the density ``c |z -
        end|^m`` there; the derivative 0 for ``m > 1``, ``+-c`` for ``m = 1`` and ``+-inf``
        for ``0 < m < 1``)."""
        power = getattr(self, "_end_power", None)
        if power is None:
            return 0.0
        m, log_c = power(k, *shapes)
        sign = 1.0 if k == 0 else -1.0
        return fnp.where(m > 1.0, 0.0, fnp.where(m == 1.0, fnp.multiply(sign, fnp.exp(log_c)),
                                                  sign * math.inf))

    def _end_dpdf_shape(self, k, i, shapes):
        """The one-sided limit of the derivative in the shape ``i`` of ``_end_dpdf`` (the
        standard density's slope at the end ``k`` where the density is 0 there): with the
        density ``c |w|^m (1 + ...)``, the slope is ``+-c m |w|^(m - 1)``, its derivative
        ``+-c |w|^(m - 1) (dm + m dm log|w| + m d log c)``: 0 for ``m > 1``, ``-+inf`` times
        the sign of ``dm`` where the shape moves the power (``d2/dx da gamma.pdf(0., 2.)``
        was 0), else ``+-c d log c`` for ``m = 1`` and ``+-inf`` times the sign of ``d log
        c`` below (+ at the lower end); 0 without ``_end_power``."""
        from ..api import jvp
        power = getattr(self, "_end_power", None)
        if power is None:
            return 0.0
        shapes = list(shapes)
        (m, log_c), (dm, dlc) = jvp(
            lambda si: power(k, *shapes[:i], si, *shapes[i + 1:]), (shapes[i],),
            (fnp.ones_like(shapes[i]),))
        sign = 1.0 if k == 0 else -1.0
        dlc = fnp.where(fnp.abs(dlc) < 1e-12, 0.0, dlc)  # (as in _end_second_terms)
        one = fnp.multiply(sign, fnp.multiply(fnp.exp(log_c), dlc))
        below = fnp.where(dlc > 0.0, sign * math.inf, fnp.where(dlc < 0.0, -sign * math.inf,
                                                               0.0))
        flat = fnp.where(m == 1.0, one, below)
        moved = fnp.where(dm > 0.0, -sign * math.inf, sign * math.inf)
        return fnp.where(m > 1.0, 0.0, fnp.where(dm == 0.0, flat, moved))

    def _end_d2pdf(self, k, *shapes):
        """The one-sided second derivative in z of the standard density at the end ``k``
        where the density is 0 there: 0 unless ``_end_power`` says otherwise. Near the end
        the density is ``c |w|^m exp(r(w))`` (``w = z - end``, ``r(0) = 0``): the second
        derivative 0 for ``m > 2``, ``2 c`` for ``m = 2``, ``+inf`` for ``1 < m < 2``,
        ``-inf`` for ``0 < m < 1`` and ``+-2 c r'(0)`` for ``m = 1`` (+ at the lower end, - at the upper; ``r'(0)`` from
        the subclass's ``_end_dlog(k, *shapes)``)."""
        power = getattr(self, "_end_power", None)
        if power is None:
            return 0.0
        m, log_c = power(k, *shapes)
        c = fnp.exp(log_c)
        sign = 2.0 if k == 0 else -2.0
        one = fnp.multiply(sign, fnp.multiply(c, self._end_dlog(k, *shapes)))
        return fnp.where(m > 2.0, 0.0, fnp.where(m == 2.0, fnp.multiply(2.0, c), fnp.where(
            m > 1.0, math.inf, fnp.where(m < 1.0, -math.inf, one))))

    def _quantile(self, method, q, shapes, loc, scale):
        """ppf or isf: ``loc + scale * _ppf(q, *shapes)`` (``_isf``) for ``q`` in [0, 1] and
        valid shapes (nan otherwise); the subclasses give the ends' values themselves."""
        name = f"{self.name}.{method}"
        q, loc, scale, *sh = _float64((q, loc, scale) + tuple(shapes), name)
        good = self._check(*sh)
        ok = fnp.logical_and(scale > 0.0, good)
        s = fnp.where(scale > 0.0, scale, 1.0)
        sh = [fnp.where(good, p, safe) for p, safe in zip(sh, self._safe_values(len(sh)))]
        inq = fnp.logical_and(q >= 0.0, q <= 1.0)  # (False for nan)
        out = getattr(self, "_" + method)(fnp.where(inq, q, 0.5), *sh)
        if self._nan_at_infinite_shape:
            wild = _infinite_shape(sh)
            if wild is not None:
                wild = fnp.logical_and(wild, fnp.logical_and(q > 0.0, q < 1.0))
                out = _nan_at(wild, out, q, *sh)
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


_T_POWER_LAW_Z = 1e-16  # (t.ppf: below it the tail's power law has z's derivatives)
_T_TAIL_TERMS = 12  # (the fraction converges in about 8 where the tail underflows)


_T_LOG_MAX = math.log(1.7976931348623157e308)  # (t.ppf: |t| overflows beyond)
_T_CORNISH_FISHER_DF = 1e6  # (t.ppf: from this df on, the normal quantile's expansion)
# (the expansion t = z (1 + P1(w)/df + P2(w)/df^2 + ...), w = z^2, of the t quantile in the
# normal one z (Fisher 1926; Abramowitz and Stegun 26.7.5): P_k's coefficients, highest
# power first, and its divisor)
_T_CORNISH_FISHER = (((1.0, 1.0), 4.0), ((5.0, 16.0, 3.0), 96.0),
                     ((3.0, 19.0, 17.0, -15.0), 384.0),
                     ((79.0, 776.0, 1482.0, -1920.0, -945.0), 92160.0),
                     ((27.0, 339.0, 930.0, -1782.0, -765.0, 17955.0), 368640.0))


def _t_cornish_fisher(z, df):
    """Student t's quantile at df degrees of freedom from the normal quantile ``z`` at the
    same probability, by the expansion in 1/df (through its fifth term: at df = 1e6 and
    |z| = 38.5, q = 1e-324, the next is 1e-21 of t; 1e-28 for |z| <= 10), differentiable
    to any order."""
    w = fnp.multiply(z, z)
    acc = None
    for coefficients, divisor in reversed(_T_CORNISH_FISHER):
        poly = coefficients[0] / divisor
        for c in coefficients[1:]:
            poly = fnp.add(fnp.multiply(poly, w), c / divisor)
        acc = poly if acc is None else fnp.add(poly, fnp.divide(acc, df))
    return fnp.multiply(z, fnp.add(1.0, fnp.divide(acc, df)))


def _t_overflow_log(log_t, log_z, tf, d):
    """t.ppf's far-tail ``log|t| = (log df - log z) / 2``, ``log z = (log tf + log h +
    betaln(h, 1/2)) / h`` (h = df/2), as its value plus its closed-form slopes in ``tf`` and
    ``df`` (one path each): where ``|t|`` overflows to inf, its derivatives, inf times these,
    reach q and df as the signed infinities the mathematics gives (``dt/dq = +inf``; ``dt/d df
    = +inf``: ``|t|`` falls as df grows), where through the formula's several paths of
    opposite signs reverse mode summed inf - inf (grad of t.ppf(1e-300, 0.5) in df was nan)."""
    h = fnp.stop_gradient(0.5 * d)
    lz = fnp.stop_gradient(log_z)
    # d log z / dh = ((1/h + psi(h) - psi(h + 1/2)) - log z) / h
    dlz = fnp.divide(fnp.subtract(fnp.add(fnp.divide(1.0, h), fnp.subtract(
        _special.digamma(h), _special.digamma(h + 0.5))), lz), h)
    slope_d = fnp.subtract(fnp.divide(0.5, 2.0 * h), 0.25 * dlz)
    slope_tf = fnp.divide(-0.5, fnp.multiply(h, fnp.stop_gradient(tf)))
    return fnp.add(fnp.stop_gradient(log_t), fnp.add(
        fnp.multiply(slope_tf, fnp.subtract(tf, fnp.stop_gradient(tf))),
        fnp.multiply(slope_d, fnp.subtract(d, fnp.stop_gradient(d)))))


def _log_t_tail(df, t):
    """``log P(T <= t)`` for ``t < 0`` where that probability is tiny (below ~1e-280):
    ``log(I_x(a, 1/2) / 2)``, ``a = df/2``, ``x = df / (df + t^2)``, as the logarithm of the
    prefactor ``x^a y^(1/2) / (a B(a, 1/2))`` (:func:`functrans.scipy.special._log_beta_front`,
    with ``log x = -log1p(t^2/df)`` and ``log y = -log1p(df/t^2)``, each accurate) plus the
    logarithm of the continued fraction ``1 / (1 + d1 / (1 + d2 / ...))``,
    ``d_(2m+1) = -(a+m)(a+b+m) x / ((a+2m)(a+2m+1))``, ``d_(2m) = m (b-m) x / ((a+2m-1)(a+2m))``
    (b = 1/2), evaluated from its 12th level (there ``x`` is far below ``(a+1)/(a+b+2)``, where
    it converges fast; the first level's ``1 + d1`` is written ``(1 - b + (a+b) y)/(a+1)``:
    for a large df it cancels to about ``a y`` of 1). Differentiable (its operations)."""
    b = 0.5
    a = 0.5 * df
    w = fnp.divide(fnp.abs(t), fnp.sqrt(df))  # |t| / sqrt(df): t^2/df = w^2
    huge, small = w > 1e150, w < 1e-150  # (w^2 or 1/w^2 would overflow)
    ws = fnp.where(fnp.logical_or(huge, small), 1.0, w)
    w2 = fnp.multiply(ws, ws)
    log_w = fnp.log(fnp.where(fnp.logical_or(huge, small), w, 1.0))
    # (beyond those bounds log1p of the tiny ratio is 0 in double precision)
    log_x = fnp.where(huge, -2.0 * log_w, fnp.where(small, 0.0, fnp.negative(fnp.log1p(w2))))
    log_y = fnp.where(small, 2.0 * log_w, fnp.where(
        huge, 0.0, fnp.negative(fnp.log1p(fnp.divide(1.0, w2)))))
    x, y = fnp.exp(log_x), fnp.exp(log_y)
    front = _special._log_beta_front(a, fnp.full_like(a, b), x, y, log_x, log_y)
    f = None  # 1 + d_k / (1 + ...) from the last level down to k = 3
    for k in range(_T_TAIL_TERMS, 2, -1):
        m = k // 2
        if k % 2:
            d = fnp.negative(fnp.divide(fnp.multiply(fnp.multiply(a + m, a + (b + m)), x),
                                        fnp.multiply(a + 2.0 * m, a + (2.0 * m + 1.0))))
        else:
            d = fnp.divide(m * (b - m) * x, fnp.multiply(a + (2.0 * m - 1.0), a + 2.0 * m))
        f = 1.0 + (d if f is None else fnp.divide(d, f))
    g = fnp.divide(fnp.divide((b - 1.0) * x, fnp.multiply(a + 1.0, a + 2.0)), f)  # d2 / f
    # 1 + d1 / (1 + g) = ((1 + d1) + g) / (1 + g), 1 + d1 = (1 - b + (a + b) y) / (a + 1)
    one_d1 = fnp.divide(fnp.add(1.0 - b, fnp.multiply(a + b, y)), a + 1.0)
    return fnp.subtract(fnp.add(front, fnp.log1p(g)),
                        fnp.log(fnp.multiply(2.0, fnp.add(one_d1, g))))


class _T(_Shaped):
    """Student's t distribution with ``df`` degrees of freedom, as ``scipy.stats.t``."""

    name = "t"
    _safe_shape = 1.0
    _notes = ("``df > 0`` (``df = inf`` is the normal distribution), else nan. Where ``z^2 / "
              "df`` overflows, ``log1p(z^2 / df)`` as ``2 log|z| - log df`` (``logpdf(1e200, "
              "3)`` is -1840.87; SciPy's -inf). At ``x = +-inf`` the log density's slopes' "
              "limits: 0 in ``x`` and ``loc``, -inf in ``df``, ``df / scale`` in the scale.")
    _cdf_methods = ("cdf", "sf", "logcdf", "logsf", "ppf", "isf")
    _cdf_notes = ("Through :func:`functrans.scipy.special.stdtr` (betainc; ``ndtr`` for "
                  "``df = inf``): differentiable in ``x``, ``loc``, ``scale`` and ``df`` (to "
                  "third order in ``df``, through betainc's derivatives in its shapes; at "
                  "the median too). From ``df = 100`` (with ``t^2 <= df/4``) the "
                  "derivatives in ``df`` come from a series without the cancellation of the "
                  "shape slope against the argument's (which loses ~``df`` eps), and the "
                  "ones in ``x`` from the density, eagerly and under jit (any order).")

    def _check(self, df):
        return df > 0.0

    def _tail_finite(self, df):
        # (log density -(df + 1) log|z| + ... at large |z|; df = inf: the normal's)
        return fnp.less(df, math.inf)

    def _tail_slope(self, df):
        # (the power less one, -log(scale)'s: df / scale in the scale at x = +-inf; df + 1
        # - 1 was 0 for df below eps)
        return df

    def _log_tail(self, a, s, big, df):
        # (logcdf at -inf / logsf at +inf: -df log|z| + ...; its slopes' limits: 0 in x and
        # loc, df / scale in the scale, -inf in df)
        return fnp.multiply(fnp.negative(df), fnp.subtract(big(), fnp.log(s)))

    def _cdf(self, z, df):
        # (functrans.scipy.special.stdtr: accurate near 0 and in both tails, with the
        # density's slope at z = 0, where the incomplete beta function's is inf * 0)
        return _special.stdtr(df, z)

    def _sf(self, z, df):
        return _special.stdtr(df, fnp.negative(z))

    def _log_side(self, z, df, upper):
        """log cdf (log sf where ``upper``) from one stdtr, of the smaller of the two
        probabilities: its log on its own side of 0 (the median included), ``log1p`` of
        minus it on the other (the generic log1p-of-the-complement choice, which computed
        both stdtr's)."""
        own = fnp.greater_equal(z, 0.0) if upper else fnp.less_equal(z, 0.0)
        v = fnp.where(own, z, fnp.negative(z)) if not upper else fnp.where(
            own, fnp.negative(z), z)
        u = _special.stdtr(df, v)
        # (where the tail underflows, its logarithm from the incomplete beta function's:
        # finite where SciPy's is -inf; the normal's for df = inf)
        tiny = fnp.logical_and(own, u < _TINY)

        def direct():
            # (each on its own lanes, a stand-in elsewhere: 0 * inf in reverse mode; also
            # where the tail underflowed, staged)
            mine = fnp.logical_and(own, fnp.logical_not(tiny))
            return fnp.where(own, fnp.log(fnp.where(mine, u, 1.0)),
                             fnp.log1p(fnp.negative(fnp.where(own, 0.0, u))))

        def log_tail():
            fin = fnp.logical_and(tiny, df < math.inf)
            # (a stand-in inside the fraction's domain elsewhere, without a derivative)
            out = _log_t_tail(fnp.where(fin, df, 1e6), fnp.where(fin, v, -40.0))
            normal = fnp.logical_and(tiny, df == math.inf)
            return _where_taken([(normal, lambda: _special.log_ndtr(
                fnp.where(normal, v, -40.0)))], lambda: out)
        return _where_taken([(tiny, log_tail)], direct)

    def _logcdf(self, z, df):
        return self._log_side(z, df, False)

    def _logsf(self, z, df):
        return self._log_side(z, df, True)

    _ppf_notes = ("Through :func:`functrans.scipy.special.betaincinv` (``ndtri`` for "
                  "``df = inf``): with the tail probability ``p = min(q, 1 - q)``, "
                  "``z = betaincinv(df/2, 1/2, 2p)`` gives ``t^2 = df (1 - z) / z``, or "
                  "where that ``z`` is above 1/2 (and ``2p >= 1e-5``) "
                  "``w = betaincinv(1/2, df/2, 1 - 2p)`` gives ``t^2 = df w / (1 - w)`` "
                  "(each where its subtraction is exact enough), and the tail's power law "
                  "where z underflows (more accurate than SciPy's there: ``ppf(1e-300, 2.5)`` "
                  "is -8.8e119, not -inf); ``-inf`` at 0, ``inf`` at 1. Differentiable in ``q``, "
                  "``loc``, ``scale`` and ``df`` (to third order in ``df``; ``dx/d df`` from "
                  "betaincinv's derivative in its shape; from ``df = 100``, under jit too, "
                  "``-(dF/d df) / pdf`` by the cdf's series). Where the quantile overflows "
                  "(``ppf(1e-300, 0.5)`` is -inf) its derivatives are the infinities of "
                  "their signs eagerly (``+inf`` in ``q`` and ``df`` below the median), nan "
                  "in ``df`` under jit. From ``df = 1e6`` the expansion of the quantile in "
                  "``1/df`` about the normal one (Fisher's, to ``df^-5``: within 1e-18 there "
                  "down to ``q = 1e-300``), its derivatives its own (betaincinv's root rounds "
                  "to 1 as df grows: ``ppf(1e-10, 1e20)`` was 0, true -6.36).")

    def _ppf(self, q, df):
        inf = df == math.inf
        # at a huge df the normal quantile's expansion (betaincinv's z = I^-1(df/2, 1/2, 2p)
        # rounds to 1 as df grows: ppf(1e-10, 1e20) was 0, true -6.36; (1e-10, 1e12) 3.5e-7
        # off, (1e-10, 1e7) 3e-12), its derivatives its own (the other forms' operands held
        # there: their infinite slopes would meet a zero cotangent in reverse mode)
        huge = fnp.logical_and(fnp.logical_and(df >= _T_CORNISH_FISHER_DF, df < math.inf),
                               fnp.logical_and(q > 0.0, q < 1.0))
        q_in, df_in = q, df
        q, df = _own(fnp.logical_not(huge), q, df)
        d = fnp.where(inf, 1.0, df)
        lower = q < 0.5
        tail = 2.0 * fnp.where(lower, q, 1.0 - q)  # (1 - q exact for q >= 1/2)
        # (z's value chooses the forms; its derivatives only where its form is taken)
        z, z_live = _value_first(lambda d, tail: _special.betaincinv(0.5 * d, 0.5, tail),
                                 d, tail)
        zform = fnp.logical_or(z <= 0.5, tail < 1e-5)
        # far in the tail z underflows: there z^(df/2) ~ 2p (df/2) B(df/2, 1/2), so
        # log |t| = (log df - (2/df) log(2p (df/2) B(df/2, 1/2))) / 2
        far = fnp.logical_and(z < 1e-30, tail > 0.0)
        # below ~1e-16 that power law's relative error (O(z)) is under rounding, in its
        # derivatives too: there they are the power law's, the value still z's. (In reverse
        # mode betaincinv's shape slope multiplies t's cotangent by 1/(dI/dz) ~ z/(df p)
        # before dI/da: for a tiny p that overflowed, grad in df of ppf(1e-300, 30) was inf.)
        band = fnp.logical_and(z < _T_POWER_LAW_Z, fnp.logical_not(far))
        band = fnp.logical_and(band, tail > 0.0)
        power = fnp.logical_or(far, band)
        mid = q == 0.5

        # (each form sees its own elements only, a stand-in elsewhere whose root keeps the
        # form and its slopes finite: an infinite one times the zero cotangent of an
        # element not taken is nan in reverse mode, where jit computes every form; the far
        # tail's underflowing z is not the z form's, and the w form's stand-in for a small
        # df is a small probability, as 1/2 gave w = 1 there)
        def z_form():
            own = fnp.logical_and(zform, fnp.logical_not(power))
            zs = fnp.where(own, z_live(own), 0.5)
            (ds,) = _own(own, d)
            return fnp.divide(fnp.multiply(ds, 1.0 - zs), zs)

        def w_form():
            own = fnp.logical_not(zform)
            (ds,) = _own(own, d)
            p = fnp.where(zform, fnp.minimum(0.25, 0.125 * ds), 1.0 - tail)
            w = _special.betaincinv(0.5, 0.5 * ds, p)
            return fnp.divide(fnp.multiply(ds, w), 1.0 - w)

        def far_form():
            tf = fnp.where(power, tail, 1.0)  # (1e-40 overflowed t_far for a small df: inf * 0)
            (ds,) = _own(power, d)
            h = 0.5 * ds
            log_z = fnp.divide(fnp.add(fnp.log(tf), fnp.log(h) + _special.betaln(h, 0.5)), h)
            log_t = 0.5 * fnp.subtract(fnp.log(ds), log_z)
            over = fnp.stop_gradient(log_t) > _T_LOG_MAX
            # (eagerly: staged, 33 more equations in jit(vmap(grad(t.ppf))) of ordinary
            # points, 2.6 %; jit keeps the nan there)
            if _special._concrete_behind(over) is not None and _special._may_hold(over):
                log_t = fnp.where(over, _t_overflow_log(log_t, log_z, tf, ds), log_t)
            t_far = fnp.exp(log_t)
            # (in the band z's value, exact, plus the power law's derivatives)
            zs, dz = fnp.where(band, z, 0.5), fnp.stop_gradient(ds)
            t_z = fnp.sqrt(fnp.divide(fnp.multiply(dz, 1.0 - zs), zs))
            return fnp.where(band, fnp.add(t_z, fnp.subtract(t_far, fnp.stop_gradient(t_far))),
                             t_far)

        def near():
            # (t2 = 0 at the median, handled below: kept away from sqrt's infinite slope
            # there, whose product with a zero tangent of df would be nan)
            t2 = _where_taken([(zform, z_form)], w_form)
            return fnp.sqrt(fnp.where(fnp.logical_or(power, mid), 1.0, t2))

        t_abs = _where_taken([(power, far_form)], near)
        out = fnp.where(lower, -t_abs, t_abs)
        # (at a large df: the derivative in df by special._t_tail_df_slope, without
        # betainc's cancellation: 3.4e-9 off at (0.3, 1e6); under jit too, by the primitive
        # t_fix)
        out = _special._t_quantile_accurate(q, d, out, fnp.logical_not(
            fnp.logical_or(power, mid)))

        def median():
            # at the median exactly |t| has no derivative: there t = (q - 1/2) / pdf(0), the
            # right value (0) with the right first and second derivatives (1 / pdf(0), 0)
            log_pdf0 = _log_gamma_half_ratio(0.5 * d) - 0.5 * (fnp.log(d) + _LOG_PI)
            return fnp.multiply(q - 0.5, fnp.exp(-log_pdf0))
        def cornish_fisher():
            qs, ds = _own(huge, q_in, df_in)
            qs, ds = fnp.where(huge, qs, 0.5), fnp.where(huge, ds, 1e6)
            low = qs < 0.5
            # (the normal quantile of the smaller tail, 1 - q exact for q >= 1/2; t odd)
            z = _special.ndtri(fnp.where(low, qs, 1.0 - qs))
            return fnp.where(low, _t_cornish_fisher(z, ds), -_t_cornish_fisher(z, ds))

        # (ndtri's slopes overflow where q is tiny: its own elements only)
        return _where_taken([(inf, lambda: _special.ndtri(*_own(inf, q))),
                             (huge, cornish_fisher), (mid, median)], lambda: out)

    def _isf(self, q, df):
        return -self._ppf(q, df)

    def _logpdf(self, z, df):
        inf = df == math.inf
        d = fnp.where(inf, 1.0, df)
        # (far out, z^2 / df > 1e300, log1p(z^2 / df) as 2 log|z| - log df: z * z
        # overflowed, t.logpdf(1e200, 3) was -inf (SciPy's too; true -1840.87, mpmath) and
        # its slopes 0 in the scale, nan in df; at z = +-inf the limits: -inf, 0 in z, -inf
        # in df (in the scale ``df / scale``: _tail_slope))
        zs = fnp.stop_gradient(z)
        with _np.errstate(all="ignore"):
            far = fnp.greater(fnp.divide(fnp.multiply(zs, zs), fnp.stop_gradient(d)), 1e300)
        zn = fnp.where(far, 0.0, z)  # (also where df = inf: the normal's form there)
        far = fnp.logical_and(fnp.logical_not(inf), far)
        # (fnp's functions between terms of different operands: either may be a plain
        # array of a library whose operators refuse tracers; the front as
        # _log_gamma_half_ratio_excess: log(df / 2) / 2 - log(df) / 2 cancelled in df)
        front = _log_gamma_half_ratio_excess(0.5 * d) - _HALF_LOG_2PI
        kernel = _t_log_kernel(d, zn * zn)
        if _may_hold(far):
            kernel = fnp.where(far, fnp.multiply((d + 1.0) * 0.5, fnp.subtract(
                fnp.multiply(2.0, fnp.log(fnp.abs(fnp.where(far, z, 1.0)))), fnp.log(d))),
                kernel)
        return fnp.where(inf, -0.5 * (z * z) - _HALF_LOG_2PI, fnp.subtract(front, kernel))

    @staticmethod
    def _near(v, d, *live):
        """Where the log density with a derivative in the scale takes t_log_kernel in ``z``
        itself: ``v = z^2 / df`` (held) at most ``_T_NEAR`` (not far, then), df (1 where it
        is inf) from ``_T_NEAR_DF``; only where one of ``live`` carries a derivative (the
        plain form's values are within an ulp or two)."""
        if not _carries_derivative(live)[0]:
            return False
        return fnp.logical_and(v <= _T_NEAR, d >= _T_NEAR_DF)

    def _log_density(self, x, loc, s, df, keep=None, at_end=False):
        """The log density with ``-log(scale)`` inside, ``front - (df + 1) H - log(c) +
        df (log(scale) - log(c))`` with ``c`` the scale held (the last term 0 in value) and
        ``H = log1p((scale / c)^2 - 1 + (u / c)^2 / df) / 2`` (``u = x - loc``; in value
        ``log1p(z^2 / df) / 2``, in the scale ``log(scale^2 + u^2 / df) / 2``), so that the
        scale slope ``(df / scale) (z^2 - 1) / (df + z^2)`` is ``df / scale - (df + 1) /
        (scale (1 + z^2 / df))``, two terms of its own size: ``(df + 1) / 2 log1p(z^2 /
        df)``'s ``(df + 1) / scale ...`` less ``-log(scale)``'s ``1 / scale`` was 0 below
        ``df`` ~ eps (``grad(lambda s: t.logpdf(1e200, 1e-20, scale=s))(0.7)``: true
        1.43e-20), eps / df relative above. Far out (``z^2 / df > 1e300``) ``H = log|u /
        c| - log(df) / 2``."""
        if keep is not None or at_end:
            return super()._log_density(x, loc, s, df, keep=keep, at_end=at_end)
        u = fnp.subtract(x, loc)
        c = fnp.stop_gradient(s)
        inf = df == math.inf
        d = fnp.where(inf, 1.0, df)
        zs = fnp.divide(fnp.stop_gradient(u), c)
        with _np.errstate(all="ignore"):
            far = fnp.greater(fnp.divide(fnp.multiply(zs, zs), fnp.stop_gradient(d)), 1e300)
        # (far also where df = inf: the normal's form there)
        uc = fnp.divide(fnp.where(far, 0.0, u), c)
        far = fnp.logical_and(fnp.logical_not(inf), far)
        front = _log_gamma_half_ratio_excess(0.5 * d) - _HALF_LOG_2PI
        log_c = fnp.log(c)

        def far_kernel():   # ((df + 1) H far out)
            return fnp.multiply(d + 1.0, fnp.subtract(fnp.log(fnp.abs(fnp.divide(fnp.where(
                far, u, 1.0), c))), 0.5 * fnp.log(d)))
        zz = uc * uc
        if not isinstance(s, _Tracer):
            # (no slope in the scale: the kernel in z, by the primitive t_log_kernel)
            kernel = _t_log_kernel(d, zz)
            if _may_hold(far):
                kernel = fnp.where(far, far_kernel(), kernel)
            z = fnp.divide(u, s)
            return fnp.where(inf, -0.5 * (z * z) - _HALF_LOG_2PI - log_c,
                             fnp.subtract(fnp.subtract(front, kernel), log_c))
        # ((scale / c)^2 - 1 = expm1(2 e), e = log(scale) - log(c): 0 in value)
        e = fnp.subtract(fnp.log(s), log_c)
        w = fnp.divide(zz, d)

        def plain():
            h = 0.5 * fnp.log1p(fnp.add(fnp.expm1(2.0 * e), w))
            t = fnp.subtract(fnp.subtract(front, fnp.where(far, far_kernel(), fnp.multiply(
                d + 1.0, h)) if _may_hold(far) else fnp.multiply(d + 1.0, h)), log_c)
            return fnp.add(t, fnp.multiply(d, e))

        def near_form():
            # (in z = u / scale itself: the terms of the scale's slope are of its size
            # where df is not tiny; e's d e - (d + 1) H summed d-sized cotangents in
            # reverse mode, grad in the scale of t.logpdf(2, 1e20, 0.3, 0.7) was 0, true 7.0,
            # 1e-9 off at df = 1e8)
            zn = fnp.divide(fnp.where(near, u, 0.0), s)
            return fnp.subtract(fnp.subtract(front, _t_log_kernel(d, fnp.multiply(zn, zn))),
                                fnp.log(s))
        near = self._near(fnp.stop_gradient(w), d, df, s)
        t = _where_taken([(near, near_form)], plain)
        z = fnp.divide(u, s)
        return fnp.where(inf, -0.5 * (z * z) - _HALF_LOG_2PI - fnp.add(log_c, e), t)


class _Gamma(_Shaped):
    """The gamma distribution with shape ``a``, as ``scipy.stats.gamma``."""

    _nan_at_infinite_shape = True
    name = "gamma"
    _a = 0.0
    _safe_shape = 1.0
    _notes = "``a > 0``, else nan; 0 below ``loc``."
    _cdf_methods = ("cdf", "sf", "logcdf", "logsf", "ppf", "isf")
    _cdf_notes = ("Through :func:`functrans.scipy.special.gammainc` / ``gammaincc``; the "
                  "log methods are their logarithms (``log1p`` of minus the complement near "
                  "1), and where the probability underflows a log-space series (logcdf, "
                  "for ``x <= 0.3 (a + 1)``) or continued fraction (logsf, for ``x >= 2 (a + "
                  "1)``): finite where SciPy's is -inf (``logsf(1e4, 2)`` is -9990.8). "
                  "Differentiable in ``x``, ``loc``, ``scale`` and ``a`` (to second order in "
                  "``a``).")

    _ppf_notes = ("``gammaincinv(a, q)`` (``gammainccinv`` for isf): 0 at ``q = 0`` and "
                  "``inf`` at 1 for ppf (the reverse for isf). Differentiable in ``q``, "
                  "``loc``, ``scale`` and ``a`` (``dx/da = -(dP/da) / (dP/dx)``, to second "
                  "order in ``a``; from ``a = 50`` near the mean in Temme's variable, to any "
                  "order: see ``gammaincinv``).")

    def _check(self, a):
        return a > 0.0

    def _ppf(self, q, a):
        return _special.gammaincinv(a, q)

    def _isf(self, q, a):
        return _special.gammainccinv(a, q)

    def _log_tail(self, u, s, big, a):
        # (logsf at +inf: -z + (a - 1) log z + ...; its slopes' limits: -1 / scale in x, 1 /
        # scale in loc, +inf in the scale and a: -z (2 - a / a), the last a held)
        return fnp.multiply(fnp.negative(fnp.divide(u(), s)),
                            fnp.subtract(2.0, fnp.divide(a, fnp.stop_gradient(a))))

    def _cdf(self, z, a):
        return _special.gammainc(a, z)

    def _sf(self, z, a):
        return _special.gammaincc(a, z)

    def _logcdf(self, z, a):
        return _log_gammainc(a, z)

    def _logsf(self, z, a):
        return _log_gammaincc(a, z)

    def _logpdf(self, z, a):
        # (a - 1) log z - z - gammaln(a), in the deviance form from a = 11 on (the direct
        # one lost 1e-6 relative at a = z = 1e10)
        return _log_poisson_term(a - 1.0, z)

    def _end_power(self, k, a):
        return a - 1.0, fnp.negative(_special.gammaln(a))

    def _end_dlog(self, k, a):
        # log density - (a - 1) log z = -z - gammaln(a)
        return -1.0


class _Chi2(_Shaped):
    """The chi-squared distribution with ``df`` degrees of freedom, as
    ``scipy.stats.chi2``."""

    _nan_at_infinite_shape = True
    name = "chi2"
    _a = 0.0
    _safe_shape = 1.0
    _notes = "``df > 0``, else nan; 0 below ``loc``."
    _cdf_methods = ("cdf", "sf", "logcdf", "logsf", "ppf", "isf")
    _cdf_notes = ("``gammainc(df / 2, x / 2)`` (``gammaincc`` for sf); the log methods as "
                  "``gamma``'s (finite where the probability underflows: ``logsf(1e4, 5)`` "
                  "is -4987.5 where SciPy's is -inf, ``logcdf(1e-300, 5)`` -1729.9): "
                  "differentiable in ``x``, ``loc``, ``scale`` and ``df`` (to second order "
                  "in ``df``).")

    def _check(self, df):
        return df > 0.0

    _ppf_notes = ("``2 gammaincinv(df / 2, q)`` (``gammainccinv`` for isf). "
                  "Differentiable in ``q``, ``loc``, ``scale`` and ``df`` (to second order "
                  "in ``df``).")

    def _ppf(self, q, df):
        return 2.0 * _special.gammaincinv(0.5 * df, q)

    def _isf(self, q, df):
        return 2.0 * _special.gammainccinv(0.5 * df, q)

    def _log_tail(self, u, s, big, df):
        # (logsf at +inf: -z / 2 + (df / 2 - 1) log z + ...; its slopes' limits: -1 / (2
        # scale) in x, 1 / (2 scale) in loc, +inf in the scale and df; as gamma's)
        return fnp.multiply(fnp.negative(fnp.divide(u(), fnp.multiply(2.0, s))),
                            fnp.subtract(2.0, fnp.divide(df, fnp.stop_gradient(df))))

    def _cdf(self, z, df):
        return _special.gammainc(0.5 * df, 0.5 * z)

    def _sf(self, z, df):
        return _special.gammaincc(0.5 * df, 0.5 * z)

    def _logcdf(self, z, df):
        return _log_gammainc(0.5 * df, 0.5 * z)

    def _logsf(self, z, df):
        return _log_gammaincc(0.5 * df, 0.5 * z)

    def _logpdf(self, z, df):
        # gamma's density at z / 2 with a = df / 2, halved
        return _log_poisson_term(0.5 * df - 1.0, 0.5 * z) - _LOG_2

    def _end_power(self, k, df):
        return 0.5 * df - 1.0, fnp.subtract(-_LOG_2 * (0.5 * df), _special.gammaln(0.5 * df))

    def _end_dlog(self, k, df):
        # log density - (df/2 - 1) log z = -z / 2 + const
        return -0.5


class _Beta(_Shaped):
    """The beta distribution with shapes ``a`` and ``b`` on ``[loc, loc + scale]``, as
    ``scipy.stats.beta``."""

    _nan_at_infinite_shape = True
    name = "beta"
    _a, _b = 0.0, 1.0
    _safe_shape = 1.0
    _notes = "``a > 0`` and ``b > 0``, else nan; 0 outside ``[loc, loc + scale]``."
    _cdf_methods = ("cdf", "sf", "logcdf", "logsf", "ppf", "isf")
    _cdf_notes = ("``betainc(a, b, x)`` (``betainc(b, a, 1 - x)`` for sf, or ``1 - cdf`` "
                  "where rounding ``1 - x`` would move it more: a tiny ``x``); the log methods "
                  "are their logarithms (``log1p`` of minus the complement near 1), and where "
                  "the probability is below 1e-45 the log of its power series (``a log x + b "
                  "log(1 - x) - log(a B(a, b)) + log 2F1(a + b, 1; a + 1; x)``, where its "
                  "terms shrink by 0.3 at least): finite where SciPy's is -inf (``logcdf(1e-300, 5, "
                  "2)`` is -3452.1). Differentiable in ``x``, ``loc``, ``scale``, ``a`` and "
                  "``b`` (to third order in the shapes).")

    _ppf_notes = ("``betaincinv(a, b, q)``; isf: ``1 - betaincinv(b, a, q)``, or "
                  "``betaincinv(a, b, 1 - q)`` where ``q > 1/2`` (``1 - q`` is exact) or "
                  "the result is below 0.01 (the subtraction would lose its digits). "
                  "Differentiable in ``q``, ``loc``, ``scale``, ``a`` and ``b`` (``dx/da = "
                  "-(dI/da) / (dI/dx)``, to third order in the shapes).")

    def _check(self, a, b):
        return fnp.logical_and(a > 0.0, b > 0.0)

    def _ppf(self, q, a, b):
        # where the root is above 15/16 (q above the cdf there) and q >= 1/4 (1 - q within
        # 2 ulp of q's) as 1 - betaincinv(b, a, 1 - q): there the root's rounding is a large
        # relative error in 1 - x, which the derivatives see (x^(a-1) (1 - x)^(b-1) at the
        # rounded x): grad(ppf)(1 - 1e-9, 5, 0.7) was 2.1e-4 off, ppf(0.3, 0.7, 0.01)'s
        # 8.8e-2 (1 - x = 6e-16); below 15/16 that loss is at most 16 eps (as f's
        # _F_NEAR_ONE). One root, of the operands chosen. (The choice by the primitive
        # betainc without derivatives, ~6 us where the public function's edge handling
        # takes ~600; where it is nan, at an infinite shape, the direct form.) Staged code
        # keeps the direct form's value (the choice and selections cost jit(beta.ppf) of 64
        # points 24 %, jit(vmap(grad)) 14 %), with the complement form's derivatives.
        carries, staged = _carries_derivative((q, a, b))
        if staged:
            # (staged: the direct root, its derivatives near 1 those of the complement
            # form computed at evaluation by the primitive beta_ppf_fix, one equation
            # where a derivative flows)
            x = _special.betaincinv(a, b, q)
            if not carries:
                return x
            shape = fnp.broadcast_shapes(a.shape, b.shape, q.shape, x.shape)
            return _special_prims.beta_ppf_fix(*(
                v if v.shape == shape else fnp.broadcast_to(v, shape) for v in (a, b, q, x)))
        a0, b0 = fnp.stop_gradient(a), fnp.stop_gradient(b)
        at_near = _special_prims.betainc(a0, b0, fnp.full_like(a0, _F_NEAR_ONE))
        comp = fnp.logical_and(q >= 0.25, fnp.greater(fnp.stop_gradient(q), at_near))
        if not _may_hold(comp):
            return _special.betaincinv(a, b, q)
        r = _special.betaincinv(fnp.where(comp, b, a), fnp.where(comp, a, b),
                                fnp.where(comp, 1.0 - q, q))
        return fnp.where(comp, 1.0 - r, r)

    def _isf(self, q, a, b):
        # (betaincinv(a, b, 1 - q) where q > 1/2 (1 - q exact) and the root is at most 1/2,
        # or below 0.01; else 1 - betaincinv(b, a, q), also where q > 1/2 and the root is
        # above 1/2: as ppf's, its rounding was a large relative error in 1 - x there)
        a0, b0 = fnp.stop_gradient(a), fnp.stop_gradient(b)
        qs = fnp.stop_gradient(q)
        direct = fnp.logical_or(
            fnp.logical_and(q > 0.5,
                            fnp.greater_equal(qs, _special_prims.betainc(
                                b0, a0, fnp.full_like(b0, 0.5)))),
            fnp.greater(qs, _special.betainc(b0, a0, 0.99)))
        r = _special.betaincinv(fnp.where(direct, a, b), fnp.where(direct, b, a),
                                fnp.where(direct, 1.0 - q, q))
        return fnp.where(direct, r, 1.0 - r)

    def _cdf(self, z, a, b):
        return _special.betainc(a, b, z)

    def _sf(self, z, a, b):
        # (no floating-point warnings from the choice's density, which overflows where it
        # is not needed: sf(0.5, 1e-300, 1e12) = 0 warned; see _F._finite)
        with _np.errstate(all="ignore"):
            return self._sf_chosen(z, a, b)

    def _sf_chosen(self, z, a, b):
        # betainc(b, a, 1 - z), except where rounding 1 - z moved it by more than the
        # rounding of 1 - cdf (a tiny z: 1 - 1e-20 is 1, and betainc(b, a, 1) = 1, while
        # sf(1e-20, 0.01, 20) is 0.35)
        y = 1.0 - z
        moved = fnp.abs(fnp.stop_gradient(fnp.subtract(fnp.subtract(1.0, y), z)))
        density = fnp.exp(fnp.stop_gradient(self._logpdf(fnp.where(moved > 0.0, z, 0.5),
                                                         a, b)))
        direct = fnp.less_equal(fnp.multiply(moved, density), 2.2e-16)
        # (each branch at a stand-in where not taken: no nan tangent from an infinite
        # density at the unused end; the complement only where some element takes it)
        return _where_taken(
            [(direct, lambda: _special.betainc(b, a, fnp.where(direct, y, 0.5)))],
            lambda: 1.0 - _special.betainc(a, b, fnp.where(direct, 0.5, z)))

    def _logcdf(self, z, a, b):
        return _log_betainc(a, b, z, 1.0 - z, q=self._sf(z, a, b))

    def _logsf(self, z, a, b):
        return _log_betainc(b, a, 1.0 - z, z, p=self._sf(z, a, b))

    def _logpdf(self, z, a, b):
        # the plain form where its terms are small (_deviance_where), else the deviance
        # form (a large a and b: logpdf(0.5, 1e14, 1e14) came out 16.234, not 16.2389); the
        # ends take the plain form (-inf, or log b at z = 0 for a = 1)
        far = _deviance_where(None, a, b)  # (on the shapes first: usually not the size of z)
        if far is not None:
            far = fnp.logical_and(far, fnp.logical_and(z > 0.0, z < 1.0))
        direct = None
        if far is None or _may_hold(fnp.logical_not(far)):
            direct = fnp.subtract(fnp.add(_special._xlog1py_weak(b - 1.0, -z),
                                          _special._xlogy_weak(a - 1.0, z)), _special.betaln(a, b))
            if far is None:  # (the deviance form costs ~4x the plain one)
                return direct
        zf = fnp.where(far, z, 0.5)
        dev = _log_beta_density(a, b, zf, 1.0 - zf, fnp.log(zf), fnp.log1p(fnp.negative(zf)))
        return dev if direct is None else fnp.where(far, dev, direct)

    def _end_power(self, k, a, b):
        return (a if k == 0 else b) - 1.0, fnp.negative(_special.betaln(a, b))

    def _end_dlog(self, k, a, b):
        # the other factor: (b - 1) log(1 - w) at 0, (a - 1) log(1 + w) at 1 (w = z - 1)
        return fnp.subtract(1.0, b) if k == 0 else fnp.subtract(a, 1.0)


def _with_small_beta_root(v, b, x_of_root, x_of_tiny):
    """``x_of_root(own)`` (``x`` from the root ``v`` of ``I_v(a, b) = p``), or where ``v`` is
    tiny ``x_of_tiny(own)`` (from ``log v`` by the power law ``I_v(a, b) = v^a / (a B(a, b))
    (1 + O(b v))``: ``log v = (log p + log a + betaln(a, b)) / a``, see
    :func:`_log_small_beta_root`; computed only where some element is tiny, where that is
    known). ``v`` and ``b`` select the elements (their values only); each function is given
    the mask of its own elements (for :func:`_own`: the root's slopes overflow where it is
    tiny, the power law's stand-ins are not the root's)."""
    small = fnp.logical_and(v < 1e-30, fnp.multiply(v, b) < 1e-17)
    return _where_taken([(small, lambda: x_of_tiny(small))],
                        lambda: x_of_root(fnp.logical_not(small)))


def _log_small_beta_root(small, a, b, log_p):
    """``log v`` of the power law of :func:`_with_small_beta_root` where ``small``, of the
    shapes ``a``, ``b`` and ``log_p()`` (a stand-in elsewhere)."""
    a_s, b_s = fnp.where(small, a, 1.0), fnp.where(small, b, 1.0)
    lp = fnp.where(small, log_p(), -100.0)
    return fnp.divide(fnp.add(fnp.add(lp, fnp.log(a_s)), _special.betaln(a_s, b_s)), a_s)


def _f_quantile(q, n, m, upper):
    """The x of the F distribution with cdf(x) = q (sf(x) = q where ``upper``), from
    ``u = n x / (n x + m)`` (``I_u(n/2, m/2) = cdf``) or ``w = 1 - u``
    (``I_w(m/2, n/2) = sf``): the one of the two solved for the probability given is used
    where it is at most 1/2 (so that ``1 - u`` or ``1 - w`` is exact), or where that
    probability is below its root's complement (the other problem's ``1 - q`` would round
    more of it away than ``1 - root`` does; a plain ``q < 1/2`` lost 5 digits at
    ``isf(0.165, 0.0143, 23.9)``: the root 1 - 5e-13), the other elsewhere. Where the root used is tiny (below 1e-30: betaincinv's root stops at the
    smallest normal float, 2.2e-308) ``x`` is taken in logarithms from the root's power
    law: ``m u / (n (1 - u))`` or ``m (1 - w) / (n w)`` then overflows to inf or underflows
    to 0 where the true x does (it was a finite 2.8e306 for ``isf(4.8e-81, 0.87, 0.054)``,
    where the true x is beyond the largest float). The first root's value chooses; each
    root (and its derivatives in the shapes, ~7x its value's cost) is computed only where
    some element takes it, where that is known."""
    def x_of(v, is_u, n, m):
        if is_u:
            return fnp.divide(fnp.multiply(m, v), fnp.multiply(n, 1.0 - v))
        return fnp.divide(fnp.multiply(m, 1.0 - v), fnp.multiply(n, v))

    def x_of_log(log_v, is_u, n, m):
        log_mn = fnp.subtract(fnp.log(m), fnp.log(n))
        return fnp.exp((fnp.add if is_u else fnp.subtract)(log_mn, log_v))

    def shapes(n, m):  # the first problem's shapes (u's: not upper), then the second's
        hn, hm = 0.5 * n, 0.5 * m
        return (hm, hn) if upper else (hn, hm)

    s1, s2 = shapes(n, m)
    r, r_live = _value_first(_special.betaincinv, s1, s2, q)
    first = fnp.logical_or(r <= 0.5, fnp.less(q, 1.0 - r))
    second = fnp.logical_not(first)

    # (each form and the operands after it see its own elements only: _own; the roots'
    # slopes overflow where they are tiny or at 1, the other problem's elements)
    def from_first():
        def of_root(own):
            own = fnp.logical_and(first, own)
            no, mo = _own(own, n, m)
            return x_of(fnp.where(own, r_live(own), 0.5), not upper, no, mo)

        def of_tiny(small):
            qo, no, mo = _own(small, q, n, m)
            a, b = shapes(no, mo)
            return x_of_log(_log_small_beta_root(small, a, b, lambda: fnp.log(qo)),
                            not upper, no, mo)
        return _with_small_beta_root(fnp.where(first, r, 0.5), s2, of_root, of_tiny)

    def from_second():
        qo, no, mo = _own(second, q, n, m)
        a, b = shapes(no, mo)
        v, v_live = _value_first(_special.betaincinv, b, a, 1.0 - fnp.where(first, 0.5, qo))

        def of_root(own):
            own = fnp.logical_and(second, own)
            vo = fnp.where(own, v_live(own), 0.5)
            return x_of(vo, upper, *_own(own, no, mo))

        def of_tiny(small):
            qs, ns, ms = _own(small, qo, no, mo)
            a, b = shapes(ns, ms)
            return x_of_log(_log_small_beta_root(small, b, a, lambda: fnp.log1p(-qs)),
                            upper, ns, ms)
        return _with_small_beta_root(fnp.where(first, 0.5, v), a, of_root, of_tiny)
    return _where_taken([(first, from_first)], from_second)


_F_NEAR_ONE = 15.0 / 16.0
_F_TINY_Q = 2.0 ** -1000  # (f's logpdf: a quotient below this from its logarithm)
_F_PLAIN_DF = 64.0  # (f's logpdf: the plain form up to these degrees of freedom, ~5e-14)
_F_SMALL_DF = 1.0  # (f's deviance form: below this degree of freedom the one in log u, log w)
_F_LOPSIDED = 8.0  # (f's deviance form: the slopes of the b-free form from this ratio of dfs)
# (f's logpdf below this degree of freedom: the form in log u, log w computed at evaluation
# under jit too, where betaln's derivatives beside its pole 0 are its eager ones: staged,
# betaln's plain psi(b) - psi(a + b) lost eps / a, the dfd slope at (0.5, 1e-20, 3) was
# -8.3e-22, true 6.7e-22)
_F_TINY_DF = 1e-3


def _f_betaln(hn, hm):
    """betaln(hn, hm) with the difference of the other argument's log-gamma functions of its
    relative precision in both where the smaller one is at most 1 (lgamma(h_s) -
    (lgamma(h_o + h_s) - lgamma(h_o))): staged betaln's slope psi(hm) - psi(hn + hm) at a
    tiny hn lost eps / hn (f.logpdf at x = inf: the dfn slope at (inf, 3, 1e-20) -1.7e-21
    under jit, true 6.7e-22)."""
    small = fnp.minimum(fnp.stop_gradient(hn), fnp.stop_gradient(hm)) <= 1.0
    by_n = fnp.less_equal(hn, hm)
    h_s = fnp.where(small, fnp.where(by_n, hn, hm), 0.5)
    h_o = fnp.where(small, fnp.where(by_n, hm, hn), 1.0)
    near = fnp.subtract(_special.gammaln(h_s), _lgamma_diff(_FNP_BACKEND, h_s, h_o))
    return fnp.where(small, near, _special.betaln(fnp.where(small, 2.0, hn),
                                                  fnp.where(small, 2.0, hm)))


class _FNP_BACKEND:
    """functrans.numpy as the backend of incomplete_grads' formulas (their ``xp``, the
    arrays' own device, ``lgamma``): differentiable, any backend's arrays."""

    xp = fnp
    extra = staticmethod(_special._TRACED.extra)

    @staticmethod
    def device(x):
        return x.device


def _f_far(xp, z, n, m):
    """Where f's logpdf takes the deviance form (``xp``: functrans.numpy or an array
    namespace): a degree of freedom above _F_PLAIN_DF or below _F_TINY_DF, or ``n z`` not a
    normal number, for ``0 < z < inf``."""
    nz = xp.multiply(n, z)
    return xp.logical_and(xp.logical_and(z > 0.0, z < math.inf), xp.logical_or(
        xp.logical_or(xp.logical_or(n > _F_PLAIN_DF, m > _F_PLAIN_DF),
                      xp.logical_or(n < _F_TINY_DF, m < _F_TINY_DF)),
        xp.logical_or(nz < 1e-300, nz > 1e300)))


def _f_deviance_partial(bk, slope, wrt, z, n, m):
    """The partial derivative of f's deviance form (``_F._logpdf_deviance``) in ``(z, n,
    m)[slope]`` at the arrays (of backend ``bk``), then in the operands ``wrt`` names: the
    first by reverse mode, the next by forward mode, in the order eager grad and hessian
    take them (forward mode's first partial in z was nan where eager's is -inf,
    ``(1e-310, 1.2, 3)``: the same bits as eager where the graphs are the same). ``slope``
    a tuple: those slopes, a tuple, from the one pass (reverse mode gives all three, and
    forward mode over it their partials in the same operand; f_logpdf_fix's JVP asks for
    them together through fix_slopes)."""
    from ..api import jvp, vjp
    ones = bk.xp.ones_like(z)

    def first(*ops):
        return tuple(vjp(_F._logpdf_deviance, *ops)[1](ones))

    def partial(fn, i):
        def g(*ops):
            return jvp(lambda w: fn(*ops[:i], w, *ops[i + 1:]), (ops[i],), (ones,))[1]
        return g
    fn = first
    for i in wrt:
        fn = partial(fn, i)
    slopes = fn(z, n, m)
    if isinstance(slope, tuple):
        return tuple(bk.xp.asarray(slopes[i]) for i in slope)
    return bk.xp.asarray(slopes[slope])


def _f_logpdf_fix_on_arrays(bk, slope, z, n, m, out, wrt):
    """The primitive f_logpdf_fix (functrans.primitives.special) on arrays of backend
    ``bk``: ``out`` with the deviance form's values (``slope`` None) where :func:`_f_far`
    holds, or that form's partial derivative in ``(z, n, m)[slope]`` and then in the
    operands ``wrt`` names there (by nested forward mode, 0 elsewhere), or (``slope``
    "region") that region. Only where some element is in it (read on the host, for arrays
    on the CPU; on NumPy the region's elements only; elsewhere a read would wait for the
    device: all, with stand-ins outside). ``slope`` a tuple of slopes: a tuple of them, from
    one pass (fix_slopes)."""
    on_numpy = isinstance(z, (_np.ndarray, _np.generic))
    xp = _np if on_numpy else bk.xp
    base = out if slope is None else xp.zeros_like(out)
    many = isinstance(slope, tuple)  # (several slopes, a tuple, from one pass)

    def bases():  # (each slope its own array)
        return tuple(xp.zeros_like(out) for _ in slope) if many else base
    with _np.errstate(all="ignore"):
        if on_numpy and slope != "region" and z.size:
            # (no element in the region, by four reductions: half the time of the mask)
            nz = n * z
            if (n.max() <= _F_PLAIN_DF and m.max() <= _F_PLAIN_DF and n.min() >= _F_TINY_DF
                    and m.min() >= _F_TINY_DF and nz.min() >= 1e-300
                    and nz.max() <= 1e300):
                return bases()
        region = _f_far(xp, z, n, m)
    if slope == "region":
        return region

    def form(z, n, m):
        with _np.errstate(all="ignore"):
            if slope is None:
                return xp.asarray(_F._logpdf_deviance(z, n, m))
            return _f_deviance_partial(bk, slope, wrt, z, n, m)
    if on_numpy:  # (the region's elements only)
        if not region.any():
            return bases()
        if region.all():
            got = form(z, n, m)
            return (tuple(_np.asarray(g, dtype=out.dtype) for g in got) if many
                    else _np.asarray(got, dtype=out.dtype))
        got = form(z[region], n[region], m[region])

        def placed(g):
            res = _np.array(base, dtype=out.dtype)
            res[region] = g
            return res
        return tuple(placed(g) for g in got) if many else placed(got)
    if _special._read_on_host(z) and not bool(bk.to_numpy(xp.any(region))):
        return bases()
    one = xp.ones_like(z)
    got = form(*(xp.where(region, v, one) for v in (z, n, m)))
    return (tuple(xp.where(region, g, base) for g in got) if many
            else xp.where(region, got, base))



def _f_from_small_side(hn, hm, u, w, take_w):
    """f's cdf (``take_w`` False) or sf (True), each by one betainc: of ``u = n z / (n z +
    m)`` (``betainc(n/2, m/2, u)``) where ``u`` is at most 15/16, else the complementary
    one of ``w = m / (n z + m)``, so that the derivatives see the quotient that is accurate
    relative to its complement. Near 1 a quotient's rounding is a large relative error in
    its complement, which the density and the shape derivatives see, and its own
    derivative (``t / den - v t / den``) cancels: f.cdf's derivative in dfn, itself 1e-4 of
    its terms at dfn = 5e3, dfd = 0.14, x = 19 (u = 1 - 1.5e-6), was 2.6e-7 off (and
    forward and reverse mode differed, summing the terms in other orders); from 1/2 to
    15/16 that loss is at most 16 eps relative to the terms, and flipping there would
    take both shape derivatives of every element (twice the work in dfn). Returns the
    value and where ``w`` was used."""
    by_w = (w <= 1.0 - _F_NEAR_ONE) if not take_w else (u > 1.0 - _F_NEAR_ONE)
    if not _may_hold(by_w):
        out = _special.betainc(hn, hm, u)
    elif not _may_hold(fnp.logical_not(by_w)):
        out = _special.betainc(hm, hn, w)
    else:
        out = _special.betainc(fnp.where(by_w, hm, hn), fnp.where(by_w, hn, hm),
                               fnp.where(by_w, w, u))
    return (fnp.where(by_w, out, 1.0 - out) if take_w
            else fnp.where(by_w, 1.0 - out, out)), by_w


# F's u = n z / (n z + m) is rounded three times (~1.5 eps relative); I_u(n/2, m/2) moves by
# u I'(u) / I times that, ~sqrt(n m / (n + m)) at the median: f.cdf(0.96056, 1e5, 1e5) was
# 8.1e-14 off (mpmath). Where the shapes are large (a + b >= special._LARGE_SHAPES) the
# values (not the derivatives) take the first-order term density * (U - u), U the exact
# quotient, from the error-free product and sum (Dekker / Knuth: no fma in the standard).
# Below 1/2 _inc_beta's value is at u; above, at 1 - w (w = m / (n z + m), its rounding
# taken back there), so there the term is -density * (W - w).
_F_ROUNDING_DEN_MAX = 1e290   # (the split's 2^27 x below overflow)


def _f_rounding_term(xp, hn, hm, u, w, n, z, m):
    """The first-order correction of ``I_u(hn, hm)`` for the rounding of F's ``u`` and ``w``
    (see above; values without derivatives, in namespace ``xp``: special._on_arrays), 0
    where the shapes are below special._LARGE_SHAPES, ``u`` or ``w`` is 0, or ``n z + m``
    is past _F_ROUNDING_DEN_MAX (stand-ins there, no warnings)."""
    den = n * z + m
    take = ((hn + hm >= _special._LARGE_SHAPES) & (u > 0.0) & (w > 0.0)
            & (den <= _F_ROUNDING_DEN_MAX))
    one, half = xp.ones_like(u), xp.full_like(u, 0.5)
    n, z, m, hn, hm = (xp.where(take, v, one) for v in (n, z, m, hn, hm))
    u, w = xp.where(take, u, half), xp.where(take, w, half)
    nz, e_nz = _two_prod(n, z)
    den, e_den = _two_sum(nz, m)
    p, e_p = _two_prod(u, den)
    q, e_q = _two_prod(w, den)
    # (nz - u den and m - w den exactly: the differences of nearly equal values, Sterbenz)
    du = (((nz - p) - e_p) + w * e_nz - u * e_den) / den
    dw = (((m - q) - e_q) - w * (e_nz + e_den)) / den
    log_front = _special._log_beta_front(hn, hm, u, w, xp.log(u), xp.log(w))
    term = xp.exp(log_front) * hn / (u * w) * xp.where(u > 0.5, -dw, du)
    return xp.where(take, term, xp.zeros_like(term))


def _f_rounded_u_fixed(value, hn, hm, u, w, n, z, m, upper=False):
    """F's cdf (sf: ``upper``) ``value`` from _inc_beta at the rounded ``u`` / ``w``, with
    :func:`_f_rounding_term` added where some element has large shapes; its derivatives
    kept. Where the operands' values are arrays (eagerly, vmap) directly; in staged code at
    evaluation, through the primitive f_rounding_fix. float64 only (the split is
    float64's)."""
    from ..batching import BatchTracer
    if type(hn) is type(hm) is _np.ndarray and not ((hn + hm) >= _special._LARGE_SHAPES).any():
        return value   # (eagerly, most calls: ~2 us, where the general look cost ~12)
    if _dtype(value) is not _dt.float64:
        return value
    ops = (hn, hm, u, w, n, z, m)
    found = _special._lined_up(ops, constants=False)
    if found is None:
        shape = value.shape
        return _special_prims.f_rounding_fix(
            value, *(v if getattr(v, "shape", None) == shape
                     else fnp.broadcast_to(fnp.asarray(v, dtype=_dt.float64), shape)
                     for v in ops), upper=bool(upper))
    ops, interp = found
    if any(type(v) is bool for v in ops):
        return value
    bk = _backend_of(next(v for v in ops if hasattr(v, "ndim")))
    xp = bk.xp
    ops = [xp.asarray(v, dtype=xp.float64) if not hasattr(v, "ndim") else v for v in ops]
    large = ops[0] + ops[1] >= _special._LARGE_SHAPES
    # (the selection read on the host only where that waits for no device)
    if _special._read_on_host(large) and not bool(bk.to_numpy(xp.any(large))):
        return value
    with _np.errstate(all="ignore"):
        term = _f_rounding_term(xp, *ops)
    if interp is not None:
        term = BatchTracer(interp, term)
    elif isinstance(value, (_np.ndarray, _np.generic)):   # (eagerly: no primitive bound)
        return value - term if upper else value + term
    return fnp.subtract(value, term) if upper else fnp.add(value, term)


def _f_differ(upper, hn, hm):
    """F's cdf and sf: where _inc_beta's values may differ from the form's: ``upper`` (its
    argument above 1/2) or large shapes (special._inc_beta_large_shapes)."""
    large = _special._large_shapes(hn, hm)
    return fnp.logical_or(upper, large) if _may_hold(large) else upper


def _f_with_values_of(form, other, differ, *args):
    """``form`` where not ``differ``; else the values of ``other(*args)`` (computed only where
    some element differs, of ``args`` with no derivatives) with ``form``'s derivatives."""
    if not _may_hold(differ):
        return form
    from ..core import concrete_behind
    known = [concrete_behind(a, report_batch=True) for a in args]
    if all(isinstance(k, (_np.ndarray, _np.generic)) and not batched for k, batched in known):
        # (eager transforms: the values from the NumPy arrays behind the tracers, by
        # special._inc_beta's NumPy path, ~4x faster than through the tracers for a scalar)
        value = other(*(k for k, _ in known))
    else:
        value = other(*(fnp.stop_gradient(a) for a in args))
    mixed = fnp.add(value, fnp.subtract(form, fnp.stop_gradient(form)))
    return fnp.where(fnp.logical_and(differ, fnp.isfinite(form)), mixed, form)


class _F(_Shaped):
    """The F distribution (Fisher-Snedecor) with ``dfn`` and ``dfd`` degrees of freedom, as
    ``scipy.stats.f``."""

    name = "f"
    _a = 0.0
    _safe_shape = 1.0
    _notes = ("``dfn > 0`` and ``dfd > 0``, else nan; 0 below ``loc``. As SciPy, infinite "
              "degrees of freedom give nan inside the support (the values of the ends and "
              "beyond are kept). At ``x = inf`` the log density's limit, -inf (SciPy: nan), "
              "and its slopes' limits (0 in ``x`` and ``loc``, -inf in ``dfd``, finite in ``dfn``, "
              "``dfd / (2 scale)`` in the scale). Below one degree of freedom the slopes in "
              "the other from ``lgamma(b + a) - lgamma(b) - a log b`` by Stirling's series "
              "(relative precision at a huge other degree of freedom).")
    _cdf_methods = ("cdf", "sf", "ppf", "isf")
    _cdf_notes = ("``betainc(dfn/2, dfd/2, dfn x / (dfn x + dfd))`` (sf: "
                  "``betainc(dfd/2, dfn/2, dfd / (dfd + dfn x))``, accurate in the upper "
                  "tail): differentiable in ``x``, ``loc``, ``scale``, ``dfn`` and ``dfd`` (to "
                  "third order in the degrees of freedom). Where both degrees of freedom "
                  "are above 1e10 the values of Temme's uniform asymptotic expansion "
                  "(error ~0.1 / min(dfn, dfd)^1.5), and its derivatives (0 where the "
                  "density underflows). Where one is at least 1e3, the derivatives in it "
                  "from the incomplete beta function's series in the gamma limit (free of "
                  "the ~dfn eps cancellation of betainc's shape slope), except in the far "
                  "lower tail and where the method is the complement of the series' side "
                  "and below 1 / (12.5 df) (there betainc's, ~12 df eps relative); above "
                  "1e17 the others from the gamma limit.")
    _ppf_notes = ("Through :func:`functrans.scipy.special.betaincinv`: ``x = dfd u / (dfn "
                  "(1 - u))`` with ``u = betaincinv(dfn/2, dfd/2, q)`` (isf: from "
                  "``betaincinv(dfd/2, dfn/2, q)`` = 1 - u), or from the complementary "
                  "problem where that root is above 1/2; 0 and ``inf`` at the ends. isf is "
                  "more accurate than SciPy's for tiny ``q`` (SciPy: ``ppf(1 - q)``, "
                  "``inf`` below 1e-17). "
                  "Differentiable in ``q``, ``loc``, ``scale``, ``dfn`` and ``dfd`` (to third "
                  "order in the degrees of freedom).")

    def _check(self, dfn, dfd):
        return fnp.logical_and(dfn > 0.0, dfd > 0.0)

    def _tail_finite(self, dfn, dfd):
        # (log density -(dfd / 2 + 1) log z + ... at large z)
        return fnp.less(dfd, math.inf)

    def _tail_slope(self, dfn, dfd):
        # (the power less one: dfd / (2 scale) in the scale at x = inf)
        return fnp.multiply(0.5, dfd)

    @staticmethod
    def _finite(fn):
        """``fn(z, dfn, dfd)`` where both are finite, nan inside the support otherwise (as
        SciPy's formulas give there; the ends and beyond keep their values)."""
        def method(self, z, n, m):
            fin = fnp.logical_and(n < math.inf, m < math.inf)
            # (no floating-point warnings from the forms' stand-ins and the choices'
            # intermediates, which the selections drop: f.sf(1e-30, 1e300, 1e-300) = 0
            # warned of log(0) (special._inc_beta's comparisons) and 0 * inf)
            with _np.errstate(all="ignore"):
                n1, m1 = fnp.where(fin, n, 1.0), fnp.where(fin, m, 1.0)
                if fn.__name__ in ("_cdf", "_sf"):
                    # (the extreme degrees of freedom's values, where betainc fails; where
                    # both are huge, Temme's expansion's derivatives)
                    upper = fn.__name__ == "_sf"
                    out = _special._f_huge_slopes(
                        lambda n1, m1, z: _special._f_temme_slopes(
                            lambda n1, m1, z: _special._f_extreme_fix(
                                fn(self, z, n1, m1), n1, m1, z, upper), n1, m1, z, upper),
                        n1, m1, z, upper)
                else:
                    out = fn(self, z, n1, m1)
            return fnp.where(fin, out, math.nan)
        return method

    @_finite
    def _cdf(self, z, n, m):
        nz = fnp.multiply(n, z)
        den = fnp.add(nz, m)
        u = fnp.divide(nz, den)
        hn, hm = 0.5 * n, 0.5 * m
        w = fnp.divide(m, den)
        # (the values of I_u(n/2, m/2) with u's rounding taken back by w, the precise one
        # above 1/2 (special._inc_beta): cdf(0.3, 3, 1e-8) was 2.2e-10 off, as SciPy's
        # betainc at the rounded u)
        if not _traced(z, n, m):
            return _f_rounded_u_fixed(_special._inc_beta(hn, hm, u, w), hn, hm, u, w, n, z, m)
        # under a transform the derivatives come from the accurate side (_f_from_small_side);
        # the values as above where u > 1/2 (below, the form's betainc at u is _inc_beta's;
        # until session 55 only where w was taken, u > 15/16: between, the plain betainc at
        # the rounded u, 88 of 1500 points (dfn, dfd in 10^[-2, 4], x ~ Exp(3)) differed
        # from eager's, worst 2.9e-13 off where eager's 4.5e-14) (_inc_beta's primitives need
        # operands of one shape: under vmap the shapes' batched dims no longer broadcast
        # against z's, vmap(f.cdf) of x (2, 4), dfn and dfd (2,) raised)
        # (and at large shapes below 1/2, where _inc_beta's may be betaincc's)
        form, _ = _f_from_small_side(hn, hm, u, w, False)
        ops = fnp.broadcast_arrays(hn, hm, u, w, n, z, m)
        return _f_with_values_of(
            form, lambda hn, hm, u, w, n, z, m: _f_rounded_u_fixed(
                _special._inc_beta(hn, hm, u, w), hn, hm, u, w, n, z, m),
            _f_differ(u > 0.5, hn, hm), *ops)

    @_finite
    def _sf(self, z, n, m):
        # I_w(m/2, n/2), w = m / (n z + m), as cdf is I_u(n/2, m/2) (special._inc_beta: above
        # 1/2 w's rounding taken back by u, or 1 - I_u(n/2, m/2) where that errs less). Until
        # session 55 1 - cdf was taken where w's rounding (|1 - w - u| times the density) was
        # above eps, though _inc_beta takes it back: that subtraction multiplied the
        # backend's betainc error (~200 ulp at large shapes) by cdf / sf, sf(1.6966, 30,
        # 1e5) was 2.4e-12 off, now 8e-16 (mpmath); and it cost a beta density
        nz = fnp.multiply(n, z)
        den = fnp.add(nz, m)
        u, w = fnp.divide(nz, den), fnp.divide(m, den)
        hn, hm = 0.5 * n, 0.5 * m
        if not _traced(z, n, m):
            return _f_rounded_u_fixed(_special._inc_beta(hm, hn, w, u), hn, hm, u, w, n, z, m,
                                      upper=True)
        # under a transform the derivatives from the accurate side (as cdf's), the values as
        # above where w > 1/2 (below, the form's betainc at w is _inc_beta's)
        form, _ = _f_from_small_side(hn, hm, u, w, True)
        ops = fnp.broadcast_arrays(hn, hm, u, w, n, z, m)
        return _f_with_values_of(
            form, lambda hn, hm, u, w, n, z, m: _f_rounded_u_fixed(
                _special._inc_beta(hm, hn, w, u), hn, hm, u, w, n, z, m, upper=True),
            _f_differ(w > 0.5, hn, hm), *ops)

    def _quantile_ends(self, q, n, m, upper):
        fin = fnp.logical_and(n < math.inf, m < math.inf)
        # (the quantile's overflow to inf where the true x is beyond the largest float,
        # ppf(1e-12, 1e-12, 1e-300), warned; see _finite)
        with _np.errstate(all="ignore"):
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
        return self._log_density_f(z, n, m, True)

    @_finite
    def _logpdf_at_end(self, z, n, m):
        # (at z = 0, the end slopes' density: outside the deviance form's region, the plain
        # form alone; under jit f_logpdf_fix there cost jit(f.cdf) of 64 points ~15 %)
        return self._log_density_f(z, n, m, False)

    def _log_density_f(self, z, n, m, fix):
        hn, hm = 0.5 * n, 0.5 * m
        if not fix:  # (at the end z = 0: the plain form)
            const = fnp.subtract(fnp.add(_special._xlogy_weak(hn, n),
                                         _special._xlogy_weak(hm, m)), _special.betaln(hn, hm))
            return fnp.subtract(fnp.add(const, _special._xlogy_weak(hn - 1.0, z)),
                                fnp.multiply(hn + hm, fnp.log(fnp.add(m, fnp.multiply(n, z)))))
        # (at z = inf the limits: -inf, and the slopes of the form for large z, -(hm + 1)
        # log z + hm log(m / n) - betaln(hn, hm): 0 in z, -inf in dfd, in dfn the finite
        # -hm / n - (psi(hn) - psi(hn + hm)) / 2; the forms below gave nan, inf - inf, and nan
        # slopes; SciPy's value is nan there, its formula's inf - inf)
        # (staged, betaln shared with the form in log u, log w: the tiny-df slopes of
        # _f_betaln there cost jit(f.logpdf) 2.5x; its dfn slope at (inf, 3, 1e-20) is then
        # staged betaln's, -1.7e-21, eager 6.7e-22)
        top = z == math.inf
        if not _may_hold(top):
            return self._log_density_in(z, n, m)
        staged = _concrete_behind(top) is None
        # (out computes its own betaln: handing it this one changed how a batch's shape
        # slopes are summed, an ulp apart from each member alone; staged, the two are one
        # equation where their operands are)
        out = self._log_density_in(fnp.where(top, 2.0, z), n, m)
        zt = fnp.where(top, z, 2.0)
        far = fnp.subtract(fnp.subtract(
            fnp.multiply(hm, fnp.subtract(fnp.log(m), fnp.log(n))),
            fnp.multiply(hm + 1.0, fnp.log(zt))),
            _special.betaln(hn, hm) if staged else _f_betaln(hn, hm))
        return fnp.where(top, far, out)

    def _log_density_in(self, z, n, m):
        """f's log density for ``z < inf``: the form in log u, log w, or the deviance form
        (see below)."""
        out = self._logpdf_logs(z, n, m)
        # (the form above errs ~ m log m eps: the deviance form where a degree of freedom is
        # above _F_PLAIN_DF or n z is not a normal number, 0 < z < inf (the ends keep the
        # plain form's limits); where the values are known and no element needs it, not
        # computed: its derivatives cost ~2.4x)
        if _concrete_behind(out) is None:
            # (staged: the deviance form's values and derivatives there at evaluation, by
            # the primitive f_logpdf_fix, ~10 equations: staged itself, its ~1600 equations
            # doubled jit(f.cdf)'s and jit(f.pdf)'s cost, the cdf's end slopes binding
            # logpdf; until session 43 jit kept the plain form, f.pdf(1e30, 1e-30, 1e30)
            # 1 (true 3.0e-61), the dfn slope of logpdf at (5 - 5e-10, 1e5, 3) 3.7e-5 off)
            return _special_prims.f_logpdf_fix(*(
                v if v.shape == out.shape else fnp.broadcast_to(v, out.shape)
                for v in (z, n, m, out)))
        far = _f_far(fnp, z, n, m)
        if not _may_hold(far):
            return out
        one = fnp.ones_like(out)
        dev = self._logpdf_deviance(fnp.where(far, z, one), fnp.where(far, n, one),
                                    fnp.where(far, m, one))
        return fnp.where(far, dev, out)

    @staticmethod
    def _logpdf_logs(z, n, m):
        """f's log density as ``hn log u + hm log w - log z - betaln(hn, hm)`` (``u = n z /
        (m + n z)``, ``w = 1 - u``), each logarithm from the smaller quotient (``log1p(-w)``
        for u > 1/2, ``log1p(-u)`` for w > 1/2), whose terms and their derivatives are each
        of the size of the result's while both degrees of freedom are moderate. The plain
        form ``(n/2) log n + (m/2) log m - betaln + (n/2 - 1) log z - (n+m)/2 log(m + n z)``
        cancels O(1) terms to an O(df) slope: ``grad(f.logpdf, 2)(0.5, 1e-20, 3.)`` was 0
        (true 6.7e-22), the dfn slope at (0.5, 3, 1e-20) 5.6e-17, at 0.5 degrees of
        freedom 3.7e-12 off. For u <= 1/2 ``hn log(n / den) + (n/2 - 1) log z``: at z = 0
        the plain form's limits. Where ``n z`` overflows (the deviance form's region: this
        one unused) on held operands, but betaln's (staged, one equation with the other
        forms' betaln: held there, jit(vmap(grad(f.logpdf))) cost 25 % more): ``u = inf /
        inf`` was nan, its slopes times the selection's 0 every slope of f.logpdf(1e300,
        1e20, 3, 0.3, 0.7)."""
        hn0, hm0 = 0.5 * n, 0.5 * m
        over = fnp.multiply(fnp.stop_gradient(n), fnp.stop_gradient(z)) > 1e300
        z, n, m, hn, hm = (fnp.where(over, fnp.stop_gradient(v), v) if isinstance(v, _Tracer)
                           else v for v in (z, n, m, hn0, hm0))
        nz = fnp.multiply(n, z)
        den = fnp.add(m, nz)
        u, w = fnp.divide(nz, den), fnp.divide(m, den)
        big_u, big_w = u > 0.5, w > 0.5
        a = fnp.where(big_u, fnp.subtract(
            fnp.multiply(hn, fnp.log1p(fnp.negative(fnp.where(big_u, w, 0.0)))),
            fnp.log(fnp.where(big_u, z, 1.0))), fnp.add(
            fnp.multiply(hn, fnp.log(fnp.divide(n, fnp.where(big_u, 1.0, den)))),
            _special._xlogy_weak(hn - 1.0, z)))
        b = fnp.multiply(hm, fnp.where(big_w, fnp.log1p(fnp.negative(fnp.where(big_w, u, 0.0))),
                                       fnp.log(fnp.where(big_w, 1.0, w))))
        return fnp.subtract(fnp.add(a, b), _special.betaln(hn0, hm0))

    @staticmethod
    def _logpdf_deviance(z, n, m):
        hn, hm = 0.5 * n, 0.5 * m
        # log(u^(n/2) w^(m/2) / (n/2 B(n/2, m/2))) + log(n/2) - log z, u = n z / (m + n z),
        # w = 1 - u, the first term in the deviance form of special._log_beta_front: the
        # plain (n/2) log n + (m/2) log m - betaln - ... - (n+m)/2 log(m + n z) subtracts
        # terms of size m log m, f.pdf(1e30, 1e-30, 1e30) was 1 (true 3.0e-61, as the cdf's
        # slope), f.pdf(1e-8, 1e-300, 1e15) 1.9e-293 (true 5e-293; SciPy's the same)
        lz = fnp.log(z)
        nz = fnp.multiply(n, z)
        den = fnp.add(m, nz)
        plain = fnp.logical_and(den < math.inf, nz > 0.0)
        u = fnp.divide(fnp.where(plain, nz, 1.0), fnp.where(plain, den, 2.0))
        w = fnp.divide(fnp.where(plain, m, 1.0), fnp.where(plain, den, 2.0))
        # (the logarithms from log n + log z - log(m + n z) where a quotient is below
        # _F_LOG_TINY's or not formed; each from the smaller quotient: the larger one's
        # rounding near 1 is all of its complement)
        lnz = fnp.add(fnp.log(n), lz)
        lm = fnp.log(m)
        lden = fnp.logaddexp(lm, lnz)
        # (and from the logarithms where n z or m is not a normal number: reverse mode's
        # cotangent of n z through u, ct / (u den), overflowed, nan for grad(f.logpdf) in dfn
        # at (1e-310, 0.3, 1e-12), true -343.2)
        fine_u = fnp.logical_and(fnp.logical_and(plain, u >= _F_TINY_Q), nz >= 1e-300)
        fine_w = fnp.logical_and(fnp.logical_and(plain, w >= _F_TINY_Q), m >= 1e-300)
        lu = fnp.where(fine_u, fnp.log(fnp.where(fine_u, u, 1.0)), fnp.subtract(lnz, lden))
        lw = fnp.where(fine_w, fnp.log(fnp.where(fine_w, w, 1.0)), fnp.subtract(lm, lden))
        u = fnp.where(fine_u, u, fnp.exp(lu))
        w = fnp.where(fine_w, w, fnp.exp(lw))
        big_u, big_w = u > 0.5, w > 0.5
        lu = fnp.where(big_u, fnp.log1p(fnp.negative(fnp.where(big_u, w, 0.0))), lu)
        lw = fnp.where(big_w, fnp.log1p(fnp.negative(fnp.where(big_w, u, 0.0))), lw)
        # (u m/2 - w n/2 = (n/2) (z - 1) w: z - 1 exact near the mode, where u's rounding
        # times m/2 was all of it, f.pdf(1, 1e30, 1e300) 0.5 % off)
        s_num = fnp.where(plain, fnp.multiply(hn, fnp.multiply(fnp.subtract(z, 1.0), w)),
                          fnp.subtract(fnp.multiply(u, hm), fnp.multiply(w, hn)))
        front = _special._log_beta_front(hn, hm, u, w, lu, lw, s_num)
        out = fnp.subtract(fnp.add(front, fnp.log(hn)), lz)
        out = _F._logpdf_lopsided(out, z, n, m, lz)
        # (a degree of freedom below _F_SMALL_DF: hn log u + hm log w - betaln - log z, each
        # log from its smaller quotient, whose terms and their derivatives are each of the
        # size of the result's: the plain form's dfd slope at a tiny dfn cancels 1/2 against
        # (n + m) / (2 den) and log m against log den, grad(f.logpdf, 2)(0.5, 1e-20, 3.) was
        # 0 (true 6.7e-22), the deviance form's (n z subnormal) -1.7e-21, the dfn slope at a
        # tiny dfd 5.6e-17; terms O(df) themselves only where both are large)
        # (read on the host only: on a device, where that read would wait and betaln's
        # near-pole look reads too, the deviance form's slopes, as before session 45)
        small = fnp.logical_or(n < _F_SMALL_DF, m < _F_SMALL_DF)
        known = _concrete_behind(small)
        if isinstance(known, (_np.ndarray, _np.generic)):
            if not known.any():
                return out
        elif known is not True and (known is False or not _special._read_on_host(known)
                                    or not _may_hold(small)):
            return out
        logs = fnp.subtract(fnp.subtract(fnp.add(fnp.multiply(hn, lu), fnp.multiply(hm, lw)),
                                         _special.betaln(hn, hm)), lz)
        logs = _F._logpdf_near_zero(logs, small, z, n, m)
        # (its slopes from the same sum with the pole of -betaln at the smaller degree of
        # freedom, log(hn) for n, taken together with the other quotient's logarithm:
        # log(hn w) = log(1/2) - log(1/n + z/m) (log(hm u) = log(hn w) + log z for m), whose
        # slopes are w / n in n, u / m in m, products: -betaln's 1/n and hm log w's -hm u / n
        # cancelled, grad(f.logpdf, 1)(1e200, 1e-20, 2.) was -16384, true 2.0e-160 (mpmath);
        # and lgamma(h_o + h_s) - lgamma(h_o) of its relative precision in both)
        by_n = fnp.less_equal(n, m)
        h_s, h_o = fnp.where(by_n, hn, hm), fnp.where(by_n, hm, hn)   # (the smaller, other)
        l_s, l_o = fnp.where(by_n, lw, lu), fnp.where(by_n, lu, lw)   # (paired with h_s, other)
        h_s = fnp.where(small, h_s, 0.25)   # (_lgamma_diff: 0 < h_s <= 1)
        # (1/n + z/m itself where it is finite: logaddexp's slopes, exp(a - logaddexp(a, b)),
        # lose |log(n z / m)| eps: 4e-14 there)
        fine = fnp.stop_gradient(fnp.add(fnp.divide(1.0, n), fnp.divide(z, m))) < math.inf
        n_f, z_f, m_f = fnp.where(fine, n, 1.0), fnp.where(fine, z, 1.0), fnp.where(fine, m, 1.0)
        pair = fnp.subtract(-math.log(2.0), fnp.where(
            fine, fnp.log(fnp.add(fnp.divide(1.0, n_f), fnp.divide(z_f, m_f))),
            fnp.logaddexp(fnp.negative(fnp.log(n)), fnp.subtract(lz, lm))))
        beta = fnp.subtract(_lgamma_diff(_FNP_BACKEND, h_s, h_o),
                            _special.gammaln(fnp.add(h_s, 1.0)))   # (-log(h_s B(h_s, h_o)))
        slopes = fnp.subtract(fnp.add(fnp.add(
            fnp.add(fnp.multiply(h_s, l_o), fnp.multiply(fnp.subtract(h_o, 1.0), l_s)), pair),
            beta), fnp.where(by_n, lz, 0.0))
        slopes = _F._logpdf_small_far(slopes, small, by_n, h_s, h_o, z, n, m, lz)
        logs = _special._with_slopes(logs, slopes)
        return fnp.where(small, logs, out)

    @staticmethod
    def _logpdf_near_zero(logs, small, z, n, m):
        """The small-df form's values where dfd is the smaller and dfn in [1, 4] (its log
        density can be near 0 there: at dfn = 2 it is ``-(1 + dfd/2) log1p(2 z / dfd)``):
        ``hn log hn - lgamma(hn) + (hn - 1) log(z / hm) + lgamma(hn + hm) - lgamma(1 + hm)
        - (hn + hm) log1p(n z / m)``, the poles' logarithms log(2/m) and betaln's log(m/2)
        taken out together (their sum cancelled ~log(1/m) eps: f.logpdf(1e-200, 2., 1e-20)
        was 5.7e-14, true -2.0e-180, mpmath). Values only (the slopes are the sum's)."""
        zs, ns, ms = (fnp.stop_gradient(v) for v in (z, n, m))
        with _np.errstate(all="ignore"):
            ratio = fnp.divide(fnp.multiply(ns, zs), ms)
        near = fnp.logical_and(fnp.logical_and(small, ms < ns), fnp.logical_and(
            fnp.logical_and(ns >= 1.0, ns <= 4.0), fnp.isfinite(ratio)))
        if not _may_hold(near):
            return logs
        hn = fnp.where(near, 0.5 * ns, 1.0)
        hm = fnp.where(near, 0.5 * ms, 1.0)
        zn, rn = fnp.where(near, zs, 1.0), fnp.where(near, ratio, 1.0)
        lg = _special.gammaln
        with _np.errstate(all="ignore"):
            val = fnp.add(fnp.add(
                fnp.subtract(_special._xlogy_weak(hn, hn), lg(hn)),
                fnp.multiply(fnp.subtract(hn, 1.0), fnp.log(fnp.divide(zn, hm)))),
                fnp.subtract(fnp.subtract(lg(fnp.add(hn, hm)), lg(fnp.add(hm, 1.0))),
                             fnp.multiply(fnp.add(hn, hm), fnp.log1p(rn))))
        return fnp.where(near, val, logs)

    @staticmethod
    def _logpdf_lopsided(out, z, n, m, lz):
        """The deviance form's value ``out`` with the slopes of ``_logpdf_small_far``'s form
        where one degree of freedom is at least _F_LOPSIDED times the other (from 1, below
        the small-df form's), ``b`` the larger half: the deviance form's slope in ``b``,
        ~a (a - 1) / b^2, was the difference of terms ~a / b, f.logpdf(1e300, 1e20, 3, 0.3,
        0.7)'s dfn slope -3.0e-36 (mpmath -7.5e-41). Here ``r`` may round to 0 (``n z``
        overflowing: the b-free terms ``a t`` carry z), the other degree of freedom any
        size (``_lgamma_diff_log`` from its series at ``b >= 10``)."""
        ns, ms = fnp.stop_gradient(n), fnp.stop_gradient(m)
        lo, hi = fnp.minimum(ns, ms), fnp.maximum(ns, ms)
        lop = fnp.logical_and(lo >= _F_SMALL_DF, hi >= fnp.multiply(_F_LOPSIDED, lo))
        if not _may_hold(lop):
            return out
        by_n = fnp.less_equal(n, m)
        hn, hm = 0.5 * n, 0.5 * m
        h_s = fnp.where(lop, fnp.where(by_n, hn, hm), 1.0)
        h_o = fnp.where(by_n, hm, hn)
        far = _F._logpdf_small_far(out, lop, by_n, h_s, h_o, z, n, m, lz, floor=0.0)
        return _special._with_slopes(out, far)

    @staticmethod
    def _logpdf_small_far(slopes, small, by_n, h_s, h_o, z, n, m, lz, floor=1e-300):
        """The slopes' sum of the small-df form (``_logpdf_deviance``) with its terms in the
        other degree of freedom ``b = h_o`` free of their cancellation where ``b`` is large:
        with ``a = h_s`` and ``r = m / (n z)`` (``n z / m`` where ``n`` is the smaller), the
        log density is ``(a + 1) log a - lgamma(a + 1) - (a + 1) log z - (a + b) log1p(r) +
        R(b, a)`` (``(a - 1) log z`` where ``n`` is the smaller), ``R = lgamma(b + a) -
        lgamma(b) - a log b`` (``_lgamma_diff_log``), and ``(a + b) log1p(r) = a r + a t +
        (a + b) (log1p(r) - r)`` with ``b r = a t`` (``t = 1 / z``, or ``z``). The sum's
        terms' slopes in ``b`` were each ~1/(2b) of a result ~a / b^2 (its ``pair`` and
        ``(b - 1) l_s`` ~r / b each): ``grad(f.logpdf, 1)(2., 1e5, .5)`` was 8.4e-12
        relative off, at dfn 1e12 7e-6, at (6e-10, 2.9e14, 1e-21) -2.2e-44 for 6.2e-51. For
        ``r <= 1`` only (beyond, the sum's slopes in ``b`` are of the result's size, and
        this form's in ``z`` cancel, ~1/z each, where ``b`` is near 1), where ``t`` is a
        positive finite number (``r`` and ``t`` from ``floor``: 0 for ``_logpdf_lopsided``);
        elsewhere ``slopes`` as given."""
        a, b = h_s, fnp.where(small, h_o, 1.0)
        zs, ns, ms = (fnp.stop_gradient(v) for v in (z, n, m))
        with _np.errstate(all="ignore"):
            r0 = fnp.where(by_n, fnp.divide(fnp.multiply(ns, zs), ms),
                           fnp.divide(ms, fnp.multiply(ns, zs)))
            t0 = fnp.where(by_n, zs, fnp.divide(1.0, zs))
        good = fnp.logical_and(fnp.logical_and(small, r0 <= 1.0), fnp.logical_and(
            r0 >= floor, fnp.logical_and(fnp.isfinite(t0), t0 >= floor)))
        if not _may_hold(good):
            return slopes
        zg, ng, mg, ag, bg, lzg = (fnp.where(good, v, fnp.stop_gradient(v))
                                   for v in (z, n, m, a, b, lz))
        one = fnp.ones_like(zg)
        zg, ng, mg = (fnp.where(good, v, one) for v in (zg, ng, mg))
        # (one quotient: n z overflowing where m is the smaller (r 0), the other
        # quotient's slope in m, -n z / m^2, was -inf times its zero cotangent)
        nz = fnp.multiply(ng, zg)
        r = fnp.divide(fnp.where(by_n, nz, mg), fnp.where(by_n, mg, nz))
        t = fnp.where(by_n, zg, fnp.divide(1.0, zg))
        l1r = fnp.log1p(r)
        ab = fnp.add(ag, bg)
        piece = fnp.negative(fnp.add(fnp.add(fnp.multiply(ag, r), fnp.multiply(ag, t)),
                                     fnp.multiply(ab, _log1pmx(fnp, r, l1r))))
        # ((a - 1) log z where n is the smaller, else -(a + 1) log z)
        lz_a = fnp.multiply(fnp.where(by_n, fnp.subtract(ag, 1.0), fnp.negative(
            fnp.add(ag, 1.0))), lzg)
        far = fnp.add(fnp.add(fnp.subtract(
            fnp.multiply(fnp.add(ag, 1.0), fnp.log(ag)), _special.gammaln(fnp.add(ag, 1.0))),
            fnp.add(lz_a, piece)), _lgamma_diff_log(_FNP_BACKEND, ag, bg))
        return fnp.where(good, far, slopes)

    def _end_power(self, k, n, m):
        hn = 0.5 * n
        return hn - 1.0, fnp.subtract(fnp.subtract(_special._xlogy_weak(hn, n),
                                                   _special._xlogy_weak(hn, m)),
                                      _special.betaln(hn, 0.5 * m))

    def _end_dlog(self, k, n, m):
        # -(n + m)/2 log(1 + n z / m): its derivative at 0
        return fnp.divide(fnp.multiply(-0.5, fnp.multiply(fnp.add(n, m), n)), m)


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
    # (binom, nbinom, betabinom with n = inf: cdf and sf nan on the support, as SciPy's and
    # as their pmf; betabinom's sf was 0 there where its cdf was nan)
    _nan_at_infinite_shape = False

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
        if self._nan_at_infinite_shape:
            wild = _infinite_shape(sh)
            if wild is not None:
                out = _nan_at(fnp.logical_and(wild, inside), out, *sh)
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
    for m in getattr(cls, "_methods", ("logpmf", "pmf", "cdf", "sf")):
        setattr(cls, m, make(m))
    return cls()


def _log_poisson_term(k, mu):
    """``k log(mu) - mu - gammaln(k + 1)`` (the log of the Poisson mass, also the gamma
    density's ``(a - 1) log z - z - gammaln(a)``): directly for ``k < 10``, else as
    ``-mu ((1 + t) log1p(t) - t) - log(2 pi k) / 2 - w(k)``, ``t = (k - mu) / mu`` and ``w``
    Stirling's correction (the direct form's terms are ~k log k: at k = mu = 1e10 they
    lost 1e-5 of the result, at 1e16 all of it; the deviance keeps them)."""
    big = fnp.logical_and(fnp.logical_and(k >= 10.0, k < math.inf),
                          fnp.logical_and(mu > 0.0, mu < math.inf))
    # (a form no element takes is skipped where the mask is known: eager values; staged
    # code computes both. The other form's where would discard it: the same values and
    # derivatives, without the ~50 primitives of the deviance's series under a derivative)
    if not _may_hold(big):
        return _log_poisson_small(k, mu)
    kb, mb = fnp.where(big, k, 10.0), fnp.where(big, mu, 10.0)
    t = fnp.divide(fnp.subtract(kb, mb), mb)  # (k - mu exact where they are close)
    near = fnp.abs(t) <= 0.5
    tn = fnp.where(near, t, 0.0)
    lt = fnp.log1p(tn)
    # mu (1 + t) log1p(t) - mu t = k log(k / mu) + mu - k (far from t = 0 in that form:
    # t itself may overflow)
    lmx = _log1pmx(fnp, tn, lt)
    mdev = fnp.where(near, fnp.multiply(mb, fnp.add(lmx, fnp.multiply(tn, lt))),
                     fnp.add(fnp.multiply(kb, fnp.subtract(fnp.log(kb), fnp.log(mb))),
                             fnp.subtract(mb, kb)))
    large = fnp.subtract(fnp.subtract(fnp.negative(mdev), 0.5 * fnp.log(kb) + _HALF_LOG_2PI),
                         _special._stirling_correction(kb))
    if not _may_hold(fnp.logical_not(big)):
        return large
    return fnp.where(big, large, _log_poisson_small(fnp.where(big, 1.0, k),
                                                    fnp.where(big, 1.0, mu)))


def _log_poisson_small(k, mu):
    """``_log_poisson_term``'s direct form ``k log(mu) - mu - gammaln(k + 1)``."""
    return fnp.subtract(fnp.subtract(_special._xlogy_weak(k, mu), _special.gammaln(k + 1.0)), mu)


# The plain log densities (beta's a log x + b log(1 - x) - betaln(a, b), binom's and
# betabinom's) lose about eps times the size of their cancelling terms, which is
# a log1p(b/a) + b log1p(a/b) for shapes (a, b) ((a + b) times the entropy at the mean;
# binom: (k + 1, n - k + 1); betabinom: (a + k, b + n - k)): measured against mpmath within
# 2.8 eps of it over shapes 10..1e7, 6.8e-14 below _PLAIN_MAX_TERMS. From there on the
# deviance forms (about 4x the cost), whose terms are of the size of the result.
_PLAIN_MAX_TERMS = 200.0


def _deviance_where(mask, a, b):
    """``mask`` (None: everywhere) and where the plain form's terms for shapes ``a, b``
    reach _PLAIN_MAX_TERMS (no derivative), or None where that holds nowhere and the values
    are known (plain arrays, eager transforms: the deviance form need not be computed then).
    The terms are at most ``(a + b) log 2``, so they are computed only where ``a + b``
    reaches 289 (they cost two log1p over the elements)."""
    a, b = fnp.stop_gradient(a), fnp.stop_gradient(b)
    big = fnp.add(a, b) >= _PLAIN_MAX_TERMS / math.log(2.0)
    mask = big if mask is None else fnp.logical_and(mask, big)
    if not _may_hold(mask):
        return None
    with _np.errstate(invalid="ignore", divide="ignore"):  # (inf 0: nan, no warning)
        size = fnp.add(fnp.multiply(a, fnp.log1p(fnp.divide(b, a))),
                       fnp.multiply(b, fnp.log1p(fnp.divide(a, b))))
    mask = fnp.logical_and(mask, size >= _PLAIN_MAX_TERMS)
    return mask if _may_hold(mask) else None


def _log_beta_density(a, b, x, y, log_x, log_y):
    """``log(x^(a-1) y^(b-1) / B(a, b))`` (``0 < x < 1``, ``y = 1 - x``, the logarithms
    accurate; ``a, b > 0`` finite) from the incomplete beta function's deviance form
    (:func:`functrans.scipy.special._log_beta_front`), accurate at any shapes."""
    return fnp.subtract(fnp.add(_special._log_beta_front(a, b, x, y, log_x, log_y), fnp.log(a)),
                        fnp.add(log_x, log_y))


def _log_binom_mass(k, n, p, q):
    """``log C(n, k) + k log(p) + (n - k) log(q)`` (``q = 1 - p``; real ``0 <= k <= n``) as
    ``lp(k, n p) + lp(n - k, n q) - lp(n, n)``, ``lp`` the log Poisson mass
    (``_log_poisson_term``): an identity (the ``exp(-n)`` and the powers of ``n`` cancel)
    whose terms are each free of large cancelling parts (Loader's saddle-point form of the
    binomial; ``log C(n, k)`` through betaln is off by ~1e-16 n). The same density as the
    beta distribution's (:func:`_log_beta_density`, shapes ``k + 1`` and ``n - k + 1``, over
    ``n + 1``), but its derivatives in ``p`` have no large cancelling parts (at ``p = 1/2``
    each term's is 0; betabinom's d/da at ``a = b = 1e8`` came out 4e-9 off in reverse mode
    through the beta density's ``-log p - log q``)."""
    nk = fnp.subtract(n, k)
    return fnp.subtract(fnp.add(_log_poisson_term(k, fnp.multiply(n, p)),
                                _log_poisson_term(nk, fnp.multiply(n, q))),
                        _log_poisson_term(n, n))


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
        return _log_poisson_term(k, mu)

    def entropy(self, mu, loc=0):
        """The (Shannon) entropy of the Poisson distribution, ``-sum_k pmf(k) log pmf(k)``,
        as ``scipy.stats.poisson.entropy(mu, loc=0)`` (``loc`` only broadcasts: the entropy
        does not depend on it): below ``mu = 50`` the sum over ``k < 160`` of ``pmf(k)
        (mu - k log mu + gammaln(k + 1))`` (positive terms; within 3e-14 relative), from
        50 on the asymptotic series ``log(2 pi e mu) / 2 - 1 / (12 mu) - 1 / (24 mu^2) -
        19 / (360 mu^3) - ...`` to its 10th term (within 2e-15). 0 at ``mu = 0``, nan for ``mu < 0``.
        Differences: exact where SciPy's numerical summation fails (SciPy gives 0.41 at
        ``mu = 1e8`` and 0 at ``mu = inf``, where the entropy is 10.63 and inf).
        Differentiable in ``mu``."""
        name = "poisson.entropy"
        mu, loc = _float64((mu, loc), name)
        mu = fnp.add(mu, fnp.zeros_like(loc))
        ok = mu >= 0.0  # (False for nan)
        big = mu >= 50.0
        pos = fnp.logical_and(mu > 0.0, fnp.logical_not(big))
        # the direct sum (mu in (0, 100))
        ms = fnp.expand_dims(fnp.where(pos, mu, 1.0), axis=-1)
        k = fnp.astype(fnp.arange(160, device=fnp.device(ms)), fnp.float64)
        neg_log_pmf = fnp.add(fnp.subtract(ms, fnp.multiply(k, fnp.log(ms))),
                              _special.gammaln(k + 1.0))
        direct = fnp.sum(fnp.multiply(fnp.exp(-neg_log_pmf), neg_log_pmf), axis=-1)
        # the asymptotic series (mu >= 100; infinite at mu = inf)
        mb = fnp.where(big, mu, 50.0)
        r = fnp.divide(1.0, mb)
        series = 0.0
        for c in reversed(_POISSON_ENTROPY_SERIES):
            series = fnp.multiply(fnp.add(series, c), r)
        asym = fnp.add(0.5 * (fnp.log(mb) + math.log(2.0 * math.pi) + 1.0), series)
        out = fnp.where(big, asym, fnp.where(pos, direct, 0.0))
        return fnp.where(ok, out, math.nan)


# the coefficients of mu^-1, mu^-2, ... in the Poisson entropy minus log(2 pi e mu) / 2 (the
# first three are -1/12, -1/24, -19/360; the others fitted to 60-digit sums with mpmath)
_POISSON_ENTROPY_SERIES = (-1.0 / 12.0, -1.0 / 24.0, -19.0 / 360.0, -0.1125,
                           -0.34246031746031746032, -1.3640873015873015873,
                           -6.7367063492063492063, -39.778472222222222, -273.60547138047,
                           -2149.7215909)


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


def _log_choose(n, k):
    """``log C(n, k)`` for integers ``0 <= k <= n``: ``-log(n + 1) - betaln(k + 1, n - k +
    1)``, 0 at ``k = 0`` and ``k = n`` exactly. (``gammaln(n + 1) - gammaln(k + 1) -
    gammaln(n - k + 1)`` loses the digits of the large terms: ``binom.pmf(5, 1e15, 3e-15)``
    came out 0.0020, not 0.1008; betaln keeps them where an argument is large.)"""
    nk = fnp.subtract(n, k)
    ends = fnp.logical_or(k == 0.0, nk == 0.0)
    ks = fnp.where(ends, 1.0, k)
    nks = fnp.where(ends, 1.0, nk)
    inner = fnp.negative(fnp.add(fnp.log(fnp.add(fnp.add(ks, nks), 1.0)),
                                 _special.betaln(ks + 1.0, nks + 1.0)))
    # (nan for an infinite n, as SciPy's inf - inf)
    return fnp.where(n == math.inf, math.nan, fnp.where(ends, 0.0, inner))


class _Binom(_Discrete):
    """The binomial distribution of ``n`` trials of success probability ``p``, as
    ``scipy.stats.binom``."""

    _nan_at_infinite_shape = True
    name = "binom"
    _params = ("n", "p")
    _safe_shapes = (1.0, 0.5)
    _notes = ("``k - loc`` in 0, ..., n; ``n`` a non-negative integer and ``0 <= p <= 1``, "
              "else nan. Differentiable in ``p``; a derivative reaching ``n`` raises "
              "NotImplementedError (a count: the one through ``gammaln`` would not be a "
              "derivative of the distribution). ``pmf`` is "
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
        n = _count_only(n, "binom.logpmf/pmf")
        comb = _log_choose(n, k)
        direct = fnp.add(fnp.add(comb, _special._xlogy_weak(k, p)),
                         _special._xlog1py_weak(fnp.subtract(n, k), -p))
        # k and n - k both from 10 on, where the plain form's terms are large
        # (_deviance_where): the saddle-point form (the terms above cancel: pmf(5e8, 1e9,
        # 0.5) was 1.3e-7 off relative)
        nk = fnp.subtract(n, k)
        big = fnp.logical_and(fnp.logical_and(k >= 10.0, nk >= 10.0), n < math.inf)
        if not _may_hold(big):
            return direct
        big = _deviance_where(big, k + 1.0, nk + 1.0)
        if big is None:  # (the saddle-point form costs ~2x the direct one)
            return direct
        kb, nb = fnp.where(big, k, 10.0), fnp.where(big, n, 20.0)
        dev = _log_binom_mass(kb, nb, p, 1.0 - p)
        return fnp.where(big, dev, direct)


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
        return fnp.add(_special._xlogy_weak(k, p), _special._xlog1py_weak(1.0 - k, -p))

    def ppf(self, q, p, loc=0):
        """The quantile function of the Bernoulli distribution, ``ppf(q, p, loc=0)`` as
        SciPy's: the smallest ``k`` with ``cdf(k) >= q`` plus ``loc``: 0 for ``0 < q <= 1 -
        p``, 1 above (and at ``q = 1``), -1 at ``q = 0`` (SciPy's value below the support);
        nan for ``q`` outside [0, 1] or ``p`` outside [0, 1]. A step function: its
        derivatives in ``q`` and ``p`` are 0 (in ``loc``, 1)."""
        q, p, loc = _float64((q, p, loc), "bernoulli.ppf")
        good = fnp.logical_and(fnp.logical_and(p >= 0.0, p <= 1.0),
                               fnp.logical_and(q >= 0.0, q <= 1.0))
        qs, ps = fnp.stop_gradient(q), fnp.stop_gradient(p)
        k = fnp.where(fnp.logical_and(fnp.less_equal(qs, 1.0 - ps), qs < 1.0), 0.0, 1.0)
        k = fnp.where(qs == 0.0, -1.0, k)
        return fnp.where(good, fnp.add(k, loc), math.nan)


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
        return -fnp.expm1(_special._xlog1py_weak(j, -p))

    def _sf(self, j, p):
        return fnp.exp(_special._xlog1py_weak(j, -p))

    def _logpmf(self, k, p):
        return fnp.add(_special._xlog1py_weak(k - 1.0, -p), fnp.log(p))


poisson = _discrete_methods(_Poisson, "Poisson")
binom = _discrete_methods(_Binom, "binomial")
bernoulli = _discrete_methods(_Bernoulli, "Bernoulli")
geom = _discrete_methods(_Geom, "geometric")


# -- stats14: gumbel_r, gumbel_l, lognorm, weibull_min, pareto, gennorm, truncnorm, vonmises,
# wrapcauchy, nbinom, betabinom, multinomial, dirichlet; rankdata, sem, mode, gaussian_kde --


def _log1mexp(d):
    """``log(1 - exp(d))`` for ``d <= 0``: ``log(-expm1(d))`` near 0, ``log1p(-exp(d))``
    below ``-log 2`` (each accurate where the other is not)."""
    near = d > -_LOG_2
    return fnp.where(near, fnp.log(-fnp.expm1(fnp.where(near, d, -1.0))),
                     fnp.log1p(-fnp.exp(fnp.where(near, -1.0, d))))


class _GumbelR(_LocScale):
    """The right-skewed Gumbel (type I extreme value) distribution, as
    ``scipy.stats.gumbel_r``."""

    name = "gumbel_r"
    _notes = {"logpdf": "``-z - exp(-z)``.",
              "logcdf": "``-exp(-z)``.",
              "sf": "``-expm1(-exp(-z))`` (relative accuracy in the upper tail).",
              "logsf": "``log(-expm1(-exp(-z)))`` (``log1p(-exp(-exp(-z)))`` in the lower "
                       "tail, ``-z - exp(-z) / 2`` above 20): finite far in the upper tail "
                       "where SciPy's (the log of the sf) is -inf.",
              "ppf": "``loc - scale * log(-log(q))``.",
              "isf": "``loc - scale * log(-log1p(-q))`` (accurate for small ``q``)."}

    def _logpdf(self, z):
        e = fnp.exp(-z)
        return fnp.where(fnp.isinf(e), -e, -z - e)

    def _pdf(self, z):
        return fnp.exp(self._logpdf(z))

    def _cdf(self, z):
        return fnp.exp(-fnp.exp(-z))

    def _logcdf(self, z):
        return -fnp.exp(-z)

    def _sf(self, z):
        return -fnp.expm1(-fnp.exp(-z))

    def _logsf(self, z):
        # far in the upper tail exp(-z) underflows: there log(1 - exp(-e)) = -z - e/2 + ...
        far = z > 20.0
        # Each branch on its own elements, the other's held finite: at z = -inf, -z - e / 2
        # was inf - inf and the log1mexp's slope 0 * inf ('invalid', nan under the where: a nan
        # slope in grad / vmap of gumbel_r.logsf, gumbel_l.logcdf). Below z = -40 the log1mexp
        # form is exactly 0, its slope underflowed (from about -6.6): z held there.
        e = fnp.exp(-fnp.where(far, z, 20.0))
        return fnp.where(far, -z - 0.5 * e, _log1mexp(-fnp.exp(-fnp.clip(z, -40.0, 20.0))))

    def _ppf(self, q):
        return -fnp.log(-fnp.log(q))

    def _isf(self, q):
        return -fnp.log(-fnp.log1p(-q))


class _GumbelL(_LocScale):
    """The left-skewed Gumbel distribution (of ``-X`` for ``X`` Gumbel), as
    ``scipy.stats.gumbel_l``."""

    name = "gumbel_l"
    _notes = {"logpdf": "``z - exp(z)``.",
              "logsf": "``-exp(z)``.",
              "cdf": "``-expm1(-exp(z))`` (relative accuracy in the lower tail).",
              "logcdf": "``log(-expm1(-exp(z)))``: finite far in the lower tail where "
                        "SciPy's (the log of the cdf) is -inf.",
              "ppf": "``loc + scale * log(-log1p(-q))`` (accurate for small ``q``).",
              "isf": "``loc + scale * log(-log(q))``."}

    _r = _GumbelR()

    def _logpdf(self, z):
        return self._r._logpdf(-z)

    def _pdf(self, z):
        return fnp.exp(self._r._logpdf(-z))

    def _cdf(self, z):
        return self._r._sf(-z)

    def _logcdf(self, z):
        return self._r._logsf(-z)

    def _sf(self, z):
        return self._r._cdf(-z)

    def _logsf(self, z):
        return self._r._logcdf(-z)

    def _ppf(self, q):
        return -self._r._isf(q)

    def _isf(self, q):
        return -self._r._ppf(q)


gumbel_r = _doc(_GumbelR, "right-skewed Gumbel", "")()
gumbel_l = _doc(_GumbelL, "left-skewed Gumbel", "")()


class _Lognorm(_Shaped):
    """The log-normal distribution (``log((x - loc) / scale)`` normal with standard
    deviation ``s``), as ``scipy.stats.lognorm``."""

    name = "lognorm"
    _a = 0.0
    _safe = 1.0
    _safe_shape = 1.0
    _notes = "``s > 0``, else nan; 0 at and below ``loc``."
    _cdf_methods = ("cdf", "sf", "logcdf", "logsf", "ppf", "isf")
    _cdf_notes = ("``ndtr(log(z) / s)`` (sf: ``ndtr(-log(z) / s)``; the log methods through "
                  "``log_ndtr``, finite far in the tails), ``z = (x - loc) / scale``: "
                  "differentiable in ``x``, ``loc``, ``scale`` and ``s``.")
    _ppf_notes = ("``exp(s ndtri(q))`` (isf: ``exp(-s ndtri(q))``, accurate for small "
                  "``q``): differentiable in ``q``, ``loc``, ``scale`` and ``s``.")

    # the limits at z = 0 of logcdf's d/ds, d2/dz ds, d2/ds2: log Phi(log(z) / s) =
    # -log(z)^2 / (2 s^2) - log(-log(z) / s) + O(1): d/ds = log(z)^2 / s^3 + 1/s -> inf,
    # d/dz of that 2 log(z) / (z s^3) -> -inf, d/ds again -3 log(z)^2 / s^4 - ... -> -inf
    _flat_end = ((math.inf, -math.inf, -math.inf),)
    # the limits at u = x - loc -> 0+ of logpdf's first and second derivatives in (u, s)
    # (scale held; t = log(u / scale)): L = -log u - t^2 / (2 s^2) - log s + const,
    # L_u = -(1 + t / s^2) / u -> inf, L_s = -1/s + t^2 / s^3 -> inf, L_uu = (1 - (1 - t) /
    # s^2) / u^2 -> -inf, L_us = 2 t / (s^3 u) -> -inf, L_ss = 1/s^2 - 3 t^2 / s^4 -> -inf:
    # those of log(u + s) (_log_flat_end)
    _flat_log_end = True
    # the scale with x held (u = x - loc -> 0+): logpdf is G(t) - log(scale) and logcdf
    # G(t), t = log(u) - log(scale), G's slope G'(t) = -1 - t / s^2 (logpdf; logcdf's ~ -t
    # / s^2) -> +inf: d/dscale = -Q / scale with Q = G' + 1 (logcdf: G'), the power of
    # 1/scale (_end_scale_power), +inf; Q's one-sided derivatives, in u -1 / (u s^2) and
    # in s 2 t / s^3, both -inf (_flat_scale): d/dscale -> -inf, d2/dscale2 = (Q + G'') /
    # scale^2 -> +inf, d2/du dscale = -Q_u / scale -> +inf, d2/ds dscale -Q_s / scale ->
    # +inf
    _flat_scale = (-math.inf, -math.inf)

    def _check(self, s):
        return s > 0.0

    def _logpdf(self, z, s):
        pos = z > 0.0
        lz = fnp.log(fnp.where(pos, z, 1.0))
        u = fnp.divide(lz, s)
        out = fnp.subtract(fnp.subtract(-0.5 * (u * u), lz), fnp.log(s)) - _HALF_LOG_2PI
        return fnp.where(pos, out, -math.inf)

    def _log_tail(self, u, scale, big, s):
        # (logsf at +inf: -log(z)^2 / (2 s^2) + ...; its slopes' limits: 0 in x and loc,
        # +inf in the scale and s)
        lz = fnp.subtract(big(), fnp.log(scale))
        return fnp.negative(fnp.divide(fnp.multiply(lz, lz), fnp.multiply(2.0, fnp.multiply(
            s, s))))

    def _cdf(self, z, s):
        return _special.ndtr(fnp.divide(fnp.log(z), s))

    def _sf(self, z, s):
        return _special.ndtr(fnp.divide(-fnp.log(z), s))

    def _logcdf(self, z, s):
        return _special.log_ndtr(fnp.divide(fnp.log(z), s))

    def _logsf(self, z, s):
        return _special.log_ndtr(fnp.divide(-fnp.log(z), s))

    def _ppf(self, q, s):
        return fnp.exp(fnp.multiply(s, _special.ndtri(q)))

    def _isf(self, q, s):
        return fnp.exp(fnp.multiply(s, -_special.ndtri(q)))


class _WeibullMin(_Shaped):
    """The Weibull minimum extreme value distribution with shape ``c``, as
    ``scipy.stats.weibull_min``."""

    name = "weibull_min"
    _a = 0.0
    _safe = 1.0
    _safe_shape = 1.0
    _exp_power_shape = 0  # (exp(-z^c): the pdf held where z^c overflows)
    _notes = ("``c > 0``, else nan; 0 below ``loc`` (at ``loc`` the density is ``inf``, 1 "
              "or 0 for ``c`` below, at or above 1, as SciPy's).")
    _cdf_methods = ("cdf", "sf", "logcdf", "logsf", "ppf", "isf")
    _cdf_notes = ("``-expm1(-z**c)`` (sf: ``exp(-z**c)``; logsf ``-z**c``, logcdf "
                  "``log(-expm1(-z**c))``), ``z = (x - loc) / scale``: differentiable in "
                  "``x``, ``loc``, ``scale`` and ``c``.")
    _ppf_notes = ("``(-log1p(-q))**(1/c)`` (isf: ``(-log(q))**(1/c)``, accurate for small "
                  "``q``): differentiable in ``q``, ``loc``, ``scale`` and ``c``.")

    def _check(self, c):
        return c > 0.0

    def _logpdf(self, z, c):
        fin = z < math.inf
        zs = fnp.where(fin, z, 1.0)
        out = fnp.subtract(fnp.add(fnp.log(c), _special._xlogy_weak(c - 1.0, zs)), fnp.pow(zs, c))
        return fnp.where(fin, out, -math.inf)

    def _end_power(self, k, c):
        return c - 1.0, fnp.log(c)



    def _end_dlog(self, k, c):
        # -z^c: its one-sided derivative at 0 is 0 for c > 1, -1 for c = 1 and -inf below
        # (d2/dx dscale of logpdf and logcdf at 0: -r / scale^2, +inf for c < 1; was 0)
        return fnp.where(c > 1.0, 0.0, fnp.where(c == 1.0, -1.0, -math.inf))

    def _log_tail(self, u, s, big, c):
        # (logsf at +inf: -z^c; its slopes' limits: -c z^(c - 1) / scale in x (-inf, -1 /
        # scale or 0 as c > 1, = 1, < 1), +inf in the scale, -inf in c)
        return _power_tail(u, s, big, c)

    def _cdf(self, z, c):
        return -fnp.expm1(-_held_power(z, c, fnp.pow))

    def _sf(self, z, c):
        return fnp.exp(-_held_power(z, c, fnp.pow))

    def _logcdf(self, z, c):
        return _log1mexp(-_held_power(z, c, fnp.pow))

    def _logsf(self, z, c):
        return -fnp.pow(z, c)

    def _ppf(self, q, c):
        return fnp.pow(-fnp.log1p(-q), fnp.divide(1.0, c))

    def _isf(self, q, c):
        return fnp.pow(-fnp.log(q), fnp.divide(1.0, c))


class _Pareto(_Shaped):
    """The Pareto distribution with shape ``b`` on ``[loc + scale, inf)``, as
    ``scipy.stats.pareto``."""

    name = "pareto"
    _a = 1.0
    _safe = 2.0
    _safe_shape = 1.0
    _notes = "``b > 0``, else nan; 0 below ``loc + scale``."
    _cdf_methods = ("cdf", "sf", "logcdf", "logsf", "ppf", "isf")
    _cdf_notes = ("``-expm1(-b log z)`` (sf: ``z**-b``; logsf ``-b log z``), ``z = (x - loc) "
                  "/ scale``: differentiable in ``x``, ``loc``, ``scale`` and ``b``.")
    _ppf_notes = ("``exp(-log1p(-q) / b)`` (isf: ``q**(-1/b)``): differentiable in ``q``, "
                  "``loc``, ``scale`` and ``b``.")

    def _check(self, b):
        return b > 0.0

    def _logpdf(self, z, b):
        return fnp.subtract(fnp.log(b), fnp.multiply(b + 1.0, fnp.log(z)))

    def _log_tail(self, u, s, big, b):
        # (logsf at +inf: -b log z; its slopes' limits: 0 in x and loc, b / scale in the
        # scale, -inf in b)
        return fnp.multiply(fnp.negative(b), fnp.subtract(big(), fnp.log(s)))

    def _cdf(self, z, b):
        return -fnp.expm1(fnp.multiply(-b, fnp.log(z)))

    def _sf(self, z, b):
        return fnp.exp(fnp.multiply(-b, fnp.log(z)))

    def _logcdf(self, z, b):
        return _log1mexp(fnp.multiply(-b, fnp.log(z)))

    def _logsf(self, z, b):
        return fnp.multiply(-b, fnp.log(z))

    def _ppf(self, q, b):
        return fnp.exp(fnp.divide(-fnp.log1p(-q), b))

    def _isf(self, q, b):
        return fnp.exp(fnp.divide(-fnp.log(q), b))


def _log_far_tail(far, y, beta):
    """``log(gammaincc(1/beta, y) / 2)`` where ``far`` (the tail below 1e-300: y above about
    690) from the asymptotic series ``Gamma(a, y) = y^(a-1) e^-y (1 + (a-1)/y + (a-1)(a-2)/y^2
    + ...)``, eight terms (against mpmath: 2e-16 relative for beta >= 1/30, 8e-13 at beta =
    0.01, where y is smallest against a; beyond, y in the far tail would overflow x), on
    clamped operands elsewhere (a = 1, y = 1e3: finite, with finite slopes, where unused).
    Cheaper than a continued fraction: 8 Horner steps, no loop."""
    a = fnp.where(far, fnp.divide(1.0, beta), 1.0)
    ys = fnp.where(far, y, 1e3)
    u = fnp.divide(1.0, ys)
    s = 0.0
    for k in range(8, 0, -1):  # (1 + (a-1)/y (1 + (a-2)/y (1 + ...))) - 1
        s = fnp.multiply(fnp.multiply(fnp.subtract(a, float(k)), u), fnp.add(s, 1.0))
    return (fnp.multiply(fnp.subtract(a, 1.0), fnp.log(ys)) - ys - _special.gammaln(a)
            + fnp.log1p(s) - _LOG_2)


def _held_power(z, p, power, where=True):
    """``power(z, p)`` (``|z|^p``, or ``z^p`` for ``z >= 0``) where finite, and ``inf`` held
    (from ``z = 1``) where it overflows (``p log|z| > 709``) and ``where``: the slopes of a
    function flat there (``exp(-y)``, ``gammaincc(a, y)``; their true values underflow)
    are 0, not the pow's infinite partial times 0 (nan: d/dc weibull_min.cdf(1e300, 1.5))."""
    hold = _power_overflows(fnp.stop_gradient(z), fnp.stop_gradient(p))
    if where is not True:
        hold = fnp.logical_and(where, hold)
    return fnp.where(hold, math.inf, power(fnp.where(hold, 1.0, z), p))


def _power_overflows(z, p):
    """Where ``|z|^p`` overflows (``p log|z| > 709``), for ``z`` and ``p`` without
    derivatives."""
    with _np.errstate(all="ignore"):
        return fnp.multiply(p, fnp.log(fnp.abs(z))) > 709.0


def _abs_pow(z, p):
    """``|z|**p`` with 0 (and zero derivatives) at ``z = 0``."""
    a = fnp.abs(z)
    nz = a != 0.0  # (True for nan: nan comes out)
    return fnp.where(nz, fnp.pow(fnp.where(nz, a, 1.0), p), 0.0)


class _Gennorm(_Shaped):
    """The generalized normal (exponential power) distribution with shape ``beta``, as
    ``scipy.stats.gennorm``."""

    name = "gennorm"
    _safe_shape = 2.0
    _exp_power_shape = 0  # (exp(-|z|^beta): the pdf held where |z|^beta overflows)
    _notes = ("``beta > 0``, else nan (density ``beta exp(-|z|**beta) / (2 gamma(1/beta))``; "
              "``beta = 2`` is a normal distribution, 1 the Laplace).")
    _cdf_methods = ("cdf", "sf", "logcdf", "logsf", "ppf", "isf")
    _cdf_notes = ("The tail ``gammaincc(1/beta, |z|**beta) / 2`` (relative accuracy in both "
                  "tails), ``z = (x - loc) / scale``; the log methods are its logarithm "
                  "(or ``log1p`` of minus the other): differentiable in ``x``, ``loc``, "
                  "``scale`` and ``beta`` (to second order in ``beta``). Where the tail is "
                  "below 1e-300 its log from the asymptotic series of the upper incomplete "
                  "gamma function (``logsf(1e30, 1.5)`` is -1e45; SciPy's -inf).")
    _ppf_notes = ("``-+gammainccinv(1/beta, 2 min(q, 1 - q))**(1/beta)`` (accurate in both "
                  "tails; SciPy's goes through ``gammaincinv(1/beta, |2q - 1|)``), and "
                  "``(q - 1/2) / pdf(0)`` at the median exactly (where the power has an "
                  "infinite slope); isf: ``-ppf(q)``. Differentiable in ``q``, ``loc``, "
                  "``scale`` and ``beta`` (to second order in ``beta``).")

    def _check(self, beta):
        return beta > 0.0

    def _log_pdf0(self, beta):
        return fnp.subtract(fnp.log(beta), _special.gammaln(fnp.divide(1.0, beta))) - _LOG_2

    def _logpdf(self, z, beta):
        return fnp.subtract(self._log_pdf0(beta), _abs_pow(z, beta))

    def _tail(self, z, beta, y=None):
        y = _held_power(z, beta, _abs_pow) if y is None else y
        return 0.5 * _special.gammaincc(fnp.divide(1.0, beta), y)

    def _log_tail(self, u, s, big, beta):
        # (logcdf at -inf / logsf at +inf: -|z|^beta + ...; its slopes' limits: as
        # weibull_min's in c)
        return _power_tail(u, s, big, beta)

    def _cdf(self, z, beta):
        tail = self._tail(z, beta)
        return fnp.where(z < 0.0, tail, 1.0 - tail)

    def _sf(self, z, beta):
        tail = self._tail(z, beta)
        return fnp.where(z > 0.0, tail, 1.0 - tail)

    def _log_side(self, z, beta, upper):
        """log cdf (log sf where ``upper``): the generic choice (``log1p`` of minus the
        other probability where this one is above 1/2) from one tail, where cdf and sf
        each computed it (gammaincc and its derivative in the shape twice); same bits.
        Where the tail is below 1e-300 (it underflows to 0 a little further: logsf(1e30,
        1.5) was -inf for -1e45), its log from the asymptotic series of the upper
        incomplete gamma function instead (``_log_far_tail``)."""
        # (where |z|^beta overflows on the side where this probability is 1 - tail: y held
        # at inf from z = 0, the tail 0 with slopes 0, as their true values underflow; the
        # pow's infinite partials times the zero cotangent were nan: d/dbeta of
        # logcdf(1e300, 1.5))
        y = _held_power(z, beta, _abs_pow, fnp.less(z, 0.0) if upper else fnp.greater(z, 0.0))
        tail = self._tail(z, beta, y)
        below, above = fnp.where(z < 0.0, tail, 1.0 - tail), fnp.where(z > 0.0, tail, 1.0 - tail)
        p, other = (above, below) if upper else (below, above)
        big = p > 0.5
        far = p < 1e-300
        near = fnp.log(fnp.where(fnp.logical_or(big, far), 1.0, p))
        # (the series only where some element takes it, where that is known: eager)
        small = _where_taken([(far, lambda: _log_far_tail(far, y, beta))], lambda: near)
        return fnp.where(big, fnp.log1p(-fnp.where(big, other, 0.0)), small)

    def _logcdf(self, z, beta):
        return self._log_side(z, beta, False)

    def _logsf(self, z, beta):
        return self._log_side(z, beta, True)

    def _ppf(self, q, beta):
        lower = q < 0.5
        mid = q == 0.5
        p2 = 2.0 * fnp.where(lower, q, 1.0 - q)  # (1 - q exact for q >= 1/2)
        y = _special.gammainccinv(fnp.divide(1.0, beta), fnp.where(mid, 0.5, p2))
        t = fnp.pow(y, fnp.divide(1.0, beta))
        out = fnp.where(lower, -t, t)
        # (1 / pdf(0) overflows for a small beta, 1e-3: 0 * inf was nan at the median; the
        # slope is capped at e^709 there, the value stays 0)
        inv_pdf0 = fnp.exp(fnp.minimum(-self._log_pdf0(beta), 709.0))
        return fnp.where(mid, fnp.multiply(q - 0.5, inv_pdf0), out)

    def _isf(self, q, beta):
        return -self._ppf(q, beta)


# 16-point Gauss-Legendre nodes and weights on [-1, 1] (exact for polynomials to degree 31)
_GL16 = tuple(zip(*(map(float, v) for v in __import__("numpy").polynomial.legendre.leggauss(16))))


def _log_gauss_mass(a, b):
    """``log(ndtr(b) - ndtr(a))`` for ``a < b``: through ``log_ndtr`` of the tail holding
    the interval when both ends are on one side of 0 (no underflow: finite for ``a = 50``),
    through ``erf`` of each end between (no cancellation for a narrow interval around
    0); infinite ends exactly. (Each form only where some element takes it, where that is
    known: truncnorm.cdf computes three masses.)"""
    fa, fb = fnp.isfinite(a), fnp.isfinite(b)
    a_s = fnp.where(fa, a, fnp.where(fb, fnp.subtract(b, 1.0), 0.0))
    b_s = fnp.where(fb, b, fnp.where(fa, fnp.add(a, 1.0), 1.0))

    def finite():
        lower = b_s <= 0.0
        upper = a_s > 0.0

        def low_tail():  # both in the lower tail: log Phi(b) + log(1 - Phi(a) / Phi(b))
            al, bl = fnp.where(lower, a_s, -2.0), fnp.where(lower, b_s, -1.0)
            lb = _special.log_ndtr(bl)
            return fnp.add(lb, _log1mexp(fnp.subtract(_special.log_ndtr(al), lb)))

        def up_tail():  # both in the upper tail: the same with the survival function
            au, bu = fnp.where(upper, a_s, 1.0), fnp.where(upper, b_s, 2.0)
            la = _special.log_ndtr(-au)
            return fnp.add(la, _log1mexp(fnp.subtract(_special.log_ndtr(-bu), la)))

        def around_0():  # (erf(b / sqrt 2) - erf(a / sqrt 2)) / 2, two positive terms
            mid = fnp.logical_not(fnp.logical_or(lower, upper))
            am, bm = fnp.where(mid, a_s, -1.0), fnp.where(mid, b_s, 1.0)
            r = math.sqrt(0.5)
            return fnp.log(0.5 * fnp.add(_special.erf(bm * r), _special.erf(-am * r)))

        # a narrow interval, (b - a)(1 + |a| + |b|) <= 1 (the density changes by a factor
        # e^1.5 at most over it): Gauss-Legendre quadrature of the density relative to its
        # largest value, at t0 (the difference of the tails' logs, or of the erf's, cancels:
        # truncnorm.cdf(0, -1e-8, 1e-8) was 0.4999999965, cdf(a + 1e-14 |a|, -1, 0) 1% off)
        narrow = fnp.logical_and(fnp.logical_and(fa, fb), fnp.multiply(
            fnp.subtract(b_s, a_s), 1.0 + fnp.abs(a_s) + fnp.abs(b_s)) <= 1.0)

        def quadrature():
            an, bn = fnp.where(narrow, a_s, 0.0), fnp.where(narrow, b_s, 1.0)
            t0 = fnp.minimum(fnp.maximum(0.0, an), bn)
            half, centre = 0.5 * fnp.subtract(bn, an), 0.5 * fnp.add(an, bn)
            total = 0.0
            for node, weight in _GL16:
                t = fnp.add(centre, fnp.multiply(half, node))
                total = fnp.add(total, weight * fnp.exp(
                    -0.5 * fnp.multiply(fnp.subtract(t, t0), fnp.add(t, t0))))
            return fnp.add(-0.5 * (t0 * t0) - _HALF_LOG_2PI, fnp.log(fnp.multiply(half, total)))

        out = _where_taken([(lower, low_tail), (upper, up_tail)], around_0)
        return _where_taken([(narrow, quadrature)], lambda: out)

    return _where_taken([(fnp.logical_and(fa, fb), finite),
                         (fa, lambda: _special.log_ndtr(-a_s)),
                         (fb, lambda: _special.log_ndtr(b_s))],
                        lambda: fnp.zeros_like(a_s))


def _far_tail_quantile(log_p, start):
    """The ``x >= start`` with ``log_ndtr(-x) = log_p`` (the upper tail's quantile where its
    probability underflows), by Newton's method on the log from ``start`` (``log_ndtr(-x)``
    is concave: the iterates approach the root from above after the first step)."""
    x = start
    for _ in range(10):
        lsf = _special.log_ndtr(-x)
        # d/dx log_ndtr(-x) = -pdf(x) / sf(x)
        slope = fnp.exp(fnp.subtract(-0.5 * (x * x) - _HALF_LOG_2PI, lsf))
        x = fnp.add(x, fnp.divide(fnp.subtract(lsf, log_p), slope))
    return x


class _Truncnorm(_Shaped):
    """The normal distribution truncated to ``[a, b]`` (in standard units: the support is
    ``[loc + a scale, loc + b scale]``), as ``scipy.stats.truncnorm``."""

    name = "truncnorm"
    _safe_shapes = (-1.0, 1.0)
    _notes = ("``a < b`` (either may be infinite), else nan; 0 outside the support. The "
              "normalization ``log(ndtr(b) - ndtr(a))`` through ``log_ndtr`` in the tails "
              "(finite for ``a = 50``) and ``erf`` around 0 (more accurate than SciPy's for "
              "a narrow interval around 0), and Gauss-Legendre quadrature for a narrow "
              "interval, ``(b - a)(1 + |a| + |b|) <= 1``.")
    _cdf_methods = ("cdf", "sf", "logcdf", "logsf", "ppf", "isf")
    _cdf_notes = ("``exp(log_mass(a, z) - log_mass(a, b))`` (sf: from ``log_mass(z, b)``), "
                  "``log_mass(u, v) = log(ndtr(v) - ndtr(u))`` as for the density: accurate "
                  "far in the tails; differentiable in ``x``, ``loc``, ``scale``, ``a`` and "
                  "``b``.")
    _ppf_notes = ("``ndtri((1 - q) ndtr(a) + q ndtr(b))``, or minus ``ndtri`` of the "
                  "complementary sum where that is below 1/2 (each without cancellation), "
                  "``sqrt(2) erfinv((1 - q) erf(a / sqrt 2) + q erf(b / sqrt 2))`` where that "
                  "argument is within 1/2 of 0 (near the median); "
                  "where the interval's mass underflows (an end beyond 37 standard "
                  "deviations) by Newton's method on ``log_ndtr``; clipped to ``[a, b]``; "
                  "isf: ``-ppf(q, -b, -a)``. Differentiable in ``q``, ``loc``, ``scale``, "
                  "``a`` and ``b``.")

    def _check(self, a, b):
        return fnp.less(a, b)

    def _support(self, a, b):
        return a, b

    def _inner(self, a, b):
        fa, fb = fnp.isfinite(a), fnp.isfinite(b)
        return fnp.where(fnp.logical_and(fa, fb), 0.5 * fnp.add(a, b),
                         fnp.where(fa, fnp.add(a, 1.0), fnp.where(fb, fnp.subtract(b, 1.0),
                                                                  0.0)))

    def _logpdf(self, z, a, b):
        return fnp.subtract(-0.5 * (z * z) - _HALF_LOG_2PI, _log_gauss_mass(a, b))

    def _logs(self, z, a, b, upper):
        """log cdf (log sf where ``upper``): the difference of the log masses, or ``log1p``
        of minus the other one where it is close to 0 (the difference would lose its
        digits; that other mass only where some element needs it, where that is known)."""
        total = _log_gauss_mass(a, b)
        this = (lambda: _log_gauss_mass(z, b)) if upper else (lambda: _log_gauss_mass(a, z))
        other = (lambda: _log_gauss_mass(a, z)) if upper else (lambda: _log_gauss_mass(z, b))
        out = fnp.subtract(this(), total)
        big = out > -_LOG_2
        # (-1 in the discarded lanes: log1p(-exp(0)) would warn of a log of zero)
        return _where_taken([(big, lambda: fnp.log1p(-fnp.exp(fnp.where(
            big, fnp.subtract(other(), total), -1.0))))], lambda: out)

    def _logcdf(self, z, a, b):
        return self._logs(z, a, b, False)

    def _logsf(self, z, a, b):
        return self._logs(z, a, b, True)

    def _cdf(self, z, a, b):  # (above 1/2 as 1 - sf, which keeps its digits)
        return fnp.exp(self._logs(z, a, b, False))

    def _sf(self, z, a, b):
        return fnp.exp(self._logs(z, a, b, True))

    def _ppf(self, q, a, b):
        lo_cdf = fnp.add(fnp.multiply(1.0 - q, _special.ndtr(a)),
                         fnp.multiply(q, _special.ndtr(b)))
        up_cdf = fnp.add(fnp.multiply(1.0 - q, _special.ndtr(-a)),
                         fnp.multiply(q, _special.ndtr(-b)))
        low = lo_cdf <= 0.5
        # far in a tail (the interval's mass underflows in linear space): in log space
        # (also where the target probability itself is subnormal: ppf(1e-300, -inf, -10)
        # was -38.4494, not -38.4561, through ndtri(7.6e-324))
        far_up = fnp.logical_or(fnp.greater(a, 37.0), fnp.logical_and(
            fnp.logical_and(fnp.logical_not(low), up_cdf < 1e-290), fnp.isfinite(a)))
        far_lo = fnp.logical_and(fnp.logical_not(far_up), fnp.logical_or(
            fnp.less(b, -37.0), fnp.logical_and(fnp.logical_and(low, lo_cdf < 1e-290),
                                                fnp.isfinite(b))))
        far = fnp.logical_and(fnp.logical_or(far_up, far_lo),
                              fnp.logical_and(q > 0.0, q < 1.0))

        def from_lower():  # (ndtri of a stand-in where far: its slope at a subnormal
            # target is inf)
            return _special.ndtri(fnp.where(fnp.logical_and(low, fnp.logical_not(far)),
                                            lo_cdf, 0.5))

        def from_upper():
            return -_special.ndtri(fnp.where(fnp.logical_or(low, far), 0.5, up_cdf))

        def far_tail():
            # the tail probability beyond x: (1 - q) sf(a) + q sf(b) (upper), mirrored
            lq = fnp.log(fnp.where(far, q, 0.5))
            l1q = fnp.log1p(-fnp.where(far, q, 0.5))
            near_end = fnp.where(far_up, a, -b)
            far_end = fnp.where(far_up, b, -a)
            ne = fnp.where(far, near_end, 40.0)
            fe = fnp.where(far, far_end, 41.0)
            w1, w2 = fnp.where(far_up, l1q, lq), fnp.where(far_up, lq, l1q)
            log_p = fnp.logaddexp(fnp.add(w1, _special.log_ndtr(-ne)),
                                  fnp.add(w2, _special.log_ndtr(-fe)))
            xf = _far_tail_quantile(log_p, ne)
            return fnp.where(far_up, xf, -xf)

        # near the median (the target cdf within 1/4 of 1/2): from the target's offset
        # 2 (cdf - 1/2) = (1 - q) erf(a / sqrt 2) + q erf(b / sqrt 2) and erfinv, not ndtri of
        # a sum close to 1/2 whose rounding is large beside its distance from 1/2
        # (ppf(1 - 1e-15, -1, 0) was -8.349e-16, not -8.555e-16)
        r = math.sqrt(0.5)
        off = fnp.add(fnp.multiply(1.0 - q, _special.erf(fnp.multiply(a, r))),
                      fnp.multiply(q, _special.erf(fnp.multiply(b, r))))
        mid = fnp.logical_and(fnp.abs(off) < 0.5, fnp.logical_not(far))
        x = _where_taken([
            (mid, lambda: fnp.multiply(math.sqrt(2.0), _special.erfinv(fnp.where(mid, off, 0.0)))),
            (far, far_tail), (low, from_lower)], from_upper)
        # clipped to [a, b] in value only, keeping the formula's slope (that of the
        # quantile beside the end): x rounds onto or past an end for a tiny q or 1 - q,
        # where maximum's and minimum's slopes were half of it at the tie
        # (d/dq ppf(1e-17, -1, 2) was 1.69, not 1 / pdf(-1) = 3.38) or 0 beyond it
        moved = fnp.subtract(x, fnp.stop_gradient(x))  # (0, with x's derivative)
        x = fnp.where(x < a, fnp.add(fnp.stop_gradient(a), moved),
                      fnp.where(x > b, fnp.add(fnp.stop_gradient(b), moved), x))
        return fnp.where(q == 0.0, a, fnp.where(q == 1.0, b, x))

    def _isf(self, q, a, b):
        return -self._ppf(q, -b, -a)


def _log_i0e(k):
    """``log(I0(k) exp(-k))`` (the exponentially scaled modified Bessel function of order
    0), differentiable to any order through ``special.i0e``'s rules."""
    return fnp.log(_special.i0e(k))


class _Vonmises(_Shaped):
    """The von Mises (circular normal) distribution with concentration ``kappa``, as
    ``scipy.stats.vonmises`` (its density on the whole real line, periodic, as SciPy's)."""

    name = "vonmises"
    _safe_shape = 1.0
    _notes = ("``kappa >= 0`` (0: the uniform density ``1 / (2 pi)``), else nan; "
              "``kappa (cos z - 1) - log(2 pi i0e(kappa))`` with ``cos z - 1 = -2 sin(z/2)**2``"
              " (``functrans.scipy.special.i0e``): differentiable in ``x``, ``loc``, ``scale`` and "
              "``kappa`` to any order.")
    _cdf_methods = ("cdf", "sf")
    _cdf_notes = ("SciPy's method (Hill's algorithm 518): with ``x`` reduced to ``[-pi, pi]`` "
                  "by ``j`` whole turns (``j`` added to the result, as SciPy's: the CDF of the "
                  "density on the whole line, 1/2 at ``loc``), for ``kappa < 50`` the series "
                  "``1/2 + x / (2 pi) + V / pi`` with ``V`` from the backward recursion of "
                  "the Bessel function ratios over ``ceil(28 + kappa / 2 - 100 / (kappa + "
                  "5))`` terms (clipped to [0, 1]), from 50 on the normal approximation "
                  "``ndtr(sqrt(2 / pi) sin(x / 2) / i0e(kappa))`` (about 12 digits, as "
                  "SciPy's); sf is ``1 - cdf``, as SciPy's. Differentiable in ``x``, "
                  "``loc``, ``scale`` and ``kappa``.")

    def _check(self, kappa):
        return kappa >= 0.0

    def _cdf(self, z, kappa):
        turns = fnp.round(fnp.divide(z, 2.0 * math.pi))
        x = fnp.subtract(z, fnp.multiply(turns, 2.0 * math.pi))
        series = kappa < 50.0

        def by_series():
            pos = kappa > 0.0
            ks = fnp.where(fnp.logical_and(series, pos), kappa, 1.0)
            n_terms = fnp.ceil(28.0 + 0.5 * ks - 100.0 / (ks + 5.0))  # (at most 52)
            # the recursion from the largest n_terms - 1 of the elements where that is
            # known (above it every element's r and v are 0, which adds nothing: 14
            # terms at kappa = 2, not 51)
            top = 51
            known = _concrete_behind(n_terms)
            if known is not None and math.prod(tuple(known.shape)):  # (vmap of 0 rows)
                bk = _backend_of(known)
                top = min(51, max(1, int(float(bk.to_numpy(bk.xp.max(known)))) - 1))
            r = v = None
            for n in range(top, 0, -1):
                active = float(n) < n_terms  # (the recursion starts at n = n_terms - 1)
                r_new = fnp.divide(1.0, 2.0 * n / ks if r is None else fnp.add(2.0 * n / ks, r))
                v_new = fnp.multiply(r_new, fnp.sin(n * x) / n if v is None
                                     else fnp.add(fnp.sin(n * x) / n, v))
                r = fnp.where(active, r_new, 0.0)
                v = fnp.where(active, v_new, 0.0)
            f_series = fnp.add(0.5 + x / (2.0 * math.pi),
                               fnp.divide(fnp.where(pos, v, 0.0), math.pi))
            # (clipped to [0, 1] in value only: the series leaves it by rounding at x = -pi
            # and pi, where clip's derivative 0 was taken: d/dx vonmises.cdf(-pi, 1.5) was
            # 0, the density 0.0127)
            clipped = fnp.clip(f_series, 0.0, 1.0)
            return (fnp.add(f_series, fnp.stop_gradient(fnp.subtract(clipped, f_series)))
                    if _traced(f_series) else clipped)

        def by_normal():
            kb = fnp.where(series, 50.0, kappa)
            return _special.ndtr(fnp.divide(math.sqrt(2.0 / math.pi) * fnp.sin(0.5 * x),
                                            _special.i0e(kb)))
        return fnp.add(_where_taken([(series, by_series)], by_normal), turns)

    def _sf(self, z, kappa):
        return 1.0 - self._cdf(z, kappa)

    def _logpdf(self, z, kappa):
        s = fnp.sin(0.5 * z)
        return fnp.subtract(fnp.multiply(kappa, -2.0 * (s * s)), _log_i0e(kappa)) - _LOG_2PI


class _Wrapcauchy(_Shaped):
    """The wrapped Cauchy distribution with shape ``c`` on ``[loc, loc + 2 pi scale]``, as
    ``scipy.stats.wrapcauchy``."""

    name = "wrapcauchy"
    _a, _b = 0.0, 2.0 * math.pi
    _safe = math.pi
    _safe_shape = 0.5
    _notes = ("``0 < c < 1``, else nan; 0 outside ``[loc, loc + 2 pi scale]``. Computed as "
              "``log((1 - c)(1 + c) / (2 pi ((1 - c)**2 + 4 c sin(z/2)**2)))`` (no "
              "cancellation for ``c`` near 1).")
    _cdf_methods = ("cdf", "sf", "ppf", "isf")
    _cdf_notes = ("``atan(r tan(z/2)) / pi``, ``r = (1 + c) / (1 - c)``, below ``pi`` and "
                  "``1 - atan(r tan(pi - z/2)) / pi`` above (sf: the mirror image): "
                  "differentiable in ``x``, ``loc``, ``scale`` and ``c``.")
    _ppf_notes = ("``2 atan(tan(pi q) / r)`` below ``q = 1/2``, ``2 pi - 2 atan(tan(pi (1 - "
                  "q)) / r)`` above (isf: the mirror image, accurate for ``q`` near 1 where "
                  "SciPy's ``2 pi - ppf`` cancels). Differentiable in ``q``, ``loc``, "
                  "``scale`` and ``c``.")

    def _check(self, c):
        return fnp.logical_and(c > 0.0, c < 1.0)

    def _logpdf(self, z, c):
        s = fnp.sin(0.5 * z)
        den = fnp.add(fnp.square(1.0 - c), fnp.multiply(4.0 * c, s * s))
        return fnp.subtract(fnp.add(fnp.log1p(-c), fnp.log1p(c)), fnp.log(den)) - _LOG_2PI

    def _half(self, z, c):
        """P(Z <= z) for z in [0, pi]."""
        r = fnp.divide(1.0 + c, 1.0 - c)
        return fnp.atan(fnp.multiply(r, fnp.tan(0.5 * z))) / math.pi

    def _cdf(self, z, c):
        low = z < math.pi
        return fnp.where(low, self._half(fnp.where(low, z, 1.0), c),
                         1.0 - self._half(2.0 * math.pi - fnp.where(low, 4.0, z), c))

    def _sf(self, z, c):
        high = z > math.pi
        return fnp.where(high, self._half(2.0 * math.pi - fnp.where(high, z, 4.0), c),
                         1.0 - self._half(fnp.where(high, 1.0, z), c))

    def _low(self, p, c):
        """The quantile ``2 atan(tan(pi p) / r)`` for ``p <= 1/2``."""
        return 2.0 * fnp.atan(fnp.multiply(fnp.divide(1.0 - c, 1.0 + c), fnp.tan(math.pi * p)))

    def _ppf(self, q, c):
        low = q < 0.5
        return fnp.where(low, self._low(fnp.where(low, q, 0.25), c),
                         2.0 * math.pi - self._low(1.0 - fnp.where(low, 0.75, q), c))

    def _isf(self, q, c):
        high = q > 0.5
        return fnp.where(high, self._low(1.0 - fnp.where(high, q, 0.75), c),
                         2.0 * math.pi - self._low(fnp.where(high, 0.25, q), c))


lognorm = _shaped_methods(_Lognorm, "log-normal", ("s",))
weibull_min = _shaped_methods(_WeibullMin, "Weibull minimum", ("c",))
pareto = _shaped_methods(_Pareto, "Pareto", ("b",))
gennorm = _shaped_methods(_Gennorm, "generalized normal", ("beta",))
truncnorm = _shaped_methods(_Truncnorm, "truncated normal", ("a", "b"))
vonmises = _shaped_methods(_Vonmises, "von Mises", ("kappa",))
wrapcauchy = _shaped_methods(_Wrapcauchy, "wrapped Cauchy", ("c",))


class _Nbinom(_Discrete):
    """The negative binomial distribution (the failures before the ``n``-th success, success
    probability ``p``), as ``scipy.stats.nbinom``."""

    _nan_at_infinite_shape = True
    name = "nbinom"
    _params = ("n", "p")
    _safe_shapes = (1.0, 0.5)
    _notes = ("``k - loc`` in 0, 1, 2, ...; ``n > 0`` (any real number, as SciPy's) and "
              "``0 < p <= 1``, else nan. ``gammaln(k + n) - gammaln(n) - gammaln(k + 1) + "
              "n log(p) + k log1p(-p)``: differentiable in ``p`` and in ``n`` (a real "
              "parameter here, not a count).")
    _cdf_notes = ("``betainc(n, k + 1, p)`` (sf: ``betainc(k + 1, n, 1 - p)``): "
                  "differentiable in ``p`` and ``n`` (to third order in ``n``, through the "
                  "incomplete beta function's derivatives in its shapes).")

    def _check(self, n, p):
        return fnp.logical_and(n > 0.0, fnp.logical_and(p > 0.0, p <= 1.0))

    def _cdf(self, j, n, p):
        return _special.betainc(n, j + 1.0, p)

    def _sf(self, j, n, p):
        return _special.betainc(j + 1.0, n, 1.0 - p)

    def _logpmf(self, k, n, p):
        # log C(k + n - 1, k) = -log(k + n) - betaln(n, k + 1) (betaln keeps its digits
        # where an argument is large; gammaln(k + n) - gammaln(n) lost them all: pmf(5, 1e12,
        # 1 - 1e-12) was 0.0030761, not 0.0030654); 0 at k = 0 exactly
        zero = k == 0.0
        ks = fnp.where(zero, 1.0, k)
        comb = fnp.where(zero, 0.0, fnp.negative(fnp.add(
            fnp.log(fnp.add(ks, n)), _special.betaln(n, ks + 1.0))))
        comb = fnp.where(n == math.inf, math.nan, comb)  # (SciPy's inf - inf)
        return fnp.add(fnp.add(comb, _special._xlogy_weak(n, p)), _special._xlog1py_weak(k, -p))


class _Betabinom(_Discrete):
    """The beta-binomial distribution (``n`` trials of a success probability drawn from
    ``beta(a, b)``), as ``scipy.stats.betabinom``."""

    _nan_at_infinite_shape = True
    name = "betabinom"
    _params = ("n", "a", "b")
    _safe_shapes = (1.0, 1.0, 1.0)
    _notes = ("``k - loc`` in 0, ..., n; ``n`` a non-negative integer, ``a > 0`` and "
              "``b > 0``, else nan. ``log C(n, k) + betaln(k + a, n - k + b) - betaln(a, b)``:"
              " differentiable in ``a`` and ``b``; a derivative reaching ``n`` raises "
              "NotImplementedError (a count).")
    _cdf_notes = ("The sum of the masses up to ``k`` (sf: above ``k``, summed directly: "
                  "accurate in the upper tail where SciPy's ``1 - cdf`` cancels) over the "
                  "integers ``0 ... max(n)``: ``n`` must be concrete (a traced ``n``, under "
                  "``jit`` or ``vmap``, raises NotImplementedError: the number of terms is "
                  "read from it). Differentiable in ``a`` and ``b``.")

    # (at most this many elements x terms at a time: the whole table, elements x (max(n) +
    # 1), was a MemoryError at n = 1e5 over 40,960 points; and at most _BLOCK terms between
    # two masses computed directly)
    _CHUNK = 1 << 20
    _BLOCK = 64

    def _terms(self, j, n, a, b, upper):
        """The masses of ``0 ... max(n)`` summed where they are at most (above) ``j``, in
        blocks of terms: each block's first mass directly (``_logpmf``), the others by the
        ratio of consecutive masses, ``(n - i)(i + a) / ((i + 1)(n - i - 1 + b))``, summed
        in logarithms (a few operations a term instead of the betaln of the mass)."""
        j, n, a, b = fnp.broadcast_arrays(j, n, a, b)
        jj, nn = fnp.expand_dims(j, axis=-1), fnp.expand_dims(n, axis=-1)
        ae, be = fnp.expand_dims(a, axis=-1), fnp.expand_dims(b, axis=-1)
        size = max(1, math.prod(j.shape))
        step = max(1, min(self._BLOCK, self._CHUNK // size))
        total = None
        for start in range(0, self._top + 1, step):
            stop = min(self._top + 1, start + step)
            i = fnp.astype(fnp.arange(start, stop, device=fnp.device(j)), fnp.float64)
            keep = fnp.logical_and(fnp.greater(i, jj) if upper else fnp.less_equal(i, jj),
                                   fnp.less_equal(i, nn))
            first_ok = fnp.less_equal(float(start), n)
            first = self._logpmf(fnp.full(j.shape, float(start), device=fnp.device(j)),
                                 fnp.where(first_ok, n, float(start)), a, b)
            # log ratio of the masses i + 1 and i, for i < n (stand-ins beyond)
            inner = fnp.less(i, nn)
            ni = fnp.where(inner, fnp.subtract(nn, i), 2.0)
            lr = fnp.subtract(fnp.add(fnp.log(ni), fnp.log(fnp.add(i, ae))),
                              fnp.add(fnp.log(fnp.add(i, 1.0)),
                                      fnp.log(fnp.add(fnp.subtract(ni, 1.0), be))))
            lr = fnp.where(inner, lr, 0.0)
            cs = fnp.cumulative_sum(lr[..., :-1], axis=-1)
            zero = fnp.zeros(j.shape + (1,), dtype=fnp.float64, device=fnp.device(j))
            logpmf = fnp.add(fnp.expand_dims(first, axis=-1), fnp.concat([zero, cs], axis=-1))
            part = fnp.sum(fnp.where(keep, fnp.exp(logpmf), 0.0), axis=-1)
            total = part if total is None else fnp.add(total, part)
        return total

    def _distribution(self, method, k, shapes, loc):
        n = shapes[0]
        from ..core import Tracer
        if isinstance(n, Tracer) or (isinstance(n, (list, tuple)) and any(
                isinstance(v, Tracer) for v in n)):
            raise NotImplementedError(
                f"betabinom.{method}: n must be concrete (not traced, as under jit or vmap): "
                f"the number of terms of the sum is read from it")
        import numpy as _np
        from ..backends import backend_of
        host = _np.asarray(n) if not hasattr(n, "shape") else _np.asarray(
            backend_of(n).to_numpy(n))
        fin = host[_np.isfinite(host) & (host >= 0)]
        self._top = int(fin.max()) if fin.size else 0
        return super()._distribution(method, k, shapes, loc)

    def _cdf(self, j, n, a, b):
        return self._terms(j, n, a, b, False)

    def _sf(self, j, n, a, b):
        return self._terms(j, n, a, b, True)

    def _check(self, n, a, b):
        return fnp.logical_and(fnp.logical_and(n >= 0.0, fnp.equal(fnp.floor(n), n)),
                               fnp.logical_and(a > 0.0, b > 0.0))

    def _upper(self, n, a, b):
        return n

    def _logpmf(self, k, n, a, b):
        n = _count_only(n, "betabinom")
        nk = fnp.subtract(n, k)
        comb = _log_choose(n, k)
        direct = fnp.add(comb, fnp.subtract(_special.betaln(fnp.add(k, a), fnp.add(nk, b)),
                                            _special.betaln(a, b)))
        # where the plain form's terms are large (_deviance_where): the two betaln are
        # ~a and cancel (pmf(5, 10, 1e14, 1e14) was 0.7% off). By
        # Stirling, log Gamma(x + h) - log Gamma(x) = h log(x + h) + x log1pmx(h / x)
        # - log1p(h / x) / 2 + w(x + h) - w(x); the three pairs' h log(x + h) with
        # log C(n, k) make a binomial mass at p = (a + k) / (a + b + n), taken in its
        # saddle-point form; the rest has no large terms
        # (so too for any a, b where k and n - k are large: log C(n, k) ~ n cancelled
        # against the betaln, logpmf(4e11, 1e12, 5, 9) was 2.4e-4 off; below 10 the
        # Stirling remainder w is taken exactly from lgamma)
        big = _deviance_where(None, fnp.add(a, k), fnp.add(b, nk))
        if big is None:  # (the form below costs about as much again)
            return direct
        ab, bb = fnp.where(big, a, 10.0), fnp.where(big, b, 10.0)
        s = fnp.add(ab, bb)
        tot = fnp.add(s, n)
        mass = _log_binom_mass(k, n, fnp.divide(fnp.add(ab, k), tot),
                               fnp.divide(fnp.add(bb, nk), tot))
        def w(x):  # log Gamma(x) - ((x - 1/2) log x - x + log(2 pi) / 2), any x > 0
            return _lgamma_corr(_special._TRACED, x)

        def rest(x, h):
            # (where h > x, x log1p(h / x) without the -h of log1pmx: those are about h,
            # n where n >> a + b, and cancelled to eps n (logpmf(0, 1e12, 1e3, 1e3) was
            # 2e-5 off); the -h are subtracted below exactly, k + (n - k) - n)
            t = fnp.divide(h, x)
            lt = fnp.log1p(t)
            far = fnp.stop_gradient(t > 1.0)
            main = fnp.where(far, fnp.multiply(x, lt), fnp.multiply(x, _log1pmx(fnp, t, lt)))
            return (fnp.add(fnp.subtract(main, 0.5 * lt),
                            fnp.subtract(w(fnp.add(x, h)), w(x))),
                    fnp.where(far, h, 0.0))
        (ra, ha), (rb, hb), (rs, hs) = rest(ab, k), rest(bb, nk), rest(s, n)
        # (integers below 2**53: the sum of the dropped -h is exact)
        hsum = fnp.subtract(fnp.add(ha, hb), hs)
        dev = fnp.add(mass, fnp.subtract(fnp.subtract(fnp.add(ra, rb), rs), hsum))
        return fnp.where(big, dev, direct)


nbinom = _discrete_methods(_Nbinom, "negative binomial")
betabinom = _discrete_methods(_Betabinom, "beta-binomial")


# -- multivariate discrete and continuous: multinomial, dirichlet -------------------------------


class _Multinomial:
    """The multinomial distribution of ``n`` trials over the categories of ``p`` (its last
    axis), as ``scipy.stats.multinomial`` (``logpmf`` and ``pmf``)."""

    name = "multinomial"

    def __repr__(self):
        return "functrans.scipy.stats.multinomial"

    def _logpmf(self, x, n, p, name):
        x, n, p = _float64((x, n, p), name)
        if p.ndim == 0:
            raise ValueError(f"{name}: p must be an array whose last axis holds the "
                             f"categories' probabilities (it is a scalar)")
        k = p.shape[-1]
        if x.ndim == 0 or x.shape[-1] != k:
            got = x.shape[-1] if x.ndim else 0
            raise ValueError(f"{name}: the last axis of x (the counts, {got}) must match "
                             f"the last axis of p ({k} categories)")
        # (SciPy casts n to an integer; its derivative is refused: a count)
        n = fnp.trunc(_count_only(n, name))
        # as SciPy (up to 1.17): the last probability is 1 minus the others
        head = p[..., :-1]
        p = fnp.concat([head, 1.0 - fnp.sum(head, axis=-1, keepdims=True)], axis=-1)
        pbad = fnp.any(fnp.logical_or(p < 0.0, p > 1.0), axis=-1)
        xbad = fnp.any(fnp.logical_or(x < 0.0, fnp.not_equal(fnp.floor(x), x)), axis=-1)
        xbad = fnp.logical_or(xbad, fnp.not_equal(fnp.sum(x, axis=-1), n))
        terms = fnp.subtract(_special._xlogy_weak(x, p), _special.gammaln(x + 1.0))
        out = fnp.add(_special.gammaln(n + 1.0), fnp.sum(terms, axis=-1))
        out = fnp.where(xbad, -math.inf, out)
        return fnp.where(fnp.logical_or(pbad, n < 0.0), math.nan, out)

    def logpmf(self, x, n, p):
        """The log of the multinomial probability of the counts ``x`` (last axis: the
        categories) in ``n`` trials with probabilities ``p`` (last axis), as SciPy's:
        ``gammaln(n + 1) + sum(xlogy(x, p) - gammaln(x + 1))``; -inf where ``x`` is not a
        vector of non-negative integers summing to ``n``; nan for ``n < 0`` or a
        probability outside [0, 1]. As SciPy 1.17, ``n`` is truncated to an integer and the
        last probability replaced by 1 minus the others (so its derivative is 0; SciPy
        announces nan for rows not summing to 1 from 1.18). The batch shapes of ``x``,
        ``n`` and ``p`` broadcast. Differentiable in ``p``; a derivative reaching ``n``
        raises NotImplementedError (a count)."""
        return self._logpmf(x, n, p, "multinomial.logpmf")

    def pmf(self, x, n, p):
        """The multinomial probability of the counts ``x``: ``exp(logpmf(x, n, p))`` (see
        :meth:`logpmf`)."""
        return fnp.exp(self._logpmf(x, n, p, "multinomial.pmf"))


multinomial = _Multinomial()


class _Dirichlet:
    """The Dirichlet distribution with concentrations ``alpha``, as
    ``scipy.stats.dirichlet`` (``logpdf`` and ``pdf``)."""

    name = "dirichlet"

    def __repr__(self):
        return "functrans.scipy.stats.dirichlet"

    def _logpdf(self, x, alpha, name):
        x, alpha = _float64((x, alpha), name)
        if alpha.ndim != 1:
            raise ValueError(f"{name}: alpha must be one-dimensional, but alpha.shape = "
                             f"{tuple(alpha.shape)}")
        k = alpha.shape[0]
        if x.ndim == 0 or x.shape[0] not in (k, k - 1):
            raise ValueError(f"{name}: the first axis of x must hold {k} components (or "
                             f"{k - 1}, the last then being 1 minus their sum) for alpha of "
                             f"shape {(k,)}; x.shape = {tuple(x.shape)}")
        if x.shape[0] == k - 1:
            x = fnp.concat([x, 1.0 - fnp.sum(x, axis=0, keepdims=True)], axis=0)
        a = fnp.reshape(alpha, (k,) + (1,) * (x.ndim - 1))
        inside = fnp.logical_and(
            fnp.all(fnp.logical_and(x >= 0.0, x <= 1.0), axis=0),
            fnp.abs(fnp.sum(x, axis=0) - 1.0) <= 1e-9)
        log_b = fnp.subtract(fnp.sum(_special.gammaln(alpha)),
                             _special.gammaln(fnp.sum(alpha)))
        out = fnp.subtract(fnp.sum(_special._xlogy_weak(a - 1.0, x), axis=0), log_b)
        out = fnp.where(inside, out, -math.inf)
        return fnp.where(fnp.all(alpha > 0.0), out, math.nan)

    def logpdf(self, x, alpha):
        """The log of the Dirichlet density at ``x`` (its first axis holds the ``k``
        components, or ``k - 1`` of them), ``sum((alpha - 1) log x) - log B(alpha)``, with
        the shape of ``x`` less its first axis, as SciPy's. Differences: where SciPy raises
        ValueError for data (a point off the simplex: a component outside [0, 1] or a sum
        more than 1e-9 from 1; ``alpha <= 0``), the result is -inf (off the simplex) or nan
        (``alpha``), and a component 0 with its ``alpha < 1`` gives ``inf``; the shapes'
        errors are ValueErrors as SciPy's. Differentiable in ``x`` and ``alpha``."""
        return self._logpdf(x, alpha, "dirichlet.logpdf")

    def pdf(self, x, alpha):
        """The Dirichlet density at ``x``: ``exp(logpdf(x, alpha))`` (see
        :meth:`logpdf`)."""
        return fnp.exp(self._logpdf(x, alpha, "dirichlet.pdf"))


dirichlet = _Dirichlet()


# -- rankdata, mode, sem ---------------------------------------------------------------------------


def _one_array(a, name):
    (a,) = _convs((a,))
    if _dtype(a).kind == "c":
        raise TypeError(f"{name}: complex input is not supported (real only)")
    return a


def _nan_policy(nan_policy, name):
    if nan_policy == "raise":
        raise NotImplementedError(f"{name}: nan_policy='raise' is not supported (it would "
                                  f"read the data); use 'propagate' or 'omit'")
    if nan_policy not in ("propagate", "omit"):
        raise ValueError(f"{name}: nan_policy must be one of 'propagate', 'raise', 'omit' "
                         f"(got {nan_policy!r})")


def _runs(s):
    """For ``s`` sorted along its last axis, with ``obs`` marking where a run of equal
    values starts: each position's run as ``(start, stop)`` (stop exclusive) and its
    0-based run number, without data-dependent shapes (the run starts, sorted to the front
    of an array of length ``n + 1``, are looked up by run number)."""
    s, obs = s
    n = s.shape[-1]
    batch = tuple(s.shape[:-1])
    idx = fnp.broadcast_to(fnp.arange(n, dtype=fnp.int64, device=s.device), s.shape)
    starts = fnp.sort(fnp.where(obs, idx, n), axis=-1)
    starts = fnp.concat([starts, fnp.full(batch + (1,), n, dtype=fnp.int64,
                                          device=s.device)], axis=-1)
    run = fnp.cumulative_sum(fnp.astype(obs, fnp.int64), axis=-1) - 1
    return (fnp.take_along_axis(starts, run, axis=-1),
            fnp.take_along_axis(starts, run + 1, axis=-1), run)


def _run_starts(s, nan_equal):
    """Where a run of equal values starts along the last axis of the sorted ``s`` (nan
    equal to nan where ``nan_equal``)."""
    batch = tuple(s.shape[:-1])
    diff = fnp.not_equal(s[..., 1:], s[..., :-1])
    if nan_equal and _dtype(s).kind == "f":
        isn = fnp.isnan(s)
        diff = fnp.logical_and(diff, fnp.logical_not(
            fnp.logical_and(isn[..., 1:], isn[..., :-1])))
    first = fnp.ones(batch + (1,), dtype=fnp.bool, device=s.device)
    return fnp.concat([first, diff], axis=-1)


def rankdata(a, method="average", *, axis=None, nan_policy="propagate"):
    """The ranks (from 1) of the data ``a``, ties given the same rank, as
    ``scipy.stats.rankdata``: ``method`` 'average' (the mean of the tied positions),
    'min', 'max', 'dense' (consecutive ranks for the distinct values) or 'ordinal' (the
    order of appearance); along ``axis`` (None: of the flattened data); with
    ``nan_policy`` 'propagate' (every rank nan along a slice holding a nan) or 'omit' (nan
    for the nans, the others ranked without them).

    Differences: the result is float64 for floating input whatever the method (SciPy's is
    int64 for the other methods than 'average' unless a nan shows: a dtype chosen by the
    data), int64 for integer and boolean input except 'average', as SciPy's;
    ``nan_policy='raise'`` is refused (NotImplementedError). No derivative: the ranks are
    piecewise constant."""
    name = "rankdata"
    if method not in ("average", "min", "max", "dense", "ordinal"):
        raise ValueError(f'{name}: unknown method "{method}" (one of average, min, max, '
                         f'dense, ordinal)')
    _nan_policy(nan_policy, name)
    a = _one_array(a, name)
    a = fnp.stop_gradient(a)
    floating = _dtype(a).kind == "f"
    if axis is None:
        a = fnp.reshape(a, (-1,))
        axis = 0
    from ..numpy._base import _normalize_axis
    axis = _normalize_axis(axis, a.ndim)
    a = fnp.moveaxis(a, axis, -1)
    out_dtype = fnp.float64 if floating or method == "average" else fnp.int64
    if a.shape[-1] == 0:
        return fnp.moveaxis(fnp.zeros(a.shape, dtype=out_dtype, device=a.device), -1, axis)
    sorter = fnp.argsort(a, axis=-1, stable=True)
    inv = fnp.argsort(sorter, axis=-1, stable=True)
    if method == "ordinal":
        ranks = fnp.astype(inv, fnp.int64) + 1
    else:
        s = fnp.take_along_axis(a, sorter, axis=-1)
        obs = _run_starts(s, nan_equal=False)  # (each nan a run of its own, ranked last)
        lo, hi, run = _runs((s, obs))
        if method == "dense":
            by_sorted = run + 1
        elif method == "min":
            by_sorted = lo + 1
        elif method == "max":
            by_sorted = hi
        else:
            by_sorted = fnp.astype(lo + 1 + hi, fnp.float64) * 0.5
        ranks = fnp.take_along_axis(by_sorted, inv, axis=-1)
    ranks = fnp.astype(ranks, out_dtype)
    if floating:
        isn = fnp.isnan(a)
        if nan_policy == "propagate":
            isn = fnp.any(isn, axis=-1, keepdims=True)
        ranks = fnp.where(isn, math.nan, ranks)
    return fnp.moveaxis(ranks, -1, axis)


def _keep_axis(out, shape, axis, keepdims):
    """A reduction's result with SciPy's ``keepdims`` (axis None: every axis kept, of
    length 1)."""
    if not keepdims:
        return out
    if axis is None:
        return fnp.reshape(out, (1,) * len(shape))
    return fnp.expand_dims(out, axis=axis)


_ModeResult = __import__("collections").namedtuple("ModeResult", ["mode", "count"])


def mode(a, axis=0, nan_policy="propagate", keepdims=False):
    """The most frequent value along ``axis`` (the smallest of the most frequent ones) and
    its count, as ``scipy.stats.mode``: a named tuple ``ModeResult(mode, count)``, the mode
    of ``a``'s dtype and the count int64; ``axis=None``: of the flattened data. Nans count
    as one value ('propagate', as SciPy's: the mode is nan where nan is the most frequent)
    or are left out ('omit': where a slice is all nan, mode nan and count 0).

    Differences: ``nan_policy='raise'`` is refused (NotImplementedError); an empty slice
    gives mode nan (0 for integer input) and count 0 (SciPy warns and gives nan, count 0).
    The mode is differentiable in ``a`` (the derivative goes to the first element of the
    sorted run that is chosen); the count has none."""
    name = "mode"
    _nan_policy(nan_policy, name)
    a = _one_array(a, name)
    shape = tuple(a.shape)
    if axis is None:
        a = fnp.reshape(a, (-1,))
        ax = 0
    else:
        from ..numpy._base import _normalize_axis
        ax = _normalize_axis(axis, a.ndim) if a.ndim else 0
        if a.ndim == 0:
            a = fnp.reshape(a, (1,))
    m = fnp.moveaxis(a, ax, -1)
    if m.shape[-1] == 0:
        fill = math.nan if _dtype(m).kind == "f" else 0
        mo = fnp.full(m.shape[:-1], fill, dtype=m.dtype, device=m.device)
        cnt = fnp.zeros(m.shape[:-1], dtype=fnp.int64, device=m.device)
    else:
        s = fnp.sort(m, axis=-1)
        obs = _run_starts(s, nan_equal=True)
        lo, hi, _ = _runs((fnp.stop_gradient(s), obs))
        count = hi - lo
        if nan_policy == "omit" and _dtype(s).kind == "f":
            count = fnp.where(fnp.isnan(s), 0, count)
        best = fnp.argmax(count, axis=-1, keepdims=True)  # (the first: the smallest value)
        mo = fnp.take_along_axis(s, best, axis=-1)[..., 0]
        cnt = fnp.take_along_axis(count, best, axis=-1)[..., 0]
    keep_axis = None if axis is None else ax
    if keepdims and axis is not None and len(shape) == 0:
        keep_axis = None
    return _ModeResult(_keep_axis(mo, shape, keep_axis, keepdims),
                       _keep_axis(cnt, shape, keep_axis, keepdims))


def sem(a, axis=0, ddof=1, nan_policy="propagate", *, keepdims=False):
    """The standard error of the mean along ``axis`` (None: of the flattened data),
    ``std(a, ddof) / sqrt(n)``, as ``scipy.stats.sem`` (integer input promoted to float64,
    float32 kept); with ``nan_policy='omit'`` the nans are left out (``n`` counts the
    others). ``nan_policy='raise'`` is refused (NotImplementedError). Differentiable in
    ``a``."""
    name = "sem"
    _nan_policy(nan_policy, name)
    a = _one_array(a, name)
    if _dtype(a).kind != "f":
        a = _st.convert_element_type(a, _dt.float64)
    shape = tuple(a.shape)
    if axis is None:
        a = fnp.reshape(a, (-1,))
        ax = 0
    else:
        from ..numpy._base import _normalize_axis
        ax = _normalize_axis(axis, a.ndim)
    # SciPy's: nan for fewer than two values (after the nans are left out), and the sum of
    # squares over max(n - ddof, 0) (inf for n <= ddof; nanstd gave nan there)
    if nan_policy == "omit":
        isn = fnp.isnan(a)
        cnt = fnp.sum(fnp.astype(fnp.logical_not(isn), a.dtype), axis=ax, keepdims=True)
        az = fnp.where(isn, 0.0, a)  # (the nans' derivative 0, not nan)
        dev = fnp.where(isn, 0.0, fnp.subtract(az, fnp.divide(
            fnp.sum(az, axis=ax, keepdims=True), fnp.maximum(cnt, 1.0))))
        ss = fnp.sum(fnp.multiply(dev, dev), axis=ax)
        cnt = fnp.squeeze(cnt, axis=ax)
        few = cnt <= 1.0
        # (stand-ins where fewer than two: no nan in the derivative from the unused branch)
        ss, cnt = fnp.where(few, 1.0, ss), fnp.where(few, 2.0, cnt)
        out = fnp.sqrt(fnp.divide(fnp.divide(ss, fnp.maximum(fnp.subtract(cnt, ddof), 0.0)),
                                  cnt))
        out = fnp.where(few, math.nan, out)
    else:
        out = fnp.std(a, axis=ax, correction=ddof) / math.sqrt(max(a.shape[ax], 1))
        if a.shape[ax] <= 1:
            out = fnp.full_like(out, math.nan)
    return _keep_axis(out, shape, None if axis is None else ax, keepdims)


# -- gaussian_kde -----------------------------------------------------------------------------------


class gaussian_kde:
    """A kernel density estimate with Gaussian kernels, as ``scipy.stats.gaussian_kde``:
    ``gaussian_kde(dataset, bw_method=None, weights=None)`` with ``dataset`` of shape
    ``(d, n)`` (n points in d dimensions; a 1-d array is n points in one dimension),
    ``bw_method`` 'scott' (the default), 'silverman', a scalar (a number or a 0-d array,
    which may be traced) or a callable of the estimate; ``weights`` of length n.

    The attributes of SciPy's: ``dataset``, ``d``, ``n``, ``weights`` (normalized),
    ``neff``, ``factor``, ``covariance`` (the data's weighted covariance times
    ``factor**2``), ``inv_cov``, ``cho_cov``, ``log_det``; the methods ``evaluate`` (also
    ``pdf`` and calling the estimate), ``logpdf``, ``scotts_factor``,
    ``silverman_factor``, ``covariance_factor`` and ``set_bandwidth``. Differentiable in
    the points, the dataset, the weights and a scalar bandwidth; the integrals
    ``integrate_box_1d``, ``integrate_box`` (one dimension), ``integrate_gaussian`` and
    ``integrate_kde``; ``resample(key, shape=())`` as JAX's (a :mod:`functrans.random`
    key). Differences: ``evaluate`` is ``exp(logpdf)`` (a log-sum-exp over the kernels;
    SciPy sums them directly: equal to rounding); ``integrate_box`` in more than one
    dimension and ``marginal`` are not provided. The estimate keeps the arrays of the
    dataset's library."""

    def __init__(self, dataset, bw_method=None, weights=None):
        name = "gaussian_kde"
        conv = _float64((dataset,) if weights is None else (dataset, weights), name)
        ds = conv[0]
        if ds.ndim > 2:
            raise ValueError(f"{name}: dataset must be at most two-dimensional (d, n), got "
                             f"shape {tuple(ds.shape)}")
        if ds.ndim < 2:
            ds = fnp.reshape(ds, (1, -1))
        if not math.prod(ds.shape) > 1:
            raise ValueError(f"{name}: `dataset` input should have multiple elements.")
        self.dataset = ds
        self.d, self.n = tuple(ds.shape)
        self._weights = None
        if weights is not None:
            w = conv[1]
            if w.ndim == 0:
                w = fnp.reshape(w, (1,))
            if w.ndim != 1:
                raise ValueError(f"{name}: `weights` input should be one-dimensional.")
            if w.shape[0] != self.n:
                raise ValueError(f"{name}: `weights` input should be of length n "
                                 f"({self.n}), got {w.shape[0]}")
            self._weights = fnp.divide(w, fnp.sum(w))
            self._neff = 1.0 / fnp.sum(self._weights * self._weights)
        if self.d >= self.n:
            # (n points lie in an affine subspace of n - 1 dimensions, whatever the weights)
            raise ValueError(f"{name}: more dimensions than points, or as many ({self.d} "
                             f"and {self.n}): n points lie in a subspace of n - 1 dimensions, "
                             f"so the data covariance would be singular (each column of "
                             f"dataset is a point; transpose it?)")
        self.set_bandwidth(bw_method=bw_method)

    def __repr__(self):
        return f"functrans.scipy.stats.gaussian_kde(d={self.d}, n={self.n})"

    @property
    def weights(self):
        """The points' weights, normalized to sum to 1 (``1/n`` each by default)."""
        if self._weights is None:
            return fnp.full((self.n,), 1.0 / self.n, dtype=fnp.float64,
                            device=self.dataset.device)
        return self._weights

    @property
    def neff(self):
        """The effective number of points, ``1 / sum(weights**2)`` (``n`` unweighted)."""
        return self.n if self._weights is None else self._neff

    def scotts_factor(self):
        """Scott's bandwidth factor, ``neff**(-1 / (d + 4))``."""
        return fnp.pow(self.neff, -1.0 / (self.d + 4)) if self._weights is not None \
            else self.n ** (-1.0 / (self.d + 4))

    def silverman_factor(self):
        """Silverman's bandwidth factor, ``(neff (d + 2) / 4)**(-1 / (d + 4))``."""
        if self._weights is None:
            return (self.n * (self.d + 2.0) / 4.0) ** (-1.0 / (self.d + 4))
        return fnp.pow(self.neff * ((self.d + 2.0) / 4.0), -1.0 / (self.d + 4))

    covariance_factor = scotts_factor

    def set_bandwidth(self, bw_method=None):
        """Set the bandwidth factor: None keeps the current rule (Scott's at first),
        'scott', 'silverman', a scalar (a Python number or a 0-d array) or a callable
        taking the estimate; then recompute the covariance."""
        if bw_method is None:
            pass
        elif isinstance(bw_method, str):
            if bw_method == "scott":
                self.covariance_factor = self.scotts_factor
            elif bw_method == "silverman":
                self.covariance_factor = self.silverman_factor
            else:
                raise ValueError("gaussian_kde: `bw_method` should be 'scott', 'silverman', "
                                 f"a scalar or a callable (got {bw_method!r})")
        elif isinstance(bw_method, (int, float)) and not isinstance(bw_method, bool) or (
                getattr(bw_method, "ndim", None) == 0 and hasattr(bw_method, "shape")):
            self._bw_method = "use constant"
            self.covariance_factor = lambda: bw_method
        elif callable(bw_method):
            self._bw_method = bw_method
            self.covariance_factor = lambda: self._bw_method(self)
        else:
            raise ValueError("gaussian_kde: `bw_method` should be 'scott', 'silverman', a "
                             f"scalar or a callable (got {type(bw_method).__name__})")
        self._compute_covariance()

    def _compute_covariance(self):
        self.factor = self.covariance_factor()
        w = self.weights
        mean = fnp.sum(fnp.multiply(self.dataset, w), axis=1, keepdims=True)
        dev = fnp.subtract(self.dataset, mean)
        # (NumPy's cov with aweights, unbiased: divided by 1 - sum(w**2))
        data_cov = fnp.divide(fnp.matmul(fnp.multiply(dev, w), fnp.matrix_transpose(dev)),
                              1.0 - fnp.sum(fnp.multiply(w, w)))
        self._data_covariance = data_cov
        self.covariance = fnp.multiply(data_cov, fnp.multiply(self.factor, self.factor))
        self.cho_cov = fnp.linalg.cholesky(self.covariance)
        self.log_det = 2.0 * fnp.sum(fnp.log(fnp.linalg.diagonal(self.cho_cov))) \
            + self.d * _LOG_2PI

    @property
    def inv_cov(self):
        """The inverse of ``covariance``."""
        return fnp.linalg.inv(self.covariance)

    def _points(self, points, name):
        (pts,) = _float64(_convs((self.dataset, points))[1:], name)
        if pts.ndim > 2:
            raise ValueError(f"{name}: points must be at most two-dimensional (d, m), got "
                             f"shape {tuple(pts.shape)}")
        if pts.ndim < 2:
            pts = fnp.reshape(pts, (1, -1))
        d, m = tuple(pts.shape)
        if d != self.d:
            if d == 1 and m == self.d:
                pts = fnp.reshape(pts, (self.d, 1))
            else:
                raise ValueError(f"{name}: points have dimension {d}, dataset has "
                                 f"dimension {self.d}")
        return pts

    def logpdf(self, x):
        """The log of the estimated density at the points ``x`` (shape ``(d, m)``; a 1-d
        array is m points in one dimension, or one point of a d-dimensional estimate):
        a log-sum-exp over the kernels, accurate far from the data. Shape ``(m,)``."""
        pts = self._points(x, "gaussian_kde.logpdf")
        low = self.cho_cov
        zd = _linalg.solve_triangular(low, self.dataset, lower=True)
        zp = _linalg.solve_triangular(low, pts, lower=True)
        diff = fnp.subtract(fnp.expand_dims(zp, axis=2), fnp.expand_dims(zd, axis=1))
        d2 = fnp.sum(diff * diff, axis=0)
        w = fnp.expand_dims(self.weights, axis=0)
        return fnp.subtract(_special.logsumexp(-0.5 * d2, axis=1, b=w), 0.5 * self.log_det)

    def evaluate(self, points):
        """The estimated density at ``points`` (see :meth:`logpdf`): shape ``(m,)``."""
        return fnp.exp(self.logpdf(points))

    __call__ = evaluate

    def pdf(self, x):
        """The estimated density at ``x``: :meth:`evaluate`."""
        return self.evaluate(x)

    def resample(self, key, shape=()):
        """Draws from the estimate, as ``jax.scipy.stats.gaussian_kde.resample``: ``key`` a
        :mod:`functrans.random` key, ``shape`` the batch shape; the result has shape ``(d,)
        + shape``: points of the dataset chosen by the weights plus normal noise of
        covariance ``covariance``. Differs from SciPy's ``resample(size=None, seed=None)``
        (NumPy's generators); differentiable in the dataset and the bandwidth (the noise
        is ``cholesky(covariance) @ z``), not in the weights (a discrete choice)."""
        from .. import random as _random
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        keys = _random.split(key)
        k_ind, k_eps = keys[0, ...], keys[1, ...]
        ind = _random.choice(k_ind, self.n, shape=shape, p=fnp.stop_gradient(self.weights))
        zero = fnp.zeros((self.d,), dtype=fnp.float64, device=self.dataset.device)
        eps = _random.multivariate_normal(k_eps, zero, self.covariance, shape=shape)
        picked = fnp.take(self.dataset, fnp.reshape(ind, (-1,)), axis=1)
        picked = fnp.reshape(picked, (self.d,) + shape)
        return fnp.add(picked, fnp.moveaxis(eps, -1, 0))

    def _vector(self, v, name, what):
        (v,) = _float64(_convs((self.dataset, v))[1:], name)
        v = fnp.reshape(v, (-1,))
        if v.shape[0] != self.d:
            raise ValueError(f"{name}: {what} does not have dimension {self.d}")
        return v

    def integrate_box_1d(self, low, high):
        """The estimate's probability of ``[low, high]`` (one dimension only, scalar
        limits): ``sum_i w_i (ndtr((high - x_i) / s) - ndtr((low - x_i) / s))``, each
        difference taken in the tail that keeps its digits. Differentiable in the limits,
        the dataset, the weights and the bandwidth."""
        name = "gaussian_kde.integrate_box_1d"
        if self.d != 1:
            raise ValueError(f"{name}: only one-dimensional estimates (d = {self.d})")
        lo, hi = _float64(_convs((self.dataset, low, high))[1:], name)
        if lo.ndim or hi.ndim:
            raise ValueError(f"{name}: the limits of integration must be scalars")
        return self._box_1d(lo, hi)

    def _box_1d(self, lo, hi):
        sd = fnp.sqrt(fnp.reshape(self.covariance, ()))
        x = self.dataset[0, ...]
        u = fnp.divide(fnp.subtract(lo, x), sd)
        v = fnp.divide(fnp.subtract(hi, x), sd)
        upper = u > 0.0
        mass = fnp.where(upper, fnp.subtract(_special.ndtr(-u), _special.ndtr(-v)),
                         fnp.subtract(_special.ndtr(v), _special.ndtr(u)))
        return fnp.sum(fnp.multiply(self.weights, mass))

    def integrate_box(self, low_bounds, high_bounds, maxpts=None, *, rng=None):
        """The estimate's probability of the box ``[low_bounds, high_bounds]``: in one
        dimension :meth:`integrate_box_1d` (exact, where SciPy's quasi-Monte Carlo
        integration is within about 1e-5); ``maxpts`` and ``rng`` are accepted and unused.
        More dimensions raise NotImplementedError (SciPy integrates the multivariate normal
        numerically there)."""
        name = "gaussian_kde.integrate_box"
        if self.d != 1:
            raise NotImplementedError(f"{name}: only one-dimensional estimates are "
                                      f"supported (d = {self.d})")
        lo = self._vector(low_bounds, name, "low_bounds")
        hi = self._vector(high_bounds, name, "high_bounds")
        return self._box_1d(lo[0], hi[0])

    def _log_gauss_sum(self, diff, cov, wa, wb=None):
        """``log sum w_i (v_j) N(diff_ij; 0, cov)`` over the columns of ``diff`` (d, ...)."""
        low = fnp.linalg.cholesky(cov)
        shape = tuple(diff.shape[1:])
        z = _linalg.solve_triangular(low, fnp.reshape(diff, (self.d, -1)), lower=True)
        maha = fnp.reshape(fnp.sum(z * z, axis=0), shape)
        logdet = 2.0 * fnp.sum(fnp.log(fnp.linalg.diagonal(low)))
        logw = fnp.log(wa) if wb is None else fnp.add(
            fnp.expand_dims(fnp.log(wa), axis=1), fnp.expand_dims(fnp.log(wb), axis=0))
        terms = fnp.add(logw, -0.5 * maha)
        return fnp.subtract(_special.logsumexp(terms),
                            0.5 * (logdet + self.d * _LOG_2PI))

    def integrate_gaussian(self, mean, cov):
        """The integral of the estimate times the normal density of mean ``mean`` (length
        d) and covariance ``cov`` (d, d): ``sum_i w_i N(mean; x_i, covariance + cov)``
        (through a Cholesky factor, a log-sum-exp over the points). Differentiable in
        ``mean``, ``cov``, the dataset, the weights and the bandwidth."""
        name = "gaussian_kde.integrate_gaussian"
        mean = self._vector(mean, name, "mean")
        (cov,) = _float64(_convs((self.dataset, cov))[1:], name)
        if cov.ndim < 2:
            cov = fnp.reshape(cov, (1, -1) if cov.ndim else (1, 1))
        if tuple(cov.shape) != (self.d, self.d):
            raise ValueError(f"{name}: covariance does not have dimension {self.d}")
        diff = fnp.subtract(self.dataset, fnp.expand_dims(mean, axis=1))
        return fnp.exp(self._log_gauss_sum(diff, fnp.add(self.covariance, cov), self.weights))

    def integrate_kde(self, other):
        """The integral of the product of this estimate and ``other`` (a
        :class:`gaussian_kde` of the same dimension): ``sum_ij w_i v_j N(x_i - y_j; 0,
        covariance + other.covariance)``. Differentiable in both estimates."""
        name = "gaussian_kde.integrate_kde"
        if not isinstance(other, gaussian_kde):
            raise TypeError(f"{name}: other must be a gaussian_kde")
        if other.d != self.d:
            raise ValueError(f"{name}: KDEs are not the same dimensionality")
        diff = fnp.subtract(fnp.expand_dims(self.dataset, axis=2),
                            fnp.expand_dims(other.dataset, axis=1))
        return fnp.exp(self._log_gauss_sum(diff, fnp.add(self.covariance, other.covariance),
                                           self.weights, other.weights))


# -- ``import functrans.scipy.stats.norm`` -------------------------------------------------------
#
# jax.scipy.stats has a module per distribution (``import jax.scipy.stats.norm as norm``);
# here each distribution is an object of this module. A module of the same name in
# sys.modules, holding the object's public methods, makes both import forms work (as
# ``functrans.nn.initializers`` does); ``functrans.scipy.stats.norm`` stays the object.


def _register_distribution_modules():
    import sys
    import types
    from importlib.machinery import ModuleSpec

    functions = {"rankdata", "mode", "sem", "gaussian_kde"}
    for name in __all__:
        if name in functions:
            continue
        dist = globals()[name]
        cls = type(dist)
        for attr in dir(cls):
            fn = getattr(cls, attr)
            if not attr.startswith("_") and callable(fn) \
                    and not getattr(fn, "__wrapped_dtype__", False):
                setattr(cls, attr, _keeping_dtype(fn))
        full = f"{__name__}.{name}"
        module = types.ModuleType(full, type(dist).__doc__)
        module.__spec__ = ModuleSpec(full, None)
        for attr in dir(dist):
            if not attr.startswith("_"):
                setattr(module, attr, getattr(dist, attr))
        sys.modules.setdefault(full, module)


_register_distribution_modules()
