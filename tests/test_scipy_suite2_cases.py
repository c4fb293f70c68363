"""The topics of JAX's scipy_optimize_test, scipy_interpolate_test, scipy_spatial_test
(Rotation, Slerp), scipy_cluster_test (vq), scipy_fft_test (the DCT) and ode_test (odeint),
restated for functrans.scipy.optimize.minimize, functrans.scipy.interpolate,
functrans.scipy.spatial.transform, functrans.scipy.cluster.vq, functrans.scipy.fft and
functrans.ode.odeint, beside what tests/test_integrate_optimize.py and tests/test_scipy_more.py
already cover.

Every case checks against a reference that exists without JAX (SciPy's values, closed forms,
central differences); the full grid runs on NumPy and one representative case per function on
the other backends. The comparisons with jax.scipy run only where JAX is installed (not in CI).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import scipy.cluster.vq as svq
import scipy.fft as sfft
import scipy.integrate as sint
import scipy.interpolate as sinterp
import scipy.optimize as sopt
from scipy.spatial.transform import Rotation as SRotation
from scipy.spatial.transform import Slerp as SSlerp

import functrans as ft
import functrans.numpy as fnp
import functrans.scipy.fft as F
from functrans.ode import odeint
from functrans.scipy.cluster.vq import vq
from functrans.scipy.interpolate import RegularGridInterpolator
from functrans.scipy.optimize import minimize
from functrans.scipy.spatial.transform import Rotation, Slerp
from functrans.testing import check_grads

RNG = np.random.default_rng(25)
LBFGS = "l-bfgs-experimental-do-not-rely-on-this"


def _full(backend):
    """Whether this backend runs the whole grid (NumPy) or one representative case."""
    return backend.id == "numpy"


def _jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    return jax


def _close(backend, got, want, rtol=1e-12, atol=1e-12, msg=""):
    assert backend.is_own(got), msg
    got = backend.to_numpy(got)
    want = np.asarray(want)
    assert got.shape == want.shape, (msg, got.shape, want.shape)
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, err_msg=str(msg))


# -- minimize: the test functions of JAX's scipy_optimize_test ---------------------------------
# Written for either namespace (s: numpy or functrans.numpy).

def _rosenbrock(s):
    return lambda x: s.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def _rosenbrock_diff(s):  # (JAX's test writes np.diff(x) in place of x[1:] - x[:-1] ** 2)
    return lambda x: s.sum(100.0 * s.diff(x) ** 2 + (1.0 - x[:-1]) ** 2)


def _himmelblau(s):
    return lambda p: (p[0] ** 2 + p[1] - 11.0) ** 2 + (p[0] + p[1] ** 2 - 7.0) ** 2


def _matyas(s):
    return lambda p: 0.26 * (p[0] ** 2 + p[1] ** 2) - 0.48 * p[0] * p[1]


def _eggholder(s):
    def f(p):
        x, y = p[0], p[1]
        return (-(y + 47.0) * s.sin(s.sqrt(s.abs(x / 2.0 + y + 47.0)))
                - x * s.sin(s.sqrt(s.abs(x - (y + 47.0)))))
    return f


def _zakharov(s):
    def f(x):
        k = s.sum(0.5 * s.arange(1, x.shape[0] + 1, dtype=x.dtype) * x)
        return s.sum(x ** 2) + k ** 2 + k ** 4
    return f


def _steep(s):  # (JAX's issue 4594: a badly scaled bowl)
    return lambda x: s.mean((1e4 * x) ** 2)


_PROBLEMS = [(_rosenbrock, [0.0, 0.0]), (_rosenbrock_diff, [0.0, 0.0]),
             (_himmelblau, [0.0, 0.0]), (_matyas, [6.0, 6.0]), (_eggholder, [100.0, 100.0]),
             (_himmelblau, [92.0, 0.001]),  # JAX's "bad initial values"
             (_zakharov, [600.0, 700.0, 200.0, 100.0, 90.0, 1e4]), (_steep, [1.0, 1.0])]


def _scipy_minimum(problem, x0):
    g = ft.grad(problem(fnp))
    return sopt.minimize(problem(np), np.asarray(x0), method="BFGS",
                         jac=lambda x: np.asarray(g(x)), options={"gtol": 1e-8})


@pytest.mark.parametrize("method", ["BFGS", LBFGS])
def test_minimize_jax_test_functions_against_scipy(backend, method):
    cases = _PROBLEMS if _full(backend) else _PROBLEMS[2:3]
    if method == LBFGS and _full(backend):
        cases = [c for c in _PROBLEMS if c[0] in (_rosenbrock, _eggholder, _steep)]
    elif method == LBFGS:
        pytest.skip("the limited-memory method on NumPy (BFGS is the representative here)")
    for problem, x0 in cases:
        name = problem.__name__
        r = minimize(problem(fnp), backend.asarray(x0), method=method, options={"gtol": 1e-6})
        want = _scipy_minimum(problem, x0)
        assert bool(backend.to_numpy(r.success)) and int(backend.to_numpy(r.status)) == 0, name
        x = backend.to_numpy(r.x)
        if problem is _zakharov:  # (its minimum, 0 at 0, is very flat: JAX checks the value)
            assert float(backend.to_numpy(r.fun)) < 1e-6
        else:
            _close(backend, r.x, want.x, rtol=0, atol=2e-5, msg=name)
        # the fields describe the last iterate
        _close(backend, r.fun, problem(np)(x), rtol=1e-12, atol=1e-300, msg=name)
        grad = np.asarray(ft.grad(problem(fnp))(x))
        _close(backend, r.jac, grad, rtol=1e-10, atol=1e-12, msg=name)
        assert np.max(np.abs(grad)) < 1e-6, name
        nit, nfev = int(backend.to_numpy(r.nit)), int(backend.to_numpy(r.nfev))
        assert 0 < nit and nit <= nfev == int(backend.to_numpy(r.njev)), name
        if method == "BFGS":  # an inverse Hessian estimate: symmetric positive definite
            h = backend.to_numpy(r.hess_inv)
            np.testing.assert_allclose(h, h.T, atol=1e-8 * np.max(np.abs(h)))
            assert np.all(np.linalg.eigvalsh(h) > 0), name
        else:
            assert r.hess_inv is None


def test_minimize_iteration_limit_tolerances_and_dtypes(backend):
    f = _rosenbrock(fnp)
    x0 = np.array([-1.2, 1.0])
    # maxiter bounds the iterations (status 1); maxiter=0 evaluates the start only
    r = minimize(f, backend.asarray(x0), method="BFGS", options={"maxiter": 4})
    assert int(backend.to_numpy(r.nit)) == 4 and int(backend.to_numpy(r.status)) == 1
    assert not bool(backend.to_numpy(r.success))
    r0 = minimize(f, backend.asarray(x0), method="BFGS", options={"maxiter": 0})
    _close(backend, r0.x, x0)
    _close(backend, r0.fun, _rosenbrock(np)(x0))
    _close(backend, r0.jac, sopt.rosen_der(x0), rtol=1e-13)
    assert int(backend.to_numpy(r0.nfev)) == 1 and int(backend.to_numpy(r0.status)) == 1
    if not _full(backend):
        return
    # gtol (or tol) is the stopping test on the gradient's norm (inf by default, or `norm`)
    loose = minimize(f, x0, method="BFGS", options={"gtol": 1e-2})
    tight = minimize(f, x0, method="BFGS", tol=1e-9)
    assert np.max(np.abs(loose.jac)) < 1e-2 and np.max(np.abs(tight.jac)) < 1e-9
    assert int(loose.nit) < int(tight.nit)
    two = minimize(f, x0, method="BFGS", options={"gtol": 1e-3, "norm": 2})
    assert np.linalg.norm(two.jac) < 1e-3 and bool(two.success)
    # float32 in, float32 out; integers are minimised in float64
    r32 = minimize(lambda x: fnp.sum((x - 1.5) ** 2), np.zeros(3, np.float32), method="BFGS")
    assert r32.x.dtype == r32.fun.dtype == r32.jac.dtype == r32.hess_inv.dtype == np.float32
    np.testing.assert_allclose(r32.x, 1.5, rtol=1e-5)
    ri = minimize(lambda x: fnp.sum((x - 1.5) ** 2), np.zeros(3, np.int32), method=LBFGS)
    assert ri.x.dtype == np.float64
    np.testing.assert_allclose(ri.x, 1.5, rtol=1e-9)


def test_minimize_batches_of_parameters_under_vmap_and_jit(backend):
    if not _full(backend):
        pytest.skip("vmap and jit of minimize on NumPy (test_integrate_optimize runs torch)")

    def solve(a, b):  # minimum of sum(exp(x) - a x) + b x^2 / 2 ... solved per member
        return minimize(lambda x, a, b: fnp.sum(fnp.exp(x) - a * x + 0.5 * b * x ** 2),
                        fnp.zeros(2, dtype=a.dtype, device=fnp.device(a)), (a, b),
                        method="BFGS", options={"gtol": 1e-10})
    a = np.array([[1.5, 2.0], [0.5, 3.0], [1.0, 1.0]])
    b = np.array([0.0, 0.3, 1.0])
    out = ft.vmap(solve)(backend.asarray(a), backend.asarray(b))
    assert tuple(out.x.shape) == (3, 2) and tuple(out.nit.shape) == (3,)
    for i in range(3):  # each member against its own solve, and the stationarity condition
        own = solve(backend.asarray(a[i]), backend.asarray(b[i]))
        _close(backend, own.x, backend.to_numpy(out.x)[i], rtol=1e-12, atol=1e-14)
        assert int(backend.to_numpy(own.nit)) == int(backend.to_numpy(out.nit)[i])
        x = backend.to_numpy(out.x)[i]
        np.testing.assert_allclose(np.exp(x) - a[i] + b[i] * x, 0.0, atol=1e-9)
    staged = ft.jit(solve)(backend.asarray(a[1]), backend.asarray(b[1]))
    _close(backend, staged.x, backend.to_numpy(out.x)[1], rtol=1e-12, atol=1e-14)


def test_minimize_derivative_of_the_optimum(backend):
    # x*(a) = log(a) minimises sum(exp(x) - a x); f* = sum(a - a log a), df*/da = -log(a).
    # The derivatives go through the iterations (JAX: forward mode only, reverse refused).
    def solved(a):
        return minimize(lambda x, a: fnp.sum(fnp.exp(x) - a * x),
                        fnp.zeros(2, dtype=a.dtype, device=fnp.device(a)), (a,),
                        method="BFGS", options={"gtol": 1e-12})
    a = np.array([2.0, 3.0])
    g = ft.grad(lambda a: solved(a).fun)(backend.asarray(a))
    _close(backend, g, -np.log(a), rtol=0, atol=1e-9)
    if _full(backend):
        jac = ft.jacrev(lambda a: solved(a).x)(a)
        np.testing.assert_allclose(jac, np.diag(1 / a), atol=1e-7)
        np.testing.assert_allclose(ft.jacfwd(lambda a: solved(a).x)(a), np.diag(1 / a),
                                   atol=1e-7)


def test_minimize_refusals_pinned():
    # complex x0: JAX's limited-memory method minimises over it; here a clear TypeError
    with pytest.raises(TypeError, match="x0 must be real"):
        minimize(lambda z: fnp.sum(fnp.abs(z) ** 2), np.zeros(2, complex), method=LBFGS)
    with pytest.raises(ValueError, match="x0 is empty"):
        minimize(lambda x: fnp.sum(x ** 2), np.zeros(0), method="BFGS")
    with pytest.raises(ValueError, match="maxiter must be non-negative"):
        minimize(lambda x: fnp.sum(x ** 2), np.ones(2), method="BFGS", options={"maxiter": -1})
    with pytest.raises(TypeError, match="args must be a tuple"):
        minimize(lambda x: fnp.sum(x ** 2), np.ones(2), 45, method="BFGS")


def test_minimize_side_by_side_with_jax():
    jax = _jax()
    import jax.numpy as jnp
    from jax.scipy.optimize import minimize as jminimize
    problem, x0 = _PROBLEMS[5]  # (JAX's "bad initial values")
    ours = minimize(problem(fnp), np.asarray(x0), method="BFGS", options={"gtol": 1e-6})
    theirs = jax.jit(lambda x0: jminimize(problem(jnp), x0, method="BFGS",
                                          options={"gtol": 1e-6}).x)(jnp.asarray(x0))
    np.testing.assert_allclose(ours.x, np.asarray(theirs), atol=2e-5)


# -- RegularGridInterpolator -------------------------------------------------------------------

def _grid(d, trailing):
    sizes = (4, 3, 5)[:d]
    pts = tuple(np.sort(RNG.uniform(-1.0, 1.0, size=n)) for n in sizes)
    vals = RNG.normal(size=sizes + trailing)
    xi = RNG.uniform(-1.3, 1.3, size=(8, d))
    xi[0] = [p[0] for p in pts]  # the first corner, the last, a node, a midpoint (nearest's tie)
    xi[1] = [p[-1] for p in pts]
    xi[2] = [p[1] for p in pts]
    xi[3] = [(p[0] + p[1]) / 2 for p in pts]
    return pts, vals, xi


def _scipy_rgi(pts, vals, **kw):
    return sinterp.RegularGridInterpolator(pts, vals, bounds_error=False, **kw)


@pytest.mark.parametrize("d", [1, 2, 3])
def test_regular_grid_interpolator_grids_of_one_to_three_axes(backend, d):
    if not _full(backend) and d != 3:
        pytest.skip("one representative grid on this backend")
    methods = ("linear", "nearest") if _full(backend) else ("linear",)
    fills = (np.nan, None, 0.5, -3) if _full(backend) else (None,)
    for trailing in ((), (2,)):
        pts, vals, xi = _grid(d, trailing)
        bpts = tuple(backend.asarray(p) for p in pts)
        for method in methods:
            for fill in fills:
                got = RegularGridInterpolator(bpts, backend.asarray(vals), method=method,
                                              fill_value=fill)(backend.asarray(xi))
                want = _scipy_rgi(pts, vals, method=method, fill_value=fill)(xi)
                _close(backend, got, want, rtol=1e-13, atol=1e-13,
                       msg=(d, trailing, method, fill))


def test_regular_grid_interpolator_query_point_forms(backend):
    # a 1-d xi holds points of d coordinates each (SciPy's and JAX's rule); a one-tuple is
    # its element; a tuple of d arrays broadcasts
    pts1, v1 = (np.linspace(0.0, 1.0, 5),), RNG.normal(size=5)
    pts2, v2 = (np.linspace(0.0, 1.0, 5), np.linspace(0.0, 2.0, 4)), RNG.normal(size=(5, 4))
    cases = [(pts1, v1, np.array([0.2, 0.35, 0.9])), (pts2, v2, np.array([0.3, 1.1])),
             (pts2, v2, np.array([0.3, 1.1, 0.7, 0.2])), (pts1, v1, np.array([[0.2], [0.9]]))]
    for pts, v, q in cases if _full(backend) else cases[1:2]:
        got = RegularGridInterpolator(tuple(backend.asarray(p) for p in pts),
                                      backend.asarray(v))(backend.asarray(q))
        _close(backend, got, _scipy_rgi(pts, v)(q), rtol=1e-13, msg=q.shape)
    if not _full(backend):
        return
    q = (np.array([0.2, 0.35]),)
    np.testing.assert_allclose(RegularGridInterpolator(pts1, v1)(q), _scipy_rgi(pts1, v1)(q),
                               rtol=1e-13)
    q = (np.array([0.2, 0.8, 0.5]), np.array([[0.1], [1.9]]))
    np.testing.assert_allclose(RegularGridInterpolator(pts2, v2, method="nearest")(q),
                               _scipy_rgi(pts2, v2, method="nearest")(q), rtol=1e-13)
    with pytest.raises(ValueError, match="last axis"):
        RegularGridInterpolator(pts2, v2)(np.array([0.1, 0.2, 0.3]))


def test_regular_grid_interpolator_derivatives(backend):
    # in the query points: the slope of the cell's multilinear interpolant; in the values:
    # the (fixed) weights, so the interpolant is linear in them
    pts, vals, _ = _grid(3 if _full(backend) else 1, (2,))
    inside = np.stack([RNG.uniform(p[0] + 0.01, p[-1] - 0.01, size=3) for p in pts], -1)
    bpts = tuple(backend.asarray(p) for p in pts)
    check_grads(lambda v, x: RegularGridInterpolator(bpts, v)(x),
                (backend.asarray(vals), backend.asarray(inside)), order=1)
    if not _full(backend):
        return
    # 1-d closed form: the segment's slope
    g = np.array([0.0, 0.5, 2.0])
    y = np.array([1.0, 3.0, 2.0])
    slope = ft.vmap(ft.grad(lambda x: RegularGridInterpolator((g,), y)(x[None])[0]))(
        np.array([[0.2], [1.0], [1.9]]))
    np.testing.assert_allclose(slope[:, 0], [4.0, -2 / 3, -2 / 3], rtol=1e-13)
    # nearest: piecewise constant in the points, a selection in the values
    near = ft.jacrev(lambda v: RegularGridInterpolator((g,), v, method="nearest")(
        np.array([[0.2], [1.4]])))(y)
    np.testing.assert_array_equal(near, [[1, 0, 0], [0, 0, 1]])
    # fill_value=None extrapolates the edge cell's slope
    out = ft.grad(lambda x: RegularGridInterpolator((g,), y, fill_value=None)(x[None])[0])(
        np.array([3.0]))
    np.testing.assert_allclose(out, [-2 / 3], rtol=1e-13)


def test_regular_grid_interpolator_side_by_side_with_jax():
    jax = _jax()
    from jax.scipy.interpolate import RegularGridInterpolator as JaxRGI
    pts, vals, xi = _grid(2, ())
    q = np.array([[np.nan, 0.0]])

    @jax.jit
    def theirs(xi, q):
        return (JaxRGI(pts, vals, fill_value=None)(xi), JaxRGI(pts, vals)(xi[0]),
                JaxRGI(pts, vals, method="nearest")(q))
    linear, one, nearest_nan = theirs(xi, q)
    np.testing.assert_allclose(RegularGridInterpolator(pts, vals, fill_value=None)(xi),
                               np.asarray(linear), rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(RegularGridInterpolator(pts, vals)(xi[0]), np.asarray(one),
                               rtol=1e-13)  # (shape (1,) both)
    # a nan coordinate: nan for nearest too (SciPy's), where JAX picks a grid value
    assert np.isnan(RegularGridInterpolator(pts, vals, method="nearest")(q)).all()
    assert not np.isnan(np.asarray(nearest_nan)).any()


# -- Rotation and Slerp ------------------------------------------------------------------------

_SEQS = [a + b + c for a in "xyz" for b in "xyz" for c in "xyz" if a != b and b != c]
# half turns (w = 0), the identity of either sign, a nearly-identity rotation
_SPECIAL_QUATS = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [1, 1, 0, 0],
                           [0.6, 0, 0.8, 0], [0, 0, 0, 1], [0, 0, 0, -1], [1e-9, 0, 0, 1],
                           [-1, -1, 0, 0]], dtype=float)


def test_rotation_euler_angles_every_sequence(backend):
    seqs = _SEQS + [s.upper() for s in _SEQS] if _full(backend) else ["zyx", "XZX"]
    for seq in seqs:
        for degrees in (False, True):
            scale = 180 / np.pi if degrees else 1.0
            ang = RNG.uniform(-3, 3, size=(3, 3)) * scale
            ang[:, 1] = RNG.uniform(0.2, 1.3, size=3) * scale  # away from the gimbal lock
            want = SRotation.from_euler(seq, ang, degrees=degrees)
            r = Rotation.from_euler(seq, backend.asarray(ang), degrees=degrees)
            _close(backend, r.as_quat(), want.as_quat(), msg=seq)
            _close(backend, r.as_euler(seq, degrees=degrees),
                   want.as_euler(seq, degrees=degrees), rtol=1e-9, atol=1e-9 * scale, msg=seq)
            one = Rotation.from_euler(seq, backend.asarray(ang[0]), degrees=degrees)
            assert one.single
            _close(backend, one.as_euler(seq, degrees=degrees),
                   want[0].as_euler(seq, degrees=degrees), rtol=1e-9, atol=1e-9 * scale)
    if _full(backend):  # one and two axes
        for seq, shape in (("x", (4, 1)), ("Y", ()), ("zx", (2,)), ("XY", (3, 2))):
            a = RNG.uniform(-3, 3, size=shape)
            np.testing.assert_allclose(Rotation.from_euler(seq, a, degrees=True).as_quat(),
                                       SRotation.from_euler(seq, a, degrees=True).as_quat(),
                                       atol=1e-12)


def test_rotation_conversions_at_half_turns_and_the_identity(backend):
    quats = _SPECIAL_QUATS if _full(backend) else _SPECIAL_QUATS[[0, 5, 6]]
    r, s = Rotation.from_quat(backend.asarray(quats)), SRotation.from_quat(quats)
    _close(backend, r.as_rotvec(), s.as_rotvec())
    _close(backend, r.as_mrp(), s.as_mrp())
    _close(backend, r.magnitude(), s.magnitude())
    _close(backend, r.as_matrix(), s.as_matrix())
    _close(backend, r.as_quat(canonical=True), s.as_quat(canonical=True))
    back = Rotation.from_matrix(r.as_matrix()).as_quat(canonical=True)
    _close(backend, back, SRotation.from_matrix(s.as_matrix()).as_quat(canonical=True))
    if not _full(backend):
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SciPy warns of gimbal locks
        for seq in ("xyz", "ZYX", "zxz", "XYX"):
            np.testing.assert_allclose(r.as_euler(seq), s.as_euler(seq), atol=1e-6,
                                       err_msg=seq)
    # rotation vectors past a half turn, at a whole turn, and tiny ones
    v = np.array([[np.pi, 0, 0], [0, 0, -np.pi], [4.0, 0, 0], [0, 7.0, 1.0],
                  [2 * np.pi, 0, 0], [1e-9, 0, 0]])
    np.testing.assert_allclose(Rotation.from_rotvec(v).as_rotvec(),
                               SRotation.from_rotvec(v).as_rotvec(), atol=1e-12)
    np.testing.assert_allclose(Rotation.from_mrp(v).as_mrp(), SRotation.from_mrp(v).as_mrp(),
                               atol=1e-12)


def test_rotation_single_and_stacked_operations(backend):
    q, v = RNG.normal(size=(3, 4)), RNG.normal(size=(3, 3))
    r, s = Rotation.from_quat(backend.asarray(q)), SRotation.from_quat(q)
    r0, s0 = Rotation.from_quat(backend.asarray(q[0])), SRotation.from_quat(q[0])
    bv = backend.asarray(v)
    _close(backend, r0.apply(bv), s0.apply(v))
    _close(backend, r.apply(bv[0, ...]), s.apply(v[0]))
    _close(backend, (r0 * r).as_quat(), (s0 * s).as_quat())
    _close(backend, (r * r0).as_quat(), (s * s0).as_quat())
    _close(backend, r.inv().apply(bv), s.apply(v, inverse=True))
    _close(backend, (r * r.inv()).magnitude(), np.zeros(3), atol=1e-12)
    if not _full(backend):
        return
    m = r.mean()
    assert m.single and Rotation.from_quat(q[0]).mean().single
    np.testing.assert_allclose(m.as_quat(canonical=True), s.mean().as_quat(canonical=True),
                               atol=1e-12)
    np.testing.assert_allclose(Rotation.from_quat(q[0]).mean().as_quat(canonical=True),
                               s0.as_quat(canonical=True), atol=1e-12)
    both = Rotation.concatenate([r0, r, Rotation.identity(2)])
    np.testing.assert_allclose(both.as_quat(), SRotation.concatenate(
        [s0, s, SRotation.identity(2)]).as_quat(), atol=1e-15)
    assert len(both) == 6 and Rotation.identity().single and not Rotation.identity(1).single
    # float32 rotations stay float32 (SciPy computes in float64)
    r32 = Rotation.from_quat(q.astype(np.float32))
    for out in (r32.as_quat(), r32.as_matrix(), r32.as_rotvec(), r32.as_mrp(),
                r32.as_euler("xyz"), r32.magnitude(), r32.apply(v.astype(np.float32)),
                r32.mean().as_quat()):
        assert out.dtype == np.float32
    # random rotations: unit quaternions, reproducible from the key
    import functrans.random as fr
    k = fr.key(3)
    rr = Rotation.random(k, 50)
    np.testing.assert_allclose(np.linalg.norm(rr.as_quat(), axis=-1), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(rr.as_quat(), Rotation.random(k, 50).as_quat())
    assert Rotation.random(k).single


def test_rotation_derivatives_against_closed_forms(backend):
    # d/dtheta R(theta n) v = n x (R v); the angle of from_rotvec(v) is |v|
    n = np.array([0.6, 0.0, 0.8])
    v = np.array([0.3, -1.0, 2.0])
    theta = 0.7
    d = ft.jacfwd(lambda t: Rotation.from_rotvec(t * backend.asarray(n)).apply(
        backend.asarray(v)))(backend.asarray(theta))
    rv = SRotation.from_rotvec(theta * n).apply(v)
    _close(backend, d, np.cross(n, rv), rtol=1e-12, atol=1e-12)
    rot = backend.asarray(RNG.normal(size=(2, 3)) * 0.5)  # (angles below a half turn)
    g = ft.grad(lambda a: fnp.sum(Rotation.from_rotvec(a).magnitude()))(rot)
    r_np = backend.to_numpy(rot)
    _close(backend, g, r_np / np.linalg.norm(r_np, axis=-1, keepdims=True), rtol=1e-10)
    if not _full(backend):
        return
    q = RNG.normal(size=(2, 4))
    mrp = RNG.normal(size=(2, 3)) * 0.5
    check_grads(lambda p: Rotation.from_mrp(p).as_matrix(), (mrp,), order=2)
    check_grads(lambda q: Rotation.from_quat(q).as_mrp(), (q,), order=1)
    check_grads(lambda q: Rotation.from_quat(q).as_rotvec(degrees=True), (q,), order=1)
    check_grads(lambda q: Rotation.from_quat(q, scalar_first=True).as_quat(canonical=True),
                (q,), order=1)
    ang = RNG.uniform(20.0, 60.0, size=(2, 3))  # (degrees, away from the gimbal lock)
    check_grads(lambda a: Rotation.from_euler("ZYZ", a, degrees=True).as_euler(
        "ZYZ", degrees=True), (ang,), order=1)
    check_grads(lambda q, w: Rotation.from_quat(q).mean(w).as_matrix(),
                (RNG.normal(size=(3, 4)), RNG.uniform(0.5, 1.0, size=3)), order=1)


def test_slerp_against_scipy(backend):
    times = np.array([0.0, 1.0, 3.0])
    keys = RNG.normal(size=(3, 4))
    asked = np.array([0.0, 0.5, 1.0, 2.2, 3.0])
    sl = Slerp(backend.asarray(times), Rotation.from_quat(backend.asarray(keys)))
    ref = SSlerp(times, SRotation.from_quat(keys))
    _close(backend, sl(backend.asarray(asked)).as_quat(canonical=True),
           ref(asked).as_quat(canonical=True))
    one = sl(1.5)
    assert one.single and backend.is_own(one.quat)
    _close(backend, one.as_quat(canonical=True), ref(1.5).as_quat(canonical=True))
    if not _full(backend):
        return
    # keys of both signs of one rotation, and a half turn between two keys
    for k, t in ((np.array([[0, 0, 0, 1.0], [0, 0, 0, -1.0], [0, 0, 1.0, 0]]), times),
                 (np.array([[0, 0, 0, 1.0], [1.0, 0, 0, 0]]), np.array([0.0, 1.0]))):
        q = np.linspace(t[0], t[-1], 7)
        np.testing.assert_allclose(
            Slerp(t, Rotation.from_quat(k))(q).as_quat(canonical=True),
            SSlerp(t, SRotation.from_quat(k))(q).as_quat(canonical=True), atol=1e-12)
    # constant angular velocity: from the identity to a turn of 1.2 about z over 2 time units
    sl2 = Slerp(np.array([0.0, 2.0]), Rotation.from_rotvec(np.array([[0, 0, 0], [0, 0, 1.2]])))
    np.testing.assert_allclose(ft.grad(lambda t: sl2(t).magnitude())(0.7), 0.6, rtol=1e-12)
    check_grads(lambda t, q: Slerp(t, Rotation.from_quat(q))(np.array([0.3, 2.5])).as_quat(),
                (times, keys), order=1)
    for bad, match in ((np.array([0.0, 2.0, 1.0]), "strictly increasing"),):
        with pytest.raises(ValueError, match=match):
            Slerp(bad, Rotation.from_quat(keys))
    with pytest.raises(ValueError, match="within"):
        sl(np.array([3.5]))
    with pytest.raises(ValueError, match="at least 2"):
        Slerp(np.array([0.0]), Rotation.from_quat(keys[:1]))


def test_rotation_and_slerp_side_by_side_with_jax():
    jax = _jax()
    from jax.scipy.spatial.transform import Rotation as JaxRotation
    from jax.scipy.spatial.transform import Slerp as JaxSlerp
    q, v = RNG.normal(size=(4, 4)), RNG.normal(size=(4, 3))
    t = np.array([0.0, 1.0, 2.0, 4.0])
    asked = np.array([0.3, 1.0, 3.9])

    @jax.jit  # (one compilation: JAX's eager operations compile one by one)
    def theirs(q, v):
        r = JaxRotation.from_quat(q)
        return (r.as_euler("ZXZ", degrees=True), r.apply(v),
                JaxSlerp.init(t, r)(asked).as_quat(canonical=True))
    ours = Rotation.from_quat(q)
    euler, applied, slerped = theirs(q, v)
    np.testing.assert_allclose(ours.as_euler("ZXZ", degrees=True), np.asarray(euler),
                               atol=1e-9)
    np.testing.assert_allclose(ours.apply(v), np.asarray(applied), atol=1e-12)
    np.testing.assert_allclose(Slerp(t, ours)(asked).as_quat(canonical=True),
                               np.asarray(slerped), atol=1e-12)


# -- vq ----------------------------------------------------------------------------------------

def test_vq_cases_against_scipy(backend):
    obs = RNG.normal(size=(9, 3))
    book = obs[[2, 5]] + 0.01
    tie = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]])  # (1, 1) is as far from both codes
    tie_book = np.array([[0.0, 0.0], [2.0, 2.0]])
    cases = [(obs, book, "float64"), (obs, obs[:1], "float64"), (tie, tie_book, "float64"),
             (obs[:0], book, "float64"), (obs[:, 0], book[:, 0], "float32"),
             (np.arange(6) % 4, np.array([3, 0]), "int32")]
    for o, b, dtype in cases if _full(backend) else cases[2:3]:
        code, dist = vq(backend.asarray(o, dtype), backend.asarray(b, dtype))
        want_code, want_dist = svq.vq(o.astype(dtype), b.astype(dtype))
        assert backend.to_numpy(code).dtype == want_code.dtype
        assert backend.to_numpy(dist).dtype == want_dist.dtype
        np.testing.assert_array_equal(backend.to_numpy(code), want_code)
        _close(backend, dist, want_dist, rtol=1e-6 if dtype == "float32" else 1e-13)


def test_vq_distance_derivative_on_a_code_is_zero_not_nan(backend):
    # (regression: an observation on its code gave nan in every observation's gradient)
    obs = np.array([[0.0, 0.0], [1.0, 2.0], [2.0, 2.0]])
    book = np.array([[0.0, 0.0], [2.0, 2.0]])
    g = ft.grad(lambda o: fnp.sum(vq(o, backend.asarray(book))[1]))(backend.asarray(obs))
    # rows on a code: 0; the other: the unit vector from its code (2, 2)
    _close(backend, g, [[0.0, 0.0], [-1.0, 0.0], [0.0, 0.0]], rtol=1e-14)
    gb = ft.grad(lambda b: fnp.sum(vq(backend.asarray(obs), b)[1]))(backend.asarray(book))
    _close(backend, gb, [[0.0, 0.0], [1.0, 0.0]], rtol=1e-14)
    if _full(backend):
        check_grads(lambda o, b: vq(o, b)[1], (obs + 0.1, book), order=2)


def test_vq_under_vmap_and_jit(backend):
    if not _full(backend):
        pytest.skip("vmap and jit of vq on NumPy")
    obs = RNG.normal(size=(3, 5, 2))
    books = RNG.normal(size=(3, 4, 2))
    codes, dists = ft.vmap(vq)(obs, books)
    for i in range(3):
        c, d = svq.vq(obs[i], books[i])
        np.testing.assert_array_equal(codes[i], c)
        np.testing.assert_allclose(dists[i], d, rtol=1e-13)
    c, d = ft.jit(vq)(obs[0], books[0])
    np.testing.assert_array_equal(c, svq.vq(obs[0], books[0])[0])


def test_vq_side_by_side_with_jax():
    _jax()
    from jax.scipy.cluster.vq import vq as jvq
    obs, book = RNG.normal(size=(7, 3)), RNG.normal(size=(3, 3))
    code, dist = vq(obs, book)
    jcode, jdist = jvq(obs, book)
    np.testing.assert_array_equal(code, np.asarray(jcode))
    np.testing.assert_allclose(dist, np.asarray(jdist), rtol=1e-13)
    # the codes' dtype is SciPy's (int32 for floating input), not JAX's (int64 with x64)
    assert code.dtype == np.int32 and np.asarray(jcode).dtype == np.int64


# -- scipy.fft: the DCT ------------------------------------------------------------------------

def test_dct_short_and_odd_lengths_against_scipy(backend):
    grid = [(kind, t, shape, n, axis, norm)
            for kind in ("dct", "idct") for t in (1, 2, 3, 4)
            for shape in ((2,), (5,), (2, 3, 4)) for n in (None, 1, 2, 6)
            for axis in (-1, 1) for norm in (None, "ortho", "forward")
            if not (t == 1 and (n == 1 or (n is None and shape == (1,))))
            and not (axis == 1 and len(shape) == 1)]
    if not _full(backend):
        grid = [("idct", 3, (2, 3, 4), 2, 1, "ortho")]
    data = {s: RNG.normal(size=s) for s in ((2,), (5,), (2, 3, 4))}
    for kind, t, shape, n, axis, norm in grid:
        x = data[shape]
        got = getattr(F, kind)(backend.asarray(x), type=t, n=n, axis=axis, norm=norm)
        want = getattr(sfft, kind)(x, type=t, n=n, axis=axis, norm=norm)
        _close(backend, got, want, msg=(kind, t, shape, n, axis, norm))


def test_dct_round_trips_orthogonality_and_adjoints(backend):
    x = RNG.normal(size=(4, 6))
    bx = backend.asarray(x)
    types = (1, 2, 3, 4) if _full(backend) else (2,)
    norms = (None, "ortho", "forward") if _full(backend) else ("ortho",)
    for t in types:
        for norm in norms:
            back = F.idct(F.dct(bx, type=t, norm=norm), type=t, norm=norm)
            _close(backend, back, x, msg=(t, norm))
            back = F.idctn(F.dctn(bx, type=t, norm=norm, axes=(0, 1)), type=t, norm=norm,
                           axes=(0, 1))
            _close(backend, back, x, msg=(t, norm))
        # the orthonormal transforms' matrices are orthogonal, so each one's adjoint
        # (its vjp) is its inverse
        m = backend.to_numpy(F.dct(backend.asarray(np.eye(6)), type=t, norm="ortho", axis=0))
        np.testing.assert_allclose(m.T @ m, np.eye(6), atol=1e-13)
        ct = RNG.normal(size=x.shape)
        _, pull = ft.vjp(lambda a: F.dct(a, type=t, norm="ortho"), bx)
        _close(backend, pull(backend.asarray(ct))[0],
               sfft.idct(ct, type=t, norm="ortho"), msg=t)
    if _full(backend):
        check_grads(lambda a: F.dctn(a, type=1, s=(5, 3), axes=(1, 0), norm="forward"),
                    (x,), order=1)


def test_dct_side_by_side_with_jax():
    _jax()
    import jax.scipy.fft as jfft
    x = RNG.normal(size=(3, 5))
    np.testing.assert_allclose(F.dct(x, n=7, norm="ortho"),
                               np.asarray(jfft.dct(x, n=7, norm="ortho")), atol=1e-12)
    np.testing.assert_allclose(F.idctn(x, s=(2, 6)), np.asarray(jfft.idctn(x, s=(2, 6))),
                               atol=1e-12)
    # types 1, 3 and 4 are SciPy's here; JAX raises NotImplementedError for them
    with pytest.raises(NotImplementedError):
        jfft.dct(x, type=3)
    np.testing.assert_allclose(F.dct(x, type=3), sfft.dct(x, type=3), atol=1e-12)


# -- odeint: the problems of JAX's ode_test ----------------------------------------------------

def _pendulum(y, t, m, g):  # a list state, as JAX's test writes it
    theta, omega = y
    return [omega, -m * omega - g * fnp.sin(theta)]


def _weird_pendulum(y, t):  # dynamics depending on t
    return fnp.stack([y[1] * -t, -1 * y[1] - 9.8 * fnp.sin(y[0])])


def _decay(y, t, a1, a2):
    return -fnp.sqrt(t) - y + a1 - fnp.mean((y + a2) ** 2)


def _swoop(y, t, a1, a2):
    return y - fnp.sin(t) - fnp.cos(t) * a1 + a2


def _np_rhs(f):
    """The right-hand side for SciPy (functrans.numpy on NumPy arrays gives NumPy arrays)."""
    return lambda y, t, *a: np.asarray(f(y, t, *a), dtype=float)


_TIGHT = dict(rtol=1e-11, atol=1e-12)
_GRAD_TOL = dict(rtol=1e-9, atol=1e-10)  # (for the adjoint tests: half the cost of _TIGHT)
_ARGS = RNG.normal(size=(3, 3))
_ODE_CASES = [
    ("pendulum", _pendulum, [np.pi - 0.1, 0.0], np.linspace(0.0, 1.0, 6), (0.25, 9.8)),
    ("weird", _weird_pendulum, np.array([np.pi - 0.1, 0.0]), np.linspace(0.0, 1.0, 6), ()),
    ("decay", _decay, _ARGS[0], np.linspace(0.1, 0.2, 4), (_ARGS[1], _ARGS[2])),
    ("swoop", _swoop, np.linspace(0.1, 0.9, 10), np.array([0.1, 0.2]), (0.1, 0.2)),
]


def test_odeint_jax_problems_against_scipy(backend):
    for name, f, y0, t, args in _ODE_CASES if _full(backend) else _ODE_CASES[2:3]:
        y0_b = [backend.asarray(v) for v in y0] if isinstance(y0, list) else backend.asarray(y0)
        args_b = tuple(backend.asarray(a) for a in args)
        got = odeint(f, y0_b, backend.asarray(t), *args_b, **_TIGHT)
        want = sint.odeint(_np_rhs(f), np.asarray(y0, float), t, args, rtol=1e-12,
                           atol=1e-12)
        if isinstance(got, list):  # the list state: one array per leaf, times first
            assert len(got) == 2 and all(backend.is_own(g) for g in got)
            got = fnp.stack(got, axis=-1)
        _close(backend, got, want, rtol=1e-8, atol=1e-9, msg=name)


def test_odeint_lotka_volterra_against_solve_ivp(backend):
    if not _full(backend):
        pytest.skip("the non-linear systems on NumPy (decay is the representative)")

    def lv(y, t, a, b, c, d):
        return fnp.stack([a * y[0] - b * y[0] * y[1], d * y[0] * y[1] - c * y[1]])
    p = (1.1, 0.4, 0.4, 0.1)
    t = np.linspace(0.0, 6.0, 7)
    ours = odeint(lv, np.array([10.0, 5.0]), t, *p, **_TIGHT)
    ref = sint.solve_ivp(lambda s, y: np.asarray(lv(y, s, *p)), (0.0, 6.0), [10.0, 5.0],
                         method="DOP853", t_eval=t, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(ours, ref.y.T, rtol=1e-8)
    # the population invariant d x - c log x + b y - a log y is kept
    x, y = ours[:, 0], ours[:, 1]
    inv = p[3] * x - p[2] * np.log(x) + p[1] * y - p[0] * np.log(y)
    np.testing.assert_allclose(inv, inv[0], rtol=1e-9)


def _directional_fd(loss, args, direction, eps=1e-5):
    plus = loss(*[a + eps * d for a, d in zip(args, direction)])
    minus = loss(*[a - eps * d for a, d in zip(args, direction)])
    return (plus - minus) / (2 * eps)


def test_odeint_adjoint_gradients_against_central_differences(backend):
    if not _full(backend):
        pytest.skip("the adjoint against differences on NumPy (test_integrate_optimize's "
                    "closed forms run on every backend)")
    # d/d(y0, t, m, g) of a loss of the pendulum's states, in one random direction each
    t = np.array([0.0, 0.4, 0.9])

    def loss(y0, t, m, g):
        out = odeint(_pendulum, [y0[0], y0[1]], t, m, g, **_GRAD_TOL)
        return fnp.sum(fnp.sin(out[0])) + fnp.sum(out[1] ** 2)
    args = [np.array([np.pi - 0.1, 0.2]), t, np.array(0.25), np.array(9.8)]
    grads = ft.grad(loss, argnums=(0, 1, 2, 3))(*args)
    direction = [RNG.normal(size=np.shape(a)) for a in args]
    ours = sum(float(np.sum(g * d)) for g, d in zip(grads, direction))
    np.testing.assert_allclose(ours, _directional_fd(loss, args, direction), rtol=1e-6)
    # time-dependent dynamics: the gradient in t includes func's explicit t
    ts = np.array([0.0, 0.5, 1.0])
    gw = ft.grad(lambda y0, ts: fnp.sum(odeint(_weird_pendulum, y0, ts, **_GRAD_TOL) ** 2),
                 argnums=(0, 1))(np.array([1.0, 0.5]), ts)
    dirs = [RNG.normal(size=2), RNG.normal(size=3)]
    fd = _directional_fd(lambda y0, ts: np.sum(np.asarray(odeint(
        _weird_pendulum, y0, ts, **_GRAD_TOL)) ** 2), [np.array([1.0, 0.5]), ts], dirs)
    np.testing.assert_allclose(sum(float(g @ d) for g, d in zip(gw, dirs)), fd, rtol=1e-6)


def test_odeint_pytree_state_closed_form(backend):
    # JAX's pytree test: y' = -y for a tuple (scalar, (1, 1, 1) array): y(t) = y0 exp(-t)
    y0 = (backend.asarray(-0.1), backend.asarray([[[0.1]]]))
    t = np.linspace(0.0, 1.0, 3)
    out = odeint(lambda y, s: ft.tree.map(fnp.negative, y), y0, backend.asarray(t))
    assert isinstance(out, tuple) and tuple(out[1].shape) == (3, 1, 1, 1)
    _close(backend, out[0], -0.1 * np.exp(-t), rtol=1e-7)
    _close(backend, out[1], 0.1 * np.exp(-t)[:, None, None, None], rtol=1e-7)
    if not _full(backend):
        return

    def loss(y0, t):
        a, b = odeint(lambda y, s: ft.tree.map(fnp.negative, y), y0, t, **_GRAD_TOL)
        return a[-1] + 2 * fnp.sum(b[-1])
    (ga, gb), gt = ft.grad(loss, argnums=(0, 1))((np.array(-0.1), np.array([[[0.1]]])), t)
    e = math.exp(-1.0)
    np.testing.assert_allclose(ga, e, rtol=1e-8)
    np.testing.assert_allclose(gb, [[[2 * e]]], rtol=1e-8)
    # d/dt_last = (a + 2 b)'(1) = -(a + 2 b)(1) = -0.1 e; d/dt_0 is its opposite (the
    # system is autonomous); the middle time is not in the loss: 0
    np.testing.assert_allclose(gt, [0.1 * e, 0.0, -0.1 * e], rtol=1e-7, atol=1e-12)


def test_odeint_vmap_jit_and_closures(backend):
    if not _full(backend):
        pytest.skip("vmap and jit of odeint on NumPy (test_integrate_optimize runs torch)")
    # JAX's issue 2531: grad of a vmapped odeint; y' = 0.1 y, so d/dx sum y(5) = 2 e^0.5
    def g(x):
        y0s = fnp.stack([fnp.stack([x, 0.1]), fnp.stack([x, 0.2])])
        ys = ft.vmap(lambda y0: odeint(lambda y, t: 0.1 * y, y0, np.array([0.0, 5.0])))(y0s)
        return fnp.sum(ys[:, -1])
    batched = ft.grad(g)(2.0)
    np.testing.assert_allclose(batched, 2 * math.exp(0.5), rtol=1e-7)

    def single(x, y):  # each member takes its own steps: the batch is the sum of its members
        return fnp.sum(odeint(lambda y, t: 0.1 * y, fnp.stack([x, y]), np.array([0.0, 5.0]))[-1])
    np.testing.assert_allclose(batched, ft.grad(single)(2.0, 0.1) + ft.grad(single)(2.0, 0.2),
                               rtol=1e-12)
    # a closed-over rate, differentiated under vmap: d/dk exp(-k) = -exp(-k)
    ks = np.array([0.5, 1.0, 2.0])
    dk = ft.vmap(ft.grad(lambda k: odeint(lambda y, t: -k * y, np.array(1.0),
                                          np.array([0.0, 1.0]))[-1]))(ks)
    np.testing.assert_allclose(dk, -np.exp(-ks), rtol=1e-6)
    # a batch of time grids, and jit with the step-size bound
    tb = np.array([[0.0, 0.5, 1.0], [0.0, 1.0, 2.0]])
    ys = ft.vmap(lambda t: odeint(lambda y, s: -y, np.array(1.0), t))(tb)
    np.testing.assert_allclose(ys, np.exp(-tb), rtol=1e-7)
    staged = ft.jit(lambda y0: odeint(lambda y, s: -y, y0, np.array([0.0, 1.0]), hmax=0.1))
    np.testing.assert_allclose(staged(np.array([1.0, 2.0]))[-1], np.exp(-1.0) * np.array(
        [1.0, 2.0]), rtol=1e-7)
    # JAX's issue 2598: vmap of odeint with jit disabled; a closed-over integer stays out of
    # the adjoint's parameters
    with ft.disable_jit():
        ys = ft.vmap(lambda y0: odeint(lambda y, s: y, y0, np.array([0.0, 1.0])))(
            np.ones((5, 2)))
    np.testing.assert_allclose(ys[:, -1], np.full((5, 2), math.e), rtol=1e-7)
    n = 3
    np.testing.assert_allclose(ft.grad(lambda y0: odeint(lambda y, s: -n * y, y0, np.array(
        [0.0, 1.0]))[-1])(1.0), math.exp(-3.0), rtol=1e-7)


def test_odeint_tolerances_step_bounds_and_mxstep(backend):
    # JAX's hmax test: a right-hand side of 1 on [0, 2], -1 on [5, 7], 0 elsewhere; without
    # hmax the first steps stride over the pulse at 5 to 7
    def pulses(y, t):
        return fnp.where(t <= 2.0, 1.0, fnp.where((t >= 5.0) & (t <= 7.0), -1.0, 0.0)) + 0 * y
    if not _full(backend):
        pytest.skip("the step controls on NumPy (decay is odeint's representative)")
    ys = odeint(pulses, 0.0, np.array([0.0, 5.0, 10.0]), hmax=1.0)
    np.testing.assert_allclose(ys, [0.0, 2.0, 0.0], atol=1e-4)
    # the error follows the tolerances
    exact = math.exp(-10.0)
    loose = abs(float(odeint(lambda y, s: -y, 1.0, np.array([0.0, 10.0]), rtol=1e-4,
                             atol=1e-4)[-1]) - exact)
    tight = abs(float(odeint(lambda y, s: -y, 1.0, np.array([0.0, 10.0]), rtol=1e-11,
                             atol=1e-13)[-1]) - exact)
    assert tight < 1e-11 < loose < 1e-3
    # times not reached within mxstep steps are nan (JAX returns a state short of them)
    out = odeint(lambda y, s: -y, np.array([1.0]), np.array([0.0, 0.1, 100.0]), mxstep=3)
    assert np.isfinite(out[1]).all() and np.isnan(out[2]).all()
    with pytest.raises(ValueError, match="mxstep and hmax must be positive"):
        odeint(lambda y, s: -y, 1.0, np.array([0.0, 1.0]), mxstep=0)
    with pytest.raises(TypeError, match="complex states are not supported"):
        odeint(lambda y, s: 1j * y, np.array([1.0 + 0j]), np.array([0.0, 1.0]))


def test_odeint_side_by_side_with_jax():
    jax = _jax()
    import jax.numpy as jnp
    from jax.experimental.ode import odeint as jodeint

    def jpend(y, t, m, g):
        return jnp.stack([y[1], -m * y[1] - g * jnp.sin(y[0])])

    def pend(y, t, m, g):
        return fnp.stack([y[1], -m * y[1] - g * fnp.sin(y[0])])
    y0, t = np.array([np.pi - 0.1, 0.0]), np.linspace(0.0, 1.0, 4)
    np.testing.assert_allclose(odeint(pend, y0, t, 0.25, 9.8),
                               np.asarray(jodeint(jpend, y0, t, 0.25, 9.8)), rtol=1e-6,
                               atol=1e-7)
    ours = ft.grad(lambda m: fnp.sum(odeint(pend, y0, t, m, 9.8) ** 2))(0.25)
    theirs = jax.grad(lambda m: jnp.sum(jodeint(jpend, y0, t, m, 9.8) ** 2))(0.25)
    np.testing.assert_allclose(ours, np.asarray(theirs), rtol=1e-5)
