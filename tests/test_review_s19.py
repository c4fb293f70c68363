"""Review s19: regressions found porting round 10's programs (test_ported_programs10.py).

A plain array indexed at traced positions (``table[i]``, a lookup JAX code writes with the
table a constant): a torch tensor treated the tracer as a sequence of indices (IndexError
'too many indices', or silently a different selection); array-api-strict compared the tracer
with ``...`` through functrans.numpy.equal (AttributeError: 'ellipsis' object has no
attribute 'dtype'). torch now hands the call to the tracer's ``__torch_function__``, which
indexes as a tracer is (as JAX does); array-api-strict reaches the conversion and its clear
TracerArrayConversionError (NumPy's error already), whose hint names ``take``. A tracer
compared with ``...``, None or a slice is not equal (Python's identity), and torch's own
functions given a tracer say to use functrans.numpy's.

And a staged ``scan`` (under ``jit``) whose outputs were both large and small returned wrong
values for the small ones (functrans/control_flow.py, ``_scan_impl``)."""

from __future__ import annotations

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.errors import TracerArrayConversionError


def test_plain_torch_tensor_indexed_at_traced_positions():
    torch = pytest.importorskip("torch")
    t0 = np.arange(12.0).reshape(3, 4) / 5
    table = torch.tensor(t0)
    idx = torch.tensor([2, 0, 2])

    def f(w, i):
        return fnp.sum(w * table[i]) + fnp.sum(table[i, 1:] ** 2) + fnp.sum(table[:, i[0]])
    w = torch.ones(4, dtype=torch.float64)
    value = (t0[[2, 0, 2]].sum() + (t0[[2, 0, 2], 1:] ** 2).sum() + t0[:, 2].sum())
    for fn in (f, ft.jit(f)):
        assert float(fn(w, idx)) == pytest.approx(value, rel=1e-14)
    g = ft.grad(f)(w, idx)
    assert isinstance(g, torch.Tensor)
    np.testing.assert_allclose(g.numpy(), t0[[2, 0, 2]].sum(0), rtol=1e-14)
    rows = ft.vmap(lambda i: table[i])(idx)
    np.testing.assert_array_equal(rows.numpy(), t0[[2, 0, 2]])
    # the gradient in the table itself, made a tracer, is unchanged: a scatter-add
    gt = ft.grad(lambda t: fnp.sum(t[idx] ** 2))(table)
    want = np.zeros((3, 4))
    np.add.at(want, [2, 0, 2], 2 * t0[[2, 0, 2]])
    np.testing.assert_allclose(gt.numpy(), want, rtol=1e-14)


def test_torch_operators_beside_a_tracer_still_reach_the_tracer():
    torch = pytest.importorskip("torch")
    a = torch.tensor([1.0, 2.0], dtype=torch.float64)

    def f(x):
        return fnp.sum(a * x + a - x + a / x + a ** x + (a @ x) + fnp.where(a < x, 1.0, 0.0)
                       + fnp.where(a == x, 1.0, 0.0))
    x0 = np.array([3.0, 2.0])
    g = ft.grad(f)(torch.tensor(x0))
    a0 = np.array([1.0, 2.0])
    want = 2 * a0 - 1 - a0 / x0 ** 2 + a0 ** x0 * np.log(a0) + a0
    np.testing.assert_allclose(g.numpy(), want, rtol=1e-13)


def test_torch_functions_given_a_tracer_say_what_to_use():
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError, match=r"torch\.sum got a functrans tracer.*functrans"
                                        r"\.numpy"):
        ft.grad(lambda x: torch.sum(x))(torch.ones(2, dtype=torch.float64))
    def write(x):
        buf = torch.zeros(3, dtype=torch.float64)
        buf[0] = x[0]
        return fnp.sum(x)
    for t in (ft.grad, ft.jit):
        with pytest.raises(TypeError, match=r"cannot be written into a plain torch tensor.*"
                                            r"\(stack, concat, where\)"):
            t(write)(torch.ones(2, dtype=torch.float64))
    with pytest.raises(TypeError, match=r"torch\.Tensor\.add got a functrans tracer"):
        ft.grad(lambda x: torch.ones(2, dtype=torch.float64).add(x))(
            torch.ones(2, dtype=torch.float64))


def test_plain_numpy_or_strict_array_indexed_at_traced_positions_names_take(backend):
    if backend.name == "torch":
        pytest.skip("torch indexes (test above)")
    table = backend.asarray(np.arange(4.0) / 5)  # (1-D: array-api-strict wants 1 index a dim)
    idx = backend.asarray([2, 0], dtype="int64")
    with pytest.raises(TracerArrayConversionError, match=r"functrans\.numpy\.take\(x, i"):
        ft.jit(lambda i: table[i])(idx)
    # what the hint says works
    got = ft.jit(lambda i: fnp.take(table, i, axis=0))(idx)
    np.testing.assert_array_equal(backend.to_numpy(got), backend.to_numpy(table)[[2, 0]])


@pytest.mark.parametrize("other", [Ellipsis, None, slice(None)])
def test_tracer_compared_with_ellipsis_none_or_slice_is_not_equal(backend, other):
    x = backend.asarray([1.0, 2.0])
    seen = []

    def f(x):
        seen.append((x == other, x != other))
        return fnp.sum(x)
    for t in (ft.jit(f), ft.grad(f), ft.vmap(f)):
        seen.clear()
        t(x)
        assert seen == [(False, True)]
    # arrays and numbers still compare elementwise
    got = ft.jit(lambda x: (x == 2.0, x != x))(x)
    np.testing.assert_array_equal(backend.to_numpy(got[0]), [False, True])
    np.testing.assert_array_equal(backend.to_numpy(got[1]), [False, False])


@pytest.mark.parametrize("reverse", [False, True])
def test_staged_scan_with_large_and_small_ys_keeps_each_output(backend, reverse):
    """A staged scan writes each large output (>= buffers.MIN_BYTES in all) step by step into
    one buffer and stacks the small ones at the end; with both kinds among its outputs the
    small ones were read from one list with a stride counting the large ones too: wrong
    values (a length-1 result, or another output's steps) or 'need at least one array to
    stack'. Found rolling out 20000 episodes by vmap (large states, small scalars)."""
    from functrans import buffers
    n = buffers.MIN_BYTES // 8 + 1
    big = backend.asarray(np.arange(float(n)))

    def body(c, x):
        return c + 1.0, (c, c * big, c + 10.0, x)
    xs = backend.asarray([5.0, 6.0, 7.0])
    for run in (ft.jit(lambda c, xs: ft.lax.scan(body, c, xs, reverse=reverse)),
                lambda c, xs: ft.lax.scan(body, c, xs, reverse=reverse)):
        carry, (a, b, c, d) = run(backend.asarray(0.0), xs)
        steps = np.array([2.0, 1.0, 0.0]) if reverse else np.array([0.0, 1.0, 2.0])
        assert float(backend.to_numpy(carry)) == 3.0
        np.testing.assert_array_equal(backend.to_numpy(a), steps)
        np.testing.assert_array_equal(backend.to_numpy(b)[:, 3], 3 * steps)
        np.testing.assert_array_equal(backend.to_numpy(c), steps + 10)
        np.testing.assert_array_equal(backend.to_numpy(d), [5.0, 6.0, 7.0])
