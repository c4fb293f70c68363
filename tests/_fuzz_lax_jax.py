"""Seeded random fuzzer: functrans.lax's array operations against jax.lax (x64).

Not collected by pytest (leading underscore). Run from the repository root:

    PYTHONPATH=. python -m tests._fuzz_lax_jax SEED0 SEED1 [--n N] [--only NAME,...]

For each seed in [SEED0, SEED1) it draws N cases (default 40) over gather and the scatters
(random dimension numbers with batching axes, modes, unique_indices/indices_are_sorted),
dynamic slices, shape operations, sorts, top_k, arg reductions, cumulative operations,
reductions, elementwise integer/bit/float operations, conversions, iota and dot_general,
(misc46, its own stream: every 4th iteration, or every one with --only misc46) the
collectives under a named vmap, custom_root, custom_linear_solve, ragged_dot and the rest
that no generator called before (see gen_misc46); misc47 and misc48 (own streams, every 4th
iteration from the 2nd and the 3rd): the enum and dimension-number types, gt/lt/neg,
axis_size and conv_general_dilated's dimension-number and precision forms,
with random shapes (0-size, 0-d, length-1 axes) and dtypes. Each case compares functrans
with JAX: the errors (both refusing is fine), shape, dtype and values; and, for float64
inputs, jvp (vs JAX and central differences), vjp (vs JAX and the dot-product identity),
grad, jacfwd vs jacrev, hessian (a sample), vmap with random in_axes, jit and
jit(vmap(grad)). Prints one line per mismatch and a summary; exit status 1 on any.
FUZZ_VERBOSE=1 prints every case.
"""

from __future__ import annotations

import os
import sys
import traceback

import numpy as np

import jax
import jax.numpy as jnp

jax.config.update("jax_enable_x64", True)
from jax import lax as jlax  # noqa: E402

import functrans as ft  # noqa: E402
import functrans.lax as flax  # noqa: E402
import functrans.numpy as fnp  # noqa: E402

VERBOSE = bool(os.environ.get("FUZZ_VERBOSE"))

from tests._fuzz_common import Tally, generator_args  # noqa: E402

TALLY = Tally()
FAILS, COUNTS, fail, count = TALLY.fails, TALLY.counts, TALLY.fail, TALLY.count

FLOATS = ["float64", "float32", "float16"]
COMPLEX = ["complex128", "complex64"]
SIGNED = ["int8", "int16", "int32", "int64"]
UNSIGNED = ["uint8", "uint16", "uint32", "uint64"]
INTS = SIGNED + UNSIGNED
ALL = FLOATS + COMPLEX + INTS + ["bool"]


# JAX's refusals that functrans relaxes on purpose (documented): negative axes of the
# cumulative operations; reduce_prod of booleans (their logical and)
# and booleans in the arithmetic reductions, cumulative operations and scatter_add; a
# preferred_element_type narrower than the operands (the product cast)
LENIENT = ("XLA operations do not allow negative axes", "does not accept dtype bool",
           "`preferred_element_type` must not be narrower",
           "gt does not accept dtype complex", "lt does not accept dtype complex",
           "top_k is not compatible with complex inputs",
           "does not support bool or complex values unless the operand and destination",
           # (ppermute under vmap: JAX's batching rule wants every member in the
           # permutation; functrans gives zeros to a member that receives nothing, as
           # ppermute does under pmap)
           "Permutation doesn't match the axis size")

# and what functrans refuses on purpose where JAX computes: atan2 of complex numbers
STRICTER = ("lax.atan2 does not accept dtype complex",)


def tol_of(dtype):
    return {"float32": 2e-5, "complex64": 2e-5, "float16": 4e-3}.get(np.dtype(dtype).name,
                                                                       1e-11)


def close(a, b, tol, exact=False):
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        return False, f"shape {a.shape} vs {b.shape}"
    if a.size == 0:
        return True, ""
    if exact or a.dtype.kind in "biu" or b.dtype.kind in "biu":
        bad = a != b
        if a.dtype.kind in "fc":
            bad &= ~(np.isnan(a) & np.isnan(b))
        if np.any(bad):
            k = np.argwhere(bad)[0]
            return False, f"{int(bad.sum())} differ, first at {tuple(k)}: {a[tuple(k)]!r} vs " \
                          f"{b[tuple(k)]!r}"
        return True, ""
    a = a.astype(np.complex128 if a.dtype.kind == "c" else np.float64)
    b = b.astype(np.complex128 if b.dtype.kind == "c" else np.float64)
    nan_a, nan_b = np.isnan(a), np.isnan(b)
    if np.any(nan_a != nan_b):
        k = np.argwhere(nan_a != nan_b)[0]
        return False, f"nan pattern differs at {tuple(k)}: {a[tuple(k)]} vs {b[tuple(k)]}"
    fin = np.isfinite(b)
    if np.any((~fin & ~nan_b) & (a != b)):
        k = np.argwhere((~fin & ~nan_b) & (a != b))[0]
        return False, f"infinity differs at {tuple(k)}: {a[tuple(k)]} vs {b[tuple(k)]}"
    if not np.any(fin):
        return True, ""
    scale = max(1.0, float(np.max(np.abs(b[fin]))))
    err = np.abs(np.where(fin, a - b, 0))
    e = float(np.max(err))
    if not np.isfinite(e) or e > tol * scale:
        k = np.unravel_index(int(np.argmax(np.where(np.isnan(err), np.inf, err))), err.shape)
        return False, f"max err {e:.3g} (scale {scale:.3g}) at {k}: {a[k]} vs {b[k]}"
    return True, ""


def rand(rng, shape, dtype, special=False):
    dt = np.dtype(dtype)
    if dt.kind == "b":
        return rng.random(shape) < 0.5
    if dt.kind in "iu":
        info = np.iinfo(dt)
        r = rng.random()
        if r < 0.2:  # extremes
            pool = np.array([info.min, info.max, 0, 1, info.max - 1,
                             info.min + 1 if info.min else 2], dtype=dt)
            return rng.choice(pool, size=shape).astype(dt)
        lo = max(int(info.min), -6)
        return rng.integers(lo, 7, size=shape).astype(dt)
    if dt.kind == "c":
        x = (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dt)
    else:
        x = rng.standard_normal(shape).astype(dt)
    if special and x.size and rng.random() < 0.4:
        pool = [np.nan, -0.0, 0.0, np.inf, -np.inf, 1.0, -1.0]
        flat = x.reshape(-1)
        for _ in range(int(rng.integers(1, 3))):
            flat[int(rng.integers(0, x.size))] = pool[int(rng.integers(0, len(pool)))]
    if x.size > 1 and rng.random() < 0.2:  # ties
        flat = x.reshape(-1)
        flat[int(rng.integers(0, x.size))] = flat[int(rng.integers(0, x.size))]
    return x


def rshape(rng, rank=None, lo=0, hi=4):
    rank = int(rng.integers(0, 4)) if rank is None else rank
    return tuple(int(rng.integers(0 if rng.random() < 0.08 else 1, hi + 1)) for _ in range(rank))


class Case:
    """One random call: ``fn(mod, *args)`` with mod jax.lax or functrans.lax; ``gen(rng)``
    draws fresh arguments of the same shapes and dtypes (vmap's members)."""

    def __init__(self, name, params, fn, gen, rng, diff=None, exact=False, unordered=False,
                 value_only=False, fd=True, jax_no_grad=False):
        self.name, self.params, self.fn, self.gen = name, params, fn, gen
        self.args = gen(rng)
        self.diff = diff  # positions of arguments to differentiate (None: the float64 ones)
        self.exact = exact
        self.unordered = unordered
        self.value_only = value_only
        self.fd = fd
        self.jax_no_grad = jax_no_grad
        # (a jax.lax function of the same value without the custom rule whose Hessian
        # settles JAX's where JAX's is not symmetric: custom_linear_solve's, gen_misc46)
        self.hessian_ref = None

    def __repr__(self):
        shapes = [(np.shape(a), np.asarray(a).dtype.name) for a in self.args]
        return f"{self.name} {self.params} args={shapes}"


def run_fn(mod, fn, args):
    try:
        out = fn(mod, *args)
        if mod is jlax:
            out = jax.tree_util.tree_map(np.asarray, out)
        else:
            out = jax.tree_util.tree_map(np.asarray, out)
        return True, out
    except Exception as e:  # noqa: BLE001
        return False, e


def leaves(out):
    return jax.tree_util.tree_leaves(out)


def compare_out(case, what, yf, yj, tol):
    lf, lj = leaves(yf), leaves(yj)
    if len(lf) != len(lj):
        fail(case.name, case, f"{what}: {len(lf)} outputs vs {len(lj)}")
        return False
    good = True
    for i, (a, b) in enumerate(zip(lf, lj)):
        a, b = np.asarray(a), np.asarray(b)
        if a.dtype != b.dtype:
            fail(case.name, case, f"{what} out {i}: dtype {a.dtype} vs JAX {b.dtype}")
            good = False
        ok, msg = close(a, b, tol, exact=case.exact)
        if not ok:
            fail(case.name, case, f"{what} out {i}: {msg}")
            good = False
    return good


def check_case(case, rng):
    okj, yj = run_fn(jlax, case.fn, [jnp.asarray(a) for a in case.args])
    okf, yf = run_fn(flax, case.fn, case.args)
    if not okf and not okj:
        count(case.name + ":both-raise")
        if VERBOSE:
            print(f"  both raise {case}: ft {type(yf).__name__}: {str(yf)[:100]} | jax "
                  f"{type(yj).__name__}: {str(yj)[:100]}")
        return
    if not okf and any(pat in str(yf) for pat in STRICTER):
        count(case.name + ":stricter")
        return
    if not okf:
        fail(case.name, case, f"functrans raised, JAX did not: {type(yf).__name__}: "
                              f"{str(yf)[:300]}")
        return
    if not okj and any(pat in str(yj) for pat in LENIENT):
        count(case.name + ":lenient")
        return
    if not okj:
        fail(case.name, case, f"JAX raised ({type(yj).__name__}: {str(yj)[:200]}), functrans "
                              f"gave {[np.shape(x) for x in leaves(yf)]}")
        return
    count(case.name)
    if VERBOSE:
        print(f"  ok {case}")
    dts = [np.asarray(a).dtype for a in case.args if np.asarray(a).dtype.kind in "fc"]
    tol = max([tol_of(d) for d in dts] + [1e-11])
    for leaf in leaves(yj):
        tol = max(tol, tol_of(np.asarray(leaf).dtype))
    if getattr(case, "skip_values", False):  # (a broken promise: JAX's value is undefined)
        lf, lj = leaves(yf), leaves(yj)
        if [(np.shape(a), np.asarray(a).dtype) for a in lf] != \
                [(np.shape(b), np.asarray(b).dtype) for b in lj]:
            fail(case.name, case, "shapes/dtypes differ")
        return
    if getattr(case, "mixed_pet", False):  # (see gen_dot)
        if case.fn(flax, *case.args).dtype != np.asarray(leaves(yj)[0]).dtype:
            fail(case.name, case, "dtype differs")
        return
    if not _matches(yf, yj, tol, case.exact):
        y64 = _jax_f32_conv_wrong(case, yf, tol)
        if y64 is not None:
            count(case.name + ":jax-f32-conv-wrong")
            yj = y64   # (the transforms below are compared with the right values)
        elif _jax_complex_cumprod_wrong(case, yf):
            count(case.name + ":jax-complex-cumprod-inf")
            yj = [_numpy_cumprod(case, case.args[0])]
        elif _jax_complex_cumlogsumexp_wrong(case, yf, tol):
            count(case.name + ":jax-complex-cumlogsumexp")
            yj = [_mp_cumlogsumexp(case, case.args[0], leaves(yf)[0])]
    if not compare_out(case, "value", yf, yj, tol):
        return
    if case.value_only:
        return
    try:
        check_transforms(case, rng, yj, tol)
    except Exception as e:  # noqa: BLE001
        fail(case.name, case, f"transform raised {type(e).__name__}: {str(e)[:300]}\n"
                              f"{traceback.format_exc(limit=-3)}")


def diff_positions(case):
    if case.diff is not None:
        return list(case.diff)
    return [i for i, a in enumerate(case.args) if np.asarray(a).dtype == np.float64]


def partial_fn(case, mod, pos):
    """``case.fn`` as a function of the arguments at ``pos`` only (the rest fixed)."""
    return _with_fn(case, lambda *a: case.fn(mod, *a), pos)


def _with_fn(case, fn, pos):
    """``fn(*case.args)`` as a function of the arguments at ``pos`` only."""
    base = list(case.args)

    def f(*vals):
        a = list(base)
        for p, v in zip(pos, vals):
            a[p] = v
        return fn(*a)
    return f


def float_leaves_fn(f, mod_np):
    """The float leaves of f's output, as one tuple (integer outputs: no derivative)."""
    def g(*a):
        out = leaves(f(*a))
        return tuple(o for o in out if jnp.issubdtype(o.dtype, jnp.floating)) if mod_np is jnp \
            else tuple(o for o in out if fnp.isdtype(o.dtype, "real floating"))
    return g


def jax_try(thunk, case, default):
    """A JAX derivative, or ``default`` where JAX raises (its own gaps and bugs: scatter_mul
    without unique_indices, select_n's scalar predicate under vjp...): counted, not failed."""
    try:
        return thunk()
    except Exception:  # noqa: BLE001
        count(case.name + ":jax-deriv-raised")
        return default


def _matches(yf, yj, tol, exact):
    lf, lj = leaves(yf), leaves(yj)
    return len(lf) == len(lj) and all(
        np.asarray(a).dtype == np.asarray(b).dtype
        and close(np.asarray(a), np.asarray(b), tol, exact=exact)[0] for a, b in zip(lf, lj))


def _jax_vmap_wrong(case, vf, members, axes, tol):
    """Whether JAX's vmap is the one that is wrong: ours matches JAX applied to each member
    alone (stacked), and JAX's vmap does not. (XLA on CPU: conv_general_dilated of float32
    with negative padding under vmap gives other values, some of them garbage, as of jax
    0.10.2; float64 and the unbatched call are right.)"""
    outs = []
    for m in members:
        one = [jnp.asarray(m[i] if ax is not None else members[0][i]) for i, ax in enumerate(axes)]
        ok, y = run_fn(jlax, case.fn, one)
        if not ok:
            return False
        outs.append([np.asarray(v) for v in leaves(y)])
    looped = [np.stack(vs) for vs in zip(*outs)]
    return _matches(vf, looped, tol, case.exact)


def _numpy_cumprod(case, x):
    """NumPy's cumprod of ``x`` along the case's axis (reversed if it is): the referee for
    complex cumprod with infinite entries, where JAX's is wrong (jax 0.10.2, CPU): its
    first element is x[0] multiplied by the identity 1 + 0j, and the textbook complex
    product gives -inf + nan j for -inf + 0j (cumprod([-inf + 0j, ...])[0] is -inf + nan j,
    NumPy's and functrans's -inf + 0j), and the nan runs on (seed 51060 it 16)."""
    ax, x = case.params["ax"], np.asarray(x)
    if case.params["rev"]:
        return np.flip(np.cumprod(np.flip(x, ax), ax), ax)
    return np.cumprod(x, ax)


def _jax_complex_cumprod_wrong(case, yf, members=None, axes=None):
    """Whether a complex cumprod with non-finite entries that differs from JAX's equals
    NumPy's (bit for bit, nan where nan): then JAX's is the wrong one (_numpy_cumprod).
    ``members``/``axes``: a vmapped call's members and in_axes (out axis 0)."""
    if case.name != "cumprod" or np.dtype(case.params["dt"]).kind != "c":
        return False
    xs = [case.args[0]] if members is None else [m[0] for m in members]
    if all(np.isfinite(np.asarray(x)).all() for x in xs):
        return False
    want = np.stack([_numpy_cumprod(case, x) for x in xs])
    got = np.asarray(leaves(yf)[0])
    got = got[None] if members is None else got
    return got.shape == want.shape and np.array_equal(got, want, equal_nan=True)


def _mp_cumlogsumexp(case, x, ours):
    """The referee for complex cumlogsumexp, where JAX's is wrong (jax 0.10.2, CPU): nan at
    every infinite real part (``log(exp(inf + 1j) + exp(0))`` is ``inf + 1j``, and a
    ``-inf`` entry adds nothing: JAX's nan from then on), and ``-pi`` for a sum whose
    imaginary part lands on the float ``pi`` (``log(2 exp(pi j))``: ``log 2 + pi j``; its
    wrap ``rem(y + pi, 2 pi) - pi`` is ``[-pi, pi)``), seed 51063+. mpmath's
    ``log(sum(exp(x)))`` in 40 digits, the imaginary part on ``[-pi, pi]`` as the floats
    hold it; ``+inf`` real parts give ``inf`` with their common imaginary part (nan where
    they differ: no limit); the imaginary part of ``log 0`` (every real part ``-inf``) is no
    number: ``ours``' is taken there."""
    import mpmath as mp
    ax, x = case.params["ax"], np.asarray(x)
    rev = case.params["rev"]
    xs = np.moveaxis(np.flip(x, ax) if rev else x, ax, -1)
    got = np.moveaxis(np.flip(np.asarray(ours), ax) if rev else np.asarray(ours), ax, -1)
    out = np.empty(xs.shape, dtype=np.complex128)
    with mp.workdps(40):
        for idx in np.ndindex(xs.shape[:-1]):
            row = xs[idx]
            for k in range(row.shape[0]):
                part = row[:k + 1]
                re, im = part.real, part.imag
                if np.isnan(re).any() or np.isnan(im).any():
                    v = complex(np.nan, np.nan)
                elif (re == np.inf).any():
                    tops = im[re == np.inf]
                    v = complex(np.inf, tops[0] if (tops == tops[0]).all() else np.nan)
                    v = complex(np.inf, float(mp.atan2(mp.sin(v.imag), mp.cos(v.imag)))) \
                        if np.isfinite(v.imag) else v
                elif (re == -np.inf).all():
                    v = complex(-np.inf, got[idx][k].imag)
                elif np.isinf(im[re > -np.inf]).any():
                    v = complex(np.nan, np.nan)
                else:
                    z = mp.log(mp.fsum(mp.exp(mp.mpc(float(r), float(i)))
                                       for r, i in zip(re, im) if r > -np.inf))
                    v = complex(z)
                out[idx + (k,)] = v
    out = np.moveaxis(out, -1, ax)
    return np.flip(out, ax) if rev else out


def _jax_complex_cumlogsumexp_wrong(case, yf, tol, members=None):
    """Whether a complex cumlogsumexp that differs from JAX's equals mpmath's (see
    _mp_cumlogsumexp) within ``tol``: then JAX's is the wrong one. ``members``: a vmapped
    call's members (the result stacks them on axis 0, whatever in_axes)."""
    if case.name != "cumlogsumexp" or np.dtype(case.params["dt"]).kind != "c":
        return False
    xs = [case.args[0]] if members is None else [m[0] for m in members]
    got = np.asarray(leaves(yf)[0])
    got = got[None] if members is None else got
    if got.shape[0] != len(xs):
        return False
    want = np.stack([_mp_cumlogsumexp(case, x, g) for x, g in zip(xs, got)])
    return got.shape == want.shape and close(got, want, tol)[0]


def _jax_f32_conv_wrong(case, yf, tol):
    """JAX's own float32 result where it is the one that is wrong, else None: a conv of
    float32 with a negative padding (XLA on CPU, jax 0.10.2, gives garbage there, some
    entries 3e3 or 3e17 and varying by run, even unbatched; float64 is right), settled by
    JAX in float64 on the same values rounded to float32, which ours must match."""
    if not case.name.startswith("conv") or case.params.get("dt") != "float32" or \
            case.params.get("padding") != "pairs":
        return None
    ok, y64 = run_fn(jlax, case.fn, [jnp.asarray(np.asarray(a, np.float64)) for a in case.args])
    if not ok:
        return None
    y64 = [np.asarray(v).astype(np.float32) for v in leaves(y64)]
    return y64 if _matches(yf, y64, tol, case.exact) else None


def check_transforms(case, rng, yj, tol):
    # jit, and vmap over random in_axes of every argument
    args = case.args
    yjit = ft.jit(lambda *a: case.fn(flax, *a))(*args)
    compare_out(case, "jit", jax.tree_util.tree_map(np.asarray, yjit), yj, tol)
    nb = 2
    axes = []
    for a in args:
        axes.append(int(rng.integers(0, np.ndim(a) + 1)) if rng.random() < 0.6 else None)
    if all(ax is None for ax in axes) and args:
        axes[int(rng.integers(0, len(args)))] = 0
        if axes[0] is not None:
            axes[0] = int(rng.integers(0, np.ndim(args[0]) + 1))
    members = [case.args] + [case.gen(rng) for _ in range(nb - 1)]
    if any(np.shape(m[i]) != np.shape(args[i]) for m in members for i in range(len(args))):
        return
    batched = [np.stack([np.asarray(m[i]) for m in members], axis=ax) if ax is not None
               else np.asarray(args[i]) for i, ax in enumerate(axes)]
    vj_ok, vj = run_fn(jlax, lambda mod, *a: jax.vmap(lambda *b: case.fn(jlax, *b),
                                                      in_axes=tuple(axes))(*a),
                       [jnp.asarray(b) for b in batched])
    if vj_ok:
        try:
            vf = ft.vmap(lambda *b: case.fn(flax, *b), in_axes=tuple(axes))(*batched)
        except Exception as e:  # noqa: BLE001
            fail(case.name, case, f"vmap in_axes={axes} raised {type(e).__name__}: "
                                  f"{str(e)[:300]}")
            vf = None
        if vf is not None:
            vf = jax.tree_util.tree_map(np.asarray, vf)
            if not _matches(vf, vj, tol, case.exact) and _jax_vmap_wrong(case, vf, members,
                                                                          axes, tol):
                count(case.name + ":jax-vmap-wrong")
            elif not _matches(vf, vj, tol, case.exact) and axes[0] == 0 and \
                    _jax_complex_cumprod_wrong(case, vf, members, axes):
                count(case.name + ":jax-complex-cumprod-inf")
            elif not _matches(vf, vj, tol, case.exact) and \
                    _jax_complex_cumlogsumexp_wrong(case, vf, tol, members):
                count(case.name + ":jax-complex-cumlogsumexp")
            else:
                compare_out(case, f"vmap in_axes={axes}", vf, vj, tol)
    pos = diff_positions(case)
    pos = [p for p in pos if np.asarray(args[p]).dtype == np.float64]
    if not pos:
        return
    out_f = [np.asarray(o) for o in leaves(yj) if np.asarray(o).dtype.kind == "f"]
    if not out_f or any(o.dtype != np.float64 for o in out_f):
        return
    f_f = float_leaves_fn(partial_fn(case, flax, pos), fnp)
    f_j = float_leaves_fn(partial_fn(case, jlax, pos), jnp)
    primals = [np.asarray(args[p]) for p in pos]
    if any(not np.all(np.isfinite(p)) for p in primals) or any(
            not np.all(np.isfinite(o)) for o in out_f):
        return  # (a pole or an infinite input: the derivatives are limits, not compared)
    tans = [rng.standard_normal(p.shape) for p in primals]
    y_f, t_f = ft.jvp(f_f, tuple(primals), tuple(tans))
    t_j = () if case.jax_no_grad else jax_try(lambda: jax.jvp(
        f_j, tuple(jnp.asarray(p) for p in primals), tuple(jnp.asarray(t) for t in tans))[1],
        case, ())
    for i, (a, b) in enumerate(zip(t_f, t_j)):
        ok, msg = close(a, b, 1e-10)
        if not ok:
            fail(case.name, case, f"jvp out {i} vs jax: {msg}")
    if case.fd:
        h = 1e-6
        plus = f_f(*[p + h * t for p, t in zip(primals, tans)])
        minus = f_f(*[p - h * t for p, t in zip(primals, tans)])
        for i, (a, pl, mi, y0) in enumerate(zip(t_f, plus, minus, y_f)):
            d = (np.asarray(pl) - np.asarray(mi)) / (2 * h)
            fin = np.isfinite(np.asarray(y0)) & np.isfinite(d)
            if case.name == "atan2":
                # (a step across the cut, y = +-0 beside x < 0, jumps by 2 pi: seed 51070
                # it 13, the difference quotient 3.1e6 where the derivative is -1.5, JAX's)
                fin &= np.abs(np.asarray(pl) - np.asarray(mi)) < np.pi
            ok, msg = close(np.where(fin, a, 0), np.where(fin, d, 0), 1e-5)
            if not ok:
                fail(case.name, case, f"jvp out {i} vs central differences: {msg}")
    us = [rng.standard_normal(np.shape(y)) for y in y_f]
    _, vjp_f = ft.vjp(f_f, *primals)
    ct_f = vjp_f(tuple(us))
    if not case.jax_no_grad:
        ct_j = jax_try(lambda: jax.vjp(f_j, *(jnp.asarray(p) for p in primals))[1](
            tuple(jnp.asarray(u) for u in us)), case, None)
        if ct_j is not None:
            for i, (a, b) in enumerate(zip(ct_f, ct_j)):
                ok, msg = close(a, b, 1e-10)
                if not ok:
                    fail(case.name, case, f"vjp arg {pos[i]} vs jax: {msg}")
    lhs = sum(float(np.sum(np.asarray(u) * np.asarray(t))) for u, t in zip(us, t_f))
    rhs = sum(float(np.sum(np.asarray(c) * t)) for c, t in zip(ct_f, tans))
    if not np.isclose(lhs, rhs, rtol=1e-9, atol=1e-9 * (1 + abs(lhs))):
        fail(case.name, case, f"dot-product identity {lhs} vs {rhs}")
    # a scalar loss: grad, jit(grad), jit(vmap(grad)) with the first argument batched

    def loss(fn, m):
        def g(*a):
            return sum((m.tanh(y) * u).sum() for y, u in zip(fn(*a), us))
        return g
    gf = ft.grad(loss(f_f, fnp), argnums=tuple(range(len(pos))))
    g_f = gf(*primals)
    if not case.jax_no_grad:
        g_j = jax_try(lambda: jax.grad(loss(f_j, jnp), argnums=tuple(range(len(pos))))(
            *(jnp.asarray(p) for p in primals)), case, [])
        for i in range(len(g_j)):
            ok, msg = close(g_f[i], g_j[i], 1e-10)
            if not ok:
                fail(case.name, case, f"grad arg {pos[i]} vs jax: {msg}")
    g_jit = ft.jit(gf)(*primals)
    for i in range(len(pos)):
        ok, msg = close(g_jit[i], g_f[i], 1e-10)
        if not ok:
            fail(case.name, case, f"jit(grad) arg {pos[i]} vs grad: {msg}")
    p0 = primals[0]
    pb = np.stack([p0, p0 + 0.25 * rng.standard_normal(p0.shape)])
    vg = ft.jit(ft.vmap(lambda x0, *rest: gf(x0, *rest), in_axes=(0,) + (None,) *
                        (len(pos) - 1)))(pb, *primals[1:])
    for k in range(2):
        want = gf(pb[k], *primals[1:])
        for i in range(len(pos)):
            ok, msg = close(np.asarray(vg[i])[k], want[i], 1e-9)
            if not ok:
                fail(case.name, case, f"jit(vmap(grad)) member {k} arg {pos[i]}: {msg}")
    # jacfwd vs jacrev, hessian vs JAX (small)
    nin = sum(p.size for p in primals)
    nout = sum(np.size(y) for y in y_f)
    if nin * nout <= 600 and rng.random() < 0.5:
        jf = ft.jacfwd(f_f, argnums=tuple(range(len(pos))))(*primals)
        jr = ft.jacrev(f_f, argnums=tuple(range(len(pos))))(*primals)
        for a, b in zip(leaves(jf), leaves(jr)):
            ok, msg = close(a, b, 1e-10)
            if not ok:
                fail(case.name, case, f"jacfwd vs jacrev: {msg}")
                break
    if nin <= 24 and rng.random() < 0.35 and not case.jax_no_grad:
        hf = ft.hessian(loss(f_f, fnp), argnums=tuple(range(len(pos))))(*primals)
        hj = jax_try(lambda: jax.hessian(loss(f_j, jnp), argnums=tuple(range(len(pos))))(
            *(jnp.asarray(p) for p in primals)), case, None)
        if hj is not None and case.hessian_ref is not None and not all(
                close(a, b, 1e-9)[0] for a, b in zip(leaves(hf), leaves(hj))):
            f_r = float_leaves_fn(_with_fn(case, case.hessian_ref, pos), jnp)
            hj = jax.hessian(loss(f_r, jnp), argnums=tuple(range(len(pos))))(
                *(jnp.asarray(p) for p in primals))
            count(case.name + ":jax-hessian-settled")
        for a, b in zip(leaves(hf), leaves(hj) if hj is not None else []):
            ok, msg = close(a, b, 1e-9)
            if not ok:
                fail(case.name, case, f"hessian vs jax: {msg}")
                break


# -- case generators -------------------------------------------------------------------------

def pick(rng, seq):
    return seq[int(rng.integers(0, len(seq)))]


def gen_gather(rng):
    r = int(rng.integers(1, 4))
    oshape = list(rshape(rng, r, hi=4))
    dims = list(range(r))
    nb = int(rng.integers(0, min(2, r) + 1)) if rng.random() < 0.35 else 0
    obd = sorted(int(d) for d in rng.permutation(dims)[:nb])
    rest = [d for d in dims if d not in obd]
    nsim = int(rng.integers(0, len(rest) + 1))
    sim = [int(d) for d in rng.permutation(rest)[:nsim]]
    collapsed = sorted(d for d in rest if rng.random() < 0.4)
    slice_sizes = []
    for d in dims:
        if d in obd or d in collapsed:
            if oshape[d] == 0:
                oshape[d] = 1
            slice_sizes.append(1)
        else:
            slice_sizes.append(int(rng.integers(0, oshape[d] + 1)))
    # index batch shape: some axes, those paired with operand batching axes of their size
    nbatch = int(rng.integers(nb, nb + 2))
    batch = [int(rng.integers(0 if rng.random() < 0.05 else 1, 4)) for _ in range(nbatch)]
    sibd = [int(a) for a in rng.permutation(nbatch)[:nb]]
    for d, a in zip(obd, sibd):
        batch[a] = oshape[d]
    ishape = tuple(batch) + (len(sim),)
    noff = r - len(collapsed) - len(obd)
    outrank = nbatch + noff
    offset_dims = sorted(int(d) for d in rng.permutation(outrank)[:noff])
    dt = pick(rng, ["float64"] * 5 + ["float32", "complex128", "int32", "uint8", "bool",
                                      "int64", "float16"])
    idt = pick(rng, ["int32", "int64", "int32", "int8", "uint8", "uint32"])
    mode = pick(rng, [None, "clip", "fill", "promise_in_bounds", "drop"])
    fill_value = None
    if mode in ("fill", "drop") and rng.random() < 0.4 and dt != "bool":
        fill_value = float(rng.integers(-3, 4)) if dt[0] in "fc" else int(rng.integers(0, 4))
    in_bounds = mode == "promise_in_bounds" or rng.random() < 0.3
    flags = dict(unique_indices=bool(rng.random() < 0.2),
                 indices_are_sorted=bool(rng.random() < 0.2))
    dn_kw = dict(offset_dims=tuple(offset_dims), collapsed_slice_dims=tuple(collapsed),
                 start_index_map=tuple(sim), operand_batching_dims=tuple(obd),
                 start_indices_batching_dims=tuple(sibd))

    def gen(rng):
        x = rand(rng, tuple(oshape), dt)
        hi = [oshape[d] - slice_sizes[d] for d in sim]
        if in_bounds:
            ind = np.stack([rng.integers(0, h + 1, size=ishape[:-1]) for h in hi], axis=-1) \
                if sim else np.zeros(ishape, np.int64)
        else:
            ind = rng.integers(-3, max([oshape[d] for d in sim] + [1]) + 3, size=ishape)
        if np.dtype(idt).kind == "u" or idt == "int8":
            ind = np.clip(ind, 0 if np.dtype(idt).kind == "u" else -100, 100)
        return [x, ind.astype(idt)]

    def fn(mod, x, ind):
        dn = mod.GatherDimensionNumbers(**dn_kw)
        return mod.gather(x, ind, dn, tuple(slice_sizes), mode=mode, fill_value=fill_value,
                          **flags)
    c = Case("gather", dict(dn=dn_kw, slice_sizes=slice_sizes, mode=mode,
                            fill_value=fill_value, **flags), fn, gen, rng)
    ind0 = np.asarray(c.args[1]).reshape(int(np.prod(ishape[:-1])), len(sim))
    starts_ok = all(0 <= v <= oshape[d] - slice_sizes[d] for row in ind0
                    for v, d in zip(row, sim))
    if not sim and len(ind0) > 1:
        c.jax_no_grad = True  # (empty index vectors: JAX's transpose hits XLA's scatter bug)
    if mode in (None, "promise_in_bounds") and not starts_ok:
        # a broken promise: XLA clamps the read, while JAX's transpose (a scatter-add in the
        # same mode) drops it; functrans differentiates the clamped read it computed
        c.jax_no_grad = True
    if flags["unique_indices"] and (len(set(map(tuple, ind0))) < len(ind0) or (
            not sim and len(ind0) > 1)):
        c.jax_no_grad = True  # (repeated indices promised unique: JAX's transpose overwrites)
    return c


SCATTERS = ["scatter", "scatter_add", "scatter_sub", "scatter_mul", "scatter_min",
            "scatter_max", "scatter_apply"]


def gen_scatter(rng):
    kind = pick(rng, SCATTERS + ["scatter_add", "scatter"])
    r = int(rng.integers(1, 4))
    oshape = list(rshape(rng, r, hi=4))
    dims = list(range(r))
    nb = int(rng.integers(0, min(2, r) + 1)) if rng.random() < 0.35 else 0
    obd = sorted(int(d) for d in rng.permutation(dims)[:nb])
    rest = [d for d in dims if d not in obd]
    nsim = int(rng.integers(0, len(rest) + 1))
    sdod = [int(d) for d in rng.permutation(rest)[:nsim]]
    inserted = sorted(d for d in rest if rng.random() < 0.4)
    window = []
    for d in dims:
        if d in obd or d in inserted:
            if oshape[d] == 0:
                oshape[d] = 1
            window.append(1)
        else:
            window.append(int(rng.integers(0, oshape[d] + 1)))
    nbatch = int(rng.integers(nb, nb + 2))
    batch = [int(rng.integers(0 if rng.random() < 0.05 else 1, 4)) for _ in range(nbatch)]
    sibd = [int(a) for a in rng.permutation(nbatch)[:nb]]
    for d, a in zip(obd, sibd):
        batch[a] = oshape[d]
    ishape = tuple(batch) + (len(sdod),)
    wdims = [d for d in dims if d not in obd and d not in inserted]
    urank = nbatch + len(wdims)
    uwd = sorted(int(d) for d in rng.permutation(urank)[:len(wdims)])
    ushape = [0] * urank
    bi = iter(batch)
    wi = iter(window[d] for d in wdims)
    for k in range(urank):
        ushape[k] = next(wi) if k in uwd else next(bi)
    dt = pick(rng, ["float64"] * 5 + ["float32", "complex128", "int32", "uint8", "int8",
                                      "bool", "float16"])
    if kind in ("scatter_sub", "scatter_mul") and dt == "bool":
        dt = "float64"
    idt = pick(rng, ["int32", "int64", "int32", "int8", "uint8"])
    mode = pick(rng, [None, "clip", "fill", "promise_in_bounds", "drop"])
    in_bounds = mode == "promise_in_bounds" or rng.random() < 0.4
    unique = bool(rng.random() < 0.3)
    sorted_ = bool(rng.random() < 0.2)
    dn_kw = dict(update_window_dims=tuple(uwd), inserted_window_dims=tuple(inserted),
                 scatter_dims_to_operand_dims=tuple(sdod), operand_batching_dims=tuple(obd),
                 scatter_indices_batching_dims=tuple(sibd))

    def gen(rng):
        x = rand(rng, tuple(oshape), dt)
        hi = [oshape[d] - window[d] for d in sdod]
        if in_bounds:
            ind = np.stack([rng.integers(0, h + 1, size=ishape[:-1]) for h in hi], axis=-1) \
                if sdod else np.zeros(ishape, np.int64)
        else:
            ind = rng.integers(-3, max([oshape[d] for d in sdod] + [1]) + 3, size=ishape)
        if np.dtype(idt).kind == "u" or idt == "int8":
            ind = np.clip(ind, 0 if np.dtype(idt).kind == "u" else -100, 100)
        out = [x, ind.astype(idt)]
        if kind != "scatter_apply":
            out.append(rand(rng, tuple(ushape), dt))
        return out

    def fn(mod, x, ind, *upd):
        dn = mod.ScatterDimensionNumbers(**dn_kw)
        kw = dict(mode=mode, unique_indices=unique, indices_are_sorted=sorted_)
        if kind == "scatter_apply":
            func = (lambda v: v * 2 + 1) if dt != "bool" else (lambda v: ~v)
            if mod is jlax and dt[0] == "f":
                func = (lambda v: jnp.sin(v) * 2)
            elif mod is flax and dt[0] == "f":
                func = (lambda v: fnp.sin(v) * 2)
            return mod.scatter_apply(x, ind, func, dn, update_shape=tuple(ushape), **kw)
        return getattr(mod, kind)(x, ind, upd[0], dn, **kw)
    c = Case(kind, dict(dn=dn_kw, oshape=oshape, ushape=ushape, mode=mode, unique=unique),
             fn, gen, rng)
    # overlapping windows: plain scatter and apply leave the order open (JAX: undefined);
    # unique_indices with repeats is a promise broken; both: shapes and dtypes only
    x0, ind0 = c.args[0], c.args[1]
    counts = np.asarray(jlax.scatter_add(
        jnp.zeros(x0.shape), jnp.asarray(ind0), jnp.ones(tuple(ushape)),
        jlax.ScatterDimensionNumbers(**dn_kw), mode=mode))
    repeats = bool(np.any(counts > 1))
    if repeats and (kind in ("scatter", "scatter_apply") or unique):
        c.params["repeats"] = True
        c.skip_values = True
    if not sdod and int(np.prod(batch)) > 1:
        # empty index vectors, several updates: XLA on CPU applies only one of them (JAX
        # 0.10.2: scatter_add of [0.5, -1.44] at [] into 0.8 gives -0.64); functrans
        # combines all, tests/test_s30_laxfuzz30.py
        c.params["empty_index_vectors"] = True
        c.skip_values = True
        c.jax_no_grad = True
    if kind == "scatter_mul" and not unique:
        c.jax_no_grad = True
    if kind in ("scatter_min", "scatter_max"):
        c.fd = True
        ind2 = np.asarray(ind0).reshape(-1, len(sdod)) if sdod else ()
        if mode == "clip" and sdod and not all(0 <= v <= oshape[d] - window[d]
                                               for row in ind2 for v, d in zip(row, sdod)):
            # JAX wrong: 0.10.2's jvp of scatter_max/min with an index clipped into range
            # gives nan at the clipped slot (its grad inf there); functrans's derivatives are
            # checked against central differences instead (tests/test_s43_sweepa43.py)
            count(kind + ":jax-wrong-clip-deriv")
            c.jax_no_grad = True
    if kind == "scatter_apply":
        c.jax_no_grad = True  # (JAX has no derivative of scatter_apply)
        if not unique:
            c.value_only = True  # (traced indices need unique_indices=True, documented)
    return c


def gen_dynamic(rng):
    which = pick(rng, ["dynamic_slice", "dynamic_update_slice", "dynamic_slice_in_dim",
                       "dynamic_index_in_dim", "dynamic_update_slice_in_dim",
                       "dynamic_update_index_in_dim"])
    r = int(rng.integers(0 if which in ("dynamic_slice", "dynamic_update_slice") else 1, 4))
    shape = rshape(rng, r, hi=5)
    dt = pick(rng, ["float64"] * 4 + ["int32", "complex128", "bool", "uint8", "float32"])
    sdt = pick(rng, ["python", "int32", "int64", "int8", "uint8", "int16", "uint32"])
    sizes = tuple(int(rng.integers(0, d + 1)) for d in shape)
    axis = int(rng.integers(-r, r)) if r else 0
    keep = bool(rng.random() < 0.5)
    traced = bool(rng.random() < 0.5) and sdt != "python"

    def start(d):
        lo = -d - 3 if sdt[0] != "u" else 0
        return int(rng.integers(lo, d + 4))

    def mk(v):
        return v if sdt == "python" else np.asarray(v, dtype=sdt)

    def gen(rng):
        x = rand(rng, shape, dt)
        starts = [start(d) for d in shape]
        out = [x]
        if which == "dynamic_update_slice":
            out.append(rand(rng, sizes, dt))
        elif which == "dynamic_update_slice_in_dim":
            us = list(shape)
            us[axis] = sizes[axis]
            out.append(rand(rng, tuple(us), dt))
        elif which == "dynamic_update_index_in_dim":
            us = list(shape)
            if rng.random() < 0.5:
                us[axis] = 1
            else:
                del us[axis]
            out.append(rand(rng, tuple(us), dt))
        if traced:
            out.append(np.asarray(starts, dtype=sdt))
        else:
            out.append(starts)
        return out

    def fn(mod, x, *rest):
        starts = rest[-1]
        upd = rest[0] if len(rest) > 1 else None
        if not traced:
            starts = [mk(s) for s in starts]
        else:
            starts = [starts[i] for i in range(len(shape))]
        if which == "dynamic_slice":
            return mod.dynamic_slice(x, starts, sizes)
        if which == "dynamic_update_slice":
            return mod.dynamic_update_slice(x, upd, starts)
        s = starts[axis % r]
        if which == "dynamic_slice_in_dim":
            return mod.dynamic_slice_in_dim(x, s, sizes[axis], axis)
        if which == "dynamic_index_in_dim":
            return mod.dynamic_index_in_dim(x, s, axis, keep)
        if which == "dynamic_update_slice_in_dim":
            return mod.dynamic_update_slice_in_dim(x, upd, s, axis)
        return mod.dynamic_update_index_in_dim(x, upd, s, axis)
    c = Case(which, dict(shape=shape, sizes=sizes, axis=axis, keep=keep, sdt=sdt,
                         traced=traced), fn, gen, rng)
    if not traced:
        c.value_only_starts = True
        # (the starts are a Python list: vmap needs array arguments)
        starts0 = c.args[-1]
        inner_fn, inner_gen = c.fn, c.gen
        c.args = c.args[:-1]
        c.fn = lambda mod, *a: inner_fn(mod, *a, starts0)
        c.gen = lambda rng: inner_gen(rng)[:-1]
    return c


def gen_shape_op(rng):
    which = pick(rng, ["slice", "pad", "concatenate", "rev", "transpose", "broadcast_in_dim",
                       "squeeze", "expand_dims", "reshape", "slice_in_dim", "index_in_dim",
                       "split", "tile", "broadcast", "collapse"])
    r = int(rng.integers(0, 4))
    shape = rshape(rng, r, hi=4)
    dt = pick(rng, ["float64"] * 5 + ["int32", "complex128", "bool", "uint64", "float16"])
    p = dict(shape=shape)
    if which == "slice":
        starts = [int(rng.integers(0, d + 1)) for d in shape]
        limits = [int(rng.integers(s, d + 1)) for s, d in zip(starts, shape)]
        strides = None if rng.random() < 0.4 else [int(rng.integers(1, 4)) for _ in shape]
        if rng.random() < 0.05 and r:
            limits[0] = shape[0] + 1
        p.update(starts=starts, limits=limits, strides=strides)

        def fn(mod, x):
            return mod.slice(x, starts, limits, strides)
    elif which == "pad":
        cfg = []
        for d in shape:
            lo, hi, it = int(rng.integers(-3, 4)), int(rng.integers(-3, 4)), \
                int(rng.integers(0, 3))
            span = (d - 1) * (it + 1) + 1 if d else 0
            if span + lo + hi < 0 and rng.random() < 0.9:
                lo, hi = abs(lo), abs(hi)
            cfg.append((lo, hi, it))
        p.update(cfg=cfg)

        def fn(mod, x, v):
            return mod.pad(x, v, cfg)
    elif which == "concatenate":
        if r == 0:
            shape = (2,)
            r = 1
        ax = int(rng.integers(0, r))
        n = int(rng.integers(1, 4))
        shapes = [tuple(int(rng.integers(0, 3)) if k == ax else s for k, s in enumerate(shape))
                  for _ in range(n)]
        p.update(ax=ax, shapes=shapes)

        def gen(rng):
            return [rand(rng, s, dt) for s in shapes]

        def fn(mod, *xs):
            return mod.concatenate(xs, ax)
        return Case(which, p, fn, gen, rng)
    elif which == "rev":
        dims = [int(d) for d in rng.permutation(r)[:int(rng.integers(0, r + 1))]]
        p.update(dims=dims)

        def fn(mod, x):
            return mod.rev(x, dims)
    elif which == "transpose":
        perm = tuple(int(d) for d in rng.permutation(r))
        p.update(perm=perm)

        def fn(mod, x):
            return mod.transpose(x, perm)
    elif which == "broadcast_in_dim":
        nr = r + int(rng.integers(0, 3))
        bd = sorted(int(d) for d in rng.permutation(nr)[:r])
        out = [int(rng.integers(1, 4)) for _ in range(nr)]
        for s, d in zip(shape, bd):
            out[d] = s if s != 1 or rng.random() < 0.5 else int(rng.integers(1, 4))
        p.update(out=out, bd=bd)

        def fn(mod, x):
            return mod.broadcast_in_dim(x, tuple(out), tuple(bd))
    elif which == "squeeze":
        ones = [k for k, s in enumerate(shape) if s == 1]
        dims = [d for d in ones if rng.random() < 0.7]
        if rng.random() < 0.3:
            dims = [d - r for d in dims]
        p.update(dims=dims)

        def fn(mod, x):
            return mod.squeeze(x, dims)
    elif which == "expand_dims":
        n = int(rng.integers(0, 3))
        dims = [int(d) for d in rng.permutation(r + n)[:n]]
        if rng.random() < 0.3:
            dims = [d - (r + n) for d in dims]
        p.update(dims=dims)

        def fn(mod, x):
            return mod.expand_dims(x, dims)
    elif which == "reshape":
        size = int(np.prod(shape))
        if size and rng.random() < 0.7:
            new = []
            left = size
            for _ in range(int(rng.integers(0, 3))):
                divs = [k for k in range(1, left + 1) if left % k == 0]
                f = pick(rng, divs)
                new.append(f)
                left //= f
            new.append(left)
        else:
            new = [size] if rng.random() < 0.5 else [size, 1]
        dims = tuple(int(d) for d in rng.permutation(r)) if rng.random() < 0.4 else None
        p.update(new=new, dims=dims)

        def fn(mod, x):
            return mod.reshape(x, tuple(new), dims)
    elif which == "slice_in_dim":
        if r == 0:
            shape, r = (3,), 1
        ax = int(rng.integers(-r, r))
        d = shape[ax]
        s = int(rng.integers(-d - 1, d + 2)) if rng.random() < 0.8 else None
        e = int(rng.integers(-d - 1, d + 2)) if rng.random() < 0.8 else None
        st = int(rng.integers(1, 3))
        p.update(shape=shape, ax=ax, s=s, e=e, st=st)

        def fn(mod, x):
            return mod.slice_in_dim(x, s, e, st, ax)
    elif which == "index_in_dim":
        if r == 0:
            shape, r = (3,), 1
        ax = int(rng.integers(-r, r))
        d = shape[ax]
        i = int(rng.integers(-d - 1, d + 1))
        keep = bool(rng.random() < 0.5)
        p.update(shape=shape, ax=ax, i=i, keep=keep)

        def fn(mod, x):
            return mod.index_in_dim(x, i, ax, keep)
    elif which == "split":
        if r == 0:
            shape, r = (3,), 1
        ax = int(rng.integers(-r, r))
        d = shape[ax]
        cuts = sorted(int(c) for c in rng.integers(0, d + 1, size=int(rng.integers(0, 3))))
        sizes = [b - a for a, b in zip([0] + cuts, cuts + [d])]
        p.update(shape=shape, ax=ax, sizes=sizes)

        def fn(mod, x):
            return tuple(mod.split(x, sizes, ax))
    elif which == "tile":
        reps = [int(rng.integers(0, 3)) for _ in range(int(rng.integers(0, r + 2)))]
        p.update(reps=reps)

        def fn(mod, x):
            return mod.tile(x, reps)
    elif which == "broadcast":
        sizes = [int(rng.integers(0, 3)) for _ in range(int(rng.integers(0, 3)))]
        p.update(sizes=sizes)

        def fn(mod, x):
            return mod.broadcast(x, sizes)
    else:  # collapse
        a = int(rng.integers(0, r + 1))
        b = int(rng.integers(a, r + 1)) if rng.random() < 0.8 else None
        p.update(a=a, b=b)

        def fn(mod, x):
            return mod.collapse(x, a, b)

    def gen(rng):
        return [rand(rng, shape, dt)] + ([rand(rng, (), dt)] if which == "pad" else [])
    return Case(which, p, fn, gen, rng)


def gen_sort(rng):
    which = pick(rng, ["sort", "sort_multi", "sort_key_val", "top_k", "argmax", "argmin"])
    r = int(rng.integers(1 if which != "sort" else 0, 4))
    shape = rshape(rng, r, hi=5)
    dt = pick(rng, ["float64"] * 4 + ["float32", "int32", "uint8", "bool", "complex128",
                                      "float16", "int64", "uint64"])
    p = dict(shape=shape, dt=dt)
    dim = int(rng.integers(-r, r)) if r else 0
    special = rng.random() < 0.5
    if which == "sort":
        stable = bool(rng.random() < 0.5)
        p.update(dim=dim, stable=stable)

        def gen(rng):
            return [rand(rng, shape, dt, special)]

        def fn(mod, x):
            return mod.sort(x, dim, stable)
    elif which == "sort_multi":
        n = int(rng.integers(1, 4))
        nk = int(rng.integers(1, n + 1))
        dts = [pick(rng, ["float64", "float64", "int32", "bool", "float32", "complex128"])
               for _ in range(n)]
        p.update(dim=dim, n=n, nk=nk, dts=dts)

        def gen(rng):
            out = []
            for d in dts:
                x = rand(rng, shape, d, special)
                if d[0] in "iu" and rng.random() < 0.7:
                    x = rng.integers(0, 2, size=shape).astype(d)
                out.append(x)
            return out

        def fn(mod, *xs):
            return tuple(mod.sort(tuple(xs), dim, True, nk))
    elif which == "sort_key_val":
        vdt = pick(rng, ["float64", "int32", "float64"])
        p.update(dim=dim, vdt=vdt)

        def gen(rng):
            return [rand(rng, shape, dt, special), rand(rng, shape, vdt)]

        def fn(mod, k, v):
            return tuple(mod.sort_key_val(k, v, dim))
    elif which == "top_k":
        k = int(rng.integers(0, shape[-1] + 1)) if rng.random() < 0.95 else shape[-1] + 1
        axis_kw = rng.random() < 0.3
        ax = int(rng.integers(-r, r))
        p.update(k=k, ax=ax if axis_kw else None)

        def gen(rng):
            return [rand(rng, shape, dt, special)]

        def fn(mod, x):
            if axis_kw:
                return tuple(mod.top_k(x, k, axis=ax))
            return tuple(mod.top_k(x, k))
    else:
        idt = pick(rng, ["int32", "int64", "int8", "uint8", "int16"])
        ax = int(rng.integers(0, r))
        p.update(ax=ax, idt=idt)

        def gen(rng):
            return [rand(rng, shape, dt, special)]

        def fn(mod, x):
            return getattr(mod, which)(x, ax, np.dtype(idt))
    c = Case(which, p, fn, gen, rng)
    c.exact = True
    # central differences only where no two values tie (a tie's derivative is a choice)
    c.fd = all(np.unique(np.asarray(a)).size == np.size(a) for a in c.args)
    return c


def gen_cum(rng):
    which = pick(rng, ["cumsum", "cumprod", "cummax", "cummin", "cumlogsumexp"])
    r = int(rng.integers(0, 4))
    shape = rshape(rng, r, hi=5)
    dt = pick(rng, ["float64"] * 5 + ["float32", "int32", "uint8", "complex128", "float16",
                                      "bool", "int8"])
    ax = int(rng.integers(-r, r)) if r else 0
    rev = bool(rng.random() < 0.5)
    special = rng.random() < 0.25

    def gen(rng):
        return [rand(rng, shape, dt, special)]

    def fn(mod, x):
        return getattr(mod, which)(x, ax, reverse=rev)
    return Case(which, dict(shape=shape, dt=dt, ax=ax, rev=rev), fn, gen, rng)


def gen_reduce(rng):
    which = pick(rng, ["reduce_sum", "reduce_max", "reduce_min", "reduce_prod", "reduce_and",
                       "reduce_or", "reduce_xor"])
    r = int(rng.integers(0, 4))
    shape = rshape(rng, r, hi=4)
    if which in ("reduce_and", "reduce_or", "reduce_xor"):
        dt = pick(rng, ["bool", "bool", "int32", "uint8", "int64", "uint64", "float64"])
    else:
        dt = pick(rng, ["float64"] * 4 + ["float32", "int32", "uint8", "complex128",
                                          "float16", "bool", "int8", "uint64"])
    axes = tuple(int(a) for a in rng.permutation(r)[:int(rng.integers(0, r + 1))])
    special = rng.random() < 0.25

    def gen(rng):
        return [rand(rng, shape, dt, special)]

    def fn(mod, x):
        return getattr(mod, which)(x, axes)
    return Case(which, dict(shape=shape, dt=dt, axes=axes), fn, gen, rng)


BIT_OPS = ["bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "shift_left",
           "shift_right_arithmetic", "shift_right_logical", "population_count", "clz"]


def gen_elementwise(rng):
    which = pick(rng, BIT_OPS + ["nextafter", "rem", "div", "clamp", "select_n",
                                 "integer_pow", "reduce_precision", "convert_element_type",
                                 "bitcast_convert_type", "rem", "div", "max", "min", "sign",
                                 "round", "mulhi", "pow", "atan2", "sub", "mul", "add"])
    r = int(rng.integers(0, 3))
    shape = rshape(rng, r, hi=4)
    p = dict(shape=shape)
    nargs = 1
    exact = False
    fd = True
    if which in BIT_OPS or which == "mulhi":
        dt = pick(rng, INTS + ["bool"] if which in ("bitwise_and", "bitwise_or", "bitwise_xor",
                                                    "bitwise_not") else INTS)
        nargs = 1 if which in ("bitwise_not", "population_count", "clz") else 2
        exact = True

        def gen(rng):
            xs = [rand(rng, shape, dt) for _ in range(nargs)]
            if which.startswith("shift") and np.dtype(dt).kind in "iu":
                bits = np.iinfo(dt).bits
                lo = -3 if np.dtype(dt).kind == "i" else 0
                xs[1] = rng.integers(lo, bits + 4, size=shape).astype(dt)
            return xs

        def fn(mod, *xs):
            return getattr(mod, which)(*xs)
    elif which in ("nextafter",):
        dt = pick(rng, ["float64", "float32", "float16"])
        nargs = 2
        exact = True

        def gen(rng):
            return [rand(rng, shape, dt, True), rand(rng, shape, dt, True)]

        def fn(mod, a, b):
            return mod.nextafter(a, b)
    elif which in ("rem", "div", "max", "min", "sub", "mul", "add", "pow", "atan2"):
        dt = pick(rng, (["float64"] * 3 + ["float32", "complex128"] +
                        (["int32", "int8", "uint8", "int64", "uint64", "float16"]
                         if which not in ("atan2",) else [])))
        if which in ("pow",) and dt[0] in "iu":
            dt = "float64"
        nargs = 2
        exact = dt[0] in "iu"

        def gen(rng):
            a = rand(rng, shape, dt, which not in ("pow",))
            b = rand(rng, shape, dt, which not in ("pow",))
            if dt[0] in "iu":
                b = np.where(b == 0, 1, b).astype(dt)  # (an integer division by zero:
                # XLA's value is implementation-defined)
                if np.dtype(dt).kind == "i":
                    mn = np.iinfo(dt).min  # (min / -1 overflows: also undefined)
                    a = np.where(a == mn, mn + 1, a).astype(dt)
            if which == "pow" and dt[0] == "f":
                a = np.abs(a) + 0.1
            return [a, b]

        def fn(mod, a, b):
            return getattr(mod, which)(a, b)
    elif which in ("sign", "round"):
        dt = pick(rng, ["float64", "float32", "int32", "complex128"] if which == "sign" else
                  ["float64", "float32", "float16"])
        method = int(rng.integers(0, 2))
        fd = False

        def gen(rng):
            x = rand(rng, shape, dt, True)
            if which == "round" and x.size:
                x.reshape(-1)[0] = pick(rng, [0.5, 1.5, -2.5, 2.5, -0.5])
            return [x]

        def fn(mod, x):
            return mod.sign(x) if which == "sign" else mod.round(x, method)
        p.update(method=method)
    elif which == "clamp":
        dt = pick(rng, ["float64", "float64", "float32", "int32", "uint8", "int64"])
        scalar_lo, scalar_hi = rng.random() < 0.5, rng.random() < 0.5
        nargs = 3
        fd = False
        p.update(scalar_lo=scalar_lo, scalar_hi=scalar_hi)

        def gen(rng):
            lo = rand(rng, () if scalar_lo else shape, dt)
            hi = rand(rng, () if scalar_hi else shape, dt)
            return [lo, rand(rng, shape, dt, True), hi]

        def fn(mod, lo, x, hi):
            return mod.clamp(lo, x, hi)
    elif which == "select_n":
        dt = pick(rng, ["float64", "float64", "int32", "bool", "complex128"])
        n = int(rng.integers(1, 4))
        pdt = pick(rng, ["bool", "int32"]) if n <= 2 else "int32"
        if n > 2:
            pdt = pick(rng, ["int32", "uint8", "int64"])
        scalar_pred = rng.random() < 0.3
        p.update(n=n, pdt=pdt, scalar_pred=scalar_pred)

        def gen(rng):
            ps = () if scalar_pred else shape
            pred = (rng.random(ps) < 0.5) if pdt == "bool" else \
                rng.integers(0, n, size=ps).astype(pdt)
            return [np.asarray(pred)] + [rand(rng, shape, dt) for _ in range(n)]

        def fn(mod, pred, *cases):
            return mod.select_n(pred, *cases)
    elif which == "integer_pow":
        dt = pick(rng, ["float64"] * 3 + ["float32", "int32", "complex128", "int8", "uint8"])
        y = int(rng.integers(-3, 5))
        p.update(y=y)

        def gen(rng):
            x = rand(rng, shape, dt, y >= 0)
            if y < 0 and dt[0] in "iu":
                x = np.where(x == 0, 1, x).astype(dt)
            return [x]

        def fn(mod, x):
            return mod.integer_pow(x, y)
    elif which == "reduce_precision":
        dt = pick(rng, ["float64", "float32", "float16"])
        eb = int(rng.integers(1, 12))
        mb = int(rng.integers(0, 53))
        p.update(eb=eb, mb=mb)
        fd = False

        def gen(rng):
            x = rand(rng, shape, dt, True)
            return [x * np.asarray(10.0 ** rng.integers(-8, 9, size=shape)).astype(dt)]

        def fn(mod, x):
            return mod.reduce_precision(x, eb, mb)

    elif which == "convert_element_type":
        dt = pick(rng, ALL)
        new = pick(rng, ALL)
        p.update(new=new)
        exact = True
        fd = False

        def gen(rng):
            x = rand(rng, shape, dt)
            if dt[0] in "fc" and new[0] in "iub":
                # (float -> int out of range or nan: implementation-defined in XLA)
                x = np.round(x * 3).astype(dt)
                if new[0] == "u":
                    x = np.abs(x).astype(dt)
            return [x]

        def fn(mod, x):
            return mod.convert_element_type(x, np.dtype(new))
    else:  # bitcast_convert_type
        dt = pick(rng, [d for d in ALL if d != "bool"])
        size = np.dtype(dt).itemsize
        cands = [d for d in ALL if d != "bool" and (np.dtype(d).itemsize == size or
                                                     rng.random() < 0.3)]
        new = pick(rng, cands)
        p.update(new=new)
        exact = True
        fd = False
        if np.dtype(new).itemsize > size and rng.random() < 0.8:
            shape = shape + (np.dtype(new).itemsize // size,)
            p.update(shape=shape)

        def gen(rng):
            return [rand(rng, shape, dt, True)]

        def fn(mod, x):
            return mod.bitcast_convert_type(x, np.dtype(new))
    p.update(dt=dt)
    c = Case(which, p, fn, gen, rng)
    c.jax_no_grad = which == "reduce_precision"  # (documented: functrans' derivative is the
    # identity, JAX's rounds the tangent)
    if which in ("rem", "max", "min"):
        fd = False  # (ties and a == k b: discontinuities or kinks, where differences fail)
    c.fd = fd
    c.exact = exact and dt[0] not in "fc" or which in ("nextafter", "convert_element_type",
                                                       "bitcast_convert_type")
    return c


def gen_iota(rng):
    which = pick(rng, ["iota", "broadcasted_iota"])
    dt = pick(rng, ["int32", "float64", "uint8", "int64", "float32", "int8", "complex128",
                    "bool"])
    if which == "iota":
        n = int(rng.integers(0, 6))

        def fn(mod):
            return mod.iota(np.dtype(dt), n)
        p = dict(dt=dt, n=n)
    else:
        shape = rshape(rng, int(rng.integers(1, 4)), hi=4)
        d = int(rng.integers(0, len(shape)))

        def fn(mod):
            return mod.broadcasted_iota(np.dtype(dt), shape, d)
        p = dict(dt=dt, shape=shape, d=d)
    c = Case(which, p, fn, lambda rng: [], rng, value_only=True)
    c.exact = True
    return c


def gen_dot(rng):
    nb = int(rng.integers(0, 3))
    nc = int(rng.integers(0, 3))
    nfl, nfr = int(rng.integers(0, 3)), int(rng.integers(0, 3))
    bsz = [int(rng.integers(0 if rng.random() < 0.05 else 1, 4)) for _ in range(nb)]
    csz = [int(rng.integers(0 if rng.random() < 0.05 else 1, 4)) for _ in range(nc)]
    lf = [int(rng.integers(1, 4)) for _ in range(nfl)]
    rf = [int(rng.integers(1, 4)) for _ in range(nfr)]
    lrank, rrank = nb + nc + nfl, nb + nc + nfr
    lperm, rperm = rng.permutation(lrank), rng.permutation(rrank)
    lshape, rshape_ = [0] * lrank, [0] * rrank
    lb, lc = [int(a) for a in lperm[:nb]], [int(a) for a in lperm[nb:nb + nc]]
    rb, rc = [int(a) for a in rperm[:nb]], [int(a) for a in rperm[nb:nb + nc]]
    for a, s in zip(lb, bsz):
        lshape[a] = s
    for a, s in zip(rb, bsz):
        rshape_[a] = s
    for a, s in zip(lc, csz):
        lshape[a] = s
    for a, s in zip(rc, csz):
        rshape_[a] = s
    for a, s in zip([int(a) for a in lperm[nb + nc:]], lf):
        lshape[a] = s
    for a, s in zip([int(a) for a in rperm[nb + nc:]], rf):
        rshape_[a] = s
    dl = pick(rng, ["float64"] * 4 + ["float32", "int32", "complex128", "int8", "float16",
                                      "bool", "uint8"])
    dr = dl if rng.random() < 0.8 else pick(rng, ["float64", "int32", "float32"])
    pet = None
    if rng.random() < 0.35:
        pet = pick(rng, ["float64", "float32", "int32", "int64", "complex128", "float16"])
    dn = ((tuple(lc), tuple(rc)), (tuple(lb), tuple(rb)))

    def gen(rng):
        return [rand(rng, tuple(lshape), dl), rand(rng, tuple(rshape_), dr)]

    def fn(mod, a, b):
        return mod.dot_general(a, b, dn, preferred_element_type=None if pet is None
                               else np.dtype(pet))
    c = Case("dot_general", dict(dn=dn, lshape=lshape, rshape=rshape_, dl=dl, dr=dr, pet=pet),
             fn, gen, rng)
    c.exact = dl[0] in "iub" and dr[0] in "iub" and (pet is None or pet[0] in "iu")
    # operands of different dtypes with an integer preferred_element_type: JAX on CPU
    # truncates the float operands first, functrans multiplies, then converts (as JAX does
    # for operands of one dtype); dtypes compared only
    c.mixed_pet = dl != dr and pet is not None and pet[0] in "iu" and "f" in dl[0] + dr[0]
    return c


UNARY_FLOAT = {  # name: the domain drawn (special values too, where they make sense)
    "acos": (-0.95, 0.95), "asin": (-0.95, 0.95), "atan": (-3, 3), "asinh": (-3, 3),
    "acosh": (1.05, 4), "atanh": (-0.95, 0.95), "ceil": (-3, 3), "reciprocal": (0.3, 3),
    "is_finite": (-3, 3), "bessel_i0e": (-4, 4), "bessel_i1e": (-4, 4),
    "lgamma": (0.2, 5), "digamma": (0.2, 5), "erf_inv": (-0.95, 0.95)}


def gen_misc(rng):
    """sweepa42: lax functions no other generator called: inverse trigonometric and
    hyperbolic functions, ceil, reciprocal, is_finite, the scaled Bessel functions,
    lgamma/digamma/erf_inv, igamma/igammac/betainc/polygamma/zeta, the comparisons, select,
    batch_matmul, broadcast_to_rank, full_like, index_take, unstack,
    approx_max_k/approx_min_k."""
    which = pick(rng, list(UNARY_FLOAT) + ["igamma", "igammac", "betainc", "polygamma",
                                           "zeta", "eq", "ne", "ge", "le", "select",
                                           "batch_matmul", "broadcast_to_rank", "full_like",
                                           "index_take", "unstack",
                                           "approx_max_k", "approx_min_k"])
    shape = rshape(rng, int(rng.integers(0, 3)), hi=4)
    p = dict(shape=shape)
    exact, fd, value_only = False, True, False
    if which in UNARY_FLOAT:
        dt = pick(rng, ["float64"] * 4 + ["float32"] +
                  (["complex128"] if which in ("acos", "asin", "atan", "asinh", "acosh",
                                               "atanh", "reciprocal") else []))
        lo, hi = UNARY_FLOAT[which]
        special = rng.random() < 0.15

        def gen(rng):
            x = lo + (hi - lo) * rng.random(shape)
            if dt[0] == "c":
                x = x + 0.5j * rng.standard_normal(shape)
            x = x.astype(dt)
            if special and x.size:
                # (digamma's poles at 0: SciPy's and functrans's -inf/+inf, JAX's nan)
                x.reshape(-1)[0] = pick(rng, [np.nan, np.inf, -np.inf] + (
                    [0.0, -0.0] if which != "digamma" else []))
            return [x]

        def fn(mod, x):
            return getattr(mod, which)(x)
        exact = which in ("ceil", "is_finite")
        fd = which not in ("ceil", "is_finite") and not special
    elif which in ("igamma", "igammac", "betainc", "polygamma", "zeta"):
        dt = pick(rng, ["float64", "float64", "float32"])

        def gen(rng):
            if which == "polygamma":
                return [rng.integers(0, 3, size=shape).astype(dt),
                        (0.3 + 3 * rng.random(shape)).astype(dt)]
            if which == "zeta":
                return [(1.3 + 3 * rng.random(shape)).astype(dt),
                        (0.3 + 3 * rng.random(shape)).astype(dt)]
            if which == "betainc":
                return [(0.3 + 3 * rng.random(shape)).astype(dt),
                        (0.3 + 3 * rng.random(shape)).astype(dt),
                        (0.05 + 0.9 * rng.random(shape)).astype(dt)]
            return [(0.3 + 3 * rng.random(shape)).astype(dt),
                    (0.1 + 3 * rng.random(shape)).astype(dt)]

        def fn(mod, *a):
            return getattr(mod, which)(*a)
        # (JAX differentiates only some arguments: polygamma/zeta/igamma's x, betainc's x)
        diff = {"polygamma": [1], "zeta": [1], "igamma": [1], "igammac": [1],
                "betainc": [2]}[which]
        p.update(dt=dt)
        c = Case(which, p, fn, gen, rng, diff=diff if dt == "float64" else [])
        return c
    elif which in ("eq", "ne", "ge", "le"):
        dt = pick(rng, ["float64", "float32", "int32", "uint8", "bool", "complex128"])
        exact = True

        def gen(rng):
            return [rand(rng, shape, dt, True), rand(rng, shape, dt, True)]

        def fn(mod, a, b):
            return getattr(mod, which)(a, b)
    elif which == "select":
        dt = pick(rng, ["float64", "float64", "float32", "int32", "complex128"])

        def gen(rng):
            return [rng.random(shape) < 0.5, rand(rng, shape, dt), rand(rng, shape, dt)]

        def fn(mod, c, a, b):
            return mod.select(c, a, b)
    elif which == "batch_matmul":
        dt = pick(rng, ["float64", "float64", "float32", "complex128", "int32"])
        b = rshape(rng, int(rng.integers(0, 2)), lo=1, hi=3)
        m, k, n = (int(rng.integers(1, 4)) for _ in range(3))
        p.update(b=b, m=m, k=k, n=n)

        def gen(rng):
            return [rand(rng, b + (m, k), dt), rand(rng, b + (k, n), dt)]

        def fn(mod, x, y):
            return mod.batch_matmul(x, y)
    elif which == "broadcast_to_rank":
        dt = pick(rng, ["float64", "float32", "int32"])
        rank = int(rng.integers(len(shape), len(shape) + 3))
        p.update(rank=rank)

        def gen(rng):
            return [rand(rng, shape, dt)]

        def fn(mod, x):
            return mod.broadcast_to_rank(x, rank)
    elif which == "full_like":
        dt = pick(rng, ["float64", "float32", "int32", "bool", "complex128"])
        fill = pick(rng, [0, 1.5, -2, True])
        new = pick(rng, [None, "float32", "int64"])
        new_shape = pick(rng, [None, (2,), ()])
        p.update(fill=fill, new=new, new_shape=new_shape)
        value_only = True

        def gen(rng):
            return [rand(rng, shape, dt)]

        def fn(mod, x):
            return mod.full_like(x, fill, None if new is None else np.dtype(new), new_shape)
    elif which == "index_take":
        dt = pick(rng, ["float64", "float64", "float32", "int32"])
        shape = rshape(rng, int(rng.integers(1, 4)), lo=1, hi=4)
        shape = tuple(max(d, 1) for d in shape)
        na = int(rng.integers(1, len(shape) + 1))
        axes = tuple(int(a) for a in rng.permutation(len(shape))[:na])
        nidx = int(rng.integers(0, 4))
        p.update(shape=shape, axes=axes, nidx=nidx)

        def gen(rng):
            idxs = tuple(rng.integers(0, shape[a], size=nidx).astype(np.int32) for a in axes)
            return [rand(rng, shape, dt), *idxs]

        def fn(mod, x, *idxs):
            return mod.index_take(x, tuple(idxs), axes)
    elif which == "unstack":
        dt = pick(rng, ["float64", "float32", "int32"])
        shape = rshape(rng, int(rng.integers(1, 4)), hi=3)
        ax = int(rng.integers(-len(shape), len(shape)))
        p.update(shape=shape, axis=ax)

        def gen(rng):
            return [rand(rng, shape, dt)]

        def fn(mod, x):
            return tuple(mod.unstack(x, axis=ax))
    else:  # approx_max_k, approx_min_k
        dt = pick(rng, ["float64", "float64", "float32", "int32"])
        shape = rshape(rng, int(rng.integers(1, 3)), lo=1, hi=5)
        shape = tuple(max(d, 1) for d in shape)
        rd = int(rng.integers(-len(shape), len(shape)))
        k = int(rng.integers(1, shape[rd] + 1))
        p.update(shape=shape, k=k, rd=rd)

        def gen(rng):  # (no ties: the exact top k's order is then unique)
            return [rng.permutation(int(np.prod(shape))).reshape(shape).astype(dt) * 0.5 - 2]

        def fn(mod, x):
            return getattr(mod, which)(x, k, reduction_dimension=rd)
    p.update(dt=dt)
    c = Case(which, p, fn, gen, rng, exact=exact, value_only=value_only)
    c.fd = fd
    return c


def _vmap_of(mod):
    return jax.vmap if mod is jlax else ft.vmap


def _np_of(mod):
    return jnp if mod is jlax else fnp


COLLECTIVES = ["psum", "pmean", "pmax", "pmin", "all_gather", "psum_scatter", "ppermute",
               "pshuffle", "all_to_all", "pswapaxes", "axis_index"]


def gen_misc46(rng):
    """fuzz46: lax functions no generator called before: the collectives under a named vmap
    (psum, pmean, pmax, pmin, all_gather, psum_scatter, ppermute, pshuffle, all_to_all,
    pswapaxes, axis_index), custom_root, custom_linear_solve, broadcast_like,
    optimization_barrier, platform_dependent, composite, ragged_dot(_general),
    igamma_grad_a, random_gamma_grad, rng_bit_generator (shapes and dtypes: the bits are
    documented to differ from XLA's) and zeros_like_array (against jnp.zeros_like; JAX 0.10
    has none). Drawn from its own stream, so that the older generators' draws stay."""
    which = pick(rng, COLLECTIVES + ["custom_root", "custom_linear_solve", "broadcast_like",
                                     "optimization_barrier", "platform_dependent",
                                     "composite", "ragged_dot", "ragged_dot_general",
                                     "igamma_grad_a", "random_gamma_grad",
                                     "rng_bit_generator", "zeros_like_array"])
    p = {}
    exact, fd, value_only, diff = False, True, False, None
    hessian_ref = None
    if which in COLLECTIVES:
        nm = int(rng.integers(1, 4))  # members of the named vmap
        dt = pick(rng, ["float64"] * 3 + ["float32", "int32"])
        inner = rshape(rng, int(rng.integers(0, 3)), lo=1, hi=4)
        kw = {}
        if which in ("psum_scatter", "all_to_all", "pswapaxes"):
            tiled = bool(rng.random() < 0.4) and which != "pswapaxes"
            ax = int(rng.integers(0, len(inner) + 1))
            inner = list(inner)
            inner.insert(ax, nm * (int(rng.integers(1, 3)) if tiled else 1))
            inner = tuple(inner)
            if which == "psum_scatter":
                kw = dict(scatter_dimension=ax, tiled=tiled)
            elif which == "all_to_all":
                kw = dict(split_axis=ax, concat_axis=int(rng.integers(0, len(inner) + (
                    0 if tiled else 0))), tiled=tiled)
            else:
                kw = dict(axis=ax)
        elif which == "all_gather":
            kw = dict(axis=int(rng.integers(0, len(inner) + 1)), tiled=bool(rng.random() < .4))
            if kw["tiled"]:
                kw["axis"] = min(kw["axis"], max(len(inner) - 1, 0))
        elif which in ("ppermute", "pshuffle"):
            perm = [int(v) for v in rng.permutation(nm)]
            if which == "ppermute" and nm > 1 and rng.random() < 0.5:
                perm = perm[:-1]  # (a member that receives nothing gets zeros)
            kw = dict(perm=list(zip(range(nm), perm)) if which == "ppermute" else perm)
        if dt != "float64":
            diff = []
        p.update(nm=nm, inner=inner, kw=kw, dt=dt)
        shape = (nm,) + inner

        def gen(rng):
            return [rand(rng, shape, dt)]

        def fn(mod, x):
            if which == "axis_index":
                return _vmap_of(mod)(lambda v: v * mod.axis_index("i"), axis_name="i")(x)
            return _vmap_of(mod)(lambda v: getattr(mod, which)(v, "i", **kw),
                                 axis_name="i")(x)
        exact = which in ("pmax", "pmin") and dt == "int32"
    elif which == "custom_root":
        shape = rshape(rng, int(rng.integers(0, 2)), lo=1, hi=4)
        p.update(shape=shape)

        def gen(rng):
            return [0.5 + 3 * rng.random(shape)]

        def fn(mod, a):
            m = _np_of(mod)

            def f(x):
                return x ** 3 + x - a  # (increasing: one real root)

            def solve(f, x0):
                x = x0
                for _ in range(40):  # Newton, from above the root
                    x = x - f(x) / (3 * x ** 2 + 1)
                return x

            def tangent_solve(g, y):
                return y / g(m.ones_like(y))
            return mod.custom_root(f, m.ones_like(a) * 2.0, solve, tangent_solve)
    elif which == "custom_linear_solve":
        n = int(rng.integers(1, 4))
        sym = bool(rng.random() < 0.4)
        nb = pick(rng, [(), (2,)])
        p.update(n=n, symmetric=sym, nb=nb)

        def gen(rng):
            a = rng.standard_normal((n, n)) + n * np.eye(n)
            if sym:
                a = a + a.T
            return [a, rng.standard_normal((n,) + nb)]

        def fn(mod, a, b):
            m = _np_of(mod)

            def mv(x):
                return a @ x

            def solve(mv, rhs):
                return m.linalg.solve(a, rhs)

            def tsolve(mv, rhs):
                return m.linalg.solve(a.T, rhs)
            return mod.custom_linear_solve(mv, b, solve, None if sym else tsolve,
                                           symmetric=sym)
        if sym:
            # JAX's Hessian with symmetric=True is not symmetric (jax 0.10.2): its transposed
            # solve is the solve itself, also along the Hessian's non-symmetric directions of
            # a, where the derivative of a^-T is wanted (--case 51041:28: JAX's d2/da2 off by
            # 0.021, d2/da db by 0.052, each the asymmetry of its Hessian; ours is that of
            # jnp.linalg.solve to 1e-17): the plain solve's Hessian is the referee
            def plain_solve(a, b):
                return jnp.linalg.solve(a, b)
            hessian_ref = plain_solve
    elif which == "broadcast_like":
        dt = pick(rng, ["float64", "float64", "float32", "int32", "bool"])
        shape = rshape(rng, int(rng.integers(0, 3)), hi=3)
        extra = rshape(rng, int(rng.integers(0, 2)), lo=1, hi=3)
        like = extra + shape
        p.update(shape=shape, like=like, dt=dt)

        def gen(rng):
            return [rand(rng, shape, dt), rand(rng, like, "float32")]

        def fn(mod, x, y):
            return mod.broadcast_like(x, y)
        diff = [0] if dt == "float64" else []
        exact = True
    elif which == "optimization_barrier":
        dt = pick(rng, ["float64", "float64", "int32", "complex128"])
        shape = rshape(rng, int(rng.integers(0, 3)), hi=3)
        p.update(shape=shape, dt=dt)

        def gen(rng):
            return [rand(rng, shape, dt), rand(rng, shape[:1], "float64")]

        def fn(mod, x, y):
            a, b = mod.optimization_barrier((x, y * 2.0))
            return a, b * y
    elif which == "platform_dependent":
        shape = rshape(rng, int(rng.integers(0, 3)), hi=3)
        named = pick(rng, ["cpu", "cuda", None])
        p.update(shape=shape, named=named)

        def gen(rng):
            return [rand(rng, shape, "float64")]

        def fn(mod, x):
            m = _np_of(mod)
            kw = {} if named is None else {named: lambda v: m.sin(v) * 2.0}
            return mod.platform_dependent(x, default=lambda v: m.cos(v), **kw)
    elif which == "composite":
        shape = rshape(rng, int(rng.integers(0, 3)), hi=3)
        p.update(shape=shape)

        def gen(rng):
            return [rand(rng, shape, "float64"), rand(rng, shape, "float64")]

        def fn(mod, x, y):
            m = _np_of(mod)
            op = mod.composite(lambda u, v: m.tanh(u) * v + u ** 2, name="my.op")
            return op(x, y)
        # (JAX 0.10.2 has no JVP or batching rule for a composite: documented)
        return Case(which, p, fn, gen, rng, jax_no_grad=True)
    elif which in ("ragged_dot", "ragged_dot_general"):
        g = int(rng.integers(1, 4))
        sizes = [int(v) for v in rng.integers(0, 3, size=g)]
        mrows = sum(sizes) + int(rng.integers(0, 2)) * (which == "ragged_dot_general")
        k, ncol = int(rng.integers(1, 4)), int(rng.integers(1, 4))
        dt = pick(rng, ["float64", "float64", "float32"])
        p.update(sizes=sizes, m=mrows, k=k, n=ncol, dt=dt)

        def gen(rng):
            return [rand(rng, (mrows, k), dt), rand(rng, (g, k, ncol), dt),
                    np.array(sizes, np.int32)]

        def fn(mod, lhs, rhs, gs):
            if which == "ragged_dot":
                return mod.ragged_dot(lhs, rhs, gs)
            dn = mod.RaggedDotDimensionNumbers(
                dot_dimension_numbers=(([1], [1]), ([], [])),
                lhs_ragged_dimensions=[0], rhs_group_dimensions=[0])
            return mod.ragged_dot_general(lhs, rhs, gs, dn)
        diff = [0, 1] if dt == "float64" else []
    elif which in ("igamma_grad_a", "random_gamma_grad"):
        shape = rshape(rng, int(rng.integers(0, 3)), hi=4)
        dt = pick(rng, ["float64", "float64", "float32"])
        p.update(shape=shape, dt=dt)

        def gen(rng):
            return [(0.2 + 4 * rng.random(shape)).astype(dt),
                    (0.05 + 4 * rng.random(shape)).astype(dt)]

        def fn(mod, a, x):
            return getattr(mod, which)(a, x)
        diff = []  # (values only: JAX differentiates neither)
    elif which == "rng_bit_generator":
        kdt = pick(rng, ["uint32", "uint64"])
        odt = pick(rng, ["uint8", "uint16", "uint32", "uint64"])
        shape = rshape(rng, int(rng.integers(0, 3)), hi=4)
        p.update(kdt=kdt, odt=odt, shape=shape)

        def gen(rng):
            n = 4 if kdt == "uint32" else 2
            return [rng.integers(0, 2 ** 31, size=n).astype(kdt)]

        def fn(mod, key):
            return mod.rng_bit_generator(key, shape, dtype=np.dtype(odt))
        c = Case(which, p, fn, gen, rng)
        c.skip_values = True  # (documented: the bits differ from XLA's)
        return c
    else:  # zeros_like_array (JAX 0.10 has none: jnp.zeros_like)
        dt = pick(rng, ["float64", "float32", "int32", "bool", "complex128"])
        shape = rshape(rng, int(rng.integers(0, 3)), hi=3)
        p.update(shape=shape, dt=dt)

        def gen(rng):
            return [rand(rng, shape, dt)]

        def fn(mod, x):
            return jnp.zeros_like(x) if mod is jlax else mod.zeros_like_array(x)
        exact = True
    case = Case(which, p, fn, gen, rng, diff=diff, exact=exact, value_only=value_only, fd=fd)
    case.hessian_ref = hessian_ref
    return case


def gen_misc47(rng):
    """fuzz47: the lax enum classes and dimension-number types no generator passed before:
    dot_general with ``precision=`` a Precision (or a pair, or its name) and
    DotDimensionNumbers; round with a RoundingMethod; gather and scatter_add with a
    GatherScatterMode (out-of-range indices); rng_bit_generator with a RandomAlgorithm
    (shapes and dtypes: the bits are documented to differ from XLA's). Own stream
    (seed, it, 47), every 4th iteration from the 2nd."""
    which = pick(rng, ["dot_general", "round", "gather", "scatter_add", "rng_bit_generator"])
    p = {}
    diff, exact = None, False
    if which == "dot_general":
        b = int(rng.integers(0, 2))
        m, k, n = (int(v) for v in rng.integers(1, 4, size=3))
        dt = pick(rng, ["float64"] * 3 + ["float32", "int32"])
        prec = pick(rng, ["DEFAULT", "HIGH", "HIGHEST", "pair", "name", None])
        p.update(b=b, m=m, k=k, n=n, dt=dt, prec=prec)
        ls, rs = (2,) * b + (m, k), (2,) * b + (k, n)
        dn = (((b + 1,), (b,)), (tuple(range(b)), tuple(range(b))))

        def gen(rng):
            return [rand(rng, ls, dt), rand(rng, rs, dt)]

        def fn(mod, x, y):
            P = mod.Precision
            pr = None if prec is None else (P.HIGHEST, P.DEFAULT) if prec == "pair" else \
                "highest" if prec == "name" else getattr(P, prec)
            return mod.dot_general(x, y, dn, precision=pr)
        exact = dt == "int32"
    elif which == "round":
        shape = rshape(rng, int(rng.integers(0, 3)), hi=4)
        dt = pick(rng, ["float64", "float64", "float32"])
        meth = pick(rng, ["AWAY_FROM_ZERO", "TO_NEAREST_EVEN", 0, 1])
        p.update(shape=shape, dt=dt, meth=meth)

        def gen(rng):
            return [(rng.integers(-8, 9, size=shape) / 2 + (rng.random(shape) < 0.3) *
                     rng.uniform(-0.2, 0.2, size=shape)).astype(dt)]

        def fn(mod, x):
            rm = getattr(mod.RoundingMethod, meth) if isinstance(meth, str) else meth
            return mod.round(x, rounding_method=rm)
        exact = True
        diff = []
    elif which in ("gather", "scatter_add"):
        nx = int(rng.integers(1, 5))
        ni = int(rng.integers(0, 5))
        dt = pick(rng, ["float64", "float64", "int32"])
        mode = pick(rng, ["CLIP", "FILL_OR_DROP", "PROMISE_IN_BOUNDS"])
        p.update(nx=nx, ni=ni, dt=dt, mode=mode)

        def gen(rng):
            lo, hi = (0, nx) if mode == "PROMISE_IN_BOUNDS" else (-3, nx + 3)
            ind = rng.integers(lo, hi, size=(ni, 1)).astype(np.int32)
            return [rand(rng, (nx,), dt), ind, rand(rng, (ni,), dt)]

        def fn(mod, x, ind, u):
            md = getattr(mod.GatherScatterMode, mode)
            if which == "gather":
                dn = mod.GatherDimensionNumbers(offset_dims=(), collapsed_slice_dims=(0,),
                                                start_index_map=(0,))
                return mod.gather(x, ind, dn, (1,), mode=md)
            dn = mod.ScatterDimensionNumbers(update_window_dims=(), inserted_window_dims=(0,),
                                             scatter_dims_to_operand_dims=(0,))
            return mod.scatter_add(x, ind, u, dn, mode=md)
        exact = dt == "int32"
        diff = [0, 2] if dt == "float64" else []
    else:
        kdt = pick(rng, ["uint32", "uint64"])
        odt = pick(rng, ["uint8", "uint32", "uint64"])
        shape = rshape(rng, int(rng.integers(0, 3)), hi=4)
        alg = pick(rng, ["RNG_DEFAULT", "RNG_THREE_FRY", "RNG_PHILOX"])
        p.update(kdt=kdt, odt=odt, shape=shape, alg=alg)

        def gen(rng):
            n = 4 if kdt == "uint32" else 2
            return [rng.integers(0, 2 ** 31, size=n).astype(kdt)]

        def fn(mod, key):
            return mod.rng_bit_generator(key, shape, dtype=np.dtype(odt),
                                         algorithm=getattr(mod.RandomAlgorithm, alg))
        c = Case(which, p, fn, gen, rng)
        c.skip_values = True  # (documented: the bits differ from XLA's)
        return c
    return Case(which + "47", p, fn, gen, rng, diff=diff, exact=exact)


def gen_misc48(rng):
    """fuzz48: the lax names no generator drew before: gt, lt and neg (every dtype, special
    values), axis_size under a named vmap, and conv_general_dilated with its
    ConvGeneralDilatedDimensionNumbers forms (a string triple, a ConvDimensionNumbers, None)
    and PrecisionLike forms (None, a name, a Precision, a pair of names). Own stream
    (seed, it, 48), every 4th iteration from the 3rd."""
    which = pick(rng, ["gt", "lt", "neg", "neg", "axis_size", "conv", "conv"])
    p = {}
    diff, exact = None, False
    if which in ("gt", "lt", "neg"):
        dt = pick(rng, FLOATS + COMPLEX + INTS + ["bool"])
        shape = rshape(rng, int(rng.integers(0, 3)), hi=4)
        # (one side broadcast for the comparisons: a 0-d or a length-1 operand)
        shape2 = shape if which == "neg" or rng.random() < 0.7 else ()
        p.update(dt=dt, shape=shape, shape2=shape2)
        nargs = 1 if which == "neg" else 2

        def gen(rng):
            xs = [rand(rng, shape, dt, True)]
            if nargs == 2:
                y = rand(rng, shape2, dt, True)
                if shape2 == shape and xs[0].size and rng.random() < 0.5:
                    y = np.where(rng.random(shape) < 0.5, xs[0], y).astype(dt)  # ties
                xs.append(y)
            return xs

        def fn(mod, *xs):
            return getattr(mod, which)(*xs)
        exact = True
    elif which == "axis_size":
        nm = int(rng.integers(1, 4))
        inner = int(rng.integers(0, 2))  # a second, inner named vmap
        shape = (nm,) + ((2,) if inner else ()) + rshape(rng, int(rng.integers(0, 2)), hi=3)
        p.update(nm=nm, inner=inner, shape=shape)

        def gen(rng):
            return [rand(rng, shape, "float64")]

        def fn(mod, x):
            vm = _vmap_of(mod)
            if inner:
                return vm(vm(lambda v: v * mod.axis_size("i") + mod.axis_size("j"),
                             axis_name="j"), axis_name="i")(x)
            return vm(lambda v: v * mod.axis_size("i"), axis_name="i")(x)
    else:
        nsp = int(rng.integers(1, 3))  # spatial dimensions
        n, c, o = (int(v) for v in rng.integers(1, 3, size=3))
        sp = tuple(int(v) for v in rng.integers(2, 5, size=nsp))
        ks = tuple(int(v) for v in rng.integers(1, 3, size=nsp))
        form = pick(rng, ["none", "chan_first", "chan_last", "dnums"])
        prec = pick(rng, [None, "highest", "DEFAULT", "pair", "names"])
        dt = pick(rng, ["float64", "float64", "float32"])
        stride = tuple(int(v) for v in rng.integers(1, 3, size=nsp))
        padding = pick(rng, ["VALID", "SAME", "pairs"])
        p.update(nsp=nsp, n=n, c=c, o=o, sp=sp, ks=ks, form=form, prec=prec, dt=dt,
                 stride=stride, padding=padding)
        letters = "HWD"[:nsp]
        if form == "chan_last":
            lhs_shape, rhs_shape = (n,) + sp + (c,), ks + (c, o)
            spec = ("N" + letters + "C", letters + "IO", "N" + letters + "C")
        else:
            lhs_shape, rhs_shape = (n, c) + sp, (o, c) + ks
            spec = ("NC" + letters, "OI" + letters, "NC" + letters)
        pad = [(int(rng.integers(-1, 2)), int(rng.integers(0, 2))) for _ in range(nsp)] \
            if padding == "pairs" else padding

        def gen(rng):
            return [rand(rng, lhs_shape, dt), rand(rng, rhs_shape, dt)]

        def fn(mod, x, w):
            P = mod.Precision
            pr = {None: None, "highest": "highest", "DEFAULT": P.DEFAULT,
                  "pair": (P.HIGH, P.HIGHEST), "names": ("default", "highest")}[prec]
            if form == "none":
                dn = None
            elif form == "dnums":
                dn = mod.ConvDimensionNumbers(lhs_spec=tuple(range(nsp + 2)),
                                              rhs_spec=tuple(range(nsp + 2)),
                                              out_spec=tuple(range(nsp + 2)))
            else:
                dn = spec
            return mod.conv_general_dilated(x, w, stride, pad, dimension_numbers=dn,
                                            precision=pr)
    return Case(which + "48", p, fn, gen, rng, diff=diff, exact=exact)


GENERATORS = {"gather": gen_gather, "scatter": gen_scatter, "dynamic": gen_dynamic,
              "shape": gen_shape_op, "sort": gen_sort, "cum": gen_cum, "reduce": gen_reduce,
              "elementwise": gen_elementwise, "iota": gen_iota, "dot": gen_dot,
              "misc": gen_misc}
WEIGHTS = {"gather": 3, "scatter": 4, "dynamic": 2, "shape": 3, "sort": 3, "cum": 2,
           "reduce": 2, "elementwise": 4, "iota": 1, "dot": 2, "misc": 3}
# drawn from a stream of their own, (seed, it, 46), every 4th iteration (every iteration
# under --only), so that the generators above draw as before they came
NEW_GENERATORS = {"misc46": gen_misc46, "misc47": gen_misc47,  # (misc47: stream (seed, it,
                  "misc48": gen_misc48}  # 47), every 4th iteration from the 2nd; misc48:
# (seed, it, 48), from the 3rd)


def main(argv=None):
    global VERBOSE
    a, its, verbose, names, new = generator_args(argv, GENERATORS, NEW_GENERATORS)
    VERBOSE = VERBOSE or verbose
    new46 = [n for n in new if n not in ("misc47", "misc48")]
    new47, new48 = [n for n in new if n == "misc47"], [n for n in new if n == "misc48"]
    w = np.array([WEIGHTS[n] for n in names], float)
    w /= w.sum() if names else 1
    for seed in range(a.seed0, a.seed1):
        for it in (its or range(a.n)):
            draws = []
            if names:
                rng = np.random.default_rng((seed, it))  # (one stream per case: --case replays)
                draws.append((rng, names[int(rng.choice(len(names), p=w))]))
            if new46 and (not names or it % 4 == 0):
                rng = np.random.default_rng((seed, it, 46))
                draws.append((rng, new46[int(rng.integers(0, len(new46)))]))
            if new47 and (not names or it % 4 == 2):
                draws.append((np.random.default_rng((seed, it, 47)), "misc47"))
            if new48 and (not names or it % 4 == 3):
                draws.append((np.random.default_rng((seed, it, 48)), "misc48"))
            for rng, name in draws:
                try:
                    case = {**GENERATORS, **NEW_GENERATORS}[name](rng)
                except Exception as e:  # noqa: BLE001
                    fail(name, f"seed {seed} it {it}", f"generator raised {e!r}\n"
                                                       f"{traceback.format_exc(limit=-3)}")
                    continue
                case.params["seed"], case.params["it"] = seed, it
                check_case(case, rng)
    return TALLY.exit_status("counts:")


if __name__ == "__main__":
    sys.exit(main())
