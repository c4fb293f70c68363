"""Session 30 (laxfuzz30): functrans.lax with unusual parameters, fuzzed against JAX.

Regressions distilled from the fuzzer, and the differences from JAX it found where JAX is
the one that is wrong (each pinned with the reason)."""

import numpy as np
import pytest

import functrans as ft
from functrans import lax


# -- reduce_precision with no mantissa bits ------------------------------------------------

def test_reduce_precision_no_mantissa_ties_go_to_the_even_exponent(backend):
    # With mantissa_bits=0 a number is rounded to a power of two; XLA rounds the bit
    # pattern to nearest, ties to even, and with no mantissa bits the last bit kept is the
    # exponent's lowest. 1.5 * 2**k is halfway between 2**k and 2**(k+1), and every IEEE
    # bias is odd, so the biased exponent of 2**k is even exactly when k is odd: the tie
    # goes to 2**k for odd k and to 2**(k+1) for even k (JAX: 3 -> 2, 6 -> 8; was 3 -> 4).
    ks = np.arange(-20, 21)
    x = 1.5 * 2.0 ** ks
    want = np.where(ks % 2 == 1, 2.0 ** ks, 2.0 ** (ks + 1))
    for dt, e in (("float64", 11), ("float32", 8), ("float64", 8)):
        got = lax.reduce_precision(backend.asarray(np.concatenate([x, -x]), dt), e, 0)
        np.testing.assert_array_equal(backend.to_numpy(got),
                                      np.concatenate([want, -want]).astype(dt))
    # off the ties it is rounding to the nearer power: 1.25 -> 1, 1.75 -> 2
    got = lax.reduce_precision(backend.asarray([1.25, 1.75, 2.9, 3.1], "float64"), 11, 0)
    np.testing.assert_array_equal(backend.to_numpy(got), [1.0, 2.0, 2.0, 4.0])
    # two exponent bits (bias 1, largest binade [2, 4)): 3 rounds down to 2, not up past
    # the largest binade to inf; 6 rounds to 8, past it: inf
    got = lax.reduce_precision(backend.asarray([3.0, 6.0, -3.0], "float64"), 2, 0)
    np.testing.assert_array_equal(backend.to_numpy(got), [2.0, np.inf, -2.0])


def test_reduce_precision_no_mantissa_under_transforms():
    x = np.array([3.0, 1.5, 6.0, 12.0])
    want = [2.0, 2.0, 8.0, 8.0]
    np.testing.assert_array_equal(ft.jit(lambda v: lax.reduce_precision(v, 8, 0))(x), want)
    np.testing.assert_array_equal(ft.vmap(lambda v: lax.reduce_precision(v, 8, 0))(x), want)
    y, t = ft.jvp(lambda v: lax.reduce_precision(v, 8, 0), (x,), (np.ones(4),))
    np.testing.assert_array_equal(y, want)
    np.testing.assert_array_equal(t, np.ones(4))  # the identity (pinned in test_lax15)


# -- scatters: differences from JAX where JAX is wrong ---------------------------------------

def _all_to_first():
    # empty index vectors: every update element lands on operand element 0
    dn = lax.ScatterDimensionNumbers(update_window_dims=(), inserted_window_dims=(0,),
                                     scatter_dims_to_operand_dims=())
    return np.zeros((2, 2, 0), np.int32), dn


@pytest.mark.parametrize("op, want", [
    # x[0] = 2 combined with all four updates 1.5, 2, 3, 0.5 (XLA's definition: every
    # update element is combined at its position). JAX 0.10.2 on CPU combines only the
    # last update when the index vectors are empty (2.5, 1, 0.5, 2): pinned difference.
    ("scatter_add", 2 + 1.5 + 2 + 3 + 0.5),
    ("scatter_mul", 2 * 1.5 * 2 * 3 * 0.5),
    ("scatter_min", 0.5),
    ("scatter_max", 3.0),
])
def test_scatter_with_empty_index_vectors_combines_every_update(op, want):
    ind, dn = _all_to_first()
    x, u = np.array([2.0]), np.array([[1.5, 2.0], [3.0, 0.5]])
    f = lambda x, u: getattr(lax, op)(x, ind, u, dn)
    np.testing.assert_allclose(f(x, u), [want], rtol=1e-15)
    np.testing.assert_allclose(ft.jit(f)(x, u), [want], rtol=1e-15)
    # the same as one index vector [0] per update
    dn1 = lax.ScatterDimensionNumbers(update_window_dims=(), inserted_window_dims=(0,),
                                      scatter_dims_to_operand_dims=(0,))
    np.testing.assert_allclose(getattr(lax, op)(x, np.zeros((2, 2, 1), np.int32), u, dn1),
                               [want], rtol=1e-15)


@pytest.mark.parametrize("op", ["scatter_min", "scatter_max"])
def test_scatter_extremum_clip_mode_derivative_is_finite(op):
    # A window whose start is past the end is moved back inside by mode='clip'. JAX 0.10.2's
    # JVP of scatter_min/scatter_max gives NaN for every element then (pinned difference);
    # the derivative is that of elementwise min/max of the window and the updates, checked
    # here against central differences.
    rng = np.random.default_rng(0)
    x, u = rng.standard_normal((3, 3, 3)), rng.standard_normal((1, 3))
    ind = np.array([2], np.int32)  # start 2 along an axis of 3 for a window of 3: clipped to 0
    dn = lax.ScatterDimensionNumbers(update_window_dims=(0, 1), inserted_window_dims=(1,),
                                     scatter_dims_to_operand_dims=(2,))
    f = lambda x, u: getattr(lax, op)(x, ind, u, dn, mode="clip")
    pick = np.minimum if op == "scatter_min" else np.maximum
    want = x.copy()
    want[0:1, 0, :] = pick(x[0:1, 0, :], u)
    np.testing.assert_allclose(f(x, u), want, rtol=1e-15)
    dx, du = rng.standard_normal(x.shape), rng.standard_normal(u.shape)
    _, t = ft.jvp(f, (x, u), (dx, du))
    h = 1e-6
    fd = (f(x + h * dx, u + h * du) - f(x - h * dx, u - h * du)) / (2 * h)
    assert np.all(np.isfinite(t))
    np.testing.assert_allclose(t, fd, atol=1e-8)
    # reverse mode agrees (dot-product identity)
    w = rng.standard_normal(x.shape)
    gx, gu = ft.grad(lambda x, u: (f(x, u) * w).sum(), (0, 1))(x, u)
    np.testing.assert_allclose((gx * dx).sum() + (gu * du).sum(), (t * w).sum(), rtol=1e-12)


# -- cumlogsumexp past -inf entries -------------------------------------------------------

def test_cumlogsumexp_derivative_past_minus_inf_entries():
    # d/dx_i logsumexp(x[:k+1]) = exp(x_i - out[k]) (the softmax of the prefix); an entry of
    # -inf has weight 0. JAX 0.10.2 gives NaN in every row from the first run of -inf on
    # (pinned difference); here the rows with a finite prefix are the softmax, and an
    # all -inf prefix shares the derivative evenly (the limit along x_0 = x_1 -> -inf).
    x = np.array([-np.inf, -np.inf, 1.0, -np.inf, 2.0])
    out = lax.cumlogsumexp(x, axis=0)
    with np.errstate(invalid="ignore"):
        want = np.where(np.arange(5)[None, :] <= np.arange(5)[:, None],
                        np.exp(x[None, :] - out[:, None]), 0.0)
    want[:2] = [[1, 0, 0, 0, 0], [0.5, 0.5, 0, 0, 0]]
    for jac in (ft.jacfwd, ft.jacrev):
        np.testing.assert_allclose(jac(lambda v: lax.cumlogsumexp(v, axis=0))(x), want,
                                   rtol=1e-14, atol=0)
    rev = ft.jacfwd(lambda v: lax.cumlogsumexp(v, axis=0, reverse=True))(x[::-1])
    np.testing.assert_allclose(rev, want[::-1, ::-1], rtol=1e-14, atol=0)


def test_gather_with_empty_index_vectors_gradient_sums_every_read():
    # every one of the 3 x 2 windows (size 1, no index vector) reads x[0], so the gradient of
    # sum(w * out) in x[0] is sum(w). JAX 0.10.2's transpose (a scatter-add with empty index
    # vectors) keeps only the last cotangent (pinned difference, as the scatters above).
    dn = lax.GatherDimensionNumbers(offset_dims=(2,), collapsed_slice_dims=(),
                                    start_index_map=())
    ind = np.zeros((3, 2, 0), np.int32)
    x = np.array([0.3, -1.2])
    w = np.random.default_rng(1).standard_normal((3, 2, 1))
    f = lambda x: (lax.gather(x, ind, dn, (1,)) * w).sum()
    np.testing.assert_allclose(lax.gather(x, ind, dn, (1,)), np.full((3, 2, 1), 0.3))
    for g in (ft.grad(f), ft.jit(ft.grad(f))):
        np.testing.assert_allclose(g(x), [w.sum(), 0.0], rtol=1e-14)
