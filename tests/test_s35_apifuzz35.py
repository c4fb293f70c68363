"""apifuzz35: the transforms' API surface on random (function, pytree, transform) cases — every
node kind (tuple, list, dict with unsorted keys, OrderedDict, defaultdict, namedtuple, None,
empty containers, a registered class, a dataclass), 0-d arrays, Python and NumPy scalars,
float32 and float64 leaves — checked against central differences, the dot-product identity and
the definition of vmap (a loop), and against JAX where it is installed; and the fixes the
fuzzing led to (vmap's axes read by key, jacfwd's empty blocks' dtype, aux leaves)."""

import collections
import dataclasses
import random

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp
from functrans import tree as T

# -- the pytrees -----------------------------------------------------------------------------------

_NT = collections.namedtuple("_NT", "a b")
_NT1 = collections.namedtuple("_NT1", "x")


class _Box:
    """A registered node with static data (its tag)."""

    def __init__(self, a, b, tag="t"):
        self.a, self.b, self.tag = a, b, tag


def _box_flatten(o):
    return (o.a, o.b), o.tag


def _box_unflatten(tag, children):
    return _Box(children[0], children[1], tag)


T.register_pytree_node(_Box, _box_flatten, _box_unflatten)


@dataclasses.dataclass
class _DC:
    w: object
    b: object
    name: str = "dc"


T.register_dataclass(_DC, data_fields=["w", "b"], meta_fields=["name"])

_FLOAT_KINDS = ("a0", "pyf", "npf", "v2", "m23", "f32", "e0", "v1")
_NODES = ("tuple", "list", "dict", "odict", "ddict", "nt", "nt1", "none", "box", "dc",
          "empty_tuple", "empty_list", "empty_dict")


def _leaf(kind, seed):
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
    if kind == "i2":
        return r.integers(-3, 3, 2)
    raise ValueError(kind)


def _gen_tree(rng, depth, kinds, counter):
    if depth <= 0 or rng.random() < 0.4:
        counter[0] += 1
        return ("leaf", rng.choice(kinds), counter[0])
    k = rng.choice(_NODES)
    if k in ("tuple", "list"):
        return (k, [_gen_tree(rng, depth - 1, kinds, counter) for _ in range(rng.randint(1, 3))])
    if k in ("dict", "odict", "ddict"):
        keys = rng.sample(["z", "a", "m", "b", "y"], rng.randint(1, 3))  # (unsorted)
        return (k, [(key, _gen_tree(rng, depth - 1, kinds, counter)) for key in keys])
    if k in ("nt", "box", "dc"):
        return (k, [_gen_tree(rng, depth - 1, kinds, counter) for _ in range(2)])
    if k == "nt1":
        return (k, [_gen_tree(rng, depth - 1, kinds, counter)])
    return (k,)


def _build(desc, leaf):
    k = desc[0]
    if k == "leaf":
        return leaf(desc[1], desc[2])
    kids = [_build(c, leaf) for c in desc[1]] if k in ("tuple", "list", "nt", "nt1", "box",
                                                       "dc") else None
    if k in ("dict", "odict", "ddict"):
        items = [(key, _build(c, leaf)) for key, c in desc[1]]
        if k == "dict":
            return dict(items)
        if k == "odict":
            return collections.OrderedDict(items)
        d = collections.defaultdict(list)
        d.update(items)
        return d
    return {"tuple": tuple, "list": list, "nt": lambda c: _NT(*c), "nt1": lambda c: _NT1(*c),
            "box": lambda c: _Box(*c), "dc": lambda c: _DC(*c)}.get(k, lambda c: None)(kids) \
        if kids is not None else {"none": None, "empty_tuple": (), "empty_list": [],
                                  "empty_dict": {}}[k]


_OPS = (lambda xp, x: xp.sin(x), lambda xp, x: xp.tanh(x) * x, lambda xp, x: x * x,
        lambda xp, x: xp.exp(x * 0.5), lambda xp, x: x, lambda xp, x: xp.cos(x) + 2.0)


class _Case:
    """A random function of 1-3 pytree arguments and its arguments."""

    def __init__(self, seed, int_ok=False, kinds=_FLOAT_KINDS):
        rng = random.Random(seed)
        self.rng = rng
        counter = [1000 * seed]
        self.nargs = rng.randint(1, 3)
        kinds = kinds + (("i2",) if int_ok else ())
        self.arg_descs = [_gen_tree(rng, rng.randint(0, 3), kinds, counter)
                          for _ in range(self.nargs)]
        self.kinds = [k for a in self.args(lambda k, s: k) for k in T.leaves(a)]
        self.ops = [rng.randrange(len(_OPS)) for _ in self.kinds]
        self.coefs = [round(rng.uniform(-2, 2), 3) for _ in self.kinds]
        self.out_desc = _gen_tree(rng, rng.randint(0, 3), ("o",), counter)
        self.f32 = "f32" in self.kinds

    def args(self, leaf=_leaf):
        return tuple(_build(d, leaf) for d in self.arg_descs)

    def fun(self, xp, leaves_of, out="scalar"):
        kinds, ops, coefs, out_desc = self.kinds, self.ops, self.coefs, self.out_desc

        def f(*args):
            leaves = leaves_of(args)
            vals = [_OPS[o](xp, x if k != "i2" else xp.astype(xp.asarray(x), xp.float64))
                    for x, k, o in zip(leaves, kinds, ops)]
            s = 0.0
            for c, v in zip(coefs, vals):
                s = xp.add(s, c * xp.sum(v))
            if out == "scalar":
                return s
            pool = vals or [s]

            def out_leaf(kind, seed):
                v = pool[seed % len(pool)]
                return (xp.multiply(v, s), xp.sin(v), v * 3.0, v + 1.0)[seed % 4]
            return _build(out_desc, out_leaf)
        return f


def _tol(case):
    return dict(rtol=3e-3, atol=3e-3) if case.f32 else dict(rtol=1e-6, atol=1e-7)


# -- references ------------------------------------------------------------------------------------

def _perturbed(args, k, index, h):
    """``args`` with element ``index`` of leaf ``k`` moved by ``h`` (the leaf's own type kept)."""
    leaves, tree = T.flatten(args)
    x = leaves[k]
    if isinstance(x, float):
        leaves[k] = x + h
    elif isinstance(x, np.generic):
        leaves[k] = type(x)(x + h)
    else:
        y = np.array(x, copy=True)
        y[index] += h
        leaves[k] = y
    return T.unflatten(tree, leaves)


def _fd_jac(f, args, k):
    """Central differences of ``f`` (one array out) in leaf ``k`` of ``args``: shape
    ``out.shape + leaf.shape`` (float64 arithmetic on float64 leaves; a float32 leaf takes a
    larger step)."""
    x = T.leaves(args)[k]
    shape = np.shape(x)
    h = 1e-2 if np.asarray(x).dtype == np.float32 else 1e-6
    cols = []
    for index in np.ndindex(*shape):
        up = np.asarray(f(*_perturbed(args, k, index, h)), np.float64)
        down = np.asarray(f(*_perturbed(args, k, index, -h)), np.float64)
        cols.append((up - down) / (2 * h))
    out_shape = np.shape(f(*args))
    if not cols:
        return np.zeros(out_shape + shape)
    return np.stack(cols, axis=-1).reshape(out_shape + shape)


_fd_grad_leaf = _fd_jac


def _is_plain_result(x):
    return type(x) is np.ndarray


def _assert_tree_like(result, like, what):
    """``result`` has the structure of ``like`` and NumPy arrays at its leaves, each of the
    shape and dtype of the leaf of ``like`` there (a Python float as float64)."""
    assert T.structure(result) == T.structure(like), what
    for r, x in zip(T.leaves(result), T.leaves(like)):
        assert _is_plain_result(r), (what, type(r))
        assert r.shape == np.shape(x), (what, r.shape, np.shape(x))
        want = np.float64 if isinstance(x, float) else np.asarray(x).dtype
        assert r.dtype == want, (what, r.dtype, want)


def _argnums_for(rng, n):
    r = rng.random()
    return 0 if r < 0.3 else -1 if r < 0.45 else tuple(rng.sample(range(n), rng.randint(1, n))) \
        if r < 0.75 else rng.randrange(n)


def _picked(args, argnums):
    return args[argnums] if isinstance(argnums, int) else tuple(args[i] for i in argnums)


def _leaf_offset(args, argnums):
    """The indices, among all leaves of ``args``, of the leaves of the picked arguments."""
    nums = [argnums % len(args)] if isinstance(argnums, int) else [i % len(args)
                                                                   for i in argnums]
    sizes = [len(T.leaves(a)) for a in args]
    starts = np.cumsum([0] + sizes)
    return [j for i in nums for j in range(starts[i], starts[i] + sizes[i])]


def _snapshot(args):
    return [np.array(x, copy=True) for x in T.leaves(args)]


def _assert_unchanged(args, snap):
    for x, s in zip(T.leaves(args), snap):
        np.testing.assert_array_equal(np.asarray(x), s)


# -- the fuzz cases --------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(40))
def test_grad_and_value_and_grad_against_differences(seed):
    case = _Case(seed)
    rng = case.rng
    argnums, has_aux = _argnums_for(rng, case.nargs), rng.random() < 0.4
    f = case.fun(fnp, T.leaves)
    args = case.args()
    snap = _snapshot(args)
    g_fun = (lambda *a: (f(*a), {"n": 3, "v": a[0]})) if has_aux else f
    vg = ft.value_and_grad(g_fun, argnums=argnums, has_aux=has_aux)(*args)
    g = ft.grad(g_fun, argnums=argnums, has_aux=has_aux)(*args)
    if has_aux:
        (value, aux), grads = vg
        g, aux2 = g
        assert aux["n"] == 3 and aux2["n"] == 3
        assert T.structure(aux["v"]) == T.structure(args[0])
    else:
        value, grads = vg
    _assert_unchanged(args, snap)
    assert _is_plain_result(value) and value.shape == ()
    np.testing.assert_allclose(value, np.asarray(f(*args), np.float64), **_tol(case))
    picked = _picked(args, argnums)
    _assert_tree_like(grads, picked, f"seed {seed}")
    _assert_tree_like(g, picked, f"seed {seed}")
    for a, b in zip(T.leaves(g), T.leaves(grads)):
        np.testing.assert_array_equal(a, b)
    for k, got in zip(_leaf_offset(args, argnums), T.leaves(grads)):
        np.testing.assert_allclose(got, _fd_grad_leaf(f, args, k), **_tol(case))


def _tangents(args, seed):
    r = np.random.default_rng(seed)

    def one(x):
        if isinstance(x, float):
            return float(r.uniform(-1, 1))
        t = r.uniform(-1, 1, np.shape(x)).astype(np.asarray(x).dtype)
        return t[()] if isinstance(x, np.generic) else t
    return T.map(one, args)


def _dot(a, b):
    return sum(float(np.sum(np.asarray(x, np.float64) * np.asarray(y, np.float64)))
               for x, y in zip(T.leaves(a), T.leaves(b)))


@pytest.mark.parametrize("seed", range(100, 130))
def test_jvp_vjp_linearize_against_differences_and_each_other(seed):
    case = _Case(seed)
    f = case.fun(fnp, T.leaves, out="tree")
    args = case.args()
    snap = _snapshot(args)
    tangents = _tangents(args, seed)
    out, t_out = ft.jvp(f, args, tangents)
    out_l, f_jvp = ft.linearize(f, *args)
    out_v, f_vjp = ft.vjp(f, *args)
    ref = f(*args)
    for o in (out, out_l, out_v):
        _assert_tree_like(o, T.map(lambda y: np.asarray(y), ref), f"seed {seed}")
    _assert_tree_like(t_out, out, f"seed {seed}")
    t_lin = f_jvp(*tangents)
    _assert_tree_like(t_lin, out, f"seed {seed}")
    # the tangent by central differences along the tangents (float64 leaves only)
    h = 1e-6
    if not case.f32:
        up = f(*T.map(lambda x, t: x + h * t, args, tangents))
        down = f(*T.map(lambda x, t: x - h * t, args, tangents))
        for a, u, d in zip(T.leaves(t_out), T.leaves(up), T.leaves(down)):
            np.testing.assert_allclose(a, (np.asarray(u) - np.asarray(d)) / (2 * h),
                                       rtol=1e-5, atol=1e-6)
    for a, b in zip(T.leaves(t_out), T.leaves(t_lin)):
        np.testing.assert_allclose(a, b, **_tol(case))
    # <u, J t> = <J^T u, t>
    u = _tangents(out, seed + 1)
    cts = f_vjp(u)
    assert type(cts) is tuple and len(cts) == len(args)
    _assert_tree_like(cts, args, f"seed {seed}")
    np.testing.assert_allclose(_dot(u, t_out), _dot(cts, tangents), **_tol(case))
    _assert_unchanged(args, snap)


@pytest.mark.parametrize("seed", range(200, 225))
def test_jacobians_and_hessian_against_differences(seed):
    case = _Case(seed)
    rng = case.rng
    argnums = _argnums_for(rng, case.nargs)
    f = case.fun(fnp, T.leaves)
    args = case.args()
    snap = _snapshot(args)
    j_fwd = ft.jacfwd(f, argnums=argnums)(*args)
    j_rev = ft.jacrev(f, argnums=argnums)(*args)
    grads = ft.grad(f, argnums=argnums)(*args)
    picked = _picked(args, argnums)
    # a scalar output: the Jacobian is the gradient, block dtypes as JAX's (the output's in
    # forward mode, the input's in reverse mode)
    out_dtype = np.asarray(f(*args)).dtype
    assert T.structure(j_fwd) == T.structure(picked) == T.structure(j_rev)
    for a, b, g, x in zip(T.leaves(j_fwd), T.leaves(j_rev), T.leaves(grads), T.leaves(picked)):
        assert _is_plain_result(a) and _is_plain_result(b)
        assert a.shape == b.shape == np.shape(x)
        assert a.dtype == out_dtype and b.dtype == g.dtype
        np.testing.assert_allclose(a, g, **_tol(case))
        np.testing.assert_allclose(b, g, **_tol(case))
    hess = ft.hessian(f, argnums=argnums)(*args)
    assert T.structure(hess) == T.structure(T.map(lambda x: picked, picked))
    # block (i, j): the derivative of the gradient's leaf i in leaf j, by differences
    offsets = _leaf_offset(args, argnums)
    xs = T.leaves(picked)
    check = not case.f32 and sum(np.size(x) for x in xs) <= 12
    for i, row in enumerate(T.structure(picked).flatten_up_to(hess)):
        for j, block in enumerate(T.leaves(row)):
            assert _is_plain_result(block)
            assert block.shape == np.shape(xs[i]) + np.shape(xs[j])
            if check:
                ref = _fd_jac(lambda *a: T.leaves(ft.grad(f, argnums=argnums)(*a))[i], args,
                              offsets[j])
                np.testing.assert_allclose(block, ref, rtol=1e-5, atol=1e-6)
    _assert_unchanged(args, snap)


def _mappable(kind):
    return kind not in ("pyf", "npf")


def _axes_for(desc, rng, plan):
    """A random in_axes prefix for an argument of structure ``desc`` (ints, None, subtrees;
    for a dict-like node sometimes a node of another dict type, whose keys match), and the
    axis of each leaf by seed in ``plan``."""
    def leaves_of(d):
        if d[0] == "leaf":
            return [d]
        if d[0] in ("dict", "odict", "ddict"):
            return [x for _, c in d[1] for x in leaves_of(c)]
        if len(d) > 1:
            return [x for c in d[1] for x in leaves_of(c)]
        return []

    def ok(d, ax):
        return all(_mappable(k) and -(np.ndim(_leaf(k, 0)) + 1) <= ax <= np.ndim(_leaf(k, 0))
                   for _, k, _ in leaves_of(d))

    def go(d):
        r = rng.random()
        if r < 0.2:
            plan.update((s, None) for _, _, s in leaves_of(d))
            return None
        if d[0] == "leaf" or r < 0.45:
            for ax in rng.sample([0, -1, 1], 3):
                if ok(d, ax):
                    plan.update((s, ax) for _, _, s in leaves_of(d))
                    return ax
            if d[0] == "leaf":
                plan[d[2]] = None
                return None
        k = d[0]
        if k in ("dict", "odict", "ddict"):
            items = [(key, go(c)) for key, c in d[1]]
            rng.shuffle(items)  # (another order: matched by key)
            return rng.choice([dict, collections.OrderedDict])(items)
        if len(d) > 1:
            kids = [go(c) for c in d[1]]
            return {"tuple": tuple, "list": list, "nt": lambda c: _NT(*c),
                    "nt1": lambda c: _NT1(*c), "box": lambda c: _Box(*c),
                    "dc": lambda c: _DC(*c)}[k](kids)
        return None
    return go(desc)


@pytest.mark.parametrize("seed", range(300, 340))
def test_vmap_is_a_loop_with_every_in_axes_prefix(seed):
    case = _Case(seed)
    rng = case.rng
    plan = {}
    in_axes = tuple(_axes_for(d, rng, plan) for d in case.arg_descs)
    out_axes = rng.choice([0, -1])
    inner = rng.choice(["plain", "grad", "jit"])
    size = 3

    def batched_leaf(kind, s):
        v = _leaf(kind, s)
        ax = plan.get(s)
        if ax is None:
            return v
        return np.moveaxis(np.stack([np.asarray(v) + 0.25 * m for m in range(size)]), 0, ax)

    def member_leaf(m):
        def leaf(kind, s):
            v = _leaf(kind, s)
            return v if plan.get(s) is None else np.asarray(v) + 0.25 * m
        return leaf

    f = case.fun(fnp, T.leaves)
    if inner == "grad":
        f = ft.grad(f, argnums=tuple(range(case.nargs)))
    elif inner == "jit":
        f = ft.jit(f)
    args = case.args(batched_leaf)
    snap = _snapshot(args)
    if all(ax is None for ax in plan.values()):
        with pytest.raises(ft.errors.BatchingError, match="axis_size"):
            ft.vmap(f, in_axes=in_axes, out_axes=out_axes)(*args)
        return
    out = ft.vmap(f, in_axes=in_axes, out_axes=out_axes)(*args)
    _assert_unchanged(args, snap)
    members = [f(*case.args(member_leaf(m))) for m in range(size)]
    assert T.structure(out) == T.structure(members[0])
    for i, o in enumerate(T.leaves(out)):
        ref = np.stack([np.asarray(T.leaves(mb)[i]) for mb in members])
        ref = np.moveaxis(ref, 0, out_axes % ref.ndim)
        assert _is_plain_result(o) and o.shape == ref.shape and o.dtype == ref.dtype
        np.testing.assert_allclose(o, ref, rtol=1e-12 if not case.f32 else 1e-5, atol=1e-12)


def _on(backend, tree):
    return T.map(lambda x: backend.asarray(x, dtype=x.dtype.name) if isinstance(x, np.ndarray)
                 else x, tree)


@pytest.mark.parametrize("seed", range(500, 512))
def test_fuzz_cases_on_every_backend(backend, seed):
    # the same results, as arrays of the inputs' library and device (Python floats join them)
    case = _Case(seed, kinds=("a0", "pyf", "v2", "m23", "f32", "e0", "v1"))
    rng = case.rng
    argnums = _argnums_for(rng, case.nargs)
    if not any(isinstance(x, np.ndarray) for x in T.leaves(case.args())):
        return  # (no array to take the library from)
    f = case.fun(fnp, T.leaves)
    f_tree = case.fun(fnp, T.leaves, out="tree")
    args_np = case.args()
    args = _on(backend, args_np)
    tangents = _tangents(args_np, seed)
    runs = [lambda a: ft.value_and_grad(f, argnums=argnums)(*a),
            lambda a: ft.jacrev(f_tree, argnums=argnums)(*a),
            lambda a: ft.jacfwd(f, argnums=argnums)(*a),
            lambda a: ft.jvp(f_tree, a, _on(backend, tangents) if a is args else tangents),
            lambda a: ft.vjp(f_tree, *a)[1](T.map(
                lambda y: np.ones(np.shape(y), np.asarray(backend.to_numpy(y)).dtype)
                if a is args_np else backend.asarray(np.ones(np.shape(backend.to_numpy(y))),
                                                     dtype=str(backend.to_numpy(y).dtype)),
                f_tree(*a)))]
    for run in runs:
        ref, got = run(args_np), run(args)
        assert T.structure(got) == T.structure(ref)
        for r, g in zip(T.leaves(ref), T.leaves(got)):
            assert backend.is_own(g), type(g)
            g = backend.to_numpy(g)
            assert g.dtype == r.dtype and g.shape == r.shape
            np.testing.assert_allclose(g, r, rtol=1e-12, atol=1e-12)


# -- against JAX (not installed in CI) ------------------------------------------------------------

def _jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    try:
        jax.tree_util.register_pytree_node(_Box, _box_flatten, _box_unflatten)
        jax.tree_util.register_dataclass(_DC, data_fields=["w", "b"], meta_fields=["name"])
    except ValueError:  # (registered by an earlier test)
        pass
    return jax


def _same(ours, theirs, jax, case, what):
    assert jax.tree_util.tree_structure(ours) == jax.tree_util.tree_structure(theirs), what
    for a, b in zip(jax.tree_util.tree_leaves(ours), jax.tree_util.tree_leaves(theirs)):
        if type(a) is int:  # (an aux's Python int, as it was returned)
            assert a == b
            continue
        assert _is_plain_result(a), (what, type(a))
        b = np.asarray(b)
        if b.dtype == jax.dtypes.float0:  # (JAX's float0: ours are zeros of the input's dtype)
            assert a.shape == b.shape and not np.any(a)
            continue
        assert a.dtype == b.dtype and a.shape == b.shape, (what, a.dtype, b.dtype)
        np.testing.assert_allclose(a, b, **(dict(rtol=1e-5, atol=1e-6) if case.f32 else
                                            dict(rtol=1e-11, atol=1e-12)))


@pytest.mark.parametrize("seed", range(400, 424))
def test_transform_stacks_as_jax(seed):
    jax = _jax()
    jnp = jax.numpy
    case = _Case(seed, int_ok=seed % 5 == 0)
    rng = case.rng
    kind = rng.choice(["grad", "vg", "jacfwd", "jacrev", "hessian", "jvp", "vjp", "jit_grad",
                       "grad_jit", "jvp_grad"])
    argnums = _argnums_for(rng, case.nargs)
    has_aux = rng.random() < 0.3
    allow_int = "i2" in case.kinds
    if allow_int and kind in ("jacfwd", "hessian", "jvp_grad"):
        kind = "grad"
    seed_t = rng.randrange(1000)

    def run(L, xp, leaves_of, arr):
        args = T.map(arr, case.args())
        f = case.fun(xp, leaves_of, out="tree" if kind in ("jacfwd", "jacrev", "jvp", "vjp")
                     else "scalar")
        fa = (lambda *a: (f(*a), {"v": leaves_of(a)[:1], "k": 2})) if has_aux else f
        kw = dict(argnums=argnums, has_aux=has_aux)
        if kind in ("grad", "vg", "jit_grad", "grad_jit"):
            kw["allow_int"] = allow_int
        if kind == "jacrev" and allow_int:
            kw["allow_int"] = True
        if kind == "grad":
            return L.grad(fa, **kw)(*args)
        if kind == "vg":
            return L.value_and_grad(fa, **kw)(*args)
        if kind in ("jacfwd", "jacrev", "hessian"):
            return getattr(L, kind)(fa, **kw)(*args)
        if kind == "jit_grad":
            return L.jit(L.grad(fa, **kw))(*args)
        if kind == "grad_jit":
            return L.grad(L.jit(fa), **kw)(*args)
        ts = T.map(arr, _tangents(case.args(), seed_t))
        if allow_int:
            ts = T.map(lambda x, t: np.zeros(np.shape(x), jax.dtypes.float0)
                       if np.asarray(x).dtype.kind == "i" else t, case.args(), ts)
        if kind == "jvp":
            return L.jvp(fa, args, ts, has_aux=has_aux)
        if kind == "jvp_grad":
            return L.jvp(L.grad(f, argnums=tuple(range(case.nargs))), args, ts)
        res = L.vjp(fa, *args, has_aux=has_aux)
        u = _tangents(T.map(lambda y: np.asarray(y), res[0]), seed_t + 1)
        return (res[0], res[1](T.map(arr, u))) + tuple(res[2:])

    ours = run(ft, fnp, T.leaves, lambda x: x)
    theirs = run(jax, jnp, jax.tree_util.tree_leaves,
                 lambda x: jnp.asarray(x) if isinstance(x, np.ndarray) else x)
    _same(ours, theirs, jax, case, f"seed {seed} {kind} argnums={argnums} aux={has_aux}")


# -- the fixes -------------------------------------------------------------------------------------

_X = np.arange(6.0).reshape(2, 3)
_V = np.arange(3.0)


@pytest.mark.parametrize("chunk_size", [None, 1])
def test_vmap_in_axes_dict_matched_by_key_to_an_ordered_dict(chunk_size):
    # a dict prefix for an OrderedDict argument (and the other way round) took the prefix's
    # leaves in its own key order: the axis of 'a' went to 'b', silently
    ref = _X + _V
    od = collections.OrderedDict([("b", _V), ("a", _X)])
    for arg, axes in [(od, {"a": 0, "b": None}),
                      ({"a": _X, "b": _V}, collections.OrderedDict([("b", None), ("a", 0)])),
                      (collections.defaultdict(list, [("b", _V), ("a", _X)]),
                       collections.OrderedDict([("b", None), ("a", 0)])),
                      ({1: _X, "b": _V}, {"b": None, 1: 0})]:  # (unsortable keys)
        key = "a" if "a" in arg else 1
        out = ft.vmap(lambda p: p[key] + p["b"], in_axes=(axes,), chunk_size=chunk_size)(arg)
        np.testing.assert_array_equal(out, ref)


@pytest.mark.parametrize("chunk_size", [None, 1])
def test_vmap_out_axes_dict_matched_by_key_to_an_ordered_dict(chunk_size):
    g = lambda x: collections.OrderedDict([("b", x * 2), ("a", x)])  # noqa: E731
    out = ft.vmap(g, out_axes={"a": 0, "b": 1}, chunk_size=chunk_size)(_X)
    assert list(out) == ["b", "a"]
    np.testing.assert_array_equal(out["a"], _X)
    np.testing.assert_array_equal(out["b"], 2 * _X.T)


def test_jacfwd_block_of_an_empty_input_has_the_outputs_dtype():
    # (JAX's: forward mode's blocks are the outputs' tangents, reverse mode's the inputs'
    # cotangents; the empty input's block was the input's dtype in both)
    def f(a, b):
        return fnp.astype(fnp.sum(a) + fnp.sum(b), fnp.float32) * fnp.ones(2, dtype=fnp.float32)
    x, e = np.ones(2), np.zeros(0)
    fwd = ft.jacfwd(f, argnums=(0, 1))(x, e)
    rev = ft.jacrev(f, argnums=(0, 1))(x, e)
    assert [b.dtype for b in fwd] == [np.float32, np.float32]
    assert [b.dtype for b in rev] == [np.float64, np.float64]
    assert fwd[1].shape == rev[1].shape == (2, 0)
    # hessian = jacfwd(jacrev): the row of a float32 input has float32 blocks, empty ones too
    h = ft.hessian(lambda a, b: fnp.sum(a * a) + fnp.sum(b * b), argnums=(0, 1))(
        np.ones(2, np.float32), e)
    assert [[b.dtype for b in row] for row in h] == [[np.float32] * 2, [np.float64] * 2]


def _aux_fun(x):
    # NumPy scalars (what NumPy computes from 0-d arrays) and functrans.numpy's arrays made
    # inside (which have .at) in the aux
    return fnp.sin(x), {"c": fnp.zeros(2), "r": fnp.arange(2), "s": np.float64(0.5),
                        "t": x * 2.0, "n": 3, "str": "k"}


@pytest.mark.parametrize("transform", ["grad", "value_and_grad", "jvp", "vjp", "linearize",
                                       "jacfwd", "jacrev", "hessian"])
def test_aux_leaves_are_plain_arrays(transform):
    x = np.asarray(0.3)
    if transform == "jvp":
        aux = ft.jvp(_aux_fun, (x,), (x,), has_aux=True)[2]
    elif transform in ("vjp", "linearize"):
        aux = getattr(ft, transform)(_aux_fun, x, has_aux=True)[2]
    else:
        aux = getattr(ft, transform)(_aux_fun, has_aux=True)(x)
        aux = aux[0][1] if transform == "value_and_grad" else aux[1]
    assert aux["n"] == 3 and aux["str"] == "k"
    for key in ("c", "r", "s", "t"):
        assert type(aux[key]) is np.ndarray, (key, type(aux[key]))
    assert aux["s"].shape == () and float(aux["s"]) == 0.5
    np.testing.assert_allclose(aux["t"], 0.6)
    np.testing.assert_array_equal(aux["r"], [0, 1])


def test_a_class_registered_after_a_first_transform_is_a_node():
    class Late:
        def __init__(self, v):
            self.v = v

    late = Late(np.asarray(2.0))
    # seen as a leaf first (in an aux, which may hold anything)
    _, aux = ft.grad(lambda x: (x * x, late), has_aux=True)(np.asarray(1.0))
    assert aux is late
    T.register_pytree_node(Late, lambda o: ((o.v,), None), lambda _, ch: Late(ch[0]))
    import optree
    try:
        g = ft.grad(lambda p: fnp.sin(p.v))(late)
        assert type(g) is Late and _is_plain_result(g.v)
        np.testing.assert_allclose(g.v, np.cos(2.0))
        out = ft.vmap(lambda p: p.v * 2.0)(Late(np.arange(3.0)))
        np.testing.assert_array_equal(out, [0.0, 2.0, 4.0])
    finally:
        optree.unregister_pytree_node(Late, namespace=T.NAMESPACE)


def test_jit_returns_a_numpy_scalar_argument_or_constant_as_a_0d_array():
    # (results are arrays of their own, 0-d arrays rather than NumPy scalars, as jit
    # documents; an argument or constant passed through was copied as the NumPy scalar)
    s = np.float64(0.5)
    for _ in range(2):  # (first call evaluated, second compiled)
        out = ft.jit(lambda a: (a, np.float64(2.0), a * 1.0, 3.0))(s)
        assert [type(o) for o in out] == [np.ndarray, np.ndarray, np.ndarray, float]
        assert [float(o) for o in out] == [0.5, 2.0, 0.5, 3.0]
    g, aux = ft.jit(ft.grad(lambda x: (fnp.sin(x), x), has_aux=True))(s)
    assert type(g) is np.ndarray and type(aux) is np.ndarray and float(aux) == 0.5


@pytest.mark.parametrize("library", ["torch", "array_api_strict"])
def test_python_scalar_inputs_join_the_arrays_library(library):
    # (as JAX's weakly typed scalars join the arrays: they were NumPy arrays, and the first
    # operation with the other library's arrays raised BackendMismatchError)
    if library == "torch":
        torch = pytest.importorskip("torch")
        y = torch.tensor([2.0, 3.0], dtype=torch.float64)
        kind = torch.Tensor
    else:
        xps = pytest.importorskip("array_api_strict")
        y = xps.asarray([2.0, 3.0], device=xps.Device("device1"))
        kind = type(y)
    f = lambda a, b: fnp.sum(a * b * a)  # noqa: E731
    grads = ft.grad(f, argnums=(0, 1))(1.5, y)
    assert all(isinstance(g, kind) for g in grads)
    assert float(grads[0]) == 2 * 1.5 * 5.0
    g = ft.grad(f)(1.5, {"k": y}["k"])  # (the array among the other arguments)
    assert isinstance(g, kind) and float(g) == 15.0
    out, t = ft.jvp(f, (1.5, y), (1.0, y * 0.0))
    assert isinstance(t, kind) and float(t) == 15.0
    cts = ft.vjp(f, 1.5, y)[1](1.0)
    assert isinstance(cts[0], kind) and float(cts[0]) == 15.0
    assert float(ft.linearize(f, 1.5, y)[1](1.0, y * 0.0)) == 15.0
    for jac in (ft.jacfwd, ft.jacrev):
        j = jac(f, argnums=(0, 1))(1.5, y)
        assert isinstance(j[0], kind) and float(j[0]) == 15.0
    h = ft.hessian(f, argnums=0)(1.5, y)
    assert isinstance(h, kind) and float(h) == 10.0
    # no array anywhere: the default backend's, as before
    assert type(ft.grad(lambda a, b: a * b)(1.5, 2.0)) is np.ndarray


def test_an_unregistered_container_input_says_to_register_it():
    class Params:
        def __init__(self, w):
            self.w = w

    p = Params(np.arange(3.0))
    for call in (lambda: ft.grad(lambda q: fnp.sum(q.w))(p),
                 lambda: ft.jvp(lambda q: q.w, (p,), (p,)),
                 lambda: ft.vjp(lambda q: q.w, p),
                 lambda: ft.jacrev(lambda q: q.w)(p)):
        with pytest.raises(ft.errors.UnsupportedBackendError,
                           match="Params belong to no functrans backend.*register its class"):
            call()


@pytest.mark.parametrize("transform", ["jvp", "vjp", "linearize", "jacfwd"])
def test_messages_about_outputs_name_the_function(transform):
    def f(x):
        return x * 2.0, "done"

    x = np.ones(2)
    call = {"jvp": lambda g: ft.jvp(g, (x,), (x,)), "vjp": lambda g: ft.vjp(g, x),
            "linearize": lambda g: ft.linearize(g, x), "jacfwd": lambda g: ft.jacfwd(g)(x)}
    with pytest.raises(TypeError, match=rf"^{transform} of f: output leaf 1 is a str"):
        call[transform](f)
    def three(a):
        return a, a, a

    with pytest.raises(TypeError, match=rf"^{transform} of three with has_aux=True: the "
                                        rf"function must return a pair \(output, aux\); got a "
                                        rf"tuple of 3 items"):
        kw = dict(has_aux=True)
        {"jvp": lambda: ft.jvp(three, (x,), (x,), **kw),
         "vjp": lambda: ft.vjp(three, x, **kw),
         "linearize": lambda: ft.linearize(three, x, **kw),
         "jacfwd": lambda: ft.jacfwd(three, **kw)(x)}[transform]()
