"""The rest of ``jax.lax.linalg`` (``eig``, ``schur``, ``qdwh``, ``hessenberg``,
``tridiagonal``, ``householder_product``, ``ormqr``, ``cholesky_update``,
``symmetric_product`` and the ``*Implementation``/``SvdAlgorithm`` enums), with JAX's
signatures and result conventions, written on :mod:`functrans.numpy`,
:mod:`functrans.numpy.linalg` and :mod:`functrans.scipy.linalg`. Collected into
``functrans.lax.linalg`` by :mod:`functrans.lax_ops`."""

from __future__ import annotations

import enum

from . import dtypes as _dt
from . import numpy as fnp
from .numpy._base import _dtype


class EigImplementation(enum.Enum):
    """JAX's choice of ``eig`` solver; accepted and ignored (the backend's own is used)."""
    CUSOLVER = "cusolver"
    MAGMA = "magma"
    LAPACK = "lapack"


class EighImplementation(enum.Enum):
    """JAX's choice of ``eigh`` solver; accepted and ignored."""
    QR = "qr"
    JACOBI = "jacobi"
    QDWH = "qdwh"


class SvdAlgorithm(enum.Enum):
    """JAX's choice of ``svd`` algorithm; accepted and ignored."""
    DEFAULT = "default"
    QR = "QR"
    JACOBI = "Jacobi"
    POLAR = "polar"
    DIVIDE_AND_CONQUER = "divide_and_conquer"


def _h(x):
    return fnp.conj(fnp.matrix_transpose(x))


def _floating(x, name):
    """``x`` as an array of a floating or complex dtype (integers and bools are refused, as
    JAX does, rather than silently promoted)."""
    x = fnp.asarray(x)
    if _dtype(x).kind not in "fc":
        raise TypeError(f"lax.linalg.{name}: expected a floating or complex array; got dtype "
                        f"{_dtype(x)} (convert it with fnp.astype first)")
    return x


def _square(x, name):
    x = _floating(x, name)
    if len(x.shape) < 2 or x.shape[-1] != x.shape[-2]:
        raise ValueError(f"lax.linalg.{name}: expected square matrices (..., n, n); got shape "
                         f"{x.shape}")
    return x


def _real_dtype(x):
    return fnp.finfo(_dtype(x)).dtype


# -- eig ------------------------------------------------------------------------------------

def _unit_largest_real(v):
    """Columns scaled to unit norm with their largest-magnitude entry real (LAPACK geev's
    normalization)."""
    v = v / fnp.astype(fnp.linalg.vector_norm(v, axis=-2, keepdims=True), _dtype(v))
    k = fnp.argmax(fnp.abs(v), axis=-2, keepdims=True)
    big = fnp.take_along_axis(v, k, axis=-2)
    return v * (fnp.conj(big) / fnp.astype(fnp.abs(big), _dtype(v)))


def _eig_values(x, left, right):
    w, v = fnp.linalg.eig(x)
    out = [w]
    if left:   # rows of V^-1 are the left eigenvectors u^H (u^H x = w u^H)
        out.append(_unit_largest_real(_h(fnp.linalg.inv(v))))
    if right:
        out.append(v)
    return out


def eig(x, *, compute_left_eigenvectors=True, compute_right_eigenvectors=True,
        enable_eigvec_derivs=False, implementation=None, use_magma=None):
    """``[w, vl, vr]`` of ``(..., n, n)`` matrices (``jax.lax.linalg.eig``): the eigenvalues
    ``w`` and the left (``vl[..., :, j]^H x = w[j] vl[..., :, j]^H``) and right eigenvectors
    as columns, each of unit norm with its largest entry real; all complex. A list without
    the eigenvector kinds not asked for (``[w]`` with neither). The left eigenvectors are
    the rows of the inverse of the right ones (rescaled), so for a defective matrix (no
    basis of eigenvectors) they are inaccurate, or the inverse raises, where LAPACK
    computes them on their own.

    Derivatives as JAX's: the eigenvalues' alone when no eigenvector is computed; with
    eigenvectors, differentiating raises NotImplementedError unless
    ``enable_eigvec_derivs=True`` (valid only for distinct eigenvalues, and only functions
    that do not depend on each vector's phase match finite differences). NumPy and torch
    arrays (others need their ``eig`` extra). ``implementation`` and ``use_magma`` are
    ignored."""
    x = _square(x, "eig")
    left, right = bool(compute_left_eigenvectors), bool(compute_right_eigenvectors)
    if not (left or right):
        return [fnp.linalg.eigvals(x)]
    if enable_eigvec_derivs:
        return _eig_values(x, left, right)
    return list(_eig_guarded(left, right)(x))


_eig_guards = {}


def _eig_guarded(left, right):
    """``_eig_values`` whose differentiation raises, as JAX's without enable_eigvec_derivs."""
    key = (left, right)
    if key not in _eig_guards:
        from .custom import custom_jvp
        f = custom_jvp(lambda x: tuple(_eig_values(x, left, right)))

        def rule(primals, tangents):
            raise NotImplementedError(
                "lax.linalg.eig: the eigenvectors of a non-Hermitian matrix have derivatives "
                "only where the eigenvalues are distinct (which cannot be checked here); "
                "pass enable_eigvec_derivs=True to differentiate them anyway, or "
                "compute_left_eigenvectors=False, compute_right_eigenvectors=False for the "
                "eigenvalues' derivatives alone")
        f.defjvp(rule)
        _eig_guards[key] = f
    return _eig_guards[key]


# -- schur ----------------------------------------------------------------------------------

def schur(x, *, compute_schur_vectors=True, sort_eig_vals=False, select_callable=None):
    """``[t, vs]`` (a list, as JAX's) with ``x = vs t vs^H`` (``jax.lax.linalg.schur``): the
    real Schur form (2x2 blocks for complex pairs) of a real matrix, the triangular one of a
    complex one; ``[t]`` alone without ``compute_schur_vectors``. ``sort_eig_vals=True``
    raises NotImplementedError, as JAX's (use ``functrans.scipy.linalg.schur(sort=...)``);
    ``select_callable`` is then unused. Through SciPy: NumPy arrays only, no derivative
    (both as :func:`functrans.scipy.linalg.schur`)."""
    if sort_eig_vals:
        raise NotImplementedError("lax.linalg.schur: sort_eig_vals=True is not supported (nor "
                                  "is it by JAX); use functrans.scipy.linalg.schur(a, "
                                  "sort=...)")
    from .scipy import linalg as _sla
    x = _square(x, "schur")
    t, vs = _sla.schur(x, output="complex" if _dtype(x).kind == "c" else "real")
    return [t, vs] if compute_schur_vectors else [t]


# -- Householder reflectors -----------------------------------------------------------------

def _larfg(alpha, rest, cplx, dtype):
    """LAPACK's Householder reflector ``H = I - tau v v^H`` (larfg) taking ``(alpha, rest)``
    to ``(beta, 0, ...)``, ``beta = -sign(Re alpha) ||(alpha, rest)||``: ``(tau, tail)``, the
    vector ``v`` being 1 then ``tail``. Where ``rest`` is zero (and alpha real) H is the
    identity: tau 0, with safe values so that no 0/0 reaches a derivative."""
    # (no norm of an empty vector: its derivative would be 0/0 at the second order)
    xnorm = fnp.linalg.vector_norm(rest, axis=-1) if rest.shape[-1] else \
        fnp.zeros_like(fnp.real(alpha) if cplx else alpha)
    nonzero = xnorm != 0
    if cplx:
        nonzero = nonzero | (fnp.imag(alpha) != 0)
    re = fnp.real(alpha) if cplx else alpha
    beta = -fnp.copysign(fnp.hypot(fnp.abs(alpha), xnorm), re)
    beta = fnp.where(nonzero, beta, fnp.ones_like(beta))
    if cplx:
        beta = fnp.astype(beta, dtype)
    tau = fnp.where(nonzero, (beta - alpha) / beta, fnp.zeros_like(alpha))
    gap = fnp.where(nonzero, alpha - beta, fnp.ones_like(alpha))
    from .scipy.special import _may_hold, _nan_slope
    identity = fnp.logical_not(nonzero)
    if _may_hold(identity):
        # At the identity H jumps (tau 0 here, about 2 as soon as rest, or a complex
        # alpha's imaginary part, moves away from 0): no derivative, nan in the directions
        # that move those entries (every order), exactly 0 in the others (the derivative
        # along them is that of the identity). (vector_norm's own nan at a zero rest is
        # only in those directions too, and taken away by the where()s above.)
        moved = fnp.concat([fnp.real(rest), fnp.imag(rest), fnp.imag(alpha)[..., None]],
                           axis=-1) if cplx else rest
        if moved.shape[-1]:
            slope = _nan_slope(moved, identity[..., None], 0.0)[..., 0]
            tau = fnp.add(tau, fnp.astype(slope, dtype) if cplx else slope)
    return tau, rest / gap[..., None]


def _householder_reduce(a):
    """LAPACK gehrd's reduction of square ``a`` to upper Hessenberg form by reflectors
    ``H_k = I - tau_k v_k v_k^H`` (``v_k``: zeros to k, one at k + 1, then the entries it
    annihilates below), ``a <- H_k^H a H_k``. Returns the reduced matrix (its part below the
    first subdiagonal zeroed), the reflectors' tails packed below the subdiagonal of an
    otherwise zero matrix, and the ``n - 1`` taus (the last is 0 for real input; for complex
    it makes the last subdiagonal entry real, as LAPACK's)."""
    n = a.shape[-1]
    cplx = _dtype(a).kind == "c"
    dev = fnp.device(a)
    rows = fnp.arange(n, device=dev)
    tails, taus = [], []
    for k in range(n - 1):
        x = a[..., k + 1:, k]
        alpha, rest = x[..., 0], x[..., 1:]
        tau, tail = _larfg(alpha, rest, cplx, _dtype(a))
        v = fnp.concat([fnp.zeros_like(x[..., :1])] * (k + 1)
                       + [fnp.ones_like(x[..., :1]), tail], axis=-1)[..., :, None]
        t = tau[..., None, None]
        a = a - (fnp.conj(t) if cplx else t) * fnp.matmul(v, fnp.matmul(_h(v), a))
        a = a - t * fnp.matmul(fnp.matmul(a, v), _h(v))
        tails.append(fnp.concat([fnp.zeros_like(x[..., :1])] * (k + 2) + [tail], axis=-1))
        taus.append(tau)
    zero_col = fnp.zeros_like(a[..., :, 0])
    packed = fnp.stack(tails + [zero_col], axis=-1)
    below = rows[:, None] > rows[None, :] + 1
    reduced = fnp.where(below, fnp.zeros_like(a), a)
    tau = fnp.stack(taus, axis=-1) if taus else fnp.zeros_like(a[..., 0, :0])
    return reduced, packed, tau, below


def hessenberg(a):
    """``[a_out, taus]`` (a list, as JAX's; ``jax.lax.linalg.hessenberg``, LAPACK gehrd's
    packed form): the upper Hessenberg ``H`` (``a = Q H Q^H``) on and above the first
    subdiagonal of ``a_out``, below it the reflectors whose product ``Q = H_1 ... H_{n-1}``
    is (``taus``: ``(..., n - 1)``; :func:`householder_product` turns them into ``Q``). On
    every backend, batches accepted, differentiable where no column meets the reduction
    already zero (see
    :func:`functrans.scipy.linalg.hessenberg`; JAX's has no derivative)."""
    a = _square(a, "hessenberg")
    reduced, packed, tau, below = _householder_reduce(a)
    return [fnp.where(below, packed, reduced), tau]


def _hermitian_from(a, lower):
    """The Hermitian matrix that the ``lower`` (else upper) triangle of ``a`` defines, with
    the diagonal's real part."""
    n = a.shape[-1]
    rows = fnp.arange(n, device=fnp.device(a))
    strict = (rows[:, None] > rows[None, :]) if lower else (rows[:, None] < rows[None, :])
    part = fnp.where(strict, a, fnp.zeros_like(a))
    diag = fnp.real(fnp.diagonal(a, axis1=-2, axis2=-1)) if _dtype(a).kind == "c" else \
        fnp.diagonal(a, axis1=-2, axis2=-1)
    eye = rows[:, None] == rows[None, :]
    return part + _h(part) + fnp.where(eye, fnp.astype(diag, _dtype(a))[..., None, :],
                                       fnp.zeros_like(a))


def tridiagonal(a, *, lower=True):
    """``[a_out, d, e, taus]`` (a list, as JAX's; ``jax.lax.linalg.tridiagonal``, LAPACK
    sytrd/hetrd): the Hermitian matrix that the ``lower`` (else upper) triangle of ``a``
    defines is ``Q T Q^H`` with ``T`` real tridiagonal, diagonal ``d`` (n) and off-diagonal
    ``e`` (n - 1), both real; ``a_out`` holds ``d`` and ``e`` on the diagonal and first
    off-diagonal of that triangle, the reflectors beyond them (with ``taus``,
    ``(..., n - 1)``; for ``lower``, :func:`householder_product` of ``a_out[..., 1:, :-1]``
    and ``taus`` gives ``Q[..., 1:, 1:]``), and the other triangle of ``a`` unchanged. On
    every backend,
    batches accepted; differentiable (JAX's is not) where no column meets the reduction
    already zero (a matrix already tridiagonal, for one), as :func:`hessenberg`."""
    a = _square(a, "tridiagonal")
    if not lower:   # the upper reduction is the lower one of the matrix read backwards
        out, d, e, tau = tridiagonal(fnp.flip(a, axis=(-2, -1)), lower=True)
        return [fnp.flip(out, axis=(-2, -1)), fnp.flip(d, axis=-1), fnp.flip(e, axis=-1),
                fnp.flip(tau, axis=-1)]
    n = a.shape[-1]
    reduced, packed, tau, below = _householder_reduce(_hermitian_from(a, True))
    rdt = _real_dtype(a)
    d = fnp.real(fnp.diagonal(reduced, axis1=-2, axis2=-1)) if _dtype(a).kind == "c" \
        else fnp.diagonal(reduced, axis1=-2, axis2=-1)
    e = fnp.diagonal(reduced, offset=-1, axis1=-2, axis2=-1)
    e = fnp.astype(fnp.real(e), rdt) if _dtype(a).kind == "c" else e
    rows = fnp.arange(n, device=fnp.device(a))
    eye = rows[:, None] == rows[None, :]
    sub = rows[:, None] == rows[None, :] + 1
    dt = _dtype(a)
    zero = fnp.zeros_like(a)
    e_col = fnp.concat([fnp.astype(e, dt), fnp.zeros_like(a[..., 0, :1])], axis=-1)
    band = (fnp.where(eye, fnp.astype(d, dt)[..., None, :], zero)
            + fnp.where(sub, e_col[..., None, :], zero))
    out = fnp.where(below, packed, fnp.where(eye | sub, band, a))
    return [out, d, e, tau]


def _reflector(a, taus, i):
    """``(v_i, tau_i)``: column ``i`` of ``a`` below the diagonal under a unit entry at
    ``i``, zeros above, as a column vector; ``tau_i`` shaped to broadcast against it."""
    col = a[..., i + 1:, i]
    v = fnp.concat([fnp.zeros_like(a[..., :i, i]), fnp.ones_like(a[..., i:i + 1, i]), col],
                   axis=-1)[..., :, None]
    return v, taus[..., i][..., None, None]


def _reflector_args(a, taus, name, rows):
    a, taus = _floating(a, name), _floating(taus, name)
    if len(a.shape) < 2 or len(taus.shape) < 1:
        raise ValueError(f"lax.linalg.{name}: a must be (..., m, n) and taus (..., k); got "
                         f"shapes {a.shape} and {taus.shape}")
    k = taus.shape[-1]
    if k > a.shape[-1] or k > a.shape[-2]:
        raise ValueError(f"lax.linalg.{name}: taus has {k} reflectors but a of shape "
                         f"{a.shape} holds at most {min(a.shape[-2:])}")
    if rows is not None and a.shape[-2] != rows:
        raise ValueError(f"lax.linalg.{name}: a has {a.shape[-2]} rows where Q must be "
                         f"{rows} x {rows}")
    if a.shape[:-2] != taus.shape[:-1]:
        raise ValueError(f"lax.linalg.{name}: a's batch shape {a.shape[:-2]} and taus's "
                         f"{taus.shape[:-1]} differ")
    dt = _dt.result_type(_dtype(a), _dtype(taus))
    return fnp.astype(a, dt), fnp.astype(taus, dt), k


def householder_product(a, taus):
    """The first ``n`` columns of ``Q = H_0 H_1 ... H_{k-1}``, ``H_i = I - taus[i] v_i
    v_i^H`` with ``v_i`` column ``i`` of ``a`` below the diagonal under a one at ``i``
    (``jax.lax.linalg.householder_product``, LAPACK orgqr/ungqr): ``a`` is ``(..., m, n)``,
    ``m >= n``, ``taus`` ``(..., k)``, ``k <= n``. On every backend, differentiable (JAX's is
    not)."""
    a, taus, k = _reflector_args(a, taus, "householder_product", None)
    m, n = a.shape[-2:]
    if m < n:
        raise ValueError(f"lax.linalg.householder_product: a must have at least as many rows "
                         f"as columns; got shape {a.shape}")
    q = fnp.broadcast_to(fnp.eye(m, n, dtype=_dtype(a), device=fnp.device(a)), a.shape)
    for i in range(k - 1, -1, -1):
        v, t = _reflector(a, taus, i)
        q = fnp.subtract(q, fnp.multiply(t, fnp.matmul(v, fnp.matmul(_h(v), q))))
    return q


def ormqr(a, taus, c, *, left=True, transpose=False):
    """``Q @ c`` (``left``) or ``c @ Q`` for the ``Q = H_0 ... H_{k-1}`` that ``a`` and
    ``taus`` hold (as :func:`householder_product`; ``Q`` is square, of ``c``'s rows or
    columns), or with ``Q^H`` (``Q^T`` for real) when ``transpose``
    (``jax.lax.linalg.ormqr``, LAPACK ormqr/unmqr). On every backend, differentiable."""
    c = _floating(c, "ormqr")
    if len(c.shape) < 2:
        raise ValueError(f"lax.linalg.ormqr: c must be (..., m, n); got shape {c.shape}")
    size = c.shape[-2] if left else c.shape[-1]
    a, taus, k = _reflector_args(a, taus, "ormqr", size)
    dt = _dt.result_type(_dtype(a), _dtype(c))
    a, taus, c = fnp.astype(a, dt), fnp.astype(taus, dt), fnp.astype(c, dt)
    # Q c = H_0 (... (H_{k-1} c)); Q^H c applies H_i^H from H_0 on; c Q from H_0 on
    order = range(k) if left == bool(transpose) else range(k - 1, -1, -1)
    for i in order:
        v, t = _reflector(a, taus, i)
        if transpose:
            t = fnp.conj(t)
        if left:
            c = fnp.subtract(c, fnp.multiply(t, fnp.matmul(v, fnp.matmul(_h(v), c))))
        else:
            c = fnp.subtract(c, fnp.multiply(t, fnp.matmul(fnp.matmul(c, v), _h(v))))
    return c


# -- cholesky_update, symmetric_product -----------------------------------------------------

def cholesky_update(r_matrix, w_vector):
    """The upper Cholesky factor ``R'`` of ``R^T R + w w^T`` from the upper factor ``R``
    (``(n, n)``, a positive diagonal) and ``w`` (``(n,)``), by ``n`` Givens rotations in
    O(n^2) (``jax.lax.linalg.cholesky_update``). Real input only, as JAX's; batches are
    accepted (JAX's takes one matrix). On every backend, differentiable (JAX's is not)."""
    r, w = _floating(r_matrix, "cholesky_update"), _floating(w_vector, "cholesky_update")
    if "c" in (_dtype(r).kind, _dtype(w).kind):
        raise TypeError("lax.linalg.cholesky_update: complex input is not supported (nor by "
                        "JAX); use functrans.scipy.linalg.cholesky of R^H R + w w^H")
    if (len(r.shape) < 2 or r.shape[-1] != r.shape[-2] or len(w.shape) < 1
            or w.shape[-1] != r.shape[-1] or w.shape[:-1] != r.shape[:-2]):
        raise ValueError(f"lax.linalg.cholesky_update: expected R (..., n, n) and w (..., n); "
                         f"got shapes {r.shape} and {w.shape}")
    dt = _dt.result_type(_dtype(r), _dtype(w))
    r, w = fnp.astype(r, dt), fnp.astype(w, dt)
    n = r.shape[-1]
    rows = []
    for k in range(n):
        rkk, wk = r[..., k, k], w[..., k]
        rho = fnp.hypot(rkk, wk)
        c, s = fnp.divide(rho, rkk), fnp.divide(wk, rkk)
        row = fnp.divide(fnp.add(r[..., k, k + 1:], fnp.multiply(s[..., None], w[..., k + 1:])),
                         c[..., None])
        w = fnp.concat([w[..., :k + 1], fnp.subtract(fnp.multiply(c[..., None], w[..., k + 1:]),
                                                     fnp.multiply(s[..., None], row))], axis=-1)
        rows.append(fnp.concat([fnp.zeros_like(r[..., k, :k]), rho[..., None], row], axis=-1))
    return fnp.stack(rows, axis=-2)


def symmetric_product(a_matrix, c_matrix, *, alpha=1.0, beta=0.0, symmetrize_output=False):
    """``alpha * a @ a^T + beta * c`` (``jax.lax.linalg.symmetric_product``; ``c`` is
    symmetric, ``a^T`` not conjugated). Computed in full here, so the result is symmetric
    whatever ``symmetrize_output`` (which makes JAX copy the lower triangle over the upper
    on backends that fill only one). Real input only, as JAX's; on every backend,
    differentiable (JAX's is not)."""
    a, c = _floating(a_matrix, "symmetric_product"), _floating(c_matrix, "symmetric_product")
    if "c" in (_dtype(a).kind, _dtype(c).kind):
        raise TypeError("lax.linalg.symmetric_product: complex input is not supported (nor by "
                        "JAX); write alpha * a @ a.T + beta * c")
    if len(a.shape) < 2 or len(c.shape) < 2 or c.shape[-1] != c.shape[-2] \
            or c.shape[-1] != a.shape[-2]:
        raise ValueError(f"lax.linalg.symmetric_product: expected a (..., n, k) and c "
                         f"(..., n, n); got shapes {a.shape} and {c.shape}")
    return fnp.add(fnp.multiply(alpha, fnp.matmul(a, fnp.matrix_transpose(a))),
                   fnp.multiply(beta, c))


# -- qdwh -----------------------------------------------------------------------------------

def _qdwh_iterate(x, max_iterations, eps):
    """Nakatsukasa, Bai and Gygi's dynamically weighted Halley iteration towards the polar
    factor of ``x`` (m >= n): ``(u, num_iters, is_converged)``."""
    from .control_flow import cond, while_loop
    m, n = x.shape[-2:]
    dt = _dtype(x)
    eye = fnp.eye(n, dtype=dt, device=fnp.device(x))
    # the Frobenius norm bounds the largest singular value, so x0's are at most 1; eps is
    # a lower bound for the smallest one of a matrix not numerically singular
    scale = fnp.max(fnp.linalg.matrix_norm(x))
    u0 = x / fnp.astype(scale, dt)
    tol_l = 5.0 * eps
    tol_norm = tol_l ** (1.0 / 3.0)
    rdt = _real_dtype(x)

    def weights(l):   # (in float64: l^4 underflows float32 near convergence)
        l = fnp.astype(l, _dt.float64)
        l2 = l * l
        gamma = fnp.cbrt(4.0 * (1.0 - l2) / (l2 * l2))
        root = fnp.sqrt(1.0 + gamma)
        a = root + 0.5 * fnp.sqrt(8.0 - 4.0 * gamma + 8.0 * (2.0 - l2) / (l2 * root))
        b = (a - 1.0) ** 2 / 4.0
        return a, b, a + b - 1.0

    def qr_step(args):   # stable while c is large: [sqrt(c) u; I] = [q1; q2] r
        u, a, b, c = args
        # (fnp's functions rather than operators throughout: the loop's tracers meet raw
        # arrays, which array_api_strict's operators refuse on the left)
        stacked = fnp.concat([fnp.multiply(fnp.astype(fnp.sqrt(c), dt), u),
                              fnp.broadcast_to(eye, u.shape[:-2] + (n, n))], axis=-2)
        q, _ = fnp.linalg.qr(stacked)
        q1, q2 = q[..., :m, :], q[..., m:, :]
        return fnp.add(fnp.multiply(fnp.astype(b / c, dt), u),
                       fnp.multiply(fnp.astype((a - b / c) / fnp.sqrt(c), dt),
                                    fnp.matmul(q1, _h(q2))))

    def cholesky_step(args):   # cheaper once c is small: u (I + c u^H u)^-1
        u, a, b, c = args
        z = fnp.add(eye, fnp.multiply(fnp.astype(c, dt), fnp.matmul(_h(u), u)))
        return fnp.add(fnp.multiply(fnp.astype(b / c, dt), u),
                       fnp.multiply(fnp.astype(a - b / c, dt), _h(fnp.linalg.solve(z, _h(u)))))

    def converged(l, diff):
        return fnp.logical_and(fnp.abs(1.0 - l) <= tol_l, diff <= tol_norm)

    def keep_going(state):
        u, l, k, diff = state
        return fnp.logical_and(k < max_iterations, fnp.logical_not(converged(l, diff)))

    def step(state):
        u, l, k, _ = state
        a, b, c = weights(l)
        new = cond(c > 100.0, qr_step, cholesky_step, (u, a, b, c))
        diff = fnp.max(fnp.linalg.matrix_norm(fnp.subtract(new, u)))
        wide = fnp.astype(l, _dt.float64)
        wide = wide * (a + b * wide * wide) / (1.0 + c * wide * wide)
        l = fnp.astype(fnp.minimum(wide, fnp.ones_like(wide)), rdt)
        return new, l, k + 1, diff

    start = (u0, fnp.asarray(eps, dtype=rdt, device=fnp.device(x)),
             fnp.asarray(0, dtype=_dt.int64, device=fnp.device(x)),
             fnp.asarray(float("inf"), dtype=rdt, device=fnp.device(x)))
    u, l, k, diff = while_loop(keep_going, step, start)
    return u, k, converged(l, diff)


_qdwh_attach_fn = None


def _qdwh_attach():
    """``(u, h)`` from the iterated ``u`` with the polar decomposition's derivative in ``x``
    (the iterate itself is not differentiated: its derivative would be that of an
    approximation, and reverse mode through its loop would be slow)."""
    global _qdwh_attach_fn
    if _qdwh_attach_fn is None:
        from .custom import custom_jvp
        from .scipy import linalg as _sla

        def attach(x, u):
            h = fnp.matmul(_h(u), x)
            return u, (h + _h(h)) / 2

        def rule(primals, tangents):
            (x, u), (dx, _) = primals, tangents
            _, (du, dh) = _sla._polar_tall_jvp((x,), (dx,))
            # (the primal through the custom function, so that the next order meets this rule)
            return _qdwh_attach_fn(x, u), (du, dh)

        _qdwh_attach_fn = custom_jvp(attach)
        _qdwh_attach_fn.defjvp(rule)
    return _qdwh_attach_fn


def qdwh(x, *, is_hermitian=False, max_iterations=None, eps=None, dynamic_shape=None):
    """``(u, h, num_iters, is_converged)``: the polar decomposition ``x = u h`` of an
    ``(..., m, n)`` matrix with ``m >= n`` (``u`` with orthonormal columns, ``h`` Hermitian
    positive semidefinite) by the QDWH iteration (``jax.lax.linalg.qdwh``), after
    ``num_iters`` steps (at most ``max_iterations``, default 10) and whether it met its
    tolerance (from ``eps``, default the dtype's). ``is_hermitian`` is accepted and unused
    (as in JAX); ``dynamic_shape`` is not supported (slice the matrix instead).

    ``u`` and ``h`` are differentiable in every mode (JAX's: forward mode only), with the
    derivative of the exact polar decomposition (as :func:`functrans.scipy.linalg.polar`),
    which needs ``x`` of full rank. On every backend."""
    if dynamic_shape is not None:
        raise NotImplementedError("lax.linalg.qdwh: dynamic_shape is not supported; pass the "
                                  "matrix sliced to its true shape")
    x = _floating(x, "qdwh")
    if len(x.shape) < 2 or x.shape[-2] < x.shape[-1]:
        raise ValueError(f"lax.linalg.qdwh: x must be (..., m, n) with m >= n; got shape "
                         f"{x.shape} (decompose the conjugate transpose of a wide matrix)")
    max_iterations = 10 if max_iterations is None else int(max_iterations)
    if max_iterations < 1:
        raise ValueError(f"lax.linalg.qdwh: max_iterations must be at least 1; got "
                         f"{max_iterations}")
    eps = float(fnp.finfo(_real_dtype(x)).eps) if eps is None else float(eps)
    u, k, ok = _qdwh_iterate(fnp.stop_gradient(x), max_iterations, eps)
    u, h = _qdwh_attach()(x, fnp.stop_gradient(u))
    return u, h, k, ok
