"""Session 32, lead: binom with n far below 0 and k moderate (Gamma(n + 1) reflected too)."""

from __future__ import annotations

import pytest

import functrans as ft
from functrans.scipy import special as sp

# (n, k, binom(n, k)), the value from mpmath (mp.dps = 50; float(mp.binomial(n, k)))
_CASES = [
    (-99999.5, 20.0, 4.1177223873405454e81),
    (-1000000.25, 30.0, 3.771656200942957e147),
    (-99999.5, 25.3, -4.540662747442951e100),
]


@pytest.mark.parametrize("n, k, want", _CASES)
def test_binom_far_negative_n(backend, n, k, want):
    out = sp.binom(backend.asarray([n]), backend.asarray([k]))
    assert backend.is_own(out)
    got = float(backend.to_numpy(out)[0])
    # (was 7.6e-11 and 2.6e-9 off: lgamma(n + 1) and a Pochhammer of ~|n| log|n| cancelled)
    assert abs(got - want) <= 2e-13 * abs(want)


def test_binom_far_negative_n_derivatives():
    # mp.diff(lambda k: mp.binomial(mp.mpf(-99999.5), k), mp.mpf(20.3), order), mp.dps = 50
    n, k = -99999.5, 20.3
    d1, d2 = 1.2819867895473976e83, -3.505488545495258e83
    assert abs(ft.grad(sp.binom, argnums=1)(n, k) - d1) <= 1e-13 * abs(d1)  # (was 7e-11 off)
    assert abs(ft.hessian(sp.binom, argnums=1)(n, k) - d2) <= 1e-13 * abs(d2)  # (1.2e-10)


def test_argnums_out_of_range_is_value_and_type_error():
    # JAX raises TypeError for an argnums beyond the arguments passed; functrans raised a plain
    # ValueError (kept as a base, so both spellings catch it)
    from functrans.errors import ArgnumsError
    f = lambda a, b: a * b  # noqa: E731
    for transform in (ft.grad, ft.jacfwd, ft.jacrev, ft.value_and_grad):
        with pytest.raises(TypeError, match="argnums 2 is out of range"):
            transform(f, argnums=2)(1.0, 2.0)
        with pytest.raises(ValueError, match="argnums 2 is out of range"):
            transform(f, argnums=2)(1.0, 2.0)
    with pytest.raises(ArgnumsError, match="argnums is empty"):
        ft.grad(f, argnums=())(1.0, 2.0)


def test_custom_vjp_bwd_wrong_shape_is_value_error_too():
    # JAX raises ValueError for a bwd cotangent of the wrong shape; CustomRuleError was a
    # TypeError only (kept as a base)
    import functrans.numpy as fnp
    from functrans.errors import CustomRuleError

    @ft.custom_vjp
    def double(x):
        return 2.0 * x

    double.defvjp(lambda x: (2.0 * x, None), lambda _, g: (g * fnp.ones(3),))
    for cls in (ValueError, TypeError, CustomRuleError):
        with pytest.raises(cls, match="must have its argument's shape"):
            ft.grad(double)(1.0)
