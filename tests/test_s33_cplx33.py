"""Session 33, complex zero signs and exactness (cplx33): the complex array built from two
real parts (exp2, sign, round, lax.complex) keeps the signs of zeros, sign divides each part
by |z| (exact where NumPy's is). Expected values: NumPy's for the same input."""

import itertools

import numpy as np

import functrans.lax as lax
import functrans.numpy as fnp

_INF, _NAN = np.inf, np.nan
_PARTS = [0.0, -0.0, 1.0, -1.0, 2.5, -1e-300, 1e-310, 1e300, _INF, -_INF, _NAN]
_GRID = np.array([complex(a, b) for a, b in itertools.product(_PARTS, _PARTS)])


def _same(got, want, rtol=0.0):
    """Equal to ``want`` part by part: the same NaNs, the same signs of zeros and infinities,
    finite values to ``rtol`` (0: bit for bit)."""
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype and got.shape == want.shape, (got.dtype, got.shape)
    for part in ("real", "imag"):
        a, b = getattr(got, part), getattr(want, part)
        close = (a == b) | (np.abs(a - b) <= rtol * np.abs(b))
        ok = (close & (np.signbit(a) == np.signbit(b))) | (np.isnan(a) & np.isnan(b))
        assert ok.all(), (part, want[~ok], got[~ok])


def _numpy(fn, *args):
    with np.errstate(all="ignore"):
        return fn(*args)


def test_complex_from_parts_keeps_zero_signs(backend):
    """lax.complex(re, im) added +0 to each part: complex(-0., 1.) was 0 + 1j, complex(1., -0.)
    1 + 0j (NumPy builds -0 + 1j and 1 - 0j)."""
    re, im = _GRID.real.copy(), _GRID.imag.copy()
    got = lax.complex(backend.asarray(re, "float64"), backend.asarray(im, "float64"))
    want = np.empty(re.shape, complex)
    want.real, want.imag = re, im
    _same(backend.to_numpy(got), want)
    r32, i32 = re.astype("float32"), im.astype("float32")
    want32 = np.empty(re.shape, "complex64")
    want32.real, want32.imag = r32, i32
    got32 = lax.complex(backend.asarray(r32, "float32"), backend.asarray(i32, "float32"))
    _same(backend.to_numpy(got32), want32)


def test_sign_zero_signs_and_exactness_as_numpy(backend):
    """sign(-0. + 1j) was 1j (NumPy -0 + 1j), sign(1 - 0j) 1 + 0j (NumPy 1 - 0j), and
    sign(1e-300j) 0.9999999999999999j (NumPy exactly 1j): z / |z| was a complex division."""
    tiny = np.array([1e-300j, -1e-300j, 1e-300 + 0j, 5e-324j, 1e300j, -1.7e308 - 0j,
                     complex(-0.0, 1e-310), complex(3e-300, -4e-300), complex(3e300, 4e300),
                     complex(1e-300, -1e-300)])
    for z in (_GRID, tiny):
        _same(backend.to_numpy(fnp.sign(backend.asarray(z, "complex128"))), _numpy(np.sign, z))
    _same(backend.to_numpy(fnp.sign(backend.asarray(tiny, "complex128")))[:6],
          np.array([1j, -1j, 1, 1j, 1j, -1 - 0j]))
    z32 = _GRID[np.isfinite(_GRID.real) | ~np.isfinite(_GRID.imag)].astype("complex64")
    _same(backend.to_numpy(fnp.sign(backend.asarray(z32, "complex64"))), _numpy(np.sign, z32),
          rtol=1e-7)


def test_exp2_zero_signs_as_numpy(backend):
    """exp2(complex(1, -0.)) was 2 + 0j (NumPy 2 - 0j)."""
    z = np.array([complex(1.0, -0.0), complex(-0.0, -0.0), complex(3.0, -0.0), complex(-2.0, -0.0),
                  complex(0.5, 0.0), complex(-_INF, -0.0), complex(_INF, -0.0), 2 + 1j])
    got = backend.to_numpy(fnp.exp2(backend.asarray(z, "complex128")))
    _same(got, _numpy(np.exp2, z), rtol=4e-15)
    assert np.signbit(got.imag[:4]).all()


def test_complex_round_keeps_zero_signs(backend):
    """round(z, 1) rebuilds z from its rounded parts: -0.02 + 0.16j was 0.2j (NumPy -0 + 0.2j)."""
    z = np.array([complex(-0.02, -0.03), complex(0.02, -0.04), complex(-0.04, 0.16),
                  0.25 - 0.01j])
    _same(backend.to_numpy(fnp.round(backend.asarray(z, "complex128"), 1)), np.round(z, 1))


def test_cholesky_below_an_infinite_pivot_as_numpy(backend):
    """torch's cholesky([[inf, -inf], [-inf, inf]]) was [[inf, 0], [nan, nan]]: NumPy's
    LAPACK scales the column below an infinite pivot by 1 / inf = 0 exactly (0 even at an
    infinite or NaN entry), [[inf, 0], [0, inf]]."""
    inf, nan = np.inf, np.nan
    ms = [[[inf, -inf], [-inf, inf]], [[inf, inf], [inf, inf]], [[inf, nan], [nan, 1.0]],
          [[inf, -inf, 0.0], [-inf, inf, 1.0], [0.0, 1.0, 2.0]], [[4.0, inf], [inf, inf]]]
    # (finite entries to 2 ulps: the trailing block's square root is the library's LAPACK,
    # whose last bit differs between CPUs; the infinities, zeros and nans are exact)
    for m in ms:
        m = np.array(m)
        want = _numpy(np.linalg.cholesky, m)
        _same(backend.to_numpy(fnp.linalg.cholesky(backend.asarray(m, "float64"))), want,
              rtol=4.5e-16)
    assert _numpy(np.linalg.cholesky, np.array(ms[0]))[1, 0] == 0.0  # (the expectation)
    m = np.array([[[inf, -inf], [-inf, inf]], [[4.0, 2.0], [2.0, 5.0]]])  # (a batch)
    _same(backend.to_numpy(fnp.linalg.cholesky(backend.asarray(m, "float64"), upper=True)),
          np.swapaxes(_numpy(np.linalg.cholesky, m), -1, -2))
