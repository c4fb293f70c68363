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
    missing = sorted(n for n in public if "scipy.linalg." + n not in tested
                     and n not in NO_DERIVATIVE)
    assert not missing, f"functrans.scipy.linalg functions missing from TABLE: {missing}"


# Functions with no derivative, with the reason (their values are tested below).
NO_DERIVATIVE = {
    "schur": "the factors are not unique (it raises; reached by scipy.linalg.schur_basis)",
    "funm": "through schur",
    "dft": "no array input", "hadamard": "no array input", "helmert": "no array input",
    "hilbert": "no array input", "invhilbert": "no array input", "pascal": "no array input",
    "invpascal": "no array input",
}


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


def test_singular_and_indefinite_matrices_raise(backend, request):
    if backend.name == "jax":  # (the standard leaves a singular solve unspecified)
        request.applymarker(pytest.mark.xfail(strict=True, reason=(
            "JAX's linalg.solve of a singular matrix returns inf/nan instead of raising")))
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


# -- linalg14: matrix equations, matrix functions, decompositions, special matrices ---------


def _close(backend, out, ref, rtol=1e-10, atol=1e-12):
    out = _np(backend, out)
    assert out.shape == np.shape(ref) and out.dtype == np.asarray(ref).dtype, \
        (out.shape, np.shape(ref), out.dtype, np.asarray(ref).dtype)
    np.testing.assert_allclose(out, ref, rtol=rtol, atol=atol)


def _numpy_only(backend):
    if backend.name != "numpy":
        pytest.skip("through SciPy: NumPy arrays only (the error is tested below)")


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_matrix_equations(backend, dtype):
    rng = np.random.default_rng(30)
    tol = _rtol(dtype) * 10
    a, b = _mat(rng, (2, 3, 3)).astype(dtype), (_mat(rng, (2, 2)) - 4 * np.eye(2)).astype(dtype)
    q = rng.normal(size=(3, 2)).astype(dtype)
    ab, bb, qb = (backend.asarray(x, dtype) for x in (a, b, q))
    ref = sl.solve_sylvester(a, b, np.broadcast_to(q, (2, 3, 2)))
    _close(backend, fsl.solve_sylvester(ab, bb, qb), ref, tol, 1e-5)
    q3 = rng.normal(size=(3, 3)).astype(dtype)
    _close(backend, fsl.solve_continuous_lyapunov(ab[0, ...], backend.asarray(q3, dtype)),
           sl.solve_continuous_lyapunov(a[0], q3), tol, 1e-5)
    for method in (None, "direct", "bilinear"):
        out = fsl.solve_discrete_lyapunov(ab * 0.3, backend.asarray(q3, dtype), method=method)
        ref = sl.solve_discrete_lyapunov(a * 0.3, q3, method=method)
        _close(backend, out, ref.astype(np.float64), tol, 1e-5)   # (float64, as SciPy's)
    big = _mat(rng, (11, 11)) * 0.1
    _close(backend, fsl.solve_discrete_lyapunov(backend.asarray(big), backend.asarray(big)),
           sl.solve_discrete_lyapunov(big, big))
    # integers become float64; complex stays complex
    ai = np.array([[3, 1], [0, 2]])
    _close(backend, fsl.solve_sylvester(backend.asarray(ai, "int64"),
                                        backend.asarray(ai, "int64"),
                                        backend.asarray(ai, "int64")),
           sl.solve_sylvester(ai, ai, ai))
    ac = (a[0] + 0.5j * rng.normal(size=(3, 3))).astype(np.complex128)
    _close(backend, fsl.solve_continuous_lyapunov(backend.asarray(ac, "complex128"),
                                                  backend.asarray(q3, "complex128")),
           sl.solve_continuous_lyapunov(ac, q3.astype(np.complex128)))
    with pytest.raises(ValueError, match="solve_sylvester: q must be"):
        fsl.solve_sylvester(ab, bb, backend.asarray(q3, dtype))
    with pytest.raises(ValueError, match="unknown method 'fast'"):
        fsl.solve_discrete_lyapunov(ab, ab, method="fast")


def test_sylvester_is_linear_in_q_and_nests(backend):
    """The primitive's transpose (reverse mode in q alone) and its second derivative in a."""
    rng = np.random.default_rng(31)
    a, b, q = _mat(rng, (3, 3)), _mat(rng, (2, 2)), rng.normal(size=(3, 2))
    ab, bb, qb = backend.asarray(a), backend.asarray(b), backend.asarray(q)
    w = rng.normal(size=(3, 2))
    g = _np(backend, ft.grad(lambda x: fnp.sum(fsl.solve_sylvester(ab, bb, x)
                                               * backend.asarray(w)))(qb))
    np.testing.assert_allclose(g, sl.solve_sylvester(a.T, b.T, w), rtol=1e-10)
    from functrans.testing import check_grads
    check_grads(lambda x: fsl.solve_sylvester(x, bb, qb), (ab,), order=2)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_sqrtm(backend, dtype):
    rng = np.random.default_rng(32)
    for a in (_spd(rng, (3, 3)), _mat(rng, (2, 4, 4)), np.array([[4.0]])):
        a = a.astype(dtype)
        x = fsl.sqrtm(backend.asarray(a, dtype))
        ref = sl.sqrtm(a)
        _close(backend, x, ref.astype(dtype), _rtol(dtype) * 10, 1e-5)
    x, err = fsl.sqrtm(backend.asarray(a, dtype), disp=False)
    assert float(_np(backend, err).max()) < 1e-4
    ac = rng.normal(size=(3, 3)) + 1j * rng.normal(size=(3, 3))
    _close(backend, fsl.sqrtm(backend.asarray(ac, "complex128")), sl.sqrtm(ac), 1e-8, 1e-10)
    _close(backend, fsl.sqrtm(backend.asarray([[4, 0], [0, 9]], "int64")),
           np.array([[2.0, 0.0], [0.0, 3.0]]))
    # a negative eigenvalue: SciPy gives a complex array; a real input here raises
    with pytest.raises(ValueError, match="sqrtm: .*negative real axis"):
        fsl.sqrtm(backend.asarray(np.diag([-1.0, 4.0]), dtype))
    neg = np.diag([-1.0, 4.0]).astype(np.complex128)
    if backend.name == "numpy":
        _close(backend, fsl.sqrtm(backend.asarray(neg, "complex128")), sl.sqrtm(neg))
    else:   # (the Denman-Beavers iteration needs no eigenvalue on the negative real axis)
        with pytest.raises(ValueError, match="did not converge"):
            fsl.sqrtm(backend.asarray(neg, "complex128"))


def test_sqrtm_derivative_is_a_sylvester_solve(backend):
    """grad of <W, sqrtm(A)> is the Sylvester solve of the transposed square root, and the
    Hessian-vector product (sylvester's own JVP) matches finite differences."""
    rng = np.random.default_rng(33)
    a, w = _mat(rng, (3, 3)), rng.normal(size=(3, 3))
    g = ft.grad(lambda x: fnp.sum(fsl.sqrtm(x) * backend.asarray(w)))(backend.asarray(a))
    s = sl.sqrtm(a)
    np.testing.assert_allclose(_np(backend, g), sl.solve_sylvester(s.T, s.T, w), rtol=1e-9)
    text = str(ft.make_graph(ft.grad(lambda x: fnp.sum(fsl.sqrtm(x))))(a))
    assert "sylvester" in text and "sqrtm" in text


def test_schur_and_funm_values():
    rng = np.random.default_rng(34)
    a = rng.normal(size=(4, 4))
    for output in ("real", "complex", "r", "c"):
        t, z = fsl.schur(a, output=output)
        rt, rz = sl.schur(a, output=output)
        _close(_NumPyCase, t, rt)
        _close(_NumPyCase, z, rz)
    t, z, sdim = fsl.schur(a, sort="lhp")
    rt, rz, rsdim = sl.schur(a, sort="lhp")
    _close(_NumPyCase, t, rt)
    assert int(sdim) == rsdim
    f32 = a.astype(np.float32)
    assert fsl.schur(f32)[0].dtype == np.float32
    assert fsl.schur(f32, "complex")[0].dtype == np.complex64
    stack = rng.normal(size=(2, 3, 3))
    _close(_NumPyCase, fsl.schur(stack)[0], np.stack([sl.schur(m)[0] for m in stack]))
    # funm: real results where SciPy gives them, complex where the values are
    spd = _spd(rng, (4, 4))
    for m, f in ((a, np.exp), (a, np.sin), (spd, np.sqrt), (a, np.sqrt)):
        _close(_NumPyCase, fsl.funm(m, f), sl.funm(m, f), 1e-8, 1e-10)
    f, err = fsl.funm(a, np.exp, disp=False)
    assert isinstance(err, float) and err < 1e-10
    with pytest.raises(ValueError, match="schur: output must be"):
        fsl.schur(a, output="upper")


class _NumPyCase:
    name = "numpy"

    @staticmethod
    def is_own(x):
        return isinstance(x, np.ndarray)

    @staticmethod
    def to_numpy(x):
        return np.asarray(x)


def test_schur_needs_scipy_and_has_no_derivative(backend):
    a = backend.asarray(_mat(np.random.default_rng(35), (3, 3)))
    if backend.name != "numpy":
        from functrans.errors import UnsupportedBackendError
        for f in (fsl.schur, lambda m: fsl.funm(m, fnp.exp)):
            with pytest.raises(UnsupportedBackendError, match=f"schur: the {backend.name!r} "
                                                              f"backend has no schur"):
                f(a)
        return
    for f in (lambda m: fsl.schur(m)[0], lambda m: fnp.real(fsl.funm(m, fnp.exp))):
        with pytest.raises(NotImplementedError, match="schur has no derivative"):
            ft.grad(lambda m: fnp.sum(f(m)))(a)
    # vmap and jit of the primitive: as a loop / eagerly
    stack = backend.asarray(np.random.default_rng(36).normal(size=(2, 3, 3)))
    _close(backend, ft.vmap(lambda m: fsl.schur(m)[0])(stack), _np(backend, fsl.schur(stack)[0]))
    _close(backend, ft.jit(lambda m: fsl.schur(m, "complex")[1])(a),
           _np(backend, fsl.schur(a, "complex")[1]))


def test_rsf2csf_and_hessenberg(backend):
    rng = np.random.default_rng(37)
    a = rng.normal(size=(5, 5))
    t, z = sl.schur(a)
    ct, cz = fsl.rsf2csf(backend.asarray(t), backend.asarray(z))
    rt, rz = sl.rsf2csf(t, z)
    _close(backend, ct, rt)
    _close(backend, cz, rz)
    t32 = fsl.rsf2csf(backend.asarray(t, "float32"), backend.asarray(z, "float32"))[0]
    assert _np(backend, t32).dtype == np.complex64
    # 2x2 blocks with real eigenvalues (LAPACK's first one on top, as SciPy), a lower
    # triangular block, and T that is no real Schur form (a clear error, also under grad)
    z4 = rng.normal(size=(4, 4))
    for tt in ([[1.0, 2.0], [3.0, 4.0]], [[1.0, 0.0], [3.0, 4.0]], [[2.0, 1.0], [1.0, 2.0]],
               np.triu(a[:4, :4], 1) + np.diag([1.0, 2.0, 1.0, 5.0]) + np.diag([0, 0, 3.0], -1)):
        tt, zz = np.asarray(tt), z4[:len(tt), :len(tt)]
        for got, want in zip(fsl.rsf2csf(backend.asarray(tt), backend.asarray(zz)),
                             sl.rsf2csf(tt, zz)):
            _close(backend, got, want)
    for bad, what in ((a, "below the subdiagonal"), (np.triu(a, -1), "both nonzero")):
        with pytest.raises(ValueError, match=what):
            fsl.rsf2csf(backend.asarray(bad), backend.asarray(z))
        with pytest.raises(ValueError, match=what):
            ft.grad(lambda m: fnp.sum(fnp.real(fsl.rsf2csf(m, backend.asarray(z))[0])))(
                backend.asarray(bad))
    for m in (a, a + 1j * rng.normal(size=(5, 5)), rng.normal(size=(2, 4, 4))):
        dt = "complex128" if np.iscomplexobj(m) else "float64"
        h, q = fsl.hessenberg(backend.asarray(m, dt), calc_q=True)
        rh, rq = (np.stack(r) for r in zip(*[sl.hessenberg(x, calc_q=True) for x in
                                             m.reshape(-1, *m.shape[-2:])]))
        _close(backend, h, rh.reshape(m.shape))
        _close(backend, q, rq.reshape(m.shape))
    _close(backend, fsl.hessenberg(backend.asarray(a, "float32")),
           sl.hessenberg(a.astype(np.float32)), 1e-4, 1e-5)
    _close(backend, fsl.hessenberg(backend.asarray(np.ones((2, 2)))), np.ones((2, 2)))


def test_polar_expm_frechet_qr_multiply(backend):
    rng = np.random.default_rng(38)
    for shape in ((4, 3), (3, 4), (3, 3)):
        a = rng.normal(size=shape)
        for side in ("right", "left"):
            for o, r in zip(fsl.polar(backend.asarray(a), side), sl.polar(a, side)):
                _close(backend, o, r)
    u, p = fsl.polar(backend.asarray(a, "float32"))
    assert _np(backend, p).dtype == np.float32
    a, e = rng.normal(size=(3, 3)), rng.normal(size=(3, 3))
    for o, r in zip(fsl.expm_frechet(backend.asarray(a), backend.asarray(e)),
                    sl.expm_frechet(a, e)):
        _close(backend, o, r)
    out = fsl.expm_frechet(backend.asarray(a, "float32"), backend.asarray(e, "float32"),
                           compute_expm=False, method="SPS")
    _close(backend, out, sl.expm_frechet(a.astype(np.float32), e.astype(np.float32),
                                         compute_expm=False), 1e-5, 1e-6)
    a = rng.normal(size=(4, 3))
    for c, mode in (((2, 4), "right"), ((4,), "right"), ((3, 2), "left"), ((3,), "left")):
        c = rng.normal(size=c)
        for conjugate in (False, True):
            out = fsl.qr_multiply(backend.asarray(a), backend.asarray(c), mode=mode,
                                  conjugate=conjugate)
            ref = sl.qr_multiply(a, c, mode=mode, conjugate=conjugate)
            _close(backend, out[0], ref[0])
            _close(backend, out[1], ref[1])
    with pytest.raises(ValueError, match="polar: side"):
        fsl.polar(backend.asarray(a), side="up")
    out = fsl.qr_multiply(backend.asarray(a), backend.asarray(c), mode="left", pivoting=True)
    ref = sl.qr_multiply(a, c, mode="left", pivoting=True)  # (pivoting supported now)
    for x, y in zip(out, ref):
        _close(backend, x, y)


def test_eigh_tridiagonal(backend):
    rng = np.random.default_rng(39)
    d, e = rng.normal(size=5), rng.normal(size=4)
    db, eb = backend.asarray(d), backend.asarray(e)
    w, v = fsl.eigh_tridiagonal(db, eb)
    rw, rv = sl.eigh_tridiagonal(d, e)
    _close(backend, w, rw)
    _close(backend, fnp.abs(v), np.abs(rv))            # (the vectors' signs are the solver's)
    for kw in (dict(select="i", select_range=(1, 3)), dict(select="v", select_range=(-0.5, 1.0))):
        _close(backend, fsl.eigh_tridiagonal(db, eb, eigvals_only=True, **kw),
               sl.eigh_tridiagonal(d, e, eigvals_only=True, **kw))
    w32 = fsl.eigh_tridiagonal(backend.asarray(d, "float32"), backend.asarray(e, "float32"))[0]
    assert _np(backend, w32).dtype == np.float32
    with pytest.raises(ValueError, match="select must be"):
        fsl.eigh_tridiagonal(db, eb, select="x")


SPECIAL_VECTORS = {
    "circulant": lambda f, x: f(x), "companion": lambda f, x: f(x),
    "fiedler": lambda f, x: f(x), "fiedler_companion": lambda f, x: f(x),
    "hankel": lambda f, x: (f(x), f(x, fnp.flip(x, axis=-1))),
    "leslie": lambda f, x: f(x, x[..., 1:]),
    "convolution_matrix": lambda f, x: tuple(f(x, n, mode) for n in (1, 3, 6)
                                             for mode in ("full", "same", "valid")),
}


@pytest.mark.parametrize("name", sorted(SPECIAL_VECTORS))
def test_special_matrices_of_a_vector(backend, name):
    """Exactly SciPy's values and dtypes (floats, integers, float32; batches where SciPy 1.17
    batches)."""
    call = SPECIAL_VECTORS[name]
    ours, theirs = getattr(fsl, name), getattr(sl, name)
    for x, dt in ((np.array([2.0, -1.5, 0.5, 3.0, 1.0]), "float64"),
                  (np.array([3, 1, -4, 2]), "int64"), (np.array([2.0, 0.5, 1.0]), "float32"),
                  (np.array([[2.0, 1.0, -1.0], [0.5, 3.0, 4.0]]), "float64")):
        if name == "hankel" and x.ndim > 1:   # (flattened, as SciPy 1.17)
            continue
        out = call(ours, backend.asarray(x, dt))
        ref = call(theirs, x.astype(dt))
        for o, r in zip(out if isinstance(out, tuple) else (out,),
                        ref if isinstance(ref, tuple) else (ref,)):
            o = _np(backend, o)
            assert o.dtype == r.dtype and o.shape == r.shape, (o.dtype, r.dtype, o.shape, r.shape)
            np.testing.assert_array_equal(o, r)


def test_special_matrices_without_input():
    for n in (1, 2, 3, 6):
        for scale in (None, "sqrtn", "n"):
            _close(_NumPyCase, fsl.dft(n, scale), sl.dft(n, scale), 1e-14, 1e-14)
        for full in (False, True):
            _close(_NumPyCase, fsl.helmert(n, full), sl.helmert(n, full), 1e-15, 1e-15)
        _close(_NumPyCase, fsl.hilbert(n), sl.hilbert(n), 0, 0)
        for kind in ("symmetric", "upper", "lower"):
            for exact in (True, False):
                for f in ("pascal", "invpascal"):
                    _close(_NumPyCase, getattr(fsl, f)(n, kind, exact),
                           getattr(sl, f)(n, kind, exact), 0, 0)
    for n in (1, 2, 4, 16):
        _close(_NumPyCase, fsl.hadamard(n), sl.hadamard(n), 0, 0)
    _close(_NumPyCase, fsl.hadamard(4, float), sl.hadamard(4, float), 0, 0)
    for n in (1, 4, 14):
        _close(_NumPyCase, fsl.invhilbert(n, exact=True), sl.invhilbert(n, exact=True), 0, 0)
        _close(_NumPyCase, fsl.invhilbert(n), sl.invhilbert(n), 1e-12, 0)
    _close(_NumPyCase, fsl.pascal(34), sl.pascal(34), 0, 0)
    _close(_NumPyCase, fsl.invpascal(34), sl.invpascal(34), 0, 0)
    for f, n in ((fsl.pascal, 35), (fsl.invpascal, 35), (fsl.invhilbert, 15)):
        with pytest.raises(ValueError, match="exact=True with n >"):
            f(n, exact=True)
    with pytest.raises(ValueError, match="power of 2"):
        fsl.hadamard(6)
    with pytest.raises(ValueError, match="kind must be"):
        fsl.pascal(3, kind="left")
