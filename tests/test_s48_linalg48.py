"""Session 48, helper linalg48: a real rectangular svd's singular vectors where ties may be
(eager ties or zeros, vmap, jit).

- The square factor (a tall x's V, a wide one's U) goes through the svd_vecs map (eigh's
  map of x^T x; eager, jit, vmap), the thin one (session 48: through the map of the square
  [x, 0] at a tie or zero seen in eager NumPy values only, its m x m products costing
  jit(grad) of a tall 8 x 64 x 8 stack ~5x; session 51: from the square one's tangent,
  U = x V S^-1, eager, jit and vmap alike, see tests/test_s51_linalg51.py). A simple
  singular value's vectors at a tie have their
  second derivatives (were NaN in every entry: jacfwd(jacfwd(U[:, 0])) at
  eye(4, 3) * [2, 1, 1], test_s46's former strict xfail), checked here against second
  central differences of the matrix alone in both nestings.
- At a tall matrix with a zero singular value (no tie) reverse over forward gave finite
  values 1.0 off (V's rows); now second central differences.
- Pinned decisions: the tied vectors' second derivatives stay NaN (no finite entry that
  second differences cannot check: along a direction in the complement the map's P is 0
  while x^T x moves at second order, where the zero tests gave a silent 0 in an earlier
  design); a zero singular value's thin vector (tied with the complement) stays NaN.
- Away from ties the new forms (jit) are the plain rule's (eager): the dot-product identity
  of the Hessian; numpy, array-api-strict and torch under jit; vmap.
"""


import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp

from ._reference import SECOND_ORDER, second_differences

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

la = fnp.linalg

_NEST = SECOND_ORDER


def _part(name, k):
    """(ours, NumPy's with a sign per vector fixed): U's column k or Vh's row k."""
    if name == "U":
        ours = lambda m: la.svd(m, full_matrices=False)[0][..., k]         # noqa: E731

        def ref(m):
            u = np.linalg.svd(m, full_matrices=False)[0][..., k]
            return u * np.sign(u[np.argmax(np.abs(u))])
        return ours, ref
    ours = lambda m: la.svd(m, full_matrices=False)[2][..., k, :]          # noqa: E731

    def ref(m):
        v = np.linalg.svd(m, full_matrices=False)[2][..., k, :]
        return v * np.sign(v[np.argmax(np.abs(v))])
    return ours, ref


def _check(ours, ref, x, nestings, atol=1e-6, jit=False):
    want = second_differences(ref, x)
    sign = np.sign(np.sum(ref(x) * np.asarray(ours(x))))
    for nesting in nestings:
        h = _NEST[nesting](ours)
        got = np.asarray((ft.jit(h) if jit else h)(x)) * sign
        np.testing.assert_allclose(got, want, atol=atol, err_msg=nesting)


_TIED = np.eye(4, 3) * [2.0, 1.0, 1.0]   # (singular values 2, 1, 1)


@pytest.mark.parametrize("case", ["tall U", "wide Vh", "tall Vh"])
def test_rectangular_simple_vector_at_a_tie(case):
    # (all NaN before in every nesting; the thin factor's whole-matrix products gave inf - inf)
    shape, name = case.split()
    x = _TIED if shape == "tall" else _TIED.T.copy()
    ours, ref = _part("U" if name == "U" else "V", 0)
    _check(ours, ref, x, ["fwd(rev)", "rev(fwd)"], jit=(case == "tall Vh"))
    # (the tied pair's vectors: NaN, every entry, as before)
    tied = _part("U" if name == "U" else "V", 1)[0]
    assert np.all(np.isnan(np.asarray(_NEST["fwd(fwd)"](tied)(x))))


def test_tall_rank_deficient_vectors_second_order():
    # singular values 2, 1, 0 (no tie): Vh's rows in rev(fwd) were 1.0 off in the entries
    # that were finite (second central differences), U's middle column NaN
    x = np.eye(4, 3) * [2.0, 1.0, 0.0]
    for name in ("V", "U"):
        ours, ref = _part(name, 1)
        _check(ours, ref, x, ["rev(fwd)", "fwd(rev)"])
    # (the zero singular value's left vector turns within the complement's null space,
    # e.g. along E22 to e_2: NaN, never a finite value)
    own = ft.jacfwd(ft.jacrev(lambda m: la.svd(m, full_matrices=False)[0][..., 2]))(x)
    assert np.all(np.isnan(np.asarray(own)))


def test_rectangular_forms_are_the_plain_rule_away_from_ties():
    rng = np.random.default_rng(4801)
    x = rng.normal(size=(2, 5, 3))

    def f(m):
        u, s, vh = la.svd(m, full_matrices=False)
        return fnp.sum(fnp.sin(u) * u[..., :1, :]) + fnp.sum(fnp.cos(vh) * vh[..., :1]) \
            + fnp.sum(s ** 3)

    for y in (x, np.swapaxes(x, -1, -2)):   # (tall, wide)
        eager = np.asarray(ft.hessian(f)(y))   # (no tie: the plain rule's products)
        np.testing.assert_allclose(np.asarray(ft.jit(ft.hessian(f))(y)), eager, rtol=1e-9,
                                   atol=1e-10)
    # the dot-product identity under jit: <u, H t> (hvp) = <H^T u, t> (reverse over reverse)
    t, w = rng.normal(size=(2,) + x.shape)
    hvp = ft.jit(lambda m, d: ft.jvp(ft.grad(f), (m,), (d,))[1])
    vjp = ft.jit(lambda m, q: ft.vjp(ft.grad(f), m)[1](q)[0])
    np.testing.assert_allclose(np.sum(w * np.asarray(hvp(x, t))),
                               np.sum(np.asarray(vjp(x, w)) * t), rtol=1e-10)


def test_rectangular_tie_on_backends_jit_and_vmap(backend):
    # a stack of the tied tall matrix and a plain one: each block as the matrix alone, 0
    # between them, under jit on every backend and under vmap (the square factor, V)
    st = np.stack([_TIED, np.random.default_rng(4802).normal(size=(4, 3))])
    f = lambda m: la.svd(m, full_matrices=False)[2][..., 0, :]             # noqa: E731
    h = _NEST["fwd(rev)"](f)
    got = ft.jit(h)(backend.asarray(st))
    assert backend.is_own(got)
    got = np.asarray(backend.to_numpy(got)).reshape(2, 3, 2, 12, 2, 12)
    alone = np.stack([np.asarray(h(m)) for m in st])                       # (2, 3, 4, 3, 4, 3)
    want = np.zeros(got.shape)
    for j in range(2):
        want[j, :, j, :, j, :] = alone[j].reshape(3, 12, 12)
    assert np.all(np.isfinite(alone))
    np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    if backend.name == "numpy":
        np.testing.assert_allclose(np.asarray(ft.vmap(h)(st)), alone, rtol=1e-10, atol=1e-12)


def test_thin_factor_at_a_tie_under_jit():
    # (session 48's strict xfail, NaN in every entry under jit: session 51's thin form)
    ours, ref = _part("U", 0)
    _check(ours, ref, _TIED, ["fwd(rev)"], jit=True)
