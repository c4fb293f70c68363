"""Review s19b: the changes of round s19 (checkpoint policies, constants' __torch_function__,
Tracer.__torch_function__, the staged scan fix, the vmap table fixes) stressed together.

A plain torch tensor indexed by a tracer (``table[i]``): torch's indexing asked the tracer for
its length and items before handing the call to ``__torch_function__`` (its heuristic for
"a non-tuple sequence of indices"), which warned (a UserWarning deprecated since torch 2.9)
and traced throwaway ``i[k]`` items. A tracer is no sequence of indices there: the length
query made by another library's subscript now declines."""

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
