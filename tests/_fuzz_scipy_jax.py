"""Seeded random fuzzer: functrans.scipy's less-travelled modules against SciPy and jax.scipy (x64).

Not collected by pytest (leading underscore). Run from the repository root:

    PYTHONPATH=. python -m tests._fuzz_scipy_jax SEED0 SEED1 [--sections s1,s2] [--n N]

Seeds SEED0..SEED1-1, N cases per section per seed. Sections: interp, integrate, vq, rotation,
slerp, optimize, odeint, windows, spectral, detrend, ndimage, spline, sparse.
For each random case: values, dtypes, shapes and errors vs SciPy (and jax.scipy where it has
the function); derivatives (jvp vs central differences in float64, vjp by the dot-product
identity <u, J v> = <J^T u, v>, jacfwd vs jacrev, jit, vmap) and vs jax.scipy's where it has
the function. Prints one line per mismatch and a summary; exit status 1 on any.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
import warnings

import numpy as np
import scipy
import scipy.integrate
import scipy.interpolate
import scipy.ndimage
import scipy.optimize
import scipy.signal
import scipy.spatial.distance
import scipy.spatial.transform
import scipy.cluster.vq

import jax
import jax.numpy as jnp

jax.config.update("jax_enable_x64", True)
import jax.scipy.cluster.vq  # noqa: E402
import jax.scipy.integrate  # noqa: E402
import jax.scipy.interpolate  # noqa: E402
import jax.scipy.ndimage  # noqa: E402
import jax.scipy.optimize  # noqa: E402
import jax.scipy.signal  # noqa: E402
import jax.scipy.sparse.linalg  # noqa: E402
import jax.scipy.spatial.transform  # noqa: E402

import functrans as ft  # noqa: E402
import functrans.numpy as fnp  # noqa: E402
from functrans.scipy import integrate as fint  # noqa: E402
from functrans.scipy import interpolate as finterp  # noqa: E402
from functrans.scipy import ndimage as fnd  # noqa: E402
from functrans.scipy import optimize as fopt  # noqa: E402
from functrans.scipy import signal as fsig  # noqa: E402
from functrans.scipy.cluster import vq as fvq  # noqa: E402
from functrans.scipy.signal import windows as fwin  # noqa: E402
from functrans.scipy.sparse import linalg as fspl  # noqa: E402
from functrans.scipy.spatial import transform as ftr  # noqa: E402

warnings.simplefilter("ignore")

VERBOSE = bool(os.environ.get("FUZZ_VERBOSE"))
USE_JAX = True  # (False: SciPy, central differences and the identities only; fast)
from tests._fuzz_common import Tally, close_scaled as close, run_sections  # noqa: E402

TALLY = Tally()
FAILS, COUNTS, fail, count = TALLY.fails, TALLY.counts, TALLY.fail, TALLY.count


def expect(section, case, what, got, want, tol, dtype=True):
    got_a, want_a = np.asarray(got), np.asarray(want)
    if dtype and got_a.dtype != want_a.dtype:
        fail(section, case, f"{what}: dtype {got_a.dtype} vs {want_a.dtype}")
        return False
    ok, msg = close(got_a, want_a, tol)
    if not ok:
        fail(section, case, f"{what}: {msg}")
    return ok


def tol_of(dtype):
    return {"float32": 3e-5, "complex64": 3e-5, "float16": 2e-2}.get(np.dtype(dtype).name, 1e-10)


def rand(rng, shape, dtype="float64"):
    if np.dtype(dtype).kind == "c":
        return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dtype)
    if np.dtype(dtype).kind in "iu":
        return rng.integers(-4, 5, size=shape).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


def fd_jvp(f, args, tangents, eps=1e-6):
    """Central difference of f along the tangents (float64 arrays)."""
    plus = [a + eps * t for a, t in zip(args, tangents)]
    minus = [a - eps * t for a, t in zip(args, tangents)]
    return (np.asarray(f(*plus)) - np.asarray(f(*minus))) / (2 * eps)


def check_derivs(section, case, f, args, rng, f_jax=None, fd=True, fd_tol=1e-5, tol=1e-8,
                 second=False, jit=True, vmap=True):
    """f: float64 arrays -> one float64 array; checks jvp vs FD, vjp by the dot-product
    identity, jacfwd vs jacrev, jit of the vjp, and (with f_jax) jvp/vjp vs JAX's."""
    args = [np.asarray(a, dtype=np.float64) for a in args]
    try:
        y = np.asarray(f(*args))
        tangents = [rng.standard_normal(a.shape) for a in args]
        y2, t_out = ft.jvp(f, tuple(args), tuple(tangents))
        t_out = np.asarray(t_out)
        expect(section, case, "jvp primal", y2, y, 1e-12, dtype=False)
        if fd and y.size and np.all(np.isfinite(y)):
            want = fd_jvp(f, args, tangents)
            if np.all(np.isfinite(want)):
                count(section + "/fd")
                ok, msg = close(t_out, want, fd_tol)
                if not ok:
                    fail(section, case, f"jvp vs central differences: {msg}")
        u = rng.standard_normal(y.shape)
        if np.iscomplexobj(y):
            u = u + 1j * rng.standard_normal(y.shape)
        _, pullback = ft.vjp(f, *args)
        cts = pullback(u)
        # (JAX's convention: the cotangent pairs with the tangent without a conjugate)
        lhs = np.real(np.sum(u * t_out))
        rhs = sum(float(np.real(np.sum(np.asarray(c) * t))) for c, t in zip(cts, tangents))
        if np.isfinite(lhs) and not abs(lhs - rhs) <= 1e-8 * max(1.0, abs(lhs), abs(rhs)):
            fail(section, case, f"dot-product identity <u,Jv> {lhs!r} vs <J^T u,v> {rhs!r}")
        if jit:
            _, pull_j = ft.vjp(ft.jit(f), *args)
            for c, cj in zip(cts, pull_j(u)):
                expect(section, case, "jit vjp", cj, c, tol, dtype=False)
        if vmap:
            # two members, the second perturbed; each against the plain call
            pert = [a + 0.01 * t for a, t in zip(args, tangents)]
            stacked = [np.stack([a, b]) for a, b in zip(args, pert)]
            got_v = np.asarray(ft.vmap(f)(*stacked))
            expect(section, case, "vmap member 0", got_v[0], y, tol, dtype=False)
            expect(section, case, "vmap member 1", got_v[1], np.asarray(f(*pert)), tol,
                   dtype=False)
            count(section + "/vmap")
        if f_jax is not None and USE_JAX:
            count(section + "/jax")
            jy, jt = jax.jvp(f_jax, tuple(jnp.asarray(a) for a in args),
                             tuple(jnp.asarray(t) for t in tangents))
            expect(section, case, "value vs jax", y, np.asarray(jy), tol, dtype=False)
            expect(section, case, "jvp vs jax", t_out, np.asarray(jt), tol, dtype=False)
            _, jpull = jax.vjp(f_jax, *(jnp.asarray(a) for a in args))
            for c, jc in zip(cts, jpull(jnp.asarray(u))):
                expect(section, case, "vjp vs jax", c, np.asarray(jc), tol, dtype=False)
        if second and len(args) and y.size:
            def s(*a):
                return fnp.sum(fnp.sin(f(*a)))
            h_ft = np.asarray(ft.hessian(s)(*args[:1]) if len(args) == 1 else
                              ft.hessian(lambda a0: s(a0, *args[1:]))(args[0]))
            h_rev = np.asarray(ft.jacrev(ft.jacfwd(lambda a0: s(a0, *args[1:])))(args[0]))
            expect(section, case, "hessian vs jacrev(jacfwd)", h_ft, h_rev, 1e-8, dtype=False)
    except Exception as e:  # noqa: BLE001
        fail(section, case, f"derivative check raised {type(e).__name__}: {e}")
        if VERBOSE:
            traceback.print_exc()


def both_raise(section, case, ft_call, sp_call):
    """Both raise (any error) or both return; returns (ft_value, sp_value, ft_err, sp_err)."""
    ft_err = sp_err = None
    got = want = None
    try:
        got = ft_call()
    except Exception as e:  # noqa: BLE001
        ft_err = e
    try:
        want = sp_call()
    except Exception as e:  # noqa: BLE001
        sp_err = e
    if (ft_err is None) != (sp_err is None):
        fail(section, case, f"error mismatch: functrans {type(ft_err).__name__}: {ft_err} / "
                            f"scipy {type(sp_err).__name__}: {sp_err}")
    return got, want, ft_err, sp_err


SECTIONS = {}


def section(fn):
    SECTIONS[fn.__name__.removeprefix("sec_")] = fn
    return fn


# -- interpolate.RegularGridInterpolator -----------------------------------------------------

@section
def sec_interp(rng):
    d = int(rng.integers(1, 4))
    method = str(rng.choice(["linear", "nearest"]))
    lo = 2 if method == "linear" else 1
    sizes = [int(rng.integers(lo, 5)) for _ in range(d)]
    grid = []
    for n in sizes:
        g = np.cumsum(rng.random(n) + 0.1) - rng.random() * 2
        if rng.random() < 0.2:
            g = np.arange(n, dtype=float)
        grid.append(g)
    trail = tuple(int(rng.integers(0, 3)) for _ in range(int(rng.integers(0, 2))))
    vdtype = str(rng.choice(["float64"] * 4 + ["float32", "complex128", "int64"]))
    values = rand(rng, tuple(sizes) + trail, vdtype)
    fv_kind = int(rng.integers(0, 5))
    fill_value = [np.nan, None, 0.0, -2.5, 3][fv_kind]
    npts = int(rng.integers(0, 6))
    qshape = (npts, d) if rng.random() < 0.7 else (2, npts, d)
    xi = np.empty(qshape)
    for k in range(d):
        g = grid[k]
        span = g[-1] - g[0] if len(g) > 1 else 1.0
        xi[..., k] = g[0] + (rng.random(qshape[:-1]) * 1.6 - 0.3) * span
        # some exactly on grid points
        on = rng.random(qshape[:-1]) < 0.25
        xi[..., k] = np.where(on, rng.choice(g, size=qshape[:-1]), xi[..., k])
    if rng.random() < 0.1 and xi.size:
        xi.flat[int(rng.integers(0, xi.size))] = np.nan
    case = dict(grid=[g.tolist() for g in grid], trail=trail, vdtype=vdtype, method=method,
                fill_value=fill_value, xi=xi.tolist())
    count("interp")
    got, want, fe, se = both_raise(
        "interp", case,
        lambda: finterp.RegularGridInterpolator(grid, values, method=method,
                                                fill_value=fill_value)(xi),
        lambda: scipy.interpolate.RegularGridInterpolator(grid, values, method=method,
                                                          bounds_error=False,
                                                          fill_value=fill_value)(xi))
    if fe is None and se is None:
        tol = tol_of(values.dtype) if vdtype != "int64" else 1e-10
        expect("interp", case, "value vs scipy", got, want, tol,
               dtype=vdtype not in ("float32",))
        if vdtype == "float32" and USE_JAX:
            want_dt = np.asarray(jax.scipy.interpolate.RegularGridInterpolator(
                tuple(jnp.asarray(g) for g in grid), jnp.asarray(values), method=method,
                fill_value=fill_value)(jnp.asarray(xi))).dtype
            if np.asarray(got).dtype != want_dt:
                fail("interp", case, f"float32 dtype {np.asarray(got).dtype} vs jax {want_dt}")
    if vdtype == "float64" and xi.size and not np.isnan(xi).any() and fe is None:
        # derivatives in values, points and grid; away from kinks only for FD
        on_kink = any(np.any(np.isin(xi[..., k], grid[k])) for k in range(d))
        fvj = None if fill_value is None else fill_value

        def f(v, x, *g):
            return finterp.RegularGridInterpolator(g, v, method=method, fill_value=fvj)(x)

        def fj(v, x, *g):
            return jax.scipy.interpolate.RegularGridInterpolator(
                g, v, method=method, fill_value=fvj)(x)
        outside_edge = any(np.any(np.isclose(xi[..., k], grid[k][0]) |
                                  np.isclose(xi[..., k], grid[k][-1])) for k in range(d))
        use_jax = not outside_edge
        check_derivs("interp", case, f, [values, xi] + grid, rng,
                     f_jax=fj if use_jax else None, fd=not on_kink and method == "linear")



# -- integrate: trapezoid, cumulative_trapezoid, simpson -------------------------------------

@section
def sec_integrate(rng):
    nd = int(rng.integers(1, 4))
    shape = [int(rng.integers(1, 5)) for _ in range(nd)]
    axis = int(rng.integers(-nd, nd))
    if rng.random() < 0.15:
        shape[axis] = int(rng.integers(0, 2))
    ydt = str(rng.choice(["float64"] * 4 + ["float32", "int64", "complex128"]))
    y = rand(rng, tuple(shape), ydt)
    xkind = str(rng.choice(["none", "none", "1d", "full", "dx", "dxarr"]))
    x = None
    dx = 1.0
    n = shape[axis]
    if xkind == "1d":
        x = np.cumsum(rng.random(n) + 0.05)
        if rng.random() < 0.2 and n > 2:
            x[1] = x[0]  # a repeated sample point
        if rng.random() < 0.2:
            x = x[::-1].copy()
    elif xkind == "full":
        x = np.cumsum(rng.random(tuple(shape)) + 0.05, axis=axis)
    elif xkind == "dx":
        dx = float(rng.choice([0.5, 2.0, -1.0, 0.0, 3]))
    elif xkind == "dxarr":
        dx = np.float64(rng.choice([0.5, 2.0]))
    func = str(rng.choice(["trapezoid", "cumulative_trapezoid", "cumulative_trapezoid0",
                           "simpson"]))
    case = dict(shape=shape, axis=axis, ydt=ydt, xkind=xkind, x=None if x is None else x.tolist(),
                dx=dx, func=func)
    count("integrate")

    def call(mod, yy, xx, ddx):
        if func == "trapezoid":
            return mod.trapezoid(yy, x=xx, dx=ddx, axis=axis)
        if func == "simpson":
            return mod.simpson(yy, x=xx, dx=ddx, axis=axis)
        initial = 0 if func.endswith("0") else None
        return mod.cumulative_trapezoid(yy, x=xx, dx=ddx, axis=axis, initial=initial)
    got, want, fe, se = both_raise("integrate", case, lambda: call(fint, y, x, dx),
                                   lambda: call(scipy.integrate, y, x, dx))
    if fe is None and se is None:
        # SciPy 1.17's trapezoid casts x and dx to a float32 y's dtype; functrans's is NumPy's
        # and JAX's (promoted with x's, a float64 dx's)
        expect("integrate", case, "value vs scipy", got, want, tol_of(ydt),
               dtype=not (func == "trapezoid" and ydt == "float32"))
    if ydt == "float64" and fe is None and y.size:
        if x is None:
            check_derivs("integrate", case, lambda yy: call(fint, yy, None, dx), [y], rng,
                         f_jax=(lambda yy: jax.scipy.integrate.trapezoid(yy, dx=dx, axis=axis))
                         if func == "trapezoid" else None)
            if isinstance(dx, float) and dx != 0:
                check_derivs("integrate", case, lambda yy, d: call(fint, yy, None, d),
                             [y, np.float64(dx)], rng)
        else:
            check_derivs("integrate", case, lambda yy, xx: call(fint, yy, xx, dx), [y, x], rng,
                         f_jax=(lambda yy, xx: jax.scipy.integrate.trapezoid(yy, xx, axis=axis))
                         if func == "trapezoid" else None, fd=not (xkind == "1d" and n > 2
                                                                   and x[1] == x[0]))



# -- cluster.vq.vq ---------------------------------------------------------------------------

@section
def sec_vq(rng):
    nd = int(rng.integers(1, 3))
    m, k = int(rng.integers(0, 5)), int(rng.integers(1, 4))
    f = int(rng.integers(1, 4))
    dt = str(rng.choice(["float64", "float64", "float32", "int64"]))
    obs = rand(rng, (m, f) if nd == 2 else (m,), dt)
    book = rand(rng, (k, f) if nd == 2 else (k,), dt)
    if rng.random() < 0.3 and m and k:
        obs[0] = book[-1]  # an observation on a code
    case = dict(obs=obs.tolist(), book=book.tolist(), dt=dt)
    count("vq")
    got, want, fe, se = both_raise("vq", case, lambda: fvq.vq(obs, book),
                                   lambda: scipy.cluster.vq.vq(obs, book))
    if fe is None and se is None:
        if not np.array_equal(np.asarray(got[0]), want[0]):
            # a tie broken differently is allowed only where the distances tie
            fail("vq", case, f"codes {np.asarray(got[0])} vs scipy {want[0]}")
        if np.asarray(got[0]).dtype != want[0].dtype:
            fail("vq", case, f"code dtype {np.asarray(got[0]).dtype} vs {want[0].dtype}")
        expect("vq", case, "distances", got[1], want[1], tol_of(dt) * 10)
    if dt == "float64" and m:
        check_derivs("vq", case, lambda o, b: fvq.vq(o, b)[1], [obs, book], rng,
                     fd=not (obs[0] == book[-1]).all() if k else True)


# -- spatial.transform.Rotation --------------------------------------------------------------

def _rot_input(rng, kind, batch):
    if kind == "quat":
        q = rng.standard_normal(batch + (4,))
        if rng.random() < 0.2:
            q[..., :3] = 0.0  # the identity (or its negative)
        return q
    if kind == "matrix":
        return scipy.spatial.transform.Rotation.from_quat(
            rng.standard_normal(batch + (4,)).reshape(-1, 4)).as_matrix().reshape(batch + (3, 3))
    if kind == "rotvec":
        v = rng.standard_normal(batch + (3,)) * float(rng.choice([1e-5, 1e-2, 1, 3]))
        return v
    if kind == "mrp":
        return rng.standard_normal(batch + (3,)) * 0.7
    return rng.standard_normal(batch + (3,)) * 2


@section
def sec_rotation(rng):
    R, SR = ftr.Rotation, scipy.spatial.transform.Rotation
    batch = tuple(int(rng.integers(1, 3)) for _ in range(int(rng.integers(0, 3))))
    kind = str(rng.choice(["quat", "matrix", "rotvec", "mrp", "euler"]))
    seq = "".join(rng.choice(list("xyz"), 3))
    while seq[0] == seq[1] or seq[1] == seq[2]:
        seq = "".join(rng.choice(list("xyz"), 3))
    if rng.random() < 0.5:
        seq = seq.upper()
    data = _rot_input(rng, kind, batch)
    if kind == "euler" and rng.random() < 0.2:
        data[..., 1] = 0.0 if seq[0] == seq[2] else np.pi / 2  # gimbal lock
    deg = bool(rng.random() < 0.2) and kind in ("rotvec", "euler")
    out = str(rng.choice(["quat", "matrix", "rotvec", "mrp", "euler", "apply", "inv_apply",
                          "magnitude", "mul", "mean"]))
    oseq = "".join(rng.choice(list("xyz"), 3))
    while oseq[0] == oseq[1] or oseq[1] == oseq[2]:
        oseq = "".join(rng.choice(list("xyz"), 3))
    vec = rng.standard_normal((3,) if rng.random() < 0.5 else batch + (3,))
    case = dict(kind=kind, batch=batch, data=data.tolist(), seq=seq, deg=deg, out=out,
                oseq=oseq)
    count("rotation")

    def build(mod, d):
        if kind == "quat":
            return mod.from_quat(d)
        if kind == "matrix":
            return mod.from_matrix(d)
        if kind == "rotvec":
            return mod.from_rotvec(d, degrees=deg)
        if kind == "mrp":
            return mod.from_mrp(d)
        return mod.from_euler(seq, d, degrees=deg)

    def read(r, mod, d2):
        if out == "quat":
            return r.as_quat(canonical=True)
        if out == "matrix":
            return r.as_matrix()
        if out == "rotvec":
            return r.as_rotvec()
        if out == "mrp":
            return r.as_mrp()
        if out == "euler":
            return r.as_euler(oseq)
        if out == "apply":
            return r.apply(d2)
        if out == "inv_apply":
            return r.apply(d2, inverse=True)
        if out == "magnitude":
            return r.magnitude()
        if out == "mul":
            return (r * r.inv() * r).as_matrix()
        return r.mean().as_matrix()

    got, want, fe, se = both_raise("rotation", case, lambda: read(build(R, data), R, vec),
                                   lambda: read(build(SR, data), SR, vec))
    if fe is None and se is None:
        got = np.asarray(got)
        want = np.asarray(want)
        if out == "euler":
            # compare the rotations the angles give (Euler angles are not unique at lock)
            got = SR.from_euler(oseq, got.reshape(-1, 3)).as_matrix()
            want = SR.from_euler(oseq, want.reshape(-1, 3)).as_matrix()
        if out == "mrp":
            # at an angle of pi the two MRPs are one rotation
            got = SR.from_mrp(got.reshape(-1, 3)).as_matrix()
            want = SR.from_mrp(want.reshape(-1, 3)).as_matrix()
        expect("rotation", case, f"{kind} -> {out} vs scipy", got, want, 1e-9)
    if fe is None:
        def f(d, v):
            return read(build(R, d), R, v)

        def fj(d, v):
            return read(build(jax.scipy.spatial.transform.Rotation, d),
                        jax.scipy.spatial.transform.Rotation, v)
        near_lock = kind == "euler" and np.any(np.abs(data[..., 1] - (
            0.0 if seq[0] == seq[2] else np.pi / 2)) < 1e-3)
        smooth = out not in ("euler", "magnitude", "mean") and not near_lock
        jax_ok = out not in ("mean", "euler", "mrp") and kind != "mrp" and not near_lock \
            and not (kind == "rotvec" and np.abs(data).max() < 1e-3) and not (
                kind == "quat" and np.all(data[..., :3] == 0))
        check_derivs("rotation", case, f, [data, vec], rng, f_jax=fj if jax_ok else None,
                     fd=smooth, tol=1e-7)


@section
def sec_slerp(rng):
    n = int(rng.integers(2, 5))
    times = np.cumsum(rng.random(n) + 0.1)
    quats = rng.standard_normal((n, 4))
    m = int(rng.integers(0, 5))
    t = times[0] + rng.random(m) * (times[-1] - times[0])
    if m and rng.random() < 0.3:
        t[0] = times[int(rng.integers(0, n))]
    scalar = rng.random() < 0.2
    tq = float(t[0]) if scalar and m else t
    case = dict(times=times.tolist(), quats=quats.tolist(), t=t.tolist(), scalar=scalar)
    count("slerp")
    SR = scipy.spatial.transform
    got, want, fe, se = both_raise(
        "slerp", case,
        lambda: ftr.Slerp(times, ftr.Rotation.from_quat(quats))(tq).as_matrix(),
        lambda: SR.Slerp(times, SR.Rotation.from_quat(quats))(tq).as_matrix())
    if fe is None and se is None:
        expect("slerp", case, "vs scipy", got, want, 1e-9)
    if fe is None and m:
        def f(tt, kt, q):
            return ftr.Slerp(kt, ftr.Rotation.from_quat(q))(tt).as_matrix()

        def fj(tt, kt, q):
            JR = jax.scipy.spatial.transform
            return JR.Slerp.init(kt, JR.Rotation.from_quat(q))(tt).as_matrix()
        on_key = np.any(np.isin(t, times))
        check_derivs("slerp", case, f, [t, times, quats], rng, f_jax=None if on_key else fj,
                     fd=not on_key, jit=False, vmap=False)



# -- optimize.minimize -----------------------------------------------------------------------

def _problem(rng):
    kind = str(rng.choice(["quad", "rosen", "logsumexp", "quartic"]))
    n = int(rng.integers(1, 5))
    if kind == "quad":
        m = rng.standard_normal((n, n))
        a = m @ m.T + n * np.eye(n) * float(rng.choice([0.1, 1, 10]))
        b = rng.standard_normal(n)

        def f(x, b, a=a):
            return 0.5 * fnp.sum(x * fnp.matmul(fnp.asarray(a), x)) - fnp.sum(b * x)

        def fs(x, b):
            return 0.5 * x @ a @ x - b @ x
        return kind, n, f, fs, b, np.linalg.solve(a, b), np.linalg.inv(a)
    if kind == "rosen":
        n = max(n, 2)
        b = 1.0 + 0.2 * rng.standard_normal(n - 1)

        def f(x, b):
            return fnp.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (b - x[:-1]) ** 2)

        def fs(x, b):
            return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (b - x[:-1]) ** 2)
        return kind, n, f, fs, b, None, None
    if kind == "logsumexp":
        b = rng.standard_normal(n)

        def f(x, b):
            return fnp.log(fnp.sum(fnp.exp(x - b))) + 0.5 * fnp.sum(x * x)

        def fs(x, b):
            return np.log(np.sum(np.exp(x - b))) + 0.5 * x @ x
        return kind, n, f, fs, b, None, None
    b = rng.standard_normal(n)

    def f(x, b):
        return fnp.sum((x - b) ** 4) + fnp.sum((x - b) ** 2)

    def fs(x, b):
        return np.sum((x - b) ** 4) + np.sum((x - b) ** 2)
    return kind, n, f, fs, b, b, None


@section
def sec_optimize(rng):
    kind, n, f, fs, b, xstar, dxdb = _problem(rng)
    method = str(rng.choice(["BFGS", "bfgs", "l-bfgs-experimental-do-not-rely-on-this"]))
    x0 = rng.standard_normal(n) * 0.5
    opts = {}
    if rng.random() < 0.3:
        opts["maxiter"] = int(rng.choice([0, 1, 5]))
    tol = float(rng.choice([1e-6, 1e-9])) if rng.random() < 0.3 else None
    case = dict(kind=kind, n=n, b=b.tolist(), x0=x0.tolist(), method=method, opts=opts, tol=tol)
    count("optimize")
    try:
        r = fopt.minimize(f, x0, (b,), method=method, tol=tol, options=opts)
    except Exception as e:  # noqa: BLE001
        fail("optimize", case, f"raised {type(e).__name__}: {e}")
        return
    x = np.asarray(r.x)
    if not np.isclose(float(r.fun), fs(x, b), rtol=1e-12, atol=1e-12):
        fail("optimize", case, f"fun {float(r.fun)} is not fun(x) {fs(x, b)}")
    maxiter = opts.get("maxiter")
    if maxiter is not None and int(r.nit) > maxiter:
        fail("optimize", case, f"nit {int(r.nit)} > maxiter {maxiter}")
    if bool(r.success):
        gnorm = float(np.max(np.abs(np.asarray(r.jac))))
        if not gnorm < (tol or 1e-5):
            fail("optimize", case, f"success with |g| {gnorm}")
        ref = scipy.optimize.minimize(fs, x0, (b,), method="BFGS", jac="3-point",
                                      options=dict(gtol=1e-10))
        if ref.success and not np.allclose(x, ref.x, atol=1e-3, rtol=1e-3):
            fail("optimize", case, f"x {x} vs scipy {ref.x}")
        if xstar is not None and not np.allclose(x, xstar, atol=1e-3 if kind != "quartic"
                                                 else 1e-2):
            fail("optimize", case, f"x {x} vs the minimum {xstar}")
    elif maxiter is None and kind != "rosen":
        gnorm = float(np.max(np.abs(np.asarray(r.jac))))
        if int(r.status) == 3 and tol is not None and tol < 1e-8 and gnorm < 1e-6:
            # (the line search stopped: a gradient tolerance below what f's rounding lets a
            # value-based line search reach, |g| ~ sqrt(eps |f| curvature) ~ 1e-8)
            count("optimize/tol-below-rounding")
        else:
            fail("optimize", case, f"no success on a smooth convex problem: status "
                                   f"{int(r.status)}, |g| {gnorm}")
    if kind == "quad" and maxiter is None and bool(r.success):
        # the solution's derivative in b by differentiating the iterations: A^-1 (implicit)
        tg = tol or 1e-5
        try:
            jac = np.asarray(ft.jacfwd(lambda bb: fopt.minimize(
                f, x0, (bb,), method=method, options=dict(gtol=1e-10)).x)(b))
            if not np.allclose(jac, dxdb, atol=1e-5 * max(1, np.abs(dxdb).max())):
                fail("optimize", case, f"jacfwd of x* in b {jac} vs A^-1 {dxdb} (tol {tg})")
            jr = np.asarray(ft.jacrev(lambda bb: fopt.minimize(
                f, x0, (bb,), method=method, options=dict(gtol=1e-10)).x)(b))
            if not np.allclose(jr, jac, atol=1e-8 * max(1, np.abs(jac).max())):
                fail("optimize", case, f"jacrev {jr} vs jacfwd {jac}")
        except Exception as e:  # noqa: BLE001
            fail("optimize", case, f"derivative raised {type(e).__name__}: {e}")
    if rng.random() < 0.3:
        # jit and vmap over starting points agree with the eager solve
        try:
            rj = ft.jit(lambda xx, bb: fopt.minimize(f, xx, (bb,), method=method, tol=tol,
                                                     options=opts).x)(x0, b)
            # (a gradient tolerance below 1e-8 stops at f's rounding, where jit's and the
            # eager run's last-bit differences take different last steps)
            xtol = 1e-9 if tol is None or tol >= 1e-8 else 1e-7
            expect("optimize", case, "jit x", rj, x, xtol)
            xs = np.stack([x0, x0 * 0.5])
            rv = ft.vmap(lambda xx: fopt.minimize(f, xx, (b,), method=method, tol=tol,
                                                  options=opts).x)(xs)
            expect("optimize", case, "vmap x[0]", np.asarray(rv)[0], x, xtol)
        except Exception as e:  # noqa: BLE001
            fail("optimize", case, f"jit/vmap raised {type(e).__name__}: {e}")



# -- signal.windows --------------------------------------------------------------------------

_WINDOWS = [("boxcar", ()), ("triang", ()), ("parzen", ()), ("bohman", ()), ("blackman", ()),
            ("nuttall", ()), ("blackmanharris", ()), ("flattop", ()), ("bartlett", ()),
            ("hann", ()), ("hamming", ()), ("barthann", ()), ("cosine", ()), ("lanczos", ()),
            ("kaiser", ("beta",)), ("kaiser_bessel_derived", ("beta",)),
            ("gaussian", ("std",)), ("general_gaussian", ("p", "sig")),
            ("general_cosine", ("a",)), ("general_hamming", ("alpha",)),
            ("exponential", ("center", "tau")), ("tukey", ("alpha",)), ("chebwin", ("at",)),
            ("taylor", ("nbar", "sll")), ("dpss", ("NW",))]
_DIFFABLE = {"kaiser", "gaussian", "general_gaussian", "general_cosine", "general_hamming",
             "exponential", "tukey"}


def _window_params(rng, name):
    if name == "kaiser":
        return [float(rng.choice([0.0, 0.5, 5.0, 14.0]))]
    if name == "kaiser_bessel_derived":
        return [float(rng.choice([0.5, 5.0, 14.0]))]
    if name == "gaussian":
        return [float(rng.choice([0.5, 2.0, 7.0]))]
    if name == "general_gaussian":
        return [float(rng.choice([0.5, 1.0, 1.5, 3.0])), float(rng.choice([1.0, 5.0]))]
    if name == "general_cosine":
        return [list(rng.random(int(rng.integers(1, 4))))]
    if name == "general_hamming":
        return [float(rng.choice([0.0, 0.5, 0.54, 1.0]))]
    if name == "exponential":
        return [None if rng.random() < 0.5 else float(rng.random() * 4),
                float(rng.choice([0.5, 1.0, 3.0]))]
    if name == "tukey":
        return [float(rng.choice([0.0, 0.25, 0.5, 1.0, 1.5, -0.5]))]
    if name == "chebwin":
        return [float(rng.choice([30.0, 50.0, 100.0]))]
    if name == "taylor":
        return [int(rng.choice([2, 4, 6])), float(rng.choice([20.0, 30.0, 60.0]))]
    if name == "dpss":
        return [float(rng.choice([1.0, 2.5, 4.0]))]
    return []


@section
def sec_windows(rng):
    name, pnames = _WINDOWS[int(rng.integers(0, len(_WINDOWS)))]
    M = int(rng.choice([0, 1, 2, 3, 4, 5, 6, 7, 8, 16, 33]))
    sym = bool(rng.random() < 0.5)
    params = _window_params(rng, name)
    via = str(rng.choice(["direct", "get_window"]))
    case = dict(name=name, M=M, sym=sym, params=params, via=via)
    if name == "exponential" and sym and params[0] is not None:
        params[0] = None  # (SciPy refuses a center with sym=True)
    if via == "get_window" and M == 0:
        M = 1
    count("windows")
    if via == "direct":
        kw = {} if name in ("lanczos", "kaiser_bessel_derived") else {}
        got, want, fe, se = both_raise(
            "windows", case, lambda: getattr(fwin, name)(M, *params, sym=sym, **kw),
            lambda: getattr(scipy.signal.windows, name)(M, *params, sym=sym, **kw))
    else:
        win = name if not params else (name,) + tuple(
            p for p in params if not (name == "exponential" and p is None))
        if name == "exponential":
            win = (name, None, params[1]) if params[0] is None else (name,) + tuple(params)
        got, want, fe, se = both_raise(
            "windows", case, lambda: fsig.get_window(win, M, fftbins=not sym),
            lambda: scipy.signal.get_window(win, M, fftbins=not sym))
    if fe is None and se is None:
        expect("windows", case, "vs scipy", got, want, 1e-12 if name != "dpss" else 1e-9)
    if name in _DIFFABLE and fe is None and M > 1 and via == "direct" and name != "general_cosine":
        idx = [i for i, p in enumerate(params) if p is not None]
        if name == "tukey" and not 0 < params[0] < 1:
            return

        def f(*ps):
            full = list(params)
            for i, p in zip(idx, ps):
                full[i] = p
            return getattr(fwin, name)(M, *full, sym=sym)
        check_derivs("windows", case, f, [np.float64(params[i]) for i in idx], rng,
                     fd=not (name == "kaiser" and params[0] == 0.0))



# -- signal: welch, csd, stft, istft, detrend ------------------------------------------------

def _spectral_window(rng, nperseg):
    r = rng.random()
    if r < 0.4:
        return "hann_periodic" if rng.random() < 0.5 else "hann"
    if r < 0.6:
        return str(rng.choice(["hamming", "boxcar", "blackman", "bartlett", "flattop"]))
    if r < 0.8:
        return (str(rng.choice(["tukey", "kaiser", "gaussian"])), float(rng.choice([0.25, 2.0])))
    return rng.random(nperseg) + 0.1


@section
def sec_spectral(rng):
    nd = int(rng.integers(1, 3))
    n = int(rng.integers(1, 24))
    shape = [int(rng.integers(1, 3)) for _ in range(nd)]
    axis = int(rng.integers(-nd, nd))
    shape[axis] = n
    dt = str(rng.choice(["float64", "float64", "float32", "complex128"]))
    x = rand(rng, tuple(shape), dt)
    func = str(rng.choice(["welch", "csd", "stft", "istft"]))
    nperseg = int(rng.integers(1, n + 1)) if rng.random() < 0.9 else n + 2
    noverlap = int(rng.integers(0, nperseg)) if rng.random() < 0.5 else None
    nfft = nperseg + int(rng.integers(0, 3)) if rng.random() < 0.3 else None
    window = _spectral_window(rng, nperseg)
    detrend = rng.choice(["constant", "linear", False], p=[0.4, 0.3, 0.3])
    detrend = False if detrend == "False" else str(detrend)
    onesided = bool(rng.random() < 0.7)
    fs = float(rng.choice([1.0, 2.5]))
    case = dict(func=func, shape=shape, axis=axis, dt=dt, nperseg=nperseg, noverlap=noverlap,
                nfft=nfft, window=window if not hasattr(window, "tolist") else window.tolist(),
                detrend=detrend, onesided=onesided, fs=fs)
    count("spectral")
    if func in ("welch", "csd"):
        scaling = str(rng.choice(["density", "spectrum"]))
        average = str(rng.choice(["mean", "mean", "median"]))
        y = rand(rng, tuple(shape), dt) if func == "csd" else None
        case.update(scaling=scaling, average=average)

        def call(mod, xx, yy):
            kw = dict(fs=fs, window=window, nperseg=nperseg, noverlap=noverlap, nfft=nfft,
                      detrend=detrend, return_onesided=onesided, scaling=scaling, axis=axis,
                      average=average)
            if func == "welch":
                return mod.welch(xx, **kw)
            return mod.csd(xx, yy, **kw)
    elif func == "stft":
        boundary = rng.choice(["zeros", "even", "odd", "constant", None])
        boundary = None if boundary is None else str(boundary)
        padded = bool(rng.random() < 0.7)
        scaling = str(rng.choice(["spectrum", "psd"]))
        y = None
        case.update(boundary=boundary, padded=padded, scaling=scaling)

        def call(mod, xx, yy):
            return mod.stft(xx, fs=fs, window=window, nperseg=nperseg, noverlap=noverlap,
                            nfft=nfft, detrend=detrend, return_onesided=onesided,
                            boundary=boundary, padded=padded, axis=axis, scaling=scaling)
    else:
        scaling = str(rng.choice(["spectrum", "psd"]))
        y = None
        try:
            x = scipy.signal.stft(x, fs=fs, window=window, nperseg=nperseg, noverlap=noverlap,
                                  nfft=nfft, return_onesided=onesided and dt != "complex128",
                                  axis=-1, scaling=scaling)[2]
        except ValueError:
            x = rand(rng, (3, 4), "complex128")
        input_onesided = onesided and dt != "complex128"
        if input_onesided and x.shape[-2] == 1 and nfft is None and nperseg > 1:
            # SciPy's nfft 0 there gives no inverse; functrans asks for nfft (ValueError)
            return
        case.update(scaling=scaling, input_onesided=input_onesided)
        if dt == "float32":
            x = x.astype(np.complex64)

        def call(mod, xx, yy):
            return mod.istft(xx, fs=fs, window=window, nperseg=nperseg, noverlap=noverlap,
                             nfft=nfft, input_onesided=input_onesided, scaling=scaling)
    got, want, fe, se = both_raise("spectral", case, lambda: call(fsig, x, y),
                                   lambda: call(scipy.signal, x, y))
    if fe is None and se is None:
        for k, (g, w) in enumerate(zip(got, want)):
            w = np.asarray(w)
            expect("spectral", case, f"output {k} vs scipy", g, w,
                   tol_of(w.dtype) * (30 if dt == "float32" else 1) if k else 1e-12)
    if fe is None and dt == "float64" and func != "istft" and x.size and n >= 2:
        def f(xx, *yy):
            return call(fsig, xx, yy[0] if yy else None)[-1]

        def jax_welch(xx, *yy):
            return call(jax.scipy.signal, xx, yy[0] if yy else None)[-1]

        def jax_stft(xx):
            return jax.scipy.signal.stft(
                xx, fs=fs, window=window, nperseg=nperseg, noverlap=noverlap, nfft=nfft,
                detrend=detrend, return_onesided=onesided, boundary=boundary,
                padded=padded, axis=axis)[-1]
        jf = None
        if func in ("welch", "csd") and isinstance(window, str):
            jf = jax_welch
        if func == "stft" and isinstance(window, str) and scaling == "spectrum" and \
                boundary != "constant":
            jf = jax_stft
        check_derivs("spectral", case, f, [x] + ([y] if y is not None else []), rng,
                     f_jax=jf, fd=not (func in ("welch", "csd") and average == "median"),
                     jit=True)


@section
def sec_detrend(rng):
    nd = int(rng.integers(1, 4))
    shape = [int(rng.integers(0 if rng.random() < 0.1 else 1, 7)) for _ in range(nd)]
    axis = int(rng.integers(-nd, nd))
    dt = str(rng.choice(["float64", "float64", "float32", "complex128", "int64"]))
    x = rand(rng, tuple(shape), dt)
    typ = str(rng.choice(["linear", "l", "constant", "c"]))
    n = shape[axis]
    bp = 0
    if typ in ("linear", "l") and rng.random() < 0.4:
        bp = sorted(set(int(v) for v in rng.integers(0, n + 1, size=int(rng.integers(1, 3)))))
    case = dict(shape=shape, axis=axis, dt=dt, type=typ, bp=bp)
    count("detrend")
    if n == 0 and typ in ("linear", "l"):
        # SciPy's linear detrend of no samples fails reshaping; functrans returns the data
        assert fsig.detrend(x, axis=axis, type=typ, bp=bp).shape == x.shape
        return
    got, want, fe, se = both_raise("detrend", case,
                                   lambda: fsig.detrend(x, axis=axis, type=typ, bp=bp),
                                   lambda: scipy.signal.detrend(x, axis=axis, type=typ, bp=bp))
    if fe is None and se is None:
        expect("detrend", case, "vs scipy", got, want, tol_of(np.asarray(want).dtype) * 10)
    if fe is None and dt == "float64" and x.size:
        check_derivs("detrend", case, lambda xx: fsig.detrend(xx, axis=axis, type=typ, bp=bp),
                     [x], rng, f_jax=(lambda xx: jax.scipy.signal.detrend(
                         xx, axis=axis, type={"l": "linear", "c": "constant"}.get(typ, typ),
                         bp=bp)) if not bp else None)



# -- ndimage: map_coordinates, spline_filter -------------------------------------------------

_ND_MODES = ["constant", "nearest", "wrap", "mirror", "reflect", "grid-constant", "grid-wrap",
             "grid-mirror"]


@section
def sec_ndimage(rng):
    nd = int(rng.integers(1, 4))
    shape = tuple(int(rng.integers(1, 6)) for _ in range(nd))
    order = int(rng.integers(0, 6))
    mode = str(rng.choice(_ND_MODES))
    dt = str(rng.choice(["float64", "float64", "float32", "int64", "complex128"]))
    x = rand(rng, shape, dt)
    m = int(rng.integers(0, 6))
    coords = np.stack([rng.random(m) * (n + 3) - 1.5 for n in shape])
    if m and rng.random() < 0.3:
        coords[:, 0] = np.round(coords[:, 0] * 2) / 2  # half-integers and integers
    cval = float(rng.choice([0.0, 1.5, -2.0]))
    prefilter = bool(rng.random() < 0.8)
    case = dict(shape=shape, order=order, mode=mode, dt=dt, coords=coords.tolist(), cval=cval,
                prefilter=prefilter)
    count("ndimage")
    # order <= 1: 'constant' and 'wrap' are JAX's (SciPy's 'grid-constant' and 'grid-wrap')
    sp_mode = {"constant": "grid-constant", "wrap": "grid-wrap"}.get(mode, mode) \
        if order <= 1 else mode
    got, want, fe, se = both_raise(
        "ndimage", case,
        lambda: fnd.map_coordinates(x, list(coords), order, mode=mode, cval=cval,
                                    prefilter=prefilter),
        lambda: scipy.ndimage.map_coordinates(x, coords, order=order, mode=sp_mode, cval=cval,
                                              prefilter=prefilter))
    if fe is None and se is None:
        w = np.asarray(want)
        tol = tol_of(w.dtype) * 10 if dt != "int64" else 0
        if dt == "int64":
            # rounding of values within rounding error of a half may differ by 1
            tol = 1.0 / max(1.0, float(np.abs(w).max()) if w.size else 1.0)
        expect("ndimage", case, "vs scipy", got, w, tol)
    if fe is None and dt == "float64" and m:
        frac = coords - np.floor(coords)
        on_knot = np.any(np.isclose(frac, 0.0) | np.isclose(frac, 1.0) |
                         (np.isclose(frac, 0.5) if order in (0, 2, 4) else False))

        def f(xx, c):
            return fnd.map_coordinates(xx, list(c), order, mode=mode, cval=cval,
                                       prefilter=prefilter)

        def jax_map(xx, c):
            return jax.scipy.ndimage.map_coordinates(xx, list(c), order, mode=mode, cval=cval)
        jf = None
        if order <= 1 and not on_knot and mode not in ("grid-constant", "grid-wrap",
                                                       "grid-mirror"):
            jf = jax_map
        check_derivs("ndimage", case, f, [x, coords], rng, f_jax=jf,
                     fd=not on_knot and order > 0 and not (order == 1 and mode in (
                         "mirror", "reflect", "grid-mirror"))
                     , fd_tol=1e-5)


@section
def sec_spline(rng):
    nd = int(rng.integers(1, 4))
    shape = tuple(int(rng.integers(1, 7)) for _ in range(nd))
    order = int(rng.integers(0, 6))
    mode = str(rng.choice(_ND_MODES))
    dt = str(rng.choice(["float64", "float64", "float32", "complex128", "int64"]))
    out = str(rng.choice(["float64", "float32"]))
    x = rand(rng, shape, dt)
    one = rng.random() < 0.5
    axis = int(rng.integers(-nd, nd))
    case = dict(shape=shape, order=order, mode=mode, dt=dt, out=out, one=one, axis=axis)
    count("spline")
    if one:
        got, want, fe, se = both_raise(
            "spline", case,
            lambda: fnd.spline_filter1d(x, order, axis=axis, output=np.dtype(out), mode=mode),
            lambda: scipy.ndimage.spline_filter1d(x, order, axis=axis, output=np.dtype(out)
                                                  if dt != "complex128" else None, mode=mode))
    else:
        got, want, fe, se = both_raise(
            "spline", case,
            lambda: fnd.spline_filter(x, order, output=np.dtype(out), mode=mode),
            lambda: scipy.ndimage.spline_filter(x, order, output=np.dtype(out)
                                                if dt != "complex128" else None, mode=mode))
    if fe is None and se is None:
        w = np.asarray(want)
        g = np.asarray(got)
        expect("spline", case, "vs scipy", g, w, 1e-5 if "32" in str(w.dtype) + out else 1e-10,
               dtype=dt != "complex128")



# -- sparse.linalg: cg, bicgstab, gmres ------------------------------------------------------

@section
def sec_sparse(rng):
    n = int(rng.integers(1, 7))
    solver = str(rng.choice(["cg", "bicgstab", "gmres"]))
    dt = str(rng.choice(["float64", "float64", "complex128"]))
    m = rand(rng, (n, n), dt)
    if solver == "cg":
        a = m @ m.conj().T + n * np.eye(n)
    else:
        a = m + (n + 1) * np.eye(n)
    b = rand(rng, (n,), dt)
    use_x0 = rng.random() < 0.3
    x0 = rand(rng, (n,), dt) if use_x0 else None
    use_m = rng.random() < 0.3
    precond = np.diag(1.0 / np.diag(a)) if use_m else None
    as_fn = rng.random() < 0.4
    tol = float(rng.choice([1e-5, 1e-10]))
    case = dict(n=n, solver=solver, dt=dt, a=a.tolist(), b=b.tolist(), x0=use_x0, M=use_m,
                as_fn=as_fn, tol=tol)
    count("sparse")
    fsolve = getattr(fspl, solver)
    A = (lambda v: fnp.matmul(fnp.asarray(a), v)) if as_fn else a
    try:
        x, info = fsolve(A, b, x0, tol=tol, atol=0.0, M=precond)
    except Exception as e:  # noqa: BLE001
        fail("sparse", case, f"raised {type(e).__name__}: {e}")
        return
    x = np.asarray(x)
    want = np.linalg.solve(a, b)
    res = np.linalg.norm(a @ x - b) / max(np.linalg.norm(b), 1e-300)
    if not res < max(tol, 1e-12) * 50 * np.linalg.cond(a):
        fail("sparse", case, f"relative residual {res:.3g} (tol {tol})")
    if x.dtype != np.result_type(a.dtype, b.dtype):
        fail("sparse", case, f"dtype {x.dtype}")
    if dt == "float64" and tol == 1e-10:
        # derivatives of the solution: in b (A^-1) and in A (-A^-1 dA x)
        def f(aa, bb):
            return fsolve(aa, bb, tol=1e-12)[0]
        try:
            check_derivs("sparse", case, f, [a, b], rng, fd=True, fd_tol=1e-5, tol=1e-6)
            jt = ft.jvp(lambda bb: fsolve(a, bb, tol=1e-12)[0], (b,), (b,))[1]
            expect("sparse", case, "jvp in b vs solve", jt, want, 1e-7, dtype=False)
        except Exception as e:  # noqa: BLE001
            fail("sparse", case, f"derivative raised {type(e).__name__}: {e}")



# -- integrate.odeint ------------------------------------------------------------------------

@section
def sec_odeint(rng):
    kind = str(rng.choice(["linear", "pendulum", "logistic"]))
    n = int(rng.integers(1, 4)) if kind == "linear" else (2 if kind == "pendulum" else 1)
    a = rng.standard_normal((n, n)) * 0.5
    y0 = rng.standard_normal(n)
    nt = int(rng.integers(1, 5))
    direction = -1.0 if rng.random() < 0.2 else 1.0
    t = np.concatenate([[0.0], np.cumsum(rng.random(nt - 1) + 0.05)]) * direction
    if nt > 2 and rng.random() < 0.2:
        t[2] = t[1]  # a repeated time
    k = float(rng.random() + 0.5)
    tfirst = bool(rng.random() < 0.3)
    case = dict(kind=kind, n=n, a=a.tolist(), y0=y0.tolist(), t=t.tolist(), k=k,
                tfirst=tfirst)
    count("odeint")

    def rhs(y, tt, kk, aa):
        if kind == "linear":
            return fnp.matmul(aa, y) * kk
        if kind == "pendulum":
            return fnp.stack([y[1], -kk * fnp.sin(y[0])])
        return kk * y * (1 - y)

    def rhs_np(y, tt, kk, aa):
        if kind == "linear":
            return aa @ y * kk
        if kind == "pendulum":
            return np.array([y[1], -kk * np.sin(y[0])])
        return kk * y * (1 - y)
    if kind == "logistic":
        y0 = np.abs(y0) * 0.5 + 0.1
    func = (lambda tt, y, kk, aa: rhs(y, tt, kk, aa)) if tfirst else rhs
    try:
        got = np.asarray(fint.odeint(func, y0, t, (k, a), rtol=1e-10, atol=1e-10,
                                     tfirst=tfirst))
    except Exception as e:  # noqa: BLE001
        fail("odeint", case, f"raised {type(e).__name__}: {e}")
        return
    want = scipy.integrate.odeint(rhs_np, y0, t, (k, a), rtol=1e-11, atol=1e-11)
    expect("odeint", case, "vs scipy", got, want, 1e-7)

    def f(yy0, tt, kk, aa):
        return fint.odeint(rhs, yy0, tt, (kk, aa), rtol=1e-10, atol=1e-10)
    if nt >= 2:
        check_derivs("odeint", case, f, [y0, t, np.float64(k), a], rng, fd=True, fd_tol=1e-5,
                     tol=1e-6, jit=False)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("seed0", type=int, nargs="?", default=0)
    p.add_argument("seed1", type=int, nargs="?", default=None)
    p.add_argument("--sections", default=",".join(SECTIONS))
    p.add_argument("--n", type=int, default=20)
    a = p.parse_args()
    seed1 = a.seed0 + 1 if a.seed1 is None else a.seed1
    names = [s for s in a.sections.split(",") if s]
    return run_sections(SECTIONS, TALLY, a.seed0, seed1, names, a.n, VERBOSE)


if __name__ == "__main__":
    sys.exit(main())
