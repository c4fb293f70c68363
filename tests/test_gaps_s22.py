"""Gaps closed in session 22: transforms' errors naming the transform that was called,
``.at[]`` out-of-range modes, ``unique`` along an axis with ``size``, creation functions
beside another library's array, and missing special functions / jax.numpy helpers."""

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.errors import IntegerInputError, NonScalarOutputError
from functrans.testing import check_grads


# -- transforms name themselves in their errors ----------------------------------------------

def _double(x):
    return x * 2.0


@pytest.mark.parametrize("call, match", [
    (lambda: ft.value_and_grad(_double)(np.ones(3)), r"^value_and_grad of _double needs a scalar"),
    (lambda: ft.value_and_grad(_double)(np.array(1)), r"^value_and_grad of _double: input 0"),
    (lambda: ft.value_and_grad(_double, argnums=2)(1.0), r"^value_and_grad of _double: argnums"),
    (lambda: ft.value_and_grad(_double, has_aux=True)(1.0),
     r"^value_and_grad of _double with has_aux"),
    (lambda: ft.value_and_grad(lambda x: x > 0)(1.0), r"^value_and_grad of <lambda> needs a float"),
    (lambda: ft.grad(_double)(np.ones(3)), r"^grad of _double needs a scalar"),
    (lambda: ft.hessian(_double)(np.array(1)), r"^hessian of _double: input 0"),
    (lambda: ft.hessian(_double, argnums=2)(1.0), r"^hessian of _double: argnums"),
    (lambda: ft.hessian(_double, has_aux=True)(1.0), r"^hessian of _double with has_aux"),
    (lambda: ft.jacfwd(_double)(np.array(1)), r"^jacfwd of _double: input 0"),
    (lambda: ft.jacrev(_double)(np.array(1)), r"^jacrev of _double: input 0"),
    (lambda: ft.jacrev(lambda x: x > 0)(1.0), r"^jacrev of <lambda>: output 0"),
    (lambda: ft.vjp(_double, np.ones(3))[1](np.ones(2)), r"^vjp: cotangent 0"),
    (lambda: ft.linearize(_double, np.ones(3))[1](np.ones(2)), r"^linearize: tangent 0"),
    (lambda: ft.jvp(_double, (np.ones(3),), (np.ones(2),)), r"^jvp: tangent 0"),
])
def test_errors_name_the_transform_called(call, match):
    with pytest.raises((TypeError, ValueError, IntegerInputError, NonScalarOutputError),
                       match=match):
        call()


def test_hessian_still_works_after_naming():
    h = ft.hessian(lambda x: fnp.sum(x ** 3))(np.array([1.0, 2.0]))
    np.testing.assert_allclose(h, np.diag([6.0, 12.0]))
    h, aux = ft.hessian(lambda x: (fnp.sum(x ** 3), x[0]), has_aux=True)(np.array([1.0, 2.0]))
    np.testing.assert_allclose(h, np.diag([6.0, 12.0]))
    assert float(aux) == 1.0
