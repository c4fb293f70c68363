"""Fixes made by the lead in session 22."""

import numpy as np
import pytest

import functrans as ft
import functrans.nn as fnn
import functrans.scipy.special as fsp


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_logsumexp_of_terms_cancelling_to_zero_has_an_infinite_derivative(backend):
    # log(s) at s == 0 reached by cancelling weights: -inf with log's infinite slope (JAX's
    # values). The derivative was 0, as if nothing were in the sum.
    a = backend.asarray([0.0, 0.0, -np.inf])
    b = backend.asarray([1.0, -1.0, 1.0])
    assert float(backend.to_numpy(fsp.logsumexp(a, b=b))) == -np.inf
    ga = backend.to_numpy(ft.grad(lambda a: fsp.logsumexp(a, b=b))(a))
    assert ga[0] == np.inf and ga[1] == -np.inf and np.isnan(ga[2])
    gb = backend.to_numpy(ft.grad(lambda b: fsp.logsumexp(a, b=b))(b))
    assert gb[0] == gb[1] == np.inf
    gs = backend.to_numpy(ft.grad(lambda a: fsp.logsumexp(a, b=b, return_sign=True)[0])(a))
    assert gs[0] == np.inf and gs[1] == -np.inf
    value, sign = fsp.logsumexp(a, b=b, return_sign=True)
    assert float(backend.to_numpy(value)) == -np.inf and float(backend.to_numpy(sign)) == 0.0
    # Nothing in the sum stays -inf with derivative 0 (functrans's documented choice).
    none = backend.asarray([-np.inf, -np.inf])
    np.testing.assert_array_equal(
        backend.to_numpy(ft.grad(lambda a: fsp.logsumexp(a, b=backend.asarray([1.0, 1.0])))(
            none)), [0.0, 0.0])
    np.testing.assert_array_equal(backend.to_numpy(ft.grad(fsp.logsumexp)(none)), [0.0, 0.0])
    # jax.nn's where: the left-out entry gets no derivative.
    x = backend.asarray([0.0, 0.0, 5.0])
    kept = backend.asarray([True, True, False], dtype=bool)
    g = backend.to_numpy(ft.grad(lambda x: fnn.logsumexp(
        x, b=backend.asarray([1.0, -1.0, 1.0]), where=kept))(x))
    np.testing.assert_array_equal(g, [np.inf, -np.inf, 0.0])
    # A sum that does not cancel keeps its finite derivative.
    y = backend.asarray([1.0, 2.0])
    w = backend.asarray([-1.0, 2.0])
    e = np.array([-np.e, 2 * np.e ** 2])
    np.testing.assert_allclose(
        backend.to_numpy(ft.grad(lambda y: fsp.logsumexp(y, b=w))(y)), e / e.sum())
