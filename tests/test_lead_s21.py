"""Lead, session 21: behaviour decided this session, each pinned against its reference."""

import numpy as np

import functrans as ft


def test_dict_gradients_keep_input_key_order_and_leaves_flatten_sorted():
    # Documented in coming-from-jax ("Dictionaries keep your key order"): leaves are laid
    # out in sorted key order as JAX does, the returned dict keeps the caller's order.
    params = {"b": np.array(3.0), "a": np.array(2.0)}

    def f(p):
        return p["a"] * p["b"] ** 2

    g = ft.grad(f)(params)
    assert list(g) == ["b", "a"]
    np.testing.assert_allclose(g["a"], 9.0)
    np.testing.assert_allclose(g["b"], 12.0)
    flat, unravel = ft.tree.ravel_pytree(params)
    np.testing.assert_array_equal(flat, [2.0, 3.0])
    assert list(unravel(flat)) == ["b", "a"]
    jac = ft.jacfwd(lambda p: {"z": p["b"] * p["a"], "y": p["a"]})(params)
    assert list(jac) == ["z", "y"] and list(jac["z"]) == ["b", "a"]
    np.testing.assert_allclose(jac["z"]["b"], 2.0)


def test_max_min_with_where_and_initial_left_out_entries_take_no_share(backend):
    # Left-out entries used to be filled with ``initial`` and so tied with it: kept
    # [1, 3, 3] beside two left-out entries and initial=3 gave each 3 a derivative of 0.125.
    # Now they are filled with -inf (+inf for min), and the tie between the kept maximum and
    # ``initial`` splits as the pair's maximum does (JAX's composition: 0.25 each).
    import functrans.numpy as fnp

    x = backend.asarray([1.0, 3.0, 3.0, 5.0, 7.0])
    kept = backend.asarray([True, True, True, False, False], dtype=bool)
    g = ft.grad(lambda x: fnp.max(x, where=kept, initial=3.0))(x)
    np.testing.assert_allclose(backend.to_numpy(g), [0.0, 0.25, 0.25, 0.0, 0.0])
    g = ft.grad(lambda x: fnp.min(x, where=kept, initial=1.0))(x)
    np.testing.assert_allclose(backend.to_numpy(g), [0.5, 0.0, 0.0, 0.0, 0.0])
    g = ft.grad(lambda x: fnp.nanmax(x, where=kept, initial=3.0))(x)
    np.testing.assert_allclose(backend.to_numpy(g), [0.0, 0.25, 0.25, 0.0, 0.0])
    none = backend.asarray([False] * 5, dtype=bool)
    assert float(fnp.max(x, where=none, initial=2.0)) == 2.0
    g = ft.grad(lambda x: fnp.max(x, where=none, initial=2.0))(x)
    np.testing.assert_array_equal(backend.to_numpy(g), np.zeros(5))


def _unique_reference(x, size, fill_value, equal_nan):
    """What jax.numpy.unique(..., size=) gives, written from NumPy's unique: the first
    ``size`` unique values, then ``fill_value`` (default the smallest value); indices of
    fillers are the smallest value's, counts 0; inverse unchanged."""
    values, index, inverse, counts = np.unique(x, return_index=True, return_inverse=True,
                                               return_counts=True, equal_nan=equal_nan)
    m = len(values)
    fill = values[0] if fill_value is None else fill_value
    pad = max(size - m, 0)
    return (np.concatenate([values[:size], np.full(pad, fill, values.dtype)]),
            np.concatenate([index[:size], np.full(pad, index[0])]),
            inverse.reshape(np.shape(x)),
            np.concatenate([counts[:size], np.zeros(pad, counts.dtype)]))


def test_unique_with_size_on_every_backend_under_jit_vmap_and_grad(backend):
    import functrans.numpy as fnp

    data = [[3.0, 1.0, 3.0, 2.0, np.nan, np.nan], [1.0, 1.0, 1.0, 2.0], [5.0]]
    for d in data:
        x = backend.asarray(d)
        for size in (1, 2, 4, 7):
            for fill_value in (None, -1.0):
                for equal_nan in (True, False):
                    kw = dict(size=size, fill_value=fill_value, equal_nan=equal_nan,
                              return_index=True, return_inverse=True, return_counts=True)
                    want = _unique_reference(np.asarray(d), size, fill_value, equal_nan)
                    for got in (fnp.unique(x, **kw), ft.jit(lambda x: fnp.unique(x, **kw))(x)):
                        for g, w in zip(got, want):
                            assert backend.is_own(g)
                            np.testing.assert_array_equal(backend.to_numpy(g), w)
    rows = backend.asarray([[1.0, 1.0, 2.0], [3.0, 3.0, 3.0], [2.0, 1.0, 0.0]])
    got = ft.vmap(lambda r: fnp.unique(r, size=3))(rows)
    np.testing.assert_array_equal(backend.to_numpy(got), [[1, 2, 1], [3, 3, 3], [0, 1, 2]])
    # the derivative of each value is that of its first occurrence; a default filler is the
    # smallest value, derivative included (as JAX)
    x = backend.asarray([1.0, 1.0, 2.0])
    g = ft.grad(lambda x: fnp.sum(fnp.unique(x, size=3)))(x)
    np.testing.assert_array_equal(backend.to_numpy(g), [2.0, 0.0, 1.0])
    g = ft.grad(lambda x: fnp.sum(fnp.unique(x, size=4, fill_value=0.0) ** 2))(x)
    np.testing.assert_array_equal(backend.to_numpy(g), [2.0, 0.0, 4.0])


def test_unique_size_errors():
    import pytest

    import functrans.numpy as fnp

    with pytest.raises(TypeError, match="fill_value= needs size="):
        fnp.unique(np.arange(3.0), fill_value=0.0)
    with pytest.raises(ValueError, match="positive"):
        fnp.unique(np.arange(3.0), size=0)
    # (size= with axis= on n-d input is implemented since session 22: test_gaps_s22.py)
    with pytest.raises(ValueError, match="fill_value"):
        fnp.unique(np.ones((0, 2)), axis=0, size=2)


def test_divide_of_two_python_numbers_one_complex():
    # divide(1j, 2) took float() of the complex dividend (TypeError); NumPy gives 0.5j
    import functrans.numpy as fnp

    for x1, x2 in ((1j, 2), (1j, 2.0), (1 + 2j, 1j), (1, 2j), (3, 2)):
        got = fnp.divide(x1, x2)
        want = np.divide(x1, x2)
        assert np.asarray(got).dtype == np.asarray(want).dtype
        np.testing.assert_array_equal(np.asarray(got), want)
