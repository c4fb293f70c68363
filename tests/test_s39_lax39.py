"""Session 39 (lax39): functrans.lax fuzzed against jax.lax under the transforms.

tests/_fuzz_lax_jax.py is the seeded fuzzer (run by hand: it needs jax). Pinned here: what it
found (collapse of an empty range of axes; bitcast_convert_type of a 0-d array on NumPy), the
places where functrans keeps its own answer against JAX's (scatters and gathers with empty
index vectors, a gather whose promise_in_bounds is broken, dot_general of mixed dtypes with
an integer preferred_element_type), and a small selection of the fuzzer's checks against
closed forms and central differences; a few JAX comparisons (skipped without jax).
"""

from __future__ import annotations

import numpy as np
import pytest

import functrans as ft
import functrans.lax as lax
import functrans.numpy as fnp


# -- collapse: the bounds as a Python slice's ----------------------------------------------------

@pytest.mark.parametrize("shape, start, stop, want", [
    ((4, 3), 2, 2, (4, 3, 1)),        # an empty range: one axis of size 1 (was (12,))
    ((1,), 1, 1, (1, 1)),
    ((3, 1, 4), 3, None, (3, 1, 4, 1)),   # start == ndim (was wrapped to 0: (12,))
    ((3, 1, 4), -2, None, (3, 4)),
    ((3, 1, 4), 0, -1, (3, 4)),
    ((3, 1, 4), 1, 3, (3, 4)),
    ((2, 3), 0, None, (6,)),
    ((), 0, None, (1,)),
    ((2, 3), 5, None, (2, 3, 1)),     # past the end: clamped, as a slice
    ((2, 3), -5, 1, (2, 3)),
])
def test_collapse_shapes(backend, shape, start, stop, want):
    x = backend.asarray(np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape))
    got = lax.collapse(x, start, stop)
    assert backend.is_own(got)
    assert tuple(got.shape) == want
    np.testing.assert_array_equal(backend.to_numpy(got).reshape(-1),
                                  np.arange(int(np.prod(shape))))


def test_collapse_stop_before_start_is_refused():
    with pytest.raises(ValueError, match="before"):
        lax.collapse(np.zeros((2, 3, 4)), 2, 1)


def test_collapse_empty_range_under_transforms():
    x = np.arange(6.0).reshape(2, 3)
    f = lambda v: lax.collapse(v, 2, 2) * 2.0  # noqa: E731
    assert ft.jit(f)(x).shape == (2, 3, 1)
    assert ft.vmap(f)(np.stack([x, x])).shape == (2, 2, 3, 1)
    g = ft.grad(lambda v: fnp.sum(lax.collapse(v, 1, 1) ** 2))(x)
    np.testing.assert_array_equal(g, 2 * x)


# -- bitcast_convert_type of a 0-d array ------------------------------------------------------

@pytest.mark.parametrize("target, want", [("int8", [7, 1, 0, 0]), ("uint16", [263, 0]),
                                          ("float32", None)])
def test_bitcast_0d_to_narrower_adds_one_axis(backend, target, want):
    x = backend.asarray(263, dtype="int32")
    got = lax.bitcast_convert_type(x, np.dtype(target))
    n = 4 // np.dtype(target).itemsize
    assert tuple(got.shape) == ((n,) if n > 1 else ())   # was (1, n) on NumPy
    expect = np.array([263], np.int32).view(target)   # (the same bytes, one axis more)
    np.testing.assert_array_equal(backend.to_numpy(got).reshape(-1), expect)
    if want is not None:
        np.testing.assert_array_equal(backend.to_numpy(got), want)  # little-endian bytes


def test_bitcast_0d_under_jit_and_vmap():
    x = np.int32(263)
    assert ft.jit(lambda v: lax.bitcast_convert_type(v, np.int8))(x).shape == (4,)
    got = ft.vmap(lambda v: lax.bitcast_convert_type(v, np.int8))(np.array([263, 1], np.int32))
    np.testing.assert_array_equal(got, [[7, 1, 0, 0], [1, 0, 0, 0]])


def test_bitcast_non_contiguous_operand():
    x = np.arange(6, dtype=np.int32).reshape(2, 3).T   # (a transposed view)
    got = lax.bitcast_convert_type(x, np.int16)
    np.testing.assert_array_equal(got, np.ascontiguousarray(x).view(np.int16).reshape(3, 2, 2))
    back = lax.bitcast_convert_type(got, np.int32)
    np.testing.assert_array_equal(back, x)


# -- where functrans keeps its own answer against JAX's ----------------------------------------

def _gather_2d(mode):
    dn = lax.GatherDimensionNumbers(offset_dims=(), collapsed_slice_dims=(0, 1),
                                    start_index_map=(1, 0))
    ind = np.array([-3, 1], np.int32)   # axis 1 at -3, axis 0 at 1: out of range
    return lambda v: lax.gather(v, ind, dn, (1, 1), mode=mode)


@pytest.mark.parametrize("mode", [None, "promise_in_bounds", "clip"])
def test_gather_out_of_range_promise_derivative_is_the_clamped_reads(mode):
    # XLA clamps the start (the value is x[1, 0]); JAX's transpose for None and
    # promise_in_bounds drops the cotangent (grad 0), which is not the derivative of the value
    # it returned; functrans differentiates the clamped read it computed (as 'clip')
    x = np.arange(6.0).reshape(2, 3) + 0.5
    f = _gather_2d(mode)
    assert f(x) == x[1, 0]
    want = np.zeros((2, 3))
    want[1, 0] = 1.0
    np.testing.assert_array_equal(ft.grad(f)(x), want)
    np.testing.assert_array_equal(ft.jit(ft.grad(f))(x), want)
    t = np.arange(6.0).reshape(2, 3)
    h = 1e-6
    fd = (f(x + h * t) - f(x - h * t)) / (2 * h)
    np.testing.assert_allclose(ft.jvp(f, (x,), (t,))[1], fd, rtol=1e-9)


def test_gather_fill_mode_out_of_range_reads_nothing():
    f = _gather_2d("fill")
    x = np.arange(6.0).reshape(2, 3)
    assert np.isnan(f(x))
    np.testing.assert_array_equal(ft.grad(lambda v: fnp.nan_to_num(f(v)))(x), np.zeros((2, 3)))


@pytest.mark.parametrize("pet", ["int64", "int32", "int8"])
def test_dot_general_mixed_dtypes_integer_result_multiplies_first(backend, pet):
    # 0.6 * 1 + 0.6 * 1 = 1.2 -> 1, as for two float operands (JAX on CPU truncates a float
    # operand beside an integer one first: 0)
    a = backend.asarray([[1, 1]], dtype="int32")
    b = backend.asarray([[0.6, 0.6]], dtype="float64")
    dn = (((1,), (1,)), ((), ()))
    got = lax.dot_general(a, b, dn, preferred_element_type=np.dtype(pet))
    assert backend.to_numpy(got).dtype == np.dtype(pet)
    np.testing.assert_array_equal(backend.to_numpy(got), [[1]])
    same = lax.dot_general(backend.asarray([[1.0, 1.0]], dtype="float64"), b, dn,
                           preferred_element_type=np.dtype(pet))
    np.testing.assert_array_equal(backend.to_numpy(same), [[1]])


# -- a fast selection of the fuzzer's checks, without jax ---------------------------------------

def _scatter_case(rng):
    """A random scatter_add/scatter_mul/scatter_max call with batching axes, in-range windows
    (so no mode decides anything), float64."""
    oshape = [int(rng.integers(1, 4)) for _ in range(3)]
    obd = [0] if rng.random() < 0.5 else []
    rest = [d for d in range(3) if d not in obd]
    sdod = [int(d) for d in rng.permutation(rest)[:int(rng.integers(1, len(rest) + 1))]]
    inserted = [d for d in rest if d in sdod and rng.random() < 0.5]
    window = [1 if (d in obd or d in inserted) else int(rng.integers(1, oshape[d] + 1))
              for d in range(3)]
    nbatch = len(obd) + 1
    batch = [int(rng.integers(1, 3)) for _ in range(nbatch)]
    sibd = [int(rng.integers(0, nbatch))] if obd else []
    for d, a in zip(obd, sibd):
        batch[a] = oshape[d]
    wdims = [d for d in range(3) if d not in obd and d not in inserted]
    urank = nbatch + len(wdims)
    uwd = sorted(int(d) for d in rng.permutation(urank)[:len(wdims)])
    ushape, bi, wi = [], iter(batch), iter(window[d] for d in wdims)
    for k in range(urank):
        ushape.append(next(wi) if k in uwd else next(bi))
    ind = np.stack([rng.integers(0, oshape[d] - window[d] + 1, size=batch) for d in sdod],
                   axis=-1)
    dn = lax.ScatterDimensionNumbers(
        update_window_dims=tuple(uwd), inserted_window_dims=tuple(inserted),
        scatter_dims_to_operand_dims=tuple(sdod), operand_batching_dims=tuple(obd),
        scatter_indices_batching_dims=tuple(sibd))
    return oshape, ushape, ind, dn


def _check_linearisation(f, args, rng):
    """jvp vs central differences, and vjp by <u, J v> = <J^T u, v>."""
    tans = [rng.standard_normal(np.shape(a)) for a in args]
    y, t = ft.jvp(f, tuple(args), tuple(tans))
    h = 1e-6
    fd = (f(*[a + h * v for a, v in zip(args, tans)])
          - f(*[a - h * v for a, v in zip(args, tans)])) / (2 * h)
    np.testing.assert_allclose(t, fd, rtol=1e-6, atol=1e-7)
    u = rng.standard_normal(np.shape(y))
    ct = ft.vjp(f, *args)[1](u)
    lhs = float(np.sum(u * np.asarray(t)))
    rhs = sum(float(np.sum(np.asarray(c) * v)) for c, v in zip(ct, tans))
    assert np.isclose(lhs, rhs, rtol=1e-10, atol=1e-12), (lhs, rhs)


@pytest.mark.parametrize("seed", range(12))
def test_random_scatters_with_batching_dims_linearise_and_batch(seed):
    rng = np.random.default_rng(seed)
    oshape, ushape, ind, dn = _scatter_case(rng)
    kind = ["scatter_add", "scatter_mul", "scatter_max", "scatter_min"][seed % 4]
    op = getattr(lax, kind)
    x = rng.standard_normal(oshape)
    upd = rng.standard_normal(ushape)
    f = lambda a, b: op(a, ind, b, dn)  # noqa: E731
    # the value against a loop over NumPy's own ufunc.at on the window positions
    ufunc = {"scatter_add": np.add, "scatter_mul": np.multiply, "scatter_max": np.maximum,
             "scatter_min": np.minimum}[kind]
    want = x.copy()
    wdims = [d for d in range(3) if d not in dn.operand_batching_dims
             and d not in dn.inserted_window_dims]
    bshape = ind.shape[:-1]
    for bidx in np.ndindex(*bshape):
        start = [0, 0, 0]
        for k, d in enumerate(dn.scatter_dims_to_operand_dims):
            start[d] = int(ind[bidx + (k,)])
        for d, a in zip(dn.operand_batching_dims, dn.scatter_indices_batching_dims):
            start[d] = bidx[a]
        wshape = [ushape[k] for k in dn.update_window_dims]
        for widx in np.ndindex(*wshape):
            pos = list(start)
            for d, w in zip(wdims, widx):
                pos[d] += w
            uidx, bi, wi = [], iter(bidx), iter(widx)
            for k in range(len(ushape)):
                uidx.append(next(wi) if k in dn.update_window_dims else next(bi))
            ufunc.at(want, tuple(pos), upd[tuple(uidx)])
    np.testing.assert_allclose(f(x, upd), want, rtol=1e-14)
    _check_linearisation(f, [x, upd], rng)
    # vmap over the operand and updates: each member as alone
    xs, us = np.stack([x, x + 1.0]), np.stack([upd, upd * 0.5])
    got = ft.jit(ft.vmap(f))(xs, us)
    for k in range(2):
        np.testing.assert_allclose(got[k], f(xs[k], us[k]), rtol=1e-14)


@pytest.mark.parametrize("seed", range(8))
def test_random_cumulative_and_sorts_linearise(seed):
    rng = np.random.default_rng(100 + seed)
    shape = tuple(int(rng.integers(1, 4)) for _ in range(int(rng.integers(1, 3))))
    ax = int(rng.integers(0, len(shape)))
    rev = bool(seed % 2)
    x = rng.standard_normal(shape)
    fns = [lambda v: lax.cumsum(v, ax, reverse=rev), lambda v: lax.cumprod(v, ax, reverse=rev),
           lambda v: lax.cummax(v, ax, reverse=rev), lambda v: lax.cumlogsumexp(v, ax,
                                                                              reverse=rev),
           lambda v: lax.sort(v, ax), lambda v: lax.top_k(v, shape[-1])[0],
           lambda v: lax.sort((v, 2.0 * v), ax, num_keys=1)[1],
           lambda v: lax.reduce_max(v, (ax,))]
    for f in fns:
        _check_linearisation(f, [x], rng)


# -- bit operations, nextafter, rem/div at their edges: closed forms (and JAX where present) ----

def _shift_reference(name, x, s):
    """XLA's shifts: a count outside [0, bits) (negative ones read as unsigned) shifts every
    bit out: 0, or for an arithmetic right shift the top bit everywhere."""
    bits = x.dtype.itemsize * 8
    out = []
    for a, c in zip(x.tolist(), s.tolist()):
        out_of_range = not 0 <= c < bits
        if name == "shift_left":
            out.append(0 if out_of_range else (a << c))
        elif name == "shift_right_arithmetic":  # (the bits as signed, unsigned too: XLA's)
            sa = a - (1 << bits) if a >= 1 << (bits - 1) else a
            out.append((-1 if sa < 0 else 0) if out_of_range else sa >> c)
        else:  # logical: the bits as unsigned
            ua = a % (1 << bits)
            out.append(0 if out_of_range else ua >> c)
    res = np.array([v % (1 << bits) for v in out], dtype=np.uint64)
    return res.astype(np.dtype(f"uint{bits}")).view(x.dtype)


@pytest.mark.parametrize("dtype", ["int8", "uint8", "int32", "uint32", "int64", "uint64"])
@pytest.mark.parametrize("name", ["shift_left", "shift_right_arithmetic", "shift_right_logical"])
def test_shifts_with_counts_out_of_range(dtype, name):
    bits = np.dtype(dtype).itemsize * 8
    info = np.iinfo(dtype)
    x = np.array([5, info.max, info.min, 1, 3, info.max, 7, 2], dtype=dtype)
    counts = [0, 1, bits - 1, bits, bits + 3, 2, 1, 3]
    if info.min < 0:
        counts[6:] = [-1, -bits]
    s = np.array(counts).astype(dtype)
    got = getattr(lax, name)(x, s)
    want = _shift_reference(name, x, s)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(ft.jit(getattr(lax, name))(x, s), want)
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    np.testing.assert_array_equal(getattr(jax.lax, name)(x, s), want)


@pytest.mark.parametrize("dtype", ["int8", "uint16", "int32", "uint64"])
def test_population_count_and_clz(dtype):
    info = np.iinfo(dtype)
    bits = np.dtype(dtype).itemsize * 8
    x = np.array([0, 1, 2, 3, info.max, info.min, 96], dtype=dtype)
    u = [int(v) % (1 << bits) for v in x.tolist()]
    np.testing.assert_array_equal(lax.population_count(x), [bin(v).count("1") for v in u])
    np.testing.assert_array_equal(lax.clz(x), [bits - v.bit_length() for v in u])
    assert lax.clz(x).dtype == np.dtype(dtype)


def test_rem_and_div_signs_follow_the_dividend():
    a = np.array([7, -7, 7, -7], np.int32)
    b = np.array([2, 2, -2, -2], np.int32)
    np.testing.assert_array_equal(lax.div(a, b), [3, -3, -3, 3])     # towards zero
    np.testing.assert_array_equal(lax.rem(a, b), [1, -1, 1, -1])     # the dividend's sign
    af = np.array([7.5, -7.5, 7.5, -7.5, -0.0, 0.0])
    bf = np.array([2.0, 2.0, -2.0, -2.0, 3.0, -3.0])
    got = lax.rem(af, bf)
    np.testing.assert_array_equal(got, np.fmod(af, bf))
    assert list(np.signbit(got[4:])) == [True, False]
    # d rem(a, b) = da - trunc(a / b) db
    t = ft.jvp(lax.rem, (af[:4], bf[:4]), (np.ones(4), np.ones(4)))[1]
    np.testing.assert_array_equal(t, 1.0 - np.trunc(af[:4] / bf[:4]))


def test_nextafter_edges():
    x = np.array([0.0, -0.0, 1.0, np.inf, np.nan, 1.0, -np.inf])
    y = np.array([1.0, -1.0, 1.0, 0.0, 1.0, np.nan, -np.inf])
    got = lax.nextafter(x, y)
    np.testing.assert_array_equal(got, np.nextafter(x, y))
    x32 = x.astype(np.float32)
    got32 = lax.nextafter(x32, y.astype(np.float32))
    assert got32.dtype == np.float32
    np.testing.assert_array_equal(got32, np.nextafter(x32, y.astype(np.float32)))
