"""Session 43, helper sweepb43 (the numpy / scipy / nn / random fuzzers' sweep): what it pins.

- ``ft.jit``'s negative ``static_argnums`` count from the end of each call's positional
  arguments, as jax.jit's do (decided this session; they counted from the signature's).
"""
import numpy as np
import pytest

import functrans as ft


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


# -- scipy.linalg.qr(mode='r') of a matrix with no columns -------------------------------------

def test_qr_mode_r_with_no_columns():
    import functrans.scipy.linalg as fsl
    for shape in [(3, 0), (2, 3, 0)]:
        a = np.zeros(shape)
        (r,) = fsl.qr(a, mode="r")
        assert np.asarray(r).shape == shape
        r, p = fsl.qr(a, mode="r", pivoting=True)
        assert np.asarray(r).shape == shape and np.asarray(p).shape == shape[:-2] + (0,)
    # (and the tall case it pads, with its derivative)
    a = np.arange(8.0).reshape(4, 2) ** 1.5
    (r,) = fsl.qr(a, mode="r")
    np.testing.assert_allclose(np.asarray(r)[2:], 0.0)
    np.testing.assert_allclose(np.abs(np.asarray(r)[:2]), np.abs(np.linalg.qr(a)[1]), rtol=1e-12)
    assert np.asarray(ft.jacfwd(lambda x: fsl.qr(x, mode="r")[0])(a)).shape == (4, 2, 4, 2)


# -- special: an infinite order in expn / polygamma ---------------------------------------------

def test_expn_polygamma_infinite_orders_are_nan():
    import functrans.scipy.special as fsp
    n = np.array([1.0, np.inf, np.nan, -np.inf, 2.0])
    x = 1.65
    # SciPy: nan for the orders that are not finite (was: OverflowError converting inf to int)
    for f, want in ((fsp.expn, [0.08024762667334323, np.nan, np.nan, np.nan, 0.05964132460973782]),
                    (fsp.polygamma, [0.8245904826249257, np.nan, np.nan, np.nan,
                                     -0.6510717793069933])):
        np.testing.assert_allclose(np.asarray(f(n, x)), want, rtol=1e-8)


# -- the scipy fuzzer's new sections (a fast selection: SciPy and central differences) ----------

@pytest.mark.parametrize("section", ["x_special", "x_stats", "x_oaconvolve"])
def test_fuzz_selection_new_sections(section):
    pytest.importorskip("jax")
    import importlib
    fuzz = importlib.import_module("tests._fuzz_scipy_jax")
    fuzz.FAILS.clear()
    fuzz.USE_JAX = False
    rng = np.random.default_rng([43, sorted(fuzz.SECTIONS).index(section)])
    for _ in range(3):
        fuzz.SECTIONS[section](rng)
    assert not fuzz.FAILS, fuzz.FAILS
    assert fuzz.COUNTS.get(section, 0) >= 3


# -- hyp2f1 with a subnormal c (an xfail until session 44: nan) -------------------------------

def test_hyp2f1_subnormal_c_polynomial():
    import functrans.scipy.special as fsp
    # a = -1: the polynomial 1 + a b x / c, +inf at c = 5e-324 (SciPy's inf; mpmath the same)
    assert float(fsp.hyp2f1(-1.0, -1.88, 5e-324, 0.32)) == np.inf
