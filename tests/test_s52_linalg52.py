"""Session 52, helper linalg52: a real svd's vectors under jit at ties (the lax.cond), and
scipy.linalg fuzzing.

- A real x's svd vectors under jit take the svd_vecs maps only where the singular values
  hold a tie, a near tie or a zero (session 51's lax.cond on _staged_may_tie, complex-only
  until now), the plain products of no tie elsewhere, as the eager choice. Medians of
  interleaved runs against the base: jit(hvp) of a real svd loss 0.83x (8 x 16 x 16),
  0.66x / 0.70x (16 x 4 x 3 / 16 x 3 x 4), 0.61x (tall 8 x 64 x 8), jit(hessian) 0.95x
  (2 x 4 x 4); jit(grad) 0.89x (tall 8 x 64 x 8), 0.98x (16 x 4 x 3), 1.06x-1.09x
  (16 x 3 x 4, 8 x 16 x 16: the cond and its predicate, ~30-40 us a call, where the
  maps' first derivatives cost what the plain products do); complex and eager 1.00x.
  These tests pin what the choice must keep: a tie, a near tie and a zero
  under jit take the maps (central differences' second derivatives, eager's first
  derivatives), and a generic stack the plain products (eager's values), in one jitted
  function.
- eigh under jit keeps its maps everywhere: the cond costs more than they do (jit(grad)
  1.13x, 1.36x; jit(hvp) 1.06x, 1.07x on 8 x 16 x 16 and 16 x 3 x 3). eig under jit keeps
  its tie forms everywhere too, where the plain ones cost 0.47x-0.67x: a cond reads its
  predicate on the host, which test_s45_linalg45 forbids for jit(grad) of eig on a device.
- Fuzzing scipy.linalg (tests/_fuzz_scipy_linalg_jax.py, seeds 44020-44034, --n 10):
  one mismatch, a harness case - fiedler of a length-1 boolean vector is SciPy's [[0.]]
  before it looks at the dtype (as the empty one; functrans refuses booleans at every
  size, documented); no bug of ours.
- Left: the near-tie and at-tie second-derivative strict xfails (test_s50_spectral50,
  test_s42/test_s44_linalg) need the function of the spectrum itself (their reasons), not
  a cheap change to these rules; eig's cond above.
"""

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp

from ._reference import SECOND_ORDER, second_differences, second_differences_once

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

la = fnp.linalg


def _u0_projector(c):
    """(ours, NumPy's): sum(c * u_0 u_0^T), u_0 the first left singular vector (no sign)."""
    def ours(x):
        u = la.svd(x)[0][..., :, 0]
        return fnp.sum((u[..., :, None] * u[..., None, :]) * c)

    def ref(x):
        u = np.linalg.svd(x)[0][..., :, 0]
        return np.sum(c * (u[..., :, None] * u[..., None, :]))
    return ours, ref


_C = np.random.default_rng(5201).normal(size=(3, 3))
def _want(key, ref, x):
    return second_differences_once(("s52", key), ref, x)


@pytest.mark.parametrize("nesting", sorted(SECOND_ORDER))
def test_real_square_simple_vector_beside_a_tie_under_jit(nesting):
    # (the maps' branch: u_0 beside the tied pair of diag(2, 1, 1), every nesting)
    ours, ref = _u0_projector(_C)
    x = np.diag([2.0, 1.0, 1.0])
    got = np.asarray(ft.jit(SECOND_ORDER[nesting](ours))(x))
    np.testing.assert_allclose(got, _want("tie", ref, x), rtol=0, atol=1e-6)


def test_real_jit_stack_generic_and_tied():
    # one jit, two calls: a generic stack (the plain products: eager's values to 1e-13),
    # then the same stack with a tied matrix (the maps: its Hessian, the other eager's)
    ours, ref = _u0_projector(_C)
    rng = np.random.default_rng(5202)
    gen = rng.normal(size=(2, 3, 3))
    h = ft.jit(ft.vmap(ft.jacrev(ft.jacfwd(ours))))
    eager = np.asarray(ft.vmap(ft.jacrev(ft.jacfwd(ours)))(gen))
    np.testing.assert_allclose(np.asarray(h(gen)), eager, rtol=1e-12, atol=1e-13)
    tied = gen.copy()
    tied[0] = np.diag([2.0, 1.0, 1.0])
    got = np.asarray(h(tied))
    np.testing.assert_allclose(got[0], _want("tie", ref, tied[0]), rtol=0, atol=1e-6)
    np.testing.assert_allclose(got[1], eager[1], rtol=1e-12, atol=1e-13)


def test_real_generic_first_and_second_derivatives_under_jit_as_eager():
    # (the plain branch: jit(grad) and jit(hvp) of U, S and V^T together, square, tall and
    # wide stacks, against eager's - whose values hold no tie, so the plain products too)
    rng = np.random.default_rng(5203)
    for shape in ((4, 5, 5), (3, 4, 3), (3, 3, 4)):
        k = min(shape[-2:])
        c1 = rng.normal(size=shape[:-1] + (k,))
        c2 = rng.normal(size=shape[:-2] + (k, shape[-1]))
        c3 = rng.normal(size=shape[:-2] + (k,))

        def f(x):
            u, s, vh = la.svd(x, full_matrices=False)
            return fnp.sum(u * c1) + fnp.sum(vh * c2) + fnp.sum(s * c3)
        x, t = rng.normal(size=(2,) + shape)
        hvp = lambda x, t: ft.jvp(ft.grad(f), (x,), (t,))[1]   # noqa: E731
        for fn in (ft.grad(f), hvp):
            args = (x,) if fn is not hvp else (x, t)
            np.testing.assert_allclose(np.asarray(ft.jit(fn)(*args)), np.asarray(fn(*args)),
                                       rtol=1e-12, atol=1e-13, err_msg=str(shape))


@pytest.mark.parametrize("s", [(2.0, 1.0 + 1e-9, 1.0), (2.0, 1.0, 0.0)], ids=["near", "zero"])
def test_real_near_tie_and_zero_under_jit_take_the_maps(s):
    # a near tie (1e-9 apart: within sqrt(eps) of s_max) and a zero singular value take the
    # maps, as eager does: u_0's Hessian beside them against central differences, and jit's
    # first derivatives of U in a stack with a generic matrix eager's
    ours, ref = _u0_projector(_C)
    x = np.diag(s)
    got = np.asarray(ft.jit(ft.jacfwd(ft.jacrev(ours)))(x))
    np.testing.assert_allclose(got, second_differences(ref, x), rtol=0, atol=1e-6)
    xs = np.stack([x, np.random.default_rng(5204).normal(size=(3, 3))])
    u = lambda m: la.svd(m)[0]                                           # noqa: E731
    eager = np.asarray(ft.jacrev(u)(xs))
    np.testing.assert_allclose(np.asarray(ft.jit(ft.jacrev(u))(xs)), eager, rtol=1e-12,
                               atol=1e-14)


def test_real_tie_under_jit_on_backends(backend):
    # (the staged predicate on the backend's own arrays: strict's device, torch)
    ours = _u0_projector(backend.asarray(_C))[0]
    ref = _u0_projector(_C)[1]
    x = np.diag([2.0, 1.0, 1.0])
    got = ft.jit(ft.jacrev(ft.jacfwd(ours)))(backend.asarray(x))
    assert backend.is_own(got)
    np.testing.assert_allclose(backend.to_numpy(got), _want("tie", ref, x), rtol=0, atol=1e-6)


def test_real_svd_under_jit_stages_a_cond():
    # (the mechanism: a real svd's vectors under jit behind one lax.cond, as a complex x's;
    # base staged the maps alone)
    def f(x):
        u, s, vh = la.svd(x)
        return fnp.sum(u[..., 0] ** 3) + fnp.sum(vh[..., 0, :] ** 3)
    graph = str(ft.make_graph(ft.grad(f))(np.random.default_rng(5205).normal(size=(2, 3, 3))))
    assert graph.count(" = cond ") == 1
