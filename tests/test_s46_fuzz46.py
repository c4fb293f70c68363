"""Session 46, helper fuzz46: what the fuzzers' seeds found. Pins functrans.numpy.fromstring's
refusal of a ``count`` larger than the string's values (NumPy 2.4 fills the missing values
with uninitialised memory: functrans returned that junk) while a count within the values,
count=-1 and NumPy's reading of ``count`` values before unreadable data stay as NumPy's.
"""
import numpy as np
import pytest

import functrans.numpy as fnp


def test_fromstring_count_past_the_values_is_refused():
    # before: fnp.fromstring("1 2 3 4", sep=" ", count=5) gave [1, 2, 3, 4, <junk>]
    with pytest.raises(ValueError, match="count=5 but the string holds only 4 values"):
        fnp.fromstring("1 2 3 4", sep=" ", count=5)
    with pytest.raises(ValueError, match="count=3 but the string holds only 2 values"):
        fnp.fromstring("1,2,", dtype="int32", sep=",", count=3)
    with pytest.raises(ValueError, match="count=1 but the string holds only 0 values"):
        fnp.fromstring("", sep=" ", count=1)


def test_fromstring_within_the_values_is_numpys():
    for s, kw in [("1 2 3 4", dict(sep=" ", count=4)), ("1 2 3 4", dict(sep=" ", count=2)),
                  ("1, 2, 3", dict(sep=",", dtype="int64")), ("", dict(sep=" ", count=0)),
                  ("1 2 x 4", dict(sep=" ", count=2)), ("1.5 2.5", dict(sep=" ",
                                                                         dtype="float32"))]:
        want = np.fromstring(s, **kw)
        got = fnp.fromstring(s, **kw)
        assert np.asarray(got).dtype == want.dtype
        np.testing.assert_array_equal(np.asarray(got), want)
    with pytest.raises(ValueError, match="could not be read"):  # (NumPy's own error)
        fnp.fromstring("1 2 x 4", sep=" ", count=3)


def test_ragged_dot_keeps_the_operands_integer_dtype():
    # before: int32 operands gave int64 (NumPy's sum widened the groups' masked sum);
    # jax.lax.ragged_dot keeps dot's dtype, as dot_general does here
    import functrans as ft
    import functrans.lax as flax
    lhs = np.arange(15, dtype=np.int32).reshape(5, 3) - 7
    rhs = np.arange(18, dtype=np.int32).reshape(3, 3, 2) % 5 - 2
    gs = np.array([1, 0, 3], np.int32)
    want = np.zeros((5, 2), np.int64)
    want[0] = lhs[0] @ rhs[0]
    want[1:4] = lhs[1:4] @ rhs[2]
    for dt in ("int32", "uint8", "bool"):
        x, y = lhs.astype(dt), rhs.astype(dt)
        got = np.asarray(flax.ragged_dot(x, y, gs))
        assert got.dtype == np.dtype(dt)
        if dt == "int32":
            np.testing.assert_array_equal(got, want)
    got = np.asarray(ft.vmap(lambda g: flax.ragged_dot(lhs, rhs, g))(np.stack([gs, gs[::-1]])))
    assert got.dtype == np.int32
    np.testing.assert_array_equal(got[0], want)
