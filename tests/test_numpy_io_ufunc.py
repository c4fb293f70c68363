"""functrans.numpy's host I/O and printing names (fromiter, frombuffer, fromstring, fromfile,
load/save/savez, loadtxt/savetxt, array_repr/str, printoptions, ndarray) and ufunc/frompyfunc,
against NumPy."""

import io

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.testing import check_grads


def _affine(a, b):  # not associative: the fold order shows
    return a * b + 1


def test_frompyfunc_against_numpys(backend):
    u = fnp.frompyfunc(_affine, 2, 1, identity=1)
    ref = np.frompyfunc(_affine, 2, 1, identity=1)
    x = np.arange(1.0, 7.0).reshape(2, 3)
    xb = backend.asarray(x)
    for got, want in [(u(xb, 2.0), ref(x, 2.0)),
                      (u.reduce(xb), ref.reduce(x)),
                      (u.reduce(xb, axis=1, keepdims=True), ref.reduce(x, axis=1, keepdims=True)),
                      (u.accumulate(xb, axis=1), ref.accumulate(x, axis=1)),
                      (u.outer(xb[0, ...], xb[1, ...]), ref.outer(x[0], x[1])),
                      (u.reduceat(xb[0, ...], [0, 2, 2]), ref.reduceat(x[0], [0, 2, 2]))]:
        assert backend.is_own(got)
        np.testing.assert_allclose(backend.to_numpy(got), np.asarray(want, dtype=float))
    a = x[0].astype(object)
    ref.at(a, [0, 0, 2], 2.0)
    got = u.at(xb[0, ...], [0, 0, 2], 2.0)
    np.testing.assert_allclose(backend.to_numpy(got), a.astype(float))
    np.testing.assert_array_equal(backend.to_numpy(xb), x)  # not changed in place
    # an empty axis gives the identity
    np.testing.assert_array_equal(u.reduce(np.zeros((0, 2))), [1.0, 1.0])


def test_ufunc_transforms():
    u = fnp.frompyfunc(_affine, 2, 1)
    x = np.array([0.5, -1.0, 2.0])
    check_grads(lambda v: u.reduce(v), (x,), order=2)
    check_grads(lambda v: u.accumulate(v), (x,), order=1)
    check_grads(lambda v: u.at(v, np.array([1, 1]), v[0]), (x,), order=1)
    np.testing.assert_allclose(ft.jit(lambda v: u.reduce(v, axis=1))(np.ones((2, 3))), 3.0)
    np.testing.assert_allclose(ft.vmap(lambda v: u.reduce(v))(np.ones((2, 3))), 3.0)
    np.testing.assert_allclose(ft.jit(lambda v, i: u.at(v, i, 1.0))(x, np.array([2, 2])),
                               [0.5, -1.0, 4.0])


def test_ufunc_errors():
    u = fnp.ufunc(lambda a: -a, 1, 1, name="negate")
    assert repr(u) == "<functrans.numpy.ufunc 'negate'>"
    np.testing.assert_array_equal(u(np.arange(3.0)), [0.0, -1.0, -2.0])
    with pytest.raises(ValueError, match="two arguments"):
        u.reduce(np.ones(3))
    with pytest.raises(TypeError, match="1 positional"):
        u(1.0, 2.0)
    with pytest.raises(ValueError, match="identity or initial"):
        fnp.frompyfunc(_affine, 2, 1).reduce(np.ones(0))
    with pytest.raises(NotImplementedError, match="inplace"):
        fnp.frompyfunc(_affine, 2, 1).at(np.ones(3), [0], 1.0, inplace=True)
    # given implementations are used
    fast = fnp.ufunc(_affine, 2, 1, reduce=lambda a, **kw: "mine")
    assert fast.reduce(np.ones(3)) == "mine"


def test_reading(tmp_path):
    np.testing.assert_array_equal(fnp.fromiter(iter([1, 2, 3]), fnp.float64), [1.0, 2.0, 3.0])
    assert fnp.fromiter(range(3), int).dtype == np.int64
    raw = np.array([1.5, -2.0], dtype=np.float32).tobytes()
    got = fnp.frombuffer(raw, dtype=fnp.float32)
    np.testing.assert_array_equal(got, [1.5, -2.0])
    assert got.dtype == np.float32 and got.flags.writeable  # a copy, not the buffer
    np.testing.assert_array_equal(fnp.fromstring("1, 2, 3", sep=","), [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="binary mode"):
        fnp.fromstring("12", sep="")
    path = tmp_path / "x.bin"
    np.arange(4.0).tofile(path)
    np.testing.assert_array_equal(fnp.fromfile(path), np.arange(4.0))
    like = pytest.importorskip("torch").ones(1)
    assert type(fnp.fromiter([1.0], float, like=like)) is type(like)


def test_writing_and_printing(backend, tmp_path):
    x = backend.asarray(np.arange(6.0).reshape(2, 3))
    buf = io.BytesIO()
    fnp.save(buf, x)
    buf.seek(0)
    np.testing.assert_array_equal(fnp.load(buf), np.arange(6.0).reshape(2, 3))
    fnp.savez(tmp_path / "a.npz", x, y=x)
    with np.load(tmp_path / "a.npz") as z:
        np.testing.assert_array_equal(z["y"], z["arr_0"])
    fnp.savetxt(tmp_path / "a.txt", x)
    np.testing.assert_array_equal(fnp.loadtxt(tmp_path / "a.txt"), backend.to_numpy(x))
    assert fnp.array_str(x) == np.array_str(backend.to_numpy(x))
    with fnp.printoptions(precision=2):
        assert fnp.array_repr(backend.asarray(np.array([1 / 3]))) == "array([0.33])"
    assert isinstance(x, fnp.ndarray) and not isinstance(1.0, fnp.ndarray)
    with pytest.raises(Exception, match="tracer|Tracer|concrete"):
        ft.grad(lambda v: (fnp.save(io.BytesIO(), v), fnp.sum(v))[1])(np.ones(2))
