"""Session 45, helper stats45: F's cdf at two huge degrees of freedom and F's log density at
a tiny one.

- Temme's expansion's derivatives (F's cdf/sf where both degrees of freedom are above 1e10)
  come from the primitive f_temme_fix, computed at evaluation where some element needs them:
  staged, the expansion's ~1600 equations cost jit(grad(f.cdf)) of 1000 ordinary points
  14-22 % on every call in session 44 (pinned: the grad graph's size over the value's).
- Temme's expansion near x = 1 with a tiny p = n / (n + m): E, eta and c0's denominator left
  the normal range, f.cdf(1 + 2.2e-16, 1e11, 1e300) was nan; its x slope at d = x - 1 =
  2.2e-16 8e-12 off the density (c0's quotient of O(d^3) terms); the dfn slope at x = 1,
  (1e100, 1e300), -9.4e-152, was 0 in reverse mode (1/(1 + m/n)'s derivative overflowed).
- f.logpdf below one degree of freedom: the plain and deviance forms cancelled O(1) terms to
  an O(df) slope: grad in dfd at (0.5, 1e-20, 3) was 0 (true 6.7e-22), at (1e-290, 1e-20,
  3) -1.7e-21, in dfn at (0.5, 3, 1e-20) 5.6e-17.
- The fix primitives' JVPs (beta_ppf_fix, f_logpdf_fix, f_temme_fix) add 0 for a zero
  tangent where a partial is infinite: jit(hessian(f.logpdf))(1e-310, 1.2, 3) was nan in
  every entry (eagerly finite in the dfn/dfd block).

References: mpmath (F's log density in closed form at 60 digits and its derivatives by
mpmath.diff; Temme's first-order expansion at 800 digits, whose own error at these degrees
of freedom, ~0.1 / min(n, m)^1.5, is below 1e-16), central differences of the values, the
density as the x slope."""

import numpy as np
import pytest

import functrans as ft
from functrans.primitives import special as prims
from functrans.scipy import special, stats


def _grad3(fn):
    return ft.grad(fn, argnums=(0, 1, 2))


# -- F's cdf at two huge degrees of freedom: f_temme_fix ------------------------------------


def test_f_temme_slopes_bound_at_evaluation():
    """jit(grad(f.cdf)) stages the primitive, not the expansion: the grad graph of 1000
    ordinary points adds fewer than 1000 equations to the value's (session 44: ~2200)."""
    x = np.linspace(0.1, 4.0, 1000)
    n, m = np.linspace(1.0, 30.0, 1000), np.linspace(30.0, 1.0, 1000)
    for fn in (stats.f.cdf, stats.f.sf):
        value = ft.make_jaxpr(fn)(x, n, m)
        grad = ft.make_jaxpr(_grad3(lambda x, n, m: fn(x, n, m).sum()))(x, n, m)
        assert "f_temme_fix" in str(grad)
        assert len(grad.eqns) - len(value.eqns) < 1000, (len(grad.eqns), len(value.eqns))


def test_f_temme_fix_rules():
    """Its value is out's; its region both degrees of freedom above 1e10 (finite, 0 < x <
    inf); its slopes 0 outside; the x slope the density (closed form), also of the
    primitive's partial in x; out's own tangent outside."""
    n = np.array([1e11, 1e11, 3.0, 1e11, 1e300])
    m = np.array([3e11, 1e300, 1e11, 3e11, 1e100])
    x = np.array([1.0 + 3e-6, 1.0 + 2.220446049250313e-16, 2.0, 5.0, 1.0])
    out = np.array([0.1, 0.2, 0.3, 0.4, 0.5])
    assert np.array_equal(prims.f_temme_fix(n, m, x, out, upper=False), out)
    region = np.asarray(prims.f_temme_fix(n, m, x, out, upper=False, slope="region"))
    assert region.tolist() == [True, True, False, True, True]
    dens = np.asarray(stats.f.pdf(x, n, m))
    sx = np.asarray(prims.f_temme_fix(n, m, x, out, upper=False, slope=2))
    # (at x = 5 with 1e11 and 3e11 |z| > 38: 0, the density underflows)
    np.testing.assert_allclose(sx[[0, 1, 4]], dens[[0, 1, 4]], rtol=1e-13)
    assert sx[2] == 0.0 and sx[3] == 0.0
    sxs = np.asarray(prims.f_temme_fix(n, m, x, out, upper=True, slope=2))
    np.testing.assert_array_equal(sxs, -sx)
    # the density's slope, (hn - 1)/x - (hn + hm) n / (m + n x), times the density
    hn, hm = n[0] / 2, m[0] / 2
    want = dens[0] * ((hn - 1) / x[0] - (hn + hm) * n[0] / (m[0] + n[0] * x[0]))
    got = prims.f_temme_fix(n[:1], m[:1], x[:1], out[:1], upper=False, slope=2, wrt=(2,))
    np.testing.assert_allclose(float(got[0]), want, rtol=1e-9)
    _, t = ft.jvp(lambda o, v: prims.f_temme_fix(n, m, v, o, upper=False), (out, x),
                  (np.full(5, 7.0), np.ones(5)))
    np.testing.assert_allclose(np.asarray(t)[[0, 1, 4]], dens[[0, 1, 4]], rtol=1e-13)
    assert np.asarray(t)[2] == 7.0 and np.asarray(t)[3] == 0.0


# (x, dfn, dfd) inside the region
_HUGE = [(1.0, 1e100, 1e300), (1.0 + 2.220446049250313e-16, 1e11, 1e300),
         (1.0 - 1e-6, 1e11, 1e300), (1.00001, 1e11, 1e11), (1.0, 1e11, 1e12)]


def test_f_cdf_huge_modes_agree():
    """Forward and reverse mode, eager, jit and vmap: the same bits where every element
    takes the primitive's slopes; beside an ordinary point (there within 1e-10: its
    betainc batched beside huge shapes), too."""
    cols = [np.array(c) for c in zip(*_HUGE)]
    g_v = np.array(ft.vmap(_grad3(stats.f.cdf))(*cols), dtype=float).T
    g_j = np.array(ft.jit(ft.vmap(_grad3(stats.f.cdf)))(*cols), dtype=float).T
    np.testing.assert_array_equal(g_j, g_v)
    for k, pt in enumerate(_HUGE):
        g = np.array(_grad3(stats.f.cdf)(*pt), dtype=float)
        gf = np.array([ft.jvp(stats.f.cdf, pt, tuple(float(i == j) for i in range(3)))[1]
                       for j in range(3)], dtype=float)
        assert np.isfinite(g).all(), pt
        np.testing.assert_array_equal(gf, g)
        np.testing.assert_array_equal(g_v[k], g)
        np.testing.assert_array_equal(np.array(_grad3(stats.f.sf)(*pt), dtype=float), -g)
    pts = [_HUGE[3], (2.0, 3.0, 4.0)]
    mixed = np.array(ft.vmap(_grad3(stats.f.cdf))(*(np.array(c) for c in zip(*pts))),
                     dtype=float).T
    np.testing.assert_array_equal(mixed[0], g_v[3])
    np.testing.assert_allclose(mixed[1], np.array(_grad3(stats.f.cdf)(*pts[1]), dtype=float),
                               rtol=1e-10)


def test_f_cdf_huge_slopes_against_references():
    """The x slope the density (closed form, mpmath at 400 digits: 8e-12 off at d = 2.2e-16
    before); the dfn slope at x = 1, (1e100, 1e300), Temme's at 800 digits (reverse mode
    gave 0, forward the same since session 45's forward partials); dfn and dfd slopes
    against central differences of the values."""
    g = np.array(_grad3(stats.f.cdf)(1.0, 1e100, 1e300), dtype=float)
    np.testing.assert_allclose(g[1], -9.4031597257959381e-152, rtol=1e-13)
    g = np.array(_grad3(stats.f.cdf)(1.0, 1e11, 1e12), dtype=float)
    np.testing.assert_allclose(g[1:], [-3.3506428471504281e-18, 7.9899944816664055e-20],
                               rtol=1e-12)
    g = np.array(_grad3(stats.f.cdf)(1.0 + 2.220446049250313e-16, 1e11, 1e300), dtype=float)
    np.testing.assert_allclose(g[0], 89206.205807489859, rtol=1e-14)
    for pt in ((1.0 + 2.220446049250313e-16, 1e11, 1e300), (1.0 - 1e-6, 1e11, 1e300),
               (1.0 + 4.440892098500626e-16, 1e12, 1e200)):
        g = np.array(_grad3(stats.f.cdf)(*pt), dtype=float)
        h = pt[1] * 1e-3
        cd = (float(stats.f.cdf(pt[0], pt[1] + h, pt[2]))
              - float(stats.f.cdf(pt[0], pt[1] - h, pt[2]))) / (2 * h)
        np.testing.assert_allclose(g[1], cd, rtol=1e-5, err_msg=str(pt))


def test_f_cdf_temme_near_one_values():
    """At a tiny p near x = 1 (was nan): Temme's expansion at 800 digits."""
    d = 2.220446049250313e-16
    pts = [((1.0 + d, 1e11, 1e300), 0.50000059472784647432, stats.f.cdf),
           ((1.0 + d, 1e300, 1e11), 0.49999940531176903914, stats.f.cdf),
           ((1.0 - d / 2, 1e11, 1e300), 1.0 - 0.50000059469813483923, stats.f.sf),
           ((1.0 + 2 * d, 1e12, 1e200), 0.5000001881884697691, stats.f.cdf)]
    for args, want, fn in pts:
        np.testing.assert_allclose(float(fn(*args)), want, rtol=4e-16, err_msg=str(args))
    got = np.asarray(special.fdtr(1e11, 1e300, np.array([1.0 + d, 1.0])))
    assert np.isfinite(got).all() and abs(got[0] - 0.50000059472784647) < 1e-16


def test_f_cdf_huge_hessian():
    """Second order in the region: hessian (forward over reverse), jacfwd(jacfwd) and
    jit(hessian) the same bits, symmetric; the x-x entry the density's slope."""
    pt = (1.00001, 1e11, 1e11)
    h = np.array(ft.hessian(stats.f.cdf, argnums=(0, 1, 2))(*pt), dtype=float)
    hf = np.array(ft.jacfwd(ft.jacfwd(stats.f.cdf, argnums=(0, 1, 2)), argnums=(0, 1, 2))(
        *pt), dtype=float)
    hj = np.array(ft.jit(ft.hessian(stats.f.cdf, argnums=(0, 1, 2)))(
        *(np.float64(v) for v in pt)), dtype=float)
    np.testing.assert_array_equal(hf, h)
    np.testing.assert_array_equal(hj, h)
    np.testing.assert_array_equal(h, h.T)
    x, n, m = pt
    dens = float(stats.f.pdf(*pt))
    want = dens * ((n / 2 - 1) / x - (n / 2 + m / 2) * n / (m + n * x))
    np.testing.assert_allclose(h[0, 0], want, rtol=1e-8)


def test_f_cdf_huge_on_every_backend(backend):
    """The primitive's slopes on every library's arrays, eagerly and under jit (on a device
    every element computed, nothing read on the host)."""
    x = backend.asarray(np.array([1.00001, 2.0, 1.0 - 1e-6]))
    n = backend.asarray(np.array([1e11, 3.0, 1e12]))
    m = backend.asarray(np.array([1e11, 4.0, 1e13]))
    want = np.array(ft.vmap(_grad3(stats.f.cdf))(*(np.asarray(backend.to_numpy(v))
                                                    for v in (x, n, m))), dtype=float)
    for fn in (ft.vmap(_grad3(stats.f.cdf)), ft.jit(ft.vmap(_grad3(stats.f.cdf)))):
        got = np.array([np.asarray(backend.to_numpy(v)) for v in fn(x, n, m)], dtype=float)
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=0.0)


# -- F's log density below one degree of freedom -------------------------------------------


def _f_logpdf_ref(mp, z, n, m):
    """log density and its three partial derivatives at 60 digits."""
    def f(z, n, m):
        return (n / 2 * mp.log(n) + m / 2 * mp.log(m) + (n / 2 - 1) * mp.log(z)
                - (n + m) / 2 * mp.log(m + n * z) - mp.log(mp.beta(n / 2, m / 2)))
    with mp.workdps(60):
        a = [mp.mpf(v) for v in (z, n, m)]
        out = [f(*a)]
        for k in range(3):
            def g(v, k=k):
                b = list(a)
                b[k] = v
                return f(*b)
            out.append(mp.diff(g, a[k], h=a[k] * mp.mpf("1e-25")))
        return [float(v) for v in out]


@pytest.mark.parametrize("pt", [(0.5, 1e-20, 3.0), (1e-290, 1e-20, 3.0), (0.5, 3.0, 1e-20),
                                (2.0, 1e5, 0.5), (0.5, 0.7, 0.9), (7.0, 1e-8, 40.0),
                                (1e-310, 0.3, 1e-12)])
def test_f_logpdf_tiny_degree_of_freedom(pt):
    """Value and slopes against mpmath, eagerly and under jit (grad in dfd at (0.5, 1e-20,
    3) was 0, true 6.7e-22; at (1e-290, 1e-20, 3) -1.7e-21; in dfn at (0.5, 3, 1e-20)
    5.6e-17). The dfn slope at (2, 1e5, 0.5) is O(1/dfn^2) from O(1/dfn) terms: 2e-11."""
    mp = pytest.importorskip("mpmath")
    want = _f_logpdf_ref(mp, *pt)
    got = [float(stats.f.logpdf(*pt))] + [float(v) for v in _grad3(stats.f.logpdf)(*pt)]
    gj = [float(v) for v in ft.jit(_grad3(stats.f.logpdf))(*(np.float64(v) for v in pt))]
    tol = [1e-14, 1e-13, 2e-11 if pt[1] > 64 else 1e-13, 1e-13]
    for k in range(4):
        if not np.isfinite(want[k]):
            continue
        np.testing.assert_allclose(got[k], want[k], rtol=tol[k], err_msg=f"{pt} {k}")
        if k:
            np.testing.assert_allclose(gj[k - 1], want[k], rtol=tol[k], err_msg=f"jit {pt} {k}")


def test_f_logpdf_tiny_dfn_second_order():
    """The dfn/dfd block at (0.5, 1e-20, 3): eager, forward over forward and jit agree, the
    dfd-dfd entry (-4.8e-22, O(dfn)) against mpmath."""
    mp = pytest.importorskip("mpmath")
    pt = (0.5, 1e-20, 3.0)
    h = np.array(ft.hessian(stats.f.logpdf, argnums=(0, 1, 2))(*pt), dtype=float)
    hf = np.array(ft.jacfwd(ft.jacfwd(stats.f.logpdf, argnums=(0, 1, 2)), argnums=(0, 1, 2))(
        *pt), dtype=float)
    hj = np.array(ft.jit(ft.hessian(stats.f.logpdf, argnums=(0, 1, 2)))(
        *(np.float64(v) for v in pt)), dtype=float)
    np.testing.assert_allclose(hf[1:, 1:], h[1:, 1:], rtol=1e-13)
    np.testing.assert_allclose(hj[1:, 1:], h[1:, 1:], rtol=1e-13)
    with mp.workdps(60):
        def f(m):
            n, z = mp.mpf(pt[1]), mp.mpf(pt[0])
            return (m / 2 * mp.log(m) - (n + m) / 2 * mp.log(m + n * z)
                    - mp.log(mp.beta(n / 2, m / 2)))
        want = float(mp.diff(f, mp.mpf(3), 2, h=mp.mpf("1e-15")))
    np.testing.assert_allclose(h[2, 2], want, rtol=1e-10)


def test_f_logpdf_jit_hessian_subnormal_x_entries():
    """jit(hessian) at a subnormal x: the dfn/dfd block the eager one (was nan everywhere),
    the x-dfd entry 0.08 (-(n/2)/den + (n+m)/2 n/den^2 at 1.2, 3: eagerly nan)."""
    h = np.array(ft.hessian(stats.f.logpdf, argnums=(0, 1, 2))(1e-310, 1.2, 3.0), dtype=float)
    hj = np.array(ft.jit(ft.hessian(stats.f.logpdf, argnums=(0, 1, 2)))(
        np.float64(1e-310), np.float64(1.2), np.float64(3.0)), dtype=float)
    np.testing.assert_allclose(hj[1:, 1:], h[1:, 1:], rtol=1e-12)
    np.testing.assert_allclose(hj[0, 2], 0.08, rtol=1e-12)


# -- Student's t at a huge df: second order without the betainc form's derivative work -----


def test_t_cdf_hessian_huge_df_fast():
    """hessian(t.cdf)(-8, 1e20) took ~17-23 s (the betainc form's second-order work,
    though its operands were held throughout the series' region): where every element is
    in the region, values known, the form is computed without derivatives; same entries
    as forward over forward (the off-diagonal pair from two of t_fix's slopes: within
    1e-13), x-x the density's slope."""
    import time
    t0 = time.process_time()
    h = np.array(ft.hessian(stats.t.cdf, argnums=(0, 1))(-8.0, 1e20), dtype=float)
    assert time.process_time() - t0 < 5.0
    hf = np.array(ft.jacfwd(ft.jacfwd(stats.t.cdf, argnums=(0, 1)), argnums=(0, 1))(
        -8.0, 1e20), dtype=float)
    assert np.isfinite(h).all()
    np.testing.assert_allclose(hf, h, rtol=1e-13, atol=0.0)
    np.testing.assert_allclose(h[0, 1], h[1, 0], rtol=1e-13)
    pdf = float(stats.t.pdf(-8.0, 1e20))
    np.testing.assert_allclose(h[0, 0], 8.0 * (1e20 + 1) / (1e20 + 64.0) * pdf, rtol=1e-12)


def test_t_ppf_hessian_large_df_symmetric():
    """The q-df entry of hessian(t.ppf) at df 1e5 was 4.6e-8 off at q = 1e-10 (the slope
    1/density moved with the plain quantile's df tangent, which cancels): now the accurate
    slopes move the quantile inside t_fix's JVP, the entry the df-q one's; against the
    Fisher expansion's mixed partial (50 digits, its df^-6 term below 1e-20 relative)."""
    for q in (1e-10, 1e-4, 0.3, 1.0 - 1e-6):
        h = np.array(ft.hessian(stats.t.ppf, argnums=(0, 1))(q, 1e5), dtype=float)
        np.testing.assert_allclose(h[0, 1], h[1, 0], rtol=2e-14, err_msg=str(q))
    h = np.array(ft.hessian(stats.t.ppf, argnums=(0, 1))(1e-10, 1e5), dtype=float)
    np.testing.assert_allclose(h[0, 1], -4.7006857592355795, rtol=1e-11)
