"""Functions of functrans.numpy on boolean arrays give NumPy's result dtypes where they kept
bool before: ``square``, ``conj``, ``reciprocal`` give int8, ``round``/``around`` float16
(NumPy has no boolean loop for them), ``clip`` NumPy's promotion with its bounds. Also
under jit and vmap. (Floating functions of booleans, ``sin`` and the rest, give float64 as
for every integer dtype: a documented difference, NumPy gives float16.)
"""

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp

MASK = [True, False, True, False]

CASES = [
    ("square", fnp.square, np.square),
    ("conj", fnp.conj, np.conj),
    ("conjugate", fnp.conjugate, np.conjugate),
    ("reciprocal", fnp.reciprocal, np.reciprocal),
    ("round", fnp.round, np.round),
    ("around", fnp.around, np.around),
    ("round decimals", lambda x: fnp.round(x, 2), lambda x: np.round(x.astype(np.float16), 2)),
    ("clip ints", lambda x: fnp.clip(x, 0, 1), lambda x: np.clip(x, 0, 1)),
    ("clip bools", lambda x: fnp.clip(x, False, True), lambda x: np.clip(x, False, True)),
    ("clip float", lambda x: fnp.clip(x, 0.5, 1), lambda x: np.clip(x, 0.5, 1)),
    ("clip max only", lambda x: fnp.clip(x, None, 0), lambda x: np.clip(x, None, 0)),
]

_HALF = {"round", "around", "round decimals"}


@pytest.mark.parametrize("how", ["plain", "jit", "vmap"])
@pytest.mark.parametrize("name,f,ref", CASES, ids=[c[0] for c in CASES])
def test_bool_result_dtype_is_numpys(backend, name, f, ref, how):
    x = backend.asarray(MASK, dtype="bool")
    expected = ref(np.array(MASK))
    if name in _HALF and backend.name == "array_api_strict":
        with pytest.raises(Exception, match="float16"):  # the library has no half
            f(x)
        return
    if how == "jit":
        out = ft.jit(f)(x)
    elif how == "vmap":
        out = ft.vmap(f)(backend.asarray([MASK, MASK], dtype="bool"))[1, ...]
    else:
        out = f(x)
    got = backend.to_numpy(out)
    assert got.dtype == expected.dtype, (name, got.dtype, expected.dtype)
    np.testing.assert_array_equal(got, expected)


def test_negative_decimals_refused_for_booleans():
    with pytest.raises(TypeError, match="negative"):
        fnp.round(np.array(MASK), -1)


def test_method_conj_keeps_bool_as_numpys():
    # ndarray.conj() keeps a boolean array (the function gives int8); a tracer's method too
    m = np.array(MASK)
    assert m.conj().dtype == np.bool_
    out = ft.jit(lambda v: v.conj())(m)
    assert np.asarray(out).dtype == np.bool_


def test_vecdot_and_vdot_of_booleans_stay_numpys():
    a, b = np.array(MASK), np.array([True, True, False, False])
    for f, g in ((fnp.vecdot, np.vecdot), (fnp.vdot, np.vdot),
                 (fnp.linalg.vecdot, np.linalg.vecdot)):
        out, ref = f(a, b), g(a, b)
        assert np.asarray(out).dtype == np.asarray(ref).dtype
        assert np.asarray(out) == ref
