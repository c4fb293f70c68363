"""Session 55, lead: functrans.nn.squareplus at the edges of its slope.

- ``grad(squareplus)(0.0)`` warned "divide by zero" (the slope for x >= 0 is written
  ``(1 + 1 / hypot(1, c / x)) / 2``: c / 0 = inf, then 1 / inf = 0 and the value 1/2 right),
  and so did every x below c / 1.8e308 (c / x overflowed, e.g. x = 1e-320). x is now held at
  c 1e-300 or more, where the slope rounds to 1/2 either way: the slopes are bit for bit those
  of session 54 (10,007 points x 5 b, first and second derivatives, a number and an array b).
- squareplus's third derivatives in x and b (session 54 checked up to the second) against
  their closed forms in mpmath: all within 1.5e-15 relative on x from -1e300 to 1e300.
- experimental.sparse: BCOO.fromdense beside an empty batch axis, and with nse > 0 over a
  sparse part of no positions (fuzz 74416-74424).
- The NumPy backend's mul/add/sub on its real scalar types by the scalar's operator
  (Backend.type_impls): the same bits, types and warnings as the ufunc; W7 k = 6 -4 %.
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


# -- the NumPy backend: real scalars' own operators for mul, add and sub -----------------------

def _scalar_cases():
    import itertools
    vals = [0.0, -0.0, 1.0, -1.5, 1e308, -1e308, 5e-324, 1e-310, np.inf, -np.inf, np.nan, 3.3]
    for dt in (np.float64, np.float32, np.float16):
        with np.errstate(over="ignore"):
            xs = [dt(v) for v in vals]
        for x, y in itertools.product(xs, xs + [0.0, -0.0, 2, True, 1e300, -3.5, np.nan, 1j]):
            yield x, y


@pytest.mark.parametrize("name,ufunc", [("mul", np.multiply), ("add", np.add),
                                        ("sub", np.subtract)])
def test_numpy_scalar_operator_impls(name, ufunc):
    # a product of two NumPy float64 scalars by the operator: 0.05 us against the ufunc
    # call's 0.6 (W7's nested grads: 25 such operations at k = 6, -4 %); the same bits, result
    # type and warnings as the ufunc's (a Python complex beside it: the ufunc)
    from functrans.backends import numpy_backend as nb
    from functrans.primitives import elementwise as el
    prim = {"mul": el.mul_p, "add": el.add_p, "sub": el.sub_p}[name]
    prim.impl_for(nb.backend)
    fn = prim._impls[np.float64]
    assert fn is not ufunc and fn is nb.NumPyBackend.type_impls[name][np.float64]
    for x, y in _scalar_cases():
        with warnings.catch_warnings(record=True) as w1:
            warnings.simplefilter("always")
            got = fn(x, y)
        with warnings.catch_warnings(record=True) as w2:
            warnings.simplefilter("always")
            want = ufunc(x, y)
        assert type(got) is type(want), (x, y)
        assert np.asarray(got).tobytes() == np.asarray(want).tobytes(), (x, y, got, want)
        assert [q.category for q in w1] == [q.category for q in w2], (x, y)


def test_numpy_scalar_operators_in_nested_grads_and_debug_nans():
    import functrans.numpy as fnp

    def f(x):
        return fnp.tanh(x) * x + x
    g = f
    for _ in range(4):
        g = ft.grad(g)
    # d^4/dx^4 (x tanh x) = 4 tanh''' + x tanh'''' (tanh's derivatives in t = tanh(0.3))
    t = np.tanh(0.3)
    d3 = -2 * (1 - t * t) * (1 - 3 * t * t)
    d4 = 8 * t * (1 - t * t) * (2 - 3 * t * t)
    assert g(0.3) == pytest.approx(4 * d3 + 0.3 * d4, rel=1e-13)
    with _debug_nans():
        with pytest.raises(FloatingPointError, match="mul"):
            ft.grad(lambda x: x * np.inf)(np.float64(0.0))
        with pytest.raises(FloatingPointError, match="add"):
            fnp.add(np.float64(np.inf), np.float64(-np.inf))


class _debug_nans:
    def __enter__(self):
        ft.config.update("jax_debug_nans", True)

    def __exit__(self, *exc):
        ft.config.update("jax_debug_nans", False)
