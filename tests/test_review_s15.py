"""Review s15: functrans.scipy.linalg (sqrtm's real-result check and error estimate, funm's
real-result rule), spatial.transform.Rotation (as_mrp at half turns, mean's axis), interpolate's
RegularGridInterpolator differentiated as a pytree on every library, ndimage.map_coordinates'
SciPy conventions; and the problems found in files owned elsewhere (fixed there, each with
its reason)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import scipy.ndimage

import functrans as ft
import functrans.lax as flax
import functrans.numpy as fnp
import functrans.scipy.linalg as fsl
from functrans.scipy.interpolate import RegularGridInterpolator
from functrans.scipy.ndimage import map_coordinates
from functrans.scipy.spatial.transform import Rotation


# -- scipy.linalg -------------------------------------------------------------------------

def test_sqrtm_tiny_matrix_with_a_negative_eigenvalue_raises():
    # its root is imaginary (1e-15 i); the check was absolute (imaginary parts below 2e-13
    # counted as rounding) and gave diag(0, 2e-15) silently
    a = np.diag([-1e-30, 4e-30])
    with pytest.raises(ValueError, match="negative real axis"):
        fsl.sqrtm(a)
    with pytest.raises(ValueError, match="negative real axis"):  # one matrix of a stack
        fsl.sqrtm(np.stack([np.eye(2) * 1e10, a]))
    r = np.array([[0.0, -1e-30], [1e-30, 0.0]])  # eigenvalues +-1e-30 i: a real root
    np.testing.assert_allclose(fsl.sqrtm(r), scipy.linalg.sqrtm(r).real, rtol=1e-12)


def test_sqrtm_error_estimate_is_scipys(backend):
    a = np.array([[4.0, 1.0], [0.5, 3.0]])
    x, err = fsl.sqrtm(backend.asarray(a), disp=False)
    xn = backend.to_numpy(x)
    # SciPy's errest: ||X X - A||_F squared over ||A||_F (1e-32 here, not 1e-16)
    want = np.linalg.norm(xn @ xn - a, "fro") ** 2 / np.linalg.norm(a, "fro")
    np.testing.assert_allclose(backend.to_numpy(err), want, rtol=1e-6, atol=1e-300)
    assert backend.to_numpy(err) < 1e-25


def test_funm_real_result_rule_is_scipys():
    sq = lambda z: np.sqrt(z.astype(complex))  # noqa: E731
    for scale in (1e-20, 1e-14):
        a = np.array([[-1.0, 0.3], [0.0, 4.0]]) * scale
        got, want = fsl.funm(a, sq), scipy.linalg.funm(a, sq)
        assert np.asarray(got).dtype == want.dtype  # float64 at 1e-20 (was complex128)
        np.testing.assert_allclose(got, want, rtol=1e-8, atol=0)


# -- spatial.transform --------------------------------------------------------------------

def test_rotation_as_mrp_at_a_half_turn_keeps_the_quaternions_sign(backend):
    from scipy.spatial.transform import Rotation as SR
    q = np.array([[0.0, -1.0, 0.0, 0.0], [0.6, 0.0, -0.8, 0.0], [0.0, 0.0, 0.6, -0.8]])
    got = Rotation.from_quat(backend.asarray(q)).as_mrp()
    assert backend.is_own(got)
    # SciPy flips only where w < 0: (0, -1, 0, 0) gives (0, -1, 0) (was (0, 1, 0))
    np.testing.assert_allclose(backend.to_numpy(got), SR.from_quat(q).as_mrp(), atol=1e-15)


def test_rotation_mean_over_axes_as_scipy(backend):
    from scipy.spatial.transform import Rotation as SR
    rng = np.random.default_rng(3)
    q, w = rng.standard_normal((2, 3, 4)), rng.uniform(0.1, 1.0, (2, 3))
    for axis, weights in ((1, w), ((0,), w[:, :1]), (None, None)):
        got = Rotation.from_quat(backend.asarray(q)).mean(
            None if weights is None else backend.asarray(weights), axis=axis).as_matrix()
        want = SR.from_quat(q).mean(weights, axis=axis).as_matrix()  # (2,), (3,), ()
        np.testing.assert_allclose(backend.to_numpy(got), want, atol=1e-12)
    with pytest.raises(ValueError, match="axis"):
        Rotation.from_quat(q).mean(axis=2)


# -- interpolate --------------------------------------------------------------------------

def test_regular_grid_interpolator_grad_of_the_interpolator(backend):
    # the number fill_value is a leaf: it was differentiated as a NumPy value, which
    # another library's values refused to meet (BackendMismatchError on torch,
    # array-api-strict)
    g = backend.asarray([0.0, 1.0, 2.0])
    interp = RegularGridInterpolator((g,), backend.asarray([1.0, 3.0, 2.0]), fill_value=0.5)
    q = backend.asarray([[-1.0], [0.5], [3.0], [4.0]])
    grads = ft.grad(lambda it: fnp.sum(it(q)))(interp)
    assert backend.is_own(grads.values) and backend.is_own(grads.fill_value)
    np.testing.assert_allclose(backend.to_numpy(grads.values), [0.5, 0.5, 0.0])
    np.testing.assert_allclose(backend.to_numpy(grads.fill_value), 3.0)  # three outside
    out = RegularGridInterpolator((g,), backend.asarray([1.0, 3.0, 2.0]))(q)  # nan fill
    np.testing.assert_allclose(backend.to_numpy(out), [np.nan, 2.0, np.nan, np.nan])


# -- ndimage (documented: SciPy's rule where JAX's differs) ------------------------------

def test_map_coordinates_half_way_and_integer_cval_follow_scipy():
    x = np.arange(1, 6)
    c = [[-3.0, -0.5, 0.25, -0.75, -1.5, 4.5]]
    for order in (0, 1):
        got = map_coordinates(x, c, order, mode="constant", cval=1.5)
        want = scipy.ndimage.map_coordinates(x, c, order=order, mode="grid-constant",
                                             cval=1.5)
        np.testing.assert_array_equal(got, want)
    got = map_coordinates(x * 1.0, [[-0.5, -1.5]], 0, mode="wrap")
    np.testing.assert_array_equal(got, [1.0, 5.0])  # indices 0 and -1 (JAX: -1 and -2)


# -- found in files owned elsewhere (fixed there) ----------------------------------------------

# array_methods.py _IndexUpdate._in_bounds made a list index a NumPy array, not on x's library
def test_at_list_index_with_mode_on_another_library():
    xs = pytest.importorskip("array_api_strict")
    x = xs.asarray([1.0, 2.0, 3.0])
    out = ft.jit(lambda a: a.at[[0, 5]].set(9.0, mode="drop"))(x)
    np.testing.assert_array_equal(np.asarray(out), [9.0, 2.0, 3.0])


# control_flow.py map(batch_size=) of an empty axis had no parts to concatenate
def test_lax_map_batch_size_of_an_empty_axis():
    out = flax.map(lambda r: r * 2.0, np.zeros((0, 2)), batch_size=3)
    assert tuple(out.shape) == (0, 2)
