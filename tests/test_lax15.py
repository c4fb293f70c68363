"""functrans.lax, session 15: gather and the scatters (on functrans.numpy's take and the
``.at`` updates), shape/creation helpers, mulhi, reduce_precision, approx top-k,
optimization_barrier, platform_dependent, ragged_dot, the convolution helpers and the
special-function aliases.

Expected values are NumPy computations or literal tables checked against jax.lax 0.10
(jax_enable_x64); jax itself is not imported. Gather/scatter are compared with a naive
per-element reference of XLA's semantics (below), itself pinned to JAX's values.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import functrans as ft
import functrans.lax as lax
import functrans.numpy as fnp
from functrans.testing import check_grads

# -- a naive reference of XLA's gather and scatter ------------------------------------------


def _layout(shape, idx_shape, window_dims, dropped, ndim_out_extra):
    batch = tuple(idx_shape[:-1])
    n_out = len(batch) + len(window_dims)
    bpos = [p for p in range(n_out) if p not in window_dims]
    kept = [d for d in range(len(shape)) if d not in dropped]
    return batch, n_out, bpos, kept


def _start(x_shape, idx, b, sim, obd, sibd, sizes, clip):
    start = [0] * len(x_shape)
    for k, d in enumerate(sim):
        start[d] = int(idx[b + (k,)])
    ok = all(0 <= start[d] <= x_shape[d] - sizes[d] for d in sim)
    for d, bd in zip(obd, sibd):
        start[d] = b[bd]
    if clip:
        start = [min(max(s, 0), n - w) for s, n, w in zip(start, x_shape, sizes)]
    return start, ok


def ref_gather(x, idx, dn, sizes, mode):
    offset, collapsed, sim, obd, sibd = dn
    batch, n_out, bpos, kept = _layout(x.shape, idx.shape, offset, set(collapsed) | set(obd),
                                       0)
    out_shape = [0] * n_out
    for p, s in zip(bpos, batch):
        out_shape[p] = s
    for d, p in zip(kept, offset):
        out_shape[p] = sizes[d]
    out = np.empty(out_shape, x.dtype)
    for o in np.ndindex(*out_shape):
        b = tuple(o[p] for p in bpos)
        start, ok = _start(x.shape, idx, b, sim, obd, sibd, sizes, True)
        for d, p in zip(kept, offset):
            start[d] += o[p]
        out[o] = x[tuple(start)] if ok or mode == "clip" else np.nan
    return out


_OPS = {"scatter": lambda a, u: u, "scatter_add": lambda a, u: a + u,
        "scatter_sub": lambda a, u: a - u, "scatter_mul": lambda a, u: a * u,
        "scatter_min": min, "scatter_max": max}


def ref_scatter(op, x, idx, u, dn, mode):
    uwd, inserted, sim, obd, sibd = dn
    batch, n_up, bpos, kept = _layout(x.shape, idx.shape, uwd, set(inserted) | set(obd), 0)
    sizes = [1] * x.ndim
    for d, p in zip(kept, uwd):
        sizes[d] = u.shape[p]
    y = np.array(x, copy=True)
    for o in np.ndindex(*u.shape):
        b = tuple(o[p] for p in bpos)
        start, ok = _start(x.shape, idx, b, sim, obd, sibd, sizes, mode == "clip")
        if not ok and mode != "clip":
            continue
        for d, p in zip(kept, uwd):
            start[d] += o[p]
        y[tuple(start)] = _OPS[op](y[tuple(start)], u[o])
    return y


# (operand shape, start indices, (offset/window dims, collapsed/inserted, start map, operand
# batching dims, indices batching dims), slice sizes)
CASES = {
    "rows": ((3, 4), [[1], [-1], [5]], ((1,), (0,), (0,), (), ()), (1, 4)),
    "windows": ((3, 4), [[0, 1], [2, 3]], ((1, 2), (), (0, 1), (), ()), (2, 2)),
    "batching": ((2, 3, 4), [[[0], [2]], [[1], [5]]], ((2,), (1,), (1,), (0,), (0,)),
                 (1, 1, 4)),
    "middle": ((3, 4, 2), [[3, 0], [1, 2], [0, -1]], ((0, 2), (1,), (1, 0), (), ()),
               (2, 1, 2)),
}


def _case(name):
    shape, idx, dn, sizes = CASES[name]
    x = np.arange(math.prod(shape), dtype=float).reshape(shape)
    return x, np.asarray(idx), dn, sizes


def _updates(shape):
    return (np.arange(math.prod(shape)).reshape(shape) % 5 + 1.0) * 10


def test_reference_matches_jax_values():
    """The naive reference against values jax.lax gave for these cases."""
    x, idx, dn, sizes = _case("rows")
    np.testing.assert_array_equal(ref_gather(x, idx, dn, sizes, "fill"),
                                  [[4, 5, 6, 7], [np.nan] * 4, [np.nan] * 4])
    np.testing.assert_array_equal(ref_gather(x, idx, dn, sizes, "clip"),
                                  [[4, 5, 6, 7], [0, 1, 2, 3], [8, 9, 10, 11]])
    x, idx, dn, sizes = _case("batching")
    np.testing.assert_array_equal(
        ref_gather(x, idx, dn, sizes, "fill"),
        [[[0, 1, 2, 3], [8, 9, 10, 11]], [[16, 17, 18, 19], [np.nan] * 4]])
    x, idx, dn, sizes = _case("windows")
    u = _updates((2, 2, 2))
    np.testing.assert_array_equal(ref_scatter("scatter_add", x, idx, u, dn, "clip"),
                                  [[0, 11, 22, 3], [4, 35, 96, 17], [8, 9, 30, 41]])
    np.testing.assert_array_equal(ref_scatter("scatter_mul", x, idx, u, dn, "drop"),
                                  [[0, 10, 40, 3], [4, 150, 240, 7], [8, 9, 10, 11]])
    x, idx, dn, sizes = _case("middle")
    np.testing.assert_array_equal(
        ref_scatter("scatter_add", x, idx, _updates((2, 3, 2)), dn, "clip")[1],
        [[18, 29], [40, 51], [12, 13], [34, 45]])


@pytest.mark.parametrize("name", list(CASES))
def test_gather(backend, name):
    x, idx, dn, sizes = _case(name)
    xb, ib = backend.asarray(x), backend.asarray(idx, dtype="int32")
    for mode in (None, "clip", "fill", "promise_in_bounds", lax.GatherScatterMode.CLIP):
        got = lax.gather(xb, ib, lax.GatherDimensionNumbers(*dn), sizes, mode=mode)
        assert backend.is_own(got)
        want = ref_gather(x, idx, dn, sizes, "fill" if mode == "fill" else "clip")
        np.testing.assert_array_equal(backend.to_numpy(got), want)


@pytest.mark.parametrize("name", list(CASES))
def test_scatters(backend, name):
    x, idx, dn, sizes = _case(name)
    u = _updates(ref_gather(x, idx, dn, sizes, "clip").shape)
    xb, ib, ub = backend.asarray(x), backend.asarray(idx, "int64"), backend.asarray(u)
    sdn = lax.ScatterDimensionNumbers(*dn)
    for op in _OPS:
        for mode in ("clip", None, "promise_in_bounds"):
            got = getattr(lax, op)(xb, ib, ub, sdn, mode=mode)
            assert backend.is_own(got)
            np.testing.assert_array_equal(backend.to_numpy(got),
                                          ref_scatter(op, x, idx, u, dn, mode or "drop"))
    np.testing.assert_array_equal(backend.to_numpy(xb), x)  # never written to


def test_scatter_apply_repeats_and_integers():
    x = np.arange(6, dtype=np.int32)
    dn = lax.ScatterDimensionNumbers((), (0,), (0,))
    idx = np.array([[1], [4], [1], [9]])
    got = lax.scatter_apply(x, idx, lambda v: v * 2, dn, update_shape=(4,))
    np.testing.assert_array_equal(got, [0, 4, 2, 3, 8, 5])  # twice at 1, 9 dropped
    assert got.dtype == np.int32
    got = lax.scatter_apply(x, idx, lambda v: v + 1, dn, update_shape=(4,), mode="clip")
    np.testing.assert_array_equal(got, [0, 3, 2, 3, 5, 6])
    # integer gather fill values: the most negative / largest / True
    gdn = lax.GatherDimensionNumbers((), (0,), (0,))
    for dt, fill in (("int8", -128), ("uint16", 65535), ("bool", True)):
        g = lax.gather(x.astype(dt), np.array([[7], [2]]), gdn, (1,), mode="fill")
        assert g.dtype == np.dtype(dt) and g[0] == fill and g[1] == x.astype(dt)[2]
    g = lax.gather(x, np.array([[7]]), gdn, (1,), mode="fill", fill_value=-5)
    assert g.tolist() == [-5]


def test_gather_scatter_derivatives(backend):
    x, idx, dn, sizes = _case("middle")
    xb = backend.asarray(np.sin(x))
    ib = backend.asarray(idx, dtype="int64")
    gdn, sdn = lax.GatherDimensionNumbers(*dn), lax.ScatterDimensionNumbers(*dn)
    check_grads(lambda v: lax.gather(v, ib, gdn, sizes, mode="clip"), (xb,), order=2)
    u = backend.asarray(np.cos(_updates((2, 3, 2))))
    check_grads(lambda v, w: lax.scatter_add(v, ib, w, sdn), (xb, u), order=2)
    check_grads(lambda v, w: lax.scatter_mul(v, ib, w, sdn, mode="clip"), (xb, u), order=1)
    check_grads(lambda v, w: lax.scatter(v, ib, w, sdn), (xb, u), order=1)


def test_gather_scatter_under_vmap_and_jit():
    x, idx, dn, sizes = _case("rows")
    gdn, sdn = lax.GatherDimensionNumbers(*dn), lax.ScatterDimensionNumbers(*dn)
    idxs = np.stack([idx, idx[::-1], np.array([[0], [2], [-3]])])
    got = ft.vmap(lambda i: lax.gather(x, i, gdn, sizes, mode="fill"))(idxs)
    for k in range(3):
        np.testing.assert_array_equal(got[k], ref_gather(x, idxs[k], dn, sizes, "fill"))
    u = _updates((3, 4))
    for op in ("scatter_add", "scatter_max", "scatter_mul", "scatter"):
        f = ft.jit(lambda i, op=op: getattr(lax, op)(x, i, u, sdn))
        np.testing.assert_array_equal(f(idxs[2]), ref_scatter(op, x, idxs[2], u, dn, "drop"))
        got = ft.vmap(lambda i, op=op: getattr(lax, op)(x, i, u, sdn, mode="clip"))(idxs)
        np.testing.assert_array_equal(got[1], ref_scatter(op, x, idxs[1], u, dn, "clip"))
    with pytest.raises(NotImplementedError, match="unique_indices=True"):
        ft.jit(lambda i: lax.scatter_apply(x, i, fnp.exp, sdn, update_shape=(3, 4)))(idx)


def test_gather_scatter_errors():
    x = np.zeros((3, 4))
    gdn = lax.GatherDimensionNumbers((1,), (0,), (0,))
    with pytest.raises(TypeError, match="integer dtype"):
        lax.gather(x, np.zeros((2, 1)), gdn, (1, 4))
    with pytest.raises(TypeError, match="slice size 1"):
        lax.gather(x, np.zeros((2, 1), int), gdn, (2, 4))
    with pytest.raises(TypeError, match="start_index_map"):
        lax.gather(x, np.zeros((2, 2), int), gdn, (1, 4))
    with pytest.raises(NotImplementedError, match="ONE_HOT"):
        lax.gather(x, np.zeros((2, 1), int), gdn, (1, 4), mode="one_hot")
    with pytest.raises(ValueError, match="Unknown gather mode"):
        lax.gather(x, np.zeros((2, 1), int), gdn, (1, 4), mode="wrap")
    sdn = lax.ScatterDimensionNumbers((1,), (0,), (0,))
    with pytest.raises(TypeError, match="same dtypes"):
        lax.scatter_add(x, np.zeros((2, 1), int), np.zeros((2, 4), np.float32), sdn)
    with pytest.raises(TypeError, match="updates axis"):
        lax.scatter_add(x, np.zeros((2, 1), int), np.zeros((3, 4)), sdn)


# -- shapes, creation, types ---------------------------------------------------------------


def test_shape_helpers(backend):
    x = np.arange(12.0).reshape(3, 4)
    xb = backend.asarray(x)
    parts = lax.split(xb, [1, 3], axis=1)
    assert isinstance(parts, list) and all(backend.is_own(p) for p in parts)
    np.testing.assert_array_equal(backend.to_numpy(parts[1]), x[:, 1:])
    np.testing.assert_array_equal(backend.to_numpy(lax.tile(xb, (2, 1))), np.tile(x, (2, 1)))
    np.testing.assert_array_equal(backend.to_numpy(lax.stack([xb, xb], -1)),
                                  np.stack([x, x], -1))
    un = lax.unstack(xb, 1)
    assert isinstance(un, tuple) and len(un) == 4
    np.testing.assert_array_equal(backend.to_numpy(un[2]), x[:, 2])
    np.testing.assert_array_equal(
        backend.to_numpy(lax.broadcast_like(backend.asarray([1.0, 2, 3, 4]), xb)),
        np.broadcast_to([1.0, 2, 3, 4], (3, 4)))
    # index_take wraps indices around, as JAX's
    it = lax.index_take(xb, (backend.asarray([0, 5, -1], dtype="int64"),
                             backend.asarray([1, 2, 3], dtype="int64")), (0, 1))
    np.testing.assert_array_equal(backend.to_numpy(it), [1.0, 10.0, 11.0])


def test_shape_helper_errors_and_types():
    x = np.zeros((3, 4))
    with pytest.raises(TypeError, match="reps"):
        lax.tile(x, (2,))
    with pytest.raises(ValueError, match="add up"):
        lax.split(x, [1, 1], 0)
    with pytest.raises(TypeError, match="same dtypes"):
        lax.stack([x, x.astype(np.float32)])
    assert lax.broadcast_shapes((3, 1), (1, 4), (5, 1, 1)) == (5, 3, 4)
    with pytest.raises(ValueError, match="Incompatible shapes"):
        lax.broadcast_shapes((3,), (4,))
    e = lax.empty((2, 3), np.float32)
    assert e.shape == (2, 3) and e.dtype == np.float32
    assert [lax.dtype(v) for v in (1.0, 1, True, 1j, np.float32, "int8", x)] == [
        np.float64, np.int64, np.bool_, np.complex128, np.float32, np.int8, np.float64]


# -- mulhi, reduce_precision ---------------------------------------------------------------

MULHI = {  # dtype: (x, y, upper half of x * y), from jax.lax.mulhi
    "int8": ([-128, 127, 3, -7, 42], [127, 127, 5, 125, -28], [-64, 63, 0, -4, -5]),
    "uint16": ([0, 65535, 3, 7, 21845], [65535, 65535, 5, 65533, 100], [0, 65534, 0, 6, 33]),
    "int32": ([-2147483648, 2147483647, 3, -7, 715827882],
              [2147483647, 2147483647, 5, 2147483645, -2147483548],
              [-1073741824, 1073741823, 0, -4, -357913925]),
    "uint32": ([0, 4294967295, 3, 7, 1431655765], [4294967295, 4294967295, 5, 4294967293, 100],
               [0, 4294967294, 0, 6, 33]),
    "int64": ([-2**63, 2**63 - 1, 3, -7, 3074457345618258602],
              [2**63 - 1, 2**63 - 1, 5, 2**63 - 3, -2**63 + 100],
              [-2**62, 2**62 - 1, 0, -4, -1537228672809129285]),
    "uint64": ([0, 2**64 - 1, 3, 7, 6148914691236517205], [2**64 - 1, 2**64 - 1, 5, 2**64 - 3,
                                                           100],
               [0, 2**64 - 2, 0, 6, 33]),
}


@pytest.mark.parametrize("dt", list(MULHI))
def test_mulhi(dt):
    a, b, want = MULHI[dt]
    got = lax.mulhi(np.array(a, dt), np.array(b, dt))
    assert got.dtype == np.dtype(dt)
    np.testing.assert_array_equal(got, np.array(want, dt))
    rng = np.random.default_rng(1)  # against Python's exact integers
    info = np.iinfo(dt)
    xs = rng.integers(info.min, info.max, size=50, dtype=dt, endpoint=True)
    ys = rng.integers(info.min, info.max, size=50, dtype=dt, endpoint=True)
    exact = [(int(p) * int(q)) >> info.bits for p, q in zip(xs, ys)]
    assert [int(v) for v in lax.mulhi(xs, ys)] == exact


def test_mulhi_backends(backend):
    a, b, want = MULHI["uint32"]
    got = lax.mulhi(backend.asarray(a, "uint32"), backend.asarray(b, "uint32"))
    assert backend.is_own(got)
    np.testing.assert_array_equal(backend.to_numpy(got), want)
    a, b, want = MULHI["int64"]
    got = lax.mulhi(backend.asarray(a, "int64"), backend.asarray(b, "int64"))
    np.testing.assert_array_equal(backend.to_numpy(got), want)


RP_IN = [1.1, 65504.0, 65520.0, 6.1e-5, 5e-6, 0.1, -2.5, 1e-3, 3.0e38,
         2.0 ** -14 * (1 - 2.0 ** -11)]
RP = {  # (exponent_bits, mantissa_bits): jax.lax.reduce_precision of RP_IN
    (5, 10): [1.099609375, 65504.0, math.inf, 0.0, 0.0, 0.0999755859375, -2.5,
              0.0010004043579101562, math.inf, 0.0],
    (8, 7): [1.1015625, 65536.0, 65536.0, 6.103515625e-05, 5.0067901611328125e-06,
             0.10009765625, -2.5, 0.00099945068359375, 3.00405527047391e+38,
             6.103515625e-05],
    (4, 3): [1.125, math.inf, math.inf, 0.0, 0.0, 0.1015625, -2.5, 0.0, math.inf, 0.0],
}


def test_reduce_precision(backend):
    for dt in ("float32", "float64"):
        xb = backend.asarray(RP_IN, dt)
        for (e, m), want in RP.items():
            got = lax.reduce_precision(xb, e, m)
            assert backend.is_own(got)
            np.testing.assert_array_equal(backend.to_numpy(got), np.array(want, dt))
    special = backend.asarray([np.nan, np.inf, -np.inf, -0.0])
    got = backend.to_numpy(lax.reduce_precision(special, 2, 0))
    assert np.isnan(got[0]) and got[1] == np.inf and got[2] == -np.inf
    assert got[3] == 0 and np.signbit(got[3])
    # the derivative is the identity (tangents pass unrounded)
    _, t = ft.jvp(lambda v: lax.reduce_precision(v, 5, 10), (xb,), (xb,))
    np.testing.assert_array_equal(backend.to_numpy(t), backend.to_numpy(xb))
    with pytest.raises(TypeError, match="reduce_precision"):
        lax.reduce_precision(np.arange(3), 5, 10)


# -- approx top-k, barrier, platform_dependent ---------------------------------------------


def test_approx_k(backend):
    y = backend.asarray([[0.5, 2.0, -1.0, 2.0, 3.0], [1.0, -3.0, 4.0, 0.0, 4.0]])
    v, i = lax.approx_max_k(y, 3, recall_target=0.5)
    np.testing.assert_array_equal(backend.to_numpy(v), [[3.0, 2.0, 2.0], [4.0, 4.0, 1.0]])
    np.testing.assert_array_equal(backend.to_numpy(i), [[4, 1, 3], [2, 4, 0]])
    assert backend.to_numpy(i).dtype == np.int32
    v, i = lax.approx_min_k(y, 2, reduction_dimension=0)
    np.testing.assert_array_equal(backend.to_numpy(v), [[0.5, -3.0, -1.0, 0.0, 3.0],
                                                        [1.0, 2.0, 4.0, 2.0, 4.0]])
    np.testing.assert_array_equal(backend.to_numpy(i), [[0, 1, 0, 1, 0], [1, 0, 1, 0, 1]])
    v, _ = lax.approx_max_k(backend.asarray([1.0, np.nan, 3.0]), 2)
    assert np.isnan(backend.to_numpy(v)[0])  # nan counts as the largest
    check_grads(lambda t: lax.approx_max_k(t, 2)[0], (backend.asarray([[0.3, -1.0, 2.0]]),),
                order=1)
    with pytest.raises(NotImplementedError, match="aggregate_to_topk"):
        lax.approx_max_k(y, 2, aggregate_to_topk=False)
    with pytest.raises(TypeError, match="floating"):
        lax.approx_max_k(np.arange(4), 2)


def test_optimization_barrier_and_platform(backend):
    x = backend.asarray([1.0, 2.0])
    out = lax.optimization_barrier((x, {"a": 3.0}))
    assert backend.is_own(out[0]) and float(out[1]["a"]) == 3.0
    g = ft.grad(lambda v: fnp.sum(lax.optimization_barrier([v * v])[0]))(x)
    np.testing.assert_array_equal(backend.to_numpy(g), [2.0, 4.0])
    assert lax.platform_dependent(x, cpu=lambda v: "c", default=lambda v: "d") == "c"
    assert lax.platform_dependent(x, tpu=lambda v: "t", default=lambda v: "d") == "d"
    with pytest.raises(TypeError, match="no branch"):
        lax.platform_dependent(x, tpu=lambda v: v)


# -- ragged_dot ----------------------------------------------------------------------------


def _ragged_ref(lhs, rhs, gs):
    out, row = np.zeros((lhs.shape[0], rhs.shape[2])), 0
    for g, n in enumerate(gs):
        out[row:row + n] = lhs[row:row + n] @ rhs[g]
        row += n
    return out


def test_ragged_dot(backend):
    rng = np.random.default_rng(2)
    lhs, rhs = rng.normal(size=(6, 3)), rng.normal(size=(3, 3, 2))
    lb, rb = backend.asarray(lhs), backend.asarray(rhs)
    for gs in ([2, 0, 3], [1, 2, 3]):
        got = lax.ragged_dot(lb, rb, backend.asarray(gs, "int32"))
        assert backend.is_own(got)
        np.testing.assert_allclose(backend.to_numpy(got), _ragged_ref(lhs, rhs, gs),
                                   rtol=1e-12, atol=1e-12)
    gsb = backend.asarray([2, 1, 3], "int32")
    check_grads(lambda a, b: lax.ragged_dot(a, b, gsb), (lb, rb), order=1)
    # a ragged contracting axis: one product per group of the contraction
    l2, r2 = rng.normal(size=(2, 5)), rng.normal(size=(5, 3))
    dn = lax.RaggedDotDimensionNumbers((((1,), (0,)), ((), ())), (1,), ())
    got = lax.ragged_dot_general(backend.asarray(l2), backend.asarray(r2),
                                 backend.asarray([2, 3], "int32"), dn)
    want = np.stack([l2[:, :2] @ r2[:2], l2[:, 2:] @ r2[2:]])
    np.testing.assert_allclose(backend.to_numpy(got), want, rtol=1e-12, atol=1e-12)


# -- convolution helpers -------------------------------------------------------------------


def test_conv_patches_and_local(backend):
    img = np.arange(18.0).reshape(1, 2, 3, 3)
    got = lax.conv_general_dilated_patches(backend.asarray(img), (2, 2), (1, 1), "VALID")
    assert backend.is_own(got) and got.shape == (1, 8, 2, 2)
    np.testing.assert_array_equal(backend.to_numpy(got)[0, :, 0, 0],  # jax.lax's values
                                  [0.0, 1.0, 3.0, 4.0, 9.0, 10.0, 12.0, 13.0])
    gt = lax.conv_general_dilated_patches(backend.asarray(np.transpose(img, (0, 3, 2, 1))),
                                          (2, 1), (1, 1), "VALID",
                                          dimension_numbers=("NWHC", "WHIO", "NHWC"))
    assert gt.shape == (1, 3, 2, 4)
    np.testing.assert_array_equal(backend.to_numpy(gt)[0, 0, 0], [0.0, 1.0, 9.0, 10.0])
    # patches contracted with a kernel are the convolution; a local kernel equal at every
    # position is the convolution too
    rng = np.random.default_rng(3)
    x, w = rng.normal(size=(2, 3, 5, 4)), rng.normal(size=(4, 3, 2, 3))
    xb, wb = backend.asarray(x), backend.asarray(w)
    kw = dict(window_strides=(2, 1), padding="SAME", rhs_dilation=(1, 2))
    conv = backend.to_numpy(lax.conv_general_dilated(xb, wb, **kw))
    p = backend.to_numpy(lax.conv_general_dilated_patches(xb, (2, 3), **kw))
    np.testing.assert_allclose(np.einsum("nihw,oi->nohw", p, w.reshape(4, -1)), conv,
                               rtol=1e-12, atol=1e-12)
    wl = np.broadcast_to(w.reshape(4, -1)[:, :, None, None], (4, 18) + conv.shape[2:])
    loc = lax.conv_general_dilated_local(xb, backend.asarray(wl), filter_shape=(2, 3), **kw)
    np.testing.assert_allclose(backend.to_numpy(loc), conv, rtol=1e-12, atol=1e-12)
    check_grads(lambda a, b: lax.conv_general_dilated_local(a, b, (1, 1), "VALID", (2, 2)),
                (backend.asarray(x[:1, :1, :3, :3]),
                 backend.asarray(rng.normal(size=(2, 4, 2, 2)))), order=1)


def test_conv_shape_helpers():
    dns = ("NWHC", "HWIO", "NCHW")  # values from jax.lax
    assert lax.conv_general_permutations(dns) == ((0, 3, 2, 1), (3, 2, 0, 1), (0, 1, 2, 3))
    assert lax.conv_shape_tuple((2, 3, 2, 9), (4, 3, 5, 2), (1, 2), [(0, 0), (1, 1)]) == \
        (2, 4, 0, 5)
    assert lax.conv_shape_tuple((2, 3, 6, 9), (4, 3, 5, 2), (1, 2), "SAME") == (2, 4, 6, 5)
    assert lax.conv_general_shape_tuple((2, 9, 6, 3), (5, 2, 3, 4), (1, 2), "SAME",
                                        dns) == (2, 4, 6, 5)
    assert lax.conv_transpose_shape_tuple((2, 9, 6, 3), (5, 2, 3, 4), (2, 2), "SAME",
                                          dns) == (2, 4, 12, 18)
    assert lax.conv_transpose_shape_tuple((2, 9, 6, 3), (5, 2, 3, 4), (2, 3),
                                          [(1, 2), (0, 1)], dns) == (2, 4, 10, 25)
    assert lax.padtype_to_pads((5, 6), (2, 3), (2, 1), "SAME") == [(0, 1), (1, 1)]
    assert lax.padtype_to_pads((5, 6), (2, 3), (2, 1), "same_lower") == [(1, 0), (1, 1)]
    with pytest.raises(RuntimeError, match="Unrecognized padding"):
        lax.padtype_to_pads((5,), (2,), (1,), "full")
    assert lax.reduce_window_shape_tuple((5, 6), (2, 3), (2, 1), [(0, 1), (1, 1)], (2, 1),
                                         (1, 2)) == (5, 4)


# -- special functions ---------------------------------------------------------------------

A = [0.5, 1.0, 2.5, 10.0]
X = [0.3, 2.0, 1.7, 9.0]


def test_special_aliases(backend):
    a, x = backend.asarray(A), backend.asarray(X)
    cases = [  # (result, jax.lax's values)
        (lax.random_gamma_grad(a, x), [1.0098019459488552, 1.6316914623496994,
                                       0.8750443814204036, 0.9641827242847931]),
        (lax.igamma_grad_a(a, x), [-0.770570351375352, -0.22082542621185935,
                                   -0.26654260855002443, -0.12703651192426801]),
        (lax.polygamma(backend.asarray([0.0, 1.0, 2.0, 1.5]), x),
         [-3.5025242222001336, 0.6449340668482265, -0.6040890841034584, np.nan]),
    ]
    for got, want in cases:
        assert backend.is_own(got)
        np.testing.assert_allclose(backend.to_numpy(got), want, rtol=1e-9)
    import scipy.special as ss
    np.testing.assert_allclose(backend.to_numpy(lax.zeta(backend.asarray([2.0, 3.0, 1.5, 0.5]),
                                                          x)),
                               ss.zeta([2.0, 3.0, 1.5, 0.5], X), rtol=1e-12)
    np.testing.assert_allclose(backend.to_numpy(lax.betainc(a, a, backend.asarray(
        [0.1, 0.5, 0.7, 0.99]))), ss.betainc(A, A, [0.1, 0.5, 0.7, 0.99]), rtol=1e-12)
    np.testing.assert_allclose(backend.to_numpy(lax.bessel_i0e(x)), ss.i0e(X), rtol=1e-13)
    np.testing.assert_allclose(backend.to_numpy(lax.bessel_i1e(x)), ss.i1e(X), rtol=1e-13)
    if backend.name != "array_api_strict":  # (its generic shape derivatives are slow)
        check_grads(lambda v, w: lax.random_gamma_grad(v, w), (a, x), order=1)
    check_grads(lambda w: lax.polygamma(2.0, w), (x,), order=1)
    r32 = lax.bessel_i1e(backend.asarray(X, "float32"))
    assert backend.to_numpy(r32).dtype == np.float32
    with pytest.raises(TypeError, match="same dtypes"):
        lax.zeta(backend.asarray(A, "float32"), x)
