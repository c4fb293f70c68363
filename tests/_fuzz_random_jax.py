"""random38's fuzzer: functrans.random against jax.random (x64, partitionable Threefry) on
seeded random calls of every public function: random keys (typed and raw, from seeds,
split, fold_in and wrap_key_data of random data), shapes (with () and 0-size), dtypes and
broadcasting parameters. A tool, not a test (JAX is not installed in CI;
tests/test_s38_random38.py keeps a selection):

    python -m tests._fuzz_random_jax 0 2000          # seeds [0, 2000)
    python -m tests._fuzz_random_jax 17 18 -v        # one seed, its call printed

float16 and bfloat16 (random40): bfloat16 cases run on torch (NumPy has none), their key and
array parameters torch tensors (a bfloat16 parameter is a :class:`BF16` here, a bfloat16
array for each library); a share of float16 cases run on torch too. JAX has no half-precision
linear algebra: multivariate_normal in half types is checked under jit and vmap only
(``jax=False``); orthogonal in half types against the float64 factorisation of JAX's half
uniforms' normals, rounded once (random41). Complex orthogonal (unitary) matrices: JAX's to
rounding.

Each case is checked four ways: eagerly against JAX (bits exactly for the functions that
claim JAX's bits, to a few ulp for the transcendental samplers, a two-sample
Kolmogorov-Smirnov test on large draws for the rejection samplers, whose values differ by
design); under functrans.jit (the key and array parameters as arguments) against eager; under
functrans.vmap over a batch of keys against a loop; and the same call refused or not by both.
"""
import math
import random
import sys
import traceback
import warnings

import numpy as np

from tests._fuzz_common import Tally

warnings.simplefilter("ignore")
TALLY = Tally()

EXACT = "exact"    # JAX's bits
ULP = "ulp"        # the same uniforms through the same transform: to rounding
DIST = "dist"      # the same distribution (rejection samplers): KS on large draws
SHAPE = "shape"    # only dtype and shape (values differ by design)


def _jax():
    import jax
    jax.config.update("jax_enable_x64", True)
    jax.config.update("jax_threefry_partitionable", True)
    import jax.random as jr
    return jax, jr


class Case:
    """One call: ``name`` of both modules, positional ``args`` and keyword ``kwargs`` as NumPy
    data (a key is given as its uint32 data plus whether it is typed); ``how`` to compare;
    ``rtol`` for ULP; ``arrays``: indices of args / names of kwargs that are arrays (the
    jit/vmap variants pass them as arguments)."""

    def __init__(self, name, args, kwargs, how, rtol=0.0, atol=0.0, vmap=True, jit=True,
                 torch=False, jax=True):
        self.name, self.args, self.kwargs = name, args, kwargs
        self.how, self.rtol, self.atol = how, rtol, atol
        self.vmap, self.jit = vmap, jit
        self.torch, self.jax = torch, jax  # (on torch; compared with JAX)

    def __repr__(self):
        def show(v):
            if isinstance(v, BF16):
                return f"BF16({show(v.a)})"
            if isinstance(v, np.ndarray):
                return f"np.array({v.tolist()!r}, dtype='{v.dtype}')"
            return repr(v)
        a = ", ".join(show(v) for v in self.args)
        kw = ", ".join(f"{k}={show(v)}" for k, v in self.kwargs.items())
        where = " torch" if self.torch else ""
        return f"{self.name}(key, {a}{', ' if a and kw else ''}{kw})  [{self.how}{where}]"


class BF16:
    """A bfloat16 array parameter (NumPy has none): float32 data ``a`` whose values are
    bfloat16's, made a torch bfloat16 tensor for functrans and a bfloat16 array for JAX."""

    def __init__(self, a):
        self.a = np.asarray(a, dtype=np.float32)
        import torch
        self.a = torch.tensor(self.a).bfloat16().float().numpy()  # (bfloat16 values)

    @property
    def shape(self):
        return self.a.shape


HALF = ("float16", "bfloat16")


def half_case(r, dt):
    """Whether a case of dtype ``dt`` runs on torch: bfloat16 always, float16 at times."""
    return dt == "bfloat16" or (dt == "float16" and r.random() < 0.3)


def half_param(p, dt):
    """A parameter drawn as float64 data as the dtype ``dt`` (BF16 for bfloat16)."""
    if not isinstance(p, np.ndarray) or dt is None:
        return p
    return BF16(p) if dt == "bfloat16" else p.astype(dt)


# tolerances of the half types' ULP cases: functrans's transforms are correctly rounded,
# JAX's round each operation (cauchy ~130 float16 ulp off beside its pole, gumbel ~400
# beside 0, truncated_normal's rounded erf of the bounds ~4 bfloat16 ulp)
R16, A16 = 0.15, 0.02
RB16, AB16 = 0.06, 0.04


def half_tol(dt, rtol, atol):
    """(rtol, atol) for ``dt``: the half types' loose ones, else those given."""
    return {"float16": (R16, A16), "bfloat16": (RB16, AB16)}.get(dt, (rtol, atol))


# -- random inputs ------------------------------------------------------------------------


def rand_seed(r):
    c = r.random()
    if c < 0.3:
        return r.randrange(0, 100)
    if c < 0.6:
        return r.randrange(0, 2 ** 64)
    if c < 0.8:
        return r.randrange(-2 ** 63, 0)
    return r.choice([0, 1, 2 ** 32 - 1, 2 ** 32, 2 ** 63 - 1, 2 ** 64 - 1, -1, -2 ** 63])


def rand_key_data(r):
    """uint32 data of shape (2,) and whether the key is typed."""
    import functrans.random as fr
    s = rand_seed(r)
    c = r.random()
    if c < 0.5:
        d = np.asarray(fr.PRNGKey(s))
    elif c < 0.7:
        d = np.asarray(fr.split(fr.PRNGKey(s), 3))[r.randrange(3)]
    elif c < 0.85:
        d = np.asarray(fr.fold_in(fr.PRNGKey(s), r.randrange(2 ** 32)))
    else:
        d = np.array([r.randrange(2 ** 32), r.randrange(2 ** 32)], dtype=np.uint32)
    return d.astype(np.uint32), r.random() < 0.5


def rand_shape(r, max_ndim=3, max_dim=5, zero=0.1):
    nd = r.choice(range(max_ndim + 1))
    return tuple(0 if r.random() < zero else r.randint(1, max_dim) for _ in range(nd))


def broadcast_to_shape(r, shape):
    """A shape that broadcasts to ``shape`` (a suffix, some axes 1)."""
    k = r.randint(0, len(shape))
    sub = list(shape[len(shape) - k:])
    return tuple(1 if r.random() < 0.3 else d for d in sub)


def rand_float(r, lo, hi, shape, dtype="float64"):
    return np.asarray(np.random.default_rng(r.randrange(2 ** 32)).uniform(lo, hi, shape),
                      dtype=dtype)


def param(r, lo, hi, shape, dtype="float64", scalar_p=0.4):
    """A parameter: a Python float or an array broadcasting to ``shape``."""
    if r.random() < scalar_p:
        return float(np.round(r.uniform(lo, hi), 3))
    return rand_float(r, lo, hi, broadcast_to_shape(r, shape), dtype)


FDT = ("float32", "float64")


def gen_case(r):
    """A random case (a name among the generators, weighted)."""
    g = r.choice(GENERATORS)
    return g(r)


def g_bits(r):
    return Case("bits", (rand_shape(r),), {"dtype": r.choice([None, "uint8", "uint16",
                                                             "uint32", "uint64"])}, EXACT)


def g_split(r):
    num = r.choice([2, 3, 0, 1, 7, (2, 3), (), (0,), (1, 4)])
    return Case("split", (num,), {}, EXACT)


def g_fold_in(r):
    data = r.choice([0, 1, 2 ** 32 - 1, r.randrange(2 ** 32)])
    if r.random() < 0.3:
        dt = r.choice(["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
                       "uint64"])
        info = np.iinfo(dt)
        data = np.asarray(r.randint(max(info.min, -2 ** 40), min(info.max, 2 ** 40)), dtype=dt)
    return Case("fold_in", (data,), {}, EXACT)


def g_uniform(r):
    shape = rand_shape(r)
    dt = r.choice(FDT + (None,) + HALF)
    kw = {"dtype": dt}
    if r.random() < 0.7:
        pdt = dt or "float64"
        kw["minval"] = half_param(param(r, -5, 2, shape), pdt)
        kw["maxval"] = half_param(param(r, 2.5, 9, shape), pdt)
        if r.random() < 0.15:  # reversed / equal / infinite bounds
            kw["minval"], kw["maxval"] = r.choice([(3.0, 1.0), (2.0, 2.0), (-math.inf, 1.0),
                                                   (0.0, math.inf), (-1e308, 1e308),
                                                   (1e-300, 2e-300), (-8.0, 8.0)])
    return Case("uniform", (shape,), kw, EXACT, torch=half_case(r, dt))


INT_DT = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32")


def g_randint(r):
    shape = rand_shape(r)
    dt = r.choice(INT_DT + (None,))
    info = np.iinfo(dt or "int64")

    def bound():
        c = r.random()
        if c < 0.4:
            return r.randint(-300, 300)
        if c < 0.6:  # (beyond int64 JAX's argument parsing overflows; functrans clips)
            return r.choice([info.min, info.max, 0] + ([info.max + 1, info.min - 1]
                                                       if info.bits < 64 else []))
        if c < 0.8:
            return r.randint(int(info.min), int(info.max))
        sub = broadcast_to_shape(r, shape)
        lo, hi = max(int(info.min), -1000), min(int(info.max), 1000)
        return np.asarray(np.random.default_rng(r.randrange(2 ** 32)).integers(lo, hi, sub),
                          dtype="int64")
    return Case("randint", (shape, bound(), bound()), {"dtype": dt}, EXACT)


def g_bernoulli(r):
    shape = rand_shape(r)
    c = r.random()
    kw = {}
    if c < 0.3:
        p = float(np.round(r.random(), 4))
        kw["shape"] = shape
    else:
        pdt = r.choice(FDT + HALF)
        p = half_param(rand_float(r, -0.1, 1.1, broadcast_to_shape(r, shape)), pdt)
        if r.random() < 0.6:
            kw["shape"] = shape
    if r.random() < 0.3:
        kw["mode"] = r.choice(["low", "high"])
    return Case("bernoulli", (p,), kw, EXACT, torch=isinstance(p, BF16))


def g_rademacher(r):
    dt = r.choice([None, "int8", "int32", "int64", "float32", "float64", "float16",
                   "bfloat16"])
    return Case("rademacher", (rand_shape(r),), {"dtype": dt}, EXACT, torch=half_case(r, dt))


def g_permutation(r):
    if r.random() < 0.4:
        return Case("permutation", (r.choice([0, 1, 2, 5, 17, 100]),), {}, EXACT)
    shape = rand_shape(r, zero=0.05)
    if not shape:
        shape = (r.randint(1, 6),)
    xdt = r.choice(["float64", "int32", "int64", "float16", "bfloat16"])
    x = half_param(np.arange(math.prod(shape), dtype="float64").reshape(shape), xdt)
    if xdt in ("int32", "int64"):
        x = x.astype(xdt)
    kw = {"axis": r.randrange(-len(shape), len(shape))}
    if r.random() < 0.5:
        kw["independent"] = r.random() < 0.5
    return Case("permutation", (x,), kw, EXACT, torch=half_case(r, xdt))


def g_choice(r):
    if r.random() < 0.4:
        n = r.randint(1, 12)
        a, axis = n, 0
    else:
        shape = rand_shape(r, zero=0.0)
        if not shape:
            shape = (r.randint(1, 6),)
        a = np.arange(math.prod(shape), dtype="float64").reshape(shape) * 1.5
        axis = r.randrange(-len(shape), len(shape))
        n = shape[axis]
    replace = r.random() < 0.5
    nd = r.randint(0, n if not replace else 8)
    # (no (0,) shape: JAX's is (0,) for any a, functrans's a's with that axis emptied)
    oshape = r.choice([(), (nd,), (1, nd)]) if nd else ()
    if not replace and math.prod(oshape) > n:
        oshape = ()
    kw = {"shape": oshape, "replace": replace, "axis": axis}
    if r.random() < 0.5:
        p = np.random.default_rng(r.randrange(2 ** 32)).random(n) + 0.01
        if r.random() < 0.5:
            p = p / p.sum()
        kw["p"] = half_param(p, r.choice(FDT + HALF))
    return Case("choice", (a,), kw, EXACT, torch=isinstance(kw.get("p"), BF16))


def g_categorical(r):
    shape = rand_shape(r, max_ndim=3, zero=0.0)
    if not shape:
        shape = (r.randint(1, 5),)
    ldt = r.choice(FDT + HALF)
    logits = half_param(rand_float(r, -3, 3, shape), ldt)
    axis = r.randrange(-len(shape), len(shape))
    kw = {"axis": axis}
    batch = shape[:axis % len(shape)] + shape[axis % len(shape) + 1:]
    replace = r.random() < 0.7
    if not replace:
        kw["replace"] = False
        k = r.randint(1, shape[axis])
        kw["shape"] = (k,) + batch
    elif r.random() < 0.5:
        kw["shape"] = (r.randint(1, 3),) + batch
    if r.random() < 0.3:
        kw["mode"] = "high"
    # (float32 logits: argmax over sums that tie or nearly tie in float32 could differ by the
    # rounding of the gumbels; exact all the same, JAX adds in float32 too)
    return Case("categorical", (logits,), kw, EXACT, torch=half_case(r, ldt))


def g_simple(name, rtol64=1e-12, rtol32=3e-6):
    def g(r):
        shape = rand_shape(r)
        dt = r.choice(FDT + (None,) + HALF)
        rtol, atol = half_tol(dt, rtol32 if dt == "float32" else rtol64, 0.0)
        return Case(name, (shape,), {"dtype": dt}, ULP, rtol=rtol, atol=atol,
                    torch=half_case(r, dt))
    return g


def g_gumbel(r):
    shape = rand_shape(r)
    dt = r.choice(FDT + (None,) + HALF)
    kw = {"dtype": dt}
    if r.random() < 0.5:
        kw["mode"] = r.choice(["low", "high", "highest"])
    # (absolute: -log(-log u) beside 0 is a difference of logs: XLA's float32 log vs NumPy's)
    rtol, atol = half_tol(dt, 3e-6 if dt == "float32" else 1e-12,
                          2.5e-7 if dt == "float32" else 1e-15)
    return Case("gumbel", (shape,), kw, ULP, rtol=rtol, atol=atol, torch=half_case(r, dt))


def g_truncated_normal(r):
    shape = rand_shape(r)
    dt = r.choice(FDT + HALF)
    lo = half_param(param(r, -3, 0.5, shape), dt)
    hi = half_param(param(r, 0.6, 3, shape), dt)
    kw = {"shape": shape if r.random() < 0.6 else None, "dtype": dt}
    # the interval meets 0 (where functrans claims JAX's form) unless drawn otherwise
    if r.random() < 0.2:
        lo, hi = 0.2, 1.5
    rtol, atol = half_tol(dt, 1e-4 if dt == "float32" else 1e-10,
                          1e-5 if dt == "float32" else 1e-12)
    return Case("truncated_normal", (lo, hi), kw, ULP, rtol=rtol, atol=atol,
                torch=half_case(r, dt))


def g_mvn(r):
    n = r.randint(1, 4)
    batch = rand_shape(r, max_ndim=2, max_dim=3, zero=0.0)
    a = np.random.default_rng(r.randrange(2 ** 32)).normal(size=batch + (n, n))
    cov = a @ np.swapaxes(a, -1, -2) + n * np.eye(n)
    mean = rand_float(r, -2, 2, broadcast_to_shape(r, batch) + (n,))
    kw = {"method": r.choice(["cholesky", "eigh", "svd"])}
    if r.random() < 0.5:
        kw["shape"] = (2,) + batch
    if r.random() < 0.25:  # (JAX has no half-precision factorisations: jit and vmap only)
        kw["dtype"] = dt = r.choice(HALF)
        mean, cov = half_param(mean, dt), half_param(cov, dt)
        return Case("multivariate_normal", (mean, cov), kw, ULP, torch=half_case(r, dt),
                    jax=False)
    return Case("multivariate_normal", (mean, cov), kw, ULP, rtol=1e-9, atol=1e-9)


def g_orthogonal(r):
    n = r.randint(0, 4)
    kw = {"shape": rand_shape(r, max_ndim=2, max_dim=3)}
    if r.random() < 0.4:
        kw["m"] = r.randint(0, 4)
    c = r.random()
    if c < 0.25:
        # (JAX has no half-precision factorisations: compared with the factorisation of
        # JAX's half normal uniforms in float64, rounded once; see _orthogonal_half_reference)
        kw["dtype"] = dt = r.choice(HALF)
        return Case("orthogonal", (n,), kw, ULP, torch=half_case(r, dt), jax=False)
    if c < 0.55:  # (random41: complex, Haar unitary matrices; JAX's to rounding)
        kw["dtype"] = dt = r.choice(["complex64", "complex128"])
        return Case("orthogonal", (n,), kw, ULP, atol=1e-10 if dt == "complex128" else 1e-4,
                    rtol=0, torch=r.random() < 0.3)
    if c < 0.65:
        kw["dtype"] = "float32"
        return Case("orthogonal", (n,), kw, ULP, atol=1e-4, rtol=0, torch=r.random() < 0.3)
    return Case("orthogonal", (n,), kw, ULP, atol=1e-10, rtol=0)


def g_pos_param(name, lo, hi, extra=(), rtol64=1e-10, rtol32=1e-4, how=ULP, how_half=ULP):
    def g(r):
        shape = rand_shape(r)
        dt = r.choice(FDT + HALF)
        ps = tuple(half_param(param(r, lo, hi, shape, "float64"), dt)
                   for _ in range(1 + len(extra)))
        kw = {"dtype": dt}
        if r.random() < 0.6:
            kw["shape"] = shape
        rtol, atol = half_tol(dt, rtol32 if dt == "float32" else rtol64,
                              1e-6 if dt == "float32" else 1e-12)
        if dt in HALF and how_half == DIST:
            kw["shape"] = (4000,)
            ps = tuple(float(np.round(r.uniform(lo, hi), 3)) for _ in ps)
            return Case(name, ps, kw, DIST, vmap=False, torch=half_case(r, dt))
        return Case(name, ps, kw, how, rtol=rtol, atol=atol, torch=half_case(r, dt))
    return g


def g_lognormal(r):
    return g_pos_param("lognormal", 0.1, 2.0)(r)


def g_triangular(r):
    shape = rand_shape(r)
    dt = r.choice(FDT + HALF)
    lo, mo, hi = (half_param(param(r, a, b, shape), dt)
                  for a, b in ((-3, -1), (-0.9, 0.9), (1, 3)))
    kw = {"dtype": dt}
    if r.random() < 0.6:
        kw["shape"] = shape
    rtol, atol = half_tol(dt, 1e-5 if dt == "float32" else 1e-12,
                          1e-6 if dt == "float32" else 1e-13)
    return Case("triangular", (lo, mo, hi), kw, ULP, rtol=rtol, atol=atol,
                torch=half_case(r, dt))


def g_geometric(r):
    shape = rand_shape(r)
    pdt = r.choice(FDT + HALF)
    p = half_param(param(r, 0.01, 0.99, shape), pdt)
    kw = {"dtype": r.choice([None, "int32", "int64"])}
    if r.random() < 0.6 or isinstance(p, float):
        kw["shape"] = shape
    return Case("geometric", (p,), kw, EXACT, torch=isinstance(p, BF16))


def g_wald(r):
    # (half types: JAX's cancelling root and rounded branch test pick the other root at
    # times, values apart: the distributions are compared)
    return g_pos_param("wald", 0.2, 3.0, rtol64=1e-9, rtol32=1e-4, how_half=DIST)(r)


def g_double_sided_maxwell(r):
    """(shape=() with array parameters: JAX's shape is the parameters' twice over, by design
    not functrans's; a non-empty shape is prepended to the parameters' by both)"""
    shape = rand_shape(r, max_ndim=2)
    dt = r.choice(FDT + HALF)
    loc, scale = (half_param(param(r, a, b, (3,)), dt) for a, b in ((-1, 1), (0.5, 2)))
    if not shape:
        loc, scale = float(r.uniform(-1, 1)), float(r.uniform(0.5, 2))
    rtol, atol = half_tol(dt, 1e-5 if dt == "float32" else 1e-12,
                          1e-6 if dt == "float32" else 0)
    return Case("double_sided_maxwell", (loc, scale), {"shape": shape, "dtype": dt}, ULP,
                rtol=rtol, atol=atol, torch=half_case(r, dt))


def g_dist(name, lo, hi, nparams=1, dtypes=FDT + HALF):
    """Rejection samplers: a scalar parameter, large draws, KS against JAX's."""
    def g(r):
        ps = tuple(float(np.round(r.uniform(lo, hi), 3)) for _ in range(nparams))
        dt = r.choice(dtypes)
        return Case(name, ps, {"shape": (4000,), "dtype": dt}, DIST, vmap=False,
                    torch=half_case(r, dt))
    return g


def g_dirichlet(r):
    k = r.randint(2, 4)
    alpha = np.round(rand_float(r, 0.2, 4, (k,)), 3)
    dt = r.choice(FDT + HALF)
    return Case("dirichlet", (alpha,), {"shape": (3000,), "dtype": dt}, DIST, vmap=False,
                torch=half_case(r, dt))


def g_ball(r):
    dt = r.choice((None,) + HALF)
    return Case("ball", (r.randint(1, 4),), {"p": r.choice([1, 2, 3.5]), "shape": (3000,),
                                             "dtype": dt}, DIST, vmap=False,
                torch=half_case(r, dt))


def g_multinomial(r):
    k = r.randint(2, 5)
    p = np.random.default_rng(r.randrange(2 ** 32)).random(k) + 0.05
    p = p / p.sum()
    dt = r.choice((None,) + HALF)
    return Case("multinomial", (float(r.randint(1, 60)), p), {"shape": (3000, k), "dtype": dt},
                DIST, vmap=False, torch=half_case(r, dt))


def g_poisson(r):
    return Case("poisson", (float(np.round(r.choice([r.uniform(0.1, 9), r.uniform(10, 200)]),
                                           3)),),
                {"shape": (4000,)}, DIST, vmap=False)


def g_binomial(r):
    n = float(r.choice([r.randint(1, 30), r.randint(30, 2000)]))
    dt = r.choice((None,) + HALF)
    # (half types: JAX's counts for p > 1/2 are n - k with n rounded to the half type first,
    # 1198 -> 1200 in bfloat16, a bias; functrans's are n - k rounded once)
    p = float(np.round(r.uniform(0.02, 0.98 if dt is None else 0.5), 3))
    return Case("binomial", (n, p), {"shape": (4000,), "dtype": dt}, DIST, vmap=False,
                torch=half_case(r, dt))


GENERATORS = [
    g_bits, g_split, g_fold_in, g_uniform, g_uniform, g_randint, g_randint, g_bernoulli,
    g_rademacher, g_permutation, g_permutation, g_choice, g_choice, g_categorical,
    g_categorical,
    g_simple("normal"), g_simple("exponential"), g_simple("laplace"), g_simple("logistic"),
    g_simple("cauchy", rtol64=1e-10, rtol32=1e-4), g_simple("maxwell"), g_gumbel,
    g_truncated_normal, g_mvn, g_orthogonal, g_lognormal,
    g_pos_param("pareto", 0.3, 4.0), g_triangular, g_geometric, g_wald,
    g_double_sided_maxwell,
    g_dist("gamma", 0.05, 8), g_dist("loggamma", 0.05, 8), g_dist("beta", 0.2, 5, 2),
    g_dist("chisquare", 0.3, 10), g_dist("t", 0.5, 20), g_dist("f", 1, 20, 2),
    g_dist("generalized_normal", 0.5, 4), g_dirichlet, g_ball, g_poisson, g_binomial,
    g_multinomial, g_dist("rayleigh", 0.3, 3), g_dist("weibull_min", 0.5, 3, 2),
]


# -- running one case --------------------------------------------------------------------


def _key_ft(data, typed, on_torch=False):
    import functrans.random as fr
    d = np.asarray(data, dtype=np.uint32)
    if on_torch:
        import torch
        d = torch.asarray(d)
    return fr.wrap_key_data(d) if typed else d


def _key_jax(data, typed):
    jax, jr = _jax()
    d = jax.numpy.asarray(np.asarray(data, dtype=np.uint32))
    return jr.wrap_key_data(d) if typed else d


def _arg_jax(v):
    if isinstance(v, BF16):
        import jax.numpy as jnp
        return jnp.asarray(v.a, dtype=jnp.bfloat16)
    return v


def _arg_ft(v, on_torch):
    """A parameter for functrans: arrays as torch tensors for a case on torch."""
    if isinstance(v, BF16):
        import torch
        return torch.tensor(v.a).bfloat16()
    if on_torch and isinstance(v, np.ndarray):
        import torch
        return torch.asarray(v)
    return v


class Out:
    """A result as NumPy data (bfloat16 as its float32 values) and its dtype's name."""

    def __init__(self, x):
        dt = str(getattr(x, "dtype", "")).replace("torch.", "")
        if hasattr(x, "detach"):  # torch
            x = x.float() if dt == "bfloat16" else x
            x = x.numpy()
        x = np.asarray(x)
        if dt == "bfloat16":
            x = x.astype(np.float32)
        self.a, self.dtype = x, dt or str(x.dtype)


def _jax_call(case, kd, typed):
    jax, jr = _jax()
    fn = getattr(jr, case.name)
    out = fn(_key_jax(kd, typed), *[_arg_jax(v) for v in case.args],
             **{k: _arg_jax(v) for k, v in case.kwargs.items()})
    if case.name in ("split", "fold_in"):
        out = jr.key_data(out) if typed else out
    return Out(out)


def _ft_call(case, kd, typed, xp_asarray=None):
    import functrans.random as fr
    fn = getattr(fr, case.name)
    key = _key_ft(kd, typed, case.torch)
    out = fn(key, *[_arg_ft(v, case.torch) for v in case.args],
             **{k: _arg_ft(v, case.torch) for k, v in case.kwargs.items()})
    if case.name in ("split", "fold_in"):
        out = fr.key_data(out) if typed else out
    return Out(out)


def _array_positions(case):
    arr = (np.ndarray, BF16)
    pos = [i for i, v in enumerate(case.args) if isinstance(v, arr)]
    kws = [k for k, v in case.kwargs.items() if isinstance(v, arr)]
    return pos, kws


def _ft_traced(case, kd, typed, transform):
    """The call with the key (and the array parameters) as arguments of ``transform``."""
    import functrans as ft
    import functrans.random as fr
    pos, kws = _array_positions(case)
    fn = getattr(fr, case.name)

    def f(key, *arrays):
        args = list(case.args)
        kw = dict(case.kwargs)
        for i, a in zip(pos, arrays[:len(pos)]):
            args[i] = a
        for k, a in zip(kws, arrays[len(pos):]):
            kw[k] = a
        out = fn(key, *args, **kw)
        if case.name in ("split", "fold_in"):
            out = fr.key_data(out) if typed else out
        return out

    arrays = [_arg_ft(v, case.torch) for v in
              [case.args[i] for i in pos] + [case.kwargs[k] for k in kws]]
    if transform == "jit":
        return Out(ft.jit(f)(_key_ft(kd, typed, case.torch), *arrays))
    # vmap over 3 keys (split from kd), the parameters unbatched
    keys = np.asarray(fr.split(np.asarray(kd, dtype=np.uint32), 3))
    kb = _key_ft(keys, typed, case.torch)
    got = Out(ft.vmap(f, in_axes=(0,) + (None,) * len(arrays))(kb, *arrays))
    each = [Out(f(_key_ft(k, typed, case.torch), *arrays)) for k in keys]
    want = Out(np.stack([o.a for o in each]))
    want.dtype = each[0].dtype
    return got, want


def _compare(case, got_out, want_out, what):
    got, want = got_out.a, want_out.a
    if (what == "jax" and case.name == "categorical" and not case.kwargs.get("replace", True)
            and want.dtype == np.int32):
        # JAX's indices without replacement are lax.top_k's int32 (int64 with replacement,
        # in x64); functrans's are int64 both ways
        want = want.astype(np.int64)
        want_out.dtype = "int64"
    if got_out.dtype != want_out.dtype or got.shape != want.shape:
        return (f"{what}: dtype/shape {got_out.dtype}{got.shape} vs "
                f"{want_out.dtype}{want.shape}")
    if case.how == EXACT or (what != "jax" and case.how != ULP):
        if got.dtype.kind == "f":
            ok = np.array_equal(got, want, equal_nan=True)
        else:
            ok = np.array_equal(got, want)
        if not ok:
            bad = np.argwhere(got != want)[:3] if got.shape else []
            return f"{what}: not equal at {bad.tolist()}: {got.ravel()[:6]} vs {want.ravel()[:6]}"
        return None
    if case.how == ULP:
        wide = np.complex128 if got.dtype.kind == "c" else np.float64
        g, w = got.astype(wide), want.astype(wide)
        err = np.abs(g - w)
        tol = case.atol + case.rtol * np.abs(w)
        bad = ~((err <= tol) | (np.isnan(g) & np.isnan(w)) | (g == w))
        if bad.any():
            i = np.argwhere(bad)[0].tolist()
            return (f"{what}: off by {err[bad].max():.3g} (rel "
                    f"{(err[bad] / np.abs(w[bad])).max():.3g}) at {i}: {g[tuple(i)]!r} vs "
                    f"{w[tuple(i)]!r}")
        return None
    if case.how == DIST:
        from scipy import stats
        g, w = got.reshape(got.shape[0], -1), want.reshape(want.shape[0], -1)
        for j in range(g.shape[1]):
            p = stats.ks_2samp(g[:, j], w[:, j]).pvalue
            if p < 1e-5:  # (rayleigh, weibull_min: functrans's u is JAX's 1 - u)
                return f"{what}: KS p = {p:.2g} (column {j}); means {g[:, j].mean():.4g} vs " \
                       f"{w[:, j].mean():.4g}"
        return None
    return None


def _round_half(x, dt):
    """float64 ``x`` rounded once to the half type ``dt`` (ties to even), as float32 data."""
    bits, emin = {"float16": (11, -13), "bfloat16": (8, -125)}[dt]
    e = np.maximum(np.frexp(x)[1], emin)
    return np.ldexp(np.round(np.ldexp(x, bits - e)), e - bits).astype(np.float32)


def _orthogonal_half_reference(case, kd, typed):
    """orthogonal in a half type from JAX's half uniforms (those of jax.random.normal in that
    type, bitwise functrans's): their normals, the QR factorisation and the signs in float64
    (NumPy, SciPy), one rounding (JAX has no half-precision QR)."""
    from scipy import special
    jax, jr = _jax()
    n = case.args[0]
    m = case.kwargs.get("m", n)
    dt = case.kwargs["dtype"]
    zs = tuple(case.kwargs.get("shape", ())) + (max(n, m), min(n, m))
    lo = -1.0 + 2.0 ** -(11 if dt == "float16" else 8)  # (the float above -1)
    u = jr.uniform(_key_jax(kd, typed), zs, getattr(jax.numpy, dt), lo, 1.0)
    z = special.erfinv(np.asarray(u).astype(np.float64)) * math.sqrt(2.0)
    q, rr = np.linalg.qr(z)
    q = q * np.sign(np.diagonal(rr, axis1=-2, axis2=-1))[..., None, :]
    if n < m:
        q = np.swapaxes(q, -1, -2)
    out = Out(_round_half(q, dt))
    out.dtype = dt
    return out


def run_case(case, kd, typed, verbose=False):
    """Failures of the case (a list of strings)."""
    fails = []
    want, jerr = None, None
    if case.name == "orthogonal" and case.kwargs.get("dtype") in HALF:
        want = _orthogonal_half_reference(case, kd, typed)
        # (one half ulp: a float64 rounding of the QR can fall on either side of a tie)
        case.rtol = 2.0 ** -(10 if case.kwargs["dtype"] == "float16" else 7)
        case.atol = 2.0 ** -24 if case.kwargs["dtype"] == "float16" else 2.0 ** -133
    elif case.jax:
        # (DIST: JAX's draw from another key, independent samples: rayleigh's from the same
        # key are mirror images, functrans's u being JAX's 1 - u, which doubles any skew)
        jkd = kd ^ np.uint32(0x5BD1E995) if case.how == DIST else kd
        try:
            want = _jax_call(case, jkd, typed)
        except Exception as e:  # noqa: BLE001
            jerr = e
    try:
        got = _ft_call(case, kd, typed)
        ferr = None
    except Exception as e:  # noqa: BLE001
        got, ferr = None, e
    if verbose:
        print("jax:", want.a if want is not None else repr(jerr))
        print("ft: ", got.a if ferr is None else repr(ferr))
    if jerr is not None and ferr is not None:
        return fails
    if jerr is not None:
        return [f"JAX refuses ({type(jerr).__name__}: {str(jerr)[:150]}), functrans gives "
                f"{got.dtype}{got.a.shape}"]
    if ferr is not None:
        return [f"functrans refuses ({type(ferr).__name__}: {str(ferr)[:200]})" +
                (f", JAX gives {want.dtype}{want.a.shape}" if want is not None else "")]
    if want is not None:
        msg = _compare(case, got, want, "jax")
        if msg:
            fails.append(msg)
    for tr in ("jit", "vmap"):
        if (tr == "jit" and not case.jit) or (tr == "vmap" and not case.vmap):
            continue
        try:
            if tr == "jit":
                msg = _compare(case, _ft_traced(case, kd, typed, "jit"), got, "jit")
            else:
                g, w = _ft_traced(case, kd, typed, "vmap")
                msg = _compare(case, g, w, "vmap")
        except Exception as e:  # noqa: BLE001
            msg = f"{tr} raised {type(e).__name__}: {str(e)[:200]}"
            if verbose:
                traceback.print_exc()
        if msg:
            fails.append(msg)
    return fails


def check_key_info(kd, typed):
    """fuzz44: key_impl, key_dtype and KeyArray on the seed's key (and a stack of it, and
    its split) against JAX's: the implementation's name, the typed keys' dtype (a
    refusal of impl names other than threefry2x32 by both), isinstance; fuzz45: clone (its
    key data and draws, eager, under jit and vmap). Failures: strings."""
    import functrans as ft
    import functrans.random as fr
    jax, jr = _jax()
    fails = []
    for shape in ((), (3,), (0, 2)):
        d = np.broadcast_to(np.asarray(kd, np.uint32), shape + (2,)).copy()
        k, jk = _key_ft(d, typed), _key_jax(d, typed)
        name, jname = str(fr.key_impl(k)), str(jr.key_impl(jk))
        if name != jname:
            fails.append(f"key_impl{shape}: {name!r} vs JAX {jname!r}")
        if typed:
            if not isinstance(k, fr.KeyArray) or k.dtype != fr.key_dtype() or \
                    fr.key_dtype("threefry2x32") != fr.key_dtype():
                fails.append(f"typed key{shape}: {type(k).__name__}, dtype {k.dtype}")
            if tuple(k.shape) != tuple(jk.shape):
                fails.append(f"typed key shape {tuple(k.shape)} vs JAX {tuple(jk.shape)}")
        elif isinstance(k, fr.KeyArray):
            fails.append(f"raw key data{shape} is a KeyArray")
        # fuzz45: clone (the same key, and the same draws, as JAX's; under jit and vmap too)
        c = fr.clone(k)
        cd = np.asarray(fr.key_data(c) if typed else c)
        jcd = np.asarray(jr.key_data(jr.clone(jk)) if typed else jr.clone(jk))
        if cd.shape != jcd.shape or not np.array_equal(cd, jcd) or not np.array_equal(
                cd, np.asarray(fr.key_data(k) if typed else k)):
            fails.append(f"clone{shape}: {cd.tolist()} vs JAX {jcd.tolist()}")
        if typed != isinstance(c, fr.KeyArray):
            fails.append(f"clone{shape} of a {'typed' if typed else 'raw'} key: "
                         f"{type(c).__name__}")
        if shape == (3,):
            u = np.asarray(fr.uniform(fr.clone(k)[1], (2,)))
            uj = np.asarray(jr.uniform(jr.clone(jk)[1], (2,)))
            uv = np.asarray(ft.vmap(lambda q: fr.uniform(fr.clone(q), (2,)))(k))[1]
            uu = np.asarray(ft.jit(lambda q: fr.uniform(fr.clone(q)[1], (2,)))(k))
            if not (np.array_equal(u, uj) and np.array_equal(uv, u) and np.array_equal(uu, u)):
                fails.append(f"clone's draws {u} / vmap {uv} / jit {uu} vs JAX {uj}")
    for bad in ("rbg", "unsafe_rbg", 3):
        try:
            fr.key_dtype(bad)
            fails.append(f"key_dtype({bad!r}) not refused")
        except (ValueError, TypeError):
            pass
    return fails


def main(argv):
    lo, hi = int(argv[1]), int(argv[2])
    verbose = "-v" in argv
    only = [a[len("--only="):] for a in argv if a.startswith("--only=")]
    for seed in range(lo, hi):
        r = random.Random(seed)
        case = gen_case(r)
        if only and case.name not in only:
            continue
        kd, typed = rand_key_data(r)
        TALLY.count(case.name)
        if verbose:
            print(seed, case, kd.tolist(), "typed" if typed else "raw")
        try:
            fails = run_case(case, kd, typed, verbose)
        except Exception as e:  # noqa: BLE001
            fails = [f"harness: {type(e).__name__}: {e}"]
            if verbose:
                traceback.print_exc()
        try:
            fails = fails + check_key_info(kd, typed)
        except Exception as e:  # noqa: BLE001
            fails = fails + [f"key info harness: {type(e).__name__}: {e}"]
        if fails:  # (one failure per failing case, all its messages)
            TALLY.fail(case.name, f"seed {seed}: {case} key={kd.tolist()} "
                                  f"{'typed' if typed else 'raw'}", "\n    ".join(fails))
    return TALLY.exit_status("cases per function:")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
