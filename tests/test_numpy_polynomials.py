"""NumPy's polynomial functions, introspection names, asarray variants and
linalg.tensorinv/tensorsolve (functrans/numpy/_polynomials.py, _introspection.py, linalg.py):
values, dtypes and shapes against NumPy on every backend, error cases, the documented
behaviour without values (jit, vmap), and vmap against a Python loop."""

from __future__ import annotations

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.errors import ConcretizationError

RNG = np.random.default_rng(7)


def _conv(backend, v):
    if isinstance(v, np.ndarray):
        return backend.asarray(v, dtype=str(v.dtype))
    if isinstance(v, tuple):
        return tuple(_conv(backend, e) for e in v)
    return v


def check(backend, got, want, rtol=1e-12, atol=0.0):
    """``got`` (an array of ``backend`` or a tuple of them) equals NumPy's ``want``, with
    its shape and dtype."""
    if isinstance(want, tuple):
        assert isinstance(got, tuple) and len(got) == len(want)
        for g, w in zip(got, want):
            check(backend, g, w, rtol, atol)
        return
    assert backend.is_own(got), type(got)
    g = backend.to_numpy(got)
    w = np.asarray(want)
    assert g.shape == w.shape, (g.shape, w.shape)
    assert g.dtype == w.dtype, (g.dtype, w.dtype)
    if w.dtype.kind in "biu":
        np.testing.assert_array_equal(g, w)
    else:
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol, equal_nan=True)


def run(backend, name, *args, rtol=1e-12, atol=0.0, **kw):
    want = getattr(np, name)(*args, **kw)
    with np.errstate(all="ignore"):
        got = getattr(fnp, name)(*[_conv(backend, a) for a in args],
                                 **{k: _conv(backend, v) for k, v in kw.items()})
    check(backend, got, want, rtol, atol)

# -- polyadd, polysub, polymul -----------------------------------------------------------------


PAIRS = [([1.0, 2.0, 3.0], [4.0, 5.0]), ([1.5], [2.0, -3.0, 4.0]), ([0.5, -1.0], [2.0, 3.0]),
         ([0.0, 0.0, 1.0, 2.0], [0.0, 3.0]), ([2.0], [3.0]), ([0.0, 0.0], [1.0, 2.0])]


@pytest.mark.parametrize("name", ["polyadd", "polysub", "polymul"])
@pytest.mark.parametrize("pair", range(len(PAIRS)))
@pytest.mark.parametrize("dtypes", [("float64", "float64"), ("float32", "float32"),
                                    ("float32", "int64"), ("int64", "int32"),
                                    ("complex128", "float64")])
def test_arithmetic(backend, name, pair, dtypes):
    a, b = PAIRS[pair]
    run(backend, name, np.asarray(a, dtypes[0]), np.asarray(b, dtypes[1]))
    run(backend, name, np.asarray(b, dtypes[1]), np.asarray(a, dtypes[0]))


@pytest.mark.parametrize("name", ["polyadd", "polysub", "polymul"])
def test_arithmetic_python_values(backend, name):
    a = np.array([1.0, -2.0, 0.5])
    run(backend, name, a, [1, 2])
    run(backend, name, [3.0], a)
    run(backend, name, a, 2.5)
    run(backend, name, 3, a)
    run(backend, name, np.array(2.0), np.array([1.0, 1.0]))


def test_boolean_arithmetic(backend):
    a, b = np.array([True, False]), np.array([False, True, True])
    run(backend, "polyadd", a, b)
    run(backend, "polymul", a, b)
    run(backend, "polymul", np.array([False, True]), b)
    with pytest.raises(TypeError, match="polysub: boolean"):
        fnp.polysub(backend.asarray(a, "bool"), backend.asarray(b, "bool"))


def test_polymul_all_zero_and_empty(backend):
    run(backend, "polymul", np.array([0.0, 0.0]), np.array([1.0, 2.0]))
    run(backend, "polymul", np.array([], dtype="float64"), np.array([1.0, 2.0]))
    run(backend, "polyadd", np.array([], dtype="float64"), np.array([1.0, 2.0]))


@pytest.mark.parametrize("name", ["polyadd", "polysub", "polymul", "polydiv"])
def test_two_dimensional_coefficients_are_refused(backend, name):
    a = backend.asarray(np.ones((2, 2)))
    with pytest.raises(ValueError, match=f"{name}: coefficient arrays must be one-dim"):
        getattr(fnp, name)(a, a)


def test_polymul_without_values_keeps_leading_zeros(backend):
    """Under jit the leading zeros cannot be found: they stay (documented)."""
    a, b = np.array([0.0, 1.0, 2.0]), np.array([3.0, 1.0])
    got = ft.jit(fnp.polymul)(backend.asarray(a), backend.asarray(b))
    np.testing.assert_allclose(backend.to_numpy(got), [0.0, 3.0, 7.0, 2.0])
    check(backend, fnp.polymul(backend.asarray(a), backend.asarray(b)), np.polymul(a, b))

# -- polydiv -----------------------------------------------------------------------------------


DIVISIONS = [([1.0, 2.0, 3.0], [1e-9, 1.0]), ([1.0, 2.0], [1.0, 2.0, 3.0]),
             ([1.0, 2.0, 3.0, 4.0], [2.0, 5.0]), ([1.0, -3.0, 2.0], [1.0, -1.0]),
             ([3.0, 4.0], [2.0]), ([1.0, 2.0, 3.0, 4.0, 5.0], [1.0, 2.0, 3.0]),
             ([1.0, 0.0, 0.0, -1.0], [1.0, -1.0]), ([2.0, 5e-9, 1.0], [1.0, 0.0]),
             ([1.0, 2.0, 1.0], [1.0, 2.0, 1.0]), ([4.0], [2.0])]


@pytest.mark.parametrize("case", range(len(DIVISIONS)))
@pytest.mark.parametrize("dtypes", [("float64", "float64"), ("float32", "float32"),
                                    ("int64", "float32"), ("float32", "float64"),
                                    ("complex128", "float64")])
def test_polydiv(backend, case, dtypes):
    u, v = DIVISIONS[case]
    if dtypes[0].startswith("int"):
        u = [round(c) for c in u]
    u, v = np.asarray(u, dtypes[0]), np.asarray(v, dtypes[1])
    run(backend, "polydiv", u, v, rtol=1e-6 if "float32" in dtypes else 1e-12)


def test_polydiv_integers_and_lists(backend):
    run(backend, "polydiv", np.array([1, 2, 3, 4]), np.array([1, 1]))
    run(backend, "polydiv", np.array([1.0, 5.0, 6.0]), [1, 2])
    run(backend, "polydiv", np.array([1.0, 5.0, 6.0]), 2.0)


def test_polydiv_empty_is_refused(backend):
    with pytest.raises(ValueError, match="polydiv: u must have at least one"):
        fnp.polydiv(backend.asarray(np.zeros(0)), backend.asarray(np.ones(2)))
    with pytest.raises(ValueError, match="polydiv: v must have at least one"):
        fnp.polydiv(backend.asarray(np.ones(2)), backend.asarray(np.zeros(0)))


def test_polydiv_without_values(backend):
    """Under jit and vmap nothing is trimmed by value: the remainder has its static length
    len(v) - 1 (at least 1), or len(u) when u is shorter (documented)."""
    u, v = np.array([1.0, -3.0, 2.0]), np.array([1.0, -1.0])  # exact: remainder [0.]
    q, r = ft.jit(fnp.polydiv)(backend.asarray(u), backend.asarray(v))
    check(backend, (q, r), np.polydiv(u, v))
    u2, v2 = np.array([1.0, 2.0, 1.0]), np.array([1.0, 2.0, 1.0])  # remainder [0, 0] -> [0]
    q, r = ft.jit(fnp.polydiv)(backend.asarray(u2), backend.asarray(v2))
    assert tuple(r.shape) == (2,) and np.allclose(backend.to_numpy(r), 0.0)
    assert np.polydiv(u2, v2)[1].shape == (1,)
    q, r = ft.jit(fnp.polydiv)(backend.asarray(np.array([0.0, 2.0])), backend.asarray(v2))
    check(backend, r, np.array([0.0, 2.0]))
    us = np.array([[1.0, 2.5, 3.0, 4.0], [2.0, 0.5, 1.0, 5.0]])
    qs, rs = ft.vmap(lambda a: fnp.polydiv(a, backend.asarray(np.array([1.0, 2.0, 3.0]))))(
        backend.asarray(us))
    for i in range(2):
        wq, wr = np.polydiv(us[i], [1.0, 2.0, 3.0])
        np.testing.assert_allclose(backend.to_numpy(qs)[i], wq, rtol=1e-12)
        np.testing.assert_allclose(backend.to_numpy(rs)[i], wr, rtol=1e-12)


def test_polydiv_gradient_trims_as_numpy(backend):
    """Under grad the values are there: the remainder is NumPy's (trimmed)."""
    u, v = np.array([1.0, -3.0, 2.0]), np.array([1.0, -1.0])

    def f(u):
        q, r = fnp.polydiv(u, backend.asarray(v))
        assert tuple(r.shape) == (1,)
        return fnp.sum(q) + fnp.sum(r)
    g = ft.grad(f)(backend.asarray(u))
    # q = [u0, u1 + u0], r = u2 + u1 + u0: d/du of sum(q) + r = [3, 2, 1]
    np.testing.assert_allclose(backend.to_numpy(g), [3.0, 2.0, 1.0], rtol=1e-12)

# -- polyder, polyint --------------------------------------------------------------------------


COEFFS = [[1.0, 2.0, 3.0, 4.0], [1.5, -2.0], [2.5], [], [3.0, 0.0, -1.0, 0.5, 2.0, 1.0]]


@pytest.mark.parametrize("p", range(len(COEFFS)))
@pytest.mark.parametrize("dtype", ["float64", "float32", "int64", "int32", "complex128",
                                   "bool"])
@pytest.mark.parametrize("m", [0, 1, 2, 3, 5])
def test_polyder(backend, p, dtype, m):
    c = np.asarray(COEFFS[p])
    c = (c != 0) if dtype == "bool" else c.astype(dtype) if dtype[0] != "i" else \
        np.round(c).astype(dtype)
    run(backend, "polyder", c, m)


@pytest.mark.parametrize("p", range(len(COEFFS)))
@pytest.mark.parametrize("dtype", ["float64", "float32", "int64", "complex128", "bool"])
@pytest.mark.parametrize("m", [0, 1, 2, 4])
@pytest.mark.parametrize("k", [None, 2.0, [1.0, -2.0, 3.0, 4.0], 3, "array", "complex"])
def test_polyint(backend, p, dtype, m, k):
    c = np.asarray(COEFFS[p])
    c = (c != 0) if dtype == "bool" else c.astype(dtype) if dtype[0] != "i" else \
        np.round(c).astype(dtype)
    if k == "array":
        k = np.array([0.5, 1.5, -1.0, 2.0][:max(m, 1)], dtype="float32")
    elif k == "complex":
        k = np.array([1j])
    run(backend, "polyint", c, m, k=k, rtol=1e-6 if dtype == "float32" else 1e-12)


def _same(got, want):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape and got.dtype == want.dtype, (got, want)
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_calculus_python_values(backend):
    _same(fnp.polyder([1, 2, 3]), np.polyder([1, 2, 3]))
    _same(fnp.polyint([1.0, 2.0], 2, k=[1, 2]), np.polyint([1.0, 2.0], 2, k=[1, 2]))
    run(backend, "polyint", np.array([1.0, 2.0]), m=1, k=[5])
    run(backend, "polyint", np.array([1, 2]), m=2, k=np.array([5.0, 1.0]))


def test_calculus_errors(backend):
    p = backend.asarray(np.ones(3))
    with pytest.raises(ValueError, match="polyder: the order m must be non-negative"):
        fnp.polyder(p, -1)
    with pytest.raises(ValueError, match="polyint: the order m must be non-negative"):
        fnp.polyint(p, -2)
    with pytest.raises(ValueError, match="polyint: k must be a scalar .* at least m = 3"):
        fnp.polyint(p, 3, k=[1.0, 2.0])
    with pytest.raises(ValueError, match="polyint: k must be a scalar or a one-dim"):
        fnp.polyint(p, 1, k=backend.asarray(np.ones((2, 2))))
    with pytest.raises(ValueError, match="polyder: p must be a one-dimensional"):
        fnp.polyder(backend.asarray(np.ones((2, 2))))
    with pytest.raises(TypeError, match="polyint: p must be a one-dimensional"):
        fnp.polyint(backend.asarray(np.array(1.0)))


def test_calculus_derivatives_in_k(backend):
    p = backend.asarray(np.array([1.0, 2.0]))
    g = ft.grad(lambda k: fnp.sum(fnp.polyint(p, 3, k)))(backend.asarray(np.array(
        [1.0, 2.0, 3.0])))
    # k0 / 2! + k1 / 1! + k2
    np.testing.assert_allclose(backend.to_numpy(g), [0.5, 1.0, 1.0])

# -- poly --------------------------------------------------------------------------------------


ZEROS = [[1.0, 2.0, 3.0], [2.0], [], [0.5, -0.5, 0.25, 4.0], [1 + 1j, 1 - 1j],
         [1j, 2.0], [1 + 2j, 3.0, 1 - 2j], [np.nan, 1.0], [1.0, np.inf, 2.0]]


@pytest.mark.parametrize("z", range(len(ZEROS)))
@pytest.mark.parametrize("dtype", [None, "float32", "int64", "complex64"])
def test_poly(backend, z, dtype):
    zs = np.asarray(ZEROS[z])
    if dtype is not None:
        if zs.dtype.kind == "c" and dtype != "complex64":
            pytest.skip("complex zeros")
        zs = zs.astype(dtype) if dtype != "int64" else np.round(zs).astype(dtype)
    if zs.dtype.name == "complex64":
        if not np.isfinite(zs).all():
            pytest.skip("complex arithmetic with infinities differs in its NaN parts")
    want = np.poly(zs)
    with np.errstate(all="ignore"):
        got = fnp.poly(_conv(backend, zs))
    if zs.size == 0:
        assert got == 1.0 and type(got) is float
        return
    check(backend, got, want, rtol=1e-5 if zs.dtype.itemsize <= 8 else 1e-12)


def test_poly_scalar_and_list(backend):
    # (NumPy's own poly fails on a 0-d array; functrans takes it as one zero)
    check(backend, fnp.poly(backend.asarray(np.array(3.0))), np.poly([3.0]))
    run(backend, "poly", np.array([2, 3]))
    _same(fnp.poly([1, 2]), np.poly([1, 2]))
    assert fnp.poly([]) == 1.0


def test_poly_errors(backend):
    with pytest.raises(ValueError, match="poly: input must be 1d or non-empty square 2d"):
        fnp.poly(backend.asarray(np.ones((2, 3))))
    with pytest.raises(ValueError, match="poly: input must be 1d or non-empty square 2d"):
        fnp.poly(backend.asarray(np.ones((2, 2, 2))))


def test_poly_conjugate_pairs_without_values(backend):
    """Under jit whether the zeros pair up is unknown: the result stays complex
    (documented); its values are NumPy's."""
    z = np.array([1 + 2j, 3.0, 1 - 2j])
    got = ft.jit(fnp.poly)(backend.asarray(z, "complex128"))
    assert fnp.result_type(got) == fnp.complex128
    np.testing.assert_allclose(backend.to_numpy(got), np.poly(z), rtol=1e-12)
    check(backend, fnp.poly(backend.asarray(z, "complex128")), np.poly(z))

# -- vmap against a loop -----------------------------------------------------------------------


@pytest.mark.parametrize("fn", [
    lambda a, b: fnp.polymul(a, b), lambda a, b: fnp.polyadd(a, b[:2]),
    lambda a, b: fnp.polysub(b, a), lambda a, b: fnp.polyder(a, 2) * b[0],
    lambda a, b: fnp.polyint(a, 2, k=b[:2]), lambda a, b: fnp.poly(a) + b[0],
    lambda a, b: fnp.polydiv(a, b)[0]])
def test_vmap_matches_a_loop(backend, fn):
    a = RNG.uniform(0.5, 2.0, (3, 4))
    b = RNG.uniform(0.5, 2.0, (3, 3))
    got = ft.vmap(fn)(backend.asarray(a), backend.asarray(b))
    assert backend.is_own(got)
    for i in range(3):
        want = fn(backend.asarray(a[i]), backend.asarray(b[i]))
        np.testing.assert_allclose(backend.to_numpy(got)[i], backend.to_numpy(want),
                                   rtol=1e-12)

# -- linalg.tensorinv, linalg.tensorsolve ------------------------------------------------------


@pytest.mark.parametrize("shape,ind", [((4, 6, 8, 3), 2), ((24, 4, 6), 1), ((3, 3), 1),
                                       ((2, 3, 6), 2), ((2, 2, 2, 2, 2, 2), 3)])
@pytest.mark.parametrize("dtype", ["float64", "float32", "int64"])
def test_tensorinv(backend, shape, ind, dtype):
    a = RNG.normal(size=shape)
    a = a.astype(dtype) if dtype != "int64" else np.round(a * 3).astype(dtype) + \
        np.eye(np.prod(shape[:ind]), dtype=dtype).reshape(shape) * 9
    want = np.linalg.tensorinv(a, ind=ind)
    got = fnp.linalg.tensorinv(_conv(backend, a), ind=ind)
    check(backend, got, want, rtol=1e-3 if dtype == "float32" else 1e-9, atol=1e-6)


@pytest.mark.parametrize("sa,sb,axes", [((2, 3, 6), (2, 3), None), ((6, 2, 3), (2, 3), (0,)),
                                        ((3, 4, 2, 6), (3, 4), None),
                                        ((2, 6, 3), (2, 3), (1,)), ((4, 4), (4,), None),
                                        ((2, 2, 2, 2), (2, 2), (0, 2))])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_tensorsolve(backend, sa, sb, axes, dtype):
    a = RNG.normal(size=sa).astype(dtype)
    b = RNG.normal(size=sb).astype(dtype)
    want = np.linalg.tensorsolve(a, b, axes=axes)
    got = fnp.linalg.tensorsolve(_conv(backend, a), _conv(backend, b), axes=axes)
    check(backend, got, want, rtol=1e-3 if dtype == "float32" else 1e-9, atol=1e-5)


def test_tensor_errors(backend):
    a = backend.asarray(np.ones((2, 3, 4)))
    with pytest.raises(ValueError, match="tensorinv: ind must be a positive"):
        fnp.linalg.tensorinv(a, ind=0)
    with pytest.raises(ValueError, match="tensorinv: the first 2 axes"):
        fnp.linalg.tensorinv(a)
    with pytest.raises(ValueError, match="tensorsolve: a .* must split"):
        fnp.linalg.tensorsolve(a, backend.asarray(np.ones((2, 3))))
    with pytest.raises(ValueError, match="tensorsolve: axes must list distinct"):
        fnp.linalg.tensorsolve(backend.asarray(np.ones((2, 3, 6))),
                               backend.asarray(np.ones((2, 3))), axes=(5,))


def test_tensorsolve_vmap_and_jit(backend):
    a = RNG.normal(size=(3, 2, 3, 6)) + np.eye(6).reshape(2, 3, 6) * 3
    b = RNG.normal(size=(3, 2, 3))
    got = ft.vmap(fnp.linalg.tensorsolve)(backend.asarray(a), backend.asarray(b))
    got_jit = ft.jit(ft.vmap(fnp.linalg.tensorsolve))(backend.asarray(a), backend.asarray(b))
    for i in range(3):
        want = np.linalg.tensorsolve(a[i], b[i])
        np.testing.assert_allclose(backend.to_numpy(got)[i], want, rtol=1e-10)
        np.testing.assert_allclose(backend.to_numpy(got_jit)[i], want, rtol=1e-10)

# -- introspection -----------------------------------------------------------------------------


SHAPES = [(), (3,), (2, 3), (1, 0, 2), (2, 1, 3, 1)]


@pytest.mark.parametrize("shape", SHAPES)
def test_ndim_shape_size(backend, shape):
    x = np.zeros(shape)
    a = backend.asarray(x)
    assert fnp.ndim(a) == np.ndim(x) and fnp.shape(a) == np.shape(x)
    assert fnp.size(a) == np.size(x)
    for axis in range(-len(shape), len(shape)):
        assert fnp.size(a, axis) == np.size(x, axis)
    if len(shape) >= 2:
        assert fnp.size(a, (0, -1)) == np.size(x, (0, -1))
    assert fnp.iterable(a) == np.iterable(x)
    assert fnp.isscalar(a) is False
    # tracers: under jit and vmap
    ft.jit(lambda t: (_assert_eq(fnp.shape(t), shape), t)[1])(a)
    if shape:
        ft.vmap(lambda t: (_assert_eq(fnp.shape(t), shape[1:]),
                           _assert_eq(fnp.ndim(t), len(shape) - 1),
                           _assert_eq(fnp.iterable(t), len(shape) > 1), t)[-1])(a)


def _assert_eq(a, b):
    assert a == b, (a, b)


def test_introspection_of_python_values():
    for v in [3.0, 1, [1, 2, 3], [[1.0, 2.0], [3.0, 4.0]], (1, 2), True, 1j, [], "abc"]:
        if not isinstance(v, str):
            assert fnp.ndim(v) == np.ndim(v) and fnp.shape(v) == np.shape(v)
            assert fnp.size(v) == np.size(v)
        assert fnp.isscalar(v) == np.isscalar(v), v
        assert fnp.iterable(v) == np.iterable(v), v
        assert fnp.iscomplexobj(v) == np.iscomplexobj(v), v
        assert fnp.isrealobj(v) == np.isrealobj(v), v
    for v in [np.float64(1.0), np.int8(3), np.complex64(1j), np.array(2.0)]:
        assert fnp.isscalar(v) == np.isscalar(v), v
        assert fnp.iscomplexobj(v) == np.iscomplexobj(v), v
        assert fnp.ndim(v) == 0 and fnp.size(v) == 1
    with pytest.raises(ValueError, match="out of bounds"):
        fnp.size(np.zeros((2, 3)), 2)


@pytest.mark.parametrize("dtype", ["float64", "float32", "complex128", "int64", "bool"])
def test_iscomplexobj(backend, dtype):
    x = np.zeros(3, dtype)
    a = backend.asarray(x, dtype)
    assert fnp.iscomplexobj(a) == np.iscomplexobj(x)
    assert fnp.isrealobj(a) == np.isrealobj(x)
    assert fnp.isrealobj(a) is not fnp.iscomplexobj(a)


DTYPES = ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
          "float32", "float64", "complex64", "complex128"]


@pytest.mark.parametrize("t1", DTYPES)
def test_promote_types(t1):
    for t2 in DTYPES:
        want = np.promote_types(t1, t2)
        got = fnp.promote_types(getattr(fnp, t1), t2)
        assert got is getattr(fnp, want.name), (t1, t2, got, want)
        assert fnp.promote_types(np.dtype(t1), np.dtype(t2)) == want


def test_promote_types_native_dtypes(backend):
    for t1, t2 in [("float32", "int64"), ("int8", "uint8"), ("int32", "float32"),
                   ("bool", "int16")]:
        d1 = fnp.result_type(backend.asarray(np.zeros(1, t1), t1))
        native = backend.asarray(np.zeros(1, t2), t2).dtype
        got = fnp.promote_types(d1, native)
        assert got is getattr(fnp, np.promote_types(t1, t2).name)


ABSTRACT = ["generic", "number", "integer", "signedinteger", "unsignedinteger", "inexact",
            "floating", "complexfloating"]


@pytest.mark.parametrize("t1", DTYPES)
def test_issubdtype(backend, t1):
    native = backend.asarray(np.zeros(1, t1), t1).dtype
    for arg1 in (getattr(fnp, t1), native, t1):
        for name in ABSTRACT:
            assert fnp.issubdtype(arg1, getattr(fnp, name)) == np.issubdtype(
                t1, getattr(np, name)), (arg1, name)
        for t2 in DTYPES:
            assert fnp.issubdtype(arg1, getattr(fnp, t2)) == np.issubdtype(t1, t2)
    assert fnp.issubdtype(float, fnp.floating) and not fnp.issubdtype(fnp.float32, float)
    assert fnp.issubdtype(int, fnp.signedinteger) and fnp.issubdtype(fnp.int64, int)


def test_abstract_classes_are_numpys():
    for name in ABSTRACT:
        assert getattr(fnp, name) is getattr(np, name)


@pytest.mark.parametrize("dts", [("float32",), ("float32", "int8"), ("float32", "complex64"),
                                 ("int64",), ("float64", "float32"), ("complex64",),
                                 ("uint8", "float32"), ("complex64", "float64")])
def test_common_type(backend, dts):
    arrays = [np.zeros(2, d) for d in dts]
    want = np.common_type(*arrays)
    got = fnp.common_type(*[backend.asarray(a, str(a.dtype)) for a in arrays])
    assert got is getattr(fnp, np.dtype(want).name)
    got = ft.jit(lambda *a: (_assert_eq(fnp.common_type(*a), got), a[0])[1])(
        *[backend.asarray(a, str(a.dtype)) for a in arrays])


def test_common_type_errors(backend):
    with pytest.raises(TypeError, match="common_type: can't get common type for non-numeric"):
        fnp.common_type(backend.asarray(np.zeros(2, bool), "bool"))
    assert fnp.common_type() is fnp.float16 == np.common_type()  # no arrays: NumPy's float16
    with pytest.raises(TypeError, match="common_type: expected arrays"):
        fnp.common_type([1.0])


@pytest.mark.parametrize("value,dtype", [(10, "int64"), (-10, "int64"), (300, "int64"),
                                         (70000, "int64"), (-2 ** 40, "int64"), (True, "bool"),
                                         (200, "uint8"), (1e300, "float64"),
                                         (1 + 1j, "complex128"), (3, "int32")])
def test_min_scalar_type(backend, value, dtype):
    want = np.min_scalar_type(value)
    assert fnp.min_scalar_type(value) is getattr(fnp, want.name)
    a = backend.asarray(np.asarray(value, dtype), dtype)
    want = np.min_scalar_type(np.asarray(value, dtype))
    assert fnp.min_scalar_type(a) is getattr(fnp, want.name)
    # the value of a 0-d array: there under grad, not under jit
    if dtype in ("float64", "complex128"):
        def f(x):
            assert fnp.min_scalar_type(x) is getattr(fnp, want.name)
            return fnp.real(x)
        ft.grad(f)(a)
        with pytest.raises(ConcretizationError, match="min_scalar_type: the answer"):
            ft.jit(lambda x: (fnp.min_scalar_type(x), x)[1])(a)
    big = backend.asarray(np.zeros(3, dtype), dtype)
    assert fnp.min_scalar_type(big) is getattr(fnp, dtype)


def test_min_scalar_type_float16_and_errors():
    for v in (1.0, -2.5, 65504.0, 1e5):
        assert fnp.min_scalar_type(v) is getattr(fnp, np.min_scalar_type(v).name)
    assert fnp.min_scalar_type(1.0) is fnp.float16
    with pytest.raises(TypeError, match="min_scalar_type: expected a number"):
        fnp.min_scalar_type("a")


def test_mintypecode(backend):
    cases = [(["d", "f", "S"], {}), ("dF", {}), (["i", "l"], {}), (["f"], {}),
             (["F", "d"], {}), (["f", "d"], {"typeset": "fd"}), ("G", {}),
             (["i"], {"default": "f"}), ([], {}), (["F"], {"typeset": "DF"})]
    for chars, kw in cases:
        assert fnp.mintypecode(chars, **kw) == np.mintypecode(chars, **kw), (chars, kw)
    arrays = [np.zeros(2, "float32"), np.zeros(2, "complex128"), np.zeros(2, "int64")]
    for a in arrays:
        got = fnp.mintypecode([backend.asarray(a, str(a.dtype)), "f"])
        assert got == np.mintypecode([a, "f"]), a.dtype


@pytest.mark.parametrize("dtype", ["int8", "int16", "int32", "int64", "uint8", "uint16",
                                   "uint32", "uint64", "bool"])
def test_bitwise_count(backend, dtype):
    info = np.iinfo(dtype) if dtype != "bool" else None
    if info is None:
        x = np.array([True, False, True])
    else:
        vals = [0, 1, 2, 3, 7, 8, 100, info.max, info.min, info.max - 1, info.max // 3]
        if info.min < 0:
            vals += [-1, -2, -7, info.min + 1]
        x = np.array(vals, dtype=dtype)
    run(backend, "bitwise_count", x)
    run(backend, "bitwise_count", np.concatenate([x, x])[:4].reshape(2, 2))
    run(backend, "bitwise_count", np.asarray(x[-1]))
    got = ft.jit(fnp.bitwise_count)(backend.asarray(x, dtype))
    check(backend, got, np.bitwise_count(x))
    got = ft.vmap(fnp.bitwise_count)(backend.asarray(x, dtype))
    check(backend, got, np.bitwise_count(x))


def test_bitwise_count_python_and_errors(backend):
    assert int(fnp.bitwise_count(7)) == 3
    with pytest.raises(TypeError, match="bitwise_count: only integer"):
        fnp.bitwise_count(backend.asarray(np.ones(2)))


def test_bitwise_aliases(backend):
    assert fnp.invert is fnp.bitwise_invert and fnp.bitwise_not is fnp.bitwise_invert
    assert fnp.left_shift is fnp.bitwise_left_shift
    assert fnp.right_shift is fnp.bitwise_right_shift
    x = np.array([1, -3, 12], dtype="int64")
    a = backend.asarray(x, "int64")
    check(backend, fnp.invert(a), np.invert(x))
    check(backend, fnp.left_shift(a, 2), np.left_shift(x, 2))
    check(backend, fnp.right_shift(a, 1), np.right_shift(x, 1))

# -- asarray variants --------------------------------------------------------------------------


@pytest.mark.parametrize("value", [np.array(2.5), np.array([1.0, 2.0]), np.ones((2, 3)),
                                   np.array([1, 2], dtype="int32")])
@pytest.mark.parametrize("dtype", [None, "float32", "float64"])
def test_asarray_variants(backend, value, dtype):
    a = backend.asarray(value, str(value.dtype))
    for name in ("asanyarray", "ascontiguousarray", "asarray_chkfinite"):
        want = getattr(np, name)(value, dtype=dtype)
        got = getattr(fnp, name)(a, dtype=None if dtype is None else getattr(fnp, dtype))
        check(backend, got, want)
    want = np.require(value, dtype=dtype, requirements=["C", "A"])
    check(backend, fnp.require(a, dtype=dtype, requirements=["C", "A"]), want)
    out = fnp.require(a, requirements="W")
    check(backend, out, value)
    assert out is not a
    out = fnp.asanyarray(a, copy=True)
    check(backend, out, value)
    assert out is not a


def test_asarray_variants_python_values():
    for name in ("asanyarray", "ascontiguousarray", "asarray_chkfinite"):
        for v in (3.0, [1.0, 2.0], [[1, 2]], 2):
            want, got = getattr(np, name)(v), getattr(fnp, name)(v)
            assert np.asarray(got).shape == want.shape and np.asarray(got).dtype == want.dtype
            np.testing.assert_array_equal(np.asarray(got), want)


def test_asarray_variants_errors(backend):
    bad = backend.asarray(np.array([1.0, np.inf]))
    with pytest.raises(ValueError, match="asarray_chkfinite: array must not contain infs"):
        fnp.asarray_chkfinite(bad)
    with pytest.raises(ValueError, match="asarray_chkfinite: array must not contain infs"):
        fnp.asarray_chkfinite(backend.asarray(np.array([np.nan])))
    check(backend, fnp.asarray_chkfinite(backend.asarray(np.array([3, 4]), "int64")),
          np.array([3, 4]))
    # grad has the values: checked; jit does not: returned unchecked (documented)
    with pytest.raises(ValueError, match="asarray_chkfinite"):
        ft.grad(lambda x: fnp.sum(fnp.asarray_chkfinite(x)))(bad)
    out = ft.jit(fnp.asarray_chkfinite)(bad)
    assert np.isinf(backend.to_numpy(out)[1])
    with pytest.raises(ValueError, match="asanyarray: order must be one of"):
        fnp.asanyarray(bad, order="X")
    same = fnp.ascontiguousarray(bad, like=bad)  # an array stays itself; like= places data
    assert backend.is_own(same)
    with pytest.raises(ValueError, match='require: cannot specify both "C" and "F"'):
        fnp.require(bad, requirements=["C", "F"])
    with pytest.raises(KeyError, match="require: unknown requirement"):
        fnp.require(bad, requirements=["Z"])

# -- roots, poly of a matrix (need the 'eig' extra: not on array-api-strict) ----------------


def _has_eig(backend):
    # the standard has no eig of a general matrix: array-api-strict, and a library reached
    # through its namespace alone (jax case), have none
    return backend.backend.has_extra("eig")


def _needs_eig(backend):
    if not _has_eig(backend):
        pytest.skip(f"{backend.name} has no eig (the standard's linalg has none for a "
                    f"general matrix: linalg.eigvals raises there)")


ROOTS = [[1, -3, 2], [1.0, 0.0, 1.0], [0, 0, 1, -3, 2, 0, 0], [0, 0], [], [5.0], [0, 5, 0],
         [1, 2, 3, 4], [2.0, -1.0, 0.5, 3.0, -2.0], [1.0, 0.0], [0.0, 3.0, 1.0],
         [1.0, -6.0, 11.0, -6.0]]


@pytest.mark.parametrize("case", range(len(ROOTS)))
@pytest.mark.parametrize("dtype", ["float64", "float32", "int64", "complex128"])
def test_roots(backend, case, dtype):
    _needs_eig(backend)
    p = np.asarray(ROOTS[case], dtype=dtype)
    want = np.roots(p)
    got = fnp.roots(_conv(backend, p))
    assert backend.is_own(got)
    g = backend.to_numpy(got)
    assert g.shape == want.shape and g.dtype == want.dtype, (g, want)
    tol = 1e-4 if dtype == "float32" else 1e-9
    np.testing.assert_allclose(np.sort_complex(g), np.sort_complex(want), rtol=tol, atol=tol)


def test_roots_complex_coefficients_and_lists(backend):
    _needs_eig(backend)
    p = np.array([1j, 2.0, 3.0])
    got = backend.to_numpy(fnp.roots(backend.asarray(p, "complex128")))
    np.testing.assert_allclose(np.sort_complex(got), np.sort_complex(np.roots(p)), rtol=1e-12)
    got = np.asarray(fnp.roots([1, -3, 2]))
    np.testing.assert_allclose(np.sort(got), [1.0, 2.0], rtol=1e-12)


def test_roots_errors_and_staging(backend):
    with pytest.raises(ValueError, match="roots: input must be a rank-1 array"):
        fnp.roots(backend.asarray(np.ones((2, 2))))
    with pytest.raises(ConcretizationError, match="jit of"):
        ft.jit(fnp.roots)(backend.asarray(np.array([1.0, -3.0, 2.0])))
    with pytest.raises(ConcretizationError):
        ft.vmap(fnp.roots)(backend.asarray(np.array([[1.0, -3.0, 2.0]])))


def test_roots_gradient(backend):
    """d(root)/dp for a simple root r of p: -(dp/dp_i)(r) / p'(r) = -r^(n-i) / p'(r)."""
    _needs_eig(backend)
    p = np.array([1.0, -3.0, 2.0])  # roots 1, 2

    def largest(p):
        return fnp.max(fnp.roots(p))
    g = backend.to_numpy(ft.grad(largest)(backend.asarray(p)))
    r, dp = 2.0, 2 * 2.0 - 3.0
    np.testing.assert_allclose(g, [-r ** 2 / dp, -r / dp, -1.0 / dp], rtol=1e-10)


@pytest.mark.parametrize("a", [[[1.0, 2.0], [3.0, 4.0]], [[0.0, -1.0], [1.0, 0.0]],
                               [[2.0, 0.0, 1.0], [0.5, 1.0, 0.0], [1.0, 3.0, -1.0]], [[4.0]]])
def test_poly_of_a_matrix(backend, a):
    _needs_eig(backend)
    a = np.asarray(a)
    want = np.poly(a)
    got = fnp.poly(backend.asarray(a))
    check(backend, got, want, rtol=1e-10, atol=1e-12)


def test_poly_of_a_matrix_without_eig(backend):
    if _has_eig(backend):
        pytest.skip(f"{backend.name} has eig")
    with pytest.raises(Exception, match="eig"):
        fnp.poly(backend.asarray(np.eye(2)))
