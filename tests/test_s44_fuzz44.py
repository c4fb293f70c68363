"""Session 44, helper fuzz44: what the fuzzers' fresh seeds found in functrans.numpy,
functrans.scipy (linalg, interpolate, signal, ...), functrans.nn and functrans.random, pinned
against NumPy / SciPy (and central differences, mpmath where named).
"""
import numpy as np
import pytest

import functrans.scipy.linalg as fsl


def test_companion_refuses_booleans_as_scipy():
    # (SciPy 1.17: TypeError, the boolean negative; ours returned a float64 matrix)
    with pytest.raises(TypeError, match="companion: the coefficients a are booleans"):
        fsl.companion(np.array([True, False, True]))
    with pytest.raises(TypeError, match="booleans"):
        fsl.companion(np.array([[True, True], [True, False]]))
    np.testing.assert_array_equal(fsl.companion(np.array([1, 2, 3], dtype=np.int16)),
                                  [[-2.0, -3.0], [1.0, 0.0]])


def test_in_place_functions_on_an_array_made_inside_forward_and_reverse_mode():
    # (b = zeros(3); putmask(b, mask, values) under jvp/grad raised TypeError "cannot update
    # ConstTracer... Pass inplace=False", an argument putmask and copyto do not have; b[...] =
    # values worked)
    import functrans as ft
    import functrans.numpy as fnp
    mask = np.array([True, False, True])

    def h(v):
        b = fnp.zeros(3)
        fnp.putmask(b, mask, v)
        return b

    v = np.array([1.5, 2.0])
    np.testing.assert_array_equal(ft.jacrev(h)(v), [[1, 0], [0, 0], [1, 0]])
    np.testing.assert_array_equal(ft.jvp(h, (v,), (np.array([1.0, 3.0]),))[1], [1, 0, 1])
    np.testing.assert_allclose(ft.grad(lambda s: fnp.sum(h(s) ** 3))(v), [2 * 3 * 1.5 ** 2, 0])

    def g(src):   # (copyto into a float32 constant: the tangent cast as the value)
        b = fnp.array(np.float32(1.25))
        fnp.copyto(b, src)
        return b
    y, t = ft.jvp(g, (np.float64(1.75),), (np.float64(1.0),))
    assert y.dtype == np.float32 and y == 1.75 and t == 1.0

    def p(src):
        b = fnp.zeros(4)
        fnp.place(b, np.array([1, 0, 1, 1], bool), src)
        return b
    np.testing.assert_array_equal(ft.jacfwd(p)(np.array([1.0, 2.0])),
                                  [[1, 0], [0, 0], [0, 1], [1, 0]])
    # (vmap's and jit's values cannot live in a constant: refused as before)
    for t in (ft.vmap, ft.jit):
        with pytest.raises(TypeError, match="putmask: the array to update was made inside a "
                                            "transform"):
            t(h)(np.ones((2, 2)))


def test_gaussian_kde_refuses_as_many_dimensions_as_points():
    # (d == n: n points span n - 1 dimensions, the covariance singular; ours returned values
    # ([0, 0, 0] off the plane) or raised by rounding, SciPy raises LinAlgError)
    import functrans.scipy.stats as fst
    rng = np.random.default_rng(1)
    for d in (2, 3):
        with pytest.raises(ValueError, match="more dimensions than points, or as many"):
            fst.gaussian_kde(rng.standard_normal((d, d)), weights=rng.random(d) + 0.1)
    k = fst.gaussian_kde(rng.standard_normal((2, 3)))   # (n = d + 1: fine)
    assert np.isfinite(np.asarray(k.evaluate(np.zeros((2, 1))))).all()
