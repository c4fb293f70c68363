"""Programs of the kind written for JAX, for autograd and in plain NumPy, run with the imports
swapped to functrans (round 3; see test_ported_programs.py and test_ported_programs2.py),
compared with the original library computed here (skipped where it is not installed) and with
an independent reference (finite differences by ``check_grads``, closed forms, NumPy): values
and derivatives to ~1e-10 in float64.

The first part holds the regressions found while porting them (``jax.tree_util``'s
``register_pytree_node_class``, ``register_dataclass``, ``Partial``, ``is_leaf``, paths and
``keystr``, ``tree_transpose``; ``jax.ops``'s segment reductions; NumPy's ``s_`` and
``index_exp``); the second, short end-to-end programs.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import NamedTuple

import numpy as np
import pytest

import functrans as ft
import functrans.lax as flax
import functrans.nn as fnn
import functrans.numpy as fnp
import functrans.ops as fops
import functrans.random as frandom
import functrans.scipy.stats as fstats
import functrans.tree as ftree
from functrans.ode import odeint as fodeint
from functrans.scipy.special import logsumexp as flse
from functrans.testing import check_grads


from ._ported import _autograd, _jax, close  # noqa: E402


# -- regressions: jax.tree_util's names (functrans/tree.py) --------------------------------------


@ftree.register_pytree_node_class
class _Linear:
    def __init__(self, w, b):
        self.w, self.b = w, b

    def __call__(self, x):
        return fnp.tanh(x @ self.w + self.b)

    def tree_flatten(self):
        return (self.w, self.b), None

    @classmethod
    def tree_unflatten(cls, aux, children):
        return cls(*children)


@functools.partial(ftree.register_dataclass, data_fields=["layers", "scale"],
                   meta_fields=["name"])
@dataclasses.dataclass
class _Model:
    layers: list
    scale: object
    name: str = "mlp"


@ftree.register_dataclass
@dataclasses.dataclass
class _State:
    x: object
    v: object
    dt: float = dataclasses.field(default=0.1, metadata=dict(static=True))


def _model():
    r = np.random.RandomState(0)
    return _Model([_Linear(r.randn(3, 4) * 0.5, r.randn(4) * 0.1),
                   _Linear(r.randn(4, 2) * 0.5, np.zeros(2))], np.asarray(2.0))


def _apply(model, x):
    for layer in model.layers:
        x = layer(x)
    return model.scale * x


def test_register_pytree_node_class_and_dataclass():
    m = _model()
    leaves, treedef = ftree.tree_flatten(m)
    assert len(leaves) == 5 and ftree.tree_unflatten(treedef, leaves).name == "mlp"
    g = ft.grad(lambda m, x: fnp.sum(_apply(m, x) ** 2))(m, np.ones(3))
    assert type(g) is _Model and type(g.layers[0]) is _Linear and g.name == "mlp"
    assert g.layers[0].w.shape == (3, 4)
    # static fields of register_dataclass: part of the structure, not leaves
    s = _State(np.ones(2), np.zeros(2), dt=0.5)
    assert len(ftree.tree_leaves(s)) == 2
    out = ft.jit(lambda s: _State(s.x + s.dt * s.v, s.v - s.dt * s.x, s.dt))(s)
    assert out.dt == 0.5 and np.allclose(out.v, -0.5)
    assert ftree.tree_structure(s) != ftree.tree_structure(_State(s.x, s.v, dt=0.2))
    with pytest.raises(TypeError, match="both data_fields and meta_fields"):
        ftree.register_dataclass(_State, data_fields=["x"])


def test_tree_is_leaf_paths_and_keystr():
    m = _model()
    is_lin = lambda n: isinstance(n, _Linear)  # noqa: E731
    sizes = ftree.tree_map(lambda l: l.w.size + l.b.size, m.layers, is_leaf=is_lin)
    assert sizes == [16, 10]
    assert len(ftree.tree_leaves(m, is_leaf=is_lin)) == 3
    assert len(ftree.tree_flatten(m, is_leaf=is_lin)[0]) == 3
    assert ftree.tree_structure(m, is_leaf=is_lin).num_leaves == 3
    names = [ftree.keystr(p) for p, _ in ftree.tree_leaves_with_path(m)]
    assert names == [".layers[0][<flat index 0>]", ".layers[0][<flat index 1>]",
                     ".layers[1][<flat index 0>]", ".layers[1][<flat index 1>]", ".scale"]
    pairs, treedef = ftree.tree_flatten_with_path({"a": [1, 2], "b": 3})
    assert [ftree.keystr(p) for p, _ in pairs] == ["['a'][0]", "['a'][1]", "['b']"]
    assert ftree.keystr(pairs[1][0], simple=True, separator="/") == "a/1"
    assert treedef == ftree.tree_structure({"a": [1, 2], "b": 3})
    assert ftree.leaves_with_path is ftree.tree_leaves_with_path
    assert ftree.tree_reduce(lambda a, b: a + b, [1, 2], initializer=10) == 13
    assert ftree.tree_reduce(lambda a, b: a + len(b), [[1, 2], [3]], 0,
                             is_leaf=lambda n: isinstance(n, list) and type(n[0]) is int) == 3
    assert ftree.all_leaves([1, 2.0]) and not ftree.all_leaves([[1]])


def test_partial_and_tree_transpose():
    m = _model()
    xs = np.random.RandomState(1).randn(4, 3)
    f = ftree.Partial(_apply, m)
    out = ft.jit(lambda f, x: f(x))(f, xs)  # a function closed over arrays through jit
    close(_apply(m, xs), out)
    close(ft.vmap(lambda f, x: f(x), (None, 0))(f, xs), out)
    g = ft.grad(lambda f, x: fnp.sum(f(x)))(f, xs)  # the bound arguments are the leaves
    assert type(g) is ftree.Partial and type(g.args[0]) is _Model
    p2 = ftree.Partial(ftree.Partial(fnp.add, 1.0), 2.0)  # the inner one static, as JAX's
    assert p2.func.func is fnp.add and p2.args == (2.0,) and float(p2()) == 3.0
    per = [{"w": np.full(2, i), "b": float(i)} for i in range(3)]
    outer = ftree.tree_structure([0] * 3)
    t = ftree.tree_transpose(outer, ftree.tree_structure(per[0]), per)
    assert t["b"] == [0.0, 1.0, 2.0] and len(t["w"]) == 3
    assert ftree.tree_transpose(outer, None, per)["b"] == [0.0, 1.0, 2.0]

    @ftree.register_static
    class Cfg:
        def __init__(self, n):
            self.n = n

        def __eq__(self, o):
            return type(o) is Cfg and o.n == self.n

        def __hash__(self):
            return hash(self.n)
    assert ftree.tree_leaves([Cfg(2), 1.0]) == [1.0]
    assert ft.jit(lambda c, x: x * c.n)(Cfg(3), 2.0) == 6.0


def test_tree_against_jax_tree_util():
    jax = _jax()
    tu = jax.tree_util
    tree = {"a": [np.ones(2), (3.0, None)], "b": {"c": np.zeros(1)}}
    assert [tu.keystr(p) for p, _ in tu.tree_leaves_with_path(tree)] == \
        [ftree.keystr(p) for p, _ in ftree.tree_leaves_with_path(tree)]
    per = [{"w": float(i), "b": [i, i + 1]} for i in range(2)]
    ref = tu.tree_transpose(tu.tree_structure([0, 0]), tu.tree_structure(per[0]), per)
    assert ref == ftree.tree_transpose(ftree.tree_structure([0, 0]),
                                       ftree.tree_structure(per[0]), per)


# -- regressions: jax.ops's segment reductions (functrans/ops.py) --------------------------------

_DATA = np.random.RandomState(2).randn(7, 3)
_IDS = np.array([0, 2, 2, 5, -1, 0, 9])


def _segment_loop(data, ids, n, op, fill, clip=False):
    out = np.full((n,) + data.shape[1:], fill, dtype=data.dtype)
    for d, i in zip(data, ids):
        i = min(max(i, 0), n - 1) if clip else i
        if 0 <= i < n:
            out[i] = op(out[i], d)
    return out


@pytest.mark.parametrize("name, op, fill", [
    ("segment_sum", np.add, 0), ("segment_prod", np.multiply, 1),
    ("segment_max", np.maximum, -np.inf), ("segment_min", np.minimum, np.inf)])
def test_segment_reductions_values(backend, name, op, fill):
    f = getattr(fops, name)
    for n, clip in [(6, False), (4, False), (6, True)]:
        out = f(backend.asarray(_DATA), backend.asarray(_IDS, "int64"), n,
                mode="clip" if clip else None)
        assert backend.is_own(out)
        close(_segment_loop(_DATA, _IDS, n, op, fill, clip), backend.to_numpy(out))
    ints = np.arange(7)  # integers: the dtype's extremes for empty segments
    ifill = {"segment_max": np.iinfo(np.int64).min, "segment_min": np.iinfo(np.int64).max}
    out = f(ints, _IDS, 6)
    assert out.dtype == np.int64
    np.testing.assert_array_equal(_segment_loop(ints, _IDS, 6, op, ifill.get(name, fill)),
                                  out)
    close(_segment_loop(_DATA, _IDS, 10, op, fill), f(_DATA, _IDS))  # num_segments: max + 1


def test_segment_reductions_derivatives_and_transforms():
    ids = np.array([0, 1, 1, 2, 0, 0, 2])
    for f in (fops.segment_sum, fops.segment_max, fops.segment_min, fops.segment_prod):
        check_grads(lambda d: f(d, ids, 3), (_DATA,), order=2)
    check_grads(lambda d: fops.segment_sum(d, _IDS, 6), (_DATA,), order=1)
    # traced ids (jit, vmap) for segment_sum
    j = ft.jit(lambda d, i: fops.segment_sum(d, i, num_segments=6))(_DATA, _IDS)
    close(_segment_loop(_DATA, _IDS, 6, np.add, 0), j)
    xs = np.random.RandomState(3).randn(2, 7)
    v = ft.vmap(lambda d: fops.segment_sum(d, _IDS, 6))(xs)
    close(np.stack([_segment_loop(x, _IDS, 6, np.add, 0.0) for x in xs]), v)
    v = ft.vmap(lambda d: fops.segment_max(d, _IDS, 6))(xs)
    close(np.stack([_segment_loop(x, _IDS, 6, np.maximum, -np.inf) for x in xs]), v)
    ids2 = np.array([[0, 1], [1, 0]])  # several id dimensions: data's leading ones
    close(np.array([[5.0], [5.0]]),
          fops.segment_sum(np.array([[[1.0], [2.0]], [[3.0], [4.0]]]), ids2, 2))


def test_segment_reductions_errors():
    with pytest.raises(ValueError, match="num_segments is needed"):
        ft.jit(lambda d, i: fops.segment_sum(d, i))(_DATA, _IDS)
    with pytest.raises(ValueError, match="leading dimensions"):
        fops.segment_sum(_DATA, _IDS[:3], 4)
    with pytest.raises(TypeError, match="must be integers"):
        fops.segment_sum(_DATA, _IDS * 1.0, 4)
    with pytest.raises(ValueError, match="mode"):
        fops.segment_sum(_DATA, _IDS, 4, mode="wrap")


def test_segment_reductions_against_jax():
    jax = _jax()
    for name in ["segment_sum", "segment_prod", "segment_max", "segment_min"]:
        for kw in [dict(num_segments=6), dict(num_segments=4), dict(num_segments=6, mode="clip"),
                   dict()]:
            close(getattr(jax.ops, name)(_DATA, _IDS, **kw), getattr(fops, name)(_DATA, _IDS, **kw))


# -- regressions: NumPy's index expressions ------------------------------------------------------


@pytest.mark.parametrize("expr", ["[1:3, ::2]", "[::2]", "[..., None, 1]", "[2]", "[:, [0, 2]]"])
def test_s_and_index_exp_as_numpy(expr):
    assert eval("fnp.s_" + expr) == eval("np.s_" + expr)
    assert eval("fnp.index_exp" + expr) == eval("np.index_exp" + expr)
    x = np.arange(24.0).reshape(4, 6)
    if expr != "[..., None, 1]":
        np.testing.assert_array_equal(eval("x[np.s_" + expr + "]"),
                                      fnp.asarray(x)[eval("fnp.s_" + expr)])


# -- end-to-end programs --------------------------------------------------------------------------


def _gmm(np, mvn, lse):
    """autograd's examples/gmm.py: a mixture of Gaussians' log marginal likelihood."""
    def unpack(params):
        normalized = np.exp(params["log proportions"] - lse(params["log proportions"]))
        lower = np.tril(params["lower triangles"])
        return normalized, params["means"], np.einsum("kij,kjl->kil", lower,
                                                      lower.transpose((0, 2, 1)))

    def log_marginal(params, data):
        cluster_lls = []
        for p, mean, cov in zip(*unpack(params)):
            cluster_lls.append(np.log(p) + mvn.logpdf(data, mean, cov))
        return np.sum(lse(np.vstack(cluster_lls), axis=0))
    return log_marginal


def test_gaussian_mixture_by_gradient_ascent_as_autograd():
    rs = np.random.RandomState(1)
    data = np.concatenate([rs.randn(12, 2) + 2, rs.randn(12, 2) - 1])
    params = {"log proportions": rs.randn(2) * 0.1, "means": rs.randn(2, 2),
              "lower triangles": np.eye(2) + 0.1 * rs.randn(2, 2, 2)}
    f = _gmm(fnp, fstats.multivariate_normal, flse)
    flat, unravel = ftree.ravel_pytree(params)
    check_grads(lambda v: f(unravel(v), data), (flat,), order=2, modes=("rev",))

    def train(vg, v):
        for _ in range(4):
            v = v + 0.01 * vg(v)[1]
        return v
    out = train(ft.value_and_grad(lambda v: f(unravel(v), data)), flat)
    ag = _autograd()
    import autograd.numpy as anp
    import autograd.scipy.stats.multivariate_normal as amvn
    from autograd.misc import flatten
    from autograd.scipy.special import logsumexp
    fa = _gmm(anp, amvn, logsumexp)
    aflat, aunravel = flatten(params)
    close(aflat, flat)
    close(ag.value_and_grad(fa)(params, data), ft.value_and_grad(f)(params, data), 1e-9)
    close(train(ag.value_and_grad(lambda v: fa(aunravel(v), data)), aflat), out, 1e-9)


def _graph_net(np, segment_sum, senders, receivers, n_nodes):
    """A jraph-style message-passing network: edge messages summed per receiving node."""
    def layer(params, h):
        msg = np.tanh(np.concatenate([h[senders], h[receivers]], axis=-1) @ params["W_msg"])
        agg = segment_sum(msg, receivers, num_segments=n_nodes)
        deg = segment_sum(np.ones(len(senders)), receivers, num_segments=n_nodes)
        agg = agg / np.maximum(deg, 1.0)[:, None]
        return np.tanh(np.concatenate([h, agg], axis=-1) @ params["W_upd"])

    def loss(params, h):
        for _ in range(2):
            h = layer(params, h)
        e = h @ params["w_out"]
        pooled = np.zeros(2).at[np.arange(n_nodes) % 2].add(e)  # readout by scatter-add
        return np.sum(pooled ** 2)
    return loss


def test_graph_network_with_segment_sum_as_jax():
    rs = np.random.RandomState(0)
    n, d = 6, 3
    senders, receivers = rs.randint(0, n, 12), rs.randint(0, n, 12)
    nodes = rs.randn(n, d)
    params = {"W_msg": rs.randn(2 * d, d) * 0.3, "W_upd": rs.randn(2 * d, d) * 0.3,
              "w_out": rs.randn(d)}
    f = _graph_net(fnp, fops.segment_sum, senders, receivers, n)
    check_grads(f, (params, nodes), order=1)
    close(f(params, nodes), ft.jit(f)(params, nodes))
    jax = _jax()
    import jax.numpy as jnp
    fj = _graph_net(jnp, jax.ops.segment_sum, senders, receivers, n)
    close(jax.value_and_grad(fj, (0, 1))(params, nodes),
          ft.value_and_grad(f, (0, 1))(params, nodes))


def _neural_ode(np, odeint, t, target):
    def mlp(params, y):
        for W, b in params[:-1]:
            y = np.tanh(y @ W + b)
        W, b = params[-1]
        return y @ W + b

    def loss(params, y0):
        ys = odeint(lambda y, t, p: mlp(p, y), y0, t, params, rtol=1e-10, atol=1e-10)
        return np.mean((ys - target) ** 2)
    return loss


def test_neural_ode_by_the_adjoint_as_jax():
    rs = np.random.RandomState(0)
    params = [(rs.randn(2, 5) * 0.5, np.zeros(5)), (rs.randn(5, 2) * 0.5, np.zeros(2))]
    t = np.linspace(0.0, 0.6, 3)
    y0 = np.array([1.0, 0.0])
    target = np.stack([np.cos(3 * t), -np.sin(3 * t)], 1)
    f = _neural_ode(fnp, fodeint, t, target)
    g = ft.grad(f, (0, 1))(params, y0)
    flat, unravel = ftree.ravel_pytree((params, y0))
    fd = np.array([(f(*unravel(flat + e)) - f(*unravel(flat - e))) / 2e-5
                   for e in np.eye(flat.size) * 1e-5])
    close(fd, ftree.ravel_pytree(g)[0], 1e-7)
    jax = _jax()
    import jax.numpy as jnp
    from jax.experimental.ode import odeint
    fj = _neural_ode(jnp, odeint, t, target)
    close(jax.value_and_grad(fj, (0, 1))(params, y0), ft.value_and_grad(f, (0, 1))(params, y0),
          1e-8)


def _kalman(np, lax, mvn, ys):
    """A Kalman filter and Rauch-Tung-Striebel smoother with lax.scan (dynamax style)."""
    F = np.array([[1.0, 0.1], [0.0, 1.0]])

    def obj(p):
        Q, R = np.exp(p[0]) * np.eye(2), np.exp(p[1]) * np.eye(2)

        def filt(carry, y):
            m, P, ll = carry
            m_pred, P_pred = F @ m, F @ P @ F.T + Q
            S = P_pred + R
            K = np.linalg.solve(S, P_pred).T
            ll = ll + mvn.logpdf(y, m_pred, S)
            m_new, P_new = m_pred + K @ (y - m_pred), (np.eye(2) - K) @ P_pred
            return (m_new, P_new, ll), (m_new, P_new, m_pred, P_pred)
        (mT, PT, ll), (ms, Ps, mps, Pps) = lax.scan(filt, (np.zeros(2), np.eye(2), 0.0), ys)

        def smooth(carry, args):
            m_s, P_s = carry
            m, P, m_p, P_p = args
            G = P @ F.T @ np.linalg.inv(P_p)
            m_s, P_s = m + G @ (m_s - m_p), P + G @ (P_s - P_p) @ G.T
            return (m_s, P_s), m_s
        _, msm = lax.scan(smooth, (mT, PT), (ms[:-1], Ps[:-1], mps[1:], Pps[1:]), reverse=True)
        return -ll + 1e-2 * np.sum(msm ** 2)
    return obj


def test_kalman_smoother_with_scan_as_jax():
    rs = np.random.RandomState(0)
    ys = np.cumsum(rs.randn(10, 2) * 0.3, 0) + rs.randn(10, 2) * 0.2
    f = _kalman(fnp, flax, fstats.multivariate_normal, ys)
    p = np.array([-1.0, -2.0])
    check_grads(f, (p,), order=2)
    close(ft.grad(f)(p), ft.jit(ft.grad(f))(p))
    jax = _jax()
    import jax.numpy as jnp
    import jax.scipy.stats as jstats
    fj = _kalman(jnp, jax.lax, jstats.multivariate_normal, ys)
    close(jax.value_and_grad(fj)(p), ft.value_and_grad(f)(p), 1e-9)


def _expected_improvement(np, norm, X, y):
    """autograd's examples/bayesian_optimization.py: a GP posterior's expected improvement."""
    def rbf(a, b):
        return np.exp(-0.5 * np.sum((a[:, None, :] - b[None, :, :]) ** 2, axis=2) / 0.49)

    def neg_ei(x):
        L = np.linalg.cholesky(rbf(X, X) + 1e-6 * np.eye(len(X)))
        Ks = rbf(np.reshape(x, (1, 1)), X)
        alpha = np.linalg.solve(L.T, np.linalg.solve(L, y))
        v = np.linalg.solve(L, Ks.T)
        mean, var = np.dot(Ks, alpha), 1.0 - np.sum(v ** 2, axis=0)
        std = np.sqrt(np.maximum(var, 1e-12))
        z = (np.min(y) - mean) / std
        return -np.sum(std * (z * norm.cdf(z) + norm.pdf(z)))
    return neg_ei


def test_bayesian_optimisation_expected_improvement_as_autograd():
    from scipy.optimize import minimize
    rs = np.random.RandomState(0)
    X = rs.uniform(-2, 2, (7, 1))
    y = np.sin(3 * X[:, 0]) + X[:, 0] ** 2
    f = _expected_improvement(fnp, fstats.norm, X, y)
    check_grads(f, (np.array([0.3]),), order=2)
    res = minimize(ft.value_and_grad(f), np.array([0.3]), jac=True, method="L-BFGS-B",
                   bounds=[(-2, 2)])
    assert res.success and abs(float(ft.grad(f)(res.x)[0])) < 1e-4
    grid = np.linspace(-2, 2, 5)
    eg = ft.elementwise_grad(lambda g: fnp.array([f(gi) for gi in g]))(grid)
    close(np.array([ft.grad(f)(np.array([gi]))[0] for gi in grid]), eg)
    ag = _autograd()
    import autograd.numpy as anp
    import autograd.scipy.stats.norm as anorm
    fa = _expected_improvement(anp, anorm, X, y)
    ra = minimize(ag.value_and_grad(fa), np.array([0.3]), jac=True, method="L-BFGS-B",
                  bounds=[(-2, 2)])
    close(ra.x, res.x, 1e-8)
    assert ra.nit == res.nit


def _realnvp(np, random, nn, norm, tree, value_and_grad):
    """RealNVP (Dinh et al.): affine coupling layers with alternating masks."""
    D = 4
    masks = [np.arange(D) % 2 == i % 2 for i in range(4)]

    def mlp(p, x):
        x = nn.relu(x @ p[0]["w"] + p[0]["b"])
        return x @ p[1]["w"] + p[1]["b"]

    def coupling(p, mask, x):
        s, t = np.split(mlp(p, x * mask), 2, axis=-1)
        return np.tanh(s) * (1 - mask), t * (1 - mask)

    def forward(params, x):
        logdet = np.zeros(x.shape[0])
        for p, mask in zip(params, masks):
            s, t = coupling(p, mask, x)
            x = x * mask + (1 - mask) * (x * np.exp(s) + t)
            logdet = logdet + np.sum(s, axis=-1)
        return x, logdet

    def inverse(params, z):
        for p, mask in reversed(list(zip(params, masks))):
            s, t = coupling(p, mask, z)
            z = z * mask + (1 - mask) * (z - t) * np.exp(-s)
        return z

    def nll(params, x):
        z, logdet = forward(params, x)
        return -np.mean(np.sum(norm.logpdf(z), axis=-1) + logdet)

    def run(seed):
        k1, k2 = random.split(random.PRNGKey(seed))
        params = []
        for k in random.split(k1, 4):
            ka, kb = random.split(k)
            params.append([{"w": random.normal(ka, (D, 8)) * 0.3, "b": np.zeros(8)},
                           {"w": random.normal(kb, (8, 2 * D)) * 0.3, "b": np.zeros(2 * D)}])
        x = random.normal(k2, (8, D)) * np.array([1.0, 2.0, 0.5, 1.0])
        loss, g = value_and_grad(nll)(params, x)
        params = tree.map(lambda p, gg: p - 0.1 * gg, params, g)
        z, logdet = forward(params, x)
        return loss, g, inverse(params, z), x, logdet, params
    return run, forward


def test_realnvp_flow_with_random_keys_as_jax():
    run, forward = _realnvp(fnp, frandom, fnn, fstats.norm, ftree, ft.value_and_grad)
    out = run(0)
    close(out[3], out[2])  # the inverse undoes the flow
    x, params = out[3], out[5]
    jac = ft.vmap(ft.jacfwd(lambda xi: forward(params, xi[None])[0][0]))(x)
    close(np.linalg.slogdet(np.asarray(jac))[1], out[4])  # log|det| by the coupling's formula
    jax = _jax()
    import jax.numpy as jnp
    from jax.scipy.stats import norm as jnorm
    ref = _realnvp(jnp, jax.random, jax.nn, jnorm, jax.tree, jax.value_and_grad)[0](0)
    close(ref, out, 1e-9)


def _cnn(np, lax, nn, vmap, grad, shape):
    """A stax-style CNN: NHWC convolutions, max pooling and average pooling by
    reduce_window, per-example gradients by vmap of grad."""
    dn = lax.conv_dimension_numbers(shape, (3, 3, 1, 4), ("NHWC", "HWIO", "NHWC"))

    def net(p, x):
        x = lax.conv_general_dilated(x, p["c1"], (1, 1), "SAME", dimension_numbers=dn) + p["b1"]
        x = lax.reduce_window(nn.relu(x), -np.inf, lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")
        x = lax.conv_general_dilated(x, p["c2"], (1, 1), ((1, 1), (1, 1)), rhs_dilation=(2, 2),
                                     dimension_numbers=("NHWC", "HWIO", "NHWC"))
        x = lax.reduce_window(nn.gelu(x), 0.0, lax.add, (1, 2, 2, 1), (1, 1, 1, 1), "SAME") / 4
        return nn.log_softmax(np.mean(x, axis=(1, 2)) @ p["w"])

    def loss(p, x, y):
        return -np.mean(np.sum(net(p, x) * nn.one_hot(y, 3), axis=-1))
    return loss, vmap(grad(lambda p, x, y: loss(p, x[None], y[None])), in_axes=(None, 0, 0))


def test_cnn_per_example_gradients_as_jax():
    rs = np.random.RandomState(0)
    params = {"c1": rs.randn(3, 3, 1, 4) * 0.3, "b1": np.zeros(4),
              "c2": rs.randn(3, 3, 4, 6) * 0.2, "w": rs.randn(6, 3) * 0.3}
    imgs, labels = rs.randn(3, 6, 6, 1), np.array([0, 2, 1])
    loss, per = _cnn(fnp, flax, fnn, ft.vmap, ft.grad, imgs.shape)
    pe = per(params, imgs, labels)
    loop = [ft.grad(loss)(params, imgs[i:i + 1], labels[i:i + 1]) for i in range(3)]
    close(ftree.tree_map(lambda *a: np.stack(a), *loop), pe)
    check_grads(lambda c2, w: loss(dict(params, c2=c2, w=w), imgs, labels),
                (params["c2"], params["w"]), order=1, modes=("rev",))
    jax = _jax()
    import jax.numpy as jnp
    lj = _cnn(jnp, jax.lax, jax.nn, jax.vmap, jax.grad, imgs.shape)[0]
    close(jax.value_and_grad(lj)(params, imgs, labels), ft.value_and_grad(loss)(params, imgs,
                                                                                labels))


class _GT(NamedTuple):
    init: object
    update: object


class _AdamState(NamedTuple):
    count: object
    mu: object
    nu: object


def _optax_like(np, tu):
    """optax's chain(clip_by_global_norm, scale_by_adam, scale_by_schedule), restated."""
    def clip_by_global_norm(max_norm):
        def update(u, s, p=None):
            g_norm = np.sqrt(sum(np.sum(x ** 2) for x in tu.tree_leaves(u)))
            trigger = np.squeeze(g_norm < max_norm)
            return tu.tree_map(lambda t: np.where(trigger, t, (t / g_norm) * max_norm), u), s
        return _GT(lambda p: (), update)

    def scale_by_adam(b1=0.9, b2=0.999, eps=1e-8):
        def init(p):
            return _AdamState(np.zeros([], np.int32), tu.tree_map(np.zeros_like, p),
                              tu.tree_map(np.zeros_like, p))

        def update(u, s, p=None):
            mu = tu.tree_map(lambda g, t: (1 - b1) * g + b1 * t, u, s.mu)
            nu = tu.tree_map(lambda g, t: (1 - b2) * g ** 2 + b2 * t, u, s.nu)
            c = s.count + 1
            u = tu.tree_map(lambda m, v: (m / (1 - b1 ** c)) / (np.sqrt(v / (1 - b2 ** c)) + eps),
                            mu, nu)
            return u, _AdamState(c, mu, nu)
        return _GT(init, update)

    def scale_by_schedule(f):
        return _GT(lambda p: np.zeros([], np.int32),
                   lambda u, s, p=None: (tu.tree_map(lambda g: f(s) * g, u), s + 1))

    ts = (clip_by_global_norm(1.0), scale_by_adam(),
          scale_by_schedule(lambda c: -0.05 * (1 + np.cos(np.pi * np.minimum(c, 20) / 20))))

    def update(u, state, p=None):
        new = []
        for t, s in zip(ts, state):
            u, s = t.update(u, s, p)
            new.append(s)
        return u, tuple(new)
    return _GT(lambda p: tuple(t.init(p) for t in ts), update)


def _train_linear(np, tu, grad, jit, X, y, steps=25):
    opt = _optax_like(np, tu)

    def loss(p):
        return np.mean((X @ p["w"] + p["b"] - y) ** 2) + 0.01 * np.sum(p["extra"][0] ** 2)

    @jit
    def step(p, s):
        u, s = opt.update(grad(loss)(p), s, p)
        return tu.tree_map(lambda a, b: a + b, p, u), s
    p = {"w": np.zeros(3), "b": np.zeros(()), "extra": [np.ones(2), None]}
    s = opt.init(p)
    for _ in range(steps):
        p, s = step(p, s)
    return p, loss(p), s[1].count


def test_optax_style_chained_optimiser_as_jax():
    rs = np.random.RandomState(0)
    X = rs.randn(32, 3)
    y = X @ np.array([1.0, -2.0, 0.5]) + 0.3 + 0.1 * rs.randn(32)

    def np_grad(loss):  # the gradient by hand, for NumPy itself as the namespace
        return lambda p: {"w": 2 * X.T @ (X @ p["w"] + p["b"] - y) / len(y),
                          "b": 2 * np.mean(X @ p["w"] + p["b"] - y),
                          "extra": [0.02 * p["extra"][0], None]}
    out = _train_linear(fnp, ftree, ft.grad, ft.jit, X, y)
    ref = _train_linear(np, ftree, np_grad, lambda f: f, X, y)
    close(ref, out)
    assert int(out[2]) == 25 and np.asarray(out[2]).dtype == np.int32 and float(out[1]) < 1.0
    jax = _jax()
    import jax.numpy as jnp
    close(_train_linear(jnp, jax.tree_util, jax.grad, jax.jit, X, y), out, 1e-9)


def _safe_program(np, softplus, rows, cols):
    """jnp.where's double-where idiom for safe gradients, and a COO matrix-vector product
    by .at[].add."""
    def safe_norm(x, axis=-1):
        sq = np.sum(x ** 2, axis=axis, keepdims=True)
        safe_sq = np.where(sq == 0, 1.0, sq)
        return np.squeeze(np.where(sq == 0, 0.0, np.sqrt(safe_sq)), axis)

    def sinc(x):
        safe = np.where(x == 0, 1.0, x)
        return np.where(x == 0, 1.0, np.sin(safe) / safe)

    def f(x, v):
        X = np.stack([x, np.zeros_like(x), x * np.array([0.0, 1.0, 0.0, 2.0])])
        y = np.zeros(4).at[rows].add(v * x[cols])
        safe_log = np.where(y > 0, np.log(np.where(y > 0, y, 1.0)), -10.0)
        return (np.sum(safe_norm(X)) + np.sum(safe_log) + np.sum(sinc(x - x[0]))
                + np.sum(softplus(y)) + np.logaddexp(y[0], y[1]) + np.sum(np.abs(y) ** 1.5))
    return f


def test_safe_gradients_with_double_where_as_jax():
    rows, cols = np.array([0, 0, 1, 3, 3, 2]), np.array([1, 3, 2, 0, 3, 2])
    vals = np.random.RandomState(0).randn(6)
    f = _safe_program(fnp, fnn.softplus, rows, cols)
    x = np.array([0.5, 0.0, -1.0, 2.0])
    g = ft.grad(f, (0, 1))(x, vals)
    assert all(np.all(np.isfinite(a)) for a in g)  # the zero row's norm gives no nan
    check_grads(f, (x, vals), order=2, modes=("rev",))
    jax = _jax()
    import jax.numpy as jnp
    fj = _safe_program(jnp, jax.nn.softplus, rows, cols)
    close(jax.value_and_grad(fj, (0, 1))(x, vals), ft.value_and_grad(f, (0, 1))(x, vals))


def _lagrangian_dynamics(np, jx, lax):
    """Equations of motion from a Lagrangian (Cranmer et al., Lagrangian neural networks):
    q'' = (d2L/dq'2)^+ (dL/dq - d2L/dq'dq q'), integrated by RK4 in a fori_loop."""
    def lagrangian(q, q_t, k=0.0):
        t1, t2 = q[0], q[1]
        w1, w2 = q_t[0], q_t[1]
        T = 0.5 * w1 ** 2 + 0.5 * (w1 ** 2 + w2 ** 2 + 2 * w1 * w2 * np.cos(t1 - t2))
        V = -2 * 9.8 * np.cos(t1) - 9.8 * np.cos(t2)
        return T - V + k * np.sum(q_t ** 4)

    def eom(state, k=0.0):
        q, q_t = np.split(state, 2)
        L = lambda q, q_t: lagrangian(q, q_t, k)  # noqa: E731
        q_tt = np.linalg.pinv(jx.hessian(L, 1)(q, q_t)) @ (
            jx.grad(L, 0)(q, q_t) - jx.jacfwd(jx.grad(L, 1), 0)(q, q_t) @ q_t)
        return np.concatenate([q_t, q_tt])

    def trajectory_loss(state, k, h=0.05):
        def rk4(i, s):
            k1 = eom(s, k)
            k2 = eom(s + h / 2 * k1, k)
            k3 = eom(s + h / 2 * k2, k)
            return s + h / 6 * (k1 + 2 * k2 + 2 * k3 + h * eom(s + h * k3, k))
        return np.sum(lax.fori_loop(0, 3, rk4, state) ** 2)
    return eom, trajectory_loss


def test_lagrangian_double_pendulum_as_jax():
    eom, loss = _lagrangian_dynamics(fnp, ft, flax)
    s = np.array([0.3, -0.5, 0.1, 0.2])
    t1, t2, w1, w2 = s  # the double pendulum's closed form (unit masses and lengths)
    d = t1 - t2
    a1 = (-w2 ** 2 * np.sin(d) - 2 * 9.8 * np.sin(t1)) / 2
    a2 = w1 ** 2 * np.sin(d) - 9.8 * np.sin(t2)
    M = np.array([[1.0, np.cos(d) / 2], [np.cos(d), 1.0]])
    close(np.concatenate([s[2:], np.linalg.solve(M, [a1, a2])]), eom(s))
    check_grads(lambda s, k: loss(s, k), (s, 0.1), order=1)
    jax = _jax()
    import jax.numpy as jnp
    ej = _lagrangian_dynamics(jnp, jax, jax.lax)[0]
    close(jax.jacfwd(ej)(s), ft.jacfwd(eom)(s))


def _svgd(np, jx, lse, steps):
    """Stein variational gradient descent (Liu and Wang) with the median heuristic."""
    means = np.array([[-2.0, 0.0], [2.0, 1.0]])

    def logp(x):
        return lse(-0.5 * np.sum((x - means) ** 2, axis=-1))

    def step(X, eps=0.1):
        d2 = np.sum((X[:, None, :] - X[None, :, :]) ** 2, axis=-1)
        h = np.median(d2) / np.log(X.shape[0] + 1.0)
        K = np.exp(-d2 / h)
        gradK = jx.jacrev(lambda Y: np.sum(np.exp(
            -np.sum((Y[:, None, :] - X[None, :, :]) ** 2, axis=-1) / h)))(X)
        return X + eps * (K @ jx.vmap(jx.grad(logp))(X) + gradK) / X.shape[0]

    def run(X):
        for _ in range(steps):
            X = step(X)
        return X
    return run


def test_stein_variational_gradient_descent_as_jax():
    X0 = np.random.RandomState(0).randn(8, 2)
    run = _svgd(fnp, ft, flse, 6)
    X = run(X0)
    d2 = ((X0[:, None] - X0[None]) ** 2).sum(-1)  # one step by hand in NumPy
    h = np.median(d2) / np.log(9.0)
    K = np.exp(-d2 / h)
    w = np.exp(-0.5 * ((X0[:, None, :] - np.array([[-2.0, 0.0], [2.0, 1.0]])) ** 2).sum(-1))
    glogp = -(w[..., None] * (X0[:, None, :] - np.array([[-2.0, 0.0], [2.0, 1.0]]))).sum(1) \
        / w.sum(1, keepdims=True)
    gradK = (-2 / h * (X0[:, None, :] - X0[None]) * K[..., None]).sum(1)
    close(X0 + 0.1 * (K @ glogp + gradK) / 8, _svgd(fnp, ft, flse, 1)(X0))
    check_grads(lambda x: fnp.sum(_svgd(fnp, ft, flse, 2)(x).mean(0) ** 2), (X0,), order=1,
                modes=("rev",))
    jax = _jax()
    import jax.numpy as jnp
    from jax.scipy.special import logsumexp
    close(_svgd(jnp, jax, logsumexp, 6)(X0), X)
    close(jax.grad(lambda x: jnp.sum(_svgd(jnp, jax, logsumexp, 2)(x).mean(0) ** 2))(X0),
          ft.grad(lambda x: fnp.sum(_svgd(fnp, ft, flse, 2)(x).mean(0) ** 2))(X0), 1e-9)


def _gru_lm(np, lax, nn, vmap, H):
    """A GRU language model: embedding by take, lax.scan over time, the loss by
    take_along_axis, a batch by vmap."""
    def cell(p, h, x):
        xr, xz, xn = np.split(x @ p["Wx"] + p["b"], 3, axis=-1)
        hr, hz, hn = np.split(h @ p["Wh"], 3, axis=-1)
        r, z = nn.sigmoid(xr + hr), nn.sigmoid(xz + hz)
        return (1 - z) * np.tanh(xn + r * hn) + z * h

    def seq_loss(p, seq):
        def step(h, x):
            h = cell(p, h, x)
            return h, h @ p["Wo"]
        _, logits = lax.scan(step, np.zeros(H), np.take(p["emb"], seq[:-1], axis=0))
        logp = nn.log_softmax(logits, axis=-1)
        return -np.mean(np.take_along_axis(logp, seq[1:, None], axis=1))
    return lambda p, batch: np.mean(vmap(seq_loss, in_axes=(None, 0))(p, batch)), seq_loss


def test_gru_language_model_with_scan_as_jax():
    rs = np.random.RandomState(0)
    V, E, H = 6, 3, 4
    p = {"emb": rs.randn(V, E) * 0.5, "Wx": rs.randn(E, 3 * H) * 0.4,
         "Wh": rs.randn(H, 3 * H) * 0.4, "b": np.zeros(3 * H), "Wo": rs.randn(H, V) * 0.4}
    tokens = rs.randint(0, V, (3, 7))
    loss, seq_loss = _gru_lm(fnp, flax, fnn, ft.vmap, H)
    close(np.mean([seq_loss(p, t) for t in tokens]), loss(p, tokens))
    check_grads(lambda Wh, Wx: loss(dict(p, Wh=Wh, Wx=Wx), tokens), (p["Wh"], p["Wx"]),
                order=1, modes=("rev",))
    close(ft.grad(loss)(p, tokens), ft.jit(ft.grad(loss))(p, tokens))
    jax = _jax()
    import jax.numpy as jnp
    lj = _gru_lm(jnp, jax.lax, jax.nn, jax.vmap, H)[0]
    close(jax.value_and_grad(lj)(p, tokens), ft.value_and_grad(loss)(p, tokens))


def _fastica(np, X, n_iter=30):
    """scikit-learn's FastICA (parallel, logcosh), PCA whitening by eigh, in plain NumPy."""
    def sym_decorrelation(W):
        s, u = np.linalg.eigh(np.dot(W, W.T))
        return np.linalg.multi_dot([u * (1.0 / np.sqrt(s)), u.T, W])
    X = X - X.mean(axis=1, keepdims=True)
    d, E = np.linalg.eigh(np.cov(X))
    order = np.argsort(d)[::-1]
    Xw = (E[:, order] / np.sqrt(d[order])).T @ X
    W = sym_decorrelation(np.asarray(np.random.RandomState(0).randn(2, 2)) if np is not fnp
                          else fnp.asarray(__import__("numpy").random.RandomState(0).randn(2, 2)))
    for _ in range(n_iter):
        gwtx = np.tanh(W @ Xw)
        g_wtx = (1 - gwtx ** 2).mean(axis=-1)
        W1 = sym_decorrelation(np.dot(gwtx, Xw.T) / Xw.shape[1] - g_wtx[:, np.newaxis] * W)
        lim = np.max(np.abs(np.abs(np.einsum("ij,ij->i", W1, W)) - 1))
        W = W1
    S = W @ Xw
    S = S * np.sign(S[:, :1])
    return S[np.argsort(np.abs(S[:, 0]))], lim


def test_fastica_as_numpy_and_its_objective_differentiated():
    t = np.linspace(0, 8, 120)
    X = np.array([[1.0, 1.0], [0.5, 2.0]]) @ np.stack([np.sin(2 * t), np.sign(np.sin(3 * t))])
    close(_fastica(np, X), _fastica(fnp, X), 1e-9)

    def negentropy(np_, theta):
        W = np_.array([[np_.cos(theta), -np_.sin(theta)], [np_.sin(theta), np_.cos(theta)]])
        Xc = X - X.mean(axis=1, keepdims=True)
        d, E = np_.linalg.eigh(np_.cov(Xc))
        return np_.sum(np_.mean(np_.log(np_.cosh(W @ ((E / np_.sqrt(d)).T @ Xc))), axis=1))
    fd = (negentropy(np, 0.3 + 1e-6) - negentropy(np, 0.3 - 1e-6)) / 2e-6
    close(fd, ft.grad(lambda th: negentropy(fnp, th))(0.3), 1e-7)
