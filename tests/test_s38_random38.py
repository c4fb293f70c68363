"""Session 38, random38: functrans.random against jax.random (tests/_fuzz_random_jax.py is
the fuzzer; a selection of its cases is kept here). categorical draws over the broadcast batch
shape (logits' axes of length 1 with a larger shape gave the logits' shape); permutation and
choice take 0-d integer arrays as counts; float shapes are refused (were truncated);
choice's mode; gumbel's float32 mode="highest" (was NotImplementedError); float16 samples
from JAX's 16-bit uniforms, each the correctly rounded transform of its uniform."""
import math

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
import functrans.random as fr

M32 = 0xFFFFFFFF


def _jr():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jax.config.update("jax_threefry_partitionable", True)
    import jax.random as jr
    return jr


def _key(backend, seed):
    return backend.asarray(np.asarray(fr.PRNGKey(seed)), dtype="uint32")


# -- categorical: shape broadcasting logits' axes of length 1 -------------------------------


@pytest.mark.parametrize("lg_shape, axis, shape", [((1, 3), -1, (5, 4)), ((1, 3), -1, (4,)),
                                                   ((3, 1), 0, (2, 3)), ((1, 3, 1), 1, (2, 4, 5)),
                                                   ((3, 1), 0, (6,))])
def test_categorical_draws_over_the_broadcast_batch_shape(backend, lg_shape, axis, shape):
    """logits with axes of length 1 and a shape broadcasting them: one draw per distribution
    of the shape, as for the logits broadcast first (was: the logits' own batch shape, e.g.
    (5, 1) for shape (5, 4), one draw repeated)."""
    lg = np.log(np.array([0.2, 0.5, 0.3])).reshape(lg_shape)
    k = _key(backend, 3)
    got = backend.to_numpy(fr.categorical(k, backend.asarray(lg), axis=axis, shape=shape))
    assert got.shape == shape
    ax = axis % lg.ndim
    batch = shape[len(shape) - (lg.ndim - 1):]
    full = np.broadcast_to(lg, batch[:ax] + (lg.shape[ax],) + batch[ax:])
    want = backend.to_numpy(fr.categorical(k, backend.asarray(np.ascontiguousarray(full)),
                                           axis=axis, shape=shape))
    np.testing.assert_array_equal(got, want)
    assert len(np.unique(got)) > 1  # (independent draws, not one repeated)


def test_categorical_broadcasting_vs_jax():
    jr = _jr()
    k, jk = fr.PRNGKey(3), jr.PRNGKey(3)
    lg = np.random.default_rng(0).normal(size=(1, 3, 1))
    for axis, shape in ((1, (2, 7, 6)), (0, (3, 5))):
        np.testing.assert_array_equal(fr.categorical(k, lg, axis=axis, shape=shape),
                                      jr.categorical(jk, lg, axis=axis, shape=shape))


def test_categorical_without_replacement_refuses_a_broadcasting_shape():
    k = fr.PRNGKey(0)
    with pytest.raises(ValueError, match=r"replace=False, shape must be \(k,\) \+ the logits'"):
        fr.categorical(k, np.zeros((1, 3)), shape=(2, 4), replace=False)
    assert fr.categorical(k, np.zeros((4, 3)), shape=(2, 4), replace=False).shape == (2, 4)


# -- permutation / choice counts, shapes ------------------------------------------------------


def test_zero_d_integer_arrays_are_counts(backend):
    k = _key(backend, 3)
    n = backend.asarray(np.asarray(5), dtype="int32")
    np.testing.assert_array_equal(backend.to_numpy(fr.permutation(k, n)),
                                  backend.to_numpy(fr.permutation(k, 5)))
    np.testing.assert_array_equal(backend.to_numpy(fr.choice(k, n, (3,), replace=False)),
                                  backend.to_numpy(fr.choice(k, 5, (3,), replace=False)))
    np.testing.assert_array_equal(backend.to_numpy(fr.choice(k, n, (4,))),
                                  backend.to_numpy(fr.choice(k, 5, (4,))))
    # (NumPy integer scalars too)
    np.testing.assert_array_equal(fr.permutation(fr.PRNGKey(3), np.int64(5)),
                                  fr.permutation(fr.PRNGKey(3), 5))
    with pytest.raises(TypeError, match="got a 0-d array of dtype float64"):
        fr.permutation(fr.PRNGKey(3), np.asarray(5.0))
    with pytest.raises(TypeError, match="got a bool"):
        fr.choice(fr.PRNGKey(3), True, (2,))


def test_a_traced_count_asks_for_a_concrete_value():
    with pytest.raises(ft.errors.ConcretizationError):
        ft.jit(lambda n: fr.permutation(fr.PRNGKey(0), n))(np.asarray(4))


def test_counts_vs_jax():
    jr = _jr()
    k, jk = fr.PRNGKey(3), jr.PRNGKey(3)
    np.testing.assert_array_equal(fr.permutation(k, np.int64(7)), jr.permutation(jk, np.int64(7)))
    np.testing.assert_array_equal(fr.choice(k, np.asarray(5), (3,)),
                                  jr.choice(jk, np.asarray(5), (3,)))


@pytest.mark.parametrize("shape", [(2.5,), (2.0,), 3.0, (1, 2.0)])
def test_float_shapes_are_refused(shape):
    """(int() truncated them: uniform(key, (2.5,)) had shape (2,)); JAX refuses them too."""
    with pytest.raises(TypeError, match="shape must be an int or a sequence of ints"):
        fr.uniform(fr.PRNGKey(0), shape)
    assert fr.uniform(fr.PRNGKey(0), (np.int64(2), np.uint8(3))).shape == (2, 3)


# -- choice's mode ---------------------------------------------------------------------------


def test_choice_mode_is_gumbels(backend):
    k = _key(backend, 5)
    p = np.array([1e-20, 0.3, 0.2, 0.5, 1e-30, 0.1])
    for mode in ("low", "high"):
        got = backend.to_numpy(fr.choice(k, 6, (4,), False, backend.asarray(p), 0, mode))
        g = backend.to_numpy(fr.gumbel(k, (6,), mode=mode)) + np.log(p)
        np.testing.assert_array_equal(got, np.argsort(-g, kind="stable")[:4])
    with pytest.raises(ValueError, match="choice: mode must be None or one of"):
        fr.choice(k, 6, (2,), mode="x")


def test_choice_mode_vs_jax():
    jr = _jr()
    k, jk = fr.PRNGKey(3), jr.PRNGKey(3)
    p = np.array([1e-20, 0.3, 0.2, 0.5, 1e-30, 0.1])
    for dt in ("float32", "float64"):
        for mode in (None, "low", "high", "highest"):
            np.testing.assert_array_equal(fr.choice(k, 6, (5,), False, p.astype(dt), 0, mode),
                                          jr.choice(jk, 6, (5,), False, p.astype(dt), 0, mode))


# -- gumbel's float32 mode="highest" ---------------------------------------------------------


def _highest_reference(hi, lo):
    """JAX's float32 'highest' gumbel of the 64-bit fraction b = (hi, lo) / 2**64, in Python
    ints: x = min(b, 1 - b) truncated to 24 significant bits (2**-65 for b = 0), then
    -log(-log1p(-x)) for b < 1/2, else -log(-log(x)), in float32."""
    b = (hi << 32) | lo
    small = hi < 2 ** 31
    x = b if small else 2 ** 64 - b
    if x == 0:
        xf = np.float32(2.0 ** -65)
    else:
        drop = max(0, x.bit_length() - 24)
        xf = np.float32(math.ldexp((x >> drop), drop - 64))
    if small:
        return -np.log(-np.log1p(-xf))
    return -np.log(-np.log(xf))


def test_gumbel_highest_float32_bit_edges(monkeypatch):
    """The bit manipulation on chosen words (carries, words of zeros, leading ones)."""
    words = [(0, 0), (0, 1), (0, 2 ** 31), (1, 0), (2 ** 31 - 1, M32), (2 ** 31, 0),
             (2 ** 31, 1), (M32, M32), (M32, 0), (2 ** 31 + 5, 2 ** 31), (123456, 789),
             (0x00ABCDEF, 0xFEDCBA98), (0xF0000000, 0), (0x7FFFFFFF, 0)]
    hi = np.array([w[0] for w in words], dtype=np.uint32)
    lo = np.array([w[1] for w in words], dtype=np.uint32)
    monkeypatch.setattr(fr, "_bits32", lambda k, shape, name: np.stack([hi, lo]))
    got = np.asarray(fr.gumbel(fr.PRNGKey(0), (len(words),), "float32", "highest"))
    want = np.array([_highest_reference(*w) for w in words], dtype=np.float32)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, want)
    assert np.all(np.isfinite(got))


def test_gumbel_highest_float32_backends_jit_vmap(backend):
    k = _key(backend, 1)
    want = np.asarray(fr.gumbel(fr.PRNGKey(1), (7, 3), "float32", "highest"))
    got = backend.to_numpy(fr.gumbel(k, (7, 3), "float32", "highest"))
    # (the words are the same; the float32 logarithms of two libraries may differ by an ulp)
    np.testing.assert_allclose(got, want, rtol=0, atol=2.5e-7)
    jit = ft.jit(lambda kk: fr.gumbel(kk, (7, 3), "float32", "highest"))
    np.testing.assert_array_equal(backend.to_numpy(jit(k)), got)
    keys = fr.split(k, 3)
    v = ft.vmap(lambda kk: fr.gumbel(kk, (4,), "float32", "highest"))(keys)
    np.testing.assert_array_equal(backend.to_numpy(v), np.stack(
        [backend.to_numpy(fr.gumbel(keys[i, :], (4,), "float32", "highest")) for i in range(3)]))
    assert backend.to_numpy(fr.gumbel(k, (0,), "float32", "highest")).shape == (0,)


def test_gumbel_highest_float32_vs_jax():
    jr = _jr()
    for s in range(3):
        k, jk = fr.PRNGKey(s), jr.PRNGKey(s)
        got = np.asarray(fr.gumbel(k, (3000,), "float32", "highest"))
        want = np.asarray(jr.gumbel(jk, (3000,), "float32", mode="highest"))
        # (XLA's float32 log vs NumPy's: an ulp of the logarithms, absolute beside 0)
        np.testing.assert_allclose(got, want, rtol=2e-6, atol=2.5e-7)
    lg = np.log(np.array([0.1, 0.2, 0.7], dtype=np.float32))
    np.testing.assert_array_equal(fr.categorical(fr.PRNGKey(1), lg, shape=(50,), mode="highest"),
                                  jr.categorical(jr.PRNGKey(1), lg, shape=(50,), mode="highest"))


# -- float16 samples ---------------------------------------------------------------------------


def _u16(k, shape):
    """JAX's float16 uniforms: the top 10 of 16 random bits."""
    b = np.asarray(fr.bits(k, shape, "uint16"))
    return ((b >> 6).astype(np.float32) * np.float32(2.0 ** -10)).astype(np.float16)


def _f16_truths():
    from scipy.special import erfinv
    f16 = np.float16
    tiny, eps = float(np.finfo(f16).tiny), float(np.finfo(f16).eps)
    return {"normal": (float(np.nextafter(f16(-1), f16(0))), lambda u: np.sqrt(2) * erfinv(u)),
            "gumbel": (tiny, lambda u: -np.log(-np.log(u))),
            "logistic": (tiny, lambda u: np.log(u) - np.log1p(-u)),
            "cauchy": (eps, lambda u: np.tan(np.pi * (u - 0.5))),
            "exponential": (0.0, lambda u: -np.log1p(-u)),
            "laplace": (-1 + eps / 2, lambda u: np.sign(u) * np.log1p(-np.abs(u)))}


def test_float16_uniforms_are_jaxs_formula():
    k = fr.PRNGKey(4)
    u = _u16(k, (3000,))
    got = np.asarray(fr.uniform(k, (3000,), "float16"))
    assert got.dtype == np.float16
    np.testing.assert_array_equal(got, u)
    # with bounds: XLA's float32 multiply-add (exact here in float64), then float16
    lo, hi = np.float16(-2.7), np.float16(5.3)
    w = np.float64(np.float16(np.float32(hi) - np.float32(lo)))
    want = np.maximum(lo, (u.astype(np.float64) * w + np.float64(lo)).astype(np.float32)
                      .astype(np.float16))
    np.testing.assert_array_equal(fr.uniform(k, (3000,), "float16", float(lo), float(hi)), want)
    np.testing.assert_array_equal(
        fr.uniform(k, (3000,), "float16", np.array([lo]), np.array(hi)), want)


@pytest.mark.parametrize("name", sorted(_f16_truths()))
def test_float16_samples_are_correctly_rounded_transforms(name):
    """Each sample is its float16 uniform's transform rounded once (JAX's round every
    operation to float16: cauchy ~130 ulp off beside its pole, gumbel ~400 beside 0)."""
    lo, truth = _f16_truths()[name]
    k = fr.PRNGKey(9)
    u = np.asarray(fr.uniform(k, (4000,), "float16", lo, 1.0)).astype(np.float64)
    got = np.asarray(getattr(fr, name)(k, (4000,), "float16"))
    assert got.dtype == np.float16
    want = truth(u)
    ok = np.isfinite(want)
    assert ok.mean() > 0.99
    np.testing.assert_array_equal(got[ok], want[ok].astype(np.float16))


def test_float16_maxwell_is_the_rounded_norm_of_its_normals():
    # (random40: of the float64 normals of its uniforms, not of the rounded float16 normals)
    from scipy.special import erfinv
    k = fr.PRNGKey(2)
    lo = -1 + 2.0 ** -11
    z = erfinv(np.asarray(fr.uniform(k, (500, 3), "float16", lo, 1.0)).astype(np.float64))
    z *= np.sqrt(2.0)
    got = np.asarray(fr.maxwell(k, (500,), "float16"))
    assert got.dtype == np.float16
    np.testing.assert_array_equal(got, np.sqrt((z * z).sum(-1)).astype(np.float16))


def test_float16_on_torch_jit_and_vmap(backend):
    if backend.name == "array_api_strict":
        with pytest.raises(Exception, match="no dtype float16"):
            fr.uniform(_key(backend, 0), (2,), "float16")
        return
    k = _key(backend, 2)
    for name in sorted(_f16_truths()) + ["uniform"]:
        want = np.asarray(getattr(fr, name)(fr.PRNGKey(2), (40,), "float16")).astype(float)
        got = backend.to_numpy(getattr(fr, name)(k, (40,), "float16")).astype(float)
        # (one float16 ulp: the library's float32 functions before the rounding)
        np.testing.assert_allclose(got, want, rtol=2 ** -10, err_msg=name)
        jit = ft.jit(lambda kk: getattr(fr, name)(kk, (40,), "float16"))
        np.testing.assert_array_equal(backend.to_numpy(jit(k)).astype(float), got)
    v = ft.vmap(lambda kk: fr.normal(kk, (3,), "float16"))(fr.split(k, 2))
    assert backend.to_numpy(v).dtype == np.float16


def test_float16_derivatives_in_the_bounds():
    k = fr.PRNGKey(0)
    lo, hi = np.float16([-1.0, -2.0]), np.float16(3.0)
    g = ft.grad(lambda a: fnp.sum(fr.uniform(k, (2,), "float16", a, hi)))(lo)
    assert g.dtype == np.float16
    np.testing.assert_array_equal(g, 1 - np.asarray(fr.uniform(k, (2,), "float16")))


def test_float16_probabilities_draw_float16_uniforms():
    k = fr.PRNGKey(6)
    p = np.float16([0.3, 0.01, 0.7, 0.999])
    u = _u16(k, (500, 4))
    np.testing.assert_array_equal(fr.bernoulli(k, p, (500, 4)), u < p)
    # geometric: floor(log u / log1p(-p)) + 1 (a u of 0 taken as 1), exactly
    uu = np.where(u == 0, 1, u).astype(np.float64)
    want = np.floor(np.log(uu) / np.log1p(-p.astype(np.float64))) + 1
    np.testing.assert_array_equal(fr.geometric(k, p, (500, 4)), want.astype(np.int64))


def test_other_samplers_draw_float16():
    # (random39: gamma's float16 and uniform's bfloat16, on torch, are drawn since; random40:
    # every sampler, see tests/test_s40_random40.py)
    for out in (fr.truncated_normal(fr.PRNGKey(0), -1.0, 1.0, (2,), "float16"),
                fr.lognormal(fr.PRNGKey(0), 1.0, (2,), "float16")):
        assert out.dtype == np.float16 and out.shape == (2,)


def test_float16_vs_jax():
    jr = _jr()
    for s in (1,):
        k, jk = fr.PRNGKey(s), jr.PRNGKey(s)
        for name in ("uniform", "exponential", "laplace"):  # JAX's bits
            np.testing.assert_array_equal(getattr(fr, name)(k, (2000,), "float16"),
                                          getattr(jr, name)(jk, (2000,), "float16"))
        np.testing.assert_array_equal(fr.uniform(k, (2000,), "float16", -2.7, 5.3),
                                      jr.uniform(jk, (2000,), "float16", -2.7, 5.3))
        for mode in ("high",):  # (JAX's x; the transform to its rounding)
            np.testing.assert_allclose(
                np.asarray(fr.gumbel(k, (2000,), "float16", mode)).astype(float),
                np.asarray(jr.gumbel(jk, (2000,), "float16", mode=mode)).astype(float),
                rtol=0.15, atol=0.02)
        p16 = np.float16([0.3, 1e-4, 0.9])
        for mode in ("low", "high"):
            np.testing.assert_array_equal(fr.bernoulli(k, p16, (700, 3), mode),
                                          jr.bernoulli(jk, p16, (700, 3), mode))
        np.testing.assert_array_equal(fr.choice(k, 3, (50,), p=p16),
                                      jr.choice(jk, 3, (50,), p=p16))
        for name in ("normal", "gumbel", "cauchy"):  # to JAX's float16 rounding
            got = np.asarray(getattr(fr, name)(k, (2000,), "float16")).astype(float)
            want = np.asarray(getattr(jr, name)(jk, (2000,), "float16")).astype(float)
            np.testing.assert_allclose(got, want, rtol=0.15, atol=0.02, err_msg=name)
