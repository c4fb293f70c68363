"""Session 52, the lead's findings while fuzzing.

- lax fuzzer: vmap of conv_general_dilated of float32 with negative padding. JAX 0.10.2's own
  vmap is wrong on CPU there (other values, some garbage, where each member alone is right);
  ours is pinned to each member alone, in every batch position.
- numpy fuzzer: bincount refuses complex weights, empty ones too (NumPy 2.4 refuses non-empty
  ones and gives int64 zeros for empty ones), with a message that says what to pass.
"""

import numpy as np
import pytest

import functrans as ft
import functrans.lax as flax
import functrans.numpy as fnp


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("axis", [0, 2, 4])
def test_vmapped_conv_with_negative_padding_is_each_member_alone(dtype, axis):
    rng = np.random.default_rng(52)
    pad = [(-1, 0), (-1, 1)]
    xs = np.moveaxis(rng.standard_normal((3, 1, 2, 3, 2)).astype(dtype), 0, axis)
    w = rng.standard_normal((2, 2, 2, 2)).astype(dtype)
    for strides in [(1, 1), (2, 2)]:
        def conv(x):
            return flax.conv_general_dilated(x, w, strides, pad)
        got = np.asarray(ft.vmap(conv, in_axes=axis)(xs))
        members = [np.asarray(conv(m)) for m in np.moveaxis(xs, axis, 0)]
        want = np.stack(members)
        assert got.dtype == np.dtype(dtype) and got.shape == want.shape == (3, 1, 2, 1, 1)
        np.testing.assert_allclose(got, want, rtol=1e-5 if dtype == "float32" else 1e-13,
                                   atol=1e-6 if dtype == "float32" else 1e-14)
        # each member against the sum written out: rows 0..0 and columns 0..1 of the crop
        # (padding (-1, 0) drops the first row, (-1, 1) the first column and adds one zero)
        for m, y in zip(np.moveaxis(xs, axis, 0), members):
            x = np.pad(m.astype(np.float64)[:, :, 1:, 1:], [(0, 0), (0, 0), (0, 0), (0, 1)])
            ref = np.einsum("nchw,ochw->no", x[:, :, 0:2, 0:2], w.astype(np.float64))
            np.testing.assert_allclose(y[:, :, 0, 0], ref, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("n", [0, 2])
def test_bincount_refuses_complex_weights_with_the_way_out(n):
    x = np.arange(n)
    w = np.ones(n, complex)
    with pytest.raises(TypeError, match=r"complex weights are not supported.*w\.real"):
        fnp.bincount(x, weights=w, minlength=3)
    # the way out the message gives
    got = fnp.bincount(x, weights=w.real, minlength=3)
    np.testing.assert_array_equal(np.asarray(got), np.bincount(x, weights=w.real, minlength=3))
