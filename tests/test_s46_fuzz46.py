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
