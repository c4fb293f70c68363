"""Derivatives of the regularized incomplete gamma function in its shape parameter, written
once on the Array API standard (an *extra* of every backend: no array library has them).

``gammainc_da(n, a, x)`` is ``d^n P(a, x) / da^n`` for ``n = 1, 2`` (``P`` the regularized
lower incomplete gamma function; the upper one ``Q = 1 - P`` has the negated derivatives).
Both come from one factorisation ``P = e^L S`` (below ``x = a + 1``) or
``Q = a e^L F`` (from ``x = a + 1`` on), with ``L = a log x - x - log Gamma(a + 1)``:

- ``S = sum_n t_n``, ``t_n = x^n / ((a + 1) ... (a + n))`` (the power series of ``P``). Its
  terms are log-convex in ``a``: ``d log t_n / da = -h_n``, ``d^2 log t_n / da^2 = k_n`` with
  ``h_n = sum_{j<=n} 1/(a+j)`` and ``k_n = sum_{j<=n} 1/(a+j)^2``, so that
  ``d log S / da = -E[h]`` and ``d^2 log S / da^2 = Var[h] + E[k]`` under the weights
  ``t_n / S``; the mean and the variance are accumulated with Welford's weighted update (no
  difference of large sums).
- ``F = 1 / (x + 1 - a - 1 (1 - a) / (x + 3 - a - ...))``, Legendre's continued fraction of
  ``Q`` (``F = integral_0^inf (1 + u)^(a-1) e^(-x u) du``), evaluated by the modified Lentz
  method with the first and second logarithmic derivatives in ``a`` of each of its two
  running factors carried along (the partial numerators ``-i (i - a)`` and denominators
  ``x + 2 i + 1 - a`` are linear in ``a``).
- The factor ``a`` of ``Q`` (``1 / Gamma(a) = a / Gamma(a + 1)``) is differentiated apart:
  ``Q' = Q (1/a + l)``, ``Q'' = Q (l' + l^2 + 2 l / a)`` with ``l = d log(e^L F) / da``, so
  that small shapes (``1 / Gamma(a) ~ a``) do not cancel two terms of order ``1 / a^2``.
- ``L`` and its derivatives ``log x - digamma(a + 1)`` and ``-trigamma(a + 1)``: directly for
  ``a < 10``; for larger ``a`` with Stirling's series,
  ``L = a log1pmx(t) - log(2 pi a) / 2 - corr(a)`` with ``t = (x - a) / a`` and
  ``log1pmx(t) = log(1 + t) - t`` (a series in ``t / (2 + t)`` near 0), and
  ``L' = log1p(t) - (digamma(a + 1) - log a)`` by its asymptotic series, so that nothing of
  the size of ``a log a`` is subtracted (a of 1e4: about 1e-15 relative instead of 1e-11).

Every result is ``sign * exp(log|...|)``, so it keeps its relative precision where ``P`` or
``Q`` is far below 1 (and underflows only where the derivative itself does). Computed in
float64 whatever the dtype, returned in ``x``'s dtype. Each loop runs until every element
has converged (checked on the host every few steps; elements still unconverged after
``_MAX_STEPS``, a of about 5e6 and beyond, give nan). At ``x = 0`` and ``x = inf`` the
derivatives are 0; invalid arguments (``a <= 0``, ``x < 0``, nan) give nan.
"""

from __future__ import annotations

import math

_MAX_STEPS = 20000
_CHECK = 16  # steps between the convergence checks
_EPS = 2.0 ** -53
_TINY = 2.2250738585072014e-308
_LARGE_A = 10.0
_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
# Stirling: log Gamma(a) = (a - 1/2) log a - a + log(2 pi)/2 + sum_k c_k / a^(2k-1),
# c_k = B_2k / (2k (2k - 1)); and digamma(a) = log a - 1/(2a) - sum_k B_2k / (2k a^(2k)).
_B2K = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510)
_STIRLING = tuple(b / ((2 * k) * (2 * k - 1)) for k, b in enumerate(_B2K, start=1))
_DIGAMMA_TAIL = tuple(b / (2 * k) for k, b in enumerate(_B2K, start=1))


def _all_true(backend, cond):
    import numpy as np
    return bool(np.all(backend.to_numpy(backend.xp.all(cond))))


def _poly_inv(xp, a, coeffs, first_power):
    """sum_k coeffs[k] / a^(first_power + 2k)."""
    w = 1.0 / (a * a)
    total = xp.zeros_like(a)
    for c in reversed(coeffs):
        total = total * w + c
    return total / a ** first_power


def _log1pmx(xp, t, log1p_t):
    """log(1 + t) - t for t > -1 (``log1p_t``: log(1 + t), computed by the caller), accurate
    near 0: with u = t / (2 + t), log(1 + t) = 2 atanh(u) and t - 2u = u t, so
    log1pmx = -u t + 2 u^3 (1/3 + u^2/5 + ...)."""
    near = xp.abs(t) < 0.5
    tn = xp.where(near, t, xp.zeros_like(t))
    u = tn / (2.0 + tn)
    u2 = u * u
    tail = xp.zeros_like(u)
    for k in range(20, 0, -1):  # |u| <= 1/3: 20 terms reach 1e-19
        tail = tail * u2 + 1.0 / (2 * k + 1)
    series = -u * tn + 2.0 * u * u2 * tail
    return xp.where(near, series, log1p_t - t)


def _prefactor_parts(backend, a, x, n):
    """L = a log x - x - log Gamma(a + 1) and its derivatives in a, L' and (n = 2) L''."""
    xp = backend.xp
    lx = xp.log(x)
    large = a >= _LARGE_A
    # small a: directly
    a_s = xp.where(large, xp.ones_like(a), a)
    l_small = a_s * lx - x - backend.extra("lgamma")(a_s + 1.0)
    d_small = lx - backend.extra("digamma")(a_s + 1.0)
    # large a: Stirling, centred on x = a
    a_l = xp.where(large, a, xp.full_like(a, _LARGE_A))
    x_l = xp.where(large, x, a_l)
    t = (x_l - a_l) / a_l
    # log(x / a): log1p(t) near x = a, the quotient's logarithm elsewhere (t close to -1
    # would lose the precision of x / a)
    ratio = x_l / a_l
    log_ratio = xp.where(xp.abs(t) < 0.5, xp.log1p(xp.where(xp.abs(t) < 0.5, t, 0.0 * t)),
                         xp.log(ratio))
    l_large = (a_l * _log1pmx(xp, t, log_ratio) - 0.5 * xp.log(a_l) - _HALF_LOG_2PI
               - _poly_inv(xp, a_l, _STIRLING, 1))
    # digamma(a + 1) - log a = 1/(2a) - sum_k B_2k / (2k a^2k)
    d_large = log_ratio - (0.5 / a_l - _poly_inv(xp, a_l, _DIGAMMA_TAIL, 2))
    big_l = xp.where(large, l_large, l_small)
    d1 = xp.where(large, d_large, d_small)
    d2 = -backend.extra("polygamma")(1, a + 1.0) if n == 2 else None
    return big_l, d1, d2


def _series_parts(backend, a, x):
    """log S, d log S / da and d^2 log S / da^2 of S = sum_n x^n / ((a+1) ... (a+n)),
    for x < a + 1 (a weighted mean and variance of the partial sums h_n)."""
    xp = backend.xp
    term = xp.ones_like(x)
    w = xp.ones_like(x)  # sum of the weights so far
    mean = xp.zeros_like(x)  # weighted mean of h
    m2 = xp.zeros_like(x)  # weighted sum of squared deviations of h
    mean_k = xp.zeros_like(x)  # weighted mean of k
    h = xp.zeros_like(x)
    k = xp.zeros_like(x)
    ap = a
    done = xp.zeros(x.shape, dtype=xp.bool, device=backend.device(x))
    for i in range(_MAX_STEPS):
        ap = ap + 1.0
        inv = 1.0 / ap
        term = term * (x * inv)
        h = h + inv
        k = k + inv * inv
        w = w + term
        r = term / w
        dev = h - mean
        mean = mean + r * dev
        m2 = m2 + term * dev * (h - mean)
        mean_k = mean_k + r * (k - mean_k)
        if i % _CHECK == 0:
            dk = xp.abs(k - mean_k)
            small = ((term <= _EPS * w) & (term * xp.abs(dev) <= _EPS * w * xp.abs(mean))
                     & (term * dev * dev <= _EPS * m2) & (term * dk <= _EPS * w * mean_k))
            done = done | small | (term == 0.0)
            if _all_true(backend, done):
                break
    nan = xp.full_like(w, math.nan)
    return (xp.where(done, xp.log(w), nan), xp.where(done, -mean, nan),
            xp.where(done, m2 / w + mean_k, nan))


def _fraction_parts(backend, a, x):
    """log F, d log F / da and d^2 log F / da^2 of Legendre's continued fraction
    F = 1 / (x + 1 - a - 1 (1 - a) / (x + 3 - a - 2 (2 - a) / (x + 5 - a - ...))) (modified
    Lentz, x >= a + 1). Each factor d_i = 1 / (b_i + a_i d_(i-1)) and
    c_i = b_i + a_i / c_(i-1) carries its logarithmic derivatives (g = f'/f, q = f''/f)."""
    xp = backend.xp
    b = x + 1.0 - a
    d = 1.0 / b
    dg, dq = d, 2.0 * d * d  # d0 = 1/b0, b0' = -1: d0'/d0 = d0, d0''/d0 = 2 d0^2
    c = xp.full_like(x, 1.0 / _TINY)
    cg, cq = xp.zeros_like(x), xp.zeros_like(x)
    log_f = xp.log(d)
    g1 = dg
    g2 = dq - dg * dg
    done = xp.zeros(x.shape, dtype=xp.bool, device=backend.device(x))
    for i in range(1, _MAX_STEPS + 1):
        fi = float(i)
        an = fi * (a - fi)  # -i (i - a); d an / da = i
        b = b + 2.0
        e = b + an * d
        e1 = -1.0 + d * (fi + an * dg)
        e2 = d * (2.0 * fi * dg + an * dq)
        e = xp.where(xp.abs(e) < _TINY, xp.full_like(e, _TINY), e)
        d = 1.0 / e
        dg_new = -e1 * d
        dq = -e2 * d + 2.0 * dg_new * dg_new
        dg = dg_new
        cn = b + an / c
        c1 = -1.0 + (fi - an * cg) / c
        c2 = (-2.0 * fi * cg + an * (2.0 * cg * cg - cq)) / c
        cn = xp.where(xp.abs(cn) < _TINY, xp.full_like(cn, _TINY), cn)
        cg = c1 / cn
        cq = c2 / cn
        c = cn
        delta = d * c
        log_f = log_f + xp.log(delta)
        inc1 = dg + cg
        inc2 = dq - dg * dg + cq - cg * cg
        g1 = g1 + inc1
        g2 = g2 + inc2
        if i % _CHECK == 0:
            small = ((xp.abs(delta - 1.0) <= _EPS) & (xp.abs(inc1) <= _EPS * xp.abs(g1))
                     & (xp.abs(inc2) <= _EPS * xp.abs(g2)))
            done = done | small
            if _all_true(backend, done):
                break
    nan = xp.full_like(g1, math.nan)
    return (xp.where(done, log_f, nan), xp.where(done, g1, nan), xp.where(done, g2, nan))


def _signed_exp(xp, log_mag, factor):
    """factor * exp(log_mag) as sign(factor) exp(log_mag + log|factor|) (no underflow of an
    intermediate where the product is representable)."""
    af = xp.abs(factor)
    safe = xp.where(af > 0.0, af, xp.ones_like(af))
    out = xp.exp(log_mag + xp.log(safe))
    out = xp.where(af > 0.0, out, xp.zeros_like(out))
    return xp.where(factor < 0.0, -out, out)


def gammainc_da(backend, n, a, x, /):
    """See :data:`functrans.backends.EXTRAS`: d^n P(a, x) / da^n, n = 1 or 2."""
    xp = backend.xp
    n = int(n)
    if n not in (1, 2):
        raise ValueError(f"gammainc_da: the order n must be 1 or 2; got {n}")
    dtype = x.dtype
    a0 = xp.astype(a, xp.float64)
    x0 = xp.astype(x, xp.float64)
    ok = (a0 > 0.0) & (x0 > 0.0) & (x0 < math.inf) & (a0 < math.inf)
    a = xp.where(ok, a0, xp.ones_like(a0))
    x = xp.where(ok, x0, xp.ones_like(x0))
    low = x < a + 1.0
    big_l, l1, l2 = _prefactor_parts(backend, a, x, n)
    # the series' side (each side sees its own elements only; the others get an argument
    # where it converges at once)
    al, xl = xp.where(low, a, xp.ones_like(a)), xp.where(low, x, xp.full_like(x, 0.5))
    log_s, s1, s2 = _series_parts(backend, al, xl)
    # the fraction's side
    au, xu = xp.where(low, xp.ones_like(a), a), xp.where(low, xp.full_like(x, 4.0), x)
    log_f, f1, f2 = _fraction_parts(backend, au, xu)
    if n == 1:
        lower = _signed_exp(xp, big_l + log_s, l1 + s1)        # P (L' + S'/S)
        upper = -_signed_exp(xp, big_l + log_f, 1.0 + a * (l1 + f1))  # -a e^L F (1/a + l)
    else:
        d1 = l1 + s1
        lower = _signed_exp(xp, big_l + log_s, l2 + s2 + d1 * d1)
        lu = l1 + f1
        upper = -_signed_exp(xp, big_l + log_f, a * (l2 + f2 + lu * lu) + 2.0 * lu)
    out = xp.where(low, lower, upper)
    edge = ((x0 == 0.0) | (x0 == math.inf)) & (a0 > 0.0) & (a0 < math.inf)
    out = xp.where(edge, xp.zeros_like(out), out)
    out = xp.where(ok | edge, out, xp.full_like(out, math.nan))
    return xp.astype(out, dtype)

