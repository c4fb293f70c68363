"""apifuzz35's fuzzer: seeded random (function, pytree, transform stack) cases, functrans
against JAX (x64). A tool, not a test (JAX is not installed in CI; tests/test_s35_apifuzz35.py
keeps a fast selection, checked against central differences and loops instead):

    python -m tests._fuzz_transforms_jax 0 2000        # seeds [0, 2000)
    python -m tests._fuzz_transforms_jax 0 500 --extra # the less-travelled API (below)

Each seed draws 1-3 arguments, pytrees of every node kind (tuple, list, dict with unsorted
keys, OrderedDict, defaultdict, namedtuple, None, empty containers, a registered class, a
dataclass) with leaves of every kind (0-d arrays, Python and NumPy scalars, float32, empty
arrays, ints and bools), a function of all their leaves, and a transform stack (grad,
value_and_grad, jvp, vjp, linearize, jacfwd, jacrev, hessian, vmap with random in_axes
prefixes, jit, and nestings), with random argnums, has_aux and allow_int; functrans runs on
NumPy (also read-only), array-api-strict or torch inputs (checked never written into). It
prints each mismatch (structure, leaf type, dtype, shape, value), each case only JAX refuses,
and a count per outcome; 'both-error' cases raise in both (-v prints them). Exit status 1
on any mismatch."""
import collections
import dataclasses
import random
import sys
import traceback
import warnings

import numpy as np
import jax
import jax.ad_checkpoint
import jax.numpy as jnp
jax.config.update("jax_enable_x64", True)

import functrans as ft
import functrans.numpy as fnp
from tests._fuzz_common import Tally

warnings.simplefilter("ignore")

NT = collections.namedtuple("NT", "a b")
NT1 = collections.namedtuple("NT1", "x")


class Box:
    def __init__(self, a, b, tag="t"):
        self.a, self.b, self.tag = a, b, tag

    def __repr__(self):
        return f"Box({self.a!r}, {self.b!r}, {self.tag!r})"


def _box_flat(o):
    return (o.a, o.b), o.tag


def _box_unflat(tag, ch):
    return Box(ch[0], ch[1], tag)


ft.tree.register_pytree_node(Box, _box_flat, _box_unflat)
jax.tree_util.register_pytree_node(Box, _box_flat, _box_unflat)


@dataclasses.dataclass
class DC:
    w: object
    b: object
    name: str = "dc"


ft.tree.register_dataclass(DC, data_fields=["w", "b"], meta_fields=["name"])
jax.tree_util.register_dataclass(DC, data_fields=["w", "b"], meta_fields=["name"])

# -- leaves --------------------------------------------------------------------------------------
FLOAT_KINDS = ["a0", "pyf", "npf", "v2", "m23", "f32", "f32s", "v1", "e0"]
INT_KINDS = ["i2", "pyi", "b2", "pyb", "i0"]


def leaf_value(kind, seed):
    r = np.random.default_rng(seed)
    if kind == "a0":
        return np.asarray(r.uniform(-1, 1))
    if kind == "pyf":
        return float(np.round(r.uniform(-1, 1), 6))
    if kind == "npf":
        return np.float64(r.uniform(-1, 1))
    if kind == "v2":
        return r.uniform(-1, 1, 2)
    if kind == "v1":
        return r.uniform(-1, 1, 1)
    if kind == "e0":
        return np.zeros((0,))
    if kind == "m23":
        return r.uniform(-1, 1, (2, 3))
    if kind == "f32":
        return r.uniform(-1, 1, 2).astype(np.float32)
    if kind == "f32s":
        return np.float32(r.uniform(-1, 1))
    if kind == "i2":
        return r.integers(-3, 3, 2)
    if kind == "i0":
        return np.asarray(r.integers(-3, 3))
    if kind == "pyi":
        return int(r.integers(-3, 3))
    if kind == "b2":
        return r.integers(0, 2, 2).astype(bool)
    if kind == "pyb":
        return bool(r.integers(0, 2))
    raise ValueError(kind)


def is_float_kind(k):
    return k in FLOAT_KINDS


# -- tree descriptions ---------------------------------------------------------------------------
NODE_KINDS = ["tuple", "list", "dict", "odict", "ddict", "nt", "nt1", "none", "box", "dc",
              "empty_tuple", "empty_list", "empty_dict"]


def gen_tree(rng, depth, leaf_kinds, counter):
    if depth <= 0 or rng.random() < 0.4:
        counter[0] += 1
        return ("leaf", rng.choice(leaf_kinds), counter[0])
    k = rng.choice(NODE_KINDS)
    if k in ("tuple", "list"):
        n = rng.randint(1, 3)
        return (k, [gen_tree(rng, depth - 1, leaf_kinds, counter) for _ in range(n)])
    if k in ("dict", "odict", "ddict"):
        keys = rng.sample(["z", "a", "m", "b", "y"], rng.randint(1, 3))
        return (k, [(key, gen_tree(rng, depth - 1, leaf_kinds, counter)) for key in keys])
    if k in ("nt", "box", "dc"):
        return (k, [gen_tree(rng, depth - 1, leaf_kinds, counter) for _ in range(2)])
    if k == "nt1":
        return (k, [gen_tree(rng, depth - 1, leaf_kinds, counter)])
    return (k,)


def build(desc, leaf):
    """The tree of ``desc`` with leaf(kind, seed) at its leaves."""
    k = desc[0]
    if k == "leaf":
        return leaf(desc[1], desc[2])
    if k == "tuple":
        return tuple(build(c, leaf) for c in desc[1])
    if k == "list":
        return [build(c, leaf) for c in desc[1]]
    if k == "dict":
        return {key: build(c, leaf) for key, c in desc[1]}
    if k == "odict":
        return collections.OrderedDict((key, build(c, leaf)) for key, c in desc[1])
    if k == "ddict":
        d = collections.defaultdict(list)
        for key, c in desc[1]:
            d[key] = build(c, leaf)
        return d
    if k == "nt":
        return NT(*(build(c, leaf) for c in desc[1]))
    if k == "nt1":
        return NT1(build(desc[1][0], leaf))
    if k == "box":
        return Box(*(build(c, leaf) for c in desc[1]))
    if k == "dc":
        return DC(*(build(c, leaf) for c in desc[1]))
    if k == "none":
        return None
    if k == "empty_tuple":
        return ()
    if k == "empty_list":
        return []
    if k == "empty_dict":
        return {}
    raise ValueError(k)


def leaf_descs(desc):
    """The (kind, seed) leaves of desc in flattening order (dict keys sorted)."""
    k = desc[0]
    if k == "leaf":
        return [desc]
    if k in ("dict", "ddict"):
        out = []
        for key, c in sorted(desc[1]):
            out += leaf_descs(c)
        return out
    if k == "odict":
        out = []
        for key, c in desc[1]:
            out += leaf_descs(c)
        return out
    if k in ("tuple", "list", "nt", "nt1", "box", "dc"):
        out = []
        for c in desc[1]:
            out += leaf_descs(c)
        return out
    return []


# -- libraries -----------------------------------------------------------------------------------
class FT:
    name = "ft"
    xp = fnp
    leaves = staticmethod(ft.tree.leaves)
    grad, value_and_grad, jvp, vjp = ft.grad, ft.value_and_grad, ft.jvp, ft.vjp
    linearize, jacfwd, jacrev, hessian = ft.linearize, ft.jacfwd, ft.jacrev, ft.hessian
    vmap, jit = ft.vmap, ft.jit
    linear_transpose, checkpoint = ft.linear_transpose, ft.checkpoint
    custom_vjp, custom_jvp = ft.custom_vjp, ft.custom_jvp
    f64 = fnp.float64

    @staticmethod
    def arr(x):
        return x  # NumPy leaves as they are


import array_api_strict as _strict
import torch as _torch


def _ro(x):
    x = np.array(x)
    x.flags.writeable = False
    return x


class FTS(FT):
    """functrans on array-api-strict arrays."""
    name = "ft-strict"

    @staticmethod
    def arr(x):
        if isinstance(x, np.ndarray) and x.dtype != jax.dtypes.float0:
            return _strict.asarray(x)
        return x


MADE = []


class FTT(FT):
    name = "ft-torch"

    @staticmethod
    def arr(x):
        if isinstance(x, np.ndarray) and x.dtype != jax.dtypes.float0:
            t = _torch.asarray(x)
            MADE.append((t, t.clone()))
            return t
        return x


class FTRO(FT):
    name = "ft-readonly"

    @staticmethod
    def arr(x):
        if isinstance(x, np.ndarray) and x.dtype != jax.dtypes.float0:
            return _ro(x)
        return x


def to_np(x):
    if isinstance(x, _torch.Tensor):
        return x.detach().numpy()
    if type(x).__module__.startswith("array_api_strict"):
        return np.asarray(x._array)
    return x


LEAF_TYPE = {"ft": np.ndarray, "ft-readonly": np.ndarray, "ft-torch": _torch.Tensor}


class JX:
    name = "jax"
    xp = jnp
    leaves = staticmethod(jax.tree_util.tree_leaves)
    grad, value_and_grad, jvp, vjp = jax.grad, jax.value_and_grad, jax.jvp, jax.vjp
    linearize, jacfwd, jacrev, hessian = jax.linearize, jax.jacfwd, jax.jacrev, jax.hessian
    vmap, jit = jax.vmap, jax.jit
    linear_transpose, checkpoint = jax.linear_transpose, jax.checkpoint
    custom_vjp, custom_jvp = jax.custom_vjp, jax.custom_jvp
    f64 = jnp.float64

    @staticmethod
    def arr(x):
        if isinstance(x, np.ndarray):
            return jnp.asarray(x)
        return x


OPS = [
    lambda xp, x: xp.sin(x),
    lambda xp, x: xp.tanh(x) * x,
    lambda xp, x: x * x,
    lambda xp, x: xp.exp(x * 0.5),
    lambda xp, x: x,
    lambda xp, x: xp.cos(x) + 2.0,
]


def as_float(L, x, kind):
    if is_float_kind(kind):
        return x
    return L.xp.astype(L.xp.asarray(x), L.f64)


class Case:
    def __init__(self, seed):
        rng = random.Random(seed)
        self.seed = seed
        self.rng = rng
        counter = [1000 * seed]
        self.nargs = rng.randint(1, 3)
        self.int_ok = rng.random() < 0.15
        kinds = FLOAT_KINDS + (INT_KINDS if self.int_ok else [])
        self.arg_descs = [gen_tree(rng, rng.randint(0, 3), kinds, counter)
                          for _ in range(self.nargs)]
        self.all_leaves = [d for a in self.arg_descs for d in leaf_descs(a)]
        self.ops = [rng.randrange(len(OPS)) for _ in self.all_leaves]
        self.coefs = [round(rng.uniform(-2, 2), 3) for _ in self.all_leaves]
        self.out_desc = gen_tree(rng, rng.randint(0, 3), ["o"], counter)
        self.aux_desc = gen_tree(rng, rng.randint(0, 2), ["ax", "ai", "an"], counter)

    def args(self, L, batch=None):
        def leaf(kind, seed):
            v = leaf_value(kind, seed)
            if batch is not None:
                v = batch(kind, seed, v)
            return L.arr(v)
        return tuple(build(d, leaf) for d in self.arg_descs)

    def fun(self, L, out="scalar", has_aux=False):
        kinds = [d[1] for d in self.all_leaves]
        ops, coefs = self.ops, self.coefs
        out_desc, aux_desc = self.out_desc, self.aux_desc

        def f(*args):
            leaves = L.leaves(args)
            assert len(leaves) == len(kinds), (len(leaves), len(kinds))
            vals = [OPS[o](L.xp, as_float(L, x, k)) for x, k, o in zip(leaves, kinds, ops)]
            s = 0.0
            for c, v in zip(coefs, vals):
                s = L.xp.add(s, c * L.xp.sum(v))
            if out == "scalar":
                res = s
            else:
                fl = [v for v in vals] or [s]
                cnt = [0]

                def oleaf(kind, seed):
                    cnt[0] += 1
                    r = seed % 4
                    v = fl[seed % len(fl)]
                    if r == 0:
                        return L.xp.multiply(v, s)
                    if r == 1:
                        return L.xp.sin(v)
                    if r == 2:
                        return v * 3.0 if type(v) is not float else s
                    return v + 1.0
                res = build(out_desc, oleaf)
            if has_aux:
                def aleaf(kind, seed):
                    if kind == "ax":
                        return vals[seed % len(vals)] * 2.0 if vals else s
                    if kind == "ai":
                        return seed % 7
                    return np.float64(0.5) if L in (FT, FTRO) else 0.5
                return res, build(aux_desc, aleaf)
            return res
        return f


# -- comparison ----------------------------------------------------------------------------------
NOTES = collections.Counter()
TALLY = Tally()
F32 = [False]
RELAX = [False]


class Mismatch(Exception):
    pass


def struct(tree):
    return jax.tree_util.tree_structure(tree)


CUR = [FT]


def check_leaf_type(x, where):
    want = LEAF_TYPE.get(CUR[0].name)
    if want is None:
        ok = type(x).__module__.startswith("array_api_strict")
    else:
        ok = type(x) is want
    if not ok:
        raise Mismatch(f"{where}: {CUR[0].name} leaf type {type(x).__name__}")


def compare(a, b, where, float0_ok=True):
    """a: functrans result, b: jax result."""
    sa, sb = struct(a), struct(b)
    if sa != sb:
        raise Mismatch(f"{where}: structure ft {sa} vs jax {sb}")
    la, lb = jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)
    for i, (x, y) in enumerate(zip(la, lb)):
        if isinstance(y, (int, float, str)) and not isinstance(y, bool) and type(x) is type(y):
            if x != y:
                raise Mismatch(f"{where} leaf {i}: {x} vs {y}")
            continue
        if RELAX[0] and type(x) is not np.ndarray and np.ndim(y) == 0 and isinstance(
                x, (np.generic, float, int)) and np.asarray(x).dtype == np.asarray(y).dtype and \
                np.asarray(x) == np.asarray(y):
            NOTES[type(x).__name__] += 1  # a constant returned as it is (aux, jit)
            continue
        check_leaf_type(x, f"{where} leaf {i}")
        x = np.asarray(to_np(x))
        yd = np.asarray(y).dtype
        if yd == jax.dtypes.float0:
            if not float0_ok:
                raise Mismatch(f"{where} leaf {i}: jax float0")
            if x.shape != np.shape(y) or np.any(x != 0):
                raise Mismatch(f"{where} leaf {i}: float0 {x}")
            continue
        if x.dtype != yd:
            raise Mismatch(f"{where} leaf {i}: dtype ft {x.dtype} vs jax {yd}")
        if x.shape != np.shape(y):
            raise Mismatch(f"{where} leaf {i}: shape ft {x.shape} vs jax {np.shape(y)}")
        tol = 1e-5 if x.dtype in (np.float32, np.complex64) or F32[0] else 1e-11
        yv = np.asarray(y)
        if x.dtype.kind in "fc":
            if not np.allclose(x, yv, rtol=tol, atol=tol, equal_nan=True):
                raise Mismatch(f"{where} leaf {i}: values ft {x} vs jax {yv}")
        elif not np.array_equal(x, yv):
            raise Mismatch(f"{where} leaf {i}: values ft {x} vs jax {yv}")


def run_both(thunk_ft, thunk_jax, where, **kw):
    ea = eb = None
    try:
        ra = thunk_ft()
    except Exception as e:  # noqa
        ea = e
    try:
        rb = thunk_jax()
    except Exception as e:  # noqa
        eb = e
    if ea is not None and eb is not None:
        return ("both-error", type(ea).__name__, str(ea)[:300], type(eb).__name__,
                str(eb)[:200])
    if ea is not None:
        raise Mismatch(f"{where}: ft raised {type(ea).__name__}: {str(ea)[:600]}\n"
                       + "".join(traceback.format_exception(ea)[-6:]))
    if eb is not None:
        return ("jax-error", type(eb).__name__, str(eb)[:300])
    compare(ra, rb, where, **kw)
    return ("ok",)


# -- transform stacks ----------------------------------------------------------------------------
B = 3


def pick_argnums(rng, n, allow_bad=True):
    r = rng.random()
    if allow_bad and r < 0.04:
        return rng.choice([n, -n - 1, (0, 0), (), (0, n), "0", 1.0])
    if r < 0.35:
        return 0
    if r < 0.5:
        return -1
    if r < 0.75:
        k = rng.randint(1, n)
        return tuple(rng.sample(range(n), k))
    return rng.randrange(n)


def argnum_list(argnums, n):
    if isinstance(argnums, int):
        return [argnums % n]
    return [a % n for a in argnums]


def ct_like(tree, L, seed=0):
    """A cotangent (or tangent) tree like ``tree`` (its leaves' shapes and dtypes)."""
    r = np.random.default_rng(seed)

    def one(y):
        if isinstance(y, float):
            return float(np.round(r.uniform(-1, 1), 4))
        a = np.asarray(y)
        if a.dtype.kind in "biu" or a.dtype == jax.dtypes.float0:
            return np.zeros(a.shape, jax.dtypes.float0)
        v = r.uniform(-1, 1, a.shape)
        if a.dtype.kind == "c":
            v = v + 1j * r.uniform(-1, 1, a.shape)
        v = np.asarray(v, a.dtype)  # (0-d arithmetic gives NumPy scalars: an array here)
        if isinstance(y, np.generic):
            return v[()]
        return L.arr(v)
    return jax.tree_util.tree_map(one, tree)


def np_tree(t):
    return jax.tree_util.tree_map(lambda y: y if isinstance(y, (int, float, bool)) or (
        type(y) is np.ndarray and y.dtype == jax.dtypes.float0) else np.asarray(to_np(y)), t)


def tangents_for(case, L, seed):
    r = np.random.default_rng(seed)

    def tan(kind, s):
        v = leaf_value(kind, s)
        if not is_float_kind(kind):
            return np.zeros(np.shape(v), jax.dtypes.float0)
        if isinstance(v, float):
            return float(np.round(r.uniform(-1, 1), 4))
        a = np.asarray(v)
        t = r.uniform(-1, 1, a.shape).astype(a.dtype)
        if isinstance(v, np.generic):
            return t[()]
        return L.arr(t)
    return tuple(build(d, tan) for d in case.arg_descs)


def S_grad(case, rng):
    argnums = pick_argnums(rng, case.nargs)
    has_aux = rng.random() < 0.3
    allow_int = case.int_ok and rng.random() < 0.7
    vg = rng.random() < 0.4

    def run(L):
        T = L.value_and_grad if vg else L.grad
        return T(case.fun(L, "scalar", has_aux), argnums=argnums, has_aux=has_aux,
                 allow_int=allow_int)(*case.args(L))
    return run, dict(argnums=argnums, has_aux=has_aux, allow_int=allow_int, vg=vg)


def S_jvp(case, rng):
    has_aux = rng.random() < 0.3
    out = rng.choice(["scalar", "tree"])
    seed = rng.randrange(10**6)

    def run(L):
        return L.jvp(case.fun(L, out, has_aux), case.args(L), tangents_for(case, L, seed),
                     has_aux=has_aux)
    return run, dict(has_aux=has_aux, out=out)


def S_vjp(case, rng):
    has_aux = rng.random() < 0.3
    out = rng.choice(["scalar", "tree"])
    seed = rng.randrange(10**6)

    def run(L):
        res = L.vjp(case.fun(L, out, has_aux), *case.args(L), has_aux=has_aux)
        o, fn = res[0], res[1]
        ct = ct_like(np_tree(o), L, seed)
        return (o, fn(ct)) + tuple(res[2:])
    return run, dict(has_aux=has_aux, out=out)


def S_linearize(case, rng):
    has_aux = rng.random() < 0.3
    out = rng.choice(["scalar", "tree"])
    seed = rng.randrange(10**6)

    def run(L):
        res = L.linearize(case.fun(L, out, has_aux), *case.args(L), has_aux=has_aux)
        return (res[0], res[1](*tangents_for(case, L, seed))) + tuple(res[2:])
    return run, dict(has_aux=has_aux, out=out)


def S_jac(case, rng):
    argnums = pick_argnums(rng, case.nargs)
    has_aux = rng.random() < 0.3
    out = rng.choice(["scalar", "tree"])
    mode = rng.choice(["jacfwd", "jacrev"])
    allow_int = mode == "jacrev" and case.int_ok and rng.random() < 0.5

    def run(L):
        kw = dict(allow_int=True) if allow_int else {}
        return getattr(L, mode)(case.fun(L, out, has_aux), argnums=argnums, has_aux=has_aux,
                                **kw)(*case.args(L))
    return run, dict(argnums=argnums, has_aux=has_aux, out=out, mode=mode)


def S_hessian(case, rng):
    argnums = pick_argnums(rng, case.nargs)
    has_aux = rng.random() < 0.2

    def run(L):
        return L.hessian(case.fun(L, "scalar", has_aux), argnums=argnums,
                         has_aux=has_aux)(*case.args(L))
    return run, dict(argnums=argnums, has_aux=has_aux)


def _ndim(kind):
    return np.ndim(leaf_value(kind, 0))


def _mappable(kind):
    return kind not in ("pyf", "pyi", "pyb") and not kind.endswith("s") and kind != "npf"


def axes_tree(desc, rng):
    """(in_axes prefix for desc, {seed: axis})."""
    plan = {}

    def leaves_ok(d, ax):
        return all(_mappable(k) and -(_ndim(k) + 1) <= ax <= _ndim(k) for _, k, _ in
                   leaf_descs(d))

    def go(d):
        r = rng.random()
        if r < 0.2:
            for _, _, s in leaf_descs(d):
                plan[s] = None
            return None
        if d[0] == "leaf" or r < 0.5:
            for ax in rng.sample([0, -1, 1], 3):
                if leaves_ok(d, ax):
                    for _, k, s in leaf_descs(d):
                        plan[s] = ax
                    return ax
            if d[0] == "leaf":
                plan[d[2]] = None
                return None
        k = d[0]
        if k in ("tuple", "list", "nt", "nt1", "box", "dc"):
            ch = [go(c) for c in d[1]]
            if k == "tuple":
                return tuple(ch)
            if k == "list":
                return list(ch)
            if k == "nt":
                return NT(*ch)
            if k == "nt1":
                return NT1(*ch)
            if k == "box":
                return Box(*ch)
            return DC(*ch)
        if k in ("dict", "odict", "ddict"):
            items = [(key, go(c)) for key, c in d[1]]
            if k == "odict":
                return collections.OrderedDict(items)
            if k == "ddict":
                dd = collections.defaultdict(list)
                dd.update(items)
                return dd
            return dict(items)
        if k in ("leaf",):
            raise AssertionError
        return None if rng.random() < 0.5 else 0  # an empty node
    return go(desc), plan


def batched_args(case, L, plan):
    def batch(kind, seed, v):
        ax = plan.get(seed)
        if ax is None:
            return v
        a = np.stack([np.asarray(v) + 0.25 * k if np.asarray(v).dtype.kind == "f"
                      else np.asarray(v) for k in range(B)])
        return np.moveaxis(a, 0, ax)
    return case.args(L, batch)


def S_vmap(case, rng):
    axes, plan = zip(*[axes_tree(d, rng) for d in case.arg_descs])
    plan = {k: v for p in plan for k, v in p.items()}
    in_axes = tuple(axes)
    if rng.random() < 0.2 and len(set(map(repr, axes))) == 1 and type(axes[0]) is int:
        in_axes = axes[0]
    out = rng.choice(["scalar", "tree"])
    r = rng.random()
    out_axes = 0 if r < 0.6 else -1 if r < 0.85 else 1
    inner = rng.choice(["plain", "grad", "jit", "jvp"]) if out == "scalar" else \
        rng.choice(["plain", "jit"])
    outer_jit = rng.random() < 0.15

    def run(L):
        f = case.fun(L, out)
        if inner == "grad":
            nums = tuple(range(case.nargs))
            f = L.grad(f, argnums=nums, allow_int=case.int_ok)
        elif inner == "jit":
            f = L.jit(f)
        elif inner == "jvp":
            g = f

            def f(*a):
                return L.jvp(g, a, tuple(jax.tree_util.tree_map(
                    lambda x: x * 0.5 if hasattr(x, "dtype") and np.dtype(x.dtype).kind == "f"
                    else (x * 0.5 if isinstance(x, float) else np.zeros(np.shape(x),
                                                                        jax.dtypes.float0)),
                    y) for y in a))
        v = L.vmap(f, in_axes=in_axes, out_axes=out_axes)
        if outer_jit:
            v = L.jit(v)
        return v(*batched_args(case, L, plan))
    return run, dict(in_axes=in_axes, out_axes=out_axes, inner=inner, outer_jit=outer_jit)


def S_jit(case, rng):
    out = rng.choice(["scalar", "tree"])
    has_aux = rng.random() < 0.3
    inner = rng.choice(["plain", "grad", "vjp"])
    argnums = pick_argnums(rng, case.nargs, allow_bad=False)

    def run(L):
        if inner == "plain":
            return L.jit(case.fun(L, out, has_aux))(*case.args(L))
        if inner == "grad":
            return L.jit(L.grad(case.fun(L, "scalar", has_aux), argnums=argnums,
                                has_aux=has_aux, allow_int=case.int_ok))(*case.args(L))
        # grad of a jitted function
        return L.grad(L.jit(case.fun(L, "scalar", has_aux)), argnums=argnums,
                      has_aux=has_aux, allow_int=case.int_ok)(*case.args(L))
    return run, dict(out=out, has_aux=has_aux, inner=inner, argnums=argnums)


def S_nested(case, rng):
    kind = rng.choice(["jvp_grad", "jacfwd_grad", "grad_vmap", "vjp_jvp"])
    seed = rng.randrange(10**6)
    nums = tuple(range(case.nargs))

    def run(L):
        f = case.fun(L, "scalar")
        args = case.args(L)
        if kind == "jvp_grad":
            g = L.grad(f, argnums=nums, allow_int=case.int_ok)
            return L.jvp(g, args, tangents_for(case, L, seed))
        if kind == "jacfwd_grad":
            return L.jacfwd(L.grad(f, argnums=0, allow_int=case.int_ok), argnums=0)(*args)
        if kind == "grad_vmap":
            def total(*a):
                return L.xp.sum(L.vmap(f, in_axes=(None,) * len(a), axis_size=2)(*a))
            return L.grad(total, argnums=nums, allow_int=case.int_ok)(*args)
        # vjp of jvp's tangent
        def tangent_out(*a):
            return L.jvp(f, a, tangents_for(case, L, seed))[1]
        o, fn = L.vjp(tangent_out, *args)
        return o, fn(ct_like(np_tree(o), L, seed))
    return run, dict(kind=kind)


STACKS = [S_grad, S_grad, S_jvp, S_vjp, S_linearize, S_jac, S_jac, S_hessian, S_vmap, S_vmap,
          S_jit, S_nested]


def run_case(seed, verbose=False):
    case = Case(seed)
    rng = random.Random(seed * 7919 + 1)
    stack = rng.choice(STACKS)
    run, params = stack(case, rng)
    r = rng.random()
    CUR[0] = FT if r < 0.55 else FTRO if r < 0.75 else FTS if r < 0.9 else FTT
    if CUR[0] in (FTS, FTT) and (any(d[1] in ("npf", "f32s") for d in case.all_leaves)
                                 or not any(d[1] not in ("pyf", "pyi", "pyb")
                                            for d in case.all_leaves)):
        CUR[0] = FTRO  # (NumPy scalars beside another library's arrays: mixed)
    F32[0] = any(d[1] in ("f32", "f32s") for d in case.all_leaves)
    RELAX[0] = stack is S_jit
    where = f"seed {seed} {stack.__name__} {params} args {case.arg_descs}"
    try:
        where += f" lib {CUR[0].name}"
        MADE.clear()
        res = run_both(lambda: run(CUR[0]), lambda: run(JX), where)
        for t, c in MADE:
            if not _torch.equal(t, c):
                raise Mismatch(f"{where}: a torch input was written into")
    except Mismatch as e:
        return ("MISMATCH", stack.__name__, str(e))
    return res + (stack.__name__, where)


# -- the less-travelled API (``--extra``): one more case per seed, its own generator -----------
# holomorphic grad/jacfwd/jacrev/hessian, linear_transpose of pytree-linear maps, custom_vjp /
# custom_jvp with pytrees and nondiff_argnums, jit's static_argnums/static_argnames/
# donate_argnums, vmap's dict/pytree in_axes and out_axes, hvp, eval_shape, checkpoint
# with policies and static_argnums, hessian/jacfwd/jacrev with has_aux.
HOLO_OPS = ["sin", "exp", "sq", "tanh", "cube", "lin"]


def _holo(L, name, z):
    if name == "sq":
        return z * z
    if name == "cube":
        return z * z * z
    if name == "lin":
        return (0.5 - 1.5j) * z
    return getattr(L.xp, name)(z)


def _cvec(r, n):
    return (r.uniform(-1, 1, n) + 1j * r.uniform(-1, 1, n)).astype(np.complex128)


def X_holomorphic(rng):
    n = rng.randint(1, 3)
    ops = [rng.choice(HOLO_OPS) for _ in range(rng.randint(1, 3))]
    mode = rng.choice(["grad", "jacfwd", "jacrev", "hessian", "jacfwd_aux", "jacrev_aux"])
    z0 = _cvec(np.random.default_rng(rng.randrange(10**6)), n)
    scalar = rng.random() < 0.3

    def fun(L):
        def f(z):
            y = z
            for o in ops:
                y = _holo(L, o, y) + 0.25 * z
            if mode in ("grad", "hessian"):
                return L.xp.sum(y * z)
            return (L.xp.sum(y) if scalar else y), L.xp.abs(y[0])
        return f

    def run(L):
        z = L.arr(z0)
        if mode.endswith("_aux"):
            return getattr(L, mode[:-4])(fun(L), holomorphic=True, has_aux=True)(z)
        g = fun(L)
        if mode == "jacfwd" or mode == "jacrev":
            return getattr(L, mode)(lambda v: g(v)[0], holomorphic=True)(z)
        return getattr(L, mode)(g, holomorphic=True)(z)
    return run, dict(ops=ops, mode=mode, n=n)


def X_linear_transpose(rng):
    shape_a = rng.choice([(3,), (2, 3), ()])
    cplx = rng.random() < 0.2
    seed = rng.randrange(10**6)
    r = np.random.default_rng(seed)
    dt = np.complex128 if cplx else np.float64
    a0 = r.uniform(-1, 1, shape_a).astype(dt)
    b0 = r.uniform(-1, 1, (3,)).astype(dt)
    M = r.uniform(-1, 1, (3, 3))
    k = rng.randrange(5)
    as_dict = rng.random() < 0.5

    def fun(L):
        Mx = L.arr(M)

        def f(t):
            a, b = (t["a"], t["b"]) if as_dict else t
            if k == 0:
                return {"s": L.xp.sum(a) * 2.0 - b[1], "v": L.xp.matmul(Mx, b)}
            if k == 1:
                return (a * 3.0, b[::-1] + b)
            if k == 2:
                return L.xp.concatenate([L.xp.reshape(a, (-1,)), -b])
            if k == 3:
                return [L.xp.sum(b) * 2.0 - a, L.xp.cumsum(b)]
            return L.xp.matmul(Mx, b) - L.xp.mean(a)
        return f

    def run(L):
        prim = {"a": L.arr(a0), "b": L.arr(b0)} if as_dict else (L.arr(a0), L.arr(b0))
        f = fun(L)
        out = jax.eval_shape(fun(JX), {"a": a0, "b": b0} if as_dict else (a0, b0))
        ct = ct_like(jax.tree_util.tree_map(lambda s: np.zeros(s.shape, s.dtype), out), L,
                     seed + 1)
        return L.linear_transpose(f, prim)(ct)
    return run, dict(k=k, shape_a=shape_a, cplx=cplx, as_dict=as_dict)


def _custom(L, kind, nondiff):
    """A custom-derivative function of (c, t) -> {"u": .., "w": (..)} with t = {"x": vec,
    "y": (scalar, vec)}, c a Python float (nondiff when asked); its rule is the true
    derivative times 1.5 on "u" (so that the rule, not the primal, is seen)."""
    xp = L.xp

    def primal(c, t):
        x, (y0, y1) = t["x"], t["y"]
        return {"u": xp.sin(x) * y0 + c * y1, "w": (xp.sum(x * y1), y0 * y0)}
    nd = (0,) if nondiff else ()
    if kind == "vjp":
        f = L.custom_vjp(primal, nondiff_argnums=nd)

        def fwd(c, t):
            return primal(c, t), (c, t)

        def bwd(*a):
            if nondiff:
                c, (_, t), ct = a
            else:
                (c, t), ct = a
            x, (y0, y1) = t["x"], t["y"]
            cu, (cw0, cw1) = ct["u"], ct["w"]
            gx = 1.5 * cu * xp.cos(x) * y0 + cw0 * y1
            gy0 = 1.5 * xp.sum(cu * xp.sin(x)) + 2.0 * cw1 * y0
            gy1 = 1.5 * c * cu + cw0 * x
            gt = {"x": gx, "y": (gy0, gy1)}
            if nondiff:
                return (gt,)
            return (1.5 * xp.sum(cu * y1), gt)
        f.defvjp(fwd, bwd)
        return f
    f = L.custom_jvp(primal, nondiff_argnums=nd)

    def jvp_rule(*a):
        if nondiff:
            c, (t,), (dt,) = a
            dc = 0.0
        else:
            (c, t), (dc, dt) = a
        x, (y0, y1) = t["x"], t["y"]
        dx, (dy0, dy1) = dt["x"], dt["y"]
        out = primal(c, t)
        du = 1.5 * (xp.cos(x) * dx * y0 + xp.sin(x) * dy0 + c * dy1 + dc * y1)
        dw0 = xp.sum(dx * y1 + x * dy1)
        return out, {"u": du, "w": (dw0, 2.0 * y0 * dy0)}
    f.defjvp(jvp_rule)
    return f


def X_custom(rng):
    kind = rng.choice(["vjp", "jvp"])
    nondiff = rng.random() < 0.5
    mode = rng.choice(["grad", "jacrev", "jacfwd", "vmap", "jit_grad", "vmap_grad", "hessian"])
    if kind == "vjp" and mode in ("jacfwd", "hessian"):
        mode = "jacrev"
    r = np.random.default_rng(rng.randrange(10**6))
    x0, y00, y10 = r.uniform(-1, 1, 3), np.float64(r.uniform(-1, 1)), r.uniform(-1, 1, 3)
    c = round(rng.uniform(-2, 2), 3)

    def run(L):
        f = _custom(L, kind, nondiff)
        t = {"x": L.arr(x0), "y": (L.arr(np.asarray(y00)), L.arr(y10))}

        def loss(t):
            o = f(c, t)
            return L.xp.sum(o["u"] * o["u"]) + o["w"][0] * o["w"][1]
        if mode == "grad":
            return L.grad(loss)(t)
        if mode == "jit_grad":
            return L.jit(L.grad(loss))(t)
        if mode == "hessian":
            return L.hessian(loss)(t)
        if mode in ("jacrev", "jacfwd"):
            return getattr(L, mode)(lambda t: f(c, t))(t)
        tb = {"x": L.arr(np.stack([x0, x0 * 0.5])), "y": (L.arr(np.asarray(y00)),
                                                         L.arr(np.stack([y10, -y10])))}
        axes = ({"x": 0, "y": (None, 0)},)
        if mode == "vmap":
            return L.vmap(lambda t: f(c, t), in_axes=axes)(tb)
        return L.vmap(L.grad(loss), in_axes=axes)(tb)
    return run, dict(kind=kind, nondiff=nondiff, mode=mode)


def X_jit_static(rng):
    which = rng.choice(["argnums", "argnames", "neg_argnums", "donate"])
    r = np.random.default_rng(rng.randrange(10**6))
    x0 = r.uniform(-1, 1, (2, 3))
    ks = [rng.randint(0, 2) for _ in range(2)]
    modes = [rng.choice(["sum", "prod", "max"]) for _ in range(2)]

    def fun(L):
        def f(x, k, mode="sum"):
            y = L.xp.sin(x) * (k + 1)
            if mode == "sum":
                return L.xp.sum(y, axis=k % 2)
            if mode == "prod":
                return L.xp.prod(y, axis=k % 2)
            return L.xp.max(y, axis=k % 2)
        return f

    def run(L):
        f = fun(L)
        if which == "argnums":
            g = L.jit(f, static_argnums=(1, 2))
            return [g(L.arr(x0), k, m) for k, m in zip(ks, modes)]
        if which == "neg_argnums":
            # (negative positions: JAX counts them from the call's positional arguments,
            # functrans from the signature's; the same where every one is passed)
            g = L.jit(f, static_argnums=(-2, -1))
            return [g(L.arr(x0), k, m) for k, m in zip(ks, modes)]
        if which == "argnames":
            g = L.jit(f, static_argnames=("k", "mode"))
            return [g(L.arr(x0), k=k, mode=m) for k, m in zip(ks, modes)]
        g = L.jit(lambda x, y: L.xp.sin(x) + y, donate_argnums=0)
        return [g(L.arr(x0), L.arr(x0[:1] * 2.0)), L.grad(
            lambda x: L.xp.sum(g(x * 1.0, x[:1])))(L.arr(x0))]
    return run, dict(which=which, ks=ks, modes=modes)


def X_vmap_axes(rng):
    r = np.random.default_rng(rng.randrange(10**6))
    ax_a = rng.choice([0, 1, -1, None])
    ax_b = rng.choice([0, -1, None]) if ax_a is not None else 0
    out_u = rng.choice([0, 1, -1, None])
    out_v = rng.choice([0, -1])
    dict_out = rng.random() < 0.5
    inner = rng.choice(["plain", "grad", "jacfwd", "jit"])
    a_unb, b_unb = r.uniform(-1, 1, (2, 3)), r.uniform(-1, 1, (3,))
    a = np.moveaxis(np.stack([a_unb * (k + 1) for k in range(B)]), 0, ax_a) \
        if ax_a is not None else a_unb
    b = np.moveaxis(np.stack([b_unb - k for k in range(B)]), 0, ax_b) \
        if ax_b is not None else b_unb
    if out_u is None:
        out_u = 0  # (u depends on the mapped values: out_axes None is refused by both)

    def run(L):
        xp = L.xp

        def f(t):
            u = xp.sum(xp.multiply(t["a"], t["b"])) + xp.sin(t["b"][0])
            # (multiply, matmul, not * and @: array-api-strict's operators refuse a tracer on
            # their right with TypeError instead of returning NotImplemented)
            v = xp.matmul(xp.tanh(t["a"]), t["b"])
            return {"u": u, "v": v} if dict_out else (u, v)
        if inner == "grad":
            def g(t):
                return L.grad(lambda t: f(t)["u"] if dict_out else f(t)[0])(t)
            oax = {"a": out_v, "b": out_v}
        elif inner == "jacfwd":
            g = L.jacfwd(lambda t: f(t)["v"] if dict_out else f(t)[1])
            oax = {"a": out_v, "b": out_v}
        else:
            g = L.jit(f) if inner == "jit" else f
            oax = {"u": out_u, "v": out_v} if dict_out else (out_u, out_v)
        return L.vmap(g, in_axes=({"a": ax_a, "b": ax_b},), out_axes=oax)(
            {"a": L.arr(a), "b": L.arr(b)})
    return run, dict(ax_a=ax_a, ax_b=ax_b, out_u=out_u, out_v=out_v, dict_out=dict_out,
                     inner=inner)


def X_hvp_eval_shape(rng):
    case = Case(rng.randrange(10**6))
    seed = rng.randrange(10**6)
    which = rng.choice(["hvp", "eval_shape", "hessian_aux", "jacfwd_aux", "jacrev_aux"])

    def run(L):
        args = case.args(L)
        if which == "hvp":
            f = case.fun(L, "scalar")
            if L is JX:
                hv = jax.jvp(jax.grad(f, argnums=tuple(range(case.nargs))), args,
                             tangents_for(case, L, seed))[1]
                return hv[0] if case.nargs == 1 else hv  # (ft.hvp: one primal, one result)
            return ft.hvp(f, args, tangents_for(case, L, seed))
        if which == "eval_shape":
            o = L_eval_shape(L)(case.fun(L, "tree", True), *args)
            return jax.tree_util.tree_map(lambda s: (tuple(s.shape), str(np.dtype(s.dtype))),
                                          o)
        mode = which[:-4]
        return getattr(L, mode)(case.fun(L, "scalar" if mode == "hessian" else "tree", True),
                                argnums=tuple(range(case.nargs)), has_aux=True)(*args)
    return run, dict(which=which, args=case.arg_descs, int_ok=case.int_ok)


def L_eval_shape(L):
    return jax.eval_shape if L is JX else ft.eval_shape


def X_checkpoint(rng):
    pol = rng.choice([None, "nothing_saveable", "everything_saveable", "dots_saveable",
                      "names"])
    static = rng.random() < 0.4
    mode = rng.choice(["grad", "jacrev", "hessian", "vmap_grad", "jit_grad"])
    r = np.random.default_rng(rng.randrange(10**6))
    x0, W = r.uniform(-1, 1, 3), r.uniform(-1, 1, (3, 3))

    def run(L):
        xp = L.xp
        Wx = L.arr(W)
        name = ft.ad_checkpoint.checkpoint_name if L is not JX else jax.ad_checkpoint.checkpoint_name
        pols = ft.checkpoint_policies if L is not JX else jax.checkpoint_policies
        policy = None if pol is None else pols.save_only_these_names("h") \
            if pol == "names" else getattr(pols, pol)

        def block(x, n):
            h = name(xp.tanh(xp.matmul(Wx, x)), "h")
            for _ in range(n):
                h = xp.sin(h) * x
            return xp.sum(h * h)
        if static:
            g = L.checkpoint(block, policy=policy, static_argnums=(1,))

            def loss(x):
                return g(x, 2)
        else:
            g = L.checkpoint(lambda x: block(x, 2), policy=policy)
            loss = g
        x = L.arr(x0)
        if mode == "grad":
            return L.grad(loss)(x)
        if mode == "jit_grad":
            return L.jit(L.grad(loss))(x)
        if mode == "jacrev":
            return L.jacrev(lambda x: loss(x) * x)(x)
        if mode == "hessian":
            return L.hessian(loss)(x)
        return L.vmap(L.grad(loss))(L.arr(np.stack([x0, -x0])))
    return run, dict(pol=pol, static=static, mode=mode)


EXTRA_STACKS = [X_holomorphic, X_linear_transpose, X_custom, X_custom, X_jit_static,
                X_vmap_axes, X_hvp_eval_shape, X_checkpoint]


def run_extra(seed):
    rng = random.Random(seed * 7919 + 2)
    stack = rng.choice(EXTRA_STACKS)
    run, params = stack(rng)
    CUR[0] = FT if rng.random() < 0.6 else FTS if rng.random() < 0.5 else FTT
    if stack is X_hvp_eval_shape:
        CUR[0] = FT  # (its pytrees' NumPy and Python scalars beside arrays: NumPy's)
    F32[0] = False
    RELAX[0] = True
    where = f"seed {seed} {stack.__name__} {params} lib {CUR[0].name}"
    try:
        MADE.clear()
        res = run_both(lambda: run(CUR[0]), lambda: run(JX), where)
    except Mismatch as e:
        return ("MISMATCH", stack.__name__, str(e))
    return res + (stack.__name__, where)


def main(argv):
    lo, hi = int(argv[1]), int(argv[2])
    for seed in range(lo, hi):
        try:
            r = run_extra(seed) if "--extra" in argv else run_case(seed)
        except Exception as e:  # harness errors
            print("HARNESS", seed, type(e).__name__, e)
            traceback.print_exc()
            continue
        stack = r[1] if r[0] == "MISMATCH" else r[-2]
        TALLY.count(f"{r[0]} {stack}")
        if r[0] == "MISMATCH":
            TALLY.fail(stack, f"seed {seed}", r[2][:2500])
        elif r[0] == "both-error" and "-v" in argv:
            print("BOTH", seed, r[1:5], r[-1][:300])
        elif r[0] == "jax-error":
            print("JAXERR", seed, r[1:3], r[-1][:500])
    print(NOTES)
    return TALLY.exit_status("outcome per stack:")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
