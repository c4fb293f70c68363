"""xlogy34: xlogy / xlog1py differentiate as the product x log(y) also at x == 0 (a strong zero
in x): in x, log(y) (-inf at y = lo, the limit of x log(y) / x from either side of x = 0 and
JAX's; nan below lo, as JAX; inf at y = inf, as JAX); in y, 0 (the function is 0 all along
x = 0; JAX's nan at y = lo is 0 * inf); mixed 1 / (y - lo) (inf at y = lo, as JAX). They were 0
in x at y <= lo and y = inf. lo is 0 for xlogy (log y) and -1 for xlog1py (log1p y).
scipy.stats keeps the former (private _xlogy_weak / _xlog1py_weak): its support-end machinery
adds the end's -inf itself.

References: NumPy's log / log1p at the y of each case; the derivatives away from the ends by
central differences in float64; JAX where it is installed."""

import numpy as np
import pytest

import functrans as ft
import functrans.scipy.special as fsp

inf, nan = np.inf, np.nan
FUNS = [("xlogy", fsp.xlogy, np.log, 0.0), ("xlog1py", fsp.xlog1py, np.log1p, -1.0)]
IDS = [f[0] for f in FUNS]


def _grad2(f, x, y):
    return [float(g) for g in ft.grad(f, argnums=(0, 1))(x, y)]


def _jvp2(f, x, y):
    return [float(ft.jvp(f, (x, y), t)[1]) for t in ((1.0, 0.0), (0.0, 1.0))]


def _hess(f, x, y):
    h = ft.hessian(f, argnums=(0, 1))(x, y)
    return np.array([[float(h[i][j]) for j in range(2)] for i in range(2)])


@pytest.mark.parametrize("name,f,log,lo", FUNS, ids=IDS)
def test_first_derivatives_at_x_zero_both_modes(name, f, log, lo):
    # y = lo (was 0 in x), below lo (was 0), inf (was 0), inside: value 0, d/dx log(y), d/dy 0
    ys = [lo, lo - 1.0, inf, lo + 2.0, lo + 1e-300 if lo == 0.0 else lo + 1e-12]
    with np.errstate(all="ignore"):
        want_x = [log(y) for y in ys]
    assert want_x[0] == -inf and np.isnan(want_x[1]) and want_x[2] == inf
    for y, wx in zip(ys, want_x):
        assert float(f(0.0, y)) == 0.0 and not np.signbit(float(f(0.0, y)))
        for got in (_grad2(f, 0.0, y), _jvp2(f, 0.0, y), _grad2(ft.jit(f), 0.0, y)):
            np.testing.assert_array_equal(got, [wx, 0.0], err_msg=f"{name} y={y}")


@pytest.mark.parametrize("name,f,log,lo", FUNS, ids=IDS)
def test_second_derivatives_at_x_zero(name, f, log, lo):
    # x-x 0 (linear in x), y-y 0 (0 along x = 0), x-y 1 / (y - lo): inf at lo, -1 one below
    for y, mixed in ((lo, inf), (lo - 1.0, -1.0), (inf, 0.0), (lo + 2.0, 0.5)):
        np.testing.assert_array_equal(_hess(f, 0.0, y), [[0.0, mixed], [mixed, 0.0]],
                                      err_msg=f"{name} y={y}")
    # the finite mixed entry by central differences of the first derivative in x
    h = 1e-5
    gx = ft.grad(f, argnums=0)
    fd = (float(gx(0.0, lo + 2.0 + h)) - float(gx(0.0, lo + 2.0 - h))) / (2 * h)
    assert fd == pytest.approx(0.5, rel=1e-8)


@pytest.mark.parametrize("name,f,log,lo", FUNS, ids=IDS)
def test_zero_cotangent_stays_zero_and_vjp_consistent(name, f, log, lo):
    # at (0, lo) a zero cotangent gives 0 (not 0 * inf = nan); <u, J v> = <J^T u, v>
    x = np.array([0.0, 0.0, 1.5, 0.0])
    y = np.array([lo, lo + 2.0, lo + 3.0, lo + 0.5])
    out, vjp = ft.vjp(f, x, y)
    gx, gy = vjp(np.array([0.0, 1.0, 1.0, 1.0]))
    np.testing.assert_array_equal(np.asarray(gx)[0], 0.0)
    np.testing.assert_array_equal(np.asarray(gy)[0], 0.0)
    u = np.array([0.0, 0.3, -0.7, 1.1])
    vx, vy = np.array([0.0, 0.2, 0.9, -0.4]), np.array([0.0, -1.3, 0.5, 0.8])
    gx, gy = vjp(u)
    jv = ft.jvp(f, (x, y), (vx, vy))[1]
    assert float(np.sum(u * np.asarray(jv))) == pytest.approx(
        float(np.sum(np.asarray(gx) * vx) + np.sum(np.asarray(gy) * vy)), rel=1e-12)


@pytest.mark.parametrize("name,f,log,lo", FUNS, ids=IDS)
def test_away_from_zero_and_nan(name, f, log, lo):
    # x != 0: log(y) in x, x / (y - lo) in y (central differences); x = 1 at y = lo: -inf, inf
    h = 1e-6
    x, y = 1.5, lo + 0.7
    fd = [(float(f(x + h, y)) - float(f(x - h, y))) / (2 * h),
          (float(f(x, y + h)) - float(f(x, y - h))) / (2 * h)]
    np.testing.assert_allclose(_grad2(f, x, y), fd, rtol=1e-8)
    with np.errstate(all="ignore"):
        assert _grad2(f, 1.0, lo) == [-inf, inf]
    # a nan y: nan value and nan derivatives of both orders, x == 0 included (as SciPy / JAX)
    for x in (0.0, 2.0):
        assert np.isnan(float(f(x, nan)))
        assert np.isnan(_grad2(f, x, nan)).all() and np.isnan(_hess(f, x, nan)).all()


def test_float32_dtype_and_vmap():
    x = np.array([0.0, 0.0, 2.0], dtype=np.float32)
    y = np.array([0.0, 3.0, 4.0], dtype=np.float32)
    assert np.asarray(fsp.xlogy(x, y)).dtype == np.float32
    gx = ft.vmap(ft.grad(fsp.xlogy))(x, y)
    assert np.asarray(gx).dtype == np.float32
    np.testing.assert_array_equal(np.asarray(gx), np.log(y))


@pytest.mark.parametrize("name,f,log,lo", FUNS, ids=IDS)
def test_against_jax(name, f, log, lo):
    jax = pytest.importorskip("jax")
    jsp = pytest.importorskip("jax.scipy.special")
    jf = getattr(jsp, name)
    jax.config.update("jax_enable_x64", True)  # (as tests/conftest.py's JAX backend)
    for y in (lo, lo - 1.0, inf, lo + 2.0):
        # in x JAX's; in y JAX's where it is a number (its nan at y = lo is 0 * inf)
        jg = [float(v) for v in jax.grad(jf, argnums=(0, 1))(0.0, y)]
        got = _grad2(f, 0.0, y)
        np.testing.assert_array_equal(got[0], jg[0])
        if not np.isnan(jg[1]):
            assert got[1] == jg[1]
        assert float(jax.hessian(jf, argnums=(0, 1))(0.0, y)[0][1]) == _hess(f, 0.0, y)[0, 1]


def test_stats_keep_the_former_end_behaviour():
    # gamma.logpdf(0, a = 1) = -x - log Gamma(1): d/da there is the stats end machinery's
    # (pinned in tests/test_s33_stats33.py / test_s34_stats34.py); xlogy's new -inf in its
    # first argument must not reach it through the (a - 1) log x term twice
    from functrans.scipy import stats
    g = ft.grad(lambda x, a: stats.gamma.logpdf(x, a), argnums=(0, 1))(0.0, 1.0)
    ref = ft.grad(lambda x, a: -x - fsp.gammaln(a) + fsp._xlogy_weak(a - 1.0, x),
                  argnums=(0, 1))(0.0, 1.0)
    assert not np.isnan([float(v) for v in g]).any()
    assert float(g[0]) == float(ref[0]) == -1.0


def test_where_leaving_the_ends_out_has_a_clean_gradient():
    # the entries a where() leaves out get a zero cotangent: 0 in x and y, not 0 * -inf = nan
    import functrans.numpy as fnp
    x, y = np.array([0.0, 0.0, 1.0]), np.array([0.0, -1.0, 2.0])
    g = ft.grad(lambda x, y: fnp.sum(fnp.where(y > 0, fsp.xlogy(x, y), 0.0)), argnums=(0, 1))(x, y)
    np.testing.assert_array_equal(np.asarray(g[0]), [0.0, 0.0, np.log(2.0)])
    np.testing.assert_array_equal(np.asarray(g[1]), [0.0, 0.0, 0.5])
