"""Session 14's core changes: vmap of custom rules whose functions close over the batch, and
the out-of-range modes of ``x.at[...]`` ('clip', 'drop', 'fill', as jax.numpy's)."""

from __future__ import annotations

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.testing import check_grads


# -- custom rules under vmap, closing over the batch ---------------------------------------

def _closing(kind, c):
    """sin(a) * c with a custom rule whose derivative is deliberately twice the true one (so
    that a result that ignores the rule is caught); ``c`` is closed over."""
    if kind == "vjp":
        @ft.custom_vjp
        def g(a):
            return fnp.sin(a) * c
        g.defvjp(lambda a: (fnp.sin(a) * c, fnp.cos(a) * c), lambda r, t: (2 * r * t,))
    else:
        @ft.custom_jvp
        def g(a):
            return fnp.sin(a) * c
        g.defjvp(lambda p, t: (g(p[0]), 2 * fnp.cos(p[0]) * c * t[0]))
    return g


@pytest.mark.parametrize("kind", ["vjp", "jvp"])
def test_vmap_of_custom_rule_closing_over_the_batch(backend, kind):
    x = backend.asarray([0.5, 1.0, 2.0])
    c = backend.asarray([0.5, -1.0, 2.0])
    xn, cn = backend.to_numpy(x), backend.to_numpy(c)

    def inner(a, c):
        return _closing(kind, c)(a) + c

    def own(y):  # the custom function takes y and closes over it too
        return _closing(kind, y)(y)

    out = ft.vmap(inner)(x, c)
    assert backend.is_own(out)
    np.testing.assert_allclose(backend.to_numpy(out), np.sin(xn) * cn + cn)
    np.testing.assert_allclose(backend.to_numpy(ft.vmap(own)(x)), np.sin(xn) * xn)
    np.testing.assert_allclose(backend.to_numpy(ft.jit(ft.vmap(own))(x)), np.sin(xn) * xn)
    want = 2 * np.cos(xn) * cn  # the rule's derivative (twice the true one)
    g = ft.grad(lambda a: fnp.sum(ft.vmap(inner)(a, c)))(x)
    np.testing.assert_allclose(backend.to_numpy(g), want)
    np.testing.assert_allclose(backend.to_numpy(ft.vmap(ft.grad(inner))(x, c)), want)
    jac = ft.jacrev(lambda a: ft.vmap(inner)(a, c))(x)
    np.testing.assert_allclose(backend.to_numpy(jac), np.diag(want))
    stacked = ft.vmap(ft.vmap(inner))(fnp.stack([x, x]), fnp.stack([c, 2 * c]))
    np.testing.assert_allclose(backend.to_numpy(stacked),
                               np.stack([np.sin(xn) * cn + cn, 2 * (np.sin(xn) * cn + cn)]))


def test_vmap_of_nested_custom_rules_closing_over_the_batch():
    # the inner custom function closes over the outer vmap's value from inside the outer
    # custom function's (re-batched) body
    def f(y):
        @ft.custom_jvp
        def outer(a):
            return _closing("vjp", y)(a) * y
        outer.defjvp(lambda p, t: (outer(p[0]), t[0]))
        return outer(y)
    x = np.array([0.5, 1.0, 2.0])
    np.testing.assert_allclose(ft.vmap(f)(x), np.sin(x) * x * x)


# -- x.at[...] out of range ------------------------------------------------------------------

def _reference(x, i, op, v, mode, fill):
    """NumPy's result of x.at[i].op(v, mode=mode) for integer indices ``i`` into axis 0."""
    n = x.shape[0]
    j = np.where(i < 0, i + n, i)
    if mode == "clip":
        j, keep = np.clip(j, 0, n - 1), np.ones(i.shape, bool)
    else:
        keep = (j >= 0) & (j < n)
    if op == "get":
        safe = np.where(keep, j, 0)
        return np.where(keep.reshape(keep.shape + (1,) * (x.ndim - 1)), x[safe], fill)
    y = x.copy()
    j = j[keep]
    if op == "set":
        y[j] = v
    else:
        {"add": np.add, "multiply": np.multiply, "max": np.maximum}[op].at(y, j, v)
    return y


@pytest.mark.parametrize("mode", ["clip", "drop", "fill"])
@pytest.mark.parametrize("op", ["get", "set", "add", "multiply", "max"])
def test_at_modes_match_numpy_reference(backend, mode, op):
    xn = np.arange(1.0, 13.0).reshape(4, 3)
    x = backend.asarray(xn)
    i = np.array([0, 5, -1, -9, 2, 3])
    ib = backend.asarray(i, dtype="int64")
    kw = {"fill_value": -7.5} if op == "get" else {}

    def f(v):
        u = v.at[ib]
        return u.get(mode=mode, **kw) if op == "get" else getattr(u, op)(2.5, mode=mode)
    got = ft.jvp(f, (x,), (fnp.ones_like(x),))[0]  # on a tracer of every backend
    assert backend.is_own(got)
    want = _reference(xn, i, op, 2.5, mode, -7.5)
    np.testing.assert_allclose(backend.to_numpy(got), want)
    np.testing.assert_array_equal(backend.to_numpy(x), xn)  # never written to


@pytest.mark.parametrize("mode", ["clip", "drop"])
def test_at_modes_under_transforms(mode):
    x = fnp.array(np.arange(1.0, 13.0).reshape(3, 4))
    i = np.array([0, 5, -1, -7, 2])

    def f(x, i):
        x = fnp.array(x)  # (a plain NumPy array has no .at)
        y = x.at[:, i % 6].add(x[1:2, :1] * 2, mode=mode)
        return (fnp.sum(fnp.sin(y.at[i, 1].set(x[0, 0] * 3, mode=mode)))
                + fnp.sum(y.at[i].get(mode=mode, fill_value=0.5) ** 2))
    check_grads(lambda v: f(v, i), (np.asarray(x),), order=2)
    g = ft.grad(f)(x, i)
    np.testing.assert_allclose(ft.jit(ft.grad(f))(x, i), g)  # traced indices
    rows = ft.vmap(lambda i: f(x, i))(np.stack([i, i[::-1]]))
    np.testing.assert_allclose(rows, [f(x, i), f(x, i[::-1])])
    # the default fills: NaN for floats, the extremes for integers, as jax.numpy
    assert np.isnan(np.asarray(x.at[7, 0].get(mode="fill")))
    ints = fnp.array(np.arange(4, dtype=np.int32))
    assert int(ints.at[9].get(mode="fill")) == np.iinfo(np.int32).min
    assert int(fnp.array(np.arange(4, dtype=np.uint8)).at[-9].get(mode="fill")) == 255
    # clip clamps after counting negative indices from the end
    np.testing.assert_array_equal(ints.at[np.array([-1, -10, 10])].get(mode="clip"), [3, 0, 3])
    with pytest.raises(ValueError, match="mode='wrap'"):
        x.at[0].get(mode="wrap")


# -- scatter updates at traced indices ---------------------------------------------------

@pytest.mark.parametrize("op", ["multiply", "divide", "max", "min", "subtract"])
def test_at_updates_with_traced_repeated_indices(backend, op):
    xn = np.array([1.0, 5.0, 3.0, 2.0, 4.0])
    vn = np.array([2.0, 2.5, 5.5, 0.5, 7.0, 4.1])
    i = np.array([1, 3, 1, 0, 1, 4])
    x, v = backend.asarray(xn), backend.asarray(vn)
    ib = backend.asarray(i, dtype="int64")

    def f(x, v, i):
        return getattr(x.at[i], op)(v)
    want = xn.copy()
    {"multiply": np.multiply, "divide": np.divide, "max": np.maximum, "min": np.minimum,
     "subtract": np.subtract}[op].at(want, i, vn)
    got = ft.jit(f)(x, v, ib)  # the indices are traced
    assert backend.is_own(got)
    np.testing.assert_allclose(backend.to_numpy(got), want)
    if backend.name == "numpy":
        check_grads(lambda x, v: ft.jit(f)(x, v, i), (xn, vn), order=2)
        rows = ft.vmap(lambda i: f(fnp.array(xn), vn, i))(np.stack([i, i[::-1]]))
        np.testing.assert_allclose(rows[1], f(fnp.array(xn), vn, i[::-1]))


def test_traced_max_at_shares_ties_equally():
    # position 1 holds 5 and gets 5 twice: three tied candidates, a third each (as JAX)
    x, v, i = np.array([1.0, 5.0]), np.array([5.0, 5.0, 0.0]), np.array([1, 1, 0])
    gx, gv = ft.grad(lambda x, v: fnp.sum(ft.jit(lambda x, v, i: x.at[i].max(v))(x, v, i)),
                     argnums=(0, 1))(x, v)
    np.testing.assert_allclose(gx, [1.0, 1 / 3])
    np.testing.assert_allclose(gv, [1 / 3, 1 / 3, 0.0])


def test_like_functions_take_numpys_shape(backend):
    x = backend.asarray([[1.0, 2.0, 3.0]])
    for got, want in [(fnp.zeros_like(x, shape=(2, 2)), np.zeros((2, 2))),
                      (fnp.ones_like(x, fnp.int32, "K", True, 3), np.ones(3, np.int32)),
                      (fnp.full_like(x, 2.5, shape=()), np.full((), 2.5))]:
        assert backend.is_own(got)
        np.testing.assert_array_equal(backend.to_numpy(got), want, strict=True)
    g = ft.grad(lambda v: fnp.sum(fnp.full_like(v, v[0, 1], shape=(4,))))(x)
    np.testing.assert_array_equal(backend.to_numpy(g), [[0.0, 4.0, 0.0]])


def test_submodules_after_import_functrans():
    # jax code writes jax.nn.relu and jax.tree_util.tree_map after `import jax`
    import importlib
    import functrans
    assert functrans.nn.relu(np.array([-1.0, 2.0]))[1] == 2.0
    assert importlib.import_module("functrans.tree_util") is functrans.tree
    assert functrans.tree_util.tree_map(lambda v: v * 2, {"a": 1.0}) == {"a": 2.0}


def test_tangents_of_another_library_or_device_are_refused():
    torch = pytest.importorskip("torch")
    import array_api_strict as xps
    from functrans.errors import BackendMismatchError
    x = np.arange(3.0)
    t = torch.ones(3, dtype=torch.float64)
    with pytest.raises(BackendMismatchError, match=r"tangent 0 \(tangents\[0\]\) is a torch array"):
        ft.jvp(lambda a: a * 2.0, (x,), (t,))
    with pytest.raises(BackendMismatchError, match=r"tangent 0 \(tangents\[0\]\) is a torch array"):
        ft.linearize(lambda a: a * 2.0, x)[1](t)
    s, s1 = xps.asarray([1.0, 2.0]), xps.asarray([1.0, 2.0], device=xps.Device("device1"))
    with pytest.raises(BackendMismatchError, match=r"cotangent 0 \(the whole cotangent\) is on "
                                                   r"device"):
        ft.vjp(lambda a: a * 2.0, s)[1](s1)
    with pytest.raises(BackendMismatchError, match="Cannot move a tracer"):  # traced asarray
        ft.grad(lambda v: fnp.sum(fnp.asarray(v, device=xps.Device("device1"))))(s)
    g = ft.vjp(lambda a: a * 2.0, s1)[1](s1)[0]
    assert g.device == xps.Device("device1")


def test_grad_allow_int_and_reduce_axes():
    from functrans.errors import IntegerInputError
    g = ft.grad(lambda x, n: x * n, argnums=(0, 1), allow_int=True)(2.0, 3)
    assert float(g[0]) == 3.0 and int(g[1]) == 0
    v, (gx, gn) = ft.value_and_grad(lambda x, n: fnp.sum(x * n), argnums=(0, 1),
                                    allow_int=True)(np.ones(2), np.array([1, 2], np.int32))
    np.testing.assert_array_equal(gx, [1.0, 2.0])
    np.testing.assert_array_equal(gn, np.zeros(2, np.int32), strict=True)
    with pytest.raises(IntegerInputError, match="allow_int=True"):
        ft.grad(lambda x, n: x * n, argnums=(0, 1))(2.0, 3)
    assert float(ft.grad(fnp.sin, reduce_axes=())(0.0)) == 1.0
    with pytest.raises(NotImplementedError, match="reduce_axes"):
        ft.vjp(fnp.sin, 0.0, reduce_axes=("batch",))


def test_numpy_scalars_of_unsupported_dtypes_say_so():
    from functrans.errors import UnsupportedBackendError
    for v in (np.longdouble(1.0), np.clongdouble(1.0)):
        with pytest.raises(UnsupportedBackendError, match="NumPy scalars of type"):
            ft.grad(lambda x: x * 2.0)(v)


def test_tree_paths_are_jax_key_objects():
    import collections
    from functrans import tree as T
    NT = collections.namedtuple("NT", "p q")
    pairs, _ = T.tree_flatten_with_path({"n": NT(1.0, [2.0]), "t": (3.0,)})
    paths = [p for p, _ in pairs]
    assert [T.keystr(p) for p in paths] == ["['n'].p", "['n'].q[0]", "['t'][0]"]
    assert isinstance(paths[1][1], T.GetAttrKey) and paths[1][1].name == "q"
    assert isinstance(paths[1][2], T.SequenceKey) and paths[1][2].idx == 0
    assert isinstance(paths[0][0], T.DictKey) and paths[0][0].key == "n"
    assert paths[2] == ("t", 0) and hash(paths[2][0]) == hash("t")  # also the bare keys
    assert T.DictKey("a") != T.GetAttrKey("a")
    out = T.tree_map_with_path(lambda p, x, y: (T.keystr(p, simple=True, separator="/"), x + y),
                               {"a": 1, "b": [2]}, {"a": 10, "b": [20]})
    assert out == {"a": ("a", 11), "b": [("b/0", 22)]}


def test_toeplitz_batches_as_scipy_1_17():
    import functrans.scipy.linalg as fsl
    c, r = np.arange(6.0).reshape(2, 3), np.arange(4.0)
    got = fsl.toeplitz(c, r)
    assert got.shape == (2, 3, 4)
    np.testing.assert_array_equal(got[1], [[3, 1, 2, 3], [4, 3, 1, 2], [5, 4, 3, 1]])
    np.testing.assert_array_equal(fsl.toeplitz(c)[1], [[3, 4, 5], [4, 3, 4], [5, 4, 3]])
    g = ft.grad(lambda c: fnp.sum(fsl.toeplitz(c, r) ** 2))(c)
    np.testing.assert_allclose(g, 2 * c * np.minimum(np.arange(3, 0, -1), 4))
