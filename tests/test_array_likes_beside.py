"""Python data (numbers, lists, tuples, nested lists) given to a functrans.numpy function
beside an array, outside transforms, becomes an array of that array's library and device, as
NumPy makes array-likes arrays beside the other operands (it already did so under jit, vmap
and grad). Two libraries' arrays in one call stay a BackendMismatchError.
"""

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.errors import BackendMismatchError


# (name, function of `a`, which makes an input array): the result must be what the same
# call gives on NumPy arrays, in the input's library and device
CASES = [
    ("multiply", lambda a: fnp.multiply(a([1.0, 2.0, 3.0]), [1.5, 2.5, 3.0])),
    ("multiply list first", lambda a: fnp.multiply([1.5, 2.5, 3.0], a([1.0, 2.0, 3.0]))),
    ("add tuple", lambda a: fnp.add(a([1.0, 2.0, 3.0], "float32"), (1, 2, 3))),
    ("subtract nested", lambda a: fnp.subtract(a(np.ones((2, 3))), [[1, 2, 3], [4, 5, 6]])),
    ("divide ints", lambda a: fnp.divide(a([1.0, 2.0, 3.0], "float32"), [1, 2, 4])),
    ("maximum int", lambda a: fnp.maximum(a([1, 5, 3], "int32"), [2, 2, 2])),
    ("int32 + int list", lambda a: fnp.add(a([1, 2, 3], "int32"), [1, 2, 3])),
    ("float32 * float list", lambda a: fnp.multiply(a([1, 2, 3], "float32"), [0.5, 1.0, 2.0])),
    ("arctan2", lambda a: fnp.arctan2(a([1.0, 2.0, 3.0]), [1.0, -1.0, 2.0])),
    ("where list branch", lambda a: fnp.where(a([True, False, True], "bool"), [1.0, 2.0, 3.0],
                                              a([7.0, 8.0, 9.0]))),
    ("where list condition", lambda a: fnp.where([True, False, True], a([1.0, 2.0, 3.0]), 0.0)),
    ("stack", lambda a: fnp.stack([a([1.0, 2.0, 3.0]), [4.0, 5.0, 6.0]])),
    ("concatenate", lambda a: fnp.concatenate([a([1.0, 2.0]), [4.0, 5.0, 6.0]])),
    ("matmul", lambda a: fnp.matmul([[1.0, 2.0, 3.0]], a([1.0, 2.0, 3.0]))),
    ("dot", lambda a: fnp.dot(a([1.0, 2.0, 3.0]), [1.0, 0.5, 2.0])),
    ("outer", lambda a: fnp.outer(a([1.0, 2.0]), [3.0, 4.0, 5.0])),
    ("einsum", lambda a: fnp.einsum("i,i->", a([1.0, 2.0, 3.0]), [1.0, 0.5, 2.0])),
    ("clip lists", lambda a: fnp.clip(a([0.5, 2.0, 3.0]), [0.0, 1.0, 2.0], [1.0, 1.5, 2.5])),
    ("searchsorted", lambda a: fnp.searchsorted(a([1.0, 2.0, 3.0]), [1.5, 2.5])),
    ("digitize scalar", lambda a: fnp.digitize(1.5, a([1.0, 2.0, 3.0]))),
    ("linalg.solve", lambda a: fnp.linalg.solve(a([[2.0, 0.0], [1.0, 1.0]]), [2.0, 3.0])),
    ("cross", lambda a: fnp.cross(a([1.0, 0.0, 0.0]), [0.0, 1.0, 0.0])),
    ("vecdot list", lambda a: fnp.vecdot(a([1.0, 2.0]), [2.0, 2.0])),  # (a scalar: refused)
    ("percentile scalar data", lambda a: fnp.percentile(3.0, a([50.0]))),
]


@pytest.mark.parametrize("name,fn", CASES, ids=[c[0] for c in CASES])
def test_python_data_joins_the_array_library(backend, name, fn):
    def make(data, dtype="float64"):
        return backend.asarray(data, dtype=dtype)

    def make_np(data, dtype="float64"):
        return np.asarray(data, dtype=dtype)

    expected = fn(make_np)
    out = fn(make)
    assert backend.is_own(out), (name, type(out))
    got = backend.to_numpy(out)
    assert str(got.dtype) == str(np.asarray(expected).dtype), name
    np.testing.assert_allclose(got, np.asarray(expected), rtol=1e-12)


def test_logical_with_python_scalars(backend):
    m = backend.asarray([True, False, True], dtype="bool")
    out = fnp.logical_and(m, [True, True, False])
    assert backend.is_own(out)
    np.testing.assert_array_equal(backend.to_numpy(out), [True, False, False])
    out = fnp.logical_or(m, 0)
    assert backend.is_own(out)
    np.testing.assert_array_equal(backend.to_numpy(out), [True, False, True])


def test_under_transforms_unchanged(backend):
    x = backend.asarray([1.0, 2.0, 3.0])
    w = [1.0, 0.5, 2.0]
    g = ft.grad(lambda v: fnp.sum(fnp.multiply(v, w) ** 2))(x)
    assert backend.is_own(g)
    np.testing.assert_allclose(backend.to_numpy(g), 2 * np.array(w) ** 2 * [1.0, 2.0, 3.0])
    y = ft.jit(lambda v: fnp.stack([v, [4.0, 5.0, 6.0]]))(x)
    assert backend.is_own(y)
    np.testing.assert_allclose(backend.to_numpy(y), [[1, 2, 3], [4, 5, 6]])


def test_two_libraries_arrays_still_refused(backend):
    if backend.name == "numpy":
        pytest.skip("needs a second library")
    x = backend.asarray([1.0, 2.0, 3.0])
    with pytest.raises(BackendMismatchError):
        fnp.add(np.ones(3), x)
    with pytest.raises(BackendMismatchError):
        fnp.where(np.array([True, False, True]), x, [1.0, 2.0, 3.0])


def test_without_an_array_the_default_library():
    out = fnp.add([1.0, 2.0], [3.0, 4.0])
    assert type(out).__module__.startswith("numpy") or isinstance(out, np.ndarray)
    np.testing.assert_allclose(out, [4.0, 6.0])
    pytest.importorskip("torch")
    with ft.default_backend("torch"):
        # a NumPy array beside a list: the list joins NumPy, whatever the default
        out = fnp.add(np.ones(2), [1.0, 2.0])
    assert isinstance(out, np.ndarray)


def test_literal_inside_functrans_stays_default():
    # A function of the caller's that isn't functrans's: its list is not beside the array the
    # functrans call got, so NumPy's (the default) still; mixing it is the caller's error.
    torch = pytest.importorskip("torch")
    t = torch.ones(3, dtype=torch.float64)
    lst = [1.0, 2.0, 3.0]
    a = fnp.asarray(lst)
    assert isinstance(a, np.ndarray)
    with pytest.raises(BackendMismatchError):
        fnp.add(t, a)
