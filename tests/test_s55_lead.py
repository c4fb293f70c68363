"""Session 55, lead: functrans.nn.squareplus at the edges of its slope.

- ``grad(squareplus)(0.0)`` warned "divide by zero" (the slope for x >= 0 is written
  ``(1 + 1 / hypot(1, c / x)) / 2``: c / 0 = inf, then 1 / inf = 0 and the value 1/2 right),
  and so did every x below c / 1.8e308 (c / x overflowed, e.g. x = 1e-320). x is now held at
  c 1e-300 or more, where the slope rounds to 1/2 either way: the slopes are bit for bit those
  of session 54 (10,007 points x 5 b, first and second derivatives, a number and an array b).
- squareplus's third derivatives in x and b (session 54 checked up to the second) against
  their closed forms in mpmath: all within 1.5e-15 relative on x from -1e300 to 1e300.
"""

import warnings

import numpy as np
import pytest

import functrans as ft
import functrans.nn as fnn
from tests._reference import mpmath_or_skip as _mp


@pytest.mark.parametrize("x", [0.0, -0.0, 1e-320, 5e-324])
def test_squareplus_slope_at_zero_silent(x):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ft.grad(fnn.squareplus)(x) == 0.5
        assert ft.grad(ft.grad(fnn.squareplus))(x) == 0.25
        gx, gb = ft.grad(fnn.squareplus, argnums=(0, 1))(x, np.array(4.0))
        assert gx == 0.5 and gb == 0.125
        xs = np.array([x, 2.0, -2.0, np.inf, -np.inf])
        got = ft.vmap(ft.grad(fnn.squareplus))(xs)
    np.testing.assert_allclose(got, [0.5, (1 + 2 / 8 ** 0.5) / 2, (1 - 2 / 8 ** 0.5) / 2, 1.0, 0.0],
                               rtol=1e-15)


def _third_closed(x, b, which, mpmath):
    with mpmath.workdps(60):
        x, b = mpmath.mpf(x), mpmath.mpf(b)
        h = mpmath.sqrt(x * x + b)
        return float({"xxx": -3 * b * x / (2 * h ** 5), "xxb": (2 * x * x - b) / (4 * h ** 5),
                      "xbb": 3 * x / (8 * h ** 5), "bbb": 3 / (16 * h ** 5)}[which])


@pytest.mark.parametrize("which", ["xxx", "xxb", "xbb", "bbb"])
def test_squareplus_third_derivatives(which):
    mpmath = _mp()
    argnums = [0 if c == "x" else 1 for c in which]
    rev = fnn.squareplus
    fwd = fnn.squareplus
    for a in argnums:
        rev = ft.grad(rev, argnums=a)
    for a in argnums[:2]:
        fwd = ft.jacfwd(fwd, argnums=a)
    fwd = ft.grad(fwd, argnums=argnums[2])     # forward over forward, then reverse
    for x in [1e8, 3e4, 2.0, 0.5, 0.0, -0.5, -2.0, -1e3, -1e8, 1e20, -1e20, 1e60]:
        for b in [1.36, 1e-4, 1e4]:
            ref = _third_closed(x, b, which, mpmath)
            for g in (rev, fwd):
                got = float(g(x, np.array(b)))
                assert got == pytest.approx(ref, rel=4e-15, abs=0.0), (which, x, b, got, ref)


# -- experimental.sparse: fromdense beside empty axes (experimental fuzz 74416-74424) --------

@pytest.mark.parametrize("shape,n_batch,n_dense", [
    ((1, 1, 0), 3, 0), ((2, 0), 2, 0), ((0, 3), 1, 0), ((2, 0, 3), 2, 0), ((2, 0, 3), 2, 1)])
def test_sparse_fromdense_empty_batch_axis(shape, n_batch, n_dense):
    # an empty batch axis: nse=None reshaped the nonzero count to (..., -1) (undefined there)
    from functrans.experimental import sparse as fsparse
    x = np.zeros(shape)
    m = fsparse.BCOO.fromdense(x, n_batch=n_batch, n_dense=n_dense)
    assert m.nse == 0 and m.todense().shape == shape
    g = ft.grad(lambda a: ft.numpy.sum(fsparse.BCOO.fromdense(
        a, n_batch=n_batch, n_dense=n_dense).todense()))(x)
    assert g.shape == shape


@pytest.mark.parametrize("shape,n_batch,n_dense", [
    ((2, 0), 0, 0), ((0, 3), 0, 1), ((2, 0, 3), 1, 0), ((0,), 0, 0), ((3, 0, 2), 1, 1)])
def test_sparse_fromdense_no_positions_pads(shape, n_batch, n_dense):
    # a sparse part with no positions and nse > 0: every entry is padding (zeros at the index
    # = the sparse shape); it read position 0 of an empty array (IndexError). JAX fails
    # inside its gather ("Slice size ... in gather op is out of range")
    from functrans.experimental import sparse as fsparse
    x = np.zeros(shape)
    for f in (lambda a: fsparse.BCOO.fromdense(a, nse=2, n_batch=n_batch, n_dense=n_dense),
              ft.jit(lambda a: fsparse.BCOO.fromdense(a, nse=2, n_batch=n_batch,
                                                      n_dense=n_dense))):
        m = f(x)
        sshape = shape[n_batch:len(shape) - n_dense]
        assert m.nse == 2 and not np.any(np.asarray(m.data))
        assert (np.asarray(m.indices) == np.array(sshape)).all()
        assert m.data.shape == shape[:n_batch] + (2,) + shape[len(shape) - n_dense:]
        np.testing.assert_array_equal(m.todense(), x)
