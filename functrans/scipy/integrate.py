"""``functrans.scipy.integrate``: SciPy's ODE solver and sampled-data quadrature,
differentiable, on every backend.

``odeint`` (SciPy's signature, ``func(y, t, *args)``) integrates with an adaptive
Dormand-Prince 5(4) method written with :mod:`functrans.lax` control flow, so that it runs
eagerly on plain arrays, stages under ``jit`` and batches under ``vmap``; reverse mode is the
adjoint method (a ``custom_vjp`` that integrates the augmented system backwards in time), as
``jax.experimental.ode.odeint`` does. ``trapezoid``, ``cumulative_trapezoid``, ``simpson``,
``cumulative_simpson`` and ``romb`` are plain functions on :mod:`functrans.numpy`.

:mod:`functrans.ode` holds JAX's spelling, ``odeint(func, y0, t, *args, ...)``, sharing the
solver.
"""

from __future__ import annotations

import math

from .. import numpy as fnp
from ..api import vjp as _vjp
from ..core import _SCALAR_DTYPES, EvalInterpreter, Tracer, _current, concrete_behind
from ..custom import closure_convert, custom_vjp
from ..lax import scan, while_loop
from ..numpy._base import _to_array
from ..numpy._mathematics import _plain_next_to
from ..primitives.special import _on_host
from ..tree import tree_flatten, tree_unflatten

__all__ = ["odeint", "trapezoid", "cumulative_trapezoid", "simpson", "cumulative_simpson",
           "romb"]

# -- the Dormand-Prince 5(4) pair ------------------------------------------------------------
# Nodes, the lower-triangular coupling rows (row i gives stage i + 1 from stages 0..i), the
# fifth-order weights (the last row: first same as last), the difference between the fifth-
# and fourth-order weights (the local error estimate), and Shampine's weights for the
# solution at the middle of the step (for the quartic dense output).
_C = (0.0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1.0, 1.0)
_A = (
    (1 / 5,),
    (3 / 40, 9 / 40),
    (44 / 45, -56 / 15, 32 / 9),
    (19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729),
    (9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656),
    (35 / 384, 0.0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84),
)
_E = (71 / 57600, 0.0, -71 / 16695, 71 / 1920, -17253 / 339200, 22 / 525, -1 / 40)
_MID = (6025192743 / 30085553152 / 2, 0.0, 51252292925 / 65400821598 / 2,
        -2691868925 / 45128329728 / 2, 187940372067 / 1594534317056 / 2,
        -1776094331 / 19743644256 / 2, 11237099 / 235043384 / 2)
_SAFETY, _MIN_FACTOR, _MAX_FACTOR = 0.9, 0.2, 10.0


def _weighted(h, ks, weights, y):
    """``h * sum_j weights[j] * ks[j]`` leaf by leaf (zero weights skipped)."""
    out = []
    for i, yl in enumerate(y):
        acc = None
        for w, k in zip(weights, ks):
            if w == 0.0:
                continue
            term = fnp.multiply(k[i], w)
            acc = term if acc is None else fnp.add(acc, term)
        out.append(fnp.multiply(_cast(h, yl), acc))
    return out


def _combine(y, h, ks, weights):
    """``y + h * sum_j weights[j] * ks[j]`` leaf by leaf (zero weights skipped)."""
    return [fnp.add(yl, d) for yl, d in zip(y, _weighted(h, ks, weights, y))]


def _cast(s, like):
    """The 0-d ``s`` in the dtype of ``like`` (a leaf of the state)."""
    return s if s.dtype == like.dtype else fnp.astype(s, like.dtype)


def _rms_ratio(parts, count, like):
    """``sqrt(mean(e ** 2))`` over the leaves' elements, as a 0-d array of ``like``'s dtype."""
    total = None
    for p in parts:
        s = fnp.astype(fnp.sum(fnp.square(p)), like.dtype)
        total = s if total is None else fnp.add(total, s)
    return fnp.sqrt(fnp.divide(total, float(max(count, 1))))


def _scaled(vs, ys, rtol, atol):
    return [fnp.divide(v, fnp.add(fnp.multiply(fnp.abs(y), rtol), atol)) for v, y in zip(vs, ys)]


def _initial_step(fun, y0, f0, t0, d, rtol, atol, count, hmax):
    """A first step size by the usual heuristic (Hairer, Norsett and Wanner, II.4): a step
    of size 1% of the ratio of the state's and the derivative's scaled norms, then refined
    with a second derivative estimate from one explicit Euler step."""
    like = t0
    d0 = _rms_ratio(_scaled(y0, y0, rtol, atol), count, like)
    d1 = _rms_ratio(_scaled(f0, y0, rtol, atol), count, like)
    tiny = fnp.logical_or(fnp.less(d0, 1e-5), fnp.less(d1, 1e-5))
    h0 = fnp.where(tiny, 1e-6, fnp.divide(fnp.multiply(d0, 0.01),
                                          fnp.where(tiny, 1.0, d1)))
    hs = fnp.multiply(h0, d)
    y1 = [fnp.add(y, fnp.multiply(_cast(hs, y), f)) for y, f in zip(y0, f0)]
    f1 = fun(y1, fnp.add(t0, hs))
    d2 = fnp.divide(_rms_ratio(_scaled([fnp.subtract(a, b) for a, b in zip(f1, f0)], y0,
                                       rtol, atol), count, like), h0)
    big = fnp.maximum(d1, d2)
    flat = fnp.less_equal(big, 1e-15)
    h1 = fnp.where(flat, fnp.maximum(fnp.multiply(h0, 1e-3), 1e-6),
                   fnp.pow(fnp.divide(0.01, fnp.where(flat, 1.0, big)), 0.2))
    h = fnp.minimum(fnp.multiply(h0, 100.0), h1)
    return h if hmax is None else fnp.minimum(h, hmax)


def _step(fun, y, f, t, hs):
    """One Dormand-Prince step of signed size ``hs`` from ``(t, y)`` with ``f = fun(y, t)``:
    the fifth-order solution, its derivative, the error estimate and the middle value."""
    ks = [f]
    for i, row in enumerate(_A):
        yi = _combine(y, hs, ks, row)
        ks.append(fun(yi, fnp.add(t, fnp.multiply(hs, _C[i + 1]))))
    y1 = yi  # the last row holds the fifth-order weights (first same as last)
    err = _error(ks, hs, y)
    mid = _combine(y, hs, ks, _MID)
    return y1, ks[-1], err, mid


def _error(ks, hs, y):
    return _weighted(hs, ks, _E, y)


def _interpolate(y0, y1, f0, f1, mid, hs, theta):
    """The quartic through ``y0``, ``y1`` and ``mid`` (at theta = 0, 1, 1/2) with slopes
    ``hs * f0`` and ``hs * f1`` at the ends, at ``theta``."""
    out = []
    for a, b, p, q, m in zip(y0, y1, f0, f1, mid):
        h = _cast(hs, a)
        th = _cast(theta, a)
        s0, s1 = fnp.multiply(h, p), fnp.multiply(h, q)
        dd = fnp.subtract(fnp.subtract(b, a), s0)           # c + d + e
        ee = fnp.subtract(s1, s0)                           # 2c + 3d + 4e
        mm = fnp.subtract(fnp.subtract(m, a), fnp.multiply(s0, 0.5))  # c/4 + d/8 + e/16
        e4 = fnp.add(fnp.subtract(fnp.multiply(ee, 2.0), fnp.multiply(dd, 8.0)),
                     fnp.multiply(mm, 16.0))
        d3 = fnp.subtract(fnp.subtract(ee, fnp.multiply(dd, 2.0)), fnp.multiply(e4, 2.0))
        c2 = fnp.subtract(fnp.subtract(dd, d3), e4)
        poly = fnp.add(d3, fnp.multiply(th, e4))
        poly = fnp.add(c2, fnp.multiply(th, poly))
        poly = fnp.add(s0, fnp.multiply(th, poly))
        out.append(fnp.add(a, fnp.multiply(th, poly)))
    return out


def _solve(fun, y0, t, rtol, atol, mxstep, hmax, h0):
    """The states at the times ``t`` (1-d, monotonic) from ``y0`` (a list of float leaves) at
    ``t[0]``, for ``dy/dt = fun(y, t)``: a list of leaves, each with the times first."""
    n = t.shape[0]
    stacked = [fnp.expand_dims(y, axis=0) for y in y0]
    if n == 1:
        return [fnp.copy(s) for s in stacked]
    count = sum(math.prod(y.shape) for y in y0)
    t0 = t[0]
    d = fnp.where(fnp.greater_equal(t[-1], t0), 1.0, -1.0)
    d = fnp.astype(d, t.dtype)
    hmax_a = None if hmax is None else _to_array(hmax, t.dtype, like=t0)
    f0 = fun(y0, t0)
    if h0 is None:
        h = _initial_step(fun, y0, f0, t0, d, rtol, atol, count, hmax_a)
    else:
        h = fnp.astype(fnp.abs(fnp.multiply(fnp.ones_like(t0), h0)), t.dtype)

    def interval(carry, target):
        far, carry = carry[0], carry[1:]
        # an infinite time is never reached (without mxstep the loop ran forever): nan
        finite = fnp.isfinite(target)

        def cond(c):
            i, tc, hc = c[0], c[1], c[2]
            go = fnp.logical_and(finite, fnp.greater(fnp.multiply(fnp.subtract(target, tc),
                                                                   d), 0.0))
            go = fnp.logical_and(go, fnp.greater(fnp.abs(fnp.subtract(
                fnp.add(tc, fnp.multiply(hc, d)), tc)), 0.0))
            if mxstep is not None:
                go = fnp.logical_and(go, fnp.less(i, mxstep))
            return go

        def body(c):
            i, tc, hc, tp, y, f, yp, fp, mid = c
            hs = fnp.multiply(hc, d)
            y1, f1, err, m1 = _step(fun, y, f, tc, hs)
            ratio = _rms_ratio([fnp.divide(e, fnp.add(fnp.multiply(
                fnp.maximum(fnp.abs(a), fnp.abs(b)), rtol), atol))
                for e, a, b in zip(err, y, y1)], count, tc)
            ok = fnp.less_equal(ratio, 1.0)
            factor = fnp.multiply(fnp.pow(fnp.where(fnp.greater(ratio, 0.0), ratio, 1.0),
                                          -0.2), _SAFETY)
            factor = fnp.where(fnp.greater(ratio, 0.0), factor, _MAX_FACTOR)
            factor = fnp.clip(factor, _MIN_FACTOR, _MAX_FACTOR)
            hn = fnp.multiply(hc, factor)
            if hmax_a is not None:
                hn = fnp.minimum(hn, hmax_a)

            def pick(new, old):
                return [fnp.where(ok, a, b) for a, b in zip(new, old)]
            return (fnp.add(i, 1), fnp.where(ok, fnp.add(tc, hs), tc), hn,
                    fnp.where(ok, tc, tp), pick(y1, y), pick(f1, f), pick(y, yp), pick(f, fp),
                    pick(m1, mid))
        i0 = fnp.zeros((), dtype=fnp.int64, device=fnp.device(t0))
        c = while_loop(cond, body, (i0,) + tuple(carry))
        _, tc, hc, tp, y, f, yp, fp, mid = c
        span = fnp.subtract(tc, tp)
        safe = fnp.where(fnp.equal(span, 0.0), 1.0, span)
        theta = fnp.divide(fnp.subtract(target, tp), safe)
        out = _interpolate(yp, y, fp, f, mid, span, theta)
        # Not reached (mxstep steps, or a step size that no longer moves t): nan.
        missed = fnp.greater(fnp.multiply(fnp.subtract(target, tc), d), 0.0)
        # A time behind an earlier one (t not monotonic, which SciPy refuses): nan too,
        # not an extrapolation of the last step.
        back = fnp.less(fnp.multiply(fnp.subtract(target, far), d), 0.0)
        missed = fnp.logical_or(missed, back)
        out = [fnp.where(missed, fnp.nan, o) for o in out]
        return (fnp.where(back, far, target), tc, hc, tp, y, f, yp, fp, mid), out

    init = (t0, t0, h, t0, list(y0), list(f0), list(y0), list(f0), list(y0))
    _, ys = scan(interval, init, t[1:])
    return [fnp.concat([s, o], axis=0) for s, o in zip(stacked, ys)]


# -- the differentiable solver: forward pass, adjoint backward pass --------------------------


def _differentiable(x):
    return isinstance(x, Tracer) or (type(x) not in _SCALAR_DTYPES and hasattr(x, "dtype")
                                     and fnp.isdtype(x.dtype, "real floating"))


def _dot(a, b):
    total = None
    for x, y in zip(a, b):
        s = fnp.sum(fnp.multiply(x, y))
        total = s if total is None else fnp.add(total, s)
    return total


def _sequence(seq, like):
    """A list or tuple of numbers and 0-d arrays as one 1-d array next to ``like``."""
    if all(type(v) in _SCALAR_DTYPES for v in seq):
        return _plain_next_to(like, list(seq))[1]
    return fnp.stack([fnp.reshape(_plain_next_to(like, v)[1], ()) for v in seq])


def _is_value(x):
    """Whether an argument leaf is data (an array, a tracer or a number)."""
    return isinstance(x, (Tracer, bool, int, float, complex)) or (
        hasattr(x, "shape") and hasattr(x, "dtype"))


def _make_solver(func, y_tree, arg_tree, what, opts, static, n_args):
    """The solver as a ``custom_vjp`` function of ``(y0 leaves, t, args leaves)`` (the
    leaves that are data; ``static`` maps the positions of the others to them)."""
    rtol, atol, mxstep, hmax, h0 = opts

    def all_args(a):
        if not static:
            return list(a)
        it = iter(a)
        return [static[i] if i in static else next(it) for i in range(n_args)]

    def call(y, tt, a):
        out = func(tree_unflatten(y_tree, list(y)), tt,
                   *tree_unflatten(arg_tree, all_args(a)))
        if len(y) == 1 and y_tree.num_nodes == 1 and isinstance(out, (list, tuple)):
            out = _sequence(out, y[0])  # (SciPy's func may return a list)
        leaves, tree = tree_flatten(out)
        if tree != y_tree:
            raise TypeError(f"{what}: func must return a value of y0's structure {y_tree}; "
                            f"got {tree}.")
        res = []
        for o, yl in zip(leaves, y):
            if type(o) in _SCALAR_DTYPES or isinstance(o, (list, tuple)):
                o = _plain_next_to(yl, o)[1]
            if tuple(o.shape) != tuple(yl.shape):
                if math.prod(o.shape) == math.prod(yl.shape):  # SciPy ravels func's output
                    o = fnp.reshape(o, yl.shape)
                else:
                    raise ValueError(f"{what}: func returned shape {tuple(o.shape)} for a "
                                     f"state of shape {tuple(yl.shape)}.")
            res.append(o if o.dtype == yl.dtype else fnp.astype(o, yl.dtype))
        return res

    def forward(y, tt, a):
        return _solve(lambda yy, s: call(yy, s, a), list(y), tt, rtol, atol, mxstep, hmax, h0)

    solver = custom_vjp(forward)

    def fwd(y, tt, a):
        ys = forward(y, tt, a)
        return ys, (ys, tt, a)

    def bwd(res, g):
        ys, tt, a = res
        a = list(a)
        diff = [i for i, x in enumerate(a) if _differentiable(x)]
        ny = len(ys)

        def merged(dl):
            full = list(a)
            for i, x in zip(diff, dl):
                full[i] = x
            return full

        def augmented(state, s):
            yv, adj = state[:ny], state[ny:2 * ny]
            dl = [a[i] for i in diff]
            fy, pull = _vjp(lambda yy, dd: call(yy, s, merged(dd)), yv, dl)
            cy, cd = pull(adj)
            cy = [fnp.zeros_like(v) if c is None else c for c, v in zip(cy, yv)]
            cd = [fnp.zeros_like(v) if c is None else c for c, v in zip(cd, dl)]
            return list(fy) + [fnp.negative(c) for c in cy] + [fnp.negative(c) for c in cd]

        n = tt.shape[0]
        t_bar = []
        adj = [fnp.zeros_like(y[0, ...]) for y in ys]
        dbar = [fnp.zeros_like(a[i]) for i in diff]
        if n > 1:
            xs = ([y[1:, ...] for y in ys], [c[1:, ...] for c in g], tt[1:], tt[:-1])

            def back(carry, x):
                adj, dbar = carry
                yi, gi, ti, tprev = x
                adj = [fnp.add(p, q) for p, q in zip(adj, gi)]
                fi = call(yi, ti, a)
                tb = _dot(gi, fi)
                state = list(yi) + list(adj) + list(dbar)
                out = _solve(augmented, state, fnp.stack([ti, tprev]), rtol, atol, mxstep,
                             hmax, None)
                out = [o[1, ...] for o in out]
                return (out[ny:2 * ny], out[2 * ny:]), tb
            (adj, dbar), tbs = scan(back, (adj, dbar), xs, reverse=True)
            t_bar = [tbs]
        y0 = [y[0, ...] for y in ys]
        f0 = call(y0, tt[0], a)
        t0_bar = fnp.negative(_dot(adj, f0))
        t_bar = fnp.concat([fnp.reshape(fnp.astype(t0_bar, tt.dtype), (1,))] +
                           [fnp.astype(x, tt.dtype) for x in t_bar])
        y_bar = [fnp.add(p, c[0, ...]) for p, c in zip(adj, g)]
        a_bar = [None] * len(a)
        for i, c in zip(diff, dbar):
            a_bar[i] = c
        return y_bar, t_bar, a_bar

    solver.defvjp(fwd, bwd)
    return solver


def _odeint(func, y0, t, args, what, rtol, atol, mxstep, hmax, h0):
    """The shared solver: ``y0`` a pytree, ``func(y, t, *args)``; returns the pytree of
    stacked states."""
    for name, v in (("rtol", rtol), ("atol", atol)):
        if hasattr(v, "shape") or isinstance(v, (list, tuple)):
            raise NotImplementedError(f"{what}: {name} must be a Python number (per-component "
                                      f"tolerances are not supported).")
        if not v >= 0:
            raise ValueError(f"{what}: {name} must be non-negative; got {v}.")
    leaves, y_tree = tree_flatten(y0)
    if not leaves:
        raise ValueError(f"{what}: y0 has no arrays.")
    ref = next((x for x in leaves if type(x) not in _SCALAR_DTYPES
                and not isinstance(x, (list, tuple))), None)
    if ref is None:
        ref = next((x for x in tree_flatten(args)[0] if hasattr(x, "shape")
                    and type(x) not in _SCALAR_DTYPES), None)
        ref = t if ref is None and hasattr(t, "shape") else ref
    conv = []
    for x in leaves:
        x = _plain_next_to(ref, x)[1] if ref is not None else fnp.asarray(x)
        if fnp.isdtype(x.dtype, "complex floating"):
            raise TypeError(f"{what}: complex states are not supported (integrate the real "
                            f"and imaginary parts as two real states).")
        if not fnp.isdtype(x.dtype, "real floating"):
            x = fnp.astype(x, fnp.float64)
        conv.append(x)
    dtype = fnp.result_type(*conv)
    t = _plain_next_to(conv[0], t)[1]
    if t.ndim != 1:
        raise ValueError(f"{what}: t must be one-dimensional; got shape {tuple(t.shape)}.")
    if t.shape[0] == 0:
        raise ValueError(f"{what}: t must hold at least one time.")
    t = t if t.dtype == dtype else fnp.astype(t, dtype)
    if type(_current.get().interp) is not EvalInterpreter:
        # Values of enclosing transforms that func closes over become arguments, so that
        # the adjoint gives their cotangents (a custom_vjp refuses closed-over ones).
        try:
            converted, consts = closure_convert(func, tree_unflatten(y_tree, conv), t[0],
                                                *args)
        except Exception:  # (not stageable: left to func itself, which says why if it must)
            consts = ()
        if consts:
            func, args = converted, tuple(args) + tuple(consts)
    arg_leaves, arg_tree = tree_flatten(tuple(args))
    # Leaves that are neither arrays nor numbers (strings, functions, other objects, which
    # SciPy passes along to func) stay out of the solver's inputs: func gets them as they are.
    static = {i: v for i, v in enumerate(arg_leaves) if not _is_value(v)}
    dynamic = [v for i, v in enumerate(arg_leaves) if i not in static]
    solver = _make_solver(func, y_tree, arg_tree, what, (rtol, atol, mxstep, hmax, h0),
                          static, len(arg_leaves))
    out = solver(conv, t, dynamic)
    return tree_unflatten(y_tree, list(out))


def odeint(func, y0, t, args=(), Dfun=None, col_deriv=0, full_output=0, ml=None, mu=None,
           rtol=None, atol=None, tcrit=None, h0=0.0, hmax=0.0, hmin=0.0, ixpr=0, mxstep=0,
           mxhnil=0, mxordn=12, mxords=5, printmessg=0, tfirst=False):
    """Integrate ``dy/dt = func(y, t, *args)`` from ``y0`` at ``t[0]``; the states at the times
    ``t``, shape ``(len(t),) + y0.shape`` (``scipy.integrate.odeint``).

    An explicit adaptive Dormand-Prince 5(4) method with local error control (the error
    estimate's root mean square, relative to ``atol + rtol * |y|``, at most 1 per step) and
    a quartic interpolant for the output times, written with ``functrans.lax`` loops: it runs
    eagerly on plain arrays (results of ``y0``'s library), stages under ``jit`` and batches
    under ``vmap``. ``t`` may increase or decrease (monotonic, repeated values allowed: a
    time behind an earlier one gives nan, where SciPy raises).
    Reverse mode (``grad``, ``vjp``) is the adjoint method: a second integration backwards
    in time of the state, its adjoint and the parameters' cotangent, as in
    ``jax.experimental.ode.odeint``; it gives derivatives in ``y0``, ``t`` and every
    floating-point array among ``args`` (which may be pytrees; leaves that are not arrays
    or numbers, such as strings, reach ``func`` unchanged). Forward mode (``jvp``) is the
    transpose of that adjoint map, so it costs one forward and one backward integration plus
    a reverse pass through the latter. Values of enclosing transforms that ``func`` closes
    over (instead of taking them in ``args``) are made extra arguments
    (:func:`functrans.closure_convert`, as JAX's odeint does), so the adjoint gives their
    derivatives too; ``func`` is then staged once, so its Python control flow must not depend
    on the state's values (else pass those values in ``args``).

    Differences from SciPy: an explicit method (SciPy's LSODA switches to a stiff method:
    stiff problems here take many small steps); ``rtol``/``atol`` default to 1.49012e-8 and
    must be numbers; ``mxstep`` (0: 500) bounds the steps between two output times, and times
    not reached (within ``mxstep``, or where the step size underflows) are nan, without a
    warning; ``h0`` (0: a heuristic) and ``hmax`` (0: none) are honoured (``h0``, ``hmax``
    and ``mxstep`` must be non-negative finite numbers); ``Dfun``,
    ``col_deriv``, ``ml``, ``mu``, ``tcrit``, ``hmin``, ``ixpr``, ``mxhnil``, ``mxordn``,
    ``mxords`` and ``printmessg`` (LSODA's settings) are accepted and ignored;
    ``full_output`` is not supported. The result has ``y0``'s floating dtype (integers give
    float64; SciPy always gives float64), and ``y0`` may have any shape (SciPy: 1-d; a 0-d
    ``y0`` gives shape ``(len(t), 1)`` as in SciPy).
    """
    if not callable(func):
        raise TypeError("odeint: func must be a function.")
    for name, v in (("h0", h0), ("hmax", hmax), ("mxstep", mxstep)):
        # (0 means the default; a negative hmax made every time after t[0] nan silently)
        try:
            ok = 0 <= float(v) < math.inf
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise ValueError(f"odeint: {name} must be a non-negative finite number (0 for "
                             f"the default); got {v!r}.")
    if full_output:
        raise NotImplementedError("odeint: full_output is not supported.")
    if not isinstance(args, tuple):
        args = (args,)  # as SciPy: a single extra argument
    if not hasattr(y0, "shape"):  # a number or a list: next to an array among args and t
        refs = [x for x in tree_flatten(args)[0] + [t] if hasattr(x, "shape")
                and type(x) not in _SCALAR_DTYPES]
        y0 = _plain_next_to(*refs[:1], y0)[-1]
    if y0.ndim == 0:
        y0 = fnp.reshape(y0, (1,))
    f = (lambda y, tt, *a: func(tt, y, *a)) if tfirst else func
    return _odeint(f, y0, t, args, "odeint", 1.49012e-8 if rtol is None else rtol,
                   1.49012e-8 if atol is None else atol, 500 if not mxstep else int(mxstep),
                   None if not hmax else float(hmax), None if not h0 else float(h0))


# -- quadrature of sampled data ----------------------------------------------------------------


def _along(nd, axis, index):
    return tuple(index if i == axis else slice(None) for i in range(nd))


def _spacings(y, x, axis, what):
    """The spacings along ``axis``: ``diff(x)`` shaped to broadcast against ``y`` (x 1-d or
    of ``y``'s number of axes), SciPy's checks."""
    nd, n = y.ndim, y.shape[axis]
    if x.ndim == 1:
        if x.shape[0] != n:
            raise ValueError(f"{what}: if given, the length of x along axis must be the same "
                             f"as y's ({x.shape[0]} != {n}).")
        d = fnp.diff(x)
        shape = [1] * nd
        shape[axis] = d.shape[0]
        return fnp.reshape(d, tuple(shape))
    if x.ndim != nd:
        raise ValueError(f"{what}: if given, the shape of x must be 1-D or the same as y.")
    if x.shape[axis] != n:
        raise ValueError(f"{what}: if given, the length of x along axis must be the same as "
                         f"y's ({x.shape[axis]} != {n}).")
    return fnp.diff(x, axis=axis)


def _prepare(y, x, axis, what):
    y, x = _plain_next_to(y, x) if x is not None else (_plain_next_to(y)[0], None)
    if y.ndim == 0:
        raise ValueError(f"{what}: y must have at least one axis.")
    if not -y.ndim <= axis < y.ndim:
        raise ValueError(f"{what}: axis {axis} is out of bounds for y with {y.ndim} axes.")
    return y, x, axis % y.ndim


def trapezoid(y, x=None, dx=1.0, axis=-1):
    """The integral of the samples ``y`` along ``axis`` by the composite trapezoidal rule, at
    the points ``x`` (1-d, or of ``y``'s shape) or with spacing ``dx``
    (``scipy.integrate.trapezoid``; the same as :func:`functrans.numpy.trapezoid`).
    Differentiable in ``y`` and ``x``."""
    return fnp.trapezoid(y, x=x, dx=dx, axis=axis)


def cumulative_trapezoid(y, x=None, dx=1.0, axis=-1, initial=None):
    """The running integral of ``y`` along ``axis`` by the trapezoidal rule
    (``scipy.integrate.cumulative_trapezoid``): one value fewer than ``y`` along ``axis``, or
    as many with ``initial=0`` (a zero first; SciPy accepts only None or 0). Differentiable
    in ``y`` and ``x``."""
    what = "cumulative_trapezoid"
    y, x, axis = _prepare(y, x, axis, what)
    if y.shape[axis] == 0:
        raise ValueError(f"{what}: at least one point is required along axis.")
    if initial is not None:
        if not isinstance(initial, (int, float)) or isinstance(initial, bool):
            raise ValueError(f"{what}: initial must be a scalar (None or 0).")
        if initial != 0:
            raise ValueError(f"{what}: initial must be None or 0.")
    d = dx if x is None else _spacings(y, x, axis, what)
    nd = y.ndim
    parts = fnp.divide(fnp.multiply(d, fnp.add(y[_along(nd, axis, slice(1, None))],
                                                y[_along(nd, axis, slice(None, -1))])), 2.0)
    res = fnp.cumulative_sum(parts, axis=axis)
    if initial is not None:
        shape = list(res.shape)
        shape[axis] = 1
        res = fnp.concat([fnp.zeros(tuple(shape), dtype=res.dtype, device=fnp.device(res)),
                          res], axis=axis)
    return res


def _safe_div(a, b):
    """``a / b`` where ``b != 0``, else 0 (SciPy's guard on repeated sample points)."""
    nz = fnp.not_equal(b, 0)
    return fnp.where(nz, fnp.divide(a, fnp.where(nz, b, 1.0)), 0.0)


def simpson(y, x=None, *, dx=1.0, axis=-1):
    """The integral of the samples ``y`` along ``axis`` by the composite Simpson's rule
    (``scipy.integrate.simpson``, SciPy >= 1.11): parabolas through consecutive triples of
    samples at the points ``x`` (1-d, or of ``y``'s shape; uneven spacing allowed) or with
    spacing ``dx``; for an even number of samples the last interval gets Cartwright's
    correction (two samples: the trapezoid). Differentiable in ``y`` and ``x``."""
    what = "simpson"
    y, x, axis = _prepare(y, x, axis, what)
    nd, n = y.ndim, y.shape[axis]
    h = None if x is None else _spacings(y, x, axis, what)

    def at(k):
        return y[_along(nd, axis, k)]

    def basic(stop):
        # Simpson over the samples [0, stop + 2) in pairs of intervals.
        if stop < 1:  # one sample: zero (a float, as SciPy's; of y's and x's dtype)
            zero = fnp.sum(at(slice(0, 0)), axis=axis)
            return fnp.multiply(zero, 1.0) if h is None else fnp.multiply(
                zero, fnp.sum(h[_along(nd, axis, slice(0, 0))], axis=axis))
        s0, s1, s2 = (at(slice(k, stop + k, 2)) for k in (0, 1, 2))
        if h is None:
            return fnp.multiply(fnp.sum(fnp.add(fnp.add(s0, fnp.multiply(s1, 4.0)), s2),
                                        axis=axis), dx / 3.0)
        h0 = h[_along(nd, axis, slice(0, stop, 2))]
        h1 = h[_along(nd, axis, slice(1, stop + 1, 2))]
        hsum, hprod = fnp.add(h0, h1), fnp.multiply(h0, h1)
        r = _safe_div(h0, h1)
        w0 = fnp.subtract(2.0, _safe_div(fnp.ones_like(r), r))
        w1 = fnp.multiply(hsum, _safe_div(hsum, hprod))
        w2 = fnp.subtract(2.0, r)
        tmp = fnp.add(fnp.add(fnp.multiply(s0, w0), fnp.multiply(s1, w1)),
                      fnp.multiply(s2, w2))
        return fnp.sum(fnp.multiply(fnp.divide(hsum, 6.0), tmp), axis=axis)

    if n % 2 == 1:
        return basic(n - 2)
    if n == 2:
        # (a Python dx stays a Python number: y's float32 is kept, as for other lengths)
        d = fnp.multiply(fnp.squeeze(h, axis=axis), 0.5) if h is not None else (
            dx * 0.5 if isinstance(dx, (int, float)) else fnp.multiply(dx, 0.5))
        return fnp.multiply(fnp.add(at(-1), at(-2)), d)
    result = basic(n - 3)
    if h is None:
        h0 = h1 = dx
    else:
        h0 = fnp.squeeze(h[_along(nd, axis, slice(-2, -1))], axis=axis)
        h1 = fnp.squeeze(h[_along(nd, axis, slice(-1, None))], axis=axis)
        h0, h1 = (fnp.astype(v, fnp.float64) if not fnp.isdtype(v.dtype, "real floating")
                  else v for v in (h0, h1))
    if h is None and isinstance(dx, (int, float)):
        alpha = (2 * h1 ** 2 + 3 * h0 * h1) / (6 * (h1 + h0)) if h0 + h1 else 0.0
        beta = (h1 ** 2 + 3.0 * h0 * h1) / (6 * h0) if h0 else 0.0
        eta = h1 ** 3 / (6 * h0 * (h0 + h1)) if h0 * (h0 + h1) else 0.0
    else:  # (an array dx too: it may be traced, and Python's `if` cannot read it under jit)
        alpha = _safe_div(fnp.add(fnp.multiply(fnp.square(h1), 2.0),
                                  fnp.multiply(fnp.multiply(h0, h1), 3.0)),
                          fnp.multiply(fnp.add(h1, h0), 6.0))
        beta = _safe_div(fnp.add(fnp.square(h1), fnp.multiply(fnp.multiply(h0, h1), 3.0)),
                         fnp.multiply(h0, 6.0))
        eta = _safe_div(fnp.multiply(fnp.square(h1), h1),
                        fnp.multiply(fnp.multiply(h0, fnp.add(h0, h1)), 6.0))
    corr = fnp.subtract(fnp.add(fnp.multiply(at(-1), alpha), fnp.multiply(at(-2), beta)),
                        fnp.multiply(at(-3), eta))
    return fnp.add(result, corr)


def _floating(v):
    """``v`` (an array) in a floating dtype: integers and booleans as float64."""
    if fnp.isdtype(v.dtype, ("real floating", "complex floating")):
        return v
    return fnp.astype(v, fnp.float64)


def _one_along(v, shape, axis, name, what):
    """The number or array ``v`` (``dx`` or ``initial``), which must be 0-d or of ``shape``
    with one entry along ``axis``: a Python number as it is (weakly typed), else a floating
    array of that shape (SciPy's rule for cumulative_simpson's ``dx`` and ``initial``)."""
    if type(v) in _SCALAR_DTYPES:
        return float(v) if isinstance(v, bool) else v
    v = _floating(v)
    want = tuple(1 if i == axis else n for i, n in enumerate(shape))
    if v.ndim == 0:
        return v
    if tuple(v.shape) != want:
        raise ValueError(f"{what}: {name} must be a scalar or have y's shape with one point "
                         f"along axis, {want}; got shape {tuple(v.shape)}.")
    return v


def _increasing_checked(h, what):
    """SciPy's check that the sample points increase strictly (``h``: their spacings, the
    axis last): ``(h, bad)``. Where the spacings' values can be read on the host (plain
    arrays, also behind jvp, grad and vmap), a non-positive one is a ValueError and ``bad``
    None; staged (jit) or on a device, where the check would read the values, ``bad`` marks
    the 1-d slices with one (their result is to be nan) and their spacings become 1 (no
    division by zero, no nan in the other slices' derivatives)."""
    bad = fnp.any(fnp.less_equal(h, 0), axis=-1, keepdims=True)
    seen = concrete_behind(bad)
    if seen is not None and _on_host(seen):
        if bool(fnp.any(seen)):
            raise ValueError(f"{what}: x must be strictly increasing along axis.")
        return h, None
    return fnp.where(bad, fnp.ones_like(h), h), bad


def cumulative_simpson(y, *, x=None, dx=1.0, axis=-1, initial=None):
    """The running integral of the samples ``y`` along ``axis`` by Simpson's 1/3 rule
    (``scipy.integrate.cumulative_simpson``, SciPy >= 1.12), as SciPy computes it: the
    integral over each interval from the parabola through it and one neighbouring sample
    (Cartwright's formulas: the interval's left neighbour for the odd-numbered intervals and
    the last one, the right neighbour for the others), summed cumulatively. One value fewer
    than ``y`` along ``axis``; with ``initial``, as many (``initial`` first, then added to
    every value). Fewer than three samples: :func:`cumulative_trapezoid`.

    ``x``: the sample points, 1-d of ``y``'s length along ``axis`` or of ``y``'s shape,
    strictly increasing (ValueError where the values are plain arrays, also under ``jvp``,
    ``grad`` and ``vmap``; under ``jit`` or on a GPU, where that check would read the values,
    a 1-d slice whose points do not increase is nan). ``dx`` (used without ``x``) and
    ``initial``: a number, or an array of ``y``'s shape with one entry along ``axis``.
    Differentiable in ``y``, ``x``, ``dx`` and ``initial``.

    Differences from SciPy: the result's dtype is that of ``y``, ``x`` and the arrays among
    ``dx`` and ``initial`` (integers as float64), Python numbers weakly typed (float32 ``y``
    stays float32; SciPy gives float64 for the default ``dx`` or an ``initial``); ``dx`` of
    another shape is refused for every length (SciPy broadcasts it below three samples);
    a complex ``x`` is refused.
    """
    what = "cumulative_simpson"
    y, _, axis = _prepare(y, None, axis, what)
    y = _floating(y)
    n = y.shape[axis]
    if n == 0:
        raise ValueError(f"{what}: at least one point is required along axis.")
    if x is not None:
        x = _plain_next_to(y, x)[1]
        if fnp.isdtype(x.dtype, "complex floating"):
            raise TypeError(f"{what}: x must be real.")
        x = _floating(x)
        if not (tuple(x.shape) == tuple(y.shape) or (x.ndim == 1 and x.shape[0] == n)):
            raise ValueError(f"{what}: x must have y's shape, or be 1-d with y's length "
                             f"along axis ({n}); got shape {tuple(x.shape)}.")
    else:
        dx = _one_along(dx if type(dx) in _SCALAR_DTYPES else _plain_next_to(y, dx)[1],
                        y.shape, axis, "dx", what)
    if initial is not None:
        initial = _one_along(initial if type(initial) in _SCALAR_DTYPES
                             else _plain_next_to(y, initial)[1], y.shape, axis, "initial",
                             what)
    bad = None
    if n < 3:  # (SciPy's trapezoids: x not checked)
        res = cumulative_trapezoid(y, x=x, dx=dx, axis=axis)
        res = fnp.moveaxis(res, axis, -1)
    else:
        yl = fnp.moveaxis(y, axis, -1)
        if x is None:
            res = _simpson_pieces_equal(yl, dx if type(dx) in _SCALAR_DTYPES or dx.ndim == 0
                                        else fnp.moveaxis(dx, axis, -1))
        else:
            h = fnp.diff(x if x.ndim == 1 else fnp.moveaxis(x, axis, -1), axis=-1)
            h, bad = _increasing_checked(h, what)
            res = _simpson_pieces(yl, h)
    if initial is not None:
        # (zeros of the result's shape with one entry last, plus initial: the common dtype)
        zero = fnp.zeros(tuple(res.shape[:-1]) + (1,), dtype=res.dtype, device=fnp.device(res))
        first = fnp.add(zero, initial if type(initial) in _SCALAR_DTYPES or initial.ndim == 0
                        else fnp.moveaxis(initial, axis, -1))
        res = fnp.concat([first, fnp.add(res, first)], axis=-1)
    if bad is not None:
        res = fnp.where(bad, fnp.nan, res)
    return fnp.moveaxis(res, -1, axis)


def _interleave(even, odd, last):
    """The intervals' integrals in order, the axis last: ``even`` holds those of the
    intervals 0, 2, 4... (as many as ``odd`` holds of 1, 3, 5...), ``last`` (or None) the
    final interval's (the number of intervals is then odd)."""
    both = fnp.stack([even, odd], axis=-1)
    out = fnp.reshape(both, tuple(both.shape[:-2]) + (2 * both.shape[-2],))
    return out if last is None else fnp.concat([out, last], axis=-1)


def _simpson_pieces(y, h):
    """The running integral of ``y`` (axis last, n >= 3 samples) at spacings ``h``
    (broadcasting against ``y`` with n - 1 along the last axis). Over an interval of width a
    whose parabola's third point lies a further b beyond it (c = a + b), the sample at the
    interval's start p, at its end q and at that third point r:
    a/6 * ((3 - a/c) p + (3 + a/c + a^2/(b c)) q - a^2/(b c) r)."""
    n = y.shape[-1]
    m = n - 1                      # intervals
    k = m // 2                     # pairs (interval 2j forward, 2j + 1 backward)

    def piece(a, b, p, q, r):
        c = fnp.add(a, b)
        ac = fnp.divide(a, c)
        aabc = fnp.multiply(ac, fnp.divide(a, b))
        w0 = fnp.subtract(3.0, ac)
        w1 = fnp.add(fnp.add(aabc, ac), 3.0)
        s = fnp.subtract(fnp.add(fnp.multiply(w0, p), fnp.multiply(w1, q)),
                         fnp.multiply(aabc, r))
        return fnp.multiply(fnp.divide(a, 6.0), s)

    # forward: intervals 2j (j < k), points 2j, 2j+1, 2j+2
    fwd = piece(h[..., 0:2 * k:2], h[..., 1:2 * k:2],
                y[..., 0:2 * k:2], y[..., 1:2 * k:2], y[..., 2:2 * k + 1:2])
    # backward: intervals 2j+1 (j < k), read from the right: points 2j+2, 2j+1, 2j
    bwd = piece(h[..., 1:2 * k:2], h[..., 0:2 * k:2],
                y[..., 2:2 * k + 1:2], y[..., 1:2 * k:2], y[..., 0:2 * k:2])
    last = None
    if m % 2:  # the final interval from its left neighbour
        last = piece(h[..., m - 1:m], h[..., m - 2:m - 1],
                     y[..., n - 1:n], y[..., n - 2:n - 1], y[..., n - 3:n - 2])
    return fnp.cumulative_sum(_interleave(fwd, bwd, last), axis=-1)


def _simpson_pieces_equal(y, d):
    """:func:`_simpson_pieces` for equal spacings ``d`` (a number, or an array with one
    entry along the last axis): d/3 * (5/4 p + 2 q - 1/4 r)."""
    n = y.shape[-1]
    m = n - 1
    k = m // 2
    d3 = d / 3.0 if type(d) in _SCALAR_DTYPES else fnp.divide(d, 3.0)

    def piece(p, q, r):
        s = fnp.subtract(fnp.add(fnp.multiply(p, 1.25), fnp.multiply(q, 2.0)),
                         fnp.multiply(r, 0.25))
        return fnp.multiply(d3, s)

    fwd = piece(y[..., 0:2 * k:2], y[..., 1:2 * k:2], y[..., 2:2 * k + 1:2])
    bwd = piece(y[..., 2:2 * k + 1:2], y[..., 1:2 * k:2], y[..., 0:2 * k:2])
    last = None
    if m % 2:
        last = piece(y[..., n - 1:n], y[..., n - 2:n - 1], y[..., n - 3:n - 2])
    return fnp.cumulative_sum(_interleave(fwd, bwd, last), axis=-1)


def romb(y, dx=1.0, axis=-1, show=False):
    """The integral of ``2**k + 1`` equally spaced samples ``y`` along ``axis`` by Romberg's
    method (``scipy.integrate.romb``): the trapezoidal rule on the samples 2**k, 2**(k-1),
    ..., 1 apart, extrapolated by Richardson's rule. Differentiable in ``y`` and ``dx``.

    ``show`` prints the extrapolation table, as SciPy's, for concrete values of a 1-d ``y``
    (several data sets: SciPy's note instead); under a transform (values not known) it is a
    ValueError. The result has ``y``'s floating dtype (integers as float64; SciPy gives
    float64 for float32 ``y`` too)."""
    what = "romb"
    y, _, axis = _prepare(y, None, axis, what)
    y = _floating(y)
    n = y.shape[axis]
    intervals = n - 1
    k = max(intervals, 1).bit_length() - 1
    if intervals < 1 or (1 << k) != intervals:
        raise ValueError(f"{what}: the number of samples along axis must be one plus a "
                         f"non-negative power of 2; got {n}.")
    if not (type(dx) in _SCALAR_DTYPES and not isinstance(dx, bool)):
        dx = _plain_next_to(y, dx)[1]
        if dx.ndim != 0:
            raise ValueError(f"{what}: dx must be a scalar; got shape {tuple(dx.shape)}.")
        dx = _floating(dx)
    nd = y.ndim
    h = dx * intervals if type(dx) in _SCALAR_DTYPES else fnp.multiply(dx, float(intervals))
    rows = [[fnp.multiply(fnp.divide(fnp.add(y[_along(nd, axis, 0)],
                                             y[_along(nd, axis, -1)]), 2.0), h)]]
    step = intervals
    for i in range(1, k + 1):
        half = step // 2
        h = h / 2.0 if type(h) in _SCALAR_DTYPES else fnp.divide(h, 2.0)
        mids = fnp.sum(y[_along(nd, axis, slice(half, intervals, step))], axis=axis)
        # the trapezoid at spacing h: half the previous one plus h times the new midpoints
        row = [fnp.add(fnp.multiply(rows[-1][0], 0.5), fnp.multiply(mids, h))]
        for j in range(1, i + 1):
            prev = row[-1]
            row.append(fnp.add(prev, fnp.divide(fnp.subtract(prev, rows[-1][j - 1]),
                                                float((1 << (2 * j)) - 1))))
        rows.append(row)
        step = half
    result = rows[-1][-1]
    if show:
        _show_romberg(rows, show, what)
    return result


def _show_romberg(rows, show, what):
    """Print Romberg's table as SciPy does (values of a single data set only)."""
    first = rows[0][0]
    if any(isinstance(v, Tracer) for row in rows for v in row):
        raise ValueError(f"{what}: show needs concrete values (not under a transform).")
    if first.ndim != 0:
        print("*** Printing table only supported for integrals of a single data set.")
        return
    try:
        precision = show[0]
    except (TypeError, IndexError):
        precision = 5
    try:
        width = show[1]
    except (TypeError, IndexError):
        width = 8
    form = f"%{width}.{precision}f"
    title = "Richardson Extrapolation Table for Romberg Integration"
    print(title, "=" * len(title), sep="\n", end="\n")
    for row in rows:
        for v in row:
            print(form % float(v), end=" ")
        print()
    print("=" * len(title))
