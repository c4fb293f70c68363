"""Review s14: functrans.tree's Partial (nested partials as JAX's), functrans.numpy.random
(NumPy's bit generators, default_rng of a Generator, spawn), functrans.autograd.extend
(reverse mode of a def_linear/'same' primitive with a NumPy body), and the problems found in
files owned elsewhere (strict xfails, each with its reason)."""

from __future__ import annotations

import functools

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
import functrans.numpy.random as fr
from functrans.autograd import extend as fext
import functrans.autograd as fa
from functrans.errors import BackendMismatchError, CustomRuleError, MissingRuleError
from functrans.tree import Partial, tree_leaves, tree_map, tree_structure


def _f(a, b, c=0.0):
    return a * b + c


def _times(a, b):
    return b * a  # the tracer first (array-api-strict's operators refuse one on the right)


# -- tree.Partial: a partial given as the function stays whole (static), as in JAX ----------

def test_partial_nested_only_outer_arguments_are_leaves():
    p = Partial(Partial(_f, 1.0), 2.0, c=4.0)
    assert tree_leaves(p) == [2.0, 4.0]  # JAX: [2.0, 4.0]; the inner 1.0 is static
    # tree_map doubles the outer arguments only: 1 * 4 + 8 (it was 2 * 4 + 8)
    assert tree_map(lambda v: v * 2, p)() == 12.0
    q = Partial(functools.partial(_f, 3.0), 2.0)
    assert tree_leaves(q) == [2.0]
    assert q() == 6.0 and q.func.args == (3.0,)


def test_partial_nested_structure_and_transforms(backend):
    x = backend.asarray([1.0, 2.0])
    inner = functools.partial(_times, x)
    p = Partial(inner, backend.asarray(3.0))
    assert tree_structure(p) == tree_structure(Partial(inner, backend.asarray(5.0)))
    assert tree_structure(p) != tree_structure(Partial(functools.partial(_times, x), 1.0))
    g = ft.grad(lambda q: fnp.sum(q()))(p)
    assert isinstance(g, Partial) and len(g.args) == 1 and g.func.args[0] is x
    assert backend.is_own(g.args[0])
    np.testing.assert_allclose(backend.to_numpy(g.args[0]), 3.0)  # d/db sum(x * b)
    out = ft.jit(lambda q: q())(p)
    np.testing.assert_allclose(backend.to_numpy(out), [3.0, 6.0])


# -- numpy.random -------------------------------------------------------------------------

def test_random_default_rng_of_a_generator_is_itself():
    g = fr.default_rng(0)
    assert fr.default_rng(g) is g  # NumPy's default_rng(generator) gives it back


def test_random_bit_generators_and_spawn():
    np.testing.assert_array_equal(fr.Generator(fr.PCG64(3)).random(4),
                                  np.random.Generator(np.random.PCG64(3)).random(4))
    np.testing.assert_array_equal(fr.Generator(fr.Philox(3)).normal(size=3),
                                  np.random.Generator(np.random.Philox(3)).normal(size=3))
    np.testing.assert_array_equal(fr.default_rng(fr.SeedSequence(7)).integers(0, 9, 5),
                                  np.random.default_rng(np.random.SeedSequence(7))
                                  .integers(0, 9, 5))
    kids = fr.default_rng(1).spawn(2)
    ref = np.random.default_rng(1).spawn(2)
    assert all(isinstance(k, fr.Generator) for k in kids)
    for k, r in zip(kids, ref):
        np.testing.assert_array_equal(k.random(3), r.random(3))
    assert fr.get_bit_generator() is np.random.get_bit_generator()
    for name in ("BitGenerator", "MT19937", "PCG64", "PCG64DXSM", "SFC64", "Generator",
                 "get_bit_generator", "set_bit_generator"):
        assert name in fr.__all__ and hasattr(fr, name)


# -- autograd.extend: def_linear / 'same' with a NumPy body in reverse mode -----------------

def _linear_prims():
    @fext.primitive
    def dot_np(a, b):
        return np.dot(a, b)
    fext.def_linear(dot_np)

    @fext.primitive
    def dot_fnp(a, b):
        return fnp.dot(a, b)
    fext.def_linear(dot_fnp)

    @fext.primitive
    def scale_np(a, s):
        return np.multiply(a, s)
    fext.defjvp(scale_np, "same")
    return dot_np, dot_fnp, scale_np


def test_autograd_def_linear_numpy_body_reverse_mode_is_a_missing_rule():
    dot_np, dot_fnp, scale_np = _linear_prims()
    x, y = np.array([0.3, -1.2, 0.7]), np.arange(6.0).reshape(3, 2)
    with pytest.raises(MissingRuleError, match="dot_np.*defvjp"):
        fa.grad(lambda a: fnp.sum(dot_np(a, y) ** 2))(x)
    with pytest.raises(MissingRuleError, match="scale_np"):
        fa.grad(lambda a: fnp.sum(scale_np(a, 2.0)))(x)
    # forward mode of the NumPy body, and both modes of a functrans.numpy body, work
    out, tan = fa.make_jvp(lambda a: dot_np(a, y))(x)(np.ones(3))
    np.testing.assert_allclose(tan, np.ones(3) @ y)
    g = fa.grad(lambda a, b: fnp.sum(dot_fnp(a, b) ** 2), (0, 1))(x, y)
    ref = ft.grad(lambda a, b: fnp.sum(fnp.dot(a, b) ** 2), (0, 1))(x, y)
    for a, b in zip(g, ref):
        np.testing.assert_allclose(a, b, rtol=1e-13)


# -- found in files owned elsewhere (strict xfails) ------------------------------------------

def test_custom_vjp_closed_over_with_traced_argument_is_a_custom_rule_error():
    def loss(y):
        @ft.custom_vjp
        def g(x):
            return x * y
        g.defvjp(lambda x: (x * y, None), lambda r, ct: (ct * y,))
        return fnp.sum(g(y))
    with pytest.raises(CustomRuleError):
        ft.grad(loss)(2.0)


def test_asarray_foreign_device_under_a_transform_raises():
    torch = pytest.importorskip("torch")
    with pytest.raises(BackendMismatchError):
        ft.vmap(lambda v: fnp.asarray(v, device=torch.device("cpu")))(np.ones(2))


def test_vjp_cotangent_of_another_library_raises():
    torch = pytest.importorskip("torch")
    _, f_vjp = ft.vjp(lambda a: a * 2.0, np.arange(3.0))
    with pytest.raises(BackendMismatchError):
        f_vjp(torch.ones(3, dtype=torch.float64))
