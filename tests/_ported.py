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
