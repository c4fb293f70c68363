"""Session 40 (stats40): incomplete beta / t / F leftovers.

- The generic continued fraction of betainc (torch, array-api-strict) kept stepping every
  element until the slowest of a batch converged, adding an ulp's drift a step: in a batch
  ``I_0.001(0.0059, 30)`` was 6e-15 off (3e-16 alone), and ``special._inc_beta``'s
  subtraction 1 - I multiplied that by I / (1 - I): 1.7e-13 off.
- Just above the small-b series' region (b > 2^-8) ``_inc_beta`` on those backends took
  ``1 - I_y(b, a)`` with ``I_y(b, a)`` a few ulp off: 2.6e-14 (torch), 6e-14 (strict); now
  from the generic power series of the complement (no subtraction).
- F's cdf/sf/ppf/isf, beta's sf and stdtr (t's cdf family) warned (log(0), overflow) for
  valid input where the result is right.

References: mpmath at 60 digits (``1 - betainc(b, a, 0, y)`` with y exact), pinned."""

import math
import warnings

import numpy as np
import pytest

import functrans as ft
from functrans.backends import generic
from functrans.scipy import special, stats


# (a, b, y, I_(1-y)(a, b)) just above special._SMALL_B_MAX, and a moderate b
_ABOVE_SMALL_B = [
    (0.7, 0.0039453125, 1e-3, 0.029339914499142412879),
    (1.0, 0.0039453125, 1e-3, 0.02688523416093480901),
    (1.5, 0.0039453125, 1e-3, 0.024533507514945795814),
    (30.0, 0.005859375, 1e-3, 0.017306153691008380958),
    (3.0, 0.015625, 1e-2, 0.047796418939429521055),
    (30.0, 0.005859375, 0.1, 0.000067337947832902083681),
    (0.7, 0.25, 1e-6, 0.97227731351638128898),
]


def _rel(got, want):
    return abs(float(got) - want) / abs(want)


@pytest.mark.parametrize("a, b, y, want", _ABOVE_SMALL_B)
def test_inc_beta_just_above_the_small_b_series(backend, a, b, y, want):
    # (before: torch 2.6e-14, array-api-strict 6e-14 at the first points; NumPy 1.6e-15)
    args = [backend.asarray(v) for v in (a, b, 1.0 - y, y)]
    assert _rel(backend.to_numpy(special._inc_beta(*args)), want) < 1e-14


def test_inc_beta_just_above_the_small_b_series_batched(backend):
    # (in one batch the generic continued fraction's drift made it 1.7e-13 on torch/strict)
    a, b, y, want = (np.array(v) for v in zip(*_ABOVE_SMALL_B))
    args = [backend.asarray(v) for v in (a, b, 1.0 - y, y)]
    got = backend.to_numpy(special._inc_beta(*args))
    assert np.all(np.abs(got / want - 1.0) < 1e-14)
    got = backend.to_numpy(ft.vmap(special._inc_beta)(*args))
    assert np.all(np.abs(got / want - 1.0) < 1e-14)


@pytest.mark.parametrize("name", ["torch", "array_api_strict"])
def test_generic_beta_fraction_same_in_a_batch(name):
    pytest.importorskip(name)
    import functrans.backends as fb
    bk = fb.get_backend(name)
    xp = bk.xp
    # beside elements whose fraction takes a hundred steps or more (a = 300, 3000)
    a = xp.asarray([0.005859375, 300.0, 3000.0, 0.7], dtype=xp.float64)
    b = xp.asarray([30.0, 0.005, 2.5, 0.004], dtype=xp.float64)
    x = xp.asarray([1e-3, 0.9, 0.9, 1e-3], dtype=xp.float64)
    batch = np.asarray(bk.to_numpy(generic.betainc(bk, a, b, x)))
    for i in range(4):
        one = float(bk.to_numpy(generic.betainc(bk, a[i:i + 1], b[i:i + 1], x[i:i + 1]))[0])
        assert batch[i] == one
    # mpmath: I_0.001(0.005859375, 30) (was 0.9826938463089852 in the batch)
    assert abs(batch[0] - 0.98269384630899161904) < 4.5e-16


def test_inc_beta_generic_complement_keeps_the_derivatives(backend):
    # (values only: the derivatives in a, b and x are the plain forms', as NumPy's)
    a, b, y = 1.0, 0.0039453125, 1e-3

    def f(a, b, x):
        return special._inc_beta(a, b, x, 1.0 - x)
    want = ft.grad(f, argnums=(0, 1, 2))(a, b, 1.0 - y)
    args = [backend.asarray(v) for v in (a, b, 1.0 - y)]
    got = ft.grad(f, argnums=(0, 1, 2))(*args)
    for g, w in zip(got, want):
        assert _rel(backend.to_numpy(g), float(w)) < 1e-12


def test_inc_beta_generic_complement_not_at_a_huge_shape():
    # stdtr at df 1e300 (b = 1/2, y = 2.25e-300): the series' exponent subtracts terms of
    # ~345 there, and would be 8e-15 off; the subtraction is kept (test_s31_betainc31)
    torch = pytest.importorskip("torch")
    got = float(special.stdtr(torch.tensor(1e300, dtype=torch.float64),
                              torch.tensor(1.5, dtype=torch.float64)))
    assert abs(got - 0.9331927987311419) <= 4.5e-16  # (2 ulp, as before this session)


# -- no floating-point warnings for valid input where the result is right --------------------

_QUIET = [
    # (function, arguments, the right value): F at extreme shapes (special._inc_beta's log(0)
    # of its comparisons, 0 * inf of stand-ins), the quantile that overflows truly, beta's
    # sf at a tiny a, stdtr where t^2 overflows or t is tiny
    # (stats42: these four were pinned at SciPy's values, sf 0 and cdf 1; at dfd = 1e-300 the
    # cdf is b (log w + gamma + psi(a)) ~ 3e-298, b = dfd/2, w = dfd / (dfd + dfn x), a =
    # dfn/2: mpmath)
    (stats.f.sf, (1e-30, 1e300, 1e-300), 1.0),
    (stats.f.cdf, (1e-30, 1e300, 1e-300), 3.1090695331202538e-298),
    (stats.f.sf, (1e-3, 1e30, 1e-300), 1.0),
    (stats.f.cdf, (1e6, 1e300, 1e-300), 3.523534849859182e-298),
    (stats.f.ppf, (1e-12, 1e-12, 1e-300), math.inf),
    (stats.f.isf, (0.3, 1e-12, 1e-300), math.inf),
    (stats.beta.sf, (0.5, 1e-300, 1e12), 0.0),
    (stats.beta.sf, (0.97, 1e300, 1e-12), 1.0),
    (stats.t.cdf, (1e300, 3.0), 1.0),
    (stats.t.cdf, (-1e300, 3.0), 0.0),
    (stats.t.sf, (1e300, 3.0), 0.0),
    (stats.t.cdf, (1e-300, 3.0), 0.5),
    (special.stdtr, (1e4, 1e300), 1.0),
]


@pytest.mark.parametrize("fn, args, want", _QUIET)
def test_no_warning_where_the_result_is_right(fn, args, want):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = float(fn(*args))
        batched = ft.vmap(fn)(*(np.array([v, v]) for v in args))
    np.testing.assert_allclose(got, want, rtol=1e-14, atol=0)
    np.testing.assert_allclose(np.asarray(batched), want, rtol=1e-14, atol=0)


def test_no_warning_on_an_extreme_grid():
    # (a 4 x 6 x 6 grid of x, dfn, dfd at the extremes: no warnings (before, most calls
    # warned); some values are nan where a shape of 1e30 or more meets a large n x, as
    # before: left, see the session's notes: f.cdf(0.5, 1e300, 1e-8), f.cdf(1e300, 1e4,
    # 1e300))
    xs = np.array([1e-30, 0.5, 1e12, 1e300])
    ds = np.array([1e-300, 1e-8, 0.5, 1e4, 1e30, 1e300])
    x, n, m = (v.ravel() for v in np.meshgrid(xs, ds, ds, indexing="ij"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for fn in (stats.f.cdf, stats.f.sf):
            out = np.asarray(fn(x, n, m))
            fine = ~np.isnan(out)
            assert np.all((out[fine] >= 0.0) & (out[fine] <= 1.0))
            assert np.all(fine | (np.maximum(n, m) >= 1e30))
        q = np.full_like(x, 1e-3)
        for fn in (stats.f.ppf, stats.f.isf):
            assert not np.any(np.isnan(np.asarray(fn(q, n, m))))


# -- staged code: _inc_beta's values at evaluation (the primitive inc_beta_values_fix) -------

# (x, dfn, dfd, f.cdf) at a tiny dfd (test_s39_fcdf39; mpmath 60 digits)
_TINY_DFD = [
    (1e8, 3., 1e-8, 1.8663132328171272681e-7),
    (300., 1e8, 1e-8, 1.2120196639702098363e-7),
    (1e12, 1e-2, 1e-12, 1.2532433863330282949e-10),
    (0.1, 100., 1e-12, 1.2727200435218296475e-11),
]


def test_jit_f_cdf_at_a_tiny_dfd(backend):
    # (jit kept the plain forms: f.cdf(1e12, 0.01, 1e-12) was 3.6e-5 off, (1e8, 3, 1e-8)
    # 6.1e-10)
    x, n, m, want = (np.array(v) for v in zip(*_TINY_DFD))
    args = [backend.asarray(v) for v in (x, n, m)]
    for fn in (ft.jit(stats.f.cdf), ft.jit(ft.vmap(stats.f.cdf)), ft.vmap(ft.jit(stats.f.cdf))):
        got = backend.to_numpy(fn(*args))
        assert np.all(np.abs(got / want - 1.0) < 2e-15)
    one = [backend.asarray(v) for v in (1e12, 1e-2, 1e-12)]
    assert _rel(backend.to_numpy(ft.jit(stats.f.cdf)(*one)), _TINY_DFD[2][3]) < 2e-15


def test_jit_inc_beta_just_above_the_small_b_series(backend):
    # (the generic backends' complement series under jit too)
    a, b, y, want = (np.array(v) for v in zip(*_ABOVE_SMALL_B))
    args = [backend.asarray(v) for v in (a, b, 1.0 - y, y)]
    got = backend.to_numpy(ft.jit(special._inc_beta)(*args))
    assert np.all(np.abs(got / want - 1.0) < 1e-14)


def test_jit_keeps_the_derivatives_and_binds_one_fix():
    # (the values only: jit's derivatives are those of the plain forms, as before, and
    # equal eager's here; one primitive in the graph)
    x, n, m, _ = (np.array(v) for v in zip(*_TINY_DFD))
    g = ft.grad(stats.f.cdf, argnums=(0, 2))
    eager = ft.vmap(g)(x, n, m)
    staged = ft.jit(ft.vmap(g))(x, n, m)
    for e, s in zip(eager, staged):
        np.testing.assert_allclose(np.asarray(s), np.asarray(e), rtol=1e-13)
    graph = str(ft.make_graph(stats.f.cdf)(np.float64(1.3), np.float64(3.0), np.float64(7.0)))
    assert graph.count("inc_beta_values_fix") == 1
    # (an ordinary point: the value unchanged)
    assert float(ft.jit(stats.f.cdf)(np.float64(1.3), np.float64(3.0), np.float64(7.0))) == \
        float(stats.f.cdf(1.3, 3.0, 7.0))


def test_inc_beta_values_fix_rules():
    from functrans.primitives import special as prims
    out, a, b, y = (np.array(v) for v in ([0.9, 0.5], [3.0, 3.0], [1e-8, 0.5], [1e-10, 0.1]))
    use = np.array([True, True])
    fixed = prims.inc_beta_values_fix(out, a, b, 1.0 - y, y, use)
    # 1 - I_1e-10(1e-8, 3) (the series) at the first; the second kept
    assert _rel(fixed[0], 1.0 - float(special.betainc(1e-8, 3.0, 1e-10))) < 1e-6
    assert fixed[1] == 0.5
    # its tangent is out's
    _, t = ft.jvp(lambda o: prims.inc_beta_values_fix(o, a, b, 1.0 - y, y, use), (out,),
                  (np.array([2.0, 3.0]),))
    np.testing.assert_array_equal(t, [2.0, 3.0])


# -- beta.ppf/isf where the root is close to 1 -------------------------------------------------

# (a, b, q, dx/dq, dx/da, dx/db, d2x/dq2) at the root x of cdf(x) = q, 1 - x from 1e-9 down to
# 2.5e-19 (mpmath 40 digits, the root solved for 1 - x; the slopes by the implicit function)
_BETA_NEAR_ONE = [
    (5.0, 0.7, 1 - 1e-9, 3.5660399443574636e-5, 5.1376684411150516e-15,
     -1.065524455601617e-12, -15283.028765200118),
    (0.7, 0.01, 0.3, 8.736160008091807e-14, 1.7136936180765157e-15, -2.1808230472147441e-12,
     -1.2355426297158404e-11),
    (1000.0, 0.7, 1 - 1e-9, 1.731343177130494e-7, 1.2121219564858223e-19,
     -5.1853261864688647e-15, -74.200423975587722),
    (3.0, 0.5, 1 - 2.0 ** -30, 5.2981906467013889e-10, 8.9001549610113157e-20,
     -2.0615302791157851e-17, -0.56888888888888889),
]


@pytest.mark.parametrize("a, b, q, dq, da, db, dqq", _BETA_NEAR_ONE)
def test_beta_ppf_slopes_near_one(a, b, q, dq, da, db, dqq):
    # (they were taken at the rounded root: 2.1e-4, 8.8e-2, 2.6e-2 and 100 % off in q)
    got = ft.grad(stats.beta.ppf, argnums=(0, 1, 2))(q, a, b)
    for g, w in zip(got, (dq, da, db)):
        assert _rel(g, w) < 1e-13
    assert _rel(ft.hessian(stats.beta.ppf)(q, a, b), dqq) < 1e-12
    # isf at 1 - q: the same root, the slope in q negated
    gi = ft.grad(stats.beta.isf, argnums=(0, 1, 2))(1.0 - q, a, b)
    for g, w in zip(gi, (-dq, da, db)):
        assert _rel(g, w) < 1e-13


def test_beta_ppf_slopes_near_one_batched(backend):
    a, b, q, dq, da, db, _ = (np.array(v) for v in zip(*_BETA_NEAR_ONE))
    args = [backend.asarray(v) for v in (q, a, b)]
    g = ft.grad(stats.beta.ppf, argnums=(0, 1, 2))
    for got, want in zip(ft.vmap(g)(*args), (dq, da, db)):
        assert np.all(np.abs(backend.to_numpy(got) / want - 1.0) < 1e-12)
    # (staged code keeps the direct form, whose slopes are those at the rounded root)
    staged = ft.jit(ft.vmap(g))(*args)
    assert np.all(np.abs(backend.to_numpy(staged[0]) / dq - 1.0) < 1.5)
    # values: as before (the root's rounding; SciPy's betaincinv on NumPy)
    x = backend.to_numpy(stats.beta.ppf(*args))
    assert np.all(np.abs(1.0 - x - np.array([2.4962e-14, 6.1153e-16, 1.2119e-16, 2.4672e-19]))
                  <= 1.2e-16)
