"""stats: the cost of the distributions' derivatives. Branches no element takes are skipped
where the masks are known (plain arrays, eager transforms, vmap; jit computes them all):
truncnorm's log masses (the tails', the erf form's, the quadrature of a narrow interval,
the infinite ends' log_ndtr) and the second mass of cdf/sf where no element needs its
log1p form, truncnorm.ppf's forms (erfinv near the median, the far tail's Newton
iterations, ndtri of either side); the log-space series of gamma/chi2/beta logcdf/logsf
where no probability underflows; beta.sf's complement; vonmises.cdf's normal
approximation (no kappa >= 50) or series (none below), the series' recursion from the
largest number of terms an element needs. t.logcdf/logsf take one stdtr (the smaller
tail), not two. The values and derivatives are those of the full computation (jit's):
counted, not timed."""

import math

import numpy as np
import pytest

import functrans as ft
from functrans.scipy import stats
from .test_s35_statsperf_35 import _assert_primitives_at_most

inf = math.inf


def _np(backend, v):
    if isinstance(v, (tuple, list)):
        return np.array([_np(backend, w) for w in v])
    return np.asarray(backend.to_numpy(v), dtype=float)


def _arr(*vs):
    """float64 0-d arrays: jit traces once for them (Python numbers: once per value)."""
    return tuple(np.asarray(v, dtype=float) for v in vs)


def _close(a, b, rtol=0.0, atol=0.0):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    assert a.shape == b.shape
    if rtol or atol:
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)
    else:
        assert np.array_equal(a, b, equal_nan=True), (a, b)


# (bounds about 1.4x this session's counts; before: truncnorm.cdf 1325, ppf 1043, t.logcdf
# 1390, vonmises.cdf 559, beta.logcdf 434, gamma.logcdf 319, beta.sf 180)
@pytest.mark.parametrize("call, most", [
    (lambda: ft.grad(stats.truncnorm.cdf)(0.4, -1., 2.), 290),
    (lambda: ft.grad(stats.truncnorm.logsf)(0.4, -1., 2.), 290),
    (lambda: ft.grad(stats.truncnorm.ppf)(0.3, -1., 2.), 110),
    (lambda: ft.grad(stats.truncnorm.logpdf)(0.3, -1., 2.), 50),
    (lambda: ft.grad(stats.t.logcdf)(0.7, 4.5), 1000),
    (lambda: ft.grad(stats.t.logsf)(-0.7, 4.5), 1000),
    (lambda: ft.grad(stats.vonmises.cdf)(0.4, 2.), 240),
    (lambda: ft.grad(stats.beta.logcdf)(0.3, 2.5, 3.5), 270),
    (lambda: ft.grad(stats.beta.sf)(0.3, 2.5, 3.5), 165),
    (lambda: ft.grad(stats.gamma.logcdf)(1.7, 2.5), 195),
    (lambda: ft.grad(stats.chi2.logsf)(1.9, 3.5), 195),
])
def test_primitives_per_call_at_a_scalar(call, most):
    _assert_primitives_at_most(call, most)


_TRUNC_SHAPES = [(-1., 2.), (-inf, 0.5), (0.3, inf), (-inf, inf), (1e-8, 2e-8), (38., 39.),
                 (-39., -38.), (2., 3.), (-3., -2.5)]


def _inside(a, b, k):
    """k points inside [a, b] (clipped to a window where an end is infinite)."""
    lo, hi = max(a, b - 4.) if a == -inf else a, min(b, a + 4.) if b == inf else b
    if lo == -inf:
        lo, hi = -2., 2.
    return list(lo + (hi - lo) * np.array([0.1, 0.5, 0.93])[:k])


@pytest.mark.parametrize("method", ["cdf", "logsf", "logpdf"])
def test_truncnorm_eager_as_jit(backend, method):
    # a vector mixing every form (nothing skipped) and each point alone (most skipped)
    # against jit (every form computed), values and first and second derivatives in x, a, b
    f = getattr(stats.truncnorm, method)
    xs, avs, bvs = [], [], []
    for a, b in _TRUNC_SHAPES:
        for x in _inside(a, b, 3):
            xs.append(x), avs.append(a), bvs.append(b)

    def one(x, a, b):
        return f(x, a, b, 0.1, 1.3)
    g1, h1 = ft.grad(one, argnums=(0, 1, 2)), ft.hessian(one, argnums=(0, 1, 2))
    with np.errstate(all="ignore"):
        xv, av, bv = backend.asarray(xs), backend.asarray(avs), backend.asarray(bvs)
        vg = ft.vmap(g1)
        full = _np(backend, vg(xv, av, bv))  # (a vector with every form: nothing skipped)
        if backend.name == "numpy":
            _close(full, _np(backend, ft.jit(vg)(xv, av, bv)), rtol=1e-15)
        for i, (x, a, b) in enumerate(zip(xs, avs, bvs)):
            if backend.name != "numpy":  # (each point alone: once)
                break
            _close(np.array(g1(x, a, b), dtype=float), full[:, i], rtol=1e-14, atol=1e-300)
            if method == "cdf" and i in (1, 13, 22):  # (against the hessian under jit)
                _close(np.array(h1(x, a, b), dtype=float),
                       np.array(ft.jit(h1)(*_arr(x, a, b)), dtype=float), rtol=1e-14,
                       atol=1e-300)


def test_truncnorm_values_against_scipy():
    sps = pytest.importorskip("scipy.stats")
    for a, b in [(-1., 2.), (-inf, 0.5), (0.3, inf), (2., 3.), (-3., -2.5), (-0.1, 0.2)]:
        for x in _inside(a, b, 3):
            for m in ("cdf", "sf", "logcdf", "logsf", "logpdf"):
                want = getattr(sps.truncnorm, m)(x, a, b)
                got = float(getattr(stats.truncnorm, m)(x, a, b))
                assert got == pytest.approx(want, rel=1e-12, abs=1e-15), (m, x, a, b)
        for q in (1e-10, 0.1, 0.3, 0.5, 0.9, 1 - 1e-9):
            want = sps.truncnorm.ppf(q, a, b)
            assert float(stats.truncnorm.ppf(q, a, b)) == pytest.approx(want, rel=1e-11)


def test_truncnorm_derivatives_against_closed_forms():
    # d/dx cdf = pdf; d/da log mass(a, b) = -phi(a) / mass, d/db = phi(b) / mass
    mpmath = pytest.importorskip("mpmath")
    with mpmath.workdps(40):
        for a, b, x in [(-1., 2., 0.4), (-1., 2., 1.7), (2., 3., 2.2), (-3., -2.5, -2.9),
                        (38., 39., 38.2), (-inf, 0.5, -1.)]:
            am, bm, xm = (mpmath.mpf(v) for v in (a, b, x))

            def between(u, v):  # (from the upper tails where u >= 0: no cancellation)
                if u >= 0:
                    return mpmath.ncdf(-u) - mpmath.ncdf(-v)
                return mpmath.ncdf(v) - mpmath.ncdf(u)
            mass = between(am, bm)
            phi = lambda t: mpmath.npdf(t) if mpmath.isfinite(t) else mpmath.mpf(0)
            cdf = between(am, xm) / mass
            want = [phi(xm) / mass, (phi(am) * (cdf - 1)) / mass, -phi(bm) * cdf / mass]
            got = ft.grad(stats.truncnorm.cdf, argnums=(0, 1, 2))(x, a, b)
            for g, w in zip(got, want):
                assert float(g) == pytest.approx(float(w), rel=1e-11, abs=1e-300)
            # the log sf's slope: -pdf / sf
            want_s = -phi(xm) / between(xm, bm)
            got_s = float(ft.grad(stats.truncnorm.logsf)(x, a, b))
            assert got_s == pytest.approx(float(want_s), rel=1e-11)


_JIT_PPF = ft.jit(stats.truncnorm.ppf)
_JIT_PPF_GRAD = ft.jit(ft.grad(stats.truncnorm.ppf, argnums=(0, 1, 2)))


@pytest.mark.parametrize("q", [0., 1e-300, 1e-10, 0.3, 0.5, 0.999, 1 - 1e-12, 1.])
def test_truncnorm_ppf_eager_as_jit_and_slope(q):
    # the ppf's forms (median's erfinv, far tail's Newton, either ndtri) one at a time
    for a, b in _TRUNC_SHAPES:
        with np.errstate(all="ignore"):
            g = ft.grad(stats.truncnorm.ppf, argnums=(0, 1, 2))
            got = np.array(g(q, a, b), dtype=float)
            _close(got, np.array(_JIT_PPF_GRAD(*_arr(q, a, b)), dtype=float), rtol=2e-15,
                   atol=1e-300)
            _close(float(stats.truncnorm.ppf(q, a, b)),
                   float(_JIT_PPF(*_arr(q, a, b))))
            if 0. < q < 1.:  # dx/dq = 1 / pdf(x)
                x = float(stats.truncnorm.ppf(q, a, b))
                pdf = float(stats.truncnorm.pdf(x, a, b))
                if pdf > 0.0 and math.isfinite(1.0 / pdf):
                    # (the far tail's Newton iterates: 2e-9 at ppf(1e-300, -inf, 0.5))
                    assert got[0] == pytest.approx(1.0 / pdf, rel=1e-8)


@pytest.mark.parametrize("a, b, q", [(-1., 2., 1e-17), (-1., 2., 1e-300), (0.3, inf, 1e-300),
                                     (-3., -2.5, 1e-300), (38., 39., 1e-300),
                                     (-1., 2., 1 - 2 ** -53), (-inf, 0.5, 1 - 2 ** -53)])
def test_truncnorm_ppf_slope_where_x_rounds_onto_an_end(a, b, q):
    # x rounds onto (or just past) the end: the slope is the quantile's beside it,
    # dx/dq = 1 / pdf(x), d2x/dq2 = x / pdf(x)^2 (pdf' = -x pdf), not half of it (the tie
    # of maximum) nor 0 (clipped)
    x = float(stats.truncnorm.ppf(q, a, b))
    pdf = float(stats.truncnorm.pdf(x, a, b))
    with np.errstate(all="ignore"):
        assert float(ft.grad(stats.truncnorm.ppf)(q, a, b)) == pytest.approx(1.0 / pdf,
                                                                           rel=1e-12)
        assert float(_JIT_PPF_GRAD(*_arr(q, a, b))[0]) == pytest.approx(1.0 / pdf, rel=1e-12)
        if a < 37.:  # (the far tail's log(q) terms cancel at second order: not here)
            d2 = float(ft.grad(ft.grad(stats.truncnorm.ppf))(q, a, b))
            assert d2 == pytest.approx(x / pdf ** 2, rel=1e-10)
        # d/da at the lower end: (1 - q) phi(a) / phi(x) = 1 - q there
        if q < 0.5:
            assert float(ft.grad(stats.truncnorm.ppf, argnums=1)(q, a, b)) == pytest.approx(
                1.0, rel=1e-13)


_JIT_T = {m: ft.jit(ft.grad(getattr(stats.t, m), argnums=(0, 1))) for m in ("logcdf", "logsf")}


@pytest.mark.parametrize("df", [0.7, 4.5, 1e4, inf])
def test_t_log_cdf_sf_one_stdtr(df):
    # log of the smaller tail on its side, log1p of minus it on the other: as log(cdf) /
    # log1p(-sf) were (the same stdtr), the median's slope pdf(0) / (1/2)
    sps = pytest.importorskip("scipy.stats")
    for z in (-1e10, -30., -2., -0.3, 0., 1e-17, 0.3, 2., 30.):
        for m in ("logcdf", "logsf"):
            got = float(getattr(stats.t, m)(z, df))
            want = getattr(sps.t, m)(z, df)
            if want == -inf:
                # (SciPy's -inf where the tail underflows; ours is its logarithm: the
                # normal's for df = inf, else log(I_x(df/2, 1/2) / 2) by mpmath)
                mp = pytest.importorskip("mpmath")
                with mp.workdps(40):
                    zz = mp.mpf(abs(z))
                    want = (float(mp.log(mp.ncdf(-zz))) if df == inf else float(mp.log(
                        mp.betainc(df / 2, 0.5, 0, df / (df + zz * zz), regularized=True) / 2)))
            assert got == pytest.approx(want, rel=1e-12, abs=1e-300), (m, z)
            g = ft.grad(getattr(stats.t, m), argnums=(0, 1))
            # (from df = 100 eager transforms take the df derivative from stats39's series,
            # jit keeps the plain form, which loses ~df eps there: 3e-11 at df = 1e4, 1.2e-10
            # beside the median; the series' accuracy is tested in test_s39_stats39)
            series = 100.0 <= df < inf and z * z <= 0.25 * df and z != 0.0
            with np.errstate(all="ignore"):
                _close(np.array(g(z, df), dtype=float),
                       np.array(_JIT_T[m](*_arr(z, df)), dtype=float),
                       rtol=1e-9 if series else 4e-16)
            dz = float(g(z, df)[0])
            pdf = sps.t.pdf(z, df)
            p = sps.t.cdf(z, df) if m == "logcdf" else -sps.t.sf(z, df)
            if pdf > 1e-300:
                assert dz == pytest.approx(pdf / p, rel=1e-10), (m, z)
    # second order at the median: d2/dz2 log cdf(0) = -(pdf(0) / 1/2)^2
    pdf0 = sps.t.pdf(0., df)
    assert float(ft.grad(ft.grad(stats.t.logcdf))(0., df)) == pytest.approx(-4 * pdf0 ** 2,
                                                                              rel=1e-12)


@pytest.mark.parametrize("kappa", [0., 2., 49.9, 50.])
def test_vonmises_cdf_eager_as_jit_and_scipy(backend, kappa):
    sps = pytest.importorskip("scipy.stats")
    xs = [-10., -3.1, -1., 0., 0.4, 2., 3.2, 7.]
    for x in xs:
        got = float(stats.vonmises.cdf(x, kappa, 0.1, 1.3))
        assert got == pytest.approx(sps.vonmises.cdf(x, kappa, 0.1, 1.3), rel=1e-11, abs=1e-12)
    g = ft.grad(lambda x, k: stats.vonmises.cdf(x, k, 0.1, 1.3), argnums=(0, 1))
    h = ft.hessian(lambda x, k: stats.vonmises.cdf(x, k, 0.1, 1.3), argnums=(0, 1))
    jg, jh = ft.jit(g), ft.jit(h)
    for i, x in enumerate(xs):
        # (the series' slope is a sum that cancels: rounding of its size)
        _close(np.array(g(x, kappa), dtype=float), np.array(jg(*_arr(x, kappa)), dtype=float),
               atol=2e-15)
        if i % 3 == 0:
            _close(np.array(h(x, kappa), dtype=float),
                   np.array(jh(*_arr(x, kappa)), dtype=float), atol=2e-14)
        # d/dx cdf = pdf (the series' slope to its rounding; not the normal approximation's)
        if kappa < 50.:
            assert float(g(x, kappa)[0]) == pytest.approx(
                sps.vonmises.pdf(x, kappa, 0.1, 1.3), rel=1e-9, abs=1e-11)
    # a vector with kappas on both sides of 50 (nothing skipped) as each alone
    xv = backend.asarray(xs)
    kv = backend.asarray([kappa, 60., 2., kappa, 0.5, kappa, 49., kappa])
    vg = ft.vmap(g)(xv, kv)
    alone = np.array([np.array(g(x, k), dtype=float) for x, k in zip(xs, _np(backend, kv))])
    _close(np.stack([_np(backend, v) for v in vg], axis=1), alone, atol=2e-15)


@pytest.mark.parametrize("dist, shapes, xs", [
    ("gamma", (2.5,), [1e-300, 1e-20, 0.5, 30., 900.]),
    ("beta", (2.5, 3.5), [1e-300, 1e-30, 0.3, 0.9, 1 - 1e-9]),
])
@pytest.mark.parametrize("method", ["logcdf", "logsf"])
def test_log_probabilities_tail_series_eager_as_jit(backend, dist, shapes, xs, method):
    # the log-space series only where a probability underflows: a vector holding such a
    # point and each point alone against jit
    f = getattr(getattr(stats, dist), method)
    n = len(shapes)
    g = ft.grad(f, argnums=tuple(range(n + 1)))
    with np.errstate(all="ignore"):
        jf, jg = ft.jit(f), ft.jit(g)
        for x in xs:
            if backend.name != "numpy":  # (each point alone: once)
                break
            _close(float(f(x, *shapes)), float(jf(*_arr(x, *shapes))))
            _close(np.array(g(x, *shapes), dtype=float),
                   np.array(jg(*_arr(x, *shapes)), dtype=float), rtol=1e-15, atol=1e-300)
        xv = backend.asarray(xs)
        shv = [backend.asarray([s] * len(xs)) for s in shapes]
        vg = ft.vmap(g)
        alone = np.array([np.array(g(x, *shapes), dtype=float) for x in xs])
        got = np.stack([_np(backend, v) for v in vg(xv, *shv)], axis=1)
        _close(got, alone, rtol=1e-13, atol=1e-300)


def test_log_probabilities_against_scipy():
    sps = pytest.importorskip("scipy.stats")
    for x in (1e-20, 0.5, 30.):
        for m in ("logcdf", "logsf"):
            assert float(getattr(stats.gamma, m)(x, 2.5)) == pytest.approx(
                getattr(sps.gamma, m)(x, 2.5), rel=1e-12)
    for x in (1e-5, 0.3, 0.9):
        for m in ("logcdf", "logsf", "sf"):
            assert float(getattr(stats.beta, m)(x, 2.5, 3.5)) == pytest.approx(
                getattr(sps.beta, m)(x, 2.5, 3.5), rel=1e-12)
    # beta.sf at a tiny x: the complement form (1 - x rounds to 1)
    assert float(stats.beta.sf(1e-20, 0.01, 20.)) == pytest.approx(
        sps.beta.sf(1e-20, 0.01, 20.), rel=1e-10)
