"""Session 38 (conv38): convolutions and windowed reductions fuzzed against JAX.

tests/_fuzz_conv_jax.py is the seeded fuzzer (run by hand: it needs jax). Pinned here: what it
found (reduce_window's products widened small integers; fftconvolve/oaconvolve refused 'valid'
shapes that SciPy takes by broadcasting length-1 axes), the eager path without the cond of the
non-finite-kernel case, and a small JAX comparison over random options (skipped without jax).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import functrans as ft
import functrans.lax as lax
import functrans.numpy as fnp
import functrans.scipy.signal as fss


# -- reduce_window's products stay in the operand's dtype (as JAX: wrapping) -------------------

@pytest.mark.parametrize("dtype, want", [("int8", [44, 6, 2]), ("uint8", [44, 6, 2]),
                                         ("int16", [300, 6, 2]), ("int32", [300, 6, 2]),
                                         ("float32", [300.0, 6.0, 2.0])])
def test_reduce_window_mul_keeps_dtype(backend, dtype, want):
    x = backend.asarray([100, 3, 2, 1], dtype=dtype)
    got = lax.reduce_window(x, 1, lax.mul, (2,), (1,), "VALID")
    assert backend.is_own(got)
    got = backend.to_numpy(got)
    assert got.dtype == np.dtype(dtype), got.dtype   # (NumPy's prod widened it to int64)
    np.testing.assert_array_equal(got, np.array(want, dtype=dtype))


def test_reduce_window_mul_with_init_and_padding_int8():
    x = np.array([[100, 3], [2, -1]], dtype=np.int8)
    got = lax.reduce_window(x, np.int8(2), lax.mul, (2, 2), (1, 1), [(1, 0), (0, 1)])
    # windows over the padded (3, 3) grid; padding takes no part, init 2 folded in once
    want = np.array([[2 * 100 * 3, 2 * 3], [2 * 100 * 3 * 2 * -1, 2 * 3 * -1]])
    assert got.dtype == np.int8
    np.testing.assert_array_equal(got, want.astype(np.int8))  # (1200 -> -80: wraps)


def test_reduce_window_mul_float_gradient_unchanged():
    x = np.array([1.0, 2.0, 3.0, -0.5])
    g = ft.grad(lambda v: fnp.sum(lax.reduce_window(v, 1.0, lax.mul, (2,), (1,), "VALID")))(x)
    np.testing.assert_allclose(g, [2.0, 1.0 + 3.0, 2.0 - 0.5, 3.0], rtol=0, atol=0)


# -- fftconvolve / oaconvolve: SciPy's length-1 axes in 'valid' mode ---------------------------

@pytest.mark.parametrize("name", ["fftconvolve", "oaconvolve"])
@pytest.mark.parametrize("s1, s2, axes", [
    ((1, 2, 2), (1, 1, 3), None),     # was: one input must be at least as large ...
    ((2, 1), (1, 2), None),           # every axis broadcast: the outer product
    ((1, 5), (2, 3), None),
    ((1, 5), (2, 3), (0, 1)),
    ((1, 5), (2, 3), 1),
    ((3, 1, 4), (1, 2, 5), None),
    ((3, 1, 4), (1, 2, 5), (0, 2)),
    ((4, 5), (2, 3), None),           # (unchanged: an ordinary 'valid')
    ((1, 1), (1, 1), None),
])
def test_fft_like_valid_broadcasts_length_one_axes_as_scipy(name, s1, s2, axes):
    scipy_signal = pytest.importorskip("scipy.signal")
    rng = np.random.default_rng(len(s1) * 10 + s2[-1])
    a, b = rng.standard_normal(s1), rng.standard_normal(s2)
    want = getattr(scipy_signal, name)(a, b, mode="valid", axes=axes)
    got = getattr(fss, name)(a, b, mode="valid", axes=axes)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    # derivatives: the map is bilinear, its jvp is the map of the tangents
    ta, tb = rng.standard_normal(s1), rng.standard_normal(s2)
    f = getattr(fss, name)
    _, t = ft.jvp(lambda p, q: f(p, q, mode="valid", axes=axes), (a, b), (ta, tb))
    want_t = f(ta, b, mode="valid", axes=axes) + f(a, tb, mode="valid", axes=axes)
    np.testing.assert_allclose(t, want_t, rtol=1e-12, atol=1e-12)


def test_fft_like_valid_still_refuses_crossed_shapes():
    with pytest.raises(ValueError, match="at least as large"):
        fss.fftconvolve(np.ones((2, 3)), np.ones((3, 2)), mode="valid")


# -- a padded convolution: no cond on the eager path; the non-finite kernel case kept -----------

def _conv_same(x, w):
    return lax.conv_general_dilated(x, w, (1,), "SAME")


def test_padded_conv_eager_grad_without_cond(monkeypatch):
    import functrans.control_flow as cf
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 3, 7)), rng.standard_normal((4, 3, 3))
    u = rng.standard_normal((2, 4, 7))

    def loss(x, w):
        return fnp.sum(fnp.tanh(_conv_same(x, w)) * u)
    want = ft.jit(ft.grad(loss, argnums=(0, 1)))(x, w)   # staged: the cond decides
    y_jit = ft.jit(_conv_same)(x, w)

    def no_cond(*a, **k):
        raise AssertionError("cond bound for a kernel known to be finite")
    monkeypatch.setattr(cf, "cond", no_cond)
    got = ft.grad(loss, argnums=(0, 1))(x, w)
    for g, h in zip(got, want):
        np.testing.assert_allclose(g, h, rtol=1e-13, atol=1e-13)
    np.testing.assert_array_equal(_conv_same(x, w), y_jit)
    gv = ft.vmap(ft.grad(loss, argnums=1), in_axes=(0, None))(np.stack([x, 2 * x]), w)
    np.testing.assert_allclose(gv[0], want[1], rtol=1e-13, atol=1e-13)


def test_padded_conv_nonfinite_kernel_leaves_padding_out_every_mode():
    x = np.array([[[1.0, 2.0, 3.0]]])
    w_inf = np.array([[[np.inf, 1.0, 0.0]]])
    w_fin = np.array([[[2.0, 1.0, 0.5]]])
    # padding (1, 1): the first output's window starts in the padding, which takes no part
    want_inf = np.array([[[1.0, np.inf, np.inf]]])
    want_fin = np.array([[[1.0 + 1.0, 2.0 + 2.0 + 1.5, 4.0 + 3.0]]])
    np.testing.assert_array_equal(_conv_same(x, w_inf), want_inf)
    np.testing.assert_array_equal(ft.jit(_conv_same)(x, w_inf), want_inf)
    both = ft.vmap(_conv_same, in_axes=(None, 0))(x, np.stack([w_inf, w_fin]))
    np.testing.assert_array_equal(both[0], want_inf)
    np.testing.assert_allclose(both[1], want_fin, rtol=1e-15)
    # the kernel's derivative of the first output: the padding's tap 0, the inputs' x0, x1
    # (the input's derivative is nan there, as JAX's: zero cotangents of the infinite
    # outputs times the infinite tap)
    for grad in (ft.grad, lambda f, **k: ft.jit(ft.grad(f, **k))):
        g = grad(lambda v, k: _conv_same(v, k)[0, 0, 0], argnums=1)(x, w_inf)
        np.testing.assert_array_equal(g, [[[0.0, 1.0, 2.0]]])


# -- transposed layouts without padding (the input copied once in row-major order) -------------

def _conv_loops(x, w, strides):
    """VALID cross-correlation of (N, C, H, W) with (O, C, kh, kw), by loops."""
    N, C, H, W = x.shape
    O, _, kh, kw = w.shape
    oh, ow = (H - kh) // strides[0] + 1, (W - kw) // strides[1] + 1
    y = np.zeros((N, O, oh, ow))
    for i, j in itertools.product(range(oh), range(ow)):
        patch = x[:, :, i * strides[0]:i * strides[0] + kh, j * strides[1]:j * strides[1] + kw]
        y[:, :, i, j] = np.einsum("nchw,ochw->no", patch, w)
    return y


@pytest.mark.parametrize("strides", [(1, 1), (2, 1)])
def test_valid_nchw_conv_values_and_grads(backend, strides):
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((2, 3, 6, 5)), rng.standard_normal((4, 3, 3, 2))
    want = _conv_loops(x, w, strides)
    X, Wk = backend.asarray(x), backend.asarray(w)

    def f(a, b):
        return lax.conv_general_dilated(a, b, strides, "VALID")
    got = f(X, Wk)
    assert backend.is_own(got)
    np.testing.assert_allclose(backend.to_numpy(got), want, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(backend.to_numpy(ft.jit(f)(X, Wk)), want, rtol=1e-13,
                               atol=1e-13)
    # the gradient in the kernel of <u, conv>: the patches contracted with u
    u = rng.standard_normal(want.shape)
    gw = ft.grad(lambda b: fnp.sum(f(X, b) * backend.asarray(u)))(Wk)
    want_gw = np.zeros_like(w)
    for i, j in itertools.product(range(want.shape[2]), range(want.shape[3])):
        patch = x[:, :, i * strides[0]:i * strides[0] + 3, j * strides[1]:j * strides[1] + 2]
        want_gw += np.einsum("nchw,no->ochw", patch, u[:, :, i, j])
    np.testing.assert_allclose(backend.to_numpy(gw), want_gw, rtol=1e-12, atol=1e-12)


# -- a small seeded comparison with JAX (the fuzzer's, cut down) -------------------------------

def _jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    return jax


def _random_conv(rng):
    nsp = int(rng.integers(1, 3))
    G = int(rng.choice([1, 1, 2]))
    B = 2 if G == 1 and rng.random() < 0.3 else 1
    C, O, N = int(rng.integers(1, 3)) * G, int(rng.integers(1, 3)) * G * B, 2 * B
    sizes = [int(rng.integers(2, 6)) for _ in range(nsp)]
    ks = [int(rng.integers(1, 4)) for _ in range(nsp)]
    strides = tuple(int(rng.integers(1, 3)) for _ in range(nsp))
    ldil = tuple(int(rng.integers(1, 3)) for _ in range(nsp))
    rdil = tuple(int(rng.integers(1, 3)) for _ in range(nsp))
    if all(d == 1 for d in ldil) and rng.random() < 0.5:
        padding = str(rng.choice(["SAME", "VALID", "SAME_LOWER"]))
    else:
        padding = [(int(rng.integers(-1, 3)), int(rng.integers(0, 3))) for _ in range(nsp)]
    sp = "HW"[:nsp]
    dn = ("N" + sp + "C", sp + "IO", "NC" + sp) if rng.random() < 0.5 else None
    if dn:
        lhs = [N] + sizes + [C]
        rhs = ks + [C // G, O]
    else:
        lhs, rhs = [N, C] + sizes, [O, C // G] + ks
    return dict(lhs=lhs, rhs=rhs, strides=strides, padding=padding, ldil=ldil, rdil=rdil,
                dn=dn, G=G, B=B)


@pytest.mark.parametrize("seed", range(2))
def test_conv_general_dilated_random_options_vs_jax(seed):
    jax = _jax()
    jnp, jlax = jax.numpy, jax.lax
    rng = np.random.default_rng([38, seed])
    for _ in range(3):
        c = _random_conv(rng)
        x, w = rng.standard_normal(c["lhs"]), rng.standard_normal(c["rhs"])

        def conv(mod, x, w):
            return mod.conv_general_dilated(x, w, c["strides"], c["padding"], c["ldil"],
                                            c["rdil"], c["dn"], c["G"], c["B"])
        yj = np.asarray(conv(jlax, jnp.asarray(x), jnp.asarray(w)))
        np.testing.assert_allclose(conv(lax, x, w), yj, rtol=1e-12, atol=1e-12, err_msg=str(c))
        if yj.size == 0:
            continue
        u = rng.standard_normal(yj.shape)
        gj = jax.grad(lambda a, b: jnp.sum(jnp.sin(conv(jlax, a, b)) * u), argnums=(0, 1))(
            jnp.asarray(x), jnp.asarray(w))
        gf = ft.grad(lambda a, b: fnp.sum(fnp.sin(conv(lax, a, b)) * u), argnums=(0, 1))(x, w)
        gjit = ft.jit(ft.grad(lambda a, b: fnp.sum(fnp.sin(conv(lax, a, b)) * u),
                              argnums=(0, 1)))(x, w)
        for a, b, d in zip(gf, gjit, gj):
            np.testing.assert_allclose(a, d, rtol=1e-11, atol=1e-11, err_msg=str(c))
            np.testing.assert_allclose(b, d, rtol=1e-11, atol=1e-11, err_msg=str(c))


@pytest.mark.parametrize("seed", range(2))
def test_reduce_window_random_options_vs_jax(seed):
    jax = _jax()
    jnp, jlax = jax.numpy, jax.lax
    rng = np.random.default_rng([381, seed])
    for _ in range(3):
        nd = int(rng.integers(1, 4))
        shape = [int(rng.integers(1, 6)) for _ in range(nd)]
        win = tuple(int(rng.integers(1, 4)) for _ in range(nd))
        strides = tuple(int(rng.integers(1, 3)) for _ in range(nd))
        bdil = tuple(int(rng.integers(1, 3)) for _ in range(nd))
        padding = str(rng.choice(["SAME", "VALID"])) if rng.random() < 0.5 else \
            [(int(rng.integers(0, 3)), int(rng.integers(0, 3))) for _ in range(nd)]
        op = str(rng.choice(["add", "max", "min"]))
        init = {"add": 0.0, "max": -np.inf, "min": np.inf}[op]
        x = rng.standard_normal(shape)

        def rw(mod, v):
            return mod.reduce_window(v, init, getattr(mod, op), win, strides, padding, bdil)
        yj = np.asarray(rw(jlax, jnp.asarray(x)))
        np.testing.assert_array_equal(rw(lax, x), yj)
        u = rng.standard_normal(yj.shape)
        gj = jax.grad(lambda v: jnp.sum(jnp.where(jnp.isfinite(rw(jlax, v)), rw(jlax, v), 0)
                                        * u))(jnp.asarray(x))
        gf = ft.grad(lambda v: fnp.sum(fnp.where(fnp.isfinite(rw(lax, v)), rw(lax, v), 0)
                                       * u))(x)
        np.testing.assert_allclose(gf, np.asarray(gj), rtol=1e-13, atol=1e-13)


# -- patches: filter_shape in the order of the kernel's spatial axes in its layout ------------

def _one_hot_patches(x, fs, strides, dn):
    """JAX's construction, written here with conv_general_dilated: a one-hot kernel of shape
    (C * K, 1, *filter_shape) with its O and I axes moved to rhs_spec's places (the spatial
    sizes on the remaining axes in their order), grouped by input feature."""
    C = x.shape[dn.lhs_spec[1]]
    K = int(np.prod(fs))
    eye = np.broadcast_to(np.eye(K), (C, K, K)).reshape((C * K, 1) + tuple(fs))
    rhs = np.moveaxis(eye, (0, 1), (dn.rhs_spec[0], dn.rhs_spec[1]))
    return lax.conv_general_dilated(x, rhs, strides, "VALID", dimension_numbers=dn,
                                    feature_group_count=C)


@pytest.mark.parametrize("specs, shape, fs", [
    (((0, 1, 2, 3), (2, 0, 3, 1), (2, 1, 0, 3)), (2, 3, 5, 7), (2, 1)),   # was (4, 6, 2, 5)
    (((0, 3, 1, 2), (3, 2, 1, 0), (1, 2, 0, 3)), (1, 7, 3, 2), (2, 3)),
    (((0, 1, 2, 3, 4), (4, 0, 2, 1, 3), (0, 1, 2, 3, 4)), (2, 2, 4, 5, 3), (2, 3, 2)),
    (((0, 1, 2, 3), (0, 1, 2, 3), (0, 1, 2, 3)), (2, 2, 4, 5), (3, 2)),    # (unchanged)
])
def test_patches_filter_shape_in_kernel_layout_order(specs, shape, fs):
    rng = np.random.default_rng(3)
    x = rng.standard_normal(shape)
    dn = lax.ConvDimensionNumbers(*specs)
    strides = (1,) * (len(shape) - 2)
    got = lax.conv_general_dilated_patches(x, fs, strides, "VALID", dimension_numbers=dn)
    want = _one_hot_patches(x, fs, strides, dn)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-14, atol=1e-14)
    # the locally connected convolution reads the same patches
    O = 2
    out_logical = [got.shape[a] for a in dn.out_spec]
    w_logical = [O, out_logical[1]] + out_logical[2:]
    w_shape = [0] * len(shape)
    for i, a in enumerate(dn.rhs_spec):
        w_shape[a] = w_logical[i]
    w = rng.standard_normal(w_shape)
    y = lax.conv_general_dilated_local(x, w, strides, "VALID", fs, dimension_numbers=dn)
    p_log = np.transpose(np.asarray(got), dn.out_spec)      # (N, C*K, out...)
    w_log = np.transpose(w, dn.rhs_spec)                    # (O, C*K, out...)
    y_log = np.einsum("ni...,oi...->no...", p_log, w_log)
    np.testing.assert_allclose(np.transpose(np.asarray(y), dn.out_spec), y_log, rtol=1e-13,
                               atol=1e-13)


def test_patches_against_jax_with_conv_dimension_numbers():
    jax = _jax()
    jnp, jlax = jax.numpy, jax.lax
    rng = np.random.default_rng(4)
    specs = ((2, 3, 1, 0), (1, 3, 2, 0), (3, 0, 2, 1))
    x = rng.standard_normal((3, 1, 1, 2))
    args = ((1, 3), (2, 1), [(2, 0), (1, 2)])
    want = jlax.conv_general_dilated_patches(jnp.asarray(x), *args,
                                             dimension_numbers=jlax.ConvDimensionNumbers(*specs))
    got = lax.conv_general_dilated_patches(x, *args,
                                           dimension_numbers=lax.ConvDimensionNumbers(*specs))
    assert got.shape == want.shape
    np.testing.assert_allclose(got, np.asarray(want), rtol=1e-14, atol=1e-14)
