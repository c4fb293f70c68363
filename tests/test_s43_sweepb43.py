"""Session 43, helper sweepb43 (the numpy / scipy / nn / random fuzzers' sweep): what it pins.

- ``ft.jit``'s negative ``static_argnums`` count from the end of each call's positional
  arguments, as jax.jit's do (decided this session; they counted from the signature's).
"""
import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp


# -- jit: negative static_argnums ----------------------------------------------------------------

class _Config:
    """Hashed by identity: static only where named static (not a pytree, not a value)."""

    def __init__(self, scale):
        self.scale = scale


def test_jit_negative_static_argnums_count_from_the_call():
    def f(x, cfg=None, extra=0.0):
        return x * (1.0 if cfg is None else cfg.scale) + extra

    g = ft.jit(f, static_argnums=-1)
    x = np.arange(3.0)
    # -1 is the last argument passed: the config here (JAX's rule), `extra` with three
    np.testing.assert_array_equal(g(x, _Config(2.0)), 2 * x)
    np.testing.assert_array_equal(g(x, None, 1.0), x + 1)
    with pytest.raises(TypeError, match="type _Config is neither an array"):
        g(x, _Config(3.0), 1.0)  # (cfg not static there, in JAX too)
    # (a call whose last positional argument is an array: that array would be static)
    with pytest.raises(TypeError, match="counts from the end of the call's 2 positional"):
        g(x, np.ones(3))
    # the range is still checked against the signature
    with pytest.raises(ValueError, match="out of range"):
        ft.jit(f, static_argnums=-4)
