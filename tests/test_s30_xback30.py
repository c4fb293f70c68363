"""Session 30, cross-backend consistency (xback30): the same program on torch and
array-api-strict gives what it gives on NumPy."""

import math

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
import functrans.scipy.special as fss
from functrans.errors import BackendMismatchError


def _same_as_numpy(backend, out, want, i):
    assert backend.is_own(out), i
    got = backend.to_numpy(out)
    want = np.asarray(want)
    assert got.dtype == want.dtype and got.shape == want.shape, (i, got.dtype, want.dtype)
    np.testing.assert_allclose(got, want, rtol=1e-13, err_msg=str(i))


def test_numpy_scalars_inside_lists_beside_another_librarys_arrays(backend):
    """NumPy scalars inside the lists that functrans.numpy's functions take beside an array
    (``concatenate([t, [np.float64(1)]])``, ``asarray([t0, np.float32(1)])``, ``add(t,
    [np.float32(1), 2.0])``...) are numbers: the list is made an array of the other operands'
    library and device, of the dtype NumPy gives the list (they raised BackendMismatchError,
    full_like and atleast_1d gave a NumPy array). Values and dtypes are NumPy's own."""
    x, x32 = [1.0, 2.0], np.array([1.0, 2.0], np.float32)
    t, t32, t0 = backend.asarray(x), backend.asarray(x32, "float32"), backend.asarray(3.0)
    i8 = backend.asarray([1, 2], "int8")
    n, n32, n0, n8 = np.array(x), x32, np.array(3.0), np.array([1, 2], np.int8)
    f64, f32, i64 = np.float64, np.float32, np.int64
    cases = [
        (lambda f, t, t32, t0, i8: f.concatenate([t, [f64(1)]])),
        (lambda f, t, t32, t0, i8: f.concatenate([t32, [f32(1)]])),
        (lambda f, t, t32, t0, i8: f.concatenate([t32, [f64(1)]])),
        (lambda f, t, t32, t0, i8: f.concatenate([i8, [np.int16(1)]])),
        (lambda f, t, t32, t0, i8: f.stack([t32, [f32(1.0), 2]])),
        (lambda f, t, t32, t0, i8: f.asarray([t0, f32(1.0)])),
        (lambda f, t, t32, t0, i8: f.asarray([[t0, f64(1.0)], [2.0, t0]])),
        (lambda f, t, t32, t0, i8: f.vstack([t, [f64(1.0), 2.0]])),
        (lambda f, t, t32, t0, i8: f.append(t32, [f32(1.0)])),
        (lambda f, t, t32, t0, i8: f.add(t32, [f32(1), 2.0])),
        (lambda f, t, t32, t0, i8: f.add(t32, [f32(1), f32(2.0)])),
        (lambda f, t, t32, t0, i8: f.multiply(t, [[f64(1)], [2.0]])),
        (lambda f, t, t32, t0, i8: f.matmul(t, [f64(1), 2.0])),
        (lambda f, t, t32, t0, i8: f.bitwise_and(i8, [np.int8(3), np.int8(1)])),
        (lambda f, t, t32, t0, i8: f.isin(t, [f64(1.0)])),
        (lambda f, t, t32, t0, i8: f.interp(t, [f64(0), f64(3)], [f64(0), f64(1)])),
        (lambda f, t, t32, t0, i8: f.take(t, [i64(1), 0])),
        (lambda f, t, t32, t0, i8: f.full_like(t, [f64(7), 8.0])),
        (lambda f, t, t32, t0, i8: f.atleast_1d(t, [f64(1.0)])[1]),
        (lambda f, t, t32, t0, i8: f.where(t > 1.5, f64(1), f64(2))),
        (lambda f, t, t32, t0, i8: f.where(t > 1.5, f32(1), f32(2))),
        (lambda f, t, t32, t0, i8: f.r_[t32, f64(1.0)]),
        (lambda f, t, t32, t0, i8: f.r_[i8, 1, 3:5]),
        (lambda f, t, t32, t0, i8: f.r_[t, 1.0, 0:1:3j]),
        (lambda f, t, t32, t0, i8: f.c_[t, [f64(1.0), 2.0]]),
    ]
    for i, case in enumerate(cases):
        _same_as_numpy(backend, case(fnp, t, t32, t0, i8), case(np, n, n32, n0, n8), i)
    # (NumPy's bincount takes a list of weights; functrans's raised on every backend)
    out = fnp.bincount(backend.asarray([0, 1, 1], "int64"), weights=[f64(1.0), 2.0, 3.0])
    _same_as_numpy(backend, out, np.bincount([0, 1, 1], weights=[1.0, 2.0, 3.0]), "bincount")
    # derivatives through them, eagerly and under jit
    f = lambda t: fnp.sum(fnp.concatenate([t, [f64(1.5)]])[:2] ** 2 *  # noqa: E731
                          fnp.asarray([t[0], f32(2.0)]) * fnp.r_[t, f64(1.0), 0:1][:2])
    g = ft.grad(f)(t)
    assert backend.is_own(g)
    gn = ft.grad(f)(n)
    np.testing.assert_allclose(backend.to_numpy(g), gn, rtol=1e-14)
    np.testing.assert_allclose(backend.to_numpy(ft.jit(ft.grad(f))(t)), gn, rtol=1e-14)
    # (by hand: f = t0^4 + 2 t1^3)
    np.testing.assert_allclose(gn, [4.0 * 1.0 ** 3, 6.0 * 2.0 ** 2], rtol=1e-14)
    if backend.name != "numpy":
        # a NumPy *array* inside the list is data of another library: still refused
        for bad in (lambda: fnp.concatenate([t, np.array([1.0])]),
                    lambda: fnp.asarray([t0, np.array(1.0)]),
                    lambda: fnp.add(t, [np.array(1.0), 2.0]),
                    lambda: fnp.r_[t, np.array([1.0])],
                    lambda: fnp.where(t > 1.5, np.array(1.0), 2.0)):
            with pytest.raises(BackendMismatchError, match="numpy"):
                bad()


def test_lists_of_numpy_integers_are_integers():
    """A list of NumPy integers made an array beside another (take's indices) had the dtype
    bool (NumPy's scalar types were not counted as numbers): take raised TypeError."""
    np.testing.assert_array_equal(fnp.take(np.array([1.0, 2.0]), [np.int64(1)]), [2.0])
    np.testing.assert_array_equal(fnp.take(np.array([1.0, 2.0]), [np.int32(1), 0]), [2.0, 1.0])


# polygamma(n, x) by mpmath (30 digits), for the points below
_POLYGAMMA_FAR = {
    1: {-20.5: 9.821994344649879482, -10.25: 19.6462524246226528,
        -1234.75: 19.73839924950080963},
    2: {-20.5: -0.002266289919637796934, -10.25: 124.0164720214871049,
        -1234.75: -124.0251073765747832},
    3: {-20.5: 194.8179663529729691, -10.25: 1558.543853536405899,
        -1234.75: 1558.545456542977874},
    4: {-20.5: -0.00003079320597340276045, -10.25: 24481.57433674821372,
        -1234.75: -24481.57478282251884},
}


def test_polygamma_at_special_points(backend):
    """polygamma's values where SciPy defines them on every backend: below -10 the generic
    version (array-api-strict; torch for n = 1) gave nan, now the reflection formula; its
    poles (0, -0.0, the negative integers, -inf) give (-1)^(n+1) inf on every backend (-0.0
    gave +inf for even n there); at +inf torch gave nan for n >= 2 (SciPy: a signed 0)."""
    pts = sorted(_POLYGAMMA_FAR[1])
    special = [-np.inf, -1e300, -1e10, -2.0, -1.0, -0.0, 0.0, np.inf, np.nan]
    for n, ref in _POLYGAMMA_FAR.items():
        out = fss.polygamma(n, backend.asarray(pts))
        assert backend.is_own(out)
        # (SciPy's, and torch's own for n >= 2, sum zeta(n + 1, x) from x: about 1e-9 there)
        generic = backend.name == "array_api_strict" or (backend.name == "torch" and n == 1)
        np.testing.assert_allclose(backend.to_numpy(out), [ref[p] for p in pts],
                                   rtol=2e-14 if generic else 1e-8)
        sign = (-1.0) ** (n + 1)
        got = backend.to_numpy(fss.polygamma(n, backend.asarray(special)))
        want = [sign * math.inf] * 7 + [sign * 0.0, math.nan]
        np.testing.assert_array_equal(got, want)
        assert np.signbit(got[7]) == (sign < 0), n
    # the derivative (the next order) there too
    d = ft.grad(lambda x: fnp.sum(fss.polygamma(1, x)))(backend.asarray(pts))
    np.testing.assert_allclose(backend.to_numpy(d), [_POLYGAMMA_FAR[2][p] for p in pts],
                               rtol=1e-8)


def test_full_like_casts_fill_values_as_numpy(backend):
    """full_like/full with a value the dtype cannot hold (nan or inf for an integer dtype,
    -2.7 for uint8, a complex value for a real dtype, 1e300 for float32/complex64) give
    NumPy's cast on every backend (torch raised RuntimeError: value cannot be converted)."""
    import warnings
    for dt in ("int64", "int8", "uint8", "bool", "float32", "complex64"):
        x = backend.asarray([1, 2], dt)
        for v in (math.nan, math.inf, -2.7, 0.5, 1e300, 1 + 2j):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                want = np.full_like(np.array([1, 2], dt), v)
                got = [fnp.full_like(x, v), fnp.full((2,), v, dtype=want.dtype, like=x),
                       fnp.full_like(x, v, shape=(2,))]
            for out in got:
                assert backend.is_own(out), (dt, v)
                np.testing.assert_array_equal(backend.to_numpy(out), want, err_msg=f"{dt} {v}")
                assert backend.to_numpy(out).dtype == want.dtype
    with pytest.warns(RuntimeWarning, match="invalid value"):  # NumPy's warning, as NumPy
        fnp.full_like(backend.asarray([1, 2], "int64"), math.nan)
