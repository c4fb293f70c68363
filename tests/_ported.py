"""Helpers shared by the ported-programs tests: the peer libraries (skipped where they are
not installed, as in CI) and a comparison of pytrees of results."""

import numpy as np
import optree
import pytest


def _autograd():
    return pytest.importorskip("autograd")


def _jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    return jax


def close(a, b, tol=1e-10):
    la, lb = optree.tree_leaves(a), optree.tree_leaves(b)
    assert len(la) == len(lb)
    for x, y in zip(la, lb):
        x, y = np.asarray(x), np.asarray(y)
        assert x.shape == y.shape, (x.shape, y.shape)
        np.testing.assert_allclose(y, x, rtol=tol, atol=tol)


def _np(backend, tree):
    """A pytree of ``backend``'s arrays as NumPy arrays."""
    return optree.tree_map(backend.to_numpy, tree)


def _on(backend, tree):
    """A pytree of NumPy data as ``backend``'s arrays."""
    return optree.tree_map(backend.asarray, tree)


def _jnp(tree):
    """A pytree of NumPy data as JAX arrays."""
    import jax.numpy as jnp
    return optree.tree_map(jnp.asarray, tree)
