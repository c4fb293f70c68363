"""Session 40, random40: float16 and bfloat16 in every sampler of functrans.random.
truncated_normal, lognormal, pareto, rayleigh, wald, weibull_min, triangular,
double_sided_maxwell, multivariate_normal, orthogonal, binomial and multinomial took no half
types (TypeError); they now give the correctly rounded transforms of JAX's half uniforms
(the normal or exponential samples of those uniforms kept in float64, one rounding at the end;
JAX's round every step). maxwell's half samples are now the rounded norms of the float64
normals (JAX's bfloat16 values mostly are; s38/s39 took the rounded normals). One rounding
(functrans.random._round_once) also where torch's float64 -> float16 conversion rounded twice
(through float32): cauchy(key, dtype=float16) on torch was an ulp off at one of the 1024
uniforms. bfloat16 needs torch; NumPy and array-api-strict refuse it (and array-api-strict
float16) with the backend's message."""
import math

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
import functrans.random as fr

F16, BF16 = "float16", "bfloat16"
# significant bits, smallest normal frexp exponent, mantissa bits
_FMT = {F16: (11, -13, 10), BF16: (8, -125, 7)}


def _torch():
    return pytest.importorskip("torch")


def _mp():
    return pytest.importorskip("mpmath")


def _jr():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jax.config.update("jax_threefry_partitionable", True)
    import jax.random as jr
    return jr


def _key(dt, seed):
    """float16 on NumPy, bfloat16 on torch (the only library here that has it)."""
    k = fr.PRNGKey(seed)
    return _torch().asarray(np.asarray(k)) if dt == BF16 else k


def _half(v, dt):
    """A parameter's value as the half type ``dt`` (as JAX converts it), as a float."""
    if dt == F16:
        return float(np.float16(v))
    torch = _torch()
    return float(torch.tensor(v, dtype=torch.float64).float().bfloat16().double())


def _f(x):
    """Samples (NumPy or torch, any float dtype) as float64 NumPy values (exact)."""
    if hasattr(x, "detach"):
        return x.detach().double().numpy()
    return np.asarray(x).astype(np.float64)


def _mp_round(v, dt):
    """An mpmath value rounded once to ``dt`` (ties to even, subnormals), as a float."""
    mp = _mp()
    bits, emin, _ = _FMT[dt]
    if v == 0:
        return 0.0
    e = max(mp.frexp(v)[1], emin)
    return float(mp.ldexp(mp.nint(mp.ldexp(v, bits - e)), e - bits))


def _next(a, toward, dt):
    """The value of the half type ``dt`` next to ``a`` toward ``toward``."""
    if dt == F16:
        return float(np.nextafter(np.float16(a), np.float16(toward)))
    torch = _torch()
    t = torch.tensor([a, toward]).bfloat16()
    return float(torch.nextafter(t[:1], t[1:]).double())


def _uniforms(k, shape, dt, lo=0.0):
    return _f(fr.uniform(k, shape, dt, lo, 1.0))


def _normal_lo(dt):
    return -1.0 + 2.0 ** -(_FMT[dt][2] + 1)


# -- the transforms: every uniform's value rounded once ----------------------------------------
#
# Each transform in float64 (SciPy; ~1e-15 relative) rounded to the half type, and, where that
# value lies within 1e-9 of a tie of the half type (where float64 could round the wrong way),
# the transform to 40 digits (mpmath) rounded instead.


def _round64(x, dt):
    """float64 values rounded to ``dt`` (as floats) and whether each is beside a tie."""
    bits, emin, _ = _FMT[dt]
    e = np.maximum(np.frexp(x)[1], emin)
    scaled = np.ldexp(x, bits - e)
    near = np.abs(np.abs(scaled - np.floor(scaled)) - 0.5) < 1e-9 * 2.0 ** bits
    return np.ldexp(np.round(scaled), e - bits), near


def _rounded_truth(x64, truth_mp, dt):
    """``x64`` (float64 transforms) rounded once to ``dt``; beside a tie, ``truth_mp(i)`` (the
    i-th transform in mpmath) rounded instead."""
    want, near = _round64(np.asarray(x64, dtype=np.float64), dt)
    if near.any():
        mp = _mp()
        with mp.workdps(40):
            for i in np.flatnonzero(near):
                want.flat[i] = _mp_round(truth_mp(i), dt)
    return want


def _truths(dt):
    """name -> (call(key, n), the uniforms' lower bound, float64 truth(u), mpmath truth(u))."""
    mp = _mp()
    from scipy.special import erf, erfinv
    sig, b, sc, c = (_half(v, dt) for v in (0.7, 2.3, 1.3, 1.7))
    l_, m_, r_ = (_half(v, dt) for v in (-1.1, 0.3, 2.4))
    r2 = math.sqrt(2)

    def z(u):
        return mp.sqrt(2) * mp.erfinv(mp.mpf(u))

    def e(u):
        return -mp.log1p(-mp.mpf(u))

    def tn(lo, hi):
        lo, hi = _half(lo, dt), _half(hi, dt)

        def f64(u):
            a, bb = erf(lo / r2), erf(hi / r2)
            return r2 * erfinv(a + u * (bb - a))

        def mpf(u):
            a, bb = mp.erf(lo / mp.sqrt(2)), mp.erf(hi / mp.sqrt(2))
            return mp.sqrt(2) * mp.erfinv(a + mp.mpf(u) * (bb - a))
        return f64, mpf

    def tri64(u):
        return np.where(u < (m_ - l_) / (r_ - l_), l_ + np.sqrt(u * (r_ - l_) * (m_ - l_)),
                        r_ - np.sqrt((1 - u) * (r_ - l_) * (r_ - m_)))

    def tri(u):
        u = mp.mpf(u)
        if u < (m_ - l_) / mp.mpf(r_ - l_):
            return l_ + mp.sqrt(u * (r_ - l_) * (m_ - l_))
        return r_ - mp.sqrt((1 - u) * (r_ - l_) * (r_ - m_))

    return {
        "lognormal": (lambda k, n: fr.lognormal(k, 0.7, (n,), dt), _normal_lo(dt),
                      lambda u: np.exp(sig * r2 * erfinv(u)), lambda u: mp.exp(sig * z(u))),
        "pareto": (lambda k, n: fr.pareto(k, 2.3, (n,), dt), 0.0,
                   lambda u: np.exp(-np.log1p(-u) / b), lambda u: mp.exp(e(u) / b)),
        "rayleigh": (lambda k, n: fr.rayleigh(k, 1.3, (n,), dt), 0.0,
                     lambda u: sc * np.sqrt(-2 * np.log1p(-u)),
                     lambda u: sc * mp.sqrt(2 * e(u))),
        "weibull_min": (lambda k, n: fr.weibull_min(k, 1.3, 1.7, (n,), dt), 0.0,
                        lambda u: (-np.log1p(-u)) ** (1 / c) * sc,
                        lambda u: e(u) ** (1 / mp.mpf(c)) * sc),
        "truncated_normal": (lambda k, n: fr.truncated_normal(k, -0.6, 2.2, (n,), dt), 0.0,
                             *tn(-0.6, 2.2)),
        # a tail (ndtr's form) beyond 0, and one beyond 0 on the left
        "truncated_normal_right": (lambda k, n: fr.truncated_normal(k, 1.5, 4.0, (n,), dt),
                                   0.0, *tn(1.5, 4.0)),
        "truncated_normal_left": (lambda k, n: fr.truncated_normal(k, -3.0, -0.25, (n,), dt),
                                  0.0, *tn(-3.0, -0.25)),
        "triangular": (lambda k, n: fr.triangular(k, -1.1, 0.3, 2.4, (n,), dt), 0.0, tri64,
                       tri),
    }


_TN_BOUNDS = {"truncated_normal": (-0.6, 2.2), "truncated_normal_right": (1.5, 4.0),
              "truncated_normal_left": (-3.0, -0.25)}


@pytest.mark.parametrize("dt", [F16, BF16])
@pytest.mark.parametrize("name", list(_TN_BOUNDS) + ["lognormal", "pareto", "rayleigh",
                                                     "weibull_min", "triangular"])
def test_half_samples_are_correctly_rounded_transforms(name, dt):
    """Each sample is its uniform's transform (the parameters as the half type) rounded once;
    truncated_normal's are then kept inside the open interval, as JAX's."""
    call, lo, truth64, truth_mp = _truths(dt)[name]
    n = 6000 if dt == F16 else 1000
    k = _key(dt, 9)
    u = _uniforms(k, (n,), dt, lo)
    got = _f(call(k, n))
    uu = np.unique(u)
    assert len(uu) > (900 if dt == F16 else 125)  # (nearly every uniform drawn)
    table = dict(zip(uu, _rounded_truth(truth64(uu), lambda i: truth_mp(uu[i]), dt)))
    want = np.array([table[v] for v in u])
    if name in _TN_BOUNDS:
        a, b = (_half(v, dt) for v in _TN_BOUNDS[name])
        want = np.clip(want, _next(a, b, dt), _next(b, a, dt))
        assert np.all((got > a) & (got < b))
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dt", [F16, BF16])
def test_half_wald_maxwell_double_sided_maxwell_are_correctly_rounded(dt):
    """The samplers of several uniforms: wald (a normal and a uniform: Michael, Schucany and
    Haas's root and choice, exactly), maxwell (three normals), double_sided_maxwell (a
    maxwell and a sign), each rounded once."""
    from scipy.special import erfinv
    mp = _mp()
    n = 2000
    k = _key(dt, 4)
    ks = fr.split(k)
    k0, k1 = ks[0], ks[1]
    mu, loc, scale = _half(1.6, dt), _half(0.4, dt), _half(1.9, dt)
    lo = _normal_lo(dt)

    def z(u):
        return mp.sqrt(2) * mp.erfinv(mp.mpf(u))

    un, uw = _uniforms(k0, (n,), dt, lo), _uniforms(k1, (n,), dt)
    y = 2 * erfinv(un) ** 2
    x = mu / (1 + mu * y / 2 + np.sqrt(mu * y + (mu * y) ** 2 / 4))
    pick = uw <= mu / (mu + x)

    def wald(i):
        m, yy = mp.mpf(mu), z(un[i]) ** 2
        xx = m + m ** 2 * yy / 2 - m / 2 * mp.sqrt(4 * m * yy + m ** 2 * yy ** 2)
        assert (mp.mpf(uw[i]) <= m / (m + xx)) == pick[i]  # (the same choice)
        return xx if pick[i] else m ** 2 / xx
    want = _rounded_truth(np.where(pick, x, mu ** 2 / x), wald, dt)
    np.testing.assert_array_equal(_f(fr.wald(k, 1.6, (n,), dt)), want)
    for kk, name in ((k, "maxwell"), (k0, "double_sided_maxwell")):
        u3 = _uniforms(kk, (n, 3), dt, lo)
        norm = np.sqrt(2 * (erfinv(u3) ** 2).sum(-1))
        s = _f(fr.rademacher(k1, (n,))) if name != "maxwell" else np.ones(n)
        a, b = (loc, scale) if name != "maxwell" else (0.0, 1.0)

        def exact(i):
            return a + b * s[i] * mp.sqrt(sum(z(v) ** 2 for v in u3[i]))
        want = _rounded_truth(a + b * s * norm, exact, dt)
        got = fr.maxwell(k, (n,), dt) if name == "maxwell" else \
            fr.double_sided_maxwell(k, 0.4, 1.9, (n,), dt)
        np.testing.assert_array_equal(_f(got), want, err_msg=name)


def test_float16_on_torch_rounds_once():
    """torch's float64 -> float16 goes through float32: 1 + 2**-11 + 2**-40 (above a float16
    tie) gave 1. cauchy's float16 samples on torch are NumPy's (one was an ulp off: u =
    0.026336669921875, tan(pi (u - 1/2)) = -12.0585935144..., 2.3e-9 inside the tie)."""
    torch = _torch()
    from functrans.random import _round_once
    x = torch.tensor([1 + 2.0 ** -11 + 2.0 ** -40, -12.058593514488292], dtype=torch.float64)
    np.testing.assert_array_equal(_round_once(x, ft.dtypes.float16).numpy(),
                                  np.float16([1 + 2.0 ** -10, -12.0546875]))
    k = fr.PRNGKey(3)
    u = _uniforms(k, (20000,), F16, 2.0 ** -10)
    assert 0.026336669921875 in u
    for name in ("cauchy", "normal", "gumbel", "logistic", "maxwell", "lognormal"):
        args = (1.0,) if name == "lognormal" else ()
        np.testing.assert_array_equal(
            getattr(fr, name)(_key(BF16, 3), *args, (20000,), F16).numpy(),
            np.asarray(getattr(fr, name)(k, *args, (20000,), F16)), err_msg=name)


@pytest.mark.parametrize("dt", [F16, BF16])
def test_round_once_edges(dt):
    """Ties to even, subnormals (their quantum), overflow to inf (a value at or above the
    largest finite + half an ulp), inf, nan, signed zero; the identity's derivative. NumPy's
    float64 -> float16 conversion (correctly rounded) is the float16 reference."""
    from functrans.random import _round_once
    d = getattr(ft.dtypes, dt)
    bits, emin, _ = _FMT[dt]
    q = 2.0 ** (emin - bits)  # the subnormals' quantum
    top = float(np.finfo(np.float16).max) if dt == F16 else (2 - 2.0 ** -7) * 2.0 ** 127
    half_ulp = 2.0 ** (math.frexp(top)[1] - bits - 1)
    x = np.array([q / 2, q * 1.5, q * 2.5, q * 2.5 + q * 2.0 ** -30, q * 0.75, -q / 2,
                  top + half_ulp * (1 - 2.0 ** -20), top + half_ulp, math.inf, -math.inf,
                  math.nan, -0.0, 1 + 2.0 ** -bits + 2.0 ** -40, 2.0 ** (emin - 1) * 1.3])
    want = [0.0, 2 * q, 2 * q, 3 * q, q, -0.0, top, math.inf, math.inf, -math.inf, math.nan,
            -0.0, 1 + 2.0 ** (1 - bits), _mp_round(_mp().mpf(2.0 ** (emin - 1) * 1.3), dt)]
    if dt == F16:
        np.testing.assert_array_equal(np.float16(want), x.astype(np.float16))  # (reference)
        got = _f(_round_once(x, d))
    else:
        torch = _torch()
        got = _f(_round_once(torch.asarray(x), d))
    np.testing.assert_array_equal(got, want)
    assert np.signbit(got[11]) and np.signbit(got[5])
    v = np.array([1.3, -7.1, 1e-30])  # (rounds to 0 in float16: the derivative is still 1)
    if dt == BF16:
        v = _torch().asarray(v)
    g = ft.grad(lambda v: fnp.sum(fnp.astype(_round_once(v, d), fnp.float64) * 3.0))(v)
    np.testing.assert_array_equal(_f(g), [3.0, 3.0, 3.0])


@pytest.mark.parametrize("dt", [F16, BF16])
def test_half_samples_stay_in_the_support(dt):
    """Every uniform (the ends included): no nan, no inf, no sample outside the support
    (JAX's rayleigh gives inf where its uniform is 0: 1 in 1024 float16 draws, 1 in 128
    bfloat16 ones; functrans's takes 1 - u, as in float32 and float64)."""
    n = 20000 if dt == F16 else 3000
    k = _key(dt, 1)
    checks = {
        "lognormal": (fr.lognormal(k, 0.5, (n,), dt), lambda x: x > 0),
        "pareto": (fr.pareto(k, 3.0, (n,), dt), lambda x: x >= 1),
        "rayleigh": (fr.rayleigh(k, 2.0, (n,), dt), lambda x: x >= 0),
        "weibull_min": (fr.weibull_min(k, 2.0, 0.8, (n,), dt), lambda x: x >= 0),
        "wald": (fr.wald(k, 2.0, (n,), dt), lambda x: x > 0),
        "triangular": (fr.triangular(k, 1.0, 1.5, 4.0, (n,), dt),
                       lambda x: (x >= 1) & (x <= 4)),
        "truncated_normal": (fr.truncated_normal(k, 0.5, 0.75, (n,), dt),
                             lambda x: (x > 0.5) & (x < 0.75)),
        "far_tail": (fr.truncated_normal(k, 40.0, math.inf, (n,), dt), lambda x: x > 40),
        "maxwell": (fr.maxwell(k, (n,), dt), lambda x: x > 0),
    }
    for name, (x, ok) in checks.items():
        v = _f(x)
        assert str(x.dtype).endswith(dt), name
        assert np.all(np.isfinite(v)) and np.all(ok(v)), name


@pytest.mark.parametrize("dt", [F16, BF16])
def test_half_derivatives_in_the_parameters(dt):
    """The derivative of the float64 transform, cast to the parameter's half type: pareto's
    -E/b^2 exp(E/b), lognormal's z exp(sigma z), truncated_normal's (1 - u) phi(a)/phi(x) and
    u phi(b)/phi(x) (an ulp: bfloat16's cotangent conversion on torch rounds twice)."""
    from scipy.special import erf, erfinv
    k = _key(dt, 6)
    n = 64
    tol = 2.0 ** -_FMT[dt][2]
    if dt == F16:
        b0, s0 = np.full(n, 2.3, np.float16), np.full(n, 0.7, np.float16)
        lo0, hi0 = np.float16([-0.6]), np.float16([2.2])
    else:
        torch = _torch()
        b0, s0 = (torch.full((n,), v).bfloat16() for v in (2.3, 0.7))
        lo0, hi0 = torch.tensor([-0.6]).bfloat16(), torch.tensor([2.2]).bfloat16()
    e = -np.log1p(-_uniforms(k, (n,), dt))
    b = _f(b0)
    g = ft.grad(lambda b: fnp.sum(fnp.astype(fr.pareto(k, b, (n,), dt), fnp.float64)))(b0)
    assert str(g.dtype).endswith(dt)
    np.testing.assert_allclose(_f(g), -e / b ** 2 * np.exp(e / b), rtol=tol)
    z = erfinv(_uniforms(k, (n,), dt, _normal_lo(dt))) * np.sqrt(2)
    s = _f(s0)
    g = ft.grad(lambda s: fnp.sum(fnp.astype(fr.lognormal(k, s, (n,), dt), fnp.float64)))(s0)
    np.testing.assert_allclose(_f(g), z * np.exp(s * z), rtol=tol)
    u = _uniforms(k, (n,), dt)
    a, bb = _f(lo0)[0], _f(hi0)[0]
    fa, fb = erf(a / np.sqrt(2)), erf(bb / np.sqrt(2))
    x = erfinv(fa + u * (fb - fa)) * np.sqrt(2)

    def phi(v):
        return np.exp(-v * v / 2)
    ga, gb = ft.grad(lambda lo, hi: fnp.sum(fnp.astype(fr.truncated_normal(k, lo, hi, (n,), dt),
                                                       fnp.float64)), argnums=(0, 1))(lo0, hi0)
    inside = (x > a) & (x < bb)  # (u = 0 is clipped: no derivative there)
    np.testing.assert_allclose(_f(ga)[0], np.sum(((1 - u) * phi(a) / phi(x))[inside]),
                               rtol=tol)
    np.testing.assert_allclose(_f(gb)[0], np.sum((u * phi(bb) / phi(x))[inside]), rtol=tol)


_CALLS = {
    "truncated_normal": lambda k, dt: fr.truncated_normal(k, -0.6, 2.2, (5,), dt),
    "lognormal": lambda k, dt: fr.lognormal(k, 0.7, (5,), dt),
    "pareto": lambda k, dt: fr.pareto(k, 2.3, (5,), dt),
    "rayleigh": lambda k, dt: fr.rayleigh(k, 1.3, (5,), dt),
    "wald": lambda k, dt: fr.wald(k, 1.6, (5,), dt),
    "weibull_min": lambda k, dt: fr.weibull_min(k, 1.3, 1.7, (5,), dt),
    "triangular": lambda k, dt: fr.triangular(k, -1.0, 0.3, 2.0, (5,), dt),
    "double_sided_maxwell": lambda k, dt: fr.double_sided_maxwell(k, 0.4, 1.9, (5,), dt),
    "maxwell": lambda k, dt: fr.maxwell(k, (5,), dt),
    "multivariate_normal": lambda k, dt: fr.multivariate_normal(
        k, [0.5, -1.0], [[2.0, 0.5], [0.5, 1.0]], (5,), dt),
    "orthogonal": lambda k, dt: fr.orthogonal(k, 3, (2,), dt),
    "binomial": lambda k, dt: fr.binomial(k, 30.0, 0.3, (5,), dt),
    "multinomial": lambda k, dt: fr.multinomial(k, 30.0, [0.2, 0.3, 0.5], shape=(5, 3),
                                                dtype=dt),
    "rademacher": lambda k, dt: fr.rademacher(k, (5,), dt),
}


@pytest.mark.parametrize("dt", [F16, BF16])
def test_half_samplers_under_jit_and_vmap(dt):
    k = _key(dt, 2)
    keys = fr.split(k, 2)
    for name, call in _CALLS.items():
        eager = call(k, dt)
        assert str(eager.dtype).endswith(dt), name
        np.testing.assert_array_equal(_f(ft.jit(lambda kk: call(kk, dt))(k)), _f(eager),
                                      err_msg=name)
        v = ft.vmap(lambda kk: call(kk, dt))(keys)
        np.testing.assert_array_equal(_f(v[1]), _f(call(keys[1], dt)), err_msg=name)


def _has_ml_dtypes():
    import importlib.util
    return importlib.util.find_spec("ml_dtypes") is not None


def test_half_samplers_need_a_library_that_has_the_type(backend):
    k = backend.asarray(np.asarray(fr.PRNGKey(0)), dtype="uint32")
    if backend.name == "torch" or backend.name == "numpy" and _has_ml_dtypes():
        # (session 50: NumPy's bfloat16 is ml_dtypes', where that is installed)
        for name, call in _CALLS.items():
            assert str(call(k, BF16).dtype).replace("torch.", "") == "bfloat16", name
        return
    for dt in ((BF16,) if backend.name == "numpy" else (F16, BF16)):
        match = ("NumPy has no bfloat16.*ml_dtypes" if backend.name == "numpy"
                 else f"has no dtype {dt}")
        for name, call in _CALLS.items():
            with pytest.raises(TypeError, match=match):
                call(k, dt)


def test_half_linear_algebra_samples_are_float64_ones_rounded():
    """multivariate_normal and orthogonal (JAX has no half-precision factorisations): the
    float64 sample of the half uniforms' normals, the parameters as float16, rounded once."""
    from scipy.special import erfinv
    k = fr.PRNGKey(8)
    mean = np.float16([0.3, -1.7])
    cov = np.float16([[2.1, 0.6], [0.6, 0.9]])
    z = erfinv(_uniforms(k, (40, 2), F16, _normal_lo(F16))) * np.sqrt(2)
    want = mean.astype(float) + z @ np.linalg.cholesky(cov.astype(float)).T
    got = np.asarray(fr.multivariate_normal(k, mean, cov, (40,), F16))
    assert got.dtype == np.float16
    np.testing.assert_array_equal(got, want.astype(np.float16))
    q = np.asarray(fr.orthogonal(k, 4, (3,), F16)).astype(float)
    eye = np.broadcast_to(np.eye(4), (3, 4, 4))
    np.testing.assert_allclose(np.swapaxes(q, -1, -2) @ q, eye, atol=4 * 2.0 ** -11)
    # the mean's derivative: one per sample, in float16
    g = ft.grad(lambda m: fnp.sum(fnp.astype(fr.multivariate_normal(k, m, cov, (40,), F16),
                                             fnp.float64)))(mean)
    assert g.dtype == np.float16
    np.testing.assert_array_equal(g, [40.0, 40.0])


def test_half_counts_are_float64_counts_rounded():
    """binomial and multinomial: the counts of the float64 draw (the same key) rounded once
    (float16 holds integers to 2048: beyond, to even)."""
    k = fr.PRNGKey(5)
    c64 = np.asarray(fr.binomial(k, 5000.0, 0.6, (300,)))
    assert c64.max() > 2048
    np.testing.assert_array_equal(fr.binomial(k, 5000.0, 0.6, (300,), F16),
                                  c64.astype(np.float16))
    m64 = np.asarray(fr.multinomial(k, 9000.0, [0.5, 0.5], shape=(20, 2)))
    np.testing.assert_array_equal(fr.multinomial(k, 9000.0, [0.5, 0.5], shape=(20, 2),
                                                 dtype=F16), m64.astype(np.float16))
    t64 = fr.binomial(_key(BF16, 5), 5000.0, 0.6, (300,))
    np.testing.assert_array_equal(
        _f(fr.binomial(_key(BF16, 5), 5000.0, 0.6, (300,), BF16)),
        [_mp_round(_mp().mpf(v), BF16) for v in _f(t64)])


def test_float32_and_float64_samples_unchanged():
    """The full-precision paths are the ones before (their formulas on the same draws)."""
    k = fr.PRNGKey(12)
    for d in ("float32", "float64"):
        z = np.asarray(fr.normal(k, (50,), d))
        e = np.asarray(fr.exponential(k, (50,), d))
        np.testing.assert_array_equal(fr.lognormal(k, 0.7, (50,), d),
                                      np.exp(np.asarray(0.7, d) * z))
        np.testing.assert_array_equal(fr.pareto(k, 2.5, (50,), d),
                                      np.exp(e / np.asarray(2.5, d)))
        m = np.asarray(fr.normal(k, (50, 3), d))
        np.testing.assert_array_equal(fr.maxwell(k, (50,), d), np.sqrt((m * m).sum(-1)))
        assert fr.truncated_normal(k, -1.0, 1.0, (50,), d).dtype == d


# -- against JAX -------------------------------------------------------------------------------


@pytest.mark.parametrize("dt", [F16, BF16])
def test_half_samples_vs_jax(dt):
    """Where JAX's values differ (it rounds every step to the half type: its erf of the bounds,
    its products), ours are at least as near the true transform; most of lognormal's and
    pareto's are JAX's bits."""
    jr = _jr()
    import jax.numpy as jnp
    jdt = getattr(jnp, dt)
    n = 1000
    k, jk = _key(dt, 5), jr.PRNGKey(5)
    truths = _truths(dt)
    for name, args in (("lognormal", (0.7,)), ("pareto", (2.3,)),
                       ("truncated_normal", (-0.6, 2.2)), ("triangular", (-1.1, 0.3, 2.4))):
        call, lo, truth64, _ = truths[name]
        ours = _f(call(k, n))
        theirs = np.asarray(getattr(jr, name)(jk, *args, (n,), jdt)).astype(np.float64)
        ref = truth64(_uniforms(k, (n,), dt, lo))
        assert np.all(np.abs(ours - ref) <= np.abs(theirs - ref)), name
        if name in ("lognormal", "pareto"):
            assert np.mean(ours == theirs) > 0.7, name
    # maxwell: the rounded norm of unrounded normals (JAX's bfloat16 values are, 70% to 98%
    # of them, depending on the size of the draw: XLA's own roundings vary)
    from scipy.special import erfinv
    ref = np.sqrt(2 * (erfinv(_uniforms(k, (n, 3), dt, _normal_lo(dt))) ** 2).sum(-1))
    theirs = np.asarray(jr.maxwell(jk, (n,), jdt)).astype(np.float64)
    assert np.all(np.abs(_f(fr.maxwell(k, (n,), dt)) - ref) <= np.abs(theirs - ref))
    # uniform between bounds: JAX's bits (bfloat16: the product and the sum rounded each;
    # float16: one float32 multiply-add, then float16)
    for lo, hi in ((-4.65625, 6.619), (0.3, 0.9), (1.1, 7.7)):
        ours = _f(fr.uniform(k, (n,), dt, lo, hi))
        theirs = np.asarray(jr.uniform(jk, (n,), jdt, lo, hi)).astype(np.float64)
        if dt == F16 and not np.array_equal(ours, theirs):
            # (XLA fuses float16's multiply-add into one float32 FMA on some CPUs (the bits
            # above) and rounds the product and the sum to float16 each on others: seen on an
            # AMD EPYC in session 50. Ours stay the fused ones; JAX's there the twice-rounded)
            u = np.asarray(fr.uniform(k, (n,), dt))
            lo_h = np.float16(lo)
            w = np.float16(np.float16(hi) - lo_h)
            fused = np.float16(np.float32(u.astype(np.float64) * float(w) + float(lo_h)))
            np.testing.assert_array_equal(ours, fused.astype(np.float64))
            np.testing.assert_array_equal(theirs, (u * w + lo_h).astype(np.float64))
            continue
        np.testing.assert_array_equal(ours, theirs)
