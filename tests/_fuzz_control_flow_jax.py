"""cflow37's fuzzer: seeded random small programs of control flow (scan, fori_loop,
while_loop, cond, switch, map, associative_scan, checkpoint, custom_jvp/custom_vjp inside
loops and loops inside custom rules) under random transform stacks (grad, jacfwd, jacrev,
hessian, vmap with in_axes combinations, jit and nestings), functrans against JAX (x64). A
tool, not a test (JAX is not installed in CI; tests/test_s37_cflow37.py keeps a selection):

    python -m tests._fuzz_control_flow_jax 0 500        # seeds [0, 500)
    python -m tests._fuzz_control_flow_jax 17 18 -v     # one seed, its program printed
    python -m tests._fuzz_control_flow_jax 0 50 --mixed # also conds whose branches read
                                                        # different operands (other programs)

A program maps ``(x, s)`` (x: a float vector of 3, s: a float scalar) to a vector of 3
through 1-4 blocks. JAX's reference derivatives are forward mode (jacfwd, jacfwd of
jacfwd), which it can take through while_loop too; functrans is asked in every mode.
"""
import random
import sys
import traceback
import warnings

import numpy as np

from tests._fuzz_common import Tally

warnings.simplefilter("ignore")
# (a line every 60 cases of one outcome: a run cut by a timeout, which never reaches the
# counts at the end, still shows how far it got; 40 seeds took over 590 s on a loaded
# machine in session 55)
TALLY = Tally(progress_every=60)


class Lib:
    """One library's names, so that a program is written once for both."""

    def __init__(self, name, np_, lax, checkpoint, custom_jvp, custom_vjp, name_fn, policies,
                 jit, grad, jacfwd, jacrev, hessian, vmap):
        self.name, self.np, self.lax = name, np_, lax
        self.checkpoint, self.custom_jvp, self.custom_vjp = checkpoint, custom_jvp, custom_vjp
        self.checkpoint_name, self.policies = name_fn, policies
        self.jit, self.grad, self.jacfwd, self.jacrev = jit, grad, jacfwd, jacrev
        self.hessian, self.vmap = hessian, vmap
        self._customs = None

    def customs(self):
        if self._customs is None:
            self._customs = _plain_customs(self) if self.name == "jax" else _make_customs(self)
        return self._customs


def ft_lib():
    import functrans as ft
    import functrans.numpy as fnp
    from functrans.ad_checkpoint import checkpoint_name
    return Lib("ft", fnp, ft.lax, ft.checkpoint, ft.custom_jvp, ft.custom_vjp, checkpoint_name,
               ft.checkpoint_policies, ft.jit, ft.grad, ft.jacfwd, ft.jacrev, ft.hessian,
               ft.vmap)


def jax_lib():
    import jax
    import jax.numpy as jnp
    jax.config.update("jax_enable_x64", True)
    from jax.ad_checkpoint import checkpoint_name
    return Lib("jax", jnp, jax.lax, jax.checkpoint, jax.custom_jvp, jax.custom_vjp,
               checkpoint_name, jax.checkpoint_policies, jax.jit, jax.grad, jax.jacfwd,
               jax.jacrev, jax.hessian, jax.vmap)


def _make_customs(L):
    """Custom-rule functions of one library (correct rules: the values and derivatives are
    those of the plain formulas)."""
    np_, lax = L.np, L.lax

    @L.custom_jvp
    def c_sin(x):
        return np_.sin(x)

    @c_sin.defjvp
    def _c_sin_jvp(p, t):
        (x,), (tx,) = p, t
        return np_.sin(x), np_.cos(x) * tx

    @L.custom_vjp
    def c_tanh(x):
        return np_.tanh(x)

    def _c_tanh_fwd(x):
        y = np_.tanh(x)
        return y, y

    def _c_tanh_bwd(y, g):
        return (g * (1 - y * y),)
    c_tanh.defvjp(_c_tanh_fwd, _c_tanh_bwd)

    # x exp(x); its JVP rule sums the series of (1 + x) exp(x) t with a fori_loop
    @L.custom_jvp
    def c_xexp(x):
        return x * np_.exp(x)

    @c_xexp.defjvp
    def _c_xexp_jvp(p, t):
        (x,), (tx,) = p, t
        slope = lax.fori_loop(0, 3, lambda i, acc: acc + np_.exp(x) * (i == 0) + x * np_.exp(x)
                              * (i == 1), np_.zeros_like(x))
        return x * np_.exp(x), slope * tx

    # sin(x) * s via custom_vjp whose backward pass runs a scan over two halves
    @L.custom_vjp
    def c_sins(x, s):
        return np_.sin(x) * s

    def _c_sins_fwd(x, s):
        return np_.sin(x) * s, (x, s)

    def _c_sins_bwd(res, g):
        x, s = res

        def step(c, k):
            return c + 0.5 * g * np_.cos(x) * s, k
        gx, _ = lax.scan(step, np_.zeros_like(x), np_.arange(2.0))
        return gx, np_.sum(g * np_.sin(x))
    c_sins.defvjp(_c_sins_fwd, _c_sins_bwd)
    # x^3 / 3 + x whose JVP rule loops over the tangent (a scan carrying it, and a cond on
    # it): the loops are linear in the tangents, recorded for reverse mode as such
    @L.custom_jvp
    def c_cube(x):
        return x * x * x / 3 + x

    @c_cube.defjvp
    def _c_cube_jvp(p, t):
        (x,), (tx,) = p, t

        def step(acc, k):
            return acc + 0.5 * x * x * tx, k
        acc, _ = lax.scan(step, tx, np_.arange(2.0))
        acc = lax.cond(np_.sum(x) > 0, lambda a: a * 1.0, lambda a: a + 0.0, acc)
        return c_cube(x), acc
    return dict(c_sin=c_sin, c_tanh=c_tanh, c_xexp=c_xexp, c_sins=c_sins, c_cube=c_cube)


def _plain_customs(L):
    """The custom functions' plain formulas (JAX's forward mode, the reference, refuses
    custom_vjp functions)."""
    np_ = L.np
    return dict(c_sin=np_.sin, c_tanh=np_.tanh, c_xexp=lambda x: x * np_.exp(x),
                c_sins=lambda x, s: np_.sin(x) * s, c_cube=lambda x: x * x * x / 3 + x)


# -- blocks: each draws its parameters with rng, returns (description, fn(L, v, s) -> v) ----


def _pick(rng, xs):
    return xs[rng.randrange(len(xs))]


def _elem(rng):
    """A smooth elementwise expression of (L, a, s)."""
    k = rng.randrange(8)
    c = round(rng.uniform(0.2, 0.9), 3)
    exprs = [
        (f"sin(a)*{c}+s*a", lambda L, a, s: L.np.sin(a) * c + s * a),
        (f"tanh(a*s)+{c}", lambda L, a, s: L.np.tanh(a * s) + c),
        (f"a*a*{c}-cos(s)", lambda L, a, s: a * a * c - L.np.cos(s)),
        (f"exp({c}*sin(a))*s", lambda L, a, s: L.np.exp(c * L.np.sin(a)) * s),
        ("c_sin(a)*s", lambda L, a, s: L.customs()["c_sin"](a) * s),
        ("c_tanh(a+s)", lambda L, a, s: L.customs()["c_tanh"](a + s)),
        (f"c_sins(a, s)+{c}*c_xexp(a*{c})",
         lambda L, a, s: L.customs()["c_sins"](a, s) + c * L.customs()["c_xexp"](a * c)),
        (f"c_cube(a*{c})*s", lambda L, a, s: L.customs()["c_cube"](a * c) * s),
    ]
    return exprs[k]


def b_scan(rng):
    n = _pick(rng, [0, 1, 2, 3, 4])
    reverse = rng.random() < 0.5
    unroll = _pick(rng, [1, 2, True, False, 3])
    xs_mode = _pick(rng, ["arr", "none", "tree"])
    carry_mode = _pick(rng, ["vec", "tuple", "dict", "pyfloat"])
    ed, e = _elem(rng)
    desc = (f"scan(n={n}, reverse={reverse}, unroll={unroll}, xs={xs_mode}, "
            f"carry={carry_mode}, body {ed})")

    def fn(L, v, s):
        np_ = L.np
        if xs_mode == "arr":
            xs = np_.stack([v * (0.3 + 0.2 * k) for k in range(n)]) if n else \
                np_.zeros((0, 3), dtype=v.dtype)
        elif xs_mode == "tree":
            xs = {"a": np_.stack([v * (0.5 - 0.1 * k) for k in range(n)]) if n else
                  np_.zeros((0, 3), dtype=v.dtype),
                  "b": np_.arange(n) * 1.0}
        else:
            xs = None

        def body(c, x):
            if carry_mode == "vec":
                cv, cs = c, 0.5
            elif carry_mode == "dict":
                cv, cs = c["v"], c["s"]
            elif carry_mode == "pyfloat":
                cv, cs = c[0], c[1]
            else:
                cv, cs = c
            xv = x if xs_mode == "arr" else x["a"] + x["b"] if xs_mode == "tree" else 0.25
            nv = e(L, cv * 0.7 + xv, s) * 0.5 + cs * 0.1
            ns = cs * 0.9 + np_.sum(nv) * 0.05 if carry_mode != "pyfloat" else cs
            y = (cv * xv, ns) if xs_mode == "tree" else cv * 0.5 + xv
            if carry_mode == "vec":
                return nv, y
            if carry_mode == "dict":
                return {"v": nv, "s": ns}, y
            return (nv, ns), y
        init = {"vec": v, "tuple": (v, s * 1.0), "dict": {"v": v, "s": s * 1.0},
                "pyfloat": (v, 0.75)}[carry_mode]
        kw = dict(length=n) if xs_mode == "none" else {}
        c, ys = L.lax.scan(body, init, xs, reverse=reverse, unroll=unroll, **kw)
        cv = c if carry_mode == "vec" else c["v"] if carry_mode == "dict" else c[0]
        y0 = ys[0] if xs_mode == "tree" else ys
        return cv + np_.sum(y0, axis=0) * 0.3
    return desc, fn


def b_fori(rng):
    lo, hi = rng.randrange(-1, 3), rng.randrange(-1, 4)
    ed, e = _elem(rng)
    int_carry = rng.random() < 0.5
    desc = f"fori_loop({lo}, {hi}, body {ed}, int carry {int_carry})"

    def fn(L, v, s):
        np_ = L.np

        def body(i, c):
            a, k = c
            return e(L, a * 0.8 + i * 0.1, s) * 0.7, k + i
        a, k = L.lax.fori_loop(lo, hi, body, (v, np_.asarray(0) if int_carry else 0.0))
        return a + k * 0.01
    return desc, fn


def b_while(rng):
    kind = _pick(rng, ["counter", "value", "value_counter"])
    ed, e = _elem(rng)
    limit = rng.randrange(0, 4)
    thr = round(rng.uniform(1.0, 6.0), 2)
    desc = f"while_loop({kind}, limit {limit}, thr {thr}, body {ed})"

    def fn(L, v, s):
        np_ = L.np

        def cond(c):
            k, a = c
            if kind == "counter":
                return k < limit
            if kind == "value":
                return np_.logical_and(np_.sum(a * a) < thr, k < 6)
            return np_.logical_and(np_.sum(np_.abs(a)) < thr, k < limit)

        def body(c):
            k, a = c
            return k + 1, e(L, a, s) * 1.1 + a * 0.2 + 0.3
        k, a = L.lax.while_loop(cond, body, (np_.asarray(0), v))
        return a + k * 0.1
    return desc, fn


def b_cond(rng):
    ed1, e1 = _elem(rng)
    ed2, e2 = _elem(rng)
    t = round(rng.uniform(-1, 1), 2)
    old = rng.random() < 0.2
    desc = f"cond(sum(v)*s > {t}, {ed1}, {ed2}, operand={old})"

    def fn(L, v, s):
        pred = L.np.sum(v) * s > t
        if old:
            return L.lax.cond(pred, lambda op: e1(L, op[0], op[1]), lambda op: e2(L, op[0], op[1]),
                              operand=(v, s))
        return L.lax.cond(pred, lambda a, b: e1(L, a, b), lambda a, b: e2(L, a, b), v, s)
    return desc, fn


def b_switch(rng):
    nb = rng.randrange(1, 4)
    es = [_elem(rng) for _ in range(nb)]
    scale = round(rng.uniform(1, 4), 2)
    off = rng.randrange(-3, 3)
    desc = f"switch(floor(v[0]*{scale})+{off}, {[d for d, _ in es]})"

    def fn(L, v, s):
        idx = L.np.astype(L.np.floor(v[0] * scale), L.np.int32) + off
        return L.lax.switch(idx, [lambda a, b, e=e: e(L, a, b) for _, e in es], v, s)
    return desc, fn


def b_map(rng):
    bs = _pick(rng, [None, None, 0, 1, 2, 5])
    ed, e = _elem(rng)
    desc = f"map(batch_size={bs}, {ed})"

    def fn(L, v, s):
        m = v[:, None] * L.np.asarray([0.3, -0.2, 0.5])[None, :] + s * 0.1
        kw = {} if bs is None else dict(batch_size=bs)
        r = L.lax.map(lambda row: L.np.sum(e(L, row, s)), m, **kw)
        return v * 0.5 + r
    return desc, fn


def b_assoc(rng):
    kind = _pick(rng, ["add", "mul", "linrec"])
    reverse = rng.random() < 0.5
    desc = f"associative_scan({kind}, reverse={reverse})"

    def fn(L, v, s):
        np_ = L.np
        if kind == "add":
            return L.lax.associative_scan(np_.add, np_.sin(v) * s, reverse=reverse)
        if kind == "mul":
            return L.lax.associative_scan(np_.multiply, np_.cos(v) + 1.5, reverse=reverse)

        def comb(p, q):
            a1, b1 = p
            a2, b2 = q
            return a1 * a2, b1 * a2 + b2
        a, b = L.lax.associative_scan(comb, (np_.tanh(v) * 0.5, v * s), reverse=reverse)
        return a + b
    return desc, fn


def b_checkpoint(rng):
    pol = _pick(rng, [None, "everything_saveable", "nothing_saveable", "dots_saveable",
                      "names"])
    cse = rng.random() < 0.5
    static = rng.random() < 0.5
    ed, e = _elem(rng)
    desc = f"checkpoint(policy={pol}, prevent_cse={cse}, static_argnums={static}, {ed})"

    def fn(L, v, s):
        np_ = L.np

        def g(a, b, k):
            h = L.checkpoint_name(np_.sin(a) * k, "h")
            m = np_.outer(h, a) @ a
            return e(L, m * 0.2 + h, b)
        policy = None
        if pol == "names":
            policy = L.policies.save_only_these_names("h")
        elif pol is not None:
            policy = getattr(L.policies, pol)
        kw = dict(policy=policy, prevent_cse=cse)
        if static:
            return L.checkpoint(g, static_argnums=(2,), **kw)(v, s, 2)
        return L.checkpoint(lambda a, b: g(a, b, 2.0), **kw)(v, s)
    return desc, fn


def b_custom_loop(rng):
    name = _pick(rng, ["c_sin", "c_tanh", "c_xexp", "c_sins", "c_cube"])
    n = rng.randrange(0, 3)
    desc = f"fori_loop(0, {n}) of {name}"

    def fn(L, v, s):
        f = L.customs()[name]
        if name == "c_sins":
            return L.lax.fori_loop(0, n, lambda i, a: f(a, s) + 0.1 * a, v)
        return L.lax.fori_loop(0, n, lambda i, a: f(a * 0.5) * s + 0.1 * a, v)
    return desc, fn


def b_nested(rng):
    """A cond inside a scan body inside a fori_loop."""
    t = round(rng.uniform(-0.5, 0.5), 2)
    desc = f"fori(0,2){{scan(2){{cond(c[0] > {t})}}}}"

    def fn(L, v, s):
        np_ = L.np

        def sbody(c, x):
            c2 = L.lax.cond(c[0] > t, lambda a: np_.sin(a) * s, lambda a: a * a * 0.3, c + x)
            return c2, np_.sum(c2)
        return L.lax.fori_loop(
            0, 2, lambda i, a: L.lax.scan(sbody, a, np_.stack([a * 0.1, a * 0.2]))[0], v)
    return desc, fn


def b_remat_scan(rng):
    """A scan whose body is checkpointed (the remat-a-layer pattern)."""
    pol = _pick(rng, [None, "everything_saveable", "nothing_saveable", "dots_saveable"])
    n = rng.randrange(0, 4)
    ed, e = _elem(rng)
    desc = f"scan(n={n}) of checkpoint(policy={pol}, body {ed})"

    def fn(L, v, s):
        policy = None if pol is None else getattr(L.policies, pol)

        def body(c, x):
            h = e(L, c * 0.6 + x, s)
            return h * 0.8 + L.np.sum(h * c) * 0.05, L.np.sum(h)
        xs = L.np.stack([v * 0.2 * k for k in range(n)]) if n else \
            L.np.zeros((0, 3), dtype=v.dtype)
        c, ys = L.lax.scan(L.checkpoint(body, policy=policy), v, xs)
        return c + L.np.sum(ys) * 0.1
    return desc, fn


def b_fori_traced(rng):
    """fori_loop with a bound computed from the values (a while loop)."""
    ed, e = _elem(rng)
    scale = round(rng.uniform(1, 3), 2)
    desc = f"fori_loop(0, floor(|s|*{scale}) traced, body {ed})"

    def fn(L, v, s):
        hi = L.np.astype(L.np.floor(L.np.abs(s) * scale), L.np.int32)
        return L.lax.fori_loop(0, hi, lambda i, a: e(L, a * 0.9, s) * 0.8 + a * 0.1, v)
    return desc, fn


def b_cond_mixed(rng):
    """A cond (or a switch of three) whose branches read different operands, v and w =
    sin(v) s: v's cotangent comes from some branches only (the others return zeros), added to
    the one through w (sessions 54-56). Only with --mixed (the seeds' programs stay)."""
    ed1, e1 = _elem(rng)
    ed2, e2 = _elem(rng)
    t = round(rng.uniform(-1, 1), 2)
    three = rng.random() < 0.3
    desc = f"cond_mixed(sum(v)*s > {t}, {ed1} of v, {ed2} of sin(v)*s, switch={three})"

    def fn(L, v, s):
        w = L.np.sin(v) * s
        if three:
            idx = L.np.astype(L.np.sum(v) * s > t, L.np.int32) * 2
            return L.lax.switch(idx, [lambda a, b: e1(L, a, s), lambda a, b: a * b,
                                      lambda a, b: e2(L, b, s)], v, w)
        return L.lax.cond(L.np.sum(v) * s > t, lambda a, b: e1(L, a, s),
                          lambda a, b: e2(L, b, s), v, w)
    return desc, fn


BLOCKS = [b_scan, b_fori, b_while, b_cond, b_switch, b_map, b_assoc, b_checkpoint,
          b_custom_loop, b_nested, b_remat_scan, b_fori_traced]


class Program:
    def __init__(self, seed):
        rng = random.Random(seed)
        self.seed = seed
        self.blocks = [rng.choice(BLOCKS)(rng) for _ in range(rng.randrange(1, 4))]
        self.w = np.asarray([0.7, -0.4, 1.3])
        self.rng = rng

    def __str__(self):
        return " ; ".join(d for d, _ in self.blocks)

    def vec(self, L):
        def f(x, s):
            v = x
            for _, b in self.blocks:
                v = L.np.tanh(b(L, v, s)) * 1.3  # (bounded: no overflow)
            return v
        return f

    def scalar(self, L):
        vec = self.vec(L)
        w = self.w

        def f(x, s):
            return L.np.sum(vec(x, s) * L.np.asarray(w))
        return f


# -- transform stacks: ft's transform, and JAX's reference (forward mode) --------------------

def _stacks():
    """name -> (build(L, prog) -> callable of (x, s), reference name, argnums)."""
    S = {}
    S["value"] = (lambda L, p: p.vec(L), "value")
    S["jit"] = (lambda L, p: L.jit(p.vec(L)), "value")
    S["grad"] = (lambda L, p: L.grad(p.scalar(L)), "grad")
    S["grad_s"] = (lambda L, p: L.grad(p.scalar(L), argnums=1), "grad_s")
    S["jit_grad"] = (lambda L, p: L.jit(L.grad(p.scalar(L))), "grad")
    S["grad_jit"] = (lambda L, p: L.grad(L.jit(p.scalar(L))), "grad")
    S["jacfwd"] = (lambda L, p: L.jacfwd(p.vec(L)), "jac")
    S["jacrev"] = (lambda L, p: L.jacrev(p.vec(L)), "jac")
    S["jit_jacrev"] = (lambda L, p: L.jit(L.jacrev(p.vec(L))), "jac")
    S["hessian"] = (lambda L, p: L.hessian(p.scalar(L)), "hess")
    S["jit_hessian"] = (lambda L, p: L.jit(L.hessian(p.scalar(L))), "hess")
    S["jacrev_jacrev"] = (lambda L, p: L.jacrev(L.jacrev(p.scalar(L))), "hess")
    S["jacfwd_jit_grad"] = (lambda L, p: L.jacfwd(L.jit(L.grad(p.scalar(L)))), "hess")
    S["hessian_s"] = (lambda L, p: L.hessian(p.scalar(L), argnums=(0, 1)), "hess_xs")
    S["jacrev_jacfwd_jit"] = (lambda L, p: L.jacrev(L.jacfwd(L.jit(p.scalar(L)))), "hess")
    S["jit_jacfwd_s"] = (lambda L, p: L.jit(L.jacfwd(p.vec(L), argnums=1)), "jac_s")
    S["grad_vmap"] = (lambda L, p: L.grad(_vmapped_sum(L, p)), "grad_vmap")
    S["jacfwd_vmap_jit"] = (lambda L, p: L.jacfwd(_vmapped_sum(L, p, jit=True)), "grad_vmap")
    return S


def _vmapped_sum(L, p, jit=False):
    """x, s -> the weighted sum of the program over a batch of three (x rows scaled, s
    shared): control flow under vmap under a derivative."""
    g = p.scalar(L)
    g = L.jit(g) if jit else g

    def f(x, s):
        xs = L.np.stack([x, x * 0.5 - 0.1, -x])
        return L.np.sum(L.vmap(g, in_axes=(0, None))(xs, s))
    return f


STACKS = _stacks()

VMAPS = {  # name -> (in_axes, x shape maker, s shape maker)
    "vmap00": (0, 0), "vmap0N": (0, None), "vmapN0": (None, 0), "vmap10": (1, 0),
}
VMAP_INNER = ["value", "jit", "grad", "jit_grad", "jacrev", "hessian", "jit_hessian",
              "grad_s", "jacrev_jacfwd_jit"]


def reference(J, prog, kind, x, s):
    f = prog.vec(J)
    g = prog.scalar(J)
    if kind == "value":
        return f(x, s)
    if kind == "grad":
        return J.jacfwd(g)(x, s)
    if kind == "grad_s":
        return J.jacfwd(g, argnums=1)(x, s)
    if kind == "jac_s":
        return J.jacfwd(f, argnums=1)(x, s)
    if kind == "jac":
        return J.jacfwd(f)(x, s)
    if kind == "hess":
        return J.jacfwd(J.jacfwd(g))(x, s)
    if kind == "grad_vmap":
        return J.jacfwd(_vmapped_sum(J, prog))(x, s)
    if kind == "hess_xs":
        h = J.jacfwd(J.jacfwd(g, argnums=(0, 1)), argnums=(0, 1))(x, s)
        return h
    raise ValueError(kind)


def close(a, b, rtol, atol):
    """(Pytrees, equal dtypes, rtol and atol: not _fuzz_common.close_scaled.) A message where
    ``a`` and ``b`` differ, else None."""
    import jax
    la, ta = jax.tree_util.tree_flatten(a)
    lb, tb = jax.tree_util.tree_flatten(b)
    if len(la) != len(lb):
        return f"structure {ta} vs {tb}"
    for p, q in zip(la, lb):
        p, q = np.asarray(p), np.asarray(q)
        if p.shape != q.shape:
            return f"shape {p.shape} vs {q.shape}"
        if p.dtype != q.dtype:
            return f"dtype {p.dtype} vs {q.dtype}"
        if not np.allclose(p, q, rtol=rtol, atol=atol, equal_nan=True):
            return f"value {p!r} vs {q!r} (max diff {np.nanmax(np.abs(p - q))})"
    return None


def run_case(F, J, prog, stack, x, s, rtol, atol):
    """None where functrans agrees with JAX's reference, else a message."""
    if stack in STACKS:
        build, ref = STACKS[stack]
        try:
            want = reference(J, prog, ref, J.np.asarray(x), J.np.asarray(s))
        except Exception as e:  # noqa: BLE001
            return ("jax-error", f"{type(e).__name__}: {str(e)[:200]}")
        try:
            got = build(F, prog)(x, s)
        except Exception as e:  # noqa: BLE001
            return ("ft-error", f"{type(e).__name__}: {str(e)[:300]}\n"
                    + "".join(traceback.format_exc().splitlines(True)[-6:]))
        m = close(got, want, rtol, atol)
        return None if m is None else ("mismatch", m)
    vm, inner = stack.split(":")
    axes = VMAPS[vm]
    build, ref = STACKS[inner]
    B = 3
    xs = np.stack([x * (1 + 0.3 * b) - 0.2 * b for b in range(B)])
    ss = np.asarray([s * (1 - 0.4 * b) for b in range(B)])
    xin = xs if axes[0] == 0 else np.moveaxis(xs, 0, 1) if axes[0] == 1 else x
    sin_ = ss if axes[1] == 0 else s
    try:
        want = [reference(J, prog, ref, J.np.asarray(xs[b] if axes[0] is not None else x),
                          J.np.asarray(ss[b] if axes[1] is not None else s)) for b in range(B)]
        import jax
        want = jax.tree_util.tree_map(lambda *r: np.stack(r), *want)
    except Exception as e:  # noqa: BLE001
        return ("jax-error", f"{type(e).__name__}: {str(e)[:200]}")
    try:
        got = F.vmap(build(F, prog), in_axes=axes)(xin, sin_)
    except Exception as e:  # noqa: BLE001
        return ("ft-error", f"{type(e).__name__}: {str(e)[:300]}\n"
                + "".join(traceback.format_exc().splitlines(True)[-6:]))
    m = close(got, want, rtol, atol)
    return None if m is None else ("mismatch", m)


def main(lo, hi, verbose=False, stacks=None):
    """Count the outcomes of the seeds ``[lo, hi)``; an ft-error or a mismatch fails (printed as
    it happens; a jax-error only with ``verbose``). Returns the exit status."""
    F, J = ft_lib(), jax_lib()
    all_stacks = list(STACKS) + [f"{v}:{i}" for v in VMAPS for i in VMAP_INNER]
    for seed in range(lo, hi):
        prog = Program(seed)
        rng = prog.rng
        x = np.asarray([rng.uniform(-1.5, 1.5) for _ in range(3)])
        s = rng.uniform(-1.2, 1.2)
        picks = stacks or rng.sample(all_stacks, 6)
        if verbose:
            print(seed, prog)
        for st in picks:
            r = run_case(F, J, prog, st, x, np.float64(s), 1e-9, 1e-11)
            TALLY.count("ok" if r is None else r[0])
            where = f"seed {seed} {prog}\n    x={x.tolist()} s={s}"
            if r is not None and r[0] != "jax-error":
                TALLY.fail(st, where, f"{r[0]}: {r[1]}")
            elif r is not None and verbose:
                print(f"jax-error [{st}] {r[1]}\n    case={where}")
    return TALLY.exit_status("counts:")


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("-")]
    asked = "-h" in sys.argv or "--help" in sys.argv
    if asked or len(args) != 2:  # (the usage, not an IndexError)
        print(__doc__)
        sys.exit(0 if asked else 2)
    if "--mixed" in sys.argv:  # (other programs for the same seeds)
        BLOCKS.append(b_cond_mixed)
    sys.exit(main(int(args[0]), int(args[1]), "-v" in sys.argv))
