"""Session 41 (stats41): t and beta derivatives under jit at extreme parameters.

- t.cdf/sf/ppf at a large df: jit kept the plain derivatives (betainc's shape slope against
  x's, losing ~df eps): jit(grad(t.cdf)) in df 1.2e-3 off at (-6, 1e8), 1.3e-3 at
  (2.5, 1e12); in t 2.1e-9 at (-6, 1e8); jit(grad(t.ppf)) in df 6.7e-4 at (0.7, 1e12). Now
  the series' slopes come from the primitive t_fix, computed at evaluation (eagerly too).
- hessian(t.cdf)'s d/d df of the t slope (the density's df derivative, whose terms cancel
  from O(1/df) to O(1/df^2)) was 9e-5 off at (2.5, 1e12), eagerly and under jit.
- jit(grad(beta.ppf)) near 1 kept the derivatives at the rounded root: 2.1e-4 off at
  (1 - 1e-9, 5, 0.7); now from the complement form at evaluation (primitive beta_ppf_fix).

References: mpmath at 50-60 digits (pinned; quantile slopes by the implicit function)."""

import numpy as np
import pytest

import functrans as ft
from functrans.primitives import special as prims
from functrans.scipy import special, stats

# (t, df, cdf, dcdf/dt, dcdf/d df)
_T_CDF = [
    (-2.0, 1e4, 0.022763630330717721369, 0.054000412160239044512, -1.3499023216265779189e-9),
    (-6.0, 1e6, 9.8692490617721733495e-10, 6.0777407897395374022e-9,
     -3.3731078492270762417e-19),
    (-6.0, 1e8, 9.8659101715764352714e-10, 6.0759014268589706969e-9,
     -3.3721249091250076861e-23),
    (-3.0, 1e10, 0.0013498980349539808378, 0.0044318484188073722149,
     -3.3238863133077964462e-22),
    (2.5, 1e12, 0.99379033467414443972, 0.017528300493680554157, 7.942511161187018866e-26),
    (0.3, 1e6, 0.61791139101050289599, 0.3813877037234459464, 3.1178445560268261907e-14),
    (-1.0, 150.0, 0.15946047724021339401, 0.24116639144571425913, -5.3591736488012672547e-6),
    (0.7, 150.0, 0.75749423457355294912, 0.31135032259248977763, 3.6094842542624742171e-6),
    (-0.01, 1e14, 0.49601064368536840619, 0.39892233378608114811, -9.9740556504865127997e-32),
]
# (t, df, d2/dt2, d2/dt d df, d2/d df2)
_T_CDF_HESS = [
    (2.5, 1e12, -0.04382075123397132645, -1.1201679534134318429e-25,
     -1.5885022322412812993e-37),
    (-6.0, 1e8, 3.6455395801765421158e-8, -1.8577059557101501519e-22,
     6.7442597457352469999e-31),
    (0.7, 150.0, -0.21868382681923162616, 6.0115825032115505025e-6,
     -4.8064864985223009766e-8),
]
# (q, df, ppf, dppf/dq, dppf/d df)
_T_PPF = [
    (0.7, 1e12, 0.52440051270820780844, 2.8761036592656043527, -1.6715212561744768734e-25),
    (0.001, 1e6, -3.0902404563165196028, 296.99455295009892444, 8.1501683986686786552e-12),
    (0.9, 1e8, 1.2815515740104483218, 5.6980599405497634807, -8.465847785403741719e-17),
    (0.02, 1e10, -2.0537489108997286641, 20.653418025105849692, 2.6790561977437207189e-20),
    (0.1, 150.0, -1.2872209136149460509, 5.7547439736577255451, 0.000037965830055899061387),
]
# (q, a, b, 1 - ppf, dppf/dq, dppf/da, dppf/db)
_BETA_PPF = [
    (0.999999999, 5.0, 0.7, 2.4962278904519296321e-14, 0.000035660399443574635963,
     5.1376684411150515838e-15, -1.0655244556016169523e-12),
    (0.97, 3.0, 0.2, 6.0636848567800515021e-9, 1.0106141530100838429e-6,
     2.3058542958985926008e-9, -5.3460688429395643642e-7),
    (0.999, 0.5, 0.5, 2.4673990709169484606e-6, 0.0049347940831244366462,
     6.8410731520167618244e-6, -0.000066748276741005427937),
    (0.3, 0.7, 0.05, 0.0014747659332482123724, 0.042118405365993461165,
     0.0039534308178005375737, -0.20953103355542682637),
    (0.9999, 30.0, 2.0, 0.00046583102058518017672, 2.3396825722328378097,
     0.000015273714483184438656, -0.0012039880006074214495),
]


def _cols(rows, n):
    return [np.array(c) for c in list(zip(*rows))[:n]]


def _rel(got, want):
    got, want = np.asarray(got, dtype=float), np.asarray(want, dtype=float)
    return float(np.max(np.abs(got / want - 1.0)))


def _np(backend, v):
    return np.asarray(backend.to_numpy(v), dtype=float)


# -- t.cdf: the slopes at a large df, eagerly and under jit, on every backend ------------------

def test_t_cdf_slopes_at_a_large_df(backend):
    t, df, value, dt, dd = (np.array(c) for c in zip(*_T_CDF))
    args = [backend.asarray(v) for v in (t, df)]
    g = ft.vmap(ft.value_and_grad(stats.t.cdf, argnums=(0, 1)))
    for fn in (g, ft.jit(g)):
        v, (gt, gd) = fn(*args)
        # (the values as before this session: 1.4e-14 at (-3, 1e10), 5e-15 at (-6, 1e6); 2.7e-14
        # at (-3, 1e10) since session 57's NumPy betainc at x' = 1 - fl(1 - x) plus the
        # density's integral, SciPy's own accuracy at x' there)
        assert _rel(_np(backend, v), value) < 3e-14
        assert _rel(_np(backend, gt), dt) < 1e-14
        assert _rel(_np(backend, gd), dd) < 1e-14


@pytest.mark.parametrize("row", _T_CDF[:5], ids=lambda r: f"{r[0]}-{r[1]:g}")
def test_jit_grad_t_cdf_one_point(row):
    # (before: jit's df slope 2e-11 at (-2, 1e4), 6.5e-8 at (-6, 1e6), 1.2e-3 at (-6, 1e8),
    # 2.5e-4 at (-3, 1e10), 1.3e-3 at (2.5, 1e12); its t slope 2.1e-9 at (-6, 1e8))
    t, df, _, dt, dd = row
    got = ft.jit(ft.grad(stats.t.cdf, argnums=(0, 1)))(np.float64(t), np.float64(df))
    assert _rel(got[0], dt) < 1e-14
    assert _rel(got[1], dd) < 1e-14
    got = ft.jit(ft.grad(stats.t.sf, argnums=(0, 1)))(np.float64(t), np.float64(df))
    assert _rel(got[0], -dt) < 1e-14
    assert _rel(got[1], -dd) < 1e-14


@pytest.mark.parametrize("row", _T_CDF_HESS, ids=lambda r: f"{r[0]}-{r[1]:g}")
def test_t_cdf_hessian_at_a_large_df(row):
    # (the mixed entry d/d df of the t slope: 9e-5 off at (2.5, 1e12), 5.7e-11 at (-6, 1e8),
    # eagerly and under jit; jit's d2/d df2 was 1.2e8 relative at (2.5, 1e12))
    t, df, htt, htd, hdd = row
    h = ft.hessian(stats.t.cdf, argnums=(0, 1))
    for fn in (h, ft.jit(h)):
        (a, b), (c, d) = fn(np.float64(t), np.float64(df))
        assert _rel(a, htt) < 1e-14
        assert _rel(b, htd) < 1e-13
        assert _rel(c, htd) < 1e-13
        assert _rel(d, hdd) < 1e-13


def test_t_cdf_third_order_in_df():
    # (the slopes' partial derivatives to any order; mpmath: -8.1001823247305366655e-17)
    t, df = np.float64(-2.0), np.float64(1e4)

    def f(d):
        return stats.t.cdf(t, d)
    g3 = ft.grad(ft.grad(ft.grad(f)))
    eager, staged = float(g3(df)), float(ft.jit(g3)(df))
    assert _rel(eager, staged) < 3e-16   # (1 ulp apart since session 57's betainc shift)
    assert _rel(eager, -8.1001823247305366655e-17) < 1e-14


# -- t.ppf ------------------------------------------------------------------------------------

def test_t_ppf_slopes_at_a_large_df(backend):
    # (before: jit's df slope 6.7e-4 off at (0.7, 1e12), 2.8e-8 at (1e-3, 1e6))
    q, df, value, dq, dd = (np.array(c) for c in zip(*_T_PPF))
    args = [backend.asarray(v) for v in (q, df)]
    g = ft.vmap(ft.value_and_grad(stats.t.ppf, argnums=(0, 1)))
    for fn in (g, ft.jit(g)):
        v, (gq, gd) = fn(*args)
        # (the values as before: 5e-15 on torch and array-api-strict, their generic root)
        assert _rel(_np(backend, v), value) < 1e-14
        # (1 / the density at the root: its error times ~t^2 on the generic backends)
        assert _rel(_np(backend, gq), dq) < (1e-14 if backend.name == "numpy" else 1e-13)
        assert _rel(_np(backend, gd), dd) < 1e-13


def test_t_ppf_hessian_jit_as_eager():
    h = ft.hessian(stats.t.ppf, argnums=(0, 1))
    for q, df in ((0.7, 1e12), (0.001, 1e6), (0.3, 4.0)):
        args = (np.float64(q), np.float64(df))
        eager = np.array(h(*args), dtype=float)
        staged = np.array(ft.jit(h)(*args), dtype=float)
        np.testing.assert_allclose(staged, eager, rtol=1e-14)


# -- beta.ppf near 1 under jit ----------------------------------------------------------------

def test_beta_ppf_slopes_near_one(backend):
    # (before: jit(grad) at (1 - 1e-9, 5, 0.7) 2.1e-4 off in q, 7.1e-4 in a; at (0.97, 3, 0.2)
    # 4e-9; eager was right)
    q, a, b, w, dq, da, db = (np.array(c) for c in zip(*_BETA_PPF))
    args = [backend.asarray(v) for v in (q, a, b)]
    g = ft.vmap(ft.value_and_grad(stats.beta.ppf, argnums=(0, 1, 2)))
    for fn in (g, ft.jit(g)):
        v, (gq, ga, gb) = fn(*args)
        assert np.all(np.abs(_np(backend, v) - (1.0 - w)) <= 2.3e-16)
        assert _rel(_np(backend, gq), dq) < 1e-14
        assert _rel(_np(backend, ga), da) < 2e-14
        assert _rel(_np(backend, gb), db) < 2e-14


def test_beta_ppf_jit_hessian_as_eager():
    # (jit's hessian was 7e-4 off eager's at (1 - 1e-9, 5, 0.7); an element of each kind in
    # one batch)
    h = ft.hessian(stats.beta.ppf, argnums=(0, 1, 2))
    for p in ((0.999999999, 5.0, 0.7), (0.97, 3.0, 0.2), (0.6, 2.0, 3.0)):
        args = tuple(np.float64(v) for v in p)
        eager = np.array(h(*args), dtype=float)
        staged = np.array(ft.jit(h)(*args), dtype=float)
        np.testing.assert_allclose(staged, eager, rtol=1e-14)
    q, a, b = (np.array(c) for c in ([0.999999999, 0.6, 0.3], [5.0, 2.0, 0.7],
                                     [0.7, 3.0, 0.05]))
    g = ft.vmap(ft.grad(stats.beta.ppf, argnums=(0, 1, 2)))
    for e, s in zip(g(q, a, b), ft.jit(g)(q, a, b)):
        np.testing.assert_allclose(np.asarray(s), np.asarray(e), rtol=1e-14)


def test_beta_ppf_jit_without_derivative_unchanged():
    # (no derivative flows: the direct root alone, no fix in the graph)
    args = (np.float64(0.999999999), np.float64(5.0), np.float64(0.7))
    graph = str(ft.make_graph(stats.beta.ppf)(*args))
    assert "beta_ppf_fix" not in graph
    graph = str(ft.make_graph(ft.grad(stats.beta.ppf))(*args))
    assert graph.count("beta_ppf_fix") >= 1


# -- the primitives ---------------------------------------------------------------------------

def test_t_fix_in_the_graph_only_where_a_derivative_flows():
    args = (np.float64(-2.0), np.float64(7.0))
    assert "t_fix" not in str(ft.make_graph(stats.t.cdf)(*args))
    graph = str(ft.make_graph(ft.grad(stats.t.cdf, argnums=(0, 1)))(*args))
    assert "t_fix" in graph
    # (eagerly at a small df: no fix; the plain derivatives, as jit's there)
    g = ft.grad(stats.t.cdf, argnums=(0, 1))
    for e, s in zip(g(*args), ft.jit(g)(*args)):
        assert float(e) == float(s)


def test_t_fix_slopes_zero_outside_the_region_and_nan_free():
    # (outside the region (df < 100, t = 0, y > 0.2, nan) the slopes are 0, the mask false;
    # inside they are the series')
    d = np.array([1e4, 50.0, 1e4, 1e4, np.nan, 200.0])
    t = np.array([-2.0, -2.0, 0.0, -100.0, -1.0, 3.0])
    tail = np.array([0.0227636303307177, 0.1, 0.5, 1e-20, 0.2, 0.99])
    mask = np.asarray(prims.t_fix(d, t, tail, part="tail_region"))
    np.testing.assert_array_equal(mask, [True, False, False, False, False, True])
    slope = np.asarray(prims.t_fix(d, t, tail, part="tail_d"))
    assert np.all(slope[~mask] == 0.0)
    assert _rel(slope[0], _T_CDF[0][4]) < 1e-14
    # value: the tail itself; its tangent: the series' where in the region, tail's own else
    assert np.all(np.asarray(prims.t_fix(d, t, tail, part="tail")) == tail)
    _, tan = ft.jvp(lambda v: prims.t_fix(d, t, v, part="tail"), (tail,),
                    (np.full(6, 2.0),))
    np.testing.assert_array_equal(np.asarray(tan), np.where(mask, 0.0, 2.0))


def test_t_cdf_vmap_mixed_elements_as_each():
    # (in one batch elements inside and outside the series' region, a df of inf and a nan)
    t = np.array([-6.0, 2.5, -1.0, 0.0, 3.0, -2.0])
    df = np.array([1e8, 1e12, 5.0, 1e6, np.inf, np.nan])
    g = ft.grad(stats.t.cdf, argnums=(0, 1))
    got = ft.jit(ft.vmap(g))(t, df)
    for i in range(6):
        one = g(np.float64(t[i]), np.float64(df[i]))
        for k in range(2):
            np.testing.assert_allclose(float(np.asarray(got[k])[i]), float(one[k]),
                                       rtol=1e-14)


def test_series_terms_from_the_region_only():
    # (the count from the region's elements: a stand-in or an element outside, y = 0.9, does
    # not raise it; computed on the host on NumPy only)
    assert special._t_series_terms(0.2, 50.0) == 45
    d = np.array([1e4, 1e4])
    t = np.array([-2.0, -1e3])
    tail = np.array([0.0227636303307177, 1e-10])
    slope = np.asarray(prims.t_fix(d, t, tail, part="tail_d"))
    assert slope[1] == 0.0 and _rel(slope[0], _T_CDF[0][4]) < 1e-14
