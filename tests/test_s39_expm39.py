"""Session 39, expm39: expm of a non-finite matrix under jit (the expm_nonfinite_fix
primitive): the eager values (SciPy's for a diagonal matrix, the limit for -inf rows and
columns), and the ordinary matrices' results unchanged."""
import numpy as np
import pytest

import functrans as ft
import functrans.scipy.linalg as fsl
from functrans.primitives import linalg as _PL

inf, nan = np.inf, np.nan
E = np.e

# (matrix, expected expm): SciPy's for the diagonal ones, the limit for the -inf row/column
NONFINITE = [
    ([[inf, 0.], [0., 1.]], [[inf, 0.], [0., E]]),
    ([[-inf, 0.], [0., 1.]], [[0., 0.], [0., E]]),
    ([[nan, 0.], [0., 1.]], [[nan, 0.], [0., E]]),
    ([[-inf, 1.], [0., 1.]], [[0., 0.], [0., E]]),
    ([[1., 0., 0.], [0., -inf, 2.], [0., 3., 0.]], [[E, 0., 0.], [0., 0., 0.], [0., 0., 1.]]),
    ([[inf, 1.], [0., 1.]], [[nan, nan], [nan, nan]]),
    ([[1., nan], [0., 1.]], [[nan, nan], [nan, nan]]),
]


@pytest.mark.parametrize("a, expected", NONFINITE)
def test_jit_nonfinite_equals_eager(a, expected):
    a = np.array(a)
    with np.errstate(all="ignore"):
        staged = ft.jit(fsl.expm)(a)
        eager = fsl.expm(a)
    np.testing.assert_array_equal(eager, staged)
    np.testing.assert_allclose(staged, expected, rtol=1e-15, atol=0)


def test_jit_vmap_stack_only_nonfinite_matrices_replaced():
    rng = np.random.default_rng(39)
    good = rng.standard_normal((2, 3, 3))
    stack = np.concatenate([good[:1], np.diag([inf, 1., -2.])[None], good[1:]])
    with np.errstate(all="ignore"):
        for f in (ft.jit(fsl.expm), ft.jit(ft.vmap(fsl.expm)), ft.vmap(ft.jit(fsl.expm))):
            r = f(stack)
            np.testing.assert_array_equal(r[1], np.diag([inf, E, np.exp(-2.)]))
            # the finite matrices: jit's own values, untouched
            np.testing.assert_array_equal(r[[0, 2]], ft.jit(fsl.expm)(good))


def test_jit_nonfinite_backends(backend):
    a = np.array([[[inf, 0.], [0., 1.]], [[-inf, 1.], [0., 2.]], [[1., 2.], [3., 4.]]])
    x = backend.asarray(a)
    with np.errstate(all="ignore"):
        r = ft.jit(fsl.expm)(x)
    assert backend.is_own(r)
    r = np.asarray(backend.to_numpy(r))
    np.testing.assert_array_equal(r[0], np.diag([inf, E]))
    np.testing.assert_allclose(r[1], np.diag([0., np.exp(2.)]), rtol=1e-15, atol=0)
    with np.errstate(all="ignore"):
        eager = np.asarray(backend.to_numpy(fsl.expm(x)))
    np.testing.assert_array_equal(r[:2], eager[:2])
    np.testing.assert_allclose(r[2], np.asarray(fsl.expm(a[2])), rtol=1e-14)


def test_jit_nonfinite_float32_and_complex():
    a = np.array([[inf, 0.], [0., 1.]])
    with np.errstate(all="ignore"):
        r32 = ft.jit(fsl.expm)(a.astype(np.float32))
        rc = ft.jit(fsl.expm)(a.astype(np.complex128))
    assert r32.dtype == np.float32 and rc.dtype == np.complex128
    np.testing.assert_array_equal(r32, fsl.expm(a.astype(np.float32)))
    np.testing.assert_array_equal(rc, fsl.expm(a.astype(np.complex128)))


def test_jit_scipy_agrees_on_diagonal():
    scipy_linalg = pytest.importorskip("scipy.linalg")
    for d in ([inf, 1.], [-inf, 1.], [inf, -inf, 0.5]):
        np.testing.assert_array_equal(ft.jit(fsl.expm)(np.diag(d)),
                                      scipy_linalg.expm(np.diag(d)))


def test_fix_primitive_rules():
    rng = np.random.default_rng(3)
    a = rng.standard_normal((2, 2))
    r = rng.standard_normal((2, 2))
    # finite a: result unchanged (the same object's values); tangent: result's tangent
    np.testing.assert_array_equal(_PL.expm_nonfinite_fix(a, r), r)
    da, dr = rng.standard_normal((2, 2)), rng.standard_normal((2, 2))
    out, t = ft.jvp(_PL.expm_nonfinite_fix, (a, r), (da, dr))
    np.testing.assert_array_equal(out, r)
    np.testing.assert_array_equal(t, dr)
    # a sum that overflows is not mistaken for a non-finite entry
    big = np.array([[1e308, 1e308], [0., 1.]])
    np.testing.assert_array_equal(_PL.expm_nonfinite_fix(big, r), r)
    # batching: each matrix on its own
    stack = np.stack([a, np.diag([inf, 0.])])
    rs = np.stack([r, r])
    out = ft.vmap(_PL.expm_nonfinite_fix)(stack, rs)
    np.testing.assert_array_equal(out[0], r)
    np.testing.assert_array_equal(out[1], np.diag([inf, 1.]))


def test_ordinary_matrices_one_fix_node_and_derivatives():
    rng = np.random.default_rng(5)
    a = rng.standard_normal((3, 3))
    jaxpr = str(ft.make_jaxpr(fsl.expm)(a))
    assert jaxpr.count("expm_nonfinite_fix") == 1
    assert "stop_gradient" not in jaxpr
    np.testing.assert_array_equal(ft.jit(fsl.expm)(a), fsl.expm(a))
    v = rng.standard_normal((3, 3))
    u = rng.standard_normal((3, 3))
    _, jv = ft.jit(lambda x, t: ft.jvp(fsl.expm, (x,), (t,)))(a, v)
    h = 1e-6
    fd = (fsl.expm(a + h * v) - fsl.expm(a - h * v)) / (2 * h)
    np.testing.assert_allclose(jv, fd, rtol=1e-7, atol=1e-8)
    g = ft.jit(ft.grad(lambda x: (fsl.expm(x) * u).sum()))(a)
    # the dot-product identity <u, J v> = <J^T u, v>
    np.testing.assert_allclose((u * jv).sum(), (g * v).sum(), rtol=1e-12)
