"""Review s21b: functrans.nn, functrans.numpy.fft (and scipy.fft), functrans.random's
distributions and the cumulative, sorting and nan-aware statistics, against JAX 0.10.2 (x64),
NumPy/SciPy, mpmath and finite differences (several thousand probes side by side; the ones
kept here pin what differed).

Fixed (each test failed before its fix; JAX has the ones marked *):

- ``nn.softmax(x, where=...)`` gave the unnormalised ``exp(x - max)`` of the kept entries
  when a kept entry was nan (the zero-sum guard ``s > 0`` was false for a nan sum, which
  was then replaced by 1), 0 for kept entries that were all ``-inf`` and ``[nan, 0, ...]``
  with a kept ``+inf``, where ``where=None`` (and JAX) give nan; the excluded entries of
  such a slice were nan, not 0.
- * ``nn.squareplus`` lost every digit for negative ``x`` (``(x + sqrt(x^2 + b)) / 2``
  cancels: 1% off at ``x = -1e7`` in float64, 0.7% at ``x = -1e3`` in float32, 0 from
  ``-1e9``) and was ``inf`` from ``|x| = 1.4e154`` (``x^2`` overflowed; nan at ``-inf``); now
  ``hypot`` and ``b / (2 (sqrt(x^2 + b) - x))`` below 0, to an ulp.
- * ``nn.soft_sign(+-inf)`` is ``+-1`` (was ``inf / inf``, nan).
- * ``nn.gelu``'s (tanh form) derivative was nan for ``|x|`` above ~5e102 (float64; 7e12 in
  float32): the cube overflowed, ``inf * 0``; ``nn.sparse_plus``'s reverse-mode derivative
  was nan above ~1e154 (``(x + 1)^2`` overflowed in the branch not taken). The module
  promises branches not taken never put a nan into a derivative.
- ``nn.logsumexp``/``logmeanexp(where=...)``: with a nan among the kept entries, the
  excluded ones got a nan derivative (their zero weight times the nan cotangent); 0 now.
- ``nn.standardize`` refused JAX's ``algorithm`` keyword (now taken; the default stays the
  two-pass variance, JAX's default is ``"fast"``: a documented difference).
- ``nn.one_hot``'s ``num_classes`` went through ``int()``: 3.5 was silently 3, ``"3"`` was
  taken and -1 gave an empty axis; now an integer >= 0 or a TypeError (as JAX).
- ``random.uniform`` with array (or non-power-of-two-wide) bounds wider than about 1e300 gave
  nan everywhere (JAX: its values): the exact multiply-add that reproduces XLA's FMA split the
  width by ``2**27 + 1``, which overflowed; it is now scaled by a power of two first (and a
  width that is itself infinite gives JAX's ``inf``, not nan).
- ``random.gamma``'s (so ``beta``'s, ``dirichlet``'s...) implicit derivative in float32 was
  up to 0.5% off at large shapes (a = 1e4; JAX's within 1e-4): ``z + gammaln(a) - a log z``
  cancels; the slope is now computed in float64 and cast back.
- ``random.permutation(key, n, axis)`` ignored an ``axis`` out of range for ``range(n)``.
- ``scipy.fft.dct``/``dst`` (and their inverses and n-d forms) of float16 input gave float64
  (the twiddle factors promoted it); SciPy gives float32, as ``numpy.fft`` here does.
- ``numpy.nanvar``/``nanstd`` refused ``where=`` (NumPy's and JAX's keyword): taken now, the
  entries it leaves out treated as NaNs are; their derivative is 0 (JAX's is nan).
- * ``quantile``/``percentile``/``nanquantile``/``nanpercentile`` (linear)'s derivative in
  ``q`` at ``q = 1`` was 0 (both interpolation ends were the last value); it is the slope to
  the value below, the only side there is (JAX gives 0 at ``q = 0`` too, where functrans
  already gave the slope above).

Where JAX differs and functrans is kept (pinned here against finite differences or limits):

- ``logsumexp``'s derivative in ``b`` at ``b == 0`` is ``exp(a) / s`` (JAX drops the
  entries with ``b == 0`` before differentiating, so gives 0).
- ``celu``'s second derivative at 0 is ``1 / alpha``, the left one (the branch ``x <= 0``
  taken there, as ``elu``'s and ``selu``'s in both libraries); JAX's ``max(x, 0) + alpha
  expm1(min(x, 0) / alpha)`` splits the tie at 0 and gives ``1 / (4 alpha)``, neither side.
- ``sort(descending=True)``'s derivative at ties follows ``argsort(descending=True)``
  (stable: the first of equal entries first, as NumPy's ``argsort(-x, kind='stable')`` and
  torch's); JAX's reverses the tied entries, unlike its own ``argsort``.

Checked and left as they are: every ``nn`` activation's value and first and second
derivatives at +-1e3, +-710, +-inf, nan, the kinks and the tails, float32 and float64 (functrans
is as accurate as JAX or more: JAX's ``gelu`` loses 4e-6 relative at x = -6 in float64, all of
it in float32; its ``sigmoid``' and ``softplus''`` flush tails to 0); softmax/log_softmax/
logsumexp/logmeanexp with ``where`` (broadcast masks, axis tuples, keepdims, ``b``,
``return_sign``; values, VJPs, hessians); ``one_hot`` (out of range, negative, float, bool,
dtypes, axes); ``glu``; ``dot_product_attention`` (masks, bias, causal, windows, sequence
lengths, grouped heads); the initializers against JAX's (statistics; the same draws);
``scipy.fft``'s DCT/DST types 1-4 (n, axes, norm, orthogonalize; JVP and the dot-product
identity); ``fft``/``ifft``/``rfft``/``irfft``/``hfft``/``ihfft`` and their n-d forms (n
odd/even, truncating and padding, every norm, axes; JVP and VJP against JAX with complex
cotangents, gradients of real losses, hessians, vmap, jit; torch and array-api-strict against
NumPy): no difference; ``fftshift``/``fftfreq``; ``random``'s key/split/fold_in/bits/uniform/
randint/bernoulli/permutation/choice/categorical/rademacher bit for bit against JAX, the
transcendental samplers to rounding, truncated_normal's and multivariate_normal's gradients;
cumsum/cumprod with one, two and all zeros (gradients, hessians and third derivatives
against finite differences), cummax/cummin/cumlogsumexp, the nan-aware reductions' gradients
at nan inputs and all-nan slices, quantile/percentile (every method JAX has, derivatives in
``x`` and ``q``), average with weights, ptp; the gamma/beta/dirichlet/chisquare/t
reparameterised gradients in expectation and gamma's against the implicit derivative
``-(dP/da) / p`` (mpmath).

Left (same in JAX): the second and third derivatives of ``sigmoid``/``softplus``/
``log_sigmoid``/``silu`` near 0 lose digits (``1 - 2 sigmoid(x)`` cancels: 1e-4 relative at
``x = 1e-12``), and ``tanh``'' is 0 beyond ``|x| = 19`` (``1 - tanh^2``); ``silu``, ``gelu``
and ``mish`` are nan at ``-inf`` (``-inf * 0``); ``standardize``'s gradient is nan everywhere
when an entry ``where`` leaves out is nan (its own output is nan, and ``0 * nan`` in the
division's derivative).
"""

import numpy as np
import pytest

import functrans as ft
import functrans.nn as fnn
import functrans.numpy as fnp


def _fd(f, x, t, h=1e-6):
    return (f(x + h * t) - f(x - h * t)) / (2 * h)


# -- nn -------------------------------------------------------------------------------------


@pytest.mark.parametrize("x, where, expected", [
    # a kept nan: nan on the kept entries, 0 on the excluded ones
    ([np.nan, 1.0, 2.0, 3.0], [True, True, True, True], [np.nan] * 4),
    ([np.nan, 1.0, 2.0, 3.0], [True, False, True, False], [np.nan, 0.0, np.nan, 0.0]),
    # kept entries all -inf: 0 / 0
    ([-np.inf] * 4, [True] * 4, [np.nan] * 4),
    ([-np.inf, 0.0, -np.inf, 5.0], [True, False, True, False], [np.nan, 0.0, np.nan, 0.0]),
    # a kept +inf: inf / inf
    ([np.inf, 1.0, 2.0, 3.0], [True] * 4, [np.nan] * 4),
    ([np.inf, 1.0, 2.0, 3.0], [True, False, True, False], [np.nan, 0.0, np.nan, 0.0]),
    # nothing kept stays 0
    ([-np.inf] * 4, [False] * 4, [0.0] * 4),
    ([1.0, 2.0, 3.0, 4.0], [False] * 4, [0.0] * 4),
])
def test_softmax_where_nonfinite_kept(x, where, expected):
    x = np.array(x)
    where = np.array(where)
    out = np.asarray(fnn.softmax(x, where=where))
    np.testing.assert_array_equal(out, np.array(expected))
    if where.all():
        np.testing.assert_array_equal(out, np.asarray(fnn.softmax(x)))
    # the excluded entries carry no derivative, whatever the kept ones hold
    t = np.arange(1.0, 5.0)
    dout = np.asarray(ft.jvp(lambda y: fnn.softmax(y, where=where), (x,), (t,))[1])
    np.testing.assert_array_equal(dout[~where], 0.0)


def test_softmax_where_finite_matches_unmasked_slice():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 5)) * 30
    where = np.array([True, False, True, True, False])
    out = np.asarray(fnn.softmax(x, where=where))
    np.testing.assert_allclose(out[:, where], np.asarray(fnn.softmax(x[:, where])), rtol=1e-14)
    np.testing.assert_array_equal(out[:, ~where], 0.0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_squareplus_accurate_for_negative_and_huge(dtype):
    big = 1e300 if dtype == np.float64 else 1e30
    x = np.array([-np.inf, -big, -1e9, -1e7, -1e3, -3.0, 0.0, 2.0, 1e5, big, np.inf], dtype)
    for b in (4, 0.5):
        xx = x.astype(np.float64)
        with np.errstate(over="ignore", invalid="ignore"):
            r = np.hypot(xx, np.sqrt(b))
            ref = np.where(xx < 0, b / (2 * (r - xx)), (xx + r) / 2)   # the same, exactly
        ref[0] = 0.0
        out = np.asarray(fnn.squareplus(x, b))
        assert out.dtype == dtype
        rtol = 1e-15 if dtype == np.float64 else 1e-6
        np.testing.assert_allclose(out, ref.astype(dtype), rtol=rtol, atol=0)
        d = np.asarray(ft.vmap(ft.grad(lambda y: fnn.squareplus(y, b)))(x[1:-1]))
        dref = (1 + xx[1:-1] / r[1:-1]) / 2
        dref = np.where(xx[1:-1] < 0, b / (2 * r[1:-1] * (r[1:-1] - xx[1:-1])), dref)
        np.testing.assert_allclose(d, dref.astype(dtype), rtol=10 * rtol, atol=0)


def test_soft_sign_at_infinity():
    x = np.array([-np.inf, np.inf, 1e300])
    np.testing.assert_array_equal(np.asarray(fnn.soft_sign(x)), [-1.0, 1.0, 1.0])
    np.testing.assert_array_equal(np.asarray(ft.vmap(ft.grad(fnn.soft_sign))(x)), 0.0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_huge_inputs_give_finite_derivatives(dtype):
    big = 1e300 if dtype == np.float64 else 1e30
    x = np.array([-big, -1e150, 1e150, big]).astype(dtype)
    x = x[np.isfinite(x)]
    want = (x > 0).astype(dtype)
    for f in (fnn.gelu, fnn.sparse_plus):
        np.testing.assert_array_equal(np.asarray(ft.vmap(ft.grad(f))(x)), want)
        np.testing.assert_array_equal(np.asarray(ft.vjp(f, x)[1](np.ones_like(x))[0]), want)
        np.testing.assert_array_equal(np.asarray(ft.jvp(f, (x,), (np.ones_like(x),))[1]), want)
    # values unchanged, nan stays nan
    np.testing.assert_array_equal(np.asarray(fnn.sparse_plus(np.array([np.nan, -2.0, 0.0, 3.0]))),
                                  [np.nan, 0.0, 0.25, 3.0])
    np.testing.assert_allclose(np.asarray(fnn.gelu(np.array([-40.0, 29.0, 31.0, 40.0]))),
                               [0.0, 29.0, 31.0, 40.0], rtol=1e-15, atol=1e-300)


@pytest.mark.parametrize("alpha", [1.0, 0.5, 2.0])
def test_celu_second_derivative_at_zero_is_the_left_one(alpha):
    d2 = ft.grad(ft.grad(lambda x: fnn.celu(x, alpha)))
    np.testing.assert_allclose(float(d2(0.0)), 1.0 / alpha, rtol=1e-15)
    np.testing.assert_allclose(float(d2(-1e-9)), 1.0 / alpha, rtol=1e-8)
    assert float(d2(1e-9)) == 0.0
    assert float(ft.grad(lambda x: fnn.celu(x, alpha))(0.0)) == 1.0


def test_sort_descending_tangent_follows_stable_argsort():
    x = np.array([1.0, 1.0, 0.0, 1.0, 2.0, 0.0])
    t = np.arange(6.0)
    idx = np.asarray(fnp.argsort(x, descending=True))
    np.testing.assert_array_equal(idx, np.argsort(-x, kind="stable"))
    dout = np.asarray(ft.jvp(lambda y: fnp.sort(y, descending=True), (x,), (t,))[1])
    np.testing.assert_array_equal(dout, t[idx])


def test_logsumexp_derivative_in_zero_weight():
    # d/db_i log(sum_j b_j exp(a_j)) = exp(a_i) / s, also at b_i = 0 (JAX gives 0 there).
    a = np.array([1.0, 2.0, 3.0, 4.0])
    b = np.array([1.0, -1.0, 2.0, 0.0])
    g = np.asarray(ft.grad(lambda b: fnn.logsumexp(a, b=b))(b))
    s = np.sum(b * np.exp(a))
    np.testing.assert_allclose(g, np.exp(a) / s, rtol=1e-13)
    e3 = np.eye(4)[3]
    fd = _fd(lambda b: float(np.log(np.sum(b * np.exp(a)))), b, e3)
    np.testing.assert_allclose(g[3], fd, rtol=1e-7)


@pytest.mark.parametrize("algorithm", ["stable", "fast"])
def test_standardize_algorithm(algorithm):
    # JAX's keyword (refused before as an unexpected argument); "fast" is JAX's one-pass
    # variance, clipped at 0
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 5)) + 2.0
    m = x.mean(-1, keepdims=True)
    if algorithm == "stable":
        v = ((x - m) ** 2).mean(-1, keepdims=True)
    else:
        v = np.maximum((x * x).mean(-1, keepdims=True) - m * m, 0.0)
    out = np.asarray(fnn.standardize(x, algorithm=algorithm))
    np.testing.assert_allclose(out, (x - m) / np.sqrt(v + 1e-5), rtol=1e-12)
    t = rng.standard_normal(x.shape)
    d = np.asarray(ft.jvp(lambda y: fnn.standardize(y, algorithm=algorithm), (x,), (t,))[1])
    fd = _fd(lambda y: np.asarray(fnn.standardize(y, algorithm=algorithm)), x, t)
    np.testing.assert_allclose(d, fd, rtol=1e-6, atol=1e-8)


def test_standardize_default_is_two_pass():
    # a decision: the default is the accurate two-pass variance (JAX's default, "fast",
    # gives 0 variance here: every digit of the spread cancels)
    x = 1e9 + np.array([[0.0, 1.0, 2.0, 3.0]])
    out = np.asarray(fnn.standardize(x, epsilon=0.0))
    np.testing.assert_allclose(out, (x - x.mean()) / x.std(), rtol=1e-9)
    with pytest.raises(ValueError, match="algorithm must be 'stable' or 'fast'"):
        fnn.standardize(x, algorithm="two-pass")


# -- random ---------------------------------------------------------------------------------


@pytest.mark.parametrize("lo, hi", [(1e300, 1.7e308), (-1.7e308, -1e300), (-3.0, 1e301),
                                    (-8e307, 8e307)])
def test_uniform_huge_bounds_finite(lo, hi):
    import functrans.random as fr
    for seed in range(3):
        u = np.asarray(fr.uniform(fr.key(seed), (200,), minval=lo, maxval=hi))
        assert np.all(np.isfinite(u)) and np.all(u >= lo) and np.all(u < hi)
        # the same multiply-add with one rounding as without the overflow: the unit uniform
        # times the width plus lo, to a few ulp
        unit = np.asarray(fr.uniform(fr.key(seed), (200,)))
        np.testing.assert_allclose(u, unit * (hi - lo) + lo, rtol=1e-15, atol=1e-15 * (hi - lo))
    # array bounds take the same path
    u = np.asarray(fr.uniform(fr.key(0), (2,), minval=np.array([lo, 0.0]),
                              maxval=np.array([hi, 1.0])))
    assert np.all(np.isfinite(u))


def test_gamma_float32_implicit_derivative_large_shape():
    import functrans.random as fr
    from scipy import special as sc, stats
    a = 1e4
    for seed in range(3):
        k = fr.key(seed)
        x = float(fr.gamma(k, np.float32(a), dtype=np.float32))
        g = float(ft.grad(lambda a: fr.gamma(k, a, dtype=np.float32))(np.float32(a)))
        h = 1e-2
        dpda = (sc.gammainc(a + h, x) - sc.gammainc(a - h, x)) / (2 * h)
        ref = -dpda / stats.gamma.pdf(x, a)
        assert abs(g - ref) <= 1e-5 * abs(ref)


# -- fft ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["dct", "idct", "dst", "idst", "dctn", "idstn"])
def test_scipy_r2r_half_precision_is_float32(name):
    import scipy.fft as sf

    import functrans.scipy.fft as ff
    x = np.arange(6.0).astype(np.float16)
    out = getattr(ff, name)(x)
    ref = getattr(sf, name)(x)
    assert np.asarray(out).dtype == ref.dtype == np.float32
    np.testing.assert_allclose(np.asarray(out), ref, rtol=1e-5, atol=1e-5)


# -- statistics -----------------------------------------------------------------------------


@pytest.mark.parametrize("kw", [{}, {"ddof": 1}, {"axis": 1}, {"axis": 0, "keepdims": True}])
def test_nanvar_nanstd_where(kw):
    x = np.array([[1.0, np.nan, 3.0, 4.0], [2.0, 5.0, np.nan, 0.0]])
    w = np.array([[True, True, False, True], [True, True, True, False]])
    for name in ("nanvar", "nanstd"):
        np.testing.assert_allclose(np.asarray(getattr(fnp, name)(x, where=w, **kw)),
                                   getattr(np, name)(x, where=w, **kw), rtol=1e-14)
    g = np.asarray(ft.grad(lambda y: fnp.nansum(fnp.nanvar(y, where=w, **kw)))(x))
    assert np.all(g[~w | np.isnan(x)] == 0.0)
    t = np.where(np.isnan(x), 0.0, np.arange(1.0, 9.0).reshape(2, 4))
    fd = _fd(lambda y: np.nansum(np.nanvar(y, where=w, **kw)), x, t)
    np.testing.assert_allclose(np.sum(np.where(np.isnan(x), 0.0, g) * t), fd, rtol=1e-7)


@pytest.mark.parametrize("bad", [3.5, -1, "3", None])
def test_one_hot_num_classes_must_be_a_count(bad):
    # 3.5 was truncated to 3 and "3" parsed, silently; -1 gave an empty axis (JAX refuses all)
    with pytest.raises(TypeError, match="num_classes must be an integer >= 0"):
        fnn.one_hot(np.array([0, 1, 2]), bad)
    np.testing.assert_array_equal(np.asarray(fnn.one_hot(np.array([0, 2]), np.int64(3))),
                                  np.eye(3)[[0, 2]])


@pytest.mark.parametrize("name, scale", [("quantile", 1.0), ("percentile", 100.0),
                                         ("nanquantile", 1.0), ("nanpercentile", 100.0)])
def test_quantile_derivative_in_q_at_the_ends(name, scale):
    x = np.array([3.0, 1.0, 4.0, 1.5, 9.0])
    if name.startswith("nan"):
        x = np.concatenate([x, [np.nan]])
    f = lambda q: getattr(fnp, name)(x, q)        # noqa: E731
    g = lambda q: float(getattr(np, name)(x, q))  # noqa: E731
    h = 1e-6 * scale
    one_sided = {0.0: (g(h) - g(0.0)) / h, scale: (g(scale) - g(scale - h)) / h}
    for q, ref in one_sided.items():
        np.testing.assert_allclose(float(ft.grad(f)(q)), ref, rtol=1e-6)
    for q in (0.3 * scale, 0.9 * scale):
        np.testing.assert_allclose(float(ft.grad(f)(q)), (g(q + h) - g(q - h)) / (2 * h),
                                   rtol=1e-6)
    # the value at q = 1 is the largest entry, exactly; its derivative in x goes there
    assert float(f(scale)) == 9.0
    gx = np.asarray(ft.grad(lambda y: getattr(fnp, name)(y, scale))(x))
    np.testing.assert_array_equal(gx[:5], [0.0, 0.0, 0.0, 0.0, 1.0])


def test_quantile_q_derivative_float32_and_rows():
    x = np.array([[1.0, 2.0, 6.0], [0.0, -1.0, 4.0]], np.float32)
    out = fnp.quantile(x, 1.0, axis=1)
    assert np.asarray(out).dtype == np.float32
    np.testing.assert_array_equal(np.asarray(ft.jacobian(lambda q: fnp.quantile(x, q, axis=1))(
        np.float32(1.0))), np.array([8.0, 8.0], np.float32))
    xn = np.array([[1.0, np.nan], [2.0, 5.0]])
    np.testing.assert_array_equal(np.asarray(ft.jacobian(
        lambda q: fnp.nanquantile(xn, q, axis=1))(1.0)), [0.0, 3.0])


def test_permutation_of_an_int_checks_axis():
    # range(x) is 1-d: axis 1 was ignored silently (JAX: out of bounds)
    import functrans.random as fr
    np.testing.assert_array_equal(np.asarray(fr.permutation(fr.key(0), 5, -1)),
                                  np.asarray(fr.permutation(fr.key(0), 5)))
    with pytest.raises(ValueError, match="axis 1 is out of bounds"):
        fr.permutation(fr.key(0), 5, 1)


def test_logsumexp_where_excluded_entries_get_no_nan_derivative():
    # a nan kept entry makes the value nan; the excluded entries' derivative stays 0 (it was
    # 0 * nan through their zero weight; JAX gives 0)
    x = np.array([np.nan, 1.0, 2.0, 3.0])
    m = np.array([True, False, True, False])
    for f in (fnn.logsumexp, fnn.logmeanexp):
        g = np.asarray(ft.grad(lambda y: f(y, where=m))(x))
        assert np.isnan(g[0]) and np.isnan(g[2])
        np.testing.assert_array_equal(g[~m], 0.0)
