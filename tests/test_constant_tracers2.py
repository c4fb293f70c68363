"""Constant tracers, continued: NumPy's index objects and the remaining creation helpers,
functrans.scipy's tables, NumPy's and torch's own functions on constants, and the array
attributes NumPy users reach for (see test_constant_tracers.py for the mechanism)."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.core import Tracer
from functrans.interpreters import ConstTracer

compat = pytest.importorskip("array_api_compat")

X = np.array([0.5, -1.25, 2.0])
TRANSFORMS = ["grad", "jacfwd", "vmap", "jit"]


def _run(transform, f, x, backend):
    """``f`` (x of shape (3,) -> a number) under ``transform``; its result as NumPy."""
    if transform == "vmap":
        out = ft.vmap(f)(fnp.stack([x, 2.0 * x]))
    else:
        out = getattr(ft, transform)(f)(x)
    assert backend.is_own(out), type(out)
    return backend.to_numpy(out)


def _expect(transform, value_and_grad):
    """What ``_run`` gives for a function with this (value, gradient) at X (and 2 X)."""
    if transform == "vmap":
        return np.array([value_and_grad(X)[0], value_and_grad(2.0 * X)[0]])
    return value_and_grad(X)[0 if transform == "jit" else 1]


def _is_constant_beside(c, x):
    if not isinstance(x, Tracer):  # (check the transform did give a tracer)
        raise AssertionError(f"not traced: {type(x)}")
    assert type(c) is ConstTracer, type(c)
    assert compat.array_namespace(x, c) is fnp


# -- NumPy's index objects and the conversion helpers -----------------------------------------


@pytest.mark.parametrize("transform", TRANSFORMS)
def test_index_objects_and_conversions_make_constants(backend, transform):
    made = {}

    def f(x):
        got = {"mgrid": fnp.mgrid[0:3], "mgrid2": fnp.mgrid[0:2, 0:3][1, 1],
               "mgrid_n": fnp.mgrid[0.0:1.0:3j], "ogrid": fnp.ogrid[0:1, 0:3][1][0],
               "r_": fnp.r_[1.0, 0:2], "c_": fnp.c_[[1.0, 2.0, 3.0]][:, 0],
               "ix_": fnp.ix_([2, 0, 1])[0],
               "ascontiguousarray": fnp.ascontiguousarray([1.0, 2.0, 4.0]),
               "asfortranarray": fnp.asfortranarray([3.0, 2.0, 1.0]),
               "asarray_chkfinite": fnp.asarray_chkfinite([1.0, 0.0, 1.0]),
               "require": fnp.require([0.5, 0.25, 0.125])}
        for name, c in got.items():
            _is_constant_beside(c, x)
            made[name] = backend.to_numpy(c.primal)
        return sum(fnp.sum(x * c) for c in got.values())
    x = backend.asarray(X)
    out = _run(transform, f, x, backend)
    want = {"mgrid": np.mgrid[0:3], "mgrid2": np.mgrid[0:2, 0:3][1, 1],
            "mgrid_n": np.mgrid[0.0:1.0:3j], "ogrid": np.ogrid[0:1, 0:3][1][0],
            "r_": np.r_[1.0, 0:2], "c_": np.c_[[1.0, 2.0, 3.0]][:, 0],
            "ix_": np.ix_([2, 0, 1])[0], "ascontiguousarray": np.array([1.0, 2.0, 4.0]),
            "asfortranarray": np.array([3.0, 2.0, 1.0]),
            "asarray_chkfinite": np.array([1.0, 0.0, 1.0]),
            "require": np.array([0.5, 0.25, 0.125])}
    for name, w in want.items():
        np.testing.assert_array_equal(made[name], w, err_msg=name)
    total = sum(w for w in want.values())
    np.testing.assert_allclose(out, _expect(transform, lambda v: (v @ total, total)),
                               rtol=1e-14)


def test_index_objects_outside_transforms_and_inside_functrans_stay_plain(backend):
    # outside a transform: plain arrays as before (the default library: NumPy's)
    assert type(fnp.mgrid[0:2, 0:2]) is not ConstTracer
    assert type(fnp.r_[1.0, 2.0]) is not ConstTracer
    assert not isinstance(fnp.ix_([0, 1])[0], Tracer)

    # functrans's own code under a transform keeps getting plain arrays (the frame below
    # __getitem__ is functrans's), user code constants
    seen = []

    def f(x):
        inside = {"__name__": "functrans.somewhere", "fnp": fnp, "seen": seen}
        exec("seen.append(type(fnp.mgrid[0:3])); seen.append(type(fnp.c_[[1.0]]))", inside)
        seen.append(type(fnp.mgrid[0:3]))
        return fnp.sum(x)
    ft.grad(f)(backend.asarray(X))
    assert ConstTracer not in seen[:2] and seen[2] is ConstTracer, seen


# -- functrans.scipy: tables made from numbers ------------------------------------------------


@pytest.mark.parametrize("transform", TRANSFORMS)
def test_scipy_bernoulli_numbers_are_constants(backend, transform):
    from functrans.scipy import special

    def f(x):
        b = special.bernoulli(2)          # [1, -1/2, 1/6]
        _is_constant_beside(b, x)
        assert type(fnp.special.bernoulli(2)) is ConstTracer  # (the Array API extension too)
        return fnp.sum(x * b)
    out = _run(transform, f, backend.asarray(X), backend)
    b = np.array([1.0, -0.5, 1.0 / 6.0])
    np.testing.assert_allclose(out, _expect(transform, lambda v: (v @ b, b)), rtol=1e-15)
    assert not isinstance(special.bernoulli(2), Tracer)   # outside: a plain array


# -- NumPy's functions on constants (__array_function__) -------------------------------------


@pytest.mark.parametrize("transform", TRANSFORMS)
def test_numpy_functions_on_constants_are_functrans_numpys(backend, transform):
    strict_device1 = backend.device is not None

    def f(x):
        c = fnp.asarray([1.0, 2.0, 3.0], dtype=x.dtype)
        both = np.concatenate([c, x])     # a tracer: functrans.numpy's concatenate
        assert isinstance(both, Tracer) and type(both) is not ConstTracer
        for r in (np.concatenate([c, c]), np.linalg.norm(c), np.mean(c), np.zeros_like(c),
                  np.where(c > 1.5, c, 0.0), np.sort(c)):
            _is_constant_beside(r, x)
        # questions about dtypes and shapes: NumPy's answers, as for the array held
        assert np.result_type(c) == np.dtype("float64")
        assert np.result_type(c, x, np.float32) == np.dtype("float64")
        assert np.result_type(fnp.asarray([1, 2]), 1.5) == np.dtype("float64")
        assert np.can_cast(c, np.float32) is False
        assert np.min_scalar_type(fnp.asarray(3)) == np.dtype("uint8")
        assert (np.ndim(c), np.shape(c), np.size(c)) == (1, (3,), 3)
        if not strict_device1:                # (no NumPy conversion from device1)
            assert np.asarray(c).dtype == np.float64
        k = fnp.sum(np.linalg.norm(c) * x)
        return fnp.sum(both * both) + k
    x = backend.asarray(X)
    out = _run(transform, f, x, backend)
    n = np.sqrt(14.0)
    np.testing.assert_allclose(
        out, _expect(transform, lambda v: (14.0 + v @ v + n * v.sum(), 2 * v + n)),
        rtol=1e-14)


def test_numpy_functions_functrans_numpy_cannot_take_run_on_the_array():
    def f(x):
        c = fnp.asarray([1.0, 2.0, 4.0])
        buf = np.zeros(())
        np.sum(c, out=buf)                  # out=, which fnp.sum lacks: NumPy's, into the
        assert buf == 7.0                   # caller's buffer
        two = np.zeros(2)
        np.take(c, [2, 0], out=two)         # fnp.take refuses out= (NotImplementedError)
        np.testing.assert_array_equal(two, [4.0, 1.0])
        with pytest.raises(NotImplementedError, match="out="):
            np.take(x, [2, 0], out=two)     # (a traced value: no NumPy fallback for it)
        return fnp.sum(x * c)
    np.testing.assert_allclose(ft.grad(f)(X), [1.0, 2.0, 4.0])


def test_numpy_functions_called_by_functrans_itself_see_plain_arrays():
    # functrans's own code that calls NumPy on a constant (through __array__ before) keeps
    # getting NumPy's answer on the array, not a constant
    import functrans.interpreters as interp
    got = []

    def f(x):
        c = fnp.asarray([1.0, 2.0])
        g = {"__name__": "functrans.somewhere", "np": np, "c": c, "got": got}
        exec("got.append(np.concatenate([c, c]))", g)
        got.append(np.concatenate([c, c]))
        return fnp.sum(x)
    ft.grad(f)(X[:2])
    assert type(got[0]) is np.ndarray and type(got[1]) is interp.ConstTracer


# -- torch's own functions on constants (__torch_function__) ---------------------------------


@pytest.mark.parametrize("transform", TRANSFORMS)
def test_torch_functions_on_a_constant_give_constants(transform):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional

    def f(x):
        c = fnp.asarray([1.0, 2.0, 3.0], dtype=x.dtype)
        e = torch.exp(c)
        s = torch.sum(c)
        srt = torch.sort(-c)
        assert type(srt).__name__ == "sort"       # torch's named tuple, of constants
        r = F.relu(c - 2.0)
        w = torch.cat([c, c])[:3] * torch.ones(3, dtype=torch.float64)
        for v in (e, s, srt.values, srt.indices, r, w):
            _is_constant_beside(v, x)
        assert torch.numel(c) == 3 and type(torch.as_tensor(c)) is torch.Tensor
        for write in (lambda: torch.add(c, 1.0, out=c), lambda: torch.relu_(c)):
            with pytest.raises(TypeError, match="would write into the array of a constant"):
                write()
        with pytest.raises(TypeError, match="functrans.numpy"):
            F.mse_loss(c, x)                       # a traced value among the arguments
        return fnp.sum(x * e) + s * fnp.sum(x * r) + fnp.sum(x * w) + fnp.sum(srt.values)
    x = torch.tensor(X, dtype=torch.float64)
    case = type("Case", (), {"is_own": staticmethod(lambda a: isinstance(a, torch.Tensor)),
                             "to_numpy": staticmethod(lambda a: a.numpy())})
    out = _run(transform, f, x, case)
    c = np.array([1.0, 2.0, 3.0])
    coef = np.exp(c) + 6.0 * np.maximum(c - 2.0, 0.0) + c
    np.testing.assert_allclose(out, _expect(transform, lambda v: (v @ coef - 6.0, coef)),
                               rtol=1e-14)


def test_a_plain_tensors_operators_with_a_constant_are_functrans_numpys():
    torch = pytest.importorskip("torch")
    w = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float32)   # (data, not transformed)

    def f(x):
        c = fnp.asarray(2.0, dtype=fnp.float64)
        left, right = w * c, c * w         # the same promotion either side (the Array
        for r in (left, right, w == c):    # API's: float64), as ndarray * c
            _is_constant_beside(r, x)
        assert left.dtype == right.dtype == fnp.float64
        picked = w[fnp.argmax(x)]          # a plain tensor indexed by a constant: torch's
        _is_constant_beside(picked, x)
        by_method = w.mul(c)               # (the method spelling the operator: the same;
        _is_constant_beside(by_method, x)  # see test_constant_tracers3.py)
        assert by_method.dtype == fnp.float64
        return fnp.sum(x * left) * picked
    x = torch.tensor(X, dtype=torch.float64)
    np.testing.assert_allclose(ft.grad(f)(x).numpy(), [6.0, 12.0, 18.0])


def test_torch_functions_on_constants_of_other_libraries_fail_as_on_their_arrays():
    torch = pytest.importorskip("torch")

    def f(x):
        c = fnp.asarray([1.0, 2.0])        # a NumPy array inside: torch refuses it as such
        with pytest.raises(TypeError):
            torch.exp(c)
        return fnp.sum(x)
    ft.grad(f)(X[:2])


# -- array attributes and Python protocols ---------------------------------------------------


@pytest.mark.parametrize("transform", TRANSFORMS)
def test_constants_round_pickle_copy_and_iterate_as_arrays(backend, transform):
    blobs = []

    def f(x):
        c = fnp.asarray([1.25, 2.5, 3.75], dtype=x.dtype)
        t = fnp.sum(c)                          # 0-d, 7.5: rounds as NumPy's scalars
        assert round(t) == 8 and type(round(t)) is int
        r1 = round(t / 3.0, 1)
        assert type(r1) is ConstTracer and float(r1) == 2.5
        with pytest.raises(TypeError, match="functrans.numpy.round"):
            round(c)
        blob = pickle.dumps(c)
        blobs.append(blob)
        back = pickle.loads(blob)               # unpickled inside: a constant again
        assert type(back) is ConstTracer and back._interp is c._interp
        d = copy.copy(c)
        d[0] = 0.0                              # (the copy only)
        assert float(c[0]) == 1.25 and float(d[0]) == 0.0
        parts = list(c)
        assert len(c) == 3 and all(type(p) is ConstTracer for p in parts)
        i = fnp.argmax(c) if transform != "vmap" else fnp.asarray(2)
        assert [10, 20, 30][i] == 30 and bool(fnp.asarray(True))
        return fnp.sum(x * back) + fnp.sum(x * d) + float(r1)
    x = backend.asarray(X)
    out = _run(transform, f, x, backend)
    w = np.array([1.25, 2.5, 3.75]) + np.array([0.0, 2.5, 3.75])
    np.testing.assert_allclose(out, _expect(transform, lambda v: (v @ w + 2.5, w)),
                               rtol=1e-14)
    outside = pickle.loads(blobs[0])            # outside any transform: the plain array
    assert backend.is_own(outside)
    np.testing.assert_array_equal(backend.to_numpy(outside), [1.25, 2.5, 3.75])


def test_flags_strides_and_view_of_numpy_and_torch_constants():
    torch = pytest.importorskip("torch")

    def f(x):
        c = fnp.asarray([1.0, 2.0, 3.0, 4.0])
        assert c.flags.c_contiguous and c.strides == (8,)
        v = c.view(np.int64)                    # NumPy's: other dtype, same data
        assert type(v) is ConstTracer and int(v[0]) == np.float64(1.0).view(np.int64)
        return fnp.sum(x * c)
    np.testing.assert_allclose(ft.grad(f)(np.ones(4)), [1.0, 2.0, 3.0, 4.0])

    def g(x):
        c = fnp.asarray([1.0, 2.0, 3.0, 4.0], dtype=x.dtype)
        m = c.view(2, 2)                        # torch's: another shape
        assert type(m) is ConstTracer and tuple(m.shape) == (2, 2)
        with pytest.raises(AttributeError, match="which has no 'flags'"):
            c.flags
        return fnp.sum(x * fnp.reshape(m, (4,)))
    xt = torch.ones(4, dtype=torch.float64)
    np.testing.assert_allclose(ft.grad(g)(xt).numpy(), [1.0, 2.0, 3.0, 4.0])


def test_flags_of_array_api_strict_constants_say_what_to_do():
    xs = pytest.importorskip("array_api_strict")

    def f(x):
        c = fnp.asarray([1.0, 2.0])
        with pytest.raises(AttributeError, match="which has no 'view'"):
            c.view()
        return fnp.sum(x * c)
    ft.grad(f)(xs.asarray([1.0, 1.0]))


@pytest.mark.parametrize("transform", ["grad", "jit"])
def test_zero_d_constants_key_dicts_as_numpys_scalars(backend, transform):
    # (fnp.sum gives a 0-d array where np.sum gives a hashable scalar; torch's tensors hash
    # by identity in torch itself, and so do constants holding them)
    if backend.name == "torch":
        pytest.skip("torch tensors are keys by identity")
    table = {7.5: 2.0}

    def f(x):
        t = fnp.sum(fnp.asarray([2.5, 5.0], dtype=x.dtype))
        assert type(t) is ConstTracer and not t.shape
        return x * table[t]
    out = getattr(ft, transform)(lambda x: fnp.sum(f(x)))(backend.asarray(X))
    want = np.full(3, 2.0) if transform == "grad" else 2.0 * X.sum()
    np.testing.assert_allclose(backend.to_numpy(out), want)


def test_ndarray_attributes_a_constant_lacks_say_what_to_do(backend):
    def f(x):
        c = fnp.asarray([1.0, 2.0], dtype=x.dtype)
        with pytest.raises(AttributeError, match="'base'.*np.asarray"):
            c.base
        with pytest.raises(AttributeError, match="tobytes"):
            c.tobytes()
        assert not hasattr(c, "ctypes") and hasattr(c, "__array_namespace__")
        return fnp.sum(x * c)
    ft.grad(f)(backend.asarray(X[:2]))


@pytest.mark.parametrize("transform", ["grad", "jit"])
def test_numpy_writes_into_a_constants_array_are_refused_and_updates_rebind(transform):
    data = np.array([1.0, 2.0, 3.0])     # (writable: nothing must write into it)

    def f(x):
        c = fnp.asarray(data)             # holds the caller's array itself
        for write in (lambda: np.add(c, 1.0, out=c), lambda: np.add.at(c, [0], 1.0),
                      lambda: np.sum(c, out=fnp.asarray(0.0)),
                      # (NumPy's put, where functrans.numpy's cannot take the arguments)
                      lambda: c.__array_function__(np.put, (ConstTracer,), (c, [0], [7.0]),
                                                   {"bogus": 1})):
            with pytest.raises(TypeError, match="would write into the array of a constant"):
                write()
        np.copyto(c, 5.0)                 # functrans.numpy's: c rebound, data untouched
        np.put(c, [0], [7.0])
        assert type(c) is ConstTracer
        return fnp.sum(x * c)
    out = getattr(ft, transform)(f)(X)
    want = np.array([7.0, 5.0, 5.0])
    np.testing.assert_allclose(out, want if transform == "grad" else X @ want)
    np.testing.assert_array_equal(data, [1.0, 2.0, 3.0])
