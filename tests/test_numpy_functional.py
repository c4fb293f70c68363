"""fnp.vectorize, fromfunction, mask_indices (functrans/numpy/_functional.py): values
against NumPy on every backend, derivatives, transforms, errors."""

from __future__ import annotations

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.errors import ConcretizationError, ShapeError
from functrans.testing import check_grads

RNG = np.random.default_rng(0)


def _affine(a, b):
    return a * b + 1.0


def _branchy(a):
    if a > 0.5:  # needs the element's value: NumPy's loop
        return a * a
    return -a


@pytest.mark.parametrize("shapes", [((2, 3), (3,)), ((4,), ()), ((), ()), ((2, 1), (1, 3))])
def test_elementwise_vectorize_matches_numpy(backend, shapes):
    a_np, b_np = (RNG.normal(size=s) for s in shapes)
    got = fnp.vectorize(_affine)(backend.asarray(a_np), backend.asarray(b_np))
    assert backend.is_own(got)
    np.testing.assert_allclose(backend.to_numpy(got), np.vectorize(_affine)(a_np, b_np),
                               rtol=1e-14)


def test_python_branches_fall_back_to_the_loop_and_differentiate(backend):
    x_np = RNG.normal(size=(2, 3))
    x = backend.asarray(x_np)
    got = fnp.vectorize(_branchy)(x)
    assert backend.is_own(got)
    np.testing.assert_allclose(backend.to_numpy(got), np.vectorize(_branchy)(x_np))
    g = ft.grad(lambda t: fnp.sum(fnp.vectorize(_branchy)(t)))(x)
    np.testing.assert_allclose(backend.to_numpy(g), np.where(x_np > 0.5, 2 * x_np, -1.0))


def test_branches_under_jit_are_a_concretization_error():
    with pytest.raises(ConcretizationError):
        ft.jit(fnp.vectorize(_branchy))(np.ones(3))


@pytest.mark.parametrize("signature,fn,shapes", [
    ("(n),(n)->()", lambda a, b: fnp.sum(a * b), ((4, 3), (3,))),
    ("(m,n),(n)->(m)", lambda m, v: fnp.matmul(m, v), ((2, 1, 3, 4), (5, 4))),
    ("(n)->(n),()", lambda v: (v / fnp.sum(v), fnp.sum(v)), ((3, 4),)),
    ("()->(k)", lambda s: fnp.stack([s, 2 * s]), ((3,),)),
])
def test_signatures_match_numpy(backend, signature, fn, shapes):
    args_np = [RNG.normal(size=s) + 2.0 for s in shapes]
    np_fn = np.vectorize(lambda *a: _to_numpy(fn(*a)), signature=signature)
    want = np_fn(*args_np)
    got = fnp.vectorize(fn, signature=signature)(*(backend.asarray(a) for a in args_np))
    for g, w in zip(got if isinstance(got, tuple) else (got,),
                    want if isinstance(want, tuple) else (want,)):
        assert backend.is_own(g)
        np.testing.assert_allclose(backend.to_numpy(g), w, rtol=1e-13)


def _to_numpy(v):
    return tuple(np.asarray(x) for x in v) if isinstance(v, tuple) else np.asarray(v)


def test_derivatives_and_transforms():
    dot = fnp.vectorize(lambda a, b: fnp.sum(fnp.sin(a) * b), signature="(n),(n)->()")
    a, b = RNG.normal(size=(3, 4)), RNG.normal(size=(4,))
    check_grads(dot, (a, b), order=2)
    np.testing.assert_allclose(ft.jit(dot)(a, b), dot(a, b), rtol=1e-14)
    np.testing.assert_allclose(ft.vmap(dot, in_axes=(0, None))(np.stack([a, a]), b)[1],
                               dot(a, b), rtol=1e-14)


def test_excluded_otypes_and_decorator():
    @fnp.vectorize(excluded={1, "scale"})
    def power(a, p, scale=1.0):
        return scale * a ** p[0]

    x = np.arange(4.0)
    np.testing.assert_allclose(power(x, [2.0], scale=3.0), 3.0 * x ** 2)
    f = fnp.vectorize(lambda a: a * 2, otypes=[fnp.float32])
    assert f(np.arange(3)).dtype == np.float32
    assert fnp.vectorize(_affine, doc="doc").__doc__ == "doc"


def test_errors():
    with pytest.raises(ValueError, match="not a valid gufunc signature"):
        fnp.vectorize(_affine, signature="(n)->")
    dot = fnp.vectorize(lambda a, b: fnp.sum(a * b), signature="(n),(n)->()")
    with pytest.raises(ShapeError, match="core dimension 'n' is 3 and 4"):
        dot(np.ones(3), np.ones(4))
    with pytest.raises(TypeError, match="has 2 inputs"):
        dot(np.ones(3))
    with pytest.raises(ShapeError, match="fewer axes"):
        fnp.vectorize(lambda m: m, signature="(m,n)->(m,n)")(np.ones(3))
    with pytest.raises(TypeError, match="has 1 outputs"):
        fnp.vectorize(lambda v: (v, v), signature="(n)->(n)")(np.ones((2, 3)))
    with pytest.raises(ValueError, match="size-0 loop"):
        fnp.vectorize(_affine)(np.ones((0, 2)), 1.0)


def test_fromfunction(backend):
    got = fnp.fromfunction(lambda i, j: i * 10 + j, (2, 3))
    np.testing.assert_array_equal(got, np.fromfunction(lambda i, j: i * 10 + j, (2, 3)))
    got = fnp.fromfunction(lambda i: i * 2, (4,), dtype=int)
    np.testing.assert_array_equal(got, np.fromfunction(lambda i: i * 2, (4,), dtype=int))
    assert got.dtype == np.int64


@pytest.mark.parametrize("k", [-1, 0, 2])
def test_mask_indices_and_positional_k(k):
    for ours, theirs in ((fnp.triu, np.triu), (fnp.tril, np.tril)):
        got = fnp.mask_indices(4, ours, k)
        want = np.mask_indices(4, theirs, k)
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g, w)
        np.testing.assert_array_equal(ours(np.arange(9.0).reshape(3, 3), k),
                                      theirs(np.arange(9.0).reshape(3, 3), k))
