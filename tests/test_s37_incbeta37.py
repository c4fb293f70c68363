"""special._inc_beta (behind betaincc, stdtr, t's and F's cdfs, bdtr, nbdtr): the choice
between ``1 - I_y(b, a)`` and ``I_x(a, b)`` made from the complement's value without
derivatives, each betainc computed with its shape derivatives only where some element takes
its form (jit computes both); the choice's prefactor (_log_beta_front) on the arrays behind
forward mode's constants; special._may_hold known under vmap. The values and derivatives
must be those of the full computation: eager against jit and against each point alone,
derivatives against differences and mpmath; the primitives bound are counted, not timed."""

import numpy as np
import pytest

import functrans as ft
from functrans.scipy import special, stats
from .test_s35_statsperf_35 import _Count, _same  # (_Count: the primitives evaluated, by name)
from .test_s36_statsperf36 import _arr


# (bounds about 1.25x the counts now; before: grad t.cdf 266, hessian t.cdf 1012,
# grad betaincc 243, grad fdtr 278)
@pytest.mark.parametrize("call, most", [
    (lambda: ft.grad(stats.t.cdf, argnums=(0, 1))(0.7, 3.), 165),
    (lambda: ft.grad(stats.t.sf, argnums=(0, 1))(-2.5, 30.), 165),
    (lambda: ft.hessian(stats.t.cdf, argnums=(0, 1))(0.7, 3.), 790),
    (lambda: ft.grad(special.betaincc, argnums=(0, 1, 2))(2., 3., 0.8), 115),
    (lambda: ft.grad(special.betaincc, argnums=(0, 1, 2))(2., 3., 0.3), 115),
    (lambda: ft.grad(special.fdtr, argnums=(0, 1, 2))(4., 9., 1.3), 145),
])
def test_primitives_per_call(call, most):
    call()
    with _Count() as c:
        call()
    assert c.total <= most, c.counts.most_common(8)


# (a, b, x): x below 1/2, above it with the subtraction taken (comp small beside the slope)
# and not (comp large), near 1
_POINTS = [(2., 3., 0.3), (2., 3., 0.8), (0.5, 40., 0.9), (40., 0.5, 0.6), (0.01, 0.3, 0.999),
           (1e5, 300., 0.997), (17., 2.5, 1 - 1e-9), (0.3, 0.01, 0.7), (2.5, 1e5, 1e-12)]


def _columns():
    return tuple(np.array(c) for c in zip(*_POINTS))


@pytest.mark.parametrize("fn", [special.betaincc,
                                lambda a, b, x: special.fdtr(2 * a, 2 * b, b * x / (a - a * x))])
def test_eager_as_jit_and_as_each_point(fn):
    """Where elements take different forms, eager (both forms) = jit (both forms) = vmap
    = each point alone (one form): values, gradients, hessians (betainc's shape derivatives
    of a batch and of one point differ by rounding, ~5e-15, as before)."""
    cols = _columns()
    g = ft.grad(fn, argnums=(0, 1, 2))
    h = ft.hessian(fn, argnums=(0, 1, 2))
    _same(fn(*cols), ft.jit(fn)(*cols))
    _same(fn(*cols), [fn(*p) for p in _POINTS])
    vg = np.array([np.asarray(v) for v in ft.vmap(g)(*cols)])
    # (eager and jit to rounding: beside a shape below 1/10 eager betaln takes beta37's
    # near-zero form, which staged code does not; 1e-15 apart here)
    _same(vg, np.array([np.asarray(v) for v in ft.jit(ft.vmap(g))(*cols)]), rtol=1e-14)
    each = [[float(v) for v in g(*p)] for p in _POINTS]
    _same(vg.T, each, rtol=1e-13)
    _same(each, [[float(v) for v in ft.jit(g)(*_arr(*p))] for p in _POINTS], rtol=1e-14)
    few = _POINTS[1:5]  # (both forms among them; hessians cost)
    vh = np.array([[np.asarray(w) for w in r]
                   for r in ft.vmap(h)(*(np.array(c) for c in zip(*few)))])
    _same(np.moveaxis(vh, -1, 0), [[[float(w) for w in r] for r in h(*p)] for p in few],
          rtol=1e-12)


@pytest.mark.parametrize("t, df", [(-30., 0.1), (-2.5, 3.), (-0.3, 29.), (0.4, 1e3),
                                   (1.7, 1e6), (12., 0.7), (1e-7, 1.)])
def test_t_cdf_eager_as_jit(t, df):
    g = ft.grad(stats.t.cdf, argnums=(0, 1))
    h = ft.hessian(stats.t.cdf, argnums=(0, 1))
    # (from df = 100, t^2 <= df/4, eager transforms take the df derivatives from stats39's
    # series (test_s39_stats39), jit the plain form, which loses ~df eps: at (1.7, 1e6)
    # 1e-9 in the first, 2.3e-4 in the mixed second (eager 4e-15, mpmath) and 2.4e-5 in
    # df's (eager 2e-16); the t derivatives from the density, the plain ones from the
    # rounded x)
    series = df >= 100.0 and t * t <= 0.25 * df
    _same([float(v) for v in g(t, df)], [float(v) for v in ft.jit(g)(*_arr(t, df))],
          rtol=1e-8 if series else 0.0)
    _same([[float(w) for w in r] for r in h(t, df)],
          [[float(w) for w in r] for r in ft.jit(h)(*_arr(t, df))], rtol=1e-3 if series else 0.0)


@pytest.mark.parametrize("a, b, x", _POINTS[:6])
def test_betaincc_derivatives_against_mpmath(a, b, x):
    mpmath = pytest.importorskip("mpmath")
    got = [float(v) for v in ft.grad(special.betaincc, argnums=(0, 1, 2))(a, b, x)]
    with mpmath.workdps(40):
        def f(a, b, x):
            return 1 - mpmath.betainc(a, b, 0, x, regularized=True)
        want = [float(mpmath.diff(lambda u: f(u, b, x), a)),
                float(mpmath.diff(lambda u: f(a, u, x), b)),
                float(mpmath.diff(lambda u: f(a, b, u), x))]
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-300)


@pytest.mark.parametrize("t, df", [(-2.5, 3.), (0.7, 3.), (1.7, 29.)])
def test_t_cdf_hessian_against_mpmath(t, df):
    mpmath = pytest.importorskip("mpmath")
    got = np.array([[float(w) for w in r]
                    for r in ft.hessian(stats.t.cdf, argnums=(0, 1))(t, df)])
    with mpmath.workdps(40):
        def f(t, d):  # (the t cdf through the incomplete beta function)
            tail = mpmath.betainc(d / 2, 0.5, 0, d / (d + t * t), regularized=True) / 2
            return tail if t < 0 else 1 - tail
        want = np.array([[float(mpmath.diff(f, (t, df), (2, 0))),
                          float(mpmath.diff(f, (t, df), (1, 1)))],
                         [float(mpmath.diff(f, (t, df), (1, 1))),
                          float(mpmath.diff(f, (t, df), (0, 2)))]])
    np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-14)


def test_may_hold_known_under_vmap_unknown_under_jit():
    seen = []

    def f(x):
        seen.append(special._may_hold(x > 0.5))
        return x

    ft.vmap(f)(np.array([0.1, 0.2]))
    ft.vmap(f)(np.array([0.1, 0.7]))
    ft.vmap(ft.grad(lambda x: f(x) * 2.))(np.array([0.1, 0.2]))
    ft.jit(f)(np.array([0.1, 0.2]))
    assert seen == [False, True, False, True]
    assert special._may_hold(False) is False and special._may_hold(np.array([False, True]))


def test_log_beta_front_on_constants_same_bits():
    """The prefactor on the arrays behind forward mode's constants = on functrans.numpy."""
    import functrans.numpy as fnp
    a, b, x = np.array([2., 1e5, 0.01]), np.array([3., 300., 0.3]), np.array([0.3, 0.997, 0.7])
    y = 1.0 - x
    args = (a, b, x, y, np.log(x), np.log(y))
    want = special._log_beta_front(*(fnp.asarray(v) + 0.0 for v in args))  # (plain arrays)
    got = []

    def f(s):
        stopped = [fnp.stop_gradient(v * s) for v in args]  # (forward mode's constants)
        assert special._lined_up(stopped) is not None
        got.append(special._log_beta_front(*stopped))
        return s

    ft.grad(f)(1.0)
    _same(np.asarray(got[0]), np.asarray(want))


def test_betaincc_backends(backend):
    a, b, x = (backend.asarray(np.array(c)) for c in _columns())
    g = ft.vmap(ft.grad(special.betaincc, argnums=(0, 1, 2)))(a, b, x)
    want = ft.vmap(ft.grad(special.betaincc, argnums=(0, 1, 2)))(*_columns())
    for u, v in zip(g, want):
        np.testing.assert_allclose(backend.to_numpy(u), np.asarray(v), rtol=1e-13, atol=0)
