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
