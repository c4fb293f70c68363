"""digamma for x < 0 with relative accuracy near its negative roots (and near its positive
root): on (-100, 0) by a table of the roots, below -100 in double-double (the section "below
-100" at the end).

The reflection ``psi(x) = psi(1 - x) - pi cot(pi x)`` that libraries use for ``x < 0``
subtracts two terms of about ``log|x|`` each, and near the root ``r`` of ``psi`` in each
interval ``(-k - 1, -k)`` the result is small: its absolute error ``eps log|x|`` is then
many ulp of it (SciPy's ``psi(-22.75)`` 1545 ulp; within ``1e-3`` of a root hundreds). Here,
as ``psi(1 - r) = pi cot(pi r)``,

    psi(x) = [psi(1 - x) - psi(1 - r)] + pi [cot(pi r) - cot(pi x)]
           = -h S + pi sin(pi h) / (sin(pi r) sin(pi x)),     h = x - r,

with ``r`` in two parts (``h`` then exact but for one rounding), the second term an identity
of the cotangent (each sine of an argument reduced to ``[0, 1/2]``: within a few ulp), and ``S
= (psi(1 - r) - psi(1 - x)) / h`` the divided difference of ``psi`` at ``y = 1 - x`` and ``y_r
= 1 - r`` (both above 1): ``sum_{i<10} 1 / ((y + i) (y_r + i))`` from the recurrence, and at
``Y = y + 10``, ``Y_r = Y + h`` the asymptotic series' own: ``log1p(h / Y) / h + 1 / (2 Y
Y_r) + sum_k B_2k / (2k) a b h_{2k-1}(a, b)`` (``a = 1/Y``, ``b = 1/Y_r``, ``h_m`` the
complete homogeneous polynomial: ``(a^2k - b^2k) / (a - b) / ab``), no difference taken.
The two terms have opposite signs where ``x`` is above the root, but ``|h S|`` is under a
tenth of the second: within about 4 ulp on the whole interval (poles excepted), against
mpmath at 50 digits.

The roots: mpmath at 60 digits (``findroot`` of ``digamma`` in each interval), rounded to
``hi`` and ``lo = r - hi``.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from .special_generic import _dd_add, _dd_div, _dd_mul, _dd_mul_d, _two_prod, _two_sum

# psi's root in (-k - 1, -k), k = 0..99: hi + lo
ROOTS_HI = np.array([
    -0.5040830082644554, -1.5734984731623904, -2.6107208684441447, -3.635293366436901,
    -4.653237761743142, -5.6671624415568855, -6.678418213073427, -7.687788325031626,
    -8.695764163816401, -9.702672540001863, -10.708740838254144, -11.714133061228955,
    -12.718971025749207, -13.723347457363827, -14.727334416018529, -15.730988906332882,
    -16.734356723955734, -17.73747515997759, -18.7403749447801, -19.74308167259022,
    -20.745616863607527, -21.74799876820113, -22.75024298430606, -23.752362937385183,
    -24.75437025782297, -25.756275080771037, -26.758086286661367, -27.759811695826706,
    -28.761458227264864, -29.763032029127462, -30.76453858671817, -31.765982812458248,
    -32.76736912128526, -33.768701494202546, -34.76998353212671, -35.77121850174271,
    -36.772409374736625, -37.77355886151158, -38.77466944028412, -39.775743382293676,
    -40.77678277372637, -41.77778953484959, -42.77876543676867, -43.7797121161486,
    -44.7806310881875, -45.781523758083175, -46.78239143119596, -47.78323532208017,
    -48.784056562530765, -49.78485620877003, -50.78563524788128, -51.78639460358156,
    -52.78713514141228, -53.787857673416255, -54.788562962360494, -55.78925172555595,
    -56.78992463831932, -57.790582337115914, -58.79122542241795, -59.79185446130831,
    -60.79246998985628, -61.79307251528852, -62.793662517976045, -63.79424045325521,
    -64.79480675309918, -65.79536182765398, -66.7959060666522, -67.79643984071551,
    -68.79696350255648, -69.79747738808862, -70.79798181745286, -71.79847709596802,
    -72.79896351501161, -73.79944135283706, -74.79991087533294, -75.80037233672853,
    -76.80082598025068, -77.80127203873563, -78.80171073519945, -79.8021422833704,
    -80.80256688818625, -81.80298474625914, -82.80339604631055, -83.8038009695787,
    -84.80419969020024, -85.8045923755683, -86.8049791866686, -87.80536027839507,
    -88.80573579984666, -89.80610589460645, -90.80647070100437, -91.80683035236486,
    -92.80718497723996, -93.80753469962957, -94.80787963918907, -95.80821991142541,
    -96.80855562788257, -97.80888689631671, -98.80921382086203, -99.80953650218777,
])
ROOTS_LO = np.array([
    -8.15428206243813e-18, -1.574185691077347e-17, 9.881960746978353e-17, 5.454396163173039e-17,
    -2.5492686201468193e-16, -3.2153051074948335e-18, 3.470798723495241e-16,
    -1.351562494643672e-16, -3.2859903716289447e-16, -3.2563178405401477e-16,
    -6.287211750540301e-16, 8.598250154343834e-16, -4.752312432106917e-16, 4.528278691518058e-16,
    -3.6618399963139786e-17, 1.0551956373365842e-16, -1.2039501631800144e-15,
    -5.125776230727235e-16, 7.757330874026816e-16, 6.505672516695227e-16, 9.370177952348924e-16,
    -1.2246233990931817e-15, -1.1268600266054163e-15, 8.157017519280734e-16,
    -1.316906917865066e-15, 1.3077979683180938e-15, 1.1334337131725835e-15,
    -1.120148225799811e-16, -1.5405711086887488e-15, -4.657204559411395e-16,
    -1.0553524434167124e-15, -6.70609301293155e-16, -1.304649438968616e-15,
    -1.5457983717077358e-15, -1.2295381171373804e-15, -2.0583108230405618e-15,
    -1.653219262181563e-15, 9.499881135840653e-16, -3.0750024084944574e-15,
    2.8004009607584453e-15, 3.188753440566426e-15, 2.9845747393357805e-15,
    -2.6673022879829838e-15, 3.2967654682455238e-15, 1.1310500855541571e-15,
    -1.962653168312064e-15, 2.676383203121232e-15, 2.8530198310896263e-15,
    -3.4341000295187104e-15, 3.3738616221950083e-15, -3.166170974033843e-16,
    -1.1462381654245371e-15, 2.0162988364316526e-15, -2.9248829864067746e-15,
    -2.8750725410610324e-15, -1.5928366045445161e-15, 3.050086292452703e-15,
    3.4810978620428718e-15, 3.3467004914469125e-15, -2.0067815460133746e-15,
    -1.0096791314986791e-16, -2.859982744866657e-15, 1.499461411612806e-15, 9.57042364196501e-16,
    1.8563349736631153e-15, -5.8849207133747076e-15, -1.0001651011132856e-15,
    1.394115638427908e-15, -4.250814890488303e-15, 3.5219113709438183e-15,
    -1.810654999605352e-15, -2.0478469728164836e-15, 4.729313813436407e-15,
    -3.204122161208965e-15, -1.3787699766315544e-15, 3.59781742229811e-15, 2.782275117191296e-15,
    4.8417760754137704e-15, 3.946423606817734e-15, -1.005252885783548e-15,
    -4.148444943493596e-15, 6.539791786710154e-15, 1.0619450555126645e-15,
    -1.9565049168399246e-15, -6.657283624252554e-15, -1.782485834575447e-16,
    5.44953268870428e-15, 1.2758561644425609e-17, -3.920860997098826e-15, 3.1201970835636936e-15,
    -7.060171150135302e-15, 6.662510758839982e-15, 3.1606248373707447e-15,
    -3.133186802294627e-15, -1.4568445602419618e-15, -6.086770434050859e-15,
    1.0852113139416537e-15, 5.820897364819833e-15, -5.023644314037905e-15, 6.363830141719689e-16,
])
LOWEST = -float(len(ROOTS_HI))   # (the table's range: (-100, 0))

# the Bernoulli terms B_2k / (2k) of psi's asymptotic series, k = 1..7 (as generic.py's)
_BERNOULLI = (1 / 12, -1 / 120, 1 / 252, -1 / 240, 1 / 132, -691 / 32760, 1 / 12)


def _sinpi(xp, t):
    """sin(pi t) for t in (-1, 1), the argument reduced to [0, 1/2] exactly first."""
    s = xp.abs(t)
    g = xp.minimum(s, 1.0 - s)   # (1 - s exact for s >= 1/2)
    v = xp.sin(g * math.pi)
    return xp.where(t < 0.0, -v, v)


def digamma_near_roots(xp, x, hi, lo, shift=10, sines=None):
    """psi(x) for an array x of namespace xp with every element in (-100, 0) and none an
    integer (elsewhere a meaningless value); ``hi`` and ``lo`` the root tables as arrays of
    xp on x's device. ``shift=0`` where every x <= -10 (1 - x >= 11: the asymptotic series
    directly, no recurrence); ``sines`` the table SINES (sin(pi r), NumPy) if at hand."""
    k = xp.floor(-x)
    ki = xp.astype(k, xp.int64)
    rh = xp.take(hi, ki)
    rl = xp.take(lo, ki)
    h = (x - rh) - rl   # (x - rh exact: both in (-k - 1, -k); as rh + k and x + k)
    sr = _sinpi(xp, (rh + k) + rl) if sines is None else xp.take(sines, ki)
    second = (_sinpi(xp, h) * math.pi) / (sr * _sinpi(xp, x + k))
    return second - h * psi_divided(xp, 1.0 - x, 1.0 - rh, h, shift)


SINES = _sinpi(np, (ROOTS_HI + np.arange(len(ROOTS_HI), dtype=float)) + ROOTS_LO)


def psi_divided(xp, y, yr, h, shift=10):
    """(psi(yr) - psi(y)) / h, yr - y = h (exact; y and yr as rounded), for y, yr >= 1
    (arrays of namespace xp), to a few ulp, no difference taken: the recurrence's terms
    1 / ((y + i) (yr + i)), i < shift (10), and the asymptotic series' divided difference at
    y + shift (see the module's docstring; ``shift=0`` for y >= 11)."""
    if shift:
        s = 1.0 / (y * yr)
        for i in range(1, shift):
            s = s + 1.0 / ((y + float(i)) * (yr + float(i)))
        big = y + float(shift)
    else:
        s = 0.0
        big = y
    a = 1.0 / big
    b = 1.0 / (big + h)
    ab = a * b
    e1 = a + b
    s = s + xp.log1p(h * a) / h + ab * 0.5
    hm2, hm1 = xp.ones_like(a), e1   # (h_0, h_1)
    series = e1 * _BERNOULLI[0]
    for c in _BERNOULLI[1:]:
        hm2 = e1 * hm1 - ab * hm2   # (h_2, then h_4, ...)
        hm1 = e1 * hm2 - ab * hm1   # (h_3, then h_5, ...)
        series = series + hm1 * c
    return s + ab * series


# psi's positive root (1.46163...): hi + lo (mpmath, 60 digits)
POSITIVE_ROOT = (1.4616321449683622, 9.549995429965697e-17)


def digamma_near_positive_root(xp, x):
    """psi(x) = (x - x0) (psi(x0) - psi(x)) / (x0 - x) for x in [1, 2] (an array of
    namespace xp; elsewhere meaningless), x0 psi's root: x0 - x to one rounding, and the
    divided difference (psi_divided) within a few ulp."""
    h = (POSITIVE_ROOT[0] - x) + POSITIVE_ROOT[1]   # (x0 - x: the first difference exact)
    return -h * psi_divided(xp, x, xp.full_like(x, POSITIVE_ROOT[0]), h)


# -- below -100: the function itself in double-double near the roots ---------------------------
# No table of roots there (one per unit interval). With d = x - round(x) (exact), psi(x) =
# psi(1 - x) - pi cot(pi d); near a root the two terms (about log|x| each) cancel, and at the
# float64 nearest it the value is about 1e-13 at x = -150 (its ulp 1e-29), so both terms are
# computed in double-double (about 1e-31 absolute) and subtracted once:
# - psi(1 - x) = psi(w + 1/2) = log w + sum_k (1 - 2^(1-2k)) B_2k / (2k w^2k), w = 1/2 - x in
#   two parts (w >= 100.5: seven terms, the next below 1e-32); log w = e log 2 + log(c_j) +
#   log1p(u), w = 2^e f, c_j = 1 + j/256 the nearest, u = f / c_j - 1 exact in two parts (f
#   times a float64 1 / c_j, log of which is tabulated), |u| <= 1/512: its series, the terms
#   to u^5 in double-double;
# - pi cot(pi d) for 0 < d <= 1/2 (odd in d) = pi (C - T) / (1 + C T), C = cot(pi j / 2048)
#   tabulated (j the nearest), T = tan(pi (d - j / 2048)) (|argument| <= 7.7e-4: b + b^3 / 3
#   in double-double, the rest in float64).
# Within 1 ulp of mpmath (50 digits) at the float64 nearest the roots and next to it (k =
# 100..1e6, 1e9, 1e12, 2^51) and at random points near them. About 0.6 us an element on
# NumPy (SciPy's psi 0.03), so only where |psi| is below log|x| / 2 (about a tenth of an
# interval); elsewhere the reflection in float64 with the exact d, within 5 ulp (SciPy's psi
# below -100 up to 320 ulp off away from the roots too). The tables: Python's decimal at 45
# digits, on first use (about 40 ms).

FAR_LEFT = LOWEST   # (this form below it)

# (1 - 2^(1-2k)) B_2k / (2k), k = 1..7: psi(w + 1/2)'s asymptotic series (DLMF 5.11.2 at
# z = w + 1/2: the Bernoulli polynomials at 1/2, B_2k(1/2) = -(1 - 2^(1-2k)) B_2k)
_B2K = ((1, 6), (-1, 30), (1, 42), (-1, 30), (5, 66), (-691, 2730), (7, 6))
_HALF_SERIES = tuple((1 - 2.0 ** (1 - 2 * k)) * n / d / (2 * k)
                     for k, (n, d) in enumerate(_B2K, 1))

_FAR_TABLES = None
_FAR_ON_DEVICE = {}
# 1/k in two parts, k = 1..5 (log1p's first coefficients)
_RECIPROCALS = {k: (1.0 / k, float(Fraction(1, k) - Fraction(1.0 / k))) for k in range(1, 6)}


def _far_tables():
    """(1 / c_j, -log(1 / c_j) in two parts) for c_j = 1 + j/256, j = 0..256; cot(pi j / 2048)
    in two parts for j = 0..1024 (j = 0: inf); pi, log 2, 1/24 and -7/960 in two parts."""
    global _FAR_TABLES
    if _FAR_TABLES is not None:
        return _FAR_TABLES
    from decimal import Decimal, localcontext
    with localcontext() as ctx:
        ctx.prec = 45

        def two(v):
            hi = float(v)
            return hi, float(v - Decimal(hi))

        pi = Decimal("3.14159265358979323846264338327950288419716939937510582")
        inv = np.array([1.0 / (1.0 + j / 256.0) for j in range(257)])
        logs = np.array([two(-Decimal(v).ln()) for v in inv.tolist()]).T
        # sin and cos of pi / 2048 by their series, then of its multiples by the addition
        # formulas (45 digits: the recurrence's roundings far below float64's double)
        a = pi / 2048
        s1 = c1 = Decimal(0)
        term = Decimal(1)
        for n in range(1, 30):
            term = term * a / n
            if n % 2:
                s1 += term if n % 4 == 1 else -term
            else:
                c1 += term if n % 4 == 0 else -term
        c1 += 1
        cots = [(math.inf, 0.0)]
        s, c = s1, c1
        for _ in range(1024):
            cots.append(two(c / s))
            s, c = s * c1 + c * s1, c * c1 - s * s1
        cots = np.array(cots).T
        consts = tuple(two(v) for v in (pi, Decimal(2).ln(), Decimal(1) / 24,
                                        Decimal(-7) / 960, Decimal(1) / 3))
    _FAR_TABLES = (inv, logs[0].copy(), logs[1].copy(), cots[0].copy(), cots[1].copy(),
                   consts)
    return _FAR_TABLES


def _log_dd(xp, zh, zl, tables):
    """log(zh + zl) in two parts, zh >= 1, |zl| <= ulp(zh) / 2."""
    inv, log_hi, log_lo, _, _, consts = tables
    e = xp.floor(xp.log2(zh))
    f = zh / (2.0 ** e)
    # (f in [1, 2) exactly, as frexp's: log2 may round across an integer, and the Python
    # floats' path must give the same bits)
    e = xp.where(f < 1.0, e - 1.0, xp.where(f >= 2.0, e + 1.0, e))
    f = zh / (2.0 ** e)
    j = xp.astype(xp.round((f - 1.0) * 256.0), xp.int64)
    p, pe = _two_prod(f, xp.take(inv, j))
    uh, ul = _two_sum(p - 1.0, pe)   # (p - 1 exact)
    # log1p(uh) = uh (1 - uh (1/2 - uh (1/3 - ...))): 1/k to k = 5 in two parts
    s = -1.0 / 14.0
    for k in range(13, 5, -1):
        s = s * uh + (1.0 if k % 2 else -1.0) / k
    sh, sl = s, 0.0 * uh
    for k in (5, 4, 3, 2, 1):
        ph, pl = _dd_mul_d(sh, sl, uh)
        ch, cl = _RECIPROCALS[k]
        sh, sl = _dd_add(ch if k % 2 else -ch, cl if k % 2 else -cl, ph, pl)
    sh, sl = _dd_mul_d(sh, sl, uh)
    sl = sl + ul / (1.0 + uh)   # (log1p(uh + ul) = log1p(uh) + ul / (1 + uh): ul ~ 1e-19)
    ln2h, ln2l = consts[1]
    eh, el = _two_prod(e, ln2h)
    el = el + e * ln2l
    th, tl = _dd_add(eh, el, xp.take(log_hi, j), xp.take(log_lo, j))
    th, tl = _dd_add(th, tl, sh, sl)
    return _dd_add(th, tl, zl / zh, 0.0 * zh)


def _psi_half_dd(xp, wh, wl, tables):
    """psi(w + 1/2) in two parts for w = wh + wl >= 100."""
    consts = tables[5]
    lh, ll = _log_dd(xp, wh, wl, tables)
    rh = 1.0 / wh
    p, pe = _two_prod(rh, wh)
    rl = rh * (((1.0 - p) - pe) - rh * wl)   # (1 / w = rh (1 + delta), delta ~ 1e-16)
    vh, ve = _two_prod(rh, rh)
    vl = ve + 2.0 * (rh * rl)   # (v = 1 / w^2 <= 1e-4)
    # the series v / 24 - 7 v^2 / 960 + v^3 (...): the first two terms' products in two
    # parts (4e-6 and 7e-11 at w = 100), the rest (4e-15) in float64
    s = _HALF_SERIES[-1]
    for c in _HALF_SERIES[-2:1:-1]:
        s = s * vh + c
    (c1h, c1l), (c2h, c2l) = consts[2], consts[3]
    t1h, t1e = _two_prod(vh, c1h)
    qh, qe = _two_prod(vh, vh)
    ql = qe + 2.0 * (vh * vl)
    t2h, t2e = _two_prod(qh, c2h)
    th, te = _two_sum(t1h, t2h)
    tl = te + ((t1e + (vh * c1l + vl * c1h)) + (t2e + (qh * c2l + ql * c2h)) + qh * vh * s)
    return _dd_add(lh, ll, th, tl)


def _pi_cot_dd(xp, d, tables):
    """pi cot(pi d) in two parts for 0 < d <= 1/2."""
    _, _, _, cot_hi, cot_lo, consts = tables
    j = xp.clip(xp.round(d * 2048.0), 1.0, 1024.0)
    e = d - j * (1.0 / 2048.0)
    j = xp.astype(j, xp.int64)
    pih, pil = consts[0]
    bh, bl = _two_prod(e, pih)
    bl = bl + e * pil   # (b = pi e, |b| <= 7.7e-4)
    b2 = bh * bh
    # tan b = b + b^3 (1/3 + 2 b^2 / 15 + 17 b^4 / 315 + 62 b^6 / 2835): 1/3 and b^3 in two
    # parts (the next term 2e-35; the last 2e-30, times 1 + cot^2 in the value)
    qh, ql = _dd_add(*consts[4], b2 * (2.0 / 15.0 + b2 * (17.0 / 315.0 + b2 * (62.0 / 2835.0))),
                     0.0 * b2)
    ch, cl = _dd_mul(bh, bl, bh, bl)
    ch, cl = _dd_mul(*_dd_mul(ch, cl, bh, bl), qh, ql)
    th, tl = _dd_add(bh, bl, ch, cl)
    kh, kl = xp.take(cot_hi, j), xp.take(cot_lo, j)
    nh, nl = _dd_add(kh, kl, -th, -tl)
    mh, ml = _dd_mul(kh, kl, th, tl)
    dh, dl = _dd_add(xp.ones_like(mh), 0.0 * mh, mh, ml)
    return _dd_mul(pih, pil, *_dd_div(nh, nl, dh, dl))


def reflection_far_left(xp, x, right):
    """(psi(x) by the reflection, within 5 ulp where |psi| >= log(-x) / 2, and the mask of the
    elements below that, near a root) for an array x of namespace xp
    with every element below -100 and none an integer (elsewhere meaningless), ``right`` =
    psi(1 - x) (the backend's: 1 - x > 101): psi(1 - x) - pi / tan(pi d) with the exact d =
    x - round(x). Near a root it cancels: those elements are digamma_far_left_near's."""
    d = x - xp.round(x)
    value = right - math.pi / xp.tan(math.pi * d)
    return value, xp.abs(value) < 0.5 * xp.log(-x)


def _far_tables_on(xp, x):
    """_far_tables with its arrays in namespace xp on x's device (NumPy's as they are)."""
    tables = _far_tables()
    if isinstance(x, np.ndarray):
        return tables
    key = (type(x), x.device)
    found = _FAR_ON_DEVICE.get(key)
    if found is None:
        found = _FAR_ON_DEVICE[key] = tuple(xp.asarray(t, device=x.device) for t in tables[:5]) \
            + (tables[5],)
    return found


def _far_left_dd(xp, x, tables):
    d = x - xp.round(x)
    wh, wl = _two_sum(xp.full_like(x, 0.5), -x)   # (w = 1/2 - x: 1 - x = w + 1/2)
    ah, al = _psi_half_dd(xp, wh, wl, tables)
    ch, cl = _pi_cot_dd(xp, xp.abs(d), tables)
    sign = xp.where(d < 0.0, -xp.ones_like(d), xp.ones_like(d))
    # (ah - ch exact near a root, where the two are close)
    return ah - sign * ch + (al - sign * cl)


class _Floats:
    """The namespace functions _far_left_dd uses, on one Python float (the same operations
    as on arrays: the same bits; the tables as tuples)."""
    int64 = None
    floor = staticmethod(lambda v: float(math.floor(v)))
    log2 = staticmethod(math.log2)
    round = staticmethod(lambda v: float(round(v)))   # (half to even, as the libraries')
    abs = staticmethod(abs)
    clip = staticmethod(lambda v, lo, hi: min(max(v, lo), hi))
    astype = staticmethod(lambda v, dtype: int(v))
    take = staticmethod(lambda table, j: table[j])
    ones_like = staticmethod(lambda v: 1.0)
    full_like = staticmethod(lambda v, c: c)
    where = staticmethod(lambda c, a, b: a if c else b)


_FLOATS = _Floats()
_FAR_TABLES_FLOATS = None
_FEW = 24   # (up to these many elements one at a time in Python floats: ~20 us each,
            # against ~500 us of NumPy's ~600 calls on a few)


def digamma_far_left_near(xp, x):
    """The double-double form at x (below -100, not an integer; meant for the elements near a
    root, where the reflection cancels). A few NumPy elements one at a time in Python
    floats (the same bits)."""
    global _FAR_TABLES_FLOATS
    if isinstance(x, np.ndarray) and x.size <= _FEW:
        if _FAR_TABLES_FLOATS is None:
            tables = _far_tables()
            _FAR_TABLES_FLOATS = tuple(tuple(t.tolist()) for t in tables[:5]) + (tables[5],)
        return np.array([_far_left_dd(_FLOATS, v, _FAR_TABLES_FLOATS)
                         for v in x.reshape(-1).tolist()]).reshape(x.shape)
    shape = x.shape
    x = xp.reshape(x, (-1,))   # (the tables' look-ups: take, one axis)
    return xp.reshape(_far_left_dd(xp, x, _far_tables_on(xp, x)), shape)
