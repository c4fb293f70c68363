"""The backend layer: results come back in the input's library, tangents and cotangents are
made on the primal's backend, dispatch, the default backend, mixing errors and the extras."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import functrans as ft
import functrans.backends as fb
import functrans.numpy as fnp
from functrans.backends import generic
from functrans.errors import BackendMismatchError, UnsupportedBackendError

from .conftest import BACKEND_NAMES


def f(x):
    return fnp.sum(fnp.sin(x) * x * x)


def df(x):  # d/dx sum(sin(x) x^2)
    return np.cos(x) * x * x + 2 * x * np.sin(x)


def d2f(x):
    return np.diag(-np.sin(x) * x * x + 4 * x * np.cos(x) + 2 * np.sin(x))


X = [0.5, -1.0, 2.0]


def _check(backend, out, expected, dtype="float64"):
    assert backend.is_own(out), f"{type(out)} is not an array of {backend.name}"
    assert out.dtype == backend.backend.native_dtype(dtype)
    np.testing.assert_allclose(backend.to_numpy(out), expected, rtol=1e-12, atol=1e-12)


# -- every transform gives arrays of the input's library -------------------------------------


def test_grad(backend):
    x = backend.asarray(X)
    _check(backend, ft.grad(f)(x), df(np.array(X)))


def test_value_and_grad(backend):
    x = backend.asarray(X)
    v, g = ft.value_and_grad(f)(x)
    _check(backend, v, np.sum(np.sin(X) * np.square(X)))
    _check(backend, g, df(np.array(X)))


def test_jvp(backend):
    x, t = backend.asarray(X), backend.asarray([1.0, 0.0, 2.0])
    y, ty = ft.jvp(fnp.sin, (x,), (t,))
    _check(backend, y, np.sin(X))
    _check(backend, ty, np.cos(X) * [1.0, 0.0, 2.0])


def test_vjp(backend):
    x, ct = backend.asarray(X), backend.asarray([1.0, 0.0, 2.0])
    y, vjp_fun = ft.vjp(fnp.sin, x)
    _check(backend, y, np.sin(X))
    (g,) = vjp_fun(ct)
    _check(backend, g, np.cos(X) * [1.0, 0.0, 2.0])


def test_jacfwd_jacrev(backend):
    x = backend.asarray(X)
    for jac in (ft.jacfwd, ft.jacrev):
        _check(backend, jac(fnp.sin)(x), np.diag(np.cos(X)))


def test_hessian(backend):
    x = backend.asarray(X)
    _check(backend, ft.hessian(f)(x), d2f(np.array(X)))


def test_hvp(backend):
    x, v = backend.asarray(X), backend.asarray([1.0, 2.0, -1.0])
    _check(backend, ft.hvp(f, (x,), (v,)), d2f(np.array(X)) @ [1.0, 2.0, -1.0])


def test_linearize(backend):
    x, t = backend.asarray(X), backend.asarray([1.0, 0.0, 2.0])
    y, f_jvp = ft.linearize(fnp.sin, x)
    _check(backend, y, np.sin(X))
    _check(backend, f_jvp(t), np.cos(X) * [1.0, 0.0, 2.0])


def test_nested_grad_of_scalar_array(backend):
    x = backend.asarray(0.3)
    g3 = ft.grad(ft.grad(ft.grad(fnp.tanh)))(x)
    t = np.tanh(0.3)
    _check(backend, g3, -2 * (1 - t * t) * (1 - 3 * t * t))


def test_float32_stays_float32(backend):
    x = backend.asarray(X, dtype="float32")
    g = ft.grad(f)(x)
    assert backend.is_own(g) and g.dtype == backend.backend.native_dtype("float32")
    np.testing.assert_allclose(backend.to_numpy(g), df(np.array(X)), rtol=1e-5)
    h = ft.hessian(f)(x)
    assert backend.is_own(h) and h.dtype == backend.backend.native_dtype("float32")


# -- zero tangents / cotangents are made on the primal's backend with its dtype ----------------


def test_zero_cotangent_and_tangent(backend):
    x, y = backend.asarray(X), backend.asarray([1.0, 2.0], dtype="float32")
    gx, gy = ft.grad(lambda x, y: fnp.sum(x * x), argnums=(0, 1))(x, y)
    _check(backend, gx, 2 * np.array(X))
    _check(backend, gy, [0.0, 0.0], dtype="float32")
    # An output that does not depend on the input: its tangent is zeros of the output.
    out, t = ft.jvp(lambda x: y, (x,), (x,))
    _check(backend, t, [0.0, 0.0], dtype="float32")
    z = backend.asarray([1.0, 2.0])
    _check(backend, ft.jacfwd(lambda x: z)(x), np.zeros((2, 3)))
    _check(backend, ft.jacrev(lambda x: z)(x), np.zeros((2, 3)))


def test_what_functrans_makes_is_made_on_the_inputs_device(backend):
    """Seeds, bases, zero tangents, index arrays for Python-int indices, constants broadcast
    by vmap: on ``array_api_strict@device1`` (a second device that, like a GPU, refuses to mix
    with the default one) anything made on the default device fails here."""
    x = backend.asarray(X)
    outs = [ft.vmap(lambda r: 2.0)(x),  # a constant output repeated over the batch
            ft.vmap(lambda r, s: r * s, in_axes=(0, None))(x, x[0]),
            ft.grad(lambda x: x[1] * x[-1])(x),  # Python-int indices become index arrays
            ft.jacrev(lambda x: x[::2] * x[1])(x),
            ft.hessian(lambda x: fnp.sum(fnp.where(x > 0.0, x ** 3, 0.0)))(x),
            ft.linearize(lambda x: x * 0.0 + 1.0, x)[1](x)]
    for _ in range(2):  # staged once, then from the trace cache
        outs.append(ft.hvp(lambda x: fnp.sum(fnp.sin(x) * x[0]), (x,), (x,)))
    for out in outs:
        assert backend.is_own(out), (type(out), getattr(out, "device", None))


def test_pytrees_of_arrays(backend):
    params = {"w": backend.asarray([[1.0, 2.0], [3.0, 4.0]]), "b": backend.asarray([0.5, -0.5])}
    x = backend.asarray([1.0, -1.0])

    def loss(p):
        return fnp.sum(fnp.tanh(p["w"] @ x + p["b"]))
    g = ft.grad(loss)(params)
    z = np.array([[1.0, 2.0], [3.0, 4.0]]) @ [1.0, -1.0] + [0.5, -0.5]
    _check(backend, g["b"], 1 - np.tanh(z) ** 2)
    _check(backend, g["w"], np.outer(1 - np.tanh(z) ** 2, [1.0, -1.0]))


def test_plain_calls_return_own_arrays(backend):
    x = backend.asarray(X)
    for out in (fnp.sin(x), x * 2.0 + 1.0, fnp.sum(x), fnp.zeros_like(x), x[1:]):
        assert backend.is_own(out)


# -- dispatch -----------------------------------------------------------------------------------


def test_backend_of_is_cached_by_type(backend):
    x = backend.asarray(X)
    b = fb.backend_of(x)
    assert b is backend.backend
    assert fb._by_type[type(x)] is b  # what the evaluation interpreter reads
    assert b.owns(x) and b.dtype(x) is fnp.float64


def test_subclass_dispatch():
    class MyArray(np.ndarray):
        pass
    a = np.arange(3.0).view(MyArray)
    assert fb.backend_of(a) is fb.get_backend("numpy")
    assert MyArray in fb._by_type
    np.testing.assert_allclose(ft.grad(f)(a), df(np.arange(3.0)))


def test_unknown_type_is_a_clear_error():
    class NotAnArray:
        shape, dtype = (), "float64"
    with pytest.raises(UnsupportedBackendError, match="belong to no functrans backend"):
        fb.backend_of(NotAnArray())
    with pytest.raises(UnsupportedBackendError, match="belong to no functrans backend"):
        ft.grad(f)(NotAnArray())


def test_unknown_backend_name():
    with pytest.raises(UnsupportedBackendError, match="No backend named 'nope'.*numpy"):
        fb.get_backend("nope")
    assert {"numpy", "array_api_strict"} <= set(fb.available_backends())


@pytest.mark.skipif("torch" not in BACKEND_NAMES, reason="torch is not installed")
def test_unsupported_dtype_is_a_clear_error():
    import torch
    with pytest.raises(UnsupportedBackendError, match="torch.*complex32.*astype"):
        fnp.sin(torch.zeros(3, dtype=torch.complex32))


def test_python_scalars_use_numpy_by_default():
    g = ft.grad(fnp.sin)(0.0)
    assert type(g) is np.ndarray and g.dtype == np.float64
    assert type(fnp.sin(1.0)) in (np.ndarray, np.float64)

# -- the default backend ------------------------------------------------------------------------


@pytest.mark.parametrize("name", BACKEND_NAMES)
def test_default_backend_context_manager(name):
    b = fb.get_backend(name)
    with ft.default_backend(name) as got:
        assert got is b and fb.default() is b
        g = ft.grad(fnp.sin)(0.0)  # a Python scalar input: made by the default backend
        assert b.owns(g) and g.dtype == b.native_dtype("float64")
        assert b.owns(fnp.zeros(3)) and b.owns(fnp.asarray([1.0, 2.0]))
        y, t = ft.jvp(lambda x: x * x, (3.0,), (1.0,))
        assert b.owns(y) and b.owns(t)
        assert b.owns(ft.jacrev(lambda x: x * x)(2.0))
    assert fb.default() is fb.get_backend("numpy")


def test_default_backend_plain_call_and_nesting():
    numpy_b, strict_b = fb.get_backend("numpy"), fb.get_backend("array_api_strict")

    def body():
        ft.default_backend("array_api_strict")  # a plain call sets it for this context
        assert fb.default() is strict_b
        with ft.default_backend("numpy"):
            assert fb.default() is numpy_b
            with pytest.raises(ZeroDivisionError):
                with ft.default_backend(strict_b):  # a Backend works too
                    1 / 0
            assert fb.default() is numpy_b  # restored after an exception
        assert fb.default() is strict_b
    import contextvars
    contextvars.copy_context().run(body)
    assert fb.default() is numpy_b  # the plain call did not leak out of its context


def test_default_backend_is_per_thread():
    seen = {}

    def worker():
        seen["thread"] = fb.default().name
    with ft.default_backend("array_api_strict"):
        t = threading.Thread(target=worker)
        t.start()
        t.join()
    assert seen["thread"] == "numpy"


def test_default_backend_unknown_name():
    with pytest.raises(UnsupportedBackendError, match="No backend named"):
        ft.default_backend("nope")


# -- arrays created inside a transform: where the values it transforms are -------------------


def _makes_its_own_constants(x):
    # Array API code making constants without a device, as SciPy's does: inside a transform
    # they are made on the library and device of the values transformed (a NumPy array beside
    # a torch or CuPy tracer would be a BackendMismatchError). (matmul, not @: a plain
    # array-api-strict array on the left refuses a tracer, array-api-strict issue #188)
    xp = x.__array_namespace__()
    w = xp.linspace(1.0, 2.0, 3)
    return (xp.sum(x * xp.asarray(0.5) + xp.zeros(3) + x * x * xp.ones(3) + x * w)
            + xp.sum(xp.matmul(xp.eye(3), x)) + xp.sum(x * xp.full((3,), 2.0))
            + xp.sum(x * xp.arange(3)) + xp.sum(x * xp.asarray([1.0, 2.0, 3.0])))


def _constants_gradient(x):
    return 0.5 + 2 * x + np.linspace(1.0, 2.0, 3) + 1 + 2 + np.arange(3) + np.arange(1, 4)


def test_arrays_created_inside_a_transform_are_where_its_inputs_are(backend):
    xn = np.array([0.3, -0.2, 0.7])
    x = backend.asarray(xn)
    want = _constants_gradient(xn)
    results = {
        "grad": ft.grad(_makes_its_own_constants)(x),
        "jit(grad)": ft.jit(ft.grad(_makes_its_own_constants))(x),
        "grad(jit)": ft.grad(ft.jit(_makes_its_own_constants))(x),
        "jacrev": ft.jacrev(_makes_its_own_constants)(x),
        "jacfwd": ft.jacfwd(_makes_its_own_constants)(x),
        "jvp": ft.jvp(_makes_its_own_constants, (x,), (backend.asarray([1.0, 0, 0]),))[1],
        "checkpoint": ft.grad(ft.checkpoint(_makes_its_own_constants))(x),
        "vmap(grad)": ft.vmap(ft.grad(_makes_its_own_constants))(fnp.stack([x, x]))[1, ...],
        "hessian": fnp.linalg.diagonal(ft.hessian(_makes_its_own_constants)(x)),
    }
    expected = dict.fromkeys(results, want)
    expected["jvp"] = want[0]
    expected["hessian"] = np.full(3, 2.0)
    for name, r in results.items():
        assert backend.is_own(r), (name, type(r), getattr(r, "device", None))
        np.testing.assert_allclose(backend.to_numpy(r), expected[name], rtol=1e-13,
                                   err_msg=name)
    # outside a transform (nothing to follow) and where a device is named: as before
    assert type(fnp.zeros(2)) is not type(x) or backend.name == "numpy"
    if backend.device is not None:
        def named(x):
            z = fnp.zeros(3, device=backend.xp.Device("CPU_DEVICE"))
            assert backend.backend.device(z) != backend.device
            # an array's copy, and an array like it, stay on its own device
            for c in (fnp.asarray(z, copy=True), fnp.empty_like(z)):
                assert backend.backend.device(c) == backend.backend.device(z)
            return fnp.sum(x * x)
        ft.grad(named)(x)

# -- mixing two libraries -----------------------------------------------------------------------


def _other_pairs():
    pairs = [("numpy", "array_api_strict")]
    if "torch" in BACKEND_NAMES:
        pairs += [("numpy", "torch"), ("torch", "array_api_strict")]
    return pairs


@pytest.mark.parametrize("n1,n2", _other_pairs())
def test_mixing_backends_is_an_error(n1, n2):
    from .conftest import BackendCase
    a, b = BackendCase(n1).asarray(X), BackendCase(n2).asarray(X)
    pattern = rf"(?s)'{n1}'.*'{n2}'.*(asarray|from_dlpack)"
    # (a * b on two plain arrays is the libraries' business; functrans sees fnp calls and
    # tracers.)
    with pytest.raises(BackendMismatchError, match=pattern):
        fnp.add(a, b)
    with pytest.raises(BackendMismatchError, match=pattern):
        fnp.multiply(a, fnp.sin(b))
    with pytest.raises(BackendMismatchError, match=pattern):
        ft.grad(lambda x: fnp.sum(x * b))(a)
    with pytest.raises(BackendMismatchError):
        ft.grad(lambda x, y: fnp.sum(x * y), argnums=(0, 1))(a, b)
    with pytest.raises(BackendMismatchError):
        ft.jvp(lambda x: x * b, (a,), (a,))
    with pytest.raises(BackendMismatchError):
        ft.hessian(lambda x: fnp.sum(x * b))(a)



def test_asarray_to_a_device_of_another_library_is_an_error():
    import array_api_strict as xps
    a = np.arange(3.0)
    with pytest.raises(BackendMismatchError, match="(?s)numpy array.*array_api_strict"):
        fnp.asarray(a, device=xps.Device("device1"))
    assert np.shares_memory(fnp.asarray(a, device="cpu"), a)  # where it is already: no copy
    s = xps.asarray([1.0, 2.0])
    moved = fnp.asarray(s, device=xps.Device("device1"))  # asked for: moved
    assert moved.device == xps.Device("device1")
    assert fnp.asarray(s, device=s.device) is s



@pytest.mark.parametrize("make", [lambda: np.ma.masked_array([1.0, 2.0, 3.0], mask=[0, 1, 0]),
                                  lambda: np.matrix([[1.0, 2.0]])])
def test_numpy_subclasses_that_change_meanings_are_refused(make):
    # (taken as plain arrays, a mask was ignored by some operations only, and np.matrix
    # kept two axes in reductions: silent wrong results)
    x = make()
    for f in (lambda: fnp.sum(fnp.multiply(x, x)), lambda: ft.grad(lambda v: fnp.sum(v * v))(x),
              lambda: ft.jit(fnp.sin)(x)):
        with pytest.raises(UnsupportedBackendError, match="masked arrays|np.matrix"):
            f()

# -- extras: scatter_add --------------------------------------------------------------------------


def _ref_scatter_add(x, index, values, axis=0):
    out = np.array(x, copy=True)
    index = index if isinstance(index, tuple) else (index,)
    np.add.at(out, (slice(None),) * axis + index, values)
    return out


SCATTER_CASES = [
    # x shape, index (tuple = several axes), axis
    ((5,), np.array([0, 2, 0, -1, 2, 2]), 0),
    ((4, 3), np.array([3, 3, 1]), 0),
    ((2, 6, 3), np.array([[5, 0], [5, -6]]), 1),
    ((4, 3), (np.array([0, 3, 0]), np.array([2, 1, 2])), 0),
    ((2, 3, 4), (np.array([1, 1]), np.array([-1, 3])), 1),
    ((3, 2), np.array([], dtype=np.int64), 0),
    ((7,), np.zeros(40, dtype=np.int64), 0),
]


def _scatter_inputs(backend, shape, index, axis, rng, dtype="float64"):
    index_t = index if isinstance(index, tuple) else (index,)
    vshape = shape[:axis] + index_t[0].shape + shape[axis + len(index_t):]
    xn = rng.standard_normal(shape)
    vn = rng.standard_normal(vshape)
    x = backend.asarray(xn, dtype=dtype)
    v = backend.asarray(vn, dtype=dtype)
    idx = tuple(backend.asarray(i, dtype="int64") for i in index_t)
    return xn, vn, x, v, idx if isinstance(index, tuple) else idx[0]


@pytest.mark.parametrize("shape,index,axis", SCATTER_CASES)
def test_scatter_add(backend, shape, index, axis):
    rng = np.random.default_rng(0)
    xn, vn, x, v, idx = _scatter_inputs(backend, shape, index, axis, rng)
    expected = _ref_scatter_add(xn, index, vn, axis)
    for fn in (backend.backend.extra("scatter_add"),
               lambda *a, **k: generic.scatter_add(backend.backend, *a, **k)):
        out = fn(x, idx, v, axis=axis)
        assert backend.is_own(out) and out.dtype == x.dtype
        np.testing.assert_allclose(backend.to_numpy(out), expected, rtol=1e-13, atol=1e-13)
        np.testing.assert_array_equal(backend.to_numpy(x), xn)  # x is not modified


def test_scatter_add_float32_and_large(backend):
    rng = np.random.default_rng(1)
    index = rng.integers(-50, 50, size=3000)
    xn, vn, x, v, idx = _scatter_inputs(backend, (50, 2), index, 0, rng, dtype="float32")
    expected = _ref_scatter_add(xn.astype(np.float32), index, vn.astype(np.float32))
    out = generic.scatter_add(backend.backend, x, idx, v)
    assert out.dtype == x.dtype
    np.testing.assert_allclose(backend.to_numpy(out), expected, rtol=1e-4, atol=1e-4)


def test_scatter_add_is_the_transpose_of_take(backend):
    # <take(x, i), v> == <x, scatter_add(0, i, v)>
    rng = np.random.default_rng(2)
    xn, vn = rng.standard_normal((6, 2)), rng.standard_normal((9, 2))
    i = rng.integers(0, 6, size=9)
    x, v = backend.asarray(xn), backend.asarray(vn)
    xp = backend.xp
    s = backend.backend.extra("scatter_add")(xp.zeros_like(x), backend.asarray(i, "int64"), v)
    lhs = np.sum(xn[i] * vn)
    np.testing.assert_allclose(np.sum(xn * backend.to_numpy(s)), lhs, rtol=1e-12)

# -- extras: special functions ------------------------------------------------------------------


SPECIAL = {"erf": "erf", "erfc": "erfc", "lgamma": "gammaln", "digamma": "psi"}
SPECIAL_X = np.array([-4.5, -2.2, -1.3, -0.5, 0.0, 0.3, 1.0, 1.49, 1.51, 2.5, 3.7, 6.0, 25.0])


@pytest.mark.parametrize("name", sorted(SPECIAL) + ["erfinv", "polygamma"])
def test_special_functions(backend, name):
    sc = pytest.importorskip("scipy.special")
    b = backend.backend
    fn = b.extra(name)  # every backend has every extra: its own or the generic one
    xs = SPECIAL_X
    if name in ("lgamma", "digamma"):
        xs = xs[(xs > 0) | (xs != np.round(xs))]  # not at the poles
    if name == "erfinv":
        xs = np.array([-0.999, -0.5, 0.0, 0.1, 0.9, 0.99999])
        out, ref = fn(backend.asarray(xs)), sc.erfinv(xs)
    elif name == "polygamma":
        xs = xs[xs > 0]
        out, ref = fn(2, backend.asarray(xs)), sc.polygamma(2, xs)
    else:
        out, ref = fn(backend.asarray(xs)), getattr(sc, SPECIAL[name])(xs)
    assert backend.is_own(out) and out.dtype == backend.float_dtype
    np.testing.assert_allclose(backend.to_numpy(out), ref, rtol=1e-11, atol=1e-13)


@pytest.mark.parametrize("name", sorted(SPECIAL))
@pytest.mark.parametrize("dtype,rtol", [("float64", 1e-11), ("float32", 2e-5)])
def test_generic_special_functions(name, dtype, rtol):
    """The fallbacks written on the standard, against SciPy, over a dense range."""
    sc = pytest.importorskip("scipy.special")
    b = fb.get_backend("array_api_strict")
    if name in ("erf", "erfc"):
        xs = np.linspace(-6, 6, 4001)
    else:
        xs = np.concatenate([np.linspace(0.01, 60, 4001), np.linspace(-9.9, 0.49, 999)])
        # Near a pole the reflection formula loses what sin/tan of pi x lose to rounding.
        xs = xs[np.abs(xs - np.round(xs)) > (1e-3 if dtype == "float64" else 2e-2)]
    xs = xs.astype(dtype)
    out = np.asarray(getattr(generic, name)(b, b.xp.asarray(xs)))
    assert out.dtype == np.dtype(dtype)
    ref = getattr(sc, SPECIAL[name])(xs.astype(np.float64))
    scale = np.maximum(np.abs(ref), 1.0) if name != "erfc" else np.abs(ref)
    assert np.max(np.abs(out - ref) / scale) < rtol


def test_generic_special_functions_edge_values():
    b = fb.get_backend("array_api_strict")
    x = b.xp.asarray([np.inf, -np.inf, np.nan])
    np.testing.assert_equal(np.asarray(generic.erf(b, x)), [1.0, -1.0, np.nan])
    np.testing.assert_equal(np.asarray(generic.erfc(b, x)), [0.0, 2.0, np.nan])


def test_unknown_extra_and_register_extra():
    b = fb.get_backend("array_api_strict")
    with pytest.raises(UnsupportedBackendError, match="knows no extra named 'nope'"):
        b.extra("nope")
    calls = []

    def my_erfinv(x):
        calls.append(x)
        return x
    generic_erfinv = b.extra("erfinv")
    fb.register_extra("array_api_strict", "erfinv", my_erfinv)
    try:
        assert b.extra("erfinv") is my_erfinv
    finally:
        del b.extras["erfinv"]
        b._extra_cache.pop("erfinv", None)
    assert b.extra("erfinv") is not my_erfinv
    # the generic one again (computing float32 in float64: Backend._single_in_float64)
    assert b.extra("erfinv").__wrapped__.func is generic_erfinv.__wrapped__.func


def test_missing_extra_names_the_backend_and_the_function(monkeypatch):
    """An extra with a contract that neither the backend nor the generic module provides."""
    b = fb.get_backend("array_api_strict")
    monkeypatch.setitem(fb.EXTRAS, "zeta", "zeta(s, x) -> array: Hurwitz's zeta function.")
    monkeypatch.setattr(b, "_extra_cache", {})
    with pytest.raises(UnsupportedBackendError,
                       match=r"'array_api_strict' does not provide 'zeta'.*register_extra"):
        b.extra("zeta")
    assert not b.has_extra("zeta")


def test_numpy_extras_from_scipy_are_native():
    pytest.importorskip("scipy.special")
    import scipy.special as sc
    b = fb.get_backend("numpy")
    # (behind the wrapper that computes float16 in float32, which SciPy would give as float64;
    # lgamma is SciPy's behind the patch of its values at subnormal x and -inf)
    assert b.extra("erf").__wrapped__ is sc.erf and b.extra("erfinv").__wrapped__ is sc.erfinv
    assert b.extra("lgamma").__wrapped__.__name__ == "gammaln"


@pytest.mark.parametrize("name", BACKEND_NAMES)
def test_creation_under_default_backend_is_float64(name):
    b = fb.get_backend(name)
    with ft.default_backend(name):
        for a in (fnp.zeros(3), fnp.ones((2, 2)), fnp.asarray([1.0, 2.0]), fnp.sin(1.0),
                  fnp.add(1.0, 2.0)):
            assert b.owns(a) and a.dtype == b.native_dtype("float64")


def test_native_dtypes_of_arrays_are_understood(backend):
    x = backend.asarray(X, dtype="float32")
    # array-api-strict makes a new dtype object per array: equality, not identity, counts.
    assert ft.dtypes.as_dtype(x.dtype) is fnp.float32
    assert fb.lookup_dtype(x.dtype) is fnp.float32
    y = fnp.astype(backend.asarray(X), x.dtype)
    assert backend.is_own(y) and y.dtype == x.dtype
    g = ft.grad(lambda v: fnp.sum(fnp.astype(v, x.dtype) ** 2))(backend.asarray(X))
    assert g.dtype == backend.float_dtype
    assert fb.lookup_dtype("float32") is None and fb.lookup_dtype(object()) is None


def test_backend_of_device(backend):
    x = backend.asarray(X)
    dev = backend.backend.device(x)
    b = fb.backend_of_device(dev)
    if isinstance(dev, str):  # NumPy's "cpu" names no library
        assert b is None
    else:
        assert b is backend.backend and fb.backend_of_device(dev) is b
    assert fb.backend_of_device(None) is None and fb.backend_of_device("cpu") is None
    assert fb.backend_of_device(object()) is None


def test_dispatch_is_a_dict_hit_after_the_first_array(backend, monkeypatch):
    """Once a type is known, evaluation never resolves it again (and never asks
    array-api-compat for a namespace)."""
    import array_api_compat

    import functrans.core as core
    x = backend.asarray(X)
    ft.grad(f)(x)  # the type is known from here on

    def fail(*a, **k):
        raise AssertionError("dispatch fell back to a slow look-up")
    monkeypatch.setattr(core, "resolve_type", fail)
    monkeypatch.setattr(fb, "resolve_type", fail)
    monkeypatch.setattr(array_api_compat, "array_namespace", fail)
    g = ft.grad(f)(x)
    _check(backend, g, df(np.array(X)))
    _check(backend, ft.hessian(f)(x), d2f(np.array(X)))


@pytest.mark.parametrize("name", [n for n in BACKEND_NAMES if n != "cupy"])
def test_scatter_add_matches_numpy_add_at_property(name):
    """Random shapes, axes, index counts and repetitions, native and generic versions."""
    from hypothesis import given
    from hypothesis import strategies as st
    from .conftest import BackendCase
    case = BackendCase(name)

    @given(st.data())
    def check(data):
        ndim = data.draw(st.integers(1, 3))
        shape = tuple(data.draw(st.lists(st.integers(1, 4), min_size=ndim, max_size=ndim)))
        axis = data.draw(st.integers(0, ndim - 1))
        k = data.draw(st.integers(1, ndim - axis))  # index arrays for axes axis..axis+k-1
        ishape = tuple(data.draw(st.lists(st.integers(0, 5), min_size=1, max_size=2)))
        seed = data.draw(st.integers(0, 2**16))
        rng = np.random.default_rng(seed)
        index = tuple(rng.integers(-shape[axis + j], shape[axis + j], size=ishape)
                      for j in range(k))
        index = index if k > 1 else index[0]
        xn, vn, x, v, idx = _scatter_inputs(case, shape, index, axis, rng)
        expected = _ref_scatter_add(xn, index, vn, axis)
        for fn in (case.backend.extra("scatter_add"),
                   lambda *a, **kw: generic.scatter_add(case.backend, *a, **kw)):
            out = fn(x, idx, v, axis=axis)
            np.testing.assert_allclose(case.to_numpy(out), expected, rtol=1e-12, atol=1e-12)
    check()


# -- a backend's direct implementations of primitives -----------------------------------------


def test_numpy_direct_impls_agree_with_the_generic_ones():
    # NumPy's Backend(impls=...) replace the generic impls (through array-api-compat) of the
    # hottest primitives: each must give the same values, dtypes and shapes.
    import functools
    from functrans.core import registry
    b = fb.get_backend("numpy")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4))
    xi = np.arange(12, dtype=np.int32).reshape(3, 4)
    xc = x + 1j * rng.standard_normal((3, 4))
    cases = [
        ("matmul", (x, x.T), {}),
        # outer products (contraction of length 1): a broadcast multiply, same values
        ("matmul", (x[:, :1], x[:1]), {}), ("matmul", (xi[:, :1], xi[:1]), {}),
        ("matmul", (xc[None, :, :1], xc[None, :1, :]), {}),
        ("matmul", (x.T[None, :, None, 0], x[None, None, 1]), {}),
        ("matmul", (np.zeros((2, 0, 1)), np.zeros((2, 1, 3))), {}),
        ("reduce_sum", (x,), {"axes": (1,)}), ("reduce_sum", (xi,), {"axes": (0, 1)}),
        ("reduce_sum", (x,), {"axes": ()}),
        ("reduce_max", (x,), {"axes": (0,)}), ("reduce_min", (x,), {"axes": (0, 1)}),
        ("reshape", (x,), {"shape": (4, 3)}), ("reshape", (np.float64(2.0),), {"shape": (1,)}),
        ("transpose", (x,), {"perm": (1, 0)}),
        ("convert_element_type", (x,), {"dtype": fnp.float32}),
        ("convert_element_type", (xc,), {"dtype": fnp.float64}),
        ("convert_element_type", (xc * np.array([0, 1j, 1, 0]),), {"dtype": fnp.bool}),
        ("convert_element_type", (xi,), {"dtype": fnp.float64}),
        ("full_like", (x,), {"fill_value": 2.5}),
        ("full_like", (x,), {"fill_value": 1, "dtype": fnp.int64}),
        ("broadcast_in_dim", (x[0],), {"shape": (2, 4), "dims": (1,)}),
        ("broadcast_in_dim", (x[:, :1],), {"shape": (3, 5, 2), "dims": (0, 2)}),
        ("broadcast_in_dim", (x.T,), {"shape": (2, 4, 3), "dims": (1, 2)}),  # F-ordered
        ("broadcast_in_dim", (x[:, ::2],), {"shape": (2, 3, 2), "dims": (1, 2)}),  # strided
        ("broadcast_in_dim", (np.float64(1.5),), {"shape": (2, 3), "dims": ()}),
        ("broadcast_in_dim", (np.zeros((0, 3)),), {"shape": (2, 0, 3), "dims": (1, 2)}),
        ("chooser_weights", (np.array([[1.0, 3.0, 3.0], [2.0, 0.0, 2.0]]),
                             np.array([3.0, 2.0])), {"axes": (1,)}),
        ("chooser_weights", (np.array([[1.0, 3.0], [3.0, 0.0]]), np.float64(3.0)),
         {"axes": (0, 1)}),
        # no ties (the weights are the mask), a NaN slice (nowhere attained: nan weights),
        # -inf extremes, a tie in one slice only, an empty operand
        ("chooser_weights", (np.array([[1.0, 3.0, 2.0], [2.0, 0.0, -1.0]]),
                             np.array([3.0, 2.0])), {"axes": (1,)}),
        ("chooser_weights", (np.array([[1.0, np.nan, 2.0], [2.0, 0.0, 3.0]]),
                             np.array([np.nan, 3.0])), {"axes": (1,)}),
        ("chooser_weights", (np.array([[np.nan, 1.0], [2.0, 2.0]]),  # as many matches
                             np.array([np.nan, 2.0])), {"axes": (1,)}),  # as slices
        ("chooser_weights", (np.array([[-np.inf, -np.inf], [1.0, 0.0]]),
                             np.array([-np.inf, 1.0])), {"axes": (1,)}),
        ("chooser_weights", (np.array([[1.0, 1.0], [4.0, 0.0], [0.0, 5.0]]),
                             np.array([1.0, 4.0, 5.0])), {"axes": (1,)}),
        ("chooser_weights", (np.array([[2.0, 1.0], [0.0, 5.0]]), np.float64(5.0)),
         {"axes": (0, 1)}),
        ("chooser_weights", (np.zeros((0, 3)), np.zeros(0)), {"axes": (1,)}),
        ("tanh_slope", (x,), {"factor": False}), ("tanh_slope", (x,), {"factor": True}),
        ("tanh_slope", (x.astype(np.float32),), {"factor": True}),
        ("tanh_slope", (np.float64(0.3),), {"factor": False}),
        ("sin_cos", (x,), {}), ("sin_cos", (x.astype(np.float32),), {}),
        ("sin_cos", (xc,), {}), ("sin_cos", (np.float64(0.3),), {}),
    ]
    for name, args, params in cases:
        p = registry[name]
        assert name in b.impls
        fast = p.impl_for(b)(*args, **params)
        generic = functools.partial(p.impl, b)(*args, **params)
        if not p.multiple_results:
            fast, generic = [fast], [generic]
        assert len(fast) == len(generic), name
        for f, g in zip(fast, generic):
            assert type(f) is type(g) and f.dtype == g.dtype, name
            np.testing.assert_array_equal(f, g, err_msg=name)


def test_numpy_broadcast_is_a_read_only_view():
    from functrans.core import registry
    b = fb.get_backend("numpy")
    x = np.arange(3.0)
    out = registry["broadcast_in_dim"].impl_for(b)(x, shape=(2, 3), dims=(1,))
    assert np.shares_memory(out, x) and not out.flags.writeable
    with pytest.raises(ValueError):
        out[0, 0] = 5.0
    np.testing.assert_array_equal(x, [0.0, 1.0, 2.0])


@pytest.mark.parametrize("dtype", ["int8", "int32", "uint8", "float32"])
def test_accumulations_keep_the_dtype_asked_for(backend, dtype):
    """sum/prod/cumulative_sum of small integers with ``dtype=`` their own: the library's
    widening (int32 -> int64) must not show, eagerly or in a jitted graph (whose staged
    dtype would then disagree with the value)."""
    x = backend.asarray(np.arange(1, 7).reshape(2, 3), dtype=dtype)
    d = x.dtype
    for fn in (lambda x: fnp.sum(x, axis=1, dtype=x.dtype),
               lambda x: fnp.prod(x, dtype=x.dtype),
               lambda x: fnp.cumulative_sum(x, axis=1, dtype=x.dtype),
               lambda x: fnp.cumulative_prod(x, axis=0, dtype=x.dtype)):
        for f in (fn, ft.jit(fn)):
            out = f(x)
            assert out.dtype == d and backend.is_own(out)
    np.testing.assert_array_equal(backend.to_numpy(fnp.sum(x, axis=1, dtype=d)), [6, 15])
    if dtype == "uint8":  # the accumulator NumPy uses, on every backend (torch has no uint64 sum)
        for out in (fnp.sum(x), fnp.prod(x), fnp.cumulative_sum(x, axis=0)):
            assert fnp.uint64 == out.dtype and backend.is_own(out)
        assert int(backend.to_numpy(fnp.prod(x))) == 720


def test_a_dtype_object_before_any_array_of_its_library():
    """A library's dtype can name a dtype before functrans has seen one of its arrays."""
    import subprocess
    import sys
    code = ("import numpy as np, functrans.numpy as fnp, array_api_strict as xps\n"
            "x = xps.asarray(np.ones((2, 3), 'int32'))\n"
            "assert fnp.sum(x, dtype=x.dtype).dtype == xps.int32\n")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_python_numbers_join_the_arrays_library_and_device(backend):
    """Python numbers and lists given next to an array become arrays of that array's
    library and device (not the default backend's), eagerly and on tracers."""
    x = backend.asarray([0.5, -1.0, 2.0])

    def f(x):
        return (fnp.where(x > 0, -1.0, 1.0), fnp.take(x, [2, 0]),
                fnp.repeat(x, [1, 0, 2]), fnp.searchsorted(fnp.sort(x), 0.0))
    for out in f(x) + ft.jvp(lambda x: f(x)[1], (x,), (x,)):
        assert backend.is_own(out)
    np.testing.assert_array_equal(backend.to_numpy(f(x)[0]), [-1.0, 1.0, -1.0])
    g = ft.grad(lambda x: fnp.sum(x * fnp.where(x > 0, -1.0, 1.0))
                + fnp.sum(fnp.take(x, [2, 0])))(x)
    assert backend.is_own(g)
    np.testing.assert_array_equal(backend.to_numpy(g), [0.0, 1.0, 0.0])
    nested = fnp.asarray([[x[0], 2.0], [3.0, 4.0]])
    assert backend.is_own(nested)
    np.testing.assert_array_equal(backend.to_numpy(nested), [[0.5, 2.0], [3.0, 4.0]])
    g = ft.grad(lambda x: fnp.sum(fnp.asarray([x[0], 2.0, [x[2]][0]]) ** 2))(x)
    assert backend.is_own(g)
    np.testing.assert_array_equal(backend.to_numpy(g), [1.0, 0.0, 4.0])


def test_numpy_scalars_beside_another_librarys_arrays(backend):
    """A NumPy scalar (what NumPy's reductions return; typed, unlike a Python float) beside
    an array of another library becomes a 0-d array of that library and device with its own
    dtype, eagerly, in derivatives and under jit; a NumPy *array* there is still an error."""
    x = backend.asarray([1.0, 2.0])
    for f in (lambda x: fnp.add(x, np.float64(0.5)), lambda x: fnp.multiply(np.float64(2), x),
              lambda x: fnp.where(x > 1.5, x, np.float64(7.0)),
              lambda x: fnp.stack([x[0], np.float64(3)])):
        for g in (f, ft.jit(f)):
            out = g(x)
            assert backend.is_own(out)
    np.testing.assert_array_equal(backend.to_numpy(fnp.add(x, np.float64(0.5))), [1.5, 2.5])
    gr = ft.grad(lambda x: fnp.sum(x * np.float64(3.0)))(x)
    assert backend.is_own(gr)
    np.testing.assert_array_equal(backend.to_numpy(gr), [3.0, 3.0])
    x32 = backend.asarray([1.0, 2.0], dtype="float32")
    assert fnp.float64 == fnp.add(x32, np.float64(1.0)).dtype  # typed, as in NumPy
    assert fnp.float32 == fnp.add(x32, np.float32(1.0)).dtype
    if backend.name != "numpy":
        with pytest.raises(BackendMismatchError):
            fnp.add(x, np.ones(2))



def test_numpy_scalars_beside_another_librarys_arrays_in_composite_functions(backend):
    """The composite functions (products, polynomials, quantiles, set functions, special
    functions of two or three arguments...) take a NumPy scalar beside another library's
    array as the elementwise ones do: it moves before their reshapes and broadcasts would
    make it a NumPy array (they raised BackendMismatchError). Values and dtypes are NumPy's
    and SciPy's; a 1-element NumPy *array* there still raises."""
    import scipy.special as ss

    import functrans.scipy.special as fss
    from functrans.testing import check_grads
    xs = [1.0, 2.0, 3.0]
    x = backend.asarray(xs)
    n = np.asarray(xs)
    cases = [
        (lambda f, x: f.outer(x, np.float64(2.0)), np),
        (lambda f, x: f.kron(np.float32(2.0), x), np),
        (lambda f, x: f.polyadd(x, np.int64(3)), np),
        (lambda f, x: f.polymul(np.float64(2.0), x), np),
        (lambda f, x: f.percentile(x, np.float64(30.0)), np),
        (lambda f, x: f.setdiff1d(x, np.float64(2.0)), np),
        (lambda f, x: f.intersect1d(np.int64(3), x), np),
        (lambda f, x: f.append(x, np.float32(4.0)), np),
        (lambda f, x: f.heaviside(np.float64(0.0), x), np),
        (lambda f, x: f.fmod(np.float64(5.0), x), np),
        (lambda f, x: f.digitize(np.float64(1.5), x), np),
        (lambda f, x: f.diff(x, prepend=np.float64(0.5)), np),
        (lambda f, x: f.piecewise(np.float64(0.5), [x[0] > 0.0], [lambda v: v * 2.0]), np),
        (lambda f, x: f.beta(np.float64(2.0), x), ss),
        (lambda f, x: f.xlogy(np.int64(2), x), ss),
        (lambda f, x: f.gammainc(x, np.float64(1.5)), ss),
        (lambda f, x: f.betainc(np.float64(2.0), x, np.float64(0.3)), ss),
    ]
    for i, case in enumerate(cases):
        f, ref = case
        out = f(fnp if ref is np else fss, x)
        want = np.asarray(f(ref, n))
        assert backend.is_own(out), i
        got = backend.to_numpy(out)
        assert got.dtype == want.dtype and got.shape == want.shape, (i, got.dtype, want.dtype)
        np.testing.assert_allclose(got, want, rtol=1e-12, err_msg=str(i))
    check_grads(lambda x: fss.beta(np.float64(2.0), x) * fnp.polyadd(x, np.float32(1.0))
                + fnp.kron(np.float64(2.0), x), (x,), order=2)
    if backend.name != "numpy":
        for f in (fnp.outer, fnp.kron, fnp.polyadd, fnp.append, fnp.setdiff1d, fss.beta):
            with pytest.raises(BackendMismatchError):
                f(x, np.ones(1))


def test_python_floats_in_lists_are_float64_on_every_backend(backend):
    """Lists of Python floats give float64 arrays wherever they are made (torch's own default
    is float32): with device=, and when they join a tensor's library inside asarray."""
    x = backend.asarray([0.5])
    nested = fnp.asarray([[x[0], 0.1], [0.1, 4.0]])
    assert fnp.float64 == nested.dtype
    assert float(backend.to_numpy(nested)[1, 0]) == 0.1  # not rounded through float32
    assert fnp.float64 == fnp.asarray([0.1, 2.0], device=fnp.device(x)).dtype


def test_complex_to_bool_is_true_where_either_part_is_non_zero(backend):
    z = backend.asarray(np.array([1j, 0.0, 2.0, -0.5j]), dtype="complex128")
    np.testing.assert_array_equal(backend.to_numpy(fnp.astype(z, fnp.bool)),
                                  [True, False, True, True])


def test_fast_paths_follow_the_registry():
    """functrans.numpy's no-transform fast paths cache each primitive's implementation by
    array type; a backend registered later for that type takes over at once, and the old
    owner is used again after it is registered back."""
    import numpy as np

    import functrans.backends as fb
    import functrans.numpy as fnp
    numpy_backend = fb.get_backend("numpy")
    x = np.array([0.25, 0.5])
    fnp.sin(x), fnp.add(x, x), fnp.multiply(x, 2.0)  # fill the caches
    calls = []

    def spy(name, f):
        def g(*args):
            calls.append(name)
            return f(*args)
        return g
    spy_backend = fb.Backend("numpy", numpy_backend.xp, numpy_backend.array_types,
                             list(numpy_backend._to_dtype.items()),
                             impls={"sin": spy("sin", np.sin), "add": spy("add", np.add),
                                    "mul": spy("mul", np.multiply)})
    try:
        fb.register(spy_backend)
        np.testing.assert_array_equal(fnp.sin(x), np.sin(x))
        np.testing.assert_array_equal(fnp.add(x, x), 2 * x)
        np.testing.assert_array_equal(fnp.multiply(x, 2.0), 2 * x)
        assert calls == ["sin", "add", "mul"]
    finally:
        fb.register(numpy_backend)
    calls.clear()
    fnp.sin(x), fnp.add(x, x), fnp.multiply(x, 2.0)
    assert calls == [] and fb.backend_of(x) is numpy_backend


def test_strict_fast_equality_agrees_with_the_original():
    """tests/conftest.py speeds up array-api-strict's dtype and device ``==``: every pair of
    its dtypes (and a byte-swapped one, and foreign objects) and devices compares as the
    library's own method says, and comparing with a NumPy dtype still warns."""
    aas = pytest.importorskip("array_api_strict")
    from array_api_strict._devices import ALL_DEVICES, Device
    from array_api_strict._dtypes import DType, _all_dtypes
    fast, original = DType.__eq__, getattr(DType.__eq__, "_functrans_fast", None)
    if original is None:
        pytest.skip("array-api-strict's DType changed shape: conftest left its == alone")
    dtypes = list(_all_dtypes) + [DType(d) for d in ("float64", ">f8", "l", "q", "bool")]
    for a in dtypes:
        for b in dtypes + [np.dtype("float64"), "float64", 1.0, None]:
            with pytest.warns() if isinstance(b, np.dtype) else _no_warning():
                assert fast(a, b) == original(a, b), (a, b)
    dfast, doriginal = Device.__eq__, Device.__eq__._functrans_fast
    devices = list(ALL_DEVICES) + [Device("device1"), "device1", None]
    for a in ALL_DEVICES:
        for b in devices:
            assert dfast(a, b) == doriginal(a, b), (a, b)
    assert aas.asarray([1.0]).dtype == aas.float64 and aas.float32 != aas.float64


def test_strict_fast_lookups_agree_with_the_original():
    """tests/conftest.py speeds up array-api-strict's dtype-tuple membership and promotion
    table: every dtype (and copies, a byte-swapped one, foreign objects) is in each tuple
    exactly when the plain tuple says so, every pair promotes (or refuses to) as the
    library's own function says, and its dtype checks still refuse what they refused."""
    aas = pytest.importorskip("array_api_strict")
    from array_api_strict import _array_object as AO
    from array_api_strict import _dtypes as D
    original = getattr(D._result_type, "_functrans_fast", None)
    if original is None:
        pytest.skip("array-api-strict's dtypes changed shape: conftest left them alone")
    assert AO._result_type is D._result_type and type(AO._all_dtypes) is not tuple
    dtypes = list(D._all_dtypes) + [D.DType(d) for d in ("float64", ">f8", "l", "q", "bool")]
    tuples = [v for v in vars(D).values() if isinstance(v, tuple) and type(v) is not tuple]
    assert D._all_dtypes in tuples and D._dtype_categories["floating-point"] in tuples
    for t in tuples:
        plain = tuple(t)
        assert t == plain and list(t) == list(plain)
        for d in dtypes + ["float64", 1.0, None]:
            assert (d in t) == (d in plain), (t, d)
        with pytest.warns(UserWarning):  # a NumPy dtype still goes the original way
            assert (np.dtype("float64") in t) == (np.dtype("float64") in plain)
    for a in dtypes:
        for b in dtypes:
            try:
                expected = original(a, b)
            except TypeError:
                with pytest.raises(TypeError):
                    D._result_type(a, b)
            else:
                assert D._result_type(a, b) is expected, (a, b)
    x = aas.asarray([1.0, 2.0])
    with pytest.raises(TypeError):
        x + aas.asarray([1, 2])  # no float + int promotion
    with pytest.raises(TypeError):
        x & x  # no bitwise operators on floats
    with pytest.raises(TypeError):
        aas.asarray([1, 2]) + 1.5  # a float scalar with an integer array


class _no_warning:
    def __enter__(self):
        import warnings
        self._cm = warnings.catch_warnings()
        self._cm.__enter__()
        warnings.simplefilter("error")

    def __exit__(self, *exc):
        return self._cm.__exit__(*exc)
