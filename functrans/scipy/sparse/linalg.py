"""``functrans.scipy.sparse.linalg``: the iterative solvers of ``jax.scipy.sparse.linalg``,
``cg``, ``bicgstab`` and ``gmres``, with JAX's signatures.

``A`` is a matrix or a function computing ``A @ x`` (on a pytree ``x`` shaped like ``b``),
``M`` an optional preconditioner (an approximation of ``A``'s inverse, as a matrix or a
function). The iterations are :func:`functrans.lax.while_loop` loops, so they run eagerly
and under ``jit`` and ``vmap``; the result is wrapped in
:func:`functrans.lax.custom_linear_solve`, so derivatives are implicit — the derivative of
``x = A⁻¹ b`` is another solve with the same method, never a derivative of the iterations —
and derivatives with respect to ``b`` and to what ``A`` closes over (a matrix, or arrays a
function ``A`` uses) are exact up to the solver's tolerance. As JAX's, they return
``(x, None)`` (no convergence information) and stop when ``‖r‖ ≤ max(tol·‖b‖, atol)`` or after
``maxiter`` iterations. The iterations run in SciPy's dtype: ``b``'s promoted with a matrix
``A``'s (integers as float64), ``x0`` and a matrix ``M`` cast to it; a function ``A`` or ``M``
must keep its argument's dtype.
"""

from __future__ import annotations

import functools
import operator

import numpy as _np

from ... import numpy as fnp
from ...control_flow import fori_loop, while_loop
from ...custom import closure_convert
from ...lax_ops import custom_linear_solve
from ...numpy._indexing import _setitem
from ...tree import ravel_pytree, tree_leaves, tree_map, tree_structure

__all__ = ["cg", "bicgstab", "gmres"]


# -- pytree vector arithmetic ------------------------------------------------------------------


def _add(x, y, a=1.0):  # x + a y
    return tree_map(lambda u, v: u + a * v, x, y)


def _sub(x, y):
    return tree_map(lambda u, v: u - v, x, y)


def _vdot(x, y):  # <x, y>, conjugating x
    return sum(fnp.sum(fnp.conj(u) * v) if fnp.iscomplexobj(u) else fnp.sum(u * v)
               for u, v in zip(tree_leaves(x), tree_leaves(y)))


def _norm2(x):  # ‖x‖², real
    return sum(fnp.sum(fnp.real(fnp.conj(u) * u)) if fnp.iscomplexobj(u) else fnp.sum(u * u)
               for u in tree_leaves(x))


def _operator(A, what, name):
    """``A`` as a function of a pytree: a function as given, a matrix as ``A @ x``."""
    if A is None:
        return lambda x: x
    if callable(A):
        return _dtype_checked(A, what, name)
    if not hasattr(A, "shape") or len(A.shape) != 2:
        raise TypeError(f"{name}: {what} must be a 2-d array or a function computing "
                        f"{what} @ x; got {type(A).__name__}"
                        + (f" of shape {tuple(A.shape)}" if hasattr(A, "shape") else ""))
    return lambda x: fnp.matmul(A, x)


def _dtype_checked(f, what, name):
    """A function ``A`` (or ``M``) that must keep its argument's dtypes: the iterations carry
    ``b``'s. (A complex result for a real ``b`` was silently made real by gmres, the imaginary
    part dropped; cg and bicgstab failed inside their while_loop.) A trace-time check, made
    at the first call only: the iterations' carry keeps its dtypes after it."""
    done = []

    def checked(x):
        y = f(x)
        if done:
            return y
        done.append(True)
        for u, v in zip(tree_leaves(x), tree_leaves(y)):
            du, dv = getattr(u, "dtype", None), getattr(v, "dtype", None)
            if dv is not None and du != dv:
                raise TypeError(f"{name}: {what}(x) has dtype {getattr(dv, 'name', dv)} for x "
                                f"of dtype {getattr(du, 'name', du)}; the solver works in b's "
                                f"dtype (promoted with a matrix A's), so give b the dtype of "
                                f"{what}'s result, or cast inside {what}")
        return y
    return checked


def _working_dtype(A, leaf):
    """The dtype (NumPy's) the iterations carry for a leaf of ``b``: its own and a matrix
    ``A``'s, promoted as NumPy promotes, integers and booleans as float64 (SciPy's: ``x0``
    takes it too). A float32 ``b`` with a float64 matrix made cg and bicgstab fail inside
    their while_loop and gmres return float32; a complex matrix with a real ``b`` made gmres
    drop the solution's imaginary part."""
    dt = _np_dtype(leaf)
    if not callable(A) and hasattr(A, "dtype"):
        da = _np_dtype(A)
        if da is None or dt is None:
            return None
        if da != dt:
            dt = _np.result_type(dt, da)
    return None if dt is None else _np.dtype(_np.float64) if dt.kind in "biu" else dt


def _np_dtype(x):
    """``x``'s dtype as NumPy's (None for one NumPy lacks, as bfloat16: left as it is)."""
    d = getattr(x, "dtype", None)
    if isinstance(d, _np.dtype):
        return d
    try:
        return _np.dtype(fnp.result_type(x).name)
    except TypeError:
        return None


def _as_dtype(v, dtype):
    return v if dtype is None or _np_dtype(v) == dtype else fnp.astype(v, dtype.name)


def _setup(A, b, x0, M, maxiter, name, default_maxiter):
    if not tree_leaves(b):
        raise ValueError(f"{name}: b has no arrays")
    b = tree_map(fnp.asarray, b)
    b = tree_map(lambda v: _as_dtype(v, _working_dtype(A, v)), b)
    if x0 is None:
        x0 = tree_map(fnp.zeros_like, b)
    elif tree_structure(x0) != tree_structure(b):
        raise ValueError(f"{name}: x0 and b must have the same tree structure; got "
                         f"{tree_structure(x0)} and {tree_structure(b)}")
    else:
        for u, v in zip(tree_leaves(x0), tree_leaves(b)):
            if tuple(u.shape) != tuple(v.shape):
                raise ValueError(f"{name}: x0 and b must have the same shapes; got "
                                 f"{tuple(u.shape)} and {tuple(v.shape)}")
        x0 = tree_map(lambda u, v: _as_dtype(fnp.asarray(u), _np_dtype(v)), x0, b)
    size = sum(math_prod(v.shape) for v in tree_leaves(b))
    if maxiter is None:
        maxiter = default_maxiter(size)
    else:
        maxiter = operator.index(maxiter)
    return _operator(A, "A", name), b, x0, _preconditioner(M, name, b), maxiter, size


def _preconditioner(M, name, b):
    """``M`` as a function whose constants have no derivatives: the solution does not
    depend on the preconditioner (JAX's solves drop its tangents), and what a function
    ``M`` closes over may be differentiated outside (an ``M`` built from the matrix being
    differentiated): those values enter the solver as plain constants."""
    if M is None or not callable(M):
        if M is not None and hasattr(M, "shape") and tree_leaves(b):
            M = fnp.asarray(M)
            work = fnp.result_type(tree_leaves(b)[0]).name
            m_dt = fnp.result_type(M).name
            if m_dt != work:
                if fnp.isdtype(M.dtype, "complex floating") and "complex" not in work:
                    raise TypeError(f"{name}: the preconditioner M is complex ({m_dt}) for a "
                                    f"real system ({work}); give a real M")
                # (in the system's precision: a float64 M with a float32 system, or an
                # integer M, made the iterations' carry change dtype)
                M = fnp.astype(M, work)
        return _operator(M if M is None or not hasattr(M, "shape") else
                         fnp.stop_gradient(M), "M", name)
    converted, consts = closure_convert(M, b)
    if not consts:
        return M
    consts = [fnp.stop_gradient(c) for c in consts]
    return lambda x: converted(x, *consts)


def math_prod(shape):
    return functools.reduce(operator.mul, (int(d) for d in shape), 1)


def _threshold(b, tol, atol):
    """The squared residual norm at which to stop: max(tol ‖b‖, atol)²."""
    return fnp.maximum(tol ** 2 * _norm2(b), atol ** 2)


def _solved(solve, A, b, x0, symmetric):
    """``x`` solving ``A x = b`` by ``solve(A, b, x0)`` (``x0``: the starting guess), with
    implicit derivatives. The starting guess travels with ``b`` through an identity block of
    the operator, (A x, s) for (x, s), rather than being closed over by the solver: under
    ``jit`` a solver must not close over the function's values."""
    def matvec(v):
        return A(v[0]), v[1]

    def solve_pair(mv, rhs):
        b, start = rhs
        return solve(lambda x: mv((x, start))[0], b, start), start
    return custom_linear_solve(matvec, (b, x0), solve=solve_pair, transpose_solve=solve_pair,
                               symmetric=symmetric)[0]


def _real_b(b):
    return not any(fnp.iscomplexobj(v) for v in tree_leaves(b))


# -- conjugate gradients -------------------------------------------------------------------------


def cg(A, b, x0=None, *, tol=1e-05, atol=0.0, maxiter=None, M=None):
    """Conjugate gradients for ``A x = b`` with ``A`` Hermitian positive definite (not
    checked: for another ``A`` the result is meaningless, as in SciPy and JAX). Returns
    ``(x, None)``. ``maxiter`` defaults to ``10 × size of b``; ``M`` is a preconditioner
    (positive definite too)."""
    A, b, x0, M, maxiter, _ = _setup(A, b, x0, M, maxiter, "cg", lambda n: 10 * n)

    def solve(A, b, x0):
        stop = _threshold(b, tol, atol)
        r0 = _sub(b, A(x0))
        z0 = M(r0)
        rz0 = fnp.real(_vdot(r0, z0))

        def cond(state):
            _, r, _, _, k = state
            return (_norm2(r) > stop) & (k < maxiter)

        def body(state):
            x, r, p, rz, k = state
            Ap = A(p)
            alpha = rz / fnp.real(_vdot(p, Ap))
            x = _add(x, p, alpha)
            r = _add(r, Ap, -alpha)
            z = M(r)
            rz_new = fnp.real(_vdot(r, z))
            p = _add(z, p, rz_new / rz)
            return x, r, p, rz_new, k + 1
        return while_loop(cond, body, (x0, r0, z0, rz0, 0))[0]

    return _solved(solve, A, b, x0, symmetric=_real_b(b)), None


# -- BiCGSTAB ------------------------------------------------------------------------------------


def bicgstab(A, b, x0=None, *, tol=1e-05, atol=0.0, maxiter=None, M=None):
    """The stabilised biconjugate gradient method (van der Vorst) for ``A x = b`` with any
    invertible ``A``. Returns ``(x, None)``; ``maxiter`` defaults to ``10 × size of b``. A
    breakdown (a zero inner product) stops the iterations where they are."""
    A, b, x0, M, maxiter, _ = _setup(A, b, x0, M, maxiter, "bicgstab", lambda n: 10 * n)

    def solve(A, b, x0):
        stop = _threshold(b, tol, atol)
        r0 = _sub(b, A(x0))
        shadow = r0  # the fixed shadow residual
        one = fnp.ones_like(_vdot(r0, r0))   # (complex for a complex system)

        def cond(state):
            r, k = state[1], state[-1]
            return (_norm2(r) > stop) & (k < maxiter) & (k >= 0)

        def body(state):
            x, r, p, v, rho, alpha, omega, k = state
            rho_new = _vdot(shadow, r)
            beta = (rho_new / rho) * (alpha / omega)
            p = _add(r, _add(p, v, -omega), beta)  # r + beta (p - omega v)
            p_hat = M(p)
            v = A(p_hat)
            alpha = rho_new / _vdot(shadow, v)
            s = _add(r, v, -alpha)
            done = _norm2(s) <= stop  # converged half-way: no second half-step
            s_hat = M(s)
            t = A(s_hat)
            omega = _vdot(t, s) / _vdot(t, t)
            x = tree_map(lambda u, ph, sh: u + alpha * ph + fnp.where(done, 0.0, omega) * sh,
                         x, p_hat, s_hat)
            r = tree_map(lambda sv, tv: sv - fnp.where(done, 0.0, omega) * tv, s, t)
            broke = (rho_new == 0) | (omega == 0) | (alpha == 0)
            k = fnp.where(broke, -1, k + 1)
            return x, r, p, v, rho_new, alpha, omega, k
        zero = tree_map(fnp.zeros_like, r0)
        return while_loop(cond, body, (x0, r0, zero, zero, one, one, one, 0))[0]

    return _solved(solve, A, b, x0, symmetric=False), None


# -- GMRES ---------------------------------------------------------------------------------------


def gmres(A, b, x0=None, *, tol=1e-05, atol=0.0, restart=20, maxiter=None, M=None,
          solve_method="batched"):
    """Restarted GMRES for ``A x = b`` with any invertible ``A``: each cycle builds an
    orthonormal Krylov basis of ``restart`` vectors (Arnoldi with modified Gram-Schmidt, of
    the preconditioned operator ``M A``) and takes the ``x`` minimising the residual over it
    (a small least-squares problem); at most ``maxiter`` cycles (default ``10 × size of b``,
    bounded by what converges). Returns ``(x, None)``. ``solve_method`` 'batched' and
    'incremental' (JAX's two ways to solve the small problem) give the same iterates here:
    one least-squares solve per cycle. ``info`` is 0, or -1 where ``x`` has a nan (JAX's; cg
    and bicgstab give None)."""
    if solve_method not in ("batched", "incremental"):
        raise ValueError(f"gmres: solve_method must be 'batched' or 'incremental'; got "
                         f"{solve_method!r}")
    A, b, x0, M, maxiter, size = _setup(A, b, x0, M, maxiter, "gmres", lambda n: 10 * n)
    restart = min(operator.index(restart), size)
    if restart < 1:
        raise ValueError(f"gmres: restart must be a positive int; got {restart}")

    def solve(A, b, x0):
        b_flat, unravel = ravel_pytree(b)
        x0_flat = ravel_pytree(x0)[0]

        def op(v):  # M A on flat vectors
            return ravel_pytree(M(A(unravel(v))))[0]
        # the stopping rule on the preconditioned residual, as JAX's
        stop = fnp.sqrt(_threshold(ravel_pytree(M(b))[0], tol, atol))
        n = b_flat.shape[0]

        def cycle(x):
            r = ravel_pytree(M(_sub(b, A(unravel(x)))))[0]
            beta = _guarded_norm(r)
            safe = fnp.where(beta > 0, beta, 1.0)
            V = fnp.zeros((restart + 1, n), dtype=b_flat.dtype, device=fnp.device(b_flat))
            V = _set_row(V, 0, r / safe)
            H = fnp.zeros((restart + 1, restart), dtype=b_flat.dtype,
                          device=fnp.device(b_flat))
            unit = fnp.arange(restart + 1, device=fnp.device(b_flat))

            def arnoldi(j, vh):
                V, H = vh
                w = op(fnp.take(V, j, axis=0))
                # Gram-Schmidt against the basis so far, twice (rows past j are zero)
                h = fnp.matmul(fnp.conj(V), w)
                w = w - fnp.matmul(fnp.matrix_transpose(V), h)
                h2 = fnp.matmul(fnp.conj(V), w)
                w = w - fnp.matmul(fnp.matrix_transpose(V), h2)
                h_next = _guarded_norm(w)
                # (fnp.equal, not ==: unit is a plain array, and array-api-strict's
                # operators refuse jit's traced j)
                col = h + h2 + fnp.where(fnp.equal(unit, j + 1), h_next, 0.0)
                H = _setitem(H, (Ellipsis, j), col)
                # a breakdown (an invariant subspace: h_next = 0) leaves zeros
                w = fnp.where(h_next > 0, w / fnp.where(h_next > 0, h_next, 1.0), 0.0)
                return _setitem(V, (j + 1, Ellipsis), w), H
            V, H = fori_loop(0, restart, arnoldi, (V, H))
            e1 = fnp.zeros((restart + 1,), dtype=b_flat.dtype, device=fnp.device(b_flat))
            e1 = _set_row(e1, 0, beta)
            y = fnp.matmul(fnp.linalg.pinv(H), e1)  # (the least-squares solution)
            return x + fnp.matmul(fnp.matrix_transpose(V[:restart, ...]), y)

        def residual(x):
            # (guarded too: an exact solution's zero residual, differentiated with the loop,
            # made NaN tangents and an invalid-value warning, though only cond reads it)
            return _guarded_norm(ravel_pytree(M(_sub(b, A(unravel(x)))))[0])

        def cond(state):
            x, res, k = state
            return (res > stop) & (k < maxiter)

        def body(state):
            x, _, k = state
            x = cycle(x)
            return x, residual(x), k + 1
        x = while_loop(cond, body, (x0_flat, residual(x0_flat), 0))[0]
        return unravel(x)

    x = _solved(solve, A, b, x0, symmetric=False)
    # (JAX's gmres reports 0, or -1 where the solution has a nan)
    info = fnp.where(fnp.isnan(_norm2(x)), -1, 0)
    return x, info


def _guarded_norm(v):
    """``‖v‖``, the same value, with finite derivatives (0) at ``v = 0``: the norm's cone point
    has NaN derivatives, and an exact zero is what an exhausted Krylov space (an exact breakdown,
    the size of ``b`` reached: rounding decides whether the last vector is 0 or tiny) or an
    exact solution gives; a NaN there spread through ``pinv(H)`` into ``x``'s derivatives
    (a second derivative of the solve differentiates these iterations)."""
    zero = fnp.logical_not(fnp.any(fnp.not_equal(v, 0.0)))
    return fnp.where(zero, 0.0, fnp.linalg.vector_norm(fnp.where(zero, 1.0, v)))


def _set_row(V, i, row):
    return _setitem(V, (i, Ellipsis), row)
