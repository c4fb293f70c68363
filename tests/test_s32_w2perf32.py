"""Session 32 (w2perf32): speed of the NumPy path without changing a value.

- broadcast_in_dim of a view that is not contiguous (a transpose, a strided slice) is a
  stride-0 view on the array owning the memory, no longer np.broadcast_to's several frames
  (jit(hessian) of slogdet broadcasts two transposed operands per call);
- slogdet_inv on NumPy calls np.linalg.inv directly where every matrix is invertible (the
  generic impl, for singular matrices, is unchanged).
"""

import functools

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.backends import backend_of
from functrans.core import registry


def _numpy_impl(name):
    return registry[name].impl_for(backend_of(np.zeros(1)))


def _expected_broadcast(x, shape, dims):
    expanded = [1] * len(shape)
    for i, d in enumerate(dims):
        expanded[d] = x.shape[i]
    return np.broadcast_to(np.reshape(x, expanded), shape)


def _views():
    rng = np.random.default_rng(0)
    base = rng.standard_normal((4, 6, 6))
    frozen = base.copy()
    frozen.flags.writeable = False
    fortran = np.asfortranarray(base)
    wide = np.ones((3, 1, 4))
    return [
        (base.transpose(0, 2, 1), (3, 4, 6, 6), (1, 2, 3)),   # a transpose: the whole buffer
        (base[::-1, ::2], (2, 4, 3, 6), (1, 2, 3)),            # a negative step
        (base[:, ::-2, 1:], (4, 3, 5), (0, 1, 2)),
        (frozen.transpose(1, 0, 2), (6, 4, 2, 6), (0, 1, 3)),  # of a read-only array
        (fortran[:, ::2], (4, 3, 6, 2), (0, 1, 2)),            # of a Fortran-ordered one
        (base[1:, 2:, 3].T, (4, 3, 2), (0, 1)),                # offset into the buffer
        (base.view(np.complex128)[:, ::2], (4, 3, 3), (0, 1, 2)),  # another dtype's view
        (wide[:, :, ::2].T, (2, 1, 3), (0, 1, 2)),             # a length-1 axis
        (base[..., 0][:, ::2], (4, 3, 7), (0, 1)),
        (base[0, 0, ::2], (3, 3), (1,)),
        (np.broadcast_to(base[0, :1, :1], (3, 5)).T, (2, 5, 3), (1, 2)),  # a broadcast
        (base[:0, ::2], (2, 0, 3, 6), (1, 2, 3)),              # empty
    ]


def test_broadcast_in_dim_of_non_contiguous_views_is_a_read_only_view():
    impl = _numpy_impl("broadcast_in_dim")
    for x, shape, dims in _views():
        before = x.copy()
        out = impl(x, shape=shape, dims=dims)
        want = _expected_broadcast(x, shape, dims)
        assert out.shape == want.shape and out.dtype == want.dtype
        assert np.array_equal(out, want)
        assert not out.flags.writeable  # (a write would reach the caller's array)
        if x.size:
            assert np.shares_memory(out, x)  # a view, never a copy
        np.testing.assert_array_equal(x, before)


def test_broadcast_in_dim_of_a_transpose_skips_numpy_broadcast_to(monkeypatch):
    # the fast path: a transposed operand (as jit(hessian) stages) no longer takes
    # np.broadcast_to's Python layers
    calls = []
    real = np.broadcast_to
    monkeypatch.setattr(np, "broadcast_to", lambda *a, **k: calls.append(1) or real(*a, **k))
    impl = _numpy_impl("broadcast_in_dim")
    x = np.arange(24.0).reshape(2, 3, 4).transpose(0, 2, 1)
    out = impl(x, shape=(5, 2, 4, 3), dims=(1, 2, 3))
    assert calls == []
    assert np.array_equal(out, _expected_broadcast(x, (5, 2, 4, 3), (1, 2, 3)))
    # a NumPy scalar still takes the general path
    assert np.array_equal(impl(np.float64(1.5), shape=(2, 3), dims=()), np.full((2, 3), 1.5))


def test_slogdet_inv_numpy_fast_path_equals_the_generic_impl():
    fast = _numpy_impl("slogdet_inv")
    generic = functools.partial(registry["slogdet_inv"].impl, backend_of(np.zeros(1)))
    rng = np.random.default_rng(3)
    regular = rng.standard_normal((2, 3, 4, 4))
    cases = [regular, regular.astype(np.float32), regular[0, 0],
             regular[0] + 1j * rng.standard_normal((3, 4, 4)),
             np.stack([np.eye(3), [[1.0, 2.0, 0.0], [2.0, 4.0, 0.0], [0.0, 0.0, 1.0]]])]
    with np.errstate(invalid="ignore", divide="ignore"):
        for x in cases:
            a, s = fast(x)
            ga, gs = generic(x)
            assert a.dtype == ga.dtype == x.dtype and s.dtype == gs.dtype == x.dtype
            assert s.shape == gs.shape == x.shape[:-2]
            np.testing.assert_array_equal(a, ga)
            np.testing.assert_array_equal(s, gs)
    # the singular matrix of the last stack: adj and inf there, inv and 1 beside it
    a, s = fast(cases[-1])
    assert s[0] == 1.0 and s[1] == np.inf
    np.testing.assert_array_equal(a[0], np.eye(3))
    with pytest.raises(TypeError, match="float16"):
        fast(np.eye(2, dtype=np.float16))


def test_slogdet_inv_of_invertible_matrices_skips_the_generic_layers(monkeypatch):
    b = backend_of(np.zeros(1))
    calls = []
    real = b.device
    monkeypatch.setattr(b, "device", lambda x: calls.append(1) or real(x))
    a, s = _numpy_impl("slogdet_inv")(np.array([[2.0, 1.0], [1.0, 3.0]]))
    assert calls == []
    np.testing.assert_array_equal(a, np.linalg.inv([[2.0, 1.0], [1.0, 3.0]]))
    assert s == 1.0


def test_jit_hessian_of_slogdet_is_the_closed_form():
    # d^2 log|det X| / dX_ij dX_kl = -(X^-1)_jk (X^-1)_li
    x = np.array([[2.0, 1.0, 0.5], [0.3, 3.0, 1.0], [0.2, 0.4, 1.5]])
    inv = np.linalg.inv(x)
    want = -np.einsum("jk,li->ijkl", inv, inv)
    f = ft.hessian(lambda m: fnp.linalg.slogdet(m)[1])
    for h in (f, ft.jit(f)):
        np.testing.assert_allclose(h(x), want, rtol=1e-13, atol=1e-14)
    # singular: the second derivative's limit is still non-finite (as before)
    with np.errstate(invalid="ignore", divide="ignore"):
        hs = ft.jit(f)(np.array([[1.0, 2.0], [2.0, 4.0]]))
    assert not np.isfinite(hs).any()


def test_broadcast_of_a_transposed_input_aliasing():
    # jit's result never shares memory with the caller's array; the eager broadcast is a
    # read-only view (NumPy's np.broadcast_to's behaviour), so it cannot write into it
    x = np.arange(6.0).reshape(2, 3)
    before = x.copy()
    r = ft.jit(lambda v: fnp.broadcast_to(v.T, (4, 3, 2)))(x)
    assert not np.shares_memory(r, x)
    np.testing.assert_array_equal(r, np.broadcast_to(x.T, (4, 3, 2)))
    e = fnp.broadcast_to(fnp.asarray(x).T, (4, 3, 2))
    assert not e.flags.writeable
    with pytest.raises(ValueError):
        e[0, 0, 0] = 1.0
    g = ft.jit(ft.grad(lambda v: fnp.sum(fnp.broadcast_to(v.T, (4, 3, 2)) ** 2)))(x)
    np.testing.assert_array_equal(g, 8.0 * x)  # d/dv sum over 4 copies of v^2
    assert not np.shares_memory(g, x)
    np.testing.assert_array_equal(x, before)
