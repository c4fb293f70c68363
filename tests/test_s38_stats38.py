"""t and F distributions, session 38: staged forms on their own elements (stats._own: under
jit every form is computed, and a form's infinite partial derivatives at elements it does not
take, times their zero cotangents, were nan in reverse mode), the arrays behind one vmap's
batch tracers lined up (special._lined_up: fewer primitives under vmap), t.cdf at large df
(x's rounding taken back) and t.logcdf / logsf where the tail underflows (_log_t_tail).
Arguments of jitted functions are 0-d arrays (Python numbers are static under jit: no
staging). References: mpmath, eager against jit and vmap against each element."""

import math

import numpy as np
import pytest

import functrans as ft
from functrans.scipy import special, stats
from .test_s35_statsperf_35 import _assert_primitives_at_most, _same
from .test_s36_statsperf36 import _arr


def _flat(v):
    """A gradient's or hessian's nested tuples as one float array."""
    if isinstance(v, (tuple, list)):
        return np.concatenate([_flat(w) for w in v]) if v else np.zeros(0)
    return np.asarray(v, dtype=float).ravel()


def _as_eager(got, want, rtol=1e-12):
    """Same nan and inf entries, the finite ones within rtol."""
    got, want = _flat(got), _flat(want)
    assert np.array_equal(np.isnan(got), np.isnan(want)), (got, want)
    fin = np.isfinite(want)
    assert np.array_equal(got[~fin & ~np.isnan(want)], want[~fin & ~np.isnan(want)]), (got, want)
    np.testing.assert_allclose(got[fin], want[fin], rtol=rtol, atol=0.0)


# -- 1. staged forms on their own elements ----------------------------------------------------

@pytest.mark.parametrize("make, point", [
    (lambda: ft.hessian(stats.f.isf), (1 - 1e-9, 0.8, 30.)),
    (lambda: ft.grad(stats.f.isf, (0, 2)), (0.3, 0.8, 0.01)),
    (lambda: ft.hessian(stats.f.ppf, (0, 1, 2)), (0.3, 0.8, 0.01)),
    (lambda: ft.hessian(stats.f.ppf, (0, 1, 2)), (1e-300, 5., 2.5)),
    (lambda: ft.hessian(stats.f.isf, (0, 1, 2)), (0.5, 5., 0.01)),
    (lambda: ft.hessian(stats.f.ppf, (0, 1, 2)), (1e-9, 0.01, 30.)),
    (lambda: ft.hessian(stats.t.ppf, (0, 1)), (1e-300, 2.5)),
    (lambda: ft.hessian(stats.t.ppf, (0, 1)), (1e-300, 1000.)),
    (lambda: ft.hessian(stats.t.isf, (0, 1)), (1e-300, 1.)),
    (lambda: ft.grad(stats.t.logcdf, (0, 1)), (-40., 1e6)),
], ids=["f.isf-hess", "f.isf-grad", "f.ppf-hess", "f.ppf-hess-tiny", "f.isf-hess-mid",
        "f.ppf-hess-small-dfn", "t.ppf-hess", "t.ppf-hess-big-df", "t.isf-hess-1",
        "t.logcdf-grad-tail"])
def test_jit_as_eager_where_forms_not_taken_overflow(make, point):
    # (each was nan under jit: an unused form's infinite slopes times a zero cotangent)
    with np.errstate(all="ignore"):
        want = make()(*point)
        got = ft.jit(make())(*_arr(*point))
    _as_eager(got, want, rtol=1e-9)
    assert np.isfinite(_flat(got)).sum() == np.isfinite(_flat(want)).sum()


def test_f_isf_staged_values_pinned():
    with np.errstate(all="ignore"):
        h = ft.jit(ft.hessian(stats.f.isf))(*_arr(1 - 1e-9, 0.8, 30.))
        g = ft.jit(ft.grad(stats.f.isf, (0, 2)))(*_arr(0.3, 0.8, 0.01))[1]
    np.testing.assert_allclose(float(h), 0.00022428841069682058, rtol=1e-12)
    np.testing.assert_allclose(float(g), -1.5733285770526778e+106, rtol=1e-11)


def test_vmap_hessian_f_ppf_elements_as_alone():
    # (elements taking different forms: each form's slopes at the other's elements were
    # nan in reverse mode eagerly too)
    h = ft.hessian(stats.f.ppf, (0, 1, 2))
    q, n, m = np.array([0.3, 1e-300, 0.9]), np.array([0.8, 5., 3.]), np.array([0.01, 2.5, 1e3])
    with np.errstate(all="ignore"):
        out = ft.vmap(h)(q, n, m)
        for i in range(3):
            alone = h(q[i], n[i], m[i])
            got = [[np.asarray(out[r][c])[i] for c in range(3)] for r in range(3)]
            _same(np.array(got, dtype=float), np.array(alone, dtype=float))


def test_own_keeps_values_and_cuts_derivatives():
    mask = np.array([True, False])

    def f(x):
        (xo,) = stats._own(mask, x)
        return (xo * xo).sum()
    x = np.array([1.5, 2.5])
    np.testing.assert_array_equal(np.asarray(ft.grad(f)(x)), [3.0, 0.0])
    assert np.asarray(f(x)) == 1.5 ** 2 + 2.5 ** 2
    # (a mask known to hold everywhere: the operands as they are, nothing bound)
    y = np.array([1., 2.])
    assert stats._own(np.array([True, True]), y)[0] is y


# -- 2. vmap: the arrays behind the batch tracers lined up -------------------------------------

@pytest.mark.parametrize("call, most", [
    (lambda: ft.vmap(ft.grad(stats.t.cdf, (0, 1)))(np.array([-1.3, 0.4, 2.0]),
                                                    np.array([4.5, 2., 30.])), 480),
    (lambda: ft.vmap(ft.grad(stats.t.cdf, (0, 1)))(np.array([-1.3]), np.array([4.5])), 275),
], ids=["three", "one"])
def test_vmap_grad_t_cdf_primitives(call, most):
    # (802 and 608 before; about 1.4x the counts now: 342, 195)
    _assert_primitives_at_most(call, most)


def test_vmap_grad_t_cdf_as_each_element():
    g = ft.grad(stats.t.cdf, (0, 1))
    x, d = np.array([-1.3, 0.4, 2.0, 7., -30.]), np.array([4.5, 2., 30., 0.3, 1e5])
    out = ft.vmap(g)(x, d)
    for i in range(5):
        alone = g(float(x[i]), float(d[i]))
        np.testing.assert_allclose([out[0][i], out[1][i]], np.array(alone, dtype=float),
                                   rtol=1e-13, atol=0)


def test_vmap_unbatched_operand_with_axes_and_nested():
    # a batched scalar beside an unbatched (3,) operand: its array lined up as (B, 1)
    xs, ds = np.array([-1.3, 0.8, 2.0]), np.array([4.5, 0.7])

    def total(xx, dd):
        return stats.t.cdf(xx, dd).sum()
    got = ft.vmap(lambda dd: ft.grad(total, (0, 1))(xs, dd))(ds)
    for i, dd in enumerate(ds):
        want = ft.grad(total, (0, 1))(xs, dd)
        np.testing.assert_allclose(np.asarray(got[0][i]), np.asarray(want[0]), rtol=1e-15)
        np.testing.assert_allclose(float(got[1][i]), float(want[1]), rtol=1e-15)
    g = ft.grad(stats.t.cdf, (0, 1))
    nested = ft.vmap(ft.vmap(g, in_axes=(0, None)), in_axes=(None, 0))(xs, ds)
    for i, dd in enumerate(ds):
        for j, xx in enumerate(xs):
            np.testing.assert_allclose([nested[0][i, j], nested[1][i, j]],
                                       np.array(g(xx, dd), dtype=float), rtol=1e-14)


def test_lined_up_shapes():
    seen = []

    def f(a):
        stopped = ft.lax.stop_gradient(a)
        found = special._lined_up((stopped, np.array([1., 2., 3.])))
        seen.append(None if found is None else [np.shape(v) for v in found[0]])
        return a
    ft.vmap(ft.grad(f))(np.array([0.5, 0.7]))
    assert seen == [[(2, 1), (3,)]]
    # (a value with a derivative is not a constant)
    assert special._lined_up((ft.jvp(lambda v: v, (1.0,), (1.0,))[0],)) is not None


# -- 3. t at large df ---------------------------------------------------------------------------

def _mp_t_cdf(mp, t, nu):
    t, nu = mp.mpf(t), mp.mpf(nu)
    tail = mp.betainc(nu / 2, mp.mpf(1) / 2, 0, nu / (nu + t * t), regularized=True) / 2
    return tail if t < 0 else 1 - tail


@pytest.mark.parametrize("t, nu", [(-6., 1e6), (-12., 1e6), (-6., 3e7), (-12., 1e5),
                                   (-6., 1e4), (-3., 1e6), (2., 1e6), (-0.5, 3.)])
def test_t_cdf_large_df_vs_mpmath(t, nu):
    mp = pytest.importorskip("mpmath")
    with mp.workdps(40):
        want = float(_mp_t_cdf(mp, t, nu))
    # (was 1.9e-11 off at (-6, 1e6), 5.8e-10 at (-6, 3e7): x's rounding times df/2)
    np.testing.assert_allclose(float(stats.t.cdf(t, nu)), want, rtol=4e-14)
    np.testing.assert_allclose(float(stats.t.sf(-t, nu)), want, rtol=4e-14)
    np.testing.assert_allclose(float(ft.jit(stats.t.cdf)(*_arr(t, nu))), want, rtol=4e-14)


def test_t_cdf_value_pinned():
    assert abs(float(stats.t.cdf(-6., 1e6)) / 9.869249061772174e-10 - 1) < 1e-14


@pytest.mark.parametrize("t, nu", [(-40., 1e6), (-60., 1e6), (-40., 1e4), (-400., 1e3),
                                   (-1e5, 1e3), (-1e20, 30.), (-1e160, 3.), (-1e300, 1.),
                                   (-1e300, 2.)])
def test_t_logcdf_underflowing_tail_vs_mpmath(t, nu):
    mp = pytest.importorskip("mpmath")

    def log_cdf(s, n):
        return mp.log(_mp_t_cdf(mp, s, n))
    with mp.workdps(60):
        want = log_cdf(t, nu)
        dt = mp.diff(lambda s: log_cdf(s, nu), mp.mpf(t), h=abs(mp.mpf(t)) * mp.mpf(10) ** -25)
        dn = mp.diff(lambda n: log_cdf(t, n), mp.mpf(nu), h=mp.mpf(nu) * mp.mpf(10) ** -25)
    assert float(want) < -650  # (the probability itself underflows)
    # (was -inf, as SciPy's)
    np.testing.assert_allclose(float(stats.t.logcdf(t, nu)), float(want), rtol=1e-15)
    np.testing.assert_allclose(float(stats.t.logsf(-t, nu)), float(want), rtol=1e-15)
    g = ft.grad(stats.t.logcdf, (0, 1))(t, nu)
    np.testing.assert_allclose(float(g[0]), float(dt), rtol=1e-15)
    np.testing.assert_allclose(float(g[1]), float(dn), rtol=1e-13)
    gj = ft.jit(ft.grad(stats.t.logcdf, (0, 1)))(*_arr(t, nu))
    np.testing.assert_allclose(_flat(gj), _flat(g), rtol=1e-14)


def test_t_logcdf_tail_second_derivatives():
    mp = pytest.importorskip("mpmath")
    t, nu = -40., 1e4

    def log_cdf(s, n):
        return mp.log(_mp_t_cdf(mp, s, n))
    with mp.workdps(60):
        h = mp.mpf(10) ** -12
        d2t = mp.diff(lambda s: log_cdf(s, nu), mp.mpf(t), 2, h=h * 40)
        d2n = mp.diff(lambda n: log_cdf(t, n), mp.mpf(nu), 2, h=h * nu)
    got = ft.hessian(stats.t.logcdf, (0, 1))(t, nu)
    np.testing.assert_allclose(float(got[0][0]), float(d2t), rtol=1e-12)
    np.testing.assert_allclose(float(got[1][1]), float(d2n), rtol=1e-9)


def test_t_logcdf_tail_mixed_array_and_normal():
    x = np.array([-40., 3., -1., -60.])
    got = np.asarray(stats.t.logcdf(x, 1e6))
    for i, v in enumerate(x):
        _same(got[i], np.asarray(stats.t.logcdf(v, 1e6)))
    assert np.all(np.isfinite(got))
    # df = inf: the normal's log cdf (log_ndtr), finite too
    np.testing.assert_allclose(float(stats.t.logcdf(-40., math.inf)),
                               float(special.log_ndtr(-40.)), rtol=1e-15)
    assert np.isfinite(float(stats.t.logcdf(-40., math.inf)))


def test_t_logcdf_tail_backends(backend):
    x = backend.asarray(np.array([-40., -2.]))
    d = backend.asarray(np.array([1e6, 1e6]))
    got = backend.to_numpy(stats.t.logcdf(x, d))
    np.testing.assert_allclose(got[0], -803.9683247503419, rtol=1e-14)
    np.testing.assert_allclose(got[1], float(stats.t.logcdf(-2., 1e6)), rtol=1e-14)


def test_inc_beta_shift_at_the_edge_and_where_one_minus_x_differs():
    # (x = 1, y = 0 exactly: no shift; the shift's log1p(0/0) was nan there)
    sps = pytest.importorskip("scipy.special")
    for args in [(0., 1., 0.), (0.7, 30., 0.), (2., 5., 1.)]:
        _same(np.asarray(special.bdtr(*args)), np.asarray(sps.bdtr(*args)))
    assert float(special.betaincc(2., 3., 1.0)) == 0.0
    # f.cdf(0.3, 3, 1e-8): I_u(3/2, 5e-9) at u = 0.9 / (0.9 + 1e-8), mpmath at the exact u
    # (the rounded u gave 8.850806910282568e-08, 2.2e-10 off)
    np.testing.assert_allclose(float(stats.f.cdf(0.3, 3., 1e-8)), 8.850806912244275e-08,
                               rtol=1e-14)
    np.testing.assert_allclose(float(special.fdtr(3., 1e-8, 0.3)), 8.850806912244275e-08,
                               rtol=1e-14)


def test_f_cdf_tiny_dfd_vs_mpmath():
    mp = pytest.importorskip("mpmath")
    x, n, m = 300., 1e4, 1e-8
    with mp.workdps(40):
        N, M, X = mp.mpf(n), mp.mpf(m), mp.mpf(x)
        want = float(mp.betainc(N / 2, M / 2, 0, N * X / (N * X + M), regularized=True))
    # (was 1.4e-3 off: betainc at the rounded u = 1 - 3.3e-15; 2.7e-10 left, the
    # subtraction form's loss, see the notes)
    np.testing.assert_allclose(float(stats.f.cdf(x, n, m)), want, rtol=1e-9)
    np.testing.assert_allclose(float(ft.jit(stats.f.cdf)(*_arr(x, n, m))), want, rtol=1e-9)
