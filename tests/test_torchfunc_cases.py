"""torch.func's own test topics, restated for functrans and run side by side with torch.func.

The cases follow the topics of PyTorch's test/functorch/test_eager_transforms.py (grad,
vjp, jvp, jacrev/jacfwd with argnums tuples, has_aux, chunk_size and nested outputs,
hessian, linearize, an op with its own derivative and batching rules, composition in every
order, and the worked examples: a MAML inner loop, an ensemble trained under vmap,
per-example gradients, a Lennard-Jones force fit) and the parts of test_vmap.py where
torch.func's vmap differs from JAX's (in_dims trees, out_dims, chunk_size, randomness).

Each case is written once against a namespace ``m`` (the transforms under their JAX names,
``m.vmap(f, in_axes, out_axes)``, and a few array functions) and returns a list of pairs
``(value, reference)``: the value computed through ``m``, and a reference (a closed form in
NumPy, central finite differences in float64, a loop over examples; None where the torch.func
comparison alone checks the value). Two tests run every case:

- ``test_case_matches_reference``: functrans, on every backend, against the references;
- ``test_case_matches_torch_func``: functrans (NumPy inputs) against torch.func (float64
  tensors), value for value (torch is installed in CI, so this runs there too).

Then tables, each entry checked the same two ways: elementwise operations (derivatives of
order one to three, batched tangents and cotangents), reductions and linear algebra, and
operations with axes under vmap with the batch axis in various places. The last part pins
where functrans deliberately differs from torch.func (as JAX does) and tests the torch.func
keywords functrans takes (vmap's chunk_size and randomness) or refuses with a pointer.
"""

from __future__ import annotations

import functools
import types

import numpy as np
import optree
import pytest

import functrans as ft
import functrans.numpy as fnp
import functrans.random as frandom

_RNG = [np.random.default_rng(0)]


def R(*shape):
    """Random float64 data; each run of a case draws the same sequence."""
    return _RNG[0].normal(size=shape)


# -- namespaces --------------------------------------------------------------------------------

def _common_ops(xp, name):
    """Array functions under NumPy's names for NumPy, functrans.numpy (same signatures)."""
    return dict(
        name=name, sin=xp.sin, cos=xp.cos, tan=xp.tan, exp=xp.exp, log=xp.log,
        tanh=xp.tanh, sqrt=xp.sqrt, sum=xp.sum, mean=xp.mean, stack=xp.stack,
        matmul=xp.matmul, where=xp.where, reshape=xp.reshape, transpose=xp.transpose,
        cov=xp.cov, take=xp.take, take0=lambda x, i: xp.take(x, i, axis=0),
        ones_like=xp.ones_like, squeeze=xp.squeeze, expand_dims=xp.expand_dims)


def _np_ns():
    ns = types.SimpleNamespace(**_common_ops(np, "numpy"))
    ns.arr = lambda a: np.array(a, dtype=np.float64)
    ns.iarr = lambda a: np.array(a, dtype=np.int64)
    ns.relu = lambda x: np.maximum(x, 0.0)
    ns.log_softmax = lambda x, axis=-1: x - _np_logsumexp(x, axis)
    ns.stop_gradient = lambda x: x
    ns.onehot = lambda i, n: np.eye(n)[i]
    return ns


def _np_logsumexp(x, axis=-1):
    mx = np.max(x, axis=axis, keepdims=True)
    return np.log(np.sum(np.exp(x - mx), axis=axis, keepdims=True)) + mx


def _ft(backend=None):
    ns = types.SimpleNamespace(**_common_ops(fnp, "functrans"))
    if backend is None:
        ns.arr = lambda a: np.array(a, dtype=np.float64)
        ns.iarr = lambda a: np.array(a, dtype=np.int64)
    else:
        ns.arr = lambda a: backend.asarray(a)
        ns.iarr = lambda a: backend.asarray(a, dtype="int64")
    ns.grad, ns.value_and_grad, ns.vjp, ns.jvp = ft.grad, ft.value_and_grad, ft.vjp, ft.jvp
    ns.jacrev, ns.jacfwd, ns.hessian, ns.linearize = ft.jacrev, ft.jacfwd, ft.hessian, ft.linearize
    ns.vmap, ns.jit = ft.vmap, ft.jit
    ns.relu = ft.nn.relu
    ns.log_softmax = lambda x, axis=-1: ft.nn.log_softmax(x, axis=axis)
    ns.stop_gradient = ft.stop_gradient
    ns.onehot = lambda i, n: ft.nn.one_hot(i, n, dtype=fnp.float64)
    ns.set_first = lambda a, b: a.at[:b.shape[0]].set(b)
    ns.set_even = lambda a, b: a.at[::2].set(b)
    ns.conv = lambda x, w: ft.lax.conv(x, w, (1, 1), "VALID")  # NCHW, OIHW
    ns.maxpool2 = lambda x: ft.lax.reduce_window(x, -np.inf, ft.lax.max, (1, 1, 2, 2),
                                                 (1, 1, 2, 2), "VALID")
    return ns


def _tf():
    torch = pytest.importorskip("torch")
    tfn = torch.func
    ns = types.SimpleNamespace(name="torch.func")
    ns.arr = lambda a: torch.tensor(np.asarray(a, dtype=np.float64))
    ns.iarr = lambda a: torch.tensor(np.asarray(a, dtype=np.int64))

    def dim(f):
        return lambda x, axis=None, **k: f(x, **k) if axis is None else f(x, dim=axis, **k)
    for n in ("sin", "cos", "tan", "exp", "log", "tanh", "sqrt", "where", "matmul", "ones_like",
              "cov"):
        setattr(ns, n, getattr(torch, n))
    ns.sum, ns.mean = dim(torch.sum), dim(torch.mean)
    ns.squeeze = dim(torch.squeeze)
    ns.stack = lambda xs, axis=0: torch.stack(list(xs), dim=axis)
    ns.reshape = torch.reshape
    ns.transpose = lambda x, axes=None: x.permute(*(axes or reversed(range(x.ndim))))
    ns.take = lambda x, i: torch.take(x, i)
    ns.take0 = lambda x, i: torch.index_select(x, 0, i)
    ns.expand_dims = torch.unsqueeze
    ns.relu = torch.relu
    ns.log_softmax = lambda x, axis=-1: torch.log_softmax(x, dim=axis)
    ns.stop_gradient = lambda x: x.detach()
    # (torch's one_hot reads the labels' range, which vmap refuses)
    ns.onehot = lambda i, n: (i.unsqueeze(-1) == torch.arange(n)).to(torch.float64)

    def set_first(a, b):
        a = a.clone()
        a[:b.shape[0]] = b
        return a
    ns.set_first = set_first

    def set_even(a, b):
        a = a.clone()
        a[::2] = b
        return a
    ns.set_even = set_even
    ns.conv = torch.nn.functional.conv2d
    ns.maxpool2 = lambda x: torch.nn.functional.max_pool2d(x, 2)

    def vmap(f, in_axes=0, out_axes=0, **kw):
        return tfn.vmap(f, in_dims=in_axes, out_dims=out_axes, **kw)

    def value_and_grad(f, argnums=0, has_aux=False):
        g = tfn.grad_and_value(f, argnums=argnums, has_aux=has_aux)

        def vg(*a, **k):
            gr, val = g(*a, **k)  # torch.func's order is (grad, value)
            return val, gr
        return vg

    def jacrev(f, argnums=0, has_aux=False, **kw):
        return tfn.jacrev(f, argnums, has_aux=has_aux, **kw)

    def jacfwd(f, argnums=0, has_aux=False, **kw):
        return tfn.jacfwd(f, argnums, has_aux, **kw)

    ns.grad, ns.vjp, ns.jvp, ns.hessian = tfn.grad, tfn.vjp, tfn.jvp, tfn.hessian
    ns.linearize, ns.vmap, ns.value_and_grad = tfn.linearize, vmap, value_and_grad
    ns.jacrev, ns.jacfwd = jacrev, jacfwd
    ns.jit = lambda f: f
    return ns


NP = _np_ns()


def _to_numpy(x):
    if hasattr(x, "detach"):  # a torch tensor
        return x.detach().cpu().numpy()
    if isinstance(x, (bool, int, float, complex, np.ndarray, np.generic)):
        return np.asarray(x)
    from functrans.backends import backend_of
    return np.asarray(backend_of(x).to_numpy(x))


def _same(a, b, tol=1e-9, what=""):
    la = optree.tree_leaves(a, none_is_leaf=True)
    lb = optree.tree_leaves(b, none_is_leaf=True)
    assert len(la) == len(lb), (what, len(la), len(lb))
    for k, (x, y) in enumerate(zip(la, lb)):
        x, y = _to_numpy(x), _to_numpy(y)
        assert x.shape == y.shape, (what, k, x.shape, y.shape)
        np.testing.assert_allclose(x, y, rtol=tol, atol=tol, err_msg=f"{what} leaf {k}")


def _kinds(tree):
    """The containers of a result (tuple/list/dict nesting), leaves blanked: torch.func and
    JAX agree on them, and a case checks that functrans does too."""
    return optree.tree_structure(optree.tree_map(lambda _: 0, tree, none_is_leaf=True),
                                 none_is_leaf=True)


# -- numerical references ----------------------------------------------------------------------

def fd_jac(f, x, eps=1e-6):
    """Central-difference Jacobian of a NumPy function at ``x``: shape out.shape + x.shape."""
    x = np.asarray(x, dtype=np.float64)
    out = np.asarray(f(x))
    J = np.zeros(out.shape + x.shape)
    for idx in np.ndindex(*x.shape):
        d = np.zeros_like(x)
        d[idx] = eps
        J[(Ellipsis,) + idx] = (np.asarray(f(x + d)) - np.asarray(f(x - d))) / (2 * eps)
    return J


def fd_dir(f, xs, ds, eps=1e-6):
    """Central-difference directional derivative of a scalar function of a pytree."""
    plus = optree.tree_map(lambda x, d: x + eps * d, xs, ds)
    minus = optree.tree_map(lambda x, d: x - eps * d, xs, ds)
    return (float(f(plus)) - float(f(minus))) / (2 * eps)


def tree_dot(a, b):
    return sum(float(np.sum(_to_numpy(x) * _to_numpy(y)))
               for x, y in zip(optree.tree_leaves(a), optree.tree_leaves(b)))


CASES = {}


def case(fn):
    CASES[fn.__name__] = fn
    return fn


# -- TestGradTransform ---------------------------------------------------------------------------

@case
def grad_of_a_primitive_and_nested(m):
    x = R()
    return [(m.grad(m.sin)(m.arr(x)), np.cos(x)),
            (m.grad(m.grad(m.sin))(m.arr(x)), -np.sin(x)),
            (m.grad(m.grad(m.grad(m.sin)))(m.arr(x)), -np.cos(x))]


@case
def grad_of_flatten_sum_and_matmul(m):
    x, a, b = R(2, 3, 4), R(3), R(3, 5)
    g1 = m.grad(lambda x: m.sum(m.reshape(x, (-1,))))(m.arr(x))
    g2 = m.grad(lambda a, b: m.sum(m.matmul(a, b)))(m.arr(a), m.arr(b))
    return [(g1, np.ones_like(x)), (g2, b.sum(1))]


@case
def grad_with_a_keyword_argument(m):
    x, y = R(3), R(3)
    f = lambda x, y: m.sum(x * m.sin(y))
    return [(m.grad(f)(m.arr(x), y=m.arr(y)), np.sin(y)),
            (m.grad(f)(m.arr(x), m.arr(y)), np.sin(y))]


@case
def grad_of_cross_entropy(m):
    logits, t = R(4, 5), np.array([0, 3, 1, 4])

    def loss(z, t):
        return -m.mean(m.sum(m.log_softmax(z, axis=-1) * m.onehot(t, 5), axis=-1))
    sm = np.exp(logits - _np_logsumexp(logits))
    return [(m.grad(loss)(m.arr(logits), m.iarr(t)), (sm - np.eye(5)[t]) / 4)]


@case
def vjp_of_sin_and_of_two_outputs(m):
    x, v = R(), R()
    out, fn = m.vjp(m.sin, m.arr(x))
    out2, fn2 = m.vjp(lambda x: (x, x), m.arr(1.5))
    return [(out, np.sin(x)), (fn(m.arr(v)), (v * np.cos(x),)),
            (fn2((m.arr(2.0), m.arr(3.0))), (np.array(5.0),))]


@case
def grad_and_vjp_composed(m):
    x, y = R(), R()

    def grad_of_vjp(x, y):
        _, fn = m.vjp(m.sin, x)
        return m.grad(lambda y: fn(y)[0])(y)

    def vjp_of_grad(x, y):
        _, fn = m.vjp(m.grad(m.sin), x)
        return fn(y)[0]

    def grad_of_vjp_of_grad(x, y):
        _, fn = m.vjp(m.grad(lambda x: -m.cos(x)), x)
        return m.grad(lambda y: fn(y)[0])(y)
    X, Y = m.arr(x), m.arr(y)
    return [(grad_of_vjp(X, Y), np.cos(x)), (vjp_of_grad(X, Y), -y * np.sin(x)),
            (grad_of_vjp_of_grad(X, Y), np.cos(x))]


@case
def argnums_positive_negative_and_reordered(m):
    x, y = R(), R()
    # (the differentiated argument first in each product: array-api-strict's operators raise
    # TypeError for a functrans tracer on their right, array-api-strict issue #188)
    f = lambda a, b: a * b * b if isinstance(a, ft.core.Tracer) else b * b * a
    X, Y = m.arr(x), m.arr(y)
    gx, gy = y * y, 2 * x * y
    return [(m.grad(f, argnums=0)(X, Y), gx), (m.grad(f, argnums=1)(X, Y), gy),
            (m.grad(f, argnums=(0,))(X, Y), (gx,)), (m.grad(f, argnums=(0, 1))(X, Y), (gx, gy)),
            (m.grad(f, argnums=(1, 0))(X, Y), (gy, gx)), (m.grad(f, argnums=-2)(X, Y), gx),
            (m.grad(f, argnums=-1)(X, Y), gy), (m.grad(f, argnums=(-2, -1))(X, Y), (gx, gy))]


@case
def grad_of_pytree_inputs(m):
    x = m.arr(R())

    def f(a, b):
        p, q = a
        return 1 * p + 2 * q + 3 * b["foo"]
    args = ((x, x), {"foo": x})
    return [(m.grad(f)(*args), (1.0, 2.0)),
            (m.grad(f, argnums=(0,))(*args), ((1.0, 2.0),)),
            (m.grad(f, argnums=(0, 1))(*args), ((1.0, 2.0), {"foo": 3.0}))]


@case
def grad_with_aux_tensor_and_pytree(m):
    x = R(3)
    g1, aux1 = m.grad(lambda t: (m.sum(m.sin(t)), m.cos(t)), has_aux=True)(m.arr(x))
    g2, aux2 = m.grad(lambda t: (m.sum(m.sin(t)), {"a": m.cos(t), "b": [m.tan(t)]}),
                      has_aux=True)(m.arr(x))
    assert _kinds(aux2) == _kinds({"a": 0, "b": [0]})
    return [(g1, np.cos(x)), (aux1, np.cos(x)), (g2, np.cos(x)),
            (aux2, {"a": np.cos(x), "b": [np.tan(x)]})]


@case
def value_and_grad_with_aux(m):
    x = R(3)
    (v, aux), g = m.value_and_grad(lambda t: (m.sum(t * t), m.exp(t)), has_aux=True)(m.arr(x))
    v2, g2 = m.value_and_grad(lambda a, b: m.sum(b * a), argnums=1)(m.arr(x), m.arr(2 * x))
    return [(v, np.sum(x * x)), (aux, np.exp(x)), (g, 2 * x), (v2, 2 * np.sum(x * x)), (g2, x)]


@case
def zero_grad_for_an_unused_entry_and_unrelated_outputs(m):
    a, b = R(10) + 3, R(10)
    y = m.arr(2.0)
    g = m.grad(lambda d: m.sum(d["a"] ** 2.0))({"a": m.arr(a), "b": m.arr(b)})
    g2 = m.grad(lambda x: y)(m.arr(1.0))
    _, fn = m.vjp(lambda x: y, m.arr(1.0))
    _, fn3 = m.vjp(lambda w, x: (y, y, x), m.arr(3.0), m.arr(4.0))
    v = m.arr(1.0)
    return [(g, {"a": 2 * a, "b": np.zeros(10)}), (g2, 0.0), (fn(v), (0.0,)),
            (fn3((v, v, v)), (0.0, 1.0))]


@case
def unrelated_hessian_is_zero(m):
    W = m.arr(R(5, 3))
    return [(m.jacrev(m.jacrev(lambda x: m.matmul(W, x)))(m.arr(R(3))), np.zeros((5, 3, 3)))]


@case
def vjp_of_pytree_inputs_and_outputs(m):
    x, v, v1, v2, v3 = R(), R(), R(), R(), R()
    X = m.arr(x)
    out, fn = m.vjp(lambda p: p[0] * p[1][0], (X, (X, X)))
    _, fn2 = m.vjp(lambda x: (x, (x, x)), X)
    return [(out, x * x), (fn(m.arr(v)), ((x * v, (x * v, 0.0)),)),
            (fn2((m.arr(v1), (m.arr(v2), m.arr(v3)))), (v1 + v2 + v3,))]


@case
def vjp_outputs_of_any_container(m):
    x, t = R(2, 3), R(2, 3)
    X, T = m.arr(x), m.arr(t)
    o1, f1 = m.vjp(lambda x: [x, m.sum(x)], X)
    o2, f2 = m.vjp(lambda x: {"x": x, "xsum": m.sum(x)}, X)

    def composite(x):
        s = m.sum(x)
        return [(s, {"a": x, "out": [x, s]})]
    o3, f3 = m.vjp(composite, X)
    assert isinstance(o1, list) and isinstance(o2, dict) and isinstance(o3[0][1], dict)
    st = m.sum(T)
    return [(f1([T, st]), (t + t.sum(),)), (f2({"x": T, "xsum": st}), (t + t.sum(),)),
            (f3([(st, {"a": T, "out": [T, st]})]), (2 * t + 2 * t.sum(),))]


@case
def vjp_with_aux(m):
    x, v = R(3), R(3)
    out, fn, aux = m.vjp(lambda t: (m.sin(t), {"a": m.cos(t), "b": [m.tan(t)]}), m.arr(x),
                         has_aux=True)
    return [(out, np.sin(x)), (aux, {"a": np.cos(x), "b": [np.tan(x)]}),
            (fn(m.arr(v)), (v * np.cos(x),))]


@case
def grad_through_a_masked_update(m):
    x = R(20)
    # torch's value[value > 0] = 0, written as a select (functrans arrays are immutable)
    return [(m.grad(lambda v: m.sum(m.where(v > 0, 0.0 * v, v)))(m.arr(x)),
             (x <= 0).astype(float))]


@case
def stop_gradient_inside_grad(m):
    # torch.func's test_no_grad_inside: torch.no_grad() there, stop_gradient here
    x = R()
    f = lambda x: x ** 2 - m.stop_gradient(x ** 2)
    h = lambda x: x ** 3 - m.stop_gradient(m.grad(lambda x: 0.25 * x ** 4)(x))
    X = m.arr(x)
    return [(f(X), 0.0), (m.grad(f)(X), 2 * x), (m.grad(m.grad(f))(X), 2.0),
            (m.grad(h)(X), 3 * x * x), (m.grad(m.grad(h))(X), 6 * x)]


# -- TestVmapOfGrad ------------------------------------------------------------------------------

@case
def per_sample_grads_of_a_linear_loss(m):
    w, x, t = R(16, 2), R(8, 16), R(8, 2)
    loss = lambda w, x, t: m.sum((m.matmul(x, w) - t) ** 2)
    got = m.vmap(functools.partial(m.grad(loss), m.arr(w)))(m.arr(x), m.arr(t))
    ref = np.stack([2 * np.outer(x[i], x[i] @ w - t[i]) for i in range(8)])
    return [(got, ref)]


@case
def vmap_of_the_vjp_of_log_softmax(m):
    x, v = R(3, 5), R(5)

    def foo(x, v):
        _, fn = m.vjp(lambda z: m.log_softmax(z, axis=-1), x)
        return fn(v)[0]
    sm = np.exp(x - _np_logsumexp(x))
    return [(m.vmap(foo, (0, None))(m.arr(x), m.arr(v)), v - sm * v.sum())]


def _mlp(m, p, x):
    h = m.tanh(m.matmul(x, p["w1"]) + p["b1"])
    return m.matmul(h, p["w2"]) + p["b2"]


def _mlp_params(nin, nh, nout):
    return {"w1": R(nin, nh) * 0.5, "b1": R(nh) * 0.1, "w2": R(nh, nout) * 0.5, "b2": R(nout) * 0.1}


@case
def per_sample_grads_of_a_small_net(m):
    p, x, t = _mlp_params(3, 4, 2), R(5, 3), np.array([0, 1, 1, 0, 1])

    def loss(mm, p, x, t):
        return -mm.sum(mm.log_softmax(_mlp(mm, p, x)) * mm.onehot(t, 2))
    P = optree.tree_map(m.arr, p)
    got = m.vmap(m.grad(functools.partial(loss, m)), in_axes=(None, 0, 0))(
        P, m.arr(x), m.iarr(t))
    # the reference: each example's gradient along a random direction by finite differences
    ds = optree.tree_map(lambda a: R(*a.shape), p)
    refs = [fd_dir(lambda q, i=i: loss(NP, q, x[i], t[i]), p, ds) for i in range(5)]
    dots = [tree_dot(optree.tree_map(lambda g, i=i: _to_numpy(g)[i], got), ds)
            for i in range(5)]
    return [(got, None), (np.array(dots), np.array(refs))]


# -- TestJac -------------------------------------------------------------------------------------

def _both_jacs(m):
    return (("jacrev", m.jacrev), ("jacfwd", m.jacfwd))


@case
def jacobian_of_sin_flat_and_not(m):
    x, y = R(3), R(2, 3)
    out = []
    for _, jac in _both_jacs(m):
        out.append((jac(m.sin)(m.arr(x)), np.diag(np.cos(x))))
        out.append((jac(m.sin)(m.arr(y)), np.diag(np.cos(y).ravel()).reshape(2, 3, 2, 3)))
        out.append((m.vmap(jac(m.sin))(m.arr(y)), np.stack([np.diag(np.cos(r)) for r in y])))
        out.append((jac(jac(lambda v: m.sum(m.sin(v))))(m.arr(x)), np.diag(-np.sin(x))))
    return out


@case
def jacobian_of_take_and_of_a_slice(m):
    x, y = R(5), R(2, 4)
    ref_slice = np.zeros((3, 1, 2, 4))
    ref_slice[0, 0, 0, 1] = ref_slice[1, 0, 0, 2] = ref_slice[2, 0, 0, 3] = 1
    ref_take = np.zeros((3, 5))
    ref_take[:, 1] = 1
    out = []
    for _, jac in _both_jacs(m):
        out.append((jac(lambda v: m.take(v, m.iarr([1, 1, 1])))(m.arr(x)), ref_take))
        out.append((jac(lambda v: m.expand_dims(v[0, 1:], -1))(m.arr(y)), ref_slice))
    return out


@case
def jacobian_argnums_and_output_structure(m):
    x, y = R(3), R(3)
    X, Y = m.arr(x), m.arr(y)
    f = lambda a, b: (2 * a + 3 * b, 4 * a + 5 * b)
    g = lambda a, b: {"left": 2 * a + 3 * b, "right": 4 * a + 5 * b}
    d = lambda c: c * np.eye(3)
    out = []
    for _, jac in _both_jacs(m):
        r1, r2 = jac(f, argnums=(0, 1))(X, Y), jac(f, argnums=0)(X, Y)
        r3 = jac(f, argnums=(0,))(X, Y)
        r4 = jac(g, argnums=(0, 1))(X, Y)
        assert _kinds(r1) == _kinds(((0, 0), (0, 0))) and _kinds(r2) == _kinds((0, 0))
        assert _kinds(r3) == _kinds(((0,), (0,))) and _kinds(r4) == _kinds(
            {"left": (0, 0), "right": (0, 0)})
        out += [(r1, ((d(2), d(3)), (d(4), d(5)))), (r2, (d(2), d(4))), (r3, ((d(2),), (d(4),))),
                (r4, {"left": (d(2), d(3)), "right": (d(4), d(5))}),
                (jac(lambda a, b: b * a, argnums=1)(X, Y), np.diag(x)),
                (jac(lambda a, b: a * b, argnums=(0, 1))(X, Y), (np.diag(y), np.diag(x))),
                (jac(lambda a, b: a * b, argnums=(0,))(X, Y), (np.diag(y),)),
                (jac(lambda a, b: a * 2 + b * 3)(X, Y), d(2))]
    return out


@case
def jacobian_of_pytree_inputs_and_outputs(m):
    x = m.arr(R())
    args = ((x, x), x, x)
    f = lambda a, b, c: a[0] + a[1] * 2 + b * 3 + c * 4
    g = lambda a, b, c: (a[0] + a[1] * 2, {"foo": b * 3 + c * 4})
    out = []
    for _, jac in _both_jacs(m):
        out += [(jac(f, argnums=(0, 1, 2))(*args), ((1.0, 2.0), 3.0, 4.0)),
                (jac(f, argnums=(0,))(*args), ((1.0, 2.0),)),
                (jac(f)(*args), (1.0, 2.0)),
                (jac(g)(*args), ((1.0, 2.0), {"foo": (0.0, 0.0)})),
                (jac(g, argnums=(0,))(*args), (((1.0, 2.0),), {"foo": ((0.0, 0.0),)})),
                (jac(g, argnums=(0, 1))(*args), (((1.0, 2.0), 0.0), {"foo": ((0.0, 0.0), 3.0)}))]
    return out


@case
def jacobian_of_a_dict_input_with_dict_output(m):
    x = R(3)
    f = lambda d: {"c": m.sin(d["a"]), "d": m.cos(d["b"])}
    ref = {"c": {"a": np.diag(np.cos(x)), "b": np.zeros((3, 3))},
           "d": {"a": np.zeros((3, 3)), "b": np.diag(-np.sin(x))}}
    return [(jac(f)({"a": m.arr(x), "b": m.arr(x)}), ref) for _, jac in _both_jacs(m)]


@case
def jacobian_dimensionality_and_unrelated_parts(m):
    x, y = R(2, 3), R(2, 3)
    c = m.arr(R(2, 3))
    out = []
    for _, jac in _both_jacs(m):
        out += [(jac(lambda v: v)(m.arr(R())), 1.0),
                (jac(lambda v: v)(m.arr(R(1))), np.ones((1, 1))),
                (jac(lambda a, b: a, argnums=(0, 1))(m.arr(x), m.arr(y)),
                 (np.eye(6).reshape(2, 3, 2, 3), np.zeros((2, 3, 2, 3)))),
                (jac(lambda a: c)(m.arr(x)), np.zeros((2, 3, 2, 3)))]
    return out


@case
def jacobian_with_aux(m):
    x = R(3)
    out = []
    for _, jac in _both_jacs(m):
        j, aux = jac(lambda v: (v * 1.0, {"a": m.cos(v), "b": [m.tan(v)]}), has_aux=True)(m.arr(x))
        j2, aux2 = jac(lambda v: (v * 1.0, m.cos(v)), has_aux=True)(m.arr(x))
        out += [(j, np.eye(3)), (aux, {"a": np.cos(x), "b": [np.tan(x)]}),
                (j2, np.eye(3)), (aux2, np.cos(x))]
    return out


@case
def jacobian_of_list_dict_and_nested_outputs(m):
    x = R(2, 3)

    def composite(v):
        s = m.sum(v)
        return [(s, {"a": v, "out": [v, s]})]
    eye, ones = np.eye(6).reshape(2, 3, 2, 3), np.ones((2, 3))
    out = []
    for _, jac in _both_jacs(m):
        r1 = jac(lambda v: [v, m.sum(v)])(m.arr(x))
        r2 = jac(lambda v: {"x": v, "xsum": m.sum(v)})(m.arr(x))
        r3 = jac(composite)(m.arr(x))
        assert isinstance(r1, list) and isinstance(r2, dict) and isinstance(r3[0][1], dict)
        out += [(r1, [eye, ones]), (r2, {"x": eye, "xsum": ones}),
                (r3, [(ones, {"a": eye, "out": [eye, ones]})])]
    return out


@case
def jacobian_against_finite_differences(m):
    x, y = R(5, 3), R(3, 5)
    f = lambda mm: lambda a, b: (mm.matmul(a * a, b), mm.matmul(a, mm.sum(a, axis=1) * b),
                                 mm.sum(b))
    g = lambda mm: lambda a, b: mm.matmul(mm.cos(a) * a, mm.sin(b))
    ref_f = tuple((fd_jac(lambda a, k=k: f(NP)(a, y)[k], x),
                   fd_jac(lambda b, k=k: f(NP)(x, b)[k], y)) for k in range(3))
    ref_g = (fd_jac(lambda a: g(NP)(a, y), x), fd_jac(lambda b: g(NP)(x, b), y))
    out = []
    for _, jac in _both_jacs(m):
        out += [(jac(f(m), argnums=(0, 1))(m.arr(x), m.arr(y)), ref_f),
                (jac(g(m), argnums=(0, 1))(m.arr(x), m.arr(y)), ref_g)]
    return out


@case
def jacobian_with_zero_dim_parts_and_a_default_argument(m):
    x, y, s, b1 = R(3), R(3), R(), R(1)
    out = []
    for _, jac in _both_jacs(m):
        r = jac(lambda a, b: (m.sum(a), m.sum(b), a * b), argnums=(0, 1))(m.arr(x), m.arr(y))
        out.append((r, ((np.ones(3), np.zeros(3)), (np.zeros(3), np.ones(3)),
                        (np.diag(y), np.diag(x)))))
        out.append((jac(lambda a: m.stack([a, a, a]))(m.arr(s)), np.ones(3)))
        h = jac(lambda a, b: (m.sum(b), a * b), argnums=(0, 1))(m.arr(s), m.arr(b1))
        out.append((h, ((0.0, np.ones(1)), (b1, s * np.eye(1)))))

        def k(a, b, z=3.0):
            return a * b * z
        out.append((jac(k)(m.arr(x), m.arr(y)), np.diag(3 * y)))
        out.append((jac(lambda t, n: t + n)(m.arr(R(3, 3)), 3), np.eye(9).reshape(3, 3, 3, 3)))
    return out


@case
def jacobian_through_an_index_update(m):
    # torch.func's test_inplace (x[:2] = y in place); an index update here (x.at[:2].set(y))
    x, y, z = R(3), R(2), R(2)

    def g(a, b, c):
        a = m.set_first(a, b)
        return m.stack([m.sum(a ** 2), m.sum(c ** 3)])[:, None]
    ref = ((np.zeros((2, 1, 3)), np.zeros((2, 1, 2)), np.zeros((2, 1, 2))))
    ref[0][0, 0, 2] = 2 * x[2]
    ref[1][0, 0] = 2 * y
    ref[2][1, 0] = 3 * z ** 2
    return [(jac(g, argnums=(0, 1, 2))(m.arr(x), m.arr(y), m.arr(z)), ref)
            for _, jac in _both_jacs(m)]


@case
def vmap_of_jvp_through_an_index_update(m):
    # torch.func's TestVmapJvpInplaceView: a view written in place under vmap of jvp; here
    # an index update of a strided slice, the batch on the last axis of some arguments
    B = 3
    x, xt, y, yt = R(6, B), R(6, B), R(B, 3), R(B, 3)

    def push(a, at, b, bt):
        return m.jvp(lambda a, b: m.set_even(a, b), (a, b), (at, bt))
    out, tan = m.vmap(push, in_axes=(1, 1, 0, 0))(m.arr(x), m.arr(xt), m.arr(y), m.arr(yt))
    ref_out, ref_tan = x.T.copy(), xt.T.copy()
    ref_out[:, ::2], ref_tan[:, ::2] = y, yt
    y1 = R(3)
    out1, tan1 = m.vmap(push, in_axes=(1, 1, None, None))(m.arr(x), m.arr(xt), m.arr(y1),
                                                          m.arr(yt[0]))
    ref_out1, ref_tan1 = x.T.copy(), xt.T.copy()
    ref_out1[:, ::2], ref_tan1[:, ::2] = y1, yt[0]
    return [(out, ref_out), (tan, ref_tan), (out1, ref_out1), (tan1, ref_tan1)]


@case
def jacobians_of_boolean_mask_indexing(m):
    # torch.func's test_chunk_jacrev_chunksize_one: an operation whose shape depends on the
    # values; the mask is the primal's, so every chunk of the basis sees the same shape
    x = np.array([1.0, -2.0, 3.0, -4.0, 0.5])
    f = lambda v: v[v > 0] ** 2
    d = np.zeros((3, 5))
    d[0, 0], d[1, 2], d[2, 4] = 2 * x[0], 2 * x[2], 2 * x[4]
    h = np.diag(np.where(x > 0, 6 * x, 0.0))
    return [(m.jacrev(f, chunk_size=1)(m.arr(x)), d), (m.jacrev(f, chunk_size=2)(m.arr(x)), d),
            (m.jacfwd(f)(m.arr(x)), d), (m.hessian(lambda v: m.sum(v[v > 0] ** 3))(m.arr(x)), h)]


@case
def jacrev_chunk_sizes_agree(m):
    x, y = R(10, 2), R(1, 2)
    f = lambda a, b: ((m.sin(a), a + b), (a + 2, m.sum(a)))
    full = m.jacrev(f, argnums=(0, 1))(m.arr(x), m.arr(y))
    out = [(m.jacrev(f, argnums=(0, 1), chunk_size=c)(m.arr(x), m.arr(y)), _to_np_tree(full))
           for c in (1, 2, 3, 4, 7, 10, 1000)]
    g = lambda a: ((m.sin(a), a), (a + 2, m.sum(a)))
    nested = m.vmap(m.jacrev(m.jacrev(g, chunk_size=3), chunk_size=3))(m.arr(x))
    plain = m.vmap(m.jacrev(m.jacrev(g)))(m.arr(x))
    out.append((nested, _to_np_tree(plain)))
    out.append((full[0][0][0], np.diag(np.cos(x).ravel()).reshape(10, 2, 10, 2)))
    return out


def _to_np_tree(t):
    return optree.tree_map(_to_numpy, t, none_is_leaf=True)


# -- TestHessian ---------------------------------------------------------------------------------

@case
def hessian_against_finite_differences(m):
    x, y, z = R(2, 3), R(3, 5), R(5, 5)
    f = lambda mm: lambda a, b, c: mm.sum(mm.matmul(mm.matmul(mm.relu(a) * a, mm.sin(b)), c))
    one = m.arr(1.0)
    h = m.hessian(f(m), argnums=(0, 1, 2))(m.arr(x), m.arr(y), m.arr(z))
    # the reference: finite differences of functrans's own gradient (checked above against
    # closed forms), block by block
    ref = tuple(tuple(fd_jac(lambda a, k=k, j=j: _g(f, (x, y, z), k, j, a), (x, y, z)[j])
                      for j in range(3)) for k in range(3))
    s = R(2, 3, 5)
    return [(h, ref), (m.hessian(lambda a: m.sum(3 * a ** 2))(m.arr(s)),
                       6 * np.eye(30).reshape(2, 3, 5, 2, 3, 5)),
            (m.hessian(lambda a, b: m.sum(a ** 2), argnums=(0, 1))(m.arr(R(2)), m.arr(R(3))),
             ((2 * np.eye(2), np.zeros((2, 3))), (np.zeros((3, 2)), np.zeros((3, 3))))),
            (m.hessian(lambda a, b: one, argnums=(0, 1))(m.arr(R(2)), m.arr(R(3))),
             ((np.zeros((2, 2)), np.zeros((2, 3))), (np.zeros((3, 2)), np.zeros((3, 3)))))]


def _g(f, args, k, j, a):
    args = list(args)
    args[j] = a
    return ft.grad(f(_ft()), argnums=k)(*args)


@case
def vmapped_hessian_equals_jacrev_of_jacrev(m):
    A, x1 = 0.1 * R(3, 2, 2), R(3, 10, 2)

    def loss(A, x1, x2):
        res = x2 - m.transpose(m.matmul(A, m.transpose(x1)))
        return m.sum(res ** 2)
    h1 = m.vmap(m.jacrev(m.jacrev(loss)))(m.arr(A), m.arr(x1), m.arr(x1))
    h2 = m.vmap(m.hessian(loss))(m.arr(A), m.arr(x1), m.arr(x1))
    # d2/dA2 of sum((x - A x)^2) is 2 * kron(I, x^T x) in A's (row, col) layout
    ref = np.stack([2 * np.einsum("ik,jl->ijkl", np.eye(2), x1[b].T @ x1[b]) for b in range(3)])
    return [(h1, ref), (h2, ref)]


# -- TestJvp -------------------------------------------------------------------------------------

@case
def jvp_single_multiple_and_pytree(m):
    x, t, y, u = R(2, 3), R(2, 3), R(2, 3), R(2, 3)
    X, T, Y, U = m.arr(x), m.arr(t), m.arr(y), m.arr(u)
    one = m.arr(1.0)
    c = m.arr(R(2, 3))
    return [(m.jvp(m.sin, (X,), (T,)), (np.sin(x), np.cos(x) * t)),
            (m.jvp(lambda a, b: a * b, (X, Y), (T, U)), (x * y, y * t + x * u)),
            (m.jvp(lambda p, b, c: p[0] + 2 * p[1] + 3 * b + 4 * c, ((one, one), one, one),
                   ((one, one), one, one)), (10.0, 10.0)),
            (m.jvp(lambda a, b: a, (X, Y), (T, U)), (x, t)),
            (m.jvp(lambda a: c, (X,), (T,)), (_to_numpy(c), np.zeros((2, 3)))),
            (m.jvp(lambda a: (m.sin(a), m.cos(a)), (X,), (T,)),
             ((np.sin(x), np.cos(x)), (np.cos(x) * t, -np.sin(x) * t))),
            (m.jvp(lambda a, b: (2 * a + 3 * b, 4 * a + 5 * b), (X, Y), (T, U)),
             ((2 * x + 3 * y, 4 * x + 5 * y), (2 * t + 3 * u, 4 * t + 5 * u)))]


@case
def jvp_outputs_of_any_container_and_aux(m):
    x, t = R(3), R(3)
    X, T = m.arr(x), m.arr(t)
    o1 = m.jvp(lambda v: [v, m.sum(v)], (X,), (T,))
    o2 = m.jvp(lambda v: {"x": v, "xsum": m.sum(v)}, (X,), (T,))
    assert isinstance(o1[0], list) and isinstance(o1[1], list) and isinstance(o2[1], dict)
    p, tan, aux = m.jvp(lambda v: (m.sin(v), {"a": m.cos(v), "b": [m.tan(v)]}), (X,), (T,),
                        has_aux=True)
    return [(o1, ([x, x.sum()], [t, t.sum()])),
            (o2, ({"x": x, "xsum": x.sum()}, {"x": t, "xsum": t.sum()})),
            (p, np.sin(x)), (tan, t * np.cos(x)), (aux, {"a": np.cos(x), "b": [np.tan(x)]})]


@case
def vmap_of_vmap_of_jvp_of_cov(m):
    dummy, x, xt = np.ones((4, 1)), R(4, 2), R(2)
    XT = m.arr(xt)

    def push(d, v):
        return m.jvp(m.cov, (v,), (XT,))
    r = m.vmap(m.vmap(push, (0, None)))(m.arr(dummy), m.arr(x))
    # cov of one variable's two observations: their variance (ddof 1), (a - b)^2 / 2
    var = (x[:, 0] - x[:, 1]) ** 2 / 2
    dvar = (x[:, 0] - x[:, 1]) * (xt[0] - xt[1])
    return [(r, (var[:, None], dvar[:, None]))]


@case
def forward_over_forward_stop_gradient(m):
    # torch.func's test_disable_fwd_grad_inside: a shift computed without derivatives
    x = R()
    X, one = m.arr(x), m.arr(1.0)
    f = lambda v: v ** 2 - m.stop_gradient(v ** 2)
    d1 = m.jvp(f, (X,), (one,))[1]
    d2 = m.jvp(lambda v: m.jvp(f, (v,), (one,))[1], (X,), (one,))[1]
    return [(d1, 2 * x), (d2, 2.0)]


# -- TestLinearize -------------------------------------------------------------------------------

@case
def linearize_cases(m):
    xp, xt, xts = R(3, 1), R(3, 1), R(3, 3, 1)
    out1, f1 = m.linearize(m.cos, m.arr(xp))
    out2, f2 = m.linearize(lambda v: (m.cos(v), m.sum(v)), m.arr(xp))
    batched = m.vmap(f2)(m.arr(xts))
    ones = m.arr(np.ones(3))
    z = R(3)
    _, f3 = m.linearize(lambda v: m.grad(lambda w: m.sum(w * w * w * ones))(v), m.arr(z))
    zt = R(3)
    ins = {"x": R(3, 1), "yz": (R(3, 1), R(3, 1))}
    ints = {"x": R(3, 1), "yz": (R(3, 1), R(3, 1))}

    def nested(mm):
        def fn(arg):
            a, (b, c) = arg["x"], arg["yz"]
            return {"a": mm.sum(a), "b": {"c": b + c, "d": (a * c, mm.exp(b))}}
        return fn
    out4, f4 = m.linearize(nested(m), optree.tree_map(m.arr, ins))
    a, (b, c) = ins["x"], ins["yz"]
    ta, (tb, tc) = ints["x"], ints["yz"]
    ref4 = {"a": ta.sum(), "b": {"c": tb + tc, "d": (ta * c + a * tc, np.exp(b) * tb)}}
    return [(out1, np.cos(xp)), (f1(m.arr(xt)), -np.sin(xp) * xt),
            (out2, (np.cos(xp), xp.sum())), (f2(m.arr(xt)), (-np.sin(xp) * xt, xt.sum())),
            (batched, (-np.sin(xp) * xts, xts.sum(axis=(1, 2)))),
            (f3(m.arr(zt)), 6 * z * zt), (out4, nested(NP)(ins)),
            (f4(optree.tree_map(m.arr, ints)), ref4)]


# -- a user-defined operation with its own rules (TestHigherOrderOperatorInteraction) -------------

@case
def op_with_own_derivative_and_batching_rules(m):
    # torch.func's test builds a sum over `dim` with its own vmap and grad rules; here it is a
    # sum with a custom VJP (functrans.custom_vjp / torch.autograd.Function with a vmap rule
    # generated), used under vmap, grad, grad of grad and vmap of grad.
    mysum = _custom_sum(m)
    x, x2, x3 = R(2, 3, 4), R(3), R(2, 3)
    gg = m.grad(lambda v: m.sum(m.grad(lambda w: mysum(m.sin(w), 0))(v)))(m.arr(x2))
    return [(mysum(m.arr(x), 1), x.sum(1)),
            (m.vmap(mysum, (0, None))(m.arr(x), 0), x.sum(1)),
            (m.vmap(m.vmap(mysum, (0, None)), (0, None))(m.arr(x), 0), x.sum(2)),
            (m.grad(mysum)(m.arr(x2), 0), np.ones(3)),
            (gg, -np.sin(x2)),
            (m.vmap(m.grad(mysum), (0, None))(m.arr(x3), 0), np.ones((2, 3)))]


def _custom_sum(m):
    if m.name == "functrans":
        @functools.partial(ft.custom_vjp, nondiff_argnums=(1,))
        def mysum(x, dim):
            return fnp.sum(x, axis=dim)

        def fwd(x, dim):
            return fnp.sum(x, axis=dim), x

        def bwd(dim, x, g):
            return (fnp.broadcast_to(fnp.expand_dims(g, dim), x.shape),)
        mysum.defvjp(fwd, bwd)
        return mysum
    import torch

    class MySum(torch.autograd.Function):
        generate_vmap_rule = True

        @staticmethod
        def forward(x, dim):
            return torch.sum(x, dim)

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.dim, ctx.shape = inputs[1], inputs[0].shape

        @staticmethod
        def backward(ctx, g):
            return g.unsqueeze(ctx.dim).expand(ctx.shape), None
    return MySum.apply


@case
def op_with_its_own_batching_rule(m):
    # the same sum with a batching rule of its own (functrans.custom_batching.custom_vmap;
    # torch.autograd.Function's vmap staticmethod), which must be the one used under vmap
    mysum, calls = _sum_with_vmap_rule(m)
    x, x3 = R(2, 3, 4), R(2, 3)
    out = [(m.vmap(mysum, (0, None))(m.arr(x), 0), x.sum(1)),
           (m.vmap(m.vmap(mysum, (0, None)), (0, None))(m.arr(x), 0), x.sum(2)),
           (m.vmap(mysum, (1, None))(m.arr(x), 1), np.moveaxis(x, 1, 0).sum(2)),
           (m.vmap(m.grad(mysum), (0, None))(m.arr(x3), 0), np.ones((2, 3)))]
    assert len(calls) >= 3, calls  # (the rule ran for each vmap of it)
    return out


def _sum_with_vmap_rule(m):
    calls = []
    if m.name == "functrans":
        @ft.custom_batching.custom_vmap
        def mysum(x, dim):
            return fnp.sum(x, axis=dim)

        @mysum.def_vmap
        def rule(axis_size, in_batched, x, dim):
            calls.append(in_batched)
            if in_batched[0]:  # the batch leads x
                return fnp.sum(x, axis=dim + 1), True
            return fnp.sum(x, axis=dim), False
        return mysum, calls
    import torch

    class MySum(torch.autograd.Function):
        @staticmethod
        def forward(x, dim):
            return torch.sum(x, dim)

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.dim, ctx.shape = inputs[1], inputs[0].shape

        @staticmethod
        def backward(ctx, g):
            return g.unsqueeze(ctx.dim).expand(ctx.shape), None

        @staticmethod
        def vmap(info, in_dims, x, dim):
            calls.append(in_dims)
            if in_dims[0] is None:
                return MySum.apply(x, dim), None
            return MySum.apply(x.movedim(in_dims[0], 0), dim + 1), 0
    return MySum.apply, calls


# -- TestComposability ---------------------------------------------------------------------------

@case
def transforms_composed_in_pairs(m):
    x, xs, v = R(3), R(5, 3), R(3)
    X = m.arr(x)
    _, vfn = m.vjp(m.sin, X)

    def foo(z):
        _, fn = m.vjp(m.sin, z)
        return fn(z)

    y1, f1 = m.vjp(m.grad(m.sin), m.arr(x[0]))
    y2, f2 = m.vjp(m.vmap(m.sin), X)
    y3, f3 = m.vjp(m.sin, X)
    y4, f4 = m.vjp(lambda z: f3(z)[0], X)
    return [(m.grad(lambda z: m.sum(m.vmap(m.sin)(z)))(X), np.cos(x)),
            (m.grad(lambda z: m.sum(foo(z)[0]))(X), np.cos(x) - x * np.sin(x)),
            (m.vmap(m.grad(m.sin))(X), np.cos(x)),
            (m.vmap(m.vmap(m.sin))(m.arr(xs)), np.sin(xs)),
            (m.vmap(foo)(X), (x * np.cos(x),)),
            (m.vmap(lambda z: vfn(z)[0])(m.arr(xs)), xs * np.cos(x)),
            (y1, np.cos(x[0])), (f1(m.arr(v[0])), (-np.sin(x[0]) * v[0],)),
            (y2, np.sin(x)), (f2(m.arr(v)), (np.cos(x) * v,)),
            (y4, x * np.cos(x)), (f4(m.arr(v)), (np.cos(x) * v,)),
            (m.jacrev(m.jacfwd(lambda z: m.sum(m.sin(z) * z)))(X),
             np.diag(2 * np.cos(x) - x * np.sin(x))),
            (m.jacfwd(m.jacrev(lambda z: m.sin(z) * z))(X), _diag3(2 * np.cos(x) - x * np.sin(x)))]


def _diag3(d):
    r = np.zeros((d.size,) * 3)
    for i, v in enumerate(d):
        r[i, i, i] = v
    return r


# -- TestExamplesCorrectness ---------------------------------------------------------------------

@case
def maml_regression_inner_loop(m):
    p = _mlp_params(1, 8, 1)
    tasks = 3
    xs1, xs2 = R(tasks, 6, 1) * 2, R(tasks, 6, 1) * 2
    amp, ph = 0.1 + 0.4 * np.abs(R(tasks)), np.abs(R(tasks))
    ys1 = amp[:, None, None] * np.sin(xs1 + ph[:, None, None])
    ys2 = amp[:, None, None] * np.sin(xs2 + ph[:, None, None])

    def task_loss(mm, params, x1, y1, x2, y2):
        inner = lambda q: mm.mean((_mlp(mm, q, x1) - y1) ** 2)
        g = mm.grad(inner)(params)
        new = {k: params[k] - 0.1 * g[k] for k in params}
        return mm.mean((_mlp(mm, new, x2) - y2) ** 2)

    def outer(mm, params, batched):
        data = [mm.arr(a) for a in (xs1, ys1, xs2, ys2)]
        if batched:
            ls = mm.vmap(functools.partial(task_loss, mm, params))(*data)
            return mm.mean(ls)
        return sum(task_loss(mm, params, *[d[i, ...] for d in data]) for i in range(tasks)) / tasks
    P = optree.tree_map(m.arr, p)
    g_batched = m.grad(lambda q: outer(m, q, True))(P)
    g_loop = m.grad(lambda q: outer(m, q, False))(P)
    ds = optree.tree_map(lambda a: R(*a.shape), p)
    F = _ft()
    ref = fd_dir(lambda q: outer(F, q, False), p, ds)
    return [(g_batched, _to_np_tree(g_loop)), (tree_dot(g_batched, ds), ref)]


@case
def maml_with_a_small_convolutional_net(m):
    # torch.func's test_maml_omniglot, smaller: convolution, max pooling, a per-example
    # normalisation, two inner steps per task under vmap (so the convolution's kernel is
    # batched in the second step), the outer gradient through both
    p = {"w": R(2, 1, 3, 3) * 0.5, "b": R(2) * 0.1, "W": R(18, 3) * 0.3, "c": R(3) * 0.1}
    tasks = 2
    xs, ys = R(tasks, 4, 1, 8, 8), _RNG[0].integers(0, 3, size=(tasks, 4))
    xq, yq = R(tasks, 5, 1, 8, 8), _RNG[0].integers(0, 3, size=(tasks, 5))

    def net(mm, q, x):
        h = mm.relu(mm.conv(x, q["w"]) + mm.expand_dims(mm.expand_dims(q["b"], -1), -1))
        h = mm.maxpool2(h)
        h = mm.reshape(h, (h.shape[0], 18))
        mu = mm.mean(h, axis=1)
        h = (h - mu[:, None]) / mm.sqrt(mm.mean((h - mu[:, None]) ** 2, axis=1) + 1e-3)[:, None]
        return mm.matmul(h, q["W"]) + q["c"]

    def ce(mm, z, t):
        return -mm.mean(mm.sum(mm.log_softmax(z) * mm.onehot(t, 3), axis=-1))

    def task(mm, q, a, b, c, d):
        for _ in range(2):
            g = mm.grad(lambda r: ce(mm, net(mm, r, a), b))(q)
            q = {k: q[k] - 0.1 * g[k] for k in q}
        return ce(mm, net(mm, q, c), d)

    def outer(mm, q, batched):
        data = (mm.arr(xs), mm.iarr(ys), mm.arr(xq), mm.iarr(yq))
        if batched:
            return mm.sum(mm.vmap(functools.partial(task, mm, q))(*data))
        return sum(task(mm, q, *[d[i, ...] for d in data]) for i in range(tasks))
    P = optree.tree_map(m.arr, p)
    g_batched = m.grad(lambda q: outer(m, q, True))(P)
    g_loop = m.grad(lambda q: outer(m, q, False))(P)
    ds = optree.tree_map(lambda a: R(*a.shape), p)
    ref = fd_dir(lambda q: outer(_ft(), q, False), p, ds)
    return [(g_batched, _to_np_tree(g_loop)), (tree_dot(g_batched, ds), ref)]


@case
def per_example_grads_through_an_embedding_with_repeated_tokens(m):
    # torch.func's test_per_sample_grads_embeddingnet: a gather whose reverse pass adds into
    # repeated rows, under vmap of grad
    V, d = 6, 3
    p = {"E": R(V, d), "W": R(d, 2) * 0.5}
    tokens = np.array([[0, 2, 2, 5], [1, 1, 1, 1], [3, 0, 4, 0]])
    targets = np.array([0, 1, 1])

    def loss(mm, q, tok, t):
        e = mm.mean(mm.take0(q["E"], tok), axis=0)
        return -mm.sum(mm.log_softmax(mm.matmul(e, q["W"])) * mm.onehot(t, 2))
    P = optree.tree_map(m.arr, p)
    got = m.vmap(m.grad(functools.partial(loss, m)), in_axes=(None, 0, 0))(
        P, m.iarr(tokens), m.iarr(targets))
    ds = optree.tree_map(lambda a: R(*a.shape), p)
    refs = [fd_dir(lambda q, i=i: loss(NP, q, tokens[i], targets[i]), p, ds) for i in range(3)]
    dots = [tree_dot(optree.tree_map(lambda g, i=i: _to_numpy(g)[i], got), ds) for i in range(3)]
    unused = sorted(set(range(V)) - set(tokens[0].tolist()))  # rows example 0 never reads
    return [(got, None), (np.array(dots), np.array(refs)),
            (_to_numpy(got["E"])[0][unused], np.zeros((len(unused), d)))]


@case
def ensemble_of_models_trained_under_vmap(m):
    n_models, pts = 2, R(12, 2)
    labels = (pts[:, 0] * pts[:, 1] > 0).astype(np.int64)
    ps = [_mlp_params(2, 6, 2) for _ in range(n_models)]
    stacked = optree.tree_map(lambda *a: np.stack(a), *ps)

    def step(mm, params, x, t, lr=0.2):
        loss = lambda q: -mm.mean(mm.sum(mm.log_softmax(_mlp(mm, q, x)) * mm.onehot(t, 2), axis=-1))
        val, g = mm.value_and_grad(loss)(params)
        return val, {k: params[k] - lr * g[k] for k in params}
    loss_b, new_b = m.vmap(functools.partial(step, m), in_axes=(0, None, None))(
        optree.tree_map(m.arr, stacked), m.arr(pts), m.iarr(labels))
    F = _ft()
    per = [step(F, p, pts, labels) for p in ps]
    return [(loss_b, np.stack([float(l) for l, _ in per])),
            (new_b, optree.tree_map(lambda *a: np.stack(a), *[_to_np_tree(n) for _, n in per]))]


@case
def lennard_jones_force_fit(m):
    sigma, eps = 0.5, 4.0
    r = np.linspace(0.5, 1.0, 12)
    drs = np.outer(r, [1.0, 0.0, 0.0])
    norms = np.linalg.norm(drs, axis=1).reshape(-1, 1)
    energies = eps * ((sigma / norms) ** 12 - (sigma / norms) ** 6)
    forces = (-eps * (-12 * sigma ** 12 / norms ** 13 + 6 * sigma ** 6 / norms ** 7)) * drs
    p = _mlp_params(1, 6, 1)

    def loss(mm, params, jac_name):
        model = lambda v: _mlp(mm, params, v)
        nrm = mm.arr(norms)
        e = model(nrm)
        jac = getattr(mm, jac_name)
        d = mm.squeeze(mm.vmap(jac(model))(nrm), -1)
        f = -d * mm.arr(drs) / nrm
        return (mm.mean((e - mm.arr(energies)) ** 2)
                + 0.01 * mm.mean((f - mm.arr(forces)) ** 2) / 3)
    out = []
    P = optree.tree_map(m.arr, p)
    ds = optree.tree_map(lambda a: R(*a.shape), p)
    F = _ft()
    ref = fd_dir(lambda q: loss(F, q, "jacrev"), p, ds)
    for name in ("jacrev", "jacfwd"):
        g = m.grad(lambda q: loss(m, q, name))(P)
        out.append((tree_dot(g, ds), ref))
        out.append((g, None))
    return out


# -- TestCompileTransforms: staged (functrans.jit; torch.compile is left out: its compile time) --

@case
def jit_of_vmap_of_nested_jacobians_with_aux(m):
    D, B = 2, 4
    p = {"W": R(D, D), "b": R(D)}
    x = R(B, D)

    def predict(q, v):
        out = m.relu(m.matmul(q["W"], v) + q["b"]) + 0.1 * m.tanh(v) ** 3
        return out, out
    fn = m.vmap(m.jacfwd(m.jacrev(predict, argnums=1, has_aux=True), argnums=1, has_aux=True),
                in_axes=(None, 0))
    P = optree.tree_map(m.arr, p)
    eager = fn(P, m.arr(x))
    staged = m.jit(fn)(P, m.arr(x))
    # the second derivative of relu(W v + b) is zero (almost everywhere): only 0.1 tanh^3's
    t = np.tanh(x)
    d2 = 0.1 * (6 * t * (1 - t ** 2) ** 2 - 6 * t ** 3 * (1 - t ** 2))
    hess = np.zeros((B, D, D, D))
    for i in range(D):
        hess[:, i, i, i] = d2[:, i]
    z = x @ p["W"].T + p["b"]
    out = np.maximum(z, 0) + 0.1 * t ** 3
    return [(eager, (hess, out)), (staged, _to_np_tree(eager))]


# -- test_vmap topics that differ from JAX's ------------------------------------------------------

@case
def vmap_in_axes_trees_and_out_axes(m):
    d = {"a": R(3, 4), "b": R(4, 3)}
    x = R(2, 3, 5)
    f = lambda p: p["a"] + m.transpose(p["b"])
    r1 = m.vmap(f, in_axes=({"a": 0, "b": 1},))(optree.tree_map(m.arr, d))
    r2 = m.vmap(lambda v: (v, 2 * v), in_axes=1, out_axes=(1, -1))(m.arr(x))
    r3 = m.vmap(lambda v, c: {"s": m.sum(v), "c": c}, in_axes=(0, None),
                out_axes={"s": 0, "c": None})(m.arr(x), m.arr(7.0))
    a, b = R(4, 3), R(2)
    r4 = m.vmap(m.vmap(lambda a, b: a * b, (1, None)), (None, 0))(m.arr(a), m.arr(b))
    return [(r1, d["a"] + d["b"].T), (r2, (x, 2 * np.moveaxis(x, 1, -1))),
            (r3, {"s": x.sum(axis=(1, 2)), "c": 7.0}), (r4, np.einsum("kj,i->ijk", a, b))]


@case
def vmap_chunk_size(m):
    x, w = R(10, 3), R(3, 2)
    f = lambda v, w: m.tanh(m.matmul(v, w))
    full = np.tanh(x @ w)
    out = [(m.vmap(f, in_axes=(0, None), chunk_size=c)(m.arr(x), m.arr(w)), full)
           for c in (1, 3, 4, 10, 64)]
    g = m.vmap(lambda v: (m.sum(v), v * 2), in_axes=1, out_axes=(0, 1), chunk_size=2)(m.arr(x))
    out.append((g, (x.sum(0), 2 * x)))
    gr = m.grad(lambda w: m.sum(m.vmap(f, in_axes=(0, None), chunk_size=3)(m.arr(x), w)))(
        m.arr(w))
    out.append((gr, x.T @ (1 - full ** 2)))
    return out


# -- the cases, run ------------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(CASES))
def test_case_matches_reference(name, backend):
    _RNG[0] = np.random.default_rng(0)
    for k, (value, ref) in enumerate(CASES[name](_ft(backend))):
        if ref is None:
            continue
        for leaf in optree.tree_leaves(value):
            if hasattr(leaf, "shape") and not isinstance(leaf, (np.ndarray, np.generic)):
                assert backend.is_own(leaf), (k, type(leaf))
        _same(value, ref, tol=1e-6, what=f"{name} pair {k}")


@pytest.mark.parametrize("name", list(CASES))
def test_case_matches_torch_func(name):
    tf = _tf()
    _RNG[0] = np.random.default_rng(0)
    ours = [v for v, _ in CASES[name](_ft())]
    _RNG[0] = np.random.default_rng(0)
    theirs = [v for v, _ in CASES[name](tf)]
    _same(ours, theirs, tol=1e-10, what=name)


# -- vmap's chunk_size and randomness (torch.func's keywords) -------------------------------------

def test_vmap_chunk_size_with_trees_kwargs_unmapped_outputs_and_jit(backend):
    p = {"a": R(7, 3), "b": R(3, 7)}
    f = lambda p, c, *, s: ({"y": p["a"] * fnp.permute_dims(p["b"], (0,)) * s, "c": c * 2.0},
                            fnp.sum(p["a"]))
    on = lambda t: optree.tree_map(backend.asarray, t)
    kw = dict(in_axes=({"a": 0, "b": 1}, None), out_axes=({"y": 1, "c": None}, 0))
    want = ft.vmap(f, **kw)(on(p), backend.asarray(5.0), s=backend.asarray(np.arange(7.0)))
    for c in (1, 2, 3, 6, 7, 8):
        got = ft.vmap(f, chunk_size=c, **kw)(on(p), backend.asarray(5.0),
                                            s=backend.asarray(np.arange(7.0)))
        _same(got, want, tol=0, what=f"chunk {c}")
        jitted = ft.jit(ft.vmap(f, chunk_size=c, **kw))
        _same(jitted(on(p), backend.asarray(5.0), s=backend.asarray(np.arange(7.0))), want,
              tol=1e-15, what=f"jit chunk {c}")
    # a zero-size batch and nested chunked vmaps
    _same(ft.vmap(lambda v: v * 2, chunk_size=2)(backend.asarray(np.zeros((0, 3)))),
          np.zeros((0, 3)))
    x = R(5, 4, 3)
    g = ft.vmap(ft.vmap(lambda v: fnp.sum(v ** 2), chunk_size=3), in_axes=2, chunk_size=2)
    # mapped over axis 2, then over axis 0 of the rest: out[k, i] = sum_j x[i, j, k]^2
    _same(g(backend.asarray(x)), np.einsum("ijk,ijk->ki", x, x), tol=1e-12)


def test_vmap_chunk_size_and_randomness_errors():
    x = np.ones((4, 2))
    with pytest.raises(ValueError, match="chunk_size must be a positive int or None; got 0"):
        ft.vmap(lambda v: v, chunk_size=0)
    with pytest.raises(ValueError, match="got -2"):
        ft.vmap(lambda v: v, chunk_size=-2)
    with pytest.raises(ValueError, match="got True"):
        ft.vmap(lambda v: v, chunk_size=True)
    with pytest.raises(ft.errors.BatchingError, match="chunk_size cannot be used with axis_name"):
        ft.vmap(lambda v: v, axis_name="i", chunk_size=2)
    # batched's own errors come through unchanged
    with pytest.raises(ft.errors.BatchingError, match="same size"):
        ft.vmap(lambda a, b: a + b, chunk_size=1)(np.ones(3), np.ones(4))
    with pytest.raises(ft.errors.BatchingError, match="in_axes has 1 entries"):
        ft.vmap(lambda a, b: a + b, in_axes=(0,), chunk_size=1)(np.ones(3), np.ones(3))
    with pytest.raises(ft.errors.BatchingError, match="leaf 1 is a float, which has no axis"):
        ft.vmap(lambda a, b: a + b, chunk_size=1)(np.ones(3), 2.0)
    with pytest.raises(ft.errors.BatchingError, match="in_axes 2 is out of range"):
        ft.vmap(lambda a: a, in_axes=2, chunk_size=1)(np.ones(3))
    with pytest.raises(ValueError, match="randomness must be 'same', 'different' or 'error'; "
                                         "got 'sometimes'"):
        ft.vmap(lambda v: v, randomness="sometimes")
    for kw, hint in (("in_dims", "in_axes"), ("out_dims", "out_axes")):
        with pytest.raises(TypeError, match=f"torch.func's keyword argument '{kw}'.*{hint}"):
            ft.vmap(lambda v: v, **{kw: 0})(x)
    with pytest.raises(TypeError, match="unexpected keyword argument 'in_axis'"):
        ft.vmap(lambda v: v, in_axis=0)
    with pytest.raises(TypeError, match="jvp.*'strict'.*zero tangents"):
        ft.jvp(fnp.sin, (x,), (x,), strict=True)
    with pytest.raises(TypeError, match="jacfwd.*'randomness'"):
        ft.jacfwd(fnp.sin, randomness="same")
    with pytest.raises(TypeError, match="jacrev.*'_preallocate_and_copy'"):
        ft.jacrev(fnp.sin, _preallocate_and_copy=True)


def test_vmap_randomness_same_error_and_keys():
    import functrans.numpy.random as npr
    x = np.zeros((4, 3))
    npr.seed(6)
    same = ft.vmap(lambda v: v + npr.randn(3))(x)
    np.testing.assert_array_equal(same, np.broadcast_to(same[0], (4, 3)))
    same2 = ft.vmap(lambda v: v + npr.uniform(size=3), randomness="same")(x)
    np.testing.assert_array_equal(same2, np.broadcast_to(same2[0], (4, 3)))
    for draw in (lambda: npr.randn(3), lambda: npr.normal(0.0, 1.0, 3),
                 lambda: npr.permutation(3), lambda: npr.default_rng(0).normal(size=3),
                 lambda: npr.RandomState(0).choice(3, 3)):
        with pytest.raises(ft.errors.BatchingError, match="randomness='error'.*inside it"):
            ft.vmap(lambda v: v + draw(), randomness="error")(x)
        # also from under another transform inside the vmap
        with pytest.raises(ft.errors.BatchingError, match="randomness='error'"):
            ft.vmap(ft.grad(lambda v: fnp.sum(v * draw())), randomness="error")(x)
    # outside the vmap, drawing works again
    assert npr.randn(2).shape == (2,)
    # different numbers per member: keys mapped over the batch; the same: one unmapped key
    keys = frandom.split(frandom.PRNGKey(0), 4)
    diff = ft.vmap(lambda k, v: v + frandom.normal(k, (3,)))(keys, x)
    assert len({tuple(r) for r in np.asarray(diff)}) == 4
    one = ft.vmap(lambda k, v: v + frandom.normal(k, (3,)), in_axes=(None, 0))(keys[0], x)
    np.testing.assert_array_equal(one, np.broadcast_to(np.asarray(one)[0], (4, 3)))


def test_vmap_randomness_different_draws_as_a_loop_over_members():
    import functrans.numpy.random as npr
    x = np.zeros((4, 3))
    # each member draws in turn from the global state: the numbers of a loop over members
    npr.seed(5)
    got = ft.vmap(lambda v: v + npr.randn(3), randomness="different")(x)
    np.random.seed(5)
    np.testing.assert_array_equal(got, np.random.randn(4, 3))
    npr.seed(5)
    got = ft.vmap(lambda v: v + npr.normal(0.0, 2.0, size=3), randomness="different",
                  chunk_size=3)(x)
    np.random.seed(5)
    np.testing.assert_array_equal(got, np.random.normal(0.0, 2.0, size=(4, 3)))
    # nested: different in both, or only in the outer vmap
    npr.seed(1)
    both = ft.vmap(ft.vmap(lambda v: v + npr.rand(), randomness="different"),
                   randomness="different")(x)
    np.random.seed(1)
    np.testing.assert_array_equal(both, np.random.rand(4, 3))
    npr.seed(1)
    outer = ft.vmap(ft.vmap(lambda v: v + npr.rand()), randomness="different")(x)
    np.random.seed(1)
    np.testing.assert_array_equal(outer, np.broadcast_to(np.random.rand(4)[:, None], (4, 3)))
    # permutations and choices per member, of a traced array and of plain values
    rows = np.tile(np.arange(6.0), (5, 1))
    npr.seed(3)
    perms = ft.vmap(npr.permutation, randomness="different")(rows)
    assert all(sorted(r) == list(range(6)) for r in perms.tolist())
    assert len({tuple(r) for r in perms.tolist()}) > 1
    ints = ft.vmap(lambda v: npr.permutation(6) + 0 * v, randomness="different")(np.zeros(5))
    assert ints.shape == (5, 6) and len({tuple(r) for r in ints.tolist()}) > 1
    picks = ft.vmap(lambda v: npr.choice(v, 3, replace=False), randomness="different")(rows)
    assert picks.shape == (5, 3) and all(len(set(r)) == 3 for r in picks.tolist())
    gen = ft.vmap(lambda v: v + npr.default_rng(0).normal(size=2), randomness="different")(
        np.zeros((3, 2)))
    np.testing.assert_array_equal(gen, np.random.default_rng(0).normal(size=(3, 2)))
    # under grad inside the vmap, and a zero-size batch
    npr.seed(2)
    g = ft.vmap(ft.grad(lambda w: fnp.sum(w * npr.randn(3))), randomness="different")(x)
    np.random.seed(2)
    np.testing.assert_array_equal(g, np.random.randn(4, 3))
    assert ft.vmap(lambda v: v * npr.randn(), randomness="different")(np.zeros(0)).shape == (0,)
    # what cannot be batched
    with pytest.raises(TypeError, match="write x = permutation"):
        ft.vmap(lambda v: npr.shuffle(np.arange(3)), randomness="different")(x)
    with pytest.raises(TypeError, match="bytes.*cannot be batched"):
        ft.vmap(lambda v: npr.bytes(2), randomness="different")(x)
    # 'error' anywhere around wins
    with pytest.raises(ft.errors.BatchingError, match="randomness='error'"):
        ft.vmap(ft.vmap(lambda v: v + npr.rand(), randomness="different"),
                randomness="error")(x)


def test_vmap_randomness_different_on_other_backends(backend):
    # samples are arrays of the default backend (functrans.numpy.random's rule); indices for
    # a permutation of a traced array go to that array's library and device
    import functrans.numpy.random as npr
    npr.seed(4)
    rows = backend.asarray(np.tile(np.arange(4.0), (3, 1)))
    perms = ft.vmap(npr.permutation, randomness="different")(rows)
    assert backend.is_own(perms)
    assert all(sorted(r) == [0.0, 1.0, 2.0, 3.0] for r in backend.to_numpy(perms).tolist())
    if backend.device is None:  # (the default backend's samples are on its default device)
        x = backend.asarray(np.zeros((3, 2)))
        npr.seed(7)
        with ft.default_backend(backend.name):
            got = ft.vmap(lambda v: v + npr.randn(2), randomness="different")(x)
        np.random.seed(7)
        np.testing.assert_array_equal(backend.to_numpy(got), np.random.randn(3, 2))
        assert backend.is_own(got)


def test_torch_func_randomness_for_comparison():
    # what the keys above stand for in torch.func: randomness='different' and 'same'
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    x = torch.zeros(4, 3, dtype=torch.float64)
    d = torch.func.vmap(lambda v: v + torch.randn(3, dtype=torch.float64),
                        randomness="different")(x)
    s = torch.func.vmap(lambda v: v + torch.randn(3, dtype=torch.float64), randomness="same")(x)
    assert len({tuple(r.tolist()) for r in d}) == 4
    assert torch.equal(s, s[0].expand(4, 3))
    with pytest.raises(RuntimeError):
        torch.func.vmap(lambda v: v + torch.randn(3))(x)


@pytest.mark.parametrize("lib", ["functrans", "torch.func"])
def test_ensemble_with_the_same_dropout_in_every_member(lib):
    # torch.func's test_find_learning_rate_ensembling: models trained with different learning
    # rates under vmap see the same dropout mask (torch.func: randomness='same'; functrans: one
    # key, unmapped), so their losses agree and their updated weights do not.
    _RNG[0] = np.random.default_rng(1)
    pts, labels = R(16, 4), (R(16) > 0).astype(np.int64)
    p = _mlp_params(4, 5, 2)
    if lib == "functrans":
        m = _ft()

        def keep_mask(key):
            return fnp.astype(frandom.bernoulli(key, 0.7, (16, 4)), fnp.float64)
        mask_arg, in_axes_extra = frandom.PRNGKey(3), None
    else:
        m = _tf()
        import torch
        torch.manual_seed(0)

        def keep_mask(_):
            return (torch.rand(16, 4) < 0.7).to(torch.float64)
        mask_arg, in_axes_extra = None, None

    def step(params, x, t, lr, key):
        def loss(q):
            z = _mlp(m, q, x * keep_mask(key) / 0.7)
            return -m.mean(m.sum(m.log_softmax(z) * m.onehot(t, 2), axis=-1))
        val, g = m.value_and_grad(loss)(params)
        return val, {k: params[k] - lr * g[k] for k in params}
    stacked = optree.tree_map(lambda a: m.arr(np.stack([a, a])), p)
    kw = {"randomness": "same"} if lib == "torch.func" else {}
    losses, new = m.vmap(step, in_axes=(0, None, None, 0, in_axes_extra), **kw)(
        stacked, m.arr(pts), m.iarr(labels), m.arr([0.2, 0.4]), mask_arg)
    losses, new = _to_numpy(losses), _to_np_tree(new)
    assert losses[0] == losses[1]
    assert not np.allclose(new["w1"][0], new["w1"][1])


# -- where functrans deliberately differs from torch.func (as JAX does) ---------------------------

def test_outputs_and_aux_that_torch_func_refuses():
    torch = pytest.importorskip("torch")
    tfn = torch.func
    x, t = R(3), R(3)
    X, T = torch.tensor(x), torch.tensor(t)
    # aux of Python numbers and strings: torch.func refuses; functrans (and JAX) pass them on
    for aux in (1, 1.0, "abc"):
        with pytest.raises(RuntimeError, match="Expected tensors"):
            tfn.grad(lambda v: (v.sum(), aux), has_aux=True)(X)
        g, a = ft.grad(lambda v: (fnp.sum(v), [v, aux]), has_aux=True)(x)
        assert a[1] == aux and type(a[1]) is type(aux)
        np.testing.assert_array_equal(g, np.ones(3))
    # the (output, aux) pair as a list: JAX's rule (a pair, tuple or list); torch.func wants a
    # tuple
    with pytest.raises(RuntimeError, match="should be a tuple"):
        tfn.grad(lambda v: [v.sum(), v], has_aux=True)(X)
    g, a = ft.grad(lambda v: [fnp.sum(v), v], has_aux=True)(x)
    np.testing.assert_array_equal(g, np.ones(3))
    with pytest.raises(TypeError, match="must return a pair"):
        ft.grad(lambda v: (fnp.sum(v), v, v), has_aux=True)(x)
    # outputs that are Python numbers or empty: torch.func refuses; here they are constants
    for out in (None, ()):
        with pytest.raises(RuntimeError, match="non-empty output"):
            tfn.vjp(lambda _: out, X)
        _, f = ft.vjp(lambda _: out, x)
        _same(f(out), (np.zeros(3),))
        assert ft.jacrev(lambda _: out)(x) == out and ft.jacfwd(lambda _: out)(x) == out
    with pytest.raises(RuntimeError, match="return only tensors"):
        tfn.jvp(lambda _: 12.2, (X,), (T,))
    _same(ft.jvp(lambda _: 12.2, (x,), (t,)), (12.2, 0.0))
    _same(ft.jacrev(lambda _: 12.2)(x), np.zeros(3))
    # a forward-mode Jacobian of a real-to-complex function: torch.func refuses, JAX and
    # functrans give it; reverse mode needs holomorphic=True in all three
    f = lambda v: fnp.conj(v * 0.5j)
    with pytest.raises(RuntimeError, match="jacfwd: Expected all outputs"):
        tfn.jacfwd(lambda v: torch.conj(v * 0.5j))(X)
    _same(ft.jacfwd(f)(x), np.diag(np.full(3, -0.5j)))
    with pytest.raises(ft.errors.ComplexDerivativeError, match="holomorphic=True"):
        ft.jacrev(f)(x)
    # argnums as a list: JAX accepts any sequence of ints; torch.func only int or tuple
    with pytest.raises(RuntimeError, match="int or Tuple"):
        tfn.grad(torch.mul, argnums=[0])(X, T)
    _same(ft.grad(lambda a, b: fnp.sum(a * b), argnums=[0])(x, t), (t,))


def test_argnums_and_structure_errors_match_torch_funcs_cases():
    x, s = R(3), np.array(0.5)
    mul = lambda a, b: a * b
    for bad, exc, msg in ((-3, ValueError, "argnums -3 is out of range"),
                          (2, ValueError, "argnums 2 is out of range"),
                          (("0",), TypeError, "must be an int or a tuple of ints"),
                          ((0, 0), ValueError, "more than once"),
                          ((0, -2), ValueError, "more than once")):
        with pytest.raises(exc, match=msg):
            ft.grad(mul, argnums=bad)(s, s)
    for jac in (ft.jacrev, ft.jacfwd):
        with pytest.raises(ValueError, match="argnums is empty"):
            jac(fnp.sin, argnums=())(x)
        with pytest.raises(TypeError, match="got 0.0"):
            jac(fnp.sin, argnums=0.0)(x)
        with pytest.raises(TypeError, match=r"got \(1, 0.0\)"):
            jac(mul, argnums=(1, 0.0))(x, x)
        with pytest.raises(TypeError, match="output leaf 0 is a str"):
            jac(lambda _: "abc")(x)
    _, f = ft.vjp(lambda v: (v, (v, v)), s)
    with pytest.raises(ft.errors.TangentMismatchError, match="tree structure of the output"):
        f(((s, (s, s)),))
    one = np.array(1.0)
    with pytest.raises(TypeError, match="must be tuples or lists"):
        ft.jvp(lambda v: v, one, one)
    with pytest.raises(ft.errors.TangentMismatchError, match="same tree structure"):
        ft.jvp(lambda v: v, ((one, one), one), (one, one))
    with pytest.raises(ft.errors.TangentMismatchError, match="same tree structure"):
        ft.jvp(fnp.sin, (x,), (x, x))
    with pytest.raises(ft.errors.TangentMismatchError, match="containers of one type"):
        ft.jvp(fnp.sin, (x,), [x])
    _, lf = ft.linearize(fnp.sin, x[:, None])
    with pytest.raises(ft.errors.TangentMismatchError, match="structure of the primals"):
        lf((x[:, None], x[:, None]))
    with pytest.raises(ft.errors.TangentMismatchError, match=r"shape \(1, 3, 1\)"):
        lf(x[None, :, None])
    with pytest.raises(ft.errors.TangentMismatchError, match="dtype float32"):
        lf(x[:, None].astype(np.float32))


def test_transformed_functions_keep_the_name():
    def my_fn(t):
        return fnp.sum(t)
    for tr in (ft.grad, ft.vmap, ft.jacrev, ft.jacfwd, ft.hessian, ft.value_and_grad,
               functools.partial(ft.vmap, chunk_size=2)):
        assert tr(my_fn).__name__ == "my_fn"


def test_keyword_arguments_are_mapped_as_in_jax_not_passed_through():
    # torch.func.vmap passes keyword arguments unchanged to every member; functrans (as JAX)
    # maps them over their axis 0. Unmapped values go positionally with None in in_axes.
    torch = pytest.importorskip("torch")
    x, b = np.arange(3.0), np.arange(3.0) * 10
    theirs = torch.func.vmap(lambda a, b: a + b)(torch.tensor(x), b=torch.tensor(b))
    np.testing.assert_array_equal(theirs.numpy(), x[:, None] + b[None, :])
    np.testing.assert_array_equal(ft.vmap(lambda a, b: a + b)(x, b=b), x + b)
    np.testing.assert_array_equal(ft.vmap(lambda a, b: a + b, in_axes=(0, None))(x, b),
                                  theirs.numpy())
    with pytest.raises(ft.errors.BatchingError, match=r"kwargs\['b'\]\) of shape \(\)"):
        ft.vmap(lambda a, b: a * b)(x, b=np.array(2.0))


# -- one operation at a time: derivatives of order one to three, against torch.func ---------------
#
# Each entry: functrans's function, torch's (None where torch has none), and the interval the
# inputs are drawn from (away from kinks and poles, where conventions may differ). Values and
# derivatives are checked against finite differences on every backend, and against torch.func
# (values, grad, jacfwd, jacrev, vmap of grad, hessian and a third derivative).

def _ops():
    import functrans.nn as fnn
    import functrans.scipy.special as fsp
    try:
        import torch
        tF, tsp = torch.nn.functional, torch.special
    except ImportError:
        torch = tF = tsp = None

    def T(name, mod="torch"):
        if torch is None:
            return None
        return getattr({"torch": torch, "F": tF, "special": tsp}[mod], name)
    u = (-2.0, 2.0)
    pos, unit, big = (0.2, 3.0), (-0.9, 0.9), (1.1, 3.0)
    ops = {
        # name: (functrans, torch, domain)
        "sin": (fnp.sin, T("sin"), u), "cos": (fnp.cos, T("cos"), u),
        "tan": (fnp.tan, T("tan"), (-1.2, 1.2)), "exp": (fnp.exp, T("exp"), u),
        "expm1": (fnp.expm1, T("expm1"), u), "log": (fnp.log, T("log"), pos),
        "log1p": (fnp.log1p, T("log1p"), (-0.8, 2.0)), "log2": (fnp.log2, T("log2"), pos),
        "log10": (fnp.log10, T("log10"), pos), "sqrt": (fnp.sqrt, T("sqrt"), pos),
        "cbrt": (fnp.cbrt, None, pos), "tanh": (fnp.tanh, T("tanh"), u),
        "sinh": (fnp.sinh, T("sinh"), u), "cosh": (fnp.cosh, T("cosh"), u),
        "arcsin": (fnp.arcsin, T("asin"), unit), "arccos": (fnp.arccos, T("acos"), unit),
        "arctan": (fnp.arctan, T("atan"), u), "arcsinh": (fnp.arcsinh, T("asinh"), u),
        "arccosh": (fnp.arccosh, T("acosh"), big), "arctanh": (fnp.arctanh, T("atanh"), unit),
        "abs": (fnp.abs, T("abs"), u), "square": (fnp.square, T("square"), u),
        "reciprocal": (fnp.reciprocal, T("reciprocal"), pos), "exp2": (fnp.exp2, T("exp2"), u),
        "sinc": (fnp.sinc, T("sinc"), u), "deg2rad": (fnp.deg2rad, T("deg2rad"), u),
        "erf": (fsp.erf, T("erf", "special"), u), "erfc": (fsp.erfc, T("erfc", "special"), u),
        "erfinv": (fsp.erfinv, T("erfinv", "special"), unit),
        "gammaln": (fsp.gammaln, T("gammaln", "special"), pos),
        "digamma": (fsp.digamma, T("digamma", "special"), pos),
        "expit": (fsp.expit, T("expit", "special"), u),
        "logit": (fsp.logit, T("logit", "special"), (0.1, 0.9)),
        "entr": (fsp.entr, T("entr", "special"), pos), "i0": (fsp.i0, T("i0", "special"), u),
        "i0e": (fsp.i0e, T("i0e", "special"), u), "i1": (fsp.i1, T("i1", "special"), u),
        "i1e": (fsp.i1e, T("i1e", "special"), u), "ndtr": (fsp.ndtr, T("ndtr", "special"), u),
        "ndtri": (fsp.ndtri, T("ndtri", "special"), (0.1, 0.9)),
        "log_ndtr": (fsp.log_ndtr, T("log_ndtr", "special"), u),
        "relu": (fnn.relu, T("relu"), u), "relu6": (fnn.relu6, T("relu6", "F"), (-2.0, 8.0)),
        "sigmoid": (fnn.sigmoid, T("sigmoid"), u),
        "softplus": (fnn.softplus, T("softplus", "F"), u),
        "silu": (fnn.silu, T("silu", "F"), u),
        "gelu_tanh": (fnn.gelu, None if torch is None else
                      (lambda x: tF.gelu(x, approximate="tanh")), u),
        "gelu_exact": (lambda x: fnn.gelu(x, approximate=False), T("gelu", "F"), u),
        "elu": (fnn.elu, T("elu", "F"), u), "celu": (fnn.celu, T("celu", "F"), u),
        "selu": (fnn.selu, T("selu", "F"), u),
        "leaky_relu": (fnn.leaky_relu, T("leaky_relu", "F"), u),
        "hard_tanh": (fnn.hard_tanh, T("hardtanh", "F"), u),
        "log_sigmoid": (fnn.log_sigmoid, T("logsigmoid", "F"), u),
        "mish": (fnn.mish, T("mish", "F"), u),
        # (torch has no forward mode for hardsigmoid: its formula instead)
        "hard_sigmoid": (fnn.hard_sigmoid, None if torch is None else
                         (lambda x: tF.relu6(x + 3) / 6), u),
        "hard_swish": (fnn.hard_swish, T("hardswish", "F"), u),
    }
    return ops


_OPS = _ops()


def _op_draw(dom, *shape):
    # away from the kinks of relu-like functions at 0, -3, 3, 6, -1, 1 (by construction)
    x = _RNG[0].uniform(dom[0], dom[1], size=shape)
    for k in (-3.0, -1.0, 0.0, 1.0, 3.0, 6.0):
        near = np.abs(x - k) < 0.05
        x[near] = k + 0.05 * np.sign(x[near] - k + 1e-300)
    return x


def _op_transforms(m, f, x, v):
    """The transforms of the elementwise ``f`` compared for each operation."""
    s = lambda t: m.sum(f(t))
    X, V = m.arr(x), m.arr(v)
    _, pullback = m.vjp(f, V)
    return [f(X), m.grad(s)(X), m.jacfwd(f)(V), m.jacrev(f)(V), m.vmap(m.grad(s))(X),
            m.hessian(s)(V), m.jacfwd(m.hessian(s))(V), m.jvp(f, (V,), (m.ones_like(V),)),
            # batched (co)tangents: vmap over the pullback and over jvp's tangents
            m.vmap(pullback)(X), m.vmap(lambda t: m.jvp(f, (V,), (t,))[1])(X)]


@pytest.mark.parametrize("name", sorted(_OPS))
def test_op_derivatives_match_torch_func(name):
    f, tf, dom = _OPS[name]
    if tf is None:
        pytest.skip(f"torch has no {name}" if _OPS[name][1] is None else "torch not installed")
    _RNG[0] = np.random.default_rng(zlib_crc(name))
    x, v = _op_draw(dom, 3, 4), _op_draw(dom, 4)
    ft_ns, tf_ns = _ft(), _tf()
    _same(_op_transforms(ft_ns, f, x, v), _op_transforms(tf_ns, tf, x, v), tol=1e-9, what=name)


@pytest.mark.parametrize("name", sorted(_OPS))
def test_op_derivatives_match_finite_differences(name, backend):
    f, _, dom = _OPS[name]
    _RNG[0] = np.random.default_rng(zlib_crc(name))
    v = _op_draw(dom, 4)
    m = _ft(backend)
    V = m.arr(v)
    s = lambda t: fnp.sum(f(t))
    fv = lambda t: backend.to_numpy(f(backend.asarray(t)))
    d1 = fd_jac(fv, v)
    _same(m.jacfwd(f)(V), d1, tol=1e-6, what=f"{name} jacfwd")
    _same(m.jacrev(f)(V), d1, tol=1e-6, what=f"{name} jacrev")
    g = lambda t: backend.to_numpy(ft.grad(s)(backend.asarray(t)))
    _same(m.hessian(s)(V), fd_jac(g, v), tol=1e-6, what=f"{name} hessian")


def zlib_crc(name):
    import zlib
    return zlib.crc32(name.encode())


def test_conventions_at_kinks_against_torch_func():
    # Where a function has no derivative both libraries pick one. The same: abs at 0 (0),
    # clip at a bound (passed through), x ** 0 at 0 (0), ties of max/min (split equally),
    # products with zeros. Different (functrans keeps JAX's): the norm of a zero vector and the
    # standard deviation of equal values (nan; torch: 0), leaky_relu at 0 (slope 1; torch:
    # the negative slope), hard_tanh at its corners (1; torch: 0).
    torch = pytest.importorskip("torch")
    import functrans.nn as fnn
    tF = torch.nn.functional
    same = [(fnp.abs, torch.abs, 0.0), (lambda x: fnp.clip(x, 0.0, 1.0),
                                        lambda x: torch.clamp(x, 0.0, 1.0), 0.0),
            (lambda x: fnp.clip(x, 0.0, 1.0), lambda x: torch.clamp(x, 0.0, 1.0), 1.0),
            (lambda x: x ** 0.0, lambda x: x ** 0.0, 0.0), (fnn.relu, torch.relu, 0.0),
            (lambda x: fnp.max(x), torch.amax, [1.0, 3.0, 3.0]),
            (lambda x: fnp.min(x), torch.amin, [1.0, 1.0, 3.0]),
            (lambda x: fnp.prod(x), torch.prod, [0.0, 2.0, 3.0]),
            (lambda x: fnp.prod(x), torch.prod, [0.0, 0.0, 3.0]),
            (lambda x: fnp.sum(fnp.cumprod(x)), lambda x: torch.cumprod(x, 0).sum(),
             [2.0, 0.0, 3.0])]
    for f, tf, x in same:
        x = np.asarray(x, dtype=np.float64)
        _same(ft.grad(f)(x), torch.func.grad(tf)(torch.tensor(x)), tol=0)
    differ = [(lambda x: fnp.linalg.norm(x), torch.linalg.vector_norm, [0.0, 0.0], [np.nan] * 2,
               [0.0, 0.0]),
              (lambda x: fnp.std(x), lambda x: torch.std(x, correction=0), [1.0, 1.0],
               [np.nan] * 2, [0.0, 0.0]),
              (fnn.leaky_relu, tF.leaky_relu, 0.0, 1.0, 0.01),
              (fnn.hard_tanh, tF.hardtanh, 1.0, 1.0, 0.0),
              (fnn.hard_tanh, tF.hardtanh, -1.0, 1.0, 0.0)]
    for f, tf, x, ours, theirs in differ:
        x = np.asarray(x, dtype=np.float64)
        np.testing.assert_array_equal(ft.grad(f)(x), ours)
        np.testing.assert_array_equal(torch.func.grad(tf)(torch.tensor(x)).numpy(), theirs)


# -- reductions, shape and linear-algebra operations: the same transforms, against torch.func ------

def _matrix_ops():
    try:
        import torch
    except ImportError:
        torch = None
    L = fnp.linalg

    def T(f):
        return None if torch is None else f
    tl = None if torch is None else torch.linalg
    g, spd, wide = "general", "spd", "wide"
    return {
        # name: (functrans on a 3x3 (wide: 3x4) matrix, torch's, which matrices)
        "sum_axis0": (lambda a: fnp.sum(a, axis=0), T(lambda a: a.sum(0)), g),
        "mean_axis1": (lambda a: fnp.mean(a, axis=1), T(lambda a: a.mean(1)), g),
        "var": (lambda a: fnp.var(a, axis=1), T(lambda a: a.var(1, correction=0)), g),
        "std_ddof1": (lambda a: fnp.std(a, axis=0, ddof=1), T(lambda a: a.std(0)), g),
        "prod": (lambda a: fnp.prod(a, axis=1), T(lambda a: a.prod(1)), g),
        "cumsum": (lambda a: fnp.cumsum(a, axis=1), T(lambda a: a.cumsum(1)), g),
        "cumprod": (lambda a: fnp.cumprod(a, axis=0), T(lambda a: a.cumprod(0)), g),
        "logsumexp": (lambda a: ft.scipy.special.logsumexp(a, axis=1),
                      T(lambda a: torch.logsumexp(a, 1)), g),
        "softmax": (lambda a: ft.nn.softmax(a, axis=0), T(lambda a: torch.softmax(a, 0)), g),
        "log_softmax": (lambda a: ft.nn.log_softmax(a), T(lambda a: torch.log_softmax(a, -1)), g),
        "max": (lambda a: fnp.max(a, axis=1), T(lambda a: a.amax(1)), g),
        "min": (lambda a: fnp.min(a, axis=0), T(lambda a: a.amin(0)), g),
        "sort": (lambda a: fnp.sort(a, axis=1), T(lambda a: torch.sort(a, 1)[0]), g),
        "transpose_matmul": (lambda a: fnp.matmul(a, fnp.permute_dims(a, (1, 0))),
                             T(lambda a: a @ a.T), wide),
        "einsum": (lambda a: fnp.einsum("ij,jk,kl->il", a, a, a), T(lambda a: torch.einsum(
            "ij,jk,kl->il", a, a, a)), g),
        "kron": (lambda a: fnp.kron(a, a), T(lambda a: torch.kron(a, a)), g),
        "cross": (lambda a: fnp.cross(a[0, :], a[1, :]),
                  T(lambda a: torch.linalg.cross(a[0], a[1])), g),
        "trace": (lambda a: fnp.trace(a), T(lambda a: torch.trace(a)), g),
        "diagonal": (lambda a: fnp.diagonal(a, 1), T(lambda a: torch.diagonal(a, 1)), wide),
        "tril": (lambda a: fnp.tril(a, -1), T(lambda a: torch.tril(a, -1)), g),
        "triu": (lambda a: fnp.triu(a), T(lambda a: torch.triu(a)), wide),
        "outer": (lambda a: fnp.outer(a[0, :], a[1, :]), T(lambda a: torch.outer(a[0], a[1])), g),
        "flip_roll": (lambda a: fnp.roll(fnp.flip(a, axis=0), 1, axis=1),
                      T(lambda a: torch.roll(torch.flip(a, (0,)), 1, 1)), wide),
        "vector_norm": (lambda a: L.vector_norm(a, axis=1), T(lambda a: tl.vector_norm(a, dim=1)),
                        g),
        "vector_norm_3": (lambda a: L.vector_norm(a, ord=3, axis=0),
                          T(lambda a: tl.vector_norm(a, ord=3, dim=0)), g),
        "fro_norm": (lambda a: L.norm(a), T(lambda a: tl.matrix_norm(a)), wide),
        "nuc_norm": (lambda a: L.matrix_norm(a, ord="nuc"), T(lambda a: tl.matrix_norm(a, "nuc")),
                     wide),
        "spectral_norm": (lambda a: L.matrix_norm(a, ord=2), T(lambda a: tl.matrix_norm(a, 2)), g),
        "det": (L.det, T(lambda a: tl.det(a)), g),
        "slogdet": (lambda a: L.slogdet(a)[1], T(lambda a: tl.slogdet(a)[1]), g),
        "inv": (L.inv, T(lambda a: tl.inv(a)), g),
        "solve": (lambda a: L.solve(a, a[:, :1] + 1.0),
                  T(lambda a: tl.solve(a, a[:, :1] + 1.0)), g),
        "cholesky": (L.cholesky, T(lambda a: tl.cholesky(a)), spd),
        "eigvalsh": (L.eigvalsh, T(lambda a: tl.eigvalsh(a)), spd),
        "svdvals": (L.svdvals, T(lambda a: tl.svdvals(a)), wide),
        "pinv": (L.pinv, T(lambda a: tl.pinv(a)), wide),
        "matrix_power": (lambda a: L.matrix_power(a, 3), T(lambda a: tl.matrix_power(a, 3)), g),
        "matrix_power_neg": (lambda a: L.matrix_power(a, -2), T(lambda a: tl.matrix_power(a, -2)),
                             g),
        "expm": (lambda a: ft.scipy.linalg.expm(a * 0.5),
                 T(lambda a: torch.linalg.matrix_exp(a * 0.5)), g),
    }


_MATRIX_OPS = _matrix_ops()


def _matrix_draw(kind):
    if kind == "wide":
        return R(3, 4)
    a = R(3, 3)
    if kind == "spd":
        return a @ a.T + 3 * np.eye(3)
    return a + 3 * np.eye(3)  # well conditioned


def _matrix_transforms(m, f, a, w, spd):
    # an SPD input moves along symmetric directions only (the rules of cholesky and eigvalsh
    # read one triangle or assume symmetry; the two libraries read different ones)
    sym = (lambda t: (t + m.transpose(t)) / 2) if spd else (lambda t: t)
    s = lambda t: m.sum(f(sym(t)) * w(m))
    A = m.arr(a)
    out, pullback = m.vjp(lambda t: f(sym(t)), A)
    cts = m.arr(np.stack([np.ones(np.shape(_to_numpy(out))), np.asarray(_to_numpy(w(m)))]))
    return [f(A), m.grad(s)(A), m.jacfwd(lambda t: f(sym(t)))(A),
            m.jacrev(lambda t: f(sym(t)))(A), m.hessian(s)(A),
            m.vmap(m.grad(s))(m.arr(np.stack([a, a * 1.01]))), m.vmap(pullback)(cts),
            m.vmap(lambda t: m.jvp(lambda u: f(sym(u)), (A,), (t,))[1])(
                m.arr(np.stack([np.ones_like(a), a])))]


@pytest.mark.parametrize("name", sorted(_MATRIX_OPS))
def test_matrix_op_derivatives_match_torch_func(name):
    f, tf, kind = _MATRIX_OPS[name]
    if tf is None:
        pytest.skip("torch not installed")
    _RNG[0] = np.random.default_rng(zlib_crc(name))
    a = _matrix_draw(kind)
    wv = R(*np.shape(f(a)))
    w = lambda m: m.arr(wv)
    _same(_matrix_transforms(_ft(), f, a, w, kind == "spd"),
          _matrix_transforms(_tf(), tf, a, w, kind == "spd"), tol=1e-8, what=name)


@pytest.mark.parametrize("name", sorted(_MATRIX_OPS))
def test_matrix_op_derivatives_match_finite_differences(name, backend):
    f, _, kind = _MATRIX_OPS[name]
    _RNG[0] = np.random.default_rng(zlib_crc(name))
    a = _matrix_draw(kind)
    sym = (lambda t: (t + fnp.permute_dims(t, (1, 0))) / 2) if kind == "spd" else (lambda t: t)
    fs = lambda t: f(sym(t))
    fv = lambda t: backend.to_numpy(fs(backend.asarray(t)))
    d1 = fd_jac(fv, a)
    _same(ft.jacfwd(fs)(backend.asarray(a)), d1, tol=1e-6, what=f"{name} jacfwd")
    _same(ft.jacrev(fs)(backend.asarray(a)), d1, tol=1e-6, what=f"{name} jacrev")


# -- batching rules: operations with axes under vmap, the batch axis in various places ------------

def _vmap_ops():
    try:
        import torch
    except ImportError:
        torch = None

    def T(f):
        return None if torch is None else f
    return {
        # name: (functrans f, torch f, per-member shapes of the arguments)
        "sum_neg_axis_keepdims": (lambda x: fnp.sum(x, axis=-1, keepdims=True),
                                  T(lambda x: x.sum(-1, keepdim=True)), [(3, 4)]),
        "var_axis0": (lambda x: fnp.var(x, axis=0), T(lambda x: x.var(0, correction=0)), [(3, 4)]),
        "cumsum_axis1": (lambda x: fnp.cumsum(x, axis=1), T(lambda x: x.cumsum(1)), [(3, 4)]),
        "softmax_axis0": (lambda x: ft.nn.softmax(x, axis=0), T(lambda x: torch.softmax(x, 0)),
                          [(3, 4)]),
        "sort_axis0": (lambda x: fnp.sort(x, axis=0), T(lambda x: torch.sort(x, 0)[0]), [(3, 4)]),
        "argsort": (lambda x: fnp.argsort(x, axis=-1), T(lambda x: torch.argsort(x, -1)), [(3, 4)]),
        "argmax_axis0": (lambda x: fnp.argmax(x, axis=0), T(lambda x: torch.argmax(x, 0)),
                         [(3, 4)]),
        "flip": (lambda x: fnp.flip(x, axis=1), T(lambda x: torch.flip(x, (1,))), [(3, 4)]),
        "roll": (lambda x: fnp.roll(x, 2, axis=0), T(lambda x: torch.roll(x, 2, 0)), [(3, 4)]),
        "moveaxis": (lambda x: fnp.moveaxis(x, 0, -1), T(lambda x: torch.movedim(x, 0, -1)),
                     [(2, 3, 4)]),
        "reshape": (lambda x: fnp.reshape(x, (4, 3)), T(lambda x: x.reshape(4, 3)), [(3, 4)]),
        "expand_squeeze": (lambda x: fnp.squeeze(fnp.expand_dims(x, 0), axis=0) * 2,
                           T(lambda x: x.unsqueeze(0).squeeze(0) * 2), [(3, 4)]),
        "transpose": (lambda x: fnp.permute_dims(x, (2, 0, 1)), T(lambda x: x.permute(2, 0, 1)),
                      [(2, 3, 4)]),
        "diagonal": (lambda x: fnp.diagonal(x, -1), T(lambda x: torch.diagonal(x, -1)), [(3, 4)]),
        "tile": (lambda x: fnp.tile(x, (2, 1)), T(lambda x: x.repeat(2, 1)), [(3, 4)]),
        "repeat": (lambda x: fnp.repeat(x, 2, axis=1), T(lambda x: x.repeat_interleave(2, 1)),
                   [(3, 4)]),
        "pad": (lambda x: fnp.pad(x, ((1, 0), (0, 2))),
                T(lambda x: torch.nn.functional.pad(x, (0, 2, 1, 0))), [(3, 4)]),
        "getitem_mixed": (lambda x: x[1:, ::2], T(lambda x: x[1:, ::2]), [(3, 4)]),
        "getitem_int": (lambda x: x[-1, 1:], T(lambda x: x[-1, 1:]), [(3, 4)]),
        "matmul": (fnp.matmul, T(lambda a, b: a @ b), [(3, 4), (4, 2)]),
        "matmul_vec": (fnp.matmul, T(lambda a, b: a @ b), [(3, 4), (4,)]),
        "concat_axis1": (lambda a, b: fnp.concat([a, b], axis=1),
                         T(lambda a, b: torch.cat([a, b], 1)), [(3, 4), (3, 2)]),
        "stack_neg": (lambda a, b: fnp.stack([a, b], axis=-1),
                      T(lambda a, b: torch.stack([a, b], -1)), [(3, 4), (3, 4)]),
        "where_broadcast": (lambda a, b: fnp.where(a > 0, a, b),
                            T(lambda a, b: torch.where(a > 0, a, b)), [(3, 4), (4,)]),
        "take_along_axis": (lambda a, i: fnp.take_along_axis(a, i, axis=1),
                            T(lambda a, i: torch.take_along_dim(a, i, 1)),
                            [(3, 4), "idx(3,2)<4"]),
        "take_axis0": (lambda a, i: fnp.take(a, i, axis=0),
                       T(lambda a, i: torch.index_select(a, 0, i)), [(3, 4), "idx(5,)<3"]),
        "einsum": (lambda a, b: fnp.einsum("ij,kj->ik", a, b),
                   T(lambda a, b: torch.einsum("ij,kj->ik", a, b)), [(3, 4), (2, 4)]),
        "tensordot": (lambda a, b: fnp.tensordot(a, b, axes=([1], [0])),
                      T(lambda a, b: torch.tensordot(a, b, dims=([1], [0]))), [(3, 4), (4, 2)]),
        "clip_batched_bounds": (lambda a, lo: fnp.clip(a, lo, lo + 1.0),
                                T(lambda a, lo: torch.clamp(a, lo, lo + 1.0)), [(3, 4), (4,)]),
        # (the shift built from the argument: an eye() would be the default backend's)
        "solve_batched": (lambda a, b: fnp.linalg.solve(
                              a + fnp.diag(fnp.ones_like(a[0, :]) * 4), b),
                          T(lambda a, b: torch.linalg.solve(
                              a + torch.diag(torch.ones_like(a[0]) * 4), b)), [(3, 3), (3, 2)]),
    }


_VMAP_OPS = _vmap_ops()


def _vmap_draw(spec, n, ax):
    if isinstance(spec, str):  # "idx(shape)<bound": integer indices
        shape = tuple(int(s) for s in spec[4:spec.index(")")].split(",") if s)
        bound = int(spec.split("<")[1])
        d = _RNG[0].integers(0, bound, size=(n,) + shape)
    else:
        d = R(n, *spec)
    return np.moveaxis(d, 0, ax)


_AXES_CONFIGS = [(0, 0), (1, -1), (-1, 1)]


@pytest.mark.parametrize("name", sorted(_VMAP_OPS))
def test_vmap_op_in_every_axis_matches_torch_func_and_a_loop(name):
    f, tf, specs = _VMAP_OPS[name]
    for in_ax, out_ax in _AXES_CONFIGS:
        _RNG[0] = np.random.default_rng(zlib_crc(name))
        n = 5
        # every argument mapped over in_ax; then the first mapped, the others not
        args = [_vmap_draw(s, n, in_ax if not isinstance(s, str) else 0) for s in specs]
        axes_sets = [tuple(in_ax if not isinstance(s, str) else 0 for s in specs)]
        if len(specs) > 1:
            first_only = [a if k == 0 else np.take(a, 0, axis=ax)
                          for k, (a, ax) in enumerate(zip(args, axes_sets[0]))]
            axes_sets.append((axes_sets[0][0],) + (None,) * (len(specs) - 1))
        for axes in axes_sets:
            call = args if axes is axes_sets[0] else first_only
            ours = ft.vmap(f, in_axes=axes, out_axes=out_ax)(*call)
            members = [f(*[a if ax is None else np.take(a, i, axis=ax)
                           for a, ax in zip(call, axes)]) for i in range(n)]
            loop = np.stack([np.asarray(mm) for mm in members], axis=out_ax)
            _same(ours, loop, tol=1e-12, what=f"{name} {axes} -> {out_ax}")
            if tf is not None and _tf_available():
                import torch
                theirs = torch.func.vmap(tf, in_dims=axes, out_dims=out_ax)(
                    *[torch.tensor(a) for a in call])
                _same(ours, theirs, tol=1e-12, what=f"{name} {axes} -> {out_ax} torch")


def _tf_available():
    import importlib.util
    return importlib.util.find_spec("torch") is not None


def test_a_bad_chunk_size_is_refused_when_the_transform_is_made():
    for tr in (ft.jacfwd, ft.jacrev, ft.hessian, ft.vmap):
        with pytest.raises(ValueError, match=r"chunk_size must be a positive int or None; "
                                             r"got -2"):
            tr(lambda z: z * 2, chunk_size=-2)


def test_torch_func_names_point_to_functrans_spellings():
    for name, hint in (("grad_and_value", r"value_and_grad.*\(value, grad\)"),
                       ("functional_call", "dict of parameters"),
                       ("stack_module_state", "functrans.numpy.stack"),
                       ("functionalize", r"x\.at\[i\]\.set")):
        with pytest.raises(AttributeError, match=f"no '{name}' \\(a torch.func name\\); use "
                                                 f".*{hint}"):
            getattr(ft, name)
    assert not hasattr(ft, "no_such_name")
    with pytest.raises(AttributeError, match="has no attribute 'no_such_name'"):
        ft.no_such_name


@pytest.mark.parametrize("name", sorted(_VMAP_OPS))
def test_vmap_op_in_every_axis_on_every_backend(name, backend):
    f, _, specs = _VMAP_OPS[name]
    on = lambda a: backend.asarray(a, dtype="int64" if a.dtype.kind == "i" else "float64")
    for in_ax, out_ax in _AXES_CONFIGS[1:]:
        _RNG[0] = np.random.default_rng(zlib_crc(name))
        n = 3
        axes = tuple(in_ax if not isinstance(s, str) else 0 for s in specs)
        args = [_vmap_draw(s, n, ax) for s, ax in zip(specs, axes)]
        ours = ft.vmap(f, in_axes=axes, out_axes=out_ax)(*[on(a) for a in args])
        assert backend.is_own(ours)
        members = [backend.to_numpy(f(*[on(np.take(a, i, axis=ax)) for a, ax in zip(args, axes)]))
                   for i in range(n)]
        _same(ours, np.stack(members, axis=out_ax), tol=1e-12, what=f"{name} {axes} -> {out_ax}")


def test_complex_conventions_against_torch_func():
    # functrans keeps JAX's conventions for complex numbers. The gradient of a real function
    # of z = x + iy is df/dx - i df/dy (PyTorch's is its conjugate, the direction of steepest
    # ascent); vjp's cotangent multiplies the Jacobian unconjugated (PyTorch conjugates it).
    # jvp agrees.
    torch = pytest.importorskip("torch")
    z = np.array([1 + 2j, -0.5 + 0.3j])
    x, y = z.real, z.imag
    g = ft.grad(lambda v: fnp.sum(fnp.real(v) * fnp.imag(v) ** 2))(z)
    np.testing.assert_allclose(g, y ** 2 - 1j * (2 * x * y), rtol=1e-14)
    gt = torch.func.grad(lambda v: torch.sum(v.real * v.imag ** 2))(torch.tensor(z)).numpy()
    np.testing.assert_allclose(g, np.conj(gt), rtol=1e-14)
    v = np.array([1 + 1j, 0.5 - 2j])
    ours = ft.vjp(fnp.sin, z)[1](v)[0]
    np.testing.assert_allclose(ours, v * np.cos(z), rtol=1e-14)
    theirs = torch.func.vjp(torch.sin, torch.tensor(z))[1](torch.tensor(v))[0].numpy()
    np.testing.assert_allclose(theirs, v * np.conj(np.cos(z)), rtol=1e-14)
    tan = ft.jvp(fnp.sin, (z,), (v,))[1]
    np.testing.assert_allclose(
        tan, torch.func.jvp(torch.sin, (torch.tensor(z),), (torch.tensor(v),))[1].numpy(),
        rtol=1e-14)
