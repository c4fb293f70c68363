"""Session 28 (helper gaps28): loose ends of session 27 (linear_call printed by make_jaxpr
and make_graph; more in the sections below). The checkify ones (an index of a mixed
basic/advanced index named on the caller's axis, nested checkify) are in test_checkify.py."""

import gc
import warnings
import weakref

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans.custom_derivatives import linear_call
from functrans.jaxpr import eval_jaxpr
from functrans.testing import check_grads

a = fnp.asarray

# -- linear_call as make_jaxpr and make_graph print it -----------------------------------------


def _scale(r, x):
    return x * r


def _scale_t(r, ct):
    return ct * r


def test_linear_call_prints_like_any_equation():
    # its functions by name and JAX's num_res; not its trees nor the box its results' tree
    # is written to (whose repr changed once the call had run)
    def f(x):
        return fnp.sin(linear_call(_scale, _scale_t, 2.0, x))
    x = np.ones(3)
    assert str(ft.make_jaxpr(f)(x)) == (
        "{ lambda ; a:f64[3]. let\n"
        "    b:f64[3] = linear_call[fun=_scale num_res=1 transpose=_scale_t] 2.0:f64[] a\n"
        "    c:f64[3] = sin b\n"
        "  in (c,) }")
    closed = ft.make_jaxpr(ft.grad(lambda x: fnp.sum(f(x))))(x)
    assert str(closed) == (
        "{ lambda ; a:f64[3]. let\n"
        "    b:f64[3] = linear_call[fun=_scale num_res=1 transpose=_scale_t] 2.0:f64[] a\n"
        "    c:f64[3] d:f64[3] = sin_cos b\n"
        "    e:f64[] = reduce_sum[axes=(0,)] c\n"
        "    f:f64[3] = linear_call[fun=_scale_t num_res=1 transpose=_scale] 2.0:f64[] d\n"
        "  in (f,) }")
    # the equation keeps every parameter: evaluating the jaxpr runs the call
    (g,) = eval_jaxpr(closed.jaxpr, closed.consts, x)
    np.testing.assert_allclose(np.asarray(g), 2.0 * np.cos(2.0 * x), rtol=1e-15)
    graph = str(ft.make_graph(f)(x))
    assert "v2: f64[3] = linear_call 2.0 v1  [fun=_scale, transpose=_scale_t, num_res=1]" in \
        graph
    assert "PyTreeSpec" not in graph
    # pytrees of residuals and linear arguments: num_res counts the residual leaves
    text = str(ft.make_jaxpr(lambda x: linear_call(
        lambda r, x: {"y": x[0] * r[0] + x[1] * r[1]},
        lambda r, t: (t["y"] * r[0], t["y"] * r[1]), (2.0, x), (x, x)))(x))
    assert "linear_call[fun=<lambda> num_res=2 transpose=<lambda>] 2.0:f64[] a a a" in text
    assert "PyTreeSpec" not in text and "box" not in text

# -- jax_numpy_rank_promotion in the functions of several operands ------------------------------

_A, _B = np.linspace(0.1, 0.9, 3), np.linspace(0.2, 0.8, 6).reshape(2, 3)
_C = _A > 0.5
_RANK_CASES = {  # name -> (call on a (3,) and a (2, 3) operand, refused under 'raise')
    # refused: operands of different ranks broadcast together, as JAX refuses them
    "fmax": (lambda m: m.fmax(_A, _B), True),
    "fmin": (lambda m: m.fmin(_B, _A), True),
    "clip": (lambda m: m.clip(_B, _A, 0.9), True),
    "clip_max": (lambda m: m.clip(_A, None, _B), True),
    "linspace": (lambda m: m.linspace(_A, _B, 4), True),
    "geomspace": (lambda m: m.geomspace(_B, _A, 4), True),
    "logspace": (lambda m: m.logspace(_A, _B, 4), True),
    "maximum": (lambda m: m.maximum(_A, _B), True),
    # allowed, as in JAX: where and select broadcast freely; outer, array_equiv and the
    # spacing of linspace broadcast by definition (no promotion of the caller's)
    "where": (lambda m: m.where(_C, _A, _B), False),
    "select": (lambda m: m.select([_B > 0.5], [_A], 0.0), False),
    "add.outer": (lambda m: m.add.outer(_A, _B), False),
    "multiply.outer": (lambda m: m.multiply.outer(_B, 2.0), False),
    "array_equiv": (lambda m: m.array_equiv(_B, _A), False),
    "linspace_0d": (lambda m: m.linspace(m.asarray(0.0), m.asarray(1.0), 4), False),
    "linspace_same": (lambda m: m.linspace(_B, _B + 1, 4, axis=1), False),
}


def _refused(fn):
    try:
        fn()
    except ValueError as e:
        assert "rank" in str(e) or "Operands could not" in str(e), e
        return True
    return False


def test_rank_promotion_in_functions_of_several_operands():
    for name, (call, refused) in _RANK_CASES.items():
        with ft.numpy_rank_promotion("raise"):
            assert _refused(lambda: call(fnp)) is refused, name
            # on tracers too (user code under jit)
            assert _refused(lambda: ft.jit(lambda: call(fnp))()) is refused, name
        allowed = call(fnp)  # (and what it computes is unchanged)
        np.testing.assert_allclose(np.asarray(allowed, dtype=float),
                                   np.asarray(call(np), dtype=float), rtol=1e-14)
    with ft.numpy_rank_promotion("raise"):
        with pytest.raises(ValueError, match=r"fmax: operands of shapes \(3,\) and \(2, 3\)"):
            fnp.fmax(_A, _B)
        # (same ranks, and 0-d operands, are no rank promotion)
        np.testing.assert_array_equal(fnp.fmax(_B, np.float64(0.5)), np.fmax(_B, 0.5))
        np.testing.assert_array_equal(fnp.fmin(_B, _B[:1]), np.fmin(_B, _B[:1]))
        # deliberate differences: cov's y (more variables, stacked) and trapezoid's 1-d x
        # (the spacing along the axis) are NumPy's meanings, not broadcasting (JAX refuses)
        np.testing.assert_allclose(fnp.cov(_B, _A), np.cov(_B, _A), rtol=1e-13)
        np.testing.assert_allclose(fnp.trapezoid(_B, _A), np.trapezoid(_B, _A), rtol=1e-14)
    with ft.numpy_rank_promotion("warn"):
        with pytest.warns(UserWarning, match="fmin: broadcasting operands") as rec:
            fnp.fmin(_A, _B)
    assert rec[0].filename == __file__  # (the warning names the caller's line)


def test_rank_promotion_of_several_operands_as_jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    for name, (call, refused) in _RANK_CASES.items():
        with jax.numpy_rank_promotion("raise"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert _refused(lambda: call(jnp)) is refused, name

# -- fwd_and_bwd: what stays alive, bwd twice, cotangents checked -------------------------------


def _fb_loss(x, w):
    return fnp.sum(fnp.sin(x * w) * x)


def _fb_grads(x, w):
    return np.sin(x * w) + x * w * np.cos(x * w), x * x * np.cos(x * w)


@pytest.mark.parametrize("jitted", [True, False], ids=["jitted", "eager"])
def test_fwd_and_bwd_frees_the_residuals_once_dropped(jitted):
    import functrans.buffers
    fwd, bwd = ft.fwd_and_bwd(_fb_loss, argnums=(0, 1), jitted=jitted)
    x, w = np.linspace(0.0, 1.0, 100_000), np.full(100_000, 0.5)
    gc.collect()
    gc.disable()  # (freed by reference counts alone: no cycle holds them)
    try:
        for _ in range(2):  # (the second: fwd and bwd replayed from their caches)
            y, res = fwd(x, w)
            # jitted: the residuals are arrays of the pytree; eager: vjp's function holds them
            refs = [weakref.ref(a) for a in res.arrays] + [weakref.ref(res.backward)] * (
                not jitted)
            assert refs
            g1, g2 = bwd(res, 1.0), bwd(res, 1.0)  # (twice, as JAX's: residuals are values)
            for a, b, want in zip(g1, g2, _fb_grads(x, w)):
                np.testing.assert_array_equal(a, b)
                np.testing.assert_allclose(a, want, rtol=1e-12, atol=1e-15)
            del y, res, g1, g2, a, b
            functrans.buffers.release()  # (arrays kept for reuse, on purpose, are let go)
            assert all(r() is None for r in refs)
    finally:
        gc.enable()


def test_fwd_and_bwd_residuals_of_several_forward_passes():
    # each backward pass reads its own residuals, however many forward passes came between
    # (memory reuse takes only arrays nobody holds)
    fwd, bwd = ft.fwd_and_bwd(_fb_loss, argnums=(0, 1))
    x, w = np.linspace(0.0, 1.0, 50_000), np.full(50_000, 0.5)
    passes = [fwd(k * x, w) for k in (1.0, 2.0, 3.0)]
    for k, (y, res) in zip((3.0, 1.0, 2.0), [passes[2], passes[0], passes[1]]):
        gx, gw = bwd(res, 1.0)
        np.testing.assert_allclose(y, np.sum(np.sin(k * x * w) * k * x), rtol=1e-13)
        np.testing.assert_allclose(gx, _fb_grads(k * x, w)[0], rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(gw, _fb_grads(k * x, w)[1], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("jitted", [True, False], ids=["jitted", "eager"])
def test_fwd_and_bwd_checks_the_cotangent(jitted):
    # (jitted, a cotangent of another shape ran the backward pass staged for the output's
    # shape: broadcast into a gradient of the wrong shape, or accepted for a scalar output)
    from functrans.errors import TangentMismatchError
    fwd, bwd = ft.fwd_and_bwd(_fb_loss, argnums=(0, 1), jitted=jitted)
    y, res = fwd(np.ones(3), np.ones(3))
    for ct, match in ((np.ones(3), r"shape \(3,\).*output's shape \(\)"),
                      (np.ones(1), r"shape \(1,\)"),
                      (np.ones((), np.float32), "dtype float32, but its output has dtype "
                                                "float64"),
                      (np.ones((), np.int64), "dtype int64"),
                      ((1.0,), "tree structure of the output")):
        with pytest.raises(TangentMismatchError, match="fwd_and_bwd's bwd: " + ".*" + match):
            bwd(res, ct)
    fwd, bwd = ft.fwd_and_bwd(lambda x: (fnp.sin(x), fnp.argmax(x)), jitted=jitted)
    _, res = fwd(np.ones(3))
    with pytest.raises(TangentMismatchError, match=r"cotangent\[0\]\) has shape \(2, 3\)"):
        bwd(res, (np.ones((2, 3)), np.zeros((), np.int64)))
    np.testing.assert_allclose(bwd(res, (np.full(3, 2.0), np.zeros((), np.int64))),
                               2 * np.cos(np.ones(3)))


def test_closure_convert_called_with_other_shapes_is_refused():
    # (its graph, staged for the example's shapes, ran on others: x * y broadcast silently,
    # and grad returned a gradient of the wrong shape)
    def outer(x):
        g, consts = ft.closure_convert(lambda y: fnp.sin(x) * y, x)
        return g(fnp.ones((2, 3)), *consts)
    for run in (ft.jit(outer), ft.grad(lambda x: fnp.sum(outer(x)))):
        with pytest.raises(TypeError, match="other shapes, dtypes or static values"):
            run(np.ones(3))

    def same(x):
        g, consts = ft.closure_convert(lambda y: fnp.sin(x) * y, x)
        return g(2.0 * x, *consts)
    np.testing.assert_allclose(ft.grad(lambda x: fnp.sum(same(x)))(np.ones(3)),
                               np.cos(1.0) * 2.0 + np.sin(1.0) * 2.0, rtol=1e-14)

# -- the Riemann zeta function's derivative (zeta(x), q omitted) -------------------------------


def _central(f, x, h):
    return (f(x + h) - f(x - h)) / (2 * h)


def test_riemann_zeta_derivative_against_finite_differences():
    import scipy.special as sc
    from functrans.scipy import special as fs
    # each piece (reflection below -1/2, the series to 1, Hurwitz's above), their seams, near
    # the pole on both sides, the negative even integers (zeros of zeta)
    x = np.array([-30.5, -11.0, -7.25, -4.0, -2.0, -1.0, -0.5, -0.3, 0.0, 0.3, 0.5, 0.9,
                  0.99, 1.01, 1.1, 2.0, 7.0, 40.0])
    d = ft.vmap(ft.grad(fs.zeta))(x)
    h = 1e-6 * np.maximum(1.0, np.abs(x)) * np.where(np.abs(x - 1) < 0.05, 1e-2, 1.0)
    # (zetac: zeta - 1, the same derivative, with the digits zeta(40) = 1 + 9e-13 loses)
    np.testing.assert_allclose(d, _central(sc.zetac, x, h), rtol=2e-7)
    # values known in closed form: zeta'(0) = -log(2 pi)/2, zeta'(-2) = -zeta(3)/(4 pi^2)
    np.testing.assert_allclose(ft.grad(fs.zeta)(0.0), -0.5 * np.log(2 * np.pi), rtol=1e-14)
    np.testing.assert_allclose(ft.grad(fs.zeta)(-2.0), -sc.zeta(3.0) / (4 * np.pi ** 2),
                               rtol=1e-14)
    # second order, in float64, through the three pieces (and zetac, which is zeta - 1)
    check_grads(lambda v: fs.zeta(v), (np.array([-3.5, -0.2, 0.6, 2.5]),), order=2)
    check_grads(lambda v: fs.zetac(v), (np.array([-3.5, 0.6, 2.5, 30.0]),), order=2)
    # forward and reverse agree (the pieces' nan-free placeholders: no nan through select)
    xs = np.array([-5.5, -0.4, 0.7, 3.0])
    np.testing.assert_allclose(ft.jacfwd(fs.zeta)(xs), np.diag(ft.vmap(ft.grad(fs.zeta))(xs)),
                               rtol=1e-15)
    np.testing.assert_allclose(ft.jacrev(fs.zeta)(xs), np.diag(ft.vmap(ft.grad(fs.zeta))(xs)),
                               rtol=1e-15)


def test_riemann_zeta_edges_and_q_one():
    import scipy.special as sc
    from functrans.scipy import special as fs
    x = np.array([-3.5, -1.0, -0.5, 0.0, 0.5, 0.999, 1.0, 1.001, 2.0, 30.0, -200.0,
                  np.inf, -np.inf, np.nan])
    with np.errstate(all="ignore"):
        # the values are SciPy's: the Riemann function for every x; with q = 1 the Hurwitz
        # function, nan below 1 (as SciPy's and JAX's)
        np.testing.assert_array_equal(fs.zeta(x), sc.zeta(x))
        np.testing.assert_array_equal(fs.zeta(x, 1.0), sc.zeta(x, 1.0))
        d = ft.vmap(ft.grad(fs.zeta))(x)
        dq = ft.vmap(ft.grad(lambda v: fs.zeta(v, 1.0)))(x)
    # derivative: nan at the pole, at -inf and nan; 0 at inf; zetac's the same
    assert np.isnan(d[[6, 12, 13]]).all() and d[11] == 0.0
    assert np.isfinite(d[:6]).all() and np.isfinite(d[7:11]).all()
    assert ft.grad(fs.zetac)(np.inf) == 0.0 and np.isnan(ft.grad(fs.zetac)(1.0))
    # above 1 the Riemann and the Hurwitz (q = 1) derivatives are one function; below, the
    # Hurwitz function is the edge's nan, a constant
    np.testing.assert_allclose(d[7:10], dq[7:10], rtol=1e-14)
    assert (dq[:6] == 0.0).all()
    # float32 in, float32 out
    g = ft.grad(fs.zeta)(np.float32(2.5))
    assert g.dtype == np.float32 and abs(float(g) - ft.grad(fs.zeta)(2.5)) < 1e-6

# -- lax.linalg.qr(pivoting=True) (it raised NotImplementedError) --------------------------------


def test_lax_qr_with_column_pivoting():
    import scipy.linalg as sl
    from functrans import lax
    rng = np.random.default_rng(0)
    a = rng.normal(size=(5, 3)) * np.array([1.0, 10.0, 3.0])  # (columns of distinct norms)
    for full in (True, False):
        q, r, p = lax.linalg.qr(a, pivoting=True, full_matrices=full)
        qs, rs, ps = sl.qr(a, pivoting=True, mode="full" if full else "economic")
        assert p.dtype == np.int32 and p.tolist() == ps.tolist() == [1, 2, 0]
        np.testing.assert_allclose(q @ r, a[:, p], atol=1e-14)
        np.testing.assert_allclose(np.abs(r), np.abs(rs), atol=1e-13)
        np.testing.assert_allclose(np.abs(q[:, :3]), np.abs(qs[:, :3]), atol=1e-13)
    # under jit and vmap (a pivot order per member), and differentiable in a: the factors of
    # a[:, p] (p is constant nearby)
    b = a[:, ::-1]
    ps = ft.vmap(lambda m: lax.linalg.qr(m, pivoting=True)[2])(np.stack([a, b]))
    assert ps.tolist() == [[1, 2, 0], [1, 0, 2]]
    assert ft.jit(lambda m: lax.linalg.qr(m, pivoting=True))(a)[2].tolist() == [1, 2, 0]
    check_grads(lambda m: lax.linalg.qr(m, pivoting=True, full_matrices=False)[:2], (a,),
                order=1)


def test_lax_qr_with_column_pivoting_as_jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    from functrans import lax
    a = np.random.default_rng(1).normal(size=(4, 4)) * np.array([2.0, 1.0, 7.0, 3.0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        jq, jr, jp = jax.lax.linalg.qr(jax.numpy.asarray(a), pivoting=True)
    q, r, p = lax.linalg.qr(a, pivoting=True)
    assert np.asarray(jp).tolist() == p.tolist()
    np.testing.assert_allclose(q @ r, np.asarray(jq) @ np.asarray(jr), atol=1e-13)
    np.testing.assert_allclose(np.abs(r), np.abs(np.asarray(jr)), atol=1e-13)
