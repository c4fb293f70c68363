"""Session 57 (nn57): quiet log_softmax under jit and with where=, quiet max / min derivatives
beside infinities of both signs.

What was wrong, what now (each test below failed before: a RuntimeWarning, raised here by
``warnings.simplefilter("error")``, or the value stated):

- ``jit(nn.log_softmax)`` of a slice with ``+inf``, all ``-inf`` or nan warned "invalid
  value encountered in subtract" / "divide by zero encountered in log" (the staged formula
  ran on them), and so did its jvp and jit(grad); ``nn.log_softmax(x, where=)`` warned so
  eagerly too (a kept ``+inf``, kept entries all ``-inf``, nothing kept). Now those slices
  are shifted by nan (quiet nan arithmetic, which the rule reads as slices without a
  derivative) and the entries below a ``+inf`` get SciPy's ``-inf`` by a select whose
  derivative is the formula's: values, first and second derivatives equal to the eager
  path's (nan in the directions that move the slice, 0 in the others).
- The max / min derivative's weights (NumPy backend) summed the extremes to detect a NaN,
  which warned "invalid value encountered in reduce" when the extremes held ``+inf`` and
  ``-inf`` (a max over an axis, so softmax, log_softmax, logsumexp, hessian, vmap, jit);
  now ``out != out`` finds the NaN (quiet, and cheaper).
"""

import warnings

import numpy as np
import pytest

import functrans as ft
import functrans.nn as fnn
import functrans.numpy as fnp

INF, NAN = np.inf, np.nan


def _quiet(f, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return f(*args, **kwargs)


def _same(a, b):
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


_GOOD = [0.5, -1.0, 3.0, 0.25]
_BAD = [[INF, 1.0, 2.0, 0.5], [-INF] * 4, [NAN, 1.0, 0.0, 2.0], [INF, -INF, 1.0, 2.0],
        [INF, INF, 0.0, 1.0]]
_KEEP = np.array([True, True, True, False])


def _lse_row(r):
    r = np.asarray(r) - np.max(r)
    return r - np.log(np.exp(r).sum())


@pytest.mark.parametrize("row", _BAD)
def test_jit_log_softmax_of_nonfinite_slices_is_eager_and_quiet(row):
    x = np.array([row, _GOOD])
    eager = _quiet(fnn.log_softmax, x)
    # SciPy's: -inf below a +inf, nan else (the eager path's since session 56)
    r = np.array(row)
    _same(eager[0], np.where((r.max() == INF) & (r != INF), -INF, NAN))
    np.testing.assert_allclose(eager[1], _lse_row(_GOOD), rtol=1e-14, atol=1e-16)
    _same(_quiet(ft.jit(fnn.log_softmax), x), eager)
    v = np.arange(1.0, 9.0).reshape(2, 4)
    y, t = _quiet(ft.jit(lambda x, v: ft.jvp(fnn.log_softmax, (x,), (v,))), x, v)
    _same(y, eager)
    assert np.isnan(t[0]).all()
    np.testing.assert_allclose(t[1], v[1] - np.exp(_lse_row(_GOOD)) @ v[1], rtol=1e-14)
    for i, j in [(1, 2), (0, 1)]:
        g_eager = _quiet(ft.grad(lambda x: fnn.log_softmax(x)[i, j]), x)
        _same(_quiet(ft.jit(ft.grad(lambda x: fnn.log_softmax(x)[i, j])), x), g_eager)
        _same(_quiet(ft.grad(lambda x: ft.jit(fnn.log_softmax)(x)[i, j]), x), g_eager)
        h_eager = _quiet(ft.hessian(lambda x: fnn.log_softmax(x)[i, j]), x)
        _same(_quiet(ft.jit(ft.hessian(lambda x: fnn.log_softmax(x)[i, j])), x), h_eager)
    # the good slice: 1 - p at j, -p elsewhere; the other slice's entries 0 (not nan)
    g = _quiet(ft.jit(ft.grad(lambda x: fnn.log_softmax(x)[1, 2])), x)
    p = np.exp(_lse_row(_GOOD))
    np.testing.assert_allclose(g[1], np.eye(4)[2] - p, rtol=1e-14, atol=1e-16)
    assert (g[0] == 0).all()
    assert np.isnan(_quiet(ft.jit(ft.grad(lambda x: fnn.log_softmax(x)[0, 1])), x)[0]).all()


@pytest.mark.parametrize("row", _BAD + [[INF, 1.0, -INF, 2.0]])
def test_log_softmax_where_nonfinite_kept_entries_quiet(row):
    x = np.array([row, _GOOD])
    kept = np.array(row)[_KEEP]
    want0 = np.full(4, -INF)
    want0[_KEEP] = np.where((kept.max() == INF) & (kept != INF), -INF, NAN)
    want1 = np.full(4, -INF)
    want1[_KEEP] = _lse_row(np.array(_GOOD)[_KEEP])
    f = lambda x: fnn.log_softmax(x, where=_KEEP)   # noqa: E731
    for fn in (f, ft.jit(f)):
        got = _quiet(fn, x)
        _same(got[0], want0)
        np.testing.assert_allclose(got[1], want1, rtol=1e-14, atol=1e-16)
    for i, j in [(1, 1), (0, 1)]:
        g = _quiet(ft.grad(lambda x: f(x)[i, j]), x)
        _same(_quiet(ft.jit(ft.grad(lambda x: f(x)[i, j])), x), g)
        assert (g[:, 3] == 0).all()          # an excluded entry: no derivative
        assert (g[1 - i] == 0).all()         # the other slice's: 0, not nan
        assert np.isnan(g[i, :3]).all() if i == 0 else np.isfinite(g[i]).all()


def test_log_softmax_where_nothing_kept_or_all_minus_inf_quiet():
    x = np.array([1.0, -INF, 3.0])
    for keep, want in [([False] * 3, [-INF] * 3), ([False, True, False], [-INF, NAN, -INF]),
                       ([True, True, True], None)]:
        keep = np.array(keep)
        f = lambda x: fnn.log_softmax(x, where=keep)   # noqa: E731
        got = _quiet(f, x)
        _same(_quiet(ft.jit(f), x), got)
        if want is not None:
            _same(got, want)
        else:
            np.testing.assert_allclose(got, _lse_row(x), rtol=1e-14, atol=1e-16)
        g = _quiet(ft.grad(lambda x: f(x)[0]), x)
        _same(_quiet(ft.jit(ft.grad(lambda x: f(x)[0])), x), g)


def test_jit_log_softmax_where_on_float32_and_empty():
    x = np.array([[INF, 1.0, 2.0], [0.5, 1.0, -1.0]], np.float32)
    keep = np.array([True, True, False])
    got = _quiet(ft.jit(lambda x: fnn.log_softmax(x, where=keep)), x)
    assert got.dtype == np.float32
    _same(got[0], np.array([NAN, -INF, -INF], np.float32))
    want = np.array(x[1, :2], np.float64)
    np.testing.assert_allclose(got[1, :2], want - np.log(np.exp(want).sum()), rtol=1e-6)
    for shape, axis in [((0, 3), 1), ((3, 0), 1), ((0,), 0)]:
        e = _quiet(ft.jit(lambda x: fnn.log_softmax(x, axis=axis)), np.zeros(shape, np.float32))
        assert e.shape == shape and e.dtype == np.float32


def test_max_min_derivatives_beside_both_infinities_quiet():
    x = np.array([[INF, 1.0], [-INF, -INF], [2.0, -1.0]])
    ct = np.array([1.0, 2.0, 3.0])
    # the maxima inf, -inf (tied: halves) and 2
    want_max = np.array([[1.0, 0.0], [1.0, 1.0], [3.0, 0.0]])
    for f in (lambda x: fnp.max(x, axis=1), lambda x: fnp.amax(x, axis=1),
              ft.jit(lambda x: fnp.max(x, axis=1))):
        _, vjp = _quiet(ft.vjp, f, x)
        _same(_quiet(vjp, ct)[0], want_max)
    _, vjp = _quiet(ft.vjp, lambda x: fnp.max(x, axis=1, keepdims=True), x)
    _same(_quiet(vjp, ct[:, None])[0], want_max)
    _, vjp = _quiet(ft.vjp, lambda x: fnp.min(x, axis=1), -x)
    _same(_quiet(vjp, ct)[0], want_max)
    _same(_quiet(ft.vmap(ft.grad(fnp.max)), x), [[1.0, 0.0], [0.5, 0.5], [1.0, 0.0]])
    _same(_quiet(ft.jit(ft.vmap(ft.grad(fnp.min))), -x), [[1.0, 0.0], [0.5, 0.5], [1.0, 0.0]])
    _, t = _quiet(ft.jvp, lambda x: fnp.max(x, axis=1), (x,), (np.array([[1.0, 5.0]] * 3),))
    _same(t, [1.0, 3.0, 1.0])
    _same(_quiet(ft.hessian(lambda x: fnp.max(x, axis=1)[2]), x), np.zeros((3, 2, 3, 2)))
    # nn functions built on the max: the finite slices' derivatives untouched
    g = _quiet(ft.grad(lambda x: fnn.logsumexp(x, axis=1)[2]), x)
    e = np.exp([2.0, -1.0])
    np.testing.assert_allclose(g, [[0, 0], [0, 0], e / e.sum()], rtol=1e-14, atol=1e-16)
    g = _quiet(ft.grad(lambda x: fnn.softmax(x)[2, 0]), x)
    p = e / e.sum()
    np.testing.assert_allclose(g[2], [p[0] * (1 - p[0]), -p[0] * p[1]], rtol=1e-14, atol=1e-16)
    assert (g[:2] == 0).all()
    # a NaN extreme still gets no derivative, and ties still share it
    _, vjp = _quiet(ft.vjp, lambda x: fnp.max(x, axis=1), np.array([[NAN, 1.0], [3.0, 3.0]]))
    _same(_quiet(vjp, np.array([1.0, 1.0]))[0], [[0.0, 0.0], [0.5, 0.5]])


def _standardize_mp(x, eps=1e-5):
    """Values and Jacobian of standardize (last axis) in 50 digits."""
    import mpmath as mp
    with mp.workdps(50):
        xs = [mp.mpf(float(v)) for v in x]
        n = len(xs)
        m = sum(xs) / n
        sd = mp.sqrt(sum((v - m) ** 2 for v in xs) / n + eps)
        val = np.array([float((v - m) / sd) for v in xs])
        jac = np.array([[float(((i == j) - mp.mpf(1) / n) / sd
                               - (xs[i] - m) * (xs[j] - m) / (n * sd ** 3))
                         for j in range(n)] for i in range(n)])
    return val, jac


@pytest.mark.parametrize("scale", [1.0, 1e160, 1e300, 1e307])
def test_standardize_huge_deviations(scale):
    # the variance overflowed from |x - mean| = 1.3e154: inf, result 0 (and a warning)
    x = np.array([1.7, -0.4, 0.9, -1.3, 0.2]) * scale
    val, jac = _standardize_mp(x)
    for f in (fnn.standardize, ft.jit(fnn.standardize)):
        np.testing.assert_allclose(_quiet(f, x), val, rtol=4e-16, atol=1e-16)
    for jf in (ft.jacfwd, ft.jacrev):
        got = _quiet(jf(fnn.standardize), x)
        np.testing.assert_allclose(got, jac, rtol=0, atol=4e-16 * np.abs(jac).max())
    got = _quiet(ft.jit(ft.jacrev(fnn.standardize)), x)
    np.testing.assert_allclose(got, jac, rtol=0, atol=4e-16 * np.abs(jac).max())


def test_standardize_huge_deviations_other_dtypes_and_where():
    r = np.sqrt(1.5)
    for dt, big in [(np.float64, 1e308), (np.float32, 3e38), (np.float32, 1e20),
                    (np.float16, 6e4), (np.float16, 300.0)]:
        x = np.array([big, -big, 0.0], dt)
        for f in (fnn.standardize, ft.jit(fnn.standardize)):
            got = _quiet(f, x)
            assert got.dtype == dt
            np.testing.assert_allclose(got, [r, -r, 0.0], rtol=2e-3 if dt == np.float16 else 1e-6)
    x = np.array([[1e300, -1e300, 0.0, np.nan], [1.0, 2.0, 3.0, 4.0]])
    w = np.array([[True, True, True, False], [True, False, True, True]])
    got = _quiet(fnn.standardize, x, where=w)
    np.testing.assert_allclose(got[0, :3], [r, -r, 0.0], rtol=1e-15)
    k = np.array([1.0, 3.0, 4.0])
    np.testing.assert_allclose(got[1], (x[1] - k.mean()) / np.sqrt(k.var() + 1e-5), rtol=1e-15)
    _same(_quiet(ft.jit(lambda x: fnn.standardize(x, where=w)), x), got)
    _same(_quiet(ft.vmap(lambda a, b: fnn.standardize(a, where=b)), x, w), got)
    # ordinary values: the plain formula's bits, eagerly and under jit
    x = np.random.default_rng(1).normal(size=(3, 7)) * 1e3
    d = x - x.mean(-1, keepdims=True)
    want = d / np.sqrt((d * d).mean(-1, keepdims=True) + 1e-5)
    _same(fnn.standardize(x), want)
    _same(ft.jit(fnn.standardize)(x), want)


def test_log_softmax_where_nonfinite_on_array_api_strict():
    # (the concrete select path on another library: the rule's zeros were NumPy's)
    xps = pytest.importorskip("array_api_strict")
    x = np.array([[1.0, 2.0, 3.0], [INF, 1.0, 2.0]])
    w = np.array([[False] * 3, [True] * 3])
    want = _quiet(fnn.log_softmax, x, where=w)
    _same(want, [[-INF] * 3, [NAN, -INF, -INF]])
    xs, ws = xps.asarray(x), xps.asarray(w)
    _same(np.asarray(_quiet(fnn.log_softmax, xs, where=ws)), want)
    _same(np.asarray(_quiet(ft.jit(lambda x: fnn.log_softmax(x, where=ws)), xs)), want)


def _log1mexp_mp(x, k):
    import mpmath as mp
    with mp.workdps(40):
        x = mp.mpf(float(x))
        if k == 0:
            return float(mp.log(-mp.expm1(-x)) if x < 1 else mp.log1p(-mp.exp(-x)))
        u = 1 / mp.expm1(x)
        return float(u if k == 1 else -u * (1 + u))


def test_log1mexp_quiet_everywhere():
    # log(0) at 0 (the documented -inf), log of a negative below 0, expm1's overflow from
    # 709.8 and 1 / x's below 5.6e-309 in the derivatives, u (1 + u) from u = 1.3e154: all
    # warned (values right); now quiet, the same values
    fs = [fnn.log1mexp, ft.grad(fnn.log1mexp), ft.grad(ft.grad(fnn.log1mexp))]
    for x in [1e-310, 6e-309, 1e-300, 1e-8, 0.3, 0.7, 1.5, 30.0, 700.0, 709.9, 745.0]:
        for k, f in enumerate(fs):
            got, want = float(_quiet(f, np.float64(x))), _log1mexp_mp(x, k)
            assert got == want or abs(got - want) <= 4e-16 * abs(want), (x, k, got, want)
    specials = {0.0: [-INF, INF, -INF], -0.0: [-INF, INF, -INF], 5e-324: [None, INF, -INF],
                -1.0: [NAN] * 3, -1e308: [NAN] * 3, -INF: [NAN] * 3, NAN: [NAN] * 3,
                1e308: [-0.0, 0.0, -0.0], INF: [-0.0, 0.0, -0.0]}
    for x, wants in specials.items():
        for k, (f, want) in enumerate(zip(fs, wants)):
            got = _quiet(f, np.float64(x))
            if want is not None:
                _same(got, want)
            _same(_quiet(ft.jit(f), np.float64(x)), got)
    np.testing.assert_allclose(_quiet(fnn.log1mexp, np.float64(5e-324)), np.log(5e-324))
    for dt, tiny in [(np.float32, 1e-40), (np.float16, 1e-7)]:
        x = np.array([0.0, tiny, 0.5, 2.0, -1.0, INF], dt)
        got = _quiet(ft.vmap(ft.grad(fnn.log1mexp)), x)
        assert got.dtype == dt
        _same(got[[0, 1, 4, 5]], np.array([INF, INF, NAN, 0.0], dt))
        np.testing.assert_allclose(got[2:4], [1 / np.expm1(0.5), 1 / np.expm1(2.0)], rtol=2e-3)


def test_hard_silu_quiet_at_infinities_and_huge():
    # the value x * 0 at -inf (nan, JAX's) and the slope's (2 x + 3) / 6 in the branch not
    # taken (x + (x + 3) overflowed from |x| = 9e307) warned; the values are JAX's
    xs = np.array([INF, -INF, 1e308, -1e308, 3.0, -3.0, 0.0, 1.5, -1.5])
    want = [[INF, NAN, 1e308, -0.0, 3.0, -0.0, 0.0, 1.125, -0.375],
            [1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 0.5, 1.0, 0.0],
            [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1 / 3, 1 / 3, 1 / 3]]
    f = fnn.hard_silu
    for k, g in enumerate([f, ft.vmap(ft.grad(f)), ft.vmap(ft.grad(ft.grad(f)))]):
        got = _quiet(g, xs)
        np.testing.assert_allclose(got, want[k], rtol=1e-15)
        _same(_quiet(ft.jit(g), xs), got)
    _same(_quiet(ft.jvp, f, (xs,), (np.ones_like(xs),))[1], want[1])
    x32 = np.array([-INF, 3e38, -3e38, 1.5], np.float32)
    np.testing.assert_allclose(_quiet(ft.vmap(ft.grad(f)), x32), [0.0, 1.0, 0.0, 1.0])


@pytest.mark.parametrize("name", ["gelu", "mish"])
def test_gelu_mish_value_at_minus_inf_quiet(name):
    # x * 0 at -inf warned (value nan, JAX's); derivatives there stay the limits 0
    f = getattr(fnn, name)
    x = np.array([-INF, INF, -1e308, 1e308, -3.0, 0.0, 2.0])
    y = _quiet(f, x)
    assert np.isnan(y[0]) and y[1] == INF and y[3] == 1e308 and y[2] == 0.0
    _same(_quiet(ft.jit(f), x), y)
    g = _quiet(ft.vmap(ft.grad(f)), x)
    _same(g[:4], [0.0, 1.0, 0.0, 1.0])
    _same(_quiet(ft.jit(ft.vmap(ft.grad(f))), x), g)
    _same(_quiet(ft.jvp, f, (x,), (np.ones_like(x),))[1], g)
    assert np.isnan(_quiet(f, np.array([-INF, 1.0], np.float32))[0])


def test_glu_infinite_half_times_zero_gate_quiet():
    # inf * sigmoid(-inf) (or of b past -745) warned; nan, JAX's, and the derivatives JAX's
    x = np.array([[INF, -INF, 1.0, -800.0], [-INF, 2.0, -INF, -1000.0]])
    y = _quiet(fnn.glu, x)
    _same(y, [[INF, NAN], [NAN, 0.0]])
    _same(_quiet(ft.jit(fnn.glu), x), y)
    g = _quiet(ft.grad(lambda x: fnp.sum(fnn.glu(x))), np.array([[INF, 2.0, -800.0, -INF]]))
    _same(g, [[0.0, 0.0, NAN, 0.0]])
    s = 1.0 / (1.0 + np.exp(-1.0))
    _same(_quiet(fnn.glu, np.array([3.0, 1.0])), [3.0 * s])


def test_standardize_infinite_entry_quiet():
    # the mean inf made x - mean inf - inf (a warning); nan throughout that slice, as JAX
    y = np.array([[INF, 1.0, 2.0], [1.0, 2.0, 4.0]])
    got = _quiet(fnn.standardize, y)
    assert np.isnan(got[0]).all()
    d = y[1] - y[1].mean()
    np.testing.assert_allclose(got[1], d / np.sqrt((d * d).mean() + 1e-5), rtol=1e-15)
    _same(_quiet(ft.jit(fnn.standardize), y), got)
    g = _quiet(ft.grad(lambda y: fnn.standardize(y)[1, 0]), y)
    assert np.isfinite(g[1]).all()
    assert np.isnan(_quiet(fnn.standardize, y, mean=np.array([[INF], [1.0]]))[0]).all()


@pytest.mark.parametrize("dt", [np.float32, np.float16])
def test_squareplus_slope_at_zero_quiet_in_narrow_floats(dt):
    # the slope's floor c * 1e-300 was 0 in float32 / float16: c / 0 warned at x = 0 (value
    # 1/2 right); now the dtype's smallest normal number
    x = np.array([0.0, -0.0, 1.0, -1.0], dt)
    g = _quiet(ft.vmap(ft.grad(fnn.squareplus)), x)
    assert g.dtype == dt
    h = 1.0 / np.sqrt(5.0)
    np.testing.assert_allclose(g, [0.5, 0.5, 0.5 + 0.5 * h, 0.5 - 0.5 * h], rtol=1e-3)
    np.testing.assert_allclose(_quiet(ft.vmap(ft.grad(ft.grad(fnn.squareplus))), x)[:2],
                               [0.25, 0.25], rtol=1e-3)


def test_log_softmax_where_nonfinite_keeps_dtype():
    # (the concrete select path's nan / -inf fill came back float64; fuzz seed 44073 it 7)
    x = np.ones((3, 2), np.float16)
    for w in (np.zeros((3, 2), bool), np.array([[True, False]] * 3)):
        for f in (fnn.log_softmax, ft.jit(fnn.log_softmax, static_argnames=("axis",))):
            got = _quiet(f, x, axis=0, where=w)
            assert got.dtype == np.float16
    got = _quiet(fnn.log_softmax, np.array([INF, 1.0], np.float32), where=np.array([True, True]))
    assert got.dtype == np.float32
    _same(got, np.array([NAN, -INF], np.float32))
    got = _quiet(fnn.log_softmax, np.array([[INF, 1.0], [0.5, 2.0]], np.float32))
    assert got.dtype == np.float32
    _same(got[0], np.array([NAN, -INF], np.float32))
