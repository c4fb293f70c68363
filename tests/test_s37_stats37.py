"""stats: the cost of the t / F / gennorm derivatives. The series of incomplete_grads
(_log1pmx, _poly_inv, _lgamma_corr) run on the arrays behind functrans.numpy constants
(the stop_gradient'ed pieces special._inc_beta hands them: ~430 primitives of grad(t.cdf));
t.ppf and f.ppf / isf choose their forms by the first root's value (from stopped operands
where a derivative flows) and compute each root, with its derivatives in the shapes, only
where some element takes it; gennorm.logcdf / logsf take one tail, not two;
special._concrete_behind reports the batch tracers stats._where_taken needs to know of.
The values and derivatives are those of the full computation (jit's), counted, not timed;
where the old full computation gave nan from a form no element took (t.ppf's derivative
in df at df = 0.1, f's hessians at extreme shapes), against mpmath."""

import math

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.backends import incomplete_grads as ig
from functrans.interpreters import ConstTracer
from functrans.scipy import special, stats
from .test_s35_statsperf_35 import _Count, _assert_primitives_at_most, _same  # (_Count: the primitives evaluated, by name)
from .test_s36_statsperf36 import _arr, _np

inf = math.inf


# (bounds about 1.4x this session's counts; before: grad t.cdf 694, t.ppf 347, f.ppf 393,
# gennorm.logcdf 182; hessian t.ppf 1499, f.ppf 1389)
@pytest.mark.parametrize("call, most", [
    (lambda: ft.grad(stats.t.cdf, argnums=(0, 1))(0.7, 3.), 380),
    (lambda: ft.grad(stats.t.sf, argnums=(0, 1))(0.7, 3.), 380),
    (lambda: ft.grad(special.betaincc, argnums=(0, 2))(1.5, 0.5, 0.6), 380),
    (lambda: ft.grad(stats.t.ppf, argnums=(0, 1))(0.3, 3.), 320),
    (lambda: ft.grad(stats.t.ppf, argnums=(0, 1))(0.05, 3.), 320),
    (lambda: ft.hessian(stats.t.ppf, argnums=(0, 1))(0.3, 3.), 900),
    (lambda: ft.grad(stats.f.ppf, argnums=(0, 1))(0.3, 3., 5.), 330),
    (lambda: ft.grad(stats.f.isf, argnums=(0, 2))(0.3, 3., 5.), 330),
    (lambda: ft.hessian(stats.f.ppf, argnums=(0, 1))(0.3, 3., 5.), 870),
    (lambda: ft.grad(stats.gennorm.logcdf, argnums=(0, 1))(0.7, 1.5), 160),
    (lambda: ft.grad(stats.gennorm.logsf, argnums=(0, 1))(-0.7, 1.5), 160),
], ids=["t.cdf", "t.sf", "betaincc", "t.ppf-w", "t.ppf-z", "t.ppf-hessian", "f.ppf", "f.isf",
        "f.ppf-hessian", "gennorm.logcdf", "gennorm.logsf"])
def test_primitives_per_call_at_a_scalar(call, most):
    _assert_primitives_at_most(call, most)


# -- the series on constants ------------------------------------------------------------------

_SERIES = [
    (lambda xp, c, lc: ig._log1pmx(xp, c, lc), 0.),
    (lambda xp, c, lc: ig._poly_inv(xp, c, ig._STIRLING, 1), 12.),
    (lambda xp, c, lc: ig._lgamma_corr(special._TRACED if xp is fnp else _numpy_backend(), c),
     3.),
]


def _numpy_backend():
    from functrans.backends import backend_of
    return backend_of(np.zeros(1))


@pytest.mark.parametrize("k", range(len(_SERIES)))
def test_series_on_constants_bind_nothing_and_keep_the_bits(k):
    series, shift = _SERIES[k]
    v = np.array([-0.3, 0.01, 0.4, 2.5]) + shift
    want = series(np, v, np.log1p(v))
    seen = {}

    def f(x):
        c = fnp.stop_gradient(x)
        lc = fnp.log1p(c)
        with _Count() as count:
            seen["out"] = series(fnp, c, lc)
        seen["count"] = count.total
        return fnp.sum(x)
    ft.grad(f)(v)
    assert seen["count"] == 0, seen["count"]
    got = seen["out"]
    assert type(got) is ConstTracer  # (as functrans.numpy would have given it)
    _same(np.asarray(got.primal), want)


def test_series_on_tracers_keep_their_derivatives():
    # d/dv log1pmx(v) = 1/(1 + v) - 1; d/dv sum c_k v^-(1+2k); d/dz corr(z) = digamma(z)
    # - log z + 1/(2z)
    sps = pytest.importorskip("scipy.special")
    for v in (-0.3, 0.01, 0.4, 2.5):
        d1 = ft.grad(lambda x: ig._log1pmx(fnp, x, fnp.log1p(x)))(v)
        assert float(d1) == pytest.approx(1. / (1. + v) - 1., rel=1e-13, abs=1e-16)
        a = v + 12.
        d2 = ft.grad(lambda x: ig._poly_inv(fnp, x, ig._STIRLING, 1))(a)
        want = sum(-(1 + 2 * k) * c * a ** (-(2 + 2 * k)) for k, c in enumerate(ig._STIRLING))
        assert float(d2) == pytest.approx(want, rel=1e-13)
        z = v + 3.
        d3 = ft.grad(lambda x: ig._lgamma_corr(special._TRACED, x))(z)
        assert float(d3) == pytest.approx(sps.digamma(z) - math.log(z) + 0.5 / z, rel=1e-12)
        # under vmap (batch tracers: kept on functrans.numpy) the same values
        vs = np.array([v, v + 1.])
        got = ft.vmap(lambda x: ig._log1pmx(fnp, x, fnp.log1p(x)))(vs)
        _same(got, ig._log1pmx(np, vs, np.log1p(vs)))


def test_concrete_behind_reports_batch_tracers():
    x = np.array([0.5, 2.0])
    got = {}

    def probe(name):
        def f(v):
            got[name] = special._concrete_behind(v, report_batch=True)
            got[name + "_plain"] = special._concrete_behind(v)
            return fnp.sum(v * v)
        return f
    ft.grad(probe("grad"))(x)
    ft.vmap(probe("vmap"))(x)
    ft.vmap(ft.grad(probe("vmap_grad")))(x)
    ft.jit(probe("jit"))(x)
    assert special._concrete_behind(x, report_batch=True) == (x, False)
    assert got["grad"][1] is False and np.array_equal(got["grad"][0], x)
    assert got["vmap"][1] is True and np.array_equal(got["vmap"][0], x)
    assert got["vmap_grad"][1] is True
    assert got["jit"] == (None, False) and got["jit_plain"] is None
    assert got["grad_plain"] is got["grad"][0]


# -- t.ppf, f.ppf / isf, gennorm.logcdf / logsf: eager (only the forms taken) as jit (all) ---

def _cases():
    return [
        ("t.ppf", stats.t.ppf, [1e-300, 0.02, 0.3, 0.5, 0.999], [0.37, 2.5, inf]),
        ("t.isf", stats.t.isf, [0.02, 0.3, 0.5, 0.999], [0.37, 2.5]),
        ("f.ppf", lambda q, d: stats.f.ppf(q, d, 4.5), [1e-80, 0.3, 0.77, 1 - 1e-9],
         [0.37, 1e3]),
        ("f.isf", lambda q, d: stats.f.isf(q, 3., d), [1e-80, 0.3, 0.77, 1 - 1e-9],
         [0.37, 1e3]),
        ("gennorm.logcdf", stats.gennorm.logcdf, [-30., -0.5, 0., 0.3, 5.], [0.3, 1.5, 8.]),
        ("gennorm.logsf", stats.gennorm.logsf, [-30., -0.5, 0., 0.3, 5.], [0.3, 1.5, 8.]),
    ]


@pytest.mark.parametrize("case", range(6), ids=[c[0] for c in _cases()])
def test_each_point_alone_as_the_vector_and_jit(case):
    name, f, qs, ds = _cases()[case]
    q = np.array([a for a in qs for _ in ds])
    d = np.array([b for _ in qs for b in ds])
    g = ft.vmap(ft.grad(f, argnums=(0, 1)))
    h = ft.vmap(ft.hessian(f, argnums=(0, 1)))
    with np.errstate(all="ignore"):
        vec = (np.asarray(f(q, d)), np.array(g(q, d)), np.array(h(q, d)))
        jit = (np.asarray(ft.jit(f)(q, d)), np.array(ft.jit(g)(q, d)), np.array(ft.jit(h)(q, d)))
        g1, h1 = ft.grad(f, argnums=(0, 1)), ft.hessian(f, argnums=(0, 1))
        alone = (np.array([float(f(a, b)) for a, b in zip(q, d)]),
                 np.array([[float(v) for v in g1(a, b)] for a, b in zip(q, d)]).T,
                 np.moveaxis(np.array([np.array(h1(a, b), dtype=float)
                                       for a, b in zip(q, d)]), 0, 2))
    # (a vector's shape derivatives converge with its slowest element: each point alone
    # rounds apart, as before this change, up to 2e-11 relative for f at dfn = 0.37)
    rtol = 1e-10 if name.startswith("f.") else 1e-12
    for got, tol in ((vec, 0.0), (alone, rtol)):
        for a, b in zip(got, jit):
            fin = np.isfinite(a) & np.isfinite(b)
            _same(a[fin], b[fin], tol)
            # jit computes every form: nan where a form not taken overflows (reverse mode's
            # 0 * inf), where the eager ones skip it; never the other way round
            rest = ~fin
            assert np.all((a[rest] == b[rest]) | np.isnan(b[rest])), (a[rest], b[rest])


def test_ppf_jit_compiles_once_for_arrays():
    # (the choice of forms is not read on the host under jit)
    g = ft.jit(ft.grad(stats.t.ppf, argnums=(0, 1)))
    for q, d in ((0.3, 3.), (0.05, 0.5), (1e-300, 2.5)):
        want = [float(v) for v in ft.grad(stats.t.ppf, argnums=(0, 1))(q, d)]
        got = [float(v) for v in g(*_arr(q, d))]
        _same(got, want)


def test_backends_eager_as_jit(backend):
    # (the hessians of t.ppf and f.isf raised TypeError on array-api-strict: _poly_inv's and
    # _log1pmx's plain zeros times a tracer, from betaln's Stirling form at df/2 >= 10)
    qs, ds = [1e-6, 0.3, 0.5, 0.9], [0.37, 2.5, 4., 30.]
    q, d = backend.asarray(qs), backend.asarray(ds)
    for f in (stats.t.ppf, lambda q, d: stats.f.isf(q, 3., d),
              lambda q, d: stats.gennorm.logcdf(q - 0.5, d)):
        g = ft.vmap(ft.grad(f, argnums=(0, 1)))
        h = ft.vmap(ft.hessian(f, argnums=(0, 1)))
        with np.errstate(all="ignore"):
            _same(_np(backend, f(q, d)), _np(backend, ft.jit(f)(q, d)), 1e-14)
            _same(_np(backend, g(q, d)), _np(backend, ft.jit(g)(q, d)), 1e-13)
            _same(_np(backend, h(q, d)), np.array(h(np.array(qs), np.array(ds)), dtype=float),
                  1e-13)


# -- derivatives that were nan (a form no element took) against mpmath -----------------------
# (references: mpmath at 40-50 digits, the root of betainc in log space by findroot, its
# derivatives by mpmath.diff; value, d/dq, d/d(shape), d2/dq2, d2/dq d(shape), d2/d(shape)2)

_MP = [
    (stats.t.ppf, (0.3, 0.1), [-27.170126296735762, 905.73513735822729, 1242.4531071661424,
                               -33208.146332676392, -50468.846174684896, -83194.524326625586]),
    (stats.t.ppf, (0.02, 0.1), [-15668219781900.057, 7834109890950027.8, 4959462427833736.9,
                                -4.308760440022515e+18, -2.5580723128263685e+18,
                                -1.6698960873707191e+18]),
    (stats.t.ppf, (0.77, 0.1), [387.29436259997678, 16838.891210799102, -27999.591521781223,
                                805338.0196310236, -1385761.9700609214, 2606179.6374218782]),
    (lambda q, d: stats.f.isf(q, 0.8, d), (1 - 1e-9, 30.),
     [5.9810239469387261e-23, -1.49525602902341e-13, -4.0029219048562489e-26,
      0.00022428841069682093, 1.0007305045166537e-16, 2.6998736677287446e-27]),
    (lambda q, d: stats.f.ppf(q, d, 4.5), (0.3, 0.01),
     [3.7958161885400917e-103, 2.5305441256933945e-100, 9.1022633085214984e-99,
      1.678594270043285e-97, 6.0428700977573984e-96, 2.1644555433266723e-94]),
]


@pytest.mark.parametrize("k", range(len(_MP)))
def test_derivatives_at_small_shapes_against_mpmath(k):
    f, (q, d), want = _MP[k]
    with np.errstate(all="ignore"):
        v = float(f(q, d))
        g = [float(x) for x in ft.grad(f, argnums=(0, 1))(q, d)]
        h = np.array(ft.hessian(f, argnums=(0, 1))(q, d), dtype=float)
    got = [v, g[0], g[1], h[0, 0], h[0, 1], h[1, 1]]
    # (f at dfn = 0.01: betaincinv's root is ~3e-13 off there, which every entry inherits)
    np.testing.assert_allclose(got, want, rtol=5e-13 if k >= 3 else 1e-14)
    assert h[0, 1] == pytest.approx(h[1, 0], rel=1e-12)


def test_t_ppf_median_slope_in_df_is_zero():
    # t.ppf(1/2, df) = 0 for every df: d/ddf exactly 0 (it was nan at df = 0.1)
    for d in (0.1, 0.37, 3., 1e6):
        gq, gd = ft.grad(stats.t.ppf, argnums=(0, 1))(0.5, d)
        assert float(gd) == 0.0
        assert math.isfinite(float(gq))


# -- branches pruned under vmap: stats._may_hold and _where_taken read the arrays behind ------
# -- the batch tracers (special._may_hold's any() under vmap could not be read: True) ---------

def test_may_hold_known_under_vmap():
    seen = []

    def f(v):
        seen.append((stats._may_hold(v > 5.), stats._may_hold(v > 0.3),
                     stats._may_hold(fnp.logical_and(v > 5., v < 6.))))
        return v
    x = np.array([0.4, -0.5, 1.9])
    ft.vmap(f)(x)
    ft.vmap(ft.grad(lambda v: fnp.sum(f(v))))(x[:, None] * np.ones((3, 2)))
    ft.jit(ft.vmap(f))(x)
    assert seen[0] == (False, True, False)
    assert seen[1] == (False, True, False)
    assert seen[2] == (True, True, True)  # (staged: anything)
    assert stats._may_hold(False) is False and stats._may_hold(np.array([0., 1.]) > 0.5)


@pytest.mark.parametrize("call, most", [
    (lambda: ft.vmap(ft.grad(stats.truncnorm.cdf), in_axes=(0, None, None))(
        np.array([0.4, -0.5, 1.9]), -1., 2.), 2000),
    (lambda: ft.vmap(ft.grad(stats.beta.logpdf), in_axes=(0, 0, None))(
        np.array([0.2, 0.5, 0.9]), np.array([2., 3., 4.]), 2.5), 400),
], ids=["truncnorm.cdf", "beta.logpdf"])
def test_primitives_under_vmap(call, most):
    # (before: 2492 and ~1400)
    _assert_primitives_at_most(call, most)


@pytest.mark.parametrize("name", ["beta.logcdf", "truncnorm.logsf", "f.logpdf", "lognorm.logcdf",
                                  "gamma.logpdf", "vonmises.cdf"])
def test_vmap_pruned_as_jit(name):
    x = np.array([1e-12, 0.01, 0.3, 0.5, 0.8, 0.99, 1 - 1e-10])
    sh = np.array([0.3, 1.0, 2.5, 7.0, 40.0, 300.0, 1e5])
    f = {"beta.logcdf": lambda a, b: stats.beta.logcdf(a, b, 2.5),
         "truncnorm.logsf": lambda a, b: stats.truncnorm.logsf(a * 8. - 4., -3.0, b),
         "f.logpdf": lambda a, b: stats.f.logpdf(a * 5., b, 3.0),
         "lognorm.logcdf": lambda a, b: stats.lognorm.logcdf(a * 3., b),
         "gamma.logpdf": lambda a, b: stats.gamma.logpdf(a * 50., b),
         "vonmises.cdf": lambda a, b: stats.vonmises.cdf(a * 6. - 3., b)}[name]
    g = ft.vmap(ft.grad(f, argnums=(0, 1)))
    h = ft.vmap(ft.hessian(f, argnums=(0, 1)))
    # (jit of the hessian costs seconds for the two largest)
    fns = (g,) if name in ("beta.logcdf", "truncnorm.logsf") else (g, h)
    with np.errstate(all="ignore"):
        for fn in fns:
            a, b = np.array(fn(x, sh), dtype=float), np.array(ft.jit(fn)(x, sh), dtype=float)
            fin = np.isfinite(a) & np.isfinite(b)
            if name == "f.logpdf":
                # (above 64 degrees of freedom the _log_beta_front form eagerly and, since
                # session 43, under jit (primitive f_logpdf_fix: that form's derivatives at
                # evaluation, reverse then forward mode as eager's, on their own graph: the
                # hessian's dfn-x entry at 1e5, 1e-5 of its terms, agrees to 2.2e-11)
                big = np.broadcast_to(sh > 64, a.shape)
                _same(a[fin & big], b[fin & big], rtol=1e-10)
                fin = fin & ~big
            # (f.logpdf's betaln: staged, its near-pole forms are a rule run at evaluation
            # whose zero cotangent joins dfn's sum of products, summed in another order: 1 ulp
            # of the gradient, 2e-15 of a hessian entry that cancels to 1/1000 of its terms)
            _same(a[fin], b[fin], rtol=1e-14 if name == "f.logpdf" else 0.0)
            rest = ~(np.isfinite(a) & np.isfinite(b))
            assert np.all((a[rest] == b[rest]) | np.isnan(b[rest])), (a[rest], b[rest])
    if name == "f.logpdf":  # eager's and jit's dfn-slope at 300 and 1e5 dfs vs mpmath
        mp = pytest.importorskip("mpmath")
        got = np.asarray(g(x, sh)[1], dtype=float)
        got_jit = np.asarray(ft.jit(g)(x, sh)[1], dtype=float)
        with mp.workdps(40):
            def logpdf(v, n, m=mp.mpf(3)):
                return (n / 2 * mp.log(n) + m / 2 * mp.log(m) + (n / 2 - 1) * mp.log(v)
                        - (n + m) / 2 * mp.log(m + n * v) - mp.log(mp.beta(n / 2, m / 2)))
            for k in (5, 6):
                v = mp.mpf(float(x[k])) * 5
                want = float(mp.diff(lambda n: logpdf(v, n), mp.mpf(float(sh[k]))))
                np.testing.assert_allclose(got[k], want, rtol=1e-9)
                np.testing.assert_allclose(got_jit[k], want, rtol=1e-9)
