"""``functrans.scipy.optimize``: ``minimize`` as ``jax.scipy.optimize.minimize`` (BFGS, and
a limited-memory BFGS), on every backend, under ``jit`` and ``vmap``.

The gradients come from :func:`functrans.value_and_grad`; the iterations and the line search
(strong Wolfe conditions: bracketing, then a safeguarded cubic zoom) are
:func:`functrans.lax.while_loop` loops, so the solver runs eagerly on plain arrays, stages
under ``jit`` and batches under ``vmap`` (one start per member).
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

from .. import numpy as fnp
from ..api import value_and_grad
from ..lax import dynamic_index_in_dim, dynamic_update_index_in_dim, while_loop
from ..numpy._base import _to_array

__all__ = ["minimize", "OptimizeResults"]


class OptimizeResults(NamedTuple):
    """What :func:`minimize` returns (``jax.scipy.optimize.OptimizeResults``).

    ``x``: the last iterate; ``success``: whether the gradient's norm fell below ``gtol``
    and no line search failed; ``status``: 0 converged, 1 the iteration limit reached, 3
    the line search's zoom failed (no step meets the Wolfe conditions within the bracket),
    5 the line search's bracketing limit reached (as when ``fun`` has no minimum along the
    direction), -1 otherwise; ``fun``, ``jac``: the value and gradient at ``x``;
    ``hess_inv``: the inverse Hessian estimate (None for the limited-memory method);
    ``nfev``, ``njev``: the numbers of evaluations of ``fun`` and of its gradient;
    ``nit``: the number of iterations.
    """
    x: Any
    success: Any
    status: Any
    fun: Any
    jac: Any
    hess_inv: Any
    nfev: Any
    njev: Any
    nit: Any


def _int(v, like):
    return _to_array(v, fnp.int64, like=like)


def _bool(v, like):
    return _to_array(v, fnp.bool, like=like)


def _vdot(a, b):
    return fnp.sum(fnp.multiply(a, b))


def _norm(g, order):
    if order == math.inf:
        return fnp.max(fnp.abs(g))
    if order == -math.inf:
        return fnp.min(fnp.abs(g))
    if order == 2:
        return fnp.sqrt(_vdot(g, g))
    return fnp.pow(fnp.sum(fnp.pow(fnp.abs(g), float(order))), 1.0 / order)


def _cubic_step(a, fa, da, b, fb, db):
    """The minimiser of the cubic through ``(a, fa)`` and ``(b, fb)`` with slopes ``da``,
    ``db``, and whether it is usable (real and finite)."""
    span = fnp.subtract(b, a)
    safe = fnp.where(fnp.equal(span, 0.0), 1.0, span)
    d1 = fnp.subtract(fnp.add(da, db), fnp.multiply(fnp.divide(fnp.subtract(fb, fa), safe), 3.0))
    disc = fnp.subtract(fnp.square(d1), fnp.multiply(da, db))
    d2 = fnp.multiply(fnp.sign(span), fnp.sqrt(fnp.maximum(disc, 0.0)))
    den = fnp.add(fnp.subtract(db, da), fnp.multiply(d2, 2.0))
    ok = fnp.logical_and(fnp.greater_equal(disc, 0.0), fnp.not_equal(den, 0.0))
    step = fnp.subtract(b, fnp.multiply(span, fnp.divide(fnp.subtract(fnp.add(db, d2), d1),
                                                         fnp.where(ok, den, 1.0))))
    return step, fnp.logical_and(ok, fnp.isfinite(step))


def _line_search(f_and_g, x, p, f0, g0, old_f0, maxiter, c1=1e-4, c2=0.9, zoom_maxiter=30):
    """A step ``a`` along ``p`` from ``x`` meeting the strong Wolfe conditions (Nocedal and
    Wright, algorithms 3.5 and 3.6), one evaluation of ``fun`` and its gradient per pass of
    one loop: first trial steps grow (doubling) until they bracket an acceptable step, then
    the bracket shrinks about a cubic interpolant's minimum (bisection where that is
    unusable or too close to an end). Returns the step, the value and gradient there, the
    counts, and a status (0 found, 1 the zoom failed, 3 the bracketing limit reached)."""
    dphi0 = _vdot(g0, p)
    # The first trial: the step that repeats the last decrease of fun (capped at 1).
    guess = fnp.divide(fnp.multiply(fnp.subtract(f0, old_f0), 2.02),
                       fnp.where(fnp.equal(dphi0, 0.0), 1.0, dphi0))
    a1 = fnp.where(fnp.logical_and(fnp.isfinite(guess), fnp.greater(guess, 0.0)),
                   fnp.minimum(guess, 1.0), 1.0)
    a1 = fnp.astype(a1, x.dtype) if a1.dtype != x.dtype else a1
    zero = fnp.zeros_like(f0)
    state = dict(
        phase=_int(0, x),  # 0 bracketing, 1 zooming, 2 found, 3 failed
        i=_int(0, x), j=_int(0, x), a=a1,
        a_prev=zero, f_prev=f0, d_prev=dphi0,
        lo=zero, f_lo=f0, d_lo=dphi0, hi=zero, f_hi=f0, d_hi=dphi0,
        a_star=zero, f_star=f0, g_star=g0, status=_int(0, x))

    def cond(s):
        return fnp.less(s["phase"], 2)

    def body(s):
        a = s["a"]
        fa, ga = f_and_g(fnp.add(x, fnp.multiply(a, p)))
        da = _vdot(ga, p)
        armijo_fails = fnp.greater(fa, fnp.add(f0, fnp.multiply(fnp.multiply(a, dphi0), c1)))
        curvature = fnp.less_equal(fnp.abs(da), fnp.multiply(dphi0, -c2))
        bracketing = fnp.equal(s["phase"], 0)

        # -- bracketing (phase 0) --
        to_zoom_hi = fnp.logical_or(armijo_fails, fnp.logical_and(
            fnp.greater_equal(fa, s["f_prev"]), fnp.greater(s["i"], 0)))
        found_b = fnp.logical_and(fnp.logical_not(to_zoom_hi), curvature)
        to_zoom_lo = fnp.logical_and(fnp.logical_not(fnp.logical_or(to_zoom_hi, found_b)),
                                     fnp.greater_equal(da, 0.0))
        grow = fnp.logical_not(fnp.logical_or(fnp.logical_or(to_zoom_hi, found_b), to_zoom_lo))
        # to_zoom_hi: the bracket is (previous, a); to_zoom_lo: (a, previous)
        b_lo = fnp.where(to_zoom_hi, s["a_prev"], a)
        b_flo = fnp.where(to_zoom_hi, s["f_prev"], fa)
        b_dlo = fnp.where(to_zoom_hi, s["d_prev"], da)
        b_hi = fnp.where(to_zoom_hi, a, s["a_prev"])
        b_fhi = fnp.where(to_zoom_hi, fa, s["f_prev"])
        b_dhi = fnp.where(to_zoom_hi, da, s["d_prev"])
        b_i = fnp.add(s["i"], 1)
        b_phase = fnp.where(found_b, 2, fnp.where(grow, fnp.where(
            fnp.greater_equal(b_i, maxiter), 3, 0), 1))
        b_status = fnp.where(fnp.logical_and(grow, fnp.greater_equal(b_i, maxiter)), 3, 0)

        # -- zoom (phase 1): a lies inside (lo, hi) --
        z_replace_hi = fnp.logical_or(armijo_fails, fnp.greater_equal(fa, s["f_lo"]))
        found_z = fnp.logical_and(fnp.logical_not(z_replace_hi), curvature)
        flip = fnp.logical_and(fnp.logical_not(fnp.logical_or(z_replace_hi, found_z)), fnp.greater_equal(
            fnp.multiply(da, fnp.subtract(s["hi"], s["lo"])), 0.0))
        z_hi = fnp.where(z_replace_hi, a, fnp.where(flip, s["lo"], s["hi"]))
        z_fhi = fnp.where(z_replace_hi, fa, fnp.where(flip, s["f_lo"], s["f_hi"]))
        z_dhi = fnp.where(z_replace_hi, da, fnp.where(flip, s["d_lo"], s["d_hi"]))
        z_lo = fnp.where(z_replace_hi, s["lo"], a)
        z_flo = fnp.where(z_replace_hi, s["f_lo"], fa)
        z_dlo = fnp.where(z_replace_hi, s["d_lo"], da)
        z_j = fnp.add(s["j"], 1)
        width = fnp.abs(fnp.subtract(z_hi, z_lo))
        tiny = fnp.less_equal(width, fnp.multiply(fnp.maximum(fnp.abs(z_lo), fnp.abs(z_hi)),
                                                  1e-12))
        z_fail = fnp.logical_and(fnp.logical_not(found_z),
                                 fnp.logical_or(tiny, fnp.greater_equal(z_j, zoom_maxiter)))
        z_phase = fnp.where(found_z, 2, fnp.where(z_fail, 3, 1))
        z_status = fnp.where(z_fail, 1, 0)

        lo = fnp.where(bracketing, b_lo, z_lo)
        f_lo = fnp.where(bracketing, b_flo, z_flo)
        d_lo = fnp.where(bracketing, b_dlo, z_dlo)
        hi = fnp.where(bracketing, b_hi, z_hi)
        f_hi = fnp.where(bracketing, b_fhi, z_fhi)
        d_hi = fnp.where(bracketing, b_dhi, z_dhi)
        phase = fnp.where(bracketing, b_phase, z_phase)
        found = fnp.where(bracketing, found_b, found_z)
        # The next trial: doubling while bracketing, else a safeguarded cubic step within
        # the (new) bracket, kept at least a tenth of its width from either end.
        trial, usable = _cubic_step(lo, f_lo, d_lo, hi, f_hi, d_hi)
        left, right = fnp.minimum(lo, hi), fnp.maximum(lo, hi)
        margin = fnp.multiply(fnp.subtract(right, left), 0.1)
        inside = fnp.logical_and(fnp.greater_equal(trial, fnp.add(left, margin)),
                                 fnp.less_equal(trial, fnp.subtract(right, margin)))
        zoom_next = fnp.where(fnp.logical_and(usable, inside), trial,
                              fnp.multiply(fnp.add(lo, hi), 0.5))
        a_next = fnp.where(fnp.logical_and(bracketing, grow), fnp.multiply(a, 2.0), zoom_next)
        return dict(
            phase=phase, i=fnp.where(bracketing, b_i, s["i"]),
            j=fnp.where(bracketing, s["j"], z_j), a=a_next,
            a_prev=a, f_prev=fa, d_prev=da,
            lo=lo, f_lo=f_lo, d_lo=d_lo, hi=hi, f_hi=f_hi, d_hi=d_hi,
            a_star=fnp.where(found, a, s["a_star"]), f_star=fnp.where(found, fa, s["f_star"]),
            g_star=fnp.where(found, ga, s["g_star"]),
            status=fnp.where(bracketing, b_status, z_status))

    s = while_loop(cond, body, state)
    n = fnp.add(s["i"], s["j"])
    return s["a_star"], s["f_star"], s["g_star"], n, s["status"]


def _status(converged, k, maxiter, failed, ls_status):
    return fnp.where(converged, 0, fnp.where(
        fnp.greater_equal(k, maxiter), 1,
        fnp.where(failed, fnp.add(ls_status, 2), -1)))


def _bfgs(f_and_g, x0, maxiter=None, norm=math.inf, gtol=1e-5, line_search_maxiter=10):
    n = x0.shape[0]
    maxiter = 200 * n if maxiter is None else int(maxiter)
    f0, g0 = f_and_g(x0)
    eye = fnp.eye(n, dtype=x0.dtype, device=fnp.device(x0))
    state = dict(
        converged=fnp.less(_norm(g0, norm), gtol), failed=_bool(False, x0),
        k=_int(0, x0), nfev=_int(1, x0), x=x0, f=f0, g=g0, H=eye,
        old_f=fnp.add(f0, fnp.divide(_norm(g0, 2), 2.0)), ls_status=_int(0, x0))

    def cond(s):
        return fnp.logical_and(fnp.logical_not(fnp.logical_or(s["converged"], s["failed"])),
                               fnp.less(s["k"], maxiter))

    def body(s):
        p = fnp.negative(fnp.matmul(s["H"], s["g"]))
        a, f1, g1, evals, ls = _line_search(f_and_g, s["x"], p, s["f"], s["g"], s["old_f"],
                                            line_search_maxiter)
        failed = fnp.not_equal(ls, 0)
        step = fnp.multiply(a, p)
        x1 = fnp.add(s["x"], step)
        y = fnp.subtract(g1, s["g"])
        sy = _vdot(y, step)
        usable = fnp.logical_and(fnp.not_equal(sy, 0.0), fnp.isfinite(sy))
        rho = fnp.where(usable, fnp.divide(1.0, fnp.where(usable, sy, 1.0)), 0.0)
        # H+ = (I - rho s y^T) H (I - rho y s^T) + rho s s^T, without forming the factors
        hy = fnp.matmul(s["H"], y)
        outer = fnp.add(fnp.multiply(step[:, None], hy[None, :]),
                        fnp.multiply(hy[:, None], step[None, :]))
        ss = fnp.multiply(step[:, None], step[None, :])
        h1 = fnp.add(fnp.subtract(s["H"], fnp.multiply(rho, outer)), fnp.multiply(
            fnp.add(fnp.multiply(fnp.square(rho), _vdot(y, hy)), rho), ss))
        h1 = fnp.where(fnp.logical_and(usable, fnp.all(fnp.isfinite(h1))), h1, s["H"])
        return dict(converged=fnp.less(_norm(g1, norm), gtol), failed=failed,
                    k=fnp.add(s["k"], 1), nfev=fnp.add(s["nfev"], evals), x=x1, f=f1, g=g1,
                    H=h1, old_f=s["f"], ls_status=ls)

    s = while_loop(cond, body, state)
    status = _status(s["converged"], s["k"], maxiter, s["failed"], s["ls_status"])
    return OptimizeResults(x=s["x"], success=fnp.logical_and(s["converged"],
                                                              fnp.logical_not(s["failed"])),
                           status=status, fun=s["f"], jac=s["g"], hess_inv=s["H"],
                           nfev=s["nfev"], njev=s["nfev"], nit=s["k"])


def _lbfgs(f_and_g, x0, maxiter=None, norm=math.inf, maxcor=10, gtol=1e-5,
           line_search_maxiter=10):
    n = x0.shape[0]
    maxiter = 200 * n if maxiter is None else int(maxiter)
    m = int(maxcor)
    if m < 1:
        raise ValueError("minimize: maxcor must be at least 1.")
    f0, g0 = f_and_g(x0)
    hist = fnp.zeros((m, n), dtype=x0.dtype, device=fnp.device(x0))
    state = dict(
        converged=fnp.less(_norm(g0, norm), gtol), failed=_bool(False, x0),
        k=_int(0, x0), nfev=_int(1, x0), x=x0, f=f0, g=g0, S=hist, Y=hist,
        rho=fnp.zeros((m,), dtype=x0.dtype, device=fnp.device(x0)), gamma=fnp.ones_like(f0),
        old_f=fnp.add(f0, fnp.divide(_norm(g0, 2), 2.0)), ls_status=_int(0, x0))

    def direction(s):
        # The two-loop recursion over the stored pairs, newest first (empty slots have
        # rho = 0 and leave the vector alone).
        q = s["g"]
        alphas = []
        order = [fnp.remainder(fnp.subtract(fnp.subtract(s["k"], 1), i), m) for i in range(m)]
        for idx in order:
            si = dynamic_index_in_dim(s["S"], idx, keepdims=False)
            yi = dynamic_index_in_dim(s["Y"], idx, keepdims=False)
            ri = dynamic_index_in_dim(s["rho"], idx, keepdims=False)
            al = fnp.multiply(ri, _vdot(si, q))
            q = fnp.subtract(q, fnp.multiply(al, yi))
            alphas.append((si, yi, ri, al))
        r = fnp.multiply(s["gamma"], q)
        for si, yi, ri, al in reversed(alphas):
            be = fnp.multiply(ri, _vdot(yi, r))
            r = fnp.add(r, fnp.multiply(fnp.subtract(al, be), si))
        return fnp.negative(r)

    def cond(s):
        return fnp.logical_and(fnp.logical_not(fnp.logical_or(s["converged"], s["failed"])),
                               fnp.less(s["k"], maxiter))

    def body(s):
        p = direction(s)
        a, f1, g1, evals, ls = _line_search(f_and_g, s["x"], p, s["f"], s["g"], s["old_f"],
                                            line_search_maxiter)
        step = fnp.multiply(a, p)
        y = fnp.subtract(g1, s["g"])
        sy = _vdot(y, step)
        good = fnp.logical_and(fnp.greater(sy, 0.0), fnp.isfinite(sy))
        slot = fnp.remainder(s["k"], m)
        rho = fnp.where(good, fnp.divide(1.0, fnp.where(good, sy, 1.0)), 0.0)
        S = dynamic_update_index_in_dim(s["S"], fnp.where(good, step, 0.0), slot, 0)
        Y = dynamic_update_index_in_dim(s["Y"], fnp.where(good, y, 0.0), slot, 0)
        R = dynamic_update_index_in_dim(s["rho"], fnp.reshape(rho, (1,)), slot, 0)
        gamma = fnp.where(good, fnp.divide(sy, fnp.where(good, _vdot(y, y), 1.0)),
                          s["gamma"])
        return dict(converged=fnp.less(_norm(g1, norm), gtol), failed=fnp.not_equal(ls, 0),
                    k=fnp.add(s["k"], 1), nfev=fnp.add(s["nfev"], evals),
                    x=fnp.add(s["x"], step), f=f1, g=g1, S=S, Y=Y, rho=R, gamma=gamma,
                    old_f=s["f"], ls_status=ls)

    s = while_loop(cond, body, state)
    status = _status(s["converged"], s["k"], maxiter, s["failed"], s["ls_status"])
    return OptimizeResults(x=s["x"], success=fnp.logical_and(s["converged"],
                                                              fnp.logical_not(s["failed"])),
                           status=status, fun=s["f"], jac=s["g"], hess_inv=None,
                           nfev=s["nfev"], njev=s["nfev"], nit=s["k"])


_OPTIONS = {"bfgs": ("maxiter", "norm", "gtol", "line_search_maxiter"),
            "l-bfgs-experimental-do-not-rely-on-this": ("maxiter", "norm", "maxcor", "gtol",
                                                        "line_search_maxiter")}


def minimize(fun, x0, args=(), *, method, tol=None, options=None):
    """Minimise ``fun(x, *args)`` (a real scalar) over the 1-d array ``x`` from ``x0``
    (``jax.scipy.optimize.minimize``); returns :class:`OptimizeResults`.

    ``method``: ``"BFGS"`` (options ``maxiter`` = 200 * n, ``norm`` = inf and ``gtol`` =
    1e-5 for the stopping test ``norm(grad) < gtol``, ``line_search_maxiter`` = 10) or
    ``"l-bfgs-experimental-do-not-rely-on-this"`` (the same and ``maxcor`` = 10 stored
    pairs), case-insensitive. The gradient is :func:`functrans.value_and_grad`'s, and the
    line search keeps the strong Wolfe conditions (c1 = 1e-4, c2 = 0.9). Built on
    ``functrans.lax.while_loop``: it runs eagerly on plain arrays (results of ``x0``'s
    library), stages under ``jit``, and ``vmap`` runs a batch of starting points (each
    member stopping on its own).

    Differences from JAX: ``tol``, when given, is ``gtol`` (SciPy's meaning; JAX ignores it);
    the line search's interpolation differs from JAX's and SciPy's, so iteration counts may
    differ by a few; the limited-memory method's options are a subset of JAX's (``maxcor``,
    no ``ftol``/``maxfun``/``maxgrad``/``maxls``); ``x0`` must be real (JAX's limited-memory
    method also takes complex ``x0``). Derivatives of the result with respect to ``args``
    differentiate the iterations, in forward and reverse mode (JAX: forward mode only).
    """
    if not callable(fun):
        raise TypeError("minimize: fun must be a function.")
    if not isinstance(args, tuple):
        raise TypeError(f"minimize: args must be a tuple; got {type(args).__name__}.")
    if not isinstance(method, str) or method.lower() not in _OPTIONS:
        raise ValueError(f"minimize: method {method!r} is not supported; use 'BFGS' or "
                         f"'l-bfgs-experimental-do-not-rely-on-this'.")
    key = method.lower()
    options = dict(options or {})
    unknown = sorted(set(options) - set(_OPTIONS[key]))
    if unknown:
        raise TypeError(f"minimize: unknown options {unknown} for method {method!r}; "
                        f"accepted: {list(_OPTIONS[key])}.")
    if tol is not None:
        options.setdefault("gtol", tol)
    if options.get("maxiter") is not None and not int(options["maxiter"]) >= 0:
        raise ValueError(f"minimize: maxiter must be non-negative; got {options['maxiter']}.")
    x0 = fnp.asarray(x0)
    if x0.ndim != 1:
        raise ValueError(f"minimize: x0 must be one-dimensional (as in JAX; ravel it and "
                         f"reshape inside fun); got shape {tuple(x0.shape)}.")
    if x0.shape[0] == 0:
        raise ValueError("minimize: x0 is empty; there is nothing to minimise over.")
    if fnp.isdtype(x0.dtype, "complex floating"):
        raise TypeError("minimize: x0 must be real (JAX's limited-memory method takes complex "
                        "x0; minimise over the real and imaginary parts, concatenated).")
    if not fnp.isdtype(x0.dtype, "real floating"):
        x0 = fnp.astype(x0, fnp.float64)
    vg = value_and_grad(lambda x: fun(x, *args))

    def f_and_g(x):
        v, g = vg(x)
        v = fnp.asarray(v)
        if v.ndim != 0:
            raise TypeError(f"minimize: fun must return a scalar; got shape {tuple(v.shape)}.")
        if v.dtype != x0.dtype:
            v = fnp.astype(v, x0.dtype)
        return v, (g if g.dtype == x0.dtype else fnp.astype(g, x0.dtype))
    if key == "bfgs":
        return _bfgs(f_and_g, x0, **options)
    return _lbfgs(f_and_g, x0, **options)
