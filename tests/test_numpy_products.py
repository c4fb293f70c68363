"""NumPy's products in functrans.numpy (einsum, dot, inner, outer, vdot, kron, matvec, vecmat,
cross, trace, diagonal, diag, diagflat) and linalg's norm, multi_dot and cond: values, shapes
and dtypes against NumPy on every backend, error cases, and vmap against a Python loop."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp

LA = fnp.linalg


def _data(shape, dtype="float64", seed=0):
    rng = np.random.default_rng(seed + 7 * len(shape) + sum(shape))
    if dtype == "bool":
        return rng.integers(0, 2, shape).astype(bool)
    if np.dtype(dtype).kind in "iu":
        return rng.integers(0, 5, shape).astype(dtype)
    if np.dtype(dtype).kind == "c":
        return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


def _check(backend, got, want, rtol=1e-10, atol=1e-12):
    """``got`` is an array of the backend, with NumPy's shape, dtype and values."""
    assert backend.is_own(got), type(got)
    g = backend.to_numpy(got)
    want = np.asarray(want)
    assert g.shape == want.shape, (g.shape, want.shape)
    assert g.dtype == want.dtype, (g.dtype, want.dtype)
    if want.dtype.kind in "biu":
        np.testing.assert_array_equal(g, want)
    else:
        np.testing.assert_allclose(g, want, rtol=rtol, atol=atol)


def _args(backend, shapes, dtype="float64", seed=0):
    datas = [_data(s, dtype, seed + i) for i, s in enumerate(shapes)]
    return datas, [backend.asarray(d, dtype=dtype) for d in datas]

# -- einsum ----------------------------------------------------------------------------------


EINSUM_CASES = [
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("ij,jk", [(2, 3), (3, 4)]),
    ("i,i->", [(3,), (3,)]),
    ("i,i", [(3,), (3,)]),
    ("i,j->ij", [(3,), (4,)]),
    ("i,j", [(3,), (4,)]),
    ("...ij,...jk", [(2, 3, 4), (4, 5)]),
    ("...ij,...jk->...ik", [(2, 1, 3, 4), (5, 4, 2)]),
    ("ijk,kj->i", [(2, 3, 4), (4, 3)]),
    ("ii->i", [(3, 3)]),
    ("ii", [(3, 3)]),
    ("iij->j", [(3, 3, 4)]),
    ("iji->j", [(3, 2, 3)]),
    ("iijj->ij", [(2, 2, 3, 3)]),
    ("iii->i", [(3, 3, 3)]),
    ("ij->ji", [(2, 3)]),
    ("ij->", [(2, 3)]),
    ("ij", [(2, 3)]),
    ("ji", [(2, 3)]),
    ("aB", [(2, 3)]),
    ("Ba", [(2, 3)]),
    ("ijkl->lkji", [(2, 3, 1, 2)]),
    ("...", [(2, 3)]),
    ("...->", [()]),
    ("...i->i", [(3,)]),
    ("i...->...", [(2, 3, 4)]),
    ("...i->...", [(2, 3, 4)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]),
    ("ab,bc,cd,de", [(2, 3), (3, 4), (4, 5), (5, 2)]),
    ("bn,anm,bm->ba", [(2, 3), (4, 3, 5), (2, 5)]),
    ("i,i,i->i", [(3,), (3,), (3,)]),
    ("ab,ab,ab->", [(2, 3), (2, 3), (2, 3)]),
    ("ab,cd->", [(2, 3), (4, 5)]),
    ("ab,cd->da", [(2, 3), (4, 5)]),
    ("ij,ij->i", [(2, 3), (2, 3)]),
    ("ij,ij->ij", [(2, 3), (2, 3)]),
    ("ij,ij", [(2, 3), (2, 3)]),
    ("i,i", [(1,), (3,)]),
    ("ij,j->i", [(2, 1), (3,)]),
    ("...,...", [(2, 1), (3,)]),
    ("...i,...i->...", [(4, 1, 3), (2, 3)]),
    (" i j , j k -> i k ", [(2, 3), (3, 4)]),
    ("ij,jk->", [(2, 3), (3, 4)]),
    ("i,->i", [(3,), ()]),
    (",->", [(), ()]),
    ("", [()]),
    ("abc,cd,ad->b", [(2, 3, 4), (4, 5), (2, 5)]),
    ("ijk,ijk,ik->j", [(2, 3, 4), (2, 3, 4), (2, 4)]),
    ("ij,jk,kl,lm,mn->in", [(2, 3), (3, 2), (2, 4), (4, 2), (2, 3)]),
    ("ii,i->i", [(3, 3), (3,)]),
    ("i,i", [(0,), (0,)]),
    ("ij,jk->ik", [(2, 0), (0, 3)]),
]


@pytest.mark.parametrize("optimize", [False, True, "greedy", "optimal"])
@pytest.mark.parametrize("subscripts,shapes", EINSUM_CASES,
                         ids=[f"{s.strip() or 'empty'}-{i}" for i, (s, _) in
                              enumerate(EINSUM_CASES)])
def test_einsum_values(backend, subscripts, shapes, optimize):
    data, args = _args(backend, shapes)
    _check(backend, fnp.einsum(subscripts, *args, optimize=optimize),
           np.einsum(subscripts, *data))


@pytest.mark.parametrize("dtype", ["float32", "int32", "int64", "int8", "uint8", "bool",
                                   "complex128"])
@pytest.mark.parametrize("subscripts,shapes", [
    ("ij,jk->ik", [(2, 3), (3, 4)]), ("i,i", [(3,), (3,)]), ("ij->", [(2, 3)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]), ("ij,ij->i", [(2, 3), (2, 3)]),
    ("ii->i", [(3, 3)]), ("i,j->ij", [(2,), (3,)])])
def test_einsum_dtypes(backend, subscripts, shapes, dtype):
    data, args = _args(backend, shapes, dtype)
    _check(backend, fnp.einsum(subscripts, *args), np.einsum(subscripts, *data), rtol=1e-5)


def test_einsum_python_numbers_and_dtype(backend):
    data, (x,) = _args(backend, [(3,)], "float32")
    _check(backend, fnp.einsum("i,->i", x, 2.5), np.einsum("i,->i", data[0], 2.5), rtol=1e-6)
    idata, (i,) = _args(backend, [(2, 3)], "int64")
    _check(backend, fnp.einsum("ij,->i", i, 0.5), np.einsum("ij,->i", idata[0], 0.5))
    _check(backend, fnp.einsum("ij->j", i, dtype=fnp.float64),
           np.einsum("ij->j", idata[0], dtype=np.float64))
    _check(backend, fnp.einsum("ij->j", i, dtype="float32", casting="unsafe"),
           np.einsum("ij->j", idata[0], dtype="float32", casting="unsafe"), rtol=1e-6)
    with pytest.raises(TypeError, match="einsum: cannot cast operands from float32 to int32"):
        fnp.einsum("i->", x, dtype=fnp.int32)
    _check(backend, fnp.einsum("ij,jk", i, fnp.matrix_transpose(i), order="F"),
           np.einsum("ij,jk", idata[0], idata[0].T))


def test_einsum_sublist_form(backend):
    data, (a, b) = _args(backend, [(2, 3), (3, 4)])
    _check(backend, fnp.einsum(a, [0, 1], b, [1, 2], [0, 2]),
           np.einsum(data[0], [0, 1], data[1], [1, 2], [0, 2]))
    _check(backend, fnp.einsum(a, [1, 0]), np.einsum(data[0], [1, 0]))
    _check(backend, fnp.einsum(a, [27, 26]), np.einsum(data[0], [27, 26]))
    _check(backend, fnp.einsum(a, [Ellipsis, 0], b, [0, 1], [Ellipsis, 1]),
           np.einsum(data[0], [Ellipsis, 0], data[1], [0, 1], [Ellipsis, 1]))


def test_einsum_greedy_path_contracts_the_small_pair_first():
    """With three operands, ``optimize`` picks the cheap pair (the result is the same)."""
    a, b, c = _data((30, 2)), _data((2, 30)), _data((30,))
    graph_plain = ft.make_graph(lambda a, b, c: fnp.einsum("ij,jk,k->i", a, b, c))(a, b, c)
    graph_greedy = ft.make_graph(lambda a, b, c: fnp.einsum("ij,jk,k->i", a, b, c,
                                                            optimize="greedy"))(a, b, c)
    np.testing.assert_allclose(fnp.einsum("ij,jk,k->i", a, b, c, optimize=True),
                               np.einsum("ij,jk,k->i", a, b, c))
    # left to right makes the 30 x 30 product; greedy contracts b with c first
    assert "f64[30,30]" in str(graph_plain)
    assert "f64[30,30]" not in str(graph_greedy) and "tensordot" in str(graph_greedy)


@pytest.mark.parametrize("call,match", [
    (lambda a, b: fnp.einsum("ij,jk->ik", a), "name 2 operands but 1 were given"),
    (lambda a, b: fnp.einsum("ij,jk->ik", a, a), "could not be broadcast"),
    (lambda a, b: fnp.einsum("ijk", a), "has 3 subscripts but its operand has 2"),
    (lambda a, b: fnp.einsum("i", a), "has 1 subscripts but its operand has 2"),
    (lambda a, b: fnp.einsum("i1", a), "invalid character '1'"),
    (lambda a, b: fnp.einsum("ij->k", a), "output subscript 'k' does not appear"),
    (lambda a, b: fnp.einsum("ij->ii", a), "appears more than once"),
    (lambda a, b: fnp.einsum("...j->j", b), "no '...' to put them"),
    (lambda a, b: fnp.einsum("i..j->", a), "invalid '.'"),
    (lambda a, b: fnp.einsum("...i...->", a), "invalid '.'"),
    (lambda a, b: fnp.einsum("ij->i->j", a), "invalid '->'"),
    (lambda a, b: fnp.einsum("ij-i", a), "invalid '->'"),
    (lambda a, b: fnp.einsum("ii", a), "different lengths"),
    (lambda a, b: fnp.einsum("ij", a, out=a), "out= is not supported"),
    (lambda a, b: fnp.einsum("ij", a, optimize="fast"), "optimize must be"),
    (lambda a, b: fnp.einsum("ij", a, casting="maybe"), "casting must be"),
    (lambda a, b: fnp.einsum("ij", a, order="Z"), "order must be"),
    (lambda a, b: fnp.einsum("ij"), "at least one operand"),
    (lambda a, b: fnp.einsum(a, [0, 52]), "integers in"),
])
def test_einsum_errors(backend, call, match):
    _, (a, b) = _args(backend, [(2, 3), (2, 3, 4)])
    with pytest.raises((ValueError, TypeError, NotImplementedError), match=match):
        call(a, b)


def test_einsum_vmap_matches_a_loop(backend):
    data, (a, b) = _args(backend, [(4, 2, 3), (3, 5)])
    got = ft.vmap(lambda x: fnp.einsum("ij,jk->ki", x, b))(a)
    want = np.stack([np.einsum("ij,jk->ki", data[0][n], data[1]) for n in range(4)])
    _check(backend, got, want)
    # a diagonal and a contraction, batched on both operands
    data2, (c, d) = _args(backend, [(4, 3, 3), (4, 3)])
    got = ft.vmap(lambda x, y: fnp.einsum("ii,i->", x, y))(c, d)
    want = np.stack([np.einsum("ii,i->", data2[0][n], data2[1][n]) for n in range(4)])
    _check(backend, got, want)


def test_einsum_does_not_mutate_and_grad_matches_numpy_formula():
    a, b = _data((2, 3)), _data((3, 4))
    a0, b0 = a.copy(), b.copy()
    g = ft.grad(lambda x: fnp.sum(fnp.einsum("ij,jk->ik", x, b)))(a)
    np.testing.assert_allclose(g, np.ones((2, 4)) @ b.T)
    np.testing.assert_array_equal(a, a0)
    np.testing.assert_array_equal(b, b0)

# -- dot, inner, outer, vdot, kron -------------------------------------------------------------


DOT_SHAPES = [((), ()), ((), (3,)), ((2, 3), ()), ((3,), (3,)), ((2, 3), (3, 4)),
              ((2, 3), (3,)), ((3,), (3, 4)), ((2, 4, 3), (3,)), ((2, 4, 3), (5, 3, 2)),
              ((3,), (2, 3, 4)), ((2, 3), (4, 3, 2)), ((0, 3), (3, 2)), ((2, 0), (0, 3))]


@pytest.mark.parametrize("dtype", ["float64", "float32", "int64", "int32", "bool", "complex128"])
@pytest.mark.parametrize("shapes", DOT_SHAPES, ids=str)
def test_dot(backend, shapes, dtype):
    data, args = _args(backend, shapes, dtype)
    _check(backend, fnp.dot(*args), np.dot(*data), rtol=1e-5)


def test_dot_python_numbers(backend):
    data, (x,) = _args(backend, [(2, 3)])
    _check(backend, fnp.dot(x, 2.0), np.dot(data[0], 2.0))
    _check(backend, fnp.dot(3, x), np.dot(3, data[0]))


INNER_SHAPES = [((), ()), ((3,), ()), ((3,), (3,)), ((2, 3), (3,)), ((2, 3), (4, 3)),
                ((2, 5, 3), (4, 3)), ((3,), (2, 4, 3)), ((0, 3), (2, 3))]


@pytest.mark.parametrize("dtype", ["float64", "float32", "int32", "bool", "complex128"])
@pytest.mark.parametrize("shapes", INNER_SHAPES, ids=str)
def test_inner(backend, shapes, dtype):
    data, args = _args(backend, shapes, dtype)
    _check(backend, fnp.inner(*args), np.inner(*data), rtol=1e-5)


@pytest.mark.parametrize("dtype", ["float64", "float32", "int32", "bool"])
@pytest.mark.parametrize("shapes", [((), ()), ((3,), (4,)), ((2, 3), (4,)), ((2, 2), (3, 1, 2)),
                                    ((0,), (3,))], ids=str)
def test_outer(backend, shapes, dtype):
    data, args = _args(backend, shapes, dtype)
    _check(backend, fnp.outer(*args), np.outer(*data), rtol=1e-6)


@pytest.mark.parametrize("dtype", ["float64", "float32", "int32", "bool", "complex128"])
@pytest.mark.parametrize("shapes", [((), ()), ((3,), (3,)), ((2, 3), (6,)), ((2, 3), (3, 2)),
                                    ((0,), (0,))], ids=str)
def test_vdot(backend, shapes, dtype):
    data, args = _args(backend, shapes, dtype)
    _check(backend, fnp.vdot(*args), np.vdot(*data), rtol=1e-5)


@pytest.mark.parametrize("dtype", ["float64", "float32", "int32", "complex128"])
@pytest.mark.parametrize("shapes", [((), ()), ((2,), (3,)), ((2, 3), (2, 2)), ((3,), (2, 2)),
                                    ((2, 1, 2), (3, 2)), ((2, 2), ())], ids=str)
def test_kron(backend, shapes, dtype):
    data, args = _args(backend, shapes, dtype)
    _check(backend, fnp.kron(*args), np.kron(*data), rtol=1e-6)


def test_kron_bool(backend):
    data, args = _args(backend, [(2, 2), (3,)], "bool")
    _check(backend, fnp.kron(*args), np.kron(*data))


@pytest.mark.parametrize("fn,shapes,match", [
    (fnp.dot, ((2, 3), (2, 3)), "not aligned"), (fnp.dot, ((3,), (4,)), "not aligned"),
    (fnp.inner, ((2, 3), (2,)), "last axes"), (fnp.vdot, ((3,), (4,)), "different sizes"),
])
def test_dot_errors(backend, fn, shapes, match):
    _, args = _args(backend, shapes)
    with pytest.raises(ValueError, match=match):
        fn(*args)


def test_out_is_refused(backend):
    _, (a, b) = _args(backend, [(2, 2), (2, 2)])
    for fn in (fnp.dot, fnp.outer):
        with pytest.raises(NotImplementedError, match=f"{fn.__name__}: out="):
            fn(a, b, out=a)
    with pytest.raises(NotImplementedError, match="trace: out="):
        fnp.trace(a, out=a)
    with pytest.raises(NotImplementedError, match="multi_dot: out="):
        LA.multi_dot([a, b], out=a)

# -- matvec, vecmat ------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float64", "float32", "int32", "complex128", "bool"])
@pytest.mark.parametrize("shapes", [((2, 3), (3,)), ((4, 2, 3), (3,)), ((2, 3), (4, 3)),
                                    ((5, 1, 2, 3), (4, 3)), ((0, 2, 3), (3,))], ids=str)
def test_matvec(backend, shapes, dtype):
    data, args = _args(backend, shapes, dtype)
    _check(backend, fnp.matvec(*args), np.matvec(*data), rtol=1e-5)


@pytest.mark.parametrize("dtype", ["float64", "float32", "int32", "complex128", "bool"])
@pytest.mark.parametrize("shapes", [((3,), (3, 2)), ((3,), (4, 3, 2)), ((4, 3), (3, 2)),
                                    ((4, 3), (5, 1, 3, 2))], ids=str)
def test_vecmat(backend, shapes, dtype):
    data, args = _args(backend, shapes, dtype)
    _check(backend, fnp.vecmat(*args), np.vecmat(*data), rtol=1e-5)


def test_matvec_vecmat_dtype_and_errors(backend):
    data, (m, v) = _args(backend, [(2, 3), (3,)], "int64")
    _check(backend, fnp.matvec(m, v, dtype="float64"), np.matvec(*data, dtype="float64"))
    with pytest.raises(ValueError, match="matvec: needs"):
        fnp.matvec(v, v)
    with pytest.raises(ValueError, match="vecmat: needs"):
        fnp.vecmat(m, m)
    with pytest.raises(NotImplementedError, match="matvec: the ufunc keywords"):
        fnp.matvec(m, v, axes=[(0, 1), 0, 0])
    with pytest.raises(NotImplementedError, match="vecmat: out="):
        fnp.vecmat(v, m, out=v)

# -- cross ---------------------------------------------------------------------------------------


CROSS_CASES = [((3,), (3,), {}), ((4, 3), (3,), {}), ((2, 1, 3), (4, 3), {}),
               ((3, 4), (4, 3), dict(axisa=0, axisb=1, axisc=0)),
               ((2, 1, 3), (4, 3), dict(axisc=1)), ((3, 2), (3, 1), dict(axis=0)),
               ((2, 3, 5), (3,), dict(axisa=1, axisc=-2))]
CROSS_2D = [((2,), (2,), {}), ((4, 2), (3,), {}), ((3,), (4, 2), {}), ((3, 2), (2,), {}),
            ((2, 4), (2, 4), dict(axis=0))]


@pytest.mark.parametrize("dtype", ["float64", "float32", "int32", "complex128"])
@pytest.mark.parametrize("case", CROSS_CASES, ids=str)
def test_cross(backend, case, dtype):
    s1, s2, kw = case
    data, args = _args(backend, [s1, s2], dtype)
    _check(backend, fnp.cross(*args, **kw), np.cross(*data, **kw), rtol=1e-5)


@pytest.mark.parametrize("case", CROSS_2D, ids=str)
def test_cross_of_2_vectors_warns_as_numpy(backend, case):
    s1, s2, kw = case
    data, args = _args(backend, [s1, s2])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        want = np.cross(*data, **kw)
    with pytest.warns(DeprecationWarning, match="2-element vectors are deprecated"):
        got = fnp.cross(*args, **kw)
    _check(backend, got, want)


def test_cross_errors(backend):
    _, (a, b) = _args(backend, [(4,), (3,)])
    with pytest.raises(ValueError, match="incompatible vector lengths 4 and 3"):
        fnp.cross(a, b)
    with pytest.raises(ValueError, match="out of bounds"):
        fnp.cross(b, b, axisa=2)

# -- trace, diagonal, diag, diagflat ---------------------------------------------------------


DIAG_CASES = [((3, 4), {}), ((3, 4), dict(offset=1)), ((3, 4), dict(offset=-2)),
              ((3, 4), dict(offset=7)), ((3, 4, 5), {}), ((3, 4, 5), dict(offset=1)),
              ((3, 4, 5), dict(offset=-2, axis1=2, axis2=0)),
              ((3, 4, 5), dict(axis1=-1, axis2=1)), ((2, 3, 4, 5), dict(axis1=1, axis2=3)),
              ((0, 3), {})]


@pytest.mark.parametrize("dtype", ["float64", "float32", "int32", "uint8", "bool"])
@pytest.mark.parametrize("case", DIAG_CASES, ids=str)
def test_diagonal_and_trace(backend, case, dtype):
    shape, kw = case
    data, (x,) = _args(backend, [shape], dtype)
    _check(backend, fnp.diagonal(x, **kw), np.diagonal(data[0], **kw))
    _check(backend, fnp.trace(x, **kw), np.trace(data[0], **kw), rtol=1e-5)


def test_trace_dtype_and_positional_parameters(backend):
    data, (x,) = _args(backend, [(3, 4, 5)], "int32")
    _check(backend, fnp.trace(x, 1, 2, 0, fnp.float32), np.trace(data[0], 1, 2, 0, np.float32))
    _check(backend, fnp.diagonal(x, -1, 1, 2), np.diagonal(data[0], -1, 1, 2))


@pytest.mark.parametrize("dtype", ["float64", "float32", "int32", "bool"])
@pytest.mark.parametrize("shape", [(3,), (3, 4), (4, 3), (0,), (1,)], ids=str)
@pytest.mark.parametrize("k", [0, 1, -2, 5])
def test_diag_and_diagflat(backend, shape, k, dtype):
    data, (x,) = _args(backend, [shape], dtype)
    _check(backend, fnp.diag(x, k), np.diag(data[0], k))
    _check(backend, fnp.diagflat(x, k=k), np.diagflat(data[0], k=k))


def test_diag_errors(backend):
    _, (x, v) = _args(backend, [(2, 3, 4), (3,)])
    with pytest.raises(ValueError, match="diag: the input must be 1-d or 2-d"):
        fnp.diag(x)
    with pytest.raises(ValueError, match="diagonal: needs an array of at least 2"):
        fnp.diagonal(v)
    with pytest.raises(ValueError, match="cannot be the same axis"):
        fnp.diagonal(x, axis1=1, axis2=-2)
    _check(backend, fnp.diagflat(x), np.diagflat(_data((2, 3, 4))))

# -- linalg: norm, multi_dot, cond -----------------------------------------------------------


NORM_CASES = [((4,), {}), ((2, 3), {}), ((2, 3, 4), {}), ((2, 3), dict(keepdims=True)),
              ((2, 3, 4), dict(keepdims=True)), ((0,), {}), ((0, 3), {})]
NORM_CASES += [((5,), dict(ord=o)) for o in (None, 2, 1, 0, 3, -1, 0.5, np.inf, -np.inf)]
NORM_CASES += [((3, 4), dict(ord=o)) for o in (None, "fro", "nuc", 1, -1, 2, -2, np.inf,
                                               -np.inf)]
NORM_CASES += [((2, 3, 4), dict(axis=1)), ((2, 3, 4), dict(axis=-1, ord=1, keepdims=True)),
               ((2, 3, 4), dict(axis=(0,), ord=np.inf)),
               ((2, 3, 4), dict(axis=(2, 0), ord=1, keepdims=True)),
               ((2, 3, 4), dict(axis=(-1, -2), ord=np.inf)),
               ((2, 3, 4), dict(axis=(1, 2), ord="nuc")),
               ((2, 3, 4), dict(axis=(0, 2), ord=-2, keepdims=True)),
               ((3, 4), dict(ord=2, keepdims=True)), ((4,), dict(ord=1, keepdims=True))]


@pytest.mark.parametrize("dtype", ["float64", "float32", "int64", "complex128"])
@pytest.mark.parametrize("case", NORM_CASES, ids=str)
def test_norm(backend, case, dtype):
    shape, kw = case
    data, (x,) = _args(backend, [shape], dtype)
    with np.errstate(all="ignore"):
        want = np.linalg.norm(data[0], **kw)
    _check(backend, LA.norm(x, **kw), want, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kw,match", [
    (dict(ord="fro", axis=0), "invalid norm order 'fro' for vectors"),
    (dict(ord=3), "invalid norm order 3 for matrices"),
    (dict(axis=(0, 1, 2)), "axis must name 1 or 2 axes"),
    (dict(axis=(1, -2)), "duplicate axes"),
    (dict(ord=1, axis=None), "needs a 1-d or 2-d array"),
])
def test_norm_errors(backend, kw, match):
    _, (x,) = _args(backend, [(2, 3, 4)])
    if kw.get("ord") == 3:
        _, (x,) = _args(backend, [(2, 3)])
    with pytest.raises(ValueError, match=match):
        LA.norm(x, **kw)


@pytest.mark.parametrize("dtype", ["float64", "float32", "int32"])
@pytest.mark.parametrize("shapes", [[(2, 3), (3, 4)], [(3,), (3, 4)], [(2, 3), (3,)],
                                    [(3,), (3,)],
                                    [(3,), (3, 5), (5, 2), (2, 4), (4,)],
                                    [(10, 2), (2, 10), (10, 3), (3, 1)],
                                    [(2, 10), (10, 2), (2, 10), (10,)]], ids=str)
def test_multi_dot(backend, shapes, dtype):
    data, args = _args(backend, shapes, dtype)
    _check(backend, LA.multi_dot(args), np.linalg.multi_dot(data), rtol=1e-5)


def test_multi_dot_errors(backend):
    _, (a, b, c) = _args(backend, [(2, 3), (3, 4), (2, 3, 4)])
    with pytest.raises(ValueError, match="at least two"):
        LA.multi_dot([a])
    with pytest.raises(ValueError, match="not aligned"):
        LA.multi_dot([a, a])
    with pytest.raises(ValueError, match="others must be 2-d"):
        LA.multi_dot([a, c, b])


@pytest.mark.parametrize("dtype", ["float64", "float32", "int64"])
@pytest.mark.parametrize("p", [None, 2, -2, "fro", "nuc", 1, -1, np.inf, -np.inf])
@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 4)], ids=str)
def test_cond(backend, shape, p, dtype):
    rng = np.random.default_rng(3)
    a = rng.standard_normal(shape) + 3 * np.eye(shape[-1])
    a = a.astype(dtype) if dtype != "int64" else (a * 3).round().astype(dtype)
    _check(backend, LA.cond(backend.asarray(a, dtype=dtype), p), np.linalg.cond(a, p),
           rtol=1e-4)


@pytest.mark.parametrize("p", [None, 2, -2])
def test_cond_of_rectangular_matrices(backend, p):
    data, (x,) = _args(backend, [(3, 5)])
    _check(backend, LA.cond(x, p), np.linalg.cond(data[0], p))


@pytest.mark.parametrize("p", [None, 2, -2])
def test_cond_of_a_zero_matrix_is_inf(backend, p):
    # its singular values are all 0: 0 / 0, which NumPy and JAX report as inf (it was NaN)
    a = np.zeros((2, 3, 3))
    a[1] = np.eye(3)
    with np.errstate(all="ignore"):
        want = np.linalg.cond(a, p)
    _check(backend, LA.cond(backend.asarray(a), p), want)


@pytest.mark.parametrize("p", [1, -1, "fro", "nuc", np.inf, -np.inf])
def test_cond_of_a_singular_matrix_is_inf(backend, p):
    # norm(x) * norm(inv(x)): inv raised LinAlgError (NumPy and JAX give inf); the stack's
    # other matrices keep their value, and the derivative at a regular one is unchanged
    a = np.stack([[[1.0, 2.0], [2.0, 4.0]], [[2.0, 1.0], [0.5, 3.0]], np.zeros((2, 2))])
    want = np.array([np.inf, np.linalg.cond(a[1], p), np.inf])
    _check(backend, LA.cond(backend.asarray(a), p), want)
    _check(backend, ft.jit(lambda x: LA.cond(x, p))(backend.asarray(a)), want)
    g = ft.grad(lambda x: LA.cond(x, p))(backend.asarray(a[1]))
    h = 1e-6
    fd = [(np.linalg.cond(a[1] + h * e, p) - np.linalg.cond(a[1] - h * e, p)) / (2 * h)
          for e in np.eye(4).reshape(4, 2, 2)]
    np.testing.assert_allclose(backend.to_numpy(g).ravel(), fd, rtol=1e-6)


def test_matrix_rank_of_empty_matrices(backend):
    # rank 0, as NumPy's (it raised: the tolerance's max over no singular values)
    for shape in [(0, 0), (3, 0), (2, 0, 3)]:
        want = np.linalg.matrix_rank(np.zeros(shape))
        _check(backend, LA.matrix_rank(backend.asarray(np.zeros(shape))), want)


def test_cond_errors(backend):
    _, (x, v) = _args(backend, [(3, 4), (3,)])
    with pytest.raises(ValueError, match="square"):
        LA.cond(x, 1)
    with pytest.raises(ValueError, match="invalid norm order 3"):
        LA.cond(x, 3)
    with pytest.raises(ValueError, match="cond needs matrices"):
        LA.cond(v)
    _, (e,) = _args(backend, [(0, 3)])
    with pytest.raises(ValueError, match="not defined for empty matrices"):
        LA.cond(e)

# -- vmap against a loop -----------------------------------------------------------------------


@pytest.mark.parametrize("name,fn,shapes", [
    ("dot", fnp.dot, [(4, 2, 3), (3, 2)]),
    ("inner", fnp.inner, [(4, 3), (2, 3)]),
    ("outer", fnp.outer, [(4, 3), (2,)]),
    ("vdot", fnp.vdot, [(4, 2, 3), (6,)]),
    ("kron", fnp.kron, [(4, 2, 2), (3,)]),
    ("matvec", fnp.matvec, [(4, 2, 3), (3,)]),
    ("vecmat", fnp.vecmat, [(4, 3), (3, 2)]),
    ("cross", lambda a, b: fnp.cross(a, b, axisa=0), [(4, 3, 2), (3,)]),
    ("trace", lambda a, b: fnp.trace(a, 1) + b[0], [(4, 3, 3), (3,)]),
    ("diagonal", lambda a, b: fnp.diagonal(a, 0, 1, 0) * b[0], [(4, 3, 3), (3,)]),
    ("diag", lambda a, b: fnp.diag(a, -1) * b[0], [(4, 3), (3,)]),
    ("norm", lambda a, b: LA.norm(a, 1, axis=(1, 0)) + b[0], [(4, 3, 2), (3,)]),
    ("multi_dot", lambda a, b: LA.multi_dot([b, a, a]), [(4, 3, 3), (3,)]),
    ("cond", lambda a, b: LA.cond(a, 1) + b[0], [(4, 3, 3), (3,)]),
])
def test_vmap_matches_a_loop(backend, name, fn, shapes):
    data, (a, b) = _args(backend, shapes)
    if name == "cond":
        data[0] = data[0] + 3 * np.eye(3)
        a = backend.asarray(data[0])
    got = ft.vmap(fn, in_axes=(0, None))(a, b)
    want = [fn(backend.asarray(data[0][n]), b) for n in range(shapes[0][0])]
    _check(backend, got, np.stack([backend.to_numpy(w) for w in want]))


def test_integer_einsum_keeps_its_dtype_under_jit(backend):
    """einsum sums integers in their own dtype (as NumPy), eagerly and in a jitted graph."""
    x = backend.asarray(np.arange(6).reshape(2, 3), "int32")
    for f in (lambda x: fnp.einsum("ij->", x), ft.jit(lambda x: fnp.einsum("ij,ij->i", x, x))):
        out = f(x)
        assert fnp.int32 == out.dtype and backend.is_own(out)
