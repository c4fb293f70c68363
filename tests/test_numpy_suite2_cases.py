"""The topics of JAX's tests/lax_numpy_einsum_test.py, lax_numpy_vectorize_test.py,
lax_numpy_ufuncs_test.py and polynomial_test.py, restated for functrans.numpy: einsum
(subscript patterns, optimize modes, einsum_path, dtypes, preferred_element_type),
vectorize (signatures, excluded arguments, errors, transforms), ufunc objects (frompyfunc
and the built-in ufuncs' reduce/accumulate/outer/at/reduceat) and the polynomial functions
(roots with strip_zeros, poly arithmetic and calculus, polyval, polyfit, trim_zeros).

Every case checks values, dtypes and shapes against NumPy (the full grid on plain read-only
NumPy arrays, one or two cases per function on every backend), derivatives with
functrans.testing.check_grads; where JAX is installed (not in CI) a few cases also run
side by side with jax.numpy."""

from __future__ import annotations

import itertools
import warnings
from collections import defaultdict

import numpy as np
import pytest

import functrans as ft
import functrans.lax as flax
import functrans.numpy as fnp
from functrans.errors import ShapeError
from functrans.testing import check_grads

RNG = np.random.default_rng(0)


def _ro(a):
    """A read-only copy (functrans must never write to a user's array)."""
    a = np.array(a)
    a.flags.writeable = False
    return a


def _data(shape, dtype="float64", low=0.5, high=2.0):
    dt = np.dtype(dtype)
    if dt == bool:
        return _ro(RNG.integers(0, 2, shape).astype(bool))
    if dt.kind in "iu":
        return _ro(RNG.integers(1, 5, shape).astype(dt))
    if dt.kind == "c":
        return _ro((RNG.uniform(low, high, shape) + 1j * RNG.uniform(low, high, shape))
                   .astype(dt))
    return _ro(RNG.uniform(low, high, shape).astype(dt))


def _same(got, want, rtol=1e-10, atol=1e-12):
    """``got`` has NumPy's shape, dtype and values (NaN where NumPy has NaN)."""
    g, w = np.asarray(got), np.asarray(want)
    assert g.shape == w.shape, (g.shape, w.shape)
    assert g.dtype == w.dtype, (g.dtype, w.dtype)
    if w.dtype.kind in "biu":
        np.testing.assert_array_equal(g, w)
    else:
        np.testing.assert_allclose(g, w, rtol=rtol, atol=atol, equal_nan=True)


def _tol(dtype):
    return 1e-4 if np.dtype(dtype) in (np.float32, np.complex64) else 1e-10


def _jnp():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    return jax, jnp

# -- einsum ---------------------------------------------------------------------------------------


# JAX's named cases (operand counts one to three, traces and diagonals, ellipses, broadcasting)
JAX_EINSUM = [
    ("i,j,k->ijk", [(3,), (4,), (5,)]), ("ij,j->i", [(3, 4), (4,)]),
    ("ijk,j->i", [(3, 4, 5), (4,)]), ("iji,i->j", [(3, 4, 3), (3,)]),
    ("ij,ij->", [(3, 4), (3, 4)]), ("nij,jk->nik", [(10, 2, 3), (3, 4)]),
    ("sa,shb->shab", [(2, 1), (2, 3, 4)]), ("ijk->j", [(3, 4, 5)]),
    ("ijk->kij", [(3, 4, 5)]), ("ijk->ki", [(3, 4, 5)]), ("...ijk->...ki", [(2, 3, 4, 5)]),
    ("...ijk->ki", [(3, 4, 5)]), ("ii->", [(3, 3)]), ("ij->", [(3, 3)]), ("iii->", [(3, 3, 3)]),
    ("ii->i", [(3, 3)]), ("iij->i", [(3, 3, 4)]), ("iii->i", [(3, 3, 3)]),
    ("iijkk->i", [(3, 3, 5, 4, 4)]), ("iijkk->ik", [(3, 3, 5, 4, 4)]),
    ("iijkl->il", [(3, 3, 5, 4, 4)]), ("ij->ij", [(3, 3)]),
    ("ij...,jk...->ik...", [(2, 3, 5, 1), (3, 4, 5, 1)]), ("ijj,k->ik", [(2, 3, 3), (4,)]),
    ("ij,ij,jk->ik", [(2, 3), (2, 3), (3, 4)]), ("ijkl,ijml->ijkm", [(1, 8, 20, 4)] * 2),
    ("cij,cjk->cik", [(3, 4, 5), (3, 1, 6)]), ("cij,cjk->cik", [(1, 4, 5), (3, 5, 6)]),
    ("cij,cjk->cik", [(1, 4, 5), (3, 1, 6)]), ("...ij,...j", [(2, 1, 3, 3), (2, 4, 3)]),
]


@pytest.mark.parametrize("subscripts,shapes", JAX_EINSUM, ids=[s for s, _ in JAX_EINSUM])
def test_einsum_jax_cases(subscripts, shapes):
    ops = [_data(s) for s in shapes]
    want = np.einsum(subscripts, *ops)
    for optimize in (False, "greedy"):
        _same(fnp.einsum(subscripts, *ops, optimize=optimize), want)


# the dask-derived patterns, lengths cycling through 2, 3, 4 by first appearance
DASK = ["abc,bad->abcd", "abcdef,bcdfg->abcdeg", "ea,fb,abcd,gc,hd->efgh", "ab,b", "aa",
        "a,a->", "a,a->a", "a,a", "a,b", "a,b,c", "a", "ba,b", "ba,b->", "defab,fedbc->defac",
        "ab...,bc...->ac...", "a...a", "abc...->cba...", "...ab->...a", "a...a->a...",
        "...abc,...abcd->...d", "ab...,b->ab...", "aa->a", "ab,ab,c->c", "aab,bc->ac",
        "aab,bcc->ac", "fdf,cdd,ccd,afe->ae", "fff,fae,bef,def->abd"]


def _dask_shapes(subscripts):
    lengths = itertools.cycle([2, 3, 4])
    size = defaultdict(lambda: next(lengths))
    return [tuple(size[c] for c in term.replace("...", "01"))
            for term in subscripts.split("->")[0].split(",")]


@pytest.mark.parametrize("subscripts", DASK)
def test_einsum_dask_patterns_every_dtype(subscripts):
    shapes = _dask_shapes(subscripts)
    for dtype in ("float32", "int32", "complex64", "bool"):
        ops = [_data(s, dtype) for s in shapes]
        _same(fnp.einsum(subscripts, *ops, optimize=True), np.einsum(subscripts, *ops),
              rtol=_tol(dtype), atol=_tol(dtype))


OPT_CASES = [("i->", [(3,)]), ("ii->i", [(4, 4)]), ("ij,jk", [(3, 4), (4, 3)]),
             ("ij,jkl,klm", [(2, 2), (2, 3, 4), (3, 4, 2)])]


@pytest.mark.parametrize("subscripts,shapes", OPT_CASES, ids=[s for s, _ in OPT_CASES])
def test_einsum_optimize_modes_and_paths(subscripts, shapes):
    ops = [_data(s, "float32") for s in shapes]
    want = np.einsum(subscripts, *ops)
    for optimize in (True, False, "optimal", "auto", "greedy", "eager"):
        _same(fnp.einsum(subscripts, *ops, optimize=optimize), want, rtol=1e-5)
        path, report = fnp.einsum_path(subscripts, *ops, optimize=optimize)
        assert path[0] == "einsum_path" and isinstance(report, str)
        _same(fnp.einsum(subscripts, *ops, optimize=path), want, rtol=1e-5)
        # jax.numpy's form of a path: the index tuples alone
        _same(fnp.einsum(subscripts, *ops, optimize=path[1:]), want, rtol=1e-5)
    staged = ft.jit(lambda *xs: fnp.einsum(subscripts, *xs, optimize="eager"))(*ops)
    _same(staged, want, rtol=1e-5)


def test_einsum_path_is_numpys():
    a, b, c = _data((2, 2)), _data((2, 5)), _data((5, 2))
    path, report = fnp.einsum_path("ij,jk,kl->il", a, b, c, optimize="greedy")
    want_path, want_report = np.einsum_path("ij,jk,kl->il", a, b, c, optimize="greedy")
    assert path == want_path == ["einsum_path", (1, 2), (0, 1)]
    assert report.split("\n")[0] == "  Complete contraction:  ij,jk,kl->il"
    assert report == want_report
    # a path for five operands, then followed to the value of the nested loops
    big, small = _data((4, 4, 4, 4)), _data((4, 4))
    fnp.einsum_path("ea,fb,abcd,gc,hd->efgh", small, small, big, small, small)
    s, w, v = _data((2, 6, 5)), _data((5, 4)), _data((4, 3))
    loops = np.zeros((2, 3))
    for n, c_, d, k, t in itertools.product(range(2), range(3), range(4), range(5), range(6)):
        loops[n, c_] += s[n, t, k] * w[k, d] * v[d, c_]
    path = fnp.einsum_path("ntk,kd,dc->nc", s, w, v, optimize="optimal")[0]
    _same(fnp.einsum("ntk,kd,dc->nc", s, w, v, optimize=path), loops)


def test_einsum_explicit_path_with_three_operands_is_accepted():
    """Deliberate difference: jax.numpy refuses a path contracting three operands at once
    (NotImplementedError); functrans contracts them in turn (NumPy's value). opt_einsum's
    other strategies ('dp'...) are taken, as jax.numpy takes them (tests/test_gaps_s26.py)."""
    ops = [_data(s) for s in [(2, 3), (2, 4), (2, 5)]]
    want = np.einsum("ij,ik,il->jkl", *ops)
    _same(fnp.einsum("ij,ik,il->jkl", *ops, optimize=[(0, 1, 2)]), want)
    _same(fnp.einsum("ij,ik,il->jkl", *ops, optimize=["einsum_path", (0, 1, 2)]), want)
    _same(fnp.einsum("ij,ik,il->jkl", *ops, optimize="dp"), want)


def test_einsum_diagonal_of_infinities():
    x = _ro([[[np.inf, np.inf], [1.0, 1.0]]])
    _same(fnp.einsum("baa->ba", x), np.einsum("baa->ba", x))


_DTYPES = ["bool", "int8", "int32", "int64", "uint8", "uint32", "uint64", "float16", "float32",
           "float64", "complex64", "complex128"]


def _functrans_result_type(a, b):
    """NumPy's promotion but for an integer (or bool) array with a floating one, which gives
    the floating dtype (as JAX and PyTorch; NumPy widens); uint64 with a signed integer is
    refused (None)."""
    da, db = np.dtype(a), np.dtype(b)
    if {da.kind, db.kind} == {"u", "i"} and "uint64" in (a, b):
        return None
    if da.kind in "biu" and db.kind in "fc":
        return db
    if db.kind in "biu" and da.kind in "fc":
        return da
    return np.result_type(da, db)


def test_einsum_mixed_precision():
    for a, b in itertools.product(_DTYPES, repeat=2):
        x, y = _data((10,), a), _data((10,), b)
        want = _functrans_result_type(a, b)
        if want is None:
            with pytest.raises(TypeError):
                fnp.einsum("a,a->a", x, y)
            continue
        got = fnp.einsum("a,a->a", x, y)
        ref = np.einsum("a,a->a", x.astype(want), y.astype(want))
        rtol = 50 * float(np.finfo(want).eps) if want.kind in "fc" else 0
        _same(got, ref, rtol=rtol)


def test_einsum_mixed_precision_beside_jax():
    _, jnp = _jnp()
    for a, b in itertools.product(_DTYPES, repeat=2):
        if _functrans_result_type(a, b) is None:
            continue  # (JAX gives float64; functrans refuses: docs/coming-from-jax.md)
        x, y = _data((10,), a), _data((10,), b)
        # (jax.numpy's einsum gives its promotion's dtype; compiling each pair is slow)
        assert fnp.einsum("a,a->a", x, y).dtype == jnp.result_type(x, y), (a, b)
    for a, b in [("int8", "float32"), ("bool", "uint8"), ("int32", "complex64")]:
        x, y = _data((10,), a), _data((10,), b)
        _same(fnp.einsum("a,a->a", x, y), np.asarray(jnp.einsum("a,a->a", x, y)), rtol=1e-6)


# preferred_element_type: computed in it where the operands convert without loss, else the
# product in the operands' dtype converted to it (a regression: float operands were
# truncated to an int preferred dtype first, complex ones lost their imaginary parts)
_F = np.array([[1.5, 2.25, 3.0], [7.0, 8.0, 9.5]], np.float32)
_FV = np.array([1.5, 2.0, 3.0], np.float32)


@pytest.mark.parametrize("name,call", [
    ("einsum", lambda a, b, **kw: fnp.einsum("ij,j->i", a, b, **kw)),
    ("dot", fnp.dot), ("matmul", fnp.matmul), ("inner", fnp.inner),
    ("tensordot", lambda a, b, **kw: fnp.tensordot(a, b, 1, **kw)),
    ("dot_general", lambda a, b, **kw: flax.dot_general(a, b, (((1,), (0,)), ((), ())),
                                                        **kw)),
])
def test_preferred_element_type_of_products(name, call):
    a, b = _ro(_F), _ro(_FV)
    exact = np.asarray(_F, np.float64) @ np.asarray(_FV, np.float64)
    _same(call(a, b, preferred_element_type=np.int32), np.trunc(exact).astype(np.int32))
    _same(call(a, b, preferred_element_type=np.float64), exact)
    c = _ro(_F + 0.5j)
    d = _ro(_FV * np.array([1, 1, 1j], np.complex64))
    prod = np.asarray(c, np.complex128) @ np.asarray(d, np.complex128)
    _same(call(c, d, preferred_element_type=np.float32), prod.real.astype(np.float32),
          rtol=1e-6)
    i8 = _ro(np.array([[100, 120], [7, 8]], np.int8))
    j8 = _ro(np.array([100, 2], np.int8))
    _same(call(i8, j8, preferred_element_type=np.int32),
          np.asarray(i8, np.int32) @ np.asarray(j8, np.int32))  # no int8 wrap-around


def test_preferred_element_type_of_vdot_convolve_correlate():
    a, b = _ro(_F[0]), _ro(_FV)
    a64, b64 = np.asarray(a, np.float64), np.asarray(b, np.float64)
    _same(fnp.vdot(a, b, preferred_element_type=np.int32), np.int32(np.trunc(a64 @ b64)))
    _same(fnp.convolve(a, b, preferred_element_type=np.int32),
          np.trunc(np.convolve(a64, b64)).astype(np.int32))
    _same(fnp.correlate(a, b, preferred_element_type=np.int32),
          np.trunc(np.correlate(a64, b64)).astype(np.int32))


def test_preferred_element_type_of_lax_convolutions_and_ragged_dot():
    x, w = _ro(np.full((1, 1, 3, 3), 1.5)), _ro(np.full((1, 1, 2, 2), 1.5))
    exact = np.asarray(flax.conv(x, w, (1, 1), "VALID"))
    np.testing.assert_array_equal(exact, np.full((1, 1, 2, 2), 9.0))
    _same(flax.conv(x, w, (1, 1), "VALID", preferred_element_type=np.int32),
          np.full((1, 1, 2, 2), 9, np.int32))  # not (1 * 1) * 4 = 4: not truncated first
    got = flax.conv_transpose(x, w, (1, 1), "VALID", dimension_numbers=("NCHW", "OIHW", "NCHW"),
                              preferred_element_type=np.int32)
    full = np.asarray(flax.conv_transpose(x, w, (1, 1), "VALID",
                                          dimension_numbers=("NCHW", "OIHW", "NCHW")))
    _same(got, np.trunc(full).astype(np.int32))
    i8 = _ro(np.full((1, 2, 4, 4), 100, np.int8))
    wide = flax.conv(i8, _ro(np.ones((2, 2, 2, 2), np.int8)), (1, 1), "VALID",
                     preferred_element_type=np.int32)
    _same(wide, np.full((1, 2, 3, 3), 800, np.int32))
    # ragged_dot likewise: 1.5 * 1.5 * 2 = 4.5 becomes 4 (not 1 * 1 * 2)
    ragged = flax.ragged_dot(_ro(np.full((4, 2), 1.5)), _ro(np.full((2, 2, 3), 1.5)),
                             _ro(np.array([1, 3])), preferred_element_type=np.int32)
    _same(ragged, np.full((4, 3), 4, np.int32))


def test_preferred_element_type_beside_jax():
    jax, jnp = _jnp()
    cases = [(_F, _FV, "int32"), (_F, _FV, "float64"), (_F + 0.5j, _FV + 0j, "float32"),
             (np.array([[100, 120]], np.int8), np.array([100, 3], np.int8), "int32"),
             (np.array([[True, False]]), np.array([True, True]), "int8")]
    for a, b, pref in cases:
        got = fnp.einsum("ij,j->i", a, b, preferred_element_type=pref)
        want = jnp.einsum("ij,j->i", a, b, preferred_element_type=pref)
        _same(got, np.asarray(want), rtol=1e-6)
        got = flax.dot_general(a, b, (((1,), (0,)), ((), ())), preferred_element_type=pref)
        want = jax.lax.dot_general(a, b, (((1,), (0,)), ((), ())),
                                   preferred_element_type=pref)
        _same(got, np.asarray(want), rtol=1e-6)


def test_preferred_element_type_narrowing_converts_the_result():
    """Deliberate difference: jax.numpy refuses a preferred dtype narrower than the
    operands' (int32 to int8, complex128 to complex64); functrans computes the product in
    the operands' dtype and converts it, as astype would."""
    a, b = _ro(np.array([[100, 120]], np.int32)), _ro(np.array([100, 3], np.int32))
    _same(fnp.einsum("ij,j->i", a, b, preferred_element_type=np.int8),
          (a @ b).astype(np.int8))
    c = _ro(np.array([[1 + 2j, 3j]]))
    d = _ro(np.array([2 - 1j, 1 + 1j]))
    _same(fnp.einsum("ij,j->i", c, d, preferred_element_type=np.complex64),
          (c @ d).astype(np.complex64), rtol=1e-6)


@pytest.mark.parametrize("subscripts,shapes", [
    ("ij,jk->ik", [(2, 3), (3, 4)]), ("ii->", [(3, 3)]), ("iij,jk->ik", [(2, 2, 3), (3, 2)]),
    ("...ij,...jk", [(2, 1, 2, 3), (3, 3, 2)]), ("ij,ij,jk->ik", [(2, 3), (2, 3), (3, 2)]),
    ("iji,i->j", [(2, 3, 2), (2,)]),
])
def test_einsum_derivatives(subscripts, shapes):
    ops = [np.asarray(_data(s)) for s in shapes]
    check_grads(lambda *xs: fnp.einsum(subscripts, *xs, optimize=True), tuple(ops), order=2)


def test_einsum_complex_derivative():
    a, b = np.asarray(_data((2, 3), "complex128")), np.asarray(_data((3,), "complex128"))
    check_grads(lambda x, y: fnp.einsum("ij,j->i", x, y), (a, b), order=1)


@pytest.mark.parametrize("subscripts,shapes,dtype", [
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)], "float64"),
    ("iij,...j->i...", [(3, 3, 2), (4, 2)], "int32"),
])
def test_einsum_on_every_backend(backend, subscripts, shapes, dtype):
    datas = [np.asarray(_data(s, dtype)) for s in shapes]
    args = [backend.asarray(d, dtype=dtype) for d in datas]
    got = fnp.einsum(subscripts, *args, optimize=True)
    assert backend.is_own(got)
    _same(backend.to_numpy(got), np.einsum(subscripts, *datas))
    got = fnp.einsum(subscripts, *args, preferred_element_type="float64")
    assert backend.is_own(got)
    _same(backend.to_numpy(got), np.einsum(subscripts, *datas).astype(np.float64))


def test_einsum_beside_jax():
    _, jnp = _jnp()
    for subscripts, shapes in JAX_EINSUM[:12] + [(s, _dask_shapes(s)) for s in DASK[:10]]:
        ops = [_data(s) for s in shapes]
        _same(fnp.einsum(subscripts, *ops), np.asarray(jnp.einsum(subscripts, *ops)),
              rtol=1e-12)

# -- vectorize ------------------------------------------------------------------------------------


VEC_CASES = [  # (signature, the function in terms of a namespace, argument shapes)
    ("(n,m),(m,k)->(n,k)", lambda xp: xp.dot, [(2, 3), (3, 4)]),
    ("(n,m),(m,k)->(n,k)", lambda xp: xp.dot, [(2, 3), (1, 3, 4)]),
    ("(n,m),(m,k)->(n,k)", lambda xp: xp.dot, [(5, 2, 3), (1, 3, 4)]),
    ("(n,m),(m,k)->(n,k)", lambda xp: xp.dot, [(6, 5, 2, 3), (3, 4)]),
    ("(n,m),(m)->(n)", lambda xp: xp.dot, [(2, 3), (3,)]),
    ("(n,m),(m)->(n)", lambda xp: xp.dot, [(2, 3), (1, 3)]),
    ("(n,m),(m)->(n)", lambda xp: xp.dot, [(4, 2, 3), (1, 3)]),
    ("(n,m),(m)->(n)", lambda xp: xp.dot, [(5, 4, 2, 3), (1, 3)]),
    ("(m),(m)->()", lambda xp: xp.dot, [(3,), (3,)]),
    ("(m),(m)->()", lambda xp: xp.dot, [(4, 2, 3), (3,)]),
    ("(n)->()", lambda xp: lambda x: xp.dot(x, x), [(1, 2, 3)]),
    ("(n)->()", lambda xp: xp.mean, [(1, 2, 3, 4)]),
    ("()->(n)", lambda xp: lambda x: xp.stack([x, -x]), [()]),
    ("()->(n)", lambda xp: lambda x: xp.stack([x, -x]), [(3,)]),
    ("(n)->(),(n)", lambda xp: lambda x: (xp.mean(x), x - xp.mean(x)), [(2, 3)]),
    ("(n),()->(n)", lambda xp: lambda x, s: x * s, [(2, 1, 3), (4,)]),
    ("(n)->(n)", lambda xp: xp.cumsum, [(2, 0)]),
    ("(n)->()", lambda xp: xp.sum, [(2, 0)]),
]


def _outs(v):
    return v if isinstance(v, tuple) else (v,)


@pytest.mark.parametrize("case", range(len(VEC_CASES)))
def test_vectorize_signatures_match_numpy(case):
    signature, make, shapes = VEC_CASES[case]
    args = [_data(s) for s in shapes]
    got = fnp.vectorize(make(fnp), signature=signature)(*args)
    want = np.vectorize(make(np), signature=signature)(*args)
    assert len(_outs(got)) == len(_outs(want))
    for g, w in zip(_outs(got), _outs(want)):
        _same(g, w, rtol=1e-13)


def test_vectorize_size_0_loop_needs_otypes():
    f = fnp.vectorize(lambda x: fnp.sum(x), signature="(n)->()")
    with pytest.raises(ValueError, match="otypes"):
        f(_data((0, 3)))
    g = fnp.vectorize(lambda x: fnp.sum(x), signature="(n)->()", otypes=[np.float32])
    _same(g(_data((0, 3))), np.zeros((0,), np.float32))
    h = fnp.vectorize(lambda x, y: (x + y, x * y), otypes="dl")
    for got, want in zip(h(_data((0, 2)), 1.0), (np.zeros((0, 2)), np.zeros((0, 2), int))):
        _same(got, want)


def test_vectorize_multiple_outputs_without_signature_and_keywords():
    x = _data((3,))
    got = fnp.vectorize(lambda a, b: (a + b, a * b))(x, 2.0)
    want = np.vectorize(lambda a, b: (a + b, a * b))(x, 2.0)
    for g, w in zip(got, want):
        _same(g, w)
    y = _data((2, 1))  # a keyword argument broadcasts with the positional ones
    _same(fnp.vectorize(lambda a, b: a - b)(x, b=y), np.vectorize(lambda a, b: a - b)(x, b=y))


def test_vectorize_center_two_outputs():
    center = fnp.vectorize(lambda a: (fnp.mean(a), a - fnp.mean(a)), signature="(n)->(),(n)")
    b, a = center(_ro(np.arange(3)))
    _same(b, np.float64(1.0))
    _same(a, np.arange(3) - 1.0)
    b, a = center(_ro(np.arange(6).reshape(2, 3)))
    _same(b, np.array([1.0, 4.0]))
    _same(a, np.arange(6).reshape(2, 3) - np.array([[1.0], [4.0]]))


def test_vectorize_excluded_arguments():
    seen = []

    def first(x, y):
        seen.append((x, np.ndim(y)))
        return y

    f = fnp.vectorize(first, excluded={0})
    x = _ro(np.arange(3))
    _same(f("foo", x), np.arange(3))
    _same(ft.jit(f, static_argnums=0)("foo", x), np.arange(3))
    assert seen and all(s == ("foo", 0) for s in seen)

    def second(x, y):
        assert y == "foo"
        return x

    g = fnp.vectorize(second, excluded={1})
    _same(g(x, "foo"), np.arange(3))
    _same(ft.jit(g, static_argnums=1)(x, "foo"), np.arange(3))


def test_vectorize_excluded_names_and_unused_positions_are_numpys():
    """Deliberate differences from jax.numpy (which refuses both): a keyword name may be
    excluded, and an excluded position past the arguments given is ignored, as in NumPy."""
    def scaled(a, scale=(1.0,)):
        return a * scale[0]

    x = _data((2,))
    for excluded in ({"scale"}, {1, "scale"}):
        got = fnp.vectorize(scaled, excluded=excluded)(x, scale=[3.0])
        _same(got, np.vectorize(scaled, excluded=excluded)(x, scale=[3.0]))
    _same(fnp.vectorize(scaled, excluded={1})(x), np.vectorize(scaled, excluded={1})(x))


def test_vectorize_errors():
    mm = fnp.vectorize(fnp.dot, signature="(n,m),(m,k)->(n,k)")
    with pytest.raises(TypeError, match="has 2 inputs; got 1"):
        mm(np.zeros((3, 2)))
    with pytest.raises(ShapeError, match="fewer axes than its core dimensions"):
        mm(np.zeros((2,)), np.zeros((2, 2)))
    with pytest.raises(ShapeError, match="core dimension 'm' is 3 and 4"):
        mm(np.zeros((2, 3)), np.zeros((4, 5)))
    with pytest.raises(TypeError, match="2 outputs; the function returned 1"):
        fnp.vectorize(fnp.dot, signature="(n,m),(m,k)->(n,k),()")(np.zeros((2, 2)),
                                                                   np.zeros((2, 2)))
    with pytest.raises(TypeError, match="3 outputs; the function returned 2"):
        fnp.vectorize(lambda *a: a, signature="(),()->(),(),()")(1.0, 2.0)
    with pytest.raises(ShapeError, match=r"core shape \(2, 2\)"):
        fnp.vectorize(fnp.dot, signature="(n,m),(m,k)->(n)")(np.zeros((2, 2)),
                                                              np.zeros((2, 2)))
    with pytest.raises(ValueError, match="not a valid gufunc signature"):
        fnp.vectorize(fnp.dot, signature="(n),(n)")
    # NumPy ignores a negative position silently (the argument would be vectorised)
    with pytest.raises(ValueError, match="non-negative"):
        fnp.vectorize(lambda x: x, excluded={-1})


@pytest.mark.parametrize("lead", [(), (5,)])
def test_vectorize_output_core_sizes_are_checked(lead):
    """Regression: an output whose core shape contradicts the signature's sizes ('(n,n)'
    with n = 2 from the inputs, an output of shape (2, 4)) passed silently."""
    f = fnp.vectorize(fnp.dot, signature="(n,m),(m,k)->(n,n)")
    with pytest.raises(ShapeError, match="core dimension 'n' is 2"):
        f(np.zeros(lead + (2, 3)), np.zeros((3, 4)))
    with pytest.raises(ValueError, match="inconsistent size for core dimension 'n'"):
        np.vectorize(np.dot, signature="(n,m),(m,k)->(n,n)")(np.zeros(lead + (2, 3)),
                                                              np.zeros((3, 4)))
    # a dimension only the outputs have must agree between them
    g = fnp.vectorize(lambda x: (x[:2], x[:3]), signature="(n)->(k),(k)")
    with pytest.raises(ShapeError, match="core dimension 'k' is 2"):
        g(np.zeros(lead + (4,)))


def test_vectorize_under_transforms():
    dot = fnp.vectorize(lambda a, b: fnp.sum(fnp.sin(a) * b), signature="(n),(n)->()")
    a, b = np.asarray(_data((3, 4))), np.asarray(_data((2, 1, 4)))
    check_grads(dot, (a, b), order=2)
    _same(ft.jit(dot)(a, b), np.sum(np.sin(a) * b, axis=-1), rtol=1e-14)
    batched = ft.vmap(dot, in_axes=(1, None))(np.stack([a, 2 * a], axis=1), b)
    _same(batched, np.stack([np.sum(np.sin(a) * b, -1), np.sum(np.sin(2 * a) * b, -1)]),
          rtol=1e-14)
    pair = fnp.vectorize(lambda s: fnp.stack([s, s * s]), signature="()->(k)")
    check_grads(pair, (np.asarray(_data((3,))),), order=1)


@pytest.mark.parametrize("case", [2, 14])
def test_vectorize_on_every_backend(backend, case):
    signature, make, shapes = VEC_CASES[case]
    datas = [np.asarray(_data(s)) for s in shapes]
    got = fnp.vectorize(make(fnp), signature=signature)(*(backend.asarray(d) for d in datas))
    want = np.vectorize(make(np), signature=signature)(*datas)
    for g, w in zip(_outs(got), _outs(want)):
        assert backend.is_own(g)
        _same(backend.to_numpy(g), w, rtol=1e-13)


def test_vectorize_beside_jax():
    _, jnp = _jnp()
    for signature, make, shapes in VEC_CASES[:16]:
        args = [_data(s) for s in shapes]
        got = fnp.vectorize(make(fnp), signature=signature)(*args)
        want = jnp.vectorize(make(jnp), signature=signature)(*args)
        for g, w in zip(_outs(got), _outs(want)):
            _same(g, np.asarray(w), rtol=1e-12)

# -- ufuncs ---------------------------------------------------------------------------------------


def _scalar_add(x, y):
    assert np.shape(x) == np.shape(y) == ()
    return x + y


def _scalar_div(x, y):
    assert np.shape(x) == np.shape(y) == ()
    return x / y


def _scalar_mul(x, y):
    assert np.shape(x) == np.shape(y) == ()
    return x * y


def _scalar_sub(x, y):
    assert np.shape(x) == np.shape(y) == ()
    return x - y


SCALAR_FUNCS = [(_scalar_add, 0), (_scalar_div, None), (_scalar_mul, 1), (_scalar_sub, None)]
SCALAR_IDS = ["add", "div", "mul", "sub"]
BROADCAST_SHAPES = [(), (1,), (3,), (1, 3), (4, 1), (4, 3)]
ALL_SHAPES = [(3,), (4,), (4, 3), (0, 3), (4, 0)]


def _as(dtype, fn):
    """NumPy's frompyfunc gives object arrays: as ``dtype`` (JAX's tests' cast_outputs)."""
    def run(*args, **kwargs):
        return np.asarray(fn(*args, **kwargs), dtype=dtype)
    return run


def _pair(func, identity):
    return (fnp.frompyfunc(func, 2, 1, identity=identity),
            np.frompyfunc(func, 2, 1, identity=identity))


@pytest.mark.parametrize("func,identity", SCALAR_FUNCS, ids=SCALAR_IDS)
def test_frompyfunc_properties(func, identity):
    u = fnp.frompyfunc(func, nin=2, nout=1, identity=identity)
    ref = np.frompyfunc(func, 2, 1, identity=identity)
    assert (u.identity, u.nin, u.nout) == (identity, 2, 1)
    # nargs is NumPy's nin + nout (jax.numpy's frompyfunc says nin)
    assert u.nargs == ref.nargs == 3
    for attr in ("nargs", "nin", "nout", "identity", "_func"):
        getattr(u, attr)
        with pytest.raises(AttributeError):
            setattr(u, attr, None)
    same = fnp.frompyfunc(func, nin=2, nout=1, identity=identity)
    assert u == same and hash(u) == hash(same)
    assert u != fnp.frompyfunc(fnp.add, nin=2, nout=1, identity=0)


@pytest.mark.parametrize("func,identity", SCALAR_FUNCS, ids=SCALAR_IDS)
def test_frompyfunc_call_and_outer(func, identity):
    u, ref = _pair(func, identity)
    for dtype in ("float32", "float64"):
        for ls, rs in itertools.product(BROADCAST_SHAPES, BROADCAST_SHAPES[::2]):
            a, b = _data(ls, dtype), _data(rs, dtype)
            _same(u(a, b), _as(dtype, ref)(a, b), rtol=_tol(dtype))
            _same(u.outer(a, b), _as(dtype, ref.outer)(a, b), rtol=_tol(dtype))
    # an empty broadcast shape (the function never runs on an element; a regression:
    # the elementwise loop raised)
    _same(u(_data((0, 3)), _data((3,))), np.zeros((0, 3)))
    _same(u.outer(_data((0,)), _data((2,))), np.zeros((0, 2)))


@pytest.mark.parametrize("func,identity", SCALAR_FUNCS, ids=SCALAR_IDS)
def test_frompyfunc_reduce_accumulate_reduceat(func, identity):
    u, ref = _pair(func, identity)
    for shape in ALL_SHAPES:
        x = _data(shape)
        for axis in [None, *range(-len(shape), len(shape))]:
            empty = (0 in shape) if axis is None else shape[axis] == 0
            if identity is None and empty:
                with pytest.raises(ValueError):
                    u.reduce(x, axis=axis)
            else:
                _same(u.reduce(x, axis=axis), _as("float64", ref.reduce)(x, axis=axis))
                _same(u.reduce(x, axis=axis, keepdims=True),
                      _as("float64", ref.reduce)(x, axis=axis, keepdims=True))
            if axis is None:
                continue
            _same(u.accumulate(x, axis=axis), _as("float64", ref.accumulate)(x, axis=axis))
            if shape[axis]:
                for n in (0, 3, 5):
                    idx = RNG.integers(0, shape[axis], n).astype(np.int32)
                    _same(u.reduceat(x, idx, axis=axis),
                          _as("float64", ref.reduceat)(x, idx, axis=axis))
    x32 = _data((4, 3), "float32")
    _same(u.reduce(x32, axis=1), _as("float32", ref.reduce)(x32, axis=1), rtol=1e-5)


@pytest.mark.parametrize("func,identity", SCALAR_FUNCS, ids=SCALAR_IDS)
def test_frompyfunc_reduce_where(func, identity):
    """``where=`` (a regression: refused before) folds from ``initial``, or the identity,
    over the selected elements, as NumPy."""
    u, ref = _pair(func, identity)
    initial = 1.0 if identity is None else None
    for shape in ALL_SHAPES:
        x, where = _data(shape), _ro(RNG.integers(0, 2, shape).astype(bool))
        for axis in [None, *range(-len(shape), len(shape))]:
            start = identity if initial is None else initial
            want = _as("float64", ref.reduce)(x, axis=axis, where=where, initial=start)
            _same(u.reduce(x, axis=axis, where=where, initial=initial), want)
    if identity is None:
        with pytest.raises(ValueError, match="needs initial"):
            u.reduce(_data((3,)), where=_ro([True, False, True]))


@pytest.mark.parametrize("func,identity", SCALAR_FUNCS, ids=SCALAR_IDS)
def test_frompyfunc_at(func, identity):
    u, ref = _pair(func, identity)
    for shape in [(3,), (4,), (4, 3)]:
        for idx_shape in [(), (2,)]:
            x = _data(shape)
            idx = RNG.integers(-shape[0], shape[0], idx_shape).astype(np.int32)
            y = _data(idx_shape[1:])
            want = np.array(x, dtype=object)
            ref.at(want, idx, y)
            _same(u.at(x, idx, y, inplace=False), want.astype(np.float64))
    # broadcast values into whole rows (jax-ml/jax#18004)
    x, idx, y = _ro(np.ones((5, 3))), _ro(np.array([0, 4, 2])), _ro(np.arange(9.0).reshape(3, 3))
    want = np.array(x)
    np.add.at(want, idx, y)
    _same(fnp.frompyfunc(fnp.add, 2, 1, identity=0).at(x, idx, y, inplace=False), want)


def test_frompyfunc_under_transforms():
    u = fnp.frompyfunc(_scalar_sub, 2, 1)
    x = np.asarray(_data((4, 3)))
    where = np.array([[True, False, True]] * 4)
    check_grads(lambda v: u.reduce(v, axis=0, where=where, initial=1.0), (x,), order=2)
    check_grads(lambda v: u.reduceat(v, [0, 2, 1], axis=0), (x,), order=1)
    staged = ft.jit(lambda v, w: u.reduce(v, axis=1, where=w, initial=1.0))(x, where)
    _same(staged, _as("float64", np.frompyfunc(_scalar_sub, 2, 1).reduce)(
        x, axis=1, where=where, initial=1.0))
    batched = ft.vmap(lambda v: u.accumulate(v))(x)
    _same(batched, np.stack([_as("float64", np.frompyfunc(_scalar_sub, 2, 1).accumulate)(r)
                             for r in x]))


# the built-in ufunc objects: a few of each kind (jax.numpy's tests take every one, with
# every dtype of "FfIi?" it has a loop for)
BUILTIN = ["add", "subtract", "multiply", "divide", "maximum", "fmin", "logaddexp", "hypot",
           "bitwise_and", "bitwise_xor", "logical_or", "power", "arctan2", "floor_divide"]


def _loop_dtypes(name):
    np_fun = getattr(np, name)
    return [np.dtype(c) for c in "FfIi?" if f"{c}{c}->{c}" in np_fun.types]


def _np_result(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return fn(*args, **kwargs)
        except (ValueError, TypeError) as e:
            return e


def _same_or_both_raise(got_fn, want):
    if isinstance(want, Exception):
        with pytest.raises(type(want)):
            got_fn()
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = got_fn()
    w = np.asarray(want)
    _same(got, w, rtol=_tol(w.dtype) if w.dtype.kind in "fc" else 0,
          atol=_tol(w.dtype) if w.dtype.kind in "fc" else 0)


def test_builtin_ufunc_properties():
    names = [n for n in dir(fnp) if callable(getattr(fnp, n, None))
             and hasattr(getattr(fnp, n), "reduceat") and hasattr(getattr(fnp, n), "nin")
             and not isinstance(getattr(fnp, n), type)]
    assert {"add", "multiply", "maximum", "negative", "bitwise_and"} <= set(names)
    for name in names:
        ours, theirs = getattr(fnp, name), getattr(np, name)
        assert (ours.identity, ours.nin, ours.nout) == (theirs.identity, theirs.nin,
                                                        theirs.nout), name


# NumPy 2.4's SIMD reduce of float32/float64 power and arctan2 returns op(x[0], x[-1]) on
# some CPUs (Intel Xeon with AVX-512: np.power.reduce([2., 3., 2.]) is 4, not 64), where
# functrans folds from the left as NumPy's definition says; the reference there is NumPy's
# long double loop (no SIMD), rounded to the dtype.
_NUMPY_REDUCE_FIRST_LAST = np.power.reduce(np.array([2.0, 3.0, 2.0])) != 64.0


def _left_fold_reference(theirs, dtype, method):
    fn = getattr(theirs, method)
    if not (_NUMPY_REDUCE_FIRST_LAST and dtype.kind == "f"
            and theirs.__name__ in ("power", "arctan2")):
        return fn

    def reference(x, *args, **kwargs):
        return np.asarray(fn(np.asarray(x, np.longdouble), *args, **kwargs)).astype(dtype)
    return reference


@pytest.mark.parametrize("name", BUILTIN)
def test_builtin_ufunc_methods_match_numpy(name):
    ours, theirs = getattr(fnp, name), getattr(np, name)
    for dtype in _loop_dtypes(name):
        reduce_ref = _left_fold_reference(theirs, dtype, "reduce")
        reduceat_ref = _left_fold_reference(theirs, dtype, "reduceat")
        for shape in [(4,), (4, 3), (0, 3)]:
            x = _data(shape, dtype)
            where = _ro(RNG.integers(0, 2, shape).astype(bool))
            initial = _data((), dtype)[()]
            for axis in [None, *range(-len(shape), len(shape))]:
                for kw in ({}, {"keepdims": True}, {"initial": initial}, {"where": where},
                           {"where": where, "initial": initial}):
                    _same_or_both_raise(lambda: ours.reduce(x, axis=axis, **kw),
                                        _np_result(reduce_ref, x, axis=axis, **kw))
                if axis is None:
                    continue
                _same_or_both_raise(lambda: ours.accumulate(x, axis=axis),
                                    _np_result(theirs.accumulate, x, axis=axis))
                if shape[axis]:
                    idx = RNG.integers(0, shape[axis], 3).astype(np.int32)
                    _same_or_both_raise(lambda: ours.reduceat(x, idx, axis=axis),
                                        _np_result(reduceat_ref, x, idx, axis=axis))
        a, b = _data((4, 1), dtype), _data((3,), dtype)
        _same_or_both_raise(lambda: ours.outer(a, b), _np_result(theirs.outer, a, b))
        x, idx, y = _data((4, 3), dtype), _ro(np.array([0, -1, 0], np.int32)), _data((3,), dtype)
        want = np.array(x)
        outcome = _np_result(theirs.at, want, idx, y)
        _same_or_both_raise(lambda: ours.at(x, idx, y, inplace=False),
                            outcome if isinstance(outcome, Exception) else want)


def test_bitwise_and_reduce_of_an_empty_unsigned_axis():
    """Regression: the identity -1 did not fit uint32 (OverflowError); NumPy gives all ones."""
    x = _ro(np.zeros((0, 3), np.uint32))
    _same(fnp.bitwise_and.reduce(x, axis=0), np.bitwise_and.reduce(x, axis=0))
    _same(fnp.bitwise_and.reduce(x, axis=None), np.bitwise_and.reduce(x, axis=None))


def test_ufunc_errors():
    with pytest.raises(ValueError, match="only supported for binary"):
        fnp.negative.reduce(np.ones(3))
    with pytest.raises(ValueError, match="no identity"):
        fnp.maximum.reduce(np.ones((0, 2)), axis=0)
    with pytest.raises(NotImplementedError, match="out="):
        fnp.frompyfunc(_scalar_add, 2, 1).reduce(np.ones(3), out=np.ones(()))
    with pytest.raises(ValueError, match="not reorderable|at most one axis"):
        fnp.frompyfunc(_scalar_sub, 2, 1).reduce(np.ones((2, 3)), axis=(0, 1))
    with pytest.raises(NotImplementedError, match="inplace"):
        fnp.frompyfunc(_scalar_add, 2, 1).at(np.ones(3), [0], 1.0, inplace=True)


def test_ufuncs_on_every_backend(backend):
    u = fnp.frompyfunc(_scalar_sub, 2, 1)
    ref = np.frompyfunc(_scalar_sub, 2, 1)
    data = np.asarray(_data((4, 3)))
    mask = RNG.integers(0, 2, (4, 3)).astype(bool)
    x, where = backend.asarray(data), backend.asarray(mask, dtype="bool")
    for got, want in [(u.reduce(x, axis=1, where=where, initial=1.0),
                       ref.reduce(data, axis=1, where=mask, initial=1.0)),
                      (u.reduceat(x, [0, 2], axis=0), ref.reduceat(data, [0, 2], axis=0)),
                      (fnp.subtract.reduce(x, axis=0, where=where, initial=1.0),
                       np.subtract.reduce(data, axis=0, where=mask, initial=1.0)),
                      (fnp.logaddexp.accumulate(x, axis=1), np.logaddexp.accumulate(data, 1))]:
        assert backend.is_own(got)
        _same(backend.to_numpy(got), np.asarray(want, dtype=np.float64))


def test_ufuncs_beside_jax():
    _, jnp = _jnp()
    for (func, identity), shape in itertools.product(SCALAR_FUNCS, [(4, 3), (0, 3)]):
        x = _data(shape)
        ours = fnp.frompyfunc(func, 2, 1, identity=identity)
        theirs = jnp.frompyfunc(func, 2, 1, identity=identity)
        where = _ro(RNG.integers(0, 2, shape).astype(bool))
        init = 1.0 if identity is None else None
        _same(ours.reduce(x, axis=0, where=where, initial=init),
              np.asarray(theirs.reduce(x, axis=0, where=where, initial=init)))
        _same(ours.accumulate(x, axis=1), np.asarray(theirs.accumulate(x, axis=1)))
    x = _data((4, 3))
    _same(fnp.add.reduceat(x, [0, 3, 1]), np.asarray(jnp.add.reduceat(x, np.array([0, 3, 1]))))
    _same(fnp.multiply.reduce(x, axis=None, where=x > 1),
          np.asarray(jnp.multiply.reduce(x, axis=None, where=x > 1)))

# -- polynomials ----------------------------------------------------------------------------------


POLY_DTYPES = ["float32", "float64", "int32", "int64", "complex64", "complex128"]


def _some_zero(n, dtype):
    """Coefficients with zeros among them (JAX's rand_some_zero)."""
    dt = np.dtype(dtype)
    v = RNG.integers(-3, 4, n) if dt.kind in "iu" else RNG.normal(size=n)
    if dt.kind == "c":
        v = v + 1j * RNG.normal(size=n)
    v = v.astype(dt)
    v[RNG.random(n) < 0.25] = 0
    return v


def _padded(length, leading, trailing, dtype):
    return _ro(np.concatenate([np.zeros(leading, dtype), _some_zero(length, dtype),
                               np.zeros(trailing, dtype)]))


def _same_roots(got, want, rtol=1e-6):
    """The same multiset of roots (order unspecified), NaNs counted apart."""
    g, w = np.asarray(got).astype(complex), np.asarray(want).astype(complex)
    assert g.shape == w.shape, (g.shape, w.shape)
    assert np.isnan(g).sum() == np.isnan(w).sum()
    g, w = np.sort_complex(g[~np.isnan(g)]), np.sort_complex(w[~np.isnan(w)])
    np.testing.assert_allclose(g, w, rtol=rtol, atol=rtol)


@pytest.mark.parametrize("dtype", POLY_DTYPES)
def test_roots_with_leading_and_trailing_zeros(dtype):
    rtol = 2e-3 if dtype in ("float32", "complex64") else 1e-7
    for length, leading, trailing in itertools.product([0, 3, 5], [0, 2], [0, 2]):
        p = _padded(length, leading, trailing, dtype)
        got, want = fnp.roots(p), np.roots(p)
        assert np.asarray(got).dtype == want.dtype  # NumPy's: real when every root is
        _same_roots(got, want, rtol)


def _roots_kept_zeros_reference(p):
    """NumPy's roots with a NaN for each root a leading zero takes away (JAX's rule)."""
    r = np.roots(p).astype(complex)
    return np.concatenate([r, np.full(max(len(p) - 1 - len(r), 0), np.nan + 0j)])


@pytest.mark.parametrize("dtype", POLY_DTYPES)
def test_roots_strip_zeros_false(dtype):
    """``strip_zeros=False`` (new): len(p) - 1 complex roots, NaN for each leading zero,
    the same under jit and vmap (no values needed)."""
    rtol = 2e-3 if dtype in ("float32", "complex64") else 1e-7
    complex_dtype = np.complex64 if dtype in ("float32", "complex64") else np.complex128
    staged = ft.jit(lambda q: fnp.roots(q, strip_zeros=False))
    for length, leading, trailing in itertools.product([0, 1, 3, 5], [0, 2], [0, 2]):
        p = _padded(length, leading, trailing, dtype)
        want = _roots_kept_zeros_reference(p) if len(p) > 1 else np.zeros(0, complex)
        for got in (fnp.roots(p, strip_zeros=False), staged(p)):
            assert np.asarray(got).dtype == complex_dtype
            _same_roots(got, want, rtol)
    ps = np.stack([_padded(3, 1, 0, "float64"), _padded(4, 0, 0, "float64")])
    for got, p in zip(ft.vmap(lambda q: fnp.roots(q, strip_zeros=False))(ps), ps):
        _same_roots(got, _roots_kept_zeros_reference(p))


def test_roots_strip_zeros_false_of_invalid_polynomials():
    for zeros, nonzeros in itertools.product([1, 2, 5], [0, 1, 3]):
        p = _ro(np.concatenate([np.zeros(zeros), RNG.uniform(1, 2, nonzeros)]))
        got = np.asarray(fnp.roots(p, strip_zeros=False))
        if p.size == 1:
            assert got.size == 0  # a constant has no roots
        else:
            # (all zeros: every root undefined)
            assert got.shape == (p.size - 1,) and np.isnan(got).sum() == min(zeros, p.size - 1)


def test_roots_derivatives():
    # the roots of (x - 1)(x - 2)(x - 3), differentiable where distinct: d(sum)/dp is
    # -d(p1/p0)/dp = (p1/p0^2, -1/p0, 0, 0)
    p = np.array([1.0, -6.0, 11.0, -6.0])
    for strip in (True, False):
        g = ft.grad(lambda q: fnp.real(fnp.sum(fnp.roots(q, strip_zeros=strip))))(p)
        np.testing.assert_allclose(g, [-6.0, -1.0, 0.0, 0.0], atol=1e-12)
    check_grads(lambda q: fnp.sort(fnp.roots(q)), (p,), order=1)


def test_roots_beside_jax():
    _, jnp = _jnp()
    for dtype in ("float64", "complex128", "int64"):
        for length, leading, trailing in [(3, 0, 0), (5, 2, 2), (3, 0, 2)]:
            p = _padded(length, leading, trailing, dtype)
            _same_roots(fnp.roots(p), jnp.roots(p))
            _same_roots(fnp.roots(p, strip_zeros=False), jnp.roots(p, strip_zeros=False))


ARITH = [([1.0, 2.0, 3.0], [4.0, 5.0]), ([0.0, 0.0, 1.0, -1.0], [2.0]), ([3.0], [1.0, 0.0, -2.0]),
         ([1.0, -3.0, 2.0], [1.0, -1.0])]


@pytest.mark.parametrize("case", range(len(ARITH)))
def test_polynomial_arithmetic_and_calculus(case):
    a, b = (_ro(np.array(v)) for v in ARITH[case])
    for name in ("polyadd", "polysub", "polymul"):
        _same(getattr(fnp, name)(a, b), getattr(np, name)(a, b))
    # (polymul's trimming of leading zeros depends on the values: not near them)
    for fn in (fnp.polyadd, fnp.polysub, lambda u, v: fnp.polymul(u, v, trim_leading_zeros=False)):
        check_grads(fn, (np.array(a), np.array(b)), order=1)
    q, r = fnp.polydiv(a, b)
    wq, wr = np.polydiv(a, b)
    _same(q, wq)
    _same(r, wr, atol=1e-12)
    check_grads(lambda u, v: fnp.polydiv(u, v)[0], (np.array(a), np.array(b)), order=1)
    for m in (0, 1, 2, 4):
        _same(fnp.polyder(a, m), np.polyder(a, m))
        for k in (None, 2.0, [1.0, -2.0, 3.0, 4.0]):
            _same(fnp.polyint(a, m, k), np.polyint(a, m, k))
    check_grads(lambda u, k: fnp.polyint(u, 2, k), (np.array(a), np.array([1.0, -1.0])),
                order=1)
    _same(fnp.poly(a), np.poly(a))
    check_grads(fnp.poly, (np.array(a),), order=1)


def test_polymul_polydiv_jax_keyword():
    """``trim_leading_zeros`` (jax.numpy's keyword; its default there is False, here
    NumPy's trimming): False keeps the full convolution and the whole remainder."""
    a, b = _ro([0.0, 0.0, 1.0, -1.0]), _ro([0.0, 2.0, 1.0])
    _same(fnp.polymul(a, b, trim_leading_zeros=False), np.convolve(a, b))
    _same(fnp.polymul(a, b), np.polymul(a, b))
    q, r = fnp.polydiv(a[2:], b[1:], trim_leading_zeros=False)
    wq, wr = np.polydiv(a[2:], b[1:])
    _same(q, wq)
    np.testing.assert_allclose(np.asarray(r)[-len(wr):], wr, atol=1e-12)
    assert np.asarray(r).shape == (2,)


@pytest.mark.parametrize("dtype", ["float32", "float64", "int32", "int64", "complex128"])
def test_polyval(dtype):
    p, x = _some_zero(4, dtype), _some_zero(5, dtype)
    _same(fnp.polyval(p, x), np.polyval(p, x), rtol=_tol(dtype))
    _same(fnp.polyval(p, x[0]), np.polyval(p, x[0]), rtol=_tol(dtype))
    _same(fnp.polyval(p, x, unroll=2), np.polyval(p, x), rtol=_tol(dtype))
    if np.dtype(dtype).kind == "f":
        check_grads(fnp.polyval, (p.astype(np.float64), x.astype(np.float64)), order=2)


def test_polyfit_weights_cov_full():
    x = np.linspace(-1.0, 1.0, 12)
    y = 1 + 2 * x - 3 * x ** 2 + 0.1 * RNG.normal(size=12)
    w = RNG.uniform(0.5, 2.0, 12)
    for ys in (y, np.stack([y, 2 * y + 1], axis=1)):
        for kw in ({}, {"w": w}, {"cov": True}, {"cov": "unscaled"}, {"w": w, "cov": True},
                   {"full": True}, {"full": True, "w": w}, {"rcond": 1e-3, "full": True}):
            got, want = fnp.polyfit(x, ys, 2, **kw), np.polyfit(x, ys, 2, **kw)
            for g, e in zip(_outs(got), _outs(want)):
                _same(g, e, rtol=1e-9, atol=1e-12)
    with pytest.raises(ValueError, match="must exceed"):
        fnp.polyfit(x[:3], y[:3], 2, cov=True)
    _same(fnp.polyfit(x[:3], y[:3], 2, cov="unscaled")[1],
          np.polyfit(x[:3], y[:3], 2, cov="unscaled")[1], rtol=1e-8)
    # the covariance is differentiable in y and w (new: cov was refused)
    check_grads(lambda v, u: fnp.polyfit(x, v, 2, w=u, cov=True)[1], (y, w), order=1)
    staged = ft.jit(lambda v: fnp.polyfit(x, v, 2, cov=True))(y)
    for g, e in zip(staged, np.polyfit(x, y, 2, cov=True)):
        _same(g, e, rtol=1e-9, atol=1e-12)


def test_trim_zeros():
    for a in ([0, 0, 1, 2, 0, 3, 0, 0], [0.0, 0.0], [1.0, 0.0], []):
        a = _ro(np.array(a, dtype=float))
        for trim in ("fb", "f", "b", "F", "B"):
            _same(fnp.trim_zeros(a, trim), np.trim_zeros(a, trim))
    m = _ro(np.array([[0, 0, 0, 0], [0, 1, 0, 0], [0, 0, 2, 0]]))
    for axis in (None, 0, 1, (0, 1)):
        _same(fnp.trim_zeros(m, axis=axis), np.trim_zeros(m, axis=axis))


def test_polynomials_on_every_backend(backend):
    p = np.array([1.0, -6.0, 11.0, -6.0])
    pb = backend.asarray(p)
    x = backend.asarray(np.array([0.5, 1.5]))
    for got, want in [(fnp.polyval(pb, x), np.polyval(p, [0.5, 1.5])),
                      (fnp.polyint(pb, 2, 1.0), np.polyint(p, 2, 1.0)),
                      (fnp.polymul(pb, pb[:2]), np.polymul(p, p[:2])),
                      (fnp.polyfit(x, x * 2, 1), np.polyfit([0.5, 1.5], [1.0, 3.0], 1))]:
        assert backend.is_own(got)
        _same(backend.to_numpy(got), want, atol=1e-12)
    if backend.name in ("numpy", "torch"):  # (array-api-strict has no eig)
        got = fnp.roots(pb, strip_zeros=False)
        assert backend.is_own(got)
        _same_roots(backend.to_numpy(got), np.roots(p))


def test_polynomials_beside_jax():
    _, jnp = _jnp()
    a, b = _ro([1.0, -3.0, 2.0, 5.0]), _ro([2.0, 1.0])
    for name in ("polyadd", "polysub", "polyder", "polyint", "poly"):
        args = (a,) if name in ("polyder", "polyint", "poly") else (a, b)
        _same(getattr(fnp, name)(*args), np.asarray(getattr(jnp, name)(*args)))
    _same(fnp.polymul(a, b, trim_leading_zeros=False), np.asarray(jnp.polymul(a, b)))
    x = np.linspace(0, 1, 8)
    for g, e in zip(fnp.polyfit(x, np.sin(x), 3, cov=True),
                    jnp.polyfit(x, np.sin(x), 3, cov=True)):
        _same(g, np.asarray(e), rtol=1e-8, atol=1e-14)
