"""Derivatives of the regularized incomplete gamma and beta functions in their shape
parameters, written once on the Array API standard (extras of every backend: no array library
has them): ``gammainc_da`` (below) and ``betainc_dab`` (further down, with its own notes).

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

For ``a >= 50`` and ``|x / a - 1| <= 0.3`` (where the series and the fraction need about
``8 sqrt(a)`` steps, more than ``_MAX_STEPS`` from a of about 5e6) Temme's uniform expansion
differentiated in ``a`` instead (``gammainc_da_temme``, below; also the third derivative
there): about 1e-15 relative against mpmath from a = 50 to 1e12, except near the zeros of
the second and third derivatives (x = a and about x = a + sqrt(a)), where the error is of
the rounding of the O(1/a) terms that cancel (below the conditioning of the value in x).

Every result is ``sign * exp(log|...|)``, so it keeps its relative precision where ``P`` or
``Q`` is far below 1 (and underflows only where the derivative itself does). Computed in
float64 whatever the dtype, returned in ``x``'s dtype. Each loop runs until every element
has converged (checked on the host every few steps; elements still unconverged after
``_MAX_STEPS`` would give nan). At ``x = 0`` and ``x = inf`` the
derivatives are 0; invalid arguments (``a <= 0``, ``x < 0``, nan) give nan.
"""

from __future__ import annotations

import math
from fractions import Fraction

from . import _by_type

_MAX_STEPS = 20000
_CHECK = 16  # steps between the convergence checks
_EPS = 2.0 ** -53
_TINY = 2.2250738585072014e-308
_LARGE_A = 10.0
_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
# Stirling: log Gamma(a) = (a - 1/2) log a - a + log(2 pi)/2 + sum_k c_k / a^(2k-1),
# c_k = B_2k / (2k (2k - 1)); and digamma(a) = log a - 1/(2a) - sum_k B_2k / (2k a^(2k)).


def _bernoulli_exact(count):
    """B_0 .. B_(count-1) as fractions (B_1 = -1/2), from sum_j C(n + 1, j) B_j = 0."""
    b = [Fraction(1)]
    for n in range(1, count):
        b.append(-sum(math.comb(n + 1, j) * b[j] for j in range(n)) / (n + 1))
    return b


# (each coefficient exact, rounded once: B_2k / (2k (2k - 1)) computed in floats was one ulp
# off in 5 of 8)
_B2K_EXACT = tuple(_bernoulli_exact(17)[2::2])  # B_2 .. B_16
_B2K = tuple(float(b) for b in _B2K_EXACT)
_STIRLING = tuple(float(b / ((2 * k) * (2 * k - 1))) for k, b in enumerate(_B2K_EXACT, start=1))
_DIGAMMA_TAIL = tuple(float(b / (2 * k)) for k, b in enumerate(_B2K_EXACT, start=1))


def _any_true(backend, cond):
    import numpy as np
    return bool(np.any(backend.to_numpy(backend.xp.any(cond))))


def _all_true(backend, cond):
    import numpy as np
    return bool(np.all(backend.to_numpy(backend.xp.all(cond))))


def _none_needs(backend, x, cond):
    """Whether no element of the concrete ``x`` needs the branch that ``cond`` marks, so it
    may be skipped; False for a tracer or an array subclass (say torch's fake tensors
    under compilation), whose values cannot be read."""
    from . import _by_type
    return type(x) in _by_type and not _any_true(backend, cond)


def _on_constants(*args):
    """``(arrays, backend)`` where ``args`` carry no derivative and no batch but some is a
    functrans.numpy constant (an interpreters.ConstTracer: a stop_gradient'ed value or a
    creation function's array under a transform), the others plain arrays of the same
    library or Python numbers; else None. functrans.scipy's code hands such operands to
    the series here on functrans.numpy, where each operation would be a primitive passed
    down through every interpreter (~230 for _log1pmx); on the arrays behind them it is
    the same operation of the library itself, the same bits."""
    found, backend, arrays = False, None, []
    for v in args:
        t = type(v)
        if t is float or t is int:
            arrays.append(v)
            continue
        if t is _const_tracer():
            v, found = v.primal, True  # (always a plain array: a constant holds no tracer)
        b = _by_type.get(type(v))
        if b is None or (backend is not None and b is not backend):
            return None  # (a tracer carrying a derivative or a batch; mixed libraries)
        backend = b
        arrays.append(v)
    return (arrays, backend) if found else None


def _as_functrans_would(out, args):
    """``out``, computed on the arrays behind the constants ``args`` (:func:`_on_constants`),
    as functrans.numpy would have returned it from ``args``: a constant where the evaluator
    wraps one (core.EvalInterpreter._with_constants' rule), else the plain array."""
    from ..core import current_interpreter
    from ..interpreters import CONSTANT_INTERPRETERS, ConstTracer
    interp = current_interpreter()
    if type(interp) in CONSTANT_INTERPRETERS or any(
            type(a) is ConstTracer and a._interp is interp for a in args):
        return ConstTracer(interp, out)
    return out


_CONST_TRACER = []


def _const_tracer():
    # (interpreters imports the backends: its type is looked up on first use)
    if not _CONST_TRACER:
        from ..interpreters import ConstTracer
        _CONST_TRACER.append(ConstTracer)
    return _CONST_TRACER[0]


def _poly_inv(xp, a, coeffs, first_power):
    """sum_k coeffs[k] / a^(first_power + 2k)."""
    plain = _on_constants(a)
    if plain is not None:
        (a_v,), backend = plain
        return _as_functrans_would(_poly_inv(backend.xp, a_v, coeffs, first_power), (a,))
    w = 1.0 / (a * a)
    # (zeros times w, of w's type: on functrans.numpy zeros_like is a plain array, whose
    # array-api-strict operators refuse a tracer on their right; the namespace's multiply
    # in the loop cost ~0.5 us a step on NumPy's scalars)
    total = w * 0.0
    for c in reversed(coeffs):
        total = total * w + c
    return total / a ** first_power


def _log1pmx(xp, t, log1p_t):
    """log(1 + t) - t for t > -1 (``log1p_t``: log(1 + t), computed by the caller), accurate
    near 0: with u = t / (2 + t), log(1 + t) = 2 atanh(u) and t - 2u = u t, so
    log1pmx = -u t + 2 u^3 (1/3 + u^2/5 + ...)."""
    plain = _on_constants(t, log1p_t)
    if plain is not None:
        (t_v, l_v), backend = plain
        return _as_functrans_would(_log1pmx(backend.xp, t_v, l_v), (t, log1p_t))
    near = xp.abs(t) < 0.5
    tn = xp.where(near, t, xp.zeros_like(t))
    u = tn / (2.0 + tn)
    u2 = u * u
    tail = u2 * 0.0  # (as _poly_inv's zeros)
    for k in range(20, 0, -1):  # |u| <= 1/3: 20 terms reach 1e-19
        tail = tail * u2 + 1.0 / (2 * k + 1)
    series = -u * tn + 2.0 * u * u2 * tail
    return xp.where(near, series, log1p_t - t)


def _prefactor_parts(backend, a, x, n):
    """L = a log x - x - log Gamma(a + 1) and its derivatives in a, L' and (n = 2) L''."""
    xp = backend.xp
    lx = xp.log(x)
    large = a >= _LARGE_A
    # (a side no element of a concrete input needs is skipped)
    small_needed = not _none_needs(backend, a, ~large)
    large_needed = not small_needed or not _none_needs(backend, a, large)
    if small_needed:  # small a: directly
        a_s = xp.where(large, xp.ones_like(a), a)
        l_small = a_s * lx - x - backend.extra("lgamma")(a_s + 1.0)
        d_small = lx - backend.extra("digamma")(a_s + 1.0)
    if large_needed:  # large a: Stirling, centred on x = a
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
    if not large_needed:
        big_l, d1 = l_small, d_small
    elif not small_needed:
        big_l, d1 = l_large, d_large
    else:
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
        if (i + 1) % _CHECK == 0 or i in (3, 7):  # (after the 4th, 8th, 16th, ... term)
            dk = xp.abs(k - mean_k)
            small = ((term <= _EPS * w) & (term * xp.abs(dev) <= _EPS * w * xp.abs(mean))
                     & (term * dev * dev <= _EPS * m2) & (term * dk <= _EPS * w * mean_k))
            done = done | small | (term == 0.0)
            if _all_true(backend, done):
                break
    nan = xp.full_like(w, math.nan)
    return (xp.where(done, xp.log(w), nan), xp.where(done, -mean, nan),
            xp.where(done, m2 / w + mean_k, nan))


def _fraction_parts(backend, a, x, third=False):
    """log F, d log F / da and d^2 log F / da^2 (and, with ``third``, d^3 log F / da^3) of
    Legendre's continued fraction
    F = 1 / (x + 1 - a - 1 (1 - a) / (x + 3 - a - 2 (2 - a) / (x + 5 - a - ...))) (modified
    Lentz, x >= a + 1). Each factor d_i = 1 / (b_i + a_i d_(i-1)) and
    c_i = b_i + a_i / c_(i-1) carries its logarithmic derivatives (g = f'/f, q = f''/f and
    r = f'''/f)."""
    xp = backend.xp
    b = x + 1.0 - a
    d = 1.0 / b
    # d0 = 1/b0, b0' = -1: d0'/d0 = d0, d0''/d0 = 2 d0^2, d0'''/d0 = 6 d0^3
    dg, dq = d, 2.0 * d * d
    dr = 6.0 * d * d * d if third else None
    c = xp.full_like(x, 1.0 / _TINY)
    cg, cq = xp.zeros_like(x), xp.zeros_like(x)
    cr = xp.zeros_like(x) if third else None
    one = xp.ones_like(x)
    f = d  # the running product (F itself: between 0 and 1 / (x + 1 - a), no overflow)
    g1 = dg
    g2 = dq - dg * dg
    g3 = 2.0 * d * d * d if third else None  # (log d0)''' = 2 d0^3
    done = xp.zeros(x.shape, dtype=xp.bool, device=backend.device(x))
    for i in range(1, _MAX_STEPS + 1):
        fi = float(i)
        an = fi * (a - fi)  # -i (i - a); d an / da = i
        b = b + 2.0
        e = b + an * d
        e1 = -1.0 + d * (fi + an * dg)
        e2 = d * (2.0 * fi * dg + an * dq)
        if third:  # e''' = 3 an' d'' + an d'''
            e3 = d * (3.0 * fi * dq + an * dr)
        d = one / (e + _TINY)  # (Lentz's guard against a zero denominator)
        dg_new = -e1 * d
        if third:  # (1/e)''' e = -e'''/e + 6 (e'/e)(e''/e) - 6 (e'/e)^3
            dr = -e3 * d - 6.0 * dg_new * (e2 * d) + 6.0 * dg_new * dg_new * dg_new
        dq = -e2 * d + 2.0 * dg_new * dg_new
        dg = dg_new
        cn = b + an / c
        c1 = -1.0 + (fi - an * cg) / c
        c2 = (-2.0 * fi * cg + an * (2.0 * cg * cg - cq)) / c
        if third:  # (an / c)''' = 3 an' (1/c)'' + an (1/c)'''
            c3 = (3.0 * fi * (2.0 * cg * cg - cq)
                  + an * (-cr + 6.0 * cg * cq - 6.0 * cg * cg * cg)) / c
        cn = cn + _TINY
        cg = c1 / cn
        cq = c2 / cn
        if third:
            cr = c3 / cn
        c = cn
        delta = d * c
        f = f * delta
        inc1 = dg + cg
        inc2 = dq - dg * dg + cq - cg * cg
        g1 = g1 + inc1
        g2 = g2 + inc2
        if third:  # (log f)''' = r - 3 q g + 2 g^3, for each factor
            inc3 = (dr - 3.0 * dq * dg + 2.0 * dg * dg * dg
                    + cr - 3.0 * cq * cg + 2.0 * cg * cg * cg)
            g3 = g3 + inc3
        if i % _CHECK == 0 or i in (4, 8):
            small = ((xp.abs(delta - 1.0) <= _EPS) & (xp.abs(inc1) <= _EPS * xp.abs(g1))
                     & (xp.abs(inc2) <= _EPS * xp.abs(g2)))
            if third:
                small = small & (xp.abs(inc3) <= _EPS * xp.abs(g3))
            done = done | small
            if _all_true(backend, done):
                break
    nan = xp.full_like(g1, math.nan)
    out = (xp.where(done, xp.log(f), nan), xp.where(done, g1, nan), xp.where(done, g2, nan))
    if third:
        out += (xp.where(done, g3, nan),)
    return out


def _signed_exp(xp, log_mag, factor):
    """factor * exp(log_mag) as sign(factor) exp(log_mag + log|factor|) (no underflow of an
    intermediate where the product is representable)."""
    af = xp.abs(factor)
    # (a nan factor, from a loop that did not converge, stays nan: never a silent 0)
    zero = af == 0.0
    safe = xp.where(zero, xp.ones_like(af), af)
    out = xp.exp(log_mag + xp.log(safe))
    out = xp.where(zero, xp.zeros_like(out), out)
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
    # large a near x = a: Temme's expansion (the series and the fraction would need about
    # 8 sqrt(a) steps); elsewhere the series' side and the fraction's side (each side sees
    # its own elements only; the others get an argument where it converges soon); a side no
    # element of a concrete input needs is skipped
    tem = temme_da_region(a, x)
    temme = None
    if not _none_needs(backend, x, tem):
        temme = gammainc_da_temme(backend, n, xp.where(tem, a, xp.full_like(a, 100.0)),
                                  xp.where(tem, x, xp.full_like(x, 100.0)))
    low, high = low & ~tem, ~low & ~tem
    lower = upper = None
    if not _none_needs(backend, x, low):
        al, xl = xp.where(low, a, xp.ones_like(a)), xp.where(low, x, xp.full_like(x, 0.5))
        log_s, s1, s2 = _series_parts(backend, al, xl)
        if n == 1:
            lower = _signed_exp(xp, big_l + log_s, l1 + s1)  # P (L' + S'/S)
        else:
            d1 = l1 + s1
            lower = _signed_exp(xp, big_l + log_s, l2 + s2 + d1 * d1)
    # the fraction's side
    if ((lower is None and temme is None)  # (an empty input takes this side)
            or not _none_needs(backend, x, high)):
        au, xu = xp.where(high, a, xp.ones_like(a)), xp.where(high, x, xp.full_like(x, 4.0))
        log_f, f1, f2 = _fraction_parts(backend, au, xu)
        if n == 1:
            upper = -_signed_exp(xp, big_l + log_f, 1.0 + a * (l1 + f1))  # -a e^L F (1/a + l)
        else:
            lu = l1 + f1
            upper = -_signed_exp(xp, big_l + log_f, a * (l2 + f2 + lu * lu) + 2.0 * lu)
    out = upper if lower is None else lower if upper is None else xp.where(low, lower, upper)
    if temme is not None:
        out = temme if out is None else xp.where(tem, temme, out)
    edge = ((x0 == 0.0) | (x0 == math.inf)) & (a0 > 0.0) & (a0 < math.inf)
    out = xp.where(edge, xp.zeros_like(out), out)
    out = xp.where(ok | edge, out, xp.full_like(out, math.nan))
    return xp.astype(out, dtype)


def gammainc_da3_upper(backend, a, x, /):
    """d^3 P(a, x) / da^3 from Q's side (x >= a + 1; a, x positive and finite, float64):
    Q = a H with H = e^L F, so that Q''' = a H''' + 3 H'' =
    H (a (l3 + 3 l l2 + l^3) + 3 (l2 + l^2)), l, l2, l3 the derivatives of log H (L's plus
    the fraction's), and P''' = -Q'''."""
    big_l, l1, l2 = _prefactor_parts(backend, a, x, 2)
    l3 = -backend.extra("polygamma")(2, a + 1.0)
    log_f, f1, f2, f3 = _fraction_parts(backend, a, x, third=True)
    lu, lu2, lu3 = l1 + f1, l2 + f2, l3 + f3
    factor = a * (lu3 + 3.0 * lu * lu2 + lu * lu * lu) + 3.0 * (lu2 + lu * lu)
    return -_signed_exp(backend.xp, big_l + log_f, factor)


# -- large a near x = a: Temme's uniform expansion differentiated in a -------------------------
#
# The series and the fraction above need about 8 sqrt(a) steps near x = a (a of 5e6 and
# beyond: more than _MAX_STEPS). There Q = erfc(w) / 2 + E S (functrans.backends.generic,
# DLMF 8.12.3), with mu = x / a - 1, eta = sign(mu) sqrt(2 (mu - log(1 + mu))),
# w = eta sqrt(a / 2), E = exp(-w^2) / sqrt(2 pi a) and S = sum_k C_k(eta) a^-k. At a fixed
# x, d eta / da = -phi(eta) / a with phi = mu / eta (a power series in eta), so that
# d/da = d/da|_eta - (phi / a) d/deta, and
#
#   d/da (erfc(w) / 2) = E (phi - eta / 2),  dE/da = E l,  l = log(1 + mu) - 1 / (2 a),
#   dS/da = -sum_k a^-(k+1) A1_k,  d^2 S/da^2 = sum_k a^-(k+2) A2_k,
#   d^3 S/da^3 = -sum_k a^-(k+3) A3_k,
#   A1_k = phi C_k' + k C_k,  A2_k = (k + 1) A1_k + phi A1_k',  A3_k = (k + 2) A2_k + phi A2_k'
#
# (power series in eta, derived once from the C_k). Hence dQ/da = E B1, d2Q/da2 = E B2,
# d3Q/da3 = E B3 with B1 = psi0 + l S + dS/da, B2 = l B1 + dB1/da, B3 = l B2 + dB2/da,
# where psi0 = phi - eta / 2 and its derivatives in a are -psi1 / a and psi2 / a^2
# (psi1 = phi (phi' - 1/2), psi2 = psi1 + phi psi1'), dl/da = -1/a + 1/(2 a^2) and
# d2l/da2 = 1/a^2 - 1/a^3. Every piece is O(1) (no cancellation beyond that of the
# derivative itself where it changes sign), and P's derivatives are the negated ones.

_TEMME_DA_MIN_A = 50.0  # (as the forward's; its error there is below 2e-15 vs mpmath)
_temme_da_cache = []


def _series_mul(p, q, n):
    """The first n Taylor coefficients of the product of the series p and q."""
    return [math.fsum(p[i] * q[j - i] for i in range(j + 1) if i < len(p) and j - i < len(q))
            for j in range(n)]


def _series_der(p):
    return [(j + 1) * p[j + 1] for j in range(len(p) - 1)]


def _temme_da_coefficients():
    """The Taylor coefficients in eta of C_k, A1_k, A2_k, A3_k (rows k = 0 .. K-1), and of
    psi0, psi1, psi2 (see above)."""
    if _temme_da_cache:
        return _temme_da_cache[0]
    from .generic import _temme_coefficients
    coeffs, _ = _temme_coefficients()
    n = len(coeffs[0])
    # mu = sum b_m eta^m, from mu mu' = eta (1 + mu) (as generic derives C_0)
    b = [0.0, 1.0]
    for m in range(2, n + 3):
        s = math.fsum((m + 1 - i) * b[i] * b[m + 1 - i] for i in range(2, m))
        b.append((b[m - 1] - s) / (m + 1))
    phi = b[1:n + 1]
    rows = [list(c) for c in coeffs]
    a1 = [[u + k * v for u, v in zip(_series_mul(phi, _series_der(c), n - 1), c)]
          for k, c in enumerate(rows)]
    a2 = [[(k + 1) * u + v for u, v in zip(r, _series_mul(phi, _series_der(r), n - 2))]
          for k, r in enumerate(a1)]
    a3 = [[(k + 2) * u + v for u, v in zip(r, _series_mul(phi, _series_der(r), n - 3))]
          for k, r in enumerate(a2)]
    psi0 = [phi[0], phi[1] - 0.5] + phi[2:]
    dphi = _series_der(phi)
    psi1 = _series_mul(phi, [dphi[0] - 0.5] + dphi[1:], n - 1)
    psi2 = [u + v for u, v in zip(psi1, _series_mul(phi, _series_der(psi1), n - 2))]
    out = tuple(tuple(tuple(r) for r in t) for t in (rows, a1, a2, a3)) + (
        tuple(psi0), tuple(psi1), tuple(psi2))
    _temme_da_cache.append(out)
    return out


def temme_da_region(a, x):
    """Where the derivatives in a come from Temme's expansion (a >= _TEMME_DA_MIN_A,
    |x / a - 1| <= generic's _TEMME_MAX_MU; a, x positive and finite)."""
    from .generic import _TEMME_MAX_MU
    return ((a >= _TEMME_DA_MIN_A) & (x >= (1.0 - _TEMME_MAX_MU) * a)
            & (x <= (1.0 + _TEMME_MAX_MU) * a))


def _temme_da_matrix(n):
    """The coefficient rows used for the order n, zero-padded to one length: C_k, A1_k,
    (A2_k, A3_k), then psi0 (psi1, psi2); with the number K of rows of each table."""
    key = ("matrix", n)
    for k, v in _temme_da_cache[1:]:
        if k == key:
            return v
    rows, a1, a2, a3, psi0, psi1, psi2 = _temme_da_coefficients()
    tables = [rows, a1, a2, a3][:n + 1]
    polys = [psi0, psi1, psi2][:n]
    width = len(rows[0])
    out = [list(r) + [0.0] * (width - len(r)) for t in tables for r in t]
    out += [list(r) + [0.0] * (width - len(r)) for r in polys]
    value = (out, len(rows), width)
    _temme_da_cache.append((key, value))
    return value


def gammainc_da_temme(backend, n, a, x, /):
    """d^n P(a, x) / da^n (n = 1, 2, 3) in temme_da_region (float64; other elements: any
    value) by Temme's expansion differentiated in a (see above). The polynomials in eta are
    evaluated at once, one Horner step for all of them (a few dozen array operations
    instead of a thousand)."""
    from .generic import _log1pmx_neg
    xp = backend.xp
    _temme_da_coefficients()
    matrix, k_rows, width = _temme_da_matrix(n)
    shape = a.shape
    a = xp.reshape(a, (-1,))
    x = xp.reshape(x, (-1,))
    mu = (x - a) / a  # (x - a exact: x within a factor of 2 of a)
    h = _log1pmx_neg(xp, mu)
    eta = xp.sqrt(2.0 * h)
    eta = xp.where(mu < 0.0, -eta, eta)
    inv_a = 1.0 / a
    # Horner in eta on all the rows at once: (rows, elements)
    cols = _rows(xp, xp.asarray([[[row[j]] for row in matrix] for j in range(width)],
                                dtype=xp.float64, device=backend.device(x)))
    eta_row = xp.expand_dims(eta, axis=0)
    vals = cols[-1] * eta_row
    for col in cols[-2:0:-1]:
        vals = (vals + col) * eta_row
    vals = vals + cols[0]
    inv_pows = [xp.ones_like(a)]
    for _ in range(k_rows - 1):
        inv_pows.append(inv_pows[-1] * inv_a)
    inv_pows = xp.stack(inv_pows, axis=0)

    def in_a(t):  # sum_k a^-k table_t,k(eta)
        return xp.sum(vals[t * k_rows:(t + 1) * k_rows, ...] * inv_pows, axis=0)

    def poly(i):  # psi_i(eta)
        return vals[(n + 1) * k_rows + i, ...]

    s0 = in_a(0)
    s1 = -inv_a * in_a(1)
    ell = xp.log1p(mu) - 0.5 * inv_a
    ell1 = -inv_a + 0.5 * inv_a * inv_a
    b1 = poly(0) + ell * s0 + s1
    if n == 1:
        factor = b1
    else:
        s2 = inv_a * inv_a * in_a(2)
        db1 = -inv_a * poly(1) + ell1 * s0 + ell * s1 + s2
        b2 = ell * b1 + db1
        if n == 2:
            factor = b2
        else:
            s3 = -inv_a * inv_a * inv_a * in_a(3)
            ell2 = inv_a * inv_a - inv_a * inv_a * inv_a
            ddb1 = inv_a * inv_a * poly(2) + ell2 * s0 + 2.0 * ell1 * s1 + ell * s2 + s3
            db2 = ell1 * b1 + ell * db1 + ddb1
            factor = ell * b2 + db2
    # P^(n) = -E B_n, E = exp(-a h) / sqrt(2 pi a)
    out = -_signed_exp(xp, -a * h - 0.5 * xp.log(2.0 * math.pi * a), factor)
    return xp.reshape(out, shape)

# -- the inverses' derivatives in Temme's variable ----------------------------------------------
#
# (session 52) x = gammaincinv(a, y) (gammainccinv likewise) at a large a: its derivatives by
# dx/da = -(dP/da) / (dP/dx) at the result are differences of terms ~1/sqrt(a) of themselves
# (its second derivative in a at a = 1e6 was 8.6e-6 off; the root x, rounded to eps x, gives
# x - a only to eps sqrt(a) relative: 1e-10 at a = 1e12). In Temme's variable eta
# (x = a (1 + mu(eta)), eta^2 / 2 = mu - log(1 + mu), as gammainc_da_temme) the equation is
#
#   Q(a, eta) = erfc(eta sqrt(a/2)) / 2 + E S / sqrt(2 pi a) = y   (P = 1 - Q for gammaincinv)
#
# with E = exp(-a eta^2 / 2) and S = sum_k C_k(eta) a^-k (generic's rows), and its partial
# derivatives at fixed eta carry no cancellation:
#
#   dQ/deta = -E D / sqrt(2 pi a),  D = a (1 + eta S) - dS/deta,
#   dQ/da = E N / sqrt(2 pi a),     N = -eta / 2 - (eta^2 / 2 + 1 / (2 a)) S + dS/da,
#
# so deta/da = N / D and deta/dy = -+sqrt(2 pi a) exp(a eta^2 / 2) / D (for Q, P), each
# again differentiable in (a, eta) through temme_series (any order), and eta itself is
# solved from y (temme_eta: Newton steps from the root x, in the logarithm of the smaller
# of P and Q against its exact target), not from the rounded x.


def _mu_coefficients():
    """b_1 .. b_n of mu(eta) = sum b_m eta^m (mu mu' = eta (1 + mu), as generic's)."""
    key = "mu"
    for k, v in _temme_da_cache[1:]:
        if k == key:
            return v
    from .generic import _temme_coefficients
    n = len(_temme_coefficients()[0][0]) + 4
    b = [0.0, 1.0]
    for m in range(2, n + 1):
        s = math.fsum((m + 1 - i) * b[i] * b[m + 1 - i] for i in range(2, m))
        b.append((b[m - 1] - s) / (m + 1))
    value = tuple(b)
    _temme_da_coefficients()  # (the cache's first entry)
    _temme_da_cache.append((key, value))
    return value


def _derived_rows(rows, j):
    """The Taylor rows of the j-th derivatives (in eta) of the polynomials ``rows``."""
    return [[c[n + j] * math.perm(n + j, j) for n in range(len(c) - j)] for c in rows]


def temme_series(backend, part, i, j, a, eta, /):
    """``part`` "S": d^(i+j) S / da^i deta^j, S(a, eta) = sum_k C_k(eta) a^-k (see above);
    "mu": d^j mu / deta^j (i = 0; ``a`` unused). Float64 arrays of one shape; Horner in eta
    on every row at once."""
    from .generic import _temme_coefficients
    xp = backend.xp
    if part == "mu":
        if i:
            return xp.zeros_like(eta)
        b = _mu_coefficients()
        row = _derived_rows([b], j)[0] if j else b
        out = xp.zeros_like(eta)
        for v in reversed(row):
            out = out * eta + v
        return out
    rows = _temme_coefficients()[0]
    # (rows whose derivative in a vanishes, k < 1 for i >= 1, left out)
    ks = [k for k in range(len(rows)) if not (i and k == 0)]
    table = _derived_rows([rows[k] for k in ks], j)
    width = max(len(r) for r in table)
    if width <= 0:
        return xp.zeros_like(eta)
    shape = eta.shape
    a = xp.reshape(a, (-1,))
    eta = xp.reshape(eta, (-1,))
    cols = _rows(xp, xp.asarray([[[r[n] if n < len(r) else 0.0] for r in table]
                                 for n in range(width)], dtype=xp.float64,
                                device=backend.device(eta)))
    eta_row = xp.expand_dims(eta, axis=0)
    vals = cols[-1] * xp.ones_like(eta_row)
    for col in cols[-2::-1]:
        vals = vals * eta_row + col
    # d^i/da^i a^-k = (-1)^i k (k + 1) ... (k + i - 1) a^-(k + i)
    inv_a = 1.0 / a
    weights = []
    for k in ks:
        rising = math.prod(range(k, k + i))
        weights.append(((-1.0) ** i * rising) * inv_a ** (k + i))
    out = xp.sum(vals * xp.stack(weights, axis=0), axis=0)
    return xp.reshape(out, shape)


def temme_eta_region(a, y, x):
    """Where the inverses' derivatives come from eta (temme_da_region at the root x,
    0 < y < 1)."""
    return temme_da_region(a, x) & (y > 0.0) & (y < 1.0)


def temme_eta(backend, lower, a, y, x, /):
    """Temme's eta of the root of P(a, .) = y (``lower``; Q's otherwise), in
    temme_eta_region (float64; other elements: any value): from the rounded root ``x``,
    two Newton steps in log F, F the smaller of P and Q (exp(-w^2) t, w = eta sqrt(a/2),
    as generic's _temme_parts), against its exact target (y, or 1 - y where that is the
    smaller: exact above 1/2)."""
    from .generic import _log1pmx_neg
    xp = backend.xp
    erfcx = backend.extra("erfcx")
    mu = (x - a) / a
    eta = xp.sqrt(2.0 * _log1pmx_neg(xp, mu))
    eta = xp.where(mu < 0.0, -eta, eta)
    root = xp.sqrt(2.0 * math.pi * a)
    for _ in range(2):
        w = eta * xp.sqrt(0.5 * a)
        s = temme_series(backend, "S", 0, 0, a, eta)
        d = a * (1.0 + eta * s) - temme_series(backend, "S", 0, 1, a, eta)
        half = 0.5 * erfcx(xp.abs(w))
        upper_side = w >= 0.0  # (Q the smaller)
        t = xp.where(upper_side, half + s / root, half - s / root)
        own = upper_side != lower  # (y is the smaller side's own probability)
        target = xp.where(own, y, 1.0 - y)
        slope = xp.where(upper_side, -d, d) / (root * t)  # d log F / d eta
        eta = eta - (xp.log(t) - w * w - xp.log(target)) / slope
    return eta


# -- the inverses near the median: the quantile as a series in 1/sqrt(a) ----------------------
#
# (session 53) Near y = 1/2 the eta form above cancels: there eta ~ -1/(3a), and dx/da's
# pieces mu and a mu' deta/da (~1/(3a) each) and d2x/da2's (~1/a^2 each) cancel to leave
# 16/(405 a^3) at the median; worse, eta solved from y there carries an absolute error
# ~eps/sqrt(a) (log F ~ log(1/2) + O(w)), which every derivative vanishing with z = x's
# normal quantile takes up as eps/|z| (d2x/da2 at a = 1e9: 3.6e-2 off, d2x/dy2 at 1e12:
# 3e-10). There, at fixed y, x is a series in s = 1/sqrt(a) whose coefficients are
# polynomials in z = ndtri(y) (ndtri(1 - y) = -ndtri(y) for Q), a Cornish-Fisher expansion:
#
#   x = a + sum_(n >= -1) d_n(z) s^n,   d_-1 = z,  d_0 = (z^2 - 1)/3,  d_1 = (z^3 - 7 z)/36,
#   d_2 = 8/405 - 7 z^2/810 - z^4/270, ...  (degree n + 2; d_n(0): the median's 1/a series)
#
# and every derivative in a (at fixed z) and in z is the series' own, term by term, without
# cancellation. The coefficients: with eta = s h, eta_0 = s z (erfc(eta_0 sqrt(a/2))/2 = Q),
# Q's integral over Temme's variable (x = a (1 + mu(u)), the density ~ exp(-a u^2/2) u/mu)
# gives dh/dz = Gamma*(a) exp((h^2 - z^2)/2) / f(s h), f = eta/mu, i.e. with h = z + u,
#
#   (1 + u') f(s (z + u)) = Gamma*(1/s^2) exp(z u + u^2/2),   u = sum_(n >= 1) u_n(z) s^n,
#
# whose order s^n reads u_n' - z u_n = R_n (R_n from u_1 .. u_(n-1)): a polynomial u_n by
# its coefficients from the top (the only solution that is not ~exp(z^2/2)); then
# x - a = mu(s h) / s^2. (Checked against exact fractions through Temme's eps_k(eta_0):
# within 1e-14 of each row's largest coefficient, and against mpmath's roots: every first
# and second derivative within 1e-15 from a = 50 to 1e12 with |z| up to 2.) Used where
# a >= 7.5 (session 56; 7 before) and 1/4 <= y <= 3/4 (|z| <= 0.675: the 23 terms to s^22 give ~1e-19 of the
# second derivatives' size at a = 50).
#
# (session 54) Below a = 50 the implicit-function form -(dP/da) / (dP/dx) takes up x's
# rounding, eps a, as an absolute error ~eps in d2x/da2, which vanishes as 16/(405 a^3) at
# the median: 2.1e-11 relative off at a = 10, 1.2e-10 at 30, 1.4e-9 at 49.9 (mpmath). The
# series converges there too, its terms shrinking about as (4/a)^(n/2) (the rows beyond
# s^60 lose their float precision): with the rows to s^40 every first and second
# derivative is within 2e-15 of mpmath (60 digits) from a = 10 to 50 at y in [1/4, 3/4]
# (7e-14 at a = 8, where the implicit form is 1.5e-12 off; 8e-13 at 7, 4e-11 at 5: below
# 8 the implicit form, within 1.2e-12). The rows an element needs by its a
# (_quantile_rows_for), computed at first use up to the most needed so far (0.07 s to
# s^22, 0.3 s to s^40).
#
# (session 55) From a = 7: between 7 and 8 the implicit form's d2x/da2 near the median was
# up to 8.8e-12 off (a = 7.99, y = 1/2; 2.4e-12 at 7.5, 1.6e-12 at 7.25), the series' within
# 8.1e-13 (a = 7, y = 1/2; 2.3e-13 at 7.5, 7.3e-14 at 7.99), every other first and second
# derivative within 4.1e-14 there (y in [1/4, 3/4], mpmath at 60 digits); at 6.5 the
# implicit form is the better (6.9e-13 against 3.1e-12). Below 7 the implicit form's
# d2x/da2 at the median stays ~eps absolute (1.2e-12 relative at a = 6): its terms
# d2P/da2 / P_x, 2 (log x - digamma(a)) x' and ((a - 1)/x - 1) x'^2 (~0.06 each at a = 6)
# cancel ~300x to 2.2e-4, which takes up d2P/da2's own error (8.6e-15 relative: its
# prefactor's exp(a log x - x - lgamma(a + 1))) and log x - digamma(a)'s (3.4e-15, ~60x
# cancellation) as ~1e-12.

_QUANTILE_N = 40  # the highest power of s (at a = _QUANTILE_MIN_A)
_QUANTILE_MIN_A = 7.5  # the least a where the series is used
_QUANTILE_Y = (0.25, 0.75)  # the interval of y where the series is used


def _gamma_quantile_coefficients(n_max=_QUANTILE_N):
    """The rows d_-1 .. d_n_max (Taylor coefficients in z, floats) of x - a (see above); at
    least those (the most computed so far: row n does not depend on the later ones)."""
    import numpy as np
    key = "quantile"
    for k, v in _temme_da_cache[1:]:
        if k == key and len(v) >= n_max + 2:
            return v
    from .generic import _stirling_coefficients
    orders, powers = n_max + 1, n_max + 3  # (of u; of h in mu(s h))
    b = [0.0, 1.0]  # mu = sum b_m eta^m
    for m in range(2, powers + 1):
        s = math.fsum((m + 1 - i) * b[i] * b[m + 1 - i] for i in range(2, m))
        b.append((b[m - 1] - s) / (m + 1))
    r = [1.0]  # f = eta / mu = sum r_m eta^m
    for n in range(1, orders + 1):
        r.append(-math.fsum(b[j + 1] * r[n - j] for j in range(1, n + 1)))
    g = [float(v) for v in _stirling_coefficients(orders // 2 + 1)]

    def add(p, q):
        if len(p) < len(q):
            p, q = q, p
        out = p.copy()
        out[:len(q)] += q
        return out

    conv, zero, z1 = np.convolve, np.zeros(1), np.array([0.0, 1.0])
    h = [z1]  # h's orders in s: z, u_1, u_2, ...
    hp = [None] + [[np.eye(1, m + 1, m)[0]] for m in range(1, powers + 1)]  # h^m's orders
    expo, ex, fs = [zero], [np.ones(1)], [np.ones(1)]  # z u + u^2/2, its exp, f(s h)
    for n in range(1, orders + 1):
        fn = zero
        for m in range(1, n + 1):
            fn = add(fn, r[m] * hp[m][n - m])
        fs.append(fn)
        lhs = fn
        for i in range(1, n):  # (u_i' f(s h) at order n; u_1 = -1/3)
            if len(h[i]) > 1:
                lhs = add(lhs, conv(h[i][1:] * np.arange(1, len(h[i])), fs[n - i]))
        e_n = zero
        for i in range(1, n):
            e_n = add(e_n, 0.5 * conv(h[i], h[n - i]))
        expo.append(e_n)
        acc = zero
        for k in range(1, n + 1):
            acc = add(acc, k * conv(expo[k], ex[n - k]))
        ex.append(acc / n)
        rhs = zero
        for k in range(n // 2 + 1):
            rhs = add(rhs, g[k] * ex[n - 2 * k])
        res = add(rhs, -lhs)
        # u' - z u = res: u_(j-1) = (j + 1) u_(j+1) - res_j from the top (res_0 = u_1 holds)
        top = len(res) - 2
        u = np.zeros(top + 3)
        for j in range(top + 1, 0, -1):
            u[j - 1] = (j + 1) * u[j + 1] - res[j]
        u = u[:top + 1]
        h.append(u)
        zu = conv(z1, u)
        expo[n] = add(expo[n], zu)
        ex[n] = add(ex[n], zu)
        hp[1].append(u)
        for m in range(2, powers + 1):
            acc = zero
            for i in range(n + 1):
                acc = add(acc, conv(h[i], hp[m - 1][n - i]))
            hp[m].append(acc)
    rows = []
    for n in range(-1, n_max + 1):
        acc = zero
        for m in range(1, n + 3):
            acc = add(acc, b[m] * hp[m][n + 2 - m])
        rows.append(tuple(float(c) for c in acc))
    value = tuple(rows)
    _temme_da_coefficients()  # (the cache's first entry)
    _temme_da_cache[1:] = [e for e in _temme_da_cache[1:] if e[0] != key] + [(key, value)]
    return value


def gamma_quantile_region(a, y):
    """Where the inverses' derivatives come from the series in 1/sqrt(a) (a >= 7.5 finite,
    1/4 <= y <= 3/4)."""
    lo, hi = _QUANTILE_Y
    return (a >= _QUANTILE_MIN_A) & (a < math.inf) & (y >= lo) & (y <= hi)


def _quantile_rows_for(a_min):
    """The highest power of s = a^-1/2 kept where every a is at least ``a_min``: s^(N - 4)
    below 1e-16 (the second derivatives in a start at s^6 near the median; the rows'
    coefficients are at most ~5e-3), and below a = 12, where the terms shrink only as
    (4/a)^(n/2), (4/a)^(N/2) below 2e-8 (fitted to mpmath's: the series within ~2e-15
    at a = 10), at most _QUANTILE_N."""
    s = a_min ** -0.5
    if not s > 0.0:
        return 4
    if not a_min > 4.0:
        return _QUANTILE_N
    n = max(4 + math.ceil(16.0 / -math.log10(s)), math.ceil(15.4 / math.log10(a_min / 4.0)))
    return int(min(_QUANTILE_N, n))


_quantile_tables = {}


def _quantile_table(n_max, j):
    """For gamma_quantile_series: for each parity of n + j with rows, (the rows' n, their
    coefficients of z^(2m + parity) for m = 0, 1, ... as nested lists [m][row][0], zero
    beyond a row's degree); cached per (n_max, j)."""
    key = (n_max, j)
    out = _quantile_tables.get(key)
    if out is not None:
        return out
    rows = _gamma_quantile_coefficients(n_max)[:n_max + 2]
    ns = [n for n, row in zip(range(-1, len(rows) - 1), rows) if len(row) > j]
    table = _derived_rows([rows[n + 1] for n in ns], j)
    out = []
    for parity in (0, 1):
        group = [(n, t) for n, t in zip(ns, table) if (n + j) % 2 == parity]
        if not group:
            continue
        halves = [t[parity::2] for _, t in group]
        width = max(len(h) for h in halves)
        out.append((parity, [n for n, _ in group],
                    [[[h[k] if k < len(h) else 0.0] for h in halves] for k in range(width)]))
    _quantile_tables[key] = out
    return out


def gamma_quantile_series(backend, i, j, a, z, /, n_max=_QUANTILE_N):
    """d^(i+j) (x - a) / da^i dz^j of the gamma quantile x at the normal quantile z (x - a =
    sum_n d_n(z) a^(-n/2), see above; the rows to s^n_max): float64 arrays of one shape.
    Row n has the parity of n (in z): the rows of each parity of n + j by Horner in z^2 at
    once, the odd ones times z."""
    xp = backend.xp
    groups = _quantile_table(n_max, j)
    shape = z.shape
    a = xp.reshape(a, (-1,))
    z = xp.reshape(z, (-1,))
    zz = xp.expand_dims(z * z, axis=0)
    # d^i/da^i a^(-n/2) = (-n/2) (-n/2 - 1) ... (-n/2 - i + 1) a^(-n/2 - i); the powers of
    # s = a^-1/2 by products from a^(1/2 - i) (n = -1)
    s = 1.0 / xp.sqrt(a)
    power = xp.sqrt(a) * s ** (2 * i) if i else xp.sqrt(a)
    used = {n for _, ns, _ in groups for n in ns}
    weights = {}
    for n in range(-1, max(used) + 1):
        if n in used:
            weights[n] = math.prod(-n / 2.0 - k for k in range(i)) * power
        power = power * s
    out = None
    for parity, ns, coeffs in groups:
        # (the coefficients of z^(2m + parity): zero between)
        cols = _rows(xp, xp.asarray(coeffs, dtype=xp.float64, device=backend.device(z)))
        vals = cols[-1] * xp.ones_like(zz)
        for col in cols[-2::-1]:
            vals = vals * zz + col
        part = xp.sum(vals * xp.stack([weights[n] for n in ns], axis=0), axis=0)
        if parity:
            part = part * z
        out = part if out is None else out + part
    return xp.reshape(out, shape)


# -- the inverses near the median below a = 7.5: d2x/da2 in double-double --------------------
#
# (session 56) Below a = 7.5 the series above is asymptotic (its rows grow factorially: at
# a = 6 its smallest term is ~3e-12 of d2x/da2; 8.1e-13 off at 7, 2.3e-13 at 7.5) and the
# implicit-function form d2x/da2 = -(P_aa + 2 P_ax x' + P_xx x'^2) / P_x has terms ~1/(3a)
# that cancel to ~16/(405 a^3) at the median (~300x at a = 6): the rounding of its pieces,
# ~eps each, was ~1e-12 of the result (1.2e-12 at (6, 1/2), 2.1e-12 at (6.9, 1/2), 3.4e-13
# at 4). The cancellation is the quantity's own (each exact form of it tried has terms
# ~1/a^2 or larger), so there (2.5 <= a < 7.5, 1/4 <= y <= 3/4) that form is evaluated at the
# root x (taken as exact) in double-double arithmetic, from P's power series P = e^L S,
# S = sum_n t_n, t_n = x^n / ((a + 1) ... (a + n)) (positive terms; e^L cancels):
#
#   d2x/da2 = -R (A2 + A1^2 - 2 w A1 + c R A1^2),  R = P / P_x = x S / a,
#   A1 = d log P / da = La - E[h],  A2 = d2 log P / da2 = Var[h] + E[k] - trigamma(a + 1),
#   w = La + 1/a = log x - digamma(a),  c = (a - 1)/x - 1,  La = log x - digamma(a + 1),
#
# (the bracket's terms ~0.1 cancel ~3700x at a = 6) with h_n, k_n the sums of 1/(a + j) and
# 1/(a + j)^2 over j <= n and the weights t_n / S: t_n, h_n, k_n by prefix products and
# sums over the terms at once, in double-double up to t_K <= 1e-4, in float64 beyond;
# trigamma(a + 1) = k_K + trigamma(a + K + 1) (its asymptotic series there, a + K >= 19).
# Only La is in float64: log1p((x - a - 1)/(a + 1)) + (log(a + 1) - digamma(a + 1)), the
# latter the asymptotic series at a + K + 1 plus the positive sum of v - log1p(v),
# v = 1/(a + j): a few ulps, an error every term shares (it moves the result ~0.1 of its
# own size at the median). Within 8e-14 of mpmath's value of the form at the same x (x's
# own rounding adds up to ~1e-13 at the median near a = 7.5, where the series is as good;
# relative to the result, larger only where it crosses 0); its derivatives (the third
# order) are the implicit form's (P_aaa: gammainc_da).

# (the least a where d2x/da2 comes from the double-double form: below, the implicit form is
# within ~1e-14 near the median, 1e-16 at (2, 1/2) against this form's 1.1e-14)
_QUANTILE_DD_MIN_A = 2.5
_SPLIT = 134217729.0  # 2^27 + 1: Veltkamp's splitting of a float64 into two halves


def gamma_quantile_low_region(a, y):
    """Where the inverses' d2x/da2 comes from gamma_quantile_d2 (2.5 <= a < 7.5,
    1/4 <= y <= 3/4)."""
    lo, hi = _QUANTILE_Y
    return (a >= _QUANTILE_DD_MIN_A) & (a < _QUANTILE_MIN_A) & (y >= lo) & (y <= hi)


# (double-doubles: pairs (hi, lo) of float64 arrays, hi + lo exact, |lo| <= ulp(hi) / 2)
def _two_sum(a, b):
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _fast_two_sum(a, b):  # (|a| >= |b|)
    s = a + b
    return s, b - (s - a)


def _two_prod(a, b):
    p = a * b
    t = _SPLIT * a
    ah = t - (t - a)
    t = _SPLIT * b
    bh = t - (t - b)
    al, bl = a - ah, b - bh
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


def _dd_add(x, y):
    s, e = _two_sum(x[0], y[0])
    t, f = _two_sum(x[1], y[1])
    s, e = _fast_two_sum(s, e + t)
    return _fast_two_sum(s, e + f)


def _dd_add_same(x, y):
    """x + y for x, y of one sign (nothing cancels)."""
    s, e = _two_sum(x[0], y[0])
    return _fast_two_sum(s, e + (x[1] + y[1]))


def _dd_sub(x, y):
    return _dd_add(x, (-y[0], -y[1]))


def _dd_mul(x, y):
    p, e = _two_prod(x[0], y[0])
    return _fast_two_sum(p, e + (x[0] * y[1] + x[1] * y[0]))


def _dd_mul_d(x, d):
    p, e = _two_prod(x[0], d)
    return _fast_two_sum(p, e + x[1] * d)


def _dd_div(x, y):
    q = x[0] / y[0]
    r = _dd_sub(x, _dd_mul_d(y, q))
    return _fast_two_sum(q, r[0] / y[0])


def _dd_prefix(xp, op, pair):
    """The inclusive prefix of ``op`` along the first axis (log2 steps of shifted halves)."""
    hi, lo = pair
    n, s = hi.shape[0], 1
    while s < n:
        nh, nl = op((hi[s:, ...], lo[s:, ...]), (hi[:-s, ...], lo[:-s, ...]))
        hi = xp.concat((hi[:s, ...], nh), axis=0)
        lo = xp.concat((lo[:s, ...], nl), axis=0)
        s *= 2
    return hi, lo


def _dd_total(xp, pair):
    """The sum along the first axis of same-signed double-doubles (pairwise)."""
    hi, lo = pair
    while hi.shape[0] > 1:
        if hi.shape[0] % 2:
            z = xp.zeros_like(hi[:1, ...])
            hi, lo = xp.concat((hi, z), axis=0), xp.concat((lo, z), axis=0)
        h = hi.shape[0] // 2
        hi, lo = _dd_add_same((hi[:h, ...], lo[:h, ...]), (hi[h:, ...], lo[h:, ...]))
    return hi[0, ...], lo[0, ...]


def _quantile_d2_terms(x_max, a_min):
    """(K, N) for gamma_quantile_d2: the terms t_1 .. t_K of S in double-double, up to
    t_K <= 1e-4 (S >= 1: the later ones' float rounding is below 1e-20 of the sums) with
    a + K + 1 >= 20 (the asymptotic series of digamma and trigamma there); t_(K+1) .. t_N
    in float64, up to t_N <= 1e-22 with the ratios x / (a + n) below 1/2 from there on."""
    n, log_t, k = 0, 0.0, None
    while log_t > -50.7 or x_max > 0.5 * (a_min + n) or k is None:
        n += 1
        log_t += math.log(x_max / (a_min + n))
        if k is None and log_t < -9.3 and a_min + n >= 19.0:
            k = n
    return k, n


def _prefix(xp, op, v):
    """The inclusive prefix of ``op`` along the first axis of ``v`` (as _dd_prefix)."""
    n, s = v.shape[0], 1
    while s < n:
        v = xp.concat((v[:s, ...], op(v[s:, ...], v[:-s, ...])), axis=0)
        s *= 2
    return v


def gamma_quantile_d2(backend, a, x, /):
    """d2x/da2 of the root x of P(a, x) = y (or Q(a, x) = y) at fixed y, from (a, x), x
    taken as exact, in double-double (see above): float64 arrays of one shape, 2 <= a < 8
    and 0 < x < 20 (where the sums are short; 1/(a + 1) <= 1/3 for log1pmx's series)."""
    xp = backend.xp
    shape = x.shape
    a, x = xp.reshape(a, (-1,)), xp.reshape(x, (-1,))
    if not math.prod(shape):
        return xp.reshape(x, shape)
    import numpy as np
    if type(x) is np.ndarray and x.shape[0] <= _D2_FLOATS_MAX:
        # (a few NumPy elements, each in Python floats: the array form's ~500 NumPy calls on
        # one element cost ~1 ms, hessian(gammaincinv) at one point ~30 % of its time; the
        # same sums, in the order of a loop, ~0.1 ms an element)
        return np.reshape(np.array([_quantile_d2_float(av, xv) for av, xv in
                                    zip(a.tolist(), x.tolist())], dtype=np.float64), shape)
    k_dd, n = _quantile_d2_terms(float(backend.to_numpy(xp.max(x))),
                                 float(backend.to_numpy(xp.min(a))))
    zero = xp.zeros_like(a)
    one = (xp.ones_like(a), zero)
    steps = xp.reshape(xp.arange(1, n + 1, dtype=xp.float64, device=backend.device(a)),
                       (-1, 1))
    a_row, x_row = xp.expand_dims(a, axis=0), xp.expand_dims(x, axis=0)
    # the first K terms in double-double
    den = _two_sum(a_row, steps[:k_dd, ...])  # a + j, j = 1 .. K
    v = _dd_div((xp.ones_like(den[0]), xp.zeros_like(den[0])), den)
    t = _dd_prefix(xp, _dd_mul, _dd_mul_d(v, x_row))
    h = _dd_prefix(xp, _dd_add_same, v)
    k = _dd_prefix(xp, _dd_add_same, _dd_mul(v, v))
    th = _dd_mul(t, h)
    s = _dd_add_same(_dd_total(xp, t), one)  # (t_0 = 1, h_0 = k_0 = 0)
    sum_h = _dd_total(xp, th)
    sum_hh = _dd_total(xp, _dd_mul(th, h))
    sum_k = _dd_total(xp, _dd_mul(t, k))
    # the rest in float64, from the K-th term's t, h, k
    v_tail = 1.0 / (a_row + steps[k_dd:, ...])
    t_tail = t[0][-1, ...] * _prefix(xp, lambda p, q: p * q, x_row * v_tail)
    h_tail = h[0][-1, ...] + _prefix(xp, lambda p, q: p + q, v_tail)
    k_tail = k[0][-1, ...] + _prefix(xp, lambda p, q: p + q, v_tail * v_tail)
    th_tail = t_tail * h_tail
    s = _dd_add_same(s, (xp.sum(t_tail, axis=0), zero))
    sum_h = _dd_add_same(sum_h, (xp.sum(th_tail, axis=0), zero))
    sum_hh = _dd_add_same(sum_hh, (xp.sum(th_tail * h_tail, axis=0), zero))
    sum_k = _dd_add_same(sum_k, (xp.sum(t_tail * k_tail, axis=0), zero))
    from .generic import _log1pmx_neg
    log1pmx_sum = xp.sum(_log1pmx_neg(xp, v[0]), axis=0)
    d2 = _quantile_d2_end(xp.log1p, a, x, k_dd, (s, sum_h, sum_hh, sum_k),
                          (k[0][-1, ...], k[1][-1, ...]), log1pmx_sum, one, zero)
    return xp.reshape(d2, shape)


_D2_FLOATS_MAX = 8  # (up to this many elements one at a time: ~0.1 ms each; the arrays ~1 ms)


def _quantile_d2_float(a, x):
    """gamma_quantile_d2 at one element, Python floats: the array form's sums as a loop
    (running products and sums in place of the prefixes; the same double-double terms, the
    same float64 tail), its K and N from this element alone."""
    k_dd, n = _quantile_d2_terms(x, a)
    t, h, k = (1.0, 0.0), (0.0, 0.0), (0.0, 0.0)
    s, sum_h, sum_hh, sum_k = (1.0, 0.0), (0.0, 0.0), (0.0, 0.0), (0.0, 0.0)
    log1pmx_sum = 0.0
    for j in range(1, k_dd + 1):
        v = _dd_div((1.0, 0.0), _two_sum(a, float(j)))
        t = _dd_mul(t, _dd_mul_d(v, x))
        h = _dd_add_same(h, v)
        k = _dd_add_same(k, _dd_mul(v, v))
        th = _dd_mul(t, h)
        s = _dd_add_same(s, t)
        sum_h = _dd_add_same(sum_h, th)
        sum_hh = _dd_add_same(sum_hh, _dd_mul(th, h))
        sum_k = _dd_add_same(sum_k, _dd_mul(t, k))
        log1pmx_sum += _log1pmx_neg_float(v[0])
    t_last, h_last, k_last = t[0], h[0], k[0]
    prod, cum_v, cum_vv = 1.0, 0.0, 0.0
    tail = [0.0, 0.0, 0.0, 0.0]
    for j in range(k_dd + 1, n + 1):
        v = 1.0 / (a + j)
        prod *= x * v
        cum_v += v
        cum_vv += v * v
        tt = t_last * prod
        hh = h_last + cum_v
        th = tt * hh
        tail[0] += tt
        tail[1] += th
        tail[2] += th * hh
        tail[3] += tt * (k_last + cum_vv)
    sums = tuple(_dd_add_same(d, (f, 0.0)) for d, f in zip((s, sum_h, sum_hh, sum_k), tail))
    return _quantile_d2_end(math.log1p, a, x, k_dd, sums, k, log1pmx_sum, (1.0, 0.0), 0.0)


_LOG1PMX_COEFFICIENTS = tuple(1.0 / (j + 2) for j in range(41))


def _log1pmx_neg_float(mu):
    """generic._log1pmx_neg at a Python float 0 < mu <= 0.3, its series cut where the terms
    drop below 1e-17 of the first (41 terms at 0.3, 15 at 1/14)."""
    m = min(41, int(17.0 / -math.log10(mu)) + 2)
    total = 0.0
    for c in _LOG1PMX_COEFFICIENTS[m - 1::-1]:
        total = total * (-mu) + c
    return mu * mu * total


def _quantile_d2_end(log1p, a, x, k_dd, sums, k_last, log1pmx_sum, one, zero):
    """gamma_quantile_d2 from its sums S, sum t h, sum t h^2, sum t k (double-doubles),
    k_K and sum_(j <= K) (v_j - log1p(v_j)): arrays, or Python floats (``log1p`` the
    function of their kind)."""
    s, sum_h, sum_hh, sum_k = sums
    inv_s = _dd_div(one, s)
    mean_h, mean_hh, mean_k = (_dd_mul(v, inv_s) for v in (sum_h, sum_hh, sum_k))
    # trigamma(a + 1) = k_K + trigamma(b), b = a + K + 1: 1/b + 1/(2 b^2) + sum B_2k / b^(2k+1)
    b = _two_sum(a, float(k_dd + 1))
    inv_b = _dd_div(one, b)
    tri = _dd_add_same(inv_b, _dd_mul_d(_dd_mul(inv_b, inv_b), 0.5))
    tri = _dd_add_same(tri, (_poly_inv(None, b[0], _B2K, 3), zero))
    tri = _dd_add_same(tri, k_last)
    # La = log(x / (a + 1)) + log(a + 1) - digamma(a + 1), the latter
    # log(b) - digamma(b) + sum_(j <= K) (v_j - log1p(v_j))
    gap = 0.5 / b[0] + _poly_inv(None, b[0], _DIGAMMA_TAIL, 2) + log1pmx_sum
    a1p = _two_sum(a, 1.0)
    la = (log1p(((x - a1p[0]) - a1p[1]) / a1p[0]) + gap, zero)
    w = _dd_add(la, _dd_div(one, (a, zero)))
    a1 = _dd_sub(la, mean_h)
    a2 = _dd_sub(_dd_add_same(_dd_sub(mean_hh, _dd_mul(mean_h, mean_h)), mean_k), tri)
    r = _dd_div(_dd_mul_d(s, x), (a, zero))
    c = _dd_sub(_dd_div(_two_sum(a, -1.0), (x, zero)), one)
    a1_sq = _dd_mul(a1, a1)
    inner = _dd_sub(_dd_add(a2, a1_sq), _dd_mul_d(_dd_mul(w, a1), 2.0))
    inner = _dd_add(inner, _dd_mul(_dd_mul(c, r), a1_sq))
    return -_dd_mul(r, inner)[0]


# -- derivatives of the regularized incomplete beta function in its shapes --------------------
#
# betainc_dab(i, j, a, b, x) = d^(i+j) I_x(a, b) / da^i db^j for i + j = 1 or 2 (3: see the
# jets at the end of this module, the same paths). On the side
# x <= (a + 1) / (a + b + 2) (elsewhere on the complement, I_x(a, b) = 1 - I_(1-x)(b, a),
# whose derivatives are the negated ones with the roles of a and b exchanged) the function is
# factored as I = e^M F with
#
#   M = log(x^p y^q / (p B(p, q)))    (p, q the shapes of that side, y = 1 - x)
#   F = 1 / (1 + d_1 / (1 + d_2 / (1 + ...)))  (the continued fraction of DiDonato and
#       Morris / Numerical Recipes; d_(2m+1) = -(p+m)(p+q+m) x / ((p+2m)(p+2m+1)),
#       d_(2m) = m (q-m) x / ((p+2m-1)(p+2m)), each rational in p and q)
#
# and the gradient and Hessian of log I in (p, q) are those of M (closed form) plus those of
# log F (carried through the modified Lentz recurrence: each running factor D = 1/(1 + d D')
# and C = 1 + d / C' brings the gradient and Hessian of its logarithm, from the partial
# numerator's own first and second derivatives). The derivatives of I are then
# I g and I (H + g g^T), each formed as sign * exp(log I + log|factor|), so that they keep
# their relative precision where I (or 1 - I) is far below 1.
#
# M is written with Stirling's series, exactly for any p, q: with log Gamma(z) =
# (z - 1/2) log z - z + log(2 pi)/2 + corr(z) (corr by its asymptotic series from z = 10 on,
# from lgamma below), s = (x q - y p) / p and t = -(x q - y p) / q (x/x0 - 1 and y/y0 - 1 for
# the mean x0 = p / (p + q)),
#
#   M = p log1pmx(s) + q log1pmx(t) + log(q / (p (p + q))) / 2 - log(2 pi) / 2
#       - corr(p) - corr(q) + corr(p + q),
#
# whose terms are of the size of M itself (no p log x against log B(p, q) of 1e4 each), and
#
#   dM/dp = log1p(s) - (digamma(p + 1) - log p) + (digamma(p + q) - log(p + q)),
#   dM/dq = log1p(t) - (digamma(q) - log q) + (digamma(p + q) - log(p + q)),
#   d2M/dp2 = trigamma(p + q) - trigamma(p + 1), d2M/dq2 = trigamma(p + q) - trigamma(q),
#   d2M/dpdq = trigamma(p + q),
#
# with the differences digamma(z) - log z by their asymptotic series from z = 10 on (and
# digamma(p + 1), not digamma(p) + 1/p, so that -1/p does not cancel a small p's digamma),
# and the trigamma differences as sums of positive terms (_trigamma_diff).
#
# Where p <= 1 and the side's J = I_u(p, q) is above 1/2 (u between the median and the split:
# for a small p nearly all of the range), log J's derivatives are the small difference of
# the prefactor's and the fraction's (each of size 1, J being 1 - O(p)); there the power
# series J = e^z (1 + T) is differentiated instead (_beta_series_derivatives), whose pieces
# dz/dq = digamma(p + q) - digamma(q) and T are O(p) and computed as such.
#
# Accuracy in float64 (tests/test_shape_derivatives.py, against mpmath): about 1e-12
# relative for a, b from 1e-3 to 1e4 and x from 1e-300 to 1 - 1e-10 (first order: below
# 8e-13; second order: below 3e-12 relative to the size of its terms |I_i I_j / I|, the
# scale of its rounding where it changes sign). Where p >> q and u is close to 1 on the
# fraction's side each of its partial denominators loses about eps / (1 - u) (7e-10 at
# a = 1e8, b = 50, 1 - x = 6e-7; 1e-10 at (0.3, 1e6, 1.67e-6) and (1e4, 1e8, 1.025e-4),
# flipped); there (1 - u <= 1/64, J > 16 (1 - u)) the complement's positive power series
# gives J's derivatives instead (_beta_complement_series): those three within 1e-14 of
# mpmath; over a sweep (a 50 .. 1e6, b 0.05 .. 40, x within the bulk near 1) 5e-13 (the
# fraction there: 6e-12). The loss left: near the centre of large shapes the fraction's
# log-derivatives are sums of terms much larger than the total (a second derivative at
# a = b = 1e4, x = 1/2 has about 2e-10 relative to itself, 2e-12 relative to its terms).
# Computed in float64
# whatever the dtype, returned in x's dtype; 0 at x = 0 and x = 1, nan for invalid
# arguments (a, b <= 0 or infinite, x outside [0, 1], nan).

_BETA_MAX_STEPS = 20000
_LOG_2 = math.log(2.0)
# where the complement's series replaces the fraction (_beta_complement_series): w = 1 - u
# at most 1/64, J above 16 w (the series' derivatives lose about eps / J, K's log-derivative
# being J' / K; the fraction's eps / w a step) and the series' largest term not beyond its
# 2000th
_NEAR_ONE_W = 1.0 / 64.0
_LOG_J_OVER_W = math.log(16.0)
_SERIES_PEAK_MAX = 2000.0


def _lgamma_corr(backend, z):
    """corr(z) = log Gamma(z) - ((z - 1/2) log z - z + log(2 pi) / 2)."""
    plain = _on_constants(z)
    if plain is not None:  # (``backend`` is then functrans.scipy.special's stand-in)
        (z_v,), own = plain
        return _as_functrans_would(_lgamma_corr(own, z_v), (z,))
    xp = backend.xp
    large = z >= _LARGE_A
    zl = xp.where(large, z, xp.full_like(z, _LARGE_A))
    zs = xp.where(large, xp.ones_like(z), z)
    small = backend.extra("lgamma")(zs) - ((zs - 0.5) * xp.log(zs) - zs + _HALF_LOG_2PI)
    return xp.where(large, _poly_inv(xp, zl, _STIRLING, 1), small)


def _digamma_minus_log(backend, z, shift):
    """digamma(z + shift) - log z (shift 0 or 1)."""
    xp = backend.xp
    large = z >= _LARGE_A
    zl = xp.where(large, z, xp.full_like(z, _LARGE_A))
    zs = xp.where(large, xp.ones_like(z), z)
    small = backend.extra("digamma")(zs + shift) - xp.log(zs)
    # digamma(z) = log z - 1/(2z) - sum_k B_2k / (2k z^2k); digamma(z + 1) = digamma(z) + 1/z
    series = (shift - 0.5) / zl - _poly_inv(xp, zl, _DIGAMMA_TAIL, 2)
    return xp.where(large, series, small)


def _beta_prefactor_parts(backend, p, q, x, y, lo, log_x, log_y, second, q_shift=0.0):
    """M = log(x^p y^q / (p B(p, q))), its gradient (dM/dp, dM/dq) and (``second``) its
    Hessian (pp, pq, qq). ``x`` and ``y`` are the rounded values of a pair with sum 1,
    ``x_lo``, ``y_lo`` (``lo``) what each misses (one of them 0), ``log_x``, ``log_y``
    their accurate logarithms. With ``q_shift`` 1, the gradient is that of M - log q
    (dM/dq - 1/q without the cancellation for a small q)."""
    from . import generic  # (which imports this module)
    xp = backend.xp
    x_lo, y_lo = lo
    s_num = x * q - y * p + (x_lo * q - y_lo * p)   # p s = -q t
    # (M itself: the generic incomplete beta function's prefactor, one implementation)
    m = generic._log_beta_front(xp, p, q, x, y, log_x, log_y,
                                generic._beta_front_const(backend, p, q), s_num=s_num)
    s = s_num / p
    t = -s_num / q
    near_s, near_t = xp.abs(s) < 0.5, xp.abs(t) < 0.5
    zero = xp.zeros_like(s)
    log1p_s = xp.where(near_s, xp.log1p(xp.where(near_s, s, zero)), log_x + xp.log1p(q / p))
    log1p_t = xp.where(near_t, xp.log1p(xp.where(near_t, t, zero)), log_y + xp.log1p(p / q))
    pq = p + q
    tail_pq = _digamma_minus_log(backend, pq, 0.0)
    gp = log1p_s - _digamma_minus_log(backend, p, 1.0) + tail_pq
    gq = log1p_t - _digamma_minus_log(backend, q, q_shift) + tail_pq
    if not second:
        return m, (gp, gq), None
    hpp, hqq = _trigamma_hessian(backend, p, q)
    return m, (gp, gq), (hpp, backend.extra("polygamma")(1, pq), hqq)


_BETA_BLOCK = 8  # pairs of partial numerators whose coefficients are computed at once


def _beta_fraction_parts(backend, p, q, x, second, scale, first_den):
    """log F and the gradient and (``second``) Hessian of log F in (p, q), F the continued
    fraction of I_x(p, q) (modified Lentz; good for x <= (p + 1) / (p + q + 2)). Each
    element stops when its factor and the increments of the derivatives over a pair of
    steps are below the rounding (relative to ``scale``: the sizes of the prefactor's
    derivatives it is added to); nan where one has not after _BETA_MAX_STEPS pairs.
    ``first_den``: 1 + d_1, computed by the caller without the cancellation of
    1 - (p + q) x / (p + 1) (x close to 1).

    The gradient (p, q) and the (symmetric, 2 x 2) Hessian are stacked on leading axes, and
    the partial numerators and their derivatives are computed for _BETA_BLOCK pairs at once
    (the steps on one more leading axis), so that a step is about twenty array operations
    whatever the number of derivatives: on torch and array-api-strict the per-operation
    cost dominates (small arrays). Convergence is checked after 2, 4 and 8 pairs, then
    every 8."""
    xp = backend.xp
    dev = backend.device(x)
    f64 = xp.float64
    shape = x.shape
    lead = (1,) * len(shape)

    def col(v):  # (2, ...) as (2, 1, ...) and (1, 2, ...): outer products by broadcasting
        return xp.expand_dims(v, axis=1)

    def row(v):
        return xp.expand_dims(v, axis=0)

    m_blk = _BETA_BLOCK
    r_shape = (m_blk,) + lead
    scale_g = xp.stack(scale[0], axis=0)
    scale_h = None
    if second:  # the Hessians are kept whole (2 x 2, symmetric)
        s_pp, s_pq, s_qq = scale[1]
        scale_h = xp.stack([xp.stack([s_pp, s_pq]), xp.stack([s_pq, s_qq])])
    # the first factor (m = 0, odd): D = 1 / first_den, C stays 1
    one = xp.ones_like(x)
    d = one / (first_den + _TINY)
    c = one
    h = d
    gc = xp.zeros((2,) + shape, dtype=f64, device=dev)
    hc = xp.zeros((2, 2) + shape, dtype=f64, device=dev) if second else None
    gd = hd = None  # set from the first block's first coefficients
    g_tot = h_tot = None
    done = xp.zeros(shape, dtype=xp.bool, device=dev)
    kept = None   # (h, g_tot, h_tot) as of each element's convergence (see _held)
    checks = {2, 4}
    for m0 in range(0, _BETA_MAX_STEPS + 1, m_blk):
        ms = [float(m0 + k) for k in range(m_blk)]
        m_odd = xp.reshape(xp.asarray(ms, dtype=f64, device=dev), r_shape)
        m_even = xp.reshape(xp.asarray([max(v, 1.0) for v in ms], dtype=f64, device=dev),
                            r_shape)
        # odd partial numerators d_(2m+1) = w nn and their derivatives (shape (M, ...))
        u1 = 1.0 / (p + 2.0 * m_odd)
        u2 = 1.0 / (p + (2.0 * m_odd + 1.0))
        r = u1 + u2
        w = -x * u1 * u2
        nn = (p + m_odd) * ((p + q) + m_odd)
        n_p = (2.0 * p + q) + 2.0 * m_odd
        n_q = p + m_odd
        al_o = w * nn
        al1_o = xp.stack([w * (n_p - nn * r), w * n_q], axis=1)
        odd = [_rows(xp, al_o), _rows(xp, al1_o)]
        if second:
            al2_o = _sym2(xp, w * (2.0 - 2.0 * n_p * r + nn * (r * r + u1 * u1 + u2 * u2)),
                          w * (1.0 - n_q * r), xp.zeros_like(w))
            odd += [_rows(xp, al2_o), _rows(xp, xp.expand_dims(al1_o, axis=2)),
                    _rows(xp, xp.expand_dims(al1_o, axis=1))]
        # even ones d_(2m) = c0 (q - m)
        u1 = 1.0 / (p + (2.0 * m_even - 1.0))
        u2 = 1.0 / (p + 2.0 * m_even)
        r = u1 + u2
        c0 = m_even * x * u1 * u2
        al_e = c0 * (q - m_even)
        al1_e = xp.stack([-al_e * r, c0], axis=1)
        even = [_rows(xp, al_e), _rows(xp, al1_e)]
        if second:
            al2_e = _sym2(xp, al_e * (r * r + u1 * u1 + u2 * u2), -c0 * r, xp.zeros_like(c0))
            even += [_rows(xp, al2_e), _rows(xp, xp.expand_dims(al1_e, axis=2)),
                     _rows(xp, xp.expand_dims(al1_e, axis=1))]
        for k in range(m_blk):
            m = m0 + k
            if m == 0:
                gd = -d * odd[1][0]
                g_tot = gd
                if second:
                    hd = -d * odd[2][0] + col(gd) * row(gd)
                    h_tot = hd
                continue
            check = m in checks or (m >= 8 and m % m_blk == 0)
            pair_log = pair_g = pair_h = None
            for coef in (even, odd):
                al, al1 = coef[0][k], coef[1][k]
                # D <- 1 / (1 + al D): log-gradient -dn (al1 + al gd) ...
                dn = one / ((1.0 + al * d) + _TINY)
                f = -dn * d
                gdn = f * (al1 + al * gd)
                # C <- 1 + al / C
                inv_c = one / c
                cn = (1.0 + al * inv_c) + _TINY
                s = inv_c / cn
                gcn = (al1 - al * gc) * s
                if second:
                    al2, a1c, a1r = coef[2][k], coef[3][k], coef[4][k]
                    gd_c, gd_r = col(gd), row(gd)
                    hdn = (f * (al2 + a1c * gd_r + a1r * gd_c + al * (hd + gd_c * gd_r))
                           + col(gdn) * row(gdn))
                    gc_c, gc_r = col(gc), row(gc)
                    hcn = ((al2 - a1c * gc_r - a1r * gc_c + al * (gc_c * gc_r - hc)) * s
                           - col(gcn) * row(gcn))
                    hd, hc = hdn, hcn
                    inc_h = hdn + hcn
                    h_tot = h_tot + inc_h
                d, c, gd, gc = dn, cn, gdn, gcn
                delta = dn * cn
                h = h * delta
                inc_g = gdn + gcn
                g_tot = g_tot + inc_g
                if check:
                    if pair_log is None:
                        pair_log, pair_g = xp.abs(delta - 1.0), inc_g
                        pair_h = inc_h if second else None
                    else:
                        pair_log = pair_log + xp.abs(delta - 1.0)
                        pair_g = pair_g + inc_g
                        pair_h = pair_h + inc_h if second else None
            if check:
                small = (pair_log <= 2.0 * _EPS) & xp.all(
                    xp.abs(pair_g) <= _EPS * (xp.abs(g_tot) + scale_g), axis=0)
                if second:
                    small = small & xp.all(xp.abs(pair_h) <= _EPS * (xp.abs(h_tot) + scale_h),
                                           axis=(0, 1))
                kept = _held(xp, small & ~done, kept, h, g_tot, h_tot)
                done = done | small
                if _all_true(backend, done):
                    return _fraction_out(xp, done, *kept)
    return _fraction_out(xp, done, *kept)


def _sym2(xp, pp, pq, qq):
    """The symmetric [[pp, pq], [pq, qq]] from (M, ...) arrays: (M, 2, 2, ...)."""
    return xp.stack([xp.stack([pp, pq], axis=1), xp.stack([pq, qq], axis=1)], axis=1)


def _rows(xp, v):
    """The slices v[k, ...] along the first axis (one call with unstack where the namespace
    has it: array-api-strict's indexing costs about four arithmetic operations)."""
    unstack = getattr(xp, "unstack", None)
    if unstack is not None:
        return unstack(v, axis=0)
    return [v[k, ...] for k in range(v.shape[0])]


def _held(xp, newly, kept, *cur):
    """The sums ``cur`` where ``newly`` (the elements that converged at this check), the
    ``kept`` ones elsewhere (``cur`` itself at the first check): each element's sums as of
    the check at which it converged, whatever its batch (the steps a batch's slower elements
    still take would add rounding-sized terms to the others': 2.7e-13 relative in
    betainc's a slope at (1.5, 2, 0.6) batched with (5e8, 5e11, ~1e-3), session 46)."""
    if kept is None:
        return cur
    return tuple(None if c is None else xp.where(newly, c, k) for c, k in zip(cur, kept))


def _fraction_out(xp, done, h, g_tot, h_tot):
    nan = xp.full_like(h, math.nan)
    hess = None if h_tot is None else [xp.where(done, h_tot[i, j, ...], nan)
                                       for i, j in ((0, 0), (0, 1), (1, 1))]
    return (xp.where(done, xp.log(h), nan), [xp.where(done, g_tot[i, ...], nan) for i in range(2)],
            hess)


def _shift_sum(backend, p, q, term):
    """sum_k term(z_k) over z_k = q + k for the k >= 0 with z_k < 10, and the first z_k >= 10
    (the argument from which the asymptotic series take over). The (at most ten) shifts are
    evaluated at once on a new leading axis (a loop of ten was ~50 array operations per
    call), 16 of them (those from 10 on add 0) summed by halving the axis: the same
    additions in the same order for every element, whatever the batch (``xp.sum`` over the
    axis added a scalar's terms pairwise, a batch's in sequence: an ulp apart, session 46)."""
    xp = backend.xp
    n = 16   # (>= _LARGE_A, a power of two)
    ks = xp.arange(n, dtype=q.dtype, device=backend.device(q))
    zk = q + xp.reshape(ks, (n,) + (1,) * q.ndim)
    below = zk < _LARGE_A
    zs = xp.where(below, zk, xp.ones_like(zk))
    terms = xp.where(below, term(zs), xp.zeros_like(zk))
    while n > 1:
        n //= 2
        terms = terms[:n, ...] + terms[n:, ...]
    return terms[0, ...], q + xp.sum(xp.astype(below, q.dtype), axis=0)


def _lgamma_diff(backend, p, q):
    """lgamma(q + p) - lgamma(q) for 0 < p <= 1, accurate relative to its size where p is
    small: Stirling's series from q + k >= 10 on, less log((q + k + p) / (q + k)) for the
    k below. The difference of Stirling's corrections is taken term by term,
    ``c_k z^(1-2k) expm1((1-2k) log1p(p/z))``, not as corr(z + p) - corr(z) (that lost
    eps/(12 z) against p/(12 z^2): 6e-9 relative at p = 1e-8, q = 1.5)."""
    xp = backend.xp
    head, z, v, log1p_v, corr = _stirling_shifted(backend, p, q)
    tail = z * _log1pmx(xp, v, log1p_v) - 0.5 * log1p_v + p * xp.log(z + p) + corr
    return tail - head


def _stirling_shifted(backend, p, q):
    """The parts of lgamma(q + p) - lgamma(q) shared by _lgamma_diff and _lgamma_diff_log:
    the shifts' sum ``head`` of log1p(p / (q + k)) up to z = q + k >= 10, ``v = p / z``,
    ``log1p(v)`` and the difference of Stirling's corrections corr(z + p) - corr(z), term by
    term."""
    xp = backend.xp
    head, z = _shift_sum(backend, p, q, lambda zk: xp.log1p(p / zk))
    v = p / z
    log1p_v = xp.log1p(v)
    corr = xp.zeros_like(z)
    for k, c in enumerate(_STIRLING, start=1):
        m = 2 * k - 1
        corr = corr + c * xp.expm1(-m * log1p_v) / z ** m
    return head, z, v, log1p_v, corr


def _lgamma_diff_log(backend, p, q):
    """lgamma(q + p) - lgamma(q) - p log(q) for 0 < p <= 1, q > 0, with derivatives
    accurate relative to their size at a huge q: the one in q, psi(q + p) - psi(q) - p / q
    ~ -p (p - 1) / (2 q^2), is not a difference of its terms (``_lgamma_diff`` less ``p
    log q`` cancelled p / q: ~q eps relative; f.logpdf's dfn slope at (2, 1e5, 0.5) was
    8.4e-12 off). Stirling's series from q + k >= 10 on, ``z log1pmx(p/z) + (p - 1/2)
    log1p(p/z) + corr(z + p) - corr(z)``, with the shifts' ``log1p(p / (q + k))`` and ``p
    log1p(k / q)`` below."""
    xp = backend.xp
    head, z, v, log1p_v, corr = _stirling_shifted(backend, p, q)
    # (p log1p(k / q) only where q was shifted: elsewhere its 0 would carry the cotangents
    # p / q through z and back through q, whose rounding was ~q eps of the slope in q)
    shifted = z > q
    k_q = xp.where(shifted, (z - q) / q, xp.zeros_like(q))
    tail = (z * _log1pmx(xp, v, log1p_v) + (p - 0.5) * log1p_v + corr
            + p * xp.log1p(k_q))
    return tail - head


def _digamma_diff(backend, p, q):
    """digamma(q + p) - digamma(q) for 0 < p <= 1 (relative accuracy)."""
    xp = backend.xp
    head, z = _shift_sum(backend, p, q, lambda zk: p / (zk * (zk + p)))
    zp = z + p
    tail = (xp.log1p(p / z) + p / (2.0 * z * zp)
            - (_poly_inv(xp, zp, _DIGAMMA_TAIL, 2) - _poly_inv(xp, z, _DIGAMMA_TAIL, 2)))
    return head + tail


# trigamma(z) = 1/z + 1/(2 z^2) + sum_k B_2k / z^(2k+1)
_TRIGAMMA_TAIL = _B2K


def _trigamma_diff(backend, p, q):
    """trigamma(q) - trigamma(q + p) for p, q > 0 (relative accuracy: positive terms)."""
    xp = backend.xp
    head, z = _shift_sum(backend, p, q,
                         lambda zk: p * (2.0 * zk + p) / (zk * zk * (zk + p) * (zk + p)))
    zp = z + p
    tail = (p / (z * zp) + p * (2.0 * z + p) / (2.0 * z * z * zp * zp)
            + _poly_inv(xp, z, _TRIGAMMA_TAIL, 3) - _poly_inv(xp, zp, _TRIGAMMA_TAIL, 3))
    return head + tail


def _trigamma_hessian(backend, p, q):
    """trigamma(p + q) - trigamma(p + 1) and trigamma(p + q) - trigamma(q), each accurate
    relative to its size (the second derivatives of log(x^p y^q / (p B(p, q))))."""
    xp = backend.xp
    up = q >= 1.0
    one = xp.ones_like(q)
    d_up = _trigamma_diff(backend, xp.where(up, q - 1.0, one), p + 1.0)
    d_down = _trigamma_diff(backend, xp.where(up, one, 1.0 - q), xp.where(up, one, p + q))
    hpp = xp.where(up, -d_up, d_down)
    return hpp, -_trigamma_diff(backend, p, q)


def _lgamma1p(backend, p):
    """log Gamma(1 + p) for 0 < p <= 1, relative accuracy near 0."""
    from .generic import _lgamma1p_small
    xp = backend.xp
    near = p < 0.2
    series = _lgamma1p_small(xp, xp.where(near, p, xp.zeros_like(p)))
    direct = backend.extra("lgamma")(xp.where(near, xp.ones_like(p), p) + 1.0)
    return xp.where(near, series, direct)


def _beta_series_z(backend, p, q, log_u):
    """z = p log u - log(p B(p, q)) and its gradient, dz/dq = digamma(p + q) - digamma(q)
    accurate relative to its size (O(p)) for a small p."""
    digamma = backend.extra("digamma")
    z = p * log_u - (_lgamma1p(backend, p) - _lgamma_diff(backend, p, q))
    z_p = log_u - digamma(p + 1.0) + digamma(p + q)
    return z, z_p, _digamma_diff(backend, p, q)


def _beta_series_derivatives(backend, p, q, u, log_u, second):
    """The derivatives of J = I_u(p, q) in (p, q) for p <= 1 and u <= (p + 1) / (p + q + 2)
    (so that q u < 2 and u <= 2/3) from the power series
    J = e^z (1 + T), z = p log u - log(p B(p, q)), T = sum_(n>=1) c_n u^n p / (p + n),
    c_n = (1 - q)(2 - q)...(n - q) / n!:
    used where J is close to 1, where the continued fraction's log-derivatives (of size 1)
    would cancel to the small derivative of 1 - J. Here dz/dq = digamma(p + q) - digamma(q)
    and T are O(p) and computed as such, so nothing cancels. Returns the gradient (J_p, J_q)
    and (``second``) the Hessian (J_pp, J_pq, J_qq)."""
    xp = backend.xp
    poly = backend.extra("polygamma")
    z, z_p, z_q = _beta_series_z(backend, p, q, log_u)
    zero = xp.zeros_like(u)
    c, c1, c2 = xp.ones_like(u), zero, zero   # c_n and its derivatives in q
    un = xp.ones_like(u)
    t, t_p, t_q, t_pp, t_pq, t_qq = zero, zero, zero, zero, zero, zero
    done = xp.zeros(u.shape, dtype=xp.bool, device=backend.device(u))
    kept = None   # the sums as of each element's convergence (see _held)
    for n in range(1, _BETA_MAX_STEPS + 1):
        fn = float(n)
        if second:
            c2 = (c2 * (fn - q) - 2.0 * c1) / fn
        c1 = (c1 * (fn - q) - c) / fn
        c = c * (fn - q) / fn
        un = un * u
        inv = 1.0 / (p + fn)
        w0 = p * inv * un
        w1 = fn * inv * inv * un
        d_t, d_tp, d_tq = c * w0, c * w1, c1 * w0
        t, t_p, t_q = t + d_t, t_p + d_tp, t_q + d_tq
        if second:
            w2 = -2.0 * inv * w1
            d_pp, d_pq, d_qq = c * w2, c1 * w1, c2 * w0
            t_pp, t_pq, t_qq = t_pp + d_pp, t_pq + d_pq, t_qq + d_qq
        if n % 4 == 0:  # (the terms decrease from n = 2 on; the test only where it is used)
            small = ((xp.abs(d_t) <= _EPS * xp.abs(t)) & (xp.abs(d_tp) <= _EPS * xp.abs(t_p))
                     & (xp.abs(d_tq) <= _EPS * xp.abs(t_q)))
            if second:
                small = (small & (xp.abs(d_pp) <= _EPS * xp.abs(t_pp))
                         & (xp.abs(d_pq) <= _EPS * xp.abs(t_pq))
                         & (xp.abs(d_qq) <= _EPS * xp.abs(t_qq)))
            kept = _held(xp, small & ~done, kept, t, t_p, t_q, t_pp, t_pq, t_qq)
            done = done | small
            if _all_true(backend, done):
                break
    if kept is not None:
        t, t_p, t_q, t_pp, t_pq, t_qq = kept
    ez = xp.exp(z)
    one_t = 1.0 + t
    nan = xp.full_like(u, math.nan)
    grad = [xp.where(done, v, nan)
            for v in (ez * (z_p * one_t + t_p), ez * (z_q * one_t + t_q))]
    if not second:
        return grad, None
    z_pp, z_qq = _trigamma_hessian(backend, p, q)
    z_pq = poly(1, p + q)
    hess = (ez * ((z_pp + z_p * z_p) * one_t + 2.0 * z_p * t_p + t_pp),
            ez * ((z_pq + z_p * z_q) * one_t + z_p * t_q + z_q * t_p + t_pq),
            ez * ((z_qq + z_q * z_q) * one_t + 2.0 * z_q * t_q + t_qq))
    return grad, [xp.where(done, v, nan) for v in hess]


def _beta_complement_series(backend, p, q, u, w, lo, log_u, log_w, second):
    """The derivatives of J = I_u(p, q) in (p, q) from its complement's power series, for u
    close to 1 on the fraction's side (where each step of the fraction loses eps / (1 - u)):
    1 - J = K = I_w(q, p) = e^M' S, M' = log(w^q u^p / (q B(q, p))) (the prefactor of the
    other side), S = sum_n c_n, c_n = (p + q)_n / (q + 1)_n w^n: positive terms whose
    log-derivatives are sums, h_n = sum_(k<n) 1 / (p + q + k) in p and
    sum_(k<n) (1 - p) / ((p + q + k)(q + 1 + k)) in q (no difference of two sums), so that
    d log S is their weighted mean and d^2 log S the weighted mean of their own derivatives
    plus their weighted covariance (Welford's update). J's derivatives are K's negated.
    Returns the gradient (J_p, J_q) and (``second``) the Hessian (J_pp, J_pq, J_qq)."""
    xp = backend.xp
    # (K's prefactor: its first shape q, second p; x's role w, y's role u)
    big_m, gm, hm = _beta_prefactor_parts(backend, q, p, w, u, (lo[1], lo[0]), log_w, log_u,
                                          second)
    zero = xp.zeros_like(w)
    c = xp.ones_like(w)
    tot = xp.ones_like(w)   # the weights' sum
    g_p, g_q = zero, zero   # c_n's log-derivatives
    m_p, m_q = zero, zero   # their weighted means
    v_pp, v_pq, v_qq = zero, zero, zero   # weighted sums of the deviations' products
    h_pp, h_qq = zero, zero   # c_n's second log-derivatives (pq = pp)
    e_pp, e_qq = zero, zero   # their weighted means
    pq = p + q
    done = xp.zeros(w.shape, dtype=xp.bool, device=backend.device(w))
    kept = None   # the sums as of each element's convergence (see _held)
    for n in range(_BETA_MAX_STEPS):
        fn = float(n)
        r1 = 1.0 / (pq + fn)
        r2 = 1.0 / (q + (fn + 1.0))
        c = c * ((pq + fn) * r2 * w)
        g_p = g_p + r1
        g_q = g_q + (1.0 - p) * r1 * r2
        if second:
            h_pp = h_pp - r1 * r1
            h_qq = h_qq + (p - 1.0) * (2.0 * q + p + (2.0 * fn + 1.0)) * r1 * r1 * r2 * r2
        tot = tot + c
        rho = c / tot
        d_p, d_q = g_p - m_p, g_q - m_q
        m_p = m_p + rho * d_p
        m_q = m_q + rho * d_q
        if second:
            v_pp = v_pp + c * d_p * (g_p - m_p)
            v_pq = v_pq + c * d_p * (g_q - m_q)
            v_qq = v_qq + c * d_q * (g_q - m_q)
            e_pp = e_pp + rho * (h_pp - e_pp)
            e_qq = e_qq + rho * (h_qq - e_qq)
        if (n + 1) % _CHECK == 0:
            small = ((c <= _EPS * tot) & (c * xp.abs(d_p) <= _EPS * tot * xp.abs(m_p))
                     & (c * xp.abs(d_q) <= _EPS * tot * xp.abs(m_q)))
            if second:
                small = (small & (c * d_p * d_p <= _EPS * (v_pp + _TINY))
                         & (c * d_q * d_q <= _EPS * (v_qq + _TINY))
                         & (c * xp.abs(h_pp - e_pp) <= _EPS * tot * xp.abs(e_pp))
                         & (c * xp.abs(h_qq - e_qq) <= _EPS * tot * xp.abs(e_qq)))
            kept = _held(xp, small & ~done, kept, tot, m_p, m_q, v_pp, v_pq, v_qq, e_pp, e_qq)
            done = done | small
            if _all_true(backend, done):
                break
    if kept is not None:
        tot, m_p, m_q, v_pp, v_pq, v_qq, e_pp, e_qq = kept
    log_k = big_m + xp.log(tot)
    nan = xp.full_like(w, math.nan)
    # K's log-gradient in (p, q) (gm is in (q, p))
    lg_p, lg_q = gm[1] + m_p, gm[0] + m_q
    grad = [xp.where(done, -_signed_exp(xp, log_k, v), nan) for v in (lg_p, lg_q)]
    if not second:
        return grad, None
    # hm: (qq, qp, pp) of K's prefactor
    hk = (hm[2] + e_pp + v_pp / tot + lg_p * lg_p,
          hm[1] + e_pp + v_pq / tot + lg_p * lg_q,
          hm[0] + e_qq + v_qq / tot + lg_q * lg_q)
    return grad, [xp.where(done, -_signed_exp(xp, log_k, v), nan) for v in hk]


_BETA_ORDERS = ((1, 0), (0, 1), (2, 0), (1, 1), (0, 2), (3, 0), (2, 1), (1, 2), (0, 3))


def betainc_dab(backend, i, j, a, b, x, /):
    """See :data:`functrans.backends.EXTRAS`: d^(i+j) I_x(a, b) / da^i db^j,
    i + j = 1, 2, 3 (the third order through _betainc_dab_jets)."""
    xp = backend.xp
    i, j = int(i), int(j)
    if (i, j) not in _BETA_ORDERS:
        raise ValueError(f"betainc_dab: the orders (i, j) must be non-negative with "
                         f"i + j = 1, 2 or 3; got {(i, j)}")
    second = i + j == 2
    dtype = x.dtype
    a0, b0, x0 = (xp.astype(v, xp.float64) for v in (a, b, x))
    shapes_ok = (a0 > 0.0) & (b0 > 0.0) & (a0 < math.inf) & (b0 < math.inf)
    ok = shapes_ok & (x0 > 0.0) & (x0 < 1.0)
    a = xp.where(ok, a0, xp.ones_like(a0))
    b = xp.where(ok, b0, xp.ones_like(b0))
    x = xp.where(ok, x0, xp.full_like(x0, 0.25))
    flip = x > (a + 1.0) / (a + b + 2.0)
    p, q = xp.where(flip, b, a), xp.where(flip, a, b)
    # the side computed: I_u(p, q) with u = x, w = 1 - x, or (flipped) u = 1 - x, w = x;
    # 1 - x is comp + comp_lo exactly (the rounded one of the two is >= 1/2)
    comp = 1.0 - x
    comp_lo = (1.0 - comp) - x
    zero = xp.zeros_like(x)
    u, w = xp.where(flip, comp, x), xp.where(flip, x, comp)
    lo = (xp.where(flip, comp_lo, zero), xp.where(flip, zero, comp_lo))
    log_x, log_cx = xp.log(x), xp.log1p(-x)
    log_u, log_w = xp.where(flip, log_cx, log_x), xp.where(flip, log_x, log_cx)
    if i + j == 3:
        out = _betainc_dab_jets(backend, i, j, p, q, u, w, lo, log_u, log_w, flip)
        return _beta_dab_edges(xp, out, shapes_ok, ok, x0, dtype)
    big_m, gm, hm = _beta_prefactor_parts(backend, p, q, u, w, lo, log_u, log_w, second)
    # the convergence tolerances: relative to the sizes of the terms added to them
    scale = ([xp.abs(gm[0]), xp.abs(gm[1])], None)
    if second:
        scale = (scale[0], [xp.abs(hm[0]) + gm[0] * gm[0],
                            xp.abs(hm[1]) + xp.abs(gm[0] * gm[1]),
                            xp.abs(hm[2]) + gm[1] * gm[1]])
    # 1 + d_1 = 1 - (p + q) u / (p + 1) = (1 + p w - q u) / (p + 1) (no cancellation for u
    # close to 1)
    first_den = (1.0 + p * w - q * u + (p * lo[1] - q * lo[0])) / (p + 1.0)
    log_f, gf, hf = _beta_fraction_parts(backend, p, q, u, second, scale, first_den)
    log_j = big_m + log_f
    g = [gm[0] + gf[0], gm[1] + gf[1]]
    # the derivative wanted, in (p, q): (i, j) in (a, b) is (j, i) where flipped (and the
    # complement's derivatives are negated)
    if not second:
        fac_pq = [g[0], g[1]]   # J_p / J, J_q / J (J = I_u(p, q))
    else:
        hh = [hm[k] + hf[k] for k in range(3)]
        fac_pq = [hh[0] + g[0] * g[0], hh[1] + g[0] * g[1], hh[2] + g[1] * g[1]]
    order = ((2, 0), (1, 1), (0, 2)) if second else ((1, 0), (0, 1))
    k_direct, k_flip = order.index((i, j)), order.index((j, i))
    factor = xp.where(flip, -fac_pq[k_flip], fac_pq[k_direct])
    out = _signed_exp(xp, log_j, factor)
    # where J is close to 1 and p small, the power series instead (see
    # _beta_series_derivatives)
    near_one = (p <= 1.0) & (log_j > -_LOG_2)
    if _any_true(backend, near_one):
        ps = xp.where(near_one, p, xp.full_like(p, 0.5))
        qs = xp.where(near_one, q, xp.ones_like(q))
        us = xp.where(near_one, u, xp.full_like(u, 0.25))
        ls = xp.where(near_one, log_u, xp.full_like(u, math.log(0.25)))
        sg, sh = _beta_series_derivatives(backend, ps, qs, us, ls, second)
        vals = sg if not second else sh
        series = xp.where(flip, -vals[k_flip], vals[k_direct])
        out = xp.where(near_one, series, out)
    # u close to 1 on the fraction's side (p >> q): each step of the fraction loses
    # eps / (1 - u); there J (not small) from its complement's positive series instead,
    # where that needs a few thousand terms at most (their count grows as (p + q) w - q)
    near_u1 = ((w <= _NEAR_ONE_W) & (log_j > log_w + _LOG_J_OVER_W) & ~near_one
               & ((p + q) * w - q <= _SERIES_PEAK_MAX))
    if _any_true(backend, near_u1):
        sel = [xp.where(near_u1, v, xp.full_like(v, d)) for v, d in
               ((p, 2.0), (q, 1.0), (u, 0.75), (w, 0.25), (log_u, math.log(0.75)),
                (log_w, math.log(0.25)))]
        lo_s = (xp.where(near_u1, lo[0], zero), xp.where(near_u1, lo[1], zero))
        cg, ch = _beta_complement_series(backend, sel[0], sel[1], sel[2], sel[3], lo_s,
                                         sel[4], sel[5], second)
        vals = cg if not second else ch
        comp_series = xp.where(flip, -vals[k_flip], vals[k_direct])
        out = xp.where(near_u1, comp_series, out)
    return _beta_dab_edges(xp, out, shapes_ok, ok, x0, dtype)


def _beta_dab_edges(xp, out, shapes_ok, ok, x0, dtype):
    """0 at x = 0 and x = 1, nan for invalid arguments; in the operands' dtype."""
    edge = shapes_ok & ((x0 == 0.0) | (x0 == 1.0))
    out = xp.where(edge, xp.zeros_like(out), out)
    out = xp.where(ok | edge, out, xp.full_like(out, math.nan))
    return xp.astype(out, dtype)


# -- third derivatives in the shapes: truncated Taylor arithmetic in (p, q) -------------------
#
# The third order carries, through the same four paths as the first two (the prefactor M,
# the continued fraction, the small-shape power series, the complement's power series),
# every derivative up to the order n at once as a *jet*: the Taylor coefficients in
# (dp, dq) of each running quantity, truncated at total degree n. The recurrences are then
# written once, as jet arithmetic, instead of a hand-derived formula per derivative
# (a 2 x 2 x 2 tensor of third derivatives and its cross terms with the first two orders for
# each factor); a product of jets is one outer product and one contraction with a fixed 0/1
# table, so that a step costs a few array operations whatever n. Where the first two orders
# avoid a cancellation, the jets keep doing so:
#
# - logarithms are accumulated, never the quantities: the continued fraction's log F is the
#   sum of the logarithms of the Lentz factors D and C (each jet divided by its own value,
#   so that its logarithm is log(1 + e) = e - e^2/2 + e^3/3 for a jet e without constant);
# - the complement's series S = sum_n c_n is accumulated centred on the running weighted
#   mean mu of the first log-derivatives of its terms (Welford's update generalised to
#   jets): A = sum_n c_n exp(l_n - mu . dp) / sum_n c_n is shifted by exp(-(mu' - mu) . dp)
#   when mu moves, so that its second- and third-order coefficients are the central moments
#   (no difference of E[l'^2] and E[l']^2), and log S = log sum c_n + mu . dp + log A;
# - the increments of log c_n in q, log(p + q + n) - log(q + n + 1), are formed from
#   (1 - p) / ((p + q + n)(q + n + 1)) (no cancellation near p = 1), as at the second order;
# - the prefactor's third derivatives polygamma(2, p + q) - polygamma(2, p + 1) and
#   polygamma(2, p + q) - polygamma(2, q) are summed as positive terms (_tetragamma_diff),
#   as the trigamma differences of the second order;
# - on the fraction's path the factor q of J = q H (1 / B(p, q) is about q for a small q)
#   is differentiated apart, as gammainc_da's a: H's log-derivatives in q are O(1), where
#   J's are 1/q, -1/q^2, 2/q^3 whose combination cancels to O(1) (3.9e-10 relative at
#   q = 1.2e-3 before, 3e-15 with it).
#
# Orders 1 and 2 keep their own code (betainc_dab above: fewer operations per step); the
# jets give them too (``_betainc_dab_jets`` with i + j = 1, 2), which the tests compare.


def _jet_monomials(n):
    """The monomials dp^i dq^j, i + j <= n, by total degree, then falling i."""
    return tuple((d - k, k) for d in range(n + 1) for k in range(d + 1))


class _Jets:
    """Truncated Taylor arithmetic in (p, q) to total degree ``n``: a jet is an array whose
    leading axis holds the coefficients of the monomials of :func:`_jet_monomials`, the
    coefficient of dp^i dq^j being d^(i+j) f / dp^i dq^j / (i! j!)."""

    def __init__(self, backend, n, like):
        import numpy as np
        xp = self.xp = backend.xp
        self.n = n
        self.monos = _jet_monomials(n)
        self.index = {m: k for k, m in enumerate(self.monos)}
        size = self.size = len(self.monos)
        table = np.zeros((size, size * size))
        for ka, (ia, ja) in enumerate(self.monos):
            for kb, (ib, jb) in enumerate(self.monos):
                if ia + ib + ja + jb <= n:
                    table[self.index[(ia + ib, ja + jb)], ka * size + kb] = 1.0
        self.dev = backend.device(like)
        self.table = xp.asarray(table, dtype=xp.float64, device=self.dev)
        self._cols = {}

    def _column(self, ndim, const):
        """(size, 1, ..., 1): 1 at the constant's row (``const``) or at every other row."""
        key = (ndim, const)
        if key not in self._cols:
            v = [1.0 if (k == 0) == const else 0.0 for k in range(self.size)]
            self._cols[key] = self.xp.reshape(
                self.xp.asarray(v, dtype=self.xp.float64, device=self.dev),
                (self.size,) + (1,) * ndim)
        return self._cols[key]

    def mul(self, a, b):
        xp = self.xp
        outer = xp.expand_dims(a, axis=1) * xp.expand_dims(b, axis=0)
        outer = xp.reshape(outer, (self.size * self.size,) + tuple(outer.shape[2:]))
        return xp.tensordot(self.table, outer, axes=1)

    def zero_const(self, a):
        """``a`` less its constant (row 0 set to 0)."""
        return a * self._column(a.ndim - 1, False)

    def plus_one(self, a):
        return a + self._column(a.ndim - 1, True)

    def with_const(self, a, value):
        """``a`` with its constant replaced by ``value`` (an array of its elements' shape)."""
        return a + self._column(a.ndim - 1, True) * (self.xp.expand_dims(value, 0) - a[:1, ...])

    def unit(self, like):
        return self._column(like.ndim, True) * self.xp.expand_dims(self.xp.ones_like(like), 0)

    def powers(self, e):
        """[e, e^2, ..., e^n] for a jet ``e`` without constant."""
        out = [e]
        for _ in range(self.n - 1):
            out.append(self.mul(out[-1], e))
        return out

    @staticmethod
    def _combine(pw, coeffs):
        total = coeffs[1] * pw[0]
        for c, v in zip(coeffs[2:], pw[1:]):
            total = total + c * v
        return total

    def exp0(self, e):
        """exp(e) for a jet ``e`` without constant."""
        pw = self.powers(e)
        return self.plus_one(self._combine(pw, [1.0 / math.factorial(k)
                                                for k in range(self.n + 1)]))

    def log1p(self, pw):
        """log(1 + e) from ``pw`` = :meth:`powers` of e."""
        return self._combine(pw, [0.0] + [(-1.0) ** (k + 1) / k for k in range(1, self.n + 1)])

    def recip1(self, pw):
        """1 / (1 + e) from ``pw`` = :meth:`powers` of e."""
        return self.plus_one(self._combine(pw, [(-1.0) ** k for k in range(self.n + 1)]))

    def from_rows(self, rows, like):
        """The jet with the given coefficients ({(i, j): array}), zero elsewhere."""
        xp = self.xp
        zero = xp.zeros_like(like)
        return xp.stack([rows.get(m, zero) for m in self.monos], axis=0)

    def along(self, coeffs, alpha, beta):
        """The jet of f(v + alpha dp + beta dq) (alpha, beta 0 or 1) from f's Taylor
        coefficients ``coeffs`` (arrays of one shape, degree 0 .. n)."""
        rows = {}
        for i, j in self.monos:
            if (alpha == 0.0 and i) or (beta == 0.0 and j):
                continue
            rows[(i, j)] = coeffs[i + j] * float(math.comb(i + j, i))
        return self.from_rows(rows, coeffs[0])

    def linear(self, value, alpha, beta):
        """The jet of value + alpha dp + beta dq."""
        rows = {(0, 0): value}
        if alpha:
            rows[(1, 0)] = self.xp.full_like(value, alpha)
        if beta:
            rows[(0, 1)] = self.xp.full_like(value, beta)
        return self.from_rows(rows, value)

    def reciprocal_p(self, inv):
        """The jet of 1 / (v + dp) from ``inv`` = 1 / v."""
        coeffs, t = [], inv
        for k in range(self.n + 1):
            coeffs.append(t if k % 2 == 0 else -t)
            t = t * inv
        return self.along(coeffs, 1.0, 0.0)

    def first_order_exp(self, cp, cq):
        """exp(cp dp + cq dq): cp^i cq^j / (i! j!)."""
        pow_p, pow_q = [self.xp.ones_like(cp)], [self.xp.ones_like(cq)]
        for _ in range(self.n):
            pow_p.append(pow_p[-1] * cp)
            pow_q.append(pow_q[-1] * cq)
        rows = {(i, j): pow_p[i] * pow_q[j] / float(math.factorial(i) * math.factorial(j))
                for i, j in self.monos}
        return self.from_rows(rows, cp)

    def first_order(self, cp, cq):
        return self.from_rows({(1, 0): cp, (0, 1): cq}, cp)

    def swap(self, a):
        """The jet with the roles of p and q exchanged."""
        xp = self.xp
        return xp.stack([a[self.index[(j, i)], ...] for i, j in self.monos], axis=0)

    def derivative(self, a, i, j):
        return a[self.index[(i, j)], ...] * float(math.factorial(i) * math.factorial(j))


# psi''(z) = -1/z^2 - 1/z^3 - sum_k (2k + 1) B_2k / z^(2k+2)
_TETRAGAMMA_TAIL = tuple(float((2 * k + 1) * b) for k, b in enumerate(_B2K_EXACT, start=1))


def _tetragamma_diff(backend, p, q):
    """psi''(q + p) - psi''(q) for p >= 0, q > 0 (positive terms: relative accuracy)."""
    xp = backend.xp

    def term(zk):  # 2 (1/a^3 - 1/b^3), b = a + p
        b = zk + p
        return 2.0 * p * (zk * zk + zk * b + b * b) / (zk * zk * zk * b * b * b)

    head, z = _shift_sum(backend, p, q, term)
    zp = z + p
    tail = (p * (z + zp) / (z * z * zp * zp) + p * (z * z + z * zp + zp * zp) / (z * zp) ** 3
            + _poly_inv(xp, z, _TETRAGAMMA_TAIL, 4) - _poly_inv(xp, zp, _TETRAGAMMA_TAIL, 4))
    return head + tail


def _tetragamma_hessian(backend, p, q):
    """psi''(p + q) - psi''(p + 1), psi''(p + q) and psi''(p + q) - psi''(q): the third
    derivatives (ppp, ppq = pqq, qqq) of log(x^p y^q / (p B(p, q)))."""
    xp = backend.xp
    up = q >= 1.0
    one = xp.ones_like(q)
    d_up = _tetragamma_diff(backend, xp.where(up, q - 1.0, one), p + 1.0)
    d_down = _tetragamma_diff(backend, xp.where(up, one, 1.0 - q), xp.where(up, one, p + q))
    return (xp.where(up, d_up, -d_down), backend.extra("polygamma")(2, p + q),
            _tetragamma_diff(backend, p, q))


def _log_jet(backend, jets, p, q, first, q_apart=False):
    """The jet (without constant) of a function whose derivatives of order 2 and 3 are
    those of log(x^p y^q / (p B(p, q))) (``q_apart``: of that less log q, whose q-derivatives
    then are those of -lgamma(q + 1): nothing of the size of 1/q^k cancels), with the
    gradient ``first``."""
    rows = {(1, 0): first[0], (0, 1): first[1]}
    if jets.n >= 2:
        hpp, hqq = _trigamma_hessian(backend, p, q)
        if q_apart:   # trigamma(p + q) - trigamma(q + 1)
            hqq = _trigamma_hessian(backend, q, p)[0]
        rows.update({(2, 0): 0.5 * hpp, (1, 1): backend.extra("polygamma")(1, p + q),
                     (0, 2): 0.5 * hqq})
    if jets.n >= 3:
        tppp, tppq, tqqq = _tetragamma_hessian(backend, p, q)
        if q_apart:
            tqqq = _tetragamma_hessian(backend, q, p)[0]
        rows.update({(3, 0): tppp / 6.0, (2, 1): 0.5 * tppq, (1, 2): 0.5 * tppq,
                     (0, 3): tqqq / 6.0})
    if jets.n > 3:
        raise ValueError(f"betainc_dab: order {jets.n} in the shapes is not implemented")
    return jets.from_rows(rows, first[0])


def _beta_prefactor_jet(backend, jets, p, q, x, y, lo, log_x, log_y, q_apart=False):
    """M = log(x^p y^q / (p B(p, q))) (as _beta_prefactor_parts) and its jet (that of
    M - log q with ``q_apart``)."""
    big_m, g, _ = _beta_prefactor_parts(backend, p, q, x, y, lo, log_x, log_y, False,
                                        1.0 if q_apart else 0.0)
    return big_m, _log_jet(backend, jets, p, q, g, q_apart)


def _beta_fraction_jet(backend, jets, p, q, x, scale, first_den):
    """log F and the jet of log F (without constant), F the continued fraction of
    I_x(p, q), as _beta_fraction_parts (the same steps, blocks and convergence test, the
    derivatives of every order up to jets.n carried as one jet; ``scale``: the sizes
    the increments are compared with, a jet)."""
    xp = backend.xp
    dev = backend.device(x)
    f64 = xp.float64
    shape = x.shape
    m_blk = _BETA_BLOCK
    r_shape = (m_blk,) + (1,) * len(shape)
    one = xp.ones_like(x)
    d = one / (first_den + _TINY)
    c = one
    h = d
    dh = cinv = g_tot = None   # D / d, d / C (jets with constant 1) and log F's jet
    done = xp.zeros(shape, dtype=xp.bool, device=dev)
    kept = None   # (h, g_tot) as of each element's convergence (see _held)
    checks = {2, 4}
    for m0 in range(0, _BETA_MAX_STEPS + 1, m_blk):
        ms = [float(m0 + k) for k in range(m_blk)]
        m_odd = xp.reshape(xp.asarray(ms, dtype=f64, device=dev), r_shape)
        m_even = xp.reshape(xp.asarray([max(v, 1.0) for v in ms], dtype=f64, device=dev),
                            r_shape)
        # d_(2m+1) = -x ((p + m) / (p + 2m)) (p + q + m) / (p + 2m + 1), the first factor
        # 1 - m / (p + 2m) (exactly 1 at m = 0: no p / p)
        inv1 = 1.0 / (p + 2.0 * m_odd)
        ratio = jets.with_const(-m_odd * jets.reciprocal_p(inv1), (p + m_odd) * inv1)
        odd = jets.mul(jets.mul(ratio, jets.reciprocal_p(1.0 / (p + (2.0 * m_odd + 1.0)))),
                       jets.linear((p + q) + m_odd, 1.0, 1.0)) * (-x)
        # d_(2m) = m x (q - m) / ((p + 2m - 1)(p + 2m))
        even = jets.mul(jets.mul(jets.reciprocal_p(1.0 / (p + (2.0 * m_even - 1.0))),
                                 jets.reciprocal_p(1.0 / (p + 2.0 * m_even))),
                        jets.linear(q - m_even, 0.0, 1.0)) * (m_even * x)
        odd, even = _rows(xp, xp.moveaxis(odd, 1, 0)), _rows(xp, xp.moveaxis(even, 1, 0))
        for k in range(m_blk):
            m = m0 + k
            if m == 0:   # D = 1 / (1 + d_1), C stays 1
                pw = jets.powers(jets.zero_const(odd[0]) * d)
                dh, cinv = jets.recip1(pw), jets.unit(x)
                g_tot = -jets.log1p(pw)
                continue
            check = m in checks or (m >= 8 and m % m_blk == 0)
            pair_log = pair_g = None
            for coef in (even[k], odd[k]):
                al = coef[0, ...]
                # D <- 1 / (1 + al D), C <- 1 + al / C, each as its value times a jet 1 + e
                dn = one / ((1.0 + al * d) + _TINY)
                pw_d = jets.powers(jets.zero_const(jets.mul(coef, dh)) * (d * dn))
                inv_c = one / c
                cn = (1.0 + al * inv_c) + _TINY
                pw_c = jets.powers(jets.zero_const(jets.mul(coef, cinv)) * (inv_c / cn))
                dh, cinv = jets.recip1(pw_d), jets.recip1(pw_c)
                inc = jets.log1p(pw_c) - jets.log1p(pw_d)
                g_tot = g_tot + inc
                d, c = dn, cn
                delta = dn * cn
                h = h * delta
                if check:
                    if pair_log is None:
                        pair_log, pair_g = xp.abs(delta - 1.0), inc
                    else:
                        pair_log, pair_g = pair_log + xp.abs(delta - 1.0), pair_g + inc
            if check:
                small = (pair_log <= 2.0 * _EPS) & xp.all(
                    xp.abs(pair_g) <= _EPS * (xp.abs(g_tot) + scale), axis=0)
                kept = _held(xp, small & ~done, kept, h, g_tot)
                done = done | small
                if _all_true(backend, done):
                    break
        else:
            continue
        break
    if kept is not None:
        h, g_tot = kept
    nan = xp.full_like(h, math.nan)
    return xp.where(done, xp.log(h), nan), xp.where(done, g_tot, nan)


def _beta_series_jet(backend, jets, p, q, u, log_u):
    """The jet of J = I_u(p, q) (constant included) from the power series
    J = e^z (1 + T) of _beta_series_derivatives (p <= 1, J above 1/2)."""
    xp = backend.xp
    z, z_p, z_q = _beta_series_z(backend, p, q, log_u)
    z_jet = _log_jet(backend, jets, p, q, (z_p, z_q))
    c = jets.unit(u)
    t = xp.zeros_like(c)
    un = xp.ones_like(u)
    done = xp.zeros(u.shape, dtype=xp.bool, device=backend.device(u))
    kept = None   # t as of each element's convergence (see _held)
    for n in range(1, _BETA_MAX_STEPS + 1):
        fn = float(n)
        c = jets.mul(c, jets.linear((fn - q) / fn, 0.0, -1.0 / fn))   # c_n = c_(n-1) (n - q) / n
        un = un * u
        inv = 1.0 / (p + fn)
        # p / (p + n) = 1 - n / (p + n), its value without the cancellation
        w0 = jets.with_const(-fn * jets.reciprocal_p(inv), p * inv)
        d_t = jets.mul(c, w0) * un
        t = t + d_t
        if n % 4 == 0:
            small = xp.all(xp.abs(d_t) <= _EPS * xp.abs(t), axis=0)
            kept = _held(xp, small & ~done, kept, t)
            done = done | small
            if _all_true(backend, done):
                break
    if kept is not None:
        t, = kept
    out = xp.exp(z) * jets.mul(jets.exp0(z_jet), jets.plus_one(t))
    return xp.where(done, out, xp.full_like(out, math.nan))


def _beta_complement_jet(backend, jets, p, q, u, w, lo, log_u, log_w):
    """log K and the jet of log K (without constant), K = 1 - I_u(p, q) = I_w(q, p) from its
    power series as in _beta_complement_series (u close to 1 on the fraction's side), the
    sum accumulated centred on the running mean of its terms' first log-derivatives."""
    xp = backend.xp
    big_m, mk = _beta_prefactor_jet(backend, jets, q, p, w, u, (lo[1], lo[0]), log_w, log_u)
    mk = jets.swap(mk)   # (K's prefactor, in (q, p): into (p, q))
    i_p, i_q = jets.index[(1, 0)], jets.index[(0, 1)]
    scale = jets.exp0(xp.abs(mk))
    zero = xp.zeros_like(w)
    c = tot = xp.ones_like(w)
    mu_p, mu_q = zero, zero
    acc = jets.unit(w)   # A: the weighted mean of exp(l_n - mu . dp)
    ell = xp.zeros_like(acc)   # log c_n's jet (without constant)
    pq = p + q
    done = xp.zeros(w.shape, dtype=xp.bool, device=backend.device(w))
    kept = None   # the sums as of each element's convergence (see _held)
    for n in range(_BETA_MAX_STEPS):
        fn = float(n)
        r1 = 1.0 / (pq + fn)
        r2 = 1.0 / (q + (fn + 1.0))
        c = c * ((pq + fn) * r2 * w)
        # log(p + q + n) - log(q + n + 1): in p (and mixed) those of the first logarithm,
        # in q alone (-1)^(k+1) / k (r1^k - r2^k), r1 - r2 = (1 - p) r1 r2
        dd = (1.0 - p) * r1 * r2
        rows, r1k = {}, [xp.ones_like(w)]
        for _ in range(jets.n):
            r1k.append(r1k[-1] * r1)
        for i, j in jets.monos[1:]:
            k = i + j
            sign = 1.0 if k % 2 else -1.0
            if i:
                rows[(i, j)] = (sign * math.factorial(k - 1)
                                / (math.factorial(i) * math.factorial(j))) * r1k[k]
            else:
                s, r2l = zero, xp.ones_like(w)
                for lv in range(k):
                    s = s + r1k[k - 1 - lv] * r2l
                    r2l = r2l * r2
                rows[(i, j)] = (sign / k) * dd * s
        ell = ell + jets.from_rows(rows, w)
        tot_new = tot + c
        rho = c / tot_new
        dmu_p = rho * (ell[i_p, ...] - mu_p)
        dmu_q = rho * (ell[i_q, ...] - mu_q)
        mu_p, mu_q = mu_p + dmu_p, mu_q + dmu_q
        cen = jets.exp0(ell - jets.first_order(mu_p, mu_q))
        acc_new = ((1.0 - rho) * jets.mul(acc, jets.first_order_exp(-dmu_p, -dmu_q))
                   + rho * cen)
        d_acc = acc_new - acc
        acc, tot = acc_new, tot_new
        if (n + 1) % _CHECK == 0:
            small = ((c <= _EPS * tot)
                     & xp.all(xp.abs(d_acc) <= _EPS * (xp.abs(acc) + scale), axis=0)
                     & (xp.abs(dmu_p) <= _EPS * (xp.abs(mu_p) + xp.abs(mk[i_p, ...])))
                     & (xp.abs(dmu_q) <= _EPS * (xp.abs(mu_q) + xp.abs(mk[i_q, ...]))))
            kept = _held(xp, small & ~done, kept, tot, mu_p, mu_q, acc)
            done = done | small
            if _all_true(backend, done):
                break
    if kept is not None:
        tot, mu_p, mu_q, acc = kept
    log_jet = (jets.zero_const(mk) + jets.first_order(mu_p, mu_q)
               + jets.log1p(jets.powers(jets.zero_const(acc))))
    nan = xp.full_like(w, math.nan)
    return (xp.where(done, big_m + xp.log(tot), nan),
            xp.where(done, log_jet, xp.full_like(log_jet, math.nan)))


def _betainc_dab_jets(backend, i, j, p, q, u, w, lo, log_u, log_w, flip):
    """d^(i+j) I / da^i db^j on the side I_u(p, q) of betainc_dab (its arguments), by jets
    of order i + j through the paths of the first two orders (see above)."""
    xp = backend.xp
    jets = _Jets(backend, i + j, u)

    def pick(jet):   # (i, j) in (a, b): (j, i) in (p, q) where flipped
        return xp.where(flip, jets.derivative(jet, j, i), jets.derivative(jet, i, j))

    # J = q H, H = e^(M - log q) F: J's derivatives from H's with the factor q apart (as
    # gammainc_da's a), so that for a small q the O(1/q^k) log-derivatives of
    # 1 / B(p, q) ~ q do not cancel (J_qqq = 3 H_qq + q H_qqq)
    big_m, m_jet = _beta_prefactor_jet(backend, jets, p, q, u, w, lo, log_u, log_w, True)
    scale = jets.exp0(xp.abs(m_jet))
    first_den = (1.0 + p * w - q * u + (p * lo[1] - q * lo[0])) / (p + 1.0)
    log_f, g_f = _beta_fraction_jet(backend, jets, p, q, u, scale, first_den)
    log_j = big_m + log_f
    fac = pick(jets.mul(jets.linear(q, 0.0, 1.0), jets.exp0(m_jet + g_f)))
    out = _signed_exp(xp, log_j - xp.log(q), xp.where(flip, -fac, fac))
    near_one = (p <= 1.0) & (log_j > -_LOG_2)
    if _any_true(backend, near_one):
        series = pick(_beta_series_jet(
            backend, jets, xp.where(near_one, p, xp.full_like(p, 0.5)),
            xp.where(near_one, q, xp.ones_like(q)), xp.where(near_one, u, xp.full_like(u, 0.25)),
            xp.where(near_one, log_u, xp.full_like(u, math.log(0.25)))))
        out = xp.where(near_one, xp.where(flip, -series, series), out)
    near_u1 = ((w <= _NEAR_ONE_W) & (log_j > log_w + _LOG_J_OVER_W) & ~near_one
               & ((p + q) * w - q <= _SERIES_PEAK_MAX))
    if _any_true(backend, near_u1):
        zero = xp.zeros_like(w)
        sel = [xp.where(near_u1, v, xp.full_like(v, d)) for v, d in
               ((p, 2.0), (q, 1.0), (u, 0.75), (w, 0.25), (log_u, math.log(0.75)),
                (log_w, math.log(0.25)))]
        lo_s = (xp.where(near_u1, lo[0], zero), xp.where(near_u1, lo[1], zero))
        log_k, k_jet = _beta_complement_jet(backend, jets, sel[0], sel[1], sel[2], sel[3],
                                            lo_s, sel[4], sel[5])
        # J's derivatives are K's negated
        vals = -_signed_exp(xp, log_k, pick(jets.exp0(k_jet)))
        out = xp.where(near_u1, xp.where(flip, -vals, vals), out)
    return out
