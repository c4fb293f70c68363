"""Session 39, random39: half-precision samples in functrans.random. bfloat16 (on torch;
NumPy and array-api-strict have none: a clear error) from JAX's 8-bit random words: uniform,
exponential, laplace, bernoulli, categorical and choice give JAX's bits; normal, gumbel,
logistic, cauchy, maxwell the correctly rounded transforms of the same uniforms (JAX's round
every operation to bfloat16), geometric floor(log u / log1p(-p)) + 1 exactly. The rejection
samplers (gamma, loggamma, beta, dirichlet, chisquare, t, f, generalized_normal, ball) take
float16 and bfloat16 as JAX's do: drawn in float32 and rounded once (were TypeError)."""
import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
import functrans.random as fr

TINY, EPS = 2.0 ** -126, 2.0 ** -7  # bfloat16's smallest normal and epsilon


def _torch():
    return pytest.importorskip("torch")


def _jr():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jax.config.update("jax_threefry_partitionable", True)
    import jax.random as jr
    return jr


def _has_ml_dtypes():
    import importlib.util
    return importlib.util.find_spec("ml_dtypes") is not None


def _tkey(seed):
    torch = _torch()
    return torch.asarray(np.asarray(fr.PRNGKey(seed)))


def _f(x):
    """A bfloat16 tensor (or anything else) as float64 NumPy values (exact)."""
    if hasattr(x, "float") and str(getattr(x, "dtype", "")) == "torch.bfloat16":
        x = x.float()
    return np.asarray(x).astype(np.float64)


def _u_bf16(seed, shape):
    """JAX's bfloat16 uniforms: the top 7 of 8 random bits (the low byte of each word)."""
    b = np.asarray(fr.bits(fr.PRNGKey(seed), shape, "uint8")).astype(np.int64)
    return (b >> 1) * 2.0 ** -7


def _bf16_round(v):
    """An mpmath value rounded to bfloat16 (8 significant bits, ties to even) as a float."""
    import mpmath
    if v == 0:
        return 0.0
    m, e = mpmath.frexp(v)
    return float(mpmath.ldexp(mpmath.nint(m * 256), e - 8))


def _mp_truths():
    mpmath = pytest.importorskip("mpmath")
    return {"normal": (-1 + 2.0 ** -8, lambda u: mpmath.sqrt(2) * mpmath.erfinv(u)),
            "gumbel": (TINY, lambda u: -mpmath.log(-mpmath.log(u))),
            "logistic": (TINY, lambda u: mpmath.log(u) - mpmath.log1p(-u)),
            "cauchy": (EPS, lambda u: mpmath.tan(mpmath.pi * (u - mpmath.mpf(0.5)))),
            "exponential": (0.0, lambda u: -mpmath.log1p(-u)),
            "laplace": (-1 + EPS / 2,
                        lambda u: mpmath.sign(u) * mpmath.log1p(-abs(u)))}


# -- bfloat16: which libraries ----------------------------------------------------------------


def test_bfloat16_needs_a_library_that_has_it(backend):
    k = backend.asarray(np.asarray(fr.PRNGKey(0)), dtype="uint32")
    if backend.name == "torch":
        assert str(fr.uniform(k, (2,), "bfloat16").dtype) == "torch.bfloat16"
        assert str(fr.gamma(k, 2.0, (2,), "bfloat16").dtype) == "torch.bfloat16"
        return
    if backend.name == "numpy" and _has_ml_dtypes():
        # (session 50: NumPy's bfloat16 is ml_dtypes', where that is installed; the uniforms
        # are JAX's, the others rounded as on torch)
        np.testing.assert_array_equal(_f(fr.uniform(k, (64,), "bfloat16")), _u_bf16(0, (64,)))
        assert fr.gamma(k, 2.0, (2,), "bfloat16").dtype == fnp.bfloat16
        return
    match = ("NumPy has no bfloat16.*ml_dtypes" if backend.name == "numpy"
             else "has no dtype bfloat16")
    for call in (lambda: fr.uniform(k, (2,), "bfloat16"), lambda: fr.normal(k, (2,), "bfloat16"),
                 lambda: fr.exponential(k, (2,), "bfloat16"),
                 lambda: fr.gamma(k, 2.0, (2,), dtype="bfloat16")):
        with pytest.raises(TypeError, match=match):
            call()


def test_samplers_without_half_samples_say_which_have_them():
    # (random40: every sampler draws float16 and bfloat16; NumPy's bfloat16 is ml_dtypes')
    if _has_ml_dtypes():
        assert fr.truncated_normal(fr.PRNGKey(0), -1.0, 1.0, (2,), "bfloat16").dtype == \
            fnp.bfloat16
    else:
        with pytest.raises(TypeError, match="NumPy has no bfloat16.*ml_dtypes"):
            fr.truncated_normal(fr.PRNGKey(0), -1.0, 1.0, (2,), "bfloat16")
    assert fr.lognormal(fr.PRNGKey(0), 1.0, (2,), "float16").dtype == np.float16


# -- bfloat16 uniforms: JAX's bits ------------------------------------------------------------


def test_bfloat16_uniforms_are_jaxs_formula():
    torch = _torch()
    u = _u_bf16(4, (3000,))
    got = fr.uniform(_tkey(4), (3000,), "bfloat16")
    assert got.dtype == torch.bfloat16
    np.testing.assert_array_equal(_f(got), u)
    # with bounds: XLA's float32 multiply-add (exact here in float64), then bfloat16
    lo, hi = torch.tensor(-2.7).bfloat16(), torch.tensor(5.3).bfloat16()
    w = float((hi.float() - lo.float()).bfloat16())
    want = torch.tensor(u * w + float(lo)).float().bfloat16()
    want = np.maximum(_f(want), float(lo))
    np.testing.assert_array_equal(_f(fr.uniform(_tkey(4), (3000,), "bfloat16", -2.7, 5.3)), want)
    np.testing.assert_array_equal(
        _f(fr.uniform(_tkey(4), (3000,), "bfloat16", lo.reshape(1), hi)), want)


def test_bfloat16_derivatives_in_the_bounds():
    torch = _torch()
    lo, hi = torch.tensor([-1.0, -2.0]).bfloat16(), torch.tensor(3.0).bfloat16()
    g = ft.grad(lambda a: fnp.sum(fr.uniform(_tkey(0), (2,), "bfloat16", a, hi)))(lo)
    assert g.dtype == torch.bfloat16
    np.testing.assert_array_equal(_f(g), 1 - _u_bf16(0, (2,)))


# -- bfloat16 transforms: correctly rounded ---------------------------------------------------


@pytest.mark.parametrize("name", ["normal", "gumbel", "logistic", "cauchy", "exponential",
                                  "laplace"])
def test_bfloat16_samples_are_correctly_rounded_transforms(name):
    """Every one of the 128 uniforms' transforms (to 40 digits) rounded once to bfloat16.
    JAX's, rounded at every step, miss ~30-45% of them (gumbel by up to 2**-5 beside 0);
    torch's float64 -> bfloat16 conversion rounds twice (through float32)."""
    import mpmath
    lo, truth = _mp_truths()[name]
    u = _f(fr.uniform(_tkey(9), (3000,), "bfloat16", lo, 1.0))
    got = _f(getattr(fr, name)(_tkey(9), (3000,), "bfloat16"))
    assert len(np.unique(u)) == 128  # (every uniform drawn)
    with mpmath.workdps(40):
        table = {v: _bf16_round(truth(mpmath.mpf(v))) for v in np.unique(u)}
    np.testing.assert_array_equal(got, [table[v] for v in u])


def test_bfloat16_round_once_beside_a_tie():
    """1 + 2**-8 (a bfloat16 tie) + 2**-30: rounds up (torch's conversion gave 1)."""
    torch = _torch()
    from functrans.random import _round_once  # (random40: was _round_to_bfloat16)
    x = torch.tensor([1 + 2.0 ** -8 + 2.0 ** -30, 1 + 2.0 ** -8 - 2.0 ** -30, 1 + 2.0 ** -8,
                      1 + 3 * 2.0 ** -8, -(1 + 2.0 ** -8 + 2.0 ** -30)], dtype=torch.float64)
    np.testing.assert_array_equal(_f(_round_once(x, ft.dtypes.bfloat16)),
                                  [1 + EPS, 1.0, 1.0, 1 + 2 * EPS, -(1 + EPS)])


def test_bfloat16_maxwell_is_the_rounded_norm_of_its_normals():
    # (random40: of the float64 normals of its uniforms, as JAX's mostly are; s39 took the
    # rounded bfloat16 normals)
    from scipy.special import erfinv
    z = erfinv(_f(fr.uniform(_tkey(2), (500, 3), "bfloat16", -1 + 2.0 ** -8, 1.0)))
    z *= np.sqrt(2.0)
    got = fr.maxwell(_tkey(2), (500,), "bfloat16")
    want = np.sqrt((z * z).sum(-1))
    m, e = np.frexp(want)
    np.testing.assert_array_equal(_f(got), np.ldexp(np.round(np.ldexp(m, 8)), e - 8))


def test_bfloat16_probabilities_draw_bfloat16_uniforms():
    torch = _torch()
    p = torch.tensor([0.3, 0.01, 0.7, 0.999]).bfloat16()
    u = _u_bf16(6, (500, 4))
    np.testing.assert_array_equal(fr.bernoulli(_tkey(6), p, (500, 4)).numpy(), u < _f(p))
    # geometric: floor(log u / log1p(-p)) + 1 (a u of 0 taken as 1), exactly
    uu = np.where(u == 0, 1, u)
    want = np.floor(np.log(uu) / np.log1p(-_f(p))) + 1
    np.testing.assert_array_equal(fr.geometric(_tkey(6), p, (500, 4)).numpy(), want)


def test_bfloat16_jit_and_vmap():
    torch = _torch()
    k = _tkey(3)
    for name in ("uniform", "normal", "gumbel", "cauchy"):
        eager = getattr(fr, name)(k, (40,), "bfloat16")
        staged = ft.jit(lambda kk: getattr(fr, name)(kk, (40,), "bfloat16"))(k)
        assert torch.equal(staged, eager), name
    v = ft.vmap(lambda kk: fr.normal(kk, (3,), "bfloat16"))(fr.split(k, 2))
    assert v.dtype == torch.bfloat16 and tuple(v.shape) == (2, 3)
    assert torch.equal(v[1], fr.normal(fr.split(k, 2)[1], (3,), "bfloat16"))


def test_bfloat16_vs_jax():
    torch = _torch()
    jr = _jr()
    import jax.numpy as jnp
    import mpmath
    for s in (1,):
        k, jk = _tkey(s), jr.PRNGKey(s)
        for name in ("uniform", "exponential", "laplace"):  # JAX's bits
            np.testing.assert_array_equal(_f(getattr(fr, name)(k, (2000,), "bfloat16")),
                                          _f(getattr(jr, name)(jk, (2000,), jnp.bfloat16)))
        np.testing.assert_array_equal(
            _f(fr.uniform(k, (2000,), "bfloat16", -2.7, 5.3)),
            _f(jr.uniform(jk, (2000,), jnp.bfloat16, -2.7, 5.3)))
        p = np.array([0.3, 0.01, 0.7, 0.999, 0.5])
        np.testing.assert_array_equal(
            fr.bernoulli(k, torch.tensor(p).bfloat16(), (400, 5)).numpy(),
            jr.bernoulli(jk, jnp.asarray(p, jnp.bfloat16), (400, 5)))
        lg = np.random.default_rng(s).normal(size=(60, 6))
        np.testing.assert_array_equal(
            fr.categorical(k, torch.tensor(lg).bfloat16()).numpy(),
            jr.categorical(jk, jnp.asarray(lg, jnp.bfloat16)))
        pc = np.array([0.1, 0.2, 0.3, 0.4])
        np.testing.assert_array_equal(
            fr.choice(k, 4, (500,), p=torch.tensor(pc).bfloat16()).numpy(),
            jr.choice(jk, 4, (500,), p=jnp.asarray(pc, jnp.bfloat16)))
        # the transforms: where JAX's differ, ours are the nearer to the true value
        for name, (lo, truth) in _mp_truths().items():
            u = _f(fr.uniform(k, (2000,), "bfloat16", lo, 1.0))
            ours = _f(getattr(fr, name)(k, (2000,), "bfloat16"))
            theirs = _f(getattr(jr, name)(jk, (2000,), jnp.bfloat16))
            with mpmath.workdps(30):
                table = {v: float(truth(mpmath.mpf(v))) for v in np.unique(u)}
            ref = np.array([table[v] for v in u])
            assert np.all(np.abs(ours - ref) <= np.abs(theirs - ref)), name


# -- float16 and bfloat16 in the rejection samplers ------------------------------------------

_REJECTION = [("gamma", (0.7,)), ("loggamma", (2.0,)), ("beta", (2.0, 0.5)),
              ("chisquare", (3.0,)), ("t", (4.0,)), ("f", (3.0, 7.0)),
              ("generalized_normal", (1.5,))]


@pytest.mark.parametrize("name, args", _REJECTION)
def test_half_rejection_samples_are_float32_samples_rounded(name, args):
    k = fr.PRNGKey(5)
    f32 = np.asarray(getattr(fr, name)(k, *args, (300,), dtype="float32"))
    got = getattr(fr, name)(k, *args, (300,), "float16")  # (dtype positional too)
    assert got.dtype == np.float16
    np.testing.assert_array_equal(got, f32.astype(np.float16))
    np.testing.assert_array_equal(getattr(fr, name)(k, *args, shape=(300,), dtype=np.float16),
                                  f32.astype(np.float16))


def test_half_rejection_samples_on_torch_and_vector_ones():
    torch = _torch()
    k = _tkey(5)
    g32 = fr.gamma(k, 2.0, (300,), "float32")
    assert torch.equal(fr.gamma(k, 2.0, (300,), "bfloat16"), g32.bfloat16())
    assert torch.equal(fr.gamma(k, 2.0, (300,), "float16"), g32.half())
    alpha = np.float16([0.5, 1.0, 3.0])
    d = fr.dirichlet(fr.PRNGKey(1), alpha, (50,), "float16")
    assert d.dtype == np.float16 and d.shape == (50, 3)
    np.testing.assert_array_equal(d, np.asarray(fr.dirichlet(fr.PRNGKey(1), alpha, (50,),
                                                             "float32")).astype(np.float16))
    b = fr.ball(fr.PRNGKey(1), 3, shape=(20,), dtype="float16")
    np.testing.assert_array_equal(b, np.asarray(fr.ball(fr.PRNGKey(1), 3, shape=(20,),
                                                        dtype="float32")).astype(np.float16))


def test_half_gamma_derivative_and_jit():
    k = fr.PRNGKey(3)
    a = np.float16([0.5, 2.0, 9.0])
    g = ft.grad(lambda a: fnp.sum(fr.gamma(k, a, dtype="float16")))(a)
    assert g.dtype == np.float16
    g32 = ft.grad(lambda a: fnp.sum(fr.gamma(k, a, dtype="float32")))(a.astype(np.float32))
    np.testing.assert_array_equal(g, np.asarray(g32).astype(np.float16))
    staged = ft.jit(lambda kk, a: fr.gamma(kk, a, dtype="float16"))(k, a)
    np.testing.assert_array_equal(staged, fr.gamma(k, a, dtype="float16"))


def test_half_rejection_samples_distributed_as_jaxs():
    """Two-sample Kolmogorov-Smirnov tests against JAX's float16 samples (another key: the
    loops' draws are not JAX's), fixed seeds; beta and chisquare are gamma's."""
    jr = _jr()
    from scipy import stats
    import jax.numpy as jnp
    for name, args in (("gamma", (2.0,)), ("t", (3.0,))):
        x = np.asarray(getattr(fr, name)(fr.PRNGKey(0), *args, (2000,), "float16"))
        y = np.asarray(getattr(jr, name)(jr.PRNGKey(50), *args, (2000,), jnp.float16))
        assert stats.ks_2samp(x.astype(float), y.astype(float)).pvalue > 1e-3, name
