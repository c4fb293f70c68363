"""Seeded random fuzzer: functrans.lax's convolutions and windowed reductions against JAX (x64).

Not collected by pytest (leading underscore). Run from the repository root:

    PYTHONPATH=. python tests/_fuzz_conv_jax.py [section ...] [--n N] [--seed S]

sections: stax, conv, transpose, patches, reduce, shapes, signal, backends, simple (lax.conv,
conv_with_general_padding, conv_dimension_numbers; session 43) (default: all).
For each random case: values vs JAX; jvp vs jax.jvp and vs central differences (float64,
a sample); vjp vs jax.vjp and the dot-product identity <u, J v> = <J^T u, v>; jacrev vs
jacfwd and second order vs JAX (a sample); grad, vmap (in_axes on lhs and rhs), jit,
jit(vmap(grad)). Prints one line per mismatch and a summary; exit status 1 on any.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import traceback

import numpy as np

import jax
import jax.numpy as jnp

jax.config.update("jax_enable_x64", True)
from jax import lax as jlax  # noqa: E402

import functrans as ft  # noqa: E402
import functrans.lax as lax  # noqa: E402
import functrans.numpy as fnp  # noqa: E402

import os  # noqa: E402

VERBOSE = bool(os.environ.get("FUZZ_VERBOSE"))

from tests._fuzz_common import Tally, close_scaled as close  # noqa: E402

TALLY = Tally(progress_every=25)
FAILS, COUNTS, fail, count = TALLY.fails, TALLY.counts, TALLY.fail, TALLY.count


def rand(rng, shape, dtype):
    if np.dtype(dtype).kind == "c":
        return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dtype)
    if np.dtype(dtype).kind in "iu":
        return rng.integers(-4, 5, size=shape).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


def tol_of(dtype):
    return {"float32": 2e-5, "complex64": 2e-5, "float16": 2e-2}.get(np.dtype(dtype).name, 1e-11)


# -- conv_general_dilated cases --------------------------------------------------------------

SPATIAL = "HWD"


def conv_case(rng, nsp=None):
    nsp = nsp if nsp is not None else int(rng.choice([1, 1, 2, 2, 2, 3]))
    G = B = 1
    r = rng.random()
    if r < 0.25:
        G = int(rng.integers(2, 4))
    elif r < 0.4:
        B = int(rng.integers(2, 4))
    Ci = int(rng.integers(1, 4)) if rng.random() > 0.05 else 0
    C = Ci * G
    O = int(rng.integers(1, 3)) * G * B
    N = int(rng.integers(1, 4)) * B if rng.random() > 0.07 else 0
    small = nsp == 3
    sizes = [int(rng.integers(0 if rng.random() < 0.05 else 1, 5 if small else 8))
             for _ in range(nsp)]
    ks = [int(rng.integers(1, 3 if small else 4)) for _ in range(nsp)]
    strides = [int(rng.integers(1, 4)) for _ in range(nsp)]
    ldil = [int(rng.integers(1, 4)) if rng.random() < 0.3 else 1 for _ in range(nsp)]
    rdil = [int(rng.integers(1, 4)) if rng.random() < 0.3 else 1 for _ in range(nsp)]
    pr = rng.random()
    if pr < 0.4 and all(d == 1 for d in ldil):
        padding = str(rng.choice(["VALID", "SAME", "SAME_LOWER", "same", "valid"]))
    else:
        padding = []
        for n, d in zip(sizes, ldil):
            span = (n - 1) * d + 1 if n else 0
            lo, hi = int(rng.integers(-2, 4)), int(rng.integers(-2, 4))
            if span + lo + hi < 0:
                lo, hi = max(lo, 0), max(hi, 0)
            padding.append((lo, hi))
    # layout
    lperm = list(rng.permutation(nsp + 2))
    rperm = list(rng.permutation(nsp + 2))
    operm = list(rng.permutation(nsp + 2))
    kind = str(rng.choice(["none", "str", "tuple", "cdn"]))
    if kind == "none":
        lperm = rperm = operm = list(range(nsp + 2))
        dn = None
    else:
        spec = ConvDN(tuple(int(i) for i in lperm), tuple(int(i) for i in rperm),
                      tuple(int(i) for i in operm))
        if kind == "str":
            dn = spec.strings(nsp)
        elif kind == "tuple":
            dn = "tuple", spec
        else:
            dn = "cdn", spec
    dtype = str(rng.choice(["float64"] * 6 + ["float32", "complex128"]))
    pet = None
    if rng.random() < 0.08 and dtype == "float32":
        pet = "float64"
    return dict(nsp=nsp, N=N, C=C, O=O, G=G, B=B, sizes=sizes, ks=ks, strides=strides,
                ldil=ldil, rdil=rdil, padding=padding, dn=dn, lperm=lperm, rperm=rperm,
                operm=operm, dtype=dtype, pet=pet, dil_none=rng.random() < 0.3)


class ConvDN:
    def __init__(self, l, r, o):
        self.l, self.r, self.o = l, r, o

    def strings(self, nsp):
        def s(spec, pair):
            out = [""] * len(spec)
            out[spec[0]] = pair[0]
            out[spec[1]] = pair[1]
            for i, a in enumerate(spec[2:]):
                out[a] = SPATIAL[i]
            return "".join(out)
        return s(self.l, "NC"), s(self.r, "OI"), s(self.o, "NC")

    def __repr__(self):
        return f"ConvDN({self.l}, {self.r}, {self.o})"


def physical(logical, spec):
    shape = [0] * len(spec)
    for i, a in enumerate(spec):
        shape[a] = logical[i]
    return tuple(shape)


def conv_shapes(c):
    lhs = physical([c["N"], c["C"]] + c["sizes"], c["lperm"])
    rhs = physical([c["O"], c["C"] // c["G"]] + c["ks"], c["rperm"])
    return lhs, rhs


def dn_for(c, mod):
    dn = c["dn"]
    if dn is None:
        return None
    if isinstance(dn, tuple) and dn[0] == "tuple":
        s = dn[1]
        if mod is jlax:
            return jlax.ConvDimensionNumbers(s.l, s.r, s.o)  # JAX takes no plain triples
        return (s.l, s.r, s.o)
    if isinstance(dn, tuple) and dn[0] == "cdn":
        s = dn[1]
        return mod.ConvDimensionNumbers(s.l, s.r, s.o)
    return dn


def conv_fn(mod, c):
    dn = dn_for(c, mod)
    ldil = None if (c["dil_none"] and all(d == 1 for d in c["ldil"])) else tuple(c["ldil"])
    rdil = None if (c["dil_none"] and all(d == 1 for d in c["rdil"])) else tuple(c["rdil"])
    padding = c["padding"]
    if not isinstance(padding, str):
        padding = [tuple(p) for p in padding]

    def f(x, w):
        return mod.conv_general_dilated(x, w, tuple(c["strides"]), padding, ldil, rdil, dn,
                                        c["G"], c["B"], preferred_element_type=c["pet"])
    return f


def jax_ok(fn, *args, **kw):
    try:
        return True, fn(*args, **kw)
    except Exception as e:  # noqa: BLE001
        return False, e


def compare_forward(section, case, run, jax_result, tol, *, key=None, check_dtype=False,
                    also=()):
    """functrans's value (``run()``) against JAX's (``jax_result``, from ``jax_ok``) and the
    references in ``also`` (``(label, value)`` pairs), within ``tol``: the value where all
    agree (the case counted under ``key``, the section's name by default); else None, a
    failure reported (one of the two raised, a value differs) or both raised (counted as
    ``section:both-raise``). ``check_dtype``: JAX's dtype too (a mismatch reported, the value
    still returned)."""
    okj, yj = jax_result
    try:
        yf = run()
    except Exception as e:  # noqa: BLE001
        if okj:
            fail(section, case, f"functrans raised, JAX did not: {type(e).__name__}: {e}")
        else:
            count(section + ":both-raise")
        return None
    if not okj:
        fail(section, case, f"JAX raised ({type(yj).__name__}: {str(yj)[:150]}), functrans "
                            f"gave shape {np.shape(yf)}")
        return None
    for label, ref in (("value", yj), *also):
        ok, msg = close(yf, ref, tol)
        if not ok:
            fail(section, case, f"{label}: {msg}")
            return None
    if check_dtype and np.asarray(yf).dtype != np.asarray(yj).dtype:
        fail(section, case, f"dtype {np.asarray(yf).dtype} vs {np.asarray(yj).dtype}")
    count(key or section)
    return yf


def check_derivatives(section, case, f_ft, f_jax, args, rng, *, fd=False, second=False,
                      argnums=(0, 1), tol=1e-10, jax_reverse=True):
    """jvp/vjp vs JAX (and finite differences, the dot-product identity, second order)."""
    args = [np.asarray(a) for a in args]
    tans = [rand(rng, a.shape, a.dtype) for a in args]
    tans = [t if i in argnums else np.zeros_like(t) for i, t in enumerate(tans)]
    y_f, t_f = ft.jvp(f_ft, tuple(args), tuple(tans))
    if f_jax is not None:
        y_j, t_j = jax.jvp(f_jax, tuple(jnp.asarray(a) for a in args),
                           tuple(jnp.asarray(t) for t in tans))
        ok, msg = close(t_f, t_j, tol)
        if not ok:
            fail(section, case, f"jvp vs jax: {msg}")
    else:
        y_j = y_f
        fd = True
    u = rand(rng, np.shape(y_j), np.asarray(y_j).dtype)
    _, vjp_f = ft.vjp(f_ft, *args)
    ct_f = vjp_f(u)
    if f_jax is not None and jax_reverse:
        _, vjp_j = jax.vjp(f_jax, *(jnp.asarray(a) for a in args))
        ct_j = vjp_j(jnp.asarray(u))
        for i in argnums:
            ok, msg = close(ct_f[i], ct_j[i], tol)
            if not ok:
                fail(section, case, f"vjp arg {i} vs jax: {msg}")
    # dot-product identity (real part of <u, J v> = <J^T u, v>; vjp conjugation as JAX's)
    # (real parts: the identity of the real-linear map; correlate conjugates one operand)
    lhs = np.real(np.sum(np.asarray(u) * np.asarray(t_f)))
    rhs = np.real(sum(np.sum(np.asarray(ct_f[i]) * tans[i]) for i in argnums))
    if not np.isclose(lhs, rhs, rtol=1e-9, atol=1e-9 * (1 + abs(lhs))):
        fail(section, case, f"dot-product identity {lhs} vs {rhs}")
    if fd and all(np.asarray(a).dtype == np.float64 for a in args):
        h = 1e-6
        plus = [a + h * t for a, t in zip(args, tans)]
        minus = [a - h * t for a, t in zip(args, tans)]
        y0 = np.asarray(y_f)
        d = (np.asarray(f_ft(*plus)) - np.asarray(f_ft(*minus))) / (2 * h)
        fin = np.isfinite(y0)  # (an infinite output: its differences are nan)
        ok, msg = close(np.where(fin, t_f, 0), np.where(fin, d, 0), 1e-6)
        if not ok:
            fail(section, case, f"jvp vs central differences: {msg}")
    if second and f_jax is not None and jax_reverse and np.size(y_j) and all(np.asarray(a).dtype == np.float64 for a in args):
        # a scalar of the output: sum(sin(y) * u); its Hessian-vector product vs JAX's
        def sf(fn, sinm):
            def g(*a):
                return sinm(fn(*a)).sum() if False else (sinm(fn(*a)) * u).sum()
            return g
        g_ft = sf(f_ft, fnp.sin)
        g_j = sf(f_jax, jnp.sin)
        hv_j = jax.jvp(jax.grad(g_j, argnums=argnums), tuple(jnp.asarray(a) for a in args),
                       tuple(jnp.asarray(t) for t in tans))[1]
        hv_f = ft.jvp(ft.grad(g_ft, argnums=argnums), tuple(args), tuple(tans))[1]
        for k, i in enumerate(argnums):
            ok, msg = close(hv_f[k], hv_j[k], tol)
            if not ok:
                fail(section, case, f"hvp arg {i} vs jax: {msg}")
        # jacrev vs jacfwd on small sizes
        if np.size(y_j) * sum(np.size(a) for a in args) < 4000:
            jr = ft.jacrev(f_ft, argnums=argnums)(*args)
            jf = ft.jacfwd(f_ft, argnums=argnums)(*args)
            for k in range(len(argnums)):
                ok, msg = close(jr[k], jf[k], tol)
                if not ok:
                    fail(section, case, f"jacrev vs jacfwd arg {argnums[k]}: {msg}")


def check_transforms(section, case, f_ft, f_jax, x, w, rng, tol):
    """grad, jit, vmap (in_axes on lhs / rhs), jit(vmap(grad)) vs JAX."""
    real = np.asarray(x).dtype.kind == "f"
    # jit
    y_j = np.asarray(f_jax(jnp.asarray(x), jnp.asarray(w)))
    ok, msg = close(ft.jit(f_ft)(x, w), y_j, tol)
    if not ok:
        fail(section, case, f"jit value: {msg}")
    # vmap with random in_axes
    nb = 2
    ax_x = int(rng.integers(0, x.ndim + 1)) if rng.random() < 0.8 else None
    ax_w = int(rng.integers(0, w.ndim + 1)) if rng.random() < 0.5 or ax_x is None else None
    xb = np.stack([rand(rng, x.shape, x.dtype) for _ in range(nb)], axis=ax_x) \
        if ax_x is not None else x
    wb = np.stack([rand(rng, w.shape, w.dtype) for _ in range(nb)], axis=ax_w) \
        if ax_w is not None else w
    vj = np.asarray(jax.vmap(f_jax, in_axes=(ax_x, ax_w))(jnp.asarray(xb), jnp.asarray(wb)))
    vf = ft.vmap(f_ft, in_axes=(ax_x, ax_w))(xb, wb)
    ok, msg = close(vf, vj, tol)
    if not ok:
        fail(section, case, f"vmap in_axes=({ax_x}, {ax_w}) value: {msg}")
    if not real:
        return
    u = rand(rng, y_j.shape, y_j.dtype)

    def loss(mod_np, fn):
        def g(x, w):
            return (mod_np.tanh(fn(x, w)) * u).sum()
        return g
    gj = jax.grad(loss(jnp, f_jax), argnums=(0, 1))
    gf = ft.grad(loss(fnp, f_ft), argnums=(0, 1))
    a, b = gf(x, w), gj(jnp.asarray(x), jnp.asarray(w))
    f64 = np.asarray(x).dtype == np.float32 and not all(
        close(a[i], b[i], tol)[0] for i in range(2))
    if f64:
        # fuzz49: JAX's float32 gradient of a conv_transpose can be far off where its float64
        # one is right (strides (3, 1), padding ((2, 2), (2, 0)): 2.97 off central
        # differences, functrans 2e-7): the reference is then JAX's in float64, cast back
        def gj(x_, w_, _g=jax.grad(loss(jnp, f_jax), argnums=(0, 1))):
            r = _g(jnp.asarray(x_, dtype=jnp.float64), jnp.asarray(w_, dtype=jnp.float64))
            return tuple(jnp.asarray(t, dtype=jnp.float32) for t in r)
        b64 = gj(x, w)
        if all(close(a[i], b64[i], tol)[0] for i in range(2)):
            count(section + "/jax-float32-grad-wrong")
        b = b64
    for i in range(2):
        ok, msg = close(a[i], b[i], tol)
        if not ok:
            fail(section, case, f"grad arg {i}: {msg}")
    a = ft.jit(gf)(x, w)
    for i in range(2):
        ok, msg = close(a[i], b[i], tol)
        if not ok:
            fail(section, case, f"jit(grad) arg {i}: {msg}")
    vgj = jax.vmap(gj, in_axes=(ax_x, ax_w))(jnp.asarray(xb), jnp.asarray(wb))
    vgf = ft.jit(ft.vmap(gf, in_axes=(ax_x, ax_w)))(xb, wb)
    for i in range(2):
        ok, msg = close(vgf[i], vgj[i], tol)
        if not ok:
            fail(section, case, f"jit(vmap(grad)) in_axes=({ax_x}, {ax_w}) arg {i}: {msg}")


def _complex_conv_by_real_parts(f_j, x, w, jax_result):
    """JAX's complex conv with a non-finite kernel element, settled. XLA on CPU (jax 0.10.2)
    forms the complex products by Gauss's three real products, k1 = c (a + b),
    k2 = a (d - c), k3 = b (c + d), (a + bi)(c + di) = (k1 - k3) + (k1 + k2) i: with c = inf,
    k1 - k3 is inf - inf, a NaN where the product (ac - bd) + (ad + bc) i is infinite (seed
    48003's conv case: -inf - inf j for x = -0.36 - 0.32j times inf + 0j, JAX nan + nan j).
    The referee is the definition, four real float64 convs of JAX: its value where JAX's
    differs, counted as conv:jax-complex-gauss-nonfinite."""
    def conv(a, b):
        return np.asarray(f_j(jnp.asarray(np.ascontiguousarray(a)),
                              jnp.asarray(np.ascontiguousarray(b))))
    ref = np.empty(np.shape(jax_result[1]), np.complex128)
    ref.real = conv(x.real, w.real) - conv(x.imag, w.imag)   # (not re + 1j * im: 1j * inf
    ref.imag = conv(x.real, w.imag) + conv(x.imag, w.real)   # has a NaN real part)
    if close(jax_result[1], ref, 1e-11)[0]:
        return jax_result
    count("conv:jax-complex-gauss-nonfinite")
    return True, ref


def run_conv(rng, n):
    section = "conv"
    for it in range(n):
        c = conv_case(rng)
        lshape, rshape = conv_shapes(c)
        x = rand(rng, lshape, c["dtype"])
        w = rand(rng, rshape, c["dtype"])
        nonfinite = w.size and rng.random() < 0.12
        if nonfinite:  # (padding and holes take no part: XLA's 0 * inf never happens)
            w.flat[int(rng.integers(0, w.size))] = rng.choice([np.inf, -np.inf, np.nan])
            c["nonfinite"] = True
        f_j, f_f = conv_fn(jlax, c), conv_fn(lax, c)
        yj = jax_ok(f_j, jnp.asarray(x), jnp.asarray(w))
        if nonfinite and c["dtype"] == "complex128" and yj[0]:
            yj = _complex_conv_by_real_parts(f_j, x, w, yj)
        tol = tol_of(c["dtype"])
        if compare_forward(section, c, lambda: f_f(x, w), yj, tol, check_dtype=True) is None:
            continue
        yj = yj[1]
        if nonfinite:
            for name, fn in [("jit", ft.jit(f_f)),
                             ("vmap", lambda a, b: ft.vmap(f_f, in_axes=(None, 0))(
                                 a, np.stack([b, np.ones_like(b), b]))[2])]:
                try:
                    ok, msg = close(fn(x, w), yj, tol)
                    if not ok:
                        fail(section, c, f"non-finite kernel, {name}: {msg}")
                except Exception as e:  # noqa: BLE001
                    fail(section, c, f"non-finite kernel, {name} raised {e}")
            continue
        try:
            if c["dtype"] != "float32":
                check_derivatives(section, c, f_f, f_j, (x, w), rng, fd=it % 4 == 0,
                                  second=it % 5 == 0)
            if it % 3 == 0:
                check_transforms(section, c, f_f, f_j, x, w, rng, max(tol, 1e-9))
        except Exception as e:  # noqa: BLE001
            fail(section, c, f"transform raised {type(e).__name__}: {e}\n"
                             f"{traceback.format_exc(limit=-4)}")


# -- conv_transpose -----------------------------------------------------------------------------

def run_transpose(rng, n):
    section = "transpose"
    for it in range(n):
        nsp = int(rng.choice([1, 2, 2, 3]))
        N, C, O = int(rng.integers(1, 3)), int(rng.integers(1, 4)), int(rng.integers(1, 4))
        sizes = [int(rng.integers(1, 6)) for _ in range(nsp)]
        ks = [int(rng.integers(1, 4)) for _ in range(nsp)]
        strides = [int(rng.integers(1, 4)) for _ in range(nsp)]
        rdil = [int(rng.integers(1, 3)) for _ in range(nsp)] if rng.random() < 0.4 else None
        tk = bool(rng.random() < 0.5)
        consistent = bool(rng.random() < 0.3)
        if rng.random() < 0.6:
            padding = str(rng.choice(["SAME", "VALID"]))
        else:
            padding = [(int(rng.integers(-1, 4)), int(rng.integers(-1, 4))) for _ in range(nsp)]
        use_dn = rng.random() < 0.5
        dtype = str(rng.choice(["float64", "float64", "complex128", "float32"]))
        default = {1: ("NHC", "HIO", "NHC"), 2: ("NHWC", "HWIO", "NHWC"),
                   3: ("NHWDC", "HWDIO", "NHWDC")}[nsp]
        if use_dn:
            sp = SPATIAL[:nsp]
            dn = ("NC" + sp, "OI" + sp, "NC" + sp)
            lshape = [N, C] + sizes
            # transpose_kernel swaps I and O: the kernel's I is lhs's C then... (JAX's rule)
            rshape = ([C, O] if tk else [O, C]) + ks
        else:
            dn = None
            lshape = [N] + sizes + [C]
            rshape = ks + ([O, C] if tk else [C, O])
        case = dict(nsp=nsp, lshape=lshape, rshape=rshape, strides=strides, padding=padding,
                    rdil=rdil, dn=dn or default, tk=tk, consistent=consistent, dtype=dtype)
        x, w = rand(rng, lshape, dtype), rand(rng, rshape, dtype)

        def mk(mod):
            def f(x, w):
                return mod.conv_transpose(x, w, strides, padding, rhs_dilation=rdil,
                                          dimension_numbers=dn, transpose_kernel=tk,
                                          use_consistent_padding=consistent)
            return f
        f_j, f_f = mk(jlax), mk(lax)
        yj = jax_ok(f_j, jnp.asarray(x), jnp.asarray(w))
        tol = tol_of(dtype)
        if compare_forward(section, case, lambda: f_f(x, w), yj, tol) is None:
            continue
        yj = yj[1]
        # the shape helper
        if use_dn is False and isinstance(padding, (str, list)) and not consistent and \
                rdil is None:
            try:
                sj = jlax.conv_transpose_shape_tuple(tuple(lshape), tuple(rshape), strides,
                                                     padding, default)
                sf = lax.conv_transpose_shape_tuple(tuple(lshape), tuple(rshape), strides,
                                                    padding, default)
                if tuple(sj) != tuple(sf):
                    fail(section, case, f"conv_transpose_shape_tuple {sf} vs {sj}")
            except Exception as e:  # noqa: BLE001
                print("  (shape tuple)", type(e).__name__, e)
        try:
            if dtype != "float32":
                check_derivatives(section, case, f_f, f_j, (x, w), rng, fd=it % 4 == 0,
                                  second=it % 6 == 0)
            if it % 3 == 0:
                check_transforms(section, case, f_f, f_j, x, w, rng, max(tol, 1e-9))
        except Exception as e:  # noqa: BLE001
            fail(section, case, f"transform raised {type(e).__name__}: {e}\n"
                                f"{traceback.format_exc(limit=-4)}")


# -- patches and local -------------------------------------------------------------------------

def run_patches(rng, n):
    section = "patches"
    for it in range(n):
        c = conv_case(rng)
        c["G"] = c["B"] = 1
        c["pet"] = None
        lshape, _ = conv_shapes(c)
        x = rand(rng, lshape, c["dtype"])
        dn = c["dn"]
        if isinstance(dn, tuple) and dn and dn[0] in ("tuple", "cdn"):
            dn = dn_for(c, jlax) if dn[0] == "cdn" else dn[1].strings(c["nsp"])
        # JAX's filter_shape is in the kernel spec's spatial order (= ks)
        fs = tuple(c["ks"])
        ldil = tuple(c["ldil"])
        rdil = tuple(c["rdil"])
        padding = c["padding"] if isinstance(c["padding"], str) else [tuple(p) for p in
                                                                       c["padding"]]

        def mk(mod, dn=dn):
            dnm = dn
            if isinstance(dn, jlax.ConvDimensionNumbers) and mod is lax:
                dnm = lax.ConvDimensionNumbers(*dn)

            def f(x):
                return mod.conv_general_dilated_patches(x, fs, tuple(c["strides"]), padding,
                                                        ldil, rdil, dnm)
            return f
        f_j, f_f = mk(jlax), mk(lax)
        okj, yj = jax_ok(f_j, jnp.asarray(x))
        if not okj and c["C"] == 0:  # (JAX's one-hot kernel has feature_group_count 0)
            count(section + ":no-features")
            continue
        if compare_forward(section, c, lambda: f_f(x), (okj, yj), tol_of(c["dtype"])) is None:
            continue
        if c["dtype"] == "float64" and it % 2 == 0:
            try:
                check_derivatives(section, c, lambda a, _b: f_f(a), lambda a, _b: f_j(a),
                                  (x, np.zeros(())), rng, argnums=(0,))
            except Exception as e:  # noqa: BLE001
                fail(section, c, f"derivatives raised {type(e).__name__}: {e}")
        # local: a kernel per output position
        if np.size(yj) and c["dtype"] == "float64":
            O = int(rng.integers(1, 3))
            dnj = dn if dn is not None else None
            dn_obj = jlax.conv_dimension_numbers(lshape, (1, 1) + fs, dnj)
            out_logical = [np.shape(yj)[a] for a in dn_obj.out_spec]  # N, C*K, out...
            wlog = [O, out_logical[1]] + out_logical[2:]
            wshape = physical(wlog, dn_obj.rhs_spec)
            w = rand(rng, wshape, "float64")

            def mkl(mod, dn=dn):
                dnm = dn
                if isinstance(dn, jlax.ConvDimensionNumbers) and mod is lax:
                    dnm = lax.ConvDimensionNumbers(*dn)

                def f(x, w):
                    return mod.conv_general_dilated_local(x, w, tuple(c["strides"]), padding,
                                                          fs, ldil, rdil, dnm)
                return f
            lj, lf = mkl(jlax), mkl(lax)
            if compare_forward("local", c, lambda: lf(x, w),
                               jax_ok(lj, jnp.asarray(x), jnp.asarray(w)), 1e-10) is None:
                continue
            if it % 3 == 0:
                try:
                    check_derivatives("local", c, lf, lj, (x, w), rng, fd=True)
                except Exception as e:  # noqa: BLE001
                    fail("local", c, f"derivatives raised {type(e).__name__}: {e}")


# -- reduce_window ---------------------------------------------------------------------------

def reduce_window_np(x, init, op, win, strides, padding, bdil, wdil):
    """XLA's reduce_window by loops: op folded over init and the real elements of each window
    (padding and base-dilation holes take no part)."""
    nd = x.ndim
    strides = strides or [1] * nd
    bdil = bdil or [1] * nd
    wdil = wdil or [1] * nd
    eff = [(k - 1) * r + 1 for k, r in zip(win, wdil)]
    if isinstance(padding, str):
        padding = jlax.padtype_to_pads(x.shape, eff, strides, padding)
    dsz = [(n - 1) * d + 1 if n else 0 for n, d in zip(x.shape, bdil)]
    psz = [n + lo + hi for n, (lo, hi) in zip(dsz, padding)]
    outs = [max((n - e) // s + 1, 0) for n, e, s in zip(psz, eff, strides)]
    y = np.empty(outs, dtype=x.dtype)
    for o in itertools.product(*map(range, outs)):
        acc = init
        for k in itertools.product(*map(range, win)):
            src = []
            for oi, ki, s, r, (lo, _), d in zip(o, k, strides, wdil, padding, bdil):
                p = oi * s + ki * r - lo  # position in the dilated operand
                if p % d:
                    break
                src.append(p // d)
            else:
                if all(0 <= i < n for i, n in zip(src, x.shape)):
                    acc = op(acc, x[tuple(src)])
        y[o] = acc
    return y


def run_reduce(rng, n):
    section = "reduce"
    for it in range(n):
        nd = int(rng.integers(1, 5))
        shape = [int(rng.integers(0 if rng.random() < 0.05 else 1, 6)) for _ in range(nd)]
        win = [int(rng.integers(1, 4)) for _ in range(nd)]
        strides = [int(rng.integers(1, 3)) for _ in range(nd)] if rng.random() < 0.8 else None
        bdil = [int(rng.integers(1, 3)) for _ in range(nd)] if rng.random() < 0.3 else None
        wdil = [int(rng.integers(1, 3)) for _ in range(nd)] if rng.random() < 0.3 else None
        if rng.random() < 0.4:
            padding = str(rng.choice(["VALID", "SAME", "SAME_LOWER"]))
        else:
            padding = []
            for i, s in enumerate(shape):
                span = (s - 1) * (bdil[i] if bdil else 1) + 1 if s else 0
                lo, hi = int(rng.integers(-1, 3)), int(rng.integers(-1, 3))
                if span + lo + hi < 0:
                    lo, hi = 0, 0
                padding.append((lo, hi))
        op = str(rng.choice(["add", "max", "min", "mul", "custom_add", "custom_max",
                             "logaddexp"]))
        dtype = str(rng.choice(["float64"] * 5 + ["float32", "int32"]))
        if op == "logaddexp" and dtype == "int32":
            dtype = "float64"
        init_kind = str(rng.choice(["identity", "other", "other"]))
        ident = {"add": 0.0, "custom_add": 0.0, "mul": 1.0, "max": -np.inf,
                 "custom_max": -np.inf, "min": np.inf, "logaddexp": -np.inf}[op]
        if init_kind == "identity":
            init = ident
        else:
            init = float(rng.choice([0.5, -1.0, 2.0]))
        if dtype == "int32":
            if init in (np.inf, -np.inf):
                init = {np.inf: int(np.iinfo(np.int32).max),
                        -np.inf: int(np.iinfo(np.int32).min)}[init]
            init = int(init) if init == int(init) else 1
        case = dict(shape=shape, win=win, strides=strides, padding=padding, bdil=bdil,
                    wdil=wdil, op=op, dtype=dtype, init=init)
        x = rand(rng, shape, dtype)
        if rng.random() < 0.2 and dtype == "float64" and x.size:
            x.flat[int(rng.integers(0, x.size))] = x.flat[0]  # a tie

        def comp(mod, mnp):
            return {"add": mod.add, "max": mod.max, "min": mod.min, "mul": mod.mul,
                    "custom_add": lambda a, b: a + b,
                    "custom_max": lambda a, b: mnp.maximum(a, b),
                    "logaddexp": lambda a, b: mnp.logaddexp(a, b)}[op]

        def mk(mod, mnp):
            cf = comp(mod, mnp)

            def f(x):
                iv = init
                if mod is jlax:
                    iv = np.asarray(init, dtype=dtype)
                st = strides
                if mod is jlax and st is None:
                    st = (1,) * nd  # (JAX 0.10.2's string padding fails without strides)
                return mod.reduce_window(x, iv, cf, tuple(win), st, padding, bdil, wdil)
            return f
        f_j, f_f = mk(jlax, jnp), mk(lax, fnp)
        if VERBOSE:
            print("reduce case", case, flush=True)
        npop = {"add": np.add, "custom_add": np.add, "mul": np.multiply, "max": np.maximum,
                "custom_max": np.maximum, "min": np.minimum, "logaddexp": np.logaddexp}[op]
        with np.errstate(all="ignore"):
            want = reduce_window_np(x, np.asarray(init, dtype=dtype)[()], npop, win, strides,
                                    padding, bdil, wdil)
        # (XLA 0.10.2's CPU compiler aborts on some negative pads: JAX only without them)
        jax_safe = isinstance(padding, str) or all(lo >= 0 and hi >= 0 for lo, hi in padding)
        if jax_safe:
            okj, yj = jax_ok(f_j, jnp.asarray(x))
        else:
            okj, yj, f_j = True, want, None
        tol = tol_of(dtype) if dtype != "int32" else 0
        if compare_forward(section, case, lambda: f_f(x), (okj, yj), max(tol, 1e-12),
                           check_dtype=True, also=[("value vs loops", want)]) is None:
            continue
        if dtype != "float64" or not np.size(yj):
            continue
        has_tie = len(np.unique(x)) != x.size
        # JAX differentiates in reverse only add/max/min from their identities, without
        # window dilation for max/min
        jax_reverse = op in ("add", "max", "min") and init == ident and (
            op == "add" or not wdil or all(d == 1 for d in wdil))
        try:
            if not has_tie or op in ("add", "mul", "custom_add"):
                check_derivatives(section, case, lambda a, _b: f_f(a),
                                  (lambda a, _b: f_j(a)) if f_j is not None else None,
                                  (x, np.zeros(())), rng, argnums=(0,), fd=it % 3 == 0,
                                  second=it % 4 == 0,
                                  jax_reverse=jax_reverse)
            if it % 3 == 0 and f_j is not None and jax_reverse:
                check_transforms(section, case, lambda a, b: f_f(a) * b,
                                 lambda a, b: f_j(a) * b, x, np.float64(1.5), rng, 1e-9)
        except Exception as e:  # noqa: BLE001
            fail(section, case, f"transform raised {type(e).__name__}: {e}\n"
                                f"{traceback.format_exc(limit=-4)}")


# -- shape helpers -----------------------------------------------------------------------------

def run_shapes(rng, n):
    section = "shapes"
    for _ in range(n):
        nsp = int(rng.integers(1, 4))
        lhs = [int(rng.integers(1, 4)) * 2, int(rng.integers(1, 4))] + \
            [int(rng.integers(1, 9)) for _ in range(nsp)]
        rhs = [int(rng.integers(1, 4)), lhs[1]] + [int(rng.integers(1, 4)) for _ in range(nsp)]
        strides = [int(rng.integers(1, 4)) for _ in range(nsp)]
        pad = str(rng.choice(["VALID", "SAME", "SAME_LOWER", "pairs"]))
        if pad == "pairs":
            pad = [(int(rng.integers(-1, 3)), int(rng.integers(-1, 3))) for _ in range(nsp)]
        case = dict(lhs=lhs, rhs=rhs, strides=strides, pad=pad)
        for name, args in [
                ("conv_shape_tuple", (lhs, rhs, strides, pad)),
                ("conv_shape_tuple", (lhs, rhs, strides, pad, 2)),
                ("padtype_to_pads", (lhs[2:], rhs[2:], strides,
                                     pad if isinstance(pad, str) else "SAME")),
                ("reduce_window_shape_tuple", (lhs, [1, 1] + rhs[2:], [1, 1] + strides,
                                               [(0, 0), (0, 0)] + (pad if not isinstance(
                                                   pad, str) else [(1, 0)] * nsp))),
                ("reduce_window_shape_tuple", (lhs, [1, 1] + rhs[2:], [1, 1] + strides,
                                               [(0, 0), (1, 1)] + [(0, 1)] * nsp,
                                               [1, 2] + [2] * nsp, [1, 1] + [3] * nsp))]:
            okj, rj = jax_ok(getattr(jlax, name), *args)
            try:
                rf = getattr(lax, name)(*args)
            except Exception as e:  # noqa: BLE001
                if okj:
                    fail(section, case, f"{name}{args} raised {type(e).__name__}: {e}")
                continue
            if not okj:
                fail(section, case, f"{name}{args}: JAX raised {rj}, functrans gave {rf}")
                continue
            if [tuple(map(int, p)) if isinstance(p, (tuple, list)) else int(p) for p in rf] != \
                    [tuple(map(int, p)) if isinstance(p, (tuple, list)) else int(p) for p in rj]:
                fail(section, case, f"{name}{args}: {rf} vs {rj}")
            count(section)
        for dn in [("NCHW", "OIHW", "NCHW"), ("NHWC", "HWIO", "NHWC"), ("NWHC", "IOWH", "CHWN")]:
            if nsp != 2:
                break
            pj = jlax.conv_general_permutations(dn)
            pf = lax.conv_general_permutations(dn)
            if tuple(map(tuple, pj)) != tuple(map(tuple, pf)):
                fail(section, dn, f"conv_general_permutations {pf} vs {pj}")
            lp = physical(lhs, pj[0])
            rp = physical(rhs, pj[1])
            if isinstance(pad, str) and pad == "SAME_LOWER":
                continue
            okj, sj = jax_ok(jlax.conv_general_shape_tuple, lp, rp, strides, pad, dn)
            try:
                sf = lax.conv_general_shape_tuple(lp, rp, strides, pad, dn)
            except Exception as e:  # noqa: BLE001
                if okj:
                    fail(section, (dn, case), f"conv_general_shape_tuple raised {e}")
                continue
            if okj and tuple(sj) != tuple(sf):
                fail(section, (dn, case), f"conv_general_shape_tuple {sf} vs {sj}")
            count(section)


# -- the plain forms: lax.conv, conv_with_general_padding, conv_dimension_numbers (s43) ------

def run_simple(rng, n):
    """lax.conv (NCHW/OIHW, strides, padding) and lax.conv_with_general_padding (dilations
    too) against JAX: values, dtypes, derivatives and transforms; conv_dimension_numbers's
    result for random layouts and shapes (errors too) against JAX's."""
    section = "simple"
    for it in range(n):
        which = str(rng.choice(["conv", "conv_with_general_padding", "conv_dimension_numbers"]))
        c = conv_case(rng)
        c["which"] = which
        if which == "conv_dimension_numbers":
            lshape, rshape = conv_shapes(c)
            if rng.random() < 0.1:  # (a rank that does not fit the spec: an error)
                rshape = rshape[:-1]
            dn = c["dn"]
            args = []
            for mod in (jlax, lax):
                d = dn_for(c, mod) if dn is not None else None
                if isinstance(d, tuple) and not isinstance(d[0], str) and \
                        not hasattr(d, "lhs_spec"):
                    d = mod.ConvDimensionNumbers(*d)  # (JAX takes no plain triples)
                args.append(d)
            okj, rj = jax_ok(jlax.conv_dimension_numbers, lshape, rshape, args[0])
            try:
                rf = lax.conv_dimension_numbers(lshape, rshape, args[1])
            except Exception as e:  # noqa: BLE001
                if okj:
                    fail(section, c, f"conv_dimension_numbers raised, JAX did not: "
                                     f"{type(e).__name__}: {e}")
                else:
                    count(section + ":both-raise")
                continue
            if not okj:
                fail(section, c, f"JAX raised {rj!r}, functrans gave {rf}")
            elif tuple(map(tuple, rf)) != tuple(map(tuple, rj)):
                fail(section, c, f"conv_dimension_numbers {tuple(rf)} vs {tuple(rj)}")
            else:
                count(section + ":dn")
            continue
        c.update(lperm=list(range(c["nsp"] + 2)), rperm=list(range(c["nsp"] + 2)),
                 operm=list(range(c["nsp"] + 2)), dn=None, G=1, B=1)
        c["O"] = int(rng.integers(1, 4))
        c["N"] = int(rng.integers(0 if rng.random() < 0.05 else 1, 4))
        if which == "conv" and not isinstance(c["padding"], str):
            c["ldil"] = [1] * c["nsp"]
        lshape, rshape = conv_shapes(c)
        x = rand(rng, lshape, c["dtype"])
        w = rand(rng, rshape, c["dtype"])
        pad = c["padding"] if isinstance(c["padding"], str) else [tuple(p) for p in c["padding"]]
        if which == "conv_with_general_padding" and isinstance(pad, str) and \
                rng.random() < 0.5:
            pad = pad.upper()
        strides, ldil, rdil, pet = tuple(c["strides"]), tuple(c["ldil"]), tuple(c["rdil"]), \
            c["pet"]

        def make(mod):
            if which == "conv":
                return lambda a, b: mod.conv(a, b, strides, pad, preferred_element_type=pet)
            return lambda a, b: mod.conv_with_general_padding(a, b, strides, pad, ldil, rdil,
                                                              preferred_element_type=pet)
        f_j, f_f = make(jlax), make(lax)
        yj = jax_ok(f_j, jnp.asarray(x), jnp.asarray(w))
        tol = tol_of(c["dtype"])
        if compare_forward(section, c, lambda: f_f(x, w), yj, tol, key=section + ":" + which,
                           check_dtype=True) is None:
            continue
        yj = yj[1]
        try:
            if c["dtype"] != "float32":
                check_derivatives(section, c, f_f, f_j, (x, w), rng, fd=it % 3 == 0,
                                  second=it % 4 == 0)
            if it % 2 == 0:
                check_transforms(section, c, f_f, f_j, x, w, rng, max(tol, 1e-9))
        except Exception as e:  # noqa: BLE001
            fail(section, c, f"transform raised {type(e).__name__}: {e}\n"
                             f"{traceback.format_exc(limit=-4)}")


# -- numpy / scipy.signal --------------------------------------------------------------------

def run_signal(rng, n):
    import jax.scipy.signal as jss
    import scipy.signal as ss
    import functrans.scipy.signal as fss
    section = "signal"
    for it in range(n):
        which = str(rng.choice(["np.convolve", "np.correlate", "convolve", "correlate",
                                "convolve2d", "correlate2d", "fftconvolve"]))
        mode = str(rng.choice(["full", "same", "valid"]))
        dtype = str(rng.choice(["float64", "float64", "complex128", "float32"]))
        if which.startswith("np."):
            a = rand(rng, (int(rng.integers(1, 9)),), dtype)
            v = rand(rng, (int(rng.integers(1, 9)),), dtype)
        elif which.endswith("2d"):
            a = rand(rng, tuple(int(rng.integers(1, 6)) for _ in range(2)), dtype)
            v = rand(rng, tuple(int(rng.integers(1, 4)) for _ in range(2)), dtype)
        else:
            nd = int(rng.integers(1, 4))
            a = rand(rng, tuple(int(rng.integers(1, 6)) for _ in range(nd)), dtype)
            v = rand(rng, tuple(int(rng.integers(1, 4)) for _ in range(nd)), dtype)
        if rng.random() < 0.3:
            a, v = v, a
        case = dict(which=which, mode=mode, a=a.shape, v=v.shape, dtype=dtype)
        if which.startswith("np."):
            fj = getattr(jnp, which[3:])
            ff = getattr(fnp, which[3:])
            ref = getattr(np, which[3:])
        else:
            fj, ff, ref = getattr(jss, which), getattr(fss, which), getattr(ss, which)
        try:
            want = ref(a, v, mode=mode)
        except Exception as e:  # noqa: BLE001
            want = e
        try:
            got = ff(a, v, mode=mode)
        except Exception as e:  # noqa: BLE001
            if not isinstance(want, Exception):
                fail(section, case, f"functrans raised, reference did not: {type(e).__name__}: "
                                    f"{e}")
            continue
        if isinstance(want, Exception):
            fail(section, case, f"reference raised {want}, functrans gave {np.shape(got)}")
            continue
        ok, msg = close(got, want, tol_of(dtype) * 10)
        if not ok:
            fail(section, case, f"value vs {ref.__module__}: {msg}")
            continue
        if np.asarray(got).dtype != np.asarray(want).dtype:
            fail(section, case, f"dtype {np.asarray(got).dtype} vs reference "
                                f"{np.asarray(want).dtype}")
        count(section)
        if dtype == "float32":
            continue
        try:
            okj = jax_ok(fj, jnp.asarray(a), jnp.asarray(v), mode=mode)[0]
            check_derivatives(section, case, lambda x, y: ff(x, y, mode=mode),
                              (lambda x, y: fj(x, y, mode=mode)) if okj else None, (a, v), rng,
                              fd=it % 3 == 0, second=it % 5 == 0)
        except Exception as e:  # noqa: BLE001
            fail(section, case, f"derivatives raised {type(e).__name__}: {e}")


# -- other backends (a sample) ------------------------------------------------------------------

def run_backends(rng, n):
    import array_api_strict as xps
    import torch
    section = "backends"
    for it in range(n):
        c = conv_case(rng, nsp=int(rng.choice([1, 2])))
        c["dtype"] = "float64"
        c["pet"] = None
        lshape, rshape = conv_shapes(c)
        x, w = rand(rng, lshape, "float64"), rand(rng, rshape, "float64")
        f_j, f_f = conv_fn(jlax, c), conv_fn(lax, c)
        okj, yj = jax_ok(f_j, jnp.asarray(x), jnp.asarray(w))
        if not okj:
            continue
        u = rand(rng, np.shape(yj), "float64")
        gj = jax.grad(lambda a, b: jnp.sum(jnp.sin(f_j(a, b)) * u), argnums=(0, 1))(
            jnp.asarray(x), jnp.asarray(w))
        for name, conv_to, back in [
                ("array_api_strict", xps.asarray, lambda a: np.asarray(a)),
                ("torch", torch.asarray, lambda a: a.numpy())]:
            X, W = conv_to(x), conv_to(w)
            U = conv_to(u)
            try:
                y = back(f_f(X, W))
                ok, msg = close(y, yj, 1e-11)
                if not ok:
                    fail(section, c, f"{name} value: {msg}")
                g = ft.grad(lambda a, b: fnp.sum(fnp.sin(f_f(a, b)) * U), argnums=(0, 1))(X, W)
                for i in range(2):
                    ok, msg = close(back(g[i]), gj[i], 1e-10)
                    if not ok:
                        fail(section, c, f"{name} grad arg {i}: {msg}")
                count(section + ":" + name)
            except Exception as e:  # noqa: BLE001
                fail(section, c, f"{name} raised {type(e).__name__}: {e}")
        # reduce_window max pooling on the other backends
        xr = rand(rng, (2, 5, 4), "float64")
        for name, conv_to, back in [
                ("array_api_strict", xps.asarray, lambda a: np.asarray(a)),
                ("torch", torch.asarray, lambda a: a.numpy())]:
            try:
                op = [lax.max, lax.add, lax.min][it % 3]
                jop = [jlax.max, jlax.add, jlax.min][it % 3]
                init = [-np.inf, 0.0, np.inf][it % 3]
                g = ft.grad(lambda a: fnp.sum(fnp.sin(lax.reduce_window(
                    a, init, op, (1, 2, 2), (1, 1, 2), "SAME"))))(conv_to(xr))
                gjr = jax.grad(lambda a: jnp.sum(jnp.sin(jlax.reduce_window(
                    a, init, jop, (1, 2, 2), (1, 1, 2), "SAME"))))(jnp.asarray(xr))
                ok, msg = close(back(g), gjr, 1e-12)
                if not ok:
                    fail(section, it, f"{name} reduce_window grad: {msg}")
            except Exception as e:  # noqa: BLE001
                fail(section, it, f"{name} reduce_window raised {type(e).__name__}: {e}")


# -- stax's convolution and pooling layers -------------------------------------------------------

def run_stax(rng, n):
    import jax.example_libraries.stax as jstax
    import functrans.example_libraries.stax as fstax
    section = "stax"
    for it in range(n):
        kind = str(rng.choice(["Conv", "ConvTranspose", "GeneralConv", "Conv1DTranspose",
                               "MaxPool", "SumPool", "AvgPool"]))
        padding = str(rng.choice(["VALID", "SAME"]))
        strides = tuple(int(rng.integers(1, 3)) for _ in range(2)) if rng.random() < 0.7 \
            else None
        case = dict(kind=kind, padding=padding, strides=strides)
        if kind in ("Conv", "ConvTranspose", "GeneralConv"):
            dn = ("NCHW", "OIHW", "NHWC") if kind == "GeneralConv" else None
            fs = tuple(int(rng.integers(1, 4)) for _ in range(2))
            args = ((dn,) if dn else ()) + (int(rng.integers(1, 4)), fs, strides, padding)
            shape = (2, 3, 6, 5) if dn else (2, 6, 5, 3)
        elif kind == "Conv1DTranspose":
            fs = (int(rng.integers(1, 4)),)
            strides = strides and strides[:1]
            args = (int(rng.integers(1, 4)), fs, strides, padding)
            shape = (2, 7, 3)
        else:
            spec = str(rng.choice(["none", "NCHW", "NHWC"]))
            fs = tuple(int(rng.integers(1, 4)) for _ in range(2))
            args = (fs, strides, padding) + (() if spec == "none" else (spec,))
            shape = (2, 3, 6, 5) if spec == "NCHW" else (2, 6, 5, 3)
        case.update(args=args, shape=shape)
        init_j, apply_j = getattr(jstax, kind)(*args)
        init_f, apply_f = getattr(fstax, kind)(*args)
        try:
            out_j, params_j = init_j(jax.random.PRNGKey(0), shape)
        except Exception as e:  # noqa: BLE001
            print("  (JAX's init raised)", kind, e)
            continue
        try:
            out_f, params_f = init_f(ft.random.PRNGKey(0), shape)
        except Exception as e:  # noqa: BLE001
            fail(section, case, f"init raised {type(e).__name__}: {e}")
            continue
        if tuple(out_j) != tuple(out_f):
            fail(section, case, f"init's output shape {out_f} vs {out_j}")
        if [np.shape(p) for p in jax.tree_util.tree_leaves(params_j)] != \
                [np.shape(p) for p in ft.tree_util.tree_leaves(params_f)]:
            fail(section, case, "parameter shapes differ")
            continue
        params = jax.tree_util.tree_map(lambda p: rand(rng, np.shape(p), "float64"), params_j)
        x = rand(rng, shape, "float64")
        yj = np.asarray(apply_j(params, jnp.asarray(x)))
        try:
            yf = apply_f(params, x)
        except Exception as e:  # noqa: BLE001
            fail(section, case, f"apply raised {type(e).__name__}: {e}")
            continue
        ok, msg = close(yf, yj, 1e-11)
        if not ok:
            fail(section, case, f"apply value: {msg}")
            continue
        if yj.shape != tuple(out_j):
            print("  (JAX's init shape differs from its apply's)", case, yj.shape, out_j)
        count(section)
        u = rand(rng, yj.shape, "float64")
        gj = jax.grad(lambda p, x: jnp.sum(jnp.sin(apply_j(p, x)) * u), argnums=(0, 1))(
            params, jnp.asarray(x))
        gf = ft.grad(lambda p, x: fnp.sum(fnp.sin(apply_f(p, x)) * u), argnums=(0, 1))(
            params, x)
        for a, b in zip(jax.tree_util.tree_leaves(gf), jax.tree_util.tree_leaves(gj)):
            ok, msg = close(a, b, 1e-10)
            if not ok:
                fail(section, case, f"grad: {msg}")


SECTIONS = {"stax": run_stax, "conv": run_conv, "transpose": run_transpose, "patches": run_patches,
            "reduce": run_reduce, "shapes": run_shapes, "signal": run_signal,
            "backends": run_backends, "simple": run_simple}
# (new sections go last: a section's generator is keyed by its place, so old seeds replay)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("sections", nargs="*", default=list(SECTIONS))
    p.add_argument("--n", type=int, default=60)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    for s in a.sections:
        rng = np.random.default_rng([a.seed, list(SECTIONS).index(s)])
        SECTIONS[s](rng, a.n if s != "backends" else max(a.n // 6, 3))
    return TALLY.exit_status("checked:")


if __name__ == "__main__":
    sys.exit(main())
