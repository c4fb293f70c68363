"""Session 39 (conv39): convolution left-overs.

- reduce_window of an integer or bool operand with a float init of -inf under max (+inf under
  min): JAX takes it as the computation's identity (the operand dtype's least (greatest)
  value, the result in the operand's dtype); functrans refused it. Other float inits that do
  not fit (-1.5, nan, -inf with min or add, a 0-d NumPy array of 2.5 that was cast silently)
  are refused with a clear TypeError, as JAX refuses them.
- Negative padding crops, in conv_general_dilated and reduce_window (values against a NumPy
  reference, jvp against central differences, vjp by the dot-product identity); where it crops
  more than an axis holds, reduce_window gives an empty result (as JAX; it raised), while
  conv_general_dilated refuses it (as JAX).
- conv_transpose's padding errors name conv_transpose (a lower-case 'valid' was reported by
  conv_general_dilated).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import functrans as ft
import functrans.lax as lax
import functrans.numpy as fnp


def _jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    return jax


# -- reduce_window: an infinite float init for an integer operand --------------------------------

@pytest.mark.parametrize("dtype", ["int8", "uint8", "int32", "int64"])
def test_reduce_window_infinite_init_integer(backend, dtype):
    x = backend.asarray([[0, 5, 2], [7, 1, 3]], dtype=dtype)
    info = np.iinfo(dtype)
    pads = ((2, 0), (0, 1))  # the first two rows of windows see padding only
    got = lax.reduce_window(x, -np.inf, lax.max, (2, 2), (1, 1), pads)
    assert backend.is_own(got)
    got = backend.to_numpy(got)
    assert got.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(got, np.array([[info.min] * 3, [5, 5, 2], [7, 5, 3]],
                                                dtype=dtype))
    got = backend.to_numpy(lax.reduce_window(x, np.inf, lax.min, (2, 2), (1, 1), pads))
    assert got.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(got, np.array([[info.max] * 3, [0, 2, 2], [0, 1, 2]],
                                                dtype=dtype))


def test_reduce_window_infinite_init_forms_and_bool(backend):
    x = backend.asarray([[0, 5, 2], [7, 1, 3]], dtype="int32")
    want = np.array([[7, 5]], dtype=np.int32)
    for init in (-np.inf, float("-inf"), np.float32(-np.inf), np.array(-np.inf),
                 backend.asarray(-np.inf)):
        got = lax.reduce_window(x, init, lax.max, (2, 2), (1, 1), "VALID")
        np.testing.assert_array_equal(backend.to_numpy(got), want)
        assert backend.to_numpy(got).dtype == np.int32
    b = backend.asarray([[False, True], [False, False]], dtype="bool")
    got = backend.to_numpy(lax.reduce_window(b, -np.inf, lax.max, (2, 1), (1, 1),
                                             ((1, 0), (0, 0))))
    np.testing.assert_array_equal(got, [[False, True], [False, True]])
    got = backend.to_numpy(lax.reduce_window(b, np.inf, lax.min, (2, 1), (1, 1),
                                             ((1, 0), (0, 0))))
    np.testing.assert_array_equal(got, [[False, True], [False, False]])


def test_reduce_window_infinite_init_under_transforms():
    x = np.array([[0, 5, 2], [7, 1, 3]], dtype=np.int32)
    want = np.array([[7, 5]], dtype=np.int32)
    f = lambda x: lax.reduce_window(x, -np.inf, lax.max, (2, 2), (1, 1), "VALID")  # noqa: E731
    np.testing.assert_array_equal(ft.jit(f)(x), want)
    got = ft.vmap(lambda r: lax.reduce_window(r, -np.inf, lax.max, (2,), (1,), "VALID"))(x)
    np.testing.assert_array_equal(got, [[5, 5], [7, 3]])


@pytest.mark.parametrize("init, comp", [(-np.inf, "min"), (-np.inf, "add"), (np.inf, "max"),
                                        (np.nan, "max"), (-1.5, "max"), (2.5, "add")])
def test_reduce_window_float_init_that_does_not_fit_is_refused(backend, init, comp):
    x = backend.asarray([[0, 5, 2], [7, 1, 3]], dtype="int32")
    for form in (init, np.float64(init), np.array(init)):
        with pytest.raises(TypeError, match="does not fit the operand's dtype"):
            lax.reduce_window(x, form, getattr(lax, comp), (2, 2), (1, 1), "VALID")


def test_reduce_window_float_init_refused_general_and_traced():
    x = np.array([[0, 5, 2], [7, 1, 3]], dtype=np.int32)
    # a general computation has no known identity: -inf was cast to the int64 minimum
    # silently, -1.5 to -1
    for init in (-np.inf, -1.5):
        with pytest.raises(TypeError, match="does not fit"):
            lax.reduce_window(x, init, lambda a, b: fnp.maximum(a, b), (2, 2), (1, 1))
    # a whole float still fits (as before)
    got = lax.reduce_window(x, 9.0, lambda a, b: fnp.minimum(a, b), (2, 2), (1, 1))
    np.testing.assert_array_equal(got, [[0, 1]])
    with pytest.raises(TypeError, match="traced floating init_value"):
        ft.jit(lambda i: lax.reduce_window(x, i, lax.max, (2, 2), (1, 1)))(np.array(-2.5))


def test_reduce_window_infinite_init_against_jax():
    jax = _jax()
    jl = jax.lax
    rng = np.random.default_rng(39)
    for dtype, (init, fc, jc), pads in itertools.product(
            ["int8", "uint8", "int32", "int64", "bool"],
            [(-np.inf, lax.max, jl.max), (np.inf, lax.min, jl.min)],
            [((0, 0), (0, 0)), ((1, 2), (2, 0)), ((-1, 3), (0, -1))]):
        x = rng.integers(0, 100, (4, 3)).astype(dtype)
        want = jl.reduce_window(x, init, jc, (2, 2), (1, 2), pads)
        got = lax.reduce_window(x, init, fc, (2, 2), (1, 2), pads)
        assert got.dtype == np.asarray(want).dtype == np.dtype(dtype)
        np.testing.assert_array_equal(got, np.asarray(want))


# -- negative padding crops ----------------------------------------------------------------

def _pad_crop(x, axes, dil, pads, fill):
    """A NumPy reference: ``x`` dilated along ``axes`` (holes hold ``fill``), then padded
    (with ``fill``) or cropped."""
    for ax, d, (lo, hi) in zip(axes, dil, pads):
        n = x.shape[ax]
        shape = list(x.shape)
        shape[ax] = (n - 1) * d + 1 if n else 0
        y = np.full(shape, fill, dtype=x.dtype)
        idx = [slice(None)] * x.ndim
        idx[ax] = slice(0, None, d)
        y[tuple(idx)] = x
        pw = [(0, 0)] * x.ndim
        pw[ax] = (max(lo, 0), max(hi, 0))
        y = np.pad(y, pw, constant_values=fill)
        idx = [slice(None)] * x.ndim
        idx[ax] = slice(-min(lo, 0), y.shape[ax] + min(hi, 0))
        x = y[tuple(idx)]
    return x


def _conv_ref(x, w, pads, ldil):  # NCHW / OIHW, unit strides
    xp = _pad_crop(x, (2, 3), ldil, pads, 0.0)
    kh, kw = w.shape[2:]
    oh, ow = xp.shape[2] - kh + 1, xp.shape[3] - kw + 1
    y = np.zeros((x.shape[0], w.shape[0], max(oh, 0), max(ow, 0)))
    for i, j in itertools.product(range(kh), range(kw)):
        y += np.einsum("nchw,oc->nohw", xp[:, :, i:i + oh, j:j + ow], w[:, :, i, j])
    return y


def _max_pool_ref(x, pads, bdil, window):
    xp = _pad_crop(x, (0, 1), bdil, pads, -np.inf)
    oh, ow = xp.shape[0] - window[0] + 1, xp.shape[1] - window[1] + 1
    return np.max([xp[i:i + oh, j:j + ow] for i, j in
                   itertools.product(range(window[0]), range(window[1]))], axis=0)


def _check_derivatives(f, args, argnum, rng, rtol=1e-7):
    """jvp against central differences along a random direction, and the vjp by the
    dot-product identity <u, J v> = <J^T u, v>."""
    args = list(args)
    x = args[argnum]
    v = rng.standard_normal(x.shape)

    def g(x_):
        a = list(args)
        a[argnum] = x_
        return f(*a)

    y, jv = ft.jvp(g, (x,), (v,))
    h = 1e-6
    fd = (np.asarray(g(x + h * v)) - np.asarray(g(x - h * v))) / (2 * h)
    np.testing.assert_allclose(np.asarray(jv), fd, rtol=rtol, atol=1e-7)
    u = rng.standard_normal(np.shape(y))
    _, pull = ft.vjp(g, x)
    jtu, = pull(u)
    lhs, rhs = np.vdot(u, np.asarray(jv)), np.vdot(np.asarray(jtu), v)
    assert abs(lhs - rhs) <= 1e-12 * (1 + abs(lhs)), (lhs, rhs)


CROPS = [((-1, 0), (0, 0)), ((0, -2), (-1, -1)), ((-2, 1), (1, -3)), ((-4, -1), (2, -2))]


@pytest.mark.parametrize("pads", CROPS)
@pytest.mark.parametrize("ldil", [(1, 1), (2, 1)])
def test_conv_negative_padding_crops(pads, ldil):
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((2, 2, 6, 5)), rng.standard_normal((3, 2, 2, 2))

    def f(x, w):
        return lax.conv_general_dilated(x, w, (1, 1), pads, lhs_dilation=ldil)

    np.testing.assert_allclose(f(x, w), _conv_ref(x, w, pads, ldil), rtol=1e-12, atol=1e-12)
    _check_derivatives(f, (x, w), 0, rng)
    _check_derivatives(f, (x, w), 1, rng)


@pytest.mark.parametrize("pads", CROPS)
@pytest.mark.parametrize("bdil", [(1, 1), (2, 1)])
def test_reduce_window_negative_padding_crops(pads, bdil):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((6, 5))

    def fmax(x):
        return lax.reduce_window(x, -np.inf, lax.max, (2, 2), (1, 1), pads, base_dilation=bdil)

    want = _max_pool_ref(x, pads, bdil, (2, 2))
    np.testing.assert_array_equal(fmax(x), want)
    keep = np.isfinite(want)  # (windows of holes only give -inf: checked above, no slope)
    _check_derivatives(lambda x: fnp.where(keep, fmax(x), 0.0), (x,), 0, rng)

    def fsum(x):
        return lax.reduce_window(x, 0.0, lax.add, (2, 2), (1, 1), pads, base_dilation=bdil)

    ones = lambda a: np.where(np.isfinite(a), a, 0.0)  # noqa: E731
    ref = _pad_crop(x, (0, 1), bdil, pads, 0.0)
    oh, ow = ref.shape[0] - 1, ref.shape[1] - 1
    want = sum(ref[i:i + oh, j:j + ow] for i, j in itertools.product(range(2), range(2)))
    np.testing.assert_allclose(fsum(x), ones(want), rtol=1e-13, atol=1e-13)
    _check_derivatives(fsum, (x,), 0, rng)


def test_reduce_window_cropped_away_is_empty(backend):
    x = backend.asarray(np.arange(30.0).reshape(6, 5))
    for pads, want_shape in [(((-7, 0), (0, 0)), (0, 4)), (((-4, -3), (1, 1)), (0, 6)),
                             (((3, -10), (0, 0)), (0, 4))]:
        for comp in (lax.max, lax.add, lambda a, b: fnp.maximum(a, b)):
            got = lax.reduce_window(x, 0.0, comp, (2, 2), (1, 1), pads)
            assert backend.is_own(got)
            assert tuple(got.shape) == want_shape
            assert tuple(got.shape) == lax.reduce_window_shape_tuple((6, 5), (2, 2), (1, 1),
                                                                     pads)
            assert backend.to_numpy(got).dtype == np.float64
    # with base dilation: 11 dilated rows, cropped by 13
    got = lax.reduce_window(x, 0.0, lax.add, (2, 2), (1, 1), ((-8, -5), (0, 0)),
                            base_dilation=(2, 1))
    assert tuple(got.shape) == (0, 4)


def test_reduce_window_cropped_away_derivatives():
    x = np.arange(30.0).reshape(6, 5)

    def f(x):
        return lax.reduce_window(x, -np.inf, lax.max, (2, 2), (1, 1), ((-7, 0), (0, 0)))

    y, t = ft.jvp(f, (x,), (np.ones_like(x),))
    assert np.shape(y) == np.shape(t) == (0, 4)
    g = ft.grad(lambda x: fnp.sum(f(x)) + fnp.sum(x))(x)
    np.testing.assert_array_equal(g, np.ones_like(x))


def test_conv_cropped_away_is_refused():
    x, w = np.ones((1, 1, 6, 5)), np.ones((1, 1, 2, 2))
    with pytest.raises(ValueError, match="conv_general_dilated: the padding"):
        lax.conv_general_dilated(x, w, (1, 1), ((-4, -3), (0, 0)))


def test_negative_padding_against_jax():
    jax = _jax()
    jl = jax.lax
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((1, 2, 6, 5)), rng.standard_normal((3, 2, 2, 2))
    for pads, dil in itertools.product(CROPS + [((-5, -5), (0, 0)), ((-6, 0), (0, 0))],
                                       [(1, 1), (2, 1)]):
        if 5 * dil[0] + 1 + sum(pads[0]) < 0:  # cropped away: both refuse it
            with pytest.raises(ValueError):
                jl.conv_general_dilated(x, w, (1, 1), pads, lhs_dilation=dil)
            with pytest.raises(ValueError, match="negative size"):
                lax.conv_general_dilated(x, w, (1, 1), pads, lhs_dilation=dil)
        else:
            want = jl.conv_general_dilated(x, w, (1, 1), pads, lhs_dilation=dil)
            got = lax.conv_general_dilated(x, w, (1, 1), pads, lhs_dilation=dil)
            assert got.shape == want.shape
            np.testing.assert_allclose(got, np.asarray(want), rtol=1e-12, atol=1e-12)
        wpads = ((0, 0), (0, 0)) + pads
        for init, fc, jc in ((-np.inf, lax.max, jl.max), (0.0, lax.add, jl.add)):
            want = jl.reduce_window(x, init, jc, (1, 1, 2, 2), (1, 1, 1, 1), wpads,
                                    base_dilation=(1, 1) + dil)
            got = lax.reduce_window(x, init, fc, (1, 1, 2, 2), (1, 1, 1, 1), wpads,
                                    base_dilation=(1, 1) + dil)
            assert got.shape == want.shape
            np.testing.assert_allclose(got, np.asarray(want), rtol=1e-13, atol=1e-13)
    for pads in (((-7, 0), (0, 0)), ((-4, -3), (0, 0)), ((3, -10), (0, 0))):
        want = jl.reduce_window(x, -np.inf, jl.max, (1, 1, 2, 2), (1, 1, 1, 1),
                                ((0, 0), (0, 0)) + pads)
        got = lax.reduce_window(x, -np.inf, lax.max, (1, 1, 2, 2), (1, 1, 1, 1),
                                ((0, 0), (0, 0)) + pads)
        assert got.shape == want.shape == (1, 2, 0, 4)


# -- conv_transpose's padding errors name conv_transpose ------------------------------------

@pytest.mark.parametrize("padding", ["valid", "same", "Valid", "SAME_LOWER", "foo"])
@pytest.mark.parametrize("consistent", [False, True])
def test_conv_transpose_string_padding_error_names_it(padding, consistent):
    x, w = np.ones((1, 5, 5, 2)), np.ones((3, 3, 2, 4))
    with pytest.raises(ValueError, match=r"^conv_transpose: String padding .* 'SAME' or "
                                         r"'VALID' \(upper case\)"):
        lax.conv_transpose(x, w, (2, 2), padding, use_consistent_padding=consistent)


def test_conv_transpose_forward_string_padding_with_unit_strides():
    # (as JAX: with unit strides another string is the forward convolution's padding)
    x, w = np.ones((1, 5, 5, 2)), np.ones((3, 3, 2, 4))
    for padding, size in (("valid", 3), ("same", 5), ("SAME_LOWER", 5), ("same_lower", 5)):
        assert lax.conv_transpose(x, w, (1, 1), padding).shape == (1, size, size, 4)
    with pytest.raises(ValueError, match=r"^conv_transpose: String padding 'foo'"):
        lax.conv_transpose(x, w, (1, 1), "foo")
    with pytest.raises(ValueError, match=r"^conv_transpose: String padding 'valid' .*"
                                         r"use_consistent_padding"):
        lax.conv_transpose(x, w, (1, 1), "valid", use_consistent_padding=True)


@pytest.mark.parametrize("consistent", [False, True])
def test_conv_transpose_bad_padding_pairs_error_names_it(consistent):
    x, w = np.ones((1, 5, 5, 2)), np.ones((3, 3, 2, 4))
    with pytest.raises(TypeError, match=r"^conv_transpose: padding must be"):
        lax.conv_transpose(x, w, (2, 2), 5, use_consistent_padding=consistent)
    with pytest.raises(ValueError, match=r"^conv_transpose: padding needs 2"):
        lax.conv_transpose(x, w, (2, 2), [(1, 1)], use_consistent_padding=consistent)
    # upper case and pairs still work
    assert lax.conv_transpose(x, w, (2, 2), "VALID").shape == (1, 11, 11, 4)
    assert lax.conv_transpose(x, w, (2, 2), [(1, 1), (1, 1)],
                              use_consistent_padding=consistent).shape[1] in (9, 11)
