"""Seeded random fuzzer: functrans.nn against jax.nn (x64).

Not collected by pytest (leading underscore). Run from the repository root:

    PYTHONPATH=. python -m tests._fuzz_nn_jax SEED0 SEED1 [--n N] [--only KIND,...]

(init48, fuzz48: the initializers' second names kaiming_*/xavier_*, from a stream of its
own, (seed, it, 48), every 4th iteration from the 2nd, or every one with --only init48;
complex56, fuzz56: complex logsumexp / logmeanexp as real and imaginary parts, from
(seed, it, 56), every 4th iteration from the 3rd, or every one with --only complex56.)
    PYTHONPATH=. python -m tests._fuzz_nn_jax --case SEED:IT      (one case, verbose)

Kinds: ``unary`` (every elementwise activation, with its parameters: alpha, negative_slope,
b, approximate; parameters sometimes as float64 arrays, then differentiated too),
``softmax`` / ``log_softmax`` (axis int/tuple/None, where=), ``logsumexp`` (b with zeros and
negative weights, keepdims, return_sign, where=), ``logmeanexp``, ``standardize`` (mean=,
variance=, epsilon, where=, algorithm), ``glu``, ``one_hot`` (integer/float/out-of-range
indices, num_classes, dtype, axis) and ``attention`` (dot_product_attention: bias, mask,
is_causal, scale, sequence lengths, local windows, grouped heads, 3-d/4-d).

Inputs draw from float64 (mostly), float32, float16, bfloat16 (functrans on torch tensors;
NumPy's own with FUZZ_BF16_ON=numpy), integers and bools, with special entries: +-0,
+-inf, nan, huge and tiny numbers, the kinks of the piecewise functions, ties for the
maximum. Each case compares functrans with JAX: the
errors (both refusing is fine), shape, dtype and values. For float64 inputs:

- every point, finite or not (the elementwise kinds): the first derivative by grad (reverse)
  and by jvp (forward) vs JAX's, forward vs reverse, and the second by grad(grad) and
  jvp(jvp) vs JAX's; central differences at finite points away from the kinks. Where JAX's
  two modes disagree with each other, the case is counted (``jax-modes-differ``), not failed,
  if functrans equals one of them.
- finite inputs (every kind): jvp vs JAX and central differences, vjp vs JAX and the
  dot-product identity, grad vs JAX, jit(grad) = grad, jit(vmap(grad)) = loop of grad,
  jacfwd vs jacrev, hessian vs JAX (a sample), vmap with random in_axes = JAX's vmap, jit
  values = eager.

Prints one line per mismatch and a summary; exit status 1 on any. FUZZ_VERBOSE=1 prints
every case. Documented differences from JAX that are not failures (see ``_documented``):
integer inputs give float64 where JAX gives float32 (and keep int in JAX's hard_tanh);
functrans's standardize defaults to the stable algorithm (compared with JAX's "stable").
"""

from __future__ import annotations

import os
import sys
import traceback
import types
import warnings

import numpy as np

import jax
import jax.numpy as jnp

jax.config.update("jax_enable_x64", True)
import jax.nn as jnn  # noqa: E402

import functrans as ft  # noqa: E402
import functrans.nn as fnn  # noqa: E402
import functrans.numpy as fnp  # noqa: E402
from tests._fuzz_common import Tally, generator_args  # noqa: E402

warnings.filterwarnings("ignore")

VERBOSE = bool(os.environ.get("FUZZ_VERBOSE"))
TALLY = Tally()
FAILS, COUNTS, fail, count = TALLY.fails, TALLY.counts, TALLY.fail, TALLY.count

# crashes outside functrans.nn, reported and counted (not failed): jit(grad) of a 0-d
# log_softmax reaches softmax_tangent's NumPy path, whose keepdims sum over no axes is a
# NumPy scalar, not an array (primitives/softmax.py, _np_fill)
KNOWN = ("return arrays must be of ArrayType",)

JM = types.SimpleNamespace(nn=jnn, np=jnp, name="jax")
FM = types.SimpleNamespace(nn=fnn, np=fnp, name="functrans")


# -- comparison ------------------------------------------------------------------------------

def tol_of(dtype):
    return {"float32": 3e-6, "float16": 2e-3, "bfloat16": 1.6e-2}.get(str(dtype), 1e-12)


def to_np(a):
    """A NumPy array of a functrans/JAX/torch result (bfloat16 as float32, its name kept)."""
    if type(a).__module__.startswith("torch"):
        import torch
        name = str(a.dtype).replace("torch.", "")
        if a.dtype == torch.bfloat16:
            a = a.float()
        return np.asarray(a.detach().cpu().numpy()), name
    a = np.asarray(a)
    return a, a.dtype.name


def close(a, b, tol, exact=False):
    """(Not _fuzz_common.close_scaled: elementwise relative error, nan patterns must match,
    ``exact`` or integers compare equal.) ``(ok, message)``: equal nan patterns and infinities, else within ``tol`` relative to
    max(1, |b|) elementwise where both are finite."""
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        return False, f"shape {a.shape} vs {b.shape}"
    if a.size == 0:
        return True, ""
    if a.dtype.kind in "biu" or b.dtype.kind in "biu" or exact:
        bad = a != b
        if a.dtype.kind == "f":
            bad &= ~(np.isnan(a) & np.isnan(b))
        if np.any(bad):
            k = tuple(np.argwhere(bad)[0])
            return False, f"{int(bad.sum())} differ, first at {k}: {a[k]!r} vs {b[k]!r}"
        return True, ""
    a = a.astype(np.float64)
    b = b.astype(np.float64)
    na, nb = np.isnan(a), np.isnan(b)
    if np.any(na != nb):
        k = tuple(np.argwhere(na != nb)[0])
        return False, f"nan pattern differs at {k}: {a[k]} vs {b[k]}"
    inf_b = np.isinf(b) | np.isinf(a)
    if np.any(inf_b & (a != b)):
        k = tuple(np.argwhere(inf_b & (a != b))[0])
        return False, f"infinity differs at {k}: {a[k]} vs {b[k]}"
    fin = np.isfinite(a) & np.isfinite(b)
    if not np.any(fin):
        return True, ""
    err = np.where(fin, np.abs(a - b) / np.maximum(1.0, np.abs(np.where(fin, b, 0))), 0)
    e = float(np.max(err))
    if e > tol:
        k = np.unravel_index(int(np.argmax(err)), err.shape)
        return False, f"max rel err {e:.3g} at {k}: {a[k]!r} vs {b[k]!r}"
    return True, ""


def close_ulps(a, b, dt, ulps, floor=0.0):
    """``(ok, message, err)``: ``a`` within ``ulps`` units in the last place of ``b``'s half
    type ``dt`` (the spacing at ``b``, or at ``floor`` times the root mean square of ``b``
    where that is larger; ``err`` the largest distance in them), infinities and nans equal."""
    a, b = np.asarray(a).astype(np.float64), np.asarray(b).astype(np.float64)
    if a.shape != b.shape:
        return False, f"shape {a.shape} vs {b.shape}", np.inf
    if a.size == 0:
        return True, "", 0.0
    fin = np.isfinite(a) & np.isfinite(b)
    if np.any(~fin & ~((a == b) | (np.isnan(a) & np.isnan(b)))):
        return False, "non-finite values differ", np.inf
    bits, emin = {"float16": (11, -13), "bfloat16": (8, -125)}[dt]
    at = np.maximum(np.abs(np.where(fin, b, 1.0)), floor * np.sqrt(np.mean(b[fin] ** 2)))
    ulp = np.ldexp(1.0, np.maximum(np.frexp(at)[1], emin) - bits)
    err = np.where(fin, np.abs(a - b) / ulp, 0.0)
    e = float(np.max(err))
    if e > ulps:
        k = np.unravel_index(int(np.argmax(err)), err.shape)
        return False, f"{e:.3g} {dt} ulps off at {k}: {a[k]!r} vs {b[k]!r}", e
    return True, "", e


# the largest distance in half ulps seen, per initializer kind and dtype (printed at the end)
ULP_SEEN = {}


def leaves(out):
    return jax.tree_util.tree_leaves(out)


# -- inputs ----------------------------------------------------------------------------------

FLOATS = ["float64"] * 6 + ["float32"] * 2 + ["float16", "bfloat16"]
INTS = ["int8", "int32", "int64", "uint8", "bool"]

SPECIAL = [np.nan, -0.0, 0.0, np.inf, -np.inf, 1.0, -1.0, 1e300, -1e300, 5e-324, -5e-324,
           1e-310, 2.2e-308, 30.0, -30.0, 40.0, -40.0, 700.0, -700.0, 800.0, -800.0, 1e8,
           -1e8, 1e16, -1e16, 1.3e154, -1.3e154, 20.0, -20.0, 6.0, 3.0, -3.0, 2.0, -2.0, 10.0,
           -10.0, 1e-8, -1e-8, 0.5, -0.5, 1e30, -1e30, 88.0, -88.0, 745.0, -745.0]


def rshape(rng, rank=None, lo=0, hi=4):
    rank = int(rng.integers(0, 4)) if rank is None else rank
    return tuple(int(rng.integers(0 if rng.random() < 0.06 else max(lo, 1), hi + 1))
                 for _ in range(rank))


def rand(rng, shape, dtype, special=0.0, kinks=(), scale=None):
    """Random entries of ``dtype`` (a NumPy dtype name; bfloat16 as float32 values rounded
    to bfloat16), a fraction ``special`` of them from SPECIAL and the kinks, sometimes ties."""
    if dtype == "bool":
        return np.asarray(rng.random(shape) < 0.5)
    if dtype[0] in "iu":
        info = np.iinfo(dtype)
        lo = max(int(info.min), -8)
        x = rng.integers(lo, 9, size=shape).astype(dtype)
        if x.size and rng.random() < 0.2:
            x.reshape(-1)[int(rng.integers(0, x.size))] = info.max
        return x
    sc = scale if scale is not None else (3.0 if rng.random() < 0.7 else 30.0)
    x = np.asarray(rng.standard_normal(shape) * sc)
    if x.size and special:
        pool = list(SPECIAL) + list(kinks) * 4
        mask = rng.random(shape) < special
        picks = np.array([pool[int(i)] for i in rng.integers(0, len(pool), size=x.size)])
        x = np.where(mask, picks.reshape(x.shape), x)
    if x.size > 1 and rng.random() < 0.25:  # ties
        flat = x.reshape(-1)
        flat[int(rng.integers(0, x.size))] = flat[int(rng.integers(0, x.size))]
    if dtype == "bfloat16":
        import ml_dtypes
        return x.astype(ml_dtypes.bfloat16)
    with np.errstate(over="ignore"):
        return np.asarray(x, dtype=dtype)


def to_jax(a):
    return jnp.asarray(a) if isinstance(a, np.ndarray) else a


def to_torch(a):
    import torch
    if a.dtype.name == "bfloat16":
        return torch.from_numpy(np.array(a.astype(np.float32))).to(torch.bfloat16)
    return torch.from_numpy(np.array(a))


# Where functrans takes the cases' bfloat16 arrays: torch's (the default), or NumPy's own
# (ml_dtypes', FUZZ_BF16_ON=numpy)
BF16_ON = os.environ.get("FUZZ_BF16_ON", "torch")


def to_ft(a, torch_too=False):
    """NumPy arrays as they are, except bfloat16 (on torch, unless FUZZ_BF16_ON=numpy)
    and, with ``torch_too``, every array of a case that holds a bfloat16 one."""
    if BF16_ON == "numpy":
        return a
    if isinstance(a, np.ndarray) and (torch_too or a.dtype.name == "bfloat16"):
        return to_torch(a)
    return a


def ft_args(args):
    """A case's arguments for functrans: all on torch where one is bfloat16."""
    bf = any(isinstance(a, np.ndarray) and a.dtype.name == "bfloat16" for a in args)
    return [to_ft(a, bf) for a in args]


# -- cases -----------------------------------------------------------------------------------

class Case:
    """One random call ``fn(M, *args)``, M = JM or FM; ``gen(rng)`` draws fresh arguments
    of the same shapes and dtypes (vmap's members); ``diff``: positions differentiated
    (None: every float64 argument); ``elementwise``: a unary elementwise function of
    args[0] (derivatives at every point, see the module docstring)."""

    def __init__(self, name, params, fn, gen, rng, diff=None, elementwise=False, kinks=(),
                 value_only=False, fd=True, vmappable=True):
        self.name, self.params, self.fn, self.gen = name, dict(params), fn, gen
        self.args = gen(rng)
        self.diff, self.elementwise, self.kinks = diff, elementwise, tuple(kinks)
        self.value_only, self.fd, self.vmappable = value_only, fd, vmappable

    def __repr__(self):
        shapes = [(np.shape(a), np.asarray(a).dtype.name) if isinstance(a, np.ndarray)
                  else a for a in self.args]
        return f"{self.name} {self.params} args={shapes}"


def run(M, case, args):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = case.fn(M, *([to_jax(a) for a in args] if M is JM else ft_args(args)))
        return True, out
    except Exception as e:  # noqa: BLE001
        return False, e


def _documented(case, yf, yj):
    """True where functrans's result differs from JAX's on purpose (documented): integer
    or bool input gives float64 (JAX: float32, or the integer type in hard_tanh/relu)."""
    ins = [a for a in case.args if isinstance(a, np.ndarray)]
    if case.name in ("one_hot",):
        return False
    return bool(ins) and ins[0].dtype.kind in "biu"


# where JAX's formula overflows or is inf / inf (documented): squareplus's (x + sqrt(x^2 + b))
# / 2 (inf from |x| = 1.4e154, nan at -inf), soft_sign's x / (|x| + 1) at +-inf; there
# JAX's non-finite value is not compared with functrans's finite one
JAX_OVERFLOWS = ("squareplus", "soft_sign")
# their slopes' limits at x -> +inf / -inf (first, second derivative), which functrans's must
# equal where JAX's slope at an infinite input is nan: soft_sign' = 1 / (1 + |x|)^2,
# squareplus' = (1 + x / sqrt(x^2 + b)) / 2, both second derivatives -> 0
INF_SLOPES = {"soft_sign": {1: (0.0, 0.0), -1: (0.0, 0.0)},
              "squareplus": {1: (1.0, 0.0), -1: (0.0, 0.0)}}


def compare(case, what, yf, yj, tol, documented_dtype=False):
    lf, lj = leaves(yf), leaves(yj)
    if len(lf) != len(lj):
        fail(case.name, case, f"{what}: {len(lf)} outputs vs {len(lj)}")
        return False
    good = True
    for i, (a, b) in enumerate(zip(lf, lj)):
        (a, da), (b, db) = to_np(a), to_np(b)
        x0 = case.args[0] if case.elementwise and case.args else None
        if isinstance(x0, np.ndarray) and x0.shape == b.shape and x0.dtype == np.float64 and \
                np.any(subnormal(x0)):
            count(case.name + ":subnormal-input")   # (XLA flushes them to zero)
            b = np.where(subnormal(x0), a, b)
        if case.name in JAX_OVERFLOWS and a.shape == b.shape:
            skip = ~np.isfinite(b.astype(np.float64)) & np.isfinite(a.astype(np.float64))
            if np.any(skip):
                count(case.name + ":jax-overflow")
                b = np.where(skip, a, b)
        if case.name == "squareplus" and what == "value" and isinstance(x0, np.ndarray) and \
                x0.shape == b.shape and x0.dtype.kind in "fV":
            # JAX's (x + sqrt(x^2 + b)) / 2 cancels for x << -sqrt(b) (2.2e-8 for 2.5e-8 at
            # x = -1e8, b = 10): there the reference is the same value without cancellation
            # (fuzz52: in float32 and 16 bits for every negative x, rounded to the dtype:
            # bfloat16 -30 with b = 4 is JAX's 0.0625, the value 0.0333, seed 44034 it 0)
            # (b an array, the second argument: its entries, not params' b, seed 44071 it 27)
            b_arg = case.args[1] if len(case.args) > 1 else None
            bb = (b_arg.astype(np.float64) if isinstance(b_arg, np.ndarray) and
                  b_arg.shape == x0.shape else float(case.params.get("b", 4.0)))
            xw = x0.astype(np.float64)
            with np.errstate(all="ignore"):
                stable = bb / (2.0 * (np.sqrt(xw * xw + bb) - xw))
            low = x0.dtype != np.float64
            if low:
                stable = stable.astype(x0.dtype).astype(np.float64)
            neg = (xw < (0.0 if low else -1e3)) & np.isfinite(xw) & np.isfinite(stable)
            if np.any(neg & (b != stable)):
                count("squareplus:jax-cancels")
                b = np.where(neg, stable, b)
        xin = case.args[0] if case.args else None
        if case.name == "log_softmax" and a.shape == b.shape and isinstance(
                xin, np.ndarray) and np.any(np.asarray(xin, dtype=np.float64) == np.inf):
            # a kept +inf: functrans's finite kept entries are -inf (their limit; SciPy's
            # log_softmax), JAX's nan (inf - inf in its sum)
            skip = np.isnan(b) & (a == -np.inf)
            if np.any(skip):
                count("log_softmax:jax-nan-at-inf")
                b = np.where(skip, a, b)
        if case.name.endswith(":complex") and i > 0 and what == "value":
            # a sum of only -inf real parts: -inf + 0j (functrans); JAX's imaginary part is
            # the angle of a signed zero (exp(-inf + bj) = +-0 +-0j; -pi at seed 44064 it 10)
            re = to_np(lf[0])[0]
            if re.shape == b.shape and np.any((re == -np.inf) & (a != b)):
                count(case.name + ":jax-angle-of-zero")
                b = np.where(re == -np.inf, a, b)
        if da != db and not documented_dtype:
            fail(case.name, case, f"{what} out {i}: dtype {da} vs JAX {db}")
            good = False
        if getattr(case, "half_ulps", None) is not None and da in ("float16", "bfloat16"):
            ok, msg, e = close_ulps(a, b, da, case.half_ulps, getattr(case, "ulp_floor", 0.0))
            ULP_SEEN[case.ulp_key] = max(ULP_SEEN.get(case.ulp_key, 0.0), e)
        else:
            ok, msg = close(a, b, tol)
        if not ok:
            fail(case.name, case, f"{what} out {i}: {msg}")
            good = False
    return good


def check_case(case, rng):
    okj, yj = run(JM, case, case.args)
    okf, yf = run(FM, case, case.args)
    if not okf and not okj:
        count(case.name + ":both-raise")
        if VERBOSE:
            print(f"  both raise {case}: ft {type(yf).__name__}: {str(yf)[:120]} | jax "
                  f"{type(yj).__name__}: {str(yj)[:120]}")
        return
    if not okf and getattr(case, "init_known", None):
        count(case.name + ":stricter")
        return
    if not okf:
        fail(case.name, case, f"functrans raised, JAX did not: {type(yf).__name__}: "
                              f"{str(yf)[:300]}")
        return
    if not okj:
        if "does not accept dtype" in str(yj) and any(
                isinstance(a, np.ndarray) and a.dtype.kind in "biu" for a in case.args):
            # (functrans takes integers and bools as float64, documented)
            count(case.name + ":lenient-bool")
            return
        if getattr(case, "jax_refuses_ok", None) and case.jax_refuses_ok(yj):
            count(case.name + ":lenient")
            msg = case.own_check(yf) if getattr(case, "own_check", None) else None
            if msg:
                fail(case.name, case, f"JAX refuses; functrans's value: {msg}")
            return
        fail(case.name, case, f"JAX raised ({type(yj).__name__}: {str(yj)[:200]}), functrans "
                              f"gave {[np.shape(x) for x in leaves(yf)]}")
        return
    count(case.name)
    if VERBOSE:
        print(f"  ok {case}")
    dts = [a.dtype.name for a in case.args if isinstance(a, np.ndarray)]
    tol = max([tol_of(d) for d in dts] + [1e-12])
    tol = case.tol if getattr(case, "tol", None) is not None and case.name.startswith(
        "init:") else max(getattr(case, "tol", None) or tol, tol)
    doc = _documented(case, yf, yj)
    if doc:
        count(case.name + ":int-input")
        # (JAX computes in its result's dtype, float32 for int32 input)
        tol = max([tol] + [tol_of(to_np(v)[1]) for v in leaves(yj)])
        yj = jax.tree_util.tree_map(lambda v: np.asarray(v).astype(np.float64), yj)
        if any(isinstance(a, np.ndarray) and a.dtype.kind in "iu" for a in case.args):
            # fuzz45: JAX negates unsigned integers in their own type, which wraps:
            # jax.nn.log_sigmoid(np.uint8(5)) is -softplus(np.uint8(-5)) = -251.0 (the value
            # is -0.0067, functrans's, JAX's at 5.0); the reference is JAX's at the same
            # values in float64
            # fuzz49: and it takes int32's means in float32 even where the result is
            # float64 (standardize(int32 x, variance=float64): 7e-6 relative off for x near
            # 2^31, where functrans, as NumPy, computes in float64)
            ok64, y64 = run(JM, case, [a.astype(np.float64) if isinstance(a, np.ndarray) and
                                       a.dtype.kind in "iu" else a for a in case.args])
            if ok64:
                y64 = jax.tree_util.tree_map(lambda v: np.asarray(v).astype(np.float64), y64)
                if not all(close(a, b, tol)[0] for a, b in zip(leaves(y64), leaves(yj))):
                    count(case.name + (":jax-unsigned-wraps" if any(
                        isinstance(a, np.ndarray) and a.dtype.kind == "u" for a in case.args)
                        else ":jax-int-in-float32"))
                    yj = y64
    if getattr(case, "skip_values", False):
        lf, lj = leaves(yf), leaves(yj)
        if [(np.shape(a), to_np(a)[1]) for a in lf] != [(np.shape(b), to_np(b)[1]) for b in lj]:
            fail(case.name, case, "shapes/dtypes differ")
        return
    if getattr(case, "fast_variance", False) and not all(
            close(*(to_np(v)[0].astype(np.float64) for v in ab), tol)[0]
            for ab in zip(leaves(yf), leaves(yj))):
        # fuzz52: the fast variance mean(x^2) - mean^2 of float32 (or 16-bit) input, where
        # it cancels (a slice of one kept entry or equal entries), is the rounding of
        # mean(x^2) beside epsilon: XLA contracts it to fma(-mean, mean, fl(mean(x^2))) and
        # keeps that rounding error (2.7e-10 beside epsilon 1e-5, 1.35e-5 relative, seed
        # 44023 it 28), functrans's is 0. The reference there is JAX's in float64 (the
        # exact difference) rounded to JAX's dtype
        ok64, y64 = run(JM, case, [a.astype(np.float64) if isinstance(a, np.ndarray) and
                                   a.dtype.kind == "f" else a for a in case.args])
        if ok64:
            y64 = jax.tree_util.tree_map(
                lambda v, w: np.asarray(v).astype(np.asarray(w).dtype), y64, yj)
            if all(close(*(to_np(v)[0].astype(np.float64) for v in ab), tol)[0]
                   for ab in zip(leaves(yf), leaves(y64))):
                count(case.name + ":jax-fma-variance")
                yj = y64
    if not compare(case, "value", yf, yj, tol, documented_dtype=doc):
        return
    if case.value_only or doc:
        return
    try:
        check_jit_vmap(case, rng, yf, tol)
        if case.elementwise:
            check_elementwise(case)
        check_transforms(case, rng)
    except Exception as e:  # noqa: BLE001
        if any(k in str(e) for k in KNOWN):
            count(case.name + ":known")
            return
        fail(case.name, case, f"transform raised {type(e).__name__}: {str(e)[:300]}\n"
                              f"{traceback.format_exc(limit=-12)}")


def check_jit_vmap(case, rng, yf, tol):
    args = ft_args(case.args)
    arrays = [i for i, a in enumerate(case.args) if isinstance(a, np.ndarray)]
    yjit = ft.jit(lambda *a: case.fn(FM, *a))(*args)
    for a, b in zip(leaves(yjit), leaves(yf)):
        ok, msg = close(to_np(a)[0], to_np(b)[0], 4 * tol)
        if not ok:
            fail(case.name, case, f"jit vs eager: {msg}")
    if not case.vmappable or not arrays:
        return
    axes = [None] * len(args)
    for i in arrays:
        if rng.random() < 0.6:
            axes[i] = int(rng.integers(0, np.ndim(case.args[i]) + 1))
    if all(ax is None for ax in axes):
        i = arrays[0]
        axes[i] = int(rng.integers(0, np.ndim(case.args[i]) + 1))
    members = [case.args, case.gen(rng)]
    if any(np.shape(m[i]) != np.shape(case.args[i]) for m in members for i in arrays):
        return
    batched = [np.stack([m[i] for m in members], axis=ax) if ax is not None else case.args[i]
               for i, ax in enumerate(axes)]
    # functrans: vmap vs a loop of eager calls (bitwise up to tol), and vs JAX's vmap
    vf = ft.vmap(lambda *b: case.fn(FM, *b), in_axes=tuple(axes))(*ft_args(batched))
    for k, m in enumerate(members):
        want = case.fn(FM, *ft_args([a if axes[i] is not None else case.args[i]
                                     for i, a in enumerate(m)]))
        for a, b in zip(leaves(vf), leaves(want)):
            ok, msg = close(np.take(to_np(a)[0], k, axis=0), to_np(b)[0], 4 * tol)
            if not ok:
                fail(case.name, case, f"vmap in_axes={axes} member {k} vs loop: {msg}")
                return


def diff_positions(case):
    if case.diff is not None:
        return [p for p in case.diff if isinstance(case.args[p], np.ndarray)
                and case.args[p].dtype == np.float64]
    return [i for i, a in enumerate(case.args)
            if isinstance(a, np.ndarray) and a.dtype == np.float64]


def partial_fn(case, M, pos):
    base = list(case.args)

    def f(*vals):
        a = list(base)
        for p, v in zip(pos, vals):
            a[p] = v
        a = [(to_jax if M is JM else to_ft)(v) if not hasattr(v, "aval") and not isinstance(
            v, ft.core.Tracer) else v for v in a]
        return case.fn(M, *a)
    return f


def float_leaves_fn(f, M):
    def g(*a):
        out = leaves(f(*a))
        if M is JM:
            return tuple(o for o in out if jnp.issubdtype(o.dtype, jnp.floating))
        return tuple(o for o in out if fnp.isdtype(o.dtype, "real floating"))
    return g


# -- elementwise: derivatives at every point --------------------------------------------------

def _slopes(M, f, x):
    """First and second derivatives of the elementwise f at every entry of x, in reverse
    mode (grad of the sum, twice) and forward mode (jvp with ones, twice)."""
    T = jax if M is JM else ft
    xp = M.np
    one = np.ones_like(x)

    def s(v):
        return xp.sum(f(v))

    def d1_rev(v):
        return T.grad(s)(v)

    def d1_fwd(v):
        return T.jvp(f, (v,), (xp.asarray(one) if M is JM else one,))[1]
    d2_rev = T.grad(lambda v: xp.sum(d1_rev(v)))
    xin = jnp.asarray(x) if M is JM else x
    out = {"d1_rev": d1_rev(xin), "d1_fwd": d1_fwd(xin), "d2_rev": d2_rev(xin),
           "d2_fwd": T.jvp(d1_fwd, (xin,), (jnp.asarray(one) if M is JM else one,))[1]}
    return {k: np.asarray(v) for k, v in out.items()}


def subnormal(v):
    v = np.abs(np.asarray(v, dtype=np.float64))
    return (v > 0) & (v < np.finfo(np.float64).tiny)


# fuzz45: mpmath definitions settling a finite slope of ours where both of JAX's modes are nan
# (its formula overflows: log1mexp'' at x = 1e8 is -exp(-1e8) / (1 - exp(-1e8))^2, -0.0 in
# float64; JAX's inf / inf)
def _mp_fn(name):
    import mpmath as mp
    return {"log1mexp": lambda v: mp.log(1 - mp.exp(-v)),
            "softplus": lambda v: mp.log(1 + mp.exp(v)),
            "log_sigmoid": lambda v: -mp.log(1 + mp.exp(-v)),
            "sigmoid": lambda v: 1 / (1 + mp.exp(-v))}.get(name)


def _mp_slope(name, x, order):
    """The ``order``-th derivative of ``name`` at the finite float ``x`` by mpmath (None if
    the table has no definition of it)."""
    import mpmath as mp
    f = _mp_fn(name)
    if f is None or not np.isfinite(x):
        return None
    with mp.workdps(60):
        return float(mp.diff(f, mp.mpf(float(x)), order))


def _squareplus_slope(x, b, order):
    """squareplus's first or second derivative at the finite ``x`` (mpmath, no overflow)."""
    import mpmath as mp
    with mp.workdps(40):
        x, b = mp.mpf(float(x)), mp.mpf(b)
        r = mp.sqrt(x * x + b)
        return float((1 + x / r) / 2 if order == 1 else b / (2 * r ** 3))


def check_elementwise(case):
    x = case.args[0]
    if not (isinstance(x, np.ndarray) and x.dtype == np.float64) or x.size == 0:
        return
    rest = case.args[1:]
    if any(isinstance(r, np.ndarray) for r in rest):
        return  # (array parameters: the generic checks)

    def fj(v):
        return case.fn(JM, v, *rest)

    def ff(v):
        return case.fn(FM, v, *rest)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sj = _slopes(JM, fj, x)
        sf = _slopes(FM, ff, x)
    flat = x.reshape(-1)
    yv_f = np.asarray(ff(x), dtype=np.float64).reshape(-1)
    yv_j = np.asarray(fj(jnp.asarray(x)), dtype=np.float64).reshape(-1)
    for k in ("d1_rev", "d1_fwd", "d2_rev", "d2_fwd"):
        a, b = sf[k].reshape(-1), sj[k].reshape(-1)
        other = sj[k.replace("rev", "X").replace("fwd", "rev").replace("X", "fwd")].reshape(-1)
        for i in range(flat.size):
            if np.isnan(yv_f[i]) and np.isnan(yv_j[i]):
                count(f"{case.name}:nan-value")   # (a derivative where the value is nan)
                continue
            if np.isnan(flat[i]) or subnormal(flat[i]):
                # (XLA on CPU flushes subnormal numbers to zero; the derivative at a nan
                # input is a convention: functrans's forward and reverse agree, below)
                count(f"{case.name}:{'nan' if np.isnan(flat[i]) else 'subnormal'}-input")
                continue
            ok, msg = close(a[i:i + 1], b[i:i + 1], 1e-11)
            if ok:
                continue
            if case.name == "celu" and flat[i] == 0 and k.startswith("d2"):
                # (functrans's celu''(0) is the left limit 1 / alpha, kept (note40); JAX's
                # 0.25 / alpha comes from its max/min ties' halves, neither side's value)
                count("celu:jax-tie-halves")
                want = 1.0 / case.params.get("alpha", 1.0)
                if a[i] != want:
                    fail(case.name, case, f"{k} at 0: functrans {a[i]!r} vs the left limit "
                                          f"{want!r}")
                continue
            if case.name in INF_SLOPES and np.isinf(flat[i]) and not np.isfinite(b[i]):
                count(case.name + ":jax-overflow")
                want = INF_SLOPES[case.name][int(np.sign(flat[i]))][k.startswith("d2")]
                if a[i] != want:
                    fail(case.name, case, f"{k} at x={flat[i]!r}: functrans {a[i]!r} vs the "
                                          f"limit {want!r} (JAX {b[i]!r})")
                continue
            if case.name == "squareplus" and np.isfinite(flat[i]) and abs(flat[i]) > 1e154:
                # fuzz52: JAX's slope (1 + x / sqrt(x^2 + b)) / 2 squares x: from |x| =
                # 1.4e154 x^2 is inf, and its slope at x = -1e300 is 0.5 where the true one is
                # b / (4 x^2) -> 0; the reference is the same formula in mpmath
                ref = _squareplus_slope(flat[i], float(case.params.get("b", 4.0)),
                                        2 if k.startswith("d2") else 1)
                count("squareplus:jax-overflow-slope")
                if not close(a[i:i + 1], np.array([ref]), 1e-11)[0]:
                    fail(case.name, case, f"{k} at x={flat[i]!r}: functrans {a[i]!r} vs "
                                          f"mpmath's {ref!r} (JAX {b[i]!r})")
                continue
            if np.isnan(b[i]) and np.isnan(other[i]) and np.isfinite(a[i]):
                ref = _mp_slope(case.name, flat[i], 2 if k.startswith("d2") else 1)
                if ref is not None and close(a[i:i + 1], np.array([ref]), 1e-11)[0]:
                    count(f"{case.name}:jax-nan-slope")   # (ours is mpmath's)
                    continue
            ok2, _ = close(a[i:i + 1], other[i:i + 1], 1e-11)
            if ok2:
                count(f"{case.name}:jax-modes-differ")
                if VERBOSE:
                    print(f"  jax modes differ {case.name} {k} at x={flat[i]!r}: ft {a[i]!r}, "
                          f"jax {b[i]!r} / {other[i]!r}")
                continue
            fail(case.name, case, f"{k} at x={flat[i]!r}: functrans {a[i]!r} vs JAX {b[i]!r} "
                                  f"(JAX's other mode {other[i]!r})")
    # forward vs reverse in functrans
    for o in ("d1", "d2"):
        ok, msg = close(sf[o + "_fwd"], sf[o + "_rev"], 1e-12)
        if not ok:
            fail(case.name, case, f"functrans {o} forward vs reverse: {msg}")
    # central differences at finite points away from the kinks
    y0 = np.asarray(ff(x), dtype=np.float64).reshape(-1)
    for i in range(flat.size):
        v = float(flat[i])
        if not np.isfinite(v) or abs(v) > 1e6 or not np.isfinite(y0[i]):
            continue
        h = 1e-6 * max(1.0, abs(v))
        if any(abs(v - k) < 2 * h for k in case.kinks):
            continue
        pm = np.asarray(ff(np.array([v + h, v - h, v + 2 * h, v - 2 * h])),
                        dtype=np.float64)
        d = (8 * (pm[0] - pm[1]) - (pm[2] - pm[3])) / (12 * h)
        got = sf["d1_rev"].reshape(-1)[i]
        if not np.isfinite(d) or abs(got - d) > 1e-6 * max(1.0, abs(d)):
            fail(case.name, case, f"d1 at x={v!r}: {got!r} vs central differences {d!r}")


# -- generic derivative checks (finite inputs) -----------------------------------------------

def jax_try(thunk, case, default):
    if getattr(case, "jax_no_grad", False):
        count(case.name + ":jax-deriv-not-compared")
        return default
    try:
        return thunk()
    except Exception:  # noqa: BLE001
        count(case.name + ":jax-deriv-raised")
        return default


def _glu_exact_ok(case, x, got, t=None, u=None):
    """fuzz52: where functrans's glu jvp (tangent ``t``) or vjp (cotangent ``u``) differs from
    JAX's, whether it is mpmath's to 1e-12. JAX's sigmoid slope s (1 - s) cancels for a
    large gate b (1.7e-10 relative at b = 14.08, seed 44030 it 7); functrans's is
    s sigmoid(-b)."""
    import mpmath as mp
    a, b = np.split(np.asarray(x, np.float64), 2, axis=case.params["axis"])
    with mp.workdps(40):
        sig = np.vectorize(lambda v: 1 / (1 + mp.exp(-mp.mpf(float(v)))), otypes=[object])
        sb, sn = sig(b), sig(-b)
        A = np.vectorize(lambda v: mp.mpf(float(v)), otypes=[object])(a)
        if t is not None:
            ta, tb = np.split(np.asarray(t, np.float64), 2, axis=case.params["axis"])
            ref = ta * sb + A * sb * sn * tb
        else:
            ref = np.concatenate([u * sb, u * A * sb * sn], axis=case.params["axis"])
        ref = np.vectorize(float, otypes=[np.float64])(ref)
    ok = close(np.asarray(got, np.float64), ref, 1e-12)[0]
    if ok:
        count("glu:jax-sigmoid-slope-cancels")
    return ok


def _squareplus_overflow_ok(case, primals, got, t=None, u=None, arg=0):
    """fuzz53: squareplus's jvp (tangents ``t``, one per primal) or vjp (cotangent ``u``,
    ``got`` the one of primal ``arg``) at finite points where JAX's slope (1 + x / sqrt(x^2
    + b)) / 2 overflows (|x| > 1.4e154: its slope at x = -1e300 is 0.5, the true one
    b / (4 x^2) -> 0; seed 44047 it 39), as the elementwise checks settle it (fuzz52):
    whether functrans's is mpmath's slopes times ``t`` or ``u`` to 1e-12 at every entry.
    fuzz54: also for an array b, the second primal (seed 44054 it 10: x = -1e300, JAX's jvp
    0.32, its vjp in x 0.914, functrans's -1.1e-301 and 0.0), whose slope is 1 / (4 sqrt(x^2
    + b))."""
    if case.name != "squareplus" or not 1 <= len(primals) <= 2:
        return False
    x = np.asarray(primals[0], np.float64)
    if len(primals) == 2:
        b = np.asarray(primals[1], np.float64)
    else:
        b = case.params.get("b", 4.0)
        if not isinstance(b, (int, float)):
            return False
    if not np.any(np.isfinite(x) & (np.abs(x) > 1e154)):
        return False
    slopes = [np.vectorize(lambda v, w: _squareplus_slope(v, float(w), 1),
                           otypes=[np.float64])(x, b)]
    if len(primals) == 2:
        slopes.append(np.vectorize(lambda v, w: _squareplus_slope_in_b(v, float(w)),
                                   otypes=[np.float64])(x, b))
    if t is not None:
        ref = sum(s * np.asarray(ti, np.float64) for s, ti in zip(slopes, t))
    else:
        ref = slopes[arg] * np.asarray(u, np.float64)
    ok = close(np.asarray(got, np.float64), ref, 1e-12)[0]
    if ok:
        count("squareplus:jax-overflow-slope")
    return ok


def _squareplus_slope_in_b(x, b):
    """d/db of squareplus at the finite ``x``: 1 / (4 sqrt(x^2 + b)) (mpmath, no overflow)."""
    import mpmath as mp
    with mp.workdps(40):
        x, b = mp.mpf(float(x)), mp.mpf(b)
        return float(1 / (4 * mp.sqrt(x * x + b)))


def _excluded_nan_ok(case, got, jax_value, tol):
    """fuzz52: logsumexp with where= and b: JAX's derivative in an entry the mask leaves
    out is nan where that entry's exp(a - max of the kept ones) overflows (inf times the
    mask's 0: a = -0.25 beside a kept -745, seed 44034 it 35); functrans's is 0 (the
    excluded entries have no derivative, documented). Accepted where JAX's nans stand on
    functrans's zeros and the rest agrees, the mask leaving something out."""
    if case.name != "logsumexp" or not case.params.get("where"):
        return False
    mask = next((a for a in case.args if isinstance(a, np.ndarray) and a.dtype == bool), None)
    if mask is None or mask.all():
        return False
    a, b = np.asarray(got, np.float64), np.asarray(jax_value, np.float64)
    swap = np.isnan(b) & (a == 0.0)
    if not swap.any() or not close(a, np.where(swap, a, b), tol)[0]:
        return False
    count("logsumexp:jax-nan-excluded")
    return True


def check_transforms(case, rng):
    pos = diff_positions(case)
    if not pos or any(isinstance(a, np.ndarray) and a.dtype.name in (
            "float32", "float16", "bfloat16") for a in case.args):
        return
    args = case.args
    dtol = getattr(case, "dtol", 1e-10)
    primals = [args[p] for p in pos]
    f_f = float_leaves_fn(partial_fn(case, FM, pos), FM)
    f_j = float_leaves_fn(partial_fn(case, JM, pos), JM)
    y_f = [np.asarray(o) for o in f_f(*primals)]
    if not y_f or any(o.dtype != np.float64 for o in y_f):
        return
    if any(not np.all(np.isfinite(p)) for p in primals) or any(
            not np.all(np.isfinite(o)) for o in y_f):
        return  # (infinite points: the elementwise checks compare them)
    if getattr(case, "max_abs", None) is not None and any(
            np.max(np.abs(p), initial=0) > case.max_abs for p in primals):
        return
    if any(np.any(subnormal(p)) for p in primals):
        count(case.name + ":subnormal-input")   # (XLA flushes them to zero)
        return
    tans = [rng.standard_normal(p.shape) for p in primals]
    _, t_f = ft.jvp(f_f, tuple(primals), tuple(tans))
    t_j = jax_try(lambda: jax.jvp(f_j, tuple(jnp.asarray(p) for p in primals),
                                  tuple(jnp.asarray(t) for t in tans))[1], case, ())
    for i, (a, b) in enumerate(zip(t_f, t_j)):
        ok, msg = close(np.asarray(a), np.asarray(b), dtol)
        if not ok and case.name == "glu" and _glu_exact_ok(case, primals[0], a, t=tans[0]):
            continue
        if not ok and _squareplus_overflow_ok(case, primals, a, t=tans):
            continue
        if not ok:
            fail(case.name, case, f"jvp out {i} vs jax: {msg}")
    if case.fd and not case.elementwise and max(float(np.max(np.abs(p), initial=0)) for p in primals) < 1e6:
        h = 1e-6 * max(1.0, max(float(np.max(np.abs(p), initial=0)) for p in primals))
        plus = f_f(*[p + h * t for p, t in zip(primals, tans)])
        minus = f_f(*[p - h * t for p, t in zip(primals, tans)])
        for i, (a, pl, mi) in enumerate(zip(t_f, plus, minus)):
            if i >= getattr(case, "fd_outputs", len(t_f)):
                break   # (outputs without derivative by design: the attention residual)
            d = (np.asarray(pl) - np.asarray(mi)) / (2 * h)
            fin = np.isfinite(d)
            ok, msg = close(np.where(fin, np.asarray(a), 0), np.where(fin, d, 0), 3e-5)
            if not ok:
                fail(case.name, case, f"jvp out {i} vs central differences: {msg}")
    us = [rng.standard_normal(np.shape(y)) for y in y_f]
    _, vjp_f = ft.vjp(f_f, *primals)
    ct_f = vjp_f(tuple(us))
    ct_j = jax_try(lambda: jax.vjp(f_j, *(jnp.asarray(p) for p in primals))[1](
        tuple(jnp.asarray(u) for u in us)), case, None)
    if ct_j is not None:
        for i, (a, b) in enumerate(zip(ct_f, ct_j)):
            ok, msg = close(np.asarray(a), np.asarray(b), dtol)
            if not ok and case.name == "glu" and _glu_exact_ok(case, primals[0], a, u=us[0]):
                continue
            if not ok:
                ok = _excluded_nan_ok(case, a, b, dtol) or \
                    _squareplus_overflow_ok(case, primals, a, u=us[0], arg=i)
            if not ok:
                fail(case.name, case, f"vjp arg {pos[i]} vs jax: {msg}")
    lhs = sum(float(np.sum(u * np.asarray(t))) for u, t in zip(us, t_f))
    rhs = sum(float(np.sum(np.asarray(c) * t)) for c, t in zip(ct_f, tans))
    if not np.isclose(lhs, rhs, rtol=1e-9, atol=1e-9 * (1 + abs(lhs))):
        fail(case.name, case, f"dot-product identity {lhs} vs {rhs}")

    def loss(fn, xp):
        def g(*a):
            return sum(xp.sum(xp.tanh(y) * u) for y, u in zip(fn(*a), us))
        return g
    argn = tuple(range(len(pos)))
    gf = ft.grad(loss(f_f, fnp), argnums=argn)
    g_f = gf(*primals)
    g_j = jax_try(lambda: jax.grad(loss(f_j, jnp), argnums=argn)(
        *(jnp.asarray(p) for p in primals)), case, [])
    for i in range(len(g_j)):
        ok, msg = close(np.asarray(g_f[i]), np.asarray(g_j[i]), dtol)
        if not ok:
            ok = _excluded_nan_ok(case, g_f[i], g_j[i], dtol)
        if not ok:
            fail(case.name, case, f"grad arg {pos[i]} vs jax: {msg}")
    g_jit = ft.jit(gf)(*primals)
    for i in range(len(pos)):
        ok, msg = close(np.asarray(g_jit[i]), np.asarray(g_f[i]), 1e-10)
        if not ok:
            fail(case.name, case, f"jit(grad) arg {pos[i]} vs grad: {msg}")
    if case.vmappable:
        p0 = primals[0]
        pb = np.stack([p0, p0 + 0.25 * rng.standard_normal(p0.shape)])
        vg = ft.jit(ft.vmap(lambda x0, *r: gf(x0, *r),
                            in_axes=(0,) + (None,) * (len(pos) - 1)))(pb, *primals[1:])
        for k in range(2):
            want = gf(pb[k], *primals[1:])
            for i in range(len(pos)):
                ok, msg = close(np.asarray(vg[i])[k], np.asarray(want[i]), 1e-9)
                if not ok:
                    fail(case.name, case, f"jit(vmap(grad)) member {k} arg {pos[i]}: {msg}")
    nin = sum(p.size for p in primals)
    nout = sum(np.size(y) for y in y_f)
    if nin * nout <= 900 and rng.random() < 0.6:
        jf = ft.jacfwd(f_f, argnums=argn)(*primals)
        jr = ft.jacrev(f_f, argnums=argn)(*primals)
        for a, b in zip(leaves(jf), leaves(jr)):
            ok, msg = close(np.asarray(a), np.asarray(b), 1e-10)
            if not ok:
                fail(case.name, case, f"jacfwd vs jacrev: {msg}")
                break
    if nin <= 30 and rng.random() < 0.5:
        hf = ft.hessian(loss(f_f, fnp), argnums=argn)(*primals)
        hj = jax_try(lambda: jax.hessian(loss(f_j, jnp), argnums=argn)(
            *(jnp.asarray(p) for p in primals)), case, None)
        for a, b in zip(leaves(hf), leaves(hj) if hj is not None else []):
            ok, msg = close(np.asarray(a), np.asarray(b), 100 * dtol)
            if not ok:
                ok = _excluded_nan_ok(case, a, b, 100 * dtol)
            if not ok:
                fail(case.name, case, f"hessian vs jax: {msg}")
                break


# -- generators ------------------------------------------------------------------------------

def pick(rng, seq):
    return seq[int(rng.integers(0, len(seq)))]


def pick_dtype(rng):
    return pick(rng, FLOATS * 3 + INTS)


# name -> (parameter drawers, kinks)
UNARY = {
    "relu": ({}, (0.0,)), "relu6": ({}, (0.0, 6.0)), "sigmoid": ({}, ()),
    "softplus": ({}, ()), "soft_sign": ({}, ()), "silu": ({}, ()), "swish": ({}, ()),
    "log_sigmoid": ({}, ()),
    "leaky_relu": ({"negative_slope": lambda r: pick(r, [0.01, 0.2, -0.5, 0.0, 1.5])}, (0.0,)),
    "hard_tanh": ({}, (-1.0, 1.0)), "hard_sigmoid": ({}, (-3.0, 3.0)),
    "hard_silu": ({}, (-3.0, 3.0)), "hard_swish": ({}, (-3.0, 3.0)),
    "elu": ({"alpha": lambda r: pick(r, [1.0, 0.5, 2.0, -1.0, 0.0])}, (0.0,)),
    "celu": ({"alpha": lambda r: pick(r, [1.0, 0.5, 2.0, 3.0])}, (0.0,)),
    "selu": ({}, (0.0,)),
    "gelu": ({"approximate": lambda r: bool(r.random() < 0.5)}, ()),
    "squareplus": ({"b": lambda r: pick(r, [4, 4.0, 1.0, 0.25, 10])}, ()),
    "mish": ({}, ()), "sparse_plus": ({}, (-1.0, 1.0)), "sparse_sigmoid": ({}, (-1.0, 1.0)),
    "log1mexp": ({}, (0.0,)), "identity": ({}, ()), "tanh": ({}, ()),
}
# parameters that may be passed as float64 arrays (broadcast with x; differentiated too)
ARRAY_PARAMS = {"leaky_relu": "negative_slope", "elu": "alpha", "celu": "alpha",
                "squareplus": "b"}


def gen_unary(rng):
    name = pick(rng, list(UNARY))
    drawers, kinks = UNARY[name]
    params = {k: d(rng) for k, d in drawers.items()}
    dt = pick_dtype(rng)
    shape = rshape(rng, hi=5)
    special = pick(rng, [0.0, 0.3, 0.7])
    array_param = (name in ARRAY_PARAMS and dt == "float64" and rng.random() < 0.3)
    pname = ARRAY_PARAMS.get(name)

    def gen(rng):
        x = rand(rng, shape, dt, special, kinks)
        if array_param:
            lo = 0.3 if name in ("celu", "squareplus") else -1.0
            return [x, rng.uniform(lo, 2.0, size=shape)]
        return [x]

    def fn(M, x, *p):
        kw = dict(params)
        if p:
            kw[pname] = p[0]
        return getattr(M.nn, name)(x, **kw)
    c = Case(name, params, fn, gen, rng, elementwise=True, kinks=kinks)
    if name == "log1mexp":
        c.max_abs = None
    return c


def gen_softmax(rng):
    name = pick(rng, ["softmax", "log_softmax"])
    r = int(rng.integers(0, 4))
    shape = rshape(rng, r, hi=4)
    axes_pool = [None] + list(range(-r, r)) if r else [None]
    if r >= 2:
        axes_pool.append(tuple(sorted(int(a) for a in rng.permutation(r)[:2])))
    axis = pick(rng, axes_pool) if r else None
    if axis is None and r and rng.random() < 0.5:
        axis = -1
    dt = pick(rng, FLOATS * 2 + ["int32", "bool"])
    special = pick(rng, [0.0, 0.0, 0.2, 0.5])
    use_where = rng.random() < 0.4
    wshape = tuple(s if rng.random() < 0.7 else 1 for s in shape)

    def gen(rng):
        x = rand(rng, shape, dt, special, scale=pick(rng, [1.0, 3.0, 50.0]))
        if use_where:
            return [x, np.asarray(rng.random(wshape) < 0.7)]
        return [x]

    def fn(M, x, *w):
        kw = {} if axis == -1 and rng_default else {"axis": axis}
        if w:
            kw["where"] = w[0]
        return getattr(M.nn, name)(x, **kw)
    rng_default = bool(rng.random() < 0.3)
    return Case(name, dict(axis=axis, where=use_where, wshape=wshape), fn, gen, rng)


def gen_logsumexp(rng):
    r = int(rng.integers(0, 4))
    shape = rshape(rng, r, hi=4)
    axis = pick(rng, [None] + list(range(-r, r)) + (
        [tuple(sorted(int(a) for a in rng.permutation(r)[:2]))] if r >= 2 else []))
    dt = pick(rng, FLOATS * 2 + ["int32"])
    special = pick(rng, [0.0, 0.0, 0.2])
    use_b = rng.random() < 0.4
    b_neg = rng.random() < 0.4
    keepdims = bool(rng.random() < 0.4)
    return_sign = bool(rng.random() < 0.3)
    use_where = rng.random() < 0.35
    wshape = tuple(s if rng.random() < 0.7 else 1 for s in shape)

    def gen(rng):
        out = [rand(rng, shape, dt, special)]
        if use_b:
            b = rng.uniform(-1.0 if b_neg else 0.0, 2.0, size=shape)
            if b.size and rng.random() < 0.3:
                b.reshape(-1)[0] = 0.0
            out.append(b)
        if use_where:
            out.append(np.asarray(rng.random(wshape) < 0.7))
        return out

    def fn(M, a, *rest):
        kw = dict(axis=axis, keepdims=keepdims, return_sign=return_sign)
        rest = list(rest)
        if use_b:
            kw["b"] = rest.pop(0)
        if use_where:
            kw["where"] = rest.pop(0)
        return M.nn.logsumexp(a, **kw)
    c = Case("logsumexp", dict(axis=axis, b=use_b, b_neg=b_neg, keepdims=keepdims,
                               return_sign=return_sign, where=use_where), fn, gen, rng)
    if use_b and np.any(c.args[1] == 0.0):
        # JAX's derivative in a zero weight b_i is 0 (true: exp(a_i) / sum b exp(a), as
        # central differences say): compared with those and the dot-product identity only
        c.jax_no_grad = True
    return c


def gen_logmeanexp(rng):
    r = int(rng.integers(0, 4))
    shape = rshape(rng, r, hi=4)
    axis = pick(rng, [None] + list(range(-r, r)) + (
        [tuple(sorted(int(a) for a in rng.permutation(r)[:2]))] if r >= 2 else []))
    dt = pick(rng, FLOATS * 2 + ["int32"])
    special = pick(rng, [0.0, 0.0, 0.2])
    keepdims = bool(rng.random() < 0.4)
    use_where = rng.random() < 0.35
    wshape = tuple(s if rng.random() < 0.7 else 1 for s in shape)

    def gen(rng):
        out = [rand(rng, shape, dt, special)]
        if use_where:
            out.append(np.asarray(rng.random(wshape) < 0.7))
        return out

    def fn(M, x, *w):
        kw = dict(axis=axis, keepdims=keepdims)
        if w:
            kw["where"] = w[0]
        return M.nn.logmeanexp(x, **kw)
    return Case("logmeanexp", dict(axis=axis, keepdims=keepdims, where=use_where), fn, gen,
                rng)


def gen_standardize(rng):
    r = int(rng.integers(1, 4))
    shape = rshape(rng, r, hi=4)
    axis = pick(rng, [-1, None] + list(range(-r, r)) + (
        [tuple(sorted(int(a) for a in rng.permutation(r)[:2]))] if r >= 2 else []))
    dt = pick(rng, FLOATS * 2 + ["int32"])
    special = pick(rng, [0.0, 0.0, 0.0, 0.15])
    algorithm = pick(rng, ["stable", "fast"])
    give_mean = rng.random() < 0.25
    give_var = rng.random() < 0.25
    # (epsilon 0 with the fast algorithm: a constant slice's 0 / sqrt(rounding) is JAX's
    # luck, 0 or nan)
    epsilon = pick(rng, [1e-5, 1e-5, 0.1, 0.0 if algorithm == "stable" else 1e-5])
    use_where = rng.random() < 0.3
    wshape = tuple(s if rng.random() < 0.7 else 1 for s in shape)
    if axis is None:
        red = tuple(range(r))
    else:
        red = tuple(a % r for a in ((axis,) if isinstance(axis, int) else axis))
    sshape = tuple(1 if i in red else s for i, s in enumerate(shape))

    def gen(rng):
        out = [rand(rng, shape, dt, special, scale=pick(rng, [1.0, 3.0]))]
        if give_mean:
            out.append(rng.standard_normal(sshape))
        if give_var:
            out.append(rng.uniform(0.2, 2.0, size=sshape))
        if use_where:
            out.append(np.asarray(rng.random(wshape) < 0.75))
        return out

    def fn(M, x, *rest):
        rest = list(rest)
        kw = dict(axis=axis, epsilon=epsilon, algorithm=algorithm)
        if give_mean:
            kw["mean"] = rest.pop(0)
        if give_var:
            kw["variance"] = rest.pop(0)
        if use_where:
            kw["where"] = rest.pop(0)
        return M.nn.standardize(x, **kw)
    c = Case("standardize", dict(axis=axis, algorithm=algorithm, mean=give_mean,
                                 variance=give_var, epsilon=epsilon, where=use_where), fn,
             gen, rng)
    if algorithm == "fast":
        c.tol = 1e-8   # (mean(x^2) - mean^2 rounds differently in each library's sums)
        c.fast_variance = True
        c.fd = False
    if epsilon == 0.0:
        c.fd = False   # (a row of equal entries: 0 / 0)
    return c


def gen_glu(rng):
    r = int(rng.integers(1, 4))
    shape = list(rshape(rng, r, hi=3))
    axis = int(rng.integers(-r, r))
    if rng.random() < 0.9:
        shape[axis] = 2 * max(shape[axis], 1) if rng.random() < 0.9 else 0
    shape = tuple(shape)
    dt = pick(rng, FLOATS * 2 + ["int32"])
    special = pick(rng, [0.0, 0.3])

    def gen(rng):
        return [rand(rng, shape, dt, special)]
    return Case("glu", dict(axis=axis), lambda M, x: M.nn.glu(x, axis=axis), gen, rng)


def gen_one_hot(rng):
    r = int(rng.integers(0, 3))
    shape = rshape(rng, r, hi=4)
    nc = int(rng.integers(0, 6))
    dt = pick(rng, ["int32", "int64", "int8", "uint8", "float64", "float32", "int32"])
    odt = pick(rng, [None, None, "float32", "int32", "bool", "float16", "float64", "int8"])
    axis = int(rng.integers(-(r + 1), r + 1))
    if rng.random() < 0.05:
        axis = r + 1

    def gen(rng):
        x = rng.integers(-2, nc + 2, size=shape)
        if dt[0] == "f":
            x = x.astype(np.float64)
            if x.size and rng.random() < 0.5:
                pool = [np.nan, np.inf, -np.inf, 0.5, 1.5, -0.0, 2.0000000001]
                x.reshape(-1)[int(rng.integers(0, x.size))] = pick(rng, pool)
        with np.errstate(invalid="ignore"):
            return [np.asarray(x).astype(dt)]

    def fn(M, x):
        return M.nn.one_hot(x, nc, dtype=odt, axis=axis)
    return Case("one_hot", dict(nc=nc, dtype=odt, axis=axis), fn, gen, rng, value_only=True)


def gen_attention(rng):
    b = int(rng.integers(1, 3))
    t = int(rng.integers(1, 4))
    s = int(rng.integers(1, 4))
    kh = int(rng.integers(1, 3))
    n = kh * int(rng.integers(1, 3))
    h = int(rng.integers(1, 4))
    batched = rng.random() < 0.7
    dt = pick(rng, ["float64"] * 4 + ["float32", "float16"])
    use_bias = rng.random() < 0.3
    bshape = pick(rng, [(b, n, t, s), (1, n, t, s), (t, s), (n, t, s), (1, 1, 1, s)])
    if not batched and len(bshape) == 4:
        bshape = bshape[1:]
    use_mask = rng.random() < 0.3
    mshape = pick(rng, [(b, n, t, s), (1, 1, t, s), (t, s)])
    if not batched and len(mshape) == 4:
        mshape = mshape[1:]
    is_causal = bool(rng.random() < 0.3)
    scale = pick(rng, [None, None, 0.5, 2.0])
    qlen = rng.random() < 0.2 and batched
    kvlen = rng.random() < 0.2 and batched
    window = pick(rng, [None, None, None, 0, 1, (1, 0), (0, 2)])
    residual = bool(rng.random() < 0.3)
    qs = (b, t, n, h) if batched else (t, n, h)
    ks = (b, s, kh, h) if batched else (s, kh, h)

    def gen(rng):
        out = [rand(rng, qs, dt, scale=1.0), rand(rng, ks, dt, scale=1.0),
               rand(rng, ks, dt, scale=1.0)]
        if use_bias:
            out.append(rng.standard_normal(bshape).astype(dt))
        if use_mask:
            out.append(np.asarray(rng.random(mshape) < 0.6))
        if qlen:
            out.append(rng.integers(0, t + 1, size=(b,)).astype(np.int32))
        if kvlen:
            out.append(rng.integers(1, s + 1, size=(b,)).astype(np.int32))
        return out

    def fn(M, q, k, v, *rest):
        rest = list(rest)
        kw = dict(scale=scale, is_causal=is_causal, local_window_size=window)
        if residual:
            kw["return_residual"] = True
        if use_bias:
            kw["bias"] = rest.pop(0)
        if use_mask:
            kw["mask"] = rest.pop(0)
        if qlen:
            kw["query_seq_lengths"] = rest.pop(0)
        if kvlen:
            kw["key_value_seq_lengths"] = rest.pop(0)
        out = M.nn.dot_product_attention(q, k, v, **kw)
        if residual and M is JM:   # (JAX's fill where a query keeps no key: functrans's -inf)
            out = (out[0], jnp.where(out[1] < -1e38, -jnp.inf, out[1]))
        return out
    c = Case("attention", dict(b=b, t=t, s=s, n=n, kh=kh, h=h, batched=batched, bias=use_bias,
                               bshape=bshape, mask=use_mask, mshape=mshape, causal=is_causal,
                               scale=scale, qlen=qlen, kvlen=kvlen, window=window,
                               residual=residual), fn, gen,
             rng)
    # JAX's softmax of the logits is float32 whatever the inputs' dtype (a float64
    # attention is float32-accurate there): float64 compared to 1e-6 of JAX (and exactly by
    # central differences and the dot-product identity)
    c.tol = 1e-2 if dt == "float16" else 2e-6 if dt == "float64" else None
    c.dtol = 2e-6
    c.fd_outputs = 1   # (the residual has no derivative, as JAX's)
    return c


def gen_init(rng):
    """An initializer of functrans.nn.initializers and jax.nn.initializers on the same key:
    errors, shape and dtype; values equal (the uniform kinds: JAX's bits) or to rounding
    (the normal kinds: functrans's normals agree with JAX's to rounding). float16 and
    bfloat16 (random41; bfloat16 on a torch key): to a few half ulps (HALF_ULPS); orthogonal
    and delta_orthogonal in them, which JAX refuses, checked for orthonormality. Complex
    orthogonal and delta_orthogonal: JAX's values to rounding."""
    return _gen_init(rng, ["zeros", "ones", "constant", "uniform", "normal",
                           "truncated_normal", "variance_scaling", "glorot_uniform",
                           "glorot_normal", "lecun_uniform", "lecun_normal", "he_uniform",
                           "he_normal", "orthogonal", "delta_orthogonal"])


# the initializers JAX names twice (fuzz48's init48 draws the second names)
INIT_ALIASES = {"kaiming_uniform": "he_uniform", "kaiming_normal": "he_normal",
                "xavier_uniform": "glorot_uniform", "xavier_normal": "glorot_normal"}


def gen_init48(rng):
    """fuzz48: the initializers' second names (kaiming_*, xavier_*), which no generator
    drew, as gen_init draws the first."""
    return _gen_init(rng, list(INIT_ALIASES))


def gen_complex56(rng):
    """fuzz56: logsumexp / logmeanexp of complex numbers (a = ar + i ai), with real or
    complex weights b, where=, axis, keepdims, return_sign; outputs as real and imaginary
    parts, so that every real check (derivatives, jit, vmap) applies to the holomorphic
    function. Finite entries (JAX's are nan at infinite real parts, and it turns a sum on
    pi into -pi: the lax fuzzer's mpmath referee covers those); sometimes a real part
    -inf (an entry adding nothing)."""
    kind = pick(rng, ["logsumexp", "logsumexp", "logmeanexp"])
    r = int(rng.integers(1, 4))
    shape = rshape(rng, r, hi=4)
    axis = pick(rng, [None] + list(range(-r, r)))
    dt = pick(rng, ["float64", "float64", "float32"])
    keepdims = bool(rng.random() < 0.4)
    return_sign = kind == "logsumexp" and bool(rng.random() < 0.3)
    use_b = kind == "logsumexp" and rng.random() < 0.4
    b_complex = use_b and rng.random() < 0.5
    use_where = rng.random() < 0.35
    neg_inf = rng.random() < 0.2
    wshape = tuple(s if rng.random() < 0.7 else 1 for s in shape)

    def gen(rng):
        ar, ai = rand(rng, shape, dt, scale=2.0), rand(rng, shape, dt, scale=2.0)
        if neg_inf and ar.size:
            ar.reshape(-1)[int(rng.integers(0, ar.size))] = -np.inf
        out = [ar, ai]
        if use_b:
            out.append(rng.uniform(-1.0, 2.0, size=shape))
            if b_complex:
                out.append(rng.uniform(-1.0, 1.0, size=shape))
        if use_where:
            out.append(np.asarray(rng.random(wshape) < 0.7))
        return out

    def fn(M, ar, ai, *rest):
        a = M.np.asarray(ar) + 1j * M.np.asarray(ai)
        rest = list(rest)
        kw = dict(axis=axis, keepdims=keepdims)
        if use_b:
            b = rest.pop(0)
            kw["b"] = b + 1j * rest.pop(0) if b_complex else b
        if use_where:
            kw["where"] = rest.pop(0)
        if kind == "logmeanexp":
            out = M.nn.logmeanexp(a, **kw)
            return M.np.real(out), M.np.imag(out)
        out = M.nn.logsumexp(a, return_sign=return_sign, **kw)
        if return_sign:
            return out[0], M.np.real(out[1]), M.np.imag(out[1])
        return M.np.real(out), M.np.imag(out)
    c = Case(kind + ":complex", dict(axis=axis, dt=dt, keepdims=keepdims,
                                     return_sign=return_sign, b=use_b, b_complex=b_complex,
                                     where=use_where, neg_inf=neg_inf), fn, gen, rng,
             diff=(0, 1))
    # JAX 0.10.2's complex sign s / |s| has no derivative (a stop_gradient: 2-3 off central
    # differences, which functrans's meets to 1e-9, seed 44064 it 11 and 25): compared with
    # those and the dot-product identity only
    c.jax_no_grad = return_sign
    return c


def _gen_init(rng, kinds):
    import jax.nn.initializers as ji
    import functrans.nn.initializers as fi
    name = pick(rng, kinds)
    kind = INIT_ALIASES.get(name, name)  # (what it draws, for the checks below)
    rank = int(rng.integers(0, 6)) if kind != "delta_orthogonal" else int(rng.integers(2, 6))
    shape = rshape(rng, rank, hi=4)
    dt = pick(rng, ["float64", "float64", "float32", "complex128", "complex64", "float16",
                    "bfloat16"])
    seed = int(rng.integers(0, 2 ** 31))
    # (bfloat16 needs a torch key; float16 on torch at times)
    on_torch = dt == "bfloat16" or (dt == "float16" and rng.random() < 0.3)
    args = ()
    kw = {}
    if kind == "constant":
        args = (float(rng.standard_normal()),)
    elif kind in ("uniform", "normal"):
        args = (float(rng.uniform(0.1, 2.0)),)
    elif kind == "truncated_normal":
        args = (float(rng.uniform(0.1, 2.0)),)
        if rng.random() < 0.5:
            kw = dict(lower=-1.0, upper=float(rng.uniform(0.5, 3.0)))
    elif kind == "variance_scaling":
        args = (float(rng.uniform(0.1, 3.0)), pick(rng, ["fan_in", "fan_out", "fan_avg",
                                                        "fan_geo_avg"]),
                pick(rng, ["truncated_normal", "normal", "uniform"]))
    elif kind in ("orthogonal", "delta_orthogonal"):
        args = (float(rng.uniform(0.5, 2.0)),)
    if kind in ("variance_scaling", "glorot_uniform", "glorot_normal", "lecun_uniform",
                "lecun_normal", "he_uniform", "he_normal") and rank and rng.random() < 0.4:
        kw = dict(in_axis=int(rng.integers(-rank, rank)), out_axis=int(rng.integers(-rank, rank)))
        if rng.random() < 0.3 and rank >= 3:
            kw["batch_axis"] = (0,)
    if kind in ("orthogonal",) and rank and rng.random() < 0.4:
        kw = dict(column_axis=int(rng.integers(-rank, rank)))
    exact = kind in ("zeros", "ones", "constant", "uniform") or (
        "uniform" in kind or (kind == "variance_scaling" and args[2] == "uniform"))

    def fn(M, *unused):
        if M is JM:
            mod, key = ji, jax.random.PRNGKey(seed)
        else:
            import functrans.random as fr
            mod, key = fi, fr.PRNGKey(seed)
            if on_torch:
                import torch
                key = torch.asarray(np.asarray(key))
        obj = getattr(mod, name)
        init = obj if kind in ("zeros", "ones") else obj(*args, **kw)
        return init(key, shape, jnp.bfloat16 if dt == "bfloat16" else np.dtype(dt))
    c = Case("init:" + name, dict(args=args, kw=kw, shape=shape, dtype=dt, torch=on_torch),
             fn, lambda r: [], rng, value_only=True, vmappable=False)
    # (exact kinds: JAX's bits, up to the rounding of the scale's product in float32)
    c.tol = (2e-16 if exact else 1e-12) if dt in ("float64", "complex128") else (
        1.2e-7 if exact else 2e-6)
    if dt in ("float16", "bfloat16"):
        # (random41: in half ulps of JAX's value; JAX rounds the variance, its root and the
        # quotient by the truncated normal's deviation to the half type, functrans the scale
        # once; its normals are JAX's to an ulp, its truncated normals the correctly rounded
        # transform of JAX's uniforms, JAX's rounded at each step)
        family = ("truncated_normal" if "normal" in kind and kind != "normal" else kind) \
            if kind != "variance_scaling" else args[2]
        family = "uniform" if "uniform" in family else family
        c.half_ulps = HALF_ULPS.get((family, dt), 0)
        if family == "truncated_normal":
            # (JAX's uniform between the rounded erf bounds is off by an ulp of the bounds, a
            # large part of a draw near 0: 18 bfloat16 ulps of -0.004 at seed 19 it 0, where
            # functrans's is within 1 ulp of the exact transform of the same uniform)
            c.ulp_floor = 0.5
        c.ulp_key = f"{name}{'/' + args[2] if kind == 'variance_scaling' else ''}/{dt}"
    c.init_known = []
    if dt.startswith("complex") and kind in ("uniform", "truncated_normal"):
        c.init_known.append("no complex " + kind)  # (JAX refuses them too)
    if dt in ("float16", "bfloat16") and kind in ("orthogonal", "delta_orthogonal"):
        # (JAX has no half-precision QR: NotImplementedError; functrans's rows or columns
        # orthonormal to the half type's precision)
        c.jax_refuses_ok = lambda e: isinstance(e, NotImplementedError)
        c.own_check = _orthonormal_check(kind, shape, args[0], kw.get("column_axis", -1), dt)
    if dt.startswith("complex") and (kind in ("glorot_normal", "lecun_normal", "he_normal") or (
            kind == "variance_scaling" and args[2] != "normal")):
        # (JAX's complex truncated normal has 1.02 times the variance asked for; the disk
        # of "uniform" is drawn differently)
        c.skip_values = True
    if 0 in shape:
        c.skip_values = True   # (JAX divides by a zero fan: nan, or ZeroDivisionError)
        c.jax_refuses_ok = lambda e: isinstance(e, ZeroDivisionError)
    return c


# the largest distance in half ulps from JAX's value allowed, per kind of draw (zeros, ones,
# constant: none). Seen over seeds [0, 12) of --only init (random41): uniform 1, normal 2,
# truncated normal 4 (float16) and 12 (bfloat16), where functrans's are within 1.3 ulps of
# the exact transform of JAX's uniforms, JAX's 2.3 (float16) and 11 (bfloat16): see
# tests/test_s41_random41.py
HALF_ULPS = {("uniform", "float16"): 2, ("uniform", "bfloat16"): 2,
             ("normal", "float16"): 3, ("normal", "bfloat16"): 3,
             ("truncated_normal", "float16"): 6, ("truncated_normal", "bfloat16"): 16}


def _orthonormal_check(kind, shape, scale, column_axis, dt):
    """A check of functrans's half-type orthogonal or delta_orthogonal result (JAX refuses
    them): the matrix of the columns along ``column_axis`` (delta_orthogonal: the centre tap
    of the last two axes) has orthonormal rows or columns, times ``scale``."""
    def check(y):
        a = to_np(y)[0].astype(np.float64)
        if a.shape != shape or 0 in shape:
            return None if a.shape == shape else f"shape {a.shape}"
        if kind == "delta_orthogonal":
            centre = tuple((k - 1) // 2 for k in shape[:-2])
            rest = a.copy()
            rest[centre] = 0
            if np.any(rest):
                return "nonzero away from the centre tap"
            a, ax = a[centre], column_axis % 2
        else:
            ax = column_axis % len(shape)
        m = np.moveaxis(a, ax, -1).reshape(-1, a.shape[ax])
        g = m.T @ m if m.shape[0] >= m.shape[1] else m @ m.T
        eps = 2.0 ** -(11 if dt == "float16" else 8)
        err = np.abs(g - scale ** 2 * np.eye(len(g))).max()
        if err > 4 * eps * max(m.shape) * scale ** 2:
            return f"not orthonormal: {err:.3g} off the identity"
        return None
    return check


GENERATORS = {"unary": gen_unary, "softmax": gen_softmax, "logsumexp": gen_logsumexp,
              "logmeanexp": gen_logmeanexp, "standardize": gen_standardize, "glu": gen_glu,
              "one_hot": gen_one_hot, "attention": gen_attention, "init": gen_init}
WEIGHTS = {"unary": 8, "softmax": 3, "logsumexp": 2, "logmeanexp": 1, "standardize": 2,
           "glu": 1, "one_hot": 1, "attention": 2, "init": 2}
# drawn from a stream of their own, (seed, it, 48), every 4th iteration (every one under
# --only), so that the generators above draw as before they came
NEW_GENERATORS = {"init48": gen_init48}
# fuzz56's, from a stream of its own, (seed, it, 56), every 4th iteration from the 3rd (every
# one with --only complex56)
NEW56 = {"complex56": gen_complex56}


def main(argv=None):
    global VERBOSE
    a, its, verbose, names, new = generator_args(argv, GENERATORS,
                                                 {**NEW_GENERATORS, **NEW56})
    new56 = [n for n in new if n in NEW56]
    new = [n for n in new if n not in NEW56]
    VERBOSE = VERBOSE or verbose
    w = np.array([WEIGHTS[n] for n in names], float)
    w /= w.sum() if names else 1
    for seed in range(a.seed0, a.seed1):
        for it in (its or range(a.n)):
            draws = []
            if names:
                rng = np.random.default_rng((seed, it))  # (one stream per case: --case replays)
                draws.append((rng, names[int(rng.choice(len(names), p=w))]))
            if new and (not names or it % 4 == 1):
                rng = np.random.default_rng((seed, it, 48))
                draws.append((rng, new[int(rng.integers(0, len(new)))]))
            if new56 and ((not names and not new) or it % 4 == 2):
                draws.append((np.random.default_rng((seed, it, 56)), new56[0]))
            for rng, name in draws:
                try:
                    case = {**GENERATORS, **NEW_GENERATORS, **NEW56}[name](rng)
                except Exception as e:  # noqa: BLE001
                    fail(name, f"seed {seed} it {it}", f"generator raised {e!r}\n"
                                                       f"{traceback.format_exc(limit=-3)}")
                    continue
                case.params = dict(case.params, seed=seed, it=it)
                check_case(case, rng)
    print("half ulps:", dict(sorted(ULP_SEEN.items())))
    return TALLY.exit_status("counts:")


if __name__ == "__main__":
    sys.exit(main())
