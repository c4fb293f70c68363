"""Extras written once on top of the Array API standard.

A backend whose library has no faster version of an extra gets these (``Backend.extra``
binds the backend as the first argument). They use only functions of the standard, so they
run on array-api-strict, on any third-party backend, and on the device of their inputs.

- ``scatter_add``: sort the indices, sum each run of equal indices with a segmented scan
  (``log2(k)`` vectorised rounds of shifted adds, so sums never mix two indices and no large
  prefix sum is subtracted), then place each run's sum with ``searchsorted`` + ``take``.
  O(k log k) work and O(n + k) memory for ``k`` indices into an axis of length ``n``.
- ``erf``, ``erfc``: a positive-term series for ``|x| < 1.5`` and the continued fraction of
  ``erfc`` beyond it; ``lgamma``: Lanczos' approximation (g = 7, 9 terms) with the reflection
  formula below 1/2 (``sin(pi x)`` at the exact ``x - round(x)``) and ``-log|x|`` for
  ``|x| < 1e-8``; ``digamma``: recurrence up to 10 and the asymptotic series, reflection
  below 1/2 (likewise reduced). In float64 each is accurate to about 1e-14 (relative, or absolute near a zero
  of the function; less close to the poles of lgamma and digamma); the tests compare them
  with SciPy.
- ``erfinv``, ``ndtri``: Winitzki's closed-form approximation, then Halley steps on erf
  (or on log erfc where the argument is close to +-1, so the tails keep their precision
  down to the subnormals).
- ``polygamma(n, x)``: the Hurwitz zeta function, summed directly up to 12 + 2n and by
  Euler-Maclaurin beyond; x > -10, and by reflection (cot's n-th derivative) below.
- ``gammainc``, ``gammaincc``: the power series of the lower function for ``x < a + 1`` and
  Legendre's continued fraction (modified Lentz) of the upper one beyond, each giving the
  other as its complement where that one is not small; ``betainc``: the continued fraction
  of the incomplete beta function (modified Lentz) on the side of ``x < (a + 1) / (a + b +
  2)``, by the symmetry ``I_x(a, b) = 1 - I_(1-x)(b, a)`` on the other. Each iterates until
  every element has converged (checked every few steps, at most ``_INCOMPLETE_MAX_STEPS``;
  ``_GAMMA_MAX_STEPS`` for gamma; an element still unconverged gives nan rather than a
  truncated value). Where a > 50 and |x/a - 1| <= 0.3 (there the series and
  the fraction need about 8 sqrt(a) steps) the gamma functions come from Temme's uniform
  asymptotic expansion instead, at any a (checked to 1e12, about 1e-13 relative against
  30-digit series),
  and the prefactor ``x^a e^-x / Gamma(a)`` is taken in logarithms: about 1e-14 relative
  for moderate parameters, losing about ``eps * a * |log x|`` for large ones (a of 1e4:
  ~1e-11). The beta function's prefactor ``x^a (1-x)^b / (a B(a, b))`` is taken in the
  deviance form with Stirling's corrections (terms of its own size at any shapes); where a
  shape is large beside a moderate one (after the symmetry) ``betainc`` is a short series
  of incomplete gamma functions, where both are 2000 or more a Gauss-Legendre quadrature of
  the density, and where the other side's shape is 1 or less ``1 - I`` comes from the power
  series (no cancellation): about 1e-14 relative, or the conditioning ``x I'/I`` times eps
  (the rounding of x) where that is larger, from shapes of 1e-8 to 1e300; every value in
  [0, 1]. Invalid or edge arguments are left to the namespace (functrans.scipy.special).
- ``gammaincinv``, ``gammainccinv``, ``betaincinv``: Halley steps on ``log x`` (on ``x``
  for the upper tail of the gamma function), kept in a bracket that each step narrows,
  matching the logarithm of the smaller of the two complementary functions (computed in
  logarithms, so no tail underflows; an element whose iteration does not converge, its
  function being nan, gives nan), from the classical starting approximations
  (Wilson-Hilferty, power laws of the ends, a normal approximation of the beta quantile).
  Computed in float64 whatever the dtype; each element stops when its step is below 1e-10
  (the error is then about its square), the loop when all have stopped. The accuracy is
  that of the forward functions divided by the conditioning (``x P'(x) / P``): about 1e-13
  relative for moderate shapes, less for shapes below 1e-2.
"""

from __future__ import annotations

import math

from . import incomplete_grads as _incomplete_grads
from .exact_square import exp_c_square
from .incomplete_grads import _any_true, _none_needs


def _where_refused_complex(xp, fn, refusals, rule):
    """``fn(x, y)``, or, where the library refuses complex operands (raising one of
    ``refusals``), ``rule(x, y)`` on them with a Python number made an array of the other
    operand's dtype and device."""
    def impl(x, y):
        try:
            return fn(x, y)
        except refusals:
            arr = x if hasattr(x, "dtype") else y
            if not xp.isdtype(arr.dtype, "complex floating"):
                raise
        x, y = (v if hasattr(v, "dtype") else xp.asarray(v, dtype=arr.dtype,
                                                          device=arr.device) for v in (x, y))
        return rule(x, y)
    return impl


def complex_extreme(xp, name, refusals):
    """``xp.maximum`` or ``xp.minimum`` (``name``), with NumPy's rule for complex numbers
    where the library refuses them (raising one of ``refusals``): ordered lexicographically
    (real part, then imaginary part; a tie gives the first operand), a NaN in either part of
    either operand giving that operand (the first if both have one)."""
    greater = name == "maximum"

    def rule(x, y):
        xr, yr, xi, yi = xp.real(x), xp.real(y), xp.imag(x), xp.imag(y)
        beats = (xr > yr) if greater else (xr < yr)
        beats_im = (xi >= yi) if greater else (xi <= yi)
        x_wins = beats | ((xr == yr) & beats_im)
        x_nan, y_nan = xp.isnan(x), xp.isnan(y)
        return xp.where(x_nan | (~y_nan & x_wins), x, y)
    return _where_refused_complex(xp, getattr(xp, name), refusals, rule)


def shift_past_negative_amounts(xp, name, refusals):
    """``xp.bitwise_left_shift`` or ``bitwise_right_shift`` (``name``), where the library
    refuses a negative shift amount (raising one of ``refusals``; the standard leaves
    those undefined) giving NumPy's result for an amount outside the word, as for one of
    its width or more: 0 to the left, the sign to the right."""
    fn = getattr(xp, name)

    def impl(x, s):
        try:
            return fn(x, s)
        except refusals:
            if not (s < 0 if isinstance(s, int) else bool(xp.any(s < 0))):
                raise
        bits = xp.iinfo(x.dtype).bits
        if isinstance(s, int):
            s = bits
        else:
            s = xp.where(s < 0, xp.asarray(bits, dtype=s.dtype, device=s.device), s)
        return fn(x, s)
    return impl


def complex_comparison(xp, name, refusals):
    """``xp.less``, ``less_equal``, ``greater`` or ``greater_equal`` (``name``), with NumPy's
    rule for complex numbers where the library refuses them (raising one of ``refusals``):
    ``x < y`` where the real parts are ordered so and neither imaginary part is NaN, or the
    real parts are equal and the imaginary parts are ordered so (``<=``: likewise)."""
    swap = name.startswith("greater")
    strict = name in ("less", "greater")

    def rule(x, y):
        if swap:
            x, y = y, x
        xr, yr, xi, yi = xp.real(x), xp.real(y), xp.imag(x), xp.imag(y)
        by_real = (xr < yr) & ~xp.isnan(xi) & ~xp.isnan(yi)
        return by_real | ((xr == yr) & ((xi < yi) if strict else (xi <= yi)))
    return _where_refused_complex(xp, getattr(xp, name), refusals, rule)


def _norm_axis(axis, ndim):
    if not -ndim <= axis < ndim:
        raise ValueError(f"scatter_add: axis {axis} is out of range for an array of {ndim} "
                         f"dimensions")
    return axis % ndim


def flat_index(xp, shape, index, axis):
    """Reduce a ``scatter_add`` index to one axis: returns ``(axis, flat, merged_shape)``
    where ``flat`` is a 1-D int64 array of non-negative positions along ``axis`` of
    ``x`` reshaped to ``merged_shape`` (the indexed axes merged into one), and the values
    reshape to ``merged_shape[:axis] + (flat.shape[0],) + merged_shape[axis + 1:]``."""
    parts = tuple(index) if isinstance(index, (tuple, list)) else (index,)
    k = len(parts)
    axis = _norm_axis(axis, len(shape))
    if axis + k > len(shape):
        raise ValueError(f"scatter_add: {k} index arrays from axis {axis} for an array of "
                         f"shape {shape}")
    dims = shape[axis:axis + k]
    flat = None
    for i, n in zip(parts, dims):
        i = xp.astype(xp.reshape(i, (-1,)), xp.int64)
        i = xp.where(i < 0, i + n, i)
        flat = i if flat is None else flat * n + i
    merged = shape[:axis] + (math.prod(dims),) + shape[axis + k:]
    return axis, flat, merged


def scatter_add(backend, x, index, values, /, *, axis=0):
    """See :data:`functrans.backends.EXTRAS` for the contract."""
    xp = backend.xp
    shape = tuple(x.shape)
    axis, idx, merged = flat_index(xp, shape, index, axis)
    n = merged[axis]
    pre, post = merged[:axis], merged[axis + 1:]
    k = idx.shape[0]
    m = math.prod(pre) * math.prod(post)
    if k == 0 or m == 0:
        return xp.asarray(x, copy=True)
    dev = backend.device(x)
    # values -> (k, m) with the scattered axis first.
    v = xp.reshape(values, pre + (k,) + post)
    perm = (axis,) + tuple(i for i in range(len(merged)) if i != axis)
    v = xp.reshape(xp.permute_dims(v, perm), (k, m))
    order = xp.argsort(idx, stable=True)
    sidx = xp.take(idx, order)
    v = xp.take(v, order, axis=0)
    # Segmented inclusive scan: afterwards row i holds the sum of the rows of its run of
    # equal indices up to i; the last row of each run holds the run's sum.
    d = 1
    while d < k:
        same = xp.reshape(sidx[d:] == sidx[:-d], (k - d, 1))
        head = v[:-d, ...]
        v = xp.concat([v[:d, ...], v[d:, ...] + xp.where(same, head, xp.zeros_like(head))],
                      axis=0)
        d *= 2
    pos = xp.arange(n, dtype=xp.int64, device=dev)
    lo = xp.searchsorted(sidx, pos, side="left")
    hi = xp.searchsorted(sidx, pos, side="right")
    last = xp.where(hi > 0, hi - 1, xp.zeros_like(hi))
    total = xp.take(v, last, axis=0)  # (n, m)
    total = xp.where(xp.reshape(hi > lo, (n, 1)), total, xp.zeros_like(total))
    total = xp.reshape(total, (n,) + pre + post)
    inv = [0] * len(merged)
    for i, p in enumerate(perm):
        inv[p] = i
    return x + xp.reshape(xp.permute_dims(total, tuple(inv)), shape)


# -- special functions -------------------------------------------------------------------------

_SQRT_PI = math.sqrt(math.pi)
_ERF_SPLIT = 1.5
_ERF_SERIES_TERMS = 40
_ERFC_CF_TERMS = 100


def _erf_series(xp, x, terms=_ERF_SERIES_TERMS):
    """erf(x) = 2/sqrt(pi) exp(-x^2) sum_n 2^n x^(2n+1) / (2n+1)!!  (all terms positive
    for x > 0, so no cancellation); used for |x| < 1.5."""
    x2 = x * x
    term = x
    total = x
    for n in range(terms):
        term = term * (2.0 * x2 / (2 * n + 3))
        total = total + term
    return total * (2.0 / _SQRT_PI) * xp.exp(-x2)


def _erfc_cf_denominator(x):
    """F(x) = x + (1/2) / (x + 1 / (x + (3/2) / (x + ...))), evaluated from the tail, so that
    erfc(x) = exp(-x^2) / (sqrt(pi) F(x)) for x >= 1.5."""
    f = x
    for k in range(_ERFC_CF_TERMS, 0, -1):
        f = x + (k / 2.0) / f
    return f


def _erfc_cf(xp, x, exact=False):
    """erfc(x) for x >= 1.5 by its continued fraction; exact: exp(-x^2) from the exact square
    (the rounded x^2 costs eps x^2 / 2 relative: 500 ulp near 26; float64 only)."""
    e = exp_c_square(xp, x, -1.0) if exact else xp.exp(-x * x)
    return e / (_SQRT_PI * _erfc_cf_denominator(x))


_ERFC_BAND = 0.5        # erfc from here to _ERF_SPLIT: erfcx's Taylor polynomials
_ERFC_SERIES_TERMS = 16  # (below _ERFC_BAND: the last term below 1e-19 of the first)


def _erf_parts(backend, x):
    """The mask ``|x| < 0.5``, erf's series there, and erfc(|x|) elsewhere: ``erfcx(|x|)
    exp(-x^2)`` on [0.5, 1.5) with erfcx's Taylor polynomials (1 - erf of the series cancelled
    there: erfc 121 ulp near 1.4 before session 43, within 3 now; erf 8 ulp, now 1), the
    continued fraction beyond; ``exp(-x^2)`` with ``x^2`` exact in float64 (the relative
    accuracy of erfc's tail is erfc's own, not erf's)."""
    from ..primitives.special import erfcx_band   # (the primitives import the backends)
    xp = backend.xp
    exact = backend.dtype(x).name == "float64"
    ax = xp.abs(x)
    small = ax < _ERFC_BAND
    mid = (ax >= _ERFC_BAND) & (ax < _ERF_SPLIT)
    series = _erf_series(xp, xp.where(small, x, xp.zeros_like(x)), _ERFC_SERIES_TERMS)
    tail = _erfc_cf(xp, xp.where(ax < _ERF_SPLIT, xp.full_like(x, _ERF_SPLIT), ax), exact)
    xm = xp.where(mid, ax, xp.full_like(x, _ERFC_BAND))
    e = exp_c_square(xp, xm, -1.0) if exact else xp.exp(-(xm * xm))
    return xp, small, series, xp.where(mid, erfcx_band(xp, xm) * e, tail)


def erf(backend, x, /):
    xp, small, series, pos = _erf_parts(backend, x)
    big = 1.0 - pos
    return xp.where(small, series, xp.where(x < 0, -big, big))


def erfc(backend, x, /):
    xp, small, series, pos = _erf_parts(backend, x)
    return xp.where(small, 1.0 - series, xp.where(x < 0, 2.0 - pos, pos))


_LANCZOS_G = 7.0
_LANCZOS = (0.99999999999980993, 676.5203681218851, -1259.1392167224028,
            771.32342877765313, -176.61502916214059, 12.507343278686905,
            -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7)
_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)
_EULER_GAMMA = 0.5772156649015329


def _sum_in_order(xp, terms):
    """The sum over the last axis, its terms added in sequence, first to last, for every
    element whatever the batch: ``xp.sum`` adds a short contiguous run pairwise and the same
    terms on a leading axis in sequence (NumPy), so an element's value depended on the batch
    by an ulp, and the pairwise order was the less accurate here (the Lanczos fractions
    alternate in sign: gammaln and beta.ppf's slopes on array-api-strict 2e-14 off)."""
    return xp.cumulative_sum(terms, axis=-1)[..., -1]


def _lgamma_right(xp, x, device):
    """log Gamma(x) for x >= 1/2 (Lanczos). The eight partial fractions are evaluated at
    once on a new last axis (a loop of them was 16 of lgamma's ~50 array operations, on
    backends where each operation's overhead dominates) and added in sequence, first to
    last, whatever the batch (:func:`_sum_in_order`)."""
    z = x - 1.0
    n = len(_LANCZOS) - 1
    shifts = xp.arange(1, n + 1, dtype=x.dtype, device=device)
    coeffs = xp.asarray(_LANCZOS[1:], dtype=x.dtype, device=device)
    a = _LANCZOS[0] + _sum_in_order(xp, coeffs / (xp.expand_dims(z, axis=-1) + shifts))
    t = z + (_LANCZOS_G + 0.5)
    return _HALF_LOG_2PI + (z + 0.5) * xp.log(t) - t + xp.log(a)


def lgamma(backend, x, /):
    xp = backend.xp
    left = x < 0.5
    big = x == math.inf
    if _none_cheaply(backend, x, left | big):
        # x >= 1/2 and finite (or nan) everywhere: the edge cases below change nothing
        out = _lgamma_right(xp, x, backend.device(x))
        return xp.where((x == 1.0) | (x == 2.0), xp.zeros_like(x), out)
    xr = xp.where(left, 1.0 - x, xp.where(big, xp.ones_like(x), x))  # >= 1/2, finite
    right = _lgamma_right(xp, xr, backend.device(x))
    # Reflection: log|Gamma(x)| = log(pi / |sin(pi x)|) - log Gamma(1 - x), with
    # |sin(pi x)| = |sin(pi d)| for d = x - round(x) (exact): pi * x itself would lose the
    # fractional part of large |x|.
    xl = xp.where(left & xp.isfinite(x), x, xp.full_like(x, 0.5))
    s = xp.abs(xp.sin(math.pi * (xl - xp.round(xl))))
    out = xp.where(left, math.log(math.pi) - xp.log(s) - right, right)
    # |x| < 1e-8: log|Gamma(x)| = -log|x| - euler_gamma x + O(x^2), without the rounding
    # of pi x (subnormal for subnormal x) in the reflection
    tiny = xp.abs(x) < 1e-8
    xt = xp.where(tiny, x, xp.ones_like(x))
    out = xp.where(tiny, -xp.log(xp.abs(xt)) - _EULER_GAMMA * xt, out)
    out = xp.where((x == 1.0) | (x == 2.0), xp.zeros_like(x), out)  # exact zeros
    pole = (x <= 0.0) & (x == xp.floor(x))
    return xp.where(big | pole, xp.full_like(x, math.inf), out)  # lgamma(inf) = inf


# Bernoulli terms B_2k / (2k) of the asymptotic series of digamma, k = 1..7.
_DIGAMMA_ASYMPTOTIC = (1 / 12, -1 / 120, 1 / 252, -1 / 240, 1 / 132, -691 / 32760, 1 / 12)


def _digamma_right(xp, x, device):
    """psi(x) for x >= 1/2: shift to y >= 10 with psi(x) = psi(x + 1) - 1/x, then
    psi(y) = log y - 1/(2y) - sum_k B_2k / (2k y^2k). The (at most ten) shifts x + k are
    taken at once on a new last axis (a loop of them was 40 array operations), added in
    sequence whatever the batch (:func:`_sum_in_order`)."""
    yk = xp.expand_dims(x, axis=-1) + xp.arange(10, dtype=x.dtype, device=device)
    low = yk < 10.0
    acc = _sum_in_order(xp, xp.where(low, 1.0 / yk, xp.zeros_like(yk)))
    y = x + xp.sum(xp.astype(low, x.dtype), axis=-1)
    inv2 = 1.0 / (y * y)
    series = xp.zeros_like(y)
    for c in reversed(_DIGAMMA_ASYMPTOTIC):
        series = (series + c) * inv2
    return xp.log(y) - 0.5 / y - series - acc


def digamma(backend, x, /):
    xp = backend.xp
    left = x < 0.5
    if _none_cheaply(backend, x, left):  # no reflection, and so no pole
        return _digamma_right(xp, x, backend.device(x))
    right = _digamma_right(xp, xp.where(left, 1.0 - x, x), backend.device(x))
    # Reflection: psi(x) = psi(1 - x) - pi / tan(pi x).
    # (tan has period pi: tan(pi x) = tan(pi d), d = x - round(x) exactly; d = x at +-0,
    # whose sign gives the sign of the infinity)
    xl = xp.where(left & xp.isfinite(x), x, xp.full_like(x, 0.25))
    d = xp.where(xl == 0.0, xl, xl - xp.round(xl))
    refl = right - math.pi / xp.tan(math.pi * d)
    out = xp.where(left, refl, right)
    # The poles at the negative integers: nan, as SciPy (at 0: -inf, and +inf at -0.0).
    pole = (x < 0.0) & (x == xp.floor(x))
    return xp.where(pole, xp.full_like(x, math.nan), out)


# -- inverses of erf: erfinv and ndtri ---------------------------------------------------------

_WINITZKI_A = 0.147
_WINITZKI_K = 2.0 / (math.pi * _WINITZKI_A)
_INVERSE_STEPS = 4


def _erf_log_erfc_nonneg(xp, y):
    """For y >= 0 (finite): erf(y), log(erfc(y)) and r = -d/dy log(erfc(y)), the last two
    without underflow however small erfc(y) is (log erfc = -y^2 - log(sqrt(pi) F(y)) and
    r = 2 F(y) on the continued fraction's side)."""
    small = y < _ERF_SPLIT
    series = _erf_series(xp, xp.where(small, y, xp.zeros_like(y)))
    yl = xp.where(small, xp.full_like(y, _ERF_SPLIT), y)
    f = _erfc_cf_denominator(yl)
    ec_small = 1.0 - series
    erf = xp.where(small, series, 1.0 - xp.exp(-yl * yl) / (_SQRT_PI * f))
    log_ec = xp.where(small, xp.log(ec_small), -yl * yl - xp.log(_SQRT_PI * f))
    r = xp.where(small, (2.0 / _SQRT_PI) * xp.exp(-y * y) / ec_small, 2.0 * f)
    return erf, log_ec, r


def _inverse_erf(xp, a, c):
    """y >= 0 with erf(y) = a, for 0 <= a < 1 given with c = 1 - a computed accurately by
    the caller (c is what carries the precision when a is close to 1).

    Winitzki's closed-form approximation (relative error ~1e-3) as the start, then Halley
    steps (the error is cubed at each): on f = erf(y) - a for a <= 1/2, where f'' = -2 y f'
    makes a step y - u / (1 + y u), u = f / f'; on h = log(erfc(y)) - log(c) for a > 1/2 (in
    logarithms, so that c down to the subnormals keeps its precision), where h' = -r and
    h'' = 2 y r - r^2 make a step y + 2 h / (2 r - h (2 y - r))."""
    lg = xp.log(c * (1.0 + a))  # log(1 - a^2)
    t = _WINITZKI_K + 0.5 * lg
    y = xp.sqrt(xp.sqrt(t * t - lg / _WINITZKI_A) - t)
    small = a <= 0.5
    log_c = xp.log(xp.where(small, xp.ones_like(c), c))
    for _ in range(_INVERSE_STEPS):
        e, log_ec, r = _erf_log_erfc_nonneg(xp, y)
        u = (e - a) / ((2.0 / _SQRT_PI) * xp.exp(-y * y))
        h = log_ec - log_c
        step_small = y - u / (1.0 + y * u)
        step_tail = y + 2.0 * h / (2.0 * r - h * (2.0 * y - r))
        y = xp.maximum(xp.where(small, step_small, step_tail), xp.zeros_like(y))
    return y


def erfinv(backend, x, /):
    """See :data:`functrans.backends.EXTRAS`: +-inf at +-1, nan outside [-1, 1]."""
    xp = backend.xp
    a = xp.abs(x)
    inside = a < 1.0
    a_in = xp.where(inside, a, xp.zeros_like(a))
    y = _inverse_erf(xp, a_in, 1.0 - a_in)
    y = xp.where(x < 0, -y, y)
    y = xp.where(a == 1.0, x * math.inf, y)
    return xp.where((a > 1.0) | (x != x), xp.full_like(x, math.nan), y)


def ndtri(backend, p, /):
    """See :data:`functrans.backends.EXTRAS`: the z with Phi(z) = p, Phi the standard normal
    CDF; -inf at 0, inf at 1, nan outside [0, 1]. z = sqrt(2) erfinv(2p - 1), with
    1 - |2p - 1| taken as 2p or 2 - 2p (exact) so that the tails keep their precision."""
    xp = backend.xp
    inside = (p > 0.0) & (p < 1.0)
    q = xp.where(inside, p, xp.full_like(p, 0.5))
    lower = q < 0.5
    two_q = 2.0 * q
    a = xp.where(lower, 1.0 - two_q, two_q - 1.0)
    c = xp.where(lower, two_q, 2.0 - two_q)
    y = _inverse_erf(xp, a, c) * math.sqrt(2.0)
    z = xp.where(lower, -y, y)
    z = xp.where(p == 0.0, xp.full_like(p, -math.inf), z)
    z = xp.where(p == 1.0, xp.full_like(p, math.inf), z)
    return xp.where((p < 0.0) | (p > 1.0) | (p != p), xp.full_like(p, math.nan), z)


# -- polygamma ---------------------------------------------------------------------------------

# Bernoulli numbers B_2 .. B_20.
_BERNOULLI = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510,
              43867 / 798, -174611 / 330)
_POLYGAMMA_REACH = 10  # extra shifts: negative x > -10 are handled too


def _zeta_tail_coefficients(s):
    """c_j = B_2j / (2j)! * s (s + 1) ... (s + 2j - 2), j = 1..10: the Euler-Maclaurin terms
    of zeta(s, y) = y^(1-s) / (s-1) + y^-s / 2 + sum_j c_j y^(-s-2j+1)."""
    out = []
    rising = float(s)  # s (s+1) ... (s + 2j - 2)
    for j, b in enumerate(_BERNOULLI, start=1):
        out.append(b / math.factorial(2 * j) * rising)
        rising *= (s + 2 * j - 1) * (s + 2 * j)
    return out


def _cot_derivative_coefficients(n):
    """Integer coefficients of P_n, with d^n/dx^n cot(pi x) = pi^n P_n(cot(pi x)):
    P_0(c) = c, P_(k+1)(c) = -(1 + c^2) P_k'(c). Index i holds the coefficient of c^i."""
    p = [0, 1]
    for _ in range(n):
        d = [i * p[i] for i in range(1, len(p))]  # P'
        q = [0] * (len(d) + 2)
        for i, v in enumerate(d):  # -(1 + c^2) P'
            q[i] -= v
            q[i + 2] -= v
        p = q
    return p


def polygamma_cot_term(xp, n, x):
    """pi^(n+1) P_n(cot(pi x)), the n-th derivative of pi cot(pi x) (n >= 1), for an array x
    of namespace xp with no integer element (elsewhere meaningless): the term of the
    reflection psi^(n)(x) = (-1)^n psi^(n)(1 - x) - pi^(n+1) P_n(cot(pi x)). cot(pi x) =
    cot(pi d) with d = x - round(x) exact, and for |d| > 1/4 cot(pi d) = sign(d) tan(pi (1/2
    - |d|)) (exactly 0 at the half-integers, where pi d would round): relative accuracy at
    any |x| (P_n's coefficients have one sign; it has powers of one parity only)."""
    d = x - xp.round(x)
    ad = xp.abs(d)
    near = ad <= 0.25
    # (one tangent, its argument in [-pi/4, pi/4]: torch's CPU tan of pi/2, the other
    # branch's at a half-integer, took ~7 us an element)
    t = xp.tan(xp.where(near, math.pi * d, math.pi * (0.5 - ad)))
    c = xp.where(near, 1.0 / xp.where(near, t, 1.0), xp.sign(d) * t)
    c2 = c * c
    poly = xp.zeros_like(x)
    for v in reversed(_cot_derivative_coefficients(n)[(n + 1) % 2::2]):
        poly = poly * c2 + float(v)
    if n % 2 == 0:
        poly = poly * c
    return poly * math.pi ** (n + 1)


def polygamma(backend, n, x, /):
    """See :data:`functrans.backends.EXTRAS`. For n >= 1:
    psi^(n)(x) = (-1)^(n+1) n! zeta(n + 1, x), with the Hurwitz zeta function summed
    directly, zeta(s, x) = sum_k<K (x + k)^-s + zeta(s, x + K), until x + K >= 12 + 2n, and
    its Euler-Maclaurin expansion there. Negative non-integer x down to -10 are covered by
    the same sum; below that the reflection formula psi^(n)(x) = (-1)^n psi^(n)(1 - x) -
    pi^(n+1) P_n(cot(pi x)) (P_n: see :func:`_cot_derivative_coefficients`). The poles
    x = 0, -1, ... (-0.0 and -inf too) give (-1)^(n+1) inf, and +inf gives (-1)^(n+1) 0, as
    SciPy."""
    xp = backend.xp
    n = int(n)
    if n < 0:
        raise ValueError(f"polygamma: n must be >= 0; got {n}")
    if n == 0:
        return digamma(backend, x)
    s = n + 1
    sign = (-1.0) ** (n + 1)
    low = 12.0 + 2.0 * n
    pole = (x <= 0.0) & (x == xp.floor(x))  # (-inf too: x == floor(x))
    far = (x < -float(_POLYGAMMA_REACH)) & ~pole
    reflect = not _none_cheaply(backend, x, far)
    pinf = x == math.inf
    y = xp.where(pinf | pole, xp.full_like(x, low), x)
    if reflect:
        y = xp.where(far, 1.0 - y, y)
    acc = xp.zeros_like(x)
    for _ in range(int(low) + _POLYGAMMA_REACH):
        shift = y < low
        acc = acc + xp.where(shift, y ** float(-s), xp.zeros_like(y))
        y = xp.where(shift, y + 1.0, y)
    w = 1.0 / (y * y)
    series = xp.zeros_like(y)
    for c in reversed(_zeta_tail_coefficients(s)):
        series = series * w + c
    # y^-s (y / (s-1) + 1/2 + series / y), with y^(1-s) factored out: y^-s underflows
    # first for large y
    tail = y ** float(1 - s) * (1.0 / float(s - 1) + (0.5 + series / y) / y)
    out = (acc + tail) * (sign * math.factorial(n))
    if reflect:
        xf = xp.where(far, x, xp.full_like(x, -10.5))
        out = xp.where(far, (-1.0) ** n * out - polygamma_cot_term(xp, n, xf), out)
    out = xp.where(pinf, xp.full_like(x, sign * 0.0), out)
    out = xp.where(pole, xp.full_like(x, sign * math.inf), out)
    return xp.where(y < low, xp.full_like(x, math.nan), out)


# -- regularized incomplete gamma and beta functions ------------------------------------------

_INCOMPLETE_MAX_STEPS = 2000
# The gamma series and fraction need about 8 sqrt(a) steps where x is close to a (Temme's
# expansion takes over there for a > 50); elements still unconverged after this many
# steps give nan rather than a truncated value.
_GAMMA_MAX_STEPS = 20000
_INCOMPLETE_CHECK = 16  # steps between the convergence checks
_TINY = 1e-300


def _none_cheaply(backend, x, cond):
    """:func:`_none_needs` (no element of ``x`` needs the branch ``cond`` marks) where the
    look waits for no device (NumPy, arrays on the CPU), else False: on a device a branch of
    a few elementwise operations (lgamma's and digamma's reflections, polygamma's) is
    computed and selected instead of a synchronisation (the same values)."""
    from ..primitives.special import _on_host
    return _on_host(x) and _none_needs(backend, x, cond)


def _needed(backend, x, *conds):
    """For each boolean array of ``conds``, whether some element of the concrete ``x`` needs
    the branch it marks (True throughout for a tracer or an array subclass, as
    :func:`_none_needs`): read in one look, where a look each is a synchronisation each on a
    device."""
    from . import _by_type
    if type(x) not in _by_type:
        return (True,) * len(conds)
    return tuple(_any_each(backend, *conds))


def _any_each(backend, *conds):
    """For each boolean array of ``conds``, whether some element is true: one read on the
    host for all of them (the extras run on concrete arrays)."""
    import numpy as np
    xp = backend.xp
    flags = np.asarray(backend.to_numpy(xp.stack([xp.any(c) for c in conds])))
    return [bool(f) for f in flags]


def _all_true(backend, cond):
    """Whether every element of the boolean array ``cond`` is true, read on the host (the
    extras run on concrete arrays; the device's copy goes through ``to_numpy``)."""
    import numpy as np
    return bool(np.all(backend.to_numpy(backend.xp.all(cond))))


def _gamma_prefactor(backend, a, x):
    """x^a e^-x / Gamma(a), in logarithms."""
    xp = backend.xp
    return xp.exp(a * xp.log(x) - x - lgamma(backend, a))


def _gamma_series(backend, a, x):
    """sum_n x^n / ((a+1) ... (a+n)) (for x < a + 1), so that P(a, x) is
    x^a e^-x / Gamma(a + 1) times it."""
    xp = backend.xp
    term = xp.ones_like(x)
    total = xp.ones_like(x)
    ap = a
    eps = 0.5 * xp.finfo(x.dtype).eps
    done = xp.zeros(x.shape, dtype=xp.bool, device=backend.device(x))
    for i in range(_GAMMA_MAX_STEPS):
        ap = ap + 1.0
        term = term * (x / ap)
        total = total + term
        if i % _INCOMPLETE_CHECK == 0:
            done = done | (xp.abs(term) <= eps * total)
            if _all_true(backend, done):
                break
    return xp.where(done, total, xp.full_like(total, math.nan))


def _gamma_cf(backend, a, x):
    """Legendre's continued fraction 1 / (x + 1 - a - 1 (1 - a) / (x + 3 - a - ...)) by the
    modified Lentz method (for x >= a + 1), so that Q(a, x) = x^a e^-x / Gamma(a) times it."""
    xp = backend.xp
    eps = 0.5 * xp.finfo(x.dtype).eps
    tiny = xp.finfo(x.dtype).smallest_normal
    b = x + 1.0 - a
    c = xp.full_like(x, 1.0 / tiny)
    d = 1.0 / b
    h = d
    done = xp.zeros(x.shape, dtype=xp.bool, device=backend.device(x))
    for i in range(1, _GAMMA_MAX_STEPS + 1):
        an = -float(i) * (float(i) - a)
        b = b + 2.0
        d = an * d + b
        d = xp.where(xp.abs(d) < tiny, xp.full_like(d, tiny), d)
        c = b + an / c
        c = xp.where(xp.abs(c) < tiny, xp.full_like(c, tiny), c)
        d = 1.0 / d
        delta = d * c
        h = h * delta
        if i % _INCOMPLETE_CHECK == 0:
            done = done | (xp.abs(delta - 1.0) <= eps)
            if _all_true(backend, done):
                break
    return xp.where(done, h, xp.full_like(h, math.nan))


def _gammainc_both(backend, a, x):
    """(P, Q) for a > 0, 0 < x < inf (other elements: any value)."""
    xp = backend.xp
    a0, x0 = a, x
    ok = (a > 0.0) & (x > 0.0) & xp.isfinite(x) & xp.isfinite(a)
    a = xp.where(ok, a, xp.ones_like(a))
    x = xp.where(ok, x, xp.ones_like(x))
    low = x < a + 1.0
    tem = _temme_region(a, x)
    # each branch sees only its own elements (others: a value where it converges at once)
    sl, su = low & ~tem, ~low & ~tem
    al, xl = xp.where(sl, a, xp.full_like(a, 1.0)), xp.where(sl, x, xp.full_like(x, 0.5))
    au, xu = xp.where(su, a, xp.full_like(a, 1.0)), xp.where(su, x, xp.full_like(x, 4.0))
    p_low = _gamma_prefactor(backend, al, xl) / al * _gamma_series(backend, al, xl)
    q_up = _gamma_prefactor(backend, au, xu) * _gamma_cf(backend, au, xu)
    # small a and x: Q directly (1 - P would lose its relative accuracy, Q being O(a))
    small = (a < 0.2) & (x < 1.1)
    q_small = _gamma_q_small(backend, xp.where(small, a, xp.full_like(a, 0.1)),
                             xp.where(small, x, xp.full_like(x, 0.5)))
    p = xp.where(low, p_low, 1.0 - q_up)
    q = xp.where(low, xp.where(small, q_small, 1.0 - p_low), q_up)
    # (P itself from the series where it applies: 1 - Q loses P's relative precision when P
    # is tiny, x far below 1; and 1 - Q where Q is below 1/2: the series' prefactor
    # x^a / Gamma(a + 1) errs a few 1e-14 at the tiniest a, P(5e-301, 5e-271) was
    # 1 - 3.5e-14, as SciPy's)
    p = xp.where(small & (~low | (q_small < 0.5)), 1.0 - q_small, p)
    if _any_true(backend, tem):
        w, t, _ = _temme_parts(backend, xp.where(tem, a, xp.full_like(a, 100.0)),
                               xp.where(tem, x, xp.full_like(x, 100.0)))
        small_side = xp.exp(-(w * w)) * t
        p = xp.where(tem, xp.where(w < 0.0, small_side, 1.0 - small_side), p)
        q = xp.where(tem, xp.where(w < 0.0, 1.0 - small_side, small_side), q)
    # x = 0 (a > 0): P = 0, Q = 1 exactly
    zero = (x0 == 0.0) & (a0 > 0.0) & xp.isfinite(a0)
    p = xp.where(zero, xp.zeros_like(p), p)
    q = xp.where(zero, xp.ones_like(q), q)
    return p, q


# -- large a: Temme's uniform asymptotic expansion ---------------------------------------------
#
# With lambda = x / a, mu = lambda - 1 and eta = sign(mu) sqrt(2 (mu - log(1 + mu))),
# Q(a, x) = erfc(eta sqrt(a/2)) / 2 + R and P(a, x) = erfc(-eta sqrt(a/2)) / 2 - R, where
# R = exp(-a eta^2 / 2) / sqrt(2 pi a) sum_k C_k(eta) a^-k (DLMF 8.12.3, 8.12.4), with
# C_0 = 1/mu - 1/eta and C_k = C_(k-1)'(eta) / eta + (-1)^k g_k / mu, g_k the coefficients
# of Stirling's series Gamma*(a) = sum_k g_k a^-k (DLMF 8.12.9, 5.11.3). The C_k are
# regular at eta = 0; their Taylor coefficients are derived below (once, on first use) from
# the series mu(eta), which solves mu mu' = eta (1 + mu), mu = eta + ... . Used where
# a > _TEMME_MIN_A and |mu| <= _TEMME_MAX_MU (there the series and the continued fraction
# need about 8 sqrt(a) steps), so that P and Q have no step limit at any a.

_TEMME_MIN_A = 50.0
_TEMME_MAX_MU = 0.3
_TEMME_K = 20  # terms in 1/a
_TEMME_N = 26  # Taylor terms of each C_k in eta (|eta| <= 0.34: radius 2 sqrt(pi))
_temme_cache = []


def _stirling_coefficients(n):
    """g_0 .. g_(n-1) of Gamma*(a) ~ sum_k g_k a^-k (exact fractions: the exponential of
    log Gamma*(a) ~ sum_m B_2m / (2m (2m - 1) a^(2m-1)))."""
    from fractions import Fraction
    # Bernoulli numbers B_0 .. B_2n (B_1 = -1/2 convention) by their recurrence
    bern = [Fraction(1)]
    for m in range(1, 2 * n + 1):
        bern.append(-sum(math.comb(m + 1, j) * bern[j] for j in range(m)) / (m + 1))
    log_series = [Fraction(0)] * n  # in powers of 1/a
    for m in range(1, n):
        if 2 * m - 1 < n:
            log_series[2 * m - 1] = bern[2 * m] / (2 * m * (2 * m - 1))
    # exp of a series without constant term: e' = l' e, order by order
    out = [Fraction(1)] + [Fraction(0)] * (n - 1)
    for k in range(1, n):
        out[k] = sum(j * log_series[j] * out[k - j] for j in range(1, k + 1)) / k
    return out


def _temme_coefficients():
    """The Taylor coefficients of C_0 .. C_(K-1) in eta (floats, K = _TEMME_K rows of
    _TEMME_N), and the Stirling coefficients g_k (floats)."""
    if _temme_cache:
        return _temme_cache[0]
    k_max, n_terms = _TEMME_K, _TEMME_N
    m_max = n_terms + 2 * k_max + 2
    # (in floats: exact fractions took seconds; the recurrences below are stable, the
    # coefficients decreasing like (2 sqrt(pi))^-n)
    # mu = sum b_m eta^m: (m + 1) b_m + sum_(i=2)^(m-1) (m + 1 - i) b_i b_(m+1-i) = b_(m-1)
    b = [0.0, 1.0]
    for m in range(2, m_max + 2):
        s = math.fsum((m + 1 - i) * b[i] * b[m + 1 - i] for i in range(2, m))
        b.append((b[m - 1] - s) / (m + 1))
    # r = eta / mu = 1 / (1 + b_2 eta + b_3 eta^2 + ...): 1/mu = sum r_n eta^(n-1)
    r = [1.0]
    for n in range(1, m_max + 1):
        r.append(-math.fsum(b[j + 1] * r[n - j] for j in range(1, n + 1)))
    g = [float(v) for v in _stirling_coefficients(k_max + 1)]
    rows = []
    c = [r[n + 1] for n in range(m_max)]  # C_0 = sum r_(n+1) eta^n
    rows.append(c)
    for k in range(1, k_max):
        sign = -1 if k % 2 else 1
        c = [(j + 2) * c[j + 2] + sign * g[k] * r[j + 1] for j in range(len(c) - 2)]
        rows.append(c)
    coeffs = tuple(tuple(row[:n_terms]) for row in rows)
    _temme_cache.append((coeffs, tuple(g)))
    return _temme_cache[0]


def _log1pmx_neg(xp, mu):
    """mu - log(1 + mu) for |mu| <= 0.3, without the cancellation of the two terms:
    mu^2 sum_(k>=0) (-mu)^k / (k + 2)."""
    total = xp.zeros_like(mu)
    for k in range(40, -1, -1):
        total = total * (-mu) + 1.0 / (k + 2)
    return mu * mu * total


def _temme_region(a, x):
    """Where Temme's expansion is used (a > _TEMME_MIN_A, |x/a - 1| <= _TEMME_MAX_MU)."""
    return (a > _TEMME_MIN_A) & (x >= (1.0 - _TEMME_MAX_MU) * a) & (x <= (1.0 + _TEMME_MAX_MU) * a)


def _temme_parts(backend, a, x):
    """(w, t, d) for the elements in Temme's region (others: any value), such that, with
    w = eta sqrt(a/2), the smaller of P and Q is exp(-w^2) t (Q for w >= 0, P for w < 0;
    ``t = erfcx(|w|)/2 +- sum_k C_k a^-k / sqrt(2 pi a)``), and
    ``d = x^a e^-x / Gamma(a) exp(w^2) = sqrt(a / 2 pi) / Gamma*(a)`` (the density x P'(x)
    over exp(-w^2))."""
    xp = backend.xp
    coeffs, g = _temme_coefficients()
    mu = (x - a) / a  # (x - a exact: x within a factor of 2 of a)
    h = _log1pmx_neg(xp, mu)
    eta = xp.sqrt(2.0 * h)
    eta = xp.where(mu < 0.0, -eta, eta)
    w = eta * xp.sqrt(0.5 * a)
    inv_a = 1.0 / a
    total = xp.zeros_like(a)
    for row in reversed(coeffs):
        ck = xp.zeros_like(eta)
        for v in reversed(row):
            ck = ck * eta + v
        total = total * inv_a + ck
    s = total / xp.sqrt(2.0 * math.pi * a)
    half = 0.5 * _special_generic.erfcx(backend, xp.abs(w))
    t = xp.where(w >= 0.0, half + s, half - s)
    gstar = xp.zeros_like(a)
    for v in reversed(g):
        gstar = gstar * inv_a + v
    d = xp.sqrt(a / (2.0 * math.pi)) / gstar
    return w, t, d


def _zeta_int(k):
    """zeta(k) for an integer k >= 2 (Python float): a direct sum to 1000 and the
    Euler-Maclaurin tail."""
    n = 1000
    head = math.fsum(j ** -float(k) for j in range(1, n))
    return head + n ** (1.0 - k) / (k - 1) + 0.5 * n ** -float(k) + k * n ** (-k - 1.0) / 12.0


# lgamma(1 + a) = -euler_gamma a + sum_k (-1)^k zeta(k) a^k / k: the coefficients, k = 2..30
_LGAMMA1P = tuple((-1.0) ** k * _zeta_int(k) / k for k in range(2, 31))


def _lgamma1p_small(xp, a):
    """log Gamma(1 + a) for |a| < 0.2 with a relative (not only absolute) accuracy."""
    total = xp.zeros_like(a)
    for c in reversed(_LGAMMA1P):
        total = (total + c) * a
    return (total - _EULER_GAMMA) * a


def _gamma_q_small(backend, a, x):
    """Q(a, x) for 0 < a < 0.2, x < 1.1 from the series of the lower function,
    gamma(a, x) = sum_n (-x)^n x^a / (n! (a + n)):
    Q = -expm1(a log x - log Gamma(a + 1)) - x^a / Gamma(a) sum_{n>=1} (-x)^n / (n! (a + n)),
    both terms O(a), so Q keeps its relative accuracy as a -> 0."""
    xp = backend.xp
    lx = xp.log(x)
    total = xp.zeros_like(x)
    power = xp.ones_like(x)
    for n in range(1, 30):
        power = power * (-x / n)
        total = total + power / (a + float(n))
    lg1p = _lgamma1p_small(xp, a)
    first = -xp.expm1(a * lx - lg1p)
    return first - xp.exp(a * lx - lg1p + xp.log(a)) * total


def gammainc(backend, a, x, /):
    """See :data:`functrans.backends.EXTRAS`: P(a, x) for a > 0, x > 0."""
    return _gammainc_both(backend, a, x)[0]


def gammaincc(backend, a, x, /):
    """See :data:`functrans.backends.EXTRAS`: Q(a, x) = 1 - P(a, x) for a > 0, x > 0."""
    return _gammainc_both(backend, a, x)[1]


def _beta_cf(backend, a, b, x):
    """The continued fraction of I_x(a, b) (modified Lentz), good for
    x < (a + 1) / (a + b + 2).

    Its coefficients are computed for ``_INCOMPLETE_CHECK`` steps at once (one array with
    the steps on a new leading axis), so that a step is ten operations, and convergence is
    checked after 4, 8, 16 steps, then every 16: Lentz's guard
    against a zero denominator is ``+ tiny`` (a no-op unless the denominator is within a
    few units of the smallest normal number) instead of a comparison and a select. The
    inner loop runs on the torch backend under the quantiles' Halley iterations, where its
    per-operation cost dominated (session 16: about 25 operations a step before)."""
    xp = backend.xp
    eps = 0.5 * xp.finfo(x.dtype).eps
    tiny = xp.finfo(x.dtype).smallest_normal
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    one = xp.ones_like(x)
    c = one
    d = one / ((1.0 - qab * x / qap) + tiny)  # (one / d: a scalar's 1.0 / d is two operations
    h = d                                     # on torch)
    done = xp.zeros_like(x, dtype=xp.bool)
    out = None
    n = _INCOMPLETE_CHECK
    steps = xp.arange(n, dtype=x.dtype, device=backend.device(x))
    steps = xp.reshape(steps, (n,) + (1,) * x.ndim)
    for start in range(1, _INCOMPLETE_MAX_STEPS + 1, n):
        m = steps + float(start)
        m2 = m + m
        am2 = a + m2
        even = m * (b - m) * x / ((qam + m2) * am2)
        odd = -(a + m) * (qab + m) * x / (am2 * (qap + m2))
        # (the steps' slices in one call each: array-api-strict's indexing is slow)
        even, odd = _incomplete_grads._rows(xp, even), _incomplete_grads._rows(xp, odd)
        for i in range(n):
            aa = even[i]
            d = one / ((1.0 + aa * d) + tiny)
            c = (1.0 + aa / c) + tiny
            h = h * (d * c)
            aa = odd[i]
            d = one / ((1.0 + aa * d) + tiny)
            c = (1.0 + aa / c) + tiny
            delta = d * c
            h = h * delta
            # (checked after 4, 8 and 16 steps, then every 16: many elements need fewer
            # than 10; each element's value is kept from the check where it converged:
            # the steps after it, run for the others of a batch, add an ulp's drift each
            # time, ~30 ulp after a few hundred: I_0.001(0.0059, 30) was 6e-15 off in a
            # batch beside a = 300, 3e-16 alone, and 1 - I 58x that)
            if i == n - 1 or (start == 1 and i in (3, 7)):
                conv = xp.abs(delta - 1.0) <= eps
                out = h if out is None else xp.where(done, out, h)
                done = done | conv
                if _all_true(backend, done):
                    return out
    # (an element still unconverged gives nan, not a truncated value)
    return xp.where(done, out, xp.full_like(h, math.nan))


def _beta_front_const(backend, p, q):
    """log(x0^p y0^q / (p B(p, q))) for the mean x0 = p / (p + q), y0 = 1 - x0, written with
    Stirling's series, ``log(q / (p (p + q))) / 2 - log(2 pi) / 2 - corr(p) - corr(q) +
    corr(p + q)`` (``corr(z) = log Gamma(z) - ((z - 1/2) log z - z + log(2 pi) / 2)``, by
    its asymptotic series from z = 10 on): terms of the size of the result, where
    ``lgamma(p + q) - lgamma(p) - lgamma(q)`` subtracts numbers of the size p log p (at
    p = 1e16 the difference of two 3.5e17, about 64 lost). ``backend`` may be
    functrans.scipy.special's stand-in over functrans.numpy (differentiable): so two arrays
    meet in the namespace's functions, not operators (a plain array-api-strict array
    refuses a tracer on its right)."""
    xp = backend.xp
    corr = _incomplete_grads._lgamma_corr
    pq = xp.add(p, q)
    half = 0.5 * xp.subtract(xp.subtract(xp.log(q), xp.log(p)), xp.log(pq)) - _HALF_LOG_2PI
    return xp.add(xp.subtract(xp.subtract(half, corr(backend, p)), corr(backend, q)),
                  corr(backend, pq))


def _log_scaled(xp, x, log_x, num, den):
    """log(x (1 + r)), r = num / den: the logarithm of the product where that is a normal
    number (one rounding, where ``log x + log1p(r)`` adds two logarithms of up to 700 that
    may nearly cancel: fdtr(3, 1e300, 0.3) lost 2e-13), the sum elsewhere (with ``log num -
    log den`` where r overflows: f.pdf(1e-8, 1e-300, 1e30)'s 1e330 made it inf)."""
    r = xp.divide(num, den)
    prod = xp.multiply(x, 1.0 + r)
    # (x subnormal: its few digits; f.pdf(1e-300, 0.5, 1e15)'s 5e-316 was 9e-10 off)
    fine = (prod >= 1e-300) & (prod <= 1e300) & (x >= 2.3e-308)
    huge = r > 1e300
    log1p_r = xp.where(huge, xp.subtract(xp.log(num), xp.log(den)),
                       xp.log1p(xp.where(huge, xp.zeros_like(r), r)))
    return xp.where(fine, xp.log(xp.where(fine, prod, xp.ones_like(prod))),
                    xp.add(log_x, log1p_r))


def _log_beta_front(xp, p, q, x, y, log_x, log_y, const, s_num=None):
    """M = log(x^p y^q / (p B(p, q))) (``y = 1 - x`` and the logarithms accurate; ``const``
    from :func:`_beta_front_const`), as
    ``p log1pmx(s) + q log1pmx(t) + const`` with ``s = x/x0 - 1``, ``t = y/y0 - 1``
    (``log1pmx(u) = log(1 + u) - u``; the linear terms cancel exactly: ``p s = -q t``):
    each term of the size of M, however large p and q are. Where |s| (|t|) is 1/2 or more
    ``log(1 + s)`` is ``log x + log1p(q / p)`` and ``p log1pmx(s) = p log(1 + s) - p s``,
    ``p s = x q - y p`` (no overflow of s for a tiny p; ``s_num``: that, where the caller
    has it more precisely than from x and y). The one implementation of the log beta
    density at large shapes: ``xp`` is also functrans.numpy (functrans.scipy.special's
    ``_log_beta_front``, differentiable; two arrays meet in functions, as in
    :func:`_beta_front_const`)."""
    if s_num is None:
        s_num = xp.subtract(xp.multiply(x, q), xp.multiply(y, p))  # p s = -q t
    s, t = xp.divide(s_num, p), -xp.divide(s_num, q)
    near_s, near_t = xp.abs(s) < 0.5, xp.abs(t) < 0.5
    zero = xp.zeros_like(s)
    s_n, t_n = xp.where(near_s, s, zero), xp.where(near_t, t, zero)
    lmx = _incomplete_grads._log1pmx
    term_s = xp.where(near_s, xp.multiply(p, lmx(xp, s_n, xp.log1p(s_n))),
                      xp.subtract(xp.multiply(p, _log_scaled(xp, x, log_x, q, p)),
                                  s_num))
    term_t = xp.where(near_t, xp.multiply(q, lmx(xp, t_n, xp.log1p(t_n))),
                      xp.add(xp.multiply(q, _log_scaled(xp, y, log_y, p, q)),
                             s_num))
    return xp.add(xp.add(term_s, term_t), const)


# Where both shapes are at least this large (after the symmetry: I_x(a, b) with x at most
# about the mean) the continued fraction needs about sqrt(min(a, b)) / 2 steps (500 at 1e6,
# more than _INCOMPLETE_MAX_STEPS from about 1e7 on); there the integral itself is taken
# instead, by Gauss-Legendre quadrature (_BETA_QUAD_NODES nodes) of the density over the
# interval below x outside which it is below exp(-_BETA_QUAD_SPAN) of its value at x.
_BETA_QUAD_MIN = 2000.0
_BETA_QUAD_NODES = 40
_BETA_QUAD_SPAN = 40.0
_GAUSS_LEGENDRE = []


def _gauss_legendre():
    """Nodes in (0, 1) and weights of the Gauss-Legendre rule (computed on first use)."""
    if not _GAUSS_LEGENDRE:
        import numpy as np
        z, w = np.polynomial.legendre.leggauss(_BETA_QUAD_NODES)
        _GAUSS_LEGENDRE.extend([[float(v) for v in 0.5 * (z + 1.0)],
                                [float(v) for v in 0.5 * w]])
    return _GAUSS_LEGENDRE


def _beta_quadrature(backend, p, q, x, y, log_m, const):
    """``p * integral_(x-D)^x exp(M(t) - M(x)) dt / (t (1 - t))`` (M: :func:`_log_beta_front`,
    ``log_m`` = M(x)), so that I_x(p, q) = exp(M(x)) times it, for p, q large and x at most
    a little above the mean. Below x the exponent -M falls at least as fast as the quadratic
    with slope ``max(0, -(x q - y p) / (x y))`` and curvature ``p / x^2 + q`` (lower bounds of
    its derivatives there, -M being convex), so the integrand is below
    ``exp(-_BETA_QUAD_SPAN)`` of its value at x below ``x - D`` for the D where that
    quadratic reaches _BETA_QUAD_SPAN; over [x - D, x], a few standard deviations at most
    (p, q >= _BETA_QUAD_MIN), the integrand is close to a Gaussian, which the rule
    integrates to rounding."""
    xp = backend.xp
    nodes, weights = _gauss_legendre()
    slope = xp.maximum(-(x * q - y * p) / (x * y), xp.zeros_like(x))
    curv = p / (x * x) + q
    span = _BETA_QUAD_SPAN
    d = xp.minimum(2.0 * span / (slope + xp.sqrt(slope * slope + 2.0 * span * curv)), x)
    shape = (len(nodes),) + (1,) * x.ndim
    dev = backend.device(x)
    tau = xp.reshape(xp.asarray(nodes, dtype=x.dtype, device=dev), shape)
    w = xp.reshape(xp.asarray(weights, dtype=x.dtype, device=dev), shape)
    h = d * tau
    t, u = x - h, y + h  # (t and 1 - t, each to its own rounding)
    # (t q - u p from x's by the offset: t itself may round to x, the shapes being so
    # large that the whole span is below x's rounding)
    s_num = (x * q - y * p) - h * (p + q)
    m = _log_beta_front(xp, p, q, t, u, xp.log(t), xp.log(u), const, s_num)
    return p * d * xp.sum(w * xp.exp(m - log_m) / (t * u), axis=0)


# Where a is large and b moderate (after the symmetry, x close to 1), the continued
# fraction loses about eps * a (its partial numerators come close to -1); there
# I_x(a, b) comes from the incomplete gamma functions instead (_beta_gamma_series).
_BETA_GAMMA_MIN = 1000.0
_BETA_GAMMA_TERMS = 12


def _sinhc_log_coefficients(n):
    """lambda_k (k = 1..n) with log(sinh(v/2) / (v/2)) = sum_k lambda_k v^(2k):
    ``B_2k / (2k (2k)!)`` (Bernoulli numbers, exactly, then rounded)."""
    from fractions import Fraction
    bern = [Fraction(1)]
    for m in range(1, 2 * n + 1):
        bern.append(-sum(math.comb(m + 1, k) * bern[k] for k in range(m)) / (m + 1))
    return tuple(float(bern[2 * k] / (2 * k * math.factorial(2 * k))) for k in range(1, n + 1))


_SINHC_LOG = _sinhc_log_coefficients(_BETA_GAMMA_TERMS)


def _beta_gamma_region(xp, a, b):
    """Where :func:`_beta_gamma_series` is used: a >= _BETA_GAMMA_MIN and
    ``T >= 0.91 sqrt(|b - 1| + 1) max(750, 3 b)`` (T = a + (b - 1)/2), so that its terms
    fall by a factor of 20 or more each over the arguments u = -T log x where I_x(a, b) or
    its complement is above the underflow threshold."""
    t = a + 0.5 * (b - 1.0)
    reach = xp.maximum(3.0 * b, xp.full_like(b, 750.0))
    return (a >= _BETA_GAMMA_MIN) & (t >= 0.91 * xp.sqrt(xp.abs(b - 1.0) + 1.0) * reach)


def _beta_gamma_series(backend, a, b, log_x, u=None):
    """(I_x(a, b), 1 - I_x(a, b)) for large a (:func:`_beta_gamma_region`), ``log_x`` =
    log x accurate. With v = -log t the integral is
    ``1/B(b, a) integral v^(b-1) e^(-T v) psi(v) dv``, T = a + (b - 1)/2 and
    ``psi(v) = (sinh(v/2) / (v/2))^(b-1) = sum_k psi_k v^(2k)`` (even: the e^(-v/2) of
    (1 - e^-v)^(b-1) went into T), over v > u/T for I_x(a, b) and v < u/T for the
    complement, u = -T log x. Term by term:
    ``I_x(a, b) = R sum_k c_k Q(b + 2k, u)``, ``1 - I_x(a, b) = R sum_k c_k P(b + 2k, u)``,
    ``c_k = psi_k (b)_(2k) / T^(2k)``, ``R = Gamma(a + b) / (Gamma(a) T^b)`` (1 + O(1/a^2),
    taken with Stirling's series). psi_k from the exponential of the series of
    ``(b - 1) log(sinh(v/2) / (v/2))``; P and Q from the generic incomplete gamma functions
    (relative accuracy in both tails), all orders in one call. ``u``: -T log x where the
    caller has it more precisely (log x underflowing)."""
    xp = backend.xp
    n = _BETA_GAMMA_TERMS
    beta1 = b - 1.0
    t = a + 0.5 * beta1
    if u is None:
        u = -t * log_x
    # psi_k = (1/k) sum_(j=1..k) j (b - 1) lambda_j psi_(k-j); c_k = psi_k (b)_2k / T^2k
    psi = [xp.ones_like(b)]
    coef = [xp.ones_like(b)]
    rising = xp.ones_like(b)
    inv_t2 = 1.0 / (t * t)
    for k in range(1, n):
        acc = xp.zeros_like(b)
        for j in range(1, k + 1):
            acc = acc + (j * _SINHC_LOG[j - 1]) * psi[k - j]
        psi.append(acc * beta1 / k)
        rising = rising * (b + (2 * k - 2)) * (b + (2 * k - 1)) * inv_t2
        coef.append(psi[k] * rising)
    shape = (n,) + (1,) * b.ndim
    ks = xp.reshape(xp.arange(n, dtype=b.dtype, device=backend.device(b)), shape)
    p_k, q_k = _gammainc_both(backend, b + 2.0 * ks, u + 0.0 * ks)
    c = xp.stack(coef, axis=0)
    v = b / a
    corr = _incomplete_grads._lgamma_corr
    log_r = (b * xp.log1p(0.5 * (b + 1.0) / t)
             + (a - 0.5) * _incomplete_grads._log1pmx(xp, v, xp.log1p(v)) - 0.5 * v
             + corr(backend, a + b) - corr(backend, a))
    r = xp.exp(log_r)
    return r * xp.sum(c * q_k, axis=0), r * xp.sum(c * p_k, axis=0)


_BETA_SERIES_MAX = 160  # terms of _beta_small_complement's series (x <= 2/3: ~100 needed)


def _beta_small_complement(backend, p, q, x, log_x):
    """1 - I_x(p, q) for 0 < p <= 1 and x <= (p + 1) / (p + q + 2) (so x <= 2/3), where
    I_x(p, q) is close to 1 (for a small p nearly everywhere) and ``1 - I`` would lose the
    digits of the difference: from the power series
    ``I = e^z (1 + T)``, ``z = p log x - log(p B(p, q))``,
    ``T = p sum_(n>=1) (1 - q)_n / n! x^n / (p + n)``, as ``-expm1(z) - e^z T``, each part
    O(p) and computed as such (``log(p B(p, q)) = lgamma(1 + p) - (lgamma(q + p) -
    lgamma(q))`` with each difference accurate relative to its size). An element whose
    series has not converged gives nan."""
    xp = backend.xp
    eps = 0.5 * xp.finfo(x.dtype).eps
    z = (p * log_x - _incomplete_grads._lgamma1p(backend, p)
         + _incomplete_grads._lgamma_diff(backend, p, q))
    term = xp.ones_like(x)
    total = xp.zeros_like(x)
    done = xp.zeros_like(x, dtype=xp.bool)
    for n in range(1, _BETA_SERIES_MAX + 1):
        term = term * ((n - q) / n) * x
        add = term / (p + n)
        total = total + add
        if n % _INCOMPLETE_CHECK == 0:
            done = done | (xp.abs(add) <= eps * xp.abs(total))
            if _all_true(backend, done):
                break
    out = -xp.expm1(z) - xp.exp(z) * (p * total)
    return xp.where(done, out, xp.full_like(out, math.nan))


def betainc(backend, a, b, x, /):
    """See :data:`functrans.backends.EXTRAS`: I_x(a, b) for a, b > 0, 0 < x < 1."""
    return _betainc(backend, a, b, x)


def _betainc(backend, a, b, x, log_beta=None):
    """I_x(a, b) (other elements: any value). ``log_beta`` (log B(a, b), passed by the
    quantiles' iterations) is no longer needed: the prefactor ``x^a (1 - x)^b / (a B(a, b))``
    is taken in the form of :func:`_log_beta_front`, accurate for any shapes. Below
    x = (a + 1) / (a + b + 2) the prefactor times the continued fraction, or where both
    shapes are at least _BETA_QUAD_MIN that times :func:`_beta_quadrature`; above it
    ``1 - I_(1-x)(b, a)`` the same way."""
    return _betainc_side(backend, a, b, x, False)


def betaincc(backend, a, b, x, /):
    """See :data:`functrans.backends.EXTRAS`: 1 - I_x(a, b) for a, b > 0, 0 < x < 1, without
    the subtraction where it is the smaller of the pair (:func:`_betainc_pair`)."""
    return _betainc_side(backend, a, b, x, True)


def _betainc_side(backend, a, b, x, complement):
    """I_x(a, b), or its complement, by :func:`_betainc_pair` on the elements inside the
    domain (the others fed a = b = 1, x = 1/4); at x = 0 and x = 1 (a, b > 0) exactly 0 and
    1 (the complement: 1 and 0)."""
    xp = backend.xp
    a0, b0, x0 = a, b, x
    ok = (a > 0.0) & (b > 0.0) & (x > 0.0) & (x < 1.0) & xp.isfinite(a) & xp.isfinite(b)
    a = xp.where(ok, a, xp.ones_like(a))
    b = xp.where(ok, b, xp.ones_like(b))
    x = xp.where(ok, x, xp.full_like(x, 0.25))
    out = _betainc_pair(backend, a, b, x, 1.0 - x, xp.log(x), xp.log1p(-x),
                        complement)[1 if complement else 0]
    inner = (a0 > 0.0) & (b0 > 0.0) & xp.isfinite(a0) & xp.isfinite(b0)
    at0, at1 = (xp.ones_like(out), xp.zeros_like(out)) if complement else \
        (xp.zeros_like(out), xp.ones_like(out))
    out = xp.where(inner & (x0 == 0.0), at0, out)
    return xp.where(inner & (x0 == 1.0), at1, out)


def _betainc_pair(backend, a, b, x, y, lx, l1x, both=True):
    """(I_x(a, b), 1 - I_x(a, b)) for a, b > 0 finite and 0 < x < 1, given ``y = 1 - x``,
    ``lx = log x`` and ``l1x = log y`` (each accurate: a caller may have them more precisely
    than from x, as F's at extreme degrees of freedom, where x or y underflows or rounds to
    1); with ``both`` each of the pair computed without a subtraction where it is the
    smaller (to the methods' accuracy), else the first only (the second then may be
    1 - the first). :func:`_betainc`'s methods."""
    xp = backend.xp
    flip = x > (a + 1.0) / (a + b + 2.0)
    a2, b2 = xp.where(flip, b, a), xp.where(flip, a, b)
    x2, y2 = xp.where(flip, y, x), xp.where(flip, x, y)
    const = _beta_front_const(backend, a2, b2)
    log_m = _log_beta_front(xp, a2, b2, x2, y2, xp.where(flip, l1x, lx),
                            xp.where(flip, lx, l1x), const)
    # (the large shape first: a2 on x2's side, or b2 on y2's)
    gser_x = _beta_gamma_region(xp, a2, b2)
    gser = gser_x | _beta_gamma_region(xp, b2, a2)
    quad = (xp.minimum(a2, b2) >= _BETA_QUAD_MIN) & ~gser
    small = (a2 <= 1.0) if both else (flip & (a2 <= 1.0))
    # (which methods some element needs: one look for the three, one synchronisation on a
    # device where one each cost three, and four for the fraction's stand-ins)
    need_quad, need_small, need_gser = _needed(backend, a2, quad, small, gser)
    if not (need_gser or need_quad):
        cf = _beta_cf(backend, a2, b2, x2)
    else:
        one = xp.ones_like(a2)
        # (each method on its own elements, a stand-in at the others)
        other = gser | quad
        cf = _beta_cf(backend, xp.where(other, one, a2), xp.where(other, one, b2),
                      xp.where(other, xp.full_like(x2, 0.25), x2))
    if need_quad:
        qd = _beta_quadrature(backend, xp.where(quad, a2, xp.full_like(a2, _BETA_QUAD_MIN)),
                              xp.where(quad, b2, xp.full_like(b2, _BETA_QUAD_MIN)),
                              xp.where(quad, x2, xp.full_like(x2, 0.5)),
                              xp.where(quad, y2, xp.full_like(y2, 0.5)),
                              xp.where(quad, log_m, xp.zeros_like(log_m)),
                              xp.where(quad, const, _beta_front_const(
                                  backend, xp.full_like(a2, _BETA_QUAD_MIN),
                                  xp.full_like(a2, _BETA_QUAD_MIN))))
        cf = xp.where(quad, qd, cf)
    r = xp.exp(log_m) * cf
    out = xp.where(flip, 1.0 - r, r)
    other = xp.where(flip, r, 1.0 - r)
    # (a small shape on the fraction's side beside a result close to 0: 1 - r directly)
    if need_small:
        comp = _beta_small_complement(
            backend, xp.where(small, a2, xp.full_like(a2, 0.5)),
            xp.where(small, b2, xp.ones_like(b2)), xp.where(small, x2, xp.full_like(x2, 0.25)),
            xp.where(small, xp.where(flip, l1x, lx), xp.full_like(x2, math.log(0.25))))
        out = xp.where(small & flip, comp, out)
        if both:
            # (1 - comp for I_x2 where comp is below 1/2: r's prefactor errs a few 1e-14 at
            # the tiniest shapes, f.sf(1e-30, 1e300, 1e-300) was 1 - 3.5e-14; 1 - r, exact,
            # where r is)
            lower = xp.where(comp <= 0.5, 1.0 - comp, r)
            upper = xp.where(comp <= 0.5, comp, 1.0 - r)
            out = xp.where(small, xp.where(flip, upper, lower), out)
            other = xp.where(small, xp.where(flip, lower, upper), other)
    if need_gser:
        big = _BETA_GAMMA_MIN * 10.0
        # (I_x2(a2, b2) and its complement, or those of I_y2(b2, a2): the other way round)
        g_a = xp.where(gser, xp.where(gser_x, a2, b2), xp.full_like(a2, big))
        g_b = xp.where(gser, xp.where(gser_x, b2, a2), xp.ones_like(b2))
        g_log = xp.where(gser, xp.where(gser_x == flip, l1x, lx), xp.full_like(x2, -1.0 / big))
        # (-log(1 - v) = v (1 + O(v)) for the small quotient v: T v from its logarithm where
        # v is subnormal or underflows, F's n x / m at 1e-338, whose log is still exact;
        # above, the product, log T + log v losing eps log T)
        g_log_v = xp.where(gser_x == flip, lx, l1x)
        tiny_v = g_log_v < -708.0
        g_u = xp.where(tiny_v, xp.exp(xp.log(g_a + 0.5 * (g_b - 1.0))
                                      + xp.where(tiny_v, g_log_v, xp.zeros_like(g_log_v))),
                       -(g_a + 0.5 * (g_b - 1.0)) * g_log)
        lower, upper = _beta_gamma_series(backend, g_a, g_b, g_log, g_u)
        i_x2, c_x2 = xp.where(gser_x, lower, upper), xp.where(gser_x, upper, lower)
        out = xp.where(gser, xp.where(flip, c_x2, i_x2), out)
        other = xp.where(gser, xp.where(flip, i_x2, c_x2), other)
    # (within [0, 1]: the series' and quadrature's rounding may pass 1 by an ulp)
    return xp.clip(out, 0.0, 1.0), xp.clip(other, 0.0, 1.0)


# -- inverses of the incomplete gamma and beta functions --------------------------------------

_INVERSE_MAX_STEPS = 100
_INVERSE_TOL = 1e-10  # a Halley step this small leaves an error of about its cube
_BRACKET_TOL = 4e-16  # a bracket this narrow (relative to u) holds the root
_LOG_LOW = -760.0  # log x below which x is 0 in float64 (the root is then taken as 0)
_LOG_HIGH = 710.0  # log x above which x overflows
_BETA_START_NEAR_ONE_A = 100.0  # (betaincinv's start from the gamma quantile from this A)


def _halley_in_log(backend, u, lo, hi, g_parts, linear=False, branches=None):
    """The root ``u`` of an increasing function ``g`` of ``u = log x`` by Halley steps kept
    inside the bracket ``lo < u < hi``.

    ``g_parts(u)`` gives ``g``, ``dg/du`` and ``d2g/du2``; the steps are taken on ``u``, or
    on ``x`` itself with ``linear`` (for a ``g`` close to linear in ``x``). Where ``g``
    has methods that only some elements need, ``branches(u)`` gives their masks (a tuple
    of boolean arrays) and ``g_parts(u, needed)`` gets, for each, whether some element
    needs it: read on the host with the loop's own test of the step before, one read a
    step (a read of its own in ``g_parts`` was a second synchronisation each step on a
    device). The bracket
    shrinks as each step learns the sign of ``g``; a step leaving it is replaced by its
    midpoint, or by the lowest ``u`` (``_LOG_LOW``, where x underflows to 0) when it goes
    below that. An element stops once its step is below ``_INVERSE_TOL`` (a relative change
    of ``x``; times ``|u|`` where that is below 1, not below 2^-52, so that a root next to
    1 is found to the digits of ``1 - x`` that ``x`` holds), once a step no longer moves
    ``u``, or once its bracket is as narrow as the floating point numbers allow; the loop
    ends when every element has stopped (checked on the host after each step)."""
    xp = backend.xp
    active = xp.ones_like(u, dtype=xp.bool)
    if branches is not None:
        needed = _needed(backend, u, *branches(u))
    for _ in range(_INVERSE_MAX_STEPS):
        g, g1, g2 = g_parts(u) if branches is None else g_parts(u, needed)
        lo = xp.where(active & (g < 0.0), u, lo)
        hi = xp.where(active & (g > 0.0), u, hi)
        if linear:  # derivatives in x: g_x = g1 / x, g_xx = (g2 - g1) / x^2
            x = xp.exp(u)
            newton = g / g1 * x
            factor = 1.0 - 0.5 * (g / g1) * (g2 - g1) / g1
        else:
            newton = g / g1
            factor = 1.0 - 0.5 * newton * g2 / g1
        # Halley's correction of the Newton step, kept within a factor of 2 of it
        factor = xp.where(factor == factor, xp.clip(factor, 0.5, 2.0), xp.ones_like(factor))
        if linear:
            prop = xp.log(xp.maximum(x - newton / factor, xp.zeros_like(x)))
        else:
            prop = u - newton / factor
        inside = (prop > lo) & (prop < hi)
        # (a Halley step that does not move u, from the end of the bracket this step's g
        # just put u at, a finite slope: u is the root to its rounding. The bracket's
        # midpoints from there took ~30 more steps, each ending as far from the root as
        # the bracket's width allows: t.ppf(p, 1e12) ran 35 steps a call for elements
        # settled after 3, and ended with |g| 20x larger)
        settled = ~inside & (prop == u) & (g1 > 0.0) & (g1 < math.inf)
        floor = (prop <= lo) & (lo == _LOG_LOW)
        prop = xp.where(inside | settled, prop,
                        xp.where(floor, lo, 0.5 * (lo + hi)))
        # (a bisection step does not tell convergence, only a Halley step does)
        # (the step's size relative to |u| where that is below 1: a root x next to 1 is
        # u = log x ~ -(1 - x), on whose scale a step of _INVERSE_TOL is no small one: at
        # 1 - x ~ 1e-12 the root stopped 30 % off, I_x(5e11, 0.5) 0.054 for 0.1; but not
        # below x's rounding, 2^-52 in u, within which g, computed from x, is one value)
        tol = xp.maximum(_INVERSE_TOL * xp.minimum(xp.abs(u), xp.ones_like(u)),
                         xp.full_like(u, 2.0 ** -52))
        done = ((g == 0.0) | settled | (inside & (xp.abs(prop - u) <= tol))
                | (hi - lo <= _BRACKET_TOL * xp.maximum(xp.abs(u), xp.ones_like(u))))
        u = xp.where(active & (g != 0.0), prop, u)
        active = active & ~done & (u == u)
        if branches is None:
            if not _any_true(backend, active):
                break
        else:  # (whether to go on, and the next step's branches: one read)
            go_on, *needed = _any_each(backend, active, *branches(u))
            if not go_on:
                break
    else:
        # (an element still running after all the steps has not converged, its g being nan
        # or its steps not settling: nan rather than the bracket's last midpoint)
        u = xp.where(active, xp.full_like(u, math.nan), u)
    return u


def _as_float64(backend, *arrays):
    xp = backend.xp
    return [xp.astype(v, xp.float64) for v in arrays]


def _normal_deviate(xp, pp):
    """An approximation (|error| < 5e-3) of the upper normal quantile for 0 < pp <= 1/2."""
    t = xp.sqrt(-2.0 * xp.log(pp))
    return t - (2.30753 + t * 0.27061) / (1.0 + t * (0.99229 + t * 0.04481))


def _temme_logs(backend, a, x, tem):
    """log P, log Q, x P'(x) / P and x P'(x) / Q by Temme's expansion at the elements of
    ``tem`` (others: any value), the smaller of P and Q without underflow."""
    xp = backend.xp
    w, t, d = _temme_parts(backend, xp.where(tem, a, xp.full_like(a, 100.0)),
                           xp.where(tem, x, xp.full_like(x, 100.0)))
    e = xp.exp(-(w * w))
    log_small = xp.log(t) - w * w
    log_big = xp.log1p(-e * t)
    p_small = w < 0.0
    log_p = xp.where(p_small, log_small, log_big)
    log_q = xp.where(p_small, log_big, log_small)
    # x P'(x) = d exp(-w^2)
    s_big = d * e / (1.0 - e * t)
    return log_p, log_q, xp.where(p_small, d / t, s_big), xp.where(p_small, s_big, d / t)


def _gamma_lower_branches(backend, a, u):
    """The masks of :func:`_log_gamma_lower`'s optional methods at ``u``: the elements
    neither on the series' side nor in Temme's region, and those in Temme's region."""
    x = backend.xp.exp(u)
    tem = _temme_region(a, x)
    low = (x < a + 1.0) & ~tem
    return ~low & ~tem, tem


def _log_gamma_lower(backend, a, u, lg, needed=None):
    """log P(a, x) at x = e^u, with s = d log P / du and ds/du (``lg``: lgamma(a)): by the
    series in logarithms below x = a + 1 (no underflow however small x is), by Temme's
    expansion in its region. ``needed``: whether some element needs each of the masks of
    :func:`_gamma_lower_branches` (read here where not given)."""
    xp = backend.xp
    x = xp.exp(u)
    tem = _temme_region(a, x)
    low = (x < a + 1.0) & ~tem
    al = xp.where(low, a, xp.ones_like(a))
    ul = xp.where(low, u, xp.full_like(u, -1.0))
    xl = xp.exp(ul)
    series = _gamma_series(backend, al, xl)
    log_low = al * ul - xl - xp.where(low, lg, xp.zeros_like(lg)) - xp.log(al) + xp.log(series)
    high = ~low & ~tem
    need_high, need_tem = needed if needed is not None else _any_each(backend, high, tem)
    if need_high:
        p_high, _ = _gammainc_both(backend, xp.where(high, a, xp.ones_like(a)),
                                   xp.where(high, x, xp.ones_like(x)))
        log_p = xp.where(low, log_low, xp.log(p_high))
    else:
        log_p = log_low
    # s = x P'(x) / P: a / series on the series' side; x P''/P' = a - 1 - x
    s = xp.where(low, al / series, xp.exp(a * u - x - lg - log_p))
    if need_tem:
        log_pt, _, s_t, _ = _temme_logs(backend, a, x, tem)
        log_p = xp.where(tem, log_pt, log_p)
        s = xp.where(tem, s_t, s)
    return log_p, s, s * (a - x - s)


def _gamma_upper_branches(backend, a, u):
    """The masks of :func:`_log_gamma_upper`'s optional methods at ``u``: the elements
    neither on the continued fraction's side nor in Temme's region, and those in Temme's
    region."""
    x = backend.xp.exp(u)
    tem = _temme_region(a, x)
    up = (x >= a + 1.0) & ~tem
    return ~up & ~tem, tem


def _log_gamma_upper(backend, a, u, lg, needed=None):
    """log Q(a, x) at x = e^u, with s = -d log Q / du and ds/du (``lg``: lgamma(a)): by the
    continued fraction in logarithms from x = a + 1 on (no underflow for large x), by
    Temme's expansion in its region. ``needed``: whether some element needs each of the
    masks of :func:`_gamma_upper_branches` (read here where not given)."""
    xp = backend.xp
    x = xp.exp(u)
    tem = _temme_region(a, x)
    up = (x >= a + 1.0) & ~tem
    au = xp.where(up, a, xp.ones_like(a))
    xu = xp.where(up, x, xp.full_like(x, 4.0))
    cf = _gamma_cf(backend, au, xu)
    log_up = au * xp.log(xu) - xu - xp.where(up, lg, xp.zeros_like(lg)) + xp.log(cf)
    rest = ~up & ~tem
    need_rest, need_tem = needed if needed is not None else _any_each(backend, rest, tem)
    if need_rest:
        _, q_low = _gammainc_both(backend, xp.where(rest, a, xp.ones_like(a)),
                                  xp.where(rest, x, xp.ones_like(x)))
        log_q = xp.where(up, log_up, xp.log(q_low))
    else:
        log_q = log_up
    # s = x P'(x) / Q: 1 / cf on the continued fraction's side
    s = xp.where(up, 1.0 / cf, xp.exp(a * u - x - lg - log_q))
    if need_tem:
        _, log_qt, _, s_t = _temme_logs(backend, a, x, tem)
        log_q = xp.where(tem, log_qt, log_q)
        s = xp.where(tem, s_t, s)
    return log_q, s, s * (a - x + s)


def _gamma_start(backend, a, p, q):
    """A first guess of log x for P(a, x) = p (``q = 1 - p``; a > 0, 0 < p < 1): for a > 1
    the Wilson-Hilferty cube, raised to the small-x bound ``(p Gamma(a + 1))^(1/a)`` where it
    falls below; for a <= 1 a power law below and an exponential tail above."""
    xp = backend.xp
    lower = p <= 0.5
    pp = xp.where(lower, p, q)
    z = _normal_deviate(xp, pp)
    z = xp.where(lower, -z, z)
    base = 1.0 - 1.0 / (9.0 * a) + z / (3.0 * xp.sqrt(a))
    wh = a * xp.where(base > 0.0, base, xp.ones_like(base)) ** 3
    log_small = (xp.log(p) + lgamma(backend, a + 1.0)) / a
    big_a = xp.where(base > 0.0, xp.maximum(xp.log(wh), log_small), log_small)
    t = 1.0 - a * (0.253 + a * 0.12)
    below = p < t
    # (each branch's logarithm of a stand-in where the other is taken: t < 0 from a = 1.65
    # on, where log(p / t) warned "invalid value" on every call, and tail < 0 where below
    # for a small a had 0.5 / (1 - t) > e)
    tail = 1.0 - xp.log(xp.where(below, 1.0 - t, q) / (1.0 - t))
    small_a = xp.where(below, xp.log(xp.where(below, p / t, xp.ones_like(p))) / a,
                       xp.log(tail))
    u0 = xp.where(a > 1.0, big_a, small_a)
    return xp.clip(xp.where(u0 == u0, u0, xp.zeros_like(u0)), _LOG_LOW + 1.0, _LOG_HIGH - 1.0)


def _gamma_inverse(backend, a, y, upper):
    """The x > 0 with P(a, x) = y (``upper``: Q(a, x) = y), for a > 0 and 0 < y < 1 (other
    elements: any value), computed in float64 and returned in y's dtype.

    The smaller of P and Q is matched in logarithms (``log P(a, x) = log p`` where
    ``p <= 1/2``, ``log Q(a, x) = log q`` otherwise) by Halley steps on ``log x``, so that
    either tail keeps its relative precision. The start is the Wilson-Hilferty cube for
    a > 1 (raised to the small-x bound ``(p Gamma(a + 1))^(1/a)`` where it falls below), and
    for a <= 1 a power law below and an exponential tail above."""
    xp = backend.xp
    dtype = y.dtype
    a, y = _as_float64(backend, a, y)
    ok = (a > 0.0) & xp.isfinite(a) & (y > 0.0) & (y < 1.0)
    a = xp.where(ok, a, xp.ones_like(a))
    y = xp.where(ok, y, xp.full_like(y, 0.5))
    p, q = (1.0 - y, y) if upper else (y, 1.0 - y)
    lower = p <= 0.5
    u0 = _gamma_start(backend, a, p, q)
    # each branch sees its own elements only (the others: a = 1 and a target of 1/2)
    al = xp.where(lower, a, xp.ones_like(a))
    au = xp.where(lower, xp.ones_like(a), a)
    lgl, lgu = lgamma(backend, al), lgamma(backend, au)
    log_p = xp.log(xp.where(lower, p, xp.full_like(p, 0.5)))
    log_q = xp.log(xp.where(lower, xp.full_like(q, 0.5), q))
    start = math.log(math.log(2.0))

    def g_lower(u, needed):  # log P(a, e^u) - log p
        log_p_u, s, ds = _log_gamma_lower(backend, al, u, lgl, needed)
        return log_p_u - log_p, s, ds

    def g_upper(u, needed):  # log q - log Q(a, e^u)
        log_q_u, s, ds = _log_gamma_upper(backend, au, u, lgu, needed)
        return log_q - log_q_u, s, ds

    lo, hi = xp.full_like(u0, _LOG_LOW), xp.full_like(u0, _LOG_HIGH)
    # (a branch without elements is not run; both looked at in one read)
    ul = uu = u0
    need_lower, need_upper = _any_each(backend, lower, ~lower)
    if need_lower:
        ul = _halley_in_log(backend, xp.where(lower, u0, xp.full_like(u0, start)), lo, hi,
                            g_lower, branches=lambda u: _gamma_lower_branches(backend, al, u))
    if need_upper:
        uu = _halley_in_log(backend, xp.where(lower, xp.full_like(u0, start), u0), lo, hi,
                            g_upper, linear=True,
                            branches=lambda u: _gamma_upper_branches(backend, au, u))
    x = xp.exp(xp.where(lower, ul, uu))
    return xp.astype(x, dtype)


def gammaincinv(backend, a, y, /):
    """See :data:`functrans.backends.EXTRAS`: the x with P(a, x) = y, a > 0, 0 < y < 1."""
    return _gamma_inverse(backend, a, y, False)


def gammainccinv(backend, a, y, /):
    """See :data:`functrans.backends.EXTRAS`: the x with Q(a, x) = y, a > 0, 0 < y < 1."""
    return _gamma_inverse(backend, a, y, True)


def _beta_sides(backend, a, b, u):
    """x = e^u; where :func:`_log_beta_lower` takes the continued fraction of I_x(a, b)
    itself (else that of I_(1-x)(b, a)); the shapes on that side; and where it takes
    :func:`_betainc`'s value instead."""
    xp = backend.xp
    x = xp.exp(u)
    cf_side = x <= (a + 1.0) / (a + b + 2.0)
    a2, b2 = xp.where(cf_side, a, b), xp.where(cf_side, b, a)
    other = (_beta_gamma_region(xp, a2, b2) | _beta_gamma_region(xp, b2, a2)
             | (xp.minimum(a2, b2) >= _BETA_QUAD_MIN) | (~cf_side & (a2 <= 1.0)))
    return x, cf_side, a2, b2, other


def _log_beta_lower(backend, a, b, u, log_beta, needed=None):
    """log I_x(a, b) at x = e^u, with s = d log I / du and ds/du (``log_beta``: log B(a, b),
    no longer used: the prefactor is :func:`_log_beta_front`'s): the continued fraction in
    logarithms below x = (a + 1) / (a + b + 2) (no underflow however small x is), and above
    it ``I = 1 - r``, ``r`` the fraction of ``I_(1-x)(b, a)``; both sides in one call of the
    fraction (on the shapes and argument of each element's side: session 16, a second call
    for the other side cost a third of the quantiles' time). Where :func:`_betainc` uses
    another method (large shapes; a small shape above the split, where ``1 - r`` would
    cancel) the logarithm of its value: ``needed`` (a tuple of one bool), whether some
    element needs that (the last mask of :func:`_beta_sides`; read here where not given)."""
    xp = backend.xp
    x, cf_side, a2, b2, other = _beta_sides(backend, a, b, u)
    log1m = xp.log1p(-x)
    y = 1.0 - x
    x2, y2 = xp.where(cf_side, x, y), xp.where(cf_side, y, x)
    # log(x^a (1 - x)^b / (a2 B(a, b))), the same on either side
    log_m = _log_beta_front(xp, a2, b2, x2, y2, xp.where(cf_side, u, log1m),
                            xp.where(cf_side, log1m, u), _beta_front_const(backend, a2, b2))
    one = xp.ones_like(a2)
    cf = _beta_cf(backend, xp.where(other, one, a2), xp.where(other, one, b2),
                  xp.where(other, xp.full_like(x2, 0.25), x2))
    log_cf = log_m + xp.log(cf)
    log_i = xp.where(cf_side, log_cf,
                     xp.log1p(-xp.exp(xp.where(cf_side, xp.full_like(u, -1.0), log_cf))))
    if (needed[0] if needed is not None else not _none_needs(backend, a2, other)):
        direct = _betainc(backend, xp.where(other, a, one), xp.where(other, b, one),
                          xp.where(other, x, xp.full_like(x, 0.5)))
        log_i = xp.where(other, xp.log(direct), log_i)
    # s = x I'(x) / I: a / ((1 - x) cf) on the continued fraction's side;
    # x I''/I' = a - 1 - (b - 1) x / (1 - x)
    log_dens = log_m + xp.log(a2) - log1m  # log(x^a (1 - x)^(b-1) / B(a, b))
    s = xp.where(cf_side & ~other, a / ((1.0 - x) * cf), xp.exp(log_dens - log_i))
    return log_i, s, s * (a - (b - 1.0) * x / (1.0 - x) - s)


def betaincinv(backend, a, b, y, /):
    """See :data:`functrans.backends.EXTRAS`: the x with I_x(a, b) = y for a, b > 0 (finite)
    and 0 < y < 1 (other elements: any value), computed in float64, returned in y's dtype.

    Where ``y > 1/2`` (so that ``1 - y`` is exact) and the root is not small
    (``y > I_(1/100)(a, b)``) the symmetry ``I_x(a, b) = 1 - I_(1-x)(b, a)`` turns the
    problem into one for ``w = 1 - x`` with ``p = 1 - y``, so that the target is always
    the accurate one of ``y`` and ``1 - y``, and a result close to 1 keeps the precision of
    ``1 - x``;
    ``log I_v(A, B) = log p`` is solved by Halley steps on ``log v`` inside a bracket. The
    start: for A, B >= 1 a normal approximation of the quantile, otherwise the power laws of
    the two ends, and where a large A beside B < 1 puts the root next to 1, 1 - t / A with
    t the gamma quantile of B (I_(1-x)(B, A) ~ P(B, A (1 - x)))."""
    xp = backend.xp
    dtype = y.dtype
    a, b, y = _as_float64(backend, a, b, y)
    ok = ((a > 0.0) & (b > 0.0) & xp.isfinite(a) & xp.isfinite(b) & (y > 0.0) & (y < 1.0))
    a = xp.where(ok, a, xp.ones_like(a))
    b = xp.where(ok, b, xp.ones_like(b))
    y = xp.where(ok, y, xp.full_like(y, 0.5))
    # (log B is symmetric: the same for the flipped shapes)
    log_beta = lgamma(backend, a) + lgamma(backend, b) - lgamma(backend, a + b)
    flip = (y > 0.5) & (y > _betainc(backend, a, b, xp.full_like(y, 0.01), log_beta))
    big_a, big_b = xp.where(flip, b, a), xp.where(flip, a, b)
    p = xp.where(flip, 1.0 - y, y)
    # the start: a normal approximation where both shapes are >= 1 ...
    pp = xp.minimum(p, 1.0 - p)
    z = _normal_deviate(xp, pp)
    z = xp.where(p < 0.5, -z, z)
    al = (z * z - 3.0) / 6.0
    h = 2.0 / (1.0 / (2.0 * big_a - 1.0) + 1.0 / (2.0 * big_b - 1.0))
    w = (z * xp.sqrt(al + h) / h - (1.0 / (2.0 * big_b - 1.0) - 1.0 / (2.0 * big_a - 1.0))
         * (al + 5.0 / 6.0 - 2.0 / (3.0 * h)))
    normal = xp.log(big_a) - xp.log(big_a + big_b * xp.exp(2.0 * w))
    # ... and the power law of the lower end otherwise: x^A / (A B(A, B)) ~ I
    power = (xp.log(p) + xp.log(big_a) + log_beta) / big_a
    u0 = xp.where((big_a >= 1.0) & (big_b >= 1.0), normal, power)
    u0 = xp.clip(xp.where(u0 == u0, u0, xp.full_like(u0, -1.0)), _LOG_LOW + 1.0,
                 math.log(0.5))
    # ... but a large A beside B < 1 puts the root next to 1, where the power law says
    # nothing and I_(1/2)(A, B) underflows (log I = -inf: no Halley step, the bracket's
    # midpoints halving u from log(1/2), ~30 steps: t.ppf(p, 1e12) took 38 a call). There
    # 1 - I_x(A, B) = I_(1-x)(B, A) ~ P(B, A (1 - x)) (A -> inf): 1 - x from the gamma
    # quantile's first guess, t / A with P(B, t) = 1 - p
    near_one = (big_b < 1.0) & (big_a >= _BETA_START_NEAR_ONE_A)
    b_near = xp.where(near_one, big_b, xp.full_like(big_b, 0.5))
    p_near = xp.where(near_one, p, xp.full_like(p, 0.5))
    w0 = xp.exp(_gamma_start(backend, b_near, 1.0 - p_near, p_near)) / big_a
    u_near = xp.log1p(-xp.minimum(w0, xp.full_like(w0, 0.5)))
    u0 = xp.where(near_one, u_near, u0)
    log_p = xp.log(p)

    def g(u, needed):  # log I_(e^u)(A, B) - log p
        log_i, s, ds = _log_beta_lower(backend, big_a, big_b, u, log_beta, needed)
        return log_i - log_p, s, ds

    def branches(u):
        return _beta_sides(backend, big_a, big_b, u)[-1:]

    u = _halley_in_log(backend, u0, xp.full_like(u0, _LOG_LOW), xp.zeros_like(u0), g,
                       branches=branches)
    xv = xp.exp(u)
    x = xp.astype(xp.where(flip, 1.0 - xv, xv), dtype)
    # below the smallest normal number the result is that number, as SciPy (Boost) gives it
    tiny = xp.finfo(dtype).smallest_normal
    return xp.where(x < tiny, xp.full_like(x, tiny), x)


def solve_triangular(backend, a, b, lower):
    """a^{-1} b by the standard's general solver (a is zero outside its triangle, so this is
    the same solution, at the cost of a general solve)."""
    return backend.xp.linalg.solve(a, b)


GENERIC = {
    "solve_triangular": solve_triangular,
    "gammainc": gammainc,
    "gammaincc": gammaincc,
    "betainc": betainc,
    "betaincc": betaincc,
    "gammaincinv": gammaincinv,
    "gammainccinv": gammainccinv,
    "betaincinv": betaincinv,
    "gammainc_da": _incomplete_grads.gammainc_da,
    "betainc_dab": _incomplete_grads.betainc_dab,
    "scatter_add": scatter_add,
    "erf": erf,
    "erfc": erfc,
    "erfinv": erfinv,
    "ndtri": ndtri,
    "lgamma": lgamma,
    "digamma": digamma,
    "polygamma": polygamma,
}

# (erfcx, i0, i0e, i1, i1e, exp1, expi, expn, dawsn, zeta, riemann_zeta: that module adds them
# to GENERIC; imported last, as it uses this module's helpers)
from . import special_generic as _special_generic  # noqa: E402

SPECIAL_GENERIC = _special_generic  # (its functions, by module)
