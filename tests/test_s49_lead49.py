"""Session 49, lead: decisions and fixes found by the lead's fuzzer runs.

- ``fnp.power.reduce`` folds from the left, ((x0 ** x1) ** x2) ..., as a ufunc's reduce is
  defined (and as NumPy's own ``power.accumulate`` and its reduce along a strided axis do);
  NumPy 2.4.6's float ``power.reduce`` along a contiguous axis returns ``x[0] ** x[-1]``
  (found by the numpy fuzzer's more48 family, whose reference now takes NumPy's accumulate).
"""

from __future__ import annotations

import functools

import numpy as np

import functrans as ft
import functrans.numpy as fnp


def test_power_reduce_folds_from_the_left():
    x = np.array([1.5, 3.0, 0.5, 2.0])
    want = functools.reduce(lambda a, b: a ** b, x.tolist())       # ((1.5^3)^0.5)^2 = 3.375
    assert float(fnp.power.reduce(x)) == want
    np.testing.assert_allclose(np.asarray(fnp.power.reduce(x)), np.power.accumulate(x)[-1],
                               rtol=1e-15)
    # a 2-d array along either axis: each column (row) folds alike
    m = np.stack([x, x[::-1] + 1.0], axis=1)
    np.testing.assert_allclose(np.asarray(fnp.power.reduce(m, axis=0)),
                               np.power.accumulate(m, axis=0)[-1], rtol=1e-15)
    np.testing.assert_allclose(np.asarray(fnp.power.reduce(m.T, axis=1)),
                               np.power.accumulate(m, axis=0)[-1], rtol=1e-15)
    # its gradient: x0^(x1 x2 x3) by central differences
    g = np.asarray(ft.grad(fnp.power.reduce)(x))
    f = lambda v: v[0] ** (v[1] * v[2] * v[3])                      # noqa: E731
    h = 1e-6
    fd = [(f(x + h * e) - f(x - h * e)) / (2 * h) for e in np.eye(4)]
    np.testing.assert_allclose(g, fd, rtol=1e-8)


def test_copyto_of_a_batch_into_a_constant_says_what_was_wrong():
    # a batch copied into an array made inside vmap from no input: refused (as item
    # assignment is), with a message saying so; it said the array "belongs to a transform
    # nested inside" and "outlives it", neither of which was the case
    def f(src):
        dst = fnp.zeros(2)
        fnp.copyto(dst, src)
        return dst
    try:
        ft.vmap(f)(np.ones((3, 2)))
    except TypeError as e:
        msg = str(e)
    else:
        raise AssertionError("copyto of a batch into a constant was accepted")
    assert "made inside a transform (a constant" in msg and "outlives" not in msg
    assert "fnp.where" in msg or "functrans.numpy.where" in msg
    # the ways it points to work
    np.testing.assert_array_equal(
        np.asarray(ft.vmap(lambda s: fnp.where(True, s, fnp.zeros(2)))(np.ones((3, 2)))),
        np.ones((3, 2)))
    # and a batched destination still takes an unbatched source, as NumPy's loop would
    def g(d, src):
        d = fnp.array(d)
        fnp.copyto(d, src, where=np.array([True, False]))
        return d
    got = np.asarray(ft.vmap(g, in_axes=(0, None))(np.zeros((3, 2)), np.array([5.0, 6.0])))
    np.testing.assert_array_equal(got, [[5.0, 0.0]] * 3)


def test_hermitian_solve_reads_a_real_diagonal_at_every_size():
    # assume_a='her'/'pos' take the diagonal as real (LAPACK's hesv/posv read only the real
    # part): SciPy 1.17 does so from 2x2 up but divides a 1x1 system by the whole entry;
    # functrans is consistent across sizes (a decision: fuzz49's scipy.linalg seed 44001)
    import functrans.scipy.linalg as fsl
    import scipy.linalg as sla
    for assume in ("her", "pos"):
        got = np.asarray(fsl.solve(np.array([[2.0 + 0.5j]]), np.array([1.0]), assume_a=assume))
        np.testing.assert_allclose(got, [0.5], rtol=1e-15)
    a = np.array([[2.0 + 0.5j, 1.0 - 1.0j], [3.0 + 1.0j, 4.0 - 0.3j]])
    b = np.array([1.0, 2.0])
    np.testing.assert_allclose(np.asarray(fsl.solve(a, b, assume_a="her", lower=True)),
                               sla.solve(a, b, assume_a="her", lower=True), rtol=1e-13)


def test_fiedler_of_an_empty_or_boolean_vector():
    # an empty vector gives the (0, 0) matrix (SciPy: an empty 1-d float64 array, before any
    # look at the dtype); booleans raise TypeError at every size (SciPy's too, but when empty)
    import functrans.scipy.linalg as fsl
    assert np.asarray(fsl.fiedler(np.zeros(0))).shape == (0, 0)
    for n in (0, 2):
        try:
            fsl.fiedler(np.zeros(n, dtype=bool))
        except TypeError:
            pass
        else:
            raise AssertionError(f"fiedler of {n} booleans did not raise TypeError")
