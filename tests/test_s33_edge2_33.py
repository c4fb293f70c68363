"""Session 33, derivatives at the edges of domains (edge2_33): every order of differentiation
agrees on the one-sided limit at the ends of arccosh's and arctanh's domains; fmod's
derivatives where its value is a nan."""

import math

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
import functrans.lax as lax

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def _arr(backend, v):
    return backend.asarray(np.asarray(v, dtype=np.float64), dtype=np.float64)


def _val(backend, got):
    assert backend.is_own(got), type(got)
    return float(backend.to_numpy(got))


_ORDERS = {
    "rev-rev": lambda f: ft.grad(ft.grad(f)),
    "fwd-rev": lambda f: ft.jacfwd(ft.jacrev(f)),
    "rev-fwd": lambda f: ft.jacrev(ft.jacfwd(f)),
    "fwd-fwd": lambda f: ft.jacfwd(ft.jacfwd(f)),
}


# One-sided limits of the second derivatives at the ends of the domains, by hand:
# arccosh'' = -x (x^2 - 1)^(-3/2) -> -inf at 1+; arctanh'' = 2x / (1 - x^2)^2 -> +-inf at +-1;
# arcsin'' = x (1 - x^2)^(-3/2) -> +-inf at +-1; arccos'' = -arcsin''.
# (JAX 0.10.2: jacfwd(jacrev) gives these; its grad(grad) gives nan for arccosh/arctanh.)
@pytest.mark.parametrize("name, x, want", [
    ("arccosh", 1.0, -math.inf), ("arctanh", 1.0, math.inf), ("arctanh", -1.0, -math.inf),
    ("arcsin", 1.0, math.inf), ("arcsin", -1.0, -math.inf), ("arccos", 1.0, -math.inf),
    ("arccos", -1.0, math.inf),
])
@pytest.mark.parametrize("order", sorted(_ORDERS))
def test_second_derivative_at_domain_end_every_order(backend, name, x, want, order):
    f = getattr(fnp, name)
    assert _val(backend, _ORDERS[order](f)(_arr(backend, x))) == want  # rev-rev was nan


def test_acosh_atanh_second_derivatives_inside_and_complex():
    # inside the domain, against the closed forms above
    for x in (1.5, 3.0):
        assert math.isclose(ft.grad(ft.grad(fnp.arccosh))(x), -x * (x * x - 1) ** -1.5,
                            rel_tol=1e-13)
    for x in (-0.7, 0.2):
        assert math.isclose(ft.grad(ft.grad(fnp.arctanh))(x), 2 * x / (1 - x * x) ** 2,
                            rel_tol=1e-13)
    # third order at an interior point against central differences of the second
    h = 1e-5
    d2 = ft.grad(ft.grad(fnp.arccosh))
    assert math.isclose(ft.grad(d2)(2.0), (d2(2.0 + h) - d2(2.0 - h)) / (2 * h), rel_tol=1e-7)
    # complex: the principal branch, against central differences of NumPy's values
    for f, nf in ((fnp.arccosh, np.arccosh), (fnp.arctanh, np.arctanh)):
        for z in (0.3 + 0.4j, -2 + 0.1j, 3 - 1j):
            _, d = ft.jvp(f, (np.complex128(z),), (np.complex128(1),))
            fd = (nf(z + h) - nf(z - h)) / (2 * h)
            assert abs(d - fd) < 1e-8 * abs(fd)


# fmod(x1, x2) = x1 - trunc(x1 / x2) x2: derivative 1 in x1 and -trunc(x1 / x2) in x2, also
# where the value is a nan (x2 = 0 or x1 infinite). Before: d/dx1 = -1 there (the nan's sign
# bit flipped copysign's rule) and d/dx2 = nan at x2 = 0. (JAX 0.10.2's grad: the same values
# as below.)
@pytest.mark.parametrize("x1, x2, d1, d2", [
    (1.0, 0.0, 1.0, -math.inf), (-1.0, 0.0, 1.0, math.inf), (1.0, -0.0, 1.0, math.inf),
    (math.inf, 2.0, 1.0, None), (-math.inf, 2.0, 1.0, None), (0.0, 0.0, 1.0, None),
    (5.0, 3.0, 1.0, -1.0), (-5.0, 3.0, 1.0, 1.0), (5.0, -3.0, 1.0, 1.0), (-0.0, 1.0, 1.0, 0.0),
])
@pytest.mark.parametrize("fn", ["fmod", "rem"])
def test_fmod_derivatives_where_value_is_nan(backend, x1, x2, d1, d2, fn):
    f = fnp.fmod if fn == "fmod" else lax.rem
    a, b = _arr(backend, x1), _arr(backend, x2)
    g1, g2 = ft.grad(f, argnums=(0, 1))(a, b)
    assert _val(backend, g1) == d1
    assert _val(backend, ft.jvp(lambda u: f(u, b), (a,), (_arr(backend, 1.0),))[1]) == d1
    if d2 is not None:
        assert _val(backend, g2) == d2
        assert _val(backend, ft.jvp(lambda v: f(a, v), (b,), (_arr(backend, 1.0),))[1]) == d2


def test_fmod_values_unchanged():
    v = np.array([0.0, -0.0, 1.0, -1.0, 2.5, -2.5, 7.0, np.inf, -np.inf, np.nan, 1e300, -3e-310])
    a, b = np.meshgrid(v, v)
    got, want = np.asarray(fnp.fmod(a, b)), np.fmod(a, b)
    np.testing.assert_array_equal(got, want)
    ok = ~np.isnan(want)
    np.testing.assert_array_equal(np.signbit(got[ok]), np.signbit(want[ok]))
