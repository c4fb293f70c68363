"""Constant tracers, the last leftovers: Python data given to functrans.numpy's functions
(and functrans.scipy's Rotation.identity) under the transforms, weak references to tracers,
and a plain torch tensor's methods given a constant (see test_constant_tracers.py for the
mechanism and test_constant_tracers2.py for the protocols)."""

from __future__ import annotations

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.core import Tracer
from functrans.interpreters import ConstTracer

compat = pytest.importorskip("array_api_compat")

from .test_constant_tracers2 import TRANSFORMS, X, _expect, _run


def _is_constant_beside(c, x, backend):
    if not isinstance(x, Tracer):  # (check the transform did give a tracer)
        raise AssertionError(f"not traced: {type(x)}")
    assert type(c) is ConstTracer, type(c)
    assert compat.array_namespace(x, c) is fnp
    assert backend.is_own(c.primal), type(c.primal)  # the library (and device) of x


# -- Python data given to functrans.numpy's functions ----------------------------------------

# name -> (a call given Python data only, what NumPy gives for it, of shape (3,))
PYTHON_DATA = {
    "sin": (lambda: fnp.sin([0.5, 1.0, 2.0]), np.sin([0.5, 1.0, 2.0])),
    "exp_of_number": (lambda: fnp.exp(1.0) * fnp.ones(3), np.full(3, np.e)),
    "sin_of_int": (lambda: fnp.sin(2) + fnp.zeros(3), np.full(3, np.sin(2))),
    "diag": (lambda: fnp.diag([1, 2, 3])[1], np.array([0.0, 2.0, 0.0])),
    "float64": (lambda: fnp.float64(1.5) * fnp.arange(3.0), np.arange(3.0) * 1.5),
    "float32": (lambda: fnp.astype(fnp.float32([1.0, 2.0, 3.0]), fnp.float64),
                np.array([1.0, 2.0, 3.0])),
    "array": (lambda: fnp.array([1.0, 2.0, 4.0]), np.array([1.0, 2.0, 4.0])),
    "sum_rows": (lambda: fnp.sum([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], axis=0),
                 np.array([5.0, 7.0, 9.0])),
    "add": (lambda: fnp.add([1.0, 2.0, 3.0], 0.5), np.array([1.5, 2.5, 3.5])),
    "divide": (lambda: fnp.divide(1, 4) + fnp.zeros(3), np.full(3, 0.25)),
    "concatenate": (lambda: fnp.concatenate([[1.0], [2.0, 3.0]]), np.array([1.0, 2.0, 3.0])),
    "stack_rows": (lambda: fnp.vstack([[1.0, 2.0, 3.0], [0.0, 0.0, 1.0]])[1],
                   np.array([0.0, 0.0, 1.0])),
    "linalg_inv": (lambda: fnp.linalg.inv([[2.0, 0.0, 0.0], [0.0, 4.0, 0.0],
                                           [0.0, 0.0, 1.0]])[1], np.array([0.0, 0.25, 0.0])),
    "cumsum": (lambda: fnp.cumsum([1.0, 2.0, 3.0]), np.array([1.0, 3.0, 6.0])),
    "where": (lambda: fnp.where([True, False, True], 1.0, 2.0), np.array([1.0, 2.0, 1.0])),
    "polyval": (lambda: fnp.polyval([1.0, 0.0], [1.0, 2.0, 3.0]), np.array([1.0, 2.0, 3.0])),
}


@pytest.mark.parametrize("transform", TRANSFORMS)
def test_python_data_given_to_functions_is_a_constant_of_the_transforms_library(backend,
                                                                               transform):
    # as if the data had been wrapped in asarray: the result is a constant holding an array
    # of the traced values' library and device, in functrans.numpy's namespace with them
    made = {}

    def f(x):
        total = 0.0
        for name, (make, _) in PYTHON_DATA.items():
            c = make()
            _is_constant_beside(c, x, backend)
            made[name] = backend.to_numpy(c.primal)
            # the constant on the left of a tracer too (array-api-strict's arrays refuse
            # that: they were plain arrays before)
            total = total + fnp.sum(c * x) + fnp.sum(x * c)
        return total
    out = _run(transform, f, backend.asarray(X), backend)
    for name, (_, want) in PYTHON_DATA.items():
        np.testing.assert_allclose(made[name], want, rtol=1e-15, err_msg=name)
    coef = 2.0 * sum(want for _, want in PYTHON_DATA.values())
    np.testing.assert_allclose(out, _expect(transform, lambda v: (v @ coef, coef)),
                               rtol=1e-13)


def test_python_data_outside_transforms_and_in_functrans_code_stays_plain(backend):
    for make, _ in PYTHON_DATA.values():
        assert not isinstance(make(), Tracer)   # no transform: plain arrays as before

    # functrans's own code under a transform: its literals stay plain arrays (it combines
    # plain arrays with operators); the user's data it passes on becomes a constant
    inside = {"__name__": "functrans.somewhere", "fnp": fnp}
    exec("def helper(data):\n"
         "    return fnp.sin([1.0, 2.0]), fnp.sin(data), fnp.asarray(data)\n", inside)
    seen = []

    def f(x):
        seen.extend(type(v) for v in inside["helper"]([0.5, 0.25]))
        seen.append(type(fnp.float64(2.0)))
        return fnp.sum(x)
    ft.grad(f)(backend.asarray(X))
    assert seen[0] is not ConstTracer and seen[1:] == [ConstTracer] * 3, seen


def test_python_data_constants_under_jit_are_folded_and_cached(backend):
    calls = []

    def f(x):
        calls.append(1)
        return fnp.sum(fnp.sin([0.5, 1.0, 2.0]) * x) + fnp.float64(2.0) * fnp.sum(x)
    g = ft.jit(f)
    for scale in (1.0, 3.0):
        out = g(backend.asarray(scale * X))
        want = np.sin([0.5, 1.0, 2.0]) @ (scale * X) + 2.0 * np.sum(scale * X)
        np.testing.assert_allclose(backend.to_numpy(out), want, rtol=1e-14)
    assert len(calls) == 1   # traced once: the constants are the graph's values, not inputs


def test_python_data_beside_a_torch_tracer_mixes_both_ways():
    torch = pytest.importorskip("torch")

    def f(x):
        s = fnp.sin([0.5, 1.0, 2.0])
        assert type(s) is ConstTracer and type(s.primal) is torch.Tensor
        d = fnp.diag([1.0, 2.0, 3.0])
        y = s * x + x * s + d @ x + x @ d + fnp.float64(3.0) * x
        return fnp.sum(y) + fnp.sum(torch.exp(s))  # (torch's own functions on it too)
    x = torch.tensor(X, dtype=torch.float64)
    g = ft.grad(f)(x)
    want = 2.0 * np.sin([0.5, 1.0, 2.0]) + 2.0 * np.array([1.0, 2.0, 3.0]) + 3.0
    np.testing.assert_allclose(g.numpy(), want, rtol=1e-14)


# -- functrans.scipy's Rotation.identity ----------------------------------------------------


@pytest.mark.parametrize("transform", TRANSFORMS)
def test_rotation_identity_is_a_constant(backend, transform):
    from functrans.scipy.spatial.transform import Rotation

    def f(x):
        ident, three = Rotation.identity(), Rotation.identity(3)
        for r in (ident, three):
            _is_constant_beside(r.quat, x, backend)
            _is_constant_beside(r.as_matrix(), x, backend)
        assert tuple(three.quat.shape) == (3, 4)
        turned = ident * Rotation.from_rotvec(x * 0.1)   # composed with a traced rotation
        return fnp.sum(turned.apply(fnp.asarray([1.0, 2.0, 3.0])))
    out = _run(transform, f, backend.asarray(X), backend)

    import scipy.spatial.transform as sst

    def value(v):
        return float(np.sum(sst.Rotation.from_rotvec(v * 0.1).apply([1.0, 2.0, 3.0])))

    def value_and_grad(v):
        eps = 1e-6
        grad = [(value(v + eps * e) - value(v - eps * e)) / (2 * eps) for e in np.eye(3)]
        return value(v), np.array(grad)
    np.testing.assert_allclose(out, _expect(transform, value_and_grad), rtol=1e-7)
    assert not isinstance(Rotation.identity().quat, Tracer)   # outside: a plain array


# -- weak references ----------------------------------------------------------------------


@pytest.mark.parametrize("transform", ["grad", "vmap", "jit"])
def test_tracers_and_constants_take_weak_references(backend, transform):
    import gc
    import weakref
    refs = []

    def f(x):
        c = fnp.asarray([1.0, 2.0, 3.0])
        refs.extend([weakref.ref(c), weakref.ref(x), weakref.ref(x * c)])
        assert refs[0]() is c and refs[1]() is x
        cache = weakref.WeakValueDictionary({"c": c})   # (as caches of arrays do)
        assert cache["c"] is c
        if transform == "grad":
            c[0] = x[0]                    # c becomes a tracer of grad: still the object
            assert refs[0]() is c and type(c) is not ConstTracer
        return fnp.sum(x * c)
    out = _run(transform, f, backend.asarray(X), backend)
    c = np.array([1.0, 2.0, 3.0])
    if transform == "vmap":
        want = np.array([X @ c, 2.0 * X @ c])
    else:
        want = X @ c if transform == "jit" else np.array([2.0 * X[0], 2.0, 3.0])
    np.testing.assert_allclose(out, want, rtol=1e-14)
    gc.collect()
    assert all(r() is None for r in refs)   # nothing kept alive by the transform


# -- a plain tensor's methods given a constant -------------------------------------------


@pytest.mark.parametrize("transform", ["grad", "vmap", "jit"])
def test_a_plain_tensors_operator_methods_with_a_constant_are_its_operators(transform):
    torch = pytest.importorskip("torch")
    w = torch.tensor([1.0, 2.0, 4.0], dtype=torch.float32)   # (data, not transformed)
    case = type("Case", (), {"is_own": staticmethod(lambda a: isinstance(a, torch.Tensor)),
                             "to_numpy": staticmethod(lambda a: a.numpy())})

    def f(x):
        c = fnp.asarray(2.0, dtype=fnp.float64)
        pairs = [(w.mul(c), w * c), (w.multiply(c), w * c), (w.add(c), w + c),
                 (w.sub(c), w - c), (w.div(c), w / c), (w.true_divide(c), w / c),
                 (w.pow(c), w ** c), (w.remainder(c), w % c), (w.floor_divide(c), w // c),
                 (w.eq(c), w == c), (w.ne(c), w != c), (w.lt(c), w < c), (w.le(c), w <= c),
                 (w.gt(c), w > c), (w.ge(c), w >= c)]
        for by_method, by_operator in pairs:
            _is_constant_beside(by_method, x, case)
            assert by_method.dtype == by_operator.dtype     # (the Array API's promotion)
            assert torch.equal(by_method.primal, by_operator.primal)
        v = fnp.asarray([1.0, 0.5, 0.25], dtype=fnp.float32)
        assert torch.equal(w.matmul(v).primal, (w @ v).primal)
        # torch's other methods, and the operator methods' torch-only keywords: torch's on
        # the tensors, a constant as torch.add(w, c, alpha=2) is
        scaled = w.add(c, alpha=2)
        _is_constant_beside(scaled, x, case)
        np.testing.assert_allclose(scaled.primal.numpy(), [5.0, 6.0, 8.0])
        assert type(w.dot(v)) is ConstTracer
        # in place into the plain tensor (the caller's to change): torch's, the tensor back
        w2 = w.clone()
        assert w2.mul_(c) is w2 and torch.equal(w2, 2.0 * w)
        with pytest.raises(TypeError, match="functrans.numpy"):
            torch.add(w.mul(c), x)         # (torch's function given a traced value)
        return fnp.sum(x * pairs[0][0]) + fnp.sum(pairs[2][0] * x)
    x = torch.tensor(X, dtype=torch.float64)
    out = _run(transform, f, x, case)
    coef = 2.0 * np.array([1.0, 2.0, 4.0]) + np.array([1.0, 2.0, 4.0]) + 2.0
    np.testing.assert_allclose(out, _expect(transform, lambda v: (v @ coef, coef)),
                               rtol=1e-14)
