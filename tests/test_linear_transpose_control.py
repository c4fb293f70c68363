"""linear_transpose of functions with control flow: scan, fori_loop, map, cond/switch and
while_loop equations (and checkpointed, jitted and custom_jvp functions inside them) are
accepted when their bodies are linear in what depends on the inputs, and the transpose is
the explicit matrix's (jacfwd's) transpose; non-linear bodies are refused, naming the outer
equation and the inner operation."""

from __future__ import annotations

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp

lax = ft.lax
RNG = np.random.default_rng(7)
_W = RNG.normal(size=(3, 3))
_A = RNG.normal(size=3)


def _flat(tree):
    return fnp.concat([fnp.reshape(leaf, (-1,)) for leaf in ft.tree.leaves(tree)])


def _check_matrix(backend, f, n, ct=None):
    """linear_transpose(f)(ct) == J^T ct, J = jacfwd(f) (f: a vector of n to a vector)."""
    x = backend.asarray(RNG.normal(size=n))
    out = backend.to_numpy(f(x))
    if ct is None:
        ct = RNG.normal(size=out.shape)
    (got,) = ft.linear_transpose(f, x)(backend.asarray(ct))
    assert backend.is_own(got)
    jac = backend.to_numpy(ft.jacfwd(f)(x)).reshape(out.size, n)
    np.testing.assert_allclose(backend.to_numpy(got), jac.T @ ct.reshape(-1), rtol=1e-12,
                               atol=1e-12)


# Each case: (n, make(backend) -> f): f maps a vector of n to an array, linearly.

def _recurrence(b):
    w, a = b.asarray(_W), b.asarray(_A)
    return lambda x: lax.scan(lambda c, z: (fnp.matmul(w, c) + z * a, 2.0 * c - z), x[:3],
                              fnp.reshape(x[3:], (2, 3)))[1]


def _several_carries(b):
    a = b.asarray(_A)

    def step(c, z):
        s, (t, u) = c["s"], c["tu"]
        return {"s": s + z["p"], "tu": (0.5 * t - s, u + z["q"] * a)}, (s - t, 3.0 * u)

    def f(x):
        init = {"s": x[0], "tu": (x[1], x[2:5])}
        xs = {"p": x[5:9], "q": fnp.reshape(x[9:21], (4, 3))}
        carry, ys = lax.scan(step, init, xs)
        return _flat((carry, ys))
    return f


def _fori_counter(b):
    # the counter i (not an input) multiplies: a coefficient, as a constant would be
    return lambda x: lax.fori_loop(1, 4, lambda i, c: fnp.flip(c) * i + x, x)


def _cond_in_scan(b):
    def step(c, z):
        k, v = c
        v = lax.cond(k % 2 == 0, lambda u: 2.0 * u + z, lambda u: -u, v)
        return (k + 1, v), v
    return lambda x: lax.scan(step, (0, x[0]), x[1:])[1]


def _switch_in_scan(b):
    branches = [lambda u, z: u + z, lambda u, z: fnp.flip(u) - 3.0 * z, lambda u, z: 0.5 * u]

    def step(c, z):
        k, v = c
        return (k + 1, lax.switch(k % 3, branches, v, z)), fnp.sum(v)
    return lambda x: _flat(lax.scan(step, (0, x[:2]), fnp.reshape(x[2:], (4, 2)))[1:])


def _while_in_scan(b):
    # the inner loop runs k times, k the scan's counter: a trip count fixed by non-linear state
    def step(c, z):
        k, v = c
        _, w = lax.while_loop(lambda d: d[0] < k, lambda d: (d[0] + 1, 2.0 * d[1] + v), (0, z))
        return (k + 1, v + w), w
    return lambda x: lax.scan(step, (0, x[0]), x[1:])[1]


def _checkpoint_and_jit_in_scan(b):
    w = b.asarray(_W)
    inner = ft.checkpoint(lambda c: fnp.matmul(w, c) - c)
    jitted = ft.jit(lambda c, z: c + 2.0 * z)
    return lambda x: lax.scan(lambda c, z: (jitted(inner(c), z), c), x[:3],
                              fnp.reshape(x[3:], (3, 3)))[1]


def _custom_in_scan(b):
    @ft.custom_jvp
    def double(v):
        return 2.0 * v

    @double.defjvp
    def _(p, t):
        return double(p[0]), 2.0 * t[0]

    @ft.custom_vjp
    def triple(v):
        return 3.0 * v
    triple.defvjp(lambda v: (3.0 * v, None), lambda _, g: (3.0 * g,))
    return lambda x: lax.scan(lambda c, z: (double(c) + triple(z), c), x[0], x[1:])[1]


CASES = {
    "cumulative sum": (5, lambda b: lambda x: lax.scan(lambda c, z: (c + z, c + z), 0.0, x)[1]),
    "the brief's scan": (4, lambda b: lambda x: lax.scan(lambda c, z: (2 * z + c, 3 * c),
                                                          fnp.zeros_like(x[0]), x)[1]),
    "linear recurrence": (9, _recurrence),
    "reverse=True": (5, lambda b: lambda x: _flat(lax.scan(
        lambda c, z: (0.5 * c + z, c - z), x[0], x[1:], reverse=True))),
    "several carries, pytrees": (21, _several_carries),
    "xs=None, length, const": (3, lambda b: lambda x: lax.scan(
        lambda c, _: (x + fnp.flip(c), c), fnp.zeros_like(x), length=4)[1]),
    "fori_loop, static bounds": (3, _fori_counter),
    "map": (6, lambda b: lambda x: lax.map(lambda r: fnp.cumulative_sum(r) * 2.0,
                                           fnp.reshape(x, (2, 3)))),
    "nested scans": (6, lambda b: lambda x: lax.scan(
        lambda c, r: (c + lax.scan(lambda d, z: (d + z, d), 0.0, r)[0], c),
        0.0, fnp.reshape(x, (3, 2)))[1]),
    "cond in a scan": (5, _cond_in_scan),
    "switch in a scan": (10, _switch_in_scan),
    "while_loop in a scan": (4, _while_in_scan),
    "checkpoint and jit in a scan": (12, _checkpoint_and_jit_in_scan),
    "custom_jvp, custom_vjp in a scan": (4, _custom_in_scan),
    "jitted scan": (4, lambda b: ft.jit(lambda x: lax.scan(
        lambda c, z: (c - z, 2 * c), 1.0, x)[1])),
    "dead non-linear y": (4, lambda b: lambda x: lax.scan(
        lambda c, z: (c + z, fnp.sin(c)), 0.0, x)[0][None]),
}


@pytest.mark.parametrize("name", list(CASES))
def test_transpose_is_the_jacobians_transpose(backend, name):
    n, make = CASES[name]
    _check_matrix(backend, make(backend), n)


def test_fori_loop_with_traced_bounds_and_an_outer_traced_index():
    x = np.array([1.0, -2.0, 0.5])
    ct = np.array([0.5, 1.0, 2.0])

    @ft.jit
    def looped(n, ct):  # n is abstract: the loop is a while equation in the staged graph
        return ft.linear_transpose(lambda v: lax.fori_loop(0, n, lambda i, c: 2.0 * c + v, v),
                                   x)(ct)[0]

    for n in (0, 3):
        np.testing.assert_allclose(looped(np.array(n), ct), (2.0 ** (n + 1) - 1) * ct)

    @ft.jit
    def chosen(i, ct):  # an index from outside the function: a cond equation, not linear in v
        branches = [lambda a: 2.0 * a, lambda a: -a, lambda a: fnp.flip(a)]
        return ft.linear_transpose(lambda v: lax.switch(i, branches, v), x)(ct)[0]

    np.testing.assert_allclose(chosen(np.array(0), ct), 2.0 * ct)
    np.testing.assert_allclose(chosen(np.array(2), ct), ct[::-1])
    np.testing.assert_allclose(chosen(np.array(1), ct), -ct)


def test_eager_conditions_and_pytree_inputs():
    def f(t):  # concrete predicates: Python's if and while, nothing staged
        v = lax.cond(True, lambda a: 2.0 * a, lambda a: fnp.sin(a), t["a"])
        _, w = lax.while_loop(lambda d: d[0] < 3, lambda d: (d[0] + 1, d[1] - v), (0, t["b"]))
        return {"v": v, "w": lax.fori_loop(0, 2, lambda i, c: c + t["a"], w)}

    t = {"a": np.array([1.0, 2.0]), "b": np.array([3.0, 4.0])}
    u = {"v": np.array([0.5, -1.0]), "w": np.array([2.0, 1.0])}
    (got,) = ft.linear_transpose(f, t)(u)
    np.testing.assert_allclose(got["a"], 2.0 * u["v"] - 6.0 * u["w"] + 2.0 * u["w"])
    np.testing.assert_allclose(got["b"], u["w"])


def test_complex_inputs_match_the_matrix_and_jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy
    c = 0.3 - 1.2j

    def f(x, np_=fnp, lax_=lax):
        return lax_.scan(lambda s, z: (c * s + np_.conj(z), s - 1j * z), x[0], x[1:])[1]

    x = RNG.normal(size=4) + 1j * RNG.normal(size=4)
    ct = RNG.normal(size=3) + 1j * RNG.normal(size=3)
    (got,) = ft.linear_transpose(f, x)(ct)
    want = jax.linear_transpose(lambda v: f(v, jnp, jax.lax), jnp.asarray(x))(jnp.asarray(ct))
    np.testing.assert_allclose(got, np.asarray(want[0]), rtol=1e-12)

    def g(x):  # complex-linear: the matrix is f's on the basis, transposed (not conjugated)
        return lax.scan(lambda s, z: (c * s + z, (2 - 1j) * s), 0j, x)[1]

    basis = np.eye(4, dtype=complex)
    mat = np.stack([np.asarray(g(e)) for e in basis], axis=1)
    ct = RNG.normal(size=4) + 1j * RNG.normal(size=4)
    np.testing.assert_allclose(ft.linear_transpose(g, x)(ct)[0], mat.T @ ct, rtol=1e-12)


JAX_CASES = {
    "cumulative sum, reverse": lambda L, np_: lambda x: L.scan(
        lambda c, z: (c + z, 2 * c), 0.0, x, reverse=True)[1],
    "fori_loop": lambda L, np_: lambda x: L.fori_loop(0, 3, lambda i, c: np_.roll(c, 1) + x, x),
    "cond on the counter": lambda L, np_: lambda x: L.scan(
        lambda c, z: ((c[0] + 1, L.cond(c[0] > 1, lambda u: u - z, lambda u: 3.0 * u, c[1])),
                      c[1]), (0, x[0]), x[1:])[1],
    "map": lambda L, np_: lambda x: L.map(lambda r: np_.flip(r) - r[0], np_.reshape(x, (2, 2))),
}


@pytest.mark.parametrize("name", list(JAX_CASES))
def test_matches_jax_linear_transpose(name):
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    x = RNG.normal(size=4)
    f, jf = JAX_CASES[name](lax, fnp), JAX_CASES[name](jax.lax, jax.numpy)
    ct = RNG.normal(size=np.shape(f(x)))
    want = jax.linear_transpose(jf, jax.numpy.asarray(x))(jax.numpy.asarray(ct))[0]
    np.testing.assert_allclose(ft.linear_transpose(f, x)(ct)[0], np.asarray(want), rtol=1e-12)


# -- refused -----------------------------------------------------------------------------------

@ft.custom_jvp
def _csin(v):
    return fnp.sin(v)


@_csin.defjvp
def _csin_jvp(p, t):
    return _csin(p[0]), fnp.cos(p[0]) * t[0]


NONLINEAR = {
    "sin in a body": (lambda x: lax.scan(lambda c, z: (c + fnp.sin(z), c), 0.0, x)[1],
                      r"equation 1 \(scan\): its body's equation \d+ \(sin\) is not linear"),
    "carry * carry": (lambda x: lax.scan(lambda c, z: (c * c + z, c), 0.0, x)[1],
                      r"equation 1 \(scan\): its body's equation \d+ \(mul\) multiplies two"),
    "const * carry": (lambda x: lax.scan(lambda c, _: (c * x, c), x, length=2)[1],
                      r"\(scan\): its body's equation \d+ \(mul\) multiplies two"),
    "x a divisor in a body": (lambda x: lax.fori_loop(0, 3, lambda i, c: c / x, x),
                              r"\(scan\): its body's equation \d+ \(div\) uses a value .* "
                              r"as a coefficient"),
    "integer output": (lambda x: lax.scan(lambda c, z: (c + z, fnp.astype(z, fnp.int64)),
                                          0.0, x)[1] * 1.0,
                       r"\(scan\): its body's equation \d+ \(convert_element_type\) gives a "
                       r"int64 result"),
    "cond on the carry": (lambda x: lax.scan(
        lambda c, z: (lax.cond(c > 0, lambda u: u, lambda u: -u, c + z), c), 0.0, x)[1],
        r"\(scan\): its body's equation \d+ \(gt\) is not linear"),
    "while on the carry": (lambda x: lax.scan(lambda c, z: (c, lax.while_loop(
        lambda d: d < 10.0, lambda d: 2.0 * d, z)), 0.0, x)[1],
        r"\(scan\): its body's equation \d+ \(while\): its predicate depends on the inputs "
        r"\(its cond_fun equation \d+ \(lt\)\)"),
    "sin in a checkpoint in a body": (lambda x: lax.scan(
        lambda c, z: (ft.checkpoint(fnp.sin)(c) + z, c), 0.0, x)[1],
        r"\(scan\): its body's equation \d+ \(checkpoint_call\): its function's equation \d+ "
        r"\(sin\)"),
    "sin in a custom_jvp in a body": (lambda x: lax.scan(
        lambda c, z: (_csin(c) + z, c), 0.0, x)[1],
        r"\(scan\): its body's equation \d+ \(custom_jvp_call\): its function's equation \d+ "
        r"\(sin\)"),
    "sin in a cond branch": (lambda x: lax.scan(lambda c, z: ((c[0] + 1, lax.cond(
        c[0] > 1, lambda u: fnp.sin(u), lambda u: u, c[1] + z)), c[1]), (0, 0.0), x)[1],
        r"\(scan\): its body's equation \d+ \(cond\): its branch 1's equation \d+ \(sin\)"),
    "sin in a while body": (lambda x: lax.scan(lambda c, z: ((c[0] + 1, lax.while_loop(
        lambda d: d[0] < c[0], lambda d: (d[0] + 1, fnp.sin(d[1])), (0, z))[1]), c[1]),
        (0, 0.0), x)[1],
        r"\(scan\): its body's equation \d+ \(while\): its body's equation \d+ \(sin\)"),
    "a carry made non-linear later": (lambda x: lax.scan(
        lambda c, z: ((c[1] * c[0], c[1] + z), c[0]), (1.0, 0.0), x)[1],
        r"\(scan\): its body's equation \d+ \(mul\) multiplies two"),
}


@pytest.mark.parametrize("name", list(NONLINEAR))
def test_non_linear_control_flow_is_refused(name):
    f, match = NONLINEAR[name]
    with pytest.raises(TypeError, match="linear_transpose of <lambda>: " + ".*" + match):
        ft.linear_transpose(f, np.arange(1.0, 5.0))


def test_an_eager_call_is_refused_clearly():
    # the backward pass of a while_loop with an abstract predicate runs eagerly (eager_call):
    # a Python function the check cannot look into
    def f(x):
        def step(c, z):
            k = c + 1
            pull = ft.vjp(lambda y: lax.while_loop(lambda d: d[0] < k, lambda d: (d[0] + 1,
                                                                                  2.0 * d[1]),
                                                   (0, y))[1], 1.0)[1]
            return k, pull(z)[0]
        return lax.scan(step, 0, x)[1]
    with pytest.raises(TypeError, match=r"\(scan\): its body's equation \d+ \(eager_call\) "
                                        r"runs a Python function"):
        ft.linear_transpose(f, np.arange(1.0, 4.0))


@pytest.mark.parametrize("f", [lambda v: fnp.tensordot(v, v, 0), lambda v: fnp.inner(v, v),
                               lambda v: fnp.dot(fnp.reshape(v, (1, 1, 3)), v)])
def test_a_contraction_of_the_input_with_itself_is_refused(f):
    x = np.arange(3.0)
    with pytest.raises(TypeError, match="not linear"):
        ft.linear_transpose(f, x)


def test_a_contraction_with_a_constant_transposes():
    x, m = np.arange(3.0), np.arange(12.0).reshape(3, 4)
    ct = np.ones(4)
    (got,) = ft.linear_transpose(lambda v: fnp.tensordot(v, m, 1), x)(ct)
    np.testing.assert_allclose(got, m @ ct)
