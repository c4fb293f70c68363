"""More special functions written once on the Array API standard: the generic extras behind
``erfcx``, the modified Bessel functions ``i0``, ``i0e``, ``i1``, ``i1e``, the exponential
integrals ``exp1``, ``expi``, ``expn``, ``dawsn`` and the Hurwitz and Riemann zeta functions
(see :data:`functrans.backends.EXTRAS` for the contracts; the extra of ``zeta`` is
``hurwitz_zeta``).

Each is a fixed sequence of vectorised operations (series, continued fractions evaluated from
a fixed depth, asymptotic expansions; no loop whose length depends on the data), computed in
the operand's dtype. In float64 each is accurate to a few units of 1e-15 relative (the tests
compare them with SciPy and mpmath); the methods, by function:

- ``i0``, ``i1`` (and the scaled ``i0e = exp(-|x|) i0``, ``i1e``): the power series
  ``(x/2)^nu sum_k (x^2/4)^k / (k! (k + nu)!)`` (positive terms) for ``|x| <= 20``; Hankel's
  asymptotic expansion ``e^x / sqrt(2 pi x) sum_k (-1)^k a_k(nu) / x^k`` beyond.
- ``erfcx = exp(x^2) erfc(x)``: the continued fraction of ``erfc`` (with the ``exp(-x^2)``
  factor left out) for ``x >= 1.5``, ``exp(x^2) (1 - erf(x))`` below, and
  ``2 exp(x^2) - erfcx(-x)`` for negative ``x``, with ``x^2`` split into two floats so that
  ``exp(x^2)`` keeps its precision.
- ``dawsn``: Rybicki's sum of Gaussians, ``D(x) ~ 1/sqrt(pi) sum_{n odd} exp(-(x - n h)^2)
  / n``, centred on the nearest even multiple of ``h`` (``h = 1/4``, discretisation error
  below 1e-17), and ``1/(2x) (1 + 1/(2x^2))`` for ``|x| > 1e8``.
- ``exp1``: the power series for ``x <= 1``, the even continued fraction of ``E_1`` (200
  levels) beyond; ``expi``: ``-exp1(-x)`` for ``x < 0``, the series ``gamma + log x + sum_k
  x^k / (k k!)`` (positive terms) up to 50, the asymptotic series above;
  ``expn(n, x)``: the series with the digamma term for ``x <= 1``, the continued fraction
  above.
- ``hurwitz_zeta(s, q)``: the first terms summed directly until ``q + k >= 16``, then the
  Euler-Maclaurin expansion (10 Bernoulli terms); ``riemann_zeta(s)``: the same at ``q = 1``
  for ``s >= 1/2``, the reflection formula in logarithms below.
"""

from __future__ import annotations

import math

from . import generic as _g

_SQRT_PI = math.sqrt(math.pi)
_EULER = 0.57721566490153286061


def _f(xp, like, value):
    return xp.full_like(like, value)


# -- modified Bessel functions of the first kind, orders 0 and 1 ------------------------------

_BESSEL_SPLIT = 20.0
_BESSEL_SERIES_TERMS = 60
_BESSEL_ASYMPTOTIC_TERMS = 30


def _bessel_series(xp, ax, nu):
    """sum_k (x^2/4)^k / (k! (k + nu)!) for 0 <= x <= 20 (positive terms)."""
    q = 0.25 * ax * ax
    term = xp.ones_like(ax) if nu == 0 else _f(xp, ax, 1.0)
    total = term
    for k in range(1, _BESSEL_SERIES_TERMS + 1):
        term = term * q / float(k * (k + nu))
        total = total + term
    return total


def _bessel_asymptotic(xp, ax, nu):
    """sqrt(2 pi x) e^-x I_nu(x) = sum_k (-1)^k a_k(nu) / x^k, a_k = prod_j (4 nu^2 -
    (2j - 1)^2) / (k! 8^k), for x > 20."""
    mu = 4.0 * nu * nu
    inv = 1.0 / ax
    coefficients = [1.0]
    for k in range(1, _BESSEL_ASYMPTOTIC_TERMS + 1):
        coefficients.append(coefficients[-1] * -(mu - (2 * k - 1) ** 2) / (8.0 * k))
    total = _f(xp, ax, coefficients[-1])
    for c in reversed(coefficients[:-1]):
        total = total * inv + c
    return total


def _bessel(backend, x, nu, scaled):
    xp = backend.xp
    ax = xp.abs(x)
    small = ax <= _BESSEL_SPLIT
    xs = xp.where(small, ax, xp.zeros_like(ax))
    xl = xp.where(small, _f(xp, ax, 2.0 * _BESSEL_SPLIT), ax)
    series = _bessel_series(xp, xs, nu)
    if nu == 1:
        series = series * (0.5 * xs)
    series = series * xp.exp(-xs) if scaled else series
    tail = _bessel_asymptotic(xp, xl, nu) / xp.sqrt((2.0 * math.pi) * xl)
    if not scaled:  # e^x / sqrt(2 pi x) as (e^(x/2))^2 / ...: no overflow before I(x)'s own
        half = xp.exp(0.5 * xl)
        tail = tail * half * half
    out = xp.where(small, series, tail)
    if nu == 1:
        out = xp.where(x < 0.0, -out, out)
    return xp.where(x != x, x, out)


def i0(backend, x, /):
    return _bessel(backend, x, 0, False)


def i0e(backend, x, /):
    return _bessel(backend, x, 0, True)


def i1(backend, x, /):
    return _bessel(backend, x, 1, False)


def i1e(backend, x, /):
    return _bessel(backend, x, 1, True)


# -- erfcx -------------------------------------------------------------------------------------


def _exp_square(xp, x):
    """exp(x^2) with x^2 = h + l split exactly (Veltkamp), so that the rounding of x^2 does
    not cost x^2 ulps (|x| < 1e150)."""
    c = 134217729.0 * x
    hi = c - (c - x)
    lo = x - hi
    h = x * x
    low = ((hi * hi - h) + 2.0 * hi * lo) + lo * lo
    return xp.exp(h) * (1.0 + low)


def erfcx(backend, x, /):
    """exp(x^2) erfc(x)."""
    xp = backend.xp
    ax = xp.abs(x)
    small = ax < _g._ERF_SPLIT
    xs = xp.where(small, ax, xp.zeros_like(ax))
    xl = xp.where(small, _f(xp, ax, _g._ERF_SPLIT), ax)
    # |x| < 1.5: exp(x^2) (1 - erf(|x|)) with erf's positive series (without its exp(-x^2))
    series = xs
    term = xs
    x2 = xs * xs
    for n in range(_g._ERF_SERIES_TERMS):
        term = term * (2.0 * x2 / (2 * n + 3))
        series = series + term
    e2 = _exp_square(xp, xs)
    near = e2 - (2.0 / _SQRT_PI) * series
    far = 1.0 / (_SQRT_PI * _g._erfc_cf_denominator(xl))
    pos = xp.where(small, near, far)  # erfcx(|x|)
    xn = xp.where((x < 0.0) & (x > -27.0), x, xp.zeros_like(x))
    neg = 2.0 * _exp_square(xp, xn) - pos
    neg = xp.where(x <= -27.0, _f(xp, x, math.inf), neg)  # (overflow)
    out = xp.where(x < 0.0, neg, pos)
    return xp.where(x != x, x, out)


# -- Dawson's integral -------------------------------------------------------------------------

_DAWSON_H = 0.25
_DAWSON_TERMS = 20
_DAWSON_BIG = 1e8


def dawsn(backend, x, /):
    """D(x) = exp(-x^2) int_0^x exp(t^2) dt."""
    xp = backend.xp
    ax = xp.abs(x)
    big = ax > _DAWSON_BIG
    a = xp.where(big, xp.zeros_like(ax), ax)
    h = _DAWSON_H
    n0 = 2.0 * xp.round(a / (2.0 * h))  # the nearest even multiple of h, in units of h
    d = a - n0 * h  # |d| <= h, exact
    theta = 2.0 * h * d
    total = xp.zeros_like(a)
    for i in range(1, _DAWSON_TERMS + 1):
        m = float(2 * i - 1)
        c = math.exp(-(m * h) ** 2)
        # the pair n = n0 + m and n = n0 - m: (n0 cosh(m theta) - m sinh(m theta)) * 2 /
        # (n0^2 - m^2), without the cancellation of exp(m theta) - exp(-m theta)
        total = total + c * (2.0 * (n0 * xp.cosh(m * theta) - m * xp.sinh(m * theta))
                             / (n0 * n0 - m * m))
    near = xp.exp(-d * d) * total / _SQRT_PI
    xb = xp.where(big, ax, _f(xp, ax, 2.0 * _DAWSON_BIG))
    far = 0.5 / xb * (1.0 + 0.5 / (xb * xb))
    out = xp.where(big, far, near)
    out = xp.where(ax == math.inf, xp.zeros_like(out), out)
    return xp.where(x != x, x, xp.copysign(out, x))


# -- exponential integrals ---------------------------------------------------------------------

_EXP1_SERIES_TERMS = 25
_EXP_CF_DEPTH = 200


def _expn_cf(xp, n, x):
    """E_n(x) e^x for x >= 1: the even form of the continued fraction,
    1 / (x + n - 1 n / (x + n + 2 - 2 (n + 1) / (x + n + 4 - ...))), from a fixed depth."""
    f = x + (n + 2.0 * _EXP_CF_DEPTH)
    for i in range(_EXP_CF_DEPTH, 0, -1):
        f = (x + (n + 2.0 * (i - 1))) - (i * (n - 1.0 + i)) / f
    return 1.0 / f


def _exp1_series(xp, x):
    """E_1(x) = -gamma - log x - sum_k (-x)^k / (k k!) for 0 < x <= 1."""
    term = xp.ones_like(x)
    total = xp.zeros_like(x)
    for k in range(1, _EXP1_SERIES_TERMS + 1):
        term = term * (-x) / float(k)
        total = total + term / float(k)
    return -_EULER - xp.log(x) - total


def exp1(backend, x, /):
    xp = backend.xp
    small = x <= 1.0
    xs = xp.where(small & (x > 0.0), x, xp.ones_like(x))
    xl = xp.where(small, xp.ones_like(x), x)
    xl = xp.where(xl == math.inf, _f(xp, x, 800.0), xl)
    far = _expn_cf(xp, 1.0, xl) * xp.exp(-xl)
    out = xp.where(small, _exp1_series(xp, xs), far)
    out = xp.where(x == 0.0, _f(xp, x, math.inf), out)
    return xp.where((x < 0.0) | (x != x), _f(xp, x, math.nan), out)


_EXPI_SPLIT = 50.0
_EXPI_SERIES_TERMS = 170
_EXPI_ASYMPTOTIC_TERMS = 45


def expi(backend, x, /):
    xp = backend.xp
    neg = x < 0.0
    # x < 0: -E1(-x)
    e1 = exp1(backend, xp.where(neg, -x, xp.ones_like(x)))
    mid = (x > 0.0) & (x <= _EXPI_SPLIT)
    xm = xp.where(mid, x, xp.ones_like(x))
    term = xp.ones_like(x)
    total = xp.zeros_like(x)
    for k in range(1, _EXPI_SERIES_TERMS + 1):
        term = term * xm / float(k)
        total = total + term / float(k)
    series = (_EULER + xp.log(xm)) + total
    big = x > _EXPI_SPLIT
    xb = xp.where(big, x, _f(xp, x, 2.0 * _EXPI_SPLIT))
    inv = 1.0 / xb
    asym = _f(xp, x, float(math.factorial(_EXPI_ASYMPTOTIC_TERMS)))
    for k in range(_EXPI_ASYMPTOTIC_TERMS - 1, -1, -1):
        asym = asym * inv + float(math.factorial(k))
    half = xp.exp(0.5 * xb)  # e^x / x without overflow before Ei's own (x < 716)
    tail = half * (half / xb) * asym
    out = xp.where(neg, -e1, xp.where(big, tail, series))
    out = xp.where(x == 0.0, _f(xp, x, -math.inf), out)
    out = xp.where(x == math.inf, x, out)
    return xp.where(x != x, x, out)


def expn(backend, n, x, /):
    """E_n(x) for a Python int n >= 0; nan for x < 0, E_n(0) = inf (n <= 1) or 1 / (n - 1)."""
    xp = backend.xp
    n = int(n)
    if n < 0:
        return _f(xp, x, math.nan)
    pos = x > 0.0
    if n == 0:
        xs = xp.where(pos, x, xp.ones_like(x))
        out = xp.exp(-xs) / xs
        out = xp.where(x == 0.0, _f(xp, x, math.inf), out)
        return xp.where((x < 0.0) | (x != x), _f(xp, x, math.nan), out)
    if n == 1:
        return exp1(backend, x)
    small = x <= 1.0
    xs = xp.where(small & pos, x, xp.ones_like(x))
    # the series: (-x)^(n-1) / (n-1)! (-log x + psi(n)) - sum_{k != n-1} (-x)^k /
    # ((k - n + 1) k!)
    psi = -_EULER + sum(1.0 / k for k in range(1, n))
    total = xp.zeros_like(x)
    term = xp.ones_like(x)  # (-x)^k / k!
    lead = None
    for k in range(0, max(n + 24, 30)):
        if k > 0:
            term = term * (-xs) / float(k)
        if k == n - 1:
            lead = term
        else:
            total = total + term / float(k - n + 1)
    series = lead * (psi - xp.log(xs)) - total
    xl = xp.where(small, xp.ones_like(x), x)
    xl = xp.where(xl == math.inf, _f(xp, x, 800.0), xl)
    far = _expn_cf(xp, float(n), xl) * xp.exp(-xl)
    out = xp.where(small, series, far)
    out = xp.where(x == 0.0, _f(xp, x, 1.0 / (n - 1)), out)
    return xp.where((x < 0.0) | (x != x), _f(xp, x, math.nan), out)


# -- zeta functions ----------------------------------------------------------------------------

_ZETA_LOW = 16.0
_ZETA_MORE = 16
_ZETA_REACH = 48  # extra direct terms: q down to about -48 (below that: nan)


def _zeta_em(xp, s, y):
    """zeta(s, y) - (nothing summed) by Euler-Maclaurin at y >= 16: y^(1-s)/(s-1) + y^-s/2 +
    sum_j B_2j / (2j)! s (s+1) ... (s+2j-2) y^(-s-2j+1)."""
    inv2 = 1.0 / (y * y)
    total = xp.zeros_like(y)
    rising = s
    power = 1.0 / y  # y^(-2j+1)
    for j, b in enumerate(_g._BERNOULLI, start=1):
        total = total + (b / math.factorial(2 * j)) * rising * power
        rising = rising * (s + (2 * j - 1)) * (s + 2 * j)
        power = power * inv2
    return y ** (1.0 - s) / (s - 1.0) + y ** (-s) * (0.5 + total)


def zeta(backend, s, q, /):
    """The Hurwitz zeta function sum_k (q + k)^-s for s > 1; the edges as SciPy."""
    xp = backend.xp
    y = xp.where(q == math.inf, _f(xp, q, _ZETA_LOW), q)
    sv = xp.where(s > 1.0, s, _f(xp, s, 2.0))
    acc = xp.zeros_like(y)
    for _ in range(int(_ZETA_LOW) + _ZETA_REACH):
        shift = y < _ZETA_LOW
        acc = acc + xp.where(shift, y ** (-sv), xp.zeros_like(y))
        y = xp.where(shift, y + 1.0, y)
    reached = y >= _ZETA_LOW
    # 16 more terms for every element: the expansion at y >= 16 + q diverges only where s
    # is so large against y that its part, (q / y)^s of the whole, is below rounding
    for _ in range(_ZETA_MORE):
        acc = acc + y ** (-sv)
        y = y + 1.0
    out = acc + _zeta_em(xp, sv, y)
    out = xp.where(reached, out, _f(xp, q, math.nan))  # q beyond the reach
    pole = (q <= 0.0) & (q == xp.floor(q))
    out = xp.where(pole, _f(xp, q, math.inf), out)
    out = xp.where(s == 1.0, _f(xp, q, math.inf), out)
    # s = inf: 1 at q = 1, inf below; above, nan as SciPy gives it (the limit is 0)
    out = xp.where(s == math.inf, xp.where(q == 1.0, xp.ones_like(out),
                                           xp.where(q < 1.0, _f(xp, q, math.inf),
                                                    _f(xp, q, math.nan))), out)
    out = xp.where((q == math.inf) & (s > 1.0), xp.zeros_like(out), out)
    bad = (s < 1.0) | ((q < 0.0) & (s != xp.floor(s)) & ~pole) | (s != s) | (q != q)
    return xp.where(bad, _f(xp, q, math.nan), out)


def _riemann_em(xp, s):
    """zeta(s) for s >= 1/2, s != 1, by the direct sum of k < 16 and Euler-Maclaurin."""
    acc = xp.zeros_like(s)
    for k in range(1, int(_ZETA_LOW)):
        acc = acc + float(k) ** (-s)
    return acc + _zeta_em(xp, s, _f(xp, s, _ZETA_LOW))


def riemann_zeta(backend, s, /):
    """The Riemann zeta function for real s (the reflection formula below 1/2)."""
    xp = backend.xp
    right = s >= 0.5
    finite = xp.isfinite(s)
    sr = xp.where(right & finite & (s != 1.0), s, _f(xp, s, 2.0))
    direct = _riemann_em(xp, sr)
    # s < 1/2: zeta(s) = 2^s pi^(s-1) sin(pi s / 2) Gamma(1 - s) zeta(1 - s), in logarithms
    sl = xp.where(right | ~finite, _f(xp, s, -0.5), s)
    t = 1.0 - sl
    z1 = _riemann_em(xp, t)
    half = 0.5 * sl
    r = half - 2.0 * xp.round(0.5 * half)  # s/2 reduced to [-1, 1], exactly
    sine = xp.sin(math.pi * r)
    log_mag = (sl * math.log(2.0) + (sl - 1.0) * math.log(math.pi) + _g.lgamma(backend, t)
               + xp.log(xp.abs(sine)) + xp.log(xp.abs(z1)))
    left = xp.where((sine < 0.0) != (z1 < 0.0), -xp.exp(log_mag), xp.exp(log_mag))
    left = xp.where(sl == xp.round(half) * 2.0, xp.zeros_like(left), left)  # even integers
    left = xp.where(sl == 0.0, _f(xp, s, -0.5), left)
    out = xp.where(right, direct, left)
    out = xp.where(s == 1.0, _f(xp, s, math.inf), out)
    out = xp.where(s == math.inf, xp.ones_like(out), out)
    return xp.where((s == -math.inf) | (s != s), _f(xp, s, math.nan), out)


_g.GENERIC.update({"erfcx": erfcx, "i0": i0, "i0e": i0e, "i1": i1, "i1e": i1e, "exp1": exp1,
                   "expi": expi, "expn": expn, "dawsn": dawsn, "hurwitz_zeta": zeta,
                   "riemann_zeta": riemann_zeta})
