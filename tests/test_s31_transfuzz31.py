"""Session 31 (transfuzz31): compositions of transformations.

slogdet's derivative at a singular matrix under jit and vmap (they raised LinAlgError where
the eager transforms give JAX's +-inf limit), and a seeded fuzzer of random programs checked
under every composition of transforms against the untransformed program, central
differences and each other."""

import os

import numpy as np
import pytest

import functrans as ft
import functrans.numpy as fnp


# -- slogdet's derivative at a singular matrix, staged --------------------------------------

def _logabs(x):
    return fnp.sum(fnp.linalg.slogdet(x)[1])


_INF, _NAN = np.inf, np.nan
# (matrix, grad of log|det|: adj(x)^T * inf, the limit of inv(x)^T as det -> 0 from above;
# exact cofactors: a rank-one PSD matrix, a zero row, the zero matrix, a rank-2 diagonal)
_SINGULAR = [(np.array([[1.0, 2.0], [2.0, 4.0]]), [[_INF, -_INF], [-_INF, _INF]]),
             (np.array([[1.0, 2.0], [0.0, 0.0]]), [[_NAN, _NAN], [-_INF, _INF]]),
             (np.zeros((2, 2)), [[_NAN, _NAN], [_NAN, _NAN]]),
             (np.diag([2.0, 1.0, 0.0]), [[_NAN] * 3, [_NAN] * 3, [_NAN, _NAN, _INF]])]


def test_slogdet_derivative_at_singular_matrices_staged(backend):
    def np_(v):
        return np.asarray(backend.to_numpy(v))

    staged = {"jit(grad)": ft.jit(ft.grad(_logabs)), "grad(jit)": ft.grad(ft.jit(_logabs)),
              "jit(jacrev)": ft.jit(ft.jacrev(_logabs)), "jit(jacfwd)": ft.jit(ft.jacfwd(_logabs))}
    with np.errstate(invalid="ignore", divide="ignore"):
        for x, want in _SINGULAR:
            xb = backend.asarray(x)
            np.testing.assert_array_equal(np_(ft.grad(_logabs)(xb)), want)
            for name, g in staged.items():
                np.testing.assert_array_equal(np_(g(xb)), want, err_msg=name)
            # a stack of the singular matrix and a regular one, under vmap and jit(vmap)
            reg = np.diag(np.arange(2.0, 2.0 + x.shape[0]))
            stack = backend.asarray(np.stack([x, reg, x]))
            want_s = np.stack([want, np.linalg.inv(reg).T, want])
            for g in (ft.vmap(ft.grad(_logabs)), ft.jit(ft.vmap(ft.grad(_logabs))),
                      ft.vmap(ft.jit(ft.grad(_logabs))), ft.grad(_logabs)):
                np.testing.assert_array_equal(np_(g(stack)), want_s)
        # the tangent: tr(adj(x) dx) * inf, +-inf by det's first-order change, nan without
        jv = ft.jit(lambda p, d: ft.jvp(_logabs, (p,), (d,))[1])
        for p, d, want in ((0, np.eye(2), _INF), (0, -np.eye(2), -_INF),
                           (1, np.array([[1.0, 0.0], [0.0, 0.0]]), _NAN)):
            pb, db = backend.asarray(_SINGULAR[p][0]), backend.asarray(d)
            eager = float(np_(ft.jvp(_logabs, (pb,), (db,))[1]))
            np.testing.assert_array_equal([float(np_(jv(pb, db))), eager], [want, want])
        # second derivatives: never finite there, the same staged as eager
        x = backend.asarray(_SINGULAR[0][0])
        h = np_(ft.hessian(_logabs)(x))
        assert not np.isfinite(h).any()
        np.testing.assert_array_equal(np_(ft.jit(ft.hessian(_logabs))(x)), h)


def test_slogdet_derivative_staged_complex_and_regular():
    # complex singular: the limit's phase is undefined, nan (as JAX's), staged as eager
    xc = np.array([[1 + 1j, 2.0], [1 + 1j, 2.0]])
    with np.errstate(invalid="ignore"):
        gc = np.asarray(ft.jit(ft.grad(_logabs))(xc))
        ts, tl = ft.jit(lambda y, d: ft.jvp(lambda v: tuple(fnp.linalg.slogdet(v)), (y,),
                                            (d,))[1])(xc, np.ones((2, 2), complex))
    assert np.isnan(gc.real).all() and np.isnan(gc.imag).all()
    assert np.isnan(complex(ts)) and np.isnan(float(tl))
    # regular matrices: inv(x)^T (for complex x too: JAX's convention), second derivative
    # -tr(x^-1 dy x^-1 dx), against the closed forms
    rng = np.random.default_rng(3)
    a = rng.standard_normal((3, 3)) + 3 * np.eye(3)
    inv = np.linalg.inv(a)
    np.testing.assert_allclose(ft.jit(ft.grad(_logabs))(a), inv.T, rtol=1e-13)
    h = np.asarray(ft.jit(ft.hessian(_logabs))(a))
    np.testing.assert_allclose(h, -np.einsum("li,jk->ijkl", inv, inv), rtol=1e-12,
                               atol=1e-14)
    ac = a + 1j * rng.standard_normal((3, 3))
    np.testing.assert_allclose(ft.jit(ft.grad(_logabs))(ac), np.linalg.inv(ac).T, rtol=1e-12)


# -- a fuzzer of random programs under compositions of transforms ----------------------------
#
# A program is a list of instructions over a pool of values (the inputs first): each draws
# its operands from the pool by shape and appends its result. The same program runs through
# functrans (functrans.numpy, lax, checkpoint, custom_jvp/custom_vjp) or through JAX, on the
# arrays of any backend. Ops with kinks (abs, maximum, where, clip, max, cond, switch) note
# how far their operands are from the kink when they run on NumPy values, so that central
# differences are compared only where no kink is within reach of the step.

_KINK = []  # distances to the nearest kink, noted by the NumPy reference run


def _note(dist):
    if isinstance(dist, (np.ndarray, np.generic)):
        _KINK.append(float(np.min(np.abs(dist))) if np.size(dist) else np.inf)


class _Lib:
    """The operations a program calls: functrans's or JAX's."""

    def __init__(self, jax_=False):
        if jax_:
            import jax
            import jax.numpy as jnp
            from jax.scipy.special import logsumexp
            self.np, self.lax, self.api = jnp, jax.lax, jax
        else:
            from functrans import lax
            from functrans.scipy.special import logsumexp
            self.np, self.lax, self.api = fnp, lax, ft
        self.logsumexp = logsumexp
        np_, api = self.np, self.api

        @api.custom_jvp
        def softplus(x):
            return np_.log1p(np_.exp(-np_.abs(x))) + np_.maximum(x, 0.0)

        @softplus.defjvp
        def _softplus_jvp(primals, tangents):
            x, = primals
            return softplus(x), tangents[0] / (1.0 + np_.exp(-x))

        @api.custom_vjp
        def xsin(x):
            return x * np_.sin(x)

        def _fwd(x):
            return x * np_.sin(x), x

        def _bwd(x, ct):
            # (the cotangent on the left: plain beside a traced residual under vmap/jit of
            # a gradient, which array-api-strict's operators refused before session 32)
            return (ct * (np_.sin(x) + x * np_.cos(x)),)

        xsin.defvjp(_fwd, _bwd)
        self.softplus, self.xsin = softplus, xsin


_LIBS = {}


def _lib(jax_=False):
    if jax_ not in _LIBS:
        _LIBS[jax_] = _Lib(jax_)
    return _LIBS[jax_]


def _unary(name, L, x):
    n = L.np
    if name == "sin":
        return n.sin(x)
    if name == "cos":
        return n.cos(x)
    if name == "tanh":
        return n.tanh(x)
    if name == "exp":
        return n.exp(0.5 * x)
    if name == "log1p":
        return n.log1p(x * x)
    if name == "sqrt":
        return n.sqrt(x * x + 1.0)
    if name == "logistic":
        return L.lax.logistic(x)
    if name == "square":
        return x ** 2
    if name == "cube":
        return x * x * x
    if name == "neg":
        return -x
    if name == "abs":
        _note(x)
        return n.abs(x)
    if name == "relu":
        _note(x)
        return n.maximum(x, 0.0)
    if name == "clip":
        _note(x - 0.5), _note(x + 0.5)
        return n.clip(x, -0.5, 0.5)
    if name == "softplus":
        return L.softplus(x)
    if name == "xsin":
        return L.xsin(x)
    if name == "checkpoint":
        return L.api.checkpoint(lambda z: n.sin(z) * n.cos(z) + z * z)(x)
    if name == "cond":
        s = n.sum(x)
        _note(s)
        return L.lax.cond(s > 0, lambda z: n.sin(z) * 1.5, lambda z: n.cos(z) + z * z, x)
    if name == "switch":
        s = n.sum(x)
        _note(s), _note(s - 1.0)
        i = n.astype(s > 0, n.int32) + n.astype(s > 1, n.int32)
        return L.lax.switch(i, [lambda z: n.sin(z), lambda z: z * z, lambda z: n.tanh(z) - z], x)
    if name == "fori":  # (the body closes over x)
        return L.lax.fori_loop(0, 3, lambda i, c: 0.5 * c + n.sin(c) * x, x)
    if name == "while":
        def body(ic):
            return ic[0] + 1, 0.9 * n.tanh(ic[1]) + 0.1 * x
        return L.lax.while_loop(lambda ic: ic[0] < 3, body, (0, x))[1]
    raise AssertionError(name)


_UNARY = ("sin", "cos", "tanh", "exp", "log1p", "sqrt", "logistic", "square", "cube", "neg",
          "abs", "relu", "clip", "softplus", "xsin", "checkpoint", "cond", "switch", "fori",
          "while")
_BINARY = ("add", "sub", "mul", "div", "maximum", "minimum", "where", "atan2")


def _binary(name, L, x, y):
    n = L.np
    if name == "add":
        return x + y
    if name == "sub":
        return x - y
    if name == "mul":
        return x * y
    if name == "div":
        return x / (1.0 + y * y)
    if name == "atan2":
        return n.arctan2(x, 1.0 + y * y)
    _note(x - y)
    if name == "maximum":
        return n.maximum(x, y)
    if name == "minimum":
        return n.minimum(x, y)
    if name == "where":
        return n.where(x > y, x * y, x + y)
    raise AssertionError(name)


def _gap(v, axis):
    """How close the two largest entries along ``axis`` are (max's kink)."""
    if isinstance(v, np.ndarray) and v.shape[axis] > 1:
        s = np.sort(v, axis=axis)
        _note(np.take(s, -1, axis) - np.take(s, -2, axis))


def _run(prog, L, args, consts):
    """Evaluates ``prog`` on ``args`` (positional pytrees) with library ``L``."""
    n = L.np
    pool = [args[0]] + [args[1][k] for k in sorted(args[1])] if len(args) > 1 else [args[0]]
    pool = list(pool)
    for op, ins, p in prog:
        v = [pool[i] for i in ins]
        if op == "unary":
            r = _unary(p["f"], L, v[0])
        elif op == "binary":
            r = _binary(p["f"], L, v[0], v[1])
        elif op == "const":
            c = consts[p["c"]]
            r = v[0] * c if p["mul"] else v[0] + c
        elif op == "reduce":
            f, ax = p["f"], p["axis"]
            if f == "sum":
                r = n.sum(v[0], axis=ax)
            elif f == "mean":
                r = n.mean(v[0], axis=ax, keepdims=p["keep"])
            elif f == "prod":
                r = n.prod(v[0], axis=ax)
            elif f == "max":
                _gap(v[0], ax)
                r = n.max(v[0], axis=ax)
            elif f == "logsumexp":
                r = L.logsumexp(v[0], axis=ax)
            else:
                r = n.cumsum(v[0], axis=ax)
        elif op == "transpose":
            r = n.matrix_transpose(v[0]) if p["m"] else v[0].T
        elif op == "reshape":
            r = n.reshape(v[0], p["shape"])
        elif op == "slice":
            r = n.flip(v[0], axis=p["flip"]) if "flip" in p else v[0][p["idx"]]
        elif op == "take":
            r = n.take(v[0], consts[p["c"]], axis=p["axis"])
        elif op == "gather":  # (a tracer's or NumPy's own indexing by an integer array)
            r = v[0][consts[p["c"]]]
        elif op == "concat":
            r = n.concatenate([v[0], v[1]], axis=p["axis"])
        elif op == "stack":
            r = n.stack([v[0], v[1]], axis=p["axis"])
        elif op == "matmul":
            r = v[0] @ v[1]
        elif op == "einsum":
            r = n.einsum(p["spec"], v[0], v[1])
        elif op == "scan":
            def body(c, row):
                c = n.tanh(c * row + 0.3)
                return c, c * 2.0 - row
            carry, ys = L.lax.scan(body, v[1], v[0])
            r = ys if p["ys"] else carry
        else:
            raise AssertionError(op)
        pool.append(r)
    return pool[-1], {"aux": pool[p_aux(prog)]}


def p_aux(prog):
    return prog[-1][2].get("aux", -1) if prog else -1


_SHAPES = [(), (3,), (4,), (2, 3), (3, 3), (3, 2)]


def _make_program(rng, n_ops, numpy_only=True, jax_ok_ops=None):
    """A random program: (instructions, input shapes, constants as NumPy arrays)."""
    n_in = int(rng.integers(1, 4))
    in_shapes = [_SHAPES[int(rng.integers(1, len(_SHAPES)))]]
    in_shapes += [_SHAPES[int(rng.integers(0, len(_SHAPES)))] for _ in range(n_in - 1)]
    shapes = list(in_shapes)
    consts, prog = [], []
    kinds = ["unary"] * 6 + ["binary"] * 4 + ["const", "reduce", "reduce", "transpose",
                                              "reshape", "slice", "take", "concat", "stack",
                                              "matmul", "einsum", "scan"]
    if numpy_only:
        kinds.append("gather")

    def pick(pred):
        cands = [i for i, s in enumerate(shapes) if pred(s)]
        if not cands:
            return None
        # favour recent values (deeper programs)
        w = np.arange(1, len(cands) + 1, dtype=float) ** 2
        return cands[int(rng.choice(len(cands), p=w / w.sum()))]

    tries = 0
    while len(prog) < n_ops and tries < 200:
        tries += 1
        k = kinds[int(rng.integers(len(kinds)))]
        p, ins, out = {}, None, None
        if k == "unary":
            i = pick(lambda s: True)
            p["f"] = _UNARY[int(rng.integers(len(_UNARY)))]
            if p["f"] in ("cond", "switch") and shapes[i] == ():
                p["f"] = "sin"
            ins, out = [i], shapes[i]
        elif k == "binary":
            i = pick(lambda s: True)
            j = pick(lambda s: _bcast(s, shapes[i]) is not None)
            ins, out = [i, j], _bcast(shapes[i], shapes[j])
            p["f"] = _BINARY[int(rng.integers(len(_BINARY)))]
        elif k == "const":
            i = pick(lambda s: True)
            s = shapes[i]
            cs = s[int(rng.integers(len(s) + 1)):]  # (a trailing part: broadcasts)
            consts.append(rng.uniform(0.5, 1.5, cs) * rng.choice([-1.0, 1.0], cs))
            p = {"c": len(consts) - 1, "mul": bool(rng.integers(2))}
            ins, out = [i], s
        elif k == "reduce":
            i = pick(lambda s: len(s) >= 1)
            if i is None:
                continue
            s = shapes[i]
            f = ["sum", "mean", "prod", "max", "logsumexp", "cumsum"][int(rng.integers(6))]
            ax = int(rng.integers(-len(s), len(s)))
            keep = bool(rng.integers(2)) and f == "mean"
            if f == "prod" and s[ax] > 3:
                f = "sum"
            p = {"f": f, "axis": ax, "keep": keep}
            out = (s if f == "cumsum" else
                   tuple(1 if (d == ax % len(s)) else n for d, n in enumerate(s)) if keep else
                   tuple(n for d, n in enumerate(s) if d != ax % len(s)))
            ins = [i]
        elif k == "transpose":
            i = pick(lambda s: len(s) == 2)
            if i is None:
                continue
            p = {"m": bool(rng.integers(2))}
            ins, out = [i], shapes[i][::-1]
        elif k == "reshape":
            i = pick(lambda s: len(s) >= 1)
            if i is None:
                continue
            size = int(np.prod(shapes[i]))
            opts = [(size,), (-1,)] + [(a, size // a) for a in (2, 3) if size % a == 0 and
                                       size // a > 1]
            shp = opts[int(rng.integers(len(opts)))]
            p = {"shape": shp}
            ins, out = [i], (size,) if shp == (-1,) else shp
        elif k == "slice":
            i = pick(lambda s: len(s) >= 1 and max(s) >= 2)
            if i is None:
                continue
            s = shapes[i]
            ax = int(np.argmax(s))
            sl = [slice(None, None, -1), slice(1, None), slice(None, -1), slice(0, None, 2),
                  0][int(rng.integers(5))]
            idx = (slice(None),) * ax + (sl, Ellipsis)  # (strict: every axis indexed)
            # (torch's own tensors take no negative step: flip there)
            p = {"idx": idx} if numpy_only or sl != slice(None, None, -1) else {"flip": ax}
            out = tuple(np.empty(s)[idx].shape)
            ins = [i]
        elif k in ("take", "gather"):
            i = pick(lambda s: len(s) >= 1)
            if i is None:
                continue
            s = shapes[i]
            ax = int(rng.integers(len(s))) if k == "take" else 0
            idx = rng.integers(0, s[ax], int(rng.integers(1, 5)))
            consts.append(idx)
            p = {"c": len(consts) - 1, "axis": ax}
            ins, out = [i], s[:ax] + (len(idx),) + s[ax + 1:]
        elif k in ("concat", "stack"):
            i = pick(lambda s: len(s) >= 1 if k == "concat" else True)
            if i is None:
                continue
            s = shapes[i]
            if k == "concat":
                ax = int(rng.integers(len(s)))
                j = pick(lambda t: len(t) == len(s) and all(
                    a == b for d, (a, b) in enumerate(zip(s, t)) if d != ax))
                out = s[:ax] + (s[ax] + shapes[j][ax],) + s[ax + 1:]
            else:
                ax = int(rng.integers(len(s) + 1))
                j = pick(lambda t: t == s)
                out = s[:ax] + (2,) + s[ax:]
            if len(out) > 3:
                continue
            p = {"axis": ax}
            ins = [i, j]
        elif k == "matmul":
            i = pick(lambda s: len(s) in (1, 2))
            if i is None:
                continue
            j = pick(lambda t: len(t) in (1, 2) and t[0] == shapes[i][-1])
            if j is None:
                continue
            a, b = shapes[i], shapes[j]
            out = a[:-1] + b[1:]
            ins = [i, j]
        elif k == "einsum":
            i = pick(lambda s: len(s) in (1, 2))
            if i is None:
                continue
            a = shapes[i]
            if len(a) == 1:
                j = pick(lambda t: len(t) == 1)
                p = {"spec": "i,j->ij"}
                out = a + shapes[j]
            else:
                j = pick(lambda t: len(t) == 2 and t[1] == a[1])
                if j is None:
                    continue
                p = {"spec": ["ij,kj->ik", "ij,kj->", "ij,kj->ji" if a[0] == shapes[j][0] and
                              False else "ij,kj->k"][int(rng.integers(3))]}
                out = {"ij,kj->ik": (a[0], shapes[j][0]), "ij,kj->": (),
                       "ij,kj->k": (shapes[j][0],)}[p["spec"]]
            ins = [i, j]
        elif k == "scan":
            i = pick(lambda s: len(s) == 2)
            if i is None:
                continue
            j = pick(lambda t: t == shapes[i][1:])  # (the carry keeps its shape)
            if j is None:
                continue
            p = {"ys": bool(rng.integers(2))}
            out = shapes[i] if p["ys"] else shapes[j]
            ins = [i, j]
        if ins is None or out is None or any(x is None for x in ins) or len(out) > 3:
            continue
        prog.append((k, ins, p))
        shapes.append(tuple(out))
    if prog:
        prog[-1][2]["aux"] = int(rng.integers(len(shapes)))
    return prog, in_shapes, consts, shapes


def _bcast(a, b):
    try:
        return tuple(np.broadcast_shapes(a, b))
    except ValueError:
        return None


# -- the checks ------------------------------------------------------------------------------

def _leaves(tree):
    return ft.tree_util.tree_leaves(tree)


def _close(got, want, what, rtol=1e-8):
    g, w = _leaves(got), _leaves(want)
    assert len(g) == len(w), what
    for a, b in zip(g, w):
        a, b = _to_np(a), _to_np(b)
        assert a.shape == b.shape, f"{what}: shape {a.shape} != {b.shape}"
        scale = 1.0 + (float(np.max(np.abs(b))) if b.size else 0.0)
        if not np.all(np.abs(a - b) <= rtol * (scale + np.abs(b))):  # (assert_allclose: slow)
            np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * scale, err_msg=what)


def _to_np(a):
    if type(a).__module__.startswith("torch"):
        return a.detach().cpu().numpy()
    return np.asarray(a)


def _inner(a, b):
    return sum(float(np.sum(_to_np(x) * _to_np(y))) for x, y in zip(_leaves(a), _leaves(b)))


def _map(fn, *trees):
    return ft.tree_util.tree_map(fn, *trees)


class _Program:
    def __init__(self, seed, n_ops=None, numpy_only=True):
        rng = np.random.default_rng(seed)
        self.rng = rng
        self.prog, shapes, self.consts_np, _ = _make_program(
            rng, n_ops or int(rng.integers(3, 9)), numpy_only)
        arrs = [rng.uniform(0.4, 1.2, s) * rng.choice([-1.0, 1.0], s) for s in shapes]
        self.args_np = (arrs[0],) + (({"u": arrs[1], **({"v": arrs[2]} if len(arrs) > 2
                                                          else {})},) if len(arrs) > 1 else ())
        self.argnums = tuple(range(len(self.args_np)))
        self.ops = {op if op != "unary" and op != "binary" else p["f"] for op, _, p in self.prog}

    def fun(self, lib, consts):
        return lambda *a: _run(self.prog, lib, a, consts)

    def loss(self, lib, consts, w):
        f = self.fun(lib, consts)

        def loss(*a):
            out = f(*a)
            return sum(lib.np.sum(o * c) for o, c in zip(_leaves(out), _leaves(w)))
        return loss

    def like(self, tree, lo=-1.0, hi=1.0):
        return _map(lambda a: self.rng.uniform(lo, hi, np.shape(a)), tree)


def _batch(rng, args, size, axes=None):
    """``size`` members of ``args`` stacked along random (or given) axes; the axes and the
    members."""
    leaves, tree = ft.tree_util.tree_flatten(args)
    if axes is None:
        axes = [None if rng.random() < 0.25 else int(rng.integers(-a.ndim - 1, a.ndim + 1))
                for a in leaves]
        if all(a is None for a in axes):
            axes[0] = 0
    members = [[a if ax is None else a + 0.1 * (k + 1) * rng.standard_normal(a.shape)
                for a, ax in zip(leaves, axes)] for k in range(size)]
    stacked = [a if ax is None else np.stack([m[i] for m in members], axis=ax)
               for i, (a, ax) in enumerate(zip(leaves, axes))]
    unflat = ft.tree_util.tree_unflatten
    return (unflat(tree, axes), unflat(tree, stacked),
            [unflat(tree, m) for m in members])


def _stack(trees, axis=0):
    return _map(lambda *xs: np.stack([_to_np(x) for x in xs], axis=axis), *trees)


_COMPOSITIONS = ("jit(grad)", "grad(jit)", "vmap(grad)", "grad(vmap-sum)", "jvp(vmap)",
                 "vmap(jvp)", "jit(vmap(grad))", "grad(checkpoint)", "linearize", "hessian",
                 "vmap(jit)", "jit(jvp)", "jacfwd=jacrev", "vmap(vmap)", "jit(jacrev)")


def _check_numpy_program(seed, n_comp=4, n_ops=None):
    P = _Program(seed, n_ops)
    rng, lib, consts = P.rng, _lib(), P.consts_np
    args = P.args_np
    saved = [np.copy(a) for a in _leaves(args)] + [np.copy(c) for c in consts]
    f = P.fun(lib, consts)
    _KINK.clear()
    ref = f(*args)
    smooth = min(_KINK, default=np.inf) > 1e-3
    for a in _leaves(ref):
        assert type(a) in (np.ndarray, np.float64), type(a)
    _close(ft.jit(f)(*args), ref, "jit")
    # vmap with random in_axes and out_axes against the members stacked
    in_axes, bargs, members = _batch(rng, args, 2)
    outs = [f(*m) for m in members]
    out_axes = _map(lambda o: int(rng.integers(-np.ndim(o) - 1, np.ndim(o) + 1)), ref)
    want = _map(lambda ax, *xs: np.stack([_to_np(x) for x in xs], axis=ax), out_axes, *outs)
    _close(ft.vmap(f, in_axes=tuple(in_axes), out_axes=out_axes)(*bargs), want,
           f"vmap in_axes={in_axes} out_axes={out_axes}")
    # derivatives of a scalar loss: grad = jacrev = jacfwd = central differences
    w = P.like(ref)
    loss = P.loss(lib, consts, w)
    g = ft.grad(loss, P.argnums)(*args)
    _close(ft.jacrev(loss, P.argnums)(*args), g, "jacrev")
    _close(ft.jacfwd(loss, P.argnums)(*args), g, "jacfwd")
    v = P.like(args)
    if smooth:
        h = 1e-6
        plus = _map(lambda a, d: a + h * d, args, v)
        minus = _map(lambda a, d: a - h * d, args, v)
        fd = (float(loss(*plus)) - float(loss(*minus))) / (2 * h)
        ad = _inner(g, v)
        scale = sum(float(np.sum(np.abs(_to_np(a) * _to_np(d)))) for a, d in
                    zip(_leaves(g), _leaves(v)))
        assert abs(fd - ad) <= 1e-5 * (1.0 + scale), (fd, ad)
    # jvp and vjp: the primal output, and <u, J v> = <J^T u, v>
    out, jv = ft.jvp(f, args, v)
    _close(out, ref, "jvp primal")
    u = P.like(ref)
    out2, pull = ft.vjp(f, *args)
    _close(out2, ref, "vjp primal")
    ju = pull(u)
    lhs, rhs = _inner(u, jv), _inner(ju, v)
    assert abs(lhs - rhs) <= 1e-9 * (1.0 + abs(lhs) + _inner(_map(np.abs, u), _map(np.abs, jv))), \
        (lhs, rhs)
    ran = []
    bax = [0] * len(_leaves(args))
    for name in rng.choice(_COMPOSITIONS, n_comp, replace=False):
        ran.append(name)
        if name == "jit(grad)":
            _close(ft.jit(ft.grad(loss, P.argnums))(*args), g, name)
        elif name == "grad(jit)":
            _close(ft.grad(ft.jit(loss), P.argnums)(*args), g, name)
        elif name == "grad(checkpoint)":
            _close(ft.grad(ft.checkpoint(loss), P.argnums)(*args), g, name)
        elif name in ("vmap(grad)", "grad(vmap-sum)", "jit(vmap(grad))"):
            _, bargs0, mem0 = _batch(rng, args, 2, bax)
            want = _stack([ft.grad(loss, P.argnums)(*m) for m in mem0])
            if name == "vmap(grad)":
                got = ft.vmap(ft.grad(loss, P.argnums))(*bargs0)
            elif name == "jit(vmap(grad))":
                got = ft.jit(ft.vmap(ft.grad(loss, P.argnums)))(*bargs0)
            else:
                got = ft.grad(lambda *b: fnp.sum(ft.vmap(loss)(*b)), P.argnums)(*bargs0)
            _close(got, want, name)
        elif name in ("jvp(vmap)", "vmap(jvp)"):
            _, bargs0, mem0 = _batch(rng, args, 2, bax)
            vs = [P.like(args) for _ in mem0]
            bv = _stack(vs)
            want = _stack([ft.jvp(f, m, t)[1] for m, t in zip(mem0, vs)])
            if name == "jvp(vmap)":
                got = ft.jvp(ft.vmap(f), tuple(bargs0), tuple(bv))[1]
            else:
                got = ft.vmap(lambda a, t: ft.jvp(f, a, t)[1])(tuple(bargs0), tuple(bv))
            _close(got, want, name)
        elif name == "vmap(jit)":
            _close(ft.vmap(ft.jit(f), in_axes=tuple(in_axes), out_axes=out_axes)(*bargs),
                   _map(lambda ax, *xs: np.stack([_to_np(x) for x in xs], axis=ax),
                        out_axes, *outs), name)
        elif name == "jit(jvp)":
            _close(ft.jit(lambda a, t: ft.jvp(f, a, t))(args, v), (ref, jv), name)
        elif name in ("jacfwd=jacrev", "jit(jacrev)"):
            jr = (ft.jacrev(f, P.argnums) if name == "jacfwd=jacrev" else
                  ft.jit(ft.jacrev(f, P.argnums)))(*args)
            jf = ft.jacfwd(f, P.argnums)(*args)
            assert (ft.tree_util.tree_structure(jr) == ft.tree_util.tree_structure(jf)), name
            _close(jr, jf, name)
        elif name == "vmap(vmap)":
            in2, b2, mem2 = _batch(rng, args, 2)
            outer, bb, memb = _batch(rng, b2, 3)
            want = _stack([ft.vmap(f, in_axes=tuple(in2))(*m) for m in memb])
            _close(ft.vmap(ft.vmap(f, in_axes=tuple(in2)), in_axes=tuple(outer))(*bb), want,
                   f"vmap(vmap) {in2} {outer}")
        elif name == "linearize":
            out3, lin = ft.linearize(f, *args)
            _close(out3, ref, "linearize primal")
            _close(lin(*v), jv, name)
            _close(ft.linear_transpose(lin, *args)(u), ju, "linear_transpose")
        elif name == "hessian":
            if sum(np.size(a) for a in _leaves(args)) > 16:
                continue
            hs = ft.hessian(loss, P.argnums)(*args)
            _close(ft.jacrev(ft.jacfwd(loss, P.argnums), P.argnums)(*args), hs, name,
                   rtol=1e-7)
            _close(ft.jacrev(ft.jacrev(loss, P.argnums), P.argnums)(*args), hs, name,
                   rtol=1e-7)
            if smooth:  # H v against central differences of the gradient
                h = 1e-5
                gp = ft.grad(loss, P.argnums)(*_map(lambda a, d: a + h * d, args, v))
                gm = ft.grad(loss, P.argnums)(*_map(lambda a, d: a - h * d, args, v))
                fd = _map(lambda a, b: (a - b) / (2 * h), gp, gm)
                hv = ft.jvp(lambda *a: ft.grad(loss, P.argnums)(*a), args, v)[1]
                _close(hv, fd, "H v vs central differences", rtol=1e-5)
    for a, b in zip(_leaves(args) + list(consts), saved):
        np.testing.assert_array_equal(a, b, err_msg="an input was changed")
    return P, ran


def _check_backend_program(backend, seed):
    """A program on torch or array-api-strict arrays: results of that library, equal to the
    same program's on NumPy, under jit, vmap, grad, jacfwd, jvp and vjp."""
    P = _Program(seed, numpy_only=False)
    rng, lib = P.rng, _lib()
    conv = backend.asarray
    args = _map(conv, P.args_np)
    consts = [conv(c, "int64" if c.dtype.kind == "i" else "float64") for c in P.consts_np]
    kind = type(_leaves(args)[0])
    saved = [backend.to_numpy(a).copy() for a in _leaves(args)]
    f, f_np = P.fun(lib, consts), P.fun(lib, P.consts_np)
    ref = f_np(*P.args_np)

    def same(got, want, what):
        for a in _leaves(got):
            assert type(a) is kind, f"{what}: {type(a)} is not {kind}"
        _close(_map(lambda a: backend.to_numpy(a), got), want, what)

    same(f(*args), ref, "eager")
    same(ft.jit(f)(*args), ref, "jit")
    _, bargs, members = _batch(rng, P.args_np, 2, [0] * len(_leaves(args)))
    same(ft.vmap(f)(*_map(conv, bargs)), _stack([f_np(*m) for m in members]), "vmap")
    w = P.like(ref)
    loss, loss_np = P.loss(lib, consts, _map(conv, w)), P.loss(lib, P.consts_np, w)
    g = ft.grad(loss_np, P.argnums)(*P.args_np)
    same(ft.grad(loss, P.argnums)(*args), g, "grad")
    same(ft.jacfwd(loss, P.argnums)(*args), g, "jacfwd")
    v, u = P.like(P.args_np), P.like(ref)
    same(ft.jvp(f, args, _map(conv, v))[1], ft.jvp(f_np, P.args_np, v)[1], "jvp")
    same(ft.vjp(f, *args)[1](_map(conv, u)), ft.vjp(f_np, *P.args_np)[1](u), "vjp")
    name = rng.choice(["jit(grad)", "vmap(grad)", "grad(checkpoint)"])
    if name == "jit(grad)":
        same(ft.jit(ft.grad(loss, P.argnums))(*args), g, name)
    elif name == "grad(checkpoint)":
        same(ft.grad(ft.checkpoint(loss), P.argnums)(*args), g, name)
    else:
        same(ft.vmap(ft.grad(loss, P.argnums))(*_map(conv, bargs)),
             _stack([ft.grad(loss_np, P.argnums)(*m) for m in members]), name)
    for a, b in zip(_leaves(args), saved):
        np.testing.assert_array_equal(backend.to_numpy(a), b, err_msg="an input was changed")


def _check_jax_program(seed):
    """The same program through JAX: values, derivatives, vmap with random axes."""
    import jax
    P = _Program(seed)
    rng, lib, lj = P.rng, _lib(), _lib(jax_=True)
    args = P.args_np
    f, fj = P.fun(lib, P.consts_np), P.fun(lj, P.consts_np)
    ref = f(*args)
    _close(fj(*args), ref, "value vs JAX")
    w = P.like(ref)
    loss, loss_j = P.loss(lib, P.consts_np, w), P.loss(lj, P.consts_np, w)
    # (JAX has no reverse mode of while_loop, and no forward mode of a custom_vjp function)
    fwd_ok, rev_ok = "xsin" not in P.ops, "while" not in P.ops
    v = P.like(args)
    if fwd_ok or rev_ok:
        jac = jax.grad if rev_ok else jax.jacfwd
        _close(ft.grad(loss, P.argnums)(*args), jac(loss_j, P.argnums)(*args), "grad vs JAX")
    if fwd_ok:
        _close(ft.jvp(f, args, v), jax.jvp(fj, args, v), "jvp vs JAX")
    if rev_ok:  # (a pytree of outputs by a tuple of pytrees of arguments: the same nesting)
        jr, jj = ft.jacrev(f, P.argnums)(*args), jax.jacrev(fj, P.argnums)(*args)
        assert (ft.tree_util.tree_structure(jr).num_leaves
                == jax.tree_util.tree_structure(jj).num_leaves)
        _close(jr, jj, "jacrev vs JAX")
    in_axes, bargs, _ = _batch(rng, args, 2)
    out_axes = _map(lambda o: int(rng.integers(-np.ndim(o) - 1, np.ndim(o) + 1)), ref)
    _close(ft.vmap(f, tuple(in_axes), out_axes)(*bargs),
           jax.vmap(fj, tuple(in_axes), out_axes)(*bargs), "vmap vs JAX")
    if fwd_ok and rev_ok and sum(np.size(a) for a in _leaves(args)) <= 12:
        _close(ft.hessian(loss, P.argnums)(*args), jax.hessian(loss_j, P.argnums)(*args),
               "hessian vs JAX", rtol=1e-7)


# -- the fuzzer in the suite (seeded; the exploratory runs used more seeds: see the report) ---

@pytest.mark.parametrize("chunk", range(4))
def test_fuzz_programs_numpy(chunk):
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for seed in range(1000 + 30 * chunk, 1000 + 30 * (chunk + 1)):
            _check_numpy_program(seed, n_comp=2)


@pytest.mark.backend_cases(keep=lambda b, params: b != "numpy")
def test_fuzz_programs_other_backends(backend):
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for seed in range(2000, 2012):
            _check_backend_program(backend, seed)


@pytest.mark.skipif(not os.environ.get("FUNCTRANS_FUZZ_JAX"),
                    reason="opt-in: FUNCTRANS_FUZZ_JAX=N compares N programs with JAX (its "
                           "eager operations compile on first use: ~15 s a program)")
def test_fuzz_programs_against_jax():
    pytest.importorskip("jax")
    import jax
    jax.config.update("jax_enable_x64", True)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for seed in range(3000, 3000 + int(os.environ["FUNCTRANS_FUZZ_JAX"])):
            _check_jax_program(seed)


def test_slogdet_inv_where_inv_does_not_refuse_a_singular_matrix():
    # A library whose inv gives infinities at a singular matrix (CuPy's, unchecked) instead
    # of raising: the signs are looked at, and the result is the same as NumPy's.
    import types

    from functrans.backends import get_backend
    from functrans.primitives import linalg as L
    nb = get_backend("numpy")

    def inv(x):
        try:
            return np.linalg.inv(x)
        except np.linalg.LinAlgError:
            return np.full(x.shape, np.inf)

    class Quiet:
        name = "another"
        xp = types.SimpleNamespace(**{k: getattr(nb.xp, k) for k in dir(nb.xp)
                                      if not k.startswith("__")})
        xp.linalg = types.SimpleNamespace(inv=inv, slogdet=nb.xp.linalg.slogdet,
                                          det=nb.xp.linalg.det, svd=nb.xp.linalg.svd,
                                          solve=nb.xp.linalg.solve, qr=nb.xp.linalg.qr,
                                          diagonal=nb.xp.linalg.diagonal)

        def __getattr__(self, attr):
            return getattr(nb, attr)

    stack = np.stack([_SINGULAR[0][0], np.diag([2.0, 4.0])])
    with np.errstate(invalid="ignore", divide="ignore"):
        a, scale = L._slogdet_inv_impl(Quiet(), stack)
        want_a, want_scale = L._slogdet_inv_impl(nb, stack)
    np.testing.assert_array_equal(scale, [np.inf, 1.0])
    np.testing.assert_array_equal(want_scale, [np.inf, 1.0])
    np.testing.assert_allclose(a, want_a, rtol=1e-14)
    np.testing.assert_allclose(a[0], [[4.0, -2.0], [-2.0, 1.0]], rtol=1e-12)
