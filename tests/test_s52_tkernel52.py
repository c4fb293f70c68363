"""Session 52 (tkernel52): the cost of t.logpdf's df slope.

Fixed: stats52 (tests/test_s52_stats52.py) made t's kernel (df + 1)/2 log1p(z^2/df) take
its near form (z^2/2 + (df/2) log1pmx(z^2/df) + log1p(z^2/df)/2, in functrans.numpy's
operations, beside the plain form) from df = 8 for its df slope: eager grad in df at one df
over 1e4 points +50 % over 6603e8a9. Now the kernel is one primitive, t_log_kernel(d, zz),
its slopes in closed form at evaluation: in df ``u ((u - 1/d) / (1 + u) + u^2 T(u^2))``
(u = v / (2 + v), v = z^2/df, T a series of positive terms; the lead term written
``v (z^2 - 2 - v) / (2 d (1 + v) (2 + v))``: K_d's zero near z^2 = 2 from z^2 - 2) where
v <= 1/4, at any df, the plain form beyond; in place on NumPy. Medians of interleaved runs
(process time) against a clone of 6603e8a9: eager grad in df at df = 20 / 40 over 1e4 points
1.00x / 0.97x (stats52's: ~1.45x), with loc 0.3, scale 0.7 1.03x; a df per point 0.59x;
grad in x 0.95x; the value 1.02x. Staged: jit(vmap(grad)) of t.logpdf in (x, df) 113 -> 81
equations (6603e8a9: 187), the value 49 -> 46. Accuracy: K_d within 1.6 eps of its terms'
size from df = 0.5 to 1e8 (mpmath); below df = 8 the df slope was the plain form's (6.3
eps at (0.9, 7.9, 0.3, 0.7)), now within 1; stats52's and stats51's tests unchanged.

Left: beyond z^2/df = 1/4 the plain form (its slope's terms cancel up to ~10x there: within
~1 eps of the terms, ~10 eps of the slope at (2.2, 20, 0.3, 0.7); a series in u there
needs ~2x the terms; session 53: the near series, 12 terms, up to z^2/df = 0.6,
tests/test_s53_stats53.py). With a slope in the scale the near/plain pair of forms is kept (the
plain one's e-form for the scale's slope at a tiny df), t_log_kernel inside the near form.

References: mpmath at 40-50 digits (the kernel's closed forms; t's log density differentiated
by mpmath)."""

import mpmath as mp
import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.primitives import special as Sp
from functrans.scipy import stats

_EPS = 2.0 ** -52


def _mp_kernel(d, zz):
    """(K, K_d, K_zz, K_dd, K_dzz, K_zzzz) of K = (d + 1)/2 log1p(zz/d), the terms' size of
    K_d: mpmath's closed forms."""
    d, zz = mp.mpf(d), mp.mpf(zz)
    v, q = zz / d, d + zz
    k = (d + 1) / 2 * mp.log1p(v)
    kd = mp.log1p(v) / 2 - (d + 1) * v / (2 * d * (1 + v))
    size = mp.log1p(v) / 2 + (d + 1) * v / (2 * d * (1 + v))
    kz = (d + 1) / (2 * q)
    kdd = v * (2 + v - zz) / (2 * q * q)
    kdz = (zz - 1) / (2 * q * q)
    kzz = -(d + 1) / (2 * q * q)
    return [float(t) for t in (k, kd, kz, kdd, kdz, kzz)], float(size)


# (d, zz): both forms (v = zz/d from 1e-6 to 20, beside 1/4 on both sides), df from 0.5 to 1e8,
# K_d's zero near zz = 2
_POINTS = [(0.5, 1e-6), (0.5, 0.124), (3.0, 0.7), (7.9, 2.0), (20.0, 2.0 + 0.1), (20.0, 4.99),
           (20.0, 5.01), (40.0, 1.3), (49.9, 2.94), (1e3, 0.09), (1e3, 260.0), (1e8, 2.5),
           (8.0, 160.0)]


def test_t_log_kernel_value_and_slopes():
    d = np.array([p[0] for p in _POINTS])
    zz = np.array([p[1] for p in _POINTS])
    got = [np.asarray(Sp.t_log_kernel(d, zz, part=part)) for part in ("value", "d", "zz")]
    for i, (di, zi) in enumerate(_POINTS):
        want, size = _mp_kernel(di, zi)
        assert abs(got[0][i] - want[0]) <= 2 * _EPS * abs(want[0]), (di, zi)
        # (K_d within 2 eps of its terms' size: its own zero near zz = 2 is theirs)
        assert abs(got[1][i] - want[1]) <= 2 * _EPS * size, (di, zi, got[1][i], want[1])
        assert abs(got[2][i] - want[2]) <= 2 * _EPS * abs(want[2]), (di, zi)


def test_t_log_kernel_second_partials():
    # (the slopes' rules: grad of each part in (d, zz))
    for di, zi in _POINTS:
        want, _ = _mp_kernel(di, zi)
        gd = ft.grad(lambda d, z: Sp.t_log_kernel(d, z, part="d"), argnums=(0, 1))(di, zi)
        gz = ft.grad(lambda d, z: Sp.t_log_kernel(d, z, part="zz"), argnums=(0, 1))(di, zi)
        np.testing.assert_allclose([float(gd[0]), float(gd[1]), float(gz[0]), float(gz[1])],
                                   [want[3], want[4], want[4], want[5]], rtol=1e-13,
                                   atol=1e-300)


def test_t_log_kernel_forms_agree_bitwise():
    # (NumPy arrays take the in-place form, a 0-d array or another library the
    # array-API one: the same operations in the same order, the same bits; eager, vmap, jit)
    d = np.array([p[0] for p in _POINTS] + [np.nan, 20.0])
    zz = np.array([p[1] for p in _POINTS] + [1.0, np.nan])
    whole = np.asarray(Sp.t_log_kernel(d, zz, part="d"))
    each = np.array([float(Sp.t_log_kernel(np.float64(a), np.float64(b), part="d"))
                     for a, b in zip(d, zz)])
    np.testing.assert_array_equal(whole, each)
    assert np.isnan(whole[-2:]).all()
    # (2-d, and a df broadcast along the rows: the plain form's elements by flat index)
    square = np.asarray(Sp.t_log_kernel(d[:12].reshape(3, 4), zz[:12].reshape(3, 4), part="d"))
    np.testing.assert_array_equal(square, each[:12].reshape(3, 4))
    rows = np.asarray(Sp.t_log_kernel(np.broadcast_to(d[:4], (3, 4)), zz[:12].reshape(3, 4),
                                      part="d").T)
    np.testing.assert_array_equal(rows.T, [[float(Sp.t_log_kernel(np.float64(a), np.float64(b),
                                            part="d")) for a, b in zip(d[:4], r)]
                                           for r in zz[:12].reshape(3, 4)])
    f = ft.grad(lambda d, x: stats.t.logpdf(x, d, 0.3, 0.7))
    xs = 0.3 + 0.7 * np.sqrt(np.array([p[1] for p in _POINTS]))
    ds = np.array([p[0] for p in _POINTS])
    eager = np.array([float(f(a, b)) for a, b in zip(ds, xs)])
    np.testing.assert_array_equal(np.asarray(ft.vmap(f)(ds, xs)), eager)
    np.testing.assert_array_equal(np.asarray(ft.jit(ft.vmap(f))(ds, xs)), eager)


def test_t_log_kernel_array_api_strict():
    xp = pytest.importorskip("array_api_strict")
    d = np.array([p[0] for p in _POINTS])
    zz = np.array([p[1] for p in _POINTS])
    for part in ("value", "d", "zz"):
        got = Sp.t_log_kernel(xp.asarray(d), xp.asarray(zz), part=part)
        np.testing.assert_array_equal(np.asarray(got), np.asarray(Sp.t_log_kernel(d, zz,
                                                                                  part=part)))


# (x, df, d/d df, d2/d df2 of t.logpdf(x, df, 0.3, 0.7)): mpmath's loggamma at 50 digits,
# differentiated by mpmath
_SMALL_DF = [
    (0.31, 3.0, 0.026491849833707837, -0.01691903490515255),
    (0.9, 7.9, 0.007440232129587523, -0.0018457234998658235),
    (0.3 + 0.7 * 2 ** 0.5, 40.0, 0.00016588105279466867, -8.516243090577101e-06),
]


@pytest.mark.parametrize("x, df, slope, second", _SMALL_DF)
def test_t_logpdf_df_slope_below_8(x, df, slope, second):
    # (below df = 8 the plain form's slope: 6.3 eps off at (0.9, 7.9) with stats52's forms,
    # 40 at 6603e8a9; now the series' there too; z^2 = 2 (K_d's zero) at df = 40: 6.6 eps)
    f = lambda d: stats.t.logpdf(x, d, 0.3, 0.7)  # noqa: E731
    np.testing.assert_allclose(float(ft.grad(f)(df)), slope, rtol=3 * _EPS)
    np.testing.assert_allclose(float(ft.grad(ft.grad(f))(df)), second, rtol=3 * _EPS)


def test_t_logpdf_df_third_derivative():
    # (through the slopes' rules: a central difference of the second derivative)
    f = lambda d: stats.t.logpdf(1.1, d, 0.3, 0.7)  # noqa: E731
    third = float(ft.grad(ft.grad(ft.grad(f)))(20.0))
    second = ft.grad(ft.grad(f))
    h = 1e-3
    fd = (float(second(20.0 + h)) - float(second(20.0 - h))) / (2 * h)
    np.testing.assert_allclose(third, fd, rtol=1e-6)


def test_t_logpdf_df_grad_cost():
    """Staged equations: grad in df at one df (6603e8a9: 178, stats52's forms 104), jit(vmap(
    grad)) in (x, df) (187, 113), the value (76, 49); the kernel one equation for its value
    and one for its df slope."""
    x, d = np.linspace(-3.0, 3.0, 8), np.linspace(1.0, 9.0, 8)
    g = ft.grad(lambda d: fnp.sum(stats.t.logpdf(x, d, 0.3, 0.7)))
    graph = ft.make_jaxpr(g)(20.0).jaxpr
    assert len(graph.eqns) <= 66
    assert sum(str(e.primitive) == "t_log_kernel" for e in graph.eqns) == 2
    f = ft.vmap(ft.grad(lambda x, d: stats.t.logpdf(x, d), argnums=(0, 1)))
    assert len(ft.make_jaxpr(f)(x, d).jaxpr.eqns) <= 81
    v = lambda x, d: stats.t.logpdf(x, d, 0.3, 0.7)  # noqa: E731
    assert len(ft.make_jaxpr(v)(x, d).jaxpr.eqns) <= 46
