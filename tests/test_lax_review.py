"""Adversarial review of functrans.lax: transforms nested in every order around cond, switch,
scan, fori_loop and while_loop, checked against the same function written with Python control
flow; carries, backends, dtypes, vmap's per-member semantics and error messages. The tests
marked "regression" failed before the fix beside them in functrans/control_flow.py."""

import warnings

import numpy as np
import pytest

import functrans as ft
import functrans.lax as lax
import functrans.numpy as fnp
from functrans.tree import tree_flatten

# -- the same functions with lax and with Python's control flow --------------------------------

W = np.array([[0.5, -0.3], [0.2, 0.4]])
XS = np.array([0.1, 0.2, -0.3, 0.5])


def cond_lax(x):
    return lax.cond(fnp.sum(x) > 0, lambda x: fnp.sum(fnp.sin(x) * x ** 2),
                    lambda x: fnp.sum(fnp.cos(x) * x), x)


def cond_py(x):
    return fnp.sum(fnp.sin(x) * x ** 2) if fnp.sum(x) > 0 else fnp.sum(fnp.cos(x) * x)


def switch_lax(x):
    i = fnp.astype(fnp.sum(x) > 0, fnp.int32) * 5 - 2     # -2 or 3: clamped to 0 or 2
    return lax.switch(i, [lambda x: fnp.sum(x ** 3), lambda x: fnp.sum(x),
                          lambda x: fnp.sum(fnp.exp(x) * x)], x)


def switch_py(x):
    return fnp.sum(fnp.exp(x) * x) if fnp.sum(x) > 0 else fnp.sum(x ** 3)


def scan_lax(x, reverse=False):
    def body(c, a):
        c2 = fnp.tanh(W @ c + a * x[0])
        return c2, fnp.sum(c2 * a)
    c, ys = lax.scan(body, x, XS, reverse=reverse)
    return fnp.sum(c ** 2) + fnp.sum(ys ** 2 * np.arange(1.0, 5.0))


def scan_py(x, reverse=False):
    c, ys = x, [None] * 4
    for i in (range(3, -1, -1) if reverse else range(4)):
        c = fnp.tanh(W @ c + XS[i] * x[0])
        ys[i] = fnp.sum(c * XS[i])
    return fnp.sum(c ** 2) + fnp.sum(fnp.stack(ys) ** 2 * np.arange(1.0, 5.0))


def fori_lax(x):
    return fnp.sum(lax.fori_loop(1, 4, lambda i, c: fnp.tanh(W @ c + i * x[0]), x) ** 2)


def fori_py(x):
    c = x
    for i in range(1, 4):
        c = fnp.tanh(W @ c + i * x[0])
    return fnp.sum(c ** 2)


PAIRS = {
    "cond": (cond_lax, cond_py),
    "switch": (switch_lax, switch_py),
    "scan": (scan_lax, scan_py),
    "scan_reverse": (lambda x: scan_lax(x, True), lambda x: scan_py(x, True)),
    "fori_loop": (fori_lax, fori_py),
}

V = np.array([1.0, -0.5])
NESTINGS = {
    "jit(hessian)": lambda f: ft.jit(ft.hessian(f)),
    "hessian(jit)": lambda f: ft.hessian(ft.jit(f)),
    "jacrev(jit(grad))": lambda f: ft.jacrev(ft.jit(ft.grad(f))),
    "jit(jacfwd(jacrev))": lambda f: ft.jit(ft.jacfwd(ft.jacrev(f))),
    "jit(hvp)": lambda f: ft.jit(lambda x: ft.hvp(f, (x,), (V,))),
    "jit(linearize(grad))": lambda f: ft.jit(lambda x: ft.linearize(ft.grad(f), x)[1](V)),
}


@pytest.mark.parametrize("name", list(PAIRS))
@pytest.mark.parametrize("nesting", list(NESTINGS))
def test_second_order_nestings_match_python(name, nesting):
    f, ref = PAIRS[name]
    for x in (np.array([0.3, -0.1]), np.array([-0.3, 0.1])):   # both branches
        h = ft.hessian(ref)(x)
        expected = h if "hvp" not in nesting and "linearize" not in nesting else h @ V
        np.testing.assert_allclose(NESTINGS[nesting](f)(x), expected, rtol=1e-10, atol=1e-12)


BATCHED = {
    "vmap(grad)": lambda f: ft.vmap(ft.grad(f)),
    "jit(vmap(grad))": lambda f: ft.jit(ft.vmap(ft.grad(f))),
    "vmap(jit(grad))": lambda f: ft.vmap(ft.jit(ft.grad(f))),
    "grad(sum(vmap))": lambda f: ft.grad(lambda X: fnp.sum(ft.vmap(f)(X))),
    "jit(grad(sum(vmap)))": lambda f: ft.jit(ft.grad(lambda X: fnp.sum(ft.vmap(f)(X)))),
}


@pytest.mark.parametrize("name", list(PAIRS))
@pytest.mark.parametrize("nesting", list(BATCHED))
def test_batched_gradients_match_python(name, nesting):
    f, ref = PAIRS[name]
    X = np.array([[0.3, -0.1], [-0.3, 0.1], [0.6, 0.2]])   # members take different branches
    expected = np.stack([ft.grad(ref)(x) for x in X])
    np.testing.assert_allclose(BATCHED[nesting](f)(X), expected, rtol=1e-10, atol=1e-12)


def test_vmap_vmap_cond_matches_python():
    f, ref = PAIRS["cond"]
    XX = np.array([[[0.3, -0.1], [-0.3, 0.1]], [[0.6, 0.2], [-0.6, -0.2]]])
    expected = np.array([[ft.grad(ref)(x) for x in row] for row in XX])
    np.testing.assert_allclose(ft.vmap(ft.vmap(ft.grad(f)))(XX), expected, rtol=1e-12)
    np.testing.assert_allclose(ft.jit(ft.vmap(ft.vmap(ft.grad(f))))(XX), expected, rtol=1e-12)


# -- regression: the branch or step a member did not take reaches no derivative under vmap ----

def sqrt_or_neg(x):
    return lax.cond(x > 0, fnp.sqrt, lambda x: -x, x)


def sqrt_steps(x):  # a member whose loop has ended must not take another sqrt(c - 1)
    return lax.while_loop(lambda c: c > 1.0, lambda c: fnp.sqrt(c - 1.0), x)


X4 = np.array([4.0, -1.0, 0.0, 9.0])
XW = np.array([0.5, 10.0, 100.0, 1.5])


def _no_warnings(fun, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # sqrt of a negative number would warn
        return fun(*args)


def test_regression_grad_of_vmapped_while_has_no_nan():
    # The recommended reverse mode of a vmapped while_loop (grad of the sum of vmap) gave nan
    # for members that stopped early: the body ran on them and where's derivative multiplied
    # its infinite slope by zero.
    expected = [ft.grad(sqrt_steps)(x) for x in XW]
    got = _no_warnings(ft.grad(lambda X: fnp.sum(ft.vmap(sqrt_steps)(X))), XW)
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    vals = _no_warnings(ft.vmap(sqrt_steps), XW)
    np.testing.assert_allclose(vals, [sqrt_steps(x) for x in XW], rtol=1e-12)


@pytest.mark.parametrize("nesting", ["grad(vmap(vmap))", "vmap(grad(vmap))", "values"])
def test_regression_vmap_of_vmap_cond_runs_each_branch_on_its_members(nesting):
    # Inside another vmap, the index was abstract to the inner batching rule, which then ran
    # every branch on every member: sqrt of the negative members, nan in the gradient.
    XX = np.stack([X4, -X4])
    f = ft.vmap(ft.vmap(sqrt_or_neg))
    if nesting == "values":
        got, expected = _no_warnings(f, XX), [[float(sqrt_or_neg(x)) for x in r] for r in XX]
    else:
        g = (ft.grad(lambda X: fnp.sum(f(X))) if nesting == "grad(vmap(vmap))" else
             ft.vmap(ft.grad(lambda X: fnp.sum(ft.vmap(sqrt_or_neg)(X)))))
        got, expected = _no_warnings(g, XX), [[ft.grad(sqrt_or_neg)(x) for x in r] for r in XX]
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_regression_vmap_of_vmap_while_gradient():
    XX = np.stack([XW, XW[::-1] * 3])
    got = _no_warnings(ft.grad(lambda X: fnp.sum(ft.vmap(ft.vmap(sqrt_steps))(X))), XX)
    np.testing.assert_allclose(got, [[ft.grad(sqrt_steps)(x) for x in r] for r in XX],
                               rtol=1e-12)


def test_under_jit_every_branch_runs_as_documented():
    # jit cannot split the batch: every branch runs on every member, then a where-like
    # selection; the members that do not take a branch have their derivatives cut before it
    # (session 43; was nan in the reverse-mode gradient, as JAX's select without its
    # stop_gradient), so no nan of the branch not taken reaches the gradient.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = ft.jit(ft.vmap(ft.grad(sqrt_or_neg)))(X4)
    np.testing.assert_allclose(g, [0.25, -1.0, -1.0, 1 / 6])   # forward-mode-like: no nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = ft.jit(ft.grad(lambda X: fnp.sum(ft.vmap(sqrt_or_neg)(X))))(X4)
    np.testing.assert_allclose(g, [0.25, -1.0, -1.0, 1 / 6])


def test_regression_vmap_cond_over_an_empty_batch():
    # The members grouped by branch: no group at all crashed (concat of nothing).
    e = np.zeros((0,))
    out = ft.vmap(lambda x: lax.cond(x > 0, lambda x: (x, 1), lambda x: (x * 2, 2), x))(e)
    assert out[0].shape == (0,) and out[1].shape == (0,) and out[1].dtype == np.int64
    assert ft.vmap(ft.vmap(sqrt_or_neg))(np.zeros((3, 0))).shape == (3, 0)
    assert ft.vmap(ft.vmap(sqrt_steps))(np.zeros((3, 0))).shape == (3, 0)


@pytest.mark.parametrize("how", ["vmap", "jit(vmap)"])
def test_while_per_member_trip_counts(how):
    def newton(a):
        return lax.while_loop(lambda c: fnp.abs(c[0] ** 2 - a) > 1e-10,
                              lambda c: (0.5 * (c[0] + a / c[0]), c[1] + 1), (a, 0))

    def newton_py(a):
        x, n = a, 0
        while abs(x * x - a) > 1e-10:
            x, n = 0.5 * (x + a / x), n + 1
        return x, n
    A = np.array([1.0, 4.0, 100.0, 1e4])
    f = ft.vmap(newton) if how == "vmap" else ft.jit(ft.vmap(newton))
    x, n = f(A)
    np.testing.assert_allclose(x, np.sqrt(A), rtol=1e-12)
    assert n.tolist() == [newton_py(float(a))[1] for a in A]
    # forward mode through the batched loop: each member's own derivative
    d = ft.vmap(lambda a: ft.jvp(lambda a: newton(a)[0], (a,), (1.0,))[1])(A)
    np.testing.assert_allclose(d, [ft.grad(lambda a: newton(a)[0])(a) for a in A], rtol=1e-12)


@pytest.mark.parametrize("how", ["jit(grad)", "vmap(grad)", "jit(hessian)"])
def test_reverse_mode_of_abstract_while(how):
    f = lambda x: lax.while_loop(lambda c: c < 10.0, lambda c: c * 1.5, x)  # noqa: E731
    g = {"jit(grad)": ft.jit(ft.grad(f)), "vmap(grad)": ft.vmap(ft.grad(f)),
         "jit(hessian)": ft.jit(ft.hessian(f))}[how]
    x = np.array([1.0, 2.0]) if how == "vmap(grad)" else np.array(1.0)
    want = {"jit(grad)": 1.5 ** 6, "vmap(grad)": [1.5 ** 6, 1.5 ** 4], "jit(hessian)": 0.0}[how]
    np.testing.assert_allclose(g(x), want)


# -- carries: pytrees, Python numbers, zero lengths, dtypes --------------------------------------

def _leaves(tree):
    return tree_flatten(tree)[0]


def test_pytree_carry_with_none_ints_bools_matches_eager():
    def body(c, x):
        return ({"a": c["a"] * x + 1.0, "n": c["n"] + 1, "flag": c["flag"] | (x > 1),
                 "z": None, "t": (c["t"][0] + x,)},
                {"y": c["a"] * 2, "none": None, "i": c["n"]})
    init = {"a": 0.5, "n": 0, "flag": False, "z": None, "t": (0.0,)}
    xs = np.array([0.5, 2.0, 1.5])
    e, j = lax.scan(body, init, xs), ft.jit(lambda xs: lax.scan(body, init, xs))(xs)
    assert tree_flatten(e)[1] == tree_flatten(j)[1]
    for a, b in zip(_leaves(e), _leaves(j)):
        assert np.asarray(a).dtype == b.dtype
        np.testing.assert_array_equal(a, b)

    def loss(xs):
        c, ys = lax.scan(body, init, xs)
        return c["a"] + fnp.sum(ys["y"]) + c["t"][0]
    g = ft.grad(loss)(xs)
    np.testing.assert_allclose(ft.jit(ft.grad(loss))(xs), g)
    np.testing.assert_allclose(ft.grad(ft.jit(loss))(xs), g)


@pytest.mark.parametrize("transform", ["eager", "jit", "grad", "jit(grad)", "vmap"])
def test_zero_length_scan(transform):
    def f(x):
        c, ys = lax.scan(lambda c, a: (c * a, c + a), x, np.zeros((0,)))
        return c + fnp.sum(ys)
    run = {"eager": f, "jit": ft.jit(f), "grad": ft.grad(f), "jit(grad)": ft.jit(ft.grad(f)),
           "vmap": ft.vmap(f)}[transform]
    out = run(np.array([1.5, 2.0]) if transform == "vmap" else 1.5)
    expected = {"grad": 1.0, "jit(grad)": 1.0, "vmap": [1.5, 2.0]}.get(transform, 1.5)
    np.testing.assert_allclose(out, expected)


@pytest.mark.parametrize("length", [0, 2])
@pytest.mark.parametrize("transform", ["eager", "jit", "vmap", "jvp"])
def test_regression_python_number_carry_dtype_of_zero_length_scan(length, transform):
    # A Python 0.0 carry in a scan of float32 xs: float32 eagerly and under jit for any
    # length (eagerly with length 0 it was float64, and so were the ys).
    x32 = np.array([0.5, 1.0], dtype=np.float32)[:length]

    def f(x):
        return lax.scan(lambda c, a: (c + a, c * a), 0.0, x)
    if transform == "vmap":
        out = ft.vmap(f)(np.stack([x32, x32]))
    elif transform == "jvp":
        out = ft.jvp(f, (x32,), (np.ones_like(x32),))[1]
    else:
        out = (f if transform == "eager" else ft.jit(f))(x32)
    assert [str(a.dtype) for a in _leaves(out)] == ["float32", "float32"]


def test_scan_without_xs_and_reverse():
    f = lambda c: lax.scan(lambda c, _: (c * c, c), c, length=3)  # noqa: E731
    for g in (f, ft.jit(f)):
        c, ys = g(1.5)
        np.testing.assert_allclose(ys, [1.5, 2.25, 1.5 ** 4])
    np.testing.assert_allclose(ft.jit(ft.grad(lambda c: fnp.sum(f(c)[1])))(1.5),
                               1 + 3 + 4 * 1.5 ** 3)
    xs = np.array([2.0, 3.0, 4.0])

    def h(xs):
        return fnp.sum(lax.scan(lambda c, a: (c + a, c * a), 1.0, xs, reverse=True)[1])
    np.testing.assert_allclose(ft.grad(h)(xs), [8.0, 7.0, 6.0])
    np.testing.assert_allclose(ft.jit(ft.grad(h))(xs), [8.0, 7.0, 6.0])


def test_int_and_bool_carries_beside_floats():
    def f(x):
        def body(c, a):
            v, k, flag = c
            return (v * a, k + 1, fnp.logical_or(flag, a > 1.0)), v
        return lax.scan(body, (x, 0, False), np.array([0.5, 2.0, 3.0]))
    for g in (f, ft.jit(f)):
        (v, k, flag), ys = g(1.0)
        assert (float(v), int(k), bool(flag)) == (3.0, 3, True)
        assert k.dtype.kind == "i" and flag.dtype == np.bool_
    loss = lambda x: f(x)[0][0] + fnp.sum(f(x)[1])  # noqa: E731
    assert float(ft.jit(ft.grad(loss))(1.0)) == 5.5
    np.testing.assert_allclose(ft.vmap(ft.grad(loss))(np.array([1.0, 2.0])), [5.5, 5.5])


def test_closure_over_an_outer_parameter_used_only_inside():
    def loss(w, x):
        c = lax.fori_loop(0, 3, lambda i, c: fnp.tanh(w * c + 0.1), x)
        s, _ = lax.scan(lambda c, a: (c + w * a, None), 0.0, np.array([1.0, 2.0, 3.0]))
        k = lax.cond(x > 0, lambda: w ** 2, lambda: w ** 3)
        p = lax.while_loop(lambda c: c[1] < 2, lambda c: (c[0] * w, c[1] + 1), (1.0, 0))[0]
        return c + s + k + p

    def loss_py(w, x):
        c = x
        for _ in range(3):
            c = fnp.tanh(w * c + 0.1)
        return c + 6.0 * w + (w ** 2 if x > 0 else w ** 3) + w * w
    for x in (0.5, -0.5):
        np.testing.assert_allclose(ft.jit(ft.grad(loss))(0.7, x), ft.grad(loss_py)(0.7, x))
        np.testing.assert_allclose(ft.jit(ft.hessian(loss))(0.7, x),
                                   ft.hessian(loss_py)(0.7, x))
    X = np.array([0.5, -0.5, 0.2])
    np.testing.assert_allclose(
        ft.jit(ft.grad(lambda w: fnp.sum(ft.vmap(lambda x: loss(w, x))(X))))(0.7),
        sum(ft.grad(loss_py)(0.7, x) for x in X))


# -- switch: clamping and branch counts --------------------------------------------------------

BRANCHES = [lambda x: x * 1.0, lambda x: x ** 2, fnp.sin, fnp.exp]


@pytest.mark.parametrize("how", ["vmap", "jit(vmap)", "vmap(grad)", "jit(vmap(grad))"])
def test_switch_clamps_under_vmap_and_jit(how):
    idx = np.array([-5, 0, 1, 2, 3, 4, 100])
    xs = np.linspace(0.1, 0.7, 7)
    f = lambda i, x: lax.switch(i, BRANCHES, x)  # noqa: E731
    if "grad" in how:
        f = ft.grad(f, argnums=1)
        expected = [1.0, 1.0, 2 * xs[2], np.cos(xs[3]), np.exp(xs[4]), np.exp(xs[5]),
                    np.exp(xs[6])]
    else:
        expected = [xs[0], xs[1], xs[2] ** 2, np.sin(xs[3]), np.exp(xs[4]), np.exp(xs[5]),
                    np.exp(xs[6])]
    g = ft.vmap(f) if how in ("vmap", "vmap(grad)") else ft.jit(ft.vmap(f))
    np.testing.assert_allclose(g(idx, xs), expected, rtol=1e-12)


def test_switch_with_one_branch():
    idx, xs = np.array([-3, 0, 9]), np.array([0.1, 0.2, 0.3])
    f = lambda i, x: lax.switch(i, [fnp.sin], x)  # noqa: E731
    np.testing.assert_allclose(ft.vmap(f)(idx, xs), np.sin(xs))
    np.testing.assert_allclose(ft.jit(ft.vmap(ft.grad(f, argnums=1)))(idx, xs), np.cos(xs))
    np.testing.assert_allclose(ft.jit(f)(np.array(7), 0.5), np.sin(0.5))


# -- custom rules and checkpoint inside ----------------------------------------------------------

@ft.custom_jvp
def sin10(x):
    return fnp.sin(x)


@sin10.defjvp
def _sin10_jvp(primals, tangents):
    return fnp.sin(primals[0]), 10.0 * tangents[0]   # a rule that is easy to tell apart


@ft.custom_vjp
def cos7(x):
    return fnp.cos(x)


cos7.defvjp(lambda x: (fnp.cos(x), x), lambda x, g: (7.0 * g,))


@pytest.mark.parametrize("how", ["grad", "jit(grad)", "grad(jit)", "vmap(grad)",
                                 "jit(vmap(grad))"])
def test_custom_rules_inside_branches_and_bodies(how):
    fc = lambda x: lax.cond(x > 0, lambda x: sin10(x) * 2, lambda x: cos7(x) * 3, x)  # noqa: E731
    fs = lambda x: lax.scan(lambda c, _: (cos7(sin10(c)), c), x, length=2)[0]  # noqa: E731
    t = {"grad": ft.grad, "jit(grad)": lambda f: ft.jit(ft.grad(f)),
         "grad(jit)": lambda f: ft.grad(ft.jit(f)), "vmap(grad)": lambda f: ft.vmap(ft.grad(f)),
         "jit(vmap(grad))": lambda f: ft.jit(ft.vmap(ft.grad(f)))}[how]
    x = np.array([0.5, -0.5]) if "vmap" in how else None
    if x is None:
        assert float(t(fc)(0.5)) == 20.0 and float(t(fc)(-0.5)) == 21.0
        assert float(t(fs)(0.3)) == 4900.0
    else:
        np.testing.assert_array_equal(t(fc)(x), [20.0, 21.0])
        np.testing.assert_array_equal(t(fs)(x), [4900.0, 4900.0])


@pytest.mark.parametrize("where", ["checkpoint in the body", "scan in checkpoint"])
def test_checkpoint_and_scan(where):
    body = lambda c, a: (fnp.tanh(W @ c + a), fnp.sum(c))  # noqa: E731
    f = lambda b: lambda x: (lambda r: fnp.sum(r[0]) + fnp.sum(r[1] ** 2))(  # noqa: E731
        lax.scan(b, x, np.ones((4, 2))))
    ref = f(body)
    g = f(ft.checkpoint(body)) if where == "checkpoint in the body" else ft.checkpoint(ref)
    x = np.array([0.1, -0.2])
    np.testing.assert_allclose(ft.jit(ft.grad(g))(x), ft.grad(ref)(x), rtol=1e-12)
    np.testing.assert_allclose(ft.jit(ft.hessian(g))(x), ft.hessian(ref)(x), rtol=1e-12)
    np.testing.assert_allclose(ft.vmap(ft.grad(g))(np.stack([x, -x])),
                               np.stack([ft.grad(ref)(x), ft.grad(ref)(-x)]), rtol=1e-12)


# -- complex -------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["cond", "scan", "fori_loop"])
def test_complex_holomorphic_and_real_valued_gradients(name):
    f = {"cond": lambda z: lax.cond(fnp.real(z) > 0, lambda z: z ** 2 * fnp.sin(z), fnp.exp, z),
         "scan": lambda z: lax.scan(lambda c, a: (c * z + a, c), z,
                                    np.array([1.0 + 0j, 2j, 0.5]))[0],
         "fori_loop": lambda z: lax.fori_loop(0, 3, lambda i, c: c * z + i, z)}[name]
    ref = {"cond": lambda z: z ** 2 * fnp.sin(z) if fnp.real(z) > 0 else fnp.exp(z),
           "scan": lambda z: ((z * z + 1.0) * z + 2j) * z + 0.5,
           "fori_loop": lambda z: ((z * z) * z + 1) * z + 2}[name]
    for z in (np.array(0.3 + 0.4j), np.array(-0.3 - 0.4j)):
        np.testing.assert_allclose(ft.jit(ft.grad(f, holomorphic=True))(z),
                                   ft.grad(ref, holomorphic=True)(z), rtol=1e-12)
        r = lambda g: lambda z: fnp.abs(g(z)) ** 2  # noqa: E731
        np.testing.assert_allclose(ft.jit(ft.grad(r(f)))(z), ft.grad(r(ref))(z), rtol=1e-12)
        assert ft.jit(lambda z: ft.jvp(f, (z,), (np.array(1.0 + 0j),))[1])(z).dtype == \
            np.complex128


# -- backends and fresh results ------------------------------------------------------------------

def _backend_arrays():
    out = []
    try:
        import array_api_strict as xp
        out.append(pytest.param(lambda: xp.asarray([0.5, 1.0], device=xp.Device("device1")),
                                id="array_api_strict-device1"))
    except ImportError:
        pass
    try:
        import torch
        out.append(pytest.param(lambda: torch.tensor([0.5, 1.0]), id="torch-float32"))
    except ImportError:
        pass
    return out


BACKEND_FUNS = {
    "cond": lambda x: lax.cond(fnp.sum(x) > 0, fnp.sin, lambda x: x * 2.0, x),
    "switch": lambda x: lax.switch(fnp.astype(fnp.sum(x) > 0, fnp.int32) + 1,
                                   [fnp.sin, fnp.cos, lambda x: x * 2.0], x),
    "scan": lambda x: lax.scan(lambda c, a: (c + a, c * a), 0.0, x),
    "scan_len0": lambda x: lax.scan(lambda c, a: (c + a, c * a), 0.0, x[:0]),
    "fori_loop": lambda x: lax.fori_loop(0, 3, lambda i, c: c * 2.0 + i, x),
    "while_loop": lambda x: lax.while_loop(lambda c: c[1] < 3,
                                           lambda c: (c[0] * 2.0, c[1] + 1), (x, 0))[0],
}


@pytest.mark.parametrize("make", _backend_arrays())
@pytest.mark.parametrize("name", list(BACKEND_FUNS))
def test_results_stay_on_the_input_library_and_device(make, name):
    x = make()
    f = BACKEND_FUNS[name]
    X = fnp.stack([x, x * -1.0])
    loss = lambda x: fnp.sum(_leaves(f(x))[0])  # noqa: E731
    results = [f(x), ft.jit(f)(x), ft.vmap(f)(X), ft.jit(ft.vmap(f))(X), ft.grad(loss)(x),
               ft.jit(ft.grad(loss))(x)]
    for r in results:
        for leaf in _leaves(r):
            assert type(leaf) is type(x)
            assert str(leaf.device) == str(x.device)
            assert leaf.dtype == x.dtype


def test_staged_results_are_fresh_arrays():
    x, X = np.array([1.0, 2.0]), np.array([[1.0, 2.0], [3.0, 4.0]])
    assert ft.jit(lambda p, x: lax.cond(p, lambda x: x, lambda x: x * 2, x))(True, x) is not x
    c, ys = ft.jit(lambda x: lax.scan(lambda c, a: (c, a), x, X))(x)
    assert not np.shares_memory(c, x) and not np.shares_memory(ys, X)
    assert ft.jit(lambda x: lax.while_loop(lambda c: False, lambda c: c, x))(x) is not x
    r = ft.jit(ft.vmap(lambda p, x: lax.cond(p, lambda x: x, lambda x: x * 2, x)))(
        np.array([True, True]), X)
    assert not np.shares_memory(r, X)
    # a constant made inside a branch or body is not shared between calls
    g = ft.jit(lambda x: lax.scan(lambda c, a: (fnp.zeros(2), a), x, x))
    g(x)[0][...] = 99.0
    np.testing.assert_array_equal(g(x)[0], [0.0, 0.0])


# -- error messages --------------------------------------------------------------------------------

def test_regression_cond_errors_name_true_fun_and_false_fun():
    # They said "branch 0" for false_fun and "branch 1" for true_fun.
    x = np.array([1.0, 2.0])
    with pytest.raises(TypeError, match=r"f64\[\] in false_fun and f64\[2\] in true_fun"):
        ft.jit(lambda x: lax.cond(x[0] > 0, lambda x: x, lambda x: x[0], x))(x)
    with pytest.raises(TypeError, match=r"false_fun returns PyTreeSpec\(\[\*, \*\]\), true_fun"):
        ft.jit(lambda x: lax.cond(x[0] > 0, lambda x: (x, x), lambda x: [x, x], x))(x)
    with pytest.raises(TypeError, match="output leaf 0 of false_fun is a str"):
        ft.jit(lambda x: lax.cond(x[0] > 0, lambda x: x, lambda x: "b", x))(x)
    with pytest.raises(TypeError, match=r"f64\[2\] in branch 0 and f64\[\] in branch 1"):
        ft.jit(lambda i: lax.switch(i, [lambda x: x, lambda x: x[0]], x))(np.array(1))


@pytest.mark.parametrize("staged", [False, True])
def test_regression_scan_f_not_returning_a_pair(staged):
    # Under jit the message itself failed: "len() of a 0-d array".
    f = lambda x: lax.scan(lambda c, a: c + a, 0.0, x)  # noqa: E731
    with pytest.raises(TypeError, match=r"f must return a pair \(carry, y\); got an array of "
                                        r"shape \(\)"):
        (ft.jit(f) if staged else f)(np.array([1.0, 2.0]))


@pytest.mark.parametrize("staged", [False, True])
def test_regression_scan_length_must_be_a_non_negative_integer(staged):
    # length=-1 failed inside (no len() of None, or stacking nothing); length=2.5 ran 2 steps.
    run = (lambda f: ft.jit(f)(0.0)) if staged else (lambda f: f(0.0))
    with pytest.raises(ValueError, match="length must not be negative; got -1"):
        run(lambda c: lax.scan(lambda c, _: (c, c), c, length=-1))
    with pytest.raises(TypeError, match="length must be an integer; got 2.5"):
        run(lambda c: lax.scan(lambda c, _: (c, c), c, length=2.5))


def test_regression_fori_loop_bound_error_shows_the_dtype():
    # It printed the tracer's repr (StagingTracer<f64[]>).
    with pytest.raises(TypeError, match=r"fori_loop's upper must be an integer; got f64\[\]\.$"):
        ft.jit(lambda n: lax.fori_loop(0, n, lambda i, c: c, 0.0))(np.array(2.0))


@pytest.mark.parametrize("call, match", [
    (lambda: lax.cond(np.array([True, False]), lambda: 1.0, lambda: 0.0),
     r"cond's predicate must be a scalar \(shape \(\)\); got shape \(2,\)"),
    (lambda: lax.cond("yes", lambda: 1.0, lambda: 0.0), "got str"),
    (lambda: lax.switch(1.0, [fnp.sin], 0.5), "switch's index must be an integer"),
    (lambda: lax.while_loop(lambda c: c[0] < 3, lambda c: fnp.concat([c, c]), np.ones(2)),
     r"leaf (\[0\]|\(the whole carry\)) is f64\[2\] in the carry, f64\[4\] as returned"),
    (lambda: ft.jit(lambda x: lax.while_loop(lambda c: c < 3, lambda c: c + 1, x))(np.ones(2)),
     r"cond_fun result must be a scalar"),
    (lambda: lax.scan(lambda c, a: (c, a), 0.0, (np.ones(2), np.ones(3))),
     "must all have the leading length 2; leaf 1 has shape"),
])
def test_error_messages(call, match):
    with pytest.raises((TypeError, ValueError), match=match):
        call()


# -- large inputs: hvp's staged path -----------------------------------------------------------

@pytest.mark.parametrize("name", ["cond", "scan"])
def test_hvp_on_large_inputs_takes_the_staged_path(name):
    rng = np.random.default_rng(0)
    n = 1 << 14
    x, v = rng.normal(size=n) * 0.5, rng.normal(size=n)
    f = {"cond": lambda x: lax.cond(fnp.sum(x) > 0, lambda x: fnp.sum(fnp.sin(x) * x ** 2),
                                    lambda x: fnp.sum(fnp.cos(x) * x), x),
         "scan": lambda x: fnp.sum(lax.scan(lambda c, a: (fnp.tanh(c * a + 0.1), fnp.sum(c)),
                                            x, np.array([0.5, -0.3, 0.8]))[0] ** 2)}[name]
    for xx in (x, -x):
        expected = ft.jvp(ft.grad(f), (xx,), (v,))[1]    # eager forward over reverse
        np.testing.assert_allclose(ft.hvp(f, (xx,), (v,)), expected, rtol=1e-10, atol=1e-12)
