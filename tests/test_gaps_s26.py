"""Session 26 (helper gaps26): gaps closed (complex numbers in the ordering functions on
every backend, ...)."""

import warnings

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.testing import check_grads

# -- complex numbers in the ordering functions: NumPy's order on every backend ------------------
# (array-api-strict and torch refuse complex sorts and extremes: functrans orders them itself,
# in functrans/backends/complex_order.py: lexicographically, NaNs as NumPy places them)

_NAN = np.nan
# every group of NumPy's order: R + Rj < R + nanj < nan + Rj < nan + nanj, infinities, ties
_Z = np.array([complex(_NAN, 1), complex(2, _NAN), 3 + 0j, complex(_NAN, _NAN),
               complex(1, _NAN), complex(_NAN, 0), 1 + 0j, complex(_NAN, -1),
               complex(-1, _NAN), 1 + 0j, 3 - 2j, complex(np.inf, 0),
               complex(-np.inf, -np.inf)])
# rows: a NaN in the imaginary part first, a NaN in each part, none (ties on the real part)
_M = np.array([[1 + 0j, complex(2, _NAN), 3 + 0j, 0j],
               [complex(_NAN, 1), 5 + 0j, complex(_NAN, 0), 1j],
               [2 + 1j, 2 + 3j, 2 - 1j, 2 + 3j]])
_CLEAN = np.array([[1 + 2j, 1 - 1j, 3 + 0j, -1 + 5j], [1 + 2j, 2 + 0j, 1 + 3j, 0 - 1j],
                   [2 + 2j, 2 - 2j, 2 + 2j, 1 + 1j]])


def _flip(m, a, axis=0):
    return np.flip(a, axis) if m is np else m.flip(a, axis=axis)


_ORDERING_CASES = {
    "sort": (lambda m, a: m.sort(a), _Z),
    "sort_axis0": (lambda m, a: m.sort(a, axis=0), _M),
    "argsort": (lambda m, a: m.argsort(a, kind="stable"), _Z),
    "max": (lambda m, a: m.max(a, axis=1), _M),
    "min_axis0": (lambda m, a: m.min(a, axis=0), _M),
    "amax_all": (lambda m, a: m.amax(a), _CLEAN),
    "amin_keepdims": (lambda m, a: m.amin(a, axis=(0, 1), keepdims=True), _CLEAN),
    "argmax": (lambda m, a: m.argmax(a, axis=1), _M),
    "argmin": (lambda m, a: m.argmin(a, axis=1), _M),
    "argmax_flat": (lambda m, a: m.argmax(a), _Z),
    "argmin_flat": (lambda m, a: m.argmin(a), _Z),
    "nanmax": (lambda m, a: m.nanmax(a, axis=1), _M),
    "nanmin": (lambda m, a: m.nanmin(a, axis=1), _M),
    "nanargmax": (lambda m, a: m.nanargmax(a, axis=1), _M),
    "nanargmin": (lambda m, a: m.nanargmin(a, axis=1), _M),
    "nanmax_all_nan": (lambda m, a: m.nanmax(a, axis=1), _M[:2, 1:3]),
    "nanmax_initial": (lambda m, a: m.nanmax(a, axis=1, initial=1 + 2j), _M),
    "ptp": (lambda m, a: m.ptp(a, axis=1), _CLEAN),
    "maximum": (lambda m, a: m.maximum(a, _flip(m, a)), _Z),
    "fmax": (lambda m, a: m.fmax(a, _flip(m, a)), _Z),
    "fmin": (lambda m, a: m.fmin(a, _flip(m, a)), _Z),
    "clip": (lambda m, a: m.clip(a, 1.5 + 0j, 2 + 2j), _Z),
    "clip_complex_bounds": (lambda m, a: m.clip(a, 1 + 1j, 3 - 1j), _Z),
    "searchsorted_left": (lambda m, a: m.searchsorted(m.sort(a), a), _Z),
    "searchsorted_right": (lambda m, a: m.searchsorted(m.sort(a), a, side="right"), _Z),
    "unique": (lambda m, a: m.unique(a, equal_nan=False), _Z),
    "unique_counts": (lambda m, a: m.unique(a, return_counts=True)[1], _CLEAN),
    "lexsort": (lambda m, a: m.lexsort(_flip(m, a)), _CLEAN),
    "partition": (lambda m, a: m.partition(a, 3)[3], _Z),
    "argpartition": (lambda m, a: m.argpartition(a, 3)[3], _Z),
    "sort_complex": (lambda m, a: m.sort_complex(a), _Z),
    "median": (lambda m, a: m.median(a, axis=1), _M),
    "median_even": (lambda m, a: m.median(a, axis=0), _CLEAN[:2]),
    "maximum_accumulate": (lambda m, a: m.maximum.accumulate(a, axis=1), _M),
    "nanmedian": (lambda m, a: m.nanmedian(a, axis=1), _M),
    "nanmedian_all_nan_row": (lambda m, a: m.nanmedian(a, axis=1, keepdims=True),
                              np.concatenate([_M, np.full((1, 4), complex(_NAN, 1))])),
    "nanmedian_flat": (lambda m, a: m.nanmedian(a), _Z),
}


def _same(got, want):
    """Equal values, NaNs (in either part) where NumPy has them; same dtype and shape."""
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype and got.shape == want.shape, (got, want)
    if want.dtype.kind == "c":
        got, want = np.stack([got.real, got.imag]), np.stack([want.real, want.imag])
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("case", list(_ORDERING_CASES))
def test_complex_ordering_as_numpy(backend, case):
    f, data = _ORDERING_CASES[case]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # (NumPy's all-NaN slice warning)
        want = f(np, data)
    got = f(fnp, backend.asarray(data, "complex128"))
    assert backend.is_own(got)
    _same(backend.to_numpy(got), want)


def test_complex_nanargmax_skips_nan_beside_infinite_values(backend):
    # NumPy fills NaNs with -inf + 0j, which beats -inf - 1j: its nanargmax gives the NaN's
    # index 0 there. functrans fills with the least complex number and skips the NaNs.
    a = backend.asarray([complex(_NAN, 0), complex(-np.inf, -1)], "complex128")
    assert int(backend.to_numpy(fnp.nanargmax(a))) == 1
    b = backend.asarray([complex(_NAN, 0), complex(-np.inf, -np.inf)], "complex128")
    assert int(backend.to_numpy(fnp.nanargmax(b))) == 1
    assert int(backend.to_numpy(fnp.nanargmin(backend.asarray(
        [complex(_NAN, 0), complex(np.inf, np.inf)], "complex128")))) == 1
    with pytest.raises(ValueError, match="All-NaN"):
        fnp.nanargmax(backend.asarray([complex(_NAN, 0), complex(1, _NAN)], "complex128"))


def test_complex_ordering_under_transforms(backend):
    z = backend.asarray(_CLEAN, "complex128")
    want = (np.argmax(_CLEAN, 1), np.sort(_CLEAN, 0), np.max(_CLEAN, 0), np.min(_CLEAN, 1))
    jitted = ft.jit(lambda a: (fnp.argmax(a, axis=1), fnp.sort(a, axis=0), fnp.max(a, axis=0),
                               fnp.min(a, axis=1)))(z)
    for g, w in zip(jitted, want):
        assert backend.is_own(g)
        _same(backend.to_numpy(g), w)
    rows = ft.vmap(lambda r: (fnp.argmin(r), fnp.sort(r), fnp.max(r),
                              fnp.searchsorted(fnp.sort(r), r, side="right")))(z)
    for g, w in zip(rows, (np.argmin(_CLEAN, 1), np.sort(_CLEAN, 1), np.max(_CLEAN, 1),
                           np.stack([np.searchsorted(np.sort(r), r, "right") for r in _CLEAN]))):
        _same(backend.to_numpy(g), w)


def test_complex_max_sort_derivatives(backend):
    """The tangent of max/min is that of the chosen element (a tie shares it, as JAX's), of
    sort each element's own: closed forms, finite differences, JAX where installed."""
    z = backend.asarray(_CLEAN, "complex128")
    t_np = np.array([[0.5 + 1j, 2 - 1j, 1 + 1j, -1 + 2j], [1j, 3, -2j, 1 + 1j],
                     [1, 2j, 3, 4 - 1j]])
    t = backend.asarray(t_np, "complex128")
    _, dmax = ft.jvp(lambda a: fnp.max(a, axis=1), (z,), (t,))
    # row 0: 3 at column 2; row 1: 2 at column 1; row 2: 2 + 2j at columns 0 and 2 (a tie)
    want_max = np.array([t_np[0, 2], t_np[1, 1], (t_np[2, 0] + t_np[2, 2]) / 2])
    np.testing.assert_allclose(backend.to_numpy(dmax), want_max, rtol=1e-15)
    _, dsort = ft.jvp(lambda a: fnp.sort(a, axis=1), (z,), (t,))
    order = np.argsort(_CLEAN, axis=1, kind="stable")
    np.testing.assert_allclose(backend.to_numpy(dsort), np.take_along_axis(t_np, order, 1),
                               rtol=1e-15)
    # away from ties: finite differences of the real and imaginary parts (both modes)
    apart = np.array([[1 + 2j, 1.5 - 1j, 3 + 0j, -1 + 5j], [0.5 + 2j, 2 + 0j, 1.2 + 3j, -1j]])
    x, y = backend.asarray(apart.real), backend.asarray(apart.imag)

    def parts(x, y):
        w = fnp.add(x, fnp.multiply(y, 1j))
        m, s = fnp.min(w, axis=1), fnp.sort(w, axis=1)
        return fnp.real(m), fnp.imag(m), fnp.real(s), fnp.imag(fnp.max(w, axis=0))
    check_grads(parts, (x, y), order=1, modes=("fwd", "rev"))
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy
    _, jt = jax.jvp(lambda a: jnp.max(a, axis=1), (jnp.asarray(_CLEAN),), (jnp.asarray(t_np),))
    np.testing.assert_allclose(backend.to_numpy(dmax), np.asarray(jt), rtol=1e-15)


def test_lax_cummax_cummin_complex(backend):
    import functrans.lax as lax
    z = backend.asarray(_M, "complex128")
    _same(backend.to_numpy(lax.cummax(z, axis=1)), np.maximum.accumulate(_M, axis=1))
    _same(backend.to_numpy(lax.cummin(z, axis=1, reverse=True)),
          np.flip(np.minimum.accumulate(np.flip(_M, 1), axis=1), 1))


# -- lax.bitcast_convert_type on the operand's device ----------------------------------------

_BITCAST_PAIRS = [("float32", "uint8"), ("float64", "int32"), ("uint16", "int8"),
                  ("int8", "float32"), ("uint32", "float64"), ("float64", "complex128"),
                  ("complex64", "float32"), ("int64", "uint64"), ("complex128", "uint16")]


def _bitcast_reference(src, dst, rng):
    """An operand of dtype ``src`` (from random bytes) and NumPy's reading of its bytes as
    ``dst``: a trailing axis added (narrower) or removed (wider), as JAX's."""
    sb, db = np.dtype(src).itemsize, np.dtype(dst).itemsize
    shape = (2, 3) if db <= sb else (3, db // sb)
    raw = rng.integers(0, 256, size=int(np.prod(shape)) * sb, dtype=np.uint8)
    x = raw.view(src).reshape(shape)
    if np.dtype(src).kind in "fc":  # (NaN payloads: some libraries' copies may change them)
        x = np.where(np.isfinite(x), x, 1.5).astype(src)
    out_shape = shape + (sb // db,) if db < sb else shape[:-1] if db > sb else shape
    return x, x.reshape(-1).view(dst).reshape(out_shape)


@pytest.mark.parametrize("src,dst", _BITCAST_PAIRS)
def test_bitcast_convert_type_on_device(backend, src, dst):
    import functrans.lax as lax
    rng = np.random.default_rng(len(src) * 7 + len(dst))
    x_np, want = _bitcast_reference(src, dst, rng)
    x = backend.asarray(x_np, src)
    for got in (lax.bitcast_convert_type(x, dst),
                ft.jit(lambda v: lax.bitcast_convert_type(v, dst))(x),
                ft.vmap(lambda v: lax.bitcast_convert_type(v, dst))(x)):
        assert backend.is_own(got)  # (array-api-strict@device1: back on the second device)
        g = backend.to_numpy(got)
        assert g.dtype == want.dtype and g.shape == want.shape
        np.testing.assert_array_equal(g.view(np.uint8), want.view(np.uint8))


def test_bitcast_convert_type_torch_is_a_view_on_the_device():
    torch = pytest.importorskip("torch")
    import functrans.lax as lax
    x = torch.tensor([[1.0, -2.5], [3.0, 0.25]], dtype=torch.float64)
    out = lax.bitcast_convert_type(x, "int32")
    assert out.shape == (2, 2, 2) and out.dtype is torch.int32
    assert out.untyped_storage().data_ptr() == x.untyped_storage().data_ptr()  # no copy
    np.testing.assert_array_equal(out.numpy(), x.numpy().view(np.int32).reshape(2, 2, 2))
    # bfloat16, which NumPy lacks (the host path could not read it)
    h = torch.tensor([1.5, -2.0, 0.0], dtype=torch.bfloat16)
    bits = lax.bitcast_convert_type(h, "uint16")
    np.testing.assert_array_equal(bits.numpy(), [0x3FC0, 0xC000, 0])
    back = lax.bitcast_convert_type(bits, "bfloat16")
    assert back.dtype is torch.bfloat16 and torch.equal(back, h)
    # a slice at an offset the wider dtype's alignment refuses to view: copied first
    odd = torch.arange(5, dtype=torch.float32)[1:3]
    wide = lax.bitcast_convert_type(odd, "float64")
    assert wide.shape == () and float(wide) == float(np.array([1.0, 2.0], np.float32)
                                                     .view(np.float64)[0])
    # a transposed (non-contiguous) operand
    t = torch.arange(6, dtype=torch.float32).reshape(2, 3).T
    np.testing.assert_array_equal(lax.bitcast_convert_type(t, "int32").numpy(),
                                  np.ascontiguousarray(t.numpy()).view(np.int32))


def test_bitcast_convert_type_shapes_as_jax():
    import functrans.lax as lax
    x = np.array([[1.0, -2.0], [0.5, 3.0]], np.float32)
    assert lax.bitcast_convert_type(x, "float64").shape == (2,)
    assert lax.bitcast_convert_type(x, "uint8").shape == (2, 2, 4)
    assert lax.bitcast_convert_type(np.zeros(4, np.uint8), "float32").shape == ()
    with pytest.raises(ValueError, match="last axis must have size 2"):
        lax.bitcast_convert_type(np.zeros((2, 3), np.float32), "float64")
    with pytest.raises(ValueError, match=r"must have size 2; got shape \(\)"):
        lax.bitcast_convert_type(np.float32(1.0).reshape(()), "float64")
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    for dst in ("float64", "uint8", "int16"):
        want = np.asarray(jax.lax.bitcast_convert_type(x, dst))
        got = lax.bitcast_convert_type(x, dst)
        assert got.shape == want.shape
        np.testing.assert_array_equal(got.view(np.uint8), want.view(np.uint8))


# -- lax.rng_bit_generator -----------------------------------------------------------------------


def _bit_counts(values, nbits):
    """Per bit position, how many of ``values`` (unsigned integers) have it set."""
    v = np.asarray(values).astype(np.uint64).reshape(-1)
    return np.array([int(np.count_nonzero((v >> np.uint64(i)) & np.uint64(1)))
                     for i in range(nbits)])


def _assert_uniform_bits(values, nbits):
    """Every bit position set in about half the values, and in about half the XORs of
    neighbours (a counter or a repeated pattern fails this): within 6 standard deviations."""
    v = np.asarray(values).astype(np.uint64).reshape(-1)
    for sample in (v, v[1:] ^ v[:-1]):
        n = sample.size
        dev = np.abs(_bit_counts(sample, nbits) - n / 2)
        assert dev.max() < 6 * np.sqrt(n) / 2, (nbits, dev.max(), n)


def test_rng_bit_generator_values(backend):
    import functrans.lax as lax
    key = backend.asarray([1, 2, 3, 4], "uint32")
    new_key, bits = lax.rng_bit_generator(key, (64, 128), dtype="uint32")
    assert backend.is_own(new_key) and backend.is_own(bits)
    nk, b = backend.to_numpy(new_key), backend.to_numpy(bits)
    assert nk.dtype == np.uint32 and nk.shape == (4,) and b.dtype == np.uint32
    assert b.shape == (64, 128)
    _assert_uniform_bits(b, 32)
    assert not np.array_equal(nk, [1, 2, 3, 4])
    # deterministic; the next key gives other bits; each key word matters
    _, again = lax.rng_bit_generator(key, (64, 128), dtype="uint32")
    np.testing.assert_array_equal(backend.to_numpy(again), b)
    _, nxt = lax.rng_bit_generator(new_key, (64, 128), dtype="uint32")
    assert np.mean(backend.to_numpy(nxt) == b) < 0.01
    for i in range(4):
        other = np.array([1, 2, 3, 4], np.uint32)
        other[i] += 1
        _, ob = lax.rng_bit_generator(backend.asarray(other, "uint32"), (16,))
        assert np.mean(backend.to_numpy(ob) == b.reshape(-1)[:16]) < 0.2
    # every dtype: its width of uniform bits (a uint8 histogram too)
    for dt, nbits in (("uint8", 8), ("uint16", 16), ("uint64", 64)):
        _, bd = lax.rng_bit_generator(key, (4096,), dtype=dt)
        bd = backend.to_numpy(bd)
        assert bd.dtype == np.dtype(dt) and bd.shape == (4096,)
        _assert_uniform_bits(bd, nbits)
        if nbits == 8:  # chi-square over the 256 values: 255 degrees of freedom
            counts = np.bincount(bd, minlength=256)
            assert np.sum((counts - 16.0) ** 2 / 16.0) < 255 + 6 * np.sqrt(2 * 255)


def test_rng_bit_generator_transforms_and_keys(backend):
    import functrans.lax as lax
    keys = backend.asarray([[1, 2, 3, 4], [5, 6, 7, 8], [1, 2, 3, 5]], "uint32")
    f = lambda k: lax.rng_bit_generator(k, (8,), dtype="uint16")  # noqa: E731
    vk, vb = ft.vmap(f)(keys)
    jk, jb = ft.jit(f)(keys[0, :])
    assert backend.is_own(vb) and backend.is_own(jb)
    assert backend.to_numpy(vk).shape == (3, 4) and backend.to_numpy(vb).shape == (3, 8)
    for i in range(3):
        ek, eb = f(keys[i, :])
        np.testing.assert_array_equal(backend.to_numpy(vb)[i], backend.to_numpy(eb))
        np.testing.assert_array_equal(backend.to_numpy(vk)[i], backend.to_numpy(ek))
    np.testing.assert_array_equal(backend.to_numpy(jb), backend.to_numpy(vb)[0])
    np.testing.assert_array_equal(backend.to_numpy(jk), backend.to_numpy(vk)[0])
    # a uint64 key of shape (2,) is its four uint32 words in memory order, as in JAX
    words = np.array([1, 2, 3, 4], np.uint32)
    k64 = backend.asarray(words.view(np.uint64), "uint64")
    nk64, b64 = lax.rng_bit_generator(k64, (8,), dtype="uint16")
    assert backend.to_numpy(nk64).dtype == np.uint64 and backend.to_numpy(nk64).shape == (2,)
    np.testing.assert_array_equal(backend.to_numpy(b64), backend.to_numpy(vb)[0])


def test_rng_bit_generator_errors_and_jax_conventions():
    import functrans.lax as lax
    key = np.array([1, 2, 3, 4], np.uint32)
    with pytest.raises(ValueError, match=r"uint32 key must have shape \(4,\); got shape \(3,\)"):
        lax.rng_bit_generator(key[:3], (2,))
    with pytest.raises(ValueError, match="functrans.vmap"):
        lax.rng_bit_generator(np.stack([key, key]), (2,))
    with pytest.raises(ValueError, match=r"uint64 key must have shape \(2,\)"):
        lax.rng_bit_generator(key.astype(np.uint64), (2,))
    for bad in (key.astype(np.int32), key.astype(np.float64)):
        with pytest.raises(TypeError, match="uint32 array of shape"):
            lax.rng_bit_generator(bad, (2,))
    with pytest.raises(TypeError, match="dtype must be uint8, uint16, uint32 or uint64"):
        lax.rng_bit_generator(key, (2,), dtype=np.int32)
    with pytest.raises(ValueError, match="algorithm must be a lax.RandomAlgorithm"):
        lax.rng_bit_generator(key, (2,), algorithm=7)
    with pytest.raises(NotImplementedError, match="out_sharding"):
        lax.rng_bit_generator(key, (2,), out_sharding="x")
    # every algorithm gives functrans's one stream
    outs = [lax.rng_bit_generator(key, (5,), algorithm=a)[1] for a in lax.RandomAlgorithm]
    for o in outs[1:]:
        np.testing.assert_array_equal(o, outs[0])
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    assert {a.name: int(a) for a in lax.RandomAlgorithm} == {
        a.name: int(a) for a in jax.lax.RandomAlgorithm}
    for k in (key, key.view(np.uint64)):
        for dt in (np.uint8, np.uint64):
            want = jax.lax.rng_bit_generator(k, (3, 2), dt)
            got = lax.rng_bit_generator(k, (3, 2), dt)
            for g, w in zip(got, want):
                assert g.shape == w.shape and g.dtype == w.dtype


# -- einsum's optimize: every opt_einsum strategy jax.numpy takes, explicit paths followed -------

_OPT_EINSUM_STRATEGIES = ("auto", "auto-hq", "optimal", "branch-all", "branch-2", "branch-1",
                          "greedy", "eager", "opportunistic", "dp", "dynamic-programming",
                          "random-greedy", "random-greedy-128", "Greedy", True, False)


def test_einsum_optimize_strategies():
    rng = np.random.default_rng(3)
    ops = [rng.normal(size=s) for s in ((2, 3), (3, 4), (4, 5), (5, 2))]
    want = np.einsum("ij,jk,kl,lm->im", *ops)
    for strategy in _OPT_EINSUM_STRATEGIES:
        got = fnp.einsum("ij,jk,kl,lm->im", *ops, optimize=strategy)
        np.testing.assert_allclose(got, want, rtol=1e-13, err_msg=str(strategy))
        fnp.einsum_path("ij,jk,kl,lm->im", *ops, optimize=strategy)  # (NumPy's report)
    for path in ([(0, 1), (0, 1), (0, 1)], [(3, 2), (1, 2), (0, 1)], [(0, 1, 2, 3)],
                 ["einsum_path", (1, 2), (0, 2), (0, 1)], [(2,), (0, 1, 2), (0, 1)]):
        np.testing.assert_allclose(fnp.einsum("ij,jk,kl,lm->im", *ops, optimize=path), want,
                                   rtol=1e-13, err_msg=str(path))
    for bad, msg in (("bogus", "optimize must be"), ("optimize", "optimize must be"),
                     ([(0, 1)], "leaves 3 operands"), ([(0, 0), (0, 1), (0, 1)], "distinct"),
                     ([(0, 4), (0, 1), (0, 1)], "among the 4 operands")):
        with pytest.raises(ValueError, match=msg):
            fnp.einsum("ij,jk,kl,lm->im", *ops, optimize=bad)
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    for strategy in _OPT_EINSUM_STRATEGIES:  # (each taken by jax.numpy too)
        np.testing.assert_allclose(jax.numpy.einsum("ij,jk,kl,lm->im", *ops,
                                                    optimize=strategy), want, rtol=1e-13)


def test_einsum_explicit_path_is_followed():
    a, b, c = np.ones((2, 3)), np.ones((3, 40)), np.ones((40, 5))

    def shapes(path):
        graph = ft.make_jaxpr(lambda *xs: fnp.einsum("ij,jk,kl->il", *xs, optimize=path))(
            a, b, c)
        return [tuple(v.aval.shape) for e in graph.jaxpr.eqns for v in e.outvars]
    assert shapes([(1, 2), (0, 1)])[0] == (3, 5)  # b and c first
    assert shapes([(0, 1), (0, 1)])[0] == (2, 40)  # a and b first
    got = ft.jit(lambda *xs: fnp.einsum("ij,jk,kl->il", *xs, optimize=[(1, 2), (0, 1)]))(
        a, b, c)
    np.testing.assert_allclose(got, a @ b @ c, rtol=1e-14)


# -- complex statistics and rounding on every backend (NumPy's: var and std are real) -----------

_STAT_Z = np.array([[1 + 2j, 3 - 1j, complex(_NAN, 0), 2 + 2j],
                    [0.5 - 1j, complex(1, _NAN), 2 + 0j, -1 + 1j]])
_STAT_C = np.array([[1 + 2j, 3 - 1j, 0.25j, 2 + 2j], [0.5 - 1j, 1.5 + 1j, 2 + 0j, -1 + 1j]])
_STAT_CASES = {
    "nanmean": (lambda m, a: m.nanmean(a, axis=1), _STAT_Z),
    "nanvar": (lambda m, a: m.nanvar(a, axis=1), _STAT_Z),
    "nanstd_ddof": (lambda m, a: m.nanstd(a, axis=1, ddof=1), _STAT_Z),
    "var": (lambda m, a: m.var(a, axis=1), _STAT_C),
    "var_ddof": (lambda m, a: m.var(a, axis=0, ddof=1), _STAT_C),
    "std": (lambda m, a: m.std(a), _STAT_C),
    "round": (lambda m, a: m.round(a, 1), _STAT_C * (1.55 + 2.45j)),
    "round_negative": (lambda m, a: m.round(a * 100, -1), _STAT_C * (1.55 + 2.45j)),
    "around": (lambda m, a: m.around(a, 2), _STAT_C / 3),
    "sort_complex": (lambda m, a: m.sort_complex(a), _STAT_C),
}


@pytest.mark.parametrize("case", list(_STAT_CASES))
def test_complex_statistics_and_rounding(backend, case):
    f, data = _STAT_CASES[case]
    want = f(np, data)
    got = f(fnp, backend.asarray(data, "complex128"))
    assert backend.is_own(got)
    g = backend.to_numpy(got)
    assert g.dtype == want.dtype and g.shape == want.shape
    np.testing.assert_allclose(g, want, rtol=1e-13, atol=1e-15)


def test_complex_extremes_with_infinities(backend):
    """Left-out entries (``where=``, other segments) are filled with the lexicographic
    identity -inf - inf j (inf + inf j), not -inf + 0j, which is above -inf - 1j."""
    import functrans.ops as ops
    inf = np.inf
    w = np.array([[complex(-inf, -5), 1 + 1j, 2 + 0j], [0j, 3j, complex(-inf, -1)]])
    mask = np.array([[True, False, False], [False, False, True]])
    x, m = backend.asarray(w, "complex128"), backend.asarray(mask, "bool")
    _same(backend.to_numpy(fnp.max(x, axis=1, initial=complex(-inf, -10), where=m)),
          np.max(w, axis=1, initial=complex(-inf, -10), where=mask))
    _same(backend.to_numpy(fnp.min(fnp.negative(x), axis=1, initial=complex(inf, 10),
                                   where=m)),
          np.min(-w, axis=1, initial=complex(inf, 10), where=mask))
    data = backend.asarray([complex(-inf, -5), complex(-inf, -1), 1 + 1j, complex(inf, 5)],
                           "complex128")
    ids = backend.asarray([0, 0, 1, 1], "int64")
    _same(backend.to_numpy(ops.segment_max(data, ids, 3)),
          np.array([complex(-inf, -1), complex(inf, 5), complex(-inf, -inf)]))
    _same(backend.to_numpy(ops.segment_min(data, ids, 3)),
          np.array([complex(-inf, -5), 1 + 1j, complex(inf, inf)]))


# -- var, std, nanvar, nanstd: NumPy's and jax.numpy's mean= -------------------------------------

_MEAN_X = np.array([[1.0, 2.0, 4.0, 7.0], [0.5, -1.0, 3.0, 2.0]])


def test_var_std_given_mean(backend):
    x_np = _MEAN_X
    m_np = x_np.mean(1, keepdims=True) + 0.25
    x, m = backend.asarray(x_np), backend.asarray(m_np)
    xn_np = np.where([[True, False, True, True], [True, True, True, False]], x_np, np.nan)
    xn = backend.asarray(xn_np)
    mn_np = np.nanmean(xn_np, 1, keepdims=True) - 0.5
    mn = backend.asarray(mn_np)
    cases = [(fnp.var(x, axis=1, mean=m), np.var(x_np, axis=1, mean=m_np)),
             (fnp.std(x, axis=1, mean=m, ddof=1), np.std(x_np, axis=1, mean=m_np, ddof=1)),
             (fnp.var(x, mean=backend.asarray(3.0)), np.var(x_np, mean=3.0)),
             (fnp.nanvar(xn, axis=1, mean=mn), np.nanvar(xn_np, axis=1, mean=mn_np)),
             (fnp.nanstd(xn, axis=1, mean=mn, keepdims=True),
              np.nanstd(xn_np, axis=1, mean=mn_np, keepdims=True))]
    for got, want in cases:
        assert backend.is_own(got)
        np.testing.assert_allclose(backend.to_numpy(got), want, rtol=1e-14)
    # differentiable in the mean too: d/dm sum_i (x_i - m)^2 / n = -2 mean(x - m)
    g = ft.grad(lambda mm: fnp.sum(fnp.var(x, axis=1, mean=mm)))(m)
    np.testing.assert_allclose(backend.to_numpy(g), -2 * (x_np - m_np).mean(1, keepdims=True),
                               rtol=1e-14)
    with pytest.raises(ValueError, match=r"mean= must have the shape .* \(2, 1\)"):
        fnp.var(x, axis=1, mean=backend.asarray([1.0, 2.0, 3.0]))


def test_var_given_mean_derivatives_and_jax():
    m = _MEAN_X.mean(0, keepdims=True) - 0.3
    check_grads(lambda x, mm: fnp.std(x, axis=0, mean=mm, ddof=1), (_MEAN_X, m), order=2)
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    want = jax.grad(lambda x, mm: jax.numpy.var(x, axis=0, mean=mm).sum(), (0, 1))(_MEAN_X, m)
    got = ft.grad(lambda x, mm: fnp.var(x, axis=0, mean=mm).sum(), (0, 1))(_MEAN_X, m)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, np.asarray(w), rtol=1e-13)


def test_complex_comparisons_as_numpy(backend):
    """<, <=, >, >= of complex numbers on every backend (array-api-strict and torch refuse
    them): NumPy's lexicographic rule, a NaN in an imaginary part stopping the real parts'
    order (jax.numpy refuses complex comparisons)."""
    import itertools
    vals = [1 + 0j, 1 + 1j, 2 + 0j, complex(1, _NAN), complex(_NAN, 0), complex(_NAN, _NAN),
            complex(2, _NAN), complex(_NAN, 1), complex(0, _NAN)]
    a_np = np.array([a for a, _ in itertools.product(vals, vals)])
    b_np = np.array([b for _, b in itertools.product(vals, vals)])
    a, b = backend.asarray(a_np, "complex128"), backend.asarray(b_np, "complex128")
    for f, g in ((fnp.less, np.less), (fnp.less_equal, np.less_equal),
                 (fnp.greater, np.greater), (fnp.greater_equal, np.greater_equal)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            want = g(a_np, b_np)
        got = f(a, b)
        assert backend.is_own(got)
        np.testing.assert_array_equal(backend.to_numpy(got), want)
    np.testing.assert_array_equal(backend.to_numpy(fnp.less(a, 1.5 + 0j)), a_np < 1.5 + 0j)
    np.testing.assert_array_equal(backend.to_numpy(ft.jit(lambda x, y: x >= y)(a, b)),
                                  a_np >= b_np)


def test_complex_sort_nan_order_numpy_versus_lax():
    """functrans.numpy sorts as NumPy (a NaN in either part sorts the value last);
    functrans.lax.sort as jax.lax.sort (each part in turn, NaN last)."""
    import functrans.lax as lax
    a = np.array([complex(_NAN, 0), complex(1, _NAN), 2 + 0j, 1 + 0j])
    _same(fnp.sort(a), np.sort(a))
    _same(lax.sort(a), np.array([1 + 0j, complex(1, _NAN), 2 + 0j, complex(_NAN, 0)]))
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    _same(lax.sort(a), np.asarray(jax.lax.sort(a)))
