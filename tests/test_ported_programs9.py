"""Programs from well-known papers and from the JAX and autograd documentation, not ported in
rounds 1 to 8 (see test_ported_programs.py to 8), written here from their published equations
with the imports swapped to functrans and run on every backend of the ``backend`` fixture:

- t-SNE's objective (van der Maaten & Hinton 2008), whose gradient the paper gives in closed
  form; under jit.
- sparsemax (Martins & Astudillo 2016): a sort, a cumulative sum and a threshold, whose
  Jacobian the paper gives in closed form; jacfwd, jacrev, vmap.
- a linear-chain CRF's log-partition by the forward algorithm through ``lax.scan`` (Lafferty
  et al. 2001): its gradient is the marginals, checked against enumerating every labelling.
- soft-DTW (Cuturi & Blondel 2017), written the autograd way (a Python table of tracers):
  its gradient is the expected alignment, checked against enumerating every alignment path.
- DiCE (Foerster et al. 2018), the ``stop_gradient`` "magic box" estimator, and semi-gradient
  TD(0): derivatives of every order through ``stop_gradient`` against the exact ones.
- a convnet layer by im2col (autograd's convnet example does its convolution by hand):
  against ``lax.conv_general_dilated``, per-example gradients by ``vmap(grad)``.
- the JAX autodiff cookbook's Hessian-vector products (forward-over-reverse, reverse-over-
  forward, reverse-over-reverse) of a function of a pytree, against ``hessian`` of the
  raveled function and, where it is installed, JAX.
- SoftSort (Prillo & Eisenschlos 2020) and the 1-D Wasserstein distance by sorting.
- a planar normalizing flow (Rezende & Mohamed 2015): the log-determinant of ``jacfwd`` by
  ``slogdet`` against the paper's closed form, and gradients of both through ``vmap``.
- the explicit heat equation through ``lax.fori_loop``: its Jacobian is a matrix power.
- orthogonal Procrustes by the SVD: the gradient of the minimum against the envelope theorem.
- a Gaussian mixture: one EM step of the means is the gradient step scaled by the counts
  (Xu & Jordan 1996); EM's ascent to a point of zero gradient; per-point gradients by vmap.
- ``expm`` against SciPy's ``expm_frechet`` (both modes), ``lstsq`` (its Jacobian in the
  right-hand side is the pseudo-inverse) and ``pinv``.
- sphere tracing of a signed distance function through ``fori_loop``, vmapped over rays,
  against the ray-sphere intersection in closed form.
- RK4 through ``lax.scan``: its parameter Jacobian equals RK4 run on the forward sensitivity
  equations (explicit Runge-Kutta commutes with differentiation).
- the CTC loss (Graves et al. 2006) by the forward algorithm in log space (-inf states,
  ``logaddexp``, NumPy index tables), against enumerating every alignment.
- GRAPE (Khaneja et al. 2005): a qubit gate's fidelity through complex ``expm``.
- structural compliance with a stiffness matrix assembled by scatter-add (Sigmund's 99-line
  topology optimisation): the sensitivity is minus the element energies.

First the regression found while porting them: NumPy integer and boolean arrays used as
indices (``x[np_rows, np_cols]``, ``take``, ``take_along_axis``, ``.at[np_idx]``) of a torch,
array-api-strict or CuPy tracer raised BackendMismatchError ('gather' got arrays of two
backends), where plain torch indexes with them (functrans/numpy/_indexing.py,
``_host_index``); so did NumPy segment ids (``ops.segment_sum``...) and ``bincount``'s
positions beside another library's data, and a NumPy integer scalar as ``lax.dynamic_slice``'s
start (functrans/lax.py, ``_starts``), and NumPy scalars elsewhere (indices, ``fori_loop``'s
bounds, ``full``/``full_like``/``asarray`` values, ``linspace``'s endpoints, ``axis``,
``tile``'s repetitions); then
``.at`` of an array made by a creation function inside a transform on every library (a
constant tracer there; under jit alone still NumPy only); then the programs. Written the
way the suite's backends need: array-api-strict's operators refuse a tracer on their right
(its issue #188), so a plain array never comes first in an operator beside a tracer; plain
array-api-strict arrays refuse NumPy index arrays, so those programs run under ``jit``.

Each program is checked against an independent reference (a closed form, an enumeration,
central differences in float64 by ``check_grads``, or JAX with x64 where installed). The code
is written for this file; none is copied from the sources named.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import functrans as ft
import functrans.lax as flax
import functrans.numpy as fnp
from functrans.flatten_util import ravel_pytree
from functrans.testing import check_grads

from ._ported import _jax, _np, close

RNG = np.random.default_rng(9)


# -- regression: NumPy index arrays into another library's traced array --------------------------


def test_numpy_index_arrays_index_a_traced_array_of_any_library(backend):
    """JAX code indexes with NumPy arrays built once (im2col's tables, permutations): plain
    torch takes them, and under grad a torch tracer refused them ('gather' got arrays of two
    backends); they are now taken as lists are, made in the indexed array's library."""
    x0 = np.arange(12.0).reshape(3, 4) / 7.0
    rows, cols = np.array([0, 2, 2]), np.array([1, 3, 0])
    mask = np.array([True, False, True])
    w0 = np.arange(1.0, 4.0)
    x, w = backend.asarray(x0), backend.asarray(w0)

    def f(x):
        return (fnp.sum(x[rows, cols] * w) + fnp.sum(x[mask] ** 2)
                + fnp.sum(fnp.take(x, rows, axis=1))
                + fnp.sum(fnp.take_along_axis(x, cols[:, None], axis=1))
                + fnp.sum(x.at[rows].add(1.0) ** 2))
    shifted = x0.copy()
    np.add.at(shifted, rows, 1.0)
    value = ((x0[rows, cols] * w0).sum() + (x0[mask] ** 2).sum() + x0[:, rows].sum()
             + np.take_along_axis(x0, cols[:, None], 1).sum() + (shifted ** 2).sum())
    want = 2 * shifted
    np.add.at(want, (rows, cols), w0)
    want[mask] += 2 * x0[mask]
    np.add.at(want, (slice(None), rows), 1.0)
    np.add.at(want, (np.arange(3), cols), 1.0)
    for grad in (ft.grad(f), ft.jit(ft.grad(f))):
        g = grad(x)
        assert backend.is_own(g)
        np.testing.assert_allclose(backend.to_numpy(g), want, rtol=1e-13)
    assert float(backend.to_numpy(ft.jit(f)(x))) == pytest.approx(value, rel=1e-13)
    np.testing.assert_allclose(backend.to_numpy(ft.vmap(lambda r: r[rows])(x)), x0[:, rows])


def test_numpy_segment_ids_and_bincount_positions_beside_another_librarys_data(backend):
    """jax.ops.segment_sum(messages, receivers) with the graph's NumPy receivers (a graph
    network's usual code), and bincount(np_ids, weights=...), on torch or array-api-strict
    data: BackendMismatchError ('scatter_add' got arrays of two backends); the ids are
    positions, taken as index arrays are."""
    ids = np.array([0, 0, 1, 2, 2])
    d0 = np.arange(5.0) / 3
    d = backend.asarray(d0)
    sums = np.array([d0[:2].sum(), d0[2], d0[3:].sum()])

    def f(d):
        return (fnp.sum(ft.ops.segment_sum(d, ids, num_segments=3) ** 2)
                + fnp.sum(fnp.bincount(ids, weights=d, length=3) ** 2)
                + fnp.sum(ft.ops.segment_max(d, ids, num_segments=3)))
    want = 4 * sums[ids] + np.array([0.0, 1.0, 1.0, 0.0, 1.0])
    for grad in (ft.grad(f), ft.jit(ft.grad(f))):
        g = grad(d)
        assert backend.is_own(g)
        np.testing.assert_allclose(backend.to_numpy(g), want, rtol=1e-13)
    np.testing.assert_allclose(backend.to_numpy(ft.ops.segment_sum(d, ids)), sums, rtol=1e-14)


def test_dynamic_slice_takes_numpy_integer_starts_beside_any_library(backend):
    """A NumPy integer scalar as a start index (``for i in np.arange(...)``) was made a NumPy
    0-d array, which then met the torch operand: BackendMismatchError ('add' got arrays of
    two backends). NumPy scalars are numbers beside every library (functrans/lax.py)."""
    x0 = np.arange(6.0)
    x = backend.asarray(x0)
    for i in np.arange(-2, 6):
        start = min(i + 6 if i < 0 else i, 4)  # from the end, then clamped (JAX's rule)
        np.testing.assert_array_equal(backend.to_numpy(flax.dynamic_slice(x, (i,), (2,))),
                                      x0[start:start + 2])
    g = ft.grad(lambda x: fnp.sum(flax.dynamic_slice(x, (np.int32(1),), (3,)) ** 2))(x)
    np.testing.assert_allclose(backend.to_numpy(g), [0.0, 2.0, 4.0, 6.0, 0.0, 0.0])
    up = flax.dynamic_update_slice(x, x[:2], (np.uint8(3),))
    np.testing.assert_array_equal(backend.to_numpy(up), [0.0, 1.0, 2.0, 0.0, 1.0, 5.0])
    got = ft.jit(lambda x: flax.dynamic_slice_in_dim(x, np.int64(4), 2))(x)
    np.testing.assert_array_equal(backend.to_numpy(got), [4.0, 5.0])


def test_numpy_scalars_are_numbers_beside_any_library(backend):
    """NumPy's scalars (what ``for i in np.arange(n)``, ``x.shape`` arithmetic and NumPy's
    reductions give) in JAX code run on torch or array-api-strict inputs were taken as NumPy
    arrays: ``x[np.int64(2)]`` and ``take`` under grad ('gather' got arrays of two backends),
    ``fori_loop(np.int64(0), ...)`` ('scan' ...), ``full_like(x, np.float64(2))`` and
    ``asarray(np.float32(1.5), device=...)`` or ``one_hot(np.int64(2), ...)`` (NumPy arrays),
    ``sum(x, axis=np.int64(0))``, ``tile(x, np.int64(2))`` and ``full(np.int64(2), v)``
    ("'numpy.int64' object is not iterable"); ``linspace(np.float64(0), 1, n, device=...)``
    (a NumPy array whatever the device)."""
    x0 = np.arange(1.0, 7.0)
    x = backend.asarray(x0)

    def f(x):
        a = x[np.int64(2)] * fnp.take(x, np.int32(-1))
        b = flax.fori_loop(np.int64(0), np.int64(3), lambda i, c: c + x[i], x[np.int64(0)])
        c = fnp.sum(fnp.sum(fnp.tile(x, np.int64(2)), axis=np.int64(0)))
        d = fnp.sum(x * fnp.full_like(x, np.float64(2.0)))
        e = fnp.sum(x * ft.nn.one_hot(np.int64(1), 6, dtype=x.dtype))
        return a + b + c + d + e
    value = x0[2] * x0[-1] + x0[0] + x0[:3].sum() + 2 * x0.sum() + 2 * x0.sum() + x0[1]
    want = np.full(6, 4.0) + [2.0, 1.0, 1.0, 0.0, 0.0, 0.0]
    want[2] += x0[-1]
    want[-1] += x0[2]
    want[1] += 1.0
    for grad in (ft.grad(f), ft.jit(ft.grad(f))):
        g = grad(x)
        assert backend.is_own(g)
        np.testing.assert_allclose(backend.to_numpy(g), want, rtol=1e-14)
    assert float(backend.to_numpy(ft.jit(f)(x))) == pytest.approx(value, rel=1e-14)
    dev = backend.backend.device(x)
    for made in (fnp.asarray(np.float32(1.5), device=dev),
                 fnp.asarray([np.float64(1.0), 2.0], device=dev),
                 fnp.full((2,), np.float32(1.5), device=dev),
                 fnp.full(np.int64(2), 1.5, device=dev),
                 fnp.linspace(np.float64(0.0), 1.0, np.int64(3), device=dev)):
        assert backend.is_own(made)
    assert backend.to_numpy(fnp.full((2,), np.float32(1.5), device=dev)).dtype == np.float32


# -- .at of a creation function's array ---------------------------------------------------------


def test_at_of_an_array_created_inside_a_transform(backend):
    """JAX's usual way to build an array, ``jnp.zeros(n).at[idx].add(v)`` with ``v`` traced,
    ported to any library: under grad, jvp, vmap and jit the creation function's array is a
    constant tracer (functrans.interpreters.ConstTracer), which has ``.at`` on every library
    (under jit alone it was the library's own array, and only NumPy's, functrans's AtArray
    subclass, carried ``.at``). ``fnp.add.at(z, idx, v, inplace=False)`` works everywhere too
    (the compliance program uses it)."""
    idx = np.array([0, 2, 2])

    def f(v):
        z = fnp.zeros((3,), dtype=v.dtype, device=v.device)
        return fnp.sum(z.at[idx].add(v) ** 2)
    x = backend.asarray([1.0, 2.0, 3.0])
    g = ft.grad(f)(x)
    np.testing.assert_allclose(backend.to_numpy(g), [2.0, 10.0, 10.0])
    np.testing.assert_allclose(backend.to_numpy(ft.jit(ft.grad(f))(x)), [2.0, 10.0, 10.0])
    _, t = ft.jvp(f, (x,), (backend.asarray([1.0, 0.0, 0.0]),))
    np.testing.assert_allclose(float(backend.to_numpy(t)), 2.0)
    np.testing.assert_allclose(backend.to_numpy(ft.vmap(f)(fnp.stack([x, 2.0 * x]))),
                               [26.0, 104.0])
    jf = ft.jit(f)
    for scale in (1.0, 2.0):
        out = jf(scale * x)
        assert backend.is_own(out)
        np.testing.assert_allclose(float(backend.to_numpy(out)), 26.0 * scale ** 2)
    assert jf.cache_size() == 1
    np.testing.assert_allclose(backend.to_numpy(ft.grad(ft.jit(f))(x)), [2.0, 10.0, 10.0])


# -- t-SNE ----------------------------------------------------------------------------------------


def _tsne_p(x, beta=0.5):
    """The symmetric joint probabilities of the high-dimensional points (one fixed precision
    for every point, rather than a perplexity search: the gradient does not care)."""
    d = ((x[:, None] - x[None]) ** 2).sum(-1)
    p = np.exp(-beta * d)
    np.fill_diagonal(p, 0.0)
    p /= p.sum(1, keepdims=True)
    p = (p + p.T) / (2 * len(x))
    return p


def _tsne_kl(y, p):
    n = y.shape[0]
    d = fnp.sum((y[:, None, :] - y[None, :, :]) ** 2, axis=-1)
    off = ~fnp.eye(n, dtype=bool, device=y.device)
    w = fnp.where(off, 1.0 / (1.0 + d), 0.0)
    q = w / fnp.sum(w)
    safe = fnp.where(off, p, 1.0)  # log of the diagonal's 0/0 never taken
    # (the library's functions rather than operators where a plain array comes first:
    # array-api-strict's operators refuse a tracer on the right, its issue #188)
    kl = fnp.multiply(p, fnp.subtract(fnp.log(safe), fnp.log(fnp.where(off, q, 1.0))))
    return fnp.sum(fnp.where(off, kl, 0.0))


def test_tsne_gradient_against_the_papers_closed_form(backend):
    x = RNG.normal(size=(7, 5))
    p = _tsne_p(x)
    y0 = RNG.normal(size=(7, 2))
    y, pb = backend.asarray(y0), backend.asarray(p)
    g = ft.jit(ft.grad(_tsne_kl))(y, pb)
    assert backend.is_own(g)
    # dC/dy_i = 4 sum_j (p_ij - q_ij) (y_i - y_j) / (1 + |y_i - y_j|^2)
    diff = y0[:, None] - y0[None]
    w = 1.0 / (1.0 + (diff ** 2).sum(-1))
    np.fill_diagonal(w, 0.0)
    q = w / w.sum()
    want = 4 * ((p - q) * w)[:, :, None].__mul__(diff).sum(1)
    np.testing.assert_allclose(backend.to_numpy(g), want, rtol=1e-10, atol=1e-13)
    check_grads(lambda y: _tsne_kl(y, pb), (y,), order=2, modes=("rev",))


# -- sparsemax ------------------------------------------------------------------------------------


def _sparsemax(z):
    n = z.shape[-1]
    zs = -fnp.sort(-z)
    k = fnp.arange(1, n + 1, dtype=z.dtype, device=z.device)
    cs = fnp.cumsum(zs)
    support = 1.0 + zs * k > cs
    kz = fnp.sum(fnp.astype(support, z.dtype))
    tau = (fnp.sum(fnp.where(support, zs, 0.0)) - 1.0) / kz
    return fnp.maximum(z - tau, 0.0)


def _sparsemax_np(z):
    zs = np.sort(z)[::-1]
    k = np.arange(1, len(z) + 1)
    support = 1 + k * zs > np.cumsum(zs)
    kz = support.sum()
    tau = (zs[:kz].sum() - 1) / kz
    return np.maximum(z - tau, 0)


def test_sparsemax_and_its_closed_form_jacobian(backend):
    z0 = np.array([1.2, 0.9, -0.4, 0.1, 1.0])
    z = backend.asarray(z0)
    p = _sparsemax_np(z0)
    np.testing.assert_allclose(backend.to_numpy(_sparsemax(z)), p, rtol=1e-14)
    assert abs(p.sum() - 1) < 1e-14 and (p == 0).any() and (p > 0).sum() > 1
    s = (p > 0).astype(float)
    want = np.diag(s) - np.outer(s, s) / s.sum()  # the paper's Jacobian
    for jac in (ft.jacfwd, ft.jacrev):
        np.testing.assert_allclose(backend.to_numpy(jac(_sparsemax)(z)), want, atol=1e-14)
    zb0 = RNG.normal(size=(4, 6)) * 2
    out = ft.jit(ft.vmap(_sparsemax))(backend.asarray(zb0))
    np.testing.assert_allclose(backend.to_numpy(out), [_sparsemax_np(r) for r in zb0],
                               rtol=1e-13, atol=1e-15)
    # a loss through it: d/dz <c, sparsemax(z)> = J^T c
    c0 = np.array([0.3, -1.0, 2.0, 0.5, 0.0])
    g = ft.grad(lambda z: fnp.sum(_sparsemax(z) * backend.asarray(c0)))(z)
    np.testing.assert_allclose(backend.to_numpy(g), want.T @ c0, atol=1e-14)


# -- linear-chain CRF -----------------------------------------------------------------------------


def _crf_log_partition(emit, trans):
    def step(alpha, e):
        return _lse0(alpha[:, None] + trans) + e, None
    alpha, _ = flax.scan(step, emit[0, :], emit[1:, :])
    return _lse0(alpha)


def _lse0(a):
    m = ft.stop_gradient(fnp.max(a, axis=0))
    return fnp.log(fnp.sum(fnp.exp(a - m), axis=0)) + m


def _crf_enumerate(emit, trans):
    t, k = emit.shape
    scores, paths = [], list(itertools.product(range(k), repeat=t))
    for y in paths:
        scores.append(sum(emit[i, y[i]] for i in range(t))
                      + sum(trans[y[i - 1], y[i]] for i in range(1, t)))
    scores = np.array(scores)
    logz = np.log(np.exp(scores - scores.max()).sum()) + scores.max()
    prob = np.exp(scores - logz)
    node = np.zeros_like(emit)
    pair = np.zeros_like(trans)
    for w, y in zip(prob, paths):
        for i in range(t):
            node[i, y[i]] += w
        for i in range(1, t):
            pair[y[i - 1], y[i]] += w
    return logz, node, pair


def test_crf_forward_algorithm_gradients_are_the_marginals(backend):
    emit0, trans0 = RNG.normal(size=(4, 3)), RNG.normal(size=(3, 3))
    logz, node, pair = _crf_enumerate(emit0, trans0)
    emit, trans = backend.asarray(emit0), backend.asarray(trans0)
    np.testing.assert_allclose(float(backend.to_numpy(_crf_log_partition(emit, trans))), logz,
                               rtol=1e-13)
    ge, gt = ft.jit(ft.grad(_crf_log_partition, argnums=(0, 1)))(emit, trans)
    np.testing.assert_allclose(backend.to_numpy(ge), node, rtol=1e-11, atol=1e-14)
    np.testing.assert_allclose(backend.to_numpy(gt), pair, rtol=1e-11, atol=1e-14)
    np.testing.assert_allclose(backend.to_numpy(ge).sum(1), 1.0, rtol=1e-12)
    # the Hessian of a log-partition is a covariance: symmetric, positive semi-definite
    h = backend.to_numpy(ft.hessian(_crf_log_partition)(emit, trans)).reshape(12, 12)
    np.testing.assert_allclose(h, h.T, atol=1e-12)
    assert np.linalg.eigvalsh(h).min() > -1e-12
    check_grads(_crf_log_partition, (emit, trans), order=2)


# -- soft-DTW -------------------------------------------------------------------------------------


def _softmin(a, b, c, gamma):
    m = ft.stop_gradient(fnp.minimum(fnp.minimum(a, b), c))
    return fnp.subtract(m, gamma * fnp.log(fnp.exp(-(a - m) / gamma)
                                           + fnp.exp(-(b - m) / gamma)
                                           + fnp.exp(-(c - m) / gamma)))


def _soft_dtw(x, y, gamma):
    """The soft-DTW recursion over a Python table of 0-d values (autograd's style: no
    in-place writes into an array)."""
    n, m = x.shape[0], y.shape[0]
    d = (x[:, None] - y[None, :]) ** 2
    zero = d[0, 0] * 0.0  # (the table's border in the inputs' library)
    big = zero + 1e10
    r = [[zero] + [big] * m] + [[big] + [None] * m for _ in range(n)]
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            r[i][j] = d[i - 1, j - 1] + _softmin(r[i - 1][j - 1], r[i - 1][j], r[i][j - 1],
                                                 gamma)
    return r[n][m]


def _alignment_paths(n, m):
    """Every monotone path from (0, 0) to (n-1, m-1) with steps (1,0), (0,1), (1,1)."""
    def walk(i, j):
        if (i, j) == (n - 1, m - 1):
            yield [(i, j)]
            return
        for di, dj in ((1, 0), (0, 1), (1, 1)):
            if i + di < n and j + dj < m:
                for rest in walk(i + di, j + dj):
                    yield [(i, j)] + rest
    return list(walk(0, 0))


def test_soft_dtw_gradient_is_the_expected_alignment(backend):
    x0, y0, gamma = np.array([0.3, -1.0, 0.8]), np.array([0.1, 0.5, -0.7, 1.1]), 0.7
    d = (x0[:, None] - y0[None]) ** 2
    paths = _alignment_paths(3, 4)
    assert len(paths) == 25  # the Delannoy number D(2, 3)
    costs = np.array([sum(d[i, j] for i, j in p) for p in paths])
    value = -gamma * np.log(np.exp(-costs / gamma).sum())
    w = np.exp(-costs / gamma)
    w /= w.sum()
    e = np.zeros_like(d)  # the expected alignment matrix = d value / d D
    for wp, p in zip(w, paths):
        for i, j in p:
            e[i, j] += wp
    x, y = backend.asarray(x0), backend.asarray(y0)
    np.testing.assert_allclose(float(backend.to_numpy(_soft_dtw(x, y, gamma))), value,
                               rtol=1e-12)
    gx, gy = ft.grad(_soft_dtw, argnums=(0, 1))(x, y, gamma)
    diff = x0[:, None] - y0[None]
    np.testing.assert_allclose(backend.to_numpy(gx), (2 * e * diff).sum(1), rtol=1e-10)
    np.testing.assert_allclose(backend.to_numpy(gy), -(2 * e * diff).sum(0), rtol=1e-10)
    jit_g = ft.jit(ft.grad(_soft_dtw), static_argnums=2)(x, y, gamma)
    np.testing.assert_allclose(backend.to_numpy(jit_g), backend.to_numpy(gx), rtol=1e-13)
    check_grads(lambda x, y: _soft_dtw(x, y, gamma), (x, y), order=2)


# -- stop_gradient estimators: DiCE and semi-gradient TD(0) ---------------------------------------


def _magic_box(x):
    return fnp.exp(x - ft.stop_gradient(x))


def _reward(theta):
    return fnp.stack([fnp.sin(theta[0]), theta[1] ** 2, theta[0] * theta[2]])


def _exact_objective(theta):
    pi = ft.nn.softmax(theta)
    return fnp.sum(pi * _reward(theta))


def _dice_objective(theta):
    """DiCE's surrogate summed over every action, each weighted by its (stopped) probability:
    the Monte Carlo estimator's expectation, which must have the exact objective's derivatives
    of every order."""
    logp = ft.nn.log_softmax(theta)
    weight = ft.stop_gradient(fnp.exp(logp))
    return fnp.sum(_magic_box(logp) * weight * _reward(theta))


def test_dice_derivatives_of_every_order_match_the_exact_objective(backend):
    theta = backend.asarray([0.4, -0.2, 0.9])
    assert float(backend.to_numpy(_dice_objective(theta))) == pytest.approx(
        float(backend.to_numpy(_exact_objective(theta))), rel=1e-14)
    for d in (ft.grad, ft.hessian, lambda f: ft.jacfwd(ft.jacrev(f)),
              lambda f: ft.jacrev(ft.jacrev(f)), lambda f: ft.jacfwd(ft.hessian(f))):
        np.testing.assert_allclose(backend.to_numpy(d(_dice_objective)(theta)),
                                   backend.to_numpy(d(_exact_objective)(theta)),
                                   rtol=1e-11, atol=1e-13)
    # the exact objective against central differences (so neither side is only self-consistent)
    check_grads(_exact_objective, (theta,), order=3)


def test_semi_gradient_td0_stops_the_target():
    phi = RNG.normal(size=(5, 3))  # features of 5 states
    w0 = RNG.normal(size=3)
    s, s2, r, gam = 1, 3, 0.7, 0.9

    def td_loss(w):
        target = r + gam * ft.stop_gradient(fnp.dot(phi[s2], w))
        return 0.5 * (target - fnp.dot(phi[s], w)) ** 2
    delta = r + gam * phi[s2] @ w0 - phi[s] @ w0
    np.testing.assert_allclose(ft.grad(td_loss)(w0), -delta * phi[s], rtol=1e-13)
    np.testing.assert_allclose(ft.hessian(td_loss)(w0), np.outer(phi[s], phi[s]), rtol=1e-13)
    # (the full gradient, without the stop, differs: the residual-gradient method's)
    full = ft.grad(lambda w: 0.5 * (r + gam * fnp.dot(phi[s2], w) - fnp.dot(phi[s], w)) ** 2)
    np.testing.assert_allclose(full(w0), delta * (gam * phi[s2] - phi[s]), rtol=1e-13)


# -- a convnet layer by im2col --------------------------------------------------------------------


def _im2col_index(h, w, kh, kw):
    oh, ow = h - kh + 1, w - kw + 1
    i = (np.arange(kh)[:, None] + np.arange(oh)[None, :])  # (kh, oh)
    j = (np.arange(kw)[:, None] + np.arange(ow)[None, :])  # (kw, ow)
    rows = np.broadcast_to(i[:, None, :, None], (kh, kw, oh, ow)).reshape(kh * kw, oh * ow)
    cols = np.broadcast_to(j[None, :, None, :], (kh, kw, oh, ow)).reshape(kh * kw, oh * ow)
    return rows, cols, oh, ow


def _conv_im2col(x, k):
    """Valid cross-correlation of images (N, C, H, W) with filters (F, C, kh, kw) as one
    matrix product over gathered patches."""
    n, c, h, w = x.shape
    f, _, kh, kw = k.shape
    rows, cols, oh, ow = _im2col_index(h, w, kh, kw)
    patches = x[:, :, rows, cols]  # (N, C, kh*kw, oh*ow)
    out = fnp.einsum("ncpq,fcp->nfq", patches, fnp.reshape(k, (f, c, kh * kw)))
    return fnp.reshape(out, (n, f, oh, ow))


def _convnet_loss(params, x, labels):
    k, wout = params
    hid = fnp.tanh(_conv_im2col(x, k))
    pooled = fnp.mean(hid, axis=(2, 3))  # (N, F)
    logits = pooled @ wout
    logp = logits - ft.nn.logsumexp(logits, axis=1, keepdims=True)
    return -fnp.mean(fnp.take_along_axis(logp, labels[:, None], axis=1))


def test_convnet_by_im2col_against_lax_conv_and_per_example_gradients(backend):
    x0 = RNG.normal(size=(3, 2, 6, 5))
    k0 = RNG.normal(size=(4, 2, 3, 2)) * 0.5
    w0 = RNG.normal(size=(4, 3))
    lab0 = np.array([0, 2, 1])
    x, k, wout = backend.asarray(x0), backend.asarray(k0), backend.asarray(w0)
    labels = backend.asarray(lab0, dtype="int64")
    ref = flax.conv_general_dilated(x, k, (1, 1), "VALID")
    # (under jit: plain array-api-strict arrays refuse NumPy index arrays, as the standard
    # does; under a transform they are taken as torch and CuPy take them)
    mine = ft.jit(_conv_im2col)(x, k)
    np.testing.assert_allclose(backend.to_numpy(mine), backend.to_numpy(ref), rtol=1e-12,
                               atol=1e-13)
    gk_ref = ft.grad(lambda k: fnp.sum(flax.conv_general_dilated(x, k, (1, 1), "VALID") ** 2))(k)
    gk = ft.jit(ft.grad(lambda k, x: fnp.sum(_conv_im2col(x, k) ** 2)))(k, x)
    np.testing.assert_allclose(backend.to_numpy(gk), backend.to_numpy(gk_ref), rtol=1e-11)
    check_grads(ft.jit(_convnet_loss), ((k, wout), x, labels), order=1, modes=("rev",))

    def one(params, xi, li):
        return _convnet_loss(params, fnp.expand_dims(xi, 0), fnp.expand_dims(li, 0))
    per = ft.jit(ft.vmap(ft.grad(one), in_axes=(None, 0, 0)))((k, wout), x, labels)
    for i in range(3):
        gi = ft.jit(ft.grad(one))((k, wout), x[i, ...], labels[i])
        close(_np(backend, gi), _np(backend, (per[0][i, ...], per[1][i, ...])), tol=1e-11)
    mean = ft.jit(ft.grad(_convnet_loss))((k, wout), x, labels)
    close(_np(backend, mean), [backend.to_numpy(p).mean(0) for p in per], tol=1e-11)


# -- Hessian-vector products of a function of a pytree (JAX's autodiff cookbook) ------------------


def _pytree_loss(params, data):
    h = fnp.tanh(fnp.matmul(data, params["w1"]) + params["b1"])
    out = h @ params["w2"]
    return fnp.sum(fnp.log1p(fnp.exp(-out))) + 0.1 * fnp.sum(params["w1"] ** 2)


def _hvps(f, params, v):
    g = ft.grad(f)
    fwd_rev = ft.jvp(g, (params,), (v,))[1]
    rev_fwd = ft.grad(lambda p: ft.jvp(f, (p,), (v,))[1])(params)
    rev_rev = ft.grad(lambda p: sum(fnp.sum(a * b) for a, b in zip(
        ft.tree_util.tree_leaves(g(p)), ft.tree_util.tree_leaves(v))))(params)
    return fwd_rev, rev_fwd, rev_rev


def test_cookbook_hessian_vector_products_of_a_pytree_function(backend):
    p0 = {"w1": RNG.normal(size=(3, 4)), "b1": RNG.normal(size=4),
          "w2": RNG.normal(size=(4,))}
    v0 = {k: RNG.normal(size=a.shape) for k, a in p0.items()}
    d0 = RNG.normal(size=(5, 3))
    params = {k: backend.asarray(a) for k, a in p0.items()}
    v = {k: backend.asarray(a) for k, a in v0.items()}
    data = backend.asarray(d0)

    def f(p):
        return _pytree_loss(p, data)
    flat, unravel = ravel_pytree(params)
    vflat, _ = ravel_pytree(v)
    h = ft.hessian(lambda q: f(unravel(q)))(flat)
    want = unravel(h @ vflat)
    for got in _hvps(f, params, v) + (ft.hvp(f, (params,), (v,)),):
        close(_np(backend, want), _np(backend, got), tol=1e-11)
    # the Hessian as a pytree of pytrees, as JAX lays it out
    hp = ft.hessian(f)(params)
    assert sorted(hp) == ["b1", "w1", "w2"] and sorted(hp["w1"]) == ["b1", "w1", "w2"]
    assert hp["w1"]["b1"].shape == (3, 4, 4)
    close(backend.to_numpy(hp["w1"]["b1"]), np.transpose(backend.to_numpy(hp["b1"]["w1"]),
                                                          (1, 2, 0)), tol=1e-12)
    jax = _jax()
    import jax.numpy as jnp

    def jf(p):
        hh = jnp.tanh(d0 @ p["w1"] + p["b1"])
        return jnp.sum(jnp.log1p(jnp.exp(-(hh @ p["w2"])))) + 0.1 * jnp.sum(p["w1"] ** 2)
    jwant = jax.jvp(jax.grad(jf), (p0,), (v0,))[1]
    close(jwant, _np(backend, want), tol=1e-11)
    close(jax.hessian(jf)(p0), _np(backend, hp), tol=1e-11)


# -- SoftSort and the 1-D Wasserstein distance -----------------------------------------------------


def _soft_sort_matrix(s, tau):
    st = -fnp.sort(-s)  # descending
    return ft.nn.softmax(-fnp.abs(st[:, None] - s[None, :]) / tau, axis=-1)


def _soft_rank(s, tau):
    n = s.shape[0]
    return fnp.matmul(fnp.arange(1, n + 1, dtype=s.dtype, device=s.device),
                      _soft_sort_matrix(s, tau))


def _wasserstein2(x, y):
    return fnp.mean((fnp.sort(x) - fnp.sort(y)) ** 2)


def test_soft_sort_rank_and_sorted_wasserstein(backend):
    s0 = np.array([0.3, 2.0, -1.0, 0.9, 1.4])
    s = backend.asarray(s0)
    hard_rank = np.argsort(np.argsort(-s0)) + 1
    r = backend.to_numpy(_soft_rank(s, 1e-3))
    np.testing.assert_allclose(r, hard_rank, atol=1e-8)
    p = backend.to_numpy(_soft_sort_matrix(s, 0.5))
    np.testing.assert_allclose(p.sum(1), 1.0, rtol=1e-14)
    check_grads(lambda s: _soft_rank(s, 0.5), (s,), order=2)
    j = backend.to_numpy(ft.jacrev(lambda s: _soft_sort_matrix(s, 0.5) @ s)(s))
    np.testing.assert_allclose(j, backend.to_numpy(
        ft.jacfwd(lambda s: _soft_sort_matrix(s, 0.5) @ s)(s)), rtol=1e-12, atol=1e-14)
    # W2 between equal-size samples: sort-matched differences, so d/dx_i = 2 (x_i - y_(pi i)) / n
    x0, y0 = RNG.normal(size=6), RNG.normal(size=6) + 1.0
    x, y = backend.asarray(x0), backend.asarray(y0)
    matched = np.empty(6)
    matched[np.argsort(x0)] = np.sort(y0)
    g = ft.jit(ft.grad(_wasserstein2))(x, y)
    np.testing.assert_allclose(backend.to_numpy(g), 2 * (x0 - matched) / 6, rtol=1e-13)
    per = ft.vmap(ft.grad(_wasserstein2), in_axes=(0, None))(backend.asarray(np.stack([x0, -x0])),
                                                           y)
    np.testing.assert_allclose(backend.to_numpy(per)[0], backend.to_numpy(g), rtol=1e-14)


# -- a planar normalizing flow --------------------------------------------------------------------


def _planar(params, z):
    u, w, b = params
    return z + fnp.tanh(fnp.dot(w, z) + b) * u


def _planar_logdet_closed(params, z):
    u, w, b = params
    psi = (1.0 - fnp.tanh(fnp.dot(w, z) + b) ** 2) * w
    return fnp.log(fnp.abs(1.0 + fnp.dot(u, psi)))


def _planar_logdet_jac(params, z):
    sign, logdet = fnp.linalg.slogdet(ft.jacfwd(lambda z: _planar(params, z))(z))
    return logdet


def _flow_kl(params, zs, logdet):
    """A reverse-KL-style objective: the base density's log at the flowed points minus the
    log-determinants, averaged over the batch (vmap)."""
    out = ft.vmap(lambda z: _planar(params, z))(zs)
    ld = ft.vmap(lambda z: logdet(params, z))(zs)
    return fnp.mean(0.5 * fnp.sum(out ** 2, axis=1) - ld)


def test_planar_flow_logdet_by_slogdet_of_jacfwd(backend):
    u0, w0, b0 = np.array([0.5, -0.3, 0.8]), np.array([1.1, 0.4, -0.6]), 0.2
    zs0 = RNG.normal(size=(6, 3))
    params = (backend.asarray(u0), backend.asarray(w0), backend.asarray(b0))
    zs = backend.asarray(zs0)
    a = ft.vmap(lambda z: _planar_logdet_jac(params, z))(zs)
    b = ft.vmap(lambda z: _planar_logdet_closed(params, z))(zs)
    np.testing.assert_allclose(backend.to_numpy(a), backend.to_numpy(b), rtol=1e-12)
    ga = ft.grad(_flow_kl)(params, zs, _planar_logdet_jac)
    gb = ft.grad(_flow_kl)(params, zs, _planar_logdet_closed)
    close(_np(backend, gb), _np(backend, ga), tol=1e-11)
    check_grads(lambda p: _flow_kl(p, zs, _planar_logdet_closed), (params,), order=2,
                modes=("rev",))


# -- the heat equation through fori_loop -----------------------------------------------------------


def _heat(u0, r, steps):
    def body(_, u):
        lap = fnp.concatenate([u[1:2] * 0.0, u[:-2] - 2.0 * u[1:-1] + u[2:], u[1:2] * 0.0])
        return fnp.add(u, r * lap)
    return flax.fori_loop(0, steps, body, u0)


def test_heat_equation_jacobian_is_a_matrix_power(backend):
    n, steps, r0 = 7, 12, 0.3
    m = np.eye(n)
    for i in range(1, n - 1):
        m[i, i - 1:i + 2] += r0 * np.array([1.0, -2.0, 1.0])
    want = np.linalg.matrix_power(m, steps)
    u00 = np.sin(np.linspace(0, np.pi, n)) + 0.1 * RNG.normal(size=n)
    u0, r = backend.asarray(u00), backend.asarray(r0)
    np.testing.assert_allclose(backend.to_numpy(_heat(u0, r, steps)), want @ u00, rtol=1e-12)
    for jac in (ft.jacfwd, ft.jacrev):
        got = ft.jit(jac(_heat), static_argnums=2)(u0, r, steps)
        np.testing.assert_allclose(backend.to_numpy(got), want, rtol=1e-12, atol=1e-14)

    def energy(r):
        return fnp.sum(_heat(u0, r, steps) ** 2)
    # d/dr of M(r)^k u0: sum over the step whose matrix is differentiated
    dm = np.zeros((n, n))
    for i in range(1, n - 1):
        dm[i, i - 1:i + 2] = [1.0, -2.0, 1.0]
    du = sum(np.linalg.matrix_power(m, steps - 1 - k) @ dm @ np.linalg.matrix_power(m, k)
             for k in range(steps)) @ u00
    np.testing.assert_allclose(float(backend.to_numpy(ft.grad(energy)(r))),
                               2 * (want @ u00) @ du, rtol=1e-11)
    check_grads(energy, (r,), order=2)


# -- orthogonal Procrustes by the SVD -------------------------------------------------------------


def _procrustes_min(a, b):
    """min over rotations-or-reflections R of |R a - b|^2, through the optimal R = U V^T of
    the SVD of b a^T."""
    u, _, vt = fnp.linalg.svd(b @ a.T)
    rot = u @ vt
    return fnp.sum((rot @ a - b) ** 2)


def test_procrustes_gradient_by_the_envelope_theorem(backend):
    a0 = RNG.normal(size=(3, 8))
    q, _ = np.linalg.qr(RNG.normal(size=(3, 3)))
    b0 = q @ a0 + 0.3 * RNG.normal(size=(3, 8))
    a, b = backend.asarray(a0), backend.asarray(b0)
    uu, ss, vvt = np.linalg.svd(b0 @ a0.T)
    rot = uu @ vvt
    value = (a0 ** 2).sum() + (b0 ** 2).sum() - 2 * ss.sum()
    np.testing.assert_allclose(float(backend.to_numpy(_procrustes_min(a, b))), value,
                               rtol=1e-12)
    ga, gb = ft.grad(_procrustes_min, argnums=(0, 1))(a, b)
    # the minimiser's derivative does not enter (envelope theorem): R held fixed
    np.testing.assert_allclose(backend.to_numpy(ga), 2 * rot.T @ (rot @ a0 - b0), rtol=1e-10)
    np.testing.assert_allclose(backend.to_numpy(gb), -2 * (rot @ a0 - b0), rtol=1e-10)
    check_grads(_procrustes_min, (a, b), order=1)


# -- Gaussian mixture: one EM step is a scaled gradient step (Xu & Jordan 1996) -------------------


def _gmm_loglik(means, logits, x):
    """Log-likelihood of a mixture of unit-covariance Gaussians."""
    d = x.shape[1]
    sq = fnp.sum(fnp.subtract(x[:, None, :], means[None, :, :]) ** 2, axis=-1)  # (N, K)
    logw = logits - ft.nn.logsumexp(logits)
    comp = fnp.subtract(logw, 0.5 * sq) - 0.5 * d * float(np.log(2 * np.pi))
    return fnp.sum(ft.nn.logsumexp(comp, axis=1))


def _gmm_em_means(means, logits, x):
    sq = fnp.sum(fnp.subtract(x[:, None, :], means[None, :, :]) ** 2, axis=-1)
    resp = ft.nn.softmax(logits - ft.nn.logsumexp(logits) - 0.5 * sq, axis=1)  # (N, K)
    nk = fnp.sum(resp, axis=0)
    return fnp.matmul(fnp.transpose(resp), x) / nk[:, None], nk


def test_gmm_em_step_is_a_gradient_step_scaled_by_the_counts(backend):
    x0 = np.concatenate([RNG.normal(size=(12, 2)) - 2.0, RNG.normal(size=(9, 2)) + 1.5])
    m0 = np.array([[-1.0, -1.0], [0.5, 1.0], [2.0, -0.5]])
    l0 = np.array([0.1, -0.3, 0.2])
    x, means, logits = backend.asarray(x0), backend.asarray(m0), backend.asarray(l0)
    g = ft.jit(ft.grad(_gmm_loglik))(means, logits, x)
    new, nk = _gmm_em_means(means, logits, x)
    # mu_k' - mu_k = (1 / N_k) dL/dmu_k, exactly, for unit covariances
    np.testing.assert_allclose(backend.to_numpy(new) - m0,
                               backend.to_numpy(g) / backend.to_numpy(nk)[:, None],
                               rtol=1e-11, atol=1e-13)
    # the gradient in the mixing logits is the counts minus their expectation
    gl = ft.grad(_gmm_loglik, argnums=1)(means, logits, x)
    w = np.exp(l0) / np.exp(l0).sum()
    np.testing.assert_allclose(backend.to_numpy(gl), backend.to_numpy(nk) - 21 * w,
                               rtol=1e-11, atol=1e-12)
    # EM never lowers the likelihood, and a few steps reach a point where the gradient vanishes
    m, prev = means, -np.inf
    for _ in range(200):
        m, _ = _gmm_em_means(m, logits, x)
        cur = float(backend.to_numpy(_gmm_loglik(m, logits, x)))
        assert cur >= prev - 1e-10
        prev = cur
    assert np.abs(backend.to_numpy(ft.grad(_gmm_loglik)(m, logits, x))).max() < 1e-8
    # per-point log-likelihood gradients by vmap sum to the whole one
    per = ft.vmap(ft.grad(lambda m, xi: _gmm_loglik(m, logits, fnp.expand_dims(xi, 0))),
                  in_axes=(None, 0))(means, x)
    np.testing.assert_allclose(backend.to_numpy(per).sum(0), backend.to_numpy(g), rtol=1e-11)
    check_grads(lambda m, l: _gmm_loglik(m, l, x), (means, logits), order=2)


# -- matrix functions and least squares against their known derivatives ---------------------------


def test_expm_lstsq_and_pinv_derivatives_against_scipys_and_closed_forms(backend):
    import scipy.linalg as sl
    import functrans.scipy.linalg as fsl

    a0 = RNG.normal(size=(4, 4)) * 0.7
    e0 = RNG.normal(size=(4, 4))
    a, e = backend.asarray(a0), backend.asarray(e0)
    val, tan = ft.jvp(fsl.expm, (a,), (e,))
    ref_val, ref_tan = sl.expm_frechet(a0, e0)
    np.testing.assert_allclose(backend.to_numpy(val), ref_val, rtol=1e-12)
    np.testing.assert_allclose(backend.to_numpy(tan), ref_tan, rtol=1e-10, atol=1e-12)
    # reverse mode: <U, L(A, E)> = <L(A^T, U), E> (the Frechet derivative's adjoint)
    u0 = RNG.normal(size=(4, 4))
    (ga,) = ft.vjp(fsl.expm, a)[1](backend.asarray(u0))
    np.testing.assert_allclose(backend.to_numpy(ga), sl.expm_frechet(a0.T, u0)[1],
                               rtol=1e-10, atol=1e-12)
    # a rotation as the exponential of a skew matrix, differentiated in its angle
    def rot(theta):
        k = fnp.stack([fnp.stack([theta * 0.0, -theta]), fnp.stack([theta, theta * 0.0])])
        return fsl.expm(k)
    th = backend.asarray(0.8)
    np.testing.assert_allclose(backend.to_numpy(ft.jacfwd(rot)(th)),
                               [[-np.sin(0.8), -np.cos(0.8)], [np.cos(0.8), -np.sin(0.8)]],
                               rtol=1e-11)

    # least squares: x(b) = pinv(A) b, so dx/db = pinv(A); and the residual's gradient in A
    m0, b0 = RNG.normal(size=(7, 3)), RNG.normal(size=7)
    m, b = backend.asarray(m0), backend.asarray(b0)
    pinv = np.linalg.pinv(m0)

    def solve(b):
        return fnp.linalg.lstsq(m, b, rcond=None)[0]
    np.testing.assert_allclose(backend.to_numpy(ft.jacrev(solve)(b)), pinv, rtol=1e-10,
                               atol=1e-12)
    np.testing.assert_allclose(backend.to_numpy(ft.jacfwd(solve)(b)), pinv, rtol=1e-10,
                               atol=1e-12)

    def resid(m):
        xs = fnp.linalg.lstsq(m, b, rcond=None)[0]
        return fnp.sum((fnp.matmul(m, xs) - b) ** 2)
    xs0 = pinv @ b0
    np.testing.assert_allclose(backend.to_numpy(ft.grad(resid)(m)),
                               2 * np.outer(m0 @ xs0 - b0, xs0), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(backend.to_numpy(ft.jacfwd(fnp.linalg.pinv)(m)).reshape(21, 21),
                               _fd_jac(np.linalg.pinv, m0), rtol=1e-6, atol=1e-8)


def _fd_jac(f, x, eps=1e-6):
    cols = []
    for i in range(x.size):
        d = np.zeros(x.size)
        d[i] = eps
        d = d.reshape(x.shape)
        cols.append(((f(x + d) - f(x - d)) / (2 * eps)).ravel())
    return np.array(cols).T


# -- sphere tracing through fori_loop ------------------------------------------------------------


def _sdf(p, center, radius):
    return fnp.linalg.norm(p - center) - radius


def _trace(origin, direction, center, radius, steps=40):
    def body(_, t):
        return _sdf(fnp.multiply(t, direction) + origin, center, radius) + t
    return flax.fori_loop(0, steps, body, origin[0] * 0.0)


def test_sphere_tracing_hit_distances_and_their_derivatives(backend):
    c0, r0 = np.array([0.3, -0.2, 5.0]), 1.2
    center, radius = backend.asarray(c0), backend.asarray(r0)
    origin = backend.asarray([0.0, 0.0, 0.0])
    dirs0 = np.array([[0.0, 0.0, 1.0], [0.05, -0.03, 1.0], [0.1, 0.0, 1.0]])
    dirs0 /= np.linalg.norm(dirs0, axis=1, keepdims=True)
    dirs = backend.asarray(dirs0)

    def hit(d, center, radius):  # the ray-sphere intersection in closed form
        oc = -d @ center
        disc = oc ** 2 - (center @ center - radius ** 2)
        return -oc - np.sqrt(disc)
    ts = ft.jit(ft.vmap(_trace, in_axes=(None, 0, None, None)))(origin, dirs, center, radius)
    want = np.array([hit(d, c0, r0) for d in dirs0])
    np.testing.assert_allclose(backend.to_numpy(ts), want, rtol=1e-10)
    # d t / d r at a converged hit: the closed form's derivative
    gr = ft.vmap(ft.grad(_trace, argnums=3), in_axes=(None, 0, None, None))(
        origin, dirs, center, radius)
    fd = np.array([(hit(d, c0, r0 + 1e-6) - hit(d, c0, r0 - 1e-6)) / 2e-6 for d in dirs0])
    np.testing.assert_allclose(backend.to_numpy(gr), fd, rtol=1e-6)
    gc = ft.grad(lambda c: fnp.sum(ft.vmap(lambda d: _trace(origin, d, c, radius))(dirs)))(
        center)
    fdc = [sum((hit(d, c0 + h, r0) - hit(d, c0 - h, r0)) / 2e-6 for d in dirs0)
           for h in np.eye(3) * 1e-6]
    np.testing.assert_allclose(backend.to_numpy(gc), fdc, rtol=1e-6, atol=1e-8)


# -- RK4 and its forward sensitivities: the discrete derivative is RK4 on the variational system ---


def _lotka_volterra(y, p):
    a, b, c, d = p[0], p[1], p[2], p[3]
    return fnp.stack([a * y[0] - b * y[0] * y[1], d * y[0] * y[1] - c * y[1]])


def _rk4(f, y0, p, h, n):
    def step(y, _):
        k1 = f(y, p)
        k2 = f(y + 0.5 * h * k1, p)
        k3 = f(y + 0.5 * h * k2, p)
        k4 = f(y + h * k3, p)
        return y + (h / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4), None
    y, _ = flax.scan(step, y0, None, length=n)
    return y


def test_rk4_parameter_jacobian_equals_rk4_on_the_sensitivity_equations(backend):
    y00, p0, h, n = np.array([1.0, 0.5]), np.array([1.1, 0.4, 0.9, 0.3]), 0.05, 60

    def augmented(z, p):  # (y, S = dy/dp) with dS/dt = f_y S + f_p, in NumPy
        y, s = z[:2], z[2:].reshape(2, 4)
        a, b, c, d = p
        fy = np.array([[a - b * y[1], -b * y[0]], [d * y[1], d * y[0] - c]])
        fp = np.array([[y[0], -y[0] * y[1], 0.0, 0.0], [0.0, 0.0, -y[1], y[0] * y[1]]])
        dy = np.array([a * y[0] - b * y[0] * y[1], d * y[0] * y[1] - c * y[1]])
        return np.concatenate([dy, (fy @ s + fp).ravel()])
    z = np.concatenate([y00, np.zeros(8)])
    for _ in range(n):
        k1 = augmented(z, p0)
        k2 = augmented(z + 0.5 * h * k1, p0)
        k3 = augmented(z + 0.5 * h * k2, p0)
        k4 = augmented(z + h * k3, p0)
        z = z + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    y0, p = backend.asarray(y00), backend.asarray(p0)
    np.testing.assert_allclose(backend.to_numpy(_rk4(_lotka_volterra, y0, p, h, n)), z[:2],
                               rtol=1e-12)
    for jac in (ft.jacfwd, ft.jacrev):
        got = ft.jit(jac(lambda p: _rk4(_lotka_volterra, y0, p, h, n)))(p)
        np.testing.assert_allclose(backend.to_numpy(got), z[2:].reshape(2, 4), rtol=1e-11,
                                   atol=1e-13)
    check_grads(lambda y0, p: _rk4(_lotka_volterra, y0, p, h, 8), (y0, p), order=2,
                modes=("rev",))


# -- CTC loss by the forward algorithm (Graves et al. 2006) ---------------------------------------


def _ctc_loss(logits, labels):
    """-log p(labels | logits) summed over every alignment, in log space; ``labels`` a tuple
    of class ids (0 is the blank). Unreachable states hold -inf, and logaddexp must keep
    their derivatives finite."""
    labels = np.asarray(labels)
    logp = logits - ft.nn.logsumexp(logits, axis=1, keepdims=True)  # (T, C)
    ext = np.zeros(2 * len(labels) + 1, dtype=np.int64)
    ext[1::2] = labels
    skip = np.zeros(len(ext), dtype=bool)
    skip[2:] = (ext[2:] != 0) & (ext[2:] != ext[:-2])
    emit = logp[:, ext]  # (T, S): a NumPy index array into a traced array
    skip = fnp.asarray(skip.tolist(), device=emit.device)  # (a mask: in the library)
    neg = fnp.full_like(emit[0, :1], -np.inf)
    alpha0 = fnp.concatenate([emit[0, :2], fnp.full_like(emit[0, 2:], -np.inf)])

    def step(alpha, e):
        one = fnp.concatenate([neg, alpha[:-1]])
        two = fnp.where(skip, fnp.concatenate([neg, neg, alpha[:-2]]), -np.inf)
        return fnp.logaddexp(fnp.logaddexp(alpha, one), two) + e, None
    alpha, _ = flax.scan(step, alpha0, emit[1:])
    return -fnp.logaddexp(alpha[-1], alpha[-2])


def _ctc_enumerate(logits, labels):
    t, c = logits.shape
    y = np.exp(logits - logits.max(1, keepdims=True))
    y /= y.sum(1, keepdims=True)
    total, occ = 0.0, np.zeros_like(y)
    for path in itertools.product(range(c), repeat=t):
        collapsed = [k for i, k in enumerate(path) if k != 0 and (i == 0 or path[i - 1] != k)]
        if collapsed == list(labels):
            pr = np.prod([y[i, k] for i, k in enumerate(path)])
            total += pr
            for i, k in enumerate(path):
                occ[i, k] += pr
    return -np.log(total), y - occ / total  # the loss and its gradient in the logits


def test_ctc_loss_and_gradient_against_enumerating_the_alignments(backend):
    labels = (1, 2, 2)  # a repeat: the blank between them is required
    u0 = RNG.normal(size=(6, 3))
    loss, grad = _ctc_enumerate(u0, labels)
    u = backend.asarray(u0)
    # (under jit: plain array-api-strict arrays refuse NumPy index arrays)
    value = ft.jit(_ctc_loss, static_argnums=1)(u, labels)
    np.testing.assert_allclose(float(backend.to_numpy(value)), loss, rtol=1e-12)
    for g in (ft.grad(_ctc_loss)(u, labels), ft.jit(ft.grad(_ctc_loss), static_argnums=1)(
            u, labels)):
        g = backend.to_numpy(g)
        assert np.isfinite(g).all()
        np.testing.assert_allclose(g, grad, rtol=1e-10, atol=1e-13)
    batch = backend.asarray(np.stack([u0, u0[::-1], 0.5 * u0]))
    per = ft.vmap(ft.grad(_ctc_loss), in_axes=(0, None))(batch, labels)
    for i, ui in enumerate([u0, u0[::-1], 0.5 * u0]):
        np.testing.assert_allclose(backend.to_numpy(per)[i], _ctc_enumerate(ui, labels)[1],
                                   rtol=1e-10, atol=1e-13)
    h = backend.to_numpy(ft.hessian(_ctc_loss)(u, labels))
    assert np.isfinite(h).all()
    check_grads(ft.jit(lambda u: _ctc_loss(u, labels)), (u,), order=2)


# -- GRAPE: a quantum gate's fidelity differentiated through complex matrix exponentials ----------


_SX = np.array([[0, 1], [1, 0]], complex)
_SY = np.array([[0, -1j], [1j, 0]])
_SZ = np.diag([1.0 + 0j, -1.0])


def _gate_fidelity(u, ops, target, dt):
    """|tr(target^H U)|^2 / 4 for U the product of exp(-i dt H_k), H_k = sz/2 + u_k0 sx +
    u_k1 sy: piecewise-constant controls, as in GRAPE (Khaneja et al. 2005)."""
    import functrans.scipy.linalg as fsl
    sx, sy, sz = ops
    prop = fnp.eye(2, dtype=sx.dtype, device=sx.device)
    for k in range(u.shape[0]):
        h = u[k, 0] * sx + u[k, 1] * sy + 0.5 * sz
        prop = fnp.matmul(fsl.expm(-1j * dt * h), prop)
    overlap = fnp.trace(fnp.matmul(fnp.conj(fnp.transpose(target)), prop))
    return fnp.abs(overlap) ** 2 / 4


def test_grape_gate_fidelity_gradient_through_complex_expm(backend):
    import scipy.linalg as sl
    dt, u0 = 0.3, RNG.normal(size=(5, 2))

    def fid_np(u):
        prop = np.eye(2, dtype=complex)
        for k in range(len(u)):
            prop = sl.expm(-1j * dt * (0.5 * _SZ + u[k, 0] * _SX + u[k, 1] * _SY)) @ prop
        return abs(np.trace(_SX.conj().T @ prop)) ** 2 / 4
    ops = tuple(backend.asarray(m, dtype="complex128") for m in (_SX, _SY, _SZ))
    target = backend.asarray(_SX, dtype="complex128")
    u = backend.asarray(u0)
    np.testing.assert_allclose(float(backend.to_numpy(_gate_fidelity(u, ops, target, dt))),
                               fid_np(u0), rtol=1e-13)
    fd = _fd_jac(lambda v: np.array([fid_np(v)]), u0)[0].reshape(5, 2)
    for g in (ft.grad(_gate_fidelity)(u, ops, target, dt),
              ft.jit(ft.grad(_gate_fidelity), static_argnums=3)(u, ops, target, dt)):
        assert backend.to_numpy(g).dtype == np.float64
        np.testing.assert_allclose(backend.to_numpy(g), fd, rtol=1e-7, atol=1e-9)
    h = backend.to_numpy(ft.hessian(_gate_fidelity)(u, ops, target, dt)).reshape(10, 10)
    np.testing.assert_allclose(h, h.T, atol=1e-13)
    check_grads(lambda u: _gate_fidelity(u, ops, target, dt), (u,), order=2, modes=("rev",))


# -- structural compliance (SIMP's sensitivity, Sigmund's "99-line" topology optimisation) ---------


def _spring_network():
    """A 1-D network of springs between nodes (neighbours and a few longer ones); node 0 is
    fixed. Returns each element's two free-node indices (-1: the fixed node) and the load."""
    elems = [(i, i + 1) for i in range(6)] + [(0, 3), (2, 5), (1, 6)]
    return np.array(elems), np.array([0.0, 0.3, -0.2, 0.5, 0.0, -0.4, 1.0])


def _stiffness(dens, elems, n, penal=3.0):
    """K = sum_e rho_e^p k_e, assembled by a scatter-add at NumPy index tables."""
    ke = fnp.asarray([1.0, -1.0, -1.0, 1.0], dtype=dens.dtype, device=dens.device)
    rows = np.repeat(elems, 2, axis=1).ravel()  # (i, i, j, j) per element
    cols = np.tile(elems, (1, 2)).ravel()       # (i, j, i, j)
    vals = fnp.reshape(fnp.reshape(dens ** penal, (-1, 1)) * ke, (-1,))
    k = fnp.zeros((n, n), dtype=dens.dtype, device=dens.device)
    return fnp.add.at(k, (rows, cols), vals, inplace=False)


def _compliance(dens, elems, load):
    n = load.shape[0]
    k = _stiffness(dens, elems, n)[1:, 1:] + 0.0  # node 0 fixed
    u = fnp.linalg.solve(k, load[1:])
    return fnp.sum(u * load[1:])


def test_compliance_sensitivity_is_minus_the_element_energies(backend):
    elems, load0 = _spring_network()
    dens0 = RNG.uniform(0.4, 1.0, size=len(elems))
    dens, load = backend.asarray(dens0), backend.asarray(load0)
    k = np.zeros((7, 7))
    for e, (i, j) in enumerate(elems):
        k[np.ix_([i, j], [i, j])] += dens0[e] ** 3 * np.array([[1.0, -1.0], [-1.0, 1.0]])
    u = np.concatenate([[0.0], np.linalg.solve(k[1:, 1:], load0[1:])])
    np.testing.assert_allclose(float(backend.to_numpy(_compliance(dens, elems, load))),
                               load0 @ u, rtol=1e-12)
    # dC/drho_e = -p rho_e^(p-1) u_e^T k_e u_e
    want = np.array([-3 * dens0[e] ** 2 * (u[i] - u[j]) ** 2 for e, (i, j) in enumerate(elems)])
    for g in (ft.grad(_compliance)(dens, elems, load),
              ft.jit(ft.grad(_compliance), static_argnums=1)(dens, tuple(map(tuple, elems)),
                                                              load)):
        np.testing.assert_allclose(backend.to_numpy(g), want, rtol=1e-10)
    check_grads(lambda d: _compliance(d, elems, load), (dens,), order=2)
