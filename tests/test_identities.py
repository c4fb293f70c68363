"""The identity checkers of functrans.testing, run as property tests on every backend, and each
shown to fail, with a precise message, on a planted wrong derivative."""

from __future__ import annotations

import unittest

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import functrans as ft
import functrans.numpy as fnp
from functrans.core import Primitive
from functrans.testing import (IdentityError, check_grad_jacrev, check_hessian_consistent,
                               check_hessian_symmetric, check_jacfwd_jacrev, check_jvp_linear,
                               check_jvp_vjp_adjoint, check_linearize_jvp, check_vmap_loop,
                               strategies as fts)

# The backend fixture is function-scoped but immutable: safe to share between examples.
prop = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])

SMALL = fts.shapes(min_dims=1, max_dims=2, max_side=3)


def _all_vector_identities(f, args):
    check_jvp_linear(f, args)
    check_jvp_vjp_adjoint(f, args)
    check_linearize_jvp(f, args)
    check_jacfwd_jacrev(f, args, argnums=tuple(range(len(args))))


def _all_scalar_identities(f, args, argnums=0):
    check_grad_jacrev(f, args, argnums)
    check_hessian_symmetric(f, args, argnums)
    check_hessian_consistent(f, args, argnums)

# -- property tests over the backends --------------------------------------------------------------


@prop
@given(data=st.data())
def test_elementwise_composition(backend, data):
    x = data.draw(fts.arrays(backend, shape=SMALL))

    def f(x):
        return fnp.sin(x) * fnp.exp(x) - fnp.tanh(x * x)
    _all_vector_identities(f, (x,))
    _all_scalar_identities(lambda x: fnp.sum(f(x)), (x,))


@prop
@given(data=st.data())
def test_broadcasting_product(backend, data):
    x, y = data.draw(fts.broadcastable_arrays(backend, max_dims=2, max_side=3))

    def f(x, y):
        return fnp.tanh(x * y) + x

    def loss(x, y):
        return fnp.sum(f(x, y) ** 2)
    _all_vector_identities(f, (x, y))
    _all_scalar_identities(loss, (x, y), argnums=(0, 1))


@prop
@given(data=st.data())
def test_matmul_layer(backend, data):
    dt = data.draw(fts.float_dtypes(backend))
    n, m = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3))
    w = data.draw(fts.arrays(backend, dt, (n, m)))
    v = data.draw(fts.arrays(backend, dt, (m,)))

    def layer(w, v):
        return fnp.tanh(w @ v)

    def loss(w, v):
        return fnp.sum(fnp.exp(layer(w, v)) * fnp.sin(v @ fnp.matrix_transpose(w)))
    _all_vector_identities(layer, (w, v))
    _all_scalar_identities(loss, (w, v), argnums=(0, 1))


@prop
@given(data=st.data())
def test_pytree_of_parameters(backend, data):
    dt = data.draw(fts.float_dtypes(backend))
    params = {"w": data.draw(fts.arrays(backend, dt, (3,))),
              "b": [data.draw(fts.arrays(backend, dt, ())), data.draw(fts.arrays(backend, dt, (3,)))]}
    x = data.draw(fts.arrays(backend, dt, (3,), fts.positive()))

    def predict(p, x):
        return fnp.tanh(p["w"] * fnp.log(x) + p["b"][0]) * p["b"][1]

    def loss(p, x):
        return fnp.sum(predict(p, x) ** 2)
    _all_vector_identities(predict, (params, x))
    _all_scalar_identities(loss, (params, x))


def test_vmap_agrees_with_a_loop(backend):
    x = backend.asarray([[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]])
    if not hasattr(ft, "vmap"):
        with pytest.raises(unittest.SkipTest, match="functrans.vmap does not exist yet"):
            check_vmap_loop(fnp.sin, (x,))
        return
    check_vmap_loop(lambda r: fnp.sum(fnp.sin(r) * r), (x,))
    check_vmap_loop(lambda r, c: r * c, (x, backend.asarray(2.0)), in_axes=(0, None))

# -- planted failures --------------------------------------------------------------------------------


def _scale_with_wrong_transpose():
    """The linear map ``2 x`` whose transpose rule says ``3 ct`` (an unregistered primitive)."""
    p = Primitive("test_scale_by_two")
    p.def_impl(lambda backend, x: x * 2.0)
    p.def_abstract_eval(lambda a: a)
    p.same_aval = True
    p.def_jvp(lambda primals, tangents: (p.bind(primals[0]), p.bind(tangents[0])))
    p.def_transpose(lambda ct, x: [ct * 3.0])
    p.def_batch(lambda args, dims: (p.bind(args[0]), 0))  # elementwise: batches as it is
    return p.bind


X = np.asarray([0.3, -0.8, 1.4])


def test_nonlinear_jvp_rule_is_caught():
    @ft.custom_jvp
    def f(x):
        return fnp.sin(x)

    @f.defjvp
    def f_jvp(p, t):
        return f(p[0]), t[0] * t[0] * fnp.cos(p[0])  # quadratic in the tangent
    with pytest.raises(IdentityError, match=r"(?s)check_jvp_linear.*max abs error"):
        check_jvp_linear(f, (X,))


def test_wrong_transpose_is_caught():
    s = _scale_with_wrong_transpose()
    with pytest.raises(IdentityError, match=r"check_jvp_vjp_adjoint: <u, J v>"):
        check_jvp_vjp_adjoint(s, (X,))
    with pytest.raises(IdentityError, match=r"jacfwd\(f\) and jacrev\(f\) disagree"):
        check_jacfwd_jacrev(s, (X,))
    with pytest.raises(IdentityError, match=r"grad\(f\) and jacfwd\(f\) disagree"):
        check_grad_jacrev(lambda x: fnp.sum(s(x)), (X,))
    with pytest.raises(IdentityError, match=r"hessian\(f\) and jacrev\(grad\(f\)\) disagree"):
        check_hessian_consistent(lambda x: fnp.sum(s(x) ** 2), (X,))


def test_asymmetric_hessian_is_caught():
    @ft.custom_jvp
    def f(x, y):
        return x * y

    @f.defjvp
    def f_jvp(p, t):
        (x, y), (tx, ty) = p, t
        return f(x, y), tx * y + 2.0 * ty * x  # d/dy claims 2x
    with pytest.raises(IdentityError, match=r"d2f/d\(argument 0\)d\(argument 1\)"):
        check_hessian_symmetric(f, (0.5, 1.5), argnums=(0, 1))


def test_pytree_leaves_are_named_in_the_hessian_check():
    @ft.custom_jvp
    def f(x, y):
        return fnp.sum(x * y)

    @f.defjvp
    def f_jvp(p, t):
        (x, y), (tx, ty) = p, t
        return f(x, y), fnp.sum(tx * y) + 3.0 * fnp.sum(ty * x)
    params = {"a": np.asarray([0.5, 1.0]), "b": np.asarray([1.5, -1.0])}
    with pytest.raises(IdentityError, match=r"argument 0 at path \['a'\]"):
        check_hessian_symmetric(lambda p: f(p["a"], p["b"]), (params,))


def test_scalar_output_is_required():
    with pytest.raises(ValueError, match="real scalar output"):
        check_hessian_symmetric(fnp.sin, (X,))


def test_integer_and_complex_results_are_compared():
    from functrans.core import Tracer

    def differs_under_vmap(x):
        k = 1 if isinstance(x, Tracer) else 0
        return fnp.astype(x > 0, fnp.int32) + k
    x = np.asarray([[1.0, -2.0], [3.0, 1.0]])
    with pytest.raises(IdentityError, match="int32"):
        check_vmap_loop(differs_under_vmap, (x,))

    def complex_differs(x):
        return fnp.astype(x, fnp.complex128) + (1j if isinstance(x, Tracer) else 0)
    with pytest.raises(IdentityError, match="complex128"):
        check_vmap_loop(complex_differs, (x,))
    check_vmap_loop(lambda x: (fnp.exp(1j * x), fnp.argmax(x)), (x,))


def test_complex_tangents():
    @ft.custom_jvp
    def f(z):
        return z * z

    @f.defjvp
    def f_jvp(p, t):
        return f(p[0]), 2 * p[0] * t[0] + 1j * fnp.imag(t[0]) ** 2  # not linear
    z = np.asarray([0.3 + 0.5j, -1.2 + 0.1j])
    with pytest.raises(IdentityError, match="check_jvp_linear"):
        check_jvp_linear(f, (z,))
    check_jvp_linear(lambda z: z * fnp.exp(z), (z,))
    check_linearize_jvp(lambda z: z * fnp.exp(z), (z,))
    # the adjoint identity pairs complex leaves by Re(sum(a * b)), JAX's convention
    check_jvp_vjp_adjoint(lambda z: z * z, (z,))
    check_jvp_vjp_adjoint(lambda z: fnp.sin(z) * fnp.conj(z), (z,))
    check_jvp_vjp_adjoint(lambda z: fnp.abs(z) ** 2, (z,))  # complex -> real
    check_jvp_vjp_adjoint(lambda x: fnp.exp(1j * x), (np.asarray([0.2, 0.7]),))  # real -> complex


def test_conjugated_complex_transpose_is_caught():
    """The linear map ``(2 + 1j) z`` whose transpose rule multiplies by the conjugate: right
    for the conjugated (Hermitian) pairing, wrong for JAX's; the identity catches it."""
    p = Primitive("test_scale_complex")
    p.def_impl(lambda backend, x: x * (2 + 1j))
    p.def_abstract_eval(lambda a: a)
    p.same_aval = True
    p.def_jvp(lambda primals, tangents: (p.bind(primals[0]), p.bind(tangents[0])))
    p.def_transpose(lambda ct, x: [ct * (2 - 1j)])
    z = np.asarray([0.3 + 0.5j, -1.2 + 0.1j])
    with pytest.raises(IdentityError, match=r"check_jvp_vjp_adjoint: <u, J v>"):
        check_jvp_vjp_adjoint(p.bind, (z,))


def test_close_exclusions_are_all_respected():
    from hypothesis import given, settings
    d = fts.away_from(0.0, 0.15, 1.0, margin=0.1)

    @settings(max_examples=50, deadline=None)
    @given(fts.arrays("numpy", dtype=st.sampled_from(["float32", "float64"]), shape=(4,),
                      domain=d))
    def draws(a):
        for p in d.exclude:
            assert np.all(np.abs(a.astype(np.float64) - p) >= 0.1 - 1e-12), (a, p)
    draws()
    with pytest.raises(ValueError, match="no value"):
        fts.away_from(0.0, low=-0.05, high=0.05, margin=0.1)
