"""perf39: a transposed contraction is one operation (tensordot's optional ``perm``: the
result's axes permuted, where the transpose rule bound a tensordot and a transpose), and a
NumPy result of a transpose rule is copied only where its memory may be a borrowed
cotangent's. Checked against NumPy's own contractions, the dot-product identity, forward
mode, vmap, jit, jet, sparsify and JAX, on every backend; the results are those of the two
operations it replaces, to the bit."""


import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans import reverse
from functrans.errors import ShapeError
from functrans.primitives import linalg as _la
from tests.test_s38_perf38 import _functrans_calls

# (the float paths' frames as in a process that has not used NumPy's bfloat16: conftest)
pytestmark = pytest.mark.usefixtures("numpy_without_bfloat16")

_RNG = np.random.default_rng(39)
# autograd's dot benchmark shapes (benchmarks.peer_suites): a, b, and the cotangent g of
# dot(a, b), whose VJP in b contracts a's leading axes with g's: (5, 2, 3, 4) -> (2, 3, 5, 4)
_A, _B, _G = (_RNG.standard_normal(s) for s in ((2, 3, 4, 5), (2, 3, 5, 4), (2, 3, 4, 2, 3, 4)))


def _ct_b(a, g):
    """The VJP of dot(a, b) in b at cotangent g, by NumPy: sum_ijk a[i,j,k,s] g[i,j,k,l,m,n]
    at [l, m, s, n]."""
    return np.transpose(np.tensordot(a, g, axes=([0, 1, 2], [0, 1, 2])), (1, 2, 0, 3))


def _ct_a(b, g):
    """The VJP of dot(a, b) in a: sum_lmn g[i,j,k,l,m,n] b[l,m,s,n] at [i, j, k, s]."""
    return np.tensordot(g, b, axes=([3, 4, 5], [0, 1, 3]))


def test_transposed_contraction_is_one_operation():
    # before perf39: tensordot then transpose, two equations (two recorded operations, two
    # rules run at every level above)
    def f(g):
        return ft.vjp(lambda b: fnp.dot(_A, b), _B)[1](g)[0]
    graph = ft.make_graph(f)(_G)
    assert [e[0].name for e in graph.eqns] == ["tensordot"]
    assert graph.eqns[0][2] == {"a1": (0, 1, 2), "a2": (0, 1, 2), "perm": (1, 2, 0, 3)}
    assert "perm=(1, 2, 0, 3)" in str(ft.make_jaxpr(f)(_G))
    # a contraction whose transpose needs no permutation has no parameter for one
    graph = ft.make_graph(lambda g: ft.vjp(lambda a: fnp.dot(a, _B), _A)[1](g)[0])(_G)
    assert [(e[0].name, e[2]) for e in graph.eqns] == [
        ("tensordot", {"a1": (3, 4, 5), "a2": (0, 1, 3)})]


def test_permuted_contraction_values(backend):
    a, b, g = (backend.asarray(v) for v in (_A, _B, _G))
    y, pull = ft.vjp(lambda b: fnp.dot(a, b), b)
    (cb,) = pull(g)
    assert backend.is_own(cb) and tuple(cb.shape) == _B.shape
    np.testing.assert_allclose(backend.to_numpy(cb), _ct_b(_A, _G), rtol=1e-13, atol=1e-13)
    (ca,) = ft.vjp(lambda a: fnp.dot(a, b), a)[1](g)
    np.testing.assert_allclose(backend.to_numpy(ca), _ct_a(_B, _G), rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("perm", [(1, 2, 0, 3), (3, 0, 2, 1), (0, 1, 2, 3)])
def test_tensordot_primitive_with_perm(backend, perm):
    a, g = backend.asarray(_A), backend.asarray(_G)
    out = _la.tensordot(a, g, (0, 1, 2), (0, 1, 2), perm)
    want = np.transpose(np.tensordot(_A, _G, axes=([0, 1, 2], [0, 1, 2])), perm)
    assert tuple(out.shape) == want.shape
    np.testing.assert_allclose(backend.to_numpy(out), want, rtol=1e-13, atol=1e-13)
    # staged: the same shape from abstract evaluation, the same values from the graph
    jitted = ft.jit(lambda a, g: _la.tensordot(a, g, (0, 1, 2), (0, 1, 2), perm))
    np.testing.assert_allclose(backend.to_numpy(jitted(a, g)), want, rtol=1e-13, atol=1e-13)


def test_tensordot_perm_that_is_no_permutation_refused():
    for perm in ((0, 1, 2), (0, 0, 1, 2)):
        bad = lambda a, g: _la.tensordot_p.bind(a, g, a1=(0, 1, 2), a2=(0, 1, 2),  # noqa
                                                perm=perm)
        with pytest.raises(ShapeError, match="no permutation"):
            ft.make_graph(bad)(_A, _G)
        with pytest.raises((ShapeError, ValueError)):  # (eagerly NumPy's own refusal)
            bad(_A, _G)


def _vdot(x, y):
    return float(np.sum(np.asarray(x) * np.asarray(y)))


@pytest.mark.parametrize("op", ["dot", "tensordot"])
@pytest.mark.parametrize("argnum", [0, 1])
@pytest.mark.parametrize("second", [0, 1, 2])
def test_vjp_of_vjp_dot_product_identity(backend, op, argnum, second):
    # the first VJP is linear in g, and in the operand it does not differentiate: the second
    # VJP is the transpose of a linear map, <J^T ct, v> = <ct, J v>
    if op == "dot":
        args, extra = [_A, _B, _G], ()
    else:
        args = [_RNG.standard_normal(s) for s in ((2, 3, 5, 4), (5, 4, 2, 3), (2, 3, 2, 3))]
        extra = (2,)
    args = [backend.asarray(v) for v in args]
    f = getattr(fnp, op)

    def first(a, b, g):
        if argnum == 0:
            return ft.vjp(lambda a: f(a, b, *extra), a)[1](g)[0]
        return ft.vjp(lambda b: f(a, b, *extra), b)[1](g)[0]

    def h(v):
        new = list(args)
        new[second] = v
        return first(*new)
    out, pull = ft.vjp(h, args[second])
    ct = backend.asarray(_RNG.standard_normal(tuple(out.shape)))
    (back,) = pull(ct)
    v = backend.asarray(_RNG.standard_normal(tuple(args[second].shape)))
    zero = backend.asarray(np.zeros(tuple(args[second].shape)))
    jv = backend.to_numpy(h(v)) - backend.to_numpy(h(zero))
    lhs, rhs = _vdot(backend.to_numpy(back), backend.to_numpy(v)), _vdot(backend.to_numpy(ct), jv)
    assert abs(lhs - rhs) <= 1e-12 * max(1.0, abs(rhs))
    if second == argnum:  # (the first VJP does not depend on the operand it differentiates)
        np.testing.assert_array_equal(backend.to_numpy(back), 0.0)


def test_permuted_contraction_under_forward_mode_vmap_and_jit():
    def first(g):
        return ft.vjp(lambda b: fnp.dot(_A, b), _B)[1](g)[0]
    t = _RNG.standard_normal(_G.shape)
    y, ty = ft.jvp(first, (_G,), (t,))  # linear: the tangent is the map at t
    np.testing.assert_allclose(y, _ct_b(_A, _G), rtol=1e-13)
    np.testing.assert_allclose(ty, _ct_b(_A, t), rtol=1e-13)
    gs = np.stack([_G, t, 2.0 * _G])
    np.testing.assert_allclose(ft.vmap(first)(gs), np.stack([_ct_b(_A, x) for x in gs]),
                               rtol=1e-13)
    # batched along another axis of g, and with a batched a (both operands batched)
    np.testing.assert_allclose(ft.vmap(first, in_axes=3, out_axes=1)(gs.transpose(1, 2, 3, 0,
                                                                                  4, 5, 6)),
                               np.stack([_ct_b(_A, x) for x in gs], axis=1), rtol=1e-13)
    a2 = np.stack([_A, -_A, 0.5 * _A])

    def first_a(a, g):
        return ft.vjp(lambda b: fnp.dot(a, b), _B)[1](g)[0]
    np.testing.assert_allclose(ft.vmap(first_a)(a2, gs),
                               np.stack([_ct_b(x, y) for x, y in zip(a2, gs)]), rtol=1e-13)
    np.testing.assert_allclose(ft.jit(first)(t), _ct_b(_A, t), rtol=1e-13)


def test_hessian_through_a_permuted_contraction_against_finite_differences():
    # forward-over-reverse through dot's VJP in b (the permuted contraction, differentiated)
    a = _RNG.standard_normal((2, 3))
    b0 = _RNG.standard_normal((2, 3, 2))

    def f(b):
        return fnp.sum(fnp.sin(fnp.dot(a, b)) * fnp.dot(a, b))
    h = ft.hessian(f)(b0)
    hj = ft.jit(ft.hessian(f))(b0)
    np.testing.assert_array_equal(h, hj)
    gfun = ft.grad(f)
    eps = 1e-5
    fd = np.zeros(b0.shape + b0.shape)
    for idx in np.ndindex(b0.shape):
        e = np.zeros(b0.shape)
        e[idx] = eps
        fd[(Ellipsis,) + idx] = (gfun(b0 + e) - gfun(b0 - e)) / (2 * eps)
    np.testing.assert_allclose(h, fd, rtol=1e-7, atol=1e-8)
    # the hessian is symmetric, as reverse-over-reverse gives it too
    hr = ft.jacrev(ft.jacrev(f))(b0)
    np.testing.assert_allclose(h, hr, rtol=1e-12, atol=1e-13)


def test_jet_through_a_permuted_contraction():
    from functrans.experimental.jet import jet

    def first(g):
        return ft.vjp(lambda b: fnp.dot(_A, b), _B)[1](g)[0]
    t1, t2 = _RNG.standard_normal(_G.shape), _RNG.standard_normal(_G.shape)
    y, (y1, y2) = jet(first, (_G,), ((t1, t2),))
    np.testing.assert_allclose(y, _ct_b(_A, _G), rtol=1e-13)
    np.testing.assert_allclose(y1, _ct_b(_A, t1), rtol=1e-13)
    np.testing.assert_allclose(y2, _ct_b(_A, t2), rtol=1e-13)


def test_sparsify_of_a_graph_with_a_permuted_contraction():
    from functrans.experimental import sparse
    a = _A * (_RNG.uniform(size=_A.shape) < 0.3)
    m = sparse.BCOO.fromdense(a)

    def first(a, g):
        return ft.vjp(lambda b: fnp.dot(a, b), _B)[1](g)[0]
    np.testing.assert_allclose(sparse.sparsify(first)(m, _G), _ct_b(a, _G), rtol=1e-13,
                               atol=1e-13)
    m2 = sparse.BCOO.fromdense(_G * (_RNG.uniform(size=_G.shape) < 0.3))
    got = sparse._sparse_tensordot(m, m2, a1=(0, 1, 2), a2=(0, 1, 2), perm=(1, 2, 0, 3))
    got = got.todense() if isinstance(got, sparse.BCOO) else got
    np.testing.assert_allclose(np.asarray(got), _ct_b(a, np.asarray(m2.todense())),
                               rtol=1e-13, atol=1e-13)


def test_second_order_vjps_against_jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = pytest.importorskip("jax.numpy")

    def first(vjp, ns):
        return lambda g: vjp(lambda b: ns.dot(_A, b), _B)[1](g)[0]
    ct = _RNG.standard_normal(_B.shape)
    ours = ft.vjp(first(ft.vjp, fnp), _G)[1](ct)[0]
    theirs = jax.vjp(first(jax.vjp, jnp), jnp.asarray(_G))[1](jnp.asarray(ct))[0]
    np.testing.assert_allclose(ours, np.asarray(theirs), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(first(ft.vjp, fnp)(_G), np.asarray(first(jax.vjp, jnp)(_G)),
                               rtol=1e-12, atol=1e-12)


def _copies(fn, monkeypatch):
    n = 0
    real = reverse._copy

    def counted(x):
        nonlocal n
        n += 1
        return real(x)
    monkeypatch.setattr(reverse, "_copy", counted)
    fn()
    monkeypatch.setattr(reverse, "_copy", real)
    return n


def test_contraction_result_not_copied(monkeypatch):
    # NumPy's tensordot returns a reshape of its fresh product (a view): it shares no memory
    # with the cotangent the caller passed, so it is returned as it is (it was copied)
    for f, x in ((lambda b: fnp.dot(_A, b), _B), (lambda a: fnp.dot(a, _B), _A),
                 (lambda a: fnp.tensordot(a, _B, ([3], [2])), _A)):
        y, pull = ft.vjp(f, x)
        g = _RNG.standard_normal(np.shape(y))
        assert _copies(lambda: pull(g), monkeypatch) == 0
        (r,) = pull(g)
        assert not np.shares_memory(r, g)
    # a transpose rule's view of the caller's cotangent is still copied
    y, pull = ft.vjp(lambda x: fnp.reshape(x, (24, 5)), _A)
    g = _RNG.standard_normal((24, 5))
    assert _copies(lambda: pull(g), monkeypatch) == 1


_LINEAR = {
    "reshape": lambda x: fnp.reshape(x, (6, 4)),
    "permute": lambda x: fnp.permute_dims(x, (2, 0, 1)),
    "T": lambda x: x.T,
    "expand": lambda x: fnp.expand_dims(x, 0),
    "squeeze": lambda x: fnp.squeeze(fnp.expand_dims(x, 0), 0),
    "flip": lambda x: fnp.flip(x, axis=1),
    "moveaxis": lambda x: fnp.moveaxis(x, 0, 2),
    "astype": lambda x: x.astype(fnp.float64),
    "index": lambda x: x[:, 1],
    "slice": lambda x: x[:, :2],
    "identity": lambda x: x,
    "positive": lambda x: +x,
    "times one": lambda x: x * 1.0,
    "einsum": lambda x: fnp.einsum("ijk->kji", x),
    "tensordot": lambda x: fnp.tensordot(x, np.ones((4, 5)), 1),
    "concat": lambda x: fnp.concat([x, x], axis=0),
    "broadcast": lambda x: fnp.broadcast_to(x, (2, 2, 3, 4)),
    "diagonal": lambda x: fnp.diagonal(x, axis1=1, axis2=2),
    "real": lambda x: fnp.real(x),
}


@pytest.mark.parametrize("name", sorted(_LINEAR))
def test_vjp_result_never_shares_the_callers_cotangent(name):
    x = _RNG.standard_normal((2, 3, 4))
    y, pull = ft.vjp(_LINEAR[name], x)
    g = _RNG.standard_normal(np.shape(y))
    (r,) = pull(g)
    assert not np.shares_memory(r, g)
    # and the second order's, whose cotangent is the caller's too
    h = lambda v: ft.vjp(_LINEAR[name], x)[1](v)[0]  # noqa: E731
    ct = _RNG.standard_normal(x.shape)
    (r2,) = ft.vjp(h, g)[1](ct)
    assert not np.shares_memory(r2, ct) and not np.shares_memory(r2, g)


def test_frames_per_level():
    # Python calls of functrans's functions: vjp of vjp of a dot product (b then g) 111
    # before perf39 (the transpose recorded and transposed apart), 90 after
    def bg():
        first = lambda b, g: ft.vjp(lambda b: fnp.dot(_A, b), b)[1](g)[0]  # noqa: E731
        return ft.vjp(lambda v: first(_B, v), _G)[1](_B)[0]
    bg()
    assert _functrans_calls(bg) <= 94
