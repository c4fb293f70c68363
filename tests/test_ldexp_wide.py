"""ldexp with exponents beyond float64's powers of two (|x2| > 1023): ``ldexp(1e-300, 1100)``
and ``ldexp(1e300, -1100)`` are finite, and results below the normal range are rounded once,
exactly as NumPy's, for float64, float32 and float16 ``x1``, integer ``x1``, Python and array
exponents, plain, under jit and vmap; the derivative is ``2**x2``.
"""

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp

RNG = np.random.default_rng(21)

EXPONENTS = [0, 5, -5, 1023, 1024, -1022, -1074, -1075, 1100, -1100, 2000, -2000, 2098, -2098,
             5000, -5000, 130, -150]


def _values(dtype):
    special = np.array([0.0, -0.0, 1.0, -1.0, np.inf, -np.inf, np.nan, 1e-300, 1e300, 5e-324,
                        2.2250738585072014e-308, 0.7, 1.5, -3.25])
    rand = RNG.standard_normal(40) * np.exp(RNG.uniform(-700, 700, 40))
    with np.errstate(all="ignore"):
        return np.concatenate([special, rand]).astype(dtype)


def _same(got, ref):
    assert got.dtype == ref.dtype
    np.testing.assert_array_equal(got, ref)
    np.testing.assert_array_equal(np.signbit(got), np.signbit(ref))


@pytest.mark.parametrize("dtype", ["float64", "float32", "float16"])
def test_ldexp_matches_numpy(backend, dtype):
    if dtype == "float16" and backend.name == "array_api_strict":
        pytest.skip("array-api-strict has no float16")
    x = _values(dtype)
    xb = backend.asarray(x, dtype=dtype)
    for e in EXPONENTS:
        with np.errstate(all="ignore"):
            ref = np.ldexp(x, e)
            _same(backend.to_numpy(fnp.ldexp(xb, e)), ref)
            ee = np.full(x.shape, e)
            _same(backend.to_numpy(fnp.ldexp(xb, backend.asarray(ee, dtype="int64"))), ref)
    e = RNG.integers(-2300, 2300, x.shape)
    with np.errstate(all="ignore"):
        ref = np.ldexp(x, e)
        eb = backend.asarray(e, dtype="int64")
        _same(backend.to_numpy(fnp.ldexp(xb, eb)), ref)
        _same(backend.to_numpy(ft.jit(fnp.ldexp)(xb, eb)), ref)
        _same(backend.to_numpy(ft.vmap(fnp.ldexp)(xb, eb)), ref)


def test_ldexp_python_and_integer_x1(backend):
    with np.errstate(all="ignore"):
        assert float(fnp.ldexp(1e-300, 1100)) == np.ldexp(1e-300, 1100)
        assert float(fnp.ldexp(1e300, -1100)) == np.ldexp(1e300, -1100)
        ints = np.array([1, 2, -3])
        for e in (1100, -1100, -1074, 3):
            got = fnp.ldexp(backend.asarray(ints, dtype="int64"), e)
            _same(backend.to_numpy(got), np.ldexp(ints, e))


def test_ldexp_derivative_wide(backend):
    # d ldexp(x, n)/dx = 2**n, reaching the result where 2**n alone is out of float64's range
    # (times a small cotangent) or the value underflows while 2**n does not
    x = backend.asarray([1e-300, 3.0, 1e300])
    e = backend.asarray([1100, 3, -1100], dtype="int64")
    g = ft.grad(lambda v: fnp.sum(fnp.multiply(fnp.ldexp(v, e), 1e-30)))(x)
    np.testing.assert_allclose(backend.to_numpy(g), np.ldexp(1e-30, [1100, 3, -1100]),
                               rtol=1e-15)
    e2 = backend.asarray([-1000, 3, -1050], dtype="int64")
    g = ft.grad(lambda v: fnp.sum(fnp.ldexp(v, e2)))(x)
    np.testing.assert_allclose(backend.to_numpy(g), np.ldexp(1.0, [-1000, 3, -1050]),
                               rtol=1e-15)
    t = ft.jvp(lambda v: fnp.ldexp(v, 1100), (x,), (backend.asarray([1e-300, 0.0, 0.0]),))[1]
    np.testing.assert_allclose(backend.to_numpy(t), [np.ldexp(1e-300, 1100), 0.0, 0.0],
                               rtol=1e-15)


def test_ldexp_takes_lists(backend):
    x = backend.asarray([1e-300, 1.5])
    got = fnp.ldexp(x, [1100, -3])
    assert backend.is_own(got)
    _same(backend.to_numpy(got), np.ldexp([1e-300, 1.5], [1100, -3]))
    _same(np.asarray(fnp.ldexp([1.0, 2.0], [1, 2])), np.ldexp([1.0, 2.0], [1, 2]))
    with pytest.raises(TypeError, match="integer"):
        fnp.ldexp(x, [1.5, 2.0])
