"""Session 52 (perf52): data-dependent selections on large NumPy arrays; what this pins.

- NumPy's where (2.4) branches on each element's condition: ~3.5 ns an element on a fresh
  random condition against ~0.6 on a predictable one. The NumPy backend's namespace where
  (numpy_backend._where: the select primitive's, so functrans.numpy.where's and lax.select's,
  and every generic function's on NumPy arrays) selects the bits, ((x1 ^ x2) & mask) ^ x2,
  for 1-, 2- and 4-byte types from 16K elements and for 8-byte ones from 32K where a sample
  of the condition flips often: expit on 1e5 normal points 1.45 -> 0.76 ms, rel_entr and
  kl_div 0.65x, norm.logcdf 0.87x, gammainc/hyp2f1 -3 to -4 %. The tests pin np.where's bits
  (NaN payloads, -0.0, every dtype, 0-d and Python-float operands, odd boolean bytes, strided
  operands) and which conditions take the path.
- Boolean-mask indexing branches the same way: erfc's tail (x >= 3.5) is taken and written
  by flat indices (nonzero, take, put): erfc on 1e5 normal(0, 3) points 2.54 -> 2.24 ms.
  Pinned on every layout.
- bessel_zeros.phase_values: the parity by floor, not NumPy's slow float remainder (bits
  unchanged; tests/test_s49_special49.py and test_s50_special50.py pin the values).

Left: j0/j1 on 1e5 points in (0, 1000) stay ~20 % above SciPy's (the far check's max and min,
the near-zero candidates' passes in primitives/special.py, the phase form on the ~1 % near
zeros); complex128 and long double keep np.where; boolean-mask indexing elsewhere (the
patched SciPy functions' rare repairs) is left, its cost there small beside the repair's.
"""

import numpy as np
import pytest

import functrans as ft
import functrans.lax as lax
import functrans.numpy as fnp
from functrans.backends import numpy_backend as nb

N = 40_000   # (above both thresholds)


def _bits(a):
    a = np.ascontiguousarray(a)
    return a.dtype, a.shape, a.view(np.uint8).tobytes()


def _operands(rng, dt, n):
    a = (rng.standard_normal(n) * 100).astype(dt)
    b = (rng.standard_normal(n) * 100).astype(dt)
    if np.dtype(dt).kind in "fc":
        a[::7] = np.nan
        b[::5] = -0.0
        u = {2: np.uint16, 4: np.uint32, 8: np.uint64}[a.real.itemsize]
        a.real.view(u)[::13] |= 1   # (NaNs with other payloads)
    return a, b


DTYPES = [np.float64, np.float32, np.float16, np.complex64, np.complex128, np.int8, np.int16,
          np.int32, np.int64, np.uint8, np.uint64, np.bool_]


@pytest.mark.parametrize("dt", DTYPES, ids=lambda d: np.dtype(d).name)
def test_select_gives_np_where_bits(dt):
    rng = np.random.default_rng(0)
    a, b = _operands(rng, dt, N)
    conds = [rng.random(N) < 0.5, rng.random(N) < 0.02, np.arange(N) < N // 3,
             np.ones(N, bool), np.zeros(N, bool)]
    pairs = [(a, b), (a, np.asarray(b[3])), (np.asarray(a[3]), b),
             (np.asarray(a[3]), np.asarray(b[4]))]
    if np.dtype(dt).kind == "f":
        pairs += [(a, -0.0), (np.nan, b), (0.1, b), (a, 1e300)]
    with np.errstate(over="ignore"):   # (1e300 in float16/32: inf, as np.where makes it)
        for c in conds:
            for x1, x2 in pairs:
                want = np.where(c, x1, x2)
                assert _bits(nb._where(c, x1, x2)) == _bits(want)
                assert _bits(fnp.where(c, x1, x2)) == _bits(want)


def test_select_takes_the_bits_where_np_where_is_slow():
    rng = np.random.default_rng(1)
    random = rng.random(N) < 0.5
    runs = np.repeat(rng.random(N // 500) < 0.5, 500)
    x64, x32 = rng.random(N), rng.random(N).astype(np.float32)
    assert nb._bit_select(random, x64, x64[::-1]) is not None
    assert nb._bit_select(random, x32, 0.5) is not None
    assert nb._bit_select(runs, x32, x32) is not None      # (4 bytes: never slower)
    assert nb._bit_select(runs, x64, x64) is None          # (8 bytes, predictable: np.where)
    assert nb._bit_select(random[:20_000], x64[:20_000], x64[:20_000]) is None   # (small)
    c128 = x64.astype(np.complex128)
    assert nb._bit_select(random, c128, c128) is None      # (16 bytes: np.where)
    assert nb._bit_select(random, x64, x32) is None        # (promotion: np.where)
    assert nb._bit_select(random, x64, x64[:1]) is None    # (broadcasting: np.where)
    assert nb._bit_select(random, x64.astype(">f8"), x64.astype(">f8")) is None


def test_select_odd_inputs_and_no_mutation():
    rng = np.random.default_rng(2)
    # booleans whose bytes are not 0 and 1 (a view of other bytes): true, as np.where reads them
    c = np.frombuffer(rng.integers(0, 4, N, dtype=np.uint8).tobytes(), np.bool_)
    a, b = rng.random(N).astype(np.float32), rng.random(N).astype(np.float32)
    assert _bits(nb._where(c, a, b)) == _bits(np.where(c, a, b))
    # 2-d, strided and Fortran-ordered operands, read-only ones; nothing written into them
    c = rng.random((250, 200)) < 0.5
    x1 = rng.random((250, 400))[:, ::2]
    x2 = np.asfortranarray(rng.random((250, 200)))
    x1.flags.writeable = False
    keep = [v.copy() for v in (c, x1, x2)]
    for cond in (c, np.asfortranarray(c)):
        assert _bits(nb._where(cond, x1, x2)) == _bits(np.where(cond, x1, x2))
    for v, k in zip((c, x1, x2), keep):
        np.testing.assert_array_equal(v, k)
    # empty, 0-d and small: np.where's
    for cond, p, q in [(np.zeros(0, bool), np.zeros(0), np.ones(0)),
                       (np.True_, np.asarray(1.0), np.asarray(2.0)),
                       (np.array(False), np.ones(3), np.zeros(3))]:
        assert _bits(nb._where(cond, p, q)) == _bits(np.where(cond, p, q))


def test_select_bfloat16_and_derivatives_through_the_bits():
    ml_dtypes = pytest.importorskip("ml_dtypes")
    rng = np.random.default_rng(3)
    c = rng.random(N) < 0.5
    x = rng.standard_normal(N).astype(ml_dtypes.bfloat16)
    assert _bits(fnp.where(c, x, x[::-1])) == _bits(np.where(c, x, x[::-1]))
    # grad and jvp of a where on a random condition (the transposed select takes the bits too)
    v = rng.standard_normal(N)

    def f(v):
        return fnp.sum(fnp.where(v > 0, v ** 2, -3.0 * v))
    np.testing.assert_array_equal(ft.grad(f)(v), np.where(v > 0, 2 * v, -3.0))
    t = rng.standard_normal(N)
    _, tan = ft.jvp(lambda v: lax.select(v > 0, v ** 2, -3.0 * v), (v,), (t,))
    np.testing.assert_array_equal(tan, np.where(v > 0, 2 * v * t, -3.0 * t))


@pytest.mark.usefixtures("numpy_without_bfloat16")   # (bfloat16's namespace wraps it)
def test_where_is_the_namespace_where_of_the_numpy_backend():
    # one place: the select primitive and the generic functions both call the namespace's
    from functrans.backends import get_backend
    assert get_backend("numpy").xp.where is nb._where
    rng = np.random.default_rng(4)
    c = rng.random(N) < 0.5
    x = rng.random(N).astype(np.float32)
    assert _bits(lax.select(c, x, -x)) == _bits(np.where(c, x, -x))


def test_erfc_tail_by_indices_on_every_layout():
    # the tail (x >= 3.5) is taken and written by flat indices: the same values whatever the
    # input's layout, nan and inf kept, nothing written into the input
    import functrans.scipy.special as fsp
    rng = np.random.default_rng(5)
    base = rng.normal(0.0, 4.0, (120, 90))
    base[::7, ::5] = np.nan
    base[3, :4] = [np.inf, -np.inf, 3.5, 27.0]
    want = np.asarray(fsp.erfc(np.ascontiguousarray(base)))
    for x in (np.asfortranarray(base), np.ascontiguousarray(base.T).T,
              np.repeat(base, 2, axis=1)[:, ::2]):
        keep = x.copy()
        got = np.asarray(fsp.erfc(x))
        assert got.shape == want.shape
        assert np.ascontiguousarray(got).tobytes() == np.ascontiguousarray(want).tobytes()
        np.testing.assert_array_equal(x, keep)
    # the tail against erfcx(x) exp(-x^2) in mpmath (SciPy's own erfc: exp of a rounded x^2)
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 40
    xs = np.array([3.5, 5.25, 9.75, 26.5, 27.1])
    got = np.asarray(fsp.erfc(np.concatenate([xs, -xs])))[:5]
    ref = np.array([float(mpmath.erfc(mpmath.mpf(float(v)))) for v in xs])
    assert np.all(np.abs(got - ref) <= 4 * np.spacing(ref))
