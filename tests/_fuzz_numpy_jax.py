"""numpy39's fuzzer: seeded random calls of functrans.numpy functions against NumPy 2.x
(values, dtypes, shapes, errors) and, for float64 inputs, derivatives against jax.numpy (x64)
and central differences. A tool, not a test (JAX is not installed in CI; tests/test_s39_numpy39.py
keeps a fast selection checked against NumPy and central differences):

    PYTHONPATH=. python -m tests._fuzz_numpy_jax 0 500        # seeds [0, 500)
    PYTHONPATH=. python -m tests._fuzz_numpy_jax 0 500 at     # only the families named 'at*'

Families (each draws shapes with 0-size, 0-d, length-1 and broadcasting axes, dtypes f64, f32,
f16, complex, ints, uint, bool, and the function's keywords): the .at[] updates (set, add,
multiply, min, max, get with mode, slices, masks, Ellipsis, None, negative and out-of-range
indices), advanced indexing mixes, take / take_along_axis / put_along_axis, searchsorted,
digitize, bincount, histogram(2d, dd), unique, quantile / percentile and their nan forms,
nan-reductions with where=, cumulative ops with dtype, polynomials, convolve / correlate,
interp, diff / ediff1d / gradient, trapezoid, cross, kron, einsum, apply_along_axis,
vectorize, pad, tile / repeat, round, ptp, clip, nan_to_num; more47 (fuzz47): dtype classes,
mgrid / ogrid, c_ / s_ / index_exp, seterr / geterr, device, from_dlpack, file I/O; more48
(fuzz48): e, uint, newaxis, ufunc, printoptions, integer dtypes of out-of-range NumPy
numbers, r_ / c_ directives (ndmin, trans1d), issubdtype of string dtypes.

For each case: NumPy's result or error against functrans's (eagerly); for float64 cases also
jit against eager, vmap over a random axis against a loop, jvp against jax.jvp and central
differences, vjp against jax.vjp and the dot-product identity, and (a sample) hessian. Each
mismatch prints one line with the reproducing call; a count per outcome ends the run.
"""
import math
import sys
import traceback
import warnings

import numpy as np

try:
    import jax
    import jax.numpy as jnp
    jax.config.update("jax_enable_x64", True)
except ImportError:  # (values and central differences only)
    jax = jnp = None

import functrans as ft
import functrans.numpy as fnp
from tests._fuzz_common import Tally

warnings.simplefilter("ignore")

VERBOSE = "-v" in sys.argv
TALLY = Tally()
FAILS, COUNTS, note = TALLY.fails, TALLY.counts, TALLY.count


def fail(case, what, msg):
    TALLY.fail(case.family, case.name, f"{what}: {msg}")


class Case:
    def __init__(self, family, name, args, call, np_call=None, jnp_call=None, diff=None,
                 tol=None, nograd=False, novmap=False, nojit=False):
        self.family, self.name, self.args = family, name, list(args)
        self.call = call                     # call(module, *args): fnp (and np / jnp when
        self.np_call = np_call or (lambda *a: call(np, *a))        # the names agree)
        # (jnp_call=False: no JAX reference; None: call(jnp, ...))
        self.jnp_call = None if jnp_call is False else jnp_call if jnp_call is not None else (
            (lambda *a: call(jnp, *a)) if jnp is not None else None)
        # which args carry derivatives (default: every float64 / complex128 array)
        self.diff = diff if diff is not None else [
            i for i, a in enumerate(self.args)
            if isinstance(a, np.ndarray) and a.dtype in (np.float64,)]
        self.tol, self.nograd, self.novmap, self.nojit = tol, nograd, novmap, nojit


# -- drawing ----------------------------------------------------------------------------------

FLOATS = ["float64"] * 5 + ["float32", "float16"]
ALL_DTYPES = FLOATS + ["complex128", "complex64", "int64", "int32", "int8", "uint8", "uint32",
                       "bool"]


def shape_of(rng, ndim=None, lo=0, hi=4):
    ndim = int(rng.integers(0, 4)) if ndim is None else ndim
    out = []
    for _ in range(ndim):
        r = rng.random()
        out.append(0 if r < 0.06 else 1 if r < 0.2 else int(rng.integers(max(lo, 1), hi + 1)))
    return tuple(out)


def arr(rng, shape, dtype, nan=0.0, ties=False):
    dt = np.dtype(dtype)
    if dt.kind == "b":
        return rng.random(shape) < 0.5
    if dt.kind in "iu":
        lo = 0 if dt.kind == "u" else -5
        return rng.integers(lo, 6, size=shape).astype(dt)
    if ties:
        x = rng.integers(-3, 4, size=shape).astype(np.float64) / 2
    else:
        x = rng.standard_normal(shape) * 2
    if dt.kind == "c":
        x = x + 1j * (rng.standard_normal(shape) if not ties else
                      rng.integers(-2, 3, size=shape) / 2)
    x = np.asarray(x).astype(dt)
    if nan and x.size:
        m = rng.random(shape) < nan
        x = np.where(m, np.nan, x).astype(dt)
    return x


def pick(rng, seq):
    return seq[int(rng.integers(0, len(seq)))]


def axis_of(rng, ndim, allow_none=True, allow_tuple=True):
    if ndim == 0:
        return pick(rng, [None, None, 0, -1]) if allow_none else 0
    r = rng.random()
    if allow_none and r < 0.2:
        return None
    if allow_tuple and r < 0.4 and ndim >= 2:
        k = int(rng.integers(1, ndim + 1))
        ax = list(rng.permutation(ndim)[:k])
        return tuple(int(a) - (ndim if rng.random() < 0.3 else 0) for a in ax)
    a = int(rng.integers(0, ndim))
    return a - ndim if rng.random() < 0.4 else a


# -- families -----------------------------------------------------------------------------------

def _np_at(x, idx, op, v, mode):
    """NumPy's reference for x.at[idx].op(v, mode=mode) with indices in range or dropped."""
    y = x.copy()
    if op == "set":
        y[idx] = v
        return y
    ufunc = {"add": np.add, "multiply": np.multiply, "min": np.minimum,
             "max": np.maximum}[op]
    if y.dtype.kind in "iub":
        to = np.result_type(y, v)
        z = y.astype(to)
        ufunc.at(z, idx, v)
        return z.astype(y.dtype)
    ufunc.at(y, idx, v)
    return y


def fam_at(rng):
    ndim = int(rng.integers(1, 4))
    shape = shape_of(rng, ndim, lo=1)
    dtype = pick(rng, FLOATS + ["float64"] * 4 + ["int32", "complex128", "bool", "uint8"])
    x = arr(rng, shape, dtype)
    # an index: ints (neg), int arrays (repeats), slices, a mask, Ellipsis, None
    kinds = []
    idx = []
    for a in range(ndim):
        n = shape[a]
        r = rng.random()
        if r < 0.25:
            idx.append(int(rng.integers(-n, n)) if n else slice(None))
        elif r < 0.55 and n:
            m = int(rng.integers(0, 4))
            idx.append(rng.integers(-n, n, size=m))
            kinds.append("arr")
        elif r < 0.8:
            a0 = pick(rng, [None, 0, 1, -1])
            a1 = pick(rng, [None, n, -1, 2])
            st = pick(rng, [None, 1, 2, -1])
            idx.append(slice(a0, a1, st))
        else:
            idx.append(slice(None))
    if rng.random() < 0.15:
        idx.insert(int(rng.integers(0, len(idx) + 1)), None)
    if rng.random() < 0.15 and all(not isinstance(k, np.ndarray) for k in idx):
        # Ellipsis in place of trailing slices
        while idx and idx[-1] == slice(None):
            idx.pop()
        idx.append(Ellipsis)
    mask = None
    if rng.random() < 0.12:
        mask = arr(rng, shape, "bool")
        idx = [mask]
    idx_t = tuple(idx)
    op = pick(rng, ["set", "add", "multiply", "min", "max", "get"])
    try:
        sub = x[idx_t]
    except Exception:
        return None
    vshape = sub.shape
    if rng.random() < 0.3 and vshape:
        vshape = vshape[int(rng.integers(0, len(vshape))):]
    vdtype = pick(rng, [dtype, dtype, "float64", "int32"])
    if np.dtype(dtype).kind not in "fc" and np.dtype(vdtype).kind == "f":
        vdtype = dtype
    if np.dtype(dtype).kind == "f" and np.dtype(vdtype).kind == "f" and \
            np.dtype(vdtype).itemsize > np.dtype(dtype).itemsize:
        vdtype = dtype
    v = arr(rng, vshape, vdtype)
    if rng.random() < 0.15:
        v = pick(rng, [2, 0.5]) if np.dtype(dtype).kind in "fc" else 2
    mode = pick(rng, [None, None, "clip", "drop", "promise_in_bounds"])
    # out-of-range index in an int array: only for drop/clip/None (set-style) to compare
    oor = False
    if mode in ("drop", "clip") or (mode is None):
        for j, k in enumerate(idx):
            if isinstance(k, np.ndarray) and k.size and rng.random() < 0.3:
                k = k.copy()
                a = j - sum(1 for q in idx[:j] if q is None)
                k[0] = pick(rng, [shape[a] + 2, -shape[a] - 3])
                idx[j] = k
                oor = True
    idx_t = tuple(idx)

    def norm_idx(idx, mode, getting):
        out = []
        a = 0
        for k in idx:
            if k is None:
                out.append(k)
                continue
            if k is Ellipsis:
                out.append(k)
                a = ndim - sum(1 for q in idx[idx.index(k) + 1:] if q is not None)
                continue
            n = shape[a]
            if isinstance(k, np.ndarray) and k.dtype.kind in "iu":
                kk = np.where(k < 0, k + n, k)
                if mode == "clip" or (mode is None and getting):
                    kk = np.clip(kk, 0, n - 1)
                out.append(kk)
            else:
                out.append(k)
            a += 1
        return tuple(out)

    def np_call(x, v):
        if op == "get" and oor and mode not in (None, "clip"):
            raise _Skip()
        if op == "get":
            return np.asarray(x[norm_idx(idx, mode, True)])
        nidx = norm_idx(idx, mode, False)
        if mode != "clip" and oor:
            # drop the updates at out-of-range positions: index per element
            keep_sets = [k for k in nidx if isinstance(k, np.ndarray) and k.dtype.kind in "iu"]
            # only the simple case: one int array, others scalars/slices
            if len(keep_sets) != 1:
                raise _Skip()
            j = [q for q, k in enumerate(nidx) if isinstance(k, np.ndarray)][0]
            n = shape[j]
            keep = (nidx[j] >= 0) & (nidx[j] < n)
            # broadcast v to the indexed shape first
            vv = np.broadcast_to(np.asarray(v), x[norm_idx(tuple(
                np.clip(k, 0, n - 1) if q == j else k for q, k in enumerate(idx)),
                "clip", True)].shape)
            # the int array's axis in the result: count non-scalar entries before it
            pos = sum(1 for q in range(j) if not isinstance(nidx[q], (int, np.integer)))
            nidx2 = tuple(k[keep] if q == j else k for q, k in enumerate(nidx))
            vv = np.compress(keep, vv, axis=pos) if np.ndim(vv) else vv
            return _np_at(x, nidx2, op, vv, mode)
        return _np_at(x, nidx, op, v, mode)

    def call(m, x, v):
        if op == "get":
            return x.at[idx_t].get(mode=mode)
        return getattr(x.at[idx_t], op)(v, mode=mode)

    def ft_call(m, x, v):
        if not hasattr(x, "at"):
            x = fnp.asarray(x)
        return call(m, x, v)

    name = f"x{shape}{dtype}.at[{idx_t!r}].{op}(v{np.shape(v)}{getattr(v, 'dtype', type(v))}, " \
           f"mode={mode!r})"
    def jax_call(x, v):
        return call(jnp, jnp.asarray(x), v)
    # (JAX's read clamps an out-of-range index but its derivative drops the clamped entry's
    # cotangent: x(4, 1).at[2, [-4, 0, -1]].get() reads x[2, 0] three times, its JAX
    # gradient counts two; functrans's all three, as central differences; its forward mode
    # counts all three too: seed 51525, x(4,).at[[6]].get(), JAX's grad 0 and jacfwd(jacfwd)
    # -sin(x[3]) at [3, 3]. jnp_call=None used to fall back on call(jnp, ...): now False)
    jax_ok = jnp is not None and not (op == "get" and oor)
    return Case("at", name, [x, v], ft_call, np_call=np_call,
                jnp_call=jax_call if jax_ok else False,
                nograd=op in ("min", "max") or mode == "promise_in_bounds")


class _Skip(Exception):
    pass


def fam_take(rng):
    ndim = int(rng.integers(0, 4))
    shape = shape_of(rng, ndim, lo=1)
    dtype = pick(rng, FLOATS + ["int64", "bool", "complex128"])
    x = arr(rng, shape, dtype)
    which = pick(rng, ["take", "take_along_axis", "put_along_axis"])
    mode = pick(rng, [None, "clip", "wrap", "raise", "fill"] if which == "take"
                else [None, "clip", "fill", "promise_in_bounds"])
    if which == "take":
        axis = None if ndim == 0 or rng.random() < 0.3 else int(rng.integers(-ndim, ndim))
        n = x.size if axis is None else shape[axis]
        ishape = shape_of(rng, int(rng.integers(0, 3)))
        hi = n + (3 if mode in ("clip", "wrap") else 0)
        ind = rng.integers(-hi, hi, size=ishape) if hi else np.zeros(ishape, int)
        if mode == "fill":
            def npc(x, ind):
                ii = np.where(ind < 0, ind + n, ind)
                bad = (ii < 0) | (ii >= n)
                out = np.take(x, np.clip(ii, 0, max(n - 1, 0)), axis=axis)
                fv = np.nan if x.dtype.kind in "fc" else (
                    True if x.dtype.kind == "b" else np.iinfo(x.dtype).min)
                ax = 0 if axis is None else (axis % ndim)
                bshape = [1] * out.ndim
                for q in range(bad.ndim):
                    bshape[ax + q] = bad.shape[q]
                return np.where(bad.reshape(bshape), np.array(fv).astype(x.dtype), out)
        else:
            npc = None
        kw = {} if mode is None else {"mode": mode}
        if mode == "fill":
            return Case("take", f"take(x{shape}{dtype}, {ind.tolist()}, axis={axis}, "
                        f"mode='fill')", [x, ind],
                        lambda m, x, i: m.take(x, i, axis=axis, mode="fill"), np_call=npc)
        if mode is None and which == "take":
            # NumPy's default raises where JAX's default fills: compare with NumPy's 'raise'
            pass
        return Case("take", f"take(x{shape}{dtype}, {ind.tolist()}, axis={axis}, **{kw})",
                    [x, ind], lambda m, x, i: m.take(x, i, axis=axis, **kw),
                    jnp_call=None if mode in (None, "raise") else
                    (lambda x, i: jnp.take(x, i, axis=axis, **kw)) if jnp else None)
    if ndim == 0:
        return None
    axis = int(rng.integers(-ndim, ndim)) if rng.random() < 0.9 else None
    ishape = list(shape) if axis is not None else [x.size]
    if axis is not None:
        ishape[axis] = int(rng.integers(0, 4))
        for q in range(ndim):
            if q != axis % ndim and rng.random() < 0.2:
                ishape[q] = 1
    n = x.size if axis is None else shape[axis]
    ind = rng.integers(-n, n, size=ishape) if n else np.zeros(ishape, int)
    if which == "take_along_axis":
        kw = {} if mode is None else {"mode": mode}
        # JAX's 'promise_in_bounds' takes the promise as [0, n) and does not count a
        # negative index from the end (functrans does, as NumPy): JAX gets them counted
        jnp_ind = (lambda i: jnp.where(i < 0, i + n, i)) if mode == "promise_in_bounds" \
            else (lambda i: i)
        return Case("take", f"take_along_axis(x{shape}{dtype}, {ind.tolist()}, axis={axis}, "
                    f"**{kw})", [x, ind],
                    lambda m, x, i: m.take_along_axis(x, i, axis=axis, **kw)
                    if m is not np else np.take_along_axis(x, i, axis=axis),
                    jnp_call=(lambda x, i: jnp.take_along_axis(x, jnp_ind(i), axis=axis, **kw))
                    if jnp is not None else None)
    vshape = np.broadcast_shapes(ind.shape, ind.shape)
    if rng.random() < 0.3:
        vshape = ()
    v = arr(rng, vshape, dtype)

    def npc(x, i, v):
        y = x.copy()
        np.put_along_axis(y, i, v, axis=axis)
        return y
    return Case("take", f"put_along_axis(x{shape}{dtype}, {ind.tolist()}, v{vshape}, "
                f"axis={axis}, inplace=False)", [x, ind, v],
                lambda m, x, i, v: m.put_along_axis(x, i, v, axis=axis, inplace=False),
                np_call=npc, nograd=True)


def fam_search(rng):
    which = pick(rng, ["searchsorted", "digitize", "bincount", "histogram", "histogram2d",
                       "histogramdd"])
    dtype = pick(rng, ["float64", "float64", "float32", "int64", "int32", "uint8"])
    if which == "searchsorted":
        n = int(rng.integers(0, 6))
        a = np.sort(arr(rng, (n,), dtype, ties=True))
        if dtype.startswith("float") and rng.random() < 0.3 and n:
            a[-1] = np.nan
        v = arr(rng, shape_of(rng), pick(rng, [dtype, "float64", "int64"]), ties=True)
        side = pick(rng, ["left", "right"])
        sorter = None
        if rng.random() < 0.3 and n:
            perm = rng.permutation(n)
            a = a[perm]
            sorter = np.argsort(perm)
        kw = dict(side=side) if sorter is None else dict(side=side, sorter=sorter)
        return Case("search", f"searchsorted({a.tolist()}, {v.tolist()}, **{kw})", [a, v],
                    lambda m, a, v: m.searchsorted(a, v, **kw))
    if which == "digitize":
        n = int(rng.integers(0, 5))
        b = np.sort(arr(rng, (n,), dtype, ties=True))
        if rng.random() < 0.4:
            b = b[::-1].copy()
        x = arr(rng, shape_of(rng), pick(rng, [dtype, "float64"]), ties=True)
        right = bool(rng.random() < 0.5)
        return Case("search", f"digitize({x.tolist()}, {b.tolist()}, right={right})", [x, b],
                    lambda m, x, b: m.digitize(x, b, right=right))
    if which == "bincount":
        n = int(rng.integers(0, 7))
        x = rng.integers(0, 6, size=n).astype(pick(rng, ["int64", "int32", "uint8", "bool"]))
        w = arr(rng, (n,), pick(rng, ["float64", "float32", "int64", "bool", "complex128"])) \
            if rng.random() < 0.5 else None
        ml = pick(rng, [0, None, 3, 8])
        kw = {} if ml is None else {"minlength": ml}
        args = [x] if w is None else [x, w]
        return Case("search", f"bincount({x.tolist()}, weights={None if w is None else w.tolist()}"
                    f", **{kw})", args,
                    lambda m, x, w=None: m.bincount(x, weights=w, **kw),
                    # (NumPy's weighted count of no values is int64, of some float64:
                    # functrans's always the weights' float64, as jax.numpy)
                    np_call=lambda x, w=None: np.bincount(x, weights=w, **kw).astype(
                        np.float64) if w is not None and not x.size and w.dtype.kind != "c"
                    else np.bincount(x, weights=w, **kw),
                    jnp_call=None, diff=[1] if w is not None and w.dtype == np.float64 else [],
                    nojit=True, novmap=True)
    if which == "histogram":
        x = arr(rng, shape_of(rng), dtype, ties=rng.random() < 0.5)
        bins = pick(rng, [3, 1, 5, "edges", "auto", "sturges", "fd"])
        if bins == "edges":
            bins = np.sort(rng.standard_normal(int(rng.integers(2, 5))))
        rng_ = pick(rng, [None, None, (-1.0, 1.0), (0.0, 0.0)])
        if isinstance(bins, np.ndarray):
            rng_ = None
        w = arr(rng, x.shape, "float64") if rng.random() < 0.3 else None
        density = pick(rng, [None, True, False])
        args = [x] if w is None else [x, w]
        return Case("search", f"histogram(x={x.tolist()}, bins={bins!r}, range={rng_}, "
                    f"weights={None if w is None else w.tolist()}, density={density})", args,
                    lambda m, x, w=None: m.histogram(x, bins=bins, range=rng_, weights=w,
                                                     density=density),
                    jnp_call=None, diff=[], nojit=True, novmap=True)
    if which == "histogram2d":
        n = int(rng.integers(0, 6))
        x = arr(rng, (n,), dtype, ties=True)
        y = arr(rng, (n,), dtype, ties=True)
        bins = pick(rng, [2, 3, [2, 3]])
        w = arr(rng, (n,), "float64") if rng.random() < 0.3 else None
        density = pick(rng, [None, True])
        rr = pick(rng, [None, [[-1, 1], [-2, 2]]])
        args = [x, y] if w is None else [x, y, w]
        return Case("search", f"histogram2d({x.tolist()}, {y.tolist()}, bins={bins}, "
                    f"range={rr}, weights={w if w is None else w.tolist()}, density={density})",
                    args, lambda m, x, y, w=None: m.histogram2d(
                        x, y, bins=bins, range=rr, weights=w, density=density),
                    jnp_call=None, diff=[], nojit=True, novmap=True)
    n = int(rng.integers(0, 6))
    d = int(rng.integers(1, 4))
    x = arr(rng, (n, d), dtype, ties=True)
    bins = pick(rng, [2, [2] * d, 3])
    density = pick(rng, [None, True])
    return Case("search", f"histogramdd({x.tolist()}, bins={bins}, density={density})", [x],
                lambda m, x: m.histogramdd(x, bins=bins, density=density),
                jnp_call=None, diff=[], nojit=True, novmap=True)


def fam_unique(rng):
    dtype = pick(rng, ["float64", "float32", "int64", "bool", "complex128", "uint8"])
    shape = shape_of(rng, int(rng.integers(0, 4)))
    x = arr(rng, shape, dtype, ties=True, nan=0.2 if rng.random() < 0.4 else 0)
    flags = {k: bool(rng.random() < 0.5) for k in ("return_index", "return_inverse",
                                                  "return_counts")}
    axis = None
    if x.ndim and rng.random() < 0.4:
        axis = int(rng.integers(-x.ndim, x.ndim))
    kw = dict(flags, axis=axis)
    if rng.random() < 0.3:
        kw["equal_nan"] = bool(rng.random() < 0.5)
    # (no derivatives: the draws tie, and a central difference splits the tied values)
    return Case("unique", f"unique(x{shape}{dtype}={x.tolist()}, **{kw})", [x],
                lambda m, x: m.unique(x, **kw), nojit=True, novmap=True, nograd=True)


QMETHODS = ["linear", "lower", "higher", "midpoint", "nearest", "inverted_cdf",
            "averaged_inverted_cdf", "closest_observation", "interpolated_inverted_cdf",
            "hazen", "weibull", "median_unbiased", "normal_unbiased"]


def fam_quantile(rng):
    dtype = pick(rng, ["float64"] * 4 + ["float32", "int64", "float16", "bool"])
    which = pick(rng, ["quantile", "percentile", "nanquantile", "nanpercentile", "median",
                       "nanmedian"])
    shape = shape_of(rng, int(rng.integers(0, 4)), lo=1)
    ties = rng.random() < 0.3
    x = arr(rng, shape, dtype, nan=0.2 if which.startswith("nan") else 0, ties=ties)
    axis = axis_of(rng, x.ndim)
    keepdims = bool(rng.random() < 0.3)
    kw = dict(axis=axis, keepdims=keepdims)
    if which.endswith("median"):
        return Case("quantile", f"{which}(x{shape}{dtype}={x.tolist()}, **{kw})", [x],
                    lambda m, x: getattr(m, which)(x, **kw), nograd=ties)
    method = pick(rng, QMETHODS)
    kw["method"] = method
    qs = pick(rng, [0.5, 0.0, 1.0, 0.25, "arr", "arr2"])
    if qs == "arr":
        qs = rng.random(int(rng.integers(0, 4)))
    elif qs == "arr2":
        qs = rng.random((2, 2))
    if which.endswith("percentile"):
        qs = qs * 100 if isinstance(qs, np.ndarray) else qs * 100
    if rng.random() < 0.15:  # q out of range
        qs = pick(rng, [-0.1, 1.5, 150.0])
    if rng.random() < 0.3 and method in ("inverted_cdf", "linear") and axis is None:
        w = rng.random(shape) + 0.1
        kw["weights"] = w
        kw["method"] = "inverted_cdf"
    q_is_arr = isinstance(qs, np.ndarray)
    args = [x, qs] if q_is_arr else [x]
    if q_is_arr:
        f = (lambda m, x, q: getattr(m, which)(x, q, **kw))
    else:
        f = (lambda m, x: getattr(m, which)(x, qs, **kw))
    return Case("quantile", f"{which}(x{shape}{dtype}={x.tolist()}, q={np.asarray(qs).tolist()}, "
                f"**{ {k: v for k, v in kw.items() if k != 'weights'} }, weights={'weights' in kw})",
                args, f, diff=[0] if x.dtype == np.float64 else [], nograd=ties)


def fam_nanreduce(rng):
    dtype = pick(rng, ["float64"] * 4 + ["float32", "int64", "float16", "complex128", "bool"])
    which = pick(rng, ["nansum", "nanprod", "nanmean", "nanvar", "nanstd", "nanmin", "nanmax",
                       "nanargmin", "nanargmax", "nancumsum", "nancumprod", "sum", "prod",
                       "mean", "var", "std", "min", "max", "amax", "ptp", "cumsum",
                       "cumprod", "cumulative_sum", "cumulative_prod", "count_nonzero",
                       "average", "any", "all"])
    shape = shape_of(rng, int(rng.integers(0, 4)))
    x = arr(rng, shape, dtype, nan=0.25 if rng.random() < 0.5 else 0)
    kw = {}
    cum = "cum" in which
    arg = "arg" in which
    axis = axis_of(rng, x.ndim, allow_tuple=not (cum or arg or which == "average"))
    if which.startswith("cumulative") and x.ndim > 1 and axis is None:
        axis = 0
    kw["axis"] = axis
    if not cum and rng.random() < 0.3:
        kw["keepdims"] = True
    if which in ("nansum", "nanprod", "nanmean", "nanvar", "nanstd", "nanmin", "nanmax", "sum",
                 "prod", "mean", "var", "std", "min", "max", "amax", "any", "all") and \
            rng.random() < 0.35:
        kw["where"] = rng.random(pick(rng, [shape, shape[1:] if shape else ()])) < 0.6
        if which in ("nanmin", "nanmax", "min", "max", "amax"):
            kw["initial"] = pick(rng, [-1.0, 10.0, 0])
    elif which in ("nanmin", "nanmax", "min", "max", "sum", "prod", "nansum", "nanprod") and \
            rng.random() < 0.2:
        kw["initial"] = pick(rng, [-1.0, 10.0, 2])
    if which in ("nanvar", "nanstd", "var", "std") and rng.random() < 0.4:
        kw["ddof"] = pick(rng, [0, 1, 2])
    if which in ("nansum", "nanprod", "nanmean", "sum", "prod", "mean", "cumsum", "cumprod",
                 "nancumsum", "nancumprod", "cumulative_sum", "cumulative_prod", "var",
                 "std") and rng.random() < 0.35:
        kw["dtype"] = pick(rng, ["float64", "float32", "int64", "int32", "complex128", "uint8",
                                 "int8"])
    if which == "average" and rng.random() < 0.5:
        n = x.size if axis is None else (shape[axis] if shape else 1)
        wshape = x.shape if axis is None or rng.random() < 0.5 else (n,)
        kw["weights"] = arr(rng, wshape, "float64")
        kw["returned"] = bool(rng.random() < 0.5)
        kw.pop("keepdims", None)
    if which.startswith("cumulative") and rng.random() < 0.4:
        kw["include_initial"] = True
    return Case("reduce", f"{which}(x{shape}{dtype}={x.tolist()}, **{kw})", [x],
                lambda m, x: getattr(m, which)(x, **kw),
                nograd=which in ("nanmin", "nanmax", "min", "max", "amax", "ptp") and
                "initial" in kw or kw.get("dtype") == "float32")  # (float32 sums: central
    # differences of h = 1e-6 are rounding noise; JAX's and the identity's ulps too)


def fam_poly(rng):
    which = pick(rng, ["polyval", "polyder", "polyint", "polyfit", "roots", "convolve",
                       "correlate", "polymul", "polyadd", "polysub", "polydiv", "poly"])
    dtype = pick(rng, ["float64"] * 4 + ["float32", "int64", "complex128"])
    if which == "polyval":
        p = arr(rng, (int(rng.integers(0, 5)),), dtype)
        x = arr(rng, shape_of(rng), pick(rng, [dtype, "float64", "int64"]))
        return Case("poly", f"polyval({p.tolist()}, {x.tolist()})", [p, x],
                    lambda m, p, x: m.polyval(p, x))
    if which in ("polyder", "polyint"):
        p = arr(rng, (int(rng.integers(0, 5)),), dtype)
        mm = pick(rng, [1, 2, 0, 3])
        kw = {"m": mm}
        if which == "polyint" and rng.random() < 0.4:
            kw["k"] = pick(rng, [1.5, [1.0, 2.0][:mm] if mm else 0.0])
        return Case("poly", f"{which}({p.tolist()}, **{kw})", [p],
                    lambda m, p: getattr(m, which)(p, **kw))
    if which == "polyfit":
        n = int(rng.integers(1, 7))
        x = np.sort(rng.standard_normal(n))
        y = arr(rng, pick(rng, [(n,), (n, 2)]), pick(rng, ["float64", "float32"]))
        deg = int(rng.integers(0, 4))
        kw = {}
        if rng.random() < 0.3:
            kw["w"] = rng.random(n) + 0.5
        if rng.random() < 0.3:
            kw["full"] = True
        elif rng.random() < 0.3 and n > deg + 3:
            kw["cov"] = pick(rng, [True, "unscaled"])
        return Case("poly", f"polyfit({x.tolist()}, {y.tolist()}, {deg}, **{kw})", [x, y],
                    lambda m, x, y: m.polyfit(x, y, deg, **kw), tol=1e-7,
                    nograd="full" in kw or "cov" in kw or n <= deg, novmap=True)
    if which == "roots":
        p = arr(rng, (int(rng.integers(0, 5)),), dtype)
        if rng.random() < 0.3 and p.size:
            p[0] = 0
        if rng.random() < 0.3 and p.size:
            p[-1] = 0
        return Case("poly", f"roots({p.tolist()})", [p], lambda m, p: np.sort_complex(
            np.asarray(m.roots(p))) if m is not np else np.sort_complex(np.roots(p)),
                    nograd=True, nojit=True, novmap=True, jnp_call=None, tol=1e-6)
    if which in ("convolve", "correlate"):
        a = arr(rng, (int(rng.integers(0, 5)),), dtype)
        b = arr(rng, (int(rng.integers(0, 5)),), pick(rng, [dtype, "float64", "int64",
                                                             "complex128"]))
        mode = pick(rng, ["full", "same", "valid"])
        return Case("poly", f"{which}({a.tolist()}, {b.tolist()}, mode={mode!r})", [a, b],
                    lambda m, a, b: getattr(m, which)(a, b, mode=mode))
    if which == "poly":
        p = arr(rng, pick(rng, [(int(rng.integers(0, 4)),), (2, 2), (3, 3)]), dtype)
        # (under jit the result stays complex: documented)
        # (a float32 matrix's eigenvalues, then their products: an ulp or two apart from
        # NumPy's, the dtype's own tolerance)
        return Case("poly", f"poly({p.tolist()})", [p], lambda m, p: m.poly(p),
                    tol=1e-8 if p.dtype == np.float64 else None, nograd=p.ndim == 2,
                    jnp_call=None, nojit=True)
    a = arr(rng, (int(rng.integers(0, 4)),), dtype)
    b = arr(rng, (int(rng.integers(0, 4)),), pick(rng, [dtype, "float64", "int64"]))
    nograd = False
    if which == "polydiv" and b.size:
        b[0] = pick(rng, [1.0, 2.0, 0.5, 0.0]) if b.dtype.kind == "f" else b[0]
        nograd = b[0] == 0  # (a leading zero: a central difference changes the shapes)
    return Case("poly", f"{which}({a.tolist()}, {b.tolist()})", [a, b],
                lambda m, a, b: getattr(m, which)(a, b), nograd=nograd,
                nojit=which in ("polydiv", "polymul"))  # (jit keeps leading zeros: documented)


def fam_interp(rng):
    n = int(rng.integers(1, 6))
    ties = rng.random() < 0.3
    xp = np.sort(arr(rng, (n,), "float64", ties=ties))
    fpd = pick(rng, ["float64", "float64", "complex128", "float32", "int64"])
    fp = arr(rng, (n,), fpd)
    x = arr(rng, shape_of(rng), pick(rng, ["float64", "float64", "int64", "float32"]),
            ties=rng.random() < 0.5)
    if rng.random() < 0.2 and x.size and x.dtype.kind == "f":
        x.flat[0] = pick(rng, [np.nan, np.inf, -np.inf])
    kw = {}
    if rng.random() < 0.3:
        kw["left"] = pick(rng, [-10.0, np.nan, 0])
    if rng.random() < 0.3:
        kw["right"] = pick(rng, [10.0, 7])
    if rng.random() < 0.25:
        kw = {"period": pick(rng, [2.0, 360, 1.0])}
        xp = arr(rng, (n,), "float64")  # unsorted is fine with period
    return Case("interp", f"interp({x.tolist()}, {xp.tolist()}, {fp.tolist()}, **{kw})",
                [x, xp, fp], lambda m, x, xp, fp: m.interp(x, xp, fp, **kw),
                diff=[] if ties else None)


def fam_diff(rng):
    which = pick(rng, ["diff", "ediff1d", "gradient", "trapezoid", "cross", "kron"])
    dtype = pick(rng, ["float64"] * 4 + ["float32", "int64", "complex128", "bool", "uint8"])
    if which == "diff":
        shape = shape_of(rng, int(rng.integers(1, 4)))
        x = arr(rng, shape, dtype)
        ax = int(rng.integers(-x.ndim, x.ndim))
        kw = dict(n=pick(rng, [1, 2, 0, 3]), axis=ax)
        if rng.random() < 0.3:
            sh = list(shape)
            sh[ax] = int(rng.integers(0, 3))
            kw["prepend"] = pick(rng, [arr(rng, tuple(sh), dtype), 1.5 if dtype != "bool"
                                       else True])
        if rng.random() < 0.3:
            kw["append"] = pick(rng, [0, 2.0])
        # a Python int is an int64 array to both (as NumPy's asanyarray makes it), and
        # float32 beside int64 stays float32 (policy_dtype): NumPy's is given it as float32
        # (prepend/append only: n is an integer, and NumPy refuses a float32 one)
        np_kw = {k: (np.asarray(v, dtype) if dtype in ("float32", "complex64") and
                     type(v) is int and k in ("prepend", "append") else v)
                 for k, v in kw.items()}
        return Case("diff", f"diff(x{shape}{dtype}={x.tolist()}, **{kw})", [x],
                    lambda m, x: m.diff(x, **kw), np_call=lambda x: np.diff(x, **np_kw))
    if which == "ediff1d":
        x = arr(rng, shape_of(rng), dtype)
        kw = {}
        if rng.random() < 0.4:
            kw["to_end"] = pick(rng, [1, [1.0, 2.0], np.array([3])])
        if rng.random() < 0.4:
            kw["to_begin"] = pick(rng, [-1, [0.5]])
        return Case("diff", f"ediff1d(x{x.shape}{dtype}={x.tolist()}, **{kw})", [x],
                    lambda m, x: m.ediff1d(x, **kw))
    if which == "gradient":
        shape = shape_of(rng, int(rng.integers(1, 3)), lo=2)
        x = arr(rng, shape, dtype)
        eo = pick(rng, [1, 2])
        axis = pick(rng, [None, 0, -1, (0,)]) if x.ndim else None
        if x.ndim == 1 and axis == -1:
            axis = 0
        nax = x.ndim if axis is None else (1 if not isinstance(axis, tuple) else len(axis))
        va = pick(rng, ["none", "scalar", "coords", "each"])
        args = []
        if va == "scalar":
            args = [pick(rng, [0.5, 2])]
        elif va == "coords" and nax == 1:
            ax = 0 if axis is None else (axis[0] if isinstance(axis, tuple) else axis)
            args = [np.sort(rng.random(shape[ax]) * 5) + np.arange(shape[ax])]
        elif va == "each":
            args = [pick(rng, [1.0, 0.5, 3]) for _ in range(nax)]
        return Case("diff", f"gradient(x{shape}{dtype}={x.tolist()}, *{args}, axis={axis}, "
                    f"edge_order={eo})", [x],
                    lambda m, x: m.gradient(x, *args, axis=axis, edge_order=eo))
    if which == "trapezoid":
        shape = shape_of(rng, int(rng.integers(1, 3)))
        y = arr(rng, shape, dtype)
        ax = int(rng.integers(-y.ndim, y.ndim))
        r = rng.random()
        if r < 0.3:
            return Case("diff", f"trapezoid(y{shape}{dtype}={y.tolist()}, axis={ax})", [y],
                        lambda m, y: m.trapezoid(y, axis=ax))
        if r < 0.6:
            dx = pick(rng, [0.5, 2])
            return Case("diff", f"trapezoid(y={y.tolist()}, dx={dx}, axis={ax})", [y],
                        lambda m, y: m.trapezoid(y, dx=dx, axis=ax))
        xs = arr(rng, pick(rng, [(shape[ax],), shape]), "float64")
        return Case("diff", f"trapezoid(y={y.tolist()}, x={xs.tolist()}, axis={ax})", [y, xs],
                    lambda m, y, x: m.trapezoid(y, x=x, axis=ax))
    if which == "cross":
        d1, d2 = pick(rng, [2, 3]), pick(rng, [2, 3])
        a = arr(rng, shape_of(rng, int(rng.integers(0, 2))) + (d1,), dtype)
        b = arr(rng, shape_of(rng, int(rng.integers(0, 2))) + (d2,),
                pick(rng, [dtype, "float64"]))
        kw = {}
        if rng.random() < 0.3 and a.ndim == b.ndim == 2 and rng.random() < 0.5:
            kw = {"axisa": 0, "axisb": 0} if False else {"axisc": 0}
        try:
            np.broadcast_shapes(a.shape[:-1], b.shape[:-1])
        except ValueError:
            return None
        return Case("diff", f"cross({a.tolist()}, {b.tolist()}, **{kw})", [a, b],
                    lambda m, a, b: m.cross(a, b, **kw))
    a = arr(rng, shape_of(rng, int(rng.integers(0, 3)), hi=3), dtype)
    b = arr(rng, shape_of(rng, int(rng.integers(0, 3)), hi=3), pick(rng, [dtype, "float64"]))
    return Case("diff", f"kron(a{a.shape}{a.dtype}={a.tolist()}, b{b.shape}{b.dtype}={b.tolist()})",
                [a, b], lambda m, a, b: m.kron(a, b))


def fam_einsum(rng):
    letters = "abcd"
    nops = int(rng.integers(1, 4))
    sizes = {c: int(rng.integers(0 if rng.random() < 0.05 else 1, 4)) for c in letters}
    subs, ops = [], []
    ell = rng.random() < 0.25
    eshape = shape_of(rng, int(rng.integers(0, 3)), hi=3) if ell else ()
    for _ in range(nops):
        k = int(rng.integers(0, 4))
        s = "".join(pick(rng, letters) for _ in range(k))  # repeated letters allowed
        shp = tuple(sizes[c] for c in s)
        if ell and rng.random() < 0.7:
            cut = int(rng.integers(0, len(eshape) + 1))
            es = eshape[cut:]
            if rng.random() < 0.5:
                s, shp = "..." + s, es + shp
            else:
                s, shp = s + "...", shp + es
        subs.append(s)
        ops.append(arr(rng, shp, pick(rng, ["float64"] * 4 + ["float32", "int64",
                                                              "complex128"])))
    used = sorted(set("".join(subs).replace(".", "")))
    explicit = rng.random() < 0.6
    if explicit:
        outs = [c for c in used if rng.random() < 0.5]
        rng.shuffle(outs)
        out = "".join(outs)
        if any("..." in s for s in subs) and rng.random() < 0.8:
            out = "..." + out
        spec = ",".join(subs) + "->" + out
    else:
        spec = ",".join(subs)
    opt = pick(rng, [False, True, "greedy", "optimal"])
    return Case("einsum", f"einsum({spec!r}, *{[o.shape for o in ops]} "
                f"{[o.dtype.name for o in ops]}, optimize={opt!r})", ops,
                lambda m, *o: m.einsum(spec, *o, optimize=opt) if m is not jnp
                else m.einsum(spec, *o, optimize=opt if opt is not False else "greedy"))


def fam_apply(rng):
    which = pick(rng, ["apply_along_axis", "vectorize", "vectorize_sig"])
    shape = shape_of(rng, int(rng.integers(1, 4)), lo=1)
    x = arr(rng, shape, pick(rng, ["float64", "float64", "int64", "float32"]))
    if which == "apply_along_axis":
        ax = int(rng.integers(-x.ndim, x.ndim))
        fn = pick(rng, ["sum", "cumsum", "outer", "scalar0"])

        def along(m):
            return {"sum": lambda v: m.sum(v) * 2, "cumsum": lambda v: m.cumsum(v) ** 2,
                    "outer": lambda v: m.outer(v, v), "scalar0": lambda v: v[0]}[fn]
        return Case("apply", f"apply_along_axis({fn}, {ax}, x{shape}{x.dtype}={x.tolist()})",
                    [x], lambda m, x: m.apply_along_axis(along(m), ax, x))
    if which == "vectorize":
        y = arr(rng, shape_of(rng, int(rng.integers(0, 3)), lo=1), "float64")
        try:
            np.broadcast_shapes(x.shape, y.shape)
        except ValueError:
            return None
        exc = rng.random() < 0.3

        def vec(m):
            if exc:
                return m.vectorize(lambda a, b, c: a * b + c, excluded={2})
            return m.vectorize(lambda a, b: a * b + (a if a > 0 else b))
        if exc:
            return Case("apply", f"vectorize(a*b+c, excluded={{2}})(x={x.tolist()}, "
                        f"y={y.tolist()}, 3.0)", [x, y],
                        lambda m, x, y: vec(m)(x, y, 3.0), nojit=True)
        return Case("apply", f"vectorize(a*b + (a if a>0 else b))(x={x.tolist()}, "
                    f"y={y.tolist()})", [x, y], lambda m, x, y: vec(m)(x, y),
                    nojit=True, novmap=True, jnp_call=None)
    sig = pick(rng, ["(n)->()", "(n)->(n)", "(n),(n)->()", "(n)->(2)"])
    if x.ndim < 1:
        return None

    def make(m):
        if sig == "(n)->()":
            return m.vectorize(lambda v: m.sum(v * v), signature=sig)
        if sig == "(n)->(n)":
            return m.vectorize(lambda v: m.cumsum(v), signature=sig)
        if sig == "(n)->(2)":
            return m.vectorize(lambda v: m.stack([m.min(v), m.max(v)]), signature=sig)
        return m.vectorize(lambda v, w: m.dot(v, w), signature=sig)
    if sig == "(n),(n)->()":
        y = arr(rng, x.shape[-1:], "float64")
        return Case("apply", f"vectorize(dot, signature={sig!r})({x.tolist()}, {y.tolist()})",
                    [x, y], lambda m, x, y: make(m)(x, y))
    return Case("apply", f"vectorize(signature={sig!r})(x{x.shape}={x.tolist()})", [x],
                lambda m, x: make(m)(x))


PAD_MODES = ["constant", "edge", "linear_ramp", "maximum", "mean", "median", "minimum",
             "reflect", "symmetric", "wrap", "empty"]


def fam_pad(rng):
    which = pick(rng, ["pad", "pad", "tile", "repeat", "round", "ptp", "clip", "nan_to_num"])
    dtype = pick(rng, ["float64"] * 4 + ["float32", "int64", "complex128", "bool", "uint8",
                                         "float16", "int8"])
    shape = shape_of(rng, int(rng.integers(0, 4)))
    x = arr(rng, shape, dtype, ties=which == "round")
    if which == "pad":
        mode = pick(rng, PAD_MODES)
        if mode == "empty":
            return None
        r = rng.random()
        if r < 0.3:
            pw = int(rng.integers(0, 4))
        elif r < 0.5:
            pw = (int(rng.integers(0, 3)), int(rng.integers(0, 3)))
        else:
            pw = [(int(rng.integers(0, 4)), int(rng.integers(0, 4))) for _ in shape]
        kw = {}
        if mode == "constant" and rng.random() < 0.5:
            kw["constant_values"] = pick(rng, [1, 2.5, (1, 2)])
        if mode == "linear_ramp" and rng.random() < 0.5:
            kw["end_values"] = pick(rng, [1, (0, 2)])
        if mode in ("maximum", "mean", "median", "minimum") and rng.random() < 0.5:
            kw["stat_length"] = pick(rng, [1, 2, (1, 3)])
        if mode in ("reflect", "symmetric") and rng.random() < 0.4:
            kw["reflect_type"] = "odd"
        return Case("pad", f"pad(x{shape}{dtype}={x.tolist()}, {pw}, mode={mode!r}, **{kw})",
                    [x], lambda m, x: m.pad(x, pw, mode=mode, **kw))
    if which == "tile":
        reps = pick(rng, [2, 0, (1, 2), (2, 1, 1), ()])
        return Case("pad", f"tile(x{shape}{dtype}={x.tolist()}, {reps})", [x],
                    lambda m, x: m.tile(x, reps))
    if which == "repeat":
        axis = None if not shape or rng.random() < 0.3 else int(rng.integers(-len(shape),
                                                                             len(shape)))
        n = x.size if axis is None else shape[axis]
        reps = pick(rng, [2, 0, "arr"])
        if reps == "arr":
            reps = rng.integers(0, 3, size=n)
        return Case("pad", f"repeat(x{shape}{dtype}={x.tolist()}, {reps!r}, axis={axis})", [x],
                    lambda m, x: m.repeat(x, reps, axis=axis), nojit=isinstance(reps, np.ndarray))
    if which == "round":
        dec = pick(rng, [0, 1, -1, 2, -2])
        if rng.random() < 0.5:
            x = (x * pick(rng, [10, 100, 1])).astype(dtype) if dtype != "bool" else x
        f = pick(rng, ["round", "around"])
        return Case("pad", f"{f}(x{shape}{dtype}={x.tolist()}, decimals={dec})", [x],
                    lambda m, x: getattr(m, f)(x, decimals=dec))
    if which == "ptp":
        axis = axis_of(rng, x.ndim)
        kd = bool(rng.random() < 0.3)
        return Case("pad", f"ptp(x{shape}{dtype}={x.tolist()}, axis={axis}, keepdims={kd})", [x],
                    lambda m, x: m.ptp(x, axis=axis, keepdims=kd))
    if which == "clip":
        lo = pick(rng, [None, -1, -0.5, "arr"])
        hi = pick(rng, [None, 1, 0.5, "arr"])
        if lo is None and hi is None and rng.random() < 0.5:
            hi = 2
        if isinstance(lo, str):
            lo = arr(rng, shape[1:] if shape else (), dtype) if dtype != "bool" else None
        if isinstance(hi, str):
            hi = arr(rng, shape[1:] if shape else (), dtype) if dtype != "bool" else None
        return Case("pad", f"clip(x{shape}{dtype}={x.tolist()}, {np.asarray(lo).tolist()}, "
                    f"{np.asarray(hi).tolist()})", [x], lambda m, x: m.clip(x, lo, hi))
    if dtype in ("float64", "float32", "complex128", "float16") and x.size:
        for _ in range(2):
            x.flat[int(rng.integers(0, x.size))] = pick(rng, [np.nan, np.inf, -np.inf])
    kw = {}
    for k in ("nan", "posinf", "neginf"):
        if rng.random() < 0.4:
            kw[k] = pick(rng, [0.5, -3, 1e300])
    return Case("pad", f"nan_to_num(x{shape}{dtype}={x.tolist()}, **{kw})", [x],
                lambda m, x: m.nan_to_num(x, **kw))


def fam_index(rng):
    ndim = int(rng.integers(1, 4))
    shape = shape_of(rng, ndim, lo=1)
    x = arr(rng, shape, pick(rng, ["float64", "float64", "int64", "bool", "float32"]))
    key = []
    for a in range(ndim):
        n = shape[a]
        r = rng.random()
        if r < 0.2 and n:
            key.append(int(rng.integers(-n, n)))
        elif r < 0.5 and n:
            key.append(rng.integers(-n, n, size=pick(rng, [(2,), (1,), (2, 1), (0,)])))
        elif r < 0.6:
            key.append(list(map(int, rng.integers(-max(n, 1), max(n, 1), size=2))) if n else [])
        elif r < 0.7:
            key.append(rng.random(n) < 0.5)
        elif r < 0.9:
            key.append(slice(pick(rng, [None, 1, -1]), None, pick(rng, [None, 2, -1])))
        else:
            key.append(slice(None))
    if rng.random() < 0.2:
        key.insert(int(rng.integers(0, len(key) + 1)), None)
    if rng.random() < 0.15:
        key.insert(int(rng.integers(0, len(key) + 1)), Ellipsis)
        if len([k for k in key if k is not None and k is not Ellipsis]) > ndim:
            key.pop()
    key = tuple(key)
    try:
        x[key]
    except Exception:
        return None
    return Case("index", f"x{shape}{x.dtype}[{key!r}]", [x], lambda m, x: x[key]
                if m is np else (fnp.asarray(x) if not hasattr(x, "shape") or isinstance(
                    x, np.ndarray) else x)[key])


def fam_misc(rng):
    """sweepa42: the commoner functions no other family called (flips and rotations,
    triangles and traces, products, stacking and splitting, delete/select/choose, unwrap,
    corrcoef, the remainder family, meshgrid, linspace/logspace/geomspace with array end
    points, vander, partition, resize, trim_zeros, atleast_*)."""
    which = pick(rng, ["flip", "fliplr", "flipud", "rot90", "tril", "triu", "trace",
                       "diagflat", "tensordot", "vecdot", "vecmat", "matrix_transpose",
                       "hstack", "vstack", "dstack", "column_stack", "array_split", "hsplit",
                       "vsplit", "dsplit", "delete", "select", "choose", "unwrap",
                       "corrcoef", "float_power", "fmod", "remainder", "divmod", "modf",
                       "heaviside", "fmax", "fmin", "meshgrid", "linspace", "logspace",
                       "geomspace", "vander", "partition", "broadcast_arrays", "rollaxis",
                       "resize", "trim_zeros", "atleast_1d", "atleast_2d", "atleast_3d",
                       "block", "amin", "fix", "trunc", "rint", "floor_divide", "signbit",
                       "isneginf", "isposinf", "real_if_close", "unstack", "tri"])
    dtype = pick(rng, ["float64"] * 6 + ["float32", "int64", "complex128", "bool"])
    if which in ("flip", "fliplr", "flipud", "rot90", "tril", "triu", "trace",
                 "matrix_transpose", "amin", "fix", "trunc", "rint", "signbit", "isneginf",
                 "isposinf", "real_if_close", "unstack", "atleast_1d", "atleast_2d",
                 "atleast_3d", "rollaxis", "trim_zeros", "diagflat", "partition", "resize"):
        lo_nd = {"fliplr": 2, "flipud": 1, "rot90": 2, "trace": 2, "matrix_transpose": 2,
                 "unstack": 1, "trim_zeros": 1, "partition": 1}.get(which, 0)
        hi_nd = 1 if which == "trim_zeros" else 3
        shape = shape_of(rng, int(rng.integers(lo_nd, hi_nd + 1)))
        if which in ("fix", "trunc", "rint", "signbit", "isneginf", "isposinf") and \
                dtype in ("complex128", "bool"):
            dtype = "float64"
        if which == "partition" and dtype == "complex128":
            dtype = "float64"
        x = arr(rng, shape, dtype, ties=which in ("partition", "trim_zeros"))
        if which in ("isneginf", "isposinf", "signbit") and x.size and dtype == "float64":
            x.ravel()[0] = pick(rng, [np.inf, -np.inf, -0.0, np.nan])
        if which == "real_if_close" and dtype == "complex128" and rng.random() < 0.5:
            x = (x.real + 1e-16j * x.imag).astype(dtype)
        nd = x.ndim
        kw = {}
        if which == "flip" and nd and rng.random() < 0.7:
            kw["axis"] = axis_of(rng, nd, allow_none=True)
        elif which == "rot90":
            kw["k"] = int(rng.integers(-5, 6))
            a0 = int(rng.integers(-nd, nd))
            a1 = pick(rng, [q for q in range(-nd, nd) if q % nd != a0 % nd])
            kw["axes"] = (a0, a1)
        elif which in ("tril", "triu"):
            kw["k"] = int(rng.integers(-3, 4))
        elif which == "trace":
            kw["offset"] = int(rng.integers(-3, 4))
            a0 = int(rng.integers(-nd, nd))
            a1 = pick(rng, [q for q in range(-nd, nd) if q % nd != a0 % nd])
            kw["axis1"], kw["axis2"] = a0, a1
        elif which == "amin" and nd:
            kw["axis"] = axis_of(rng, nd)
            kw["keepdims"] = bool(rng.random() < 0.3)
            if x.size == 0 or (kw["axis"] is not None and rng.random() < 0.5):
                kw["initial"] = 10.0 if dtype != "bool" else True
        elif which == "unstack":
            kw["axis"] = int(rng.integers(-nd, nd))
        elif which == "rollaxis" and nd:
            kw["axis"] = int(rng.integers(-nd, nd))
            kw["start"] = int(rng.integers(-nd, nd + 1))
        elif which == "trim_zeros":
            x = np.where(rng.random(x.shape) < 0.5, 0, x).astype(dtype)
            kw["trim"] = pick(rng, ["fb", "f", "b"])
        elif which == "diagflat":
            kw["k"] = int(rng.integers(-2, 3))
        elif which == "partition":
            ax = int(rng.integers(-nd, nd))
            n = shape[ax]
            if n == 0:
                return None
            kw["kth"] = int(rng.integers(-n, n))
            kw["axis"] = ax
        elif which == "resize":
            kw["new_shape"] = shape_of(rng, int(rng.integers(0, 3)))
        args = [x]
        if which == "partition":  # (only the k-th entry's place is defined)
            k = kw["kth"]

            def call(m, x):
                return m.take(m.partition(x, kw["kth"], axis=kw["axis"]), k,
                              axis=kw["axis"])
        else:
            def call(m, x):
                return getattr(m, which)(x, **kw)
        # (trim_zeros: its length depends on the values; the tangent shifts them off zero)
        return Case("misc", f"{which}(x{shape}{dtype}={x.tolist()}, **{kw})", args, call,
                    nograd=which == "trim_zeros", novmap=which == "trim_zeros")
    if which in ("float_power", "fmod", "remainder", "divmod", "heaviside", "fmax", "fmin",
                 "floor_divide"):
        if dtype in ("complex128",) or (dtype == "bool" and which != "fmax"):
            dtype = "float64"
        s1 = shape_of(rng)
        s2 = s1[int(rng.integers(0, len(s1) + 1)):] if rng.random() < 0.5 else s1
        x1, x2 = arr(rng, s1, dtype), arr(rng, s2, pick(rng, [dtype, "float64", "int64"]))
        if which == "float_power":
            x1 = np.abs(x1) + (0.5 if x1.dtype.kind == "f" else 0)
        if which in ("fmax", "fmin") and x1.dtype.kind == "f" and x1.size and rng.random() < .3:
            x1.ravel()[0] = np.nan
        if which == "heaviside" and x1.size and rng.random() < 0.5:
            x1.ravel()[0] = 0
        return Case("misc", f"{which}(x1{s1}{x1.dtype}={x1.tolist()}, x2{s2}{x2.dtype}="
                    f"{x2.tolist()})", [x1, x2], lambda m, a, b: getattr(m, which)(a, b))
    if which == "modf":
        x = arr(rng, shape_of(rng), pick(rng, ["float64", "float64", "float32"]))
        return Case("misc", f"modf(x{x.shape}{x.dtype}={x.tolist()})", [x],
                    lambda m, x: m.modf(x))
    if which in ("tensordot", "vecdot", "vecmat"):
        if dtype == "bool":
            dtype = "float64"
        if which == "tensordot":
            k = int(rng.integers(0, 3))
            shared = shape_of(rng, k, lo=1)
            a = arr(rng, shape_of(rng, int(rng.integers(0, 2))) + shared, dtype)
            b = arr(rng, shared + shape_of(rng, int(rng.integers(0, 2))), dtype)
            axes = k if rng.random() < 0.6 else (list(range(a.ndim - k, a.ndim)),
                                                  list(range(k)))
            return Case("misc", f"tensordot(a{a.shape}{dtype}, b{b.shape}, axes={axes})",
                        [a, b], lambda m, a, b: m.tensordot(a, b, axes=axes))
        n = int(rng.integers(1, 4))
        if which == "vecdot":
            s1 = shape_of(rng, int(rng.integers(0, 2))) + (n,)
            s2 = s1[int(rng.integers(0, len(s1))):]
            a, b = arr(rng, s1, dtype), arr(rng, s2, dtype)
            return Case("misc", f"vecdot(a{s1}{dtype}={a.tolist()}, b{s2}={b.tolist()})",
                        [a, b], lambda m, a, b: m.vecdot(a, b))
        a = arr(rng, shape_of(rng, int(rng.integers(0, 2))) + (n,), dtype)
        b = arr(rng, (n, int(rng.integers(1, 4))), dtype)
        return Case("misc", f"vecmat(a{a.shape}{dtype}={a.tolist()}, b{b.shape}={b.tolist()})",
                    [a, b], lambda m, a, b: m.vecmat(a, b))
    if which in ("hstack", "vstack", "dstack", "column_stack", "block"):
        nd = int(rng.integers(0, 3))
        base = shape_of(rng, nd, lo=1)
        k = int(rng.integers(1, 4))
        xs = []
        for _ in range(k):
            sh = list(base)
            ax = {"hstack": 1 if nd > 1 else 0, "vstack": 0, "dstack": 2,
                  "column_stack": 1, "block": nd - 1}.get(which)
            if ax is not None and 0 <= ax < nd:
                sh[ax] = int(rng.integers(1, 3))
            xs.append(arr(rng, tuple(sh), pick(rng, [dtype, dtype, "float64"])))
        if which == "column_stack" and any(x.ndim > 2 for x in xs):
            return None
        return Case("misc", f"{which}([{', '.join(f'{x.shape}{x.dtype}' for x in xs)}])", xs,
                    lambda m, *a: getattr(m, which)(list(a)))
    if which in ("array_split", "hsplit", "vsplit", "dsplit"):
        nd = {"vsplit": 2, "dsplit": 3, "hsplit": 1}.get(which, 1)
        shape = shape_of(rng, int(rng.integers(nd, 4)), lo=1)
        x = arr(rng, shape, dtype)
        ax = {"hsplit": 1 if x.ndim > 1 else 0, "vsplit": 0, "dsplit": 2}.get(which)
        if ax is None:
            ax = int(rng.integers(-x.ndim, x.ndim))
        n = shape[ax]
        if rng.random() < 0.5:
            sec = int(rng.integers(1, 4))
            if which != "array_split" and n % sec:
                sec = 1
        else:
            sec = sorted(int(v) for v in rng.integers(-1, n + 2, size=int(rng.integers(0, 3))))
        kw = {"axis": ax} if which == "array_split" else {}
        return Case("misc", f"{which}(x{shape}{dtype}, {sec}, **{kw})", [x],
                    lambda m, x: getattr(m, which)(x, sec, **kw))
    if which == "delete":
        shape = shape_of(rng, int(rng.integers(1, 4)))
        x = arr(rng, shape, dtype)
        ax = None if rng.random() < 0.25 else int(rng.integers(-x.ndim, x.ndim))
        n = x.size if ax is None else shape[ax]
        r = rng.random()
        if r < 0.3 and n:
            obj = int(rng.integers(-n, n))
        elif r < 0.6:
            obj = slice(pick(rng, [None, 1, -1]), pick(rng, [None, 2, -1]), pick(rng, [None, 2, -1]))
        elif r < 0.8 and n:
            obj = [int(v) for v in rng.integers(-n, n, size=int(rng.integers(0, 3)))]
        else:
            obj = (rng.random(n) < 0.5)
        return Case("misc", f"delete(x{shape}{dtype}, {obj!r}, axis={ax})", [x],
                    lambda m, x: m.delete(x, obj, axis=ax))
    if which == "select":
        shape = shape_of(rng)
        k = int(rng.integers(0, 3))
        conds = [arr(rng, shape, "bool") for _ in range(k + 1)]
        choices = [arr(rng, shape, dtype if dtype != "bool" else "float64")
                   for _ in range(k + 1)]
        default = pick(rng, [0, 1.5, -1])
        return Case("misc", f"select({k + 1} conds{shape}, choices {dtype}, default={default})",
                    conds + choices,
                    lambda m, *a: m.select(list(a[:k + 1]), list(a[k + 1:]), default))
    if which == "choose":
        shape = shape_of(rng)
        k = int(rng.integers(1, 4))
        mode = pick(rng, ["raise", "wrap", "clip"])
        hi = k + (2 if mode != "raise" else 0)
        idx = rng.integers(-hi if mode != "raise" else 0, hi, size=shape)
        choices = [arr(rng, shape, dtype) for _ in range(k)]
        return Case("misc", f"choose(idx={idx.tolist()}, {k} choices{shape}{dtype}, "
                    f"mode={mode!r})", [idx] + choices,
                    lambda m, i, *c: m.choose(i, list(c), mode=mode))
    if which == "unwrap":
        shape = shape_of(rng, int(rng.integers(1, 3)))
        x = np.cumsum(arr(rng, shape, "float64") * 3, axis=-1)
        kw = {"axis": int(rng.integers(-x.ndim, x.ndim))}
        if rng.random() < 0.4:
            kw["period"] = pick(rng, [2.0, 7.0, 360.0])
        if rng.random() < 0.3:
            kw["discont"] = pick(rng, [1.0, 5.0])
        return Case("misc", f"unwrap(x{shape}={x.tolist()}, **{kw})", [x],
                    lambda m, x: m.unwrap(x, **kw))
    if which == "corrcoef":
        if dtype == "bool":
            dtype = "float64"
        shape = shape_of(rng, int(rng.integers(1, 3)), lo=2)
        x = arr(rng, shape, dtype)
        kw = {"rowvar": bool(rng.random() < 0.7)}
        args = [x]
        if rng.random() < 0.3:
            args.append(arr(rng, shape, dtype))
        return Case("misc", f"corrcoef(x{shape}{dtype}={x.tolist()}, y={len(args) > 1}, "
                    f"**{kw})", args, lambda m, *a: m.corrcoef(*a, **kw))
    if which == "meshgrid":
        xs = [arr(rng, (int(rng.integers(0, 4)),), pick(rng, ["float64", "int64", "float32"]))
              for _ in range(int(rng.integers(1, 4)))]
        kw = {"indexing": pick(rng, ["xy", "ij"]), "sparse": bool(rng.random() < 0.3)}
        return Case("misc", f"meshgrid({[x.shape for x in xs]}, **{kw})", xs,
                    lambda m, *a: m.meshgrid(*a, **kw))
    if which in ("linspace", "logspace", "geomspace"):
        s = shape_of(rng, int(rng.integers(0, 2)))
        a = arr(rng, s, "float64")
        b = arr(rng, s, "float64")
        if which == "geomspace":
            a, b = np.abs(a) + 0.1, np.abs(b) + 0.1
        kw = {"num": int(rng.integers(0, 6)), "endpoint": bool(rng.random() < 0.7),
              "axis": pick(rng, [0, -1])}
        if which == "logspace" and rng.random() < 0.3:
            kw["base"] = 2.0
        return Case("misc", f"{which}(a{s}={a.tolist()}, b={b.tolist()}, **{kw})", [a, b],
                    lambda m, a, b: getattr(m, which)(a, b, **kw))
    if which == "vander":
        x = arr(rng, (int(rng.integers(0, 4)),), dtype if dtype != "bool" else "int64")
        kw = {"N": pick(rng, [None, 0, 1, 3]), "increasing": bool(rng.random() < 0.5)}
        return Case("misc", f"vander(x={x.tolist()}{x.dtype}, **{kw})", [x],
                    lambda m, x: m.vander(x, **kw))
    if which == "broadcast_arrays":
        s1 = shape_of(rng)
        s2 = tuple(1 if rng.random() < 0.3 else d for d in s1[int(rng.integers(0, len(s1) + 1)):])
        a, b = arr(rng, s1, dtype), arr(rng, s2, "float64")
        return Case("misc", f"broadcast_arrays(a{s1}{dtype}, b{s2})", [a, b],
                    lambda m, a, b: tuple(m.broadcast_arrays(a, b)))
    if which == "tri":
        kw = {"N": int(rng.integers(0, 4)), "M": pick(rng, [None, 0, 2, 4]),
              "k": int(rng.integers(-2, 3)), "dtype": pick(rng, ["float64", "int32", "bool"])}
        return Case("misc", f"tri(**{kw})", [], lambda m: m.tri(**kw))
    raise AssertionError(which)


def fam_more(rng):
    """sweepb43: the public functions no family drew before (elementwise and comparison
    ufuncs, bitwise and integer functions, set operations, the unique_* family, index
    helpers, partition indices, packbits, bin edges, and numpy.linalg's matrix_power,
    matrix_rank, multi_dot, pinv, slogdet, lstsq, matrix_norm, tensorinv, tensorsolve)."""
    which = pick(rng, ["unary", "binary", "bitwise", "intfun", "setop", "unique_x",
                       "argpartition", "flatnonzero", "lexsort", "ravel_multi_index",
                       "tri_from", "fill_diagonal", "array_equiv", "apply_over_axes",
                       "permute_dims", "hanning", "bin_edges", "packbits", "linalg"])
    if which == "unary":
        f = pick(rng, ["arccosh", "deg2rad", "rad2deg", "radians", "fabs", "logical_not",
                       "iscomplex", "isreal", "isrealobj"])
        # (a bool in the float functions: NumPy's smallest loop is float16, functrans's
        # float64 as fnp.sin's, JAX's default float: not drawn)
        pred = f in ("iscomplex", "isreal", "isrealobj", "logical_not")
        dtype = pick(rng, ["float64"] * 4 + ["float32", "int64"] +
                     (["complex128", "bool"] if pred else []))
        x = arr(rng, shape_of(rng), dtype)
        if f == "arccosh" and dtype == "float64":
            x = np.abs(x) + 1.0 + (rng.random(x.shape) < 0.2) * np.nan * 0  # (domain >= 1)
        return Case("more", f"{f}(x{x.shape}{dtype}={x.tolist()})", [x],
                    lambda m, x: getattr(m, f)(x))
    if which == "binary":
        f = pick(rng, ["divide", "true_divide", "power", "greater", "greater_equal",
                       "less_equal", "not_equal", "logical_or", "logical_xor"])
        dtype = pick(rng, ["float64"] * 4 + ["float32", "int64", "bool"])
        if f == "power" and dtype == "bool":
            dtype = "float64"
        s1 = shape_of(rng)
        s2 = s1[int(rng.integers(0, len(s1) + 1)):] if s1 else ()
        x, y = arr(rng, s1, dtype), arr(rng, s2, dtype)
        if f == "power" and dtype == "float64":
            x = np.abs(x) + 0.1
        if f == "power" and dtype == "int64":
            y = np.abs(y)
        if f in ("divide", "true_divide") and dtype == "float64":
            y = np.where(np.abs(y) < 0.1, 1.0, y)
        return Case("more", f"{f}(x={x.tolist()} {dtype}, y={y.tolist()})", [x, y],
                    lambda m, x, y: getattr(m, f)(x, y))
    if which == "bitwise":
        f = pick(rng, ["invert", "bitwise_invert", "left_shift", "right_shift",
                       "bitwise_left_shift", "bitwise_right_shift", "bitwise_count"])
        dtype = pick(rng, ["int64", "int32", "int8", "uint8", "uint32", "bool"])
        if f != "invert" and f != "bitwise_invert" and dtype == "bool":
            dtype = "uint8"
        x = arr(rng, shape_of(rng), dtype)
        if f in ("invert", "bitwise_invert", "bitwise_count"):
            return Case("more", f"{f}(x={x.tolist()} {dtype})", [x],
                        lambda m, x: getattr(m, f)(x))
        y = rng.integers(0, 4, size=x.shape).astype(dtype)
        return Case("more", f"{f}(x={x.tolist()} {dtype}, y={y.tolist()})", [x, y],
                    lambda m, x, y: getattr(m, f)(x, y))
    if which == "intfun":
        f = pick(rng, ["gcd", "lcm"])
        dtype = pick(rng, ["int64", "int32", "uint8"])
        x = rng.integers(-12 if dtype[0] == "i" else 0, 13, size=shape_of(rng)).astype(dtype)
        y = rng.integers(-12 if dtype[0] == "i" else 0, 13, size=x.shape).astype(dtype)
        return Case("more", f"{f}(x={x.tolist()}, y={y.tolist()} {dtype})", [x, y],
                    lambda m, x, y: getattr(m, f)(x, y))
    if which == "setop":
        f = pick(rng, ["intersect1d", "setdiff1d", "setxor1d", "union1d"])
        dtype = pick(rng, ["float64", "int64", "float32"])
        x = arr(rng, shape_of(rng, int(rng.integers(0, 3))), dtype, ties=True)
        y = arr(rng, shape_of(rng, int(rng.integers(0, 3))), dtype, ties=True)
        kw = {}
        if f != "union1d" and rng.random() < 0.3:
            kw["assume_unique"] = False
        if f == "intersect1d" and rng.random() < 0.3:
            kw["return_indices"] = True
        return Case("more", f"{f}(x={x.tolist()}, y={y.tolist()} {dtype}, **{kw})", [x, y],
                    lambda m, x, y: getattr(m, f)(x, y, **kw), nograd=True, nojit=True)
    if which == "unique_x":
        f = pick(rng, ["unique_all", "unique_counts", "unique_inverse", "unique_values"])
        dtype = pick(rng, ["float64", "int64", "float32", "bool"])
        x = arr(rng, shape_of(rng), dtype, ties=True)

        def npc(x):   # (NumPy 2.x: the same namedtuples; values first)
            if f == "unique_values":
                # (NumPy 2.4's by hashing, unsorted for integers; the standard leaves the
                # order open, JAX's and functrans's sorted)
                return np.sort(np.unique_values(x))
            return getattr(np, f)(x)
        return Case("more", f"{f}(x{x.shape}={x.tolist()} {dtype})", [x],
                    lambda m, x: getattr(m, f)(x), np_call=npc, nograd=True, nojit=True)
    if which == "argpartition":
        x = arr(rng, shape_of(rng, int(rng.integers(1, 3)), lo=1), "float64")
        ax = int(rng.integers(-x.ndim, x.ndim))
        n = x.shape[ax]
        if n == 0:
            return None
        kth = int(rng.integers(-n, n))

        def npc(x):  # (the partition's kth value: ties make the indices differ)
            return np.take_along_axis(x, np.argpartition(x, kth, axis=ax), axis=ax).take(
                kth, axis=ax)

        def call(m, x):
            return m.take(m.take_along_axis(x, m.argpartition(x, kth, axis=ax), axis=ax),
                          kth, axis=ax)
        return Case("more", f"argpartition(x={x.tolist()}, kth={kth}, axis={ax})", [x], call,
                    np_call=npc)
    if which == "flatnonzero":
        x = arr(rng, shape_of(rng), pick(rng, ["float64", "int64", "bool"]), ties=True)
        return Case("more", f"flatnonzero(x={x.tolist()})", [x],
                    lambda m, x: m.flatnonzero(x), nojit=True)
    if which == "lexsort":
        n = int(rng.integers(0, 6))
        k = int(rng.integers(1, 4))
        keys = rng.integers(0, 3, size=(k, n)).astype(pick(rng, ["int64", "float64"]))
        return Case("more", f"lexsort(keys={keys.tolist()})", [keys],
                    lambda m, keys: m.lexsort(keys))
    if which == "ravel_multi_index":
        dims = tuple(int(rng.integers(1, 5)) for _ in range(int(rng.integers(1, 4))))
        n = int(rng.integers(0, 5))
        mode = pick(rng, ["raise", "clip", "wrap"])
        lo, hi = (0, 1) if mode == "raise" else (-3, 3)
        idx = tuple(rng.integers(lo * d, hi * d + (0 if mode == "raise" else 1), size=n)
                    for d in dims)
        order = pick(rng, ["C", "F"])
        return Case("more", f"ravel_multi_index({[i.tolist() for i in idx]}, {dims}, "
                    f"mode={mode!r}, order={order!r})", list(idx),
                    lambda m, *i: m.ravel_multi_index(i, dims, mode=mode, order=order),
                    nojit=True)
    if which == "tri_from":
        f = pick(rng, ["tril_indices_from", "triu_indices_from", "diag_indices_from"])
        n = int(rng.integers(0, 5))
        x = arr(rng, (n, n if f == "diag_indices_from" else int(rng.integers(0, 5))),
                "float64")
        kw = {} if f == "diag_indices_from" else {"k": int(rng.integers(-2, 3))}
        return Case("more", f"{f}(x{x.shape}, **{kw})", [x],
                    lambda m, x: getattr(m, f)(x, **kw), nojit=True)
    if which == "fill_diagonal":
        shape = pick(rng, [(3, 3), (4, 2), (2, 5), (3, 3, 3), (6, 2)])
        x = arr(rng, shape, "float64")
        val = pick(rng, [2.5, np.arange(2.0), arr(rng, (int(rng.integers(1, 8)),), "float64")])
        wrap = bool(rng.random() < 0.4)

        def npc(x):
            y = x.copy()
            np.fill_diagonal(y, val, wrap=wrap)
            return y
        return Case("more", f"fill_diagonal(x{shape}, {val!r}, wrap={wrap})", [x],
                    lambda m, x: m.fill_diagonal(x, val, wrap=wrap, inplace=False),
                    np_call=npc)
    if which == "array_equiv":
        x = arr(rng, shape_of(rng), "float64", ties=True)
        y = x[(0,) * min(1, x.ndim)] if x.size and rng.random() < 0.4 else arr(
            rng, x.shape, "float64", ties=True)
        return Case("more", f"array_equiv(x={x.tolist()}, y={np.asarray(y).tolist()})",
                    [x, np.asarray(y)], lambda m, x, y: m.array_equiv(x, y), nojit=True)
    if which == "apply_over_axes":
        x = arr(rng, shape_of(rng, int(rng.integers(1, 4))), "float64")
        axes = sorted(set(int(a) for a in rng.integers(0, x.ndim, size=int(rng.integers(1, 3)))))
        fn = pick(rng, ["sum", "max", "mean"])
        if x.size == 0 and fn == "max":
            fn = "sum"
        return Case("more", f"apply_over_axes({fn}, x{x.shape}, {axes})", [x],
                    lambda m, x: m.apply_over_axes(getattr(m, fn), x, axes))
    if which == "permute_dims":
        x = arr(rng, shape_of(rng, int(rng.integers(0, 4))), "float64")
        axes = None if rng.random() < 0.3 else tuple(int(a) for a in rng.permutation(x.ndim))
        return Case("more", f"permute_dims(x{x.shape}, {axes})", [x],
                    lambda m, x: m.permute_dims(x, axes))
    if which == "hanning":
        M = int(rng.integers(-1, 9))
        return Case("more", f"hanning({M})", [], lambda m: m.hanning(M))
    if which == "bin_edges":
        x = arr(rng, (int(rng.integers(0, 8)),), "float64")
        bins = pick(rng, [1, 3, 10, np.array([-1.0, 0.0, 2.5])])
        rg = pick(rng, [None, None, (-2.0, 3.0)])
        if x.size == 0 and rg is None and not isinstance(bins, np.ndarray):
            rg = (0.0, 1.0)
        return Case("more", f"histogram_bin_edges(x={x.tolist()}, bins={bins!r}, range={rg})",
                    [x], lambda m, x: m.histogram_bin_edges(x, bins=bins, range=rg),
                    nograd=True)
    if which == "packbits":
        x = arr(rng, shape_of(rng, int(rng.integers(1, 3))), pick(rng, ["bool", "uint8"]))
        if x.dtype == np.uint8:
            x = (x % 2).astype(np.uint8)
        ax = pick(rng, [None, 0, -1])
        order = pick(rng, ["big", "little"])
        f = pick(rng, ["packbits", "unpackbits"])
        if f == "unpackbits":
            x = rng.integers(0, 256, size=x.shape).astype(np.uint8)
        return Case("more", f"{f}(x={x.tolist()} {x.dtype}, axis={ax}, bitorder={order!r})",
                    [x], lambda m, x: getattr(m, f)(x, axis=ax, bitorder=order))
    # numpy.linalg
    f = pick(rng, ["matrix_power", "matrix_rank", "multi_dot", "pinv", "slogdet", "lstsq",
                   "matrix_norm", "tensorinv", "tensorsolve"])
    n = int(rng.integers(1, 4))
    batch = pick(rng, [(), (), (2,)])
    if f == "matrix_power":
        a = arr(rng, batch + (n, n), "float64") / 2
        p = int(rng.integers(-2, 5))
        if p < 0:
            a = a + 3 * np.eye(n)
        return Case("more", f"linalg.matrix_power(a={a.tolist()}, {p})", [a],
                    lambda m, a: m.linalg.matrix_power(a, p))
    if f == "matrix_rank":
        a = arr(rng, batch + (n, int(rng.integers(1, 4))), "float64")
        if rng.random() < 0.4 and a.shape[-1] > 1:
            a[..., -1] = a[..., 0] * 2
        return Case("more", f"linalg.matrix_rank(a={a.tolist()})", [a],
                    lambda m, a: m.linalg.matrix_rank(a), nojit=True)
    if f == "multi_dot":
        dims = [int(rng.integers(1, 4)) for _ in range(int(rng.integers(3, 5)))]
        mats = [arr(rng, (dims[i], dims[i + 1]), "float64") for i in range(len(dims) - 1)]
        if rng.random() < 0.3:
            mats[0] = mats[0][0]
        return Case("more", f"linalg.multi_dot({[x.shape for x in mats]})", mats,
                    lambda m, *xs: m.linalg.multi_dot(list(xs)))
    if f == "pinv":
        a = arr(rng, batch + (n, int(rng.integers(1, 4))), "float64")
        return Case("more", f"linalg.pinv(a={a.tolist()})", [a],
                    lambda m, a: m.linalg.pinv(a), tol=1e-8)
    if f == "slogdet":
        a = arr(rng, batch + (n, n), "float64") + 2 * np.eye(n)
        return Case("more", f"linalg.slogdet(a={a.tolist()})", [a],
                    lambda m, a: tuple(m.linalg.slogdet(a)))
    if f == "lstsq":
        a = arr(rng, (int(rng.integers(n, 5)), n), "float64")
        b = arr(rng, pick(rng, [(a.shape[0],), (a.shape[0], 2)]), "float64")
        return Case("more", f"linalg.lstsq(a={a.tolist()}, b={b.tolist()})", [a, b],
                    lambda m, a, b: m.linalg.lstsq(a, b, rcond=None)[0], tol=1e-8)
    if f == "matrix_norm":
        a = arr(rng, batch + (n, int(rng.integers(1, 4))), "float64")
        o = pick(rng, ["fro", "nuc", 1, -1, np.inf, -np.inf, 2, -2])
        kd = bool(rng.random() < 0.3)
        return Case("more", f"linalg.matrix_norm(a={a.tolist()}, ord={o}, keepdims={kd})", [a],
                    lambda m, a: m.linalg.matrix_norm(a, ord=o, keepdims=kd), tol=1e-8)
    if f == "tensorinv":
        a = (arr(rng, (4, 4), "float64") + 4 * np.eye(4)).reshape(pick(rng, [(4, 2, 2),
                                                                             (2, 2, 4)]))
        ind = 1 if a.shape[0] == 4 else 2
        return Case("more", f"linalg.tensorinv(a={a.tolist()}, ind={ind})", [a],
                    lambda m, a: m.linalg.tensorinv(a, ind=ind))
    a = (arr(rng, (6, 6), "float64") + 5 * np.eye(6)).reshape(2, 3, 6)
    b = arr(rng, (2, 3), "float64")
    return Case("more", f"linalg.tensorsolve(a={a.tolist()}, b={b.tolist()})", [a, b],
                lambda m, a, b: m.linalg.tensorsolve(a, b))


_KIND_GROUP = {"b": "b", "i": "i", "u": "i", "f": "f", "c": "f"}


def fam_more2(rng):
    """fuzz44: the public functions no family drew yet (index builders diag_indices,
    tril_indices, triu_indices, mask_indices, ix_; fromfunction, fromiter, frombuffer,
    fromstring; putmask, copyto; asarray_chkfinite, asfortranarray, require, row_stack,
    empty_like; einsum_path; the dtype functions can_cast, promote_types, min_scalar_type,
    common_type, mintypecode, result_type; isscalar, iterable, base_repr, binary_repr; and
    numpy.linalg's eig and eigvals)."""
    which = pick(rng, ["tri_indices", "diag_indices", "mask_indices", "ix_", "fromfunction",
                       "fromx", "putmask", "copyto", "chkfinite", "layout", "row_stack",
                       "empty_like", "einsum_path", "dtypes", "scalarish", "repr", "eig"])
    if which == "tri_indices":
        f = pick(rng, ["tril_indices", "triu_indices"])
        n, k = int(rng.integers(0, 5)), int(rng.integers(-3, 4))
        mm = pick(rng, [None, int(rng.integers(0, 5))])
        x = arr(rng, (n, n if mm is None else mm), pick(rng, ["float64", "float32", "int64"]))
        # (the indices, and the entries they select: differentiable in x)
        return Case("more2", f"{f}({n}, k={k}, m={mm}) of x{x.shape}{x.dtype}", [x],
                    lambda m, x: (getattr(m, f)(n, k, mm), x[getattr(m, f)(n, k, mm)]),
                    nojit=True)
    if which == "diag_indices":
        n, nd = int(rng.integers(0, 4)), int(rng.integers(1, 4))
        x = arr(rng, (n,) * nd, "float64")
        return Case("more2", f"diag_indices({n}, {nd}) of x{x.shape}", [x],
                    lambda m, x: (m.diag_indices(n, nd), x[m.diag_indices(n, nd)]))
    if which == "mask_indices":
        n, k = int(rng.integers(0, 5)), int(rng.integers(-2, 3))
        fn = pick(rng, ["triu", "tril"])
        x = arr(rng, (n, n), "float64")
        return Case("more2", f"mask_indices({n}, {fn}, k={k}) of x{x.shape}", [x],
                    lambda m, x: (m.mask_indices(n, getattr(m, fn), k),
                                  x[m.mask_indices(n, getattr(m, fn), k)]),
                    jnp_call=None, nojit=True)
    if which == "ix_":
        x = arr(rng, shape_of(rng, int(rng.integers(1, 4)), lo=1), pick(rng, ["float64"] * 3 +
                                                                        ["int32", "complex128"]))
        seqs = []
        for d in x.shape:
            if rng.random() < 0.3:
                seqs.append(rng.random(d) < 0.5)
            else:
                seqs.append(rng.integers(-d, d, size=int(rng.integers(0, 4))) if d else
                            np.zeros(0, np.int64))
        return Case("more2", f"ix_({[s.tolist() for s in seqs]}) of x{x.shape}{x.dtype}",
                    [x], lambda m, x: x[m.ix_(*seqs)],
                    nojit=any(s.dtype == bool for s in seqs))
    if which == "fromfunction":
        shape = shape_of(rng, int(rng.integers(1, 4)))
        dt = pick(rng, [float, int, "float32", "int32", "complex128"])
        kind = pick(rng, ["sum", "prod", "first", "const"])

        def fn(*ix, m):
            if kind == "sum":
                return sum(ix) * 2 + 1
            if kind == "prod":
                out = ix[0] + 1
                for i in ix[1:]:
                    out = out * (i - 1)
                return out
            if kind == "first":
                return m.cos(ix[0] * 1.0) if np.dtype(dt).kind in "fc" else ix[0] ** 2
            return 5
        return Case("more2", f"fromfunction({kind}, {shape}, dtype={dt})", [],
                    lambda m: m.fromfunction(fn, shape, dtype=dt, m=m), nojit=True)
    if which == "fromx":
        f = pick(rng, ["fromiter", "frombuffer", "fromstring"])
        dt = pick(rng, ["float64", "int32", "float32", "uint8", "int64", "complex128"])
        x = arr(rng, (int(rng.integers(0, 6)),), dt)
        count = pick(rng, [-1, -1, int(rng.integers(0, 7))])
        if f == "fromiter":
            vals = x.tolist()
            return Case("more2", f"fromiter({vals}, {dt}, count={count})", [],
                        lambda m: m.fromiter(iter(vals), dt, count=count), nojit=True)
        if f == "frombuffer":
            buf = x.tobytes()
            off = pick(rng, [0, 0, x.dtype.itemsize, 1])
            return Case("more2", f"frombuffer({buf!r}, {dt}, count={count}, offset={off})", [],
                        lambda m: m.frombuffer(buf, dtype=dt, count=count, offset=off),
                        nojit=True)
        if dt == "complex128":
            dt = "float64"
        sep = pick(rng, [" ", ",", ", "])
        s = sep.join(str(v) for v in x.astype(dt).tolist())

        def np_fromstring():
            if count > x.shape[0]:  # (NumPy 2.4 fills the rest with uninitialised memory;
                note("numpy-fromstring-junk")  # functrans refuses, as fromiter does)
                raise ValueError("count larger than the string's values")
            return np.fromstring(s, dtype=dt, count=count, sep=sep)
        return Case("more2", f"fromstring({s!r}, {dt}, count={count}, sep={sep!r})", [],
                    lambda m: m.fromstring(s, dtype=dt, count=count, sep=sep), nojit=True,
                    np_call=np_fromstring, jnp_call=None)
    if which == "putmask":
        dt = pick(rng, ["float64"] * 3 + ["int64", "float32", "bool"])
        a = arr(rng, shape_of(rng), dt)
        mask = rng.random(a.shape) < 0.5
        v = arr(rng, (int(rng.integers(0, 4)),), pick(rng, [dt, dt, "float64", "int64"]))

        def npc(a, v):
            b = np.array(a)   # (a 0-d draw is a NumPy scalar)
            np.putmask(b, mask, v)
            return b

        def call(m, a, v):
            b = m.array(a)
            m.putmask(b, mask, v)
            return b
        return Case("more2", f"putmask(a={a.tolist()} {dt}, mask={mask.tolist()}, "
                    f"values={v.tolist()} {v.dtype})", [a, v], call, np_call=npc,
                    jnp_call=None, nograd=dt != "float64")   # (the result has a's dtype)
    if which == "copyto":
        dt = pick(rng, ["float64"] * 3 + ["int64", "float32", "complex128"])
        a = arr(rng, shape_of(rng), dt)
        s = a.shape[int(rng.integers(0, a.ndim + 1)):]
        src = arr(rng, s, pick(rng, [dt, dt, "float64", "int64", "bool", "float32"]))
        casting = pick(rng, ["same_kind", "same_kind", "safe", "unsafe", "no", "equiv"])
        where = pick(rng, [True, rng.random(a.shape) < 0.5,
                           rng.random(a.shape[-1:]) < 0.5])

        def npc(a, src):
            b = np.array(a)
            np.copyto(b, src, casting=casting, where=where)
            return b

        def call(m, a, src):
            b = m.array(a)
            m.copyto(b, src, casting=casting, where=where)
            return b
        return Case("more2", f"copyto(dst={a.tolist()} {dt}, src={src.tolist()} {src.dtype}, "
                    f"casting={casting!r}, where={np.asarray(where).tolist()})", [a, src],
                    call, np_call=npc, jnp_call=None, nograd=dt != "float64")
    if which == "chkfinite":
        x = arr(rng, shape_of(rng), pick(rng, ["float64", "float32", "int64", "complex128"]))
        if x.dtype.kind in "fc" and x.size and rng.random() < 0.4:
            x.flat[int(rng.integers(0, x.size))] = pick(rng, [np.nan, np.inf, -np.inf])
        dt = pick(rng, [None, None, "float32", "complex128"])
        return Case("more2", f"asarray_chkfinite(x={x.tolist()} {x.dtype}, dtype={dt})", [x],
                    lambda m, x: m.asarray_chkfinite(x, dtype=dt), jnp_call=None, nojit=True,
                    nograd=dt == "float32")   # (central differences through a float32 cast)
    if which == "layout":
        f = pick(rng, ["asfortranarray", "require"])
        x = arr(rng, shape_of(rng), pick(rng, ["float64", "float64", "int32", "float32"]))
        dt = pick(rng, [None, None, "float64", "float32", "int64"])
        if f == "asfortranarray":
            return Case("more2", f"asfortranarray(x={x.tolist()} {x.dtype}, dtype={dt})", [x],
                        lambda m, x: m.asfortranarray(x, dtype=dt), nograd=dt == "float32")
        req = pick(rng, [None, "C", ["A", "W"], ["F"], "O", ["C", "F"], ["aligned"], "Q"])
        return Case("more2", f"require(x={x.tolist()} {x.dtype}, {dt}, {req!r})", [x],
                    lambda m, x: m.require(x, dt, req), jnp_call=None,
                    nograd=dt == "float32")
    if which == "row_stack":
        k = int(rng.integers(1, 4))
        n = int(rng.integers(0, 4))
        xs = [arr(rng, pick(rng, [(n,), (int(rng.integers(1, 3)), n)]),
                  pick(rng, ["float64", "float64", "int64", "float32"])) for _ in range(k)]
        return Case("more2", f"row_stack({[(x.shape, x.dtype.name) for x in xs]})", xs,
                    lambda m, *xs: m.row_stack(list(xs)), jnp_call=None)
    if which == "empty_like":
        x = arr(rng, shape_of(rng), pick(rng, ["float64", "int32", "bool", "complex64"]))
        dt = pick(rng, [None, "float32", "int8"])
        sh = pick(rng, [None, None, (2, 3), 4, ()])
        return Case("more2", f"empty_like(x{x.shape}{x.dtype}, dtype={dt}, shape={sh})", [x],
                    lambda m, x: (lambda e: (np.asarray(e.shape), np.asarray(str(e.dtype))))(
                        m.empty_like(x, dtype=dt, shape=sh)), nojit=True, nograd=True)
    if which == "einsum_path":
        spec, shapes = pick(rng, [("ij,jk->ik", [(2, 3), (3, 4)]),
                                  ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
                                  ("i,i->", [(5,), (5,)]),
                                  ("abc,cd,db->a", [(2, 3, 4), (4, 5), (5, 3)]),
                                  ("ij,ij->i", [(3, 2), (3, 2)]),
                                  ("ii->i", [(3, 3)]),
                                  ("ij,kl,jk->il", [(2, 6), (4, 3), (6, 4)])])
        ops = [arr(rng, s, "float64") for s in shapes]
        opt = pick(rng, ["greedy", "optimal", True, False])
        return Case("more2", f"einsum_path({spec!r}, {shapes}, optimize={opt!r})", ops,
                    lambda m, *o: np.asarray(m.einsum_path(spec, *o, optimize=opt)[0],
                                             dtype=object).astype(str),
                    nojit=True, nograd=True, jnp_call=None)
    if which == "dtypes":
        f = pick(rng, ["can_cast", "promote_types", "min_scalar_type", "common_type",
                       "mintypecode", "result_type"])
        dts = ["bool", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64",
               "uint64", "float16", "float32", "float64", "complex64", "complex128"]
        a, b = pick(rng, dts), pick(rng, dts)
        if f == "can_cast":
            cast = pick(rng, ["no", "equiv", "safe", "same_kind", "unsafe"])
            src = pick(rng, [a, np.dtype(a), np.zeros(2, a)])
            # (functrans's documented "safe": NumPy's within a kind (bool; integers; floats
            # and complex), never across (int to float False, where NumPy says True))
            same = len({_KIND_GROUP[np.dtype(a).kind], _KIND_GROUP[np.dtype(b).kind]}) == 1
            return Case("more2", f"can_cast({src!r}, {b}, {cast!r})", [],
                        lambda m: m.can_cast(src, b, cast), nojit=True, jnp_call=None,
                        np_call=lambda: bool(np.can_cast(src, b, cast)) and (
                            cast != "safe" or same))
        if f == "promote_types":
            return Case("more2", f"promote_types({a}, {b})", [],
                        lambda m: np.dtype(m.promote_types(a, b)).name, nojit=True)
        if f == "min_scalar_type":
            v = pick(rng, [0, 1, -1, 255, 256, -129, 2 ** 40, 1.5, 1e40, 1e300, 3.0, 1 + 2j,
                           np.float32(2.5), np.int16(-3), True, np.array(70000),
                           np.array([1, 2])])
            return Case("more2", f"min_scalar_type({v!r})", [],
                        lambda m: np.dtype(m.min_scalar_type(v)).name, nojit=True,
                        jnp_call=None)
        if f == "common_type":
            xs = [np.zeros(2, pick(rng, [d for d in dts if d != "bool"]))
                  for _ in range(int(rng.integers(1, 4)))]
            return Case("more2", f"common_type({[x.dtype.name for x in xs]})", [],
                        lambda m: np.dtype(m.common_type(*xs)).name, nojit=True,
                        jnp_call=None)
        if f == "mintypecode":
            chars = "".join(pick(rng, list("?bhilqBHILQefdgFDG")) for _ in range(
                int(rng.integers(1, 4))))
            ts = pick(rng, ["GDFgdf", "df", "FDfd"])
            return Case("more2", f"mintypecode({chars!r}, {ts!r})", [],
                        lambda m: m.mintypecode(chars, ts), nojit=True, jnp_call=None)
        xs = [pick(rng, [np.zeros(1, a), np.dtype(b), 1, 2.5, 1j, True, np.float32(1)])
              for _ in range(int(rng.integers(1, 4)))]
        # (functrans's documented promotion: JAX's lattice (an integer beside a float gives
        # the float; Python scalars weak), uint64 beside a signed integer refused)

        def want_rt():
            kinds = {np.result_type(x).kind for x in xs if type(x) not in (int, float, complex,
                                                                            bool)}
            if any(np.result_type(x) == np.uint64 for x in xs if not isinstance(
                    x, (int, float, complex))) and "i" in kinds:
                raise TypeError("uint64 beside a signed integer")
            return np.dtype(jnp.result_type(*xs)).name
        return Case("more2", f"result_type({xs!r})", [],
                    lambda m: np.dtype(m.result_type(*xs)).name, nojit=True, jnp_call=None,
                    np_call=want_rt)
    if which == "scalarish":
        f = pick(rng, ["isscalar", "iterable"])
        v = pick(rng, [1, 2.5, 1j, True, "ab", b"x", None, [1], (), np.float32(1),
                       np.array(3.0), np.zeros(2), {1: 2}, range(3), np.int8(3)])
        return Case("more2", f"{f}({v!r})", [], lambda m: getattr(m, f)(v), nojit=True,
                    jnp_call=None)
    if which == "repr":
        f = pick(rng, ["base_repr", "binary_repr"])
        num = int(rng.integers(-300, 300)) if rng.random() < 0.8 else pick(
            rng, [0, 2 ** 40, -(2 ** 40), np.int8(-5), np.uint8(200)])
        if f == "base_repr":
            base, pad = int(rng.integers(2, 37)), int(rng.integers(0, 4))
            return Case("more2", f"base_repr({num!r}, {base}, {pad})", [],
                        lambda m: m.base_repr(num, base, pad), nojit=True, jnp_call=None)
        width = pick(rng, [None, None, int(rng.integers(1, 12))])
        return Case("more2", f"binary_repr({num!r}, width={width})", [],
                    lambda m: m.binary_repr(num, width), nojit=True, jnp_call=None)
    # numpy.linalg's eig and eigvals (values only: their derivative rules are another
    # helper's this session)
    n = int(rng.integers(1, 5))
    batch = pick(rng, [(), (), (2,)])
    dt = pick(rng, ["float64", "float64", "float32", "complex128"])
    a = arr(rng, batch + (n, n), dt)
    if rng.random() < 0.2:
        a = np.triu(a)   # (real eigenvalues, repeated ones where the diagonal ties)
    f = pick(rng, ["eigvals", "eig"])
    # (functrans's eigenvalues are always complex (as JAX's), NumPy's real where they all
    # are: compared as complex of the input's precision)
    cdt = "complex64" if dt == "float32" else "complex128"
    if f == "eigvals":
        return Case("more2", f"linalg.eigvals(a={a.tolist()} {dt})", [a],
                    lambda m, a: m.sort_complex(m.linalg.eigvals(a).reshape(-1)).astype(cdt),
                    nograd=True, jnp_call=None, nojit=True, tol=1e-9)

    def resid(m, a):   # (|a v - v w| and the columns' norms: the pairs, whatever their order)
        w, v = m.linalg.eig(a)
        r = m.abs(a @ v - v * w[..., None, :])
        return (m.max(r) if r.size else m.zeros(()),
                m.sqrt(m.sum(m.abs(v) ** 2, axis=-2)).astype(r.dtype),
                m.sort_complex(w.reshape(-1)).astype(cdt))
    return Case("more2", f"linalg.eig(a={a.tolist()} {dt})", [a],
                lambda m, a: resid(m, a), nograd=True, jnp_call=None, nojit=True, tol=1e-9)


# special entries for the elementwise functions of more3
SPECIALS = [0.0, -0.0, np.inf, -np.inf, np.nan, 1e308, -1e308, 5e-324, -5e-324, 2.2e-308,
            1.0, -1.0, 0.5, 1e-20, 1e20, 3.0, -2.5]

UNARY3 = ["abs", "absolute", "acos", "acosh", "arccos", "arcsin", "arcsinh", "arctan",
          "arctanh", "asin", "asinh", "atan", "atanh", "cbrt", "ceil", "conj", "conjugate",
          "cos", "cosh", "degrees", "exp", "exp2", "expm1", "floor", "i0", "log", "log10",
          "log1p", "log2", "negative", "positive", "reciprocal", "sign", "sin", "sinc", "sinh",
          "sqrt", "square", "tan", "tanh", "spacing", "angle", "real", "imag", "isfinite",
          "isinf", "isnan", "frexp"]
BINARY3 = ["add", "subtract", "multiply", "floor_divide", "mod", "arctan2", "atan2", "hypot",
           "copysign", "nextafter", "ldexp", "logaddexp", "logaddexp2", "maximum", "minimum",
           "equal", "less", "logical_and", "isclose", "pow"]
# (no complex loop in NumPy or JAX, or a different one: drawn real only)
_REAL_ONLY = {"cbrt", "ceil", "floor", "degrees", "exp2", "i0", "spacing", "frexp", "arctan2",
              "atan2", "hypot", "copysign", "nextafter", "ldexp", "logaddexp", "logaddexp2",
              "floor_divide", "mod", "sign", "logical_and"}


def _with_specials(rng, x):
    if x.size and x.dtype.kind in "fc" and rng.random() < 0.5:
        m = rng.random(x.shape) < 0.4
        vals = np.array([pick(rng, SPECIALS) for _ in range(int(m.sum()))])
        with np.errstate(all="ignore"):
            x[m] = vals.astype(x.dtype) if x.dtype.kind == "f" else vals + 0j * vals
    return x


def fam_more3(rng):
    """fuzz45: the namespace's elementwise functions beside NumPy at special entries (+-0,
    +-inf, nan, the largest and subnormal numbers) in float64/32/16, complex and integer
    dtypes (values, dtypes; derivatives at finite float64 points), and the public functions
    no family drew yet: piecewise, place, put, extract, insert, compress, argwhere, nonzero,
    unravel_index, inner, diag, eye, arange, allclose, array_equal, broadcast_to,
    broadcast_shapes, moveaxis, swapaxes, ravel, copy, ascontiguousarray, asanyarray,
    ones_like, array_str / array_repr / array2string, frompyfunc, shares_memory,
    may_share_memory."""
    which = pick(rng, ["unary"] * 4 + ["binary"] * 4 + ["misc"] * 3)
    if which == "unary":
        f = pick(rng, UNARY3)
        dts = ["float64"] * 5 + ["float32", "float16", "int64"]
        if f not in _REAL_ONLY:
            dts += ["complex128", "complex64"]
        if f in ("isfinite", "isinf", "isnan", "abs", "negative", "positive", "square",
                 "sign", "real", "imag", "conj"):
            dts += ["int32", "bool"] if f not in ("negative", "sign") else ["int32"]
        dt = pick(rng, dts)
        x = _with_specials(rng, arr(rng, shape_of(rng), dt))
        if f in ("acosh",) and dt == "float64" and rng.random() < 0.7:
            x = np.abs(x) + 1.0
        if f in ("arccos", "arcsin", "arctanh", "acos", "asin", "atanh") and \
                dt == "float64" and rng.random() < 0.7:
            x = np.tanh(x)
        if f in ("log", "log10", "log2", "sqrt", "log1p") and dt == "float64" and \
                rng.random() < 0.6:
            x = np.abs(x)
        finite = x.dtype.kind != "f" or bool(np.all(np.isfinite(x)))
        # (derivatives: at finite float64 points away from the kinks and poles)
        kinky = f in ("abs", "absolute", "ceil", "floor", "sign", "spacing", "frexp",
                      "angle", "isfinite", "isinf", "isnan")
        np_call = None
        if f == "spacing" and dt == "float16":
            # (NumPy 2's float16 spacing of a negative number is the positive distance
            # towards zero, where its float32 and float64 loops give the negative distance
            # away from zero, nextafter(x, -inf) - x, which ours gives in every dtype:
            # np.spacing(np.float16(-1)) 4.883e-04, np.spacing(np.float32(-1)) -1.19e-07)
            def spacing16(x):
                with np.errstate(all="ignore"):
                    return np.where(x < 0, np.nextafter(x, np.float16(-np.inf)) - x,
                                    np.nextafter(x, np.float16(np.inf)) - x).astype(x.dtype)
            np_call = spacing16
        return Case("more3", f"{f}(x{x.shape}{dt}={x.tolist()})", [x],
                    lambda m, x: getattr(m, f)(x), np_call=np_call,
                    nograd=not finite or kinky or np.any(np.abs(x) > 1e10)
                    or (x.dtype.kind == "f" and np.any(np.abs(x) < 1e-10)))
    if which == "binary":
        f = pick(rng, BINARY3)
        dts = ["float64"] * 5 + ["float32", "float16", "int64"]
        if f not in _REAL_ONLY and f != "ldexp":
            dts += ["complex128"]
        dt = pick(rng, dts)
        s1 = shape_of(rng)
        s2 = s1[int(rng.integers(0, len(s1) + 1)):] if s1 else ()
        if rng.random() < 0.3 and s1:
            s2 = tuple(1 if rng.random() < 0.5 else d for d in s2)
        x = _with_specials(rng, arr(rng, s1, dt))
        y = _with_specials(rng, arr(rng, s2, dt))
        if f == "ldexp":
            y = rng.integers(-1100, 1100, size=s2) if rng.random() < 0.3 else \
                rng.integers(-5, 6, size=s2)
            y = y.astype(pick(rng, ["int64", "int32"]))
        if f == "pow" and dt == "int64":
            y = np.abs(y)
        if f in ("floor_divide", "mod") and dt == "int64":
            y = np.where(y == 0, 3, y).astype(dt)
        kw = {}
        if f == "isclose":
            kw = {"rtol": pick(rng, [1e-5, 0.1, 0.0]), "atol": pick(rng, [1e-8, 0.5, 0.0]),
                  "equal_nan": bool(rng.random() < 0.5)}
            if rng.random() < 0.4 and x.shape == y.shape and dt.startswith("float"):
                y = (x + rng.standard_normal(x.shape) * 1e-6).astype(dt)
        finite = all(a.dtype.kind != "f" or bool(np.all(np.isfinite(a))) for a in (x, y))
        kinky = f in ("floor_divide", "mod", "copysign", "nextafter", "maximum", "minimum",
                      "equal", "less", "logical_and", "isclose")
        big = any(a.dtype.kind == "f" and a.size and (np.any(np.abs(a) > 1e10) or np.any(
            np.abs(a) < 1e-10)) for a in (x, y))
        if f == "pow" and dt == "float64" and rng.random() < 0.7:
            x = np.abs(x) + 0.1
        return Case("more3", f"{f}(x={x.tolist()} {dt}, y={y.tolist()} {y.dtype}, {kw})",
                    [x, y], lambda m, x, y: getattr(m, f)(x, y, **kw),
                    nograd=not finite or kinky or big)
    g = pick(rng, ["piecewise", "place", "put", "extract", "insert", "compress", "argwhere",
                   "nonzero", "unravel_index", "inner", "diag", "eye", "arange", "allclose",
                   "array_equal", "broadcast_to", "broadcast_shapes", "moveaxis", "swapaxes",
                   "ravel", "copy", "ascontiguousarray", "asanyarray", "ones_like", "str",
                   "frompyfunc", "shares_memory"])
    dt = pick(rng, ["float64"] * 4 + ["float32", "int64", "complex128", "bool"])
    if g == "piecewise":
        x = arr(rng, shape_of(rng), "float64")
        k = int(rng.integers(1, 4))
        cuts = sorted(rng.standard_normal(k))
        default = rng.random() < 0.5   # (one function more than conditions: the otherwise)
        vals = [float(v) for v in rng.standard_normal(k + default)]

        def call(m, x):
            conds = [(x > c) for c in cuts]
            funcs = [(lambda t, v=v: t * v + v) if i % 2 else v for i, v in enumerate(vals)]
            return m.piecewise(x, conds, funcs)
        return Case("more3", f"piecewise(x={x.tolist()}, cuts={cuts}, vals={vals})", [x], call,
                    nograd=True)
    if g in ("place", "put", "extract", "compress"):
        x = arr(rng, shape_of(rng), dt)
        mask = rng.random(x.shape) < 0.5
        if g == "extract":
            return Case("more3", f"extract(mask, x={x.tolist()} {dt})", [x],
                        lambda m, x: m.extract(mask, x), nojit=True)
        if g == "compress":
            ax = None if rng.random() < 0.3 or not x.ndim else int(rng.integers(-x.ndim,
                                                                                x.ndim))
            n = x.size if ax is None else x.shape[ax]
            cond = rng.random(int(rng.integers(0, n + 2))) < 0.6
            return Case("more3", f"compress({cond.tolist()}, x={x.tolist()} {dt}, axis={ax})",
                        [x], lambda m, x: m.compress(cond, x, axis=ax), nojit=True)
        vals = arr(rng, (int(rng.integers(0 if g == "put" else 1, 4)),), dt)
        if g == "place":
            def call(m, x):
                y = m.array(x, copy=True) if m is not fnp else x
                out = m.place(y, mask, vals) if m is not fnp else m.place(
                    y, mask, vals, inplace=False)
                return y if m is not fnp else out
            return Case("more3", f"place(x={x.tolist()} {dt}, mask, vals={vals.tolist()})",
                        [x], call, jnp_call=None, nojit=True, nograd=True)
        ind = rng.integers(-x.size - 1, x.size + 2, size=vals.shape) if x.size else \
            np.zeros(vals.shape, int)
        mode = pick(rng, ["raise", "wrap", "clip"])

        def call(m, x):
            if m is fnp:
                return m.put(x, ind, vals, mode=mode, inplace=False)
            y = np.array(x, copy=True)
            m.put(y, ind, vals, mode=mode)
            return y
        return Case("more3", f"put(x={x.tolist()} {dt}, {ind.tolist()}, {vals.tolist()}, "
                             f"mode={mode})", [x], call, jnp_call=None, nojit=True, nograd=True)
    if g == "insert":
        x = arr(rng, shape_of(rng, int(rng.integers(1, 3))), dt)
        ax = pick(rng, [None, 0, -1])
        n = x.size if ax is None else x.shape[ax]
        obj = pick(rng, [int(rng.integers(-n, n + 1)), [int(v) for v in rng.integers(
            -n, n + 1, size=int(rng.integers(1, 3)))], slice(0, n, 2)])
        v = float(rng.standard_normal()) if dt != "bool" else True
        return Case("more3", f"insert(x={x.tolist()} {dt}, {obj}, {v}, axis={ax})", [x],
                    lambda m, x: m.insert(x, obj, v, axis=ax), nojit=True)
    if g in ("argwhere", "nonzero"):
        x = arr(rng, shape_of(rng), dt)
        x = np.where(rng.random(x.shape) < 0.4, 0, x).astype(dt)
        return Case("more3", f"{g}(x={x.tolist()} {dt})", [x], lambda m, x: getattr(m, g)(x),
                    nojit=True, nograd=True)
    if g == "unravel_index":
        shape = shape_of(rng, int(rng.integers(1, 4)), lo=1)
        size = int(np.prod(shape))
        idx = rng.integers(0, max(size, 1) + (1 if rng.random() < 0.1 else 0),
                           size=shape_of(rng, int(rng.integers(0, 2))))
        order = pick(rng, ["C", "F"])
        x = np.zeros(1)
        return Case("more3", f"unravel_index({idx.tolist()}, {shape}, order={order})", [x],
                    lambda m, x: m.unravel_index(idx, shape, order=order), nograd=True)
    if g == "inner":
        k = int(rng.integers(0, 4))
        a = arr(rng, shape_of(rng, int(rng.integers(0, 3))) + (k,), dt)
        b = arr(rng, shape_of(rng, int(rng.integers(0, 3))) + (k,), dt)
        if rng.random() < 0.2:
            a = arr(rng, (), dt)
        return Case("more3", f"inner(a={a.tolist()}, b={b.tolist()} {dt})", [a, b],
                    lambda m, a, b: m.inner(a, b))
    if g == "diag":
        x = arr(rng, shape_of(rng, int(rng.integers(1, 3))), dt)
        k = int(rng.integers(-3, 4))
        return Case("more3", f"diag(x={x.tolist()} {dt}, k={k})", [x],
                    lambda m, x: m.diag(x, k))
    if g == "eye":
        n, mm, k = int(rng.integers(0, 5)), pick(rng, [None, int(rng.integers(0, 5))]), \
            int(rng.integers(-4, 5))
        edt = pick(rng, ["float64", "int32", "bool", "complex64"])
        return Case("more3", f"eye({n}, {mm}, {k}, dtype={edt})", [],
                    lambda m: m.eye(n, mm, k, dtype=edt), nojit=True)
    if g == "arange":
        start = pick(rng, [int(rng.integers(-5, 5)), float(rng.standard_normal() * 3)])
        stop = pick(rng, [None, int(rng.integers(-5, 8)), float(rng.standard_normal() * 5)])
        step = pick(rng, [None, None, 1, -1, 0.5, -0.7, 2, 3])
        adt = pick(rng, [None, None, "float32", "int64", "float64"])
        return Case("more3", f"arange({start}, {stop}, {step}, dtype={adt})", [],
                    lambda m: m.arange(start, stop, step, dtype=adt), nojit=True)
    if g in ("allclose", "array_equal"):
        x = _with_specials(rng, arr(rng, shape_of(rng), dt))
        y = x.copy() if rng.random() < 0.5 else _with_specials(rng, arr(rng, x.shape, dt))
        if rng.random() < 0.2:
            y = arr(rng, shape_of(rng), dt)
        en = bool(rng.random() < 0.5)
        return Case("more3", f"{g}(x={x.tolist()}, y={y.tolist()} {dt}, equal_nan={en})",
                    [x, y], lambda m, x, y: bool(getattr(m, g)(x, y, equal_nan=en)),
                    nojit=True, nograd=True)
    if g in ("broadcast_to", "broadcast_shapes"):
        s1 = shape_of(rng)
        s2 = tuple(1 if rng.random() < 0.4 else d for d in s1)[
            int(rng.integers(0, len(s1) + 1)):] if s1 else ()
        if rng.random() < 0.15:
            s2 = shape_of(rng)
        x = arr(rng, s2, dt)
        if g == "broadcast_shapes":
            return Case("more3", f"broadcast_shapes({s1}, {s2})", [],
                        lambda m: tuple(m.broadcast_shapes(s1, s2)), nojit=True)
        return Case("more3", f"broadcast_to(x={x.tolist()} {dt}, {s1})", [x],
                    lambda m, x: m.broadcast_to(x, s1))
    if g in ("moveaxis", "swapaxes"):
        x = arr(rng, shape_of(rng, int(rng.integers(1, 4))), dt)
        nd = x.ndim
        a = int(rng.integers(-nd - (1 if rng.random() < 0.1 else 0), nd))
        b = int(rng.integers(-nd, nd))
        if g == "moveaxis" and rng.random() < 0.3 and nd >= 2:
            a, b = [0, -1], [-1, 0]
        return Case("more3", f"{g}(x{x.shape}{dt}, {a}, {b})", [x],
                    lambda m, x: getattr(m, g)(x, a, b))
    if g in ("ravel", "copy", "ascontiguousarray", "asanyarray", "ones_like"):
        x = arr(rng, shape_of(rng), dt)
        if g == "ravel":
            order = pick(rng, ["C", "F"])  # (A and K refused: documented)
            return Case("more3", f"ravel(x={x.tolist()} {dt}, order={order})", [x],
                        lambda m, x: m.ravel(x, order=order))
        if g == "ones_like":
            odt = pick(rng, [None, "float32", "int8", "complex128"])
            sh = pick(rng, [None, None, (2,), ()])
            return Case("more3", f"ones_like(x{x.shape}{dt}, dtype={odt}, shape={sh})", [x],
                        lambda m, x: m.ones_like(x, dtype=odt, shape=sh))
        cdt = pick(rng, [None, None, "float32", "float64"])
        # (a float32 result: central differences in float32 say nothing)
        return Case("more3", f"{g}(x={x.tolist()} {dt}, dtype={cdt})", [x],
                    lambda m, x: getattr(m, g)(x, dtype=cdt) if g != "copy" else
                    m.copy(x).astype(cdt or x.dtype), nograd=cdt == "float32")
    if g == "str":
        f = pick(rng, ["array_str", "array_repr", "array2string"])
        x = _with_specials(rng, arr(rng, shape_of(rng), pick(rng, ["float64", "float32",
                                                                   "int64", "bool"])))
        prec = pick(rng, [None, 3, 8])
        return Case("more3", f"{f}(x={x.tolist()} {x.dtype}, precision={prec})", [x],
                    lambda m, x: getattr(m, f)(x, precision=prec), nojit=True, nograd=True,
                    jnp_call=None)
    if g == "frompyfunc":
        x = arr(rng, shape_of(rng), "float64")
        y = arr(rng, shape_of(rng, x.ndim) if rng.random() < 0.3 else x.shape, "float64")

        def call(m, x, y):
            uf = m.frompyfunc(lambda a, b: a * 2.0 + b, 2, 1)
            return np.asarray(uf(x, y), dtype=np.float64)
        return Case("more3", f"frompyfunc(2a+b)(x={x.tolist()}, y={y.tolist()})", [x, y],
                    call, nojit=True, nograd=True, jnp_call=None)
    x = arr(rng, shape_of(rng, int(rng.integers(1, 3)), lo=1), dt)
    other = pick(rng, ["self", "view", "copy"])
    f = pick(rng, ["shares_memory", "may_share_memory"])

    def call(m, x):
        y = {"self": x, "view": x[..., :1], "copy": np.array(x, copy=True)}[other]
        return bool(getattr(m, f)(x, y))
    return Case("more3", f"{f}(x{x.shape}, {other})", [x], call, nojit=True, nograd=True,
                jnp_call=None)


# fuzz47: the public names no family drew (numpy dtype classes, mgrid/ogrid, c_/s_/index_exp,
# euler_gamma, seterr/geterr/errstate, device, from_dlpack, file I/O)
_DTYPE_CLASSES = ["bool_", "byte", "ubyte", "short", "ushort", "intc", "uintc", "int_", "intp",
                  "long", "ulong", "longlong", "ulonglong", "half", "single", "double",
                  "csingle", "cdouble", "float32", "int16", "uint64", "complex64"]
_ABSTRACT = ["generic", "number", "integer", "signedinteger", "unsignedinteger", "inexact",
             "floating", "complexfloating", "character", "flexible", "bool_"]


def _io_roundtrip(kind, m_write, m_read, x, fmt):
    """Write ``x`` with ``m_write``'s function ``kind`` into a fresh folder, read it back with
    ``m_read``'s."""
    import os
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        if kind == "save":
            p = os.path.join(d, "a.npy")
            m_write.save(p, x)
            return m_read.load(p)
        if kind in ("savez", "savez_compressed"):
            p = os.path.join(d, "a.npz")
            getattr(m_write, kind)(p, x, b=x[..., :1] if x.ndim else x)
            with m_read.load(p) as z:
                return [z["arr_0"], z["b"]]
        if kind == "savetxt":
            p = os.path.join(d, "a.txt")
            m_write.savetxt(p, x, fmt=fmt)
            return m_read.loadtxt(p, dtype=x.dtype, ndmin=x.ndim)
        p = os.path.join(d, "a.bin")    # tofile / fromfile
        np.asarray(x).tofile(p)
        return m_read.fromfile(p, dtype=x.dtype)


def fam_more47(rng):
    """fuzz47: the dtype classes (called on scalars, lists and arrays; issubdtype against the
    abstract classes), mgrid / ogrid (real and complex steps), c_ / s_ / index_exp, euler_gamma,
    seterr / geterr / errstate (which error NumPy's arithmetic then raises), device,
    from_dlpack (NumPy and torch producers), and file I/O (save / load, savez(_compressed),
    savetxt / loadtxt, fromfile; written by one library and read by the other)."""
    which = pick(rng, ["dtype"] * 3 + ["subdtype", "grid", "grid", "index", "index", "err",
                                       "dlpack", "io", "io", "const"])
    if which == "dtype":
        name = pick(rng, _DTYPE_CLASSES)
        src = pick(rng, ["float", "int", "list", "array", "array", "bool"])
        if src == "float":
            v = float(rng.uniform(-5, 5)) if rng.random() < 0.8 else pick(
                rng, [0.0, -0.0, 1e300, float("inf"), float("nan")])
        elif src == "int":
            v = int(rng.integers(0, 100))
        elif src == "bool":
            v = bool(rng.random() < 0.5)
        elif src == "list":
            v = [float(t) for t in rng.uniform(0, 5, size=int(rng.integers(0, 4)))]
        else:
            v = arr(rng, shape_of(rng), pick(rng, ["float64", "float32", "int32", "uint8",
                                                    "bool", "int64"]))
            if v.dtype.kind in "iu" or name in ("ubyte", "ushort", "uintc", "ulong",
                                                 "ulonglong", "uint64"):
                v = np.abs(v)
            if v.dtype.kind == "f":
                v = np.abs(v)
        big = isinstance(v, float) and (abs(v) > 1e30 or v != v) or \
            isinstance(v, np.ndarray) and v.dtype.kind == "f" and v.size and \
            not np.all(np.isfinite(v))
        if big and name not in ("half", "single", "double", "csingle", "cdouble", "float32",
                                "complex64", "bool_"):
            raise _Skip  # (NumPy warns and gives an unspecified integer)
        if isinstance(v, float) and v < 0 and name.startswith("u") or \
                isinstance(v, list) and name in ("bool_",):
            raise _Skip  # (out of range: NumPy raises or wraps by path)
        args = [v] if isinstance(v, np.ndarray) else []

        def call(m, *a):
            return getattr(m, name)(a[0] if a else v)
        return Case("more47", f"{name}({v!r})", args, call, nograd=True, novmap=True,
                    nojit=not args, jnp_call=None)
    if which == "subdtype":
        a, b = pick(rng, _DTYPE_CLASSES + _ABSTRACT), pick(rng, _ABSTRACT + _DTYPE_CLASSES)

        def call(m):
            return (bool(m.issubdtype(getattr(m, a), getattr(m, b))),
                    bool(m.issubdtype(m.dtype(getattr(m, a)) if a not in _ABSTRACT else
                                      getattr(m, a), getattr(m, b))))
        return Case("more47", f"issubdtype({a}, {b})", [], call, nograd=True, novmap=True,
                    nojit=True, jnp_call=None)
    if which == "grid":
        g = pick(rng, ["mgrid", "ogrid"])
        parts = []
        for _ in range(int(rng.integers(1, 4))):
            lo = int(rng.integers(-3, 3)) if rng.random() < 0.6 else float(rng.uniform(-2, 2))
            hi = lo + pick(rng, [0, 1, 2, 3.5, -1])
            r = rng.random()
            step = None if r < 0.3 else complex(0, int(rng.integers(0, 5))) if r < 0.6 else \
                pick(rng, [1, 0.5, 2, -1, 0.25])
            parts.append(slice(lo, hi, step))
        one = rng.random() < 0.25
        key = parts[0] if one else tuple(parts)

        def call(m):
            return getattr(m, g)[key]
        return Case("more47", f"{g}[{key}]", [], call, nograd=True, novmap=True, nojit=False,
                    jnp_call=None)
    if which == "index":
        k = pick(rng, ["c_", "s_", "index_exp"])
        if k == "c_":
            n = int(rng.integers(1, 4))
            dt = pick(rng, ["float64", "int64", "float32"])
            two = rng.random() < 0.5
            items = []
            for _ in range(int(rng.integers(1, 4))):
                r = rng.random()
                if r < 0.6:
                    items.append(arr(rng, (n, 2) if two else (n,), dt))
                elif r < 0.8:
                    items.append(float(rng.uniform(-2, 2)))
                else:
                    items.append(slice(0, n))
            args = [t for t in items if isinstance(t, np.ndarray)]

            def call(m, *a):
                it = iter(a)
                return m.c_[tuple(next(it) if isinstance(t, np.ndarray) else t
                                  for t in items)]
            case = Case("more47", f"c_[{items}]", args, call, novmap=True, jnp_call=None)
            # (an integer slice is an int64 arange: beside float32 the documented policy)
            case.int64_inside = any(isinstance(t, slice) for t in items)
            return case
        x = arr(rng, shape_of(rng, int(rng.integers(1, 4)), lo=1), "float64")
        key = []
        for _ in range(int(rng.integers(1, x.ndim + 1))):
            r = rng.random()
            key.append(slice(int(rng.integers(-2, 2)), None, pick(rng, [None, 1, 2, -1]))
                       if r < 0.5 else None if r < 0.6 else Ellipsis if r < 0.7 else 0)
        if key.count(Ellipsis) > 1:
            raise _Skip

        def call(m, x):
            e = getattr(m, k)[tuple(key)]
            return x[e]
        return Case("more47", f"x{x.shape}[{k}[{key}]]", [x], call, novmap=True,
                    jnp_call=None)
    if which == "err":
        setting = {w: pick(rng, ["ignore", "warn", "raise", "call", "print", "log", None])
                   for w in ("divide", "over", "under", "invalid")}
        setting = {w: v for w, v in setting.items() if v not in ("call", "log")}
        op = pick(rng, ["divide", "over", "invalid", "under"])
        x = {"divide": np.array([1.0, 0.0]), "over": np.array([1e300, 2.0]),
             "invalid": np.array([0.0, 1.0]), "under": np.array([1e-300, 1.0])}[op]

        def call(m, x):
            old = np.geterr()
            try:
                prev = m.seterr(**setting)
                now = m.geterr()
                try:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        r = {"divide": lambda: m.divide(1.0, x), "over": lambda: m.multiply(x, x),
                             "invalid": lambda: m.divide(x, x), "under": lambda: m.multiply(x, x)
                             }[op]()
                    raised = "none"
                except FloatingPointError:
                    r, raised = None, "FloatingPointError"
                return (sorted(prev.items()) == sorted(old.items()), sorted(now.items()), raised,
                        None if r is None else np.asarray(r))
            finally:
                np.seterr(**old)
        return Case("more47", f"seterr({setting}) then {op}", [x], call, nojit=True,
                    nograd=True, novmap=True, jnp_call=None)
    if which == "dlpack":
        x = arr(rng, shape_of(rng), pick(rng, ["float64", "float32", "int32", "bool",
                                                "complex128", "uint8"]))
        prod = pick(rng, ["numpy", "torch", "view"])

        def call(m, x):
            src = x
            if prod == "torch":
                import torch
                src = torch.from_numpy(np.array(x))
            elif prod == "view":
                src = x.T if x.ndim > 1 else x[::-1]
            y = m.from_dlpack(src)
            return np.asarray(y) if m is np else y
        return Case("more47", f"from_dlpack({prod} {x.dtype}{x.shape})", [x], call,
                    nojit=True, nograd=True, novmap=True, jnp_call=None)
    if which == "io":
        kind = pick(rng, ["save", "savez", "savez_compressed", "savetxt", "fromfile"])
        dts = ["float64", "int64", "float32", "complex128", "bool", "uint8"]
        if kind == "savetxt":
            dts = ["float64", "int64", "float32"]
        dt = pick(rng, dts)
        nd = int(rng.integers(1, 3)) if kind == "savetxt" else int(rng.integers(0, 4))
        x = arr(rng, shape_of(rng, nd, lo=1), dt)
        fmt = "%d" if dt == "int64" else "%.18e"
        order = pick(rng, ["ft->ft", "ft->np", "np->ft"])

        def call(m, x):
            if m is np:
                return _io_roundtrip(kind, np, np, x, fmt)
            w, r = {"ft->ft": (m, m), "ft->np": (m, np), "np->ft": (np, m)}[order]
            return _io_roundtrip(kind, w, r, x, fmt)
        return Case("more47", f"{kind} {order} x{x.shape}{dt}", [x], call, nojit=True,
                    nograd=True, novmap=True, jnp_call=None)
    # const: euler_gamma and the device of an array
    x = arr(rng, shape_of(rng), "float64")

    def call(m, x):
        if m is np:
            return (np.float64(np.euler_gamma) * x, "cpu")
        return (m.euler_gamma * x, str(m.device(x)))
    return Case("more47", f"euler_gamma * x{x.shape}, device", [x], call, nojit=True,
                novmap=True, jnp_call=None)


def fam_more48(rng):
    """fuzz48: names no family drew (e, uint, newaxis, ufunc, printoptions,
    get_printoptions / set_printoptions), and what fuzz47 left: an integer dtype called on a
    NumPy scalar or array out of its range (NumPy's cast), r_ / c_ with the directive's
    ndmin and third number (trans1d), issubdtype of NumPy's string / object / datetime
    dtypes."""
    which = pick(rng, ["const", "newaxis", "ufunc", "print", "intcast", "concat", "concat",
                       "subdtype"])
    if which == "const":
        x = arr(rng, shape_of(rng), "float64")
        name = pick(rng, ["e", "uint"])

        def call(m, x):
            if name == "e":
                return np.float64(m.e) * x
            return m.uint(np.abs(x) * 10) if x.ndim else m.uint(7)
        return Case("more48", f"{name} with x{x.shape}", [x], call, nograd=name == "uint",
                    novmap=True, nojit=name == "uint", jnp_call=None)
    if which == "newaxis":
        x = arr(rng, shape_of(rng, int(rng.integers(0, 3))), "float64")
        key = []
        for _ in range(int(rng.integers(1, 4))):
            r = rng.random()
            key.append("new" if r < 0.5 else Ellipsis if r < 0.65 else slice(None))
        if key.count(Ellipsis) > 1 or sum(k is not Ellipsis and k != "new"
                                          for k in key) > x.ndim:
            raise _Skip

        def call(m, x):
            return x[tuple(m.newaxis if k == "new" else k for k in key)]
        return Case("more48", f"x{x.shape}[{key} (new: newaxis)]", [x], call, novmap=True)
    if which == "ufunc":
        name = pick(rng, ["add", "multiply", "maximum", "logical_and", "negative", "subtract",
                          "sin", "power", "arctan2"])
        x = arr(rng, shape_of(rng, int(rng.integers(1, 3)), lo=1), "float64")

        def call(m, x):
            f = getattr(m, name)
            is_u = isinstance(f, m.ufunc)
            if name == "sin":  # (a ufunc in NumPy, a function in functrans and JAX)
                return (f.__name__, f(x))
            nin = f.nin
            return (is_u, nin, f(x) if nin == 1 else f.reduce(x, axis=0),
                    None if nin == 1 else f.outer(x[..., :2].reshape(-1), x.reshape(-1)[:2]))
        def np_call(x):
            r = call(np, x)
            if name in ("power", "arctan2"):
                # NumPy 2.4's float power.reduce and arctan2.reduce over a contiguous axis
                # give f(x[0], x[-1]) (np.power.reduce([2., 3, 2, 1]) is 2.0, not 64.0;
                # np.arctan2.reduce([0.3, -1.2, 0.7, 2.0]) is atan2(0.3, 2.0) = 0.1489,
                # the left fold 0.5881); their accumulate folds left as reduce is defined
                # to: compare with that
                r = r[:2] + (getattr(np, name).accumulate(x, axis=0)[-1],) + r[3:]
            return r
        return Case("more48", f"isinstance({name}, ufunc), methods, x{x.shape}", [x], call,
                    np_call=np_call, novmap=True, nograd=name in ("logical_and", "maximum"),
                    nojit=True)
    if which == "print":
        x = arr(rng, shape_of(rng, int(rng.integers(0, 3))), pick(rng, ["float64", "int64",
                                                                          "float32"]))
        opts = {}
        if rng.random() < 0.7:
            opts["precision"] = int(rng.integers(0, 10))
        if rng.random() < 0.5:
            opts["suppress"] = bool(rng.random() < 0.5)
        if rng.random() < 0.3:
            opts["threshold"] = int(rng.integers(1, 10))
        if rng.random() < 0.3:
            opts["sign"] = pick(rng, ["-", "+", " "])
        how = pick(rng, ["context", "set"])

        def call(m, x):
            old = np.get_printoptions()
            try:
                if how == "context":
                    with m.printoptions(**opts):
                        inside = sorted((k, str(v)) for k, v in m.get_printoptions().items())
                        text = repr(np.asarray(x))
                else:
                    m.set_printoptions(**opts)
                    inside = sorted((k, str(v)) for k, v in m.get_printoptions().items())
                    text = repr(np.asarray(x))
                return (inside, text)
            finally:
                np.set_printoptions(**old)
        return Case("more48", f"{how} printoptions({opts}) x{x.shape}{x.dtype}", [x], call,
                    nograd=True, novmap=True, nojit=True, jnp_call=None)
    if which == "intcast":
        to = pick(rng, ["int8", "int16", "int32", "uint8", "uint16", "uint32", "int64"])
        src = pick(rng, ["float64", "float32", "int64", "uint64"])
        info = np.iinfo(to)
        if src.startswith("float"):
            v = pick(rng, [float(info.max) * 1.5, float(info.min) - 1e3, 3e9, -3e9,
                           float(info.max), 0.5 + float(rng.integers(-100, 100))])
        else:
            v = pick(rng, [2 ** 40 + 5, 2 ** 31, 300, 2 ** 63 - 1 if src == "int64" else
                           2 ** 64 - 1, int(rng.integers(0, 100))])
        scal = rng.random() < 0.6
        val = np.dtype(src).type(v) if scal else np.array([v, 1], dtype=src)

        def call(m, *a):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                return np.asarray(getattr(m, to)(val))
        return Case("more48", f"{to}({src} {v!r}, {'scalar' if scal else 'array'})", [], call,
                    nograd=True, novmap=True, nojit=True, jnp_call=None)
    if which == "concat":
        k = pick(rng, ["r_", "c_"])
        ndmin = int(rng.integers(1, 4))
        axis = int(rng.integers(-1, ndmin))
        trans = pick(rng, [None, None, -1, 0, 1, 2, -2])
        spec = f"{axis},{ndmin}" + ("" if trans is None else f",{trans}")
        nd = int(rng.integers(0, 3))
        base = shape_of(rng, nd, lo=1)
        items = []
        for _ in range(int(rng.integers(1, 4))):
            r = rng.random()
            items.append(arr(rng, base, "float64") if r < 0.7 else
                         float(rng.uniform(-2, 2)) if r < 0.85 else slice(0, 2))
        args = [t for t in items if isinstance(t, np.ndarray)]

        def call(m, *a):
            it = iter(a)
            return getattr(m, k)[(spec,) + tuple(next(it) if isinstance(t, np.ndarray) else t
                                                 for t in items)]
        try:
            want_shape = np.shape(call(np, *args))
        except Exception:  # noqa: BLE001  (NumPy refuses: the errors are compared)
            want_shape = None

        def jnp_call(*a):
            # JAX's r_/c_ place a 1-d piece by their own rule where a directive's trans1d is
            # given (r_['2,3,0', (1, 4) pieces]: JAX (4, 1, 2), NumPy (1, 4, 2)); functrans
            # follows NumPy, so a JAX result of another shape is not compared (JAX differs)
            r = call(jnp, *a)
            if want_shape is not None and np.shape(r) != want_shape:
                raise ValueError(f"JAX's {k} shape {np.shape(r)} is not NumPy's {want_shape}")
            return r
        return Case("more48", f"{k}[{spec!r}, {[getattr(t, 'shape', t) for t in items]}]",
                    args, call, novmap=True, jnp_call=jnp_call if jnp is not None else None)
    a = pick(rng, ["S", "U", "O", "M8", "m8", "V", "S5", "f8", "i4", "c16", "?"])
    b = pick(rng, _ABSTRACT + ["S", "U", "f8", "object_", "str_", "bytes_", "datetime64"])

    def call(m):
        cls = getattr(np if b in ("object_", "str_", "bytes_", "datetime64") else m, b, b) \
            if b not in ("S", "U", "f8") else b
        return bool(m.issubdtype(a, cls))
    return Case("more48", f"issubdtype({a!r}, {b})", [], call, nograd=True, novmap=True,
                nojit=True, jnp_call=None)


FAMILIES = {"at": fam_at, "take": fam_take, "search": fam_search, "unique": fam_unique,
            "quantile": fam_quantile, "reduce": fam_nanreduce, "poly": fam_poly,
            "interp": fam_interp, "diff": fam_diff, "einsum": fam_einsum, "apply": fam_apply,
            "pad": fam_pad, "index": fam_index, "misc": fam_misc, "more": fam_more,
            "more2": fam_more2, "more3": fam_more3, "more47": fam_more47,
            "more48": fam_more48}


# each family's random stream (misc, then more (sweepb43), more2 (fuzz44), more3 (fuzz45),
# more47 (fuzz47), more48 (fuzz48) last: the older families' draws as before they came)
STREAM = sorted(set(FAMILIES) - {"misc", "more", "more2", "more3", "more47", "more48"}) + [
    "misc", "more", "more2", "more3", "more47", "more48"]


# -- comparing --------------------------------------------------------------------------------

def leaves(r):
    if isinstance(r, (tuple, list)):
        out = []
        for q in r:
            out.extend(leaves(q))
        return out
    if hasattr(r, "_fields"):
        return leaves(tuple(r))
    return [r]


def tol_for(dt, case):
    if case.tol:
        return case.tol
    ins = [np.asarray(a).dtype for a in case.args if np.asarray(a).dtype.kind in "fc"]
    if any(d.name in ("float16",) for d in ins):
        dt = "float16"
    elif any(d.name in ("float32", "complex64") for d in ins):
        dt = "float32"
    return {"float16": 2e-3, "float32": 2e-5, "complex64": 2e-5}.get(np.dtype(dt).name, 1e-10)


def same(a, b, case, what):
    a_np, b_np = np.asarray(a), np.asarray(b)
    if a_np.shape != b_np.shape:
        return f"{what}: shape {a_np.shape} vs NumPy {b_np.shape}"
    if a_np.dtype != b_np.dtype and policy_dtype(a_np.dtype, b_np.dtype, case):
        note("dtype-policy")
        b_np = b_np.astype(a_np.dtype)
    if a_np.dtype != b_np.dtype:
        return f"{what}: dtype {a_np.dtype} vs NumPy {b_np.dtype}"
    if a_np.size == 0:
        return None
    if a_np.dtype.kind in "fc":
        t = tol_for(a_np.dtype, case)
        aa, bb = a_np.astype(np.complex128), b_np.astype(np.complex128)
        nan_a, nan_b = np.isnan(aa), np.isnan(bb)
        if np.any(nan_a != nan_b):
            return f"{what}: NaN at {np.argwhere(nan_a != nan_b)[:3].tolist()}: " \
                   f"{a_np.ravel()[:8]} vs {b_np.ravel()[:8]}"
        fin = ~nan_a & np.isfinite(bb)
        if np.any((aa != bb) & ~fin & ~nan_a):
            return f"{what}: inf differs {a_np.ravel()[:8]} vs {b_np.ravel()[:8]}"
        scale = max(1.0, float(np.max(np.abs(bb[fin])))) if fin.any() else 1.0
        err = float(np.max(np.abs(aa[fin] - bb[fin]))) if fin.any() else 0.0
        if err > t * scale:
            return f"{what}: max err {err:.3g} (scale {scale:.3g}): {a_np.ravel()[:6]} vs " \
                   f"{b_np.ravel()[:6]}"
        return None
    if not np.array_equal(a_np, b_np):
        return f"{what}: values {a_np.ravel()[:8]} vs {b_np.ravel()[:8]}"
    return None


def policy_dtype(got, want, case):
    """functrans's documented promotion where NumPy's differs: float32 beside an int64
    array stays float32 (docs/coming-from-jax.md)."""
    ins = [np.asarray(a).dtype for a in case.args]
    return (got.name, want.name) in (("float32", "float64"), ("complex64", "complex128")) and \
        any(d.name in ("float32", "complex64") for d in ins) and \
        (any(d.kind in "iu" and d.itemsize == 8 for d in ins)
         or getattr(case, "int64_inside", False))


def compare_results(got, want, case, what):
    gl, wl = leaves(got), leaves(want)
    if len(gl) != len(wl):
        return f"{what}: {len(gl)} results vs {len(wl)}"
    for i, (g, w) in enumerate(zip(gl, wl)):
        if g is None and w is None:
            continue
        m = same(g, w, case, f"{what}[{i}]" if len(gl) > 1 else what)
        if m:
            return m
    return None


def float_out(r):
    return [i for i, q in enumerate(leaves(r))
            if getattr(np.asarray(q), "dtype", None) is not None and
            np.asarray(q).dtype.kind == "f"]


def run_case(case, rng):
    # NumPy
    try:
        want = case.np_call(*case.args)
        want_err = None
    except _Skip:
        note("skipped")
        return
    except Exception as e:  # noqa: BLE001
        want, want_err = None, e
    try:
        got = case.call(fnp, *case.args)
        got_err = None
    except Exception as e:  # noqa: BLE001
        got, got_err = None, e
    if want_err is not None and got_err is not None:
        note("both-error")
        if VERBOSE:
            print(f"  both error: {case.name}: NumPy {type(want_err).__name__}: {want_err}; "
                  f"ft {type(got_err).__name__}: {got_err}")
        return
    if want_err is not None and "out of bounds for array of dimension 0" in str(want_err):
        note("0-d-axis-accepted")  # (functrans's choice: axis 0/-1 of a 0-d reduces nothing)
        return
    if want_err is not None and "but no '...' ellipsis provided" in str(want_err):
        note("einsum-ellipsis-refused")  # (functrans refuses as optimize=False NumPy does)
        return
    if want_err is not None and "negative dimensions are not allowed" in str(want_err) and \
            case.name.startswith(("mgrid[", "ogrid[")):
        # (NumPy's grid of several slices refuses a slice that counts backwards, where its
        # one-slice grid, jax.numpy's and functrans's give that axis length 0)
        note("numpy-grid-backwards-refused")
        return
    if want_err is not None and "boolean subtract" in str(want_err) and \
            case.family == "quantile":
        # (documented, docs/coming-from-jax.md: a boolean array's values are 0 and 1 to the
        # interpolating methods, as jax.numpy's; NumPy subtracts the booleans, TypeError)
        note("quantile-bool-as-0-1")
        return
    if want_err is not None:
        note("numpy-error-only")
        print(f"NOTE [{case.family}] only NumPy raises ({type(want_err).__name__}: "
              f"{str(want_err)[:100]}); ft gave {leaves(got)[0]!r:.80}\n    {case.name}")
        return
    if got_err is not None and "output subscripts have no '...'" in str(got_err):
        note("einsum-ellipsis-refused")  # (NumPy's optimize=True path sums them instead)
        return
    if got_err is not None and "gradient: boolean input is not supported" in str(got_err):
        # (functrans's choice: NumPy subtracts the booleans, which fails, except with
        # coordinates that it finds unevenly spaced, whose formula multiplies them)
        note("gradient-bool-refused")
        return
    if got_err is not None and "the spread of complex values needs a complex dtype" in str(got_err):
        # (functrans's choice, docs/coming-from-jax.md: var/std of complex input with a real dtype= is
        # refused; NumPy's result mixes the real parts' mean with complex deviations)
        note("var-complex-real-dtype-refused")
        return
    if got_err is not None and "complex weights are not supported" in str(got_err):
        # (NumPy 2.4 refuses complex weights too, except empty ones: int64 zeros, an
        # accident of its empty path)
        note("bincount-complex-weights-refused")
        return
    if got_err is not None:
        note("ft-error-only")
        msg = "".join(traceback.format_exception_only(type(got_err), got_err)).strip()
        fail(case, "ft raises", f"{msg[:300]}")
        if VERBOSE:
            traceback.print_exception(got_err)
        return
    m = compare_results(got, want, case, "value")
    if m and case.name.startswith("nan") and "shape" in m and any(
            np.asarray(a).size == 0 for a in case.args[:1]) or m and case.name.startswith(
            ("nanquantile", "nanpercentile")) and "'axis': (" in case.name:
        # (NumPy's nanquantile/nanpercentile drop q's axes for empty input and put them
        # last for a tuple axis; its quantile and jax.numpy put them first, as functrans;
        # nanpercentile too: np.nanpercentile(x (1, 4, 3), q (2, 2), axis=(1, 2)) is
        # (2, 1, 2), np.percentile's (2, 2, 1), even without a nan: seed 51480+)
        note("numpy-nanquantile-shape")
        return
    if m:
        fail(case, "value", m)
        return
    note("value-ok")
    if case.nojit is False:
        check_jit(case, got)
    fo = float_out(got)
    diff = [i for i in case.diff if case.args[i].size]
    if not fo or not diff or case.nograd:
        return
    check_derivs(case, got, diff, rng)


def check_jit(case, got):
    try:
        jitted = ft.jit(lambda *a: case.call(fnp, *a))(*case.args)
    except Exception as e:  # noqa: BLE001
        msg = str(e)
        if "concrete" in msg.lower() or "abstract" in msg.lower() or "static" in msg.lower() \
                or "size=" in msg or "traced" in msg.lower():
            note("jit-refused")
            return
        fail(case, "jit raises", f"{type(e).__name__}: {msg[:300]}")
        return
    m = compare_results(jitted, got, case, "jit")
    if m:
        fail(case, "jit", m)
    else:
        note("jit-ok")


def f_of(case, mod, diff, outs):
    """The case as a function of its differentiable args, returning its float outputs."""
    def f(*d):
        args = list(case.args)
        for i, v in zip(diff, d):
            args[i] = v
        if mod is fnp:
            r = case.call(fnp, *args)
        else:
            r = case.jnp_call(*args)
        ls = leaves(r)
        return tuple(ls[i] for i in outs)
    return f


def check_derivs(case, got, diff, rng):
    outs = float_out(got)
    f = f_of(case, fnp, diff, outs)
    primals = [case.args[i] for i in diff]
    tangents = [rng.standard_normal(p.shape) for p in primals]
    try:
        out, tan = ft.jvp(f, tuple(primals), tuple(tangents))
    except Exception as e:  # noqa: BLE001
        fail(case, "jvp raises", f"{type(e).__name__}: {str(e)[:300]}")
        return
    # central differences
    h = 1e-6
    plus = f(*[p + h * t for p, t in zip(primals, tangents)])
    minus = f(*[p - h * t for p, t in zip(primals, tangents)])
    fd = [(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)) / (2 * h)
          for a, b in zip(plus, minus)]
    ok_fd = True
    for k, (t, d) in enumerate(zip(tan, fd)):
        t = np.asarray(t)
        if t.shape != d.shape:
            fail(case, "jvp shape", f"{t.shape} vs {d.shape}")
            return
        fin = np.isfinite(d) & np.isfinite(t)
        if fin.any():
            err = np.max(np.abs(t[fin] - d[fin]))
            sc = max(1.0, float(np.max(np.abs(d[fin]))))
            if err > 1e-4 * sc:
                ok_fd = False
                fd_msg = f"out {k}: jvp {t.ravel()[:6]} vs central {d.ravel()[:6]}"
    jax_tan = None
    if case.jnp_call is not None and jnp is not None:
        try:
            jf = f_of(case, jnp, diff, outs)
            _, jax_tan = jax.jvp(jf, tuple(primals), tuple(tangents))
        except Exception:  # noqa: BLE001
            note("jax-jvp-error")
    if jax_tan is not None:
        for k, (t, jt) in enumerate(zip(tan, jax_tan)):
            t, jt = np.asarray(t), np.asarray(jt)
            if t.shape == jt.shape:
                fin = np.isfinite(jt) & np.isfinite(t)
                err = np.max(np.abs(t[fin] - jt[fin])) if fin.any() else 0
                sc = max(1.0, float(np.max(np.abs(jt[fin])))) if fin.any() else 1
                if err > 1e-8 * sc:
                    if ok_fd:
                        note("jvp-jax-differs-fd-agrees")
                        if VERBOSE:
                            print(f"  jax differs (central agrees with ft): {case.name}")
                    else:
                        fail(case, "jvp vs jax and central", fd_msg)
                        return
    if not ok_fd and jax_tan is None:
        fail(case, "jvp vs central", fd_msg)
        return
    if not ok_fd:
        note("jvp-fd-differs-jax-agrees")
    note("jvp-ok")
    # vjp: <u, J v> = <J^T u, v>
    try:
        out2, pull = ft.vjp(f, *primals)
        us = tuple(rng.standard_normal(np.shape(o)).astype(np.asarray(o).dtype)
                   for o in out2)
        cts = pull(us)
    except Exception as e:  # noqa: BLE001
        fail(case, "vjp raises", f"{type(e).__name__}: {str(e)[:300]}")
        return
    lhs = sum(float(np.sum(np.asarray(u) * np.asarray(t))) for u, t in zip(us, tan))
    rhs = sum(float(np.sum(np.asarray(c) * t)) for c, t in zip(cts, tangents))
    if math.isfinite(lhs) and abs(lhs - rhs) > 1e-8 * max(1, abs(lhs)):
        fail(case, "vjp dot identity", f"<u,Jv>={lhs} vs <J^T u,v>={rhs}")
        return
    note("vjp-ok")
    # jit(grad) against eager
    if not case.nojit:
        try:
            def loss(*d):
                r = f(*d)
                return sum(fnp.sum(q * u) for q, u in zip(r, us))
            g1 = ft.grad(loss, argnums=tuple(range(len(diff))))(*primals)
            g2 = ft.jit(ft.grad(loss, argnums=tuple(range(len(diff)))))(*primals)
            for a, b in zip(g1, g2):
                m = same(b, a, case, "jit(grad)")
                if m:
                    fail(case, "jit(grad)", m)
                    break
            else:
                note("jit-grad-ok")
        except Exception as e:  # noqa: BLE001
            if "concrete" not in str(e).lower() and "abstract" not in str(e).lower():
                fail(case, "jit(grad) raises", f"{type(e).__name__}: {str(e)[:200]}")
    # vmap over a random axis of the first diff arg
    if not case.novmap:
        p0 = primals[0]
        ax = int(rng.integers(0, p0.ndim + 1))
        other = rng.standard_normal(p0.shape)
        batch = np.stack([p0, other], axis=ax)
        try:
            vm = ft.vmap(lambda a: f(a, *primals[1:]), in_axes=ax)(batch)
            loop = [f(p0, *primals[1:]), f(other, *primals[1:])]
            for k in range(len(vm)):
                want = np.stack([np.asarray(loop[0][k]), np.asarray(loop[1][k])])
                m = same(vm[k], want, case, f"vmap(in_axes={ax})")
                if m:
                    fail(case, "vmap", m)
                    break
            else:
                note("vmap-ok")
        except Exception as e:  # noqa: BLE001
            if "made inside a transform (a constant" in str(e):
                # a batch written in place into an array the function made from no input
                # (copyto(fnp.array(c), x)): the documented refusal (docs/api/numpy.md)
                note("vmap-refused-constant")
            else:
                fail(case, "vmap raises", f"{type(e).__name__}: {str(e)[:200]}")
    # hessian (a sample) against jax
    lowp = any(np.asarray(a).dtype.name in ("float32", "float16", "complex64")
               for a in case.args)
    if rng.random() < 0.2 and case.jnp_call is not None and jnp is not None and not lowp and \
            sum(p.size for p in primals[:1]) <= 12:
        try:
            def sc(a):
                r = f(a, *primals[1:])
                return sum(fnp.sum(fnp.sin(q) * u) for q, u in zip(r, us))

            def jsc(a):
                r = f_of(case, jnp, diff, outs)(a, *primals[1:])
                return sum(jnp.sum(jnp.sin(q) * u) for q, u in zip(r, us))
            try:
                h2 = np.asarray(jax.hessian(jsc)(primals[0]))
            except Exception as e:  # noqa: BLE001  (JAX lacks the function: putmask...)
                note("hessian-jax-error")
                if VERBOSE:
                    print(f"  hessian: JAX raises {case.name}: {e}")
                return
            # (fuzz48: functrans's own error was counted with JAX's as "hessian-error")
            h1 = np.asarray(ft.hessian(sc)(primals[0]))
            fin = np.isfinite(h1) & np.isfinite(h2)
            if fin.any() and np.max(np.abs(h1[fin] - h2[fin])) > 1e-7 * max(
                    1, np.max(np.abs(h2[fin]))):
                fail(case, "hessian vs jax", f"{h1.ravel()[:6]} vs {h2.ravel()[:6]}")
            else:
                note("hessian-ok")
        except Exception as e:  # noqa: BLE001
            fail(case, "hessian raises", f"{type(e).__name__}: {str(e)[:200]}")


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("-")]
    s0 = int(args[0]) if args else 0
    s1 = int(args[1]) if len(args) > 1 else s0 + 200
    fams = args[2:] or sorted(FAMILIES)
    for seed in range(s0, s1):
        for fam in fams:
            rng = np.random.default_rng([seed, STREAM.index(fam)])
            try:
                case = FAMILIES[fam](rng)
            except _Skip:
                continue
            except Exception as e:  # noqa: BLE001
                print(f"HARNESS [{fam}] seed {seed} drawing: {type(e).__name__}: {e}")
                continue
            if case is None:
                continue
            note(f"case:{fam}")
            try:
                run_case(case, rng)
            except Exception as e:  # noqa: BLE001  (the fuzzer's own fault: say so)
                print(f"HARNESS [{fam}] seed {seed}: {type(e).__name__}: {e}\n    {case.name}")
                if VERBOSE:
                    traceback.print_exc()
    return TALLY.exit_status("counts:")


if __name__ == "__main__":
    sys.exit(main())
