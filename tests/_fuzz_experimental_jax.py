"""Seeded random fuzzer: functrans.experimental (sparse, jet, checkify, ode) against JAX (x64).

Not collected by pytest (leading underscore). Run from the repository root:

    PYTHONPATH=. python -m tests._fuzz_experimental_jax SEED0 SEED1 [--sections sparse,jet,...]
                                                                   [--n N]

For each seed in range(SEED0, SEED1) and each section, N random cases:

- sparse: BCOO fromdense (nse, n_batch, n_dense), todense, data/indices vs JAX's, transpose,
  sum_duplicates / sort_indices of duplicated entries, reshape, slice, dynamic_slice,
  dot_general (sparse x dense, dense x sparse, sparse x sparse), multiply, add, reduce_sum,
  concatenate, broadcast_in_dim, BCSR; grad w.r.t. data and the dense operand vs JAX and
  central differences; jit and vmap.
- jet: random compositions of primitives, orders 1-4, vs jax.experimental.jet and vs nested
  jvp of the same function.
- checkify: random programs with failing / passing checks of each kind, the error's kind and
  message vs JAX, under jit, vmap, grad.
- ode: odeint vs jax.experimental.ode.odeint (values, grads w.r.t. y0, t, args; pytree
  states) and vs scipy's solve_ivp at tight tolerances.

Prints one line per mismatch and a summary; exit status 1 on any.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import traceback

import numpy as np

import jax
import jax.numpy as jnp

jax.config.update("jax_enable_x64", True)
from jax.experimental import checkify as jcheckify  # noqa: E402
from jax.experimental import jet as jjet  # noqa: E402
from jax.experimental import sparse as jsparse  # noqa: E402
from jax.experimental.ode import odeint as jodeint  # noqa: E402

import functrans as ft  # noqa: E402
import functrans.numpy as fnp  # noqa: E402
from functrans.experimental import checkify as fcheckify  # noqa: E402
from functrans.experimental import sparse as fsparse  # noqa: E402
from functrans.experimental.jet import jet as fjet  # noqa: E402
from functrans.ode import odeint as fodeint  # noqa: E402

VERBOSE = bool(os.environ.get("FUZZ_VERBOSE"))
FAILS = []
COUNTS = {}


def fail(section, case, msg):
    FAILS.append((section, case, msg))
    print(f"FAIL [{section}] {msg}\n    case={case}", flush=True)


def count(section):
    COUNTS[section] = COUNTS.get(section, 0) + 1


def close(a, b, tol):
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        return False, f"shape {a.shape} vs {b.shape}"
    if a.size == 0:
        return True, ""
    fin = np.isfinite(b)
    scale = max(1.0, float(np.max(np.abs(b[fin]))) if fin.any() else 1.0)
    both_nan = np.isnan(a) & np.isnan(b)
    err = np.where(both_nan, 0.0, np.abs(a - b))
    err = np.where(np.isinf(a) & (a == b), 0.0, err)
    e = float(np.max(err))
    return (e <= tol * scale), f"max err {e:.3g} (scale {scale:.3g})"


def check_close(section, case, what, a, b, tol):
    ok, msg = close(a, b, tol)
    if not ok:
        fail(section, case, f"{what}: {msg}")
    return ok


def guarded(section, case, what, fn):
    try:
        return fn()
    except Exception as e:  # noqa: BLE001
        fail(section, case, f"{what} raised {type(e).__name__}: {str(e)[:300]}\n"
                            f"{traceback.format_exc(limit=-3) if VERBOSE else ''}")
        return None


def jax_try(fn):
    try:
        return True, fn()
    except Exception as e:  # noqa: BLE001
        return False, e


# == sparse =====================================================================================

def sparse_dense(rng, shape, density=None):
    density = rng.uniform(0.1, 0.7) if density is None else density
    x = rng.standard_normal(shape)
    x[rng.random(shape) > density] = 0.0
    return x


def random_layout(rng, ndim):
    n_batch = int(rng.integers(0, ndim + 1)) if rng.random() < 0.5 else 0
    n_dense = int(rng.integers(0, ndim - n_batch + 1)) if rng.random() < 0.3 else 0
    if n_batch + n_dense > ndim:
        n_dense = ndim - n_batch
    return n_batch, n_dense


def nse_of(x, n_batch, n_dense):
    nz = np.abs(x) > 0
    if n_dense:
        nz = nz.reshape(nz.shape[:x.ndim - n_dense] + (-1,)).any(-1)
    nz = nz.reshape(x.shape[:n_batch] + (-1,))
    return int(nz.sum(-1).max()) if nz.size else 0


def both_fromdense(x, nse, n_batch, n_dense):
    mf = fsparse.BCOO.fromdense(x, nse=nse, n_batch=n_batch, n_dense=n_dense)
    mj = jsparse.BCOO.fromdense(jnp.asarray(x), nse=nse, n_batch=n_batch, n_dense=n_dense)
    return mf, mj


def dense_of(m):
    return np.asarray(m.todense())


def sparse_fromdense_case(rng, sec):
    ndim = int(rng.integers(0, 4))
    shape = tuple(int(rng.integers(0 if rng.random() < 0.05 else 1, 5)) for _ in range(ndim))
    x = sparse_dense(rng, shape)
    nb, nd = random_layout(rng, ndim)
    need = nse_of(x, nb, nd)
    r = rng.random()
    nse = None if r < 0.4 else (need + int(rng.integers(0, 3)) if r < 0.85
                                else max(need - 1, 0))
    case = dict(op="fromdense", shape=shape, n_batch=nb, n_dense=nd, nse=nse, seed=SEED)
    okj, mj = jax_try(lambda: jsparse.BCOO.fromdense(jnp.asarray(x), nse=nse, n_batch=nb,
                                                     n_dense=nd))
    try:
        mf = fsparse.BCOO.fromdense(x, nse=nse, n_batch=nb, n_dense=nd)
    except Exception as e:  # noqa: BLE001
        if okj:
            fail(sec, case, f"functrans raised, JAX did not: {type(e).__name__}: {e}")
        return
    if not okj:
        fail(sec, case, f"JAX raised {type(mj).__name__}: {str(mj)[:200]}; functrans did not")
        return
    count(sec)
    check_close(sec, case, "todense", dense_of(mf), dense_of(mj), 0)
    if (mf.n_batch, mf.n_dense, mf.nse, mf.shape) != (mj.n_batch, mj.n_dense, mj.nse, mj.shape):
        fail(sec, case, f"layout {(mf.n_batch, mf.n_dense, mf.nse, mf.shape)} vs "
                        f"{(mj.n_batch, mj.n_dense, mj.nse, mj.shape)}")
        return
    check_close(sec, case, "data", mf.data, mj.data, 0)
    if not np.array_equal(np.asarray(mf.indices), np.asarray(mj.indices)):
        fail(sec, case, f"indices {np.asarray(mf.indices).tolist()} vs "
                        f"{np.asarray(mj.indices).tolist()}")
    if np.asarray(mf.indices).dtype != np.asarray(mj.indices).dtype:
        fail(sec, case, f"index dtype {np.asarray(mf.indices).dtype} vs {mj.indices.dtype}")
    # jit / vmap of fromdense with a static nse, gradient of todense(fromdense)
    if nse is not None and ndim:
        y = guarded(sec, case, "jit fromdense", lambda: dense_of(ft.jit(
            lambda a: fsparse.BCOO.fromdense(a, nse=nse, n_batch=nb, n_dense=nd))(x)))
        if y is not None:
            check_close(sec, case, "jit fromdense", y, dense_of(mj), 0)
        if nb == 0 and ndim >= 1 and shape[0]:
            yv = guarded(sec, case, "vmap fromdense", lambda: ft.vmap(
                lambda a: fsparse.BCOO.fromdense(a, nse=nse, n_dense=min(nd, a.ndim)).todense()
            )(x))
            yj = jax.vmap(lambda a: jsparse.BCOO.fromdense(
                a, nse=nse, n_dense=min(nd, a.ndim)).todense())(jnp.asarray(x))
            if yv is not None:
                check_close(sec, case, "vmap fromdense", yv, yj, 0)
        w = rng.standard_normal(shape)
        gf = guarded(sec, case, "grad todense(fromdense)", lambda: ft.grad(
            lambda a: fnp.sum(fsparse.BCOO.fromdense(a, nse=nse, n_batch=nb,
                                                     n_dense=nd).todense() * w))(x))
        gj = jax.grad(lambda a: jnp.sum(jsparse.BCOO.fromdense(
            a, nse=nse, n_batch=nb, n_dense=nd).todense() * w))(jnp.asarray(x))
        if gf is not None:
            check_close(sec, case, "grad todense(fromdense)", gf, gj, 1e-12)


def random_bcoo(rng, shape, nb, nd, duplicates=False, out_of_range=False):
    """Random BCOO parts (data, indices) in NumPy, possibly with repeated indices."""
    ns = len(shape) - nb - nd
    bshape, sshape, dshape = shape[:nb], shape[nb:nb + ns], shape[nb + ns:]
    nse = int(rng.integers(0, 6))
    idx = np.stack([rng.integers(0, max(n, 1), size=bshape + (nse,)) for n in sshape], -1) \
        if ns else np.zeros(bshape + (nse, 0), dtype=np.int64)
    idx = idx.astype(np.int32).reshape(bshape + (nse, ns))
    if duplicates and nse >= 2:
        idx[..., 1, :] = idx[..., 0, :]
    if out_of_range and nse and ns:
        idx[..., -1, 0] = sshape[0]  # padding position
    if any(n == 0 for n in sshape):
        nse = 0
        idx = np.zeros(bshape + (0, ns), dtype=np.int32)
    data = rng.standard_normal(bshape + (nse,) + dshape)
    return data, idx


def make_both(data, idx, shape):
    return (fsparse.BCOO((data, idx), shape=shape),
            jsparse.BCOO((jnp.asarray(data), jnp.asarray(idx)), shape=shape))


def random_shape(rng, lo=1, hi=4, ndim=None):
    ndim = int(rng.integers(1, 4)) if ndim is None else ndim
    return tuple(int(rng.integers(lo, hi + 1)) for _ in range(ndim))


def sparse_structure_case(rng, sec):
    shape = random_shape(rng)
    nb, nd = random_layout(rng, len(shape))
    if nb + nd == len(shape) and rng.random() < 0.7:
        nb, nd = 0, 0
    data, idx = random_bcoo(rng, shape, nb, nd, duplicates=rng.random() < 0.5,
                            out_of_range=rng.random() < 0.3)
    mf, mj = make_both(data, idx, shape)
    dense = dense_of(mj)
    op = str(rng.choice(["todense", "sum_duplicates", "sort_indices", "transpose", "reduce_sum",
                         "slice", "dynamic_slice", "reshape", "broadcast_in_dim", "concatenate",
                         "neg_scale", "squeeze", "extract", "update_layout"]))
    case = dict(op=op, shape=shape, n_batch=nb, n_dense=nd, data=data.tolist(),
                idx=idx.tolist(), seed=SEED)
    count(sec + ":" + op)
    if op == "todense":
        check_close(sec, case, "todense", dense_of(mf), dense, 0)
        check_close(sec, case, "jit todense", ft.jit(lambda m: m.todense())(mf), dense, 0)
        w = rng.standard_normal(shape)
        gf = ft.grad(lambda d: fnp.sum(fsparse.BCOO((d, idx), shape=shape).todense() * w))(data)
        gj = jax.grad(lambda d: jnp.sum(jsparse.BCOO((d, jnp.asarray(idx)), shape=shape)
                                        .todense() * w))(jnp.asarray(data))
        check_close(sec, case, "grad todense wrt data", gf, gj, 1e-12)
    elif op in ("sum_duplicates", "sort_indices"):
        nse = None
        if op == "sum_duplicates" and rng.random() < 0.5:
            nse = int(rng.integers(max(mf.nse, 1), mf.nse + 3))
        fn_f = (lambda m: m.sort_indices()) if op == "sort_indices" else \
            (lambda m: m.sum_duplicates(nse=nse))
        fn_j = (lambda m: m.sort_indices()) if op == "sort_indices" else \
            (lambda m: m.sum_duplicates(nse=nse))
        rf = guarded(sec, case, op, lambda: fn_f(mf))
        if rf is None:
            return
        rj = fn_j(mj)
        check_close(sec, case, op + " todense", dense_of(rf), dense, 1e-14)
        if op == "sum_duplicates":
            if rf.nse != rj.nse:
                fail(sec, case, f"sum_duplicates nse {rf.nse} vs {rj.nse}")
            else:
                if not np.array_equal(np.asarray(rf.indices), np.asarray(rj.indices)):
                    fail(sec, case, f"sum_duplicates indices {np.asarray(rf.indices).tolist()} vs "
                                    f"{np.asarray(rj.indices).tolist()}")
                check_close(sec, case, "sum_duplicates data", rf.data, rj.data, 1e-14)
        else:
            # sorted positions: lexicographic per batch, in range ones first
            ii = np.asarray(rf.indices).reshape((-1,) + rf.indices.shape[-2:])
            for b in ii:
                keys = [tuple(r) for r in b]
                if keys != sorted(keys):
                    fail(sec, case, f"sort_indices not sorted: {b.tolist()}")
                    break
        if nse is not None or op == "sort_indices":
            yj = guarded(sec, case, "jit " + op, lambda: dense_of(ft.jit(fn_f)(mf)))
            if yj is not None:
                check_close(sec, case, "jit " + op, yj, dense, 1e-14)
        if nb and nse is not None or op == "sort_indices" and nb:
            # vmap over the leading batch dimension
            def vf(d, i):
                return fn_f(fsparse.BCOO((d, i), shape=shape[1:])).todense()
            yv = guarded(sec, case, "vmap " + op, lambda: ft.vmap(vf)(data, idx))
            if yv is not None:
                check_close(sec, case, "vmap " + op, yv, dense, 1e-14)
        w = rng.standard_normal(shape)
        gf = guarded(sec, case, "grad " + op, lambda: ft.grad(
            lambda d: fnp.sum(fn_f(fsparse.BCOO((d, idx), shape=shape)).todense() * w))(data))
        gj = jax.grad(lambda d: jnp.sum(fn_j(jsparse.BCOO((d, jnp.asarray(idx)), shape=shape))
                                        .todense() * w))(jnp.asarray(data))
        if gf is not None:
            check_close(sec, case, "grad " + op, gf, gj, 1e-12)
    elif op == "transpose":
        ns = len(shape) - nb - nd
        perm = list(rng.permutation(nb)) + list(nb + rng.permutation(ns)) + \
            list(nb + ns + rng.permutation(nd))
        perm = tuple(int(p) for p in perm)
        case["perm"] = perm
        rf = guarded(sec, case, "transpose", lambda: fsparse.bcoo_transpose(mf, permutation=perm))
        if rf is not None:
            check_close(sec, case, "transpose", dense_of(rf), np.transpose(dense, perm), 0)
            rj = jsparse.bcoo_transpose(mj, permutation=perm)
            if (rf.n_batch, rf.n_dense) != (rj.n_batch, rj.n_dense):
                fail(sec, case, "transpose layout")
        w = rng.standard_normal(np.transpose(dense, perm).shape)
        gf = guarded(sec, case, "grad transpose", lambda: ft.grad(lambda d: fnp.sum(
            fsparse.bcoo_transpose(fsparse.BCOO((d, idx), shape=shape), permutation=perm)
            .todense() * w))(data))
        gj = jax.grad(lambda d: jnp.sum(jsparse.bcoo_transpose(jsparse.BCOO(
            (d, jnp.asarray(idx)), shape=shape), permutation=perm).todense() * w))(
                jnp.asarray(data))
        if gf is not None:
            check_close(sec, case, "grad transpose", gf, gj, 1e-12)
    elif op == "reduce_sum":
        k = int(rng.integers(0, len(shape) + 1))
        axes = tuple(sorted(int(a) for a in rng.choice(len(shape), size=k, replace=False)))
        case["axes"] = axes
        okj, rj = jax_try(lambda: jsparse.bcoo_reduce_sum(mj, axes=axes))
        try:
            rf = fsparse.bcoo_reduce_sum(mf, axes=axes)
        except Exception as e:  # noqa: BLE001
            if okj:
                fail(sec, case, f"reduce_sum raised {type(e).__name__}: {e}")
            return
        check_close(sec, case, "reduce_sum", dense_of(rf), dense.sum(axis=axes), 1e-13)
        if okj:
            check_close(sec, case, "reduce_sum vs jax", dense_of(rf), dense_of(rj), 1e-13)
        w = rng.standard_normal(dense.sum(axis=axes).shape)
        gf = guarded(sec, case, "grad reduce_sum", lambda: ft.grad(lambda d: fnp.sum(
            fsparse.bcoo_reduce_sum(fsparse.BCOO((d, idx), shape=shape), axes=axes)
            .todense() * w))(data))
        if gf is not None:
            gd = fsparse.BCOO((gf, idx), shape=shape)  # each entry's weight
            exp = np.expand_dims(w, axes) * np.ones(shape)
            got = np.asarray(fsparse.bcoo_extract(mf, exp).data) if False else None
            del gd, got
            # expected: for each stored entry, w at its reduced position
            ref = jax.grad(lambda d: jnp.sum(jnp.sum(jsparse.BCOO(
                (d, jnp.asarray(idx)), shape=shape).todense(), axis=axes) * w))(
                    jnp.asarray(data))
            check_close(sec, case, "grad reduce_sum", gf, ref, 1e-12)
    elif op in ("slice", "dynamic_slice"):
        starts = [int(rng.integers(0, n + 1)) for n in shape]
        limits = [int(rng.integers(s, n + 1)) for s, n in zip(starts, shape)]
        if op == "slice":
            strides = None if rng.random() < 0.5 else \
                [int(rng.integers(1, 3)) for _ in shape]
            case.update(starts=starts, limits=limits, strides=strides)
            okj, rj = jax_try(lambda: jsparse.bcoo_slice(mj, start_indices=starts,
                                                         limit_indices=limits, strides=strides))
            fn = lambda m, mod: mod.bcoo_slice(m, start_indices=starts,  # noqa: E731
                                               limit_indices=limits, strides=strides)
            sl = tuple(slice(s, l, st) for s, l, st in
                       zip(starts, limits, strides or [1] * len(shape)))
            ref = dense[sl]
        else:
            sizes = [int(rng.integers(0, n + 1)) for n in shape]
            starts = [int(rng.integers(-n - 1, n + 2)) for n in shape]
            case.update(starts=starts, sizes=sizes)
            okj, rj = jax_try(lambda: jsparse.bcoo_dynamic_slice(mj, starts, sizes))
            fn = lambda m, mod: mod.bcoo_dynamic_slice(m, starts, sizes)  # noqa: E731
            ref = np.asarray(jax.lax.dynamic_slice(jnp.asarray(dense), starts, sizes))
        try:
            rf = fn(mf, fsparse)
        except Exception as e:  # noqa: BLE001
            if okj:
                fail(sec, case, f"{op} raised {type(e).__name__}: {e}")
            return
        check_close(sec, case, op, dense_of(rf), ref, 0)
        if okj:
            check_close(sec, case, op + " vs jax", dense_of(rf), dense_of(rj), 0)
        yj = guarded(sec, case, "jit " + op, lambda: dense_of(ft.jit(lambda m: fn(m, fsparse))(mf)))
        if yj is not None:
            check_close(sec, case, "jit " + op, yj, ref, 0)
        w = rng.standard_normal(ref.shape)
        gf = guarded(sec, case, "grad " + op, lambda: ft.grad(lambda d: fnp.sum(
            fn(fsparse.BCOO((d, idx), shape=shape), fsparse).todense() * w))(data))
        okg, gj = jax_try(lambda: jax.grad(lambda d: jnp.sum(fn(jsparse.BCOO(
            (d, jnp.asarray(idx)), shape=shape), jsparse).todense() * w))(jnp.asarray(data)))
        if gf is not None and okg:
            check_close(sec, case, "grad " + op, gf, gj, 1e-12)
    elif op == "reshape":
        size = int(np.prod(shape))
        # a random factorisation of size
        new = []
        rest = size
        while rest > 1 and len(new) < 3:
            ds = [d for d in range(1, rest + 1) if rest % d == 0]
            d = int(rng.choice(ds))
            new.append(d)
            rest //= d
        new.append(rest)
        new = tuple(rng.permutation(new).tolist())
        case["new"] = new
        okj, rj = jax_try(lambda: jsparse.bcoo_reshape(mj, new_sizes=new))
        try:
            rf = fsparse.bcoo_reshape(mf, new_sizes=new)
        except Exception as e:  # noqa: BLE001
            if okj:
                fail(sec, case, f"reshape raised {type(e).__name__}: {e}")
            return
        check_close(sec, case, "reshape", dense_of(rf), dense.reshape(new), 0)
        w = rng.standard_normal(new)
        gf = guarded(sec, case, "grad reshape", lambda: ft.grad(lambda d: fnp.sum(
            fsparse.bcoo_reshape(fsparse.BCOO((d, idx), shape=shape), new_sizes=new)
            .todense() * w))(data))
        if gf is not None:
            ref = jax.grad(lambda d: jnp.sum(jsparse.BCOO((d, jnp.asarray(idx)), shape=shape)
                                             .todense().reshape(new) * w))(jnp.asarray(data))
            check_close(sec, case, "grad reshape", gf, ref, 1e-12)
    elif op == "broadcast_in_dim":
        # insert up to two new axes (size 1..3) and broadcast some size-1 axes
        out_nd = len(shape) + int(rng.integers(0, 3))
        bdims = tuple(sorted(int(a) for a in rng.choice(out_nd, size=len(shape), replace=False)))
        out = [int(rng.integers(1, 4)) for _ in range(out_nd)]
        for i, d in enumerate(bdims):
            out[d] = shape[i] if shape[i] != 1 or rng.random() < 0.5 else int(rng.integers(1, 4))
        out = tuple(out)
        case.update(out=out, bdims=bdims)
        okj, rj = jax_try(lambda: jsparse.bcoo_broadcast_in_dim(mj, shape=out,
                                                                broadcast_dimensions=bdims))
        try:
            rf = fsparse.bcoo_broadcast_in_dim(mf, shape=out, broadcast_dimensions=bdims)
        except Exception as e:  # noqa: BLE001
            if okj:
                fail(sec, case, f"broadcast_in_dim raised {type(e).__name__}: {e}")
            return
        ref = np.asarray(jax.lax.broadcast_in_dim(jnp.asarray(dense), out, bdims))
        check_close(sec, case, "broadcast_in_dim", dense_of(rf), ref, 0)
        if okj:
            check_close(sec, case, "broadcast_in_dim vs jax", dense_of(rf), dense_of(rj), 0)
            if (rf.n_batch, rf.n_dense) != (rj.n_batch, rj.n_dense):
                fail(sec, case, f"broadcast_in_dim layout {(rf.n_batch, rf.n_dense)} vs "
                                f"{(rj.n_batch, rj.n_dense)}")
        w = rng.standard_normal(out)
        gf = guarded(sec, case, "grad broadcast_in_dim", lambda: ft.grad(lambda d: fnp.sum(
            fsparse.bcoo_broadcast_in_dim(fsparse.BCOO((d, idx), shape=shape), shape=out,
                                          broadcast_dimensions=bdims).todense() * w))(data))
        if gf is not None:
            ref = jax.grad(lambda d: jnp.sum(jax.lax.broadcast_in_dim(jsparse.BCOO(
                (d, jnp.asarray(idx)), shape=shape).todense(), out, bdims) * w))(
                    jnp.asarray(data))
            check_close(sec, case, "grad broadcast_in_dim", gf, ref, 1e-12)
    elif op == "concatenate":
        dim = int(rng.integers(0, len(shape)))
        shape2 = list(shape)
        shape2[dim] = int(rng.integers(1, 4))
        shape2 = tuple(shape2)
        d2, i2 = random_bcoo(rng, shape2, nb, nd, duplicates=rng.random() < 0.3)
        mf2, mj2 = make_both(d2, i2, shape2)
        case.update(dim=dim, shape2=shape2, d2=d2.tolist(), i2=i2.tolist())
        okj, rj = jax_try(lambda: jsparse.bcoo_concatenate([mj, mj2], dimension=dim))
        try:
            rf = fsparse.bcoo_concatenate([mf, mf2], dimension=dim)
        except Exception as e:  # noqa: BLE001
            if okj:
                fail(sec, case, f"concatenate raised {type(e).__name__}: {e}")
            return
        ref = np.concatenate([dense, dense_of(mj2)], axis=dim)
        check_close(sec, case, "concatenate", dense_of(rf), ref, 0)
        if okj and (rf.n_batch, rf.n_dense, rf.nse) != (rj.n_batch, rj.n_dense, rj.nse):
            fail(sec, case, f"concatenate layout {(rf.n_batch, rf.n_dense, rf.nse)} vs "
                            f"{(rj.n_batch, rj.n_dense, rj.nse)}")
        w = rng.standard_normal(ref.shape)
        gf = guarded(sec, case, "grad concatenate", lambda: ft.grad(lambda d, e: fnp.sum(
            fsparse.bcoo_concatenate([fsparse.BCOO((d, idx), shape=shape),
                                      fsparse.BCOO((e, i2), shape=shape2)], dimension=dim)
            .todense() * w), argnums=(0, 1))(data, d2))
        if gf is not None:
            ref = jax.grad(lambda d, e: jnp.sum(jnp.concatenate([
                jsparse.BCOO((d, jnp.asarray(idx)), shape=shape).todense(),
                jsparse.BCOO((e, jnp.asarray(i2)), shape=shape2).todense()], axis=dim) * w),
                argnums=(0, 1))(jnp.asarray(data), jnp.asarray(d2))
            check_close(sec, case, "grad concatenate 0", gf[0], ref[0], 1e-12)
            check_close(sec, case, "grad concatenate 1", gf[1], ref[1], 1e-12)
    elif op == "neg_scale":
        c = float(rng.standard_normal())
        check_close(sec, case, "-m", dense_of(-mf), -dense, 0)
        check_close(sec, case, "c*m", dense_of(c * mf), c * dense, 1e-15)
        check_close(sec, case, "m/c", dense_of(mf / c), dense / c, 1e-15)
        check_close(sec, case, "m*c", dense_of(mf * c), dense * c, 1e-15)
        d2, i2 = random_bcoo(rng, shape, nb, nd)
        mf2, mj2 = make_both(d2, i2, shape)
        check_close(sec, case, "m+m2", dense_of(mf + mf2), dense + dense_of(mj2), 1e-14)
        check_close(sec, case, "m-m2", dense_of(mf - mf2), dense - dense_of(mj2), 1e-14)
        v = rng.standard_normal(shape)
        check_close(sec, case, "m*dense", dense_of(mf * v), dense * v, 1e-14)
        check_close(sec, case, "dense*m", dense_of(v * mf), dense * v, 1e-14)
        check_close(sec, case, "m+dense", np.asarray(mf + v), dense + v, 1e-14)
        check_close(sec, case, "dense-m", np.asarray(v - mf), v - dense, 1e-14)
        if shape:
            vb = rng.standard_normal(shape[-1:])
            okj, rj = jax_try(lambda: (mj * jnp.asarray(vb)).todense())
            r = guarded(sec, case, "m*broadcast vector", lambda: dense_of(mf * vb))
            if r is not None:
                check_close(sec, case, "m*broadcast vector", r, dense * vb, 1e-14)
        rf = guarded(sec, case, "multiply_sparse", lambda: fsparse.bcoo_multiply_sparse(mf, mf2))
        if rf is not None:
            check_close(sec, case, "multiply_sparse", dense_of(rf), dense * dense_of(mj2),
                        1e-13)
            gf = ft.grad(lambda d, e: fnp.sum(fsparse.bcoo_multiply_sparse(
                fsparse.BCOO((d, idx), shape=shape), fsparse.BCOO((e, i2), shape=shape))
                .todense() * v), argnums=(0, 1))(data, d2)
            gj = jax.grad(lambda d, e: jnp.sum(jsparse.bcoo_multiply_sparse(
                jsparse.BCOO((d, jnp.asarray(idx)), shape=shape),
                jsparse.BCOO((e, jnp.asarray(i2)), shape=shape)).todense() * v),
                argnums=(0, 1))(jnp.asarray(data), jnp.asarray(d2))
            check_close(sec, case, "grad multiply_sparse 0", gf[0], gj[0], 1e-12)
            check_close(sec, case, "grad multiply_sparse 1", gf[1], gj[1], 1e-12)
        # multiply_dense: gradient wrt the dense operand too
        gf = guarded(sec, case, "grad multiply_dense", lambda: ft.grad(
            lambda d, x: fnp.sum(fnp.sin(fsparse.bcoo_multiply_dense(
                fsparse.BCOO((d, idx), shape=shape), x))), argnums=(0, 1))(data, v))
        if gf is not None:
            gj = jax.grad(lambda d, x: jnp.sum(jnp.sin(jsparse.bcoo_multiply_dense(
                jsparse.BCOO((d, jnp.asarray(idx)), shape=shape), x))), argnums=(0, 1))(
                    jnp.asarray(data), jnp.asarray(v))
            check_close(sec, case, "grad multiply_dense data", gf[0], gj[0], 1e-12)
            check_close(sec, case, "grad multiply_dense x", gf[1], gj[1], 1e-12)
    elif op == "squeeze":
        ones = [i for i, n in enumerate(shape) if n == 1]
        if not ones:
            return
        dims = tuple(int(d) for d in rng.choice(ones, size=int(rng.integers(1, len(ones) + 1)),
                                                 replace=False))
        case["dims"] = dims
        okj, rj = jax_try(lambda: jsparse.bcoo_squeeze(mj, dimensions=dims))
        try:
            rf = fsparse.bcoo_squeeze(mf, dimensions=dims)
        except Exception as e:  # noqa: BLE001
            if okj:
                fail(sec, case, f"squeeze raised {type(e).__name__}: {e}")
            return
        check_close(sec, case, "squeeze", dense_of(rf), np.squeeze(dense, dims), 0)
    elif op == "extract":
        v = rng.standard_normal(shape)
        rf = guarded(sec, case, "extract", lambda: fsparse.bcoo_extract(mf, v))
        rj = jsparse.bcoo_extract(mj, jnp.asarray(v))
        if rf is not None:
            check_close(sec, case, "extract todense", dense_of(rf), dense_of(rj), 1e-14)
            check_close(sec, case, "extract data", rf.data, rj.data, 1e-14)
            w = rng.standard_normal(rf.data.shape)
            gf = ft.grad(lambda x: fnp.sum(fsparse.bcoo_extract(mf, x).data * w))(v)
            # the transpose of the gather: w added up at each stored (in range) position
            gj = dense_of(jsparse.BCOO((jnp.asarray(w), jnp.asarray(idx)), shape=shape))
            check_close(sec, case, "grad extract", gf, gj, 1e-12)
    elif op == "update_layout":
        nb2, nd2 = random_layout(rng, len(shape))
        case.update(nb2=nb2, nd2=nd2)
        okj, rj = jax_try(lambda: jsparse.bcoo_update_layout(mj, n_batch=nb2, n_dense=nd2,
                                                             on_inefficient=None))
        try:
            rf = fsparse.bcoo_update_layout(mf, n_batch=nb2, n_dense=nd2, on_inefficient=None)
        except Exception as e:  # noqa: BLE001
            if okj:
                fail(sec, case, f"update_layout raised {type(e).__name__}: {e}")
            return
        check_close(sec, case, "update_layout", dense_of(rf), dense, 1e-14)
        if (rf.n_batch, rf.n_dense) != (nb2, nd2):
            fail(sec, case, f"update_layout gave {(rf.n_batch, rf.n_dense)}")


def sparse_dot_case(rng, sec):
    """dot_general with random dimension numbers: sparse x dense, dense x sparse, sparse x
    sparse; values, grads (data and dense operand) vs JAX and central differences."""
    nb_dot = int(rng.integers(0, 2)) if rng.random() < 0.4 else 0
    nc = int(rng.integers(0, 3))
    nfl = int(rng.integers(0, 2))
    nfr = int(rng.integers(0, 2))
    bsz = [int(rng.integers(1, 4)) for _ in range(nb_dot)]
    csz = [int(rng.integers(1, 4)) for _ in range(nc)]
    lf = [int(rng.integers(1, 4)) for _ in range(nfl)]
    rf_ = [int(rng.integers(1, 4)) for _ in range(nfr)]
    lshape_l = bsz + csz + lf  # logical order: batch, contract, free
    rshape_l = bsz + csz + rf_
    lperm = list(rng.permutation(len(lshape_l)))
    rperm = list(rng.permutation(len(rshape_l)))
    # physical position of logical axis i = lperm.index(i)...: physical[p] = logical[lperm[p]]
    lshape = tuple(lshape_l[p] for p in lperm)
    rshape = tuple(rshape_l[p] for p in rperm)
    lpos = [lperm.index(i) for i in range(len(lperm))]
    rpos = [rperm.index(i) for i in range(len(rperm))]
    lb = tuple(lpos[:nb_dot])
    rb = tuple(rpos[:nb_dot])
    lc = tuple(lpos[nb_dot:nb_dot + nc])
    rc = tuple(rpos[nb_dot:nb_dot + nc])
    dn = ((lc, rc), (lb, rb))
    kind = str(rng.choice(["sd", "ds", "ss"]))
    x = sparse_dense(rng, lshape)
    y = sparse_dense(rng, rshape) if kind != "sd" else rng.standard_normal(rshape)
    if kind == "ds":
        x = rng.standard_normal(lshape)
    sp_side = {"sd": (True, False), "ds": (False, True), "ss": (True, True)}[kind]
    # the sparse operand's n_batch: 0, or exactly its dot batch dims when they lead
    def layout(shape, bdims, is_sparse):
        if not is_sparse:
            return None
        nb = 0
        if bdims and tuple(sorted(bdims)) == tuple(range(len(bdims))) and rng.random() < 0.6:
            nb = len(bdims)
        elif rng.random() < 0.3 and len(shape) >= 2 and not bdims:
            nb = 1 if kind != "ss" else 0
        nd = 0
        if rng.random() < 0.25 and len(shape) - nb >= 2:
            nd = 1
        return nb, nd
    ll = layout(lshape, lb, sp_side[0])
    rl = layout(rshape, rb, sp_side[1])
    if kind == "ss" and ll and rl and ll[0] != rl[0]:
        rl = (ll[0], rl[1]) if len(rshape) - ll[0] - rl[1] >= 0 else rl
    case = dict(kind=kind, lshape=lshape, rshape=rshape, dn=dn, ll=ll, rl=rl, seed=SEED)
    ref = np.asarray(jax.lax.dot_general(jnp.asarray(x), jnp.asarray(y), dn))

    def opnd(a, lay, mod, jx):
        if lay is None:
            return jnp.asarray(a) if jx else a
        arr = jnp.asarray(a) if jx else a
        return mod.BCOO.fromdense(arr, n_batch=lay[0], n_dense=lay[1])

    okj, rj = jax_try(lambda: jsparse.bcoo_dot_general(opnd(x, ll, jsparse, True),
                                                       opnd(y, rl, jsparse, True),
                                                       dimension_numbers=dn))
    try:
        out = fsparse.bcoo_dot_general(opnd(x, ll, fsparse, False), opnd(y, rl, fsparse, False),
                                       dimension_numbers=dn)
    except NotImplementedError as e:
        count(sec + ":notimpl")
        if okj and VERBOSE:
            print(f"  (not implemented, JAX does it) {case}: {e}")
        return
    except Exception as e:  # noqa: BLE001
        if okj:
            fail(sec, case, f"dot_general raised {type(e).__name__}: {e}")
        else:
            count(sec + ":both-raise")
        return
    count(sec + ":" + kind)
    got = dense_of(out) if isinstance(out, fsparse.BCOO) else np.asarray(out)
    if not check_close(sec, case, "dot_general value", got, ref, 1e-13):
        return
    if okj:
        gj_ = dense_of(rj) if isinstance(rj, jsparse.BCOO) else np.asarray(rj)
        check_close(sec, case, "dot_general vs jax", got, gj_, 1e-13)
        if isinstance(out, fsparse.BCOO) != isinstance(rj, jsparse.BCOO):
            fail(sec, case, f"sparse result {isinstance(out, fsparse.BCOO)} vs JAX's "
                            f"{isinstance(rj, jsparse.BCOO)}")
    # derivatives wrt data of the sparse operand(s) and the dense operand
    mx = opnd(x, ll, fsparse, False)
    my = opnd(y, rl, fsparse, False)
    w = rng.standard_normal(ref.shape)

    def loss(a, b):
        A = fsparse.BCOO((a, mx.indices), shape=mx.shape) if ll else a
        B = fsparse.BCOO((b, my.indices), shape=my.shape) if rl else b
        r = fsparse.bcoo_dot_general(A, B, dimension_numbers=dn)
        r = r.todense() if isinstance(r, fsparse.BCOO) else r
        return fnp.sum(fnp.sin(r) * w)
    a0 = mx.data if ll else x
    b0 = my.data if rl else y
    g = guarded(sec, case, "grad dot_general", lambda: ft.grad(loss, argnums=(0, 1))(a0, b0))
    if g is None:
        return
    # central differences along a random direction
    ta, tb = rng.standard_normal(np.shape(a0)), rng.standard_normal(np.shape(b0))
    h = 1e-6
    fd = (float(loss(a0 + h * ta, b0 + h * tb)) - float(loss(a0 - h * ta, b0 - h * tb))) / (2 * h)
    lin = float(np.sum(np.asarray(g[0]) * ta) + np.sum(np.asarray(g[1]) * tb))
    if not abs(fd - lin) <= 1e-6 * (1 + abs(fd)):
        fail(sec, case, f"grad dot_general vs central differences: {lin} vs {fd}")
    # jvp == grad dot tangent
    _, t = guarded(sec, case, "jvp dot_general", lambda: ft.jvp(loss, (a0, b0), (ta, tb))) \
        or (None, None)
    if t is not None and not abs(float(t) - lin) <= 1e-10 * (1 + abs(lin)):
        fail(sec, case, f"jvp vs grad dot_general: {float(t)} vs {lin}")
    # jit
    v = guarded(sec, case, "jit dot_general", lambda: ft.jit(loss)(a0, b0))
    if v is not None:
        check_close(sec, case, "jit dot_general", v, loss(a0, b0), 1e-12)
    gjit = guarded(sec, case, "jit(grad) dot_general",
                   lambda: ft.jit(ft.grad(loss, argnums=(0, 1)))(a0, b0))
    if gjit is not None:
        check_close(sec, case, "jit(grad) dot_general 0", gjit[0], g[0], 1e-12)
        check_close(sec, case, "jit(grad) dot_general 1", gjit[1], g[1], 1e-12)
    # vmap over a new leading axis of the dense operand (sparse x dense only)
    if kind == "sd":
        yb = rng.standard_normal((2,) + rshape)
        vf = guarded(sec, case, "vmap dot_general (dense batched)", lambda: ft.vmap(
            lambda b: fsparse.bcoo_dot_general(mx, b, dimension_numbers=dn))(yb))
        if vf is not None:
            vr = np.stack([np.asarray(jax.lax.dot_general(jnp.asarray(x), jnp.asarray(yy), dn))
                           for yy in yb])
            check_close(sec, case, "vmap dot_general (dense batched)", vf, vr, 1e-13)
        # vmap over a stacked BCOO (data and indices batched)
        xb = np.stack([x, sparse_dense(rng, lshape)])
        ms = [fsparse.BCOO.fromdense(xx, n_batch=ll[0], n_dense=ll[1]) for xx in xb]
        nse = max(m.nse for m in ms)
        ms = [fsparse.BCOO.fromdense(xx, nse=nse, n_batch=ll[0], n_dense=ll[1]) for xx in xb]
        db = np.stack([np.asarray(m.data) for m in ms])
        ib = np.stack([np.asarray(m.indices) for m in ms])
        vf = guarded(sec, case, "vmap dot_general (sparse batched)", lambda: ft.vmap(
            lambda d, i: fsparse.bcoo_dot_general(fsparse.BCOO((d, i), shape=lshape), y,
                                                  dimension_numbers=dn))(db, ib))
        if vf is not None:
            vr = np.stack([np.asarray(jax.lax.dot_general(jnp.asarray(xx), jnp.asarray(y), dn))
                           for xx in xb])
            check_close(sec, case, "vmap dot_general (sparse batched)", vf, vr, 1e-13)


def sparse_matmul_case(rng, sec):
    """@ with vectors/matrices/batches, BCSR, sparsify of ordinary functions."""
    m, k, n = (int(rng.integers(1, 5)) for _ in range(3))
    a = sparse_dense(rng, (m, k))
    b = rng.standard_normal((k, n)) if rng.random() < 0.6 else rng.standard_normal(k)
    case = dict(op="matmul", a=a.tolist(), bshape=b.shape, seed=SEED)
    count(sec + ":matmul")
    M = fsparse.BCOO.fromdense(a)
    check_close(sec, case, "M @ b", M @ b, a @ b, 1e-13)
    c = rng.standard_normal((n, m)) if b.ndim == 2 else rng.standard_normal(m)
    check_close(sec, case, "c @ M", c @ M, c @ a, 1e-13)
    check_close(sec, case, "fnp c @ M", fnp.asarray(c) @ M, c @ a, 1e-13)
    R = fsparse.BCSR.fromdense(a)
    Rj = jsparse.BCSR.fromdense(jnp.asarray(a))
    check_close(sec, case, "BCSR todense", R.todense(), a, 0)
    if not (np.array_equal(np.asarray(R.indptr), np.asarray(Rj.indptr))
            and np.array_equal(np.asarray(R.indices), np.asarray(Rj.indices))):
        fail(sec, case, f"BCSR indptr/indices {np.asarray(R.indptr)} {np.asarray(R.indices)} vs "
                        f"{np.asarray(Rj.indptr)} {np.asarray(Rj.indices)}")
    check_close(sec, case, "BCSR @ b", R @ b, a @ b, 1e-13)
    check_close(sec, case, "BCSR.to_bcoo", R.to_bcoo().todense(), a, 0)
    check_close(sec, case, "BCSR.from_bcoo", fsparse.BCSR.from_bcoo(M).todense(), a, 0)
    # sparse @ sparse
    bs = sparse_dense(rng, (k, n))
    S = M @ fsparse.BCOO.fromdense(bs)
    check_close(sec, case, "M @ S", dense_of(S), a @ bs, 1e-13)
    # sparsify of an ordinary function
    v = rng.standard_normal(k)
    u = rng.standard_normal(m)
    c0 = float(rng.standard_normal())

    def f(mat, vec, xp):
        y = (c0 * mat) @ vec + xp.sum(mat, axis=1) - (mat.T @ u)[:1].sum()
        z = xp.sum(mat * mat, axis=0)
        return y, z, xp.sum(mat), (mat + mat).T

    rf = guarded(sec, case, "sparsify", lambda: fsparse.sparsify(lambda mm, vv: f(mm, vv, fnp))(
        M, v))
    rj = jsparse.sparsify(lambda mm, vv: f(mm, vv, jnp))(
        jsparse.BCOO.fromdense(jnp.asarray(a)), jnp.asarray(v))
    if rf is not None:
        for i, (p, q) in enumerate(zip(rf, rj)):
            p = dense_of(p) if isinstance(p, fsparse.BCOO) else np.asarray(p)
            q = dense_of(q) if isinstance(q, jsparse.BCOO) else np.asarray(q)
            check_close(sec, case, f"sparsify output {i}", p, q, 1e-13)
    # grad through sparsify with respect to data and the dense vector
    def lossf(d, vv):
        out = fsparse.sparsify(lambda mm, x: f(mm, x, fnp))(
            fsparse.BCOO((d, M.indices), shape=M.shape), vv)
        return (fnp.sum(fnp.sin(fsparse.todense(out[0])))
                + fnp.sum(fsparse.todense(out[1]) ** 2) + out[2])

    def lossj(d, vv):
        Mj = jsparse.BCOO((d, jnp.asarray(M.indices)), shape=M.shape)
        out = jsparse.sparsify(lambda mm, x: f(mm, x, jnp))(Mj, vv)
        return (jnp.sum(jnp.sin(jsparse.todense(out[0])))
                + jnp.sum(jsparse.todense(out[1]) ** 2) + out[2])
    gf = guarded(sec, case, "grad sparsify", lambda: ft.grad(lossf, argnums=(0, 1))(M.data, v))
    gj = jax.grad(lossj, argnums=(0, 1))(jnp.asarray(M.data), jnp.asarray(v))
    if gf is not None:
        check_close(sec, case, "grad sparsify data", gf[0], gj[0], 1e-12)
        check_close(sec, case, "grad sparsify vec", gf[1], gj[1], 1e-12)
    gjit = guarded(sec, case, "jit grad sparsify", lambda: ft.jit(ft.grad(lossf, argnums=(0, 1)))(
        M.data, v))
    if gjit is not None:
        check_close(sec, case, "jit grad sparsify data", gjit[0], gj[0], 1e-12)


def run_sparse(rng, n):
    sec = "sparse"
    for _ in range(n):
        r = rng.random()
        try:
            if r < 0.2:
                sparse_fromdense_case(rng, sec)
            elif r < 0.6:
                sparse_structure_case(rng, sec)
            elif r < 0.9:
                sparse_dot_case(rng, sec)
            else:
                sparse_matmul_case(rng, sec)
        except Exception as e:  # noqa: BLE001
            fail(sec, dict(seed=SEED), f"case raised {type(e).__name__}: {e}\n"
                                       f"{traceback.format_exc(limit=-4)}")


# == main =======================================================================================

SECTIONS = {"sparse": run_sparse}
SEED = None


def main(argv=None):
    global SEED
    p = argparse.ArgumentParser()
    p.add_argument("seed0", type=int)
    p.add_argument("seed1", type=int)
    p.add_argument("--sections", default=",".join(SECTIONS))
    p.add_argument("--n", type=int, default=20)
    a = p.parse_args(argv)
    for seed in range(a.seed0, a.seed1):
        SEED = seed
        for name in a.sections.split(","):
            rng = np.random.default_rng([seed, list(SECTIONS).index(name)])
            SECTIONS[name](rng, a.n)
    print("counts:", dict(sorted(COUNTS.items())))
    print(f"{len(FAILS)} failures")
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
