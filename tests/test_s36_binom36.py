"""Session 36, helper binom36: binom's derivatives where the value overflows (the both branch
and Stirling's, besides the far branch), for k near 0 (and n - k near 0), and for n far below
0 with k negative; the overflow rule skipped at run time under jit where nothing overflows.

References: mpmath at 40 digits, binom = s exp(E), E = log|Gamma(n + 1)| - log|Gamma(k + 1)|
- log|Gamma(n - k + 1)| (log|Gamma| and psi, psi' of negative arguments by reflection),
d/dn = binom (psi(n + 1) - psi(n - k + 1)), d/dk = binom (psi(n - k + 1) - psi(k + 1)), the
second derivatives binom (E_i E_j + E_ij); at a pole of Gamma(n - k + 1) mp.diff of
gamma(n + 1) rgamma(k + 1) rgamma(n - k + 1).
"""
import warnings

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
import functrans.scipy.special as fsp

from tests._orders import ORDERS, hess_in_order

inf = np.inf


def _quiet():
    w = warnings.catch_warnings()
    w.__enter__()
    warnings.simplefilter("ignore", RuntimeWarning)
    return w


# (n, k): [value, d/dn, d/dk, d2/dn2, d2/dndk, d2/dk2] (mpmath; beyond 1.8e308 as +-inf)
#   (-3000.374, 340.986): -3.5021e476, 9.6043e475, -1.3167e477, 1.3651e476, -3.8613e477,
#       -7.2669e476 (the both branch: grad was nan, nan)
#   (1199.785, 495.546): 4.1447e351, 2.207e351, 1.4554e351, 1.1728e351, 7.8089e350, 4.9685e350
#       (Stirling's: grad was nan, nan)
#   (5000.5, 2500.5): 2.2537e1503, 1.5621e1503, -4.506e1499, 1.0823e1503, 5.8896e1499,
#       -1.8023e1500 (k mirrored to n - k)
#   (-30.5, 3.6e11 + 0.5): 0 (a pole of Gamma(n - k + 1)), 5.3062e309, -5.3062e309,
#       -2.4629e311, 1.2315e311, -8.6963e299 (the far branch: hessian was nan)
_OVERFLOWING = {
    (-3000.3740483886136, 340.9859044234797): [-inf, inf, -inf, inf, -inf, -inf],
    (1199.7850128421717, 495.54624438480926): [inf, inf, inf, inf, inf, inf],
    (5000.5, 2500.5): [inf, inf, -inf, inf, inf, -inf],
    (-30.5, 3.6e11 + 0.5): [0.0, inf, -inf, -inf, inf, -8.6962734160705523e299],
}


def _check(got, want, rtol):
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    inf_at = np.isinf(want)
    np.testing.assert_array_equal(got[inf_at], want[inf_at])
    np.testing.assert_allclose(got[~inf_at], want[~inf_at], rtol=rtol, atol=0)


@pytest.mark.parametrize("order", list(ORDERS))
@pytest.mark.parametrize("point", list(_OVERFLOWING), ids=str)
def test_binom_overflowing_second_derivatives_in_every_order(point, order):
    want = _OVERFLOWING[point]
    w = _quiet()
    try:
        got = hess_in_order(order, fsp.binom, point)
    finally:
        w.__exit__(None, None, None)
    _check([got[0, 0], got[0, 1], got[1, 0], got[1, 1]],
           [want[3], want[4], want[4], want[5]], 1e-9)


@pytest.mark.parametrize("point", list(_OVERFLOWING), ids=str)
def test_binom_overflowing_first_derivatives_both_modes(point):
    want = _OVERFLOWING[point]
    w = _quiet()
    try:
        value = float(fsp.binom(*point))
        rev = [float(g) for g in ft.grad(fsp.binom, (0, 1))(*point)]
        fwd = [float(ft.jvp(fsp.binom, point, d)[1]) for d in ((1.0, 0.0), (0.0, 1.0))]
    finally:
        w.__exit__(None, None, None)
    _check([value], want[:1], 1e-12)
    _check(rev, want[1:3], 1e-12)
    _check(fwd, want[1:3], 1e-12)


def test_binom_overflowing_under_jit_vmap_and_jacobians(backend):
    # the same signed infinities per element under jit(vmap(hessian)); an overflowing element
    # gives the others' Jacobian entries 0 (not inf * 0)
    n = np.array([p[0] for p in _OVERFLOWING] + [12.3])
    k = np.array([p[1] for p in _OVERFLOWING] + [4.7])
    w = _quiet()
    try:
        h = np.array(ft.jit(ft.vmap(ft.hessian(fsp.binom, (0, 1))))(n, k), dtype=float)
        for jac in (ft.jacrev, ft.jacfwd):
            j = backend.to_numpy(jac(fsp.binom, 1)(backend.asarray(n), backend.asarray(k)))
            assert np.all(j[~np.eye(5, dtype=bool)] == 0.0)
            _check(np.diag(j)[:4], [v[2] for v in _OVERFLOWING.values()], 1e-12)
    finally:
        w.__exit__(None, None, None)
    for i, want in enumerate(_OVERFLOWING.values()):
        _check([h[0, 0, i], h[0, 1, i], h[1, 1, i]], want[3:], 1e-9)
    # mpmath: binom(12.3, 4.7) second derivatives
    eager = np.array(ft.hessian(fsp.binom, (0, 1))(12.3, 4.7), dtype=float)
    np.testing.assert_allclose(h[:, :, 4], eager, rtol=1e-13)


# [value, d/dn, d/dk, d2/dn2, d2/dndk, d2/dk2] (mpmath): k or n - k near 0 (the differences
# of psi values cancelled: up to 6 % off at (150.2, -1e-12), d/dn at (1e6 + 0.5, -1e-12)
# was 0), and n far below 0 with k negative (lgamma values of n log n cancelled)
_ACCURATE = {
    (0.3, 1e-12): (1.0000000000004081, 1.1342534349976814e-12, 0.4080247760321205,
                   -1.1984625146523597e-12, 1.1342534349987434, -2.61270328398878),
    (3.7, -1e-12): (0.9999999999979854, -2.3699183867756797e-13, 2.014639474531138,
                    5.591097413823311e-14, 0.23699183867706256, 2.176846306822419),
    (8.5, -1e-12): (0.999999999997225, -1.1099728846878486e-13, 2.774953541298538,
                    1.2307845807686141e-14, 0.1109972884684707, 5.94443580107182),
    (12.3, -1e-12): (0.9999999999968731, -7.808534804988625e-14, 3.1269148782027467,
                     6.094235336312217e-15, 0.07808534804963904, 8.054577240660901),
    (150.2, -1e-12): (0.9999999999944075, -6.635675717814675e-15, 5.592508605178361,
                      4.403203066729495e-17, 0.006635675717777543, 29.624582756609687),
    (-3.3, 1e-12): (1.0000000000038944, 1.4725912160984284e-11, 3.894538822462152,
                    6.871379252937029e-11, 14.72591216100728, -1.2034135881963401),
    (-10.3, -1e-12): (0.9999999999948574, -1.497746110658869e-11, 5.14253177983302,
                      -6.88271583275245e-11, 14.977461106546084, 9.82323793326329),
    (-2500.25, -1e-12): (0.9999999999884572, -1.9738808762014223e-11, 11.542754330903433,
                         -1.2402510656012534e-10, 19.738808761848397, 111.85143471621998),
    (25.0, 24.999999999999): (1.0000000000038096, 3.815958177766402, -3.8159581777663627,
                              12.955813410812086, -12.916602747554562, 12.877392084297036),
    (9.9, 1e-06): (1.0000029194094735, 9.608028623170209e-08, 2.9194128644418362,
                   -9.224324702504848e-09, 0.09608057134107396, 6.781929835286852),
    (-1980464.014166893, -24.381685803669008): (
        -1.5722962873567709e-130, -1.1309396240955873e-128, -1.3698388587066386e-129,
        -1.5955408083312775e-126, -1.003863604876843e-127, -8.29850233524873e-129),
    (-1000000.3, -999979.8): (
        -1.2505462732777075e-106, -1.6384875656701626e-105, 8.123076049575357e-106,
        -2.2125512281295934e-104, 9.415007823889858e-105, -4.760381612148871e-106),
    (1000000.5, 1000000.7): (0.05419525018692372, 0.801033986043546, -0.8010339968825841,
                             11.715078429201562, -11.715078535212987, 11.715078641224425),
    (-4791.440613042024, -7.329915000078308): (
        1.3559923450701818e-25, -1.0945403828464958e-24, 1.8113500972283534e-24,
        -1.301772400660626e-24, -3.0982582105113977e-24, 1.0886344445112294e-23),
    (-40.3, -34.999999999): (
        -1.8271566453355323e-16, -3.8616632231813186e-16, -1.8271629861122427e-07,
        -8.49495201222573e-16, -3.861676651473793e-07, -1.1398472981230197e-07),
    # (k just beyond n + 10, the far branch for a positive n: lgamma(n + 1) and a
    # Pochhammer of -(n + 1) cancelled, derivatives 72 times off at 1.75e15, 3e-6 at 1.45e9)
    (1750124026062869.8, 1750124026062882.8): (
        0.0, 3.3146846261452374e-190, -3.3146846261452374e-190, 2.1593491808936908e-188,
        -2.159349180893691e-188, 2.1593491808936915e-188),
    (1447353793.9665327, 1447353805.8108456): (
        -1.2898538666303895e-102, -3.168726422359618e-101, 3.1687264234151606e-101,
        -7.208909022815142e-100, 7.208909025399334e-100, -7.208909027983526e-100),
}
# (old errors: (-1980464.01, -24.38) 4.4e-9, (-1e6 - 0.3, -999979.8) 1.8e-10, (1e6 + 0.5,
# 1e6 + 0.7) 8e-10, (-4791.44, -7.33) 1.2e-11; d/dn at (8.5, -1e-12) 4e-3, (12.3, -1e-12)
# 5e-3, (-2500.25, -1e-12) 9e-2)


@pytest.mark.parametrize("point", list(_ACCURATE), ids=str)
def test_binom_small_k_and_reflected_negative_k_vs_mpmath(point):
    want = _ACCURATE[point]
    g = ft.grad(fsp.binom, (0, 1))(*point)
    h = np.array(ft.hessian(fsp.binom, (0, 1))(*point), dtype=float)
    got = [float(fsp.binom(*point)), float(g[0]), float(g[1]), h[0, 0], h[0, 1], h[1, 1]]
    np.testing.assert_allclose(got[:3], want[:3], rtol=2e-13, atol=0)
    # (d2/dn2 at a small k is itself of the size of k: 5e-13 of it)
    np.testing.assert_allclose(got[3:], want[3:], rtol=5e-13, atol=0)
    np.testing.assert_allclose(h[1, 0], h[0, 1], rtol=1e-14)


def test_binom_small_k_on_every_backend(backend):
    n = backend.asarray([8.5, 12.3, -10.3, 150.2])
    k = backend.asarray([-1e-12, -1e-12, -1e-12, -1e-12])
    dn = backend.to_numpy(ft.grad(lambda a: fnp.sum(fsp.binom(a, k)))(n))
    want = [_ACCURATE[(8.5, -1e-12)][1], _ACCURATE[(12.3, -1e-12)][1],
            _ACCURATE[(-10.3, -1e-12)][1], _ACCURATE[(150.2, -1e-12)][1]]
    np.testing.assert_allclose(dn, want, rtol=2e-13, atol=0)


def test_binom_float32_overflow_and_small_k():
    # float32 in, float32 out: computed in float64 and rounded once (inf beyond 3.4e38)
    n = np.array([-3000.374, 1199.785, 8.5, 150.2], dtype=np.float32)
    k = np.array([340.98593, 495.54623, -1e-12, -1e-12], dtype=np.float32)
    w = _quiet()
    try:
        v = fsp.binom(n, k)
        gn, gk = ft.grad(lambda a, b: fnp.sum(fsp.binom(a, b)), (0, 1))(n, k)
        g64 = ft.grad(lambda a, b: fnp.sum(fsp.binom(a, b)), (0, 1))(
            n.astype(np.float64), k.astype(np.float64))
    finally:
        w.__exit__(None, None, None)
    assert v.dtype == np.float32 and gn.dtype == np.float32 and gk.dtype == np.float32
    assert v[0] == -inf and v[1] == inf
    assert gn[0] == inf and gk[0] == -inf and gn[1] == inf and gk[1] == inf
    np.testing.assert_allclose(gn[2:], np.asarray(g64[0][2:], dtype=np.float32), rtol=1e-6)
    np.testing.assert_allclose(gk[2:], np.asarray(g64[1][2:], dtype=np.float32), rtol=1e-6)


def test_exp_rule_not_run_under_jit_where_nothing_overflows(monkeypatch):
    # the overflow rule is staged under jit (the mask is not known there); at run time it
    # reads the mask and computes nothing where no element overflows (jit(vmap(hessian))
    # of 1e3 far points went 57.8 -> 19.7 ms)
    calls = []
    exponent, factor = fsp._EXP_PARTS["far"]

    def counted(a, b):
        calls.append(1)
        return exponent(a, b)
    monkeypatch.setitem(fsp._EXP_PARTS, "far", (counted, factor))
    monkeypatch.setattr(fsp, "_binom_far_exponent", counted)
    f = ft.jit(ft.vmap(ft.hessian(fsp.binom, (0, 1))))
    n, k = np.array([-30.37, -12.3]), np.array([40.21, 400.7])
    first = np.array(f(n, k), dtype=float)
    staged = len(calls)
    again = np.array(f(n, k), dtype=float)
    assert len(calls) == staged  # (the value branch's exponent is in the graph already)
    np.testing.assert_array_equal(first, again)
    eager = np.array(ft.vmap(ft.hessian(fsp.binom, (0, 1)))(n, k), dtype=float)
    np.testing.assert_allclose(again, eager, rtol=1e-13)
    # an overflowing element: the rule runs, and gives the signed infinities
    w = _quiet()
    try:
        h = np.array(f(np.array([-30.37, -1000.5]), np.array([40.21, 1e6 + 0.3])),
                     dtype=float)
    finally:
        w.__exit__(None, None, None)
    assert len(calls) > staged
    assert h[:, :, 1].tolist() == [[-inf, inf], [inf, -inf]]


# poch: [value, d/dz, d/dm, d2/dz2, d2/dzdm, d2/dm2] (mpmath, poch (psi(z + m) - psi(z)) and
# the like): small m (d/dz was 4e-5 off at (0.3, 1e-12), 8e-4 at (5.5, -1e-12), d2/dz2
# 1.5e-2 at (-2.5, -1e-12))
_POCH_SMALL_M = {
    (0.3, 1e-12): (0.9999999999964975, 1.2245364546027206e-11, -3.50252422217562,
                   -7.527253658794087e-11, 12.24536454594668, 24.51304047295947),
    (5.5, -1e-12): (0.999999999998389, -1.9934238698932631e-13, 1.6110931485789561,
                    3.960894752128581e-14, 0.19934238698902496, 2.7949635203915824),
    (-3.3, 1e-12): (1.0000000000036204, 1.4817739525603958e-11, 3.6203534606200507,
                    6.876944547833826e-11, 14.817739525691989, 27.924698705414468),
    (-2.5, -1e-12): (0.9999999999988969, -9.539246644978655e-12, 1.103156640634487,
                     1.082040518299792e-13, 9.539246644968186, 10.756201218756019),
    (12.3, 1e-09): (1.0000000024683984, 8.469517045139333e-11, 2.468398406478824,
                    -7.169003182954549e-12, 0.08469517065687024, 6.177685848515079),
}


@pytest.mark.parametrize("point", list(_POCH_SMALL_M), ids=str)
def test_poch_small_m_vs_mpmath(point):
    want = _POCH_SMALL_M[point]
    g = ft.grad(fsp.poch, (0, 1))(*point)
    h = np.array(ft.hessian(fsp.poch, (0, 1))(*point), dtype=float)
    got = [float(fsp.poch(*point)), float(g[0]), float(g[1]), h[0, 0], h[0, 1], h[1, 1]]
    np.testing.assert_allclose(got, want, rtol=5e-13, atol=0)


def test_poch_and_binom_where_z_plus_m_rounds_to_z():
    # d/dz poch(3, m) = m psi'(3) for tiny m (Stirling's correction's plain difference gave
    # 0.877 of it: its rounding error was all of it)
    trigamma_3 = 0.39493406684822643
    for m in (1e-200, 1e-300):
        assert abs(float(ft.grad(fsp.poch)(3.0, m)) / (m * trigamma_3) - 1) < 1e-13
        assert abs(float(ft.grad(fsp.binom)(2.0, m)) / (m * trigamma_3) - 1) < 1e-13


def test_poch_overflowing_derivatives():
    # poch(200.3, 300.7) = 1.5e654 and poch(0.5, 200.3) = 2.4e374 (mpmath), every first and
    # second derivative +inf: were nan in reverse mode (and the mixed second derivatives)
    w = _quiet()
    try:
        for point in ((200.3, 300.7), (0.5, 200.3)):
            assert [float(g) for g in ft.grad(fsp.poch, (0, 1))(*point)] == [inf, inf]
            for order in ORDERS:
                assert (hess_in_order(order, fsp.poch, point) == inf).all(), order
    finally:
        w.__exit__(None, None, None)


def test_binom_where_scipy_is_off():
    # mpmath binomial(1000, -2.5) = 1.332257537301108038e-8; SciPy's 1.3322575373026739e-08
    # is 1.2e-12 off (test_special_scipy_dispatch leaves that point out)
    assert abs(float(fsp.binom(1000.0, -2.5)) / 1.332257537301108038e-8 - 1) < 1e-15
