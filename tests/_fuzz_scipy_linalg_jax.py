"""Seeded random fuzzer: functrans.scipy.linalg against SciPy and jax.scipy.linalg (x64).

Not collected by pytest (leading underscore). Run from the repository root:

    PYTHONPATH=. python -m tests._fuzz_scipy_linalg_jax SEED0 [SEED1] [--only NAME[,NAME]] [--n N]

Seeds SEED0..SEED1-1, N cases per function per seed. For each random case: values, dtypes,
shapes and errors vs SciPy (batched cases against SciPy's call on each matrix of the stack);
derivatives in float64 (jvp vs central differences, vjp by the dot-product identity
<u, J v> = <J^T u, v>, jit of the vjp, vmap of two members, a Hessian vs jacrev(jacfwd)) and
jvp/vjp vs jax.scipy.linalg where JAX has the function. Prints one line per mismatch and the
counts; exit status 1 on any mismatch.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
import warnings

import numpy as np
import scipy.linalg as sla

import jax
import jax.numpy as jnp

jax.config.update("jax_enable_x64", True)
import jax.scipy.linalg as jsl  # noqa: E402

import functrans as ft  # noqa: E402
import functrans.numpy as fnp  # noqa: E402
import functrans.scipy.linalg as fsl  # noqa: E402
from tests._fuzz_common import Tally, close_scaled as close, run_sections  # noqa: E402

warnings.simplefilter("ignore")

VERBOSE = bool(os.environ.get("FUZZ_VERBOSE"))
TALLY = Tally()
FAILS, COUNTS, fail, count = TALLY.fails, TALLY.counts, TALLY.fail, TALLY.count


# -- helpers ----------------------------------------------------------------------------------

FLOATS = ["float64", "float64", "float64", "float32", "complex128", "complex64"]
ALL_DTYPES = FLOATS + ["int64", "int32", "int16", "bool"]


def tol_of(dtype):
    return {"float32": 2e-4, "complex64": 2e-4}.get(np.dtype(dtype).name, 1e-9)


def rand(rng, shape, dtype="float64"):
    dt = np.dtype(dtype)
    if dt.kind == "c":
        return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dt)
    if dt.kind == "b":
        return rng.random(shape) < 0.5
    if dt.kind in "iu":
        return rng.integers(-4, 5, size=shape).astype(dt)
    return rng.standard_normal(shape).astype(dt)


def well(rng, shape, dtype="float64"):
    """Random square matrices, well conditioned (a shifted diagonal)."""
    n = shape[-1]
    a = rand(rng, shape, dtype)
    if np.dtype(dtype).kind in "fc":
        a = a + (2.0 + np.sqrt(n)) * np.eye(n, dtype=dtype)
    elif np.dtype(dtype).kind in "iu":
        a = a + (3 + 2 * n) * np.eye(n, dtype=dtype)
    return a


def spd(rng, shape, dtype="float64"):
    n = shape[-1]
    x = rand(rng, shape, "complex128" if np.dtype(dtype).kind == "c" else "float64")
    a = x @ np.conj(np.swapaxes(x, -1, -2)) + n * np.eye(n)
    return a.astype(dtype)


def batch_shape(rng, p=0.25):
    if rng.random() < p:
        return tuple(int(rng.integers(1, 4)) for _ in range(int(rng.integers(1, 3))))
    return ()


def size(rng, lo=1, hi=5, zero=0.05):
    return 0 if rng.random() < zero else int(rng.integers(lo, hi))


def loop(fn, batch, *arrays):
    """SciPy's 2-D call on each matrix of the stacks (broadcast to ``batch``); the outputs
    stacked (tuples output by output)."""
    if not batch:
        return fn(*arrays)
    arrays = [np.broadcast_to(a, batch + a.shape[len(a.shape) - 2:]) if a.ndim >= 2 else a
              for a in arrays]
    outs = [fn(*[a[i] if a.ndim > 2 else a for a in arrays]) for i in np.ndindex(*batch)]
    if isinstance(outs[0], tuple):
        return tuple(np.stack([o[k] for o in outs]).reshape(batch + np.shape(outs[0][k]))
                     for k in range(len(outs[0])))
    return np.stack(outs).reshape(batch + np.shape(outs[0]))


def expect(name, case, what, got, want, tol, dtype=True):
    got_a, want_a = np.asarray(got), np.asarray(want)
    if dtype and got_a.dtype != want_a.dtype:
        fail(name, case, f"{what}: dtype {got_a.dtype} vs {want_a.dtype}")
        return False
    if got_a.dtype == bool or want_a.dtype == bool:
        got_a, want_a = got_a.astype(np.int8), want_a.astype(np.int8)
    ok, msg = close(got_a, want_a, tol)
    if not ok:
        fail(name, case, f"{what}: {msg}")
    return ok


def both_raise(name, case, ft_call, sp_call):
    """Both raise or both return: (ft value, scipy value, ft error, scipy error)."""
    ft_err = sp_err = got = want = None
    try:
        got = ft_call()
    except Exception as e:  # noqa: BLE001
        ft_err = e
        if VERBOSE:
            traceback.print_exc()
    try:
        want = sp_call()
    except Exception as e:  # noqa: BLE001
        sp_err = e
    if (ft_err is None) != (sp_err is None):
        fail(name, case, f"error mismatch: functrans {type(ft_err).__name__}: {ft_err} / "
                         f"scipy {type(sp_err).__name__}: {sp_err}")
    elif ft_err is not None:
        count(name + "/errors")
    return got, want, ft_err, sp_err


def fd_jvp(f, args, tangents, eps=1e-6):
    plus = [a + eps * t for a, t in zip(args, tangents)]
    minus = [a - eps * t for a, t in zip(args, tangents)]
    return (np.asarray(f(*plus)) - np.asarray(f(*minus))) / (2 * eps)


def check_derivs(name, case, f, args, rng, f_jax=None, fd=True, fd_tol=1e-5, tol=1e-8,
                 second=True, jit=True, vmap=True, jax_tol=1e-8):
    """f: float64 (or complex128) arrays -> one array. jvp vs central differences, the
    dot-product identity, jit of the vjp, vmap of two members, Hessian vs jacrev(jacfwd),
    jvp/vjp vs JAX's (``f_jax``)."""
    args = [np.asarray(a) for a in args]
    try:
        y = np.asarray(f(*args))
        tangents = [rand(rng, a.shape, a.dtype) for a in args]
        y2, t_out = ft.jvp(f, tuple(args), tuple(tangents))
        t_out = np.asarray(t_out)
        expect(name, case, "jvp primal", y2, y, 1e-12, dtype=False)
        count(name + "/derivs")
        if fd and y.size and np.all(np.isfinite(y)):
            want = fd_jvp(f, args, tangents)
            if np.all(np.isfinite(want)):
                ok, msg = close(t_out, want, fd_tol)
                if not ok:
                    fail(name, case, f"jvp vs central differences: {msg}")
        u = rand(rng, y.shape, y.dtype if y.dtype.kind in "fc" else "float64")
        _, pullback = ft.vjp(f, *args)
        cts = pullback(u)
        lhs = np.real(np.sum(u * t_out))
        rhs = sum(float(np.real(np.sum(np.asarray(c) * t))) for c, t in zip(cts, tangents))
        if np.isfinite(lhs) and not abs(lhs - rhs) <= 1e-8 * max(1.0, abs(lhs), abs(rhs)):
            fail(name, case, f"dot-product identity <u,Jv> {lhs!r} vs <J^T u,v> {rhs!r}")
        if jit:
            _, pull_j = ft.vjp(ft.jit(f), *args)
            for c, cj in zip(cts, pull_j(u)):
                expect(name, case, "jit vjp", cj, c, tol, dtype=False)
            tj = np.asarray(ft.jit(lambda *a: ft.jvp(f, a, tuple(tangents))[1])(*args))
            expect(name, case, "jit jvp", tj, t_out, tol, dtype=False)
        if vmap:
            pert = [a + 0.01 * t for a, t in zip(args, tangents)]
            stacked = [np.stack([a, b]) for a, b in zip(args, pert)]
            got_v = np.asarray(ft.vmap(f)(*stacked))
            expect(name, case, "vmap member 0", got_v[0], y, tol, dtype=False)
            expect(name, case, "vmap member 1", got_v[1], np.asarray(f(*pert)), tol,
                   dtype=False)
        if f_jax is not None:
            count(name + "/jax")
            jy, jt = jax.jvp(f_jax, tuple(jnp.asarray(a) for a in args),
                             tuple(jnp.asarray(t) for t in tangents))
            expect(name, case, "value vs jax", y, np.asarray(jy), jax_tol, dtype=False)
            expect(name, case, "jvp vs jax", t_out, np.asarray(jt), jax_tol, dtype=False)
            _, jpull = jax.vjp(f_jax, *(jnp.asarray(a) for a in args))
            for c, jc in zip(cts, jpull(jnp.asarray(u))):
                expect(name, case, "vjp vs jax", c, np.asarray(jc), jax_tol, dtype=False)
        if second and y.size and args[0].dtype.kind == "f" and args[0].size <= 36:
            rest = args[1:]

            def s(a0):
                out = f(a0, *rest)
                return fnp.sum(fnp.sin(fnp.real(out)) if np.iscomplexobj(y) else fnp.sin(out))
            h_fwd = np.asarray(ft.hessian(s)(args[0]))
            h_rev = np.asarray(ft.jacrev(ft.jacfwd(s))(args[0]))
            expect(name, case, "hessian vs jacrev(jacfwd)", h_fwd, h_rev, 1e-7, dtype=False)
            gj = np.asarray(ft.jit(ft.grad(s))(args[0]))
            g = np.asarray(ft.grad(s)(args[0]))
            expect(name, case, "jit(grad)", gj, g, tol, dtype=False)
            count(name + "/second")
    except Exception as e:  # noqa: BLE001
        fail(name, case, f"derivative check raised {type(e).__name__}: {e}")
        if VERBOSE:
            traceback.print_exc()


def check_values(name, case, got, want, tol, dtype=True):
    """A tuple or an array against SciPy's."""
    if isinstance(want, list):
        want = tuple(want)
    if isinstance(want, tuple):
        if not isinstance(got, tuple) or len(got) != len(want):
            fail(name, case, f"result structure {type(got).__name__} vs tuple of {len(want)}")
            return
        for k, (g, w) in enumerate(zip(got, want)):
            if isinstance(w, (bool, int)) and not isinstance(w, np.ndarray):
                if g != w:
                    fail(name, case, f"output {k}: {g!r} vs {w!r}")
                continue
            expect(name, case, f"output {k} vs scipy", g, w, tol, dtype)
    else:
        expect(name, case, "value vs scipy", got, want, tol, dtype)


def check_solution(name, case, got, want, residual, tol):
    """``got`` vs SciPy's ``want``; where they differ, the one with the smaller residual
    (``residual(x)``, relative) decides: SciPy's own wrong answers are counted, not failed."""
    g, w = np.asarray(got), np.asarray(want)
    if g.dtype != w.dtype:
        fail(name, case, f"dtype {g.dtype} vs {w.dtype}")
        return
    ok, msg = close(g, w, tol)
    if ok:
        return
    rg, rw = residual(g.astype(np.complex128)), residual(w.astype(np.complex128))
    if rg <= tol and rw > max(10 * tol, 100 * rg):
        count(name + "/scipy-wrong")
        if VERBOSE:
            print(f"  scipy wrong [{name}] residual {rw:.3g} (ours {rg:.3g}) case={case}")
        return
    fail(name, case, f"value vs scipy: {msg}; residuals ours {rg:.3g} scipy {rw:.3g}")


SECTIONS = {}


def section(fn):
    SECTIONS[fn.__name__.removeprefix("sec_")] = fn
    return fn


def deriv_dtype(rng, complex_share=0.25):
    """The dtype of a derivative check: float64, or complex128 (JAX's convention)."""
    return "complex128" if rng.random() < complex_share else "float64"


def pick(rng, options):
    return options[int(rng.integers(0, len(options)))]


# -- solvers ----------------------------------------------------------------------------------

TRANS = [0, 1, 2, "N", "T", "C"]


@section
def sec_solve_triangular(rng):
    n = size(rng)
    batch = batch_shape(rng)
    dt = pick(rng, ALL_DTYPES)
    lower, unit = bool(rng.random() < 0.5), bool(rng.random() < 0.3)
    trans = pick(rng, TRANS)
    a = well(rng, batch + (n, n), dt)
    if rng.random() < 0.1 and n:
        a[..., -1, -1] = 0  # singular (unless unit)
    vec = rng.random() < 0.4 and not batch
    bdt = pick(rng, ALL_DTYPES)
    b = rand(rng, (n,) if vec else batch[len(batch) // 2:] + (n, int(rng.integers(1, 3))), bdt)
    case = dict(n=n, batch=batch, dt=dt, bdt=bdt, lower=lower, unit=unit, trans=trans, vec=vec)
    count("solve_triangular")
    kw = dict(trans=trans, lower=lower, unit_diagonal=unit)
    got, want, fe, se = both_raise(
        "solve_triangular", case, lambda: fsl.solve_triangular(a, b, **kw),
        lambda: loop(lambda x, y: sla.solve_triangular(x, y, **kw), batch, a, b))
    if fe is None and se is None:
        check_values("solve_triangular", case, got, want, tol_of(np.asarray(want).dtype))
    if fe is None and n and rng.random() < 0.6:
        D = deriv_dtype(rng)
        check_derivs("solve_triangular", dict(case, D=D),
                     lambda x, y: fsl.solve_triangular(x, y, **kw),
                     [well(rng, a.shape, D), rand(rng, b.shape, D)], rng,
                     # (JAX does not broadcast b's batch axes against a's)
                     f_jax=(lambda x, y: jsl.solve_triangular(x, y, **kw))
                     if b.ndim == a.ndim else None,
                     second=n <= 3)


@section
def sec_solve(rng):
    n = size(rng)
    batch = batch_shape(rng)
    dt = pick(rng, ALL_DTYPES)
    assume = pick(rng, [None, "gen", "general", "sym", "her", "pos", "diagonal", "tridiagonal",
                        "upper triangular", "lower triangular", "symmetric", "hermitian",
                        "positive definite", "banded", "bogus"])
    lower = bool(rng.random() < 0.5)
    transposed = rng.random() < 0.2
    a = spd(rng, batch + (n, n), dt) if assume in ("pos", "positive definite") and \
        np.dtype(dt).kind in "fc" else well(rng, batch + (n, n), dt)
    if rng.random() < 0.1 and n > 1:
        a[..., 0, :] = 0  # singular
    vec = rng.random() < 0.4 and not batch
    bdt = pick(rng, ALL_DTYPES)
    b = rand(rng, (n,) if vec else batch + (n, int(rng.integers(1, 3))), bdt)
    case = dict(n=n, batch=batch, dt=dt, bdt=bdt, assume=assume, lower=lower,
                transposed=transposed, vec=vec)
    count("solve")
    kw = dict(assume_a=assume, lower=lower, transposed=transposed)
    if assume == "banded":
        try:
            fsl.solve(a, b, **kw)
            fail("solve", case, "assume_a='banded' did not raise NotImplementedError")
        except NotImplementedError:
            count("solve/banded-refused")   # (documented: the band is found from the values)
        return
    a_ref = a
    if n == 1 and np.iscomplexobj(a) and assume in ("her", "hermitian", "pos",
                                                     "positive definite"):
        # fuzz49: SciPy 1.17 solves a 1x1 system by dividing by the whole entry, where from
        # 2x2 up it takes a Hermitian matrix's diagonal as real (LAPACK's hesv/posv), as
        # functrans does at every size: the reference is SciPy's at the diagonal's real part
        count("solve/scipy-1x1-hermitian-diagonal")
        a_ref = a.real.astype(a.dtype)
    got, want, fe, se = both_raise(
        "solve", case, lambda: fsl.solve(a, b, **kw),
        lambda: loop(lambda x, y: sla.solve(x, y, **kw), batch, a_ref, b))
    if fe is None and se is None:
        check_values("solve", case, got, want, tol_of(np.asarray(want).dtype) * 10)
    if fe is None and n and rng.random() < 0.5:
        D = deriv_dtype(rng, 0.25 if assume not in ("sym", "symmetric") and not transposed
                        else 0)
        b = rand(rng, b.shape, D)
        a2 = spd(rng, a.shape, D) if assume in ("pos", "positive definite") else \
            well(rng, a.shape, D)
        jkw = dict(assume_a=assume if assume in ("gen", "sym", "her", "pos") else "gen",
                   lower=lower)
        use_jax = assume in (None, "gen", "general") and not transposed
        check_derivs("solve", dict(case, D=D), lambda x, y: fsl.solve(x, y, **kw), [a2, b], rng,
                     f_jax=(lambda x, y: jsl.solve(x, y, **jkw)) if use_jax else None,
                     second=n <= 3)


@section
def sec_inv(rng):
    n = size(rng)
    batch = batch_shape(rng)
    dt = pick(rng, ALL_DTYPES)
    assume = pick(rng, [None, None, "gen", "general", "sym", "her", "pos", "diagonal",
                        "upper triangular", "lower triangular", "tridiagonal"])
    lower = bool(rng.random() < 0.5)
    a = spd(rng, batch + (n, n), dt) if assume == "pos" and np.dtype(dt).kind in "fc" \
        else well(rng, batch + (n, n), dt)
    if rng.random() < 0.1 and n > 1:
        a[..., :, 0] = 0
    if assume == "diagonal":   # (ours reads the diagonal, as SciPy documents; 1.17 reads all)
        a = a * np.eye(n, dtype=a.dtype)
    case = dict(n=n, batch=batch, dt=dt, assume=assume, lower=lower)
    count("inv")
    if assume == "tridiagonal":
        # SciPy 1.17's inv has no such structure (KeyError) but returns an empty matrix
        # before reading assume_a; ours refuses it always, with the ones it has
        try:
            fsl.inv(a, assume_a=assume, lower=lower)
            fail("inv", case, "assume_a='tridiagonal' did not raise")
        except ValueError:
            count("inv/tridiagonal-refused")
        return
    got, want, fe, se = both_raise(
        "inv", case, lambda: fsl.inv(a, assume_a=assume, lower=lower),
        lambda: loop(lambda x: sla.inv(x, assume_a=assume, lower=lower), batch, a))
    if fe is None and se is None:
        check_values("inv", case, got, want, tol_of(np.asarray(want).dtype) * 10)
    if fe is None and n and rng.random() < 0.5:
        D = deriv_dtype(rng)
        a2 = spd(rng, a.shape, D) if assume == "pos" else well(rng, a.shape, D)
        check_derivs("inv", dict(case, D=D), lambda x: fsl.inv(x, assume_a=assume, lower=lower), [a2],
                     rng, f_jax=jsl.inv if assume in (None, "gen", "general") else None)


@section
def sec_det(rng):
    n = size(rng, 0, 5)
    batch = batch_shape(rng)
    dt = pick(rng, ALL_DTYPES)
    a = rand(rng, batch + (n, n), dt)
    case = dict(n=n, batch=batch, dt=dt)
    count("det")
    got, want, fe, se = both_raise("det", case, lambda: fsl.det(a),
                                   lambda: sla.det(a))
    if fe is None and se is None:
        # (SciPy computes booleans and small integers in float32; ours in float64)
        small = dt in ("int16", "bool")
        check_values("det", case, got, want, tol_of("float32" if small else dt) * 10)
    if n and dt == "float64":
        check_derivs("det", case, fsl.det, [a], rng, f_jax=jsl.det, fd_tol=1e-5)
    if n and rng.random() < 0.3:
        check_derivs("det", dict(case, D="complex128"), fsl.det,
                     [rand(rng, a.shape, "complex128")], rng, f_jax=jsl.det, fd_tol=1e-5)


@section
def sec_cholesky(rng):
    n = size(rng)
    batch = batch_shape(rng)
    dt = pick(rng, ALL_DTYPES)
    lower = bool(rng.random() < 0.5)
    a = spd(rng, batch + (n, n), dt) if np.dtype(dt).kind in "fc" else \
        well(rng, batch + (n, n), dt)
    if rng.random() < 0.15 and n and a.dtype != bool:
        a = -a  # not positive definite
    if rng.random() < 0.3 and np.dtype(dt).kind in "fc":
        junk = rand(rng, a.shape, dt)   # the unread triangle
        a = np.where(np.tril(np.ones((n, n)), -1).astype(bool) if not lower else
                     np.triu(np.ones((n, n)), 1).astype(bool), junk, a)
    case = dict(n=n, batch=batch, dt=dt, lower=lower)
    count("cholesky")
    got, want, fe, se = both_raise("cholesky", case, lambda: fsl.cholesky(a, lower=lower),
                                   lambda: loop(lambda x: sla.cholesky(x, lower=lower),
                                                batch, a))
    if fe is None and se is None:
        check_values("cholesky", case, got, want, tol_of(np.asarray(want).dtype) * 10)
        got2, want2, fe2, se2 = both_raise(
            "cho_factor", case, lambda: fsl.cho_factor(a, lower=lower),
            lambda: loop(lambda x: sla.cho_factor(x, lower=lower)[0], batch, a))
        if fe2 is None and se2 is None:
            count("cho_factor")
            c, low = got2
            if low != lower:
                fail("cho_factor", case, f"lower flag {low} vs {lower}")
            mask = np.tril(np.ones((n, n), bool)) if lower else np.triu(np.ones((n, n), bool))
            expect("cho_factor", case, "factor triangle", np.where(mask, c, 0),
                   np.where(mask, want2, 0), tol_of(np.asarray(want2).dtype) * 10)
            b = rand(rng, batch + (n, 2), pick(rng, FLOATS))
            got3, want3, fe3, se3 = both_raise(
                "cho_solve", case, lambda: fsl.cho_solve((want2, lower), b),
                lambda: loop(lambda x, y: sla.cho_solve((x, lower), y), batch,
                             np.asarray(want2), b))
            if fe3 is None and se3 is None:
                count("cho_solve")
                check_values("cho_solve", case, got3, want3, tol_of(np.asarray(want3).dtype)
                             * 10)
    if n and rng.random() < 0.6:
        D = deriv_dtype(rng)
        case = dict(case, D=D)
        a2 = spd(rng, a.shape, D)
        def mirror(x):   # (JAX symmetrizes (a + a^H) / 2; SciPy reads one triangle)
            t = jnp.tril(x, -1) if lower else jnp.triu(x, 1)
            return t + jnp.conj(jnp.swapaxes(t, -1, -2)) + jnp.real(x) * jnp.eye(n)
        check_derivs("cholesky", case, lambda x: fsl.cholesky(x, lower=lower), [a2], rng,
                     f_jax=lambda x: jsl.cholesky(mirror(x), lower=lower), second=n <= 3,
                     fd=True)
        b2 = rand(rng, a.shape[:-1] + (2,), D)
        check_derivs("cho_solve", case,
                     lambda x, y: fsl.cho_solve(fsl.cho_factor(x, lower=lower), y), [a2, b2],
                     rng, f_jax=lambda x, y: jsl.cho_solve(jsl.cho_factor(mirror(x),
                                                                         lower=lower), y),
                     second=n <= 3)


@section
def sec_lu(rng):
    m, n = size(rng), size(rng)
    if rng.random() < 0.5:
        n = m
    batch = batch_shape(rng)
    dt = pick(rng, ALL_DTYPES)
    a = rand(rng, batch + (m, n), dt)
    if rng.random() < 0.15 and m and n:
        a[..., :, 0] = 0
    if rng.random() < 0.1:
        a = rng.integers(-1, 2, size=a.shape).astype(dt)  # ties, zeros
    permute_l = bool(rng.random() < 0.3)
    p_indices = bool(rng.random() < 0.3)
    case = dict(m=m, n=n, batch=batch, dt=dt, permute_l=permute_l, p_indices=p_indices)
    count("lu")
    kw = dict(permute_l=permute_l, p_indices=p_indices)
    got, want, fe, se = both_raise("lu", case, lambda: fsl.lu(a, **kw),
                                   lambda: sla.lu(a, **kw))
    if fe is None and se is None and a.size == 0 and not p_indices and not permute_l:
        # (SciPy's p of an empty (m, 0) matrix is (0, 0), which a = p l u cannot use)
        want = (np.broadcast_to(np.eye(m, dtype=np.asarray(want[0]).dtype),
                                batch + (m, m)),) + tuple(want[1:])
    if fe is None and se is None and a.size == 0 and p_indices and not permute_l and \
            np.shape(want[0])[-1:] == (0,) and m:
        # (likewise its p_indices: (0,), where the m rows' permutation is arange(m))
        count("lu/scipy-empty-p_indices")
        want = (np.broadcast_to(np.arange(m, dtype=np.asarray(want[0]).dtype),
                                batch + (m,)),) + tuple(want[1:])
    if fe is None and se is None and m == n == 1 and not permute_l:
        # (SciPy's 1 x 1: a complex p, int64 p_indices)
        p0 = np.asarray(want[0])
        want = ((p0.astype(np.int32) if p_indices else p0.real),) + tuple(want[1:])
    if fe is None and se is None:
        check_values("lu", case, got, want, tol_of(np.asarray(want[-1]).dtype) * 10)
    if m == n:
        got, want, fe, se = both_raise("lu_factor", case, lambda: fsl.lu_factor(a),
                                       lambda: loop(sla.lu_factor, batch, a))
        if fe is None and se is None and a.size == 0 and np.asarray(want[0]).dtype.kind in "biu":
            # (SciPy returns an empty integer or boolean matrix as it is; a non-empty one, and
            # ours always, in the floating dtype it factors in)
            count("lu_factor/scipy-empty-keeps-dtype")
            want = (np.asarray(want[0]).astype(np.asarray(got[0]).dtype), want[1])
        if fe is None and se is None:
            count("lu_factor")
            check_values("lu_factor", case, got, want, tol_of(np.asarray(want[0]).dtype) * 10)
            trans = pick(rng, [0, 1, 2])   # (SciPy's lu_solve refuses the letters; ours not)
            bdt = pick(rng, ALL_DTYPES)
            vec = rng.random() < 0.4 and not batch
            b = rand(rng, (n,) if vec else batch + (n, 2), bdt)
            # (SciPy's lu_solve on our factor: a float32 factor (float32, integers up to
            # int16, bool) differs from SciPy's by its rounding, which a float64 right side
            # carries into a float64 solution at ~1e-6: lu_factor is compared above)
            ours = (np.asarray(got[0]), np.asarray(got[1]))
            got2, want2, fe2, se2 = both_raise(
                "lu_solve", case, lambda: fsl.lu_solve(got, b, trans=trans),
                lambda: np.stack([sla.lu_solve((ours[0][i], ours[1][i]), b[i], trans=trans)
                                  for i in np.ndindex(*batch)]).reshape(np.shape(b))
                if batch else sla.lu_solve(ours, b, trans=trans))
            if fe2 is None and se2 is None and np.iscomplexobj(want2) and \
                    np.any(np.diagonal(ours[0], axis1=-2, axis2=-1) == 0):
                # (a zero pivot: LAPACK's complex division by zero gives nan + nan j where
                # NumPy's gives inf - inf j; the finite entries and where they are compared)
                count("lu_solve/complex-singular")
                g2, w2 = np.asarray(got2), np.asarray(want2)
                if not np.array_equal(np.isfinite(g2), np.isfinite(w2)):
                    fail("lu_solve", case, "complex singular: finite entries differ")
                got2 = np.where(np.isfinite(w2), g2, 0)
                want2 = np.where(np.isfinite(w2), w2, 0)
            if fe2 is None and se2 is None:
                count("lu_solve")
                check_values("lu_solve", dict(case, trans=trans, bdt=bdt, vec=vec), got2,
                             want2, tol_of(np.asarray(want2).dtype) * 100)
    if m and n and rng.random() < 0.6:
        D = deriv_dtype(rng)
        case = dict(case, D=D)
        a2 = rand(rng, a.shape, D)

        def f(x):
            p, low, up = fsl.lu(x)
            return fnp.concat([fnp.reshape(low, (-1,)), fnp.reshape(up, (-1,))])

        def fj(x):
            p, low, up = jsl.lu(x)
            return jnp.concatenate([low.reshape(-1), up.reshape(-1)])
        check_derivs("lu", case, f, [a2], rng, f_jax=None if batch else fj, second=m * n <= 9)
        if m == n:
            b2 = rand(rng, batch + (n, 2), D)
            a3 = well(rng, a.shape, D)
            for trans in (0, 1, 2):
                check_derivs("lu_solve", case,
                             lambda x, y: fsl.lu_solve(fsl.lu_factor(x), y, trans=trans),
                             [a3, b2], rng,
                             f_jax=None if batch else
                             (lambda x, y: jsl.lu_solve(jsl.lu_factor(x), y, trans=trans)),
                             second=False)


# -- decompositions ---------------------------------------------------------------------------

def _fix_vectors(v, ref):
    """v's columns turned to the phase of ref's (their inner product made real positive)."""
    d = np.sum(np.conj(v) * ref, axis=-2, keepdims=True)
    ph = np.where(np.abs(d) > 0, d / np.where(np.abs(d) > 0, np.abs(d), 1), 1)
    return v * ph


@section
def sec_eigh(rng):
    n = size(rng)
    batch = batch_shape(rng)
    dt = pick(rng, ALL_DTYPES)
    lower = bool(rng.random() < 0.5)
    a = rand(rng, batch + (n, n), dt)  # (only one triangle is read)
    gen = rng.random() < 0.3
    b = spd(rng, batch + (n, n), pick(rng, ["float64", "float32", "complex128"])) if gen \
        else None
    typ = int(rng.integers(1, 4)) if gen else 1
    sub = rng.random()
    sbi = sbv = None
    if sub < 0.15 and n:
        lo = int(rng.integers(0, n))
        sbi = [lo, int(rng.integers(lo, n))]
    elif sub < 0.25 and n and not batch:
        sbv = sorted(rng.standard_normal(2) * 3)
    eo = bool(rng.random() < 0.3)
    case = dict(n=n, batch=batch, dt=dt, lower=lower, gen=gen, typ=typ, sbi=sbi, sbv=sbv,
                eo=eo)
    count("eigh")
    kw = dict(lower=lower, type=typ, subset_by_index=sbi, subset_by_value=sbv,
              eigvals_only=eo)
    got, want, fe, se = both_raise("eigh", case, lambda: fsl.eigh(a, b, **kw),
                                   lambda: loop(lambda *x: sla.eigh(*x, **kw), batch,
                                                *([a] if b is None else [a, b])))
    if fe is None and se is None:
        tol = tol_of(np.asarray(want[0] if not eo else want).dtype) * 100
        if n == 0 and gen:   # (SciPy's empty result: a's dtype alone, b's ignored)
            want = np.asarray(want).astype(np.asarray(got).dtype) if eo else \
                (np.asarray(want[0]).astype(np.asarray(got[0]).dtype),
                 np.asarray(want[1]).astype(np.asarray(got[1]).dtype))
        if eo:
            expect("eigh", case, "values", got, want, tol)
        else:
            expect("eigh", case, "values", got[0], want[0], tol)
            w = np.asarray(want[0])
            if sbi is not None or sbv is not None:
                # (a subset's vectors are unique only if no value outside it ties with one
                # in it: the gaps are the whole spectrum's)
                w = np.asarray(loop(lambda *x: sla.eigh(*x, lower=lower, type=typ,
                                                        eigvals_only=True),
                                    batch, *([a] if b is None else [a, b])))
            gaps = np.diff(w, axis=-1)
            if w.shape[-1] < 2 or np.min(np.abs(gaps)) > 1e-3:
                expect("eigh", case, "vectors (phase fixed)",
                       _fix_vectors(np.asarray(got[1]), np.asarray(want[1])), want[1], tol * 10)
        got2, want2, _, _ = both_raise("eigvalsh", case,
                                       lambda: fsl.eigvalsh(a, b, lower=lower, type=typ),
                                       lambda: loop(lambda *x: sla.eigvalsh(*x, lower=lower,
                                                                            type=typ),
                                                    batch, *([a] if b is None else [a, b])))
        count("eigvalsh")
        if n == 0 and gen and got2 is not None:
            want2 = np.asarray(want2).astype(np.asarray(got2).dtype)
        if got2 is not None and want2 is not None:
            expect("eigvalsh", case, "values", got2, want2, tol)
    if n and rng.random() < 0.5:
        D = deriv_dtype(rng)
        case = dict(case, D=D)
        a2 = rand(rng, a.shape, D)

        def f(x):
            w, v = fsl.eigh(x, lower=lower)
            # (a gauge-free output: w and v diag(sin w) v^H)
            return fnp.concat([fnp.reshape(fnp.astype(w, v.dtype), (-1,)),
                               fnp.reshape(fnp.matmul(v * fnp.astype(fnp.sin(w), v.dtype)[
                                   ..., None, :], fnp.conj(fnp.matrix_transpose(v))), (-1,))])

        def fj(x):
            # (JAX symmetrizes (a + a^H) / 2 whatever lower says: given the triangle's matrix)
            t = jnp.tril(x, -1) if lower else jnp.triu(x, 1)
            w, v = jsl.eigh(t + jnp.conj(jnp.swapaxes(t, -1, -2))
                            + jnp.real(x) * jnp.eye(x.shape[-1]), lower=lower)
            return jnp.concatenate([w.astype(v.dtype).reshape(-1),
                                    ((v * jnp.sin(w)[..., None, :])
                                     @ jnp.conj(jnp.swapaxes(v, -1, -2))).reshape(-1)])
        check_derivs("eigh", case, f, [a2], rng, f_jax=fj, second=n <= 3, fd_tol=1e-4)
        if gen and D == "float64":
            b2 = spd(rng, a.shape)

            def fg(x, y):
                w, v = fsl.eigh(x, y, lower=lower, type=typ)
                return fnp.concat([fnp.reshape(w, (-1,)),
                                   fnp.reshape(fnp.matmul(v, fnp.matrix_transpose(v)), (-1,))])
            check_derivs("eigh", dict(case, what="generalized"), fg, [a2, b2], rng,
                         second=False, fd_tol=1e-4)


@section
def sec_svd(rng):
    m, n = size(rng), size(rng)
    batch = batch_shape(rng)
    dt = pick(rng, ALL_DTYPES)
    a = rand(rng, batch + (m, n), dt)
    fm = bool(rng.random() < 0.5)
    cuv = bool(rng.random() < 0.7)
    drv = pick(rng, ["gesdd", "gesvd", "gesdd"])
    case = dict(m=m, n=n, batch=batch, dt=dt, fm=fm, cuv=cuv, drv=drv)
    count("svd")
    kw = dict(full_matrices=fm, compute_uv=cuv, lapack_driver=drv)
    got, want, fe, se = both_raise("svd", case, lambda: fsl.svd(a, **kw),
                                   lambda: sla.svd(a, **kw))
    if fe is None and se is None:
        if not cuv:
            expect("svd", case, "values", got, want, tol_of(np.asarray(want).dtype) * 10)
        else:
            u, s, vh = got
            tol = tol_of(np.asarray(want[1]).dtype) * 10
            expect("svd", case, "s", s, want[1], tol)
            for k in (0, 2):
                if np.shape(got[k]) != np.shape(want[k]) or np.asarray(got[k]).dtype != \
                        np.asarray(want[k]).dtype:
                    fail("svd", case, f"output {k}: {np.shape(got[k])} "
                         f"{np.asarray(got[k]).dtype} vs {np.shape(want[k])} "
                         f"{np.asarray(want[k]).dtype}")
            k = min(m, n)
            rec = (np.asarray(u)[..., :, :k] * np.asarray(s)[..., None, :]) @ \
                np.asarray(vh)[..., :k, :]
            expect("svd", case, "reconstruction", rec, a.astype(rec.dtype), tol, dtype=False)
        got2, want2, _, _ = both_raise("svdvals", case, lambda: fsl.svdvals(a),
                                       lambda: sla.svdvals(a))
        count("svdvals")
        if got2 is not None and want2 is not None:
            expect("svdvals", case, "values", got2, want2, tol_of(np.asarray(want2).dtype) * 10)
    if m and n and rng.random() < 0.5:
        D = deriv_dtype(rng)
        case = dict(case, D=D)
        a2 = rand(rng, a.shape, D)

        def f(x):
            u, s, vh = fsl.svd(x, full_matrices=False)
            s = fnp.astype(s, u.dtype)
            return fnp.concat([fnp.reshape(s, (-1,)),
                               fnp.reshape(fnp.matmul(u * s[..., None, :], vh), (-1,)),
                               fnp.reshape(fnp.matmul(u, fnp.conj(fnp.matrix_transpose(u))),
                                           (-1,))])

        def fj(x):
            u, s, vh = jsl.svd(x, full_matrices=False)
            s = s.astype(u.dtype)
            return jnp.concatenate([s.reshape(-1), ((u * s[..., None, :]) @ vh).reshape(-1),
                                    (u @ jnp.conj(jnp.swapaxes(u, -1, -2))).reshape(-1)])
        check_derivs("svd", case, f, [a2], rng, f_jax=fj, second=m * n <= 9, fd_tol=1e-4)


def _qr_rank_deficient_valid(a, got, want, tol):
    """On a rank-deficient matrix (a zero on SciPy's R diagonal) the factorisation is not
    unique: LAPACK's Householder signs follow the rounding of entries that are zero in exact
    arithmetic (two LAPACK builds differ: sweepb43, bool matrices), and Q's columns past the
    zero span any basis. There: whether ours is a QR factorisation (Q with orthonormal
    columns, R upper triangular, Q R = a) with R's diagonal as SciPy's in magnitude."""
    (q, r), wr = [np.asarray(v) for v in got], np.asarray(want[1])
    if r.shape != wr.shape or not r.size:
        return False
    scale = max(1.0, float(np.max(np.abs(wr))))
    diag = np.abs(np.diagonal(wr, axis1=-2, axis2=-1))
    if not np.any(diag <= 100 * tol * scale):
        return False
    k = q.shape[-1]
    qhq = np.conj(np.swapaxes(q, -1, -2)) @ q
    return (close(qhq, np.broadcast_to(np.eye(k), qhq.shape), tol)[0]
            and close(np.tril(r, -1), np.zeros(r.shape), tol * scale)[0]
            and close(q @ r, np.asarray(a, dtype=q.dtype), tol * scale)[0]
            and close(np.abs(np.diagonal(r, axis1=-2, axis2=-1)), diag, tol * scale)[0])


@section
def sec_qr(rng):
    m, n = size(rng), size(rng)
    batch = batch_shape(rng)
    dt = pick(rng, ALL_DTYPES)
    a = rand(rng, batch + (m, n), dt)
    mode = pick(rng, ["full", "economic", "r", "full", "raw", "bogus"])
    piv = bool(rng.random() < 0.3)
    case = dict(m=m, n=n, batch=batch, dt=dt, mode=mode, piv=piv)
    count("qr")
    if mode == "raw":
        try:
            fsl.qr(a, mode=mode, pivoting=piv)
            fail("qr", case, "mode='raw' did not raise NotImplementedError")
        except NotImplementedError:
            count("qr/raw-refused")   # (documented)
        return
    got, want, fe, se = both_raise("qr", case, lambda: fsl.qr(a, mode=mode, pivoting=piv),
                                   lambda: sla.qr(a, mode=mode, pivoting=piv))
    if isinstance(fe, NotImplementedError) and se is None and mode == "raw":
        return
    if fe is None and se is None and mode == "r" and not piv and batch:
        want = (want,)   # (SciPy's batched mode='r' gives R itself; unbatched (R,), as ours)
    if fe is None and se is None and mode in ("full", "economic") and not piv and \
            _qr_rank_deficient_valid(a, got, want, tol_of(np.asarray(want[0]).dtype) * 10):
        count("qr/rank-deficient-valid")  # (not unique there: checked as a factorisation)
    elif fe is None and se is None:
        check_values("qr", case, got, want, tol_of(np.asarray(want[0]).dtype) * 10,
                     dtype=a.size > 0)   # (SciPy: an empty matrix keeps an integer dtype)
    if m and n and rng.random() < 0.5 and mode in ("full", "economic"):
        D = deriv_dtype(rng)
        case = dict(case, D=D)
        a2 = rand(rng, a.shape, D)
        emode = "economic" if m > n else mode

        def f(x):
            q, r = fsl.qr(x, mode=emode)
            return fnp.concat([fnp.reshape(q, (-1,)), fnp.reshape(r, (-1,))])

        def fj(x):
            q, r = jsl.qr(x, mode=emode)
            return jnp.concatenate([q.reshape(-1), r.reshape(-1)])
        check_derivs("qr", case, f, [a2], rng, f_jax=fj if m >= n else None,
                     second=m * n <= 9, fd_tol=1e-4)


@section
def sec_qr_multiply(rng):
    m, n = size(rng, 1, 5, 0), size(rng, 1, 5, 0)
    dt = pick(rng, FLOATS)
    a = rand(rng, (m, n), dt)
    mode = pick(rng, ["left", "right"])
    k = min(m, n)
    conj = bool(rng.random() < 0.3)
    piv = bool(rng.random() < 0.3)
    if mode == "right":
        c = rand(rng, (m,) if rng.random() < 0.4 else (int(rng.integers(1, 4)), m),
                 pick(rng, FLOATS))
    else:
        c = rand(rng, (k,) if rng.random() < 0.4 else (k, int(rng.integers(1, 4))),
                 pick(rng, FLOATS))
    case = dict(m=m, n=n, dt=dt, mode=mode, conj=conj, piv=piv, cshape=c.shape, cdt=c.dtype)
    count("qr_multiply")
    got, want, fe, se = both_raise(
        "qr_multiply", case,
        lambda: fsl.qr_multiply(a, c, mode=mode, conjugate=conj, pivoting=piv),
        lambda: sla.qr_multiply(a, c, mode=mode, conjugate=conj, pivoting=piv))
    if fe is None and se is None:
        if np.result_type(a, c) != np.asarray(want[0]).dtype:
            # (SciPy casts c to a's dtype: a complex c beside a real a loses its imaginary
            # part, complex128 beside complex64 its precision; ours: the common dtype)
            count("qr_multiply/scipy-cast")
            q_, r_, *p_ = sla.qr(a.astype(np.result_type(a, c)), mode="economic",
                                 pivoting=piv)
            q_ = np.conj(q_) if conj else q_
            prod = c @ q_ if mode == "right" else (q_ @ c[:, None])[:, 0] if c.ndim == 1 \
                else q_ @ c
            want = (prod, r_, *p_)
        check_values("qr_multiply", case, got, want, tol_of(np.asarray(want[0]).dtype) * 10)


@section
def sec_polar(rng):
    m, n = size(rng, 1, 5, 0), size(rng, 1, 5, 0)
    dt = pick(rng, FLOATS + ["int64"])
    side = pick(rng, ["right", "left"])
    a = rand(rng, (m, n), dt)
    case = dict(m=m, n=n, dt=dt, side=side)
    count("polar")
    got, want, fe, se = both_raise("polar", case, lambda: fsl.polar(a, side=side),
                                   lambda: sla.polar(a, side=side))
    if fe is None and se is None:
        check_values("polar", case, got, want, tol_of(np.asarray(want[0]).dtype) * 100)
    if rng.random() < 0.5:
        D = deriv_dtype(rng)
        case = dict(case, D=D)

        def f(x):
            u, p = fsl.polar(x, side=side)
            return fnp.concat([fnp.reshape(u, (-1,)), fnp.reshape(p, (-1,))])

        def fj(x):
            u, p = jsl.polar(x, side=side, method="svd")
            return jnp.concatenate([u.reshape(-1), p.reshape(-1)])
        check_derivs("polar", case, f, [rand(rng, a.shape, D)], rng, f_jax=fj,
                     second=m * n <= 6, fd_tol=1e-4, jax_tol=1e-7)


def _hessenberg_reducible_valid(a, got, cq, want, tol):
    """Where SciPy's H has a subdiagonal entry zero to rounding (a reducible matrix), the
    next reflectors act on columns of rounding errors, whose directions LAPACK's order of
    operations and ours round differently (float64 too; fuzz53: a 5 x 5 boolean matrix,
    seed 44040): H and Q are not unique past that entry. There: the leading blocks up to it
    as SciPy's (the implicit-Q theorem makes them unique), and ours a Hessenberg
    factorisation (Q unitary, H zero below the subdiagonal, Q H Q^H = a)."""
    h, q = (got if cq else (got, None))
    h = np.asarray(h)
    wh, wq = (np.asarray(w) for w in (want if cq else (want, None)))
    n = wh.shape[-1]
    if n <= 2 or h.shape != wh.shape:
        return False
    scale = max(1.0, float(np.max(np.abs(wh))))
    # (zero to rounding: a few ulps of the matrix's scale, not the comparison's tolerance)
    eps = float(np.finfo(wh.dtype).eps) if wh.dtype.kind in "fc" else 2.0 ** -52
    small = np.flatnonzero(np.abs(np.diagonal(wh, -1)) <= 10 * n * eps * scale)
    if not small.size:
        return False
    k = int(small[0]) + 1           # (H[k, k-1] is the first zero: blocks [:k] are unique)
    if q is None:
        h2, q = (np.asarray(v) for v in fsl.hessenberg(a, calc_q=True))
        if not close(h2, h, tol * scale)[0]:
            return False
    else:
        q = np.asarray(q)
        if not close(q[:, :k], wq[:, :k], tol)[0]:
            return False
    qhq = np.conj(q.T) @ q
    return (close(h[:k, :k], wh[:k, :k], tol * scale)[0]
            and close(qhq, np.eye(n), tol)[0]
            and close(np.tril(h, -2), np.zeros(h.shape), tol * scale)[0]
            and close(q @ h @ np.conj(q.T), np.asarray(a, dtype=h.dtype), tol * scale)[0])


@section
def sec_hessenberg(rng):
    n = size(rng, 1, 6, 0.05)
    dt = pick(rng, ALL_DTYPES)
    a = rand(rng, (n, n), dt)
    cq = bool(rng.random() < 0.6)
    case = dict(n=n, dt=dt, cq=cq)
    count("hessenberg")
    got, want, fe, se = both_raise("hessenberg", case, lambda: fsl.hessenberg(a, calc_q=cq),
                                   lambda: sla.hessenberg(a, calc_q=cq))
    if fe is None and se is None:
        if n <= 2:
            # (SciPy returns a 1 x 1 or 2 x 2 matrix as it is, integers too, and Q float64)
            gw = got if cq else (got,)
            want = tuple(np.asarray(w).astype(np.asarray(g).dtype)
                         for g, w in zip(gw, want if cq else (want,)))
            want = want if cq else want[0]
        tol = tol_of(np.asarray(want[0] if cq else want).dtype) * 10
        if _hessenberg_reducible_valid(a, got, cq, want, tol):
            count("hessenberg/reducible-valid")  # (not unique there: checked as a factorisation)
        else:
            check_values("hessenberg", case, got, want, tol)
    if n > 2 and rng.random() < 0.5:
        check_derivs("hessenberg", case, lambda x: fsl.hessenberg(x), [rand(rng, a.shape)],
                     rng, second=n <= 3, fd_tol=1e-4)
    # (fuzz53, from a stream of its own so that the draws above stay as they were: a stack
    # of matrices against SciPy's on each, and the derivatives of (H, Q), complex too)
    extra = rng.spawn(1)[0]
    if n > 2 and extra.random() < 0.5:
        batch = tuple(int(extra.integers(1, 4)) for _ in range(int(extra.integers(1, 3))))
        dt = pick(extra, FLOATS)
        a = rand(extra, batch + (n, n), dt)
        case = dict(case, batch=batch, dt=dt)
        count("hessenberg/batched")
        got = fsl.hessenberg(a, calc_q=cq)
        want = loop(lambda x: sla.hessenberg(x, calc_q=cq), batch, a)
        for i in np.ndindex(*batch):    # (member by member: see _hessenberg_reducible_valid)
            g_i = tuple(np.asarray(v)[i] for v in got) if cq else np.asarray(got)[i]
            w_i = tuple(v[i] for v in want) if cq else want[i]
            if _hessenberg_reducible_valid(a[i], g_i, cq, w_i, tol_of(dt) * 10):
                count("hessenberg/reducible-valid")
            else:
                check_values("hessenberg", dict(case, member=i), g_i, w_i, tol_of(dt) * 10)
        D = deriv_dtype(extra, 0.5)

        def f(x):
            h, q = fsl.hessenberg(x, calc_q=True)
            return fnp.concat([fnp.reshape(h, (-1,)), fnp.reshape(q, (-1,))])
        check_derivs("hessenberg", dict(case, D=D), f, [rand(extra, a.shape, D)], extra,
                     second=n <= 3 and a.size <= 36, fd_tol=1e-4)


@section
def sec_schur(rng):
    n = size(rng, 1, 5, 0.05)
    dt = pick(rng, ALL_DTYPES)
    a = rand(rng, (n, n), dt)
    out = pick(rng, ["real", "complex", "r", "c"])
    sort = pick(rng, [None, None, "lhp", "rhp", "iuc", "ouc"])
    case = dict(n=n, dt=dt, out=out, sort=sort)
    count("schur")
    got, want, fe, se = both_raise("schur", case, lambda: fsl.schur(a, output=out, sort=sort),
                                   lambda: sla.schur(a, output=out, sort=sort))
    if fe is None and se is None:
        tol = tol_of(np.asarray(want[0]).dtype) * 10
        expect("schur", case, "T", got[0], want[0], tol)
        expect("schur", case, "Z", got[1], want[1], tol)
        if sort is not None and int(np.asarray(got[2])) != int(want[2]):
            fail("schur", case, f"sdim {got[2]} vs {want[2]}")
        if out in ("real", "r") and np.dtype(dt).kind != "c":
            count("rsf2csf")
            g2, w2, _, _ = both_raise("rsf2csf", case, lambda: fsl.rsf2csf(want[0], want[1]),
                                      lambda: sla.rsf2csf(want[0], want[1]))
            if g2 is not None and w2 is not None:
                check_values("rsf2csf", case, g2, w2, tol * 10)


@section
def sec_expm(rng):
    n = size(rng, 1, 6, 0.05)
    batch = batch_shape(rng)
    dt = pick(rng, ALL_DTYPES)
    scale = pick(rng, [0.1, 1.0, 1.0, 3.0, 10.0])
    a = rand(rng, batch + (n, n), dt)
    if np.dtype(dt).kind in "fc":
        a = (a * scale).astype(dt)
    case = dict(n=n, batch=batch, dt=dt, scale=scale)
    count("expm")
    got, want, fe, se = both_raise("expm", case, lambda: fsl.expm(a), lambda: sla.expm(a))
    if fe is None and se is None:
        w = np.asarray(want)
        # (SciPy: float16 for booleans, documented; float32 for a 1 x 1 of small integers)
        d = dt != "bool" and not (n == 1 and dt in ("int16", "int32"))
        # (a boolean's SciPy float16 result is rounded there: compared at float16's tolerance)
        expect("expm", case, "value vs scipy", got, want,
               tol_of(w.dtype) * (100 if w.dtype.itemsize <= 8 else 10) if dt != "bool" else
               2e-3, dtype=d)
    if n and rng.random() < 0.5:
        D = deriv_dtype(rng)
        case = dict(case, D=D)
        a2 = rand(rng, a.shape, D) * min(scale, 3.0)
        check_derivs("expm", case, fsl.expm, [a2], rng, f_jax=jsl.expm, second=n <= 3,
                     fd_tol=1e-4, jax_tol=1e-7)
        e2 = rand(rng, a.shape, D)
        got_f = both_raise("expm_frechet", case, lambda: fsl.expm_frechet(a2, e2),
                           lambda: loop(lambda x, y: sla.expm_frechet(x, y), batch, a2, e2))
        count("expm_frechet")
        if got_f[0] is not None and got_f[1] is not None:
            check_values("expm_frechet", case, got_f[0], got_f[1], 1e-8)


@section
def sec_sqrtm(rng):
    n = size(rng, 1, 5, 0.05)
    batch = batch_shape(rng, 0.15)
    dt = pick(rng, ALL_DTYPES)
    a = well(rng, batch + (n, n), dt) if rng.random() < 0.7 else rand(rng, batch + (n, n), dt)
    case = dict(n=n, batch=batch, dt=dt)
    count("sqrtm")
    if np.dtype(dt).kind != "c" and np.iscomplexobj(sla.sqrtm(a)):
        try:
            fsl.sqrtm(a)
            fail("sqrtm", case, "a real matrix with a complex root did not raise")
        except ValueError:
            count("sqrtm/complex-refused")   # (documented: the dtype cannot follow values)
        return
    got, want, fe, se = both_raise("sqrtm", case, lambda: fsl.sqrtm(a), lambda: sla.sqrtm(a))
    if fe is None and se is None:
        # (SciPy's 1 x 1: float16 for a boolean or int8 matrix, float32 for int16)
        check_values("sqrtm", case, got, want, tol_of(np.asarray(want).dtype) * 100,
                     dtype=n > 1)
    if n and rng.random() < 0.5:
        check_derivs("sqrtm", case, fsl.sqrtm, [well(rng, a.shape)], rng, f_jax=None,
                     second=n <= 3, fd_tol=1e-4, vmap=not batch)


@section
def sec_funm(rng):
    n = size(rng, 1, 5, 0)
    dt = pick(rng, FLOATS)
    a = rand(rng, (n, n), dt)
    fn = pick(rng, [("exp", np.exp, fnp.exp), ("sin", np.sin, fnp.sin),
                    ("sq", lambda x: x * x, lambda x: x * x)])
    case = dict(n=n, dt=dt, fn=fn[0])
    count("funm")
    got, want, fe, se = both_raise("funm", case, lambda: fsl.funm(a, fn[2]),
                                   lambda: sla.funm(a, fn[1]))
    if fe is None and se is None:
        check_values("funm", case, got, want, tol_of(np.asarray(want).dtype) * 1e3)


@section
def sec_sylvester(rng):
    m, n = size(rng, 1, 4, 0.05), size(rng, 1, 4, 0.05)
    batch = batch_shape(rng, 0.15)
    dt = pick(rng, ALL_DTYPES[:-1])   # (SciPy: booleans in float32 here, ours float64)
    a, b = well(rng, batch + (m, m), dt), well(rng, batch + (n, n), dt)
    q = rand(rng, batch + (m, n), pick(rng, ALL_DTYPES))
    case = dict(m=m, n=n, batch=batch, dt=dt, qdt=q.dtype)
    count("solve_sylvester")
    got, want, fe, se = both_raise("solve_sylvester", case,
                                   lambda: fsl.solve_sylvester(a, b, q),
                                   lambda: loop(sla.solve_sylvester, batch, a, b, q))
    if fe is None and se is None and (m == 0 or n == 0) and np.asarray(got).dtype != \
            np.asarray(want).dtype and dt in ("int8", "int16", "uint8", "uint16"):
        # (SciPy 1.17 answers an empty system by LAPACK's type choice, float32 for small
        # integers, where a non-empty one of them is solved in float64; ours float64 at
        # every size)
        count("solve_sylvester/scipy-empty-small-int-float32")
        want = np.asarray(want).astype(np.asarray(got).dtype)
    if fe is None and se is None:
        def res(x):
            return np.max(np.abs(a @ x + x @ b - q), initial=0) / max(
                1, np.max(np.abs(q), initial=0))
        check_solution("solve_sylvester", case, got, want, res,
                       tol_of(np.asarray(want).dtype) * 100)
    if m and n and rng.random() < 0.5:
        D = deriv_dtype(rng)
        check_derivs("solve_sylvester", dict(case, D=D), fsl.solve_sylvester,
                     [well(rng, a.shape, D), well(rng, b.shape, D), rand(rng, q.shape, D)], rng,
                     f_jax=None, second=m * m <= 9)   # (JAX's has no derivative)
    # Lyapunov equations
    count("solve_continuous_lyapunov")
    qq = rand(rng, batch + (m, m), pick(rng, ALL_DTYPES))
    got, want, fe, se = both_raise("solve_continuous_lyapunov", case,
                                   lambda: fsl.solve_continuous_lyapunov(a, qq),
                                   lambda: loop(sla.solve_continuous_lyapunov, batch, a, qq))
    if fe is None and se is None:
        def res(x):
            return np.max(np.abs(a @ x + x @ np.conj(np.swapaxes(a, -1, -2)) - qq),
                          initial=0) / max(1, np.max(np.abs(qq), initial=0))
        if dt == "bool":   # (SciPy: float32, from its Schur decomposition of a in float32)
            want = np.asarray(want).astype(np.asarray(got).dtype)
        check_solution("solve_continuous_lyapunov", case, got, want, res,
                       tol_of(np.asarray(want).dtype) * 100)
    count("solve_discrete_lyapunov")
    meth = pick(rng, [None, "direct", "bilinear"])
    ad = (a * 0.3 / max(1, m)).astype(a.dtype) if np.dtype(dt).kind in "fc" else \
        rand(rng, a.shape, "float64") * 0.2
    got, want, fe, se = both_raise(
        "solve_discrete_lyapunov", dict(case, meth=meth),
        lambda: fsl.solve_discrete_lyapunov(ad, qq, method=meth),
        lambda: loop(lambda x, y: sla.solve_discrete_lyapunov(x, y, method=meth), batch, ad,
                     qq))
    if fe is None and se is None:
        def res(x):
            return np.max(np.abs(ad @ x @ np.conj(np.swapaxes(ad, -1, -2)) - x + qq),
                          initial=0) / max(1, np.max(np.abs(qq), initial=0))
        check_solution("solve_discrete_lyapunov", dict(case, meth=meth), got, want, res,
                       1e-7)
    if m and rng.random() < 0.4:
        check_derivs("solve_discrete_lyapunov", case,
                     lambda x, y: fsl.solve_discrete_lyapunov(x, y, method=meth),
                     [rand(rng, a.shape) * 0.2, rand(rng, qq.shape)], rng, second=m <= 2)
    # (fuzz53: the continuous equation's derivatives, from a stream of its own so that the
    # draws above stay as they were; JAX has no such function)
    extra = rng.spawn(1)[0]
    if m and extra.random() < 0.4:
        D = deriv_dtype(extra)
        check_derivs("solve_continuous_lyapunov", dict(case, D=D), fsl.solve_continuous_lyapunov,
                     [well(extra, a.shape, D), rand(extra, qq.shape, D)], extra,
                     second=m <= 2)


@section
def sec_banded(rng):
    n = size(rng, 1, 6, 0.05)
    lo, up = int(rng.integers(0, 3)), int(rng.integers(0, 3))
    dt = pick(rng, ALL_DTYPES)
    ab = rand(rng, (lo + up + 1, n), dt)
    if np.dtype(dt).kind in "fc":
        ab[up] = ab[up] + 5.0
    elif np.dtype(dt).kind in "iu":
        ab[up] = ab[up] + 20
    b = rand(rng, (n,) if rng.random() < 0.5 else (n, 2), pick(rng, ALL_DTYPES))
    case = dict(n=n, lu=(lo, up), dt=dt, bshape=b.shape, bdt=b.dtype)
    count("solve_banded")
    if n == 1 and np.dtype(dt).kind == "c" and b.dtype.kind != "c":
        count("solve_banded/scipy-error")   # (SciPy 1.17 divides a real b in place by a[0, 0])
        return
    dtype_checked = n > 1   # (SciPy's 1 x 1: b / a in b's dtype, complex64 beside complex128)
    if n == 1 and not ab[up, 0]:
        # SciPy's 1 x 1 divides by the zero (inf, nan) where its n > 1 raises LinAlgError;
        # ours raises for every singular matrix
        try:
            fsl.solve_banded((lo, up), ab, b)
            fail("solve_banded", case, "a singular 1 x 1 did not raise")
        except np.linalg.LinAlgError:
            count("solve_banded/singular-1x1-refused")
        return
    got, want, fe, se = both_raise("solve_banded", case,
                                   lambda: fsl.solve_banded((lo, up), ab, b),
                                   lambda: sla.solve_banded((lo, up), ab, b))
    if fe is None and se is None:
        check_values("solve_banded", case, got, want, tol_of(np.asarray(want).dtype) * 10,
                     dtype=dtype_checked)
    if n and rng.random() < 0.4:
        b = np.real(b).astype(np.float64)
        ab2 = rand(rng, ab.shape)
        ab2[up] += 5.0
        check_derivs("solve_banded", case, lambda x, y: fsl.solve_banded((lo, up), x, y),
                     [ab2, b], rng, second=n <= 3)


@section
def sec_eigh_tridiagonal(rng):
    n = size(rng, 1, 6, 0)   # (SciPy refuses an empty d; ours gives empty results)
    dt = pick(rng, ["float64", "float32", "int64", "complex128"])
    d, e = rand(rng, (n,), dt), rand(rng, (max(n - 1, 0),), dt)
    eo = bool(rng.random() < 0.4)
    sel = pick(rng, ["a", "a", "i", "v"])
    rng_ = None
    if sel == "i" and n:
        lo_ = int(rng.integers(0, n))
        rng_ = (lo_, int(rng.integers(lo_, n)))
    elif sel == "v":
        rng_ = tuple(sorted(rng.standard_normal(2) * 2))
    elif sel == "i":
        sel = "a"
    case = dict(n=n, dt=dt, eo=eo, sel=sel, rng_=rng_)
    count("eigh_tridiagonal")
    got, want, fe, se = both_raise(
        "eigh_tridiagonal", case,
        lambda: fsl.eigh_tridiagonal(d, e, eigvals_only=eo, select=sel, select_range=rng_),
        lambda: sla.eigh_tridiagonal(d, e, eigvals_only=eo, select=sel, select_range=rng_))
    if fe is None and se is None:
        if n == 1 and dt == "int64":   # (SciPy returns d itself, int64, and v int64)
            want = want.astype(np.float64) if eo else (want[0].astype(np.float64),
                                                       want[1].astype(np.float64))
        w0 = np.asarray(want if eo else want[0])
        if n == 1 and w0.size == 0 and w0.dtype == np.float64 and dt == "float32":
            # (SciPy's 1 x 1 with no eigenvalue in select_range: an empty float64 array; of
            # larger ones float32, as ours always)
            count("eigh_tridiagonal/scipy-empty-1x1-float64")
            want = w0.astype(np.float32) if eo else (w0.astype(np.float32), want[1])
        tol = tol_of(np.asarray(want if eo else want[0]).dtype) * 100
        if eo:
            expect("eigh_tridiagonal", case, "values", got, want, tol)
        else:
            expect("eigh_tridiagonal", case, "values", got[0], want[0], tol)
            expect("eigh_tridiagonal", case, "vectors (phase fixed)",
                   _fix_vectors(np.asarray(got[1]), np.asarray(want[1])), want[1], tol * 10)
    # (fuzz53: derivatives in d and e, from a stream of its own so that the draws above stay
    # as they were: the eigenvalues, and the vectors' squared entries (free of their signs);
    # not for select='v', whose size follows the values. JAX's has no derivative)
    extra = rng.spawn(1)[0]
    if n and sel != "v" and extra.random() < 0.5:
        kw = dict(select=sel, select_range=rng_)

        def f(x, y):
            if eo or n == 1:
                return fsl.eigh_tridiagonal(x, y, eigvals_only=True, **kw)
            w, v = fsl.eigh_tridiagonal(x, y, **kw)
            return fnp.concat([w, fnp.reshape(v * v, (-1,))])
        check_derivs("eigh_tridiagonal", case, f,
                     [rand(extra, (n,)), rand(extra, (n - 1,))], extra, second=n <= 3,
                     fd_tol=1e-4)


# -- special matrices -------------------------------------------------------------------------

@section
def sec_special(rng):
    kind = pick(rng, ["toeplitz", "toeplitz1", "circulant", "hankel", "hankel1", "companion",
                      "fiedler", "fiedler_companion", "leslie", "convolution_matrix",
                      "block_diag", "dft", "hadamard", "helmert", "hilbert", "invhilbert",
                      "pascal", "invpascal"])
    dt = pick(rng, ALL_DTYPES)
    n = size(rng, 1, 6, 0.05)
    batch = batch_shape(rng, 0.2) if kind in ("toeplitz", "toeplitz1", "circulant",
                                              "companion", "fiedler", "fiedler_companion",
                                              "leslie", "convolution_matrix") else ()
    c = rand(rng, batch + (n,), dt)
    r = rand(rng, batch + (size(rng, 1, 5),), pick(rng, ALL_DTYPES))
    case = dict(kind=kind, dt=dt, n=n, batch=batch, r=r.shape)
    count("special/" + kind)
    diff_args = None
    if kind == "toeplitz":
        call = (lambda m: m.toeplitz(c, r))
        diff_args = (lambda x, y: fsl.toeplitz(x, y), [c, r])
    elif kind == "toeplitz1":
        call = (lambda m: m.toeplitz(c))
    elif kind == "circulant":
        call = (lambda m: m.circulant(c))
    elif kind == "hankel":
        if batch:
            return
        call = (lambda m: m.hankel(c, r))
    elif kind == "hankel1":
        if batch:
            return
        call = (lambda m: m.hankel(c))
    elif kind == "companion":
        if n and rng.random() < 0.8:
            c[..., 0] = c[..., 0] if np.all(c[..., 0] != 0) else 1
        call = (lambda m: m.companion(c))
    elif kind == "fiedler":
        if n <= 1 and c.dtype == np.bool_:
            # (SciPy returns an empty float64 vector for an empty input, and [[0.]] for a
            # length-1 one, before it looks at the dtype, and raises for booleans otherwise;
            # functrans raises for booleans at every size: documented in docs/api/scipy.md)
            try:
                fsl.fiedler(c)
                fail("special/fiedler", case, "booleans did not raise TypeError")
            except TypeError:
                count("special/fiedler-bool-refused")
            return
        call = (lambda m: m.fiedler(c))
    elif kind == "fiedler_companion":
        if n < 2:
            return   # (SciPy: an empty 1-d array; ours: ValueError, as companion's)
        if n and np.any(c[..., 0] == 0):
            c[..., 0] = 1
        call = (lambda m: m.fiedler_companion(c))
    elif kind == "leslie":
        s = rand(rng, batch + (max(n - 1, 0),), pick(rng, ALL_DTYPES))
        call = (lambda m: m.leslie(c, s))
    elif kind == "convolution_matrix":
        k = int(rng.integers(-1, 5))
        mode = pick(rng, ["full", "same", "valid", "bogus"])
        case.update(k=k, mode=mode)
        call = (lambda m: m.convolution_matrix(c, k, mode))
    elif kind == "block_diag":
        blocks = [rand(rng, tuple(int(rng.integers(0, 3)) for _ in range(int(rng.integers(0, 3)))),
                       pick(rng, ALL_DTYPES)) for _ in range(int(rng.integers(0, 4)))]
        case.update(blocks=[(b.shape, b.dtype) for b in blocks])
        call = (lambda m: m.block_diag(*blocks))
    elif kind == "dft":
        sc = pick(rng, [None, "sqrtn", "n"])
        call = (lambda m: m.dft(n, sc))
    elif kind == "hadamard":
        k = pick(rng, [1, 2, 4, 8, 3, 0])
        hdt = pick(rng, [int, float, "float32", "complex128"])
        case.update(k=k, hdt=hdt)
        call = (lambda m: m.hadamard(k, hdt))
    elif kind == "helmert":
        full = bool(rng.random() < 0.5)
        call = (lambda m: m.helmert(n, full))
    elif kind == "hilbert":
        call = (lambda m: m.hilbert(n))
    elif kind == "invhilbert":
        ex = bool(rng.random() < 0.5)
        call = (lambda m: m.invhilbert(n, ex))
    else:
        pk = pick(rng, ["symmetric", "upper", "lower"])
        ex = bool(rng.random() < 0.5)
        fn = kind
        case.update(pk=pk, ex=ex)
        call = (lambda m: getattr(m, fn)(n, pk, ex))
    got, want, fe, se = both_raise("special/" + kind, case, lambda: call(fsl),
                                   lambda: call(sla))
    if fe is None and se is None:
        if kind == "fiedler" and n == 1:   # (SciPy: [[0.]] float64 whatever the dtype)
            want = np.asarray(want).astype(np.asarray(got).dtype)
        if (np.asarray(got).dtype, np.asarray(want).dtype) in (
                (np.float32, np.float64), (np.complex64, np.complex128)) \
                and kind in ("hankel", "toeplitz", "leslie", "block_diag"):
            # (the namespace's promotion: an integer beside float32 gives float32; NumPy's
            # float64: documented in block_diag)
            count("special/float32-promotion")
            want = np.asarray(want).astype(np.asarray(got).dtype)
        check_values("special/" + kind, case, got, want,
                     tol_of(np.asarray(want).dtype) if np.asarray(want).dtype.kind in "fc"
                     else 0)
    if diff_args is not None and dt == "float64" and r.dtype == np.float64 and n \
            and rng.random() < 0.3:
        check_derivs("special/" + kind, case, diff_args[0], diff_args[1], rng,
                     second=False, vmap=False)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("seed0", type=int, nargs="?", default=0)
    p.add_argument("seed1", type=int, nargs="?", default=None)
    p.add_argument("--only", default=",".join(SECTIONS))
    p.add_argument("--n", type=int, default=10)
    a = p.parse_args()
    seed1 = a.seed0 + 1 if a.seed1 is None else a.seed1
    names = [s for s in a.only.split(",") if s]
    return run_sections(SECTIONS, TALLY, a.seed0, seed1, names, a.n, VERBOSE)


if __name__ == "__main__":
    sys.exit(main())
