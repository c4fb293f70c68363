"""Review s19b: the changes of round s19 (checkpoint policies, constants' __torch_function__,
Tracer.__torch_function__, the staged scan fix, the vmap table fixes) stressed together.

A plain torch tensor indexed by a tracer (``table[i]``): torch's indexing asked the tracer for
its length and items before handing the call to ``__torch_function__`` (its heuristic for
"a non-tuple sequence of indices"), which warned (a UserWarning deprecated since torch 2.9)
and traced throwaway ``i[k]`` items. A tracer is no sequence of indices there: the length
query made by another library's subscript now declines. ``table[c, i]`` with ``c`` a
constant made inside the transform reached the constant's ``__torch_function__`` (the most
derived), which refused the traced ``i``; and a constant holding NumPy positions, unlike the
plain NumPy array, could not index another library's array (BackendMismatchError).

Also checked against JAX: the staged scan with buffered and small outputs (jit, grad,
vmap, reverse, unroll) and repeat's ``total_repeat_length`` (jit, grad, jvp, vmap)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.errors import TracerArrayConversionError


def _torch():
    return pytest.importorskip("torch")


@pytest.mark.parametrize("transform", ["jit", "vmap", "grad", "jacfwd"])
def test_torch_table_indexed_by_a_tracer_is_not_a_sequence_of_indices(transform):
    torch = _torch()
    t0 = np.arange(16.0).reshape(4, 4) ** 1.5
    table = torch.tensor(t0)

    def f(x):
        i = fnp.argsort(x)[:2]            # a traced 1-d index
        c = fnp.asarray(np.array([2, 0]))  # a constant of the transform
        j = fnp.argmax(x)
        return (fnp.sum(table[i] * x[0]) + fnp.sum(table[c]) * x[1] + fnp.sum(table[j])
                + fnp.sum(table[:, i[0]]) + fnp.sum(table[i, 1:]) * x[2])
    x0 = np.array([0.3, 2.0, 1.1, 0.7])

    def want(x):
        i = np.argsort(x)[:2]
        return ((t0[i] * x[0]).sum() + t0[[2, 0]].sum() * x[1] + t0[np.argmax(x)].sum()
                + t0[:, i[0]].sum() + t0[i, 1:].sum() * x[2])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        if transform == "vmap":
            xs = np.stack([x0, x0[::-1]])
            out = ft.vmap(f)(torch.tensor(xs))
            np.testing.assert_allclose(out.numpy(), [want(x0), want(x0[::-1])], rtol=1e-14)
        elif transform == "jit":
            assert float(ft.jit(f)(torch.tensor(x0))) == pytest.approx(want(x0), rel=1e-14)
        else:
            g = getattr(ft, transform)(f)(torch.tensor(x0))
            e = np.eye(4)
            num = [(want(x0 + 1e-6 * e[k]) - want(x0 - 1e-6 * e[k])) / 2e-6 for k in range(4)]
            np.testing.assert_allclose(g.numpy(), num, rtol=1e-7, atol=1e-7)


def test_len_of_a_tracer_still_works_and_plain_numpy_indexing_still_refused():
    torch = _torch()

    def f(x):
        assert len(x) == 3 and len(list(x)) == 3
        return fnp.sum(x[:len(x) - 1])
    assert float(ft.jit(f)(np.ones(3))) == 2.0
    table = np.arange(6.0)
    with pytest.raises(TracerArrayConversionError, match="take"):
        ft.jit(lambda i: table[i])(np.array([1, 2]))
    # writing through a tracer index into a plain tensor: the clear TypeError, no warning
    t = torch.zeros(3)

    def g(i):
        t[i] = 1.0
        return i
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(TypeError, match="functrans.numpy"):
            ft.jit(g)(torch.tensor([0, 1]))


@pytest.mark.parametrize("transform", ["jit", "vmap", "grad"])
def test_torch_table_indexed_by_a_constant_beside_a_tracer(transform):
    # constant (made inside the transform) and traced index parts together: the constant's
    # __torch_function__ (the most derived) answered, and refused the traced part; a
    # constant holding NumPy positions indexes as those plain NumPy positions do
    torch = _torch()
    t0 = np.arange(16.0).reshape(4, 4) ** 1.5
    table = torch.tensor(t0)

    def f(x):
        i = fnp.argsort(x)[:2]
        c_np = fnp.asarray(np.array([1, 2]))
        c_t = fnp.asarray(torch.tensor([3, 0]))
        y = fnp.asarray(table)  # a constant holding the table
        return (fnp.sum(table[c_np, i] * x[0]) + fnp.sum(table[i, c_t]) * x[1]
                + fnp.sum(table[c_t, fnp.argmax(x)]) + fnp.sum(y[i, c_np]) * x[2]
                + fnp.sum(x[c_np]) + fnp.sum(x[i, None][:, c_np[:1] * 0]))

    def want(x):
        i = np.argsort(x)[:2]
        return ((t0[[1, 2], i] * x[0]).sum() + t0[i, [3, 0]].sum() * x[1]
                + t0[[3, 0], np.argmax(x)].sum() + t0[i, [1, 2]].sum() * x[2]
                + x[[1, 2]].sum() + x[i].sum())
    x0 = np.array([0.3, 2.0, 1.1, 0.7])
    if transform == "vmap":
        xs = np.stack([x0, x0[::-1]])
        np.testing.assert_allclose(ft.vmap(f)(torch.tensor(xs)).numpy(),
                                   [want(x0), want(x0[::-1])], rtol=1e-14)
    elif transform == "jit":
        assert float(ft.jit(f)(torch.tensor(x0))) == pytest.approx(want(x0), rel=1e-14)
    else:
        e = np.eye(4)
        num = [(want(x0 + 1e-6 * e[k]) - want(x0 - 1e-6 * e[k])) / 2e-6 for k in range(4)]
        np.testing.assert_allclose(ft.grad(f)(torch.tensor(x0)).numpy(), num, rtol=1e-7,
                                   atol=1e-7)


def test_torch_write_beside_a_constant_index_is_refused_clearly():
    torch = _torch()
    t = torch.zeros(4)

    def f(x):
        t[fnp.asarray(np.array([1]))] = x[0]
        return x
    with pytest.raises(TypeError, match="functrans.numpy"):
        ft.jit(f)(torch.ones(2))
    assert not t.any()


# -- the staged scan with buffered and small outputs, against JAX ------------------------------

def _jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    return jax


@pytest.mark.parametrize("kw", [{}, {"reverse": True}, {"unroll": 3},
                                {"reverse": True, "unroll": 4}])
def test_staged_scan_mixed_outputs_under_jit_grad_and_vmap_match_jax(kw):
    jax = _jax()
    jnp = jax.numpy
    L, N = 90, 100  # a (N,) float64 y over L steps is past buffers.MIN_BYTES: buffered
    rng = np.random.default_rng(0)
    xs0, w0 = rng.normal(size=(L, N)), rng.normal(size=N)

    def body(lib):
        def step(c, x):
            big = lib.sin(c * x)
            return c * 0.9 + 0.1 * big, (big, lib.sum(big) * c[0], big[:2] * 3.0,
                                         lib.stack([lib.sum(x), lib.max(c)]))
        return step

    def loss(lib, scan):
        def f(w, xs):
            c, (a, b, d, e) = scan(body(lib), w, xs, **kw)
            return lib.sum(c) + lib.sum(a * 0.5) + lib.sum(b ** 2) + lib.sum(d) + lib.sum(e * e)
        return f
    ff, fj = loss(fnp, ft.lax.scan), loss(jnp, jax.lax.scan)
    ws = np.stack([w0, 0.5 * w0])
    np.testing.assert_allclose(ft.jit(ff)(w0, xs0), fj(w0, xs0), rtol=1e-12)
    gw = np.asarray(jax.grad(fj)(w0, xs0))
    for g in (ft.jit(ft.grad(ff)), ft.grad(ft.jit(ff))):
        np.testing.assert_allclose(g(w0, xs0), gw, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ft.vmap(ft.jit(ff), in_axes=(0, None))(ws, xs0),
                               jax.vmap(fj, in_axes=(0, None))(ws, xs0), rtol=1e-12)
    np.testing.assert_allclose(ft.jit(ft.vmap(ft.grad(ff), in_axes=(0, None)))(ws, xs0),
                               jax.vmap(jax.grad(fj), in_axes=(0, None))(ws, xs0),
                               rtol=1e-10, atol=1e-12)
    got = ft.jit(lambda w, x: ft.lax.scan(body(fnp), w, x, **kw))(w0, xs0)
    want = jax.lax.scan(body(jnp), w0, xs0, **kw)
    for a, b in zip(jax.tree_util.tree_leaves(got), jax.tree_util.tree_leaves(want)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-12, atol=1e-14)


def test_staged_scan_mixed_outputs_on_torch_and_strict(backend):
    L, N = 90, 100
    rng = np.random.default_rng(1)
    xs0, w0 = rng.normal(size=(L, N)), rng.normal(size=N)

    def step(c, x):
        big = fnp.sin(c * x)
        return c * 0.9 + 0.1 * big, (big, fnp.sum(big) * c[0], x[:2], big * 2.0)
    for reverse in (False, True):
        c, ys = ft.jit(lambda w, x: ft.lax.scan(step, w, x, reverse=reverse))(
            backend.asarray(w0), backend.asarray(xs0))
        cw, want = w0.copy(), []
        for i in (range(L - 1, -1, -1) if reverse else range(L)):
            big = np.sin(cw * xs0[i])
            want.append((big, big.sum() * cw[0], xs0[i, :2], 2.0 * big))
            cw = 0.9 * cw + 0.1 * big
        want = [np.stack(t) for t in zip(*(want[::-1] if reverse else want))]
        np.testing.assert_allclose(backend.to_numpy(c), cw, rtol=1e-13)
        for a, b in zip(ys, want):
            np.testing.assert_allclose(backend.to_numpy(a), b, rtol=1e-13, atol=1e-15)


# -- repeat's total_repeat_length against JAX ---------------------------------------------------

_REPEATS = [(2, None, 9), (2, None, 14), ([1, 0, 3], 1, 3), ([1, 0, 3], 1, 6), ([1, 0, 3], 1, 2),
            ([2, 1], 0, 5), ([2, 1], 0, 0), (3, 1, 4), ([1, 2, 0, 1, 1, 0], None, 4),
            ([0, 0, 0], 1, 2)]


@pytest.mark.parametrize("r,axis,total", _REPEATS)
def test_repeat_total_repeat_length_under_transforms_matches_jax(r, axis, total):
    jax = _jax()
    jnp = jax.numpy
    x0 = np.arange(1.0, 7.0).reshape(2, 3) ** 1.3
    r = np.asarray(r) if isinstance(r, list) else r

    def f(x, r):
        return fnp.repeat(x, r, axis=axis, total_repeat_length=total)

    def fj(x, r):
        return jnp.repeat(x, r, axis=axis, total_repeat_length=total)
    want = np.asarray(fj(x0, r))
    ct = np.cos(np.arange(want.size)).reshape(want.shape)
    np.testing.assert_array_equal(ft.jit(f)(x0, r), want)
    np.testing.assert_array_equal(
        ft.jit(lambda x, r: fnp.asarray(x).repeat(r, axis=axis, total_repeat_length=total))(
            x0, r), want)
    gj = np.asarray(jax.grad(lambda x: jnp.sum(fj(x, r) * ct))(x0))
    np.testing.assert_allclose(ft.grad(lambda x: fnp.sum(f(x, r) * ct))(x0), gj, rtol=1e-14)
    np.testing.assert_allclose(ft.jit(ft.grad(lambda x, r: fnp.sum(f(x, r) * ct)))(x0, r), gj,
                               rtol=1e-14)
    t = np.cos(x0)
    np.testing.assert_allclose(ft.jvp(lambda x: f(x, r), (x0,), (t,))[1],
                               jax.jvp(lambda x: fj(x, r), (x0,), (t,))[1], rtol=1e-14)
    if np.ndim(r) == 1:
        rs = np.stack([r, r[::-1]])
        np.testing.assert_array_equal(ft.vmap(f, in_axes=(None, 0))(x0, rs),
                                      jax.vmap(fj, in_axes=(None, 0))(x0, rs))
        np.testing.assert_array_equal(ft.vmap(f)(np.stack([x0, 2 * x0]), rs),
                                      jax.vmap(fj)(np.stack([x0, 2 * x0]), rs))
        np.testing.assert_allclose(
            ft.vmap(ft.grad(lambda x, r: fnp.sum(f(x, r) * ct)), in_axes=(None, 0))(x0, rs),
            jax.vmap(jax.grad(lambda x, r: jnp.sum(fj(x, r) * ct)), in_axes=(None, 0))(x0, rs),
            rtol=1e-14)


@pytest.mark.parametrize("total", [None, 4])
def test_repeat_refuses_repeats_of_the_wrong_shape_sign_or_dtype(total):
    # were: a repeats of 2 for an axis of 3 gave a result (of 2 elements' repeats), one of 4
    # an IndexError, negative counts a result, float counts a result or "'float' object is
    # not iterable"; NumPy and JAX refuse them
    x = np.arange(3.0)
    kw = {"total_repeat_length": total}
    for r in (np.array([1, 2]), [1, 2, 3, 4], np.ones((3, 1), np.int64)):
        with pytest.raises(ValueError, match=r"repeats.*shape"):
            fnp.repeat(x, r, **kw)
        with pytest.raises(ValueError, match=r"repeats.*shape"):  # (traced: shapes known)
            ft.jit(lambda r: fnp.repeat(x, r, total_repeat_length=4))(np.asarray(r))
    for r in (np.array([-1, 2, 3]), -2):
        with pytest.raises(ValueError, match="negative"):
            fnp.repeat(x, r, **kw)
    for r in (2.0, np.array([1.0, 2.0, 0.0])):
        with pytest.raises(TypeError, match="integer"):
            fnp.repeat(x, r, **kw)
    # what works stays: bools count as 0/1 (as in NumPy), a list, a 0-d array
    np.testing.assert_array_equal(fnp.repeat(x, [True, False, True]), [0.0, 2.0])
    np.testing.assert_array_equal(fnp.repeat(x, np.array(2)), np.repeat(x, 2))
