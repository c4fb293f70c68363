"""Session 48, helper fuzz48: what the fuzzers (tests/_fuzz_*.py) found against NumPy and
JAX, pinned: r_/c_'s directive 'axis,ndmin,trans1d' (c_ with ndmin 3 put a piece's axes
wrongly), issubdtype with NumPy's string dtypes, and a dtype called on an out-of-range
number (NumPy's cast for a NumPy scalar, a clear OverflowError for a Python number)."""

import warnings

import numpy as np
import pytest

import functrans.numpy as fnp


def test_c_ndmin3_puts_pieces_axes_as_numpy():
    # was (2, 2, 3) and (4, 1): a 2-d piece padded in front, a 1-d piece left 2-d
    a = np.arange(6.0).reshape(2, 3)
    for key in [("0,3", a, a), ("-1,3", a, a), ("0,3", [1.0, 2.0], [3.0, 4.0]),
                ("1,3", slice(0, 3), [4, 5, 6]), ("0,2,1", [1, 2], [3, 4]),
                ("1,3,-2", [1, 2], [3, 4])]:
        for name in ("r_", "c_"):
            want = getattr(np, name)[key]
            got = np.asarray(getattr(fnp, name)[key])
            assert got.shape == want.shape and got.dtype == want.dtype, (name, key[0])
            np.testing.assert_array_equal(got, want)
    with pytest.raises(ValueError, match="third number 5"):
        fnp.c_["0,2,5", [1, 2]]
    with pytest.raises(ValueError, match="unknown directive"):
        fnp.r_["0,x", [1, 2]]


def test_issubdtype_numpy_string_dtypes():
    for a, b in [("S", fnp.character), ("U", np.flexible), (np.dtype("S3"), np.bytes_),
                 ("S", fnp.floating), (fnp.float32, "S"), ("M8", np.generic)]:
        assert fnp.issubdtype(a, b) == np.issubdtype(a, b), (a, b)
    with pytest.raises(TypeError, match="not a data type"):
        fnp.issubdtype("not a dtype", fnp.floating)


def test_integer_dtype_of_out_of_range_number():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        want = np.int32(np.float64(3e9))  # NumPy's (undefined) cast of a NumPy scalar
        got = fnp.int32(np.float64(3e9))
        assert got.dtype == fnp.int32 and int(got) == int(want)
        assert int(fnp.int32(np.int64(2 ** 40))) == int(np.int32(np.int64(2 ** 40)))
    # a Python number out of range: refused (as NumPy and JAX), in words about its range
    with pytest.raises(OverflowError, match=r"3000000000.0 is out of the range of int32 "
                                            r"\(-2147483648 to 2147483647\)"):
        fnp.int32(3e9)
    with pytest.raises(OverflowError, match="out of the range of uint8"):
        fnp.asarray(-1.0, dtype=fnp.uint8)
    with pytest.raises(ValueError, match="nan has no value of int32"):
        fnp.array(float("nan"), dtype="int32")
    assert int(fnp.int32(-2147483648.9)) == -2147483648  # (truncated: in range)


def test_expn_float32_orders_give_float32_as_scipy():
    # SciPy's loops ld->d, ff->f, dd->d: float32 orders with a float32 x (or a Python
    # number) give float32; ours was float64 (the fuzzer's x_special, seed 44013)
    import scipy.special as ss

    import functrans.scipy.special as fsp
    n32, x32 = np.float32([2.0, 3.0, 0.0]), np.float32([1.0, 2.0, 0.5])
    for n, x in [(n32, x32), (n32, 1.5), (n32, x32.astype(np.float64)),
                 (n32.astype(np.int32), x32), (2, x32)]:
        got, want = fsp.expn(n, x), ss.expn(n, x)
        assert got.dtype == want.dtype, (n.dtype if hasattr(n, "dtype") else n, want.dtype)
        np.testing.assert_allclose(got, want, rtol=1e-6)


def test_binary_elementwise_functions_are_ufuncs():
    # isinstance(np.add, np.ufunc) and JAX's are true; ours was False (fuzz48's more48)
    assert isinstance(fnp.add, fnp.ufunc) and isinstance(fnp.negative, fnp.ufunc)
    assert isinstance(fnp.maximum, fnp.ufunc) and isinstance(fnp.logical_and, fnp.ufunc)
    assert isinstance(fnp.frompyfunc(lambda a, b: a * b, 2, 1), fnp.ufunc)
    assert not isinstance(fnp.sin, fnp.ufunc) and not isinstance(lambda a: a, fnp.ufunc)


def test_comb_repetition_outside_domain_is_scipys_binom():
    # SciPy's comb(N, k, repetition=True) is binom(N + k - 1, k) there: 0 at a negative
    # integer k, a value where poch(N, k) and k! both overflow; ours was nan (the fuzzer's
    # z_special48, seed 48004+: 672 of 24336 grid points)
    import scipy.special as ss

    import functrans.scipy.special as fsp
    N = np.array([22.0, 4.0, -0.5, -0.5, 3.3])
    k = np.array([-2.0, -3.0, 1000.5, 170.0, -1.5])
    want = ss.comb(N, k, exact=False, repetition=True)
    np.testing.assert_allclose(fsp.comb(N, k, repetition=True), want, rtol=1e-10)
