"""Collectives over a vmap's named axis (functrans.collectives, exported by functrans.lax) and
pmap: values against NumPy references, derivatives (check_grads on the batched function, and
the inner transforms ``vmap(grad(g))``/``vmap(jvp(g))`` against the outer ones, which JAX's
rules make equal), staging, control flow, names, errors."""

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans import lax
from functrans.testing import check_grads

N = 3

# name -> (member function, per-member shape, NumPy reference on the stacked members)
COLLECTIVES = {
    "psum": (lambda x: lax.psum(x, "i"), (2,),
             lambda xs: np.broadcast_to(xs.sum(0), xs.shape)),
    "pmean": (lambda x: lax.pmean(x, "i"), (2,),
              lambda xs: np.broadcast_to(xs.mean(0), xs.shape)),
    "pmax": (lambda x: lax.pmax(x, "i"), (2,),
             lambda xs: np.broadcast_to(xs.max(0), xs.shape)),
    "pmin": (lambda x: lax.pmin(x, "i"), (2,),
             lambda xs: np.broadcast_to(xs.min(0), xs.shape)),
    "all_gather": (lambda x: lax.all_gather(x, "i", axis=1), (2,),
                   lambda xs: np.broadcast_to(xs.T, (N, 2, N))),
    "all_gather_tiled": (lambda x: lax.all_gather(x, "i", tiled=True), (2,),
                         lambda xs: np.broadcast_to(xs.reshape(-1), (N, 2 * N))),
    "psum_scatter": (lambda x: lax.psum_scatter(x, "i", scatter_dimension=1), (2, N),
                     lambda xs: xs.sum(0).T),
    "psum_scatter_tiled": (lambda x: lax.psum_scatter(x, "i", tiled=True), (2 * N,),
                           lambda xs: xs.sum(0).reshape(N, 2)),
    "ppermute": (lambda x: lax.ppermute(x, "i", [(0, 2), (2, 1)]), (2,),
                 lambda xs: np.stack([np.zeros(2), xs[2], xs[0]])),
    "pshuffle": (lambda x: lax.pshuffle(x, "i", [2, 0, 1]), (2,), lambda xs: xs[[2, 0, 1]]),
    "all_to_all": (lambda x: lax.all_to_all(x, "i", 1, 0), (2, N),
                   lambda xs: np.transpose(xs, (2, 0, 1))),
    "all_to_all_tiled": (lambda x: lax.all_to_all(x, "i", 0, 1, tiled=True), (2 * N, 1),
                         lambda xs: np.stack([np.concatenate([xs[j, 2 * i:2 * i + 2]
                                                              for j in range(N)], axis=1)
                                              for i in range(N)])),
    "pswapaxes": (lambda x: lax.pswapaxes(x, "i", 0), (N,), lambda xs: xs.T),
}


def _members(backend, shape, seed=0):
    rng = np.random.default_rng(seed)
    return backend.asarray(rng.normal(size=(N,) + shape))


@pytest.mark.parametrize("name", sorted(COLLECTIVES))
def test_values_and_derivatives(backend, name):
    g, shape, ref = COLLECTIVES[name]
    xs = _members(backend, shape)
    out = ft.vmap(g, axis_name="i")(xs)
    assert backend.is_own(out)
    np.testing.assert_allclose(backend.to_numpy(out), ref(backend.to_numpy(xs)), rtol=1e-13,
                               atol=1e-14)
    # the same under jit, inside and around the vmap
    np.testing.assert_allclose(backend.to_numpy(ft.vmap(ft.jit(g), axis_name="i")(xs)),
                               backend.to_numpy(out), rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(backend.to_numpy(ft.jit(ft.vmap(g, axis_name="i"))(xs)),
                               backend.to_numpy(out), rtol=1e-13, atol=1e-14)
    check_grads(lambda x: ft.vmap(lambda v: fnp.sum(v) * g(fnp.sin(v)), axis_name="i")(x),
                (xs,), order=2)


@pytest.mark.parametrize("name", sorted(COLLECTIVES))
def test_inner_transforms_match_outer(name):
    """vmap(grad(g)) is the gradient of the sum over the members, and vmap(jvp(g)) the JVP
    of the batched function (JAX's rules: psum transposes to psum...)."""
    g, shape, _ = COLLECTIVES[name]
    rng = np.random.default_rng(1)
    xs, ts = rng.normal(size=(N,) + shape), rng.normal(size=(N,) + shape)

    def member(v):
        return fnp.sum(fnp.cos(g(v * v)) * fnp.sum(v))

    inner = ft.vmap(ft.grad(member), axis_name="i")(xs)
    outer = ft.grad(lambda x: fnp.sum(ft.vmap(member, axis_name="i")(x)))(xs)
    np.testing.assert_allclose(inner, outer, rtol=1e-12, atol=1e-13)
    _, t_inner = ft.vmap(lambda v, t: ft.jvp(member, (v,), (t,)), axis_name="i")(xs, ts)
    _, t_outer = ft.jvp(ft.vmap(member, axis_name="i"), (xs,), (ts,))
    np.testing.assert_allclose(t_inner, t_outer, rtol=1e-12, atol=1e-13)
    # second order: the inner jacfwd pushes each basis vector into every member at once, so
    # member k's Hessian is the sum over m of the (k, m) blocks of the total's
    h_inner = ft.vmap(ft.hessian(member), axis_name="i")(xs)
    h_outer = ft.hessian(lambda x: fnp.sum(ft.vmap(member, axis_name="i")(x)))(xs)
    k = len(shape)
    blocks = np.stack([sum(h_outer[(i,) + (slice(None),) * k + (m,)] for m in range(N))
                       for i in range(N)])
    np.testing.assert_allclose(h_inner, blocks, rtol=1e-10, atol=1e-12)


def test_psum_semantics_as_jax():
    xs = np.array([1.0, 2.0, 3.0])

    def f(x):
        return x * lax.psum(x, "i")
    np.testing.assert_allclose(ft.vmap(f, axis_name="i")(xs), [6, 12, 18])
    np.testing.assert_allclose(ft.vmap(ft.grad(f), axis_name="i")(xs), [12, 12, 12])
    np.testing.assert_allclose(ft.vmap(ft.grad(lambda x: lax.psum(x ** 2, "i")),
                                       axis_name="i")(xs), [6, 12, 18])
    _, t = ft.vmap(lambda x: ft.jvp(f, (x,), (1.0,)), axis_name="i")(xs)
    np.testing.assert_allclose(t, [9, 12, 15])
    np.testing.assert_allclose(ft.vmap(ft.hessian(lambda x: x * lax.psum(x ** 2, "i")),
                                       axis_name="i")(xs), [30, 36, 42])
    # constants: psum of a value the same in every member is size * it
    np.testing.assert_array_equal(ft.vmap(lambda x: lax.psum(1, "i"), axis_name="i")(xs), 3)
    # integers: psum keeps them, pmean gives a float mean
    ints = ft.vmap(lambda x: (lax.psum(x, "i"), lax.pmean(x, "i")), axis_name="i")(
        np.arange(3))
    assert ints[0].dtype == np.int64 and ints[1].dtype == np.float64  # (int32: float32, as JAX)
    np.testing.assert_array_equal(ints[1], 1.0)


def test_pmax_derivative_shared_by_ties():
    g = ft.grad(lambda x: fnp.sum(ft.vmap(lambda v: lax.pmin(v, "i"), axis_name="i")(x)))
    np.testing.assert_allclose(g(np.array([1.0, 1.0, 3.0])), [1.5, 1.5, 0.0])
    g = ft.grad(lambda x: fnp.sum(ft.vmap(lambda v: lax.pmax(v, "i"), axis_name="i")(x)))
    np.testing.assert_allclose(g(np.array([1.0, 4.0, 3.0])), [0.0, 3.0, 0.0])


def test_axis_index_and_size(backend):
    xs = backend.asarray(np.zeros(4))
    idx = ft.vmap(lambda x: lax.axis_index("i"), axis_name="i")(xs)
    assert backend.is_own(idx)
    np.testing.assert_array_equal(backend.to_numpy(idx), np.arange(4))
    assert backend.to_numpy(idx).dtype == np.int32
    sizes = ft.vmap(lambda x: x + lax.axis_size("i"), axis_name="i")(xs)
    np.testing.assert_array_equal(backend.to_numpy(sizes), 4.0)
    # a tuple of names: the index in their product, the first varying slowest
    both = ft.vmap(ft.vmap(lambda x: lax.axis_index(("i", "j")), axis_name="j"),
                   axis_name="i")(np.zeros((2, 3)))
    np.testing.assert_array_equal(both, np.arange(6).reshape(2, 3))
    # no mapped argument: axis_size gives the members
    np.testing.assert_array_equal(
        ft.vmap(lambda: lax.axis_index("k"), axis_name="k", axis_size=3)(), [0, 1, 2])


def test_nested_names():
    xs = np.arange(6.0).reshape(2, 3)
    both = ft.vmap(ft.vmap(lambda x: lax.psum(x, ("i", "j")), axis_name="j"), axis_name="i")
    np.testing.assert_array_equal(both(xs), np.full((2, 3), 15.0))
    outer = ft.vmap(ft.vmap(lambda x: lax.psum(x, "i"), axis_name="j"), axis_name="i")
    np.testing.assert_array_equal(outer(xs), np.broadcast_to(xs.sum(0), (2, 3)))
    inner = ft.vmap(ft.vmap(lambda x: lax.pmax(x, "j"), axis_name="j"), axis_name="i")
    np.testing.assert_array_equal(inner(xs), np.broadcast_to(xs.max(1, keepdims=True), (2, 3)))
    # an unnamed vmap between: it maps the collective over its own batch
    mid = ft.vmap(ft.vmap(lambda x: lax.all_gather(x, "i")), axis_name="i")
    np.testing.assert_array_equal(mid(xs), np.broadcast_to(xs.T[None], (2, 3, 2)))
    # the inner of two vmaps of one name wins (as JAX)
    shadow = ft.vmap(ft.vmap(lambda x: lax.psum(x, "i"), axis_name="i"), axis_name="i")
    np.testing.assert_array_equal(shadow(xs), np.broadcast_to(xs.sum(1, keepdims=True), (2, 3)))


def test_control_flow_checkpoint_and_custom_rules():
    xs = np.array([1.0, 2.0, 3.0])
    cond = ft.vmap(lambda x: lax.cond(x > 1.5, lambda v: lax.psum(v, "i"), lambda v: v, x),
                   axis_name="i")
    np.testing.assert_array_equal(cond(xs), [1.0, 6.0, 6.0])
    np.testing.assert_array_equal(ft.jit(cond)(xs), [1.0, 6.0, 6.0])
    loop = ft.vmap(lambda x: lax.while_loop(lambda c: c < 10, lambda c: c + lax.pmax(c, "i"),
                                            x), axis_name="i")
    np.testing.assert_array_equal(loop(xs), [10.0, 11.0, 12.0])
    fori = ft.vmap(lambda x: lax.fori_loop(0, 2, lambda k, c: c + lax.psum(c, "i"), x),
                   axis_name="i")
    np.testing.assert_array_equal(fori(xs), [31.0, 32.0, 33.0])
    np.testing.assert_array_equal(ft.jit(fori)(xs), [31.0, 32.0, 33.0])
    scan = ft.vmap(lambda x: lax.scan(lambda c, _: (c * lax.pmean(c, "i"), c), x, None,
                                      length=2)[0], axis_name="i")
    np.testing.assert_allclose(ft.jit(scan)(xs), xs * 2 * np.mean(xs * 2))
    check_grads(ft.jit(scan), (xs,), order=1)
    remat = ft.vmap(ft.checkpoint(lambda x: x * lax.psum(x, "i")), axis_name="i")
    np.testing.assert_array_equal(remat(xs), [6.0, 12.0, 18.0])
    np.testing.assert_array_equal(ft.grad(lambda x: fnp.sum(remat(x)))(xs), [12.0] * 3)

    @ft.custom_jvp
    def total(x):
        return lax.psum(x, "i")

    @total.defjvp
    def _(primals, tangents):
        return total(primals[0]), 2.0 * lax.psum(tangents[0], "i")  # deliberately not 1x
    np.testing.assert_array_equal(ft.vmap(ft.grad(total), axis_name="i")(xs), [6.0] * 3)


def test_jit_cache_sees_the_axis_size():
    g = ft.jit(lambda v: v * lax.axis_size("i"))
    f = ft.vmap(g, axis_name="i")
    np.testing.assert_array_equal(f(np.ones(2)), [2.0, 2.0])
    np.testing.assert_array_equal(f(np.ones(3)), [3.0, 3.0, 3.0])


def test_pmap():
    xs = np.arange(3.0)
    np.testing.assert_array_equal(
        ft.pmap(lambda x: x * lax.psum(x, "i"), axis_name="i")(xs), [0.0, 3.0, 6.0])
    np.testing.assert_array_equal(
        ft.pmap(lambda x, n: x * n, static_broadcasted_argnums=1)(xs, 2), [0.0, 2.0, 4.0])
    np.testing.assert_array_equal(
        ft.pmap(lambda x, y: x + y, in_axes=(0, None))(xs, 1.0), [1.0, 2.0, 3.0])
    with pytest.raises(NotImplementedError, match="devices"):
        ft.pmap(lambda x: x, devices=["gpu0"])


def test_errors():
    xs = np.ones(3)
    with pytest.raises(NameError, match="unbound axis name: 'i'.*no vmap"):
        lax.psum(xs, "i")
    with pytest.raises(NameError, match=r"unbound axis name: 'j'.*\['i'\]"):
        ft.vmap(lambda x: lax.pmean(x, "j"), axis_name="i")(xs)
    with pytest.raises(NameError, match="unbound axis name"):
        ft.jit(lambda x: lax.psum(x, "i"))(xs)
    with pytest.raises(NameError, match="unbound axis name"):
        ft.vmap(lambda x: lax.all_gather(x, "k"))(xs)
    with pytest.raises(NotImplementedError, match="axis_index_groups"):
        ft.vmap(lambda x: lax.psum(x, "i", axis_index_groups=[[0, 1], [2]]),
                axis_name="i")(xs)
    with pytest.raises(ValueError, match="equal the number of members, 3"):
        ft.vmap(lambda x: lax.psum_scatter(x, "i"), axis_name="i")(np.ones((3, 2)))
    with pytest.raises(ValueError, match="multiple of the number of members"):
        ft.vmap(lambda x: lax.all_to_all(x, "i", 0, 0, tiled=True),
                axis_name="i")(np.ones((3, 4)))
    with pytest.raises(ValueError, match="twice"):
        ft.vmap(lambda x: lax.ppermute(x, "i", [(0, 1), (1, 1)]), axis_name="i")(xs)
    with pytest.raises(ValueError, match="outside 0..2"):
        ft.vmap(lambda x: lax.ppermute(x, "i", [(0, 3)]), axis_name="i")(xs)
    with pytest.raises(ValueError, match="not a permutation"):
        ft.vmap(lambda x: lax.pshuffle(x, "i", [0, 0, 1]), axis_name="i")(xs)
    with pytest.raises(ValueError, match="scalar"):
        ft.vmap(lambda x: lax.all_gather(x, "i", tiled=True), axis_name="i")(xs)
    with pytest.raises(ft.errors.BatchingError, match="hashable"):
        ft.vmap(lambda x: x, axis_name=["i"])
    # spmd_axis_name is accepted (placement only in JAX)
    np.testing.assert_array_equal(ft.vmap(lambda x: 2 * x, spmd_axis_name="d")(xs), 2 * xs)


def test_derivative_of_a_collective_in_a_batched_cond_branch():
    # The branch's psum sums over every member (the branch runs on all of them, as JAX's
    # select of both branches): f(y) = 0.3 * 1.1 y + 2.0 * 1.1 y - 1.2 y, f'(y) = 1.33.
    # (JAX 0.10's grad gives 4.09 here, as if the psum ran over the chosen members only;
    # its jvp agrees, central differences give 1.33.)
    xs = np.array([0.3, -1.2, 2.0])

    def f(y):
        return fnp.sum(ft.vmap(lambda x: lax.cond(x > 0, lambda x: x * lax.psum(x * y, "i"),
                                                  lambda x: x * y, x), axis_name="i")(xs))
    for run in (lambda g: g, ft.jit):
        np.testing.assert_allclose(run(ft.grad(f))(1.2), 1.33, rtol=1e-14)
        np.testing.assert_allclose(ft.jvp(run(f), (1.2,), (1.0,))[1], 1.33, rtol=1e-14)
    check_grads(f, (1.2,), order=2)
