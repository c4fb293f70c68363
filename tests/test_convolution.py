"""Values of functrans.lax's convolutions and reduce_window, and functrans.scipy.signal.

Against references written here as NumPy loops over output positions with jax.lax's
semantics (and against jax.lax itself where it is installed), torch.nn.functional and
scipy.signal; on every backend. Derivatives are checked by tests/test_namespace_grads.py.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import functrans as ft
import functrans.lax as lax
import functrans.numpy as fnp
import functrans.scipy.signal as fss

# -- references ------------------------------------------------------------------------------


def _ref_pads(padding, sizes, windows, strides):
    if not isinstance(padding, str):
        return [tuple(p) for p in padding]
    if padding == "VALID":
        return [(0, 0)] * len(sizes)
    pads = []
    for n, k, s in zip(sizes, windows, strides):
        total = max((math.ceil(n / s) - 1) * s + k - n, 0)
        pads.append((total // 2, total - total // 2) if padding == "SAME" else
                    (total - total // 2, total // 2))
    return pads


def _dilate_pad_ref(x, first, dil, pads, fill):
    """``x`` dilated and padded (negative: cropped) along its axes from ``first`` on."""
    for ax, d, (lo, hi) in zip(range(first, x.ndim), dil, pads):
        n = x.shape[ax]
        shape = list(x.shape)
        shape[ax] = (n - 1) * d + 1 if n else 0
        y = np.full(shape, fill, dtype=x.dtype)
        idx = [slice(None)] * x.ndim
        idx[ax] = slice(None, None, d)
        y[tuple(idx)] = x
        widths = [(0, 0)] * x.ndim
        widths[ax] = (max(lo, 0), max(hi, 0))
        y = np.pad(y, widths, constant_values=fill)
        idx = [slice(None)] * x.ndim
        idx[ax] = slice(-min(lo, 0), y.shape[ax] + min(hi, 0))
        x = y[tuple(idx)]
    return x


def conv_ref(x, w, strides, padding, lhs_dil=None, rhs_dil=None, groups=1):
    """jax.lax.conv_general_dilated on (N, C, spatial...) and (O, I, spatial...), by loops."""
    nsp = x.ndim - 2
    lhs_dil = lhs_dil or (1,) * nsp
    rhs_dil = rhs_dil or (1,) * nsp
    ks = w.shape[2:]
    eff = [(k - 1) * r + 1 for k, r in zip(ks, rhs_dil)]
    pads = _ref_pads(padding, x.shape[2:], eff, strides)
    xp = _dilate_pad_ref(x, 2, lhs_dil, pads, 0)
    outs = [max((n - e) // s + 1, 0) for n, e, s in zip(xp.shape[2:], eff, strides)]
    N, O, Ci = x.shape[0], w.shape[0], w.shape[1]
    og = O // groups
    y = np.zeros((N, O) + tuple(outs), dtype=np.result_type(x, w))
    for o in itertools.product(*map(range, outs)):
        for k in itertools.product(*map(range, ks)):
            pos = tuple(oi * s + ki * r for oi, ki, s, r in zip(o, k, strides, rhs_dil))
            for f in range(O):
                g = f // og
                xs = xp[(slice(None), slice(g * Ci, (g + 1) * Ci)) + pos]  # (N, Ci)
                y[(slice(None), f) + o] += xs @ w[(f, slice(None)) + k]
    return y


def reduce_window_ref(x, init, op, windows, strides, padding, base_dil=None, win_dil=None):
    nd = x.ndim
    strides = strides or (1,) * nd
    base_dil = base_dil or (1,) * nd
    win_dil = win_dil or (1,) * nd
    eff = [(k - 1) * r + 1 for k, r in zip(windows, win_dil)]
    pads = _ref_pads(padding, x.shape, eff, strides)  # the dilated window, as JAX
    # padding and dilation holes take no part (XLA's semantics): the op's identity there
    ident = {np.add: 0, np.multiply: 1, np.maximum: -np.inf, np.minimum: np.inf}[op]
    if x.dtype.kind == "i" and op in (np.maximum, np.minimum):
        ident = np.iinfo(x.dtype).min if op is np.maximum else np.iinfo(x.dtype).max
    xp = _dilate_pad_ref(x, 0, base_dil, pads, ident)
    outs = [max((n - e) // s + 1, 0) for n, e, s in zip(xp.shape, eff, strides)]
    y = np.empty(outs, dtype=x.dtype)
    for o in itertools.product(*map(range, outs)):
        acc = init
        for k in itertools.product(*map(range, windows)):
            acc = op(acc, xp[tuple(oi * s + ki * r for oi, ki, s, r in
                                   zip(o, k, strides, win_dil))])
        y[o] = acc
    return y


def _close(backend, got, want, tol=1e-10):
    assert backend.is_own(got), type(got)
    got = backend.to_numpy(got)
    assert got.shape == np.shape(want), (got.shape, np.shape(want))
    assert got.dtype == np.asarray(want).dtype, (got.dtype, np.asarray(want).dtype)
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


# -- conv_general_dilated ----------------------------------------------------------------------

CONV_CASES = [
    # lhs shape, rhs shape, strides, padding, lhs_dilation, rhs_dilation, groups
    ((2, 3, 7), (4, 3, 3), (1,), "VALID", None, None, 1),
    ((2, 3, 7), (4, 3, 2), (2,), "SAME", None, None, 1),
    ((1, 2, 6), (2, 2, 3), (3,), "SAME_LOWER", None, (2,), 1),
    ((1, 2, 6), (2, 2, 3), (2,), "SAME", (2,), None, 1),  # refused: string and lhs_dilation
    ((1, 2, 5), (2, 2, 2), (1,), [(2, -1)], (3,), None, 1),
    ((2, 3, 6, 5), (4, 3, 3, 2), (1, 1), "VALID", None, None, 1),
    ((2, 3, 6, 5), (4, 3, 3, 2), (2, 3), "SAME", None, None, 1),
    ((1, 2, 5, 6), (3, 2, 2, 3), (2, 1), "SAME_LOWER", None, (2, 1), 1),
    ((1, 2, 5, 6), (3, 2, 2, 3), (1, 2), [(1, 2), (-1, 0)], (2, 1), (1, 2), 1),
    ((2, 4, 5, 5), (6, 2, 3, 3), (1, 1), "SAME", None, None, 2),
    ((2, 4, 5, 4), (4, 1, 2, 2), (2, 1), [(0, 1), (1, 1)], None, (1, 2), 4),  # depthwise
    ((1, 2, 4, 3, 5), (2, 2, 2, 2, 3), (1, 2, 1), "SAME", None, None, 1),
    ((1, 2, 3, 4, 4), (2, 1, 2, 1, 2), (2, 1, 1), [(1, 0), (0, 0), (1, 1)], (1, 1, 2),
     (1, 1, 2), 2),
    ((2, 3, 2, 2), (2, 3, 3, 3), (1, 1), "VALID", None, None, 1),  # kernel larger: empty
    ((0, 3, 4, 4), (2, 3, 2, 2), (1, 1), "SAME", None, None, 1),  # empty batch
]


@pytest.mark.parametrize("case", CONV_CASES, ids=[str(i) for i in range(len(CONV_CASES))])
def test_conv_general_dilated_matches_reference(backend, case):
    xs, ws, strides, padding, ld, rd, g = case
    rng = np.random.default_rng(0)
    x, w = rng.normal(size=xs), rng.normal(size=ws)
    if isinstance(padding, str) and ld is not None:
        with pytest.raises(ValueError, match="String padding .* lhs_dilation"):
            lax.conv_general_dilated(backend.asarray(x), backend.asarray(w), strides, padding,
                                     lhs_dilation=ld)
        return
    got = lax.conv_general_dilated(backend.asarray(x), backend.asarray(w), strides, padding,
                                   lhs_dilation=ld, rhs_dilation=rd, feature_group_count=g)
    _close(backend, got, conv_ref(x, w, strides, padding, ld, rd, g))


def test_conv_float32_and_complex_and_int(backend):
    rng = np.random.default_rng(1)
    x, w = rng.normal(size=(2, 2, 5, 4)), rng.normal(size=(3, 2, 2, 2))
    got = lax.conv_general_dilated(backend.asarray(x, "float32"), backend.asarray(w, "float32"),
                                   (1, 1), "SAME")
    _close(backend, got, conv_ref(x, w, (1, 1), "SAME").astype(np.float32), tol=1e-5)
    xi, wi = rng.integers(-5, 5, (1, 2, 4, 4)), rng.integers(-3, 3, (2, 2, 2, 2))
    got = lax.conv(backend.asarray(xi, "int64"), backend.asarray(wi, "int64"), (1, 2), "VALID")
    _close(backend, got, conv_ref(xi, wi, (1, 2), "VALID"))
    if backend.name == "array_api_strict":  # it has complex matmul too, but keep it quick
        return
    xc = x + 1j * rng.normal(size=x.shape)
    wc = w - 2j * rng.normal(size=w.shape)
    got = lax.conv(backend.asarray(xc, "complex128"), backend.asarray(wc, "complex128"),
                   (2, 1), [(1, 1), (0, 1)])
    _close(backend, got, conv_ref(xc, wc, (2, 1), [(1, 1), (0, 1)]))


LAYOUTS = [("NHWC", "HWIO", "NHWC"), ("NCHW", "OIHW", "NHWC"), ("HNCW", "WIHO", "CWNH"),
           ("NWHC", "OIHW", "NCHW")]


@pytest.mark.parametrize("layout", LAYOUTS, ids=["-".join(s) for s in LAYOUTS])
def test_dimension_numbers_strings(backend, layout):
    """Each spec names its axes; the spatial axes are matched by letter."""
    rng = np.random.default_rng(2)
    x, w = rng.normal(size=(2, 4, 5, 6)), rng.normal(size=(6, 2, 3, 2))  # NCHW, OIHW
    strides, padding = (2, 1), [(1, 0), (0, 1)]
    want = conv_ref(x, w, strides, padding, None, (1, 2), 2)
    lhs, rhs, out = layout
    xl = np.transpose(x, ["NCHW".index(c) for c in lhs])
    wl = np.transpose(w, ["OIHW".index(c) for c in rhs])
    # strides, padding and dilations follow the kernel spec's order of the spatial letters
    sp = [c for c in rhs if c in "HW"]
    order = ["HW".index(c) for c in sp]
    got = lax.conv_general_dilated(
        backend.asarray(xl), backend.asarray(wl), [strides[i] for i in order],
        [padding[i] for i in order], rhs_dilation=[(1, 2)[i] for i in order],
        dimension_numbers=layout, feature_group_count=2)
    _close(backend, got, np.transpose(want, ["NCHW".index(c) for c in out]))
    dn = lax.conv_dimension_numbers(xl.shape, wl.shape, layout)
    got2 = lax.conv_general_dilated(
        backend.asarray(xl), backend.asarray(wl), [strides[i] for i in order],
        [padding[i] for i in order], rhs_dilation=[(1, 2)[i] for i in order],
        dimension_numbers=dn, feature_group_count=2)
    _close(backend, got2, backend.to_numpy(got))
    got3 = lax.conv_general_dilated(  # a triple of permutations (beyond JAX)
        backend.asarray(xl), backend.asarray(wl), [strides[i] for i in order],
        [padding[i] for i in order], rhs_dilation=[(1, 2)[i] for i in order],
        dimension_numbers=tuple(dn), feature_group_count=2)
    _close(backend, got3, backend.to_numpy(got))


def test_conv_dimension_numbers_values():
    dn = lax.conv_dimension_numbers((1, 2, 3, 4), (1, 2, 3, 4), ("NHWC", "HWIO", "NHWC"))
    assert isinstance(dn, lax.ConvDimensionNumbers)
    assert dn == ((0, 3, 1, 2), (3, 2, 0, 1), (0, 3, 1, 2))
    assert dn.lhs_spec == (0, 3, 1, 2) and dn.rhs_spec == (3, 2, 0, 1)
    assert lax.conv_dimension_numbers((1, 2, 3), (1, 2, 3), None) == ((0, 1, 2),) * 3
    assert lax.conv_dimension_numbers((1, 2, 3), (1, 2, 3), dn) is dn
    # the spatial order is the kernel spec's
    assert lax.conv_dimension_numbers((1,) * 4, (1,) * 4, ("NCHW", "OIWH", "NCHW")) == (
        (0, 1, 3, 2), (0, 1, 2, 3), (0, 1, 3, 2))


def test_conv_and_general_padding_are_conv_general_dilated(backend):
    rng = np.random.default_rng(3)
    x, w = rng.normal(size=(2, 2, 6, 5)), rng.normal(size=(3, 2, 2, 3))
    bx, bw = backend.asarray(x), backend.asarray(w)
    _close(backend, lax.conv(bx, bw, (2, 1), "SAME"), conv_ref(x, w, (2, 1), "SAME"))
    _close(backend, lax.conv_with_general_padding(bx, bw, (1, 2), [(1, 1), (2, 0)], (2, 1),
                                                  (1, 2)),
           conv_ref(x, w, (1, 2), [(1, 1), (2, 0)], (2, 1), (1, 2)))


@pytest.mark.parametrize("stride,padding,dil", [((1, 1), "SAME", (1, 1)),
                                                ((2, 2), "SAME", (1, 1)),
                                                ((2, 1), "VALID", (1, 1)),
                                                ((3, 2), "SAME", (1, 2)),
                                                ((1, 2), [(1, 0), (2, 1)], (2, 1))])
def test_conv_matches_torch(stride, padding, dil):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    x, w = rng.normal(size=(2, 4, 9, 8)), rng.normal(size=(6, 2, 3, 2))
    eff = [(k - 1) * d + 1 for k, d in zip(w.shape[2:], dil)]
    pads = _ref_pads(padding, x.shape[2:], eff, stride)
    xt = torch.nn.functional.pad(torch.tensor(x), (pads[1][0], pads[1][1], pads[0][0],
                                                   pads[0][1]))
    want = torch.nn.functional.conv2d(xt, torch.tensor(w), stride=stride, dilation=dil,
                                      groups=2).numpy()
    got = lax.conv_general_dilated(torch.tensor(x), torch.tensor(w), stride, padding,
                                   rhs_dilation=dil, feature_group_count=2)
    assert isinstance(got, torch.Tensor)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("case", CONV_CASES, ids=[str(i) for i in range(len(CONV_CASES))])
def test_conv_matches_jax(case):
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    xs, ws, strides, padding, ld, rd, g = case
    rng = np.random.default_rng(5)
    x, w = rng.normal(size=xs), rng.normal(size=ws)
    if isinstance(padding, str) and ld is not None:  # JAX refuses it, as functrans does
        with pytest.raises(ValueError, match="String padding"):
            lax.conv_general_dilated(x, w, strides, padding, ld, rd, feature_group_count=g)
        return
    want = np.asarray(jax.lax.conv_general_dilated(x, w, strides, padding, ld, rd,
                                                   feature_group_count=g))
    got = lax.conv_general_dilated(x, w, strides, padding, ld, rd, feature_group_count=g)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)


# -- conv_transpose --------------------------------------------------------------------------

TRANSPOSE_CASES = [((2, 2), "SAME", (2, 2), (3, 3)), ((2, 1), "VALID", (3, 2), (2, 2)),
                   ((1, 1), "SAME", (3, 2), (1, 1)), ((3, 2), "VALID", (3, 2), (1, 2)),
                   ((2, 2), "SAME", (4, 4), (1, 1)), ((2, 3), "VALID", (2, 3), (1, 1))]


@pytest.mark.parametrize("strides,padding,kshape,rdil", TRANSPOSE_CASES)
def test_conv_transpose_is_the_gradient_of_conv(backend, strides, padding, kshape, rdil):
    """With transpose_kernel=True, conv_transpose is the VJP of the strided convolution
    (sizes where the strides divide evenly, so the shapes match)."""
    rng = np.random.default_rng(6)
    dn = ("NHWC", "HWIO", "NHWC")
    eff = [(k - 1) * r + 1 for k, r in zip(kshape, rdil)]
    if padding == "SAME":
        size = [4 * s for s in strides]
    else:
        size = [e + 3 * s for e, s in zip(eff, strides)]
    x = backend.asarray(rng.normal(size=(2, *size, 3)))
    w = backend.asarray(rng.normal(size=(*kshape, 3, 4)))

    def f(x):
        return lax.conv_general_dilated(x, w, strides, padding, rhs_dilation=rdil,
                                        dimension_numbers=dn)
    y, f_vjp = ft.vjp(f, x)
    ct = backend.asarray(rng.normal(size=tuple(y.shape)))
    want, = f_vjp(ct)
    got = lax.conv_transpose(ct, w, strides, padding, rhs_dilation=rdil, transpose_kernel=True)
    _close(backend, got, backend.to_numpy(want))


def test_conv_transpose_values(backend):
    """Without transpose_kernel: the input dilated by the strides, padded as JAX pads it."""
    rng = np.random.default_rng(7)
    x, w = rng.normal(size=(1, 2, 4)), rng.normal(size=(3, 2, 3))  # NCH, OIH
    dn = ("NCH", "OIH", "NCH")
    got = lax.conv_transpose(backend.asarray(x), backend.asarray(w), (2,), "VALID",
                             dimension_numbers=dn)
    # VALID: k - 1 on each side, plus max(k - s, 0) - ... : output n * s + max(k - s, 0)
    assert tuple(got.shape) == (1, 3, 4 * 2 + 1)
    _close(backend, got, conv_ref(x, w, (1,), [(2, 2)], (2,)))
    got = lax.conv_transpose(backend.asarray(x), backend.asarray(w), (2,), "SAME",
                             dimension_numbers=dn)
    assert tuple(got.shape) == (1, 3, 8)
    _close(backend, got, conv_ref(x, w, (1,), [(2, 1)], (2,)))
    got = lax.conv_transpose(backend.asarray(x), backend.asarray(w), (3,), [(0, 1)],
                             dimension_numbers=dn)
    _close(backend, got, conv_ref(x, w, (1,), [(0, 1)], (3,)))
    # the default layout with two spatial axes is NHWC / HWIO
    x2, w2 = rng.normal(size=(1, 3, 2, 2)), rng.normal(size=(2, 2, 2, 5))
    got = lax.conv_transpose(backend.asarray(x2), backend.asarray(w2), (1, 2), "SAME")
    want = conv_ref(x2.transpose(0, 3, 1, 2), w2.transpose(3, 2, 0, 1), (1, 1),
                    [(1, 0), (1, 1)], (1, 2)).transpose(0, 2, 3, 1)
    _close(backend, got, want)


# -- reduce_window ---------------------------------------------------------------------------

RW_CASES = [
    # shape, init, op name, windows, strides, padding, base dilation, window dilation
    ((2, 3, 6, 6), -np.inf, "max", (1, 1, 2, 2), (1, 1, 2, 2), "VALID", None, None),
    ((2, 3, 5, 5), 0.0, "add", (1, 1, 3, 3), (1, 1, 2, 2), "SAME", None, None),
    ((7,), np.inf, "min", (3,), (2,), "SAME_LOWER", None, None),
    ((4, 5), 1.0, "mul", (2, 2), (1, 1), [(1, 0), (0, 2)], None, None),
    ((4, 5), 0.5, "max", (2, 3), (2, 1), [(0, 1), (1, 1)], (2, 1), (1, 2)),
    ((3, 4), 1.5, "add", (2, 2), None, "VALID", (1, 2), (2, 1)),
    ((3, 4), -0.25, "min", (1, 2), (1, 3), [(-1, 1), (0, 0)], None, None),
    ((7, 6), -np.inf, "max", (3, 2), (2, 1), "SAME", None, (2, 3)),
    ((7, 6), 0.0, "add", (2, 2), (1, 3), "SAME_LOWER", (2, 1), (1, 2)),
]
_NP_OPS = {"max": np.maximum, "min": np.minimum, "add": np.add, "mul": np.multiply}


@pytest.mark.parametrize("case", RW_CASES, ids=[str(i) for i in range(len(RW_CASES))])
def test_reduce_window_matches_reference(backend, case):
    shape, init, op, win, strides, padding, bd, wd = case
    x = np.random.default_rng(8).normal(size=shape)
    got = lax.reduce_window(backend.asarray(x), init, getattr(lax, op), win, strides, padding,
                            bd, wd)
    _close(backend, got, reduce_window_ref(x, init, _NP_OPS[op], win, strides, padding, bd,
                                           wd))


def test_pooling(backend):
    """Max and average pooling as in CNNs, and max pooling's gradient at the maxima."""
    x = np.random.default_rng(9).permutation(64).reshape(1, 1, 8, 8).astype(float)
    bx = backend.asarray(x)
    mp = lax.reduce_window(bx, -fnp.inf, lax.max, (1, 1, 2, 2), (1, 1, 2, 2), "VALID")
    _close(backend, mp, x.reshape(1, 1, 4, 2, 4, 2).max(axis=(3, 5)))
    ap = lax.reduce_window(bx, 0.0, lax.add, (1, 1, 2, 2), (1, 1, 2, 2), "VALID") / 4.0
    _close(backend, ap, x.reshape(1, 1, 4, 2, 4, 2).mean(axis=(3, 5)))
    g = ft.grad(lambda x: fnp.sum(lax.reduce_window(x, -fnp.inf, lax.max, (1, 1, 2, 2),
                                                    (1, 1, 2, 2), "VALID")))(bx)
    blocks = x.reshape(4, 2, 4, 2).transpose(0, 2, 1, 3).reshape(4, 4, 4)
    want = (blocks == blocks.max(axis=-1, keepdims=True)).astype(float)
    want = want.reshape(4, 4, 2, 2).transpose(0, 2, 1, 3).reshape(1, 1, 8, 8)
    _close(backend, g, want)
    # functrans.numpy's and operator's functions are understood too
    _close(backend, lax.reduce_window(bx, -fnp.inf, fnp.maximum, (1, 1, 2, 2), (1, 1, 2, 2)),
           backend.to_numpy(mp))


def test_reduce_window_ties_share_as_max_does(backend):
    x = backend.asarray([[1.0, 1.0, 0.0, 2.0]])
    g = ft.grad(lambda x: fnp.sum(lax.reduce_window(x, -fnp.inf, lax.max, (1, 2), (1, 2))))(x)
    gm = ft.grad(lambda x: fnp.sum(fnp.max(fnp.reshape(x, (2, 2)), axis=1)))(x)
    _close(backend, g, backend.to_numpy(gm))


def test_reduce_window_int(backend):
    x = np.arange(12).reshape(3, 4)
    got = lax.reduce_window(backend.asarray(x, "int64"), 0, lax.add, (2, 2), (1, 2), "SAME")
    _close(backend, got, reduce_window_ref(x, 0, np.add, (2, 2), (1, 2), "SAME"))
    got = lax.reduce_window(backend.asarray(x, "int64"), 5, lax.max, (3, 1), (1, 1), "SAME")
    _close(backend, got, reduce_window_ref(x, 5, np.maximum, (3, 1), (1, 1), "SAME"))
    got = lax.reduce_window(backend.asarray(x, "int64"), 2, lax.mul, (1, 2), (1, 1), [(0, 0),
                                                                                   (1, 1)])
    _close(backend, got, reduce_window_ref(x, 2, np.multiply, (1, 2), (1, 1), [(0, 0), (1, 1)]))


def test_reduce_window_matches_jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    ops = {"max": jax.lax.max, "min": jax.lax.min, "add": jax.lax.add, "mul": jax.lax.mul}
    for shape, init, op, win, strides, padding, bd, wd in RW_CASES:
        x = np.random.default_rng(10).normal(size=shape)
        want = jax.lax.reduce_window(x, init, ops[op], win, strides or (1,) * len(shape),
                                     padding, bd, wd)
        got = lax.reduce_window(x, init, getattr(lax, op), win, strides, padding, bd, wd)
        np.testing.assert_allclose(got, np.asarray(want), rtol=1e-12)


def test_lax_elementwise(backend):
    a, b = np.array([1.0, -2.0, 3.0]), np.array([0.5, 4.0, -1.0])
    ba, bb = backend.asarray(a), backend.asarray(b)
    for name, op in _NP_OPS.items():
        _close(backend, getattr(lax, name)(ba, bb), op(a, b))


# -- scipy.signal ----------------------------------------------------------------------------

SIG_SHAPES = [((7,), (3,)), ((3,), (7,)), ((4,), (4,)), ((6,), (1,)), ((5, 6), (2, 3)),
              ((2, 3), (5, 6)), ((5, 4), (3, 5)), ((4, 3, 5), (2, 2, 3))]


@pytest.mark.parametrize("shapes", SIG_SHAPES, ids=[str(s) for s in SIG_SHAPES])
@pytest.mark.parametrize("name", ["convolve", "correlate"])
def test_convolve_correlate_match_scipy(backend, shapes, name):
    signal = pytest.importorskip("scipy.signal")
    rng = np.random.default_rng(11)
    a, b = rng.normal(size=shapes[0]), rng.normal(size=shapes[1])
    cplx = backend.name != "array_api_strict"
    for mode in ("full", "same", "valid"):
        for method in ("auto", "direct"):
            args = [(a, b, "float64")]
            if cplx:
                args.append((a + 1j * rng.normal(size=a.shape), b - 0.5j * b ** 2,
                             "complex128"))
            for x, y, dt in args:
                try:
                    want = getattr(signal, name)(x, y, mode, method)
                except ValueError:
                    with pytest.raises(ValueError, match="at least as large"):
                        getattr(fss, name)(backend.asarray(x, dt), backend.asarray(y, dt),
                                           mode, method)
                    continue
                got = getattr(fss, name)(backend.asarray(x, dt), backend.asarray(y, dt),
                                         mode=mode, method=method)
                _close(backend, got, want)


@pytest.mark.parametrize("shapes", [s for s in SIG_SHAPES if len(s[0]) == 2],
                         ids=[str(s) for s in SIG_SHAPES if len(s[0]) == 2])
@pytest.mark.parametrize("name", ["convolve2d", "correlate2d"])
def test_2d_match_scipy(backend, shapes, name):
    signal = pytest.importorskip("scipy.signal")
    rng = np.random.default_rng(12)
    a, b = rng.normal(size=shapes[0]), rng.normal(size=shapes[1])
    ac, bc = a + 0.3j * rng.normal(size=a.shape), b + 1j
    for mode in ("full", "same", "valid"):
        for boundary in ("fill", "wrap", "symm"):
            for fill in (0, 1.5):
                cases = [(a, b, "float64")]
                if backend.name != "array_api_strict":
                    cases.append((ac, bc, "complex128"))
                for x, y, dt in cases:
                    try:
                        want = getattr(signal, name)(x, y, mode, boundary, fill)
                    except ValueError:
                        with pytest.raises(ValueError, match="at least as large"):
                            getattr(fss, name)(backend.asarray(x, dt), backend.asarray(y, dt),
                                               mode, boundary, fill)
                        continue
                    got = getattr(fss, name)(backend.asarray(x, dt), backend.asarray(y, dt),
                                             mode=mode, boundary=boundary, fillvalue=fill)
                    _close(backend, got, want)


def test_signal_dtypes(backend):
    signal = pytest.importorskip("scipy.signal")
    a, b = np.arange(6), np.array([1, -2, 3])
    for dt1, dt2 in [("int64", "int64"), ("float32", "float32"), ("float32", "int64"),
                     ("int64", "float64")]:
        x, y = a.astype(dt1), b.astype(dt2)
        for name in ("convolve", "correlate"):
            want = getattr(signal, name)(x, y, "same")
            _close(backend, getattr(fss, name)(backend.asarray(x, dt1), backend.asarray(y, dt2),
                                               "same"), want, tol=1e-6)
        x2, y2 = x.reshape(2, 3), y.reshape(1, 3)
        want = signal.convolve2d(x2, y2)
        _close(backend, fss.convolve2d(backend.asarray(x2, dt1), backend.asarray(y2, dt2)), want,
               tol=1e-6)
    # 0-d operands multiply, as in SciPy
    _close(backend, fss.convolve(backend.asarray(2.0), backend.asarray(3.0)),
           signal.convolve(np.float64(2.0), np.float64(3.0)))


# -- errors ------------------------------------------------------------------------------------


def test_errors(backend):
    x = backend.asarray(np.ones((1, 2, 4, 4)))
    w = backend.asarray(np.ones((2, 2, 2, 2)))
    with pytest.raises(ValueError, match=r"batch_group_count=2 must divide the batch \(1\)"):
        lax.conv_general_dilated(x, w, (1, 1), "VALID", batch_group_count=2)
    with pytest.raises(ValueError, match="feature_group_count must then be 1"):
        lax.conv_general_dilated(x, w, (1, 1), "VALID", batch_group_count=2,
                                 feature_group_count=2)
    with pytest.raises(ValueError, match="precision"):
        lax.conv_general_dilated(x, w, (1, 1), "VALID", precision="most")
    # precision is accepted (no effect), preferred_element_type computes in that dtype
    plain = lax.conv(x, w, (1, 1), "VALID")
    for p in ("highest", lax.Precision.HIGH, ("default", "highest")):
        np.testing.assert_array_equal(backend.to_numpy(lax.conv_general_dilated(
            x, w, (1, 1), "VALID", precision=p)), backend.to_numpy(plain))
    f32 = lax.conv(x, w, (1, 1), "VALID", preferred_element_type=fnp.float32)
    assert backend.is_own(f32) and backend.to_numpy(f32).dtype == np.float32
    i8 = backend.asarray(np.full((1, 2, 4, 4), 100), dtype="int8")
    wide = lax.conv_transpose(i8, backend.asarray(np.ones((2, 2, 2, 2)), dtype="int8"),
                              (1, 1), "VALID", dimension_numbers=("NCHW", "OIHW", "NCHW"),
                              preferred_element_type=fnp.int32)
    assert int(backend.to_numpy(wide).max()) == 800  # no int8 wrap-around
    with pytest.raises(ValueError, match="padding must be"):
        lax.conv(x, w, (1, 1), "FULL")
    with pytest.raises(ValueError, match="2 .low, high. pairs"):
        lax.conv(x, w, (1, 1), [(1, 1)])
    with pytest.raises(ValueError, match="window_strides needs 2"):
        lax.conv(x, w, (1,), "VALID")
    with pytest.raises(ValueError, match="window_strides must be positive"):
        lax.conv(x, w, (0, 1), "VALID")
    with pytest.raises(ValueError, match="feature_group_count"):
        lax.conv_general_dilated(x, w, (1, 1), "VALID", feature_group_count=2)
    with pytest.raises(ValueError, match="input features"):
        lax.conv(x, backend.asarray(np.ones((2, 3, 2, 2))), (1, 1), "VALID")
    with pytest.raises(TypeError, match="one dtype"):
        lax.conv(x, backend.asarray(np.ones((2, 2, 2, 2)), "float32"), (1, 1), "VALID")
    with pytest.raises(TypeError, match="same number of axes"):
        lax.conv(x, backend.asarray(np.ones((2, 2, 2))), (1, 1), "VALID")
    with pytest.raises(ValueError, match="spatial sizes must be positive"):
        lax.conv(x, backend.asarray(np.ones((2, 2, 0, 2))), (1, 1), "VALID")
    with pytest.raises(ValueError, match="negative size"):
        lax.conv(x, w, (1, 1), [(-3, -2), (0, 0)])
    with pytest.raises(TypeError, match="'N' and 'C' once"):
        lax.conv_general_dilated(x, w, (1, 1), "VALID",
                                 dimension_numbers=("NHWW", "OIHW", "NCHW"))
    with pytest.raises(TypeError, match="spatial letters"):
        lax.conv_general_dilated(x, w, (1, 1), "VALID",
                                 dimension_numbers=("NCHW", "OIHD", "NCHW"))
    with pytest.raises(TypeError, match="not a permutation"):
        lax.conv_general_dilated(x, w, (1, 1), "VALID",
                                 dimension_numbers=((0, 1, 2, 2), (0, 1, 2, 3), (0, 1, 2, 3)))
    with pytest.raises(ValueError, match="one tree structure"):
        lax.reduce_window((x, x), 0.0, lax.add, (1, 1, 2, 2))
    with pytest.raises(ValueError, match="tree structure of the operands"):
        lax.reduce_window(x, 0.0, lambda a, b: [a + b], (1, 1, 2, 2))
    with pytest.raises(ValueError, match="window_dimensions needs 4"):
        lax.reduce_window(x, 0.0, lax.add, (2, 2))
    with pytest.raises(TypeError, match="does not fit"):
        lax.reduce_window(backend.asarray(np.ones((3,)), "int64"), -np.inf, lax.min, (2,))
    a = backend.asarray(np.ones(4))
    with pytest.raises(ValueError, match="mode must be"):
        fss.convolve(a, a, mode="circular")
    with pytest.raises(ValueError, match="method must be"):
        fss.correlate(a, a, method="overlap")
    with pytest.raises(ValueError, match="same number of dimensions"):
        fss.convolve(a, backend.asarray(np.ones((2, 2))))
    with pytest.raises(ValueError, match="at least as large"):
        fss.convolve(backend.asarray(np.ones((2, 5))), backend.asarray(np.ones((3, 3))),
                     mode="valid")
    with pytest.raises(ValueError, match="2-d"):
        fss.convolve2d(a, a)
    with pytest.raises(ValueError, match="boundary must be"):
        fss.correlate2d(backend.asarray(np.ones((2, 2))), backend.asarray(np.ones((2, 2))),
                        boundary="reflect")


def test_inputs_not_mutated(backend):
    x0, w0 = np.random.default_rng(13).normal(size=(1, 2, 4, 4)), np.ones((2, 2, 2, 2))
    x, w = backend.asarray(x0), backend.asarray(w0)
    lax.conv_transpose(x, w, (2, 2), "SAME", dimension_numbers=("NCHW", "OIHW", "NCHW"))
    lax.reduce_window(x, 0.0, lax.add, (1, 1, 1, 1))
    out = lax.reduce_window(x, 0.0, lax.add, (1, 1, 1, 1))
    assert out is not x
    fss.correlate2d(x[0, 0, ...], w[0, 0, ...], boundary="symm")
    np.testing.assert_array_equal(backend.to_numpy(x), x0)
    np.testing.assert_array_equal(backend.to_numpy(w), w0)


# -- vmap ---------------------------------------------------------------------------------------


def test_vmap_matches_loop(backend):
    rng = np.random.default_rng(14)
    xs = backend.asarray(rng.normal(size=(3, 2, 2, 5, 4)))
    w = backend.asarray(rng.normal(size=(4, 1, 2, 2)))

    def f(x):
        return lax.conv_general_dilated(x, w, (2, 1), "SAME", rhs_dilation=(1, 2),
                                        feature_group_count=2)
    got = ft.vmap(f)(xs)
    want = np.stack([backend.to_numpy(f(xs[i, ...])) for i in range(3)])
    _close(backend, got, want)
    ws = backend.asarray(rng.normal(size=(4, 2, 2, 2, 3)))  # the kernel batched, on axis 1
    g = ft.vmap(lambda w: lax.conv(xs[0, ...], w, (1, 1), "VALID"), in_axes=1)(ws)
    want = np.stack([backend.to_numpy(lax.conv(xs[0, ...], ws[:, i, ...], (1, 1), "VALID"))
                     for i in range(2)])
    _close(backend, g, want)

    def pool(x):
        return lax.reduce_window(x, -fnp.inf, lax.max, (2, 2), (1, 2), "SAME")
    got = ft.vmap(pool)(xs[0, 0, ...])
    want = np.stack([backend.to_numpy(pool(xs[0, 0, i, ...])) for i in range(2)])
    _close(backend, got, want)

    sig = backend.asarray(rng.normal(size=(3, 6)))
    ker = backend.asarray(rng.normal(size=(3, 3)))
    got = ft.vmap(lambda a, b: fss.correlate(a, b, mode="same"))(sig, ker)
    want = np.stack([backend.to_numpy(fss.correlate(sig[i, ...], ker[i, ...], mode="same"))
                     for i in range(3)])
    _close(backend, got, want)


@pytest.mark.parametrize("strides,padding,kshape,rdil", TRANSPOSE_CASES + [
    ((2, 1), "SAME_LOWER", (2, 3), (1, 1)), ((2, 2), [(1, 0), (2, 1)], (3, 2), (1, 2))])
@pytest.mark.parametrize("transpose_kernel", [False, True])
def test_conv_transpose_matches_jax(strides, padding, kshape, rdil, transpose_kernel):
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    rng = np.random.default_rng(15)
    x, w = rng.normal(size=(2, 3, 4, 3)), rng.normal(size=(*kshape, 3, 3))
    try:
        want = np.asarray(jax.lax.conv_transpose(x, w, strides, padding, rhs_dilation=rdil,
                                                 transpose_kernel=transpose_kernel))
    except ValueError:
        with pytest.raises(ValueError, match="String padding"):
            lax.conv_transpose(x, w, strides, padding, rhs_dilation=rdil,
                               transpose_kernel=transpose_kernel)
        return
    got = lax.conv_transpose(x, w, strides, padding, rhs_dilation=rdil,
                             transpose_kernel=transpose_kernel)
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)


def test_padding_takes_no_part_beside_an_infinite_kernel(backend):
    # The padding and lhs_dilation's holes are absent from the sum, as in XLA: a zero of
    # theirs times an inf in the kernel made NaN (conv of [1,2,3] with [0.5, inf] padded
    # (1, 1) ended in nan, not 0.5 * 3).
    x = backend.asarray(np.asarray([[[1.0, 2.0, 3.0]]]))
    w = backend.asarray(np.asarray([[[0.5, np.inf]]]))

    def f(x, w):
        return lax.conv_general_dilated(x, w, (1,), [(1, 1)])

    want = np.asarray([[[np.inf, np.inf, np.inf, 1.5]]])
    _close(backend, f(x, w), want)
    _close(backend, ft.jit(f)(x, w), want)
    _close(backend, ft.vmap(f, (None, 0))(x, fnp.stack([w, w])), np.stack([want, want]))
    dil = lax.conv_general_dilated(x, w, (1,), [(1, 1)], lhs_dilation=(2,))
    _close(backend, dil, np.asarray([[[np.inf, 0.5, np.inf, 1.0, np.inf, 1.5]]]))
    g = ft.grad(lambda w: fnp.sum(f(x, w)[..., 3]))(backend.asarray(np.asarray([[[0.5, 2.0]]])))
    _close(backend, g, np.asarray([[[3.0, 0.0]]]))
    # scipy.signal's functions on it: only the products that exist (NumPy's 1-d ones, JAX's)
    a, b = backend.asarray(np.asarray([1.0, 2.0, 3.0])), backend.asarray(np.asarray([1.0, np.inf]))
    _close(backend, fss.convolve(a, b), np.asarray([1.0, np.inf, np.inf, np.inf]))
    _close(backend, fss.correlate(a, b), np.asarray([np.inf, np.inf, np.inf, 3.0]))
    A, B = np.arange(1.0, 10.0).reshape(3, 3), np.asarray([[1.0, np.inf], [2.0, 3.0]])
    signal = pytest.importorskip("scipy.signal")
    want2 = signal.convolve2d(A, np.where(np.isinf(B), 0.0, B))
    want2[signal.convolve2d(np.ones_like(A), np.isinf(B).astype(float)) > 0] = np.inf
    _close(backend, fss.convolve2d(backend.asarray(A), backend.asarray(B)), want2)
    _close(backend, fss.convolve(backend.asarray(A), backend.asarray(B)), want2)
