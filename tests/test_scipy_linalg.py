"""functrans.scipy.linalg against SciPy, on every backend: values (float64, float32 and
integer input, batches, every trans/lower/unit_diagonal/assume_a variant), only the referenced
triangle read (values and derivatives), errors, vmap and the table's completeness."""

from __future__ import annotations

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
import functrans.scipy
import functrans.scipy.linalg as fsl

sl = pytest.importorskip("scipy.linalg")


def _np(backend, out):
    assert backend.is_own(out), type(out)
    return backend.to_numpy(out)


def _rtol(dtype):
    return 1e-11 if dtype == "float64" else 2e-4


def _mat(rng, shape):
    return rng.normal(size=shape) * 0.3 + np.eye(shape[-1]) * 2.0


def _spd(rng, shape):
    a = rng.normal(size=shape)
    return a @ np.swapaxes(a, -1, -2) + np.eye(shape[-1]) * shape[-1]


def test_every_function_is_in_the_table():
    from .test_namespace_grads import TABLE
    tested = {s.name for s in TABLE}
    public = {n for n in dir(fsl) if not n.startswith("_") and callable(getattr(fsl, n))
              and getattr(getattr(fsl, n), "__module__", "") == "functrans.scipy.linalg"}
    assert public == set(fsl.__all__)
    missing = sorted(n for n in public if "scipy.linalg." + n not in tested)
    assert not missing, f"functrans.scipy.linalg functions missing from TABLE: {missing}"


def test_submodule_attribute():
    assert functrans.scipy.linalg is fsl


SYSTEMS = [((3, 3), (3,)), ((4, 4), (4, 2)), ((2, 3, 3), (3,)), ((2, 3, 3), (2, 3, 1)),
           ((2, 1, 3, 3), (4, 3, 2))]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("trans", [0, 1, 2, "N", "T", "C"])
def test_solve_triangular(backend, dtype, trans):
    rng = np.random.default_rng(0)
    for sa, sb in SYSTEMS:
        a, b = _mat(rng, sa).astype(dtype), rng.normal(size=sb).astype(dtype)
        for lower in (False, True):
            for unit in (False, True):
                out = _np(backend, fsl.solve_triangular(
                    backend.asarray(a, dtype), backend.asarray(b, dtype), trans=trans,
                    lower=lower, unit_diagonal=unit))
                ref = sl.solve_triangular(a, b, trans=trans, lower=lower, unit_diagonal=unit)
                assert out.shape == ref.shape and out.dtype == ref.dtype
                np.testing.assert_allclose(out, ref, rtol=_rtol(dtype), atol=1e-6)


def test_only_the_referenced_triangle_is_read(backend):
    rng = np.random.default_rng(1)
    a, b = _mat(rng, (3, 3)), rng.normal(size=(3, 2))
    junk = a + np.triu(np.full((3, 3), 1e3), 1)  # the upper triangle changed
    ab, jb, bb = backend.asarray(a), backend.asarray(junk), backend.asarray(b)
    np.testing.assert_array_equal(_np(backend, fsl.solve_triangular(jb, bb, lower=True)),
                                  _np(backend, fsl.solve_triangular(ab, bb, lower=True)))
    g = ft.grad(lambda m: fnp.sum(fsl.solve_triangular(m, bb, lower=True, unit_diagonal=True)))
    ga = _np(backend, g(ab))
    assert np.all(np.triu(ga) == 0.0)  # no derivative in the unread entries (nor diagonal)
    spd = _spd(rng, (3, 3))
    tri_junk = spd - np.tril(np.full((3, 3), 7.0), -1)  # the lower triangle changed
    for f in (lambda m: fsl.cholesky(m), lambda m: fsl.cho_solve(fsl.cho_factor(m), bb),
              lambda m: fsl.solve(m, bb, assume_a="pos"),
              lambda m: fsl.inv(m, assume_a="sym")):
        np.testing.assert_allclose(_np(backend, f(backend.asarray(tri_junk))),
                                   _np(backend, f(backend.asarray(spd))), rtol=1e-13)
        gs = _np(backend, ft.grad(lambda m: fnp.sum(f(m)))(backend.asarray(spd)))
        assert np.all(np.tril(gs, -1) == 0.0)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_cholesky_cho_factor_cho_solve(backend, dtype):
    rng = np.random.default_rng(2)
    for sa, sb in SYSTEMS:
        a, b = _spd(rng, sa).astype(dtype), rng.normal(size=sb).astype(dtype)
        ab, bb = backend.asarray(a, dtype), backend.asarray(b, dtype)
        for lower in (False, True):
            out = _np(backend, fsl.cholesky(ab, lower=lower))
            ref = sl.cholesky(a, lower=lower)
            assert out.dtype == ref.dtype
            np.testing.assert_allclose(out, ref, rtol=_rtol(dtype), atol=1e-6)
            c, low = fsl.cho_factor(ab, lower=lower)
            rc, rlow = sl.cho_factor(a, lower=lower)
            assert np.all(low == rlow)  # (SciPy gives an array of flags for a stack)
            np.testing.assert_allclose(_np(backend, c), rc, rtol=_rtol(dtype), atol=1e-6)
            out = _np(backend, fsl.cho_solve((c, low), bb))
            ref = sl.cho_solve((rc, rlow), b)
            assert out.shape == ref.shape and out.dtype == ref.dtype
            np.testing.assert_allclose(out, ref, rtol=_rtol(dtype) * 10, atol=1e-5)


ASSUME = [None, "gen", "general", "sym", "symmetric", "her", "hermitian", "pos",
          "positive definite", "diagonal", "tridiagonal", "upper triangular",
          "lower triangular"]


@pytest.mark.parametrize("assume_a", ASSUME)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_solve(backend, assume_a, dtype):
    rng = np.random.default_rng(3)
    for sa, sb in SYSTEMS:
        a = (_spd(rng, sa) if assume_a in ("pos", "positive definite") else
             _mat(rng, sa)).astype(dtype)
        b = rng.normal(size=sb).astype(dtype)
        for lower in (False, True):
            for transposed in (False, True):
                out = _np(backend, fsl.solve(backend.asarray(a, dtype), backend.asarray(b, dtype),
                                             lower=lower, assume_a=assume_a,
                                             transposed=transposed))
                ref = sl.solve(a, b, lower=lower, assume_a=assume_a, transposed=transposed)
                assert out.shape == ref.shape and out.dtype == ref.dtype
                np.testing.assert_allclose(out, ref, rtol=_rtol(dtype) * 10, atol=1e-5)


@pytest.mark.parametrize("assume_a", [None, "gen", "general", "sym", "her", "pos", "diagonal",
                                      "upper triangular", "lower triangular"])
def test_inv(backend, assume_a):
    rng = np.random.default_rng(4)
    for shape in [(3, 3), (2, 4, 4), (1, 1)]:
        a = _spd(rng, shape) if assume_a == "pos" else _mat(rng, shape)
        if assume_a == "diagonal":  # (SciPy 1.17 reads the whole matrix there)
            a = a * np.eye(shape[-1])
        for lower in (False, True):
            out = _np(backend, fsl.inv(backend.asarray(a), assume_a=assume_a, lower=lower))
            ref = sl.inv(a, assume_a=assume_a, lower=lower)
            np.testing.assert_allclose(out, ref, rtol=1e-11, atol=1e-14)
    f32 = _mat(rng, (3, 3)).astype(np.float32)
    out = _np(backend, fsl.inv(backend.asarray(f32, "float32")))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, sl.inv(f32), rtol=1e-5)


def test_diagonal_structure_reads_the_diagonal(backend):
    rng = np.random.default_rng(5)
    a, b = _mat(rng, (3, 3)), rng.normal(size=3)
    ab, bb = backend.asarray(a), backend.asarray(b)
    np.testing.assert_allclose(_np(backend, fsl.solve(ab, bb, assume_a="diagonal")),
                               b / np.diag(a), rtol=1e-14)
    np.testing.assert_allclose(_np(backend, fsl.inv(ab, assume_a="diagonal")),
                               np.diag(1 / np.diag(a)), rtol=1e-14)


def test_non_finite_entries_outside_the_structure_are_not_read(backend):
    """As SciPy with check_finite=False: an inf or nan where the structure has no entry does
    not reach the result (assume_a='diagonal' multiplied by an identity: inf * 0 gave nan)."""
    b = np.array([1.0, 2.0, 3.0])
    bb = backend.asarray(b)
    diag = np.array([[3.0, np.inf, np.nan], [1.0, 4.0, 1.0], [np.nan, -np.inf, 5.0]])
    tri = np.array([[3.0, 1.0, np.inf], [1.0, 4.0, 1.0], [np.nan, 1.0, 5.0]])
    low = np.array([[3.0, np.inf, np.nan], [1.0, 4.0, np.inf], [0.5, 1.0, 5.0]])
    spd = np.array([[4.0, np.inf, np.nan], [1.0, 4.0, -np.inf], [0.5, 1.0, 5.0]])
    cases = [(diag, dict(assume_a="diagonal")), (tri, dict(assume_a="tridiagonal")),
             (low, dict(assume_a="lower triangular")), (spd, dict(assume_a="pos", lower=True)),
             (spd, dict(assume_a="sym", lower=True))]
    for a, kw in cases:
        ref = sl.solve(a, b, check_finite=False, **kw)
        assert np.all(np.isfinite(ref))
        out = _np(backend, fsl.solve(backend.asarray(a), bb, **kw))
        np.testing.assert_allclose(out, ref, rtol=1e-13)
        if kw["assume_a"] == "diagonal":  # (SciPy 1.17's inv reads all of a here)
            out = _np(backend, fsl.inv(backend.asarray(a), **kw))
            np.testing.assert_allclose(out, np.diag(1.0 / np.diag(a)), rtol=1e-13)
        elif kw["assume_a"] != "tridiagonal":  # (not one of inv's structures)
            out = _np(backend, fsl.inv(backend.asarray(a), **kw))
            np.testing.assert_allclose(out, sl.inv(a, check_finite=False, **kw), rtol=1e-13)
    out = _np(backend, fsl.solve_triangular(backend.asarray(low), bb, lower=True))
    np.testing.assert_allclose(out, sl.solve_triangular(low, b, lower=True, check_finite=False),
                               rtol=1e-13)


def test_det(backend):
    rng = np.random.default_rng(6)
    for shape in [(3, 3), (2, 4, 4), (1, 1), (0, 0)]:
        a = _mat(rng, shape) if shape[-1] else np.zeros(shape)
        out = _np(backend, fsl.det(backend.asarray(a)))
        np.testing.assert_allclose(out, sl.det(a), rtol=1e-12)
    i = np.array([[2, 1], [1, 3]])
    out = _np(backend, fsl.det(backend.asarray(i, "int64")))
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, sl.det(i), rtol=1e-14)
    f = rng.normal(size=(2, 4, 4)).astype(np.float32)
    out = _np(backend, fsl.det(backend.asarray(f, "float32")))
    assert out.dtype == sl.det(f).dtype == np.float64
    np.testing.assert_allclose(out, sl.det(f), rtol=1e-5)


def test_integer_input_gives_float64(backend):
    a, b = np.array([[2, 0], [1, 3]]), np.array([1, 2])
    ab, bb = backend.asarray(a, "int64"), backend.asarray(b, "int64")
    for f, ref in ((lambda: fsl.solve_triangular(ab, bb, lower=True),
                    sl.solve_triangular(a, b, lower=True)),
                   (lambda: fsl.solve(ab, bb), sl.solve(a, b)),
                   (lambda: fsl.inv(ab), sl.inv(a))):
        out = _np(backend, f())
        assert out.dtype == ref.dtype == np.float64
        np.testing.assert_allclose(out, ref, rtol=1e-14)


@pytest.mark.parametrize("dtype", ["bool", "int8", "uint8", "int16", "uint16", "int32"])
def test_small_integer_dtypes_are_scipys(backend, dtype):
    """SciPy computes booleans and integers of at most 16 bits in float32 (inv, cholesky,
    cho_factor, solve_triangular, cho_solve; not solve, nor det), wider ones in float64; with
    a float operand, solve and solve_triangular take NumPy's common dtype (int32 and float32
    give float64)."""
    a = np.array([[2, 0, 1], [1, 3, 0], [0, 1, 1]]).astype(dtype)
    spd = np.eye(3) * 3 + np.ones((3, 3))
    p = np.eye(3, dtype=bool) if dtype == "bool" else spd.astype(dtype)
    b = np.array([1, 0, 1]).astype(dtype)
    ab, pb, bb = (backend.asarray(v, dtype) for v in (a, p, b))
    b32 = b.astype(np.float32)
    b32b = backend.asarray(b32, "float32")
    cases = [
        (lambda: fsl.inv(ab), lambda: sl.inv(a)),
        (lambda: fsl.cholesky(pb), lambda: sl.cholesky(p)),
        (lambda: fsl.cho_factor(pb)[0], lambda: sl.cho_factor(p)[0]),
        (lambda: fsl.solve_triangular(ab, bb), lambda: sl.solve_triangular(a, b)),
        (lambda: fsl.solve_triangular(ab, b32b), lambda: sl.solve_triangular(a, b32)),
        (lambda: fsl.cho_solve((pb, False), bb), lambda: sl.cho_solve((p, False), b)),
        (lambda: fsl.solve(ab, bb), lambda: sl.solve(a, b)),
        (lambda: fsl.solve(ab, b32b), lambda: sl.solve(a, b32)),
        (lambda: fsl.det(ab), lambda: sl.det(a)),
    ]
    for f, g in cases:
        out, ref = _np(backend, f()), g()
        assert out.dtype == ref.dtype, (out.dtype, ref.dtype)
        np.testing.assert_allclose(out, ref, rtol=1e-6, atol=1e-6)


def test_array_likes_next_to_arrays_of_any_library(backend):
    """A list (or number) operand goes with the other operand's library and device, as in
    the rest of the namespace (it was made a default-backend array and the solve failed)."""
    a = np.array([[3.0, 1.0, 0.0], [1.0, 4.0, 1.0], [0.0, 1.0, 5.0]])
    ab, bb = backend.asarray(a), backend.asarray(np.ones(3))
    cases = [
        (lambda: fsl.solve(ab, [1.0, 2.0, 3.0]), sl.solve(a, [1.0, 2.0, 3.0])),
        (lambda: fsl.solve(a.tolist(), bb), sl.solve(a, np.ones(3))),
        (lambda: fsl.solve(ab, [1, 2, 3], assume_a="pos"), sl.solve(a, [1, 2, 3], assume_a="pos")),
        (lambda: fsl.solve_triangular(ab, [1.0, 2.0, 3.0], lower=True),
         sl.solve_triangular(a, [1.0, 2.0, 3.0], lower=True)),
        (lambda: fsl.cho_solve(fsl.cho_factor(ab), [[1.0], [2.0], [3.0]]),
         sl.cho_solve(sl.cho_factor(a), [[1.0], [2.0], [3.0]])),
        (lambda: fsl.cho_solve((a.tolist(), False), bb), sl.cho_solve((a, False), np.ones(3))),
    ]
    for f, ref in cases:
        np.testing.assert_allclose(_np(backend, f()), ref, rtol=1e-13)
    g = ft.grad(lambda m: fnp.sum(fsl.solve(m, [1.0, 2.0, 3.0], assume_a="pos", lower=True)))
    assert backend.is_own(g(ab))
    # solve takes a number for b as a vector of one (as SciPy)
    one = backend.asarray([[2.0]])
    out = _np(backend, fsl.solve(one, 3.0))
    assert out.shape == (1,)
    np.testing.assert_allclose(out, sl.solve([[2.0]], 3.0))


def test_block_diag(backend):
    rng = np.random.default_rng(7)
    cases = [
        [rng.normal(size=(2, 3)), rng.normal(size=(1, 1)), rng.normal(size=(3, 2))],
        [rng.normal(size=(2, 2))],
        [rng.normal(size=(3,)), rng.normal(size=()), rng.normal(size=(2, 0)),
         rng.normal(size=(0, 2))],
        [rng.normal(size=(2, 2, 2)), rng.normal(size=(1, 3))],  # batches broadcast
        [rng.normal(size=(3, 1, 2)), rng.normal(size=(1, 2, 1))],
    ]
    for blocks in cases:
        out = _np(backend, fsl.block_diag(*(backend.asarray(x) for x in blocks)))
        ref = sl.block_diag(*blocks)
        assert out.shape == ref.shape
        np.testing.assert_array_equal(out, ref)
    # dtypes: the blocks' common dtype; Python numbers count as int64/float64 arrays
    f32 = backend.asarray(np.ones((2, 2)), "float32")
    i64 = backend.asarray(np.ones((1, 2)), "int64")
    assert _np(backend, fsl.block_diag(f32, f32)).dtype == np.float32
    out = _np(backend, fsl.block_diag(i64, 3, [4, 5]))
    ref = sl.block_diag(np.ones((1, 2), dtype=np.int64), 3, [4, 5])
    assert out.dtype == ref.dtype
    np.testing.assert_array_equal(out, ref)
    assert _np(backend, fsl.block_diag(f32, 1.0)).dtype == np.float64
    # an integer block with a float32 one: float32, the namespace's promotion (SciPy: float64)
    assert _np(backend, fsl.block_diag(f32, i64)).dtype == np.float32
    # no blocks
    e = fsl.block_diag()
    assert tuple(e.shape) == (1, 0) and np.asarray(e).dtype == np.float64


def test_errors(backend):
    a, b = backend.asarray(np.eye(3)), backend.asarray(np.ones(3))
    with pytest.raises(ValueError, match="solve_triangular: expected square matrix"):
        fsl.solve_triangular(backend.asarray(np.ones((2, 3))), b)
    with pytest.raises(ValueError, match="solve_triangular: shapes of a"):
        fsl.solve_triangular(a, backend.asarray(np.ones(2)))
    with pytest.raises(ValueError, match="solve_triangular: shapes of a"):
        fsl.solve_triangular(a, backend.asarray(1.0))
    with pytest.raises(ValueError, match="solve_triangular: trans must be"):
        fsl.solve_triangular(a, b, trans=3)
    with pytest.raises(ValueError, match="cholesky: expected square matrix"):
        fsl.cholesky(backend.asarray(np.ones(3)))
    with pytest.raises(ValueError, match="cho_factor: expected square matrix"):
        fsl.cho_factor(backend.asarray(np.ones((2, 3))))
    with pytest.raises(TypeError, match="cho_solve: c_and_lower must be a pair"):
        fsl.cho_solve(a, b)
    with pytest.raises(ValueError, match="cho_solve: shapes of a"):
        fsl.cho_solve((a, False), backend.asarray(np.ones((4, 1))))
    with pytest.raises(ValueError, match="solve: foo is not a recognized matrix structure"):
        fsl.solve(a, b, assume_a="foo")
    with pytest.raises(NotImplementedError, match="solve: assume_a='banded' is not supported"):
        fsl.solve(a, b, assume_a="banded")
    with pytest.raises(ValueError, match="inv: tridiagonal is not a recognized"):
        fsl.inv(a, assume_a="tridiagonal")
    with pytest.raises(ValueError, match="det: expected square matrix"):
        fsl.det(backend.asarray(np.ones((2, 3))))
    with pytest.raises(ValueError, match="broadcast"):
        fsl.block_diag(backend.asarray(np.ones((2, 2, 2))), backend.asarray(np.ones((3, 1, 1))))
    with pytest.raises(TypeError):
        fsl.solve(a, b, False, False, False, True, None, False, 1)


def test_complex_transposed_solve_is_refused(backend):
    a = backend.asarray(np.eye(2) * (1 + 1j), "complex128")
    b = backend.asarray(np.ones(2), "complex128")
    with pytest.raises(NotImplementedError, match="solve: transposed=True is not supported"):
        fsl.solve(a, b, transposed=True)
    np.testing.assert_allclose(_np(backend, fsl.solve(a, b)), sl.solve(np.eye(2) * (1 + 1j),
                                                                       np.ones(2)))


def _cmat(rng, shape):
    return (rng.normal(size=shape) + 1j * rng.normal(size=shape)) * 0.3 + np.eye(shape[-1]) * 2


@pytest.mark.parametrize("lower", [False, True])
def test_complex_hermitian_structures_read_the_real_diagonal(backend, lower):
    """'her' and 'pos' (and cholesky) read only the chosen triangle and the real part of the
    diagonal, as LAPACK's Hermitian routines: an imaginary diagonal part is ignored (it was
    read by 'her' solve/inv, whose results then differed from SciPy's)."""
    rng = np.random.default_rng(12)
    m = _cmat(rng, (3, 3))
    h = m @ m.conj().T + 3.0 * np.eye(3)
    junk = h + np.diag([0.5j, -0.3j, 0.2j])  # an imaginary diagonal part
    junk += (np.tril if not lower else np.triu)(np.full((3, 3), 5.0 - 2.0j), 1 if lower else -1)
    b = rng.normal(size=(3, 2)) + 1j * rng.normal(size=(3, 2))
    jb, bb = backend.asarray(junk, "complex128"), backend.asarray(b, "complex128")
    for aa in ("her", "hermitian", "pos"):
        out = _np(backend, fsl.solve(jb, bb, assume_a=aa, lower=lower))
        np.testing.assert_allclose(out, sl.solve(junk, b, assume_a=aa, lower=lower),
                                   rtol=1e-12, atol=1e-14)
        if aa != "hermitian":  # (not one of inv's names)
            out = _np(backend, fsl.inv(jb, assume_a=aa, lower=lower))
            np.testing.assert_allclose(out, sl.inv(junk, assume_a=aa, lower=lower),
                                       rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(_np(backend, fsl.cholesky(jb, lower=lower)),
                               sl.cholesky(junk, lower=lower), rtol=1e-12, atol=1e-14)
    # no derivative in the imaginary part of the diagonal
    t = backend.asarray(np.diag([1j, 2j, -1j]), "complex128")
    for f in (lambda a: fsl.solve(a, bb, assume_a="her", lower=lower),
              lambda a: fsl.inv(a, assume_a="her", lower=lower),
              lambda a: fsl.cholesky(a, lower=lower)):
        np.testing.assert_array_equal(_np(backend, ft.jvp(f, (jb,), (t,))[1]), 0.0)


@pytest.mark.parametrize("trans", [0, 1, 2])
def test_complex_values(backend, trans):
    rng = np.random.default_rng(13)
    a, b = _cmat(rng, (2, 3, 3)), rng.normal(size=(3, 2)) + 1j * rng.normal(size=(3, 2))
    ab, bb = backend.asarray(a, "complex128"), backend.asarray(b, "complex128")
    for lower in (False, True):
        for unit in (False, True):
            out = _np(backend, fsl.solve_triangular(ab, bb, trans=trans, lower=lower,
                                                    unit_diagonal=unit))
            ref = sl.solve_triangular(a, b, trans=trans, lower=lower, unit_diagonal=unit)
            assert out.dtype == ref.dtype
            np.testing.assert_allclose(out, ref, rtol=1e-12)
        for aa in (None, "sym", "diagonal", "tridiagonal", "upper triangular"):
            out = _np(backend, fsl.solve(ab, bb, assume_a=aa, lower=lower))
            np.testing.assert_allclose(out, sl.solve(a, b, assume_a=aa, lower=lower),
                                       rtol=1e-12)
    np.testing.assert_allclose(_np(backend, fsl.det(ab)), sl.det(a), rtol=1e-12)


def test_singular_and_indefinite_matrices_raise(backend):
    z = backend.asarray(np.zeros((2, 2)))
    b = backend.asarray(np.ones(2))
    with pytest.raises(Exception):
        fsl.solve(z, b)
    with pytest.raises(Exception):
        fsl.cholesky(backend.asarray(np.array([[1.0, 2.0], [2.0, 1.0]])))
    # a zero on a triangle's diagonal: LinAlgError (torch's own solver would divide by it)
    tri = backend.asarray(np.array([[1.0, 0.0], [2.0, 0.0]]))
    with pytest.raises(np.linalg.LinAlgError):
        fsl.solve_triangular(tri, b, lower=True)
    with pytest.raises(np.linalg.LinAlgError):
        fsl.solve(tri, b, assume_a="lower triangular")


def test_inputs_are_not_mutated(backend):
    rng = np.random.default_rng(8)
    a, b = _spd(rng, (3, 3)), rng.normal(size=(3, 2))
    ab, bb = backend.asarray(a), backend.asarray(b)
    fsl.solve_triangular(ab, bb, overwrite_b=True)
    fsl.cho_solve(fsl.cho_factor(ab, overwrite_a=True), bb, overwrite_b=True)
    fsl.solve(ab, bb, assume_a="pos", overwrite_a=True, overwrite_b=True)
    fsl.inv(ab, overwrite_a=True)
    np.testing.assert_array_equal(backend.to_numpy(ab), a)
    np.testing.assert_array_equal(backend.to_numpy(bb), b)


# -- transforms ----------------------------------------------------------------------------------


@pytest.mark.parametrize("fn", [
    lambda a, b: fsl.solve_triangular(a, b, lower=True, trans="T"),
    lambda a, b: fsl.cho_solve(fsl.cho_factor(a @ fnp.matrix_transpose(a) + 3.0 * fnp.eye(
        3, dtype=fnp.float64, device=fnp.device(b))), b),
    lambda a, b: fsl.solve(a, b, assume_a="sym"),
    lambda a, b: fsl.block_diag(a, b),
    lambda a, b: fsl.det(a) * b,
], ids=["solve_triangular", "cho_solve", "solve", "block_diag", "det"])
def test_vmap_matches_loop(backend, fn):
    rng = np.random.default_rng(9)
    a, b = _mat(rng, (4, 3, 3)), rng.normal(size=(4, 3))
    out = _np(backend, ft.vmap(fn)(backend.asarray(a), backend.asarray(b)))
    loop = np.stack([_np(backend, fn(backend.asarray(ai), backend.asarray(bi)))
                     for ai, bi in zip(a, b)])
    np.testing.assert_allclose(out, loop, rtol=1e-12)


def test_derivative_values(backend):
    """The derivative of solve_triangular in b is the triangular inverse (transposed)."""
    rng = np.random.default_rng(10)
    a = _mat(rng, (3, 3))
    ab = backend.asarray(a)
    jac = np.stack([_np(backend, ft.grad(lambda v: fsl.solve_triangular(ab, v, lower=True)[i])(
        backend.asarray(np.ones(3)))) for i in range(3)])
    np.testing.assert_allclose(jac, np.linalg.inv(np.tril(a)), rtol=1e-12, atol=1e-15)
    g = _np(backend, ft.grad(lambda m: fsl.det(m))(ab))
    np.testing.assert_allclose(g, np.linalg.det(a) * np.linalg.inv(a).T, rtol=1e-12)


def test_jit(backend):
    rng = np.random.default_rng(11)
    a, b = _spd(rng, (3, 3)), rng.normal(size=(3,))
    f = ft.jit(lambda m, v: fnp.sum(fsl.cho_solve(fsl.cho_factor(m), v))
               + fsl.det(fsl.block_diag(m, 2.0)))
    ref = np.sum(sl.cho_solve(sl.cho_factor(a), b)) + sl.det(sl.block_diag(a, 2.0))
    for _ in range(2):
        np.testing.assert_allclose(_np(backend, f(backend.asarray(a), backend.asarray(b))),
                                   ref, rtol=1e-12)


# -- expm ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("scale", [0.0, 1e-4, 0.3, 1.0, 4.0, 25.0])
@pytest.mark.parametrize("shape", [(1, 1), (3, 3), (5, 5), (2, 3, 3), (2, 1, 4, 4)])
def test_expm_values(backend, scale, shape):
    rng = np.random.default_rng(21)
    a = rng.normal(size=shape) * scale
    ref = sl.expm(a)
    out = _np(backend, fsl.expm(backend.asarray(a)))
    assert out.shape == ref.shape and out.dtype == np.float64
    # relative to each matrix's largest entry (the conditioning grows with the norm; at
    # scale 25 SciPy's own error reaches 1e-11 on one of these matrices, where this one's is
    # 5e-15 against a 50-digit mpmath.expm)
    size = np.max(np.abs(ref), axis=(-1, -2), keepdims=True)
    np.testing.assert_allclose(out / size, ref / size, rtol=0, atol=1e-12 * max(1.0, scale))


def test_expm_known_values_and_dtypes(backend):
    # a nilpotent matrix, a rotation generator, a diagonal one
    n = np.array([[0.0, 1.0, 2.0], [0.0, 0.0, 3.0], [0.0, 0.0, 0.0]])
    np.testing.assert_allclose(_np(backend, fsl.expm(backend.asarray(n))),
                               np.eye(3) + n + n @ n / 2.0, rtol=1e-15, atol=1e-15)
    r = np.array([[0.0, -2.0], [2.0, 0.0]])
    np.testing.assert_allclose(_np(backend, fsl.expm(backend.asarray(r))),
                               [[np.cos(2.0), -np.sin(2.0)], [np.sin(2.0), np.cos(2.0)]],
                               rtol=1e-14, atol=1e-15)
    d = np.diag([-30.0, 0.5, 12.0])
    np.testing.assert_allclose(_np(backend, fsl.expm(backend.asarray(d))),
                               np.diag(np.exp([-30.0, 0.5, 12.0])), rtol=1e-13, atol=1e-300)
    f32 = _np(backend, fsl.expm(backend.asarray(r, dtype="float32")))
    assert f32.dtype == np.float32
    np.testing.assert_allclose(f32, sl.expm(r.astype(np.float32)), rtol=1e-5, atol=1e-6)
    i = _np(backend, fsl.expm(backend.asarray([[1, 2], [0, 1]], dtype="int64")))
    assert i.dtype == np.float64
    np.testing.assert_allclose(i, sl.expm(np.array([[1, 2], [0, 1]])), rtol=1e-14)
    e = _np(backend, fsl.expm(backend.asarray(np.zeros((2, 0, 0)))))
    assert e.shape == (2, 0, 0)


def test_expm_errors(backend):
    with pytest.raises(ValueError, match="expm: the input array must be at least two"):
        fsl.expm(backend.asarray([1.0, 2.0]))
    with pytest.raises(ValueError, match="expm: the last 2 dimensions of the array must be "
                                         "square"):
        fsl.expm(backend.asarray(np.ones((2, 3))))


def test_expm_does_not_mutate(backend):
    a = np.array([[1.0, 2.0], [-3.0, 40.0]])
    x = backend.asarray(a)
    fsl.expm(x)
    np.testing.assert_array_equal(backend.to_numpy(x), a)


def test_expm_frechet_derivative(backend):
    """The JVP of expm is SciPy's Frechet derivative, for small and scaled matrices, eagerly
    and under jit (where the squarings are a staged loop)."""
    rng = np.random.default_rng(22)
    for scale in (0.2, 3.0, 40.0):
        a = rng.normal(size=(4, 4)) * scale
        e = rng.normal(size=(4, 4))
        ref = sl.expm_frechet(a, e, compute_expm=False)
        _, t = ft.jvp(fsl.expm, (backend.asarray(a),), (backend.asarray(e),))
        np.testing.assert_allclose(_np(backend, t) / np.abs(ref).max(), ref / np.abs(ref).max(),
                                   rtol=0, atol=1e-12)
        _, t = ft.jit(lambda x, v: ft.jvp(fsl.expm, (x,), (v,)))(backend.asarray(a),
                                                                 backend.asarray(e))
        np.testing.assert_allclose(_np(backend, t) / np.abs(ref).max(), ref / np.abs(ref).max(),
                                   rtol=0, atol=1e-12)
        # reverse mode: <E, grad of <W, expm(A)>> equals <W, L(A, E)>
        w = rng.normal(size=(4, 4))
        g = ft.grad(lambda x: fnp.sum(fsl.expm(x) * backend.asarray(w)))(backend.asarray(a))
        np.testing.assert_allclose(np.sum(_np(backend, g) * e), np.sum(w * ref), rtol=1e-11)


def test_expm_jit_and_vmap(backend):
    """Matrices of one batch with different numbers of squarings, under jit, vmap and both:
    as eagerly, and as SciPy."""
    rng = np.random.default_rng(23)
    a = rng.normal(size=(4, 3, 3)) * np.array([0.01, 1.0, 10.0, 100.0])[:, None, None]
    ref = sl.expm(a)
    size = np.max(np.abs(ref), axis=(-1, -2), keepdims=True)
    for f in (fsl.expm, ft.jit(fsl.expm), ft.vmap(fsl.expm), ft.jit(ft.vmap(fsl.expm))):
        out = _np(backend, f(backend.asarray(a)))
        np.testing.assert_allclose(out / size, ref / size, rtol=0, atol=1e-11)
    loop = np.stack([_np(backend, fsl.expm(backend.asarray(ai))) for ai in a])
    np.testing.assert_allclose(_np(backend, ft.vmap(fsl.expm)(backend.asarray(a))), loop,
                               rtol=1e-13, atol=1e-300)


def test_triangular_solves_are_triangular_solves():
    """solve_triangular, cho_solve and a triangular assume_a bind the triangular-solve
    primitive (O(M^2) a column), not the general solver."""
    a = np.tril(np.random.default_rng(3).normal(size=(4, 4))) + 4 * np.eye(4)
    b = np.ones((4, 2))
    for f, n in ((lambda a, b: fsl.solve_triangular(a, b, lower=True, trans=1), 1),
                 (lambda a, b: fsl.cho_solve((a, True), b), 2),
                 (lambda a, b: fsl.solve(a, b, assume_a="lower triangular"), 1)):
        text = str(ft.make_graph(f)(a, b))
        assert text.count("triangular_solve") == n and " solve " not in text, text
