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


@pytest.mark.parametrize("shape,n_batch,n_dense", [((4, 0), 0, 1), ((2, 4, 0), 1, 1),
                                                   ((3, 2, 0), 0, 2)])
def test_sparse_fromdense_with_an_empty_dense_block(shape, n_batch, n_dense):
    # fromdense reshaped each batch member to (-1,) + dense: with a dense block of no
    # elements -1 is undefined, and it raised ShapeError (JAX: padding entries; fuzzer 74207)
    from functrans.experimental import sparse

    mat = np.zeros(shape)
    b = sparse.BCOO.fromdense(mat, nse=2, n_batch=n_batch, n_dense=n_dense)
    n_sparse = len(shape) - n_batch - n_dense
    assert np.asarray(b.data).shape == shape[:n_batch] + (2,) + shape[len(shape) - n_dense:]
    # every entry is padding: its index is the sparse shape itself (one past the end)
    want = np.broadcast_to(np.array(shape[n_batch:n_batch + n_sparse]),
                           shape[:n_batch] + (2, n_sparse))
    assert np.array_equal(np.asarray(b.indices), want)
    assert np.asarray(b.todense()).shape == shape
