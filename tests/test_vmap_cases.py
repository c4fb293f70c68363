"""vmap cases run side by side through functrans and JAX (x64), values compared.

The cases follow the topics of JAX's tests/batching_test.py (BatchingTest), restated here for
functrans: constant outputs, nested vmap, in_axes/out_axes trees with None and negative
axes, axis_size, slicing and dynamic indexing, gathers and index updates, reductions, sort,
cumulative ops, dot_general with batch dimensions in various places, Jacobians and Hessians
composed with vmap, control flow with batched predicates, random keys, collectives over
named axes, keyword arguments, empty containers and zero-size batches. Each case is written
once against a namespace (``m.vmap``, ``m.np``, ``m.lax``...) and run with both libraries.
"""

from __future__ import annotations

import functools
import types

import numpy as np
import optree
import pytest

import functrans as ft
import functrans.lax as flax
import functrans.numpy as fnp
import functrans.random as frandom
from functrans.errors import BatchingError

from ._ported import _jax

jax = _jax()
import jax.numpy as jnp  # noqa: E402
from jax import lax as jlax  # noqa: E402

FT = types.SimpleNamespace(name="functrans", vmap=ft.vmap, np=fnp, lax=flax, grad=ft.grad,
                           jvp=ft.jvp, vjp=ft.vjp, jacfwd=ft.jacfwd, jacrev=ft.jacrev,
                           hessian=ft.hessian, jit=ft.jit, random=frandom)
JX = types.SimpleNamespace(name="jax", vmap=jax.vmap, np=jnp, lax=jlax, grad=jax.grad,
                           jvp=jax.jvp, vjp=jax.vjp, jacfwd=jax.jacfwd, jacrev=jax.jacrev,
                           hessian=jax.hessian, jit=jax.jit, random=jax.random)

_RNG = [np.random.default_rng(0)]


def R(*shape):
    """Random data; each case draws the same sequence for both libraries."""
    return _RNG[0].normal(size=shape)


def _same(a, b, tol=1e-10):
    la = optree.tree_leaves(a, none_is_leaf=True)
    lb = optree.tree_leaves(b, none_is_leaf=True)
    assert optree.tree_structure(a) == optree.tree_structure(b) or len(la) == len(lb)
    assert len(la) == len(lb), (len(la), len(lb))
    for x, y in zip(la, lb):
        x, y = np.asarray(x), np.asarray(y)
        assert x.shape == y.shape, (x.shape, y.shape)
        if x.dtype == bool or y.dtype == bool:
            np.testing.assert_array_equal(x, y)
        else:
            np.testing.assert_allclose(x, y, rtol=tol, atol=tol)


CASES = {}


def case(fn):
    CASES[fn.__name__] = fn
    return fn


# -- basic in_axes / out_axes -------------------------------------------------------------------

@case
def constant_output(m):
    return m.vmap(lambda x: 3.0)(np.ones(4))


@case
def constant_tuple_output_with_none(m):
    return m.vmap(lambda x: (x * 2, 7.0), out_axes=(0, None))(np.arange(5.0))


@case
def nested_matmat_from_vdot(m):
    matvec = m.vmap(m.np.vdot, in_axes=(0, None))
    matmat = m.vmap(matvec, in_axes=(None, 1), out_axes=1)
    return matmat(R(4, 3), R(3, 2))


@case
def negative_in_axes(m):
    x = np.arange(60.0).reshape(3, 4, 5)
    return [m.vmap(m.np.sum, in_axes=a)(x) for a in (-3, -2, -1)]


@case
def negative_out_axes(m):
    x = np.arange(60.0).reshape(3, 4, 5)
    return [m.vmap(lambda y: y, out_axes=a)(x) for a in (-3, -2, -1)]


@case
def unmapped_input_to_negative_out_axis(m):
    return m.vmap(lambda *xs: xs, in_axes=(0, None), out_axes=(0, -1))(np.arange(5.0), 7.0)


@case
def in_axes_dict_prefix(m):
    p = {"a": R(3, 2), "b": R(2)}
    return m.vmap(lambda p, x: p["a"] @ p["b"] + x, in_axes=({"a": 0, "b": None}, None))(p, 1.0)


@case
def in_axes_list_is_a_tuple(m):
    return m.vmap(lambda x, y: x * y, in_axes=[0, None])(R(4, 2), R(2))


@case
def out_axes_tree(m):
    return m.vmap(lambda x: {"s": m.np.sum(x), "v": x * 2}, out_axes={"s": 0, "v": 1})(R(3, 4))


@case
def axis_size_with_nothing_mapped(m):
    return m.vmap(lambda x: x + 1, in_axes=None, axis_size=4)(np.arange(3.0))


@case
def axis_size_agrees_with_mapped(m):
    return m.vmap(lambda x: x * 2, axis_size=3)(np.arange(3.0))


@case
def kwargs_mapped_on_axis_0(m):
    f = lambda a, b: (2 * a, 3 * b)
    return m.vmap(f)(a=np.arange(3.0), b=np.arange(3.0) + 1)


@case
def empty_tuples_in_and_out(m):
    r1 = m.vmap(lambda x, _: x + 1)(np.array([0.0, 1.0]), ())
    r2 = m.vmap(lambda x: (x + 1, ()))(np.array([0.0, 1.0]))
    return r1, r2[0], len(r2[1])


@case
def zero_size_batch(m):
    return m.vmap(lambda x: m.np.sum(x ** 2))(np.zeros((0, 3)))


@case
def zero_size_batch_out_axis_1(m):
    return m.vmap(lambda x: x * 2, out_axes=1)(np.zeros((0, 3)))


# -- slicing, indexing, shape ops ----------------------------------------------------------------

@case
def lax_slice(m):
    return m.vmap(lambda x: m.lax.slice(x, (2,), (4,)))(R(5, 10))


@case
def numpy_slice(m):
    return m.vmap(lambda x: x[:, 2])(R(4, 5, 3, 2))


@case
def lax_rev(m):
    x = R(2, 3)
    f = lambda x: m.lax.rev(x, [0])
    return m.vmap(f)(x), m.vmap(f, (1,), 1)(x)


@case
def numpy_reverse_on_every_axis(m):
    x = R(3, 2, 4)
    f = lambda x: x[:, ::-1]
    return [m.vmap(f, (a,), a)(x) for a in (0, 1, 2)]


@case
def lax_pad_interior(m):
    f = lambda x: m.lax.pad(x, 0.0, [(1, 2, 1), (0, 1, 0)])
    return m.vmap(f)(R(5, 4, 3))


@case
def lax_concatenate_mixed_axes(m):
    f = lambda *a: m.lax.concatenate(a, dimension=0)
    g = lambda *a: m.lax.concatenate(a, dimension=1)
    return (m.vmap(f, in_axes=(0, 1, None))(R(6, 2, 3), R(1, 6, 3), R(4, 3)),
            m.vmap(g, in_axes=(0, None, 2))(R(6, 2, 1), R(2, 3), R(2, 4, 6)))


@case
def transpose_and_permutation(m):
    x = np.arange(360.0).reshape(6, 3, 4, 5)
    return (m.vmap(lambda y: y + y.T)(np.arange(36.0).reshape(4, 3, 3)),
            m.vmap(lambda y: m.np.transpose(y, (1, 0, 2)))(x),
            m.vmap(lambda y: m.np.transpose(y, (1, 2, 0)))(x),
            m.vmap(lambda y: m.np.transpose(y, (1, 2, 0)), in_axes=2)(x.reshape(3, 4, 6, 5)))


@case
def index_with_unmapped_scalar(m):
    x = np.arange(30.0).reshape(10, 3)
    return m.vmap(lambda x, i: x[i], in_axes=(0, None))(x, 1)


@case
def index_with_mapped_index(m):
    x = np.arange(30.0).reshape(10, 3)
    idx = np.array([0, 1, 2, 1, 0] * 2)
    # an unmapped NumPy argument stays NumPy's in functrans: index it as fnp's (pinned below)
    return (m.vmap(lambda x, i: x[i])(x, idx),
            m.vmap(lambda x, i: m.np.asarray(x)[i], in_axes=(None, 0))(np.arange(3.0), idx))


@case
def negative_mapped_index_wraps(m):
    x = np.arange(12.0).reshape(4, 3)
    return m.vmap(lambda x, i: x[i])(x, np.array([-1, -3, 2, 1]))


@case
def out_of_range_mapped_index_clipped_under_jit_as_jax_clamps(m):
    # Plain x[i] out of range raises in functrans, also staged (the test below); the explicit
    # clip mode is JAX's default clamping, member by member.
    x = np.arange(12.0).reshape(4, 3)
    i = np.array([5, -7, 2, 1])
    take = lambda x, i: m.np.take(x, i, mode="clip")
    return (m.jit(m.vmap(take))(x, i), m.vmap(m.jit(take))(x, i),
            m.jit(lambda x, j: m.np.take(x[1], j, mode="clip"))(x, np.int64(5)))


@case
def fancy_index_in_unmapped_array(m):
    a = np.arange(24.0).reshape(2, 3, 4)
    ind = np.array([[0, 1], [2, 0]])
    return (m.vmap(lambda a, i: m.np.asarray(a)[:, i], (None, 0))(a, ind),
            m.vmap(lambda a: a[:, np.array([0, 2])])(a))


@case
def dynamic_slice_and_update(m):
    x = R(6, 5)
    starts = np.array([0, 1, 2, 3, 4, 5])
    ds = m.vmap(lambda x, i: m.lax.dynamic_slice(x, (i,), (2,)))(x, starts)
    du = m.vmap(lambda x, y, i: m.lax.dynamic_update_index_in_dim(x, y, i, axis=0),
                in_axes=(None, 0, 0))(R(5), R(6), starts % 5)
    dus = m.vmap(lambda x, u, i: m.lax.dynamic_update_slice(x, u, (i,)))(x, R(6, 2), starts)
    return ds, du, dus


@case
def dynamic_slice_of_scalars(m):
    xs = np.array([1.0, 2.0, 3.0, 4.0])
    return (m.vmap(lambda x: m.lax.dynamic_slice(x, [], []))(xs),
            m.vmap(lambda x: m.lax.dynamic_update_slice(x, 7.0, []))(xs))


@case
def at_add_with_batched_indices_only(m):
    return m.vmap(lambda x, i, y: m.np.asarray(x).at[i].add(y), (None, 0, None))(
        np.zeros(6), np.arange(6), 1.0)


@case
def at_set_duplicates_and_mul(m):
    x = R(4, 5)
    idx = np.array([[0, 0], [1, 4], [2, 2], [3, 1]])
    return (m.vmap(lambda x, i: x.at[i].add(1.5))(x, idx),
            m.vmap(lambda x, i: x.at[i].mul(2.0))(x, idx),
            m.vmap(lambda x, i: x.at[i].max(0.0))(x, idx))


@case
def take_along_axis_batched(m):
    x = R(3, 4, 5)
    i = np.argsort(R(3, 4, 5), axis=-1)[..., :2]
    return m.vmap(lambda x, i: m.np.take_along_axis(x, i, axis=-1))(x, i)


# -- gathers -------------------------------------------------------------------------------------

def _gather(m, offset, collapsed, start, sizes):
    dn = m.lax.GatherDimensionNumbers(offset_dims=offset, collapsed_slice_dims=collapsed,
                                      start_index_map=start)
    return functools.partial(m.lax.gather, dimension_numbers=dn, slice_sizes=sizes)


_GATHERS = [  # (operand axis, operand shape, indices, dnums, slice sizes)
    (0, (3, 5), np.array([[0], [2]]), ((), (0,), (0,)), (1,)),
    (1, (6, 3), np.array([[0], [0], [0]]), ((1,), (), (0,)), (2,)),
    (1, (6, 3, 5), np.array([[0], [2], [1]]), ((1,), (0,), (0,)), (1, 3)),
    (2, (6, 5, 3), np.array([[0, 2], [1, 0]]), ((1,), (0,), (0, 1)), (1, 3)),
]


@case
def gather_batched_operand(m):
    out = []
    for ax, shape, idx, dn, sizes in _GATHERS:
        f = _gather(m, *dn, sizes)
        out.append(m.vmap(f, (ax, None))(R(*shape), idx))
        g = m.grad(lambda x, i: m.np.sum(m.np.sin(f(x, i))))
        out.append(m.vmap(g, (ax, None))(R(*shape), idx))
    return out


@case
def gather_batched_indices_and_both(m):
    f = _gather(m, (1,), (0,), (0,), (1, 3))
    idx = np.array([[0, 2, 1], [0, 3, 3]]).T[..., None]          # (3, 2, 1): batch on axis 1
    return (m.vmap(f, (None, 1))(R(6, 5), idx),
            m.vmap(f, (2, 0))(R(6, 5, 2), np.array([[[0], [2], [5]], [[4], [1], [1]]])),
            m.vmap(m.grad(lambda x, i: m.np.sum(m.np.sin(f(x, i)))), (None, 1))(R(6, 5), idx))


# -- reductions, sort, scans ---------------------------------------------------------------------

@case
def elementwise_and_comparisons(m):
    x = R(4, 5, 3)
    return m.vmap(lambda x: m.np.maximum(x, 0.0))(x), m.vmap(lambda x: x > 0.5)(x)


@case
def any_all(m):
    b = np.array([[True, False], [False, False]])
    return m.vmap(m.np.any)(b), m.vmap(m.np.all)(~b)


@case
def reductions_over_axes(m):
    x = R(3, 4, 5)
    return [m.vmap(lambda y: f(y, axis=a), in_axes=i)(x)
            for f in (m.np.sum, m.np.max, m.np.prod, m.np.mean, m.np.argmax, m.np.argmin)
            for a, i in ((0, 0), (-1, 1), (None, 2))
            if not (a is None and f in (m.np.argmax, m.np.argmin))]


@case
def argmax_keepdims_and_all_axes(m):
    x = R(3, 4, 5)
    return (m.vmap(lambda y: m.np.argmax(y, axis=1, keepdims=True))(x),
            m.vmap(m.np.argmax, in_axes=1)(x))


@case
def cumulative_ops(m):
    x = np.arange(1.0, 10.0).reshape(3, 3)
    return (m.vmap(lambda y: m.np.cumprod(y, axis=-1))(x),
            m.vmap(lambda y: m.np.cumsum(y, axis=0), in_axes=1)(x),
            m.vmap(lambda y: m.lax.cummax(y, axis=0, reverse=True))(R(3, 4)))


@case
def lax_sort_variants(m):
    v = np.arange(12.0)[::-1].reshape(3, 4)
    s = m.lax.sort
    return (m.vmap(functools.partial(s, dimension=0), (0,))(v),
            m.vmap(functools.partial(s, dimension=-1), (0,))(v),
            m.vmap(functools.partial(s, dimension=0), (1,))(v),
            m.vmap(functools.partial(s, dimension=0), (1,), 1)(v))


@case
def lax_sort_key_val_variants(m):
    k = np.arange(12.0)[::-1].reshape(3, 4)
    v = np.random.default_rng(1).permutation(12).reshape(3, 4).astype(float)
    f = functools.partial(m.lax.sort_key_val, dimension=0)
    return (m.vmap(f, (0, 0))(k, v), m.vmap(f, (1, 1), 1)(k, v), m.vmap(f, (0, 1))(k, v.T),
            m.vmap(f, (1, 0))(k.T, v), m.vmap(f, (None, 0))(k[0], v),
            m.vmap(f, (1, None))(k.T, v[0]))


@case
def numpy_sort_argsort(m):
    x = R(4, 6)
    return m.vmap(m.np.sort)(x), m.vmap(m.np.argsort, in_axes=1)(x)


@case
def lax_select(m):
    sel = m.lax.select
    return (m.vmap(sel)(np.array([True, False]), np.array([0.0, 1.0]), np.array([2.0, 3.0])),
            m.vmap(sel, (0, None, None))(np.array([False, True]), np.array([0.0, 1.0]),
                                         np.array([2.0, 3.0])),
            m.vmap(sel, (0, 0, None))(np.array([False, True]), np.array([0.0, 1.0]),
                                      np.array(3.0)),
            m.vmap(sel, (0, None, 1), 1)(np.array([False, True]), np.array([2.0]),
                                         np.array([[3.0, 4.0]])))


# -- dot_general / matmul ------------------------------------------------------------------------

@case
def dot_general_batch_dims(m):
    dn = (((2,), (1,)), ((0,), (0,)))
    f = lambda x, y: m.lax.dot_general(x, y, dn)
    g = lambda x, y: m.lax.dot_general(x, y, (((0,), (0,)), ((), ())))
    return (m.vmap(f)(R(5, 3, 4, 2), R(5, 3, 2, 6)),
            m.vmap(f, in_axes=(2, 1))(R(3, 4, 5, 2), R(3, 5, 2, 6)),
            m.vmap(f, in_axes=(3, None))(R(3, 4, 2, 5), R(3, 2, 6)),
            m.vmap(f, in_axes=(None, 2))(R(3, 4, 2), R(3, 2, 5, 6)),
            m.vmap(g, in_axes=(None, 1))(R(4), R(4, 5)))


@case
def dot_shapes_and_batches(m):
    return (m.vmap(m.np.dot)(R(6, 3), R(6, 3)),
            m.vmap(m.np.dot, in_axes=(1, None))(R(5, 8, 4), R(4, 1)),
            m.vmap(m.np.dot, in_axes=(1, None))(R(3, 2), R(3)),
            m.vmap(m.np.matmul, in_axes=(2, 0))(R(2, 3, 4, 5), R(4, 5, 2)),
            m.vmap(lambda a, b: m.np.einsum("ij,jk->ik", a, b), in_axes=(None, 2))(R(2, 3),
                                                                                R(3, 4, 5)))


@case
def nested_vecvec_broadcasts(m):
    def vecvec(a, b):
        dot = m.np.dot
        for nd in range(1, max(a.ndim, b.ndim)):
            dot = m.vmap(dot, in_axes=(0 if a.ndim > nd else None, 0 if b.ndim > nd else None))
        return dot(a, b)
    return vecvec(R(3), R(3)), vecvec(R(2, 3), R(3)), vecvec(R(4, 2, 3), R(3))


@case
def linalg_cholesky_and_triangular_solve(m):
    a = R(5, 4, 4)
    a = a @ np.swapaxes(a, -1, -2) + 4 * np.eye(4)
    t = R(4, 5, 4) + 3 * np.eye(4)[:, None, :]
    b = R(3, 4, 5)
    ts = m.lax.linalg.triangular_solve
    return (m.vmap(m.np.linalg.cholesky)(a),
            m.vmap(m.np.linalg.cholesky, in_axes=1)(np.swapaxes(a, 0, 1)),
            m.vmap(lambda a, b: ts(a, b, lower=True), in_axes=(1, 2))(t, b),
            m.vmap(lambda a, b: ts(a, b, lower=True), in_axes=(None, 2))(t[:, 0], b),
            m.vmap(lambda a, b: ts(a, b, lower=True), in_axes=(1, None))(t, b[..., 0]))


# -- derivatives composed with vmap --------------------------------------------------------------

@case
def per_example_gradients_of_an_mlp(m):
    params = [(R(2, 3), R(2)), (R(4, 2), R(4))]

    def loss(params, data):
        x, y = data
        for W, b in params:
            out = m.np.dot(W, x) + b
            x = m.np.tanh(out)
        return m.np.sum((out - y) ** 2)
    return m.vmap(functools.partial(m.grad(loss), params))((R(5, 3), R(5, 4)))


@case
def jacobians_by_vmapped_jvp_and_vjp(m):
    A, b, x = R(4, 3), R(4), R(3)
    f = lambda x: m.np.tanh(m.np.dot(A, x) + b)
    y, pull = m.vjp(f, x)
    rev, = m.vmap(pull, out_axes=1)(np.eye(4))
    _, fwd = m.vmap(lambda v: m.jvp(f, (x,), (v,)), out_axes=(None, 1))(np.eye(3))
    return rev, fwd


@case
def jacfwd_jacrev_hessian_with_vmap(m):
    f = lambda x: m.np.sin(x) * m.np.sum(x ** 2)
    xs = R(3, 4)
    return (m.vmap(m.jacfwd(f))(xs), m.vmap(m.jacrev(f))(xs),
            m.jacfwd(m.vmap(f))(xs), m.jacrev(m.vmap(f))(xs),
            m.vmap(m.hessian(lambda x: m.np.sum(m.np.maximum(x, 0.0) ** 3)))(xs))


@case
def hessian_of_relu_squared(m):
    x = np.array([-1.0, -0.5, 0.0, 0.5, 1.0])
    return m.hessian(lambda x: m.np.sum(m.np.power(m.np.maximum(x, 0.0), 2)))(x)


@case
def grad_of_sum_of_vmapped_cholesky(m):
    S = R(8, 4)
    S = S.T @ S
    vec = R(4)

    def f(scale):
        c = m.np.linalg.cholesky(scale * S)
        return -0.5 * m.np.sum(m.np.einsum("ij,j->i", c, vec) ** 2)
    return m.grad(lambda s: m.np.sum(m.vmap(f)(s)))(np.array([0.1, 0.2, 0.3, 0.5]))


@case
def per_example_grad_of_relu_layer(m):
    W = R(5, 5)
    f = lambda W, x: m.np.sum(m.np.maximum(m.np.dot(x, W), 0.0) ** 2)
    return m.vmap(functools.partial(m.grad(f, argnums=1), W))(R(6, 5))


@case
def jit_of_vmap_of_jit(m):
    f = m.jit(lambda x: x + x)
    g = m.jit(m.vmap(f))
    return g(np.ones(2)), g(2 * np.ones(2))


# -- control flow ------------------------------------------------------------------------------

@case
def cond_with_batched_predicate(m):
    f = lambda p, x: m.lax.cond(p > 0, lambda x: m.np.sin(x), lambda x: x * 3.0, x)
    return m.vmap(f)(np.array([1.0, -1.0, 2.0]), R(3, 2)), m.vmap(f, (0, None))(
        np.array([1.0, -1.0]), R(2))


@case
def grad_of_cond_with_batched_predicate(m):
    f = lambda p, x: m.np.sum(m.lax.cond(p > 0, m.np.sin, lambda x: x ** 3, x))
    return m.vmap(m.grad(f, argnums=1))(np.array([1.0, -1.0, 2.0]), R(3, 2))


@case
def switch_with_batched_index(m):
    fs = [lambda x: x + 1, lambda x: x * 2, lambda x: -x]
    return m.vmap(lambda i, x: m.lax.switch(i, fs, x))(np.array([0, 2, 1, 5, -1]), R(5))


@case
def while_loop_with_batched_predicate(m):
    def f(n, x):
        return m.lax.while_loop(lambda c: c[0] < n, lambda c: (c[0] + 1, c[1] * 1.5), (0, x))
    return m.vmap(f)(np.array([0, 3, 1, 5]), R(4))


@case
def fori_loop_with_batched_bound(m):
    return m.vmap(lambda n, x: m.lax.fori_loop(0, n, lambda i, c: c + i * x, 0.0 * x))(
        np.array([0, 2, 4]), R(3))


@case
def scan_batched_carry_and_xs(m):
    def f(c0, xs):
        return m.lax.scan(lambda c, x: (c * x + 1.0, c + x), c0, xs)
    return (m.vmap(f)(R(3), R(3, 5)), m.vmap(f, (None, 1))(1.0, R(5, 3)),
            m.vmap(f, (0, None))(R(3), R(5)))


@case
def grad_of_vmapped_scan(m):
    def f(c0, xs):
        return m.np.sum(m.lax.scan(lambda c, x: (m.np.sin(c) * x, c), c0, xs)[1])
    return m.grad(lambda c: m.np.sum(m.vmap(f, (0, None))(c, R(4))))(R(3))


# -- collectives -------------------------------------------------------------------------------

@case
def collectives_single_name(m):
    x = np.arange(12.0).reshape(3, 4)
    return (m.vmap(lambda x: x - m.lax.psum(x, "i"), axis_name="i")(x),
            m.vmap(lambda x: x / m.lax.pmean(x, "i"), axis_name="i")(x + 1),
            m.vmap(lambda x: m.lax.pmax(x, "i") - m.lax.pmin(x, "i"), axis_name="i")(R(3, 4)),
            m.vmap(lambda x: x - m.lax.axis_index("i"), axis_name="i")(np.arange(5.0)))


@case
def collectives_over_two_names(m):
    x = np.arange(60.0).reshape(3, 4, 5)
    out = []
    for names in (("i", "j"), ("j", "i")):
        for red in (m.lax.psum, m.lax.pmax):
            f = lambda x, red=red, names=names: x - red(x, names)
            for n in ("i", "j"):
                f = m.vmap(f, axis_name=n)
            out.append(f(x))
    return out


@case
def all_gather_to_unmapped_and_nested(m):
    x = np.arange(15.0).reshape(3, 5)
    ag = lambda x: m.lax.all_gather(x, axis_name="i")
    return (m.vmap(ag, axis_name="i", in_axes=1, out_axes=None)(x),
            m.vmap(m.vmap(ag, axis_name="i", out_axes=None), axis_name="j")(x),
            m.vmap(m.vmap(ag, axis_name="j"), axis_name="i", out_axes=None)(x),
            m.vmap(lambda x: m.lax.all_gather(1.0, "i"), axis_name="i", out_axes=None)(x))


@case
def ppermute_over_vmap(m):
    x = np.arange(6.0)
    perm = [(0, 3), (1, 0), (2, 5), (3, 1), (4, 4), (5, 2)]
    return m.vmap(lambda x: x - m.lax.ppermute(x, "i", perm), axis_name="i")(x)


@case
def psum_grad_and_vjp_of_all_gather(m):
    x = R(3, 4)
    f = m.vmap(lambda x: x * m.lax.psum(x ** 2, "i"), axis_name="i")
    ybar = R(3, 3, 4)
    xbar, = m.vmap(lambda x, yb: m.vjp(lambda x: m.lax.all_gather(x, "i"), x)[1](yb),
                   axis_name="i")(x, ybar)
    return m.grad(lambda x: m.np.sum(m.np.sin(f(x))))(x), xbar


# -- random ------------------------------------------------------------------------------------

@case
def vmap_over_keys(m):
    keys = m.vmap(m.random.PRNGKey)(np.arange(4))
    return (m.random.key_data(keys) if m is JX else m.random.key_data(keys),
            m.vmap(functools.partial(m.random.normal, shape=(3, 2)))(keys),
            m.vmap(lambda k: m.random.split(k, 3))(keys))


# -- more: convolutions and windows, constants under collectives, custom rules -----------------

@case
def conv_and_reduce_window_per_example(m):
    W = R(3, 3, 1, 2)
    dn = ("NHWC", "HWIO", "NHWC")

    def f(W, x):
        y = m.lax.conv_general_dilated(x, W, (1, 1), "SAME", (1, 1), (1, 1), dn)
        return m.lax.reduce_window(y, -np.inf, m.lax.max, (1, 2, 2, 1), (1, 1, 1, 1), "SAME")
    X = R(4, 1, 5, 5, 1)
    g = m.grad(lambda W, x: m.np.mean(f(W, x) ** 2))
    return m.vmap(functools.partial(f, W))(X), m.vmap(functools.partial(g, W))(X)


@case
def conv_with_batch_not_leading(m):
    W = R(3, 3, 1, 2)
    f = lambda x: m.lax.conv_general_dilated(x, W, (1, 1), "SAME", (1, 1), (1, 1),
                                             ("HNWC", "HWIO", "HWNC"))
    return m.vmap(f)(R(3, 5, 2, 5, 1))


@case
def collectives_of_unmapped_values(m):
    x = np.arange(4.0)
    return (m.vmap(lambda x: m.lax.psum(1, "i"), axis_name="i")(x),
            m.vmap(lambda x: m.lax.psum(2.0, "i") + x, axis_name="i")(x),
            m.vmap(lambda x: m.lax.pmean(x, "i"), axis_name="i", out_axes=None)(x),
            m.vmap(m.vmap(lambda x: m.lax.axis_index("i") * 10 + m.lax.axis_index("j"),
                          axis_name="j"), axis_name="i")(np.zeros((2, 3))))


@case
def all_gather_axis_and_tiled(m):
    x = R(3, 2, 4)
    return (m.vmap(lambda x: m.lax.all_gather(x, "i", axis=1), axis_name="i")(x),
            m.vmap(lambda x: m.lax.all_gather(x, "i", tiled=True), axis_name="i")(x))


@case
def custom_jvp_under_vmap_and_its_derivative(m):
    cj = jax.custom_jvp if m is JX else ft.custom_jvp

    @cj
    def f(x):
        return m.np.log1p(m.np.exp(x))

    @f.defjvp
    def f_jvp(p, t):
        (x,), (dx,) = p, t
        return f(x), dx / (1 + m.np.exp(-x))
    x = R(5)
    return m.vmap(f)(x), m.vmap(m.grad(f))(x), m.jacfwd(m.vmap(f))(x)


@case
def vmap_of_random_with_mapped_shapes(m):
    keys = m.random.split(m.random.PRNGKey(3), 4)
    return (m.vmap(lambda k: m.random.uniform(k, (2,)))(keys),
            m.vmap(lambda k, mu: mu + m.random.normal(k, (3,)), (0, None))(keys, R(3)),
            m.vmap(lambda k: m.random.permutation(k, 5))(keys),
            m.vmap(lambda k: m.random.bernoulli(k, 0.3, (6,)))(keys))


@case
def while_loop_of_random_until_small(m):
    def f(key):
        def body(c):
            u, k = c
            k, sub = m.random.split(k)
            return m.random.uniform(sub, ()), k
        return m.lax.while_loop(lambda c: c[0] > 0.5, body, (1.0, key))[0]
    return m.vmap(f)(m.random.split(m.random.PRNGKey(0), 3))


@case
def jacrev_of_vmap_with_moved_axes(m):
    f = lambda a, b: m.np.tanh(a * b).sum()
    v = m.vmap(f, in_axes=(1, None), out_axes=0)
    return m.jacrev(v)(R(3, 4), R(3)), m.jacfwd(v, argnums=1)(R(3, 4), R(3))


@case
def zero_size_batch_with_pytree_and_kwargs(m):
    f = lambda p, *, s: {"y": p["a"] @ p["b"] * s, "n": m.np.sum(p["a"])}
    return m.vmap(f, in_axes=({"a": 0, "b": None},))({"a": np.zeros((0, 2, 3)),
                                                      "b": np.ones(3)}, s=np.zeros(0))


@case
def roll_by_a_mapped_shift(m):
    s = np.array([1, -2, 7])
    return (m.vmap(lambda x, s: m.np.roll(x, s))(R(3, 2, 5), s),
            m.vmap(lambda x, s: m.np.roll(x, s, axis=1))(R(3, 2, 5), s),
            m.vmap(m.grad(lambda x, s: m.np.sum(m.np.roll(x, s) * m.np.arange(5.0))))(R(3, 5), s))


@case
def dynamic_slice_starts_clamped(m):
    return (m.vmap(lambda x, i: m.lax.dynamic_slice(x, (i,), (2,)))(R(4, 5),
                                                                     np.array([-3, 4, 9, 1])),
            m.vmap(lambda x, i: m.lax.dynamic_index_in_dim(x, i, axis=1, keepdims=False))(
                R(3, 4, 5), np.array([0, 3, 2])))


@case
def more_structured_ops(m):
    return (m.vmap(lambda x: m.lax.map(lambda r: r * m.np.sum(r), x))(R(2, 3, 4)),
            m.vmap(lambda x: m.lax.associative_scan(m.np.add, x), in_axes=1)(R(5, 3)),
            m.vmap(m.np.linalg.solve, in_axes=(None, 1))(R(3, 3) + 3 * np.eye(3), R(3, 4)),
            m.vmap(lambda x: m.lax.top_k(x, 2))(R(3, 5)),
            m.vmap(lambda x: m.np.nonzero(x, size=2, fill_value=-1))(
                np.array([[0.0, 1.0, 2.0], [0.0, 0.0, 3.0]])),
            m.vmap(lambda x: m.np.take(x, np.array([0, 5, -9]), mode="fill", fill_value=-1.0))(
                R(3, 4)),
            m.vmap(lambda x: m.lax.psum({"a": x, "b": 2 * x}, "i"), axis_name="i")(R(3)))


# -- the cases, run --------------------------------------------------------------------------

_JAX_EAGER = {"custom_jvp_under_vmap_and_its_derivative"}


@pytest.mark.parametrize("name", list(CASES))
def test_vmap_case_matches_jax(name):
    fn = CASES[name]
    _RNG[0] = np.random.default_rng(0)
    ours = fn(FT)
    _RNG[0] = np.random.default_rng(0)
    # JAX's side whole under jax.jit: one compilation instead of one per operation (the
    # values are JAX's eager ones); a custom_jvp defined inside a jit trace is JAX's to refuse.
    theirs = fn(JX) if name in _JAX_EAGER else jax.jit(lambda: fn(JX))()
    _same(ours, theirs)


# -- deliberate differences and errors ---------------------------------------------------------

def test_out_of_range_mapped_index_raises_where_jax_clamps():
    # Eagerly, functrans refuses an out-of-range index, each member's checked against its own
    # axis (once, the members' rows flattened together, index 5 of member 0 read member 1's).
    x = np.arange(12.0).reshape(4, 3)
    for i in ([5, 0, 0, 0], [-4, 0, 0, 0]):
        with pytest.raises(IndexError, match=r"index -?\d is out of bounds for axis 0 with size 3"):
            ft.vmap(lambda x, i: x[i])(x, np.array(i))
        with pytest.raises(IndexError, match="out of bounds"):
            ft.vmap(lambda x, i: fnp.take(x, i))(x, np.array(i))
        msg = r"take_along_axis: index -?\d is out of bounds for axis 0 with size 3"
        with pytest.raises(IndexError, match=msg):
            ft.vmap(lambda x, i: fnp.take_along_axis(x, i, axis=0))(x, np.array(i)[:, None])
    # Staged, the index is checked as the graph runs: each member against its own row.
    i = np.array([5, -7, 2, 1])
    for f in (ft.jit(ft.vmap(lambda x, i: x[i])), ft.vmap(ft.jit(lambda x, i: x[i]))):
        with pytest.raises(IndexError, match=r"index 5 is out of bounds for an axis of size 3"):
            f(x, i)
    with pytest.raises(IndexError, match=r"index 5 is out of bounds for an axis of size 3"):
        ft.jit(lambda x, j: x[1, j])(x, np.int64(5))
    np.testing.assert_array_equal(ft.jit(ft.vmap(lambda x, i: x[i]))(x, np.array([2, -3, 0, 1])),
                                  [2.0, 3.0, 6.0, 10.0])
    np.testing.assert_array_equal(jax.vmap(lambda x, i: x[i])(x, np.array([5, 0, 0, 0])),
                                  [2.0, 3.0, 6.0, 9.0])
    np.testing.assert_array_equal(
        ft.vmap(lambda x, i: fnp.take(x, i, mode="clip"))(x, np.array([5, -4, 0, 0])),
        jax.vmap(lambda x, i: jnp.take(x, i, mode="clip"))(x, np.array([5, -4, 0, 0])))


def test_unmapped_numpy_argument_stays_numpy():
    # JAX turns every argument into its own array; functrans leaves an unmapped NumPy array
    # as it is, so NumPy's indexing (and its lack of .at) applies to it.
    from functrans.errors import TracerArrayConversionError
    with pytest.raises(TracerArrayConversionError, match="functrans.numpy.take"):
        ft.vmap(lambda x, i: x[i], in_axes=(None, 0))(np.arange(3.0), np.array([0, 2]))
    with pytest.raises(AttributeError):
        ft.vmap(lambda x, i: x.at[i].add(1.0), (None, 0))(np.zeros(3), np.array([0, 2]))


def test_mismatched_axis_sizes_name_the_arguments():
    with pytest.raises(BatchingError, match=r"same size.*args\[0\] is leaf 0.*args\[1\]"):
        ft.vmap(lambda x, y: x + y)(np.ones(3), np.ones(4))
    with pytest.raises(BatchingError, match="axis_size is 5"):
        ft.vmap(lambda x: x, axis_size=5)(np.ones(3))
    with pytest.raises(BatchingError, match="pass axis_size"):
        ft.vmap(lambda x: x, in_axes=None)(np.ones(3))


def test_axes_out_of_range_and_unmapped_outputs_are_refused():
    x = np.arange(60.0).reshape(3, 4, 5)
    with pytest.raises(BatchingError, match=r"in_axes -4 is out of range.*shape \(3, 4, 5\)"):
        ft.vmap(fnp.sum, in_axes=-4)(x)
    with pytest.raises(BatchingError, match="out_axes -4 is out of range"):
        ft.vmap(lambda y: y, out_axes=-4)(x)
    with pytest.raises(BatchingError, match="out_axes -2 is out of range"):
        ft.vmap(lambda *a: a, in_axes=(0, None), out_axes=(0, -2))(np.arange(5.0), 7.0)
    with pytest.raises(BatchingError, match="depends on the batch, but out_axes is None"):
        ft.vmap(lambda y: y * 2, out_axes=None)(np.arange(3.0))
    with pytest.raises(BatchingError, match="in_axes has 1 entries.*2 positional"):
        ft.vmap(lambda a, b: a + b, in_axes=(0,))(np.ones(2), np.ones(2))


def test_spmd_axis_name_is_accepted_and_changes_nothing():
    x = R(3, 4)
    f = lambda v: fnp.sum(v ** 2) - v
    np.testing.assert_allclose(ft.vmap(f, spmd_axis_name="d")(x), ft.vmap(f)(x))


def test_lax_select_with_a_scalar_or_python_bool_predicate():
    a, b = np.array([0.0, 1.0]), np.array([2.0, 3.0])
    for p in (True, np.array(False)):
        np.testing.assert_array_equal(flax.select(p, a, b), jlax.select(p, a, b))
    with pytest.raises(TypeError, match="one shape"):
        flax.select(np.array([True]), a, b)
