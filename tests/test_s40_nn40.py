"""Session 40, helper nn40: functrans.nn fuzzed against jax.nn (tests/_fuzz_nn_jax.py).

- squareplus overflowed where its value is representable: ``(x + h) / 2`` and
  ``b / (2 (h - x))`` (h = hypot(x, sqrt(b))) gave ``inf`` and 0 from ``|x| = max / 2``
  (squareplus(1e308) = inf, squareplus(float16 60000) = inf, squareplus(float32 -3e38) = 0 for
  3.3e-39); its slope ``b / (2 (h - x) h)`` was 0 from ``x = -1e154`` (5.9e-309 at -1.3e154).
  Now halves first (the same bits elsewhere).

References: closed forms, mpmath, JAX x64 where it is right (JAX's own squareplus overflows
there, and its float64 attention is float32 inside).
"""

import math

import numpy as np
import pytest

import functrans as ft
import functrans.nn as fnn
from tests._reference import max_rel_err as _rel, mpmath_or_skip as _mp

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

MAX = np.finfo(np.float64).max


def _squareplus_mp(x, b, mpmath):
    x, b = mpmath.mpf(x), mpmath.mpf(b)
    h = mpmath.sqrt(x * x + b)
    # (b / (2 (h - x)) for x < 0: the same number without cancellation)
    return (x + h) / 2 if x >= 0 else b / (2 * (h - x))


def _squareplus_slope_mp(x, b, mpmath):
    x, b = mpmath.mpf(x), mpmath.mpf(b)
    h = mpmath.sqrt(x * x + b)
    return (1 + x / h) / 2 if x >= 0 else b / (2 * (h - x) * h)


# -- squareplus at the ends of the range --------------------------------------------------------

@pytest.mark.parametrize("b", [4, 0.25])
def test_squareplus_values_up_to_the_largest_float(b):
    mpmath = _mp()
    xs = [MAX, 1e308, 9e307, -MAX, -1e308, -1.3e154, 1e154, -30.0, 2.5, -2.5, 0.0]
    got = fnn.squareplus(np.array(xs), b)
    with mpmath.workdps(60):
        want = [float(_squareplus_mp(x, b, mpmath)) for x in xs]
    assert np.all(np.isfinite(got))
    assert _rel(got, want) < 4e-16, (got, want)


def test_squareplus_half_and_single_precision_do_not_overflow(backend):
    mpmath = _mp()
    for dt, xs in (("float16", [65504.0, 60000.0, -65504.0, -700.0]),
                   ("float32", [3e38, -3e38, 1e30, -1e30])):
        if dt == "float16" and backend.name == "array_api_strict":
            continue   # (no float16 there)
        x = backend.asarray(xs, dtype=dt)
        got = backend.to_numpy(fnn.squareplus(x))
        assert str(got.dtype) == dt
        x64 = np.asarray(xs, dtype=dt).astype(np.float64)
        with mpmath.workdps(40):
            want = np.array([float(_squareplus_mp(v, 4, mpmath)) for v in x64]).astype(dt)
        assert np.all(np.isfinite(got)), got
        # within one unit in the last place of the dtype (subnormals: of the smallest)
        ulp = np.spacing(np.abs(want).astype(dt)).astype(np.float64)
        assert np.all(np.abs(got.astype(np.float64) - want.astype(np.float64)) <= ulp), (dt, got,
                                                                                      want)


def test_squareplus_slope_for_huge_negative_x_both_modes(backend):
    mpmath = _mp()
    xs = [-1.3e154, -1e100, -1e8, -30.0, -0.5, 1e100, MAX]
    x = backend.asarray(xs)
    rev = backend.to_numpy(ft.elementwise_grad(fnn.squareplus)(x))
    fwd = backend.to_numpy(ft.jvp(fnn.squareplus, (x,), (backend.asarray(np.ones(len(xs))),))[1])
    with mpmath.workdps(400):
        want = [float(_squareplus_slope_mp(v, 4, mpmath)) for v in xs]
    assert want[0] > 5.9e-309
    np.testing.assert_array_equal(rev, fwd)
    assert _rel(rev, want) < 1e-15, (rev, want)


def test_squareplus_same_bits_in_the_ordinary_range():
    # the halvings are exact: (x + h) / 2 and b / (2 (h - x)) to the bit where they do not
    # overflow
    rng = np.random.default_rng(4)
    x = rng.standard_normal(2000) * np.logspace(-5, 12, 2000)
    for b in (4, 0.37):
        c = math.sqrt(b)
        h = np.hypot(x, c)
        want = np.where(x < 0, b / (2.0 * (h - x)), (x + h) / 2.0)
        np.testing.assert_array_equal(fnn.squareplus(x, b), want)


def test_squareplus_second_derivative_unchanged_and_jit():
    x = np.array([-1e8, -3.0, 0.0, 2.0, 1e8])
    d2 = ft.elementwise_grad(ft.elementwise_grad(fnn.squareplus))(x)
    h = np.hypot(x, 2.0)
    assert _rel(d2, 4.0 / 2.0 / h / h / h) < 1e-15
    np.testing.assert_array_equal(ft.jit(fnn.squareplus)(np.array([1e308, -1e308])),
                                  fnn.squareplus(np.array([1e308, -1e308])))


# -- dot_product_attention(return_residual=True) ------------------------------------------------

def _attention_lse_reference(q, k, scale, keep):
    """log sum_s exp(logits) over the kept keys, (B, T, N), in float64 NumPy (-inf where a
    query keeps none); q (B, T, N, H), k (B, S, N, H), keep (B, N, T, S)."""
    logits = np.einsum("btnh,bsnh->bnts", q, k) * scale
    m = np.where(keep, logits, -np.inf).max(-1, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(divide="ignore"):
        lse = np.log(np.where(keep, np.exp(logits - m), 0.0).sum(-1)) + m[..., 0]
    return lse.transpose(0, 2, 1)


def test_attention_residual_values_masks_and_gradient(backend):
    rng = np.random.default_rng(40)
    q = rng.standard_normal((2, 3, 2, 4))
    k = rng.standard_normal((2, 5, 2, 4))
    v = rng.standard_normal((2, 5, 2, 4))
    mask = rng.random((2, 1, 3, 5)) < 0.6
    mask[0, 0, 1] = False   # a query that keeps no key
    causal = np.arange(3)[:, None] >= np.arange(5)[None, :]
    qa, ka, va = (backend.asarray(a) for a in (q, k, v))
    for kw, keep in ((dict(), np.ones((2, 2, 3, 5), bool)),
                     (dict(mask=backend.asarray(mask, dtype="bool")),
                      np.broadcast_to(mask, (2, 2, 3, 5))),
                     (dict(is_causal=True, scale=0.7), np.broadcast_to(causal, (2, 2, 3, 5)))):
        scale = kw.get("scale", 0.5)
        out, res = fnn.dot_product_attention(qa, ka, va, return_residual=True, **kw)
        assert backend.is_own(res) and tuple(res.shape) == (2, 3, 2)
        plain = fnn.dot_product_attention(qa, ka, va, **kw)
        np.testing.assert_array_equal(backend.to_numpy(out), backend.to_numpy(plain))
        want = _attention_lse_reference(q, k, scale, keep)
        got = backend.to_numpy(res)
        np.testing.assert_array_equal(np.isneginf(got), np.isneginf(want))
        fin = np.isfinite(want)
        np.testing.assert_allclose(got[fin], want[fin], rtol=1e-14, atol=1e-14)
    # no derivative through the residual (as JAX's); the output's is unchanged
    g = ft.grad(lambda a: fnn.dot_product_attention(a, ka, va, return_residual=True)[1].sum()
                + fnn.dot_product_attention(a, ka, va, return_residual=True)[0].sum())(qa)
    g0 = ft.grad(lambda a: fnn.dot_product_attention(a, ka, va).sum())(qa)
    np.testing.assert_allclose(backend.to_numpy(g), backend.to_numpy(g0), rtol=1e-15, atol=0)


def test_attention_residual_unbatched_padding_jit_vmap():
    rng = np.random.default_rng(41)
    q, k, v = (rng.standard_normal(s) for s in ((3, 2, 4), (4, 1, 4), (4, 1, 4)))
    out, res = fnn.dot_product_attention(q, k, v, return_residual=True)
    assert res.shape == (3, 2)
    want = _attention_lse_reference(q[None], np.repeat(k, 2, axis=1)[None], 0.5,
                                    np.ones((1, 2, 3, 4), bool))[0]
    np.testing.assert_allclose(res, want, rtol=1e-14)
    qb, kb, vb = q[None].repeat(2, 0), k[None].repeat(2, 0), v[None].repeat(2, 0)
    kw = dict(query_seq_lengths=np.array([1, 3], np.int32),
              key_value_seq_lengths=np.array([2, 4], np.int32), return_residual=True)
    out, res = fnn.dot_product_attention(qb, kb, vb, **kw)
    assert np.all(np.isneginf(res[0, 1:])) and np.all(np.isfinite(res[1]))
    assert np.all(out[0, 1:] == 0.0)
    jout, jres = ft.jit(lambda a: fnn.dot_product_attention(a, kb, vb, **kw))(qb)
    np.testing.assert_allclose(jres, res, rtol=1e-15)
    vres = ft.vmap(lambda a: fnn.dot_product_attention(a, k, v, return_residual=True)[1])(qb)
    np.testing.assert_allclose(vres[1], fnn.dot_product_attention(q, k, v,
                                                                  return_residual=True)[1],
                               rtol=1e-15)


def test_attention_residual_as_jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    rng = np.random.default_rng(42)
    q, k, v = (rng.standard_normal(s) for s in ((2, 3, 4, 5), (2, 4, 2, 5), (2, 4, 2, 5)))
    mask = rng.random((2, 1, 3, 4)) < 0.5
    mask[1, 0, 2] = False
    for kw in (dict(), dict(mask=mask), dict(is_causal=True, local_window_size=1)):
        out, res = fnn.dot_product_attention(q, k, v, return_residual=True, **kw)
        jout, jres = jax.nn.dot_product_attention(q, k, v, return_residual=True, **kw)
        jres = np.asarray(jres)
        # (JAX's softmax is float32 inside; its fill for a query keeping nothing: -2.4e38)
        np.testing.assert_array_equal(np.isneginf(res), jres < -1e38)
        fin = np.isfinite(res)
        np.testing.assert_allclose(res[fin], jres[fin], rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(out, np.asarray(jout), rtol=1e-6, atol=1e-6)


# -- initializers: half types where nothing or functrans.random's half draws are needed ------

def test_initializers_half_types_as_jax():
    key = ft.random.PRNGKey(5)
    for init in (fnn.initializers.zeros, fnn.initializers.ones,
                 fnn.initializers.constant(2.5), fnn.initializers.constant(np.array([1.0, 3.0])),
                 fnn.initializers.uniform(0.3), fnn.initializers.normal(0.3),
                 fnn.initializers.glorot_uniform(), fnn.initializers.he_uniform(),
                 fnn.initializers.variance_scaling(2.0, "fan_avg", "normal")):
        got = init(key, (4, 2), np.float16)
        assert got.dtype == np.float16 and got.shape == (4, 2)
        assert np.all(np.isfinite(got))
    # (uniform draws: JAX's 16-bit words, so JAX's values)
    u = fnn.initializers.glorot_uniform()(key, (3, 5), "float16")
    bound = math.sqrt(6.0 / 8.0)
    assert np.all(np.abs(u.astype(np.float64)) <= bound)
    # (random41: these refused float16; tests/test_s41_random41.py checks their values)
    for init in (fnn.initializers.glorot_normal(), fnn.initializers.truncated_normal(),
                 fnn.initializers.orthogonal()):
        assert init(key, (3, 3), np.float16).dtype == np.float16


def test_initializers_half_types_jax_bits():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    import jax.nn.initializers as ji
    kf, kj = ft.random.PRNGKey(7), jax.random.PRNGKey(7)
    for name, args in (("uniform", (0.3,)), ("glorot_uniform", ()), ("he_uniform", ()),
                       ("variance_scaling", (1.5, "fan_in", "uniform"))):
        got = getattr(fnn.initializers, name)(*args)(kf, (4, 6), np.float16)
        want = np.asarray(getattr(ji, name)(*args)(kj, (4, 6), np.float16))
        np.testing.assert_array_equal(got, want)
    for name in ("zeros", "ones"):
        np.testing.assert_array_equal(getattr(fnn.initializers, name)(kf, (2, 3), np.float16),
                                      np.asarray(getattr(ji, name)(kj, (2, 3), np.float16)))
    got = fnn.initializers.normal(0.3)(kf, (50,), np.float16).astype(np.float64)
    want = np.asarray(ji.normal(0.3)(kj, (50,), np.float16)).astype(np.float64)
    # (functrans's normals are JAX's to rounding: one float16 ulp, two after the scaling)
    assert np.all(np.abs(got - want) <= 2 * np.spacing(np.abs(want).astype(np.float16)).astype(
        np.float64))


# -- logsumexp: the derivative in a zero weight ----------------------------------------------------

def test_logsumexp_derivative_in_a_zero_weight(backend):
    # d/db_i log(sum_j b_j exp(a_j)) = exp(a_i) / sum_j b_j exp(a_j), also where b_i = 0 (JAX
    # 0.10.2 gives 0 there); central differences
    a = np.array([[1.1276878827291066, 0.7253672589467186, -0.4]])
    b = np.array([[0.0, 1.446337409204391, 0.3]])
    aa, ba = backend.asarray(a), backend.asarray(b)
    ga, gb = ft.grad(lambda a_, b_: fnn.logsumexp(a_, axis=1, b=b_).sum(), argnums=(0, 1))(aa, ba)
    s = np.sum(b * np.exp(a))
    np.testing.assert_allclose(backend.to_numpy(gb), np.exp(a) / s, rtol=1e-15)
    np.testing.assert_allclose(backend.to_numpy(ga), b * np.exp(a) / s, rtol=1e-15)
    h = 1e-6
    fd = (np.log(np.sum((b + [[h, 0, 0]]) * np.exp(a))) - np.log(np.sum((b - [[h, 0, 0]]) *
                                                                         np.exp(a)))) / (2 * h)
    assert abs(backend.to_numpy(gb)[0, 0] - fd) < 1e-8
    _, t = ft.jvp(lambda b_: fnn.logsumexp(aa, axis=1, b=b_), (ba,),
                  (backend.asarray([[1.0, 0.0, 0.0]]),))
    np.testing.assert_allclose(backend.to_numpy(t), [np.exp(a[0, 0]) / s], rtol=1e-15)


# -- softmax_tangent's NumPy path at a 0-d array (a keepdims sum over no axes is a NumPy scalar,
# once refused as out=: TypeError under jit) ----------------------------------------------------

def test_jit_grad_of_a_0d_log_softmax():
    x = np.asarray(0.3)
    assert ft.grad(fnn.log_softmax)(x) == 0.0   # (eager: fine)
    assert ft.jit(ft.grad(fnn.log_softmax))(x) == 0.0
    assert ft.jit(ft.grad(fnn.softmax))(x) == 0.0
    assert ft.jit(ft.hessian(fnn.log_softmax))(x) == 0.0
