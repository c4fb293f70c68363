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
