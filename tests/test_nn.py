"""functrans.nn: values against NumPy formulas on every backend, derivatives at the kinks and
where a branch would overflow, masks, one_hot, standardize, attention against a direct
NumPy implementation, errors. Derivatives against finite differences: the "functrans.nn"
section of TABLE in tests/test_namespace_grads.py (every backend, second order, jit)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import expit

import functrans as ft
import functrans.nn as nn
import functrans.numpy as fnp
from functrans.errors import ShapeError


def _sigmoid(x):
    return 0.5 * (1 + np.tanh(x / 2))


def _softplus(x):
    return np.logaddexp(x, 0.0)


def _elu(x, a=1.0):
    return np.where(x > 0, x, a * np.expm1(np.minimum(x, 0)))


ALPHA, SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946

REFERENCE = {
    "relu": lambda x: np.maximum(x, 0),
    "relu6": lambda x: np.clip(x, 0, 6),
    "sigmoid": _sigmoid,
    "softplus": _softplus,
    "soft_sign": lambda x: x / (np.abs(x) + 1),
    "silu": lambda x: x * _sigmoid(x),
    "swish": lambda x: x * _sigmoid(x),
    "log_sigmoid": lambda x: -_softplus(-x),
    "leaky_relu": lambda x: np.where(x >= 0, x, 0.01 * x),
    "elu": _elu,
    "celu": lambda x: np.where(x > 0, x, np.expm1(np.minimum(x, 0))),
    "selu": lambda x: SCALE * _elu(x, ALPHA),
    "gelu": lambda x: x * expit(2 * math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)),
    "hard_tanh": lambda x: np.clip(x, -1, 1),
    "hard_sigmoid": lambda x: np.clip(x + 3, 0, 6) / 6,
    "hard_silu": lambda x: x * np.clip(x + 3, 0, 6) / 6,
    "hard_swish": lambda x: x * np.clip(x + 3, 0, 6) / 6,
    "mish": lambda x: x * np.tanh(_softplus(x)),
    "squareplus": lambda x: (x + np.sqrt(x * x + 4)) / 2,
    "sparse_plus": lambda x: np.where(x <= -1, 0, np.where(x >= 1, x, (x + 1) ** 2 / 4)),
    "sparse_sigmoid": lambda x: np.clip((x + 1) / 2, 0, 1),
}
X = np.concatenate([np.linspace(-7.0, 7.0, 29), [-1.0, 0.0, 1.0, 6.0, -3.0, 3.0, 30.0, -30.0]])


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_activation_values(backend, name):
    x = backend.asarray(X)
    out = getattr(nn, name)(x)
    assert backend.is_own(out)
    np.testing.assert_allclose(backend.to_numpy(out), REFERENCE[name](X), rtol=1e-13,
                               atol=1e-15)


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_activation_keeps_float32(backend, name):
    x = backend.asarray(X, dtype="float32")
    out = backend.to_numpy(getattr(nn, name)(x))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, REFERENCE[name](X.astype(np.float32)), rtol=2e-6,
                               atol=1e-6)
    g = backend.to_numpy(ft.elementwise_grad(getattr(nn, name))(x))
    assert g.dtype == np.float32 and np.all(np.isfinite(g))


def test_exact_gelu_is_x_times_the_normal_cdf(backend):
    from scipy.special import ndtr
    x = backend.asarray(X)
    np.testing.assert_allclose(backend.to_numpy(nn.gelu(x, approximate=False)), X * ndtr(X),
                               rtol=1e-13, atol=1e-300)


@pytest.mark.parametrize("name,point,slope", [
    ("relu", 0.0, 0.0), ("relu6", 0.0, 0.0), ("relu6", 6.0, 0.0), ("leaky_relu", 0.0, 1.0),
    ("hard_tanh", 1.0, 1.0), ("hard_tanh", -1.0, 1.0), ("elu", 0.0, 1.0),
    ("sparse_plus", -1.0, 0.0), ("sparse_plus", 1.0, 1.0), ("sparse_sigmoid", 1.0, 0.25),
    ("sparse_sigmoid", -1.0, 0.25), ("hard_sigmoid", 3.0, 0.0),
])
def test_derivatives_at_kinks_follow_jax(name, point, slope):
    assert ft.grad(getattr(nn, name))(point) == slope


@pytest.mark.parametrize("name", ["elu", "celu", "selu", "softplus", "log_sigmoid", "sigmoid",
                                  "silu", "mish", "gelu"])
def test_no_overflow_in_values_or_derivatives(name):
    x = np.array([-1000.0, -50.0, 50.0, 1000.0])
    f = getattr(nn, name)
    assert np.all(np.isfinite(f(x)))
    g = ft.elementwise_grad(f)(x)
    assert np.all(np.isfinite(g)), g
    h = ft.elementwise_grad(ft.elementwise_grad(f))(x)
    assert np.all(np.isfinite(h)), h


def test_relu_keeps_integers():
    out = nn.relu(np.array([-2, 0, 3]))
    assert out.dtype == np.int64
    np.testing.assert_array_equal(out, [0, 0, 3])
    assert nn.relu6(np.array([-2, 9])).dtype == np.float64


def test_relu_of_complex_numbers_on_every_backend(backend):
    # NumPy's order (real part, then imaginary): torch and array-api-strict refused <= of
    # complex numbers (a raw NotImplementedError / TypeError)
    c = np.array([1 + 1j, -1 + 2j, -1j, 1j, 2 - 3j, complex(np.nan, 0)])
    want = np.where(c <= 0, 0, c)
    C = backend.asarray(c, "complex128")
    for f in (nn.relu, ft.jit(nn.relu)):
        out = f(C)
        assert backend.is_own(out)
        np.testing.assert_array_equal(backend.to_numpy(out), want)


def test_complex_input_is_refused():
    with pytest.raises(TypeError, match="real arrays"):
        nn.sigmoid(np.array([1j]))


def test_softmax_and_log_softmax(backend):
    x_np = np.random.default_rng(0).normal(size=(3, 4)) * 5
    x = backend.asarray(x_np)
    e = np.exp(x_np - x_np.max(axis=-1, keepdims=True))
    np.testing.assert_allclose(backend.to_numpy(nn.softmax(x)), e / e.sum(-1, keepdims=True),
                               rtol=1e-13)
    e0 = np.exp(x_np - x_np.max())
    np.testing.assert_allclose(backend.to_numpy(nn.softmax(x, axis=None)), e0 / e0.sum(),
                               rtol=1e-13)
    np.testing.assert_allclose(backend.to_numpy(nn.log_softmax(x, axis=0)),
                               x_np - np.log(np.exp(x_np).sum(0, keepdims=True)), rtol=1e-13)


def test_masked_softmax(backend):
    x_np = np.random.default_rng(1).normal(size=(3, 4))
    mask_np = x_np > -0.3
    mask_np[2] = [False, True, False, False]
    x, mask = backend.asarray(x_np), backend.asarray(mask_np, dtype="bool")
    s = backend.to_numpy(nn.softmax(x, where=mask))
    e = np.where(mask_np, np.exp(x_np), 0.0)
    np.testing.assert_allclose(s, e / e.sum(-1, keepdims=True), rtol=1e-13)
    ls = backend.to_numpy(nn.log_softmax(x, where=mask))
    np.testing.assert_allclose(ls[mask_np], np.log(s[mask_np]), rtol=1e-13)
    assert np.all(ls[~mask_np] == -np.inf)
    # excluded entries get no derivative (also at a huge excluded value)
    big = backend.asarray(np.where(mask_np, x_np, 1e300))
    g = backend.to_numpy(ft.grad(lambda t: fnp.sum(nn.softmax(t, where=mask)[:, :2]))(big))
    assert np.all(np.isfinite(g)) and np.all(g[~mask_np] == 0)


def test_one_hot(backend):
    labels = backend.asarray(np.array([[0, 2], [3, -1]]), dtype="int64")
    out = nn.one_hot(labels, 3)
    assert backend.is_own(out)
    expected = np.array([[[1, 0, 0], [0, 0, 1]], [[0, 0, 0], [0, 0, 0]]], float)
    np.testing.assert_array_equal(backend.to_numpy(out), expected)
    np.testing.assert_array_equal(backend.to_numpy(nn.one_hot(labels, 3, axis=0)),
                                  np.moveaxis(expected, -1, 0))
    out32 = nn.one_hot(labels, 3, dtype=fnp.float32, axis=1)
    np.testing.assert_array_equal(backend.to_numpy(out32), np.moveaxis(expected, -1, 1))
    assert backend.to_numpy(out32).dtype == np.float32
    np.testing.assert_array_equal(backend.to_numpy(ft.jit(lambda t: nn.one_hot(t, 3))(labels)),
                                  expected)


def test_one_hot_errors_and_float_classes():
    with pytest.raises(TypeError, match="class indices"):
        nn.one_hot(np.array([1j]), 3)
    # floats compare as values, as JAX's: whole numbers are classes, others match none
    np.testing.assert_array_equal(nn.one_hot(np.array([1.0, 2.5, -1.0]), 3),
                                  [[0, 1, 0], [0, 0, 0], [0, 0, 0]])
    g = ft.grad(lambda t: fnp.sum(nn.one_hot(t, 3) * t[:, None]))(np.array([1.0, 2.0]))
    np.testing.assert_array_equal(g, [1.0, 1.0])
    with pytest.raises(ShapeError, match="axis 3"):
        nn.one_hot(np.array([1]), 3, axis=3)


def test_standardize(backend):
    x_np = np.random.default_rng(2).normal(size=(3, 5)) * 4 + 1
    x = backend.asarray(x_np)
    want = (x_np - x_np.mean(-1, keepdims=True)) / np.sqrt(x_np.var(-1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(backend.to_numpy(nn.standardize(x)), want, rtol=1e-12)
    mask_np = x_np > 0
    mask_np[:, 0] = True
    got = backend.to_numpy(nn.standardize(x, where=backend.asarray(mask_np, dtype="bool")))
    for i in range(3):
        kept = x_np[i][mask_np[i]]
        np.testing.assert_allclose(got[i], (x_np[i] - kept.mean()) / np.sqrt(kept.var() + 1e-5),
                                   rtol=1e-12)
    given = backend.to_numpy(nn.standardize(x, axis=0, mean=1.0, variance=4.0, epsilon=0.0))
    np.testing.assert_allclose(given, (x_np - 1.0) / 2.0, rtol=1e-13)


def test_glu(backend):
    x_np = np.random.default_rng(3).normal(size=(4, 6))
    x = backend.asarray(x_np)
    np.testing.assert_allclose(backend.to_numpy(nn.glu(x)),
                               x_np[:, :3] * _sigmoid(x_np[:, 3:]), rtol=1e-13)
    np.testing.assert_allclose(backend.to_numpy(nn.glu(x, axis=0)),
                               x_np[:2] * _sigmoid(x_np[2:]), rtol=1e-13)
    with pytest.raises(ShapeError, match="even length"):
        nn.glu(np.ones((2, 3)))


def _attention_reference(q, k, v, bias=None, mask=None, scale=None, is_causal=False):
    """Loops over batch, head and query position, as the definition reads."""
    b, t, n, h = q.shape
    s, kh = k.shape[1], k.shape[2]
    scale = 1 / math.sqrt(h) if scale is None else scale
    out = np.zeros((b, t, n, h))
    for bi in range(b):
        for ni in range(n):
            kv = ni // (n // kh)
            for ti in range(t):
                logits = k[bi, :, kv] @ q[bi, ti, ni] * scale
                if bias is not None:
                    logits = logits + np.broadcast_to(bias, (b, n, t, s))[bi, ni, ti]
                keep = np.ones(s, bool)
                if mask is not None:
                    keep &= np.broadcast_to(mask, (b, n, t, s))[bi, ni, ti]
                if is_causal:
                    keep &= np.arange(s) <= ti
                if not keep.any():
                    w = np.full(s, 1 / s)
                else:
                    e = np.where(keep, np.exp(logits - logits[keep].max()), 0.0)
                    w = e / e.sum()
                out[bi, ti, ni] = w @ v[bi, :, kv]
    return out


@pytest.mark.parametrize("kind", ["plain", "gqa", "bias_mask", "causal", "scale", "unbatched"])
def test_dot_product_attention_matches_the_definition(backend, kind):
    rng = np.random.default_rng(4)
    q = rng.normal(size=(2, 4, 4, 3))
    kv_heads = 2 if kind == "gqa" else 4
    k = rng.normal(size=(2, 5 if kind != "causal" else 4, kv_heads, 3))
    v = rng.normal(size=k.shape)
    kw = {}
    if kind == "bias_mask":
        kw["bias"] = rng.normal(size=(4, 4, 5))
        mask = rng.uniform(size=(2, 1, 4, 5)) > 0.4
        mask[0, 0, 1] = False  # a query that sees nothing: the mean of the values
        kw["mask"] = mask
    if kind == "causal":
        kw["is_causal"] = True
    if kind == "scale":
        kw["scale"] = 0.25
    want = _attention_reference(q, k, v, **kw)
    bk = {key: backend.asarray(val, dtype="bool" if key == "mask" else "float64")
          if isinstance(val, np.ndarray) else val for key, val in kw.items()}
    if kind == "unbatched":
        got = nn.dot_product_attention(*(backend.asarray(a[0]) for a in (q, k, v)))
        want = want[0]
    else:
        got = nn.dot_product_attention(backend.asarray(q), backend.asarray(k),
                                       backend.asarray(v), **bk)
    assert backend.is_own(got)
    np.testing.assert_allclose(backend.to_numpy(got), want, rtol=1e-12, atol=1e-14)


def test_dot_product_attention_shape_errors():
    q = np.ones((2, 3, 4, 5))
    with pytest.raises(ShapeError, match="3-d .* or 4-d"):
        nn.dot_product_attention(q, q[0, 0], q[0, 0])
    with pytest.raises(ShapeError, match="dividing its N"):
        nn.dot_product_attention(q, np.ones((2, 3, 3, 5)), np.ones((2, 3, 3, 5)))
    with pytest.raises(ShapeError, match="query's B and H"):
        nn.dot_product_attention(q, np.ones((2, 3, 4, 6)), np.ones((2, 3, 4, 6)))


def test_vmap_and_jit_of_activations_match_eager():
    x = np.random.default_rng(5).normal(size=(3, 4))
    for f in (nn.gelu, nn.mish, lambda t: nn.softmax(t, where=t > 0), nn.standardize):
        np.testing.assert_allclose(ft.vmap(f)(x), np.stack([f(r) for r in x]), rtol=1e-13)
        np.testing.assert_allclose(ft.jit(f)(x), f(x), rtol=1e-13)


def test_every_function_is_in_the_table():
    from .test_namespace_grads import NO_DERIVATIVE, TABLE
    tested = {s.name.split("_where")[0] for s in TABLE if s.name.startswith("nn.")}
    aliases = {"swish": "silu", "hard_swish": "hard_silu"}
    for name in nn.__all__:
        if name in aliases:
            assert getattr(nn, name) is getattr(nn, aliases[name])
            continue
        assert "nn." + name in tested or "nn." + name in NO_DERIVATIVE, name


def test_matches_jax_nn_where_installed():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    import jax.nn as jnn
    import jax.numpy as jnp
    for name in REFERENCE:
        if not hasattr(jnn, name):
            continue
        # (JAX's tanh-form gelu loses the tiny values of large negative x: atol)
        np.testing.assert_allclose(getattr(nn, name)(X), np.asarray(getattr(jnn, name)(
            jnp.asarray(X))), rtol=1e-12, atol=1e-13, err_msg=name)
        g = ft.elementwise_grad(getattr(nn, name))(X)
        jg = jax.vmap(jax.grad(getattr(jnn, name)))(jnp.asarray(X))
        np.testing.assert_allclose(g, np.asarray(jg), rtol=1e-12, atol=1e-13, err_msg=name)


def test_glu_derivative_with_an_infinite_half():
    # glu(a, b) = a sigmoid(b): d/db = a sigmoid'(b) = +-inf at a = +-inf. Differentiated
    # through expit's formula exp(b) / (1 + exp(b)) (b < 0), the two terms of b's cotangent
    # were inf and -inf: nan. expit's derivative is now one factor, sigmoid(b) sigmoid(-b).
    s = 1.0 / (1.0 + np.exp(1.0))
    for a, b, want in [(np.inf, -1.0, [s, np.inf]), (np.inf, 0.0, [0.5, np.inf]),
                       (-np.inf, -3.0, [1 / (1 + np.exp(3.0)), -np.inf]),
                       (2.0, -1.0, [s, 2.0 * s * (1 - s)])]:
        g = ft.grad(lambda x: fnp.sum(nn.glu(x)))(np.array([a, b]))
        np.testing.assert_allclose(np.asarray(g), want, rtol=1e-15)
    # the second derivative in b at a = inf: a sigmoid''(1) = -inf (was nan)
    h = ft.hessian(lambda x: fnp.sum(nn.glu(x)))(np.array([np.inf, 1.0]))
    assert np.asarray(h)[1, 1] == -np.inf
    from functrans.testing import check_grads
    check_grads(lambda x: nn.glu(x), (np.array([0.5, -3.0, 2.0, 7.0, -1.5, -40.0]),), order=2)
