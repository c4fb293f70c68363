"""Structured control flow, case by case, following the topics of JAX's
tests/lax_control_flow_test.py: ``while_loop``, ``fori_loop`` (static and traced bounds,
``unroll``), ``cond`` and ``switch`` (operands, pytrees, number and index predicates, closures,
clamped indices), ``scan`` (``reverse``, ``length``, ``unroll``, pytree carries, no ``xs``, no
outputs, nested scans), ``map`` (``batch_size``), ``associative_scan`` and cumulative
operations, each under ``jvp``, ``grad``/``vjp``, second order, ``vmap`` and ``jit``; then the
errors.

Every case is written once against a namespace ``m`` (``m.lax``, ``m.np``, ``m.grad``...,
``m.a(data, dtype)`` for an input array) and checked twice: against a reference computed here
with NumPy alone (a plain Python loop, a closed form, central differences in float64), on
every backend, which is what CI runs; and against JAX (x64), where JAX is installed. Where
functrans deliberately differs from JAX (reverse mode through ``while_loop``; only the chosen
branch runs where the predicate is concrete; a number from ``while_loop``'s ``cond_fun``;
integer ``fori_loop`` bounds) a test pins functrans's behaviour, and docs/coming-from-jax.md
says so.
"""

from __future__ import annotations

import collections
import functools
import operator

import numpy as np
import optree
import pytest

import functrans as ft
import functrans.lax as flax
import functrans.numpy as fnp
import functrans.scipy.linalg as fsl


class Lib:
    """One library's transforms and namespaces, so that a case is written once."""

    def __init__(self, name, mod, np_, lax_, solve, asarray):
        self.name, self.m, self.np, self.lax, self.solve = name, mod, np_, lax_, solve
        self._asarray = asarray

    def a(self, data, dtype="float64"):
        return self._asarray(data, dtype)

    def __getattr__(self, attr):
        return getattr(self.m, attr)


def _ft(backend):
    return Lib("functrans", ft, fnp, flax, fsl.solve, backend.asarray)


def _jx():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import jax.scipy.linalg as jsl
    return Lib("jax", jax, jnp, jax.lax, jsl.solve,
               lambda data, dtype: jnp.asarray(np.array(data, dtype=dtype)))


A = np.array  # (in references: a list is a container, an A(...) one value)


def _R(seed, *shape):
    """Fixed random data: a case and its reference draw the same numbers."""
    return np.random.default_rng(seed).normal(size=shape)


def _host(tree, to_numpy=np.asarray):
    def one(x):
        if x is None or isinstance(x, (bool, int, float, np.ndarray, np.generic)):
            return x if x is None else np.asarray(x)
        return np.asarray(to_numpy(x))
    return optree.tree_map(one, tree, none_is_leaf=True)


def close(got, want, tol, what=""):
    lg = optree.tree_leaves(got, none_is_leaf=True)
    lw = optree.tree_leaves(want, none_is_leaf=True)
    assert len(lg) == len(lw), (what, len(lg), len(lw))
    for k, (x, y) in enumerate(zip(lg, lw)):
        if x is None or y is None:
            assert x is None and y is None, (what, k, x, y)
            continue
        x, y = np.asarray(x), np.asarray(y)
        assert x.shape == y.shape, (what, k, x.shape, y.shape)
        # the kind (bool, integer, float) must agree; the width may differ (JAX's weak types)
        kinds = {"u": "i"}
        assert kinds.get(x.dtype.kind, x.dtype.kind) == kinds.get(y.dtype.kind, y.dtype.kind), \
            (what, k, x.dtype, y.dtype)
        if x.dtype == bool:
            np.testing.assert_array_equal(x, y, err_msg=f"{what} leaf {k}")
        else:
            np.testing.assert_allclose(x, y, rtol=tol, atol=tol, err_msg=f"{what} leaf {k}")


# -- references: NumPy only ----------------------------------------------------------------------


def fd_jvp(f, xs, ts, eps=1e-6):
    """Central differences of ``f(*xs)`` along ``ts`` (float64)."""
    fp = f(*[np.asarray(x, float) + eps * np.asarray(t, float) for x, t in zip(xs, ts)])
    fm = f(*[np.asarray(x, float) - eps * np.asarray(t, float) for x, t in zip(xs, ts)])
    return optree.tree_map(lambda p, q: (np.asarray(p, float) - np.asarray(q, float)) / (2 * eps),
                           fp, fm)


def fd_grad(f, *xs, argnum=0, eps=1e-6):
    """Central-difference gradient of the scalar ``f(*xs)`` in argument ``argnum``."""
    xs = [np.asarray(x, float) for x in xs]
    x = xs[argnum]
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = eps
        hi, lo = list(xs), list(xs)
        hi[argnum], lo[argnum] = x + e, x - e
        g[i] = (f(*hi) - f(*lo)) / (2 * eps)
    return g


def fd_vjp(f, xs, ct, eps=1e-6):
    """The VJP by the dot-product identity: the gradient of ``<ct, f(*xs)>``."""
    def inner(*a):
        return sum(float(np.sum(np.asarray(c) * np.asarray(o)))
                   for c, o in zip(optree.tree_leaves(ct), optree.tree_leaves(f(*a))))
    return tuple(fd_grad(inner, *xs, argnum=k, eps=eps) for k in range(len(xs)))


def fd_hess(f, x, h=1e-4):
    """Central-difference Hessian of the scalar ``f`` at ``x``."""
    x = np.asarray(x, float)
    n = x.size
    H = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            ei = np.zeros(n)
            ej = np.zeros(n)
            ei[i] = ej[j] = h
            ei, ej = ei.reshape(x.shape), ej.reshape(x.shape)
            H[i, j] = (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)) / (
                4 * h * h)
    return H.reshape(x.shape + x.shape)


def np_scan(f, c, xs, reverse=False):
    """``lax.scan``'s meaning as a Python loop over NumPy values."""
    ys = []
    order = range(len(xs) - 1, -1, -1) if reverse else range(len(xs))
    for i in order:
        c, y = f(c, xs[i])
        ys.append(y)
    if reverse:
        ys.reverse()
    return c, np.stack(ys)


# -- the cases ------------------------------------------------------------------------------------

CASES = {}


def case(ref, tol=1e-10, jax_tol=1e-9, backends=None):
    """Register a case: ``ref()`` gives the NumPy reference of what the case returns."""
    def deco(fn):
        CASES[fn.__name__] = (fn, ref, tol, jax_tol, backends)
        return fn
    return deco


def _i(m, v, dtype="int64"):
    return m.a(v, dtype)


# -- while_loop -----------------------------------------------------------------------------------


def _count_loop(m, limit=10):
    def loop(init):
        return m.lax.while_loop(lambda s: m.lax.lt(s[0], limit),
                                lambda s: (m.lax.add(s[0], 1), m.lax.add(s[1], 1)), (init, 0))[1]
    return loop


@case(ref=lambda: [8, 8, 7])
def while_tuple_carry_counts(m):
    loop = _count_loop(m)
    return [loop(2), m.jit(loop)(2), m.jit(loop)(_i(m, 3))]


def _nested_count(m):
    def inner(i, count):
        return m.lax.while_loop(lambda s: m.lax.le(s[1], s[0]),
                                lambda s: (s[0], m.lax.add(s[1], 1), m.lax.add(s[2], 1)),
                                (i, 0, count))[2]

    def outer(num):
        _, i, count = m.lax.while_loop(
            lambda s: m.lax.lt(s[1], s[0]),
            lambda s: (s[0], m.lax.add(s[1], 1), inner(s[1], s[2])), (num, 0, 0))
        return i, count
    return outer


@case(ref=lambda: [(3, 6), (3, 6), (2, 3), (4, 10)])
def while_nested(m):
    outer = _nested_count(m)
    j = m.jit(outer)
    return [outer(3), j(3), j(_i(m, 2)), j(_i(m, 4))]


@case(ref=lambda: [8, 8, 7, 14, 8, 7])
def while_closes_over_traced_limit_and_increment(m):
    def loop(init, limit, inc):
        return m.lax.while_loop(lambda s: m.lax.lt(s[0], limit),
                                lambda s: (m.lax.add(s[0], 1), m.lax.add(s[1], inc)),
                                (init, 0))[1]

    def loop_jit_body(init, limit, inc):
        def body(s):
            pos, count = s  # the inner jit closes over the carry's count
            return m.jit(lambda pos, inc: (m.lax.add(pos, 1), m.lax.add(count, inc)))(pos, inc)
        return m.lax.while_loop(lambda s: m.lax.lt(s[0], limit), body, (init, 0))[1]
    j, k = m.jit(loop), m.jit(loop_jit_body)
    return [loop(2, 10, 1), j(2, 10, 1), j(_i(m, 3), _i(m, 10), _i(m, 1)),
            j(_i(m, 3), _i(m, 10), _i(m, 2)), loop_jit_body(2, 10, 1), k(_i(m, 3), 10, 1)]


@case(ref=lambda: [np.tril(_R(1, 5, 5))] * 2)
def while_nested_with_dynamic_update_slice(m):
    def inner(i, arr, out):
        def body(s):
            i, j, arr, out = s
            row = m.lax.dynamic_index_in_dim(arr, i, 0, False)
            v = m.lax.reshape(m.lax.dynamic_index_in_dim(row, j, 0, False), (1, 1))
            return i, m.lax.add(j, 1), arr, m.lax.dynamic_update_slice(out, v, (i, j))
        return m.lax.while_loop(lambda s: m.lax.le(s[1], s[0]), body, (i, 0, arr, out))[3]

    def outer(arr):
        def body(s):
            i, n, arr, out = s
            return m.lax.add(i, 1), n, arr, inner(i, arr, out)
        return m.lax.while_loop(lambda s: m.lax.lt(s[0], s[1]), body,
                                (0, 5, arr, m.np.zeros_like(arr)))[3]
    x = m.a(_R(1, 5, 5))
    return [outer(x), m.jit(outer)(x)]


_NUMS = (0, 5, 10, 15)


def _sum_first_ref():
    x = _R(2, 10)
    return [[np.sum(x[:n])] * 2 for n in _NUMS]


@case(ref=_sum_first_ref)
def while_conjunction_predicate(m):
    def sum_first_n(arr, num):
        def cond(s):
            arr, num, i, _ = s
            return m.lax.bitwise_and(m.lax.lt(i, num), m.lax.lt(i, arr.shape[0]))

        def body(s):
            arr, num, i, total = s
            return (arr, num, m.lax.add(i, 1),
                    m.lax.add(total, m.lax.dynamic_index_in_dim(arr, i, 0, False)))
        return m.lax.while_loop(cond, body, (arr, num, 0, 0.))[3]
    x, j = m.a(_R(2, 10)), m.jit(sum_first_n)
    return [[sum_first_n(x, n), j(x, _i(m, n))] for n in _NUMS]


@case(ref=lambda: [A([4, 3, 4, 3])] * 2 + [A([4., 3., 4., 3.])])
def while_vmap_batched_predicate(m):
    fun = lambda x: m.lax.while_loop(lambda x: x < 3, lambda x: x + 2, x)  # noqa: E731
    xi = _i(m, [0, 1, 2, 3])
    return [m.vmap(fun)(xi), m.vmap(m.jit(fun))(xi), m.vmap(fun)(m.a([0., 1., 2., 3.]))]


@case(ref=lambda: [A([0, 2, 2, 4])] * 3)
def while_vmap_predicate_on_axis_index(m):
    def fun(x):
        return m.lax.while_loop(lambda x: x < m.lax.axis_index("i"), lambda x: x + 2, x)
    z = _i(m, [0, 0, 0, 0], "int32")
    return [m.vmap(fun, axis_name="i")(z), m.vmap(m.jit(fun), axis_name="i")(z),
            m.vmap(lambda _, x: m.jit(fun)(x), axis_name="i", in_axes=(0, None))(z, 0)]


@case(ref=lambda: [A([2, 4]), A([4, 3]), (A([4, 3]), A([1, 2])), A([2., 4.])])
def while_vmap_batched_constants_and_tuple_carry(m):
    f1 = lambda x, y: m.lax.while_loop(lambda x: x < y, lambda x: x + 2, x)  # noqa: E731
    f2 = lambda x, y: m.lax.while_loop(lambda x: x < 3, lambda x: x + y, x)  # noqa: E731

    def f3(x, y):
        return m.lax.while_loop(lambda c: c[0] + c[1] < 5, lambda c: (c[0] + 1, c[1]), (x, y))
    return [m.vmap(f1, in_axes=(None, 0))(0, _i(m, [2, 3])),
            m.vmap(f2, in_axes=(None, 0))(0, _i(m, [2, 3])),
            m.vmap(f3)(_i(m, [0, 0]), _i(m, [1, 2])),
            m.jit(m.vmap(f1, in_axes=(None, 0)))(m.a(0.), m.a([2., 3.]))]


def _double_loop_ref(a, b):
    return sum(i + j for i in range(a + 1) for j in range(b + 1))


@case(ref=lambda: [A([_double_loop_ref(a, a) for a in range(5)]),
                   A([_double_loop_ref(a, 2) for a in range(5)])])
def while_vmap_nested_loops(m):
    def test(a, b):
        def body1(s):
            val, i, _ = s
            val, _, _ = m.lax.while_loop(lambda t: t[2] < b + 1,
                                         lambda t: (t[0] + t[1] + t[2], t[1], t[2] + 1),
                                         (val, i, 0))
            return val, i + 1, 0
        return m.lax.while_loop(lambda s: s[1] < a + 1, body1, (0, 0, 0))[0]
    ar = _i(m, np.arange(5))
    return [m.vmap(test)(ar, ar), m.vmap(test, in_axes=(0, None))(ar, 2)]


def _squaring_ref():
    x = np.arange(9.).reshape(3, 3)
    jv = (x ** 4, 4 * x ** 4)
    return [jv] * 4 + [jv, (4 * x ** 4, 16 * x ** 4)]


@case(ref=_squaring_ref)
def while_jvp_linearize_and_forward_second_order(m):
    x = m.a(np.arange(9.).reshape(3, 3))
    out = []
    for jit_loop, jit_body, jit_cond in [(0, 0, 0), (1, 0, 1), (0, 1, 0), (1, 1, 1)]:
        cond = lambda x: x[0, 2] <= 8  # noqa: E731  (x becomes x**2, then x**4)
        body = lambda x: x * x  # noqa: E731
        cond = m.jit(cond) if jit_cond else cond
        body = m.jit(body) if jit_body else body
        loop = functools.partial(m.lax.while_loop, cond, body)
        loop = m.jit(loop) if jit_loop else loop
        out.append(m.jvp(loop, (x,), (x,)))
    y, f_lin = m.linearize(loop, x)
    out.append((y, f_lin(x)))
    out.append(m.jvp(lambda x: m.jvp(loop, (x,), (x,))[1], (x,), (x,)))
    return out


def _growing_ref():
    x, t = _R(5, 2), _R(5, 2)
    return [((x, x * x, x ** 4), (t, 2 * x * t, 4 * x ** 3 * t))] * 2


@case(ref=_growing_ref)
def while_jvp_tangents_appear_inside_the_loop(m):
    def body(s):
        i, x, y, z = s
        y = x * x
        return i + 1, x, y, y * y
    y0, z0 = m.a(_R(3, 2)), m.a(_R(4, 2))
    loop = lambda x: m.lax.while_loop(lambda s: s[0] < 2, body, (0, x, y0, z0))[1:]  # noqa: E731
    x, t = m.a(_R(5, 2)), m.a(_R(5, 2))
    return [m.jvp(loop, (x,), (t,)), m.jvp(m.jit(loop), (x,), (t,))]


@case(ref=lambda: [(2, True)] * 8)
def while_python_int_init_takes_the_body_dtype(m):
    out = []
    for dt in ("int8", "int16", "int32", "int64"):
        inc = m.a(1, dt)
        r = m.lax.while_loop(lambda v: v < 2, lambda v: v + inc, 0)
        s = m.jit(lambda inc: m.lax.while_loop(lambda v: v < 2, lambda v: v + inc, 0))(inc)
        out += [(r, r.dtype == inc.dtype), (s, s.dtype == inc.dtype)]
    return out


@case(ref=lambda: [(7, 10), (7, 10), True, [2] * 40])
def while_constant_members_empty_and_wide_carries(m):
    cond = lambda c: c[1] < 10  # noqa: E731
    body = lambda c: (7, c[1] + 1)  # noqa: E731
    wide = m.jit(lambda x: m.lax.while_loop(lambda s: s[0] < 2,
                                            lambda s: tuple(v + 1 for v in s), (x,) * 40))
    return [m.lax.while_loop(cond, body, (33, 4)),
            m.jit(lambda b: m.lax.while_loop(cond, body, (33, b)))(_i(m, 4)),
            tuple(m.lax.while_loop(lambda _: False, lambda _: (), ())) == (),
            list(wide(_i(m, 0)))]


# -- fori_loop ------------------------------------------------------------------------------------


@case(ref=lambda: [1, 3, 6, 1, 3, 6, 5, 12, 22, 5, 12, 22])
def fori_counts_with_static_and_traced_bounds(m):
    count = lambda n: m.lax.fori_loop(0, n, lambda i, tot: m.lax.add(tot, i), 0)  # noqa: E731

    def count2(num):  # the body closes over the bound
        return m.lax.fori_loop(0, num, lambda i, tot: m.lax.add(num, m.lax.add(tot, i)), 0)
    out = []
    for f in (count, count2):
        out += [f(n) for n in (2, 3, 4)] + [m.jit(f)(_i(m, n)) for n in (2, 3, 4)]
    return out


def _fori_states_ref():
    x = _R(2, 10)
    return [[[np.sum(x[:n])] * 2 for n in _NUMS]] * 3


@case(ref=_fori_states_ref)
def fori_tuple_dict_and_empty_tuple_states(m):
    def elem(arr, i):
        return m.lax.dynamic_index_in_dim(arr, i, 0, False)

    def tup(arr, num):
        body = lambda i, s: (s[0], m.lax.add(s[1], elem(s[0], i)))  # noqa: E731
        return m.lax.fori_loop(0, m.lax.min(arr.shape[0], num), body, (arr, 0.))[1]

    def dic(arr, num):
        def body(i, s):
            return {"arr": s["arr"], "total": m.lax.add(s["total"], elem(s["arr"], i))}
        return m.lax.fori_loop(0, m.lax.min(arr.shape[0], num), body,
                               {"arr": arr, "total": 0.})["total"]

    def emp(arr, num):
        body = lambda i, s: (s[0], m.lax.add(s[1], elem(s[0], i)), ())  # noqa: E731
        return m.lax.fori_loop(0, m.lax.min(arr.shape[0], num), body, (arr, 0., ()))[1]
    x = m.a(_R(2, 10))
    return [[[f(x, n), m.jit(f)(x, _i(m, n))] for n in _NUMS] for f in (tup, dic, emp)]


@case(ref=lambda: [(A([10, 11]), A([20, 20])), (A([10., 11.]), A([20, 20]))])
def fori_vmap_tuple_carry(m):
    fun = lambda x: m.lax.fori_loop(0, 10, lambda i, c: (c[0] + 1, c[1] + 2), (x, 0))  # noqa
    return [m.vmap(fun)(_i(m, [0, 1])), m.vmap(m.jit(fun))(m.a([0., 1.]))]


@case(ref=lambda: [1., 1., 1., 1.])
def fori_empty_ranges(m):
    body = lambda i, x: x + i  # noqa: E731
    return [m.lax.fori_loop(0, 0, body, 1.), m.lax.fori_loop(3, 1, body, 1.),
            m.jit(lambda x: m.lax.fori_loop(0, 0, body, x))(m.a(1.)),
            m.jit(lambda x, n: m.lax.fori_loop(n, 1, body, x))(m.a(1.), _i(m, 3))]


def _fori_h_np(x):
    c = x
    for i in range(4):
        c = np.sin(c) * x + i
    return c


def _fori_derivs_ref():
    x, e = 2.0, 1e-4
    h, dh = _fori_h_np, fd_grad(_fori_h_np, 2.0)
    d2h = (h(x + e) - 2 * h(x) + h(x - e)) / e ** 2
    return [16., (16., 8.), 12., (12., 6.), 8., 6., h(x), dh, d2h, dh, dh, 1.5 * dh]


@case(ref=_fori_derivs_ref, tol=2e-6)
def fori_static_bounds_derivatives(m):
    f = lambda x: m.lax.fori_loop(0, 3, lambda i, x: x * 2, x)  # noqa: E731
    g = lambda x: m.lax.fori_loop(0, 3, lambda i, x: x * (i + 1), x)  # noqa: E731
    h = lambda x: m.lax.fori_loop(0, 4, lambda i, c: m.np.sin(c) * x + i, x)  # noqa: E731
    x, one = m.a(2.0), m.a(1.0)
    return [f(x), m.jvp(f, (x,), (one,)), g(x), m.jvp(g, (x,), (one,)), m.grad(f)(x),
            m.grad(g)(x), h(x), m.grad(h)(x), m.grad(m.grad(h))(x), m.jit(m.grad(h))(x),
            m.grad(m.jit(h))(x), m.vjp(h, x)[1](m.a(1.5))[0]]


def _unroll_ref():
    x = _R(6, 3)
    c = x.copy()
    for i in range(5):
        c = np.cos(c) + 0.1 * i
    g = np.ones(3)
    c = x.copy()
    for i in range(5):  # d/dx of sum(c_5): the product of -sin(c_k)
        g = g * -np.sin(c)
        c = np.cos(c) + 0.1 * i
    return [c] * 4 + [c, g]


@case(ref=_unroll_ref)
def fori_unroll_changes_nothing(m):
    body = lambda i, c: m.np.cos(c) + i * 0.1  # noqa: E731
    x = m.a(_R(6, 3))
    out = [m.lax.fori_loop(0, 5, body, x, unroll=u) for u in (None, 1, 3, True)]
    f = lambda x: m.lax.fori_loop(0, 5, body, x, unroll=2)  # noqa: E731
    out += [m.jit(f)(x), m.grad(lambda x: m.np.sum(m.jit(f)(x)))(x)]
    return out


@case(ref=lambda: [(1.3 ** 3, 3 * 1.3 ** 2), np.add.outer(np.arange(3), np.arange(4)),
                   A([1., 4., 0.125]), (A([1., 4., 0.125]), A([0., 4., 0.75]))])
def fori_traced_bounds_forward_mode_and_vmap(m):
    f = lambda x, n: m.lax.fori_loop(0, n, lambda i, c: c * x, m.np.ones_like(x))  # noqa
    g = lambda x, n: m.lax.fori_loop(0, n, lambda _, x: x + 1, x)  # noqa: E731
    n3 = _i(m, 3)
    x3, n_b = m.a([1.5, 2.0, 0.5]), _i(m, [0, 2, 3])
    return [m.jvp(lambda x: m.jit(f)(x, n3), (m.a(1.3),), (m.a(1.0),)),
            m.vmap(m.vmap(g, (None, 0)), (0, None))(_i(m, np.arange(3)), _i(m, np.arange(4))),
            m.vmap(f)(x3, n_b),
            m.vmap(lambda x, n: m.jvp(lambda x: f(x, n), (x,), (m.np.ones_like(x),)))(x3, n_b)]



# -- cond and switch ------------------------------------------------------------------------------


def _tuple_branch_ref(x):
    return (x, x) if x < 3 else (2 * x, 4 * x)


@case(ref=lambda: [_tuple_branch_ref(x) for x in range(5)] * 2)
def cond_tuple_outputs_eager_and_jit(m):
    def f(x):
        def false_fun(x):
            y = m.lax.mul(2, x)
            return y, m.lax.mul(2, y)
        return m.lax.cond(m.lax.lt(x, 3), lambda x: (x, x), false_fun, x)
    return [f(x) for x in range(5)] + [m.jit(f)(_i(m, x)) for x in range(5)]


@case(ref=lambda: [v for x in (0, 1, 2) for v in (2 * x if x == 0 else x * x,) * 2]
      + [v for x in (0, 1, 2) for v in (3 * x if x == 0 else x ** 3,) * 2])
def cond_several_operands(m):
    f2 = lambda x: m.lax.cond(x == 0, lambda a, b: a + b, lambda a, b: a * b, x, x)  # noqa
    f3 = lambda x: m.lax.cond(x == 0, lambda a, b, c: a + b + c,  # noqa: E731
                              lambda a, b, c: a * b * c, x, x, x)
    return [v for f in (f2, f3) for x in (0, 1, 2) for v in (f(x), m.jit(f)(_i(m, x)))]


@case(ref=lambda: [2, 9, 24])
def cond_nested_inside_a_branch_closing_over_operand(m):
    @m.jit
    def f(x):
        def outer_false(x):
            return m.lax.cond(m.lax.lt(x, 5), lambda _: m.lax.mul(3, x),
                              lambda y: m.lax.mul(y, x), 4)
        return m.lax.cond(m.lax.lt(x, 2), lambda x: m.lax.mul(2, x), outer_false, x)
    return [f(_i(m, 1)), f(_i(m, 3)), f(_i(m, 6))]


@case(ref=lambda: [A(5), A(4), (A(1), A(2.), A(3.)), (A(4), A(2.), A(4.))])
def cond_branch_returning_python_numbers(m):
    j = m.jit(lambda x: m.lax.cond(x < 3, lambda x: 5, lambda x: x, x))
    k = m.jit(lambda x: m.lax.cond(x < 3, lambda x: (1, 2., 3.),
                                   lambda x: (x, 2., 4.), x))
    return [j(_i(m, 0)), j(_i(m, 4)), k(_i(m, 0)), k(_i(m, 4))]


@case(ref=lambda: [A([1., 2.]), A([3., 4.]) * np.sin(4.)] * 2)
def cond_branches_closing_over_constant_arrays(m):
    c1, c2 = m.a([1., 2.]), m.a([3., 4.])
    f = lambda x: m.lax.cond(x < 2, lambda x: x * c1, lambda x: m.np.sin(x) * c2, x)  # noqa
    return [f(m.a(1.)), f(m.a(4.)), m.jit(f)(m.a(1.)), m.jit(f)(m.a(4.))]


@case(ref=lambda: [(False, A(0)), (False, A(0.)), (True, A(1)), (True, A(1.))] * 2
      + [A(1.), A(1.), A(-1.), A(1.), A(1.), A(-1.)])
def cond_number_predicates(m):
    fun = lambda p: m.lax.cond(p, lambda x: (True, x), lambda x: (False, x), p)  # noqa: E731
    out = [fun(p) for p in (0, 0., 1, 1.)]
    out += [m.jit(fun)(m.a(p, dt)) for p, dt in ((0, "int64"), (0., "float64"), (1, "int64"),
                                                  (1., "float64"))]
    # any number: nonzero is true, as in JAX (an index-valued predicate is not clamped)
    g = lambda p: m.lax.cond(p, lambda: m.a(1.), lambda: m.a(-1.))  # noqa: E731
    for p in (_i(m, 2), m.a(-0.5), m.a(0.)):
        out.append(g(p))
    for p in (_i(m, 2), m.a(-0.5), m.a(0.)):
        out.append(m.jit(g)(p))
    return out


def _cond_jvp_ref():
    out = []
    for x in (3.14, 2.72):
        if x < 3:
            out += [((np.sin(x), x), (np.cos(x) * x, x))] * 2 + [(-np.sin(x), 0.)]
        else:
            out += [((2 * x * x, 4 * x * x), (4 * x * x, 8 * x * x))] * 2 + [(4., 8.)]
    return out


@case(ref=_cond_jvp_ref)
def cond_jvp_and_forward_second_order(m):
    def fun(x):
        def false_fun(x):
            y = 2 * x * x
            return y, 2 * y
        return m.lax.cond(x < 3, lambda x: (m.np.sin(x), x), false_fun, x)
    out = []
    for x0 in (3.14, 2.72):
        x, one = m.a(x0), m.a(1.)
        out += [m.jvp(fun, (x,), (x,)), m.jvp(m.jit(fun), (x,), (x,)),
                m.jvp(lambda x: m.jvp(fun, (x,), (one,))[1], (x,), (one,))[1]]
    return out


def _cond_grad_ref():
    out = []
    for x in (2.14, 1.72):
        if x < 2:
            f, df, d2f, d2g, dg = 3 * x, 3., 0., 6., 6 * x
        else:
            f, df, d2f, d2g, dg = np.sin(x), np.cos(x), -np.sin(x), -np.sin(x), np.cos(x)
        out += [f, df, d2f, d2g, dg, d2g]
    return out


@case(ref=_cond_grad_ref)
def cond_grad_under_jit_to_second_order(m):
    f = m.jit(lambda x: m.lax.cond(x < 2, lambda x: 3. * x, m.np.sin, x))
    g = lambda x: m.lax.cond(x < 2, lambda x: 3 * x ** 2, m.np.sin, x)  # noqa: E731
    out = []
    for x0 in (2.14, 1.72):
        x = m.a(x0)
        out += [f(x), m.grad(f)(x), m.grad(m.grad(f))(x), m.grad(m.grad(m.jit(g)))(x),
                m.jit(m.grad(g))(x), m.hessian(g)(x)]
    return out


def _cond_vec_ref():
    out = []
    for x0 in (2.14, 1.72):
        x = x0 * np.ones(2)
        if x0 < 2:
            out += [np.sum(x * [1, 2]), A([1., 2.]), np.zeros((2, 2)), np.sum(x * [1, 2])]
        else:
            out += [np.sum(np.sin(x)), np.cos(x), np.diag(-np.sin(x)), np.sum(np.cos(x) * x)]
    return out


@case(ref=_cond_vec_ref)
def cond_vector_operand_grad_hessian_jvp(m):
    c = m.a([1., 2.])
    inner = m.jit(lambda x: m.lax.cond(x[0] < 2, lambda x: x * c, m.np.sin, x))
    f = lambda x: m.np.sum(inner(x))  # noqa: E731
    out = []
    for x0 in (2.14, 1.72):
        x = m.a(x0 * np.ones(2))
        out += [f(x), m.grad(f)(x), m.hessian(f)(x), m.jvp(f, (x,), (x,))[1]]
    return out


def _cond_closure_ref():
    y = 5.8
    return [(A(2.), A(0.)), A(0.), (A(0.), 2 * np.cos(y)), -2 * np.sin(y)]


@case(ref=_cond_closure_ref)
def cond_branch_closing_over_a_differentiated_value(m):
    fun = m.jit(lambda x, y: m.lax.cond(x < 3, lambda _: 2. * m.np.sin(y),
                                        lambda x: 2. * x, x))
    y = m.a(5.8)
    out = []
    for x0 in (3.14, 2.72):
        x = m.a(x0)
        out += [m.grad(fun, (0, 1))(x, y), m.grad(m.grad(fun, 1), 1)(x, y)]
    return out


@case(ref=lambda: [3., 6., np.sin(4.), 2 * np.cos(4.), np.sin(4.), 2 * np.cos(4.)])
def cond_linearize(m):
    f = lambda x: m.lax.cond(x < 2, lambda x: 3. * x, m.np.sin, x)  # noqa: E731
    y1, l1 = m.linearize(f, m.a(1.))
    y2, l2 = m.linearize(f, m.a(4.))
    y3, l3 = m.linearize(m.jit(f), m.a(4.))
    two = m.a(2.)
    return [y1, l1(two), y2, l2(two), y3, l3(two)]


def _vmap_grad_ref():
    x = np.linspace(-1, 1, 20)
    return [np.where(x > 0, 2 * x, 3 * x ** 2)] * 3


@case(ref=_vmap_grad_ref)
def cond_vmap_of_grad_batched_predicate(m):
    f = lambda x: m.lax.cond(x > 0, lambda x: x ** 2, lambda x: x ** 3, x)  # noqa: E731
    x = m.a(np.linspace(-1, 1, 20))
    return [m.vmap(m.grad(f))(x), m.vmap(m.grad(m.jit(f)))(x), m.jit(m.vmap(m.grad(f)))(x)]


@case(ref=lambda: [np.zeros(10), A([0., 1., 0.25])])
def cond_grad_of_vmap_no_nan_from_the_branch_not_taken(m):
    eps = 1e-3

    def safe(x):
        return m.lax.cond(x < eps, lambda _: eps, lambda _: m.np.sqrt(x), ())
    g = m.grad(lambda x: m.np.sum(m.vmap(safe)(x)))
    return [g(m.a(np.zeros(10))), g(m.a([0., 0.25, 4.]))]


@case(ref=lambda: [np.ones(1), np.ones(3)])
def cond_vmap_of_jacrev_of_nested_identity_conds(m):
    cid = lambda x: m.lax.cond(x < 0., lambda x: x, lambda x: x, x)  # noqa: E731
    return [m.vmap(m.jacrev(lambda x: cid(cid(x))))(m.a(np.ones(1))),
            m.vmap(m.jacrev(lambda x: cid(cid(x))))(m.a([-1., 0., 2.]))]


@case(ref=lambda: [A([1, 2]), A([-3, -4]), A([-3, -4]), A([-5, -5]), A([1, -5]), A([1, -4]),
                   A([1, -4])])
def cond_vmap_with_each_operand_batched_or_not(m):
    def fun(x, y, z):
        return m.lax.cond(m.lax.lt(x, 3), lambda yz: yz[0], lambda yz: m.lax.neg(yz[1]), (y, z))
    y, z = _i(m, [1, 2]), _i(m, [3, 4])
    return [m.vmap(fun, (None, 0, 0))(_i(m, 2), y, z), m.vmap(fun, (None, 0, 0))(_i(m, 4), y, z),
            m.vmap(m.jit(fun), (None, 0, 0))(_i(m, 4), y, z),
            m.vmap(fun, (None, 0, None))(_i(m, 4), y, _i(m, 5)),
            m.vmap(fun, (0, 0, None))(_i(m, [2, 4]), y, _i(m, 5)),
            m.vmap(fun)(_i(m, [2, 4]), y, z), m.vmap(m.jit(fun))(_i(m, [2, 4]), y, z)]


def _cond_tree_ref():
    x, y = _R(20, 3), _R(21, 3)
    t = {"a": 2 * x, "b": (y, x + y)}
    f = {"a": -x, "b": (y * y, x)}
    g_t = {"x": 2 + 2 * (x + y), "y": 2 + 2 * (x + y)}
    g_f = {"x": 2 * x - 1, "y": 4 * y}
    stack = {"a": np.stack([t["a"], f["a"]]),
             "b": (np.stack([t["b"][0], f["b"][0]]), np.stack([t["b"][1], f["b"][1]]))}
    return [t, f, t, f, g_t, g_f, stack, stack]


@case(ref=_cond_tree_ref)
def cond_pytree_operands_and_outputs(m):
    def f(p, d):
        return m.lax.cond(p, lambda d: {"a": d["x"] * 2, "b": (d["y"], d["x"] + d["y"])},
                          lambda d: {"a": -d["x"], "b": (d["y"] * d["y"], d["x"])}, d)

    def loss(d, p):
        o = f(p, d)
        return m.np.sum(o["a"]) + 2 * m.np.sum(o["b"][0]) + m.np.sum(o["b"][1] ** 2)
    d = {"x": m.a(_R(20, 3)), "y": m.a(_R(21, 3))}
    t, fa = m.a(True, "bool"), m.a(False, "bool")
    ps = m.a([True, False], "bool")
    return [f(True, d), f(False, d), m.jit(f)(t, d), m.jit(f)(fa, d),
            m.grad(m.jit(loss))(d, t), m.grad(loss)(d, fa),
            m.vmap(f, (0, None))(ps, d), m.jit(m.vmap(f, (0, None)))(ps, d)]


def _switch_ref(i):
    return (i, i) if i <= 0 else (2 * i, 4 * i) if i == 1 else (i, -i)


@case(ref=lambda: [_switch_ref(i) for i in (-1, 0, 1, 2, 3)] * 2
      + [2 * x if x <= 0 else x * x for x in (-1, 0, 1, 2)] * 2 + [-7.] * 9)
def switch_clamps_the_index(m):
    branches = [lambda x: (x, x), lambda x: (m.lax.mul(2, x), m.lax.mul(4, x)),
                lambda x: (x, -x)]
    f = lambda i: m.lax.switch(i, branches, i)  # noqa: E731
    out = [f(i) for i in (-1, 0, 1, 2, 3)] + [m.jit(f)(_i(m, i)) for i in (-1, 0, 1, 2, 3)]
    g = lambda x: m.lax.switch(x, [m.lax.add, m.lax.mul], x, x)  # noqa: E731
    out += [g(x) for x in (-1, 0, 1, 2)] + [m.jit(g)(_i(m, x)) for x in (-1, 0, 1, 2)]
    one = lambda i, x: m.lax.switch(i, [lambda x: -x], x)  # noqa: E731
    for h in (one, m.jit(one), m.jit(one, static_argnums=0)):
        out += [h(i, m.a(7.)) for i in (-1, 0, 1)]
    return out


def _switch_derivs_ref():
    out = []
    for x in (-0.7, 0.7, 1.7, 2.7, 3.7):
        i = min(max(int(np.floor(x)), 0), 2)
        f, df, d2f = [(3 * x * x, 6 * x, 6.), (np.sin(x), np.cos(x), -np.sin(x)),
                      (-x ** 3, -3 * x * x, -6 * x)][i]
        out += [f, (f, df * 0.5), df, df, d2f, (f, 2 * df)]
    return out


@case(ref=_switch_derivs_ref)
def switch_derivatives_with_index_from_the_operand(m):
    branches = [lambda x: 3. * x * x, m.np.sin, lambda x: -x ** 3]

    def f(x):
        return m.lax.switch(m.lax.convert_element_type(x // 1, m.np.int32), branches, x)
    out = []
    for x0 in (-0.7, 0.7, 1.7, 2.7, 3.7):
        x = m.a(x0)
        y, lin = m.linearize(m.jit(f), x)
        out += [f(x), m.jvp(f, (x,), (m.a(0.5),)), m.grad(f)(x), m.grad(m.jit(f))(x),
                m.grad(m.grad(f))(x), (y, lin(m.a(2.)))]
    return out


@case(ref=lambda: [A(1.)] * 4)
def switch_grad_with_branches_differing_in_weak_type(m):
    one = m.a(1.)
    branches = [lambda x: x, lambda x: x + one]
    f = lambda x: m.lax.switch(m.lax.convert_element_type(x, m.np.int32), branches, x)  # noqa
    return [m.grad(f)(m.a(0.)), m.grad(f)(m.a(1.)), m.grad(m.jit(f))(m.a(0.)),
            m.grad(m.jit(f))(m.a(1.))]


@case(ref=lambda: [A([1, 2]), A([-3, -4]), A([-3, -4]), A([-5, -5]), A([1, -5]), A([1, -4]),
                   A([1, -4]), A([1, -4, 1])])
def switch_vmap_with_each_operand_batched_or_not(m):
    def fun(index, x, y, z):
        branches = [lambda xyz: xyz[0], lambda xyz: m.lax.neg(xyz[1]),
                    lambda xyz: m.lax.sign(xyz[2])]
        return m.lax.switch(index, branches, (x, y, z))
    x, y, w = _i(m, [1, 2]), _i(m, [3, 4]), _i(m, 9)
    return [m.vmap(fun, (None, 0, 0, None))(_i(m, 0), x, y, w),
            m.vmap(fun, (None, 0, 0, None))(_i(m, 1), x, y, w),
            m.vmap(m.jit(fun), (None, 0, 0, None))(_i(m, 1), x, y, w),
            m.vmap(fun, (None, 0, None, None))(_i(m, 1), x, _i(m, 5), w),
            m.vmap(fun, (0, 0, None, None))(_i(m, [0, 1]), x, _i(m, 5), w),
            m.vmap(fun)(_i(m, [0, 1]), x, y, _i(m, [9, 9])),
            m.vmap(m.jit(fun))(_i(m, [0, 1]), x, y, _i(m, [9, 9])),
            m.vmap(fun, (0, 0, 0, None))(_i(m, [-3, 1, 7]), _i(m, [1, 2, 3]), _i(m, [3, 4, 5]),
                                         w)]


# -- running the cases ----------------------------------------------------------------------------

_NAMES = sorted(CASES)


@pytest.mark.parametrize("name", _NAMES)
def test_case_against_numpy_reference(name, backend):
    fn, ref, tol, _, backends = CASES[name]
    if backends is not None and backend.name not in backends:
        pytest.skip(f"{name}: not on {backend.name}")
    got = _host(fn(_ft(backend)), backend.to_numpy)
    close(got, _host(ref()), tol, name)


@pytest.mark.parametrize("name", _NAMES)
def test_case_against_jax(name):
    jx = _jx()
    fn, _, _, jax_tol, _ = CASES[name]
    import functrans.backends as fb

    class _Numpy:
        name = "numpy"
        asarray = staticmethod(lambda data, dtype="float64": np.array(data, dtype=dtype))
        to_numpy = staticmethod(lambda x: fb.get_backend("numpy").to_numpy(x))
    got = _host(fn(_ft(_Numpy)))
    close(got, _host(fn(jx)), jax_tol, name)
