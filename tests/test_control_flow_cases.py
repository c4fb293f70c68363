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



@case(ref=lambda: [A(2), A(3), np.arange(5.), A([[6.] * 3, [5.] * 3, [4.] * 3, [3.] * 3])])
def while_and_scan_under_vmap_with_axis_sizes_and_batched_constants(m):
    # the same scan under two axis sizes (nothing cached across them)
    f = lambda: m.lax.scan(lambda c, _: (m.lax.psum(1, "i"), None), 0, None, length=1)[0]  # noqa
    # a body returning a constant: the carry is batched only by its input
    const = lambda x: m.lax.while_loop(lambda _: False, lambda _: m.a(0.), x)  # noqa: E731

    def fixed(i, x):  # the predicate batched by the carry, the body by a constant on axis 1
        return m.lax.while_loop(lambda c: c[0] < 5, lambda c: (c[0] + 1, c[1] + x),
                                (i, m.a(np.ones(3))))[1]
    return [m.vmap(f, axis_name="i", axis_size=2, out_axes=None)(),
            m.vmap(f, axis_name="i", axis_size=3, out_axes=None)(),
            m.vmap(const)(m.a(np.arange(5.))),
            m.vmap(fixed, in_axes=(0, 1))(_i(m, [0, 1, 2, 3]), m.a(np.ones((3, 4))))]


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



# -- scan -----------------------------------------------------------------------------------------


def _scan_f(np_, d, sum_sin=False):
    """JAX's scan test body: a carry of 4, elements of 3, a closed-over ``d``."""
    def f(c, a):
        # (np_'s add and multiply: either side may be a plain array, the other a tracer, which
        # array-api-strict's operators refuse, its issue #188)
        if sum_sin:
            b = np_.add(np_.add(np_.sum(np_.sin(a)), np_.sum(np_.sin(c))), np_.sum(np_.sin(d)))
        else:
            b = np_.cos(np_.add(np_.add(np_.sum(np_.sin(a)), np_.sum(np_.cos(c))),
                                np_.sum(np_.tan(d))))
        return np_.sin(np_.multiply(c, b)), b
    return f


def _scan_data(m=None):
    d, c, xs = _R(30, 2), _R(31, 4), _R(32, 5, 3)
    return (d, c, xs) if m is None else (m.a(d), m.a(c), m.a(xs))


def _scan_values_ref():
    d, c, xs = _scan_data()
    return [np_scan(_scan_f(np, d), c, xs)] * 6


@case(ref=_scan_values_ref)
def scan_values_under_jit_and_unroll(m):
    d, c, xs = _scan_data(m)
    f = _scan_f(m.np, d)
    out = []
    for jit_scan in (False, True):
        for jit_f in (False, True):
            ff = m.jit(f) if jit_f else f
            s = functools.partial(m.lax.scan, ff)
            out.append((m.jit(s) if jit_scan else s)(c, xs))
    out.append(m.lax.scan(f, c, xs, unroll=2))
    out.append(m.jit(lambda c, xs: m.lax.scan(f, c, xs, unroll=True))(c, xs))
    return out


def _scan_jvp_ref():
    d, c, xs = _scan_data()
    run = lambda c, xs: np_scan(_scan_f(np, d), c, xs)  # noqa: E731
    t = fd_jvp(run, (c, xs), (c, xs))
    return [(run(c, xs), t)] * 2 + [t] * 2


@case(ref=_scan_jvp_ref, tol=1e-7)
def scan_jvp_and_linearize(m):
    d, c, xs = _scan_data(m)
    s = functools.partial(m.lax.scan, _scan_f(m.np, d))
    return [m.jvp(s, (c, xs), (c, xs)), m.jvp(m.jit(s), (c, xs), (c, xs)),
            m.linearize(s, c, xs)[1](c, xs), m.linearize(m.jit(s), c, xs)[1](c, xs)]


def _scan_grad_ref():
    d, c, xs = _scan_data()
    f = _scan_f(np, d, sum_sin=True)
    loss = lambda c, xs: np.sum(np_scan(f, c, xs)[0])  # noqa: E731
    g = (fd_grad(loss, c, xs, argnum=0), fd_grad(loss, c, xs, argnum=1))
    ct = (_R(33, 4), _R(34, 5))
    return [g] * 3 + [fd_vjp(lambda c, xs: np_scan(f, c, xs), (c, xs), ct)]


@case(ref=_scan_grad_ref, tol=1e-7)
def scan_grad_and_vjp(m):
    d, c, xs = _scan_data(m)
    f = _scan_f(m.np, d, sum_sin=True)
    loss = lambda c, xs: m.np.sum(m.lax.scan(f, c, xs)[0])  # noqa: E731
    ct = (m.a(_R(33, 4)), m.a(_R(34, 5)))
    return [m.grad(loss, (0, 1))(c, xs), m.grad(m.jit(loss), (0, 1))(c, xs),
            m.jit(m.grad(loss, (0, 1)))(c, xs),
            m.vjp(functools.partial(m.lax.scan, f), c, xs)[1](ct)]


def _scan_so_f(np_):
    d = 0.75

    def f(c, a):
        b = np_.sin(np_.multiply(c, np_.sum(np_.cos(d * a))))
        c = 0.9 * np_.cos(d * np_.sum(np_.sin(np_.multiply(c, a))))
        return c, b
    return f


def _scan_so_ref():
    xs, w = np.arange(6.).reshape(3, 2) / 4, _R(40, 3)
    f = _scan_so_f(np)

    def loss(c, xs):
        cT, ys = np_scan(f, c, xs)
        return cT + np.sum(ys * w)
    return [fd_hess(lambda c: loss(c, xs), 1.0), fd_hess(lambda xs: loss(1.0, xs), xs)]


@case(ref=_scan_so_ref, tol=1e-6)
def scan_second_order_reverse(m):
    f = _scan_so_f(m.np)
    xs, w = m.a(np.arange(6.).reshape(3, 2) / 4), m.a(_R(40, 3))

    def loss(c, xs):
        cT, ys = m.lax.scan(f, c, xs)
        return cT + m.np.sum(ys * w)
    return [m.hessian(loss)(m.a(1.0), xs), m.jacrev(m.grad(loss, 1), 1)(m.a(1.0), xs)]


def _rnn_parts(np_, zeros):
    def step(params, state, inp):
        wt, wo = params
        st = np_.concatenate([state, inp])
        return np_.tanh(np_.matmul(wt, st)), np_.tanh(np_.matmul(wo, st))

    def loss(params, inputs, targets, scan):
        preds = scan(functools.partial(step, params), zeros, inputs)[1]
        return np_.sum((preds - targets) ** 2)
    return loss


def _rnn_data():
    return (_R(50, 2, 6), _R(51, 1, 6)), _R(52, 3, 4), _R(53, 3, 1), _R(54, 5, 3, 4), \
        _R(55, 5, 3, 1)


def _rnn_ref():
    params, inputs, targets, b_in, b_tg = _rnn_data()
    loss = _rnn_parts(np, np.zeros(2))
    lo = lambda p0, p1: loss((p0, p1), inputs, targets, np_scan)  # noqa: E731
    grad = tuple(fd_grad(lo, *params, argnum=k) for k in range(2))
    jv = fd_jvp(lo, params, params)
    return [lo(*params), grad, (lo(*params), jv),
            A([loss(params, x, y, np_scan) for x, y in zip(b_in, b_tg)])]


@case(ref=_rnn_ref, tol=1e-7)
def scan_rnn_loss_grad_jvp_and_vmap(m):
    params, inputs, targets, b_in, b_tg = (optree.tree_map(m.a, t) for t in _rnn_data())
    loss = _rnn_parts(m.np, m.a(np.zeros(2)))
    lo = m.jit(lambda params, inputs, targets: loss(params, inputs, targets, m.lax.scan))
    return [lo(params, inputs, targets), m.grad(lo)(params, inputs, targets),
            m.jvp(lambda p: lo(p, inputs, targets), (params,), (params,)),
            m.vmap(lambda x, y: lo(params, x, y))(b_in, b_tg)]


_SCAN_AXES = ((0, None), (None, 1), (1, 2), (0, 0), (None, 0))


def _scan_vmap_ref():
    d = _R(30, 2)
    out = []
    for k, (cb, xb) in enumerate(_SCAN_AXES):
        c, xs = _scan_vmap_data(k, cb, xb)
        res = []
        for b in range(3):
            cc = c if cb is None else np.take(c, b, axis=cb)
            xx = xs if xb is None else np.take(xs, b, axis=xb)
            res.append(np_scan(_scan_f(np, d), cc, xx))
        out.append(optree.tree_map(lambda *r: np.stack(r), *res))
    return out + [out[2]]


def _scan_vmap_data(k, cb, xb):
    c_shape, x_shape = [4], [5, 3]
    if cb is not None:
        c_shape.insert(cb, 3)
    if xb is not None:
        x_shape.insert(xb, 3)
    return _R(60 + k, *c_shape), _R(70 + k, *x_shape)


@case(ref=_scan_vmap_ref)
def scan_vmap_in_axes(m):
    d = m.a(_R(30, 2))
    s = functools.partial(m.lax.scan, _scan_f(m.np, d))
    out = []
    for k, (cb, xb) in enumerate(_SCAN_AXES):
        c, xs = (m.a(v) for v in _scan_vmap_data(k, cb, xb))
        out.append(m.vmap(s, (cb, xb))(c, xs))
    c, xs = (m.a(v) for v in _scan_vmap_data(2, 1, 2))
    return out + [m.jit(m.vmap(m.jit(s), (1, 2)))(c, xs)]


def _scan_tuples_f(np_):
    def f(c, a):
        a1, a2 = a
        c1, c2 = c
        b = np_.sum(np_.cos(a1)) * np_.sum(np_.tan(c2 * a2))
        return (c1 * np_.sin(np_.sum(a1 * a2)), c2 * np_.cos(np_.sum(a1))), b
    return f


def _scan_tuples_data():
    return (_R(80, 4, 2), _R(81, 4)), (_R(82, 3, 4), _R(83, 3, 5, 4))


def _scan_tuples_ref():
    (c1, c2), (a1, a2) = _scan_tuples_data()
    f = _scan_tuples_f(np)
    res = []
    for i in range(4):
        cc, bs = np_scan(lambda c, k: f(c, (a1[k, i], a2[k, :, i])), (c1[i], c2[i]), range(3))
        res.append((cc, bs))
    return optree.tree_map(lambda *r: np.stack(r), *res)


@case(ref=_scan_tuples_ref)
def scan_vmap_pytree_carry_and_xs_on_different_axes(m):
    c, xs = optree.tree_map(m.a, _scan_tuples_data())
    return m.vmap(lambda c, xs: m.lax.scan(_scan_tuples_f(m.np), c, xs), (0, (1, 2)))(c, xs)


@case(ref=lambda: [(A([2.] * 3), A([3., 4., 5.]), np.zeros(3), np.zeros(3)), True])
def scan_vmap_carry_becoming_batched_as_it_shifts(m):
    def f(ci):
        return m.lax.scan(lambda c, x: ((c[1], c[2], c[3], 0.), None), (0., 1., 2., ci),
                          m.a(np.zeros(2)))
    carry, ys = m.vmap(f)(m.a([3., 4., 5.]))
    return [carry, ys is None]


def _minimize_ref():
    x0 = A([1., 2., 3.])
    return [x0 - 7.5 * 0.5, np.sum(np.cos(1.0 - (x0 - 7.5 * 0.25))) * 7.5]


@case(ref=_minimize_ref)
def scan_grad_through_a_scan_whose_body_takes_a_grad(m):
    def minimize(p):
        energy = lambda conf: m.np.sum(conf * p)  # noqa: E731

        def step(carry, x):
            i, conf = carry
            return (i + 1, (-0.1) * m.grad(energy)(conf) + conf), x
        (_, xf), _ = m.lax.scan(step, (0, m.a([1., 2., 3.])), m.a(np.zeros((75, 0))))
        return xf
    loss = lambda p: m.np.sum(m.np.sin(1.0 - minimize(p)))  # noqa: E731
    return [minimize(m.a(0.5)), m.grad(loss)(m.a(0.25))]


def _neg_sin_ref():
    x, d = 0.5, 1.0
    for _ in range(10):
        x, d = -np.sin(x), d * -np.cos(x)
    return [d, x]


@case(ref=_neg_sin_ref)
def scan_jit_of_jacfwd_of_a_scan_taking_grads(m):
    def loop(val):
        return m.lax.scan(lambda x, i: (m.grad(m.np.cos)(x), i), val,
                          _i(m, np.arange(10)))[0]
    return [m.jit(m.jacfwd(loop))(m.a(0.5)), loop(m.a(0.5))]


@case(ref=lambda: [np.arange(10), (A(16.), A([1., 2., 4., 8.])), np.arange(3.) * 2])
def scan_without_xs_runs_length_steps(m):
    arange = lambda n: m.lax.scan(lambda c, _: (c + 1, c), 0, None, length=n)[1]  # noqa
    powers = m.jit(lambda x: m.lax.scan(lambda c, _: (c * x, c), m.a(1.), None, length=4))
    # length given as well as xs: it must agree
    both = m.lax.scan(lambda c, x: (c, x * 2), 0., m.a(np.arange(3.)), length=3)[1]
    return [arange(10), powers(m.a(2.)), both]


def _reverse_ref():
    xi, xf, w = A([3, 1, 4, 1, 5, 9]), _R(90, 6), _R(91, 6)
    rc = lambda x: np.cumsum(x[::-1])[::-1]  # noqa: E731
    g = np.cumsum(w)
    xs = {"a": _R(92, 6), "b": _R(93, 6, 2)}
    ys = (np.cumsum(xs["a"][::-1])[::-1], xs["b"] * 2)
    return [np.cumsum(xi), rc(xi), rc(xf), g, g, (A(np.sum(xs["a"])), ys),
            {"a": np.ones(6) * np.arange(1, 7), "b": np.full((6, 2), 2.)}]


@case(ref=_reverse_ref)
def scan_reverse_with_pytrees_and_grads(m):
    def cumsum(x, reverse):
        return m.lax.scan(lambda c, x: (c + x, c + x), 0, x, reverse=reverse)[1]
    xi, xf, w = _i(m, [3, 1, 4, 1, 5, 9]), m.a(_R(90, 6)), m.a(_R(91, 6))
    loss = lambda x: m.np.sum(cumsum(x, True) * w)  # noqa: E731
    xs = {"a": m.a(_R(92, 6)), "b": m.a(_R(93, 6, 2))}

    def tree_scan(xs):
        return m.lax.scan(lambda c, x: (m.np.add(c, x["a"]), (m.np.add(c, x["a"]), x["b"] * 2)),
                          m.a(0.), xs,
                          reverse=True)

    def tree_loss(xs):
        c, (s, b) = tree_scan(xs)
        return m.np.sum(s) + m.np.sum(b)
    return [cumsum(xi, False), cumsum(xi, True), m.jit(cumsum, static_argnums=1)(xf, True),
            m.grad(loss)(xf), m.grad(m.jit(loss))(xf), m.jit(tree_scan)(xs),
            m.grad(tree_loss)(xs)]


def _nested_ref():
    x = _R(100, 4, 3)
    s, p, rows, ss = 0., 1., [], []
    for row in x:
        for v in row:
            s, p = s + v, p * np.cos(v)
        rows.append(np.sum(row))
        ss.append(s)
    out = ({"p": A(p), "s": A(s)}, (A(rows), A(ss)))

    def loss(x):
        s, p, tot = 0., 1., 0.
        for row in x:
            for v in row:
                s, p = s + v, p * np.cos(v)
            tot += s
        return p + tot
    return [out, True, out, fd_grad(loss, x)]


@case(ref=_nested_ref, tol=1e-8)
def scan_nested_with_dict_carry_and_no_inner_outputs(m):
    box = []

    def inner(c, v):
        return {"s": m.np.add(c["s"], v), "p": m.np.multiply(c["p"], m.np.cos(v))}, None

    def outer(c, row):
        c2, none = m.lax.scan(inner, c, row)
        box.append(none is None)
        return c2, (m.np.sum(row), c2["s"])
    init = {"s": m.a(0.), "p": m.a(1.)}
    f = lambda x: m.lax.scan(outer, init, x)  # noqa: E731

    def loss(x):
        c, (_, ss) = f(x)
        return c["p"] + m.np.sum(ss)
    x = m.a(_R(100, 4, 3))
    out = f(x)
    return [out, all(box), m.jit(f)(x), m.grad(loss)(x)]


_INTS = ("int8", "int16", "int32", "int64", "uint8")


@case(ref=lambda: [(A(5), np.ones(5, int), True)] * (2 * len(_INTS)))
def scan_python_int_init_takes_the_xs_dtype(m):
    out = []
    for dt in _INTS:
        x = m.a(np.ones(5), dt)
        for run in (m.lax.scan, m.jit(m.lax.scan, static_argnums=0)):
            c, ys = run(lambda c, x: (c + x, x), 0, x)
            out.append((c, ys, c.dtype == x.dtype))
    return out


def _hoist_ref():
    a = np.arange(4.).reshape(2, 2)
    b = a + 1.
    p = np.linalg.matrix_power
    g = sum(np.sum(p(mat, 3) @ np.ones(2)) for mat in (a, b, np.sin(b)))
    return [g, g]


@case(ref=lambda: [(A(3.), A([0., 0., 2.]), True, True)] * 2 + [(A(3), True)] * 2)
def scan_and_fori_python_number_carry_beside_narrower_arrays(m):
    # a Python number in the carry is typed by the first step, its y too (JAX's weak types)
    x = m.a(np.arange(3.), "float32")
    out = []
    for run in (m.lax.scan, m.jit(m.lax.scan, static_argnums=0)):
        c, ys = run(lambda c, x: (c + x, c * 2), 0., x)
        out.append((c, ys, c.dtype == x.dtype, ys.dtype == x.dtype))
    # a traced int32 bound gives the index its dtype: an int32 carry stays int32
    n, c0 = m.a(3, "int32"), m.a(0, "int32")
    for f in (m.jit(lambda c, n: m.lax.fori_loop(0, n, lambda i, c: c + i, c)),
              lambda c, n: m.lax.fori_loop(0, n, lambda i, c: c + i, c)):
        r = f(c0, n)
        out.append((r, r.dtype == c0.dtype))
    return out


@case(ref=_hoist_ref)
def scan_grad_with_closed_over_matrices(m):
    a = m.a(np.arange(4.).reshape(2, 2))
    b = m.a(np.arange(4.).reshape(2, 2) + 1.)

    def f(x):
        def body(c, _):
            c1, c2, c3 = c
            return (m.np.matmul(a, c1), m.np.matmul(b, c2), m.np.matmul(m.np.sin(b), c3)), None
        ones = m.a(np.ones(2))
        (c1, c2, c3), _ = m.lax.scan(body, (x * ones, x * ones, x * ones), None, length=3)
        return m.np.sum(c1) + m.np.sum(c2) + m.np.sum(c3)
    return [m.grad(f)(m.a(1.)), m.grad(m.jit(f))(m.a(1.))]


@case(ref=lambda: [(A([1.]), A([[0., 1., 2., 3., 4.]])),
                   (A([1., 2.]), 3 * np.arange(10.).reshape(2, 5))])
def scan_vmap_psum_over_the_named_axis(m):
    def sf(state, x):
        return state, m.np.multiply(m.lax.psum(state, "i"), x)
    f = lambda s, xs: m.lax.scan(sf, s, xs)  # noqa: E731
    v = m.vmap(f, axis_name="i")
    return [v(m.a([1.]), m.a(np.arange(5.).reshape(1, 5))),
            v(m.a([1., 2.]), m.a(np.arange(10.).reshape(2, 5)))]


@case(ref=lambda: [(A(0.), np.zeros(0)), (np.ones(3), np.zeros((0, 3))), np.ones(3),
                   (A(1.), np.zeros(0))])
def scan_of_zero_steps(m):
    f = lambda c, xs: m.lax.scan(lambda c, x: (c + x, x * 2), c, xs)  # noqa: E731
    z3 = m.a(np.zeros((0, 3)))
    return [f(m.a(0.), m.a(np.zeros(0))), m.jit(f)(m.a(np.ones(3)), z3),
            m.grad(lambda c: m.np.sum(f(c, z3)[0]))(m.a(np.ones(3))),
            m.jit(lambda c: m.lax.scan(lambda c, _: (c * 2, c), c, None, length=0))(m.a(1.))]


def _cum_ref():
    x, w = _R(110, 7), _R(111, 7)
    lse = np.logaddexp.accumulate(x)
    vals = [np.cumsum(x), np.cumprod(x), np.maximum.accumulate(x), lse]
    lax_vals = vals + [np.cumsum(x[::-1])[::-1]]
    grads = [fd_grad(lambda x: np.sum(f(x) * w), x) for f in (
        np.cumsum, np.cumprod, np.maximum.accumulate, np.logaddexp.accumulate)]
    return [vals, lax_vals, grads, grads]


@case(ref=_cum_ref, tol=1e-7)
def cumulative_ops_through_scan_and_lax(m):
    x, w = m.a(_R(110, 7)), m.a(_R(111, 7))

    def via_scan(op, init):
        return lambda x: m.lax.scan(lambda c, v: (op(c, v), op(c, v)), m.a(init), x)[1]
    scans = [via_scan(m.np.add, 0.), via_scan(m.np.multiply, 1.),
             via_scan(m.np.maximum, -np.inf), via_scan(m.np.logaddexp, -np.inf)]
    laxes = [m.lax.cumsum, m.lax.cumprod, m.lax.cummax, m.lax.cumlogsumexp]
    return [[f(x) for f in scans], [f(x) for f in laxes] + [m.lax.cumsum(x, reverse=True)],
            [m.grad(lambda x, f=f: m.np.sum(f(x) * w))(x) for f in scans],
            [m.grad(lambda x, f=f: m.np.sum(f(x) * w))(x) for f in laxes]]



_Z = np.array([1 + 2j, -0.5 + 0.3j, 0.2 - 1j])


def _complex_loss_np(z):
    c, ys = np_scan(lambda c, a: (c * a + np.sin(c), c), z[0], z)
    w = c * c if np.real(c) > 0 else np.exp(c)  # (the cond's branches)
    return np.real(np.sum(ys * np.conj(z))) + np.abs(w) ** 2


def _complex_ref():
    # JAX's convention for a real function of complex z: d/dx - i d/dy
    gx = fd_grad(lambda x: _complex_loss_np(x + 1j * _Z.imag), _Z.real)
    gy = fd_grad(lambda y: _complex_loss_np(_Z.real + 1j * y), _Z.imag)
    return [_complex_loss_np(_Z), gx - 1j * gy, gx - 1j * gy]


@case(ref=_complex_ref, tol=1e-7)
def complex_values_through_scan_and_cond(m):
    def loss(z):
        c, ys = m.lax.scan(lambda c, a: (c * a + m.np.sin(c), c), z[0], z)
        w = m.lax.cond(m.np.real(c) > 0, lambda c: c * c, m.np.exp, c)
        return m.np.real(m.np.sum(ys * m.np.conj(z))) + m.np.abs(w) ** 2
    z = m.a(_Z, "complex128")
    return [loss(z), m.grad(loss)(z), m.grad(m.jit(loss))(z)]


# -- map ------------------------------------------------------------------------------------------


def _map_ref():
    xs, r = np.arange(10.), _R(120, 3, 5)
    return [xs ** 2] * 4 + [np.zeros(0), {"p": xs * (xs + 1), "s": 2 * xs + 1}, np.sin(xs),
                            np.cos(xs), r * r[:, :1], np.zeros((0, 2))]


@case(ref=_map_ref)
def map_plain_batched_empty_and_pytrees(m):
    xs = m.a(np.arange(10.))
    sq = lambda x: x ** 2  # noqa: E731
    both = lambda d: {"s": d["a"] + d["b"], "p": d["a"] * d["b"]}  # noqa: E731
    return [m.lax.map(sq, xs), m.lax.map(sq, xs, batch_size=3),
            m.lax.map(sq, xs, batch_size=10), m.lax.map(sq, xs, batch_size=20),
            m.lax.map(lambda x: x * x, m.a(np.zeros(0))),
            m.lax.map(both, {"a": xs, "b": xs + 1}, batch_size=4),
            m.jit(lambda xs: m.lax.map(m.np.sin, xs, batch_size=3))(xs),
            m.grad(lambda xs: m.np.sum(m.lax.map(m.np.sin, xs, batch_size=3)))(xs),
            m.vmap(lambda row: m.lax.map(lambda v: v * row[0], row, batch_size=2))(
                m.a(_R(120, 3, 5))),
            m.lax.map(lambda v: m.np.stack([v, v]), m.a(np.zeros(0)), batch_size=2)]


# -- associative_scan -----------------------------------------------------------------------------

_SHAPES = ([0], [1], [2], [5], [2, 3], [7, 5], [3, 4, 5])
Pair = collections.namedtuple("Pair", ("first", "second"))


def _assoc_ref():
    out = []
    for shape in _SHAPES:
        data = np.arange(np.prod(shape)).reshape(shape) + 7
        out.append([np.cumsum(data, axis=a) for a in range(-len(shape), len(shape))])
    data = np.arange(100) + 32
    mats = _R(130, 6, 2, 2)
    prods, acc = [], np.eye(2)
    for mat in mats:
        acc = acc @ mat
        prods.append(acc)
    return [out, np.cumsum(data[::-1])[::-1], Pair(A([0., 1., 3.]), A([0., 10., 30.])),
            A([False, True, False, True, True, False]), np.stack(prods)]


@case(ref=_assoc_ref)
def associative_scan_values(m):
    out = []
    for shape in _SHAPES:
        data = _i(m, np.arange(np.prod(shape)).reshape(shape) + 7)
        out.append([m.lax.associative_scan(operator.add, data, axis=a)
                    for a in range(-len(shape), len(shape))])
    pair = Pair(first=m.a([0., 1., 2.]), second=m.a([0., 10., 20.]))
    # a combination that is associative but not commutative, through vmap (batch-aware)
    matmul = m.vmap(m.np.matmul)
    return [out, m.lax.associative_scan(operator.add, _i(m, np.arange(100) + 32), reverse=True),
            m.lax.associative_scan(lambda a, b: Pair(a.first + b.first, a.second + b.second),
                                   pair),
            m.lax.associative_scan(m.lax.bitwise_xor,
                                   m.a([False, True, True, True, False, True], "bool")),
            m.lax.associative_scan(matmul, m.a(_R(130, 6, 2, 2)))]


def _assoc_derivs_ref():
    x, w, t = _R(140, 6, 2) * 0.5 + 1, _R(141, 6, 2), _R(142, 6, 2)
    cp = lambda x: np.cumprod(x, axis=0)  # noqa: E731
    rcp = lambda x: np.cumprod(x[:, ::-1], axis=1)[:, ::-1]  # noqa: E731
    g = fd_grad(lambda x: np.sum(cp(x) * w), x)
    return [cp(x), fd_jvp(cp, (x,), (t,)), g, g, cp(x), rcp(x),
            fd_grad(lambda x: np.sum(rcp(x) * w), x), fd_hess(lambda x: np.sum(cp(x) * w), x)]


@case(ref=_assoc_derivs_ref, tol=1e-6)
def associative_scan_derivatives_axis_and_reverse(m):
    x, w, t = m.a(_R(140, 6, 2) * 0.5 + 1), m.a(_R(141, 6, 2)), m.a(_R(142, 6, 2))
    cp = lambda x: m.lax.associative_scan(operator.mul, x, axis=0)  # noqa: E731
    rcp = lambda x: m.lax.associative_scan(m.np.multiply, x, reverse=True, axis=1)  # noqa
    loss = lambda x: m.np.sum(cp(x) * w)  # noqa: E731
    return [cp(x), m.jvp(cp, (x,), (t,))[1], m.grad(loss)(x), m.grad(m.jit(loss))(x),
            m.vmap(cp, 1, 1)(x), m.jit(rcp)(x), m.grad(lambda x: m.np.sum(rcp(x) * w))(x),
            m.hessian(loss)(x)]



# -- the same functions staged under checkpoint (JAX's new_checkpoint variants) -------------------


def _ckpt_ref():
    d, c, xs = _scan_data()
    f = _scan_f(np, d, sum_sin=True)
    loss = lambda c, xs: np.sum(np_scan(f, c, xs)[0])  # noqa: E731
    g = (fd_grad(loss, c, xs, argnum=0), fd_grad(loss, c, xs, argnum=1))
    x = 2.72
    return [g, g, (np.sin(x) * 2, np.cos(x) * 2), A(-2 * np.sin(3.)),
            (A(4.), A(4.)), A(4.)]


@case(ref=_ckpt_ref, tol=1e-7)
def control_flow_under_checkpoint(m):
    d, c, xs = _scan_data(m)
    f = _scan_f(m.np, d, sum_sin=True)
    policies = m.checkpoint_policies
    outs = []
    for policy in (policies.nothing_saveable, policies.everything_saveable):
        s = m.checkpoint(functools.partial(m.lax.scan, f), policy=policy)
        outs.append(m.grad(lambda c, xs: m.np.sum(s(c, xs)[0]), (0, 1))(c, xs))

    def cond_ck(x):
        idx = m.lax.convert_element_type(x < 3, m.np.int32)
        branches = [lambda x: 2 * m.np.cos(x), lambda x: 2 * m.np.sin(x)]
        return m.checkpoint(lambda i, x: m.lax.switch(i, branches, x))(idx, x)
    x = m.a(2.72)
    outs += [m.jvp(cond_ck, (x,), (m.a(1.),)), m.grad(cond_ck)(m.a(3.))]
    wl = m.checkpoint(lambda x: m.lax.while_loop(lambda v: v < 3., lambda v: v * 2., x))
    outs += [m.jvp(wl, (m.a(1.),), (m.a(1.),)), m.jit(wl)(m.a(1.))]
    return outs


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


# -- errors ---------------------------------------------------------------------------------------
# Each error is checked on functrans (in CI) and, where JAX is installed, JAX is checked to
# refuse the same code, so that these stay errors a JAX user would recognise.


def _raises_both(call, ft_match, exc=TypeError, jax_exc=None, backend=None):
    """``call(m)`` raises ``exc`` (message matching ``ft_match``) on functrans, and raises
    ``jax_exc`` (default ``exc``) on JAX where JAX is installed."""
    from types import SimpleNamespace
    be = backend or SimpleNamespace(asarray=lambda d, dtype="float64": np.array(d, dtype=dtype))
    with pytest.raises(exc, match=ft_match):
        call(_ft(be))
    try:
        jx = _jx()
    except pytest.skip.Exception:
        return
    with pytest.raises(jax_exc or exc):
        call(jx)


def test_functions_that_are_not_callable_are_refused():
    n = 42
    _raises_both(lambda m: m.lax.fori_loop(0, 1, n, 0), "body_fun must be a function")
    _raises_both(lambda m: m.lax.while_loop(n, n, 0), "must be functions")
    _raises_both(lambda m: m.lax.switch(0, [n]), "every branch must be a function")
    _raises_both(lambda m: m.lax.cond(True, n, n), "must be functions")
    _raises_both(lambda m: m.lax.scan(n, 0, m.a([1.])), "f must be a function")
    _raises_both(lambda m: m.lax.associative_scan(n, m.a([1.])), "fn must be a function")
    _raises_both(lambda m: m.lax.map(n, m.a([1.])), "f must be a function")


@pytest.mark.parametrize("pred, what", [(None, "NoneType"), ("foo", "str"), ((1., 1.), "tuple"),
                                        (lambda x: True, "function")])
def test_cond_predicate_must_be_a_scalar(pred, what):
    _raises_both(lambda m: m.lax.cond(pred, lambda x: x, lambda x: -x, 1.),
                 f"predicate must be a scalar array or a Python number; got {what}")


def test_cond_predicate_with_several_elements_is_refused(backend):
    p = backend.asarray([True, False], "bool")
    for run in (lambda f: f, ft.jit):
        with pytest.raises(TypeError, match=r"must be a scalar \(shape \(\)\); got shape \(2,\)"):
            run(lambda p: flax.cond(p, lambda x: x, lambda x: -x, 1.))(p)
    _raises_both(lambda m: m.lax.cond(m.a([True, False], "bool"), lambda x: x, lambda x: -x, 1.),
                 "must be a scalar")


def test_staged_cond_branches_must_agree(backend):
    p = backend.asarray(True, "bool")
    x = backend.asarray(1.)
    with pytest.raises(TypeError, match="the branches must return the same tree structure"):
        ft.jit(lambda p: flax.cond(p, lambda x: x, lambda x: (x, x), x))(p)
    with pytest.raises(TypeError, match="same shapes and dtypes; output leaf 0 is f64\\[\\] in "
                                        "false_fun and f64\\[1\\] in true_fun"):
        ft.jit(lambda p: flax.cond(p, lambda x: fnp.reshape(x, (1,)), lambda x: x, x))(p)
    with pytest.raises(TypeError, match="same shapes and dtypes.*f32"):
        ft.jit(lambda p: flax.cond(p, lambda x: x, lambda x: fnp.astype(x, fnp.float32), x))(p)
    with pytest.raises(TypeError, match="the same tree structure"):  # a batched predicate too
        ft.vmap(lambda p: flax.cond(p, lambda: 2., lambda: (3., 3.)))(
            backend.asarray([True, False], "bool"))
    with pytest.raises(TypeError, match="branch 0 returns PyTreeSpec\\(\\*\\), branch 1"):
        ft.jit(lambda i: flax.switch(i, [lambda: 2., lambda: (3., 3.)]))(
            backend.asarray(1, "int64"))
    _raises_both(lambda m: m.jit(lambda p: m.lax.cond(p, lambda: 2., lambda: (3., 3.)))(
        m.a(True, "bool")), "the same tree structure")
    _raises_both(lambda m: m.jit(lambda p: m.lax.cond(
        p, lambda: m.a([1.]), lambda: m.a(1.)))(m.a(True, "bool")), "same shapes and dtypes")


def test_cond_operand_keyword(backend):
    # JAX's older spelling: cond(pred, true_fun, false_fun, operand=x), eager and staged.
    x = backend.asarray(2.)
    for p in (True, backend.asarray(False, "bool")):
        for run in (lambda f: f, ft.jit):
            got = run(lambda p, x: flax.cond(p, lambda x: 3. * x, lambda x: -x, operand=x))(p, x)
            assert float(backend.to_numpy(got)) == (6. if p is True else -2.)
    assert float(ft.grad(lambda x: flax.cond(x > 0, fnp.sin, fnp.cos, operand=x))(
        backend.asarray(0.5))) == pytest.approx(np.cos(0.5), rel=1e-15)
    _raises_both(lambda m: m.lax.cond(True, lambda x: x, lambda x: x, 1., operand=1.),
                 "either positionally or as operand=, not both")


@pytest.mark.parametrize("index, match", [
    (lambda x: 1, "index must be a scalar array or a Python number; got function"),
    ("foo", "index must be a scalar array or a Python number; got str"),
    ((1., 1.), "index must be a scalar array or a Python number; got tuple"),
    (1.0, "index must be an integer; got a float"),
])
def test_switch_index_errors(index, match):
    _raises_both(lambda m: m.lax.switch(index, [lambda _: 2., lambda _: 3.], 1.), match)


def test_switch_without_branches_and_float_array_index(backend):
    _raises_both(lambda m: m.lax.switch(0, [], 1.), "at least one branch", exc=ValueError)
    with pytest.raises(TypeError, match="index must be an integer; got float64"):
        flax.switch(backend.asarray(1.), [lambda: 1., lambda: 2.])


def test_while_loop_type_errors(backend):
    x = backend.asarray(0.)
    _raises_both(lambda m: m.lax.while_loop(lambda c: (1., 1.), lambda c: c, 0.),
                 "cond_fun result must be a scalar array or a Python number; got tuple")
    for run in (lambda f: f, ft.jit):
        with pytest.raises(TypeError, match=r"cond_fun result must be a scalar \(shape \(\)\)"):
            run(lambda x: flax.while_loop(lambda c: c < 1, lambda c: c + 1, x))(
                backend.asarray([0., 1.]))
        with pytest.raises(TypeError, match="body_fun must return a value of the carry's "
                                            "structure, PyTreeSpec\\(\\*\\); got "
                                            "PyTreeSpec\\(\\(\\*, \\*\\)\\)"):
            run(lambda x: flax.while_loop(lambda c: c < 1, lambda c: (c, c), x))(x)
        with pytest.raises(TypeError, match="keep the carry's shapes and dtypes: leaf \\(the "
                                            "whole carry\\) is f64\\[2\\] in the carry, "
                                            "f64\\[4\\] as returned"):
            run(lambda x: flax.while_loop(lambda c: c[0] < 3, lambda c: fnp.concat([c, c]),
                                          x))(backend.asarray([0., 1.]))
        with pytest.raises(TypeError, match="f64\\[\\] in the carry, f32\\[\\] as returned"):
            run(lambda x: flax.while_loop(lambda c: c < 3,
                                          lambda c: fnp.astype(c + 1, fnp.float32), x))(x)
    _raises_both(lambda m: m.lax.while_loop(lambda c: True, lambda c: (1., 1.), 0.),
                 "carry's structure")
    _raises_both(lambda m: m.jit(lambda x: m.lax.while_loop(
        lambda c: c[0] < 3, lambda c: m.np.concatenate([c, c]), x))(m.a([0., 1.])),
        "shapes and dtypes")


def test_scan_type_errors(backend):
    a = backend.asarray(np.arange(5.))
    for run in (lambda f: f, ft.jit):
        with pytest.raises(TypeError, match="f must return a pair \\(carry, y\\); got an "
                                            "array of shape \\(\\)"):
            run(lambda a: flax.scan(lambda c, x: x, 0., a))(a)
        with pytest.raises(TypeError, match="structure, PyTreeSpec\\(\\(\\*, \\(\\*, \\*\\)\\)"
                                            "\\); got PyTreeSpec\\(\\(\\*, \\*, \\*\\)\\)"):
            run(lambda a: flax.scan(lambda c, x: ((x, x, x), x), (1., (2., 3.)), a))(a)
        with pytest.raises(TypeError, match="PyTreeSpec\\(None\\); got PyTreeSpec\\(\\*\\)"):
            run(lambda a: flax.scan(lambda c, x: (x, x), None, a))(a)
        with pytest.raises(TypeError, match="f64\\[\\] in the carry, f64\\[2\\] as returned"):
            run(lambda a: flax.scan(lambda c, x: (fnp.stack([c, x]), x), a[0], a))(a)
        with pytest.raises(TypeError, match="f64\\[\\] in the carry, i64\\[\\] as returned"):
            run(lambda a: flax.scan(lambda c, x: (fnp.astype(x, fnp.int64), x), a[0], a))(a)
    for call, match in [
            (lambda m: m.lax.scan(lambda c, x: (c, x), 0, list(range(5))),
             "every leaf of xs must be an array with a leading axis"),
            (lambda m: m.lax.scan(lambda c, x: (c, x), 0., m.a(np.zeros((5, 1)))[0, 0]),
             "leaf 0 is a 0-d array"),
            (lambda m: m.lax.scan(lambda c, x: (c, x), 0., 3),
             "every leaf of xs must be an array")]:
        _raises_both(call, match, jax_exc=(TypeError, ValueError, IndexError))
    _raises_both(lambda m: m.lax.scan(lambda c, x: (c, x), 0., (m.a(np.zeros(3)),
                                                                m.a(np.zeros(4)))),
                 "must all have the leading length 3; leaf 1 has shape \\(4,\\)", ValueError)
    _raises_both(lambda m: m.lax.scan(lambda c, x: (c, x), 0., m.a(np.zeros(3)), length=4),
                 "leading length 4 \\(length\\); leaf 0 has shape \\(3,\\)", ValueError)
    _raises_both(lambda m: m.lax.scan(lambda c, x: (c, x), 0.), "give the number of steps",
                 ValueError)
    with pytest.raises(ValueError, match="must not be negative"):  # (JAX runs no step)
        flax.scan(lambda c, x: (c, x), 0., None, length=-1)
    _raises_both(lambda m: m.lax.scan(lambda c, x: (c, x), 0., m.a([1.]), unroll=-1),
                 "unroll must be a bool or an int >= 0", ValueError)


def test_staged_fori_loop_index_widening_an_integer_carry_is_explained(backend):
    # eagerly the index is a Python int; staged with Python int bounds it is an int64 array
    # (functrans has no weak types), which widens an int32 carry: the error says to cast it
    c = backend.asarray(0, "int32")
    np.testing.assert_array_equal(
        backend.to_numpy(flax.fori_loop(0, 3, lambda i, c: c + i, c)), 3)
    with pytest.raises(TypeError, match="the loop index is an array of int64.*cast it"):
        ft.jit(lambda c: flax.fori_loop(0, 3, lambda i, c: c + i, c))(c)
    out = ft.jit(lambda c: flax.fori_loop(0, 3, lambda i, c: c + fnp.astype(i, c.dtype), c))(c)
    np.testing.assert_array_equal(backend.to_numpy(out), 3)


def test_fori_loop_and_map_argument_errors():
    with pytest.raises(ValueError, match="unroll must be None, a bool or an int >= 0"):
        flax.fori_loop(0, 2, lambda i, c: c, 0., unroll=-1)  # (JAX lets this one pass)
    with pytest.raises(ValueError, match="batch_size must be an int >= 0"):
        flax.map(lambda x: x, np.array([1., 2.]), batch_size=-1)
    with pytest.raises(TypeError, match="batch_size must be an int >= 0 or None"):
        flax.map(lambda x: x, np.array([1., 2.]), batch_size=1.5)
    with pytest.raises(TypeError, match="upper must be a scalar"):
        flax.fori_loop(0, np.array([1, 2]), lambda i, c: c, 0.)


# -- where functrans deliberately differs from JAX -------------------------------------------------


def test_reverse_mode_through_while_loop_works_where_jax_refuses(backend):
    def halve(x):
        return flax.while_loop(lambda x: x > 1.0, lambda x: 0.5 * x, x)
    x = backend.asarray(10.0)  # 10 -> 5 -> 2.5 -> 1.25 -> 0.625: x / 16
    for g in (ft.grad(halve), ft.grad(ft.jit(halve)), ft.jit(ft.grad(halve))):
        np.testing.assert_allclose(backend.to_numpy(g(x)), 1 / 16)
    # a traced fori_loop bound makes it a while_loop: reverse mode under jit too
    f = ft.jit(lambda x, n: flax.fori_loop(0, n, lambda i, c: c * x, fnp.ones_like(x)))
    n = backend.asarray(3, "int64")
    np.testing.assert_allclose(backend.to_numpy(ft.grad(f)(backend.asarray(1.3), n)),
                               3 * 1.3 ** 2)
    # the vjp by the dot-product identity against central differences of the loop
    _, pull = ft.vjp(halve, x)
    np.testing.assert_allclose(backend.to_numpy(pull(backend.asarray(2.0))[0]),
                               2.0 * (10.000001 / 16 - 9.999999 / 16) / 2e-6, rtol=1e-8)
    try:
        jx = _jx()
    except pytest.skip.Exception:
        return
    traced_n = jx.jit(lambda x, n: jx.lax.fori_loop(0, n, lambda i, c: c * x, 1.0))
    for fn in (lambda x: jx.lax.while_loop(lambda x: x > 1.0, lambda x: 0.5 * x, x),
               lambda x: traced_n(x, 3)):
        with pytest.raises(ValueError, match="Reverse-mode differentiation does not work for "
                                             "lax.while_loop"):
            jx.grad(fn)(10.0)


def test_concrete_predicate_runs_only_the_chosen_branch():
    # Python's if: the other branch is not run, so its disagreeing output is not seen (JAX
    # traces both branches and refuses); staged, both are checked (above)
    assert flax.cond(True, lambda: 2., lambda: (3., 3.)) == 2.
    assert flax.switch(1, [lambda: 2., lambda: (3., 3.)]) == (3., 3.)
    ran = []
    flax.cond(False, lambda: ran.append("true_fun"), lambda: ran.append("false_fun"))
    assert ran == ["false_fun"]
    try:
        jx = _jx()
    except pytest.skip.Exception:
        return
    with pytest.raises(TypeError):
        jx.lax.cond(True, lambda: 2., lambda: (3., 3.))


def test_python_number_branch_output_takes_the_other_branch_dtype(backend):
    # staged, a Python number returned by one branch takes the dtype the other branch gives
    # that output (JAX refuses an int in one branch beside a float array in the other)
    f = ft.jit(lambda x: flax.cond(x < 3, lambda x: 5, lambda x: x, x))
    for v, want in ((0., 5.), (4., 4.)):
        out = f(backend.asarray(v))
        assert backend.to_numpy(out).dtype == np.float64
        np.testing.assert_array_equal(backend.to_numpy(out), want)
    try:
        jx = _jx()
    except pytest.skip.Exception:
        return
    with pytest.raises(TypeError, match="output types"):
        jx.jit(lambda x: jx.lax.cond(x < 3, lambda x: 5, lambda x: x, x))(
            jx.np.asarray(0.))


def test_while_loop_cond_fun_may_return_a_number(backend):
    # nonzero is true, as for cond's predicate (JAX wants a boolean from cond_fun)
    x = backend.asarray(3.)
    for run in (lambda f: f, ft.jit):
        out = run(lambda x: flax.while_loop(lambda c: c, lambda c: c - 1., x))(x)
        np.testing.assert_array_equal(backend.to_numpy(out), 0.)
    try:
        jx = _jx()
    except pytest.skip.Exception:
        return
    with pytest.raises(TypeError, match="cond_fun must return a boolean scalar"):
        jx.lax.while_loop(lambda c: c, lambda c: c - 1., 3.)


def test_fori_loop_bounds_must_be_integers():
    # JAX runs a float-bounded fori_loop (its index a float); functrans asks for integers
    with pytest.raises(TypeError, match="fori_loop's lower must be an integer; got f64"):
        ft.grad(lambda x: flax.fori_loop(x, x + 2., lambda i, c: c, x))(1.)
    with pytest.raises(TypeError, match="fori_loop's upper must be an integer; got 2.5"):
        flax.fori_loop(0, 2.5, lambda i, c: c, 1.)
    try:
        jx = _jx()
    except pytest.skip.Exception:
        return
    assert float(jx.grad(lambda x: jx.lax.fori_loop(x, x + 2., lambda i, c: c, x))(1.)) == 1.


# -- control flow on tangents recorded for a backward pass --------------------------------------
# A custom_jvp rule computing its tangents with cond/scan/while (or calling jvp of a function
# containing them) runs that control flow on the tangents being recorded; under vmap (the
# predicate one value per member) or jit it is bound as one primitive, which must be recorded
# as a linear map (cond_lin, scan_lin, eager_lin), never as a non-linear cond/scan/while.

_ON_TANGENTS = {
    "cond": lambda y: flax.cond(fnp.sum(y) > 0.1, lambda a: fnp.sin(a) * a,
                                lambda a: fnp.exp(a) * 3.0, y),
    "switch": lambda y: flax.switch(fnp.astype(fnp.sum(y) > 0.1, fnp.int32),
                                    [lambda a: fnp.sin(a) * a, lambda a: fnp.exp(a) * 3.0], y),
    "scan": lambda y: flax.scan(lambda c, a: (c * fnp.sin(a) + a, c), y[0], y)[1] * y,
    "fori": lambda y: flax.fori_loop(0, 3, lambda i, c: fnp.sin(c) * y, y),
    "while": lambda y: flax.while_loop(lambda c: c[1] < fnp.sum(fnp.abs(y)) * 2,
                                       lambda c: (fnp.sin(c[0]) * y, c[1] + 1.0), (y, 0.0))[0],
}


def _central(f, X, eps=1e-6):
    out = np.zeros_like(X)
    for b in range(X.shape[0]):
        for i in range(X.shape[1]):
            e = np.zeros_like(X[b])
            e[i] = eps
            out[b, i] = (f(X[b] + e) - f(X[b] - e)) / (2 * eps)
    return out


@pytest.mark.parametrize("kind", sorted(_ON_TANGENTS))
def test_custom_jvp_rule_with_control_flow_under_vmap_grad_vmap(kind):
    inner = _ON_TANGENTS[kind]
    h = ft.custom_jvp(inner)
    h.defjvp(lambda p, t: ft.jvp(inner, p, t))

    def loss(f):  # the members' predicates differ, so the inner vmap stages the control flow
        return lambda x: fnp.sum(fnp.sin(ft.vmap(f)(fnp.stack([x, x[::-1] * 0.5]))))
    x = np.array([-0.47, -0.17, -0.93])
    X = np.stack([x, -0.7 * x])
    want = _central(lambda v: float(loss(inner)(v)), X)
    for got in (ft.vmap(ft.grad(loss(h)))(X), ft.jit(ft.vmap(ft.grad(loss(h))))(X),
                ft.vmap(ft.jacrev(loss(h)))(X)):
        np.testing.assert_allclose(np.asarray(got), want, rtol=1e-7, atol=1e-9)
    # second order through the rule (forward over reverse)
    np.testing.assert_allclose(np.asarray(ft.hessian(loss(h))(x)),
                               np.asarray(ft.hessian(loss(inner))(x)), rtol=1e-10)


def test_custom_jvp_rule_applying_cond_to_its_tangents():
    h = ft.custom_jvp(lambda y: y * 2.0)  # the rule's slope is 2 or 3: only the rule counts
    h.defjvp(lambda p, t: (p[0] * 2.0, flax.cond(fnp.sum(p[0]) > 0.1, lambda a: a * 2.0,
                                                 lambda a: a * 3.0, t[0])))
    x = np.array([-0.47, -0.17, -0.93])
    X = np.stack([x, -x])

    def loss(x):
        return fnp.sum(ft.vmap(h)(fnp.stack([x, x[::-1] * 0.5])))
    np.testing.assert_allclose(np.asarray(ft.jit(ft.grad(lambda x: fnp.sum(h(x))))(x)), 3.0)
    want = np.array([[4.5] * 3, [3.0] * 3])  # 3 + 3 * 0.5 and 2 + 2 * 0.5
    for got in (ft.vmap(ft.grad(loss))(X), ft.jit(ft.vmap(ft.grad(loss)))(X),
                ft.vmap(ft.jacfwd(loss))(X)):
        np.testing.assert_allclose(np.asarray(got), want)


@pytest.mark.parametrize("tangent_map, match", [
    (lambda p, t: flax.cond(fnp.sum(p) > 0.1, fnp.sin, lambda a: a * 3.0, t),
     r"cond applied to tangents: its branch 1's equation 1 \(sin\)"),
    (lambda p, t: flax.scan(lambda c, a: (c * c, c), t, None, length=2)[0],
     r"scan applied to tangents: its body's equation 1 \(mul\) multiplies two values"),
    (lambda p, t: flax.while_loop(lambda c: fnp.sum(c) < 5.0, lambda c: c * 2.0, t),
     "while applied to tangents: its predicate depends on the inputs"),
], ids=["cond", "scan", "while"])
def test_non_linear_control_flow_on_tangents_is_refused_in_reverse_mode(tangent_map, match):
    h = ft.custom_jvp(lambda y: y * 2.0)
    h.defjvp(lambda p, t: (p[0] * 2.0, tangent_map(p[0], t[0])))
    with pytest.raises(ft.errors.MissingRuleError, match=match):
        ft.jit(ft.grad(lambda x: fnp.sum(h(x))))(np.array([-0.47, -0.17, -0.93]))
