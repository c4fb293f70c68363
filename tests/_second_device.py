"""The derivative check the table tests run on array-api-strict's second device.

``array_api_strict@device1`` (tests/conftest.py) is there to catch arrays made on the wrong
device: a zero tangent, a seed, a mask, a basis made on the default device instead of the
primal's fails there as on a GPU. The values of the derivatives are checked against finite
differences on the default device, and the second device runs the same code on the same
numbers; so there one JVP (every input moved at once) and one VJP reach every rule, at a
fraction of the cost of the finite-difference check: each tangent and cotangent must be an
array of the inputs' library on their device, and the two must be each other's transpose,
``<u, J v> == <J^T u, v>``. At order 2 the same is asked of the JVP as a function of the
primals and the tangents.
"""

from __future__ import annotations

import numpy as np
import optree

import functrans as ft
from functrans.testing import _util as U, check_grads


def check_derivatives(backend, fn, args, order=2, **check_grads_options):
    """``check_grads(fn, args, order, ...)`` on the default device; on the second device the
    cheaper check described above."""
    if backend.device is None:
        check_grads(fn, args, order=order, **check_grads_options)
        return
    args = tuple(args)
    _transpose_pair_on_device(backend, fn, args)
    if order >= 2:
        tangents = _directions(args, np.random.default_rng(1))

        def tangent_map(*primals_and_tangents):
            n = len(args)
            return ft.jvp(fn, primals_and_tangents[:n], primals_and_tangents[n:])[1]
        _transpose_pair_on_device(backend, tangent_map, args + tangents)


def _inexact(x):
    return U.dtype_of(x).kind in "fc"


def _directions(leaves, rng):
    """Standard normal values like each leaf, on its device (zeros for integer and boolean
    leaves, which carry no derivative)."""
    return tuple(U.random_like(rng, x) if _inexact(x) else U.zeros_like(x) for x in leaves)


def _transpose_pair_on_device(backend, fn, args):
    rng = np.random.default_rng(0)
    vs = _directions(args, rng)
    out, jv = ft.jvp(fn, args, vs)
    outs, tree = optree.tree_flatten(out)
    jvs = tree.flatten_up_to(jv)
    us = _directions(outs, rng)
    _, pull = ft.vjp(fn, *args)
    cts = pull(optree.tree_unflatten(tree, list(us)))
    for what, primals, derivs in (("tangent", outs, jvs), ("cotangent", args, cts)):
        for k, (p, d) in enumerate(zip(primals, derivs)):
            assert backend.is_own(p), (what, k, "primal", type(p))
            if _inexact(p):
                assert backend.is_own(d), (what, k, type(d), getattr(d, "device", None))
    sides = []
    for ds, ws, ps in ((us, jvs, outs), (cts, vs, args)):
        kept = [(d, w) for d, w, p in zip(ds, ws, ps) if _inexact(p)]
        sides.append((sum(U.vdot(d, w) for d, w in kept), sum(U.abs_dot(d, w) for d, w in kept)))
    (lhs, lscale), (rhs, rscale) = sides
    dname = U.least_precise(*(U.dtype_of(x) for x in list(args) + outs if _inexact(x)))
    rtol = 1e-7 if dname == "float64" else 1e-3
    if np.isfinite(lhs) and np.isfinite(rhs):  # (non-finite outputs: no identity to check)
        assert U.within(abs(lhs - rhs), 1e-12, rtol, max(lscale, rscale)), (
            f"on {backend.id}: <u, J v> = {lhs!r} but <J^T u, v> = {rhs!r}")
