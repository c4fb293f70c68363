"""Session 38, rand38b: functrans.random.randint draws uint64 (was NotImplementedError), with
JAX's bits; key() takes JAX's ``dtype`` keyword beside ``impl``."""
import numpy as np
import pytest

import functrans as ft
import functrans.random as fr

U64MAX = 2 ** 64 - 1
# (minval, maxval) as numpy.uint64 values: spans of 0, 1, small, powers of two, above 2**63
U64_CASES = [(0, 5), (0, 1), (7, 7), (9, 3), (0, 2 ** 32), (2 ** 32 + 1, 2 ** 62 + 3),
             (0, 2 ** 63), (0, 2 ** 63 + 7), (2 ** 63, U64MAX), (2 ** 63 + 7, 3 * 2 ** 62 + 11),
             (5, U64MAX), (0, U64MAX), (U64MAX - 1, U64MAX), (U64MAX, 0)]


def _jr():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    import jax.random as jr
    return jr


def _np(x):
    return np.asarray(x)


def _key(backend, seed):
    return backend.asarray(np.asarray(fr.PRNGKey(seed)), dtype="uint32")


# -- randint uint64: against JAX -------------------------------------------------------------


@pytest.mark.parametrize("lo, hi", U64_CASES)
def test_randint_uint64_matches_jax(lo, hi):
    jr = _jr()
    for seed, shape in ((0, (3,)), (42, (2, 5)), (2 ** 40 + 3, ())):
        want = _np(jr.randint(jr.key(seed), shape, np.uint64(lo), np.uint64(hi), "uint64"))
        got = fr.randint(fr.key(seed), shape, np.uint64(lo), np.uint64(hi), "uint64")
        assert _np(got).dtype == np.uint64 and _np(got).shape == shape
        np.testing.assert_array_equal(_np(got), want)
        # Python int bounds (JAX refuses those above 2**63 - 1): the same values
        np.testing.assert_array_equal(_np(fr.randint(fr.key(seed), shape, lo, hi, "uint64")),
                                      want)


def test_randint_uint64_array_and_signed_bounds_match_jax():
    jr = _jr()
    rng = np.random.default_rng(5)
    for i in range(12):
        lo = rng.integers(0, 2 ** 64, size=6, dtype=np.uint64)
        hi = rng.integers(0, 2 ** 64, size=6, dtype=np.uint64)
        if i % 3 == 0:  # small spans beside large values
            hi = lo + rng.integers(1, 1000, size=6).astype(np.uint64)
        np.testing.assert_array_equal(_np(fr.randint(fr.key(i), (6,), lo, hi, "uint64")),
                                      _np(jr.randint(jr.key(i), (6,), lo, hi, "uint64")))
    # signed bounds are clipped at 0 (maxval -1 gives minval), other dtypes are widened
    for i, (lo, hi) in enumerate([(np.array([-3, 0, 2 ** 62]), np.array([7, -1, 2 ** 63 - 1])),
                                  (np.int64(-3), np.int64(7)), (np.uint32(3), np.uint8(200)),
                                  (-5, 10), (-2 ** 63, 5), (np.int32(-9), np.int16(30000))]):
        np.testing.assert_array_equal(_np(fr.randint(fr.key(i), (3,), lo, hi, "uint64")),
                                      _np(jr.randint(jr.key(i), (3,), lo, hi, "uint64")))
    # a raw key and bounds broadcast against the shape
    lo = np.arange(5, dtype=np.uint64) * np.uint64(2 ** 61)
    np.testing.assert_array_equal(
        _np(fr.randint(fr.PRNGKey(3), (4, 5), lo, np.uint64(U64MAX), "uint64")),
        _np(jr.randint(jr.PRNGKey(3), (4, 5), lo, np.uint64(U64MAX), "uint64")))


def test_randint_uint64_under_jit_and_vmap_matches_jax():
    jr = _jr()
    import jax
    lo, hi = np.uint64(2 ** 63 + 5), np.uint64(U64MAX - 2)
    draw = lambda mod, k: mod.randint(k, (4,), lo, hi, "uint64")  # noqa: E731
    np.testing.assert_array_equal(_np(ft.vmap(lambda k: draw(fr, k))(fr.split(fr.key(7), 6))),
                                  _np(jax.vmap(lambda k: draw(jr, k))(jr.split(jr.key(7), 6))))
    np.testing.assert_array_equal(_np(ft.jit(lambda k: draw(fr, k))(fr.key(11))),
                                  _np(jax.jit(lambda k: draw(jr, k))(jr.key(11))))
    his = np.array([2 ** 63, U64MAX, 9, 2 ** 40], dtype=np.uint64)
    np.testing.assert_array_equal(
        _np(ft.vmap(lambda h: fr.randint(fr.key(1), (3,), np.uint64(2), h, "uint64"))(his)),
        _np(jax.vmap(lambda h: jr.randint(jr.key(1), (3,), np.uint64(2), h, "uint64"))(his)))


# -- randint uint64: without JAX ----------------------------------------------------------------


def test_randint_uint64_pinned_bits_and_range():
    """Values pinned from jax 0.10.2 (x64), so CI checks the bits without JAX."""
    got = _np(fr.randint(fr.key(0), (3,), np.uint64(2 ** 63 + 7), np.uint64(U64MAX), "uint64"))
    np.testing.assert_array_equal(got, np.array([10710629094816337686, 17043847706803357838,
                                                 13539031073035129566], dtype=np.uint64))
    np.testing.assert_array_equal(_np(fr.randint(fr.key(0), (3,), 0, 5, "uint64")), [0, 1, 0])
    big = _np(fr.randint(fr.key(4), (2000,), 2 ** 63, U64MAX, "uint64"))
    assert big.dtype == np.uint64 and big.min() >= 2 ** 63
    # (all draws in range and spread over the upper half, not wrapped or clipped)
    assert big.max() > 2 ** 63 + 2 ** 62 and big.min() < 2 ** 63 + 2 ** 62
    small = _np(fr.randint(fr.key(4), (2000,), U64MAX - 4, U64MAX, "uint64"))
    assert set(small.tolist()) == {U64MAX - 4, U64MAX - 3, U64MAX - 2, U64MAX - 1}
    # maxval <= minval gives minval; one past the maximum (2**64) makes U64MAX reachable
    assert set(_np(fr.randint(fr.key(1), (50,), U64MAX, 3, "uint64")).tolist()) == {U64MAX}
    top = _np(fr.randint(fr.key(2), (400,), U64MAX - 1, 2 ** 64, "uint64"))
    assert set(top.tolist()) == {U64MAX - 1, U64MAX}
    # the full range: every word is a draw (span 2**64 wraps to 0, so no remainder)
    full = _np(fr.randint(fr.key(2), (5,), 0, 2 ** 64, "uint64"))
    assert len(set(full.tolist())) == 5


def test_randint_uint64_on_every_backend(backend):
    k = _key(backend, 9)
    lo = backend.asarray(np.array([0, 2 ** 40], dtype=np.int64))
    got = fr.randint(k, (3, 2), lo, 2 ** 41, "uint64")
    want = _np(fr.randint(fr.PRNGKey(9), (3, 2), np.array([0, 2 ** 40]), 2 ** 41, "uint64"))
    got_np = backend.to_numpy(got)
    assert str(got.dtype).endswith("uint64")
    np.testing.assert_array_equal(got_np, want)
    assert got_np.min() >= 0 and (got_np[:, 1] >= 2 ** 40).all() and got_np.max() < 2 ** 41


# -- key's impl / dtype keywords -----------------------------------------------------------------


@pytest.mark.parametrize("kw", [dict(impl="threefry2x32"), dict(dtype="threefry2x32"),
                                dict(dtype=fr.key_dtype()), dict(impl=None, dtype=None)])
def test_key_impl_and_dtype_keywords(kw):
    np.testing.assert_array_equal(_np(fr.key_data(fr.key(2 ** 40 + 3, **kw))),
                                  _np(fr.key_data(fr.key(2 ** 40 + 3))))


@pytest.mark.parametrize("call, match", [
    (lambda: fr.key(0, impl="rbg"), "impl must be None or 'threefry2x32'"),
    (lambda: fr.key(0, dtype="unsafe_rbg"), "dtype must be None or 'threefry2x32'"),
    (lambda: fr.key(0, impl="threefry2x32", dtype="threefry2x32"), "impl or dtype, not both"),
    (lambda: fr.PRNGKey(0, impl="rbg"), "impl must be None or 'threefry2x32'")])
def test_key_refuses_other_implementations(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_key_keywords_are_jax_ones():
    """PRNGKey has no dtype keyword (as JAX); key's dtype works as JAX's."""
    with pytest.raises(TypeError):
        fr.PRNGKey(0, dtype="threefry2x32")
    jr = _jr()
    np.testing.assert_array_equal(_np(fr.key_data(fr.key(5, dtype="threefry2x32"))),
                                  _np(jr.key_data(jr.key(5, dtype="threefry2x32"))))
    with pytest.raises(ValueError):
        jr.key(0, impl="threefry2x32", dtype="threefry2x32")
