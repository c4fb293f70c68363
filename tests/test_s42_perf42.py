"""perf42: less Python per heavy primitive under grad. Abstract values one object per shape
signature (matmul's, the reductions', get_aval's of arrays); the transposes of matmul, a
broadcast and a sum call the implementation directly at the bottom of the stack; a fill
cotangent (grad's seed reaching an input or a matmul) made directly on NumPy; NumPy's
full_like with a float fill and broadcast views without np.full_like's frames and per-call
stride arithmetic; the namespace's sum/max/min bind their primitive directly.

Checked: the cached abstract values against fresh ones and their errors, the direct paths
against the bound ones (values to the bit, under every nesting: grad of grad, jacfwd of
jacrev, vmap, jit, vjp with cotangents that are tracers), fills (dtypes, layout, writability,
no aliasing), full_like against NumPy's for every layout and dtype, and an MLP's gradient
against hand-written backprop and JAX."""

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans import core
from functrans.backends import numpy_backend as nb
from functrans.core import ShapedArray, get_aval
from functrans.errors import ShapeError, UnsupportedBackendError
from functrans.primitives import linalg, reductions, structural

_RNG = np.random.default_rng(42)


# -- abstract values, one per signature ----------------------------------------------------------

def test_matmul_aval_cached_and_still_checked():
    x, y = ShapedArray((4, 3), fnp.float64), ShapedArray((3, 5), fnp.float64)
    a = linalg._matmul_aval(x, y)
    assert a.shape == (4, 5) and a.dtype is fnp.float64 and not a.weak_type
    assert linalg._matmul_aval(ShapedArray((4, 3), fnp.float64),
                               ShapedArray((3, 5), fnp.float64)) is a
    b = linalg._matmul_aval(ShapedArray((4, 3), fnp.float32), ShapedArray((3, 5), fnp.float32))
    assert b.dtype is fnp.float32 and b is not a
    assert linalg._matmul_aval(ShapedArray((2, 4, 3), fnp.float64),
                               ShapedArray((2, 3, 5), fnp.float64)).shape == (2, 4, 5)
    for xs, ys in [((4, 3), (2, 5)), ((3,), (3, 5)), ((2, 4, 3), (1, 3, 5))]:
        for _ in range(2):  # (a refused signature is never cached)
            with pytest.raises(ShapeError, match="matmul primitive"):
                linalg._matmul_aval(ShapedArray(xs, fnp.float64), ShapedArray(ys, fnp.float64))
    # a shape given as a list: worked out, not cached (unhashable)
    c = linalg._matmul_aval(ShapedArray([4, 3], fnp.float64), ShapedArray([3, 5], fnp.float64))
    assert list(c.shape) == [4, 5]


def test_reduced_aval_cached_per_keepdims_and_dtype():
    x = ShapedArray((3, 4, 5), fnp.float64)
    a = reductions._reduced_aval(x, (1,))
    k = reductions._reduced_aval(x, (1,), True)
    assert a.shape == (3, 5) and k.shape == (3, 1, 5)
    assert reductions._reduced_aval(ShapedArray((3, 4, 5), fnp.float64), (1,)) is a
    assert reductions._reduced_aval(ShapedArray((3, 4, 5), fnp.float64), (1,), True) is k
    f = reductions._reduced_aval(ShapedArray((3, 4, 5), fnp.float32), (1,))
    assert f.dtype is fnp.float32 and f.shape == (3, 5)
    assert reductions._reduced_aval(x, [0, 2]).shape == (4,)  # (a list: not cached)
    assert reductions._reduced_aval(x, (0, 1, 2)).shape == ()


def test_get_aval_shared_per_shape_and_dtype_and_right_for_every_dtype():
    a = get_aval(np.zeros((2, 3)))
    assert get_aval(np.ones((2, 3))) is a
    for dt, want in [(np.float32, fnp.float32), (np.int64, fnp.int64), (np.bool_, fnp.bool),
                     (np.complex128, fnp.complex128), (np.float16, fnp.float16)]:
        v = get_aval(np.zeros((2, 3), dt))
        assert v.shape == (2, 3) and v.dtype is want and not v.weak_type
    # a NumPy scalar, a 0-d array, a view and an AtArray of one shape share it
    assert get_aval(np.float64(1.0)) is get_aval(np.zeros(()))
    assert get_aval(np.zeros((3, 2)).T) is a
    # a float64 dtype object that is not NumPy's registered one (made anew): still float64,
    # never cached under the id of an object that may die; an unsupported one still refused
    other = np.dtype(np.float64).newbyteorder("=")
    assert other is not np.dtype(np.float64)
    n = len(core._AVALS)
    for _ in range(2):
        assert get_aval(np.zeros((7, 3), dtype=other)).dtype is fnp.float64
    assert len(core._AVALS) == n
    with pytest.raises(UnsupportedBackendError):
        get_aval(np.zeros((2, 3), dtype=">f8"))
    # the backends registry changing clears the table (the ids of registered dtypes with it)
    assert core._AVALS.clear in core._backends_registry_hooks


def test_staged_one_operand_equations_have_their_abstract_values():
    def f(x):
        return fnp.sum(fnp.broadcast_to(x, (3, 4)), axis=0, keepdims=True)
    g = ft.make_jaxpr(f)(np.zeros(4, np.float32))
    assert [tuple(v.aval.shape) for v in g.jaxpr.outvars] == [(1, 4)]
    assert g.jaxpr.outvars[0].aval.dtype is fnp.float32


# -- NumPy's implementations -------------------------------------------------------------------

@pytest.mark.parametrize("layout", ["C", "F", "strided", "0-d"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.complex128, np.int32, np.bool_])
def test_full_like_as_numpy(layout, dtype):
    base = np.zeros((4, 6), dtype)
    x = {"C": base, "F": np.asfortranarray(base), "strided": base[:, ::2],
         "0-d": np.zeros((), dtype)}[layout]
    for v in [0, 1, 7, -3, 1.0, 1 / 3, -0.0, np.inf, np.nan, 1e300, 2**30, True]:
        for d in [None, fnp.float32, fnp.float64]:
            with np.errstate(all="ignore"):
                got = nb._full_like(x, v, d)
                want = np.full_like(x, v, dtype=None if d is None else d.dtype)
            assert type(got) is type(want) and got.dtype == want.dtype
            assert got.shape == want.shape and got.strides == want.strides
            assert got.tobytes() == want.tobytes(), (layout, dtype, v, d)
            assert got.flags.writeable and got.flags.owndata


@pytest.mark.parametrize("src", ["contiguous", "column", "transposed", "stepped", "scalar"])
def test_broadcast_views_with_cached_strides(src):
    a = np.arange(24.0).reshape(4, 6)
    x = {"contiguous": a[0], "column": a[:, :1], "transposed": a.T[:, :1],
         "stepped": a[0, ::2], "scalar": np.float64(2.5)}[src]
    x = np.asarray(x) if src == "scalar" else x
    shape = (5,) + x.shape[:-1] + (7 if x.shape and x.shape[-1] == 1 else
                                   (x.shape[-1] if x.shape else 3),)
    dims = tuple(range(len(shape) - x.ndim, len(shape)))
    for _ in range(2):  # (the second time from the table)
        got = nb._broadcast_in_dim(x, shape, dims)
        np.testing.assert_array_equal(got, np.broadcast_to(x, shape))
        assert not got.flags.writeable
    # another array of the same shape, different strides: its own strides
    if src == "column":
        y = np.ascontiguousarray(a[:, :1])
        np.testing.assert_array_equal(nb._broadcast_in_dim(y, shape, dims),
                                      np.broadcast_to(y, shape))
    # shapes and dims given as lists (never cached)
    np.testing.assert_array_equal(nb._broadcast_in_dim(x, list(shape), list(dims)),
                                  np.broadcast_to(x, shape))


def test_chooser_weights_kept_shape_per_axes():
    x = np.array([[1.0, 3.0, 3.0], [2.0, 0.0, -1.0]])
    for axes, keep in [((1,), (2, 1)), ((0,), (1, 3)), ((0, 1), (1, 1))]:
        out = x.max(axis=axes, keepdims=True).reshape(
            tuple(d for i, d in enumerate(x.shape) if i not in axes))
        w = nb._chooser_weights(x, out, axes)
        m = (x == x.max(axis=axes, keepdims=True)).astype(float)
        np.testing.assert_array_equal(w, m / m.sum(axis=axes, keepdims=True))
        assert nb._KEPT_SHAPES[x.shape, axes] == keep


# -- fills made directly ---------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_grad_of_sum_is_a_fresh_writable_array(dtype):
    for shape in [(3, 4), (5,), (), (2, 1, 3)]:
        w = _RNG.standard_normal(shape).astype(dtype)
        for f, value in [(lambda w: fnp.sum(w), 1.0), (lambda w: fnp.mean(w), None)]:
            g = ft.grad(f)(w)
            n = max(w.size, 1)
            want = np.full(shape, 1.0 if value else np.asarray(1.0, dtype) / dtype(n), dtype)
            assert type(g) is np.ndarray and g.dtype == dtype and g.shape == shape
            np.testing.assert_array_equal(g, want)
            assert g.flags.writeable and g.flags.c_contiguous
            assert not np.shares_memory(g, w)
            g[...] = 7  # (a result the caller may write)
            np.testing.assert_array_equal(ft.grad(f)(w), want)


def test_fill_reaching_a_matmul_or_an_input_twice():
    x, W, b = _RNG.standard_normal((2, 3)), _RNG.standard_normal((3, 4)), _RNG.standard_normal(4)
    g = ft.grad(lambda W: fnp.sum(x @ W))(W)
    np.testing.assert_allclose(g, x.T @ np.ones((2, 4)), rtol=1e-15)
    gw, gb = ft.grad(lambda W, b: fnp.sum(x @ W + b) + 2.0 * fnp.sum(b), argnums=(0, 1))(W, b)
    np.testing.assert_allclose(gw, x.T @ np.ones((2, 4)), rtol=1e-15)
    np.testing.assert_array_equal(gb, np.full(4, 4.0))
    # a fill of float32 reaching a float64 input through a conversion
    g = ft.grad(lambda w: fnp.sum(fnp.astype(w, fnp.float32)).astype(fnp.float64))(W)
    assert g.dtype == np.float64
    np.testing.assert_array_equal(g, np.ones((3, 4)))


def test_fills_under_outer_transforms_bind_as_before(backend):
    # the direct fill is for NumPy with nothing above; here the fill meets tracers
    w = backend.asarray(_RNG.standard_normal((3, 4)))
    h = ft.hessian(lambda w: fnp.sum(w) * fnp.sum(w))(w)
    np.testing.assert_allclose(backend.to_numpy(h), np.full((3, 4, 3, 4), 2.0), rtol=1e-15)
    vg = ft.vmap(ft.grad(lambda r: fnp.sum(r) ** 2))(w)
    np.testing.assert_allclose(backend.to_numpy(vg),
                               np.repeat(2 * backend.to_numpy(w).sum(1, keepdims=True), 4, 1),
                               rtol=1e-14)
    jg = ft.jit(ft.grad(lambda w: fnp.sum(w)))(w)
    np.testing.assert_array_equal(backend.to_numpy(jg), np.ones((3, 4)))


# -- transposes called directly at the bottom --------------------------------------------------

def _net(p, x):
    # (fnp.matmul: array-api-strict's arrays refuse a tracer on their right)
    h = fnp.tanh(fnp.matmul(x, p["W1"]) + p["b1"])
    logits = h @ p["W2"] + p["b2"]
    m = fnp.max(logits, axis=1, keepdims=True)
    return fnp.mean(fnp.log(fnp.sum(fnp.exp(logits - m), axis=1, keepdims=True)) + m
                    - fnp.sum(logits, axis=1, keepdims=True) / 3.0)


def _params(dtype=np.float64):
    r = np.random.default_rng(7)
    return {"W1": r.standard_normal((4, 5)).astype(dtype),
            "b1": r.standard_normal(5).astype(dtype),
            "W2": r.standard_normal((5, 3)).astype(dtype),
            "b2": r.standard_normal(3).astype(dtype)}, r.standard_normal((6, 4)).astype(dtype)


def _manual(p, x):
    h = np.tanh(x @ p["W1"] + p["b1"])
    logits = h @ p["W2"] + p["b2"]
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    d = (e / e.sum(axis=1, keepdims=True) - 1 / 3.0) / x.shape[0]
    dz = (d @ p["W2"].T) * (1 - h * h)
    return {"W1": x.T @ dz, "b1": dz.sum(0), "W2": h.T @ d, "b2": d.sum(0)}


def test_network_grad_against_backprop(backend):
    p, x = _params()
    g = ft.grad(_net)({k: backend.asarray(v) for k, v in p.items()}, backend.asarray(x))
    want = _manual(p, x)
    for k in p:
        np.testing.assert_allclose(backend.to_numpy(g[k]), want[k], rtol=1e-12, atol=1e-15)


def test_direct_transposes_same_bits_as_bound(monkeypatch):
    # the rules' direct calls give what binding gives (the evaluator's own implementation)
    p, x = _params()
    direct = ft.grad(_net)(p, x)
    for m in (linalg, reductions, structural):
        monkeypatch.setattr(m, "_EVAL", None)  # (never current: every rule binds)
    bound = ft.grad(_net)(p, x)
    for k in p:
        assert direct[k].tobytes() == bound[k].tobytes()


def test_direct_transposes_under_nesting():
    p, x = _params()
    flat = {k: v for k, v in p.items()}

    def loss(w1):
        return _net(dict(flat, W1=w1), x)

    w1 = flat["W1"]
    # second order: jacfwd of jacrev (the transposes run under forward mode: bound) against
    # central differences of the hand-written gradient
    H = ft.jacfwd(ft.jacrev(loss))(w1)
    eps = 1e-6
    for i, j in [(0, 0), (2, 3), (3, 4)]:
        d = np.zeros_like(w1)
        d[i, j] = eps
        fd = (_manual(dict(flat, W1=w1 + d), x)["W1"]
              - _manual(dict(flat, W1=w1 - d), x)["W1"]) / (2 * eps)
        np.testing.assert_allclose(H[:, :, i, j], fd, rtol=1e-6, atol=1e-8)
    # grad of grad through a matmul's transpose; vmap and jit of grad
    gg = ft.grad(lambda w: fnp.sum(ft.grad(loss)(w) ** 2))(w1)
    v = np.zeros_like(w1)
    v[1, 2] = eps
    fd = (np.sum(_manual(dict(flat, W1=w1 + v), x)["W1"] ** 2)
          - np.sum(_manual(dict(flat, W1=w1 - v), x)["W1"] ** 2)) / (2 * eps)
    assert abs(gg[1, 2] - fd) <= 1e-6 * max(1.0, abs(fd))
    stack = np.stack([w1, 0.5 * w1])
    vg = ft.vmap(ft.grad(loss))(stack)
    for i in range(2):
        np.testing.assert_allclose(vg[i], _manual(dict(flat, W1=stack[i]), x)["W1"],
                                   rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(ft.jit(ft.grad(loss))(w1), _manual(flat, x)["W1"],
                               rtol=1e-12, atol=1e-15)


def test_vjp_with_traced_cotangent_through_matmul_and_bias():
    # the pullback run under jvp: the cotangent is a tracer, the transposes bind
    x, W, b = _RNG.standard_normal((2, 3)), _RNG.standard_normal((3, 4)), _RNG.standard_normal(4)
    _, pull = ft.vjp(lambda W, b: x @ W + b, W, b)
    u, du = _RNG.standard_normal((2, 4)), _RNG.standard_normal((2, 4))
    (gw, gb), (tw, tb) = ft.jvp(pull, (u,), (du,))
    np.testing.assert_allclose(gw, x.T @ u, rtol=1e-14)
    np.testing.assert_allclose(tw, x.T @ du, rtol=1e-14)
    np.testing.assert_allclose(gb, u.sum(0), rtol=1e-14)
    np.testing.assert_allclose(tb, du.sum(0), rtol=1e-14)


def test_sum_transpose_keepdims_and_broadcast_transpose_shapes(backend):
    x = backend.asarray(_RNG.standard_normal((3, 4)))
    u = _RNG.standard_normal((3, 1))
    for keepdims in (False, True):
        _, pull = ft.vjp(lambda x: fnp.sum(x, axis=1, keepdims=keepdims), x)
        (g,) = pull(backend.asarray(u if keepdims else u[:, 0]))
        np.testing.assert_array_equal(backend.to_numpy(g), np.repeat(u, 4, 1))
    b = backend.asarray(_RNG.standard_normal((1, 4)))
    _, pull = ft.vjp(lambda b: b + x, b)
    v = _RNG.standard_normal((3, 4))
    (g,) = pull(backend.asarray(v))
    np.testing.assert_allclose(backend.to_numpy(g), v.sum(0, keepdims=True), rtol=1e-15)


# -- the namespace's reductions -----------------------------------------------------------------

@pytest.mark.parametrize("name", ["sum", "max", "min", "mean"])
@pytest.mark.parametrize("axis", [None, 0, -1, (0, 2), ()])
@pytest.mark.parametrize("keepdims", [False, True])
def test_reductions_values_and_derivatives(name, axis, keepdims):
    x = _RNG.standard_normal((2, 3, 4))
    f = getattr(fnp, name)
    ref = getattr(np, name)
    y = f(x, axis=axis, keepdims=keepdims)
    np.testing.assert_allclose(np.asarray(y), ref(x, axis=axis, keepdims=keepdims),
                               rtol=1e-15)
    t = _RNG.standard_normal(x.shape)
    u = _RNG.standard_normal(np.shape(ref(x, axis=axis, keepdims=keepdims)))
    _, jt = ft.jvp(lambda x: f(x, axis=axis, keepdims=keepdims), (x,), (t,))
    _, pull = ft.vjp(lambda x: f(x, axis=axis, keepdims=keepdims), x)
    (g,) = pull(u)
    lhs, rhs = float(np.sum(u * np.asarray(jt))), float(np.sum(np.asarray(g) * t))
    assert abs(lhs - rhs) <= 1e-12 * max(1.0, abs(lhs))
    eps = 1e-6
    fd = (ref(x + eps * t, axis=axis, keepdims=keepdims)
          - ref(x - eps * t, axis=axis, keepdims=keepdims)) / (2 * eps)
    np.testing.assert_allclose(np.asarray(jt), fd, rtol=1e-7, atol=1e-8)


def test_max_ties_share_the_derivative(backend):
    x = backend.asarray(np.array([[1.0, 3.0, 3.0], [2.0, 0.0, 2.0], [5.0, 5.0, 5.0]]))
    g = ft.grad(lambda x: fnp.sum(fnp.max(x, axis=1, keepdims=True)))(x)
    np.testing.assert_allclose(backend.to_numpy(g),
                               [[0, .5, .5], [.5, 0, .5], [1 / 3, 1 / 3, 1 / 3]], rtol=1e-15)


def test_reductions_of_0d_and_integers():
    assert float(fnp.sum(np.float64(2.0))) == 2.0
    assert ft.grad(lambda x: fnp.max(x))(np.asarray(3.0)) == 1.0
    assert fnp.sum(np.arange(4, dtype=np.int32)).dtype == fnp.int64
    assert int(fnp.max(np.array([1, 5, 2]), axis=0, keepdims=True)[0]) == 5


def test_account_timing_restores_the_direct_paths():
    from benchmarks.account import _Recorder
    rec = _Recorder(False)
    try:
        assert linalg._EVAL is None and reductions._EVAL is None and structural._EVAL is None
    finally:
        rec.restore()
    assert linalg._EVAL is core.EVAL and reductions._EVAL is core.EVAL
    assert structural._EVAL is core.EVAL


# -- against JAX -------------------------------------------------------------------------------

def test_network_grad_against_jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy
    p, x = _params()

    def jnet(p, x):
        h = jnp.tanh(x @ p["W1"] + p["b1"])
        logits = h @ p["W2"] + p["b2"]
        m = jnp.max(logits, axis=1, keepdims=True)
        return jnp.mean(jnp.log(jnp.sum(jnp.exp(logits - m), axis=1, keepdims=True)) + m
                        - jnp.sum(logits, axis=1, keepdims=True) / 3.0)

    want = jax.grad(jnet)(p, x)
    got = ft.grad(_net)(p, x)
    for k in p:
        np.testing.assert_allclose(got[k], np.asarray(want[k]), rtol=1e-12, atol=1e-15)
    hw = jax.hessian(lambda w: jnet(dict(p, b2=w), x))(p["b2"])
    hg = ft.hessian(lambda w: _net(dict(p, b2=w), x))(p["b2"])
    np.testing.assert_allclose(hg, np.asarray(hw), rtol=1e-11, atol=1e-14)
