"""Session 42's lead fixes: aux leaves of every Jacobian transform as grad's."""

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp


@pytest.mark.parametrize("transform", ["grad", "jacfwd", "jacrev", "hessian"])
def test_aux_numpy_scalar_from_a_constant_is_a_0d_array_in_every_transform(transform):
    # fnp.sin of a Python float gives a NumPy scalar (as NumPy); grad's aux returned it as a
    # 0-d array, jacfwd and hessian (a vmap inside) as the NumPy scalar (fuzzer seed 74555)
    def f(x, y):
        return fnp.sum(fnp.sin(y)), (fnp.sin(x), 2.0 * x, fnp.cos(y))

    _, (a, b, c) = getattr(ft, transform)(f, argnums=-1, has_aux=True)(0.3, np.ones(2))
    assert type(a) is np.ndarray and a.shape == () and a == np.sin(0.3)
    assert type(b) is float and b == 0.6  # a Python float stays one (as JAX)
    assert type(c) is np.ndarray and np.array_equal(c, np.cos(np.ones(2)))
