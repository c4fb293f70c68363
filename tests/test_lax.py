"""functrans.lax: JAX's structured control flow (cond, switch, while_loop, fori_loop, scan,
map) with JAX's signatures and semantics, on every backend, under every transform.

Every value is compared with a plain-Python reference (a NumPy loop or ``if``); derivatives
with :func:`check_grads` (JVP vs finite differences, VJP by the dot-product identity, order 2)
and with closed forms. Staged (jit / make_graph), each construct is one ``cond`` / ``while`` /
``scan`` equation whose size does not grow with the number of steps; under vmap a batched
predicate selects per member, and no nan of a branch a member does not take leaks into its
values or gradients.
"""

from __future__ import annotations

import numpy as np
import optree
import pytest

import functrans as ft
import functrans.lax as lax
import functrans.numpy as fnp
from functrans.testing import check_grads

X = [0.5, -1.0, 2.0]


# -- helpers -------------------------------------------------------------------------------------


def _np(backend, v):
    """A NumPy array of ``v`` (an array of the backend, a NumPy array or a Python number)."""
    if isinstance(v, (bool, int, float, np.ndarray, np.generic)):
        return np.asarray(v)
    return backend.to_numpy(v)


def _close(got, want, backend, tol=1e-12, own=True):
    """Same pytree structure, same values; every leaf of ``got`` an array of the backend.
    ``want`` may be a (nested) list of numbers, standing for one array."""
    if isinstance(want, list) and all(isinstance(v, (int, float, list)) for v in want):
        want = np.asarray(want, dtype=float)
    assert optree.tree_structure(got) == optree.tree_structure(want), (got, want)
    for u, v in zip(optree.tree_leaves(got), optree.tree_leaves(want), strict=True):
        if own:
            assert backend.is_own(u), type(u)
        a, b = _np(backend, u), _np(backend, v)
        assert a.shape == b.shape, (a.shape, b.shape)
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


def _finite(backend, tree):
    for leaf in optree.tree_leaves(tree):
        assert np.all(np.isfinite(_np(backend, leaf))), leaf


def _prims(graph):
    return [eqn[0].name for eqn in graph.eqns]


def counted(fun):
    def wrapped(*args):
        wrapped.calls += 1
        return fun(*args)
    wrapped.calls = 0
    return wrapped


# The seeds' examples: the logistic map x <- r x (1 - x), the soft ReLU log(1 + e^x), and
# f(x1, x2) = x1 x2 + exp(x1 x2) - sin(x2).

def logistic_ref(r, x0, n):
    """(x_n, [x_1 .. x_n], dx_n/dr, dx_n/dx0) by a NumPy loop."""
    x, dr, dx0, traj = np.asarray(x0, float), 0.0, 1.0, []
    for _ in range(n):
        dr = x * (1 - x) + r * (1 - 2 * x) * dr
        dx0 = r * (1 - 2 * x) * dx0
        x = r * x * (1 - x)
        traj.append(x)
    return x, np.stack(traj), dr, dx0


def logistic_scan(r, x0, n):
    def step(x, _):
        x = fnp.multiply(fnp.multiply(r, x), 1.0 - x)
        return x, x
    return lax.scan(step, x0, None, length=n)


def logistic_fori(r, x0, n):
    return lax.fori_loop(0, n, lambda i, x: fnp.multiply(fnp.multiply(r, x), 1.0 - x), x0)


def soft_relu(x):
    """log(1 + e^x), the stable way round on each side of 0 (a scalar x)."""
    return lax.cond(x > 0, lambda x: x + fnp.log1p(fnp.exp(-x)),
                    lambda x: fnp.log1p(fnp.exp(x)), x)


def seed_f(x1, x2):
    # fnp's functions rather than operators wherever a concrete array may meet a tracer
    # (array-api-strict's operators refuse other types rather than deferring to them)
    u = fnp.multiply(x1, x2)
    return u + fnp.exp(u) - fnp.sin(x2)


def seed_f_np(x1, x2):
    return x1 * x2 + np.exp(x1 * x2) - np.sin(x2)


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


# -- 1. values -----------------------------------------------------------------------------------


def test_cond_takes_the_branch_of_the_predicate(backend):
    x = backend.asarray(X)
    xn = np.asarray(X)
    preds = [(True, True), (False, False), (1, True), (0, False),
             (backend.asarray(True, "bool"), True), (backend.asarray(False, "bool"), False),
             (backend.asarray(3, "int64"), True), (backend.asarray(0, "int64"), False),
             (fnp.sum(x) > 0, True), (fnp.sum(x) < 0, False)]
    for pred, taken in preds:
        t, f = counted(lambda x: fnp.sin(x) * 2.0), counted(lambda x: x - 1.0)
        out = lax.cond(pred, t, f, x)
        _close(out, np.sin(xn) * 2.0 if taken else xn - 1.0, backend)
        # eager, with a concrete predicate: only the chosen branch runs
        assert (t.calls, f.calls) == ((1, 0) if taken else (0, 1)), pred


def test_cond_float_predicates(backend):
    """The spec: a number as predicate, nonzero is true (JAX itself takes bools and ints)."""
    x = backend.asarray(X)
    for pred, taken in [(2.5, True), (0.0, False), (backend.asarray(-0.5), True),
                        (backend.asarray(0.0), False)]:
        _close(lax.cond(pred, lambda x: x * 2.0, lambda x: x - 1.0, x),
               np.asarray(X) * 2.0 if taken else np.asarray(X) - 1.0, backend)


def test_cond_operands_pytrees_and_closures(backend):
    x, y, w = backend.asarray(X), backend.asarray(1.5), backend.asarray([2.0, 3.0, 4.0])
    xn, wn = np.asarray(X), np.asarray([2.0, 3.0, 4.0])
    # several operands
    for pred in (True, False):
        out = lax.cond(pred, lambda a, b: a * b, lambda a, b: a - b, x, y)
        _close(out, xn * 1.5 if pred else xn - 1.5, backend)
    # no operand at all: the branches close over what they use
    _close(lax.cond(False, lambda: x * w, lambda: x + w), xn + wn, backend)
    # pytrees in and out, an integer leaf among them
    ops = {"a": x, "b": (y, backend.asarray(4, "int64"))}

    def tf(o):
        return {"s": fnp.sum(o["a"] * w) + o["b"][0], "n": o["b"][1] + 1}, [o["a"]]

    def ff(o):
        return {"s": o["b"][0] * 2.0, "n": o["b"][1] * 3}, [o["a"] * w]
    out = lax.cond(fnp.max(x) > 1.0, tf, ff, ops)
    _close(out, ({"n": np.asarray(5), "s": np.sum(xn * wn) + 1.5}, [xn]), backend)
    assert _np(backend, out[0]["n"]).dtype == np.int64
    out = lax.cond(fnp.max(x) > 5.0, tf, ff, ops)
    _close(out, ({"n": np.asarray(12), "s": np.asarray(3.0)}, [xn * wn]), backend)


def test_switch_picks_clamps_and_takes_several_operands(backend):
    x1, x2, w = backend.asarray(0.7), backend.asarray([0.3, -1.2]), backend.asarray(2.0)
    a, b = 0.7, np.asarray([0.3, -1.2])
    branches = [seed_f, lambda x1, x2: x1 * fnp.sin(x2) * w, lambda x1, x2: x2 - x1]
    want = [seed_f_np(a, b), a * np.sin(b) * 2.0, b - a]
    for index, k in [(0, 0), (1, 1), (2, 2), (-1, 0), (-7, 0), (3, 2), (100, 2)]:
        for idx in (index, backend.asarray(index, "int64")):
            calls = [counted(f) for f in branches]
            _close(lax.switch(idx, calls, x1, x2), want[k], backend)
            assert [c.calls for c in calls] == [int(i == k) for i in range(3)]
    # a tuple of branches, a single branch, pytree operands
    _close(lax.switch(1, tuple(branches), x1, x2), want[1], backend)
    _close(lax.switch(5, [lambda p: p["u"] * 2.0], {"u": x2}), b * 2.0, backend)


def test_while_loop_integer_counter_and_pytree_carry(backend):
    w = backend.asarray([0.9, 1.1])
    init = {"i": backend.asarray(0, "int64"), "x": backend.asarray([0.5, -0.3])}

    def body(c):
        return {"i": c["i"] + 1, "x": fnp.sin(c["x"] * w) + 0.5}
    out = lax.while_loop(lambda c: c["i"] < 6, body, init)
    x = np.asarray([0.5, -0.3])
    for _ in range(6):
        x = np.sin(x * np.asarray([0.9, 1.1])) + 0.5
    _close(out, {"i": np.asarray(6), "x": x}, backend)
    assert _np(backend, out["i"]).dtype == np.int64
    # a predicate on the values: the trip count depends on the data
    c = lax.while_loop(lambda c: fnp.max(c[1]) < 10.0,
                       lambda c: (c[0] + 1, c[1] * 1.5),
                       (backend.asarray(0, "int64"), backend.asarray([0.7, 0.2])))
    _close(c, (np.asarray(7), np.asarray([0.7, 0.2]) * 1.5 ** 7), backend)
    # false at once: the initial value comes back, the body never runs
    body = counted(lambda c: c * 2.0)
    _close(lax.while_loop(lambda c: fnp.sum(c) > 100.0, body, backend.asarray(X)), X, backend)
    assert body.calls == 0


def test_while_loop_python_numbers_become_arrays():
    seen = []

    def body(c):
        seen.append(c)
        return c[0] + 1, c[1] * 2.0, ~c[2]
    out = lax.while_loop(lambda c: c[0] < 5, body, (0, 1.0, True))
    # Python numbers are weakly typed, as in JAX: the body sees them as numbers (their dtype
    # comes from what it returns), but a bool is a bool array at once (~True would be -2)
    assert type(seen[0][0]) is int and type(seen[0][1]) is float
    assert getattr(seen[0][2], "shape", None) == () and np.asarray(seen[0][2]).dtype == np.bool_
    assert isinstance(out, tuple) and len(out) == 3
    for leaf, value, dtype in zip(out, (5, 32.0, False), (np.int64, np.float64, np.bool_)):
        assert getattr(leaf, "shape", None) == (), type(leaf)  # a 0-d array, not a number
        assert np.asarray(leaf).dtype == dtype
        assert np.asarray(leaf) == value
    # 0 iterations: a number no step changed stays a number (weakly typed, as JAX's carry;
    # test_s36_numpy36)
    i = lax.while_loop(lambda i: i > 0, lambda i: i - 1, 0)
    assert type(i) is int and i == 0


@pytest.mark.parametrize("staged", [False, True], ids=["eager", "jit"])
def test_python_number_init_is_weakly_typed(staged):
    """A Python number in init_val takes the dtype of what the body puts in its place (JAX's
    weak types), eagerly and under jit alike: widening int -> float, float32 from a float32
    array; a bool stays a bool; other changes are TypeErrors."""
    x = np.asarray(X)
    x32 = np.asarray(X, dtype=np.float32)
    wrap = ft.jit if staged else (lambda f: f)
    i, _ = wrap(lambda x: lax.while_loop(lambda c: c[0] < 2, lambda c: (c[0] + 0.5, c[1]),
                                         (0, x)))(x)
    assert np.asarray(i).dtype == np.float64 and float(np.asarray(i)) == 2.0
    h, _ = wrap(lambda x: lax.fori_loop(0, 2, lambda i, c: (c[0] / 2, c[1]), (8, x)))(x)
    assert np.asarray(h).dtype == np.float64 and float(np.asarray(h)) == 2.0
    s = wrap(lambda x: lax.fori_loop(0, 3, lambda i, c: c + fnp.sum(x), 0.0))(x32)
    assert np.asarray(s).dtype == np.float32
    np.testing.assert_allclose(np.asarray(s), 3 * np.sum(x32), rtol=1e-6)
    flag = wrap(lambda x: lax.fori_loop(0, 3, lambda i, c: (~c[0], c[1]), (True, x)))(x)[0]
    assert np.asarray(flag).dtype == np.bool_ and not bool(flag)
    with pytest.raises(TypeError, match="fori_loop"):  # an array of another shape
        wrap(lambda x: lax.fori_loop(0, 2, lambda i, c: (c[0] * fnp.ones((3,)), c[1]),
                                     (1, x)))(x)
    with pytest.raises(TypeError, match="while_loop"):  # a bool where a number was
        wrap(lambda x: lax.while_loop(lambda c: fnp.sum(c[1]) < 0.0,
                                      lambda c: (c[0] > 0, c[1]), (0, x)))(-x)


def test_while_loop_python_counter_beside_arrays(backend):
    """JAX's idiom: a Python 0 as the counter beside arrays of any library."""
    x = backend.asarray(X)
    i, y = lax.while_loop(lambda c: c[0] < 3, lambda c: (c[0] + 1, c[1] * 2.0), (0, x))
    assert int(_np(backend, i)) == 3
    _close(y, np.asarray(X) * 8.0, backend)
    # staged: the counter's predicate is abstract there
    i, y = ft.jit(lambda x: lax.while_loop(lambda c: (c[0] < 3) & (fnp.sum(c[1]) < 100.0),
                                           lambda c: (c[0] + 1, c[1] * 2.0), (0, x)))(x)
    assert int(_np(backend, i)) == 3
    _close(y, np.asarray(X) * 8.0, backend)


def test_fori_loop_logistic_map_and_the_counter(backend):
    r, x0 = backend.asarray(3.2), backend.asarray([0.2, 0.5, 0.9])
    want = logistic_ref(3.2, np.asarray([0.2, 0.5, 0.9]), 7)[0]
    _close(logistic_fori(r, x0, 7), want, backend)
    # the counter, in arithmetic and as an index
    xs = backend.asarray([1.0, 2.0, 4.0, 8.0, 16.0])
    acc = lax.fori_loop(1, 4, lambda i, acc: acc + xs[i] * i, backend.asarray(0.0))
    _close(acc, 2.0 * 1 + 4.0 * 2 + 8.0 * 3, backend)
    # an integer carry
    n = lax.fori_loop(2, 9, lambda i, n: n + i, backend.asarray(0, "int64"))
    _close(n, np.asarray(sum(range(2, 9))), backend)
    assert _np(backend, n).dtype == np.int64
    # no iteration when lower >= upper
    _close(lax.fori_loop(5, 2, lambda i, x: x * 0.0, x0), [0.2, 0.5, 0.9], backend)


def test_fori_loop_array_bounds(backend):
    """Bounds given as integer arrays: concrete eagerly, traced under jit (a while loop)."""
    x = backend.asarray(X)
    lo, hi = backend.asarray(1, "int64"), backend.asarray(4, "int64")

    def f(lo, hi, x):
        return lax.fori_loop(lo, hi, lambda i, c: c * 2.0 + 1.0, x)
    want = np.asarray(X)
    for _ in range(3):
        want = want * 2.0 + 1.0
    _close(f(lo, hi, x), want, backend)
    jf = ft.jit(f)
    _close(jf(lo, hi, x), want, backend)
    _close(jf(backend.asarray(3, "int64"), hi, x), np.asarray(X) * 2.0 + 1.0, backend)
    assert "while" in _prims(ft.make_graph(f)(lo, hi, x))
    # forward mode works through it
    _close(ft.jit(lambda x: ft.jvp(lambda x: f(lo, hi, x), (x,), (fnp.ones_like(x),))[1])(x),
           np.full(3, 8.0), backend)


def test_fori_loop_python_init_indexing(backend):
    """JAX's idiom: a Python 0.0 accumulating arrays of any library."""
    xs = backend.asarray([1.0, 2.0, 4.0, 8.0])
    acc = lax.fori_loop(0, 4, lambda i, acc: acc + xs[i], 0.0)
    assert float(_np(backend, acc)) == 15.0


def test_scan_logistic_map_with_length(backend):
    r, x0 = backend.asarray(3.7), backend.asarray([0.2, 0.6])
    xn, traj, _, _ = logistic_ref(3.7, np.asarray([0.2, 0.6]), 6)
    carry, ys = logistic_scan(r, x0, 6)
    _close(carry, xn, backend)
    _close(ys, traj, backend)  # stacked on a new leading axis: (6, 2)
    # reverse=True with no xs: the same steps (nothing depends on the index)
    carry, ys = lax.scan(lambda x, _: (r * x * (1.0 - x), x), x0, length=6, reverse=True)
    _close(carry, xn, backend)
    # ys at their own index: the step that ran first (on x0) is stored last
    _close(ys, np.concatenate([[[0.2, 0.6]], traj[:-1]])[::-1], backend)


def test_scan_pytrees_integer_carry_and_reverse(backend):
    a = np.arange(12.0).reshape(4, 3) / 10.0
    b = np.asarray([1.0, -2.0, 0.5, 3.0])
    xs = {"a": backend.asarray(a), "b": backend.asarray(b)}
    w = backend.asarray([1.0, 2.0, 3.0])
    init = (backend.asarray(0, "int64"), backend.asarray(1.0))

    def f(carry, x):
        n, s = carry
        s = s * x["b"] + fnp.sum(x["a"] * w)
        return (n + 1, s), {"s": s, "n": n, "v": x["a"] * s}
    for reverse in (False, True):
        order = range(3, -1, -1) if reverse else range(4)
        n, s, ys = 0, 1.0, [None] * 4
        for i in order:
            s = s * b[i] + np.sum(a[i] * np.asarray([1.0, 2.0, 3.0]))
            ys[i] = {"s": s, "n": n, "v": a[i] * s}
            n += 1
        want_ys = {k: np.stack([y[k] for y in ys]) for k in ("n", "s", "v")}
        carry, got = lax.scan(f, init, xs, reverse=reverse)
        _close(carry, (np.asarray(4), np.asarray(s)), backend)
        _close(got, want_ys, backend)
        assert _np(backend, got["n"]).dtype == np.int64
    # reverse: a suffix sum, each stored at its own index
    _, ys = lax.scan(lambda c, x: (c + x, c + x), backend.asarray(0.0), xs["b"], reverse=True)
    _close(ys, np.cumsum(b[::-1])[::-1], backend)
    # xs given with a matching length; y None gives ys None
    carry, ys = lax.scan(lambda c, x: (c + x, None), backend.asarray(0.0), xs["b"], length=4)
    _close(carry, np.sum(b), backend)
    assert ys is None


def test_map(backend):
    xs = np.arange(6.0).reshape(3, 2)
    w = backend.asarray([1.0, -1.0])
    out = lax.map(lambda x: fnp.sum(x * w) ** 2, backend.asarray(xs))
    _close(out, np.sum(xs * [1.0, -1.0], axis=1) ** 2, backend)
    out = lax.map(lambda p: (p[0] * 2.0, {"n": p[1] + 1}),
                  (backend.asarray(xs), backend.asarray([1, 2, 3], "int64")))
    _close(out, (xs * 2.0, {"n": np.asarray([2, 3, 4])}), backend)


# -- 2. derivatives, eagerly ---------------------------------------------------------------------


def test_cond_derivatives_soft_relu(backend):
    for v in (1.3, -0.8):
        x = backend.asarray(v)
        _close(soft_relu(x), np.log1p(np.exp(v)), backend)
        s = _sigmoid(v)
        _close(ft.grad(soft_relu)(x), s, backend)
        _close(ft.hessian(soft_relu)(x), s * (1 - s), backend)
        _close(ft.grad(ft.grad(ft.grad(soft_relu)))(x), s * (1 - s) * (1 - 2 * s), backend)
        check_grads(soft_relu, (x,), order=2)


def test_cond_derivatives_operands_and_closures(backend):
    def f(x, w, y):
        # w is closed over by the branches, x and y are operands
        return lax.cond(fnp.sum(x) > y, lambda x, y: fnp.multiply(fnp.sin(fnp.multiply(x, w)), y),
                        lambda x, y: fnp.multiply(fnp.cos(x), w) + y * y, x, y)
    w, y = backend.asarray([0.3, -0.7, 1.1]), backend.asarray(0.4)
    for xs in (X, [-0.5, -1.0, 0.2]):
        x = backend.asarray(xs)
        check_grads(f, (x, w, y), order=2)
        for a, b in zip(ft.jacfwd(f, argnums=(0, 1, 2))(x, w, y),
                        ft.jacrev(f, argnums=(0, 1, 2))(x, w, y)):
            _close(a, b, backend)
    loss = lambda x, w, y: fnp.sum(f(x, w, y) ** 2)  # noqa: E731
    x = backend.asarray(X)
    h = ft.hessian(loss, argnums=1)(x, w, y)
    xn, wn = np.asarray(X), np.asarray([0.3, -0.7, 1.1])  # sum(x) > y: the sine branch
    u = xn * wn
    want = np.diag(2 * 0.16 * xn ** 2 * (np.cos(u) ** 2 - np.sin(u) ** 2))
    _close(h, want, backend)


def test_switch_derivatives(backend):
    w = backend.asarray(1.7)
    branches = [seed_f, lambda x1, x2: x1 * fnp.sin(x2) * w,
                lambda x1, x2: fnp.tanh(x1 - x2 * w)]
    x1, x2 = backend.asarray(1.5), backend.asarray(0.5)
    for k in range(3):
        def f(x1, x2, w, k=k):
            return lax.switch(k, [seed_f, lambda a, b: fnp.multiply(a, fnp.sin(b)) * w,
                                  lambda a, b: fnp.tanh(fnp.subtract(a, b * w))], x1, x2)
        check_grads(f, (x1, x2, w), order=2)
        g = ft.grad(f, argnums=(0, 1))(x1, x2, w)
        assert all(backend.is_own(t) for t in g)
        g_ref = ft.grad(branches[k], argnums=(0, 1))(x1, x2)
        _close(g, g_ref, backend)
    # the seed's partial derivatives, closed form: d/dx1 = x2 (1 + e^{x1 x2}),
    # d/dx2 = x1 (1 + e^{x1 x2}) - cos(x2)
    g = ft.grad(lambda a, b: lax.switch(backend.asarray(-3, "int64"), branches, a, b),
                argnums=(0, 1))(x1, x2)
    e = np.exp(0.75)
    _close(g, (0.5 * (1 + e), 1.5 * (1 + e) - np.cos(0.5)), backend)


def test_while_loop_derivatives(backend):
    def f(x, w):
        def body(c):
            i, x = c
            return i + 1, fnp.sin(fnp.multiply(x, w)) + 0.3 * x
        return lax.while_loop(lambda c: c[0] < 4, body, (backend.asarray(0, "int64"), x))[1]
    x, w = backend.asarray([0.4, -0.9]), backend.asarray([1.2, 0.8])
    check_grads(f, (x, w), order=2)  # forward and reverse, eagerly
    _close(ft.jacfwd(f, argnums=(0, 1))(x, w), ft.jacrev(f, argnums=(0, 1))(x, w), backend)

    # a data-dependent trip count: x w^k with k the first power past 10
    def g(x, w):
        return lax.while_loop(lambda x: x < 10.0, lambda x: fnp.multiply(x, w), x)
    x, w = backend.asarray(0.7), backend.asarray(1.5)  # k = 7
    _close(g(x, w), 0.7 * 1.5 ** 7, backend)
    _close(ft.grad(g, argnums=(0, 1))(x, w), (1.5 ** 7, 0.7 * 7 * 1.5 ** 6), backend)
    _close(ft.hessian(g, argnums=1)(x, w), 0.7 * 42 * 1.5 ** 5, backend)
    check_grads(g, (x, w), order=2)


def test_fori_loop_and_scan_derivatives_logistic_map(backend):
    r, x0 = backend.asarray(3.2), backend.asarray(0.3)
    _, _, dr, dx0 = logistic_ref(3.2, 0.3, 5)
    for run in (logistic_fori, lambda r, x0, n: logistic_scan(r, x0, n)[0]):
        f = lambda r, x0: run(r, x0, 5)  # noqa: E731
        _close(ft.grad(f, argnums=(0, 1))(r, x0), (dr, dx0), backend, tol=1e-10)
        check_grads(f, (r, x0), order=2)
        h1 = ft.hessian(f, argnums=(0, 1))(r, x0)
        eps = 1e-6
        # d(dx_n/dx0)/dx0 by central differences of the closed form
        fd = (logistic_ref(3.2, 0.3 + eps, 5)[3] - logistic_ref(3.2, 0.3 - eps, 5)[3]) / (2 * eps)
        np.testing.assert_allclose(_np(backend, h1[1][1]), fd, rtol=1e-6)


def test_scan_derivatives_closures_and_reverse(backend):
    def f(w, xs, c0, reverse):
        def step(c, x):
            c = fnp.tanh(fnp.add(fnp.multiply(c, w), x))
            return c, fnp.multiply(c, x)
        return lax.scan(step, c0, xs, reverse=reverse)
    w = backend.asarray([0.5, -1.2])
    xs = backend.asarray([[0.1, 0.2], [-0.3, 0.4], [0.5, -0.6]])
    c0 = backend.asarray([0.2, 0.1])
    for reverse in (False, True):
        fr = lambda w, xs, c0: f(w, xs, c0, reverse)  # noqa: E731
        check_grads(fr, (w, xs, c0), order=2)
        jf = ft.jacfwd(fr, argnums=(0, 1, 2))(w, xs, c0)
        jr = ft.jacrev(fr, argnums=(0, 1, 2))(w, xs, c0)
        _close(jf, jr, backend)
    check_grads(lambda xs, w: lax.map(lambda x: fnp.multiply(fnp.sin(fnp.multiply(x, w)), x), xs),
                (xs, w), order=2)


def test_derivatives_with_value_dependent_python_control_beside_lax(backend):
    """Eager: a Python ``if`` on a value and lax.cond in the same function, under hessian."""
    def f(x):
        y = lax.cond(fnp.sum(x) > 0, lambda x: x * x, lambda x: -x, x)
        if fnp.sum(y) > 1.0:
            y = y * 3.0
        return fnp.sum(fnp.sin(y))
    x = backend.asarray(X)
    xn = np.asarray(X)
    _close(ft.grad(f)(x), 3.0 * np.cos(3 * xn * xn) * 2 * xn, backend)
    check_grads(f, (x,), order=2)


# -- 3. under jit ------------------------------------------------------------------------------


def _cond_fn(x):
    return lax.cond(fnp.sum(x) > 0, lambda x: fnp.sin(x) * x, lambda x: fnp.exp(x) - x, x)


def _cond_ref(x):
    return np.sin(x) * x if np.sum(x) > 0 else np.exp(x) - x


def test_jit_cond_values_and_graph(backend):
    jf = ft.jit(_cond_fn)
    for xs in (X, [-0.5, -1.0, 0.2], [1.0, 1.0, 1.0], [-2.0, 0.1, 0.3]):
        # the second and later calls replay the cached graph, taking either branch
        _close(jf(backend.asarray(xs)), _cond_ref(np.asarray(xs)), backend)
    assert jf.cache_size() == 1
    g = ft.make_graph(_cond_fn)(backend.asarray(X))
    assert _prims(g).count("cond") == 1, g
    # both staged branches live inside the cond: no sin or exp at the top level
    assert "sin" not in _prims(g) and "exp" not in _prims(g), g


def test_jit_cond_branches_closing_over_tracers_stay_inside(backend):
    """A branch computing on a value it closes over (not an operand) is staged inside the
    cond like one computing on its operands: neither sqrt nor exp runs at the top level."""
    def f(x):
        return lax.cond(x > 0, lambda: fnp.sqrt(x), lambda: fnp.exp(x) * x)
    x = backend.asarray(4.0)
    g = ft.make_graph(f)(x)
    assert _prims(g).count("cond") == 1, g
    assert "sqrt" not in _prims(g) and "exp" not in _prims(g), g
    jf = ft.jit(f)
    _close(jf(x), 2.0, backend)
    _close(jf(backend.asarray(-1.0)), -np.exp(-1.0), backend)


def test_jit_switch_traced_index(backend):
    w = backend.asarray(2.0)
    branches = [lambda x: x * w, lambda x: fnp.sin(x), lambda x: x - w]
    refs = [lambda x: x * 2.0, np.sin, lambda x: x - 2.0]

    def f(i, x):
        return lax.switch(i, branches, x)
    jf = ft.jit(f)
    x = backend.asarray(X)
    for i in (0, 1, 2, -4, 9, 1):
        _close(jf(backend.asarray(i, "int64"), x), refs[min(max(i, 0), 2)](np.asarray(X)),
               backend)
    g = ft.make_graph(f)(backend.asarray(1, "int64"), x)
    assert sum(p in ("cond", "switch") for p in _prims(g)) == 1, g


def _while_fn(x, n):
    def body(c):
        i, x = c
        return i + 1, x * 1.5 + 0.1
    # fnp.logical_and, not &: cond_fun first sees the initial carry, whose counter is a
    # concrete array beside a tracer (array-api-strict's operators refuse tracers)
    return lax.while_loop(lambda c: fnp.logical_and(c[0] < n, fnp.max(c[1]) < 50.0), body,
                          (fnp.zeros((), dtype=fnp.int64, device=x.device), x))


def _while_ref(x, n):
    i = 0
    while i < n and np.max(x) < 50.0:
        i, x = i + 1, x * 1.5 + 0.1
    return np.asarray(i), x


def test_jit_while_loop_values_and_graph(backend):
    jf = ft.jit(_while_fn, static_argnums=1)
    for xs, n in [(X, 3), (X, 100), ([0.01, 0.02, 0.03], 100), ([60.0, 0.0, 0.0], 100),
                  (X, 3)]:
        _close(jf(backend.asarray(xs), n), _while_ref(np.asarray(xs), n), backend)
    sizes = []
    for n in (10, 1000):
        g = ft.make_graph(_while_fn, static_argnums=1)(backend.asarray(X), n)
        assert _prims(g).count("while") == 1, g
        sizes.append(len(g.eqns))
    assert sizes[0] == sizes[1] and sizes[0] <= 10, sizes
    # forward mode under jit
    x, t = backend.asarray(X), backend.asarray([1.0, 0.5, -1.0])
    want = ft.jvp(lambda x: _while_fn(x, 100)[1], (x,), (t,))
    _close(ft.jit(lambda x, t: ft.jvp(lambda x: _while_fn(x, 100)[1], (x,), (t,)))(x, t), want,
           backend)
    _close(ft.jacfwd(ft.jit(lambda x: _while_fn(x, 100)[1]))(x),
           ft.jacfwd(lambda x: _while_fn(x, 100)[1])(x), backend)


@pytest.mark.parametrize("kind", ["scan", "fori_loop"])
def test_jit_loops_are_one_equation_whatever_the_length(backend, kind):
    run = logistic_fori if kind == "fori_loop" else lambda r, x0, n: logistic_scan(r, x0, n)[0]
    r, x0 = backend.asarray(3.2), backend.asarray([0.2, 0.5, 0.7])
    sizes, grad_sizes = [], []
    for n in (10, 1000):
        g = ft.make_graph(run, static_argnums=2)(r, x0, n)
        assert _prims(g).count("scan") == 1, g
        sizes.append(len(g.eqns))
        loss = lambda r, x0: fnp.sum(run(r, x0, n))  # noqa: E731
        gg = ft.make_graph(ft.grad(loss, argnums=(0, 1)))(r, x0)
        grad_sizes.append(len(gg.eqns))
        assert 1 <= _prims(gg).count("scan") <= 3, gg
    assert sizes[0] == sizes[1] and sizes[0] <= 10, sizes
    assert grad_sizes[0] == grad_sizes[1] and grad_sizes[0] <= 60, grad_sizes
    jf = ft.jit(run, static_argnums=2)
    want = logistic_ref(3.2, np.asarray([0.2, 0.5, 0.7]), 1000)[0]
    _close(jf(r, x0, 1000), want, backend, tol=1e-9)
    _close(jf(r, x0, 1000), want, backend, tol=1e-9)  # the compiled graph
    x1 = backend.asarray([0.3, 0.4, 0.9])
    _close(jf(r, x1, 1000), logistic_ref(3.2, np.asarray([0.3, 0.4, 0.9]), 1000)[0], backend,
           tol=1e-9)
    if kind == "scan":
        carry, ys = ft.jit(logistic_scan, static_argnums=2)(r, x0, 50)
        _, traj, _, _ = logistic_ref(3.2, np.asarray([0.2, 0.5, 0.7]), 50)
        _close(ys, traj, backend, tol=1e-10)


def _kind_fn(kind, w):
    """A scalar function of x for each construct, closing over w."""
    mul = fnp.multiply  # x or w may be the concrete one, the other a tracer
    if kind == "cond":
        return lambda x: fnp.sum(lax.cond(fnp.sum(x) > 0, lambda x: fnp.sin(mul(x, w)),
                                          lambda x: mul(x * x, w), x))
    if kind == "switch":
        return lambda x: fnp.sum(lax.switch(
            fnp.astype(fnp.sum(x) > 0, fnp.int64) + 1,
            [lambda x: x, lambda x: mul(fnp.cos(x), w), lambda x: fnp.tanh(mul(x, w)) * x], x))
    if kind == "scan":
        return lambda x: fnp.sum(lax.scan(
            lambda c, xi: (fnp.sin(mul(c, w)) + xi, c * xi), x, fnp.stack([x, x * 0.5, -x]))[1])
    return lambda x: fnp.sum(lax.fori_loop(0, 4, lambda i, c: fnp.sin(mul(c, w)) * c + 0.1, x))


KINDS = ["cond", "switch", "scan", "fori_loop"]


@pytest.mark.parametrize("kind", KINDS)
def test_derivatives_under_jit_agree_with_eager(backend, kind):
    w = backend.asarray([0.3, -0.7, 1.1])
    f = _kind_fn(kind, w)
    jf, jg, gj, jh = ft.jit(f), ft.jit(ft.grad(f)), ft.grad(ft.jit(f)), ft.jit(ft.hessian(f))
    # the second point takes the other branches: the same graphs, replayed
    for xs in (X, [-0.5, -1.0, 0.2], X):
        x = backend.asarray(xs)
        _close(jf(x), f(x), backend)
        want_g, want_h = ft.grad(f)(x), ft.hessian(f)(x)
        _close(jg(x), want_g, backend, tol=1e-10)
        _close(gj(x), want_g, backend, tol=1e-10)
        _close(jh(x), want_h, backend, tol=1e-10)
    assert jg.cache_size() == 1 and jh.cache_size() == 1
    check_grads(ft.jit(f), (backend.asarray(X),), order=2)


def _kind_fn_w(kind):
    """As _kind_fn, but a function of (w, x): w is closed over by the branches / bodies."""
    def f(w, x):
        return _kind_fn(kind, w)(x)
    return f


@pytest.mark.parametrize("kind", KINDS)
def test_derivatives_under_jit_with_respect_to_closures(backend, kind):
    """The branches and bodies close over a tracer of the jitted function (w), whose
    derivatives flow out of the staged cond / scan."""
    f = _kind_fn_w(kind)
    w = backend.asarray([0.3, -0.7, 1.1])
    for xs in (X, [-0.5, -1.0, 0.2]):
        x = backend.asarray(xs)
        want = ft.grad(f, argnums=(0, 1))(w, x)
        _close(ft.jit(ft.grad(f, argnums=(0, 1)))(w, x), want, backend, tol=1e-10)
        _close(ft.grad(ft.jit(f), argnums=(0, 1))(w, x), want, backend, tol=1e-10)
        _close(ft.jit(ft.hessian(f, argnums=0))(w, x), ft.hessian(f, argnums=0)(w, x),
               backend, tol=1e-10)
        _close(ft.jit(ft.jacrev(ft.grad(f), argnums=1))(w, x),
               ft.jacfwd(ft.grad(f), argnums=1)(w, x), backend, tol=1e-10)
    check_grads(ft.jit(f), (w, backend.asarray(X)), order=2)
    # vmap over the closed-over array, the operand shared
    W = backend.asarray([[0.3, -0.7, 1.1], [1.0, 0.5, -0.2]])
    x = backend.asarray(X)
    got = ft.vmap(f, in_axes=(0, None))(W, x)
    _close(got, np.stack([_np(backend, f(W[i, ...], x)) for i in range(2)]), backend)
    got = ft.vmap(ft.grad(f), in_axes=(0, None))(W, x)
    _close(got, np.stack([_np(backend, ft.grad(f)(W[i, ...], x)) for i in range(2)]),
           backend, tol=1e-10)


def test_jit_grad_no_nan_from_the_branch_not_taken(backend):
    """Staged, the branch not taken has a nan or infinite derivative there: it must not reach
    the gradient, whether the value reaches the branches as an operand or closed over."""
    def by_operand(x):
        return lax.cond(x > 0, fnp.sqrt, lambda x: x * x, x)

    def by_closure(x):
        return lax.cond(x > 0, lambda: fnp.sqrt(x), lambda: x * x)

    def by_switch(x):
        return lax.switch(fnp.astype(x > 0, fnp.int64), [lambda: x * x, lambda: fnp.sqrt(x)])
    for v, d1, d2 in [(-1.0, -2.0, 2.0), (0.0, 0.0, 2.0), (4.0, 0.25, -1 / 32)]:
        x = backend.asarray(v)
        for f in (by_operand, by_closure, by_switch):
            _close(ft.jit(ft.grad(f))(x), d1, backend)
            _close(ft.jit(ft.hessian(f))(x), d2, backend)

    # the same inside a staged scan: the carry closed over by the branches
    seq = [0.5, -3.0, 1.0]

    def s(c0):
        def step(c, x):
            return lax.cond(c > 0, lambda: fnp.sqrt(c) + x, lambda: c * c + x), c
        return lax.scan(step, c0, backend.asarray(seq))[0]
    for v in (2.0, -1.0):
        want = ft.grad(s)(backend.asarray(v))  # eager: Python's if, one branch
        _finite(backend, want)
        _close(ft.jit(ft.grad(s))(backend.asarray(v)), want, backend)


def test_while_loop_reverse_mode_through_jit(backend):
    """grad(jit(f)) of a while_loop works (the loop runs concretely under grad)."""
    f = lambda x: fnp.sum(_while_fn(x, 100)[1] ** 2)  # noqa: E731
    x = backend.asarray(X)
    want = ft.grad(f)(x)
    _close(ft.grad(ft.jit(f))(x), want, backend)
    _close(ft.grad(ft.jit(f))(x), want, backend)
    # closed form: 8 steps (2.0 -> 3.1 -> 4.75 -> ... -> 56.0); x_k = 1.5^k x + c_k
    i, y = _while_ref(np.asarray(X), 100)
    _close(want, 2 * y * 1.5 ** int(i), backend)


def test_float32_carries_stay_float32(backend):
    """Python numbers and the counter in a body do not widen a float32 carry, eager or
    staged (the same dtypes both ways)."""
    x = backend.asarray(X, "float32")
    fns = {
        "fori": lambda x: lax.fori_loop(0, 3, lambda i, c: c * 1.5 + i, x),
        "scan": lambda x: lax.scan(lambda c, _: (c * 0.5 + 1.0, c), x, None, length=3),
        "while": lambda x: lax.while_loop(lambda c: fnp.sum(c) < 40.0, lambda c: c * 2.0, x),
        "cond": lambda x: lax.cond(fnp.sum(x) > 0, lambda x: x * 2.0, lambda x: x + 1.0, x),
    }
    for name, f in fns.items():
        eager = f(x)
        for v in optree.tree_leaves(eager):
            assert _np(backend, v).dtype == np.float32, name
        _close(ft.jit(f)(x), eager, backend, tol=1e-6)
        for v in optree.tree_leaves(ft.jit(f)(x)):
            assert _np(backend, v).dtype == np.float32, name


def test_map_and_indexing_by_the_counter_under_jit(backend):
    xs = backend.asarray([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    w = backend.asarray([0.5, -1.0])

    def f(xs):
        return lax.map(lambda x: fnp.sum(fnp.sin(x) * w), xs)
    g = ft.make_graph(f)(xs)
    assert _prims(g).count("scan") == 1, g
    _close(ft.jit(f)(xs), np.sin(_np(backend, xs)) @ np.asarray([0.5, -1.0]), backend)
    _close(ft.jit(ft.jacrev(f))(xs), ft.jacfwd(f)(xs), backend)

    # the counter as an index into an array closed over: gathers, and their transposes
    def h(xs, c0):
        return lax.fori_loop(0, 3, lambda i, c: fnp.tanh(c * xs[i, ...]) + xs[2 - i, ...], c0)
    c0 = backend.asarray([0.1, 0.2])
    want = ft.grad(lambda xs, c0: fnp.sum(h(xs, c0)), argnums=(0, 1))(xs, c0)
    _close(ft.jit(ft.grad(lambda xs, c0: fnp.sum(h(xs, c0)), argnums=(0, 1)))(xs, c0), want,
           backend)
    _close(ft.jit(h)(xs, c0), h(xs, c0), backend)
    check_grads(ft.jit(h), (xs, c0), order=2)


def test_linearize_and_hvp(backend):
    w = backend.asarray([0.3, -0.7, 1.1])
    x, t = backend.asarray(X), backend.asarray([1.0, -0.5, 0.25])
    for kind in KINDS:
        f = _kind_fn(kind, w)
        y, f_jvp = ft.linearize(f, x)
        _close(y, f(x), backend)
        _close(f_jvp(t), ft.jvp(f, (x,), (t,))[1], backend)
        _close(ft.hvp(f, (x,), (t,)), _np(backend, ft.hessian(f)(x)) @ _np(backend, t), backend)
        _close(ft.jit(lambda x, t: ft.hvp(f, (x,), (t,)))(x, t), ft.hvp(f, (x,), (t,)), backend)


# -- 4. vmap -------------------------------------------------------------------------------------


def _nan_cond(x):
    """sqrt for x > 0, x^2 otherwise: sqrt of the others is nan (or has an infinite slope)."""
    return lax.cond(x > 0, lambda x: fnp.sqrt(x), lambda x: x * x, x)


XB = [-1.0, 4.0, 0.0, 0.25, -2.0]


def test_vmap_cond_batched_predicate_no_nan_leaks(backend):
    xs = backend.asarray(XB)
    xn = np.asarray(XB)
    pos = xn > 0
    _close(ft.vmap(_nan_cond)(xs), np.where(pos, np.sqrt(np.abs(xn)), xn * xn), backend)
    d1 = np.where(pos, 0.5 / np.sqrt(np.abs(xn) + (~pos)), 2 * xn)
    d2 = np.where(pos, -0.25 * (np.abs(xn) + (~pos)) ** -1.5, 2.0)
    _close(ft.vmap(ft.grad(_nan_cond))(xs), d1, backend)
    _close(ft.vmap(ft.grad(ft.grad(_nan_cond)))(xs), d2, backend)
    _close(ft.grad(lambda xs: fnp.sum(ft.vmap(_nan_cond)(xs)))(xs), d1, backend)
    _close(ft.vmap(lambda x: ft.jvp(_nan_cond, (x,), (fnp.ones_like(x),))[1])(xs), d1, backend)
    _close(ft.jit(ft.vmap(_nan_cond))(xs), np.where(pos, np.sqrt(np.abs(xn)), xn * xn),
           backend)
    _close(ft.jit(ft.vmap(ft.grad(_nan_cond)))(xs), d1, backend)
    _close(ft.jacrev(ft.vmap(_nan_cond))(xs), np.diag(d1), backend)
    # an unbatched (concrete) predicate with batched operands: one branch runs, as in Python
    t, f = counted(fnp.sqrt), counted(lambda x: x * x)
    flag = backend.asarray(False, "bool")
    _close(ft.vmap(lambda x: lax.cond(flag, t, f, x))(xs), xn * xn, backend)
    assert (t.calls, f.calls) == (0, 1)

    # log and 1/x: -inf, nan and inf on the members that do not take the branch
    def g(x, w):
        return lax.cond(x > 0, lambda x: fnp.log(x) * w + 1.0 / x, lambda x: w * x, x)
    w = backend.asarray(2.0)
    got = ft.vmap(ft.grad(g, argnums=(0, 1)), in_axes=(0, None))(xs, w)
    safe = np.where(pos, xn, 1.0)
    _close(got, (np.where(pos, 2.0 / safe - 1.0 / safe ** 2, 2.0),
                 np.where(pos, np.log(safe), xn)), backend)


def test_vmap_cond_no_nan_leaks_through_closures(backend):
    """As above, with the batched value closed over by the branches rather than passed as an
    operand (JAX's closure conversion makes the two the same)."""
    xs = backend.asarray([-1.0, 4.0, 0.0])
    d1 = [-2.0, 0.25, 0.0]

    def g(x):
        return lax.cond(x > 0, lambda: fnp.sqrt(x), lambda: x * x)

    def h(x):
        return lax.switch(fnp.astype(x > 0, fnp.int64), [lambda: x * x, lambda: fnp.sqrt(x)])

    def m(x, y):  # x closed over, y an operand
        return lax.cond(x > 0, lambda y: fnp.sqrt(x) * y, lambda y: x * y, y)
    _close(ft.vmap(g)(xs), [1.0, 2.0, 0.0], backend)
    _close(ft.vmap(lambda x: ft.jvp(g, (x,), (fnp.ones_like(x),))[1])(xs), d1, backend)
    _close(ft.vmap(ft.grad(g))(xs), d1, backend)
    _close(ft.grad(lambda xs: fnp.sum(ft.vmap(g)(xs)))(xs), d1, backend)
    _close(ft.vmap(ft.grad(h))(xs), d1, backend)
    _close(ft.vmap(ft.grad(m))(xs, backend.asarray([1.0, 1.0, 1.0])), [1.0, 0.25, 1.0],
           backend)
    _close(ft.jit(ft.vmap(ft.grad(g)))(xs), d1, backend)


def test_vmap_switch_batched_index_clamped(backend):
    idx = backend.asarray([-3, 0, 1, 2, 7], "int64")
    xs = backend.asarray([-1.0, 0.5, -2.0, 0.0, 3.0])
    branches = [lambda x: x * 3.0, lambda x: fnp.log(x), lambda x: fnp.sqrt(x) + x]
    f = lambda i, x: lax.switch(i, branches, x)  # noqa: E731
    # members 0,1: branch 0; member 2 (x=-2): log -> nan; member 3 (x=0): sqrt(0);
    # member 4 (x=3): sqrt
    want = np.asarray([-3.0, 1.5, np.nan, 0.0, np.sqrt(3.0) + 3.0])
    got = ft.vmap(f)(idx, xs)
    np.testing.assert_allclose(_np(backend, got), want, rtol=1e-12)  # the chosen nan stays
    assert backend.is_own(got)
    # with values in every branch's domain for the members that take it
    xs2 = backend.asarray([-1.0, 0.5, 2.0, 4.0, 9.0])
    got = ft.vmap(ft.grad(f, argnums=1), in_axes=(0, 0))(idx, xs2)
    _close(got, [3.0, 3.0, 0.5, 1.25, 1 + 1 / 6], backend)
    _finite(backend, got)
    _close(ft.jit(ft.vmap(f))(idx, xs2),
           [-3.0, 1.5, np.log(2.0), 6.0, 12.0], backend)
    # an unbatched index with batched operands
    _close(ft.vmap(f, in_axes=(None, 0))(backend.asarray(0, "int64"), xs2),
           np.asarray([-1.0, 0.5, 2.0, 4.0, 9.0]) * 3.0, backend)


def _grow(c):
    return c[0] + 1, c[1] * 1.5


def test_vmap_while_loop_per_member_trip_counts(backend):
    x0 = [0.7, 2.0, 11.0, 0.1, 9.9]

    def f(x):
        return lax.while_loop(lambda c: c[1] < 10.0, _grow, (fnp.zeros((), dtype=fnp.int64,
                                                                       device=x.device), x))
    want_i, want_x = [], []
    for v in x0:  # a Python loop over members
        i = 0
        while v < 10.0:
            i, v = i + 1, v * 1.5
        want_i.append(i)
        want_x.append(v)
    got = ft.vmap(f)(backend.asarray(x0))
    _close(got, (np.asarray(want_i), np.asarray(want_x)), backend)
    _close(ft.jit(ft.vmap(f))(backend.asarray(x0)), (np.asarray(want_i), np.asarray(want_x)),
           backend)
    # forward mode through the batched loop: d x_k / d x0 = 1.5^k per member
    t = ft.vmap(lambda x: ft.jvp(lambda x: f(x)[1], (x,), (fnp.ones_like(x),))[1])(
        backend.asarray(x0))
    _close(t, 1.5 ** np.asarray(want_i, float), backend)
    _close(ft.jacfwd(lambda xs: ft.vmap(f)(xs)[1])(backend.asarray(x0)),
           np.diag(1.5 ** np.asarray(want_i, float)), backend)


def test_vmap_while_loop_unbatched_predicate(backend):
    """Batched carry, predicate on an unbatched counter: every member runs n steps."""
    w = backend.asarray([0.5, 1.5])

    def f(x):
        return lax.while_loop(lambda c: c[0] < 3, lambda c: (c[0] + 1, fnp.sin(c[1] * w)),
                              (fnp.zeros((), dtype=fnp.int64, device=x.device), x))[1]
    xs = np.asarray([[0.1, 0.2], [0.3, -0.4], [1.0, 2.0]])
    want = xs.copy()
    for _ in range(3):
        want = np.sin(want * np.asarray([0.5, 1.5]))
    _close(ft.vmap(f)(backend.asarray(xs)), want, backend)
    # reverse mode: the predicate is not batched, so grad inside vmap works
    g = ft.vmap(ft.grad(lambda x: fnp.sum(f(x))))(backend.asarray(xs))
    want_g = np.stack([_np(backend, ft.grad(lambda x: fnp.sum(f(x)))(backend.asarray(r)))
                       for r in xs])
    _close(g, want_g, backend)


@pytest.mark.parametrize("kind", ["scan", "fori_loop"])
def test_vmap_loops_batched_carry_and_xs(backend, kind):
    w = backend.asarray([0.5, -1.0])
    wn = np.asarray([0.5, -1.0])
    c0 = np.asarray([[0.1, 0.2], [0.3, -0.4], [1.0, 2.0]])
    seq = np.asarray([[0.0, 1.0, -1.0, 0.5], [2.0, 0.0, 0.1, 0.2], [0.3, 0.3, 0.3, 0.3]])

    if kind == "scan":
        def f(c, xs):
            return lax.scan(lambda c, x: (fnp.tanh(fnp.add(c * w, x)),
                                          fnp.multiply(fnp.sum(c), x)), c, xs)

        def ref(c, xs):
            ys = []
            for x in xs:
                ys.append(np.sum(c) * x)
                c = np.tanh(c * wn + x)
            return c, np.asarray(ys)
    else:
        def f(c, xs):
            return lax.fori_loop(0, 4, lambda i, c: fnp.tanh(fnp.add(c * w, xs[i])), c)

        def ref(c, xs):
            for x in xs:
                c = np.tanh(c * wn + x)
            return c
    want = [ref(c, s) for c, s in zip(c0, seq)]
    want = optree.tree_map(lambda *a: np.stack(a), *want)
    C, S = backend.asarray(c0), backend.asarray(seq)
    _close(ft.vmap(f)(C, S), want, backend)
    _close(ft.jit(ft.vmap(f))(C, S), want, backend)
    # only the carry batched, the sequence shared
    want1 = optree.tree_map(lambda *a: np.stack(a), *[ref(c, seq[0]) for c in c0])
    _close(ft.vmap(f, in_axes=(0, None))(C, backend.asarray(seq[0])), want1, backend)
    # only the sequence batched
    want2 = optree.tree_map(lambda *a: np.stack(a), *[ref(c0[0], s) for s in seq])
    _close(ft.vmap(f, in_axes=(None, 0))(backend.asarray(c0[0]), S), want2, backend)
    # gradients per member vs one member at a time
    loss = lambda c, xs: fnp.sum(optree.tree_leaves(f(c, xs))[0] ** 2)  # noqa: E731
    g = ft.vmap(ft.grad(loss, argnums=(0, 1)))(C, S)
    for m in range(3):
        gm = ft.grad(loss, argnums=(0, 1))(backend.asarray(c0[m]), backend.asarray(seq[m]))
        _close((g[0][m, ...], g[1][m, ...]), gm, backend, own=False)
    assert backend.is_own(g[0]) and backend.is_own(g[1])


def test_vmap_unbatched_carry_made_batched_by_the_body(backend):
    """The initial carry is the same for every member, the body closes over a batched array:
    the carry becomes batched (scan, fori_loop, while_loop), and a branch that returns an
    unbatched constant meets a batched one (cond)."""
    W = backend.asarray([0.5, 1.0, 1.5])
    wn = np.asarray([0.5, 1.0, 1.5])
    c0 = backend.asarray(0.2)

    def scan_f(w):
        return lax.scan(lambda c, _: (fnp.sin(fnp.multiply(c, w)) + 0.1, c), c0, None,
                        length=3)

    def fori_f(w):
        return lax.fori_loop(0, 3, lambda i, c: fnp.sin(fnp.multiply(c, w)) + 0.1, c0)

    def while_f(w):  # the predicate is batched too, through the carry
        return lax.while_loop(lambda c: c < 2.0, lambda c: fnp.multiply(c, 1.0 + w), c0)

    def cond_f(w):
        return lax.cond(w > 0.7, lambda w: w * 2.0, lambda w: c0, w)

    def refs(w):
        c, ys = 0.2, []
        for _ in range(3):
            ys.append(c)
            c = np.sin(c * w) + 0.1
        cw = 0.2
        while cw < 2.0:
            cw = cw * (1.0 + w)
        return (c, np.asarray(ys)), c, cw, (w * 2.0 if w > 0.7 else 0.2)
    want = [refs(w) for w in wn]
    for k, f in enumerate((scan_f, fori_f, while_f, cond_f)):
        expect = optree.tree_map(lambda *a: np.stack(a), *[r[k] for r in want])
        _close(ft.vmap(f)(W), expect, backend)
        _close(ft.jit(ft.vmap(f))(W), expect, backend)
    # gradients with respect to the batched closure
    g = ft.vmap(ft.grad(lambda w: scan_f(w)[0]))(W)
    _close(g, np.stack([_np(backend, ft.grad(lambda w: scan_f(w)[0])(W[i]))
                        for i in range(3)]), backend)


def test_nested_cond_in_scan_in_jit(backend):
    w = backend.asarray(0.8)

    def f(c0, xs):
        def step(c, x):
            c = lax.cond(x > 0, lambda c: fnp.add(c * w, x),
                         lambda c: fnp.subtract(fnp.sin(c), x), c)
            return c, c * c
        return lax.scan(step, c0, xs)

    def ref(c, xs):
        ys = []
        for x in xs:
            c = c * 0.8 + x if x > 0 else np.sin(c) - x
            ys.append(c * c)
        return c, np.asarray(ys)
    seq = [0.5, -1.0, 0.2, -0.3, 2.0]
    c0, xs = backend.asarray(0.3), backend.asarray(seq)
    want = ref(0.3, seq)
    _close(f(c0, xs), want, backend)
    jf = ft.jit(f)
    _close(jf(c0, xs), want, backend)
    _close(jf(c0, backend.asarray(seq[::-1])), ref(0.3, seq[::-1]), backend)  # other branches
    g = ft.make_graph(f)(c0, xs)
    assert _prims(g).count("scan") == 1 and "cond" not in _prims(g), g
    loss = lambda c0, xs: fnp.sum(f(c0, xs)[1])  # noqa: E731
    want_g = ft.grad(loss, argnums=(0, 1))(c0, xs)
    _close(ft.jit(ft.grad(loss, argnums=(0, 1)))(c0, xs), want_g, backend)
    check_grads(loss, (c0, xs), order=2)
    # batched: each member's own branches at each step
    C0 = backend.asarray([0.3, -0.2])
    XS = backend.asarray([seq, seq[::-1]])
    _close(ft.vmap(f)(C0, XS), optree.tree_map(lambda *a: np.stack(a), ref(0.3, seq),
                                               ref(-0.2, seq[::-1])), backend)
    _close(ft.jit(ft.vmap(ft.grad(loss, argnums=(0, 1))))(C0, XS),
           ft.vmap(ft.grad(loss, argnums=(0, 1)))(C0, XS), backend)


def test_nested_scan_in_while_body(backend):
    def f(x):
        def body(c):
            i, x = c
            x, _ = lax.scan(lambda h, _: (fnp.sin(h) * 0.9 + 0.1, None), x, None, length=3)
            return i + 1, x
        return lax.while_loop(lambda c: fnp.logical_and(c[0] < 4, fnp.sum(c[1]) > -5.0), body,
                              (fnp.zeros((), dtype=fnp.int64, device=x.device), x))[1]

    def ref(x):
        for _ in range(4):
            for _ in range(3):
                x = np.sin(x) * 0.9 + 0.1
        return x
    x = backend.asarray(X)
    _close(f(x), ref(np.asarray(X)), backend)
    _close(ft.jit(f)(x), ref(np.asarray(X)), backend)
    g = ft.make_graph(f)(x)
    assert _prims(g).count("while") == 1 and "scan" not in _prims(g), g
    check_grads(f, (x,), order=1)  # eager: both modes
    _close(ft.jit(ft.jacfwd(f))(x), ft.jacfwd(f)(x), backend)
    xs = np.asarray([X, [0.1, 0.2, 0.3]])
    _close(ft.vmap(f)(backend.asarray(xs)), np.stack([ref(r) for r in xs]), backend)


# -- 5. errors ----------------------------------------------------------------------------------


BAD_BRANCHES = {
    "structure": (lambda x: (x, x), lambda x: x),
    "shape": (lambda x: x, lambda x: fnp.stack([x, x])),
    "dtype": (lambda x: x, lambda x: fnp.astype(x, fnp.float32)),
    "int_vs_float": (lambda x: x, lambda x: fnp.astype(x > 0, fnp.int64)),
}


@pytest.mark.parametrize("what", sorted(BAD_BRANCHES))
def test_branch_outputs_must_agree_when_staged(backend, what):
    tf, ff = BAD_BRANCHES[what]
    x = backend.asarray(X)
    with pytest.raises(TypeError, match="cond"):
        ft.jit(lambda x: lax.cond(fnp.sum(x) > 0, tf, ff, x))(x)
    with pytest.raises(TypeError, match="switch|cond"):
        ft.jit(lambda i, x: lax.switch(i, [tf, ff, tf], x))(backend.asarray(1, "int64"), x)
    # batched predicate: both branches run, and their outputs must agree as well
    with pytest.raises(TypeError, match="cond"):
        ft.vmap(lambda x: lax.cond(x > 0, tf, ff, x))(x)


BAD_BODIES = {
    "shape": lambda c: {"count": c["count"] + 1,
                        "velocity": fnp.concat([c["velocity"], c["velocity"]])},
    "dtype": lambda c: {"count": c["count"] + 1,
                        "velocity": fnp.astype(c["velocity"], fnp.float32)},
    "int_to_float": lambda c: {"count": fnp.astype(c["count"], fnp.float64),
                               "velocity": c["velocity"]},
    "structure": lambda c: {"count": c["count"] + 1, "velocity": (c["velocity"],)},
    "keys": lambda c: {"count": c["count"] + 1, "v": c["velocity"]},
}


@pytest.mark.parametrize("what", sorted(BAD_BODIES))
@pytest.mark.parametrize("staged", [False, True], ids=["eager", "jit"])
def test_loop_bodies_must_keep_the_carry(backend, what, staged):
    body = BAD_BODIES[what]
    init = {"count": backend.asarray(0, "int64"), "velocity": backend.asarray(X)}
    wrap = ft.jit if staged else (lambda f: f)
    with pytest.raises(TypeError, match="while_loop"):
        wrap(lambda init: lax.while_loop(lambda c: c["count"] < 3, body, init))(init)
    with pytest.raises(TypeError, match="scan"):
        wrap(lambda init: lax.scan(lambda c, x: (body(c), x), init, None, length=3))(init)
    with pytest.raises(TypeError, match="fori_loop|scan|while_loop"):
        wrap(lambda init: lax.fori_loop(0, 3, lambda i, c: body(c), init))(init)


@pytest.mark.parametrize("staged", [False, True], ids=["eager", "jit"])
def test_carry_errors_name_the_leaf_and_the_function(staged):
    """The spec: a TypeError naming the leaf, by its place in the user's carry (a key),
    from the function the user called."""
    init = {"count": np.asarray(0), "velocity": np.asarray(X)}
    wrap = ft.jit if staged else (lambda f: f)
    for what, leaf in [("shape", "velocity"), ("dtype", "velocity"), ("int_to_float", "count")]:
        body = BAD_BODIES[what]
        with pytest.raises(TypeError, match="while_loop") as e:
            wrap(lambda init: lax.while_loop(lambda c: c["count"] < 3, body, init))(init)
        assert leaf in str(e.value), e.value
        with pytest.raises(TypeError, match="fori_loop") as e:
            wrap(lambda init: lax.fori_loop(0, 3, lambda i, c: body(c), init))(init)
        assert leaf in str(e.value), e.value
        with pytest.raises(TypeError, match="scan") as e:
            wrap(lambda init: lax.scan(lambda c, x: (body(c), x), init, None, length=3))(init)
        assert leaf in str(e.value), e.value


def test_bad_predicates_and_indices(backend):
    x = backend.asarray(X)
    for pred in (x > 0, backend.asarray([True], "bool")):
        with pytest.raises(TypeError, match="scalar"):
            lax.cond(pred, lambda x: x, lambda x: -x, x)
        with pytest.raises(TypeError, match="scalar"):
            ft.jit(lambda p, x: lax.cond(p, lambda x: x, lambda x: -x, x))(pred, x)
    with pytest.raises(TypeError, match="scalar"):
        lax.switch(backend.asarray([0, 1], "int64"), [lambda x: x, lambda x: -x], x)
    with pytest.raises(TypeError, match="scalar"):  # a while predicate must be scalar too
        lax.while_loop(lambda x: x < 10.0, lambda x: x * 2.0, x)


def test_switch_without_branches(backend):
    x = backend.asarray(X)
    with pytest.raises(ValueError, match="branch"):
        lax.switch(0, [], x)
    with pytest.raises(ValueError, match="branch"):
        ft.jit(lambda i, x: lax.switch(i, [], x))(backend.asarray(0, "int64"), x)


def test_scan_lengths(backend):
    x = backend.asarray(X)
    with pytest.raises(ValueError, match="length"):
        lax.scan(lambda c, x: (c, x), x, None)
    with pytest.raises(ValueError, match="length"):
        lax.scan(lambda c, x: (c, x), x)
    xs = {"a": backend.asarray([1.0, 2.0, 3.0]), "b": backend.asarray([1.0, 2.0, 3.0, 4.0])}
    with pytest.raises(ValueError, match="scan") as e:
        lax.scan(lambda c, x: (c, x), x, xs)
    assert "3" in str(e.value) and "4" in str(e.value), e.value
    with pytest.raises(ValueError, match="scan"):
        ft.jit(lambda x, xs: lax.scan(lambda c, x: (c, x), x, xs))(x, xs)
    with pytest.raises(ValueError, match="length"):  # length disagrees with the xs
        lax.scan(lambda c, x: (c + x, x), backend.asarray(0.0), xs["a"], length=5)


def test_reverse_mode_of_a_staged_while_loop(backend):
    """Reverse mode of a while_loop whose predicate is abstract (jit(grad), make_graph of a
    gradient, jit(jacrev), vmap(grad)), which JAX refuses: the backward pass differentiates
    the loop when it runs, and agrees with eager reverse mode."""
    x = backend.asarray(X)
    f = lambda x: fnp.sum(_while_fn(x, 100)[1] ** 2)  # noqa: E731
    want = ft.grad(f)(x)
    jf = ft.jit(ft.grad(f))
    _close(jf(x), want, backend)
    _close(jf(x), want, backend)  # the compiled graph
    _close(jf(backend.asarray([0.01, 0.02, 0.03])),
           ft.grad(f)(backend.asarray([0.01, 0.02, 0.03])), backend)  # another trip count
    g = ft.make_graph(ft.grad(f))(x)
    assert "while" in _prims(g) and "eager_call" in _prims(g), g
    _close(ft.jit(ft.jacrev(lambda x: _while_fn(x, 100)[1]))(x),
           ft.jacrev(lambda x: _while_fn(x, 100)[1])(x), backend)

    def grow(x):
        return lax.while_loop(lambda x: x < 10.0, lambda x: x * 1.5, x)
    xs = backend.asarray([1.0, 2.0, 9.0, 12.0])
    per_member = [1.5 ** 6, 1.5 ** 4, 1.5, 1.0]
    _close(ft.vmap(ft.grad(grow))(xs), per_member, backend)
    _close(ft.jit(ft.vmap(ft.grad(grow)))(xs), per_member, backend)
    # second order under jit: grow(x) = 1.5^k x is linear between jumps
    _close(ft.jit(ft.hessian(lambda x: grow(x) ** 2))(backend.asarray(2.0)),
           2 * 1.5 ** 8, backend)


def test_jit_scan_outputs_are_never_reused_while_held():
    """Staged scans fill their stacked outputs into memory taken back from earlier calls
    (functrans.buffers): never while the caller, or a view of it, still holds that memory."""
    xs = np.linspace(0.0, 1.0, 64 * 300).reshape(300, 64)  # stacked ys of 150 KB

    def f(x):
        return lax.scan(lambda c, r: (c + r, c * r + x), np.zeros(64), xs)[1]
    jf = ft.jit(f)
    first = jf(np.asarray(1.0))
    want = np.asarray(first).copy()
    view = jf(np.asarray(2.0))[5]
    view_want = np.asarray(view).copy()
    for v in (3.0, 4.0, 5.0):
        jf(np.asarray(v))  # results dropped at once: their memory may be taken back
    np.testing.assert_array_equal(first, want)
    np.testing.assert_array_equal(view, view_want)
    np.testing.assert_allclose(jf(np.asarray(1.0)), want)


def test_jit_grad_scan_saves_residuals_instead_of_recomputing():
    """jit(grad) of a scan: the forward scan stacks what the tangent map needs, and the
    backward scan only transposes it (3 products a step for an RNN step, not 5)."""
    rng = np.random.default_rng(0)
    W, U = rng.normal(size=(4, 4)), rng.normal(size=(3, 4))
    xs = rng.normal(size=(6, 2, 3))

    def rnn(W, U):
        h, _ = lax.scan(lambda h, x: (fnp.tanh(h @ W + x @ U), None), np.zeros((2, 4)), xs)
        return fnp.sum(h)
    g = ft.make_graph(ft.grad(rnn, (0, 1)))(W, U)
    scans = [e for e in g.eqns if e[0].name == "scan"]
    assert len(scans) == 2, g
    backward = scans[1][2]["body"]
    assert [e[0].name for e in backward.eqns].count("matmul") == 3, backward
    assert "tanh" not in [e[0].name for e in backward.eqns], backward

    def loop(W, U):
        h = np.zeros((2, 4))
        for t in range(6):
            h = fnp.tanh(h @ W + xs[t] @ U)
        return fnp.sum(h)
    for got, want in zip(ft.jit(ft.grad(rnn, (0, 1)))(W, U), ft.grad(loop, (0, 1))(W, U)):
        np.testing.assert_allclose(got, want, rtol=1e-12)


# -- dynamic_slice and friends: the indexing of staged loops ----------------------------------

def _np_dynamic_slice(x, starts, sizes):
    # (a negative start counts from the end, as in JAX, then clamped)
    starts = [min(max(int(s) + (d if int(s) < 0 else 0), 0), d - n)
              for s, n, d in zip(starts, sizes, x.shape)]
    return x[tuple(slice(s, s + n) for s, n in zip(starts, sizes))]


def _np_dynamic_update_slice(x, u, starts):
    out = x.copy()
    starts = [min(max(int(s) + (d if int(s) < 0 else 0), 0), d - n)
              for s, n, d in zip(starts, u.shape, x.shape)]
    out[tuple(slice(s, s + n) for s, n in zip(starts, u.shape))] = u
    return out


@pytest.mark.parametrize("starts", [(0, 0), (1, 2), (2, 3), (5, -4), (-1, 1)])
def test_dynamic_slice_and_update_match_numpy(backend, starts):
    A = np.arange(12.0).reshape(3, 4)
    U = -np.arange(1.0, 5.0).reshape(2, 2)
    x, u = backend.asarray(A), backend.asarray(U)
    traced = tuple(backend.asarray(s, "int64") for s in starts)
    want = _np_dynamic_slice(A, starts, (2, 2))
    want_u = _np_dynamic_update_slice(A, U, starts)
    for st in (starts, traced):
        _close(lax.dynamic_slice(x, st, (2, 2)), want, backend)
        _close(lax.dynamic_update_slice(x, u, st), want_u, backend)
        _close(ft.jit(lambda x, u, *s: lax.dynamic_update_slice(x, u, s))(x, u, *st), want_u,
               backend)
        _close(ft.jit(lambda x, *s: lax.dynamic_slice(x, s, (2, 2)))(x, *st), want, backend)
    assert np.array_equal(backend.to_numpy(x), A)  # never written into


def test_dynamic_slice_derivatives_vmap_and_loops():
    A = np.arange(12.0).reshape(3, 4) / 10
    U = np.ones((1, 4)) * 0.3
    i = np.asarray(1)
    check_grads(lambda x: lax.dynamic_slice(x, (i, 1), (2, 3)), (A,), order=2)
    check_grads(lambda x, u: lax.dynamic_update_slice(x, u * u, (i, 0)) ** 2, (A, U), order=2)
    # batched starts: each member its own slice
    got = ft.vmap(lambda s: lax.dynamic_slice(A, (s, 0), (2, 4)))(np.asarray([0, 1, 2, 7]))
    np.testing.assert_allclose(got, [_np_dynamic_slice(A, (s, 0), (2, 4)) for s in (0, 1, 2, 7)])
    # the loop index under jit is a tracer: rows read with dynamic_index_in_dim
    def row_sums(w):
        return lax.fori_loop(0, 3, lambda k, acc: acc + fnp.sum(
            lax.dynamic_index_in_dim(A, k, 0, keepdims=False) * w), 0.0)
    np.testing.assert_allclose(ft.jit(row_sums)(np.asarray(2.0)), 2 * A.sum())
    np.testing.assert_allclose(ft.jit(ft.grad(row_sums))(np.asarray(2.0)), A.sum())

    def fill(v):  # writes row k of a carry, as x.at[k].set(...) in JAX
        return lax.fori_loop(0, 3, lambda k, y: lax.dynamic_update_index_in_dim(
            y, v * (k + 1.0), k, 0), np.zeros((3, 2)))
    want = np.outer([1.0, 2.0, 3.0], [0.5, 1.5])
    np.testing.assert_allclose(fill(np.asarray([0.5, 1.5])), want)
    np.testing.assert_allclose(ft.jit(fill)(np.asarray([0.5, 1.5])), want)
    np.testing.assert_allclose(ft.jit(ft.grad(lambda v: fnp.sum(fill(v))))(np.ones(2)), [6., 6.])
    np.testing.assert_allclose(lax.dynamic_slice_in_dim(A, 2, 2, axis=1), A[:, 2:4])
    np.testing.assert_allclose(lax.dynamic_update_slice_in_dim(A, np.zeros((3, 1)), 9, 1)[:, 3], 0)


def test_dynamic_slice_and_select_errors():
    A = np.zeros((3, 4))
    with pytest.raises(ValueError, match="does not fit"):
        lax.dynamic_slice(A, (0, 0), (4, 1))
    with pytest.raises(TypeError, match="2 start"):
        lax.dynamic_slice(A, (0,), (1, 1))
    with pytest.raises(TypeError, match="one shape"):
        lax.select(np.ones(3, dtype=bool), np.ones(3), np.ones(2))
    with pytest.raises(TypeError, match="boolean"):
        lax.select(np.ones(3), np.ones(3), np.ones(3))
    np.testing.assert_allclose(lax.select(np.asarray([True, False]), np.ones(2), np.zeros(2)),
                               [1.0, 0.0])


def test_fori_loop_with_a_traced_upper_bound_on_every_backend(backend):
    """The counter starts as a plain array of the inputs' library; comparing it with a
    traced bound must not use the library's operator (array-api-strict refuses tracers)."""
    import functrans.lax as lax
    x = backend.asarray(np.array([1.0, 2.0]))
    f = ft.jit(lambda v: lax.fori_loop(0, fnp.astype(fnp.sum(v), fnp.int64),
                                       lambda i, c: c * 2.0, v))
    out = f(x)
    assert backend.is_own(out)
    np.testing.assert_allclose(backend.to_numpy(out), [8.0, 16.0])


def test_complex_of_an_infinite_or_nan_imaginary_part(backend):
    # lax.complex(x, y) is x + y j part for part: y * 1j has the real part y * 0, which is
    # NaN at an infinite y (complex(-2.5, inf) was nan + inf j); numpy.round of a complex
    # array builds its result the same way
    x = np.array([-2.5, 1.0, np.inf, np.nan, 0.5, 3.0])
    y = np.array([np.inf, -np.inf, 1.0, 2.0, np.nan, 0.25])
    want = np.empty(x.shape, np.complex128)
    want.real, want.imag = x, y
    got = backend.to_numpy(lax.complex(backend.asarray(x), backend.asarray(y)))
    np.testing.assert_array_equal(got, want)
    assert got.dtype == np.complex128
    got = backend.to_numpy(fnp.round(backend.asarray(want + 0.4, dtype="complex128")))
    np.testing.assert_array_equal(got, np.round(want + 0.4))
    check_grads(lax.complex, (backend.asarray(np.array([0.3, -1.2])),
                              backend.asarray(np.array([2.0, 0.7]))), order=2)
